/* FEEL (Camunda 8) to Lua: supported expressions (exact Lua and value), refused
 * ones (message), limits, a fuzz loop and grammar-generated expressions. */
#include "dialect_harness.h"

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
    {"bpmnError(\"NOT_FOUND\", \"gone\")",
     "return __dx.fn_bpmn_error(\"NOT_FOUND\", \"gone\")",
     "{}", "{\"errorType\":\"bpmnError\",\"code\":\"NOT_FOUND\",\"message\":\"gone\"}"},
    {"jobError(m)",
     "return __dx.fn_job_error(vars.m)",
     "{\"m\":\"try later\"}", "{\"errorType\":\"jobError\",\"message\":\"try later\"}"},
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

static void test_supported(void **state)
{
    (void)state;
    run_cases(bpm_feel_translate, CASES, N_OF(CASES));
}

static void test_refused(void **state)
{
    (void)state;
    run_errors(bpm_feel_translate, ERRORS, N_OF(ERRORS));
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
        if (run_expr(L, bpm_feel_translate, expr, "{}") != LUA_OK)
            fail_msg("byte %d: %s", b, lua_tostring(L, -1));
        size_t n;
        const char *got = lua_tolstring(L, -1, &n);
        assert_int_equal(n, 1);
        assert_int_equal((unsigned char)got[0], b);
        lua_pop(L, 1);
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
    check_refused(bpm_feel_translate, huge, "FEEL expression too long (65537 bytes, limit 65536)");
    free(huge);

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

    char *deep = repeat("", "[", 1000, "1", "]", "");
    check_refused(bpm_feel_translate, deep,
                  "invalid FEEL: expression nested too deeply (more than 64 levels) at column 65");
    free(deep);
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
