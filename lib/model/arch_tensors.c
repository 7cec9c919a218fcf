/* arch_tensors.c - the tensor tables of llama, qwen2, qwen3, phi3, gemma2 and gemma3 (llama.cpp names). */
#include "arch_tensors.h"

#include <stddef.h>

#define M(field) (uint16_t)offsetof(lai_model_weights, field)
#define L(field) (uint16_t)offsetof(lai_layer_weights, field)
#define OPT LAI_TENSOR_OPTIONAL
#define LAY LAI_TENSOR_LAYER
#define D1(a) 1, {LAI_DIM_##a, 0}
#define D2(a, b) 2, {LAI_DIM_##a, LAI_DIM_##b}

/* Model-level tensors every architecture has; output.weight absent means tied embeddings. */
#define COMMON_TOP                                                  \
    {"token_embd.weight", M(token_embd), 0, D2(EMBD, VOCAB)},       \
    {"output_norm.weight", M(output_norm), 0, D1(EMBD)},            \
    {"output.weight", M(output), OPT, D2(EMBD, VOCAB)}

#define ATTN_NORM {"blk.%u.attn_norm.weight", L(attn_norm), LAY, D1(EMBD)}
#define ATTN_QKV_SEPARATE(flags)                                          \
    {"blk.%u.attn_q.weight", L(attn_q), LAY | (flags), D2(EMBD, Q)},      \
    {"blk.%u.attn_k.weight", L(attn_k), LAY | (flags), D2(EMBD, K)},      \
    {"blk.%u.attn_v.weight", L(attn_v), LAY | (flags), D2(EMBD, V)}
#define ATTN_OUT {"blk.%u.attn_output.weight", L(attn_output), LAY, D2(ATTN_OUT, EMBD)}
#define QK_NORM                                                               \
    {"blk.%u.attn_q_norm.weight", L(attn_q_norm), LAY, D1(HEAD_K)},           \
    {"blk.%u.attn_k_norm.weight", L(attn_k_norm), LAY, D1(HEAD_K)}
#define FFN_GATED                                                      \
    {"blk.%u.ffn_norm.weight", L(ffn_norm), LAY, D1(EMBD)},            \
    {"blk.%u.ffn_gate.weight", L(ffn_gate), LAY, D2(EMBD, FF)},        \
    {"blk.%u.ffn_up.weight", L(ffn_up), LAY, D2(EMBD, FF)},            \
    {"blk.%u.ffn_down.weight", L(ffn_down), LAY, D2(FF, EMBD)}
#define POST_NORMS                                                              \
    {"blk.%u.post_attention_norm.weight", L(attn_post_norm), LAY, D1(EMBD)},    \
    {"blk.%u.post_ffw_norm.weight", L(ffn_post_norm), LAY, D1(EMBD)}
#define END {NULL, 0, 0, 0, {0, 0}}

static const lai_tensor_spec llama_tensors[] = {
    COMMON_TOP,
    {"rope_freqs.weight", M(rope_freqs), OPT, D1(ROT_HALF)}, /* llama 3.1+ */
    /* LongRoPE llama conversions (used with rope.scaling.type longrope, as llama.cpp does) */
    {"rope_factors_long.weight", M(rope_factors_long), OPT, D1(ROT_HALF)},
    {"rope_factors_short.weight", M(rope_factors_short), OPT, D1(ROT_HALF)},
    ATTN_NORM,
    ATTN_QKV_SEPARATE(0),
    {"blk.%u.attn_q.bias", L(attn_q_bias), LAY | OPT, D1(Q)},
    {"blk.%u.attn_k.bias", L(attn_k_bias), LAY | OPT, D1(K)},
    {"blk.%u.attn_v.bias", L(attn_v_bias), LAY | OPT, D1(V)},
    ATTN_OUT,
    {"blk.%u.attn_output.bias", L(attn_output_bias), LAY | OPT, D1(EMBD)},
    FFN_GATED,
    END,
};

static const lai_tensor_spec qwen2_tensors[] = {
    COMMON_TOP,
    ATTN_NORM,
    ATTN_QKV_SEPARATE(0),
    {"blk.%u.attn_q.bias", L(attn_q_bias), LAY, D1(Q)},
    {"blk.%u.attn_k.bias", L(attn_k_bias), LAY, D1(K)},
    {"blk.%u.attn_v.bias", L(attn_v_bias), LAY, D1(V)},
    ATTN_OUT,
    FFN_GATED,
    END,
};

static const lai_tensor_spec qwen3_tensors[] = {
    COMMON_TOP, ATTN_NORM, ATTN_QKV_SEPARATE(0), QK_NORM, ATTN_OUT, FFN_GATED, END,
};

/* Phi-3: fused QKV (or, in some conversions, separate projections; the binder requires
 * one of the two), fused gate+up, long/short rope factors for LongRoPE. */
static const lai_tensor_spec phi3_tensors[] = {
    COMMON_TOP,
    {"rope_factors_long.weight", M(rope_factors_long), OPT, D1(ROT_HALF)},
    {"rope_factors_short.weight", M(rope_factors_short), OPT, D1(ROT_HALF)},
    ATTN_NORM,
    {"blk.%u.attn_qkv.weight", L(attn_qkv), LAY | OPT, D2(EMBD, QKV)},
    ATTN_QKV_SEPARATE(OPT),
    ATTN_OUT,
    {"blk.%u.ffn_norm.weight", L(ffn_norm), LAY, D1(EMBD)},
    {"blk.%u.ffn_up.weight", L(ffn_up), LAY, D2(EMBD, FF2)},
    {"blk.%u.ffn_down.weight", L(ffn_down), LAY, D2(FF, EMBD)},
    END,
};

static const lai_tensor_spec gemma2_tensors[] = {
    COMMON_TOP, ATTN_NORM, ATTN_QKV_SEPARATE(0), ATTN_OUT, POST_NORMS, FFN_GATED, END,
};

static const lai_tensor_spec gemma3_tensors[] = {
    COMMON_TOP, ATTN_NORM, ATTN_QKV_SEPARATE(0), QK_NORM, ATTN_OUT, POST_NORMS, FFN_GATED, END,
};

const lai_tensor_spec *lai_arch_tensors(lai_arch arch) {
    switch (arch) {
    case LAI_ARCH_LLAMA: return llama_tensors;
    case LAI_ARCH_QWEN2: return qwen2_tensors;
    case LAI_ARCH_QWEN3: return qwen3_tensors;
    case LAI_ARCH_PHI3: return phi3_tensors;
    case LAI_ARCH_GEMMA2: return gemma2_tensors;
    case LAI_ARCH_GEMMA3: return gemma3_tensors;
    default: return NULL;
    }
}
