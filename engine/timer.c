/* ISO 8601 and cron time arithmetic for BPMN timers: parsing, validation and
 * next due times in UTC milliseconds (proleptic Gregorian calendar). */
#include "timer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SEC_MS 1000LL
#define MIN_MS (60 * SEC_MS)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

/* Durations are bounded to 10000 years so that any sum or product below
 * stays far inside int64_t and a designer's typo cannot overflow. */
#define MAX_YEARS 10000LL
#define MAX_MONTHS (MAX_YEARS * 12)
#define MAX_DAYS 3652425LL             /* 10000 Gregorian years */
#define MAX_DUR_MS (MAX_DAYS * DAY_MS) /* 3.2e14 */
#define MAX_REPEAT 2147483647LL        /* R<n> */
#define MAX_MULT (1LL << 40)           /* occurrence index search bound */
#define CRON_SEARCH_YEARS 400          /* one Gregorian cycle */

/* ---- messages ------------------------------------------------------------ */

/* Which value a message is about: the whole text the designer wrote, even
 * when the parser is looking at one part of it (the period of a cycle). */
typedef struct ctx {
    bpm_err *err;
    const char *what; /* "ISO 8601 duration", "timer cycle"... */
    const char *value;
} ctx;

/* Quotes a designer's value: long values are cut and control characters
 * replaced, so the message stays one readable line. */
static void show(const char *v, char *buf, size_t n)
{
    size_t o = 0, i = 0;
    for (; v[i] && o + 4 < n; i++)
        buf[o++] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?' : v[i];
    if (v[i]) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

static bpm_rc fail(const ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bpm_rc fail(const ctx *cx, const char *fmt, ...)
{
    char reason[200], q[72];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    show(cx->value, q, sizeof q);
    return bpm_err_set(cx->err, BPM_INVALID, "invalid %s \"%s\": %s", cx->what, q, reason);
}

/* A character for a message: printable as itself, else "?". */
static char shown_char(char c)
{
    return ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) ? '?' : c;
}

/* ---- characters (locale-independent, unlike <ctype.h>) -------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static void trim(const char *v, const char **s, size_t *n)
{
    size_t len = strlen(v);
    while (len && is_space(*v)) {
        v++;
        len--;
    }
    while (len && is_space(v[len - 1]))
        len--;
    *s = v;
    *n = len;
}

/* ---- calendar -------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap(y)) ? 29 : dim[m - 1];
}

static const char *const month_names[12] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};

/* Days since 1970-01-01. Counting from March makes the leap day the last day
 * of the year, and 400-year eras keep the arithmetic exact before 1970. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
    return (int)(days - floor_div(days + 4, 7) * 7 + 4) % 7;
}

static bool in_range(int64_t t)
{
    return t >= BPM_TIMER_MIN_MS && t <= BPM_TIMER_MAX_MS;
}

/* ---- durations ------------------------------------------------------------- */

/* Position of each designator in PnYnMnWnDTnHnMnS, and its limit. */
enum { D_YEAR, D_MONTH, D_WEEK, D_DAY, D_HOUR, D_MINUTE, D_SECOND };
static const int64_t unit_limit[7] = {MAX_YEARS,     MAX_MONTHS,         MAX_DAYS / 7,    MAX_DAYS,
                                      MAX_DAYS * 24, MAX_DAYS * 24 * 60, MAX_DAYS * 86400};
static const int64_t unit_ms[7] = {0, 0, 0, 0, HOUR_MS, MIN_MS, SEC_MS};

static bpm_rc dur_parse(const ctx *cx, const char *s, size_t n, bpm_timer_duration *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i >= n || upper(s[i]) != 'P')
        return fail(cx, "a duration starts with 'P' (examples: \"PT5M\", \"P1D\", \"P1DT2H30M\")");
    i++;
    if (i == n)
        return fail(cx, "no values after 'P' (examples: \"PT5M\", \"P1D\")");

    bool in_time = false, had_fraction = false;
    int last = -1;
    int64_t months = 0, days = 0, ms = 0;
    while (i < n) {
        char c = s[i];
        if (upper(c) == 'T') {
            if (in_time)
                return fail(cx, "'T' appears twice");
            in_time = true;
            if (++i == n)
                return fail(cx, "no hours, minutes or seconds after 'T' (example: \"PT5M\")");
            continue;
        }
        if (had_fraction)
            return fail(cx, "only the last value may have a fraction");
        if (!is_digit(c)) {
            if (c == '-' || c == '+')
                return fail(cx, "signs are allowed only before 'P' (example: \"-P1D\")");
            if (is_alpha(c))
                return fail(cx, "designator '%c' has no number before it", c);
            return fail(cx, "unexpected character '%c'", shown_char(c));
        }
        size_t num_at = i;
        int64_t whole = 0;
        bool huge = false;
        for (; i < n && is_digit(s[i]); i++) {
            if (whole > MAX_DAYS * 86400)
                huge = true; /* stop accumulating: already over every limit */
            else
                whole = whole * 10 + (s[i] - '0');
        }
        int64_t nanos = 0;
        bool frac = false;
        if (i < n && (s[i] == '.' || s[i] == ',')) {
            frac = had_fraction = true;
            size_t start = ++i;
            int64_t scale = 100000000;
            for (; i < n && is_digit(s[i]); i++, scale /= 10)
                nanos += (s[i] - '0') * scale; /* digits past the 9th add 0 */
            if (i == start)
                return fail(cx, "a fraction needs digits after the decimal point");
        }
        if (i == n)
            return fail(cx, "number %.*s has no designator (Y, M, W or D; after 'T': H, M or S)",
                        (int)(i - num_at > 20 ? 20 : i - num_at), s + num_at);
        char d = s[i], u = upper(d);
        int slot = -1;
        if (!in_time) {
            if (u == 'Y' || u == 'M' || u == 'W' || u == 'D')
                slot = u == 'Y' ? D_YEAR : u == 'M' ? D_MONTH : u == 'W' ? D_WEEK : D_DAY;
            else if (u == 'H' || u == 'S')
                return fail(cx, "'%c' must come after 'T' (example: \"PT1%c\")", d, u);
        } else {
            if (u == 'H' || u == 'M' || u == 'S')
                slot = u == 'H' ? D_HOUR : u == 'M' ? D_MINUTE : D_SECOND;
            else if (u == 'Y' || u == 'W' || u == 'D')
                return fail(cx, "'%c' must come before 'T' (example: \"P1%cT1H\")", d, u);
        }
        if (slot < 0)
            return fail(cx, "unknown designator '%c'", shown_char(d));
        if (slot <= last)
            return fail(
                cx, "'%c' is repeated or out of order (the order is Y, M, W, D, T, H, M, S)", d);
        last = slot;
        if (frac && slot < D_HOUR)
            return fail(cx, "only hours, minutes and seconds may have a fraction");
        if (huge || whole > unit_limit[slot])
            return fail(cx, "the '%c' value is too large (durations are limited to 10000 years)",
                        d);
        switch (slot) {
        case D_YEAR:
            months += whole * 12;
            break;
        case D_MONTH:
            months += whole;
            break;
        case D_WEEK:
            days += whole * 7;
            break;
        case D_DAY:
            days += whole;
            break;
        default:
            /* nanos * unit_ms < 1e9 * 3.6e6: no overflow */
            ms += whole * unit_ms[slot] + nanos * unit_ms[slot] / 1000000000;
            break;
        }
        i++;
    }
    if (months > MAX_MONTHS || days > MAX_DAYS || ms > MAX_DUR_MS)
        return fail(cx, "the duration is too large (durations are limited to 10000 years)");
    out->months = neg ? -months : months;
    out->days = neg ? -days : days;
    out->ms = neg ? -ms : ms;
    return BPM_OK;
}

/* t + d, or false when t, d or the result leaves the supported range. */
static bool add_parts(int64_t t, int64_t months, int64_t days, int64_t ms, int64_t *out)
{
    if (!in_range(t) || months > 2 * MAX_MONTHS || months < -2 * MAX_MONTHS ||
        days > 2 * MAX_DAYS || days < -2 * MAX_DAYS)
        return false;
    int64_t dn = floor_div(t, DAY_MS);
    int64_t tod = t - dn * DAY_MS;
    if (months != 0) {
        int64_t y;
        int m, d;
        civil_from_days(dn, &y, &m, &d);
        int64_t idx = y * 12 + (m - 1) + months;
        int64_t y2 = floor_div(idx, 12);
        int m2 = (int)(idx - y2 * 12) + 1;
        if (y2 < 1 || y2 > 9999)
            return false;
        int dim = days_in_month(y2, m2);
        dn = days_from_civil(y2, m2, d > dim ? dim : d); /* Jan 31 + P1M = Feb 28/29 */
    }
    int64_t base = (dn + days) * DAY_MS + tod; /* |dn + days| < 1e7: fits */
    /* compare before adding: ms may be anything a multiplied period gives */
    if (ms > 0 ? base > BPM_TIMER_MAX_MS - ms : base < BPM_TIMER_MIN_MS - ms)
        return false;
    int64_t r = base + ms;
    if (!in_range(r))
        return false;
    *out = r;
    return true;
}

static bool mul_checked(int64_t a, int64_t k, int64_t *out)
{
    if (a != 0 && k != 0) {
        int64_t aa = a < 0 ? -a : a, kk = k < 0 ? -k : k; /* callers keep both > INT64_MIN */
        if (aa > INT64_MAX / kk)
            return false;
    }
    *out = a * k;
    return true;
}

/* anchor + k * p, with k possibly negative; false when out of range. */
static bool add_times(int64_t anchor, const bpm_timer_duration *p, int64_t k, int64_t *out)
{
    int64_t months, days, ms;
    if (!mul_checked(p->months, k, &months) || !mul_checked(p->days, k, &days) ||
        !mul_checked(p->ms, k, &ms))
        return false;
    return add_parts(anchor, months, days, ms, out);
}

/* ---- dates ------------------------------------------------------------------- */

/* `count` digits at s[*i]; with `alone`, no further digit may follow. */
static bool digits_at(const char *s, size_t n, size_t *i, int count, bool alone, int *val)
{
    int v = 0;
    for (int k = 0; k < count; k++) {
        if (*i + k >= n || !is_digit(s[*i + k]))
            return false;
        v = v * 10 + (s[*i + k] - '0');
    }
    if (alone && *i + count < n && is_digit(s[*i + count]))
        return false;
    *i += count;
    *val = v;
    return true;
}

static bool digits(const char *s, size_t n, size_t *i, int count, int *val)
{
    return digits_at(s, n, i, count, true, val);
}

#define DATE_SHAPE "expected a date like 2026-01-01 or a date and time like 2026-01-01T09:00:00Z"

static bpm_rc date_parse(const ctx *cx, const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0, msec = 0;
    if (!digits(s, n, &i, 4, &y)) {
        size_t k = 0;
        while (k < n && is_digit(s[k]))
            k++;
        if (k == 8)
            return fail(cx, "use the extended format with dashes, like 2026-01-01");
        if (k > 4)
            return fail(cx, "the year must have four digits (0001-9999)");
        return fail(cx, DATE_SHAPE);
    }
    if (i >= n || s[i++] != '-' || !digits(s, n, &i, 2, &mo) || i >= n || s[i++] != '-' ||
        !digits(s, n, &i, 2, &d))
        return fail(cx, DATE_SHAPE);
    if (y < 1)
        return fail(cx, "year 0000 is out of range 0001-9999");
    if (mo < 1 || mo > 12)
        return fail(cx, "month %d is out of range 1-12", mo);
    if (d < 1 || d > 31)
        return fail(cx, "day %d is out of range 1-31", d);
    if (d > days_in_month(y, mo))
        return fail(cx, "day %d does not exist in %s %04d", d, month_names[mo - 1], y);

    int64_t off_ms = 0;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return fail(cx, "unexpected '%c' after the date (expected 'T' and a time)",
                        shown_char(s[i]));
        i++;
        if (!digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || !digits(s, n, &i, 2, &mi))
            return fail(cx, "expected the time as hh:mm or hh:mm:ss (example: "
                            "2026-01-01T09:00:00Z)");
        if (i < n && s[i] == ':') {
            i++;
            if (!digits(s, n, &i, 2, &sec))
                return fail(cx, "expected two digits for the seconds");
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                size_t start = ++i;
                int scale = 100;
                for (; i < n && is_digit(s[i]); i++, scale /= 10)
                    msec += (s[i] - '0') * scale; /* scale reaches 0: truncated */
                if (i == start || i - start > 9)
                    return fail(cx, "a fraction of a second needs 1 to 9 digits");
            }
        }
        if (h > 24 || (h == 24 && (mi || sec || msec)))
            return fail(cx, "hour %d is out of range 0-23", h);
        if (mi > 59)
            return fail(cx, "minute %d is out of range 0-59", mi);
        if (sec > 60)
            return fail(cx, "second %d is out of range 0-59", sec);
        if (i < n) {
            char c = s[i];
            if (c == 'Z' || c == 'z') {
                i++;
            } else if (c == '+' || c == '-') {
                int oh, om = 0;
                i++;
                if (!digits_at(s, n, &i, 2, false, &oh)) /* +hhmm runs on */
                    return fail(cx, "expected the offset as +hh:mm, +hhmm or +hh");
                if (i < n && s[i] == ':') {
                    i++;
                    if (!digits(s, n, &i, 2, &om))
                        return fail(cx, "expected the offset as +hh:mm, +hhmm or +hh");
                } else if (i < n && is_digit(s[i]) && !digits(s, n, &i, 2, &om)) {
                    return fail(cx, "expected the offset as +hh:mm, +hhmm or +hh");
                }
                if (om > 59 || oh * 60 + om > 18 * 60)
                    return fail(cx, "offset %c%02d:%02d is out of range (-18:00 to +18:00)", c, oh,
                                om);
                off_ms = (oh * HOUR_MS + om * MIN_MS) * (c == '-' ? -1 : 1);
            }
            if (i < n && s[i] == '[')
                return fail(cx, "time zone names are not supported; use an offset such as "
                                "+01:00 or Z");
            if (i < n)
                return fail(cx,
                            "unexpected '%c' after the time; expected Z or an offset such "
                            "as +02:00",
                            shown_char(s[i]));
        }
    }
    /* linear on purpose: 24:00 is the next midnight, :60 the next minute */
    int64_t t = days_from_civil(y, mo, d) * DAY_MS + h * HOUR_MS + mi * MIN_MS + sec * SEC_MS +
                msec - off_ms;
    if (!in_range(t))
        return fail(cx, "the time is out of range 0001-01-01 to 9999-12-31 (UTC)");
    *out = t;
    return BPM_OK;
}

/* ---- cron ---------------------------------------------------------------------- */

typedef struct field_spec {
    const char *name;
    int min, max;
    const char *const *names; /* 3-letter names for min.. , or NULL */
    int n_names;
    int names_from; /* value of names[0] */
} field_spec;

static const char *const mon_abbr[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const dow_abbr[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW };
static const field_spec fields[6] = {
    {"second", 0, 59, NULL, 0, 0},     {"minute", 0, 59, NULL, 0, 0},
    {"hour", 0, 23, NULL, 0, 0},       {"day-of-month", 1, 31, NULL, 0, 0},
    {"month", 1, 12, mon_abbr, 12, 1}, {"day-of-week", 0, 7, dow_abbr, 7, 0},
};

/* One value at s[*i]: a number or a name. */
static bpm_rc cron_value(const ctx *cx, const field_spec *f, const char *s, size_t n, size_t *i,
                         int *out)
{
    size_t at = *i;
    if (at < n && is_digit(s[at])) {
        int64_t v = 0;
        for (; *i < n && is_digit(s[*i]); (*i)++)
            if (v < 1000)
                v = v * 10 + (s[*i] - '0');
        if (*i < n && (upper(s[*i]) == 'L' || upper(s[*i]) == 'W'))
            return fail(cx, "'%c' in the %s field is not supported", upper(s[*i]), f->name);
        if (v < f->min || v > f->max)
            return fail(cx, "%s %.*s is out of range %d-%d", f->name,
                        (int)(*i - at > 10 ? 10 : *i - at), s + at, f->min, f->max);
        *out = (int)v;
        return BPM_OK;
    }
    while (*i < n && is_alpha(s[*i]))
        (*i)++;
    size_t len = *i - at;
    if (len == 0) {
        if (at >= n)
            return fail(cx, "a value is missing in the %s field", f->name);
        return fail(cx, "unexpected '%c' in the %s field", shown_char(s[at]), f->name);
    }
    if (f->names && len == 3) {
        for (int k = 0; k < f->n_names; k++) {
            const char *nm = f->names[k];
            if (upper(s[at]) == nm[0] && upper(s[at + 1]) == nm[1] && upper(s[at + 2]) == nm[2]) {
                *out = f->names_from + k;
                return BPM_OK;
            }
        }
    }
    if ((len == 1 && (upper(s[at]) == 'L' || upper(s[at]) == 'W')) ||
        (len == 2 && upper(s[at]) == 'L' && upper(s[at + 1]) == 'W'))
        return fail(cx, "'%.*s' in the %s field is not supported", (int)len, s + at, f->name);
    if (f->names)
        return fail(cx, "unknown name \"%.*s\" in the %s field (use %s-%s or numbers)",
                    (int)(len > 20 ? 20 : len), s + at, f->name, f->names[0],
                    f->names[f->n_names - 1]);
    return fail(cx, "unexpected \"%.*s\" in the %s field (numbers only)",
                (int)(len > 20 ? 20 : len), s + at, f->name);
}

static bpm_rc cron_field(const ctx *cx, int which, const char *s, size_t n, uint64_t *out)
{
    const field_spec *f = &fields[which];
    uint64_t bits = 0;
    size_t i = 0;
    for (;;) {
        size_t item = i;
        while (i < n && s[i] != ',')
            i++;
        size_t end = i, j = item;
        if (end == item)
            return fail(cx, "empty list item in the %s field", f->name);
        for (size_t k = item; k < end; k++)
            if (s[k] == '#')
                return fail(cx, "'#' in the %s field is not supported", f->name);
        int lo, hi, step = 1;
        if (s[j] == '*' || s[j] == '?') {
            if (s[j] == '?' && which != F_DOM && which != F_DOW)
                return fail(cx, "'?' is allowed only in the day-of-month and day-of-week fields");
            if (s[j] == '?' && end - item != 1)
                return fail(cx, "'?' must stand alone in the %s field", f->name);
            /* Spring numbers weekdays 1-7 from Monday, so a step over "*" starts on Monday */
            lo = which == F_DOW ? 1 : f->min;
            hi = f->max;
            j++;
        } else {
            bpm_rc rc = cron_value(cx, f, s, end, &j, &lo);
            if (rc)
                return rc;
            hi = lo;
            if (j < end && s[j] == '-') {
                j++;
                if ((rc = cron_value(cx, f, s, end, &j, &hi)))
                    return rc;
                if (hi < lo)
                    return fail(cx,
                                "range %d-%d in the %s field goes backwards; write the "
                                "lower value first",
                                lo, hi, f->name);
            } else if (j < end && s[j] == '/') {
                hi = f->max; /* "a/n" = from a to the maximum, every n */
            }
        }
        if (j < end && s[j] == '/') {
            j++;
            if (j >= end || !is_digit(s[j]))
                return fail(cx, "a step in the %s field needs a number after '/'", f->name);
            int64_t v = 0;
            for (; j < end && is_digit(s[j]); j++)
                if (v < 100000)
                    v = v * 10 + (s[j] - '0');
            if (v < 1)
                return fail(cx, "step 0 in the %s field must be at least 1", f->name);
            step = v > 1000 ? 1000 : (int)v;
        }
        if (j < end)
            return fail(cx, "unexpected '%c' in the %s field", shown_char(s[j]), f->name);
        for (int v = lo; v <= hi; v += step)
            bits |= 1ULL << (which == F_DOW && v == 7 ? 0 : v);
        if (i >= n)
            break;
        i++; /* the ',' */
        if (i >= n)
            return fail(cx, "empty list item in the %s field", f->name);
    }
    *out = bits;
    return BPM_OK;
}

static const struct {
    const char *name;
    const char *expr;
} cron_macros[] = {
    {"@yearly", "0 0 0 1 1 *"}, {"@annually", "0 0 0 1 1 *"}, {"@monthly", "0 0 0 1 * *"},
    {"@weekly", "0 0 0 * * 0"}, {"@daily", "0 0 0 * * *"},    {"@midnight", "0 0 0 * * *"},
    {"@hourly", "0 0 * * * *"},
};

static bpm_rc cron_parse(const ctx *cx, const char *s, size_t n, bpm_timer_cron *out)
{
    if (n > 0 && s[0] == '@') {
        for (size_t k = 0; k < sizeof cron_macros / sizeof cron_macros[0]; k++) {
            size_t ml = strlen(cron_macros[k].name);
            bool eq = ml == n;
            for (size_t c = 0; eq && c < n; c++)
                eq = upper(s[c]) == upper(cron_macros[k].name[c]);
            if (eq)
                return cron_parse(cx, cron_macros[k].expr, strlen(cron_macros[k].expr), out);
        }
        return fail(cx, "unknown macro (use @yearly, @monthly, @weekly, @daily or @hourly)");
    }
    const char *fs[8] = {0};
    size_t fl[8] = {0};
    int nf = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n)
            break;
        size_t at = i;
        while (i < n && !is_space(s[i]))
            i++;
        if (nf < 8) {
            fs[nf] = s + at;
            fl[nf] = i - at;
        }
        nf++;
    }
    if (nf != 5 && nf != 6)
        return fail(cx,
                    "expected 6 fields (second minute hour day-of-month month day-of-week) "
                    "or 5 (minute hour day-of-month month day-of-week), found %d%s",
                    nf, nf == 7 ? "; a year field is not supported" : "");
    uint64_t bits[6];
    int skip = nf == 5 ? 1 : 0;
    bits[F_SEC] = 1; /* five Unix fields: at second 0 */
    for (int k = skip; k < 6; k++) {
        bpm_rc rc = cron_field(cx, k, fs[k - skip], fl[k - skip], &bits[k]);
        if (rc)
            return rc;
    }
    /* With dom and months both fixed a cron can name a day that never exists;
     * reject it here so the search never runs dry. Feb counts as 29 days:
     * any real date falls on every weekday within a 400-year cycle. */
    bool possible = false;
    for (int m = 1; m <= 12 && !possible; m++) {
        if (!(bits[F_MON] >> m & 1))
            continue;
        int dim = m == 2 ? 29 : days_in_month(2001, m);
        for (int d = 1; d <= dim && !possible; d++)
            possible = bits[F_DOM] >> d & 1;
    }
    if (!possible)
        return fail(cx, "it never fires: the days of the month it names do not exist in the "
                        "months it names");
    out->seconds = bits[F_SEC];
    out->minutes = bits[F_MIN];
    out->hours = (uint32_t)bits[F_HOUR];
    out->days_of_month = (uint32_t)bits[F_DOM];
    out->months = (uint16_t)bits[F_MON];
    out->days_of_week = (uint8_t)bits[F_DOW];
    return BPM_OK;
}

/* Smallest set bit >= from (up to max), or -1. */
static int next_bit(uint64_t set, int from, int max)
{
    for (int b = from; b <= max; b++)
        if (set >> b & 1)
            return b;
    return -1;
}

bool bpm_timer_cron_next(const bpm_timer_cron *c, int64_t after_ms, int64_t *out_ms)
{
    if (!c || !c->months || !c->days_of_month || !c->days_of_week || !c->hours || !c->minutes ||
        !c->seconds)
        return false;
    if (after_ms < BPM_TIMER_MIN_MS)
        after_ms = BPM_TIMER_MIN_MS - 1;
    if (after_ms >= BPM_TIMER_MAX_MS)
        return false;
    int64_t t = floor_div(after_ms, SEC_MS) * SEC_MS + SEC_MS; /* strictly after */
    int64_t dn = floor_div(t, DAY_MS), y;
    int64_t sod = (t - dn * DAY_MS) / SEC_MS;
    int mo, d, h = (int)(sod / 3600), mi = (int)(sod / 60 % 60), s = (int)(sod % 60);
    civil_from_days(dn, &y, &mo, &d);
    int64_t last_year = y + CRON_SEARCH_YEARS;
    if (last_year > 9999)
        last_year = 9999;
    /* Each pass fixes the largest field that does not match and resets the
     * smaller ones; carries ripple up at the top of the loop. */
    for (;;) {
        if (s > 59) {
            s = 0;
            mi++;
        }
        if (mi > 59) {
            mi = 0;
            h++;
        }
        if (h > 23) {
            h = 0;
            d++;
        }
        if (d > days_in_month(y, mo)) {
            d = 1;
            mo++;
        }
        if (mo > 12) {
            mo = 1;
            y++;
        }
        if (y > last_year)
            return false;
        if (!(c->months >> mo & 1)) {
            int nm = next_bit(c->months, mo + 1, 12);
            if (nm < 0) {
                y++;
                nm = next_bit(c->months, 1, 12);
            }
            mo = nm;
            d = 1;
            h = mi = s = 0;
            continue;
        }
        if (!(c->days_of_month >> d & 1) ||
            !(c->days_of_week >> weekday(days_from_civil(y, mo, d)) & 1)) {
            d++;
            h = mi = s = 0;
            continue;
        }
        if (!(c->hours >> h & 1)) {
            int nh = next_bit(c->hours, h + 1, 23);
            h = nh < 0 ? 24 : nh;
            mi = s = 0;
            continue;
        }
        if (!(c->minutes >> mi & 1)) {
            int nm = next_bit(c->minutes, mi + 1, 59);
            mi = nm < 0 ? 60 : nm;
            s = 0;
            continue;
        }
        if (!(c->seconds >> s & 1)) {
            int ns = next_bit(c->seconds, s + 1, 59);
            s = ns < 0 ? 60 : ns;
            continue;
        }
        break;
    }
    *out_ms = days_from_civil(y, mo, d) * DAY_MS + h * HOUR_MS + mi * MIN_MS + s * SEC_MS;
    return true;
}

/* ---- cycles ------------------------------------------------------------------------- */

static bool looks_like_duration(const char *s, size_t n)
{
    return (n > 0 && upper(s[0]) == 'P') || (n > 1 && s[0] == '-' && upper(s[1]) == 'P');
}

static bool positive(const bpm_timer_duration *d)
{
    return d->months >= 0 && d->days >= 0 && d->ms >= 0 && (d->months || d->days || d->ms);
}

static bpm_rc iso_cycle_parse(const ctx *cx, const char *s, size_t n, bpm_timer_cycle *out)
{
    bpm_timer_cycle c = {.form = BPM_TIMER_CYCLE_ISO, .repeat = -1};
    size_t i = 1;
    if (i < n && is_digit(s[i])) {
        int64_t r = 0;
        for (; i < n && is_digit(s[i]); i++)
            if (r <= MAX_REPEAT)
                r = r * 10 + (s[i] - '0');
        if (r > MAX_REPEAT)
            return fail(cx, "the repetition count is too large (at most %lld)", MAX_REPEAT);
        c.repeat = r;
    }
    if (i >= n || s[i] != '/')
        return fail(cx, "expected '/' after the repetition count (examples: \"R5/PT10M\", "
                        "\"R/P1D\")");
    i++;
    const char *part[3];
    size_t len[3];
    int np = 0;
    for (;;) {
        size_t at = i;
        while (i < n && s[i] != '/')
            i++;
        if (np == 2)
            return fail(cx, "too many '/' parts: expected R/period, R/start/period, "
                            "R/period/end or R/start/end");
        part[np] = s + at;
        len[np] = i - at;
        np++;
        if (i >= n)
            break;
        i++;
    }
    bpm_rc rc;
    if (np == 1) {
        if (!looks_like_duration(part[0], len[0]))
            return fail(cx, "a repeating interval needs a period (example: "
                            "\"R/2026-01-01T09:00:00Z/P1D\")");
        if ((rc = dur_parse(cx, part[0], len[0], &c.period)))
            return rc;
    } else {
        bool d0 = looks_like_duration(part[0], len[0]);
        bool d1 = looks_like_duration(part[1], len[1]);
        if (d0 && d1)
            return fail(cx, "a repeating interval cannot have two periods");
        if (!d0) {
            c.has_start = true;
            if ((rc = date_parse(cx, part[0], len[0], &c.start_ms)))
                return rc;
        } else if ((rc = dur_parse(cx, part[0], len[0], &c.period))) {
            return rc;
        }
        if (!d1) {
            c.has_end = true;
            if ((rc = date_parse(cx, part[1], len[1], &c.end_ms)))
                return rc;
        } else if ((rc = dur_parse(cx, part[1], len[1], &c.period))) {
            return rc;
        }
        if (c.has_start && c.has_end) {
            if (c.end_ms <= c.start_ms)
                return fail(cx, "the end must be after the start");
            c.period = (bpm_timer_duration){.ms = c.end_ms - c.start_ms};
        }
    }
    if (!positive(&c.period))
        return fail(cx, "the period must be longer than zero");
    *out = c;
    return BPM_OK;
}

static bpm_rc cycle_parse(const ctx *cx, const char *s, size_t n, bpm_timer_cycle *out)
{
    if (n == 0)
        return fail(cx, "the value is empty (examples: \"R5/PT10M\", \"0 0 9 * * MON-FRI\")");
    if (upper(s[0]) == 'R' && (n == 1 || s[1] == '/' || is_digit(s[1])))
        return iso_cycle_parse(cx, s, n, out);
    bool spaced = s[0] == '@';
    for (size_t k = 0; k < n && !spaced; k++)
        spaced = is_space(s[k]);
    if (spaced) {
        bpm_timer_cycle c = {.form = BPM_TIMER_CYCLE_CRON};
        bpm_rc rc = cron_parse(cx, s, n, &c.cron);
        if (rc)
            return rc;
        *out = c;
        return BPM_OK;
    }
    if (looks_like_duration(s, n))
        return fail(cx,
                    "a cycle needs \"R\": write \"R/%.*s\" to repeat forever or "
                    "\"R3/%.*s\" for three times",
                    (int)(n > 40 ? 40 : n), s, (int)(n > 40 ? 40 : n), s);
    return fail(cx, "a cycle needs \"R\" (examples: \"R5/PT10M\", "
                    "\"R/2026-01-01T09:00:00Z/P1D\") or a cron expression (example: "
                    "\"0 0 9 * * MON-FRI\")");
}

/* Occurrence k of a cycle is anchor + mult(k) * period, with mult(k) =
 * k + offset going forwards and k - offset going backwards (R<n>/P/end, whose
 * last occurrence k = offset sits on the end). Computing each occurrence from
 * the anchor lets a binary search find the next one in O(log k) even for
 * "R/PT1S" that started years ago. */
typedef struct occ {
    const bpm_timer_cycle *c;
    int64_t anchor, offset, now;
    bool backwards;
} occ;

/* Occurrence k; *t unset and false when outside the range. */
static bool occ_time(const occ *o, int64_t k, int64_t *t)
{
    int64_t mult = o->backwards ? -(o->offset - k) : k + o->offset;
    return add_times(o->anchor, &o->c->period, mult, t);
}

/* Whether occurrence k is after now; out of range counts as "later" going
 * forwards and "earlier" going backwards, which keeps the predicate monotone. */
static bool occ_after(const occ *o, int64_t k)
{
    int64_t t;
    if (!occ_time(o, k, &t))
        return !o->backwards ? true : (o->offset - k) < 0;
    return t > o->now;
}

/* Smallest k in [lo, hi] whose occurrence is after now (hi + 1 if none). */
static int64_t first_after(const occ *o, int64_t lo, int64_t hi)
{
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (occ_after(o, mid))
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return lo;
}

static bpm_rc iso_next(const ctx *cx, const bpm_timer_cycle *c, int64_t now, int64_t start,
                       uint32_t fired, int64_t *due, bool *done)
{
    if (!positive(&c->period) || c->period.months > MAX_MONTHS || c->period.days > MAX_DAYS ||
        c->period.ms > MAX_DUR_MS)
        return fail(cx, "the period must be longer than zero and at most 10000 years");
    occ o = {.c = c, .now = now};
    int64_t lo = fired, hi = c->repeat < 0 ? MAX_MULT : c->repeat - 1;
    if (c->has_start) {
        o.anchor = c->start_ms;
    } else if (c->has_end) {
        o.anchor = c->end_ms;
        o.backwards = true;
        if (c->repeat < 0) {
            /* R/P/end: an endless past; occurrence j is end - j*P. The
             * latest one that is not after now bounds the next from below. */
            o.offset = MAX_MULT;
            lo = 0;
            hi = MAX_MULT;
        } else {
            o.offset = c->repeat - 1;
        }
    } else {
        o.anchor = start;
        o.offset = 1; /* the first occurrence is one period after activation */
    }
    *done = true;
    if (lo > hi)
        return BPM_OK;
    int64_t k = first_after(&o, lo, hi);
    if (k > hi || !occ_time(&o, k, due))
        return BPM_OK;
    *done = false;
    return BPM_OK;
}

static bpm_rc cycle_next(const ctx *cx, const bpm_timer_cycle *c, int64_t now_ms, int64_t start_ms,
                         uint32_t fired, int64_t *out_due_ms, bool *out_done)
{
    if (!in_range(now_ms) || !in_range(start_ms))
        return bpm_err_set(cx->err, BPM_INVALID,
                           "timer current or start time is out of range (years 0001-9999 UTC)");
    int64_t due = INT64_MAX;
    bool done = true;
    if (c->form == BPM_TIMER_CYCLE_CRON) {
        done = !bpm_timer_cron_next(&c->cron, now_ms, &due);
    } else if (c->form == BPM_TIMER_CYCLE_ISO) {
        bpm_rc rc = iso_next(cx, c, now_ms, start_ms, fired, &due, &done);
        if (rc)
            return rc;
    } else {
        return fail(cx, "unknown cycle form %d", (int)c->form);
    }
    if (out_due_ms)
        *out_due_ms = done ? INT64_MAX : due;
    if (out_done)
        *out_done = done;
    return BPM_OK;
}

bpm_rc bpm_timer_cycle_next(const bpm_timer_cycle *c, int64_t now_ms, int64_t start_ms,
                            uint32_t fired, int64_t *out_due_ms, bool *out_done, bpm_err *err)
{
    ctx cx = {err, "timer cycle", "(parsed)"};
    if (!c)
        return bpm_err_set(err, BPM_INVALID, "invalid timer cycle: the value is missing");
    return cycle_next(&cx, c, now_ms, start_ms, fired, out_due_ms, out_done);
}

/* ---- entry points ------------------------------------------------------------------ */

static bool open_value(const char *value, const char *what, bpm_err *err, const char **s, size_t *n,
                       ctx *cx)
{
    cx->err = err;
    cx->what = what;
    cx->value = value ? value : "";
    if (!value) {
        bpm_err_set(err, BPM_INVALID, "invalid %s: the value is missing", what);
        return false;
    }
    trim(value, s, n);
    return true;
}

bpm_rc bpm_timer_parse_duration(const char *value, bpm_timer_duration *out, bpm_err *err)
{
    const char *s;
    size_t n;
    ctx cx;
    if (!open_value(value, "ISO 8601 duration", err, &s, &n, &cx))
        return BPM_INVALID;
    bpm_timer_duration d;
    bpm_rc rc = dur_parse(&cx, s, n, &d);
    if (rc == BPM_OK && out)
        *out = d;
    return rc;
}

bpm_rc bpm_timer_parse_date(const char *value, int64_t *out_ms, bpm_err *err)
{
    const char *s;
    size_t n;
    ctx cx;
    if (!open_value(value, "ISO 8601 date", err, &s, &n, &cx))
        return BPM_INVALID;
    int64_t t;
    bpm_rc rc = date_parse(&cx, s, n, &t);
    if (rc == BPM_OK && out_ms)
        *out_ms = t;
    return rc;
}

bpm_rc bpm_timer_parse_cron(const char *value, bpm_timer_cron *out, bpm_err *err)
{
    const char *s;
    size_t n;
    ctx cx;
    if (!open_value(value, "cron expression", err, &s, &n, &cx))
        return BPM_INVALID;
    bpm_timer_cron c;
    bpm_rc rc = cron_parse(&cx, s, n, &c);
    if (rc == BPM_OK && out)
        *out = c;
    return rc;
}

bpm_rc bpm_timer_parse_cycle(const char *value, bpm_timer_cycle *out, bpm_err *err)
{
    const char *s;
    size_t n;
    ctx cx;
    if (!open_value(value, "timer cycle", err, &s, &n, &cx))
        return BPM_INVALID;
    bpm_timer_cycle c;
    bpm_rc rc = cycle_parse(&cx, s, n, &c);
    if (rc == BPM_OK && out)
        *out = c;
    return rc;
}

bpm_rc bpm_timer_add(int64_t t_ms, const bpm_timer_duration *d, int64_t *out_ms, bpm_err *err)
{
    int64_t r;
    if (!d)
        return bpm_err_set(err, BPM_INVALID, "invalid timer duration: the value is missing");
    if (!add_parts(t_ms, d->months, d->days, d->ms, &r))
        return bpm_err_set(err, BPM_INVALID,
                           "timer due time is out of range (years 0001-9999 UTC)");
    if (out_ms)
        *out_ms = r;
    return BPM_OK;
}

bpm_rc bpm_timer_next_due(bpm_timer_kind kind, const char *value, int64_t now_ms, int64_t start_ms,
                          uint32_t fired, int64_t *out_due_ms, bool *out_done, bpm_err *err)
{
    int64_t due = INT64_MAX;
    bool done = fired > 0;
    bpm_rc rc;
    switch (kind) {
    case BPM_TIMER_DATE: {
        int64_t t;
        if ((rc = bpm_timer_parse_date(value, &t, err)))
            return rc;
        due = t;
        break;
    }
    case BPM_TIMER_DURATION: {
        bpm_timer_duration d;
        if ((rc = bpm_timer_parse_duration(value, &d, err)))
            return rc;
        if (!in_range(start_ms))
            return bpm_err_set(err, BPM_INVALID,
                               "timer start time is out of range (years 0001-9999 UTC)");
        if (!add_parts(start_ms, d.months, d.days, d.ms, &due)) {
            char q[72];
            show(value, q, sizeof q);
            return bpm_err_set(err, BPM_INVALID,
                               "invalid timer duration \"%s\": the due time would be after "
                               "year 9999 or before year 0001",
                               q);
        }
        break;
    }
    case BPM_TIMER_CYCLE: {
        bpm_timer_cycle c;
        if ((rc = bpm_timer_parse_cycle(value, &c, err)))
            return rc;
        ctx cx = {err, "timer cycle", value};
        return cycle_next(&cx, &c, now_ms, start_ms, fired, out_due_ms, out_done);
    }
    default:
        return bpm_err_set(err, BPM_INVALID, "unknown timer kind %d", (int)kind);
    }
    if (out_due_ms)
        *out_due_ms = done ? INT64_MAX : due;
    if (out_done)
        *out_done = done;
    return BPM_OK;
}

bpm_rc bpm_timer_check(bpm_timer_kind kind, const char *value, bpm_err *err)
{
    switch (kind) {
    case BPM_TIMER_DATE:
        return bpm_timer_parse_date(value, NULL, err);
    case BPM_TIMER_DURATION:
        return bpm_timer_parse_duration(value, NULL, err);
    case BPM_TIMER_CYCLE:
        return bpm_timer_parse_cycle(value, NULL, err);
    }
    return bpm_err_set(err, BPM_INVALID, "unknown timer kind %d", (int)kind);
}

/* ---- formatting ------------------------------------------------------------------- */

static size_t format_ms(int64_t ms, char *buf, size_t n, const char *zone)
{
    if (!buf || n == 0)
        return 0;
    buf[0] = '\0';
    if (!in_range(ms))
        return 0;
    int64_t dn = floor_div(ms, DAY_MS), y;
    int64_t rest = ms - dn * DAY_MS;
    int mo, d;
    civil_from_days(dn, &y, &mo, &d);
    int len = snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", (int)y, mo, d,
                       (int)(rest / HOUR_MS), (int)(rest / MIN_MS % 60), (int)(rest / SEC_MS % 60),
                       (int)(rest % SEC_MS), zone);
    if (len < 0 || (size_t)len >= n) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)len;
}

size_t bpm_timer_format_iso(int64_t ms, char *buf, size_t n)
{
    return format_ms(ms, buf, n, "Z");
}

size_t bpm_timer_format_rest(int64_t ms, char *buf, size_t n)
{
    return format_ms(ms, buf, n, "+0000");
}
