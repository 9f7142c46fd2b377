/* Diagnostics about a document: {severity, file, line, element id, message}.
 * A list grows in its own arena; printed gcc-style or as JSON by adapters. */
#ifndef BPM_DIAG_H
#define BPM_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

typedef enum bpm_severity {
    BPM_SEV_ERROR = 0,
    BPM_SEV_WARNING,
    BPM_SEV_NOTE,
} bpm_severity;

typedef struct bpm_diag {
    bpm_severity severity;
    const char *file;       /* may be NULL */
    int line;               /* 0 = unknown */
    const char *element_id; /* may be NULL */
    const char *message;    /* lower case, one line, no period */
} bpm_diag;

typedef struct bpm_diags {
    bpm_arena *arena; /* owned: holds the items and their strings */
    bpm_diag *items;
    size_t n, cap;
    size_t n_errors, n_warnings;
    size_t limit; /* stop recording after this many (a flood of errors helps nobody) */
    size_t dropped;
} bpm_diags;

/* Caller's storage; bpm_diags_cleanup() frees what init allocated. */
void bpm_diags_init(bpm_diags *d);
void bpm_diags_cleanup(bpm_diags *d);

/* Records one diagnostic; strings are copied. */
void bpm_diags_add(bpm_diags *d, bpm_severity sev, const char *file, int line,
                   const char *element_id, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

bool bpm_diags_has_errors(const bpm_diags *d);
const char *bpm_diags_severity_name(bpm_severity s); /* "error" "warning" "note" */

#endif
