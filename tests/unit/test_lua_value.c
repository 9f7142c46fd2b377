/* scripts/lua_value.c: JSON <-> Lua conversion. Round trips over fixed and
 * generated documents (raw state and through the sandbox's json library),
 * Lua shapes to JSON, and the values that cannot be converted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scripts.h"

/* ---- helpers -------------------------------------------------------------------- */

static lua_State *raw_state(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    bpm_lua_value_setup(L);
    return L;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!j)
        fail_msg("bad test JSON %s: %s", text, e.text);
    return j;
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
}

/* JSON -> Lua -> JSON in L; asserts identity (json_equal is type-strict, so
 * 1 and 1.0 differ). */
static void assert_round_trip(lua_State *L, const json_t *doc)
{
    int top = lua_gettop(L);
    bpm_err err;
    assert_int_equal(bpm_lua_value_push(L, doc, &err), BPM_OK);
    json_t *back = NULL;
    bpm_err_clear(&err);
    bpm_rc rc = bpm_lua_value_to_json(L, -1, &back, &err);
    if (rc != BPM_OK)
        fail_msg("to_json failed: %s", err.msg);
    if (!json_equal(doc, back)) {
        char *a = dump(doc), *b = dump(back);
        fail_msg("round trip changed the value:\n  in:  %s\n  out: %s", a, b);
    }
    json_decref(back);
    lua_settop(L, top);
}

/* ---- fixed documents ------------------------------------------------------------ */

static const char *const fixed_docs[] = {
    "null", "true", "false", "0", "-1", "1.0", "0.5", "-0.0", "1e300",
    "9223372036854775807", "-9223372036854775808", "\"\"", "\"a\\u0000b\"",
    "\"\\u00e9\\u4e2d\\ud83d\\ude00\"", "[]", "{}", "[[]]", "{\"a\":{}}", "[{}]",
    "{\"a\":[]}", "[null]", "[null,null]", "[1,null,3]", "{\"a\":null}",
    "{\"\":1}", "{\"1\":\"one\",\"2\":\"two\"}",
    "[1,2.5,\"x\",true,false,null,[],{}]",
    "{\"order\":{\"items\":[{\"sku\":\"A\",\"qty\":2,\"price\":9.99}],\"total\":19.98}}",
    "[[[[[[[[[[1]]]]]]]]]]",
};

static void test_fixed_round_trips(void **state)
{
    (void)state;
    lua_State *L = raw_state();
    for (size_t i = 0; i < sizeof fixed_docs / sizeof *fixed_docs; i++) {
        json_t *doc = parse(fixed_docs[i]);
        assert_round_trip(L, doc);
        json_decref(doc);
    }
    lua_close(L);
}

/* ---- generated documents ----------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static const char *const pieces[] = {"a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t",
                                     "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "key",
                                     "null", "\x7f"};

/* A random valid UTF-8 string, NUL bytes included unless for a key (JSON
 * parsers refuse those there). */
static json_t *gen_string(char *buf, size_t *len_out)
{
    size_t n = rnd() % 8, len = 0;
    for (size_t i = 0; i < n; i++) {
        if (!len_out && rnd() % 6 == 0) {
            buf[len++] = '\0';
            continue;
        }
        const char *p = pieces[rnd() % (sizeof pieces / sizeof *pieces)];
        size_t pl = strlen(p);
        memcpy(buf + len, p, pl);
        len += pl;
    }
    if (len_out)
        *len_out = len;
    return json_stringn(buf, len);
}

static json_t *gen_value(int depth)
{
    char buf[64];
    int kind = (int)(rnd() % (depth >= 6 ? 7 : 10));
    switch (kind) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(rnd() & 1);
    case 2: {
        static const json_int_t edge[] = {0, 1, -1, INT64_MAX, INT64_MIN, INT64_MAX - 1,
                                          INT64_MIN + 1, 2147483647, -2147483648LL,
                                          9007199254740993LL};
        if (rnd() % 2)
            return json_integer(edge[rnd() % (sizeof edge / sizeof *edge)]);
        return json_integer((json_int_t)rnd());
    }
    case 3: {
        static const double edge[] = {0.0, 1.0, -1.5, 1e-300, 1e300, 0.1, 3.0, -0.0,
                                      2.2250738585072014e-308, 9007199254740993.0};
        if (rnd() % 2)
            return json_real(edge[rnd() % (sizeof edge / sizeof *edge)]);
        double d = (double)(int64_t)rnd() / (double)(rnd() % 1000000 + 1);
        return json_real(d);
    }
    case 4:
    case 5:
    case 6:
        return gen_string(buf, NULL);
    case 7:
    case 8: {
        json_t *arr = json_array();
        size_t n = rnd() % 5;
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, gen_value(depth + 1));
        return arr;
    }
    default: {
        json_t *obj = json_object();
        size_t n = rnd() % 5;
        for (size_t i = 0; i < n; i++) {
            size_t kl;
            json_t *k = gen_string(buf, &kl);
            json_decref(k);
            json_object_setn_new(obj, buf, kl, gen_value(depth + 1));
        }
        return obj;
    }
    }
}

enum { N_GENERATED = 3000 };

static void test_generated_round_trips(void **state)
{
    (void)state;
    lua_State *L = raw_state();
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < N_GENERATED; i++) {
        json_t *doc = gen_value(0);
        assert_round_trip(L, doc);
        json_decref(doc);
    }
    lua_close(L);
}

/* The same documents through the sandbox: a variable read by a script and
 * returned, json.encode of it, and json.decode of its text. */
static json_t *vget(void *ctx, const char *name)
{
    return json_object_get(ctx, name);
}

static bpm_rc vset(void *ctx, const char *name, json_t *v, bpm_err *err)
{
    (void)err;
    json_object_set_new(ctx, name, v);
    return BPM_OK;
}

static const bpm_vars_ops vars_ops = {.get = vget, .set = vset, .set_local = vset};

static void test_generated_through_scripts(void **state)
{
    (void)state;
    bpm_err err;
    bpm_scripts *s = bpm_scripts_new(NULL, &err);
    assert_non_null(s);
    bpm_arena *model = bpm_arena_new(), *step = bpm_arena_new();
    const char *texts[] = {"return vars.doc", "return json.decode(vars.text)",
                           "return json.encode(vars.doc)"};
    const void *h[3];
    for (int i = 0; i < 3; i++) {
        bpm_expr e = {.text = texts[i], .dialect = BPM_DIALECT_LUA};
        assert_int_equal(bpm_scripts_compile(s, &e, BPM_USE_SCRIPT, model, &h[i], &err),
                         BPM_OK);
    }
    rng_state = 12345;
    for (int i = 0; i < N_GENERATED / 3; i++) {
        json_t *doc = gen_value(0);
        json_t *vars_obj = json_object();
        json_object_set(vars_obj, "doc", doc);
        char *text = json_dumps(doc, JSON_ENCODE_ANY | JSON_COMPACT);
        json_object_set_new(vars_obj, "text", json_string(text));
        bpm_vars vars = {&vars_ops, vars_obj};
        for (int k = 0; k < 3; k++) {
            bpm_eval_result r = {0};
            bpm_err_clear(&err);
            if (bpm_scripts_run(s, h[k], NULL, &vars, step, &r, &err) != BPM_OK)
                fail_msg("%s failed on %s: %s", texts[k], text, err.msg);
            json_t *got = r.value;
            if (k == 2) { /* the encoded text, parsed back */
                got = parse(json_string_value(r.value));
                json_decref(r.value);
            }
            if (!got)
                got = json_null();
            if (!json_equal(doc, got)) {
                char *b = dump(got);
                fail_msg("%s changed %s into %s", texts[k], text, b);
            }
            json_decref(got);
        }
        free(text);
        json_decref(vars_obj);
        json_decref(doc);
        bpm_arena_reset(step);
    }
    bpm_scripts_free(s);
    bpm_arena_free(model);
    bpm_arena_free(step);
}

/* ---- Lua shapes to JSON -------------------------------------------------------------- */

typedef struct shape_case {
    const char *lua;    /* an expression; `null` and the markers are globals */
    const char *expect; /* JSON */
} shape_case;

static const shape_case shape_cases[] = {
    {"{1, 2, 3}", "[1,2,3]"},
    {"{}", "{}"},
    {"mark_array({})", "[]"},
    {"mark_object({})", "{}"},
    {"mark_object({1, 2})", "{\"1\":1,\"2\":2}"},
    {"{a = 1, [1] = 2}", "{\"1\":2,\"a\":1}"},
    {"{[1] = 1, [3] = 3}", "{\"1\":1,\"3\":3}"},
    {"{[2] = 'b'}", "{\"2\":\"b\"}"},
    {"{[-1] = 'neg', [0] = 'zero'}", "{\"-1\":\"neg\",\"0\":\"zero\"}"},
    {"mark_array({1, nil, 3})", "[1,null,3]"},
    {"mark_array({[3] = 'c'})", "[null,null,\"c\"]"},
    {"{1, null, 3}", "[1,null,3]"},
    {"3.0", "3.0"},
    {"3", "3"},
    {"7 // 2", "3"},
    {"7 / 2", "3.5"},
    {"math.maxinteger", "9223372036854775807"},
    {"math.mininteger", "-9223372036854775808"},
    {"'a\\0b'", "\"a\\u0000b\""},
    {"'\\u{1F600}'", "\"\\ud83d\\ude00\""},
    {"nil", "null"},
    {"null", "null"},
    {"{x = null}", "{\"x\":null}"},
    {"{{}, mark_array({}), {{}}}", "[{},[],[{}]]"},
};

static int l_mark_array(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    bpm_lua_value_mark(L, 1, true);
    lua_settop(L, 1);
    return 1;
}

static int l_mark_object(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    bpm_lua_value_mark(L, 1, false);
    lua_settop(L, 1);
    return 1;
}

static lua_State *shape_state(void)
{
    lua_State *L = raw_state();
    lua_register(L, "mark_array", l_mark_array);
    lua_register(L, "mark_object", l_mark_object);
    bpm_lua_value_push_null(L);
    lua_setglobal(L, "null");
    return L;
}

static void eval_lua(lua_State *L, const char *expr)
{
    char code[512];
    snprintf(code, sizeof code, "return %s", expr);
    if (luaL_dostring(L, code) != LUA_OK)
        fail_msg("%s: %s", expr, lua_tostring(L, -1));
}

static void test_lua_shapes(void **state)
{
    (void)state;
    lua_State *L = shape_state();
    for (size_t i = 0; i < sizeof shape_cases / sizeof *shape_cases; i++) {
        const shape_case *c = &shape_cases[i];
        eval_lua(L, c->lua);
        json_t *got = NULL;
        bpm_err err;
        bpm_err_clear(&err);
        if (bpm_lua_value_to_json(L, -1, &got, &err) != BPM_OK)
            fail_msg("%s: %s", c->lua, err.msg);
        json_t *want = parse(c->expect);
        if (!json_equal(want, got)) {
            char *g = dump(got);
            fail_msg("%s gave %s, expected %s", c->lua, g, c->expect);
        }
        json_decref(want);
        json_decref(got);
        lua_settop(L, 0);
    }
    lua_close(L);
}

/* ---- values that cannot become JSON --------------------------------------------------- */

typedef struct bad_case {
    const char *lua;
    const char *msg; /* substring of err.msg */
} bad_case;

static const bad_case bad_cases[] = {
    {"print", "$ cannot be converted to JSON: it is a function"},
    {"{a = {b = {print}}}", "value at $.a.b[1] cannot be converted to JSON: it is a function"},
    {"coroutine.create(print)", "it is a coroutine"},
    {"io.stdout", "it is a userdata"},
    {"0/0", "the number is NaN"},
    {"1/0", "the number is infinite"},
    {"{x = -1/0}", "$.x cannot be converted to JSON: the number is infinite"},
    {"'\\xff'", "not valid UTF-8"},
    {"{['\\xff'] = 1}", "object key is not valid UTF-8"},
    {"{[true] = 1}", "a table key is a boolean"},
    {"{['a\\0b'] = 1}", "an object key contains a NUL byte"},
    {"{[1.5] = 1}", "a table key is a float"},
    {"(function() local t = {} t.self = t return t end)()", "or contains a cycle"},
    {"(function() local t = {} for i = 1, 300 do t = {t} end return t end)()",
     "nested more than 200 levels"},
    {"mark_array({a = 1})", "an array has a key that is not a positive integer"},
    {"mark_array({[1000] = 1})", "the array is too sparse"},
};

static void test_bad_values(void **state)
{
    (void)state;
    lua_State *L = shape_state();
    for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
        const bad_case *c = &bad_cases[i];
        eval_lua(L, c->lua);
        json_t *got = NULL;
        bpm_err err;
        bpm_err_clear(&err);
        int top = lua_gettop(L);
        bpm_rc rc = bpm_lua_value_to_json(L, -1, &got, &err);
        assert_int_equal(lua_gettop(L), top); /* stack untouched */
        if (rc == BPM_OK)
            fail_msg("%s converted, expected an error", c->lua);
        assert_int_equal(rc, BPM_SCRIPT);
        assert_null(got);
        if (!strstr(err.msg, c->msg))
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->lua, err.msg, c->msg);
        lua_settop(L, 0);
    }
    lua_close(L);
}

/* ---- limits and the sentinel ------------------------------------------------------------ */

static void test_push_depth_limit(void **state)
{
    (void)state;
    lua_State *L = raw_state();
    json_t *deep = json_array();
    for (int i = 0; i < BPM_LUA_VALUE_MAX_DEPTH + 20; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    bpm_err err;
    int top = lua_gettop(L);
    assert_int_equal(bpm_lua_value_push(L, deep, &err), BPM_LIMIT);
    assert_non_null(strstr(err.msg, "nested more than"));
    assert_int_equal(lua_gettop(L), top);
    json_decref(deep);
    lua_close(L);
}

static void test_null_and_markers(void **state)
{
    (void)state;
    lua_State *L = shape_state();
    bpm_lua_value_push_null(L);
    assert_true(bpm_lua_value_is_null(L, -1));
    assert_string_equal(bpm_lua_value_type_name(L, -1), "null");
    eval_lua(L, "tostring(null)");
    assert_string_equal(lua_tostring(L, -1), "null");
    eval_lua(L, "getmetatable(null)");
    assert_true(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_newuserdatauv(L, 0, 0);
    assert_false(bpm_lua_value_is_null(L, -1));
    json_t *arr = parse("[1]");
    bpm_err err;
    assert_int_equal(bpm_lua_value_push(L, arr, &err), BPM_OK);
    assert_int_equal(bpm_lua_value_marker(L, -1), 1);
    json_decref(arr);
    json_t *obj = parse("{}");
    assert_int_equal(bpm_lua_value_push(L, obj, &err), BPM_OK);
    assert_int_equal(bpm_lua_value_marker(L, -1), 2);
    json_decref(obj);
    lua_newtable(L);
    assert_int_equal(bpm_lua_value_marker(L, -1), 0);
    lua_close(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_round_trips),
        cmocka_unit_test(test_generated_round_trips),
        cmocka_unit_test(test_generated_through_scripts),
        cmocka_unit_test(test_lua_shapes),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_push_depth_limit),
        cmocka_unit_test(test_null_and_markers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
