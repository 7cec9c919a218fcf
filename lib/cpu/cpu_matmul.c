/* cpu_matmul.c - matmul: integer dots or packed GEMM tiles against activations rounded once, float paths for the rest. */
#include "cpu_ops.h"

#include "../quant/quant.h"

/* At least this many columns go through the GEMM tiles; fewer are dotted one by one
 * (each weight row is then read once and the columns stay in L1). */
#define GEMM_MIN_COLS 4
/* Rows of the float fallback handled together, each dequantized once for every column. */
#define ROW_BLOCK 16

typedef struct matmul_shape {
    const lai_tensor *w, *x, *dst;
    int64_t K, N, M;
    const lai_weight_format *fmt; /* NULL: float path */
    int gemm;                     /* use the level's GEMM tiles */
} matmul_shape;

static void shape_of(const lai_op *op, const lai_cpu_kernels *k, matmul_shape *s) {
    s->w = op->src[0];
    s->x = op->src[1];
    s->dst = op->dst;
    s->K = s->w->ne[0];
    s->N = s->w->ne[1];
    s->M = s->x->ne[1] * s->x->ne[2];
    s->fmt = lai_weight_format_get(s->w->type);
    if (s->fmt != NULL && s->K % s->fmt->block != 0) s->fmt = NULL; /* dequantized instead */
    const int float_type = s->w->type == LAI_TYPE_F32 || s->w->type == LAI_TYPE_F16 || s->w->type == LAI_TYPE_BF16;
    s->gemm = k->gemm != NULL && s->M >= GEMM_MIN_COLS && (s->fmt != NULL || float_type);
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Rows per claimed chunk of a dot loop: about 16 chunks per thread, so a slower core
 * (big.LITTLE, or one the host is also using) takes fewer, at 8 rows at least. */
static int64_t dot_chunk_rows(int64_t N, int nth) {
    const int64_t rows = N / (16 * (int64_t)nth);
    return rows < 8 ? 8 : rows;
}

static size_t act_region(const matmul_shape *s) {
    return s->fmt != NULL ? align64(lai_act_row_bytes(s->fmt->act, s->K) * (size_t)s->M) : 0;
}

static size_t tiles_region(const matmul_shape *s, const lai_cpu_kernels *k) {
    if (!s->gemm) return 0;
    const int64_t cols = k->gemm->cols, n_tiles = (s->M + cols - 1) / cols;
    const size_t tile = s->fmt != NULL ? lai_gemm_tile_bytes((int)cols, s->fmt, s->K)
                                       : (size_t)cols * (size_t)s->K * sizeof(float);
    return align64(tile) * (size_t)n_tiles;
}

void lai_cpu_matmul_shared_size(const lai_op *op, const lai_cpu_kernels *k, size_t *act, size_t *tiles) {
    matmul_shape s;
    shape_of(op, k, &s);
    *act = act_region(&s);
    *tiles = tiles_region(&s, k);
}

int lai_cpu_matmul_act_format(const lai_op *op) {
    const lai_weight_format *fmt = lai_weight_format_get(op->src[0]->type);
    return fmt != NULL && op->src[0]->ne[0] % fmt->block == 0 ? fmt->act : LAI_ACT_NONE;
}

size_t lai_cpu_matmul_work_size(const lai_op *op, const lai_cpu_kernels *k) {
    matmul_shape s;
    shape_of(op, k, &s);
    if (s.gemm) {
        const size_t rows = (size_t)k->gemm->rows;
        if (s.fmt != NULL) /* unpacked bytes, scales and mins of `rows` rows, once or more */
            return (rows * (size_t)s.K + 2 * rows * (size_t)(s.K / s.fmt->sub) * sizeof(float)) *
                   (size_t)(k->gemm->unpack_copies > 1 ? k->gemm->unpack_copies : 1);
        return rows * (size_t)s.K * sizeof(float);
    }
    if (s.fmt != NULL || s.w->type == LAI_TYPE_F32 || s.w->type == LAI_TYPE_F16 || s.w->type == LAI_TYPE_BF16)
        return 0;
    return (size_t)ROW_BLOCK * (size_t)s.K * sizeof(float);
}

static const float *column(const lai_tensor *x, int64_t m) {
    const int64_t M1 = x->ne[1];
    return (const float *)(lai_cpu_data(x) + (size_t)(m % M1) * x->nb[1] + (size_t)(m / M1) * x->nb[2]);
}

/* Weight rows as f32 (float types converted, quantized types dequantized). */
static void rows_to_f32(const lai_cpu_kernels *k, const lai_tensor *w, int64_t n0, int n, float *out) {
    const int64_t K = w->ne[0];
    for (int r = 0; r < n; r++) {
        const uint8_t *src = lai_cpu_data(w) + (size_t)(n0 + r) * w->nb[1];
        if (w->type == LAI_TYPE_F16)
            k->f16_to_f32((const uint16_t *)src, out + (size_t)r * (size_t)K, K);
        else
            lai_cpu_row_to_f32(w->type, src, out + (size_t)r * (size_t)K, K);
    }
}

/* The integer path: columns rounded once (shared by every thread, and by the next matmul
 * that reads the same input), then dots or GEMM tiles. */
static void matmul_int(const matmul_shape *s, const lai_cpu_thread *th, int quantize) {
    const lai_cpu_kernels *k = th->k;
    const lai_weight_format *fmt = s->fmt;
    const size_t abytes = lai_act_row_bytes(fmt->act, s->K);
    uint8_t *act = th->shared_act;
    if (quantize) {
        int64_t m0, m1;
        lai_cpu_split(s->M, th, &m0, &m1);
        for (int64_t m = m0; m < m1; m++) k->quantize[fmt->act](column(s->x, m), act + (size_t)m * abytes, s->K);
        lai_team_barrier(th->team);
    }
    const uint8_t *wdata = lai_cpu_data(s->w);
    const size_t wstride = s->w->nb[1];
    float *out = (float *)lai_cpu_data(s->dst);
    const int64_t N = s->N, M = s->M, K = s->K;
    if (!s->gemm) {
        const lai_vec_dot_fn dot = k->vec_dot[s->w->type];
        /* rows in pairs where the level pairs them: each activation block read once for two rows */
        void (*const pair)(const void *, const void *, const void *, int64_t, float *) = k->vec_dot_x2[s->w->type];
        const int64_t rows = dot_chunk_rows(N, th->nth), n_chunks = (N + rows - 1) / rows;
        for (int64_t c; (c = lai_cpu_next_chunk(th, n_chunks)) >= 0;) {
            const int64_t end = LAI_MIN(N, (c + 1) * rows);
            int64_t n = c * rows;
            for (; pair != NULL && n + 2 <= end; n += 2)
                for (int64_t m = 0; m < M; m++) {
                    float v[2];
                    pair(wdata + (size_t)n * wstride, wdata + (size_t)(n + 1) * wstride, act + (size_t)m * abytes, K, v);
                    out[m * N + n] = v[0];
                    out[m * N + n + 1] = v[1];
                }
            for (; n < end; n++)
                for (int64_t m = 0; m < M; m++) out[m * N + n] = dot(wdata + (size_t)n * wstride, act + (size_t)m * abytes, K);
        }
        return;
    }
    const lai_gemm_kernel *g = k->gemm;
    const int cols = g->cols;
    const int64_t n_tiles = (M + cols - 1) / cols;
    const size_t tile_bytes = align64(lai_gemm_tile_bytes(cols, fmt, K));
    uint8_t *tiles = th->shared_tiles;
    int64_t t0, t1;
    lai_cpu_split(n_tiles, th, &t0, &t1);
    for (int64_t t = t0; t < t1; t++)
        lai_gemm_pack_act(cols, fmt, act + (size_t)(t * cols) * abytes, abytes, K, (int)LAI_MIN(cols, M - t * cols),
                          tiles + (size_t)t * tile_bytes);
    lai_team_barrier(th->team);

    const int64_t nsb = K / fmt->sub;
    uint8_t *u = th->wdata;
    float *scale = (float *)(void *)(u + (size_t)g->rows * (size_t)K);
    float *min = scale + (size_t)g->rows * (size_t)nsb;
    const int64_t n_chunks = (N + g->rows - 1) / g->rows;
    for (int64_t c; (c = lai_cpu_next_chunk(th, n_chunks)) >= 0;) {
        const int64_t r0 = c * g->rows;
        const int nr = (int)LAI_MIN((int64_t)g->rows, N - r0);
        g->unpack(s->w->type, fmt, wdata + (size_t)r0 * wstride, wstride, nr, K, u, scale, min);
        for (int64_t t = 0; t < n_tiles; t++)
            g->run(fmt, u, scale, min, nr, K, tiles + (size_t)t * tile_bytes, (int)LAI_MIN(cols, M - t * cols),
                   out + (size_t)(t * cols) * (size_t)N + (size_t)r0, (size_t)N);
    }
}

/* Float weights (and quantized ones without an integer path): f32 dots, or GEMM tiles of
 * f32 columns. */
static void matmul_float(const matmul_shape *s, const lai_cpu_thread *th) {
    const lai_cpu_kernels *k = th->k;
    const lai_tensor *w = s->w;
    const int64_t N = s->N, M = s->M, K = s->K;
    float *out = (float *)lai_cpu_data(s->dst);
    if (s->gemm) {
        const lai_gemm_kernel *g = k->gemm;
        const int cols = g->cols;
        const int64_t n_tiles = (M + cols - 1) / cols;
        const size_t tile_floats = align64((size_t)cols * (size_t)K * sizeof(float)) / sizeof(float);
        float *tiles = (float *)(void *)th->shared_tiles;
        int64_t t0, t1;
        lai_cpu_split(n_tiles, th, &t0, &t1);
        for (int64_t t = t0; t < t1; t++) {
            float *tile = tiles + (size_t)t * tile_floats; /* tile[k * cols + c] */
            for (int c = 0; c < cols; c++) {
                const int64_t m = t * cols + c;
                const float *xc = m < M ? column(s->x, m) : NULL;
                for (int64_t kk = 0; kk < K; kk++) tile[kk * cols + c] = xc != NULL ? xc[kk] : 0.0f;
            }
        }
        lai_team_barrier(th->team);
        float *w32 = th->wdata;
        const int64_t n_chunks = (N + g->rows - 1) / g->rows;
        for (int64_t c; (c = lai_cpu_next_chunk(th, n_chunks)) >= 0;) {
            const int64_t r0 = c * g->rows;
            const int nr = (int)LAI_MIN((int64_t)g->rows, N - r0);
            rows_to_f32(k, w, r0, nr, w32);
            for (int64_t t = 0; t < n_tiles; t++)
                g->run_f32(w32, nr, K, tiles + (size_t)t * tile_floats, (int)LAI_MIN(cols, M - t * cols),
                           out + (size_t)(t * cols) * (size_t)N + (size_t)r0, (size_t)N);
        }
        return;
    }
    const uint8_t *wdata = lai_cpu_data(w);
    if (w->type == LAI_TYPE_F32 || w->type == LAI_TYPE_F16 || w->type == LAI_TYPE_BF16) {
        const int64_t rows = dot_chunk_rows(N, th->nth), n_chunks = (N + rows - 1) / rows;
        /* F16 / BF16 rows in pairs where the level pairs them: each column read once for two rows */
        void (*const pair)(const uint16_t *, const uint16_t *, const float *, int64_t, float *) =
            w->type == LAI_TYPE_F16 ? k->dot_f16_x2 : w->type == LAI_TYPE_BF16 ? k->dot_bf16_x2 : NULL;
        for (int64_t c; (c = lai_cpu_next_chunk(th, n_chunks)) >= 0;) {
            const int64_t end = LAI_MIN(N, (c + 1) * rows);
            int64_t n = c * rows;
            for (; pair != NULL && n + 2 <= end; n += 2) {
                const uint16_t *r0 = (const uint16_t *)(const void *)(wdata + (size_t)n * w->nb[1]);
                const uint16_t *r1 = (const uint16_t *)(const void *)(wdata + (size_t)(n + 1) * w->nb[1]);
                for (int64_t m = 0; m < M; m++) {
                    float v[2];
                    pair(r0, r1, column(s->x, m), K, v);
                    out[m * N + n] = v[0];
                    out[m * N + n + 1] = v[1];
                }
            }
            for (; n < end; n++) {
                const uint8_t *row = wdata + (size_t)n * w->nb[1];
                for (int64_t m = 0; m < M; m++) {
                    const float *xc = column(s->x, m);
                    float v;
                    if (w->type == LAI_TYPE_F32) v = k->dot_f32((const float *)row, xc, K);
                    else if (w->type == LAI_TYPE_F16) v = k->dot_f16((const uint16_t *)row, xc, K);
                    else v = k->dot_bf16((const uint16_t *)row, xc, K);
                    out[m * N + n] = v;
                }
            }
        }
        return;
    }
    float *buf = th->wdata;
    const int64_t n_blocks = (N + ROW_BLOCK - 1) / ROW_BLOCK;
    for (int64_t c; (c = lai_cpu_next_chunk(th, n_blocks)) >= 0;) {
        const int64_t nb = c * ROW_BLOCK;
        const int rows = (int)LAI_MIN(ROW_BLOCK, N - nb);
        rows_to_f32(k, w, nb, rows, buf);
        for (int64_t m = 0; m < M; m++) {
            const float *xc = column(s->x, m);
            for (int r = 0; r < rows; r++) out[m * N + nb + r] = k->dot_f32(buf + (size_t)r * (size_t)K, xc, K);
        }
    }
}

void lai_cpu_matmul(const lai_op *op, const lai_cpu_thread *th, int quantize) {
    matmul_shape s;
    shape_of(op, th->k, &s);
    if (s.fmt != NULL)
        matmul_int(&s, th, quantize);
    else
        matmul_float(&s, th);
}
