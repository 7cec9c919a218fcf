/* cpu_vecdot.h - integer dot products of quantized weight rows with activations quantized to 8 bits. */
#ifndef LAI_CPU_VECDOT_H
#define LAI_CPU_VECDOT_H

#include "../base/base.h"

/*
 * The way llama.cpp's CPU backend multiplies quantized weights: each activation column is
 * rounded once to 8-bit blocks (a float scale per 32 or 256 values), and each weight
 * block is dotted with it in integers, applying the two scales once per block. No weight
 * is ever expanded to floats. The rounding of the activations costs about 1/254 of each
 * block's largest value per element, which the tests bound. The rounding follows
 * llama.cpp's (scales, ties to even, f16 storage), so our logits for quantized models sit
 * where llama.cpp's do rather than at an independent distance from an exact evaluation.
 */

/* Activations for 32-element weight blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0). */
typedef struct lai_act_q8 {
    float d;       /* x ~ d * q (d rounded to f16, as llama.cpp stores it) */
    float s;       /* d * sum(q) rounded to f16: the term a weight block's min multiplies */
    int8_t qs[32];
} lai_act_q8;

/* Activations for 256-element K-quant super-blocks. */
typedef struct lai_act_q8k {
    float d;
    int16_t bsums[16]; /* sum of q over each group of 16 */
    int8_t qs[256];
} lai_act_q8k;

typedef struct lai_vecdot {
    uint32_t block;          /* 32 or 256: elements per activation block */
    size_t act_block_bytes;  /* sizeof the activation block */
    void (*quantize)(const float *x, void *act, int64_t n);
    float (*dot)(const void *w_row, const void *act, int64_t n);
} lai_vecdot;

/* The integer path for weights of `type`, or NULL when that type is dequantized to
 * floats instead. */
const lai_vecdot *lai_cpu_vecdot_get(uint32_t type);

#endif /* LAI_CPU_VECDOT_H */
