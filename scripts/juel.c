/* Camunda 7 JUEL (EL 2.2) to Lua: tokenizer, recursive-descent parser to a
 * small AST, and an emitter whose operators call the __dx.j* helpers. The
 * translation state, errors and tokens are dialect_lex.c's (dialect.h). */
#include "dialect.h"

#include <stdbool.h>
#include <string.h>

/* ---- syntax tree ------------------------------------------------------------ */

typedef enum node_kind {
    N_LIT,    /* lit, str */
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
    bpm_dialect_lit lit; /* N_LIT */
    const char *str;     /* N_LIT: as bpm_dialect_tok.str */
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

/* JUEL needs no state of its own; the tokens are those of the current ${ }. */
typedef bpm_dialect_ctx parser;

static const char BEAN_HINT[] =
    "(bean calls need a Java runtime; use a Lua script or an external task)";

/* ---- tokenizer -------------------------------------------------------------- */

static bool lex_number(parser *p, size_t *i)
{
    const char *s = p->text;
    size_t j = *i;
    bool is_float = false;
    while (bpm_dialect_is_digit((unsigned char)s[j]))
        j++;
    if (s[j] == '.' && !bpm_dialect_is_name_start((unsigned char)s[j + 1])) {
        is_float = true;
        j++;
        while (bpm_dialect_is_digit((unsigned char)s[j]))
            j++;
    }
    if (s[j] == 'e' || s[j] == 'E') {
        size_t e = j + 1;
        if (s[e] == '+' || s[e] == '-')
            e++;
        if (!bpm_dialect_is_digit((unsigned char)s[e])) {
            bpm_dialect_fail(p, *i, "invalid JUEL: malformed number");
            return false;
        }
        while (bpm_dialect_is_digit((unsigned char)s[e]))
            e++;
        j = e;
        is_float = true;
    }
    if (bpm_dialect_is_name_char((unsigned char)s[j]) || s[j] == '.') {
        bpm_dialect_fail(p, *i, "invalid JUEL: malformed number");
        return false;
    }
    bpm_dialect_tok t = {.kind = is_float ? BPM_DIALECT_TK_FLOAT : BPM_DIALECT_TK_INT,
                         .pos = *i,
                         .len = j - *i,
                         .str = s + *i,
                         .slen = j - *i};
    bpm_dialect_push(p, t);
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
            bpm_dialect_fail(p, open_pos, "invalid JUEL: missing \"}\" to close \"%.2s\"",
                             s + open_pos);
            return false;
        }
        if (c == '}') {
            bpm_dialect_push(
                p, (bpm_dialect_tok){
                       .kind = BPM_DIALECT_TK_END, .pos = j, .len = 1, .str = s + j, .slen = 1});
            *i = j + 1;
            return true;
        }
        bool ok = true;
        if (c == '\'' || c == '"') /* EL: \\, \' and \" only; other backslashes stay */
            ok = bpm_dialect_lex_string(p, &j, "\\'\"", "\\'\"", false);
        else if (bpm_dialect_is_digit(c) ||
                 (c == '.' && bpm_dialect_is_digit((unsigned char)s[j + 1])))
            ok = lex_number(p, &j);
        else if (bpm_dialect_is_name_start(c))
            bpm_dialect_lex_name(p, &j);
        else
            ok = bpm_dialect_lex_op(p, &j, ops2, sizeof ops2 / sizeof ops2[0],
                                    "<>!+-*/%?:.[](),=;{&|");
        if (!ok)
            return false;
    }
}

/* ---- parser ----------------------------------------------------------------- */

static bool is_reserved(const bpm_dialect_tok *t)
{
    static const char *const words[] = {"and",        "or",    "not", "eq",   "ne",    "lt",
                                        "gt",         "le",    "ge",  "true", "false", "null",
                                        "instanceof", "empty", "div", "mod"};
    return bpm_dialect_tok_in(t, BPM_DIALECT_TK_NAME, words, sizeof words / sizeof words[0]);
}

static bool is_refused_op(const bpm_dialect_tok *t)
{
    static const char *const ops[] = {"=", "+=", "->", ";", "{"};
    return bpm_dialect_tok_in(t, BPM_DIALECT_TK_OP, ops, sizeof ops / sizeof ops[0]) ||
           bpm_dialect_tok_is(t, BPM_DIALECT_TK_NAME, "instanceof");
}

/* Names the token for "unexpected ..." and refuses EL 3.0 operators by name. */
static node *unexpected(parser *p)
{
    bpm_dialect_tok *t = bpm_dialect_cur(p);
    if (t->kind == BPM_DIALECT_TK_OP) {
        if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_OP, "="))
            return bpm_dialect_fail(
                p, t->pos, "unsupported JUEL: assignment \"=\" (expressions cannot set variables)");
        if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_OP, "+="))
            return bpm_dialect_fail(p, t->pos,
                                    "unsupported JUEL: string concatenation \"+=\" (EL 3.0)");
        if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_OP, "->"))
            return bpm_dialect_fail(p, t->pos,
                                    "unsupported JUEL: lambda expression \"->\" (EL 3.0)");
        if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_OP, ";"))
            return bpm_dialect_fail(p, t->pos,
                                    "unsupported JUEL: statement separator \";\" (EL 3.0)");
        if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_OP, "{"))
            return bpm_dialect_fail(p, t->pos, "unsupported JUEL: set or map literal (EL 3.0)");
    }
    if (bpm_dialect_tok_is(t, BPM_DIALECT_TK_NAME, "instanceof"))
        return bpm_dialect_fail(p, t->pos, "unsupported JUEL: \"instanceof\"");
    return bpm_dialect_unexpected(p);
}

static bool expect_op(parser *p, const char *op)
{
    if (!bpm_dialect_is_op(p, op) && is_refused_op(bpm_dialect_cur(p))) {
        unexpected(p);
        return false;
    }
    return bpm_dialect_expect(p, BPM_DIALECT_TK_OP, op);
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
        return bpm_dialect_too_deep(p, n->pos);
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
    if (!bpm_dialect_is_op(p, ")")) {
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
            if (!bpm_dialect_is_op(p, ","))
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
    return bpm_dialect_fail(p, start, "unsupported JUEL: method call \"%s\" %s", ex, BEAN_HINT);
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
    if (!bpm_dialect_is_op(p, ".") || bpm_dialect_peek(p, 1)->kind != BPM_DIALECT_TK_NAME)
        return bpm_dialect_fail(p, start,
                                "unsupported JUEL: \"execution\" is usable only as "
                                "execution.getVariable('name') or execution.processBusinessKey");
    p->k++;
    bpm_dialect_tok *m = bpm_dialect_cur(p);
    const char *ms = p->text + m->pos;
    size_t mn = m->len;
    p->k++;
    bool call = bpm_dialect_is_op(p, "(");
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
    return bpm_dialect_fail(p, m->pos, "unsupported JUEL: execution property \"%.*s\"",
                            (int)(mn > 40 ? 40 : mn), ms);
}

static node *parse_primary(parser *p)
{
    bpm_dialect_tok *t = bpm_dialect_cur(p);
    size_t pos = t->pos;
    bpm_dialect_lit lit;
    if (bpm_dialect_literal(t, &lit)) {
        node *n = mk(p, N_LIT, pos, 0);
        n->lit = lit;
        n->str = t->str;
        n->slen = t->slen;
        p->k++;
        return n;
    }
    switch (t->kind) {
    case BPM_DIALECT_TK_OP:
        if (bpm_dialect_is_op(p, "(")) {
            p->k++;
            node *e = parse_expr(p);
            if (!e || !expect_op(p, ")"))
                return NULL;
            return e;
        }
        if (bpm_dialect_is_op(p, "["))
            return bpm_dialect_fail(p, pos, "unsupported JUEL: list literal (EL 3.0)");
        return unexpected(p);
    case BPM_DIALECT_TK_NAME:
        break;
    default:
        return unexpected(p);
    }
    if (is_reserved(t))
        return unexpected(p);
    const char *name = p->text + t->pos;
    size_t len = t->len;
    /* ns:fn(...) is an EL function; x:y alone belongs to a ?: */
    if (bpm_dialect_tok_is(bpm_dialect_peek(p, 1), BPM_DIALECT_TK_OP, ":") &&
        bpm_dialect_peek(p, 2)->kind == BPM_DIALECT_TK_NAME &&
        !is_reserved(bpm_dialect_peek(p, 2)) &&
        bpm_dialect_tok_is(bpm_dialect_peek(p, 3), BPM_DIALECT_TK_OP, "(")) {
        bpm_dialect_tok *f = bpm_dialect_peek(p, 2);
        return bpm_dialect_fail(
            p, pos, "unsupported JUEL: function \"%.*s:%.*s\" (EL functions need a Java runtime)",
            (int)(len > 40 ? 40 : len), name, (int)(f->len > 40 ? 40 : f->len), p->text + f->pos);
    }
    p->k++;
    if (bpm_dialect_is_op(p, "(")) {
        p->k++;
        node **args;
        size_t n_args;
        if (!parse_args(p, &args, &n_args))
            return NULL;
        if (n_args == 0 &&
            ((len == 3 && !memcmp(name, "now", 3)) || (len == 8 && !memcmp(name, "dateTime", 8))))
            return mk(p, N_NOW, pos, 0);
        return bpm_dialect_fail(
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
    size_t start = bpm_dialect_cur(p)->pos;
    node *v = parse_primary(p);
    while (v) {
        if (bpm_dialect_is_op(p, ".")) {
            p->k++;
            bpm_dialect_tok *t = bpm_dialect_cur(p);
            if (t->kind != BPM_DIALECT_TK_NAME || is_reserved(t)) {
                if (t->kind == BPM_DIALECT_TK_NAME)
                    return bpm_dialect_fail(
                        p, t->pos, "invalid JUEL: \"%.*s\" is reserved and cannot name a property",
                        (int)t->len, p->text + t->pos);
                return unexpected(p);
            }
            p->k++;
            if (bpm_dialect_is_op(p, "(")) {
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
            node *key = mk(p, N_LIT, t->pos, 0);
            key->lit = BPM_DIALECT_LIT_STR;
            key->str = p->text + t->pos;
            key->slen = t->len;
            v = mk2(p, N_GET, t->pos, v, key);
        } else if (bpm_dialect_is_op(p, "[")) {
            size_t pos = bpm_dialect_cur(p)->pos;
            p->k++;
            node *key = parse_expr(p);
            if (!key || !expect_op(p, "]"))
                return NULL;
            if (bpm_dialect_is_op(p, "(")) {
                p->k++;
                node **args;
                size_t n_args;
                if (!parse_args(p, &args, &n_args))
                    return NULL;
                return method_refused(p, start);
            }
            v = mk2(p, N_GET, pos, v, key);
        } else if (bpm_dialect_is_op(p, "(")) {
            return bpm_dialect_fail(p, bpm_dialect_cur(p)->pos,
                                    "unsupported JUEL: calling the result of an expression");
        } else {
            break;
        }
    }
    return v;
}

static node *parse_unary(parser *p)
{
    size_t pos = bpm_dialect_cur(p)->pos;
    node_kind k;
    if (bpm_dialect_is_op(p, "-"))
        k = N_NEG;
    else if (bpm_dialect_is_op(p, "!") || bpm_dialect_is_kw(p, "not"))
        k = N_NOT;
    else if (bpm_dialect_is_kw(p, "empty"))
        k = N_EMPTY;
    else
        return parse_value(p);
    if (!bpm_dialect_enter(p))
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
        if ((ops[i].op && bpm_dialect_is_op(p, ops[i].op)) ||
            (ops[i].word && bpm_dialect_is_kw(p, ops[i].word)))
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
        if (level == 1 && bpm_dialect_is_kw(p, "instanceof"))
            return unexpected(p);
        const binop *op = match_binop(p, levels[level].ops, levels[level].n);
        if (!op)
            break;
        size_t pos = bpm_dialect_cur(p)->pos;
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
    if (!first || !(bpm_dialect_is_op(p, op) || bpm_dialect_is_kw(p, word)))
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
        if (!(bpm_dialect_is_op(p, op) || bpm_dialect_is_kw(p, word)))
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
    if (!bpm_dialect_enter(p))
        return NULL;
    node *c = parse_logic(p, true);
    if (c && bpm_dialect_is_op(p, "?")) {
        size_t pos = bpm_dialect_cur(p)->pos;
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

static bool is_number(const node *n)
{
    return n->kind == N_LIT && (n->lit == BPM_DIALECT_LIT_INT || n->lit == BPM_DIALECT_LIT_FLOAT);
}

static bool is_boolean(const node *n)
{
    switch (n->kind) {
    case N_LIT:
        return n->lit == BPM_DIALECT_LIT_TRUE || n->lit == BPM_DIALECT_LIT_FALSE;
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
    bpm_dialect_put(p, "__dx.");
    bpm_dialect_put(p, helper);
    bpm_dialect_put(p, "(");
    for (size_t i = 0; i < n->n_kids; i++) {
        if (i)
            bpm_dialect_put(p, ", ");
        emit(p, n->kids[i], level + 1, reg + 1 + (int)i);
    }
    bpm_dialect_put(p, ")");
    bpm_dialect_mark(p, n->pos, level, reg + 1 + (int)n->n_kids);
}

/* An operand of &&, ||, ! or ?: as a Lua boolean (EL 1.18.5). */
static void emit_bool(parser *p, const node *n, int level, int reg)
{
    if (is_boolean(n)) {
        emit(p, n, level, reg);
        return;
    }
    bpm_dialect_put(p, "__dx.jbool(");
    emit(p, n, level + 1, reg + 1);
    bpm_dialect_put(p, ")");
    bpm_dialect_mark(p, n->pos, level, reg + 2);
}

static void emit_logic(parser *p, const node *n, int level, int reg)
{
    const char *op = n->kind == N_AND ? " and " : " or ";
    for (size_t i = 0; i < n->n_kids; i++) {
        const node *k = n->kids[i];
        int kl = i ? level + 1 : level;
        if (i)
            bpm_dialect_put(p, op);
        if ((k->kind == N_AND || k->kind == N_OR) && k->kind != n->kind) {
            bpm_dialect_put(p, "(");
            emit(p, k, kl + 1, reg + 1);
            bpm_dialect_put(p, ")");
        } else {
            emit_bool(p, k, kl, reg + 1);
        }
    }
    bpm_dialect_mark(p, n->pos, level, reg + 1);
}

static void emit_var_name(parser *p, const node *arg, int level, int reg)
{
    if (arg->kind == N_LIT && arg->lit == BPM_DIALECT_LIT_STR) {
        bpm_dialect_buf_var(&p->out, arg->str, arg->slen);
        bpm_dialect_mark(p, arg->pos, level, reg + 2);
        return;
    }
    bpm_dialect_put(p, "vars[__dx.jstr(");
    emit(p, arg, level + 2, reg + 3);
    bpm_dialect_put(p, ")]");
    bpm_dialect_mark(p, arg->pos, level + 1, reg + 3);
}

static void emit(parser *p, const node *n, int level, int reg)
{
    bpm_dialect_mark(p, n->pos, level, reg + 1);
    switch (n->kind) {
    case N_LIT:
        bpm_dialect_put_literal(p, n->lit, n->str, n->slen);
        return;
    case N_VAR:
        /* an identifier that names no variable fails, as in Camunda */
        bpm_dialect_put(p, "__dx.jvar(");
        bpm_dialect_buf_var(&p->out, n->name, n->nlen);
        bpm_dialect_put(p, ", ");
        bpm_dialect_buf_quote(&p->out, n->name, n->nlen);
        bpm_dialect_put(p, ")");
        bpm_dialect_mark(p, n->pos, level + 1, reg + 3);
        return;
    case N_EXEC:
        bpm_dialect_put(p, "execution.");
        bpm_dialect_buf_putn(&p->out, n->name, n->nlen);
        return;
    case N_NOW:
        bpm_dialect_put(p, "__dx.jnow(execution)");
        bpm_dialect_mark(p, n->pos, level + 1, reg + 2);
        return;
    case N_GETVAR:
        emit_var_name(p, n->kids[0], level, reg);
        return;
    case N_HASVAR:
        bpm_dialect_put(p, "(");
        emit_var_name(p, n->kids[0], level + 1, reg);
        bpm_dialect_put(p, " ~= nil)");
        bpm_dialect_mark(p, n->pos, level + 2, reg + 2);
        return;
    case N_GET:
        emit_call(p, n, "jget", level, reg);
        return;
    case N_METHOD:
        bpm_dialect_put(p, "__dx.jcall(");
        emit(p, n->kids[0], level + 1, reg + 1);
        bpm_dialect_put(p, ", ");
        bpm_dialect_buf_quote(&p->out, n->name, n->nlen);
        for (size_t i = 1; i < n->n_kids; i++) {
            bpm_dialect_put(p, ", ");
            emit(p, n->kids[i], level + 1, reg + 2 + (int)i);
        }
        bpm_dialect_put(p, ")");
        bpm_dialect_mark(p, n->pos, level, reg + 2 + (int)n->n_kids);
        return;
    case N_BIN:
        emit_call(p, n, n->name, level, reg);
        return;
    case N_NEG:
        if (is_number(n->kids[0])) {
            bpm_dialect_put(p, "-");
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
        bpm_dialect_put(p, "not ");
        if (k->kind == N_AND || k->kind == N_OR) {
            bpm_dialect_put(p, "(");
            emit(p, k, level + 2, reg);
            bpm_dialect_put(p, ")");
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
        bpm_dialect_put(p, "(");
        if (n->kids[0]->kind == N_AND || n->kids[0]->kind == N_OR) {
            bpm_dialect_put(p, "(");
            emit(p, n->kids[0], level + 2, reg + 1);
            bpm_dialect_put(p, ")");
        } else {
            emit_bool(p, n->kids[0], level + 1, reg + 1);
        }
        bpm_dialect_put(p, " and {");
        emit(p, n->kids[1], level + 3, reg + 2);
        bpm_dialect_put(p, "} or {");
        emit(p, n->kids[2], level + 3, reg + 2);
        bpm_dialect_put(p, "})[1]");
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
            if (bpm_dialect_cur(p)->kind == BPM_DIALECT_TK_END) {
                bpm_dialect_fail(p, open, "invalid JUEL: empty expression");
                return false;
            }
            p->rec = 0;
            node *e = parse_expr(p);
            if (!e)
                return false;
            if (bpm_dialect_cur(p)->kind != BPM_DIALECT_TK_END) {
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
        bpm_dialect_mark(p, 0, level, reg + 1);
        return;
    }
    if (pt->expr->kind == N_LIT && pt->expr->lit == BPM_DIALECT_LIT_STR) {
        emit(p, pt->expr, level, reg);
        return;
    }
    /* EL 1.18.2: each value of a composite expression is coerced to text */
    bpm_dialect_put(p, "__dx.jstr(");
    emit(p, pt->expr, level + 1, reg + 1);
    bpm_dialect_put(p, ")");
    bpm_dialect_mark(p, pt->expr->pos, level, reg + 2);
}

/* Composites of up to this many parts use "..", longer ones table.concat:
 * ".." is right-associative and costs Lua a parser level per operand. */
#define MAX_DOT_PARTS 4

/* The chunk: one expression as it is, composite text as a string. */
static void emit_text(parser *p, const part *parts, size_t n_parts)
{
    bpm_dialect_put(p, "return ");
    const int level = 2; /* statement, then the return's expression */
    if (n_parts == 1 && parts[0].expr) {
        emit(p, parts[0].expr, level, 0);
    } else if (n_parts <= MAX_DOT_PARTS) {
        for (size_t i = 0; i < n_parts; i++) {
            if (i)
                bpm_dialect_put(p, " .. ");
            emit_part(p, &parts[i], level + (int)i, (int)i);
        }
    } else {
        bpm_dialect_put(p, "table.concat({");
        for (size_t i = 0; i < n_parts; i++) {
            if (i)
                bpm_dialect_put(p, ", ");
            emit_part(p, &parts[i], level + 2, 2 + (int)(i % 50));
        }
        bpm_dialect_put(p, "})");
    }
}

bpm_rc bpm_juel_translate(const char *text, bpm_arena *a, const char **lua_out, bpm_err *err)
{
    parser p;
    bpm_rc rc = bpm_dialect_begin(&p, "JUEL", text, err);
    if (rc != BPM_OK)
        return rc;
    part *parts;
    size_t n_parts;
    bool ok = split(&p, &parts, &n_parts);
    if (ok)
        emit_text(&p, parts, n_parts);
    return bpm_dialect_finish(&p, ok, a, lua_out);
}
