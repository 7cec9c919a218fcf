/* arch_tensors.h - which tensors each architecture has, with their shapes in hyper-parameter terms. */
#ifndef LAI_ARCH_TENSORS_H
#define LAI_ARCH_TENSORS_H

#include "weights.h"

/* Symbolic dimensions, resolved against lai_hparams by the binder. */
enum {
    LAI_DIM_EMBD = 1,  /* n_embd */
    LAI_DIM_VOCAB,     /* n_vocab */
    LAI_DIM_Q,         /* head_dim_k * n_head */
    LAI_DIM_K,         /* head_dim_k * n_head_kv */
    LAI_DIM_V,         /* head_dim_v * n_head_kv */
    LAI_DIM_ATTN_OUT,  /* head_dim_v * n_head */
    LAI_DIM_QKV,       /* Q + K + V (phi3 fused projection) */
    LAI_DIM_FF,        /* n_ff */
    LAI_DIM_FF2,       /* 2 * n_ff (phi3 fused gate+up) */
    LAI_DIM_HEAD_K,    /* head_dim_k (per-head norms) */
    LAI_DIM_ROT_HALF   /* n_rot / 2 (rope frequency factors) */
};

enum {
    LAI_TENSOR_OPTIONAL = 1u << 0, /* absent is fine */
    LAI_TENSOR_LAYER = 1u << 1     /* one per layer: the name has a %u for the layer */
};

typedef struct lai_tensor_spec {
    const char *name;   /* "token_embd.weight" or "blk.%u.attn_q.weight" */
    uint16_t field;     /* offsetof in lai_model_weights, or in lai_layer_weights for LAYER */
    uint8_t flags;
    uint8_t n_dims;     /* 1 or 2 */
    uint8_t dims[2];    /* LAI_DIM_* for ne[0], ne[1] */
} lai_tensor_spec;

/* The tensors of `arch`, ending with an entry whose name is NULL. */
const lai_tensor_spec *lai_arch_tensors(lai_arch arch);

#endif /* LAI_ARCH_TENSORS_H */
