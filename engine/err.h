/* Operational errors as values: one code table (bpm_rc) feeds names, text and
 * HTTP status; bpm_err carries a message a user can act on. Never renumber. */
#ifndef BPM_ERR_H
#define BPM_ERR_H

#include <stdarg.h>

#define BPM_ERR_MAP(X)                                                \
    X(OK, 200, "success")                                             \
    X(PARSE, 400, "invalid BPMN document")                            \
    X(INVALID, 422, "process model is not executable")                \
    X(NOT_FOUND, 404, "object does not exist")                        \
    X(CONFLICT, 409, "object was changed concurrently")               \
    X(SCRIPT, 422, "script failed")                                   \
    X(UNAVAILABLE, 503, "dependency unavailable")                     \
    X(LIMIT, 413, "limit exceeded")                                   \
    X(INTERNAL, 500, "internal error")                                \
    X(IO, 500, "input/output error")                                  \
    X(BAD_REQUEST, 400, "invalid request")                            \
    X(DUPLICATE, 409, "event already delivered")

typedef enum bpm_rc {
#define X(name, http, text) BPM_##name,
    BPM_ERR_MAP(X)
#undef X
} bpm_rc;

typedef struct bpm_err {
    bpm_rc rc;
    char msg[256];    /* primary: lower case, one line, no period */
    char detail[512]; /* facts: SQLSTATE text, curl error, Lua traceback */
    char where[256];  /* process "order", element "Task_3" (line 42) */
    const char *file; /* source location that raised it (for bugs reports) */
    int line;
} bpm_err;

/* Fills err (when not NULL) and returns rc, so callers write
 * `return bpm_err_set(err, BPM_PARSE, "...", ...);`. */
#define bpm_err_set(err, rc, ...) \
    bpm_err_setf_at((err), (rc), __FILE__, __LINE__, __VA_ARGS__)

bpm_rc bpm_err_setf_at(bpm_err *err, bpm_rc rc, const char *file, int line,
                       const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Sets err->detail (appends nothing to msg). Returns err->rc. */
bpm_rc bpm_err_detail(bpm_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends context while unwinding: "element \"Task_3\" (line 42)". Keeps
 * the innermost context first, outer ones appended after "; ". */
void bpm_err_where(bpm_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void bpm_err_clear(bpm_err *err);

/* Static strings: "PARSE", "invalid BPMN document"; HTTP status. */
const char *bpm_err_name(bpm_rc rc);
const char *bpm_err_text(bpm_rc rc);
int bpm_err_http_status(bpm_rc rc);

/* Bugs, not errors: abort with file and line. */
#define BPM_ASSERT(cond) \
    ((cond) ? (void)0 : bpm_err_assert_fail(#cond, __FILE__, __LINE__))
_Noreturn void bpm_err_assert_fail(const char *expr, const char *file, int line);

#endif
