/* half.c - exact IEEE binary16 (f16) and bfloat16 conversions to and from f32. */
#include "quant.h"

/* Bit casts through memcpy: the compiler turns them into moves and they keep aliasing rules. */
static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float lai_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) /* Inf keeps a zero mantissa; NaN keeps its payload */
        return bits_f32(sign | 0x7f800000u | (mant << 13));
    if (exp != 0) /* normal: rebias 15 -> 127 */
        return bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0) return bits_f32(sign);
    /* Subnormal half: mant * 2^-24, a normal float. Shift the leading one into the
     * hidden-bit position and lower the exponent by the same amount. */
    uint32_t e = 113; /* biased exponent of 2^-14, the weight of bit 10 once shifted there */
    while ((mant & 0x400u) == 0) {
        mant <<= 1;
        e--;
    }
    return bits_f32(sign | (e << 23) | ((mant & 0x3ffu) << 13));
}

uint16_t lai_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t absx = x & 0x7fffffffu;
    if (absx > 0x7f800000u) /* NaN: keep the top payload bits, force quiet so it stays NaN */
        return (uint16_t)(sign | 0x7e00u | ((absx >> 13) & 0x3ffu));
    uint32_t e = absx >> 23;
    if (e >= 143) /* >= 2^16 (or Inf): beyond the largest half even before rounding */
        return (uint16_t)(sign | 0x7c00u);
    if (e >= 113) { /* normal half range: drop 13 mantissa bits, round to nearest even */
        uint32_t mant = absx & 0x7fffffu;
        uint32_t h = ((e - 112u) << 10) | (mant >> 13);
        uint32_t rem = mant & 0x1fffu;
        /* A carry out of the mantissa bumps the exponent, which is the right answer
         * (up to Inf at 65520). */
        if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    if (e == 0) return sign; /* float subnormals are far below half's smallest step */
    /* Half subnormal: the result is k * 2^-24 with k = m * 2^(e-126), m the 24-bit
     * significand. Rounding can carry into 0x400, the smallest normal: also right. */
    uint32_t shift = 126u - e;
    if (shift > 24) return sign; /* below 2^-25: rounds to zero */
    uint32_t m = (absx & 0x7fffffu) | 0x800000u;
    uint32_t k = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (k & 1u))) k++;
    return (uint16_t)(sign | k);
}

float lai_bf16_to_f32(uint16_t h) {
    return bits_f32((uint32_t)h << 16);
}

uint16_t lai_f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: truncating could leave a zero payload (Inf) */
        return (uint16_t)((x >> 16) | 0x40u);
    /* Adding 0x7fff plus the lowest kept bit rounds half to even; overflow to Inf is right. */
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
