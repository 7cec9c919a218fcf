/* quant.h - tensor element types: one table of traits, reference (scalar) conversions. */
#ifndef LAI_QUANT_H
#define LAI_QUANT_H

#include "../base/base.h"

/* Type ids as stored in GGUF tensor infos (the ggml numbering). */
enum {
    LAI_TYPE_F32 = 0,
    LAI_TYPE_F16 = 1,
    LAI_TYPE_Q4_0 = 2,
    LAI_TYPE_Q4_1 = 3,
    LAI_TYPE_Q5_0 = 6,
    LAI_TYPE_Q5_1 = 7,
    LAI_TYPE_Q8_0 = 8,
    LAI_TYPE_Q8_1 = 9,
    LAI_TYPE_Q2_K = 10,
    LAI_TYPE_Q3_K = 11,
    LAI_TYPE_Q4_K = 12,
    LAI_TYPE_Q5_K = 13,
    LAI_TYPE_Q6_K = 14,
    LAI_TYPE_Q8_K = 15,
    LAI_TYPE_IQ2_XXS = 16,
    LAI_TYPE_IQ2_XS = 17,
    LAI_TYPE_IQ3_XXS = 18,
    LAI_TYPE_IQ1_S = 19,
    LAI_TYPE_IQ4_NL = 20,
    LAI_TYPE_IQ3_S = 21,
    LAI_TYPE_IQ2_S = 22,
    LAI_TYPE_IQ4_XS = 23,
    LAI_TYPE_I8 = 24,
    LAI_TYPE_I16 = 25,
    LAI_TYPE_I32 = 26,
    LAI_TYPE_I64 = 27,
    LAI_TYPE_F64 = 28,
    LAI_TYPE_IQ1_M = 29,
    LAI_TYPE_BF16 = 30,
    LAI_TYPE_TQ1_0 = 34,
    LAI_TYPE_TQ2_0 = 35,
    LAI_TYPE_COUNT = 39
};

typedef void (*lai_to_float_fn)(const void *src, float *dst, int64_t n);
typedef void (*lai_from_float_fn)(const float *src, void *dst, int64_t n);

typedef struct lai_type_traits {
    const char *name;          /* "q4_K" as llama.cpp writes it */
    uint32_t block_size;       /* elements per block */
    uint32_t type_size;        /* bytes per block */
    int is_quantized;
    lai_to_float_fn to_float;      /* reference dequantize, NULL if not supported */
    lai_from_float_fn from_float;  /* reference quantize, NULL if not supported */
    uint32_t align;            /* address alignment a block (or element) needs to be read */
} lai_type_traits;

/* Traits of a type id, or NULL for ids this build does not know (the GGUF reader rejects
 * those with a message naming the tensor). Known but unsupported types have traits with
 * NULL conversions so files can still be inspected. */
const lai_type_traits *lai_type_get(uint32_t type);
/* Bytes of `n_elements` of `type`; BAD_FORMAT if n is not a whole number of blocks,
 * INVALID_ARGUMENT on overflow or unknown type. */
localai_status lai_type_row_bytes(uint32_t type, uint64_t n_elements, uint64_t *out);

/* IEEE half and bfloat16 conversions (exact, round-to-nearest-even). */
float lai_f16_to_f32(uint16_t h);
uint16_t lai_f32_to_f16(float f);
float lai_bf16_to_f32(uint16_t h);
uint16_t lai_f32_to_bf16(float f);

#endif /* LAI_QUANT_H */
