/* cpu_vecdot.h - the scalar reference of the integer path: activation rounding and one dot per weight type. */
#ifndef LAI_CPU_VECDOT_H
#define LAI_CPU_VECDOT_H

#include "cpu_kernels.h"

/* Rounds n floats (a multiple of 32, resp. 256) to lai_act_q8 / lai_act_q8k blocks. */
void lai_quantize_act_q8(const float *x, void *act, int64_t n);
void lai_quantize_act_q8k(const float *x, void *act, int64_t n);

/* A weight row of n elements dotted with activations in the type's format. */
float lai_vec_dot_q4_0(const void *w, const void *a, int64_t n);
float lai_vec_dot_q4_1(const void *w, const void *a, int64_t n);
float lai_vec_dot_q5_0(const void *w, const void *a, int64_t n);
float lai_vec_dot_q5_1(const void *w, const void *a, int64_t n);
float lai_vec_dot_q8_0(const void *w, const void *a, int64_t n);
float lai_vec_dot_q2_K(const void *w, const void *a, int64_t n);
float lai_vec_dot_q3_K(const void *w, const void *a, int64_t n);
float lai_vec_dot_q4_K(const void *w, const void *a, int64_t n);
float lai_vec_dot_q5_K(const void *w, const void *a, int64_t n);
float lai_vec_dot_q6_K(const void *w, const void *a, int64_t n);
float lai_vec_dot_iq4_nl(const void *w, const void *a, int64_t n);
float lai_vec_dot_iq4_xs(const void *w, const void *a, int64_t n);

#endif /* LAI_CPU_VECDOT_H */
