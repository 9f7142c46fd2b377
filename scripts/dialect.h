/* Camunda's expression languages compiled to Lua 5.4 at deploy time: JUEL
 * (Camunda 7, ${...}) and FEEL (Camunda 8, "=..."). A translation is a Lua
 * chunk whose `return` gives the value; it runs in the Lua sandbox after
 * bpm_dialect_prelude has been loaded into the same lua_State.
 *
 * Runtime contract of every translated chunk. It reads these globals only:
 *   vars       process variables: vars.name / vars["name"]; undefined -> nil
 *              (JUEL fails on an identifier naming no variable: __dx.jvar)
 *   null       JSON null, a unique sentinel userdata (nil and null are both
 *              null)
 *   execution  { instanceId, businessKey, elementId, definitionKey, now }
 *              (now: the step's time in epoch milliseconds)
 *   __dx       the helpers defined by bpm_dialect_prelude
 *   string, math, table
 * Arrays are Lua sequences (1-based), objects tables with string keys. The
 * chunk returns plain data only (nil, null, booleans, numbers, strings,
 * tables of those; dates are ISO text). Lists made by the prelude carry the
 * array marker of scripts.h, and so does an empty FEEL list literal
 * (__dx.list()), so an empty list stays []; other list literals are plain
 * sequences with items. Contexts carry no marker: an unmarked empty table
 * is {}.
 * See docs/expressions.md for the supported subsets. */
#ifndef BPM_DIALECT_H
#define BPM_DIALECT_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "err.h"

/* Longest expression text accepted, in bytes. */
#define BPM_DIALECT_MAX_TEXT (64 * 1024)
/* Deepest nesting accepted: brackets, operators, calls and chained operands
 * (a + b + c is three levels) all count. */
#define BPM_DIALECT_MAX_DEPTH 64

/* Translates `text`, a JUEL expression with its ${ } / #{ } delimiters
 * (composite text such as "Hello ${name}!" and plain text are accepted too),
 * into a Lua chunk. Pure function of the text; thread safe.
 * OUT: *lua_out, NUL-terminated, new in arena a; written only on success.
 * Returns BPM_OK, or BPM_INVALID with err->msg naming the problem and its
 * column, e.g. `unsupported JUEL: method call "service.send()" (bean calls
 * need a Java runtime; use a Lua script or an external task) at column 3`. */
bpm_rc bpm_juel_translate(const char *text, bpm_arena *a, const char **lua_out, bpm_err *err);

/* Same for FEEL, given WITHOUT its leading '='. Unknown functions and FEEL
 * features outside the subset give BPM_INVALID naming them. */
bpm_rc bpm_feel_translate(const char *text, bpm_arena *a, const char **lua_out, bpm_err *err);

/* Lua source that defines the global `__dx`, the read-only table of helpers
 * the translations call. Run it once per lua_State, before any translated
 * chunk, with an _ENV that has the base functions (type, pairs, select,
 * error, tostring, tonumber, getmetatable, setmetatable, rawequal) and
 * string, math and table; it copies what it needs while loading and later
 * reads only `null` from that _ENV, at call time, so `null` may be defined
 * after the prelude. Call the chunk with two arguments, which it keeps to
 * itself (never in __dx): mark(t, is_array), which gives the plain table t
 * the array (true) or object (false) marker and returns t, and marker(v),
 * which returns 1 for an array, 2 for an object, 0 for no metatable (or not
 * a table) and -1 for another metatable. lua_sandbox.c passes functions on
 * bpm_lua_value_mark/_marker; loading fails without them. */
extern const char bpm_dialect_prelude[];

/* ---- internal to scripts/: shared by juel.c and feel.c ------------------- */

/* Budgets for the generated Lua, estimated while emitting, so a translation
 * that succeeds always loads: Lua's parser stops at 200 nested levels
 * (LUAI_MAXCCALLS, shared with the caller's C stack) and a function at 255
 * registers. */
#define BPM_DIALECT_LUA_LEVELS 150
#define BPM_DIALECT_LUA_REGS 200

/* Growable output text in an arena; the old storage is abandoned on growth,
 * so callers use a scratch arena they free afterwards. */
typedef struct bpm_dialect_buf {
    bpm_arena *arena;
    char *ptr; /* NUL-terminated */
    size_t len;
    size_t cap;
} bpm_dialect_buf;

void bpm_dialect_buf_init(bpm_dialect_buf *b, bpm_arena *a);
void bpm_dialect_buf_putn(bpm_dialect_buf *b, const char *s, size_t n);
void bpm_dialect_buf_puts(bpm_dialect_buf *b, const char *s);
/* A Lua string literal holding exactly bytes s[0..n): printable ASCII other
 * than '"' and '\' is copied, every other byte becomes a three-digit "\ddd"
 * escape, so no input can end the literal early or inject code. */
void bpm_dialect_buf_quote(bpm_dialect_buf *b, const char *s, size_t n);
/* Is s[0..n) usable as a Lua name (t.name, {name = v}): an identifier that
 * is not a Lua keyword. */
bool bpm_dialect_lua_name(const char *s, size_t n);
/* A read of process variable `name`: vars.name when name is a plain Lua
 * identifier and not a Lua keyword, else vars["..."] quoted as above. */
void bpm_dialect_buf_var(bpm_dialect_buf *b, const char *name, size_t n);

/* "column 7", or "line 2, column 3" when the text spans lines; pos is a
 * byte offset into text. Writes at most cap bytes, NUL included. */
void bpm_dialect_where(const char *text, size_t pos, char *out, size_t cap);
/* A one-line excerpt of s[0..n) for an error message: control bytes become
 * spaces and long excerpts end in "...". Writes at most cap bytes. */
void bpm_dialect_excerpt(const char *s, size_t n, char *out, size_t cap);

/* ---- one translation in progress (dialect_lex.c) ------------------------- */

/* The tokens of both tokenizers. */
typedef enum bpm_dialect_tk {
    BPM_DIALECT_TK_EOF,  /* FEEL: the end of the text */
    BPM_DIALECT_TK_END,  /* JUEL: the "}" that closes ${ or #{ */
    BPM_DIALECT_TK_NAME, /* identifier or keyword; in FEEL also a `quoted name` */
    BPM_DIALECT_TK_FUNC, /* FEEL: a multi-word built-in name followed by "(" */
    BPM_DIALECT_TK_INT,
    BPM_DIALECT_TK_FLOAT,
    BPM_DIALECT_TK_STR,
    BPM_DIALECT_TK_OP, /* punctuation */
} bpm_dialect_tk;

typedef struct bpm_dialect_tok {
    bpm_dialect_tk kind;
    size_t pos, len; /* the source text, as an offset into the whole text */
    /* What the token says: a string's decoded bytes (in the scratch arena),
     * a quoted name without its backticks, a FEEL built-in's own spelling,
     * else the source text itself. */
    const char *str;
    size_t slen;
    bool quoted; /* a FEEL `quoted name`: never a keyword */
} bpm_dialect_tok;

/* Literals mean the same in both dialects; a literal node of either syntax
 * tree carries one of these and the token's str/slen. */
typedef enum bpm_dialect_lit {
    BPM_DIALECT_LIT_INT,   /* str: the digits as written, valid Lua too */
    BPM_DIALECT_LIT_FLOAT, /* the same */
    BPM_DIALECT_LIT_STR,   /* str: the decoded bytes */
    BPM_DIALECT_LIT_TRUE,
    BPM_DIALECT_LIT_FALSE,
    BPM_DIALECT_LIT_NULL,
} bpm_dialect_lit;

/* The state of one translation, on the translator's stack: the text, its
 * tokens, the first error, the parser's depth and the Lua written so far.
 * Messages of the functions below begin "invalid JUEL: " (lang). */
typedef struct bpm_dialect_ctx {
    const char *lang; /* "JUEL" or "FEEL", static */
    const char *text; /* borrowed, NUL-terminated */
    size_t text_len;
    bpm_arena *tmp; /* scratch arena: tokens, tree, output; freed at the end */
    bpm_err *err;   /* may be NULL */
    bool failed;    /* err holds the first error; later ones are dropped */
    bpm_dialect_tok *toks;
    size_t n_toks, cap_toks;
    size_t k; /* the current token */
    int rec;  /* the parser's recursion depth */
    bpm_dialect_buf out;
    bool over_budget;  /* the Lua would not load (BPM_DIALECT_LUA_*) ... */
    size_t budget_pos; /* ... first seen at this node */
    void *own;         /* the translator's own state (FEEL: its scopes) */
} bpm_dialect_ctx;

/* Starts translating text in dialect lang: *c gets a new scratch arena and
 * an empty output. BPM_INVALID (c untouched) when text is longer than
 * BPM_DIALECT_MAX_TEXT. */
bpm_rc bpm_dialect_begin(bpm_dialect_ctx *c, const char *lang, const char *text, bpm_err *err);
/* Ends it: when the translator succeeded (ok), nothing failed and the Lua
 * is within budget, *lua_out gets the output, new in arena a, and BPM_OK;
 * else BPM_INVALID. Frees the scratch arena either way. */
bpm_rc bpm_dialect_finish(bpm_dialect_ctx *c, bool ok, bpm_arena *a, const char **lua_out);

/* Records the first error: fmt's message and " at " the position of byte
 * pos, as BPM_INVALID in c->err; later calls do nothing. Returns NULL, so a
 * parse function can `return bpm_dialect_fail(...)`. */
void *bpm_dialect_fail(bpm_dialect_ctx *c, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "expression nested too deeply" at pos; returns NULL. */
void *bpm_dialect_too_deep(bpm_dialect_ctx *c, size_t pos);
/* One more level of parser recursion (the caller decrements c->rec when it
 * returns): false, after failing, past BPM_DIALECT_MAX_DEPTH. */
bool bpm_dialect_enter(bpm_dialect_ctx *c);

/* Bytes of names and numbers, the same in both dialects: names start with
 * a letter, '_', '$' or any byte of a UTF-8 sequence. */
bool bpm_dialect_is_digit(unsigned char ch);
bool bpm_dialect_is_name_start(unsigned char ch);
bool bpm_dialect_is_name_char(unsigned char ch);

/* Appends t to c->toks (in c->tmp). */
void bpm_dialect_push(bpm_dialect_ctx *c, bpm_dialect_tok t);
/* Tokenizer steps: each reads c->text at *i, pushes a token and moves *i
 * past it; false after failing. */
/* A name (text[*i] is a name start); never fails. */
void bpm_dialect_lex_name(bpm_dialect_ctx *c, size_t *i);
/* A string literal whose quote is text[*i]. A backslash before a byte of
 * escapes stands for the byte of decoded at the same index; with unicode,
 * \uXXXX is that code point in UTF-8 (surrogate pairs joined, a lone one
 * U+FFFD); any other backslash stays as written. */
bool bpm_dialect_lex_string(bpm_dialect_ctx *c, size_t *i, const char *escapes, const char *decoded,
                            bool unicode);
/* Punctuation: one of the two-byte operators ops2, else a byte of ops1. */
bool bpm_dialect_lex_op(bpm_dialect_ctx *c, size_t *i, const char *const *ops2, size_t n_ops2,
                        const char *ops1);

/* The parser's view of the tokens: the current one, and the one `ahead`
 * after it (the last token, the end, when there is none). */
bpm_dialect_tok *bpm_dialect_cur(bpm_dialect_ctx *c);
bpm_dialect_tok *bpm_dialect_peek(bpm_dialect_ctx *c, size_t ahead);
/* Is t of this kind and does it say text (a quoted name is no keyword)? */
bool bpm_dialect_tok_is(const bpm_dialect_tok *t, bpm_dialect_tk kind, const char *text);
/* ... any of words[0..n)? */
bool bpm_dialect_tok_in(const bpm_dialect_tok *t, bpm_dialect_tk kind, const char *const *words,
                        size_t n);
/* Is the current token this operator / this keyword? */
bool bpm_dialect_is_op(bpm_dialect_ctx *c, const char *op);
bool bpm_dialect_is_kw(bpm_dialect_ctx *c, const char *kw);
/* Is t a literal (a number, a string, true, false or null)? OUT: *lit,
 * written only then. */
bool bpm_dialect_literal(const bpm_dialect_tok *t, bpm_dialect_lit *lit);
/* Fail at the current token: "unexpected \"x\"", "expected <what> but found
 * \"x\"" (what as the message says it, quotes included); return NULL. */
void *bpm_dialect_unexpected(bpm_dialect_ctx *c);
void *bpm_dialect_expected(bpm_dialect_ctx *c, const char *what);
/* Consumes the current token when it is `text` of this kind; else fails
 * with expected "text" and returns false. */
bool bpm_dialect_expect(bpm_dialect_ctx *c, bpm_dialect_tk kind, const char *text);

/* Emitting (dialect_rt.c). Appends s to c->out. */
void bpm_dialect_put(bpm_dialect_ctx *c, const char *s);
/* Each emit function of a translator knows the Lua parser level and the
 * first free register of the expression it writes and reports what it
 * uses here; past BPM_DIALECT_LUA_LEVELS or _REGS the translation will fail
 * as too complex, at the first such expression (its byte offset pos). */
void bpm_dialect_mark(bpm_dialect_ctx *c, size_t pos, int level, int reg);
/* A literal as Lua: a number as written, a string quoted as by
 * bpm_dialect_buf_quote, true, false, null. */
void bpm_dialect_put_literal(bpm_dialect_ctx *c, bpm_dialect_lit kind, const char *str,
                             size_t slen);

#endif
