/* scripts/: the Lua 5.4 runtime behind bpm_eval_ops (engine/ports.h): conditions,
 * value expressions, script tasks and the JUEL/FEEL dialects compiled to Lua, run
 * in a sandbox with instruction and memory budgets. One bpm_scripts per worker
 * thread (it owns one lua_State, reused for every run); compiled handles live in
 * the model arena and are shared by all threads. Read README.md first. */
#ifndef BPM_SCRIPTS_H
#define BPM_SCRIPTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "model.h"
#include "ports.h"

/* ==== public API: what the engine and the adapters call ==================== */

#define BPM_SCRIPTS_DEFAULT_INSTRUCTIONS 10000000u       /* per run */
#define BPM_SCRIPTS_DEFAULT_MEMORY ((size_t)32 << 20)    /* bytes per run */
#define BPM_SCRIPTS_DEFAULT_CACHE 4096u                  /* chunks per state */

#define BPM_SCRIPTS_DEFAULT_WALL_MS 10000u               /* per run */

/* Budgets. The instruction budget counts Lua VM instructions plus work done
 * in C on the script's behalf (pattern matching steps, bytes compared, one
 * unit per 64 bytes allocated), so it is deterministic: a replay hits it at
 * the same point. The wall-clock limit is only a backstop against single
 * instructions that are slow (comparing two huge strings in a loop); it is
 * not deterministic and should be far above any honest script's time. */
typedef struct bpm_scripts_config {
    uint64_t max_instructions; /* default budget per run; 0 = 10,000,000 */
    size_t max_memory;         /* default growth cap per run in bytes; 0 = 32 MiB */
    size_t max_cached_chunks;  /* chunk cache size per state; 0 = 4096 */
    uint32_t max_wall_ms;      /* backstop per run; 0 = 10,000 ms */
} bpm_scripts_config;

/* One evaluator: a lua_State with the sandbox, the library and a chunk cache. */
typedef struct bpm_scripts bpm_scripts;

typedef struct bpm_scripts_stats {
    size_t memory_used;    /* bytes the lua_State holds right now */
    size_t cached_chunks;  /* functions in this state's chunk cache */
    uint64_t chunk_loads;  /* Lua parses done by this state (checks + cache misses) */
    uint64_t runs;         /* run() calls that executed Lua */
} bpm_scripts_stats;

/* New evaluator with its own lua_State; cfg NULL means all defaults (cfg is
 * copied). Returns NULL and fills err (BPM_INTERNAL) only when the built-in
 * library or the dialect prelude fails to load, i.e. a bug; out of memory
 * aborts. Not thread safe: use one evaluator per thread, any thread may create
 * one. Free with bpm_scripts_free(). */
bpm_scripts *bpm_scripts_new(const bpm_scripts_config *cfg, bpm_err *err);
/* Closes the lua_State. NULL is a no-op. Handles compiled through s stay
 * valid (they live in their model arena) and work with any other evaluator. */
void bpm_scripts_free(bpm_scripts *s);
/* The port for engine/: {&bpm_lua_eval_ops, s}. Borrows s. */
bpm_evaluator bpm_scripts_evaluator(bpm_scripts *s);
/* The ops table behind bpm_scripts_evaluator(); `self` is a bpm_scripts *. */
extern const bpm_eval_ops bpm_lua_eval_ops;

/* bpm_eval_ops.compile: checks and translates expr for `use`. *out (OUT) is an
 * immutable handle in model_arena, usable from every evaluator in any thread
 * for as long as the arena lives. Dialects: LUA as written (CONDITION and
 * VALUE: an expression if it parses as one, else a chunk; SCRIPT: a chunk),
 * JUEL/FEEL through scripts/dialect.h, LITERAL a constant string ("true" or
 * "false" for conditions), OTHER refused. Returns BPM_OK, or BPM_INVALID with
 * err->msg stating the problem and the line inside the text when known (the
 * caller adds element and XML line). Uses s's lua_State: same thread rules. */
bpm_rc bpm_scripts_compile(bpm_scripts *s, const bpm_expr *expr, bpm_eval_use use,
                           bpm_arena *model_arena, const void **out, bpm_err *err);
/* bpm_eval_ops.run: evaluates a handle against vars (NULL = no variables).
 * call may be NULL (no execution facts, default budgets). Temporary memory
 * comes from step; out->code/message are in step; out->value is a new
 * reference (NULL = no value; json_true()/json_false() for conditions).
 * Returns BPM_OK (check out->outcome: VALUE, BPMN_ERROR or ESCALATION),
 * BPM_SCRIPT when the script failed (err->msg says why and at which line,
 * err->detail holds the traceback), BPM_LIMIT when it ran out of instructions
 * or memory. *out is written only on BPM_OK. The state is ready for the next
 * run whatever happened. */
bpm_rc bpm_scripts_run(bpm_scripts *s, const void *compiled, const bpm_eval_call *call,
                       const bpm_vars *vars, bpm_arena *step, bpm_eval_result *out,
                       bpm_err *err);
/* Counters of one evaluator (OUT: *out). */
void bpm_scripts_stats_get(const bpm_scripts *s, bpm_scripts_stats *out);

/* ==== inside scripts/: shared by the lua_*.c files, not for other modules ===
 * These take a lua_State; this header does not include lua.h, so callers
 * outside scripts/ (which do not see Lua's headers) never need it. */

struct lua_State;
typedef struct bpm_lua_sandbox bpm_lua_sandbox;

/* ---- lua_value.c: JSON <-> Lua ----------------------------------------------
 * Objects are tables with string keys; arrays are 1-based tables carrying the
 * array metatable (so [] stays an array); an empty object may carry the object
 * metatable. JSON integers are Lua integers, reals are floats; strings are
 * binary safe; JSON null is one sentinel userdata (`null`, `json.null`). */

#define BPM_LUA_VALUE_MAX_DEPTH 200

/* Creates the null sentinel and the array/object metatables in L's registry.
 * Call once per state before any other bpm_lua_value_ function. May raise a
 * Lua memory error (call it where that is acceptable: state creation). */
void bpm_lua_value_setup(struct lua_State *L);
/* Pushes v (borrowed; NULL pushes nil) onto L. BPM_LIMIT with err when v is
 * nested deeper than BPM_LUA_VALUE_MAX_DEPTH (nothing pushed then). May raise
 * a Lua memory error: inside a run it is caught by the run's pcall. */
bpm_rc bpm_lua_value_push(struct lua_State *L, const json_t *v, bpm_err *err);
/* Converts the Lua value at idx to JSON. *out (OUT) is a new reference.
 * nil and null give JSON null. Tables are arrays when marked, or when their
 * keys are exactly 1..n (n >= 1); otherwise objects (integer keys become
 * decimal strings). BPM_SCRIPT with err->msg naming the path (`$.a[2]`) for
 * functions, threads, other userdata, NaN or infinite numbers, strings that
 * are not UTF-8, keys that are not strings or integers, sparse arrays, and
 * nesting deeper than BPM_LUA_VALUE_MAX_DEPTH (which also catches cycles).
 * Never raises a Lua error (safe outside pcall). Does not change the stack. */
bpm_rc bpm_lua_value_to_json(struct lua_State *L, int idx, json_t **out, bpm_err *err);
/* Pushes the null sentinel. */
void bpm_lua_value_push_null(struct lua_State *L);
/* Whether the value at idx is the null sentinel. */
bool bpm_lua_value_is_null(struct lua_State *L, int idx);
/* Gives the table at idx the array (or object) marker metatable. */
void bpm_lua_value_mark(struct lua_State *L, int idx, bool array);
/* Marker of the value at idx: 0 no metatable, 1 array, 2 object, -1 another
 * metatable. */
int bpm_lua_value_marker(struct lua_State *L, int idx);
/* "nil", "boolean", "number", "string", "table", "function", "null"... */
const char *bpm_lua_value_type_name(struct lua_State *L, int idx);

/* ---- lua_sandbox.c: state, environment, budgets ----------------------------- */

/* What one run sees. All pointers borrowed for the duration of the run. */
typedef struct bpm_lua_run {
    const bpm_eval_call *call; /* NULL allowed */
    const bpm_vars *vars;      /* NULL allowed */
    bpm_arena *step;           /* required */
    bpm_eval_use use;
    const char *chunkname;     /* "=script": used to find the script's line */
} bpm_lua_run;

/* New sandboxed state: safe base library, string/table/math/utf8/coroutine,
 * the lua_lib.c library, the dialect prelude when built with it; then every
 * library table is frozen. cfg is copied (NULL = defaults). NULL + err on a
 * setup bug; aborts on out of memory. One thread at a time. */
bpm_lua_sandbox *bpm_lua_sandbox_new(const bpm_scripts_config *cfg, bpm_err *err);
void bpm_lua_sandbox_free(bpm_lua_sandbox *sb);
struct lua_State *bpm_lua_sandbox_state(const bpm_lua_sandbox *sb);
/* Bytes the state holds. */
size_t bpm_lua_sandbox_memory(const bpm_lua_sandbox *sb);
/* Parses text (text chunks only, never bytecode) and pushes the function.
 * BPM_INVALID with "syntax error: <reason> (line N)" otherwise (nothing
 * pushed); *err_line (OUT, may be NULL) is then N, or 0 when unknown. */
bpm_rc bpm_lua_sandbox_load(bpm_lua_sandbox *sb, const char *text, size_t len,
                            const char *chunkname, int *err_line, bpm_err *err);
/* Runs the function on top of the stack (consumed) with a fresh environment
 * under the run's budgets. BPM_OK: pushes its first result and fills
 * res->outcome/code/message (res->value untouched). BPM_SCRIPT / BPM_LIMIT:
 * pushes nothing. Always follow with bpm_lua_sandbox_finish(). */
bpm_rc bpm_lua_sandbox_run(bpm_lua_sandbox *sb, const bpm_lua_run *run,
                           bpm_eval_result *res, bpm_err *err);
/* Script tasks: writes back table variables the script read and then changed
 * in place (`vars.order.total = 5`). Call after a BPM_OK run, before finish. */
bpm_rc bpm_lua_sandbox_writeback(bpm_lua_sandbox *sb, bpm_err *err);
/* Ends the run: clears the run's globals and caches, forgets run pointers. */
void bpm_lua_sandbox_finish(bpm_lua_sandbox *sb);

/* For library functions running inside a run (L is any thread of the state): */
/* The current run, or NULL outside a run. */
const bpm_lua_run *bpm_lua_sandbox_current(struct lua_State *L);
/* Ends the run with a BPMN error or escalation (copies code and message into
 * the step arena). Never returns: raises an error no pcall can catch. */
int bpm_lua_sandbox_raise(struct lua_State *L, bpm_eval_outcome outcome,
                          const char *code, const char *message);
/* Next value of the run's PRNG (xoshiro256**). It is seeded on first use in a
 * run from the execution facts and the visible variables, never from a clock
 * or the OS, so a replayed step draws the same numbers. */
uint64_t bpm_lua_sandbox_random(struct lua_State *L);
/* The step's time in ms (call->now_ms; 0 outside a run or without call). */
int64_t bpm_lua_sandbox_now(struct lua_State *L);
/* Bills work done in C (pattern matching, searching) to the run's
 * instruction budget: one unit is about one VM instruction. Raises the
 * budget error, like the count hook, when the budget is spent. */
void bpm_lua_sandbox_charge(struct lua_State *L, uint64_t units);
/* Bytes the run may still allocate (SIZE_MAX outside a run). */
size_t bpm_lua_sandbox_memory_left(struct lua_State *L);

/* ---- lua_lib.c: the everyday library ----------------------------------------- */

/* Adds os (time/date/clock), json, date, uuid, base64, crypto, bpmn and the
 * string helpers (split, trim, startswith, endswith) to the table at env_idx,
 * replaces string.find/match/gmatch/gsub with a matcher that bills its steps
 * to the budget, and makes math.random deterministic per run. Called once per state while
 * the environment is still writable. May raise a Lua memory error. */
void bpm_lua_lib_open(struct lua_State *L, int env_idx);
/* SHA-256 of data (OUT: digest). */
void bpm_lua_lib_sha256(const void *data, size_t len, unsigned char digest[32]);
/* HMAC-SHA256 (RFC 2104) of msg under key (OUT: mac). */
void bpm_lua_lib_hmac_sha256(const void *key, size_t key_len, const void *msg,
                             size_t msg_len, unsigned char mac[32]);
#endif
