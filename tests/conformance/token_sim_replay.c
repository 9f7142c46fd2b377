/* Conformance: replays the bpmn-js-token-simulation corpus through bpm_exec_step
 * and compares the order of entered flow nodes with the simulator's traces.
 * A runtime of its own (not engine/sim.c): it triggers waits by id, routes
 * messages along message flows and broadcasts signals by name. Differences the
 * project accepts are listed, with reasons, in token-simulation-differences.md.
 * Usage: token_sim_replay [-v] [CORPUS_DIR [DIFFERENCES_MD [TRACE...]]]
 * Prints one line per trace, then "N passed, M failed"; exit status 1 on any
 * failure. */
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpmn.h"
#include "exec.h"
#include "scripts.h"

#ifndef TSR_CORPUS_DIR
#define TSR_CORPUS_DIR "corpus/token-simulation"
#endif
#ifndef TSR_DIFFERENCES
#define TSR_DIFFERENCES "token-simulation-differences.md"
#endif

#define MAX_CHAIN 8
#define NOW_MS 1700000000000LL /* any fixed time: timers are fired by hand */

static bool verbose;

/* ---- small containers ------------------------------------------------------- */

typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static void strv_push(strv *s, const char *x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = bpm_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = bpm_xstrdup(x);
}

static void strv_pushf(strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void strv_pushf(strv *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    strv_push(s, buf);
}

static void strv_free(strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static bool strv_has(const strv *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

/* Removes one occurrence of x; true when there was one. */
static bool strv_take(strv *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i], x) == 0) {
            free(s->v[i]);
            memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
            s->n--;
            return true;
        }
    }
    return false;
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = bpm_xmalloc(cap);
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap *= 2;
            buf = bpm_xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static bool file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* ---- the differences file ------------------------------------------------------
 * A markdown table row per accepted difference:
 *   | trace | kind | bpmnd enters | reason |
 * kind is order (same elements, another order), diff (other elements; the
 * third column pins what bpmnd enters, "-" for nothing), skip (not
 * comparable) or bug (an engine bug: reported, not counted). */

typedef enum listing_kind {
    LIST_NONE = 0,
    LIST_ORDER,
    LIST_DIFF,
    LIST_SKIP,
    LIST_BUG
} listing_kind;

typedef struct listing {
    char *trace;
    listing_kind kind;
    char *ours; /* diff: the pinned list, space separated */
    bool used;
} listing;

typedef struct listings {
    listing *v;
    size_t n, cap;
} listings;

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    /* `code` spans are allowed around cells */
    if (n >= 2 && s[0] == '`' && s[n - 1] == '`') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

static bool load_listings(const char *path, listings *out)
{
    char *text = read_text(path, NULL);
    if (!text)
        return false;
    char *save = NULL;
    for (char *line = text; line; line = save) {
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        if (strncmp(line, "| Simulator.", 12) != 0 && strncmp(line, "| `Simulator.", 13) != 0)
            continue;
        char *cells[5] = {0};
        size_t nc = 0;
        char *p = line + 1;
        while (nc < 5 && p && *p) {
            char *bar = strchr(p, '|');
            if (!bar)
                break;
            *bar = '\0';
            cells[nc++] = trim(p);
            p = bar + 1;
        }
        if (nc < 4)
            continue;
        listing l = {0};
        l.trace = bpm_xstrdup(cells[0]);
        if (strcmp(cells[1], "order") == 0)
            l.kind = LIST_ORDER;
        else if (strcmp(cells[1], "diff") == 0)
            l.kind = LIST_DIFF;
        else if (strcmp(cells[1], "skip") == 0)
            l.kind = LIST_SKIP;
        else if (strcmp(cells[1], "bug") == 0)
            l.kind = LIST_BUG;
        else {
            fprintf(stderr, "%s: unknown kind \"%s\" for %s\n", path, cells[1], cells[0]);
            free(l.trace);
            continue;
        }
        l.ours = bpm_xstrdup(strcmp(cells[2], "-") == 0 ? "" : cells[2]);
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 32;
            out->v = bpm_xrealloc(out->v, out->cap * sizeof *out->v);
        }
        out->v[out->n++] = l;
    }
    free(text);
    return true;
}

static listing *find_listing(listings *ls, const char *trace)
{
    for (size_t i = 0; i < ls->n; i++)
        if (strcmp(ls->v[i].trace, trace) == 0)
            return &ls->v[i];
    return NULL;
}

static void free_listings(listings *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        free(ls->v[i].trace);
        free(ls->v[i].ours);
    }
    free(ls->v);
}

/* ---- traces ------------------------------------------------------------------- */

typedef enum act { ACT_CREATE, ACT_SIGNAL, ACT_ENTER, ACT_EXIT, ACT_DESTROY, ACT_OTHER } act;

typedef struct entry {
    act a;
    char *el;
    char *scope; /* NULL for "null" */
    int file;    /* index in the chain of trace files */
    int seg;     /* external command this entry follows */
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
} entries;

static void entries_free(entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].el);
        free(e->v[i].scope);
    }
    free(e->v);
    memset(e, 0, sizeof *e);
}

static bool load_trace(const char *path, int file, entries *out)
{
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!json_is_array(j)) {
        json_decref(j);
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v)
    {
        const char *s = json_string_value(v);
        const char *c1 = s ? strchr(s, ':') : NULL;
        const char *c2 = s ? strrchr(s, ':') : NULL;
        if (!c1 || c2 == c1)
            continue;
        entry e = {0};
        size_t al = (size_t)(c1 - s);
        e.a = al == 11 && strncmp(s, "createScope", al) == 0    ? ACT_CREATE
              : al == 6 && strncmp(s, "signal", al) == 0        ? ACT_SIGNAL
              : al == 5 && strncmp(s, "enter", al) == 0         ? ACT_ENTER
              : al == 4 && strncmp(s, "exit", al) == 0          ? ACT_EXIT
              : al == 12 && strncmp(s, "destroyScope", al) == 0 ? ACT_DESTROY
                                                                : ACT_OTHER;
        size_t el = (size_t)(c2 - c1 - 1);
        e.el = bpm_xmalloc(el + 1);
        memcpy(e.el, c1 + 1, el);
        e.el[el] = '\0';
        e.scope = strcmp(c2 + 1, "null") == 0 ? NULL : bpm_xstrdup(c2 + 1);
        e.file = file;
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 64;
            out->v = bpm_xrealloc(out->v, out->cap * sizeof *out->v);
        }
        out->v[out->n++] = e;
    }
    json_decref(j);
    return true;
}

/* The simulator's scope ids run A..Z, A1..Z1, ... in creation order. */
static long id_index(const char *s)
{
    if (!s || !isupper((unsigned char)s[0]))
        return -1;
    long runner = s[1] ? strtol(s + 1, NULL, 10) : 0;
    return (s[0] - 'A') + 26 * runner;
}

/* ---- the corpus index ----------------------------------------------------------- */

typedef struct trace_file {
    char *name;    /* "Simulator.simple-0.json" */
    char *diagram; /* "Simulator.simple.bpmn" */
    long first_signal, max_id;
    int pred; /* the trace this one continues, or -1 */
} trace_file;

typedef struct corpus {
    const char *dir;
    trace_file *v;
    size_t n;
} corpus;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = bpm_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* DIAGRAM.json, DIAGRAM-1.json, DIAGRAM-message-trigger.json -> DIAGRAM.bpmn:
 * the longest prefix, cut at a '-', that names a diagram. */
static char *diagram_of(const char *dir, const char *trace)
{
    size_t n = strlen(trace) - 5; /* ".json" */
    char *base = bpm_xmalloc(n + 6);
    memcpy(base, trace, n);
    base[n] = '\0';
    for (;;) {
        size_t bl = strlen(base);
        char *cand = bpm_xmalloc(bl + 6);
        snprintf(cand, bl + 6, "%s.bpmn", base);
        char *p = path_join(dir, cand);
        bool ok = file_exists(p);
        free(p);
        if (ok) {
            free(base);
            return cand;
        }
        free(cand);
        char *dash = strrchr(base, '-');
        if (!dash) {
            free(base);
            return NULL;
        }
        *dash = '\0';
    }
}

static bool load_corpus(const char *dir, corpus *c)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    strv names = {0};
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
            strv_push(&names, de->d_name);
    }
    closedir(d);
    qsort(names.v, names.n, sizeof *names.v, cmp_names);
    c->dir = dir;
    c->n = names.n;
    c->v = bpm_xcalloc(names.n ? names.n : 1, sizeof *c->v);
    for (size_t i = 0; i < names.n; i++) {
        trace_file *t = &c->v[i];
        t->name = bpm_xstrdup(names.v[i]);
        t->diagram = diagram_of(dir, t->name);
        t->first_signal = -1;
        t->max_id = -1;
        t->pred = -1;
        entries e = {0};
        char *p = path_join(dir, t->name);
        if (load_trace(p, 0, &e)) {
            for (size_t k = 0; k < e.n; k++) {
                long id = id_index(e.v[k].scope);
                if (id > t->max_id)
                    t->max_id = id;
                if (e.v[k].a == ACT_SIGNAL && t->first_signal < 0)
                    t->first_signal = id;
            }
        }
        free(p);
        entries_free(&e);
    }
    /* A trace recorded after another one in the same simulator run (its ids
     * continue the other's) replays that one first: catch-event-2 after
     * catch-event-1, loop-1 after loop-0. */
    for (size_t i = 0; i < c->n; i++) {
        trace_file *t = &c->v[i];
        for (size_t k = 0; k < c->n; k++) {
            trace_file *o = &c->v[k];
            if (k == i || !t->diagram || !o->diagram || strcmp(t->diagram, o->diagram) != 0)
                continue;
            if (o->max_id < t->first_signal && (t->pred < 0 || o->max_id > c->v[t->pred].max_id))
                t->pred = (int)k;
        }
    }
    strv_free(&names);
    return true;
}

static void free_corpus(corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].name);
        free(c->v[i].diagram);
    }
    free(c->v);
}

/* ---- the diagram, as read -------------------------------------------------------- */

static const bpm_node *find_node(const bpm_model *m, const char *id)
{
    for (size_t i = 0; i < m->n_processes; i++) {
        const bpm_node *n = bpm_model_find_node(&m->processes[i], id);
        if (n)
            return n;
    }
    return NULL;
}

static const bpm_participant *find_participant(const bpm_model *m, const char *id)
{
    for (size_t c = 0; c < m->n_collaborations; c++)
        for (size_t i = 0; i < m->collaborations[c].n_participants; i++)
            if (strcmp(m->collaborations[c].participants[i].id, id) == 0)
                return &m->collaborations[c].participants[i];
    return NULL;
}

static const bpm_message_flow *find_message_flow(const bpm_model *m, const char *id)
{
    for (size_t c = 0; c < m->n_collaborations; c++)
        for (size_t i = 0; i < m->collaborations[c].n_message_flows; i++)
            if (strcmp(m->collaborations[c].message_flows[i].id, id) == 0)
                return &m->collaborations[c].message_flows[i];
    return NULL;
}

/* The process a process or participant id stands for. */
static const bpm_process *process_of(const bpm_model *m, const char *id)
{
    const bpm_process *p = bpm_model_find_process(m, id);
    if (p)
        return p;
    const bpm_participant *pa = find_participant(m, id);
    return pa ? pa->process : NULL;
}

static bpm_event_kind event_kind(const bpm_node *n)
{
    return n->n_events ? n->events[0].kind : BPM_EVENT_NONE;
}

static bool has_signal_throw(const bpm_model *m)
{
    for (size_t i = 0; i < m->n_processes; i++)
        for (size_t k = 0; k < m->processes[i].n_nodes; k++) {
            const bpm_node *n = m->processes[i].nodes[k];
            if ((n->kind == BPM_NODE_INTERMEDIATE_THROW || n->kind == BPM_NODE_END_EVENT) &&
                event_kind(n) == BPM_EVENT_SIGNAL)
                return true;
        }
    return false;
}

static bool is_plain_task(const bpm_node *n)
{
    return n->kind == BPM_NODE_TASK || n->kind == BPM_NODE_MANUAL_TASK;
}

static bool is_choice_gateway(const bpm_node *n)
{
    return (n->kind == BPM_NODE_EXCLUSIVE_GATEWAY || n->kind == BPM_NODE_INCLUSIVE_GATEWAY ||
            n->kind == BPM_NODE_COMPLEX_GATEWAY) &&
           n->n_outgoing >= 2;
}

static const char *signal_name(const bpm_event_def *ev)
{
    if (ev->signal && ev->signal->name)
        return ev->signal->name;
    return ev->ref ? ev->ref : "";
}

/* bpmn-js shows a collapsed subprocess on a plane of its own whose root
 * element is "<id>_plane"; a trace may name the subprocess by it. */
static void canonical_ids(const bpm_model *m, entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        char *el = e->v[i].el;
        size_t n = strlen(el);
        if (n <= 6 || strcmp(el + n - 6, "_plane") != 0 || find_node(m, el))
            continue;
        el[n - 6] = '\0';
        if (!find_node(m, el))
            el[n - 6] = '_';
    }
}

/* ---- scopes of the simulator run ---------------------------------------------------
 * The k-th createScope of a run makes the scope with id index offset + k; the
 * offset is found by checking every later reference against the element. */

typedef struct scope {
    const char *el; /* borrowed from the entries */
    long parent;    /* scope index, -1 for a root */
    size_t created; /* entry index */
    bool entered;   /* entered, or triggered without entering */
    bool via_enter; /* entered through an enter: entry (a token arrived) */
    int seg_entered;
    int seg_destroyed;
} scope;

typedef struct tree {
    scope *v;
    size_t n;
    long offset;
} tree;

static bool build_tree(const entries *e, tree *t)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        n += e->v[i].a == ACT_CREATE;
    t->v = bpm_xcalloc(n ? n : 1, sizeof *t->v);
    t->n = n;
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i].a == ACT_CREATE) {
            t->v[k].el = e->v[i].el;
            t->v[k].created = i;
            t->v[k].seg_entered = -1;
            t->v[k].seg_destroyed = -1;
            k++;
        }
    for (long off = 0; off < 64; off++) {
        bool ok = true;
        size_t checked = 0;
        for (size_t i = 0; i < e->n && ok; i++) {
            const entry *x = &e->v[i];
            if (!x->scope)
                continue;
            long s = id_index(x->scope) - off;
            if (s < 0 || (size_t)s >= n || t->v[s].created > i) {
                ok = false;
                break;
            }
            if (x->a == ACT_SIGNAL || x->a == ACT_EXIT || x->a == ACT_DESTROY) {
                ok = strcmp(t->v[s].el, x->el) == 0;
                checked++;
            }
        }
        if (ok && checked) {
            t->offset = off;
            for (size_t i = 0, c = 0; i < e->n; i++)
                if (e->v[i].a == ACT_CREATE)
                    t->v[c++].parent = e->v[i].scope ? id_index(e->v[i].scope) - off : -1;
            return true;
        }
    }
    return false;
}

static long scope_of(const tree *t, const char *id)
{
    if (!id)
        return -1;
    long s = id_index(id) - t->offset;
    return s >= 0 && (size_t)s < t->n ? s : -1;
}

static long root_of(const tree *t, long s)
{
    for (int guard = 0; s >= 0 && t->v[s].parent >= 0 && guard < 1000; guard++)
        s = t->v[s].parent;
    return s;
}

/* ---- commands derived from the trace --------------------------------------------- */

typedef enum ext_kind { EXT_START, EXT_NODE, EXT_MESSAGE_FLOW } ext_kind;

typedef struct ext {
    ext_kind kind;
    size_t entry;        /* the signal it came from */
    const char *process; /* START: process id */
    const char *node;    /* START: start event or NULL; NODE: the element */
    const char *target;  /* MESSAGE_FLOW: targetRef */
    long root;           /* simulator process scope it concerns, or -1 */
} ext;

typedef struct plan {
    const bpm_model *m;
    entries e;
    tree t;
    int current; /* chain index of the trace compared */
    ext *ext;
    size_t n_ext;
    long *roots; /* simulator process scopes, in creation order */
    size_t n_roots;
    json_t **take;     /* per external command: {flow id: true} for gateway flows */
    strv wait_tasks;   /* plain tasks the simulator paused at */
    strv choice_flows; /* gateway flows that get a condition */
    strv notes;
} plan;

static void add_ext(plan *pl, ext x)
{
    pl->ext = bpm_xrealloc(pl->ext, (pl->n_ext + 1) * sizeof *pl->ext);
    pl->ext[pl->n_ext++] = x;
}

static size_t root_number(const plan *pl, long root)
{
    for (size_t i = 0; i < pl->n_roots; i++)
        if (pl->roots[i] == root)
            return i;
    return (size_t)-1;
}

/* Which signals of the trace came from outside (a test's trigger() or
 * signal() call) rather than from the run itself. Error, escalation,
 * compensation, cancel and link events, subprocess starts and scopes are
 * always the run's own doing. A signal catch is the run's when the diagram
 * throws signals; a message catch is when a message flow just delivered to
 * it. The first signal of each trace file is always a test's call. */
static void classify(plan *pl)
{
    const bpm_model *m = pl->m;
    bool signals_thrown = has_signal_throw(m);
    strv pending = {0}; /* message flow targets not yet consumed */
    int last_file = -1;
    long created = 0;
    for (size_t i = 0; i < pl->e.n; i++) {
        entry *x = &pl->e.v[i];
        if (x->a == ACT_CREATE) {
            /* the k-th createScope is scope k */
            if (!x->scope && process_of(m, x->el)) {
                pl->roots = bpm_xrealloc(pl->roots, (pl->n_roots + 1) * sizeof *pl->roots);
                pl->roots[pl->n_roots++] = created;
            }
            created++;
        }
        if (x->a != ACT_SIGNAL)
            continue;
        bool first = x->file != last_file;
        last_file = x->file;
        long s = scope_of(&pl->t, x->scope);
        const bpm_node *n = find_node(m, x->el);
        const bpm_message_flow *mf = find_message_flow(m, x->el);
        const bpm_process *p = n ? NULL : process_of(m, x->el);
        ext out = {.entry = i, .root = root_of(&pl->t, s)};
        bool external = false;
        if (p) {
            /* a new instance: the start event the simulator signals in it */
            const char *start = NULL;
            for (size_t j = i + 1; j < pl->e.n && !start; j++) {
                const entry *y = &pl->e.v[j];
                const bpm_node *yn = y->a == ACT_SIGNAL ? find_node(m, y->el) : NULL;
                long ys = scope_of(&pl->t, y->scope);
                if (yn && yn->kind == BPM_NODE_START_EVENT && !yn->parent && yn->process == p &&
                    ys >= 0 && pl->t.v[ys].parent == s)
                    start = y->el;
            }
            const bpm_node *sn = start ? find_node(m, start) : NULL;
            bool by_message = (start && strv_take(&pending, start)) || strv_take(&pending, x->el);
            bool by_signal = sn && event_kind(sn) == BPM_EVENT_SIGNAL && signals_thrown;
            external = first || (!by_message && !by_signal);
            out.kind = EXT_START;
            out.process = p->id;
            out.node = start;
        } else if (mf) {
            strv_push(&pending, mf->target_ref);
            external = first || !find_node(m, mf->source_ref);
            out.kind = EXT_MESSAGE_FLOW;
            out.target = mf->target_ref;
        } else if (n) {
            out.kind = EXT_NODE;
            out.node = n->id;
            bool entered = s >= 0 && pl->t.v[s].via_enter;
            switch (n->kind) {
            case BPM_NODE_START_EVENT:
                if (!n->parent || n->parent->kind != BPM_NODE_EVENT_SUBPROCESS)
                    break; /* part of starting its scope */
                /* fall through */
            case BPM_NODE_BOUNDARY_EVENT:
            case BPM_NODE_INTERMEDIATE_CATCH:
                switch (event_kind(n)) {
                case BPM_EVENT_SIGNAL:
                    external = !signals_thrown;
                    break;
                case BPM_EVENT_MESSAGE:
                    external = !strv_take(&pending, n->id);
                    break;
                case BPM_EVENT_TIMER:
                case BPM_EVENT_CONDITIONAL:
                case BPM_EVENT_NONE:
                    external = true;
                    break;
                default: /* error, escalation, compensation, cancel, link */
                    break;
                }
                break;
            default:
                /* a waiting task or receive task: a message or a person */
                if (bpm_model_is_activity(n->kind) && !bpm_model_is_container(n->kind) && entered)
                    external = !strv_take(&pending, n->id);
                break;
            }
            external = external || first;
        }
        if (external)
            add_ext(pl, out);
    }
    strv_free(&pending);
}

/* Marks scopes entered (enter:X:P is the oldest scope of X in P not yet
 * entered) and destroyed, assigns every entry to the external command it
 * follows, and collects what the simulator entered. Returns the expected
 * (element, root) list of the compared trace. */
static void walk(plan *pl, strv *expect_ids, long **expect_roots)
{
    size_t next_ext = 0;
    int seg = -1;
    size_t cap = 16, n = 0;
    *expect_roots = bpm_xmalloc(cap * sizeof **expect_roots);
    for (size_t i = 0; i < pl->e.n; i++) {
        entry *x = &pl->e.v[i];
        while (next_ext < pl->n_ext && pl->ext[next_ext].entry <= i) {
            next_ext++;
            seg++;
        }
        x->seg = seg < 0 ? 0 : seg;
        long root = -1;
        const char *counted = NULL;
        if (x->a == ACT_ENTER) {
            long p = scope_of(&pl->t, x->scope);
            for (size_t k = 0; k < pl->t.n; k++) {
                scope *sc = &pl->t.v[k];
                if (sc->created < i && !sc->entered && sc->parent == p &&
                    strcmp(sc->el, x->el) == 0) {
                    sc->entered = sc->via_enter = true;
                    sc->seg_entered = x->seg;
                    break;
                }
            }
            if (find_node(pl->m, x->el)) {
                counted = x->el;
                root = root_of(&pl->t, p);
            }
        } else if (x->a == ACT_SIGNAL) {
            /* events triggered without being entered (start, boundary and
             * event-gateway events, event subprocesses) count as entered */
            long s = scope_of(&pl->t, x->scope);
            if (s >= 0 && !pl->t.v[s].entered && find_node(pl->m, x->el)) {
                pl->t.v[s].entered = true;
                pl->t.v[s].seg_entered = x->seg;
                counted = x->el;
                root = root_of(&pl->t, s);
            }
        } else if (x->a == ACT_DESTROY) {
            long s = scope_of(&pl->t, x->scope);
            if (s >= 0)
                pl->t.v[s].seg_destroyed = x->seg;
        }
        if (counted && x->file == pl->current) {
            strv_push(expect_ids, counted);
            if (n == cap) {
                cap *= 2;
                *expect_roots = bpm_xrealloc(*expect_roots, cap * sizeof **expect_roots);
            }
            (*expect_roots)[n++] = root;
        }
    }
}

/* What the test configured and the diagram cannot say: the flows each
 * gateway took (setConfig), the tasks it paused at (waitAtElement). */
static void derive_config(plan *pl)
{
    pl->take = bpm_xcalloc(pl->n_ext ? pl->n_ext : 1, sizeof *pl->take);
    for (size_t k = 0; k < pl->n_ext; k++)
        pl->take[k] = json_object();
    for (size_t i = 0; i < pl->e.n; i++) {
        const entry *x = &pl->e.v[i];
        if (x->a != ACT_ENTER || !pl->n_ext)
            continue;
        for (size_t pi = 0; pi < pl->m->n_processes; pi++) {
            const bpm_flow *f = bpm_model_find_flow(&pl->m->processes[pi], x->el);
            if (!f || !f->source || !is_choice_gateway(f->source))
                continue;
            json_t *take = pl->take[x->seg];
            if (f->source->kind == BPM_NODE_EXCLUSIVE_GATEWAY) {
                for (size_t o = 0; o < f->source->n_outgoing; o++) {
                    const char *other = f->source->outgoing[o]->id;
                    if (other != f->id && json_object_get(take, other))
                        strv_pushf(&pl->notes,
                                   "exclusive gateway %s takes several flows in one step",
                                   f->source->id);
                }
            }
            json_object_set_new(take, f->id, json_true());
        }
    }
    for (size_t pi = 0; pi < pl->m->n_processes; pi++) {
        const bpm_process *p = &pl->m->processes[pi];
        for (size_t k = 0; k < p->n_nodes; k++) {
            const bpm_node *n = p->nodes[k];
            if (is_choice_gateway(n))
                for (size_t o = 0; o < n->n_outgoing; o++)
                    if (!n->outgoing[o]->is_default)
                        strv_push(&pl->choice_flows, n->outgoing[o]->id);
        }
    }
    /* A plain task passes at once in the simulator unless the test paused
     * it: then it outlives the step that entered it. */
    for (size_t k = 0; k < pl->t.n; k++) {
        const scope *sc = &pl->t.v[k];
        const bpm_node *n = find_node(pl->m, sc->el);
        if (!n || !is_plain_task(n) || !sc->entered || strv_has(&pl->wait_tasks, n->id))
            continue;
        if (sc->seg_destroyed < 0 || sc->seg_destroyed > sc->seg_entered)
            strv_push(&pl->wait_tasks, n->id);
    }
}

static void free_plan(plan *pl)
{
    for (size_t k = 0; k < pl->n_ext; k++)
        json_decref(pl->take[k]);
    free(pl->take);
    free(pl->ext);
    free(pl->roots);
    free(pl->t.v);
    entries_free(&pl->e);
    strv_free(&pl->wait_tasks);
    strv_free(&pl->choice_flows);
    strv_free(&pl->notes);
}

/* ---- rewriting the diagram ----------------------------------------------------------
 * The simulator needs no conditions, timer values or task types; an engine
 * does. We write in what the test configured: a condition on every gateway
 * flow reading which flows the test chose for the current step, a user task
 * where the test paused a plain task, a duration on empty timers (fired by
 * hand) and "false" on empty conditional events (triggered by hand). */

typedef struct buf {
    char *s;
    size_t n;
} buf;

static void buf_replace(buf *b, size_t at, size_t del, const char *ins)
{
    size_t il = strlen(ins);
    char *s = bpm_xmalloc(b->n - del + il + 1);
    memcpy(s, b->s, at);
    memcpy(s + at, ins, il);
    memcpy(s + at + il, b->s + at + del, b->n - at - del);
    b->n = b->n - del + il;
    s[b->n] = '\0';
    free(b->s);
    b->s = s;
}

typedef struct tag {
    size_t start, end; /* '<' and one past '>' */
    size_t name_len;   /* from start + 1 */
    bool self_closing;
} tag;

static bool tag_at(const buf *b, size_t lt, tag *t)
{
    if (b->s[lt] != '<')
        return false;
    size_t i = lt + 1;
    while (i < b->n && !isspace((unsigned char)b->s[i]) && b->s[i] != '>' && b->s[i] != '/')
        i++;
    t->start = lt;
    t->name_len = i - lt - 1;
    char *gt = strchr(b->s + i, '>');
    if (!gt)
        return false;
    t->end = (size_t)(gt - b->s) + 1;
    t->self_closing = gt > b->s && gt[-1] == '/';
    return true;
}

static bool find_tag_by_id(const buf *b, const char *id, tag *t)
{
    char pat[512];
    snprintf(pat, sizeof pat, " id=\"%s\"", id);
    for (const char *p = strstr(b->s, pat); p; p = strstr(p + 1, pat)) {
        const char *lt = p;
        while (lt > b->s && *lt != '<' && *lt != '>')
            lt--;
        if (*lt == '<' && tag_at(b, (size_t)(lt - b->s), t))
            return true;
    }
    return false;
}

static void prefix_of(const buf *b, const tag *t, char *out, size_t cap)
{
    const char *name = b->s + t->start + 1;
    const char *colon = memchr(name, ':', t->name_len);
    size_t n = colon ? (size_t)(colon - name) + 1 : 0;
    if (n >= cap)
        n = 0;
    memcpy(out, name, n);
    out[n] = '\0';
}

static void rename_element(buf *b, const char *id, const char *new_local)
{
    tag t;
    if (!find_tag_by_id(b, id, &t))
        return;
    char old[128], pfx[64], neu[128], close_old[140], close_new[140];
    if (t.name_len >= sizeof old)
        return;
    memcpy(old, b->s + t.start + 1, t.name_len);
    old[t.name_len] = '\0';
    prefix_of(b, &t, pfx, sizeof pfx);
    snprintf(neu, sizeof neu, "%s%s", pfx, new_local);
    if (!t.self_closing) {
        snprintf(close_old, sizeof close_old, "</%s>", old);
        snprintf(close_new, sizeof close_new, "</%s>", neu);
        char *c = strstr(b->s + t.end, close_old);
        if (c)
            buf_replace(b, (size_t)(c - b->s), strlen(close_old), close_new);
    }
    buf_replace(b, t.start + 1, t.name_len, neu);
}

/* Gives element `id` the child `inner` (markup without the element's prefix
 * placeholder: "%s" is replaced by the prefix). */
static void add_child(buf *b, tag *t, const char *inner_fmt)
{
    char pfx[64], name[128], inner[1024];
    prefix_of(b, t, pfx, sizeof pfx);
    snprintf(name, sizeof name, "%.*s", (int)t->name_len, b->s + t->start + 1);
    snprintf(inner, sizeof inner, inner_fmt, pfx, pfx);
    if (t->self_closing) {
        char *text = bpm_xmalloc(strlen(inner) + strlen(name) + 8);
        snprintf(text, strlen(inner) + strlen(name) + 8, ">%s</%s>", inner, name);
        size_t slash = t->end - 2;
        buf_replace(b, slash, 2, text);
        free(text);
    } else {
        buf_replace(b, t->end, 0, inner);
    }
}

/* Every start tag whose local name is `local`, one after the other. */
static bool next_tag(const buf *b, const char *local, size_t from, tag *t)
{
    size_t ll = strlen(local);
    for (const char *p = strstr(b->s + from, local); p; p = strstr(p + 1, local)) {
        char after = p[ll];
        if (!(isspace((unsigned char)after) || after == '/' || after == '>'))
            continue;
        const char *q = p;
        while (q > b->s && q[-1] != '<' &&
               (isalnum((unsigned char)q[-1]) || q[-1] == ':' || q[-1] == '_' || q[-1] == '-' ||
                q[-1] == '.'))
            q--;
        if (q == b->s || q[-1] != '<')
            continue;
        if (q != p && p[-1] != ':')
            continue;
        if (tag_at(b, (size_t)(q - 1 - b->s), t))
            return true;
    }
    return false;
}

static char *rewrite(const char *xml, const plan *pl)
{
    buf b = {bpm_xstrdup(xml), strlen(xml)};
    for (size_t i = 0; i < pl->wait_tasks.n; i++)
        rename_element(&b, pl->wait_tasks.v[i], "userTask");
    for (size_t i = 0; i < pl->choice_flows.n; i++) {
        tag t;
        char fmt[512];
        if (!find_tag_by_id(&b, pl->choice_flows.v[i], &t))
            continue;
        snprintf(fmt, sizeof fmt,
                 "<%%sconditionExpression>tsr_take ~= nil and tsr_take[\"%s\"] == "
                 "true</%%sconditionExpression>",
                 pl->choice_flows.v[i]);
        add_child(&b, &t, fmt);
    }
    tag t;
    /* a non-interrupting timer the test may fire again and again is a cycle */
    for (size_t pi = 0; pi < pl->m->n_processes; pi++) {
        const bpm_process *p = &pl->m->processes[pi];
        for (size_t k = 0; k < p->n_nodes; k++) {
            const bpm_node *n = p->nodes[k];
            bool repeats = !n->interrupting &&
                           (n->kind == BPM_NODE_BOUNDARY_EVENT || n->kind == BPM_NODE_START_EVENT);
            for (size_t d = 0; repeats && d < n->n_events; d++)
                if (n->events[d].kind == BPM_EVENT_TIMER && n->events[d].id &&
                    !n->events[d].timer.text && find_tag_by_id(&b, n->events[d].id, &t) &&
                    t.self_closing)
                    add_child(&b, &t, "<%stimeCycle>R/PT1H</%stimeCycle>");
        }
    }
    for (size_t from = 0; next_tag(&b, "timerEventDefinition", from, &t);) {
        from = t.end;
        if (t.self_closing) {
            add_child(&b, &t, "<%stimeDuration>PT1H</%stimeDuration>");
            from = t.start + 1;
        }
    }
    for (size_t from = 0; next_tag(&b, "conditionalEventDefinition", from, &t);) {
        from = t.end;
        tag c;
        if (!t.self_closing && next_tag(&b, "condition", t.end, &c) && c.self_closing) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)c.name_len, b.s + c.start + 1);
            char text[200];
            snprintf(text, sizeof text, ">false</%s>", name);
            buf_replace(&b, c.end - 2, 2, text);
        }
    }
    return b.s;
}

/* ---- the runtime -------------------------------------------------------------------- */

typedef struct logged {
    const char *node; /* model-owned id */
    size_t inst;
    int file;
} logged;

typedef struct pending {
    bpm_effect_kind kind;
    char *name;           /* SIGNAL */
    const bpm_node *node; /* MESSAGE: the thrower */
} pending;

typedef struct runtime {
    const bpm_model *m;
    const bpm_evaluator *ev;
    bpm_inst **insts;
    size_t n_insts;
    logged *log;
    size_t n_log, cap_log;
    pending *queue;
    size_t n_queue, cap_queue;
    json_t *take; /* borrowed: the gateway choices of the current command */
    int file;
    strv notes;
} runtime;

static json_t *command_vars(const runtime *rt)
{
    return json_pack("{s:O}", "tsr_take", rt->take);
}

static void step(runtime *rt, size_t i, bpm_cmd *cmd)
{
    bpm_arena *a = bpm_arena_new();
    bpm_effects fx;
    bpm_effects_init(&fx, a);
    bpm_env env = {.now_ms = NOW_MS, .eval = rt->ev};
    json_t *vars = command_vars(rt);
    cmd->vars = vars;
    bpm_err err = {0};
    bpm_rc rc = bpm_exec_step(rt->m, &rt->insts[i], cmd, &env, &fx, &err);
    if (rc != BPM_OK)
        strv_pushf(&rt->notes, "command refused: %s", err.msg);
    for (size_t k = 0; rc == BPM_OK && k < fx.n; k++) {
        const bpm_effect *e = &fx.items[k];
        switch (e->kind) {
        case BPM_FX_ENTER:
            if (!e->node)
                break;
            if (rt->n_log == rt->cap_log) {
                rt->cap_log = rt->cap_log ? rt->cap_log * 2 : 64;
                rt->log = bpm_xrealloc(rt->log, rt->cap_log * sizeof *rt->log);
            }
            rt->log[rt->n_log++] = (logged){e->node->id, i, rt->file};
            break;
        case BPM_FX_INCIDENT:
            strv_pushf(&rt->notes, "incident at %s: %s",
                       e->node ? e->node->id : rt->insts[i]->process->id,
                       e->message ? e->message : "");
            break;
        case BPM_FX_SIGNAL:
        case BPM_FX_MESSAGE:
            if (rt->n_queue == rt->cap_queue) {
                rt->cap_queue = rt->cap_queue ? rt->cap_queue * 2 : 16;
                rt->queue = bpm_xrealloc(rt->queue, rt->cap_queue * sizeof *rt->queue);
            }
            rt->queue[rt->n_queue++] = (pending){e->kind, bpm_xstrdup(e->name ? e->name : ""),
                                                 e->kind == BPM_FX_MESSAGE ? e->node : NULL};
            break;
        case BPM_FX_START_CHILD:
            strv_pushf(&rt->notes, "call activities are not replayed (%s)",
                       e->node ? e->node->id : "?");
            break;
        default:
            break;
        }
    }
    json_decref(vars);
    bpm_effects_cleanup(&fx);
    bpm_arena_free(a);
}

static size_t new_instance(runtime *rt, const bpm_process *p)
{
    char id[32];
    snprintf(id, sizeof id, "i%zu", rt->n_insts + 1);
    rt->insts = bpm_xrealloc(rt->insts, (rt->n_insts + 1) * sizeof *rt->insts);
    rt->insts[rt->n_insts] = bpm_inst_new(p, id, NULL, p->id);
    return rt->n_insts++;
}

static void start(runtime *rt, const bpm_process *p, const bpm_node *at)
{
    size_t i = new_instance(rt, p);
    bpm_cmd cmd = {.kind = BPM_CMD_START, .node = at};
    step(rt, i, &cmd);
}

/* The open wait at element `id`: in instance `prefer` when it has one, else
 * in the oldest instance that has. */
static bool find_wait(const runtime *rt, const char *id, size_t prefer, size_t *oi, uint32_t *ow)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < rt->n_insts; i++) {
            if ((pass == 0) != (i == prefer))
                continue;
            const bpm_inst *inst = rt->insts[i];
            if (inst->state != BPM_INST_ACTIVE)
                continue;
            for (size_t w = 0; w < inst->n_waits; w++)
                if (strcmp(inst->waits[w].node->id, id) == 0) {
                    *oi = i;
                    *ow = inst->waits[w].id;
                    return true;
                }
        }
    return false;
}

static bool fire_wait(runtime *rt, size_t i, uint32_t w)
{
    const bpm_wait *wt = bpm_inst_wait(rt->insts[i], w);
    bpm_cmd cmd = {.wait = w};
    switch (wt->kind) {
    case BPM_WAIT_MESSAGE:
    case BPM_WAIT_TIMER:
    case BPM_WAIT_SIGNAL:
    case BPM_WAIT_CONDITION:
        cmd.kind = BPM_CMD_TRIGGER;
        break;
    case BPM_WAIT_CHILD:
        return false;
    default:
        cmd.kind = BPM_CMD_COMPLETE;
        break;
    }
    step(rt, i, &cmd);
    return true;
}

/* A message arriving at a message flow's target: a waiting element takes it,
 * else it starts an instance at a start event or a pool's process. */
static void deliver(runtime *rt, const char *target, size_t prefer)
{
    size_t i;
    uint32_t w;
    if (find_wait(rt, target, prefer, &i, &w) && fire_wait(rt, i, w))
        return;
    const bpm_node *n = find_node(rt->m, target);
    if (n && n->kind == BPM_NODE_START_EVENT && !n->parent) {
        start(rt, n->process, n);
        return;
    }
    const bpm_participant *pa = n ? NULL : find_participant(rt->m, target);
    if (pa && pa->process) {
        start(rt, pa->process, NULL);
        return;
    }
    strv_pushf(&rt->notes, "message to %s found nothing waiting", target);
}

static void drain(runtime *rt)
{
    for (size_t q = 0; q < rt->n_queue; q++) {
        pending p = rt->queue[q];
        if (p.kind == BPM_FX_SIGNAL) {
            /* BPMN 2.0.2 §10.5.1: a signal is broadcast to every catcher */
            size_t n = 0;
            size_t *ti = NULL;
            uint32_t *tw = NULL;
            for (size_t i = 0; i < rt->n_insts; i++) {
                const bpm_inst *inst = rt->insts[i];
                if (inst->state != BPM_INST_ACTIVE)
                    continue;
                for (size_t w = 0; w < inst->n_waits; w++) {
                    const bpm_wait *wt = &inst->waits[w];
                    if (wt->kind != BPM_WAIT_SIGNAL ||
                        strcmp(wt->name ? wt->name : "", p.name) != 0)
                        continue;
                    ti = bpm_xrealloc(ti, (n + 1) * sizeof *ti);
                    tw = bpm_xrealloc(tw, (n + 1) * sizeof *tw);
                    ti[n] = i;
                    tw[n++] = wt->id;
                }
            }
            for (size_t k = 0; k < n; k++)
                if (rt->insts[ti[k]]->state == BPM_INST_ACTIVE &&
                    bpm_inst_wait(rt->insts[ti[k]], tw[k]))
                    fire_wait(rt, ti[k], tw[k]);
            free(ti);
            free(tw);
            for (size_t pi = 0; pi < rt->m->n_processes; pi++) {
                const bpm_process *pr = &rt->m->processes[pi];
                for (size_t k = 0; k < pr->n_top; k++) {
                    const bpm_node *s = pr->top[k];
                    if (s->kind == BPM_NODE_START_EVENT && event_kind(s) == BPM_EVENT_SIGNAL &&
                        strcmp(signal_name(&s->events[0]), p.name) == 0)
                        start(rt, pr, s);
                }
            }
        } else if (p.node) {
            /* a thrown message travels along the message flows leaving its
             * thrower (the diagrams name no messages) */
            for (size_t c = 0; c < rt->m->n_collaborations; c++)
                for (size_t f = 0; f < rt->m->collaborations[c].n_message_flows; f++) {
                    const bpm_message_flow *mf = &rt->m->collaborations[c].message_flows[f];
                    if (mf->source_ref && mf->target_ref && strcmp(mf->source_ref, p.node->id) == 0)
                        deliver(rt, mf->target_ref, (size_t)-1);
                }
        }
        free(rt->queue[q].name);
        rt->queue[q].name = NULL;
    }
    rt->n_queue = 0;
}

static void run_ext(runtime *rt, const plan *pl, const ext *x)
{
    size_t prefer = x->root >= 0 ? root_number(pl, x->root) : (size_t)-1;
    switch (x->kind) {
    case EXT_START: {
        const bpm_process *p = bpm_model_find_process(rt->m, x->process);
        const bpm_node *at = x->node && p ? bpm_model_find_node(p, x->node) : NULL;
        if (p)
            start(rt, p, at);
        break;
    }
    case EXT_NODE: {
        size_t i;
        uint32_t w;
        if (!find_wait(rt, x->node, prefer, &i, &w) || !fire_wait(rt, i, w))
            strv_pushf(&rt->notes, "nothing waits at %s to be triggered", x->node);
        break;
    }
    case EXT_MESSAGE_FLOW:
        deliver(rt, x->target, prefer);
        break;
    }
    drain(rt);
}

static void free_runtime(runtime *rt)
{
    for (size_t i = 0; i < rt->n_insts; i++)
        bpm_inst_free(rt->insts[i]);
    free(rt->insts);
    free(rt->log);
    for (size_t q = 0; q < rt->n_queue; q++)
        free(rt->queue[q].name);
    free(rt->queue);
    strv_free(&rt->notes);
}

/* ---- one trace ------------------------------------------------------------------------ */

typedef enum outcome { OUT_EQUAL, OUT_ORDER, OUT_DIFFER, OUT_ERROR } outcome;

typedef struct result {
    outcome out;
    bool per_instance_equal; /* ORDER: only the interleaving of instances differs */
    strv expect, ours, notes;
    char *error;
} result;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool same_multiset(const strv *a, const strv *b)
{
    if (a->n != b->n)
        return false;
    char **x = bpm_xmalloc((a->n + 1) * sizeof *x), **y = bpm_xmalloc((a->n + 1) * sizeof *y);
    memcpy(x, a->v, a->n * sizeof *x);
    memcpy(y, b->v, b->n * sizeof *y);
    qsort(x, a->n, sizeof *x, cmp_str);
    qsort(y, b->n, sizeof *y, cmp_str);
    bool same = true;
    for (size_t i = 0; i < a->n && same; i++)
        same = strcmp(x[i], y[i]) == 0;
    free(x);
    free(y);
    return same;
}

static bool same_list(const strv *a, const strv *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

static void replay(const corpus *c, size_t ti, const bpm_evaluator *ev, result *res)
{
    memset(res, 0, sizeof *res);
    const trace_file *tf = &c->v[ti];
    if (!tf->diagram) {
        res->out = OUT_ERROR;
        res->error = bpm_xstrdup("no diagram for this trace");
        return;
    }
    int chain[MAX_CHAIN], nchain = 0;
    for (int k = (int)ti; k >= 0 && nchain < MAX_CHAIN; k = c->v[k].pred)
        chain[nchain++] = k;
    plan pl = {0};
    for (int f = 0; f < nchain; f++) {
        char *p = path_join(c->dir, c->v[chain[nchain - 1 - f]].name);
        bool ok = load_trace(p, f, &pl.e);
        free(p);
        if (!ok) {
            res->out = OUT_ERROR;
            res->error = bpm_xstrdup("trace is not a JSON array of strings");
            free_plan(&pl);
            return;
        }
    }
    pl.current = nchain - 1;
    char *bpmn_path = path_join(c->dir, tf->diagram);
    char *xml = read_text(bpmn_path, NULL);
    free(bpmn_path);
    bpm_diags diags;
    bpm_diags_init(&diags);
    bpm_model *m0 = NULL, *m1 = NULL;
    bpm_err err = {0};
    long *expect_roots = NULL;
    char *xml1 = NULL;
    runtime rt = {0};
    if (!xml ||
        bpm_bpmn_read_buffer(xml, strlen(xml), tf->diagram, NULL, &m0, &diags, &err) != BPM_OK) {
        res->out = OUT_ERROR;
        res->error = bpm_xstrdup(xml ? err.msg : "cannot read the diagram");
        goto done;
    }
    pl.m = m0;
    canonical_ids(m0, &pl.e);
    if (!build_tree(&pl.e, &pl.t)) {
        res->out = OUT_ERROR;
        res->error = bpm_xstrdup("cannot reconstruct the simulator's scopes from the trace");
        goto done;
    }
    /* entered flags are needed to classify waiting tasks: walk once to set
     * them, then classify, then walk again for segments and expectations */
    {
        strv tmp = {0};
        long *tmp_roots = NULL;
        walk(&pl, &tmp, &tmp_roots);
        strv_free(&tmp);
        free(tmp_roots);
        classify(&pl);
        for (size_t k = 0; k < pl.t.n; k++) {
            pl.t.v[k].entered = pl.t.v[k].via_enter = false;
            pl.t.v[k].seg_entered = pl.t.v[k].seg_destroyed = -1;
        }
        walk(&pl, &res->expect, &expect_roots);
    }
    derive_config(&pl);
    xml1 = rewrite(xml, &pl);
    bpm_diags_cleanup(&diags);
    bpm_diags_init(&diags);
    if (bpm_bpmn_read_buffer(xml1, strlen(xml1), tf->diagram, NULL, &m1, &diags, &err) != BPM_OK) {
        res->out = OUT_ERROR;
        res->error = bpm_xstrdup(err.msg);
        goto done;
    }
    rt.m = m1;
    rt.ev = ev;
    for (size_t k = 0; k < pl.n_ext; k++) {
        rt.take = pl.take[k];
        rt.file = pl.e.v[pl.ext[k].entry].file;
        run_ext(&rt, &pl, &pl.ext[k]);
    }
    for (size_t k = 0; k < rt.n_log; k++)
        if (rt.log[k].file == pl.current)
            strv_push(&res->ours, rt.log[k].node);
    for (size_t k = 0; k < pl.notes.n; k++)
        strv_push(&res->notes, pl.notes.v[k]);
    for (size_t k = 0; k < rt.notes.n; k++)
        strv_push(&res->notes, rt.notes.v[k]);
    if (verbose) {
        for (size_t k = 0; k < pl.n_ext; k++) {
            const ext *x = &pl.ext[k];
            strv_pushf(&res->notes, "command %zu (file %d): %s %s", k, pl.e.v[x->entry].file,
                       x->kind == EXT_START  ? "start"
                       : x->kind == EXT_NODE ? "trigger"
                                             : "message flow to",
                       x->kind == EXT_START  ? (x->node ? x->node : x->process)
                       : x->kind == EXT_NODE ? x->node
                                             : x->target);
        }
        for (size_t k = 0; k < pl.wait_tasks.n; k++)
            strv_pushf(&res->notes, "paused task %s runs as a user task", pl.wait_tasks.v[k]);
    }
    if (same_list(&res->expect, &res->ours)) {
        res->out = OUT_EQUAL;
    } else if (same_multiset(&res->expect, &res->ours)) {
        res->out = OUT_ORDER;
        /* compare instance by instance: the simulator interleaves the tokens
         * of all instances, a step of ours runs one instance to rest */
        res->per_instance_equal = true;
        size_t ninst = rt.n_insts > pl.n_roots ? rt.n_insts : pl.n_roots;
        for (size_t inst = 0; inst < ninst && res->per_instance_equal; inst++) {
            strv a = {0}, b = {0};
            for (size_t k = 0; k < res->expect.n; k++)
                if (root_number(&pl, expect_roots[k]) == inst)
                    strv_push(&a, res->expect.v[k]);
            for (size_t k = 0; k < rt.n_log; k++)
                if (rt.log[k].file == pl.current && rt.log[k].inst == inst)
                    strv_push(&b, rt.log[k].node);
            res->per_instance_equal = same_list(&a, &b);
            strv_free(&a);
            strv_free(&b);
        }
    } else {
        res->out = OUT_DIFFER;
    }
done:
    free_runtime(&rt);
    free(expect_roots);
    free_plan(&pl);
    if (m0)
        bpm_model_unref(m0);
    if (m1)
        bpm_model_unref(m1);
    bpm_diags_cleanup(&diags);
    free(xml1);
    free(xml);
}

static void free_result(result *r)
{
    strv_free(&r->expect);
    strv_free(&r->ours);
    strv_free(&r->notes);
    free(r->error);
}

static char *joined(const strv *s)
{
    size_t n = 1;
    for (size_t i = 0; i < s->n; i++)
        n += strlen(s->v[i]) + 1;
    char *out = bpm_xmalloc(n);
    out[0] = '\0';
    size_t at = 0;
    for (size_t i = 0; i < s->n; i++)
        at += (size_t)snprintf(out + at, n - at, "%s%s", i ? " " : "", s->v[i]);
    return out;
}

static void print_lists(const result *r)
{
    char *a = joined(&r->expect), *b = joined(&r->ours);
    printf("    simulator: %s\n    bpmnd:     %s\n", a[0] ? a : "-", b[0] ? b : "-");
    free(a);
    free(b);
    for (size_t i = 0; i < r->notes.n; i++)
        printf("    note: %s\n", r->notes.v[i]);
}

/* Normalises a space separated list for comparison with a pinned one. */
static bool pinned_equal(const char *pinned, const strv *ours)
{
    char *mine = joined(ours);
    char *copy = bpm_xstrdup(pinned);
    char *w = copy;
    for (char *r = copy; *r; r++) {
        if (isspace((unsigned char)*r)) {
            if (w > copy && w[-1] != ' ')
                *w++ = ' ';
        } else {
            *w++ = *r;
        }
    }
    while (w > copy && w[-1] == ' ')
        w--;
    *w = '\0';
    bool eq = strcmp(copy, mine) == 0;
    free(copy);
    free(mine);
    return eq;
}

int main(int argc, char **argv)
{
    int ai = 1;
    if (ai < argc && strcmp(argv[ai], "-v") == 0) {
        verbose = true;
        ai++;
    }
    const char *dir = ai < argc ? argv[ai++] : TSR_CORPUS_DIR;
    const char *md = ai < argc ? argv[ai++] : TSR_DIFFERENCES;
    char **only = argv + ai;
    int n_only = argc - ai;

    listings ls = {0};
    if (!load_listings(md, &ls)) {
        fprintf(stderr, "token_sim_replay: cannot read %s\n", md);
        return 2;
    }
    corpus c = {0};
    if (!load_corpus(dir, &c) || c.n == 0) {
        fprintf(stderr, "token_sim_replay: no traces in %s\n", dir);
        free_listings(&ls);
        return 2;
    }
    bpm_err err = {0};
    bpm_scripts *scripts = bpm_scripts_new(NULL, &err);
    if (!scripts) {
        fprintf(stderr, "token_sim_replay: %s\n", err.msg);
        return 2;
    }
    bpm_evaluator ev = bpm_scripts_evaluator(scripts);

    size_t passed = 0, failed = 0, n_equal = 0, n_order = 0, n_diff = 0, n_skip = 0, n_bug = 0;
    for (size_t i = 0; i < c.n; i++) {
        const char *name = c.v[i].name;
        if (n_only) {
            bool want = false;
            for (int k = 0; k < n_only; k++)
                want = want || strcmp(only[k], name) == 0;
            if (!want)
                continue;
        }
        result r;
        replay(&c, i, &ev, &r);
        listing *l = find_listing(&ls, name);
        if (l)
            l->used = true;
        const char *what = r.out == OUT_EQUAL ? "equal"
                           : r.out == OUT_ORDER
                               ? (r.per_instance_equal ? "order (between instances)" : "order")
                           : r.out == OUT_DIFFER ? "differs"
                                                 : "error";
        bool pass = false, counted = true, show = verbose;
        const char *why = "";
        switch (l ? l->kind : LIST_NONE) {
        case LIST_NONE:
            pass = r.out == OUT_EQUAL;
            if (pass)
                n_equal++;
            break;
        case LIST_ORDER:
            pass = r.out == OUT_ORDER;
            why = r.out == OUT_EQUAL ? " (listed as order but now equal: remove the listing)"
                                     : " (listed: order)";
            n_order += pass;
            break;
        case LIST_DIFF:
            pass = (r.out == OUT_ORDER || r.out == OUT_DIFFER) && pinned_equal(l->ours, &r.ours);
            why = r.out == OUT_EQUAL ? " (listed as diff but now equal: remove the listing)"
                  : pass             ? " (listed: deliberate difference)"
                         : " (listed: deliberate difference, but bpmnd no longer enters the pinned "
                           "list)";
            n_diff += pass;
            break;
        case LIST_SKIP:
            pass = true;
            why = " (listed: skip, not comparable)";
            n_skip++;
            break;
        case LIST_BUG:
            /* neither passed nor failed; once it matches, the mark must go */
            counted = r.out == OUT_EQUAL;
            pass = false;
            why = counted ? " (marked bug but now equal: remove the mark)"
                          : " (listed: KNOWN ENGINE BUG, not counted)";
            n_bug += !counted;
            show = true;
            break;
        }
        if (!counted)
            printf("BUG  %-26s %s%s\n", what, name, why);
        else
            printf("%s %-26s %s%s\n", pass ? "PASS" : "FAIL", what, name, why);
        if (r.error)
            printf("    error: %s\n", r.error);
        if ((counted && !pass) || (show && r.out != OUT_EQUAL) || verbose)
            print_lists(&r);
        if (counted) {
            if (pass)
                passed++;
            else
                failed++;
        }
        free_result(&r);
    }
    for (size_t i = 0; i < ls.n && !n_only; i++)
        if (!ls.v[i].used) {
            printf("FAIL listed trace %s is not in the corpus\n", ls.v[i].trace);
            failed++;
        }
    printf("%zu equal, %zu deliberate order differences, %zu deliberate element differences, %zu "
           "skipped, "
           "%zu known engine bugs (not counted)\n",
           n_equal, n_order, n_diff, n_skip, n_bug);
    printf("%zu passed, %zu failed\n", passed, failed);
    bpm_scripts_free(scripts);
    free_corpus(&c);
    free_listings(&ls);
    return failed ? 1 : 0;
}
