/* quant_iq4.c - the non-linear 4-bit formats IQ4_NL and IQ4_XS: layouts and dequantizers. */
#include "quant_ref.h"

/* Both map a 4-bit code through the same table of 16 levels, spaced more densely near
 * zero where trained weights cluster, instead of a uniform grid.
 *
 * IQ4_NL (18 bytes: d:f16 qs[16]), blocks of 32: x[j] = d * level[q[j]], with Q4_0's
 *   nibble order (qs[i] holds element i low, element i + 16 high).
 *
 * IQ4_XS (136 bytes: d:f16 scales_h:u16 scales_l[4] qs[128]), super-blocks of 256 in 8
 *   sub-blocks of 32. Sub-block s has a 6-bit scale: low 4 bits = nibble s%2 of
 *   scales_l[s/2] (low nibble for even s), high 2 bits = bits 2s..2s+1 of scales_h.
 *   x = d * (scale - 32) * level[q]; sub-block s uses qs[16s .. 16s+15] in Q4_0's nibble
 *   order. */

const int8_t lai_iq4nl_values[16] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

void lai_dequantize_row_iq4_nl(const void *src, float *dst, int64_t n) {
    const lai_block_iq4_nl *b = src;
    for (int64_t i = 0; i < n / LAI_QK32; i++, dst += LAI_QK32) {
        const float d = lai_f16_to_f32(b[i].d);
        for (int j = 0; j < LAI_QK32 / 2; j++) {
            dst[j] = d * (float)lai_iq4nl_values[b[i].qs[j] & 0x0f];
            dst[j + LAI_QK32 / 2] = d * (float)lai_iq4nl_values[b[i].qs[j] >> 4];
        }
    }
}

void lai_dequantize_row_iq4_xs(const void *src, float *dst, int64_t n) {
    const lai_block_iq4_xs *b = src;
    for (int64_t i = 0; i < n / LAI_QK_K; i++) {
        const float d = lai_f16_to_f32(b[i].d);
        for (int s = 0; s < LAI_QK_K / 32; s++, dst += 32) {
            const int low = (b[i].scales_l[s / 2] >> (4 * (s % 2))) & 0x0f;
            const int high = (b[i].scales_h >> (2 * s)) & 3;
            const float dl = d * (float)((low | (high << 4)) - 32);
            const uint8_t *qs = b[i].qs + 16 * s;
            for (int j = 0; j < 16; j++) {
                dst[j] = dl * (float)lai_iq4nl_values[qs[j] & 0x0f];
                dst[j + 16] = dl * (float)lai_iq4nl_values[qs[j] >> 4];
            }
        }
    }
}
