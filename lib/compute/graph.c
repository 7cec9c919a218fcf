/* graph.c - recording ops and tensor handles into a lai_graph, with shape checks. */
#include "graph.h"

#include "../quant/quant.h"


void lai_graph_init(lai_graph *g) { memset(g, 0, sizeof *g); }

void lai_graph_free(lai_graph *g) {
    if (g == NULL) return;
    lai_tensor_block *b = g->blocks;
    while (b != NULL) {
        lai_tensor_block *next = b->next;
        lai_free(b);
        b = next;
    }
    lai_free(g->ops);
    lai_free(g->outputs);
    memset(g, 0, sizeof *g);
}

void lai_graph_reset(lai_graph *g) {
    for (lai_tensor_block *b = g->blocks; b != NULL; b = b->next) b->used = 0;
    g->n_ops = 0;
    g->n_outputs = 0;
    g->status = LOCALAI_STATUS_OK;
    g->planned_size = 0;
}

const char *lai_op_name(lai_op_kind kind) {
    static const char *const names[LAI_OP_COUNT] = {
        "get_rows", "rms_norm", "add", "mul", "scale", "softcap", "matmul",
        "rope", "kv_store", "attention", "swiglu", "geglu",
    };
    return (unsigned)kind < LAI_OP_COUNT ? names[kind] : "unknown op";
}

/* ---- tensor helpers ------------------------------------------------------------- */

size_t lai_tensor_row_size(uint32_t type, int64_t ne0) {
    if (ne0 < 0) return 0;
    if (type == LAI_TYPE_F32 || type == LAI_TYPE_I32) return (size_t)ne0 * 4;
    if (type == LAI_TYPE_F16 || type == LAI_TYPE_BF16) return (size_t)ne0 * 2;
    uint64_t bytes = 0;
    if (lai_type_row_bytes(type, (uint64_t)ne0, &bytes) != LOCALAI_STATUS_OK) {
        lai_clear_error();
        return 0;
    }
    return (size_t)bytes;
}

static size_t block_bytes(uint32_t type, int64_t *block_elems) {
    if (type == LAI_TYPE_F32 || type == LAI_TYPE_I32) { *block_elems = 1; return 4; }
    if (type == LAI_TYPE_F16 || type == LAI_TYPE_BF16) { *block_elems = 1; return 2; }
    const lai_type_traits *tt = lai_type_get(type);
    if (tt == NULL || tt->block_size == 0) return 0;
    *block_elems = tt->block_size;
    return tt->type_size;
}

int64_t lai_tensor_nelements(const lai_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

int lai_tensor_rows_contiguous(const lai_tensor *t) {
    size_t row = lai_tensor_row_size(t->type, t->ne[0]);
    return t->nb[1] == row && t->nb[2] == row * (size_t)t->ne[1] &&
           t->nb[3] == t->nb[2] * (size_t)t->ne[2];
}

int lai_tensor_set_dense(lai_tensor *t, uint32_t type, const int64_t ne[LAI_MAX_DIMS]) {
    int64_t block_elems = 1;
    size_t bsize = block_bytes(type, &block_elems);
    if (bsize == 0) return 0;
    for (int i = 0; i < LAI_MAX_DIMS; i++)
        if (ne[i] <= 0) return 0;
    if (ne[0] % block_elems != 0) return 0;
    t->type = type;
    for (int i = 0; i < LAI_MAX_DIMS; i++) t->ne[i] = ne[i];
    size_t stride = bsize;
    t->nb[0] = bsize;
    if (lai_mul_overflow_size((size_t)(ne[0] / block_elems), bsize, &stride)) return 0;
    for (int i = 1; i < LAI_MAX_DIMS; i++) {
        t->nb[i] = stride;
        if (lai_mul_overflow_size(stride, (size_t)ne[i], &stride)) return 0;
    }
    return 1;
}

static lai_tensor *alloc_tensor(lai_graph *g) {
    lai_tensor_block *b = g->blocks, *last = NULL;
    for (; b != NULL; last = b, b = b->next)
        if (b->used < LAI_BLOCK_TENSORS) break;
    if (b == NULL) {
        b = lai_calloc(1, sizeof *b);
        if (b == NULL) {
            if (g->status == LOCALAI_STATUS_OK)
                g->status = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "graph: no memory for tensors");
            return NULL;
        }
        if (last != NULL) last->next = b; else g->blocks = b;
    }
    lai_tensor *t = &b->tensors[b->used++];
    memset(t, 0, sizeof *t);
    t->first_op = -1;
    t->last_op = -1;
    return t;
}

static lai_tensor *graph_error(lai_graph *g, localai_status st, const char *op, const char *why) {
    if (g->status == LOCALAI_STATUS_OK)
        g->status = lai_fail(st, "graph: %s: %s", op, why);
    return NULL;
}

lai_tensor *lai_graph_new_tensor(lai_graph *g, int32_t kind, uint32_t type, int64_t ne0,
                                 int64_t ne1, int64_t ne2, const char *name) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    lai_tensor *t = alloc_tensor(g);
    if (t == NULL) return NULL;
    const int64_t ne[LAI_MAX_DIMS] = {ne0, ne1, ne2, 1};
    if (!lai_tensor_set_dense(t, type, ne))
        return graph_error(g, LOCALAI_STATUS_INVALID_ARGUMENT, name ? name : "tensor",
                           "invalid shape or type");
    t->kind = kind;
    t->name = name;
    return t;
}

static lai_tensor *root_of(lai_tensor *t) {
    while (t->view_of != NULL) t = t->view_of;
    return t;
}

lai_tensor *lai_graph_view(lai_graph *g, lai_tensor *src, const int64_t ne[LAI_MAX_DIMS],
                           const size_t nb[LAI_MAX_DIMS], size_t offset) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    if (src == NULL) return graph_error(g, LOCALAI_STATUS_INTERNAL, "view", "NULL source");
    lai_tensor *t = alloc_tensor(g);
    if (t == NULL) return NULL;
    t->type = src->type;
    for (int i = 0; i < LAI_MAX_DIMS; i++) {
        if (ne[i] <= 0) return graph_error(g, LOCALAI_STATUS_INTERNAL, "view", "empty dimension");
        t->ne[i] = ne[i];
        t->nb[i] = i == 0 ? src->nb[0] : nb[i];
    }
    /* The view must stay inside its source: the last element's byte must be in range. */
    size_t src_bytes = src->nb[3] * (size_t)src->ne[3];
    size_t last = offset + lai_tensor_row_size(t->type, t->ne[0]);
    for (int i = 1; i < LAI_MAX_DIMS; i++) last += (size_t)(t->ne[i] - 1) * t->nb[i];
    if (last > src_bytes && src->kind != LAI_TENSOR_EXTERNAL)
        return graph_error(g, LOCALAI_STATUS_INTERNAL, "view", "out of the source's bounds");
    t->kind = src->kind == LAI_TENSOR_EXTERNAL ? LAI_TENSOR_EXTERNAL : LAI_TENSOR_INTERMEDIATE;
    t->view_of = src;
    t->view_offset = offset;
    t->buffer = src->buffer;
    t->offset = src->offset + offset;
    t->name = src->name;
    return t;
}

lai_tensor *lai_graph_reshape(lai_graph *g, lai_tensor *src, int64_t ne0, int64_t ne1,
                              int64_t ne2) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    if (src == NULL || !lai_tensor_rows_contiguous(src) || ne0 <= 0 || ne1 <= 0 || ne2 <= 0 ||
        ne0 * ne1 * ne2 != lai_tensor_nelements(src))
        return graph_error(g, LOCALAI_STATUS_INTERNAL, "reshape", "incompatible shape");
    lai_tensor tmp;
    memset(&tmp, 0, sizeof tmp);
    const int64_t ne[LAI_MAX_DIMS] = {ne0, ne1, ne2, 1};
    if (!lai_tensor_set_dense(&tmp, src->type, ne))
        return graph_error(g, LOCALAI_STATUS_INTERNAL, "reshape", "invalid shape");
    return lai_graph_view(g, src, tmp.ne, tmp.nb, 0);
}

void lai_graph_mark_output(lai_graph *g, lai_tensor *t) {
    if (g->status != LOCALAI_STATUS_OK || t == NULL) return;
    if (g->n_outputs == g->cap_outputs) {
        int32_t cap = g->cap_outputs ? g->cap_outputs * 2 : 8;
        lai_tensor **o = lai_realloc(g->outputs, (size_t)cap * sizeof *o);
        if (o == NULL) {
            graph_error(g, LOCALAI_STATUS_OUT_OF_MEMORY, "output", "no memory");
            return;
        }
        g->outputs = o;
        g->cap_outputs = cap;
    }
    g->outputs[g->n_outputs++] = t;
    lai_tensor *r = root_of(t);
    if (r->kind == LAI_TENSOR_INTERMEDIATE) r->kind = LAI_TENSOR_OUTPUT;
}

/* ---- op recording ---------------------------------------------------------------- */

static lai_tensor *push_op5(lai_graph *g, lai_op_kind kind, lai_tensor *dst, lai_tensor *s0,
                            lai_tensor *s1, lai_tensor *s2, lai_tensor *s3, lai_tensor *s4) {
    if (g->status != LOCALAI_STATUS_OK || dst == NULL) return NULL;
    if (g->n_ops == g->cap_ops) {
        int32_t cap = g->cap_ops ? g->cap_ops * 2 : 256;
        lai_op *ops = lai_realloc(g->ops, (size_t)cap * sizeof *ops);
        if (ops == NULL) return graph_error(g, LOCALAI_STATUS_OUT_OF_MEMORY, lai_op_name(kind), "no memory");
        g->ops = ops;
        g->cap_ops = cap;
    }
    int32_t idx = g->n_ops++;
    lai_op *op = &g->ops[idx];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->dst = dst;
    op->src[0] = s0;
    op->src[1] = s1;
    op->src[2] = s2;
    op->src[3] = s3;
    op->src[4] = s4;
    for (int i = 0; i < LAI_OP_MAX_SRC; i++) {
        if (op->src[i] == NULL) continue;
        lai_tensor *r = root_of(op->src[i]);
        if (r->first_op < 0 && r->kind == LAI_TENSOR_INTERMEDIATE)
            return graph_error(g, LOCALAI_STATUS_INTERNAL, lai_op_name(kind),
                               "reads a tensor no earlier op produced");
        r->last_op = idx;
    }
    lai_tensor *rd = root_of(dst);
    if (rd->first_op < 0) rd->first_op = idx;
    if (rd->last_op < idx) rd->last_op = idx;
    return dst;
}

static lai_tensor *push_op(lai_graph *g, lai_op_kind kind, lai_tensor *dst, lai_tensor *s0,
                           lai_tensor *s1, lai_tensor *s2, lai_tensor *s3) {
    return push_op5(g, kind, dst, s0, s1, s2, s3, NULL);
}

/* Weights must be of a type some kernel can read: plain floats or a dequantizer. */
static int type_computable(uint32_t type) {
    if (type == LAI_TYPE_F32 || type == LAI_TYPE_F16 || type == LAI_TYPE_BF16) return 1;
    const lai_type_traits *tt = lai_type_get(type);
    return tt != NULL && tt->to_float != NULL;
}

static int is_f32_rows(const lai_tensor *t) {
    return t != NULL && t->type == LAI_TYPE_F32 && t->nb[0] == 4;
}

static lai_tensor *new_f32(lai_graph *g, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3,
                           const char *name) {
    lai_tensor *t = lai_graph_new_tensor(g, LAI_TENSOR_INTERMEDIATE, LAI_TYPE_F32, ne0, ne1,
                                         ne2 * ne3, name);
    if (t != NULL && ne3 != 1) {
        t->ne[2] = ne2;
        t->ne[3] = ne3;
        t->nb[3] = t->nb[2] * (size_t)ne2;
    }
    return t;
}

lai_tensor *lai_op_get_rows(lai_graph *g, lai_tensor *table, lai_tensor *ids) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    if (table == NULL || ids == NULL || ids->type != LAI_TYPE_I32 || ids->ne[1] != 1 ||
        ids->ne[2] != 1 || ids->ne[3] != 1 || table->ne[2] != 1 || table->ne[3] != 1)
        return graph_error(g, LOCALAI_STATUS_INTERNAL, "get_rows", "bad operands");
    if (!type_computable(table->type))
        return graph_error(g, LOCALAI_STATUS_UNSUPPORTED, "get_rows", "no kernel for this tensor type");
    lai_tensor *dst = new_f32(g, table->ne[0], ids->ne[0], 1, 1, "get_rows");
    return push_op(g, LAI_OP_GET_ROWS, dst, table, ids, NULL, NULL);
}

lai_tensor *lai_op_rms_norm(lai_graph *g, lai_tensor *x, lai_tensor *weight, float eps) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    if (!is_f32_rows(x) ||
        (weight != NULL && (!is_f32_rows(weight) || weight->ne[0] != x->ne[0] ||
                            lai_tensor_nelements(weight) != weight->ne[0])))
        return graph_error(g, LOCALAI_STATUS_INTERNAL, "rms_norm", "bad operands");
    lai_tensor *dst = new_f32(g, x->ne[0], x->ne[1], x->ne[2], x->ne[3], "rms_norm");
    if (push_op(g, LAI_OP_RMS_NORM, dst, x, weight, NULL, NULL) == NULL) return NULL;
    g->ops[g->n_ops - 1].fp[0] = eps;
    return dst;
}

static lai_tensor *binary(lai_graph *g, lai_op_kind kind, lai_tensor *a, lai_tensor *b) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    int ok = is_f32_rows(a) && is_f32_rows(b) && a->ne[0] == b->ne[0];
    if (ok) {
        int same = 1;
        for (int i = 1; i < LAI_MAX_DIMS; i++) same &= a->ne[i] == b->ne[i];
        int row = lai_tensor_nelements(b) == b->ne[0];
        ok = same || row;
    }
    if (!ok) return graph_error(g, LOCALAI_STATUS_INTERNAL, lai_op_name(kind), "shapes differ");
    lai_tensor *dst = new_f32(g, a->ne[0], a->ne[1], a->ne[2], a->ne[3], lai_op_name(kind));
    return push_op(g, kind, dst, a, b, NULL, NULL);
}

lai_tensor *lai_op_add(lai_graph *g, lai_tensor *a, lai_tensor *b) {
    return binary(g, LAI_OP_ADD, a, b);
}

lai_tensor *lai_op_mul(lai_graph *g, lai_tensor *a, lai_tensor *b) {
    return binary(g, LAI_OP_MUL, a, b);
}

static lai_tensor *unary(lai_graph *g, lai_op_kind kind, lai_tensor *a, float f) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    if (!is_f32_rows(a)) return graph_error(g, LOCALAI_STATUS_INTERNAL, lai_op_name(kind), "bad operand");
    lai_tensor *dst = new_f32(g, a->ne[0], a->ne[1], a->ne[2], a->ne[3], lai_op_name(kind));
    if (push_op(g, kind, dst, a, NULL, NULL, NULL) == NULL) return NULL;
    g->ops[g->n_ops - 1].fp[0] = f;
    return dst;
}

lai_tensor *lai_op_scale(lai_graph *g, lai_tensor *a, float s) {
    return unary(g, LAI_OP_SCALE, a, s);
}

lai_tensor *lai_op_softcap(lai_graph *g, lai_tensor *a, float cap) {
    if (!(cap > 0.0f)) return graph_error(g, LOCALAI_STATUS_INTERNAL, "softcap", "cap must be > 0");
    return unary(g, LAI_OP_SOFTCAP, a, cap);
}

lai_tensor *lai_op_matmul(lai_graph *g, lai_tensor *w, lai_tensor *x) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    if (w == NULL || !is_f32_rows(x) || w->ne[0] != x->ne[0] || w->ne[2] != 1 || w->ne[3] != 1 ||
        x->ne[3] != 1)
        return graph_error(g, LOCALAI_STATUS_INTERNAL, "matmul", "shapes differ");
    if (!type_computable(w->type))
        return graph_error(g, LOCALAI_STATUS_UNSUPPORTED, "matmul", "no kernel for this weight type");
    lai_tensor *dst = new_f32(g, w->ne[1], x->ne[1], x->ne[2], 1, "matmul");
    return push_op(g, LAI_OP_MATMUL, dst, w, x, NULL, NULL);
}

lai_tensor *lai_op_rope(lai_graph *g, lai_tensor *x, lai_tensor *positions,
                        lai_tensor *freq_factors, const lai_rope_params *rp) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    if (!is_f32_rows(x) || positions == NULL || positions->type != LAI_TYPE_I32 ||
        positions->ne[0] != x->ne[2] || x->ne[3] != 1 || rp->n_rot <= 0 || (rp->n_rot & 1) ||
        rp->n_rot > x->ne[0] ||
        (freq_factors != NULL && (!is_f32_rows(freq_factors) ||
                                  lai_tensor_nelements(freq_factors) < rp->n_rot / 2)))
        return graph_error(g, LOCALAI_STATUS_INTERNAL, "rope", "bad operands");
    lai_tensor *dst = new_f32(g, x->ne[0], x->ne[1], x->ne[2], 1, "rope");
    if (push_op(g, LAI_OP_ROPE, dst, x, positions, freq_factors, NULL) == NULL) return NULL;
    lai_op *op = &g->ops[g->n_ops - 1];
    op->ip[0] = rp->n_rot;
    op->ip[1] = rp->neox;
    op->ip[2] = rp->n_ctx_orig;
    op->fp[0] = rp->freq_base;
    op->fp[1] = rp->freq_scale;
    op->fp[2] = rp->ext_factor;
    op->fp[3] = rp->attn_factor;
    op->fp[4] = rp->beta_fast;
    op->fp[5] = rp->beta_slow;
    return dst;
}

lai_tensor *lai_op_kv_store(lai_graph *g, lai_tensor *cache, lai_tensor *rows,
                            lai_tensor *slots) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    if (cache == NULL || cache->kind != LAI_TENSOR_EXTERNAL ||
        (cache->type != LAI_TYPE_F32 && cache->type != LAI_TYPE_F16) || !is_f32_rows(rows) ||
        slots == NULL || slots->type != LAI_TYPE_I32 ||
        lai_tensor_nelements(rows) != cache->ne[0] * slots->ne[0])
        return graph_error(g, LOCALAI_STATUS_INTERNAL, "kv_store", "bad operands");
    /* rows may be [row_len, n_tokens] or [head_dim, n_head_kv, n_tokens]; the kernel needs
     * each token's row to be contiguous. */
    if (rows->ne[0] != cache->ne[0] &&
        !(rows->ne[0] * rows->ne[1] == cache->ne[0] && rows->nb[1] == rows->nb[0] * (size_t)rows->ne[0]))
        return graph_error(g, LOCALAI_STATUS_INTERNAL, "kv_store", "rows not contiguous per token");
    return push_op(g, LAI_OP_KV_STORE, cache, rows, slots, NULL, NULL);
}

lai_tensor *lai_op_attention(lai_graph *g, lai_tensor *q, lai_tensor *k_cache,
                             lai_tensor *v_cache, lai_tensor *info, lai_tensor *cells,
                             int32_t kv_group, int32_t n_swa, int32_t n_head_kv, float scale,
                             float softcap) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    if (!is_f32_rows(q) || k_cache == NULL || v_cache == NULL || info == NULL || cells == NULL ||
        info->type != LAI_TYPE_I32 || info->ne[0] != 2 + 2 * q->ne[2] || cells->type != LAI_TYPE_I32 ||
        kv_group < 0 || kv_group > 1 ||
        cells->ne[0] < 2 || cells->ne[1] != k_cache->ne[1] || n_swa < 0 ||
        n_head_kv <= 0 || q->ne[1] % n_head_kv != 0 || q->ne[3] != 1 ||
        k_cache->ne[0] != q->ne[0] * n_head_kv || v_cache->ne[0] % n_head_kv != 0 ||
        k_cache->ne[1] != v_cache->ne[1])
        return graph_error(g, LOCALAI_STATUS_INTERNAL, "attention", "bad operands");
    int64_t head_dim_v = v_cache->ne[0] / n_head_kv;
    lai_tensor *dst = new_f32(g, head_dim_v * q->ne[1], q->ne[2], 1, 1, "attention");
    if (push_op5(g, LAI_OP_ATTENTION, dst, q, k_cache, v_cache, info, cells) == NULL) return NULL;
    lai_op *op = &g->ops[g->n_ops - 1];
    op->ip[0] = n_swa;
    op->ip[1] = n_head_kv;
    op->ip[2] = kv_group;
    op->fp[0] = scale;
    op->fp[1] = softcap;
    return dst;
}

static lai_tensor *glu(lai_graph *g, lai_op_kind kind, lai_tensor *gate, lai_tensor *up) {
    if (g->status != LOCALAI_STATUS_OK) return NULL;
    int ok = is_f32_rows(gate) && is_f32_rows(up);
    for (int i = 0; ok && i < LAI_MAX_DIMS; i++) ok = gate->ne[i] == up->ne[i];
    if (!ok) return graph_error(g, LOCALAI_STATUS_INTERNAL, lai_op_name(kind), "shapes differ");
    lai_tensor *dst = new_f32(g, gate->ne[0], gate->ne[1], gate->ne[2], gate->ne[3], lai_op_name(kind));
    return push_op(g, kind, dst, gate, up, NULL, NULL);
}

lai_tensor *lai_op_swiglu(lai_graph *g, lai_tensor *gate, lai_tensor *up) {
    return glu(g, LAI_OP_SWIGLU, gate, up);
}

lai_tensor *lai_op_geglu(lai_graph *g, lai_tensor *gate, lai_tensor *up) {
    return glu(g, LAI_OP_GEGLU, gate, up);
}
