/* quant_k_impl.h - helpers shared by the K-quant dequantizers, quantizers and searches. */
#ifndef LAI_QUANT_K_IMPL_H
#define LAI_QUANT_K_IMPL_H

#include "quant_ref.h"

/* 6-bit scale and min of sub-block s (0..7) of a Q4_K / Q5_K super-block. */
void lai_k4_scale_min(int s, const uint8_t *scales, uint8_t *sc, uint8_t *m);
/* Signed scale (-32..31) of sub-block s (0..15) of a Q3_K super-block. */
int lai_k3_scale(int s, const uint8_t *scales);

/* Round to nearest, ties to even, the way llama.cpp's K-quant code does it: adding
 * 1.5 * 2^23 puts the integer in the low mantissa bits. Exact for |v| < 2^22; outside
 * that (only for damaged weights) the result is some int, never undefined behaviour. */
static inline int lai_nearest_int(float v) {
    float shifted = v + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    return (int)((bits & 0x007fffff) - 0x00400000);
}

/* The scale searches of llama.cpp's reference K-quantizers (their make_qx_quants,
 * make_q3_quants and make_qkx2_quants), reproduced operation for operation so the bytes
 * match. See quant_k_search.c. */
float lai_search_symmetric(int n, int nmax, const float *x, int8_t *L);
float lai_search_q3(int n, int nmax, const float *x, int8_t *L);
float lai_search_affine(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                        float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                        int use_mad);

#endif /* LAI_QUANT_K_IMPL_H */
