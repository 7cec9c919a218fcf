/* cmd_detokenize.c - `localai detokenize`. */
#include "cli.h"

int cli_cmd_detokenize(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "localai detokenize: not available in this build yet\n");
    return 1;
}
