/* The error table and bpm_err helpers. */
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bpm_rc bpm_err_setf_at(bpm_err *err, bpm_rc rc, const char *file, int line,
                       const char *fmt, ...)
{
    if (!err)
        return rc;
    err->rc = rc;
    err->file = file;
    err->line = line;
    err->detail[0] = '\0';
    err->where[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return rc;
}

bpm_rc bpm_err_detail(bpm_err *err, const char *fmt, ...)
{
    if (!err)
        return BPM_INTERNAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    return err->rc;
}

void bpm_err_where(bpm_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char ctx[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    size_t used = strlen(err->where);
    size_t room = sizeof err->where - used;
    if (used == 0) {
        memcpy(err->where, ctx, sizeof err->where);
    } else if (room > 3) {
        memcpy(err->where + used, "; ", 2);
        size_t n = strlen(ctx);
        if (n > room - 3)
            n = room - 3;
        memcpy(err->where + used + 2, ctx, n);
        err->where[used + 2 + n] = '\0';
    }
}

void bpm_err_clear(bpm_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

const char *bpm_err_name(bpm_rc rc)
{
    switch (rc) {
#define X(name, http, text) \
    case BPM_##name:        \
        return #name;
        BPM_ERR_MAP(X)
#undef X
    }
    return "UNKNOWN";
}

const char *bpm_err_text(bpm_rc rc)
{
    switch (rc) {
#define X(name, http, text) \
    case BPM_##name:        \
        return text;
        BPM_ERR_MAP(X)
#undef X
    }
    return "unknown error";
}

int bpm_err_http_status(bpm_rc rc)
{
    switch (rc) {
#define X(name, http, text) \
    case BPM_##name:        \
        return http;
        BPM_ERR_MAP(X)
#undef X
    }
    return 500;
}

_Noreturn void bpm_err_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "bpmnd: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
