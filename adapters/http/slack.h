/* Slack incoming webhooks: the JSON body a slack-webhook connector posts,
 * and what Slack's answer means (200 "ok"; 4xx with an error text such as
 * channel_not_found; 429 and 5xx worth retrying). Pure: no I/O.
 * Entry points: bpm_slack_request, bpm_slack_verdict_of. */
#ifndef BPM_SLACK_H
#define BPM_SLACK_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

/* Builds the request for inputs {webhookUrl (or url), text, blocks,
 * attachments, username, iconEmoji, iconUrl, channel, threadTs, mrkdwn,
 * unfurlLinks, unfurlMedia} as the object {"url", "headers": {name: value},
 * "body"}, new in *out (the caller decrefs). blocks may be a list, a
 * Block Kit Builder object {"blocks": [...]} or either one as JSON text (as
 * a Lua script's json.encode returns it). BPM_BAD_REQUEST naming the input,
 * never the webhook URL's value, when the URL is missing or an input is
 * malformed, or there is neither text nor blocks; *out is then untouched. */
bpm_rc bpm_slack_request(const json_t *inputs, json_t **out, bpm_err *err);

typedef enum bpm_slack_verdict {
    BPM_SLACK_SENT,    /* 2xx: posted */
    BPM_SLACK_REFUSED, /* 3xx, 4xx but 429: Slack will refuse it again (invalid_payload, channel_not_found...) */
    BPM_SLACK_RETRY,   /* 429 or 5xx: worth another attempt, after Retry-After when given */
} bpm_slack_verdict;

/* What Slack's answer (status, body[0..len)) means. code (n bytes, n > 0)
 * receives Slack's error text when the body is one (a word of letters,
 * digits and '_', as Slack writes them), else the status as text; "" for
 * BPM_SLACK_SENT. */
bpm_slack_verdict bpm_slack_verdict_of(long status, const char *body, size_t len, char *code, size_t n);

#endif
