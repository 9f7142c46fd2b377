/* Camunda 7 typed variables to and from plain JSON values. One table of
 * type names; one conversion per type; every error names the variable. */
#include "restvars.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "quote.h"
#include "restdate.h"

typedef enum vtype {
    T_STRING,
    T_INTEGER,
    T_SHORT,
    T_LONG,
    T_DOUBLE,
    T_BOOLEAN,
    T_DATE,
    T_NULL,
    T_JSON,
    T_XML,
    T_OBJECT,
    T_BYTES,
    T_FILE,
} vtype;

static const struct {
    const char *name; /* as Camunda returns it */
    const char *java; /* for "Cannot convert value ... to java type ..." */
} types[] = {
    [T_STRING] = {"String", "java.lang.String"},
    [T_INTEGER] = {"Integer", "java.lang.Integer"},
    [T_SHORT] = {"Short", "java.lang.Short"},
    [T_LONG] = {"Long", "java.lang.Long"},
    [T_DOUBLE] = {"Double", "java.lang.Double"},
    [T_BOOLEAN] = {"Boolean", "java.lang.Boolean"},
    [T_DATE] = {"Date", "java.util.Date"},
    [T_NULL] = {"Null", NULL},
    [T_JSON] = {"Json", NULL},
    [T_XML] = {"Xml", NULL},
    [T_OBJECT] = {"Object", NULL},
    [T_BYTES] = {"Bytes", "[B"},
    [T_FILE] = {"File", NULL},
};
#define N_TYPES (sizeof types / sizeof types[0])

/* What a conversion needs for its messages. */
typedef struct conv {
    const char *var;      /* variable name */
    const char *type_arg; /* the type as the client wrote it */
    bpm_err *err;
} conv;

static bpm_rc failv(const conv *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static bpm_rc failv(const conv *c, const char *fmt, va_list ap)
{
    char reason[200], q[BPM_QUOTE_SIZE];
    vsnprintf(reason, sizeof reason, fmt, ap);
    bpm_quote_str(c->var, q, sizeof q);
    bpm_err_set(c->err, BPM_BAD_REQUEST, "%s (variable '%s')", reason, q);
    bpm_err_where(c->err, "variable \"%s\"", q);
    return BPM_BAD_REQUEST;
}

static bpm_rc fail(const conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bpm_rc fail(const conv *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bpm_rc rc = failv(c, fmt, ap);
    va_end(ap);
    return rc;
}

/* Camunda's own message for a value its type cannot take. */
static bpm_rc cannot_convert(const conv *c, const json_t *v, vtype t)
{
    char qv[BPM_QUOTE_SIZE], qt[BPM_QUOTE_SIZE];
    bpm_quote_json(v, qv, sizeof qv);
    bpm_quote_str(c->type_arg, qt, sizeof qt);
    return fail(c, "Cannot convert value '%s' of type '%s' to java type %s", qv, qt, types[t].java);
}

/* fromRestApiTypeName: only the first letter is lower-cased before the
 * lookup, so "string" and "String" match and "STRING" does not. */
static bool type_lookup(const char *s, vtype *out)
{
    if (!s[0])
        return false;
    for (size_t t = 0; t < N_TYPES; t++) {
        const char *n = types[t].name;
        if ((s[0] == n[0] || s[0] == n[0] - 'A' + 'a') && strcmp(s + 1, n + 1) == 0) {
            *out = (vtype)t;
            return true;
        }
    }
    return false;
}

/* ---- numbers ----------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The text of a numeric string without surrounding white space (Jackson
 * trims), NUL-terminated in buf; false when empty or too long. */
static bool trimmed(const json_t *v, char *buf, size_t cap)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    while (n && is_space(*s))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    if (n == 0 || n >= cap || memchr(s, '\0', n))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

/* A decimal integer string, optionally signed, fully consumed. */
static bool parse_int_text(const json_t *v, int64_t *out)
{
    char buf[32];
    if (!trimmed(v, buf, sizeof buf))
        return false;
    const char *p = buf + (buf[0] == '+' || buf[0] == '-');
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    errno = 0;
    char *end;
    long long x = strtoll(buf, &end, 10);
    if (errno || *end)
        return false;
    *out = x;
    return true;
}

/* A decimal number string: digits, sign, '.', exponent; no hex, inf or nan
 * (strtod would take them). */
static bool parse_double_text(const json_t *v, double *out)
{
    char buf[64];
    if (!trimmed(v, buf, sizeof buf))
        return false;
    bool any_digit = false;
    for (const char *q = buf; *q; q++) {
        if (*q >= '0' && *q <= '9')
            any_digit = true;
        else if (!strchr("+-.eE", *q))
            return false;
    }
    if (!any_digit)
        return false;
    char *end;
    double d = strtod(buf, &end);
    if (*end || !isfinite(d))
        return false;
    *out = d;
    return true;
}

/* Integer, Short and Long: a JSON integer, an integral real or a decimal
 * string, within [lo, hi]. */
static bpm_rc to_integer(const conv *c, const json_t *v, vtype t, int64_t lo, int64_t hi,
                         json_t **out)
{
    int64_t x;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        /* 2^63 is exact in a double; the cast is defined strictly below it */
        if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            return cannot_convert(c, v, t);
        x = (int64_t)d;
    } else if (json_is_string(v)) {
        if (!parse_int_text(v, &x))
            return cannot_convert(c, v, t);
    } else {
        return cannot_convert(c, v, t);
    }
    if (x < lo || x > hi)
        return cannot_convert(c, v, t);
    *out = json_integer(x);
    return BPM_OK;
}

/* A number's shortest text that reads back to the same value ("5", "0.1"). */
static json_t *number_text(const json_t *v)
{
    char buf[40];
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return json_string(buf);
    }
    double d = json_real_value(v);
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return json_string(buf);
}

/* ---- base64 ------------------------------------------------------------ */

static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* Decodes s[0..n) into out (NULL: validate only). Groups of four, the last
 * one may end in "=" or "=="; white space anywhere is skipped. Returns the
 * decoded size, or -1 when s is not base64. */
static long long b64_decode(const char *s, size_t n, unsigned char *out)
{
    long long o = 0;
    int quad[4], k = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (is_space((char)ch))
            continue;
        if (ch == '=') {
            /* only in the third or fourth place of the last group */
            if (k < 2)
                return -1;
            pad++;
            quad[k++] = 0;
        } else {
            int val = b64_value(ch);
            if (val < 0 || pad)
                return -1;
            quad[k++] = val;
        }
        if (k == 4) {
            if (pad == 1 && s[i] != '=')
                return -1;
            uint32_t bits = (uint32_t)quad[0] << 18 | (uint32_t)quad[1] << 12 |
                            (uint32_t)quad[2] << 6 | (uint32_t)quad[3];
            int bytes = 3 - pad;
            for (int b = 0; b < bytes; b++)
                if (out)
                    out[o + b] = (unsigned char)(bits >> (16 - 8 * b));
            o += bytes;
            k = 0;
            if (pad) {
                /* nothing but white space may follow the padding */
                for (size_t j = i + 1; j < n; j++)
                    if (!is_space(s[j]))
                        return -1;
                return o;
            }
        }
    }
    return k == 0 ? o : -1;
}

bpm_rc bpm_restvars_base64_decode(const char *b64, unsigned char **data, size_t *len, bpm_err *err)
{
    size_t n = b64 ? strlen(b64) : 0;
    long long size = b64_decode(b64 ? b64 : "", n, NULL);
    if (size < 0)
        return bpm_err_set(err, BPM_BAD_REQUEST, "Invalid base64 content");
    unsigned char *buf = bpm_xmalloc((size_t)size + 1);
    b64_decode(b64 ? b64 : "", n, buf);
    buf[size] = '\0';
    *data = buf;
    *len = (size_t)size;
    return BPM_OK;
}

/* ---- decode ------------------------------------------------------------ */

static bool reserved_marker(const json_t *v)
{
    return json_is_object(v) && json_object_get(v, BPM_RESTVARS_MARKER);
}

/* A valueInfo string member, NULL when absent or null. */
static bpm_rc info_string(const conv *c, const json_t *info, const char *key, const char **out)
{
    const json_t *m = json_object_get(info, key);
    if (!m || json_is_null(m)) {
        *out = NULL;
        return BPM_OK;
    }
    if (!json_is_string(m))
        return fail(c, "Invalid valueInfo: '%s' must be a string", key);
    *out = json_string_value(m);
    return BPM_OK;
}

static bpm_rc to_binary(const conv *c, const json_t *v, const json_t *info, vtype t, json_t **out)
{
    if (!json_is_null(v) && !json_is_string(v))
        return fail(c, "Must provide 'null' or a base64 String value for value of type '%s'",
                    types[t].name);
    const char *b64 = json_is_string(v) ? json_string_value(v) : "";
    if (b64_decode(b64, json_is_string(v) ? json_string_length(v) : 0, NULL) < 0)
        return fail(c, "Invalid base64 content in value of type '%s'", types[t].name);
    if (t == T_BYTES) {
        *out = json_pack("{s:s, s:s}", BPM_RESTVARS_MARKER, "Bytes", "value", b64);
        return BPM_OK;
    }
    const char *filename = NULL, *mime = NULL, *mime_x = NULL, *enc = NULL;
    bpm_rc rc;
    if ((rc = info_string(c, info, "filename", &filename)) ||
        (rc = info_string(c, info, "mimeType", &mime)) ||
        (rc = info_string(c, info, "mimetype", &mime_x)) || /* X's File.js spelling */
        (rc = info_string(c, info, "encoding", &enc)))
        return rc;
    if (!filename)
        return fail(c, "Cannot create file without filename! Please set a name into ValueInfo "
                       "with key filename");
    if (!mime)
        mime = mime_x;
    *out = json_pack("{s:s, s:s, s:s, s:s?, s:s?}", BPM_RESTVARS_MARKER, "File", "value", b64,
                     "filename", filename, "mimeType", mime, "encoding", enc);
    return BPM_OK;
}

/* The value of one variable whose type is known. */
static bpm_rc convert(const conv *c, const json_t *v, const json_t *info, vtype t, json_t **out)
{
    if (json_is_null(v) && t != T_BYTES && t != T_FILE) {
        *out = json_null();
        return BPM_OK;
    }
    switch (t) {
    case T_STRING:
        /* Jackson turns scalars into their text; objects and arrays it cannot */
        if (json_is_string(v))
            *out = json_deep_copy(v);
        else if (json_is_boolean(v))
            *out = json_string(json_is_true(v) ? "true" : "false");
        else if (json_is_number(v))
            *out = number_text(v);
        else
            return cannot_convert(c, v, t);
        return BPM_OK;
    case T_INTEGER:
        return to_integer(c, v, t, INT32_MIN, INT32_MAX, out);
    case T_SHORT:
        return to_integer(c, v, t, INT16_MIN, INT16_MAX, out);
    case T_LONG:
        return to_integer(c, v, t, INT64_MIN, INT64_MAX, out);
    case T_DOUBLE: {
        double d;
        if (json_is_number(v))
            d = json_number_value(v);
        else if (!json_is_string(v) || !parse_double_text(v, &d))
            return cannot_convert(c, v, t);
        *out = json_real(d);
        return BPM_OK;
    }
    case T_BOOLEAN:
        if (json_is_boolean(v))
            *out = json_boolean(json_is_true(v));
        else if (json_is_string(v) && json_string_length(v) == 4 &&
                 memcmp(json_string_value(v), "true", 4) == 0)
            *out = json_true();
        else if (json_is_string(v) && json_string_length(v) == 5 &&
                 memcmp(json_string_value(v), "false", 5) == 0)
            *out = json_false();
        else
            return cannot_convert(c, v, t);
        return BPM_OK;
    case T_DATE: {
        int64_t ms;
        char text[BPM_RESTDATE_SIZE];
        if (json_is_integer(v)) {
            ms = json_integer_value(v);
        } else if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)) {
            bpm_err derr = {0};
            if (bpm_restdate_parse(json_string_value(v), &ms, &derr) != BPM_OK) {
                cannot_convert(c, v, t);
                if (c->err)
                    bpm_err_detail(c->err, "%s", derr.msg);
                return BPM_BAD_REQUEST;
            }
        } else {
            return cannot_convert(c, v, t);
        }
        if (bpm_restdate_format(ms, text) == 0)
            return cannot_convert(c, v, t);
        *out = json_string(text);
        return BPM_OK;
    }
    case T_NULL:
        *out = json_null();
        return BPM_OK;
    case T_JSON: {
        if (!json_is_string(v))
            return fail(c, "Must provide 'null' or String value for value of SerializableValue "
                           "type 'Json'");
        json_error_t jerr;
        json_t *parsed = json_loadb(json_string_value(v), json_string_length(v),
                                    JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!parsed)
            return fail(c, "Cannot parse the value of type 'Json': %s at line %d, column %d",
                        jerr.text, jerr.line, jerr.column);
        if (reserved_marker(parsed)) {
            json_decref(parsed);
            return fail(c, "The key '%s' is reserved in values of type 'Json'",
                        BPM_RESTVARS_MARKER);
        }
        *out = parsed;
        return BPM_OK;
    }
    case T_XML:
    case T_OBJECT:
        if (!json_is_string(v))
            return fail(c,
                        "Must provide 'null' or String value for value of SerializableValue "
                        "type '%s'",
                        types[t].name);
        *out = json_deep_copy(v);
        return BPM_OK;
    case T_BYTES:
    case T_FILE:
        return to_binary(c, v, info, t, out);
    }
    return fail(c, "Unsupported value type '%s'", c->type_arg);
}

static bpm_rc decode_one(const char *name, const json_t *typed, json_t **value, bool *is_transient,
                         bpm_err *err)
{
    conv c = {.var = name, .type_arg = "", .err = err};
    if (!json_is_object(typed))
        return fail(&c, "Invalid variable: expected a JSON object with 'value', 'type' and "
                        "'valueInfo'");
    const json_t *v = json_object_get(typed, "value");
    const json_t *type = json_object_get(typed, "type");
    const json_t *info = json_object_get(typed, "valueInfo");
    if (!v)
        v = json_null();
    if (info && !json_is_null(info) && !json_is_object(info))
        return fail(&c, "Invalid valueInfo: expected a JSON object");
    bool transient = false;
    const json_t *tr = info ? json_object_get(info, "transient") : NULL;
    if (tr && !json_is_null(tr)) {
        if (!json_is_boolean(tr))
            return fail(&c, "Invalid valueInfo: 'transient' must be true or false");
        transient = json_is_true(tr);
    }

    json_t *out = NULL;
    if (!type || json_is_null(type)) {
        /* untyped: the JSON value is already the plain value */
        if (reserved_marker(v))
            return fail(&c, "The key '%s' is reserved in untyped object values",
                        BPM_RESTVARS_MARKER);
        out = json_deep_copy(v);
    } else {
        if (!json_is_string(type))
            return fail(&c, "Invalid variable type: expected a string or null");
        c.type_arg = json_string_value(type);
        vtype t;
        if (strlen(c.type_arg) != json_string_length(type) || !type_lookup(c.type_arg, &t)) {
            char q[BPM_QUOTE_SIZE];
            return fail(&c, "Unsupported value type '%s'", bpm_quote_str(c.type_arg, q, sizeof q));
        }
        bpm_rc rc = convert(&c, v, info, t, &out);
        if (rc)
            return rc;
    }
    *value = out;
    if (is_transient)
        *is_transient = transient;
    return BPM_OK;
}

bpm_rc bpm_restvars_decode_one(const char *name, const json_t *typed, json_t **value,
                               bool *is_transient, bpm_err *err)
{
    return decode_one(name, typed, value, is_transient, err);
}

bpm_rc bpm_restvars_decode(const json_t *typed_map, json_t **vars, json_t **transient, bpm_err *err)
{
    if (typed_map && !json_is_null(typed_map) && !json_is_object(typed_map))
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "Invalid variables: expected a JSON object of typed values");
    json_t *plain = json_object(), *trans = json_object();
    const char *name;
    size_t name_len; /* a name may hold "\u0000": keep it whole */
    json_t *typed;
    json_object_keylen_foreach((json_t *)typed_map, name, name_len, typed)
    {
        json_t *value = NULL;
        bool is_transient = false;
        bpm_rc rc = decode_one(name, typed, &value, &is_transient, err);
        if (rc) {
            json_decref(plain);
            json_decref(trans);
            return rc;
        }
        json_object_setn_new(is_transient ? trans : plain, name, name_len, value);
    }
    *vars = plain;
    if (transient)
        *transient = trans;
    else
        json_decref(trans);
    return BPM_OK;
}

/* ---- encode ------------------------------------------------------------ */

static json_t *typed(const char *type, json_t *value_new, json_t *info_new)
{
    return json_pack("{s:s, s:o, s:o}", "type", type, "value", value_new, "valueInfo",
                     info_new ? info_new : json_object());
}

bool bpm_restvars_binary_get(const json_t *value, bpm_restvars_binary *out)
{
    const char *kind = json_string_value(json_object_get(value, BPM_RESTVARS_MARKER));
    if (!kind || (strcmp(kind, "File") != 0 && strcmp(kind, "Bytes") != 0))
        return false;
    bool file = kind[0] == 'F';
    const char *b64 = json_string_value(json_object_get(value, "value"));
    if (out) {
        *out = (bpm_restvars_binary){
            .is_file = file,
            .base64 = b64 ? b64 : "",
            .filename = file ? json_string_value(json_object_get(value, "filename")) : NULL,
            .mime_type = file ? json_string_value(json_object_get(value, "mimeType")) : NULL,
            .encoding = file ? json_string_value(json_object_get(value, "encoding")) : NULL,
        };
    }
    return true;
}

json_t *bpm_restvars_encode_one(const json_t *value)
{
    if (!value || json_is_null(value))
        return typed("Null", json_null(), NULL);
    switch (json_typeof(value)) {
    case JSON_STRING:
        return typed("String", json_deep_copy(value), NULL);
    case JSON_INTEGER: {
        json_int_t x = json_integer_value(value);
        return typed(x >= INT32_MIN && x <= INT32_MAX ? "Integer" : "Long", json_integer(x), NULL);
    }
    case JSON_REAL:
        return typed("Double", json_real(json_real_value(value)), NULL);
    case JSON_TRUE:
    case JSON_FALSE:
        return typed("Boolean", json_boolean(json_is_true(value)), NULL);
    case JSON_OBJECT: {
        bpm_restvars_binary bin;
        if (bpm_restvars_binary_get(value, &bin)) {
            if (!bin.is_file)
                return typed("Bytes", json_string(bin.base64), NULL);
            /* Camunda leaves the content out: clients fetch it from .../data */
            json_t *info = json_pack("{s:s?}", "filename", bin.filename);
            if (bin.mime_type)
                json_object_set_new(info, "mimeType", json_string(bin.mime_type));
            if (bin.encoding)
                json_object_set_new(info, "encoding", json_string(bin.encoding));
            return typed("File", json_null(), info);
        }
    } /* fall through: any other object is Json */
    /* FALLTHROUGH */
    case JSON_ARRAY:
    default: {
        char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        json_t *t = typed("Json", json_string(text ? text : "null"), NULL);
        free(text);
        return t;
    }
    }
}

json_t *bpm_restvars_encode(const json_t *vars)
{
    BPM_ASSERT(!vars || json_is_object(vars));
    json_t *out = json_object();
    const char *name;
    size_t name_len;
    json_t *v;
    json_object_keylen_foreach((json_t *)vars, name, name_len, v)
    {
        json_object_setn_new(out, name, name_len, bpm_restvars_encode_one(v));
    }
    return out;
}
