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

#endif
