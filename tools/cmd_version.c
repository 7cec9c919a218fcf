/* cmd_version.c - `localai version` and `localai devices`. */
#include "cli.h"

#include <string.h>

int cli_cmd_version(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("liblocalai %s (ABI %d)\n", localai_version(), (int)localai_abi_version());
    printf("devices:\n");
    return cli_print_devices(stdout);
}

int cli_cmd_devices(int argc, char **argv) {
    int self_test = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--self-test") == 0) self_test = 1;
        else {
            fprintf(stderr, "usage: localai devices [--self-test]\n"
                            "  --self-test   run every kernel on each Vulkan device against the CPU\n");
            return strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    int rc = cli_print_devices(stdout);
    if (rc != 0 || !self_test) return rc;
    int32_t n = 0;
    localai_device_count(&n);
    for (int32_t i = 1; i < n; i++) {
        static char report[8192];
        localai_status st = localai_device_self_test(i, report, sizeof report);
        printf("\nself-test of device [%d]: %s\n%s", (int)i, st == LOCALAI_STATUS_OK ? "passed" : "FAILED", report);
        if (st != LOCALAI_STATUS_OK) rc = 1;
    }
    return rc;
}
