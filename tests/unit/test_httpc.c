/* adapters/http: {{secrets.NAME}} expansion and masking, and the requests
 * bpm_httpc_call refuses before sending anything (or that fail to connect),
 * whose messages must never hold a secret's value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httpc.h"

static int setup(void **state)
{
    (void)state;
    setenv("BPMND_SECRET_TOKEN_A", "abcdef-secret", 1);
    setenv("TOKEN_B", "plain-env-secret", 1);
    setenv("BPMND_SECRET_BOTH", "prefixed-wins", 1);
    setenv("BOTH", "unprefixed-loses", 1);
    setenv("BPMND_SECRET_SHORT", "abc", 1);
    setenv("BPMND_SECRET_NEWLINE", "evil\r\nX-Injected: 1", 1);
    unsetenv("BPMND_SECRET_UNSET_X");
    unsetenv("UNSET_X");
    return 0;
}

typedef struct xcase {
    const char *in;
    const char *out;      /* NULL: refused */
    const char *msg_part; /* refused: part of the message */
} xcase;

static const xcase XCASES[] = {
    {"plain text", "plain text", NULL},
    {"", "", NULL},
    {"Bearer {{secrets.TOKEN_A}}", "Bearer abcdef-secret", NULL},
    {"{{secrets.TOKEN_B}}/{{secrets.TOKEN_A}}", "plain-env-secret/abcdef-secret", NULL},
    {"{{secrets.BOTH}}", "prefixed-wins", NULL},
    {"{{other}} {secrets.TOKEN_A} {{ secrets.TOKEN_A }}", "{{other}} {secrets.TOKEN_A} {{ secrets.TOKEN_A }}", NULL},
    {"x{{secrets.UNSET_X}}", NULL, "secret \"UNSET_X\" is not set"},
    {"{{secrets.SHORT}}", NULL, "shorter than"},
    {"{{secrets.}}", NULL, "malformed secret reference at character 1"},
    {"ab{{secrets.TOKEN_A}", NULL, "malformed secret reference at character 3"},
    {"{{secrets.TOKEN-A}}", NULL, "malformed"},
};

static void test_expand(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof XCASES / sizeof XCASES[0]; i++) {
        const xcase *c = &XCASES[i];
        bpm_httpc_secrets used;
        bpm_httpc_secrets_init(&used);
        char *out = NULL;
        size_t len = 0;
        bpm_err err = {0};
        bpm_rc rc = bpm_httpc_expand(c->in, strlen(c->in), &used, &out, &len, &err);
        if (c->out) {
            assert_int_equal(rc, BPM_OK);
            assert_string_equal(out, c->out);
            assert_int_equal(len, strlen(c->out));
            free(out);
        } else {
            assert_int_equal(rc, BPM_BAD_REQUEST);
            assert_null(out);
            assert_non_null(strstr(err.msg, c->msg_part));
            assert_null(strstr(err.msg, "abc")); /* no value, even a short one */
        }
        bpm_httpc_secrets_cleanup(&used);
    }
}

static void test_mask(void **state)
{
    (void)state;
    bpm_httpc_secrets used;
    bpm_httpc_secrets_init(&used);
    char *out = NULL;
    const char *t = "{{secrets.TOKEN_A}}{{secrets.TOKEN_B}}{{secrets.TOKEN_A}}";
    assert_int_equal(bpm_httpc_expand(t, strlen(t), &used, &out, NULL, NULL), BPM_OK);
    free(out);
    assert_int_equal(used.n, 2); /* each value once */
    char buf[] = "x abcdef-secret y abcdef-secretabcdef-secret plain-env-secret abcdef";
    bpm_httpc_mask(&used, buf, strlen(buf));
    assert_string_equal(buf, "x ************* y ************************** **************** abcdef");
    bpm_httpc_secrets_cleanup(&used);
    assert_int_equal(used.n, 0);
}

typedef struct ccase {
    const char *method;
    const char *url;
    const char *header_value;
    bpm_rc rc;
    const char *msg_part;
} ccase;

static const ccase CCASES[] = {
    {"GET", "ftp://127.0.0.1/{{secrets.TOKEN_A}}", NULL, BPM_BAD_REQUEST, "ftp://127.0.0.1/{{secrets.TOKEN_A}}"},
    {"GE T", "http://127.0.0.1:1/", NULL, BPM_BAD_REQUEST, "is not a word"},
    /* a whole URL may be a secret (a Slack webhook); it is checked once expanded */
    {"POST", "{{secrets.TOKEN_A}}", NULL, BPM_BAD_REQUEST, "\"{{secrets.TOKEN_A}}\" is not an http:// or https:// URL"},
    {"GET", "http://127.0.0.1:1/{{secrets.UNSET_X}}", NULL, BPM_BAD_REQUEST, "\"UNSET_X\" is not set"},
    {"GET", "http://127.0.0.1:1/", "{{secrets.NEWLINE}}", BPM_BAD_REQUEST, "line break"},
    /* port 1 on loopback refuses: no response, and the URL shows the reference */
    {"post", "http://127.0.0.1:1/{{secrets.TOKEN_A}}", "Bearer {{secrets.TOKEN_B}}", BPM_UNAVAILABLE,
     "could not call POST http://127.0.0.1:1/{{secrets.TOKEN_A}}"},
};

static void test_call_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CCASES / sizeof CCASES[0]; i++) {
        const ccase *c = &CCASES[i];
        bpm_httpc_header h = {"Authorization", c->header_value};
        bpm_httpc_request req = {.method = c->method,
                                 .url = c->url,
                                 .headers = c->header_value ? &h : NULL,
                                 .n_headers = c->header_value ? 1 : 0,
                                 .idempotency_key = "job-1",
                                 .connect_timeout_ms = 2000,
                                 .timeout_ms = 2000};
        bpm_httpc_response resp = {0};
        bool timed_out = true;
        bpm_err err = {0};
        assert_int_equal(bpm_httpc_call(&req, &resp, &timed_out, &err), c->rc);
        assert_false(timed_out);
        assert_null(resp.headers);
        assert_non_null(strstr(err.msg, c->msg_part));
        assert_null(strstr(err.msg, "abcdef-secret"));
        assert_null(strstr(err.detail, "abcdef-secret"));
        assert_null(strstr(err.msg, "plain-env-secret"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_call_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
