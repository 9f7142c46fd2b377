/* The BPMN 2.0 XML front end: reads a document safely (no network, no DTD,
 * no entities, bounded size and depth), builds the engine model, validates
 * it, and reports diagnostics with file, line and element id. */
#ifndef BPM_BPMN_H
#define BPM_BPMN_H

#include <stddef.h>

#include "diag.h"
#include "err.h"
#include "model.h"

typedef struct bpm_bpmn_limits {
    size_t max_bytes; /* default 64 MiB */
    int max_depth;    /* element nesting; default 256 */
} bpm_bpmn_limits;

/* Reads, builds and validates one document held in memory.
 * `file` names it in diagnostics. limits may be NULL (defaults).
 * Returns BPM_OK with *out a new frozen model (refcount 1, caller unrefs)
 * whenever the XML could be read; the model may still carry error
 * diagnostics (check bpm_diags_has_errors(diags) before running it).
 * Returns BPM_PARSE (not well-formed, DOCTYPE, wrong root or namespace) or
 * BPM_LIMIT (too big, too deep) with *out untouched and the reason both in
 * err and as an error diagnostic. Thread safe. */
bpm_rc bpm_bpmn_read_buffer(const char *buf, size_t len, const char *file,
                            const bpm_bpmn_limits *limits, bpm_model **out,
                            bpm_diags *diags, bpm_err *err);

/* Same, reading the file at path (BPM_IO when it cannot be read). */
bpm_rc bpm_bpmn_read_file(const char *path, const bpm_bpmn_limits *limits,
                          bpm_model **out, bpm_diags *diags, bpm_err *err);

/* Refuses external entities for the whole process: installed once by
 * bpm_bpmn_read_*, exported so servers can install it at start-up. */
void bpm_bpmn_init(void);

#endif
