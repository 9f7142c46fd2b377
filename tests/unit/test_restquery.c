/* Unit tests for adapters/api/restquery.c: URL decoding, and the Camunda
 * list conventions (booleans, paging, dates, ...In lists, sorting, variable
 * filters) with the exact messages Camunda gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restquery.h"

#define SENTINEL ((int64_t)0x5eed5eed5eedLL)

static bpm_restquery Q(const char *qs)
{
    bpm_restquery q;
    bpm_err err = {0};
    if (bpm_restquery_parse(qs, &q, &err) != BPM_OK) {
        print_error("query \"%s\": %s\n", qs, err.msg);
        fail();
    }
    return q;
}

/* ---- parse -------------------------------------------------------------- */

static const struct {
    const char *qs;
    size_t n;
    const char *pairs[8]; /* name, value, name, value, ... */
} parses[] = {
    {NULL, 0, {0}},
    {"", 0, {0}},
    {"&&&", 0, {0}},
    {"a=1&b=2", 2, {"a", "1", "b", "2"}},
    {"a=1&&b=2&", 2, {"a", "1", "b", "2"}},
    {"a", 1, {"a", ""}},
    {"a=", 1, {"a", ""}},
    {"=x", 1, {"", "x"}},
    {"a=1=2", 1, {"a", "1=2"}},
    {"a=x%20y+z", 1, {"a", "x y z"}},
    {"%41%62=%7e%7E", 1, {"Ab", "~~"}},
    {"a=%2B", 1, {"a", "+"}},
    {"a=%e2%82%ac", 1, {"a", "\xe2\x82\xac"}},
    {"a+b=c", 1, {"a b", "c"}},
    {"a=1&a=2", 2, {"a", "1", "a", "2"}},
    {"d=2013-01-23T13:42:42.657+0200", 1, {"d", "2013-01-23T13:42:42.657 0200"}},
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parses / sizeof parses[0]; i++) {
        bpm_restquery q = Q(parses[i].qs);
        bool ok = q.n_params == parses[i].n;
        for (size_t k = 0; ok && k < q.n_params; k++)
            ok = strcmp(q.params[k].name, parses[i].pairs[2 * k]) == 0 &&
                 strcmp(q.params[k].value, parses[i].pairs[2 * k + 1]) == 0;
        if (!ok) {
            print_error("row %zu \"%s\": %zu params\n", i, parses[i].qs ? parses[i].qs : "NULL",
                        q.n_params);
            for (size_t k = 0; k < q.n_params; k++)
                print_error("  [%s] = [%s]\n", q.params[k].name, q.params[k].value);
            fail();
        }
        bpm_restquery_cleanup(&q);
        assert_null(q.params);
    }
}

static void test_get(void **state)
{
    (void)state;
    bpm_restquery q = Q("a=1&b=&a=2&B=3");
    assert_string_equal(bpm_restquery_get(&q, "a"), "1"); /* the first, as JAX-RS */
    assert_string_equal(bpm_restquery_get(&q, "b"), "");
    assert_string_equal(bpm_restquery_get(&q, "B"), "3"); /* names are case-sensitive */
    assert_null(bpm_restquery_get(&q, "c"));
    assert_null(bpm_restquery_get(&q, "A"));
    bpm_restquery_cleanup(&q);
    bpm_restquery_cleanup(&q); /* twice is harmless */
}

static void test_parse_errors(void **state)
{
    (void)state;
    const char *bad[] = {"a=%zz", "a=%4", "a=%", "x=1&a=%00", "%g1=x", "a=%%41"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bpm_restquery q = {.n_params = 99};
        bpm_err err = {0};
        bpm_rc rc = bpm_restquery_parse(bad[i], &q, &err);
        char want[128];
        const char *piece = strrchr(bad[i], '&');
        snprintf(want, sizeof want, "Invalid query string: bad percent-encoding in '%s'",
                 piece ? piece + 1 : bad[i]);
        if (rc != BPM_BAD_REQUEST || strcmp(err.msg, want) != 0 || q.n_params || q.arena) {
            print_error("\"%s\": rc %d, msg \"%s\", want \"%s\"\n", bad[i], (int)rc, err.msg, want);
            fail();
        }
    }
    /* the parameter limit */
    char *qs = malloc(BPM_RESTQUERY_MAX_PARAMS * 8 + 16);
    size_t o = 0;
    for (int i = 0; i < BPM_RESTQUERY_MAX_PARAMS; i++)
        o += (size_t)snprintf(qs + o, 16, "%sp%d=1", i ? "&" : "", i);
    bpm_restquery q;
    bpm_err err = {0};
    assert_int_equal(bpm_restquery_parse(qs, &q, &err), BPM_OK);
    assert_int_equal(q.n_params, BPM_RESTQUERY_MAX_PARAMS);
    bpm_restquery_cleanup(&q);
    snprintf(qs + o, 16, "&one=more");
    assert_int_equal(bpm_restquery_parse(qs, &q, &err), BPM_LIMIT);
    assert_string_equal(err.msg, "Too many query parameters (limit 256)");
    free(qs);
}

/* ---- typed parameters --------------------------------------------------- */

static void test_bool(void **state)
{
    (void)state;
    bpm_restquery q = Q("t=true&f=false&u=TRUE&e=&one=1");
    bpm_err err = {0};
    bool b = false;
    assert_int_equal(bpm_restquery_bool(&q, "t", false, &b, &err), BPM_OK);
    assert_true(b);
    assert_int_equal(bpm_restquery_bool(&q, "f", true, &b, &err), BPM_OK);
    assert_false(b);
    assert_int_equal(bpm_restquery_bool(&q, "absent", true, &b, &err), BPM_OK);
    assert_true(b);
    assert_int_equal(bpm_restquery_bool(&q, "absent", false, &b, &err), BPM_OK);
    assert_false(b);
    b = true;
    assert_int_equal(bpm_restquery_bool(&q, "u", false, &b, &err), BPM_BAD_REQUEST);
    assert_string_equal(err.msg, "Cannot set query parameter 'u' to value 'TRUE': expected true "
                                 "or false");
    assert_true(b); /* untouched */
    assert_int_equal(bpm_restquery_bool(&q, "e", false, &b, &err), BPM_BAD_REQUEST);
    assert_string_equal(err.msg, "Cannot set query parameter 'e' to value '': expected true or "
                                 "false");
    assert_int_equal(bpm_restquery_bool(&q, "one", false, &b, &err), BPM_BAD_REQUEST);
    bpm_restquery_cleanup(&q);
}

static const struct {
    const char *qs;
    int64_t first, max; /* when err is NULL */
    const char *err;
} pages[] = {
    {"", 0, -1, NULL},
    {"firstResult=10&maxResults=20", 10, 20, NULL},
    {"maxResults=0", 0, 0, NULL}, /* the Modeler's health check */
    {"firstResult=0", 0, -1, NULL},
    {"maxResults=2147483647", 0, 2147483647, NULL},
    {"maxResults=%2B5", 0, 5, NULL},
    {"maxResults=-1", 0, 0,
     "Cannot set query parameter 'maxResults' to value '-1': expected a non-negative integer"},
    {"firstResult=abc", 0, 0,
     "Cannot set query parameter 'firstResult' to value 'abc': expected a non-negative integer"},
    {"maxResults=2147483648", 0, 0, "to value '2147483648': expected a non-negative integer"},
    {"maxResults=99999999999999999999", 0, 0, "expected a non-negative integer"},
    {"maxResults=", 0, 0, "Cannot set query parameter 'maxResults' to value ''"},
    {"maxResults=+5", 0, 0, "Cannot set query parameter 'maxResults' to value ' 5'"},
    {"maxResults=5x", 0, 0, "to value '5x'"},
    {"maxResults=1.5", 0, 0, "to value '1.5'"},
    {"firstResult=-", 0, 0, "to value '-'"},
};

static void test_paging(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        bpm_restquery q = Q(pages[i].qs);
        bpm_restquery_page pg = {SENTINEL, SENTINEL};
        bpm_err err = {0};
        bpm_rc rc = bpm_restquery_page_get(&q, &pg, &err);
        bool ok = pages[i].err
                      ? rc == BPM_BAD_REQUEST && strstr(err.msg, pages[i].err) &&
                            pg.first == SENTINEL && pg.max == SENTINEL
                      : rc == BPM_OK && pg.first == pages[i].first && pg.max == pages[i].max;
        if (!ok) {
            print_error("row %zu \"%s\": rc %d, first %lld, max %lld, msg \"%s\"\n", i, pages[i].qs,
                        (int)rc, (long long)pg.first, (long long)pg.max, err.msg);
            fail();
        }
        bpm_restquery_cleanup(&q);
    }
    /* a general range */
    bpm_restquery q = Q("n=11&m=-3");
    bpm_err err = {0};
    int64_t v = 0;
    assert_int_equal(bpm_restquery_int(&q, "n", 1, 10, 0, &v, &err), BPM_BAD_REQUEST);
    assert_string_equal(err.msg, "Cannot set query parameter 'n' to value '11': expected an "
                                 "integer from 1 to 10");
    assert_int_equal(bpm_restquery_int(&q, "m", -5, 5, 0, &v, &err), BPM_OK);
    assert_int_equal(v, -3);
    assert_int_equal(bpm_restquery_int(&q, "absent", -5, 5, 4, &v, &err), BPM_OK);
    assert_int_equal(v, 4);
    bpm_restquery_cleanup(&q);
}

static void test_date(void **state)
{
    (void)state;
    /* '+' as the client sent it (decoded to a space), encoded, or a colon */
    bpm_restquery q = Q("a=2013-01-23T13:42:42.657+0200&b=2013-01-23T13:42:42.657%2B0200&"
                        "c=2013-01-23T11:42:42.657Z&bad=2013-01-23&worse=2013-02-30T00:00:00Z");
    const char *same[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++) {
        int64_t ms = SENTINEL;
        bool present = false;
        assert_int_equal(bpm_restquery_date(&q, same[i], &ms, &present, NULL), BPM_OK);
        assert_true(present);
        assert_int_equal(ms, 1358941362657LL);
    }
    int64_t ms = SENTINEL;
    bool present = true;
    assert_int_equal(bpm_restquery_date(&q, "absent", &ms, &present, NULL), BPM_OK);
    assert_false(present);
    assert_int_equal(ms, SENTINEL);
    bpm_err err = {0};
    assert_int_equal(bpm_restquery_date(&q, "bad", &ms, &present, &err), BPM_BAD_REQUEST);
    assert_string_equal(err.msg,
                        "Cannot set query parameter 'bad' to value '2013-01-23': expected "
                        "yyyy-MM-dd'T'HH:mm:ss.SSSZ, for example 2013-01-23T13:42:42.657+0200");
    assert_int_equal(ms, SENTINEL);
    assert_int_equal(bpm_restquery_date(&q, "worse", &ms, &present, &err), BPM_BAD_REQUEST);
    assert_string_equal(err.msg, "Cannot set query parameter 'worse' to value "
                                 "'2013-02-30T00:00:00Z': day 30 does not exist in February 2013");
    bpm_restquery_cleanup(&q);
}

static void test_list(void **state)
{
    (void)state;
    bpm_restquery q = Q("k=a,b,c&gaps=,a,,b,&empty=&one=x&enc=a%2Cb&sp=a+b,c");
    const char *const *items = (const char *const *)&items;
    assert_int_equal(bpm_restquery_list(&q, "k", &items), 3);
    assert_string_equal(items[0], "a");
    assert_string_equal(items[1], "b");
    assert_string_equal(items[2], "c");
    assert_int_equal(bpm_restquery_list(&q, "gaps", &items), 2);
    assert_string_equal(items[0], "a");
    assert_string_equal(items[1], "b");
    assert_int_equal(bpm_restquery_list(&q, "empty", &items), 0);
    assert_non_null(items); /* present: "match none", not "no filter" */
    assert_int_equal(bpm_restquery_list(&q, "absent", &items), 0);
    assert_null(items);
    assert_int_equal(bpm_restquery_list(&q, "one", &items), 1);
    assert_string_equal(items[0], "x");
    /* decoding comes first, as in JAX-RS: an encoded comma still splits */
    assert_int_equal(bpm_restquery_list(&q, "enc", &items), 2);
    assert_int_equal(bpm_restquery_list(&q, "sp", &items), 2);
    assert_string_equal(items[0], "a b");
    bpm_restquery_cleanup(&q);
}

/* ---- sorting ------------------------------------------------------------ */

static const char *const sorts[] = {"id", "name", "created", NULL};

static const struct {
    const char *qs;
    const char *by; /* expected, when err is NULL; "-" = unsorted */
    bool desc;
    const char *err; /* the whole message */
} sortings[] = {
    {"", "-", false, NULL},
    {"sortBy=name&sortOrder=asc", "name", false, NULL},
    {"sortOrder=desc&sortBy=created", "created", true, NULL},
    {"sortBy=bogus&sortOrder=asc", NULL, false,
     "Cannot set query parameter 'sortBy' to value 'bogus'"},
    {"sortBy=bogus", NULL, false, "Cannot set query parameter 'sortBy' to value 'bogus'"},
    {"sortBy=Name&sortOrder=asc", NULL, false,
     "Cannot set query parameter 'sortBy' to value 'Name'"},
    {"sortBy=&sortOrder=asc", NULL, false, "Cannot set query parameter 'sortBy' to value ''"},
    {"sortBy=name&sortOrder=ASC", NULL, false,
     "Cannot set query parameter 'sortOrder' to value 'ASC'"},
    {"sortOrder=up", NULL, false, "Cannot set query parameter 'sortOrder' to value 'up'"},
    {"sortBy=name", NULL, false,
     "Only a single sorting parameter specified. sortBy and sortOrder required"},
    {"sortOrder=asc", NULL, false,
     "Only a single sorting parameter specified. sortBy and sortOrder required"},
};

static void test_sort(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sortings / sizeof sortings[0]; i++) {
        bpm_restquery q = Q(sortings[i].qs);
        bpm_restquery_sort s = {.by = "untouched", .desc = true};
        bpm_err err = {0};
        bpm_rc rc = bpm_restquery_sort_get(&q, sorts, &s, &err);
        bool ok;
        if (sortings[i].err) {
            ok = rc == BPM_BAD_REQUEST && strcmp(err.msg, sortings[i].err) == 0 &&
                 strcmp(s.by, "untouched") == 0;
        } else if (strcmp(sortings[i].by, "-") == 0) {
            ok = rc == BPM_OK && s.by == NULL && !s.desc;
        } else {
            ok = rc == BPM_OK && s.by && strcmp(s.by, sortings[i].by) == 0 &&
                 s.desc == sortings[i].desc;
            /* by points into the allowed list, which outlives the query */
            bool in_list = false;
            for (size_t k = 0; sorts[k]; k++)
                in_list |= s.by == sorts[k];
            ok = ok && in_list;
        }
        if (!ok) {
            print_error("row %zu \"%s\": rc %d, by %s, desc %d, msg \"%s\"\n", i, sortings[i].qs,
                        (int)rc, s.by ? s.by : "NULL", s.desc, err.msg);
            fail();
        }
        bpm_restquery_cleanup(&q);
    }
    /* a POST body's "sorting" item goes through the same check */
    bpm_restquery_sort s;
    bpm_err err = {0};
    assert_int_equal(bpm_restquery_sort_check("id", "desc", sorts, &s, &err), BPM_OK);
    assert_ptr_equal(s.by, sorts[0]);
    assert_true(s.desc);
    assert_int_equal(bpm_restquery_sort_check(NULL, NULL, sorts, &s, &err), BPM_OK);
    assert_null(s.by);
    assert_int_equal(bpm_restquery_sort_check("id", NULL, sorts, &s, &err), BPM_BAD_REQUEST);
    assert_int_equal(bpm_restquery_sort_check("id", "asc", NULL, &s, &err), BPM_BAD_REQUEST);
    assert_string_equal(err.msg, "Cannot set query parameter 'sortBy' to value 'id'");
}

/* ---- variable filters --------------------------------------------------- */

static void test_varfilters(void **state)
{
    (void)state;
    bpm_restquery q = Q("variables=a_eq_1,b_neq_x,c_gt_5,d_gteq_5,e_lt_5,f_lteq_5,g_like_x%25,"
                        "h_notLike_y+z&one=amount_gteq_100");
    const bpm_restquery_varfilter *f = NULL;
    size_t n = 0;
    bpm_err err = {0};
    assert_int_equal(bpm_restquery_varfilters(&q, "variables", &f, &n, &err), BPM_OK);
    assert_int_equal(n, 8);
    const struct {
        const char *name;
        bpm_restquery_op op;
        const char *value;
    } want[] = {
        {"a", BPM_RESTQUERY_EQ, "1"},    {"b", BPM_RESTQUERY_NEQ, "x"},
        {"c", BPM_RESTQUERY_GT, "5"},    {"d", BPM_RESTQUERY_GTEQ, "5"},
        {"e", BPM_RESTQUERY_LT, "5"},    {"f", BPM_RESTQUERY_LTEQ, "5"},
        {"g", BPM_RESTQUERY_LIKE, "x%"}, {"h", BPM_RESTQUERY_NOT_LIKE, "y z"},
    };
    for (size_t i = 0; i < 8; i++) {
        assert_string_equal(f[i].name, want[i].name);
        assert_int_equal(f[i].op, want[i].op);
        assert_string_equal(f[i].value, want[i].value);
    }
    assert_int_equal(bpm_restquery_varfilters(&q, "one", &f, &n, &err), BPM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].name, "amount");
    assert_int_equal(f[0].op, BPM_RESTQUERY_GTEQ);
    assert_string_equal(f[0].value, "100");
    assert_int_equal(bpm_restquery_varfilters(&q, "absent", &f, &n, &err), BPM_OK);
    assert_int_equal(n, 0);
    assert_null(f);
    bpm_restquery_cleanup(&q);

    static const struct {
        const char *value;
        const char *why;
    } bad[] = {
        {"a_eq", "variable query parameter has to have format KEY_OPERATOR_VALUE"},
        {"a_eq_1_2", "variable query parameter has to have format KEY_OPERATOR_VALUE"},
        {"_eq_1", "variable query parameter has to have format KEY_OPERATOR_VALUE"},
        {"a_eq_", "variable query parameter has to have format KEY_OPERATOR_VALUE"},
        {"a", "variable query parameter has to have format KEY_OPERATOR_VALUE"},
        {"", "variable query parameter has to have format KEY_OPERATOR_VALUE"},
        {"a_eq_1,b", "variable query parameter has to have format KEY_OPERATOR_VALUE"},
        {"a_is_1", "Invalid variable comparator specified: is"},
        {"a_EQ_1", "Invalid variable comparator specified: EQ"},
        {"a__1", "Invalid variable comparator specified: "},
        {"a_eq_1,b_notlike_2", "Invalid variable comparator specified: notlike"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char qs[64], want_msg[256];
        snprintf(qs, sizeof qs, "variables=%s", bad[i].value);
        q = Q(qs);
        f = (const bpm_restquery_varfilter *)&q;
        n = 77;
        bpm_rc rc = bpm_restquery_varfilters(&q, "variables", &f, &n, &err);
        snprintf(want_msg, sizeof want_msg,
                 "Cannot set query parameter 'variables' to value '%s': %s", bad[i].value,
                 bad[i].why);
        if (rc != BPM_BAD_REQUEST || strcmp(err.msg, want_msg) != 0 || n != 77 ||
            f != (const bpm_restquery_varfilter *)&q) {
            print_error("\"%s\": rc %d, msg \"%s\", want \"%s\"\n", bad[i].value, (int)rc, err.msg,
                        want_msg);
            fail();
        }
        bpm_restquery_cleanup(&q);
    }
}

static void test_op_names(void **state)
{
    (void)state;
    const char *names[] = {"eq", "neq", "gt", "gteq", "lt", "lteq", "like", "notLike"};
    for (int op = BPM_RESTQUERY_EQ; op <= BPM_RESTQUERY_NOT_LIKE; op++)
        assert_string_equal(bpm_restquery_op_name((bpm_restquery_op)op), names[op]);
    assert_string_equal(bpm_restquery_op_name((bpm_restquery_op)42), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),        cmocka_unit_test(test_get),
        cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_bool),
        cmocka_unit_test(test_paging),       cmocka_unit_test(test_date),
        cmocka_unit_test(test_list),         cmocka_unit_test(test_sort),
        cmocka_unit_test(test_varfilters),   cmocka_unit_test(test_op_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
