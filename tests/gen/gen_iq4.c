/* gen_iq4.c - simple IQ4_NL / IQ4_XS quantizers for the generator (see gen_iq4.h). */
#include "gen_iq4.h"

#include <math.h>
#include <string.h>

/* The 16 non-linear levels shared by IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl). */
static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                      1,    13,   25,  38,  53,  69,  89,  113};

static uint8_t nearest_level(float v) {
    uint8_t best = 0;
    float best_err = fabsf(v - iq4_levels[0]);
    for (uint8_t i = 1; i < 16; i++) {
        float e = fabsf(v - iq4_levels[i]);
        if (e < best_err) {
            best_err = e;
            best = i;
        }
    }
    return best;
}

/* 32 values with step d into 16 bytes: value j in the low nibble of byte j, j+16 high. */
static void pack32(const float *x, float d, uint8_t *qs) {
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < 16; j++) {
        uint8_t lo = d != 0.0f ? nearest_level(x[j] * id) : 8;
        uint8_t hi = d != 0.0f ? nearest_level(x[j + 16] * id) : 8;
        qs[j] = (uint8_t)(lo | (hi << 4));
    }
}

static float amax32(const float *x) {
    float m = 0.0f;
    for (int j = 0; j < 32; j++) m = fmaxf(m, fabsf(x[j]));
    return m;
}

static void put_f16(uint8_t *dst, float v) {
    uint16_t h = lai_f32_to_f16(v);
    memcpy(dst, &h, 2); /* GGUF is little-endian, as are the hosts we build on */
}

static void quantize_iq4_nl(const float *src, void *dst, int64_t n) {
    uint8_t *out = dst;
    for (int64_t b = 0; b < n / 32; b++, src += 32, out += 18) {
        float d = lai_f16_to_f32(lai_f32_to_f16(amax32(src) / 127.0f));
        put_f16(out, d);
        pack32(src, d, out + 2);
    }
}

static void quantize_iq4_xs(const float *src, void *dst, int64_t n) {
    uint8_t *out = dst;
    for (int64_t b = 0; b < n / 256; b++, src += 256, out += 136) {
        /* one f16 step for the block, a 6-bit signed multiplier (ls - 32) per 32 values */
        float sub[8], top = 0.0f;
        for (int ib = 0; ib < 8; ib++) top = fmaxf(top, sub[ib] = amax32(src + 32 * ib) / 127.0f);
        float d = lai_f16_to_f32(lai_f32_to_f16(top / 31.0f));
        put_f16(out, d);
        uint16_t scales_h = 0;
        memset(out + 4, 0, 4);
        for (int ib = 0; ib < 8; ib++) {
            int m = d != 0.0f ? (int)lrintf(sub[ib] / d) : 0;
            if (m > 31) m = 31;
            int ls = m + 32;
            out[4 + ib / 2] |= (uint8_t)((ls & 15) << (4 * (ib % 2)));
            scales_h |= (uint16_t)(((ls >> 4) & 3) << (2 * ib));
            pack32(src + 32 * ib, d * (float)m, out + 8 + 16 * ib);
        }
        memcpy(out + 2, &scales_h, 2);
    }
}

lai_from_float_fn gen_fallback_quantizer(uint32_t type) {
    if (type == LAI_TYPE_IQ4_NL) return quantize_iq4_nl;
    if (type == LAI_TYPE_IQ4_XS) return quantize_iq4_xs;
    return NULL;
}
