/* Unit tests for adapters/api/restvars.c: every Camunda variable type in
 * and out, the type-name case rule, range checks, transient variables, the
 * File/Bytes markers, base64, and error messages that name the variable.
 * JSON in the tables is written with ' for " and ` for \" to stay legible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restvars.h"

/* ' -> ", ` -> \" ; then parse (any JSON value). */
static json_t *J(const char *text)
{
    char buf[1024];
    size_t o = 0;
    for (const char *p = text; *p && o + 3 < sizeof buf; p++) {
        if (*p == '\'')
            buf[o++] = '"';
        else if (*p == '`')
            buf[o++] = '\\', buf[o++] = '"';
        else
            buf[o++] = *p;
    }
    buf[o] = '\0';
    json_error_t e;
    json_t *v = json_loads(buf, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v) {
        print_error("bad test JSON %s: %s\n", buf, e.text);
        fail();
    }
    return v;
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS) : strdup("(none)");
}

/* ---- decode: one typed value each --------------------------------------- */

static const struct {
    const char *typed;
    const char *plain; /* expected plain value, when err is NULL */
    const char *err;   /* expected in err.msg, before " (variable 'v')" */
} decodes[] = {
    /* String, and the case rule: only the first letter may be lower case */
    {"{'value':'abc','type':'String'}", "'abc'", NULL},
    {"{'value':'abc','type':'string'}", "'abc'", NULL},
    {"{'value':'abc','type':'STRING'}", NULL, "Unsupported value type 'STRING'"},
    {"{'value':'abc','type':'sTRING'}", NULL, "Unsupported value type 'sTRING'"},
    {"{'value':'abc','type':'Strin'}", NULL, "Unsupported value type 'Strin'"},
    {"{'value':'abc','type':''}", NULL, "Unsupported value type ''"},
    {"{'value':'abc','type':'Number'}", NULL, "Unsupported value type 'Number'"},
    {"{'value':5,'type':'String'}", "'5'", NULL},
    {"{'value':5.5,'type':'String'}", "'5.5'", NULL},
    {"{'value':0.1,'type':'String'}", "'0.1'", NULL},
    {"{'value':true,'type':'String'}", "'true'", NULL},
    {"{'value':false,'type':'String'}", "'false'", NULL},
    {"{'value':-3,'type':'String'}", "'-3'", NULL},
    {"{'value':null,'type':'String'}", "null", NULL},
    {"{'value':{'a':1},'type':'String'}", NULL,
     "Cannot convert value '{'a':1}' of type 'String' to java type java.lang.String"},
    {"{'value':'','type':'String','valueInfo':{}}", "''", NULL},
    /* Integer: int32, from numbers, integral reals and decimal strings */
    {"{'value':42,'type':'Integer'}", "42", NULL},
    {"{'value':42,'type':'integer'}", "42", NULL},
    {"{'value':'42','type':'Integer'}", "42", NULL},
    {"{'value':' -42 ','type':'Integer'}", "-42", NULL},
    {"{'value':5.0,'type':'Integer'}", "5", NULL},
    {"{'value':2147483647,'type':'Integer'}", "2147483647", NULL},
    {"{'value':-2147483648,'type':'Integer'}", "-2147483648", NULL},
    {"{'value':2147483648,'type':'Integer'}", NULL,
     "Cannot convert value '2147483648' of type 'Integer' to java type java.lang.Integer"},
    {"{'value':-2147483649,'type':'integer'}", NULL,
     "Cannot convert value '-2147483649' of type 'integer' to java type java.lang.Integer"},
    {"{'value':'99999999999','type':'Integer'}", NULL,
     "Cannot convert value '99999999999' of type 'Integer' to java type java.lang.Integer"},
    {"{'value':5.5,'type':'Integer'}", NULL,
     "Cannot convert value '5.5' of type 'Integer' to java type java.lang.Integer"},
    {"{'value':'4.2','type':'Integer'}", NULL, "to java type java.lang.Integer"},
    {"{'value':'abc','type':'Integer'}", NULL,
     "Cannot convert value 'abc' of type 'Integer' to java type java.lang.Integer"},
    {"{'value':'','type':'Integer'}", NULL, "to java type java.lang.Integer"},
    {"{'value':'0x10','type':'Integer'}", NULL, "to java type java.lang.Integer"},
    {"{'value':true,'type':'Integer'}", NULL,
     "Cannot convert value 'true' of type 'Integer' to java type java.lang.Integer"},
    {"{'value':null,'type':'Integer'}", "null", NULL},
    /* Short */
    {"{'value':32767,'type':'Short'}", "32767", NULL},
    {"{'value':-32768,'type':'short'}", "-32768", NULL},
    {"{'value':32768,'type':'Short'}", NULL,
     "Cannot convert value '32768' of type 'Short' to java type java.lang.Short"},
    /* Long */
    {"{'value':3000000000,'type':'Long'}", "3000000000", NULL},
    {"{'value':9223372036854775807,'type':'long'}", "9223372036854775807", NULL},
    {"{'value':'-9223372036854775808','type':'Long'}", "-9223372036854775808", NULL},
    {"{'value':'9223372036854775808','type':'Long'}", NULL,
     "Cannot convert value '9223372036854775808' of type 'Long' to java type java.lang.Long"},
    {"{'value':1e3,'type':'Long'}", "1000", NULL},
    {"{'value':1e19,'type':'Long'}", NULL, "to java type java.lang.Long"},
    {"{'value':[1],'type':'Long'}", NULL,
     "Cannot convert value '[1]' of type 'Long' to java type java.lang.Long"},
    /* Double: always stored as a JSON real */
    {"{'value':5,'type':'Double'}", "5.0", NULL},
    {"{'value':5.5,'type':'double'}", "5.5", NULL},
    {"{'value':'5.5','type':'Double'}", "5.5", NULL},
    {"{'value':'-1e3','type':'Double'}", "-1000.0", NULL},
    {"{'value':'abc','type':'Double'}", NULL,
     "Cannot convert value 'abc' of type 'Double' to java type java.lang.Double"},
    {"{'value':'nan','type':'Double'}", NULL, "to java type java.lang.Double"},
    {"{'value':'inf','type':'Double'}", NULL, "to java type java.lang.Double"},
    {"{'value':'0x1p3','type':'Double'}", NULL, "to java type java.lang.Double"},
    {"{'value':'1e999','type':'Double'}", NULL, "to java type java.lang.Double"},
    {"{'value':false,'type':'Double'}", NULL, "to java type java.lang.Double"},
    /* Boolean */
    {"{'value':true,'type':'Boolean'}", "true", NULL},
    {"{'value':false,'type':'boolean'}", "false", NULL},
    {"{'value':'true','type':'Boolean'}", "true", NULL},
    {"{'value':'false','type':'Boolean'}", "false", NULL},
    {"{'value':'TRUE','type':'Boolean'}", NULL,
     "Cannot convert value 'TRUE' of type 'Boolean' to java type java.lang.Boolean"},
    {"{'value':1,'type':'Boolean'}", NULL, "to java type java.lang.Boolean"},
    {"{'value':'true\\u0000','type':'Boolean'}", NULL, "to java type java.lang.Boolean"},
    {"{'value':null,'type':'Boolean'}", "null", NULL},
    /* Date: validated, stored normalised to UTC in our format */
    {"{'value':'2013-01-23T13:42:42.657+0200','type':'Date'}", "'2013-01-23T11:42:42.657+0000'",
     NULL},
    {"{'value':'2024-01-01T12:00:00.000+0000','type':'date'}", "'2024-01-01T12:00:00.000+0000'",
     NULL},
    {"{'value':'2024-01-01T12:00:00Z','type':'Date'}", "'2024-01-01T12:00:00.000+0000'", NULL},
    {"{'value':'2024-01-01T14:00:00+02:00','type':'Date'}", "'2024-01-01T12:00:00.000+0000'", NULL},
    {"{'value':1704110400000,'type':'Date'}", "'2024-01-01T12:00:00.000+0000'", NULL},
    {"{'value':'2013-01-23','type':'Date'}", NULL,
     "Cannot convert value '2013-01-23' of type 'Date' to java type java.util.Date"},
    {"{'value':'2023-02-29T00:00:00.000+0000','type':'Date'}", NULL, "to java type java.util.Date"},
    {"{'value':true,'type':'Date'}", NULL, "to java type java.util.Date"},
    {"{'value':null,'type':'Date'}", "null", NULL},
    /* Null: whatever the value */
    {"{'value':null,'type':'Null'}", "null", NULL},
    {"{'value':'x','type':'null'}", "null", NULL},
    /* Json: a string holding JSON text, parsed */
    {"{'value':'{`a`:[1,2]}','type':'Json'}", "{'a':[1,2]}", NULL},
    {"{'value':'[1,`x`]','type':'json'}", "[1,'x']", NULL},
    {"{'value':'5','type':'Json'}", "5", NULL},
    {"{'value':'`s`','type':'Json'}", "'s'", NULL},
    {"{'value':null,'type':'Json'}", "null", NULL},
    {"{'value':'{bad','type':'Json'}", NULL, "Cannot parse the value of type 'Json': "},
    {"{'value':'','type':'Json'}", NULL, "Cannot parse the value of type 'Json': "},
    {"{'value':{'a':1},'type':'Json'}", NULL,
     "Must provide 'null' or String value for value of SerializableValue type 'Json'"},
    {"{'value':'{`$type`:`File`}','type':'Json'}", NULL,
     "The key '$type' is reserved in values of type 'Json'"},
    /* Xml and Object: kept as their string */
    {"{'value':'<a/>','type':'Xml'}", "'<a/>'", NULL},
    {"{'value':5,'type':'xml'}", NULL,
     "Must provide 'null' or String value for value of SerializableValue type 'Xml'"},
    {"{'value':'rO0ABXQAA2FiYw==','type':'Object','valueInfo':{'objectTypeName':'java.lang."
     "String','serializationDataFormat':'application/x-java-serialized-object'}}",
     "'rO0ABXQAA2FiYw=='", NULL},
    {"{'value':[1],'type':'Object'}", NULL,
     "Must provide 'null' or String value for value of SerializableValue type 'Object'"},
    /* Bytes and File: marker objects */
    {"{'value':'aGVsbG8=','type':'Bytes'}", "{'$type':'Bytes','value':'aGVsbG8='}", NULL},
    {"{'value':null,'type':'bytes'}", "{'$type':'Bytes','value':''}", NULL},
    {"{'value':'not base64!','type':'Bytes'}", NULL,
     "Invalid base64 content in value of type 'Bytes'"},
    {"{'value':5,'type':'Bytes'}", NULL,
     "Must provide 'null' or a base64 String value for value of type 'Bytes'"},
    {"{'value':'aGVsbG8=','type':'File','valueInfo':{'filename':'a.txt','mimeType':'text/"
     "plain','encoding':'utf-8'}}",
     "{'$type':'File','value':'aGVsbG8=','filename':'a.txt','mimeType':'text/plain','encoding':"
     "'utf-8'}",
     NULL},
    /* X's File.js writes "mimetype" */
    {"{'value':'aGVsbG8=','type':'file','valueInfo':{'filename':'a.txt','mimetype':'text/"
     "plain'}}",
     "{'$type':'File','value':'aGVsbG8=','filename':'a.txt','mimeType':'text/plain','encoding':"
     "null}",
     NULL},
    {"{'value':'','type':'File','valueInfo':{'filename':'e','mimeType':'a/b','mimetype':'c/"
     "d'}}",
     "{'$type':'File','value':'','filename':'e','mimeType':'a/b','encoding':null}", NULL},
    {"{'value':'aGVsbG8=','type':'File','valueInfo':{}}", NULL,
     "Cannot create file without filename! Please set a name into ValueInfo with key filename"},
    {"{'value':'aGVsbG8=','type':'File'}", NULL, "Cannot create file without filename!"},
    {"{'value':'aGVsbG8=','type':'File','valueInfo':{'filename':7}}", NULL,
     "Invalid valueInfo: 'filename' must be a string"},
    {"{'value':'aGVsbG8','type':'File','valueInfo':{'filename':'a'}}", NULL,
     "Invalid base64 content in value of type 'File'"},
    /* no type, or a null one: the JSON value as it is */
    {"{'value':'x'}", "'x'", NULL},
    {"{'value':5,'type':null}", "5", NULL},
    {"{'value':5.5}", "5.5", NULL},
    {"{'value':{'a':[1,{'b':null}]}}", "{'a':[1,{'b':null}]}", NULL},
    {"{'value':[1,2]}", "[1,2]", NULL},
    {"{}", "null", NULL},
    {"{'value':{'$type':'File','value':''}}", NULL,
     "The key '$type' is reserved in untyped object values"},
    /* malformed entries */
    {"'x'", NULL, "Invalid variable: expected a JSON object with 'value', 'type' and 'valueInfo'"},
    {"[1]", NULL, "Invalid variable: expected a JSON object"},
    {"null", NULL, "Invalid variable: expected a JSON object"},
    {"{'value':'x','type':5}", NULL, "Invalid variable type: expected a string or null"},
    {"{'value':'x','type':'String','valueInfo':'no'}", NULL,
     "Invalid valueInfo: expected a JSON object"},
    {"{'value':'x','type':'String','valueInfo':{'transient':'yes'}}", NULL,
     "Invalid valueInfo: 'transient' must be true or false"},
};

static void test_decode_types(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof decodes / sizeof decodes[0]; i++) {
        json_t *map = json_object();
        json_object_set_new(map, "v", J(decodes[i].typed));
        json_t *vars = (json_t *)&decodes; /* sentinel: must stay untouched on error */
        bpm_err err = {0};
        bpm_rc rc = bpm_restvars_decode(map, &vars, NULL, &err);
        bool ok;
        char *got = NULL, *want = NULL;
        if (decodes[i].err) {
            ok = rc == BPM_BAD_REQUEST && vars == (json_t *)&decodes &&
                 strstr(err.msg, " (variable 'v')") && strcmp(err.where, "variable \"v\"") == 0;
            /* the table writes JSON inside messages with ' for " too */
            char msg[300];
            snprintf(msg, sizeof msg, "%s", err.msg);
            for (char *p = msg; *p; p++)
                if (*p == '"')
                    *p = '\'';
            ok = ok && strstr(msg, decodes[i].err);
            if (!ok)
                print_error("row %zu %s: rc %d, message \"%s\", where \"%s\"; want \"%s (variable "
                            "'v')\"\n",
                            i, decodes[i].typed, (int)rc, err.msg, err.where, decodes[i].err);
        } else {
            json_t *expected = J(decodes[i].plain);
            json_t *v = rc == BPM_OK ? json_object_get(vars, "v") : NULL;
            ok = rc == BPM_OK && v && json_equal(v, expected) && json_object_size(vars) == 1;
            /* json_equal tells 5 from 5.0, so Double stays real */
            if (!ok) {
                got = dump(v);
                want = dump(expected);
                print_error("row %zu %s: rc %d (%s), got %s, want %s\n", i, decodes[i].typed,
                            (int)rc, err.msg, got, want);
            }
            json_decref(expected);
            json_decref(vars);
        }
        free(got);
        free(want);
        json_decref(map);
        if (!ok)
            fail();
    }
}

/* Date errors keep the reason restdate gave in err.detail. */
static void test_date_detail(void **state)
{
    (void)state;
    json_t *map = J("{'d':{'value':'2023-02-29T00:00:00.000+0000','type':'Date'}}");
    json_t *vars = NULL;
    bpm_err err = {0};
    assert_int_equal(bpm_restvars_decode(map, &vars, NULL, &err), BPM_BAD_REQUEST);
    assert_null(vars);
    assert_non_null(strstr(err.detail, "day 29 does not exist in February 2023"));
    assert_non_null(strstr(err.msg, "(variable 'd')"));
    json_decref(map);
}

/* What camunda-external-task-client-js sends (camunda7-rest.md 3.4). */
static void test_decode_external_task_client(void **state)
{
    (void)state;
    json_t *map = J("{'n':{'type':'null','value':null,'valueInfo':{}},"
                    "'i':{'type':'integer','value':5,'valueInfo':{}},"
                    "'l':{'type':'long','value':5000000000,'valueInfo':{}},"
                    "'d':{'type':'double','value':1.5,'valueInfo':{}},"
                    "'b':{'type':'boolean','value':true,'valueInfo':{}},"
                    "'s':{'type':'string','value':'hi','valueInfo':{}},"
                    "'f':{'type':'file','value':'aGk=','valueInfo':{'filename':'hi.txt',"
                    "'mimetype':'text/plain','encoding':'utf8'}},"
                    "'t':{'type':'date','value':'2024-01-01T12:00:00.000+0000','valueInfo':{}},"
                    "'j':{'type':'json','value':'{`k`:[true]}','valueInfo':{}},"
                    "'x':{'type':'string','value':'tmp','valueInfo':{'transient':true}}}");
    json_t *vars = NULL, *transient = NULL;
    bpm_err err = {0};
    assert_int_equal(bpm_restvars_decode(map, &vars, &transient, &err), BPM_OK);
    json_t *want = J("{'n':null,'i':5,'l':5000000000,'d':1.5,'b':true,'s':'hi',"
                     "'f':{'$type':'File','value':'aGk=','filename':'hi.txt','mimeType':'text/"
                     "plain','encoding':'utf8'},"
                     "'t':'2024-01-01T12:00:00.000+0000','j':{'k':[true]}}");
    assert_true(json_equal(vars, want));
    json_t *want_t = J("{'x':'tmp'}");
    assert_true(json_equal(transient, want_t));
    json_decref(want);
    json_decref(want_t);
    json_decref(vars);
    json_decref(transient);
    json_decref(map);
}

static void test_decode_transient(void **state)
{
    (void)state;
    json_t *map = J("{'a':{'value':1,'type':'Integer'},"
                    "'t':{'value':'x','type':'String','valueInfo':{'transient':true}},"
                    "'f':{'value':2,'type':'Integer','valueInfo':{'transient':false}},"
                    "'u':{'value':[1],'valueInfo':{'transient':true}},"
                    "'z':{'value':3,'type':'Integer','valueInfo':{'transient':null}}}");
    json_t *vars = NULL, *transient = NULL;
    assert_int_equal(bpm_restvars_decode(map, &vars, &transient, NULL), BPM_OK);
    json_t *want = J("{'a':1,'f':2,'z':3}"), *want_t = J("{'t':'x','u':[1]}");
    assert_true(json_equal(vars, want));
    assert_true(json_equal(transient, want_t));
    json_decref(vars);
    json_decref(transient);
    /* without a place for them, transient variables are dropped */
    vars = NULL;
    assert_int_equal(bpm_restvars_decode(map, &vars, NULL, NULL), BPM_OK);
    assert_true(json_equal(vars, want));
    json_decref(vars);
    /* none transient: an empty object, not NULL */
    json_t *plain = J("{'a':{'value':1}}");
    transient = NULL;
    assert_int_equal(bpm_restvars_decode(plain, &vars, &transient, NULL), BPM_OK);
    assert_non_null(transient);
    assert_int_equal(json_object_size(transient), 0);
    json_decref(vars);
    json_decref(transient);
    json_decref(plain);
    json_decref(want);
    json_decref(want_t);
    json_decref(map);

    /* one value */
    json_t *one = J("{'value':'x','type':'String','valueInfo':{'transient':true}}");
    json_t *v = NULL;
    bool is_t = false;
    assert_int_equal(bpm_restvars_decode_one("name", one, &v, &is_t, NULL), BPM_OK);
    assert_true(is_t);
    assert_string_equal(json_string_value(v), "x");
    json_decref(v);
    json_decref(one);
    one = J("{'value':'42','type':'Integer'}");
    assert_int_equal(bpm_restvars_decode_one("name", one, &v, &is_t, NULL), BPM_OK);
    assert_false(is_t);
    assert_int_equal(json_integer_value(v), 42);
    json_decref(v);
    json_decref(one);
}

static void test_decode_map(void **state)
{
    (void)state;
    json_t *vars = NULL;
    bpm_err err = {0};
    /* no variables at all */
    assert_int_equal(bpm_restvars_decode(NULL, &vars, NULL, &err), BPM_OK);
    assert_true(json_is_object(vars) && json_object_size(vars) == 0);
    json_decref(vars);
    json_t *null = json_null();
    assert_int_equal(bpm_restvars_decode(null, &vars, NULL, &err), BPM_OK);
    assert_int_equal(json_object_size(vars), 0);
    json_decref(vars);
    /* not an object */
    json_t *arr = J("[{'value':1}]"), *tr = (json_t *)&err;
    vars = (json_t *)&err;
    assert_int_equal(bpm_restvars_decode(arr, &vars, &tr, &err), BPM_BAD_REQUEST);
    assert_string_equal(err.msg, "Invalid variables: expected a JSON object of typed values");
    assert_ptr_equal(vars, &err);
    assert_ptr_equal(tr, &err);
    json_decref(arr);
    /* the failing variable is the one named, outputs untouched */
    json_t *map = J("{'good':{'value':1,'type':'Integer'},'order total':{'value':'x','type':"
                    "'Integer'},'later':{'value':2}}");
    vars = (json_t *)&err;
    assert_int_equal(bpm_restvars_decode(map, &vars, &tr, &err), BPM_BAD_REQUEST);
    assert_string_equal(err.msg, "Cannot convert value 'x' of type 'Integer' to java type "
                                 "java.lang.Integer (variable 'order total')");
    assert_string_equal(err.where, "variable \"order total\"");
    assert_ptr_equal(vars, &err);
    json_decref(map);
    /* a name with a newline cannot break the message */
    map = J("{'a\\nb':{'value':'x','type':'Nope'}}");
    assert_int_equal(bpm_restvars_decode(map, &vars, NULL, &err), BPM_BAD_REQUEST);
    assert_string_equal(err.msg, "Unsupported value type 'Nope' (variable 'a?b')");
    json_decref(map);
    /* names are kept whole, even with a NUL inside (the parser refuses
     * such keys, but a caller can build them) */
    map = J("{'a':{'value':2}}");
    json_object_setn_new(map, "a\0b", 3, J("{'value':1}"));
    assert_int_equal(bpm_restvars_decode(map, &vars, NULL, &err), BPM_OK);
    assert_int_equal(json_object_size(vars), 2);
    assert_int_equal(json_integer_value(json_object_getn(vars, "a\0b", 3)), 1);
    assert_int_equal(json_integer_value(json_object_get(vars, "a")), 2);
    json_t *typed = bpm_restvars_encode(vars);
    assert_int_equal(json_object_size(typed), 2);
    assert_non_null(json_object_getn(typed, "a\0b", 3));
    json_decref(typed);
    json_decref(vars);
    json_decref(map);
    /* err may be NULL */
    map = J("{'a':{'value':'x','type':'Nope'}}");
    assert_int_equal(bpm_restvars_decode(map, &vars, NULL, NULL), BPM_BAD_REQUEST);
    json_decref(map);
}

/* ---- encode ------------------------------------------------------------- */

static const struct {
    const char *plain;
    const char *typed;
} encodes[] = {
    {"'s'", "{'type':'String','value':'s','valueInfo':{}}"},
    {"''", "{'type':'String','value':'','valueInfo':{}}"},
    {"5", "{'type':'Integer','value':5,'valueInfo':{}}"},
    {"2147483647", "{'type':'Integer','value':2147483647,'valueInfo':{}}"},
    {"-2147483648", "{'type':'Integer','value':-2147483648,'valueInfo':{}}"},
    {"2147483648", "{'type':'Long','value':2147483648,'valueInfo':{}}"},
    {"-2147483649", "{'type':'Long','value':-2147483649,'valueInfo':{}}"},
    {"5.5", "{'type':'Double','value':5.5,'valueInfo':{}}"},
    {"5.0", "{'type':'Double','value':5.0,'valueInfo':{}}"},
    {"true", "{'type':'Boolean','value':true,'valueInfo':{}}"},
    {"false", "{'type':'Boolean','value':false,'valueInfo':{}}"},
    {"null", "{'type':'Null','value':null,'valueInfo':{}}"},
    /* Json goes out as TEXT: clients JSON.parse it */
    {"{'a':[1,2]}", "{'type':'Json','value':'{`a`:[1,2]}','valueInfo':{}}"},
    {"[1,'x',null]", "{'type':'Json','value':'[1,`x`,null]','valueInfo':{}}"},
    {"{}", "{'type':'Json','value':'{}','valueInfo':{}}"},
    {"[]", "{'type':'Json','value':'[]','valueInfo':{}}"},
    {"{'$type':'Other','x':1}", "{'type':'Json','value':'{`$type`:`Other`,`x`:1}','valueInfo':{}}"},
    /* dates are strings in the engine and stay String */
    {"'2024-01-01T12:00:00.000+0000'",
     "{'type':'String','value':'2024-01-01T12:00:00.000+0000','valueInfo':{}}"},
    /* File: content left out (GET .../data serves it) */
    {"{'$type':'File','value':'aGk=','filename':'a.txt','mimeType':'text/plain','encoding':'utf-"
     "8'}",
     "{'type':'File','value':null,'valueInfo':{'filename':'a.txt','mimeType':'text/"
     "plain','encoding':'utf-8'}}"},
    {"{'$type':'File','value':'aGk=','filename':'a.txt','mimeType':null,'encoding':null}",
     "{'type':'File','value':null,'valueInfo':{'filename':'a.txt'}}"},
    {"{'$type':'Bytes','value':'aGk='}", "{'type':'Bytes','value':'aGk=','valueInfo':{}}"},
};

static void test_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof encodes / sizeof encodes[0]; i++) {
        json_t *plain = J(encodes[i].plain), *want = J(encodes[i].typed);
        json_t *got = bpm_restvars_encode_one(plain);
        if (!json_equal(got, want)) {
            char *g = dump(got), *w = dump(want);
            print_error("row %zu %s: got %s, want %s\n", i, encodes[i].plain, g, w);
            free(g);
            free(w);
            fail();
        }
        json_decref(plain);
        json_decref(want);
        json_decref(got);
    }
    /* NULL is JSON null */
    json_t *n = bpm_restvars_encode_one(NULL),
           *want = J("{'type':'Null','value':null,'valueInfo':{}}");
    assert_true(json_equal(n, want));
    json_decref(n);
    json_decref(want);
}

static void test_encode_map(void **state)
{
    (void)state;
    json_t *vars = J("{'a':1,'b':'x','c':{'k':true}}");
    json_t *got = bpm_restvars_encode(vars);
    json_t *want = J("{'a':{'type':'Integer','value':1,'valueInfo':{}},"
                     "'b':{'type':'String','value':'x','valueInfo':{}},"
                     "'c':{'type':'Json','value':'{`k`:true}','valueInfo':{}}}");
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    json_decref(vars);
    got = bpm_restvars_encode(NULL);
    assert_true(json_is_object(got) && json_object_size(got) == 0);
    json_decref(got);
}

/* decode(encode(v)) == v for everything but File (whose content the
 * typed form leaves out) and the narrowing of Long/Short to Integer. */
static void test_round_trip(void **state)
{
    (void)state;
    const char *values[] = {
        "'text'",
        "''",
        "0",
        "-7",
        "2147483648",
        "-9223372036854775808",
        "0.25",
        "1e300",
        "true",
        "false",
        "null",
        "{'a':{'b':[1,2.5,'x',null,{}]}}",
        "[[],[{}]]",
        "{'$type':'Bytes','value':'aGk='}",
        "'2024-01-01T12:00:00.000+0000'",
        "'\\u00e9\\u4e2d'",
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        json_t *vars = json_object();
        json_object_set_new(vars, "v", J(values[i]));
        json_t *typed = bpm_restvars_encode(vars), *back = NULL;
        bpm_err err = {0};
        bpm_rc rc = bpm_restvars_decode(typed, &back, NULL, &err);
        if (rc != BPM_OK || !json_equal(back, vars)) {
            char *g = dump(back), *t = dump(typed);
            print_error("value %s: rc %d (%s), typed %s, back %s\n", values[i], (int)rc, err.msg, t,
                        g);
            free(g);
            free(t);
            fail();
        }
        json_decref(vars);
        json_decref(typed);
        json_decref(back);
    }
}

/* ---- binary values ------------------------------------------------------ */

static void test_binary(void **state)
{
    (void)state;
    json_t *file = J("{'$type':'File','value':'aGk=','filename':'a.txt','mimeType':'text/plain',"
                     "'encoding':null}");
    bpm_restvars_binary bin;
    assert_true(bpm_restvars_binary_get(file, &bin));
    assert_true(bin.is_file);
    assert_string_equal(bin.base64, "aGk=");
    assert_string_equal(bin.filename, "a.txt");
    assert_string_equal(bin.mime_type, "text/plain");
    assert_null(bin.encoding);
    json_decref(file);
    json_t *bytes = J("{'$type':'Bytes','value':'aGk='}");
    assert_true(bpm_restvars_binary_get(bytes, &bin));
    assert_false(bin.is_file);
    assert_null(bin.filename);
    assert_true(bpm_restvars_binary_get(bytes, NULL));
    json_decref(bytes);
    const char *not_binary[] = {
        "'aGk='", "{'value':'aGk='}", "{'$type':'Json'}", "{'$type':1}", "[1]", "5"};
    for (size_t i = 0; i < sizeof not_binary / sizeof not_binary[0]; i++) {
        json_t *v = J(not_binary[i]);
        if (bpm_restvars_binary_get(v, &bin)) {
            print_error("%s taken for a binary value\n", not_binary[i]);
            fail();
        }
        json_decref(v);
    }
    assert_false(bpm_restvars_binary_get(NULL, &bin));
}

static const struct {
    const char *b64;
    const char *bytes; /* NULL: invalid */
    size_t len;
} b64s[] = {
    {"", "", 0},
    {"aGVsbG8=", "hello", 5},
    {"aGVsbA==", "hell", 4},
    {"aGVs", "hel", 3},
    {"aGVsbG8gd29ybGQ=", "hello world", 11},
    {"aGVs\r\nbG8=\r\n", "hello", 5},
    {" aG Vs bG 8= ", "hello", 5},
    {"AP8A", "\0\377\0", 3},
    {"+/+/", "\373\377\277", 3},
    {"aGVsbG8", NULL, 0},
    {"aGVsbG8=x", NULL, 0},
    {"aGVsbG8==", NULL, 0},
    {"a===", NULL, 0},
    {"=AAA", NULL, 0},
    {"aG=s", NULL, 0},
    {"aGVs*G8=", NULL, 0},
    {"aGVs-G8_", NULL, 0}, /* URL-safe alphabet is not accepted */
    {"a", NULL, 0},
};

static void test_base64(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof b64s / sizeof b64s[0]; i++) {
        unsigned char *data = (unsigned char *)"untouched";
        size_t len = 12345;
        bpm_err err = {0};
        bpm_rc rc = bpm_restvars_base64_decode(b64s[i].b64, &data, &len, &err);
        bool ok;
        if (b64s[i].bytes)
            ok = rc == BPM_OK && len == b64s[i].len && memcmp(data, b64s[i].bytes, len) == 0 &&
                 data[len] == '\0';
        else
            ok = rc == BPM_BAD_REQUEST && len == 12345 &&
                 strcmp(err.msg, "Invalid base64 content") == 0;
        if (rc == BPM_OK)
            free(data);
        if (!ok) {
            print_error("row %zu \"%s\": rc %d, len %zu, msg \"%s\"\n", i, b64s[i].b64, (int)rc,
                        len, err.msg);
            fail();
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_types),
        cmocka_unit_test(test_date_detail),
        cmocka_unit_test(test_decode_external_task_client),
        cmocka_unit_test(test_decode_transient),
        cmocka_unit_test(test_decode_map),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_map),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
