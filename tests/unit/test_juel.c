/* JUEL (Camunda 7) to Lua: supported expressions (exact Lua and value), refused
 * ones (message), limits, a fuzz loop and grammar-generated expressions. */
#include "dialect_harness.h"

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

static void test_supported(void **state)
{
    (void)state;
    run_cases(bpm_juel_translate, CASES, N_OF(CASES));
}

static void test_refused(void **state)
{
    (void)state;
    run_errors(bpm_juel_translate, ERRORS, N_OF(ERRORS));
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
        lua_State *L = new_state();
        assert_int_not_equal(run_expr(L, bpm_juel_translate, cases[i].expr, cases[i].vars), LUA_OK);
        assert_string_equal(lua_tostring(L, -1), cases[i].msg);
        lua_close(L);
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
        if (run_expr(L, bpm_juel_translate, expr, "{}") != LUA_OK)
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
    check_refused(bpm_juel_translate, huge, "JUEL expression too long (65537 bytes, limit 65536)");
    free(huge);

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

    char *deep = repeat("${", "(", 1000, "a", ")", "}");
    check_refused(bpm_juel_translate, deep,
                  "invalid JUEL: expression nested too deeply (more than 64 levels) at column 67");
    free(deep);
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
