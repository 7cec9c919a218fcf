/* quant_legacy.c - the 32-element block formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1. */
#include "quant_ref.h"

#include <float.h>
#include <math.h>

/* Layouts (all little-endian, one block = 32 consecutive elements of a row):
 *
 *   Q4_0  d:f16 | qs[16]            x[j] = d * (q[j] - 8)
 *   Q4_1  d:f16 m:f16 | qs[16]      x[j] = d * q[j] + m
 *   Q5_0  d:f16 | qh[4] | qs[16]    x[j] = d * (q[j] - 16)
 *   Q5_1  d:f16 m:f16 | qh[4] | qs[16]   x[j] = d * q[j] + m
 *   Q8_0  d:f16 | qs[32] int8       x[j] = d * qs[j]
 *   Q8_1  d:f16 s:f16 | qs[32] int8 x[j] = d * qs[j]   (s = d * sum of qs)
 *
 * The 4-bit codes are not interleaved pairwise: byte qs[i] holds element i in its low
 * nibble and element i + 16 in its high nibble, so the first half of the block sits in
 * the low nibbles. In the 5-bit formats, qh is one little-endian 32-bit word whose bit j
 * is the fifth (value 16) bit of element j.
 *
 * The quantizers reproduce llama.cpp's reference quantizers (quantize_row_*_ref)
 * operation for operation, so a file we quantize has the bytes llama.cpp would write:
 * the symmetric formats take the scale from the element of largest magnitude *with its
 * sign* (d = max / -8 for Q4_0), which uses the one extra negative level fully. */

#define QK LAI_QK32

static int8_t min_i8(int8_t v, int8_t hi) {
    return v < hi ? v : hi;
}

static uint32_t load_u32_le(const uint8_t b[4]) {
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static void store_u32_le(uint8_t b[4], uint32_t v) {
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

/* The element of largest magnitude, signed; 0 for an all-zero block. Ties keep the first. */
static float signed_absmax(const float *x) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

static void min_max(const float *x, float *out_min, float *out_max) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < QK; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    *out_min = min;
    *out_max = max;
}

/* ---- Q4_0 ------------------------------------------------------------------------ */

void lai_dequantize_row_q4_0(const void *src, float *dst, int64_t n) {
    const lai_block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = lai_f16_to_f32(b[i].d);
        for (int j = 0; j < QK / 2; j++) {
            dst[j] = (float)((b[i].qs[j] & 0x0f) - 8) * d;
            dst[j + QK / 2] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void lai_quantize_row_q4_0(const float *src, void *dst, int64_t n) {
    lai_block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        const float d = signed_absmax(src) / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = lai_f32_to_f16(d);
        for (int j = 0; j < QK / 2; j++) {
            /* x*id lies in [-8, 8]; +8.5 then truncation rounds half up, 16 clamps to 15 */
            const int8_t q0 = min_i8(lai_low_i8(lai_trunc_i32(src[j] * id + 8.5f)), 15);
            const int8_t q1 = min_i8(lai_low_i8(lai_trunc_i32(src[j + QK / 2] * id + 8.5f)), 15);
            b[i].qs[j] = (uint8_t)((uint8_t)q0 | ((uint8_t)q1 << 4));
        }
    }
}

/* ---- Q4_1 ------------------------------------------------------------------------ */

void lai_dequantize_row_q4_1(const void *src, float *dst, int64_t n) {
    const lai_block_q4_1 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = lai_f16_to_f32(b[i].d);
        const float m = lai_f16_to_f32(b[i].m);
        for (int j = 0; j < QK / 2; j++) {
            dst[j] = (float)(b[i].qs[j] & 0x0f) * d + m;
            dst[j + QK / 2] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void lai_quantize_row_q4_1(const float *src, void *dst, int64_t n) {
    lai_block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float min, max;
        min_max(src, &min, &max);
        const float d = (max - min) / 15;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = lai_f32_to_f16(d);
        b[i].m = lai_f32_to_f16(min);
        for (int j = 0; j < QK / 2; j++) {
            const int8_t q0 = min_i8(lai_low_i8(lai_trunc_i32((src[j] - min) * id + 0.5f)), 15);
            const int8_t q1 = min_i8(lai_low_i8(lai_trunc_i32((src[j + QK / 2] - min) * id + 0.5f)), 15);
            b[i].qs[j] = (uint8_t)((uint8_t)q0 | ((uint8_t)q1 << 4));
        }
    }
}

/* ---- Q5_0 ------------------------------------------------------------------------ */

void lai_dequantize_row_q5_0(const void *src, float *dst, int64_t n) {
    const lai_block_q5_0 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = lai_f16_to_f32(b[i].d);
        const uint32_t qh = load_u32_le(b[i].qh);
        for (int j = 0; j < QK / 2; j++) {
            const int q0 = (b[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            const int q1 = (b[i].qs[j] >> 4) | (int)(((qh >> (j + QK / 2)) & 1u) << 4);
            dst[j] = (float)(q0 - 16) * d;
            dst[j + QK / 2] = (float)(q1 - 16) * d;
        }
    }
}

void lai_quantize_row_q5_0(const float *src, void *dst, int64_t n) {
    lai_block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        const float d = signed_absmax(src) / -16;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = lai_f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            const uint8_t q0 = (uint8_t)min_i8(lai_low_i8(lai_trunc_i32(src[j] * id + 16.5f)), 31);
            const uint8_t q1 = (uint8_t)min_i8(lai_low_i8(lai_trunc_i32(src[j + QK / 2] * id + 16.5f)), 31);
            b[i].qs[j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1u) << j;
            qh |= (uint32_t)((q1 >> 4) & 1u) << (j + QK / 2);
        }
        store_u32_le(b[i].qh, qh);
    }
}

/* ---- Q5_1 ------------------------------------------------------------------------ */

void lai_dequantize_row_q5_1(const void *src, float *dst, int64_t n) {
    const lai_block_q5_1 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = lai_f16_to_f32(b[i].d);
        const float m = lai_f16_to_f32(b[i].m);
        const uint32_t qh = load_u32_le(b[i].qh);
        for (int j = 0; j < QK / 2; j++) {
            const int q0 = (b[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            const int q1 = (b[i].qs[j] >> 4) | (int)(((qh >> (j + QK / 2)) & 1u) << 4);
            dst[j] = (float)q0 * d + m;
            dst[j + QK / 2] = (float)q1 * d + m;
        }
    }
}

void lai_quantize_row_q5_1(const float *src, void *dst, int64_t n) {
    lai_block_q5_1 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float min, max;
        min_max(src, &min, &max);
        const float d = (max - min) / 31;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = lai_f32_to_f16(d);
        b[i].m = lai_f32_to_f16(min);
        uint32_t qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            /* llama.cpp does not clamp here: (x - min) * id <= 31 + rounding, and the
             * conversion truncates, so the code stays within 5 bits for finite input */
            const uint8_t q0 = (uint8_t)lai_trunc_i32((src[j] - min) * id + 0.5f);
            const uint8_t q1 = (uint8_t)lai_trunc_i32((src[j + QK / 2] - min) * id + 0.5f);
            b[i].qs[j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1u) << j;
            qh |= (uint32_t)((q1 >> 4) & 1u) << (j + QK / 2);
        }
        store_u32_le(b[i].qh, qh);
    }
}

/* ---- Q8_0 / Q8_1 ----------------------------------------------------------------- */

void lai_dequantize_row_q8_0(const void *src, float *dst, int64_t n) {
    const lai_block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = lai_f16_to_f32(b[i].d);
        for (int j = 0; j < QK; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

static float abs_max(const float *x) {
    float amax = 0.0f;
    for (int j = 0; j < QK; j++) amax = LAI_MAX(amax, fabsf(x[j]));
    return amax;
}

void lai_quantize_row_q8_0(const float *src, void *dst, int64_t n) {
    lai_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        const float d = abs_max(src) / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = lai_f32_to_f16(d);
        for (int j = 0; j < QK; j++) b[i].qs[j] = lai_low_i8(lai_trunc_i32(roundf(src[j] * id)));
    }
}

void lai_dequantize_row_q8_1(const void *src, float *dst, int64_t n) {
    const lai_block_q8_1 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        const float d = lai_f16_to_f32(b[i].d);
        for (int j = 0; j < QK; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

void lai_quantize_row_q8_1(const float *src, void *dst, int64_t n) {
    lai_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        const float d = abs_max(src) / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = lai_f32_to_f16(d);
        int sum = 0;
        for (int j = 0; j < QK; j++) {
            b[i].qs[j] = lai_low_i8(lai_trunc_i32(roundf(src[j] * id)));
            sum += b[i].qs[j];
        }
        b[i].s = lai_f32_to_f16((float)sum * d);
    }
}
