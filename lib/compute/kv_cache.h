/* kv_cache.h - the KV cache: per-layer key/value tensors on a backend, cells with position and sequences, sliding windows. */
#ifndef LAI_KV_CACHE_H
#define LAI_KV_CACHE_H

#include "backend.h"

/*
 * Cells hold one token each: a position and the set of sequences it belongs to (kv_copy
 * shares cells rather than copying data); row c of a layer's K tensor holds the keys of
 * whatever token cell c holds (all KV heads), likewise V.
 *
 * Two groups of cells: `full` serves layers that attend to the whole context (n_ctx
 * cells); `swa` serves sliding-window layers (Gemma 2/3) and holds only what a window
 * needs, n_seq_max * n_swa + n_batch cells at most, so those layers' K and V stay small
 * however long the context. A token goes into one cell of each group. When the window
 * group runs out of room, cells no token can see any more are dropped, oldest first and
 * only as many as needed (a position p of sequence s is dead once every later token of s
 * sits n_swa or more past it); the
 * lowest position still held per sequence (`floor`) then rises, and decoding a token
 * whose window reaches below it (after kv_remove went back further than the window) is
 * refused rather than computed without its keys. Without sliding-window layers, or with
 * a window as long as the context, there is only the full group.
 *
 * Each group's cell table is a device tensor attention reads ([1 + seq_words, n_cells]
 * int32: position, -1 when empty, then the sequence bits), so which cells a token sees
 * is worked out inside attention; the host keeps the master copy and lai_kv_sync() sends
 * the rows changed since the last sync. Each layer's K and V live in a buffer of their
 * own, so no single allocation grows with the layer count.
 */
typedef struct lai_kv_cells {
    uint32_t n_cells, n_used;
    int32_t *cells;        /* host table: n_cells rows of 1 + seq_words */
    lai_buffer *buffer;
    lai_tensor tensor;     /* the device table */
    uint32_t dirty_lo, dirty_hi;
    int32_t *floor;        /* per sequence: positions below it may have been dropped */
} lai_kv_cells;

typedef struct lai_kv_cache {
    lai_backend *backend;
    uint32_t type;        /* LAI_TYPE_F16 or LAI_TYPE_F32 */
    uint32_t n_layer, n_seq_max, seq_words; /* seq_words: 32-bit words per cell */
    uint32_t n_swa;       /* the window of the swa group (0: no swa group) */
    lai_kv_cells full, swa;
    uint8_t *layer_swa;   /* per layer: 1 = its cells are in the swa group */
    lai_buffer **layers;  /* n_layer buffers: K then V */
    lai_tensor *k, *v;    /* n_layer each: [k_row, group's n_cells], [v_row, ...] */
} lai_kv_cache;

typedef struct lai_kv_shape {
    uint32_t type, n_ctx, n_layer, k_row, v_row, n_seq_max, n_batch;
    uint32_t n_swa;            /* sliding window of the layers marked in swa_layer, 0: none */
    const uint8_t *swa_layer;  /* n_layer flags, or NULL */
} lai_kv_shape;

localai_status lai_kv_cache_init(lai_kv_cache *kv, lai_backend *backend, const lai_kv_shape *shape);
void lai_kv_cache_free(lai_kv_cache *kv);
size_t lai_kv_cache_bytes(const lai_kv_cache *kv);

/* The cell group and cell table of layer il. */
static inline lai_kv_cells *lai_kv_group(lai_kv_cache *kv, uint32_t il) {
    return kv->layer_swa != NULL && kv->layer_swa[il] ? &kv->swa : &kv->full;
}

void lai_kv_clear(lai_kv_cache *kv);
/* Removes positions [p0, p1) (p1 < 0: to the end) of seq_id (< 0: every sequence). */
void lai_kv_remove(lai_kv_cache *kv, int32_t seq_id, int32_t p0, int32_t p1);
/* Adds dst to the cells of src with positions in [p0, p1). */
void lai_kv_copy(lai_kv_cache *kv, int32_t src, int32_t dst, int32_t p0, int32_t p1);
/* Largest position of seq_id, -1 when it has none. */
int32_t lai_kv_pos_max(const lai_kv_cache *kv, int32_t seq_id);

/* Places a batch (token t at position pos[t] of sequence seq[t]): a cell in each group
 * (slots[t], and swa_slots[t] when there is a swa group), dropping dead window cells if
 * the window group is short of room. CONTEXT_FULL when a group has no room (nothing is
 * changed); INVALID_ARGUMENT when a token's window reaches positions already dropped.
 * lai_kv_unplace() empties the cells again. */
localai_status lai_kv_place(lai_kv_cache *kv, uint32_t n, const int32_t *pos, const int32_t *seq,
                            int32_t *slots, int32_t *swa_slots);
void lai_kv_unplace(lai_kv_cache *kv, uint32_t n, const int32_t *slots, const int32_t *swa_slots);
/* One past the highest non-empty cell of a group: attention only needs to look that far. */
uint32_t lai_kv_n_active(const lai_kv_cells *g);
/* Cells in use in the full group (every token has one). */
uint32_t lai_kv_n_used(const lai_kv_cache *kv);
/* Sends the cell rows changed since the last sync to the device tables. */
localai_status lai_kv_sync(lai_kv_cache *kv);

#endif /* LAI_KV_CACHE_H */
