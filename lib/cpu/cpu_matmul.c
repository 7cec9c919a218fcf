/* cpu_matmul.c - scalar reference matmul: weight rows dequantized into a thread buffer, dotted in f32. */
#include "cpu_ops.h"

/* Rows of W dequantized at once when there are several columns: each dequantized row is
 * then reused for every column while it is still in cache. */
#define MATMUL_ROW_BLOCK 16

size_t lai_cpu_matmul_work_size(const lai_op *op) {
    const lai_tensor *w = op->src[0];
    if (w->type == LAI_TYPE_F32) return 0;
    return (size_t)MATMUL_ROW_BLOCK * (size_t)w->ne[0] * sizeof(float);
}

void lai_cpu_matmul(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *w = op->src[0], *x = op->src[1], *dst = op->dst;
    const int64_t K = w->ne[0], N = w->ne[1];
    const int64_t M1 = x->ne[1], M = x->ne[1] * x->ne[2];
    const uint8_t *wdata = lai_cpu_data(w);
    const uint8_t *xdata = lai_cpu_data(x);
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
            const float *xc = (const float *)(xdata + (size_t)(m % M1) * x->nb[1] +
                                              (size_t)(m / M1) * x->nb[2]);
            float *oc = out + m * N + nb;
            for (int64_t r = 0; r < rows; r++) oc[r] = lai_cpu_dot_f32(wrows[r], xc, K);
        }
    }
}
