// dequant.glsl - element i of a row of weights in their block format, read from src0 at byte
// address `row`, for the type named by the build: -DTYPE_F32, -DTYPE_F16, ... (one SPIR-V
// variant per type; the super-block types are in dequant_k.glsl). Mirrors lib/quant's
// reference dequantizers bit for bit.
//

#if defined(TYPE_F32)
#define BLOCK 1u
#define BLOCK_BYTES 4u
float dq1(uint blk, uint j) { return uintBitsToFloat(s0_u32(blk)); }
#elif defined(TYPE_F16)
#define BLOCK 1u
#define BLOCK_BYTES 2u
float dq1(uint blk, uint j) { return half_bits(s0_u16(blk)); }
#elif defined(TYPE_BF16)
#define BLOCK 1u
#define BLOCK_BYTES 2u
float dq1(uint blk, uint j) { return bf16_bits(s0_u16(blk)); }
#elif defined(TYPE_Q4_0)
#define BLOCK 32u
#define BLOCK_BYTES 18u
float dq1(uint blk, uint j) {
    uint q = s0_u8(blk + 2u + (j & 15u));
    q = j < 16u ? q & 15u : q >> 4;
    return half_bits(s0_u16(blk)) * (float(q) - 8.0);
}
#elif defined(TYPE_Q4_1)
#define BLOCK 32u
#define BLOCK_BYTES 20u
float dq1(uint blk, uint j) {
    uint q = s0_u8(blk + 4u + (j & 15u));
    q = j < 16u ? q & 15u : q >> 4;
    precise float v = half_bits(s0_u16(blk)) * float(q) + half_bits(s0_u16(blk + 2u));
    return v;
}
#elif defined(TYPE_Q5_0)
#define BLOCK 32u
#define BLOCK_BYTES 22u
float dq1(uint blk, uint j) {
    uint q = s0_u8(blk + 6u + (j & 15u));
    q = j < 16u ? q & 15u : q >> 4;
    q |= ((s0_u32(blk + 2u) >> j) & 1u) << 4;
    return half_bits(s0_u16(blk)) * (float(q) - 16.0);
}
#elif defined(TYPE_Q5_1)
#define BLOCK 32u
#define BLOCK_BYTES 24u
float dq1(uint blk, uint j) {
    uint q = s0_u8(blk + 8u + (j & 15u));
    q = j < 16u ? q & 15u : q >> 4;
    q |= ((s0_u32(blk + 4u) >> j) & 1u) << 4;
    precise float v = half_bits(s0_u16(blk)) * float(q) + half_bits(s0_u16(blk + 2u));
    return v;
}
#elif defined(TYPE_Q8_0)
#define BLOCK 32u
#define BLOCK_BYTES 34u
float dq1(uint blk, uint j) {
    int q = int(s0_u8(blk + 2u + j) << 24) >> 24;
    return half_bits(s0_u16(blk)) * float(q);
}
#elif defined(TYPE_IQ4_NL)
#define BLOCK 32u
#define BLOCK_BYTES 18u
const float iq4nl_values[16] = float[16](-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
                                         1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
float dq1(uint blk, uint j) {
    uint q = s0_u8(blk + 2u + (j & 15u));
    q = j < 16u ? q & 15u : q >> 4;
    return half_bits(s0_u16(blk)) * iq4nl_values[q];
}
#else
#include "dequant_k.glsl"
#endif

// Element i of the row that starts at byte address `row`.
float dq_elem(uint row, uint i) {
    return dq1(row + (i / BLOCK) * BLOCK_BYTES, i % BLOCK);
}
