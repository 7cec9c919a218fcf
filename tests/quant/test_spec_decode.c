/* test_spec_decode.c - each dequantizer against a plain bit-by-bit reading of its format. */
#include "test_util.h"
#include "quant/quant.h"

#include <math.h>

/* The decoders here are written from the format descriptions (GGUF / ggml block layouts),
 * one element at a time in double precision, deliberately unlike the library code: bytes
 * are read by offset, multi-byte fields assembled by hand. Random blocks exercise every
 * bit; only the f16 scale fields are forced finite. */

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}
static double rnd_unit(void) { return (rnd() + 0.5) / 2147483648.0; }

static double f16_at(const uint8_t *p) {
    unsigned h = p[0] | (unsigned)p[1] << 8;
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
    return (h & 0x8000) ? -v : v;
}

static void put_f16(uint8_t *p, double v) {
    uint16_t h = lai_f32_to_f16((float)v);
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

static int bit_of(const uint8_t *bytes, int k) { return (bytes[k / 8] >> (k % 8)) & 1; }
static int nib(const uint8_t *qs, int i) { return i < 16 ? qs[i] & 15 : qs[i - 16] >> 4; }

static const int iq4nl_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                     1, 13, 25, 38, 53, 69, 89, 113};

/* Element e (0 <= e < block size) of one block, in double. */
static double spec_element(uint32_t type, const uint8_t *b, int e) {
    switch (type) {
    case LAI_TYPE_Q4_0: return f16_at(b) * (nib(b + 2, e) - 8);
    case LAI_TYPE_Q4_1: return f16_at(b) * nib(b + 4, e) + f16_at(b + 2);
    case LAI_TYPE_Q5_0: return f16_at(b) * ((nib(b + 6, e) | bit_of(b + 2, e) << 4) - 16);
    case LAI_TYPE_Q5_1: return f16_at(b) * (nib(b + 8, e) | bit_of(b + 4, e) << 4) + f16_at(b + 2);
    case LAI_TYPE_Q8_0: return f16_at(b) * (int8_t)b[2 + e];
    case LAI_TYPE_IQ4_NL: return f16_at(b) * iq4nl_levels[nib(b + 2, e)];
    case LAI_TYPE_Q2_K: { /* scales 0..15, qs 16..79, d 80, dmin 82 */
        int q = (b[16 + 32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
        int s = e / 16;
        return f16_at(b + 80) * (b[s] & 15) * q - f16_at(b + 82) * (b[s] >> 4);
    }
    case LAI_TYPE_Q3_K: { /* hmask 0..31, qs 32..95, scales 96..107, d 108 */
        int low = (b[32 + 32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
        int hi = bit_of(b, 8 * (e % 32) + e / 32);
        int s = e / 16;
        const uint8_t *sc = b + 96;
        int scale_low = s < 8 ? sc[s] & 15 : sc[s - 8] >> 4;
        int scale_high = (sc[8 + s % 4] >> (2 * (s / 4))) & 3;
        return f16_at(b + 108) * ((scale_low + 16 * scale_high) - 32) * (low + 4 * hi - 4);
    }
    case LAI_TYPE_Q4_K:
    case LAI_TYPE_Q5_K: { /* d 0, dmin 2, scales 4..15, [qh 16..47], qs */
        const uint8_t *sc = b + 4;
        int s = e / 32, scale, min;
        if (s < 4) {
            scale = sc[s] % 64;
            min = sc[s + 4] % 64;
        } else {
            scale = (sc[s + 4] % 16) + 16 * (sc[s - 4] / 64);
            min = (sc[s + 4] / 16) + 16 * (sc[s] / 64);
        }
        const uint8_t *qs = b + (type == LAI_TYPE_Q4_K ? 16 : 48);
        int byte = qs[32 * (e / 64) + e % 32];
        int q = (e % 64) < 32 ? byte % 16 : byte / 16;
        if (type == LAI_TYPE_Q5_K) q += 16 * bit_of(b + 16, 8 * (e % 32) + e / 32);
        return f16_at(b) * scale * q - f16_at(b + 2) * min;
    }
    case LAI_TYPE_Q6_K: { /* ql 0..127, qh 128..191, scales 192..207 (int8), d 208 */
        int half = e / 128, g = (e % 128) / 32, l = e % 32;
        int lbyte = b[64 * half + (g % 2 ? 32 : 0) + l];
        int low = g < 2 ? lbyte % 16 : lbyte / 16;
        int high = (b[128 + 32 * half + l] >> (2 * g)) & 3;
        return f16_at(b + 208) * (int8_t)b[192 + e / 16] * (low + 16 * high - 32);
    }
    case LAI_TYPE_Q8_K: { /* f32 d 0, qs 4..259 */
        float d;
        memcpy(&d, b, 4);
        return (double)d * (int8_t)b[4 + e];
    }
    case LAI_TYPE_IQ4_XS: { /* d 0, scales_h 2 (u16), scales_l 4..7, qs 8..135 */
        int s = e / 32;
        unsigned sh = b[2] | (unsigned)b[3] << 8;
        int scale = ((b[4 + s / 2] >> (4 * (s % 2))) & 15) | (int)((sh >> (2 * s)) & 3) << 4;
        return f16_at(b) * (scale - 32) * iq4nl_levels[nib(b + 8 + 16 * s, e % 32)];
    }
    }
    return NAN;
}

static const struct {
    uint32_t type;
    int f16_offsets[2];
} formats[] = {
    {LAI_TYPE_Q4_0, {0, -1}}, {LAI_TYPE_Q4_1, {0, 2}},  {LAI_TYPE_Q5_0, {0, -1}},
    {LAI_TYPE_Q5_1, {0, 2}},  {LAI_TYPE_Q8_0, {0, -1}}, {LAI_TYPE_IQ4_NL, {0, -1}},
    {LAI_TYPE_Q2_K, {80, 82}}, {LAI_TYPE_Q3_K, {108, -1}}, {LAI_TYPE_Q4_K, {0, 2}},
    {LAI_TYPE_Q5_K, {0, 2}}, {LAI_TYPE_Q6_K, {208, -1}}, {LAI_TYPE_Q8_K, {-1, -1}},
    {LAI_TYPE_IQ4_XS, {0, -1}},
};

int main(void) {
    enum { N_BLOCKS = 64 };
    for (size_t f = 0; f < LAI_ARRAY_LEN(formats); f++) {
        const lai_type_traits *t = lai_type_get(formats[f].type);
        uint8_t *blocks = malloc((size_t)N_BLOCKS * t->type_size);
        float *out = malloc((size_t)N_BLOCKS * t->block_size * sizeof(float));
        for (size_t i = 0; i < (size_t)N_BLOCKS * t->type_size; i++) blocks[i] = (uint8_t)rnd();
        for (int b = 0; b < N_BLOCKS; b++) {
            uint8_t *blk = blocks + (size_t)b * t->type_size;
            for (int k = 0; k < 2; k++) {
                int off = formats[f].f16_offsets[k];
                /* scales over several decades, both signs; a zero now and then */
                double v = (rnd() & 1 ? -1 : 1) * pow(10.0, -5 + 5 * rnd_unit());
                if (b % 17 == 3) v = 0;
                if (off >= 0) put_f16(blk + off, v);
            }
            if (formats[f].type == LAI_TYPE_Q8_K) {
                float d = (float)(pow(10.0, -4 + 4 * rnd_unit()));
                memcpy(blk, &d, 4);
            }
        }
        t->to_float(blocks, out, (int64_t)N_BLOCKS * t->block_size);
        int bad = 0;
        for (int b = 0; b < N_BLOCKS; b++) {
            for (uint32_t e = 0; e < t->block_size; e++) {
                double want = spec_element(formats[f].type, blocks + (size_t)b * t->type_size, (int)e);
                double got = out[(size_t)b * t->block_size + e];
                /* float vs double evaluation: a few float roundings apart at most */
                if (!(fabs(got - want) <= 1e-6 * fabs(want) + 1e-30)) {
                    if (bad < 3) fprintf(stderr, "%s block %d element %u: %.9g, spec %.9g\n", t->name, b, e, got, want);
                    bad++;
                }
            }
        }
        CHECK_MSG(bad == 0, "%s: %d elements differ from the spec reading", t->name, bad);
        free(blocks);
        free(out);
    }
    return test_finish("test_spec_decode");
}
