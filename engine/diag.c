/* Diagnostic list storage. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>

void bpm_diags_init(bpm_diags *d)
{
    d->arena = bpm_arena_new();
    d->items = NULL;
    d->n = d->cap = 0;
    d->n_errors = d->n_warnings = 0;
    d->limit = 1000;
    d->dropped = 0;
}

void bpm_diags_cleanup(bpm_diags *d)
{
    bpm_arena_free(d->arena);
    d->arena = NULL;
    d->items = NULL;
    d->n = d->cap = 0;
}

void bpm_diags_add(bpm_diags *d, bpm_severity sev, const char *file, int line,
                   const char *element_id, const char *fmt, ...)
{
    if (sev == BPM_SEV_ERROR)
        d->n_errors++;
    else if (sev == BPM_SEV_WARNING)
        d->n_warnings++;
    if (d->n >= d->limit) {
        d->dropped++;
        return;
    }
    if (d->n == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 16;
        d->items = bpm_arena_grow(d->arena, d->items, d->n, ncap, sizeof *d->items);
        d->cap = ncap;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    bpm_diag *g = &d->items[d->n++];
    g->severity = sev;
    g->file = bpm_arena_strdup(d->arena, file);
    g->line = line;
    g->element_id = bpm_arena_strdup(d->arena, element_id);
    g->message = bpm_arena_strdup(d->arena, buf);
}

bool bpm_diags_has_errors(const bpm_diags *d) { return d->n_errors > 0; }

const char *bpm_diags_severity_name(bpm_severity s)
{
    switch (s) {
    case BPM_SEV_ERROR:
        return "error";
    case BPM_SEV_WARNING:
        return "warning";
    case BPM_SEV_NOTE:
        return "note";
    }
    return "error";
}
