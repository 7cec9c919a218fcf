/* arch_gemma.c - forward pass of gemma2 and gemma3: scaled embeddings, GELU, norms after attention and FFN. */
#include "forward_blocks.h"

/* Per layer: h = x + norm_post(attn(norm(x))); x = h + norm_post_ffn(ffn(norm(h))).
 * The GGUF converter stores Gemma's norm weights with the +1 of its (1 + w) convention
 * already added, so every norm is a plain RMS norm times its weight. Sliding-window
 * layers, per-layer rope bases and soft-capping come from the hyper-parameters. */
lai_tensor *lai_build_gemma_family(lai_forward *f) {
    const lai_hparams *hp = &f->model->hp;
    lai_tensor *x = lai_fw_embed(f);
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const lai_layer_weights *lw = &f->model->weights.layers[il];
        lai_tensor *att = lai_fw_attention(f, il, lai_fw_norm(f, x, lw->attn_norm));
        if (il == hp->n_layer - 1) {
            att = lai_fw_select_outputs(f, att);
            x = lai_fw_select_outputs(f, x);
        }
        att = lai_fw_norm(f, att, lw->attn_post_norm);
        lai_tensor *h = lai_op_add(f->g, x, att);
        lai_tensor *ffn = lai_fw_ffn(f, il, lai_fw_norm(f, h, lw->ffn_norm), 1);
        ffn = lai_fw_norm(f, ffn, lw->ffn_post_norm);
        x = lai_op_add(f->g, h, ffn);
    }
    return lai_fw_logits(f, x);
}
