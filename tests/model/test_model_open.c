/* test_model_open.c - localai_model_open and the model queries on shared and generated files. */
#include "localai.h"
#include "quant/quant.h"
#include "test_util.h"

#include "gen_model.h"

#include <stdio.h>
#include <unistd.h>

static localai_model *open_model(const char *path, int vocab_only) {
    localai_model_params p;
    localai_model_params_init(&p);
    p.vocab_only = vocab_only;
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(path, &p, &m), LOCALAI_STATUS_OK);
    return m;
}

static void test_stories(void) {
    localai_model *m = open_model(test_shared_path("models/stories260K.gguf"), 0);
    if (m == NULL) return;
    CHECK(strcmp(localai_model_architecture(m), "llama") == 0);
    CHECK(strcmp(localai_model_name(m), "llama") == 0);
    /* SOURCES.md: dim 64, 5 layers, 8 heads, 4 kv heads, vocab 512 */
    CHECK(localai_model_n_embd(m) == 64 && localai_model_n_layer(m) == 5);
    CHECK(localai_model_n_head(m) == 8 && localai_model_n_head_kv(m) == 4);
    CHECK(localai_model_n_vocab(m) == 512 && localai_model_n_ctx_train(m) == 2048);
    /* 2 x 512x64 embeddings + norm 64 + 5 x (64*64*2 + 64*32*2 + 3*64*172 + 2*64) */
    CHECK(localai_model_n_params(m) == 292800);
    CHECK(localai_model_size_bytes(m) == 292800ull * 4);
    CHECK(localai_model_backend(m) == LOCALAI_BACKEND_CPU);
    CHECK(localai_model_meta_count(m) == 19);
    const char *key = NULL;
    CHECK_STATUS(localai_model_meta_key(m, 0, &key), LOCALAI_STATUS_OK);
    CHECK(key != NULL && strcmp(key, "tokenizer.ggml.tokens") == 0);
    CHECK_STATUS(localai_model_meta_key(m, 19, &key), LOCALAI_STATUS_NOT_FOUND);
    CHECK_STATUS(localai_model_meta_key(m, -1, &key), LOCALAI_STATUS_NOT_FOUND);
    char buf[64];
    size_t len = 0;
    CHECK_STATUS(localai_model_meta_value(m, "llama.block_count", buf, sizeof buf, &len), LOCALAI_STATUS_OK);
    CHECK(strcmp(buf, "5") == 0 && len == 1);
    CHECK_STATUS(localai_model_meta_value(m, "llama.attention.layer_norm_rms_epsilon", buf, sizeof buf, &len),
                 LOCALAI_STATUS_OK);
    CHECK(strcmp(buf, "1e-05") == 0);
    CHECK(localai_errmsg()[0] == '\0');
    CHECK_STATUS(localai_model_meta_value(m, "tokenizer.ggml.tokens", buf, 10, &len),
                 LOCALAI_STATUS_BUFFER_TOO_SMALL);
    CHECK(len > 10 && strlen(buf) == 9);
    CHECK_STATUS(localai_model_meta_value(m, "tokenizer.ggml.tokens", NULL, 0, &len),
                 LOCALAI_STATUS_BUFFER_TOO_SMALL);
    char *big = malloc(len + 1);
    size_t len2 = 0;
    CHECK_STATUS(localai_model_meta_value(m, "tokenizer.ggml.tokens", big, len + 1, &len2), LOCALAI_STATUS_OK);
    CHECK(len2 == len && strncmp(big, "[\"<unk>\"", 8) == 0);
    free(big);
    CHECK_STATUS(localai_model_meta_value(m, "no.such.key", buf, sizeof buf, &len), LOCALAI_STATUS_NOT_FOUND);
    CHECK(strstr(localai_errmsg(), "no.such.key") != NULL);
    CHECK_STATUS(localai_model_meta_value(m, NULL, buf, sizeof buf, &len), LOCALAI_STATUS_INVALID_ARGUMENT);
    const char *tmpl = NULL;
    CHECK_STATUS(localai_model_chat_template(m, NULL, &tmpl), LOCALAI_STATUS_NOT_FOUND);
    localai_model_close(m);
}

static void test_tiny_random(void) {
    localai_model *m = open_model(test_shared_path("models/llama-2-tiny-random-UNTRAINED.gguf"), 0);
    if (m == NULL) return;
    CHECK(localai_model_n_embd(m) == 8 && localai_model_n_layer(m) == 1);
    CHECK(localai_model_n_head(m) == 2 && localai_model_n_head_kv(m) == 2);
    CHECK(localai_model_n_vocab(m) == 32000 && localai_model_n_ctx_train(m) == 4096);
    CHECK(strcmp(localai_model_name(m), "LLaMA v2") == 0);
    /* 9 f16 tensors (2 x 8x32000, 4 x 8x8, 3 x 8x32) and 3 f32 norms of 8 */
    CHECK(localai_model_n_params(m) == 2 * 256000 + 4 * 64 + 3 * 256 + 3 * 8);
    CHECK(localai_model_size_bytes(m) == 2 * (2 * 256000 + 4 * 64 + 3 * 256) + 4 * 3 * 8);
    localai_model_close(m);
}

typedef struct vocab_case {
    const char *file, *arch;
    int32_t n_vocab, n_embd, n_layer;
} vocab_case;

static void test_vocab_files(void) {
    const vocab_case cases[] = {
        {"vocab/ggml-vocab-deepseek-coder.gguf", "llama", 32256, 4096, 32},
        {"vocab/ggml-vocab-falcon.gguf", "falcon", 65024, 4544, 32},
        {"vocab/ggml-vocab-gpt-2.gguf", "gpt2", 50257, 768, 12},
        {"vocab/ggml-vocab-llama-spm.gguf", "llama", 32000, 4096, 32},
        {"vocab/ggml-vocab-phi-3.gguf", "phi3", 32064, 3072, 32},
        {"vocab/ggml-vocab-starcoder.gguf", "starcoder2", 49152, 3072, 30},
    };
    for (size_t i = 0; i < LAI_ARRAY_LEN(cases); i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s", test_shared_path(cases[i].file));
        localai_model *m = NULL;
        CHECK(localai_model_open(path, NULL, &m) != LOCALAI_STATUS_OK && m == NULL);
        CHECK_MSG(strstr(localai_errmsg(), path) != NULL, "%s", localai_errmsg());
        m = open_model(path, 1);
        if (m == NULL) continue;
        CHECK_MSG(strcmp(localai_model_architecture(m), cases[i].arch) == 0, "%s", cases[i].file);
        CHECK_MSG(localai_model_n_vocab(m) == cases[i].n_vocab, "%s: %d", cases[i].file,
                  (int)localai_model_n_vocab(m));
        CHECK_MSG(localai_model_n_embd(m) == cases[i].n_embd && localai_model_n_layer(m) == cases[i].n_layer,
                  "%s", cases[i].file);
        CHECK(localai_model_n_params(m) == 0 && localai_model_size_bytes(m) == 0);
        const char *tmpl = NULL;
        localai_status st = localai_model_chat_template(m, NULL, &tmpl);
        if (strcmp(cases[i].arch, "phi3") == 0) {
            CHECK(st == LOCALAI_STATUS_OK && tmpl != NULL && strncmp(tmpl, "{{ bos_token }}", 15) == 0);
            CHECK(tmpl != NULL && strstr(tmpl, "<|assistant|>") != NULL);
        } else {
            CHECK(st == LOCALAI_STATUS_NOT_FOUND);
        }
        localai_model_close(m);
    }
}

/* ---- host services ------------------------------------------------------------------- */

typedef struct alloc_count {
    int allocs, frees;
    size_t live_bytes, largest;
} alloc_count;

static void *count_alloc(size_t size, size_t alignment, void *user) {
    alloc_count *c = user;
    void *p = NULL;
    if (posix_memalign(&p, alignment < sizeof(void *) ? sizeof(void *) : alignment, size) != 0) return NULL;
    c->allocs++;
    c->live_bytes += size;
    if (size > c->largest) c->largest = size;
    return p;
}

static void count_free(void *ptr, size_t size, size_t alignment, void *user) {
    alloc_count *c = user;
    (void)alignment;
    c->frees++;
    c->live_bytes -= size;
    free(ptr);
}

typedef struct progress_log {
    int calls;
    float last;
    int monotonic;
    int cancel_at; /* cancel on this call (1-based), 0 = never */
} progress_log;

static int32_t on_progress(float p, void *user) {
    progress_log *l = user;
    l->calls++;
    if (p < l->last || p < 0.0f || p > 1.0f) l->monotonic = 0;
    l->last = p;
    return l->cancel_at != 0 && l->calls == l->cancel_at;
}

typedef struct log_lines {
    int n;
    char last[256];
} log_lines;

static void on_log(int32_t level, const char *msg, void *user) {
    log_lines *l = user;
    (void)level;
    l->n++;
    snprintf(l->last, sizeof l->last, "%s", msg);
}

static void test_host_services(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s", test_shared_path("models/stories260K.gguf"));
    alloc_count ac = {0};
    localai_allocator a = {sizeof a, count_alloc, count_free, &ac};
    progress_log pl = {0, 0.0f, 1, 0};
    log_lines ll = {0};
    localai_model_params p;
    localai_model_params_init(&p);
    p.use_mmap = 0;
    p.allocator = &a;
    p.progress = on_progress;
    p.progress_user = &pl;
    p.log = on_log;
    p.log_user = &ll;
    p.log_level = LOCALAI_LOG_INFO;
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(path, &p, &m), LOCALAI_STATUS_OK);
    /* the whole file and everything else the model holds come from the host */
    CHECK(ac.largest == 1185376 && ac.allocs > 100 && ac.live_bytes > 1185376);
    CHECK(pl.calls >= 3 && pl.monotonic && pl.last == 1.0f);
    CHECK(ll.n >= 1 && strstr(ll.last, "llama") != NULL);
    CHECK(localai_model_n_params(m) == 292800);
    localai_model_close(m);
    CHECK(ac.frees == ac.allocs && ac.live_bytes == 0);

    /* Cancelling at every progress call frees everything and leaves no model. */
    int total_calls = pl.calls;
    for (int cancel = 1; cancel <= total_calls; cancel++) {
        alloc_count c2 = {0};
        localai_allocator a2 = {sizeof a2, count_alloc, count_free, &c2};
        progress_log p2 = {0, 0.0f, 1, cancel};
        p.allocator = &a2;
        p.progress_user = &p2;
        m = NULL;
        CHECK_STATUS(localai_model_open(path, &p, &m), LOCALAI_STATUS_CANCELLED);
        CHECK(m == NULL && c2.allocs == c2.frees && c2.live_bytes == 0);
        CHECK(p2.calls == cancel);
    }
    /* With mmap the same calls happen, and cancelling works too. */
    progress_log p3 = {0, 0.0f, 1, 2};
    p.use_mmap = 1;
    p.allocator = NULL;
    p.progress_user = &p3;
    CHECK_STATUS(localai_model_open(path, &p, &m), LOCALAI_STATUS_CANCELLED);
    CHECK(strstr(localai_errmsg(), "cancelled") != NULL);
}

static void test_bad_params(void) {
    const char *path = test_shared_path("models/stories260K.gguf");
    localai_model_params p;
    localai_model *m = NULL;
    localai_model_params_init(&p);
    p.backend = LOCALAI_BACKEND_VULKAN;
    p.device_index = -2;
    CHECK_STATUS(localai_model_open(path, &p, &m), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(m == NULL);
    p.device_index = 1000; /* no machine has that many: refused, or no Vulkan at all: the CPU */
    localai_status st = localai_model_open(path, &p, &m);
    CHECK(st == LOCALAI_STATUS_INVALID_ARGUMENT || (st == LOCALAI_STATUS_OK && localai_model_backend(m) == LOCALAI_BACKEND_CPU));
    localai_model_close(m);
    m = NULL;
    localai_model_params_init(&p);
    p.backend = 42;
    CHECK_STATUS(localai_model_open(path, &p, &m), LOCALAI_STATUS_INVALID_ARGUMENT);
    localai_model_params_init(&p);
    p.device_index = 3;
    CHECK_STATUS(localai_model_open(path, &p, &m), LOCALAI_STATUS_INVALID_ARGUMENT);
    localai_model_params_init(&p);
    localai_allocator half = {sizeof half, count_alloc, NULL, NULL};
    p.allocator = &half;
    CHECK_STATUS(localai_model_open(path, &p, &m), LOCALAI_STATUS_INVALID_ARGUMENT);
    localai_model_params_init(&p);
    p.backend = LOCALAI_BACKEND_CPU;
    p.device_index = 0;
    CHECK_STATUS(localai_model_open(path, &p, &m), LOCALAI_STATUS_OK);
    localai_model_close(m);
    /* queries on NULL */
    CHECK(localai_model_n_params(NULL) == 0 && localai_model_meta_count(NULL) == 0);
    const char *s = NULL;
    CHECK_STATUS(localai_model_meta_key(NULL, 0, &s), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_model_chat_template(NULL, NULL, &s), LOCALAI_STATUS_INVALID_ARGUMENT);
}

/* Generated models of every architecture open through the public API with their facts,
 * a real vocabulary and named chat templates. */
static void test_generated(void) {
    const lai_arch archs[] = {LAI_ARCH_LLAMA, LAI_ARCH_QWEN2, LAI_ARCH_QWEN3,
                              LAI_ARCH_PHI3, LAI_ARCH_GEMMA2, LAI_ARCH_GEMMA3};
    char vocab[4096];
    snprintf(vocab, sizeof vocab, "%s", test_shared_path("vocab/ggml-vocab-phi-3.gguf"));
    for (size_t i = 0; i < LAI_ARRAY_LEN(archs); i++) {
        gen_options o;
        gen_options_init(&o);
        o.arch = archs[i];
        o.vocab_path = vocab;
        o.weight_type = LAI_TYPE_F16;
        o.n_embd = 32;
        o.n_head = 4;
        o.n_head_kv = 1;
        o.n_ff = 48;
        o.n_layer = 3;
        o.n_ctx = 1024;
        o.tied = archs[i] == LAI_ARCH_GEMMA2 || archs[i] == LAI_ARCH_GEMMA3;
        lai_gguf_writer *w = NULL;
        CHECK_STATUS(gen_model_build(&o, &w), LOCALAI_STATUS_OK);
        if (w == NULL) continue;
        CHECK_STATUS(lai_gguf_writer_set_str(w, "tokenizer.chat_template.tool_use", "TOOLS"),
                     LOCALAI_STATUS_OK);
        char path[64];
        snprintf(path, sizeof path, "gen_open_%d_%zu.gguf", (int)getpid(), i);
        CHECK_STATUS(lai_gguf_writer_write_file(w, path), LOCALAI_STATUS_OK);
        lai_gguf_writer_free(w);
        localai_model *m = open_model(path, 0);
        if (m != NULL) {
            CHECK(strcmp(localai_model_architecture(m), lai_arch_name(archs[i])) == 0);
            CHECK(localai_model_n_embd(m) == 32 && localai_model_n_layer(m) == 3);
            CHECK(localai_model_n_head(m) == 4 && localai_model_n_head_kv(m) == 1);
            CHECK(localai_model_n_vocab(m) == 32064 && localai_model_n_ctx_train(m) == 1024);
            const char *t = NULL;
            CHECK_STATUS(localai_model_chat_template(m, "tool_use", &t), LOCALAI_STATUS_OK);
            CHECK(t != NULL && strcmp(t, "TOOLS") == 0);
            CHECK_STATUS(localai_model_chat_template(m, NULL, &t), LOCALAI_STATUS_OK);
            CHECK_STATUS(localai_model_chat_template(m, "rag", &t), LOCALAI_STATUS_NOT_FOUND);
            CHECK(strstr(localai_errmsg(), "rag") != NULL);
            localai_model_close(m);
        }
        remove(path);
    }
}

int main(void) {
    test_stories();
    test_tiny_random();
    test_vocab_files();
    test_host_services();
    test_bad_params();
    test_generated();
    return test_finish("test_model_open");
}
