/* The harness test_juel.c and test_feel.c share: case tables run against a
 * translator (exact Lua text, then the value it computes with the plain Lua
 * 5.4 API), refusals, limits, a fuzz loop and grammar-generated expressions.
 * Header-only, as each tests/unit/test_*.c builds into its own executable
 * from that one file; static inline, so a test need not use all of it. */
#ifndef BPM_TEST_DIALECT_HARNESS_H
#define BPM_TEST_DIALECT_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct tcase {
    const char *expr;
    const char *lua;    /* exact translation */
    const char *vars;   /* JSON object */
    const char *expect; /* JSON value */
} tcase;

typedef struct ecase {
    const char *expr;
    const char *msg; /* prefix of err.msg */
} ecase;

typedef bpm_rc (*translate_fn)(const char *, bpm_arena *, const char **, bpm_err *);

/* ---- Lua harness ------------------------------------------------------------ */

/* Each case is translated, compared with the expected Lua text, then run with
 * the plain Lua 5.4 API (prelude, `null`, vars from JSON, a fixed `execution`)
 * in an environment holding only the globals the contract allows; the result,
 * turned back into JSON, must match. Arrays and empty objects carry marker
 * metatables as in the sandbox (scripts.h), and the prelude gets the same
 * mark/marker functions; an unmarked empty table comes back as {}. */

static const char MARKERS[] =
    "local A = {__name = 'json.array', __metatable = false}\n"
    "local O = {__name = 'json.object', __metatable = false}\n"
    "local getmt = debug.getmetatable\n"
    "function __mark(t, array) return setmetatable(t, array and A or O) end\n"
    "function __marker(v)\n"
    "  if type(v) ~= 'table' then return 0 end\n"
    "  local m = getmt(v)\n"
    "  if m == nil then return 0 elseif m == A then return 1 elseif m == O then return 2 end\n"
    "  return -1\n"
    "end\n";

static const char SETUP[] =
    "null = setmetatable({}, {__name = 'null'})\n"
    "function __env(vars)\n"
    "  local env = {vars = vars, null = null, __dx = __dx, string = string,\n"
    "    math = math, table = table,\n"
    "    execution = {now = 1767258000000, businessKey = 'bk-1', instanceId = 'i-1',\n"
    "                 elementId = 'Task_1', definitionKey = 'order'}}\n"
    "  return setmetatable(env, {\n"
    "    __index = function(_, k) error('global ' .. tostring(k) .. ' is not allowed', 2) end,\n"
    "    __newindex = function(_, k) error('global ' .. tostring(k) .. ' is read-only', 2) end})\n"
    "end\n";

static inline lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    if (luaL_dostring(L, MARKERS))
        fail_msg("markers: %s", lua_tostring(L, -1));
    if (luaL_loadbufferx(L, bpm_dialect_prelude, strlen(bpm_dialect_prelude), "=prelude", "t"))
        fail_msg("prelude: %s", lua_tostring(L, -1));
    lua_getglobal(L, "__mark");
    lua_getglobal(L, "__marker");
    if (lua_pcall(L, 2, 0, 0))
        fail_msg("prelude: %s", lua_tostring(L, -1));
    if (luaL_dostring(L, SETUP))
        fail_msg("setup: %s", lua_tostring(L, -1));
    return L;
}

/* Gives the table on top of the stack the array or object marker. */
static inline void mark_top(lua_State *L, bool array)
{
    lua_getglobal(L, "__mark");
    lua_pushvalue(L, -2);
    lua_pushboolean(L, array);
    lua_call(L, 2, 0);
}

/* 1 array, 2 object, 0 no metatable, -1 another metatable. */
static inline int marker_of(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_getglobal(L, "__marker");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    int m = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return m;
}

static inline void push_json(lua_State *L, json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_NULL:
        lua_getglobal(L, "null");
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        lua_pushboolean(L, json_is_true(j));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(j));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(j));
        break;
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        break;
    case JSON_ARRAY: {
        lua_createtable(L, (int)json_array_size(j), 0);
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            push_json(L, v);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        mark_top(L, true);
        break;
    }
    case JSON_OBJECT: {
        lua_newtable(L);
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            push_json(L, v);
            lua_setfield(L, -2, k);
        }
        if (json_object_size(j) == 0)
            mark_top(L, false);
        break;
    }
    }
}

static inline json_t *to_json(lua_State *L, int idx, int depth)
{
    idx = lua_absindex(L, idx);
    if (depth > 50)
        return json_string("<too deep>");
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return json_null();
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer((json_int_t)lua_tointeger(L, idx));
        return json_real(lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        return json_stringn(s, n);
    }
    case LUA_TTABLE:
        break;
    default:
        return json_string("<unexpected Lua type>");
    }
    lua_getglobal(L, "null");
    bool is_null = lua_rawequal(L, idx, -1);
    lua_pop(L, 1);
    if (is_null)
        return json_null();
    int marker = marker_of(L, idx);
    if (marker < 0)
        return json_string("<table with a metatable>");
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (marker == 1 || (marker == 0 && n > 0)) {
        json_t *a = json_array();
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            json_array_append_new(a, to_json(L, -1, depth + 1));
            lua_pop(L, 1);
        }
        return a;
    }
    json_t *o = json_object();
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING)
            json_object_set_new(o, lua_tostring(L, -2), to_json(L, -1, depth + 1));
        lua_pop(L, 1);
    }
    return o;
}

/* JSON equality where 5 and 5.0 are the same number. */
static inline bool same(json_t *a, json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v)
        {
            json_t *w = json_object_get(b, k);
            if (!w || !same(v, w))
                return false;
        }
        return true;
    }
    return json_equal(a, b);
}

/* Loads lua as a chunk whose _ENV holds only the allowed globals. */
static inline int load_chunk(lua_State *L, const char *lua, const char *vars_json)
{
    int rc = luaL_loadbufferx(L, lua, strlen(lua), "=expr", "t");
    if (rc)
        return rc;
    json_error_t je;
    json_t *vars = json_loads(vars_json, 0, &je);
    if (!vars)
        fail_msg("bad vars JSON %s: %s", vars_json, je.text);
    lua_getglobal(L, "__env");
    push_json(L, vars);
    json_decref(vars);
    lua_call(L, 1, 1);
    lua_setupvalue(L, -2, 1);
    return LUA_OK;
}

static inline void run_case(translate_fn tr, const tcase *c, size_t i)
{
    bpm_arena *a = bpm_arena_new();
    bpm_err err = {0};
    const char *lua = NULL;
    if (tr(c->expr, a, &lua, &err) != BPM_OK)
        fail_msg("case %zu %s: %s", i, c->expr, err.msg);
    if (strcmp(lua, c->lua) != 0)
        fail_msg("case %zu %s:\n  got      %s\n  expected %s", i, c->expr, lua, c->lua);
    lua_State *L = new_state();
    if (load_chunk(L, lua, c->vars) || lua_pcall(L, 0, 1, 0))
        fail_msg("case %zu %s: %s", i, c->expr, lua_tostring(L, -1));
    json_t *got = to_json(L, -1, 0);
    json_error_t je;
    json_t *want = json_loads(c->expect, JSON_DECODE_ANY, &je);
    if (!want)
        fail_msg("case %zu: bad expected JSON %s: %s", i, c->expect, je.text);
    if (!same(got, want)) {
        char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
        fail_msg("case %zu %s with %s:\n  got      %s\n  expected %s", i, c->expr, c->vars, g,
                 c->expect);
    }
    json_decref(got);
    json_decref(want);
    lua_close(L);
    bpm_arena_free(a);
}

static inline void run_error(translate_fn tr, const ecase *c, size_t i)
{
    bpm_arena *a = bpm_arena_new();
    bpm_err err = {0};
    const char *lua = "untouched";
    if (tr(c->expr, a, &lua, &err) != BPM_INVALID)
        fail_msg("error case %zu %s: translated to %s", i, c->expr, lua);
    assert_int_equal(err.rc, BPM_INVALID);
    assert_string_equal(lua, "untouched"); /* OUT: written only on success */
    if (strncmp(err.msg, c->msg, strlen(c->msg)) != 0)
        fail_msg("error case %zu %s:\n  got      %s\n  expected %s...", i, c->expr, err.msg,
                 c->msg);
    bpm_arena_free(a);
}

/* Whatever the input, a translation that succeeds must load as Lua. */
static inline void check_loads(translate_fn tr, const char *expr, bool must_translate)
{
    bpm_arena *a = bpm_arena_new();
    bpm_err err = {0};
    const char *lua;
    bpm_rc rc = tr(expr, a, &lua, &err);
    if (rc == BPM_OK) {
        lua_State *L = luaL_newstate();
        if (luaL_loadbufferx(L, lua, strlen(lua), "=expr", "t") != LUA_OK)
            fail_msg("translation of %.200s does not load: %s", expr, lua_tostring(L, -1));
        lua_close(L);
    } else {
        assert_int_equal(rc, BPM_INVALID);
        assert_true(err.msg[0] != '\0');
        if (must_translate)
            fail_msg("%.200s: %s", expr, err.msg);
    }
    bpm_arena_free(a);
}

static inline char *repeat(const char *head, const char *unit, size_t n, const char *mid,
                           const char *tail_unit, const char *tail)
{
    size_t len =
        strlen(head) + n * (strlen(unit) + strlen(tail_unit)) + strlen(mid) + strlen(tail) + 1;
    char *s = malloc(len);
    assert_non_null(s);
    s[0] = '\0';
    strcat(s, head);
    for (size_t i = 0; i < n; i++)
        strcat(s, unit);
    strcat(s, mid);
    for (size_t i = 0; i < n; i++)
        strcat(s, tail_unit);
    strcat(s, tail);
    return s;
}

/* Nesting n deep either translates into loadable Lua or is refused as
 * nested too deeply; shallow nesting always translates. */
static inline void check_nesting(translate_fn tr, const char *head, const char *unit,
                                 const char *mid, const char *tail_unit, const char *tail)
{
    for (size_t n = 1; n <= 3 * BPM_DIALECT_MAX_DEPTH; n++) {
        char *s = repeat(head, unit, n, mid, tail_unit, tail);
        check_loads(tr, s, n <= 12);
        free(s);
    }
}

/* xorshift, so the random inputs are the same on every run */
static inline uint64_t next_rand(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *st = x;
}

static inline void fuzz(translate_fn tr, const char *const *pieces, size_t n_pieces,
                        const char *prefix, int rounds)
{
    uint64_t st = 0x9e3779b97f4a7c15u;
    char buf[512];
    for (int r = 0; r < rounds; r++) {
        size_t len = strlen(prefix);
        memcpy(buf, prefix, len + 1);
        size_t n = next_rand(&st) % 24;
        for (size_t i = 0; i < n; i++) {
            const char *pc = pieces[next_rand(&st) % n_pieces];
            size_t pl = strlen(pc);
            if (len + pl + 1 >= sizeof buf)
                break;
            memcpy(buf + len, pc, pl + 1);
            len += pl;
        }
        /* sometimes a raw byte, including high and control bytes */
        if (next_rand(&st) % 4 == 0 && len + 2 < sizeof buf) {
            buf[len++] = (char)(next_rand(&st) % 255 + 1);
            buf[len] = '\0';
        }
        check_loads(tr, buf, false);
    }
}

/* Random text built from a grammar, so most of it translates; `gen` appends
 * to buf (cap bytes) and returns false when out of room. */
typedef struct gen {
    char buf[16384];
    size_t len;
    uint64_t st;
} gen;

static inline void gput(gen *g, const char *s)
{
    size_t n = strlen(s);
    if (g->len + n + 1 < sizeof g->buf) {
        memcpy(g->buf + g->len, s, n + 1);
        g->len += n;
    }
}

static inline const char *pick(gen *g, const char *const *v, size_t n)
{
    return v[next_rand(&g->st) % n];
}

/* Runs generated expressions against vars: each must translate and load,
 * and a run may fail only with a helper's own message, never with a Lua
 * error raised in the prelude or the chunk (a bug in either). no_errors:
 * no failure at all, as FEEL turns bad operands into null. */
static inline void run_generated(translate_fn tr, void (*make)(gen *, int), const char *vars,
                                 int rounds, bool no_errors)
{
    gen g = {.st = 0x2545f4914f6cdd1du};
    lua_State *L = new_state();
    int failed = 0;
    for (int r = 0; r < rounds; r++) {
        g.len = 0;
        g.buf[0] = '\0';
        make(&g, 4);
        bpm_arena *a = bpm_arena_new();
        bpm_err err = {0};
        const char *lua;
        if (tr(g.buf, a, &lua, &err) != BPM_OK)
            fail_msg("generated %s: %s", g.buf, err.msg);
        if (load_chunk(L, lua, vars) != LUA_OK)
            fail_msg("generated %s: does not load: %s", g.buf, lua_tostring(L, -1));
        if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
            const char *m = lua_tostring(L, -1);
            if (no_errors || !m || strncmp(m, "prelude:", 8) == 0 || strncmp(m, "expr:", 5) == 0)
                fail_msg("generated %s\n  as %s\n  failed: %s", g.buf, lua, m ? m : "?");
            failed++;
        } else {
            json_decref(to_json(L, -1, 0));
        }
        lua_settop(L, 0);
        bpm_arena_free(a);
    }
    print_message("%d generated expressions ran, %d stopped on a run-time error\n", rounds, failed);
    lua_close(L);
}

/* ---- table runners and checks ----------------------------------------------- */

static inline void run_cases(translate_fn tr, const tcase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_case(tr, &cases[i], i);
}

static inline void run_errors(translate_fn tr, const ecase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_error(tr, &cases[i], i);
}

/* expr is refused with exactly msg, and refused without a bpm_err too. */
static inline void check_refused(translate_fn tr, const char *expr, const char *msg)
{
    bpm_arena *a = bpm_arena_new();
    bpm_err err = {0};
    const char *lua;
    assert_int_equal(tr(expr, a, &lua, &err), BPM_INVALID);
    assert_string_equal(err.msg, msg);
    assert_int_equal(tr(expr, a, &lua, NULL), BPM_INVALID);
    bpm_arena_free(a);
}

/* Translates expr, which must translate, and runs it in L with vars (JSON);
 * returns lua_pcall's status, with the value or the message on the stack. */
static inline int run_expr(lua_State *L, translate_fn tr, const char *expr, const char *vars)
{
    bpm_arena *a = bpm_arena_new();
    const char *lua;
    assert_int_equal(tr(expr, a, &lua, NULL), BPM_OK);
    assert_int_equal(load_chunk(L, lua, vars), LUA_OK);
    int rc = lua_pcall(L, 0, 1, 0);
    bpm_arena_free(a);
    return rc;
}

#endif
