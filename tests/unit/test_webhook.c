/* Unit tests for the webhook request reader (adapters/api/webhook.c: GitHub,
 * CloudEvents binary and structured mode, JSON), the default CloudEvents
 * mapping, GitHub's HMAC check and the mapping's actions
 * (adapters/service/inbound.c). Requests are tables: headers as
 * "name: value" lines, a body, the status and the message expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbound.h"
#include "scripts.h"
#include "webhook.h"

/* "a: b\nc: d" -> {"a": "b", "c": "d"} with lower-case names */
static json_t *headers_of(const char *text)
{
    json_t *o = json_object();
    while (text && *text) {
        const char *nl = strchr(text, '\n'), *end = nl ? nl : text + strlen(text);
        const char *colon = memchr(text, ':', (size_t)(end - text));
        if (colon) {
            char name[128], value[512];
            snprintf(name, sizeof name, "%.*s", (int)(colon - text), text);
            for (char *p = name; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof value, "%.*s", (int)(end - v), v);
            json_object_set_new(o, name, json_string(value));
        }
        text = nl ? nl + 1 : end;
    }
    return o;
}

static const struct {
    bpm_webhook_kind kind;
    const char *headers;
    const char *body;
    int status;          /* 0 = read */
    const char *expect;  /* a substring of err.msg, or for status 0 "id|source|type|subject" */
} cases[] = {
    /* CloudEvents, binary mode */
    {BPM_WEBHOOK_CLOUDEVENTS,
     "ce-specversion: 1.0\nce-id: A234-1234-1234\nce-source: https://github.com/cloudevents/spec/pull\n"
     "ce-type: com.github.pull_request.opened\nce-subject: 123\nContent-Type: application/json",
     "{\"x\": 1}", 0, "A234-1234-1234|https://github.com/cloudevents/spec/pull|com.github.pull_request.opened|123"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-id: 1\nce-source: /s\nce-type: t", "", 0, "1|/s|t|"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-id: 1\nce-source: /s\nce-type: t\nContent-Type: text/plain",
     "hello", 0, "1|/s|t|"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-id: a%20b%C3%A9\nce-source: /s\nce-type: t", "", 0,
     "a b\xc3\xa9|/s|t|"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-source: /s\nce-type: t", "", 400,
     "lacks the required attribute \"id\" (header ce-id)"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-id: 1\nce-type: t", "", 400, "\"source\" (header ce-source)"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-id: 1\nce-source: /s", "", 400, "\"type\" (header ce-type)"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-id: 1\nce-source: /s\nce-type: t", "", 400, "\"specversion\""},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 0.3\nce-id: 1\nce-source: /s\nce-type: t", "", 400,
     "\"specversion\" is \"0.3\"; only 1.0"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-id: \nce-source: /s\nce-type: t", "", 400, "\"id\""},
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/json", "{}", 400, "not a CloudEvent"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-id: 1\nce-source: /s\nce-type: t\nContent-Type: application/json",
     "{\"a\": ", 400, "the CloudEvent's data is not valid JSON"},
    {BPM_WEBHOOK_CLOUDEVENTS,
     "ce-specversion: 1.0\nce-id: 1\nce-source: /s\nce-type: t\nContent-Type: application/octet-stream", "\x01\x02",
     415, "datacontenttype application/octet-stream is not supported"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-id: %zz\nce-source: /s\nce-type: t", "", 400,
     "ce-id\" is not percent-encoded UTF-8"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-id: %ff\nce-source: /s\nce-type: t", "", 400,
     "not percent-encoded UTF-8"},
    {BPM_WEBHOOK_CLOUDEVENTS, "ce-specversion: 1.0\nce-id: 1\nce-source: /s\nce-type: t\nce-Bad_Name: x", "", 400,
     "does not name a CloudEvents attribute"},
    /* structured mode */
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/cloudevents+json; charset=UTF-8",
     "{\"specversion\": \"1.0\", \"id\": \"e1\", \"source\": \"/shop\", \"type\": \"order.placed\", \"subject\": \"o-1\","
     " \"correlationkey\": \"k\", \"data\": {\"orderId\": \"o-1\"}}",
     0, "e1|/shop|order.placed|o-1"},
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/cloudevents+json",
     "{\"specversion\": \"1.0\", \"id\": \"e1\", \"type\": \"t\"}", 400, "(structured mode) lacks the required attribute \"source\""},
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/cloudevents+json",
     "{\"specversion\": \"1.0\", \"id\": 5, \"source\": \"/s\", \"type\": \"t\"}", 400, "\"id\""},
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/cloudevents+json", "[1]", 400, "must be a JSON object"},
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/cloudevents+json", "{\"specversion\": ", 400,
     "the CloudEvent is not valid JSON"},
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/cloudevents+json",
     "{\"specversion\": \"1.0\", \"id\": \"1\", \"source\": \"/s\", \"type\": \"t\", \"Bad\": 1}", 400,
     "attribute name \"Bad\""},
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/cloudevents+json",
     "{\"specversion\": \"1.0\", \"id\": \"1\", \"source\": \"/s\", \"type\": \"t\", \"data_base64\": \"AQI=\"}", 415,
     "data_base64"},
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/cloudevents+json",
     "{\"specversion\": \"1.0\", \"id\": \"1\", \"source\": \"/s\", \"type\": \"t\", \"subject\": {}}", 400,
     "\"subject\" is not a scalar"},
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/cloudevents+xml", "<e/>", 415, "JSON only"},
    {BPM_WEBHOOK_CLOUDEVENTS, "Content-Type: application/cloudevents-batch+json", "[]", 415, "batch mode"},
    /* GitHub */
    {BPM_WEBHOOK_GITHUB, "X-GitHub-Event: push\nX-GitHub-Delivery: d-1\nContent-Type: application/json", "{}", 0,
     "d-1|webhook/hook|push|"},
    {BPM_WEBHOOK_GITHUB, "X-GitHub-Event: push\nContent-Type: application/json", "{}", 0, "|webhook/hook|push|"},
    {BPM_WEBHOOK_GITHUB, "X-GitHub-Delivery: d-1\nContent-Type: application/json", "{}", 400,
     "X-GitHub-Event header is missing"},
    {BPM_WEBHOOK_GITHUB, "X-GitHub-Event: push\nContent-Type: application/x-www-form-urlencoded", "payload=%7B%7D",
     415, "set the webhook's content type to application/json"},
    {BPM_WEBHOOK_GITHUB, "X-GitHub-Event: push\nContent-Type: application/json", "{\"a\": [1, 2}", 400,
     "the body is not valid JSON"},
    {BPM_WEBHOOK_GITHUB, "X-GitHub-Event: push\nContent-Type: application/json", "", 400, "the body is empty"},
    {BPM_WEBHOOK_GITHUB, "X-GitHub-Event: push\nContent-Type: application/json", "{\"a\": 1, \"a\": 2}", 400,
     "duplicate"},
    /* JSON */
    {BPM_WEBHOOK_JSON, "Idempotency-Key: k-9\nX-Event-Type: signup\nContent-Type: application/json", "{\"a\": 1}", 0,
     "k-9|webhook/hook|signup|"},
    {BPM_WEBHOOK_JSON, "Content-Type: application/vnd.api+json", "[]", 0, "|webhook/hook||"},
    {BPM_WEBHOOK_JSON, "Content-Type: text/html", "<p>", 415, "must be JSON"},
};

static void test_read(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *h = headers_of(cases[i].headers);
        bpm_webhook_endpoint ep = {.name = "hook", .kind = cases[i].kind};
        bpm_arena *a = bpm_arena_new();
        size_t len = strlen(cases[i].body);
        char *body = malloc(len ? len : 1); /* exact size: ASan sees an over-read */
        memcpy(body, cases[i].body, len);
        bpm_webhook_request wr;
        bpm_err err = {0};
        int st = bpm_webhook_read(&ep, h, body, len, a, &wr, &err);
        if (st != cases[i].status || (st && !strstr(err.msg, cases[i].expect)))
            fail_msg("case %zu: status %d (expected %d): %s", i, st, cases[i].status, err.msg);
        if (!st) {
            char got[600];
            snprintf(got, sizeof got, "%s|%s|%s|%s", wr.ev.id ? wr.ev.id : "", wr.ev.source ? wr.ev.source : "",
                     wr.ev.type ? wr.ev.type : "", wr.ev.subject ? wr.ev.subject : "");
            if (strcmp(got, cases[i].expect) != 0)
                fail_msg("case %zu: read %s, expected %s", i, got, cases[i].expect);
        }
        free(body);
        bpm_arena_free(a);
        json_decref(h);
    }
}

/* The default CloudEvents mapping: type -> message, subject (else the
 * correlationkey extension) -> key, an object data -> variables. */
static void test_default_mapping(void **state)
{
    (void)state;
    bpm_webhook_endpoint ep = {.name = "events", .kind = BPM_WEBHOOK_CLOUDEVENTS};
    json_t *h = headers_of("ce-specversion: 1.0\nce-id: 7\nce-source: /pay\nce-type: order.paid\n"
                           "ce-correlationkey: o-9\nce-businesskey: B-1\nContent-Type: application/json");
    bpm_arena *a = bpm_arena_new();
    bpm_webhook_request wr;
    bpm_err err = {0};
    assert_int_equal(bpm_webhook_read(&ep, h, "{\"amount\": 5}", 13, a, &wr, &err), 0);
    bpm_inbound_action act;
    assert_int_equal(bpm_webhook_default(&ep, &wr.ev, a, &act, &err), BPM_OK);
    assert_int_equal(act.kind, BPM_INBOUND_CORRELATE);
    assert_string_equal(act.message, "order.paid");
    assert_string_equal(act.correlation_key, "o-9");
    assert_string_equal(act.business_key, "B-1");
    assert_int_equal(json_integer_value(json_object_get(act.variables, "amount")), 5);
    json_decref(h);
    /* the subject wins over the extension; a non-object data gives no variables */
    h = headers_of("ce-specversion: 1.0\nce-id: 7\nce-source: /pay\nce-type: order.paid\nce-subject: o-1\n"
                   "ce-correlationkey: o-9\nContent-Type: application/json");
    assert_int_equal(bpm_webhook_read(&ep, h, "[1]", 3, a, &wr, &err), 0);
    assert_int_equal(bpm_webhook_default(&ep, &wr.ev, a, &act, &err), BPM_OK);
    assert_string_equal(act.correlation_key, "o-1");
    assert_null(act.variables);
    /* an endpoint with a process starts it */
    ep.process = "shipment";
    assert_int_equal(bpm_webhook_default(&ep, &wr.ev, a, &act, &err), BPM_OK);
    assert_int_equal(act.kind, BPM_INBOUND_START);
    assert_string_equal(act.process, "shipment");
    json_decref(h);
    bpm_arena_free(a);
}

/* GitHub's documented example (docs "Validating webhook deliveries"). */
static void test_hmac(void **state)
{
    (void)state;
    const char *secret = "It's a Secret to Everybody", *body = "Hello, World!";
    const char *good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    size_t sl = strlen(secret), bl = strlen(body);
    assert_true(bpm_inbound_hmac_check(secret, sl, body, bl, good));
    assert_true(bpm_inbound_hmac_check(secret, sl, body, bl,
                                       "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"));
    static const char *const bad[] = {
        NULL,
        "",
        "sha256=",
        "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",   /* short */
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e177", /* long */
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",  /* last digit */
        "sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",  /* first digit */
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043eg7",  /* not hex */
        " sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (bpm_inbound_hmac_check(secret, sl, body, bl, bad[i]))
            fail_msg("bad signature %zu accepted", i);
    assert_false(bpm_inbound_hmac_check("another secret", 14, body, bl, good));
    assert_false(bpm_inbound_hmac_check(secret, sl, "Hello, World?", bl, good));
    assert_false(bpm_inbound_hmac_check(NULL, 0, body, bl, good)); /* no secret never verifies */
}

/* Mapping results to actions. */
static const struct {
    const char *json; /* NULL = no value */
    bpm_rc rc;
    bpm_inbound_kind kind;
    const char *expect; /* err.msg substring, or the action's name/key */
} actions[] = {
    {NULL, BPM_OK, BPM_INBOUND_UNROUTED, ""},
    {"null", BPM_OK, BPM_INBOUND_UNROUTED, ""},
    {"{\"start\": \"order\", \"businessKey\": \"B\"}", BPM_OK, BPM_INBOUND_START, "order"},
    {"{\"message\": \"paid\", \"correlationKey\": 42, \"all\": true}", BPM_OK, BPM_INBOUND_CORRELATE, "paid"},
    {"{\"ignore\": true}", BPM_OK, BPM_INBOUND_IGNORE, ""},
    {"{\"start\": \"a\", \"message\": \"b\"}", BPM_INVALID, 0, "more than one of start, message and ignore"},
    {"{\"businessKey\": \"b\"}", BPM_INVALID, 0, "returned none of start, message and ignore"},
    {"{\"strat\": \"a\"}", BPM_INVALID, 0, "unknown field \"strat\""},
    {"{\"start\": {}}", BPM_INVALID, 0, "\"start\" as a table"},
    {"{\"start\": \"\"}", BPM_INVALID, 0, "an empty \"start\""},
    {"{\"start\": \"a\", \"variables\": 5}", BPM_INVALID, 0, "\"variables\" that is not a table"},
    {"{\"start\": \"a\", \"variables\": [1]}", BPM_INVALID, 0, "\"variables\" that is not a table"},
    {"{\"start\": \"a\", \"variables\": []}", BPM_OK, BPM_INBOUND_START, "a"},
    {"{\"message\": \"a\", \"all\": 1}", BPM_INVALID, 0, "\"all\" that is not a boolean"},
    {"{\"start\": \"a\", \"correlationKey\": \"k\"}", BPM_INVALID, 0, "correlationKey or all with start"},
    {"\"order\"", BPM_INVALID, 0, "returned a string"},
    {"[1]", BPM_INVALID, 0, "returned a list"},
};

static void test_actions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        json_t *v = actions[i].json ? json_loads(actions[i].json, JSON_DECODE_ANY, NULL) : NULL;
        bpm_arena *a = bpm_arena_new();
        bpm_inbound_action act;
        bpm_err err = {0};
        bpm_rc rc = bpm_inbound_action_read(v, "m.lua", a, &act, &err);
        if (rc != actions[i].rc)
            fail_msg("action %zu: rc %d (expected %d): %s", i, rc, actions[i].rc, err.msg);
        if (rc && (!strstr(err.msg, actions[i].expect) || !strstr(err.msg, "mapping \"m.lua\"")))
            fail_msg("action %zu: %s", i, err.msg);
        if (!rc) {
            assert_int_equal(act.kind, actions[i].kind);
            const char *name = act.process ? act.process : act.message ? act.message : "";
            assert_string_equal(name, actions[i].expect);
        }
        json_decref(v);
        bpm_arena_free(a);
    }
}

/* Lua mappings in the sandbox: the event is readable, errors name the
 * mapping and the line, variables cannot be set, budgets hold. */
static void test_mapping(void **state)
{
    (void)state;
    bpm_err err = {0};
    bpm_scripts *s = bpm_scripts_new(NULL, &err);
    assert_non_null(s);
    bpm_arena *a = bpm_arena_new();
    json_t *body = json_pack("{s:s, s:[i,i]}", "ref", "refs/heads/main", "commits", 1, 2);
    json_t *h = headers_of("x-github-event: push");
    bpm_inbound_event ev = {.endpoint = "gh", .source = "webhook/gh", .id = "d-1", .type = "push", .headers = h,
                            .body = body};
    bpm_inbound_mapping *m = NULL;
    const char *good = "if event.type ~= 'push' then return nil end\n"
                       "return {start = 'build', businessKey = event.id,\n"
                       "  variables = {branch = (string.gsub(event.body.ref, '^refs/heads/', '')),\n"
                       "               n = #event.body.commits, hdr = event.headers['x-github-event']}}\n";
    assert_int_equal(bpm_inbound_mapping_compile(s, "gh.lua", good, strlen(good), a, &m, &err), BPM_OK);
    bpm_inbound_action act;
    assert_int_equal(bpm_inbound_map(s, m, &ev, 0, a, &act, &err), BPM_OK);
    assert_int_equal(act.kind, BPM_INBOUND_START);
    assert_string_equal(act.process, "build");
    assert_string_equal(act.business_key, "d-1");
    assert_string_equal(json_string_value(json_object_get(act.variables, "branch")), "main");
    assert_int_equal(json_integer_value(json_object_get(act.variables, "n")), 2);
    assert_string_equal(json_string_value(json_object_get(act.variables, "hdr")), "push");
    ev.type = "issues";
    assert_int_equal(bpm_inbound_map(s, m, &ev, 0, a, &act, &err), BPM_OK);
    assert_int_equal(act.kind, BPM_INBOUND_UNROUTED);

    const char *syntax = "local x = 1\nreturn {start = }\n";
    assert_int_equal(bpm_inbound_mapping_compile(s, "bad.lua", syntax, strlen(syntax), a, &m, &err), BPM_INVALID);
    assert_non_null(strstr(err.msg, "mapping \"bad.lua\""));
    assert_non_null(strstr(err.msg, "line 2"));

    static const struct {
        const char *text, *expect;
    } failing[] = {
        {"local t = nil\nreturn {start = t.x}", "mapping \"f.lua\" failed: attempt to index a nil value"},
        {"\n\nerror('no way')", "(line 3)"},
        {"vars.x = 1", "cannot set variables"},
        {"while true do end", "instruction budget"},
        {"return {start = 'a', extra = 1}", "unknown field \"extra\""},
        {"bpmn.error('unsupported', 'not for us')", "mapping \"f.lua\" refused the event: unsupported: not for us"},
        {"return io.open('/etc/passwd')", "mapping \"f.lua\" failed"},
        {"return os.execute('true')", "mapping \"f.lua\" failed"},
    };
    for (size_t i = 0; i < sizeof failing / sizeof failing[0]; i++) {
        bpm_inbound_mapping *f = NULL;
        assert_int_equal(bpm_inbound_mapping_compile(s, "f.lua", failing[i].text, strlen(failing[i].text), a, &f, &err),
                         BPM_OK);
        bpm_err_clear(&err);
        if (bpm_inbound_map(s, f, &ev, 0, a, &act, &err) == BPM_OK || !strstr(err.msg, failing[i].expect))
            fail_msg("failing mapping %zu: %s", i, err.msg);
    }
    json_decref(body);
    json_decref(h);
    bpm_arena_free(a);
    bpm_scripts_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),    cmocka_unit_test(test_default_mapping), cmocka_unit_test(test_hmac),
        cmocka_unit_test(test_actions), cmocka_unit_test(test_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
