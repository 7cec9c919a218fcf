/* test_half.c - f16 and bf16 conversions against a direct reading of the IEEE formats. */
#include "test_util.h"
#include "quant/quant.h"

#include <math.h>

/* The value of half bits h, computed from the definition (sign, 5-bit exponent, 10-bit
 * fraction, bias 15) in double, where every half value is exact. */
static double half_value(uint16_t h) {
    int sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0) v = ldexp((double)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp((double)(1024 + m), e - 25);
    return sign ? -v : v;
}

/* bfloat16 is the top half of an f32; value from the definition (bias 127, 7-bit fraction).
 * Bits 0x7f80 (Inf) count as 2^128 so rounding the largest finite values compares right. */
static double bf16_value(uint16_t h) {
    int sign = h >> 15, e = (h >> 7) & 255, m = h & 127;
    double v;
    if (e == 0) v = ldexp((double)m, -133);
    else if (e == 255) v = m ? NAN : ldexp(1.0, 128);
    else v = ldexp((double)(128 + m), e - 134);
    return sign ? -v : v;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Nearest half to x by search over the ordered non-negative halves 0x0000..0x7c00
 * (0x7c00 = Inf stands in for 65536, the next step past 65504), ties to even bits. */
static uint16_t oracle_f16(float x) {
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    double a = fabs((double)x);
    if (a >= 65536.0) return sign | 0x7c00;
    unsigned lo = 0, hi = 0x7c00;
    while (hi - lo > 1) { /* invariant: value(lo) <= a < value(hi) */
        unsigned mid = (lo + hi) / 2;
        double v = mid == 0x7c00 ? 65536.0 : half_value((uint16_t)mid);
        if (v <= a) lo = mid; else hi = mid;
    }
    double vlo = half_value((uint16_t)lo), vhi = hi == 0x7c00 ? 65536.0 : half_value((uint16_t)hi);
    unsigned pick;
    if (a - vlo < vhi - a) pick = lo;
    else if (a - vlo > vhi - a) pick = hi;
    else pick = (lo & 1) ? hi : lo;
    return (uint16_t)(sign | pick);
}

static uint16_t oracle_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    uint16_t lo = (uint16_t)(u >> 16), hi = (uint16_t)(lo + 1);
    double a = fabs((double)x), vlo = fabs(bf16_value(lo)), vhi = fabs(bf16_value(hi));
    if (a - vlo < vhi - a) return lo;
    if (a - vlo > vhi - a) return hi;
    return (lo & 1) ? hi : lo;
}

static void check_f16_all(void) {
    int bad_value = 0, bad_trip = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        double want = half_value((uint16_t)h);
        float got = lai_f16_to_f32((uint16_t)h);
        uint16_t back = lai_f32_to_f16(got);
        if (isnan(want)) {
            if (!isnan(got)) bad_value++;
            /* NaN stays NaN with sign and payload, made quiet */
            if (back != (uint16_t)(h | 0x0200)) bad_trip++;
        } else {
            if ((double)got != want || (signbit(got) != 0) != (h >> 15 != 0)) bad_value++;
            if (back != h) bad_trip++;
        }
    }
    CHECK_MSG(bad_value == 0, "%d halves decode wrong", bad_value);
    CHECK_MSG(bad_trip == 0, "%d halves do not round-trip", bad_trip);
}

static void check_f16_rounding(void) {
    int bad = 0;
    /* Midpoints between neighbours (exact in f32) and one f32 step either side, for every
     * pair of neighbouring finite halves: the tie and near-tie cases. */
    for (uint32_t h = 0; h < 0x7bff; h++) {
        float mid = (float)((half_value((uint16_t)h) + half_value((uint16_t)(h + 1))) / 2);
        float cases[3] = {mid, nextafterf(mid, 0.0f), nextafterf(mid, INFINITY)};
        for (int c = 0; c < 3; c++) {
            for (int s = 0; s < 2; s++) {
                float x = s ? -cases[c] : cases[c];
                if (lai_f32_to_f16(x) != oracle_f16(x)) {
                    if (bad < 5) fprintf(stderr, "f16(%a) = %04x want %04x\n", (double)x,
                                         lai_f32_to_f16(x), oracle_f16(x));
                    bad++;
                }
            }
        }
    }
    /* Random f32 bit patterns of every magnitude (NaN excluded). */
    for (int i = 0; i < 200000; i++) {
        float x = from_bits(rnd32());
        if (isnan(x)) continue;
        if (lai_f32_to_f16(x) != oracle_f16(x)) bad++;
    }
    /* The overflow edge: 65504 is the largest half; 65520 rounds (tie, odd) to Inf. */
    CHECK(lai_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(lai_f32_to_f16(65519.996f) == 0x7bff);
    CHECK(lai_f32_to_f16(65520.0f) == 0x7c00);
    CHECK(lai_f32_to_f16(-INFINITY) == 0xfc00);
    CHECK(lai_f32_to_f16(from_bits(1)) == 0x0000); /* smallest float subnormal */
    CHECK(lai_f32_to_f16(-0.0f) == 0x8000);
    CHECK(lai_f32_to_f16(ldexpf(1.0f, -25)) == 0x0000);         /* tie to even: zero */
    CHECK(lai_f32_to_f16(nextafterf(ldexpf(1.0f, -25), 1.0f)) == 0x0001);
    CHECK(isnan(lai_f16_to_f32(lai_f32_to_f16(NAN))));
    CHECK_MSG(bad == 0, "%d f32 -> f16 roundings differ from the oracle", bad);
}

static void check_bf16(void) {
    int bad_trip = 0, bad_round = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = lai_bf16_to_f32((uint16_t)h);
        double want = bf16_value((uint16_t)h);
        if (((h >> 7) & 255) == 255 && (h & 127) == 0) want = (h >> 15) ? -INFINITY : INFINITY;
        if (isnan(want)) {
            if (!isnan(f) || !isnan(lai_bf16_to_f32(lai_f32_to_bf16(f)))) bad_trip++;
        } else if ((double)f != want || lai_f32_to_bf16(f) != h) {
            bad_trip++;
        }
    }
    for (int i = 0; i < 200000; i++) {
        uint32_t u = rnd32();
        if (i & 1) u = (u & 0xffff0000u) | 0x8000u; /* exact ties */
        float x = from_bits(u);
        if (isnan(x)) continue;
        if (lai_f32_to_bf16(x) != oracle_bf16(x)) {
            if (bad_round < 5) fprintf(stderr, "bf16(%a) = %04x want %04x\n", (double)x,
                                       lai_f32_to_bf16(x), oracle_bf16(x));
            bad_round++;
        }
    }
    CHECK_MSG(bad_trip == 0, "%d bf16 values do not round-trip", bad_trip);
    CHECK_MSG(bad_round == 0, "%d f32 -> bf16 roundings differ from the oracle", bad_round);
    CHECK(lai_f32_to_bf16(from_bits(0x7f7fffffu)) == 0x7f80); /* FLT_MAX rounds to Inf */
    CHECK(isnan(lai_bf16_to_f32(lai_f32_to_bf16(from_bits(0x7f800001u))))); /* NaN kept */
}

int main(void) {
    check_f16_all();
    check_f16_rounding();
    check_bf16();
    return test_finish("test_half");
}
