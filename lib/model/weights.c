/* weights.c - binds a file's tensors to model roles, checking presence, type and shape. */
#include "weights.h"

#include "../quant/quant.h"
#include "arch_tensors.h"

#include <stdio.h>

static uint64_t dim_value(const lai_hparams *hp, uint8_t dim) {
    uint64_t q = (uint64_t)hp->head_dim_k * hp->n_head;
    uint64_t k = (uint64_t)hp->head_dim_k * hp->n_head_kv;
    uint64_t v = (uint64_t)hp->head_dim_v * hp->n_head_kv;
    switch (dim) {
    case LAI_DIM_EMBD: return hp->n_embd;
    case LAI_DIM_VOCAB: return hp->n_vocab;
    case LAI_DIM_Q: return q;
    case LAI_DIM_K: return k;
    case LAI_DIM_V: return v;
    case LAI_DIM_ATTN_OUT: return (uint64_t)hp->head_dim_v * hp->n_head;
    case LAI_DIM_QKV: return q + k + v;
    case LAI_DIM_FF: return hp->n_ff;
    case LAI_DIM_FF2: return 2ull * hp->n_ff;
    case LAI_DIM_HEAD_K: return hp->head_dim_k;
    case LAI_DIM_ROT_HALF: return hp->n_rot / 2;
    default: return 0;
    }
}

static void format_shape(char *buf, size_t cap, uint32_t n_dims, const uint64_t *ne) {
    size_t len = 0;
    len += (size_t)snprintf(buf, cap, "[");
    for (uint32_t d = 0; d < n_dims && len < cap; d++)
        len += (size_t)snprintf(buf + len, cap - len, d ? ", %llu" : "%llu",
                                (unsigned long long)ne[d]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
}

static localai_status check_tensor(const lai_gguf_tensor *t, const lai_tensor_spec *spec,
                                   const lai_hparams *hp) {
    uint64_t want[LAI_GGUF_MAX_DIMS] = {1, 1, 1, 1};
    for (uint32_t d = 0; d < spec->n_dims; d++) want[d] = dim_value(hp, spec->dims[d]);
    int same = 1;
    for (uint32_t d = 0; d < LAI_GGUF_MAX_DIMS; d++) same &= t->ne[d] == want[d];
    if (!same) {
        char have_s[96], want_s[64];
        format_shape(have_s, sizeof have_s, t->n_dims, t->ne);
        format_shape(want_s, sizeof want_s, spec->n_dims, want);
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "tensor '%s' has shape %s but the hyper-parameters need %s", t->name,
                        have_s, want_s);
    }
    const lai_type_traits *tr = lai_type_get(t->type);
    if (tr == NULL || tr->to_float == NULL)
        return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                        "tensor '%s' has type %s, which this build cannot compute with", t->name,
                        tr ? tr->name : "unknown");
    /* Norms, biases and rope factors are f32 in every converter's output; the forward
     * pass relies on it. */
    if (spec->n_dims == 1 && t->type != LAI_TYPE_F32)
        return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                        "tensor '%s' has type %s; vectors (norms, biases) must be f32", t->name,
                        tr->name);
    return LOCALAI_STATUS_OK;
}

static localai_status bind_one(const lai_gguf *gguf, const lai_hparams *hp,
                               const lai_tensor_spec *spec, const char *name, void *base,
                               uint8_t *used) {
    const lai_gguf_tensor *t = lai_gguf_find_tensor(gguf, name);
    if (t == NULL) {
        if (spec->flags & LAI_TENSOR_OPTIONAL) return LOCALAI_STATUS_OK;
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tensor '%s' is missing (the %s architecture "
                        "needs it)", name, lai_arch_name(hp->arch));
    }
    localai_status st = check_tensor(t, spec, hp);
    if (st != LOCALAI_STATUS_OK) return st;
    memcpy((char *)base + spec->field, &t, sizeof t);
    used[t - gguf->tensors] = 1;
    return LOCALAI_STATUS_OK;
}

static localai_status bind_all(const lai_gguf *gguf, const lai_hparams *hp,
                               lai_model_weights *w, uint8_t *used) {
    const lai_tensor_spec *specs = lai_arch_tensors(hp->arch);
    if (specs == NULL)
        return lai_fail(LOCALAI_STATUS_UNSUPPORTED, "no tensor table for architecture %s",
                        lai_arch_name(hp->arch));
    localai_status st;
    for (const lai_tensor_spec *s = specs; s->name != NULL; s++) {
        if (s->flags & LAI_TENSOR_LAYER) continue;
        if ((st = bind_one(gguf, hp, s, s->name, w, used)) != LOCALAI_STATUS_OK) return st;
    }
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        lai_layer_weights *lw = &w->layers[il];
        for (const lai_tensor_spec *s = specs; s->name != NULL; s++) {
            if (!(s->flags & LAI_TENSOR_LAYER)) continue;
            char name[96];
            snprintf(name, sizeof name, s->name, il);
            if ((st = bind_one(gguf, hp, s, name, lw, used)) != LOCALAI_STATUS_OK) return st;
        }
        /* phi3: the fused projection or all three separate ones. */
        if (hp->arch == LAI_ARCH_PHI3 && lw->attn_qkv == NULL &&
            (lw->attn_q == NULL || lw->attn_k == NULL || lw->attn_v == NULL))
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "layer %u has neither 'blk.%u.attn_qkv.weight' nor all of "
                            "attn_q/attn_k/attn_v",
                            il, il);
        if (hp->arch == LAI_ARCH_PHI3 && lw->attn_qkv != NULL &&
            (lw->attn_q != NULL || lw->attn_k != NULL || lw->attn_v != NULL))
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "layer %u has both a fused attn_qkv and separate projections", il);
    }
    if (w->output == NULL) w->output = w->token_embd;
    return LOCALAI_STATUS_OK;
}

localai_status lai_weights_bind(const lai_gguf *gguf, const lai_hparams *hp,
                                lai_model_weights *out) {
    if (gguf == NULL || hp == NULL || out == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "lai_weights_bind: NULL argument");
    if (hp->n_layer == 0 || hp->n_layer > LAI_MAX_LAYERS)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "lai_weights_bind: %u layers",
                        hp->n_layer);
    lai_model_weights w;
    memset(&w, 0, sizeof w);
    w.layers = lai_calloc(hp->n_layer, sizeof *w.layers);
    uint8_t *used = lai_calloc(gguf->n_tensors ? (size_t)gguf->n_tensors : 1, 1);
    if (w.layers == NULL || used == NULL) {
        lai_free(w.layers);
        lai_free(used);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate the layer table");
    }
    localai_status st = bind_all(gguf, hp, &w, used);
    /* A tensor we did not bind belongs to a variant we do not run (experts, extra
     * projections); computing without it would silently give wrong results. */
    for (uint64_t i = 0; st == LOCALAI_STATUS_OK && i < gguf->n_tensors; i++)
        if (!used[i])
            st = lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                          "tensor '%s' is not part of the %s architecture as this build runs it",
                          gguf->tensors[i].name, lai_arch_name(hp->arch));
    lai_free(used);
    if (st != LOCALAI_STATUS_OK) {
        lai_free(w.layers);
        return st;
    }
    *out = w;
    return LOCALAI_STATUS_OK;
}

void lai_weights_free(lai_model_weights *w) {
    if (w == NULL) return;
    lai_free(w->layers);
    memset(w, 0, sizeof *w);
}

localai_status lai_weights_realign(lai_gguf *gguf, const localai_allocator *host,
                                   uint8_t **out_block, size_t *out_size) {
    *out_block = NULL;
    *out_size = 0;
    /* GGUF lets a file choose general.alignment = 1, so a tensor may start at any byte;
     * blocks hold 16-bit scales and F32 rows floats, which the kernels load directly. */
    uint64_t total = 0;
    for (uint64_t i = 0; i < gguf->n_tensors; i++) {
        const lai_gguf_tensor *t = &gguf->tensors[i];
        const lai_type_traits *tt = lai_type_get(t->type);
        if (tt == NULL || (uintptr_t)t->data % tt->align == 0) continue;
        uint64_t padded = (t->n_bytes + LAI_WEIGHTS_ALIGN - 1) / LAI_WEIGHTS_ALIGN * LAI_WEIGHTS_ALIGN;
        if (padded < t->n_bytes || lai_add_overflow_u64(total, padded, &total) || total > SIZE_MAX)
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "realigning tensors: size overflows");
    }
    if (total == 0) return LOCALAI_STATUS_OK;
    uint8_t *block = lai_alloc_aligned(host, (size_t)total, LAI_WEIGHTS_ALIGN);
    if (block == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY,
                        "cannot allocate %llu bytes to realign tensors the file stores unaligned",
                        (unsigned long long)total);
    size_t at = 0;
    for (uint64_t i = 0; i < gguf->n_tensors; i++) {
        lai_gguf_tensor *t = &gguf->tensors[i];
        const lai_type_traits *tt = lai_type_get(t->type);
        if (tt == NULL || (uintptr_t)t->data % tt->align == 0) continue;
        memcpy(block + at, t->data, (size_t)t->n_bytes);
        t->data = block + at;
        at += (size_t)((t->n_bytes + LAI_WEIGHTS_ALIGN - 1) / LAI_WEIGHTS_ALIGN * LAI_WEIGHTS_ALIGN);
    }
    *out_block = block;
    *out_size = (size_t)total;
    return LOCALAI_STATUS_OK;
}
