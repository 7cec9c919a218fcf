/* gguf_craft.h - a raw byte builder for hand-made (often deliberately broken) GGUF images. */
#ifndef LOCALAI_TEST_GGUF_CRAFT_H
#define LOCALAI_TEST_GGUF_CRAFT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct craft {
    uint8_t *p;
    size_t len, cap;
} craft;

static inline void craft_bytes(craft *c, const void *src, size_t n) {
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->len + n) cap *= 2;
        c->p = realloc(c->p, cap);
        c->cap = cap;
    }
    memcpy(c->p + c->len, src, n);
    c->len += n;
}

static inline void craft_le(craft *c, uint64_t v, unsigned n) {
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
    craft_bytes(c, b, n);
}

static inline void craft_u32(craft *c, uint32_t v) { craft_le(c, v, 4); }
static inline void craft_u64(craft *c, uint64_t v) { craft_le(c, v, 8); }

static inline void craft_str(craft *c, const char *s) {
    craft_u64(c, strlen(s));
    craft_bytes(c, s, strlen(s));
}

/* "GGUF", version, tensor count, kv count. */
static inline void craft_header(craft *c, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    craft_bytes(c, "GGUF", 4);
    craft_u32(c, version);
    craft_u64(c, n_tensors);
    craft_u64(c, n_kv);
}

/* A key with a u32 value. */
static inline void craft_kv_u32(craft *c, const char *key, uint32_t v) {
    craft_str(c, key);
    craft_u32(c, 4);
    craft_u32(c, v);
}

/* A tensor info: name, dims, type, offset. */
static inline void craft_tensor(craft *c, const char *name, uint32_t n_dims, const uint64_t *ne,
                                uint32_t type, uint64_t offset) {
    craft_str(c, name);
    craft_u32(c, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) craft_u64(c, ne[i]);
    craft_u32(c, type);
    craft_u64(c, offset);
}

static inline void craft_pad(craft *c, size_t alignment) {
    while (c->len % alignment) craft_le(c, 0, 1);
}

static inline void craft_zeros(craft *c, size_t n) {
    for (size_t i = 0; i < n; i++) craft_le(c, 0, 1);
}

#endif /* LOCALAI_TEST_GGUF_CRAFT_H */
