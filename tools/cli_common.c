/* cli_common.c - error printing, the stderr log sink and the device listing. */
#include "cli.h"

#include <string.h>

int cli_fail(const char *what, localai_status status) {
    const char *detail = localai_errmsg();
    /* Library messages usually start with the file name already: don't say it twice. */
    size_t n = strlen(what);
    if (strncmp(detail, what, n) == 0 && detail[n] == ':') {
        fprintf(stderr, "localai: %s (%s)\n", detail, localai_status_string(status));
        return 1;
    }
    fprintf(stderr, "localai: %s: %s%s%s\n", what, localai_status_string(status),
            detail[0] ? ": " : "", detail);
    return 1;
}

void cli_log_stderr(int32_t level, const char *message, void *user) {
    static const char *const names[] = {"error", "warn", "info", "debug"};
    (void)user;
    /* Every error the library logs is also returned, and cli_fail prints it once. */
    if (level == LOCALAI_LOG_ERROR) return;
    fprintf(stderr, "[%s] %s\n", level >= 0 && level <= 3 ? names[level] : "log", message);
}

int cli_print_devices(FILE *out) {
    int32_t n = 0;
    localai_status st = localai_device_count(&n);
    if (st != LOCALAI_STATUS_OK) return cli_fail("device_count", st);
    for (int32_t i = 0; i < n; i++) {
        localai_device_info info;
        info.struct_size = sizeof info;
        st = localai_device_get(i, &info);
        if (st != LOCALAI_STATUS_OK) return cli_fail("device_get", st);
        fprintf(out, "  [%d] %-6s %s%s — %s", (int)i,
                info.backend == LOCALAI_BACKEND_CPU ? "cpu" : "vulkan", info.name,
                info.is_software ? " (software)" : "", info.description);
        if (info.memory_bytes)
            fprintf(out, ", %.1f GiB", (double)info.memory_bytes / (1024.0 * 1024.0 * 1024.0));
        fprintf(out, "\n");
    }
    if (n == 1) fprintf(out, "  (no Vulkan device: running on the CPU)\n");
    return 0;
}
