/* cpu_kernels.h - the kernels of one CPU level (scalar, AVX2, AVX-512, NEON) as a table the CPU ops call. */
#ifndef LAI_CPU_KERNELS_H
#define LAI_CPU_KERNELS_H

#include <math.h>

#include "../quant/quant.h"
#include "cpu_features.h"

/*
 * Quantized weights are multiplied the way llama.cpp's CPU backend does: each activation
 * column is rounded once to 8-bit blocks, and each weight block is dotted with it in
 * integers, the scales applied once per block. Two activation formats exist, chosen by
 * the weight type (lai_weight_format.act):
 *   LAI_ACT_Q8   blocks of 32 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL)
 *   LAI_ACT_Q8K  blocks of 256 with sums per 16 (the K-quants, IQ4_XS)
 * The rounding follows llama.cpp's (scales, ties to even, f16 storage) at every level, so
 * the SIMD levels produce the very bytes the scalar reference does.
 *
 * Every level provides the same operations; a level may leave an entry NULL, and the
 * caller then uses the scalar one. The scalar table is complete and is the reference the
 * tests hold every other level to.
 */

/* How far ahead of the bytes being read a matrix-vector dot asks for weights: they come
 * from a file mapping of 4 KiB pages, where the hardware prefetchers stop at every page
 * boundary, so the dots ask for the bytes a page ahead themselves (a thread's rows follow
 * one another, so this runs on into its next row). */
#define LAI_PREFETCH_BYTES 4096

/* Asks for the cache lines of [p, p + n) LAI_PREFETCH_BYTES ahead (a hint: never faults). */
static inline void lai_prefetch_ahead(const void *p, size_t n) {
#if defined(__GNUC__) || defined(__clang__)
    for (size_t i = 0; i < n; i += 64) __builtin_prefetch((const char *)p + LAI_PREFETCH_BYTES + i, 0, 3);
#else
    (void)p;
    (void)n;
#endif
}

/* The dot_f16, dot_bf16, dot_f16_x2 and dot_bf16_x2 entries of a SIMD level, from its
 * always-inline core dot_h_rows(rows, R, is_bf16, x, n, out) (R = 1 or 2 rows against x),
 * defined in the level's file so that they are compiled for its instruction set. */
#define LAI_DOT_H_ENTRIES                                                                          \
    static float dot_f16(const uint16_t *w, const float *x, int64_t n) {                           \
        float v;                                                                                   \
        dot_h_rows(&w, 1, 0, x, n, &v);                                                            \
        return v;                                                                                  \
    }                                                                                              \
    static float dot_bf16(const uint16_t *w, const float *x, int64_t n) {                          \
        float v;                                                                                   \
        dot_h_rows(&w, 1, 1, x, n, &v);                                                            \
        return v;                                                                                  \
    }                                                                                              \
    static void dot_f16_x2(const uint16_t *w0, const uint16_t *w1, const float *x, int64_t n, float out[2]) { \
        const uint16_t *w[2] = {w0, w1};                                                           \
        dot_h_rows(w, 2, 0, x, n, out);                                                            \
    }                                                                                              \
    static void dot_bf16_x2(const uint16_t *w0, const uint16_t *w1, const float *x, int64_t n, float out[2]) { \
        const uint16_t *w[2] = {w0, w1};                                                           \
        dot_h_rows(w, 2, 1, x, n, out);                                                            \
    }

enum { LAI_ACT_NONE = 0, LAI_ACT_Q8 = 1, LAI_ACT_Q8K = 2 };

/* Activations for 32-element weight blocks. */
typedef struct lai_act_q8 {
    int8_t qs[32];
    float d;     /* x ~ d * q (d rounded to f16, as llama.cpp stores it) */
    float s;     /* d * sum(q) rounded to f16: the term a weight block's min multiplies */
    int32_t sum; /* sum(q), exact: for weights stored with an offset */
    int32_t unused;
} lai_act_q8;

/* Activations for 256-element K-quant super-blocks. */
typedef struct lai_act_q8k {
    int8_t qs[256];
    int16_t bsums[16]; /* sum of q over each group of 16 */
    float d;
    int32_t unused[3];
} lai_act_q8k;

/* How the GEMM path sees one weight type: every block unpacks to bytes u = q + off
 * (0..255) and, per sub-block of `sub` elements, a scale and a min, so that
 *   dot(w, x) = sum over sub-blocks s of
 *               scale_s * d_a * (sum(u * a) - off * sum(a)) + min_s * amin_s
 * where a are the activation bytes, d_a their scale and amin_s the activation's min term
 * of that sub-block (LAI_ACT_Q8: its s; LAI_ACT_Q8K: d * sum(a) of the sub-block). */
typedef struct lai_weight_format {
    uint8_t act;     /* LAI_ACT_*; LAI_ACT_NONE: no integer path (float weights) */
    uint8_t sub;     /* 16 or 32 */
    uint8_t off;     /* 0, 4, 8, 16, 32 or 128 */
    uint8_t has_min; /* min_s is not always 0 */
    uint32_t block;  /* elements per weight block */
    /* One block to block elements of u, block/sub scales and (has_min) block/sub mins. */
    void (*unpack)(const void *block, uint8_t *u, float *scale, float *min);
} lai_weight_format;

/* The integer-path description of a weight type, or NULL (F32, F16, BF16, unknown). */
const lai_weight_format *lai_weight_format_get(uint32_t type);

/* Bytes of quantized activations for one column of K elements in format act. */
size_t lai_act_row_bytes(int act, int64_t K);

typedef void (*lai_quantize_fn)(const float *x, void *act, int64_t n);
typedef float (*lai_vec_dot_fn)(const void *w_row, const void *act, int64_t n);
typedef float (*lai_dot_f32_fn)(const float *a, const float *b, int64_t n);
/* A weight row of F16 or BF16 (raw 16-bit values) dotted with f32 activations. */
typedef float (*lai_dot_h_fn)(const uint16_t *w, const float *x, int64_t n);

/* Matrix-matrix products (prompts). The activation columns, quantized, are packed once
 * per matmul into tiles of `cols` columns, interleaved four bytes at a time so one vector
 * holds the same four elements of every column of the tile; weight rows are unpacked to
 * bytes (lai_weight_format) a few rows at a time, and the kernel multiplies each
 * broadcast group of four weight bytes with a whole tile. Weights are never transposed
 * and the file is read as it is.
 *
 * Packed tile, per sub-block of fmt->sub elements: sub/4 vectors of cols x 4 bytes, then
 * cols floats d_a, cols int32 sum(a), cols floats amin (see lai_weight_format). */
#define LAI_GEMM_MAX_COLS 16

typedef struct lai_gemm_kernel {
    int cols; /* columns per tile (at most LAI_GEMM_MAX_COLS) */
    int rows; /* weight rows per run call, at most */
    /* The unpack buffer (u, scale, min for `rows` rows) comes this many times over (0
     * means 1): an unpack that reorders its output may unpack into the space after min. */
    int unpack_copies;
    /* Unpacks rows of a weight type to bytes and per-sub-block scales and mins (row r's at
     * u + r * K, scale + r * (K / sub), min likewise). The layout is this kernel's own,
     * read only by its `run`: usually u = q + off as lai_weight_format says, but a level
     * may store signed bytes or flags where its arithmetic needs them. */
    void (*unpack)(uint32_t type, const lai_weight_format *fmt, const uint8_t *w,
                   size_t row_stride, int n_rows, int64_t K, uint8_t *u, float *scale,
                   float *min);
    /* out[c * out_stride + r] = dot(row r, column c) for r < n_rows (<= rows), c < n_cols,
     * from a tile made by lai_gemm_pack_act. */
    void (*run)(const lai_weight_format *fmt, const uint8_t *u, const float *scale,
                const float *min, int n_rows, int64_t K, const void *tile, int n_cols,
                float *out, size_t out_stride);
    /* Float weights (F32, F16, BF16) converted to f32 rows (w32, n_rows x K) against a
     * tile of f32 columns interleaved k-major (tile[k * cols + c]). */
    void (*run_f32)(const float *w32, int n_rows, int64_t K, const float *tile, int n_cols,
                    float *out, size_t out_stride);
} lai_gemm_kernel;

/* Bytes of one packed activation tile of K elements for weights of fmt, and the packing
 * of columns [0, n) (n <= cols; the rest of the tile is zero) of quantized activations
 * (format fmt->act, column c at act + c * act_stride). */
size_t lai_gemm_tile_bytes(int cols, const lai_weight_format *fmt, int64_t K);
void lai_gemm_pack_act(int cols, const lai_weight_format *fmt, const uint8_t *act,
                       size_t act_stride, int64_t K, int n, void *tile);

/* Softmax weights below exp(-64) (1.6e-28 of the largest) are made 0: they cannot change
 * a float sum that holds the largest (1), and their products with the values would be
 * subnormal numbers, which cost x86 cores a microcode assist per instruction (a prompt's
 * attention ran several times slower on them). */
#define LAI_EXP_CUT (-64.0f)

static inline float lai_exp_cut(float d) { return d < LAI_EXP_CUT ? 0.0f : expf(d); }

/* Attention's axpy_rows, in every level: the offsets of the set bits of `any` (the cells of
 * a group of up to 64 that some query weighs), in order; returns how many. */
static inline int lai_cells_of(uint64_t any, int32_t idx[64]) {
    int m = 0;
    while (any != 0) {
        idx[m++] = __builtin_ctzll(any);
        any &= any - 1;
    }
    return m;
}

typedef struct lai_cpu_kernels {
    lai_cpu_level level;
    lai_quantize_fn quantize[3];               /* indexed by LAI_ACT_* */
    lai_vec_dot_fn vec_dot[LAI_TYPE_COUNT];    /* integer dot per weight type */
    /* Two rows against the same activations: out[r] is bit for bit what vec_dot gives for
     * row r. Optional per type (NULL: the caller dots each row), like dot_f16_x2. */
    void (*vec_dot_x2[LAI_TYPE_COUNT])(const void *w0, const void *w1, const void *a, int64_t n, float out[2]);
    lai_dot_f32_fn dot_f32;
    lai_dot_h_fn dot_f16, dot_bf16;
    /* Two rows of F16 / BF16 against the same x: out[r] is bit for bit what dot_f16 /
     * dot_bf16 gives for row r (x is read once for both rows). Optional, unlike the other
     * entries: NULL (the scalar and NEON levels, where pairing gains nothing) means the
     * caller dots each row by itself. */
    void (*dot_f16_x2)(const uint16_t *w0, const uint16_t *w1, const float *x, int64_t n, float out[2]);
    void (*dot_bf16_x2)(const uint16_t *w0, const uint16_t *w1, const float *x, int64_t n, float out[2]);
    const lai_gemm_kernel *gemm;               /* NULL: columns one by one with vec_dot */
    /* Rows of n floats. */
    void (*f16_to_f32)(const uint16_t *h, float *x, int64_t n);
    void (*f32_to_f16)(const float *x, uint16_t *h, int64_t n);
    void (*silu_mul)(const float *g, const float *u, float *out, int64_t n);
    void (*gelu_mul)(const float *g, const float *u, float *out, int64_t n);
    float (*sum_sq)(const float *x, int64_t n);     /* sum of x^2, accumulated in double
                                                      * by the reference */
    void (*scale_mul)(const float *x, float s, const float *w, float *out, int64_t n); /* x*s*w (w may be NULL) */
    /* Attention: x[i] = exp(x[i] - max), returning their sum, except that an x[i] - max
     * below LAI_EXP_CUT gives 0 (lai_exp_cut); y *= a. */
    float (*exp_sum)(float *x, float max, int64_t n);
    void (*scale)(float *y, float a, int64_t n);
    /* Attention over a chunk of nc cache rows of n floats (row c at rows + c * ld):
     * dot_rows: out[c] = dot(q, row c) for every c < nc (one query against the keys);
     * axpy_rows: for each of nq queries (weights p + q * ldp, output y + q * ldy),
     * y_q[i] += sum over c of p_q[c] * row c [i], i < n (the values weighted by the
     * softmax, several queries at once so each row is loaded once for all of them). A row
     * that every query weighs 0 is not read, so it adds nothing even if it holds a NaN; a
     * row that some query weighs is multiplied into every query (0 times a NaN or an
     * infinity is a NaN), so callers pass together only queries that see the same rows. */
    void (*dot_rows)(const float *q, const float *rows, size_t ld, int64_t nc, int64_t n, float *out);
    void (*axpy_rows)(const float *p, size_t ldp, int64_t nq, const float *rows, size_t ld, int64_t nc, float *y,
                      size_t ldy, int64_t n);
} lai_cpu_kernels;

/* The table of a level, or NULL when this build or this CPU cannot run it. */
const lai_cpu_kernels *lai_cpu_kernels_get(lai_cpu_level level);
/* The level named `name` ("scalar", "avx2", "avx512", "neon"); -1 when unknown. */
int lai_cpu_level_from_name(const char *name);

/* Per level (cpu_kernels_*.c); NULL when this build has no such level (another
 * architecture). A level's table takes the scalar table's entry wherever it has none of
 * its own: lai_cpu_kernels_complete() fills them in, once, when the table is built. */
void lai_cpu_kernels_complete(lai_cpu_kernels *t);
const lai_cpu_kernels *lai_cpu_kernels_scalar(void);
const lai_cpu_kernels *lai_cpu_kernels_avx2(void);
const lai_cpu_kernels *lai_cpu_kernels_avx512(void);
/* The AVX-512 level without AMX (its GEMM on vpdpbusd), which lai_cpu_kernels_avx512()
 * is on a CPU without AMX: the tests compare both where AMX runs. */
const lai_cpu_kernels *lai_cpu_kernels_avx512_vnni(void);
const lai_cpu_kernels *lai_cpu_kernels_neon(void);

#endif /* LAI_CPU_KERNELS_H */
