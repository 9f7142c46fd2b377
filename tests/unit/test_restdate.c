/* Unit tests for adapters/api/restdate.c: the REST date format written and
 * read, including the forms clients really send and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <stdio.h>
#include <string.h>

#include "restdate.h"

#define SENTINEL ((int64_t)0x5eed5eed5eedLL)

static const struct {
    int64_t ms;
    const char *want; /* "" when out of range */
} formats[] = {
    {0, "1970-01-01T00:00:00.000+0000"},
    {1358948562657LL, "2013-01-23T13:42:42.657+0000"},
    {-1, "1969-12-31T23:59:59.999+0000"},
    {1709164800000LL, "2024-02-29T00:00:00.000+0000"},
    {BPM_TIMER_MAX_MS, "9999-12-31T23:59:59.999+0000"},
    {BPM_TIMER_MIN_MS, "0001-01-01T00:00:00.000+0000"},
    {BPM_TIMER_MAX_MS + 1, ""},
    {BPM_TIMER_MIN_MS - 1, ""},
    {INT64_MAX, ""},
    {INT64_MIN, ""},
};

static void test_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        char out[BPM_RESTDATE_SIZE];
        memset(out, 'x', sizeof out);
        size_t n = bpm_restdate_format(formats[i].ms, out);
        if (strcmp(out, formats[i].want) != 0 || n != strlen(formats[i].want)) {
            print_error("row %zu: got \"%s\" (%zu), want \"%s\"\n", i, out, n, formats[i].want);
            fail();
        }
    }
}

/* Accepted inputs, and the instant each means, written in UTC. */
static const struct {
    const char *in;
    const char *utc;
} good[] = {
    {"2013-01-23T13:42:42.657+0200", "2013-01-23T11:42:42.657+0000"},
    {"2013-01-23T13:42:42.657+02:00", "2013-01-23T11:42:42.657+0000"},
    {"2013-01-23T13:42:42.657Z", "2013-01-23T13:42:42.657+0000"},
    {"2013-01-23T13:42:42.657+0000", "2013-01-23T13:42:42.657+0000"},
    {"2013-01-23T13:42:42+0200", "2013-01-23T11:42:42.000+0000"},
    {"2013-01-23T13:42:42Z", "2013-01-23T13:42:42.000+0000"},
    {"2013-01-23T13:42:42+02:00", "2013-01-23T11:42:42.000+0000"},
    /* '+' decoded to ' ' by a client that did not URL-encode it */
    {"2013-01-23T13:42:42.657 0200", "2013-01-23T11:42:42.657+0000"},
    {"2013-01-23T13:42:42 02:00", "2013-01-23T11:42:42.000+0000"},
    {"2013-01-23T13:42:42.657-0530", "2013-01-23T19:12:42.657+0000"},
    {"2013-01-23T13:42:42.657-05:30", "2013-01-23T19:12:42.657+0000"},
    {"2013-01-23T13:42:42.5Z", "2013-01-23T13:42:42.500+0000"},
    {"2013-01-23T13:42:42.123456789Z", "2013-01-23T13:42:42.123+0000"},
    {"2024-02-29T00:00:00.000+0000", "2024-02-29T00:00:00.000+0000"},
    {"2024-01-01T00:30:00.000+0100", "2023-12-31T23:30:00.000+0000"},
    {"9999-12-31T23:59:59.999+0000", "9999-12-31T23:59:59.999+0000"},
    {"0001-01-01T00:00:00.000+0000", "0001-01-01T00:00:00.000+0000"},
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = SENTINEL;
        bpm_err err = {0};
        bpm_rc rc = bpm_restdate_parse(good[i].in, &ms, &err);
        char out[BPM_RESTDATE_SIZE];
        bpm_restdate_format(ms, out);
        if (rc != BPM_OK || strcmp(out, good[i].utc) != 0) {
            print_error("row %zu \"%s\": rc %d (%s), got %s, want %s\n", i, good[i].in, (int)rc,
                        err.msg, out, good[i].utc);
            fail();
        }
    }
    int64_t ms = 0;
    assert_int_equal(bpm_restdate_parse("2013-01-23T13:42:42.657+0200", &ms, NULL), BPM_OK);
    assert_int_equal(ms, 1358941362657LL);
    /* ms may be NULL: validation only */
    assert_int_equal(bpm_restdate_parse("2013-01-23T13:42:42.657+0200", NULL, NULL), BPM_OK);
}

/* Round trip: what we write, we read back to the same instant. */
static void test_round_trip(void **state)
{
    (void)state;
    const int64_t samples[] = {0,
                               1,
                               -1,
                               1358948562657LL,
                               951782400000LL /* 2000-02-29 */,
                               BPM_TIMER_MAX_MS,
                               BPM_TIMER_MIN_MS};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char text[BPM_RESTDATE_SIZE];
        assert_int_equal(bpm_restdate_format(samples[i], text), 28);
        int64_t back = SENTINEL;
        assert_int_equal(bpm_restdate_parse(text, &back, NULL), BPM_OK);
        assert_int_equal(back, samples[i]);
    }
}

static const struct {
    const char *in;
    const char *want; /* in err.msg, after "Cannot parse date '<in>': " */
} bad[] = {
    {"2013-01-23", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"2013-01-23T13:42:42.657", "the UTC offset is missing"},
    {"2013-01-23T13:42:42", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"}, /* too short to be one */
    {"2013-01-23T13:42:42.657+02", "expected the offset as +hhmm, +hh:mm or Z"},
    {"2013-01-23T13:42:42.657+2", "expected the offset as +hhmm, +hh:mm or Z"},
    {"2013-01-23T13:42:42.657+02:0", "expected the offset as +hhmm, +hh:mm or Z"},
    {"2013-01-23 13:42:42.657+0200", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"2013-01-23t13:42:42.657+0200", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"2013-1-23T13:42:42.657+0200", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"13-01-23T13:42:42.657+0200", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"2013-01-23T13:42.657+0200", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"2013-01-23T13:42:42.+0200", "the fraction of a second needs 1 to 9 digits"},
    {"2013-01-23T13:42:42.1234567890Z", "the fraction of a second needs 1 to 9 digits"},
    {"2013-01-23T13:42:42.657+0200 ", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {" 2013-01-23T13:42:42.657+0200", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"2013-01-23T13:42:42.657Zjunk", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"2013-01-23T13:42:42.657z", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"2013-01-23T13:42:42.657+0200[Europe/Berlin]", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"2023-02-29T00:00:00.000+0000", "day 29 does not exist in February 2023"},
    {"2013-13-01T00:00:00.000+0000", "month 13 is out of range"},
    {"2013-01-23T25:00:00.000+0000", "hour 25 is out of range"},
    {"2013-01-23T13:61:00.000+0000", "minute 61 is out of range"},
    {"2013-01-23T13:42:42.657+1900", "out of range (-18:00 to +18:00)"},
    {"0000-01-01T00:00:00.000+0000", "year 0000 is out of range"},
    {"0001-01-01T00:00:00.000+0100", "out of range"},
    {"yesterday", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
    {"", "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = SENTINEL;
        bpm_err err = {0};
        bpm_rc rc = bpm_restdate_parse(bad[i].in, &ms, &err);
        char prefix[128];
        snprintf(prefix, sizeof prefix, "Cannot parse date '%s': ", bad[i].in);
        if (rc != BPM_BAD_REQUEST || ms != SENTINEL || strncmp(err.msg, prefix, strlen(prefix)) ||
            !strstr(err.msg + strlen(prefix), bad[i].want)) {
            print_error("row %zu \"%s\": rc %d, ms %s, message \"%s\", want \"%s%s\"\n", i,
                        bad[i].in, (int)rc, ms == SENTINEL ? "untouched" : "WRITTEN", err.msg,
                        prefix, bad[i].want);
            fail();
        }
    }
}

static void test_odd_inputs(void **state)
{
    (void)state;
    bpm_err err = {0};
    int64_t ms = SENTINEL;
    assert_int_equal(bpm_restdate_parse(NULL, &ms, &err), BPM_BAD_REQUEST);
    assert_string_equal(err.msg, "Cannot parse date: the value is missing");
    assert_int_equal(ms, SENTINEL);
    /* a control character never reaches the message */
    assert_int_equal(bpm_restdate_parse("2013-01-23T13:42:42\n657Z", &ms, &err), BPM_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "'2013-01-23T13:42:42?657Z'"));
    assert_null(strchr(err.msg, '\n'));
    /* a long value is cut in the message */
    char big[400];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(bpm_restdate_parse(big, &ms, &err), BPM_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "...'"));
    /* err may be NULL */
    assert_int_equal(bpm_restdate_parse("nope", &ms, NULL), BPM_BAD_REQUEST);
    assert_int_equal(ms, SENTINEL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),     cmocka_unit_test(test_parse),
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_odd_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
