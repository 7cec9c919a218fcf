/* base.h - internal foundations: status helpers, error messages, logging, allocation, params. */
#ifndef LAI_BASE_H
#define LAI_BASE_H

#include "localai.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define LAI_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#define LAI_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LAI_PRINTF(fmt_index, first_arg)
#define LAI_UNLIKELY(x) (x)
#endif

#define LAI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LAI_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LAI_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- error messages ------------------------------------------------------------
 * A failing internal function calls lai_fail(), which formats the message into the
 * calling thread's slot and returns the status, so error paths read
 *     return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tensor '%s': ...", name);
 * A public entry point that succeeds calls lai_clear_error() first. Public calls made on
 * a context or sampler copy the thread's message into the handle with lai_errbuf_store(). */
#define LAI_ERRMSG_MAX 512

typedef struct lai_errbuf {
    char text[LAI_ERRMSG_MAX];
} lai_errbuf;

localai_status lai_fail(localai_status status, const char *fmt, ...) LAI_PRINTF(2, 3);
localai_status lai_failv(localai_status status, const char *fmt, va_list ap);
/* Prefixes the thread's current message with "prefix: " (e.g. the file name). */
void lai_error_prefix(const char *prefix);
void lai_clear_error(void);
const char *lai_thread_errmsg(void);
/* Copies the thread's message into a handle's buffer when status != OK, clears it when
 * OK; returns status so entry points can end with `return lai_errbuf_store(&h->err, st);`. */
localai_status lai_errbuf_store(lai_errbuf *buf, localai_status status);

/* ---- logging --------------------------------------------------------------------- */
typedef struct lai_logger {
    localai_log_fn fn;
    void *user;
    int32_t level;
} lai_logger;

void lai_log(const lai_logger *logger, int32_t level, const char *fmt, ...) LAI_PRINTF(3, 4);
#define lai_log_error(lg, ...) lai_log((lg), LOCALAI_LOG_ERROR, __VA_ARGS__)
#define lai_log_warn(lg, ...) lai_log((lg), LOCALAI_LOG_WARN, __VA_ARGS__)
#define lai_log_info(lg, ...) lai_log((lg), LOCALAI_LOG_INFO, __VA_ARGS__)
#define lai_log_debug(lg, ...) lai_log((lg), LOCALAI_LOG_DEBUG, __VA_ARGS__)

/* ---- allocation -------------------------------------------------------------------
 * Every allocation in lib/ goes through these functions (tests/api/check_alloc.sh keeps
 * malloc & co. out of lib/). lai_malloc/lai_calloc/lai_realloc/lai_strdup allocate from
 * the thread's current heap: the host allocator of the model a public call works for,
 * set by that call with lai_heap_enter and restored with lai_heap_leave, else the C
 * heap. lai_free returns a block to whichever allocator made it. lai_alloc_aligned takes
 * the allocator explicitly (NULL: the C heap) for large aligned buffers, freed with
 * lai_free_aligned and the same size and alignment. */
/* Makes `host` (NULL or one without alloc: the C heap) this thread's heap; returns the
 * previous one, which the caller passes to lai_heap_leave before it returns. */
const localai_allocator *lai_heap_enter(const localai_allocator *host);
void lai_heap_leave(const localai_allocator *previous);
const localai_allocator *lai_heap_current(void);
void *lai_alloc_aligned(const localai_allocator *host, size_t size, size_t alignment);
void lai_free_aligned(const localai_allocator *host, void *ptr, size_t size, size_t alignment);
void *lai_malloc(size_t size);
void *lai_calloc(size_t count, size_t size);
void *lai_realloc(void *ptr, size_t size);
void lai_free(void *ptr);
char *lai_strdup(const char *s);

/* ---- overflow-safe arithmetic (return 1 on overflow) ----------------------------- */
static inline int lai_add_overflow_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_add_overflow(a, b, out);
}
static inline int lai_mul_overflow_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_mul_overflow(a, b, out);
}
static inline int lai_add_overflow_size(size_t a, size_t b, size_t *out) {
    return __builtin_add_overflow(a, b, out);
}
static inline int lai_mul_overflow_size(size_t a, size_t b, size_t *out) {
    return __builtin_mul_overflow(a, b, out);
}

/* ---- versioned params structs ------------------------------------------------------
 * A caller's struct may be older (shorter) than ours. LAI_PARAMS_HAS says whether the
 * caller's struct_size covers `field`; lai_params_copy() copies the covered prefix over
 * a defaults-filled struct of the current size. */
#define LAI_PARAMS_HAS(ptr, type, field) \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* Validates a caller params struct and merges it into `defaults` (already filled, of
 * `current_size` bytes). NULL `caller` keeps defaults. Returns INVALID_ARGUMENT for a
 * struct_size smaller than sizeof(size_t). `what` names the struct in messages. */
localai_status lai_params_merge(void *defaults, size_t current_size, const void *caller,
                                const char *what);

/* Fills `params` with `defaults` for the first struct_size bytes the caller has room for
 * and records that size. Used by the *_params_init_sized entry points. */
localai_status lai_params_init(void *params, size_t struct_size, const void *defaults,
                               size_t current_size, const char *what);

#endif /* LAI_BASE_H */
