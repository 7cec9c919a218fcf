/* alloc.c - every allocation of the library: the host allocator of the current model, else the C heap. */
#include "base.h"

#include <stdalign.h>
#include <stdlib.h>

/*
 * A public call made for a model (open, context, decode, tokenize, generate) sets that
 * model's allocator as the thread's heap for its duration (lai_heap_enter/leave), and
 * lai_malloc & co. allocate from it. Each block starts with a header saying which
 * allocator it came from, so lai_free returns it to the right one whatever heap is
 * current when it is freed (a sampler made inside a generate call, a context freed
 * from another thread).
 */

typedef struct block_header {
    void (*host_free)(void *ptr, size_t size, size_t alignment, void *user); /* NULL: C heap */
    void *user;
    size_t size; /* bytes of the whole block, header included */
} block_header;

/* The header is padded so the caller's bytes keep the C heap's alignment. */
#define HEADER_SIZE ((sizeof(block_header) + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t))
#define BLOCK_ALIGN alignof(max_align_t)

static _Thread_local const localai_allocator *current_heap;

const localai_allocator *lai_heap_enter(const localai_allocator *host) {
    const localai_allocator *previous = current_heap;
    current_heap = host != NULL && host->alloc != NULL ? host : NULL;
    return previous;
}

void lai_heap_leave(const localai_allocator *previous) { current_heap = previous; }

const localai_allocator *lai_heap_current(void) { return current_heap; }

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

void *lai_malloc(size_t size) {
    size_t total;
    if (lai_add_overflow_size(size ? size : 1, HEADER_SIZE, &total)) return NULL;
    const localai_allocator *host = current_heap;
    block_header *h = host != NULL ? host->alloc(total, BLOCK_ALIGN, host->user) : malloc(total);
    if (h == NULL) return NULL;
    h->host_free = host != NULL ? host->free : NULL;
    h->user = host != NULL ? host->user : NULL;
    h->size = total;
    return (uint8_t *)h + HEADER_SIZE;
}

void *lai_calloc(size_t count, size_t size) {
    size_t bytes, total;
    if (lai_mul_overflow_size(count ? count : 1, size ? size : 1, &bytes) ||
        lai_add_overflow_size(bytes, HEADER_SIZE, &total))
        return NULL;
    if (current_heap == NULL) {
        /* the C heap hands out fresh pages already zero: no pass over a large block */
        block_header *h = calloc(1, total);
        if (h == NULL) return NULL;
        h->host_free = NULL;
        h->user = NULL;
        h->size = total;
        return (uint8_t *)h + HEADER_SIZE;
    }
    void *p = lai_malloc(bytes);
    if (p != NULL) memset(p, 0, bytes);
    return p;
}

static block_header *header_of(void *ptr) { return (block_header *)(void *)((uint8_t *)ptr - HEADER_SIZE); }

void *lai_realloc(void *ptr, size_t size) {
    if (ptr == NULL) return lai_malloc(size);
    block_header *h = header_of(ptr);
    if (h->host_free == NULL && current_heap == NULL) {
        /* both ends on the C heap: let realloc grow in place */
        size_t total;
        if (lai_add_overflow_size(size ? size : 1, HEADER_SIZE, &total)) return NULL;
        block_header *n = realloc(h, total);
        if (n == NULL) return NULL;
        n->size = total;
        return (uint8_t *)n + HEADER_SIZE;
    }
    void *p = lai_malloc(size);
    if (p == NULL) return NULL;
    size_t old = h->size - HEADER_SIZE;
    memcpy(p, ptr, old < size ? old : size);
    lai_free(ptr);
    return p;
}

void lai_free(void *ptr) {
    if (ptr == NULL) return;
    block_header *h = header_of(ptr);
    if (h->host_free != NULL)
        h->host_free(h, h->size, BLOCK_ALIGN, h->user);
    else
        free(h);
}

char *lai_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = lai_malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}
