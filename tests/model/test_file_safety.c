/* test_file_safety.c - model files that are not regular files, or that change while a model is open. */
#include "localai.h"
#include "test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/localai-file-safety-XXXXXX";

static const char *tmp_path(const char *name) {
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static int copy_file(const char *from, const char *to) {
    size_t n = 0;
    char *data = test_read_file(from, &n);
    FILE *f = data ? fopen(to, "wb") : NULL;
    int ok = f != NULL && fwrite(data, 1, n, f) == n;
    if (f != NULL && fclose(f) != 0) ok = 0;
    free(data);
    return ok;
}

/* A host allocator that refuses anything over 64 MiB: opening a directory once asked
 * for 8 EiB from a trusted ftell. */
static size_t largest_request;
static void *capped_alloc(size_t size, size_t alignment, void *user) {
    (void)user;
    if (size > largest_request) largest_request = size;
    if (size > (64u << 20)) return NULL;
    size_t rounded = (size + alignment - 1) / alignment * alignment;
    return aligned_alloc(alignment, rounded);
}
static void capped_free(void *ptr, size_t size, size_t alignment, void *user) {
    (void)size, (void)alignment, (void)user;
    free(ptr);
}

static localai_status open_with(const char *path, int use_mmap, int vocab_only, localai_model **out) {
    static const localai_allocator alloc = {sizeof(localai_allocator), capped_alloc, capped_free, NULL};
    localai_model_params p;
    localai_model_params_init(&p);
    p.use_mmap = use_mmap;
    p.vocab_only = vocab_only;
    p.allocator = &alloc;
    *out = NULL;
    return localai_model_open(path, &p, out);
}

/* Not regular files: refused at once, naming what they are, in every open mode. A FIFO
 * with no writer used to block forever in open(); SIGALRM ends the test if it does. */
static void test_not_regular(void) {
    const char *fifo = tmp_path("fifo.gguf");
    CHECK(mkfifo(fifo, 0600) == 0);
    struct {
        const char *path, *what;
    } cases[] = {{fifo, "FIFO"}, {dir, "directory"}, {"/dev/zero", "character device"}};
    alarm(20);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int mode = 0; mode < 4; mode++) {
            localai_model *m = NULL;
            largest_request = 0;
            CHECK_STATUS(open_with(cases[c].path, mode & 1, mode >> 1, &m), LOCALAI_STATUS_IO);
            CHECK_MSG(strstr(localai_errmsg(), cases[c].what) != NULL, "%s", localai_errmsg());
            CHECK_MSG(largest_request < 4096, "asked the allocator for %zu bytes", largest_request);
            CHECK(m == NULL);
            localai_model_close(m);
        }
    alarm(0);
    unlink(fifo);
}

static localai_context *new_ctx(localai_model *m) {
    localai_context_params cp;
    localai_context_params_init(&cp);
    cp.n_ctx = 64;
    cp.n_threads = 1;
    localai_context *c = NULL;
    CHECK_STATUS(localai_context_new(m, &cp, &c), LOCALAI_STATUS_OK);
    return c;
}

/* Decodes BOS and "Once" from an empty cache and copies the last logits into out. */
static localai_status decode_two(localai_context *c, float *out, int32_t n_vocab) {
    const localai_token tokens[2] = {1, 403};
    localai_batch b;
    localai_batch_init(&b);
    b.n_tokens = 2;
    b.tokens = tokens;
    localai_kv_clear(c);
    localai_status st = localai_decode(c, &b);
    const float *logits = NULL;
    if (st == LOCALAI_STATUS_OK) st = localai_logits(c, -1, &logits);
    if (st == LOCALAI_STATUS_OK) memcpy(out, logits, (size_t)n_vocab * sizeof(float));
    return st;
}

/* Files that change under an open model, each way the header's "Files that change"
 * describes. */
static void test_changes(void) {
    const char *src = test_shared_path("models/stories260K.gguf");
    const char *path = tmp_path("model.gguf"), *next = tmp_path("next.gguf");
    enum { V = 512 };
    static float before[V], after[V];

    /* use_mmap = 0: the model holds its own copy; truncated and removed, it still runs. */
    CHECK(copy_file(src, path));
    localai_model *m = NULL;
    CHECK_STATUS(open_with(path, 0, 0, &m), LOCALAI_STATUS_OK);
    localai_context *c = m ? new_ctx(m) : NULL;
    if (c != NULL) {
        CHECK_STATUS(decode_two(c, before, V), LOCALAI_STATUS_OK);
        CHECK(truncate(path, 0) == 0 && unlink(path) == 0);
        CHECK_STATUS(decode_two(c, after, V), LOCALAI_STATUS_OK);
        CHECK(memcmp(before, after, sizeof before) == 0);
    }
    localai_context_free(c);
    localai_model_close(m);

    /* use_mmap = 1, file replaced by rename: the mapping keeps the old contents. */
    CHECK(copy_file(src, path));
    m = NULL;
    CHECK_STATUS(open_with(path, 1, 0, &m), LOCALAI_STATUS_OK);
    c = m ? new_ctx(m) : NULL;
    if (c != NULL) {
        CHECK_STATUS(decode_two(c, before, V), LOCALAI_STATUS_OK);
        FILE *f = fopen(next, "wb");
        CHECK(f != NULL && fputs("not a model any more", f) >= 0 && fclose(f) == 0);
        CHECK(rename(next, path) == 0);
        CHECK_STATUS(decode_two(c, after, V), LOCALAI_STATUS_OK);
        CHECK(memcmp(before, after, sizeof before) == 0);
    }
    localai_context_free(c);
    localai_model_close(m);

    /* use_mmap = 1, truncated in place between decodes: the next decode says so with IO
     * instead of reading a page that no longer exists (SIGBUS would end this test). */
    CHECK(copy_file(src, path));
    m = NULL;
    CHECK_STATUS(open_with(path, 1, 0, &m), LOCALAI_STATUS_OK);
    c = m ? new_ctx(m) : NULL;
    if (c != NULL) {
        CHECK_STATUS(decode_two(c, before, V), LOCALAI_STATUS_OK);
        CHECK(truncate(path, 4096) == 0);
        CHECK_STATUS(decode_two(c, after, V), LOCALAI_STATUS_IO);
        CHECK_MSG(strstr(localai_context_errmsg(c), "truncated") != NULL &&
                      strstr(localai_context_errmsg(c), "use_mmap") != NULL,
                  "%s", localai_context_errmsg(c));
        /* put the bytes back: the model runs again */
        CHECK(copy_file(src, path));
        CHECK_STATUS(decode_two(c, after, V), LOCALAI_STATUS_OK);
        CHECK(memcmp(before, after, sizeof before) == 0);
    }
    localai_context_free(c);
    localai_model_close(m);
    unlink(path);
}

int main(void) {
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_not_regular();
    test_changes();
    rmdir(dir);
    return test_finish("file-safety");
}
