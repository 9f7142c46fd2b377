/* Slack incoming-webhook messages: inputs to a JSON body, answers to a
 * verdict. The webhook URL is a credential: no message here repeats it. */
#include "slack.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Text from a scalar (numbers and booleans printed), new; NULL otherwise. */
static json_t *text_value(const json_t *v)
{
    if (json_is_string(v))
        return json_incref((json_t *)v);
    if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        json_t *t = json_string(s ? s : "");
        free(s);
        return t;
    }
    return NULL;
}

/* The blocks as a list, new, or NULL when v is not one of the accepted
 * shapes (a list, {"blocks": list}, or either as JSON text). */
static json_t *blocks_value(const json_t *v)
{
    json_t *parsed = NULL;
    if (json_is_string(v)) {
        parsed = json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, NULL);
        v = parsed;
    }
    json_t *list = NULL;
    if (json_is_array(v))
        list = json_incref((json_t *)v);
    else if (json_is_object(v) && json_is_array(json_object_get(v, "blocks")))
        list = json_incref(json_object_get(v, "blocks"));
    json_decref(parsed);
    return list;
}

/* input name -> Slack's field name, for the scalars passed on as text */
static const char *const TEXT_FIELDS[][2] = {
    {"username", "username"}, {"iconEmoji", "icon_emoji"}, {"iconUrl", "icon_url"},
    {"channel", "channel"},   {"threadTs", "thread_ts"},
};
static const char *const FLAG_FIELDS[][2] = {
    {"mrkdwn", "mrkdwn"}, {"unfurlLinks", "unfurl_links"}, {"unfurlMedia", "unfurl_media"}};

bpm_rc bpm_slack_request(const json_t *inputs, json_t **out, bpm_err *err)
{
    const json_t *url = json_object_get(inputs, "webhookUrl");
    if (!url || json_is_null(url))
        url = json_object_get(inputs, "url");
    if (!json_is_string(url) || !json_string_length(url))
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "the Slack connector has no \"webhookUrl\" input: set it to {{secrets.SLACK_WEBHOOK_URL}}");
    json_t *body = json_object();
    bpm_rc rc = BPM_OK;
    const json_t *tv = json_object_get(inputs, "text");
    if (tv && !json_is_null(tv)) {
        json_t *t = text_value(tv);
        if (!t) {
            rc = bpm_err_set(err, BPM_BAD_REQUEST, "the Slack connector's \"text\" input is not text");
            goto fail;
        }
        json_object_set_new(body, "text", t);
    }
    const json_t *bv = json_object_get(inputs, "blocks");
    if (bv && !json_is_null(bv)) {
        json_t *list = blocks_value(bv);
        if (!list) {
            rc = bpm_err_set(err, BPM_BAD_REQUEST,
                             "the Slack connector's \"blocks\" input is not a list of Block Kit blocks (or "
                             "{\"blocks\": [...]}, or either as JSON text)");
            goto fail;
        }
        if (json_array_size(list))
            json_object_set_new(body, "blocks", list);
        else
            json_decref(list);
    }
    const json_t *av = json_object_get(inputs, "attachments");
    if (av && !json_is_null(av)) {
        json_t *list = blocks_value(av);
        if (!list) {
            rc = bpm_err_set(err, BPM_BAD_REQUEST, "the Slack connector's \"attachments\" input is not a list");
            goto fail;
        }
        json_object_set_new(body, "attachments", list);
    }
    if (!json_object_get(body, "text") && !json_object_get(body, "blocks") && !json_object_get(body, "attachments")) {
        rc = bpm_err_set(err, BPM_BAD_REQUEST, "the Slack message has no \"text\" and no \"blocks\"");
        goto fail;
    }
    for (size_t i = 0; i < sizeof TEXT_FIELDS / sizeof TEXT_FIELDS[0]; i++) {
        const json_t *v = json_object_get(inputs, TEXT_FIELDS[i][0]);
        if (!v || json_is_null(v))
            continue;
        json_t *t = text_value(v);
        if (!t) {
            rc = bpm_err_set(err, BPM_BAD_REQUEST, "the Slack connector's \"%s\" input is not text", TEXT_FIELDS[i][0]);
            goto fail;
        }
        json_object_set_new(body, TEXT_FIELDS[i][1], t);
    }
    for (size_t i = 0; i < sizeof FLAG_FIELDS / sizeof FLAG_FIELDS[0]; i++) {
        const json_t *v = json_object_get(inputs, FLAG_FIELDS[i][0]);
        if (!v || json_is_null(v))
            continue;
        bool on;
        if (json_is_boolean(v))
            on = json_is_true(v);
        else if (json_is_string(v) && (strcmp(json_string_value(v), "true") == 0 ||
                                       strcmp(json_string_value(v), "false") == 0))
            on = strcmp(json_string_value(v), "true") == 0;
        else {
            rc = bpm_err_set(err, BPM_BAD_REQUEST, "the Slack connector's \"%s\" input is not true or false",
                             FLAG_FIELDS[i][0]);
            goto fail;
        }
        json_object_set_new(body, FLAG_FIELDS[i][1], json_boolean(on));
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    *out = json_pack("{s:O, s:{s:s}, s:s}", "url", url, "headers", "Content-Type", "application/json; charset=utf-8",
                     "body", text ? text : "{}");
    free(text);
    return BPM_OK;
fail:
    json_decref(body);
    return rc;
}

bpm_slack_verdict bpm_slack_verdict_of(long status, const char *body, size_t len, char *code, size_t n)
{
    code[0] = '\0';
    if (status >= 200 && status < 300)
        return BPM_SLACK_SENT;
    /* Slack answers a refused message with its error as the whole body
     * ("channel_not_found"); anything else (an HTML page from a proxy) is
     * not repeated */
    size_t b = 0, e = len;
    while (b < e && isspace((unsigned char)body[b]))
        b++;
    while (e > b && isspace((unsigned char)body[e - 1]))
        e--;
    bool word = e > b && e - b < 100;
    for (size_t i = b; word && i < e; i++)
        word = isalnum((unsigned char)body[i]) || body[i] == '_';
    if (word)
        snprintf(code, n, "%.*s", (int)(e - b), body + b);
    else
        snprintf(code, n, "%ld", status);
    return status == 429 || status >= 500 ? BPM_SLACK_RETRY : BPM_SLACK_REFUSED;
}
