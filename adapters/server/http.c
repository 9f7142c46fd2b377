/* The HTTP server: libmicrohttpd with a pool of polling threads. Each
 * thread keeps one engine session (opened on first use, reset when the
 * database connection broke). A handler that asks to park its request (long
 * polling) has the connection suspended; the parker thread resumes it when a
 * job notification arrives or its time is up, and the handler runs again. */
#define _DEFAULT_SOURCE
#include "http.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "auth.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "webhook.h"

typedef struct request {
    char *uri;           /* as sent; split at '?' on first use */
    const char *query;   /* into uri */
    char *body;
    size_t len, cap;
    bool too_big;
    bool headers_seen; /* the first call comes before any body */
    bool parked, resumed, parked_once;
    int64_t wake_wall_ms;
    int64_t deadline_wall_ms; /* set when first parked; kept across resumes */
    int64_t started_ns;
    struct MHD_Connection *conn;
    struct request *next; /* in the parked list */
} request;

struct bpm_http {
    bpm_config cfg;
    char *conninfo;
    const bpm_executor *ex;
    bpm_pgstore_counters *counters;
    struct MHD_Daemon *d;
    bool auth;
    pthread_key_t session_key;
    atomic_bool stopping;
    /* parked long polls */
    pthread_mutex_t mu;
    request *parked;
    size_t n_parked;
    pthread_t parker;
    bool parker_running;
    atomic_int unanswered; /* requests that were parked and are not yet answered */
    bpm_metrics metrics;
    bpm_webhooks *webhooks; /* POST /webhooks/{name} */
    _Atomic(const bpm_relay_stats *) relay; /* the outbox relay's counters, when it runs */
    bpm_consumer *const *consumers;         /* the queue consumers, when they run */
    atomic_size_t n_consumers;              /* set after consumers: read it first */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void free_session(void *p)
{
    bpm_session *s = p;
    bpm_session_close(s);
    free(s);
}

/* The calling thread's session, opened on first use and repaired when its
 * connection broke (the server restarted). NULL when the database cannot be
 * reached. */
static bpm_session *session(bpm_http *h, bpm_err *err)
{
    bpm_session *s = pthread_getspecific(h->session_key);
    if (s) {
        if (PQstatus(bpm_pg_conn(s->pg)) == CONNECTION_OK)
            return s;
        if (bpm_pg_reset(s->pg, err) == BPM_OK)
            return s;
        return NULL;
    }
    s = bpm_xcalloc(1, sizeof *s);
    if (bpm_session_open(s, h->conninfo, err)) {
        free(s);
        return NULL;
    }
    if (h->counters)
        bpm_session_count_into(s, h->counters);
    pthread_setspecific(h->session_key, s);
    return s;
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    request *r = bpm_xcalloc(1, sizeof *r);
    r->uri = bpm_xstrdup(uri);
    r->conn = c;
    r->started_ns = mono_ns();
    return r;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    bpm_http *h = cls;
    (void)c;
    (void)toe;
    request *r = *con_cls;
    if (!r)
        return;
    if (r->parked_once)
        atomic_fetch_sub(&h->unanswered, 1);
    free(r->uri);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

static enum MHD_Result send_resp(struct MHD_Connection *c, int status, const char *body, size_t len,
                                 const char *ctype, const char *disposition, bool cache, const char *method)
{
    struct MHD_Response *resp;
    if (body && len) {
        char *copy = bpm_xmalloc(len);
        memcpy(copy, body, len);
        resp = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (status != 204 && !(status == 401 && !len))
        MHD_add_response_header(resp, "Content-Type", ctype ? ctype : "application/json");
    if (disposition && *disposition)
        MHD_add_response_header(resp, "Content-Disposition", disposition);
    if (!cache && strcmp(method, "GET") == 0)
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
    if (status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"default\"");
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (origin) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(resp, "Vary", "Origin");
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- long polling ------------------------------------------------------------------ */

static void park(bpm_http *h, request *r, int64_t wake_wall_ms)
{
    pthread_mutex_lock(&h->mu);
    MHD_suspend_connection(r->conn);
    r->parked = true;
    r->wake_wall_ms = wake_wall_ms;
    r->next = h->parked;
    h->parked = r;
    h->n_parked++;
    pthread_mutex_unlock(&h->mu);
}

/* Resumes every parked request (all) or those whose time is up. */
static void resume(bpm_http *h, bool all)
{
    int64_t now = bpm_session_wall_ms();
    pthread_mutex_lock(&h->mu);
    request **pp = &h->parked;
    while (*pp) {
        request *r = *pp;
        if (all || r->wake_wall_ms <= now) {
            *pp = r->next;
            h->n_parked--;
            r->parked = false;
            r->resumed = true;
            MHD_resume_connection(r->conn);
        } else {
            pp = &r->next;
        }
    }
    pthread_mutex_unlock(&h->mu);
}

#define MAX_PARKED 1000

static size_t parked_count(bpm_http *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->n_parked;
    pthread_mutex_unlock(&h->mu);
    return n;
}

static int64_t next_wake(bpm_http *h)
{
    int64_t w = INT64_MAX;
    pthread_mutex_lock(&h->mu);
    for (request *r = h->parked; r; r = r->next)
        if (r->wake_wall_ms < w)
            w = r->wake_wall_ms;
    pthread_mutex_unlock(&h->mu);
    return w;
}

/* Listens for job notifications on its own connection. New external tasks
 * wake every parked fetchAndLock at once; a periodic round every 2 s covers
 * expired locks and retry timeouts, which nothing announces. */
static void *parker(void *arg)
{
    bpm_http *h = arg;
    bpm_pg *pg = NULL;
    int64_t last_round = bpm_session_wall_ms();
    while (!atomic_load(&h->stopping)) {
        if (!pg || PQstatus(bpm_pg_conn(pg)) != CONNECTION_OK) {
            if (pg)
                bpm_pg_close(pg);
            pg = NULL;
            if (bpm_pg_open(h->conninfo, &pg, NULL) || bpm_pg_exec(pg, "listen bpmnd_jobs", NULL)) {
                struct timespec ts = {0, 500 * 1000000};
                nanosleep(&ts, NULL);
                resume(h, false);
                continue;
            }
        }
        int64_t now = bpm_session_wall_ms();
        int64_t wake = next_wake(h);
        int64_t timeout = 500;
        if (wake != INT64_MAX && wake - now < timeout)
            timeout = wake - now < 0 ? 0 : wake - now;
        PGconn *c = bpm_pg_conn(pg);
        struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
        bool woken = false;
        if (poll(&pfd, 1, (int)timeout) > 0) {
            PQconsumeInput(c);
            PGnotify *n;
            while ((n = PQnotifies(c))) {
                if (strcmp(n->extra, "external") == 0 || strcmp(n->extra, "job") == 0)
                    woken = true;
                PQfreemem(n);
            }
        }
        now = bpm_session_wall_ms();
        bool round = now - last_round >= 2000;
        if (round)
            last_round = now;
        resume(h, woken || round);
    }
    if (pg)
        bpm_pg_close(pg);
    return NULL;
}

/* ---- dispatch ---------------------------------------------------------------------- */

static void header_list(bpm_http *h, struct MHD_Connection *c, char *out, size_t n)
{
    (void)h;
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    snprintf(out, n, "http://%s/engine-rest", host ? host : "localhost:8080");
}

static enum MHD_Result answer_plain(struct MHD_Connection *c, int status, const char *ctype, const char *text,
                                    const char *method)
{
    return send_resp(c, status, text, strlen(text), ctype, NULL, false, method);
}

/* ---- webhooks ----------------------------------------------------------------------- */

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    json_t *o = cls;
    char name[128];
    size_t n = strlen(key);
    if (n >= sizeof name || !value)
        return MHD_YES;
    for (size_t i = 0; i <= n; i++)
        name[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] - 'A' + 'a' : key[i]);
    json_t *v = json_string(value); /* NULL when not UTF-8: such a header is dropped */
    if (v && !json_object_get(o, name))
        json_object_set_new(o, name, v);
    else
        json_decref(v);
    return MHD_YES;
}

static enum MHD_Result webhook_answer(bpm_http *h, struct MHD_Connection *c, bpm_webhook_outcome outcome, int status,
                                      const char *name, const char *error, const char *msg)
{
    bpm_metrics_webhook(&h->metrics, (int)outcome);
    json_t *o = json_pack("{s:i, s:s, s:s, s:s}", "status", status, "error", error, "endpoint", name, "message", msg);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    enum MHD_Result ret = send_resp(c, status, text, strlen(text), NULL, NULL, false, "POST");
    free(text);
    return ret;
}

/* POST /webhooks/{name}: an endpoint with a secret is authenticated by its
 * signature alone; one without needs the REST authentication when it is on.
 * Every refusal is answered before anything is written. */
static enum MHD_Result webhook(bpm_http *h, request *r, struct MHD_Connection *c, const char *method, const char *name)
{
    if (!*name || strchr(name, '/') || strlen(name) > 200)
        return webhook_answer(h, c, BPM_WEBHOOK_REFUSED, 404, "", "not_found", "no such webhook endpoint");
    if (strcmp(method, "POST") != 0)
        return webhook_answer(h, c, BPM_WEBHOOK_REFUSED, 405, name, "method_not_allowed",
                              "webhooks take POST requests only");
    if (r->too_big) {
        char msg[100];
        snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", h->cfg.max_body);
        return webhook_answer(h, c, BPM_WEBHOOK_REFUSED, 413, name, "too_large", msg);
    }
    bpm_err err = {0};
    bpm_session *s = session(h, &err);
    if (!s) {
        bpm_log_write("error", "database", err.msg, NULL);
        return webhook_answer(h, c, BPM_WEBHOOK_REFUSED, 503, name, "unavailable", "the database cannot be reached");
    }
    const bpm_webhook_endpoint *ep = NULL;
    if (bpm_webhooks_find(h->webhooks, s, name, &ep, &err)) {
        if (err.rc == BPM_NOT_FOUND)
            return webhook_answer(h, c, BPM_WEBHOOK_REFUSED, 404, name, "not_found", err.msg);
        bpm_log_write("error", "webhook", err.msg, "endpoint", name, NULL);
        return webhook_answer(h, c, BPM_WEBHOOK_REFUSED, 500, name, "endpoint_broken", err.msg);
    }
    if (ep->secret_missing) {
        char msg[300];
        snprintf(msg, sizeof msg, "the endpoint's secret variable %.100s is not set on the server", ep->secret_missing);
        bpm_log_write("error", "webhook", msg, "endpoint", name, NULL);
        return webhook_answer(h, c, BPM_WEBHOOK_REFUSED, 500, name, "endpoint_broken", msg);
    }
    bpm_auth_user who;
    memset(&who, 0, sizeof who);
    const char *user = NULL;
    if (ep->secret) {
        const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Hub-Signature-256");
        if (!bpm_inbound_hmac_check(ep->secret, ep->secret_len, r->body ? r->body : "", r->len, sig))
            return webhook_answer(h, c, BPM_WEBHOOK_REFUSED, 401, name, "unauthorized",
                                  sig ? "the X-Hub-Signature-256 signature does not match the body"
                                      : "the X-Hub-Signature-256 header is missing");
    } else if (h->auth) {
        if (bpm_auth_check(s, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"), &who) == 401)
            return webhook_answer(h, c, BPM_WEBHOOK_REFUSED, 401, name, "unauthorized",
                                  "this endpoint has no secret: it needs the REST API's authentication");
        user = who.id;
    }
    json_t *headers = json_object();
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, headers);
    bpm_api_req req = {.method = method, .path = r->uri, .query = "", .body = r->body ? r->body : "",
                       .body_len = r->len, .user = user, .admin = true, .s = s};
    req.now_ms = bpm_session_now(s);
    bpm_api_resp resp = {0};
    bpm_webhook_outcome out = bpm_webhook_handle(&req, ep, headers, &resp);
    json_decref(headers);
    bpm_auth_user_cleanup(&who);
    bpm_metrics_webhook(&h->metrics, (int)out);
    if (resp.status >= 500)
        bpm_log_write("error", "webhook", resp.body ? resp.body : "", "endpoint", name, NULL);
    enum MHD_Result ret = send_resp(c, resp.status, resp.body, resp.body_len, NULL, NULL, false, method);
    free(resp.body);
    return ret;
}

static enum MHD_Result handle(bpm_http *h, request *r, struct MHD_Connection *c, const char *method)
{
    char *uri = r->uri;
    if (!r->query) { /* split once: a resumed request comes through here again */
        char *q = strchr(uri, '?');
        r->query = "";
        if (q) {
            *q = '\0';
            r->query = q + 1;
        }
    }
    const char *query = r->query;
    const char *path = uri;
    if (strcmp(path, "/health") == 0)
        return answer_plain(c, 200, NULL, "{\"status\":\"UP\"}", method);
    if (strcmp(path, "/ready") == 0) {
        bpm_err err = {0};
        bpm_session *s = session(h, &err);
        if (!s || bpm_pg_exec(s->pg, "select 1", &err))
            return answer_plain(c, 503, NULL, "{\"status\":\"DOWN\"}", method);
        return answer_plain(c, 200, NULL, "{\"status\":\"UP\"}", method);
    }
    if (strcmp(path, "/metrics") == 0) {
        char *text = bpm_metrics_render(&h->metrics, h->ex, h->counters);
        char gauge[200];
        snprintf(gauge, sizeof gauge,
                 "# HELP bpmnd_http_parked_requests Long polls waiting for work.\n"
                 "# TYPE bpmnd_http_parked_requests gauge\nbpmnd_http_parked_requests %zu\n",
                 parked_count(h));
        text = bpm_xrealloc(text, strlen(text) + strlen(gauge) + 1);
        memcpy(text + strlen(text), gauge, strlen(gauge) + 1);
        const bpm_relay_stats *rs = atomic_load(&h->relay);
        if (rs) {
            char *more = bpm_metrics_render_relay(rs);
            text = bpm_xrealloc(text, strlen(text) + strlen(more) + 1);
            memcpy(text + strlen(text), more, strlen(more) + 1);
            free(more);
        }
        size_t nc = atomic_load(&h->n_consumers);
        if (nc) {
            char *more = bpm_metrics_render_consumers(h->consumers, nc);
            text = bpm_xrealloc(text, strlen(text) + strlen(more) + 1);
            memcpy(text + strlen(text), more, strlen(more) + 1);
            free(more);
        }
        enum MHD_Result ret = send_resp(c, 200, text, strlen(text), "text/plain; version=0.0.4", NULL, false, method);
        free(text);
        return ret;
    }
    static const char hooks[] = "/webhooks/";
    if (strncmp(path, hooks, sizeof hooks - 1) == 0)
        return webhook(h, r, c, method, path + sizeof hooks - 1);
    static const char prefix[] = "/engine-rest";
    if (strncmp(path, prefix, sizeof prefix - 1) != 0 || (path[sizeof prefix - 1] && path[sizeof prefix - 1] != '/'))
        return answer_plain(c, 404, NULL,
                            "{\"type\":\"NotFoundException\",\"message\":\"no such resource: the API is under "
                            "/engine-rest\",\"code\":null}",
                            method);
    path += sizeof prefix - 1;
    /* the named-engine form of every path: /engine/default/... */
    static const char named[] = "/engine/default";
    if (strncmp(path, named, sizeof named - 1) == 0 && (path[sizeof named - 1] == '/' || !path[sizeof named - 1]))
        path += sizeof named - 1;
    if (!*path)
        path = "/";

    if (strcmp(method, "OPTIONS") == 0) {
        /* CORS preflight: answered before authentication */
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin ? origin : "*");
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Authorization, Content-Type, Accept");
        enum MHD_Result ret = MHD_queue_response(c, 204, resp);
        MHD_destroy_response(resp);
        return ret;
    }

    char buf[2048];
    const char *params[BPM_API_MAX_PARAMS] = {0};
    bool known = false;
    const bpm_api_route *route = bpm_api_match(method, path, buf, sizeof buf, params, &known);
    int route_index = route ? (int)(route - bpm_api_routes()) : -1;
    bpm_api_resp resp = {0};
    bpm_api_req req = {.method = method, .path = path, .query = query, .body = r->body ? r->body : "",
                       .body_len = r->len, .resumed = r->resumed};
    req.last_chance = r->deadline_wall_ms && bpm_session_wall_ms() >= r->deadline_wall_ms;
    req.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    char base[300];
    header_list(h, c, base, sizeof base);
    req.base_url = base;
    memcpy(req.params, params, sizeof params);
    bpm_auth_user who;
    memset(&who, 0, sizeof who);
    if (!route) {
        if (known)
            bpm_api_error(&resp, 405, "RestException", -1, "%s is not allowed on %s", method, path);
        else
            bpm_api_error(&resp, 404, "NotFoundException", -1, "no such resource: %s", path);
    } else if (r->too_big) {
        bpm_api_error(&resp, 413, "InvalidRequestException", -1, "the request body is larger than %zu bytes",
                      h->cfg.max_body);
    } else {
        bpm_err err = {0};
        bpm_session *s = session(h, &err);
        if (!s) {
            bpm_log_write("error", "database", err.msg, NULL);
            bpm_api_error(&resp, 503, "ProcessEngineException", 0, "the database cannot be reached: %s", err.msg);
        } else {
            req.s = s;
            int auth_status = 0;
            if (h->auth && !route->open)
                auth_status = bpm_auth_check(s, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
                                             &who);
            if (auth_status == 401) {
                resp.status = 401;
            } else if (h->auth && !route->open && route->admin && !who.admin) {
                bpm_api_error(&resp, 403, "AuthorizationException", -1,
                              "user '%s' is not in the admin group, which %s %s needs", who.id, method, path);
            } else {
                if (h->auth && !route->open) {
                    req.user = who.id;
                    req.admin = who.admin;
                    req.groups = (const char *const *)who.groups;
                } else {
                    req.admin = true;
                }
                req.now_ms = bpm_session_now(s);
                route->fn(&req, &resp);
                bool crowded = resp.park_until_ms && !r->parked_once && parked_count(h) >= MAX_PARKED;
                if (crowded) /* Camunda refuses too many waiting polls the same way */
                    bpm_api_error(&resp, 500, "ProcessEngineException", 0,
                                  "too many parked fetchAndLock requests (%d): retry later", MAX_PARKED);
                else if (resp.park_until_ms) {
                    if (atomic_load(&h->stopping)) {
                        bpm_api_text(&resp, 200, "[]"); /* shutting down: answer now */
                    } else {
                        if (!r->parked_once)
                            atomic_fetch_add(&h->unanswered, 1);
                        r->parked_once = true;
                        if (!r->deadline_wall_ms)
                            r->deadline_wall_ms = bpm_session_wall_ms() + (resp.park_until_ms - req.now_ms);
                        free(resp.body);
                        bpm_auth_user_cleanup(&who);
                        park(h, r, r->deadline_wall_ms);
                        return MHD_YES;
                    }
                }
            }
        }
    }
    if (!resp.status)
        bpm_api_error(&resp, 500, "ProcessEngineException", 0, "the handler gave no answer");
    enum MHD_Result ret =
        send_resp(c, resp.status, resp.body, resp.body_len, resp.content_type, resp.disposition, false, method);
    int64_t took = mono_ns() - r->started_ns;
    bpm_metrics_request(&h->metrics, route_index, resp.status, took);
    if (resp.status >= 500)
        bpm_log_write("error", "request", resp.body ? resp.body : "", "method", method, "path", path, NULL);
    free(resp.body);
    bpm_auth_user_cleanup(&who);
    return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)url;
    (void)version;
    bpm_http *h = cls;
    request *r = *con_cls;
    if (!r) /* the URI logger always sets it; be safe */
        return MHD_NO;
    if (!r->headers_seen) {
        r->headers_seen = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->len + *upload_size + 1 > h->cfg.max_body) {
            r->too_big = true;
        } else {
            if (r->len + *upload_size + 1 > r->cap) {
                r->cap = (r->len + *upload_size + 1) * 2;
                r->body = bpm_xrealloc(r->body, r->cap);
            }
            memcpy(r->body + r->len, upload, *upload_size);
            r->len += *upload_size;
            r->body[r->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return handle(h, r, c, method);
}

bpm_rc bpm_http_start(const bpm_config *cfg, const char *conninfo, const bpm_executor *ex,
                      bpm_pgstore_counters *counters, bpm_http **out, bpm_err *err)
{
    bpm_http *h = bpm_xcalloc(1, sizeof *h);
    h->cfg = *cfg;
    h->conninfo = bpm_xstrdup(conninfo);
    h->ex = ex;
    h->counters = counters;
    h->auth = cfg->auth == BPM_AUTH_ON || (cfg->auth == BPM_AUTH_AUTO && !bpm_config_loopback(cfg));
    h->webhooks = bpm_webhooks_new();
    /* configured endpoints: mappings compiled now, so a broken one stops the start */
    bpm_scripts *scripts = NULL;
    for (size_t i = 0; i < cfg->n_sections; i++) {
        const bpm_config_section *sec = &cfg->sections[i];
        if (strcmp(sec->prefix, "webhook") != 0)
            continue;
        if (!scripts && !(scripts = bpm_scripts_new(NULL, err))) {
            bpm_webhooks_free(h->webhooks);
            free(h->conninfo);
            free(h);
            return err ? err->rc : BPM_INTERNAL;
        }
        const char *where = sec->where, *kind = bpm_config_get(sec, "kind", &where);
        if (bpm_webhooks_add(h->webhooks, scripts, sec->name, kind, bpm_config_get(sec, "secret", NULL),
                             bpm_config_get(sec, "mapping", NULL), bpm_config_get(sec, "process", NULL), where, err)) {
            bpm_scripts_free(scripts);
            bpm_webhooks_free(h->webhooks);
            free(h->conninfo);
            free(h);
            return err ? err->rc : BPM_INVALID;
        }
    }
    bpm_scripts_free(scripts);
    pthread_key_create(&h->session_key, free_session);
    pthread_mutex_init(&h->mu, NULL);
    bpm_metrics_init(&h->metrics);

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->listen_port);
    const char *host = cfg->listen_host;
    char hostbuf[128];
    if (host[0] == '[') { /* [::1] */
        snprintf(hostbuf, sizeof hostbuf, "%s", host + 1);
        char *e = strchr(hostbuf, ']');
        if (e)
            *e = '\0';
        host = hostbuf;
    }
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1"; /* Camunda Modeler asks for localhost; IPv4 is what it reaches */
    int gai = getaddrinfo(strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0 ? NULL : host, port, &hints, &ai);
    if (gai || !ai) {
        bpm_webhooks_free(h->webhooks);
        free(h->conninfo);
        free(h);
        return bpm_err_set(err, BPM_BAD_REQUEST, "cannot resolve the listen address %s: %s", cfg->listen_host,
                           gai_strerror(gai));
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, h, MHD_OPTION_THREAD_POOL_SIZE,
                            (unsigned)cfg->http_threads, MHD_OPTION_URI_LOG_CALLBACK, uri_logger, h,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_LISTENING_ADDRESS_REUSE,
                            (unsigned)1, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->d) {
        pthread_key_delete(h->session_key);
        bpm_webhooks_free(h->webhooks);
        free(h->conninfo);
        free(h);
        return bpm_err_set(err, BPM_UNAVAILABLE, "cannot listen on %s:%d (is another server using the port?)",
                           cfg->listen_host, cfg->listen_port);
    }
    h->parker_running = pthread_create(&h->parker, NULL, parker, h) == 0;
    *out = h;
    return BPM_OK;
}

void bpm_http_stop(bpm_http *h)
{
    atomic_store(&h->stopping, true);
    MHD_quiesce_daemon(h->d);
    resume(h, true); /* parked long polls answer [] now */
    if (h->parker_running)
        pthread_join(h->parker, NULL);
    resume(h, true);
    /* let the resumed polls be answered before connections are closed */
    for (int i = 0; i < 300 && atomic_load(&h->unanswered) > 0; i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(h->d);
    pthread_key_delete(h->session_key);
    pthread_mutex_destroy(&h->mu);
    bpm_webhooks_free(h->webhooks);
    free(h->conninfo);
    free(h);
}

void bpm_http_set_relay(bpm_http *h, const bpm_relay_stats *stats) { atomic_store(&h->relay, stats); }

void bpm_http_set_consumers(bpm_http *h, bpm_consumer *const *cs, size_t n)
{
    h->consumers = cs;
    atomic_store(&h->n_consumers, n); /* sequentially consistent: consumers is visible first */
}
