/* POST /webhooks/{name}: reading GitHub, CloudEvents and JSON requests into
 * inbound events, the endpoint registry (configuration and deployments),
 * and the handler that maps and delivers (adapters/service/inbound.c). */
#include "webhook.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

bool bpm_webhook_kind_parse(const char *s, bpm_webhook_kind *out)
{
    if (!s || strcmp(s, "json") == 0)
        *out = BPM_WEBHOOK_JSON;
    else if (strcmp(s, "github") == 0)
        *out = BPM_WEBHOOK_GITHUB;
    else if (strcmp(s, "cloudevents") == 0)
        *out = BPM_WEBHOOK_CLOUDEVENTS;
    else
        return false;
    return true;
}

/* ---- reading ------------------------------------------------------------------ */

static const char *hdr(const json_t *h, const char *name) { return json_string_value(json_object_get(h, name)); }

static void decref(void *p) { json_decref(p); }

static json_t *owned(bpm_arena *a, json_t *j)
{
    if (j)
        bpm_arena_defer(a, decref, j);
    return j;
}

/* The media type of a Content-Type value, lower case, without parameters. */
static char *media_type(bpm_arena *a, const char *ct)
{
    if (!ct)
        return NULL;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    char *m = bpm_arena_strndup(a, ct, n);
    for (char *p = m; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return m;
}

static bool is_json_type(const char *m)
{
    if (!m)
        return true; /* no Content-Type: read the body as JSON */
    size_t n = strlen(m);
    return strcmp(m, "application/json") == 0 || strcmp(m, "text/json") == 0 ||
           (n > 5 && strcmp(m + n - 5, "+json") == 0);
}

/* The body as JSON (any value); 0 or 400. */
static int parse_json(const char *body, size_t len, const char *what, bpm_arena *a, json_t **out, bpm_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        bpm_err_set(err, BPM_BAD_REQUEST, "%s is not valid JSON: %s (line %d, column %d)", what, je.text, je.line,
                    je.column);
        return 400;
    }
    *out = owned(a, j);
    return 0;
}

/* CloudEvents 1.0 §3.1.3.2: header values are percent-encoded; the result
 * must be UTF-8. NULL on a bad escape or bad UTF-8. */
static const char *percent_decode(bpm_arena *a, const char *v)
{
    size_t n = strlen(v);
    char *o = bpm_arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] != '%') {
            o[k++] = v[i];
            continue;
        }
        int x = 0;
        for (int j = 1; j <= 2; j++) {
            char c = i + (size_t)j < n ? v[i + (size_t)j] : '\0';
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                return NULL;
            x = x * 16 + d;
        }
        o[k++] = (char)x;
        i += 2;
    }
    o[k] = '\0';
    json_t *check = json_stringn(o, k); /* NULL when not UTF-8 or holding NUL */
    if (!check || memchr(o, '\0', k))
        o = NULL;
    json_decref(check);
    return o;
}

/* CloudEvents 1.0 §3.1.1: attribute names are lower-case letters and digits. */
static bool attr_name_ok(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static int ce_required(const json_t *attrs, bpm_webhook_request *out, const char *mode, bpm_err *err)
{
    static const char *const req[] = {"specversion", "id", "source", "type"};
    for (size_t i = 0; i < 4; i++) {
        const json_t *v = json_object_get(attrs, req[i]);
        if (!json_is_string(v) || !json_string_length(v)) {
            bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvent (%s mode) lacks the required attribute \"%s\"%s", mode,
                        req[i], strcmp(mode, "binary") == 0 ? (i == 0 ? " (header ce-specversion)" : i == 1 ? " (header ce-id)" : i == 2 ? " (header ce-source)" : " (header ce-type)") : "");
            return 400;
        }
    }
    const char *sv = json_string_value(json_object_get(attrs, "specversion"));
    if (strcmp(sv, "1.0") != 0) {
        bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvent's attribute \"specversion\" is \"%.40s\"; only 1.0 is supported",
                    sv);
        return 400;
    }
    const json_t *subj = json_object_get(attrs, "subject");
    if (subj && !json_is_string(subj)) {
        bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvent's attribute \"subject\" is not a string");
        return 400;
    }
    out->ev.id = json_string_value(json_object_get(attrs, "id"));
    out->ev.source = json_string_value(json_object_get(attrs, "source"));
    out->ev.type = json_string_value(json_object_get(attrs, "type"));
    out->ev.subject = json_string_value(subj);
    return 0;
}

static int read_cloudevent(const json_t *headers, const char *body, size_t len, bpm_arena *a, bpm_webhook_request *out,
                           bpm_err *err)
{
    const char *ct = hdr(headers, "content-type");
    const char *mt = media_type(a, ct);
    if (mt && strncmp(mt, "application/cloudevents-batch", 29) == 0) {
        bpm_err_set(err, BPM_BAD_REQUEST,
                    "CloudEvents batch mode (%s) is not supported: send one event per request, in binary or"
                    " structured mode",
                    mt);
        return 415;
    }
    json_t *attrs = owned(a, json_object());
    int st;
    if (mt && strncmp(mt, "application/cloudevents", 23) == 0) {
        /* structured mode: the whole event is the body */
        if (strcmp(mt, "application/cloudevents+json") != 0) {
            bpm_err_set(err, BPM_BAD_REQUEST, "CloudEvents structured mode is supported in JSON only, not %s", mt);
            return 415;
        }
        json_t *ev = NULL;
        if ((st = parse_json(body, len, "the CloudEvent", a, &ev, err)))
            return st;
        if (!json_is_object(ev)) {
            bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvent (structured mode) must be a JSON object");
            return 400;
        }
        const char *k;
        json_t *v;
        json_object_foreach(ev, k, v)
        {
            if (strcmp(k, "data") == 0)
                continue;
            if (strcmp(k, "data_base64") == 0) {
                bpm_err_set(err, BPM_BAD_REQUEST,
                            "the CloudEvent carries binary data (data_base64), which is not supported: send JSON data");
                return 415;
            }
            if (!attr_name_ok(k)) {
                bpm_err_set(err, BPM_BAD_REQUEST,
                            "the CloudEvent's attribute name \"%.64s\" is not lower-case letters and digits", k);
                return 400;
            }
            if (json_is_object(v) || json_is_array(v)) {
                bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvent's attribute \"%s\" is not a scalar", k);
                return 400;
            }
            json_object_set(attrs, k, v);
        }
        if ((st = ce_required(attrs, out, "structured", err)))
            return st;
        out->ev.body = json_object_get(ev, "data");
    } else {
        /* binary mode: attributes in ce-* headers, the body is the data */
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)headers, k, v)
        {
            if (strncmp(k, "ce-", 3) != 0 || !json_is_string(v))
                continue;
            if (!attr_name_ok(k + 3)) {
                bpm_err_set(err, BPM_BAD_REQUEST, "the header \"%.64s\" does not name a CloudEvents attribute", k);
                return 400;
            }
            const char *val = percent_decode(a, json_string_value(v));
            if (!val) {
                bpm_err_set(err, BPM_BAD_REQUEST, "the header \"%.64s\" is not percent-encoded UTF-8", k);
                return 400;
            }
            json_object_set_new(attrs, k + 3, json_string(val));
        }
        if (!json_object_get(attrs, "specversion") && !json_object_get(attrs, "id")) {
            bpm_err_set(err, BPM_BAD_REQUEST,
                        "not a CloudEvent: no ce-specversion header (binary mode) and the Content-Type is not"
                        " application/cloudevents+json (structured mode)");
            return 400;
        }
        if ((st = ce_required(attrs, out, "binary", err)))
            return st;
        if (ct) {
            json_t *c = json_string(ct);
            if (!c) {
                bpm_err_set(err, BPM_BAD_REQUEST, "the Content-Type header is not UTF-8");
                return 400;
            }
            json_object_set_new(attrs, "datacontenttype", c);
        }
        if (len) {
            if (is_json_type(mt)) {
                json_t *data = NULL;
                if ((st = parse_json(body, len, "the CloudEvent's data", a, &data, err)))
                    return st;
                out->ev.body = data;
            } else if (strncmp(mt, "text/", 5) == 0) {
                json_t *s = owned(a, json_stringn(body, len));
                if (!s) {
                    bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvent's data (%s) is not UTF-8 text", mt);
                    return 400;
                }
                out->ev.body = s;
            } else {
                bpm_err_set(err, BPM_BAD_REQUEST,
                            "the CloudEvent's datacontenttype %.100s is not supported: send JSON or text", mt);
                return 415;
            }
        }
    }
    out->ev.attributes = attrs;
    return 0;
}

int bpm_webhook_read(const bpm_webhook_endpoint *ep, const json_t *headers, const char *body, size_t len,
                     bpm_arena *a, bpm_webhook_request *out, bpm_err *err)
{
    memset(out, 0, sizeof *out);
    out->ev.endpoint = ep->name;
    out->ev.headers = headers;
    if (ep->kind == BPM_WEBHOOK_CLOUDEVENTS)
        return read_cloudevent(headers, body, len, a, out, err);
    const char *mt = media_type(a, hdr(headers, "content-type"));
    out->ev.source = bpm_arena_sprintf(a, "webhook/%s", ep->name);
    if (ep->kind == BPM_WEBHOOK_GITHUB) {
        const char *event = hdr(headers, "x-github-event");
        if (!event || !*event) {
            bpm_err_set(err, BPM_BAD_REQUEST, "the X-GitHub-Event header is missing");
            return 400;
        }
        out->ev.type = event;
        out->ev.id = hdr(headers, "x-github-delivery");
        if (out->ev.id && !*out->ev.id)
            out->ev.id = NULL;
        out->ping = strcmp(event, "ping") == 0;
        if (mt && strcmp(mt, "application/x-www-form-urlencoded") == 0) {
            bpm_err_set(err, BPM_BAD_REQUEST,
                        "GitHub sent this webhook as form data: set the webhook's content type to application/json");
            return 415;
        }
    } else {
        out->ev.type = hdr(headers, "x-event-type");
        out->ev.id = hdr(headers, "idempotency-key");
        if (out->ev.id && !*out->ev.id)
            out->ev.id = NULL;
    }
    if (!is_json_type(mt)) {
        bpm_err_set(err, BPM_BAD_REQUEST, "the body must be JSON (Content-Type application/json), not %.100s", mt);
        return 415;
    }
    if (!len) {
        bpm_err_set(err, BPM_BAD_REQUEST, "the body is empty: expected JSON");
        return 400;
    }
    json_t *j = NULL;
    int st = parse_json(body, len, "the body", a, &j, err);
    if (st)
        return st;
    out->ev.body = j;
    return 0;
}

bpm_rc bpm_webhook_default(const bpm_webhook_endpoint *ep, const bpm_inbound_event *ev, bpm_arena *a,
                           bpm_inbound_action *out, bpm_err *err)
{
    (void)err;
    bpm_inbound_action act = {0};
    if (ep->process) {
        act.kind = BPM_INBOUND_START;
        act.process = ep->process;
    } else if (ep->kind == BPM_WEBHOOK_CLOUDEVENTS && ev->type) {
        act.kind = BPM_INBOUND_CORRELATE;
        act.message = ev->type;
        act.correlation_key = ev->subject;
        if (!act.correlation_key)
            act.correlation_key = json_string_value(json_object_get(ev->attributes, "correlationkey"));
        act.business_key = json_string_value(json_object_get(ev->attributes, "businesskey"));
    }
    if (act.kind != BPM_INBOUND_UNROUTED && json_is_object(ev->body)) {
        act.variables = json_deep_copy(ev->body);
        bpm_arena_defer(a, decref, act.variables);
    }
    *out = act;
    return BPM_OK;
}

/* ---- endpoints ---------------------------------------------------------------- */

struct bpm_webhooks {
    pthread_mutex_t mu;
    bpm_arena *arena; /* endpoints and compiled mappings, for the registry's life */
    bpm_webhook_endpoint *conf;
    size_t n_conf;
    bpm_strmap deployed; /* definition id -> bpm_webhook_endpoint* */
};

bpm_webhooks *bpm_webhooks_new(void)
{
    bpm_webhooks *w = bpm_xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    w->arena = bpm_arena_new();
    bpm_strmap_init(&w->deployed, w->arena);
    return w;
}

void bpm_webhooks_free(bpm_webhooks *w)
{
    if (!w)
        return;
    free(w->conf);
    bpm_arena_free(w->arena);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* The secret's value from the environment variable env (never logged). */
static void set_secret(bpm_webhooks *w, bpm_webhook_endpoint *ep, const char *env)
{
    const char *v = env && *env ? getenv(env) : NULL;
    if (env && *env && (!v || !*v)) {
        ep->secret_missing = bpm_arena_strdup(w->arena, env);
        return;
    }
    if (v) {
        ep->secret = bpm_arena_strdup(w->arena, v);
        ep->secret_len = strlen(v);
    }
}

bpm_rc bpm_webhooks_add(bpm_webhooks *w, bpm_scripts *scripts, const char *name, const char *kind,
                        const char *secret_env, const char *mapping_path, const char *process, const char *where,
                        bpm_err *err)
{
    bpm_webhook_endpoint ep = {.name = bpm_arena_strdup(w->arena, name), .origin = bpm_arena_strdup(w->arena, where)};
    if (!bpm_webhook_kind_parse(kind, &ep.kind))
        return bpm_err_set(err, BPM_INVALID, "%s: webhook.%s.kind must be github, cloudevents or json, not \"%s\"",
                           where, name, kind);
    set_secret(w, &ep, secret_env);
    if (ep.secret_missing)
        return bpm_err_set(err, BPM_INVALID, "%s: webhook.%s.secret names the environment variable %s, which is not set",
                           where, name, secret_env);
    if (process && *process)
        ep.process = bpm_arena_strdup(w->arena, process);
    if (mapping_path && *mapping_path) {
        char what[96];
        snprintf(what, sizeof what, "webhook \"%s\"", name);
        bpm_inbound_mapping *m = NULL;
        pthread_mutex_lock(&w->mu);
        bpm_rc rc = bpm_inbound_mapping_load(scripts, mapping_path, what, where, w->arena, &m, err);
        pthread_mutex_unlock(&w->mu);
        if (rc)
            return rc;
        ep.mapping = m;
    }
    if (!ep.mapping && !ep.process && ep.kind != BPM_WEBHOOK_CLOUDEVENTS)
        return bpm_err_set(err, BPM_INVALID, "%s: webhook \"%s\" needs a mapping (webhook.%s.mapping) or a process to start"
                           " (webhook.%s.process)", where, name, name, name);
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->n_conf; i++)
        if (strcmp(w->conf[i].name, name) == 0) {
            pthread_mutex_unlock(&w->mu);
            return bpm_err_set(err, BPM_INVALID, "%s: webhook \"%s\" is defined twice", where, name);
        }
    w->conf = bpm_xrealloc(w->conf, (w->n_conf + 1) * sizeof *w->conf);
    w->conf[w->n_conf++] = ep;
    pthread_mutex_unlock(&w->mu);
    return BPM_OK;
}

static const char *prop(const bpm_process *p, const char *name)
{
    for (size_t i = 0; i < p->n_properties; i++)
        if (p->properties[i].name && strcmp(p->properties[i].name, name) == 0)
            return p->properties[i].value;
    return NULL;
}

/* A deployed process's endpoint, read from its properties (under w->mu). */
static bpm_rc deployed_endpoint(bpm_webhooks *w, bpm_session *s, const char *def_id, bpm_webhook_endpoint **out,
                                bpm_err *err)
{
    bpm_store st = bpm_pgstore_port(s->store);
    const bpm_model *m = NULL;
    const bpm_process *p = NULL;
    bpm_rc rc = st.ops->model(st.self, def_id, &m, &p, err);
    if (rc)
        return rc;
    bpm_webhook_endpoint *ep = bpm_arena_calloc(w->arena, 1, sizeof *ep);
    ep->name = bpm_arena_strdup(w->arena, prop(p, "bpmnd.webhook.name"));
    ep->origin = bpm_arena_sprintf(w->arena, "process \"%s\" (definition %s)", p->id, def_id);
    ep->process = bpm_arena_strdup(w->arena, p->id);
    const char *kind = prop(p, "bpmnd.webhook.kind");
    if (!bpm_webhook_kind_parse(kind, &ep->kind))
        return bpm_err_set(err, BPM_INVALID, "%s: bpmnd.webhook.kind must be github, cloudevents or json, not \"%s\"",
                           ep->origin, kind);
    set_secret(w, ep, prop(p, "bpmnd.webhook.secret"));
    const char *text = prop(p, "bpmnd.webhook.mapping");
    if (text && *text) {
        char *name = bpm_arena_sprintf(w->arena, "bpmnd.webhook.mapping of process %s", p->id);
        bpm_inbound_mapping *mp = NULL;
        if ((rc = bpm_inbound_mapping_compile(s->scripts, name, text, strlen(text), w->arena, &mp, err)))
            return rc;
        ep->mapping = mp;
    }
    *out = ep;
    return BPM_OK;
}

bpm_rc bpm_webhooks_find(bpm_webhooks *w, bpm_session *s, const char *name, const bpm_webhook_endpoint **out,
                         bpm_err *err)
{
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->n_conf; i++)
        if (strcmp(w->conf[i].name, name) == 0) {
            *out = &w->conf[i];
            pthread_mutex_unlock(&w->mu);
            return BPM_OK;
        }
    pthread_mutex_unlock(&w->mu);
    const char *p[1] = {name};
    PGresult *res = NULL;
    bpm_rc rc = bpm_pg_query(s->pg, "select definition_id from webhook_endpoint where name = $1", 1, p, NULL, NULL,
                             &res, "find a webhook endpoint", err);
    if (rc)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return bpm_err_set(err, BPM_NOT_FOUND, "no webhook endpoint is named \"%s\"", name);
    }
    char def[256];
    snprintf(def, sizeof def, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    pthread_mutex_lock(&w->mu);
    bpm_webhook_endpoint *ep = bpm_strmap_get(&w->deployed, def);
    if (!ep) {
        rc = deployed_endpoint(w, s, def, &ep, err);
        if (!rc)
            bpm_strmap_put(&w->deployed, bpm_arena_strdup(w->arena, def), ep, NULL);
    }
    pthread_mutex_unlock(&w->mu);
    if (!rc)
        *out = ep;
    return rc;
}

/* ---- handling ----------------------------------------------------------------- */

static bpm_webhook_outcome refuse(bpm_api_resp *r, int status, const char *error, const bpm_webhook_endpoint *ep,
                                  const char *msg)
{
    bpm_api_json(r, status,
                 json_pack("{s:i, s:s, s:s, s:s}", "status", status, "error", error, "endpoint", ep->name, "message",
                           msg));
    return BPM_WEBHOOK_REFUSED;
}

bpm_webhook_outcome bpm_webhook_handle(const bpm_api_req *req, const bpm_webhook_endpoint *ep, const json_t *headers,
                                       bpm_api_resp *r)
{
    bpm_arena *a = bpm_arena_new();
    bpm_err err = {0};
    bpm_webhook_request wr;
    bpm_webhook_outcome out = BPM_WEBHOOK_REFUSED;
    int st = bpm_webhook_read(ep, headers, req->body, req->body_len, a, &wr, &err);
    if (st) {
        out = refuse(r, st, st == 415 ? "unsupported_media_type" : "bad_request", ep, err.msg);
        goto done;
    }
    if (wr.ping) {
        bpm_api_json(r, 200, json_pack("{s:b, s:s}", "ping", 1, "endpoint", ep->name));
        out = BPM_WEBHOOK_IGNORED;
        goto done;
    }
    bpm_inbound_action act;
    bpm_rc rc = ep->mapping ? bpm_inbound_map(req->s->scripts, ep->mapping, &wr.ev, req->now_ms, a, &act, &err)
                            : bpm_webhook_default(ep, &wr.ev, a, &act, &err);
    if (rc) {
        out = refuse(r, 422, "mapping_failed", ep, err.msg);
        goto done;
    }
    if (act.kind == BPM_INBOUND_UNROUTED) {
        char msg[400];
        snprintf(msg, sizeof msg, "the %s routes no event of type \"%.100s\"",
                 ep->mapping ? bpm_inbound_mapping_name(ep->mapping) : "endpoint's default mapping",
                 wr.ev.type ? wr.ev.type : "(none)");
        out = refuse(r, 422, "not_routed", ep, msg);
        goto done;
    }
    if (act.kind == BPM_INBOUND_IGNORE) {
        bpm_api_json(r, 200, json_pack("{s:b, s:s, s:s?}", "ignored", 1, "endpoint", ep->name, "reason", act.reason));
        out = BPM_WEBHOOK_IGNORED;
        goto done;
    }
    bpm_inbound_result res;
    rc = bpm_inbound_deliver(req->s, &wr.ev, &act, req->user, req->now_ms, &res, &err);
    if (rc) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s%s%s", err.msg, err.where[0] ? " at " : "", err.where);
        switch (rc) {
        case BPM_NOT_FOUND:
            out = refuse(r, 422, act.kind == BPM_INBOUND_START ? "no_process" : "no_match", ep, msg);
            break;
        case BPM_CONFLICT:
            out = refuse(r, 409, "conflict", ep, msg);
            break;
        case BPM_INVALID:
        case BPM_SCRIPT:
        case BPM_LIMIT:
            out = refuse(r, 422, "failed", ep, msg);
            break;
        case BPM_UNAVAILABLE:
            out = refuse(r, 503, "unavailable", ep, msg);
            break;
        default:
            out = refuse(r, 500, "internal", ep, msg);
            break;
        }
        goto done;
    }
    json_t *o = json_pack("{s:s, s:s}", "endpoint", ep->name, "action",
                          act.kind == BPM_INBOUND_START ? "start" : "correlate");
    if (wr.ev.id)
        json_object_set_new(o, "eventId", json_string(wr.ev.id));
    if (res.instance_id[0])
        json_object_set_new(o, "instanceId", json_string(res.instance_id));
    if (res.duplicate) {
        json_object_set_new(o, "duplicate", json_true());
        bpm_api_json(r, 200, o);
        out = BPM_WEBHOOK_DUPLICATE;
    } else {
        json_object_set_new(o, "duplicate", json_false());
        if (act.kind == BPM_INBOUND_CORRELATE)
            json_object_set_new(o, "correlations", json_integer((json_int_t)res.correlations));
        bpm_api_json(r, 202, o);
        out = BPM_WEBHOOK_ACCEPTED;
    }
done:
    bpm_arena_free(a);
    return out;
}
