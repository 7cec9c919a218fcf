/* cpu_kernels_neon.c - the AArch64 NEON level (dotprod where present). */
#include "cpu_kernels.h"

/* The NEON kernels are not written yet: the level is unavailable and such CPUs run the
 * scalar level. */
const lai_cpu_kernels *lai_cpu_kernels_neon(void) { return NULL; }
