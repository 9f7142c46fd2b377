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
    {"worker", bpm_cli_worker, "worker [--threads N] [--once]      run due async continuations and timers"},
    {"relay", bpm_cli_relay,
     "relay [--url URL] [--batch N] [--once]   publish the outbox to RabbitMQ (BPMND_AMQP_URL)"},
    {"consume", bpm_cli_consume,
     "consume NAME [--config FILE] [...]   consume a RabbitMQ queue into starts and correlations"},
    {"retry", bpm_cli_retry, "retry JOB_OR_INCIDENT [--user U]   give a failed job its retries back"},
    {"test", bpm_cli_test, "test DIAGRAM SCENARIO...    run scenarios in memory (docs/scenarios.md)"},
    {"audit", bpm_cli_audit,
     "audit [--instance ID] [--business-key K] [--user U] [--element EL] [--kind K,...] [--definition KEY]\n"
     "        [--from TIME] [--to TIME] [--limit N] [--json|--csv]   the audit trail"},
    {"simulate", bpm_cli_simulate,
     "simulate DIAGRAM [--process ID] [--vars JSON] [--answers FILE] [--json]   run a diagram in memory"},
};

/* Commands of the durable engine: they take their own name as argv[0]. */
static const struct {
    const char *name;
    const char *help;
} ops[] = {
    {"deploy", "deploy FILE... [--name N]            deploy diagrams (unchanged ones are not deployed again)"},
    {"definitions", "definitions                         deployed process definitions"},
    {"start", "start KEY [--business-key K] [--vars JSON] [--user U]   start an instance; prints its id"},
    {"instances", "instances [--definition KEY] [--state active|completed|terminated|incident] [--business-key K]"},
    {"instance", "instance ID                         tokens, variables, tasks, jobs, subscriptions, incidents"},
    {"tasks", "tasks [--assignee U] [--group G] [--instance ID]"},
    {"task", "task claim|unclaim|assign|complete ID [--user U] [--vars JSON]"},
    {"correlate", "correlate NAME [--key K] [--business-key BK] [--vars JSON] [--all] [--ttl DURATION]"},
    {"signal", "signal NAME [--vars JSON]"},
    {"incidents", "incidents                           open incidents"},
    {"cancel", "cancel ID [--user U]"},
    {"suspend", "suspend ID [--user U]"},
    {"resume", "resume ID [--user U]"},
    {"modify", "modify ID [--cancel EL]... [--start-before EL]... [--start-after EL]... [--user U]   move tokens"},
    {"clock", "clock [--offset DURATION]           engine time (wall clock + offset)"},
    {"timers", "timers                              fire the timers that are due now"},
    {"history", "history cleanup                     remove ended instances past their historyTimeToLive"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: bpmnctl COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s\n", commands[i].help);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        fprintf(out, "  %s\n", ops[i].help);
    fprintf(out, "  user add ID [--first F] [--last L] [--email E] | user delete ID | user list   (password:"
                 " BPMND_PASSWORD or stdin)\n"
                 "  group add ID [--name N] [--member USER]...   (members of 'admin' run operator actions)\n"
                 "  token create USER [--name N]        an API token for Authorization: Bearer (printed once)\n");
    fprintf(out, "\nThe database is BPMND_DATABASE_URL, else the embedded cluster in BPMND_DATA_DIR.\n"
                 "Every listing takes --json.\n");
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
    if (strcmp(argv[1], "user") == 0 || strcmp(argv[1], "group") == 0 || strcmp(argv[1], "token") == 0)
        return bpm_cli_users(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(argv[1], ops[i].name) == 0)
            return bpm_cli_ops(argc - 1, argv + 1);
    fprintf(stderr, "bpmnctl: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
