/* kv_cache.c - KV cache memory and cell bookkeeping (positions, sequence membership, masks). */
#include "kv_cache.h"

#include <math.h>

#include "../quant/quant.h"

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
    kv->seq_words = (n_seq_max + 63) / 64;
    const size_t esize = type == LAI_TYPE_F16 ? 2 : 4;
    size_t k_bytes, v_bytes, layer_bytes, total;
    if (lai_mul_overflow_size((size_t)k_row * esize, n_cells, &k_bytes) ||
        lai_mul_overflow_size((size_t)v_row * esize, n_cells, &v_bytes) ||
        lai_add_overflow_size(k_bytes, v_bytes, &layer_bytes) ||
        lai_mul_overflow_size(layer_bytes, n_layer, &total))
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "KV cache: size overflows");
    kv->k = lai_calloc(n_layer, sizeof *kv->k);
    kv->v = lai_calloc(n_layer, sizeof *kv->v);
    kv->pos = lai_malloc((size_t)n_cells * sizeof *kv->pos);
    kv->seq = lai_calloc((size_t)n_cells * kv->seq_words, sizeof *kv->seq);
    if (kv->k == NULL || kv->v == NULL || kv->pos == NULL || kv->seq == NULL) {
        lai_kv_cache_free(kv);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "KV cache: no memory for %u cells", n_cells);
    }
    localai_status st = backend->vt->buffer_alloc(backend, total, &kv->buffer);
    if (st != LOCALAI_STATUS_OK) {
        lai_kv_cache_free(kv);
        return lai_fail(st, "KV cache: cannot allocate %zu bytes (%u cells x %u layers)", total,
                        n_cells, n_layer);
    }
    for (uint32_t il = 0; il < n_layer; il++) {
        const int64_t kne[LAI_MAX_DIMS] = {k_row, n_cells, 1, 1};
        const int64_t vne[LAI_MAX_DIMS] = {v_row, n_cells, 1, 1};
        lai_tensor_set_dense(&kv->k[il], type, kne);
        lai_tensor_set_dense(&kv->v[il], type, vne);
        kv->k[il].kind = kv->v[il].kind = LAI_TENSOR_EXTERNAL;
        kv->k[il].buffer = kv->v[il].buffer = kv->buffer;
        kv->k[il].offset = (size_t)il * layer_bytes;
        kv->v[il].offset = (size_t)il * layer_bytes + k_bytes;
        kv->k[il].name = "cache_k";
        kv->v[il].name = "cache_v";
    }
    lai_kv_clear(kv);
    return LOCALAI_STATUS_OK;
}

void lai_kv_cache_free(lai_kv_cache *kv) {
    if (kv == NULL) return;
    if (kv->buffer != NULL) kv->backend->vt->buffer_free(kv->backend, kv->buffer);
    lai_free(kv->k);
    lai_free(kv->v);
    lai_free(kv->pos);
    lai_free(kv->seq);
    memset(kv, 0, sizeof *kv);
}

size_t lai_kv_cache_bytes(const lai_kv_cache *kv) {
    return kv->buffer != NULL ? kv->buffer->size : 0;
}

static void cell_clear(lai_kv_cache *kv, uint32_t c) {
    if (kv->pos[c] >= 0) kv->n_used--;
    kv->pos[c] = -1;
    memset(&kv->seq[(size_t)c * kv->seq_words], 0, kv->seq_words * sizeof *kv->seq);
}

static int cell_empty_seqs(const lai_kv_cache *kv, uint32_t c) {
    for (uint32_t w = 0; w < kv->seq_words; w++)
        if (kv->seq[(size_t)c * kv->seq_words + w] != 0) return 0;
    return 1;
}

void lai_kv_clear(lai_kv_cache *kv) {
    for (uint32_t c = 0; c < kv->n_cells; c++) kv->pos[c] = -1;
    memset(kv->seq, 0, (size_t)kv->n_cells * kv->seq_words * sizeof *kv->seq);
    kv->n_used = 0;
}

static int in_range(int32_t pos, int32_t p0, int32_t p1) {
    return pos >= p0 && (p1 < 0 || pos < p1);
}

void lai_kv_remove(lai_kv_cache *kv, int32_t seq_id, int32_t p0, int32_t p1) {
    if (p0 < 0) p0 = 0;
    for (uint32_t c = 0; c < kv->n_cells; c++) {
        if (kv->pos[c] < 0 || !in_range(kv->pos[c], p0, p1)) continue;
        if (seq_id < 0) {
            cell_clear(kv, c);
            continue;
        }
        if (!lai_kv_has_seq(kv, c, (uint32_t)seq_id)) continue;
        kv->seq[(size_t)c * kv->seq_words + (uint32_t)seq_id / 64] &= ~(1ull << ((uint32_t)seq_id % 64));
        if (cell_empty_seqs(kv, c)) cell_clear(kv, c);
    }
}

void lai_kv_copy(lai_kv_cache *kv, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
    if (src == dst) return;
    if (p0 < 0) p0 = 0;
    for (uint32_t c = 0; c < kv->n_cells; c++)
        if (kv->pos[c] >= 0 && in_range(kv->pos[c], p0, p1) && lai_kv_has_seq(kv, c, (uint32_t)src))
            kv->seq[(size_t)c * kv->seq_words + (uint32_t)dst / 64] |= 1ull << ((uint32_t)dst % 64);
}

int32_t lai_kv_pos_max(const lai_kv_cache *kv, int32_t seq_id) {
    int32_t best = -1;
    for (uint32_t c = 0; c < kv->n_cells; c++)
        if (kv->pos[c] > best && lai_kv_has_seq(kv, c, (uint32_t)seq_id)) best = kv->pos[c];
    return best;
}

int lai_kv_find_slots(const lai_kv_cache *kv, uint32_t n, int32_t *slots) {
    if (n > kv->n_cells - kv->n_used) return 0;
    uint32_t found = 0;
    for (uint32_t c = 0; c < kv->n_cells && found < n; c++)
        if (kv->pos[c] < 0) slots[found++] = (int32_t)c;
    return found == n;
}

void lai_kv_fill(lai_kv_cache *kv, uint32_t n, const int32_t *slots, const int32_t *pos,
                 const int32_t *seq) {
    for (uint32_t t = 0; t < n; t++) {
        uint32_t c = (uint32_t)slots[t];
        if (kv->pos[c] < 0) kv->n_used++;
        kv->pos[c] = pos[t];
        kv->seq[(size_t)c * kv->seq_words + (uint32_t)seq[t] / 64] |= 1ull << ((uint32_t)seq[t] % 64);
    }
}

void lai_kv_unfill(lai_kv_cache *kv, uint32_t n, const int32_t *slots) {
    for (uint32_t t = 0; t < n; t++) cell_clear(kv, (uint32_t)slots[t]);
}

uint32_t lai_kv_n_active(const lai_kv_cache *kv) {
    for (uint32_t c = kv->n_cells; c > 0; c--)
        if (kv->pos[c - 1] >= 0) return c;
    return 0;
}

void lai_kv_build_mask(const lai_kv_cache *kv, uint32_t n_kv, uint32_t n_tokens,
                       const int32_t *pos, const int32_t *seq, uint32_t n_swa, float *mask) {
    for (uint32_t t = 0; t < n_tokens; t++) {
        float *row = mask + (size_t)t * n_kv;
        const uint32_t s = (uint32_t)seq[t];
        const int64_t p = pos[t];
        for (uint32_t c = 0; c < n_kv; c++) {
            const int64_t cp = kv->pos[c];
            int visible = cp >= 0 && cp <= p && lai_kv_has_seq(kv, c, s);
            if (visible && n_swa > 0 && p - cp >= (int64_t)n_swa) visible = 0;
            row[c] = visible ? 0.0f : -INFINITY;
        }
    }
}
