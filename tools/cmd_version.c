/* cmd_version.c - `localai version` and `localai devices`. */
#include "cli.h"

int cli_cmd_version(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("liblocalai %s (ABI %d)\n", localai_version(), (int)localai_abi_version());
    printf("devices:\n");
    return cli_print_devices(stdout);
}

int cli_cmd_devices(int argc, char **argv) {
    (void)argc; (void)argv;
    return cli_print_devices(stdout);
}
