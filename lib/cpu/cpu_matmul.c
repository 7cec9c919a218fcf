/* cpu_matmul.c - matmul: integer dots against 8-bit activations where a vecdot exists, else dequantized rows. */
#include "cpu_ops.h"
#include "cpu_vecdot.h"

/* Rows of W handled together when there are several columns: each row (dequantized or
 * not) is then reused for every column while it is still in cache. */
#define MATMUL_ROW_BLOCK 16

static size_t act_bytes(const lai_vecdot *vd, int64_t K) {
    return (size_t)(K / vd->block) * vd->act_block_bytes;
}

size_t lai_cpu_matmul_work_size(const lai_op *op) {
    const lai_tensor *w = op->src[0], *x = op->src[1];
    const lai_vecdot *vd = lai_cpu_vecdot_get(w->type);
    if (vd != NULL && w->ne[0] % vd->block == 0)
        return act_bytes(vd, w->ne[0]) * (size_t)(x->ne[1] * x->ne[2]);
    if (w->type == LAI_TYPE_F32) return 0;
    return (size_t)MATMUL_ROW_BLOCK * (size_t)w->ne[0] * sizeof(float);
}

static const float *column(const lai_tensor *x, int64_t m) {
    const int64_t M1 = x->ne[1];
    return (const float *)(lai_cpu_data(x) + (size_t)(m % M1) * x->nb[1] + (size_t)(m / M1) * x->nb[2]);
}

/* Every thread rounds all columns into its own scratch (cheap next to the products, and
 * it needs no barrier inside the op), then dots its share of the weight rows. */
static void matmul_vecdot(const lai_op *op, const lai_cpu_thread *th, const lai_vecdot *vd) {
    const lai_tensor *w = op->src[0], *x = op->src[1], *dst = op->dst;
    const int64_t K = w->ne[0], N = w->ne[1], M = x->ne[1] * x->ne[2];
    const size_t abytes = act_bytes(vd, K);
    uint8_t *act = th->wdata;
    for (int64_t m = 0; m < M; m++) vd->quantize(column(x, m), act + (size_t)m * abytes, K);
    const uint8_t *wdata = lai_cpu_data(w);
    float *out = (float *)lai_cpu_data(dst);
    int64_t n0, n1;
    lai_cpu_split(N, th, &n0, &n1);
    for (int64_t nb = n0; nb < n1; nb += MATMUL_ROW_BLOCK) {
        const int64_t rows = LAI_MIN(MATMUL_ROW_BLOCK, n1 - nb);
        for (int64_t m = 0; m < M; m++) {
            const uint8_t *a = act + (size_t)m * abytes;
            float *oc = out + m * N + nb;
            for (int64_t r = 0; r < rows; r++) oc[r] = vd->dot(wdata + (size_t)(nb + r) * w->nb[1], a, K);
        }
    }
}

/* The reference path: weight rows expanded to floats, dotted in f32. */
static void matmul_dequant(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *w = op->src[0], *x = op->src[1], *dst = op->dst;
    const int64_t K = w->ne[0], N = w->ne[1], M = x->ne[1] * x->ne[2];
    const uint8_t *wdata = lai_cpu_data(w);
    float *out = (float *)lai_cpu_data(dst);
    const int direct = w->type == LAI_TYPE_F32;
    float *buf = th->wdata;

    int64_t n0, n1;
    lai_cpu_split(N, th, &n0, &n1);
    const int64_t block = M == 1 ? 1 : MATMUL_ROW_BLOCK;
    for (int64_t nb = n0; nb < n1; nb += block) {
        const int64_t rows = LAI_MIN(block, n1 - nb);
        const float *wrows[MATMUL_ROW_BLOCK];
        for (int64_t r = 0; r < rows; r++) {
            const uint8_t *src = wdata + (size_t)(nb + r) * w->nb[1];
            if (direct) {
                wrows[r] = (const float *)src;
            } else {
                lai_cpu_row_to_f32(w->type, src, buf + r * K, K);
                wrows[r] = buf + r * K;
            }
        }
        for (int64_t m = 0; m < M; m++) {
            const float *xc = column(x, m);
            float *oc = out + m * N + nb;
            for (int64_t r = 0; r < rows; r++) oc[r] = lai_cpu_dot_f32(wrows[r], xc, K);
        }
    }
}

void lai_cpu_matmul(const lai_op *op, const lai_cpu_thread *th) {
    const lai_vecdot *vd = lai_cpu_vecdot_get(op->src[0]->type);
    if (vd != NULL && op->src[0]->ne[0] % vd->block == 0)
        matmul_vecdot(op, th, vd);
    else
        matmul_dequant(op, th);
}
