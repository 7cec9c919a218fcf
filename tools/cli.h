/* cli.h - shared helpers and the subcommand table of the `localai` command-line tool. */
#ifndef LOCALAI_CLI_H
#define LOCALAI_CLI_H

#include "localai.h"

#include <stdio.h>

/* Each subcommand: argv[0] is the subcommand name. Returns the process exit code. */
int cli_cmd_version(int argc, char **argv);
int cli_cmd_devices(int argc, char **argv);
int cli_cmd_info(int argc, char **argv);
int cli_cmd_tokenize(int argc, char **argv);
int cli_cmd_detokenize(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
int cli_cmd_logits(int argc, char **argv);
int cli_cmd_quantize(int argc, char **argv);
int cli_cmd_bench(int argc, char **argv);

/* Prints "localai: <what>: <status name>: <detail>" to stderr and returns 1. */
int cli_fail(const char *what, localai_status status);
/* A log sink that writes "[level] message" lines to stderr. */
void cli_log_stderr(int32_t level, const char *message, void *user);
/* Prints the version line and the devices found; returns 0 or 1. */
int cli_print_devices(FILE *out);

#endif /* LOCALAI_CLI_H */
