/* Camunda 8 FEEL to Lua: tokenizer (multi-word built-in names included), parser
 * to a small AST, and an emitter resolving names through FEEL's scopes. The
 * translation state, errors and tokens are dialect_lex.c's (dialect.h). */
#include "dialect.h"

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
    /* Camunda 8 connectors' error expressions */
    {"bpmnError", 1, 3, "fn_bpmn_error", false, false},
    {"jobError", 1, 4, "fn_job_error", false, false},
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

/* ---- syntax tree ------------------------------------------------------------ */

typedef enum node_kind {
    N_LIT,      /* lit, str */
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
    bool has_names;      /* a N_NAME somewhere below (context self-references) */
    bool temporal;       /* a date/time constructor somewhere below */
    bpm_dialect_lit lit; /* N_LIT */
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

/* The names in scope while emitting, innermost last: FEEL's own part of the
 * translation state (bpm_dialect_ctx.own). */
typedef struct scopes {
    scope v[BPM_DIALECT_MAX_DEPTH + 1];
    size_t n;
    int n_locals; /* Lua locals l1, l2... so far */
} scopes;

/* The shared translation state; its `own` points to the scopes. */
typedef bpm_dialect_ctx parser;

static scopes *scopes_of(parser *p)
{
    return p->own;
}

/* ---- tokenizer -------------------------------------------------------------- */

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
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
        if (!ok || bpm_dialect_is_name_char((unsigned char)s[j]))
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
                bpm_dialect_fail(p, j, "invalid FEEL: unterminated comment");
                return false;
            }
            j = (size_t)(e - s) + 2;
            continue;
        }
        if (c == '\0') {
            bpm_dialect_push(p,
                             (bpm_dialect_tok){.kind = BPM_DIALECT_TK_EOF, .pos = j, .str = s + j});
            return true;
        }
        if (c == '"') {
            /* \" \\ \n \r \t \' \/ and \uXXXX; any other backslash stays as
             * written, as regex text often has them */
            if (!bpm_dialect_lex_string(p, &j, "\"\\nrt'/", "\"\\\n\r\t'/", true))
                return false;
            continue;
        }
        if (bpm_dialect_is_digit(c) ||
            (c == '.' && bpm_dialect_is_digit((unsigned char)s[j + 1]))) {
            size_t e = j;
            bool is_float = false;
            while (bpm_dialect_is_digit((unsigned char)s[e]))
                e++;
            if (s[e] == '.' && bpm_dialect_is_digit((unsigned char)s[e + 1])) {
                is_float = true;
                e++;
                while (bpm_dialect_is_digit((unsigned char)s[e]))
                    e++;
            }
            if (bpm_dialect_is_name_char((unsigned char)s[e])) {
                bpm_dialect_fail(p, j, "invalid FEEL: malformed number");
                return false;
            }
            bpm_dialect_push(
                p, (bpm_dialect_tok){.kind = is_float ? BPM_DIALECT_TK_FLOAT : BPM_DIALECT_TK_INT,
                                     .pos = j,
                                     .len = e - j,
                                     .str = s + j,
                                     .slen = e - j});
            j = e;
            continue;
        }
        if (c == '`') {
            const char *e = strchr(s + j + 1, '`');
            if (!e || e == s + j + 1) {
                bpm_dialect_fail(p, j, "invalid FEEL: unterminated `name`");
                return false;
            }
            size_t n = (size_t)(e - s) - j - 1;
            bpm_dialect_push(p, (bpm_dialect_tok){.kind = BPM_DIALECT_TK_NAME,
                                                  .pos = j,
                                                  .len = n + 2,
                                                  .str = s + j + 1,
                                                  .slen = n,
                                                  .quoted = true});
            j += n + 2;
            continue;
        }
        if (bpm_dialect_is_name_start(c)) {
            size_t e;
            const builtin *f = match_multiword(s + j, &e);
            if (f) {
                bpm_dialect_push(p, (bpm_dialect_tok){.kind = BPM_DIALECT_TK_FUNC,
                                                      .pos = j,
                                                      .len = e,
                                                      .str = f->name,
                                                      .slen = strlen(f->name)});
                j += e;
                continue;
            }
            bpm_dialect_lex_name(p, &j);
            continue;
        }
        if (!bpm_dialect_lex_op(p, &j, ops2, sizeof ops2 / sizeof ops2[0], "=<>+-*/.,()[]{}:@?"))
            return false;
    }
}

/* ---- parser ----------------------------------------------------------------- */

static bool is_keyword(const bpm_dialect_tok *t)
{
    static const char *const words[] = {
        "true", "false", "null",   "and",  "or",    "in",        "between",  "if",       "then",
        "else", "for",   "return", "some", "every", "satisfies", "instance", "function", "not",
    };
    return bpm_dialect_tok_in(t, BPM_DIALECT_TK_NAME, words, sizeof words / sizeof words[0]);
}

static node *unexpected(parser *p)
{
    bpm_dialect_tok *t = bpm_dialect_cur(p);
    if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_OP, "?"))
        return bpm_dialect_fail(p, t->pos,
                                "unsupported FEEL: \"?\" (the input value of unary tests)");
    if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_NAME, "instance"))
        return bpm_dialect_fail(p, t->pos, "unsupported FEEL: \"instance of\"");
    if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_NAME, "function"))
        return bpm_dialect_fail(p, t->pos, "unsupported FEEL: function definitions");
    return bpm_dialect_unexpected(p);
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
        return bpm_dialect_too_deep(p, n->pos);
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
    if (!bpm_dialect_expect(p, BPM_DIALECT_TK_OP, ".."))
        return NULL;
    node *hi = parse_add(p);
    if (!hi)
        return NULL;
    node *r = mk(p, N_RANGE, pos);
    r->lo_closed = lo_closed;
    if (bpm_dialect_is_op(p, "]")) {
        r->hi_closed = true;
    } else if (bpm_dialect_is_op(p, ")") || bpm_dialect_is_op(p, "[")) {
        r->hi_closed = false;
    } else {
        return bpm_dialect_expected(p, "\"]\" or \")\" to end the range");
    }
    p->k++;
    return seal2(p, r, lo, hi);
}

static node *parse_call(parser *p, const builtin *f, size_t pos)
{
    if (!f->helper)
        return bpm_dialect_fail(
            p, pos, "unsupported FEEL: function \"%s\" is not in the supported subset", f->name);
    p->k++; /* the name; "(" follows */
    if (!bpm_dialect_expect(p, BPM_DIALECT_TK_OP, "("))
        return NULL;
    nodes args = {0};
    if (!bpm_dialect_is_op(p, ")")) {
        for (;;) {
            if (bpm_dialect_cur(p)->kind == BPM_DIALECT_TK_NAME &&
                bpm_dialect_tok_is(bpm_dialect_peek(p, 1), BPM_DIALECT_TK_OP, ":"))
                return bpm_dialect_fail(p, bpm_dialect_cur(p)->pos,
                                        "unsupported FEEL: named arguments");
            node *a = parse_expr(p);
            if (!a)
                return NULL;
            nodes_add(p, &args, a);
            if (args.n > VARARGS)
                return bpm_dialect_fail(p, a->pos, "unsupported FEEL: more than %d arguments",
                                        VARARGS);
            if (!bpm_dialect_is_op(p, ","))
                break;
            p->k++;
        }
    }
    if (!bpm_dialect_expect(p, BPM_DIALECT_TK_OP, ")"))
        return NULL;
    if ((int)args.n < f->min || (int)args.n > f->max) {
        if (f->min == f->max)
            return bpm_dialect_fail(p, pos,
                                    "invalid FEEL: function \"%s\" takes %d argument%s, not %zu",
                                    f->name, f->min, f->min == 1 ? "" : "s", args.n);
        return bpm_dialect_fail(p, pos,
                                "invalid FEEL: function \"%s\" takes %d to %d arguments, not %zu",
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
    if (bpm_dialect_is_op(p, "]")) {
        p->k++;
        return seal(p, mk(p, N_LIST, pos), NULL, 0);
    }
    for (;;) {
        node *e = parse_expr(p);
        if (!e)
            return NULL;
        if (items.n == 0 && bpm_dialect_is_op(p, ".."))
            return finish_range(p, pos, e, true);
        nodes_add(p, &items, e);
        if (!bpm_dialect_is_op(p, ","))
            break;
        p->k++;
    }
    if (!bpm_dialect_expect(p, BPM_DIALECT_TK_OP, "]"))
        return NULL;
    return seal(p, mk(p, N_LIST, pos), items.v, items.n);
}

static node *parse_context(parser *p, size_t pos)
{
    p->k++; /* { */
    nodes vals = {0};
    name *keys = NULL;
    size_t cap = 0;
    if (!bpm_dialect_is_op(p, "}")) {
        for (;;) {
            bpm_dialect_tok *t = bpm_dialect_cur(p);
            if (t->kind != BPM_DIALECT_TK_NAME && t->kind != BPM_DIALECT_TK_STR)
                return bpm_dialect_expected(p, "a context key");
            p->k++;
            if (!bpm_dialect_expect(p, BPM_DIALECT_TK_OP, ":"))
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
            if (!bpm_dialect_is_op(p, ","))
                break;
            p->k++;
        }
    }
    if (!bpm_dialect_expect(p, BPM_DIALECT_TK_OP, "}"))
        return NULL;
    node *n = mk(p, N_CONTEXT, pos);
    n->names = keys;
    return seal(p, n, vals.v, vals.n);
}

static node *parse_textual(parser *p);

static node *parse_primary(parser *p)
{
    bpm_dialect_tok *t = bpm_dialect_cur(p);
    size_t pos = t->pos;
    bpm_dialect_lit lit;
    if (bpm_dialect_literal(t, &lit)) {
        node *n = mk(p, N_LIT, pos);
        n->lit = lit;
        n->str = t->str;
        n->slen = t->slen;
        p->k++;
        return n;
    }
    switch (t->kind) {
    case BPM_DIALECT_TK_FUNC:
        return parse_call(p, find_builtin(t->str, t->slen), pos);
    case BPM_DIALECT_TK_OP:
        if (bpm_dialect_is_op(p, "(")) {
            p->k++;
            node *e = parse_expr(p);
            if (!e)
                return NULL;
            if (bpm_dialect_is_op(p, ".."))
                return finish_range(p, pos, e, false);
            if (!bpm_dialect_expect(p, BPM_DIALECT_TK_OP, ")"))
                return NULL;
            return e;
        }
        if (bpm_dialect_is_op(p, "["))
            return parse_list_or_range(p, pos);
        if (bpm_dialect_is_op(p, "]")) {
            p->k++;
            node *lo = parse_add(p);
            return lo ? finish_range(p, pos, lo, false) : NULL;
        }
        if (bpm_dialect_is_op(p, "{"))
            return parse_context(p, pos);
        if (bpm_dialect_is_op(p, "@")) {
            p->k++;
            if (bpm_dialect_cur(p)->kind != BPM_DIALECT_TK_STR)
                return bpm_dialect_fail(p, pos, "invalid FEEL: \"@\" must be followed by a string");
            node *n = mk(p, N_TEMPORAL, pos);
            n->str = bpm_dialect_cur(p)->str;
            n->slen = bpm_dialect_cur(p)->slen;
            n->temporal = true;
            p->k++;
            return n;
        }
        if (bpm_dialect_is_op(p, "<") || bpm_dialect_is_op(p, "<=") || bpm_dialect_is_op(p, ">") ||
            bpm_dialect_is_op(p, ">="))
            return bpm_dialect_fail(p, pos, "unsupported FEEL: unary test outside \"in\"");
        return unexpected(p);
    case BPM_DIALECT_TK_NAME:
        break;
    default:
        return unexpected(p);
    }
    if (bpm_dialect_is_kw(p, "if") || bpm_dialect_is_kw(p, "for") || bpm_dialect_is_kw(p, "some") ||
        bpm_dialect_is_kw(p, "every"))
        return parse_textual(p);
    bool call = bpm_dialect_tok_is(bpm_dialect_peek(p, 1), BPM_DIALECT_TK_OP, "(");
    if (call && !t->quoted) {
        const builtin *f = find_builtin(t->str, t->slen);
        if (f)
            return parse_call(p, f, pos);
        if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_NAME, "function"))
            return unexpected(p);
        char ex[48];
        bpm_dialect_excerpt(t->str, t->slen, ex, sizeof ex);
        return bpm_dialect_fail(p, pos, "unsupported FEEL: unknown function \"%s\"", ex);
    }
    if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_NAME, "not"))
        return bpm_dialect_fail(p, pos, "invalid FEEL: \"not\" is a function: write not(x)");
    if (is_keyword(t))
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
        if (bpm_dialect_is_op(p, ".")) {
            p->k++;
            bpm_dialect_tok *t = bpm_dialect_cur(p);
            if (t->kind != BPM_DIALECT_TK_NAME)
                return bpm_dialect_expected(p, "a name after \".\"");
            p->k++;
            node *n = mk(p, N_PATH, t->pos);
            n->str = t->str;
            n->slen = t->slen;
            v = seal1(p, n, v);
        } else if (bpm_dialect_is_op(p, "[")) {
            size_t pos = bpm_dialect_cur(p)->pos;
            p->k++;
            node *f = parse_expr(p);
            if (!f || !bpm_dialect_expect(p, BPM_DIALECT_TK_OP, "]"))
                return NULL;
            v = seal2(p, mk(p, N_FILTER, pos), v, f);
        } else if (bpm_dialect_is_op(p, "(")) {
            return bpm_dialect_fail(
                p, bpm_dialect_cur(p)->pos,
                "unsupported FEEL: calling a value (only built-in functions can be called)");
        } else {
            break;
        }
    }
    return v;
}

static node *parse_unary(parser *p)
{
    if (!bpm_dialect_is_op(p, "-"))
        return parse_postfix(p);
    size_t pos = bpm_dialect_cur(p)->pos;
    if (!bpm_dialect_enter(p))
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
            if (bpm_dialect_is_op(p, ops[i].op))
                op = &ops[i];
        if (!op)
            break;
        size_t pos = bpm_dialect_cur(p)->pos;
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
    size_t pos = bpm_dialect_cur(p)->pos;
    for (size_t i = 2; i < 6; i++) {
        if (bpm_dialect_is_op(p, CMP_OPS[i].op)) {
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
    if (e && bare_range && bpm_dialect_is_op(p, "..")) {
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
    if (bpm_dialect_is_op(p, "(")) {
        size_t open = bpm_dialect_cur(p)->pos;
        p->k++;
        for (;;) {
            node *t = parse_test(p, tests.n > 1);
            if (!t)
                return NULL;
            if (tests.n == 1 && t->kind != N_TEST && bpm_dialect_is_op(p, "..")) {
                t = finish_range(p, open, t, false);
                if (!t)
                    return NULL;
                nodes_add(p, &tests, t);
                break;
            }
            nodes_add(p, &tests, t);
            if (!bpm_dialect_is_op(p, ",")) {
                if (!bpm_dialect_expect(p, BPM_DIALECT_TK_OP, ")"))
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
        size_t pos = bpm_dialect_cur(p)->pos;
        const binop *op = NULL;
        for (size_t i = 0; i < 6 && !op; i++)
            if (bpm_dialect_is_op(p, CMP_OPS[i].op))
                op = &CMP_OPS[i];
        if (op) {
            p->k++;
            node *r = parse_add(p);
            if (!r)
                return NULL;
            node *n = mk(p, N_BIN, pos);
            n->helper = op->helper;
            l = seal2(p, n, l, r);
        } else if (bpm_dialect_is_kw(p, "between")) {
            p->k++;
            node *lo = parse_add(p);
            if (!lo || !bpm_dialect_expect(p, BPM_DIALECT_TK_NAME, "and"))
                return NULL;
            node *hi = parse_add(p);
            if (!hi)
                return NULL;
            node **kids = bpm_arena_calloc(p->tmp, 3, sizeof(node *));
            kids[0] = l;
            kids[1] = lo;
            kids[2] = hi;
            l = seal(p, mk(p, N_BETWEEN, pos), kids, 3);
        } else if (bpm_dialect_is_kw(p, "in")) {
            p->k++;
            l = parse_in(p, l, pos);
        } else if (bpm_dialect_is_kw(p, "instance")) {
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
    if (!first || !bpm_dialect_is_kw(p, word))
        return first;
    nodes v = {0};
    nodes_add(p, &v, first);
    while (bpm_dialect_is_kw(p, word)) {
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
    size_t pos = bpm_dialect_cur(p)->pos;
    p->k++;
    nodes doms = {0};
    name *names = NULL;
    size_t cap = 0;
    for (;;) {
        bpm_dialect_tok *t = bpm_dialect_cur(p);
        if (t->kind != BPM_DIALECT_TK_NAME || is_keyword(t))
            return bpm_dialect_expected(p, "a variable name");
        p->k++;
        if (!bpm_dialect_expect(p, BPM_DIALECT_TK_NAME, "in"))
            return NULL;
        node *d = parse_or(p);
        if (!d)
            return NULL;
        if (bpm_dialect_is_op(p, "..")) {
            size_t rpos = bpm_dialect_cur(p)->pos;
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
        if (!bpm_dialect_is_op(p, ","))
            break;
        p->k++;
    }
    if (!bpm_dialect_expect(p, BPM_DIALECT_TK_NAME, body_kw))
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
        return bpm_dialect_too_deep(p, pos);
    return n;
}

static node *parse_textual(parser *p)
{
    if (bpm_dialect_is_kw(p, "for"))
        return parse_iteration(p, N_FOR, "return");
    if (bpm_dialect_is_kw(p, "some"))
        return parse_iteration(p, N_SOME, "satisfies");
    if (bpm_dialect_is_kw(p, "every"))
        return parse_iteration(p, N_EVERY, "satisfies");
    size_t pos = bpm_dialect_cur(p)->pos;
    p->k++; /* if */
    node *c = parse_expr(p);
    if (!c || !bpm_dialect_expect(p, BPM_DIALECT_TK_NAME, "then"))
        return NULL;
    node *a = parse_expr(p);
    if (!a || !bpm_dialect_expect(p, BPM_DIALECT_TK_NAME, "else"))
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
    if (!bpm_dialect_enter(p))
        return NULL;
    node *e = parse_or(p);
    p->rec--;
    return e;
}

/* ---- emitter ------------------------------------------------------------------ */

static void put_local(parser *p, int local)
{
    char b[24];
    snprintf(b, sizeof b, "l%d", local);
    bpm_dialect_put(p, b);
}

/* .key or ["key"] after a table expression */
static void put_field(parser *p, const char *key, size_t len)
{
    if (bpm_dialect_lua_name(key, len)) {
        bpm_dialect_put(p, ".");
        bpm_dialect_buf_putn(&p->out, key, len);
    } else {
        bpm_dialect_put(p, "[");
        bpm_dialect_buf_quote(&p->out, key, len);
        bpm_dialect_put(p, "]");
    }
}

static void emit(parser *p, const node *n, int level, int reg);

static bool is_number(const node *n)
{
    return n->kind == N_LIT && (n->lit == BPM_DIALECT_LIT_INT || n->lit == BPM_DIALECT_LIT_FLOAT);
}

/* A value stored in a list or context: nil would leave a hole, so it
 * becomes null. */
static void emit_stored(parser *p, const node *n, int level, int reg)
{
    if (n->kind == N_LIT || n->kind == N_LIST || n->kind == N_CONTEXT) {
        emit(p, n, level, reg);
        return;
    }
    bpm_dialect_put(p, "__dx.nn(");
    emit(p, n, level + 1, reg + 1);
    bpm_dialect_put(p, ")");
    bpm_dialect_mark(p, n->pos, level, reg + 2);
}

static void emit_args(parser *p, const node *const *kids, size_t n, int level, int reg)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            bpm_dialect_put(p, ", ");
        emit(p, kids[i], level + 1, reg + 1 + (int)i);
    }
}

static void emit_call(parser *p, const node *n, const char *helper, int level, int reg)
{
    bpm_dialect_put(p, "__dx.");
    bpm_dialect_put(p, helper);
    bpm_dialect_put(p, "(");
    emit_args(p, (const node *const *)n->kids, n->n_kids, level, reg);
    bpm_dialect_put(p, ")");
    bpm_dialect_mark(p, n->pos, level, reg + 1 + (int)n->n_kids);
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
        const scope *s = &scopes_of(p)->v[i - 1];
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
            bpm_dialect_put(p, "__dx.fk(");
            put_local(p, s->local);
            bpm_dialect_put(p, ", ");
            bpm_dialect_buf_quote(&p->out, n->str, n->slen);
            bpm_dialect_put(p, ", ");
            emit_name(p, n, i - 1, level + 1, reg + 3);
            bpm_dialect_put(p, ")");
            bpm_dialect_mark(p, n->pos, level, reg + 4);
            return;
        }
    }
    bpm_dialect_buf_var(&p->out, n->str, n->slen);
}

/* A new innermost scope with a new Lua local; pop_scope leaves it. */
static scope *push_scope(parser *p, scope_kind kind)
{
    scopes *sc = scopes_of(p);
    BPM_ASSERT(sc->n < sizeof sc->v / sizeof sc->v[0]);
    scope *s = &sc->v[sc->n++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->local = ++sc->n_locals;
    return s;
}

static void pop_scope(parser *p)
{
    scopes_of(p)->n--;
}

/* list[filter]: a literal number indexes directly; anything else becomes a
 * function of the item that ffilter calls per element. */
static void emit_filter(parser *p, const node *n, int level, int reg)
{
    const node *f = n->kids[1];
    const node *num = f->kind == N_NEG ? f->kids[0] : f;
    bool literal_index = num->kind == N_LIT && num->lit == BPM_DIALECT_LIT_INT;
    if (literal_index) {
        emit_call(p, n, "fidx", level, reg);
        return;
    }
    bpm_dialect_put(p, "__dx.ffilter(");
    emit(p, n->kids[0], level + 1, reg + 1);
    bpm_dialect_put(p, ", function(");
    int local = push_scope(p, SC_FILTER)->local;
    put_local(p, local);
    bpm_dialect_put(p, ") return ");
    /* a function body: statement, then the return's expression; fresh
     * registers after the parameter */
    emit(p, f, level + 3, 1);
    bpm_dialect_put(p, " end)");
    pop_scope(p);
    bpm_dialect_mark(p, n->pos, level, reg + 3);
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
    bpm_dialect_put(p, "__dx.");
    bpm_dialect_put(p, helper);
    bpm_dialect_put(p, "(");
    const node *d = n->kids[i];
    if (d->kind == N_RANGE) {
        bpm_dialect_put(p, "__dx.frange(");
        emit(p, d->kids[0], level + 2, reg + 2);
        bpm_dialect_put(p, ", ");
        emit(p, d->kids[1], level + 2, reg + 3);
        bpm_dialect_put(p, ")");
    } else {
        emit(p, d, level + 1, reg + 1);
    }
    bpm_dialect_put(p, ", function(");
    scope *s = push_scope(p, SC_LOCAL);
    s->var = n->names[i];
    int local = s->local;
    put_local(p, local);
    bpm_dialect_put(p, ") return ");
    emit_iteration(p, n, i + 1, level + 3, 1);
    bpm_dialect_put(p, " end");
    /* an inner for gives a list per outer element: concatenate them */
    if (n->kind == N_FOR && i + 1 < n_vars)
        bpm_dialect_put(p, ", true");
    bpm_dialect_put(p, ")");
    pop_scope(p);
    bpm_dialect_mark(p, n->pos, level, reg + 4);
}

/* One unary test applied to the Lua expression `subject`. */
/* One unary test applied to `value`, or to local l<local> when value is
 * NULL: fin (equal to, or in a list), finr (a range) or a comparison. */
static void emit_test(parser *p, const node *t, int local, const node *value, int level, int reg)
{
    bool has_operands = t->kind == N_TEST || t->kind == N_RANGE;
    bpm_dialect_put(p, "__dx.");
    bpm_dialect_put(p, t->kind == N_TEST ? t->helper : t->kind == N_RANGE ? "finr" : "fin");
    bpm_dialect_put(p, "(");
    if (value)
        emit(p, value, level + 1, reg + 1);
    else
        put_local(p, local);
    if (has_operands) {
        for (size_t i = 0; i < t->n_kids; i++) {
            bpm_dialect_put(p, ", ");
            emit(p, t->kids[i], level + 1, reg + 2 + (int)i);
        }
    } else {
        bpm_dialect_put(p, ", ");
        emit(p, t, level + 1, reg + 2);
    }
    if (t->kind == N_RANGE) {
        bpm_dialect_put(p, t->lo_closed ? ", true" : ", false");
        bpm_dialect_put(p, t->hi_closed ? ", true" : ", false");
    }
    bpm_dialect_put(p, ")");
    bpm_dialect_mark(p, t->pos, level, reg + 6);
}

static void emit_in(parser *p, const node *n, int level, int reg)
{
    if (n->n_kids == 2) {
        emit_test(p, n->kids[1], 0, n->kids[0], level, reg);
        return;
    }
    /* several tests: true when any is (DMN 1.3 §10.3.2.9.2); the value is
     * evaluated once, as the parameter of a function */
    bpm_dialect_put(p, "(function(");
    int local = ++scopes_of(p)->n_locals;
    put_local(p, local);
    bpm_dialect_put(p, ") return ");
    for (size_t i = 1; i < n->n_kids; i++) {
        const node *t = n->kids[i];
        if (i > 1)
            bpm_dialect_put(p, " or ");
        int tl = level + (i > 1 ? 4 : 3);
        emit_test(p, t, local, NULL, tl, 1);
        if (t->kind == N_TEST || t->kind == N_RANGE)
            bpm_dialect_put(p, " == true");
        bpm_dialect_mark(p, t->pos, tl + 1, 3);
    }
    bpm_dialect_put(p, " end)(");
    emit(p, n->kids[0], level + 1, reg + 1);
    bpm_dialect_put(p, ")");
    bpm_dialect_mark(p, n->pos, level, reg + 2);
}

static void emit_list(parser *p, const node *n, int level, int reg)
{
    if (n->n_kids == 0) {
        /* a new marked table: an unmarked {} would leave as a JSON object */
        bpm_dialect_put(p, "__dx.list()");
        bpm_dialect_mark(p, n->pos, level + 1, reg + 2);
        return;
    }
    bpm_dialect_put(p, "{");
    for (size_t i = 0; i < n->n_kids; i++) {
        if (i)
            bpm_dialect_put(p, ", ");
        /* Lua flushes a constructor's pending items every 50 */
        emit_stored(p, n->kids[i], level + 1, reg + 1 + (int)(i % 50));
    }
    bpm_dialect_put(p, "}");
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
        bpm_dialect_put(p, "{");
        for (size_t i = 0; i < n->n_kids; i++) {
            if (i)
                bpm_dialect_put(p, ", ");
            const name *k = &n->names[i];
            if (bpm_dialect_lua_name(k->str, k->len)) {
                bpm_dialect_buf_putn(&p->out, k->str, k->len);
            } else {
                bpm_dialect_put(p, "[");
                bpm_dialect_buf_quote(&p->out, k->str, k->len);
                bpm_dialect_put(p, "]");
            }
            bpm_dialect_put(p, " = ");
            emit_stored(p, n->kids[i], level + 1, reg + 2);
        }
        bpm_dialect_put(p, "}");
        bpm_dialect_mark(p, n->pos, level, reg + 3);
        return;
    }
    bpm_dialect_put(p, "(function() local ");
    scope *s = push_scope(p, SC_CONTEXT);
    int local = s->local;
    s->ctx = n;
    put_local(p, local);
    bpm_dialect_put(p, " = {}");
    for (size_t i = 0; i < n->n_kids; i++) {
        s->n_visible = i;
        bpm_dialect_put(p, " ");
        put_local(p, local);
        put_field(p, n->names[i].str, n->names[i].len);
        bpm_dialect_put(p, " = ");
        emit_stored(p, n->kids[i], level + 3, 2);
    }
    bpm_dialect_put(p, " return ");
    put_local(p, local);
    bpm_dialect_put(p, " end)()");
    pop_scope(p);
    bpm_dialect_mark(p, n->pos, level, reg + 1);
}

static void emit(parser *p, const node *n, int level, int reg)
{
    bpm_dialect_mark(p, n->pos, level, reg + 1);
    switch (n->kind) {
    case N_LIT:
        bpm_dialect_put_literal(p, n->lit, n->str, n->slen);
        return;
    case N_TEMPORAL:
        bpm_dialect_put(p, "__dx.ftemporal(");
        bpm_dialect_buf_quote(&p->out, n->str, n->slen);
        bpm_dialect_put(p, ")");
        bpm_dialect_mark(p, n->pos, level + 1, reg + 2);
        return;
    case N_NAME:
        emit_name(p, n, scopes_of(p)->n, level, reg);
        return;
    case N_PATH:
        bpm_dialect_put(p, "__dx.fget(");
        emit(p, n->kids[0], level + 1, reg + 1);
        bpm_dialect_put(p, ", ");
        bpm_dialect_buf_quote(&p->out, n->str, n->slen);
        bpm_dialect_put(p, ")");
        bpm_dialect_mark(p, n->pos, level, reg + 3);
        return;
    case N_FILTER:
        emit_filter(p, n, level, reg);
        return;
    case N_CALL:
        if (n->func->clock) {
            /* time is an input of the step, never a clock read */
            bpm_dialect_put(p, "__dx.");
            bpm_dialect_put(p, n->helper);
            bpm_dialect_put(p, "(execution)");
            bpm_dialect_mark(p, n->pos, level + 1, reg + 2);
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
        bpm_dialect_fail(p, n->pos,
                         "unsupported FEEL: a range is allowed only after \"in\" (x in 1..10)");
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
        if (is_number(n->kids[0])) {
            bpm_dialect_put(p, "-");
            emit(p, n->kids[0], level + 1, reg);
            return;
        }
        emit_call(p, n, "fneg", level, reg);
        return;
    case N_IF:
        /* (c and {a} or {b})[1] keeps a false or nil branch value and
         * evaluates only the branch taken; null and non-booleans pick
         * else (DMN 1.3 §10.3.2.6) */
        bpm_dialect_put(p, "(");
        emit(p, n->kids[0], level + 1, reg + 1);
        bpm_dialect_put(p, " == true and {");
        emit(p, n->kids[1], level + 3, reg + 3);
        bpm_dialect_put(p, "} or {");
        emit(p, n->kids[2], level + 3, reg + 3);
        bpm_dialect_put(p, "})[1]");
        bpm_dialect_mark(p, n->pos, level + 2, reg + 3);
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
        bpm_dialect_fail(p, n->pos, "unsupported FEEL: unary test outside \"in\"");
        return;
    case N_BETWEEN:
        emit_call(p, n, "fbetween", level, reg);
        return;
    }
}

/* The whole text as one expression. */
static node *parse(parser *p)
{
    if (!lex(p))
        return NULL;
    if (bpm_dialect_cur(p)->kind == BPM_DIALECT_TK_EOF)
        return bpm_dialect_fail(p, 0, "invalid FEEL: empty expression");
    node *e = parse_expr(p);
    if (e && bpm_dialect_cur(p)->kind != BPM_DIALECT_TK_EOF)
        return unexpected(p);
    return e;
}

bpm_rc bpm_feel_translate(const char *text, bpm_arena *a, const char **lua_out, bpm_err *err)
{
    parser p;
    bpm_rc rc = bpm_dialect_begin(&p, "FEEL", text, err);
    if (rc != BPM_OK)
        return rc;
    scopes sc = {0};
    p.own = &sc;
    node *e = parse(&p);
    const int level = 2; /* statement, then the return's expression */
    if (e && e->temporal) {
        /* dates and durations leave as ISO text */
        bpm_dialect_put(&p, "return __dx.fout(");
        emit(&p, e, level + 1, 1);
        bpm_dialect_put(&p, ")");
    } else if (e) {
        bpm_dialect_put(&p, "return ");
        emit(&p, e, level, 0);
    }
    return bpm_dialect_finish(&p, e != NULL, a, lua_out);
}
