/* gen_model_lib.c - the random-weight model builder: metadata as converters write it, tensors by llama.cpp name. */
#include "gen_model.h"
#include "gen_iq4.h"

#include "quant/quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Largest n_rot / 2 the deterministic rope factor tensors are made for. */
#define LAI_MAX_ROT_HALF 1024

void gen_options_init(gen_options *o) {
    memset(o, 0, sizeof *o);
    o->arch = LAI_ARCH_LLAMA;
    o->weight_type = LAI_TYPE_F32;
    o->seed = 1;
    o->n_embd = 64;
    o->n_layer = 2;
    o->n_head = 4;
    o->n_head_kv = 2;
    o->n_ff = 96;
    o->n_ctx = 256;
}

int32_t gen_ftype_for_type(uint32_t type) {
    switch (type) {
    case LAI_TYPE_F32: return 0;
    case LAI_TYPE_F16: return 1;
    case LAI_TYPE_Q4_0: return 2;
    case LAI_TYPE_Q4_1: return 3;
    case LAI_TYPE_Q8_0: return 7;
    case LAI_TYPE_Q5_0: return 8;
    case LAI_TYPE_Q5_1: return 9;
    case LAI_TYPE_Q2_K: return 10;
    case LAI_TYPE_Q3_K: return 12;
    case LAI_TYPE_Q4_K: return 15;
    case LAI_TYPE_Q5_K: return 17;
    case LAI_TYPE_Q6_K: return 18;
    case LAI_TYPE_IQ4_NL: return 25;
    case LAI_TYPE_IQ4_XS: return 30;
    case LAI_TYPE_BF16: return 32;
    default: return -1;
    }
}

/* splitmix64: a small, well-mixed generator, so one seed gives the same file everywhere. */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float next_uniform(uint64_t *s) { /* [-1, 1) */
    return (float)((double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

typedef struct gen_ctx {
    const gen_options *o;
    lai_gguf_writer *w;
    uint64_t rng;
} gen_ctx;

/* Adds one tensor with random values: vectors near 1 (norm-like) or small (biases),
 * matrices scaled by 1/sqrt(fan-in) so activations stay in range. */
static localai_status write_tensor(gen_ctx *c, const char *name, uint32_t n_dims, uint64_t ne0,
                                   uint64_t ne1, float *f);

static localai_status add_tensor(gen_ctx *c, const char *name, uint32_t n_dims, uint64_t ne0,
                                 uint64_t ne1, int is_norm) {
    const gen_options *o = c->o;
    if (o->skip_tensor != NULL && strcmp(name, o->skip_tensor) == 0) return LOCALAI_STATUS_OK;
    if (o->reshape_tensor != NULL && strcmp(name, o->reshape_tensor) == 0) ne0 = o->reshape_ne0;
    uint64_t n = ne0 * (n_dims == 2 ? ne1 : 1);
    float *f = malloc((size_t)n * sizeof(float));
    if (f == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gen: out of memory");
    float scale = 1.0f / sqrtf((float)ne0);
    for (uint64_t i = 0; i < n; i++) {
        float u = next_uniform(&c->rng);
        f[i] = n_dims == 1 ? (is_norm ? 1.0f + 0.1f * u : 0.05f * u) : u * scale;
    }
    return write_tensor(c, name, n_dims, ne0, ne1, f);
}

/* Adds a 1-D f32 tensor with the given values (no draw from the generator, so the
 * random tensors after it are the same as without it). */
static localai_status add_tensor_values(gen_ctx *c, const char *name, uint64_t n, const float *v) {
    float *f = malloc((size_t)n * sizeof(float));
    if (f == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gen: out of memory");
    memcpy(f, v, (size_t)n * sizeof(float));
    return write_tensor(c, name, 1, n, 1, f);
}

/* Converts f (taken over and freed) to the tensor's type and adds it. */
static localai_status write_tensor(gen_ctx *c, const char *name, uint32_t n_dims, uint64_t ne0,
                                   uint64_t ne1, float *f) {
    const gen_options *o = c->o;
    uint32_t type = n_dims == 1 ? LAI_TYPE_F32 : o->weight_type;
    if (o->f16_tensor != NULL && strcmp(name, o->f16_tensor) == 0) type = LAI_TYPE_F16;
    uint64_t n = ne0 * (n_dims == 2 ? ne1 : 1);
    const lai_type_traits *tr = lai_type_get(type);
    uint64_t row_bytes = 0;
    localai_status st = lai_type_row_bytes(type, ne0, &row_bytes);
    if (st != LOCALAI_STATUS_OK || tr == NULL) {
        free(f);
        if (st == LOCALAI_STATUS_OK) st = lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gen: bad type");
        lai_error_prefix(name);
        return st;
    }
    uint64_t rows = n / ne0;
    uint64_t n_bytes = row_bytes * rows;
    uint8_t *data = malloc((size_t)n_bytes);
    if (data == NULL) {
        free(f);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gen: out of memory");
    }
    if (type == LAI_TYPE_F32) {
        memcpy(data, f, (size_t)n_bytes);
    } else if (tr->from_float != NULL || gen_fallback_quantizer(type) != NULL) {
        lai_from_float_fn quantize = tr->from_float ? tr->from_float : gen_fallback_quantizer(type);
        for (uint64_t r = 0; r < rows; r++)
            quantize(f + r * ne0, data + r * row_bytes, (int64_t)ne0);
    } else {
        free(f);
        free(data);
        return lai_fail(LOCALAI_STATUS_UNSUPPORTED, "gen: type %s has no quantizer in this build",
                        tr->name);
    }
    free(f);
    uint64_t ne[2] = {ne0, ne1};
    st = lai_gguf_writer_add_tensor(c->w, name, type, n_dims, ne, data, n_bytes, 1);
    free(data);
    return st;
}

static localai_status add_layer_tensor(gen_ctx *c, uint32_t il, const char *suffix,
                                       uint32_t n_dims, uint64_t ne0, uint64_t ne1, int is_norm) {
    char name[128];
    snprintf(name, sizeof name, "blk.%u.%s", il, suffix);
    return add_tensor(c, name, n_dims, ne0, ne1, is_norm);
}

/* rope_freqs.weight as convert_hf_to_gguf.py computes it for rope_type "llama3" (Llama
 * 3.1/3.2): 1 for short wavelengths, `factor` beyond the original context, a smooth blend
 * between. */
static localai_status add_llama3_factors(gen_ctx *c, uint64_t rot) {
    const gen_options *o = c->o;
    const double factor = o->llama3_rope[0], low = o->llama3_rope[1], high = o->llama3_rope[2];
    const double orig = o->llama3_rope[3];
    const double base = o->rope_freq_base > 0.0f ? o->rope_freq_base : 10000.0;
    const double pi = 3.14159265358979323846;
    float v[LAI_MAX_ROT_HALF];
    if (rot / 2 > LAI_MAX_ROT_HALF || !(high > low) || !(orig > 0))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gen: bad llama3 rope parameters");
    for (uint64_t i = 0; i < rot / 2; i++) {
        double wavelen = 2 * pi * pow(base, (double)(2 * i) / (double)rot);
        if (wavelen < orig / high) v[i] = 1.0f;
        else if (wavelen > orig / low) v[i] = (float)factor;
        else {
            double smooth = (orig / wavelen - low) / (high - low);
            v[i] = (float)(1.0 / ((1.0 - smooth) / factor + smooth));
        }
    }
    return add_tensor_values(c, "rope_freqs.weight", rot / 2, v);
}

/* Phi-3 style LongRoPE factors without random draws: long factors rise geometrically
 * from 1 to longrope_max over the dimensions (like Phi-3.5's, which reach tens), short
 * ones to its 4th root, so the two lead to clearly different rotations. */
static localai_status add_longrope_factors(gen_ctx *c, uint64_t rot) {
    const uint64_t n = rot / 2;
    float lo[LAI_MAX_ROT_HALF], sh[LAI_MAX_ROT_HALF];
    if (n > LAI_MAX_ROT_HALF || n == 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gen: bad longrope dimensions");
    for (uint64_t i = 0; i < n; i++) {
        double t = n > 1 ? (double)i / (double)(n - 1) : 0.0;
        lo[i] = (float)pow(c->o->longrope_max, t);
        sh[i] = (float)pow(c->o->longrope_max, t / 4.0);
    }
    localai_status st = add_tensor_values(c, "rope_factors_long.weight", n, lo);
    return st != LOCALAI_STATUS_OK ? st : add_tensor_values(c, "rope_factors_short.weight", n, sh);
}

/* The tensor list of each architecture, written out from llama.cpp's names and shapes
 * (independently of lib/model's tables, so binding a generated file checks them). */
static localai_status add_tensors(gen_ctx *c, uint64_t n_vocab) {
    const gen_options *o = c->o;
    const lai_arch a = o->arch;
    const uint64_t E = o->n_embd, F = o->n_ff;
    const uint64_t hd = o->head_dim ? o->head_dim : o->n_embd / o->n_head;
    const uint64_t rot = o->n_rot ? o->n_rot : hd;
    const uint64_t Q = hd * o->n_head, K = hd * o->n_head_kv;
    localai_status st;
#define TRY(x) do { if ((st = (x)) != LOCALAI_STATUS_OK) return st; } while (0)
    TRY(add_tensor(c, "token_embd.weight", 2, E, n_vocab, 0));
    TRY(add_tensor(c, "output_norm.weight", 1, E, 1, 1));
    if (!o->tied) TRY(add_tensor(c, "output.weight", 2, E, n_vocab, 0));
    if (o->rope_freqs && a == LAI_ARCH_LLAMA) TRY(add_tensor(c, "rope_freqs.weight", 1, rot / 2, 1, 1));
    if (o->rope_freqs && a == LAI_ARCH_PHI3) {
        TRY(add_tensor(c, "rope_factors_long.weight", 1, rot / 2, 1, 1));
        TRY(add_tensor(c, "rope_factors_short.weight", 1, rot / 2, 1, 1));
    }
    if (o->llama3_rope[0] != 0.0f && a == LAI_ARCH_LLAMA) TRY(add_llama3_factors(c, rot));
    if (o->longrope_max != 0.0f && (a == LAI_ARCH_PHI3 || a == LAI_ARCH_LLAMA))
        TRY(add_longrope_factors(c, rot));
    for (uint32_t il = 0; il < o->n_layer; il++) {
        TRY(add_layer_tensor(c, il, "attn_norm.weight", 1, E, 1, 1));
        if (a == LAI_ARCH_PHI3 && !o->phi3_separate_qkv) {
            TRY(add_layer_tensor(c, il, "attn_qkv.weight", 2, E, Q + 2 * K, 0));
        } else {
            TRY(add_layer_tensor(c, il, "attn_q.weight", 2, E, Q, 0));
            TRY(add_layer_tensor(c, il, "attn_k.weight", 2, E, K, 0));
            TRY(add_layer_tensor(c, il, "attn_v.weight", 2, E, K, 0));
        }
        if (a == LAI_ARCH_QWEN2) {
            TRY(add_layer_tensor(c, il, "attn_q.bias", 1, Q, 1, 0));
            TRY(add_layer_tensor(c, il, "attn_k.bias", 1, K, 1, 0));
            TRY(add_layer_tensor(c, il, "attn_v.bias", 1, K, 1, 0));
        }
        if (a == LAI_ARCH_QWEN3 || a == LAI_ARCH_GEMMA3) {
            TRY(add_layer_tensor(c, il, "attn_q_norm.weight", 1, hd, 1, 1));
            TRY(add_layer_tensor(c, il, "attn_k_norm.weight", 1, hd, 1, 1));
        }
        TRY(add_layer_tensor(c, il, "attn_output.weight", 2, Q, E, 0));
        if (a == LAI_ARCH_GEMMA2 || a == LAI_ARCH_GEMMA3)
            TRY(add_layer_tensor(c, il, "post_attention_norm.weight", 1, E, 1, 1));
        TRY(add_layer_tensor(c, il, "ffn_norm.weight", 1, E, 1, 1));
        if (a == LAI_ARCH_PHI3) {
            TRY(add_layer_tensor(c, il, "ffn_up.weight", 2, E, 2 * F, 0));
        } else {
            TRY(add_layer_tensor(c, il, "ffn_gate.weight", 2, E, F, 0));
            TRY(add_layer_tensor(c, il, "ffn_up.weight", 2, E, F, 0));
        }
        TRY(add_layer_tensor(c, il, "ffn_down.weight", 2, F, E, 0));
        if (a == LAI_ARCH_GEMMA2 || a == LAI_ARCH_GEMMA3)
            TRY(add_layer_tensor(c, il, "post_ffw_norm.weight", 1, E, 1, 1));
    }
    if (o->extra_tensor != NULL) TRY(add_tensor(c, o->extra_tensor, 1, E, 1, 1));
#undef TRY
    return LOCALAI_STATUS_OK;
}

/* The text of synthetic token k: a word in bijective base 26 ("a".."z", "aa", ...), so
 * every k gives a different word; even k start with the SentencePiece word-start mark
 * U+2581, as most pieces of a real SentencePiece vocabulary do. */
static size_t synthetic_token(uint32_t k, char *buf) {
    char word[16];
    size_t n = 0;
    uint32_t v = k / 2 + 1;
    while (v > 0) {
        v--;
        word[n++] = (char)('a' + v % 26);
        v /= 26;
    }
    size_t len = 0;
    if (k % 2 == 0) {
        memcpy(buf, "\xE2\x96\x81", 3);
        len = 3;
    }
    while (n > 0) buf[len++] = word[--n];
    return len;
}

/* A stand-in vocabulary: <unk>, <s>, </s> and the 256 byte tokens (SentencePiece style),
 * then, when vocab_size asks for more, synthetic ordinary tokens up to that size. */
static localai_status add_byte_vocab(lai_gguf_writer *w, int endoftext, uint32_t vocab_size,
                                     uint64_t *n_vocab) {
    /* endoftext: a 260th token, <|endoftext|>, without which llama.cpp refuses to load a
     * phi3 vocabulary (see gen_options.endoftext_token) */
    const uint32_t n_base = endoftext ? 260 : 259;
    const uint32_t N = vocab_size ? vocab_size : n_base;
    if (N < n_base)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "gen: vocab_size %u is below the byte vocabulary's %u tokens", N, n_base);
    if (N > (1u << 24))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gen: vocab_size %u is above %u", N,
                        1u << 24);
    enum { NAME_MAX_LEN = 24 };
    char *names = malloc((size_t)N * NAME_MAX_LEN);
    lai_str *toks = malloc((size_t)N * sizeof *toks);
    float *scores = malloc((size_t)N * sizeof *scores);
    int32_t *types = malloc((size_t)N * sizeof *types);
    localai_status st = LOCALAI_STATUS_OK;
    if (names == NULL || toks == NULL || scores == NULL || types == NULL) {
        st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gen: out of memory");
        goto done;
    }
    const char *special[3] = {"<unk>", "<s>", "</s>"};
    for (uint32_t i = 0; i < N; i++) {
        char *name = names + (size_t)i * NAME_MAX_LEN;
        size_t len;
        if (i < 3) len = (size_t)snprintf(name, NAME_MAX_LEN, "%s", special[i]);
        else if (i < 259) len = (size_t)snprintf(name, NAME_MAX_LEN, "<0x%02X>", i - 3);
        else if (i < n_base) len = (size_t)snprintf(name, NAME_MAX_LEN, "<|endoftext|>");
        else len = synthetic_token(i - n_base, name);
        toks[i].ptr = name;
        toks[i].len = len;
        /* byte and special tokens score 0 as before; synthetic ones decrease, as merged
         * pieces of a SentencePiece vocabulary do */
        scores[i] = i < n_base ? 0.0f : -(float)(i - n_base);
        types[i] = i == 0 ? 2 : i < 3 || (i == 259 && endoftext) ? 3 : i < 259 ? 6 : 1;
    }
    if ((st = lai_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama")) ||
        (st = lai_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, N)) ||
        (st = lai_gguf_writer_set_array(w, "tokenizer.ggml.scores", LAI_GGUF_FLOAT32, scores, N)) ||
        (st = lai_gguf_writer_set_array(w, "tokenizer.ggml.token_type", LAI_GGUF_INT32, types, N)) ||
        (st = lai_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1)) ||
        (st = lai_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2)) ||
        (st = lai_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0)))
        goto done;
    *n_vocab = N;
done:
    free(names);
    free(toks);
    free(scores);
    free(types);
    return st;
}

/* Copies every tokenizer.* entry of a vocabulary file. */
static localai_status add_file_vocab(lai_gguf_writer *w, const char *path, uint64_t *n_vocab) {
    lai_gguf *v = NULL;
    localai_status st = lai_gguf_open(path, 1, &v);
    if (st != LOCALAI_STATUS_OK) return st;
    const lai_gguf_kv *tokens = lai_gguf_find(v, "tokenizer.ggml.tokens");
    if (tokens == NULL || tokens->type != LAI_GGUF_ARRAY) {
        lai_gguf_close(v);
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "%s: no tokenizer.ggml.tokens", path);
    }
    *n_vocab = tokens->array_len;
    for (uint64_t i = 0; i < v->n_kv && st == LOCALAI_STATUS_OK; i++)
        if (strncmp(v->kv[i].key, "tokenizer.", 10) == 0) st = lai_gguf_writer_copy_kv(w, &v->kv[i]);
    lai_gguf_close(v);
    return st;
}

static localai_status add_metadata(gen_ctx *c) {
    const gen_options *o = c->o;
    lai_gguf_writer *w = c->w;
    const char *arch = lai_arch_name(o->arch);
    char key[128];
    localai_status st;
#define KEY(suffix) (snprintf(key, sizeof key, "%s.%s", arch, suffix), key)
#define TRY(x) do { if ((st = (x)) != LOCALAI_STATUS_OK) return st; } while (0)
    char name[64];
    snprintf(name, sizeof name, "gen-%s", arch);
    TRY(lai_gguf_writer_set_str(w, "general.architecture", arch));
    TRY(lai_gguf_writer_set_str(w, "general.name", name));
    int32_t ftype = gen_ftype_for_type(o->weight_type);
    if (ftype >= 0) TRY(lai_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ftype));
    TRY(lai_gguf_writer_set_u32(w, "general.quantization_version", 2));
    if (o->alignment) TRY(lai_gguf_writer_set_alignment(w, o->alignment));
    TRY(lai_gguf_writer_set_u32(w, KEY("context_length"), o->n_ctx));
    TRY(lai_gguf_writer_set_u32(w, KEY("embedding_length"), o->n_embd));
    TRY(lai_gguf_writer_set_u32(w, KEY("block_count"), o->n_layer));
    TRY(lai_gguf_writer_set_u32(w, KEY("feed_forward_length"), o->n_ff));
    TRY(lai_gguf_writer_set_u32(w, KEY("attention.head_count"), o->n_head));
    TRY(lai_gguf_writer_set_u32(w, KEY("attention.head_count_kv"), o->n_head_kv));
    TRY(lai_gguf_writer_set_f32(w, KEY("attention.layer_norm_rms_epsilon"),
                                o->arch == LAI_ARCH_LLAMA ? 1e-5f : 1e-6f));
    if (o->head_dim) {
        TRY(lai_gguf_writer_set_u32(w, KEY("attention.key_length"), o->head_dim));
        TRY(lai_gguf_writer_set_u32(w, KEY("attention.value_length"), o->head_dim));
    }
    uint32_t hd = o->head_dim ? o->head_dim : o->n_embd / o->n_head;
    TRY(lai_gguf_writer_set_u32(w, KEY("rope.dimension_count"), o->n_rot ? o->n_rot : hd));
    if (o->rope_freq_base > 0.0f) TRY(lai_gguf_writer_set_f32(w, KEY("rope.freq_base"), o->rope_freq_base));
    if (o->n_swa) TRY(lai_gguf_writer_set_u32(w, KEY("attention.sliding_window"), o->n_swa));
    if (o->arch == LAI_ARCH_GEMMA2) {
        TRY(lai_gguf_writer_set_f32(w, KEY("attn_logit_softcapping"), 50.0f));
        TRY(lai_gguf_writer_set_f32(w, KEY("final_logit_softcapping"), 30.0f));
    }
    if (o->arch == LAI_ARCH_PHI3)
        TRY(lai_gguf_writer_set_u32(w, KEY("rope.scaling.original_context_length"),
                                    o->rope_orig_ctx ? o->rope_orig_ctx : o->n_ctx));
    /* rope scaling keys, only when asked for (see gen_options) */
    if (o->rope_scaling_type != NULL)
        TRY(lai_gguf_writer_set_str(w, KEY("rope.scaling.type"), o->rope_scaling_type));
    if (o->rope_scaling_factor != 0.0f)
        TRY(lai_gguf_writer_set_f32(w, KEY("rope.scaling.factor"), o->rope_scaling_factor));
    if (o->rope_orig_ctx && o->arch != LAI_ARCH_PHI3)
        TRY(lai_gguf_writer_set_u32(w, KEY("rope.scaling.original_context_length"), o->rope_orig_ctx));
    if (o->rope_attn_factor != 0.0f)
        TRY(lai_gguf_writer_set_f32(w, KEY("rope.scaling.attn_factor"), o->rope_attn_factor));
    if (o->rope_freq_base_swa != 0.0f)
        TRY(lai_gguf_writer_set_f32(w, KEY("rope.freq_base_swa"), o->rope_freq_base_swa));
#undef KEY
#undef TRY
    return LOCALAI_STATUS_OK;
}

localai_status gen_model_build(const gen_options *o, lai_gguf_writer **out) {
    if (o->n_head == 0 || o->n_head_kv == 0 || o->n_embd == 0 || o->n_layer == 0 || o->n_ff == 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gen: zero dimension");
    lai_gguf_writer *w = NULL;
    localai_status st = lai_gguf_writer_new(&w);
    if (st != LOCALAI_STATUS_OK) return st;
    gen_ctx c = {o, w, o->seed};
    uint64_t n_vocab = 0;
    st = add_metadata(&c);
    if (st == LOCALAI_STATUS_OK)
        st = o->vocab_path ? add_file_vocab(w, o->vocab_path, &n_vocab) : add_byte_vocab(w, o->endoftext_token, o->vocab_size, &n_vocab);
    if (st == LOCALAI_STATUS_OK) st = add_tensors(&c, n_vocab);
    if (st != LOCALAI_STATUS_OK) {
        lai_gguf_writer_free(w);
        return st;
    }
    *out = w;
    return LOCALAI_STATUS_OK;
}

localai_status gen_model_write(const gen_options *o, const char *path) {
    lai_gguf_writer *w = NULL;
    localai_status st = gen_model_build(o, &w);
    if (st != LOCALAI_STATUS_OK) return st;
    st = lai_gguf_writer_write_file(w, path);
    lai_gguf_writer_free(w);
    return st;
}
