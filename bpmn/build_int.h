/* Shared inside bpmn/: the builder context that turns a libxml2 tree into a
 * bpm_model, and the helpers the build_*.c files use to read elements. */
#ifndef BPM_BUILD_INT_H
#define BPM_BUILD_INT_H

#include <libxml/tree.h>
#include <stdbool.h>

#include "diag.h"
#include "model.h"

#define BPM_NS_BPMN     "http://www.omg.org/spec/BPMN/20100524/MODEL"
#define BPM_NS_CAMUNDA  "http://camunda.org/schema/1.0/bpmn"
#define BPM_NS_ACTIVITI "http://activiti.org/bpmn" /* accepted as camunda: */
#define BPM_NS_ZEEBE    "http://camunda.org/schema/zeebe/1.0"
#define BPM_NS_MODELER  "http://camunda.org/schema/modeler/1.0"
#define BPM_NS_XSI      "http://www.w3.org/2001/XMLSchema-instance"

/* References written as ids that pass 2 resolves once every id is known. */
typedef struct bpm_pending_node {
    const char *default_ref;
    const char *attached_ref;
} bpm_pending_node;

/* An association (artifact) seen while reading a container; pass 2 uses the
 * ones from a compensation boundary event to its handler. */
typedef struct bpm_pending_assoc {
    const char *source_ref;
    const char *target_ref;
    int line;
} bpm_pending_assoc;

typedef struct bpm_pending_flow {
    const char *source_ref;
    const char *target_ref;
    const bpm_node *container; /* subprocess holding the flow, or NULL */
} bpm_pending_flow;

typedef struct bpm_builder {
    bpm_model *m;
    bpm_arena *tmp; /* scratch for the build only: pending refs, lookups */
    bpm_diags *diags;
    const char *file;
    xmlDoc *doc;
    int max_depth;
    /* the process being built */
    bpm_process *proc;
    size_t cap_nodes, cap_flows;
    bpm_pending_node *pnode; /* parallel to proc->nodes */
    bpm_pending_flow *pflow; /* parallel to proc->flows */
    size_t cap_pnode, cap_pflow;
    bpm_pending_assoc *assocs;
    size_t n_assocs;
    bpm_strmap global_event_defs; /* id -> xmlNode* of definitions-level eventDefinitions */
} bpm_builder;

/* ---- reading helpers (build_util.c) -------------------------------------- */

bool bpm_build_is(const xmlNode *n, const char *ns, const char *name);
bool bpm_build_is_bpmn(const xmlNode *n, const char *name);
bool bpm_build_is_camunda(const xmlNode *n, const char *name);
bool bpm_build_is_zeebe(const xmlNode *n, const char *name);
bool bpm_build_ns_is_camunda(const xmlNs *ns);
int bpm_build_line(const xmlNode *n);
/* Unqualified attribute, copied into the model arena; NULL when absent. */
const char *bpm_build_attr(bpm_builder *b, const xmlNode *n, const char *name);
/* Namespaced attribute (camunda: also matches the activiti: alias). */
const char *bpm_build_attr_ns(bpm_builder *b, const xmlNode *n, const char *ns, const char *name);
const char *bpm_build_camunda(bpm_builder *b, const xmlNode *n, const char *name);
/* Interned id attribute. */
const char *bpm_build_id(bpm_builder *b, const xmlNode *n, const char *name);
/* Element text, copied; trimmed of surrounding white space when trim. */
const char *bpm_build_text(bpm_builder *b, const xmlNode *n, bool trim);
/* First child element in the BPMN namespace with this name. */
xmlNode *bpm_build_child(const xmlNode *n, const char *ns, const char *name);
/* Attribute boolean ("true"/"false"); def when absent; diagnostic when bad. */
bool bpm_build_bool(bpm_builder *b, const xmlNode *n, const char *ns, const char *name, bool def,
                    const char *element_id);
/* An expression from text + optional language; fallback dialect for plain text. */
bpm_expr bpm_build_expr(bpm_builder *b, const char *text, const char *language, int line,
                        bpm_dialect plain);
/* The expression held by a child element such as <conditionExpression>. */
bpm_expr bpm_build_expr_child(bpm_builder *b, const xmlNode *parent, const char *name,
                              bpm_dialect plain);
/* Keeps an unmapped element as name + serialized XML. */
bpm_unknown_ext bpm_build_unknown(bpm_builder *b, const xmlNode *n);
/* Appends to an arena array of elements of size sz; *n updated. */
void *bpm_build_push(bpm_builder *b, void *arr, size_t *n, size_t sz);
/* Lower-case documentation text of n (all <documentation> children joined). */
const char *bpm_build_documentation(bpm_builder *b, const xmlNode *n);

#define BPM_DIAG(b, sev, node, id, ...) \
    bpm_diags_add((b)->diags, (sev), (b)->file, bpm_build_line(node), (id), __VA_ARGS__)

/* ---- extension elements (build_ext.c) ------------------------------------ */

/* Reads camunda:/zeebe: attributes and extensionElements of a flow node into
 * its neutral fields. */
void bpm_build_ext_node(bpm_builder *b, bpm_node *node, const xmlNode *el);
/* Process-level extensions (listeners, properties, history TTL...). */
void bpm_build_ext_process(bpm_builder *b, bpm_process *p, const xmlNode *el);
/* camunda:executionListener / zeebe:executionListeners children of ext. */
void bpm_build_ext_flow(bpm_builder *b, bpm_flow *f, const xmlNode *el);
/* zeebe:subscription on a <message>. */
void bpm_build_ext_message(bpm_builder *b, bpm_message *msg, const xmlNode *el);
/* camunda:inputOutput contents into io. */
void bpm_build_ext_io(bpm_builder *b, bpm_io *io, const xmlNode *io_el);

/* ---- validation (validate.c) --------------------------------------------- */

void bpm_validate_model(bpm_builder *b);

#endif
