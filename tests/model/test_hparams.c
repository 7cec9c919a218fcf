/* test_hparams.c - hyper-parameters of every architecture, llama.cpp's defaults, and bad metadata. */
#include "model/hparams.h"
#include "quant/quant.h"
#include "test_util.h"

#include "model_test_util.h"

#include <math.h>

static int near(float a, float b) { return fabsf(a - b) <= 1e-6f * (1.0f + fabsf(b)); }

/* Loads the hparams of a generated model; returns the status. */
static localai_status load(const gen_options *o, edit_fn edit, lai_hparams *hp) {
    image im;
    localai_status st = image_make(o, edit, &im);
    if (st == LOCALAI_STATUS_OK) st = lai_hparams_load(im.g, hp);
    image_free(&im);
    return st;
}

static gen_options opts(lai_arch arch) {
    gen_options o;
    gen_options_init(&o);
    o.arch = arch;
    return o;
}

static void test_shared_models(void) {
    lai_gguf *g = NULL;
    lai_hparams hp;
    CHECK_STATUS(lai_gguf_open(test_shared_path("models/stories260K.gguf"), 1, &g), LOCALAI_STATUS_OK);
    if (g != NULL) {
        CHECK_STATUS(lai_hparams_load(g, &hp), LOCALAI_STATUS_OK);
        CHECK(hp.arch == LAI_ARCH_LLAMA && hp.n_embd == 64 && hp.n_layer == 5 && hp.n_head == 8);
        CHECK(hp.n_head_kv == 4 && hp.n_ff == 172 && hp.n_vocab == 512 && hp.n_ctx_train == 2048);
        CHECK(hp.head_dim_k == 8 && hp.head_dim_v == 8 && hp.n_rot == 8);
        CHECK(hp.norm_eps == 1e-5f && hp.rope_freq_base == 10000.0f && hp.rope_freq_scale == 1.0f);
        CHECK(hp.rope_scaling == LAI_ROPE_SCALING_NONE && hp.rope_neox == 0);
        CHECK(hp.tied_embeddings == 0 && hp.n_swa == 0 && hp.embd_scale == 1.0f);
        CHECK(near(hp.attn_scale, 1.0f / sqrtf(8.0f)));
        CHECK(hp.rope_orig_ctx == 2048 && hp.rope_attn_factor == 1.0f && hp.yarn_ext_factor == 0.0f);
        CHECK(hp.yarn_beta_fast == 32.0f && hp.yarn_beta_slow == 1.0f);
    }
    lai_gguf_close(g);
    g = NULL;
    CHECK_STATUS(lai_gguf_open(test_shared_path("models/llama-2-tiny-random-UNTRAINED.gguf"), 1, &g),
                 LOCALAI_STATUS_OK);
    if (g != NULL) {
        CHECK_STATUS(lai_hparams_load(g, &hp), LOCALAI_STATUS_OK);
        CHECK(hp.n_embd == 8 && hp.n_layer == 1 && hp.n_head == 2 && hp.n_head_kv == 2);
        CHECK(hp.n_vocab == 32000 && hp.n_ff == 32 && hp.n_rot == 4 && hp.n_ctx_train == 4096);
    }
    lai_gguf_close(g);
    /* Vocabulary files: the deepseek-coder one carries full llama hyper-parameters with
     * linear rope scaling by 4 and base 100000. */
    g = NULL;
    CHECK_STATUS(lai_gguf_open(test_shared_path("vocab/ggml-vocab-deepseek-coder.gguf"), 1, &g),
                 LOCALAI_STATUS_OK);
    if (g != NULL) {
        CHECK_STATUS(lai_hparams_load(g, &hp), LOCALAI_STATUS_OK);
        CHECK(hp.n_embd == 4096 && hp.n_layer == 32 && hp.n_vocab == 32256 && hp.n_ctx_train == 16384);
        CHECK(hp.rope_scaling == LAI_ROPE_SCALING_LINEAR && hp.rope_scaling_factor == 4.0f);
        CHECK(hp.rope_freq_scale == 0.25f && hp.rope_freq_base == 100000.0f && hp.norm_eps == 1e-6f);
    }
    lai_gguf_close(g);
    g = NULL;
    CHECK_STATUS(lai_gguf_open(test_shared_path("vocab/ggml-vocab-gpt-2.gguf"), 1, &g), LOCALAI_STATUS_OK);
    if (g != NULL) {
        CHECK_STATUS(lai_hparams_load(g, &hp), LOCALAI_STATUS_UNSUPPORTED);
        CHECK(strstr(localai_errmsg(), "'gpt2'") != NULL);
    }
    lai_gguf_close(g);
}

static void test_per_arch(void) {
    lai_hparams hp;
    /* rope style: llama rotates adjacent pairs, the others NeoX halves */
    const lai_arch archs[] = {LAI_ARCH_LLAMA, LAI_ARCH_QWEN2, LAI_ARCH_QWEN3,
                              LAI_ARCH_PHI3, LAI_ARCH_GEMMA2, LAI_ARCH_GEMMA3};
    const int neox[] = {0, 1, 1, 1, 1, 1};
    for (size_t i = 0; i < LAI_ARRAY_LEN(archs); i++) {
        gen_options o = opts(archs[i]);
        memset(&hp, 0, sizeof hp);
        CHECK_STATUS(load(&o, NULL, &hp), LOCALAI_STATUS_OK);
        CHECK_MSG(hp.arch == archs[i] && hp.rope_neox == neox[i], "%s", lai_arch_name(archs[i]));
        CHECK(hp.n_embd == 64 && hp.n_layer == 2 && hp.n_head == 4 && hp.n_head_kv == 2);
        CHECK(hp.head_dim_k == 16 && hp.n_ff == 96 && hp.n_vocab == 259);
        int gemma = archs[i] == LAI_ARCH_GEMMA2 || archs[i] == LAI_ARCH_GEMMA3;
        CHECK(near(hp.embd_scale, gemma ? 8.0f : 1.0f));
        CHECK(near(hp.attn_scale, 0.25f));
    }

    /* gemma2: window 4096 by default, even layers slide, soft-capping 50/30 by default. */
    gen_options o = opts(LAI_ARCH_GEMMA2);
    o.n_layer = 5;
    CHECK_STATUS(load(&o, NULL, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.n_swa == 4096 && hp.swa_pattern == 2);
    CHECK(hp.swa_layer[0] == 1 && hp.swa_layer[1] == 0 && hp.swa_layer[2] == 1 &&
          hp.swa_layer[3] == 0 && hp.swa_layer[4] == 1);
    CHECK(hp.attn_logit_softcap == 50.0f && hp.final_logit_softcap == 30.0f);
    o.n_swa = 512;
    CHECK_STATUS(load(&o, NULL, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.n_swa == 512);

    /* gemma3: five local layers then one global; local layers use base 10000, scale 1. */
    o = opts(LAI_ARCH_GEMMA3);
    o.n_layer = 13;
    o.n_swa = 1024;
    o.rope_freq_base = 1000000.0f;
    CHECK_STATUS(load(&o, NULL, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.n_swa == 1024 && hp.swa_pattern == 6);
    for (uint32_t il = 0; il < 13; il++)
        CHECK_MSG(hp.swa_layer[il] == (il % 6 != 5), "layer %u", il);
    CHECK(hp.rope_freq_base == 1000000.0f && hp.rope_freq_base_swa == 10000.0f);
    CHECK(hp.rope_freq_scale_swa == 1.0f);
    CHECK(hp.attn_logit_softcap == 0.0f && hp.final_logit_softcap == 0.0f);

    /* the 27B sizes scale queries by 1/sqrt(n_embd / n_head), the others by 1/sqrt(head_dim) */
    o = opts(LAI_ARCH_GEMMA2);
    o.n_layer = 46;
    o.n_embd = 64;
    o.n_head = 2;
    o.n_head_kv = 1;
    o.head_dim = 16; /* n_embd / n_head = 32 differs from the head size */
    o.n_ff = 32;
    CHECK_STATUS(load(&o, NULL, &hp), LOCALAI_STATUS_OK);
    CHECK(near(hp.attn_scale, 1.0f / sqrtf(32.0f)));
    o.n_layer = 45;
    CHECK_STATUS(load(&o, NULL, &hp), LOCALAI_STATUS_OK);
    CHECK(near(hp.attn_scale, 0.25f));
    o.arch = LAI_ARCH_GEMMA3;
    o.n_layer = 62;
    o.n_swa = 128;
    CHECK_STATUS(load(&o, NULL, &hp), LOCALAI_STATUS_OK);
    CHECK(near(hp.attn_scale, 1.0f / sqrtf(32.0f)));

    /* tied embeddings are seen from the tensor list */
    o = opts(LAI_ARCH_QWEN2);
    o.tied = 1;
    CHECK_STATUS(load(&o, NULL, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.tied_embeddings == 1);

    /* phi3: LongRoPE when the factor tensors are present; partial rotary allowed */
    o = opts(LAI_ARCH_PHI3);
    o.rope_freqs = 1;
    o.n_rot = 12;
    CHECK_STATUS(load(&o, NULL, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.rope_scaling == LAI_ROPE_SCALING_LONGROPE && hp.n_rot == 12 && hp.rope_orig_ctx == 256);
    CHECK(hp.n_swa == 0);
}

static void edit_final_softcap(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_f32(w, arch_key(arch, "final_logit_softcapping"), 30.0f);
}

/* gemma3: llama.cpp soft-caps the logits only without a sliding window. */
static void test_gemma3_softcap(void) {
    lai_hparams hp;
    gen_options o = opts(LAI_ARCH_GEMMA3);
    o.n_swa = 512;
    CHECK_STATUS(load(&o, edit_final_softcap, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.final_logit_softcap == 0.0f && hp.swa_pattern == 6);
    o.n_swa = 0;
    CHECK_STATUS(load(&o, edit_final_softcap, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.final_logit_softcap == 30.0f && hp.swa_pattern == 0 && hp.swa_layer[0] == 0);
}

static void edit_yarn(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_str(w, arch_key(arch, "rope.scaling.type"), "yarn");
    lai_gguf_writer_set_f32(w, arch_key(arch, "rope.scaling.factor"), 4.0f);
    lai_gguf_writer_set_u32(w, arch_key(arch, "rope.scaling.original_context_length"), 32768);
    lai_gguf_writer_set_f32(w, arch_key(arch, "rope.scaling.yarn_beta_fast"), 16.0f);
}
static void edit_none_with_factor(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_str(w, arch_key(arch, "rope.scaling.type"), "none");
    lai_gguf_writer_set_f32(w, arch_key(arch, "rope.scaling.factor"), 4.0f);
}
static void edit_old_linear(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_f32(w, arch_key(arch, "rope.scale_linear"), 2.0f);
}
static void edit_bad_scaling(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_str(w, arch_key(arch, "rope.scaling.type"), "dynamic-ntk");
}

static void test_rope_scaling(void) {
    lai_hparams hp;
    gen_options o = opts(LAI_ARCH_QWEN2);
    CHECK_STATUS(load(&o, edit_yarn, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.rope_scaling == LAI_ROPE_SCALING_YARN && hp.rope_freq_scale == 0.25f);
    CHECK(hp.rope_orig_ctx == 32768 && hp.yarn_ext_factor == 1.0f && hp.yarn_beta_fast == 16.0f);
    CHECK(hp.yarn_beta_slow == 1.0f && hp.yarn_attn_factor == 1.0f);
    CHECK_STATUS(load(&o, edit_none_with_factor, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.rope_scaling == LAI_ROPE_SCALING_NONE && hp.rope_freq_scale == 1.0f);
    CHECK_STATUS(load(&o, edit_old_linear, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.rope_scaling == LAI_ROPE_SCALING_LINEAR && hp.rope_freq_scale == 0.5f);
    CHECK_STATUS(load(&o, edit_bad_scaling, &hp), LOCALAI_STATUS_BAD_FORMAT);
    CHECK(strstr(localai_errmsg(), "dynamic-ntk") != NULL);
}

static void edit_no_eps(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_remove(w, arch_key(arch, "attention.layer_norm_rms_epsilon"));
}
static void edit_no_embd(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_remove(w, arch_key(arch, "embedding_length"));
}
static void edit_str_ctx(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_str(w, arch_key(arch, "context_length"), "4096");
}
static void edit_kv_not_divisor(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_u32(w, arch_key(arch, "attention.head_count_kv"), 3);
}
static void edit_experts(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_u32(w, arch_key(arch, "expert_count"), 8);
}
static void edit_layers_huge(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_u32(w, arch_key(arch, "block_count"), 100000);
}
static void edit_head_array_same(lai_gguf_writer *w, const char *arch) {
    int32_t heads[2] = {4, 4};
    lai_gguf_writer_set_array(w, arch_key(arch, "attention.head_count"), LAI_GGUF_INT32, heads, 2);
}
static void edit_head_array_differs(lai_gguf_writer *w, const char *arch) {
    int32_t heads[2] = {4, 2};
    lai_gguf_writer_set_array(w, arch_key(arch, "attention.head_count_kv"), LAI_GGUF_INT32, heads, 2);
}
static void edit_head_array_short(lai_gguf_writer *w, const char *arch) {
    int32_t heads[1] = {4};
    lai_gguf_writer_set_array(w, arch_key(arch, "attention.head_count"), LAI_GGUF_INT32, heads, 1);
}
static void edit_vocab_size(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_u32(w, arch_key(arch, "vocab_size"), 300);
}
static void edit_arch_unknown(lai_gguf_writer *w, const char *arch) {
    (void)arch;
    lai_gguf_writer_set_str(w, "general.architecture", "mamba");
}
static void edit_no_arch(lai_gguf_writer *w, const char *arch) {
    (void)arch;
    lai_gguf_writer_remove(w, "general.architecture");
}
static void edit_nan_eps(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_f32(w, arch_key(arch, "attention.layer_norm_rms_epsilon"), NAN);
}
static void edit_zero_base(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_f32(w, arch_key(arch, "rope.freq_base"), 0.0f);
}
static void edit_odd_rot(lai_gguf_writer *w, const char *arch) {
    lai_gguf_writer_set_u32(w, arch_key(arch, "rope.dimension_count"), 7);
}

static void expect_fail(lai_arch arch, edit_fn edit, localai_status want, const char *words, int line) {
    lai_hparams hp;
    gen_options o = opts(arch);
    localai_status st = load(&o, edit, &hp);
    CHECK_MSG(st == want, "line %d: status %d (%s)", line, (int)st, localai_errmsg());
    CHECK_MSG(strstr(localai_errmsg(), words) != NULL, "line %d: '%s' lacks '%s'", line,
              localai_errmsg(), words);
}
#define EXPECT_FAIL(arch, edit, want, words) expect_fail(arch, edit, want, words, __LINE__)

static void test_bad_metadata(void) {
    const localai_status BAD = LOCALAI_STATUS_BAD_FORMAT, UNS = LOCALAI_STATUS_UNSUPPORTED;
    EXPECT_FAIL(LAI_ARCH_QWEN3, edit_no_eps, BAD, "missing key 'qwen3.attention.layer_norm_rms_epsilon'");
    EXPECT_FAIL(LAI_ARCH_LLAMA, edit_no_embd, BAD, "missing key 'llama.embedding_length'");
    EXPECT_FAIL(LAI_ARCH_LLAMA, edit_str_ctx, BAD, "llama.context_length");
    EXPECT_FAIL(LAI_ARCH_LLAMA, edit_kv_not_divisor, BAD, "does not divide");
    EXPECT_FAIL(LAI_ARCH_LLAMA, edit_experts, UNS, "experts");
    EXPECT_FAIL(LAI_ARCH_GEMMA2, edit_layers_huge, BAD, "gemma2.block_count");
    EXPECT_FAIL(LAI_ARCH_LLAMA, edit_head_array_differs, UNS, "head_count_kv");
    EXPECT_FAIL(LAI_ARCH_LLAMA, edit_head_array_short, BAD, "one per layer");
    EXPECT_FAIL(LAI_ARCH_PHI3, edit_vocab_size, BAD, "phi3.vocab_size");
    EXPECT_FAIL(LAI_ARCH_LLAMA, edit_arch_unknown, UNS, "'mamba'");
    EXPECT_FAIL(LAI_ARCH_LLAMA, edit_no_arch, BAD, "general.architecture");
    EXPECT_FAIL(LAI_ARCH_QWEN2, edit_nan_eps, BAD, "layer_norm_rms_epsilon");
    EXPECT_FAIL(LAI_ARCH_QWEN2, edit_zero_base, BAD, "rope.freq_base");
    EXPECT_FAIL(LAI_ARCH_QWEN2, edit_odd_rot, BAD, "rope.dimension_count");
    lai_hparams hp;
    gen_options o = opts(LAI_ARCH_LLAMA);
    CHECK_STATUS(load(&o, edit_head_array_same, &hp), LOCALAI_STATUS_OK);
    CHECK(hp.n_head == 4);
    /* llama.cpp refuses partial rotary for llama */
    o.n_rot = 8;
    CHECK_STATUS(load(&o, NULL, &hp), LOCALAI_STATUS_BAD_FORMAT);
    CHECK(strstr(localai_errmsg(), "rope.dimension_count") != NULL);
}

int main(void) {
    test_shared_models();
    test_per_arch();
    test_rope_scaling();
    test_gemma3_softcap();
    test_bad_metadata();
    CHECK(strcmp(lai_arch_name(LAI_ARCH_GEMMA3), "gemma3") == 0);
    lai_arch a;
    CHECK(lai_arch_lookup("qwen3", 5, &a) && a == LAI_ARCH_QWEN3);
    CHECK(!lai_arch_lookup("qwen", 4, &a));
    return test_finish("test_hparams");
}
