/* hparams.c - reads an architecture's hyper-parameters from GGUF metadata as llama.cpp does. */
#include "hparams.h"

#include <math.h>
#include <stdio.h>

/* Upper bounds that keep every later size computation far from overflow; real models are
 * orders of magnitude below them. */
#define HP_MAX_EMBD (1u << 20)
#define HP_MAX_HEADS (1u << 14)
#define HP_MAX_HEAD_DIM (1u << 14)
#define HP_MAX_FF (1u << 24)
#define HP_MAX_VOCAB (1u << 26)

static const char *const arch_names[LAI_ARCH_COUNT] = {
    [LAI_ARCH_LLAMA] = "llama", [LAI_ARCH_QWEN2] = "qwen2",   [LAI_ARCH_QWEN3] = "qwen3",
    [LAI_ARCH_PHI3] = "phi3",   [LAI_ARCH_GEMMA2] = "gemma2", [LAI_ARCH_GEMMA3] = "gemma3",
};

const char *lai_arch_name(lai_arch arch) {
    return (unsigned)arch < LAI_ARCH_COUNT ? arch_names[arch] : "unknown";
}

int lai_arch_lookup(const char *name, size_t len, lai_arch *out) {
    for (int a = 0; a < LAI_ARCH_COUNT; a++) {
        if (strlen(arch_names[a]) == len && memcmp(arch_names[a], name, len) == 0) {
            *out = (lai_arch)a;
            return 1;
        }
    }
    return 0;
}

typedef struct hp_reader {
    const lai_gguf *g;
    const char *arch;
    char key[160];
} hp_reader;

static const char *akey(hp_reader *r, const char *suffix) {
    snprintf(r->key, sizeof r->key, "%s.%s", r->arch, suffix);
    return r->key;
}

/* Optional value: NOT_FOUND keeps *out; a present key of the wrong type fails. */
static localai_status opt_u32(hp_reader *r, const char *suffix, uint32_t *out) {
    localai_status st = lai_gguf_get_u32(r->g, akey(r, suffix), out);
    return st == LOCALAI_STATUS_NOT_FOUND ? LOCALAI_STATUS_OK : st;
}

static localai_status opt_f32(hp_reader *r, const char *suffix, float *out) {
    float v;
    localai_status st = lai_gguf_get_f32(r->g, akey(r, suffix), &v);
    if (st == LOCALAI_STATUS_NOT_FOUND) return LOCALAI_STATUS_OK;
    if (st != LOCALAI_STATUS_OK) return st;
    if (!isfinite(v))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': value is not finite", r->key);
    *out = v;
    return LOCALAI_STATUS_OK;
}

static localai_status req_u32(hp_reader *r, const char *suffix, uint32_t *out) {
    localai_status st = lai_gguf_get_u32(r->g, akey(r, suffix), out);
    if (st == LOCALAI_STATUS_NOT_FOUND)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "missing key '%s'", r->key);
    return st;
}

static localai_status req_f32(hp_reader *r, const char *suffix, float *out) {
    if (lai_gguf_find(r->g, akey(r, suffix)) == NULL)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "missing key '%s'", r->key);
    return opt_f32(r, suffix, out);
}

/* A per-layer value stored either as one integer or as an array of n_layer integers
 * (llama.cpp's get_key_or_arr). Our architectures need one value for all layers. */
static localai_status opt_u32_or_layers(hp_reader *r, const char *suffix, uint32_t n_layer,
                                        uint32_t *out) {
    const lai_gguf_kv *kv = lai_gguf_find(r->g, akey(r, suffix));
    if (kv == NULL) return LOCALAI_STATUS_OK;
    if (kv->type != LAI_GGUF_ARRAY) return lai_gguf_get_u32(r->g, r->key, out);
    uint32_t t = kv->array_type;
    if (t == LAI_GGUF_FLOAT32 || t == LAI_GGUF_FLOAT64 || t == LAI_GGUF_STRING ||
        t == LAI_GGUF_BOOL)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': expected integers, found %s",
                        r->key, lai_gguf_type_name(t));
    if (kv->array_len != n_layer)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s': array of %llu values, expected one per layer (%u)", r->key,
                        (unsigned long long)kv->array_len, n_layer);
    int64_t first = lai_gguf_array_i64(kv, 0);
    for (uint64_t i = 1; i < kv->array_len; i++)
        if (lai_gguf_array_i64(kv, i) != first)
            return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                            "key '%s': layers with different values (layer 0: %lld, layer %llu: "
                            "%lld) are not supported",
                            r->key, (long long)first, (unsigned long long)i,
                            (long long)lai_gguf_array_i64(kv, i));
    if (first < 0 || first > (int64_t)UINT32_MAX)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': value %lld is out of range", r->key,
                        (long long)first);
    *out = (uint32_t)first;
    return LOCALAI_STATUS_OK;
}

static localai_status check_range(const char *arch, const char *suffix, uint64_t v, uint64_t lo,
                                  uint64_t hi) {
    if (v < lo || v > hi)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s.%s': %llu is outside %llu..%llu",
                        arch, suffix, (unsigned long long)v, (unsigned long long)lo,
                        (unsigned long long)hi);
    return LOCALAI_STATUS_OK;
}

static localai_status read_rope_scaling(hp_reader *r, lai_hparams *hp) {
    lai_str type;
    localai_status st = lai_gguf_get_str(r->g, akey(r, "rope.scaling.type"), &type);
    int has_type = st == LOCALAI_STATUS_OK;
    if (st != LOCALAI_STATUS_OK && st != LOCALAI_STATUS_NOT_FOUND) return st;
    float factor = 0.0f;
    int has_factor = lai_gguf_find(r->g, akey(r, "rope.scaling.factor")) != NULL;
    st = has_factor ? opt_f32(r, "rope.scaling.factor", &factor)
                    : opt_f32(r, "rope.scale_linear", &factor); /* older key */
    if (st != LOCALAI_STATUS_OK) return st;
    if (factor < 0.0f)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': negative rope scaling factor %g",
                        r->key, (double)factor);
    if (has_type) {
        if (type.len == 4 && memcmp(type.ptr, "none", 4) == 0) hp->rope_scaling = LAI_ROPE_SCALING_NONE;
        else if (type.len == 6 && memcmp(type.ptr, "linear", 6) == 0) hp->rope_scaling = LAI_ROPE_SCALING_LINEAR;
        else if (type.len == 4 && memcmp(type.ptr, "yarn", 4) == 0) hp->rope_scaling = LAI_ROPE_SCALING_YARN;
        else if (type.len == 8 && memcmp(type.ptr, "longrope", 8) == 0) hp->rope_scaling = LAI_ROPE_SCALING_LONGROPE;
        else
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s.rope.scaling.type': unknown value '%.*s'",
                            r->arch, (int)LAI_MIN(type.len, 64), type.ptr);
    } else {
        /* llama.cpp's default type is "linear"; with no factor that is no scaling at all. */
        hp->rope_scaling = factor != 0.0f ? LAI_ROPE_SCALING_LINEAR : LAI_ROPE_SCALING_NONE;
    }
    hp->rope_scaling_factor = factor;
    /* A scaling type of none never scales, whatever the factor (llama.cpp's context). */
    hp->rope_freq_scale =
        (factor == 0.0f || hp->rope_scaling == LAI_ROPE_SCALING_NONE) ? 1.0f : 1.0f / factor;
    hp->rope_attn_factor = 1.0f;
    if ((st = opt_f32(r, "rope.scaling.attn_factor", &hp->rope_attn_factor)) != LOCALAI_STATUS_OK)
        return st;
    hp->rope_orig_ctx = hp->n_ctx_train;
    if ((st = opt_u32(r, "rope.scaling.original_context_length", &hp->rope_orig_ctx)) !=
        LOCALAI_STATUS_OK)
        return st;
    if (hp->rope_orig_ctx == 0) hp->rope_orig_ctx = hp->n_ctx_train;
    int finetuned = 0;
    st = lai_gguf_get_bool(r->g, akey(r, "rope.scaling.finetuned"), &finetuned);
    if (st != LOCALAI_STATUS_OK && st != LOCALAI_STATUS_NOT_FOUND) return st;
    hp->rope_finetuned = finetuned;
    float ext = -1.0f;
    hp->yarn_attn_factor = 1.0f;
    hp->yarn_beta_fast = 32.0f;
    hp->yarn_beta_slow = 1.0f;
    hp->yarn_log_mul = 0.0f;
    if ((st = opt_f32(r, "rope.scaling.yarn_ext_factor", &ext)) != LOCALAI_STATUS_OK ||
        (st = opt_f32(r, "rope.scaling.yarn_attn_factor", &hp->yarn_attn_factor)) != LOCALAI_STATUS_OK ||
        (st = opt_f32(r, "rope.scaling.yarn_beta_fast", &hp->yarn_beta_fast)) != LOCALAI_STATUS_OK ||
        (st = opt_f32(r, "rope.scaling.yarn_beta_slow", &hp->yarn_beta_slow)) != LOCALAI_STATUS_OK ||
        (st = opt_f32(r, "rope.scaling.yarn_log_multiplier", &hp->yarn_log_mul)) != LOCALAI_STATUS_OK)
        return st;
    /* llama.cpp's -1 means "1 for yarn, else 0". */
    hp->yarn_ext_factor = ext < 0.0f ? (hp->rope_scaling == LAI_ROPE_SCALING_YARN ? 1.0f : 0.0f) : ext;
    return LOCALAI_STATUS_OK;
}

static localai_status read_common(hp_reader *r, lai_hparams *hp) {
    localai_status st;
    if ((st = req_u32(r, "context_length", &hp->n_ctx_train)) != LOCALAI_STATUS_OK ||
        (st = req_u32(r, "embedding_length", &hp->n_embd)) != LOCALAI_STATUS_OK ||
        (st = req_u32(r, "block_count", &hp->n_layer)) != LOCALAI_STATUS_OK)
        return st;
    if ((st = check_range(r->arch, "context_length", hp->n_ctx_train, 1, INT32_MAX)) ||
        (st = check_range(r->arch, "embedding_length", hp->n_embd, 1, HP_MAX_EMBD)) ||
        (st = check_range(r->arch, "block_count", hp->n_layer, 1, LAI_MAX_LAYERS)))
        return st;
    uint32_t n_expert = 0;
    if ((st = opt_u32(r, "expert_count", &n_expert)) != LOCALAI_STATUS_OK) return st;
    if (n_expert > 0)
        return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                        "%s with %u experts (mixture of experts) is not supported", r->arch,
                        n_expert);
    if ((st = opt_u32_or_layers(r, "feed_forward_length", hp->n_layer, &hp->n_ff)) ||
        (st = opt_u32_or_layers(r, "attention.head_count", hp->n_layer, &hp->n_head)))
        return st;
    hp->n_head_kv = hp->n_head;
    if ((st = opt_u32_or_layers(r, "attention.head_count_kv", hp->n_layer, &hp->n_head_kv)))
        return st;
    if (lai_gguf_find(r->g, akey(r, "feed_forward_length")) == NULL)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "missing key '%s'", r->key);
    if (lai_gguf_find(r->g, akey(r, "attention.head_count")) == NULL)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "missing key '%s'", r->key);
    if ((st = check_range(r->arch, "feed_forward_length", hp->n_ff, 1, HP_MAX_FF)) ||
        (st = check_range(r->arch, "attention.head_count", hp->n_head, 1, HP_MAX_HEADS)) ||
        (st = check_range(r->arch, "attention.head_count_kv", hp->n_head_kv, 1, hp->n_head)))
        return st;
    if (hp->n_head % hp->n_head_kv != 0)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s.attention.head_count_kv': %u does not divide head_count %u",
                        r->arch, hp->n_head_kv, hp->n_head);

    hp->rope_freq_base = 10000.0f;
    if ((st = opt_f32(r, "rope.freq_base", &hp->rope_freq_base)) != LOCALAI_STATUS_OK) return st;
    if (!(hp->rope_freq_base > 0.0f))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s.rope.freq_base': %g is not positive",
                        r->arch, (double)hp->rope_freq_base);
    if ((st = read_rope_scaling(r, hp)) != LOCALAI_STATUS_OK) return st;
    hp->rope_freq_base_swa = hp->rope_freq_base;
    hp->rope_freq_scale_swa = hp->rope_freq_scale;

    int has_k = lai_gguf_find(r->g, akey(r, "attention.key_length")) != NULL;
    int has_v = lai_gguf_find(r->g, akey(r, "attention.value_length")) != NULL;
    if ((!has_k || !has_v) && hp->n_embd % hp->n_head != 0)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "embedding_length %u is not a multiple of head_count %u and '%s.attention."
                        "key_length'/value_length are not given",
                        hp->n_embd, hp->n_head, r->arch);
    hp->head_dim_k = hp->n_embd / hp->n_head;
    hp->head_dim_v = hp->n_embd / hp->n_head;
    if ((st = opt_u32(r, "attention.key_length", &hp->head_dim_k)) ||
        (st = opt_u32(r, "attention.value_length", &hp->head_dim_v)) ||
        (st = check_range(r->arch, "attention.key_length", hp->head_dim_k, 1, HP_MAX_HEAD_DIM)) ||
        (st = check_range(r->arch, "attention.value_length", hp->head_dim_v, 1, HP_MAX_HEAD_DIM)))
        return st;
    hp->n_rot = hp->head_dim_k;
    if ((st = opt_u32(r, "rope.dimension_count", &hp->n_rot))) return st;
    if (hp->n_rot > hp->head_dim_k || hp->n_rot % 2 != 0)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s.rope.dimension_count': %u must be even and at most the head "
                        "size %u",
                        r->arch, hp->n_rot, hp->head_dim_k);

    /* The vocabulary size: <arch>.vocab_size, else the token list's length. */
    const lai_gguf_kv *tokens = lai_gguf_find(r->g, "tokenizer.ggml.tokens");
    st = lai_gguf_get_u32(r->g, akey(r, "vocab_size"), &hp->n_vocab);
    if (st == LOCALAI_STATUS_NOT_FOUND) {
        if (tokens != NULL && tokens->type == LAI_GGUF_ARRAY && tokens->array_len <= UINT32_MAX)
            hp->n_vocab = (uint32_t)tokens->array_len;
        else {
            const lai_gguf_tensor *emb = lai_gguf_find_tensor(r->g, "token_embd.weight");
            hp->n_vocab = emb != NULL && emb->ne[1] <= UINT32_MAX ? (uint32_t)emb->ne[1] : 0;
        }
        st = LOCALAI_STATUS_OK;
    }
    if (st != LOCALAI_STATUS_OK) return st;
    /* The embedding rows, the vocabulary and token ids must agree, or a valid token id
     * could index past the embedding table. */
    if (tokens != NULL && tokens->type == LAI_GGUF_ARRAY && tokens->array_len != hp->n_vocab)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s.vocab_size' is %u but tokenizer.ggml.tokens has %llu entries",
                        r->arch, hp->n_vocab, (unsigned long long)tokens->array_len);
    if (hp->n_vocab == 0 || hp->n_vocab > HP_MAX_VOCAB)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "vocabulary size %u (from '%s.vocab_size' or tokenizer.ggml.tokens) is "
                        "outside 1..%u",
                        hp->n_vocab, r->arch, HP_MAX_VOCAB);

    if ((st = req_f32(r, "attention.layer_norm_rms_epsilon", &hp->norm_eps))) return st;
    if (!(hp->norm_eps > 0.0f) || hp->norm_eps >= 1.0f)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s.attention.layer_norm_rms_epsilon': %g is not in (0, 1)", r->arch,
                        (double)hp->norm_eps);
    hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim_k);
    hp->embd_scale = 1.0f;
    hp->tied_embeddings = lai_gguf_find_tensor(r->g, "output.weight") == NULL;
    return LOCALAI_STATUS_OK;
}

static void set_swa_pattern(lai_hparams *hp, uint32_t n_pattern) {
    hp->swa_pattern = n_pattern;
    for (uint32_t il = 0; il < hp->n_layer; il++)
        hp->swa_layer[il] = (uint8_t)(il % n_pattern < n_pattern - 1);
}

static localai_status read_arch(hp_reader *r, lai_hparams *hp) {
    localai_status st;
    switch (hp->arch) {
    case LAI_ARCH_LLAMA:
        /* llama.cpp refuses partial rotary for llama. */
        if (hp->n_rot != hp->head_dim_k)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "key 'llama.rope.dimension_count': %u, expected the head size %u",
                            hp->n_rot, hp->head_dim_k);
        hp->rope_neox = 0;
        break;
    case LAI_ARCH_QWEN2:
    case LAI_ARCH_QWEN3:
        hp->rope_neox = 1;
        break;
    case LAI_ARCH_PHI3: {
        hp->rope_neox = 1;
        /* llama.cpp reads phi3's sliding window but runs without it (see its PR 13676). */
        uint32_t swa = 0;
        if ((st = opt_u32(r, "attention.sliding_window", &swa))) return st;
        if (lai_gguf_find(r->g, "phi3.rope.scaling.type") == NULL &&
            lai_gguf_find_tensor(r->g, "rope_factors_long.weight") != NULL)
            hp->rope_scaling = LAI_ROPE_SCALING_LONGROPE;
        break;
    }
    case LAI_ARCH_GEMMA2:
        hp->rope_neox = 1;
        hp->n_swa = 4096; /* Gemma 2's window when the file does not say */
        if ((st = opt_u32(r, "attention.sliding_window", &hp->n_swa))) return st;
        if (hp->n_swa > 0) set_swa_pattern(hp, 2); /* even layers slide, odd are global */
        hp->attn_logit_softcap = 50.0f;
        hp->final_logit_softcap = 30.0f;
        if ((st = opt_f32(r, "attn_logit_softcapping", &hp->attn_logit_softcap)) ||
            (st = opt_f32(r, "final_logit_softcapping", &hp->final_logit_softcap)))
            return st;
        /* 27B (46 layers) scales queries by 1/sqrt(n_embd / n_head) (query_pre_attn_scalar). */
        if (hp->n_layer == 46) hp->attn_scale = 1.0f / sqrtf((float)(hp->n_embd / hp->n_head));
        hp->embd_scale = sqrtf((float)hp->n_embd);
        /* llama.cpp's gemma2 loader reads a separate base for the sliding layers too */
        if ((st = opt_f32(r, "rope.freq_base_swa", &hp->rope_freq_base_swa))) return st;
        if (!(hp->rope_freq_base_swa > 0.0f))
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key 'gemma2.rope.freq_base_swa': %g is not positive",
                            (double)hp->rope_freq_base_swa);
        break;
    case LAI_ARCH_GEMMA3:
        hp->rope_neox = 1;
        if ((st = opt_u32(r, "attention.sliding_window", &hp->n_swa))) return st;
        if (hp->n_swa > 0) {
            set_swa_pattern(hp, 6); /* five local layers, then one global */
            hp->rope_freq_base_swa = 10000.0f;
            hp->rope_freq_scale_swa = 1.0f;
            if ((st = opt_f32(r, "rope.freq_base_swa", &hp->rope_freq_base_swa))) return st;
            if (!(hp->rope_freq_base_swa > 0.0f))
                return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                                "key 'gemma3.rope.freq_base_swa': %g is not positive",
                                (double)hp->rope_freq_base_swa);
        }
        /* llama.cpp soft-caps the logits only of gemma3 variants without sliding window
         * (its non-iswa graph), with the file's value. */
        if (hp->n_swa == 0 &&
            (st = opt_f32(r, "final_logit_softcapping", &hp->final_logit_softcap)))
            return st;
        /* 27B (62 layers): query_pre_attn_scalar = n_embd / n_head. */
        if (hp->n_layer == 62) hp->attn_scale = 1.0f / sqrtf((float)(hp->n_embd / hp->n_head));
        hp->embd_scale = sqrtf((float)hp->n_embd);
        break;
    default:
        return lai_fail(LOCALAI_STATUS_INTERNAL, "architecture id %d has no reader", (int)hp->arch);
    }
    if (hp->attn_logit_softcap < 0.0f || hp->final_logit_softcap < 0.0f)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "%s: negative soft-capping value", r->arch);
    return LOCALAI_STATUS_OK;
}

localai_status lai_hparams_load(const lai_gguf *gguf, lai_hparams *hp) {
    if (gguf == NULL || hp == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "lai_hparams_load: NULL argument");
    lai_hparams out;
    memset(&out, 0, sizeof out);
    lai_str arch;
    localai_status st = lai_gguf_get_str(gguf, "general.architecture", &arch);
    if (st == LOCALAI_STATUS_NOT_FOUND)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "missing key 'general.architecture'");
    if (st != LOCALAI_STATUS_OK) return st;
    if (!lai_arch_lookup(arch.ptr, (size_t)arch.len, &out.arch))
        return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                        "architecture '%.*s' is not supported (supported: llama, qwen2, qwen3, "
                        "phi3, gemma2, gemma3)",
                        (int)LAI_MIN(arch.len, 64), arch.ptr);
    hp_reader r = {gguf, arch_names[out.arch], {0}};
    if ((st = read_common(&r, &out)) != LOCALAI_STATUS_OK) return st;
    if ((st = read_arch(&r, &out)) != LOCALAI_STATUS_OK) return st;
    *hp = out;
    return LOCALAI_STATUS_OK;
}
