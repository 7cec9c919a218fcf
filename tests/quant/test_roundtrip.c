/* test_roundtrip.c - quantize then dequantize: the error each format should give. */
#include "test_util.h"
#include "quant/quant.h"

#include <math.h>

/* Relative rms error (rms of x - dequant(quant(x)) over rms of x) on Gaussian data, in
 * rows of 4096. The bounds sit a little above what llama.cpp's reference quantizers get
 * on the same data (measured values in the comments; our bytes equal theirs, see
 * test_llamacpp_ref), and well below what the next-coarser format would give, so a
 * quantizer that picks a poor scale or drops a bit fails. */

static uint64_t rng_state = 0x853c49e6748fea9bull;
static double uniform01(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((rng_state >> 11) + 0.5) / 9007199254740992.0;
}
static float gauss(void) {
    return (float)(sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01()));
}

static const struct {
    uint32_t type;
    double bound; /* max relative rms error */
} cases[] = {
    /* measured (sd 1 / sd 0.02): */
    {LAI_TYPE_F16, 0.0003},  /* 0.00021 / 0.00021 */
    {LAI_TYPE_BF16, 0.002},  /* 0.00165 / 0.00166 */
    {LAI_TYPE_Q8_0, 0.006},  /* 0.00532 / 0.00527 */
    {LAI_TYPE_Q8_K, 0.008},  /* 0.00704 / 0.00691 */
    {LAI_TYPE_Q6_K, 0.020},  /* 0.01784 / 0.01756 */
    {LAI_TYPE_Q5_K, 0.040},  /* 0.03619 / 0.03556 */
    {LAI_TYPE_Q5_1, 0.043},  /* 0.03773 / 0.03743 */
    {LAI_TYPE_Q5_0, 0.048},  /* 0.04287 / 0.04233 */
    {LAI_TYPE_Q4_K, 0.080},  /* 0.07151 / 0.07075 */
    {LAI_TYPE_Q4_1, 0.088},  /* 0.07833 / 0.07768 */
    {LAI_TYPE_Q4_0, 0.095},  /* 0.08591 / 0.08459 */
    {LAI_TYPE_Q3_K, 0.170},  /* 0.15207 / 0.14943 */
    {LAI_TYPE_Q2_K, 0.330},  /* 0.29703 / 0.29503 */
};

int main(int argc, char **argv) {
    const int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    enum { N = 4096 * 8 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    unsigned char *q = malloc(N * 4);
    for (int i = 0; i < N; i++) x[i] = gauss() * (i < N / 2 ? 1.0f : 0.02f);
    for (size_t c = 0; c < LAI_ARRAY_LEN(cases); c++) {
        const lai_type_traits *t = lai_type_get(cases[c].type);
        memset(y, 0, N * sizeof(float));
        t->from_float(x, q, N);
        t->to_float(q, y, N);
        /* each half separately: the error is relative, so the scale of the data must not matter */
        for (int half = 0; half < 2; half++) {
            double se = 0, sx = 0;
            for (int i = half * N / 2; i < (half + 1) * N / 2; i++) {
                se += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
                sx += (double)x[i] * x[i];
            }
            double rel = sqrt(se / sx);
            if (verbose) printf("%-5s sd %-4s rmse/rms %.5f (bound %.4f)\n", t->name, half ? "0.02" : "1", rel, cases[c].bound);
            CHECK_MSG(rel < cases[c].bound, "%s: relative rms error %.5f, bound %.4f", t->name, rel, cases[c].bound);
            /* and not suspiciously perfect for a lossy format (a copy would pass above) */
            if (t->is_quantized) CHECK_MSG(rel > cases[c].bound / 20, "%s: error %.6f too small", t->name, rel);
        }
    }
    /* degenerate input: zeros and constants come back exactly for every format */
    for (size_t c = 0; c < LAI_ARRAY_LEN(cases); c++) {
        const lai_type_traits *t = lai_type_get(cases[c].type);
        for (int i = 0; i < 512; i++) x[i] = 0.0f;
        t->from_float(x, q, 512);
        t->to_float(q, y, 512);
        int nonzero = 0;
        for (int i = 0; i < 512; i++) nonzero += y[i] != 0.0f;
        CHECK_MSG(nonzero == 0, "%s: zeros decode to %d non-zero values", t->name, nonzero);
    }
    /* damaged weights (NaN, Inf, huge, subnormal) must not crash or hit undefined
     * behaviour in any quantizer (the sanitizer build runs this); the values are garbage */
    static const float specials[] = {NAN, INFINITY, -INFINITY, 3e38f, -3e38f, 1e-40f, -0.0f, 65504.0f, 1e5f};
    for (size_t c = 0; c < LAI_ARRAY_LEN(cases); c++) {
        const lai_type_traits *t = lai_type_get(cases[c].type);
        for (size_t s = 0; s < LAI_ARRAY_LEN(specials); s++) {
            for (int i = 0; i < 512; i++) x[i] = gauss();
            for (int i = (int)s; i < 512; i += 37) x[i] = specials[s];
            t->from_float(x, q, 512);
            t->to_float(q, y, 512);
            for (int i = 0; i < 512; i++) x[i] = specials[s]; /* whole blocks of it */
            t->from_float(x, q, 512);
            t->to_float(q, y, 512);
        }
    }
    CHECK(1);
    free(x);
    free(y);
    free(q);
    return test_finish("test_roundtrip");
}
