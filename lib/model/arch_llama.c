/* arch_llama.c - forward pass of the pre-norm family: llama (2/3, Mistral, SmolLM, TinyLlama), qwen2, qwen3, phi3. */
#include "forward_blocks.h"

/* Per layer: h = x + attn(norm(x)); x = h + ffn(norm(h)). What differs between these
 * architectures (qkv biases, per-head q/k norms, fused projections, rope style and
 * factors) is carried by the weights and hyper-parameters the shared blocks read. */
lai_tensor *lai_build_llama_family(lai_forward *f) {
    const lai_hparams *hp = &f->model->hp;
    lai_tensor *x = lai_fw_embed(f);
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const lai_layer_weights *lw = &f->model->weights.layers[il];
        lai_tensor *att = lai_fw_attention(f, il, lai_fw_norm(f, x, lw->attn_norm));
        if (il == hp->n_layer - 1) { /* rows without logits need no FFN in the last layer */
            att = lai_fw_select_outputs(f, att);
            x = lai_fw_select_outputs(f, x);
        }
        lai_tensor *h = lai_op_add(f->g, x, att);
        lai_tensor *ffn = lai_fw_ffn(f, il, lai_fw_norm(f, h, lw->ffn_norm), 0);
        x = lai_op_add(f->g, h, ffn);
    }
    return lai_fw_logits(f, x);
}
