/* JUEL (Camunda 7) to Lua: supported expressions (exact Lua and value), refused
 * ones (message), limits, a fuzz loop and grammar-generated expressions. */
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

/* ---- Lua harness (the same in test_juel.c and test_feel.c) ------------------ */

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

static lua_State *new_state(void)
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
static void mark_top(lua_State *L, bool array)
{
    lua_getglobal(L, "__mark");
    lua_pushvalue(L, -2);
    lua_pushboolean(L, array);
    lua_call(L, 2, 0);
}

/* 1 array, 2 object, 0 no metatable, -1 another metatable. */
static int marker_of(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_getglobal(L, "__marker");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    int m = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return m;
}

static void push_json(lua_State *L, json_t *j)
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

static json_t *to_json(lua_State *L, int idx, int depth)
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
static bool same(json_t *a, json_t *b)
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
static int load_chunk(lua_State *L, const char *lua, const char *vars_json)
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

static void run_case(translate_fn tr, const tcase *c, size_t i)
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

static void run_error(translate_fn tr, const ecase *c, size_t i)
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
static void check_loads(translate_fn tr, const char *expr, bool must_translate)
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

static char *repeat(const char *head, const char *unit, size_t n, const char *mid,
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
static void check_nesting(translate_fn tr, const char *head, const char *unit, const char *mid,
                          const char *tail_unit, const char *tail)
{
    for (size_t n = 1; n <= 3 * BPM_DIALECT_MAX_DEPTH; n++) {
        char *s = repeat(head, unit, n, mid, tail_unit, tail);
        check_loads(tr, s, n <= 12);
        free(s);
    }
}

/* xorshift, so the random inputs are the same on every run */
static uint64_t next_rand(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *st = x;
}

static void fuzz(translate_fn tr, const char *const *pieces, size_t n_pieces, const char *prefix,
                 int rounds)
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

static void gput(gen *g, const char *s)
{
    size_t n = strlen(s);
    if (g->len + n + 1 < sizeof g->buf) {
        memcpy(g->buf + g->len, s, n + 1);
        g->len += n;
    }
}

static const char *pick(gen *g, const char *const *v, size_t n)
{
    return v[next_rand(&g->st) % n];
}

/* Runs generated expressions against vars: each must translate and load,
 * and a run may fail only with a helper's own message, never with a Lua
 * error raised in the prelude or the chunk (a bug in either). no_errors:
 * no failure at all, as FEEL turns bad operands into null. */
static void run_generated(translate_fn tr, void (*make)(gen *, int), const char *vars, int rounds,
                          bool no_errors)
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

/* ---- tables ----------------------------------------------------------------- */
/* clang-format off */
static const tcase CASES[] = {
    {"${amount > 1000 && approved}",
     "return __dx.jgt(__dx.jvar(vars.amount, \"amount\"), 1000) and __dx.jbool(__dx.jvar(vars.approved, \"approved\"))",
     "{\"amount\":1500,\"approved\":true}", "true"},
    {"${amount > 1000 && approved}",
     "return __dx.jgt(__dx.jvar(vars.amount, \"amount\"), 1000) and __dx.jbool(__dx.jvar(vars.approved, \"approved\"))",
     "{\"amount\":500,\"approved\":true}", "false"},
    {"${amount > 1000 and approved == true}",
     "return __dx.jgt(__dx.jvar(vars.amount, \"amount\"), 1000) and __dx.jeq(__dx.jvar(vars.approved, \"approved\"), true)",
     "{\"amount\":1500,\"approved\":true}", "true"},
    {"${!approved}",
     "return not __dx.jbool(__dx.jvar(vars.approved, \"approved\"))",
     "{\"approved\":true}", "false"},
    {"${not approved}",
     "return not __dx.jbool(__dx.jvar(vars.approved, \"approved\"))",
     "{\"approved\":false}", "true"},
    {"${!nothing}",
     "return not __dx.jbool(__dx.jvar(vars.nothing, \"nothing\"))",
     "{\"nothing\":null}", "true"},
    {"${approved}",
     "return __dx.jvar(vars.approved, \"approved\")",
     "{\"approved\":\"TRUE\"}", "\"TRUE\""},
    {"${!approved}",
     "return not __dx.jbool(__dx.jvar(vars.approved, \"approved\"))",
     "{\"approved\":\"TRUE\"}", "false"},
    {"${empty list}",
     "return __dx.jempty(__dx.jvar(vars.list, \"list\"))",
     "{\"list\":[]}", "true"},
    {"${empty list}",
     "return __dx.jempty(__dx.jvar(vars.list, \"list\"))",
     "{\"list\":[1]}", "false"},
    {"${empty nothing}",
     "return __dx.jempty(__dx.jvar(vars.nothing, \"nothing\"))",
     "{\"nothing\":null}", "true"},
    {"${empty ''}",
     "return __dx.jempty(\"\")",
     "{}", "true"},
    {"${not empty name}",
     "return not __dx.jempty(__dx.jvar(vars.name, \"name\"))",
     "{\"name\":\"x\"}", "true"},
    {"${empty obj}",
     "return __dx.jempty(__dx.jvar(vars.obj, \"obj\"))",
     "{\"obj\":{}}", "true"},
    {"${a.b.c}",
     "return __dx.jget(__dx.jget(__dx.jvar(vars.a, \"a\"), \"b\"), \"c\")",
     "{\"a\":{\"b\":{\"c\":5}}}", "5"},
    {"${a['b']}",
     "return __dx.jget(__dx.jvar(vars.a, \"a\"), \"b\")",
     "{\"a\":{\"b\":{\"c\":5}}}", "{\"c\":5}"},
    {"${a[\"b\"]['c'] * 2}",
     "return __dx.jmul(__dx.jget(__dx.jget(__dx.jvar(vars.a, \"a\"), \"b\"), \"c\"), 2)",
     "{\"a\":{\"b\":{\"c\":5}}}", "10"},
    {"${nothing.prop}",
     "return __dx.jget(__dx.jvar(vars.nothing, \"nothing\"), \"prop\")",
     "{\"nothing\":null}", "null"},
    {"${order.missing}",
     "return __dx.jget(__dx.jvar(vars.order, \"order\"), \"missing\")",
     "{\"order\":{}}", "null"},
    {"${customer.address.city}",
     "return __dx.jget(__dx.jget(__dx.jvar(vars.customer, \"customer\"), \"address\"), \"city\")",
     "{\"customer\":{\"address\":null}}", "null"},
    {"${x == 'text'}",
     "return __dx.jeq(__dx.jvar(vars.x, \"x\"), \"text\")",
     "{\"x\":\"text\"}", "true"},
    {"${x eq \"text\"}",
     "return __dx.jeq(__dx.jvar(vars.x, \"x\"), \"text\")",
     "{\"x\":\"other\"}", "false"},
    {"${x != 'text'}",
     "return __dx.jne(__dx.jvar(vars.x, \"x\"), \"text\")",
     "{\"x\":\"other\"}", "true"},
    {"${x ne 'text'}",
     "return __dx.jne(__dx.jvar(vars.x, \"x\"), \"text\")",
     "{\"x\":\"text\"}", "false"},
    {"${n lt 10}",
     "return __dx.jlt(__dx.jvar(vars.n, \"n\"), 10)",
     "{\"n\":5}", "true"},
    {"${n gt 10}",
     "return __dx.jgt(__dx.jvar(vars.n, \"n\"), 10)",
     "{\"n\":5}", "false"},
    {"${n le 5}",
     "return __dx.jle(__dx.jvar(vars.n, \"n\"), 5)",
     "{\"n\":5}", "true"},
    {"${n ge 6}",
     "return __dx.jge(__dx.jvar(vars.n, \"n\"), 6)",
     "{\"n\":5}", "false"},
    {"${n < 5.5 && n >= 5}",
     "return __dx.jlt(__dx.jvar(vars.n, \"n\"), 5.5) and __dx.jge(__dx.jvar(vars.n, \"n\"), 5)",
     "{\"n\":5}", "true"},
    {"${a and b}",
     "return __dx.jbool(__dx.jvar(vars.a, \"a\")) and __dx.jbool(__dx.jvar(vars.b, \"b\"))",
     "{\"a\":true,\"b\":false}", "false"},
    {"${a or b}",
     "return __dx.jbool(__dx.jvar(vars.a, \"a\")) or __dx.jbool(__dx.jvar(vars.b, \"b\"))",
     "{\"a\":false,\"b\":true}", "true"},
    {"${a || b && c}",
     "return __dx.jbool(__dx.jvar(vars.a, \"a\")) or (__dx.jbool(__dx.jvar(vars.b, \"b\")) and __dx.jbool(__dx.jvar(vars.c, \"c\")))",
     "{\"a\":false,\"b\":true,\"c\":true}", "true"},
    {"${(a || b) && c}",
     "return (__dx.jbool(__dx.jvar(vars.a, \"a\")) or __dx.jbool(__dx.jvar(vars.b, \"b\"))) and __dx.jbool(__dx.jvar(vars.c, \"c\"))",
     "{\"a\":true,\"b\":false,\"c\":false}", "false"},
    {"${!(a && b)}",
     "return not (__dx.jbool(__dx.jvar(vars.a, \"a\")) and __dx.jbool(__dx.jvar(vars.b, \"b\")))",
     "{\"a\":true,\"b\":false}", "true"},
    {"${10 / 4}",
     "return __dx.jdiv(10, 4)",
     "{}", "2.5"},
    {"${10 div 2}",
     "return __dx.jdiv(10, 2)",
     "{}", "5.0"},
    {"${7 mod 3}",
     "return __dx.jmod(7, 3)",
     "{}", "1"},
    {"${-7 % 3}",
     "return __dx.jmod(-7, 3)",
     "{}", "-1"},
    {"${7.5 % 2}",
     "return __dx.jmod(7.5, 2)",
     "{}", "1.5"},
    {"${1 + 2 * 3}",
     "return __dx.jadd(1, __dx.jmul(2, 3))",
     "{}", "7"},
    {"${(1 + 2) * 3 - 4}",
     "return __dx.jsub(__dx.jmul(__dx.jadd(1, 2), 3), 4)",
     "{}", "5"},
    {"${amount - 100}",
     "return __dx.jsub(__dx.jvar(vars.amount, \"amount\"), 100)",
     "{\"amount\":1000}", "900"},
    {"${amount * 1.5}",
     "return __dx.jmul(__dx.jvar(vars.amount, \"amount\"), 1.5)",
     "{\"amount\":10}", "15.0"},
    {"${-amount}",
     "return __dx.jneg(__dx.jvar(vars.amount, \"amount\"))",
     "{\"amount\":5}", "-5"},
    {"${- -5}",
     "return __dx.jneg(-5)",
     "{}", "5"},
    {"${nothing + 1}",
     "return __dx.jadd(__dx.jvar(vars.nothing, \"nothing\"), 1)",
     "{\"nothing\":null}", "1"},
    {"${'10' + 5}",
     "return __dx.jadd(\"10\", 5)",
     "{}", "15"},
    {"${a ? 'yes' : 'no'}",
     "return (__dx.jbool(__dx.jvar(vars.a, \"a\")) and {\"yes\"} or {\"no\"})[1]",
     "{\"a\":true}", "\"yes\""},
    {"${a ? 'yes' : 'no'}",
     "return (__dx.jbool(__dx.jvar(vars.a, \"a\")) and {\"yes\"} or {\"no\"})[1]",
     "{\"a\":false}", "\"no\""},
    {"${a ? false : true}",
     "return (__dx.jbool(__dx.jvar(vars.a, \"a\")) and {false} or {true})[1]",
     "{\"a\":true}", "false"},
    {"${a ? nothing : 1}",
     "return (__dx.jbool(__dx.jvar(vars.a, \"a\")) and {__dx.jvar(vars.nothing, \"nothing\")} or {1})[1]",
     "{\"a\":true,\"nothing\":null}", "null"},
    /* only the operands evaluated must exist (EL 1.6, 1.7: && || ?: short-circuit) */
    {"${a ? 1 : missing}",
     "return (__dx.jbool(__dx.jvar(vars.a, \"a\")) and {1} or {__dx.jvar(vars.missing, \"missing\")})[1]",
     "{\"a\":true}", "1"},
    {"${a && missing}",
     "return __dx.jbool(__dx.jvar(vars.a, \"a\")) and __dx.jbool(__dx.jvar(vars.missing, \"missing\"))",
     "{\"a\":false}", "false"},
    {"${a || missing}",
     "return __dx.jbool(__dx.jvar(vars.a, \"a\")) or __dx.jbool(__dx.jvar(vars.missing, \"missing\"))",
     "{\"a\":true}", "true"},
    {"${execution.hasVariable('x') && x > 1}",
     "return (vars.x ~= nil) and __dx.jgt(__dx.jvar(vars.x, \"x\"), 1)",
     "{}", "false"},
    {"${n > 10 ? 'big' : n > 5 ? 'mid' : 'small'}",
     "return (__dx.jgt(__dx.jvar(vars.n, \"n\"), 10) and {\"big\"} or {(__dx.jgt(__dx.jvar(vars.n, \"n\"), 5) and {\"mid\"} or {\"small\"})[1]})[1]",
     "{\"n\":7}", "\"mid\""},
    {"${a || b ? 1 : 2}",
     "return ((__dx.jbool(__dx.jvar(vars.a, \"a\")) or __dx.jbool(__dx.jvar(vars.b, \"b\"))) and {1} or {2})[1]",
     "{\"a\":false,\"b\":true}", "1"},
    {"${'it\\'s'}",
     "return \"it's\"",
     "{}", "\"it's\""},
    {"${\"say \\\"hi\\\"\"}",
     "return \"say \\034hi\\034\"",
     "{}", "\"say \\\"hi\\\"\""},
    {"${'a\\\\b'}",
     "return \"a\\092b\"",
     "{}", "\"a\\\\b\""},
    {"${'tab\\t'}",
     "return \"tab\\092t\"",
     "{}", "\"tab\\\\t\""},
    {"${'\"] .. os.exit() --'}",
     "return \"\\034] .. os.exit() --\"",
     "{}", "\"\\\"] .. os.exit() --\""},
    {"${1.5e3}",
     "return 1.5e3",
     "{}", "1500.0"},
    {"${.5 + 1}",
     "return __dx.jadd(.5, 1)",
     "{}", "1.5"},
    {"${true}",
     "return true",
     "{}", "true"},
    {"${null}",
     "return null",
     "{}", "null"},
    {"${null == null}",
     "return __dx.jeq(null, null)",
     "{}", "true"},
    {"${x == null}",
     "return __dx.jeq(__dx.jvar(vars.x, \"x\"), null)",
     "{\"x\":null}", "true"},
    {"${x != null}",
     "return __dx.jne(__dx.jvar(vars.x, \"x\"), null)",
     "{\"x\":0}", "true"},
    {"${amount == '100'}",
     "return __dx.jeq(__dx.jvar(vars.amount, \"amount\"), \"100\")",
     "{\"amount\":100}", "true"},
    {"${amount > '99'}",
     "return __dx.jgt(__dx.jvar(vars.amount, \"amount\"), \"99\")",
     "{\"amount\":100}", "true"},
    {"${flag == 'true'}",
     "return __dx.jeq(__dx.jvar(vars.flag, \"flag\"), \"true\")",
     "{\"flag\":true}", "true"},
    {"${1 == 1.0}",
     "return __dx.jeq(1, 1.0)",
     "{}", "true"},
    {"${s < 'b'}",
     "return __dx.jlt(__dx.jvar(vars.s, \"s\"), \"b\")",
     "{\"s\":\"a\"}", "true"},
    {"${obj == obj2}",
     "return __dx.jeq(__dx.jvar(vars.obj, \"obj\"), __dx.jvar(vars.obj2, \"obj2\"))",
     "{\"obj\":{\"a\":[1,2]},\"obj2\":{\"a\":[1,2]}}", "true"},
    {"${execution.getVariable('x')}",
     "return vars.x",
     "{\"x\":5}", "5"},
    /* getVariable of a variable that does not exist is null, not an error */
    {"${execution.getVariable('x')}",
     "return vars.x",
     "{}", "null"},
    {"${execution.getVariable('x') == null}",
     "return __dx.jeq(vars.x, null)",
     "{}", "true"},
    {"${execution.getVariable(\"my var\")}",
     "return vars[\"my var\"]",
     "{\"my var\":1}", "1"},
    {"${execution.getVariable(name)}",
     "return vars[__dx.jstr(__dx.jvar(vars.name, \"name\"))]",
     "{\"name\":\"x\",\"x\":7}", "7"},
    {"${execution.getVariable('order').total > 100}",
     "return __dx.jgt(__dx.jget(vars.order, \"total\"), 100)",
     "{\"order\":{\"total\":150}}", "true"},
    {"${execution.hasVariable('x')}",
     "return (vars.x ~= nil)",
     "{}", "false"},
    {"${!execution.hasVariable('x')}",
     "return not (vars.x ~= nil)",
     "{\"x\":null}", "false"},
    {"${execution.processBusinessKey}",
     "return execution.businessKey",
     "{}", "\"bk-1\""},
    {"${execution.getProcessBusinessKey()}",
     "return execution.businessKey",
     "{}", "\"bk-1\""},
    {"${execution.processInstanceId}",
     "return execution.instanceId",
     "{}", "\"i-1\""},
    {"${execution.currentActivityId}",
     "return execution.elementId",
     "{}", "\"Task_1\""},
    {"Hello ${name}!",
     "return \"Hello \" .. __dx.jstr(__dx.jvar(vars.name, \"name\")) .. \"!\"",
     "{\"name\":\"Bob\"}", "\"Hello Bob!\""},
    {"Hello ${name}!",
     "return \"Hello \" .. __dx.jstr(__dx.jvar(vars.name, \"name\")) .. \"!\"",
     "{\"name\":null}", "\"Hello !\""},
    {"plain text",
     "return \"plain text\"",
     "{}", "\"plain text\""},
    {"",
     "return \"\"",
     "{}", "\"\""},
    {"${a}-${b}",
     "return __dx.jstr(__dx.jvar(vars.a, \"a\")) .. \"-\" .. __dx.jstr(__dx.jvar(vars.b, \"b\"))",
     "{\"a\":1,\"b\":2.5}", "\"1-2.5\""},
    {"Total: ${amount * 2} EUR",
     "return \"Total: \" .. __dx.jstr(__dx.jmul(__dx.jvar(vars.amount, \"amount\"), 2)) .. \" EUR\"",
     "{\"amount\":2.5}", "\"Total: 5.0 EUR\""},
    {"${big * 1.0}",
     "return __dx.jmul(__dx.jvar(vars.big, \"big\"), 1.0)",
     "{\"big\":20000000}", "2.0E7"},
    {"Big: ${big * 1.0}",
     "return \"Big: \" .. __dx.jstr(__dx.jmul(__dx.jvar(vars.big, \"big\"), 1.0))",
     "{\"big\":20000000}", "\"Big: 2.0E7\""},
    {"\\${not} ${x}",
     "return \"${not} \" .. __dx.jstr(__dx.jvar(vars.x, \"x\"))",
     "{\"x\":1}", "\"${not} 1\""},
    {"#{x}",
     "return __dx.jvar(vars.x, \"x\")",
     "{\"x\":3}", "3"},
    {"${a}${b}${c}${d}${e}",
     "return table.concat({__dx.jstr(__dx.jvar(vars.a, \"a\")), __dx.jstr(__dx.jvar(vars.b, \"b\")), __dx.jstr(__dx.jvar(vars.c, \"c\")), __dx.jstr(__dx.jvar(vars.d, \"d\")), __dx.jstr(__dx.jvar(vars.e, \"e\"))})",
     "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5}", "\"12345\""},
    {"${flag}:${obj}",
     "return __dx.jstr(__dx.jvar(vars.flag, \"flag\")) .. \":\" .. __dx.jstr(__dx.jvar(vars.obj, \"obj\"))",
     "{\"flag\":false,\"obj\":{\"b\":[1,null],\"a\":\"x\"}}", "\"false:{\\\"a\\\":\\\"x\\\",\\\"b\\\":[1,null]}\""},
    {"${list[0]}",
     "return __dx.jget(__dx.jvar(vars.list, \"list\"), 0)",
     "{\"list\":[\"a\",\"b\"]}", "\"a\""},
    {"${list[1]}",
     "return __dx.jget(__dx.jvar(vars.list, \"list\"), 1)",
     "{\"list\":[\"a\",\"b\"]}", "\"b\""},
    {"${list[5]}",
     "return __dx.jget(__dx.jvar(vars.list, \"list\"), 5)",
     "{\"list\":[\"a\",\"b\"]}", "null"},
    {"${list[i + 1]}",
     "return __dx.jget(__dx.jvar(vars.list, \"list\"), __dx.jadd(__dx.jvar(vars.i, \"i\"), 1))",
     "{\"list\":[\"a\",\"b\"],\"i\":0}", "\"b\""},
    {"${rows[0].name}",
     "return __dx.jget(__dx.jget(__dx.jvar(vars.rows, \"rows\"), 0), \"name\")",
     "{\"rows\":[{\"name\":\"r1\"}]}", "\"r1\""},
    {"${list.size()}",
     "return __dx.jcall(__dx.jvar(vars.list, \"list\"), \"size\")",
     "{\"list\":[\"a\",\"b\"]}", "2"},
    {"${list.contains('b')}",
     "return __dx.jcall(__dx.jvar(vars.list, \"list\"), \"contains\", \"b\")",
     "{\"list\":[\"a\",\"b\"]}", "true"},
    {"${list}",
     "return __dx.jvar(vars.list, \"list\")",
     "{\"list\":[]}", "[]"},
    {"${obj}",
     "return __dx.jvar(vars.obj, \"obj\")",
     "{\"obj\":{}}", "{}"},
    {"${a ? list : obj}",
     "return (__dx.jbool(__dx.jvar(vars.a, \"a\")) and {__dx.jvar(vars.list, \"list\")} or {__dx.jvar(vars.obj, \"obj\")})[1]",
     "{\"a\":true,\"list\":[],\"obj\":{}}", "[]"},
    {"${rows[0]}",
     "return __dx.jget(__dx.jvar(vars.rows, \"rows\"), 0)",
     "{\"rows\":[[]]}", "[]"},
    {"${map.get('k')}",
     "return __dx.jcall(__dx.jvar(vars.map, \"map\"), \"get\", \"k\")",
     "{\"map\":{\"k\":[]}}", "[]"},
    {"${list}:${obj}",
     "return __dx.jstr(__dx.jvar(vars.list, \"list\")) .. \":\" .. __dx.jstr(__dx.jvar(vars.obj, \"obj\"))",
     "{\"list\":[],\"obj\":{}}", "\"[]:{}\""},
    {"${list.isEmpty()}",
     "return __dx.jcall(__dx.jvar(vars.list, \"list\"), \"isEmpty\")",
     "{\"list\":[]}", "true"},
    {"${name.length()}",
     "return __dx.jcall(__dx.jvar(vars.name, \"name\"), \"length\")",
     "{\"name\":\"Bob\"}", "3"},
    {"${name.startsWith('B') && name.endsWith('b')}",
     "return __dx.jbool(__dx.jcall(__dx.jvar(vars.name, \"name\"), \"startsWith\", \"B\")) and __dx.jbool(__dx.jcall(__dx.jvar(vars.name, \"name\"), \"endsWith\", \"b\"))",
     "{\"name\":\"Bob\"}", "true"},
    {"${name.toUpperCase()}",
     "return __dx.jcall(__dx.jvar(vars.name, \"name\"), \"toUpperCase\")",
     "{\"name\":\"Bob\"}", "\"BOB\""},
    {"${name.equals('Bob')}",
     "return __dx.jcall(__dx.jvar(vars.name, \"name\"), \"equals\", \"Bob\")",
     "{\"name\":\"Bob\"}", "true"},
    {"${map.containsKey('k')}",
     "return __dx.jcall(__dx.jvar(vars.map, \"map\"), \"containsKey\", \"k\")",
     "{\"map\":{\"k\":1}}", "true"},
    {"${map.get('k')}",
     "return __dx.jcall(__dx.jvar(vars.map, \"map\"), \"get\", \"k\")",
     "{\"map\":{\"k\":1}}", "1"},
    {"${end}",
     "return __dx.jvar(vars[\"end\"], \"end\")",
     "{\"end\":1}", "1"},
    {"${$price}",
     "return __dx.jvar(vars[\"$price\"], \"$price\")",
     "{\"$price\":9}", "9"},
    {"${now()}",
     "return __dx.jnow(execution)",
     "{}", "\"2026-01-01T09:00:00Z\""},
    {"${not empty list and list[0] == 'a'}",
     "return not __dx.jempty(__dx.jvar(vars.list, \"list\")) and __dx.jeq(__dx.jget(__dx.jvar(vars.list, \"list\"), 0), \"a\")",
     "{\"list\":[\"a\"]}", "true"},
};

static const ecase ERRORS[] = {
    {"${service.send()}",
     "unsupported JUEL: method call \"service.send()\" (bean calls need a Java runtime; use a Lua script or an external task) at column 3"},
    {"${bean.calculate(amount, 'x') > 0}",
     "unsupported JUEL: method call \"bean.calculate(amount, 'x')\" (bean calls need a Java runtime; use a Lua script or an external task) at column 3"},
    {"${execution.setVariable('a', 1)}",
     "unsupported JUEL: method call \"execution.setVariable('a', 1)\""},
    {"${list[0]()}",
     "unsupported JUEL: method call \"list[0]()\""},
    {"${fn:upper(x)}",
     "unsupported JUEL: function \"fn:upper\" (EL functions need a Java runtime) at column 3"},
    {"${foo(1)}",
     "unsupported JUEL: function \"foo()\" (only now() and dateTime() are built in) at column 3"},
    {"${x -> x + 1}",
     "unsupported JUEL: lambda expression \"->\" (EL 3.0) at column 5"},
    {"${a = 1}",
     "unsupported JUEL: assignment \"=\" (expressions cannot set variables) at column 5"},
    {"${a += 'b'}",
     "unsupported JUEL: string concatenation \"+=\" (EL 3.0) at column 5"},
    {"${a; b}",
     "unsupported JUEL: statement separator \";\" (EL 3.0) at column 4"},
    {"${[1, 2]}",
     "unsupported JUEL: list literal (EL 3.0) at column 3"},
    {"${{'a': 1}}",
     "unsupported JUEL: set or map literal (EL 3.0) at column 3"},
    {"${x instanceof y}",
     "unsupported JUEL: \"instanceof\" at column 5"},
    {"${execution.foo}",
     "unsupported JUEL: execution property \"foo\" at column 13"},
    {"${execution}",
     "unsupported JUEL: \"execution\" is usable only as"},
    {"${(a)(1)}",
     "unsupported JUEL: calling the result of an expression at column 6"},
    {"${1 +}",
     "invalid JUEL: unexpected \"}\" at column 6"},
    {"${a",
     "invalid JUEL: missing \"}\" to close \"${\" at column 1"},
    {"x #{a",
     "invalid JUEL: missing \"}\" to close \"#{\" at column 3"},
    {"${'abc}",
     "invalid JUEL: unterminated string at column 3"},
    {"${}",
     "invalid JUEL: empty expression at column 1"},
    {"${a b}",
     "invalid JUEL: unexpected \"b\" at column 5"},
    {"${(a}",
     "invalid JUEL: expected \")\" but found \"}\" at column 5"},
    {"${a ? b}",
     "invalid JUEL: expected \":\" but found \"}\" at column 8"},
    {"${1.2.3}",
     "invalid JUEL: malformed number at column 3"},
    {"${a @ b}",
     "invalid JUEL: unexpected character \"@\" at column 5"},
    {"${a.and}",
     "invalid JUEL: \"and\" is reserved and cannot name a property at column 5"},
    {"${and}",
     "invalid JUEL: unexpected \"and\" at column 3"},
    {"${a.}",
     "invalid JUEL: unexpected \"}\" at column 5"},
    {"first line\n${a +* b}",
     "invalid JUEL: unexpected \"*\" at line 2, column 6"},
};
/* clang-format on */

/* ---- tests ------------------------------------------------------------------ */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void test_supported(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_OF(CASES); i++)
        run_case(bpm_juel_translate, &CASES[i], i);
}

static void test_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_OF(ERRORS); i++)
        run_error(bpm_juel_translate, &ERRORS[i], i);
}

/* A failing helper is a Lua error the sandbox reports, not a crash. */
static void test_runtime_errors(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *vars, *msg;
    } cases[] = {
        {"${a + 1}", "{\"a\":\"abc\"}", "cannot coerce \"abc\" to a number"},
        {"${a && b}", "{\"a\":1,\"b\":true}", "cannot coerce a number to a boolean"},
        {"${list.size()}", "{\"list\":null}", "cannot call size() on null"},
        {"${s.size()}", "{\"s\":\"x\"}", "method size() is not defined for a string"},
        {"${7 % 0}", "{}", "division by zero"},
        {"${s.x}", "{\"s\":\"text\"}", "cannot read property \"x\" of a string"},
        /* an identifier that names no variable (Camunda: PropertyNotFoundException,
         * "Cannot resolve identifier 'x'"), wherever it stands */
        {"${x}", "{}", "unknown variable \"x\" in JUEL expression"},
        {"${empty x}", "{}", "unknown variable \"x\" in JUEL expression"},
        {"${x == null}", "{}", "unknown variable \"x\" in JUEL expression"},
        {"${!x}", "{}", "unknown variable \"x\" in JUEL expression"},
        {"${x.y}", "{}", "unknown variable \"x\" in JUEL expression"},
        {"${x + 1}", "{}", "unknown variable \"x\" in JUEL expression"},
        {"${a && x}", "{\"a\":true}", "unknown variable \"x\" in JUEL expression"},
        {"${a ? x : 1}", "{\"a\":true}", "unknown variable \"x\" in JUEL expression"},
        {"${list[i]}", "{\"list\":[1]}", "unknown variable \"i\" in JUEL expression"},
        {"${execution.getVariable(n)}", "{}", "unknown variable \"n\" in JUEL expression"},
        {"Hello ${name}!", "{}", "unknown variable \"name\" in JUEL expression"},
        {"${end}", "{}", "unknown variable \"end\" in JUEL expression"},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        bpm_arena *a = bpm_arena_new();
        const char *lua;
        assert_int_equal(bpm_juel_translate(cases[i].expr, a, &lua, NULL), BPM_OK);
        lua_State *L = new_state();
        assert_int_equal(load_chunk(L, lua, cases[i].vars), LUA_OK);
        assert_int_not_equal(lua_pcall(L, 0, 1, 0), LUA_OK);
        assert_string_equal(lua_tostring(L, -1), cases[i].msg);
        lua_close(L);
        bpm_arena_free(a);
    }
}

/* Every byte of a string literal comes back as itself: quoting in the
 * generated Lua cannot be escaped from. */
static void test_string_bytes(void **state)
{
    (void)state;
    lua_State *L = new_state();
    for (int b = 1; b < 256; b++) {
        char expr[32], want[2] = {(char)b, 0};
        if (b == '\'' || b == '\\')
            snprintf(expr, sizeof expr, "${'\\%c'}", b);
        else
            snprintf(expr, sizeof expr, "${'%c'}x%c", b, b);
        bpm_arena *a = bpm_arena_new();
        const char *lua;
        assert_int_equal(bpm_juel_translate(expr, a, &lua, NULL), BPM_OK);
        assert_int_equal(load_chunk(L, lua, "{}"), LUA_OK);
        if (lua_pcall(L, 0, 1, 0))
            fail_msg("byte %d: %s", b, lua_tostring(L, -1));
        size_t n;
        const char *got = lua_tolstring(L, -1, &n);
        if (b == '\'' || b == '\\') {
            assert_int_equal(n, 1);
        } else {
            assert_int_equal(n, 3);
            assert_int_equal((unsigned char)got[1], 'x');
            assert_int_equal((unsigned char)got[2], b);
        }
        assert_int_equal((unsigned char)got[0], (unsigned char)want[0]);
        lua_pop(L, 1);
        bpm_arena_free(a);
    }
    lua_close(L);
}

static void test_limits(void **state)
{
    (void)state;
    /* the longest accepted text: 16384 parts of composite text */
    char *big = repeat("", "${a}", BPM_DIALECT_MAX_TEXT / 4, "", "", "");
    assert_int_equal(strlen(big), BPM_DIALECT_MAX_TEXT);
    check_loads(bpm_juel_translate, big, true);
    free(big);
    char *huge = repeat("", "${a}", BPM_DIALECT_MAX_TEXT / 4, "x", "", "");
    bpm_arena *a = bpm_arena_new();
    bpm_err err = {0};
    const char *lua;
    assert_int_equal(bpm_juel_translate(huge, a, &lua, &err), BPM_INVALID);
    assert_string_equal(err.msg, "JUEL expression too long (65537 bytes, limit 65536)");
    assert_int_equal(bpm_juel_translate(huge, a, &lua, NULL), BPM_INVALID);
    free(huge);
    bpm_arena_free(a);

    check_nesting(bpm_juel_translate, "${", "(", "a", ")", "}");
    check_nesting(bpm_juel_translate, "${", "-", "a", "", "}");
    check_nesting(bpm_juel_translate, "${", "!", "a", "", "}");
    check_nesting(bpm_juel_translate, "${", "not empty ", "a", "", "}");
    check_nesting(bpm_juel_translate, "${", "a ? b : ", "c", "", "}");
    check_nesting(bpm_juel_translate, "${", "a ? (", "b", ") : c", "}");
    check_nesting(bpm_juel_translate, "${", "!(a || ", "b", ")", "}");
    check_nesting(bpm_juel_translate, "${a", ".b", "", "", "}");
    check_nesting(bpm_juel_translate, "${", "x[", "0", "]", "}");
    check_nesting(bpm_juel_translate, "${", "a + ", "a", "", "}");
    check_nesting(bpm_juel_translate, "${", "a && ", "a", "", "}");
    check_nesting(bpm_juel_translate, "${", "l.contains(", "x", ")", "}");
    check_nesting(bpm_juel_translate, "${", "execution.getVariable(", "'x'", ")", "}");
    check_nesting(bpm_juel_translate, "${", "execution.hasVariable(", "'x'", ")", "}");
    check_nesting(bpm_juel_translate, "", "${a}", "", "", "");

    bpm_err e2 = {0};
    char *deep = repeat("${", "(", 1000, "a", ")", "}");
    bpm_arena *a2 = bpm_arena_new();
    assert_int_equal(bpm_juel_translate(deep, a2, &lua, &e2), BPM_INVALID);
    assert_string_equal(
        e2.msg, "invalid JUEL: expression nested too deeply (more than 64 levels) at column 67");
    free(deep);
    bpm_arena_free(a2);
}

static void test_fuzz(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "${",
        "#{",
        "}",
        "a",
        "b.c",
        "[0]",
        "['k']",
        "'s'",
        "\"q\"",
        "'\\'",
        "1",
        "2.5",
        ".5e3",
        "+",
        "-",
        "*",
        "/",
        " div ",
        " mod ",
        "%",
        "==",
        "!=",
        "<",
        ">=",
        " lt ",
        "&&",
        "||",
        " and ",
        " or ",
        " not ",
        "!",
        "empty ",
        "?",
        ":",
        "(",
        ")",
        " ",
        "true",
        "null",
        "execution",
        ".getVariable(",
        ".hasVariable(",
        ".processBusinessKey",
        ".size()",
        ".contains(",
        ".send()",
        ".",
        ",",
        "\\",
        "$",
        "=",
        "->",
        "+=",
        ";",
        "{",
        "fn:f(",
        "x(",
        "now()",
        "'",
        "\n",
        "\xc3\xa9",
        "\x01",
        "instanceof",
        "[",
        "]",
    };
    fuzz(bpm_juel_translate, pieces, N_OF(pieces), "", 20000);
    fuzz(bpm_juel_translate, pieces, N_OF(pieces), "${", 20000);
}

static void juel_value(gen *g, int depth)
{
    static const char *const atoms[] = {
        "a",
        "b",
        "list",
        "map",
        "n",
        "s",
        "execution.getVariable('missing')",
        "map.k",
        "list[0]",
        "list[9]",
        "'str'",
        "''",
        "1",
        "2.5",
        "0",
        "true",
        "false",
        "null",
        "list.size()",
        "s.length()",
        "execution.getVariable('a')",
        "execution.processBusinessKey",
        "execution.hasVariable('n')",
        "now()",
        "map['k']",
        "s.toUpperCase()",
    };
    static const char *const ops[] = {" + ",  " - ",   " * ",  " / ",  " div ", " % ",  " mod ",
                                      " == ", " != ",  " < ",  " <= ", " gt ",  " ge ", " && ",
                                      " || ", " and ", " or ", " eq ", " ne "};
    static const char *const prefix[] = {"!", "not ", "empty ", "-"};
    if (depth == 0 || next_rand(&g->st) % 4 == 0) {
        gput(g, pick(g, atoms, N_OF(atoms)));
        return;
    }
    switch (next_rand(&g->st) % 6) {
    case 0:
    case 1:
        juel_value(g, depth - 1);
        gput(g, pick(g, ops, N_OF(ops)));
        juel_value(g, depth - 1);
        break;
    case 2:
        /* "x : f()" would read as the EL function x:f(), as in JUEL */
        juel_value(g, depth - 1);
        gput(g, " ? ");
        juel_value(g, depth - 1);
        gput(g, " : (");
        juel_value(g, depth - 1);
        gput(g, ")");
        break;
    case 3:
        gput(g, pick(g, prefix, N_OF(prefix)));
        gput(g, "(");
        juel_value(g, depth - 1);
        gput(g, ")");
        break;
    case 4:
        gput(g, "list.contains(");
        juel_value(g, depth - 1);
        gput(g, ")");
        break;
    default:
        gput(g, "(");
        juel_value(g, depth - 1);
        gput(g, ")");
        break;
    }
}

static void juel_expr(gen *g, int depth)
{
    uint64_t shape = next_rand(&g->st) % 3;
    if (shape == 0)
        gput(g, "Text ");
    gput(g, "${");
    juel_value(g, depth);
    gput(g, "}");
    if (shape == 1) {
        gput(g, " and #{");
        juel_value(g, depth);
        gput(g, "}!");
    }
}

/* JUEL coercions may fail at run time (as in Camunda), but only with the
 * helpers' messages. */
static void test_generated(void **state)
{
    (void)state;
    run_generated(bpm_juel_translate, juel_expr,
                  "{\"a\":5,\"b\":\"7\",\"list\":[\"x\",2],\"map\":{\"k\":\"v\"},"
                  "\"n\":null,\"s\":\"Text\"}",
                  5000, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supported),      cmocka_unit_test(test_refused),
        cmocka_unit_test(test_runtime_errors), cmocka_unit_test(test_string_bytes),
        cmocka_unit_test(test_limits),         cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
