/* params.c - merging and initialising size-versioned parameter structs. */
#include "base.h"

localai_status lai_params_merge(void *defaults, size_t current_size, const void *caller,
                                const char *what) {
    if (caller == NULL) return LOCALAI_STATUS_OK;
    size_t caller_size;
    memcpy(&caller_size, caller, sizeof caller_size);
    if (caller_size < sizeof(size_t))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "%s: struct_size %zu is too small; fill the struct with its "
                        "_params_init function first",
                        what, caller_size);
    /* A newer caller may pass a larger struct: we read only the fields we know. */
    size_t n = LAI_MIN(caller_size, current_size);
    memcpy((char *)defaults + sizeof(size_t), (const char *)caller + sizeof(size_t),
           n - sizeof(size_t));
    return LOCALAI_STATUS_OK;
}

localai_status lai_params_init(void *params, size_t struct_size, const void *defaults,
                               size_t current_size, const char *what) {
    if (params == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "%s: params is NULL", what);
    if (struct_size < sizeof(size_t))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "%s: struct_size %zu is too small",
                        what, struct_size);
    size_t n = LAI_MIN(struct_size, current_size);
    memcpy(params, defaults, n);
    if (struct_size > current_size)
        memset((char *)params + current_size, 0, struct_size - current_size);
    memcpy(params, &struct_size, sizeof struct_size);
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}
