/* cmd_tokenize.c - `localai tokenize`. */
#include "cli.h"

int cli_cmd_tokenize(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "localai tokenize: not available in this build yet\n");
    return 1;
}
