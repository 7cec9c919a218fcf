/* cpu_features.h - run-time detection of the SIMD instruction sets the CPU backend can use. */
#ifndef LAI_CPU_FEATURES_H
#define LAI_CPU_FEATURES_H

#include "../base/base.h"

typedef struct lai_cpu_features {
    int avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512vnni, avxvnni;
    int amx; /* AMX-TILE + AMX-INT8, and the OS lets this process use the tiles (Linux:
              * granted by arch_prctl(ARCH_REQ_XCOMP_PERM) when first detected) */
    int neon, dotprod, i8mm; /* AArch64: Advanced SIMD, SDOT/UDOT (ARMv8.2), SMMLA (ARMv8.6) */
} lai_cpu_features;

/* Detected once per process (thread-safe); never NULL. */
const lai_cpu_features *lai_cpu_features_get(void);
/* Kernel levels of the CPU backend, slowest first. The scalar kernels are the reference
 * every other level is tested against. */
typedef enum lai_cpu_level {
    LAI_CPU_LEVEL_SCALAR = 0,
    LAI_CPU_LEVEL_AVX2 = 1,    /* AVX2 + FMA + F16C */
    LAI_CPU_LEVEL_AVX512 = 2,  /* AVX-512 F/BW/VL/VNNI (+ BF16 where present) */
    LAI_CPU_LEVEL_NEON = 3,    /* AArch64 NEON (+ dotprod, i8mm where present) */
    LAI_CPU_LEVEL_COUNT
} lai_cpu_level;

/* The best level this CPU runs. */
lai_cpu_level lai_cpu_level_best(void);
/* "scalar", "avx2", "avx512", "neon". */
const char *lai_cpu_level_name(lai_cpu_level level);

/* "x86_64: avx2 fma f16c" style summary. */
void lai_cpu_features_describe(char *buf, size_t capacity);

#endif /* LAI_CPU_FEATURES_H */
