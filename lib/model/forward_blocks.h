/* forward_blocks.h - the pieces every architecture's forward pass is made of (embedding, norm, attention, FFN, logits). */
#ifndef LAI_FORWARD_BLOCKS_H
#define LAI_FORWARD_BLOCKS_H

#include "forward.h"

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

#endif /* LAI_FORWARD_BLOCKS_H */
