/* log.c - delivers log lines to the host's sink; there is no global sink. */
#include "base.h"

#include <stdio.h>

void lai_log(const lai_logger *logger, int32_t level, const char *fmt, ...) {
    if (logger == NULL || logger->fn == NULL || level > logger->level) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    logger->fn(level, line, logger->user);
}
