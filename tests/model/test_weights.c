/* test_weights.c - binding generated and real models: every architecture and type, and broken tensor sets. */
#include "model/weights.h"
#include "quant/quant.h"
#include "test_util.h"

#include "model_test_util.h"

static gen_options opts(lai_arch arch) {
    gen_options o;
    gen_options_init(&o);
    o.arch = arch;
    return o;
}

/* Generates, loads hparams and binds; returns the bind status (or an earlier failure). */
static localai_status bind(const gen_options *o, lai_model_weights *w, lai_hparams *hp) {
    image im;
    localai_status st = image_make(o, NULL, &im);
    if (st == LOCALAI_STATUS_OK) st = lai_hparams_load(im.g, hp);
    if (st == LOCALAI_STATUS_OK) {
        st = lai_weights_bind(im.g, hp, w);
        if (st == LOCALAI_STATUS_OK) {
            /* Pointers must lie in the image; check a few roles, then release. */
            CHECK(w->token_embd != NULL && w->output_norm != NULL && w->output != NULL);
            CHECK(w->token_embd->data >= im.bytes && w->token_embd->data < im.bytes + im.size);
            for (uint32_t il = 0; il < hp->n_layer; il++) {
                const lai_layer_weights *l = &w->layers[il];
                CHECK(l->attn_norm != NULL && l->attn_output != NULL && l->ffn_down != NULL);
                CHECK(l->ffn_up != NULL && l->ffn_norm != NULL);
                CHECK(l->attn_qkv != NULL || (l->attn_q && l->attn_k && l->attn_v));
            }
            lai_weights_free(w);
        }
    }
    image_free(&im);
    return st;
}

static void test_every_arch_and_type(void) {
    const lai_arch archs[] = {LAI_ARCH_LLAMA, LAI_ARCH_QWEN2, LAI_ARCH_QWEN3,
                              LAI_ARCH_PHI3, LAI_ARCH_GEMMA2, LAI_ARCH_GEMMA3};
    int n_types = 0;
    for (uint32_t type = 0; type < LAI_TYPE_COUNT; type++) {
        const lai_type_traits *tr = lai_type_get(type);
        /* every type this build can both write (quantize) and compute with */
        if (tr == NULL || tr->to_float == NULL || tr->from_float == NULL) continue;
        n_types++;
        for (size_t a = 0; a < LAI_ARRAY_LEN(archs); a++) {
            gen_options o = opts(archs[a]);
            o.weight_type = type;
            o.n_embd = 256; /* a whole number of 256-element super-blocks */
            o.n_ff = 512;
            o.n_head = 4;
            o.n_head_kv = 2;
            o.n_layer = 1;
            lai_model_weights w;
            lai_hparams hp;
            localai_status st = bind(&o, &w, &hp);
            CHECK_MSG(st == LOCALAI_STATUS_OK, "%s %s: %s", lai_arch_name(archs[a]), tr->name,
                      localai_errmsg());
        }
    }
    CHECK(n_types >= 3); /* at least f32, f16, bf16 */
}

static void test_variants(void) {
    lai_model_weights w;
    lai_hparams hp;
    gen_options o = opts(LAI_ARCH_LLAMA);
    o.tied = 1;
    o.rope_freqs = 1;
    image im;
    CHECK_STATUS(image_make(&o, NULL, &im), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_hparams_load(im.g, &hp), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_weights_bind(im.g, &hp, &w), LOCALAI_STATUS_OK);
    CHECK(w.output == w.token_embd && hp.tied_embeddings);
    CHECK(w.rope_freqs != NULL && w.rope_freqs->ne[0] == 8);
    CHECK(w.layers[1].attn_q_bias == NULL && w.layers[1].ffn_gate != NULL);
    lai_weights_free(&w);
    image_free(&im);

    o = opts(LAI_ARCH_PHI3);
    o.phi3_separate_qkv = 1;
    o.rope_freqs = 1;
    CHECK_STATUS(bind(&o, &w, &hp), LOCALAI_STATUS_OK);
    o.phi3_separate_qkv = 0;
    CHECK_STATUS(image_make(&o, NULL, &im), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_hparams_load(im.g, &hp), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_weights_bind(im.g, &hp, &w), LOCALAI_STATUS_OK);
    CHECK(w.layers[0].attn_qkv != NULL && w.layers[0].attn_qkv->ne[1] == 64 + 2 * 32);
    CHECK(w.layers[0].ffn_up->ne[1] == 2 * 96 && w.layers[0].ffn_gate == NULL);
    CHECK(w.rope_factors_long != NULL && w.rope_factors_short != NULL);
    lai_weights_free(&w);
    image_free(&im);

    o = opts(LAI_ARCH_QWEN2);
    CHECK_STATUS(image_make(&o, NULL, &im), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_hparams_load(im.g, &hp), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_weights_bind(im.g, &hp, &w), LOCALAI_STATUS_OK);
    CHECK(w.layers[0].attn_q_bias && w.layers[0].attn_k_bias && w.layers[0].attn_v_bias);
    lai_weights_free(&w);
    image_free(&im);

    o = opts(LAI_ARCH_GEMMA3);
    o.head_dim = 32; /* head size larger than n_embd / n_head, as Gemma does */
    o.tied = 1;      /* Gemma has no output.weight */
    CHECK_STATUS(image_make(&o, NULL, &im), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_hparams_load(im.g, &hp), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_weights_bind(im.g, &hp, &w), LOCALAI_STATUS_OK);
    CHECK(w.layers[0].attn_q->ne[1] == 128 && w.layers[0].attn_output->ne[0] == 128);
    CHECK(w.layers[0].attn_q_norm->ne[0] == 32 && w.layers[0].attn_post_norm != NULL);
    CHECK(w.layers[0].ffn_post_norm != NULL && w.output == w.token_embd);
    lai_weights_free(&w);
    image_free(&im);
}

static void expect_bind_fail(gen_options o, localai_status want, const char *words, int line) {
    lai_model_weights w;
    lai_hparams hp;
    localai_status st = bind(&o, &w, &hp);
    CHECK_MSG(st == want, "line %d: status %d (%s)", line, (int)st, localai_errmsg());
    CHECK_MSG(strstr(localai_errmsg(), words) != NULL, "line %d: '%s' lacks '%s'", line,
              localai_errmsg(), words);
}
#define EXPECT_BIND_FAIL(o, want, words) expect_bind_fail(o, want, words, __LINE__)

static void test_broken(void) {
    const localai_status BAD = LOCALAI_STATUS_BAD_FORMAT, UNS = LOCALAI_STATUS_UNSUPPORTED;
    gen_options o = opts(LAI_ARCH_LLAMA);
    o.skip_tensor = "blk.1.ffn_gate.weight";
    EXPECT_BIND_FAIL(o, BAD, "tensor 'blk.1.ffn_gate.weight' is missing");
    o = opts(LAI_ARCH_QWEN2);
    o.skip_tensor = "blk.0.attn_k.bias";
    EXPECT_BIND_FAIL(o, BAD, "'blk.0.attn_k.bias' is missing");
    o = opts(LAI_ARCH_QWEN3);
    o.skip_tensor = "blk.1.attn_q_norm.weight";
    EXPECT_BIND_FAIL(o, BAD, "blk.1.attn_q_norm.weight");
    o = opts(LAI_ARCH_GEMMA2);
    o.skip_tensor = "blk.0.post_ffw_norm.weight";
    EXPECT_BIND_FAIL(o, BAD, "blk.0.post_ffw_norm.weight");
    o = opts(LAI_ARCH_PHI3);
    o.skip_tensor = "blk.0.attn_qkv.weight";
    EXPECT_BIND_FAIL(o, BAD, "neither 'blk.0.attn_qkv.weight'");
    o = opts(LAI_ARCH_LLAMA);
    o.skip_tensor = "output_norm.weight";
    EXPECT_BIND_FAIL(o, BAD, "'output_norm.weight' is missing");

    o = opts(LAI_ARCH_LLAMA);
    o.reshape_tensor = "blk.0.attn_k.weight";
    o.reshape_ne0 = 32;
    EXPECT_BIND_FAIL(o, BAD, "tensor 'blk.0.attn_k.weight' has shape [32, 32] but the hyper-parameters need [64, 32]");
    o = opts(LAI_ARCH_GEMMA3);
    o.reshape_tensor = "blk.1.attn_k_norm.weight";
    o.reshape_ne0 = 8;
    EXPECT_BIND_FAIL(o, BAD, "has shape [8] but the hyper-parameters need [16]");
    o = opts(LAI_ARCH_QWEN2);
    o.reshape_tensor = "token_embd.weight";
    o.reshape_ne0 = 32;
    EXPECT_BIND_FAIL(o, BAD, "[32, 259] but the hyper-parameters need [64, 259]");

    o = opts(LAI_ARCH_LLAMA);
    o.extra_tensor = "blk.0.ffn_gate_inp.weight";
    EXPECT_BIND_FAIL(o, UNS, "tensor 'blk.0.ffn_gate_inp.weight' is not part of the llama");
    o = opts(LAI_ARCH_QWEN3);
    o.f16_tensor = "blk.0.attn_norm.weight";
    EXPECT_BIND_FAIL(o, UNS, "vectors (norms, biases) must be f32");

    /* a type without a dequantizer in this build (if any) is refused by name */
    for (uint32_t t = 0; t < LAI_TYPE_COUNT; t++) {
        const lai_type_traits *tr = lai_type_get(t);
        if (tr == NULL || tr->to_float != NULL || tr->from_float == NULL) continue;
        o = opts(LAI_ARCH_LLAMA);
        o.weight_type = t;
        o.n_embd = 256;
        o.n_ff = 256;
        EXPECT_BIND_FAIL(o, UNS, tr->name);
        break;
    }
}

static void test_shared(void) {
    const char *files[] = {"models/stories260K.gguf", "models/llama-2-tiny-random-UNTRAINED.gguf"};
    for (size_t i = 0; i < LAI_ARRAY_LEN(files); i++) {
        lai_gguf *g = NULL;
        lai_hparams hp;
        lai_model_weights w;
        CHECK_STATUS(lai_gguf_open(test_shared_path(files[i]), 1, &g), LOCALAI_STATUS_OK);
        if (g == NULL) continue;
        CHECK_STATUS(lai_hparams_load(g, &hp), LOCALAI_STATUS_OK);
        CHECK_STATUS(lai_weights_bind(g, &hp, &w), LOCALAI_STATUS_OK);
        CHECK(w.output != w.token_embd && w.layers != NULL);
        if (w.layers) CHECK(w.layers[hp.n_layer - 1].ffn_down == lai_gguf_find_tensor(g, i == 0 ? "blk.4.ffn_down.weight" : "blk.0.ffn_down.weight"));
        lai_weights_free(&w);
        lai_gguf_close(g);
    }
}

int main(void) {
    test_shared();
    test_every_arch_and_type();
    test_variants();
    test_broken();
    return test_finish("test_weights");
}
