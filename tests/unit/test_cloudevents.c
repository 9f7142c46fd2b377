/* adapters/http/cloudevents: connector inputs to the CloudEvents 1.0 HTTP
 * request, binary and structured, and the inputs it refuses. One table:
 * inputs (JSON) -> the request {url, headers, body} (JSON, body compared as
 * JSON when it is JSON) or part of the refusal's message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloudevents.h"

typedef struct ccase {
    const char *inputs;
    const char *headers;  /* expected headers exactly; NULL: refused */
    const char *body;     /* expected body: JSON compared as JSON, else text; NULL: none */
    const char *msg_part; /* refused: part of the message */
} ccase;

static const bpm_cloudevents_context CTX = {"job-1", "2026-11-27T15:00:00.000Z", "offboarding"};

static const ccase CASES[] = {
    /* binary (the default): every attribute a ce- header, the data the body */
    {"{\"url\": \"http://h/e\", \"type\": \"com.example.done\", \"data\": {\"a\": 1}}",
     "{\"ce-specversion\": \"1.0\", \"ce-id\": \"job-1\", \"ce-source\": \"bpmnd:/offboarding\","
     " \"ce-type\": \"com.example.done\", \"ce-time\": \"2026-11-27T15:00:00.000Z\","
     " \"Content-Type\": \"application/json\"}",
     "{\"a\": 1}", NULL},
    /* every optional attribute, extensions, extra headers; values percent-encoded */
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"source\": \"urn:src\", \"subject\": \"caf\\u00e9 \\\"1\\\" 100%\","
     " \"mode\": \"BINARY\", \"dataschema\": \"https://s/1\", \"extensions\": {\"tenant\": \"acme\", \"seq\": 7,"
     " \"urgent\": true, \"gone\": null}, \"headers\": {\"X-Trace\": \"abc\"}, \"data\": \"plain\"}",
     "{\"ce-specversion\": \"1.0\", \"ce-id\": \"job-1\", \"ce-source\": \"urn:src\", \"ce-type\": \"t\","
     " \"ce-subject\": \"caf%C3%A9%20%221%22%20100%25\", \"ce-time\": \"2026-11-27T15:00:00.000Z\","
     " \"ce-dataschema\": \"https://s/1\", \"ce-tenant\": \"acme\", \"ce-seq\": \"7\", \"ce-urgent\": \"true\","
     " \"X-Trace\": \"abc\", \"Content-Type\": \"text/plain; charset=utf-8\"}",
     "plain", NULL},
    /* a JSON content type with JSON text: sent as that JSON; an id of its own */
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"id\": \"evt-9\", \"datacontenttype\": \"application/vnd.x+json\","
     " \"data\": \"[1, 2]\"}",
     "{\"ce-specversion\": \"1.0\", \"ce-id\": \"evt-9\", \"ce-source\": \"bpmnd:/offboarding\", \"ce-type\": \"t\","
     " \"ce-time\": \"2026-11-27T15:00:00.000Z\", \"Content-Type\": \"application/vnd.x+json\"}",
     "[1, 2]", NULL},
    /* a whole number as a double (from a script) is an integer attribute */
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"extensions\": {\"seq\": 3.0}}",
     "{\"ce-specversion\": \"1.0\", \"ce-id\": \"job-1\", \"ce-source\": \"bpmnd:/offboarding\", \"ce-type\": \"t\","
     " \"ce-time\": \"2026-11-27T15:00:00.000Z\", \"ce-seq\": \"3\"}",
     NULL, NULL},
    /* no data: no body, no Content-Type */
    {"{\"url\": \"http://h/e\", \"type\": \"t\"}",
     "{\"ce-specversion\": \"1.0\", \"ce-id\": \"job-1\", \"ce-source\": \"bpmnd:/offboarding\", \"ce-type\": \"t\","
     " \"ce-time\": \"2026-11-27T15:00:00.000Z\"}",
     NULL, NULL},
    /* structured: the event is the body */
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"mode\": \"structured\", \"subject\": \"e-1\","
     " \"extensions\": {\"tenant\": \"acme\", \"seq\": 7}, \"data\": {\"a\": [1, \"x\"]}}",
     "{\"Content-Type\": \"application/cloudevents+json; charset=utf-8\"}",
     "{\"specversion\": \"1.0\", \"id\": \"job-1\", \"source\": \"bpmnd:/offboarding\", \"type\": \"t\","
     " \"subject\": \"e-1\", \"time\": \"2026-11-27T15:00:00.000Z\", \"datacontenttype\": \"application/json\","
     " \"tenant\": \"acme\", \"seq\": 7, \"data\": {\"a\": [1, \"x\"]}}",
     NULL},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"mode\": \"structured\", \"data\": \"words\"}",
     "{\"Content-Type\": \"application/cloudevents+json; charset=utf-8\"}",
     "{\"specversion\": \"1.0\", \"id\": \"job-1\", \"source\": \"bpmnd:/offboarding\", \"type\": \"t\","
     " \"time\": \"2026-11-27T15:00:00.000Z\", \"datacontenttype\": \"text/plain; charset=utf-8\","
     " \"data\": \"words\"}",
     NULL},
    /* refusals */
    {"{\"type\": \"t\"}", NULL, NULL, "no \"url\" input"},
    {"{\"url\": \"http://h/e\"}", NULL, NULL, "no \"type\" input"},
    {"{\"url\": \"http://h/e\", \"type\": \"\"}", NULL, NULL, "no \"type\" input"},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"subject\": 5}", NULL, NULL, "\"subject\" input is not text"},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"mode\": \"batch\"}", NULL, NULL, "use \"binary\" or \"structured\""},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"extensions\": {\"Tenant\": \"x\"}}", NULL, NULL,
     "\"Tenant\" is not a CloudEvents name"},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"extensions\": {\"subject\": \"x\"}}", NULL, NULL,
     "\"subject\" is a CloudEvents attribute"},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"extensions\": {\"deep\": {\"a\": 1}}}", NULL, NULL,
     "\"deep\" is not a string, an integer or a boolean"},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"extensions\": [1]}", NULL, NULL, "\"extensions\" input is not a map"},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"extensions\": {\"big\": 1e300}}", NULL, NULL,
     "\"big\" is not a string, an integer or a boolean"},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"extensions\": {\"half\": 2.5}}", NULL, NULL,
     "\"half\" is not a string, an integer or a boolean"},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"headers\": {\"ce-id\": \"x\"}}", NULL, NULL,
     "header \"ce-id\" is the event's own"},
    {"{\"url\": \"http://h/e\", \"type\": \"t\", \"datacontenttype\": \"text/csv\", \"data\": {\"a\": 1}}", NULL, NULL,
     "\"data\" is not text"},
};

static void test_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const ccase *c = &CASES[i];
        json_t *in = json_loads(c->inputs, 0, NULL);
        assert_non_null(in);
        json_t *out = NULL;
        bpm_err err = {0};
        bpm_rc rc = bpm_cloudevents_request(in, &CTX, &out, &err);
        if (!c->headers) {
            if (rc != BPM_BAD_REQUEST || !strstr(err.msg, c->msg_part))
                fail_msg("case %zu: expected a refusal with \"%s\", got rc %d \"%s\"", i, c->msg_part, rc, err.msg);
            assert_null(out);
            json_decref(in);
            continue;
        }
        if (rc != BPM_OK)
            fail_msg("case %zu: refused: %s", i, err.msg);
        assert_string_equal(json_string_value(json_object_get(out, "url")), "http://h/e");
        json_t *want = json_loads(c->headers, 0, NULL);
        assert_non_null(want);
        if (!json_equal(want, json_object_get(out, "headers"))) {
            char *got = json_dumps(json_object_get(out, "headers"), JSON_SORT_KEYS);
            fail_msg("case %zu: headers %s", i, got);
        }
        json_decref(want);
        const char *body = json_string_value(json_object_get(out, "body"));
        if (!c->body) {
            assert_null(body);
        } else {
            assert_non_null(body);
            json_t *wb = json_loads(c->body, JSON_DECODE_ANY, NULL), *gb = json_loads(body, JSON_DECODE_ANY, NULL);
            if (wb ? !json_equal(wb, gb) : strcmp(body, c->body) != 0)
                fail_msg("case %zu: body %s", i, body);
            json_decref(wb);
            json_decref(gb);
        }
        json_decref(out);
        json_decref(in);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
