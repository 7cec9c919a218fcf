/* rng.h - the sampler's pseudo-random generator: xoshiro256** seeded through splitmix64. */
#ifndef LAI_RNG_H
#define LAI_RNG_H

#include <stdint.h>

/* xoshiro256** (Blackman and Vigna, 2018). Chosen because it is fully specified by a
 * few lines of integer arithmetic, so a seed gives the same stream on every platform
 * and compiler; the 256-bit state is filled from the 64-bit seed by splitmix64, as
 * its authors recommend. */
typedef struct lai_rng {
    uint64_t s[4];
} lai_rng;

void lai_rng_seed(lai_rng *rng, uint64_t seed);
uint64_t lai_rng_next(lai_rng *rng);
/* A uniform double in [0, 1) from the top 53 bits of the next output. */
double lai_rng_uniform(lai_rng *rng);

#endif /* LAI_RNG_H */
