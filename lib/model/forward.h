/* forward.h - records a model's forward pass for one batch shape as ops on the compute interface. */
#ifndef LAI_FORWARD_H
#define LAI_FORWARD_H

#include "../compute/kv_cache.h"
#include "model.h"

/* Inputs the host writes before each run; the recorded graph stays valid for every batch
 * of the same shape (n_tokens, n_outputs), whatever the positions, sequences and cache
 * contents. */
typedef struct lai_forward_inputs {
    lai_tensor *tokens;    /* I32 [n_tokens] */
    lai_tensor *kv_slots;  /* I32 [n_tokens]: the cache cell of each token */
    lai_tensor *swa_slots; /* I32 [n_tokens]: its cell in the window group, or NULL */
    lai_tensor *info;      /* I32 [2 + 2 * n_tokens]: the two groups' active lengths,
                            * positions, sequence ids (see LAI_OP_ATTENTION) */
    lai_tensor *positions; /* a view of info's positions */
    lai_tensor *out_ids;   /* I32 [n_outputs]: batch rows that want logits; NULL = all */
} lai_forward_inputs;

typedef struct lai_forward {
    const localai_model *model;
    lai_tensor *weights;      /* one handle per file tensor, indexed like gguf->tensors */
    lai_kv_cache *kv;
    lai_graph *g;
    uint32_t n_tokens, n_outputs;
    uint32_t n_ctx_seq;       /* context per sequence (phi3 picks its rope factors by it) */
    lai_forward_inputs in;    /* created by lai_forward_build */
} lai_forward;

/* Records the whole pass for f->n_tokens tokens and returns the logits tensor
 * [n_vocab, n_outputs] (marked as an output), or NULL with f->g->status set. */
lai_tensor *lai_forward_build(lai_forward *f);

/* The builders, one per architecture family (arch_*.c); lai_forward_build picks one
 * from its table. */
lai_tensor *lai_build_llama_family(lai_forward *f); /* llama, qwen2, qwen3, phi3 */
lai_tensor *lai_build_gemma_family(lai_forward *f); /* gemma2, gemma3 */

#endif /* LAI_FORWARD_H */
