/* kv_cache.c - KV cache memory and cell bookkeeping (positions, sequence membership, the device cell table). */
#include "kv_cache.h"

#include "../quant/quant.h"

static size_t row_ints(const lai_kv_cache *kv) { return 1 + (size_t)kv->seq_words; }

static int32_t *cell_row(lai_kv_cache *kv, uint32_t c) { return kv->cells + (size_t)c * row_ints(kv); }

static void mark_dirty(lai_kv_cache *kv, uint32_t lo, uint32_t hi) {
    if (kv->dirty_lo >= kv->dirty_hi) {
        kv->dirty_lo = lo;
        kv->dirty_hi = hi;
        return;
    }
    if (lo < kv->dirty_lo) kv->dirty_lo = lo;
    if (hi > kv->dirty_hi) kv->dirty_hi = hi;
}

localai_status lai_kv_cache_init(lai_kv_cache *kv, lai_backend *backend, uint32_t type,
                                 uint32_t n_cells, uint32_t n_layer, uint32_t k_row,
                                 uint32_t v_row, uint32_t n_seq_max) {
    memset(kv, 0, sizeof *kv);
    if (type != LAI_TYPE_F16 && type != LAI_TYPE_F32)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "KV cache: type must be f16 or f32");
    if (n_cells == 0 || n_layer == 0 || k_row == 0 || v_row == 0 || n_seq_max == 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "KV cache: empty dimension");
    kv->backend = backend;
    kv->type = type;
    kv->n_cells = n_cells;
    kv->n_layer = n_layer;
    kv->n_seq_max = n_seq_max;
    kv->seq_words = (n_seq_max + 31) / 32;
    const size_t esize = type == LAI_TYPE_F16 ? 2 : 4;
    size_t k_bytes, v_bytes, layer_bytes, table_bytes;
    if (lai_mul_overflow_size((size_t)k_row * esize, n_cells, &k_bytes) ||
        lai_mul_overflow_size((size_t)v_row * esize, n_cells, &v_bytes) ||
        lai_add_overflow_size(k_bytes, v_bytes, &layer_bytes) ||
        lai_mul_overflow_size(row_ints(kv) * sizeof(int32_t), n_cells, &table_bytes))
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "KV cache: size overflows");
    if (layer_bytes > backend->max_buffer)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY,
                        "KV cache: one layer needs %zu bytes, more than the device's largest buffer (%zu)",
                        layer_bytes, backend->max_buffer);
    kv->k = lai_calloc(n_layer, sizeof *kv->k);
    kv->v = lai_calloc(n_layer, sizeof *kv->v);
    kv->layers = lai_calloc(n_layer, sizeof *kv->layers);
    kv->cells = lai_malloc(table_bytes);
    if (kv->k == NULL || kv->v == NULL || kv->layers == NULL || kv->cells == NULL) {
        lai_kv_cache_free(kv);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "KV cache: no memory for %u cells", n_cells);
    }
    for (uint32_t il = 0; il < n_layer; il++) {
        localai_status st = backend->vt->buffer_alloc(backend, layer_bytes, &kv->layers[il]);
        if (st != LOCALAI_STATUS_OK) {
            lai_kv_cache_free(kv);
            return lai_fail(st, "KV cache: cannot allocate layer %u (%zu bytes: %u cells)", il, layer_bytes,
                            n_cells);
        }
        const int64_t kne[LAI_MAX_DIMS] = {k_row, n_cells, 1, 1};
        const int64_t vne[LAI_MAX_DIMS] = {v_row, n_cells, 1, 1};
        lai_tensor_set_dense(&kv->k[il], type, kne);
        lai_tensor_set_dense(&kv->v[il], type, vne);
        kv->k[il].kind = kv->v[il].kind = LAI_TENSOR_EXTERNAL;
        kv->k[il].buffer = kv->v[il].buffer = kv->layers[il];
        kv->k[il].offset = 0;
        kv->v[il].offset = k_bytes;
        kv->k[il].name = "cache_k";
        kv->v[il].name = "cache_v";
    }
    localai_status st = backend->vt->buffer_alloc(backend, table_bytes, &kv->cells_buffer);
    if (st != LOCALAI_STATUS_OK) {
        lai_kv_cache_free(kv);
        return lai_fail(st, "KV cache: cannot allocate the cell table");
    }
    const int64_t tne[LAI_MAX_DIMS] = {(int64_t)row_ints(kv), n_cells, 1, 1};
    lai_tensor_set_dense(&kv->cells_tensor, LAI_TYPE_I32, tne);
    kv->cells_tensor.kind = LAI_TENSOR_EXTERNAL;
    kv->cells_tensor.buffer = kv->cells_buffer;
    kv->cells_tensor.name = "kv_cells";
    lai_kv_clear(kv);
    return LOCALAI_STATUS_OK;
}

void lai_kv_cache_free(lai_kv_cache *kv) {
    if (kv == NULL) return;
    for (uint32_t il = 0; kv->layers != NULL && il < kv->n_layer; il++)
        if (kv->layers[il] != NULL) kv->backend->vt->buffer_free(kv->backend, kv->layers[il]);
    if (kv->cells_buffer != NULL) kv->backend->vt->buffer_free(kv->backend, kv->cells_buffer);
    lai_free(kv->layers);
    lai_free(kv->k);
    lai_free(kv->v);
    lai_free(kv->cells);
    memset(kv, 0, sizeof *kv);
}

size_t lai_kv_cache_bytes(const lai_kv_cache *kv) {
    size_t n = 0;
    for (uint32_t il = 0; kv->layers != NULL && il < kv->n_layer; il++)
        if (kv->layers[il] != NULL) n += kv->layers[il]->size;
    return n;
}

static void cell_clear(lai_kv_cache *kv, uint32_t c) {
    int32_t *row = cell_row(kv, c);
    if (row[0] >= 0) kv->n_used--;
    row[0] = -1;
    memset(row + 1, 0, kv->seq_words * sizeof(int32_t));
    mark_dirty(kv, c, c + 1);
}

static int cell_empty_seqs(lai_kv_cache *kv, uint32_t c) {
    const int32_t *row = cell_row(kv, c);
    for (uint32_t w = 0; w < kv->seq_words; w++)
        if (row[1 + w] != 0) return 0;
    return 1;
}

static void set_seq(lai_kv_cache *kv, uint32_t c, uint32_t s, int on) {
    int32_t *row = cell_row(kv, c);
    uint32_t w = (uint32_t)row[1 + s / 32];
    w = on ? w | (1u << (s % 32)) : w & ~(1u << (s % 32));
    row[1 + s / 32] = (int32_t)w;
    mark_dirty(kv, c, c + 1);
}

void lai_kv_clear(lai_kv_cache *kv) {
    for (uint32_t c = 0; c < kv->n_cells; c++) {
        int32_t *row = cell_row(kv, c);
        row[0] = -1;
        memset(row + 1, 0, kv->seq_words * sizeof(int32_t));
    }
    kv->n_used = 0;
    mark_dirty(kv, 0, kv->n_cells);
}

static int in_range(int32_t pos, int32_t p0, int32_t p1) {
    return pos >= p0 && (p1 < 0 || pos < p1);
}

void lai_kv_remove(lai_kv_cache *kv, int32_t seq_id, int32_t p0, int32_t p1) {
    if (p0 < 0) p0 = 0;
    for (uint32_t c = 0; c < kv->n_cells; c++) {
        const int32_t pos = lai_kv_pos(kv, c);
        if (pos < 0 || !in_range(pos, p0, p1)) continue;
        if (seq_id < 0) {
            cell_clear(kv, c);
            continue;
        }
        if (!lai_kv_has_seq(kv, c, (uint32_t)seq_id)) continue;
        set_seq(kv, c, (uint32_t)seq_id, 0);
        if (cell_empty_seqs(kv, c)) cell_clear(kv, c);
    }
}

void lai_kv_copy(lai_kv_cache *kv, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
    if (src == dst) return;
    if (p0 < 0) p0 = 0;
    for (uint32_t c = 0; c < kv->n_cells; c++) {
        const int32_t pos = lai_kv_pos(kv, c);
        if (pos >= 0 && in_range(pos, p0, p1) && lai_kv_has_seq(kv, c, (uint32_t)src))
            set_seq(kv, c, (uint32_t)dst, 1);
    }
}

int32_t lai_kv_pos_max(const lai_kv_cache *kv, int32_t seq_id) {
    int32_t best = -1;
    for (uint32_t c = 0; c < kv->n_cells; c++)
        if (lai_kv_pos(kv, c) > best && lai_kv_has_seq(kv, c, (uint32_t)seq_id)) best = lai_kv_pos(kv, c);
    return best;
}

int lai_kv_find_slots(const lai_kv_cache *kv, uint32_t n, int32_t *slots) {
    if (n > kv->n_cells - kv->n_used) return 0;
    uint32_t found = 0;
    for (uint32_t c = 0; c < kv->n_cells && found < n; c++)
        if (lai_kv_pos(kv, c) < 0) slots[found++] = (int32_t)c;
    return found == n;
}

void lai_kv_fill(lai_kv_cache *kv, uint32_t n, const int32_t *slots, const int32_t *pos,
                 const int32_t *seq) {
    for (uint32_t t = 0; t < n; t++) {
        const uint32_t c = (uint32_t)slots[t];
        int32_t *row = cell_row(kv, c);
        if (row[0] < 0) kv->n_used++;
        row[0] = pos[t];
        set_seq(kv, c, (uint32_t)seq[t], 1);
    }
}

void lai_kv_unfill(lai_kv_cache *kv, uint32_t n, const int32_t *slots) {
    for (uint32_t t = 0; t < n; t++) cell_clear(kv, (uint32_t)slots[t]);
}

uint32_t lai_kv_n_active(const lai_kv_cache *kv) {
    for (uint32_t c = kv->n_cells; c > 0; c--)
        if (lai_kv_pos(kv, c - 1) >= 0) return c;
    return 0;
}

localai_status lai_kv_sync(lai_kv_cache *kv) {
    if (kv->dirty_lo >= kv->dirty_hi) return LOCALAI_STATUS_OK;
    const size_t row = row_ints(kv) * sizeof(int32_t);
    localai_status st = kv->backend->vt->tensor_write(kv->backend, &kv->cells_tensor,
                                                      cell_row(kv, kv->dirty_lo), (size_t)kv->dirty_lo * row,
                                                      (size_t)(kv->dirty_hi - kv->dirty_lo) * row);
    if (st == LOCALAI_STATUS_OK) kv->dirty_lo = kv->dirty_hi = 0;
    return st;
}
