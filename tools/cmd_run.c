/* cmd_run.c - `localai run`. */
#include "cli.h"

int cli_cmd_run(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "localai run: not available in this build yet\n");
    return 1;
}
