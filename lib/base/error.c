/* error.c - status names and the per-thread / per-handle error messages. */
#include "base.h"

#include <stdio.h>

static _Thread_local char thread_errmsg[LAI_ERRMSG_MAX];

static const char *const status_names[LOCALAI_STATUS_COUNT] = {
    [LOCALAI_STATUS_OK] = "ok",
    [LOCALAI_STATUS_INVALID_ARGUMENT] = "invalid argument",
    [LOCALAI_STATUS_OUT_OF_MEMORY] = "out of memory",
    [LOCALAI_STATUS_IO] = "input/output error",
    [LOCALAI_STATUS_BAD_FORMAT] = "malformed model file",
    [LOCALAI_STATUS_UNSUPPORTED] = "unsupported",
    [LOCALAI_STATUS_BUFFER_TOO_SMALL] = "buffer too small",
    [LOCALAI_STATUS_CONTEXT_FULL] = "context full",
    [LOCALAI_STATUS_CANCELLED] = "cancelled",
    [LOCALAI_STATUS_NOT_FOUND] = "not found",
    [LOCALAI_STATUS_BACKEND] = "backend failure",
    [LOCALAI_STATUS_ABI_MISMATCH] = "ABI mismatch",
    [LOCALAI_STATUS_INTERNAL] = "internal error",
};

LOCALAI_API const char *localai_status_string(localai_status status) {
    if (status < 0 || status >= LOCALAI_STATUS_COUNT || status_names[status] == NULL)
        return "unknown status";
    return status_names[status];
}

LOCALAI_API const char *localai_errmsg(void) { return thread_errmsg; }

const char *lai_thread_errmsg(void) { return thread_errmsg; }

void lai_clear_error(void) { thread_errmsg[0] = '\0'; }

localai_status lai_failv(localai_status status, const char *fmt, va_list ap) {
    vsnprintf(thread_errmsg, sizeof thread_errmsg, fmt, ap);
    return status;
}

localai_status lai_fail(localai_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    lai_failv(status, fmt, ap);
    va_end(ap);
    return status;
}

void lai_error_prefix(const char *prefix) {
    char old[LAI_ERRMSG_MAX];
    memcpy(old, thread_errmsg, sizeof old);
    snprintf(thread_errmsg, sizeof thread_errmsg, "%s: %s", prefix, old);
}

localai_status lai_errbuf_store(lai_errbuf *buf, localai_status status) {
    if (buf == NULL) return status;
    if (status == LOCALAI_STATUS_OK) {
        buf->text[0] = '\0';
        thread_errmsg[0] = '\0';
    } else {
        if (thread_errmsg[0] == '\0')
            snprintf(thread_errmsg, sizeof thread_errmsg, "%s", localai_status_string(status));
        memcpy(buf->text, thread_errmsg, sizeof buf->text);
    }
    return status;
}
