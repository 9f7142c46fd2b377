/* bpmnctl: the operator's command line. Dispatches to one command per file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"validate", bpm_cli_validate, "validate FILE... [--json]   check BPMN files, gcc-style diagnostics"},
    {"db", bpm_cli_db, "db migrate|start|stop|status      the database (BPMND_DATABASE_URL or the embedded cluster)"},
    {"test", bpm_cli_test, "test DIAGRAM SCENARIO...    run scenarios in memory (docs/scenarios.md)"},
    {"simulate", bpm_cli_simulate,
     "simulate DIAGRAM [--process ID] [--vars JSON] [--answers FILE] [--json]   run a diagram in memory"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: bpmnctl COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s\n", commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "bpmnctl: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
