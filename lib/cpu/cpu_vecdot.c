/* cpu_vecdot.c - scalar integer dot products: Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 and Q4_K/Q5_K/Q6_K against 8-bit activations. */
#include "cpu_vecdot.h"

#include <math.h>

#include "../quant/blocks.h"
#include "../quant/quant.h"
#include "../quant/quant_k_impl.h"
#include "cpu_ops.h"

static float f16_round(float x) { return lai_cpu_f16(lai_f32_to_f16(x)); }

static void quantize_q8(const float *x, void *out, int64_t n) {
    lai_act_q8 *a = out;
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) {
            const int q = (int)lrintf(x[j] * id);
            a[b].qs[j] = (int8_t)q;
            sum += q;
        }
        a[b].d = f16_round(d);
        a[b].s = f16_round(d * (float)sum);
    }
}

/* Scale from the signed value of largest magnitude, so that value maps to -127 exactly. */
static void quantize_q8k(const float *x, void *out, int64_t n) {
    lai_act_q8k *a = out;
    for (int64_t b = 0; b < n / 256; b++, x += 256) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 256; j++)
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        if (amax == 0.0f) {
            memset(&a[b], 0, sizeof a[b]);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) {
                int q = (int)lrintf(iscale * x[16 * g + j]);
                if (q > 127) q = 127;
                a[b].qs[16 * g + j] = (int8_t)q;
                sum += q;
            }
            a[b].bsums[g] = (int16_t)sum;
        }
        a[b].d = 1.0f / iscale;
    }
}

static float dot_q4_0(const void *wr, const void *ar, int64_t n) {
    const lai_block_q4_0 *w = wr;
    const lai_act_q8 *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        int32_t s = 0;
        for (int j = 0; j < 16; j++)
            s += ((w[b].qs[j] & 0x0f) - 8) * a[b].qs[j] + ((w[b].qs[j] >> 4) - 8) * a[b].qs[j + 16];
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)s;
    }
    return sum;
}

static float dot_q4_1(const void *wr, const void *ar, int64_t n) {
    const lai_block_q4_1 *w = wr;
    const lai_act_q8 *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        int32_t s = 0;
        for (int j = 0; j < 16; j++)
            s += (w[b].qs[j] & 0x0f) * a[b].qs[j] + (w[b].qs[j] >> 4) * a[b].qs[j + 16];
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)s + lai_cpu_f16(w[b].m) * a[b].s;
    }
    return sum;
}

static uint32_t load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int32_t dot5_block(const uint8_t *qs, const uint8_t *qh_bytes, const int8_t *aq, int offset) {
    const uint32_t qh = load_u32(qh_bytes);
    int32_t s = 0;
    for (int j = 0; j < 16; j++) {
        const int lo = (qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
        const int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
        s += (lo - offset) * aq[j] + (hi - offset) * aq[j + 16];
    }
    return s;
}

static float dot_q5_0(const void *wr, const void *ar, int64_t n) {
    const lai_block_q5_0 *w = wr;
    const lai_act_q8 *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        int32_t s = dot5_block(w[b].qs, w[b].qh, a[b].qs, 16);
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)s;
    }
    return sum;
}

static float dot_q5_1(const void *wr, const void *ar, int64_t n) {
    const lai_block_q5_1 *w = wr;
    const lai_act_q8 *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        int32_t s = dot5_block(w[b].qs, w[b].qh, a[b].qs, 0);
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)s + lai_cpu_f16(w[b].m) * a[b].s;
    }
    return sum;
}

static float dot_q8_0(const void *wr, const void *ar, int64_t n) {
    const lai_block_q8_0 *w = wr;
    const lai_act_q8 *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += w[b].qs[j] * a[b].qs[j];
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)s;
    }
    return sum;
}

/* Q4_K / Q5_K: x = d*sc*q - dmin*m per sub-block of 32; the min part only needs the
 * activation sums of the sub-block. */
static float dot_q45_K(const uint8_t *scales, uint16_t d16, uint16_t dmin16, const uint8_t *qs,
                       const uint8_t *qh, const lai_act_q8k *a) {
    int32_t sum_q = 0, sum_m = 0;
    for (int s = 0; s < 8; s++) {
        uint8_t sc, m;
        lai_k4_scale_min(s, scales, &sc, &m);
        const uint8_t *q = qs + 32 * (s / 2);
        const int shift = (s % 2) * 4;
        const int8_t *aq = a->qs + 32 * s;
        int32_t t = 0;
        if (qh != NULL)
            for (int l = 0; l < 32; l++)
                t += (((q[l] >> shift) & 0x0f) | (((qh[l] >> s) & 1) << 4)) * aq[l];
        else
            for (int l = 0; l < 32; l++) t += ((q[l] >> shift) & 0x0f) * aq[l];
        sum_q += sc * t;
        sum_m += m * (a->bsums[2 * s] + a->bsums[2 * s + 1]);
    }
    return a->d * (lai_cpu_f16(d16) * (float)sum_q - lai_cpu_f16(dmin16) * (float)sum_m);
}

static float dot_q4_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q4_K *w = wr;
    const lai_act_q8k *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++)
        sum += dot_q45_K(w[b].scales, w[b].d, w[b].dmin, w[b].qs, NULL, &a[b]);
    return sum;
}

static float dot_q5_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q5_K *w = wr;
    const lai_act_q8k *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++)
        sum += dot_q45_K(w[b].scales, w[b].d, w[b].dmin, w[b].qs, w[b].qh, &a[b]);
    return sum;
}

static float dot_q6_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q6_K *w = wr;
    const lai_act_q8k *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) {
        int32_t acc = 0;
        for (int half = 0; half < 2; half++)
            for (int g = 0; g < 4; g++) {
                const uint8_t *ql = w[b].ql + 64 * half + 32 * (g % 2);
                const uint8_t *qh = w[b].qh + 32 * half;
                const int8_t *aq = a[b].qs + 128 * half + 32 * g;
                const int shift_l = g < 2 ? 0 : 4, shift_h = 2 * g;
                int32_t t0 = 0, t1 = 0; /* the two groups of 16 (one scale each) */
                for (int l = 0; l < 16; l++)
                    t0 += ((((ql[l] >> shift_l) & 0x0f) | (((qh[l] >> shift_h) & 3) << 4)) - 32) * aq[l];
                for (int l = 16; l < 32; l++)
                    t1 += ((((ql[l] >> shift_l) & 0x0f) | (((qh[l] >> shift_h) & 3) << 4)) - 32) * aq[l];
                const int sidx = 8 * half + 2 * g;
                acc += w[b].scales[sidx] * t0 + w[b].scales[sidx + 1] * t1;
            }
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)acc;
    }
    return sum;
}

static const lai_vecdot vd_q4_0 = {32, sizeof(lai_act_q8), quantize_q8, dot_q4_0};
static const lai_vecdot vd_q4_1 = {32, sizeof(lai_act_q8), quantize_q8, dot_q4_1};
static const lai_vecdot vd_q5_0 = {32, sizeof(lai_act_q8), quantize_q8, dot_q5_0};
static const lai_vecdot vd_q5_1 = {32, sizeof(lai_act_q8), quantize_q8, dot_q5_1};
static const lai_vecdot vd_q8_0 = {32, sizeof(lai_act_q8), quantize_q8, dot_q8_0};
static const lai_vecdot vd_q4_K = {256, sizeof(lai_act_q8k), quantize_q8k, dot_q4_K};
static const lai_vecdot vd_q5_K = {256, sizeof(lai_act_q8k), quantize_q8k, dot_q5_K};
static const lai_vecdot vd_q6_K = {256, sizeof(lai_act_q8k), quantize_q8k, dot_q6_K};

const lai_vecdot *lai_cpu_vecdot_get(uint32_t type) {
    switch (type) {
    case LAI_TYPE_Q4_0: return &vd_q4_0;
    case LAI_TYPE_Q4_1: return &vd_q4_1;
    case LAI_TYPE_Q5_0: return &vd_q5_0;
    case LAI_TYPE_Q5_1: return &vd_q5_1;
    case LAI_TYPE_Q8_0: return &vd_q8_0;
    case LAI_TYPE_Q4_K: return &vd_q4_K;
    case LAI_TYPE_Q5_K: return &vd_q5_K;
    case LAI_TYPE_Q6_K: return &vd_q6_K;
    default: return NULL;
    }
}
