/* Model construction from a parsed BPMN document (used by bpmn.c). */
#ifndef BPM_BUILD_H
#define BPM_BUILD_H

#include <libxml/tree.h>

#include "diag.h"
#include "model.h"

/* Fills m (not yet frozen) from the <definitions> element defs of doc,
 * recording problems in diags. Never fails: what cannot be read becomes a
 * diagnostic. max_depth bounds subprocess nesting. */
void bpm_build_model(bpm_model *m, xmlDoc *doc, const xmlNode *defs, bpm_diags *diags, int max_depth);

#endif
