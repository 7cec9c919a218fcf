/* alloc.c - host allocator routing for large buffers, and small-heap helpers. */
#include "base.h"

#include <stdlib.h>

static int is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

void *lai_alloc_aligned(const localai_allocator *host, size_t size, size_t alignment) {
    if (size == 0) size = 1;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    if (!is_pow2(alignment) || alignment > 4096) return NULL;
    if (host != NULL && host->alloc != NULL) return host->alloc(size, alignment, host->user);
    size_t rounded;
    if (lai_add_overflow_size(size, alignment - 1, &rounded)) return NULL;
    rounded &= ~(alignment - 1);
    return aligned_alloc(alignment, rounded);
}

void lai_free_aligned(const localai_allocator *host, void *ptr, size_t size, size_t alignment) {
    if (ptr == NULL) return;
    if (size == 0) size = 1;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    if (host != NULL && host->free != NULL) {
        host->free(ptr, size, alignment, host->user);
        return;
    }
    free(ptr);
}

void *lai_malloc(size_t size) { return malloc(size ? size : 1); }
void *lai_calloc(size_t count, size_t size) { return calloc(count ? count : 1, size ? size : 1); }
void *lai_realloc(void *ptr, size_t size) { return realloc(ptr, size ? size : 1); }
void lai_free(void *ptr) { free(ptr); }

char *lai_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = lai_malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}
