/* CloudEvents 1.0 events from connector inputs (CloudEvents spec 1.0.2,
 * the HTTP protocol binding and the JSON event format): attributes checked,
 * data encoded for its content type, the binary or structured request. */
#include "cloudevents.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Text of an optional string input: NULL when absent or null; *bad when
 * present but not text. */
static const char *opt_text(const json_t *inputs, const char *name, bool *bad)
{
    const json_t *v = json_object_get(inputs, name);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v) || !json_string_length(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

static bool mentions_json(const char *ct)
{
    for (const char *p = ct; p && *p; p++)
        if (strncasecmp(p, "json", 4) == 0)
            return true;
    return false;
}

/* HTTP binding §3.1.3.2: a header value percent-encodes space, '"', '%'
 * and every byte outside printable ASCII. New (malloc). */
static char *header_encode(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1), *o = out;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '%')
            o += snprintf(o, 4, "%%%02X", c);
        else
            *o++ = (char)c;
    }
    *o = '\0';
    return out;
}

static void set_header(json_t *headers, const char *name, const char *value)
{
    char *v = header_encode(value);
    json_object_set_new(headers, name, json_string(v));
    free(v);
}

/* An extension attribute's value as text (CloudEvents type system: String,
 * Integer, Boolean), new (malloc); NULL for other types. */
static char *ext_text(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v) || json_is_boolean(v))
        return json_dumps(v, JSON_ENCODE_ANY);
    /* a whole number that went through a script as a double; the range check
     * first, since converting a double beyond int64 is undefined */
    double d = json_is_real(v) ? json_real_value(v) : 0.5;
    if (d >= -9e15 && d <= 9e15 && d == (double)(json_int_t)d) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, (json_int_t)d);
        return strdup(buf);
    }
    return NULL;
}

static bool reserved(const char *name)
{
    static const char *const names[] = {"specversion", "id",      "source", "type", "datacontenttype",
                                        "dataschema",  "subject", "time",   "data"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

bpm_rc bpm_cloudevents_request(const json_t *inputs, const bpm_cloudevents_context *ctx, json_t **out,
                               bpm_err *err)
{
    bool bad = false;
    const char *url = opt_text(inputs, "url", &bad);
    if (!url)
        return bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvents connector has no \"url\" input");
    const char *type = opt_text(inputs, "type", &bad);
    if (!type)
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "the CloudEvents connector has no \"type\" input (e.g. \"com.example.order.placed\")");
    const char *names[] = {"source", "subject", "id", "mode", "datacontenttype", "dataschema"};
    const char *vals[6];
    for (size_t i = 0; i < 6; i++) {
        bad = false;
        vals[i] = opt_text(inputs, names[i], &bad);
        if (bad)
            return bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvents connector's \"%s\" input is not text", names[i]);
    }
    const char *subject = vals[1], *mode = vals[3], *ct = vals[4], *dataschema = vals[5];
    const char *id = vals[2] ? vals[2] : ctx->id;
    bool structured = false;
    if (mode && strcasecmp(mode, "structured") == 0)
        structured = true;
    else if (mode && strcasecmp(mode, "binary") != 0)
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "the CloudEvents connector's \"mode\" is \"%s\": use \"binary\" or \"structured\"", mode);
    if (!id || !*id)
        return bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvents connector has no event id");
    char *source = vals[0] ? strdup(vals[0]) : NULL;
    if (!source) {
        size_t n = strlen(ctx->process ? ctx->process : "") + 8;
        source = malloc(n);
        snprintf(source, n, "bpmnd:/%s", ctx->process ? ctx->process : "");
    }

    const json_t *data = json_object_get(inputs, "data");
    if (json_is_null(data))
        data = NULL;
    const json_t *ext = json_object_get(inputs, "extensions");
    const json_t *extra = json_object_get(inputs, "headers");
    json_t *headers = json_object(), *event = json_object(), *value = NULL;
    char *body = NULL;
    bpm_rc rc = BPM_OK;
    if (ext && !json_is_null(ext) && !json_is_object(ext)) {
        rc = bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvents connector's \"extensions\" input is not a map");
        goto done;
    }
    if (extra && !json_is_null(extra) && !json_is_object(extra)) {
        rc = bpm_err_set(err, BPM_BAD_REQUEST, "the CloudEvents connector's \"headers\" input is not a map");
        goto done;
    }

    /* the data as the content type wants it: JSON types carry any value (a
     * string holding JSON text is taken as that JSON), other types text */
    if (data && !ct)
        ct = json_is_string(data) ? "text/plain; charset=utf-8" : "application/json";
    if (data) {
        if (mentions_json(ct)) {
            if (json_is_string(data))
                value = json_loadb(json_string_value(data), json_string_length(data), JSON_DECODE_ANY, NULL);
            if (!value)
                value = json_incref((json_t *)data);
            body = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        } else if (json_is_string(data)) {
            value = json_incref((json_t *)data);
            body = strdup(json_string_value(data));
        } else {
            rc = bpm_err_set(err, BPM_BAD_REQUEST,
                             "the CloudEvents connector's \"data\" is not text, which datacontenttype \"%s\" needs", ct);
            goto done;
        }
    }

    json_object_set_new(event, "specversion", json_string("1.0"));
    json_object_set_new(event, "id", json_string(id));
    json_object_set_new(event, "source", json_string(source));
    json_object_set_new(event, "type", json_string(type));
    if (subject)
        json_object_set_new(event, "subject", json_string(subject));
    if (ctx->time && *ctx->time)
        json_object_set_new(event, "time", json_string(ctx->time));
    if (ct && (data || vals[4]))
        json_object_set_new(event, "datacontenttype", json_string(ct));
    if (dataschema)
        json_object_set_new(event, "dataschema", json_string(dataschema));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ext, k, v)
    {
        bool ok = *k != '\0' && strlen(k) <= 50; /* the spec asks for 20 at most; ce-<name> must fit */
        for (const char *c = k; *c; c++)
            ok = ok && ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'));
        if (!ok || reserved(k)) {
            rc = bpm_err_set(err, BPM_BAD_REQUEST,
                             ok ? "extension attribute \"%s\" is a CloudEvents attribute: use its own input"
                                : "extension attribute \"%s\" is not a CloudEvents name: up to 50 lower-case letters and "
                                  "digits",
                             k);
            goto done;
        }
        if (json_is_null(v))
            continue;
        char *t = ext_text(v);
        if (!t) {
            rc = bpm_err_set(err, BPM_BAD_REQUEST,
                             "extension attribute \"%s\" is not a string, an integer or a boolean", k);
            goto done;
        }
        free(t);
        if (json_is_real(v)) /* whole, checked by ext_text: CloudEvents has no floats */
            json_object_set_new(event, k, json_integer((json_int_t)json_real_value(v)));
        else
            json_object_set(event, k, v);
    }
    json_object_foreach((json_t *)extra, k, v)
    {
        if (strncasecmp(k, "ce-", 3) == 0 || strcasecmp(k, "content-type") == 0) {
            rc = bpm_err_set(err, BPM_BAD_REQUEST,
                             "header \"%s\" is the event's own: set the attribute or extension instead", k);
            goto done;
        }
        char *t = json_is_string(v) ? strdup(json_string_value(v)) : json_is_null(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (t)
            json_object_set_new(headers, k, json_string(t));
        free(t);
    }

    if (structured) {
        if (value)
            json_object_set(event, "data", value);
        free(body);
        body = json_dumps(event, JSON_COMPACT);
        json_object_set_new(headers, "Content-Type", json_string("application/cloudevents+json; charset=utf-8"));
    } else {
        /* binary mode: every attribute but datacontenttype (Content-Type) as ce-<name> */
        json_object_foreach(event, k, v)
        {
            if (strcmp(k, "datacontenttype") == 0) {
                json_object_set_new(headers, "Content-Type", json_string(json_string_value(v)));
                continue;
            }
            char *t = ext_text(v);
            char name[64];
            snprintf(name, sizeof name, "ce-%s", k);
            set_header(headers, name, t ? t : "");
            free(t);
        }
    }
    *out = json_pack("{s:s, s:O}", "url", url, "headers", headers);
    if (body)
        json_object_set_new(*out, "body", json_string(body));
done:
    free(source);
    free(body);
    json_decref(value);
    json_decref(headers);
    json_decref(event);
    return rc;
}
