/* Query strings of the Camunda 7 REST API: decoding, and the helpers for
 * the conventions all list resources share. */
#include "restquery.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "restdate.h"

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* URL-decodes s[0..n) into an arena string; false on a bad escape or %00. */
static bool url_decode(bpm_arena *a, const char *s, size_t n, const char **out)
{
    char *d = bpm_arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            d[o++] = ' ';
        } else if (s[i] == '%') {
            if (n - i < 3 || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
                return false;
            char c = (char)(hex(s[i + 1]) << 4 | hex(s[i + 2]));
            if (c == '\0')
                return false; /* values are C strings */
            d[o++] = c;
            i += 2;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = '\0';
    *out = d;
    return true;
}

bpm_rc bpm_restquery_parse(const char *qs, bpm_restquery *out, bpm_err *err)
{
    *out = (bpm_restquery){0};
    bpm_arena *a = bpm_arena_new_sized(1024);
    bpm_restquery_param *params = NULL;
    size_t n = 0, cap = 0;
    const char *s = qs ? qs : "";
    char q[BPM_QUOTE_SIZE];
    while (*s) {
        size_t len = strcspn(s, "&");
        if (len > 0) {
            if (n == BPM_RESTQUERY_MAX_PARAMS) {
                bpm_arena_free(a);
                return bpm_err_set(err, BPM_LIMIT, "Too many query parameters (limit %d)",
                                   BPM_RESTQUERY_MAX_PARAMS);
            }
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                params = bpm_arena_grow(a, params, cap, ncap, sizeof *params);
                cap = ncap;
            }
            const char *eq = memchr(s, '=', len);
            size_t nlen = eq ? (size_t)(eq - s) : len;
            bpm_restquery_param *p = &params[n++];
            if (!url_decode(a, s, nlen, &p->name) ||
                !url_decode(a, eq ? eq + 1 : "", eq ? len - nlen - 1 : 0, &p->value)) {
                bpm_err_set(err, BPM_BAD_REQUEST,
                            "Invalid query string: bad percent-encoding in '%s'",
                            bpm_quote_value(s, len, q, sizeof q));
                bpm_arena_free(a);
                return BPM_BAD_REQUEST;
            }
        }
        s += len;
        if (*s == '&')
            s++;
    }
    out->params = params;
    out->n_params = n;
    out->arena = a;
    return BPM_OK;
}

void bpm_restquery_cleanup(bpm_restquery *q)
{
    if (q && q->arena)
        bpm_arena_free(q->arena);
    if (q)
        *q = (bpm_restquery){0};
}

const char *bpm_restquery_get(const bpm_restquery *q, const char *name)
{
    for (size_t i = 0; i < q->n_params; i++)
        if (strcmp(q->params[i].name, name) == 0)
            return q->params[i].value;
    return NULL;
}

/* Camunda's wording for a parameter it cannot take; reason may be NULL. */
static bpm_rc cannot_set(bpm_err *err, const char *name, const char *value, const char *reason)
{
    char qn[BPM_QUOTE_SIZE], qv[BPM_QUOTE_SIZE];
    bpm_quote_str(name, qn, sizeof qn);
    bpm_quote_str(value, qv, sizeof qv);
    if (reason)
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "Cannot set query parameter '%s' to value '%s': %s", qn, qv, reason);
    return bpm_err_set(err, BPM_BAD_REQUEST, "Cannot set query parameter '%s' to value '%s'", qn,
                       qv);
}

bpm_rc bpm_restquery_bool(const bpm_restquery *q, const char *name, bool dflt, bool *out,
                          bpm_err *err)
{
    const char *v = bpm_restquery_get(q, name);
    if (!v) {
        *out = dflt;
        return BPM_OK;
    }
    if (strcmp(v, "true") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0)
        *out = false;
    else
        return cannot_set(err, name, v, "expected true or false");
    return BPM_OK;
}

bpm_rc bpm_restquery_int(const bpm_restquery *q, const char *name, int64_t min, int64_t max,
                         int64_t dflt, int64_t *out, bpm_err *err)
{
    const char *v = bpm_restquery_get(q, name);
    if (!v) {
        *out = dflt;
        return BPM_OK;
    }
    const char *p = v + (v[0] == '-' || v[0] == '+');
    bool ok = *p != '\0';
    for (; *p && ok; p++)
        ok = *p >= '0' && *p <= '9';
    char *end;
    errno = 0;
    long long x = ok ? strtoll(v, &end, 10) : 0;
    if (!ok || errno || x < min || x > max) {
        char why[96];
        if (min == 0 && max == INT32_MAX)
            snprintf(why, sizeof why, "expected a non-negative integer");
        else
            snprintf(why, sizeof why, "expected an integer from %lld to %lld", (long long)min,
                     (long long)max);
        return cannot_set(err, name, v, why);
    }
    *out = x;
    return BPM_OK;
}

bpm_rc bpm_restquery_page_get(const bpm_restquery *q, bpm_restquery_page *out, bpm_err *err)
{
    bpm_restquery_page pg;
    bpm_rc rc;
    if ((rc = bpm_restquery_int(q, "firstResult", 0, INT32_MAX, 0, &pg.first, err)) ||
        (rc = bpm_restquery_int(q, "maxResults", 0, INT32_MAX, -1, &pg.max, err)))
        return rc;
    *out = pg;
    return BPM_OK;
}

bpm_rc bpm_restquery_date(const bpm_restquery *q, const char *name, int64_t *ms, bool *present,
                          bpm_err *err)
{
    const char *v = bpm_restquery_get(q, name);
    *present = v != NULL;
    if (!v)
        return BPM_OK;
    bpm_err derr = {0};
    if (bpm_restdate_parse(v, ms, &derr) != BPM_OK) {
        /* keep the reason, drop restdate's own "Cannot parse date '...': " */
        const char *why = strstr(derr.msg, "': ");
        return cannot_set(err, name, v, why ? why + 3 : derr.msg);
    }
    return BPM_OK;
}

size_t bpm_restquery_list(const bpm_restquery *q, const char *name, const char *const **items)
{
    const char *v = bpm_restquery_get(q, name);
    if (!v) {
        *items = NULL;
        return 0;
    }
    size_t max = 1;
    for (const char *p = v; *p; p++)
        max += *p == ',';
    const char **arr = bpm_arena_calloc(q->arena, max, sizeof *arr);
    size_t n = 0;
    while (*v) {
        size_t len = strcspn(v, ",");
        if (len > 0)
            arr[n++] = bpm_arena_strndup(q->arena, v, len);
        v += len;
        if (*v == ',')
            v++;
    }
    *items = arr;
    return n;
}

bpm_rc bpm_restquery_sort_check(const char *sort_by, const char *sort_order,
                                const char *const *allowed, bpm_restquery_sort *out, bpm_err *err)
{
    const char *by = NULL;
    if (sort_by) {
        for (size_t i = 0; allowed && allowed[i]; i++)
            if (strcmp(allowed[i], sort_by) == 0)
                by = allowed[i];
        if (!by)
            return cannot_set(err, "sortBy", sort_by, NULL);
    }
    if (sort_order && strcmp(sort_order, "asc") != 0 && strcmp(sort_order, "desc") != 0)
        return cannot_set(err, "sortOrder", sort_order, NULL);
    if (!sort_by != !sort_order)
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "Only a single sorting parameter specified. "
                           "sortBy and sortOrder required");
    out->by = by;
    out->desc = sort_order && strcmp(sort_order, "desc") == 0;
    return BPM_OK;
}

bpm_rc bpm_restquery_sort_get(const bpm_restquery *q, const char *const *allowed,
                              bpm_restquery_sort *out, bpm_err *err)
{
    return bpm_restquery_sort_check(bpm_restquery_get(q, "sortBy"),
                                    bpm_restquery_get(q, "sortOrder"), allowed, out, err);
}

static const char *const op_names[] = {
    [BPM_RESTQUERY_EQ] = "eq",     [BPM_RESTQUERY_NEQ] = "neq",
    [BPM_RESTQUERY_GT] = "gt",     [BPM_RESTQUERY_GTEQ] = "gteq",
    [BPM_RESTQUERY_LT] = "lt",     [BPM_RESTQUERY_LTEQ] = "lteq",
    [BPM_RESTQUERY_LIKE] = "like", [BPM_RESTQUERY_NOT_LIKE] = "notLike",
};

const char *bpm_restquery_op_name(bpm_restquery_op op)
{
    return (size_t)op < sizeof op_names / sizeof op_names[0] ? op_names[op] : "?";
}

bpm_rc bpm_restquery_varfilters(const bpm_restquery *q, const char *name,
                                const bpm_restquery_varfilter **filters, size_t *n_filters,
                                bpm_err *err)
{
    const char *const *items;
    const char *v = bpm_restquery_get(q, name);
    size_t n = bpm_restquery_list(q, name, &items);
    if (!v) {
        *filters = NULL;
        *n_filters = 0;
        return BPM_OK;
    }
    if (n == 0) /* "variables=": Camunda splits it into one empty expression */
        return cannot_set(err, name, v,
                          "variable query parameter has to have format KEY_OPERATOR_VALUE");
    bpm_restquery_varfilter *out = bpm_arena_calloc(q->arena, n, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const char *item = items[i];
        const char *u1 = strchr(item, '_');
        const char *u2 = u1 ? strchr(u1 + 1, '_') : NULL;
        /* three parts, as Camunda's split("_") demands; an empty op is left
         * to the comparator check below */
        if (!u1 || !u2 || strchr(u2 + 1, '_') || u1 == item || !u2[1])
            return cannot_set(err, name, v,
                              "variable query parameter has to have format KEY_OPERATOR_VALUE");
        size_t oplen = (size_t)(u2 - u1 - 1);
        int op = -1;
        for (size_t k = 0; k < sizeof op_names / sizeof op_names[0]; k++)
            if (strlen(op_names[k]) == oplen && memcmp(op_names[k], u1 + 1, oplen) == 0)
                op = (int)k;
        if (op < 0) {
            char why[128], qo[BPM_QUOTE_SIZE];
            snprintf(why, sizeof why, "Invalid variable comparator specified: %s",
                     bpm_quote_value(u1 + 1, oplen, qo, sizeof qo));
            return cannot_set(err, name, v, why);
        }
        out[i].name = bpm_arena_strndup(q->arena, item, (size_t)(u1 - item));
        out[i].op = (bpm_restquery_op)op;
        out[i].value = u2 + 1;
    }
    *filters = out;
    *n_filters = n;
    return BPM_OK;
}
