/* cmd_quantize.c - `localai quantize`. */
#include "cli.h"

int cli_cmd_quantize(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "localai quantize: not available in this build yet\n");
    return 1;
}
