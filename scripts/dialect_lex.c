/* The front end juel.c and feel.c share: one translation's state
 * (bpm_dialect_ctx) from begin to finish, errors with their position, the
 * tokenizer steps both grammars use (names, string literals, punctuation),
 * the token cursor and the nesting depth. The grammars stay in their files;
 * shared messages name the dialect ("invalid FEEL: ..."). */
#include "dialect.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bpm_rc bpm_dialect_begin(bpm_dialect_ctx *c, const char *lang, const char *text, bpm_err *err)
{
    size_t len = strlen(text);
    if (len > BPM_DIALECT_MAX_TEXT)
        return bpm_err_set(err, BPM_INVALID, "%s expression too long (%zu bytes, limit %d)", lang,
                           len, BPM_DIALECT_MAX_TEXT);
    *c = (bpm_dialect_ctx){.lang = lang, .text = text, .text_len = len, .err = err};
    c->tmp = bpm_arena_new();
    bpm_dialect_buf_init(&c->out, c->tmp);
    return BPM_OK;
}

bpm_rc bpm_dialect_finish(bpm_dialect_ctx *c, bool ok, bpm_arena *a, const char **lua_out)
{
    if (ok && !c->failed && c->over_budget)
        bpm_dialect_fail(c, c->budget_pos,
                         "invalid %s: expression too complex to compile (nested too deeply)",
                         c->lang);
    ok = ok && !c->failed;
    if (ok)
        *lua_out = bpm_arena_strndup(a, c->out.ptr, c->out.len);
    bpm_arena_free(c->tmp);
    c->tmp = NULL;
    return ok ? BPM_OK : BPM_INVALID;
}

/* ---- errors and depth ------------------------------------------------------ */

void *bpm_dialect_fail(bpm_dialect_ctx *c, size_t pos, const char *fmt, ...)
{
    if (c->failed)
        return NULL;
    char what[200], where[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    bpm_dialect_where(c->text, pos, where, sizeof where);
    bpm_err_set(c->err, BPM_INVALID, "%s at %s", what, where);
    c->failed = true;
    return NULL;
}

void *bpm_dialect_too_deep(bpm_dialect_ctx *c, size_t pos)
{
    return bpm_dialect_fail(c, pos,
                            "invalid %s: expression nested too deeply (more than %d levels)",
                            c->lang, BPM_DIALECT_MAX_DEPTH);
}

bool bpm_dialect_enter(bpm_dialect_ctx *c)
{
    if (++c->rec <= BPM_DIALECT_MAX_DEPTH)
        return true;
    bpm_dialect_too_deep(c, bpm_dialect_cur(c)->pos);
    return false;
}

/* ---- tokenizer steps ---------------------------------------------------------- */

bool bpm_dialect_is_digit(unsigned char ch)
{
    return ch >= '0' && ch <= '9';
}

bool bpm_dialect_is_name_start(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '$' ||
           ch >= 0x80;
}

bool bpm_dialect_is_name_char(unsigned char ch)
{
    return bpm_dialect_is_name_start(ch) || bpm_dialect_is_digit(ch);
}

void bpm_dialect_push(bpm_dialect_ctx *c, bpm_dialect_tok t)
{
    if (c->n_toks == c->cap_toks) {
        size_t cap = c->cap_toks ? c->cap_toks * 2 : 32;
        c->toks = bpm_arena_grow(c->tmp, c->toks, c->n_toks, cap, sizeof(bpm_dialect_tok));
        c->cap_toks = cap;
    }
    c->toks[c->n_toks++] = t;
}

void bpm_dialect_lex_name(bpm_dialect_ctx *c, size_t *i)
{
    const char *s = c->text;
    size_t start = *i, end = start;
    while (bpm_dialect_is_name_char((unsigned char)s[end]))
        end++;
    bpm_dialect_push(c, (bpm_dialect_tok){.kind = BPM_DIALECT_TK_NAME,
                                          .pos = start,
                                          .len = end - start,
                                          .str = s + start,
                                          .slen = end - start});
    *i = end;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static bool hex4(const char *s, unsigned long *out)
{
    unsigned long v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = s[i];
        int d = (ch >= '0' && ch <= '9')   ? ch - '0'
                : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                           : -1;
        if (d < 0)
            return false;
        v = v * 16 + (unsigned long)d;
    }
    *out = v;
    return true;
}

bool bpm_dialect_lex_string(bpm_dialect_ctx *c, size_t *i, const char *escapes, const char *decoded,
                            bool unicode)
{
    const char *s = c->text;
    size_t start = *i, end = start + 1; /* end: the closing quote */
    while (s[end] != s[start]) {
        if (s[end] == '\0') {
            bpm_dialect_fail(c, start, "invalid %s: unterminated string", c->lang);
            return false;
        }
        end += s[end] == '\\' && s[end + 1] ? 2 : 1;
    }
    /* \uXXXX (6 bytes) never yields more than 4; nothing else grows */
    char *buf = bpm_arena_alloc(c->tmp, end - start);
    size_t n = 0, j = start + 1;
    while (j < end) {
        char ch = s[j];
        if (ch != '\\') {
            buf[n++] = ch;
            j++;
            continue;
        }
        char e = s[j + 1];
        const char *esc = e ? strchr(escapes, e) : NULL;
        if (esc) {
            buf[n++] = decoded[esc - escapes];
            j += 2;
            continue;
        }
        unsigned long cp, lo;
        if (unicode && e == 'u' && j + 6 <= end && hex4(s + j + 2, &cp)) {
            j += 6;
            if (cp >= 0xd800 && cp < 0xdc00 && j + 6 <= end && s[j] == '\\' && s[j + 1] == 'u' &&
                hex4(s + j + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                j += 6;
            } else if (cp >= 0xd800 && cp < 0xe000) {
                cp = 0xfffd; /* a lone surrogate has no UTF-8 form */
            }
            n += put_utf8(buf + n, cp);
            continue;
        }
        buf[n++] = ch;
        j++;
    }
    bpm_dialect_push(c, (bpm_dialect_tok){.kind = BPM_DIALECT_TK_STR,
                                          .pos = start,
                                          .len = end + 1 - start,
                                          .str = buf,
                                          .slen = n});
    *i = end + 1;
    return true;
}

bool bpm_dialect_lex_op(bpm_dialect_ctx *c, size_t *i, const char *const *ops2, size_t n_ops2,
                        const char *ops1)
{
    const char *s = c->text;
    size_t j = *i, len = 1;
    unsigned char ch = (unsigned char)s[j];
    for (size_t k = 0; k < n_ops2; k++)
        if (s[j] == ops2[k][0] && s[j + 1] == ops2[k][1])
            len = 2;
    if (len == 1 && !strchr(ops1, ch)) {
        bpm_dialect_fail(c, j, "invalid %s: unexpected character \"%.1s\"", c->lang,
                         ch >= 0x20 && ch < 0x7f ? s + j : "?");
        return false;
    }
    bpm_dialect_push(
        c, (bpm_dialect_tok){
               .kind = BPM_DIALECT_TK_OP, .pos = j, .len = len, .str = s + j, .slen = len});
    *i = j + len;
    return true;
}

/* ---- the token cursor ------------------------------------------------------------ */

bpm_dialect_tok *bpm_dialect_cur(bpm_dialect_ctx *c)
{
    return &c->toks[c->k];
}

bpm_dialect_tok *bpm_dialect_peek(bpm_dialect_ctx *c, size_t ahead)
{
    size_t k = c->k + ahead;
    return &c->toks[k < c->n_toks ? k : c->n_toks - 1];
}

bool bpm_dialect_tok_is(const bpm_dialect_tok *t, bpm_dialect_tk kind, const char *text)
{
    size_t n = strlen(text);
    return t->kind == kind && !t->quoted && t->slen == n && memcmp(t->str, text, n) == 0;
}

bool bpm_dialect_tok_in(const bpm_dialect_tok *t, bpm_dialect_tk kind, const char *const *words,
                        size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bpm_dialect_tok_is(t, kind, words[i]))
            return true;
    return false;
}

bool bpm_dialect_is_op(bpm_dialect_ctx *c, const char *op)
{
    return bpm_dialect_tok_is(bpm_dialect_cur(c), BPM_DIALECT_TK_OP, op);
}

bool bpm_dialect_is_kw(bpm_dialect_ctx *c, const char *kw)
{
    return bpm_dialect_tok_is(bpm_dialect_cur(c), BPM_DIALECT_TK_NAME, kw);
}

bool bpm_dialect_literal(const bpm_dialect_tok *t, bpm_dialect_lit *out)
{
    static const struct {
        bpm_dialect_tk kind;
        const char *text; /* NULL: any */
        bpm_dialect_lit lit;
    } lits[] = {
        {BPM_DIALECT_TK_INT, NULL, BPM_DIALECT_LIT_INT},
        {BPM_DIALECT_TK_FLOAT, NULL, BPM_DIALECT_LIT_FLOAT},
        {BPM_DIALECT_TK_STR, NULL, BPM_DIALECT_LIT_STR},
        {BPM_DIALECT_TK_NAME, "true", BPM_DIALECT_LIT_TRUE},
        {BPM_DIALECT_TK_NAME, "false", BPM_DIALECT_LIT_FALSE},
        {BPM_DIALECT_TK_NAME, "null", BPM_DIALECT_LIT_NULL},
    };
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        if (lits[i].text ? bpm_dialect_tok_is(t, lits[i].kind, lits[i].text)
                         : t->kind == lits[i].kind) {
            *out = lits[i].lit;
            return true;
        }
    }
    return false;
}

/* The token as an error message quotes it. */
static void describe(const bpm_dialect_ctx *c, const bpm_dialect_tok *t, char *out, size_t cap)
{
    if (t->kind == BPM_DIALECT_TK_END) {
        snprintf(out, cap, "\"}\"");
    } else if (t->kind == BPM_DIALECT_TK_EOF) {
        snprintf(out, cap, "end of expression");
    } else if (t->kind == BPM_DIALECT_TK_STR) {
        snprintf(out, cap, "a string");
    } else {
        char ex[48];
        bpm_dialect_excerpt(c->text + t->pos, t->len, ex, sizeof ex);
        snprintf(out, cap, "\"%s\"", ex);
    }
}

void *bpm_dialect_unexpected(bpm_dialect_ctx *c)
{
    bpm_dialect_tok *t = bpm_dialect_cur(c);
    char d[64];
    describe(c, t, d, sizeof d);
    return bpm_dialect_fail(c, t->pos, "invalid %s: unexpected %s", c->lang, d);
}

void *bpm_dialect_expected(bpm_dialect_ctx *c, const char *what)
{
    bpm_dialect_tok *t = bpm_dialect_cur(c);
    char d[64];
    describe(c, t, d, sizeof d);
    return bpm_dialect_fail(c, t->pos, "invalid %s: expected %s but found %s", c->lang, what, d);
}

bool bpm_dialect_expect(bpm_dialect_ctx *c, bpm_dialect_tk kind, const char *text)
{
    if (bpm_dialect_tok_is(bpm_dialect_cur(c), kind, text)) {
        c->k++;
        return true;
    }
    char what[64];
    snprintf(what, sizeof what, "\"%s\"", text);
    bpm_dialect_expected(c, what);
    return false;
}
