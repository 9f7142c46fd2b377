/* bpmnctl validate FILE... [--json]: reads each file as Camunda Modeler saved
 * it and prints gcc-style diagnostics and a one-line summary per process. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "bpmn.h"
#include "cli.h"
#include "compile.h"
#include "scripts.h"

static void count_kinds(const bpm_process *p, size_t counts[BPM_NODE_KIND_COUNT])
{
    memset(counts, 0, sizeof(size_t) * BPM_NODE_KIND_COUNT);
    for (size_t i = 0; i < p->n_nodes; i++)
        counts[p->nodes[i]->kind]++;
}

static json_t *diag_json(const bpm_diag *d)
{
    return json_pack("{s:s, s:s?, s:i, s:s?, s:s}", "severity", bpm_diags_severity_name(d->severity), "file",
                     d->file, "line", d->line, "element", d->element_id, "message", d->message);
}

static json_t *process_json(const bpm_process *p)
{
    size_t counts[BPM_NODE_KIND_COUNT];
    count_kinds(p, counts);
    json_t *kinds = json_object();
    for (int k = 0; k < BPM_NODE_KIND_COUNT; k++)
        if (counts[k])
            json_object_set_new(kinds, bpm_model_kind_name((bpm_node_kind)k), json_integer((json_int_t)counts[k]));
    return json_pack("{s:s, s:s?, s:b, s:I, s:I, s:o}", "id", p->id, "name", p->name, "executable", p->executable,
                     "nodes", (json_int_t)p->n_nodes, "flows", (json_int_t)p->n_flows, "kinds", kinds);
}

static void print_process(const char *file, const bpm_process *p)
{
    size_t counts[BPM_NODE_KIND_COUNT];
    count_kinds(p, counts);
    printf("%s: process \"%s\"", file, p->id);
    if (p->name)
        printf(" (%s)", p->name);
    printf(": %s, %zu nodes", p->executable ? "executable" : "not executable", p->n_nodes);
    const char *sep = " (";
    for (int k = 0; k < BPM_NODE_KIND_COUNT; k++) {
        if (!counts[k])
            continue;
        printf("%s%zu %s", sep, counts[k], bpm_model_kind_name((bpm_node_kind)k));
        sep = ", ";
    }
    printf("%s, %zu flows\n", *sep == ',' ? ")" : "", p->n_flows);
}

int bpm_cli_validate(int argc, char **argv)
{
    bool json = false;
    int n_files = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: bpmnctl validate FILE... [--json]\n"
                   "Prints file:line: severity: [ElementId] message, then one summary line per process.\n"
                   "Exit status: 0 no errors, 1 errors, 2 usage.\n");
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "bpmnctl validate: unknown option \"%s\"\n", argv[i]);
            return 2;
        } else
            n_files++;
    }
    if (n_files == 0) {
        fprintf(stderr, "usage: bpmnctl validate FILE... [--json]\n");
        return 2;
    }
    json_t *files = json_array();
    size_t total_errors = 0, total_warnings = 0;
    bpm_err serr = {0};
    bpm_scripts *scripts = bpm_scripts_new(NULL, &serr);
    if (!scripts) {
        fprintf(stderr, "bpmnctl: %s\n", serr.msg);
        json_decref(files);
        return 1;
    }
    bpm_evaluator ev = bpm_scripts_evaluator(scripts);
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1])
            continue;
        const char *path = argv[i];
        bpm_diags diags;
        bpm_diags_init(&diags);
        bpm_model *m = NULL;
        bpm_err err = {0};
        bpm_rc rc = bpm_bpmn_read_file(path, NULL, &m, &diags, &err);
        if (rc == BPM_OK)
            bpm_compile_model(m, &ev, &diags); /* expressions are checked as a deploy would */
        total_errors += diags.n_errors;
        total_warnings += diags.n_warnings;
        if (json) {
            json_t *dj = json_array();
            for (size_t d = 0; d < diags.n; d++)
                json_array_append_new(dj, diag_json(&diags.items[d]));
            json_t *pj = json_array();
            for (size_t p = 0; m && p < m->n_processes; p++)
                json_array_append_new(pj, process_json(&m->processes[p]));
            json_array_append_new(files, json_pack("{s:s, s:b, s:b, s:I, s:I, s:o, s:o}", "file", path, "read",
                                                   rc == BPM_OK, "ok", rc == BPM_OK && !diags.n_errors, "errors",
                                                   (json_int_t)diags.n_errors, "warnings", (json_int_t)diags.n_warnings,
                                                   "diagnostics", dj, "processes", pj));
        } else {
            for (size_t d = 0; d < diags.n; d++) {
                const bpm_diag *g = &diags.items[d];
                printf("%s:", g->file ? g->file : path);
                if (g->line)
                    printf("%d:", g->line);
                printf(" %s: ", bpm_diags_severity_name(g->severity));
                if (g->element_id)
                    printf("[%s] ", g->element_id);
                printf("%s\n", g->message);
            }
            if (diags.dropped)
                printf("%s: note: %zu more diagnostics not shown\n", path, diags.dropped);
            for (size_t p = 0; m && p < m->n_processes; p++)
                print_process(path, &m->processes[p]);
        }
        bpm_model_unref(m);
        bpm_diags_cleanup(&diags);
    }
    bpm_scripts_free(scripts);
    if (json) {
        json_t *root = json_pack("{s:o, s:I, s:I}", "files", files, "errors", (json_int_t)total_errors, "warnings",
                                 (json_int_t)total_warnings);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(root);
    } else {
        json_decref(files);
        if (n_files > 1 || total_errors || total_warnings)
            printf("%zu error(s), %zu warning(s) in %d file(s)\n", total_errors, total_warnings, n_files);
    }
    return total_errors ? 1 : 0;
}
