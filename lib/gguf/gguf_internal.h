/* gguf_internal.h - what the GGUF reader's files share: the lookup index and value sizes. */
#ifndef LAI_GGUF_INTERNAL_H
#define LAI_GGUF_INTERNAL_H

#include "gguf.h"

/* Sorted views of the entries, built once at parse time; lookups are binary searches, so a
 * crafted file cannot make them slow (no hash to collide). */
typedef struct lai_gguf_index {
    lai_gguf_kv **kv_by_key;          /* sorted by key (strcmp) */
    lai_gguf_tensor **tensor_by_name; /* sorted by name (strcmp) */
} lai_gguf_index;

/* Size in bytes of a scalar value type; 0 for STRING, ARRAY and unknown ids. */
uint64_t lai_gguf_scalar_size(uint32_t type);

#endif /* LAI_GGUF_INTERNAL_H */
