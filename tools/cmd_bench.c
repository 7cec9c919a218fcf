/* cmd_bench.c - `localai bench`. */
#include "cli.h"

int cli_cmd_bench(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "localai bench: not available in this build yet\n");
    return 1;
}
