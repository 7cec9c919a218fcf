/* kv_cache.c - KV cache memory and cell bookkeeping: positions, sequences, sliding windows, the device cell tables. */
#include "kv_cache.h"

#include "../quant/quant.h"

#include <stdlib.h>

/* ---- one group of cells ------------------------------------------------------------ */

static size_t row_ints(const lai_kv_cache *kv) { return 1 + (size_t)kv->seq_words; }

static int32_t *cell_row(const lai_kv_cache *kv, const lai_kv_cells *g, uint32_t c) {
    return g->cells + (size_t)c * row_ints(kv);
}

static int32_t cell_pos(const lai_kv_cache *kv, const lai_kv_cells *g, uint32_t c) { return cell_row(kv, g, c)[0]; }

static int has_seq(const lai_kv_cache *kv, const lai_kv_cells *g, uint32_t c, uint32_t s) {
    return (int)(((uint32_t)cell_row(kv, g, c)[1 + s / 32] >> (s % 32)) & 1u);
}

static void mark_dirty(lai_kv_cells *g, uint32_t lo, uint32_t hi) {
    if (g->dirty_lo >= g->dirty_hi) {
        g->dirty_lo = lo;
        g->dirty_hi = hi;
        return;
    }
    if (lo < g->dirty_lo) g->dirty_lo = lo;
    if (hi > g->dirty_hi) g->dirty_hi = hi;
}

static void set_seq(const lai_kv_cache *kv, lai_kv_cells *g, uint32_t c, uint32_t s, int on) {
    int32_t *row = cell_row(kv, g, c);
    uint32_t w = (uint32_t)row[1 + s / 32];
    w = on ? w | (1u << (s % 32)) : w & ~(1u << (s % 32));
    row[1 + s / 32] = (int32_t)w;
    mark_dirty(g, c, c + 1);
}

static void cell_clear(const lai_kv_cache *kv, lai_kv_cells *g, uint32_t c) {
    int32_t *row = cell_row(kv, g, c);
    if (row[0] >= 0) g->n_used--;
    row[0] = -1;
    memset(row + 1, 0, kv->seq_words * sizeof(int32_t));
    mark_dirty(g, c, c + 1);
}

static int cell_no_seqs(const lai_kv_cache *kv, const lai_kv_cells *g, uint32_t c) {
    const int32_t *row = cell_row(kv, g, c);
    for (uint32_t w = 0; w < kv->seq_words; w++)
        if (row[1 + w] != 0) return 0;
    return 1;
}

static localai_status group_init(lai_kv_cache *kv, lai_kv_cells *g, uint32_t n_cells) {
    size_t table_bytes;
    if (lai_mul_overflow_size(row_ints(kv) * sizeof(int32_t), n_cells, &table_bytes))
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "KV cache: cell table size overflows");
    g->n_cells = n_cells;
    g->cells = lai_malloc(table_bytes);
    g->floor = lai_calloc(kv->n_seq_max, sizeof(int32_t));
    if (g->cells == NULL || g->floor == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "KV cache: no memory for %u cells", n_cells);
    localai_status st = kv->backend->vt->buffer_alloc(kv->backend, table_bytes, &g->buffer);
    if (st != LOCALAI_STATUS_OK) return lai_fail(st, "KV cache: cannot allocate a cell table");
    const int64_t ne[LAI_MAX_DIMS] = {(int64_t)row_ints(kv), n_cells, 1, 1};
    lai_tensor_set_dense(&g->tensor, LAI_TYPE_I32, ne);
    g->tensor.kind = LAI_TENSOR_EXTERNAL;
    g->tensor.buffer = g->buffer;
    g->tensor.name = "kv_cells";
    return LOCALAI_STATUS_OK;
}

static void group_free(lai_kv_cache *kv, lai_kv_cells *g) {
    if (g->buffer != NULL) kv->backend->vt->buffer_free(kv->backend, g->buffer);
    lai_free(g->cells);
    lai_free(g->floor);
    memset(g, 0, sizeof *g);
}

static void group_clear(lai_kv_cache *kv, lai_kv_cells *g) {
    if (g->cells == NULL) return;
    for (uint32_t c = 0; c < g->n_cells; c++) {
        int32_t *row = cell_row(kv, g, c);
        row[0] = -1;
        memset(row + 1, 0, kv->seq_words * sizeof(int32_t));
    }
    memset(g->floor, 0, kv->n_seq_max * sizeof(int32_t));
    g->n_used = 0;
    mark_dirty(g, 0, g->n_cells);
}

static int in_range(int32_t pos, int32_t p0, int32_t p1) { return pos >= p0 && (p1 < 0 || pos < p1); }

static void group_remove(lai_kv_cache *kv, lai_kv_cells *g, int32_t seq_id, int32_t p0, int32_t p1) {
    for (uint32_t c = 0; g->cells != NULL && c < g->n_cells; c++) {
        const int32_t pos = cell_pos(kv, g, c);
        if (pos < 0 || !in_range(pos, p0, p1)) continue;
        if (seq_id < 0) {
            cell_clear(kv, g, c);
            continue;
        }
        if (!has_seq(kv, g, c, (uint32_t)seq_id)) continue;
        set_seq(kv, g, c, (uint32_t)seq_id, 0);
        if (cell_no_seqs(kv, g, c)) cell_clear(kv, g, c);
    }
}

static void group_copy(lai_kv_cache *kv, lai_kv_cells *g, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
    for (uint32_t c = 0; g->cells != NULL && c < g->n_cells; c++) {
        const int32_t pos = cell_pos(kv, g, c);
        if (pos >= 0 && in_range(pos, p0, p1) && has_seq(kv, g, c, (uint32_t)src)) set_seq(kv, g, c, (uint32_t)dst, 1);
    }
    if (g->floor[src] > g->floor[dst]) g->floor[dst] = g->floor[src];
}

static int group_find_slots(const lai_kv_cache *kv, const lai_kv_cells *g, uint32_t n, int32_t *slots) {
    if (n > g->n_cells - g->n_used) return 0;
    uint32_t found = 0;
    for (uint32_t c = 0; c < g->n_cells && found < n; c++)
        if (cell_pos(kv, g, c) < 0) slots[found++] = (int32_t)c;
    return found == n;
}

static void group_fill(const lai_kv_cache *kv, lai_kv_cells *g, uint32_t n, const int32_t *slots, const int32_t *pos,
                       const int32_t *seq) {
    for (uint32_t t = 0; t < n; t++) {
        const uint32_t c = (uint32_t)slots[t];
        int32_t *row = cell_row(kv, g, c);
        if (row[0] < 0) g->n_used++;
        row[0] = pos[t];
        set_seq(kv, g, c, (uint32_t)seq[t], 1);
    }
}

static int32_t group_pos_max(const lai_kv_cache *kv, const lai_kv_cells *g, int32_t seq_id) {
    int32_t best = -1;
    for (uint32_t c = 0; c < g->n_cells; c++)
        if (cell_pos(kv, g, c) > best && has_seq(kv, g, c, (uint32_t)seq_id)) best = cell_pos(kv, g, c);
    return best;
}

static localai_status group_sync(lai_kv_cache *kv, lai_kv_cells *g) {
    if (g->cells == NULL || g->dirty_lo >= g->dirty_hi) return LOCALAI_STATUS_OK;
    const size_t row = row_ints(kv) * sizeof(int32_t);
    localai_status st = kv->backend->vt->tensor_write(kv->backend, &g->tensor, cell_row(kv, g, g->dirty_lo),
                                                      (size_t)g->dirty_lo * row, (size_t)(g->dirty_hi - g->dirty_lo) * row);
    if (st == LOCALAI_STATUS_OK) g->dirty_lo = g->dirty_hi = 0;
    return st;
}

/* ---- the cache ------------------------------------------------------------------------ */

localai_status lai_kv_cache_init(lai_kv_cache *kv, lai_backend *backend, const lai_kv_shape *s) {
    memset(kv, 0, sizeof *kv);
    if (s->type != LAI_TYPE_F16 && s->type != LAI_TYPE_F32)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "KV cache: type must be f16 or f32");
    if (s->n_ctx == 0 || s->n_layer == 0 || s->k_row == 0 || s->v_row == 0 || s->n_seq_max == 0 || s->n_batch == 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "KV cache: empty dimension");
    kv->backend = backend;
    kv->type = s->type;
    kv->n_layer = s->n_layer;
    kv->n_seq_max = s->n_seq_max;
    kv->seq_words = (s->n_seq_max + 31) / 32;
    /* The window group, when it is smaller than the context: each sequence's window plus
     * a batch of new tokens. */
    uint64_t swa_cells = (uint64_t)s->n_seq_max * s->n_swa + s->n_batch;
    int any_swa = 0;
    for (uint32_t il = 0; s->swa_layer != NULL && il < s->n_layer; il++) any_swa |= s->swa_layer[il] != 0;
    const int split = s->n_swa > 0 && any_swa && swa_cells < s->n_ctx;
    localai_status st = group_init(kv, &kv->full, s->n_ctx);
    if (st == LOCALAI_STATUS_OK && split) {
        kv->n_swa = s->n_swa;
        kv->layer_swa = lai_malloc(s->n_layer);
        st = kv->layer_swa != NULL ? group_init(kv, &kv->swa, (uint32_t)swa_cells)
                                   : lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "KV cache: no memory");
        if (kv->layer_swa != NULL) memcpy(kv->layer_swa, s->swa_layer, s->n_layer);
    }
    kv->k = lai_calloc(s->n_layer, sizeof *kv->k);
    kv->v = lai_calloc(s->n_layer, sizeof *kv->v);
    kv->layers = lai_calloc(s->n_layer, sizeof *kv->layers);
    if (st == LOCALAI_STATUS_OK && (kv->k == NULL || kv->v == NULL || kv->layers == NULL))
        st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "KV cache: no memory for %u layers", s->n_layer);
    const size_t esize = s->type == LAI_TYPE_F16 ? 2 : 4;
    for (uint32_t il = 0; il < s->n_layer && st == LOCALAI_STATUS_OK; il++) {
        const uint32_t n_cells = lai_kv_group(kv, il)->n_cells;
        size_t k_bytes, v_bytes, layer_bytes;
        if (lai_mul_overflow_size((size_t)s->k_row * esize, n_cells, &k_bytes) ||
            lai_mul_overflow_size((size_t)s->v_row * esize, n_cells, &v_bytes) ||
            lai_add_overflow_size(k_bytes, v_bytes, &layer_bytes)) {
            st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "KV cache: size overflows");
            break;
        }
        if (layer_bytes > backend->max_buffer) {
            st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY,
                          "KV cache: one layer needs %zu bytes, more than the device's largest buffer (%zu)",
                          layer_bytes, backend->max_buffer);
            break;
        }
        st = backend->vt->buffer_alloc(backend, layer_bytes, &kv->layers[il]);
        if (st != LOCALAI_STATUS_OK) {
            st = lai_fail(st, "KV cache: cannot allocate layer %u (%zu bytes: %u cells)", il, layer_bytes, n_cells);
            break;
        }
        const int64_t kne[LAI_MAX_DIMS] = {s->k_row, n_cells, 1, 1};
        const int64_t vne[LAI_MAX_DIMS] = {s->v_row, n_cells, 1, 1};
        lai_tensor_set_dense(&kv->k[il], s->type, kne);
        lai_tensor_set_dense(&kv->v[il], s->type, vne);
        kv->k[il].kind = kv->v[il].kind = LAI_TENSOR_EXTERNAL;
        kv->k[il].buffer = kv->v[il].buffer = kv->layers[il];
        kv->k[il].offset = 0;
        kv->v[il].offset = k_bytes;
        kv->k[il].name = "cache_k";
        kv->v[il].name = "cache_v";
    }
    if (st != LOCALAI_STATUS_OK) {
        lai_kv_cache_free(kv);
        return st;
    }
    lai_kv_clear(kv);
    return LOCALAI_STATUS_OK;
}

void lai_kv_cache_free(lai_kv_cache *kv) {
    if (kv == NULL || kv->backend == NULL) return;
    for (uint32_t il = 0; kv->layers != NULL && il < kv->n_layer; il++)
        if (kv->layers[il] != NULL) kv->backend->vt->buffer_free(kv->backend, kv->layers[il]);
    group_free(kv, &kv->full);
    group_free(kv, &kv->swa);
    lai_free(kv->layer_swa);
    lai_free(kv->layers);
    lai_free(kv->k);
    lai_free(kv->v);
    memset(kv, 0, sizeof *kv);
}

size_t lai_kv_cache_bytes(const lai_kv_cache *kv) {
    size_t n = 0;
    for (uint32_t il = 0; kv->layers != NULL && il < kv->n_layer; il++)
        if (kv->layers[il] != NULL) n += kv->layers[il]->size;
    return n;
}

void lai_kv_clear(lai_kv_cache *kv) {
    group_clear(kv, &kv->full);
    group_clear(kv, &kv->swa);
}

void lai_kv_remove(lai_kv_cache *kv, int32_t seq_id, int32_t p0, int32_t p1) {
    if (p0 < 0) p0 = 0;
    group_remove(kv, &kv->full, seq_id, p0, p1);
    group_remove(kv, &kv->swa, seq_id, p0, p1);
    /* a sequence emptied starts over: nothing of it is missing any more */
    if (kv->swa.cells != NULL)
        for (uint32_t s = 0; s < kv->n_seq_max; s++)
            if ((seq_id < 0 || (uint32_t)seq_id == s) && kv->swa.floor[s] > 0 && group_pos_max(kv, &kv->full, (int32_t)s) < 0)
                kv->swa.floor[s] = 0;
}

void lai_kv_copy(lai_kv_cache *kv, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
    if (src == dst) return;
    if (p0 < 0) p0 = 0;
    group_copy(kv, &kv->full, src, dst, p0, p1);
    if (kv->swa.cells != NULL) group_copy(kv, &kv->swa, src, dst, p0, p1);
}

int32_t lai_kv_pos_max(const lai_kv_cache *kv, int32_t seq_id) { return group_pos_max(kv, &kv->full, seq_id); }

uint32_t lai_kv_n_used(const lai_kv_cache *kv) { return kv->full.n_used; }

uint32_t lai_kv_n_active(const lai_kv_cells *g) {
    const uint32_t stride = (uint32_t)(g->tensor.ne[0]);
    for (uint32_t c = g->n_cells; c > 0; c--)
        if (g->cells[(size_t)(c - 1) * stride] >= 0) return c;
    return 0;
}

typedef struct dead_cell {
    int32_t pos;
    uint32_t cell;
} dead_cell;

static int by_pos(const void *a, const void *b) {
    const dead_cell *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Makes room for `need` cells in the window group by dropping cells no token of any of
 * their sequences can see again (for a sequence in the batch, none of the batch's tokens
 * nor later ones reaches them; for the others, none of their later tokens), oldest first
 * and only as many as needed, so kv_remove can go back as far as the group allows. */
static localai_status drop_dead_window_cells(lai_kv_cache *kv, uint32_t need, uint32_t n, const int32_t *pos,
                                             const int32_t *seq) {
    lai_kv_cells *g = &kv->swa;
    int32_t *bound = lai_malloc(kv->n_seq_max * sizeof(int32_t));
    dead_cell *dead = lai_malloc((size_t)g->n_cells * sizeof *dead);
    if (bound == NULL || dead == NULL) {
        lai_free(bound);
        lai_free(dead);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "localai_decode: no memory");
    }
    for (uint32_t s = 0; s < kv->n_seq_max; s++) bound[s] = INT32_MIN;
    for (uint32_t c = 0; c < g->n_cells; c++) { /* each sequence's next position */
        const int32_t p = cell_pos(kv, g, c);
        if (p < 0) continue;
        for (uint32_t s = 0; s < kv->n_seq_max; s++)
            if (has_seq(kv, g, c, s) && p + 1 > bound[s]) bound[s] = p + 1;
    }
    for (uint32_t t = 0; t < n; t++) bound[seq[t]] = INT32_MAX;
    for (uint32_t t = 0; t < n; t++)
        if (pos[t] < bound[seq[t]]) bound[seq[t]] = pos[t];
    uint32_t n_dead = 0;
    for (uint32_t c = 0; c < g->n_cells; c++) {
        const int32_t p = cell_pos(kv, g, c);
        if (p < 0) continue;
        int is_dead = 1;
        for (uint32_t s = 0; s < kv->n_seq_max && is_dead; s++)
            if (has_seq(kv, g, c, s) && (int64_t)p > (int64_t)bound[s] - kv->n_swa) is_dead = 0;
        if (is_dead) dead[n_dead++] = (dead_cell){p, c};
    }
    qsort(dead, n_dead, sizeof *dead, by_pos);
    for (uint32_t i = 0; i < n_dead && g->n_cells - g->n_used < need; i++) {
        const uint32_t c = dead[i].cell;
        for (uint32_t s = 0; s < kv->n_seq_max; s++)
            if (has_seq(kv, g, c, s) && dead[i].pos + 1 > g->floor[s]) g->floor[s] = dead[i].pos + 1;
        cell_clear(kv, g, c);
    }
    lai_free(bound);
    lai_free(dead);
    return LOCALAI_STATUS_OK;
}

localai_status lai_kv_place(lai_kv_cache *kv, uint32_t n, const int32_t *pos, const int32_t *seq,
                            int32_t *slots, int32_t *swa_slots) {
    lai_kv_cells *full = &kv->full, *swa = &kv->swa;
    if (!group_find_slots(kv, full, n, slots))
        return lai_fail(LOCALAI_STATUS_CONTEXT_FULL,
                        "localai_decode: the KV cache has room for %u more tokens, the batch has %u (n_ctx %u)",
                        full->n_cells - full->n_used, n, full->n_cells);
    if (swa->cells != NULL) {
        for (uint32_t t = 0; t < n; t++) {
            const int64_t lowest = (int64_t)pos[t] - kv->n_swa + 1; /* the first position its window needs */
            if (lowest > 0 && swa->floor[seq[t]] > lowest)
                return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                                "localai_decode: sequence %d: the sliding-window cache (window %u) no longer holds "
                                "positions below %d, which the token at position %d needs; remove the sequence "
                                "and decode it again from its start",
                                (int)seq[t], kv->n_swa, (int)swa->floor[seq[t]], (int)pos[t]);
        }
        if (swa->n_cells - swa->n_used < n) {
            localai_status st = drop_dead_window_cells(kv, n, n, pos, seq);
            if (st != LOCALAI_STATUS_OK) return st;
        }
        if (!group_find_slots(kv, swa, n, swa_slots))
            return lai_fail(LOCALAI_STATUS_CONTEXT_FULL,
                            "localai_decode: the sliding-window cache has room for %u more tokens, the batch has %u",
                            swa->n_cells - swa->n_used, n);
        group_fill(kv, swa, n, swa_slots, pos, seq);
    }
    group_fill(kv, full, n, slots, pos, seq);
    return LOCALAI_STATUS_OK;
}

void lai_kv_unplace(lai_kv_cache *kv, uint32_t n, const int32_t *slots, const int32_t *swa_slots) {
    for (uint32_t t = 0; t < n; t++) {
        cell_clear(kv, &kv->full, (uint32_t)slots[t]);
        if (kv->swa.cells != NULL) cell_clear(kv, &kv->swa, (uint32_t)swa_slots[t]);
    }
}

localai_status lai_kv_sync(lai_kv_cache *kv) {
    localai_status st = group_sync(kv, &kv->full);
    if (st == LOCALAI_STATUS_OK) st = group_sync(kv, &kv->swa);
    return st;
}
