/* gen_iq4.h - simple IQ4_NL / IQ4_XS quantizers for the generator, while lib/quant has none. */
#ifndef LOCALAI_GEN_IQ4_H
#define LOCALAI_GEN_IQ4_H

#include "quant/quant.h"

/* A quantizer for `type` when lib/quant lacks one (IQ4_NL, IQ4_XS), else NULL. These are
 * plain nearest-value quantizers, not llama.cpp's scale search: test models only need a
 * valid, deterministic file of the type, which llama.cpp and we then both read. */
lai_from_float_fn gen_fallback_quantizer(uint32_t type);

#endif /* LOCALAI_GEN_IQ4_H */
