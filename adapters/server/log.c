/* JSON log lines, written whole under one call so threads do not interleave. */
#define _DEFAULT_SOURCE
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "session.h"

void bpm_log_write(const char *level, const char *event, const char *msg, ...)
{
    int64_t ms = bpm_session_wall_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char at[96];
    snprintf(at, sizeof at, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    json_t *j = json_pack("{s:s, s:s, s:s}", "time", at, "level", level, "event", event);
    if (msg)
        json_object_set_new(j, "msg", json_string(msg));
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        json_object_set_new(j, k, v ? json_string(v) : json_null());
    }
    va_end(ap);
    char *line = json_dumps(j, JSON_COMPACT);
    if (line) {
        fprintf(stderr, "%s\n", line);
        free(line);
    }
    json_decref(j);
}

void bpm_log_executor(void *ud, const char *level, const char *event, const char *msg)
{
    (void)ud;
    bpm_log_write(level, event, msg, NULL);
}
