/* Route matching and the response helpers every handler uses: JSON bodies,
 * Camunda's error body, engine errors mapped to status codes. */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits path into segments in buf and compares them with the pattern's;
 * "{}" takes any one non-empty segment. */
static bool match(const char *pattern, char *segs[], int nsegs, const char *params[BPM_API_MAX_PARAMS])
{
    int i = 0, np = 0;
    const char *p = pattern;
    while (*p) {
        if (*p != '/')
            return false;
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= nsegs)
            return false;
        if (len == 2 && p[0] == '{' && p[1] == '}') {
            if (np < BPM_API_MAX_PARAMS)
                params[np++] = segs[i];
        } else if (strlen(segs[i]) != len || strncmp(segs[i], p, len) != 0) {
            return false;
        }
        i++;
        p += len;
    }
    return i == nsegs;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

const bpm_api_route *bpm_api_match(const char *method, const char *path, char *buf, size_t cap,
                                   const char *params[BPM_API_MAX_PARAMS], bool *path_known)
{
    *path_known = false;
    if (strlen(path) + 1 > cap)
        return NULL;
    snprintf(buf, cap, "%s", path);
    char *segs[16];
    int n = 0;
    for (char *s = buf; *s && n < 16;) {
        if (*s == '/')
            *s++ = '\0';
        if (!*s)
            break;
        segs[n++] = s;
        char *e = strchr(s, '/');
        if (!e)
            break;
        s = e;
    }
    /* ids arrive percent-encoded (a message name with a space) */
    for (int i = 0; i < n; i++) {
        char *r = segs[i], *w = segs[i];
        for (; *r; r++) {
            if (*r == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
                *w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
                r += 2;
            } else {
                *w++ = *r;
            }
        }
        *w = '\0';
    }
    for (const bpm_api_route *r = bpm_api_routes(); r->method; r++) {
        const char *tmp[BPM_API_MAX_PARAMS] = {0};
        if (!match(r->pattern, segs, n, tmp))
            continue;
        if (strcmp(r->method, method) != 0) {
            *path_known = true;
            continue;
        }
        memcpy(params, tmp, sizeof tmp);
        return r;
    }
    return NULL;
}

void bpm_api_json(bpm_api_resp *r, int status, json_t *j)
{
    free(r->body);
    r->status = status;
    r->body = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    r->body_len = r->body ? strlen(r->body) : 0;
    r->content_type = NULL;
    json_decref(j);
}

void bpm_api_text(bpm_api_resp *r, int status, const char *json_text)
{
    free(r->body);
    r->status = status;
    r->body = bpm_xstrdup(json_text);
    r->body_len = strlen(r->body);
    r->content_type = NULL;
}

void bpm_api_no_content(bpm_api_resp *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->status = 204;
}

void bpm_api_error(bpm_api_resp *r, int status, const char *type, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a message may quote what the client sent, which need not be UTF-8 */
    json_t *m = json_string(msg);
    if (!m) {
        for (char *p = msg; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        m = json_string(msg);
    }
    json_t *j = json_pack("{s:s, s:o, s:o}", "type", type, "message", m, "code",
                          code < 0 ? json_null() : json_integer(code));
    bpm_api_json(r, status, j);
}

void bpm_api_fail(bpm_api_resp *r, const bpm_err *err)
{
    char msg[600];
    snprintf(msg, sizeof msg, "%s%s%s", err->msg, err->where[0] ? " at " : "", err->where);
    switch (err->rc) {
    case BPM_NOT_FOUND:
        bpm_api_error(r, 404, "InvalidRequestException", -1, "%s", msg);
        break;
    case BPM_BAD_REQUEST:
    case BPM_PARSE:
        bpm_api_error(r, 400, "InvalidRequestException", -1, "%s", msg);
        break;
    case BPM_CONFLICT:
        bpm_api_error(r, 500, "OptimisticLockingException", 1, "%s", msg);
        break;
    case BPM_UNAVAILABLE:
        bpm_api_error(r, 503, "ProcessEngineException", 0, "%s", msg);
        break;
    default:
        bpm_api_error(r, 500, "ProcessEngineException", 0, "%s", msg);
        break;
    }
}

json_t *bpm_api_body(const bpm_api_req *req, bpm_api_resp *r)
{
    if (!req->body_len)
        return json_object(); /* Camunda treats an empty body as {} */
    json_error_t je;
    json_t *j = json_loadb(req->body, req->body_len, 0, &je);
    if (!j) {
        bpm_api_error(r, 400, "InvalidRequestException", -1, "malformed JSON body at line %d, column %d: %s", je.line,
                      je.column, je.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        bpm_api_error(r, 400, "InvalidRequestException", -1, "the request body must be a JSON object");
        return NULL;
    }
    return j;
}

void bpm_api_sql_json(const bpm_api_req *req, bpm_api_resp *r, const char *sql, int n, const char *const *params,
                      const char *not_found)
{
    PGresult *res = NULL;
    bpm_err err = {0};
    if (bpm_pg_query(req->s->pg, sql, n, params, NULL, NULL, &res, "answer the query", &err)) {
        bpm_api_fail(r, &err);
        return;
    }
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        PQclear(res);
        if (not_found)
            bpm_api_error(r, 404, "InvalidRequestException", -1, "%s", not_found);
        else
            bpm_api_text(r, 200, "null");
        return;
    }
    bpm_api_text(r, 200, PQgetvalue(res, 0, 0));
    PQclear(res);
}
