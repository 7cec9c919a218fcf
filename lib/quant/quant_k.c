/* quant_k.c - layouts and reference dequantizers of the K-quants (Q2_K..Q6_K, Q8_K). */
#include "quant_k_impl.h"

/* All K-quants work on super-blocks of 256 elements with one or two f16 super-scales
 * (d, and dmin for the formats with an offset) and small per-sub-block integer scales.
 * Element e of a super-block is described below by where its bits live; the packing looks
 * odd because it was chosen so SIMD code can unpack 32 or 64 neighbouring elements with
 * one shift and mask.
 *
 * Q2_K (84 bytes: scales[16] qs[64] d dmin), 16 sub-blocks of 16:
 *   q  = (qs[32*(e/128) + e%32] >> (2 * ((e%128)/32))) & 3
 *   sc = scales[e/16] & 15, m = scales[e/16] >> 4
 *   x  = d*sc * q - dmin*m
 *
 * Q3_K (110 bytes: hmask[32] qs[64] scales[12] d), 16 sub-blocks of 16:
 *   low 2 bits as Q2_K; the third bit is bit e/32 of hmask[e%32], stored inverted:
 *   q  = low - (bit set ? 0 : 4), a value in -4..3
 *   the 6-bit scale of sub-block s: its low 4 bits are the low nibble of scales[s] (s < 8)
 *   or the high nibble of scales[s-8] (s >= 8); its high 2 bits are bits 2*(s/4)..+1 of
 *   scales[8 + s%4]; the scale is that 6-bit value minus 32
 *   x  = d*(scale) * q
 *
 * Q4_K (144 bytes: d dmin scales[12] qs[128]), 8 sub-blocks of 32:
 *   64-element chunk c = e/64 uses qs[32c .. 32c+31]: its first 32 elements are the low
 *   nibbles, the next 32 the high nibbles
 *   6-bit scale sc and min m of sub-block s (see k4_scale_min): for s < 4, the low 6 bits
 *   of scales[s] and scales[s+4]; for s >= 4, the low 4 bits come from the nibbles of
 *   scales[s+4] (scale low, min high) and the top 2 bits from bits 6-7 of scales[s-4]
 *   (scale) and scales[s] (min)
 *   x  = d*sc * q - dmin*m
 *
 * Q5_K (176 bytes: d dmin scales[12] qh[32] qs[128]): Q4_K plus a fifth bit: bit e/32 of
 *   qh[e%32] adds 16 to q.
 *
 * Q6_K (210 bytes: ql[128] qh[64] scales[16] d), 16 sub-blocks of 16, signed 8-bit scales:
 *   with n = e/128, g = (e%128)/32, l = e%32:
 *   low 4 bits: g = 0: ql[64n + l] & 15, g = 1: ql[64n + 32 + l] & 15,
 *               g = 2: ql[64n + l] >> 4,  g = 3: ql[64n + 32 + l] >> 4
 *   high 2 bits: (qh[32n + l] >> 2g) & 3
 *   x  = d*scales[e/16] * (q - 32)
 *
 * Q8_K (292 bytes: f32 d, qs[256] int8, bsums[16] int16): x = d * qs[e]; bsums are the
 *   sums of each 16 qs, kept for dot products.
 *
 * The float expressions below are grouped as llama.cpp groups them (scale products
 * first), so the results are bit-identical to its dequantizers. */

#define QK_K LAI_QK_K

void lai_k4_scale_min(int s, const uint8_t *scales, uint8_t *sc, uint8_t *m) {
    if (s < 4) {
        *sc = scales[s] & 63;
        *m = scales[s + 4] & 63;
    } else {
        *sc = (uint8_t)((scales[s + 4] & 0x0f) | ((scales[s - 4] >> 6) << 4));
        *m = (uint8_t)((scales[s + 4] >> 4) | ((scales[s] >> 6) << 4));
    }
}

int lai_k3_scale(int s, const uint8_t *scales) {
    int low = s < 8 ? scales[s] & 0x0f : scales[s - 8] >> 4;
    int high = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
    return (low | (high << 4)) - 32;
}

void lai_dequantize_row_q2_K(const void *src, float *dst, int64_t n) {
    const lai_block_q2_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        const float d = lai_f16_to_f32(b[i].d);
        const float dmin = lai_f16_to_f32(b[i].dmin);
        for (int e = 0; e < QK_K; e++) {
            const uint8_t sc = b[i].scales[e / 16];
            const int q = (b[i].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
            const float dl = d * (float)(sc & 0x0f), ml = dmin * (float)(sc >> 4);
            dst[e] = dl * (float)q - ml;
        }
    }
}

void lai_dequantize_row_q3_K(const void *src, float *dst, int64_t n) {
    const lai_block_q3_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        const float d = lai_f16_to_f32(b[i].d);
        for (int e = 0; e < QK_K; e++) {
            const int low = (b[i].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
            const int high_set = (b[i].hmask[e % 32] >> (e / 32)) & 1;
            const float dl = d * (float)lai_k3_scale(e / 16, b[i].scales);
            dst[e] = dl * (float)(low - (high_set ? 0 : 4));
        }
    }
}

void lai_dequantize_row_q4_K(const void *src, float *dst, int64_t n) {
    const lai_block_q4_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        const float d = lai_f16_to_f32(b[i].d);
        const float dmin = lai_f16_to_f32(b[i].dmin);
        for (int s = 0; s < QK_K / 32; s++) {
            uint8_t sc, m;
            lai_k4_scale_min(s, b[i].scales, &sc, &m);
            const float dl = d * (float)sc, ml = dmin * (float)m;
            const uint8_t *qs = b[i].qs + 32 * (s / 2);
            const int shift = (s % 2) * 4;
            for (int l = 0; l < 32; l++) dst[32 * s + l] = dl * (float)((qs[l] >> shift) & 0x0f) - ml;
        }
    }
}

void lai_dequantize_row_q5_K(const void *src, float *dst, int64_t n) {
    const lai_block_q5_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        const float d = lai_f16_to_f32(b[i].d);
        const float dmin = lai_f16_to_f32(b[i].dmin);
        for (int s = 0; s < QK_K / 32; s++) {
            uint8_t sc, m;
            lai_k4_scale_min(s, b[i].scales, &sc, &m);
            const float dl = d * (float)sc, ml = dmin * (float)m;
            const uint8_t *qs = b[i].qs + 32 * (s / 2);
            const int shift = (s % 2) * 4;
            for (int l = 0; l < 32; l++) {
                const int q = ((qs[l] >> shift) & 0x0f) + (((b[i].qh[l] >> s) & 1) << 4);
                dst[32 * s + l] = dl * (float)q - ml;
            }
        }
    }
}

void lai_dequantize_row_q6_K(const void *src, float *dst, int64_t n) {
    const lai_block_q6_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        const float d = lai_f16_to_f32(b[i].d);
        for (int e = 0; e < QK_K; e++) {
            const int half = e / 128, g = (e % 128) / 32, l = e % 32;
            const uint8_t lo_byte = b[i].ql[64 * half + 32 * (g % 2) + l];
            const int low = g < 2 ? lo_byte & 0x0f : lo_byte >> 4;
            const int high = (b[i].qh[32 * half + l] >> (2 * g)) & 3;
            dst[e] = d * (float)b[i].scales[e / 16] * (float)((low | (high << 4)) - 32);
        }
    }
}

void lai_dequantize_row_q8_K(const void *src, float *dst, int64_t n) {
    const lai_block_q8_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K)
        for (int e = 0; e < QK_K; e++) dst[e] = b[i].d * (float)b[i].qs[e];
}
