/* cpu_kernels.c - the scalar kernel table (the reference) and the choice of a level for this CPU. */
#include "cpu_kernels.h"

#include <math.h>

#include "cpu_ops.h"
#include "cpu_vecdot.h"

static float dot_f16_scalar(const uint16_t *w, const float *x, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += lai_cpu_f16(w[i + j]) * x[i + j];
    float tail = 0.0f;
    for (; i < n; i++) tail += lai_cpu_f16(w[i]) * x[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

static float bf16_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static float dot_bf16_scalar(const uint16_t *w, const float *x, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += bf16_f32(w[i + j]) * x[i + j];
    float tail = 0.0f;
    for (; i < n; i++) tail += bf16_f32(w[i]) * x[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

static void f16_to_f32_scalar(const uint16_t *h, float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = lai_cpu_f16(h[i]);
}

static void f32_to_f16_scalar(const float *x, uint16_t *h, int64_t n) {
    for (int64_t i = 0; i < n; i++) h[i] = lai_f32_to_f16(x[i]);
}

static void silu_mul_scalar(const float *g, const float *u, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* GELU with the tanh approximation, as Gemma's reference uses. */
static void gelu_mul_scalar(const float *g, const float *u, float *out, int64_t n) {
    const float k = 0.7978845608028654f; /* sqrt(2 / pi) */
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        out[i] = 0.5f * x * (1.0f + tanhf(k * x * (1.0f + 0.044715f * x * x))) * u[i];
    }
}

static float sum_sq_scalar(const float *x, int64_t n) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)x[i] * (double)x[i];
    return (float)sum;
}

static void scale_mul_scalar(const float *x, float s, const float *w, float *out, int64_t n) {
    if (w != NULL)
        for (int64_t i = 0; i < n; i++) out[i] = x[i] * s * w[i];
    else
        for (int64_t i = 0; i < n; i++) out[i] = x[i] * s;
}

static float exp_sum_scalar(float *x, float max, int64_t n) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        x[i] = lai_exp_cut(x[i] - max);
        sum += x[i];
    }
    return sum;
}

static void dot_rows_scalar(const float *q, const float *rows, size_t ld, int64_t nc, int64_t n, float *out) {
    for (int64_t c = 0; c < nc; c++) out[c] = lai_cpu_dot_f32(q, rows + (size_t)c * ld, n);
}

static void axpy_rows_scalar(const float *p, size_t ldp, int64_t nq, const float *rows, size_t ld, int64_t nc,
                             float *y, size_t ldy, int64_t n) {
    for (int64_t c = 0; c < nc; c++) {
        int any = 0;
        for (int64_t q = 0; q < nq; q++) any |= p[(size_t)q * ldp + (size_t)c] != 0.0f;
        if (!any) continue; /* not read */
        const float *x = rows + (size_t)c * ld;
        for (int64_t q = 0; q < nq; q++) {
            const float w = p[(size_t)q * ldp + (size_t)c];
            float *yq = y + (size_t)q * ldy;
            for (int64_t i = 0; i < n; i++) yq[i] += w * x[i];
        }
    }
}

static void scale_scalar(float *y, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] *= a;
}

static const lai_cpu_kernels scalar_table = {
    .level = LAI_CPU_LEVEL_SCALAR,
    .quantize = {NULL, lai_quantize_act_q8, lai_quantize_act_q8k},
    .vec_dot =
        {
            [LAI_TYPE_Q4_0] = lai_vec_dot_q4_0,
            [LAI_TYPE_Q4_1] = lai_vec_dot_q4_1,
            [LAI_TYPE_Q5_0] = lai_vec_dot_q5_0,
            [LAI_TYPE_Q5_1] = lai_vec_dot_q5_1,
            [LAI_TYPE_Q8_0] = lai_vec_dot_q8_0,
            [LAI_TYPE_Q2_K] = lai_vec_dot_q2_K,
            [LAI_TYPE_Q3_K] = lai_vec_dot_q3_K,
            [LAI_TYPE_Q4_K] = lai_vec_dot_q4_K,
            [LAI_TYPE_Q5_K] = lai_vec_dot_q5_K,
            [LAI_TYPE_Q6_K] = lai_vec_dot_q6_K,
            [LAI_TYPE_IQ4_NL] = lai_vec_dot_iq4_nl,
            [LAI_TYPE_IQ4_XS] = lai_vec_dot_iq4_xs,
        },
    .dot_f32 = lai_cpu_dot_f32,
    .dot_f16 = dot_f16_scalar,
    .dot_bf16 = dot_bf16_scalar,
    .gemm = NULL,
    .f16_to_f32 = f16_to_f32_scalar,
    .f32_to_f16 = f32_to_f16_scalar,
    .silu_mul = silu_mul_scalar,
    .gelu_mul = gelu_mul_scalar,
    .sum_sq = sum_sq_scalar,
    .scale_mul = scale_mul_scalar,
    .exp_sum = exp_sum_scalar,
    .dot_rows = dot_rows_scalar,
    .axpy_rows = axpy_rows_scalar,
    .scale = scale_scalar,
};

const lai_cpu_kernels *lai_cpu_kernels_scalar(void) {
    lai_cpu_f16_init(); /* every level reads f16 scales through the table */
    return &scalar_table;
}

/* Fills the entries a level leaves NULL with the scalar ones (called once per level). */
void lai_cpu_kernels_complete(lai_cpu_kernels *t) {
    const lai_cpu_kernels *s = &scalar_table;
    for (int i = 0; i < 3; i++)
        if (t->quantize[i] == NULL) t->quantize[i] = s->quantize[i];
    for (int i = 0; i < LAI_TYPE_COUNT; i++)
        if (t->vec_dot[i] == NULL) t->vec_dot[i] = s->vec_dot[i];
#define FILL(f) if (t->f == NULL) t->f = s->f
    FILL(dot_f32);
    FILL(dot_f16);
    FILL(dot_bf16);
    FILL(f16_to_f32);
    FILL(f32_to_f16);
    FILL(silu_mul);
    FILL(gelu_mul);
    FILL(sum_sq);
    FILL(scale_mul);
    FILL(exp_sum);
    FILL(dot_rows);
    FILL(axpy_rows);
    FILL(scale);
#undef FILL
}

static int level_runs(lai_cpu_level level) {
    const lai_cpu_features *f = lai_cpu_features_get();
    switch (level) {
    case LAI_CPU_LEVEL_SCALAR: return 1;
    case LAI_CPU_LEVEL_AVX2: return f->avx2 && f->fma && f->f16c;
    case LAI_CPU_LEVEL_AVX512:
        return f->avx2 && f->fma && f->f16c && f->avx512f && f->avx512bw && f->avx512vl && f->avx512vnni;
    case LAI_CPU_LEVEL_NEON: return f->neon;
    default: return 0;
    }
}

const lai_cpu_kernels *lai_cpu_kernels_get(lai_cpu_level level) {
    if (!level_runs(level)) return NULL;
    switch (level) {
    case LAI_CPU_LEVEL_SCALAR: return lai_cpu_kernels_scalar();
    case LAI_CPU_LEVEL_AVX2: return lai_cpu_kernels_avx2();
    case LAI_CPU_LEVEL_AVX512: return lai_cpu_kernels_avx512();
    case LAI_CPU_LEVEL_NEON: return lai_cpu_kernels_neon();
    default: return NULL;
    }
}

int lai_cpu_level_from_name(const char *name) {
    for (int l = 0; l < LAI_CPU_LEVEL_COUNT; l++)
        if (strcmp(name, lai_cpu_level_name((lai_cpu_level)l)) == 0) return l;
    return -1;
}
