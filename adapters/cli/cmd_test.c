/* bpmnctl test DIAGRAM SCENARIO... and bpmnctl simulate DIAGRAM: a diagram
 * run in memory with a virtual clock, by the same step function as the
 * server. The scenario format is documented in docs/scenarios.md. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpmn.h"
#include "cli.h"
#include "pg.h"
#include "pgstore.h"
#include "compile.h"
#include "scripts.h"
#include "sim.h"
#include "timer.h"

#define SIM_EPOCH_MS 1767225600000LL /* 2026-01-01T00:00:00Z: scenarios start here */

typedef struct runner {
    bpm_model *m;
    bpm_scripts *scripts;
    bpm_evaluator ev;
    bpm_sim *sim;
    bpm_pgstore *store; /* --database: steps go through PostgreSQL */
} runner;

/* --database: the connection and store shared by every scenario of a run. */
static bpm_pg *test_pg;
static bpm_pgstore *test_store;

static int load(runner *r, const char *path)
{
    memset(r, 0, sizeof *r);
    bpm_diags d;
    bpm_diags_init(&d);
    bpm_err err = {0};
    bpm_rc rc = bpm_bpmn_read_file(path, NULL, &r->m, &d, &err);
    int status = 0;
    for (size_t i = 0; i < d.n; i++)
        if (d.items[i].severity == BPM_SEV_ERROR)
            fprintf(stderr, "%s:%d: error: [%s] %s\n", d.items[i].file ? d.items[i].file : path, d.items[i].line,
                    d.items[i].element_id ? d.items[i].element_id : "", d.items[i].message);
    if (rc != BPM_OK || bpm_diags_has_errors(&d))
        status = 1;
    bpm_diags_cleanup(&d);
    if (status) {
        bpm_model_unref(r->m);
        r->m = NULL;
        return status;
    }
    r->scripts = bpm_scripts_new(NULL, &err);
    if (!r->scripts) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        bpm_model_unref(r->m);
        return 1;
    }
    r->ev = bpm_scripts_evaluator(r->scripts);
    bpm_diags_init(&d);
    if (bpm_compile_model(r->m, &r->ev, &d) != BPM_OK) {
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "%s:%d: error: [%s] %s\n", path, d.items[i].line,
                    d.items[i].element_id ? d.items[i].element_id : "", d.items[i].message);
        bpm_diags_cleanup(&d);
        bpm_scripts_free(r->scripts);
        bpm_model_unref(r->m);
        return 1;
    }
    bpm_diags_cleanup(&d);
    return 0;
}

static void unload(runner *r)
{
    bpm_sim_free(r->sim);
    bpm_scripts_free(r->scripts);
    bpm_model_unref(r->m);
}

/* ---- words of a scenario line ---------------------------------------------------- */

typedef struct line {
    char *p; /* cursor */
} line;

static char *word(line *l)
{
    while (*l->p && isspace((unsigned char)*l->p))
        l->p++;
    if (!*l->p)
        return NULL;
    char *start = l->p;
    if (*start == '"') {
        start++;
        char *end = strchr(start, '"');
        if (!end)
            return NULL;
        *end = '\0';
        l->p = end + 1;
        return start;
    }
    while (*l->p && !isspace((unsigned char)*l->p))
        l->p++;
    if (*l->p)
        *l->p++ = '\0';
    return start;
}

/* The rest of the line as JSON (an object). */
static json_t *rest_json(line *l, char *why, size_t n)
{
    while (*l->p && isspace((unsigned char)*l->p))
        l->p++;
    json_error_t je;
    json_t *v = json_loads(l->p, JSON_DECODE_ANY, &je);
    if (!v) {
        snprintf(why, n, "invalid JSON: %s (column %d)", je.text, je.column);
        return NULL;
    }
    l->p += strlen(l->p);
    return v;
}

static int64_t duration_ms(const char *s, bool *ok)
{
    bpm_timer_duration d;
    int64_t out = 0;
    *ok = bpm_timer_parse_duration(s, &d, NULL) == BPM_OK && bpm_timer_add(0, &d, &out, NULL) == BPM_OK;
    return out;
}

static bool contains_in_order(json_t *have, char **want, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < json_array_size(have) && j < n; i++)
        if (strcmp(json_string_value(json_array_get(have, i)), want[j]) == 0)
            j++;
    return j == n;
}

/* Completed elements of every instance, in order (the process itself excluded). */
static json_t *completed(const bpm_sim *s)
{
    json_t *out = json_array();
    size_t n;
    const bpm_sim_event *t = bpm_sim_trace(s, &n);
    for (size_t i = 0; i < n; i++)
        if (t[i].kind == BPM_FX_LEAVE && t[i].element)
            json_array_append_new(out, json_string(t[i].element));
    return out;
}

static char *join(json_t *arr)
{
    size_t len = 1;
    for (size_t i = 0; i < json_array_size(arr); i++)
        len += strlen(json_string_value(json_array_get(arr, i))) + 1;
    char *s = bpm_xmalloc(len);
    s[0] = '\0';
    size_t off = 0;
    for (size_t i = 0; i < json_array_size(arr); i++)
        off += (size_t)snprintf(s + off, len - off, "%s%s", i ? " " : "", json_string_value(json_array_get(arr, i)));
    return s;
}

/* Runs one scenario line; returns NULL when fine, else why not. */
static const char *run_line(runner *r, char *text, char *why, size_t n, const char **process)
{
    line l = {text};
    char *verb = word(&l);
    if (!verb || verb[0] == '#')
        return NULL;
    bpm_err err = {0};
    bpm_rc rc = BPM_OK;
    json_t *vars = NULL;
    const char *result = NULL;
#define NEED(w, what)                                               \
    if (!(w)) {                                                     \
        snprintf(why, n, "\"%s\" needs %s", verb, what);            \
        result = why;                                               \
        goto done;                                                  \
    }
    if (strcmp(verb, "process") == 0) {
        char *p = word(&l);
        NEED(p, "a process id");
        *process = bpm_arena_strdup(r->m->arena, p);
    } else if (strcmp(verb, "start") == 0) {
        const char *at = NULL, *key = NULL;
        char *w;
        while ((w = word(&l))) {
            if (strcmp(w, "at") == 0)
                at = word(&l);
            else if (strcmp(w, "business-key") == 0)
                key = word(&l);
            else if (strcmp(w, "vars") == 0) {
                if (!(vars = rest_json(&l, why, n))) {
                    result = why;
                    goto done;
                }
            } else {
                snprintf(why, n, "unknown word \"%s\" after start", w);
                result = why;
                goto done;
            }
        }
        if (!r->sim)
            r->sim = r->store ? bpm_sim_new_durable(r->m, &r->ev, SIM_EPOCH_MS, bpm_pgstore_port(r->store))
                              : bpm_sim_new(r->m, &r->ev, SIM_EPOCH_MS);
        rc = bpm_sim_start(r->sim, *process, at, vars, key, NULL, &err);
    } else if (!r->sim) {
        snprintf(why, n, "\"%s\" before \"start\"", verb);
        return why;
    } else if (strcmp(verb, "complete") == 0) {
        char *el = word(&l);
        NEED(el, "an element id");
        char *w = word(&l);
        if (w && strcmp(w, "vars") == 0 && !(vars = rest_json(&l, why, n))) {
            result = why;
            goto done;
        }
        rc = bpm_sim_complete(r->sim, el, NULL, vars, &err);
    } else if (strcmp(verb, "respond") == 0) {
        /* respond ELEMENT STATUS [JSON body] | respond ELEMENT TIMEOUT|UNREACHABLE */
        char *el = word(&l), *st = word(&l);
        NEED(el && st, "an element id and an HTTP status (or TIMEOUT, UNREACHABLE)");
        char *end = NULL;
        long status = strtol(st, &end, 10);
        bool numeric = end && end != st && *end == '\0';
        if (numeric && (status < 100 || status > 599)) {
            snprintf(why, n, "HTTP status %ld is not between 100 and 599", status);
            result = why;
            goto done;
        }
        while (*l.p == ' ')
            l.p++;
        if (numeric && *l.p && !(vars = rest_json(&l, why, n))) {
            result = why;
            goto done;
        }
        rc = bpm_sim_respond(r->sim, el, numeric ? (int)status : 0, vars, numeric ? NULL : st, &err);
    } else if (strcmp(verb, "fail") == 0) {
        char *el = word(&l);
        NEED(el, "an element id");
        while (*l.p == ' ')
            l.p++;
        rc = bpm_sim_fail(r->sim, el, *l.p ? l.p : NULL, &err);
    } else if (strcmp(verb, "throw") == 0) {
        char *el = word(&l), *code = word(&l);
        NEED(el && code, "an element id and an error code");
        rc = bpm_sim_throw(r->sim, el, code, NULL, NULL, &err);
    } else if (strcmp(verb, "correlate") == 0) {
        char *name = word(&l);
        NEED(name, "a message name");
        const char *key = NULL, *bk = NULL;
        bool all = false;
        int64_t ttl = 0;
        char *w;
        while ((w = word(&l))) {
            if (strcmp(w, "ttl") == 0) {
                bool ok = false;
                const char *d = word(&l);
                ttl = d ? duration_ms(d, &ok) : 0;
                if (!ok) {
                    snprintf(why, n, "ttl needs an ISO 8601 duration such as PT1H");
                    result = why;
                    goto done;
                }
            } else if (strcmp(w, "key") == 0)
                key = word(&l);
            else if (strcmp(w, "business-key") == 0)
                bk = word(&l);
            else if (strcmp(w, "all") == 0)
                all = true;
            else if (strcmp(w, "vars") == 0) {
                if (!(vars = rest_json(&l, why, n))) {
                    result = why;
                    goto done;
                }
            }
        }
        rc = bpm_sim_correlate(r->sim, name, key, bk, vars, all, ttl, &err);
    } else if (strcmp(verb, "signal") == 0) {
        char *name = word(&l);
        NEED(name, "a signal name");
        char *w = word(&l);
        if (w && strcmp(w, "vars") == 0 && !(vars = rest_json(&l, why, n))) {
            result = why;
            goto done;
        }
        rc = bpm_sim_signal(r->sim, name, vars, &err);
    } else if (strcmp(verb, "advance") == 0) {
        char *d = word(&l);
        NEED(d, "an ISO 8601 duration such as PT1H");
        bool ok;
        int64_t ms = duration_ms(d, &ok);
        if (!ok) {
            snprintf(why, n, "\"%s\" is not an ISO 8601 duration", d);
            return why;
        }
        rc = bpm_sim_advance(r->sim, ms, &err);
    } else if (strcmp(verb, "cancel") == 0) {
        rc = bpm_sim_cancel(r->sim, NULL, &err);
    } else if (strcmp(verb, "expect") == 0) {
        char *what = word(&l);
        NEED(what, "what to expect");
        const bpm_inst *main = bpm_sim_main(r->sim);
        if (strcmp(what, "waiting") == 0) {
            json_t *have = bpm_sim_active(r->sim);
            json_t *want = json_array();
            char *w;
            while ((w = word(&l)))
                if (strcmp(w, "nothing") != 0)
                    json_array_append_new(want, json_string(w));
            /* compare as sorted sets */
            json_t *sorted = json_array();
            char *ws[256];
            size_t k = 0;
            for (size_t i = 0; i < json_array_size(want) && k < 256; i++)
                ws[k++] = (char *)json_string_value(json_array_get(want, i));
            for (size_t i = 1; i < k; i++)
                for (size_t j = i; j > 0 && strcmp(ws[j - 1], ws[j]) > 0; j--) {
                    char *t = ws[j];
                    ws[j] = ws[j - 1];
                    ws[j - 1] = t;
                }
            for (size_t i = 0; i < k; i++)
                json_array_append_new(sorted, json_string(ws[i]));
            if (!json_equal(have, sorted)) {
                char *h = join(have), *x = join(sorted);
                snprintf(why, n, "waiting at [%s], expected [%s]", h, x);
                free(h);
                free(x);
                result = why;
            }
            json_decref(have);
            json_decref(want);
            json_decref(sorted);
        } else if (strcmp(what, "completed") == 0 || strcmp(what, "trace") == 0) {
            json_t *have = completed(r->sim);
            char *ws[512];
            size_t k = 0;
            char *w;
            while ((w = word(&l)) && k < 512)
                ws[k++] = w;
            bool ok;
            if (strcmp(what, "completed") == 0) {
                ok = json_array_size(have) == k;
                for (size_t i = 0; ok && i < k; i++)
                    ok = strcmp(json_string_value(json_array_get(have, i)), ws[i]) == 0;
            } else {
                ok = contains_in_order(have, ws, k);
            }
            if (!ok) {
                char *h = join(have);
                snprintf(why, n, "completed [%s]", h);
                free(h);
                result = why;
            }
            json_decref(have);
        } else if (strcmp(what, "vars") == 0) {
            json_t *want = rest_json(&l, why, n);
            if (!want || !json_is_object(want)) {
                json_decref(want);
                if (!want)
                    return why;
                snprintf(why, n, "expect vars needs a JSON object");
                return why;
            }
            const char *k;
            json_t *v;
            json_object_foreach(want, k, v)
            {
                const bpm_ei *root = main ? bpm_inst_root(main) : NULL;
                json_t *have = root && root->vars ? json_object_get(root->vars, k) : NULL;
                if (!have || !json_equal(have, v)) {
                    char *hs = have ? json_dumps(have, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
                    char *vs = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                    snprintf(why, n, "variable \"%s\" is %s, expected %s", k, hs ? hs : "undefined", vs);
                    free(hs);
                    free(vs);
                    result = why;
                    break;
                }
            }
            json_decref(want);
        } else if (strcmp(what, "ended") == 0 || strcmp(what, "running") == 0) {
            bool ended = main && main->state != BPM_INST_ACTIVE;
            if (ended != (strcmp(what, "ended") == 0)) {
                snprintf(why, n, "the instance is %s", ended ? "ended" : "still running");
                result = why;
            }
        } else if (strcmp(what, "terminated") == 0) {
            if (!main || main->state != BPM_INST_TERMINATED) {
                snprintf(why, n, "the instance was not terminated");
                result = why;
            }
        } else if (strcmp(what, "incident") == 0) {
            char *el = word(&l);
            size_t nt;
            const bpm_sim_event *t = bpm_sim_trace(r->sim, &nt);
            bool found = false;
            for (size_t i = 0; i < nt && !found; i++)
                found = t[i].kind == BPM_FX_INCIDENT && (!el || (t[i].element && strcmp(t[i].element, el) == 0));
            if (!found) {
                snprintf(why, n, "no incident%s%s", el ? " at " : "", el ? el : "");
                result = why;
            }
        } else if (strcmp(what, "no-incident") == 0) {
            if (bpm_sim_incidents(r->sim)) {
                size_t nt;
                const bpm_sim_event *t = bpm_sim_trace(r->sim, &nt);
                const char *msg = "";
                for (size_t i = 0; i < nt; i++)
                    if (t[i].kind == BPM_FX_INCIDENT)
                        msg = t[i].detail ? t[i].detail : "";
                snprintf(why, n, "an incident happened: %s", msg);
                result = why;
            }
        } else if (strcmp(what, "published") == 0) {
            /* expect published N: N messages went to the outbox so far */
            char *c = word(&l);
            NEED(c, "a number");
            size_t nt, count = 0;
            const bpm_sim_event *t = bpm_sim_trace(r->sim, &nt);
            for (size_t i = 0; i < nt; i++)
                count += t[i].kind == BPM_FX_PUBLISH;
            if (count != (size_t)strtoul(c, NULL, 10)) {
                snprintf(why, n, "%zu messages published", count);
                result = why;
            }
        } else if (strcmp(what, "publish") == 0) {
            /* expect publish JSON: a published message has these members */
            json_t *want = rest_json(&l, why, n);
            if (!json_is_object(want)) {
                if (want)
                    snprintf(why, n, "expect publish needs a JSON object");
                json_decref(want);
                return why;
            }
            size_t nt;
            const bpm_sim_event *t = bpm_sim_trace(r->sim, &nt);
            bool found = false;
            for (size_t i = 0; i < nt && !found; i++) {
                if (t[i].kind != BPM_FX_PUBLISH || !t[i].detail)
                    continue;
                json_t *have = json_loads(t[i].detail, 0, NULL);
                const char *k;
                json_t *v;
                found = true;
                json_object_foreach(want, k, v)
                {
                    if (!json_equal(json_object_get(have, k), v))
                        found = false;
                }
                json_decref(have);
            }
            if (!found) {
                char *ws = json_dumps(want, JSON_COMPACT);
                snprintf(why, n, "no published message has %s", ws);
                free(ws);
                result = why;
            }
            json_decref(want);
        } else if (strcmp(what, "instances") == 0) {
            char *c = word(&l);
            NEED(c, "a number");
            if (bpm_sim_count(r->sim) != (size_t)strtoul(c, NULL, 10)) {
                snprintf(why, n, "%zu instances", bpm_sim_count(r->sim));
                result = why;
            }
        } else {
            snprintf(why, n, "unknown expectation \"%s\"", what);
            result = why;
        }
    } else {
        snprintf(why, n, "unknown step \"%s\"", verb);
        result = why;
    }
    if (!result && rc != BPM_OK && rc != BPM_INVALID) {
        snprintf(why, n, "%s", err.msg);
        result = why;
    }
done:
    json_decref(vars);
    return result;
#undef NEED
}

static int run_scenario(const char *diagram, const char *path, bool verbose)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bpmnctl test: cannot open %s\n", path);
        return 1;
    }
    runner r;
    if (load(&r, diagram) != 0) {
        fclose(f);
        return 1;
    }
    if (test_pg) {
        /* each scenario starts from no instances (the schema is the test's own) */
        bpm_err err = {0};
        if (bpm_pg_exec(test_pg,
                        "truncate process_instance, variable, user_task, job, subscription, incident, history,"
                        " message_buffer, outbox cascade",
                        &err)) {
            printf("FAIL %s: %s\n", path, err.msg);
            fclose(f);
            unload(&r);
            return 1;
        }
        r.store = test_store;
    }
    const char *process = NULL;
    char buf[8192], why[1024];
    int lineno = 0, failed = 0;
    while (fgets(buf, sizeof buf, f)) {
        lineno++;
        buf[strcspn(buf, "\r\n")] = '\0';
        const char *res = run_line(&r, buf, why, sizeof why, &process);
        if (res) {
            printf("FAIL %s:%d: %s\n", path, lineno, res);
            failed = 1;
            break;
        }
    }
    fclose(f);
    if (!failed)
        printf("PASS %s\n", path);
    if (failed || verbose) {
        size_t n = 0;
        const bpm_sim_event *t = r.sim ? bpm_sim_trace(r.sim, &n) : NULL;
        for (size_t i = 0; i < n && failed; i++)
            printf("  %s %s %s%s%s\n", bpm_exec_effect_name(t[i].kind), t[i].instance,
                   t[i].element ? t[i].element : "(process)", t[i].detail ? ": " : "", t[i].detail ? t[i].detail : "");
    }
    unload(&r);
    return failed;
}

/* --database URL: scenarios run through PostgreSQL, in a schema of their own
 * (bpmnd_scenarios) so no real data is touched; the diagram is deployed
 * there first. */
static int open_database(const char *url, const char *diagram, bpm_evaluator *ev, bpm_scripts **scripts)
{
    bpm_err err = {0};
    if (bpm_pg_open(url, &test_pg, &err) ||
        bpm_pg_exec(test_pg, "create schema if not exists bpmnd_scenarios; set search_path = bpmnd_scenarios", &err) ||
        bpm_pg_migrate(test_pg, NULL, &err)) {
        fprintf(stderr, "bpmnctl test: %s\n", err.msg);
        return 1;
    }
    *scripts = bpm_scripts_new(NULL, &err);
    *ev = bpm_scripts_evaluator(*scripts);
    test_store = bpm_pgstore_new(test_pg, ev);
    FILE *f = fopen(diagram, "rb");
    if (!f) {
        fprintf(stderr, "bpmnctl test: cannot open %s\n", diagram);
        return 1;
    }
    size_t cap = 1 << 16, len = 0, got;
    char *buf = bpm_xmalloc(cap);
    while ((got = fread(buf + len, 1, cap - len, f)) > 0)
        if ((len += got) == cap)
            buf = bpm_xrealloc(buf, cap *= 2);
    fclose(f);
    const char *base = strrchr(diagram, '/') ? strrchr(diagram, '/') + 1 : diagram;
    bpm_resource res = {base, buf, len};
    bpm_diags d;
    bpm_diags_init(&d);
    bpm_deployed out;
    bpm_rc rc = bpm_pgstore_deploy(test_store, base, "bpmnctl test", &res, 1, true, SIM_EPOCH_MS, &out, &d, &err);
    free(buf);
    bpm_diags_cleanup(&d);
    if (rc) {
        fprintf(stderr, "bpmnctl test: %s\n", err.msg);
        return 1;
    }
    json_decref(out.definitions);
    return 0;
}

int bpm_cli_test(int argc, char **argv)
{
    const char *url = NULL;
    if (argc >= 2 && strcmp(argv[0], "--database") == 0) {
        url = argv[1];
        argc -= 2;
        argv += 2;
    }
    if (argc < 2 || strcmp(argv[0], "--help") == 0) {
        fprintf(argc < 2 ? stderr : stdout, "usage: bpmnctl test [--database CONNINFO] DIAGRAM SCENARIO...\n");
        return argc < 2 ? 2 : 0;
    }
    bpm_scripts *db_scripts = NULL;
    bpm_evaluator db_ev;
    if (url && open_database(url, argv[0], &db_ev, &db_scripts)) {
        bpm_pgstore_free(test_store);
        bpm_scripts_free(db_scripts);
        bpm_pg_close(test_pg);
        return 1;
    }
    int passed = 0, failed = 0;
    for (int i = 1; i < argc; i++) {
        if (run_scenario(argv[0], argv[i], false))
            failed++;
        else
            passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    bpm_pgstore_free(test_store);
    bpm_scripts_free(db_scripts);
    bpm_pg_close(test_pg);
    test_store = NULL;
    test_pg = NULL;
    return failed ? 1 : 0;
}

/* ---- simulate --------------------------------------------------------------------- */

static void print_event(const bpm_sim_event *e, bool json)
{
    static const char *names[] = {"enter", "complete", "cancel", "take", NULL, NULL, NULL, "signal", "message", "call",
                                  "end", "incident", "escalation", NULL, "publish"};
    const char *name = (unsigned)e->kind < sizeof names / sizeof names[0] ? names[e->kind] : NULL;
    if (!name)
        return;
    char at[BPM_TIMER_ISO_SIZE];
    bpm_timer_format_iso(e->at_ms, at, sizeof at);
    if (json) {
        json_t *o = json_pack("{s:s, s:s?, s:s, s:s, s:s}", "event", name, "element", e->element, "type", e->type,
                              "instance", e->instance, "at", at);
        if (e->detail && e->kind == BPM_FX_PUBLISH)
            json_object_set_new(o, "published", json_loads(e->detail, 0, NULL));
        else if (e->detail)
            json_object_set_new(o, e->kind == BPM_FX_TAKE ? "flow" : "message", json_string(e->detail));
        char *s = json_dumps(o, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("%s  %-8s %-10s %-24s %s%s%s\n", at, e->instance, name, e->element ? e->element : "(process)", e->type,
               e->detail ? "  " : "", e->detail ? e->detail : "");
    }
}

int bpm_cli_simulate(int argc, char **argv)
{
    const char *diagram = NULL, *process = NULL, *answers_path = NULL;
    json_t *vars = NULL, *answers = NULL;
    bool json = false;
    int status = 2;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--process") == 0 && i + 1 < argc)
            process = argv[++i];
        else if (strcmp(argv[i], "--vars") == 0 && i + 1 < argc) {
            json_error_t je;
            vars = json_loads(argv[++i], 0, &je);
            if (!json_is_object(vars)) {
                fprintf(stderr, "bpmnctl simulate: --vars: %s\n", vars ? "not a JSON object" : je.text);
                goto out;
            }
        } else if (strcmp(argv[i], "--answers") == 0 && i + 1 < argc)
            answers_path = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bpmnctl simulate DIAGRAM [--process ID] [--vars JSON] [--answers FILE] [--json]\n");
            goto out;
        } else
            diagram = argv[i];
    }
    if (!diagram) {
        fprintf(stderr, "usage: bpmnctl simulate DIAGRAM [--process ID] [--vars JSON] [--answers FILE] [--json]\n");
        goto out;
    }
    if (answers_path) {
        json_error_t je;
        answers = json_load_file(answers_path, 0, &je);
        if (!json_is_object(answers)) {
            fprintf(stderr, "%s:%d: %s\n", answers_path, je.line, answers ? "answers must be a JSON object" : je.text);
            goto out;
        }
    }
    runner r;
    if (load(&r, diagram) != 0) {
        status = 1;
        goto out;
    }
    r.sim = bpm_sim_new(r.m, &r.ev, SIM_EPOCH_MS);
    bpm_err err = {0};
    bpm_sim_start(r.sim, process, NULL, vars, NULL, NULL, &err);
    size_t printed = 0;
    for (int guard = 0; guard < 10000; guard++) {
        size_t n;
        const bpm_sim_event *t = bpm_sim_trace(r.sim, &n);
        for (; printed < n; printed++)
            print_event(&t[printed], json);
        const bpm_inst *main = bpm_sim_main(r.sim);
        if (!main || bpm_sim_incidents(r.sim)) {
            status = 3;
            break;
        }
        if (main->state != BPM_INST_ACTIVE) {
            status = 0;
            break;
        }
        /* answer the first task or job; else the earliest timer; else stuck */
        json_t *waits = bpm_sim_waits(r.sim);
        const char *el = NULL;
        int64_t due = INT64_MAX;
        const char *msg = NULL;
        for (size_t i = 0; i < json_array_size(waits); i++) {
            json_t *w = json_array_get(waits, i);
            const char *kind = json_string_value(json_object_get(w, "kind"));
            const char *e = json_string_value(json_object_get(w, "element"));
            if (!el && (strcmp(kind, "user-task") == 0 || strcmp(kind, "job") == 0 || strcmp(kind, "async") == 0))
                el = e;
            if (strcmp(kind, "timer") == 0 && json_integer_value(json_object_get(w, "due")) < due)
                due = json_integer_value(json_object_get(w, "due"));
            if (strcmp(kind, "message") == 0 && answers && json_object_get(answers, e) && !msg)
                msg = json_string_value(json_object_get(w, "name"));
        }
        bpm_rc rc;
        if (el) {
            rc = bpm_sim_complete(r.sim, el, NULL, answers ? json_object_get(answers, el) : NULL, &err);
        } else if (msg) {
            const char *e = NULL;
            for (size_t i = 0; i < json_array_size(waits); i++)
                if (json_string_value(json_object_get(json_array_get(waits, i), "name")) == msg)
                    e = json_string_value(json_object_get(json_array_get(waits, i), "element"));
            rc = bpm_sim_correlate(r.sim, msg, NULL, NULL, e ? json_object_get(answers, e) : NULL, false, 0, &err);
        } else if (due != INT64_MAX) {
            rc = bpm_sim_advance(r.sim, due > bpm_sim_now(r.sim) ? due - bpm_sim_now(r.sim) : 0, &err);
        } else {
            json_decref(waits);
            status = 2;
            break;
        }
        json_decref(waits);
        (void)rc;
    }
    {
        size_t n;
        const bpm_sim_event *t = bpm_sim_trace(r.sim, &n);
        for (; printed < n; printed++)
            print_event(&t[printed], json);
    }
    if (!json)
        printf("%s\n", status == 0 ? "ended" : status == 3 ? "stopped with an incident" : "stuck: nothing left to answer");
    unload(&r);
out:
    json_decref(vars);
    json_decref(answers);
    return status;
}
