/* test_gguf_read.c - the GGUF reader on the real shared files: counts, values, tensor bytes. */
#include "gguf/gguf.h"
#include "quant/quant.h"
#include "test_util.h"

#include <stdio.h>

static uint8_t *read_whole(const char *path, uint64_t *size) {
    size_t n = 0;
    uint8_t *buf = (uint8_t *)test_read_file(path, &n);
    *size = n;
    return buf;
}

static uint32_t get_u32(const lai_gguf *g, const char *key) {
    uint32_t v = 0xDEADBEEF;
    CHECK_STATUS(lai_gguf_get_u32(g, key, &v), LOCALAI_STATUS_OK);
    return v;
}

static int str_is(lai_str s, const char *want) {
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* stories260K.gguf: the facts SOURCES.md states, and tensor bytes equal to the llama2.c
 * checkpoint (which stores token embeddings right after its 7-int header). */
static void check_stories(lai_gguf *g) {
    CHECK(g->version == 3);
    CHECK(g->n_kv == 19);
    CHECK(g->n_tensors == 48);
    CHECK(g->alignment == 32);
    CHECK(get_u32(g, "llama.embedding_length") == 64);
    CHECK(get_u32(g, "llama.feed_forward_length") == 172);
    CHECK(get_u32(g, "llama.block_count") == 5);
    CHECK(get_u32(g, "llama.attention.head_count") == 8);
    CHECK(get_u32(g, "llama.attention.head_count_kv") == 4);
    CHECK(get_u32(g, "llama.rope.dimension_count") == 8);
    CHECK(get_u32(g, "llama.context_length") == 2048);
    CHECK(get_u32(g, "tokenizer.ggml.bos_token_id") == 1);
    float eps = 0;
    CHECK_STATUS(lai_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps),
                 LOCALAI_STATUS_OK);
    CHECK(eps == 1e-5f);
    lai_str arch;
    CHECK_STATUS(lai_gguf_get_str(g, "general.architecture", &arch), LOCALAI_STATUS_OK);
    CHECK(str_is(arch, "llama"));
    const lai_gguf_kv *tokens = NULL;
    CHECK_STATUS(lai_gguf_get_array(g, "tokenizer.ggml.tokens", LAI_GGUF_STRING, &tokens),
                 LOCALAI_STATUS_OK);
    if (tokens != NULL) {
        CHECK(tokens->array_len == 512);
        CHECK(str_is(tokens->strings[0], "<unk>"));
        CHECK(str_is(tokens->strings[1], "<s>"));
        CHECK(str_is(tokens->strings[3], "<0x00>"));
    }
    const lai_gguf_kv *types = NULL;
    CHECK_STATUS(lai_gguf_get_array(g, "tokenizer.ggml.token_type", LAI_GGUF_INT32, &types),
                 LOCALAI_STATUS_OK);
    if (types != NULL) {
        CHECK(lai_gguf_array_i64(types, 0) == 2);
        CHECK(lai_gguf_array_i64(types, 3) == 6);
    }
    const lai_gguf_tensor *emb = lai_gguf_find_tensor(g, "token_embd.weight");
    CHECK(emb != NULL);
    if (emb != NULL) {
        CHECK(emb->type == LAI_TYPE_F32 && emb->n_dims == 2);
        CHECK(emb->ne[0] == 64 && emb->ne[1] == 512 && emb->ne[2] == 1);
        CHECK(emb->n_bytes == 64 * 512 * 4);
        uint64_t bin_size = 0;
        uint8_t *bin = read_whole(test_shared_path("models/stories260K.bin"), &bin_size);
        CHECK(bin != NULL && bin_size > 28 + emb->n_bytes);
        if (bin != NULL && bin_size > 28 + emb->n_bytes)
            CHECK_MSG(memcmp(bin + 28, emb->data, (size_t)emb->n_bytes) == 0,
                      "token_embd bytes differ from stories260K.bin");
        free(bin);
    }
    const lai_gguf_tensor *down = lai_gguf_find_tensor(g, "blk.4.ffn_down.weight");
    CHECK(down != NULL && down->ne[0] == 172 && down->ne[1] == 64);
    CHECK(lai_gguf_find_tensor(g, "blk.5.ffn_down.weight") == NULL);
    CHECK(lai_gguf_find(g, "no.such.key") == NULL);

    /* typed getters: absence, type mismatch, range */
    uint32_t u = 0;
    CHECK_STATUS(lai_gguf_get_u32(g, "no.such.key", &u), LOCALAI_STATUS_NOT_FOUND);
    CHECK_STATUS(lai_gguf_get_u32(g, "general.architecture", &u), LOCALAI_STATUS_BAD_FORMAT);
    CHECK(strstr(localai_errmsg(), "general.architecture") != NULL);
    int32_t i32 = 0;
    CHECK_STATUS(lai_gguf_get_i32(g, "tokenizer.ggml.padding_token_id", &i32),
                 LOCALAI_STATUS_BAD_FORMAT); /* 4294967295 does not fit */
    uint64_t u64 = 0;
    CHECK_STATUS(lai_gguf_get_u64(g, "tokenizer.ggml.padding_token_id", &u64), LOCALAI_STATUS_OK);
    CHECK(u64 == 4294967295u);
    CHECK_STATUS(lai_gguf_get_f32(g, "llama.block_count", &eps), LOCALAI_STATUS_BAD_FORMAT);
    int b = 0;
    CHECK_STATUS(lai_gguf_get_bool(g, "llama.block_count", &b), LOCALAI_STATUS_BAD_FORMAT);
    CHECK_STATUS(lai_gguf_get_array(g, "tokenizer.ggml.tokens", LAI_GGUF_INT32, &types),
                 LOCALAI_STATUS_BAD_FORMAT);

    /* rendering */
    char buf[256];
    size_t n = lai_gguf_format_value(lai_gguf_find(g, "llama.attention.layer_norm_rms_epsilon"),
                                     buf, sizeof buf);
    CHECK(strcmp(buf, "1e-05") == 0 && n == 5);
    lai_gguf_format_value(lai_gguf_find(g, "llama.block_count"), buf, sizeof buf);
    CHECK(strcmp(buf, "5") == 0);
    n = lai_gguf_format_value(tokens, buf, sizeof buf);
    CHECK_MSG(strncmp(buf, "[\"<unk>\", \"<s>\", \"</s>\", \"<0x00>\"", 32) == 0, "%s", buf);
    CHECK(strstr(buf, "... (512 items)]") != NULL && n == strlen(buf));
    char small[8];
    size_t need = lai_gguf_format_value(tokens, small, sizeof small);
    CHECK(need == n && strlen(small) == 7 && memcmp(small, buf, 7) == 0);
}

static void check_tiny_random(lai_gguf *g) {
    CHECK(g->n_tensors == 12);
    int n_f16 = 0, n_f32 = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        n_f16 += g->tensors[i].type == LAI_TYPE_F16;
        n_f32 += g->tensors[i].type == LAI_TYPE_F32;
    }
    CHECK(n_f16 == 9 && n_f32 == 3);
    CHECK(get_u32(g, "llama.embedding_length") == 8);
    CHECK(get_u32(g, "general.file_type") == 1);
    const lai_gguf_kv *tokens = lai_gguf_find(g, "tokenizer.ggml.tokens");
    CHECK(tokens != NULL && tokens->array_len == 32000);
}

typedef struct vocab_fact {
    const char *file;
    const char *arch;
    uint64_t n_tokens;
    uint64_t n_merges; /* 0: no merges key */
} vocab_fact;

static const vocab_fact vocab_facts[] = {
    {"vocab/ggml-vocab-deepseek-coder.gguf", "llama", 32256, 31757},
    {"vocab/ggml-vocab-falcon.gguf", "falcon", 65024, 64784},
    {"vocab/ggml-vocab-gpt-2.gguf", "gpt2", 50257, 50000},
    {"vocab/ggml-vocab-llama-spm.gguf", "llama", 32000, 0},
    {"vocab/ggml-vocab-phi-3.gguf", "phi3", 32064, 0},
    {"vocab/ggml-vocab-starcoder.gguf", "starcoder2", 49152, 48872},
};

static void check_vocab(lai_gguf *g, const vocab_fact *f) {
    CHECK(g->n_tensors == 0);
    lai_str arch;
    CHECK_STATUS(lai_gguf_get_str(g, "general.architecture", &arch), LOCALAI_STATUS_OK);
    CHECK_MSG(str_is(arch, f->arch), "%s", f->file);
    const lai_gguf_kv *kv = lai_gguf_find(g, "tokenizer.ggml.tokens");
    CHECK_MSG(kv != NULL && kv->array_len == f->n_tokens, "%s", f->file);
    kv = lai_gguf_find(g, "tokenizer.ggml.merges");
    if (f->n_merges == 0) CHECK(kv == NULL);
    else CHECK_MSG(kv != NULL && kv->array_len == f->n_merges, "%s", f->file);
}

/* Opens one file three ways (mmap, read, in-memory) and runs `check` on each. */
static void open_three_ways(const char *rel, void (*check)(lai_gguf *, const void *),
                            const void *arg) {
    char path[4096]; /* test_shared_path's buffer is reused by the checks */
    snprintf(path, sizeof path, "%s", test_shared_path(rel));
    for (int mode = 0; mode < 3; mode++) {
        lai_gguf *g = NULL;
        uint8_t *mem = NULL;
        if (mode < 2) {
            CHECK_STATUS(lai_gguf_open(path, mode == 0, &g), LOCALAI_STATUS_OK);
        } else {
            uint64_t size = 0;
            mem = read_whole(path, &size);
            CHECK(mem != NULL);
            if (mem != NULL) CHECK_STATUS(lai_gguf_parse(mem, size, &g), LOCALAI_STATUS_OK);
        }
        if (g != NULL) {
            if (mode == 0) CHECK(g->view.is_mapped);
            check(g, arg);
        }
        lai_gguf_close(g);
        free(mem);
    }
}

static void stories_cb(lai_gguf *g, const void *arg) { (void)arg; check_stories(g); }
static void tiny_cb(lai_gguf *g, const void *arg) { (void)arg; check_tiny_random(g); }
static void vocab_cb(lai_gguf *g, const void *arg) { check_vocab(g, arg); }

int main(void) {
    open_three_ways("models/stories260K.gguf", stories_cb, NULL);
    open_three_ways("models/llama-2-tiny-random-UNTRAINED.gguf", tiny_cb, NULL);
    for (size_t i = 0; i < LAI_ARRAY_LEN(vocab_facts); i++)
        open_three_ways(vocab_facts[i].file, vocab_cb, &vocab_facts[i]);

    /* A missing file and a non-GGUF file fail with their path in the message. */
    lai_gguf *g = (lai_gguf *)(uintptr_t)1;
    CHECK_STATUS(lai_gguf_open("/nonexistent/x.gguf", 1, &g), LOCALAI_STATUS_IO);
    CHECK(g == NULL);
    CHECK_STATUS(lai_gguf_open(test_shared_path("models/stories260K.bin"), 1, &g),
                 LOCALAI_STATUS_BAD_FORMAT);
    CHECK(strstr(localai_errmsg(), "stories260K.bin") != NULL);
    CHECK(strstr(localai_errmsg(), "magic") != NULL);
    return test_finish("test_gguf_read");
}
