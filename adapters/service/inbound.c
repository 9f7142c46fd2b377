/* Inbound events: the Lua mapping (compiled once, run in the sandbox per
 * event), the action it returns, and delivery with the de-duplication key
 * in the runtime's transaction (armed on the store, see pgstore.h). */
#include "inbound.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

struct bpm_inbound_mapping {
    const char *name;
    const void *compiled; /* a scripts/ handle in the mapping's arena */
};

/* Puts prefix (naming the mapping) before err's message; returns rc. */
static bpm_rc restate(bpm_err *err, bpm_rc rc, const char *fmt, const char *name)
{
    if (!err)
        return rc;
    char msg[sizeof err->msg], prefix[200];
    snprintf(msg, sizeof msg, "%s", err->msg);
    snprintf(prefix, sizeof prefix, fmt, name);
    return bpm_err_set(err, rc, "%s%s", prefix, msg);
}

bpm_rc bpm_inbound_mapping_compile(bpm_scripts *scripts, const char *name, const char *text, size_t len, bpm_arena *a,
                                   bpm_inbound_mapping **out, bpm_err *err)
{
    if (memchr(text, '\0', len))
        return bpm_err_set(err, BPM_INVALID, "mapping \"%s\" contains a NUL byte", name);
    bpm_expr e = {.text = bpm_arena_strndup(a, text, len), .language = "lua", .dialect = BPM_DIALECT_LUA, .line = 1};
    const void *h = NULL;
    bpm_rc rc = bpm_scripts_compile(scripts, &e, BPM_USE_SCRIPT, a, &h, err);
    if (rc)
        return restate(err, rc, "mapping \"%s\": ", name);
    bpm_inbound_mapping *m = bpm_arena_calloc(a, 1, sizeof *m);
    m->name = bpm_arena_strdup(a, name);
    m->compiled = h;
    *out = m;
    return BPM_OK;
}

const char *bpm_inbound_mapping_name(const bpm_inbound_mapping *m) { return m->name; }

/* ---- the variables a mapping sees: `event` only, read-only ------------------- */

static json_t *ev_get(void *ctx, const char *name) { return strcmp(name, "event") == 0 ? ctx : NULL; }

static bpm_rc ev_set(void *ctx, const char *name, json_t *value, bpm_err *err)
{
    (void)ctx;
    json_decref(value);
    return bpm_err_set(err, BPM_SCRIPT, "a mapping cannot set variables (\"%s\"): return them as `variables`", name);
}

static void ev_each(void *ctx, void (*fn)(void *arg, const char *name, json_t *value), void *arg)
{
    fn(arg, "event", ctx);
}

static const bpm_vars_ops event_vars = {ev_get, ev_set, ev_set, ev_each};

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

/* The event as the mapping's `event` table (new reference). */
static json_t *event_json(const bpm_inbound_event *ev)
{
    json_t *o = json_object();
    set_str(o, "endpoint", ev->endpoint);
    set_str(o, "source", ev->source);
    set_str(o, "id", ev->id);
    set_str(o, "type", ev->type);
    set_str(o, "subject", ev->subject);
    json_object_set_new(o, "headers", ev->headers ? json_deep_copy(ev->headers) : json_object());
    json_object_set_new(o, "attributes", ev->attributes ? json_deep_copy(ev->attributes) : json_object());
    if (ev->body)
        json_object_set_new(o, "body", json_deep_copy(ev->body));
    return o;
}

static void decref(void *p) { json_decref(p); }

/* A string member, or NULL; numbers are accepted as keys and written as
 * their JSON text (an order number 42 correlates with "42"). */
static bpm_rc member_str(const json_t *v, const char *k, const char *what, bpm_arena *a, const char **out,
                         bpm_err *err)
{
    const json_t *m = json_object_get(v, k);
    *out = NULL;
    if (!m || json_is_null(m))
        return BPM_OK;
    if (json_is_string(m)) {
        if (!json_string_length(m))
            return bpm_err_set(err, BPM_INVALID, "mapping \"%s\" returned an empty \"%s\"", what, k);
        *out = bpm_arena_strdup(a, json_string_value(m));
        return BPM_OK;
    }
    if (json_is_integer(m)) {
        *out = bpm_arena_sprintf(a, "%lld", (long long)json_integer_value(m));
        return BPM_OK;
    }
    return bpm_err_set(err, BPM_INVALID, "mapping \"%s\" returned \"%s\" as a %s, expected a string", what, k,
                       json_is_object(m) ? "table" : json_is_array(m) ? "list" : "non-string value");
}

bpm_rc bpm_inbound_action_read(const json_t *v, const char *what, bpm_arena *a, bpm_inbound_action *out,
                               bpm_err *err)
{
    bpm_inbound_action act = {0};
    if (!v || json_is_null(v)) {
        *out = act;
        return BPM_OK;
    }
    if (!json_is_object(v))
        return bpm_err_set(err, BPM_INVALID,
                           "mapping \"%s\" returned a %s; expected a table {start = ...}, {message = ...},"
                           " {ignore = true} or nothing",
                           what, json_is_array(v) ? "list" : json_is_string(v) ? "string" : "non-table value");
    static const char *const known[] = {"start",     "message", "correlationKey", "businessKey", "variables",
                                        "all",       "ignore",  "reason",         NULL};
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)v, k, val)
    {
        bool ok = false;
        for (const char *const *kn = known; *kn && !ok; kn++)
            ok = strcmp(*kn, k) == 0;
        if (!ok)
            return bpm_err_set(err, BPM_INVALID,
                               "mapping \"%s\" returned an unknown field \"%s\" (known: start, message,"
                               " correlationKey, businessKey, variables, all, ignore, reason)",
                               what, k);
    }
    bpm_rc rc;
    if ((rc = member_str(v, "start", what, a, &act.process, err)) ||
        (rc = member_str(v, "message", what, a, &act.message, err)) ||
        (rc = member_str(v, "correlationKey", what, a, &act.correlation_key, err)) ||
        (rc = member_str(v, "businessKey", what, a, &act.business_key, err)) ||
        (rc = member_str(v, "reason", what, a, &act.reason, err)))
        return rc;
    const json_t *ign = json_object_get(v, "ignore");
    bool ignore = ign && !json_is_false(ign) && !json_is_null(ign);
    int n = (act.process != NULL) + (act.message != NULL) + ignore;
    if (n != 1)
        return bpm_err_set(err, BPM_INVALID, "mapping \"%s\" returned %s of start, message and ignore; expected one",
                           what, n ? "more than one" : "none");
    const json_t *all = json_object_get(v, "all");
    if (all && !json_is_boolean(all))
        return bpm_err_set(err, BPM_INVALID, "mapping \"%s\" returned \"all\" that is not a boolean", what);
    act.all = json_is_true(all);
    const json_t *vars = json_object_get(v, "variables");
    if (vars && !json_is_null(vars)) {
        /* an empty Lua table reads as an empty object either way */
        if (json_is_array(vars) && json_array_size(vars) == 0)
            vars = NULL;
        else if (!json_is_object(vars))
            return bpm_err_set(err, BPM_INVALID, "mapping \"%s\" returned \"variables\" that is not a table of names",
                               what);
        if (vars) {
            act.variables = json_deep_copy(vars);
            bpm_arena_defer(a, decref, act.variables);
        }
    }
    if (act.process && (act.correlation_key || act.all))
        return bpm_err_set(err, BPM_INVALID, "mapping \"%s\" returned correlationKey or all with start", what);
    act.kind = ignore ? BPM_INBOUND_IGNORE : act.process ? BPM_INBOUND_START : BPM_INBOUND_CORRELATE;
    *out = act;
    return BPM_OK;
}

bpm_rc bpm_inbound_map(bpm_scripts *scripts, const bpm_inbound_mapping *m, const bpm_inbound_event *ev,
                       int64_t now_ms, bpm_arena *a, bpm_inbound_action *out, bpm_err *err)
{
    json_t *evj = event_json(ev);
    bpm_vars vars = {&event_vars, evj};
    bpm_eval_call call = {.element_id = m->name, .definition_key = ev->endpoint, .now_ms = now_ms};
    bpm_eval_result res = {0};
    bpm_rc rc = bpm_scripts_run(scripts, m->compiled, &call, &vars, a, &res, err);
    json_decref(evj);
    if (rc)
        return restate(err, rc, "mapping \"%s\" failed: ", m->name);
    if (res.outcome != BPM_EVAL_VALUE) {
        json_decref(res.value);
        return bpm_err_set(err, BPM_INVALID, "mapping \"%s\" refused the event: %s%s%s", m->name,
                           res.code ? res.code : "", res.message ? ": " : "", res.message ? res.message : "");
    }
    rc = bpm_inbound_action_read(res.value, m->name, a, out, err);
    json_decref(res.value);
    return rc;
}

bpm_rc bpm_inbound_deliver(bpm_session *s, const bpm_inbound_event *ev, const bpm_inbound_action *act,
                           const char *user, int64_t now_ms, bpm_inbound_result *out, bpm_err *err)
{
    bpm_inbound_result r = {0};
    if (act->kind != BPM_INBOUND_START && act->kind != BPM_INBOUND_CORRELATE) {
        *out = r;
        return BPM_OK;
    }
    bpm_rc rc = BPM_OK;
    bpm_pgstore_dedupe(s->store, ev->source, ev->id);
    if (act->kind == BPM_INBOUND_START) {
        /* the latest active version of the key: cached, and checked in the
         * start's own transaction; looked up again when it changed */
        char def[256] = "";
        for (int fresh = 0; fresh < 2; fresh++) {
            if ((rc = bpm_pgstore_start_definition(s->store, act->process, fresh, def, err)))
                break;
            rc = bpm_runtime_start(&s->rt, def, NULL, act->variables, act->business_key, user, now_ms, r.instance_id,
                                   err);
            if (!bpm_pgstore_guard_stale(s->store))
                break;
        }
        bpm_pgstore_guard(s->store, NULL, NULL);
    } else {
        rc = bpm_runtime_correlate(&s->rt, act->message, act->correlation_key, act->business_key, act->variables,
                                   act->all, 0, now_ms, &r.correlations, err);
        if (!rc)
            snprintf(r.instance_id, sizeof r.instance_id, "%s", bpm_pgstore_first_instance(s->store));
    }
    if (rc == BPM_DUPLICATE && bpm_pgstore_dedupe_hit(s->store, r.instance_id)) {
        r.duplicate = true;
        r.correlations = 0;
        rc = BPM_OK;
        if (err)
            bpm_err_clear(err);
    }
    bpm_pgstore_dedupe(s->store, NULL, NULL);
    if (!rc)
        *out = r;
    return rc;
}

bpm_rc bpm_inbound_mapping_load(bpm_scripts *scripts, const char *path, const char *what, const char *where,
                                bpm_arena *a, bpm_inbound_mapping **out, bpm_err *err)
{
    enum { MAX_MAPPING = 1 << 20 };
    FILE *f = fopen(path, "rb");
    if (!f)
        return bpm_err_set(err, BPM_INVALID, "%s: cannot read the mapping of %s: %s", where, what, path);
    char *text = bpm_xmalloc(MAX_MAPPING + 1);
    size_t len = fread(text, 1, MAX_MAPPING + 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || len > MAX_MAPPING) {
        free(text);
        return bpm_err_set(err, BPM_INVALID, "%s: the mapping of %s, %s, %s", where, what, path,
                           failed ? "cannot be read" : "is longer than 1 MiB");
    }
    bpm_rc rc = bpm_inbound_mapping_compile(scripts, path, text, len, a, out, err);
    free(text);
    if (rc && err) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        bpm_err_set(err, rc, "%.300s: %s", where, msg);
    }
    return rc;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool bpm_inbound_hmac_check(const char *secret, size_t secret_len, const void *body, size_t len, const char *header)
{
    if (!secret || !secret_len || !header || strncmp(header, "sha256=", 7) != 0 || strlen(header) != 7 + 64)
        return false;
    unsigned char given[32];
    const char *h = header + 7;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        given[i] = (unsigned char)(hi << 4 | lo);
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, body ? body : (const void *)"", len, mac, &mac_len) ||
        mac_len != 32)
        return false;
    return CRYPTO_memcmp(mac, given, 32) == 0; /* constant time: no early exit on the first wrong byte */
}
