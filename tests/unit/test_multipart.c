/* Unit tests for adapters/api/multipart.c: the boundary in Content-Type,
 * and bodies as the Modeler, curl and browsers send them, plus every
 * malformed shape. Bodies are copied into buffers of their exact size, so
 * a read past the end shows up under AddressSanitizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

/* ---- boundary ----------------------------------------------------------- */

static const struct {
    const char *ct;
    const char *boundary; /* NULL: error */
    const char *err;
} boundaries[] = {
    {"multipart/form-data; boundary=abc", "abc", NULL},
    {"multipart/form-data;boundary=abc", "abc", NULL},
    {"Multipart/Form-Data; BOUNDARY=abc", "abc", NULL},
    {"  multipart/form-data ; boundary=abc", "abc", NULL},
    {"multipart/form-data; boundary=abc; charset=utf-8", "abc", NULL},
    {"multipart/form-data; boundary=abc ; x=y", "abc", NULL},
    {"multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
     "----WebKitFormBoundary7MA4YWxkTrZu0gW", NULL},
    {"multipart/form-data; boundary=\"a b:c\"", "a b:c", NULL},
    {"multipart/form-data; boundary=\"q\\\"x\"", "q\"x", NULL},
    {"multipart/form-data; boundary=\"semi;colon\"", "semi;colon", NULL},
    {"multipart/form-data; boundary=first; boundary=second", "first", NULL},
    {"multipart/form-data; boundary="
     "1234567890123456789012345678901234567890123456789012345678901234567890",
     "1234567890123456789012345678901234567890123456789012345678901234567890", NULL},
    {NULL, NULL, "The request needs Content-Type multipart/form-data"},
    {"application/json", NULL,
     "The request needs Content-Type multipart/form-data, not 'application/json'"},
    {"multipart/mixed; boundary=abc", NULL, "not 'multipart/mixed'"},
    {"multipart/form-datax; boundary=abc", NULL, "not 'multipart/form-datax'"},
    {"multipart/form-data", NULL, "Invalid Content-Type: multipart/form-data without a boundary"},
    {"multipart/form-data; charset=utf-8", NULL, "without a boundary"},
    {"multipart/form-data; boundary=", NULL, "the boundary must have 1 to 70 characters"},
    {"multipart/form-data; boundary=\"\"", NULL, "the boundary must have 1 to 70 characters"},
    {"multipart/form-data; boundary="
     "12345678901234567890123456789012345678901234567890123456789012345678901",
     NULL, "the boundary must have 1 to 70 characters"},
    {"multipart/form-data; boundary=\"abc ", NULL, "unterminated quoted string"},
    {"multipart/form-data; boundary=\"abc \"", NULL, "not end in a space"},
    {"multipart/form-data; boundary=\"a\tb\"", NULL, "control character in the boundary"},
};

static void test_boundary(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0]; i++) {
        char out[BPM_MULTIPART_BOUNDARY_SIZE] = "untouched";
        bpm_err err = {0};
        bpm_rc rc = bpm_multipart_boundary(boundaries[i].ct, out, sizeof out, &err);
        bool ok = boundaries[i].boundary ? rc == BPM_OK && strcmp(out, boundaries[i].boundary) == 0
                                         : rc == BPM_BAD_REQUEST && strcmp(out, "untouched") == 0 &&
                                               strstr(err.msg, boundaries[i].err);
        if (!ok) {
            print_error("row %zu [%s]: rc %d, out \"%s\", msg \"%s\"\n", i,
                        boundaries[i].ct ? boundaries[i].ct : "NULL", (int)rc, out, err.msg);
            fail();
        }
    }
    /* the caller's buffer bounds the boundary too */
    char small[4] = "xyz";
    bpm_err err = {0};
    assert_int_equal(
        bpm_multipart_boundary("multipart/form-data; boundary=abcd", small, sizeof small, &err),
        BPM_BAD_REQUEST);
    assert_string_equal(small, "xyz");
    assert_int_equal(
        bpm_multipart_boundary("multipart/form-data; boundary=abc", small, sizeof small, &err),
        BPM_OK);
    assert_string_equal(small, "abc");
}

/* ---- parse -------------------------------------------------------------- */

/* Parses an exact-size copy of body; the copy is returned for the data
 * pointers and must be freed by the caller. */
static bpm_rc parse(const char *body, size_t len, const char *boundary, size_t max_parts,
                    bpm_multipart *mp, bpm_err *err, char **copy)
{
    *copy = malloc(len ? len : 1);
    memcpy(*copy, body, len);
    return bpm_multipart_parse(*copy, len, boundary, max_parts, mp, err);
}

#define PARSE(lit, mp, err, copy) parse(lit, sizeof lit - 1, "b", 0, mp, err, copy)

static void expect_part(const bpm_multipart *mp, const char *body, size_t i, const char *name,
                        const char *filename, const char *ctype, const char *data, size_t len)
{
    assert_true(i < mp->n_parts);
    const bpm_multipart_part *p = &mp->parts[i];
    assert_string_equal(p->name, name);
    if (filename)
        assert_string_equal(p->filename, filename);
    else
        assert_null(p->filename);
    if (ctype)
        assert_string_equal(p->content_type, ctype);
    else
        assert_null(p->content_type);
    assert_int_equal(p->len, len);
    assert_memory_equal(p->data, data, len);
    /* the data is a slice of the body, not a copy */
    assert_true(p->data >= body);
}

#define MODELER_CRLF                                                                               \
    "--b\r\n"                                                                                      \
    "Content-Disposition: form-data; name=\"deployment-name\"\r\n"                                 \
    "\r\n"                                                                                         \
    "order\r\n"                                                                                    \
    "--b\r\n"                                                                                      \
    "Content-Disposition: form-data; name=\"deployment-source\"\r\n"                               \
    "\r\n"                                                                                         \
    "Camunda Modeler\r\n"                                                                          \
    "--b\r\n"                                                                                      \
    "Content-Disposition: form-data; name=\"enable-duplicate-filtering\"\r\n"                      \
    "\r\n"                                                                                         \
    "true\r\n"                                                                                     \
    "--b\r\n"                                                                                      \
    "Content-Disposition: form-data; name=\"order.bpmn\"; filename=\"order.bpmn\"\r\n"             \
    "Content-Type: text/xml\r\n"                                                                   \
    "\r\n"                                                                                         \
    "<definitions>\r\n  <process id=\"p\"/>\r\n</definitions>\r\n"                                 \
    "--b--\r\n"

#define BPMN_TEXT "<definitions>\r\n  <process id=\"p\"/>\r\n</definitions>"

static void test_modeler_body(void **state)
{
    (void)state;
    bpm_multipart mp;
    bpm_err err = {0};
    char *body;
    assert_int_equal(PARSE(MODELER_CRLF, &mp, &err, &body), BPM_OK);
    assert_int_equal(mp.n_parts, 4);
    expect_part(&mp, body, 0, "deployment-name", NULL, NULL, "order", 5);
    expect_part(&mp, body, 1, "deployment-source", NULL, NULL, "Camunda Modeler", 15);
    expect_part(&mp, body, 2, "enable-duplicate-filtering", NULL, NULL, "true", 4);
    expect_part(&mp, body, 3, "order.bpmn", "order.bpmn", "text/xml", BPMN_TEXT,
                sizeof BPMN_TEXT - 1);
    bpm_multipart_cleanup(&mp);
    assert_null(mp.parts);
    assert_int_equal(mp.n_parts, 0);
    bpm_multipart_cleanup(&mp); /* twice is harmless */
    free(body);
}

static void test_bare_lf_and_mixed(void **state)
{
    (void)state;
    bpm_multipart mp;
    char *body;
    assert_int_equal(PARSE("--b\n"
                           "Content-Disposition: form-data; name=\"a\"\n"
                           "\n"
                           "one\n"
                           "--b\r\n"
                           "Content-Disposition: form-data; name=\"f\"; filename=\"x.bpmn\"\r\n"
                           "\n"
                           "line1\nline2\r\n"
                           "--b--",
                           &mp, NULL, &body),
                     BPM_OK);
    assert_int_equal(mp.n_parts, 2);
    expect_part(&mp, body, 0, "a", NULL, NULL, "one", 3);
    expect_part(&mp, body, 1, "f", "x.bpmn", NULL, "line1\nline2", 11);
    bpm_multipart_cleanup(&mp);
    free(body);
}

static void test_preamble_epilogue_padding(void **state)
{
    (void)state;
    bpm_multipart mp;
    char *body;
    assert_int_equal(PARSE("This is the preamble. --b is not a boundary here.\r\n"
                           "--bnot either\r\n"
                           "--b  \t\r\n"
                           "Content-Disposition: form-data; name=\"a\"\r\n"
                           "\r\n"
                           "x --b y\r\n"
                           "--bb still content\r\n"
                           "--b- also content\r\n"
                           "--b--  \r\n"
                           "epilogue --b\r\n--b\r\nignored",
                           &mp, NULL, &body),
                     BPM_OK);
    assert_int_equal(mp.n_parts, 1);
    const char want[] = "x --b y\r\n--bb still content\r\n--b- also content";
    expect_part(&mp, body, 0, "a", NULL, NULL, want, sizeof want - 1);
    bpm_multipart_cleanup(&mp);
    free(body);
}

static void test_headers(void **state)
{
    (void)state;
    bpm_multipart mp;
    char *body;
    assert_int_equal(
        PARSE("--b\r\n"
              "content-disposition: FORM-DATA; NAME=\"n1\"; FileName=\"a.bpmn\"\r\n"
              "CONTENT-TYPE:   text/xml; charset=utf-8  \r\n"
              "Content-Transfer-Encoding: binary\r\n"
              "X-Other: ignored\r\n"
              "\r\n"
              "1\r\n"
              "--b\r\n"
              "Content-Disposition: form-data; name=\"q\"; filename=\"a \\\"q\\\" b.bpmn\"\r\n"
              "\r\n"
              "2\r\n"
              "--b\r\n"
              "Content-Disposition: form-data; name=\"w\"; filename=\"C:\\dir\\f.bpmn\"\r\n"
              "\r\n"
              "3\r\n"
              "--b\r\n"
              "Content-Disposition: form-data; name=\"e\"; filename=\"x\\\\y;z.bpmn\"\r\n"
              "\r\n"
              "4\r\n"
              "--b\r\n"
              "Content-Disposition: form-data ; name = plain ; filename= my file.bpmn \r\n"
              "\r\n"
              "5\r\n"
              "--b\r\n"
              "Content-Disposition: form-data; name=\"first\"; name=\"second\"; "
              "filename*=UTF-8''%e2%82%ac.bpmn\r\n"
              "\r\n"
              "6\r\n"
              "--b\r\n"
              "Content-Disposition: form-data; name=\"\"\r\n"
              "\r\n"
              "7\r\n"
              "--b--",
              &mp, NULL, &body),
        BPM_OK);
    assert_int_equal(mp.n_parts, 7);
    expect_part(&mp, body, 0, "n1", "a.bpmn", "text/xml; charset=utf-8", "1", 1);
    expect_part(&mp, body, 1, "q", "a \"q\" b.bpmn", NULL, "2", 1);
    expect_part(&mp, body, 2, "w", "C:\\dir\\f.bpmn", NULL, "3", 1);
    expect_part(&mp, body, 3, "e", "x\\y;z.bpmn", NULL, "4", 1);
    expect_part(&mp, body, 4, "plain", "my file.bpmn", NULL, "5", 1);
    expect_part(&mp, body, 5, "first", NULL, NULL, "6", 1);
    expect_part(&mp, body, 6, "", NULL, NULL, "7", 1);
    bpm_multipart_cleanup(&mp);
    free(body);
}

static void test_contents(void **state)
{
    (void)state;
    bpm_multipart mp;
    char *body;
    /* empty content, content without the line break before the delimiter,
     * binary content with NUL, CR and LF, and a blank line inside */
    static const char raw[] = "--b\r\n"
                              "Content-Disposition: form-data; name=\"empty\"\r\n"
                              "\r\n"
                              "\r\n"
                              "--b\r\n"
                              "Content-Disposition: form-data; name=\"direct\"\r\n"
                              "\r\n"
                              "--b\r\n"
                              "Content-Disposition: form-data; name=\"bin\"\r\n"
                              "Content-Type: application/octet-stream\r\n"
                              "\r\n"
                              "\x00\x01\r\x02\n\r\n\r\n\xff\r\n"
                              "--b--";
    assert_int_equal(parse(raw, sizeof raw - 1, "b", 0, &mp, NULL, &body), BPM_OK);
    assert_int_equal(mp.n_parts, 3);
    expect_part(&mp, body, 0, "empty", NULL, NULL, "", 0);
    expect_part(&mp, body, 1, "direct", NULL, NULL, "", 0);
    expect_part(&mp, body, 2, "bin", NULL, "application/octet-stream",
                "\x00\x01\r\x02\n\r\n\r\n\xff", 10);
    bpm_multipart_cleanup(&mp);
    free(body);

    /* no parts at all */
    assert_int_equal(PARSE("--b--", &mp, NULL, &body), BPM_OK);
    assert_int_equal(mp.n_parts, 0);
    bpm_multipart_cleanup(&mp);
    free(body);
    assert_int_equal(PARSE("preamble\n--b--\n", &mp, NULL, &body), BPM_OK);
    assert_int_equal(mp.n_parts, 0);
    bpm_multipart_cleanup(&mp);
    free(body);

    /* a long boundary, as browsers make them */
    const char *bd = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "--%s\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--%s--\r\n",
                     bd, bd);
    assert_int_equal(parse(buf, (size_t)n, bd, 0, &mp, NULL, &body), BPM_OK);
    assert_int_equal(mp.n_parts, 1);
    expect_part(&mp, body, 0, "x", NULL, NULL, "v", 1);
    bpm_multipart_cleanup(&mp);
    free(body);
}

static const struct {
    const char *body;
    bpm_rc rc;
    const char *err;
} malformed[] = {
    {"", BPM_BAD_REQUEST, "Invalid multipart body: no boundary line '--b' found"},
    {"no boundary at all", BPM_BAD_REQUEST, "no boundary line '--b' found"},
    {"--bx\r\n", BPM_BAD_REQUEST, "no boundary line '--b' found"},
    {"--b", BPM_BAD_REQUEST, "no boundary line '--b' found"},
    {"-", BPM_BAD_REQUEST, "no boundary line '--b' found"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", BPM_BAD_REQUEST,
     "Invalid multipart body: missing closing boundary '--b--'"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--b", BPM_BAD_REQUEST,
     "missing closing boundary '--b--'"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--b-", BPM_BAD_REQUEST,
     "missing closing boundary '--b--'"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--b\r\n", BPM_BAD_REQUEST,
     "Invalid multipart body: the headers of part 2 are not followed by a blank line"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n--b--", BPM_BAD_REQUEST,
     "the headers of part 1 are not followed by a blank line"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\"", BPM_BAD_REQUEST,
     "the headers of part 1 are not followed by a blank line"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n", BPM_BAD_REQUEST,
     "the headers of part 1 are not followed by a blank line"},
    {"--b\r\n", BPM_BAD_REQUEST, "the headers of part 1 are not followed by a blank line"},
    {"--b\r\n\r\nx\r\n--b--", BPM_BAD_REQUEST,
     "Invalid multipart body: part 1 has no Content-Disposition header"},
    {"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", BPM_BAD_REQUEST,
     "part 1 has no Content-Disposition header"},
    {"--b\r\nContent-Disposition: form-data; filename=\"a.bpmn\"\r\n\r\nx\r\n--b--",
     BPM_BAD_REQUEST, "Invalid multipart body: the Content-Disposition of part 1 has no name"},
    {"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", BPM_BAD_REQUEST,
     "the Content-Disposition of part 1 has no name"},
    {"--b\r\nContent-Disposition: form-data; nam=\"a\"\r\n\r\nx\r\n--b--", BPM_BAD_REQUEST,
     "the Content-Disposition of part 1 has no name"},
    {"--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--", BPM_BAD_REQUEST,
     "part 1 has Content-Disposition 'attachment', expected form-data"},
    {"--b\r\nContent-Disposition: ; name=\"a\"\r\n\r\nx\r\n--b--", BPM_BAD_REQUEST,
     "part 1 has Content-Disposition '', expected form-data"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--", BPM_BAD_REQUEST,
     "unterminated quoted string in the Content-Disposition of part 1"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\\\"\r\n\r\nx\r\n--b--", BPM_BAD_REQUEST,
     "unterminated quoted string"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n folded\r\n\r\nx\r\n--b--",
     BPM_BAD_REQUEST, "folded header lines are not supported (part 1)"},
    {"--b\r\nno colon here\r\n\r\nx\r\n--b--", BPM_BAD_REQUEST,
     "Invalid multipart body: malformed header line 'no colon here' in part 1"},
    {"--b\r\n: no name\r\n\r\nx\r\n--b--", BPM_BAD_REQUEST, "malformed header line ': no name'"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; "
     "name=\"b\"\r\n\r\nx\r\n--b--",
     BPM_BAD_REQUEST, "part 1 has two Content-Disposition headers"},
    {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b\r\n"
     "Content-Disposition: form-data\r\n\r\ny\r\n--b--",
     BPM_BAD_REQUEST, "the Content-Disposition of part 2 has no name"},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        bpm_multipart mp = {.n_parts = 99};
        bpm_err err = {0};
        char *body;
        bpm_rc rc = parse(malformed[i].body, strlen(malformed[i].body), "b", 0, &mp, &err, &body);
        free(body);
        if (rc != malformed[i].rc || !strstr(err.msg, malformed[i].err) || mp.parts || mp.n_parts ||
            mp.arena) {
            print_error("row %zu: rc %d, msg \"%s\", want \"%s\"\n", i, (int)rc, err.msg,
                        malformed[i].err);
            fail();
        }
        bpm_multipart_cleanup(&mp);
    }
    /* a NUL inside a header line */
    static const char nul[] =
        "--b\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\nx\r\n--b--";
    bpm_multipart mp;
    bpm_err err = {0};
    char *body;
    assert_int_equal(parse(nul, sizeof nul - 1, "b", 0, &mp, &err, &body), BPM_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "NUL byte in the headers of part 1"));
    free(body);
    /* a bad boundary argument */
    assert_int_equal(bpm_multipart_parse("--b--", 5, "", 0, &mp, &err), BPM_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "the boundary must have 1 to 70 characters"));
    assert_int_equal(bpm_multipart_parse("--b--", 5, NULL, 0, &mp, &err), BPM_BAD_REQUEST);
    /* no body */
    assert_int_equal(bpm_multipart_parse(NULL, 0, "b", 0, &mp, &err), BPM_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "no boundary line"));
    /* err may be NULL */
    assert_int_equal(bpm_multipart_parse("x", 1, "b", 0, &mp, NULL), BPM_BAD_REQUEST);
}

/* A body of n small parts. */
static char *parts_body(size_t n, size_t *len)
{
    size_t cap = 64 + n * 80, o = 0;
    char *b = malloc(cap);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(b + o, cap - o,
                              "--b\r\nContent-Disposition: form-data; name=\"p%zu\"\r\n\r\n%zu\r\n",
                              i, i);
    o += (size_t)snprintf(b + o, cap - o, "--b--\r\n");
    *len = o;
    return b;
}

static void test_limits(void **state)
{
    (void)state;
    bpm_multipart mp;
    bpm_err err = {0};
    size_t len;
    char *b = parts_body(3, &len);
    assert_int_equal(bpm_multipart_parse(b, len, "b", 3, &mp, &err), BPM_OK);
    assert_int_equal(mp.n_parts, 3);
    assert_string_equal(mp.parts[2].name, "p2");
    bpm_multipart_cleanup(&mp);
    assert_int_equal(bpm_multipart_parse(b, len, "b", 2, &mp, &err), BPM_LIMIT);
    assert_string_equal(err.msg, "Too many parts in the multipart body (limit 2)");
    assert_null(mp.parts);
    free(b);
    /* the default limit */
    b = parts_body(BPM_MULTIPART_MAX_PARTS, &len);
    assert_int_equal(bpm_multipart_parse(b, len, "b", 0, &mp, &err), BPM_OK);
    assert_int_equal(mp.n_parts, BPM_MULTIPART_MAX_PARTS);
    assert_string_equal(mp.parts[BPM_MULTIPART_MAX_PARTS - 1].name, "p99");
    bpm_multipart_cleanup(&mp);
    free(b);
    b = parts_body(BPM_MULTIPART_MAX_PARTS + 1, &len);
    assert_int_equal(bpm_multipart_parse(b, len, "b", 0, &mp, &err), BPM_LIMIT);
    free(b);
    /* headers too long */
    size_t big = BPM_MULTIPART_MAX_HEADER + 100;
    b = malloc(big + 200);
    len = (size_t)snprintf(b, 200, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nX: ");
    memset(b + len, 'x', big);
    len += big;
    len += (size_t)snprintf(b + len, 200, "\r\n\r\nv\r\n--b--");
    assert_int_equal(bpm_multipart_parse(b, len, "b", 0, &mp, &err), BPM_LIMIT);
    assert_non_null(strstr(err.msg, "The headers of part 1 exceed 8192 bytes"));
    /* and the same without any line break at all */
    assert_int_equal(bpm_multipart_parse(b, len - 14, "b", 0, &mp, &err), BPM_LIMIT);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary),          cmocka_unit_test(test_modeler_body),
        cmocka_unit_test(test_bare_lf_and_mixed), cmocka_unit_test(test_preamble_epilogue_padding),
        cmocka_unit_test(test_headers),           cmocka_unit_test(test_contents),
        cmocka_unit_test(test_malformed),         cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
