/* cmd_info.c - `localai info`. */
#include "cli.h"

int cli_cmd_info(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "localai info: not available in this build yet\n");
    return 1;
}
