/* Unit tests for engine/timer.c: ISO 8601 durations, dates, repeating
 * intervals and cron next times, each feature as one table and one loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <stdio.h>
#include <string.h>

#include "timer.h"

#define SENTINEL ((int64_t)0x5eed5eed5eedLL)

/* Times in the tables are written as ISO strings; parse them with the code
 * under test, whose date table below pins the values. */
static int64_t at(const char *iso)
{
    int64_t t = 0;
    bpm_err err = {0};
    if (bpm_timer_parse_date(iso, &t, &err) != BPM_OK) {
        print_error("bad test time \"%s\": %s\n", iso, err.msg);
        fail();
    }
    return t;
}

static void expect_error(int row, const char *input, bpm_rc rc, const bpm_err *err,
                         const char *want)
{
    if (rc != BPM_INVALID || !strstr(err->msg, want)) {
        print_error("row %d \"%s\": rc %d, message \"%s\", want BPM_INVALID with \"%s\"\n", row,
                    input, (int)rc, err->msg, want);
        fail();
    }
}

static void expect_iso(int row, const char *input, int64_t got, const char *want)
{
    char buf[BPM_TIMER_ISO_SIZE];
    bpm_timer_format_iso(got, buf, sizeof buf);
    if (strcmp(buf, want) != 0) {
        print_error("row %d \"%s\": got %s, want %s\n", row, input, buf, want);
        fail();
    }
}

/* ---- durations ---------------------------------------------------------- */

static const struct {
    const char *in;
    int64_t months, days, ms; /* when err is NULL */
    const char *err;
} durations[] = {
    {"PT5M", 0, 0, 300000, NULL},
    {"P1D", 0, 1, 0, NULL},
    {"P1DT2H30M", 0, 1, 9000000, NULL},
    {"P2W", 0, 14, 0, NULL},
    {"P1Y", 12, 0, 0, NULL},
    {"P1Y2M", 14, 0, 0, NULL},
    {"P1M1W", 1, 7, 0, NULL},
    {"P1Y2M3W4DT5H6M7S", 14, 25, 18367000, NULL},
    {"PT1.5S", 0, 0, 1500, NULL},
    {"PT0,25S", 0, 0, 250, NULL},
    {"PT0.5H", 0, 0, 1800000, NULL},
    {"PT1.5M", 0, 0, 90000, NULL},
    {"PT0.0005S", 0, 0, 0, NULL},
    {"PT0.123456789S", 0, 0, 123, NULL},
    {"PT36H", 0, 0, 129600000, NULL},
    {"-P1D", 0, -1, 0, NULL},
    {"-PT1H30M", 0, 0, -5400000, NULL},
    {"pt5m", 0, 0, 300000, NULL},
    {"p1dt1h", 0, 1, 3600000, NULL},
    {"  PT5M \n", 0, 0, 300000, NULL},
    {"PT0S", 0, 0, 0, NULL},
    {"P0D", 0, 0, 0, NULL},
    {"P10000Y", 120000, 0, 0, NULL},
    {"PT315569520000S", 0, 0, 315569520000000LL, NULL},
    {"P1X", 0, 0, 0, "unknown designator 'X'"},
    {"P", 0, 0, 0, "no values after 'P'"},
    {"PT", 0, 0, 0, "no hours, minutes or seconds after 'T'"},
    {"P1DT", 0, 0, 0, "no hours, minutes or seconds after 'T'"},
    {"", 0, 0, 0, "starts with 'P'"},
    {"5M", 0, 0, 0, "starts with 'P'"},
    {"xyz", 0, 0, 0, "starts with 'P'"},
    {"P5", 0, 0, 0, "number 5 has no designator"},
    {"PT5", 0, 0, 0, "has no designator"},
    {"P1H", 0, 0, 0, "'H' must come after 'T' (example: \"PT1H\")"},
    {"PT1D", 0, 0, 0, "'D' must come before 'T'"},
    {"P1D1Y", 0, 0, 0, "out of order"},
    {"P1D1D", 0, 0, 0, "repeated or out of order"},
    {"P1W1M", 0, 0, 0, "out of order"},
    {"PT1.5M30S", 0, 0, 0, "only the last value may have a fraction"},
    {"P1.5D", 0, 0, 0, "only hours, minutes and seconds may have a fraction"},
    {"PT1.S", 0, 0, 0, "needs digits after the decimal point"},
    {"PT-5M", 0, 0, 0, "signs are allowed only before 'P'"},
    {"PM", 0, 0, 0, "designator 'M' has no number before it"},
    {"P1DTT1H", 0, 0, 0, "'T' appears twice"},
    {"P 1D", 0, 0, 0, "unexpected character ' '"},
    {"P99999999999999999999D", 0, 0, 0, "too large"},
    {"PT99999999999999999999999999999S", 0, 0, 0, "too large"},
    {"P10001Y", 0, 0, 0, "too large"},
    {"P3652426D", 0, 0, 0, "too large"},
    {"P10000Y10000M", 0, 0, 0, "too large"},
    {"PT87658200H1S", 0, 0, 0, "too large"},
};

static void test_durations(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        bpm_err err = {0};
        bpm_timer_duration d = {SENTINEL, SENTINEL, SENTINEL};
        bpm_rc rc = bpm_timer_parse_duration(durations[i].in, &d, &err);
        if (durations[i].err) {
            expect_error((int)i, durations[i].in, rc, &err, durations[i].err);
            assert_true(d.months == SENTINEL && d.days == SENTINEL && d.ms == SENTINEL);
            continue;
        }
        if (rc != BPM_OK || d.months != durations[i].months || d.days != durations[i].days ||
            d.ms != durations[i].ms) {
            print_error("row %zu \"%s\": rc %d (%s) got %lld/%lld/%lld\n", i, durations[i].in,
                        (int)rc, err.msg, (long long)d.months, (long long)d.days, (long long)d.ms);
            fail();
        }
    }
}

/* ---- adding durations to times -------------------------------------------- */

static const struct {
    const char *start, *dur, *want; /* want NULL: out of range */
} adds[] = {
    {"2026-01-31", "P1M", "2026-02-28T00:00:00.000Z"},
    {"2024-01-31", "P1M", "2024-02-29T00:00:00.000Z"},
    {"2024-02-29", "P1Y", "2025-02-28T00:00:00.000Z"},
    {"2024-02-29", "P4Y", "2028-02-29T00:00:00.000Z"},
    {"2026-03-31", "P1M", "2026-04-30T00:00:00.000Z"},
    {"2026-01-31", "P1M1D", "2026-03-01T00:00:00.000Z"},
    {"2026-01-31", "P13M", "2027-02-28T00:00:00.000Z"},
    {"2026-12-15T10:00Z", "P1M", "2027-01-15T10:00:00.000Z"},
    {"2026-03-31", "-P1M", "2026-02-28T00:00:00.000Z"},
    {"2026-01-01T00:00:00Z", "PT1.5S", "2026-01-01T00:00:01.500Z"},
    {"2026-12-31T23:59:59.999Z", "PT0.001S", "2027-01-01T00:00:00.000Z"},
    {"2026-03-28T12:00Z", "P1D", "2026-03-29T12:00:00.000Z"},
    {"2026-10-24T12:00Z", "PT24H", "2026-10-25T12:00:00.000Z"},
    {"2026-01-01", "P2W", "2026-01-15T00:00:00.000Z"},
    {"1999-12-31T12:00Z", "P1DT12H", "2000-01-02T00:00:00.000Z"},
    {"2100-02-28", "P1D", "2100-03-01T00:00:00.000Z"},
    {"2000-02-28", "P1D", "2000-02-29T00:00:00.000Z"},
    {"1969-12-31T23:59:59Z", "PT1S", "1970-01-01T00:00:00.000Z"},
    {"1970-01-01", "-PT0.001S", "1969-12-31T23:59:59.999Z"},
    {"2026-01-01", "P10000Y", NULL},
    {"9999-12-31T00:00Z", "P1D", NULL},
    {"0001-01-01", "-PT1S", NULL},
    {"0001-03-01", "-P3M", NULL},
};

static void test_add(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof adds / sizeof adds[0]; i++) {
        bpm_timer_duration d;
        assert_int_equal(bpm_timer_parse_duration(adds[i].dur, &d, NULL), BPM_OK);
        int64_t out = SENTINEL;
        bpm_err err = {0};
        bpm_rc rc = bpm_timer_add(at(adds[i].start), &d, &out, &err);
        if (!adds[i].want) {
            expect_error((int)i, adds[i].dur, rc, &err, "out of range");
            assert_true(out == SENTINEL);
            continue;
        }
        assert_int_equal(rc, BPM_OK);
        expect_iso((int)i, adds[i].dur, out, adds[i].want);
    }
}

/* ---- dates ---------------------------------------------------------------- */

static const struct {
    const char *in, *want, *err;
} dates[] = {
    {"2026-01-01T09:00:00Z", "2026-01-01T09:00:00.000Z", NULL},
    {"2026-01-01T09:00:00+02:00", "2026-01-01T07:00:00.000Z", NULL},
    {"2026-01-01T09:00:00+0200", "2026-01-01T07:00:00.000Z", NULL},
    {"2026-01-01T09:00:00+02", "2026-01-01T07:00:00.000Z", NULL},
    {"2026-01-01T09:00:00-05:30", "2026-01-01T14:30:00.000Z", NULL},
    {"2026-01-01T09:00:00-00:00", "2026-01-01T09:00:00.000Z", NULL},
    {"2026-01-01T01:00:00+02:00", "2025-12-31T23:00:00.000Z", NULL},
    {"2026-01-01T09:00:00+14:00", "2025-12-31T19:00:00.000Z", NULL},
    {"2026-01-01T09:00:00+18:00", "2025-12-31T15:00:00.000Z", NULL},
    {"2026-01-01T09:00:00.123Z", "2026-01-01T09:00:00.123Z", NULL},
    {"2026-01-01T09:00:00.1Z", "2026-01-01T09:00:00.100Z", NULL},
    {"2026-01-01T09:00:00.123456789Z", "2026-01-01T09:00:00.123Z", NULL},
    {"2026-01-01T09:00:00,5Z", "2026-01-01T09:00:00.500Z", NULL},
    {"2026-01-01T09:00:00.250+01:00", "2026-01-01T08:00:00.250Z", NULL},
    {"2026-01-01T09:00:00", "2026-01-01T09:00:00.000Z", NULL},
    {"2026-01-01T09:00", "2026-01-01T09:00:00.000Z", NULL},
    {"2026-01-01T09:00+01:00", "2026-01-01T08:00:00.000Z", NULL},
    {"2026-01-01", "2026-01-01T00:00:00.000Z", NULL},
    {"2026-01-01t09:00:00z", "2026-01-01T09:00:00.000Z", NULL},
    {"2026-01-01 09:00:00Z", "2026-01-01T09:00:00.000Z", NULL},
    {" 2026-01-01T09:00:00Z\n", "2026-01-01T09:00:00.000Z", NULL},
    {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z", NULL},
    {"2000-02-29", "2000-02-29T00:00:00.000Z", NULL},
    {"2026-12-31T24:00:00Z", "2027-01-01T00:00:00.000Z", NULL},
    {"2026-06-30T23:59:60Z", "2026-07-01T00:00:00.000Z", NULL},
    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z", NULL},
    {"1969-07-20T20:17:40Z", "1969-07-20T20:17:40.000Z", NULL},
    {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z", NULL},
    {"9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z", NULL},
    {"2026-13-01", NULL, "month 13 is out of range 1-12"},
    {"2026-00-10", NULL, "month 0 is out of range 1-12"},
    {"2026-02-29", NULL, "day 29 does not exist in February 2026"},
    {"2100-02-29", NULL, "day 29 does not exist in February 2100"},
    {"2026-04-31", NULL, "day 31 does not exist in April 2026"},
    {"2026-01-32", NULL, "day 32 is out of range 1-31"},
    {"2026-01-00", NULL, "day 0 is out of range 1-31"},
    {"0000-01-01", NULL, "year 0000 is out of range"},
    {"2026-01-01T25:00:00Z", NULL, "hour 25 is out of range 0-23"},
    {"2026-01-01T24:30:00Z", NULL, "hour 24 is out of range 0-23"},
    {"2026-01-01T09:60:00Z", NULL, "minute 60 is out of range 0-59"},
    {"2026-01-01T09:00:61Z", NULL, "second 61 is out of range"},
    {"2026-01-01T09:00:00+19:00", NULL, "offset +19:00 is out of range"},
    {"2026-01-01T09:00:00+02:60", NULL, "offset +02:60 is out of range"},
    {"2026-01-01T09:00:00+2:00", NULL, "expected the offset as +hh:mm"},
    {"2026-01-01T09:00:00+020", NULL, "expected the offset as +hh:mm"},
    {"2026-01-01T09:00:00[Europe/Berlin]", NULL, "time zone names are not supported"},
    {"2026-01-01T09:00:00+01:00[Europe/Berlin]", NULL, "time zone names are not supported"},
    {"20260101T090000Z", NULL, "extended format"},
    {"202601-01", NULL, "four digits"},
    {"26-01-01", NULL, "expected a date like 2026-01-01"},
    {"2026-1-1", NULL, "expected a date like 2026-01-01"},
    {"2026/01/01", NULL, "expected a date like 2026-01-01"},
    {"tomorrow", NULL, "expected a date like 2026-01-01"},
    {"", NULL, "expected a date like 2026-01-01"},
    {"2026-01-01T9:00", NULL, "expected the time as hh:mm"},
    {"2026-01-01T09", NULL, "expected the time as hh:mm"},
    {"2026-01-01T", NULL, "expected the time as hh:mm"},
    {"2026-01-01T09:00:0Z", NULL, "two digits for the seconds"},
    {"2026-01-01T09:00:00.Z", NULL, "1 to 9 digits"},
    {"2026-01-01T09:00:00.1234567890Z", NULL, "1 to 9 digits"},
    {"2026-01-01T09:00:00ZZ", NULL, "unexpected 'Z' after the time"},
    {"2026-01-01T09:00:00 UTC", NULL, "unexpected ' ' after the time"},
    {"2026-01-01X", NULL, "unexpected 'X' after the date"},
    {"0001-01-01T00:00:00+01:00", NULL, "out of range 0001-01-01 to 9999-12-31"},
    {"9999-12-31T23:00:00-02:00", NULL, "out of range 0001-01-01 to 9999-12-31"},
};

static void test_dates(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        bpm_err err = {0};
        int64_t t = SENTINEL;
        bpm_rc rc = bpm_timer_parse_date(dates[i].in, &t, &err);
        if (dates[i].err) {
            expect_error((int)i, dates[i].in, rc, &err, dates[i].err);
            assert_true(t == SENTINEL);
            continue;
        }
        if (rc != BPM_OK) {
            print_error("row %zu \"%s\": %s\n", i, dates[i].in, err.msg);
            fail();
        }
        expect_iso((int)i, dates[i].in, t, dates[i].want);
    }
}

/* ---- formatting ---------------------------------------------------------- */

static const struct {
    int64_t ms;
    const char *iso, *rest; /* "" = refused */
} formats[] = {
    {0, "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000+0000"},
    {1767258000000LL, "2026-01-01T09:00:00.000Z", "2026-01-01T09:00:00.000+0000"},
    {1767258000123LL, "2026-01-01T09:00:00.123Z", "2026-01-01T09:00:00.123+0000"},
    {-1, "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999+0000"},
    {951782400000LL, "2000-02-29T00:00:00.000Z", "2000-02-29T00:00:00.000+0000"},
    {BPM_TIMER_MAX_MS, "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999+0000"},
    {BPM_TIMER_MIN_MS, "0001-01-01T00:00:00.000Z", "0001-01-01T00:00:00.000+0000"},
    {BPM_TIMER_MAX_MS + 1, "", ""},
    {BPM_TIMER_MIN_MS - 1, "", ""},
    {INT64_MAX, "", ""},
    {INT64_MIN, "", ""},
};

static void test_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        char iso[BPM_TIMER_ISO_SIZE] = "x", rest[BPM_TIMER_REST_SIZE] = "x";
        size_t n1 = bpm_timer_format_iso(formats[i].ms, iso, sizeof iso);
        size_t n2 = bpm_timer_format_rest(formats[i].ms, rest, sizeof rest);
        assert_string_equal(iso, formats[i].iso);
        assert_string_equal(rest, formats[i].rest);
        assert_int_equal(n1, strlen(formats[i].iso));
        assert_int_equal(n2, strlen(formats[i].rest));
    }
    /* a buffer one byte short is refused, not truncated */
    char small[BPM_TIMER_ISO_SIZE - 1] = "x";
    assert_int_equal(bpm_timer_format_iso(0, small, sizeof small), 0);
    assert_string_equal(small, "");
    assert_int_equal(bpm_timer_format_iso(0, NULL, 0), 0);
    /* format and parse round-trip */
    int64_t back;
    char buf[BPM_TIMER_REST_SIZE];
    assert_int_equal(bpm_timer_format_iso(1767258000123LL, buf, sizeof buf), 24);
    assert_int_equal(bpm_timer_parse_date(buf, &back, NULL), BPM_OK);
    assert_true(back == 1767258000123LL);
    assert_int_equal(bpm_timer_format_rest(1767258000123LL, buf, sizeof buf), 28);
    assert_int_equal(bpm_timer_parse_date(buf, &back, NULL), BPM_OK);
    assert_true(back == 1767258000123LL);
}

/* ---- cron: next fire time ------------------------------------------------- */

static const struct {
    const char *expr, *after, *want; /* want NULL: never */
} crons[] = {
    {"0 0 9 * * MON-FRI", "2026-01-01T08:00:00Z", "2026-01-01T09:00:00.000Z"},
    {"0 0 9 * * MON-FRI", "2026-01-01T09:00:00Z", "2026-01-02T09:00:00.000Z"},
    {"0 0 9 * * MON-FRI", "2026-01-02T09:00:00Z", "2026-01-05T09:00:00.000Z"},
    {"0 0 9 * * MON-FRI", "2026-12-31T09:00:00Z", "2027-01-01T09:00:00.000Z"},
    {"0 0 9 * * mon-fri", "2026-01-03T00:00:00Z", "2026-01-05T09:00:00.000Z"},
    {"0 */15 * * * *", "2026-01-01T10:07:30Z", "2026-01-01T10:15:00.000Z"},
    {"0 */15 * * * *", "2026-01-01T10:15:00Z", "2026-01-01T10:30:00.000Z"},
    {"0 */15 * * * *", "2026-12-31T23:50:00Z", "2027-01-01T00:00:00.000Z"},
    {"0 0 0 1 * ?", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00.000Z"},
    {"0 0 0 1 * ?", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00.000Z"},
    {"0 0 12 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T12:00:00.000Z"},
    {"0 0 0 29 2 MON", "2026-01-01T00:00:00Z", "2044-02-29T00:00:00.000Z"},
    {"0 0 0 28-31 2 *", "2027-02-28T00:00:00Z", "2028-02-28T00:00:00.000Z"},
    {"0 0 0 28-31 2 *", "2028-02-28T00:00:00Z", "2028-02-29T00:00:00.000Z"},
    {"0 0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00.000Z"},
    {"0 0 0 31 * *", "2026-02-01T00:00:00Z", "2026-03-31T00:00:00.000Z"},
    {"30 * * * * *", "2026-01-01T00:00:30Z", "2026-01-01T00:01:30.000Z"},
    {"*/20 * * * * *", "2026-01-01T00:00:59.500Z", "2026-01-01T00:01:00.000Z"},
    {"* * * * * *", "2026-01-01T00:00:00.001Z", "2026-01-01T00:00:01.000Z"},
    {"* * * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01.000Z"},
    {"59 59 23 31 12 *", "2026-12-31T23:59:58Z", "2026-12-31T23:59:59.000Z"},
    {"0 0 9 * * 0", "2026-01-01T00:00:00Z", "2026-01-04T09:00:00.000Z"},
    {"0 0 9 * * 7", "2026-01-01T00:00:00Z", "2026-01-04T09:00:00.000Z"},
    {"0 0 9 * * sun", "2026-01-01T00:00:00Z", "2026-01-04T09:00:00.000Z"},
    {"0 0 9 * * SAT,SUN", "2026-01-01T00:00:00Z", "2026-01-03T09:00:00.000Z"},
    {"0 0 9 * * 5-7", "2026-01-02T10:00:00Z", "2026-01-03T09:00:00.000Z"},
    {"0 0 9 * * */2", "2026-01-01T00:00:00Z", "2026-01-02T09:00:00.000Z"},
    {"0 0 9 * * */2", "2026-01-02T09:00:00Z", "2026-01-04T09:00:00.000Z"},
    {"0 0 9 * * 1/2", "2026-01-04T09:00:00Z", "2026-01-05T09:00:00.000Z"},
    /* Spring semantics: day-of-month AND day-of-week */
    {"0 0 9 1 * MON", "2026-01-01T00:00:00Z", "2026-06-01T09:00:00.000Z"},
    {"0 0 0 13 * FRI", "2026-01-01T00:00:00Z", "2026-02-13T00:00:00.000Z"},
    {"0 0 0 1 JAN-MAR,DEC *", "2026-04-10T00:00:00Z", "2026-12-01T00:00:00.000Z"},
    {"0 0 0 1 jul ?", "2026-07-01T00:00:00Z", "2027-07-01T00:00:00.000Z"},
    {"0 0 10-12/2 * * *", "2026-01-01T10:30:00Z", "2026-01-01T12:00:00.000Z"},
    {"0 0 10-12/2 * * *", "2026-01-01T12:00:00Z", "2026-01-02T10:00:00.000Z"},
    {"0 0 1,13 * * *", "2026-01-01T01:00:00Z", "2026-01-01T13:00:00.000Z"},
    {"0 5/20 * * * *", "2026-01-01T00:06:00Z", "2026-01-01T00:25:00.000Z"},
    {"0 0 0 * * *", "2026-03-28T12:00:00Z", "2026-03-29T00:00:00.000Z"},
    {"30 9 * * *", "2026-01-01T10:00:00Z", "2026-01-02T09:30:00.000Z"},
    {"*/5 * * * *", "2026-01-01T00:02:00Z", "2026-01-01T00:05:00.000Z"},
    {"0 9 * * 1-5", "2026-01-03T00:00:00Z", "2026-01-05T09:00:00.000Z"},
    {"  0  0  9  *  *  MON-FRI ", "2026-01-01T08:00:00Z", "2026-01-01T09:00:00.000Z"},
    {"@daily", "2026-01-01T12:00:00Z", "2026-01-02T00:00:00.000Z"},
    {"@midnight", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00.000Z"},
    {"@hourly", "2026-01-01T12:00:00Z", "2026-01-01T13:00:00.000Z"},
    {"@weekly", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00.000Z"},
    {"@monthly", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00.000Z"},
    {"@yearly", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00.000Z"},
    {"@ANNUALLY", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00.000Z"},
    {"0 0 0 1 1 *", "9999-06-01T00:00:00Z", NULL},
    {"* * * * * *", "9999-12-31T23:59:59Z", NULL},
    {"0 0 0 29 2 *", "9996-03-01T00:00:00Z", NULL},
};

static void test_cron_next(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof crons / sizeof crons[0]; i++) {
        bpm_timer_cron c;
        bpm_err err = {0};
        if (bpm_timer_parse_cron(crons[i].expr, &c, &err) != BPM_OK) {
            print_error("row %zu \"%s\": %s\n", i, crons[i].expr, err.msg);
            fail();
        }
        int64_t next = SENTINEL;
        bool found = bpm_timer_cron_next(&c, at(crons[i].after), &next);
        if (!crons[i].want) {
            assert_false(found);
            assert_true(next == SENTINEL);
            continue;
        }
        assert_true(found);
        expect_iso((int)i, crons[i].expr, next, crons[i].want);
    }
}

static const struct {
    const char *expr, *err;
} bad_crons[] = {
    {"0 0 9 * * MON-FRI 2026", "found 7; a year field is not supported"},
    {"0 0 9", "found 3"},
    {"", "found 0"},
    {"0 61 * * * *", "minute 61 is out of range 0-59"},
    {"60 * * * * *", "second 60 is out of range 0-59"},
    {"0 0 24 * * *", "hour 24 is out of range 0-23"},
    {"0 0 0 0 * *", "day-of-month 0 is out of range 1-31"},
    {"0 0 0 32 * *", "day-of-month 32 is out of range 1-31"},
    {"0 0 0 * 13 *", "month 13 is out of range 1-12"},
    {"0 0 0 * * 8", "day-of-week 8 is out of range 0-7"},
    {"0 0 0 99999999999 * *", "out of range 1-31"},
    {"0 0 0 L * *", "'L' in the day-of-month field is not supported"},
    {"0 0 0 LW * *", "not supported"},
    {"0 0 0 15W * *", "'W' in the day-of-month field is not supported"},
    {"0 0 0 ? * 5L", "'L' in the day-of-week field is not supported"},
    {"0 0 0 ? * 5#3", "'#' in the day-of-week field is not supported"},
    {"0 0 0 30 2 *", "it never fires"},
    {"0 0 0 31 4,6,9,11 *", "it never fires"},
    {"0 0 0 * FOO *", "unknown name \"FOO\" in the month field"},
    {"0 0 0 * * FUNDAY", "unknown name \"FUNDAY\" in the day-of-week field"},
    {"0 0 0 * * JAN", "unknown name \"JAN\" in the day-of-week field"},
    {"0 0 MON * * *", "unexpected \"MON\" in the hour field"},
    {"0 */0 * * * *", "step 0 in the minute field must be at least 1"},
    {"0 */ * * * *", "needs a number after '/'"},
    {"0 5-1 * * * *", "range 5-1 in the minute field goes backwards"},
    {"0 0 0 * * FRI-MON", "range 5-1 in the day-of-week field goes backwards"},
    {"? 0 0 * * *", "'?' is allowed only in the day-of-month and day-of-week"},
    {"0 0 0 ? * ?/2", "'?' must stand alone"},
    {"0 0 0 1,,2 * *", "empty list item in the day-of-month field"},
    {"0 0 0 1, * *", "empty list item in the day-of-month field"},
    {"0 0 0 * * MON-", "a value is missing in the day-of-week field"},
    {"0 0 0 * * MON-FRI-SAT", "unexpected '-' in the day-of-week field"},
    {"0 0 9-17x * * *", "unexpected 'x' in the hour field"},
    {"@often", "unknown macro"},
};

static void test_cron_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_crons / sizeof bad_crons[0]; i++) {
        bpm_err err = {0};
        bpm_timer_cron c = {.seconds = 42};
        bpm_rc rc = bpm_timer_parse_cron(bad_crons[i].expr, &c, &err);
        expect_error((int)i, bad_crons[i].expr, rc, &err, bad_crons[i].err);
        assert_true(c.seconds == 42);
        assert_non_null(strstr(err.msg, "invalid cron expression \""));
    }
}

/* ---- the engine's entry point ------------------------------------------------ */

#define DATE BPM_TIMER_DATE
#define DUR BPM_TIMER_DURATION
#define CYC BPM_TIMER_CYCLE
#define DONE "done"

static const struct {
    bpm_timer_kind kind;
    const char *value, *now, *start;
    uint32_t fired;
    const char *want; /* ISO due time, DONE, or NULL with err */
    const char *err;
} dues[] = {
    /* dates fire once, even in the past */
    {DATE, "2026-01-01T09:00:00Z", "2026-06-01", "2026-06-01", 0, "2026-01-01T09:00:00.000Z", NULL},
    {DATE, "2026-01-01T09:00:00+01:00", "2025-06-01", "2025-06-01", 0, "2026-01-01T08:00:00.000Z",
     NULL},
    {DATE, "2026-01-01T09:00:00Z", "2026-06-01", "2026-06-01", 1, DONE, NULL},
    {DATE, "someday", "2026-06-01", "2026-06-01", 0, NULL, "expected a date like"},
    /* durations count from the start */
    {DUR, "PT5M", "2026-01-01T00:00Z", "2026-01-01T00:00Z", 0, "2026-01-01T00:05:00.000Z", NULL},
    {DUR, "P1M", "2026-01-31T00:00Z", "2026-01-31T00:00Z", 0, "2026-02-28T00:00:00.000Z", NULL},
    {DUR, "P1DT2H30M", "2026-01-01T00:00Z", "2026-01-01T00:00Z", 0, "2026-01-02T02:30:00.000Z",
     NULL},
    {DUR, "PT5M", "2026-01-01T00:00Z", "2026-01-01T00:00Z", 1, DONE, NULL},
    {DUR, "P1D", "9999-12-31T12:00Z", "9999-12-31T12:00Z", 0, NULL, "after year 9999"},
    {DUR, "P1X", "2026-01-01", "2026-01-01", 0, NULL, "unknown designator 'X'"},
    /* R<n>/period: from activation, one period apart */
    {CYC, "R5/PT10M", "2026-01-01T00:00Z", "2026-01-01T00:00Z", 0, "2026-01-01T00:10:00.000Z",
     NULL},
    {CYC, "R5/PT10M", "2026-01-01T00:10Z", "2026-01-01T00:00Z", 1, "2026-01-01T00:20:00.000Z",
     NULL},
    {CYC, "R5/PT10M", "2026-01-01T00:40Z", "2026-01-01T00:00Z", 4, "2026-01-01T00:50:00.000Z",
     NULL},
    {CYC, "R5/PT10M", "2026-01-01T00:50Z", "2026-01-01T00:00Z", 5, DONE, NULL},
    {CYC, "R5/PT10M", "2026-01-01T00:35Z", "2026-01-01T00:00Z", 2, "2026-01-01T00:40:00.000Z",
     NULL},
    {CYC, "R5/PT10M", "2026-01-01T01:00Z", "2026-01-01T00:00Z", 2, DONE, NULL},
    {CYC, "R5/PT10M", "2026-01-01T00:05Z", "2026-01-01T00:00Z", 3, "2026-01-01T00:40:00.000Z",
     NULL},
    {CYC, "R1/PT1S", "2026-01-01T00:00Z", "2026-01-01T00:00Z", 0, "2026-01-01T00:00:01.000Z", NULL},
    {CYC, "R1/PT1S", "2026-01-01T00:00:01Z", "2026-01-01T00:00Z", 1, DONE, NULL},
    {CYC, "R0/PT1H", "2026-01-01T00:00Z", "2026-01-01T00:00Z", 0, DONE, NULL},
    {CYC, "R/PT1H", "2026-01-01T00:00Z", "2026-01-01T00:00Z", 0, "2026-01-01T01:00:00.000Z", NULL},
    {CYC, "R/PT1H", "2026-01-01T05:30Z", "2026-01-01T00:00Z", 5, "2026-01-01T06:00:00.000Z", NULL},
    {CYC, "R/PT0.5S", "2026-01-01T00:00:01.2Z", "2026-01-01T00:00Z", 2, "2026-01-01T00:00:01.500Z",
     NULL},
    {CYC, "R/P1M", "2026-03-01T00:00Z", "2026-01-31T00:00Z", 1, "2026-03-31T00:00:00.000Z", NULL},
    {CYC, "R/P1000Y", "9500-01-01", "9500-01-01", 0, DONE, NULL},
    {CYC, "R/PT1M", "9999-12-31T23:59:30Z", "2026-01-01", 0, DONE, NULL},
    /* R<n>/start/period: the first occurrence is the start */
    {CYC, "R3/2026-01-01T09:00:00Z/P1D", "2025-12-31", "2025-12-31", 0, "2026-01-01T09:00:00.000Z",
     NULL},
    {CYC, "R3/2026-01-01T09:00:00Z/P1D", "2026-01-01T09:00Z", "2025-12-31", 1,
     "2026-01-02T09:00:00.000Z", NULL},
    {CYC, "R3/2026-01-01T09:00:00Z/P1D", "2026-01-02T12:00Z", "2025-12-31", 1,
     "2026-01-03T09:00:00.000Z", NULL},
    {CYC, "R3/2026-01-01T09:00:00Z/P1D", "2026-01-03T09:00Z", "2025-12-31", 3, DONE, NULL},
    {CYC, "R3/2026-01-01T09:00:00Z/P1D", "2026-02-01", "2026-02-01", 0, DONE, NULL},
    {CYC, "R/2026-01-01T09:00:00Z/P1D", "2026-03-15T10:00Z", "2026-01-01", 0,
     "2026-03-16T09:00:00.000Z", NULL},
    {CYC, "R/2026-01-01T09:00:00+01:00/PT12H", "2026-01-01T09:00Z", "2026-01-01", 0,
     "2026-01-01T20:00:00.000Z", NULL},
    {CYC, "R/2026-01-31T00:00:00Z/P1M", "2026-02-01", "2026-01-01", 1, "2026-02-28T00:00:00.000Z",
     NULL},
    {CYC, "R/2026-01-31T00:00:00Z/P1M", "2026-02-28", "2026-01-01", 2, "2026-03-31T00:00:00.000Z",
     NULL},
    {CYC, "R/2024-02-29T00:00:00Z/P1Y", "2024-03-01", "2024-01-01", 1, "2025-02-28T00:00:00.000Z",
     NULL},
    {CYC, "R/2024-02-29T00:00:00Z/P1Y", "2027-03-01", "2024-01-01", 1, "2028-02-29T00:00:00.000Z",
     NULL},
    {CYC, "R/2026-01-01T00:00:00Z/PT1S", "2026-12-31T23:59:59.500Z", "2026-01-01", 0,
     "2027-01-01T00:00:00.000Z", NULL},
    /* R<n>/start/end: period = end - start */
    {CYC, "R3/2026-01-01T00:00:00Z/2026-01-01T06:00:00Z", "2026-01-01T01:00Z", "2026-01-01", 1,
     "2026-01-01T06:00:00.000Z", NULL},
    {CYC, "R3/2026-01-01T00:00:00Z/2026-01-01T06:00:00Z", "2026-01-01T12:00Z", "2026-01-01", 3,
     DONE, NULL},
    /* R<n>/period/end: the last occurrence is at the end */
    {CYC, "R2/P1D/2026-01-05T00:00:00Z", "2026-01-01", "2026-01-01", 0, "2026-01-04T00:00:00.000Z",
     NULL},
    {CYC, "R2/P1D/2026-01-05T00:00:00Z", "2026-01-04", "2026-01-01", 1, "2026-01-05T00:00:00.000Z",
     NULL},
    {CYC, "R2/P1D/2026-01-05T00:00:00Z", "2026-01-05", "2026-01-01", 2, DONE, NULL},
    {CYC, "R/PT1H/2026-01-01T12:00:00Z", "2026-01-01T09:30Z", "2026-01-01", 0,
     "2026-01-01T10:00:00.000Z", NULL},
    {CYC, "R/PT1H/2026-01-01T12:00:00Z", "2026-01-01T12:00Z", "2026-01-01", 3, DONE, NULL},
    {CYC, "R/P1M/2026-03-31T00:00:00Z", "2026-02-01", "2026-01-01", 0, "2026-02-28T00:00:00.000Z",
     NULL},
    /* cron cycles */
    {CYC, "0 0 9 * * MON-FRI", "2026-01-02T10:00Z", "2026-01-01", 3, "2026-01-05T09:00:00.000Z",
     NULL},
    {CYC, "@daily", "2026-12-31T00:00Z", "2026-01-01", 0, "2027-01-01T00:00:00.000Z", NULL},
    {CYC, "0 0 0 1 1 *", "9999-06-01", "2026-01-01", 0, DONE, NULL},
    /* cycle errors */
    {CYC, "PT1H", "2026-01-01", "2026-01-01", 0, NULL, "a cycle needs \"R\": write \"R/PT1H\""},
    {CYC, "2026-01-01T00:00:00Z", "2026-01-01", "2026-01-01", 0, NULL, "a cycle needs \"R\""},
    {CYC, "", "2026-01-01", "2026-01-01", 0, NULL, "the value is empty"},
    {CYC, "R", "2026-01-01", "2026-01-01", 0, NULL, "expected '/'"},
    {CYC, "R5PT10M", "2026-01-01", "2026-01-01", 0, NULL, "expected '/'"},
    {CYC, "R5/PT0S", "2026-01-01", "2026-01-01", 0, NULL, "longer than zero"},
    {CYC, "R5/-PT1H", "2026-01-01", "2026-01-01", 0, NULL, "longer than zero"},
    {CYC, "R/P1D/P1D", "2026-01-01", "2026-01-01", 0, NULL, "cannot have two periods"},
    {CYC, "R/2026-01-01T00:00:00Z", "2026-01-01", "2026-01-01", 0, NULL, "needs a period"},
    {CYC, "R99999999999/PT1M", "2026-01-01", "2026-01-01", 0, NULL, "count is too large"},
    {CYC, "R5/PT1M/2026-01-01/x", "2026-01-01", "2026-01-01", 0, NULL, "too many '/' parts"},
    {CYC, "R/2026-01-02T00:00:00Z/2026-01-01T00:00:00Z", "2026-01-01", "2026-01-01", 0, NULL,
     "the end must be after the start"},
    {CYC, "R/P99999999999999999999D", "2026-01-01", "2026-01-01", 0, NULL, "too large"},
    {CYC, "R5/P1X", "2026-01-01", "2026-01-01", 0, NULL, "unknown designator 'X'"},
    {CYC, "R5/2026-02-30T00:00:00Z/P1D", "2026-01-01", "2026-01-01", 0, NULL,
     "day 30 does not exist in February 2026"},
    {CYC, "0 0 0 30 2 *", "2026-01-01", "2026-01-01", 0, NULL, "it never fires"},
    {CYC, "0 0 9 * * MON-FRI 2026", "2026-01-01", "2026-01-01", 0, NULL, "year field"},
    {(bpm_timer_kind)0, "PT1H", "2026-01-01", "2026-01-01", 0, NULL, "unknown timer kind"},
};

static void test_next_due(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dues / sizeof dues[0]; i++) {
        bpm_err err = {0};
        int64_t due = SENTINEL;
        bool done = false;
        bpm_rc rc = bpm_timer_next_due(dues[i].kind, dues[i].value, at(dues[i].now),
                                       at(dues[i].start), dues[i].fired, &due, &done, &err);
        if (!dues[i].want) {
            expect_error((int)i, dues[i].value, rc, &err, dues[i].err);
            assert_true(due == SENTINEL);
            continue;
        }
        if (rc != BPM_OK) {
            print_error("row %zu \"%s\": %s\n", i, dues[i].value, err.msg);
            fail();
        }
        if (strcmp(dues[i].want, DONE) == 0) {
            if (!done) {
                char buf[BPM_TIMER_ISO_SIZE];
                bpm_timer_format_iso(due, buf, sizeof buf);
                print_error("row %zu \"%s\": due %s, want done\n", i, dues[i].value, buf);
                fail();
            }
            assert_true(due == INT64_MAX);
            continue;
        }
        if (done) {
            print_error("row %zu \"%s\": done, want %s\n", i, dues[i].value, dues[i].want);
            fail();
        }
        expect_iso((int)i, dues[i].value, due, dues[i].want);
    }
}

/* ---- validation and exact messages ------------------------------------------ */

static const struct {
    bpm_timer_kind kind;
    const char *value;
    const char *msg; /* NULL: valid; else the exact message */
} checks[] = {
    {DATE, "2026-01-01", NULL},
    {DATE, "2026-01-01T09:00:00+02:00", NULL},
    {DUR, "PT5M", NULL},
    {DUR, "\n  P1DT2H\n", NULL},
    {CYC, "R/PT1H", NULL},
    {CYC, "R3/2026-01-01T09:00:00Z/P1D", NULL},
    {CYC, "0 0 9 * * MON-FRI", NULL},
    {CYC, "0 9 * * 1-5", NULL},
    {CYC, "@daily", NULL},
    {DUR, "P1X", "invalid ISO 8601 duration \"P1X\": unknown designator 'X'"},
    {DUR, "P",
     "invalid ISO 8601 duration \"P\": no values after 'P' (examples: \"PT5M\", "
     "\"P1D\")"},
    {DATE, "2026-02-30",
     "invalid ISO 8601 date \"2026-02-30\": day 30 does not exist in "
     "February 2026"},
    {DATE, "PT5M",
     "invalid ISO 8601 date \"PT5M\": expected a date like 2026-01-01 or a date "
     "and time like 2026-01-01T09:00:00Z"},
    {DUR, "2026-01-01",
     "invalid ISO 8601 duration \"2026-01-01\": a duration starts with 'P' "
     "(examples: \"PT5M\", \"P1D\", \"P1DT2H30M\")"},
    {CYC, "PT10M",
     "invalid timer cycle \"PT10M\": a cycle needs \"R\": write \"R/PT10M\" to "
     "repeat forever or \"R3/PT10M\" for three times"},
    {CYC, "0 0 0 30 2 *",
     "invalid timer cycle \"0 0 0 30 2 *\": it never fires: the days of "
     "the month it names do not exist in the months it names"},
    {CYC, "0 0 0 L * *",
     "invalid timer cycle \"0 0 0 L * *\": 'L' in the day-of-month field "
     "is not supported"},
    {CYC, NULL, "invalid timer cycle: the value is missing"},
    {DATE, NULL, "invalid ISO 8601 date: the value is missing"},
    {(bpm_timer_kind)99, "PT5M", "unknown timer kind 99"},
};

static void test_check(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        bpm_err err = {0};
        bpm_rc rc = bpm_timer_check(checks[i].kind, checks[i].value, &err);
        if (!checks[i].msg) {
            if (rc != BPM_OK) {
                print_error("row %zu \"%s\": %s\n", i, checks[i].value, err.msg);
                fail();
            }
            continue;
        }
        assert_int_equal(rc, BPM_INVALID);
        assert_int_equal(err.rc, BPM_INVALID);
        assert_string_equal(err.msg, checks[i].msg);
        /* err may be NULL: same code, nothing written */
        assert_int_equal(bpm_timer_check(checks[i].kind, checks[i].value, NULL), BPM_INVALID);
    }
}

/* Long and binary values are cut and cleaned in messages. */
static void test_message_quoting(void **state)
{
    (void)state;
    char big[600];
    memset(big, '9', sizeof big - 2);
    big[0] = 'P';
    big[sizeof big - 2] = 'D';
    big[sizeof big - 1] = '\0';
    bpm_err err = {0};
    assert_int_equal(bpm_timer_parse_duration(big, NULL, &err), BPM_INVALID);
    assert_non_null(strstr(err.msg, "...\": the 'D' value is too large"));
    assert_true(strlen(err.msg) < 200);

    assert_int_equal(bpm_timer_parse_duration("P1\001D", NULL, &err), BPM_INVALID);
    assert_string_equal(err.msg, "invalid ISO 8601 duration \"P1?D\": unknown designator '?'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),       cmocka_unit_test(test_add),
        cmocka_unit_test(test_dates),           cmocka_unit_test(test_format),
        cmocka_unit_test(test_cron_next),       cmocka_unit_test(test_cron_invalid),
        cmocka_unit_test(test_next_due),        cmocka_unit_test(test_check),
        cmocka_unit_test(test_message_quoting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
