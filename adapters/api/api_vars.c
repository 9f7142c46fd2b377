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

json_t *bpm_api_waits_vars(const bpm_api_req *req, const json_t *waits, const json_t *only, bpm_api_resp *r)
{
    char *targets = json_dumps(waits, JSON_COMPACT);
    char *names = only && json_is_array(only) ? json_dumps(only, JSON_COMPACT) : NULL;
    const char *p[2] = {targets, names};
    PGresult *res = NULL;
    bpm_err err = {0};
    /* one round trip for every wait; the innermost scope's value of each
     * name wins (a wait of -1 sees the process scope, element instance 1) */
    bpm_rc rc = bpm_pg_query(
        req->s->pg,
        "select coalesce(jsonb_agg(x.vars order by x.ord), '[]') from (select k.ord, (select"
        " coalesce(jsonb_object_agg(y.name, y.value), '{}') from (select distinct on (v.name) v.name, v.value"
        " from variable v, (select case when (k.t->>'w')::int < 0 then '{1}'::int[] else"
        " bpm_wait_scopes(i.state_json::jsonb, (k.t->>'w')::int) end as s from process_instance i"
        " where i.id = k.t->>'i') sc where v.instance_id = k.t->>'i' and v.scope_id = any(sc.s)"
        " and v.name not like '\\_\\_%' and ($2::jsonb is null or $2::jsonb ? v.name)"
        " order by v.name, array_position(sc.s, v.scope_id)) y) as vars"
        " from jsonb_array_elements($1::jsonb) with ordinality k(t, ord)) x",
        2, p, NULL, NULL, &res, "read the variables", &err);
    free(targets);
    free(names);
    if (rc) {
        bpm_api_fail(r, &err);
        return NULL;
    }
    json_t *plain = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, NULL);
    PQclear(res);
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(plain, i, v) json_array_append_new(out, bpm_restvars_encode(v));
    json_decref(plain);
    return out;
}

json_t *bpm_api_instance_vars(const bpm_api_req *req, const char *instance_id, long wait, const json_t *only,
                              bpm_api_resp *r)
{
    json_t *waits = json_pack("[{s:s, s:I}]", "i", instance_id, "w", (json_int_t)(wait >= 0 ? wait : -1));
    json_t *all = bpm_api_waits_vars(req, waits, only, r);
    json_decref(waits);
    if (!all)
        return NULL;
    json_t *one = json_incref(json_array_get(all, 0));
    json_decref(all);
    return one ? one : json_object();
}
