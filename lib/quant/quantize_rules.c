/* quantize_rules.c - which type each tensor gets in a llama.cpp file type (the _M mixes). */
#include "quantize_model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* The rules are llama.cpp's (src/llama-quant.cpp: tensor_allows_quantization,
 * llama_tensor_get_type_impl, tensor_type_fallback), restricted to the file types we
 * write and to quantizing without an importance matrix. Matching them matters: a
 * Q4_K_M file from us should have the tensor types, and so the size and quality, that
 * users know from llama.cpp's Q4_K_M. */

static const struct {
    const char *name;
    uint32_t ftype;
    uint32_t default_type;
} ftype_table[] = {
    {"F32", LAI_FTYPE_ALL_F32, LAI_TYPE_F32},
    {"F16", LAI_FTYPE_MOSTLY_F16, LAI_TYPE_F16},
    {"BF16", LAI_FTYPE_MOSTLY_BF16, LAI_TYPE_BF16},
    {"Q4_0", LAI_FTYPE_MOSTLY_Q4_0, LAI_TYPE_Q4_0},
    {"Q4_1", LAI_FTYPE_MOSTLY_Q4_1, LAI_TYPE_Q4_1},
    {"Q5_0", LAI_FTYPE_MOSTLY_Q5_0, LAI_TYPE_Q5_0},
    {"Q5_1", LAI_FTYPE_MOSTLY_Q5_1, LAI_TYPE_Q5_1},
    {"Q8_0", LAI_FTYPE_MOSTLY_Q8_0, LAI_TYPE_Q8_0},
    {"Q4_K_S", LAI_FTYPE_MOSTLY_Q4_K_S, LAI_TYPE_Q4_K},
    {"Q4_K_M", LAI_FTYPE_MOSTLY_Q4_K_M, LAI_TYPE_Q4_K},
    {"Q5_K_S", LAI_FTYPE_MOSTLY_Q5_K_S, LAI_TYPE_Q5_K},
    {"Q5_K_M", LAI_FTYPE_MOSTLY_Q5_K_M, LAI_TYPE_Q5_K},
    {"Q6_K", LAI_FTYPE_MOSTLY_Q6_K, LAI_TYPE_Q6_K},
};

localai_status lai_ftype_from_name(const char *name, uint32_t *out) {
    if (name == NULL || out == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "NULL file type name");
    /* llama.cpp's quantize tool takes Q4_K and Q5_K as the _M mixes */
    if (strcasecmp(name, "Q4_K") == 0) name = "Q4_K_M";
    if (strcasecmp(name, "Q5_K") == 0) name = "Q5_K_M";
    for (size_t i = 0; i < LAI_ARRAY_LEN(ftype_table); i++) {
        if (strcasecmp(name, ftype_table[i].name) == 0) {
            *out = ftype_table[i].ftype;
            return LOCALAI_STATUS_OK;
        }
    }
    return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                    "unknown quantization type '%s' (use Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K_S, "
                    "Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, F16, BF16 or F32)", name);
}

static int ftype_index(uint32_t ftype) {
    for (size_t i = 0; i < LAI_ARRAY_LEN(ftype_table); i++)
        if (ftype_table[i].ftype == ftype) return (int)i;
    return -1;
}

const char *lai_ftype_name(uint32_t ftype) {
    int i = ftype_index(ftype);
    return i < 0 ? NULL : ftype_table[i].name;
}

/* ---- processing order -------------------------------------------------------------- */

/* The layer number as llama.cpp reads it (sscanf "blk.%d."), or -1. */
static long layer_of(const char *name) {
    if (strncmp(name, "blk.", 4) != 0) return -1;
    const char *p = name + 4;
    while (isspace((unsigned char)*p)) p++;
    const char *digits = p + (*p == '-' || *p == '+');
    if (!isdigit((unsigned char)*digits)) return -1;
    return strtol(p, NULL, 10);
}

typedef struct order_item {
    long layer;
    const char *name;
    uint64_t index;
} order_item;

static int order_cmp(const void *a, const void *b) {
    const order_item *x = a, *y = b;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    return strcmp(x->name, y->name);
}

localai_status lai_quantize_order(const lai_gguf *in, uint64_t *order) {
    if (in->n_tensors == 0) return LOCALAI_STATUS_OK;
    if (in->n_tensors > SIZE_MAX / sizeof(order_item))
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "too many tensors");
    order_item *items = lai_malloc((size_t)in->n_tensors * sizeof *items);
    if (items == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "out of memory sorting tensors");
    for (uint64_t i = 0; i < in->n_tensors; i++) {
        items[i].layer = layer_of(in->tensors[i].name);
        items[i].name = in->tensors[i].name;
        items[i].index = i;
    }
    qsort(items, (size_t)in->n_tensors, sizeof *items, order_cmp);
    for (uint64_t i = 0; i < in->n_tensors; i++) order[i] = items[i].index;
    lai_free(items);
    return LOCALAI_STATUS_OK;
}

/* ---- which tensors are re-encoded ---------------------------------------------------- */

static int contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Dimensions as ggml counts them: trailing dimensions of 1 do not count. */
static int effective_dims(const lai_gguf_tensor *t) {
    for (int i = LAI_GGUF_MAX_DIMS - 1; i >= 1; i--)
        if (t->ne[i] > 1) return i + 1;
    return 1;
}

/* Name fragments llama.cpp never quantizes: small or precision-sensitive tensors of
 * various architectures (routers, RWKV mixes, positional tables, vision towers). */
static const char *const keep_fragments[] = {
    "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
    "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight",
    "indexer.q_proj.weight", "time_mix_first.weight", "time_mix_w0.weight",
    "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight",
    "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
    "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
    "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
    ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd",
    ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
};

static int allows_quantization(const lai_gguf_tensor *t) {
    if (effective_dims(t) < 2) return 0;
    if (!ends_with(t->name, "weight")) return 0;
    if (strcmp(t->name, "position_embd.weight") == 0 || strcmp(t->name, "token_types.weight") == 0)
        return 0;
    for (size_t i = 0; i < LAI_ARRAY_LEN(keep_fragments); i++)
        if (contains(t->name, keep_fragments[i])) return 0;
    return 1;
}

/* ---- the mixes ------------------------------------------------------------------------ */

typedef enum {
    CAT_TOKEN_EMBD, CAT_ATTN_Q, CAT_ATTN_V, CAT_ATTN_K, CAT_ATTN_QKV, CAT_ATTN_KV_B,
    CAT_ATTN_OUTPUT, CAT_FFN_UP, CAT_FFN_GATE, CAT_FFN_DOWN, CAT_OUTPUT, CAT_OTHER
} category;

static category category_of(const char *name) {
    if (strcmp(name, "output.weight") == 0) return CAT_OUTPUT;
    if (strcmp(name, "token_embd.weight") == 0 || strcmp(name, "per_layer_token_embd.weight") == 0)
        return CAT_TOKEN_EMBD;
    if (contains(name, "attn_qkv.weight")) return CAT_ATTN_QKV;
    if (contains(name, "attn_kv_b.weight")) return CAT_ATTN_KV_B;
    if (contains(name, "attn_v.weight")) return CAT_ATTN_V;
    if (contains(name, "attn_k.weight")) return CAT_ATTN_K;
    if (contains(name, "attn_q.weight")) return CAT_ATTN_Q;
    if (contains(name, "attn_output.weight")) return CAT_ATTN_OUTPUT;
    if (contains(name, "ffn_up")) return CAT_FFN_UP;
    if (contains(name, "ffn_gate")) return CAT_FFN_GATE;
    if (contains(name, "ffn_down")) return CAT_FFN_DOWN;
    return CAT_OTHER;
}

static int is_attn_v_like(category c) {
    return c == CAT_ATTN_V || c == CAT_ATTN_QKV || c == CAT_ATTN_KV_B;
}

/* Layers at the two ends of the stack, and every third in between, get more bits. */
static int use_more_bits(int i_layer, int n_layers) {
    return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

typedef struct mix_state {
    uint32_t ftype;
    int falcon, is_70b, tied_embeddings;
    int n_expert;
    int n_layer;
    int n_attention_wv, i_attention_wv;
    int i_ffn_down, i_ffn_gate, i_ffn_up;
} mix_state;

/* The layer a tensor belongs to: its position in the sequence for dense models, parsed
 * from the name for MoE models (llama.cpp's layer_info). */
static localai_status layer_info(const mix_state *s, int counter, const char *name, int *i_layer) {
    *i_layer = counter;
    if (s->n_expert > 1) {
        long l = layer_of(name);
        if (l < 0 || l >= s->n_layer)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "tensor '%s': cannot tell its layer (block_count %d)", name, s->n_layer);
        *i_layer = (int)l;
    }
    return LOCALAI_STATUS_OK;
}

static localai_status mix_type(mix_state *s, const lai_gguf_tensor *t, uint32_t *type) {
    const uint32_t ft = s->ftype;
    const category cat = category_of(t->name);
    uint32_t nt = *type;
    int i_layer;
    localai_status st;
    if (cat == CAT_OUTPUT || (s->tied_embeddings && cat == CAT_TOKEN_EMBD)) {
        /* the output projection is the most sensitive matrix: Q6_K unless already Q8_0 */
        if (s->falcon || t->ne[0] % lai_type_get(nt)->block_size != 0) nt = LAI_TYPE_Q8_0;
        else if (nt != LAI_TYPE_Q8_0) nt = LAI_TYPE_Q6_K;
    } else if (cat == CAT_TOKEN_EMBD) {
        /* stays at the default type in the mixes we write */
    } else if (is_attn_v_like(cat)) {
        if ((ft == LAI_FTYPE_MOSTLY_Q4_K_M || ft == LAI_FTYPE_MOSTLY_Q5_K_M) &&
            use_more_bits(s->i_attention_wv, s->n_attention_wv))
            nt = LAI_TYPE_Q6_K;
        else if (ft == LAI_FTYPE_MOSTLY_Q4_K_S && s->i_attention_wv < 4)
            nt = LAI_TYPE_Q5_K;
        /* 70B: 8 query heads share each V head, so V is small; more bits cost little */
        if (s->is_70b && (nt == LAI_TYPE_Q3_K || nt == LAI_TYPE_Q4_K)) nt = LAI_TYPE_Q5_K;
        if (s->n_expert == 8) nt = LAI_TYPE_Q8_0;
        s->i_attention_wv++;
    } else if (cat == CAT_ATTN_K) {
        if (s->n_expert == 8) nt = LAI_TYPE_Q8_0;
    } else if (cat == CAT_ATTN_Q) {
        /* only the IQ3 mixes change it */
    } else if (cat == CAT_FFN_DOWN) {
        if ((st = layer_info(s, s->i_ffn_down, t->name, &i_layer)) != LOCALAI_STATUS_OK) return st;
        const int n = s->n_layer;
        if (ft == LAI_FTYPE_MOSTLY_Q4_K_M) {
            if (s->falcon)
                nt = i_layer < n / 16 ? LAI_TYPE_Q6_K : use_more_bits(i_layer, n) ? LAI_TYPE_Q5_K : LAI_TYPE_Q4_K;
            else if (use_more_bits(i_layer, n))
                nt = LAI_TYPE_Q6_K;
        } else if (ft == LAI_FTYPE_MOSTLY_Q5_K_M && use_more_bits(i_layer, n)) {
            nt = LAI_TYPE_Q6_K;
        } else if (ft == LAI_FTYPE_MOSTLY_Q4_K_S && !s->falcon && i_layer < n / 8) {
            nt = LAI_TYPE_Q5_K;
        }
        s->i_ffn_down++;
    } else if (cat == CAT_ATTN_OUTPUT) {
        if (!s->falcon && s->n_expert == 8 &&
            (ft == LAI_FTYPE_MOSTLY_Q4_K_S || ft == LAI_FTYPE_MOSTLY_Q4_K_M))
            nt = LAI_TYPE_Q5_K;
    } else if (cat == CAT_FFN_GATE) {
        if ((st = layer_info(s, s->i_ffn_gate, t->name, &i_layer)) != LOCALAI_STATUS_OK) return st;
        s->i_ffn_gate++;
    } else if (cat == CAT_FFN_UP) {
        if ((st = layer_info(s, s->i_ffn_up, t->name, &i_layer)) != LOCALAI_STATUS_OK) return st;
        s->i_ffn_up++;
    }
    *type = nt;
    return LOCALAI_STATUS_OK;
}

/* A row length the type's blocks do not divide: the nearest type with 32-element blocks,
 * else F16 (llama.cpp's tensor_type_fallback; it errors for the 32-block types, we use F16). */
static uint32_t fallback_type(uint64_t ne0, uint32_t type, int *fell_back) {
    if (ne0 % lai_type_get(type)->block_size == 0) return type;
    *fell_back = 1;
    uint32_t r;
    switch (type) {
    case LAI_TYPE_IQ1_S: case LAI_TYPE_IQ1_M: case LAI_TYPE_IQ2_XXS: case LAI_TYPE_IQ2_XS:
    case LAI_TYPE_IQ2_S: case LAI_TYPE_IQ3_XXS: case LAI_TYPE_IQ3_S: case LAI_TYPE_IQ4_XS:
        r = LAI_TYPE_IQ4_NL; break;
    case LAI_TYPE_Q2_K: case LAI_TYPE_Q3_K: case LAI_TYPE_TQ1_0: case LAI_TYPE_TQ2_0:
        r = LAI_TYPE_Q4_0; break;
    case LAI_TYPE_Q4_K: r = LAI_TYPE_Q5_0; break;
    case LAI_TYPE_Q5_K: r = LAI_TYPE_Q5_1; break;
    case LAI_TYPE_Q6_K: r = LAI_TYPE_Q8_0; break;
    default: r = LAI_TYPE_F16; break;
    }
    if (ne0 % lai_type_get(r)->block_size != 0) r = LAI_TYPE_F16;
    return r;
}

static uint32_t arch_u32(const lai_gguf *in, const lai_str *arch, const char *suffix, uint32_t dflt) {
    char key[256];
    if (arch->len > 128) return dflt;
    snprintf(key, sizeof key, "%.*s.%s", (int)arch->len, arch->ptr, suffix);
    uint32_t v;
    return lai_gguf_get_u32(in, key, &v) == LOCALAI_STATUS_OK ? v : dflt;
}

localai_status lai_quantize_choose_types(const lai_gguf *in, uint32_t ftype, lai_quant_choice *choices) {
    const int fi = ftype_index(ftype);
    if (fi < 0) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "file type %u cannot be written", ftype);
    const uint32_t default_type = ftype_table[fi].default_type;

    mix_state s = {0};
    s.ftype = ftype;
    lai_str arch = {"", 0};
    if (lai_gguf_get_str(in, "general.architecture", &arch) != LOCALAI_STATUS_OK) lai_clear_error();
    s.falcon = arch.len == 6 && memcmp(arch.ptr, "falcon", 6) == 0;
    uint32_t n_expert = arch_u32(in, &arch, "expert_count", 0);
    s.n_expert = n_expert > 1 ? (n_expert > 1u << 20 ? 1 << 20 : (int)n_expert) : 1;
    uint32_t n_layer = arch_u32(in, &arch, "block_count", UINT32_MAX);
    if (n_layer == UINT32_MAX || n_layer > 1u << 20) {
        /* no block count (not a model llama.cpp would load): count the layers seen */
        n_layer = 0;
        for (uint64_t i = 0; i < in->n_tensors; i++)
            if (category_of(in->tensors[i].name) == CAT_FFN_DOWN && n_layer < 1u << 20) n_layer++;
    }
    s.n_layer = (int)n_layer;
    uint32_t n_head = arch_u32(in, &arch, "attention.head_count", 0);
    uint32_t n_head_kv = arch_u32(in, &arch, "attention.head_count_kv", n_head);
    s.is_70b = arch.len == 5 && memcmp(arch.ptr, "llama", 5) == 0 && n_layer == 80 && n_head != n_head_kv;
    s.tied_embeddings = 1;
    for (uint64_t i = 0; i < in->n_tensors; i++) {
        category c = category_of(in->tensors[i].name);
        if (is_attn_v_like(c) && s.n_attention_wv < INT32_MAX) s.n_attention_wv++;
        if (c == CAT_OUTPUT) s.tied_embeddings = 0;
    }

    if (in->n_tensors > SIZE_MAX / sizeof(uint64_t))
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "too many tensors");
    uint64_t *order = lai_malloc((size_t)(in->n_tensors ? in->n_tensors : 1) * sizeof *order);
    if (order == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "out of memory choosing types");
    localai_status st = lai_quantize_order(in, order);
    for (uint64_t k = 0; k < in->n_tensors && st == LOCALAI_STATUS_OK; k++) {
        const lai_gguf_tensor *t = &in->tensors[order[k]];
        lai_quant_choice *c = &choices[order[k]];
        c->type = t->type;
        c->fallback = 0;
        if (!allows_quantization(t)) continue;
        uint32_t nt = default_type;
        if (lai_type_get(default_type)->is_quantized) {
            st = mix_type(&s, t, &nt);
            if (st != LOCALAI_STATUS_OK) break;
            nt = fallback_type(t->ne[0], nt, &c->fallback);
        }
        c->type = nt;
    }
    lai_free(order);
    return st;
}
