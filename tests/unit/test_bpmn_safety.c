/* Safety of the BPMN reader against hostile and broken input, as tables:
 * entity tricks (XXE, parameter entities, external DTDs, billion laughs,
 * DOCTYPE hidden behind comments, PIs, a BOM or UTF-16), XInclude, documents
 * that are not well-formed or not BPMN, every truncation of real diagrams,
 * garbage, duplicate ids, deep nesting, huge documents and invalid UTF-8.
 * Every refusal must come back as BPM_PARSE or BPM_LIMIT with *out untouched,
 * an error diagnostic that names the line (or the element) it applies to, and
 * nothing read from files the document points at. Buffers are handed over at
 * their exact size, not NUL-terminated, so an over-read shows under ASan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpmn.h"

#define NS_BPMN "http://www.omg.org/spec/BPMN/20100524/MODEL"
#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define DEFS "<definitions xmlns=\"" NS_BPMN "\" id=\"D\" targetNamespace=\"urn:test\">\n"
#define PROC "<process id=\"P\" isExecutable=\"true\"><startEvent id=\"S\"/></process>\n"
#define END "</definitions>\n"
#define FILE_NAME "safety.bpmn"

/* ---- fixtures ---------------------------------------------------------------- */

/* A directory holding files a hostile document points at. Their content must
 * never show up in a diagnostic, an error or a model. */
static char secret_dir[64];
static char secret[64];

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int setup_secrets(void **state)
{
    (void)state;
    snprintf(secret_dir, sizeof secret_dir, "/tmp/bpm-safety-XXXXXX");
    if (!mkdtemp(secret_dir))
        return -1;
    snprintf(secret, sizeof secret, "TOPSECRET-%ld-7f3a", (long)getpid());
    char text[256];
    write_file(secret_dir, "secret.txt", secret);
    snprintf(text, sizeof text, "<!ENTITY leak \"%s\">\n", secret);
    write_file(secret_dir, "secret.dtd", text);
    snprintf(text, sizeof text, "<!ENTITY %% inner \"<!ENTITY leak '%s'>\">\n%%inner;\n", secret);
    write_file(secret_dir, "param.dtd", text);
    return 0;
}

static int teardown_secrets(void **state)
{
    (void)state;
    const char *names[] = {"secret.txt", "secret.dtd", "param.dtd", "xxe.bpmn"};
    char path[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", secret_dir, names[i]);
        unlink(path);
    }
    rmdir(secret_dir);
    return 0;
}

/* Copies text with every "@DIR@" replaced by the secret directory. */
static char *expand(const char *text, size_t *len)
{
    size_t dl = strlen(secret_dir), n = 0;
    char *out = malloc(strlen(text) * (dl + 1) + 1);
    assert_non_null(out);
    for (const char *p = text; *p;) {
        if (strncmp(p, "@DIR@", 5) == 0) {
            memcpy(out + n, secret_dir, dl);
            n += dl;
            p += 5;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    *len = n;
    return out;
}

/* ---- reading and checking ---------------------------------------------------- */

static bpm_model sentinel; /* *out is preset to this; never dereferenced */

typedef struct outcome {
    bpm_rc rc;
    bpm_model *m; /* the model when rc == BPM_OK */
    bool out_untouched;
    bpm_diags diags;
    bpm_err err;
} outcome;

/* Reads len bytes from an exact-size heap copy (no terminating NUL). */
static void read_doc(outcome *o, const char *buf, size_t len, const bpm_bpmn_limits *limits)
{
    memset(o, 0, sizeof *o);
    bpm_diags_init(&o->diags);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, buf, len);
    bpm_model *m = &sentinel;
    o->rc = bpm_bpmn_read_buffer(copy, len, FILE_NAME, limits, &m, &o->diags, &o->err);
    free(copy);
    if (o->rc == BPM_OK) {
        assert_non_null(m);
        assert_ptr_not_equal(m, &sentinel);
        o->m = m;
    } else {
        o->out_untouched = m == &sentinel;
    }
}

static void release(outcome *o)
{
    bpm_model_unref(o->m);
    o->m = NULL;
    bpm_diags_cleanup(&o->diags);
}

static void dump(const outcome *o)
{
    print_message("  rc %s, err \"%s\"\n", bpm_err_name(o->rc), o->err.msg);
    for (size_t i = 0; i < o->diags.n; i++) {
        const bpm_diag *d = &o->diags.items[i];
        print_message("  %s:%d: %s: [%s] %s\n", d->file ? d->file : "", d->line, bpm_diags_severity_name(d->severity),
                      d->element_id ? d->element_id : "", d->message);
    }
}

static bool icontains(const char *hay, const char *needle)
{
    if (!needle)
        return true;
    if (!hay)
        return false;
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* The first error diagnostic whose message contains needle (NULL: any). */
static const bpm_diag *find_error(const outcome *o, const char *needle)
{
    for (size_t i = 0; i < o->diags.n; i++) {
        const bpm_diag *d = &o->diags.items[i];
        if (d->severity == BPM_SEV_ERROR && icontains(d->message, needle))
            return d;
    }
    return NULL;
}

static bool leaks(const outcome *o, const char *what)
{
    if (strstr(o->err.msg, what) || strstr(o->err.detail, what) || strstr(o->err.where, what))
        return true;
    for (size_t i = 0; i < o->diags.n; i++) {
        const bpm_diag *d = &o->diags.items[i];
        if ((d->message && strstr(d->message, what)) || (d->element_id && strstr(d->element_id, what)) ||
            (d->file && strstr(d->file, what)))
            return true;
    }
    return false;
}

#define EXPECT(o, name, cond)                                                \
    do {                                                                     \
        if (!(cond)) {                                                       \
            dump(o);                                                         \
            fail_msg("%s: expected %s (%s:%d)", name, #cond, __FILE__, __LINE__); \
        }                                                                    \
    } while (0)

/* A refusal: rc is one of the accepted codes, *out untouched, err filled,
 * an error diagnostic with the needle on the given line (0: any line > 0,
 * -1: no line needed, the file is named instead). */
static const bpm_diag *expect_refused(const outcome *o, const char *name, bpm_rc rc, bpm_rc rc_alt,
                                      const char *needle, int line)
{
    EXPECT(o, name, o->rc == rc || (rc_alt != BPM_OK && o->rc == rc_alt));
    EXPECT(o, name, o->out_untouched);
    EXPECT(o, name, o->err.rc == o->rc && o->err.msg[0] != '\0');
    const bpm_diag *d = find_error(o, needle);
    EXPECT(o, name, d != NULL);
    EXPECT(o, name, d->file && strcmp(d->file, FILE_NAME) == 0);
    if (line > 0)
        EXPECT(o, name, d->line == line);
    else if (line == 0)
        EXPECT(o, name, d->line > 0);
    EXPECT(o, name, !leaks(o, secret));
    return d;
}

/* ---- entities and DTDs --------------------------------------------------------- */

typedef struct bad_case {
    const char *name;
    const char *doc; /* @DIR@ = the directory with the secret files */
    size_t len;      /* 0: strlen(doc) */
    bpm_rc rc;
    bpm_rc rc_alt; /* also accepted; BPM_OK for none */
    const char *needle;
    int line; /* of the error; 0 = any > 0; -1 = none needed */
} bad_case;

#define LOL "<!ENTITY lol \"lol\">\n"                                                       \
            "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"      \
            "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n" \
            "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n" \
            "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n" \
            "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n" \
            "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n" \
            "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n" \
            "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n" \
            "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"

#define USES_X "<process id=\"P\" name=\"&x;\"><documentation>&x;</documentation></process>\n"
#define USES_LEAK "<process id=\"P\" name=\"&leak;\"><documentation>&leak;</documentation></process>\n"

static const bad_case doctype_cases[] = {
    {"external entity to a local file",
     DECL "<!DOCTYPE definitions [<!ENTITY x SYSTEM \"file://@DIR@/secret.txt\">]>\n" DEFS USES_X END, 0,
     BPM_PARSE, BPM_OK, "DOCTYPE", 2},
    {"external entity by relative path",
     DECL "<!DOCTYPE definitions [<!ENTITY x SYSTEM \"@DIR@/secret.txt\">]>\n" DEFS USES_X END, 0, BPM_PARSE,
     BPM_OK, "DOCTYPE", 2},
    {"external entity over the network",
     DECL "<!DOCTYPE definitions [<!ENTITY x SYSTEM \"http://127.0.0.1:9/x\">]>\n" DEFS USES_X END, 0, BPM_PARSE,
     BPM_OK, "DOCTYPE", 2},
    {"parameter entity",
     DECL "<!DOCTYPE definitions [\n<!ENTITY % x SYSTEM \"file://@DIR@/secret.dtd\">\n%x;\n]>\n" DEFS USES_LEAK END,
     0, BPM_PARSE, BPM_OK, "DOCTYPE", 2},
    {"nested parameter entities",
     DECL "<!DOCTYPE definitions [<!ENTITY % x SYSTEM \"file://@DIR@/param.dtd\"> %x;]>\n" DEFS USES_LEAK END, 0,
     BPM_PARSE, BPM_OK, "DOCTYPE", 2},
    {"external DTD (SYSTEM)", DECL "<!DOCTYPE definitions SYSTEM \"file://@DIR@/secret.dtd\">\n" DEFS USES_LEAK END,
     0, BPM_PARSE, BPM_OK, "DOCTYPE", 2},
    {"external DTD (PUBLIC)",
     DECL "<!DOCTYPE definitions PUBLIC \"-//EVIL//DTD X//EN\" \"file://@DIR@/secret.dtd\">\n" DEFS USES_LEAK END, 0,
     BPM_PARSE, BPM_OK, "DOCTYPE", 2},
    {"billion laughs", DECL "<!DOCTYPE definitions [\n" LOL "]>\n" DEFS
                            "<process id=\"P\" name=\"&lol9;\"><documentation>&lol9;</documentation></process>\n" END,
     0, BPM_PARSE, BPM_OK, "DOCTYPE", 2},
    {"internal entity only", DECL "<!DOCTYPE definitions [<!ENTITY x \"harmless\">]>\n" DEFS USES_X END, 0,
     BPM_PARSE, BPM_OK, "DOCTYPE", 2},
    {"empty DOCTYPE", DECL "<!DOCTYPE definitions>\n" DEFS PROC END, 0, BPM_PARSE, BPM_OK, "DOCTYPE", 2},
    {"DOCTYPE after a comment",
     DECL "<!-- made by hand -->\n<!DOCTYPE definitions [<!ENTITY x SYSTEM \"file://@DIR@/secret.txt\">]>\n" DEFS
         USES_X END,
     0, BPM_PARSE, BPM_OK, "DOCTYPE", 3},
    {"DOCTYPE after a comment that mentions a root element",
     DECL "<!-- <definitions id=\"fake\"> ?> -->\n\n<!DOCTYPE definitions [<!ENTITY x SYSTEM \"file://@DIR@/secret.txt\">]>\n" DEFS
         USES_X END,
     0, BPM_PARSE, BPM_OK, "DOCTYPE", 4},
    {"DOCTYPE after a processing instruction",
     DECL "<?xml-stylesheet type=\"text/xsl\" href=\"x.xsl\"?>\n"
          "<!DOCTYPE definitions [<!ENTITY x SYSTEM \"file://@DIR@/secret.txt\">]>\n" DEFS USES_X END,
     0, BPM_PARSE, BPM_OK, "DOCTYPE", 3},
    {"DOCTYPE after a PI, a comment and blank lines",
     DECL "<?pi a?>\n<!--c-->\n\n\t<!DOCTYPE definitions [<!ENTITY x SYSTEM \"file://@DIR@/secret.txt\">]>\n" DEFS
         USES_X END,
     0, BPM_PARSE, BPM_OK, "DOCTYPE", 5},
    {"DOCTYPE without an XML declaration",
     "<!DOCTYPE definitions [<!ENTITY x SYSTEM \"file://@DIR@/secret.txt\">]>\n" DEFS USES_X END, 0, BPM_PARSE,
     BPM_OK, "DOCTYPE", 1},
    {"DOCTYPE after a byte order mark",
     "\xEF\xBB\xBF" DECL "<!DOCTYPE definitions [<!ENTITY x SYSTEM \"file://@DIR@/secret.txt\">]>\n" DEFS USES_X END,
     0, BPM_PARSE, BPM_OK, "DOCTYPE", 2},
};

static void test_doctype(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof doctype_cases / sizeof doctype_cases[0]; i++) {
        const bad_case *c = &doctype_cases[i];
        size_t len;
        char *doc = expand(c->doc, &len);
        outcome o;
        read_doc(&o, doc, len, NULL);
        expect_refused(&o, c->name, c->rc, c->rc_alt, c->needle, c->line);
        release(&o);
        free(doc);
    }
}

/* UTF-16 hides "<!DOCTYPE" from a byte scan of the prolog; libxml2 still
 * decodes it, so the reader must refuse it after parsing. */
static char *to_utf16(const char *ascii, size_t *len, bool big_endian)
{
    size_t n = strlen(ascii);
    char *out = malloc(2 * n + 2);
    assert_non_null(out);
    out[0] = big_endian ? '\xFE' : '\xFF';
    out[1] = big_endian ? '\xFF' : '\xFE';
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i + (big_endian ? 1 : 0)] = ascii[i];
        out[2 + 2 * i + (big_endian ? 0 : 1)] = '\0';
    }
    *len = 2 * n + 2;
    return out;
}

static void test_doctype_utf16(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *doc;
        const char *needle;
    } cases[] = {
        {"UTF-16 internal entity",
         "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<!DOCTYPE definitions [<!ENTITY x \"y\">]>\n" DEFS USES_X END,
         "DOCTYPE"},
        {"UTF-16 external entity",
         "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<!DOCTYPE definitions [<!ENTITY x SYSTEM "
         "\"file://@DIR@/secret.txt\">]>\n" DEFS "<process id=\"P\"><documentation>&x;</documentation></process>\n" END,
         NULL},
        {"UTF-16 external DTD",
         "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<!DOCTYPE definitions SYSTEM \"file://@DIR@/secret.dtd\">\n" DEFS
             PROC END,
         "DOCTYPE"},
        {"UTF-16 billion laughs",
         "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<!DOCTYPE definitions [\n" LOL "]>\n" DEFS
         "<process id=\"P\"><documentation>&lol9;</documentation></process>\n" END,
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int be = 0; be <= 1; be++) {
            size_t len, n16;
            char *doc = expand(cases[i].doc, &len);
            char *doc16 = to_utf16(doc, &n16, be);
            outcome o;
            read_doc(&o, doc16, n16, NULL);
            expect_refused(&o, cases[i].name, BPM_PARSE, BPM_LIMIT, cases[i].needle, 0);
            release(&o);
            free(doc16);
            free(doc);
        }
    }
    /* The same document without the DOCTYPE is fine in UTF-16. */
    size_t n16;
    char *ok = to_utf16("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n" DEFS PROC END, &n16, false);
    outcome o;
    read_doc(&o, ok, n16, NULL);
    EXPECT(&o, "UTF-16 without DOCTYPE", o.rc == BPM_OK && o.m->n_processes == 1);
    release(&o);
    free(ok);
}

/* XInclude is not processed: the include element is just unknown markup. */
static void test_xinclude_ignored(void **state)
{
    (void)state;
    size_t len;
    char *doc = expand(DECL "<definitions xmlns=\"" NS_BPMN "\" xmlns:xi=\"http://www.w3.org/2001/XInclude\" id=\"D\">\n"
                            "<process id=\"P\"><documentation><xi:include href=\"file://@DIR@/secret.txt\" "
                            "parse=\"text\"/></documentation><startEvent id=\"S\"/></process>\n" END,
                       &len);
    outcome o;
    read_doc(&o, doc, len, NULL);
    EXPECT(&o, "xinclude", o.rc == BPM_OK);
    EXPECT(&o, "xinclude", !leaks(&o, secret));
    const bpm_process *p = bpm_model_find_process(o.m, "P");
    EXPECT(&o, "xinclude", p != NULL);
    EXPECT(&o, "xinclude", !p->documentation || !strstr(p->documentation, secret));
    release(&o);
    free(doc);
}

/* ---- not well-formed, not BPMN ------------------------------------------------ */

static const bad_case malformed_cases[] = {
    {"undefined entity without DOCTYPE", DECL DEFS "<process id=\"P\" name=\"&x;\"/>\n" END, 0, BPM_PARSE, BPM_OK,
     "not well-formed", 3},
    {"undefined entity in text", DECL DEFS "<process id=\"P\">\n<documentation>a &x; b</documentation></process>\n" END,
     0, BPM_PARSE, BPM_OK, "not well-formed", 4},
    {"empty input", "", 0, BPM_PARSE, BPM_OK, NULL, -1},
    {"blank input", " \n\t\n", 0, BPM_PARSE, BPM_OK, NULL, -1},
    {"only an XML declaration", DECL, 0, BPM_PARSE, BPM_OK, NULL, -1},
    {"only a comment", DECL "<!-- nothing -->\n", 0, BPM_PARSE, BPM_OK, NULL, -1},
    {"wrong root element", DECL "<process xmlns=\"" NS_BPMN "\" id=\"P\"/>\n", 0, BPM_PARSE, BPM_OK, "root element", 2},
    {"HTML", "<!-- page -->\n<html><body>hello</body></html>\n", 0, BPM_PARSE, BPM_OK, "root element", 2},
    {"wrong namespace on definitions", DECL "\n<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/DI\" id=\"D\">" PROC END,
     0, BPM_PARSE, BPM_OK, "namespace", 3},
    {"definitions in no namespace", DECL "<definitions id=\"D\">" PROC END, 0, BPM_PARSE, BPM_OK, "namespace", 2},
    {"pre-release BPMN 2.0 namespace", DECL "<definitions xmlns=\"http://schema.omg.org/spec/BPMN/2.0\" id=\"D\">" PROC END,
     0, BPM_PARSE, BPM_OK, "namespace", 2},
    {"undeclared prefix", DECL "<bpmn:definitions id=\"D\"><bpmn:process id=\"P\"/></bpmn:definitions>\n", 0, BPM_PARSE,
     BPM_OK, NULL, 2},
    {"unclosed root", DECL DEFS PROC, 0, BPM_PARSE, BPM_OK, "not well-formed", 0},
    {"mismatched end tag", DECL DEFS "<process id=\"P\">\n</task>\n" END, 0, BPM_PARSE, BPM_OK, "not well-formed", 4},
    {"two root elements", DECL DEFS PROC END DEFS END, 0, BPM_PARSE, BPM_OK, "not well-formed", 0},
    {"text after the root", DECL DEFS PROC END "trailing\n", 0, BPM_PARSE, BPM_OK, "not well-formed", 0},
    {"unquoted attribute", DECL DEFS "<process id=P/>\n" END, 0, BPM_PARSE, BPM_OK, "not well-formed", 3},
    {"duplicate attribute", DECL DEFS "<process id=\"P\" id=\"Q\"/>\n" END, 0, BPM_PARSE, BPM_OK, "not well-formed", 3},
    {"'<' in an attribute", DECL DEFS "<process id=\"P\" name=\"a<b\"/>\n" END, 0, BPM_PARSE, BPM_OK, "not well-formed",
     3},
    {"control character", DECL DEFS "<process id=\"P\" name=\"a\x01" "b\"/>\n" END, 0, BPM_PARSE, BPM_OK,
     "not well-formed", 3},
    {"NUL byte inside", DECL DEFS "<process id=\"P\" name=\"a\0b\"/>\n" END,
     sizeof(DECL DEFS "<process id=\"P\" name=\"a\0b\"/>\n" END) - 1, BPM_PARSE, BPM_OK, "not well-formed", 3},
    {"XML declaration not at the start", "\n" DECL DEFS PROC END, 0, BPM_PARSE, BPM_OK, "not well-formed", 0},
    {"unterminated comment", DECL DEFS "<!-- forever\n" PROC END, 0, BPM_PARSE, BPM_OK, "not well-formed", 0},
    {"unterminated CDATA", DECL DEFS "<process id=\"P\"><documentation><![CDATA[ x\n" END, 0, BPM_PARSE, BPM_OK,
     "not well-formed", 0},
    /* invalid UTF-8, in attributes, text, names and comments */
    {"UTF-8: 0xFF byte", DECL DEFS "<process id=\"P\" name=\"a\xFF" "b\"/>\n" END, 0, BPM_PARSE, BPM_OK,
     "not well-formed", 3},
    {"UTF-8: lone continuation byte", DECL DEFS "<process id=\"P\">\n<documentation>\x80</documentation></process>\n" END,
     0, BPM_PARSE, BPM_OK, "not well-formed", 4},
    {"UTF-8: truncated sequence", DECL DEFS "<process id=\"P\" name=\"\xC3\"/>\n" END, 0, BPM_PARSE, BPM_OK,
     "not well-formed", 3},
    {"UTF-8: truncated at the end", DECL DEFS PROC END "<!-- \xE2\x82", 0, BPM_PARSE, BPM_OK, "not well-formed", 0},
    {"UTF-8: overlong slash", DECL DEFS "<process id=\"P\" name=\"\xC0\xAF\"/>\n" END, 0, BPM_PARSE, BPM_OK,
     "not well-formed", 3},
    {"UTF-8: encoded surrogate", DECL DEFS "<process id=\"P\" name=\"\xED\xA0\x80\"/>\n" END, 0, BPM_PARSE, BPM_OK,
     "not well-formed", 3},
    {"UTF-8: beyond U+10FFFF", DECL DEFS "<process id=\"P\" name=\"\xF4\x90\x80\x80\"/>\n" END, 0, BPM_PARSE, BPM_OK,
     "not well-formed", 3},
    {"UTF-8: in an element name", DECL DEFS "<process\xFE id=\"P\"/>\n" END, 0, BPM_PARSE, BPM_OK, "not well-formed", 3},
    {"UTF-8: in a comment", DECL DEFS "<!-- \xFF -->\n" PROC END, 0, BPM_PARSE, BPM_OK, "not well-formed", 3},
    {"Latin-1 bytes declared as UTF-8", DECL DEFS "<process id=\"P\" name=\"Rechnung kl\xE4ren\"/>\n" END, 0,
     BPM_PARSE, BPM_OK, "not well-formed", 3},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof malformed_cases / sizeof malformed_cases[0]; i++) {
        const bad_case *c = &malformed_cases[i];
        size_t len = c->len ? c->len : strlen(c->doc);
        outcome o;
        read_doc(&o, c->doc, len, NULL);
        expect_refused(&o, c->name, c->rc, c->rc_alt, c->needle, c->line);
        release(&o);
    }
    /* Latin-1 is fine when the document says so. */
    static const char latin1[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" DEFS
                                 "<process id=\"P\" name=\"Rechnung kl\xE4ren\"><startEvent id=\"S\"/></process>\n" END;
    outcome o;
    read_doc(&o, latin1, sizeof latin1 - 1, NULL);
    EXPECT(&o, "latin-1", o.rc == BPM_OK);
    const bpm_process *p = bpm_model_find_process(o.m, "P");
    EXPECT(&o, "latin-1", p && p->name && strcmp(p->name, "Rechnung kl\xC3\xA4ren") == 0);
    release(&o);
}

/* ---- garbage and truncation ----------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_garbage(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 3, 7, 64, 500, 4096, 65536};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int variant = 0; variant < 4; variant++) {
            size_t n = sizes[s];
            char *buf = malloc(n);
            assert_non_null(buf);
            for (size_t i = 0; i < n; i++)
                buf[i] = (char)(rng() & 0xFF);
            if (variant == 1)
                buf[0] = '<'; /* looks like markup */
            else if (variant == 2 && n > 6)
                memcpy(buf, "<?xml ", 6);
            else if (variant == 3)
                for (size_t i = 0; i < n; i++) /* printable ASCII soup of markup characters */
                    buf[i] = "<>/=\"'?!-&;:ab \n"[rng() % 16];
            outcome o;
            read_doc(&o, buf, n, NULL);
            char name[64];
            snprintf(name, sizeof name, "garbage of %zu bytes, variant %d", n, variant);
            expect_refused(&o, name, BPM_PARSE, BPM_LIMIT, NULL, -1);
            release(&o);
            free(buf);
        }
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (is the shared corpus at BPM_SHARED_DIR?)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Every cut of a real diagram, each 97 bytes: a model or BPM_PARSE, never a
 * crash, a leak or an over-read (the cut buffer is exactly that long). */
static void test_truncated(void **state)
{
    (void)state;
    static const char *const files[] = {
        "/corpus/miwg/Reference/C.1.0.bpmn",
        "/corpus/miwg/bpmn.io (Camunda Modeler) 18.6.1/C.8.1-export.bpmn",
        "/corpus/token-simulation/Simulator.compensation-nested.bpmn",
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", BPM_SHARED_DIR, files[f]);
        size_t len;
        char *full = slurp(path, &len);
        /* only a cut after the end tag of the root can still be whole */
        size_t root_end = 0;
        for (size_t i = 0; i + 12 <= len; i++)
            if (memcmp(full + i, "definitions>", 12) == 0)
                root_end = i + 12;
        assert_true(root_end > len / 2);
        size_t parsed = 0, refused = 0;
        for (size_t cut = 0; cut <= len; cut += 97) {
            outcome o;
            read_doc(&o, full, cut, NULL);
            char name[600];
            snprintf(name, sizeof name, "%s cut at %zu of %zu bytes", files[f], cut, len);
            if (o.rc == BPM_OK) {
                parsed++;
                EXPECT(&o, name, cut >= root_end);
                EXPECT(&o, name, o.m->n_processes > 0);
            } else {
                refused++;
                expect_refused(&o, name, BPM_PARSE, BPM_OK, NULL, cut > 0 ? 0 : -1);
            }
            release(&o);
        }
        assert_true(refused > 10);
        assert_true(parsed <= 1);
        outcome o;
        read_doc(&o, full, len, NULL);
        EXPECT(&o, files[f], o.rc == BPM_OK && o.m->n_processes > 0);
        release(&o);
        free(full);
    }
}

/* ---- ids -------------------------------------------------------------------------- */

static void test_duplicate_ids(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *doc;
        const char *id;
        int line;
    } cases[] = {
        {"two tasks",
         DECL DEFS "<process id=\"P\" isExecutable=\"true\"><startEvent id=\"S\"/>\n<task id=\"Task_1\"/>\n"
                   "<task id=\"Task_1\"/>\n</process>\n" END,
         "Task_1", 5},
        {"a task and a message",
         DECL DEFS "<message id=\"Thing\" name=\"m\"/>\n<process id=\"P\"><startEvent id=\"S\"/>\n"
                   "<task id=\"Thing\"/></process>\n" END,
         "Thing", 5},
        {"two processes", DECL DEFS PROC "<process id=\"P\"/>\n" END, "P", 4},
        {"a flow and a node",
         DECL DEFS "<process id=\"P\"><startEvent id=\"S\"/><endEvent id=\"E\"/>\n"
                   "<sequenceFlow id=\"E\" sourceRef=\"S\" targetRef=\"E\"/></process>\n" END,
         "E", 4},
        {"in a subprocess",
         DECL DEFS "<process id=\"P\"><startEvent id=\"S\"/><subProcess id=\"Sub\">\n<startEvent id=\"S\"/>\n"
                   "</subProcess></process>\n" END,
         "S", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        outcome o;
        read_doc(&o, cases[i].doc, strlen(cases[i].doc), NULL);
        EXPECT(&o, cases[i].name, o.rc == BPM_OK);
        EXPECT(&o, cases[i].name, bpm_diags_has_errors(&o.diags));
        const bpm_diag *d = find_error(&o, "duplicate id");
        EXPECT(&o, cases[i].name, d != NULL);
        EXPECT(&o, cases[i].name, d->element_id && strcmp(d->element_id, cases[i].id) == 0);
        EXPECT(&o, cases[i].name, strstr(d->message, cases[i].id) != NULL);
        EXPECT(&o, cases[i].name, d->line == cases[i].line);
        release(&o);
    }
}

/* ---- depth ------------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof tmp);
    sb_add(b, tmp, (size_t)n);
}

/* Nested elements, one per line, inside the process's extensionElements or as
 * the document itself. */
static void test_deep_elements(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *open, *close; /* one level */
        int depth;
    } cases[] = {
        {"10000 nested extension elements", "<x:e>\n", "</x:e>", 10000},
        {"10000 nested documentation elements", "<documentation>\n", "</documentation>", 10000},
        {"10000 nested tasks", "<task id=\"T\">\n", "</task>", 10000},
        {"100000 nested elements", "<x:e>", "</x:e>", 100000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sbuf b = {0};
        sb_puts(&b, DECL "<definitions xmlns=\"" NS_BPMN "\" xmlns:x=\"urn:x\" id=\"D\">\n"
                         "<process id=\"P\"><extensionElements>\n");
        for (int d = 0; d < cases[i].depth; d++)
            sb_puts(&b, cases[i].open);
        for (int d = 0; d < cases[i].depth; d++)
            sb_puts(&b, cases[i].close);
        sb_puts(&b, "</extensionElements></process>\n" END);
        outcome o;
        read_doc(&o, b.p, b.n, NULL);
        expect_refused(&o, cases[i].name, BPM_LIMIT, BPM_PARSE, NULL, 0);
        EXPECT(&o, cases[i].name, find_error(&o, "depth") || find_error(&o, "deep") || find_error(&o, "nest"));
        release(&o);
        free(b.p);
    }
}

static char *nested_subprocesses(int levels, size_t *len)
{
    sbuf b = {0};
    sb_puts(&b, DECL DEFS "<process id=\"P\" isExecutable=\"true\">\n<startEvent id=\"S\"/>\n");
    for (int d = 0; d < levels; d++)
        sb_printf(&b, "<subProcess id=\"Sub_%d\">\n<startEvent id=\"S_%d\"/>\n", d, d);
    for (int d = 0; d < levels; d++)
        sb_puts(&b, "</subProcess>\n");
    sb_puts(&b, "</process>\n" END);
    *len = b.n;
    return b.p;
}

static void test_nested_subprocesses(void **state)
{
    (void)state;
    /* 300 levels: deeper than the XML parser allows (256), refused with a
     * diagnostic that says so, on the line where the limit is crossed. */
    size_t len;
    char *doc = nested_subprocesses(300, &len);
    outcome o;
    read_doc(&o, doc, len, NULL);
    const bpm_diag *d = expect_refused(&o, "300 nested subprocesses", BPM_LIMIT, BPM_PARSE, "depth", 0);
    EXPECT(&o, "300 nested subprocesses", d->line > 256);
    release(&o);
    free(doc);

    /* Within the XML limit but beyond limits.max_depth: a clear error that
     * names the subprocess where the limit is crossed. */
    bpm_bpmn_limits lim = {.max_depth = 20};
    doc = nested_subprocesses(40, &len);
    read_doc(&o, doc, len, &lim);
    if (o.rc == BPM_OK) {
        d = find_error(&o, "nested deeper than 20");
        EXPECT(&o, "40 nested subprocesses, max_depth 20", d != NULL);
        EXPECT(&o, "40 nested subprocesses, max_depth 20", d->element_id && strncmp(d->element_id, "Sub_", 4) == 0);
        EXPECT(&o, "40 nested subprocesses, max_depth 20", d->line > 0);
    } else {
        expect_refused(&o, "40 nested subprocesses, max_depth 20", BPM_LIMIT, BPM_OK, NULL, 0);
    }
    release(&o);
    free(doc);

    /* 200 levels with the default limits are read: every level is a node. */
    doc = nested_subprocesses(200, &len);
    read_doc(&o, doc, len, NULL);
    EXPECT(&o, "200 nested subprocesses", o.rc == BPM_OK);
    EXPECT(&o, "200 nested subprocesses", o.m->processes[0].n_nodes == 1 + 2 * 200);
    release(&o);
    free(doc);
}

/* ---- size --------------------------------------------------------------------------- */

#define MIB ((size_t)1024 * 1024)

/* A valid diagram with `total` bytes of documentation, in one text of that
 * size (chunks == 1) or spread over `chunks` tasks. */
static char *padded_diagram(size_t total, size_t chunks, size_t *len)
{
    sbuf b = {0};
    sb_puts(&b, DECL DEFS "<process id=\"P\" isExecutable=\"true\">\n<startEvent id=\"S\"/>\n");
    size_t per = total / chunks;
    char line[81];
    memset(line, 'a', 79);
    line[79] = '\n';
    line[80] = '\0';
    for (size_t c = 0; c < chunks; c++) {
        sb_printf(&b, "<task id=\"T_%zu\"><documentation>", c);
        size_t done = 0;
        while (done + 80 <= per) {
            sb_add(&b, line, 80);
            done += 80;
        }
        sb_puts(&b, "</documentation></task>\n");
    }
    sb_puts(&b, "</process>\n" END);
    *len = b.n;
    return b.p;
}

static void test_big_documents(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t chunks;
    } cases[] = {
        {"50 MiB in one documentation text", 1},
        {"50 MiB in 50 documentation texts", 50},
        {"50 MiB in 20000 tasks", 20000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        char *doc = padded_diagram(50 * MIB, cases[i].chunks, &len);
        assert_true(len >= 49 * MIB && len < 64 * MIB);

        /* Default limit (64 MiB): read, or refused cleanly. */
        outcome o;
        read_doc(&o, doc, len, NULL);
        if (o.rc == BPM_OK) {
            const bpm_process *p = bpm_model_find_process(o.m, "P");
            EXPECT(&o, cases[i].name, p && p->n_nodes == 1 + cases[i].chunks);
            EXPECT(&o, cases[i].name, !bpm_diags_has_errors(&o.diags));
        } else {
            print_message("  note: %s refused under the default limit: %s\n", cases[i].name, o.err.msg);
            expect_refused(&o, cases[i].name, BPM_LIMIT, BPM_PARSE, NULL, -1);
            const bpm_diag *d = find_error(&o, NULL);
            EXPECT(&o, cases[i].name, d->line > 0 || strstr(d->message, "bytes"));
        }
        release(&o);

        /* 10 MiB limit: refused before parsing, naming the size and the limit. */
        bpm_bpmn_limits lim = {.max_bytes = 10 * MIB};
        read_doc(&o, doc, len, &lim);
        char size[32], limit[32];
        snprintf(size, sizeof size, "%zu", len);
        snprintf(limit, sizeof limit, "%zu", 10 * MIB);
        const bpm_diag *d = expect_refused(&o, cases[i].name, BPM_LIMIT, BPM_OK, size, -1);
        EXPECT(&o, cases[i].name, strstr(d->message, limit) != NULL);
        EXPECT(&o, cases[i].name, strstr(o.err.msg, size) != NULL);
        release(&o);
        free(doc);
    }

    /* One byte over the limit is refused, exactly at the limit is read. */
    size_t len;
    char *doc = padded_diagram(4096, 1, &len);
    bpm_bpmn_limits lim = {.max_bytes = len - 1};
    outcome o;
    read_doc(&o, doc, len, &lim);
    expect_refused(&o, "one byte over the limit", BPM_LIMIT, BPM_OK, "limit", -1);
    release(&o);
    lim.max_bytes = len;
    read_doc(&o, doc, len, &lim);
    EXPECT(&o, "exactly at the limit", o.rc == BPM_OK);
    release(&o);
    free(doc);
}

/* ---- files ---------------------------------------------------------------------------- */

static void test_read_file(void **state)
{
    (void)state;
    /* An XXE document read from a file is refused like the buffer. */
    size_t len;
    char *doc = expand(DECL "<!DOCTYPE definitions [<!ENTITY x SYSTEM \"file://@DIR@/secret.txt\">]>\n" DEFS USES_X END,
                       &len);
    char path[128];
    snprintf(path, sizeof path, "%s/xxe.bpmn", secret_dir);
    write_file(secret_dir, "xxe.bpmn", doc);
    free(doc);

    bpm_diags diags;
    bpm_diags_init(&diags);
    bpm_err err = {0};
    bpm_model *m = &sentinel;
    bpm_rc rc = bpm_bpmn_read_file(path, NULL, &m, &diags, &err);
    assert_int_equal(rc, BPM_PARSE);
    assert_ptr_equal(m, &sentinel);
    assert_true(diags.n > 0 && diags.items[0].line == 2 && strstr(diags.items[0].message, "DOCTYPE"));
    assert_string_equal(diags.items[0].file, path);
    assert_null(strstr(err.msg, secret));
    for (size_t i = 0; i < diags.n; i++)
        assert_null(strstr(diags.items[i].message, secret));
    bpm_diags_cleanup(&diags);

    /* Over max_bytes: refused from the file size, naming it. */
    bpm_diags_init(&diags);
    bpm_bpmn_limits lim = {.max_bytes = 100};
    rc = bpm_bpmn_read_file(path, &lim, &m, &diags, &err);
    assert_int_equal(rc, BPM_LIMIT);
    assert_ptr_equal(m, &sentinel);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    char size[32];
    snprintf(size, sizeof size, "%lld", (long long)st.st_size);
    assert_true(diags.n > 0 && strstr(diags.items[0].message, size) && strstr(diags.items[0].message, "100"));
    bpm_diags_cleanup(&diags);
    unlink(path);

    /* A directory and a missing file: BPM_IO, not a crash. */
    bpm_diags_init(&diags);
    rc = bpm_bpmn_read_file(secret_dir, NULL, &m, &diags, &err);
    assert_int_equal(rc, BPM_IO);
    assert_ptr_equal(m, &sentinel);
    bpm_diags_cleanup(&diags);
    bpm_diags_init(&diags);
    rc = bpm_bpmn_read_file("/nonexistent/bpm-safety.bpmn", NULL, &m, &diags, &err);
    assert_int_equal(rc, BPM_IO);
    assert_ptr_equal(m, &sentinel);
    assert_true(diags.n > 0 && diags.items[0].severity == BPM_SEV_ERROR);
    bpm_diags_cleanup(&diags);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doctype),
        cmocka_unit_test(test_doctype_utf16),
        cmocka_unit_test(test_xinclude_ignored),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_duplicate_ids),
        cmocka_unit_test(test_deep_elements),
        cmocka_unit_test(test_nested_subprocesses),
        cmocka_unit_test(test_big_documents),
        cmocka_unit_test(test_read_file),
    };
    return cmocka_run_group_tests(tests, setup_secrets, teardown_secrets);
}
