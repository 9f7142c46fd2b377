/* Users and groups, read-only, as task lists ask for them: /identity/groups
 * (the groups of a user and their other members), /identity/verify (a
 * password check), /user and /group with their counts, a user's profile.
 * The data is what `bpmnctl user add` and `bpmnctl group add` wrote
 * (app_user, app_group, app_membership); password hashes never leave it.
 * Groups have no type and there are no tenants: filters on them match
 * nothing. */
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "auth.h"

/* A filter whose value can never match, using its parameter as the list
 * code requires. */
#define NEVER "$::text is null"

/* Camunda's displayName (dto.task.UserDto): first and last name, or the id
 * when there is neither. */
#define DISPLAY_NAME(u) \
    "case when " u ".first_name is null and " u ".last_name is null then " u ".id else concat_ws(' ', " u \
    ".first_name, " u ".last_name) end"

/* GET /identity/groups?userId=U: {"groups": [{id, name}] by name,
 * "groupUsers": [{id, firstName, lastName, displayName}]}, the other members
 * of those groups, each once (by id; Camunda leaves them unordered). An
 * unknown user has no groups. */
BPM_API_HANDLER(bpm_api_identity_groups)
{
    char buf[256];
    const char *user = bpm_api_list_param(req->query, "userId", buf, sizeof buf);
    if (!user) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "No user id was supplied");
        return;
    }
    const char *p[1] = {user};
    bpm_api_sql_json(req, r,
                     "select json_build_object('groups', (select coalesce(json_agg(json_build_object('id', g.id,"
                     " 'name', g.name) order by g.name, g.id), '[]') from app_group g join app_membership m on"
                     " m.group_id = g.id where m.user_id = $1), 'groupUsers', (select coalesce(json_agg("
                     "json_build_object('id', u.id, 'firstName', u.first_name, 'lastName', u.last_name, 'displayName', "
                     DISPLAY_NAME("u") ") order by u.id), '[]') from app_user u where u.id <> $1 and exists (select 1"
                     " from app_membership o join app_membership m on m.group_id = o.group_id where o.user_id = u.id"
                     " and m.user_id = $1)))",
                     1, p, NULL);
}

/* POST /identity/verify {"username", "password"}: 200 with the outcome
 * either way, as Camunda; the hash is computed on every call. */
BPM_API_HANDLER(bpm_api_identity_verify)
{
    json_t *body = bpm_api_body(req, r);
    if (!body)
        return;
    const char *user = json_string_value(json_object_get(body, "username"));
    const char *password = json_string_value(json_object_get(body, "password"));
    if (!user || !password)
        bpm_api_error(r, 400, "InvalidRequestException", -1, "Username and password are required");
    else
        bpm_api_json(r, 200,
                     json_pack("{s:s, s:b, s:n, s:n}", "authenticatedUser", user, "authenticated",
                               bpm_auth_verify_password(req->s, user, password), "groups", "tenants"));
    json_decref(body);
}

/* ---- groups --------------------------------------------------------------------------- */

#define GROUP_DTO "json_build_object('id', g.id, 'name', g.name, 'type', null)"

static const bpm_api_filter group_filters[] = {
    {"id", BPM_F_TEXT, "g.id = $", NULL},
    {"idIn", BPM_F_LIST, "g.id = any(string_to_array($, ','))", NULL},
    {"name", BPM_F_TEXT, "g.name = $", NULL},
    {"nameLike", BPM_F_LIKE, "g.name like $", NULL},
    {"type", BPM_F_TEXT, NEVER, NULL},
    {"member", BPM_F_TEXT, "exists (select 1 from app_membership m where m.group_id = g.id and m.user_id = $)", NULL},
    {"memberOfTenant", BPM_F_TEXT, NEVER, NULL},
    {NULL, 0, NULL, NULL},
};
/* type is always null: sorting by it keeps the default order */
static const bpm_api_sort group_sorts[] = {
    {"id", "g.id"}, {"name", "g.name"}, {"type", "nullif(g.id, g.id)"}, {NULL, NULL}};
static const bpm_api_list group_list = {GROUP_DTO, "app_group g", NULL, group_filters, group_sorts, "g.id"};

BPM_API_HANDLER(bpm_api_identity_group_list)
{
    bpm_api_list_run(req, r, &group_list, false);
}

BPM_API_HANDLER(bpm_api_identity_group_count)
{
    bpm_api_list_run(req, r, &group_list, true);
}

/* ---- users ---------------------------------------------------------------------------- */

#define USER_DTO "json_build_object('id', u.id, 'firstName', u.first_name, 'lastName', u.last_name, 'email', u.email)"

/* Everyone authenticated may start every process (docs/rest-api.md), so
 * potentialStarter names every user when the definition exists. */
static const bpm_api_filter user_filters[] = {
    {"id", BPM_F_TEXT, "u.id = $", NULL},
    {"idIn", BPM_F_LIST, "u.id = any(string_to_array($, ','))", NULL},
    {"firstName", BPM_F_TEXT, "u.first_name = $", NULL},
    {"firstNameLike", BPM_F_LIKE, "u.first_name like $", NULL},
    {"lastName", BPM_F_TEXT, "u.last_name = $", NULL},
    {"lastNameLike", BPM_F_LIKE, "u.last_name like $", NULL},
    {"email", BPM_F_TEXT, "u.email = $", NULL},
    {"emailLike", BPM_F_LIKE, "u.email like $", NULL},
    {"memberOfGroup", BPM_F_TEXT,
     "exists (select 1 from app_membership m where m.user_id = u.id and m.group_id = $)", NULL},
    {"memberOfTenant", BPM_F_TEXT, NEVER, NULL},
    {"potentialStarter", BPM_F_TEXT, "exists (select 1 from process_definition d where d.id = $)", NULL},
    {NULL, 0, NULL, NULL},
};
static const bpm_api_sort user_sorts[] = {{"userId", "u.id"},
                                          {"firstName", "u.first_name"},
                                          {"lastName", "u.last_name"},
                                          {"email", "u.email"},
                                          {NULL, NULL}};
static const bpm_api_list user_list = {USER_DTO, "app_user u", NULL, user_filters, user_sorts, "u.id"};

BPM_API_HANDLER(bpm_api_identity_user_list)
{
    bpm_api_list_run(req, r, &user_list, false);
}

BPM_API_HANDLER(bpm_api_identity_user_count)
{
    bpm_api_list_run(req, r, &user_list, true);
}

BPM_API_HANDLER(bpm_api_identity_user_profile)
{
    const char *p[1] = {req->params[0]};
    char msg[300];
    snprintf(msg, sizeof msg, "User with id %s does not exist", req->params[0]);
    bpm_api_sql_json(req, r, "select " USER_DTO " from app_user u where u.id = $1", 1, p, msg);
}
