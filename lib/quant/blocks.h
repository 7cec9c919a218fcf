/* blocks.h - byte layouts of the quantized block formats (the ggml/GGUF on-disk structs). */
#ifndef LAI_QUANT_BLOCKS_H
#define LAI_QUANT_BLOCKS_H

#include <stdint.h>

/* Every struct here has only byte and 16-bit members (plus one float in q8_K) laid out so
 * that no padding arises; the static asserts at the end pin the sizes to the file format.
 * f16 fields are raw IEEE half bits (lai_f16_to_f32). */

#define LAI_QK32 32   /* elements per block of the legacy formats and IQ4_NL */
#define LAI_QK_K 256  /* elements per super-block of the K-quants and IQ4_XS */
#define LAI_K_SCALE_BYTES 12 /* packed 6-bit scales and mins of Q4_K / Q5_K */

/* Q4_0: x = d * (q - 8), q 4-bit. Element j (< 16) is the low nibble of qs[j], element
 * j + 16 the high nibble of qs[j]. */
typedef struct lai_block_q4_0 {
    uint16_t d;
    uint8_t qs[LAI_QK32 / 2];
} lai_block_q4_0;

/* Q4_1: x = d * q + m, q 4-bit, nibble order as Q4_0. */
typedef struct lai_block_q4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[LAI_QK32 / 2];
} lai_block_q4_1;

/* Q5_0: x = d * (q - 16), q 5-bit: low 4 bits as Q4_0's nibbles, the fifth bit of element
 * j is bit j of qh read as a little-endian 32-bit word. */
typedef struct lai_block_q5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[LAI_QK32 / 2];
} lai_block_q5_0;

/* Q5_1: x = d * q + m, q 5-bit, bits placed as Q5_0. */
typedef struct lai_block_q5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[LAI_QK32 / 2];
} lai_block_q5_1;

/* Q8_0: x = d * q, q a signed byte. */
typedef struct lai_block_q8_0 {
    uint16_t d;
    int8_t qs[LAI_QK32];
} lai_block_q8_0;

/* Q8_1: as Q8_0 plus s = d * sum(q), used only as the activation side of dot products. */
typedef struct lai_block_q8_1 {
    uint16_t d;
    uint16_t s;
    int8_t qs[LAI_QK32];
} lai_block_q8_1;

/* Q2_K: 16 sub-blocks of 16. scales[i]: low nibble = scale, high nibble = min of sub-block
 * i; x = d * scale * q - dmin * min, q 2-bit. See quant_k.c for the bit order of qs. */
typedef struct lai_block_q2_K {
    uint8_t scales[LAI_QK_K / 16];
    uint8_t qs[LAI_QK_K / 4];
    uint16_t d;
    uint16_t dmin;
} lai_block_q2_K;

/* Q3_K: 16 sub-blocks of 16 with signed 6-bit scales packed in 12 bytes; q is 3-bit with
 * its high bit in hmask (stored inverted: a clear bit subtracts 4). See quant_k.c. */
typedef struct lai_block_q3_K {
    uint8_t hmask[LAI_QK_K / 8];
    uint8_t qs[LAI_QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
} lai_block_q3_K;

/* Q4_K: 8 sub-blocks of 32, 6-bit scale and min each packed in 12 bytes;
 * x = d * scale * q - dmin * min, q 4-bit. See quant_k.c. */
typedef struct lai_block_q4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[LAI_K_SCALE_BYTES];
    uint8_t qs[LAI_QK_K / 2];
} lai_block_q4_K;

/* Q5_K: Q4_K plus a fifth bit per element in qh. */
typedef struct lai_block_q5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[LAI_K_SCALE_BYTES];
    uint8_t qh[LAI_QK_K / 8];
    uint8_t qs[LAI_QK_K / 2];
} lai_block_q5_K;

/* Q6_K: 16 sub-blocks of 16 with signed 8-bit scales; x = d * scale * (q - 32), q 6-bit
 * split into 4 low bits (ql) and 2 high bits (qh). See quant_k.c. */
typedef struct lai_block_q6_K {
    uint8_t ql[LAI_QK_K / 2];
    uint8_t qh[LAI_QK_K / 4];
    int8_t scales[LAI_QK_K / 16];
    uint16_t d;
} lai_block_q6_K;

/* Q8_K: float scale, signed bytes, and sums of each group of 16 (dot-product helper). */
typedef struct lai_block_q8_K {
    float d;
    int8_t qs[LAI_QK_K];
    int16_t bsums[LAI_QK_K / 16];
} lai_block_q8_K;

/* IQ4_NL: x = d * lai_iq4nl_values[q], q 4-bit with Q4_0's nibble order. */
typedef struct lai_block_iq4_nl {
    uint16_t d;
    uint8_t qs[LAI_QK32 / 2];
} lai_block_iq4_nl;

/* IQ4_XS: 8 sub-blocks of 32 with 6-bit scales (low 4 bits in scales_l, high 2 bits in
 * scales_h); x = d * (scale - 32) * lai_iq4nl_values[q]. See quant_iq4.c. */
typedef struct lai_block_iq4_xs {
    uint16_t d;
    uint16_t scales_h;
    uint8_t scales_l[LAI_QK_K / 64];
    uint8_t qs[LAI_QK_K / 2];
} lai_block_iq4_xs;

_Static_assert(sizeof(lai_block_q4_0) == 18, "q4_0 block size");
_Static_assert(sizeof(lai_block_q4_1) == 20, "q4_1 block size");
_Static_assert(sizeof(lai_block_q5_0) == 22, "q5_0 block size");
_Static_assert(sizeof(lai_block_q5_1) == 24, "q5_1 block size");
_Static_assert(sizeof(lai_block_q8_0) == 34, "q8_0 block size");
_Static_assert(sizeof(lai_block_q8_1) == 36, "q8_1 block size");
_Static_assert(sizeof(lai_block_q2_K) == 84, "q2_K block size");
_Static_assert(sizeof(lai_block_q3_K) == 110, "q3_K block size");
_Static_assert(sizeof(lai_block_q4_K) == 144, "q4_K block size");
_Static_assert(sizeof(lai_block_q5_K) == 176, "q5_K block size");
_Static_assert(sizeof(lai_block_q6_K) == 210, "q6_K block size");
_Static_assert(sizeof(lai_block_q8_K) == 292, "q8_K block size");
_Static_assert(sizeof(lai_block_iq4_nl) == 18, "iq4_nl block size");
_Static_assert(sizeof(lai_block_iq4_xs) == 136, "iq4_xs block size");

/* The 16 non-uniform levels shared by IQ4_NL and IQ4_XS. */
extern const int8_t lai_iq4nl_values[16];

#endif /* LAI_QUANT_BLOCKS_H */
