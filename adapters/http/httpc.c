/* One HTTP exchange with libcurl for a connector job: secrets expanded at
 * the last moment, CURLcode translated to bpm_rc here and nowhere else. */
#include "httpc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"

#define DEFAULT_CONNECT_MS 20000
#define DEFAULT_TIMEOUT_MS 60000
#define DEFAULT_MAX_RESPONSE (1024 * 1024)
#define MAX_HEADER_BYTES (64 * 1024)
#define MIN_SECRET 4

/* ---- secrets ---------------------------------------------------------------- */

static void wipe(char *p, size_t n)
{
    /* volatile: the compiler may not drop a write to memory about to be freed */
    volatile char *v = p;
    while (n--)
        *v++ = 0;
}

void bpm_httpc_secrets_init(bpm_httpc_secrets *s)
{
    memset(s, 0, sizeof *s);
}

void bpm_httpc_secrets_cleanup(bpm_httpc_secrets *s)
{
    for (size_t i = 0; i < s->n; i++) {
        wipe(s->values[i], strlen(s->values[i]));
        free(s->values[i]);
    }
    free(s->values);
    memset(s, 0, sizeof *s);
}

static void remember(bpm_httpc_secrets *s, const char *value)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->values[i], value) == 0)
            return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->values = bpm_xrealloc(s->values, s->cap * sizeof *s->values);
    }
    s->values[s->n++] = bpm_xstrdup(value);
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* The value of secret name[0..len): BPMND_SECRET_NAME first, then NAME
 * (Camunda 8 self-managed connectors read secrets from the environment). */
static const char *secret_value(const char *name, size_t len)
{
    char var[160];
    snprintf(var, sizeof var, "BPMND_SECRET_%.*s", (int)len, name);
    const char *v = getenv(var);
    if (!v) {
        snprintf(var, sizeof var, "%.*s", (int)len, name);
        v = getenv(var);
    }
    return v;
}

bpm_rc bpm_httpc_expand(const char *text, size_t len, bpm_httpc_secrets *used, char **out, size_t *out_len,
                        bpm_err *err)
{
    static const char open[] = "{{secrets.";
    const size_t olen = sizeof open - 1;
    size_t cap = len + 1, n = 0;
    char *buf = bpm_xmalloc(cap);
    size_t i = 0;
    while (i < len) {
        if (len - i >= olen && memcmp(text + i, open, olen) == 0) {
            size_t j = i + olen;
            while (j < len && name_char(text[j]) && j - (i + olen) < 128)
                j++;
            size_t nlen = j - (i + olen);
            if (nlen == 0 || len - j < 2 || text[j] != '}' || text[j + 1] != '}') {
                wipe(buf, n);
                free(buf);
                return bpm_err_set(err, BPM_BAD_REQUEST,
                                   "malformed secret reference at character %zu: write {{secrets.NAME}} with NAME of "
                                   "letters, digits and '_'",
                                   i + 1);
            }
            const char *name = text + i + olen;
            const char *v = secret_value(name, nlen);
            if (!v || strlen(v) < MIN_SECRET) {
                wipe(buf, n);
                free(buf);
                return bpm_err_set(err, BPM_BAD_REQUEST,
                                   v ? "secret \"%.*s\" is shorter than %d characters: too short to keep out of logs"
                                     : "secret \"%.*s\" is not set: set BPMND_SECRET_%.*s in the environment of the worker",
                                   (int)nlen, name, v ? MIN_SECRET : (int)nlen, name);
            }
            size_t vlen = strlen(v);
            if (n + vlen + (len - j) + 1 > cap) {
                size_t ncap = n + vlen + (len - j) + 1;
                char *nb = bpm_xmalloc(ncap);
                memcpy(nb, buf, n);
                wipe(buf, n);
                free(buf);
                buf = nb;
                cap = ncap;
            }
            memcpy(buf + n, v, vlen);
            n += vlen;
            remember(used, v);
            i = j + 2;
            continue;
        }
        if (n + 2 > cap) {
            char *nb = bpm_xmalloc(cap * 2);
            memcpy(nb, buf, n);
            wipe(buf, n);
            free(buf);
            buf = nb;
            cap *= 2;
        }
        buf[n++] = text[i++];
    }
    buf[n] = '\0';
    *out = buf;
    if (out_len)
        *out_len = n;
    return BPM_OK;
}

void bpm_httpc_mask(const bpm_httpc_secrets *used, char *buf, size_t len)
{
    if (!used || !buf)
        return;
    for (size_t k = 0; k < used->n; k++) {
        const char *v = used->values[k];
        size_t vlen = strlen(v);
        if (vlen == 0 || vlen > len)
            continue;
        for (size_t i = 0; i + vlen <= len; i++)
            if (buf[i] == v[0] && memcmp(buf + i, v, vlen) == 0) {
                memset(buf + i, '*', vlen);
                i += vlen - 1;
            }
    }
}

/* ---- the exchange --------------------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct exchange {
    char *body;
    size_t len, cap, max;
    bool too_large;
    json_t *headers;
    size_t header_bytes;
    long status_seen;
    char reason[64];
} exchange;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    exchange *x = ud;
    size_t add = size * nmemb;
    if (add > x->max - x->len) {
        x->too_large = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (x->len + add + 1 > x->cap) {
        size_t ncap = x->cap ? x->cap : 4096;
        while (ncap < x->len + add + 1)
            ncap *= 2;
        x->body = bpm_xrealloc(x->body, ncap);
        x->cap = ncap;
    }
    memcpy(x->body + x->len, p, add);
    x->len += add;
    x->body[x->len] = '\0';
    return add;
}

/* Header lines arrive one by one; a status line starts a new response (an
 * interim 100 Continue comes first), so what was collected is dropped. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    exchange *x = ud;
    size_t n = size * nmemb;
    x->header_bytes += n;
    if (x->header_bytes > MAX_HEADER_BYTES) {
        x->too_large = true;
        return 0;
    }
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        json_object_clear(x->headers);
        x->reason[0] = '\0';
        const char *sp = memchr(p, ' ', n);
        const char *sp2 = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - p)) : NULL;
        if (sp2) {
            size_t rl = n - (size_t)(sp2 + 1 - p);
            if (rl >= sizeof x->reason)
                rl = sizeof x->reason - 1;
            memcpy(x->reason, sp2 + 1, rl);
            x->reason[rl] = '\0';
        }
        return size * nmemb;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return size * nmemb;
    char name[256];
    size_t nl = (size_t)(colon - p) < sizeof name - 1 ? (size_t)(colon - p) : sizeof name - 1;
    memcpy(name, p, nl);
    name[nl] = '\0';
    const char *v = colon + 1;
    size_t vl = n - (size_t)(v - p);
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    json_t *value = json_stringn(v, vl);
    if (!value)
        return size * nmemb; /* not UTF-8: left out */
    json_t *prev = json_object_get(x->headers, name);
    if (json_is_string(prev)) {
        char *joined = bpm_xmalloc(json_string_length(prev) + vl + 3);
        memcpy(joined, json_string_value(prev), json_string_length(prev));
        memcpy(joined + json_string_length(prev), ", ", 2);
        memcpy(joined + json_string_length(prev) + 2, v, vl);
        json_decref(value);
        value = json_stringn(joined, json_string_length(prev) + 2 + vl);
        free(joined);
    }
    json_object_set_new(x->headers, name, value ? value : json_null());
    return size * nmemb;
}

static bool token_char(char c)
{
    return isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c);
}

static bool has_line_break(const char *s)
{
    return strchr(s, '\r') || strchr(s, '\n');
}

static bool http_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

/* Masks the secrets in each string value of obj. */
static void mask_json_strings(const bpm_httpc_secrets *used, json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (!json_is_string(v))
            continue;
        char *copy = bpm_xstrdup(json_string_value(v));
        size_t len = json_string_length(v);
        bpm_httpc_mask(used, copy, len);
        if (memcmp(copy, json_string_value(v), len) != 0)
            json_string_setn(v, copy, len);
        free(copy);
    }
}

bpm_rc bpm_httpc_call(const bpm_httpc_request *req, bpm_httpc_response *out, bool *timed_out, bpm_err *err)
{
    if (timed_out)
        *timed_out = false;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return bpm_err_set(err, BPM_INTERNAL, "could not initialise libcurl: %s", curl_easy_strerror(global_rc));

    const char *url_t = req->url ? req->url : "";
    char method[16];
    const char *m = req->method && *req->method ? req->method : "GET";
    size_t ml = strlen(m);
    if (ml >= sizeof method)
        return bpm_err_set(err, BPM_BAD_REQUEST, "HTTP method \"%.15s...\" is too long", m);
    for (size_t i = 0; i <= ml; i++) {
        if (i < ml && !isalpha((unsigned char)m[i]))
            return bpm_err_set(err, BPM_BAD_REQUEST, "HTTP method \"%s\" is not a word", m);
        method[i] = (char)toupper((unsigned char)m[i]);
    }
    /* checked again once expanded: the whole URL may be a secret */
    if (!http_url(url_t) && strncmp(url_t, "{{secrets.", 10) != 0)
        return bpm_err_set(err, BPM_BAD_REQUEST, "connector URL \"%s\" is not an http:// or https:// URL", url_t);

    bpm_rc rc = BPM_OK;
    bpm_httpc_secrets used;
    bpm_httpc_secrets_init(&used);
    char *url = NULL, *body = NULL, *user = NULL, *password = NULL;
    size_t url_len = 0, body_len = 0;
    char **lines = bpm_xcalloc(req->n_headers + 3, sizeof *lines);
    size_t n_lines = 0;
    struct curl_slist *hl = NULL;
    CURL *h = NULL;
    exchange x = {.max = req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE, .headers = json_object()};
    char errbuf[CURL_ERROR_SIZE] = "";

    if ((rc = bpm_httpc_expand(url_t, strlen(url_t), &used, &url, &url_len, err)))
        goto done;
    if (!http_url(url)) {
        rc = bpm_err_set(err, BPM_BAD_REQUEST, "connector URL \"%s\" is not an http:// or https:// URL", url_t);
        goto done;
    }
    if (strlen(url) != url_len || has_line_break(url) || strchr(url, ' ')) {
        rc = bpm_err_set(err, BPM_BAD_REQUEST, "connector URL \"%s\" holds spaces or control characters", url_t);
        goto done;
    }
    if (req->body && (rc = bpm_httpc_expand(req->body, req->body_len, &used, &body, &body_len, err)))
        goto done;
    if (req->basic_user && (rc = bpm_httpc_expand(req->basic_user, strlen(req->basic_user), &used, &user, NULL, err)))
        goto done;
    if (req->basic_password &&
        (rc = bpm_httpc_expand(req->basic_password, strlen(req->basic_password), &used, &password, NULL, err)))
        goto done;
    bool own_key = false;
    for (size_t i = 0; i < req->n_headers; i++) {
        const bpm_httpc_header *hd = &req->headers[i];
        const char *name = hd->name ? hd->name : "";
        bool ok = *name != '\0';
        for (const char *c = name; *c; c++)
            ok = ok && token_char(*c);
        if (!ok) {
            rc = bpm_err_set(err, BPM_BAD_REQUEST, "HTTP header name \"%s\" is not a token", name);
            goto done;
        }
        if (strcasecmp(name, "Idempotency-Key") == 0)
            own_key = true;
        const char *vt = hd->value ? hd->value : "";
        char *v = NULL;
        size_t vl = 0;
        if ((rc = bpm_httpc_expand(vt, strlen(vt), &used, &v, &vl, err)))
            goto done;
        if (strlen(v) != vl || has_line_break(v)) {
            wipe(v, vl);
            free(v);
            rc = bpm_err_set(err, BPM_BAD_REQUEST, "HTTP header \"%s\" holds a line break or a NUL", name);
            goto done;
        }
        /* "Name:" with nothing after it would tell curl to drop the header */
        size_t ll = strlen(name) + vl + 3;
        lines[n_lines] = bpm_xmalloc(ll);
        snprintf(lines[n_lines], ll, vl ? "%s: %s" : "%s;", name, v);
        wipe(v, vl);
        free(v);
        hl = curl_slist_append(hl, lines[n_lines++]);
    }
    if (req->idempotency_key && !own_key && !has_line_break(req->idempotency_key)) {
        size_t ll = strlen(req->idempotency_key) + 20;
        lines[n_lines] = bpm_xmalloc(ll);
        snprintf(lines[n_lines], ll, "Idempotency-Key: %s", req->idempotency_key);
        hl = curl_slist_append(hl, lines[n_lines++]);
    }
    /* curl would wait a second for "100 Continue" before a large body */
    hl = curl_slist_append(hl, "Expect:");

    if (!(h = curl_easy_init())) {
        rc = bpm_err_set(err, BPM_INTERNAL, "could not create a libcurl handle");
        goto done;
    }
    int64_t cto = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_CONNECT_MS;
    int64_t to = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    /* TLS is verified, always: a connector has no switch to turn it off */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for name lookups */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cto);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)to);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x.max);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* the cap counts decoded bytes */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "bpmnd");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (user || password) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, user ? user : "");
        curl_easy_setopt(h, CURLOPT_PASSWORD, password ? password : "");
    }
    if (body || strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0 || body)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);

    CURLcode cc = curl_easy_perform(h);
    bpm_httpc_mask(&used, errbuf, strlen(errbuf));
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    switch (cc) {
    case CURLE_OK:
        break;
    case CURLE_OPERATION_TIMEDOUT:
        if (timed_out)
            *timed_out = true;
        rc = bpm_err_set(err, BPM_UNAVAILABLE, "%s %s: no answer within %lld ms", method, url_t, (long long)to);
        bpm_err_detail(err, "%s", why);
        goto done;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (x.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
            rc = bpm_err_set(err, BPM_LIMIT, "%s %s: the response is larger than %zu bytes", method, url_t, x.max);
            goto done;
        }
        rc = bpm_err_set(err, BPM_UNAVAILABLE, "%s %s: %s", method, url_t, why);
        goto done;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        rc = bpm_err_set(err, BPM_BAD_REQUEST, "%s %s: %s", method, url_t, why);
        goto done;
    default:
        rc = bpm_err_set(err, BPM_UNAVAILABLE, "could not call %s %s: %s", method, url_t, why);
        goto done;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    bpm_httpc_mask(&used, x.body, x.len);
    mask_json_strings(&used, x.headers);
    bpm_httpc_mask(&used, x.reason, strlen(x.reason));
    memset(out, 0, sizeof *out);
    out->status = status;
    memcpy(out->reason, x.reason, sizeof out->reason);
    out->headers = x.headers;
    x.headers = NULL;
    out->body = x.body ? x.body : bpm_xstrdup("");
    out->body_len = x.len;
    x.body = NULL;
done:
    if (h)
        curl_easy_cleanup(h);
    curl_slist_free_all(hl);
    for (size_t i = 0; i < n_lines; i++) {
        wipe(lines[i], strlen(lines[i]));
        free(lines[i]);
    }
    free(lines);
    if (url) {
        wipe(url, url_len);
        free(url);
    }
    if (body) {
        wipe(body, body_len);
        free(body);
    }
    if (user) {
        wipe(user, strlen(user));
        free(user);
    }
    if (password) {
        wipe(password, strlen(password));
        free(password);
    }
    if (x.body) {
        wipe(x.body, x.len);
        free(x.body);
    }
    json_decref(x.headers);
    bpm_httpc_secrets_cleanup(&used);
    return rc;
}

void bpm_httpc_response_cleanup(bpm_httpc_response *r)
{
    if (!r)
        return;
    json_decref(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}
