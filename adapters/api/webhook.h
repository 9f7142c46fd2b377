/* Webhook endpoints (POST /webhooks/{name}): the request reader for the
 * three kinds (GitHub, CloudEvents 1.0 HTTP binding, plain JSON; pure, no
 * I/O), the endpoints configured or declared by deployed processes, and the
 * handler that reads, maps and delivers an event (adapters/service/inbound.h).
 * Authentication is the server's (http.c). docs/events.md. */
#ifndef BPM_WEBHOOK_H
#define BPM_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "arena.h"
#include "err.h"
#include "inbound.h"

typedef enum bpm_webhook_kind {
    BPM_WEBHOOK_JSON = 0,    /* any JSON body; Idempotency-Key de-duplicates */
    BPM_WEBHOOK_GITHUB,      /* X-GitHub-Event, X-GitHub-Delivery, X-Hub-Signature-256 */
    BPM_WEBHOOK_CLOUDEVENTS, /* CloudEvents 1.0, binary and structured mode */
} bpm_webhook_kind;

/* "json", "github", "cloudevents" into *out; false for anything else. */
bool bpm_webhook_kind_parse(const char *s, bpm_webhook_kind *out);

typedef struct bpm_webhook_endpoint {
    const char *name;
    bpm_webhook_kind kind;
    const char *secret;    /* its value; NULL = none: REST authentication applies */
    size_t secret_len;
    const char *secret_missing; /* the secret's variable when it was not set (every request refused) */
    const bpm_inbound_mapping *mapping; /* NULL: the default (below) */
    const char *process;   /* default: start this process key with the body (an object) as variables */
    const char *origin;    /* where it was declared, for messages */
} bpm_webhook_endpoint;

typedef struct bpm_webhook_request {
    bpm_inbound_event ev; /* strings and JSON in the reader's arena */
    bool ping;            /* GitHub's ping: answered, not mapped */
} bpm_webhook_request;

/* Reads a request to endpoint ep: headers is an object of lower-case
 * names to values (borrowed), body the raw bytes. Fills *out in arena a.
 * Returns 0, or the HTTP status of a refusal (400: malformed body, missing
 * or bad attribute or header; 415: a content type or mode not taken) with
 * err->msg naming the header or attribute. */
int bpm_webhook_read(const bpm_webhook_endpoint *ep, const json_t *headers, const char *body, size_t len,
                     bpm_arena *a, bpm_webhook_request *out, bpm_err *err);

/* The default mapping: start ep->process with an object body (CloudEvents:
 * data) as variables; else, for CloudEvents, correlate the message named by
 * the type with the subject (or the extension correlationkey) as
 * correlation key, the extension businesskey as business key and an object
 * data as variables; else unrouted. */
bpm_rc bpm_webhook_default(const bpm_webhook_endpoint *ep, const bpm_inbound_event *ev, bpm_arena *a,
                           bpm_inbound_action *out, bpm_err *err);

/* ---- endpoints ---------------------------------------------------------------- */

/* The endpoints of one server: configured ones, and a cache of those that
 * deployed processes declare (by definition id, so a new version is read
 * once). Thread safe. */
typedef struct bpm_webhooks bpm_webhooks;

bpm_webhooks *bpm_webhooks_new(void);
void bpm_webhooks_free(bpm_webhooks *w);
/* Adds a configured endpoint: kind (NULL = json), secret_env (the name of
 * the environment variable holding the secret, or NULL), mapping_path (a
 * Lua file, or NULL), process (or NULL). where ("file:line") prefixes every
 * error. BPM_INVALID when a value is wrong, the secret's variable is not set,
 * the mapping cannot be read or compiled (naming its line), or github/json
 * have neither mapping nor process. */
bpm_rc bpm_webhooks_add(bpm_webhooks *w, bpm_scripts *scripts, const char *name, const char *kind,
                        const char *secret_env, const char *mapping_path, const char *process, const char *where,
                        bpm_err *err);
/* The endpoint called name: configured first, then the latest process that
 * declares it (properties bpmnd.webhook.name, .kind, .secret, .mapping),
 * read through s. *out is borrowed for the registry's life. BPM_NOT_FOUND;
 * BPM_INVALID when a declared mapping does not compile. */
bpm_rc bpm_webhooks_find(bpm_webhooks *w, bpm_session *s, const char *name, const bpm_webhook_endpoint **out,
                         bpm_err *err);

typedef enum bpm_webhook_outcome {
    BPM_WEBHOOK_ACCEPTED = 0, /* started or correlated */
    BPM_WEBHOOK_DUPLICATE,
    BPM_WEBHOOK_IGNORED,      /* ping, or the mapping said ignore */
    BPM_WEBHOOK_REFUSED,      /* any 4xx or 5xx: nothing changed */
} bpm_webhook_outcome;

/* Handles an authenticated request (req->body, req->s, req->user,
 * req->now_ms) to ep: reads, maps, delivers; answers r with a JSON body
 * (202 accepted, 200 duplicate or ignored, 400, 404, 409, 415, 422, 5xx). */
bpm_webhook_outcome bpm_webhook_handle(const bpm_api_req *req, const bpm_webhook_endpoint *ep, const json_t *headers,
                                       bpm_api_resp *r);

#endif
