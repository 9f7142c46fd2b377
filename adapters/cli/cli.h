/* bpmnctl commands: each takes the arguments after its name and returns the
 * process exit status (0 ok, 1 failure or invalid input, 2 usage). */
#ifndef BPM_CLI_H
#define BPM_CLI_H

int bpm_cli_validate(int argc, char **argv);
int bpm_cli_test(int argc, char **argv);
int bpm_cli_simulate(int argc, char **argv);
int bpm_cli_db(int argc, char **argv);
int bpm_cli_worker(int argc, char **argv);
int bpm_cli_retry(int argc, char **argv);
/* relay [--url URL] [--batch N] [--once]: the outbox relay in the foreground. */
int bpm_cli_relay(int argc, char **argv);
/* consume NAME [...]: a queue consumer in the foreground. */
int bpm_cli_consume(int argc, char **argv);
/* audit [filters] [--json|--csv]: the audit trail. */
int bpm_cli_audit(int argc, char **argv);
/* user, group, token: argv[0] is the command name. */
int bpm_cli_users(int argc, char **argv);
/* deploy, start, instances, tasks, ...: argv[0] is the command name. */
int bpm_cli_ops(int argc, char **argv);

#include <stdbool.h>

#include "err.h"
typedef struct bpm_pg bpm_pg;
/* Connects to BPMND_DATABASE_URL or the embedded cluster (started when
 * needed) and applies pending migrations. *out is the caller's to close. */
bpm_rc bpm_cli_connect(bpm_pg **out, bool quiet, bpm_err *err);
/* BPMND_HISTORY: full (default), activity or none. */
#include "pgstore.h"
bpm_history_level bpm_cli_history_level(void);
/* The operator an action is recorded under: user (--user) when given, else
 * the login running bpmnctl, else NULL. Borrowed. */
const char *bpm_cli_operator(const char *user);

#endif
