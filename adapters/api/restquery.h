/* Query strings of the Camunda 7 REST API: URL decoding into name/value
 * pairs, and the list conventions every list resource shares (...In comma
 * lists, true/false, firstResult/maxResults, sortBy/sortOrder, variable
 * filters name_op_value). Pure; thread safe on distinct bpm_restquery values.
 *
 * Messages are Camunda's where it has one, e.g. "Cannot set query parameter
 * 'sortBy' to value 'foo'"; they go to the REST error body as they are. */
#ifndef BPM_RESTQUERY_H
#define BPM_RESTQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

/* Parameters allowed in one query string. */
#define BPM_RESTQUERY_MAX_PARAMS 256

typedef struct bpm_restquery_param {
    const char *name;  /* decoded, NUL-terminated */
    const char *value; /* decoded; "" for "name" or "name=" */
} bpm_restquery_param;

typedef struct bpm_restquery {
    bpm_restquery_param *params; /* in query order, repeats kept */
    size_t n_params;
    bpm_arena *arena; /* owns params, their strings, and what the helpers return */
} bpm_restquery;

/* Splits qs (the part after '?', without it; NULL or "" for none) at '&',
 * each piece at its first '=', and URL-decodes names and values: %XX (either
 * case) to the byte, '+' to a space. Empty pieces ("a=1&&b=2") are skipped.
 * qs is borrowed. OUT: *out, release with bpm_restquery_cleanup; on error it
 * is left empty. Returns BPM_OK, BPM_BAD_REQUEST for a bad escape ("%zz",
 * a cut-off "%4") or an encoded NUL ("%00"), with the parameter named, or
 * BPM_LIMIT beyond BPM_RESTQUERY_MAX_PARAMS parameters. */
bpm_rc bpm_restquery_parse(const char *qs, bpm_restquery *out, bpm_err *err);

/* Frees everything parse and the helpers allocated; q may be zeroed. */
void bpm_restquery_cleanup(bpm_restquery *q);

/* The value of the first parameter called name (case-sensitive, as JAX-RS),
 * or NULL when absent. Borrowed from q. */
const char *bpm_restquery_get(const bpm_restquery *q, const char *name);

/* A boolean parameter: "true" or "false" exactly. Absent: *out = dflt.
 * BPM_BAD_REQUEST otherwise: "Cannot set query parameter 'active' to value
 * 'yes': expected true or false". */
bpm_rc bpm_restquery_bool(const bpm_restquery *q, const char *name, bool dflt, bool *out,
                          bpm_err *err);

/* An integer parameter (optional sign, decimal digits only) in [min, max].
 * Absent: *out = dflt. BPM_BAD_REQUEST for anything else, naming the
 * parameter and the value. */
bpm_rc bpm_restquery_int(const bpm_restquery *q, const char *name, int64_t min, int64_t max,
                         int64_t dflt, int64_t *out, bpm_err *err);

/* firstResult and maxResults: non-negative Java ints. */
typedef struct bpm_restquery_page {
    int64_t first; /* 0 when absent */
    int64_t max;   /* -1 when absent: all results. 0 is valid (M's health check) */
} bpm_restquery_page;

bpm_rc bpm_restquery_page_get(const bpm_restquery *q, bpm_restquery_page *out, bpm_err *err);

/* A date parameter (bpm_restdate_parse: a space where '+' was is repaired).
 * *present tells whether it was given; *ms is written only when it was.
 * BPM_BAD_REQUEST: "Cannot set query parameter 'createdBefore' to value
 * 'x': <why>". */
bpm_rc bpm_restquery_date(const bpm_restquery *q, const char *name, int64_t *ms, bool *present,
                          bpm_err *err);

/* A comma list (the ...In parameters): "a,b,c". Empty items are dropped.
 * Returns the item count and sets *items to an array in q's arena (it
 * lives until bpm_restquery_cleanup), or NULL when the parameter is absent.
 * A present but empty list ("keyIn=") gives 0 items and a non-NULL array,
 * so the caller can tell "match none" from "no filter". */
size_t bpm_restquery_list(const bpm_restquery *q, const char *name, const char *const **items);

/* Sorting. allowed is a NULL-terminated list of the resource's sortBy
 * values. */
typedef struct bpm_restquery_sort {
    const char *by; /* an entry of allowed (borrowed from it), NULL: unsorted */
    bool desc;
} bpm_restquery_sort;

/* Validates one sortBy/sortOrder pair, as GET parameters or a POST body's
 * "sorting" item give it (either may be NULL). Errors, in Camunda's order:
 *   "Cannot set query parameter 'sortBy' to value 'x'"     not in allowed
 *   "Cannot set query parameter 'sortOrder' to value 'x'"  not asc or desc
 *   "Only a single sorting parameter specified. sortBy and sortOrder
 *    required"                                             only one given
 * Both NULL: out->by = NULL. Returns BPM_OK or BPM_BAD_REQUEST. */
bpm_rc bpm_restquery_sort_check(const char *sort_by, const char *sort_order,
                                const char *const *allowed, bpm_restquery_sort *out, bpm_err *err);

/* The same for the sortBy and sortOrder query parameters. */
bpm_rc bpm_restquery_sort_get(const bpm_restquery *q, const char *const *allowed,
                              bpm_restquery_sort *out, bpm_err *err);

/* Variable filters. */
typedef enum bpm_restquery_op {
    BPM_RESTQUERY_EQ,
    BPM_RESTQUERY_NEQ,
    BPM_RESTQUERY_GT,
    BPM_RESTQUERY_GTEQ,
    BPM_RESTQUERY_LT,
    BPM_RESTQUERY_LTEQ,
    BPM_RESTQUERY_LIKE,
    BPM_RESTQUERY_NOT_LIKE,
} bpm_restquery_op;

typedef struct bpm_restquery_varfilter {
    const char *name;
    bpm_restquery_op op;
    const char *value; /* as text: Camunda compares these as strings */
} bpm_restquery_varfilter;

/* The wire name of an op: "eq", "neq", ..., "notLike". */
const char *bpm_restquery_op_name(bpm_restquery_op op);

/* Parses a filter parameter such as variables=a_eq_1,b_like_x%25: comma
 * separated name_op_value triples, op one of eq neq gt gteq lt lteq like
 * notLike (case-sensitive), names and values non-empty and free of '_' and
 * ','. Absent: 0 filters, *filters = NULL; present but empty is an error. OUT: *filters in q's
 * arena, *n_filters. Returns BPM_OK or BPM_BAD_REQUEST: "Cannot set query parameter 'variables' to
 * value 'a_eq': variable query parameter has to have format KEY_OPERATOR_VALUE" "Cannot set query
 * parameter 'variables' to value 'a_is_1': Invalid variable comparator specified: is" */
bpm_rc bpm_restquery_varfilters(const bpm_restquery *q, const char *name,
                                const bpm_restquery_varfilter **filters, size_t *n_filters,
                                bpm_err *err);

#endif
