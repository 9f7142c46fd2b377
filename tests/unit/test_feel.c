/* FEEL (Camunda 8) to Lua: supported expressions (exact Lua and value), refused
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
    {"amount > 1000 and approved",
     "return __dx.fand(__dx.fgt(vars.amount, 1000), vars.approved)",
     "{\"amount\":1500,\"approved\":true}", "true"},
    {"amount > 1000 and approved",
     "return __dx.fand(__dx.fgt(vars.amount, 1000), vars.approved)",
     "{\"amount\":500,\"approved\":true}", "false"},
    {"amount > 1000 or approved",
     "return __dx.for_(__dx.fgt(vars.amount, 1000), vars.approved)",
     "{\"approved\":true}", "true"},
    {"amount > 1000 and approved",
     "return __dx.fand(__dx.fgt(vars.amount, 1000), vars.approved)",
     "{\"approved\":true}", "null"},
    {"a and b and c",
     "return __dx.fand(vars.a, vars.b, vars.c)",
     "{\"a\":true,\"b\":true,\"c\":false}", "false"},
    {"not(approved)",
     "return __dx.fnot(vars.approved)",
     "{\"approved\":true}", "false"},
    {"not(x)",
     "return __dx.fnot(vars.x)",
     "{\"x\":\"yes\"}", "null"},
    {"status = \"open\"",
     "return __dx.feq(vars.status, \"open\")",
     "{\"status\":\"open\"}", "true"},
    {"status != \"open\"",
     "return __dx.fne(vars.status, \"open\")",
     "{\"status\":\"open\"}", "false"},
    {"x = null",
     "return __dx.feq(vars.x, null)",
     "{}", "true"},
    {"x = null",
     "return __dx.feq(vars.x, null)",
     "{\"x\":null}", "true"},
    {"x != null",
     "return __dx.fne(vars.x, null)",
     "{\"x\":0}", "true"},
    {"n = \"1\"",
     "return __dx.feq(vars.n, \"1\")",
     "{\"n\":1}", "null"},
    {"n < 5 and n >= 1",
     "return __dx.fand(__dx.flt(vars.n, 5), __dx.fge(vars.n, 1))",
     "{\"n\":1}", "true"},
    {"n <= 0.5",
     "return __dx.fle(vars.n, 0.5)",
     "{\"n\":0.5}", "true"},
    {"name < \"b\"",
     "return __dx.flt(vars.name, \"b\")",
     "{\"name\":\"a\"}", "true"},
    {"x in [1, 2, 3]",
     "return __dx.fin(vars.x, {1, 2, 3})",
     "{\"x\":2}", "true"},
    {"x in [\"a\", \"b\"]",
     "return __dx.fin(vars.x, {\"a\", \"b\"})",
     "{\"x\":\"c\"}", "false"},
    {"x in 1..10",
     "return __dx.finr(vars.x, 1, 10, true, true)",
     "{\"x\":10}", "true"},
    {"x in [1..10)",
     "return __dx.finr(vars.x, 1, 10, true, false)",
     "{\"x\":10}", "false"},
    {"x in (1..10]",
     "return __dx.finr(vars.x, 1, 10, false, true)",
     "{\"x\":1}", "false"},
    {"x in ]1..10]",
     "return __dx.finr(vars.x, 1, 10, false, true)",
     "{\"x\":5}", "true"},
    {"x in < 10",
     "return __dx.flt(vars.x, 10)",
     "{\"x\":5}", "true"},
    {"x in (< 0, > 100)",
     "return (function(l1) return __dx.flt(l1, 0) == true or __dx.fgt(l1, 100) == true end)(vars.x)",
     "{\"x\":500}", "true"},
    {"x in (1, 2, [5..6])",
     "return (function(l1) return __dx.fin(l1, 1) or __dx.fin(l1, 2) or __dx.finr(l1, 5, 6, true, true) == true end)(vars.x)",
     "{\"x\":6}", "true"},
    {"x in allowed",
     "return __dx.fin(vars.x, vars.allowed)",
     "{\"x\":\"b\",\"allowed\":[\"a\",\"b\"]}", "true"},
    {"x between 1 and 10",
     "return __dx.fbetween(vars.x, 1, 10)",
     "{\"x\":10}", "true"},
    {"x between 1 and 10",
     "return __dx.fbetween(vars.x, 1, 10)",
     "{\"x\":11}", "false"},
    {"if approved then \"yes\" else \"no\"",
     "return (vars.approved == true and {\"yes\"} or {\"no\"})[1]",
     "{\"approved\":true}", "\"yes\""},
    {"if approved then \"yes\" else \"no\"",
     "return (vars.approved == true and {\"yes\"} or {\"no\"})[1]",
     "{}", "\"no\""},
    {"if x > 0 then false else true",
     "return (__dx.fgt(vars.x, 0) == true and {false} or {true})[1]",
     "{\"x\":1}", "false"},
    {"1 + 2 * 3",
     "return __dx.fadd(1, __dx.fmul(2, 3))",
     "{}", "7"},
    {"(1 + 2) * 3 - 4",
     "return __dx.fsub(__dx.fmul(__dx.fadd(1, 2), 3), 4)",
     "{}", "5"},
    {"2 ** 10",
     "return __dx.fpow(2, 10)",
     "{}", "1024"},
    {"10 / 4",
     "return __dx.fdiv(10, 4)",
     "{}", "2.5"},
    {"10 / 2",
     "return __dx.fdiv(10, 2)",
     "{}", "5"},
    {"0.1 + 0.2",
     "return __dx.fadd(0.1, 0.2)",
     "{}", "0.3"},
    {"1 / 0",
     "return __dx.fdiv(1, 0)",
     "{}", "null"},
    {"-amount",
     "return __dx.fneg(vars.amount)",
     "{\"amount\":5}", "-5"},
    {"- -5",
     "return __dx.fneg(-5)",
     "{}", "5"},
    {"amount + missing",
     "return __dx.fadd(vars.amount, vars.missing)",
     "{\"amount\":5}", "null"},
    {"\"Hello \" + name + \"!\"",
     "return __dx.fadd(__dx.fadd(\"Hello \", vars.name), \"!\")",
     "{\"name\":\"Ann\"}", "\"Hello Ann!\""},
    {"\"n\" + 1",
     "return __dx.fadd(\"n\", 1)",
     "{}", "null"},
    {"order.customer.name",
     "return __dx.fget(__dx.fget(vars.order, \"customer\"), \"name\")",
     "{\"order\":{\"customer\":{\"name\":\"Ann\"}}}", "\"Ann\""},
    {"order.missing.name",
     "return __dx.fget(__dx.fget(vars.order, \"missing\"), \"name\")",
     "{\"order\":{}}", "null"},
    {"`first name`",
     "return vars[\"first name\"]",
     "{\"first name\":\"Ann\"}", "\"Ann\""},
    {"[1, x, \"a\", null]",
     "return {1, __dx.nn(vars.x), \"a\", null}",
     "{}", "[1,null,\"a\",null]"},
    /* empty lists are marked, so they stay [] in JSON; an empty context is {} */
    {"[]",
     "return __dx.list()",
     "{}", "[]"},
    {"{}",
     "return {}",
     "{}", "{}"},
    {"[[], {}]",
     "return {__dx.list(), {}}",
     "{}", "[[],{}]"},
    {"{a: [], b: {}}",
     "return {a = __dx.list(), b = {}}",
     "{}", "{\"a\":[],\"b\":{}}"},
    {"xs",
     "return vars.xs",
     "{\"xs\":[]}", "[]"},
    {"obj",
     "return vars.obj",
     "{\"obj\":{}}", "{}"},
    {"items[price > 1000]",
     "return __dx.ffilter(vars.items, function(l1) return __dx.fgt(__dx.fk(l1, \"price\", vars.price), 1000) end)",
     "{\"items\":[{\"price\":5}]}", "[]"},
    {"items[price > 1000].name",
     "return __dx.fget(__dx.ffilter(vars.items, function(l1) return __dx.fgt(__dx.fk(l1, \"price\", vars.price), 1000) end), \"name\")",
     "{\"items\":[{\"name\":\"a\",\"price\":5}]}", "[]"},
    {"xs.name",
     "return __dx.fget(vars.xs, \"name\")",
     "{\"xs\":[]}", "[]"},
    {"obj.name",
     "return __dx.fget(vars.obj, \"name\")",
     "{\"obj\":{}}", "null"},
    {"for x in [] return x",
     "return __dx.ffor(__dx.list(), function(l1) return l1 end)",
     "{}", "[]"},
    {"for x in xs return x * 2",
     "return __dx.ffor(vars.xs, function(l1) return __dx.fmul(l1, 2) end)",
     "{\"xs\":[]}", "[]"},
    {"for x in xs return date(x)",
     "return __dx.fout(__dx.ffor(vars.xs, function(l1) return __dx.fn_date(l1) end))",
     "{\"xs\":[]}", "[]"},
    {"{d: date(\"2024-01-01\"), l: []}",
     "return __dx.fout({d = __dx.nn(__dx.fn_date(\"2024-01-01\")), l = __dx.list()})",
     "{}", "{\"d\":\"2024-01-01\",\"l\":[]}"},
    {"[date(\"2024-01-01\"), []]",
     "return __dx.fout({__dx.nn(__dx.fn_date(\"2024-01-01\")), __dx.list()})",
     "{}", "[\"2024-01-01\",[]]"},
    {"append([], 1)",
     "return __dx.fn_append(__dx.list(), 1)",
     "{}", "[1]"},
    {"concatenate([], xs)",
     "return __dx.fn_concatenate(__dx.list(), vars.xs)",
     "{\"xs\":[]}", "[]"},
    {"sublist(xs, 1, 0)",
     "return __dx.fn_sublist(vars.xs, 1, 0)",
     "{\"xs\":[1]}", "[]"},
    {"reverse(xs)",
     "return __dx.fn_reverse(vars.xs)",
     "{\"xs\":[]}", "[]"},
    {"index of(xs, 9)",
     "return __dx.fn_index_of(vars.xs, 9)",
     "{\"xs\":[1]}", "[]"},
    {"distinct values(xs)",
     "return __dx.fn_distinct_values(vars.xs)",
     "{\"xs\":[]}", "[]"},
    {"flatten([[], [[]]])",
     "return __dx.fn_flatten({__dx.list(), {__dx.list()}})",
     "{}", "[]"},
    {"count(xs)",
     "return __dx.fn_count(vars.xs)",
     "{\"xs\":[]}", "0"},
    {"count(obj)",
     "return __dx.fn_count(vars.obj)",
     "{\"obj\":{}}", "null"},
    {"string(xs) + string(obj) + string({})",
     "return __dx.fadd(__dx.fadd(__dx.fn_string(vars.xs), __dx.fn_string(vars.obj)), __dx.fn_string({}))",
     "{\"xs\":[],\"obj\":{}}", "\"[]{}{}\""},
    {"{a: 1, \"b c\": [true]}",
     "return {a = 1, [\"b c\"] = {true}}",
     "{}", "{\"a\":1,\"b c\":[true]}"},
    {"{a: 1, b: a + 1}",
     "return (function() local l1 = {} l1.a = 1 l1.b = __dx.nn(__dx.fadd(l1.a, 1)) return l1 end)()",
     "{\"a\":10}", "{\"a\":1,\"b\":2}"},
    {"{total: x * 2}.total",
     "return __dx.fget({total = __dx.nn(__dx.fmul(vars.x, 2))}, \"total\")",
     "{\"x\":4}", "8"},
    {"items[price > 10]",
     "return __dx.ffilter(vars.items, function(l1) return __dx.fgt(__dx.fk(l1, \"price\", vars.price), 10) end)",
     "{\"items\":[{\"name\":\"a\",\"price\":5},{\"name\":\"b\",\"price\":15}]}", "[{\"name\":\"b\",\"price\":15}]"},
    {"items[price > 10].name",
     "return __dx.fget(__dx.ffilter(vars.items, function(l1) return __dx.fgt(__dx.fk(l1, \"price\", vars.price), 10) end), \"name\")",
     "{\"items\":[{\"name\":\"a\",\"price\":5},{\"name\":\"b\",\"price\":15}]}", "[\"b\"]"},
    {"items[item.price < limit]",
     "return __dx.ffilter(vars.items, function(l1) return __dx.flt(__dx.fget(l1, \"price\"), __dx.fk(l1, \"limit\", vars.limit)) end)",
     "{\"items\":[{\"price\":5},{\"price\":15}],\"limit\":10}", "[{\"price\":5}]"},
    {"items.name",
     "return __dx.fget(vars.items, \"name\")",
     "{\"items\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", "[\"a\",\"b\"]"},
    {"xs[item > 1]",
     "return __dx.ffilter(vars.xs, function(l1) return __dx.fgt(l1, 1) end)",
     "{\"xs\":[1,2,3]}", "[2,3]"},
    {"xs[1]",
     "return __dx.fidx(vars.xs, 1)",
     "{\"xs\":[7,8,9]}", "7"},
    {"xs[-1]",
     "return __dx.fidx(vars.xs, -1)",
     "{\"xs\":[7,8,9]}", "9"},
    {"xs[5]",
     "return __dx.fidx(vars.xs, 5)",
     "{\"xs\":[7,8,9]}", "null"},
    {"xs[i]",
     "return __dx.ffilter(vars.xs, function(l1) return __dx.fk(l1, \"i\", vars.i) end)",
     "{\"xs\":[7,8,9],\"i\":2}", "8"},
    {"some x in xs satisfies x > 2",
     "return __dx.fsome(vars.xs, function(l1) return __dx.fgt(l1, 2) end)",
     "{\"xs\":[1,2,3]}", "true"},
    {"every x in xs satisfies x > 1",
     "return __dx.fevery(vars.xs, function(l1) return __dx.fgt(l1, 1) end)",
     "{\"xs\":[1,2,3]}", "false"},
    {"every x in [] satisfies x > 1",
     "return __dx.fevery(__dx.list(), function(l1) return __dx.fgt(l1, 1) end)",
     "{}", "true"},
    {"for x in xs return x * 2",
     "return __dx.ffor(vars.xs, function(l1) return __dx.fmul(l1, 2) end)",
     "{\"xs\":[1,2,3]}", "[2,4,6]"},
    {"for i in 1..3 return i",
     "return __dx.ffor(__dx.frange(1, 3), function(l1) return l1 end)",
     "{}", "[1,2,3]"},
    {"for x in [1, 2], y in [10, 20] return x + y",
     "return __dx.ffor({1, 2}, function(l1) return __dx.ffor({10, 20}, function(l2) return __dx.fadd(l1, l2) end) end, true)",
     "{}", "[11,21,12,22]"},
    {"for o in orders return o.id",
     "return __dx.ffor(vars.orders, function(l1) return __dx.fget(l1, \"id\") end)",
     "{\"orders\":[{\"id\":\"a\"},{\"id\":\"b\"}]}", "[\"a\",\"b\"]"},
    {"string length(s)",
     "return __dx.fn_string_length(vars.s)",
     "{\"s\":\"h\\u00e9llo\"}", "5"},
    {"substring(\"foobar\", 3)",
     "return __dx.fn_substring(\"foobar\", 3)",
     "{}", "\"obar\""},
    {"substring(\"foobar\", -2, 1)",
     "return __dx.fn_substring(\"foobar\", -2, 1)",
     "{}", "\"a\""},
    {"upper case(s) + lower case(\"AB\")",
     "return __dx.fadd(__dx.fn_upper_case(vars.s), __dx.fn_lower_case(\"AB\"))",
     "{\"s\":\"ab\"}", "\"ABab\""},
    {"contains(s, \"ell\")",
     "return __dx.fn_contains(vars.s, \"ell\")",
     "{\"s\":\"hello\"}", "true"},
    {"starts with(s, \"he\") and ends with(s, \"lo\")",
     "return __dx.fand(__dx.fn_starts_with(vars.s, \"he\"), __dx.fn_ends_with(vars.s, \"lo\"))",
     "{\"s\":\"hello\"}", "true"},
    {"substring before(\"a-b\", \"-\") + substring after(\"a-b\", \"-\")",
     "return __dx.fadd(__dx.fn_substring_before(\"a-b\", \"-\"), __dx.fn_substring_after(\"a-b\", \"-\"))",
     "{}", "\"ab\""},
    {"string join([\"a\", null, \"c\"], \", \")",
     "return __dx.fn_string_join({\"a\", null, \"c\"}, \", \")",
     "{}", "\"a, c\""},
    {"string(12.5) + string(true)",
     "return __dx.fadd(__dx.fn_string(12.5), __dx.fn_string(true))",
     "{}", "\"12.5true\""},
    {"number(\"1,000.5\", \",\", \".\")",
     "return __dx.fn_number(\"1,000.5\", \",\", \".\")",
     "{}", "1000.5"},
    {"number(\"abc\")",
     "return __dx.fn_number(\"abc\")",
     "{}", "null"},
    {"count(xs)",
     "return __dx.fn_count(vars.xs)",
     "{\"xs\":[1,2,3]}", "3"},
    {"sum(xs)",
     "return __dx.fn_sum(vars.xs)",
     "{\"xs\":[1,2,3.5]}", "6.5"},
    {"sum([])",
     "return __dx.fn_sum(__dx.list())",
     "{}", "null"},
    {"min(xs)",
     "return __dx.fn_min(vars.xs)",
     "{\"xs\":[3,1,2]}", "1"},
    {"max(3, 9, 2)",
     "return __dx.fn_max(3, 9, 2)",
     "{}", "9"},
    {"mean(xs)",
     "return __dx.fn_mean(vars.xs)",
     "{\"xs\":[1,2,3,4]}", "2.5"},
    {"list contains(xs, 2)",
     "return __dx.fn_list_contains(vars.xs, 2)",
     "{\"xs\":[1,2,3]}", "true"},
    {"append(xs, 4, null)",
     "return __dx.fn_append(vars.xs, 4, null)",
     "{\"xs\":[1]}", "[1,4,null]"},
    {"distinct values([1, 2, 1]) = [1, 2]",
     "return __dx.feq(__dx.fn_distinct_values({1, 2, 1}), {1, 2})",
     "{}", "true"},
    {"reverse(sublist([1, 2, 3, 4], 2, 2))",
     "return __dx.fn_reverse(__dx.fn_sublist({1, 2, 3, 4}, 2, 2))",
     "{}", "[3,2]"},
    {"is defined(x)",
     "return __dx.fn_is_defined(vars.x)",
     "{}", "false"},
    {"is defined(x)",
     "return __dx.fn_is_defined(vars.x)",
     "{\"x\":null}", "true"},
    {"abs(-5) + floor(1.5) + ceiling(1.2)",
     "return __dx.fadd(__dx.fadd(__dx.fn_abs(-5), __dx.fn_floor(1.5)), __dx.fn_ceiling(1.2))",
     "{}", "8"},
    {"round half up(2.675, 2)",
     "return __dx.fn_round_half_up(2.675, 2)",
     "{}", "2.68"},
    {"decimal(2.5, 0)",
     "return __dx.fn_decimal(2.5, 0)",
     "{}", "2"},
    {"modulo(-7, 3)",
     "return __dx.fn_modulo(-7, 3)",
     "{}", "2"},
    {"now()",
     "return __dx.fout(__dx.fn_now(execution))",
     "{}", "\"2026-01-01T09:00:00Z\""},
    {"today()",
     "return __dx.fout(__dx.fn_today(execution))",
     "{}", "\"2026-01-01\""},
    {"now() > date and time(due)",
     "return __dx.fout(__dx.fgt(__dx.fn_now(execution), __dx.fn_date_and_time(vars.due)))",
     "{\"due\":\"2025-12-31T23:59:59Z\"}", "true"},
    {"date and time(\"2024-01-01T10:00:00+02:00\")",
     "return __dx.fout(__dx.fn_date_and_time(\"2024-01-01T10:00:00+02:00\"))",
     "{}", "\"2024-01-01T10:00:00+02:00\""},
    {"date(\"2024-01-31\") + duration(\"P1M\")",
     "return __dx.fout(__dx.fadd(__dx.fn_date(\"2024-01-31\"), __dx.fn_duration(\"P1M\")))",
     "{}", "\"2024-02-29\""},
    {"date and time(\"2024-01-01T00:00:00Z\") + duration(\"PT36H\")",
     "return __dx.fout(__dx.fadd(__dx.fn_date_and_time(\"2024-01-01T00:00:00Z\"), __dx.fn_duration(\"PT36H\")))",
     "{}", "\"2024-01-02T12:00:00Z\""},
    {"date(\"2024-03-01\") - date(\"2024-02-01\")",
     "return __dx.fout(__dx.fsub(__dx.fn_date(\"2024-03-01\"), __dx.fn_date(\"2024-02-01\")))",
     "{}", "\"P29D\""},
    {"duration(\"P1DT12H\") * 2",
     "return __dx.fout(__dx.fmul(__dx.fn_duration(\"P1DT12H\"), 2))",
     "{}", "\"P3D\""},
    {"date(\"2024-03-15\").month + today().year",
     "return __dx.fout(__dx.fadd(__dx.fget(__dx.fn_date(\"2024-03-15\"), \"month\"), __dx.fget(__dx.fn_today(execution), \"year\")))",
     "{}", "2029"},
    {"{when: now(), list: [today()]}",
     "return __dx.fout({when = __dx.nn(__dx.fn_now(execution)), list = {__dx.nn(__dx.fn_today(execution))}})",
     "{}", "{\"when\":\"2026-01-01T09:00:00Z\",\"list\":[\"2026-01-01\"]}"},
    {"@\"P2Y\" > duration(\"P1Y11M\")",
     "return __dx.fout(__dx.fgt(__dx.ftemporal(\"P2Y\"), __dx.fn_duration(\"P1Y11M\")))",
     "{}", "true"},
    {"date(\"2024-02-30\")",
     "return __dx.fout(__dx.fn_date(\"2024-02-30\"))",
     "{}", "null"},
    {"\"tab\\there\"",
     "return \"tab\\009here\"",
     "{}", "\"tab\\there\""},
    {"\"\\u00e9\\\"\\\\\"",
     "return \"\\195\\169\\034\\092\"",
     "{}", "\"\\u00e9\\\"\\\\\""},
    {"\"]] .. os.exit() --\"",
     "return \"]] .. os.exit() --\"",
     "{}", "\"]] .. os.exit() --\""},
    {"end",
     "return vars[\"end\"]",
     "{\"end\":1}", "1"},
    {"x // a comment\n + 1",
     "return __dx.fadd(vars.x, 1)",
     "{\"x\":1}", "2"},
    {"/* c */ 42",
     "return 42",
     "{}", "42"},
};

static const ecase ERRORS[] = {
    {"foo(1)",
     "unsupported FEEL: unknown function \"foo\" at column 1"},
    {"x + fooBar(1, 2)",
     "unsupported FEEL: unknown function \"fooBar\" at column 5"},
    {"matches(s, \"x\")",
     "unsupported FEEL: function \"matches\" is not in the supported subset at column 1"},
    {"day of week(today())",
     "unsupported FEEL: function \"day of week\" is not in the supported subset at column 1"},
    {"substring(string: \"a\", start position: 1)",
     "unsupported FEEL: named arguments at column 11"},
    {"string length(s, 1)",
     "invalid FEEL: function \"string length\" takes 1 argument, not 2 at column 1"},
    {"substring(\"a\")",
     "invalid FEEL: function \"substring\" takes 2 to 3 arguments, not 1 at column 1"},
    {"x instance of number",
     "unsupported FEEL: \"instance of\" at column 3"},
    {"function(a) a + 1",
     "unsupported FEEL: function definitions at column 1"},
    {"? > 5",
     "unsupported FEEL: \"?\" (the input value of unary tests) at column 1"},
    {"< 5",
     "unsupported FEEL: unary test outside \"in\" at column 1"},
    {"[1..10]",
     "unsupported FEEL: a range is allowed only after \"in\" (x in 1..10) at column 1"},
    {"f.g(1)",
     "unsupported FEEL: calling a value (only built-in functions can be called) at column 4"},
    {"not x",
     "invalid FEEL: \"not\" is a function: write not(x) at column 1"},
    {"",
     "invalid FEEL: empty expression at column 1"},
    {"1 +",
     "invalid FEEL: unexpected end of expression at column 4"},
    {"(1 + 2",
     "invalid FEEL: expected \")\" but found end of expression at column 7"},
    {"[1, 2",
     "invalid FEEL: expected \"]\" but found end of expression at column 6"},
    {"{a 1}",
     "invalid FEEL: expected \":\" but found \"1\" at column 4"},
    {"if a then b",
     "invalid FEEL: expected \"else\" but found end of expression at column 12"},
    {"for x xs return x",
     "invalid FEEL: expected \"in\" but found \"xs\" at column 7"},
    {"some x in xs x > 1",
     "invalid FEEL: expected \"satisfies\" but found \"x\" at column 14"},
    {"x between 1 or 2",
     "invalid FEEL: expected \"and\" but found \"or\" at column 13"},
    {"\"abc",
     "invalid FEEL: unterminated string at column 1"},
    {"1.2.3",
     "invalid FEEL: unexpected \".3\" at column 4"},
    {"12abc",
     "invalid FEEL: malformed number at column 1"},
    {"a # b",
     "invalid FEEL: unexpected character \"#\" at column 3"},
    {"a b",
     "invalid FEEL: unexpected \"b\" at column 3"},
    {"x in (1..2",
     "invalid FEEL: expected \"]\" or \")\" to end the range but found end of expression at column 11"},
    {"/* open",
     "invalid FEEL: unterminated comment at column 1"},
    {"'single'",
     "invalid FEEL: unexpected character \"'\" at column 1"},
    {"x\n  + * 2",
     "invalid FEEL: unexpected \"*\" at line 2, column 5"},
};
/* clang-format on */

/* ---- tests ------------------------------------------------------------------ */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void test_supported(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_OF(CASES); i++)
        run_case(bpm_feel_translate, &CASES[i], i);
}

static void test_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_OF(ERRORS); i++)
        run_error(bpm_feel_translate, &ERRORS[i], i);
}

/* now() and today() read execution.now, never a clock: another `now`
 * gives another answer. */
static void test_time_is_an_input(void **state)
{
    (void)state;
    bpm_arena *a = bpm_arena_new();
    const char *lua;
    assert_int_equal(bpm_feel_translate("string(now()) + \" \" + string(today())", a, &lua, NULL),
                     BPM_OK);
    lua_State *L = new_state();
    assert_int_equal(luaL_loadbufferx(L, lua, strlen(lua), "=expr", "t"), LUA_OK);
    assert_int_equal(luaL_dostring(L,
                                   "return {vars = {}, null = null, __dx = __dx, string = string,"
                                   " execution = {now = 951782400000}}"),
                     LUA_OK);
    lua_setupvalue(L, -2, 1);
    assert_int_equal(lua_pcall(L, 0, 1, 0), LUA_OK);
    assert_string_equal(lua_tostring(L, -1), "2000-02-29T00:00:00Z 2000-02-29");
    lua_close(L);
    bpm_arena_free(a);
}

static void test_string_bytes(void **state)
{
    (void)state;
    lua_State *L = new_state();
    for (int b = 1; b < 256; b++) {
        char expr[32];
        if (b == '"' || b == '\\')
            snprintf(expr, sizeof expr, "\"\\%c\"", b);
        else
            snprintf(expr, sizeof expr, "\"%c\"", b);
        bpm_arena *a = bpm_arena_new();
        const char *lua;
        assert_int_equal(bpm_feel_translate(expr, a, &lua, NULL), BPM_OK);
        assert_int_equal(load_chunk(L, lua, "{}"), LUA_OK);
        if (lua_pcall(L, 0, 1, 0))
            fail_msg("byte %d: %s", b, lua_tostring(L, -1));
        size_t n;
        const char *got = lua_tolstring(L, -1, &n);
        assert_int_equal(n, 1);
        assert_int_equal((unsigned char)got[0], b);
        lua_pop(L, 1);
        bpm_arena_free(a);
    }
    /* names are quoted the same way */
    bpm_arena *a = bpm_arena_new();
    const char *lua;
    assert_int_equal(bpm_feel_translate("`a\"]..x--`", a, &lua, NULL), BPM_OK);
    assert_string_equal(lua, "return vars[\"a\\034]..x--\"]");
    assert_int_equal(load_chunk(L, lua, "{\"a\\\"]..x--\": 7}"), LUA_OK);
    assert_int_equal(lua_pcall(L, 0, 1, 0), LUA_OK);
    assert_int_equal(lua_tointeger(L, -1), 7);
    bpm_arena_free(a);
    lua_close(L);
}

static void test_limits(void **state)
{
    (void)state;
    /* the longest accepted text: a list of 32768 ones */
    char *big = repeat("[1", ",1", BPM_DIALECT_MAX_TEXT / 2 - 2, "]", "", "");
    assert_int_equal(strlen(big), BPM_DIALECT_MAX_TEXT - 1);
    check_loads(bpm_feel_translate, big, true);
    free(big);
    char *huge = repeat("", "1+", BPM_DIALECT_MAX_TEXT / 2, "1", "", "");
    bpm_arena *a = bpm_arena_new();
    bpm_err err = {0};
    const char *lua;
    assert_int_equal(bpm_feel_translate(huge, a, &lua, &err), BPM_INVALID);
    assert_string_equal(err.msg, "FEEL expression too long (65537 bytes, limit 65536)");
    free(huge);
    bpm_arena_free(a);

    check_nesting(bpm_feel_translate, "", "(", "a", ")", "");
    check_nesting(bpm_feel_translate, "", "-", "a", "", "");
    check_nesting(bpm_feel_translate, "", "[", "1", "]", "");
    check_nesting(bpm_feel_translate, "", "{a: ", "1", "}", "");
    check_nesting(bpm_feel_translate, "", "{a: 1, b: a + ", "1", "}", "");
    check_nesting(bpm_feel_translate, "", "xs[", "1", "]", "");
    check_nesting(bpm_feel_translate, "", "xs[item > ", "1", "]", "");
    check_nesting(bpm_feel_translate, "", "items[price > ", "1", "]", "");
    check_nesting(bpm_feel_translate, "", "if a then ", "1", " else 2", "");
    check_nesting(bpm_feel_translate, "", "if (if a then b else c) then ", "1", " else 2", "");
    check_nesting(bpm_feel_translate, "", "for x in xs return ", "x", "", "");
    check_nesting(bpm_feel_translate, "for ", "x in xs, ", "y in xs return x", "", "");
    check_nesting(bpm_feel_translate, "", "some x in xs satisfies ", "x", "", "");
    check_nesting(bpm_feel_translate, "", "not(", "a", ")", "");
    check_nesting(bpm_feel_translate, "", "a + ", "a", "", "");
    check_nesting(bpm_feel_translate, "", "a and ", "a", "", "");
    check_nesting(bpm_feel_translate, "", "(v in (1, ", "2", "))", "");
    check_nesting(bpm_feel_translate, "", "sum(1, 2, 3, 4, 5, 6, 7, ", "8", ")", "");
    check_nesting(bpm_feel_translate, "", "x between 1 and (", "2", ")", "");
    check_nesting(bpm_feel_translate, "", "a.b", "", "", "");
    check_nesting(bpm_feel_translate, "", "date(", "\"2024-01-01\"", ")", "");

    bpm_err e2 = {0};
    char *deep = repeat("", "[", 1000, "1", "]", "");
    bpm_arena *a2 = bpm_arena_new();
    assert_int_equal(bpm_feel_translate(deep, a2, &lua, &e2), BPM_INVALID);
    assert_string_equal(
        e2.msg, "invalid FEEL: expression nested too deeply (more than 64 levels) at column 65");
    free(deep);
    bpm_arena_free(a2);
}

static void test_fuzz(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "a",
        "xs",
        "item",
        "1",
        "2.5",
        ".5",
        "\"s\"",
        "\"\\u00e9\\n\"",
        "+",
        "-",
        "*",
        "/",
        "**",
        "=",
        "!=",
        "<",
        ">=",
        " and ",
        " or ",
        "not(",
        " in ",
        " between ",
        "..",
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        ":",
        ",",
        ".",
        "if ",
        " then ",
        " else ",
        "for ",
        " return ",
        "some ",
        "every ",
        " satisfies ",
        "string length(",
        "date and time(",
        "date(",
        "now()",
        "@",
        "`n m`",
        "null",
        "true",
        "?",
        "//",
        "/*",
        "*/",
        "\\",
        "\"",
        " ",
        "\n",
        "sum(",
        "x in ",
        "function",
        " instance of ",
        "a: ",
        "price > 1",
        "duration(\"P1D\")",
        "\xc3\xa9",
        "\x01",
        "'",
    };
    fuzz(bpm_feel_translate, pieces, N_OF(pieces), "", 40000);
}

static void feel_expr(gen *g, int depth);

static void sub(gen *g, int depth)
{
    gput(g, "(");
    feel_expr(g, depth);
    gput(g, ")");
}

static void feel_expr(gen *g, int depth)
{
    static const char *const atoms[] = {
        "a",
        "b",
        "xs",
        "items",
        "n",
        "s",
        "c",
        "missing",
        "1",
        "2.5",
        "-3",
        "0",
        "\"str\"",
        "\"\"",
        "true",
        "false",
        "null",
        "[1, 2]",
        "[]",
        "{k: 1}",
        "date(\"2024-01-31\")",
        "now()",
        "today()",
        "duration(\"P1DT2H\")",
        "duration(\"P1Y\")",
        "date and time(\"2024-01-01T10:00:00+01:00\")",
        "@\"PT5M\"",
    };
    static const char *const ops[] = {" + ", " - ",  " * ", " / ",  " ** ",  " = ", " != ",
                                      " < ", " <= ", " > ", " >= ", " and ", " or "};
    static const char *const fn1[] = {
        "string length(", "upper case(", "lower case(",
        "string(",        "number(",     "count(",
        "sum(",           "min(",        "max(",
        "mean(",          "abs(",        "floor(",
        "ceiling(",       "is defined(", "not(",
        "reverse(",       "flatten(",    "distinct values(",
        "is empty(",      "date(",       "date and time(",
        "duration(",      "sqrt(",       "odd(",
        "string join(",   "product(",    "all(",
    };
    static const char *const fn2[] = {
        "substring(", "contains(",      "starts with(",      "ends with(",   "list contains(",
        "append(",    "round half up(", "decimal(",          "modulo(",      "index of(",
        "sublist(",   "get value(",     "substring before(", "concatenate(", "round down(",
        "max(",       "string join(",
    };
    if (depth == 0 || next_rand(&g->st) % 4 == 0) {
        gput(g, pick(g, atoms, N_OF(atoms)));
        return;
    }
    /* operands go in parentheses: precedence is the tables' job */
    switch (next_rand(&g->st) % 14) {
    case 0:
    case 1:
        sub(g, depth - 1);
        gput(g, pick(g, ops, N_OF(ops)));
        sub(g, depth - 1);
        break;
    case 2:
        gput(g, "if ");
        sub(g, depth - 1);
        gput(g, " then ");
        sub(g, depth - 1);
        gput(g, " else ");
        sub(g, depth - 1);
        break;
    case 3:
        gput(g, "[");
        sub(g, depth - 1);
        gput(g, ", ");
        sub(g, depth - 1);
        gput(g, "]");
        break;
    case 4:
        gput(g, "{k: ");
        sub(g, depth - 1);
        gput(g, ", j: k}");
        break;
    case 5:
        sub(g, depth - 1);
        gput(g, "[");
        feel_expr(g, depth - 1);
        gput(g, "]");
        break;
    case 6:
        sub(g, depth - 1);
        gput(g, next_rand(&g->st) % 2 ? ".name" : ".year");
        break;
    case 7: {
        bool some = next_rand(&g->st) % 2;
        gput(g, some ? "some x in " : "for x in ");
        sub(g, depth - 1);
        gput(g, some ? " satisfies x = " : " return x + ");
        sub(g, depth - 1);
        break;
    }
    case 8:
        sub(g, depth - 1);
        gput(g, " in [");
        sub(g, depth - 1);
        gput(g, "..");
        sub(g, depth - 1);
        gput(g, ")");
        break;
    case 9:
        sub(g, depth - 1);
        gput(g, " in (< 0, ");
        sub(g, depth - 1);
        gput(g, ")");
        break;
    case 10:
        sub(g, depth - 1);
        gput(g, " between ");
        sub(g, depth - 1);
        gput(g, " and ");
        sub(g, depth - 1);
        break;
    case 11:
        gput(g, pick(g, fn1, N_OF(fn1)));
        sub(g, depth - 1);
        gput(g, ")");
        break;
    case 12:
        gput(g, pick(g, fn2, N_OF(fn2)));
        sub(g, depth - 1);
        gput(g, ", ");
        sub(g, depth - 1);
        gput(g, ")");
        break;
    default:
        gput(g, "-");
        sub(g, depth - 1);
        break;
    }
}

/* FEEL has no run-time errors: whatever the operands, a value or null. */
static void test_generated(void **state)
{
    (void)state;
    run_generated(bpm_feel_translate, feel_expr,
                  "{\"a\":5,\"b\":\"text\",\"xs\":[1,2,3],\"n\":null,\"s\":\"h\u00e9llo\","
                  "\"items\":[{\"name\":\"a\",\"price\":5},{\"name\":\"b\",\"price\":15}],"
                  "\"c\":{\"d\":[true,false],\"name\":\"c\"}}",
                  5000, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supported),        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_time_is_an_input), cmocka_unit_test(test_string_bytes),
        cmocka_unit_test(test_limits),           cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
