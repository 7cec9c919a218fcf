/* cpu_ops_basic.c - row-wise CPU kernels: get_rows, rms_norm, add/mul, scale, softcap, GLUs, kv_store. */
#include "cpu_ops.h"

#include <math.h>

#include "../quant/quant.h"

static int64_t n_rows(const lai_tensor *t) { return t->ne[1] * t->ne[2] * t->ne[3]; }

/* Address of row r of t (rows enumerate ne[1], then ne[2], then ne[3]). */
static uint8_t *row_ptr(const lai_tensor *t, int64_t r) {
    int64_t i1 = r % t->ne[1];
    int64_t i2 = (r / t->ne[1]) % t->ne[2];
    int64_t i3 = r / (t->ne[1] * t->ne[2]);
    return lai_cpu_data(t) + (size_t)i1 * t->nb[1] + (size_t)i2 * t->nb[2] + (size_t)i3 * t->nb[3];
}

void lai_cpu_get_rows(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *table = op->src[0], *ids = op->src[1], *dst = op->dst;
    const int32_t *id = (const int32_t *)lai_cpu_data(ids);
    int64_t b, e;
    lai_cpu_split(ids->ne[0], th, &b, &e);
    for (int64_t i = b; i < e; i++) {
        float *out = (float *)row_ptr(dst, i);
        if (id[i] < 0 || id[i] >= table->ne[1]) { /* the host validates ids; never read out of bounds */
            memset(out, 0, (size_t)dst->ne[0] * sizeof(float));
            continue;
        }
        lai_cpu_row_to_f32(table->type, lai_cpu_data(table) + (size_t)id[i] * table->nb[1], out,
                           table->ne[0]);
    }
}

void lai_cpu_rms_norm(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *x = op->src[0], *w = op->src[1], *dst = op->dst;
    const int64_t n = x->ne[0];
    const float eps = op->fp[0];
    const float *wd = w != NULL ? (const float *)lai_cpu_data(w) : NULL;
    int64_t b, e;
    lai_cpu_split(n_rows(x), th, &b, &e);
    for (int64_t r = b; r < e; r++) {
        const float *in = (const float *)row_ptr(x, r);
        float *out = (float *)row_ptr(dst, r);
        const double sum = th->k->sum_sq(in, n);
        const float scale = 1.0f / sqrtf((float)(sum / (double)n) + eps);
        th->k->scale_mul(in, scale, wd, out, n);
    }
}

void lai_cpu_binary(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *a = op->src[0], *bt = op->src[1], *dst = op->dst;
    const int64_t n = a->ne[0];
    const int broadcast = lai_tensor_nelements(bt) == bt->ne[0] && lai_tensor_nelements(a) != n;
    int64_t b, e;
    lai_cpu_split(n_rows(a), th, &b, &e);
    for (int64_t r = b; r < e; r++) {
        const float *x = (const float *)row_ptr(a, r);
        const float *y = (const float *)(broadcast ? lai_cpu_data(bt) : row_ptr(bt, r));
        float *out = (float *)row_ptr(dst, r);
        if (op->kind == LAI_OP_ADD)
            for (int64_t i = 0; i < n; i++) out[i] = x[i] + y[i];
        else
            for (int64_t i = 0; i < n; i++) out[i] = x[i] * y[i];
    }
}

void lai_cpu_unary(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *a = op->src[0], *dst = op->dst;
    const int64_t n = a->ne[0];
    const float f = op->fp[0];
    int64_t b, e;
    lai_cpu_split(n_rows(a), th, &b, &e);
    for (int64_t r = b; r < e; r++) {
        const float *x = (const float *)row_ptr(a, r);
        float *out = (float *)row_ptr(dst, r);
        if (op->kind == LAI_OP_SCALE)
            for (int64_t i = 0; i < n; i++) out[i] = x[i] * f;
        else
            for (int64_t i = 0; i < n; i++) out[i] = f * tanhf(x[i] / f);
    }
}

void lai_cpu_glu(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *gate = op->src[0], *up = op->src[1], *dst = op->dst;
    const int64_t n = gate->ne[0];
    int64_t b, e;
    lai_cpu_split(n_rows(gate), th, &b, &e);
    for (int64_t r = b; r < e; r++) {
        const float *g = (const float *)row_ptr(gate, r);
        const float *u = (const float *)row_ptr(up, r);
        float *out = (float *)row_ptr(dst, r);
        if (op->kind == LAI_OP_SWIGLU)
            th->k->silu_mul(g, u, out, n);
        else
            th->k->gelu_mul(g, u, out, n);
    }
}

void lai_cpu_kv_store(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *rows = op->src[0], *slots = op->src[1], *cache = op->dst;
    const int32_t *slot = (const int32_t *)lai_cpu_data(slots);
    const int64_t row_len = cache->ne[0];
    const int64_t n_tok = slots->ne[0];
    /* Token t's row starts at the stride of the dimension that counts tokens: ne[1] of
     * [row_len, n_tok], ne[2] of [head_dim, n_head_kv, n_tok]. Decide by ne[2], not by
     * ne[0] == row_len: with one KV head the second form also has ne[0] == row_len (phi3's
     * fused QKV view, whose token stride is not nb[1]). */
    const size_t tok_stride = rows->ne[2] > 1 ? rows->nb[2] : rows->nb[1];
    int64_t b, e;
    lai_cpu_split(n_tok, th, &b, &e);
    for (int64_t t = b; t < e; t++) {
        if (slot[t] < 0 || slot[t] >= cache->ne[1]) continue; /* host-validated; stay in bounds */
        const float *src = (const float *)(lai_cpu_data(rows) + (size_t)t * tok_stride);
        uint8_t *dst = lai_cpu_data(cache) + (size_t)slot[t] * cache->nb[1];
        if (cache->type == LAI_TYPE_F16) {
            th->k->f32_to_f16(src, (uint16_t *)dst, row_len);
        } else {
            memcpy(dst, src, (size_t)row_len * sizeof(float));
        }
    }
}
