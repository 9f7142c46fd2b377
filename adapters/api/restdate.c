/* Dates on the Camunda 7 REST wire. The shape is checked here, strictly;
 * the calendar work (days per month, offsets, range) is engine/timer.c's. */
#include "restdate.h"

#include <stdbool.h>
#include <string.h>

#include "quote.h"

#define SHAPE "expected yyyy-MM-dd'T'HH:mm:ss.SSSZ, for example 2013-01-23T13:42:42.657+0200"

size_t bpm_restdate_format(int64_t ms, char out[BPM_RESTDATE_SIZE])
{
    return bpm_timer_format_rest(ms, out, BPM_RESTDATE_SIZE);
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* n digits at s[*i]; advances *i */
static bool digits(const char *s, size_t *i, int n)
{
    for (int k = 0; k < n; k++, (*i)++)
        if (!digit(s[*i]))
            return false;
    return true;
}

static bool lit(const char *s, size_t *i, char c)
{
    if (s[*i] != c)
        return false;
    (*i)++;
    return true;
}

static bpm_rc bad(bpm_err *err, const char *s, const char *reason)
{
    char q[BPM_QUOTE_SIZE];
    return bpm_err_set(err, BPM_BAD_REQUEST, "Cannot parse date '%s': %s",
                       bpm_quote_str(s, q, sizeof q), reason);
}

bpm_rc bpm_restdate_parse(const char *s, int64_t *ms, bpm_err *err)
{
    if (!s)
        return bpm_err_set(err, BPM_BAD_REQUEST, "Cannot parse date: the value is missing");
    /* Longest accepted: 19 + '.' + 9 digits + "+hh:mm" = 35. Checking the
     * length first keeps every index below within the string. */
    size_t len = strlen(s);
    if (len < 20 || len > 35)
        return bad(err, s, SHAPE);
    size_t i = 0;
    if (!(digits(s, &i, 4) && lit(s, &i, '-') && digits(s, &i, 2) && lit(s, &i, '-') &&
          digits(s, &i, 2) && lit(s, &i, 'T') && digits(s, &i, 2) && lit(s, &i, ':') &&
          digits(s, &i, 2) && lit(s, &i, ':') && digits(s, &i, 2)))
        return bad(err, s, SHAPE);
    if (s[i] == '.') {
        size_t start = ++i;
        while (digit(s[i]))
            i++;
        if (i == start || i - start > 9)
            return bad(err, s, "the fraction of a second needs 1 to 9 digits");
    }
    char norm[40];
    memcpy(norm, s, len + 1);
    if (s[i] == 'Z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-' || s[i] == ' ') {
        /* '+' arrives as ' ' when a query string was not URL-encoded */
        if (s[i] == ' ')
            norm[i] = '+';
        i++;
        if (!digits(s, &i, 2))
            return bad(err, s, "expected the offset as +hhmm, +hh:mm or Z");
        lit(s, &i, ':');
        if (!digits(s, &i, 2))
            return bad(err, s, "expected the offset as +hhmm, +hh:mm or Z");
    } else if (s[i] == '\0') {
        return bad(err, s, "the UTC offset is missing (add +0000 or Z)");
    } else {
        return bad(err, s, SHAPE);
    }
    if (s[i] != '\0')
        return bad(err, s, SHAPE);

    bpm_err terr = {0};
    int64_t t;
    if (bpm_timer_parse_date(norm, &t, &terr) != BPM_OK) {
        /* The timer message is `invalid ISO 8601 date "<value>": <reason>`;
         * the value holds no '"' (the shape check above), so the reason is
         * what follows the first quote-colon. */
        const char *reason = strstr(terr.msg, "\": ");
        return bad(err, s, reason ? reason + 3 : "the date is out of range");
    }
    if (ms)
        *ms = t;
    return BPM_OK;
}
