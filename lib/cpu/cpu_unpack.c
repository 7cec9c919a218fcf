/* cpu_unpack.c - every quantized weight type as bytes with an offset plus per-sub-block scales and mins (for GEMM packing). */
#include "cpu_kernels.h"

#include "../quant/blocks.h"
#include "../quant/quant_k_impl.h"

/* See lai_weight_format in cpu_kernels.h: u = q + off, so that x = scale * (u - off) + min
 * (the min term meets the activation's own min term, not the bytes). Scales and mins are
 * the products llama.cpp's dot products form, rounded the same way (f16 to f32, then one
 * float multiply). */

static void unpack_q4_0(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_q4_0 *b = src;
    (void)min;
    for (int j = 0; j < 16; j++) {
        u[j] = b->qs[j] & 0x0f;
        u[j + 16] = b->qs[j] >> 4;
    }
    scale[0] = lai_f16_to_f32(b->d);
}

static void unpack_q4_1(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_q4_1 *b = src;
    for (int j = 0; j < 16; j++) {
        u[j] = b->qs[j] & 0x0f;
        u[j + 16] = b->qs[j] >> 4;
    }
    scale[0] = lai_f16_to_f32(b->d);
    min[0] = lai_f16_to_f32(b->m);
}

static void unpack_5bit(const uint8_t *qs, const uint8_t *qh_bytes, uint8_t *u) {
    const uint32_t qh = (uint32_t)qh_bytes[0] | (uint32_t)qh_bytes[1] << 8 |
                        (uint32_t)qh_bytes[2] << 16 | (uint32_t)qh_bytes[3] << 24;
    for (int j = 0; j < 16; j++) {
        u[j] = (uint8_t)((qs[j] & 0x0f) | (((qh >> j) & 1u) << 4));
        u[j + 16] = (uint8_t)((qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
    }
}

static void unpack_q5_0(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_q5_0 *b = src;
    (void)min;
    unpack_5bit(b->qs, b->qh, u);
    scale[0] = lai_f16_to_f32(b->d);
}

static void unpack_q5_1(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_q5_1 *b = src;
    unpack_5bit(b->qs, b->qh, u);
    scale[0] = lai_f16_to_f32(b->d);
    min[0] = lai_f16_to_f32(b->m);
}

static void unpack_q8_0(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_q8_0 *b = src;
    (void)min;
    for (int j = 0; j < 32; j++) u[j] = (uint8_t)(b->qs[j] + 128);
    scale[0] = lai_f16_to_f32(b->d);
}

static void unpack_iq4_nl(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_iq4_nl *b = src;
    (void)min;
    for (int j = 0; j < 16; j++) {
        u[j] = (uint8_t)(lai_iq4nl_values[b->qs[j] & 0x0f] + 128);
        u[j + 16] = (uint8_t)(lai_iq4nl_values[b->qs[j] >> 4] + 128);
    }
    scale[0] = lai_f16_to_f32(b->d);
}

static void unpack_q2_K(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_q2_K *b = src;
    const float d = lai_f16_to_f32(b->d), dmin = lai_f16_to_f32(b->dmin);
    for (int e = 0; e < 256; e++)
        u[e] = (uint8_t)((b->qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3);
    for (int j = 0; j < 16; j++) {
        scale[j] = d * (float)(b->scales[j] & 0x0f);
        min[j] = -dmin * (float)(b->scales[j] >> 4);
    }
}

static void unpack_q3_K(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_q3_K *b = src;
    (void)min;
    const float d = lai_f16_to_f32(b->d);
    for (int e = 0; e < 256; e++) {
        const int low = (b->qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
        const int high = (b->hmask[e % 32] >> (e / 32)) & 1;
        u[e] = (uint8_t)(low | (high << 2)); /* low - 4 * !high = u - 4 */
    }
    for (int j = 0; j < 16; j++) scale[j] = d * (float)lai_k3_scale(j, b->scales);
}

static void unpack_q45_K(const uint8_t *scales, uint16_t d16, uint16_t dmin16, const uint8_t *qs,
                         const uint8_t *qh, uint8_t *u, float *scale, float *min) {
    const float d = lai_f16_to_f32(d16), dmin = lai_f16_to_f32(dmin16);
    for (int s = 0; s < 8; s++) {
        uint8_t sc, m;
        lai_k4_scale_min(s, scales, &sc, &m);
        scale[s] = d * (float)sc;
        min[s] = -dmin * (float)m;
        const uint8_t *q = qs + 32 * (s / 2);
        const int shift = (s % 2) * 4;
        for (int l = 0; l < 32; l++)
            u[32 * s + l] = (uint8_t)(((q[l] >> shift) & 0x0f) | (qh ? ((qh[l] >> s) & 1) << 4 : 0));
    }
}

static void unpack_q4_K(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_q4_K *b = src;
    unpack_q45_K(b->scales, b->d, b->dmin, b->qs, NULL, u, scale, min);
}

static void unpack_q5_K(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_q5_K *b = src;
    unpack_q45_K(b->scales, b->d, b->dmin, b->qs, b->qh, u, scale, min);
}

static void unpack_q6_K(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_q6_K *b = src;
    (void)min;
    const float d = lai_f16_to_f32(b->d);
    for (int e = 0; e < 256; e++) {
        const int half = e / 128, g = (e % 128) / 32, l = e % 32;
        const uint8_t lo_byte = b->ql[64 * half + 32 * (g % 2) + l];
        const int low = g < 2 ? lo_byte & 0x0f : lo_byte >> 4;
        const int high = (b->qh[32 * half + l] >> (2 * g)) & 3;
        u[e] = (uint8_t)(low | (high << 4));
    }
    for (int j = 0; j < 16; j++) scale[j] = d * (float)b->scales[j];
}

static void unpack_iq4_xs(const void *src, uint8_t *u, float *scale, float *min) {
    const lai_block_iq4_xs *b = src;
    (void)min;
    const float d = lai_f16_to_f32(b->d);
    for (int s = 0; s < 8; s++) {
        const int ls = (((b->scales_l[s / 2] >> (4 * (s % 2))) & 0x0f) | (((b->scales_h >> (2 * s)) & 3) << 4)) - 32;
        scale[s] = d * (float)ls;
        const uint8_t *qs = b->qs + 16 * s;
        for (int j = 0; j < 16; j++) {
            u[32 * s + j] = (uint8_t)(lai_iq4nl_values[qs[j] & 0x0f] + 128);
            u[32 * s + j + 16] = (uint8_t)(lai_iq4nl_values[qs[j] >> 4] + 128);
        }
    }
}

static const lai_weight_format formats[LAI_TYPE_COUNT] = {
    [LAI_TYPE_Q4_0] = {LAI_ACT_Q8, 32, 8, 0, 32, unpack_q4_0},
    [LAI_TYPE_Q4_1] = {LAI_ACT_Q8, 32, 0, 1, 32, unpack_q4_1},
    [LAI_TYPE_Q5_0] = {LAI_ACT_Q8, 32, 16, 0, 32, unpack_q5_0},
    [LAI_TYPE_Q5_1] = {LAI_ACT_Q8, 32, 0, 1, 32, unpack_q5_1},
    [LAI_TYPE_Q8_0] = {LAI_ACT_Q8, 32, 128, 0, 32, unpack_q8_0},
    [LAI_TYPE_IQ4_NL] = {LAI_ACT_Q8, 32, 128, 0, 32, unpack_iq4_nl},
    [LAI_TYPE_Q2_K] = {LAI_ACT_Q8K, 16, 0, 1, 256, unpack_q2_K},
    [LAI_TYPE_Q3_K] = {LAI_ACT_Q8K, 16, 4, 0, 256, unpack_q3_K},
    [LAI_TYPE_Q4_K] = {LAI_ACT_Q8K, 32, 0, 1, 256, unpack_q4_K},
    [LAI_TYPE_Q5_K] = {LAI_ACT_Q8K, 32, 0, 1, 256, unpack_q5_K},
    [LAI_TYPE_Q6_K] = {LAI_ACT_Q8K, 16, 32, 0, 256, unpack_q6_K},
    [LAI_TYPE_IQ4_XS] = {LAI_ACT_Q8K, 32, 128, 0, 256, unpack_iq4_xs},
};

const lai_weight_format *lai_weight_format_get(uint32_t type) {
    return type < LAI_TYPE_COUNT && formats[type].unpack != NULL ? &formats[type] : NULL;
}

size_t lai_act_row_bytes(int act, int64_t K) {
    if (act == LAI_ACT_Q8) return (size_t)(K / 32) * sizeof(lai_act_q8);
    if (act == LAI_ACT_Q8K) return (size_t)(K / 256) * sizeof(lai_act_q8k);
    return (size_t)K * sizeof(float);
}

size_t lai_gemm_tile_bytes(int cols, const lai_weight_format *fmt, int64_t K) {
    const size_t per_sub = (size_t)fmt->sub / 4 * (size_t)cols * 4 + 3 * (size_t)cols * 4;
    return (size_t)(K / fmt->sub) * per_sub;
}

/* Activation bytes, scale, sum and min term of sub-block b of one column. */
static void act_sub(const lai_weight_format *fmt, const uint8_t *col, int64_t b, const int8_t **qs,
                    float *d, int32_t *isum, float *amin) {
    if (fmt->act == LAI_ACT_Q8) {
        const lai_act_q8 *a = (const lai_act_q8 *)col + b;
        *qs = a->qs;
        *d = a->d;
        *isum = a->sum;
        *amin = a->s;
    } else {
        const int64_t e = b * fmt->sub;
        const lai_act_q8k *a = (const lai_act_q8k *)col + e / 256;
        const int j = (int)(e % 256) / 16;
        *qs = a->qs + e % 256;
        *d = a->d;
        *isum = fmt->sub == 32 ? a->bsums[j] + a->bsums[j + 1] : a->bsums[j];
        *amin = a->d * (float)*isum;
    }
}

void lai_gemm_pack_act(int cols, const lai_weight_format *fmt, const uint8_t *act, size_t act_stride,
                       int64_t K, int n, void *tile) {
    const int G = fmt->sub / 4;
    const size_t group = (size_t)cols * 4, sb_bytes = (size_t)G * group + 3 * group;
    uint8_t *t = tile;
    for (int64_t b = 0; b < K / fmt->sub; b++, t += sb_bytes) {
        float *dv = (float *)(void *)(t + (size_t)G * group);
        int32_t *sv = (int32_t *)(void *)(dv + cols);
        float *mv = (float *)(void *)(sv + cols);
        for (int c = 0; c < cols; c++) {
            if (c >= n) {
                for (int g = 0; g < G; g++) memset(t + group * (size_t)g + 4 * (size_t)c, 0, 4);
                dv[c] = 0.0f;
                sv[c] = 0;
                mv[c] = 0.0f;
                continue;
            }
            const int8_t *qs;
            act_sub(fmt, act + (size_t)c * act_stride, b, &qs, &dv[c], &sv[c], &mv[c]);
            for (int g = 0; g < G; g++) memcpy(t + group * (size_t)g + 4 * (size_t)c, qs + 4 * g, 4);
        }
    }
}
