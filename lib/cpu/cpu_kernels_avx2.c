/* cpu_kernels_avx2.c - the AVX2 level (AVX2, FMA, F16C). */
#include "cpu_kernels.h"

/* The AVX2 kernels are not written yet: the level is unavailable and such CPUs run the
 * scalar level. */
const lai_cpu_kernels *lai_cpu_kernels_avx2(void) { return NULL; }
