/* cpu_vecdot.c - the scalar reference of the integer path: activation rounding and a dot per weight type. */
#include "cpu_vecdot.h"

#include <math.h>

#include "../quant/blocks.h"
#include "../quant/quant.h"
#include "../quant/quant_k_impl.h"
#include "cpu_ops.h"

static float f16_round(float x) { return lai_cpu_f16(lai_f32_to_f16(x)); }

void lai_quantize_act_q8(const float *x, void *out, int64_t n) {
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
        a[b].sum = sum;
        a[b].unused = 0;
    }
}

/* Scale from the signed value of largest magnitude, so that value maps to -127 exactly. */
void lai_quantize_act_q8k(const float *x, void *out, int64_t n) {
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
        memset(a[b].unused, 0, sizeof a[b].unused);
    }
}

float lai_vec_dot_q4_0(const void *wr, const void *ar, int64_t n) {
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

float lai_vec_dot_q4_1(const void *wr, const void *ar, int64_t n) {
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

float lai_vec_dot_q5_0(const void *wr, const void *ar, int64_t n) {
    const lai_block_q5_0 *w = wr;
    const lai_act_q8 *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        int32_t s = dot5_block(w[b].qs, w[b].qh, a[b].qs, 16);
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)s;
    }
    return sum;
}

float lai_vec_dot_q5_1(const void *wr, const void *ar, int64_t n) {
    const lai_block_q5_1 *w = wr;
    const lai_act_q8 *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        int32_t s = dot5_block(w[b].qs, w[b].qh, a[b].qs, 0);
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)s + lai_cpu_f16(w[b].m) * a[b].s;
    }
    return sum;
}

float lai_vec_dot_q8_0(const void *wr, const void *ar, int64_t n) {
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

float lai_vec_dot_q4_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q4_K *w = wr;
    const lai_act_q8k *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++)
        sum += dot_q45_K(w[b].scales, w[b].d, w[b].dmin, w[b].qs, NULL, &a[b]);
    return sum;
}

float lai_vec_dot_q5_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q5_K *w = wr;
    const lai_act_q8k *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++)
        sum += dot_q45_K(w[b].scales, w[b].d, w[b].dmin, w[b].qs, w[b].qh, &a[b]);
    return sum;
}

float lai_vec_dot_q6_K(const void *wr, const void *ar, int64_t n) {
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


/* Q2_K: x = d * sc * q - dmin * m per sub-block of 16, q 2-bit; the mins only need the
 * activation sums of each 16. */
float lai_vec_dot_q2_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q2_K *w = wr;
    const lai_act_q8k *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) {
        int32_t sum_m = 0, sum_q = 0;
        for (int j = 0; j < 16; j++) sum_m += (w[b].scales[j] >> 4) * a[b].bsums[j];
        for (int e0 = 0; e0 < 256; e0 += 16) {
            int32_t t = 0;
            for (int e = e0; e < e0 + 16; e++)
                t += ((w[b].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3) * a[b].qs[e];
            sum_q += (w[b].scales[e0 / 16] & 0x0f) * t;
        }
        sum += a[b].d * (lai_cpu_f16(w[b].d) * (float)sum_q - lai_cpu_f16(w[b].dmin) * (float)sum_m);
    }
    return sum;
}

/* Q3_K: x = d * sc * (q - 4 * !hbit) per sub-block of 16, sc signed 6-bit. */
float lai_vec_dot_q3_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q3_K *w = wr;
    const lai_act_q8k *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) {
        int32_t acc = 0;
        for (int e0 = 0; e0 < 256; e0 += 16) {
            int32_t t = 0;
            for (int e = e0; e < e0 + 16; e++) {
                const int low = (w[b].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
                const int high = (w[b].hmask[e % 32] >> (e / 32)) & 1;
                t += (low - (high ? 0 : 4)) * a[b].qs[e];
            }
            acc += lai_k3_scale(e0 / 16, w[b].scales) * t;
        }
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)acc;
    }
    return sum;
}

float lai_vec_dot_iq4_nl(const void *wr, const void *ar, int64_t n) {
    const lai_block_iq4_nl *w = wr;
    const lai_act_q8 *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        int32_t s = 0;
        for (int j = 0; j < 16; j++)
            s += lai_iq4nl_values[w[b].qs[j] & 0x0f] * a[b].qs[j] +
                 lai_iq4nl_values[w[b].qs[j] >> 4] * a[b].qs[j + 16];
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)s;
    }
    return sum;
}

/* IQ4_XS: x = d * (ls - 32) * value(q) per sub-block of 32, ls 6-bit. */
float lai_vec_dot_iq4_xs(const void *wr, const void *ar, int64_t n) {
    const lai_block_iq4_xs *w = wr;
    const lai_act_q8k *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) {
        int32_t acc = 0;
        for (int s = 0; s < 8; s++) {
            const int ls = (((w[b].scales_l[s / 2] >> (4 * (s % 2))) & 0x0f) |
                            (((w[b].scales_h >> (2 * s)) & 3) << 4)) - 32;
            const uint8_t *qs = w[b].qs + 16 * s;
            const int8_t *aq = a[b].qs + 32 * s;
            int32_t t = 0;
            for (int j = 0; j < 16; j++)
                t += lai_iq4nl_values[qs[j] & 0x0f] * aq[j] + lai_iq4nl_values[qs[j] >> 4] * aq[j + 16];
            acc += ls * t;
        }
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)acc;
    }
    return sum;
}
