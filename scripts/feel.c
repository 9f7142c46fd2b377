/* Camunda 8 FEEL to Lua: tokenizer (multi-word built-in names included), parser
 * to a small AST, and an emitter resolving names through FEEL's scopes. */
#include "dialect.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- built-in functions ------------------------------------------------------ */

#define VARARGS 32 /* most arguments a variadic built-in takes */

typedef struct builtin {
    const char *name;   /* FEEL spelling; words separated by one space */
    int min, max;       /* arity */
    const char *helper; /* __dx function; NULL = known but not supported */
    bool temporal;      /* may produce a date or duration */
    bool clock;         /* reads execution.now */
} builtin;

static const builtin BUILTINS[] = {
    /* multi-word names first, longest first where one prefixes another */
    {"round half down", 1, 2, "fn_round_half_down", false, false},
    {"round half up", 1, 2, "fn_round_half_up", false, false},
    {"date and time", 1, 1, "fn_date_and_time", true, false},
    {"substring before", 2, 2, "fn_substring_before", false, false},
    {"substring after", 2, 2, "fn_substring_after", false, false},
    {"distinct values", 1, 1, "fn_distinct_values", false, false},
    {"string length", 1, 1, "fn_string_length", false, false},
    {"list contains", 2, 2, "fn_list_contains", false, false},
    {"string join", 1, 4, "fn_string_join", false, false},
    {"starts with", 2, 2, "fn_starts_with", false, false},
    {"upper case", 1, 1, "fn_upper_case", false, false},
    {"lower case", 1, 1, "fn_lower_case", false, false},
    {"round down", 1, 2, "fn_round_down", false, false},
    {"is defined", 1, 1, "fn_is_defined", false, false},
    {"ends with", 2, 2, "fn_ends_with", false, false},
    {"round up", 1, 2, "fn_round_up", false, false},
    {"index of", 2, 2, "fn_index_of", false, false},
    {"get value", 2, 2, "fn_get_value", false, false},
    {"is empty", 1, 1, "fn_is_empty", false, false},
    /* known FEEL functions outside the subset, named so the error is clear */
    {"years and months duration", 0, 0, NULL, false, false},
    {"last day of month", 0, 0, NULL, false, false},
    {"day of week", 0, 0, NULL, false, false},
    {"day of year", 0, 0, NULL, false, false},
    {"week of year", 0, 0, NULL, false, false},
    {"month of year", 0, 0, NULL, false, false},
    {"get entries", 0, 0, NULL, false, false},
    {"context put", 0, 0, NULL, false, false},
    {"context merge", 0, 0, NULL, false, false},
    {"insert before", 0, 0, NULL, false, false},
    {"list replace", 0, 0, NULL, false, false},
    {"string format", 0, 0, NULL, false, false},
    /* one word */
    {"not", 1, 1, "fnot", false, false},
    {"substring", 2, 3, "fn_substring", false, false},
    {"contains", 2, 2, "fn_contains", false, false},
    {"string", 1, 1, "fn_string", false, false},
    {"number", 1, 3, "fn_number", false, false},
    {"count", 1, 1, "fn_count", false, false},
    {"sum", 1, VARARGS, "fn_sum", false, false},
    {"product", 1, VARARGS, "fn_product", false, false},
    {"min", 1, VARARGS, "fn_min", false, false},
    {"max", 1, VARARGS, "fn_max", false, false},
    {"mean", 1, VARARGS, "fn_mean", false, false},
    {"all", 1, VARARGS, "fn_all", false, false},
    {"any", 1, VARARGS, "fn_any", false, false},
    {"append", 1, VARARGS, "fn_append", false, false},
    {"concatenate", 1, VARARGS, "fn_concatenate", false, false},
    {"sublist", 2, 3, "fn_sublist", false, false},
    {"reverse", 1, 1, "fn_reverse", false, false},
    {"flatten", 1, 1, "fn_flatten", false, false},
    {"abs", 1, 1, "fn_abs", false, false},
    {"sqrt", 1, 1, "fn_sqrt", false, false},
    {"odd", 1, 1, "fn_odd", false, false},
    {"even", 1, 1, "fn_even", false, false},
    {"modulo", 2, 2, "fn_modulo", false, false},
    {"floor", 1, 2, "fn_floor", false, false},
    {"ceiling", 1, 2, "fn_ceiling", false, false},
    {"decimal", 2, 2, "fn_decimal", false, false},
    {"now", 0, 0, "fn_now", true, true},
    {"today", 0, 0, "fn_today", true, true},
    {"date", 1, 3, "fn_date", true, false},
    {"duration", 1, 1, "fn_duration", true, false},
    {"matches", 0, 0, NULL, false, false},
    {"replace", 0, 0, NULL, false, false},
    {"split", 0, 0, NULL, false, false},
    {"extract", 0, 0, NULL, false, false},
    {"time", 0, 0, NULL, false, false},
    {"sort", 0, 0, NULL, false, false},
    {"median", 0, 0, NULL, false, false},
    {"stddev", 0, 0, NULL, false, false},
    {"mode", 0, 0, NULL, false, false},
    {"union", 0, 0, NULL, false, false},
    {"remove", 0, 0, NULL, false, false},
    {"context", 0, 0, NULL, false, false},
    {"exp", 0, 0, NULL, false, false},
    {"log", 0, 0, NULL, false, false},
    {"uuid", 0, 0, NULL, false, false},
    {"trim", 0, 0, NULL, false, false},
    {"environment", 0, 0, NULL, false, false},
};
#define N_BUILTINS (sizeof BUILTINS / sizeof BUILTINS[0])

/* ---- tokens --------------------------------------------------------------- */

typedef enum tok_kind {
    TK_EOF,
    TK_NAME, /* identifier, keyword or `quoted name`; str/slen hold the name */
    TK_FUNC, /* a multi-word built-in name followed by "(" */
    TK_INT,
    TK_FLOAT,
    TK_STR, /* decoded into str/slen */
    TK_OP,
} tok_kind;

typedef struct token {
    tok_kind kind;
    size_t pos, len;
    const char *str;
    size_t slen;
    bool quoted;         /* a `backtick` name: never a keyword */
    const builtin *func; /* TK_FUNC */
} token;

/* ---- syntax tree ------------------------------------------------------------ */

typedef enum node_kind {
    N_INT,
    N_FLOAT,
    N_STR,
    N_TRUE,
    N_FALSE,
    N_NULL,
    N_TEMPORAL, /* @"..." ; str */
    N_NAME,     /* str */
    N_PATH,     /* kids[0].str */
    N_FILTER,   /* kids[0][kids[1]] */
    N_CALL,     /* func(kids) */
    N_LIST,
    N_CONTEXT, /* keys[i]: kids[i] */
    N_RANGE,   /* kids[0]..kids[1]; lo_closed, hi_closed */
    N_BIN,     /* helper(kids[0], kids[1]) */
    N_AND,
    N_OR,
    N_NEG,
    N_IF,  /* if kids[0] then kids[1] else kids[2] */
    N_FOR, /* names[i] in kids[i], ..., return kids[n] */
    N_SOME,
    N_EVERY,
    N_IN,      /* kids[0] in (kids[1], ...) */
    N_TEST,    /* unary comparison test: helper, kids[0] */
    N_BETWEEN, /* kids[0] between kids[1] and kids[2] */
} node_kind;

typedef struct name {
    const char *str;
    size_t len;
} name;

typedef struct node {
    node_kind kind;
    size_t pos;
    int depth;
    bool has_names; /* a N_NAME somewhere below (context self-references) */
    bool temporal;  /* a date/time constructor somewhere below */
    const char *str;
    size_t slen;
    const char *helper;
    const builtin *func;
    bool lo_closed, hi_closed;
    name *names; /* N_CONTEXT keys, N_FOR/SOME/EVERY variables */
    struct node **kids;
    size_t n_kids;
} node;

typedef enum scope_kind { SC_LOCAL, SC_FILTER, SC_CONTEXT } scope_kind;

typedef struct scope {
    scope_kind kind;
    int local;        /* Lua local l<local> */
    name var;         /* SC_LOCAL */
    const node *ctx;  /* SC_CONTEXT */
    size_t n_visible; /* SC_CONTEXT: keys defined so far */
} scope;

typedef struct parser {
    const char *text;
    size_t text_len;
    bpm_arena *tmp;
    bpm_err *err;
    bool failed;
    token *toks;
    size_t n_toks, cap_toks, k;
    int rec;
    bpm_dialect_buf out;
    scope scopes[BPM_DIALECT_MAX_DEPTH + 1];
    size_t n_scopes;
    int n_locals;
    bool over_budget;
    size_t budget_pos;
} parser;

__attribute__((format(printf, 3, 4))) static node *fail(parser *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return NULL;
    char what[200], where[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    bpm_dialect_where(p->text, pos, where, sizeof where);
    bpm_err_set(p->err, BPM_INVALID, "%s at %s", what, where);
    p->failed = true;
    return NULL;
}

/* ---- tokenizer -------------------------------------------------------------- */

static bool is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}
static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}
static bool is_name_char(unsigned char c)
{
    return is_name_start(c) || is_digit(c);
}
static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void push_tok(parser *p, token t)
{
    if (p->n_toks == p->cap_toks) {
        size_t cap = p->cap_toks ? p->cap_toks * 2 : 32;
        p->toks = bpm_arena_grow(p->tmp, p->toks, p->n_toks, cap, sizeof(token));
        p->cap_toks = cap;
    }
    p->toks[p->n_toks++] = t;
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
        char c = s[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            return false;
        v = v * 16 + (unsigned long)d;
    }
    *out = v;
    return true;
}

/* "..." with \" \\ \n \r \t \' \/ and \uXXXX (surrogate pairs joined);
 * any other backslash stays as written, as regex text often has them. */
static bool lex_string(parser *p, size_t *i)
{
    const char *s = p->text;
    size_t start = *i, end = start + 1;
    while (s[end] != '"') {
        if (s[end] == '\0') {
            fail(p, start, "invalid FEEL: unterminated string");
            return false;
        }
        end += s[end] == '\\' && s[end + 1] ? 2 : 1;
    }
    /* \uXXXX (6 bytes) never yields more than 4; nothing else grows */
    char *buf = bpm_arena_alloc(p->tmp, end - start);
    size_t n = 0, j = start + 1;
    while (j < end) {
        char c = s[j];
        if (c != '\\') {
            buf[n++] = c;
            j++;
            continue;
        }
        char e = s[j + 1];
        const char *simple = strchr("\"\\nrt'/", e);
        if (e && simple) {
            static const char map[] = "\"\\\n\r\t'/";
            buf[n++] = map[simple - "\"\\nrt'/"];
            j += 2;
            continue;
        }
        unsigned long cp, lo;
        if (e == 'u' && j + 6 <= end && hex4(s + j + 2, &cp)) {
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
        buf[n++] = c;
        j++;
    }
    push_tok(p,
             (token){.kind = TK_STR, .pos = start, .len = end + 1 - start, .str = buf, .slen = n});
    *i = end + 1;
    return true;
}

/* A multi-word built-in spelled at s (words separated by any blanks) and
 * followed by "(": returns it and sets *end past the last word. */
static const builtin *match_multiword(const char *s, size_t *end)
{
    for (size_t b = 0; b < N_BUILTINS; b++) {
        const char *w = BUILTINS[b].name;
        if (!strchr(w, ' '))
            continue;
        size_t j = 0;
        bool ok = true;
        while (*w && ok) {
            if (*w == ' ') {
                if (!is_space((unsigned char)s[j])) {
                    ok = false;
                    break;
                }
                while (is_space((unsigned char)s[j]))
                    j++;
                w++;
            } else if (s[j] == *w) {
                j++;
                w++;
            } else {
                ok = false;
            }
        }
        if (!ok || is_name_char((unsigned char)s[j]))
            continue;
        size_t k = j;
        while (is_space((unsigned char)s[k]))
            k++;
        if (s[k] != '(')
            continue;
        *end = j;
        return &BUILTINS[b];
    }
    return NULL;
}

static bool lex(parser *p)
{
    static const char *const ops2[] = {"!=", "<=", ">=", "**", ".."};
    const char *s = p->text;
    size_t j = 0;
    for (;;) {
        unsigned char c = (unsigned char)s[j];
        if (is_space(c)) {
            j++;
            continue;
        }
        if (c == '/' && s[j + 1] == '/') {
            while (s[j] && s[j] != '\n')
                j++;
            continue;
        }
        if (c == '/' && s[j + 1] == '*') {
            const char *e = strstr(s + j + 2, "*/");
            if (!e) {
                fail(p, j, "invalid FEEL: unterminated comment");
                return false;
            }
            j = (size_t)(e - s) + 2;
            continue;
        }
        if (c == '\0') {
            push_tok(p, (token){.kind = TK_EOF, .pos = j});
            return true;
        }
        if (c == '"') {
            if (!lex_string(p, &j))
                return false;
            continue;
        }
        if (is_digit(c) || (c == '.' && is_digit((unsigned char)s[j + 1]))) {
            size_t e = j;
            bool is_float = false;
            while (is_digit((unsigned char)s[e]))
                e++;
            if (s[e] == '.' && is_digit((unsigned char)s[e + 1])) {
                is_float = true;
                e++;
                while (is_digit((unsigned char)s[e]))
                    e++;
            }
            if (is_name_char((unsigned char)s[e])) {
                fail(p, j, "invalid FEEL: malformed number");
                return false;
            }
            push_tok(p, (token){.kind = is_float ? TK_FLOAT : TK_INT, .pos = j, .len = e - j});
            j = e;
            continue;
        }
        if (c == '`') {
            const char *e = strchr(s + j + 1, '`');
            if (!e || e == s + j + 1) {
                fail(p, j, "invalid FEEL: unterminated `name`");
                return false;
            }
            size_t n = (size_t)(e - s) - j - 1;
            push_tok(p, (token){.kind = TK_NAME,
                                .pos = j,
                                .len = n + 2,
                                .str = s + j + 1,
                                .slen = n,
                                .quoted = true});
            j += n + 2;
            continue;
        }
        if (is_name_start(c)) {
            size_t e;
            const builtin *f = match_multiword(s + j, &e);
            if (f) {
                push_tok(p, (token){.kind = TK_FUNC,
                                    .pos = j,
                                    .len = e,
                                    .str = f->name,
                                    .slen = strlen(f->name),
                                    .func = f});
                j += e;
                continue;
            }
            e = j;
            while (is_name_char((unsigned char)s[e]))
                e++;
            push_tok(p,
                     (token){.kind = TK_NAME, .pos = j, .len = e - j, .str = s + j, .slen = e - j});
            j = e;
            continue;
        }
        size_t len = 1;
        for (size_t k = 0; k < sizeof ops2 / sizeof ops2[0]; k++)
            if (s[j] == ops2[k][0] && s[j + 1] == ops2[k][1])
                len = 2;
        if (len == 1 && !strchr("=<>+-*/.,()[]{}:@?", c)) {
            fail(p, j, "invalid FEEL: unexpected character \"%.1s\"",
                 c >= 0x20 && c < 0x7f ? s + j : "?");
            return false;
        }
        push_tok(p, (token){.kind = TK_OP, .pos = j, .len = len});
        j += len;
    }
}

/* ---- parser ----------------------------------------------------------------- */

static token *cur(parser *p)
{
    return &p->toks[p->k];
}
static token *peek(parser *p, size_t ahead)
{
    size_t k = p->k + ahead;
    return &p->toks[k < p->n_toks ? k : p->n_toks - 1];
}

static bool tok_is(const parser *p, const token *t, tok_kind kind, const char *text)
{
    size_t n = strlen(text);
    if (t->kind != kind)
        return false;
    if (kind == TK_NAME)
        return !t->quoted && t->slen == n && memcmp(t->str, text, n) == 0;
    return t->len == n && memcmp(p->text + t->pos, text, n) == 0;
}
static bool is_op(parser *p, const char *op)
{
    return tok_is(p, cur(p), TK_OP, op);
}
static bool is_kw(parser *p, const char *kw)
{
    return tok_is(p, cur(p), TK_NAME, kw);
}

static bool is_keyword(const parser *p, const token *t)
{
    static const char *const words[] = {
        "true", "false", "null",   "and",  "or",    "in",        "between",  "if",       "then",
        "else", "for",   "return", "some", "every", "satisfies", "instance", "function", "not",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (tok_is(p, t, TK_NAME, words[i]))
            return true;
    return false;
}

static void describe(const parser *p, const token *t, char *out, size_t cap)
{
    if (t->kind == TK_EOF) {
        snprintf(out, cap, "end of expression");
    } else if (t->kind == TK_STR) {
        snprintf(out, cap, "a string");
    } else {
        char ex[48];
        bpm_dialect_excerpt(p->text + t->pos, t->len, ex, sizeof ex);
        snprintf(out, cap, "\"%s\"", ex);
    }
}

static node *unexpected(parser *p)
{
    token *t = cur(p);
    if (tok_is(p, t, TK_OP, "?"))
        return fail(p, t->pos, "unsupported FEEL: \"?\" (the input value of unary tests)");
    if (tok_is(p, t, TK_NAME, "instance"))
        return fail(p, t->pos, "unsupported FEEL: \"instance of\"");
    if (tok_is(p, t, TK_NAME, "function"))
        return fail(p, t->pos, "unsupported FEEL: function definitions");
    char d[64];
    describe(p, t, d, sizeof d);
    return fail(p, t->pos, "invalid FEEL: unexpected %s", d);
}

static bool expect(parser *p, tok_kind kind, const char *text)
{
    if (tok_is(p, cur(p), kind, text)) {
        p->k++;
        return true;
    }
    char d[64];
    describe(p, cur(p), d, sizeof d);
    fail(p, cur(p)->pos, "invalid FEEL: expected \"%s\" but found %s", text, d);
    return false;
}

static bool enter(parser *p)
{
    if (++p->rec <= BPM_DIALECT_MAX_DEPTH)
        return true;
    fail(p, cur(p)->pos, "invalid FEEL: expression nested too deeply (more than %d levels)",
         BPM_DIALECT_MAX_DEPTH);
    return false;
}

static node *mk(parser *p, node_kind kind, size_t pos)
{
    node *n = bpm_arena_alloc(p->tmp, sizeof *n);
    n->kind = kind;
    n->pos = pos;
    n->depth = 1;
    return n;
}

/* Growable node list while parsing. */
typedef struct nodes {
    node **v;
    size_t n, cap;
} nodes;

static void nodes_add(parser *p, nodes *l, node *x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        l->v = bpm_arena_grow(p->tmp, l->v, l->n, cap, sizeof(node *));
        l->cap = cap;
    }
    l->v[l->n++] = x;
}

/* Fixes the node's kids and derived facts; depth counts every tree level,
 * so operand chains are bounded too. */
static node *seal(parser *p, node *n, node **kids, size_t n_kids)
{
    n->kids = kids;
    n->n_kids = n_kids;
    if (n->kind == N_NAME)
        n->has_names = true;
    for (size_t i = 0; i < n_kids; i++) {
        node *k = kids[i];
        if (k->depth + 1 > n->depth)
            n->depth = k->depth + 1;
        n->has_names |= k->has_names;
        n->temporal |= k->temporal;
    }
    if (n->depth > BPM_DIALECT_MAX_DEPTH)
        return fail(p, n->pos, "invalid FEEL: expression nested too deeply (more than %d levels)",
                    BPM_DIALECT_MAX_DEPTH);
    return n;
}

static node *seal1(parser *p, node *n, node *a)
{
    node **kids = bpm_arena_alloc(p->tmp, sizeof(node *));
    kids[0] = a;
    return seal(p, n, kids, 1);
}

static node *seal2(parser *p, node *n, node *a, node *b)
{
    node **kids = bpm_arena_alloc(p->tmp, 2 * sizeof(node *));
    kids[0] = a;
    kids[1] = b;
    return seal(p, n, kids, 2);
}

static node *parse_expr(parser *p);
static node *parse_or(parser *p);
static node *parse_add(parser *p);

/* Finishes a range after its low end: ".." high, then "]" or ")" / "[". */
static node *finish_range(parser *p, size_t pos, node *lo, bool lo_closed)
{
    if (!expect(p, TK_OP, ".."))
        return NULL;
    node *hi = parse_add(p);
    if (!hi)
        return NULL;
    node *r = mk(p, N_RANGE, pos);
    r->lo_closed = lo_closed;
    if (is_op(p, "]")) {
        r->hi_closed = true;
    } else if (is_op(p, ")") || is_op(p, "[")) {
        r->hi_closed = false;
    } else {
        char d[64];
        describe(p, cur(p), d, sizeof d);
        return fail(p, cur(p)->pos,
                    "invalid FEEL: expected \"]\" or \")\" to end the range but found %s", d);
    }
    p->k++;
    return seal2(p, r, lo, hi);
}

static node *parse_call(parser *p, const builtin *f, size_t pos)
{
    if (!f->helper)
        return fail(p, pos, "unsupported FEEL: function \"%s\" is not in the supported subset",
                    f->name);
    p->k++; /* the name; "(" follows */
    if (!expect(p, TK_OP, "("))
        return NULL;
    nodes args = {0};
    if (!is_op(p, ")")) {
        for (;;) {
            if (cur(p)->kind == TK_NAME && tok_is(p, peek(p, 1), TK_OP, ":"))
                return fail(p, cur(p)->pos, "unsupported FEEL: named arguments");
            node *a = parse_expr(p);
            if (!a)
                return NULL;
            nodes_add(p, &args, a);
            if (args.n > VARARGS)
                return fail(p, a->pos, "unsupported FEEL: more than %d arguments", VARARGS);
            if (!is_op(p, ","))
                break;
            p->k++;
        }
    }
    if (!expect(p, TK_OP, ")"))
        return NULL;
    if ((int)args.n < f->min || (int)args.n > f->max) {
        if (f->min == f->max)
            return fail(p, pos, "invalid FEEL: function \"%s\" takes %d argument%s, not %zu",
                        f->name, f->min, f->min == 1 ? "" : "s", args.n);
        return fail(p, pos, "invalid FEEL: function \"%s\" takes %d to %d arguments, not %zu",
                    f->name, f->min, f->max, args.n);
    }
    node *n = mk(p, N_CALL, pos);
    n->func = f;
    n->helper = f->helper;
    n->temporal = f->temporal;
    return seal(p, n, args.v, args.n);
}

static const builtin *find_builtin(const char *s, size_t n)
{
    for (size_t b = 0; b < N_BUILTINS; b++)
        if (strlen(BUILTINS[b].name) == n && memcmp(BUILTINS[b].name, s, n) == 0)
            return &BUILTINS[b];
    return NULL;
}

static node *parse_list_or_range(parser *p, size_t pos)
{
    p->k++; /* [ */
    nodes items = {0};
    if (is_op(p, "]")) {
        p->k++;
        return seal(p, mk(p, N_LIST, pos), NULL, 0);
    }
    for (;;) {
        node *e = parse_expr(p);
        if (!e)
            return NULL;
        if (items.n == 0 && is_op(p, ".."))
            return finish_range(p, pos, e, true);
        nodes_add(p, &items, e);
        if (!is_op(p, ","))
            break;
        p->k++;
    }
    if (!expect(p, TK_OP, "]"))
        return NULL;
    return seal(p, mk(p, N_LIST, pos), items.v, items.n);
}

static node *parse_context(parser *p, size_t pos)
{
    p->k++; /* { */
    nodes vals = {0};
    name *keys = NULL;
    size_t cap = 0;
    if (!is_op(p, "}")) {
        for (;;) {
            token *t = cur(p);
            if (t->kind != TK_NAME && t->kind != TK_STR) {
                char d[64];
                describe(p, t, d, sizeof d);
                return fail(p, t->pos, "invalid FEEL: expected a context key but found %s", d);
            }
            p->k++;
            if (!expect(p, TK_OP, ":"))
                return NULL;
            node *v = parse_expr(p);
            if (!v)
                return NULL;
            if (vals.n == cap) {
                size_t c2 = cap ? cap * 2 : 4;
                keys = bpm_arena_grow(p->tmp, keys, vals.n, c2, sizeof(name));
                cap = c2;
            }
            keys[vals.n] = (name){t->str, t->slen};
            nodes_add(p, &vals, v);
            if (!is_op(p, ","))
                break;
            p->k++;
        }
    }
    if (!expect(p, TK_OP, "}"))
        return NULL;
    node *n = mk(p, N_CONTEXT, pos);
    n->names = keys;
    return seal(p, n, vals.v, vals.n);
}

static node *parse_textual(parser *p);

static node *parse_primary(parser *p)
{
    token *t = cur(p);
    size_t pos = t->pos;
    switch (t->kind) {
    case TK_INT:
    case TK_FLOAT: {
        node *n = mk(p, t->kind == TK_INT ? N_INT : N_FLOAT, pos);
        n->str = p->text + t->pos;
        n->slen = t->len;
        p->k++;
        return n;
    }
    case TK_STR: {
        node *n = mk(p, N_STR, pos);
        n->str = t->str;
        n->slen = t->slen;
        p->k++;
        return n;
    }
    case TK_FUNC:
        return parse_call(p, t->func, pos);
    case TK_OP:
        if (is_op(p, "(")) {
            p->k++;
            node *e = parse_expr(p);
            if (!e)
                return NULL;
            if (is_op(p, ".."))
                return finish_range(p, pos, e, false);
            if (!expect(p, TK_OP, ")"))
                return NULL;
            return e;
        }
        if (is_op(p, "["))
            return parse_list_or_range(p, pos);
        if (is_op(p, "]")) {
            p->k++;
            node *lo = parse_add(p);
            return lo ? finish_range(p, pos, lo, false) : NULL;
        }
        if (is_op(p, "{"))
            return parse_context(p, pos);
        if (is_op(p, "@")) {
            p->k++;
            if (cur(p)->kind != TK_STR)
                return fail(p, pos, "invalid FEEL: \"@\" must be followed by a string");
            node *n = mk(p, N_TEMPORAL, pos);
            n->str = cur(p)->str;
            n->slen = cur(p)->slen;
            n->temporal = true;
            p->k++;
            return n;
        }
        if (is_op(p, "<") || is_op(p, "<=") || is_op(p, ">") || is_op(p, ">="))
            return fail(p, pos, "unsupported FEEL: unary test outside \"in\"");
        return unexpected(p);
    case TK_NAME:
        break;
    default:
        return unexpected(p);
    }
    if (is_kw(p, "true") || is_kw(p, "false") || is_kw(p, "null")) {
        node_kind k = is_kw(p, "true") ? N_TRUE : is_kw(p, "false") ? N_FALSE : N_NULL;
        p->k++;
        return mk(p, k, pos);
    }
    if (is_kw(p, "if") || is_kw(p, "for") || is_kw(p, "some") || is_kw(p, "every"))
        return parse_textual(p);
    bool call = tok_is(p, peek(p, 1), TK_OP, "(");
    if (call && !t->quoted) {
        const builtin *f = find_builtin(t->str, t->slen);
        if (f)
            return parse_call(p, f, pos);
        if (tok_is(p, t, TK_NAME, "function"))
            return unexpected(p);
        char ex[48];
        bpm_dialect_excerpt(t->str, t->slen, ex, sizeof ex);
        return fail(p, pos, "unsupported FEEL: unknown function \"%s\"", ex);
    }
    if (tok_is(p, t, TK_NAME, "not"))
        return fail(p, pos, "invalid FEEL: \"not\" is a function: write not(x)");
    if (is_keyword(p, t))
        return unexpected(p);
    node *n = mk(p, N_NAME, pos);
    n->str = t->str;
    n->slen = t->slen;
    p->k++;
    return seal(p, n, NULL, 0);
}

static node *parse_postfix(parser *p)
{
    node *v = parse_primary(p);
    while (v) {
        if (is_op(p, ".")) {
            p->k++;
            token *t = cur(p);
            if (t->kind != TK_NAME) {
                char d[64];
                describe(p, t, d, sizeof d);
                return fail(p, t->pos, "invalid FEEL: expected a name after \".\" but found %s", d);
            }
            p->k++;
            node *n = mk(p, N_PATH, t->pos);
            n->str = t->str;
            n->slen = t->slen;
            v = seal1(p, n, v);
        } else if (is_op(p, "[")) {
            size_t pos = cur(p)->pos;
            p->k++;
            node *f = parse_expr(p);
            if (!f || !expect(p, TK_OP, "]"))
                return NULL;
            v = seal2(p, mk(p, N_FILTER, pos), v, f);
        } else if (is_op(p, "(")) {
            return fail(
                p, cur(p)->pos,
                "unsupported FEEL: calling a value (only built-in functions can be called)");
        } else {
            break;
        }
    }
    return v;
}

static node *parse_unary(parser *p)
{
    if (!is_op(p, "-"))
        return parse_postfix(p);
    size_t pos = cur(p)->pos;
    if (!enter(p))
        return NULL;
    p->k++;
    node *a = parse_unary(p);
    p->rec--;
    return a ? seal1(p, mk(p, N_NEG, pos), a) : NULL;
}

typedef struct binop {
    const char *op;
    const char *helper;
} binop;

static node *parse_binary(parser *p, const binop *ops, size_t n_ops, node *(*next)(parser *))
{
    node *l = next(p);
    while (l) {
        const binop *op = NULL;
        for (size_t i = 0; i < n_ops && !op; i++)
            if (is_op(p, ops[i].op))
                op = &ops[i];
        if (!op)
            break;
        size_t pos = cur(p)->pos;
        p->k++;
        node *r = next(p);
        if (!r)
            return NULL;
        node *n = mk(p, N_BIN, pos);
        n->helper = op->helper;
        l = seal2(p, n, l, r);
    }
    return l;
}

static node *parse_pow(parser *p)
{
    static const binop ops[] = {{"**", "fpow"}};
    return parse_binary(p, ops, 1, parse_unary);
}
static node *parse_mul(parser *p)
{
    static const binop ops[] = {{"*", "fmul"}, {"/", "fdiv"}};
    return parse_binary(p, ops, 2, parse_pow);
}
static node *parse_add(parser *p)
{
    static const binop ops[] = {{"+", "fadd"}, {"-", "fsub"}};
    return parse_binary(p, ops, 2, parse_mul);
}

static const binop CMP_OPS[] = {{"=", "feq"},  {"!=", "fne"}, {"<", "flt"},
                                {"<=", "fle"}, {">", "fgt"},  {">=", "fge"}};

/* One positive unary test after "in": "< e", a range, or an expression
 * (equal to it, or in it when it is a list). bare_range: a..b is a closed
 * range here (not right after "(", where "(a..b" opens an open range). */
static node *parse_test(parser *p, bool bare_range)
{
    size_t pos = cur(p)->pos;
    for (size_t i = 2; i < 6; i++) {
        if (is_op(p, CMP_OPS[i].op)) {
            p->k++;
            node *e = parse_add(p);
            if (!e)
                return NULL;
            node *n = mk(p, N_TEST, pos);
            n->helper = CMP_OPS[i].helper;
            return seal1(p, n, e);
        }
    }
    node *e = parse_add(p);
    if (e && bare_range && is_op(p, "..")) {
        p->k++;
        node *hi = parse_add(p);
        if (!hi)
            return NULL;
        node *r = mk(p, N_RANGE, pos);
        r->lo_closed = r->hi_closed = true;
        return seal2(p, r, e, hi);
    }
    return e;
}

/* After "in": a test, or "(" tests ")" where a single "(a..b)" is an open
 * range. */
static node *parse_in(parser *p, node *value, size_t pos)
{
    nodes tests = {0};
    nodes_add(p, &tests, value);
    if (is_op(p, "(")) {
        size_t open = cur(p)->pos;
        p->k++;
        for (;;) {
            node *t = parse_test(p, tests.n > 1);
            if (!t)
                return NULL;
            if (tests.n == 1 && t->kind != N_TEST && is_op(p, "..")) {
                t = finish_range(p, open, t, false);
                if (!t)
                    return NULL;
                nodes_add(p, &tests, t);
                break;
            }
            nodes_add(p, &tests, t);
            if (!is_op(p, ",")) {
                if (!expect(p, TK_OP, ")"))
                    return NULL;
                break;
            }
            p->k++;
        }
    } else {
        node *t = parse_test(p, true);
        if (!t)
            return NULL;
        nodes_add(p, &tests, t);
    }
    return seal(p, mk(p, N_IN, pos), tests.v, tests.n);
}

static node *parse_cmp(parser *p)
{
    node *l = parse_add(p);
    while (l) {
        size_t pos = cur(p)->pos;
        const binop *op = NULL;
        for (size_t i = 0; i < 6 && !op; i++)
            if (is_op(p, CMP_OPS[i].op))
                op = &CMP_OPS[i];
        if (op) {
            p->k++;
            node *r = parse_add(p);
            if (!r)
                return NULL;
            node *n = mk(p, N_BIN, pos);
            n->helper = op->helper;
            l = seal2(p, n, l, r);
        } else if (is_kw(p, "between")) {
            p->k++;
            node *lo = parse_add(p);
            if (!lo || !expect(p, TK_NAME, "and"))
                return NULL;
            node *hi = parse_add(p);
            if (!hi)
                return NULL;
            node **kids = bpm_arena_calloc(p->tmp, 3, sizeof(node *));
            kids[0] = l;
            kids[1] = lo;
            kids[2] = hi;
            l = seal(p, mk(p, N_BETWEEN, pos), kids, 3);
        } else if (is_kw(p, "in")) {
            p->k++;
            l = parse_in(p, l, pos);
        } else if (is_kw(p, "instance")) {
            return unexpected(p);
        } else {
            break;
        }
    }
    return l;
}

/* n-ary and / or, so long chains stay flat */
static node *parse_logic(parser *p, const char *word, node_kind kind, node *(*next)(parser *))
{
    node *first = next(p);
    if (!first || !is_kw(p, word))
        return first;
    nodes v = {0};
    nodes_add(p, &v, first);
    while (is_kw(p, word)) {
        p->k++;
        node *x = next(p);
        if (!x)
            return NULL;
        nodes_add(p, &v, x);
    }
    return seal(p, mk(p, kind, first->pos), v.v, v.n);
}

static node *parse_and(parser *p)
{
    return parse_logic(p, "and", N_AND, parse_cmp);
}
static node *parse_or(parser *p)
{
    return parse_logic(p, "or", N_OR, parse_and);
}

/* for / some / every: name in domain {, name in domain} */
static node *parse_iteration(parser *p, node_kind kind, const char *body_kw)
{
    size_t pos = cur(p)->pos;
    p->k++;
    nodes doms = {0};
    name *names = NULL;
    size_t cap = 0;
    for (;;) {
        token *t = cur(p);
        if (t->kind != TK_NAME || is_keyword(p, t)) {
            char d[64];
            describe(p, t, d, sizeof d);
            return fail(p, t->pos, "invalid FEEL: expected a variable name but found %s", d);
        }
        p->k++;
        if (!expect(p, TK_NAME, "in"))
            return NULL;
        node *d = parse_or(p);
        if (!d)
            return NULL;
        if (is_op(p, "..")) {
            size_t rpos = cur(p)->pos;
            p->k++;
            node *hi = parse_or(p);
            if (!hi)
                return NULL;
            node *r = mk(p, N_RANGE, rpos);
            r->lo_closed = r->hi_closed = true;
            d = seal2(p, r, d, hi);
            if (!d)
                return NULL;
        }
        if (doms.n == cap) {
            size_t c2 = cap ? cap * 2 : 4;
            names = bpm_arena_grow(p->tmp, names, doms.n, c2, sizeof(name));
            cap = c2;
        }
        names[doms.n] = (name){t->str, t->slen};
        nodes_add(p, &doms, d);
        if (!is_op(p, ","))
            break;
        p->k++;
    }
    if (!expect(p, TK_NAME, body_kw))
        return NULL;
    node *body = parse_expr(p);
    if (!body)
        return NULL;
    nodes_add(p, &doms, body);
    node *n = mk(p, kind, pos);
    n->names = names;
    n = seal(p, n, doms.v, doms.n);
    if (!n)
        return NULL;
    /* each iteration variable is one more nested Lua function and scope */
    n->depth += (int)doms.n - 2;
    if (n->depth > BPM_DIALECT_MAX_DEPTH)
        return fail(p, pos, "invalid FEEL: expression nested too deeply (more than %d levels)",
                    BPM_DIALECT_MAX_DEPTH);
    return n;
}

static node *parse_textual(parser *p)
{
    if (is_kw(p, "for"))
        return parse_iteration(p, N_FOR, "return");
    if (is_kw(p, "some"))
        return parse_iteration(p, N_SOME, "satisfies");
    if (is_kw(p, "every"))
        return parse_iteration(p, N_EVERY, "satisfies");
    size_t pos = cur(p)->pos;
    p->k++; /* if */
    node *c = parse_expr(p);
    if (!c || !expect(p, TK_NAME, "then"))
        return NULL;
    node *a = parse_expr(p);
    if (!a || !expect(p, TK_NAME, "else"))
        return NULL;
    node *b = parse_expr(p);
    if (!b)
        return NULL;
    node **kids = bpm_arena_calloc(p->tmp, 3, sizeof(node *));
    kids[0] = c;
    kids[1] = a;
    kids[2] = b;
    return seal(p, mk(p, N_IF, pos), kids, 3);
}

static node *parse_expr(parser *p)
{
    if (!enter(p))
        return NULL;
    node *e = parse_or(p);
    p->rec--;
    return e;
}

/* ---- emitter ------------------------------------------------------------------ */

/* Lua parser level and first free register at each emitted expression: the
 * estimates behind BPM_DIALECT_LUA_LEVELS and BPM_DIALECT_LUA_REGS. */
static void mark(parser *p, const node *n, int level, int reg)
{
    if (!p->over_budget && (level > BPM_DIALECT_LUA_LEVELS || reg > BPM_DIALECT_LUA_REGS)) {
        p->over_budget = true;
        p->budget_pos = n ? n->pos : 0;
    }
}

static void put(parser *p, const char *s)
{
    bpm_dialect_buf_puts(&p->out, s);
}

static void put_local(parser *p, int local)
{
    char b[24];
    snprintf(b, sizeof b, "l%d", local);
    put(p, b);
}

/* .key or ["key"] after a table expression */
static void put_field(parser *p, const char *key, size_t len)
{
    if (bpm_dialect_lua_name(key, len)) {
        put(p, ".");
        bpm_dialect_buf_putn(&p->out, key, len);
    } else {
        put(p, "[");
        bpm_dialect_buf_quote(&p->out, key, len);
        put(p, "]");
    }
}

static void emit(parser *p, const node *n, int level, int reg);

static bool is_literal(const node *n)
{
    return n->kind == N_INT || n->kind == N_FLOAT || n->kind == N_STR || n->kind == N_TRUE ||
           n->kind == N_FALSE || n->kind == N_NULL;
}

/* A value stored in a list or context: nil would leave a hole, so it
 * becomes null. */
static void emit_stored(parser *p, const node *n, int level, int reg)
{
    if (is_literal(n) || n->kind == N_LIST || n->kind == N_CONTEXT) {
        emit(p, n, level, reg);
        return;
    }
    put(p, "__dx.nn(");
    emit(p, n, level + 1, reg + 1);
    put(p, ")");
    mark(p, n, level, reg + 2);
}

static void emit_args(parser *p, const node *const *kids, size_t n, int level, int reg)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(p, ", ");
        emit(p, kids[i], level + 1, reg + 1 + (int)i);
    }
}

static void emit_call(parser *p, const node *n, const char *helper, int level, int reg)
{
    put(p, "__dx.");
    put(p, helper);
    put(p, "(");
    emit_args(p, (const node *const *)n->kids, n->n_kids, level, reg);
    put(p, ")");
    mark(p, n, level, reg + 1 + (int)n->n_kids);
}

static bool same_name(name a, const char *s, size_t n)
{
    return a.len == n && memcmp(a.str, s, n) == 0;
}

/* A name, looked up from scope `top` outwards (FEEL's innermost-first
 * rule); process variables are the outermost scope. */
static void emit_name(parser *p, const node *n, size_t top, int level, int reg)
{
    for (size_t i = top; i > 0; i--) {
        const scope *s = &p->scopes[i - 1];
        if (s->kind == SC_LOCAL && same_name(s->var, n->str, n->slen)) {
            put_local(p, s->local);
            return;
        }
        if (s->kind == SC_CONTEXT) {
            for (size_t k = s->n_visible; k > 0; k--) {
                if (same_name(s->ctx->names[k - 1], n->str, n->slen)) {
                    put_local(p, s->local);
                    put_field(p, n->str, n->slen);
                    return;
                }
            }
        }
        if (s->kind == SC_FILTER) {
            if (n->slen == 4 && memcmp(n->str, "item", 4) == 0) {
                put_local(p, s->local);
                return;
            }
            /* the item's own entry wins over outer names (DMN 1.3 §10.3.2.5) */
            put(p, "__dx.fk(");
            put_local(p, s->local);
            put(p, ", ");
            bpm_dialect_buf_quote(&p->out, n->str, n->slen);
            put(p, ", ");
            emit_name(p, n, i - 1, level + 1, reg + 3);
            put(p, ")");
            mark(p, n, level, reg + 4);
            return;
        }
    }
    bpm_dialect_buf_var(&p->out, n->str, n->slen);
}

static int push_scope(parser *p, scope_kind kind)
{
    BPM_ASSERT(p->n_scopes < sizeof p->scopes / sizeof p->scopes[0]);
    scope *s = &p->scopes[p->n_scopes++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->local = ++p->n_locals;
    return s->local;
}

/* list[filter]: a literal number indexes directly; anything else becomes a
 * function of the item that ffilter calls per element. */
static void emit_filter(parser *p, const node *n, int level, int reg)
{
    const node *f = n->kids[1];
    bool literal_index = f->kind == N_INT || (f->kind == N_NEG && f->kids[0]->kind == N_INT);
    if (literal_index) {
        emit_call(p, n, "fidx", level, reg);
        return;
    }
    put(p, "__dx.ffilter(");
    emit(p, n->kids[0], level + 1, reg + 1);
    put(p, ", function(");
    int local = push_scope(p, SC_FILTER);
    put_local(p, local);
    put(p, ") return ");
    /* a function body: statement, then the return's expression; fresh
     * registers after the parameter */
    emit(p, f, level + 3, 1);
    put(p, " end)");
    p->n_scopes--;
    mark(p, n, level, reg + 3);
}

/* for/some/every over several domains: one nested function per variable. */
static void emit_iteration(parser *p, const node *n, size_t i, int level, int reg)
{
    size_t n_vars = n->n_kids - 1;
    if (i == n_vars) {
        emit(p, n->kids[i], level, reg);
        return;
    }
    const char *helper = n->kind == N_FOR ? "ffor" : n->kind == N_SOME ? "fsome" : "fevery";
    put(p, "__dx.");
    put(p, helper);
    put(p, "(");
    const node *d = n->kids[i];
    if (d->kind == N_RANGE) {
        put(p, "__dx.frange(");
        emit(p, d->kids[0], level + 2, reg + 2);
        put(p, ", ");
        emit(p, d->kids[1], level + 2, reg + 3);
        put(p, ")");
    } else {
        emit(p, d, level + 1, reg + 1);
    }
    put(p, ", function(");
    int local = push_scope(p, SC_LOCAL);
    p->scopes[p->n_scopes - 1].var = n->names[i];
    put_local(p, local);
    put(p, ") return ");
    emit_iteration(p, n, i + 1, level + 3, 1);
    put(p, " end");
    /* an inner for gives a list per outer element: concatenate them */
    if (n->kind == N_FOR && i + 1 < n_vars)
        put(p, ", true");
    put(p, ")");
    p->n_scopes--;
    mark(p, n, level, reg + 4);
}

/* One unary test applied to the Lua expression `subject`. */
/* One unary test applied to `value`, or to local l<local> when value is
 * NULL: fin (equal to, or in a list), finr (a range) or a comparison. */
static void emit_test(parser *p, const node *t, int local, const node *value, int level, int reg)
{
    bool has_operands = t->kind == N_TEST || t->kind == N_RANGE;
    put(p, "__dx.");
    put(p, t->kind == N_TEST ? t->helper : t->kind == N_RANGE ? "finr" : "fin");
    put(p, "(");
    if (value)
        emit(p, value, level + 1, reg + 1);
    else
        put_local(p, local);
    if (has_operands) {
        for (size_t i = 0; i < t->n_kids; i++) {
            put(p, ", ");
            emit(p, t->kids[i], level + 1, reg + 2 + (int)i);
        }
    } else {
        put(p, ", ");
        emit(p, t, level + 1, reg + 2);
    }
    if (t->kind == N_RANGE) {
        put(p, t->lo_closed ? ", true" : ", false");
        put(p, t->hi_closed ? ", true" : ", false");
    }
    put(p, ")");
    mark(p, t, level, reg + 6);
}

static void emit_in(parser *p, const node *n, int level, int reg)
{
    if (n->n_kids == 2) {
        emit_test(p, n->kids[1], 0, n->kids[0], level, reg);
        return;
    }
    /* several tests: true when any is (DMN 1.3 §10.3.2.9.2); the value is
     * evaluated once, as the parameter of a function */
    put(p, "(function(");
    int local = ++p->n_locals;
    put_local(p, local);
    put(p, ") return ");
    for (size_t i = 1; i < n->n_kids; i++) {
        const node *t = n->kids[i];
        if (i > 1)
            put(p, " or ");
        int tl = level + (i > 1 ? 4 : 3);
        emit_test(p, t, local, NULL, tl, 1);
        if (t->kind == N_TEST || t->kind == N_RANGE)
            put(p, " == true");
        mark(p, t, tl + 1, 3);
    }
    put(p, " end)(");
    emit(p, n->kids[0], level + 1, reg + 1);
    put(p, ")");
    mark(p, n, level, reg + 2);
}

static void emit_list(parser *p, const node *n, int level, int reg)
{
    if (n->n_kids == 0) {
        /* a new marked table: an unmarked {} would leave as a JSON object */
        put(p, "__dx.list()");
        mark(p, n, level + 1, reg + 2);
        return;
    }
    put(p, "{");
    for (size_t i = 0; i < n->n_kids; i++) {
        if (i)
            put(p, ", ");
        /* Lua flushes a constructor's pending items every 50 */
        emit_stored(p, n->kids[i], level + 1, reg + 1 + (int)(i % 50));
    }
    put(p, "}");
}

/* Does any name under n match one of keys[0..n_keys)? */
static bool uses_key(const node *n, const name *keys, size_t n_keys)
{
    if (!n->has_names)
        return false;
    if (n->kind == N_NAME) {
        for (size_t k = 0; k < n_keys; k++)
            if (same_name(keys[k], n->str, n->slen))
                return true;
        return false;
    }
    for (size_t i = 0; i < n->n_kids; i++)
        if (uses_key(n->kids[i], keys, n_keys))
            return true;
    return false;
}

/* Contexts whose entries see earlier entries ({a: 1, b: a + 1}) are built
 * by statements in a function; others by one table constructor. Past 64
 * entries the check is skipped and the function form is used. */
static void emit_context(parser *p, const node *n, int level, int reg)
{
    bool self_ref = n->n_kids > 64;
    for (size_t i = 1; i < n->n_kids && !self_ref; i++)
        self_ref = uses_key(n->kids[i], n->names, i);
    if (!self_ref) {
        put(p, "{");
        for (size_t i = 0; i < n->n_kids; i++) {
            if (i)
                put(p, ", ");
            const name *k = &n->names[i];
            if (bpm_dialect_lua_name(k->str, k->len)) {
                bpm_dialect_buf_putn(&p->out, k->str, k->len);
            } else {
                put(p, "[");
                bpm_dialect_buf_quote(&p->out, k->str, k->len);
                put(p, "]");
            }
            put(p, " = ");
            emit_stored(p, n->kids[i], level + 1, reg + 2);
        }
        put(p, "}");
        mark(p, n, level, reg + 3);
        return;
    }
    put(p, "(function() local ");
    int local = push_scope(p, SC_CONTEXT);
    scope *s = &p->scopes[p->n_scopes - 1];
    s->ctx = n;
    put_local(p, local);
    put(p, " = {}");
    for (size_t i = 0; i < n->n_kids; i++) {
        s->n_visible = i;
        put(p, " ");
        put_local(p, local);
        put_field(p, n->names[i].str, n->names[i].len);
        put(p, " = ");
        emit_stored(p, n->kids[i], level + 3, 2);
    }
    put(p, " return ");
    put_local(p, local);
    put(p, " end)()");
    p->n_scopes--;
    mark(p, n, level, reg + 1);
}

static void emit(parser *p, const node *n, int level, int reg)
{
    mark(p, n, level, reg + 1);
    switch (n->kind) {
    case N_INT:
    case N_FLOAT:
        bpm_dialect_buf_putn(&p->out, n->str, n->slen);
        return;
    case N_STR:
        bpm_dialect_buf_quote(&p->out, n->str, n->slen);
        return;
    case N_TRUE:
        put(p, "true");
        return;
    case N_FALSE:
        put(p, "false");
        return;
    case N_NULL:
        put(p, "null");
        return;
    case N_TEMPORAL:
        put(p, "__dx.ftemporal(");
        bpm_dialect_buf_quote(&p->out, n->str, n->slen);
        put(p, ")");
        mark(p, n, level + 1, reg + 2);
        return;
    case N_NAME:
        emit_name(p, n, p->n_scopes, level, reg);
        return;
    case N_PATH:
        put(p, "__dx.fget(");
        emit(p, n->kids[0], level + 1, reg + 1);
        put(p, ", ");
        bpm_dialect_buf_quote(&p->out, n->str, n->slen);
        put(p, ")");
        mark(p, n, level, reg + 3);
        return;
    case N_FILTER:
        emit_filter(p, n, level, reg);
        return;
    case N_CALL:
        if (n->func->clock) {
            /* time is an input of the step, never a clock read */
            put(p, "__dx.");
            put(p, n->helper);
            put(p, "(execution)");
            mark(p, n, level + 1, reg + 2);
            return;
        }
        emit_call(p, n, n->helper, level, reg);
        return;
    case N_LIST:
        emit_list(p, n, level, reg);
        return;
    case N_CONTEXT:
        emit_context(p, n, level, reg);
        return;
    case N_RANGE:
        fail(p, n->pos, "unsupported FEEL: a range is allowed only after \"in\" (x in 1..10)");
        return;
    case N_BIN:
        emit_call(p, n, n->helper, level, reg);
        return;
    case N_AND:
        emit_call(p, n, "fand", level, reg);
        return;
    case N_OR:
        emit_call(p, n, "for_", level, reg);
        return;
    case N_NEG:
        if (n->kids[0]->kind == N_INT || n->kids[0]->kind == N_FLOAT) {
            put(p, "-");
            emit(p, n->kids[0], level + 1, reg);
            return;
        }
        emit_call(p, n, "fneg", level, reg);
        return;
    case N_IF:
        /* (c and {a} or {b})[1] keeps a false or nil branch value and
         * evaluates only the branch taken; null and non-booleans pick
         * else (DMN 1.3 §10.3.2.6) */
        put(p, "(");
        emit(p, n->kids[0], level + 1, reg + 1);
        put(p, " == true and {");
        emit(p, n->kids[1], level + 3, reg + 3);
        put(p, "} or {");
        emit(p, n->kids[2], level + 3, reg + 3);
        put(p, "})[1]");
        mark(p, n, level + 2, reg + 3);
        return;
    case N_FOR:
    case N_SOME:
    case N_EVERY:
        emit_iteration(p, n, 0, level, reg);
        return;
    case N_IN:
        emit_in(p, n, level, reg);
        return;
    case N_TEST:
        fail(p, n->pos, "unsupported FEEL: unary test outside \"in\"");
        return;
    case N_BETWEEN:
        emit_call(p, n, "fbetween", level, reg);
        return;
    }
}

bpm_rc bpm_feel_translate(const char *text, bpm_arena *a, const char **lua_out, bpm_err *err)
{
    size_t len = strlen(text);
    if (len > BPM_DIALECT_MAX_TEXT)
        return bpm_err_set(err, BPM_INVALID, "FEEL expression too long (%zu bytes, limit %d)", len,
                           BPM_DIALECT_MAX_TEXT);
    parser p = {.text = text, .text_len = len, .err = err, .tmp = bpm_arena_new()};
    bpm_rc rc = BPM_INVALID;
    if (!lex(&p))
        goto done;
    if (cur(&p)->kind == TK_EOF) {
        fail(&p, 0, "invalid FEEL: empty expression");
        goto done;
    }
    node *e = parse_expr(&p);
    if (!e)
        goto done;
    if (cur(&p)->kind != TK_EOF) {
        unexpected(&p);
        goto done;
    }
    bpm_dialect_buf_init(&p.out, p.tmp);
    const int level = 2; /* statement, then the return's expression */
    if (e->temporal) {
        /* dates and durations leave as ISO text */
        put(&p, "return __dx.fout(");
        emit(&p, e, level + 1, 1);
        put(&p, ")");
    } else {
        put(&p, "return ");
        emit(&p, e, level, 0);
    }
    if (p.failed)
        goto done;
    if (p.over_budget) {
        fail(&p, p.budget_pos,
             "invalid FEEL: expression too complex to compile (nested too deeply)");
        goto done;
    }
    *lua_out = bpm_arena_strndup(a, p.out.ptr, p.out.len);
    rc = BPM_OK;
done:
    bpm_arena_free(p.tmp);
    return rc;
}
