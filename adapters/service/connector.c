/* Connector jobs: the job's payload becomes an HTTP request (bpm_httpc; the
 * Slack and CloudEvents bodies from bpm_slack and bpm_cloudevents), the
 * response or failure becomes a COMPLETE command for the step function to
 * map. Nothing here holds a transaction across the call. */
#include "connector.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloudevents.h"
#include "httpc.h"
#include "slack.h"

#define C7_CONNECTOR "http-connector"

/* The connectors bpmnd runs, by the id a diagram names them with. */
typedef enum kind { K_NONE, K_HTTP7, K_HTTP8, K_SLACK, K_CLOUDEVENTS } kind;

static kind kind_of(const char *id, bool *c8)
{
    *c8 = false;
    if (!id)
        return K_NONE;
    if (strcmp(id, C7_CONNECTOR) == 0)
        return K_HTTP7;
    if (strcmp(id, "slack-webhook") == 0)
        return K_SLACK;
    if (strcmp(id, "cloudevents-http") == 0)
        return K_CLOUDEVENTS;
    *c8 = true;
    if (strncmp(id, "io.camunda:http-json:", 21) == 0)
        return K_HTTP8;
    if (strncmp(id, "io.bpmnd:slack-webhook:", 23) == 0)
        return K_SLACK;
    if (strncmp(id, "io.bpmnd:cloudevents-http:", 26) == 0)
        return K_CLOUDEVENTS;
    *c8 = false;
    return K_NONE;
}

/* ---- reading the inputs --------------------------------------------------------- */

/* A scalar as text (numbers and booleans printed), in a; NULL otherwise. */
static const char *text_of(const json_t *v, bpm_arena *a)
{
    if (json_is_string(v))
        return bpm_arena_strdup(a, json_string_value(v));
    if (json_is_integer(v))
        return bpm_arena_sprintf(a, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_real(v))
        return bpm_arena_sprintf(a, "%.17g", json_real_value(v));
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return NULL;
}

/* The method in upper case (in a), or NULL. */
static const char *method_of(const json_t *v, bpm_arena *a)
{
    const char *m = text_of(v, a);
    if (m)
        for (char *c = (char *)m; *c; c++)
            *c = (char)toupper((unsigned char)*c);
    return m;
}

/* A number of units (a number or numeric text), or dflt. */
static int64_t number_of(const json_t *v, int64_t dflt)
{
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    if (json_is_string(v)) {
        char *end = NULL;
        long long n = strtoll(json_string_value(v), &end, 10);
        if (end && end != json_string_value(v) && *end == '\0')
            return n;
    }
    return dflt;
}

typedef struct request {
    bpm_httpc_request req;
    bpm_httpc_header *headers;
    size_t n_headers, cap_headers;
    bool json_body;
} request;

static void add_header(request *q, bpm_arena *a, const char *name, const char *value)
{
    if (q->n_headers == q->cap_headers) {
        size_t ncap = q->cap_headers ? q->cap_headers * 2 : 8;
        q->headers = bpm_arena_grow(a, q->headers, q->cap_headers, ncap, sizeof *q->headers);
        q->cap_headers = ncap;
    }
    q->headers[q->n_headers++] = (bpm_httpc_header){name, value};
}

static bool has_header(const request *q, const char *name)
{
    for (size_t i = 0; i < q->n_headers; i++)
        if (strcasecmp(q->headers[i].name, name) == 0)
            return true;
    return false;
}

/* Headers from a map: scalars as text, objects and lists as JSON, null
 * left out. */
static void read_headers(request *q, const json_t *map, bpm_arena *a)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)map, k, v)
    {
        const char *text = text_of(v, a);
        if (!text && (json_is_object(v) || json_is_array(v))) {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            text = bpm_arena_strdup(a, s ? s : "");
            free(s);
        }
        if (text)
            add_header(q, a, bpm_arena_strdup(a, k), text);
    }
}

/* The body: text as it is, any other JSON value encoded as JSON. */
static void read_body(request *q, const json_t *v, bpm_arena *a)
{
    if (!v || json_is_null(v))
        return;
    if (json_is_string(v)) {
        q->req.body = bpm_arena_strndup(a, json_string_value(v), json_string_length(v));
        q->req.body_len = json_string_length(v);
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    q->req.body = bpm_arena_strdup(a, s ? s : "null");
    q->req.body_len = strlen(q->req.body);
    q->json_body = true;
    free(s);
}

/* Percent-encodes s for a query string; braces stay, so a {{secrets.NAME}}
 * reference is still one after encoding. */
static const char *query_escape(const char *s, bpm_arena *a)
{
    size_t n = strlen(s);
    char *out = bpm_arena_alloc(a, n * 3 + 1), *o = out;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-._~{}", c))
            *o++ = (char)c;
        else
            o += snprintf(o, 4, "%%%02X", c);
    }
    *o = '\0';
    return out;
}

/* Camunda 7 http-connector inputs: url, method, headers (a map), payload;
 * request-config {connection-timeout, socket-timeout} in milliseconds. */
static bpm_rc camunda7_request(request *q, const json_t *in, bpm_arena *a, bpm_err *err)
{
    q->req.url = text_of(json_object_get(in, "url"), a);
    q->req.method = method_of(json_object_get(in, "method"), a);
    if (json_is_object(json_object_get(in, "headers")))
        read_headers(q, json_object_get(in, "headers"), a);
    read_body(q, json_object_get(in, "payload"), a);
    const json_t *cfg = json_object_get(in, "request-config");
    q->req.connect_timeout_ms = number_of(json_object_get(cfg, "connection-timeout"), 20000);
    q->req.timeout_ms = number_of(json_object_get(cfg, "socket-timeout"), 60000);
    if (q->req.body && !has_header(q, "Content-Type"))
        add_header(q, a, "Content-Type", q->json_body ? "application/json" : "text/plain; charset=utf-8");
    if (!q->req.url)
        return bpm_err_set(err, BPM_BAD_REQUEST, "the http-connector has no \"url\" input parameter");
    return BPM_OK;
}

/* Camunda 8 REST connector inputs: url, method, headers, body,
 * queryParameters, authentication, connectionTimeoutInSeconds,
 * readTimeoutInSeconds (Camunda 8 docs, connectors/protocol/rest). */
static bpm_rc camunda8_request(request *q, const json_t *in, bpm_arena *a, bpm_err *err)
{
    const char *url = text_of(json_object_get(in, "url"), a);
    if (!url)
        return bpm_err_set(err, BPM_BAD_REQUEST, "the REST connector has no \"url\" input");
    const json_t *qp = json_object_get(in, "queryParameters");
    if (json_is_object(qp) && json_object_size(qp)) {
        char sep = strchr(url, '?') ? '&' : '?';
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)qp, k, v)
        {
            const char *t = text_of(v, a);
            if (!t)
                continue;
            url = bpm_arena_sprintf(a, "%s%c%s=%s", url, sep, query_escape(k, a), query_escape(t, a));
            sep = '&';
        }
    }
    q->req.url = url;
    q->req.method = method_of(json_object_get(in, "method"), a);
    if (json_is_object(json_object_get(in, "headers")))
        read_headers(q, json_object_get(in, "headers"), a);
    read_body(q, json_object_get(in, "body"), a);
    if (q->req.body && !has_header(q, "Content-Type"))
        add_header(q, a, "Content-Type", "application/json");
    q->req.connect_timeout_ms = number_of(json_object_get(in, "connectionTimeoutInSeconds"), 20) * 1000;
    q->req.timeout_ms = number_of(json_object_get(in, "readTimeoutInSeconds"), 20) * 1000;
    const json_t *auth = json_object_get(in, "authentication");
    const char *type = text_of(json_object_get(auth, "type"), a);
    if (!type || strcmp(type, "noAuth") == 0)
        return BPM_OK;
    if (strcmp(type, "bearer") == 0) {
        const char *token = text_of(json_object_get(auth, "token"), a);
        if (!token)
            return bpm_err_set(err, BPM_BAD_REQUEST, "bearer authentication has no \"authentication.token\"");
        add_header(q, a, "Authorization", bpm_arena_sprintf(a, "Bearer %s", token));
        return BPM_OK;
    }
    if (strcmp(type, "basic") == 0) {
        q->req.basic_user = text_of(json_object_get(auth, "username"), a);
        q->req.basic_password = text_of(json_object_get(auth, "password"), a);
        if (!q->req.basic_user)
            return bpm_err_set(err, BPM_BAD_REQUEST, "basic authentication has no \"authentication.username\"");
        return BPM_OK;
    }
    return bpm_err_set(err, BPM_BAD_REQUEST,
                       "authentication type \"%s\" is not supported: use noAuth, basic or bearer", type);
}

/* A Slack or CloudEvents request as its builder made it ({url, headers,
 * body}): always a POST, the REST connector's timeout inputs. */
static void built_request(request *q, const json_t *built, const json_t *in, bpm_arena *a)
{
    q->req.url = bpm_arena_strdup(a, json_string_value(json_object_get(built, "url")));
    q->req.method = "POST";
    read_headers(q, json_object_get(built, "headers"), a);
    const json_t *body = json_object_get(built, "body");
    if (json_is_string(body)) {
        q->req.body = bpm_arena_strndup(a, json_string_value(body), json_string_length(body));
        q->req.body_len = json_string_length(body);
    }
    q->req.connect_timeout_ms = number_of(json_object_get(in, "connectionTimeoutInSeconds"), 20) * 1000;
    q->req.timeout_ms = number_of(json_object_get(in, "readTimeoutInSeconds"), 20) * 1000;
}

/* msg with every occurrence of url replaced by what, in a: a Slack
 * webhook's URL is its credential even when a diagram writes it out. */
static const char *without_url(const char *msg, const char *url, const char *what, bpm_arena *a)
{
    size_t ul = url ? strlen(url) : 0;
    if (!ul || !strstr(msg, url))
        return bpm_arena_strdup(a, msg);
    char *out = bpm_arena_alloc(a, strlen(msg) / ul * strlen(what) + strlen(msg) + 1), *o = out;
    for (const char *p = msg; *p;) {
        if (strncmp(p, url, ul) == 0) {
            memcpy(o, what, strlen(what));
            o += strlen(what);
            p += ul;
        } else
            *o++ = *p++;
    }
    *o = '\0';
    return out;
}

/* ---- the response --------------------------------------------------------------- */

static const char *header_ci(const json_t *headers, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)headers, k, v)
    {
        if (strcasecmp(k, name) == 0)
            return json_string_value(v);
    }
    return NULL;
}

/* Retry-After in seconds (RFC 9110 §10.2.3; an HTTP date is not read), as
 * milliseconds, at most an hour; 0 when absent. */
static int64_t retry_after_ms(const json_t *headers)
{
    const char *v = header_ci(headers, "Retry-After");
    if (!v)
        return 0;
    char *end = NULL;
    long long sec = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || sec <= 0)
        return 0;
    return (sec > 3600 ? 3600 : sec) * 1000;
}

static bool mentions_json(const char *content_type)
{
    for (const char *p = content_type; p && *p; p++)
        if (strncasecmp(p, "json", 4) == 0)
            return true;
    return false;
}

/* The body as a value: parsed JSON when the server says it is JSON and it
 * parses, else the text (bytes that are not UTF-8 become '?'); null when
 * empty. */
static json_t *body_value(const bpm_httpc_response *r)
{
    if (!r->body_len)
        return json_null();
    if (mentions_json(header_ci(r->headers, "Content-Type"))) {
        json_t *v = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL);
        if (v)
            return v;
    }
    json_t *s = json_stringn(r->body, r->body_len);
    if (s)
        return s;
    char *copy = bpm_xmalloc(r->body_len + 1);
    for (size_t i = 0; i < r->body_len; i++) {
        unsigned char c = (unsigned char)r->body[i];
        copy[i] = c < 0x80 && c != 0 ? (char)c : '?';
    }
    s = json_stringn(copy, r->body_len);
    free(copy);
    return s ? s : json_null();
}

/* ---- the job -------------------------------------------------------------------- */

/* A Camunda 8 connector counts its attempts down from the diagram's
 * retries, retryBackoff apart (Camunda 8 docs, "Using outbound connectors",
 * Retries); without a backoff the executor's own one applies. */
static void camunda8_retries(const json_t *payload, const bpm_job *j, bpm_arena *a, bpm_job *retry)
{
    const json_t *r = json_object_get(payload, "retries");
    const char *backoff = json_string_value(json_object_get(payload, "retryBackoff"));
    if (!json_is_integer(r))
        return;
    if (backoff && *backoff)
        retry->retry_cycle = bpm_arena_sprintf(a, "R%" JSON_INTEGER_FORMAT "/%s", json_integer_value(r), backoff);
    else if (j->retries < 0)
        retry->retries = (int)json_integer_value(r);
}

bpm_rc bpm_connector_run(bpm_session *s, const bpm_job *j, int64_t max_call_ms, bpm_arena *a, bpm_job *retry,
                         int64_t *done_ms, bpm_err *err)
{
    *retry = *j;
    *done_ms = bpm_session_now(s);
    json_t *payload = NULL;
    bpm_rc rc = bpm_jobs_payload(s->pg, j->id, &payload, err);
    if (rc)
        return rc;
    const char *connector = json_string_value(json_object_get(payload, "connector"));
    const json_t *inputs = json_object_get(payload, "inputs");
    bool c8 = false;
    kind k = kind_of(connector, &c8);
    if (c8)
        camunda8_retries(payload, j, a, retry);
    request q = {0};
    json_t *vars = NULL, *built = NULL;
    bpm_httpc_response resp = {0};
    bool got = false;
    const char *code = NULL, *message = NULL;
    if (k == K_NONE) {
        rc = bpm_err_set(err, BPM_INVALID,
                         "connector \"%s\" is not supported: bpmnd runs " C7_CONNECTOR
                         ", slack-webhook and cloudevents-http (Camunda 7) and io.camunda:http-json, "
                         "io.bpmnd:slack-webhook and io.bpmnd:cloudevents-http (Camunda 8)",
                         connector ? connector : "");
        goto done;
    }
    bpm_err cerr = {0};
    bpm_rc qrc;
    switch (k) {
    case K_HTTP7:
        qrc = camunda7_request(&q, inputs, a, &cerr);
        break;
    case K_HTTP8:
        qrc = camunda8_request(&q, inputs, a, &cerr);
        break;
    case K_SLACK:
        qrc = bpm_slack_request(inputs, &built, &cerr);
        break;
    default: {
        bpm_cloudevents_context ctx = {
            .id = j->id, /* the same on every attempt: the receiver drops repeats by it */
            .time = json_string_value(json_object_get(payload, "time")),
            .process = json_string_value(json_object_get(payload, "process")),
        };
        qrc = bpm_cloudevents_request(inputs, &ctx, &built, &cerr);
        break;
    }
    }
    if (qrc == BPM_OK && built)
        built_request(&q, built, inputs, a);
    bool timed_out = false;
    if (qrc == BPM_OK) {
        q.req.headers = q.headers;
        q.req.n_headers = q.n_headers;
        q.req.idempotency_key = j->id; /* the same on every attempt: the receiver can drop repeats */
        if (max_call_ms > 0) {
            if (!q.req.timeout_ms || q.req.timeout_ms > max_call_ms)
                q.req.timeout_ms = max_call_ms;
            if (!q.req.connect_timeout_ms || q.req.connect_timeout_ms > q.req.timeout_ms)
                q.req.connect_timeout_ms = q.req.timeout_ms;
        }
        qrc = bpm_httpc_call(&q.req, &resp, &timed_out, &cerr);
    }
    *done_ms = bpm_session_now(s);
    if (qrc == BPM_OK) {
        got = true;
        vars = json_pack("{s:I, s:o, s:O}", "statusCode", (json_int_t)resp.status, "response", body_value(&resp),
                         "headers", resp.headers);
        if (k == K_SLACK) {
            char scode[128];
            bpm_slack_verdict v = bpm_slack_verdict_of(resp.status, resp.body, resp.body_len, scode, sizeof scode);
            if (v != BPM_SLACK_SENT) {
                code = bpm_arena_strdup(a, scode);
                /* Slack's own words, never the webhook URL */
                message = strcmp(scode, bpm_arena_sprintf(a, "%ld", resp.status)) == 0
                              ? bpm_arena_sprintf(a, "Slack answered HTTP %ld%s%s", resp.status,
                                                  resp.reason[0] ? " " : "", resp.reason)
                              : bpm_arena_sprintf(a, "Slack answered HTTP %ld: %s", resp.status, scode);
                if (v == BPM_SLACK_RETRY)
                    retry->retry_after_ms = retry_after_ms(resp.headers);
            }
        } else if (k == K_CLOUDEVENTS ? resp.status < 200 || resp.status >= 300 : resp.status >= 400) {
            code = bpm_arena_sprintf(a, "%ld", resp.status);
            message = bpm_arena_sprintf(a, "HTTP %ld%s%s from %s%s %s", resp.status, resp.reason[0] ? " " : "",
                                        resp.reason, k == K_CLOUDEVENTS ? "CloudEvents " : "",
                                        q.req.method ? q.req.method : "GET", q.req.url);
            if (k == K_CLOUDEVENTS && (resp.status == 429 || resp.status == 503))
                retry->retry_after_ms = retry_after_ms(resp.headers);
        }
    } else {
        code = timed_out                ? "TIMEOUT"
               : qrc == BPM_LIMIT       ? "RESPONSE_TOO_LARGE"
               : qrc == BPM_BAD_REQUEST ? "INVALID_REQUEST"
                                        : "UNREACHABLE";
        message = k == K_SLACK ? without_url(cerr.msg, q.req.url, "the Slack webhook", a) : bpm_arena_strdup(a, cerr.msg);
    }
    bpm_cmd cmd = {.kind = BPM_CMD_COMPLETE, .wait = j->wait, .vars = vars, .code = code, .message = message};
    rc = bpm_runtime_run(&s->rt, j->instance_id, &cmd, NULL, *done_ms, err);
done:
    if (got)
        bpm_httpc_response_cleanup(&resp);
    json_decref(vars);
    json_decref(built);
    json_decref(payload);
    return rc;
}
