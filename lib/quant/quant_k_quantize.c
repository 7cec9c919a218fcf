/* quant_k_quantize.c - reference quantizers from f32 to Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K. */
#include "quant_k_impl.h"

#include <math.h>

/* Same algorithms and float operation order as llama.cpp's quantize_row_*_ref (what its
 * quantize tool uses without an importance matrix), so our files are byte-identical to
 * its. Each works in two passes: first a per-sub-block scale (and min) search, then those
 * scales are themselves quantized to a few bits against one f16 super-scale, and the
 * elements are re-coded against the scales as they will be decoded. */

#define QK_K LAI_QK_K
#define GROUP_MAX_EPS 1e-15f

static int clamp_int(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* The 2-bit code planes of Q2_K and Q3_K: code e goes to byte 32*(e/128) + e%32 at bit
 * 2*((e%128)/32). */
static void pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; l++)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                      (L[j + l + 96] << 6));
}

/* ---- Q2_K ------------------------------------------------------------------------ */

void lai_quantize_row_q2_K(const float *x, void *dst, int64_t n) {
    lai_block_q2_K *y = dst;
    uint8_t L[QK_K], Laux[16];
    float weights[16], mins[QK_K / 16], scales[QK_K / 16];
    const float q4scale = 15.0f;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, max_min = 0; /* both non-negative: the min is subtracted */
        for (int j = 0; j < QK_K / 16; j++) {
            for (int l = 0; l < 16; l++) weights[l] = fabsf(x[16 * j + l]);
            scales[j] = lai_search_affine(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux,
                                          -0.5f, 0.1f, 15, 1);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            float iscale = q4scale / max_scale;
            for (int j = 0; j < QK_K / 16; j++)
                y[i].scales[j] = (uint8_t)lai_nearest_int(iscale * scales[j]);
            y[i].d = lai_f32_to_f16(max_scale / q4scale);
        } else {
            for (int j = 0; j < QK_K / 16; j++) y[i].scales[j] = 0;
            y[i].d = lai_f32_to_f16(0.0f);
        }
        if (max_min > 0) {
            float iscale = q4scale / max_min;
            for (int j = 0; j < QK_K / 16; j++)
                y[i].scales[j] = (uint8_t)(y[i].scales[j] | ((unsigned)lai_nearest_int(iscale * mins[j]) << 4));
            y[i].dmin = lai_f32_to_f16(max_min / q4scale);
        } else {
            y[i].dmin = lai_f32_to_f16(0.0f);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            const float d = lai_f16_to_f32(y[i].d) * (float)(y[i].scales[j] & 0x0f);
            if (d == 0.0f) continue;
            const float dm = lai_f16_to_f32(y[i].dmin) * (float)(y[i].scales[j] >> 4);
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (uint8_t)clamp_int(lai_nearest_int((x[16 * j + ii] + dm) / d), 0, 3);
        }
        pack_2bit(L, y[i].qs);
    }
}

/* ---- Q3_K ------------------------------------------------------------------------ */

void lai_quantize_row_q3_K(const float *x, void *dst, int64_t n) {
    lai_block_q3_K *y = dst;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            scales[j] = lai_search_q3(16, 4, x + 16 * j, L + 16 * j);
            float scale = fabsf(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }
        memset(y[i].scales, 0, sizeof y[i].scales);
        if (max_scale != 0.0f) {
            float iscale = -32.0f / max_scale;
            for (int j = 0; j < QK_K / 16; j++) {
                int l = lai_low_i8(lai_nearest_int(iscale * scales[j]));
                l = clamp_int(l, -32, 31) + 32;
                if (j < 8) y[i].scales[j] = (uint8_t)(l & 0x0f);
                else y[i].scales[j - 8] = (uint8_t)(y[i].scales[j - 8] | ((l & 0x0f) << 4));
                y[i].scales[j % 4 + 8] = (uint8_t)(y[i].scales[j % 4 + 8] | ((l >> 4) << (2 * (j / 4))));
            }
            y[i].d = lai_f32_to_f16(1 / iscale);
        } else {
            y[i].d = lai_f32_to_f16(0.0f);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            const float d = lai_f16_to_f32(y[i].d) * (float)lai_k3_scale(j, y[i].scales);
            if (d == 0.0f) continue;
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (int8_t)(clamp_int(lai_nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
        }
        /* codes 4..7 set their bit in hmask (e%32, bit e/32) and keep the low two bits */
        memset(y[i].hmask, 0, sizeof y[i].hmask);
        uint8_t low[QK_K];
        for (int e = 0; e < QK_K; e++) {
            int l = L[e];
            if (l > 3) {
                y[i].hmask[e % 32] = (uint8_t)(y[i].hmask[e % 32] | (1u << (e / 32)));
                l -= 4;
            }
            low[e] = (uint8_t)l;
        }
        pack_2bit(low, y[i].qs);
    }
}

/* ---- Q4_K / Q5_K ------------------------------------------------------------------- */

/* Packs the 8 six-bit scales and mins (see lai_k4_scale_min for the layout). */
static void pack_k4_scales(const uint8_t *ls, const uint8_t *lm, uint8_t *scales) {
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            scales[j] = ls[j];
            scales[j + 4] = lm[j];
        } else {
            scales[j + 4] = (uint8_t)((ls[j] & 0x0f) | ((lm[j] & 0x0f) << 4));
            scales[j - 4] = (uint8_t)(scales[j - 4] | ((ls[j] >> 4) << 6));
            scales[j] = (uint8_t)(scales[j] | ((lm[j] >> 4) << 6));
        }
    }
}

/* The shared body of Q4_K (nmax 15) and Q5_K (nmax 31): fills d, dmin, scales and the
 * codes L (0..nmax) of one super-block. */
static void quantize_k4_block(const float *x, int nmax, float rmin, int nstep, uint16_t *d_out,
                              uint16_t *dmin_out, uint8_t *packed_scales, uint8_t *L) {
    uint8_t Laux[32], ls[8], lm[8];
    float weights[32], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        /* weight each element by the block's rms plus its own magnitude */
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = lai_search_affine(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                      rmin, 0.1f, nstep, 0);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < 8; j++) {
        uint8_t s = (uint8_t)lai_nearest_int(inv_scale * scales[j]);
        uint8_t m = (uint8_t)lai_nearest_int(inv_min * mins[j]);
        ls[j] = s < 63 ? s : 63;
        lm[j] = m < 63 ? m : 63;
    }
    pack_k4_scales(ls, lm, packed_scales);
    *d_out = lai_f32_to_f16(max_scale / 63.0f);
    *dmin_out = lai_f32_to_f16(max_min / 63.0f);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        lai_k4_scale_min(j, packed_scales, &sc, &m);
        const float d = lai_f16_to_f32(*d_out) * (float)sc;
        if (d == 0.0f) continue;
        const float dm = lai_f16_to_f32(*dmin_out) * (float)m;
        for (int ii = 0; ii < 32; ii++)
            L[32 * j + ii] = (uint8_t)clamp_int(lai_nearest_int((x[32 * j + ii] + dm) / d), 0, nmax);
    }
}

void lai_quantize_row_q4_K(const float *x, void *dst, int64_t n) {
    lai_block_q4_K *y = dst;
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        quantize_k4_block(x, 15, -1.0f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
        /* 64-element chunk c: low nibbles hold its first 32 codes, high nibbles the rest */
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                y[i].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + l + 32] << 4));
    }
}

void lai_quantize_row_q5_K(const float *x, void *dst, int64_t n) {
    lai_block_q5_K *y = dst;
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        quantize_k4_block(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        memset(y[i].qh, 0, sizeof y[i].qh);
        for (int e = 0; e < QK_K; e++) {
            /* the fifth bit of code e is bit e/32 (its sub-block) of qh[e%32] */
            if (L[e] > 15) y[i].qh[e % 32] = (uint8_t)(y[i].qh[e % 32] | (1u << (e / 32)));
        }
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                y[i].qs[32 * c + l] =
                    (uint8_t)((L[64 * c + l] & 0x0f) | ((L[64 * c + l + 32] & 0x0f) << 4));
    }
}

/* ---- Q6_K ------------------------------------------------------------------------ */

void lai_quantize_row_q6_K(const float *x, void *dst, int64_t n) {
    lai_block_q6_K *y = dst;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < QK_K / 16; ib++) {
            scales[ib] = lai_search_symmetric(16, 32, x + 16 * ib, L + 16 * ib);
            if (fabsf(scales[ib]) > max_abs_scale) {
                max_abs_scale = fabsf(scales[ib]);
                max_scale = scales[ib];
            }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float iscale = -128.0f / max_scale;
        y[i].d = lai_f32_to_f16(1 / iscale);
        for (int ib = 0; ib < QK_K / 16; ib++) {
            int s = lai_nearest_int(iscale * scales[ib]);
            y[i].scales[ib] = lai_low_i8(s < 127 ? s : 127);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            const float d = lai_f16_to_f32(y[i].d) * (float)y[i].scales[j];
            if (d == 0.0f) continue;
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (int8_t)(clamp_int(lai_nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
        }
        /* see quant_k.c for where the 4 low and 2 high bits of each code go */
        for (int half = 0; half < 2; half++) {
            const int8_t *Lh = L + 128 * half;
            uint8_t *ql = y[i].ql + 64 * half, *qh = y[i].qh + 32 * half;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
                ql[l + 32] = (uint8_t)((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
                qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                  ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

/* ---- Q8_K ------------------------------------------------------------------------ */

void lai_quantize_row_q8_K(const float *x, void *dst, int64_t n) {
    lai_block_q8_K *y = dst;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < QK_K; j++) {
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* -127 (not -128) keeps every code's negation representable for the IQ kernels */
        const float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j++) {
            int v = lai_nearest_int(iscale * x[j]);
            y[i].qs[j] = lai_low_i8(v < 127 ? v : 127);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int ii = 0; ii < 16; ii++) sum += y[i].qs[16 * j + ii];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}
