/* Dates on the Camunda 7 REST wire: yyyy-MM-dd'T'HH:mm:ss.SSSZ, e.g.
 * 2013-01-23T13:42:42.657+0200 (Java's Z: an offset without a colon). We
 * always write UTC; we read any offset. Pure, thread safe. */
#ifndef BPM_RESTDATE_H
#define BPM_RESTDATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "timer.h"

/* "2026-01-01T09:00:00.000+0000" and its NUL. */
#define BPM_RESTDATE_SIZE BPM_TIMER_REST_SIZE

/* Writes ms (UTC milliseconds since the epoch) as
 * "yyyy-MM-ddTHH:mm:ss.SSS+0000". Returns the length (28), or 0 with out set
 * to "" when ms lies outside years 0001-9999 (BPM_TIMER_MIN_MS..MAX_MS). */
size_t bpm_restdate_format(int64_t ms, char out[BPM_RESTDATE_SIZE]);

/* Reads a REST date into UTC milliseconds. Accepted, and nothing else:
 *   2013-01-23T13:42:42.657+0200   the format Camunda writes
 *   2013-01-23T13:42:42.657+02:00  offset with a colon (ISO 8601)
 *   2013-01-23T13:42:42.657Z       UTC
 *   2013-01-23T13:42:42+0200       without the fraction
 *   2013-01-23T13:42:42.657 0200   a space where '+' was: clients forget to
 *                                  URL-encode '+' in query strings
 * The fraction has 1 to 9 digits (truncated to ms). An offset is required:
 * Camunda rejects dates without one, and guessing a zone would be worse.
 * Dates and offsets are range-checked by bpm_timer_parse_date (Feb 30 and
 * +19:00 are errors). s is borrowed; *ms is written only on success.
 * Returns BPM_OK, or BPM_BAD_REQUEST with a message that quotes the value:
 *   Cannot parse date '2013-01-23': expected yyyy-MM-dd'T'HH:mm:ss.SSSZ ...
 * (msg is meant for the REST error body; see README.md). */
bpm_rc bpm_restdate_parse(const char *s, int64_t *ms, bpm_err *err);

#endif
