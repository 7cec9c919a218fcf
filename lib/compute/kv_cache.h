/* kv_cache.h - the KV cache: per-layer key/value tensors on a backend, and cells with position and sequences. */
#ifndef LAI_KV_CACHE_H
#define LAI_KV_CACHE_H

#include "backend.h"

/*
 * n_cells rows per layer; row c of layer il's K tensor holds the keys of whatever token
 * cell c holds (all KV heads, head_dim_k each), likewise V. Each layer's K and V live in
 * a buffer of their own, so no single allocation grows with the layer count. A cell is
 * empty (pos -1) or holds one position that belongs to one or more sequences (kv_copy
 * shares cells rather than copying data).
 *
 * The cell table is a tensor attention reads on the device ([1 + seq_words, n_cells]
 * int32: the position, then the sequence bit set), so which cells a token sees is worked
 * out inside attention and nothing per batch depends on the cache's contents. The host
 * keeps the table's master copy; lai_kv_sync() sends the rows changed since the last sync.
 */
typedef struct lai_kv_cache {
    lai_backend *backend;
    uint32_t type;        /* LAI_TYPE_F16 or LAI_TYPE_F32 */
    uint32_t n_cells, n_layer, n_seq_max, seq_words; /* seq_words: 32-bit words per cell */
    lai_buffer **layers;  /* n_layer buffers: K then V */
    lai_tensor *k, *v;    /* n_layer each: [k_row, n_cells], [v_row, n_cells] */
    int32_t *cells;       /* host table: n_cells rows of 1 + seq_words */
    lai_buffer *cells_buffer;
    lai_tensor cells_tensor;
    uint32_t dirty_lo, dirty_hi; /* rows changed since the last sync: [lo, hi) */
    uint32_t n_used;
} lai_kv_cache;

localai_status lai_kv_cache_init(lai_kv_cache *kv, lai_backend *backend, uint32_t type,
                                 uint32_t n_cells, uint32_t n_layer, uint32_t k_row,
                                 uint32_t v_row, uint32_t n_seq_max);
void lai_kv_cache_free(lai_kv_cache *kv);
size_t lai_kv_cache_bytes(const lai_kv_cache *kv);

static inline int32_t lai_kv_pos(const lai_kv_cache *kv, uint32_t cell) {
    return kv->cells[(size_t)cell * (1 + kv->seq_words)];
}

static inline int lai_kv_has_seq(const lai_kv_cache *kv, uint32_t cell, uint32_t s) {
    const uint32_t w = (uint32_t)kv->cells[(size_t)cell * (1 + kv->seq_words) + 1 + s / 32];
    return (int)((w >> (s % 32)) & 1u);
}

void lai_kv_clear(lai_kv_cache *kv);
/* Removes positions [p0, p1) (p1 < 0: to the end) of seq_id (< 0: every sequence). */
void lai_kv_remove(lai_kv_cache *kv, int32_t seq_id, int32_t p0, int32_t p1);
/* Adds dst to the cells of src with positions in [p0, p1). */
void lai_kv_copy(lai_kv_cache *kv, int32_t src, int32_t dst, int32_t p0, int32_t p1);
/* Largest position of seq_id, -1 when it has none. */
int32_t lai_kv_pos_max(const lai_kv_cache *kv, int32_t seq_id);

/* Finds n empty cells (lowest first) and writes their indices to slots; 0 when there are
 * fewer than n. */
int lai_kv_find_slots(const lai_kv_cache *kv, uint32_t n, int32_t *slots);
/* Fills the cells of a batch (token t at slots[t], position pos[t], sequence seq[t]) and
 * undoes that (the cells were empty before). */
void lai_kv_fill(lai_kv_cache *kv, uint32_t n, const int32_t *slots, const int32_t *pos,
                 const int32_t *seq);
void lai_kv_unfill(lai_kv_cache *kv, uint32_t n, const int32_t *slots);
/* One past the highest non-empty cell: attention only needs to look that far. */
uint32_t lai_kv_n_active(const lai_kv_cache *kv);
/* Sends the cell rows changed since the last sync to the device table. */
localai_status lai_kv_sync(lai_kv_cache *kv);

#endif /* LAI_KV_CACHE_H */
