/* forward_blocks.c - the blocks every architecture's forward pass is made of. */
#include "forward_blocks.h"

#include <math.h>

#include "../quant/quant.h"

lai_tensor *lai_fw_weight(const lai_forward *f, const lai_gguf_tensor *t) {
    if (t == NULL) return NULL;
    return &f->weights[t - f->model->gguf->tensors];
}

lai_tensor *lai_fw_embed(lai_forward *f) {
    const lai_hparams *hp = &f->model->hp;
    lai_tensor *x = lai_op_get_rows(f->g, lai_fw_weight(f, f->model->weights.token_embd), f->in.tokens);
    if (hp->embd_scale != 1.0f) x = lai_op_scale(f->g, x, hp->embd_scale);
    return x;
}

lai_tensor *lai_fw_norm(lai_forward *f, lai_tensor *x, const lai_gguf_tensor *w) {
    return lai_op_rms_norm(f->g, x, lai_fw_weight(f, w), f->model->hp.norm_eps);
}

/* x W (+ b) */
static lai_tensor *project(lai_forward *f, const lai_gguf_tensor *w, const lai_gguf_tensor *b,
                           lai_tensor *x) {
    lai_tensor *y = lai_op_matmul(f->g, lai_fw_weight(f, w), x);
    if (b != NULL) y = lai_op_add(f->g, y, lai_fw_weight(f, b));
    return y;
}

/* Columns [col0, col0 + n) of a [width, n_tokens] tensor as [head_dim, n, n_tokens]. */
static lai_tensor *split_heads(lai_forward *f, lai_tensor *fused, int64_t col0, int64_t head_dim,
                               int64_t n_heads) {
    if (fused == NULL) return NULL;
    const int64_t ne[LAI_MAX_DIMS] = {head_dim, n_heads, fused->ne[1], 1};
    const size_t nb[LAI_MAX_DIMS] = {4, (size_t)head_dim * 4, fused->nb[1], fused->nb[1] * (size_t)fused->ne[1]};
    return lai_graph_view(f->g, fused, ne, nb, (size_t)col0 * 4);
}

static lai_tensor *as_heads(lai_forward *f, lai_tensor *x, int64_t head_dim, int64_t n_heads) {
    return x == NULL ? NULL : lai_graph_reshape(f->g, x, head_dim, n_heads, x->ne[1]);
}

lai_tensor *lai_fw_attention(lai_forward *f, uint32_t il, lai_tensor *x) {
    const lai_hparams *hp = &f->model->hp;
    const lai_layer_weights *lw = &f->model->weights.layers[il];
    const lai_model_weights *mw = &f->model->weights;
    lai_graph *g = f->g;
    const int64_t hdk = hp->head_dim_k, hdv = hp->head_dim_v;
    const int64_t nh = hp->n_head, nkv = hp->n_head_kv;

    lai_tensor *q, *k, *v;
    if (lw->attn_qkv != NULL) { /* phi3: one projection, Q | K | V along the output */
        lai_tensor *qkv = project(f, lw->attn_qkv, NULL, x);
        q = split_heads(f, qkv, 0, hdk, nh);
        k = split_heads(f, qkv, hdk * nh, hdk, nkv);
        v = split_heads(f, qkv, hdk * (nh + nkv), hdv, nkv);
    } else {
        q = as_heads(f, project(f, lw->attn_q, lw->attn_q_bias, x), hdk, nh);
        k = as_heads(f, project(f, lw->attn_k, lw->attn_k_bias, x), hdk, nkv);
        v = as_heads(f, project(f, lw->attn_v, lw->attn_v_bias, x), hdv, nkv);
    }
    /* qwen3, gemma3: RMS norm of every head before rope */
    if (lw->attn_q_norm != NULL) q = lai_fw_norm(f, q, lw->attn_q_norm);
    if (lw->attn_k_norm != NULL) k = lai_fw_norm(f, k, lw->attn_k_norm);

    const int swa = hp->n_swa > 0 && hp->swa_layer[il];
    lai_rope_params rp;
    rp.n_rot = (int32_t)hp->n_rot;
    rp.neox = hp->rope_neox;
    rp.n_ctx_orig = (int32_t)hp->rope_orig_ctx;
    rp.freq_base = swa ? hp->rope_freq_base_swa : hp->rope_freq_base;
    rp.freq_scale = swa ? hp->rope_freq_scale_swa : hp->rope_freq_scale;
    rp.ext_factor = hp->yarn_ext_factor;
    /* llama.cpp multiplies every rope by rope.scaling.attn_factor, whatever the scaling
     * type (llama_context); for YaRN it also passes its mscale 1 + 0.1 ln(factor) divided by
     * the same term the kernel multiplies back in, so nothing else remains. It reads no
     * yarn_attn_factor key for these architectures. */
    rp.attn_factor = hp->rope_attn_factor;
    rp.beta_fast = hp->yarn_beta_fast;
    rp.beta_slow = hp->yarn_beta_slow;
    const lai_gguf_tensor *factors = mw->rope_freqs;
    if (factors == NULL && hp->rope_scaling == LAI_ROPE_SCALING_LONGROPE)
        factors = f->n_ctx_seq > hp->rope_orig_ctx ? mw->rope_factors_long : mw->rope_factors_short;
    lai_tensor *ff = lai_fw_weight(f, factors);
    q = lai_op_rope(g, q, f->in.positions, ff, &rp);
    k = lai_op_rope(g, k, f->in.positions, ff, &rp);

    /* sliding-window layers keep their cells in the window group when the cache has one */
    lai_kv_cells *cells = lai_kv_group(f->kv, il);
    const int in_window = cells == &f->kv->swa;
    lai_tensor *slots = in_window ? f->in.swa_slots : f->in.kv_slots;
    lai_op_kv_store(g, &f->kv->k[il], k, slots);
    lai_op_kv_store(g, &f->kv->v[il], v, slots);
    /* Only gemma2 soft-caps attention scores (llama.cpp's graphs do the same). */
    const float softcap = hp->arch == LAI_ARCH_GEMMA2 ? hp->attn_logit_softcap : 0.0f;
    lai_tensor *att = lai_op_attention(g, q, &f->kv->k[il], &f->kv->v[il], f->in.info, &cells->tensor, in_window,
                                       swa ? (int32_t)hp->n_swa : 0, (int32_t)nkv, hp->attn_scale, softcap);
    return project(f, lw->attn_output, lw->attn_output_bias, att);
}

lai_tensor *lai_fw_ffn(lai_forward *f, uint32_t il, lai_tensor *x, int gelu) {
    const lai_layer_weights *lw = &f->model->weights.layers[il];
    lai_graph *g = f->g;
    lai_tensor *gate, *up;
    if (lw->ffn_gate == NULL) { /* phi3: one projection to [gate | up] */
        lai_tensor *gu = project(f, lw->ffn_up, NULL, x);
        if (gu == NULL) return NULL;
        const int64_t n_ff = gu->ne[0] / 2;
        const int64_t ne[LAI_MAX_DIMS] = {n_ff, gu->ne[1], 1, 1};
        const size_t nb[LAI_MAX_DIMS] = {4, gu->nb[1], gu->nb[1] * (size_t)gu->ne[1], gu->nb[1] * (size_t)gu->ne[1]};
        gate = lai_graph_view(g, gu, ne, nb, 0);
        up = lai_graph_view(g, gu, ne, nb, (size_t)n_ff * 4);
    } else {
        gate = project(f, lw->ffn_gate, NULL, x);
        up = project(f, lw->ffn_up, NULL, x);
    }
    lai_tensor *h = gelu ? lai_op_geglu(g, gate, up) : lai_op_swiglu(g, gate, up);
    return project(f, lw->ffn_down, NULL, h);
}

lai_tensor *lai_fw_select_outputs(lai_forward *f, lai_tensor *x) {
    if (f->in.out_ids == NULL || x == NULL) return x;
    return lai_op_get_rows(f->g, x, f->in.out_ids);
}

lai_tensor *lai_fw_logits(lai_forward *f, lai_tensor *x) {
    const lai_hparams *hp = &f->model->hp;
    const lai_model_weights *mw = &f->model->weights;
    x = lai_fw_norm(f, x, mw->output_norm);
    x = lai_op_matmul(f->g, lai_fw_weight(f, mw->output), x);
    /* gemma2 always caps; llama.cpp's gemma3 graph caps only without sliding windows. */
    const int cap = hp->final_logit_softcap > 0.0f &&
                    (hp->arch == LAI_ARCH_GEMMA2 || (hp->arch == LAI_ARCH_GEMMA3 && hp->n_swa == 0));
    if (cap) x = lai_op_softcap(f->g, x, hp->final_logit_softcap);
    return x;
}

