/* strmap.h - open-addressing hash maps for the tokenizer: byte strings -> id, id pairs -> merge. */
#ifndef LAI_STRMAP_H
#define LAI_STRMAP_H

#include "../base/base.h"

/* Keys come from the model file, which may be hostile: every map hashes with its own seed,
 * drawn when it is created, so nobody can prepare a file whose tokens or merges all land
 * in one probe chain (which would make loading and tokenizing quadratic). Lookups are
 * exact, so the seed never changes a result, only where entries sit. */
static inline uint64_t lai_hash_bytes(const void *data, size_t n, uint64_t seed) {
    const uint8_t *s = (const uint8_t *)data;
    uint64_t h = seed ^ 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xFF51AFD7ED558CCDull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)s[i] << (8 * i);
    h = (h ^ v) * 0x94D049BB133111EBull;
    h ^= h >> 29;
    return h;
}

/* Keys are byte ranges of a caller-owned arena (`base`, set before lookups). */
typedef struct lai_strmap_entry {
    uint32_t hash;     /* low 32 bits of the hash; slot empty when len_plus1 == 0 */
    uint32_t len_plus1;
    uint32_t off;
    int32_t value;
} lai_strmap_entry;

typedef struct lai_strmap {
    lai_strmap_entry *slots;
    size_t mask;       /* capacity - 1 (capacity is a power of two) */
    size_t count;
    const char *base;
    uint64_t seed;
} lai_strmap;

/* Sized for `expected` keys at most. */
localai_status lai_strmap_init(lai_strmap *m, size_t expected);
void lai_strmap_free(lai_strmap *m);
/* Inserts key base[off..off+len) -> value unless present. Returns 1 when inserted, 0 when
 * the key was already there (*existing gets its value), -1 when the map is full. */
int lai_strmap_put(lai_strmap *m, uint32_t off, uint32_t len, int32_t value, int32_t *existing);
/* The value of `key` or -1. */
int32_t lai_strmap_get(const lai_strmap *m, const char *key, size_t len);

/* (left, right) id pairs -> (rank, result id), for BPE merges. */
typedef struct lai_pairmap_entry {
    uint64_t key;      /* UINT64_MAX when empty */
    int32_t rank;
    int32_t result;
} lai_pairmap_entry;

typedef struct lai_pairmap {
    lai_pairmap_entry *slots;
    size_t mask;
    size_t count;
    uint64_t seed;
} lai_pairmap;

localai_status lai_pairmap_init(lai_pairmap *m, size_t expected);
void lai_pairmap_free(lai_pairmap *m);
/* Inserts unless present (the first merge of a pair keeps its rank). */
void lai_pairmap_put(lai_pairmap *m, int32_t left, int32_t right, int32_t rank, int32_t result);

static inline uint64_t lai_pair_hash(uint64_t k, uint64_t seed) {
    k ^= seed;
    k ^= k >> 33;
    k *= 0xC4CEB9FE1A85EC53ull;
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    return k;
}

/* The entry of (left, right), or NULL. */
static inline const lai_pairmap_entry *lai_pairmap_get(const lai_pairmap *m, int32_t left,
                                                       int32_t right) {
    if (m->slots == NULL) return NULL;
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    size_t i = (size_t)lai_pair_hash(key, m->seed) & m->mask;
    for (;;) {
        const lai_pairmap_entry *e = &m->slots[i];
        if (e->key == key) return e;
        if (e->key == UINT64_MAX) return NULL;
        i = (i + 1) & m->mask;
    }
}

#endif /* LAI_STRMAP_H */
