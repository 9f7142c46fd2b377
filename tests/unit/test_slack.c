/* adapters/http/slack: connector inputs to the webhook's JSON body, the
 * inputs refused (never naming the webhook URL's value), and what Slack's
 * answers mean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slack.h"

typedef struct scase {
    const char *inputs;
    const char *body;     /* expected body (JSON); NULL: refused */
    const char *msg_part; /* refused: part of the message */
} scase;

static const scase CASES[] = {
    {"{\"webhookUrl\": \"{{secrets.SLACK_WEBHOOK_URL}}\", \"text\": \"hello\"}", "{\"text\": \"hello\"}", NULL},
    /* blocks as a Lua script's json.encode gives them, the other fields renamed as Slack names them */
    {"{\"webhookUrl\": \"{{secrets.SLACK_WEBHOOK_URL}}\", \"text\": \"fallback\","
     " \"blocks\": \"[{\\\"type\\\": \\\"section\\\", \\\"text\\\": {\\\"type\\\": \\\"mrkdwn\\\", \\\"text\\\": \\\"*hi*\\\"}}]\","
     " \"username\": \"bpmnd\", \"iconEmoji\": \":robot_face:\", \"channel\": \"#ops\", \"threadTs\": \"1.2\","
     " \"unfurlLinks\": false, \"mrkdwn\": \"true\"}",
     "{\"text\": \"fallback\", \"blocks\": [{\"type\": \"section\", \"text\": {\"type\": \"mrkdwn\", \"text\": \"*hi*\"}}],"
     " \"username\": \"bpmnd\", \"icon_emoji\": \":robot_face:\", \"channel\": \"#ops\", \"thread_ts\": \"1.2\","
     " \"unfurl_links\": false, \"mrkdwn\": true}",
     NULL},
    /* Block Kit Builder's {"blocks": [...]}; no text needed with blocks; url as the other name */
    {"{\"url\": \"https://hooks.example/T/B/X\", \"blocks\": {\"blocks\": [{\"type\": \"divider\"}]}, \"text\": null}",
     "{\"blocks\": [{\"type\": \"divider\"}]}", NULL},
    {"{\"webhookUrl\": \"{{secrets.S}}\", \"text\": 42}", "{\"text\": \"42\"}", NULL},
    {"{\"text\": \"hello\"}", NULL, "no \"webhookUrl\" input"},
    {"{\"webhookUrl\": \"https://hooks.example/T/B/SECRET\"}", NULL, "no \"text\" and no \"blocks\""},
    {"{\"webhookUrl\": \"https://hooks.example/T/B/SECRET\", \"text\": \"x\", \"blocks\": \"not json\"}", NULL,
     "\"blocks\" input is not a list"},
    {"{\"webhookUrl\": \"https://hooks.example/T/B/SECRET\", \"blocks\": []}", NULL, "no \"text\" and no \"blocks\""},
    {"{\"webhookUrl\": \"https://hooks.example/T/B/SECRET\", \"text\": {\"a\": 1}}", NULL, "\"text\" input is not text"},
    {"{\"webhookUrl\": \"https://hooks.example/T/B/SECRET\", \"text\": \"x\", \"unfurlMedia\": \"maybe\"}", NULL,
     "\"unfurlMedia\" input is not true or false"},
};

static void test_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const scase *c = &CASES[i];
        json_t *in = json_loads(c->inputs, 0, NULL);
        assert_non_null(in);
        json_t *out = NULL;
        bpm_err err = {0};
        bpm_rc rc = bpm_slack_request(in, &out, &err);
        if (!c->body) {
            if (rc != BPM_BAD_REQUEST || !strstr(err.msg, c->msg_part))
                fail_msg("case %zu: expected a refusal with \"%s\", got rc %d \"%s\"", i, c->msg_part, rc, err.msg);
            assert_null(strstr(err.msg, "SECRET"));
            assert_null(out);
            json_decref(in);
            continue;
        }
        if (rc != BPM_OK)
            fail_msg("case %zu: refused: %s", i, err.msg);
        const json_t *url = json_object_get(in, "webhookUrl") ? json_object_get(in, "webhookUrl")
                                                               : json_object_get(in, "url");
        assert_string_equal(json_string_value(json_object_get(out, "url")), json_string_value(url));
        assert_string_equal(json_string_value(json_object_get(json_object_get(out, "headers"), "Content-Type")),
                            "application/json; charset=utf-8");
        json_t *want = json_loads(c->body, 0, NULL);
        json_t *got = json_loads(json_string_value(json_object_get(out, "body")), 0, NULL);
        assert_non_null(want);
        if (!json_equal(want, got))
            fail_msg("case %zu: body %s", i, json_string_value(json_object_get(out, "body")));
        json_decref(want);
        json_decref(got);
        json_decref(out);
        json_decref(in);
    }
}

typedef struct vcase {
    long status;
    const char *body;
    bpm_slack_verdict verdict;
    const char *code;
} vcase;

static const vcase VCASES[] = {
    {200, "ok", BPM_SLACK_SENT, ""},
    {204, "", BPM_SLACK_SENT, ""},
    {400, "invalid_payload", BPM_SLACK_REFUSED, "invalid_payload"},
    {403, "action_prohibited\n", BPM_SLACK_REFUSED, "action_prohibited"},
    {404, "channel_not_found", BPM_SLACK_REFUSED, "channel_not_found"},
    {410, "channel_is_archived", BPM_SLACK_REFUSED, "channel_is_archived"},
    {404, "<html>Not Found</html>", BPM_SLACK_REFUSED, "404"},
    {302, "", BPM_SLACK_REFUSED, "302"},
    {429, "rate_limited", BPM_SLACK_RETRY, "rate_limited"},
    {500, "rollup_error", BPM_SLACK_RETRY, "rollup_error"},
    {503, "", BPM_SLACK_RETRY, "503"},
};

static void test_verdicts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof VCASES / sizeof VCASES[0]; i++) {
        const vcase *c = &VCASES[i];
        char code[64];
        assert_int_equal(bpm_slack_verdict_of(c->status, c->body, strlen(c->body), code, sizeof code), c->verdict);
        assert_string_equal(code, c->code);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
