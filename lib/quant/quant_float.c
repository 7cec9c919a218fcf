/* quant_float.c - rows of the plain float types: f32 (a copy), f16 and bf16. */
#include "quant_ref.h"

void lai_dequantize_row_f32(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void lai_quantize_row_f32(const float *src, void *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void lai_dequantize_row_f16(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = lai_f16_to_f32(h[i]);
}

void lai_quantize_row_f16(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = lai_f32_to_f16(src[i]);
}

void lai_dequantize_row_bf16(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = lai_bf16_to_f32(h[i]);
}

void lai_quantize_row_bf16(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = lai_f32_to_bf16(src[i]);
}
