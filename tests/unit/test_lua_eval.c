/* scripts/lua_eval.c through bpm_eval_ops: compile (dialects, syntax errors),
 * conditions, value expressions (and the library), script tasks reading and
 * writing variables, BPMN outcomes, the chunk cache and several threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_test_util.h"

#if defined(__has_include)
#if __has_include("dialect.h")
#define HAVE_DIALECT 1
#endif
#endif
#ifndef HAVE_DIALECT
#define HAVE_DIALECT 0
#endif

/* ---- fixture ------------------------------------------------------------------------- */

static const char *const base_vars =
    "{\"amount\": 2000, \"approved\": true, \"name\": \"ada\", \"rate\": 0.5,"
    " \"nothing\": null, \"order\": {\"items\": [{\"sku\": \"A\", \"qty\": 2}, {\"sku\": "
    "\"B\", \"qty\": 1}], \"total\": 30}, \"tags\": [], \"meta\": {}}";

static int setup(void **state)
{
    if (fx_setup(state, json_loads(base_vars, 0, NULL)))
        return -1;
    fx *f = *state;
    f->call = (bpm_eval_call){.instance_id = "inst-1",
                              .business_key = "order-42",
                              .element_id = "Task_1",
                              .definition_key = "order",
                              .definition_id = "order:3",
                              .tenant_id = "acme",
                              .now_ms = 1709280000000}; /* 2024-03-01T08:00:00Z */
    return 0;
}

static bpm_rc eval(fx *f, bpm_dialect d, bpm_eval_use use, const char *text,
                   bpm_eval_result *out, bpm_err *err)
{
    bpm_expr e = {.text = text, .dialect = d, .language = d == BPM_DIALECT_OTHER ? "groovy" : NULL};
    const void *h;
    bpm_err_clear(err);
    bpm_rc rc = bpm_lua_eval_ops.compile(f->s, &e, use, f->model, &h, err);
    if (rc != BPM_OK)
        return rc;
    memset(out, 0, sizeof *out);
    rc = bpm_lua_eval_ops.run(f->s, h, &f->call, &f->vars, f->step, out, err);
    bpm_arena_reset(f->step);
    return rc;
}

static char *dump(const json_t *j)
{
    return j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS) : strdup("(none)");
}

/* ---- conditions ----------------------------------------------------------------------------- */

typedef struct cond_case {
    bpm_dialect dialect;
    const char *text;
    int expect;       /* 1 true, 0 false, -1 error */
    const char *msg;  /* error substring */
} cond_case;

static const cond_case conditions[] = {
    {BPM_DIALECT_LUA, "amount > 1000 and approved", 1, NULL},
    {BPM_DIALECT_LUA, "amount < 1000", 0, NULL},
    {BPM_DIALECT_LUA, "vars.amount == 2000", 1, NULL},
    {BPM_DIALECT_LUA, "name == 'ada' -- trailing comment", 1, NULL},
    {BPM_DIALECT_LUA, "missing == nil", 1, NULL},
    {BPM_DIALECT_LUA, "nothing == null and vars.nothing == json.null", 1, NULL},
    {BPM_DIALECT_LUA, "#order.items == 2 and order.items[2].sku == 'B'", 1, NULL},
    {BPM_DIALECT_LUA, "math.type(amount) == 'integer' and math.type(rate) == 'float'", 1, NULL},
    {BPM_DIALECT_LUA, "execution.elementId == 'Task_1' and execution.businessKey == 'order-42'",
     1, NULL},
    {BPM_DIALECT_LUA, "return amount > 5", 1, NULL},
    {BPM_DIALECT_LUA, "if amount > 5000 then return true end\nreturn false", 0, NULL},
    {BPM_DIALECT_LUA, "amount", -1, "condition returned a number, expected a boolean"},
    {BPM_DIALECT_LUA, "name", -1, "condition returned a string, expected a boolean"},
    {BPM_DIALECT_LUA, "order", -1, "condition returned a table, expected a boolean"},
    {BPM_DIALECT_LUA, "missing", -1, "condition returned nil, expected a boolean"},
    {BPM_DIALECT_LUA, "nothing", -1, "condition returned null, expected a boolean"},
    {BPM_DIALECT_LUA, "x = 1", -1, "condition returned nil"},
    {BPM_DIALECT_LUA, "vars.x = 1 return true", -1, "a condition cannot set variables (line 1)"},
    {BPM_DIALECT_LUA, "missing.field", -1, "attempt to index a nil value (global 'missing')"},
    {BPM_DIALECT_LUA, "nothing.field", -1, "attempt to index a null value (global 'nothing')"},
    {BPM_DIALECT_LITERAL, "true", 1, NULL},
    {BPM_DIALECT_LITERAL, " false\n", 0, NULL},
#if HAVE_DIALECT
    {BPM_DIALECT_JUEL, "${amount > 1000 && approved}", 1, NULL},
    {BPM_DIALECT_JUEL, "${amount < 1000}", 0, NULL},
    {BPM_DIALECT_JUEL, "${name == 'ada'}", 1, NULL},
    /* JUEL: an identifier naming no variable fails, as Camunda's "Cannot resolve
     * identifier"; execution.getVariable() and a variable holding null are null */
    {BPM_DIALECT_JUEL, "${missing > 1}", -1, "unknown variable \"missing\" in JUEL expression"},
    {BPM_DIALECT_JUEL, "${empty missing}", -1, "unknown variable \"missing\""},
    {BPM_DIALECT_JUEL, "${missing == null}", -1, "unknown variable \"missing\""},
    {BPM_DIALECT_JUEL, "${order.missing == null}", 1, NULL},
    {BPM_DIALECT_JUEL, "${empty nothing}", 1, NULL},
    {BPM_DIALECT_JUEL, "${execution.getVariable('missing') == null}", 1, NULL},
    {BPM_DIALECT_JUEL, "${execution.hasVariable('missing') && missing > 1}", 0, NULL},
    /* JUEL conditions return a Boolean, as in Camunda's UelExpressionCondition:
     * no coercion of the result ("condition expression returns non-Boolean") */
    {BPM_DIALECT_JUEL, "${name}", -1, "condition returned a string, expected a boolean"},
    {BPM_DIALECT_JUEL, "${'true'}", -1, "condition returned a string, expected a boolean"},
    {BPM_DIALECT_JUEL, "${nothing}", -1, "condition returned null, expected a boolean"},
    {BPM_DIALECT_FEEL, "amount > 1000 and approved", 1, NULL},
    {BPM_DIALECT_FEEL, "count(order.items) = 3", 0, NULL},
    /* FEEL: a missing variable is null */
    {BPM_DIALECT_FEEL, "missing = null", 1, NULL},
    {BPM_DIALECT_FEEL, "missing > 1", -1, "condition returned null, expected a boolean"},
    {BPM_DIALECT_FEEL, "\"true\"", -1, "condition returned a string, expected a boolean"},
    {BPM_DIALECT_FEEL, "is empty(tags) and count(order.items[qty > 5]) = 0", 1, NULL},
#endif
};

static void test_conditions(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof conditions / sizeof *conditions; i++) {
        const cond_case *c = &conditions[i];
        bpm_eval_result r;
        bpm_err err;
        bpm_rc rc = eval(f, c->dialect, BPM_USE_CONDITION, c->text, &r, &err);
        if (c->expect < 0) {
            if (rc == BPM_OK)
                fail_msg("%s: expected an error, got %s", c->text, dump(r.value));
            if (!strstr(err.msg, c->msg))
                fail_msg("%s: message \"%s\" lacks \"%s\"", c->text, err.msg, c->msg);
            continue;
        }
        if (rc != BPM_OK)
            fail_msg("%s: %s", c->text, err.msg);
        assert_int_equal(r.outcome, BPM_EVAL_VALUE);
        if (!json_is_boolean(r.value) || json_is_true(r.value) != (c->expect == 1))
            fail_msg("%s: got %s", c->text, dump(r.value));
        json_decref(r.value);
    }
}

/* ---- compile errors -------------------------------------------------------------------------- */

typedef struct compile_case {
    bpm_dialect dialect;
    bpm_eval_use use;
    const char *text;
    const char *msg;
} compile_case;

static const compile_case compile_errors[] = {
    {BPM_DIALECT_LUA, BPM_USE_CONDITION, "amount >", "syntax error: incomplete expression (line 1)"},
    {BPM_DIALECT_LUA, BPM_USE_CONDITION, "amount >\n 1000 and", "incomplete expression (line 2)"},
    {BPM_DIALECT_LUA, BPM_USE_CONDITION, "amount >> > 1", "syntax error: unexpected symbol near '>'"},
    {BPM_DIALECT_LUA, BPM_USE_CONDITION, "if amount then", "'end' expected"},
    {BPM_DIALECT_LUA, BPM_USE_SCRIPT, "local x = 1\nlocal y = = 2", "(line 2)"},
    {BPM_DIALECT_LUA, BPM_USE_SCRIPT, "for i = 1, 3 do\n  x = i\n", "'end' expected"},
    {BPM_DIALECT_LUA, BPM_USE_SCRIPT, "x = 'unfinished", "unfinished string near <eof> (line 1)"},
    {BPM_DIALECT_LUA, BPM_USE_VALUE, "{", "syntax error: incomplete expression (line 1)"},
    {BPM_DIALECT_LUA, BPM_USE_SCRIPT, "\x1bLuaT", "syntax error"},
    {BPM_DIALECT_OTHER, BPM_USE_SCRIPT, "println 'hi'",
     "script language \"groovy\" is not supported; use lua"},
    {BPM_DIALECT_LITERAL, BPM_USE_CONDITION, "maybe",
     "condition \"maybe\" is plain text; a literal condition must be true or false"},
#if HAVE_DIALECT
    {BPM_DIALECT_JUEL, BPM_USE_VALUE, "${service.send()}", "JUEL"},
#endif
};

static void test_compile_errors(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof compile_errors / sizeof *compile_errors; i++) {
        const compile_case *c = &compile_errors[i];
        bpm_expr e = {.text = c->text,
                      .dialect = c->dialect,
                      .language = c->dialect == BPM_DIALECT_OTHER ? "groovy" : "lua"};
        const void *h = NULL;
        bpm_err err;
        bpm_err_clear(&err);
        bpm_rc rc = bpm_scripts_compile(f->s, &e, c->use, f->model, &h, &err);
        if (rc != BPM_INVALID)
            fail_msg("%s: got %s, expected INVALID", c->text, bpm_err_name(rc));
        assert_null(h);
        if (!strstr(err.msg, c->msg))
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->text, err.msg, c->msg);
    }
    bpm_expr none = {0};
    const void *h;
    bpm_err err;
    assert_int_equal(bpm_scripts_compile(f->s, &none, BPM_USE_VALUE, f->model, &h, &err),
                     BPM_INVALID);
}

/* ---- value expressions and the library --------------------------------------------------------- */

typedef struct value_case {
    bpm_dialect dialect;
    const char *text;
    const char *expect; /* JSON; NULL = no value */
} value_case;

static const value_case values[] = {
    {BPM_DIALECT_LUA, "amount * 2", "4000"},
    {BPM_DIALECT_LUA, "amount / 2", "1000.0"},
    {BPM_DIALECT_LUA, "amount // 3", "666"},
    {BPM_DIALECT_LUA, "rate", "0.5"},
    {BPM_DIALECT_LUA, "name .. '!'", "\"ada!\""},
    {BPM_DIALECT_LUA, "{1, 2, 3}", "[1,2,3]"},
    {BPM_DIALECT_LUA, "{}", "{}"},
    {BPM_DIALECT_LUA, "json.array()", "[]"},
    {BPM_DIALECT_LUA, "tags", "[]"},
    {BPM_DIALECT_LUA, "meta", "{}"},
    {BPM_DIALECT_LUA, "nothing", "null"},
    {BPM_DIALECT_LUA, "missing", NULL},
    {BPM_DIALECT_LUA, "order.items[1]", "{\"qty\":2,\"sku\":\"A\"}"},
    {BPM_DIALECT_LUA, "execution.instanceId", "\"inst-1\""},
    {BPM_DIALECT_LUA, "execution.now", "1709280000000"},
    {BPM_DIALECT_LUA, "execution.getVariable('amount') + execution:getVariable('amount')",
     "4000"},
    {BPM_DIALECT_LUA, "crypto.sha256('abc')",
     "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""},
    {BPM_DIALECT_LUA, "crypto.sha256('')",
     "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\""},
    {BPM_DIALECT_LUA,
     "crypto.sha256('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')",
     "\"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1\""},
    {BPM_DIALECT_LUA, "crypto.sha256(string.rep('a', 1000000))",
     "\"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0\""},
    {BPM_DIALECT_LUA, "crypto.hmac_sha256('key', 'The quick brown fox jumps over the lazy dog')",
     "\"f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8\""},
    /* RFC 4231 test case 6: a key longer than the block */
    {BPM_DIALECT_LUA,
     "crypto.hmac_sha256(string.rep('\\xaa', 131), 'Test Using Larger Than Block-Size Key - "
     "Hash Key First')",
     "\"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54\""},
    {BPM_DIALECT_LUA, "#crypto.sha256('x', true)", "32"},
    {BPM_DIALECT_LUA, "base64.encode('hello')", "\"aGVsbG8=\""},
    {BPM_DIALECT_LUA, "base64.encode('\\xfb\\xff', true)", "\"-_8\""},
    {BPM_DIALECT_LUA, "base64.decode('aGVsbG8')", "\"hello\""},
    {BPM_DIALECT_LUA, "base64.decode(base64.encode('a\\0b\\255')) == 'a\\0b\\255'", "true"},
    {BPM_DIALECT_LUA, "select(2, base64.decode('a$=='))",
     "\"invalid base64: unexpected character at position 2\""},
    {BPM_DIALECT_LUA, "json.encode({b = 1, a = {1, 2}, c = json.null, d = {}})",
     "\"{\\\"a\\\":[1,2],\\\"b\\\":1,\\\"c\\\":null,\\\"d\\\":{}}\""},
    {BPM_DIALECT_LUA, "json.encode(order)",
     "\"{\\\"items\\\":[{\\\"qty\\\":2,\\\"sku\\\":\\\"A\\\"},{\\\"qty\\\":1,\\\"sku\\\":\\\"B\\\"}],"
     "\\\"total\\\":30}\""},
    {BPM_DIALECT_LUA, "json.decode('{\"a\":[],\"b\":{},\"c\":1.0,\"d\":null}')",
     "{\"a\":[],\"b\":{},\"c\":1.0,\"d\":null}"},
    {BPM_DIALECT_LUA, "json.decode('[1, 2]')[2]", "2"},
    {BPM_DIALECT_LUA, "pcall(json.decode, '{bad')", "false"},
    {BPM_DIALECT_LUA, "json.object({1, 2})", "{\"1\":1,\"2\":2}"},
    {BPM_DIALECT_LUA, "date.parse('1970-01-02T00:00:00Z')", "86400000"},
    {BPM_DIALECT_LUA, "date.parse('2024-03-01T10:00:00+02:00') == execution.now", "true"},
    {BPM_DIALECT_LUA, "date.parse('yesterday')", NULL},
    {BPM_DIALECT_LUA, "date.format(0)", "\"1970-01-01T00:00:00.000Z\""},
    {BPM_DIALECT_LUA, "date.add('2024-01-31T00:00:00Z', 'P1M')", "\"2024-02-29T00:00:00.000Z\""},
    {BPM_DIALECT_LUA, "date.add(0, 'PT1H30M')", "5400000"},
    {BPM_DIALECT_LUA, "date.duration('P1DT1S')", "86401000"},
    {BPM_DIALECT_LUA, "date.now()", "1709280000000"},
    {BPM_DIALECT_LUA, "os.time()", "1709280000"},
    {BPM_DIALECT_LUA, "os.date('%Y-%m-%d %H:%M')", "\"2024-03-01 08:00\""},
    {BPM_DIALECT_LUA, "os.date('%H', 3600)", "\"01\""},
    {BPM_DIALECT_LUA, "os.time({year = 2024, month = 1, day = 1, hour = 0})", "1704067200"},
    {BPM_DIALECT_LUA, "('a, b ,c'):split(',')", "[\"a\",\" b \",\"c\"]"},
    {BPM_DIALECT_LUA, "string.split('a--b----c', '--')", "[\"a\",\"b\",\"\",\"c\"]"},
    {BPM_DIALECT_LUA, "string.split('  one two\\tthree\\n')", "[\"one\",\"two\",\"three\"]"},
    {BPM_DIALECT_LUA, "string.split('')", "[]"},
    {BPM_DIALECT_LUA, "('  x y \\n'):trim()", "\"x y\""},
    {BPM_DIALECT_LUA, "{name:startswith('ad'), name:startswith('da'), name:endswith('da'), "
                      "string.endswith('a', 'aa')}",
     "[true,false,true,false]"},
    {BPM_DIALECT_LUA, "#uuid()", "36"},
    {BPM_DIALECT_LUA, "math.random(5, 5)", "5"},
    {BPM_DIALECT_LITERAL, "accounting", "\"accounting\""},
    {BPM_DIALECT_LITERAL, "PT5M", "\"PT5M\""},
#if HAVE_DIALECT
    {BPM_DIALECT_JUEL, "${amount * 2}", "4000"},
    {BPM_DIALECT_JUEL, "Hello ${name}!", "\"Hello ada!\""},
    {BPM_DIALECT_JUEL, "${tags}", "[]"},
    {BPM_DIALECT_JUEL, "${meta}", "{}"},
    {BPM_DIALECT_JUEL, "${approved ? tags : meta}", "[]"},
    {BPM_DIALECT_JUEL, "${tags}/${meta}", "\"[]/{}\""},
    {BPM_DIALECT_JUEL, "${execution.getVariable('missing')}", NULL},
    {BPM_DIALECT_JUEL, "${nothing}", "null"},
    {BPM_DIALECT_FEEL, "amount * 2", "4000"},
    {BPM_DIALECT_FEEL, "\"Hello \" + name", "\"Hello ada\""},
    /* lists the expression builds are arrays even when empty; contexts objects */
    {BPM_DIALECT_FEEL, "[]", "[]"},
    {BPM_DIALECT_FEEL, "{}", "{}"},
    {BPM_DIALECT_FEEL, "[[], {}]", "[[],{}]"},
    {BPM_DIALECT_FEEL, "{a: [], b: {}, c: tags, d: meta}", "{\"a\":[],\"b\":{},\"c\":[],\"d\":{}}"},
    {BPM_DIALECT_FEEL, "tags", "[]"},
    {BPM_DIALECT_FEEL, "meta", "{}"},
    {BPM_DIALECT_FEEL, "order.items[qty > 5]", "[]"},
    {BPM_DIALECT_FEEL, "order.items[qty > 5].sku", "[]"},
    {BPM_DIALECT_FEEL, "order.items[qty > 1].sku", "[\"A\"]"},
    {BPM_DIALECT_FEEL, "tags.sku", "[]"},
    {BPM_DIALECT_FEEL, "for x in [] return x", "[]"},
    {BPM_DIALECT_FEEL, "for x in tags return x", "[]"},
    {BPM_DIALECT_FEEL, "for x in tags return date(x)", "[]"},
    {BPM_DIALECT_FEEL, "{d: date(\"2024-01-01\"), l: []}", "{\"d\":\"2024-01-01\",\"l\":[]}"},
    {BPM_DIALECT_FEEL, "append([], 1)", "[1]"},
    {BPM_DIALECT_FEEL, "concatenate([], tags)", "[]"},
    {BPM_DIALECT_FEEL, "reverse(tags)", "[]"},
    {BPM_DIALECT_FEEL, "sublist([1, 2], 1, 0)", "[]"},
    {BPM_DIALECT_FEEL, "index of([1], 2)", "[]"},
    {BPM_DIALECT_FEEL, "distinct values(tags)", "[]"},
    {BPM_DIALECT_FEEL, "flatten([[], [tags]])", "[]"},
    {BPM_DIALECT_FEEL, "string(tags) + string(meta)", "\"[]{}\""},
#endif
};

static void test_values(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        const value_case *c = &values[i];
        bpm_eval_result r;
        bpm_err err;
        if (eval(f, c->dialect, BPM_USE_VALUE, c->text, &r, &err) != BPM_OK)
            fail_msg("%s: %s", c->text, err.msg);
        assert_int_equal(r.outcome, BPM_EVAL_VALUE);
        if (!c->expect) {
            if (r.value)
                fail_msg("%s: expected no value, got %s", c->text, dump(r.value));
            continue;
        }
        json_t *want = json_loads(c->expect, JSON_DECODE_ANY, NULL);
        assert_non_null(want);
        if (!json_equal(want, r.value))
            fail_msg("%s: got %s, expected %s", c->text, dump(r.value), c->expect);
        json_decref(want);
        json_decref(r.value);
    }
}

/* Library misuse is a script error with a message, never a crash. */
static const char *const lib_errors[][2] = {
    {"json.encode(print)", "json.encode: value at $ cannot be converted to JSON: it is a function"},
    {"json.decode('{')", "json.decode: "},
    {"date.add('2024-01-01', 'P1X')", "invalid ISO 8601 duration"},
    {"date.add('nope', 'P1D')", "nope"},
    {"date.duration('P1M')", "has years or months"},
    {"os.time({year = 2024})", "field 'month' missing in date table"},
    {"string.split('a', '')", "separator is empty"},
    {"math.random(3, 1)", "interval is empty"},
    {"crypto.sha256()", "bad argument #1 to 'sha256'"},
    {"bpmn.error()", "bad argument #1 to 'error'"},
};

static void test_library_errors(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof lib_errors / sizeof *lib_errors; i++) {
        bpm_eval_result r;
        bpm_err err;
        bpm_rc rc = eval(f, BPM_DIALECT_LUA, BPM_USE_VALUE, lib_errors[i][0], &r, &err);
        if (rc != BPM_SCRIPT)
            fail_msg("%s: got %s", lib_errors[i][0], bpm_err_name(rc));
        if (!strstr(err.msg, lib_errors[i][1]))
            fail_msg("%s: message \"%s\" lacks \"%s\"", lib_errors[i][0], err.msg,
                     lib_errors[i][1]);
    }
}

/* ---- script tasks ------------------------------------------------------------------------------- */

static void assert_var(fx *f, const char *name, const char *json)
{
    json_t *want = json_loads(json, JSON_DECODE_ANY, NULL);
    json_t *got = json_object_get(f->vars_obj, name);
    if (!json_equal(want, got))
        fail_msg("variable %s = %s, expected %s", name, dump(got), json);
    json_decref(want);
}

static void test_script_vars(void **state)
{
    fx *f = *state;
    bpm_eval_result r;
    bpm_err err;
    const char *script =
        "vars.total = amount * 2\n"
        "vars.label = name:upper()\n"
        "vars.list = {1, 2, 3}\n"
        "vars.empty_list = json.array()\n"
        "vars.empty_obj = {}\n"
        "vars.cleared = nil\n"
        "execution.setVariable('viaExecution', true)\n"
        "vars.order.items[3] = {sku = 'C', qty = 5}\n" /* in place: written back */
        "local o = order; o.total = 35\n"             /* a global read, same table */
        "local t = tags; t[#t + 1] = 'new'\n"
        "local sum = 0\n"
        "for k, v in pairs(vars) do if k == 'amount' then sum = sum + v end end\n"
        "return {sum = sum, seen = vars.total}";
    assert_int_equal(eval(f, BPM_DIALECT_LUA, BPM_USE_SCRIPT, script, &r, &err), BPM_OK);
    assert_int_equal(r.outcome, BPM_EVAL_VALUE);
    json_t *want = json_loads("{\"sum\":2000,\"seen\":4000}", 0, NULL);
    if (!json_equal(want, r.value))
        fail_msg("result %s", dump(r.value));
    json_decref(want);
    json_decref(r.value);
    assert_var(f, "total", "4000");
    assert_var(f, "label", "\"ADA\"");
    assert_var(f, "list", "[1,2,3]");
    assert_var(f, "empty_list", "[]");
    assert_var(f, "empty_obj", "{}");
    assert_var(f, "cleared", "null");
    assert_var(f, "viaExecution", "true");
    assert_var(f, "order",
               "{\"items\":[{\"sku\":\"A\",\"qty\":2},{\"sku\":\"B\",\"qty\":1},"
               "{\"sku\":\"C\",\"qty\":5}],\"total\":35}");
    assert_var(f, "tags", "[\"new\"]");
    assert_var(f, "amount", "2000");

    /* a script without a return gives no value; a set that the store refuses
     * is a script error naming the variable */
    assert_int_equal(eval(f, BPM_DIALECT_LUA, BPM_USE_SCRIPT, "vars.x = 1", &r, &err), BPM_OK);
    assert_null(r.value);
    json_object_set_new(f->vars_obj, "readonly", json_integer(1));
    assert_int_equal(eval(f, BPM_DIALECT_LUA, BPM_USE_SCRIPT, "\nvars.readonly = 2", &r, &err),
                     BPM_SCRIPT);
    assert_string_equal(err.msg,
                        "cannot set variable \"readonly\": variable \"readonly\" is read-only "
                        "(line 2)");
    assert_int_equal(eval(f, BPM_DIALECT_LUA, BPM_USE_SCRIPT, "vars.f = print", &r, &err),
                     BPM_SCRIPT);
    assert_non_null(strstr(err.msg, "cannot set variable \"f\": value at $ cannot be converted "
                                    "to JSON: it is a function (line 1)"));
    /* a result that is not JSON */
    assert_int_equal(eval(f, BPM_DIALECT_LUA, BPM_USE_SCRIPT, "return {f = print}", &r, &err),
                     BPM_SCRIPT);
    assert_non_null(strstr(err.msg, "$.f"));
    assert_non_null(strstr(err.where, "the script's result"));
    /* a mutated table that became unconvertible */
    assert_int_equal(eval(f, BPM_DIALECT_LUA, BPM_USE_SCRIPT, "order.bad = print", &r, &err),
                     BPM_SCRIPT);
    assert_non_null(strstr(err.where, "variable \"order\""));
}

typedef struct outcome_case {
    const char *script;
    bpm_eval_outcome outcome;
    const char *code;
    const char *message; /* NULL = none */
} outcome_case;

static const outcome_case outcomes[] = {
    {"bpmn.error('NOT_FOUND', 'no such customer')", BPM_EVAL_BPMN_ERROR, "NOT_FOUND",
     "no such customer"},
    {"bpmn.error('E2')", BPM_EVAL_BPMN_ERROR, "E2", NULL},
    {"bpmn.escalation('LATE', 'too late')", BPM_EVAL_ESCALATION, "LATE", "too late"},
    {"pcall(bpmn.error, 'CAUGHT?') return 'not caught'", BPM_EVAL_BPMN_ERROR, "CAUGHT?", NULL},
    {"coroutine.wrap(function() bpmn.error('IN_CO') end)()", BPM_EVAL_BPMN_ERROR, "IN_CO", NULL},
    {"local ok = pcall(error, 'x') vars.before = ok bpmn.escalation('AFTER_PCALL')",
     BPM_EVAL_ESCALATION, "AFTER_PCALL", NULL},
};

static void test_outcomes(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof outcomes / sizeof *outcomes; i++) {
        const outcome_case *c = &outcomes[i];
        bpm_expr e = {.text = c->script, .dialect = BPM_DIALECT_LUA};
        const void *h;
        bpm_err err;
        assert_int_equal(bpm_scripts_compile(f->s, &e, BPM_USE_SCRIPT, f->model, &h, &err),
                         BPM_OK);
        bpm_eval_result r;
        bpm_rc rc = bpm_scripts_run(f->s, h, &f->call, &f->vars, f->step, &r, &err);
        if (rc != BPM_OK)
            fail_msg("%s: %s", c->script, err.msg);
        assert_int_equal(r.outcome, c->outcome);
        assert_string_equal(r.code, c->code);
        if (c->message)
            assert_string_equal(r.message, c->message);
        else
            assert_null(r.message);
        assert_null(r.value);
        bpm_arena_reset(f->step);
    }
    assert_var(f, "before", "false"); /* sets before the outcome stay */
}

/* ---- the cache --------------------------------------------------------------------------------- */

static void test_chunk_cache(void **state)
{
    fx *f = *state;
    bpm_expr e = {.text = "amount > 1000 and approved", .dialect = BPM_DIALECT_LUA};
    const void *h;
    bpm_err err;
    bpm_scripts_stats st0, st1;
    bpm_scripts_stats_get(f->s, &st0);
    assert_int_equal(bpm_scripts_compile(f->s, &e, BPM_USE_CONDITION, f->model, &h, &err), BPM_OK);
    for (int i = 0; i < 1000; i++) {
        bpm_eval_result r;
        assert_int_equal(bpm_scripts_run(f->s, h, &f->call, &f->vars, f->step, &r, &err), BPM_OK);
        assert_true(json_is_true(r.value));
    }
    bpm_scripts_stats_get(f->s, &st1);
    assert_int_equal(st1.chunk_loads - st0.chunk_loads, 1); /* parsed once, at compile */
    assert_int_equal(st1.runs - st0.runs, 1000);
    assert_int_equal(st1.cached_chunks, st0.cached_chunks + 1);

    /* another evaluator (another thread) parses it once on first use */
    bpm_scripts *other = bpm_scripts_new(NULL, &err);
    for (int i = 0; i < 10; i++) {
        bpm_eval_result r;
        assert_int_equal(bpm_scripts_run(other, h, &f->call, &f->vars, f->step, &r, &err),
                         BPM_OK);
        assert_true(json_is_true(r.value));
    }
    bpm_scripts_stats st2;
    bpm_scripts_stats_get(other, &st2);
    assert_int_equal(st2.chunk_loads, 1);
    bpm_scripts_free(other);
}

/* A handle from a freed model never runs in place of a new one at the same
 * address: the cache is keyed by a process-unique id. */
static void test_cache_after_model_freed(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 50; i++) {
        bpm_arena *model = bpm_arena_new();
        char text[32];
        snprintf(text, sizeof text, "%d", i);
        bpm_expr e = {.text = text, .dialect = BPM_DIALECT_LUA};
        const void *h;
        bpm_err err;
        assert_int_equal(bpm_scripts_compile(f->s, &e, BPM_USE_VALUE, model, &h, &err), BPM_OK);
        bpm_eval_result r;
        assert_int_equal(bpm_scripts_run(f->s, h, NULL, NULL, f->step, &r, &err), BPM_OK);
        assert_int_equal(json_integer_value(r.value), i);
        json_decref(r.value);
        bpm_arena_free(model);
    }
    /* a tiny cache evicts and still answers right */
    bpm_scripts_config cfg = {.max_cached_chunks = 2};
    bpm_err err;
    bpm_scripts *small = bpm_scripts_new(&cfg, &err);
    const void *h[5];
    for (int i = 0; i < 5; i++) {
        char text[32];
        snprintf(text, sizeof text, "%d * 10", i);
        bpm_expr e = {.text = text, .dialect = BPM_DIALECT_LUA};
        assert_int_equal(bpm_scripts_compile(small, &e, BPM_USE_VALUE, f->model, &h[i], &err),
                         BPM_OK);
    }
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 5; i++) {
            bpm_eval_result r;
            assert_int_equal(bpm_scripts_run(small, h[i], NULL, NULL, f->step, &r, &err), BPM_OK);
            assert_int_equal(json_integer_value(r.value), i * 10);
            json_decref(r.value);
        }
    bpm_scripts_stats st;
    bpm_scripts_stats_get(small, &st);
    assert_true(st.cached_chunks <= 2);
    bpm_scripts_free(small);
}

/* ---- threads: one evaluator each, shared handles ---------------------------------------------------- */

typedef struct worker {
    const void *cond, *script;
    int failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    bpm_err err;
    bpm_scripts *s = bpm_scripts_new(NULL, &err);
    bpm_arena *step = bpm_arena_new();
    for (int i = 0; i < 2000; i++) {
        json_t *obj = json_pack("{s:i,s:b}", "amount", i, "approved", 1);
        bpm_vars vars = {&vars_ops, obj};
        bpm_eval_result r;
        if (bpm_scripts_run(s, w->cond, NULL, &vars, step, &r, &err) != BPM_OK ||
            json_is_true(r.value) != (i > 1000))
            w->failures++;
        if (bpm_scripts_run(s, w->script, NULL, &vars, step, &r, &err) != BPM_OK ||
            json_integer_value(json_object_get(obj, "double")) != 2 * i)
            w->failures++;
        json_decref(obj);
        bpm_arena_reset(step);
    }
    bpm_arena_free(step);
    bpm_scripts_free(s);
    return NULL;
}

static void test_threads(void **state)
{
    fx *f = *state;
    bpm_expr c = {.text = "amount > 1000 and approved", .dialect = BPM_DIALECT_LUA};
    bpm_expr s = {.text = "vars.double = amount * 2", .dialect = BPM_DIALECT_LUA};
    worker w[4];
    bpm_err err;
    const void *hc, *hs;
    assert_int_equal(bpm_scripts_compile(f->s, &c, BPM_USE_CONDITION, f->model, &hc, &err), BPM_OK);
    assert_int_equal(bpm_scripts_compile(f->s, &s, BPM_USE_SCRIPT, f->model, &hs, &err), BPM_OK);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){.cond = hc, .script = hs};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
}

/* ---- the port ------------------------------------------------------------------------------------- */

static void test_evaluator_port(void **state)
{
    fx *f = *state;
    bpm_evaluator ev = bpm_scripts_evaluator(f->s);
    assert_ptr_equal(ev.ops, &bpm_lua_eval_ops);
    assert_ptr_equal(ev.self, f->s);
    bpm_expr e = {.text = "name", .dialect = BPM_DIALECT_LUA};
    const void *h;
    bpm_err err;
    assert_int_equal(ev.ops->compile(ev.self, &e, BPM_USE_VALUE, f->model, &h, &err), BPM_OK);
    bpm_eval_result r;
    assert_int_equal(ev.ops->run(ev.self, h, NULL, &f->vars, f->step, &r, &err), BPM_OK);
    assert_string_equal(json_string_value(r.value), "ada");
    json_decref(r.value);
    /* no vars, no call: variables are nil, execution has only `now` = 0 */
    assert_int_equal(ev.ops->compile(ev.self,
                                     &(bpm_expr){.text = "{amount == nil, execution.now, "
                                                         "execution.instanceId == nil}",
                                                 .dialect = BPM_DIALECT_LUA},
                                     BPM_USE_VALUE, f->model, &h, &err),
                     BPM_OK);
    assert_int_equal(ev.ops->run(ev.self, h, NULL, NULL, f->step, &r, &err), BPM_OK);
    json_t *want = json_loads("[true,0,true]", 0, NULL);
    assert_true(json_equal(want, r.value));
    json_decref(want);
    json_decref(r.value);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_conditions),   T(test_compile_errors),    T(test_values),
        T(test_library_errors), T(test_script_vars),     T(test_outcomes),
        T(test_chunk_cache),  T(test_cache_after_model_freed), T(test_threads),
        T(test_evaluator_port),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
