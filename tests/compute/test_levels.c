/* test_levels.c - every SIMD level this CPU runs against the scalar reference, kernel by kernel and op by op. */
/*
 * The scalar kernels are checked against float64 evaluations (test_kernels.c) and against
 * llama.cpp (tests/llamacpp); here every other level must agree with them: activation
 * rounding byte for byte, integer dots and GEMM tiles to float rounding of the same sums,
 * the elementwise kernels to a few ulps. Shapes are not multiples of the vector widths,
 * tile sizes or thread counts.
 */
#include <math.h>

#include "compute/backend.h"
#include "cpu/cpu_backend.h"
#include "cpu/cpu_kernels.h"
#include "quant/quant.h"
#include "test_util.h"

static uint64_t rng = 88172645463325252ull;
static double rnd(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / (double)(1ull << 53) * 2.0 - 1.0;
}

/* Values of mixed scales, with some exact zeros and repeated magnitudes (ties). */
static void fill(float *x, size_t n, double amp) {
    for (size_t i = 0; i < n; i++) {
        double r = rnd();
        if (i % 97 == 5) r = 0.0;
        if (i % 61 == 7) r = i % 2 ? 0.5 : -0.5;
        x[i] = (float)(r * amp * (1.0 + 3.0 * (double)((i / 32) % 3)));
    }
}

static const char *level_name;

/* max over i of |got - want| / (tol * bound_i + tiny) <= 1 */
static int agree(const float *got, const float *want, const double *bound, size_t n, double tol, const char *what) {
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const double b = bound ? bound[i] : fabs((double)want[i]);
        const double e = fabs((double)got[i] - (double)want[i]) / (tol * b + 1e-30);
        if (!(e <= worst)) {
            worst = e;
            at = i;
        }
    }
    if (!(worst <= 1.0))
        fprintf(stderr, "%s (%s): element %zu: got %.9g want %.9g (%.3g of the tolerance)\n", what, level_name,
                at, (double)got[at], (double)want[at], worst);
    return worst <= 1.0;
}

/* ---- activation rounding: the same bytes ---------------------------------------------- */

static void test_quantize(const lai_cpu_kernels *k, const lai_cpu_kernels *ref) {
    enum { N = 256 * 5 };
    static float x[N];
    static uint8_t a[2][N * 2];
    for (int round = 0; round < 4; round++) {
        fill(x, N, round == 0 ? 1e-3 : round == 1 ? 1.0 : 100.0);
        if (round == 3)
            for (int i = 256; i < 512; i++) x[i] = 0.0f; /* an all-zero block */
        for (int act = LAI_ACT_Q8; act <= LAI_ACT_Q8K; act++) {
            memset(a, 0xA5, sizeof a);
            k->quantize[act](x, a[0], N);
            ref->quantize[act](x, a[1], N);
            CHECK_MSG(memcmp(a[0], a[1], lai_act_row_bytes(act, N)) == 0, "%s: quantize act %d round %d differs",
                      level_name, act, round);
        }
    }
}

/* ---- one weight matrix per type ------------------------------------------------------- */

typedef struct weights {
    uint32_t type;
    int64_t K, N;
    size_t row_bytes;
    uint8_t *q;  /* N rows */
    float *deq;  /* N x K, what the kernels see */
} weights;

/* Random weights of `type`: quantized from floats where a quantizer exists, else random
 * block bytes with their f16 scales set to sane values. */
static void make_weights(weights *w, uint32_t type, int64_t K, int64_t N) {
    const lai_type_traits *tt = lai_type_get(type);
    w->type = type;
    w->K = K;
    w->N = N;
    w->row_bytes = (size_t)(K / tt->block_size) * tt->type_size;
    w->q = malloc(w->row_bytes * (size_t)N);
    w->deq = malloc(sizeof(float) * (size_t)(K * N));
    float *row = malloc(sizeof(float) * (size_t)K);
    for (int64_t n = 0; n < N; n++) {
        uint8_t *dst = w->q + (size_t)n * w->row_bytes;
        if (tt->from_float != NULL) {
            fill(row, (size_t)K, 1.0);
            tt->from_float(row, dst, K);
        } else {
            for (size_t i = 0; i < w->row_bytes; i++) dst[i] = (uint8_t)(rng >> 24), rnd();
            /* the f16 d (first field of IQ4_NL and IQ4_XS blocks) about 2^-7 */
            for (int64_t b = 0; b < K / tt->block_size; b++) {
                uint8_t *blk = dst + (size_t)b * tt->type_size;
                const uint16_t d = (uint16_t)(0x2000 | (rng >> 40 & 0x3ff));
                memcpy(blk, &d, 2);
                rnd();
            }
        }
        tt->to_float(dst, w->deq + n * K, K);
    }
    free(row);
}

static void free_weights(weights *w) {
    free(w->q);
    free(w->deq);
}

static void test_vec_dots(const lai_cpu_kernels *k, const lai_cpu_kernels *ref) {
    for (uint32_t type = 0; type < LAI_TYPE_COUNT; type++) {
        const lai_weight_format *fmt = lai_weight_format_get(type);
        if (fmt == NULL || k->vec_dot[type] == ref->vec_dot[type]) continue;
        /* for 32-element blocks also 3 and 89 blocks: the dots take four at a time */
        const int64_t sizes[] = {256, 768, 2816, 96, 2848};
        const size_t n_sizes = lai_type_get(type)->block_size == 32 ? 5 : 3;
        for (size_t si = 0; si < n_sizes; si++) {
            const int64_t K = sizes[si], N = 9;
            weights w;
            make_weights(&w, type, K, N);
            float *x = malloc(sizeof(float) * (size_t)K);
            fill(x, (size_t)K, 2.0);
            uint8_t *act = malloc(lai_act_row_bytes(fmt->act, K));
            ref->quantize[fmt->act](x, act, K);
            float got[9], want[9];
            double bound[9];
            for (int64_t n = 0; n < N; n++) {
                got[n] = k->vec_dot[type](w.q + (size_t)n * w.row_bytes, act, K);
                want[n] = ref->vec_dot[type](w.q + (size_t)n * w.row_bytes, act, K);
                bound[n] = 0;
                for (int64_t i = 0; i < K; i++) bound[n] += fabs((double)w.deq[n * K + i] * x[i]);
            }
            char what[64];
            snprintf(what, sizeof what, "vec_dot %s K=%lld", lai_type_get(type)->name, (long long)K);
            CHECK_MSG(agree(got, want, bound, (size_t)N, 1e-5, what), "%s", what);
            if (k->vec_dot_x2[type] != NULL) /* two rows at once (optional): bit for bit the single-row dots */
                for (int64_t n = 0; n + 1 < N; n++) {
                    float v[2];
                    k->vec_dot_x2[type](w.q + (size_t)n * w.row_bytes, w.q + (size_t)(n + 1) * w.row_bytes, act, K, v);
                    CHECK_MSG(v[0] == got[n] && v[1] == got[n + 1], "%s: vec_dot_x2 %s K=%lld rows %lld, %lld", level_name,
                              lai_type_get(type)->name, (long long)K, (long long)n, (long long)n + 1);
                }
            free(act);
            free(x);
            free_weights(&w);
        }
    }
}

static void test_float_rows(const lai_cpu_kernels *k, const lai_cpu_kernels *ref) {
    enum { N = 1000 };
    static float a[N], b[N], c[N], o1[N], o2[N];
    static uint16_t h[N], h1[N], h2[N];
    fill(a, N, 3.0);
    fill(b, N, 3.0);
    fill(c, N, 1.0);
    for (int i = 0; i < N; i++) h[i] = lai_f32_to_f16(c[i]);
    double bound = 0;
    for (int i = 0; i < N; i++) bound += fabs((double)a[i] * b[i]);
    float g = k->dot_f32(a, b, N), wnt = ref->dot_f32(a, b, N);
    CHECK_MSG(fabs(g - wnt) <= 1e-6 * bound, "%s: dot_f32 %g vs %g", level_name, g, wnt);
    g = k->dot_f16(h, b, N);
    wnt = ref->dot_f16(h, b, N);
    CHECK_MSG(fabs(g - wnt) <= 1e-6 * bound * 3, "%s: dot_f16 %g vs %g", level_name, g, wnt);
    g = k->dot_bf16(h, b, N);
    wnt = ref->dot_bf16(h, b, N);
    CHECK_MSG(fabs(g - wnt) <= 1e-6 * fabs(wnt) * 50 + 1e-6 * bound, "%s: dot_bf16 %g vs %g", level_name, g, wnt);
    for (int n = 1; n <= 99; n += 7) { /* two rows at once (optional): bit for bit the level's own single-row dots */
        float v[2];
        if (k->dot_f16_x2 != NULL) {
            k->dot_f16_x2(h, h + 1, b, n, v);
            CHECK_MSG(v[0] == k->dot_f16(h, b, n) && v[1] == k->dot_f16(h + 1, b, n), "%s: dot_f16_x2 n=%d", level_name, n);
        }
        if (k->dot_bf16_x2 != NULL) {
            k->dot_bf16_x2(h + 2, h, b, n, v);
            CHECK_MSG(v[0] == k->dot_bf16(h + 2, b, n) && v[1] == k->dot_bf16(h, b, n), "%s: dot_bf16_x2 n=%d", level_name, n);
        }
    }
    k->f16_to_f32(h, o1, N);
    ref->f16_to_f32(h, o2, N);
    CHECK_MSG(memcmp(o1, o2, sizeof o1) == 0, "%s: f16_to_f32", level_name);
    k->f32_to_f16(a, h1, N);
    ref->f32_to_f16(a, h2, N);
    CHECK_MSG(memcmp(h1, h2, sizeof h1) == 0, "%s: f32_to_f16", level_name);
    k->silu_mul(a, b, o1, N);
    ref->silu_mul(a, b, o2, N);
    CHECK(agree(o1, o2, NULL, N, 4e-6, "silu_mul"));
    k->gelu_mul(a, b, o1, N);
    ref->gelu_mul(a, b, o2, N);
    double gb[N];
    for (int i = 0; i < N; i++) gb[i] = fabs((double)a[i] * b[i]) + 1e-3; /* tanh near 0: absolute */
    CHECK(agree(o1, o2, gb, N, 4e-6, "gelu_mul"));
    const float s1 = k->sum_sq(a, N), s2 = ref->sum_sq(a, N);
    CHECK_MSG(fabs(s1 - s2) <= 1e-6 * s2, "%s: sum_sq %g vs %g", level_name, s1, s2);
    k->scale_mul(a, 0.37f, b, o1, N);
    ref->scale_mul(a, 0.37f, b, o2, N);
    CHECK_MSG(memcmp(o1, o2, sizeof o1) == 0, "%s: scale_mul", level_name);
    k->scale_mul(a, 0.37f, NULL, o1, N);
    ref->scale_mul(a, 0.37f, NULL, o2, N);
    CHECK_MSG(memcmp(o1, o2, sizeof o1) == 0, "%s: scale_mul without weights", level_name);
    for (int n = 1; n <= 67; n += 11) { /* lengths around the vector width */
        memcpy(o1, a, sizeof a);
        memcpy(o2, a, sizeof a);
        const float e1 = k->exp_sum(o1, 3.0f, n), e2 = ref->exp_sum(o2, 3.0f, n);
        CHECK_MSG(fabs(e1 - e2) <= 4e-6 * e2, "%s: exp_sum n=%d %g vs %g", level_name, n, e1, e2);
        CHECK(agree(o1, o2, NULL, (size_t)n, 4e-6, "exp_sum values"));
        CHECK(o1[n] == a[n]); /* nothing written past n */
        /* attention rows: nr rows of n floats at a stride of n + 3 (more than 64 in the
         * last case), against nq queries at once: some rows weighed 0 by every query and
         * holding a NaN (never read), some weighed 0 by some queries only */
        for (int nr = 1; nr <= 75; nr += nr < 19 ? 6 : 56) {
            static float rows[75 * 70];
            const size_t ld = (size_t)n + 3, ldp = 80, ldy = (size_t)n + 1;
            float d1[75], d2[75];
            static float p[9 * 80];
            for (int r = 0; r < nr; r++) {
                for (int i = 0; i < n + 3; i++) rows[(size_t)r * ld + (size_t)i] = b[(3 * r + i) % N];
                if (r % 5 == 3) rows[(size_t)r * ld + (size_t)(n / 2)] = NAN;
            }
            for (int nq = 1; nq <= 9; nq += nq < 4 ? 2 : 5) { /* 1, 3, 5, 9 */
                for (int q = 0; q < nq; q++)
                    for (int r = 0; r < nr; r++)
                        p[q * ldp + r] = r % 5 == 3 || (r % 7 == 2 && q % 2 == 0) ? 0.0f : c[(r + 7 * q) % N] * 0.1f;
                memcpy(o1, c, sizeof c);
                memcpy(o2, c, sizeof c);
                k->axpy_rows(p, ldp, nq, rows, ld, nr, o1, ldy, n);
                ref->axpy_rows(p, ldp, nq, rows, ld, nr, o2, ldy, n);
                for (int q = 0; q < nq; q++) {
                    double ab[N];
                    for (int i = 0; i < n; i++) {
                        ab[i] = fabs((double)c[q * ldy + (size_t)i]);
                        for (int r = 0; r < nr; r++)
                            if (p[q * ldp + r] != 0.0f) ab[i] += fabs((double)p[q * ldp + r] * rows[(size_t)r * ld + (size_t)i]);
                    }
                    CHECK_MSG(agree(o1 + q * ldy, o2 + q * ldy, ab, (size_t)n, 4e-7, "axpy_rows"), "%s: axpy_rows n=%d rows=%d queries=%d query %d",
                              level_name, n, nr, nq, q);
                    CHECK(o1[q * ldy + (size_t)n] == c[q * ldy + (size_t)n]); /* nothing written past n */
                }
                CHECK_MSG(memcmp(o1 + nq * ldy, c + nq * ldy, (size_t)n * sizeof(float)) == 0,
                          "%s: axpy_rows n=%d queries=%d wrote past the last query", level_name, n, nq);
            }
            for (int r = 0; r < nr; r++) rows[(size_t)r * ld + (size_t)(n / 2)] = b[(3 * r + n / 2) % N];
            k->dot_rows(a, rows, ld, nr, n, d1);
            ref->dot_rows(a, rows, ld, nr, n, d2);
            for (int r = 0; r < nr; r++) {
                double db = 0;
                for (int i = 0; i < n; i++) db += fabs((double)a[i] * rows[(size_t)r * ld + (size_t)i]);
                CHECK_MSG(fabs(d1[r] - d2[r]) <= 1e-6 * db, "%s: dot_rows n=%d rows=%d row %d: %g vs %g", level_name,
                          n, nr, r, d1[r], d2[r]);
            }
        }
        memcpy(o1, c, sizeof c);
        memcpy(o2, c, sizeof c);
        k->scale(o1, 1.3f, n);
        ref->scale(o2, 1.3f, n);
        CHECK_MSG(memcmp(o1, o2, sizeof o1) == 0, "%s: scale", level_name);
    }
}

/* ---- whole ops on the backend: matmul (dots and GEMM tiles), attention ----------------- */

typedef struct runner {
    lai_threadpool *pool;
    lai_backend *be;
    lai_exec *ex;
    lai_graph g;
    lai_buffer *buf;
} runner;

static void runner_init(runner *r, const lai_cpu_kernels *k, int threads) {
    memset(r, 0, sizeof *r);
    CHECK_STATUS(lai_threadpool_new(threads - 1, &r->pool), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_cpu_backend_new(r->pool, k, NULL, &r->be), LOCALAI_STATUS_OK);
    const lai_exec_params ep = {threads};
    CHECK_STATUS(r->be->vt->exec_new(r->be, &ep, &r->ex), LOCALAI_STATUS_OK);
    lai_graph_init(&r->g);
}

static void runner_free(runner *r) {
    if (r->buf) r->be->vt->buffer_free(r->be, r->buf);
    lai_graph_free(&r->g);
    r->be->vt->exec_free(r->ex);
    r->be->vt->destroy(r->be);
    lai_threadpool_free(r->pool);
}

/* y = W x through the matmul op at one level; returns y (N x M floats, malloc'd). */
static float *run_matmul(const lai_cpu_kernels *k, const weights *w, const float *x, int64_t M, int threads) {
    runner r;
    runner_init(&r, k, threads);
    lai_tensor *tw = lai_graph_new_tensor(&r.g, LAI_TENSOR_INPUT, w->type, w->K, w->N, 1, "w");
    lai_tensor *tx = lai_graph_new_tensor(&r.g, LAI_TENSOR_INPUT, LAI_TYPE_F32, w->K, M, 1, "x");
    /* two consumers of the same input: the second reuses the rounded activations */
    lai_tensor *y1 = lai_op_matmul(&r.g, tw, tx), *y2 = lai_op_matmul(&r.g, tw, tx);
    lai_tensor *y = lai_op_add(&r.g, y1, y2);
    lai_graph_mark_output(&r.g, y);
    float *out = calloc((size_t)(w->N * M), sizeof(float));
    if (lai_graph_plan(&r.g) == LOCALAI_STATUS_OK &&
        r.be->vt->buffer_alloc(r.be, r.g.planned_size, &r.buf) == LOCALAI_STATUS_OK) {
        lai_graph_bind(&r.g, r.buf);
        r.be->vt->tensor_write(r.be, tw, w->q, 0, w->row_bytes * (size_t)w->N);
        r.be->vt->tensor_write(r.be, tx, x, 0, sizeof(float) * (size_t)(w->K * M));
        CHECK_STATUS(r.be->vt->compute(r.ex, &r.g, NULL), LOCALAI_STATUS_OK);
        r.be->vt->tensor_read(r.be, y, out, 0, sizeof(float) * (size_t)(w->N * M));
    } else {
        CHECK(0);
    }
    runner_free(&r);
    return out;
}

static void test_matmuls(const lai_cpu_kernels *k, const lai_cpu_kernels *ref) {
    static const uint32_t float_types[] = {LAI_TYPE_F32, LAI_TYPE_F16, LAI_TYPE_BF16};
    for (uint32_t type = 0; type < LAI_TYPE_COUNT; type++) {
        const lai_type_traits *tt = lai_type_get(type);
        int is_float = 0;
        for (int i = 0; i < 3; i++) is_float |= float_types[i] == type;
        if (tt == NULL || tt->to_float == NULL || (!is_float && lai_weight_format_get(type) == NULL)) continue;
        const int64_t K = tt->block_size >= 256 ? 512 : 96, N = 70;
        weights w;
        make_weights(&w, type, K, N);
        const int64_t Ms[] = {1, 3, 4, 17, 33};
        for (size_t mi = 0; mi < 5; mi++) {
            const int64_t M = Ms[mi];
            float *x = malloc(sizeof(float) * (size_t)(K * M));
            fill(x, (size_t)(K * M), 1.5);
            float *got = run_matmul(k, &w, x, M, 2), *want = run_matmul(ref, &w, x, M, 3);
            double *bound = malloc(sizeof(double) * (size_t)(N * M));
            for (int64_t m = 0; m < M; m++)
                for (int64_t n = 0; n < N; n++) {
                    double b = 0;
                    for (int64_t i = 0; i < K; i++) b += fabs((double)w.deq[n * K + i] * x[m * K + i]);
                    bound[m * N + n] = 2 * b;
                }
            char what[64];
            snprintf(what, sizeof what, "matmul %s M=%lld", tt->name, (long long)M);
            CHECK_MSG(agree(got, want, bound, (size_t)(N * M), 1e-5, what), "%s", what);
            free(bound);
            free(got);
            free(want);
            free(x);
        }
        free_weights(&w);
    }
}

/* ---- extreme bytes: saturation and sign corners ------------------------------------- */

/* Byte offsets of the f16 scales (d, and dmin or m where a type has one) in a block. */
static void scale_fields(uint32_t type, int offs[2], int *n) {
    *n = 1;
    offs[0] = 0;
    switch (type) {
    case LAI_TYPE_Q4_1: case LAI_TYPE_Q5_1: case LAI_TYPE_Q4_K: case LAI_TYPE_Q5_K:
        offs[1] = 2;
        *n = 2;
        break;
    case LAI_TYPE_Q2_K: offs[0] = 80; offs[1] = 82; *n = 2; break;
    case LAI_TYPE_Q3_K: offs[0] = 108; break;
    case LAI_TYPE_Q6_K: offs[0] = 208; break;
    default: break;
    }
}

/* Every weight byte 0xFF, 0x80 (Q8_0's -128), 0x7F or 0x00, with sane scales, against
 * activations that round to +127 and -127 everywhere: the largest integer sums and the
 * corners where 16-bit pair sums would saturate or a sign trick would overflow. The
 * integer parts are exact at every level, so the results must agree to float rounding. */
static void test_extremes(const lai_cpu_kernels *k, const lai_cpu_kernels *ref) {
    enum { K = 512, N = 4 };
    static const uint8_t patterns[] = {0xFF, 0x80, 0x7F, 0x00};
    for (uint32_t type = 0; type < LAI_TYPE_COUNT; type++) {
        const lai_weight_format *fmt = lai_weight_format_get(type);
        if (fmt == NULL) continue;
        const lai_type_traits *tt = lai_type_get(type);
        weights w;
        w.type = type;
        w.K = K;
        w.N = N;
        w.row_bytes = (size_t)(K / tt->block_size) * tt->type_size;
        w.q = malloc(w.row_bytes * N);
        w.deq = malloc(sizeof(float) * K * N);
        for (int pi = 0; pi < 4; pi++) {
            memset(w.q, patterns[pi], w.row_bytes * N);
            int offs[2], n_offs;
            scale_fields(type, offs, &n_offs);
            for (size_t b = 0; b < w.row_bytes * N / tt->type_size; b++)
                for (int f = 0; f < n_offs; f++) {
                    const uint16_t d = (uint16_t)(0x2000 + 0x100 * f);
                    memcpy(w.q + b * tt->type_size + offs[f], &d, 2);
                }
            for (int64_t n = 0; n < N; n++) tt->to_float(w.q + (size_t)n * w.row_bytes, w.deq + n * K, K);
            for (int sign = -1; sign <= 1; sign += 2) {
                float x[K];
                for (int i = 0; i < K; i++) x[i] = (float)sign * (i % 7 == 3 ? 0.999f : 1.0f);
                uint8_t act[K * 2];
                ref->quantize[fmt->act](x, act, K);
                float got[N], want[N];
                double bound[N];
                for (int64_t n = 0; n < N; n++) {
                    got[n] = k->vec_dot[type](w.q + (size_t)n * w.row_bytes, act, K);
                    want[n] = ref->vec_dot[type](w.q + (size_t)n * w.row_bytes, act, K);
                    bound[n] = 0;
                    for (int i = 0; i < K; i++) bound[n] += fabs((double)w.deq[n * K + i] * x[i]);
                }
                char what[64];
                snprintf(what, sizeof what, "vec_dot %s bytes 0x%02x x=%+d", tt->name, patterns[pi], sign);
                CHECK_MSG(agree(got, want, bound, N, 1e-5, what), "%s", what);
                /* and through the matmul op, which takes the GEMM tiles at 17 columns */
                float *xs = malloc(sizeof(float) * K * 17);
                for (int m = 0; m < 17; m++) memcpy(xs + m * K, x, sizeof x);
                float *g1 = run_matmul(k, &w, xs, 17, 2), *g2 = run_matmul(ref, &w, xs, 17, 1);
                double b17[N * 17];
                for (int m = 0; m < 17; m++)
                    for (int n = 0; n < N; n++) b17[m * N + n] = 2 * bound[n];
                snprintf(what, sizeof what, "matmul %s bytes 0x%02x x=%+d", tt->name, patterns[pi], sign);
                CHECK_MSG(agree(g1, g2, b17, (size_t)N * 17, 1e-5, what), "%s", what);
                free(g1);
                free(g2);
                free(xs);
            }
        }
        free_weights(&w);
    }
}

int main(void) {
    const lai_cpu_kernels *ref = lai_cpu_kernels_scalar();
    int levels = 0;
    for (int l = 1; l < LAI_CPU_LEVEL_COUNT; l++) {
        const lai_cpu_kernels *k = lai_cpu_kernels_get((lai_cpu_level)l);
        if (k == NULL) continue;
        levels++;
        level_name = lai_cpu_level_name((lai_cpu_level)l);
        printf("level %s\n", level_name);
        test_quantize(k, ref);
        test_vec_dots(k, ref);
        test_float_rows(k, ref);
        test_matmuls(k, ref);
        test_extremes(k, ref);
        /* where the AVX-512 level runs its GEMM on AMX tiles, its vpdpbusd GEMM too */
        if (l == LAI_CPU_LEVEL_AVX512 && lai_cpu_kernels_avx512_vnni() != k) {
            level_name = "avx512 without amx";
            printf("level %s\n", level_name);
            test_matmuls(lai_cpu_kernels_avx512_vnni(), ref);
            test_extremes(lai_cpu_kernels_avx512_vnni(), ref);
        }
    }
    if (levels == 0) printf("no SIMD level runs on this CPU: nothing to compare\n");
    return test_finish("levels");
}
