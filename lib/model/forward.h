/* forward.h - records a model's forward pass for one batch as ops on the compute interface. */
#ifndef LAI_FORWARD_H
#define LAI_FORWARD_H

#include "../compute/kv_cache.h"
#include "model.h"

/* Inputs the host writes before the graph runs. */
typedef struct lai_forward_inputs {
    lai_tensor *tokens;    /* I32 [n_tokens] */
    lai_tensor *positions; /* I32 [n_tokens] */
    lai_tensor *kv_slots;  /* I32 [n_tokens]: the cache cell of each token */
    lai_tensor *mask;      /* F32 [n_kv, n_tokens] for full-attention layers */
    lai_tensor *mask_swa;  /* F32 [n_kv, n_tokens] for sliding-window layers, or NULL */
    lai_tensor *out_ids;   /* I32 [n_outputs]: batch rows that want logits; NULL = all */
} lai_forward_inputs;

typedef struct lai_forward {
    const localai_model *model;
    lai_tensor *weights;      /* one handle per file tensor, indexed like gguf->tensors */
    lai_kv_cache *kv;
    lai_graph *g;
    uint32_t n_tokens, n_outputs, n_kv;
    uint32_t n_ctx_seq;       /* context per sequence (phi3 picks its rope factors by it) */
    lai_forward_inputs in;    /* created by lai_forward_build */
} lai_forward;

/* 1 when some layer of the model uses a sliding window (so in.mask_swa is needed). */
int lai_forward_has_swa(const lai_hparams *hp);

/* Records the whole pass for f->n_tokens tokens and returns the logits tensor
 * [n_vocab, n_outputs] (marked as an output), or NULL with f->g->status set. */
lai_tensor *lai_forward_build(lai_forward *f);

/* ---- shared blocks, used by the per-family builders (arch_*.c) ---- */
lai_tensor *lai_fw_weight(const lai_forward *f, const lai_gguf_tensor *t);
lai_tensor *lai_fw_embed(lai_forward *f);
lai_tensor *lai_fw_norm(lai_forward *f, lai_tensor *x, const lai_gguf_tensor *w);
/* Self-attention of layer il on normed input x: projections, rope, cache store, attention,
 * output projection. */
lai_tensor *lai_fw_attention(lai_forward *f, uint32_t il, lai_tensor *x);
/* Gated feed-forward of layer il: silu (or gelu for gemma) of gate times up, then down. */
lai_tensor *lai_fw_ffn(lai_forward *f, uint32_t il, lai_tensor *x, int gelu);
/* Keeps only the rows that want logits (called before the last layer's FFN). */
lai_tensor *lai_fw_select_outputs(lai_forward *f, lai_tensor *x);
/* Final norm, output projection and final soft-capping. */
lai_tensor *lai_fw_logits(lai_forward *f, lai_tensor *x);

lai_tensor *lai_build_llama_family(lai_forward *f); /* llama, qwen2, qwen3, phi3 */
lai_tensor *lai_build_gemma_family(lai_forward *f); /* gemma2, gemma3 */

#endif /* LAI_FORWARD_H */
