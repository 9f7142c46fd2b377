/* Inbound events, whatever carried them (a webhook, a CloudEvent, later a
 * queue message): a Lua mapping turns an event into a process start or a
 * message correlation, delivered in one transaction with its
 * de-duplication key, so a sender's retry changes nothing. docs/events.md. */
#ifndef BPM_INBOUND_H
#define BPM_INBOUND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "session.h"
#include "store.h"

/* One event. Every pointer is borrowed by the functions below. */
typedef struct bpm_inbound_event {
    const char *endpoint;   /* what received it: "github" (/webhooks/github), a queue name; may be NULL */
    const char *source;     /* de-duplication namespace: "webhook/github", a CloudEvents source */
    const char *id;         /* de-duplication id within source (X-GitHub-Delivery, ce-id); NULL = none */
    const char *type;       /* X-GitHub-Event, ce-type; may be NULL */
    const char *subject;    /* ce-subject; may be NULL */
    const json_t *headers;  /* object: lower-case header name -> string; may be NULL */
    const json_t *attributes; /* object: CloudEvents context attributes and extensions; may be NULL */
    const json_t *body;     /* the payload (CloudEvents: data) as JSON; NULL = none */
} bpm_inbound_event;

typedef enum bpm_inbound_kind {
    BPM_INBOUND_UNROUTED = 0, /* the mapping returned nothing: refused (a 4xx) */
    BPM_INBOUND_IGNORE,       /* {ignore = true}: accepted, nothing done */
    BPM_INBOUND_START,        /* {start = KEY, ...} */
    BPM_INBOUND_CORRELATE,    /* {message = NAME, ...} */
} bpm_inbound_kind;

/* What to do with an event. Strings and variables live in the arena given
 * to bpm_inbound_map() (variables: a reference deferred to it). */
typedef struct bpm_inbound_action {
    bpm_inbound_kind kind;
    const char *process;         /* START: the process key (the latest version starts) */
    const char *message;         /* CORRELATE: the message name */
    const char *correlation_key; /* CORRELATE; may be NULL */
    const char *business_key;    /* START: the new instance's; CORRELATE: a filter; may be NULL */
    json_t *variables;           /* object, or NULL */
    bool all;                    /* CORRELATE: every match (else exactly one) */
    const char *reason;          /* IGNORE: why (may be NULL) */
} bpm_inbound_action;

/* A compiled mapping: immutable once made, usable from every thread. */
typedef struct bpm_inbound_mapping bpm_inbound_mapping;

/* Compiles the Lua text of a mapping named name ("webhooks/github.lua",
 * "endpoint orders of process order") into arena a (the mapping lives as
 * long as a). BPM_INVALID naming the mapping and the line on a syntax
 * error. Uses scripts' lua_State: one thread at a time. */
bpm_rc bpm_inbound_mapping_compile(bpm_scripts *scripts, const char *name, const char *text, size_t len, bpm_arena *a,
                                   bpm_inbound_mapping **out, bpm_err *err);
/* The name the mapping was compiled with (borrowed). */
const char *bpm_inbound_mapping_name(const bpm_inbound_mapping *m);

/* Reads the Lua file at path (at most 1 MiB) and compiles it as above, into
 * arena a. what ("webhook \"github\"", "consumer \"orders\"") and where
 * (the configuration's file:line) name the error: a file that cannot be
 * read or is too long, a mapping that does not compile (with its Lua line). */
bpm_rc bpm_inbound_mapping_load(bpm_scripts *scripts, const char *path, const char *what, const char *where,
                                bpm_arena *a, bpm_inbound_mapping **out, bpm_err *err);

/* Runs mapping m on ev in the Lua sandbox (the evaluator's instruction and
 * memory budgets; no file, process or network access). The script sees
 * `event` (source, id, type, subject, endpoint, headers, attributes, body)
 * and returns a table: {start = KEY, businessKey =, variables =} or
 * {message = NAME, correlationKey =, businessKey =, variables =, all =} or
 * {ignore = true [, reason =]}, or nothing (not routed). bpmn.error(code,
 * msg) in a mapping refuses the event: BPM_INVALID with msg. *out (OUT) is
 * filled in arena a. BPM_SCRIPT / BPM_LIMIT when the script fails,
 * BPM_INVALID when it returns something malformed; err names the mapping
 * and, for failures, the Lua line. */
bpm_rc bpm_inbound_map(bpm_scripts *scripts, const bpm_inbound_mapping *m, const bpm_inbound_event *ev,
                       int64_t now_ms, bpm_arena *a, bpm_inbound_action *out, bpm_err *err);

/* Reads an action from a mapping's result (v borrowed; NULL or JSON null =
 * unrouted); what = the mapping's name for messages. Used by
 * bpm_inbound_map() and by callers with a built-in default mapping. */
bpm_rc bpm_inbound_action_read(const json_t *v, const char *what, bpm_arena *a, bpm_inbound_action *out,
                               bpm_err *err);

/* What a delivery did. */
typedef struct bpm_inbound_result {
    bool duplicate;                  /* (source, id) was delivered before: nothing changed */
    char instance_id[BPM_ID_SIZE];   /* started, or the first correlated ("" when none; on a
                                      * duplicate, the one the first delivery led to) */
    size_t correlations;             /* CORRELATE: targets reached */
} bpm_inbound_result;

/* Delivers act (START or CORRELATE; UNROUTED and IGNORE do nothing) for ev
 * through s in one transaction together with ev's de-duplication key
 * (source, id) when ev->id is set: a duplicate changes nothing and is
 * reported with out->duplicate (BPM_OK); a failed start or correlation
 * rolls the key back too, so the sender may retry. user (may be NULL) is
 * recorded as the starter. Returns BPM_NOT_FOUND for an unknown process key
 * or a message nothing waits for, BPM_CONFLICT when a single correlation
 * matches several, BPM_INVALID when the start fails (an incident at once),
 * other codes for the database. *out is written on BPM_OK. */
bpm_rc bpm_inbound_deliver(bpm_session *s, const bpm_inbound_event *ev, const bpm_inbound_action *act,
                           const char *user, int64_t now_ms, bpm_inbound_result *out, bpm_err *err);

/* GitHub's X-Hub-Signature-256: header must be "sha256=" and the lower or
 * upper case hex HMAC-SHA256 of body under secret; compared in constant
 * time. False for a missing or malformed header. */
bool bpm_inbound_hmac_check(const char *secret, size_t secret_len, const void *body, size_t len, const char *header);

#endif
