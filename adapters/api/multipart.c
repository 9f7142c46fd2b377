/* multipart/form-data: boundary lookup in Content-Type and a one-pass split
 * of the body into parts. Every read is bounded by the body length. */
#include "multipart.h"

#include <stdbool.h>
#include <string.h>

#include "quote.h"

#define BAD "Invalid multipart body: "

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals the lower-case word w, ignoring case */
static bool word_eq(const char *s, size_t n, const char *w)
{
    size_t k = 0;
    for (; k < n && w[k]; k++)
        if (lower(s[k]) != w[k])
            return false;
    return k == n && !w[k];
}

/* ---- header parameters: `; key=value; key="quoted \" value"` ------------- */

typedef struct param_reader {
    const char *s; /* the header value */
    size_t n, i;
} param_reader;

typedef enum { P_END, P_OK, P_UNTERMINATED } param_status;

/* Next parameter. key is s[*k0..*k1); a quoted value is unescaped into val
 * (an arena string), a token value is trimmed. Values of parameters
 * without '=' are "". val may be NULL to only skip. */
static param_status param_next(param_reader *r, bpm_arena *a, size_t *k0, size_t *k1, char **val)
{
    const char *s = r->s;
    size_t n = r->n, i = r->i;
    while (i < n && (is_ws(s[i]) || s[i] == ';'))
        i++;
    if (i >= n) {
        r->i = i;
        return P_END;
    }
    *k0 = i;
    while (i < n && s[i] != '=' && s[i] != ';' && !is_ws(s[i]))
        i++;
    *k1 = i;
    while (i < n && is_ws(s[i]))
        i++;
    size_t v0 = i, v1 = i;
    bool quoted = false;
    if (i < n && s[i] == '=') {
        i++;
        while (i < n && is_ws(s[i]))
            i++;
        if (i < n && s[i] == '"') {
            quoted = true;
            v0 = ++i;
            for (; i < n && s[i] != '"'; i++)
                if (s[i] == '\\' && i + 1 < n)
                    i++;
            if (i >= n)
                return P_UNTERMINATED;
            v1 = i++;
        } else {
            v0 = i;
            while (i < n && s[i] != ';')
                i++;
            v1 = i;
            while (v1 > v0 && is_ws(s[v1 - 1]))
                v1--;
        }
    }
    r->i = i;
    if (!val)
        return P_OK;
    char *out = bpm_arena_alloc(a, v1 - v0 + 1);
    size_t o = 0;
    for (size_t j = v0; j < v1; j++) {
        /* only \" and \\ are escapes: a Windows path keeps its backslashes */
        if (quoted && s[j] == '\\' && j + 1 < v1 && (s[j + 1] == '"' || s[j + 1] == '\\'))
            j++;
        out[o++] = s[j];
    }
    out[o] = '\0';
    *val = out;
    return P_OK;
}

/* ---- boundary ------------------------------------------------------------- */

bpm_rc bpm_multipart_boundary(const char *content_type, char *out, size_t cap, bpm_err *err)
{
    if (!content_type)
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "The request needs Content-Type multipart/form-data");
    size_t n = strlen(content_type), i = 0;
    while (i < n && is_ws(content_type[i]))
        i++;
    size_t t0 = i;
    while (i < n && content_type[i] != ';')
        i++;
    size_t t1 = i;
    while (t1 > t0 && is_ws(content_type[t1 - 1]))
        t1--;
    char q[BPM_QUOTE_SIZE];
    if (!word_eq(content_type + t0, t1 - t0, "multipart/form-data"))
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           "The request needs Content-Type multipart/form-data, not '%s'",
                           bpm_quote_value(content_type + t0, t1 - t0, q, sizeof q));
    bpm_arena *a = bpm_arena_new_sized(512);
    param_reader r = {content_type, n, i};
    size_t k0, k1;
    char *val, *found = NULL;
    param_status st;
    while ((st = param_next(&r, a, &k0, &k1, &val)) == P_OK)
        if (!found && word_eq(content_type + k0, k1 - k0, "boundary"))
            found = val;
    bpm_rc rc = BPM_OK;
    size_t blen = found ? strlen(found) : 0;
    if (st == P_UNTERMINATED) {
        rc = bpm_err_set(err, BPM_BAD_REQUEST,
                         "Invalid Content-Type: unterminated quoted string in '%s'",
                         bpm_quote_str(content_type, q, sizeof q));
    } else if (!found) {
        rc = bpm_err_set(err, BPM_BAD_REQUEST,
                         "Invalid Content-Type: multipart/form-data without a boundary");
    } else if (blen == 0 || blen > BPM_MULTIPART_BOUNDARY_MAX || blen >= cap ||
               found[blen - 1] == ' ') {
        rc = bpm_err_set(err, BPM_BAD_REQUEST,
                         "Invalid Content-Type: the boundary must have 1 to %d characters and "
                         "not end in a space",
                         BPM_MULTIPART_BOUNDARY_MAX);
    } else {
        for (size_t k = 0; k < blen && rc == BPM_OK; k++)
            if ((unsigned char)found[k] < 0x20 || found[k] == 0x7f)
                rc = bpm_err_set(err, BPM_BAD_REQUEST,
                                 "Invalid Content-Type: control character in the boundary");
        if (rc == BPM_OK)
            memcpy(out, found, blen + 1);
    }
    bpm_arena_free(a);
    return rc;
}

/* ---- body ----------------------------------------------------------------- */

typedef struct scan {
    const char *b;
    size_t len;
    const char *bd; /* boundary */
    size_t blen;
} scan;

/* Is there a delimiter line "--boundary" at i (a line start)? If so, *next
 * is where the following part's headers start and *close tells a closing
 * "--boundary--" (the epilogue after it is ignored). A line that merely
 * starts with the boundary, or one cut off by the end of the body, is not a
 * delimiter. */
static bool delim_at(const scan *sc, size_t i, size_t *next, bool *close)
{
    const char *b = sc->b;
    size_t len = sc->len;
    if (len - i < sc->blen + 2 || b[i] != '-' || b[i + 1] != '-' ||
        memcmp(b + i + 2, sc->bd, sc->blen) != 0)
        return false;
    i += 2 + sc->blen;
    if (len - i >= 2 && b[i] == '-' && b[i + 1] == '-') {
        *close = true;
        *next = len;
        return true;
    }
    while (i < len && is_ws(b[i])) /* transport padding, RFC 2046 §5.1.1 */
        i++;
    if (i < len && b[i] == '\r')
        i++;
    if (i < len && b[i] == '\n') {
        *close = false;
        *next = i + 1;
        return true;
    }
    return false;
}

/* The first delimiter on a line starting at or after from. *at is where
 * the delimiter's line starts. */
static bool find_delim(const scan *sc, size_t from, size_t *at, size_t *next, bool *close)
{
    size_t i = from;
    while (i < sc->len) {
        if (delim_at(sc, i, next, close)) {
            *at = i;
            return true;
        }
        const char *nl = memchr(sc->b + i, '\n', sc->len - i);
        if (!nl)
            return false;
        i = (size_t)(nl - sc->b) + 1;
    }
    return false;
}

static bpm_rc parse_disposition(bpm_arena *a, const char *v, size_t n, size_t part,
                                bpm_multipart_part *p, bpm_err *err)
{
    size_t i = 0;
    while (i < n && v[i] != ';' && !is_ws(v[i]))
        i++;
    char q[BPM_QUOTE_SIZE];
    if (!word_eq(v, i, "form-data"))
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           BAD "part %zu has Content-Disposition '%s', expected form-data", part,
                           bpm_quote_value(v, i, q, sizeof q));
    param_reader r = {v, n, i};
    size_t k0, k1;
    char *val;
    param_status st;
    bool has_name = false, has_file = false;
    while ((st = param_next(&r, a, &k0, &k1, &val)) == P_OK) {
        /* the first of a repeated parameter wins */
        if (!has_name && word_eq(v + k0, k1 - k0, "name")) {
            p->name = val;
            has_name = true;
        } else if (!has_file && word_eq(v + k0, k1 - k0, "filename")) {
            p->filename = val;
            has_file = true;
        }
    }
    if (st == P_UNTERMINATED)
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           BAD "unterminated quoted string in the Content-Disposition of part %zu",
                           part);
    if (!has_name)
        return bpm_err_set(err, BPM_BAD_REQUEST,
                           BAD "the Content-Disposition of part %zu has no name", part);
    return BPM_OK;
}

/* Reads the header lines of part number `part` from *pos up to and past
 * the blank line. */
static bpm_rc parse_headers(const scan *sc, bpm_arena *a, size_t *pos, size_t part,
                            bpm_multipart_part *p, bpm_err *err)
{
    const char *b = sc->b;
    size_t i = *pos, start = *pos;
    bool has_disp = false;
    for (;;) {
        size_t next;
        bool close;
        if (i >= sc->len || delim_at(sc, i, &next, &close))
            return bpm_err_set(err, BPM_BAD_REQUEST,
                               BAD "the headers of part %zu are not followed by a blank line",
                               part);
        size_t avail = sc->len - i;
        const char *nl = memchr(b + i, '\n', avail);
        size_t end = nl ? (size_t)(nl - b) : sc->len; /* the '\n' or the end */
        if (end - start > BPM_MULTIPART_MAX_HEADER)
            return bpm_err_set(err, BPM_LIMIT, "The headers of part %zu exceed %d bytes", part,
                               BPM_MULTIPART_MAX_HEADER);
        if (!nl)
            return bpm_err_set(err, BPM_BAD_REQUEST,
                               BAD "the headers of part %zu are not followed by a blank line",
                               part);
        size_t le = end;
        if (le > i && b[le - 1] == '\r')
            le--;
        if (le == i) { /* the blank line */
            *pos = end + 1;
            break;
        }
        const char *line = b + i;
        size_t n = le - i;
        char q[BPM_QUOTE_SIZE];
        if (memchr(line, '\0', n))
            return bpm_err_set(err, BPM_BAD_REQUEST, BAD "NUL byte in the headers of part %zu",
                               part);
        if (is_ws(line[0]))
            return bpm_err_set(err, BPM_BAD_REQUEST,
                               BAD "folded header lines are not supported (part %zu)", part);
        const char *colon = memchr(line, ':', n);
        if (!colon || colon == line)
            return bpm_err_set(err, BPM_BAD_REQUEST, BAD "malformed header line '%s' in part %zu",
                               bpm_quote_value(line, n, q, sizeof q), part);
        size_t kn = (size_t)(colon - line);
        while (kn > 0 && is_ws(line[kn - 1]))
            kn--;
        size_t v0 = (size_t)(colon - line) + 1, v1 = n;
        while (v0 < v1 && is_ws(line[v0]))
            v0++;
        while (v1 > v0 && is_ws(line[v1 - 1]))
            v1--;
        if (word_eq(line, kn, "content-disposition")) {
            if (has_disp)
                return bpm_err_set(err, BPM_BAD_REQUEST,
                                   BAD "part %zu has two Content-Disposition headers", part);
            has_disp = true;
            bpm_rc rc = parse_disposition(a, line + v0, v1 - v0, part, p, err);
            if (rc)
                return rc;
        } else if (word_eq(line, kn, "content-type") && !p->content_type) {
            p->content_type = bpm_arena_strndup(a, line + v0, v1 - v0);
        }
        i = end + 1;
    }
    if (!has_disp)
        return bpm_err_set(err, BPM_BAD_REQUEST, BAD "part %zu has no Content-Disposition header",
                           part);
    return BPM_OK;
}

bpm_rc bpm_multipart_parse(const char *body, size_t len, const char *boundary, size_t max_parts,
                           bpm_multipart *out, bpm_err *err)
{
    *out = (bpm_multipart){0};
    size_t blen = boundary ? strlen(boundary) : 0;
    if (blen == 0 || blen > BPM_MULTIPART_BOUNDARY_MAX)
        return bpm_err_set(err, BPM_BAD_REQUEST, BAD "the boundary must have 1 to %d characters",
                           BPM_MULTIPART_BOUNDARY_MAX);
    if (!body)
        len = 0;
    if (max_parts == 0)
        max_parts = BPM_MULTIPART_MAX_PARTS;
    scan sc = {body ? body : "", len, boundary, blen};
    char q[BPM_QUOTE_SIZE];
    size_t at, pos;
    bool close;
    if (!find_delim(&sc, 0, &at, &pos, &close))
        return bpm_err_set(err, BPM_BAD_REQUEST, BAD "no boundary line '--%s' found",
                           bpm_quote_str(boundary, q, sizeof q));

    bpm_arena *a = bpm_arena_new_sized(1024);
    bpm_multipart_part *parts = NULL;
    size_t n = 0, cap = 0;
    bpm_rc rc = BPM_OK;
    while (!close) {
        if (n == max_parts) {
            rc = bpm_err_set(err, BPM_LIMIT, "Too many parts in the multipart body (limit %zu)",
                             max_parts);
            goto done;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            parts = bpm_arena_grow(a, parts, cap, ncap, sizeof *parts);
            cap = ncap;
        }
        bpm_multipart_part *p = &parts[n++];
        if ((rc = parse_headers(&sc, a, &pos, n, p, err)))
            goto done;
        size_t d0 = pos;
        if (!find_delim(&sc, d0, &at, &pos, &close)) {
            rc = bpm_err_set(err, BPM_BAD_REQUEST, BAD "missing closing boundary '--%s--'",
                             bpm_quote_str(boundary, q, sizeof q));
            goto done;
        }
        /* The line break before a delimiter belongs to it (RFC 2046), so the
         * content ends before it; a delimiter right at d0 means no content. */
        size_t end = at;
        if (end > d0) {
            end--; /* the '\n': find_delim stops only at line starts */
            if (end > d0 && body[end - 1] == '\r')
                end--;
        }
        p->data = sc.b + d0;
        p->len = end - d0;
    }
done:
    if (rc) {
        bpm_arena_free(a);
        return rc;
    }
    out->parts = parts;
    out->n_parts = n;
    out->arena = a;
    return BPM_OK;
}

void bpm_multipart_cleanup(bpm_multipart *mp)
{
    if (mp && mp->arena)
        bpm_arena_free(mp->arena);
    if (mp)
        *mp = (bpm_multipart){0};
}
