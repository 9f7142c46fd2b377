/* Time arithmetic for BPMN timers: ISO 8601 dates, durations and repeating
 * intervals, and Spring-style cron cycles, in UTC milliseconds. Pure: time is
 * always an input, nothing here reads a clock. Thread safe (no state). */
#ifndef BPM_TIMER_H
#define BPM_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model.h" /* bpm_timer_kind */

/* The supported range: 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z.
 * Every parsed date and every computed due time lies inside it. */
#define BPM_TIMER_MIN_MS (-62135596800000LL)
#define BPM_TIMER_MAX_MS 253402300799999LL

/* Buffer sizes, NUL included, for the two formatters. */
#define BPM_TIMER_ISO_SIZE 25  /* "2026-01-01T09:00:00.000Z" */
#define BPM_TIMER_REST_SIZE 29 /* "2026-01-01T09:00:00.000+0000" */

/* A parsed ISO 8601 duration, kept in three parts because they add
 * differently: months on the calendar (clamping the day), days as 24 h,
 * ms exactly. Years are folded into months, weeks into days. All parts have
 * the sign of the duration; each is bounded to about 10000 years. */
typedef struct bpm_timer_duration {
    int64_t months;
    int64_t days;
    int64_t ms;
} bpm_timer_duration;

/* A parsed cron expression: one bit per allowed value. */
typedef struct bpm_timer_cron {
    uint64_t seconds;       /* bits 0-59 */
    uint64_t minutes;       /* bits 0-59 */
    uint32_t hours;         /* bits 0-23 */
    uint32_t days_of_month; /* bits 1-31 */
    uint16_t months;        /* bits 1-12 */
    uint8_t days_of_week;   /* bits 0-6, 0 = Sunday */
} bpm_timer_cron;

typedef enum bpm_timer_cycle_form {
    BPM_TIMER_CYCLE_ISO = 1, /* R<n>/... repeating interval */
    BPM_TIMER_CYCLE_CRON,    /* cron expression or @macro */
} bpm_timer_cycle_form;

/* A parsed timeCycle. For ISO cycles the occurrences are anchored:
 * - R<n>/P           at the timer's start + P, + 2P, ... (start = activation)
 * - R<n>/start/P     at start, start + P, ...
 * - R<n>/start/end   as R<n>/start/P with P = end - start (exact ms)
 * - R<n>/P/end       at ..., end - P, end: the last occurrence is at end
 * Occurrence k is computed as anchor + k*P from the anchor, not by adding P
 * repeatedly, so month clamping does not drift (Jan 31, Feb 28, Mar 31). */
typedef struct bpm_timer_cycle {
    bpm_timer_cycle_form form;
    int64_t repeat;            /* ISO: n of R<n> (0 allowed: never fires); -1 = "R" */
    bool has_start;            /* ISO: a start date was given */
    bool has_end;              /* ISO: an end date was given */
    int64_t start_ms;          /* valid when has_start */
    int64_t end_ms;            /* valid when has_end */
    bpm_timer_duration period; /* ISO: always > 0 */
    bpm_timer_cron cron;       /* CRON */
} bpm_timer_cycle;

/* Every parser below trims leading and trailing ASCII white space (BPMN
 * element text often carries newlines), writes *out only on success, and
 * returns BPM_OK, or BPM_INVALID with err->msg naming the value and the
 * reason, e.g. `invalid ISO 8601 duration "P1X": unknown designator 'X'`.
 * value is borrowed; NULL is reported as BPM_INVALID. */

/* ISO 8601 duration: [-]PnYnMnWnDTnHnMnS, any subset in that order, with
 * at least one value; designators are case-insensitive. Only the last value
 * may have a fraction ('.' or ','), and only hours, minutes or seconds;
 * fractions finer than a millisecond are truncated. Values above 10000
 * years (per part and in total) are rejected, so huge numbers never
 * overflow. A zero duration ("PT0S") is valid. */
bpm_rc bpm_timer_parse_duration(const char *value, bpm_timer_duration *out, bpm_err *err);

/* ISO 8601 extended date or date-time, to ms since the epoch (UTC):
 *   2026-01-01                      midnight UTC
 *   2026-01-01T09:00[:00[.123]]     no offset: taken as UTC (the engine has
 *                                   no server time zone to fall back on)
 *   ...Z | +02:00 | +0200 | +02     offset, up to +-18:00
 * 'T' may also be 't' or a space. Fractions of 1-9 digits are truncated to
 * ms. Seconds may be 60 (a leap second counts as the next minute's :00) and
 * T24:00[:00] means the end of that day. Zone names ("[Europe/Berlin]") and
 * the basic format (20260101T0900Z) are rejected. Years 0001-9999. */
bpm_rc bpm_timer_parse_date(const char *value, int64_t *out_ms, bpm_err *err);

/* Spring-style cron, as Camunda 8 accepts it: six fields (second minute
 * hour day-of-month month day-of-week), or five Unix fields (second 0), or
 * a macro @yearly @annually @monthly @weekly @daily @midnight @hourly.
 * Fields take *, ?, n, a-b, lists a,b and steps a-b/n, a/n or a star
 * followed by /n; month names JAN-DEC and day names SUN-SAT, case-insensitive;
 * day-of-week 0-7 with 0 and 7 = Sunday.
 * As in Spring (and unlike Vixie cron), when both day-of-month and
 * day-of-week are restricted, a day must match BOTH; and a step over a
 * day-of-week "*" counts from Monday (Spring numbers days 1-7 from Monday),
 * so "* / 2" there means MON,WED,FRI,SUN. L, W and # are rejected as not
 * supported, as are expressions that can never fire (e.g. 30 February). */
bpm_rc bpm_timer_parse_cron(const char *value, bpm_timer_cron *out, bpm_err *err);

/* timeCycle: an ISO 8601 repeating interval (R<n>/..., the four forms above;
 * "R" without n repeats forever) or a cron expression (bpm_timer_parse_cron).
 * A plain duration or date is rejected: a cycle needs "R". The period must
 * be greater than zero, and for R/start/end the end must follow the start. */
bpm_rc bpm_timer_parse_cycle(const char *value, bpm_timer_cycle *out, bpm_err *err);

/* *out_ms = t_ms + d, calendar-aware in UTC: months first (the day is
 * clamped to the target month: Jan 31 + P1M = Feb 28 or 29), then days as
 * 24 h, then the exact ms. Returns BPM_INVALID when t_ms or the result is
 * outside BPM_TIMER_MIN_MS..BPM_TIMER_MAX_MS. d is borrowed. */
bpm_rc bpm_timer_add(int64_t t_ms, const bpm_timer_duration *d, int64_t *out_ms, bpm_err *err);

/* First whole second strictly after after_ms matching c (UTC). Returns false,
 * leaving *out_ms alone, when there is none before the end of year 9999.
 * The search is bounded (at most 400 years, one Gregorian cycle, which holds
 * every date/weekday combination), so it always terminates. */
bool bpm_timer_cron_next(const bpm_timer_cron *c, int64_t after_ms, int64_t *out_ms);

/* Next occurrence of a parsed cycle strictly after now_ms.
 * start_ms is when the timer was activated (the anchor of R<n>/P);
 * fired is how many times this timer has fired already. For bounded ISO
 * cycles the occurrence index is at least `fired` and below n; occurrences
 * missed while nobody was asking (at or before now_ms) are skipped, not
 * replayed, and still count towards n. Cron cycles ignore start_ms and fired.
 * On BPM_OK *out_done is written; when false, *out_due_ms holds the due time;
 * when true (R<n> exhausted, the end date passed, or no occurrence before
 * year 10000) *out_due_ms is set to INT64_MAX. BPM_INVALID when now_ms or
 * start_ms is out of range or c is malformed. c is borrowed. */
bpm_rc bpm_timer_cycle_next(const bpm_timer_cycle *c, int64_t now_ms, int64_t start_ms,
                            uint32_t fired, int64_t *out_due_ms, bool *out_done, bpm_err *err);

/* The engine's entry point: parses value as a timer of the given kind and
 * computes its next due time.
 *   DATE      the date itself, even when it is in the past (whether that
 *             means "due now" is the caller's decision)
 *   DURATION  start_ms + the duration (bpm_timer_add)
 *   CYCLE     bpm_timer_cycle_next(now_ms, start_ms, fired)
 * DATE and DURATION fire once: with fired > 0 they report *out_done = true.
 * Outputs as in bpm_timer_cycle_next. Returns BPM_OK or BPM_INVALID (bad
 * value, unknown kind, or a due time outside the supported range). */
bpm_rc bpm_timer_next_due(bpm_timer_kind kind, const char *value, int64_t now_ms, int64_t start_ms,
                          uint32_t fired, int64_t *out_due_ms, bool *out_done, bpm_err *err);

/* Validation only, for literal timer values in a model: BPM_OK when value
 * parses as the given kind, else BPM_INVALID with the parser's message. */
bpm_rc bpm_timer_check(bpm_timer_kind kind, const char *value, bpm_err *err);

/* Writes ms as "2026-01-01T09:00:00.000Z" (ISO) or as Camunda's REST form
 * "2026-01-01T09:00:00.000+0000". Returns the length written, or 0 (buf set
 * to "" when n > 0) if ms is out of range or n is too small: use
 * BPM_TIMER_ISO_SIZE / BPM_TIMER_REST_SIZE. */
size_t bpm_timer_format_iso(int64_t ms, char *buf, size_t n);
size_t bpm_timer_format_rest(int64_t ms, char *buf, size_t n);

#endif
