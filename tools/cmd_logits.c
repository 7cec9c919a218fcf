/* cmd_logits.c - `localai logits`. */
#include "cli.h"

int cli_cmd_logits(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "localai logits: not available in this build yet\n");
    return 1;
}
