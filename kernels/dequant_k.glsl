// dequant_k.glsl - the super-block weight types (K-quants and IQ4_XS) for dequant.glsl: per
// type named by the build (-DTYPE_Q2_K, ...), BLOCK (256 elements), BLOCK_BYTES and
// dq1(blk, j) = element j of the super-block whose first byte is at byte address blk in
// src0. Mirrors lib/quant/quant_k.c and quant_iq4.c (layouts in lib/quant/blocks.h), with
// the float operations grouped as there (d * scale first, then times q, minus dmin * min) so
// the results are bit-identical. `precise` keeps a driver from fusing the multiply and the
// subtraction into an fma, which would round once instead of twice.
//
// Each call decodes the scale of its own sub-block: simple, and exact.

#if defined(TYPE_Q2_K)
// scales[16] qs[64] d dmin; 16 sub-blocks of 16.
#define BLOCK 256u
#define BLOCK_BYTES 84u
float dq1(uint blk, uint j) {
    uint sc = s0_u8(blk + j / 16u);
    uint q = (s0_u8(blk + 16u + 32u * (j / 128u) + (j & 31u)) >> (2u * ((j & 127u) / 32u))) & 3u;
    float dl = half_bits(s0_u16(blk + 80u)) * float(sc & 15u);
    float ml = half_bits(s0_u16(blk + 82u)) * float(sc >> 4);
    precise float x = dl * float(q) - ml;
    return x;
}
#elif defined(TYPE_Q3_K)
// hmask[32] qs[64] scales[12] d; 16 sub-blocks of 16, signed 6-bit scales.
#define BLOCK 256u
#define BLOCK_BYTES 110u
float dq1(uint blk, uint j) {
    uint s = j / 16u;
    uint sc_lo = s < 8u ? s0_u8(blk + 96u + s) & 15u : s0_u8(blk + 96u + s - 8u) >> 4;
    uint sc_hi = (s0_u8(blk + 104u + (s & 3u)) >> (2u * (s / 4u))) & 3u;
    int scale = int(sc_lo | (sc_hi << 4)) - 32;
    int low = int((s0_u8(blk + 32u + 32u * (j / 128u) + (j & 31u)) >> (2u * ((j & 127u) / 32u))) & 3u);
    uint high_set = (s0_u8(blk + (j & 31u)) >> (j / 32u)) & 1u;
    float dl = half_bits(s0_u16(blk + 108u)) * float(scale);
    return dl * float(low - (high_set != 0u ? 0 : 4));
}
#elif defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
// Q4_K: d dmin scales[12] qs[128]; Q5_K: d dmin scales[12] qh[32] qs[128]. 8 sub-blocks of
// 32 with 6-bit scale and min packed in scales[12] (lai_k4_scale_min); `sc` is the byte
// address of scales[0].
uint k4_scale(uint sc, uint s) {
    return s < 4u ? s0_u8(sc + s) & 63u
                  : (s0_u8(sc + s + 4u) & 15u) | ((s0_u8(sc + s - 4u) >> 6) << 4);
}
uint k4_min(uint sc, uint s) {
    return s < 4u ? s0_u8(sc + s + 4u) & 63u
                  : (s0_u8(sc + s + 4u) >> 4) | ((s0_u8(sc + s) >> 6) << 4);
}
#define BLOCK 256u
#if defined(TYPE_Q4_K)
#define BLOCK_BYTES 144u
#define K_QS 16u
#else
#define BLOCK_BYTES 176u
#define K_QS 48u
#endif
float dq1(uint blk, uint j) {
    uint s = j / 32u;
    uint q = (s0_u8(blk + K_QS + 32u * (s / 2u) + (j & 31u)) >> ((s & 1u) * 4u)) & 15u;
#if defined(TYPE_Q5_K)
    q += ((s0_u8(blk + 16u + (j & 31u)) >> s) & 1u) << 4;
#endif
    float dl = half_bits(s0_u16(blk)) * float(k4_scale(blk + 4u, s));
    float ml = half_bits(s0_u16(blk + 2u)) * float(k4_min(blk + 4u, s));
    precise float x = dl * float(q) - ml;
    return x;
}
#elif defined(TYPE_Q6_K)
// ql[128] qh[64] scales[16] (int8) d; 16 sub-blocks of 16.
#define BLOCK 256u
#define BLOCK_BYTES 210u
float dq1(uint blk, uint j) {
    uint n = j / 128u, g = (j & 127u) / 32u, l = j & 31u;
    uint lo_byte = s0_u8(blk + 64u * n + 32u * (g & 1u) + l);
    uint low = g < 2u ? lo_byte & 15u : lo_byte >> 4;
    uint high = (s0_u8(blk + 128u + 32u * n + l) >> (2u * g)) & 3u;
    int scale = int(s0_u8(blk + 192u + j / 16u) << 24) >> 24;
    return half_bits(s0_u16(blk + 208u)) * float(scale) * float(int(low | (high << 4)) - 32);
}
#elif defined(TYPE_IQ4_XS)
// d scales_h scales_l[4] qs[128]; 8 sub-blocks of 32, sub-block s uses qs[16s .. 16s+15] in
// Q4_0's nibble order. Levels: lai_iq4nl_values.
#define BLOCK 256u
#define BLOCK_BYTES 136u
const float iq4xs_values[16] = float[16](-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
                                         1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
float dq1(uint blk, uint j) {
    uint s = j / 32u, l = j & 31u;
    uint sc_lo = (s0_u8(blk + 4u + s / 2u) >> (4u * (s & 1u))) & 15u;
    uint sc_hi = (s0_u16(blk + 2u) >> (2u * s)) & 3u;
    float dl = half_bits(s0_u16(blk)) * float(int(sc_lo | (sc_hi << 4)) - 32);
    uint q = s0_u8(blk + 8u + 16u * s + (l & 15u));
    q = l < 16u ? q & 15u : q >> 4;
    return dl * iq4xs_values[q];
}
#else
#error "dequant_k.glsl: no TYPE_* defined"
#endif
