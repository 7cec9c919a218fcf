/* quant_ref.h - the reference (scalar) row conversions behind the type-traits table. */
#ifndef LAI_QUANT_REF_H
#define LAI_QUANT_REF_H

#include "quant.h"
#include "blocks.h"

/* Each dequantizer reads n / block_size whole blocks from src and writes n floats; each
 * quantizer does the reverse. n must be a multiple of the block size (callers check with
 * lai_type_row_bytes); these are the plain reference versions, kept readable on purpose:
 * SIMD kernels are tested against them. */
#define LAI_DECLARE_ROW_FNS(name)                                            \
    void lai_dequantize_row_##name(const void *src, float *dst, int64_t n); \
    void lai_quantize_row_##name(const float *src, void *dst, int64_t n);

LAI_DECLARE_ROW_FNS(f32)
LAI_DECLARE_ROW_FNS(f16)
LAI_DECLARE_ROW_FNS(bf16)
LAI_DECLARE_ROW_FNS(q4_0)
LAI_DECLARE_ROW_FNS(q4_1)
LAI_DECLARE_ROW_FNS(q5_0)
LAI_DECLARE_ROW_FNS(q5_1)
LAI_DECLARE_ROW_FNS(q8_0)
LAI_DECLARE_ROW_FNS(q8_1)
LAI_DECLARE_ROW_FNS(q2_K)
LAI_DECLARE_ROW_FNS(q3_K)
LAI_DECLARE_ROW_FNS(q4_K)
LAI_DECLARE_ROW_FNS(q5_K)
LAI_DECLARE_ROW_FNS(q6_K)
LAI_DECLARE_ROW_FNS(q8_K)
/* IQ4 quantizers are not written yet: dequantize only. */
void lai_dequantize_row_iq4_nl(const void *src, float *dst, int64_t n);
void lai_dequantize_row_iq4_xs(const void *src, float *dst, int64_t n);

#undef LAI_DECLARE_ROW_FNS

/* C's float-to-integer conversion is undefined outside the target range (NaN, Inf, huge
 * weights in a damaged file). llama.cpp's quantizers convert through a 32-bit int, so
 * this does the same for every in-range value and saturates the rest (NaN gives 0). */
static inline int32_t lai_trunc_i32(float v) {
    if (!(v == v)) return 0;
    if (v >= 2147483647.0f) return INT32_MAX;
    if (v <= -2147483648.0f) return INT32_MIN;
    return (int32_t)v;
}

/* The low byte of an int, as a cast of the 32-bit value to int8_t gives on every
 * two's-complement target, written without implementation-defined conversions. */
static inline int8_t lai_low_i8(int32_t v) {
    uint8_t u = (uint8_t)((uint32_t)v & 0xffu);
    return (int8_t)(u < 128 ? (int)u : (int)u - 256);
}

#endif /* LAI_QUANT_REF_H */
