/* The Camunda 7 REST API (/engine-rest) as plain functions from a request to
 * a response, free of any HTTP library: the server (adapters/server) parses
 * HTTP, authenticates, picks the route and sends what a handler returns. */
#ifndef BPM_API_H
#define BPM_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

#define BPM_API_MAX_PARAMS 4

typedef struct bpm_api_req {
    const char *method;       /* GET, POST, PUT, DELETE */
    const char *path;         /* below /engine-rest, without the query */
    const char *query;        /* raw query string, "" when none */
    const char *body;         /* NUL-terminated; "" when none */
    size_t body_len;
    const char *content_type; /* NULL when absent */
    const char *base_url;     /* "http://host:port/engine-rest", for links */
    const char *params[BPM_API_MAX_PARAMS]; /* path captures, in order */
    /* who asks: NULL without authentication */
    const char *user;
    bool admin;               /* member of the admin group, or auth off */
    const char *const *groups; /* the user's groups, NULL-terminated */
    bpm_session *s;
    int64_t now_ms;           /* engine time at arrival */
    bool resumed;             /* called again after parking (long polling) */
    bool last_chance;         /* the parking time is up: answer now, do not park */
} bpm_api_req;

typedef struct bpm_api_resp {
    int status;
    char *body;               /* malloc'd, or NULL (204) */
    size_t body_len;
    const char *content_type; /* static; NULL = application/json */
    char disposition[300];    /* Content-Disposition, "" for none */
    char ctype_buf[200];      /* room for a content_type built per response */
    /* long polling: park the request until work may have arrived or this
     * time (engine ms) passes, then call the handler again (resumed) */
    int64_t park_until_ms;
} bpm_api_resp;

typedef void bpm_api_handler(const bpm_api_req *req, bpm_api_resp *resp);

typedef struct bpm_api_route {
    const char *method;
    const char *pattern; /* "/task/{}/claim": {} captures one segment */
    bpm_api_handler *fn;
    bool open;           /* answered without authentication */
    bool admin;          /* needs the admin group */
} bpm_api_route;

/* The route table, ending with a {NULL} entry. */
const bpm_api_route *bpm_api_routes(void);
/* Finds the route for method and path; fills params (pointers into buf, which
 * must hold a copy of path). NULL with *path_known = true when the path
 * exists under another method (405). */
const bpm_api_route *bpm_api_match(const char *method, const char *path, char *buf, size_t cap,
                                   const char *params[BPM_API_MAX_PARAMS], bool *path_known);

/* ---- responses (api.c) ---------------------------------------------------------- */

/* A JSON body (steals j). */
void bpm_api_json(bpm_api_resp *r, int status, json_t *j);
/* A JSON body given as text already (copied). */
void bpm_api_text(bpm_api_resp *r, int status, const char *json_text);
void bpm_api_no_content(bpm_api_resp *r);
/* Camunda's error body {type, message, code}: code < 0 writes null. */
void bpm_api_error(bpm_api_resp *r, int status, const char *type, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Maps an engine error: 404 NOT_FOUND as InvalidRequestException, 400 for bad
 * input, 500 ProcessEngineException otherwise, with err's text. */
void bpm_api_fail(bpm_api_resp *r, const bpm_err *err);

/* The request body as a JSON object ({} when empty); NULL after writing a
 * 400 into r. New reference. */
json_t *bpm_api_body(const bpm_api_req *req, bpm_api_resp *r);

/* Runs sql (parameters as text) that returns one row with one column of JSON
 * text, and answers 200 with it; 404 with not_found's message when it returns
 * no row or null (not_found NULL: "null" is answered as is). */
void bpm_api_sql_json(const bpm_api_req *req, bpm_api_resp *r, const char *sql, int n, const char *const *params,
                      const char *not_found);

#endif
