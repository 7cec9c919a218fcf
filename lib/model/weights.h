/* weights.h - a model's weight tensors bound by role, validated against the hyper-parameters. */
#ifndef LAI_WEIGHTS_H
#define LAI_WEIGHTS_H

#include "hparams.h"

/* NULL means the file has no such tensor (and the architecture does not need it).
 * Shapes follow GGUF: ne[0] is the input (contiguous) dimension of a projection. */
typedef struct lai_layer_weights {
    const lai_gguf_tensor *attn_norm;
    const lai_gguf_tensor *attn_q, *attn_k, *attn_v; /* separate projections, or */
    const lai_gguf_tensor *attn_qkv;                 /* phi3 fused [n_embd, q+k+v] */
    const lai_gguf_tensor *attn_q_bias, *attn_k_bias, *attn_v_bias; /* qwen2 */
    const lai_gguf_tensor *attn_q_norm, *attn_k_norm; /* qwen3, gemma3 per-head RMS norm */
    const lai_gguf_tensor *attn_output;
    const lai_gguf_tensor *attn_post_norm;            /* gemma2/3 */
    const lai_gguf_tensor *ffn_norm;
    const lai_gguf_tensor *ffn_gate, *ffn_up;         /* phi3: ffn_up is [n_embd, 2*n_ff], no gate */
    const lai_gguf_tensor *ffn_down;
    const lai_gguf_tensor *ffn_post_norm;             /* gemma2/3 */
    /* appended fields */
    const lai_gguf_tensor *attn_output_bias;          /* optional (some llama variants) */
} lai_layer_weights;

typedef struct lai_model_weights {
    const lai_gguf_tensor *token_embd;
    const lai_gguf_tensor *output_norm;
    const lai_gguf_tensor *output;       /* == token_embd when tied */
    const lai_gguf_tensor *rope_freqs;   /* llama3 rope frequency factors [n_rot/2] */
    const lai_gguf_tensor *rope_factors_long, *rope_factors_short; /* phi3 longrope */
    lai_layer_weights *layers;           /* n_layer entries */
} lai_model_weights;

/* Binds every tensor the architecture needs, checking presence, types (those with a
 * dequantizer) and shapes against `hp`. Errors name the tensor and both shapes. */
localai_status lai_weights_bind(const lai_gguf *gguf, const lai_hparams *hp,
                                lai_model_weights *out);
void lai_weights_free(lai_model_weights *w);

/* Alignment of the block lai_weights_realign allocates. */
#define LAI_WEIGHTS_ALIGN 64

/* Moves every tensor whose data is not at the address alignment its type needs (a file
 * written with a small general.alignment) into one block from `host` (NULL: the C heap),
 * and points the tensor's data there, so kernels always read aligned blocks. *out_block
 * is NULL when every tensor was aligned already; else the caller frees it with
 * lai_free_aligned(host, block, *out_size, LAI_WEIGHTS_ALIGN) after the last use. */
localai_status lai_weights_realign(lai_gguf *gguf, const localai_allocator *host,
                                   uint8_t **out_block, size_t *out_size);

#endif /* LAI_WEIGHTS_H */
