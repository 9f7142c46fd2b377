/* The outbound HTTP client behind connector service tasks (libcurl): one
 * request, one response, no redirects, TLS always verified, a bounded
 * response, and {{secrets.NAME}} resolved from the environment only at call
 * time; what leaves a call (response, error text) never repeats a secret.
 * Entry points: bpm_httpc_call, bpm_httpc_expand, bpm_httpc_mask. */
#ifndef BPM_HTTPC_H
#define BPM_HTTPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* ---- secrets ---------------------------------------------------------------- */

/* The secret values one request used, so that its output can be masked.
 * Caller's storage: zero it or bpm_httpc_secrets_init, then
 * bpm_httpc_secrets_cleanup (which overwrites the copies before freeing). */
typedef struct bpm_httpc_secrets {
    char **values;
    size_t n, cap;
} bpm_httpc_secrets;

void bpm_httpc_secrets_init(bpm_httpc_secrets *s);
void bpm_httpc_secrets_cleanup(bpm_httpc_secrets *s);

/* Copies text[0..len) to *out (new, malloc, NUL-terminated, *out_len bytes
 * without the NUL) with every {{secrets.NAME}} (NAME: letters, digits, '_')
 * replaced by the environment variable BPMND_SECRET_NAME, else NAME; the
 * values used are added to used. BPM_BAD_REQUEST naming the secret, never
 * its value, when it is unset or shorter than 4 bytes (too short to mask) or
 * the reference is malformed; *out is then untouched. Thread safe as long
 * as nobody changes the environment. */
bpm_rc bpm_httpc_expand(const char *text, size_t len, bpm_httpc_secrets *used, char **out, size_t *out_len,
                        bpm_err *err);

/* Overwrites every occurrence of a used secret in buf[0..len) with '*', in
 * place (the length stays). */
void bpm_httpc_mask(const bpm_httpc_secrets *used, char *buf, size_t len);

/* ---- the call ------------------------------------------------------------------ */

typedef struct bpm_httpc_header {
    const char *name;
    const char *value; /* may hold {{secrets.NAME}} */
} bpm_httpc_header;

typedef struct bpm_httpc_request {
    const char *method;     /* letters only; NULL = GET */
    const char *url;        /* http:// or https://; may hold {{secrets.NAME}} */
    const bpm_httpc_header *headers; /* borrowed; sent as given (no default Content-Type) */
    size_t n_headers;
    const char *body;       /* NULL = none; may hold {{secrets.NAME}} */
    size_t body_len;
    const char *basic_user; /* HTTP basic authentication, or NULL; may hold secrets */
    const char *basic_password;
    const char *idempotency_key; /* sent as Idempotency-Key unless a header sets it; NULL = none */
    int64_t connect_timeout_ms;  /* 0 = 20 s */
    int64_t timeout_ms;          /* the whole exchange; 0 = 60 s */
    size_t max_response;         /* body bytes, decoded; 0 = 1 MiB */
} bpm_httpc_request;

typedef struct bpm_httpc_response {
    long status;
    char reason[64];   /* the status line's reason phrase ("Not Found"), or "" */
    json_t *headers;   /* new: object of the last response's headers, name as sent -> value
                          (a repeated header's values joined with ", ") */
    char *body;        /* new (malloc), NUL-terminated after body_len bytes */
    size_t body_len;
} bpm_httpc_response;

/* Makes the request. The method, URL, header values, body and basic
 * credentials are expanded (bpm_httpc_expand) just before sending; the
 * expanded copies are wiped afterwards, and the response's headers and body
 * and any error text are masked (bpm_httpc_mask). Messages name the request
 * by its method and unexpanded URL, so a secret in a URL shows as its
 * reference.
 *  BPM_OK: a response arrived, whatever its status: *out is filled (release
 *    it with bpm_httpc_response_cleanup).
 *  BPM_UNAVAILABLE: no response: the server could not be reached (name,
 *    connection, TLS handshake or certificate) or did not answer within the
 *    timeouts; *timed_out (may be NULL) tells the latter.
 *  BPM_LIMIT: the response body exceeded max_response (or its headers 64 KiB).
 *  BPM_BAD_REQUEST: the request cannot be made: not http(s), a malformed URL
 *    or method, a line break in a header, a secret unset (bpm_httpc_expand).
 *  BPM_INTERNAL: libcurl could not be initialised.
 * Otherwise *out is untouched. Thread safe; each call uses its own handle. */
bpm_rc bpm_httpc_call(const bpm_httpc_request *req, bpm_httpc_response *out, bool *timed_out, bpm_err *err);

void bpm_httpc_response_cleanup(bpm_httpc_response *r);

#endif
