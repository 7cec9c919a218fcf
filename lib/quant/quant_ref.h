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
LAI_DECLARE_ROW_FNS(iq4_nl)
LAI_DECLARE_ROW_FNS(iq4_xs)

#undef LAI_DECLARE_ROW_FNS

#endif /* LAI_QUANT_REF_H */
