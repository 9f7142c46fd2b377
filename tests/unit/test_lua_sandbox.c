/* scripts/lua_sandbox.c: escapes tried and refused, budgets, fresh globals per
 * run. After every refused script the same evaluator (same lua_State) must
 * run a normal script correctly. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_test_util.h"

/* ---- fixture: one evaluator, two variables (lua_test_util.h) --------------------- */

static int setup(void **state)
{
    return fx_setup(state, json_pack("{s:i,s:s}", "amount", 1500, "name", "ada"));
}

/* Compiles and runs text as a script task body. */
static bpm_rc run_script(fx *f, const char *text, const bpm_eval_call *call,
                         bpm_eval_result *out, bpm_err *err)
{
    bpm_expr e = {.text = text, .dialect = BPM_DIALECT_LUA};
    const void *h;
    bpm_err_clear(err);
    bpm_rc rc = bpm_scripts_compile(f->s, &e, BPM_USE_SCRIPT, f->model, &h, err);
    if (rc != BPM_OK)
        return rc;
    bpm_eval_result r = {0};
    rc = bpm_scripts_run(f->s, h, call, &f->vars, f->step, &r, err);
    if (rc == BPM_OK) {
        if (out)
            *out = r;
        else
            json_decref(r.value);
    }
    bpm_arena_reset(f->step);
    return rc;
}

/* The evaluator still works: a normal script computes with a variable. */
static void assert_healthy(fx *f, const char *after)
{
    bpm_eval_result r = {0};
    bpm_err err;
    bpm_rc rc = run_script(
        f,
        "local parts = {} for i = 1, 10 do parts[#parts + 1] = string.upper('x') end\n"
        "assert(getmetatable('') ~= nil) -- protected, not absent\n"
        "return table.concat(parts) .. (amount + 1)",
        NULL, &r, &err);
    if (rc != BPM_OK)
        fail_msg("after %s the evaluator failed: %s", after, err.msg);
    assert_string_equal(json_string_value(r.value), "XXXXXXXXXX1501");
    json_decref(r.value);
}

/* ---- escapes ---------------------------------------------------------------------------- */

typedef struct escape_case {
    const char *name;
    const char *script;
    bpm_rc rc;         /* BPM_OK: the script must run and return true */
    const char *msg;   /* substring of err.msg when rc != BPM_OK */
    uint64_t max_instructions;
    size_t max_memory;
} escape_case;

static const escape_case escapes[] = {
    /* the outside world */
    {"io.open", "return io.open('/etc/passwd')", BPM_SCRIPT,
     "attempt to index a nil value (global 'io') (line 1)", 0, 0},
    {"os.execute", "os.execute('touch /tmp/pwned')", BPM_SCRIPT,
     "attempt to call a nil value (field 'execute')", 0, 0},
    {"os.getenv", "return os.getenv('HOME')", BPM_SCRIPT,
     "attempt to call a nil value (field 'getenv')", 0, 0},
    {"os.exit", "os.exit(1)", BPM_SCRIPT, "attempt to call a nil value (field 'exit')", 0, 0},
    {"os.remove", "os.remove('/tmp/x')", BPM_SCRIPT, "(field 'remove')", 0, 0},
    {"require", "return require('lfs')", BPM_SCRIPT,
     "attempt to call a nil value (global 'require')", 0, 0},
    {"package.loadlib", "return package.loadlib('/lib/libc.so.6', 'system')", BPM_SCRIPT,
     "(global 'package')", 0, 0},
    {"dofile", "dofile('/etc/passwd')", BPM_SCRIPT, "(global 'dofile')", 0, 0},
    {"loadfile", "loadfile('/etc/passwd')", BPM_SCRIPT, "(global 'loadfile')", 0, 0},
    {"debug.sethook", "debug.sethook()", BPM_SCRIPT, "(global 'debug')", 0, 0},
    {"debug.getregistry", "return debug.getregistry()", BPM_SCRIPT, "(global 'debug')", 0, 0},
    {"string.dump", "return string.dump(function() end)", BPM_SCRIPT,
     "attempt to call a nil value (field 'dump')", 0, 0},
    {"method dump", "return ('').dump(print)", BPM_SCRIPT, "(field 'dump')", 0, 0},
    {"load bytecode", "local f, e = load('\\27LuaT\\0\\25\\147\\r\\n\\26\\n') assert(not f) error(e)",
     BPM_SCRIPT, "attempt to load a binary chunk (mode is 't')", 0, 0},
    {"load mode b", "local f, e = load('\\27Lua', 'x', 'b') assert(not f) error(e)", BPM_SCRIPT,
     "binary chunk", 0, 0},
    {"load reader bytecode",
     "local parts = {'\\27Lua'} local f, e = load(function() return table.remove(parts) end)\n"
     "assert(not f) error(e, 0)",
     BPM_SCRIPT, "binary chunk", 0, 0},
    {"load sees sandbox", "return load('return os.execute')() == nil and load('return _G')() == _G",
     BPM_OK, NULL, 0, 0},
    {"load own env", "local env = {} load('x = 1', 'c', 't', env)() return env.x == 1 and x == nil",
     BPM_OK, NULL, 0, 0},
    /* metatables */
    {"string metatable", "getmetatable('').__index = {}", BPM_SCRIPT,
     "attempt to index a boolean value", 0, 0},
    {"string metatable value", "return getmetatable('') == false", BPM_OK, NULL, 0, 0},
    {"setmetatable string", "setmetatable('', {})", BPM_SCRIPT,
     "bad argument #1 to 'setmetatable' (table expected, got string)", 0, 0},
    {"__gc finalizer", "setmetatable({}, {__gc = function() while true do end end})",
     BPM_SCRIPT, "__gc metamethods are not allowed", 0, 0},
    {"env metatable", "return getmetatable(_G) == false and getmetatable(_ENV) == false",
     BPM_OK, NULL, 0, 0},
    {"change env metatable", "setmetatable(_G, {})", BPM_SCRIPT,
     "cannot change a protected metatable", 0, 0},
    /* library tables are read-only, and stay intact */
    {"replace string.upper", "string.upper = function() return 'pwned' end", BPM_SCRIPT,
     "attempt to modify a read-only table", 0, 0},
    {"add to math", "math.evil = 1", BPM_SCRIPT, "read-only", 0, 0},
    {"rawset string", "rawset(string, 'upper', nil)", BPM_SCRIPT,
     "attempt to modify a read-only table", 0, 0},
    {"table.insert into lib", "table.insert(string, 1)", BPM_SCRIPT, "read-only", 0, 0},
    {"proxy metatable", "return getmetatable(string) == false", BPM_OK, NULL, 0, 0},
    {"setmetatable proxy", "setmetatable(json, nil)", BPM_SCRIPT, "protected metatable", 0, 0},
    {"pairs over lib", "local n = 0 for k, v in pairs(string) do n = n + 1 end return n > 10",
     BPM_OK, NULL, 0, 0},
    {"pairs gives no real table",
     "local f, t = pairs(math) return rawequal(t, math) and next(math) == nil", BPM_OK, NULL, 0, 0},
    {"rawset _G", "rawset(_G, 'print', 1) rawset(_G, 'string', 2) return string == 2", BPM_OK,
     NULL, 0, 0},
    {"vars rawset", "rawset(vars, 'x', 1)", BPM_SCRIPT, "table expected, got vars", 0, 0},
    {"null rawset", "rawset(null, 'x', 1)", BPM_SCRIPT, "table expected, got null", 0, 0},
    {"json.array on proxy", "json.array(string)", BPM_SCRIPT, "already has a metatable", 0, 0},
    /* the dialect prelude's markers: its mark function is out of reach, __dx.list
     * only makes new tables, and a marker cannot be read, replaced or removed */
    {"prelude mark hidden",
     "for _, k in ipairs({'mark', 'marker', 'newlist', 'islist'}) do\n"
     "  if __dx[k] ~= nil then return false end\n"
     "end\n"
     "return true",
     BPM_OK, NULL, 0, 0},
    {"__dx.list is new",
     "local t = {} local l = __dx.list(t)\n"
     "return l ~= t and l ~= __dx.list() and getmetatable(t) == nil and getmetatable(l) == false"
     " and json.encode(l) == '[]' and json.encode(t) == '{}'",
     BPM_OK, NULL, 0, 0},
    {"__dx.list on proxy",
     "local l = __dx.list(string)\n"
     "return not rawequal(l, string) and getmetatable(string) == false and string.upper('a') == "
     "'A'",
     BPM_OK, NULL, 0, 0},
    {"unmark list", "setmetatable(__dx.list(), nil)", BPM_SCRIPT, "protected metatable", 0, 0},
    {"__dx read-only", "__dx.list = function(t) return t end", BPM_SCRIPT, "read-only", 0, 0},
    /* budgets */
    {"infinite loop", "local x = 0\nwhile true do\n  x = x + 1\nend", BPM_LIMIT,
     "script exceeded its instruction budget of 10000000 (line 3)", 0, 0},
    {"small budget", "for i = 1, 1e6 do end", BPM_LIMIT,
     "script exceeded its instruction budget of 5000", 5000, 0},
    {"pcall swallows budget", "while true do pcall(function() while true do end end) end",
     BPM_LIMIT, "instruction budget", 0, 0},
    {"xpcall swallows budget",
     "while true do xpcall(function() while true do end end, function(e) return e end) end",
     BPM_LIMIT, "instruction budget", 0, 0},
    {"error handler loops", "xpcall(error, function() while true do end end)", BPM_LIMIT,
     "instruction budget", 0, 0},
    {"coroutine loop", "local co = coroutine.create(function() while true do end end)\n"
                       "print(coroutine.resume(co))\nreturn 'survived'",
     BPM_LIMIT, "instruction budget", 0, 0},
    {"coroutine.wrap loop",
     "local f = coroutine.wrap(function() while true do coroutine.yield() end end)\n"
     "while true do f() end",
     BPM_LIMIT, "instruction budget", 0, 0},
    {"coroutine pcall inside",
     "local co = coroutine.wrap(function() while true do pcall(function() while true do end "
     "end) end end) co()",
     BPM_LIMIT, "instruction budget", 0, 0},
    {"load reader loops", "load(function() while true do end end)", BPM_LIMIT,
     "instruction budget", 0, 0},
    {"string.rep growth", "local s = string.rep('x', 1 << 30)", BPM_LIMIT,
     "script exceeded its memory limit of 33554432 bytes (line 1)", 0, 0},
    {"concat doubling", "local s = 'x'\nwhile true do\n  s = s .. s\nend", BPM_LIMIT,
     "memory limit of 4194304 bytes (line 3)", 0, 4 << 20},
    {"table growth", "local t = {}\nfor i = 1, 1e9 do t[i] = i end", BPM_LIMIT,
     "memory limit of 4194304 bytes (line 2)", 0, 4 << 20},
    {"pcall swallows memory", "pcall(string.rep, 'x', 1 << 30) return 'survived'", BPM_LIMIT,
     "memory limit", 0, 0},
    {"memory in coroutine",
     "local co = coroutine.create(function() local t = {} for i = 1, 1e9 do t[i] = {} end end)\n"
     "coroutine.resume(co) return 'survived'",
     BPM_LIMIT, "memory limit", 0, 4 << 20},
    {"deep recursion", "local function f(n) return f(n + 1) + 1 end\nreturn f(1)", BPM_LIMIT,
     "memory limit of 33554432 bytes (line 1)", 0, 0},
    {"deep recursion, large cap", "local function f(n) return f(n + 1) + 1 end\nreturn f(1)",
     BPM_SCRIPT, "stack overflow (line 1)", 0, 128 << 20},
    {"__close loops", "do local x <close> = setmetatable({}, {__close = function() while true "
     "do end end}) end", BPM_LIMIT, "instruction budget", 0, 0},
    {"coroutine.close after abort",
     "local co = coroutine.create(function()\n"
     "  local x <close> = setmetatable({}, {__close = function() while true do end end})\n"
     "  while true do end\nend)\n"
     "local y <close> = setmetatable({}, {__close = function() coroutine.close(co) end})\n"
     "coroutine.resume(co)",
     BPM_LIMIT, "instruction budget", 0, 0},
    {"handler in coroutine",
     "coroutine.wrap(function() xpcall(function() while true do end end, function() while "
     "true do end end) end)()",
     BPM_LIMIT, "instruction budget", 0, 0},
    {"deep pcall recursion", "local function f() return pcall(f) end return f()", BPM_OK,
     NULL, 0, 0},
    {"collectgarbage", "return collectgarbage('stop') == 0 and collectgarbage('count') == 0",
     BPM_OK, NULL, 0, 0},
    /* errors of every type */
    {"error table", "error({code = 42})", BPM_SCRIPT,
     "script raised an error object of type table (line 1)", 0, 0},
    {"error table message", "error({message = 'structured'})", BPM_SCRIPT, "structured", 0, 0},
    {"error nil", "error()", BPM_SCRIPT, "script raised an error without a message", 0, 0},
    {"error number", "error(42)", BPM_SCRIPT, "42", 0, 0},
    {"error boolean", "error(false)", BPM_SCRIPT, "error object of type boolean", 0, 0},
    {"error function", "error(print)", BPM_SCRIPT, "error object of type function", 0, 0},
    {"error null", "error(null)", BPM_SCRIPT, "error object of type null", 0, 0},
    {"error string level 0", "\n\nerror('plain', 0)", BPM_SCRIPT, "plain (line 3)", 0, 0},
    {"error string", "local x = 1\nerror('boom')", BPM_SCRIPT, "boom (line 2)", 0, 0},
    {"runtime error", "local t\nreturn t.x", BPM_SCRIPT,
     "attempt to index a nil value (local 't') (line 2)", 0, 0},
    /* nothing to print to, no clock */
    {"print", "print('hello') return true", BPM_OK, NULL, 0, 0},
    {"no warn", "return warn == nil", BPM_OK, NULL, 0, 0},
};

static void test_escapes(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++) {
        const escape_case *c = &escapes[i];
        if (getenv("TRACE_CASES"))
            fprintf(stderr, "case %s\n", c->name);
        bpm_eval_call call = {.max_instructions = c->max_instructions,
                              .max_memory = c->max_memory};
        bpm_eval_result r;
        bpm_err err;
        bpm_rc rc = run_script(f, c->script, &call, &r, &err);
        if (rc != c->rc)
            fail_msg("%s: got %s (%s), expected %s", c->name, bpm_err_name(rc),
                     rc ? err.msg : "ok", bpm_err_name(c->rc));
        if (rc == BPM_OK) {
            if (!json_is_true(r.value))
                fail_msg("%s: script returned %s", c->name,
                         r.value ? json_dumps(r.value, JSON_ENCODE_ANY) : "nothing");
            json_decref(r.value);
        } else if (!strstr(err.msg, c->msg)) {
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, err.msg, c->msg);
        }
        assert_healthy(f, c->name);
    }
    /* nothing leaked into the libraries */
    bpm_eval_result r;
    bpm_err err;
    assert_int_equal(run_script(f,
                                "return string.upper('a') == 'A' and math.evil == nil and "
                                "print ~= 1 and type(string) == 'table'",
                                NULL, &r, &err),
                     BPM_OK);
    assert_true(json_is_true(r.value));
    json_decref(r.value);
}

/* The state's memory comes back after limit aborts. */
static void test_memory_returns(void **state)
{
    fx *f = *state;
    bpm_scripts_stats before, after;
    assert_healthy(f, "warm up");
    bpm_scripts_stats_get(f->s, &before);
    bpm_err err;
    for (int i = 0; i < 5; i++)
        assert_int_equal(run_script(f, "local t = {} for i = 1, 1e9 do t[i] = i end", NULL,
                                    NULL, &err),
                         BPM_LIMIT);
    assert_healthy(f, "memory aborts");
    bpm_scripts_stats_get(f->s, &after);
    /* a few cached chunks more, not megabytes */
    assert_true(after.memory_used < before.memory_used + (1 << 20));
}

/* ---- fresh globals ------------------------------------------------------------------------ */

static void test_fresh_globals(void **state)
{
    fx *f = *state;
    bpm_eval_result r;
    bpm_err err;
    assert_int_equal(run_script(f, "leak = 42 _G.leak2 = 43 _ENV.leak3 = 44 rawset(_G, 'leak4', 45)"
                                   " print = nil string = nil",
                                NULL, NULL, &err),
                     BPM_OK);
    assert_int_equal(run_script(f,
                                "return leak == nil and leak2 == nil and leak3 == nil and "
                                "leak4 == nil and print ~= nil and string ~= nil",
                                NULL, &r, &err),
                     BPM_OK);
    assert_true(json_is_true(r.value));
    json_decref(r.value);
    /* a failed run leaves nothing either */
    assert_int_equal(run_script(f, "leak5 = 1 error('x')", NULL, NULL, &err), BPM_SCRIPT);
    assert_int_equal(run_script(f, "return leak5 == nil", NULL, &r, &err), BPM_OK);
    assert_true(json_is_true(r.value));
    json_decref(r.value);
    /* many globals: the env is replaced, later runs still clean */
    assert_int_equal(
        run_script(f, "for i = 1, 1000 do _G['g' .. i] = i end return g500", NULL, &r, &err),
        BPM_OK);
    assert_int_equal(json_integer_value(r.value), 500);
    json_decref(r.value);
    assert_int_equal(run_script(f, "return g500 == nil and g1 == nil", NULL, &r, &err), BPM_OK);
    assert_true(json_is_true(r.value));
    json_decref(r.value);
    /* `execution` is per run too */
    bpm_eval_call c1 = {.element_id = "A"}, c2 = {.element_id = "B"};
    assert_int_equal(run_script(f, "execution.mark = 1 return execution.elementId", &c1, &r, &err),
                     BPM_OK);
    assert_string_equal(json_string_value(r.value), "A");
    json_decref(r.value);
    assert_int_equal(
        run_script(f, "return execution.elementId .. tostring(execution.mark)", &c2, &r, &err),
        BPM_OK);
    assert_string_equal(json_string_value(r.value), "Bnil");
    json_decref(r.value);
}

/* ---- os and determinism ---------------------------------------------------------------------- */

static void test_time_is_the_steps(void **state)
{
    fx *f = *state;
    bpm_eval_call call = {.instance_id = "i-1", .now_ms = 1709280000500}; /* 2024-03-01T08:00:00.5Z */
    bpm_eval_result r;
    bpm_err err;
    assert_int_equal(
        run_script(f,
                   "return {os.time(), os.date('%Y-%m-%dT%H:%M:%S'), os.date('!%H'), date.now(),"
                   " os.time({year = 2024, month = 3, day = 1, hour = 8}),"
                   " os.time({year = 2024, month = 14, day = 1, hour = 0}), os.date('*t').year,"
                   " type(os.clock())}",
                   &call, &r, &err),
        BPM_OK);
    json_t *want = json_loads("[1709280000,\"2024-03-01T08:00:00\",\"08\",1709280000500,"
                              "1709280000,1738368000,2024,\"number\"]",
                              0, NULL);
    if (!json_equal(want, r.value))
        fail_msg("got %s", json_dumps(r.value, 0));
    json_decref(want);
    json_decref(r.value);
}

static void test_random_is_deterministic(void **state)
{
    fx *f = *state;
    const char *text = "return {uuid(), uuid(), math.random(1, 1000000), math.random()}";
    bpm_eval_call a = {.instance_id = "i-1", .element_id = "T", .now_ms = 1000};
    bpm_eval_call b = {.instance_id = "i-2", .element_id = "T", .now_ms = 1000};
    bpm_eval_result r1, r2, r3;
    bpm_err err;
    assert_int_equal(run_script(f, text, &a, &r1, &err), BPM_OK);
    assert_int_equal(run_script(f, text, &a, &r2, &err), BPM_OK);
    assert_int_equal(run_script(f, text, &b, &r3, &err), BPM_OK);
    assert_true(json_equal(r1.value, r2.value));   /* replay draws the same */
    assert_false(json_equal(r1.value, r3.value));  /* another instance does not */
    const char *u1 = json_string_value(json_array_get(r1.value, 0));
    const char *u2 = json_string_value(json_array_get(r1.value, 1));
    assert_int_equal(strlen(u1), 36);
    assert_true(u1[14] == '4' && strchr("89ab", u1[19]));
    assert_string_not_equal(u1, u2);
    /* a variable changes the seed too (two loop iterations in one step) */
    json_object_set_new(f->vars_obj, "loopCounter", json_integer(2));
    bpm_eval_result r4;
    assert_int_equal(run_script(f, text, &a, &r4, &err), BPM_OK);
    assert_false(json_equal(r1.value, r4.value));
    json_object_del(f->vars_obj, "loopCounter");
    json_decref(r1.value);
    json_decref(r2.value);
    json_decref(r3.value);
    json_decref(r4.value);
}

/* ---- pattern functions: same answers as Lua's own -------------------------------------------
 * The sandbox replaces string.find/match/gmatch/gsub with budgeted ones; each
 * call below runs in a plain Lua state (reference) and in the sandbox, and the
 * printed results, errors included, must be identical. */

static const char *const pattern_calls[] = {
    "string.find('hello world', 'o w')", "string.find('hello', 'l+')",
    "string.find('hello', '^h')", "string.find('hello', '^e')", "string.find('hello', 'o$')",
    "string.find('hello', 'x*')", "string.find('hello', '')", "string.find('', '')",
    "string.find('hello', '(l)(l)')", "string.find('hello', '()ll()')",
    "string.find('key = value', '(%w+)%s*=%s*(%w+)')",
    "string.find('THE (quick) fox', '%((%a+)%)')", "string.find('f(a(b)c)d', '%b()')",
    "string.find('f(a(b)c', '%b()')", "string.find('THE (quick) fox', '%f[%a]%a+', 2)",
    "string.find('hello hello', '(h%a+) %1')", "string.find('[test]', '[[]')",
    "string.find('a]b', '[]]')", "string.find('a-b', '[a-]+')", "string.find('a.b', '%.')",
    "string.find('abc', '[^a]+')", "string.find('  trim me  ', '^%s*(.-)%s*$')",
    "string.find('x', '%')", "string.find('x', '[a')", "string.find('x', '(x')",
    "string.find('x', 'x)')", "string.find('x', '%1')", "string.find('x', '%f')",
    "string.find('x', '%bx')", "string.find('aaa', 'a-')", "string.find('aaa', 'a-$')",
    "string.find('aaab', 'a?b')", "string.find('ab', 'a?a?b')", "string.find('hello', 'l', -2)",
    "string.find('hello', 'l', 10)", "string.find('hello', 'l', -100)",
    "string.find('hello', '', 6)", "string.find('hello', '', 7)",
    "string.find('a.b', '.', 1, true)", "string.find('a+b', '+', 1, true)",
    "string.find('a\\0b', '\\0')", "string.find('a\\0b', '%z')",
    "string.find('\\xe6\\x97\\xa5x', '[\\128-\\255]+')", "string.find('abc', '%w%w', 2)",
    "string.find('abc', '((a)(b))')", "string.find('ab12', '%d+$')",
    "string.find('x', '[%a-z]')", "string.find('-', '[a-]')", "string.find('Ab', '%u%l')",
    "string.find('a b', '%S+%s%S+')", "string.find('x9', '%W*%w')", "string.find('0xfF', '%x+$')",
    "string.find('\\t\\n', '%c+')", "string.find('a,b', '%p')", "string.find(' a', '%g')",
    "string.find('abc', '[b-]')", "string.find('abc', '[%]]')", "string.find('a', '[^]a]')",
    "string.match('hello world', '%w+')", "string.match('hello world', '(%w+) (%w+)')",
    "string.match('2024-03-01', '(%d+)-(%d+)-(%d+)')", "string.match('abc', '()b()')",
    "string.match('abc', 'x')", "string.match('abc', '.-', 2)", "string.match('  x  ', '^%s*(.-)%s*$')",
    "string.match('[[x]]', '%[(%b[])%]')", "string.match('abc', '(a)(b)(c)(d?)')",
    "string.gsub('hello world', 'o', '0')", "string.gsub('hello world', '(o)', '[%1]')",
    "string.gsub('hello', '', '-')", "string.gsub('abc', '%w', '%0%0')",
    "string.gsub('abc', '%w', '%%')", "string.gsub('abc', '%w', '%2')", "string.gsub('abc', 'b', '%')",
    "string.gsub('abc', 'b', '%x')",
    "string.gsub('hello world', '%w+', {hello = 'HI'})",
    "string.gsub('hello world', '%w+', function(w) return w:upper() end)",
    "string.gsub('abc', 'b', false)", "string.gsub('abc', '.', 'x', 2)", "string.gsub('abc', '.', 'x', 0)",
    "string.gsub('abc', '^.', 'x')", "string.gsub('a,b,,c', ',', ';')", "string.gsub('hello', 'l*', 'L')",
    "string.gsub('abc def', '%f[%w]%w+', '<%0>')",
    "string.gsub('hello', '(l)(l)', function(a, b) return nil end)",
    "string.gsub('hello', 'l', function() return {} end)", "string.gsub('x', 'x', 5)",
    "string.gsub('abc', '()', '%1')", "string.gsub('abc', '(b)', {b = 7})",
    "string.gsub('abc', '(b)', {b = false})", "string.gsub('a b', '(%w)', '%1%1', 1)",
    "string.gsub('abc', '', '')", "string.gsub('', '', 'x')", "string.gsub('aaa', 'a-', '-')",
    "('x'):rep(3):gsub('x', '%%0')",
    "gm('hello world from lua', '%a+')", "gm('a=1, b=2', '(%w+)=(%w+)')", "gm('abc', '')",
    "gm('aaa', 'a*')", "gm('hello', '()l')", "gm('one two three', '%a+', 5)", "gm('^abc', '^a')",
    "gm('abc', '.', -1)", "gm('abc', 'x')", "gm('a1b22c333', '%d+')", "gm('', '.*')",
};

static const char *const pattern_prelude =
    "local function ser(...)\n"
    "  local t = table.pack(...) local o = {}\n"
    "  for i = 1, t.n do o[#o + 1] = type(t[i]) .. ':' .. tostring(t[i]) end\n"
    "  return table.concat(o, ',')\n"
    "end\n"
    "local function gm(s, p, init)\n"
    "  local o = {}\n"
    "  for a, b in string.gmatch(s, p, init) do o[#o + 1] = ser(a, b) end\n"
    "  return table.concat(o, ';')\n"
    "end\n"
    "return ser(pcall(function() return %s end))";

static void test_patterns_match_lua(void **state)
{
    fx *f = *state;
    lua_State *ref = luaL_newstate();
    luaL_openlibs(ref);
    for (size_t i = 0; i < sizeof pattern_calls / sizeof *pattern_calls; i++) {
        char code[2048];
        snprintf(code, sizeof code, pattern_prelude, pattern_calls[i]);
        if (luaL_loadbuffer(ref, code, strlen(code), "=script") != LUA_OK ||
            lua_pcall(ref, 0, 1, 0) != LUA_OK)
            fail_msg("reference Lua failed on %s: %s", pattern_calls[i], lua_tostring(ref, -1));
        const char *want = lua_tostring(ref, -1);
        bpm_eval_result r;
        bpm_err err;
        if (run_script(f, code, NULL, &r, &err) != BPM_OK)
            fail_msg("%s: %s", pattern_calls[i], err.msg);
        const char *got = json_string_value(r.value);
        if (!got || strcmp(got, want) != 0)
            fail_msg("%s:\n  lua:     %s\n  sandbox: %s", pattern_calls[i], want, got ? got : "?");
        json_decref(r.value);
        lua_settop(ref, 0);
    }
    lua_close(ref);
}

/* Work done inside C functions is billed too: these would take minutes or
 * hours in Lua's own string library. */
static void test_c_work_is_budgeted(void **state)
{
    fx *f = *state;
    static const char *const heavy[] = {
        "return (('a'):rep(3000)):find('.-.-.-b')",
        "return (('a'):rep(3000)):match('(.-)(.-)(.-)b')",
        "local s = ('a'):rep(1e7) return s:find(('a'):rep(1e5) .. 'b', 1, true)",
        "local s = ('a'):rep(1e6) return s:find(('a'):rep(1e4) .. 'b')",
        "local s = ('a'):rep(1e6) return s:split(('a'):rep(1e4) .. 'b')",
        "return (('a'):rep(5000)):gsub('.-.-b', 'x')",
        "for w in (('a'):rep(3000)):gmatch('.-.-.-b') do end",
        /* one instruction, O(n) work: billed by the bytes allocated */
        "local big = ('x'):rep(1e6) local s for i = 1, 1e6 do s = big .. 'y' end",
        "local big = ('x'):rep(1e6) for i = 1, 1e6 do local u = big:upper() end",
        "local big = ('x'):rep(1e7) for i = 1, 1e6 do crypto.sha256(big) end",
        "local big = ('x'):rep(1e6) for i = 1, 1e6 do json.encode(big) end",
    };
    for (size_t i = 0; i < sizeof heavy / sizeof *heavy; i++) {
        bpm_err err;
        bpm_rc rc = run_script(f, heavy[i], NULL, NULL, &err);
        if (rc != BPM_LIMIT || !strstr(err.msg, "instruction budget"))
            fail_msg("%s: got %s (%s)", heavy[i], bpm_err_name(rc), rc ? err.msg : "ok");
        assert_healthy(f, heavy[i]);
    }
    /* Comparing two distinct equal 10 MB strings is one instruction and
     * allocates nothing: only the wall-clock backstop stops this loop. */
    bpm_scripts_config cfg = {.max_wall_ms = 300};
    bpm_err err;
    bpm_scripts *s = bpm_scripts_new(&cfg, &err);
    bpm_scripts *saved = f->s;
    f->s = s;
    bpm_rc rc = run_script(f,
                           "local a = ('x'):rep(1e7) local b = ('x'):rep(1e7 - 1) .. 'x'\n"
                           "local n = 0\nwhile a == b do n = n + 1 end",
                           NULL, NULL, &err);
    assert_int_equal(rc, BPM_LIMIT);
    assert_string_equal(err.msg, "script exceeded its time limit of 300 ms (line 3)");
    assert_healthy(f, "time limit");
    f->s = saved;
    bpm_scripts_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_returns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_globals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_is_the_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_is_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patterns_match_lua, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c_work_is_budgeted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
