/* Typed variables in and out of requests, and an instance's variables as
 * Camunda returns them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "restvars.h"

bool bpm_api_vars(const json_t *body, const char *key, json_t **vars, bpm_api_resp *r)
{
    json_t *typed = json_object_get(body, key);
    *vars = NULL;
    if (!typed || json_is_null(typed)) {
        *vars = json_object();
        return true;
    }
    if (!json_is_object(typed)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s must be an object of typed variables", key);
        return false;
    }
    bpm_err err = {0};
    json_t *transient = NULL;
    if (bpm_restvars_decode(typed, vars, &transient, &err)) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", err.msg);
        return false;
    }
    /* transient variables live only for the step: handed to it with the
     * others (the engine keeps no separate transient scope yet) */
    if (transient) {
        json_object_update(*vars, transient);
        json_decref(transient);
    }
    return true;
}

json_t *bpm_api_instance_vars(const bpm_api_req *req, const char *instance_id, long wait, const json_t *only,
                              bpm_api_resp *r)
{
    char wbuf[24];
    snprintf(wbuf, sizeof wbuf, "%ld", wait);
    const char *p[3] = {instance_id, NULL, wait >= 0 ? wbuf : NULL};
    char *names = NULL;
    if (only && json_is_array(only)) {
        json_t *arr = json_copy((json_t *)only);
        names = json_dumps(arr, JSON_COMPACT);
        json_decref(arr);
        p[1] = names;
    }
    PGresult *res = NULL;
    bpm_err err = {0};
    /* the innermost scope's value of each name wins */
    bpm_rc rc = bpm_pg_query(req->s->pg,
                             "select coalesce(jsonb_object_agg(x.name, x.value), '{}') from (select distinct on (v.name)"
                             " v.name, v.value from variable v, (select case when $3::int is null then '{1}'::int[]"
                             " else bpm_wait_scopes(i.state_json::jsonb, $3::int) end as s from process_instance i"
                             " where i.id = $1) sc where v.instance_id = $1 and v.scope_id = any(sc.s)"
                             " and v.name not like '\\_\\_%' and ($2::jsonb is null or $2::jsonb ? v.name)"
                             " order by v.name, array_position(sc.s, v.scope_id)) x",
                             3, p, NULL, NULL, &res, "read the variables", &err);
    free(names);
    if (rc) {
        bpm_api_fail(r, &err);
        return NULL;
    }
    json_t *plain = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, NULL);
    PQclear(res);
    json_t *typed = bpm_restvars_encode(plain);
    json_decref(plain);
    return typed;
}
