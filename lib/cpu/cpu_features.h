/* cpu_features.h - run-time detection of the SIMD instruction sets the CPU backend can use. */
#ifndef LAI_CPU_FEATURES_H
#define LAI_CPU_FEATURES_H

#include "../base/base.h"

typedef struct lai_cpu_features {
    int avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512vnni, avxvnni, neon, dotprod;
} lai_cpu_features;

/* Detected once per process (thread-safe); never NULL. */
const lai_cpu_features *lai_cpu_features_get(void);
/* "x86_64: avx2 fma f16c" style summary. */
void lai_cpu_features_describe(char *buf, size_t capacity);

#endif /* LAI_CPU_FEATURES_H */
