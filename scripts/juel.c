/* Camunda 7 JUEL (EL 2.2) to Lua: tokenizer, recursive-descent parser to a
 * small AST, and an emitter whose operators call the __dx.j* helpers. */
#include "dialect.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- tokens --------------------------------------------------------------- */

typedef enum tok_kind {
    TK_EOF,  /* the text ended inside ${ */
    TK_END,  /* the closing } */
    TK_NAME, /* identifier or keyword */
    TK_INT,
    TK_FLOAT,
    TK_STR, /* decoded into str/slen */
    TK_OP,  /* punctuation, text at pos/len */
} tok_kind;

typedef struct token {
    tok_kind kind;
    size_t pos, len; /* in the whole text */
    const char *str; /* TK_STR: decoded bytes */
    size_t slen;
} token;

/* ---- syntax tree ------------------------------------------------------------ */

typedef enum node_kind {
    N_INT,
    N_FLOAT,
    N_STR,
    N_TRUE,
    N_FALSE,
    N_NULL,
    N_VAR,    /* name */
    N_GET,    /* kids[0].name or kids[0][kids[1]] */
    N_METHOD, /* kids[0].name(kids[1..]) on a String, List or Map */
    N_EXEC,   /* execution.<field>; name = the Lua field */
    N_GETVAR, /* execution.getVariable(kids[0]) */
    N_HASVAR, /* execution.hasVariable(kids[0]) */
    N_NOW,    /* now(), dateTime() */
    N_AND,    /* kids[0..n) */
    N_OR,
    N_NOT,
    N_EMPTY,
    N_NEG,
    N_BIN,  /* name = the __dx helper (jeq, jadd...) */
    N_COND, /* kids[0] ? kids[1] : kids[2] */
} node_kind;

typedef struct node {
    node_kind kind;
    size_t pos;
    int depth;
    const char *name; /* N_VAR, N_GET property, N_METHOD, N_EXEC, N_BIN helper */
    size_t nlen;
    const char *str; /* N_STR bytes; N_INT/N_FLOAT text */
    size_t slen;
    bool boolean; /* N_BIN: a comparison, so already a Lua boolean */
    struct node **kids;
    size_t n_kids;
} node;

/* One piece of composite text: literal bytes, or an expression. */
typedef struct part {
    const char *lit;
    size_t lit_len;
    node *expr;
} part;

typedef struct parser {
    const char *text;
    size_t text_len;
    bpm_arena *tmp;
    bpm_err *err;
    bool failed;
    token *toks; /* of the current ${ } */
    size_t n_toks, cap_toks, k;
    int rec; /* recursion depth */
    bpm_dialect_buf out;
    size_t budget_pos; /* where a Lua budget ran out */
    bool over_budget;
} parser;

static const char BEAN_HINT[] =
    "(bean calls need a Java runtime; use a Lua script or an external task)";

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

static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
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

/* EL string literal: \\, \' and \" are escapes; any other backslash is
 * kept as written. */
static bool lex_string(parser *p, size_t *i)
{
    const char *s = p->text;
    size_t start = *i;
    char q = s[start];
    size_t end = start + 1; /* the closing quote */
    while (s[end] != q) {
        if (s[end] == '\0') {
            fail(p, start, "invalid JUEL: unterminated string");
            return false;
        }
        end += s[end] == '\\' && s[end + 1] ? 2 : 1;
    }
    char *buf = bpm_arena_alloc(p->tmp, end - start);
    size_t n = 0, j = start + 1;
    while (j < end) {
        char c = s[j];
        if (c == '\\' && (s[j + 1] == '\\' || s[j + 1] == '\'' || s[j + 1] == '"')) {
            buf[n++] = s[j + 1];
            j += 2;
            continue;
        }
        buf[n++] = c;
        j++;
    }
    j = end + 1;
    push_tok(p, (token){TK_STR, start, j - start, buf, n});
    *i = j;
    return true;
}

static bool lex_number(parser *p, size_t *i)
{
    const char *s = p->text;
    size_t j = *i;
    bool is_float = false;
    while (is_digit((unsigned char)s[j]))
        j++;
    if (s[j] == '.' && !is_ident_start((unsigned char)s[j + 1])) {
        is_float = true;
        j++;
        while (is_digit((unsigned char)s[j]))
            j++;
    }
    if (s[j] == 'e' || s[j] == 'E') {
        size_t e = j + 1;
        if (s[e] == '+' || s[e] == '-')
            e++;
        if (!is_digit((unsigned char)s[e])) {
            fail(p, *i, "invalid JUEL: malformed number");
            return false;
        }
        while (is_digit((unsigned char)s[e]))
            e++;
        j = e;
        is_float = true;
    }
    if (is_ident_char((unsigned char)s[j]) || s[j] == '.') {
        fail(p, *i, "invalid JUEL: malformed number");
        return false;
    }
    push_tok(p, (token){is_float ? TK_FLOAT : TK_INT, *i, j - *i, NULL, 0});
    *i = j;
    return true;
}

/* Tokenizes from *i (just after "${") through the closing "}". */
static bool lex_expr(parser *p, size_t *i, size_t open_pos)
{
    static const char *const ops2[] = {"==", "!=", "<=", ">=", "&&", "||", "+=", "->"};
    const char *s = p->text;
    p->n_toks = 0;
    size_t j = *i;
    for (;;) {
        unsigned char c = (unsigned char)s[j];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            j++;
            continue;
        }
        if (c == '\0') {
            fail(p, open_pos, "invalid JUEL: missing \"}\" to close \"%.2s\"", s + open_pos);
            return false;
        }
        if (c == '}') {
            push_tok(p, (token){TK_END, j, 1, NULL, 0});
            *i = j + 1;
            return true;
        }
        if (c == '\'' || c == '"') {
            if (!lex_string(p, &j))
                return false;
            continue;
        }
        if (is_digit(c) || (c == '.' && is_digit((unsigned char)s[j + 1]))) {
            if (!lex_number(p, &j))
                return false;
            continue;
        }
        if (is_ident_start(c)) {
            size_t e = j;
            while (is_ident_char((unsigned char)s[e]))
                e++;
            push_tok(p, (token){TK_NAME, j, e - j, NULL, 0});
            j = e;
            continue;
        }
        size_t len = 1;
        for (size_t k = 0; k < sizeof ops2 / sizeof ops2[0]; k++)
            if (s[j] == ops2[k][0] && s[j + 1] == ops2[k][1])
                len = 2;
        if (len == 1 && !strchr("<>!+-*/%?:.[](),=;{&|", c)) {
            fail(p, j, "invalid JUEL: unexpected character \"%.1s\"",
                 c >= 0x20 && c < 0x7f ? s + j : "?");
            return false;
        }
        push_tok(p, (token){TK_OP, j, len, NULL, 0});
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
    return t->kind == kind && t->len == n && memcmp(p->text + t->pos, text, n) == 0;
}
static bool is_op(parser *p, const char *op)
{
    return tok_is(p, cur(p), TK_OP, op);
}
static bool is_kw(parser *p, const char *kw)
{
    return tok_is(p, cur(p), TK_NAME, kw);
}

static bool is_reserved(const parser *p, const token *t)
{
    static const char *const words[] = {"and",        "or",    "not", "eq",   "ne",    "lt",
                                        "gt",         "le",    "ge",  "true", "false", "null",
                                        "instanceof", "empty", "div", "mod"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (tok_is(p, t, TK_NAME, words[i]))
            return true;
    return false;
}

/* The token as quoted in an error message. */
static void describe(const parser *p, const token *t, char *out, size_t cap)
{
    if (t->kind == TK_END)
        snprintf(out, cap, "\"}\"");
    else if (t->kind == TK_EOF)
        snprintf(out, cap, "end of text");
    else if (t->kind == TK_STR)
        snprintf(out, cap, "a string");
    else {
        char ex[48];
        bpm_dialect_excerpt(p->text + t->pos, t->len, ex, sizeof ex);
        snprintf(out, cap, "\"%s\"", ex);
    }
}

static bool is_refused_op(const parser *p, const token *t)
{
    static const char *const ops[] = {"=", "+=", "->", ";", "{"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (tok_is(p, t, TK_OP, ops[i]))
            return true;
    return tok_is(p, t, TK_NAME, "instanceof");
}

/* Names the token for "unexpected ..." and refuses EL 3.0 operators by name. */
static node *unexpected(parser *p)
{
    token *t = cur(p);
    if (t->kind == TK_OP) {
        if (tok_is(p, t, TK_OP, "="))
            return fail(p, t->pos,
                        "unsupported JUEL: assignment \"=\" (expressions cannot set variables)");
        if (tok_is(p, t, TK_OP, "+="))
            return fail(p, t->pos, "unsupported JUEL: string concatenation \"+=\" (EL 3.0)");
        if (tok_is(p, t, TK_OP, "->"))
            return fail(p, t->pos, "unsupported JUEL: lambda expression \"->\" (EL 3.0)");
        if (tok_is(p, t, TK_OP, ";"))
            return fail(p, t->pos, "unsupported JUEL: statement separator \";\" (EL 3.0)");
        if (tok_is(p, t, TK_OP, "{"))
            return fail(p, t->pos, "unsupported JUEL: set or map literal (EL 3.0)");
    }
    if (tok_is(p, t, TK_NAME, "instanceof"))
        return fail(p, t->pos, "unsupported JUEL: \"instanceof\"");
    char d[64];
    describe(p, t, d, sizeof d);
    return fail(p, t->pos, "invalid JUEL: unexpected %s", d);
}

static bool expect_op(parser *p, const char *op)
{
    if (is_op(p, op)) {
        p->k++;
        return true;
    }
    token *t = cur(p);
    if (is_refused_op(p, t)) {
        unexpected(p);
        return false;
    }
    char d[64];
    describe(p, t, d, sizeof d);
    fail(p, t->pos, "invalid JUEL: expected \"%s\" but found %s", op, d);
    return false;
}

static node *mk(parser *p, node_kind kind, size_t pos, size_t n_kids)
{
    node *n = bpm_arena_alloc(p->tmp, sizeof *n);
    n->kind = kind;
    n->pos = pos;
    n->depth = 1;
    if (n_kids) {
        n->kids = bpm_arena_calloc(p->tmp, n_kids, sizeof(node *));
        n->n_kids = n_kids;
    }
    return n;
}

/* Depth counts every level of the tree, so operand chains count too; this
 * bounds both the emitter's recursion and the Lua it writes. */
static node *seal(parser *p, node *n)
{
    for (size_t i = 0; i < n->n_kids; i++)
        if (n->kids[i]->depth + 1 > n->depth)
            n->depth = n->kids[i]->depth + 1;
    if (n->depth > BPM_DIALECT_MAX_DEPTH)
        return fail(p, n->pos, "invalid JUEL: expression nested too deeply (more than %d levels)",
                    BPM_DIALECT_MAX_DEPTH);
    return n;
}

static node *mk2(parser *p, node_kind kind, size_t pos, node *a, node *b)
{
    node *n = mk(p, kind, pos, 2);
    n->kids[0] = a;
    n->kids[1] = b;
    return seal(p, n);
}

static node *mk1(parser *p, node_kind kind, size_t pos, node *a)
{
    node *n = mk(p, kind, pos, 1);
    n->kids[0] = a;
    return seal(p, n);
}

static node *parse_expr(parser *p);

/* Arguments after "(": fills *args; the caller has consumed "(". */
static bool parse_args(parser *p, node ***args, size_t *n_args)
{
    node **v = NULL;
    size_t n = 0, cap = 0;
    if (!is_op(p, ")")) {
        for (;;) {
            node *a = parse_expr(p);
            if (!a)
                return false;
            if (n == cap) {
                size_t c2 = cap ? cap * 2 : 4;
                v = bpm_arena_grow(p->tmp, v, n, c2, sizeof *v);
                cap = c2;
            }
            v[n++] = a;
            if (!is_op(p, ","))
                break;
            p->k++;
        }
    }
    if (!expect_op(p, ")"))
        return false;
    *args = v;
    *n_args = n;
    return true;
}

static node *method_refused(parser *p, size_t start)
{
    size_t end = p->toks[p->k - 1].pos + p->toks[p->k - 1].len;
    char ex[64];
    bpm_dialect_excerpt(p->text + start, end - start, ex, sizeof ex);
    return fail(p, start, "unsupported JUEL: method call \"%s\" %s", ex, BEAN_HINT);
}

/* Java String, List and Map methods with a direct meaning on JSON data. */
static bool known_method(const char *s, size_t n, size_t n_args)
{
    static const struct {
        const char *name;
        size_t n_args;
    } methods[] = {
        {"size", 0},        {"isEmpty", 0},  {"length", 0},   {"toUpperCase", 0},
        {"toLowerCase", 0}, {"trim", 0},     {"toString", 0}, {"contains", 1},
        {"containsKey", 1}, {"get", 1},      {"equals", 1},   {"equalsIgnoreCase", 1},
        {"startsWith", 1},  {"endsWith", 1},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strlen(methods[i].name) == n && memcmp(methods[i].name, s, n) == 0)
            return methods[i].n_args == n_args;
    return false;
}

/* execution.<member>: the parts of DelegateExecution with a meaning here. */
static node *parse_execution(parser *p, size_t start)
{
    static const struct {
        const char *java;
        const char *field;
    } props[] = {
        {"processBusinessKey", "businessKey"}, {"businessKey", "businessKey"},
        {"processInstanceId", "instanceId"},   {"currentActivityId", "elementId"},
        {"activityId", "elementId"},           {"getProcessBusinessKey", "businessKey"},
        {"getBusinessKey", "businessKey"},     {"getProcessInstanceId", "instanceId"},
        {"getCurrentActivityId", "elementId"},
    };
    if (!is_op(p, ".") || peek(p, 1)->kind != TK_NAME)
        return fail(p, start,
                    "unsupported JUEL: \"execution\" is usable only as "
                    "execution.getVariable('name') or execution.processBusinessKey");
    p->k++;
    token *m = cur(p);
    const char *ms = p->text + m->pos;
    size_t mn = m->len;
    p->k++;
    bool call = is_op(p, "(");
    node **args = NULL;
    size_t n_args = 0;
    if (call) {
        p->k++;
        if (!parse_args(p, &args, &n_args))
            return NULL;
    }
    if (call && n_args == 1 &&
        ((mn == 11 && !memcmp(ms, "getVariable", 11)) ||
         (mn == 16 && !memcmp(ms, "getVariableLocal", 16))))
        return mk1(p, N_GETVAR, start, args[0]);
    if (call && n_args == 1 &&
        ((mn == 11 && !memcmp(ms, "hasVariable", 11)) ||
         (mn == 16 && !memcmp(ms, "hasVariableLocal", 16))))
        return mk1(p, N_HASVAR, start, args[0]);
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        bool is_getter = !memcmp(props[i].java, "get", 3);
        if (strlen(props[i].java) == mn && !memcmp(props[i].java, ms, mn) &&
            (is_getter ? call && n_args == 0 : !call)) {
            node *n = mk(p, N_EXEC, start, 0);
            n->name = props[i].field;
            n->nlen = strlen(props[i].field);
            return n;
        }
    }
    if (call)
        return method_refused(p, start);
    return fail(p, m->pos, "unsupported JUEL: execution property \"%.*s\"",
                (int)(mn > 40 ? 40 : mn), ms);
}

static node *parse_primary(parser *p)
{
    token *t = cur(p);
    size_t pos = t->pos;
    switch (t->kind) {
    case TK_INT:
    case TK_FLOAT: {
        node *n = mk(p, t->kind == TK_INT ? N_INT : N_FLOAT, pos, 0);
        n->str = p->text + t->pos;
        n->slen = t->len;
        p->k++;
        return n;
    }
    case TK_STR: {
        node *n = mk(p, N_STR, pos, 0);
        n->str = t->str;
        n->slen = t->slen;
        p->k++;
        return n;
    }
    case TK_OP:
        if (is_op(p, "(")) {
            p->k++;
            node *e = parse_expr(p);
            if (!e || !expect_op(p, ")"))
                return NULL;
            return e;
        }
        if (is_op(p, "["))
            return fail(p, pos, "unsupported JUEL: list literal (EL 3.0)");
        return unexpected(p);
    case TK_NAME:
        break;
    default:
        return unexpected(p);
    }
    if (is_kw(p, "true") || is_kw(p, "false") || is_kw(p, "null")) {
        node_kind k = is_kw(p, "true") ? N_TRUE : is_kw(p, "false") ? N_FALSE : N_NULL;
        p->k++;
        return mk(p, k, pos, 0);
    }
    if (is_reserved(p, t))
        return unexpected(p);
    const char *name = p->text + t->pos;
    size_t len = t->len;
    /* ns:fn(...) is an EL function; x:y alone belongs to a ?: */
    if (tok_is(p, peek(p, 1), TK_OP, ":") && peek(p, 2)->kind == TK_NAME &&
        !is_reserved(p, peek(p, 2)) && tok_is(p, peek(p, 3), TK_OP, "(")) {
        token *f = peek(p, 2);
        return fail(
            p, pos, "unsupported JUEL: function \"%.*s:%.*s\" (EL functions need a Java runtime)",
            (int)(len > 40 ? 40 : len), name, (int)(f->len > 40 ? 40 : f->len), p->text + f->pos);
    }
    p->k++;
    if (is_op(p, "(")) {
        p->k++;
        node **args;
        size_t n_args;
        if (!parse_args(p, &args, &n_args))
            return NULL;
        if (n_args == 0 &&
            ((len == 3 && !memcmp(name, "now", 3)) || (len == 8 && !memcmp(name, "dateTime", 8))))
            return mk(p, N_NOW, pos, 0);
        return fail(
            p, pos,
            "unsupported JUEL: function \"%.*s()\" (only now() and dateTime() are built in)",
            (int)(len > 40 ? 40 : len), name);
    }
    if (len == 9 && !memcmp(name, "execution", 9))
        return parse_execution(p, pos);
    node *n = mk(p, N_VAR, pos, 0);
    n->name = name;
    n->nlen = len;
    return n;
}

/* primary, then .name, [expr] and .method(args) */
static node *parse_value(parser *p)
{
    size_t start = cur(p)->pos;
    node *v = parse_primary(p);
    while (v) {
        if (is_op(p, ".")) {
            p->k++;
            token *t = cur(p);
            if (t->kind != TK_NAME || is_reserved(p, t)) {
                if (t->kind == TK_NAME)
                    return fail(p, t->pos,
                                "invalid JUEL: \"%.*s\" is reserved and cannot name a property",
                                (int)t->len, p->text + t->pos);
                return unexpected(p);
            }
            p->k++;
            if (is_op(p, "(")) {
                p->k++;
                node **args;
                size_t n_args;
                if (!parse_args(p, &args, &n_args))
                    return NULL;
                if (!known_method(p->text + t->pos, t->len, n_args))
                    return method_refused(p, start);
                node *m = mk(p, N_METHOD, t->pos, n_args + 1);
                m->name = p->text + t->pos;
                m->nlen = t->len;
                m->kids[0] = v;
                for (size_t i = 0; i < n_args; i++)
                    m->kids[i + 1] = args[i];
                v = seal(p, m);
                continue;
            }
            node *key = mk(p, N_STR, t->pos, 0);
            key->str = p->text + t->pos;
            key->slen = t->len;
            v = mk2(p, N_GET, t->pos, v, key);
        } else if (is_op(p, "[")) {
            size_t pos = cur(p)->pos;
            p->k++;
            node *key = parse_expr(p);
            if (!key || !expect_op(p, "]"))
                return NULL;
            if (is_op(p, "(")) {
                p->k++;
                node **args;
                size_t n_args;
                if (!parse_args(p, &args, &n_args))
                    return NULL;
                return method_refused(p, start);
            }
            v = mk2(p, N_GET, pos, v, key);
        } else if (is_op(p, "(")) {
            return fail(p, cur(p)->pos, "unsupported JUEL: calling the result of an expression");
        } else {
            break;
        }
    }
    return v;
}

static bool enter(parser *p)
{
    if (++p->rec <= BPM_DIALECT_MAX_DEPTH)
        return true;
    fail(p, cur(p)->pos, "invalid JUEL: expression nested too deeply (more than %d levels)",
         BPM_DIALECT_MAX_DEPTH);
    return false;
}

static node *parse_unary(parser *p)
{
    size_t pos = cur(p)->pos;
    node_kind k;
    if (is_op(p, "-"))
        k = N_NEG;
    else if (is_op(p, "!") || is_kw(p, "not"))
        k = N_NOT;
    else if (is_kw(p, "empty"))
        k = N_EMPTY;
    else
        return parse_value(p);
    if (!enter(p))
        return NULL;
    p->k++;
    node *a = parse_unary(p);
    p->rec--;
    return a ? mk1(p, k, pos, a) : NULL;
}

typedef struct binop {
    const char *op;     /* punctuation spelling, or NULL */
    const char *word;   /* keyword spelling, or NULL */
    const char *helper; /* __dx function */
} binop;

static const binop *match_binop(parser *p, const binop *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((ops[i].op && is_op(p, ops[i].op)) || (ops[i].word && is_kw(p, ops[i].word)))
            return &ops[i];
    return NULL;
}

static const binop MUL_OPS[] = {{"*", NULL, "jmul"}, {"/", "div", "jdiv"}, {"%", "mod", "jmod"}};
static const binop ADD_OPS[] = {{"+", NULL, "jadd"}, {"-", NULL, "jsub"}};
static const binop REL_OPS[] = {
    {"<", "lt", "jlt"}, {">", "gt", "jgt"}, {"<=", "le", "jle"}, {">=", "ge", "jge"}};
static const binop EQ_OPS[] = {{"==", "eq", "jeq"}, {"!=", "ne", "jne"}};

/* Left-associative levels, loosest first: eq, rel, add, mul. */
static node *parse_binary(parser *p, int level)
{
    static const struct {
        const binop *ops;
        size_t n;
        bool boolean;
    } levels[] = {
        {EQ_OPS, 2, true},
        {REL_OPS, 4, true},
        {ADD_OPS, 2, false},
        {MUL_OPS, 3, false},
    };
    node *l = level == 3 ? parse_unary(p) : parse_binary(p, level + 1);
    while (l) {
        if (level == 1 && is_kw(p, "instanceof"))
            return unexpected(p);
        const binop *op = match_binop(p, levels[level].ops, levels[level].n);
        if (!op)
            break;
        size_t pos = cur(p)->pos;
        p->k++;
        node *r = level == 3 ? parse_unary(p) : parse_binary(p, level + 1);
        if (!r)
            return NULL;
        l = mk2(p, N_BIN, pos, l, r);
        if (l) {
            l->name = op->helper;
            l->boolean = levels[level].boolean;
        }
    }
    return l;
}

/* n-ary && / || so long chains stay flat. */
static node *parse_logic(parser *p, bool is_or)
{
    const char *op = is_or ? "||" : "&&";
    const char *word = is_or ? "or" : "and";
    node *first = is_or ? parse_logic(p, false) : parse_binary(p, 0);
    if (!first || !(is_op(p, op) || is_kw(p, word)))
        return first;
    node **v = NULL;
    size_t n = 0, cap = 0;
    node *cur_node = first;
    for (;;) {
        if (n == cap) {
            size_t c2 = cap ? cap * 2 : 4;
            v = bpm_arena_grow(p->tmp, v, n, c2, sizeof *v);
            cap = c2;
        }
        v[n++] = cur_node;
        if (!(is_op(p, op) || is_kw(p, word)))
            break;
        p->k++;
        cur_node = is_or ? parse_logic(p, false) : parse_binary(p, 0);
        if (!cur_node)
            return NULL;
    }
    node *r = mk(p, is_or ? N_OR : N_AND, first->pos, 0);
    r->kids = v;
    r->n_kids = n;
    return seal(p, r);
}

static node *parse_expr(parser *p)
{
    if (!enter(p))
        return NULL;
    node *c = parse_logic(p, true);
    if (c && is_op(p, "?")) {
        size_t pos = cur(p)->pos;
        p->k++;
        node *a = parse_expr(p);
        if (!a || !expect_op(p, ":")) {
            p->rec--;
            return NULL;
        }
        node *b = parse_expr(p);
        if (!b) {
            p->rec--;
            return NULL;
        }
        node *n = mk(p, N_COND, pos, 3);
        n->kids[0] = c;
        n->kids[1] = a;
        n->kids[2] = b;
        c = seal(p, n);
    }
    p->rec--;
    return c;
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

static bool is_boolean(const node *n)
{
    switch (n->kind) {
    case N_TRUE:
    case N_FALSE:
    case N_AND:
    case N_OR:
    case N_NOT:
    case N_EMPTY:
    case N_HASVAR:
        return true;
    case N_BIN:
        return n->boolean; /* comparisons */
    default:
        return false;
    }
}

static void emit(parser *p, const node *n, int level, int reg);

static void emit_call(parser *p, const node *n, const char *helper, int level, int reg)
{
    put(p, "__dx.");
    put(p, helper);
    put(p, "(");
    for (size_t i = 0; i < n->n_kids; i++) {
        if (i)
            put(p, ", ");
        emit(p, n->kids[i], level + 1, reg + 1 + (int)i);
    }
    put(p, ")");
    mark(p, n, level, reg + 1 + (int)n->n_kids);
}

/* An operand of &&, ||, ! or ?: as a Lua boolean (EL 1.18.5). */
static void emit_bool(parser *p, const node *n, int level, int reg)
{
    if (is_boolean(n)) {
        emit(p, n, level, reg);
        return;
    }
    put(p, "__dx.jbool(");
    emit(p, n, level + 1, reg + 1);
    put(p, ")");
    mark(p, n, level, reg + 2);
}

static void emit_logic(parser *p, const node *n, int level, int reg)
{
    const char *op = n->kind == N_AND ? " and " : " or ";
    for (size_t i = 0; i < n->n_kids; i++) {
        const node *k = n->kids[i];
        int kl = i ? level + 1 : level;
        if (i)
            put(p, op);
        if ((k->kind == N_AND || k->kind == N_OR) && k->kind != n->kind) {
            put(p, "(");
            emit(p, k, kl + 1, reg + 1);
            put(p, ")");
        } else {
            emit_bool(p, k, kl, reg + 1);
        }
    }
    mark(p, n, level, reg + 1);
}

static void emit_var_name(parser *p, const node *arg, int level, int reg)
{
    if (arg->kind == N_STR) {
        bpm_dialect_buf_var(&p->out, arg->str, arg->slen);
        mark(p, arg, level, reg + 2);
        return;
    }
    put(p, "vars[__dx.jstr(");
    emit(p, arg, level + 2, reg + 3);
    put(p, ")]");
    mark(p, arg, level + 1, reg + 3);
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
    case N_VAR:
        /* an identifier that names no variable fails, as in Camunda */
        put(p, "__dx.jvar(");
        bpm_dialect_buf_var(&p->out, n->name, n->nlen);
        put(p, ", ");
        bpm_dialect_buf_quote(&p->out, n->name, n->nlen);
        put(p, ")");
        mark(p, n, level + 1, reg + 3);
        return;
    case N_EXEC:
        put(p, "execution.");
        bpm_dialect_buf_putn(&p->out, n->name, n->nlen);
        return;
    case N_NOW:
        put(p, "__dx.jnow(execution)");
        mark(p, n, level + 1, reg + 2);
        return;
    case N_GETVAR:
        emit_var_name(p, n->kids[0], level, reg);
        return;
    case N_HASVAR:
        put(p, "(");
        emit_var_name(p, n->kids[0], level + 1, reg);
        put(p, " ~= nil)");
        mark(p, n, level + 2, reg + 2);
        return;
    case N_GET:
        emit_call(p, n, "jget", level, reg);
        return;
    case N_METHOD:
        put(p, "__dx.jcall(");
        emit(p, n->kids[0], level + 1, reg + 1);
        put(p, ", ");
        bpm_dialect_buf_quote(&p->out, n->name, n->nlen);
        for (size_t i = 1; i < n->n_kids; i++) {
            put(p, ", ");
            emit(p, n->kids[i], level + 1, reg + 2 + (int)i);
        }
        put(p, ")");
        mark(p, n, level, reg + 2 + (int)n->n_kids);
        return;
    case N_BIN:
        emit_call(p, n, n->name, level, reg);
        return;
    case N_NEG:
        if (n->kids[0]->kind == N_INT || n->kids[0]->kind == N_FLOAT) {
            put(p, "-");
            emit(p, n->kids[0], level + 1, reg);
            return;
        }
        emit_call(p, n, "jneg", level, reg);
        return;
    case N_EMPTY:
        emit_call(p, n, "jempty", level, reg);
        return;
    case N_NOT: {
        const node *k = n->kids[0];
        put(p, "not ");
        if (k->kind == N_AND || k->kind == N_OR) {
            put(p, "(");
            emit(p, k, level + 2, reg);
            put(p, ")");
        } else {
            emit_bool(p, k, level + 1, reg);
        }
        return;
    }
    case N_AND:
    case N_OR:
        emit_logic(p, n, level, reg);
        return;
    case N_COND:
        /* (c and {a} or {b})[1] keeps a false or nil branch value and
         * evaluates only the branch taken. */
        put(p, "(");
        if (n->kids[0]->kind == N_AND || n->kids[0]->kind == N_OR) {
            put(p, "(");
            emit(p, n->kids[0], level + 2, reg + 1);
            put(p, ")");
        } else {
            emit_bool(p, n->kids[0], level + 1, reg + 1);
        }
        put(p, " and {");
        emit(p, n->kids[1], level + 3, reg + 2);
        put(p, "} or {");
        emit(p, n->kids[2], level + 3, reg + 2);
        put(p, "})[1]");
        return;
    }
}

/* ---- composite text ------------------------------------------------------------ */

static bool add_part(parser *p, part **parts, size_t *n, size_t *cap, part pt)
{
    if (*n == *cap) {
        size_t c2 = *cap ? *cap * 2 : 8;
        *parts = bpm_arena_grow(p->tmp, *parts, *n, c2, sizeof(part));
        *cap = c2;
    }
    (*parts)[(*n)++] = pt;
    return true;
}

/* Splits text into literal runs and ${ } / #{ } expressions. "\${" and
 * "\#{" stand for the delimiters themselves. */
static bool split(parser *p, part **out, size_t *n_out)
{
    const char *s = p->text;
    part *parts = NULL;
    size_t n = 0, cap = 0;
    char *lit = bpm_arena_alloc(p->tmp, p->text_len + 1);
    size_t lit_len = 0;
    size_t i = 0;
    while (s[i]) {
        if (s[i] == '\\' && (s[i + 1] == '$' || s[i + 1] == '#') && s[i + 2] == '{') {
            lit[lit_len++] = s[i + 1];
            lit[lit_len++] = '{';
            i += 3;
            continue;
        }
        if ((s[i] == '$' || s[i] == '#') && s[i + 1] == '{') {
            if (lit_len) {
                add_part(p, &parts, &n, &cap, (part){lit, lit_len, NULL});
                lit += lit_len;
                lit_len = 0;
            }
            size_t open = i;
            i += 2;
            if (!lex_expr(p, &i, open))
                return false;
            p->k = 0;
            if (cur(p)->kind == TK_END) {
                fail(p, open, "invalid JUEL: empty expression");
                return false;
            }
            p->rec = 0;
            node *e = parse_expr(p);
            if (!e)
                return false;
            if (cur(p)->kind != TK_END) {
                unexpected(p);
                return false;
            }
            add_part(p, &parts, &n, &cap, (part){NULL, 0, e});
            continue;
        }
        lit[lit_len++] = s[i++];
    }
    if (lit_len || n == 0)
        add_part(p, &parts, &n, &cap, (part){lit, lit_len, NULL});
    *out = parts;
    *n_out = n;
    return true;
}

static void emit_part(parser *p, const part *pt, int level, int reg)
{
    if (!pt->expr) {
        bpm_dialect_buf_quote(&p->out, pt->lit, pt->lit_len);
        mark(p, NULL, level, reg + 1);
        return;
    }
    if (pt->expr->kind == N_STR) {
        emit(p, pt->expr, level, reg);
        return;
    }
    /* EL 1.18.2: each value of a composite expression is coerced to text */
    put(p, "__dx.jstr(");
    emit(p, pt->expr, level + 1, reg + 1);
    put(p, ")");
    mark(p, pt->expr, level, reg + 2);
}

/* Composites of up to this many parts use "..", longer ones table.concat:
 * ".." is right-associative and costs Lua a parser level per operand. */
#define MAX_DOT_PARTS 4

bpm_rc bpm_juel_translate(const char *text, bpm_arena *a, const char **lua_out, bpm_err *err)
{
    size_t len = strlen(text);
    if (len > BPM_DIALECT_MAX_TEXT)
        return bpm_err_set(err, BPM_INVALID, "JUEL expression too long (%zu bytes, limit %d)", len,
                           BPM_DIALECT_MAX_TEXT);
    parser p = {.text = text, .text_len = len, .err = err, .tmp = bpm_arena_new()};
    bpm_rc rc = BPM_INVALID;
    part *parts;
    size_t n_parts;
    if (!split(&p, &parts, &n_parts))
        goto done;
    bpm_dialect_buf_init(&p.out, p.tmp);
    put(&p, "return ");
    const int level = 2; /* statement, then the return's expression */
    if (n_parts == 1 && parts[0].expr) {
        emit(&p, parts[0].expr, level, 0);
    } else if (n_parts <= MAX_DOT_PARTS) {
        for (size_t i = 0; i < n_parts; i++) {
            if (i)
                put(&p, " .. ");
            emit_part(&p, &parts[i], level + (int)i, (int)i);
        }
    } else {
        put(&p, "table.concat({");
        for (size_t i = 0; i < n_parts; i++) {
            if (i)
                put(&p, ", ");
            emit_part(&p, &parts[i], level + 2, 2 + (int)(i % 50));
        }
        put(&p, "})");
    }
    if (p.over_budget) {
        fail(&p, p.budget_pos,
             "invalid JUEL: expression too complex to compile (nested too deeply)");
        goto done;
    }
    *lua_out = bpm_arena_strndup(a, p.out.ptr, p.out.len);
    rc = BPM_OK;
done:
    bpm_arena_free(p.tmp);
    return rc;
}
