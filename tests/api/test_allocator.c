/* test_allocator.c - a host allocator serves every allocation made for its model, and its failures are clean. */
/*
 * 1. Coverage: with a host allocator, opening a model, making a context, tokenizing,
 *    decoding and generating take nothing from the C heap (glibc's mallinfo2 tells).
 * 2. Failures: the allocator fails its Nth allocation, for every N along that path: each
 *    call returns OK or OUT_OF_MEMORY, and after everything is closed no block is left.
 */
#include "localai.h"
#include "test_util.h"

#include <malloc.h>
#include <sys/mman.h>

typedef struct heap {
    long n_allocs, fail_at; /* fail the fail_at-th allocation (1-based); 0: never */
    long live;
    size_t live_bytes;
} heap;

/* Blocks are whole pages from mmap (alignment <= 4096 holds), so the C heap's counters
 * see only what the library takes from the C heap itself. */
static void *heap_alloc(size_t size, size_t alignment, void *user) {
    heap *h = user;
    if (++h->n_allocs == h->fail_at || alignment > 4096) return NULL;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    h->live++;
    h->live_bytes += size;
    return p;
}

static void heap_free(void *ptr, size_t size, size_t alignment, void *user) {
    heap *h = user;
    (void)alignment;
    h->live--;
    h->live_bytes -= size;
    munmap(ptr, size);
}

static int on_token(const localai_token_info *t, void *user) {
    (void)t, (void)user;
    return 0;
}

/* The path a host takes; returns the first status that is not OK (OK when none). */
static localai_status scenario(heap *h, int use_mmap) {
    const localai_allocator a = {sizeof a, heap_alloc, heap_free, h};
    localai_model_params mp;
    localai_model_params_init(&mp);
    mp.allocator = &a;
    mp.use_mmap = use_mmap;
    localai_model *m = NULL;
    localai_context *c = NULL;
    localai_token toks[64];
    size_t n = 0;
    char text[256];
    localai_status st = localai_model_open(test_shared_path("models/stories260K.gguf"), &mp, &m);
    if (st == LOCALAI_STATUS_OK) {
        localai_context_params cp;
        localai_context_params_init(&cp);
        cp.n_ctx = 64;
        cp.n_threads = 2;
        st = localai_context_new(m, &cp, &c);
    }
    if (st == LOCALAI_STATUS_OK)
        st = localai_tokenize(m, "Once upon a time", 16, LOCALAI_TOKENIZE_ADD_SPECIAL, toks, 64, &n);
    if (st == LOCALAI_STATUS_OK) {
        localai_batch b;
        localai_batch_init(&b);
        b.n_tokens = (int32_t)n;
        b.tokens = toks;
        st = localai_decode(c, &b);
    }
    if (st == LOCALAI_STATUS_OK) {
        localai_generate_params gp;
        localai_generate_params_init(&gp);
        gp.max_tokens = 4;
        gp.on_token = on_token;
        st = localai_generate(c, "Lily", &gp, NULL);
    }
    if (st == LOCALAI_STATUS_OK) st = localai_detokenize(m, toks, n, 0, text, sizeof text, &n);
    localai_context_free(c);
    localai_model_close(m);
    return st;
}

static void test_coverage(void) {
    for (int use_mmap = 0; use_mmap <= 1; use_mmap++) {
        heap h = {0, 0, 0, 0};
        scenario(&h, use_mmap); /* warm-up: one-time process state (CPU features, tables) */
        memset(&h, 0, sizeof h);
        struct mallinfo2 before = mallinfo2();
        const localai_allocator a = {sizeof a, heap_alloc, heap_free, &h};
        localai_model_params mp;
        localai_model_params_init(&mp);
        mp.allocator = &a;
        mp.use_mmap = use_mmap;
        localai_model *m = NULL;
        localai_context *c = NULL;
        CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &mp, &m), LOCALAI_STATUS_OK);
        localai_context_params cp;
        localai_context_params_init(&cp);
        cp.n_ctx = 64;
        if (m != NULL) CHECK_STATUS(localai_context_new(m, &cp, &c), LOCALAI_STATUS_OK);
        localai_generate_params gp;
        localai_generate_params_init(&gp);
        gp.max_tokens = 8;
        if (c != NULL) CHECK_STATUS(localai_generate(c, "Once upon a time", &gp, NULL), LOCALAI_STATUS_OK);
        struct mallinfo2 during = mallinfo2();
        long host_blocks = h.live;
        localai_context_free(c);
        localai_model_close(m);
        struct mallinfo2 after = mallinfo2();
        /* The C heap's bytes in use stay as they were (a little slack for the C library's
         * own bookkeeping), while the host holds the model, its vocabulary, the context
         * and its KV cache. */
        long grew = (long)during.uordblks - (long)before.uordblks;
        CHECK_MSG(grew < 1024, "use_mmap %d: the C heap grew by %ld bytes while the host allocator "
                  "held %ld blocks", use_mmap, grew, host_blocks);
        CHECK_MSG(host_blocks > 100, "only %ld host blocks", host_blocks);
        CHECK_MSG(h.live == 0 && h.live_bytes == 0, "%ld blocks left after close", h.live);
        CHECK((long)after.uordblks - (long)before.uordblks < 1024);
        printf("use_mmap %d: %ld allocations from the host, C heap %+ld bytes\n", use_mmap,
               h.n_allocs, grew);
    }
}

static void test_failing_allocations(void) {
    for (int use_mmap = 0; use_mmap <= 1; use_mmap++) {
        heap probe = {0, 0, 0, 0};
        CHECK_STATUS(scenario(&probe, use_mmap), LOCALAI_STATUS_OK);
        long total = probe.n_allocs, failed_cleanly = 0;
        for (long n = 1; n <= total; n++) {
            heap h = {0, n, 0, 0};
            localai_status st = scenario(&h, use_mmap);
            /* a failed worker-thread start is no error (the decode runs with fewer threads) */
            CHECK_MSG(st == LOCALAI_STATUS_OK || st == LOCALAI_STATUS_OUT_OF_MEMORY,
                      "use_mmap %d, allocation %ld failed: status %d (%s)", use_mmap, n, (int)st,
                      localai_errmsg());
            CHECK_MSG(h.live == 0, "use_mmap %d, allocation %ld failed: %ld blocks leaked", use_mmap,
                      n, h.live);
            failed_cleanly += st == LOCALAI_STATUS_OUT_OF_MEMORY;
        }
        printf("use_mmap %d: failing each of %ld allocations: %ld gave OUT_OF_MEMORY, none leaked\n",
               use_mmap, total, failed_cleanly);
        CHECK(failed_cleanly > total / 2);
    }
}

int main(void) {
    test_coverage();
    test_failing_allocations();
    return test_finish("allocator");
}
