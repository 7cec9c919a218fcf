/* strmap.c - the tokenizer's hash maps (linear probing, sized once, never resized). */
#include "strmap.h"

#include "../base/platform.h"

/* A per-map seed: the clock and the map's address, mixed. Unpredictable enough that a
 * file cannot be prepared against it; no global state. */
static uint64_t new_seed(const void *map) {
    uint64_t x = lai_time_ns() ^ ((uint64_t)(uintptr_t)map * 0x9E3779B97F4A7C15ull);
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static size_t capacity_for(size_t expected) {
    size_t cap = 16;
    while (cap < expected * 2 + 1) cap <<= 1;
    return cap;
}

localai_status lai_strmap_init(lai_strmap *m, size_t expected) {
    memset(m, 0, sizeof *m);
    if (expected > SIZE_MAX / 4 / sizeof(lai_strmap_entry))
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary map: %zu keys", expected);
    size_t cap = capacity_for(expected);
    m->slots = (lai_strmap_entry *)lai_calloc(cap, sizeof *m->slots);
    if (m->slots == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary map: %zu keys", expected);
    m->mask = cap - 1;
    m->seed = new_seed(m);
    return LOCALAI_STATUS_OK;
}

void lai_strmap_free(lai_strmap *m) {
    lai_free(m->slots);
    memset(m, 0, sizeof *m);
}

int lai_strmap_put(lai_strmap *m, uint32_t off, uint32_t len, int32_t value, int32_t *existing) {
    if (m->count + 1 > m->mask / 2 + 1) return -1;
    const char *key = m->base + off;
    uint32_t h = (uint32_t)lai_hash_bytes(key, len, m->seed);
    size_t i = h & m->mask;
    for (;;) {
        lai_strmap_entry *e = &m->slots[i];
        if (e->len_plus1 == 0) {
            e->hash = h;
            e->len_plus1 = len + 1;
            e->off = off;
            e->value = value;
            m->count++;
            return 1;
        }
        if (e->hash == h && e->len_plus1 == len + 1 && memcmp(m->base + e->off, key, len) == 0) {
            if (existing) *existing = e->value;
            return 0;
        }
        i = (i + 1) & m->mask;
    }
}

int32_t lai_strmap_get(const lai_strmap *m, const char *key, size_t len) {
    if (m->slots == NULL || len >= UINT32_MAX) return -1;
    uint32_t h = (uint32_t)lai_hash_bytes(key, len, m->seed);
    size_t i = h & m->mask;
    for (;;) {
        const lai_strmap_entry *e = &m->slots[i];
        if (e->len_plus1 == 0) return -1;
        if (e->hash == h && e->len_plus1 == len + 1 && memcmp(m->base + e->off, key, len) == 0)
            return e->value;
        i = (i + 1) & m->mask;
    }
}

localai_status lai_pairmap_init(lai_pairmap *m, size_t expected) {
    memset(m, 0, sizeof *m);
    if (expected > SIZE_MAX / 4 / sizeof(lai_pairmap_entry))
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "merge map: %zu pairs", expected);
    size_t cap = capacity_for(expected);
    m->slots = (lai_pairmap_entry *)lai_malloc(cap * sizeof *m->slots);
    if (m->slots == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "merge map: %zu pairs", expected);
    for (size_t i = 0; i < cap; i++) m->slots[i].key = UINT64_MAX;
    m->mask = cap - 1;
    m->seed = new_seed(m);
    return LOCALAI_STATUS_OK;
}

void lai_pairmap_free(lai_pairmap *m) {
    lai_free(m->slots);
    memset(m, 0, sizeof *m);
}

void lai_pairmap_put(lai_pairmap *m, int32_t left, int32_t right, int32_t rank, int32_t result) {
    if (m->count + 1 > m->mask / 2 + 1) return;
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    size_t i = (size_t)lai_pair_hash(key, m->seed) & m->mask;
    for (;;) {
        lai_pairmap_entry *e = &m->slots[i];
        if (e->key == key) return;
        if (e->key == UINT64_MAX) {
            e->key = key;
            e->rank = rank;
            e->result = result;
            m->count++;
            return;
        }
        i = (i + 1) & m->mask;
    }
}
