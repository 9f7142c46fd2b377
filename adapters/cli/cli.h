/* bpmnctl commands: each takes the arguments after its name and returns the
 * process exit status (0 ok, 1 failure or invalid input, 2 usage). */
#ifndef BPM_CLI_H
#define BPM_CLI_H

int bpm_cli_validate(int argc, char **argv);
int bpm_cli_test(int argc, char **argv);
int bpm_cli_simulate(int argc, char **argv);

#endif
