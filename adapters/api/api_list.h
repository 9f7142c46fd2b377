/* List and count endpoints declared as data: filters (query parameters or a
 * JSON body) turned into parameterised SQL conditions, a whitelist of sort
 * keys, paging; the rows are built into Camunda's DTOs by SQL. */
#ifndef BPM_API_LIST_H
#define BPM_API_LIST_H

#include <jansson.h>

#include "api.h"

typedef enum bpm_api_fkind {
    BPM_F_TEXT = 0, /* sql with $ for the value */
    BPM_F_LIKE,     /* as TEXT; the value is a LIKE pattern */
    BPM_F_LIST,     /* comma list (or JSON array): $ is a text[] */
    BPM_F_BOOL,     /* "true" applies sql (no $); "false" applies sql_false when given */
    BPM_F_DATE,     /* a Camunda date: $ is a timestamptz */
    BPM_F_INT,      /* $ is an integer */
    BPM_F_VARS,     /* name_op_value list: sql is the table alias's instance id column */
    BPM_F_DATES,    /* op_date list, op gt|lt (POST: [{operator, value}]): sql is the column */
} bpm_api_fkind;

typedef struct bpm_api_filter {
    const char *name;
    bpm_api_fkind kind;
    const char *sql;
    const char *sql_false;
} bpm_api_filter;

typedef struct bpm_api_sort {
    const char *name;
    const char *sql;
} bpm_api_sort;

typedef struct bpm_api_list {
    const char *dto;           /* a json expression over the row */
    const char *from;          /* "user_task t" */
    const char *where;         /* always applied, or NULL */
    const bpm_api_filter *filters; /* ends with {NULL} */
    const bpm_api_sort *sorts;     /* ends with {NULL} */
    const char *order;         /* default order, for stable paging */
} bpm_api_list;

/* GET (query parameters) or POST (JSON body with the same names, plus
 * "sorting": [{sortBy, sortOrder}]). count: {"count": n} instead of rows. */
void bpm_api_list_run(const bpm_api_req *req, bpm_api_resp *r, const bpm_api_list *l, bool count);

/* The same with one more condition, extra, whose '$' placeholders take
 * extra_params in order (who may see what). */
void bpm_api_list_run_where(const bpm_api_req *req, bpm_api_resp *r, const bpm_api_list *l, bool count,
                            const char *extra, int n_extra, const char *const *extra_params);

/* A query parameter, percent-decoded ('+' is a space) into buf; NULL when
 * absent. */
const char *bpm_api_list_param(const char *query, const char *name, char *buf, size_t cap);

#endif
