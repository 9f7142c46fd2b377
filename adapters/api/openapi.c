/* GET /engine-rest/openapi.json: an OpenAPI 3.0 document of exactly what
 * bpmnd serves, generated from the route table so it cannot drift from it. */
#include <stdio.h>
#include <string.h>

#include "api_int.h"

/* A name for a path placeholder from the segment before it. */
static const char *param_name(const char *prev)
{
    if (strcmp(prev, "variables") == 0 || strcmp(prev, "localVariables") == 0)
        return "varName";
    if (strcmp(prev, "resources") == 0)
        return "resourceId";
    if (strcmp(prev, "key") == 0)
        return "key";
    return "id";
}

/* Tag: the first path segment ("task", "process-instance"). */
static void tag_of(const char *pattern, char *out, size_t n)
{
    const char *s = pattern + 1;
    const char *e = strchr(s, '/');
    snprintf(out, n, "%.*s", (int)(e ? (size_t)(e - s) : strlen(s)), s);
}

static json_t *operation(const bpm_api_route *r, const char *path_with_names, json_t *params)
{
    char tag[64];
    tag_of(r->pattern, tag, sizeof tag);
    char opid[300];
    snprintf(opid, sizeof opid, "%s %s", r->method, path_with_names);
    json_t *responses = json_object();
    json_object_set_new(responses, "200", json_pack("{s:s}", "description", "success (a JSON body)"));
    json_object_set_new(responses, "204", json_pack("{s:s}", "description", "success, no body"));
    json_object_set_new(responses, "400", json_pack("{s:s, s:{s:{s:{s:s}}}}", "description",
                                                    "bad input: {type, message, code} naming the field", "content",
                                                    "application/json", "schema", "$ref",
                                                    "#/components/schemas/ExceptionDto"));
    json_object_set_new(responses, "404", json_pack("{s:s}", "description", "unknown id: {type, message, code}"));
    json_object_set_new(responses, "500", json_pack("{s:s}", "description", "engine failure: {type, message, code}"));
    json_t *op = json_pack("{s:s, s:[s], s:o, s:o}", "operationId", opid, "tags", tag, "parameters", params, "responses",
                           responses);
    if (r->open)
        json_object_set_new(op, "security", json_array());
    if (r->admin)
        json_object_set_new(op, "description", json_string("needs a member of the admin group when authentication is on"));
    if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0) {
        const char *ct = strcmp(r->pattern, "/deployment/create") == 0 ? "multipart/form-data" : "application/json";
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:{s:{s:{s:s}}}}", "required", false, "content", ct, "schema", "type",
                                      "object"));
    }
    return op;
}

BPM_API_HANDLER(bpm_api_openapi)
{
    json_t *paths = json_object();
    for (const bpm_api_route *rt = bpm_api_routes(); rt->method; rt++) {
        /* "/task/{}/claim" -> "/task/{id}/claim" with a path parameter per {} */
        char path[512] = "";
        size_t n = 0;
        json_t *params = json_array();
        char prevbuf[64] = "";
        for (const char *p = rt->pattern; *p && n < sizeof path - 32;) {
            if (p[0] == '{' && p[1] == '}') {
                const char *name = param_name(prevbuf);
                n += (size_t)snprintf(path + n, sizeof path - n, "{%s}", name);
                /* two placeholders of one kind get distinct names */
                size_t i;
                json_t *x;
                bool dup = false;
                json_array_foreach(params, i, x) if (strcmp(json_string_value(json_object_get(x, "name")), name) == 0)
                    dup = true;
                if (dup) {
                    n -= strlen(name) + 2;
                    n += (size_t)snprintf(path + n, sizeof path - n, "{%s2}", name);
                }
                char pname[40];
                snprintf(pname, sizeof pname, "%s%s", name, dup ? "2" : "");
                json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", pname, "in", "path",
                                                        "required", true, "schema", "type", "string"));
                p += 2;
                continue;
            }
            if (*p == '/') {
                const char *e = strchr(p + 1, '/');
                size_t len = e ? (size_t)(e - p - 1) : strlen(p + 1);
                if (strncmp(p + 1, "{}", 2) != 0) /* the literal segment a placeholder follows */
                    snprintf(prevbuf, sizeof prevbuf, "%.*s", (int)len, p + 1);
            }
            path[n++] = *p++;
            path[n] = '\0';
        }
        json_t *item = json_object_get(paths, path);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, path, item);
        }
        char method[16];
        size_t k = 0;
        for (; rt->method[k] && k < sizeof method - 1; k++)
            method[k] = (char)(rt->method[k] | 0x20); /* lower case */
        method[k] = '\0';
        json_object_set_new(item, method, operation(rt, path, params));
    }
    char server[600];
    snprintf(server, sizeof server, "%s", req->base_url);
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:o, s:{s:{s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s, s:b, s:s}}}},"
        " s:{s:{s:s, s:s}, s:{s:s, s:s}}}, s:[{s:[]}, {s:[]}, {}]}",
        "openapi", "3.0.3", "info", "title", "bpmnd: the Camunda 7 REST API subset it serves", "version", "7.24.0",
        "description",
        "Wire formats as Camunda 7's engine-rest: typed variables, dates as yyyy-MM-dd'T'HH:mm:ss.SSS+0000, "
        "errors as {type, message, code}, 204 without a body for void operations.",
        "servers", "url", server, "paths", paths, "components", "schemas", "ExceptionDto", "type", "object",
        "properties", "type", "type", "string", "message", "type", "string", "code", "type", "integer", "nullable", true,
        "description", "Camunda's error code, or null", "securitySchemes", "basic", "type", "http", "scheme", "basic",
        "bearer", "type", "http", "scheme", "bearer", "security", "basic", "bearer");
    bpm_api_json(r, 200, doc);
}
