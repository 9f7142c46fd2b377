/* Generic list and count queries: every value travels as a parameter, the
 * SQL text comes only from the declarations (never from the request). */
#include "api_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "restdate.h"
#include "restquery.h"

#define MAX_ARGS 48

typedef struct sql {
    char *p;
    size_t n, cap;
} sql;

static void add(sql *s, const char *t)
{
    size_t k = strlen(t);
    if (s->n + k + 1 > s->cap) {
        s->cap = (s->n + k + 1) * 2;
        s->p = bpm_xrealloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, t, k + 1);
    s->n += k;
}

/* Appends tmpl with every '$' replaced by "$<argno>" and cast. */
static void add_tmpl(sql *s, const char *tmpl, int argno)
{
    char num[16];
    snprintf(num, sizeof num, "$%d", argno);
    for (const char *p = tmpl; *p; p++) {
        if (*p == '$') {
            add(s, num);
        } else {
            char c[2] = {*p, 0};
            add(s, c);
        }
    }
}

const char *bpm_api_list_param(const char *query, const char *name, char *buf, size_t cap)
{
    bpm_restquery q;
    if (bpm_restquery_parse(query, &q, NULL))
        return NULL; /* a malformed query string names nothing */
    const char *v = bpm_restquery_get(&q, name);
    if (v)
        snprintf(buf, cap, "%s", v);
    bpm_restquery_cleanup(&q);
    return v ? buf : NULL;
}

/* A filter's value from the query or the body, as text in a (arrays joined
 * by commas, booleans as true/false); NULL when absent. */
static const char *value_of(const bpm_restquery *q, const json_t *body, const char *name, bpm_arena *a)
{
    if (!body) {
        const char *v = bpm_restquery_get(q, name);
        return v ? bpm_arena_strdup(a, v) : NULL;
    }
    json_t *v = json_object_get(body, name);
    if (!v || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return bpm_arena_strdup(a, json_string_value(v));
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_integer(v)) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
        return bpm_arena_strdup(a, b);
    }
    if (json_is_array(v)) {
        sql s = {0};
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (i)
                add(&s, ",");
            if (json_is_string(e))
                add(&s, json_string_value(e));
            /* date conditions: {"operator": "gt", "value": date} as "gt_date" */
            const char *op = json_string_value(json_object_get(e, "operator"));
            const char *val = json_string_value(json_object_get(e, "value"));
            if (op && val) {
                add(&s, op);
                add(&s, "_");
                add(&s, val);
            }
        }
        const char *out = bpm_arena_strdup(a, s.p ? s.p : "");
        free(s.p);
        return out;
    }
    return NULL;
}

static const char *const op_sql[] = {
    [BPM_RESTQUERY_EQ] = "=",   [BPM_RESTQUERY_NEQ] = "<>",  [BPM_RESTQUERY_GT] = ">",     [BPM_RESTQUERY_GTEQ] = ">=",
    [BPM_RESTQUERY_LT] = "<",   [BPM_RESTQUERY_LTEQ] = "<=", [BPM_RESTQUERY_LIKE] = "like", [BPM_RESTQUERY_NOT_LIKE] = "not like",
};

/* Conditions on the instance's variables (col: its instance id column):
 * name_op_value[,...] in a query string, read by bpm_restquery_varfilters,
 * or [{"name", "operator", "value"}] in a POST body. Values compare as text. */
static bool add_vars(sql *w, const char *col, const bpm_restquery *q, const json_t *body, const char **args,
                     int *nargs, bpm_arena *a, bpm_api_resp *r, const char *param)
{
    const bpm_restquery_varfilter *fs = NULL;
    size_t n = 0;
    bpm_restquery_varfilter *own = NULL;
    if (!body) {
        bpm_err err = {0};
        if (bpm_restquery_varfilters(q, param, &fs, &n, &err)) {
            bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", err.msg);
            return false;
        }
    } else {
        json_t *arr = json_object_get(body, param);
        if (!json_is_array(arr)) {
            bpm_api_error(r, 400, "InvalidRequestException", -1,
                          "%s must be an array of {name, operator, value}", param);
            return false;
        }
        n = json_array_size(arr);
        own = bpm_arena_calloc(a, n ? n : 1, sizeof *own);
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(arr, i);
            const char *name = json_string_value(json_object_get(e, "name"));
            const char *op = json_string_value(json_object_get(e, "operator"));
            json_t *v = json_object_get(e, "value");
            int k = -1;
            for (int o = BPM_RESTQUERY_EQ; op && o <= BPM_RESTQUERY_NOT_LIKE; o++)
                if (strcmp(bpm_restquery_op_name((bpm_restquery_op)o), op) == 0)
                    k = o;
            if (!name || k < 0 || !v) {
                bpm_api_error(r, 400, "InvalidRequestException", -1,
                              "%s[%zu] needs a name, an operator (eq, neq, gt, gteq, lt, lteq, like, notLike) and a"
                              " value",
                              param, i);
                return false;
            }
            char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
            own[i] = (bpm_restquery_varfilter){name, (bpm_restquery_op)k,
                                               bpm_arena_strdup(a, text ? text : json_string_value(v))};
            free(text);
        }
        fs = own;
    }
    for (size_t i = 0; i < n && *nargs + 2 <= MAX_ARGS; i++) {
        args[(*nargs)++] = fs[i].name;
        args[(*nargs)++] = fs[i].value;
        char cond[512];
        snprintf(cond, sizeof cond,
                 " and exists (select 1 from variable v where v.instance_id = %s and v.name = $%d and"
                 " (v.value #>> '{}') %s $%d)",
                 col, *nargs - 1, op_sql[fs[i].op], *nargs);
        add(w, cond);
    }
    return true;
}

/* op_date[,...] conditions on the date column col (Camunda's
 * ConditionQueryParameterDto: gt and lt). */
static bool add_dates(sql *w, const char *col, const char *spec, const char **args, int *nargs, bpm_arena *a,
                      bpm_api_resp *r, const char *param)
{
    char *copy = bpm_arena_strdup(a, spec);
    for (char *item = copy, *next; item && *item; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        char *u = strchr(item, '_');
        const char *op = !u ? NULL : strncmp(item, "gt_", 3) == 0 ? ">" : strncmp(item, "lt_", 3) == 0 ? "<" : NULL;
        if (!op) {
            bpm_api_error(r, 400, "InvalidRequestException", -1,
                          "Invalid %s comparator specified: '%s' is not gt_date or lt_date", param, item);
            return false;
        }
        int64_t ms;
        bpm_err err = {0};
        if (bpm_restdate_parse(u + 1, &ms, &err)) {
            bpm_api_error(r, 400, "InvalidRequestException", -1, "Cannot set query parameter '%s' to value '%s': %s",
                          param, item, err.msg);
            return false;
        }
        if (*nargs + 1 > MAX_ARGS)
            break;
        char iso[BPM_RESTDATE_SIZE];
        bpm_restdate_format(ms, iso);
        args[(*nargs)++] = bpm_arena_strdup(a, iso);
        char cond[300];
        snprintf(cond, sizeof cond, " and %s %s $%d::timestamptz", col, op, *nargs);
        add(w, cond);
    }
    return true;
}

static const char *sort_sql(const bpm_api_list *l, const char *by)
{
    for (const bpm_api_sort *s = l->sorts; s && s->name; s++)
        if (strcmp(s->name, by) == 0)
            return s->sql;
    return NULL;
}

void bpm_api_list_run(const bpm_api_req *req, bpm_api_resp *r, const bpm_api_list *l, bool count)
{
    bpm_api_list_run_where(req, r, l, count, NULL, 0, NULL);
}

void bpm_api_list_run_where(const bpm_api_req *req, bpm_api_resp *r, const bpm_api_list *l, bool count,
                            const char *extra, int n_extra, const char *const *extra_params)
{
    json_t *body = NULL;
    if (strcmp(req->method, "POST") == 0 && !(body = bpm_api_body(req, r)))
        return;
    bpm_restquery query = {0};
    bpm_err qerr = {0};
    if (!body && bpm_restquery_parse(req->query, &query, &qerr)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", qerr.msg);
        return;
    }
    bpm_arena *a = bpm_arena_new();
    const char *args[MAX_ARGS];
    int nargs = 0;
    sql w = {0};
    add(&w, " where true");
    if (l->where) {
        add(&w, " and ");
        add(&w, l->where);
    }
    if (extra) {
        /* each '$' takes the next of extra_params */
        add(&w, " and (");
        int k = 0;
        for (const char *p = extra; *p; p++) {
            if (*p == '$' && k < n_extra && nargs < MAX_ARGS) {
                args[nargs++] = extra_params[k++];
                char num[16];
                snprintf(num, sizeof num, "$%d", nargs);
                add(&w, num);
            } else {
                char c[2] = {*p, 0};
                add(&w, c);
            }
        }
        add(&w, ")");
    }
    bool ok = true;
    for (const bpm_api_filter *f = l->filters; ok && f && f->name; f++) {
        const char *v = value_of(&query, body, f->name, a);
        if (!v || nargs >= MAX_ARGS)
            continue;
        switch (f->kind) {
        case BPM_F_BOOL:
            if (strcmp(v, "true") == 0) {
                add(&w, " and ");
                add(&w, f->sql);
            } else if (strcmp(v, "false") == 0) {
                if (f->sql_false) {
                    add(&w, " and ");
                    add(&w, f->sql_false);
                }
            } else {
                bpm_api_error(r, 400, "InvalidRequestException", -1,
                              "Cannot set query parameter '%s' to value '%s': it must be true or false", f->name, v);
                ok = false;
            }
            continue;
        case BPM_F_VARS:
            ok = add_vars(&w, f->sql, &query, body, args, &nargs, a, r, f->name);
            continue;
        case BPM_F_DATES:
            ok = add_dates(&w, f->sql, v, args, &nargs, a, r, f->name);
            continue;
        case BPM_F_DATE: {
            int64_t ms;
            bpm_err err = {0};
            if (bpm_restdate_parse(v, &ms, &err)) {
                bpm_api_error(r, 400, "InvalidRequestException", -1, "Cannot set query parameter '%s' to value '%s': %s",
                              f->name, v, err.msg);
                ok = false;
                continue;
            }
            char iso[BPM_RESTDATE_SIZE];
            bpm_restdate_format(ms, iso);
            v = bpm_arena_strdup(a, iso);
            break;
        }
        case BPM_F_INT: {
            char *end = NULL;
            strtoll(v, &end, 10);
            if (!*v || *end) {
                bpm_api_error(r, 400, "InvalidRequestException", -1,
                              "Cannot set query parameter '%s' to value '%s': it must be an integer", f->name, v);
                ok = false;
                continue;
            }
            break;
        }
        default:
            break;
        }
        args[nargs++] = v;
        add(&w, " and ");
        add_tmpl(&w, f->sql, nargs);
    }
    /* sorting: sortBy and sortOrder together (GET), or a "sorting" array (POST) */
    sql order = {0};
    const char *by = value_of(&query, body, "sortBy", a), *dir = value_of(&query, body, "sortOrder", a);
    json_t *sorting = body ? json_object_get(body, "sorting") : NULL;
    if (ok && (by || dir) && !(by && dir)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1,
                      "Only a single sorting parameter specified. sortBy and sortOrder required");
        ok = false;
    }
    json_t *one = NULL;
    if (ok && by) {
        one = json_pack("[{s:s, s:s}]", "sortBy", by, "sortOrder", dir);
        sorting = one;
    }
    size_t i;
    json_t *s;
    json_array_foreach(ok ? sorting : NULL, i, s)
    {
        const char *sb = json_string_value(json_object_get(s, "sortBy"));
        const char *so = json_string_value(json_object_get(s, "sortOrder"));
        const char *col = sb ? sort_sql(l, sb) : NULL;
        if (!col) {
            bpm_api_error(r, 400, "InvalidRequestException", -1, "Cannot set query parameter 'sortBy' to value '%s'",
                          sb ? sb : "");
            ok = false;
            break;
        }
        if (!so || (strcmp(so, "asc") && strcmp(so, "desc"))) {
            bpm_api_error(r, 400, "InvalidRequestException", -1,
                          "Cannot set query parameter 'sortOrder' to value '%s'", so ? so : "");
            ok = false;
            break;
        }
        add(&order, order.n ? ", " : " order by ");
        add(&order, col);
        add(&order, strcmp(so, "desc") == 0 ? " desc" : " asc");
    }
    json_decref(one);
    if (ok && l->order) {
        add(&order, order.n ? ", " : " order by ");
        add(&order, l->order);
    }
    /* paging */
    long long first = 0, max = -1;
    for (int k = 0; ok && k < 2; k++) {
        const char *name = k ? "maxResults" : "firstResult";
        const char *v = value_of(&query, body, name, a);
        if (!v)
            continue;
        char *end = NULL;
        long long n = strtoll(v, &end, 10);
        if (!*v || *end || n < 0) {
            bpm_api_error(r, 400, "InvalidRequestException", -1,
                          "Cannot set query parameter '%s' to value '%s': it must be a non-negative integer", name, v);
            ok = false;
        } else if (k)
            max = n;
        else
            first = n;
    }
    if (ok) {
        sql q = {0};
        if (count) {
            add(&q, "select json_build_object('count', count(*)) from ");
            add(&q, l->from);
            add(&q, w.p);
        } else {
            add(&q, "select coalesce(json_agg(x.dto), '[]') from (select ");
            add(&q, l->dto);
            add(&q, " as dto from ");
            add(&q, l->from);
            add(&q, w.p);
            if (order.p)
                add(&q, order.p);
            char page[64];
            if (max >= 0) {
                snprintf(page, sizeof page, " limit %lld", max);
                add(&q, page);
            }
            if (first) {
                snprintf(page, sizeof page, " offset %lld", first);
                add(&q, page);
            }
            add(&q, ") x");
        }
        bpm_api_sql_json(req, r, q.p, nargs, args, NULL);
        free(q.p);
    }
    free(w.p);
    free(order.p);
    json_decref(body);
    bpm_arena_free(a);
    bpm_restquery_cleanup(&query);
}
