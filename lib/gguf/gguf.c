/* gguf.c - the GGUF reader: parses and validates a whole file image before anything uses it. */
#include "gguf_internal.h"

#include "../quant/quant.h"

#include <stdio.h>
#include <stdlib.h>

/* Limits on names. Keys: the specification allows up to 65535 bytes. Tensor names: the
 * specification says 64, llama.cpp refuses 64 and more; we allow a little more slack. */
#define GGUF_MAX_KEY_LEN 65535u
#define GGUF_MAX_TENSOR_NAME_LEN 256u
#define GGUF_DEFAULT_ALIGNMENT 32u

/* Smallest encodings, used to reject counts that the remaining bytes cannot hold before
 * anything is allocated for them. */
#define GGUF_MIN_KV_BYTES 14u     /* key length 8 + 1 key byte + type 4 + 1 value byte */
#define GGUF_MIN_TENSOR_BYTES 33u /* name length 8 + 1 + n_dims 4 + ne 8 + type 4 + offset 8 */

typedef struct reader {
    const uint8_t *data;
    uint64_t size;
    uint64_t pos;
} reader;

static uint64_t rd_left(const reader *r) { return r->size - r->pos; }

static const uint8_t *rd_take(reader *r, uint64_t n) {
    if (n > rd_left(r)) return NULL;
    const uint8_t *p = r->data + r->pos;
    r->pos += n;
    return p;
}

static int rd_u32(reader *r, uint32_t *out) {
    const uint8_t *p = rd_take(r, 4);
    if (p == NULL) return 0;
    *out = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return 1;
}

static int rd_u64(reader *r, uint64_t *out) {
    const uint8_t *p = rd_take(r, 8);
    if (p == NULL) return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    *out = v;
    return 1;
}

uint64_t lai_gguf_scalar_size(uint32_t type) {
    switch (type) {
    case LAI_GGUF_UINT8: case LAI_GGUF_INT8: case LAI_GGUF_BOOL: return 1;
    case LAI_GGUF_UINT16: case LAI_GGUF_INT16: return 2;
    case LAI_GGUF_UINT32: case LAI_GGUF_INT32: case LAI_GGUF_FLOAT32: return 4;
    case LAI_GGUF_UINT64: case LAI_GGUF_INT64: case LAI_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

const char *lai_gguf_type_name(uint32_t type) {
    static const char *const names[LAI_GGUF_TYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array",
        "u64", "i64", "f64"};
    return type < LAI_GGUF_TYPE_COUNT ? names[type] : "unknown";
}

/* Copies a name out of the file into a NUL-terminated string after checking it. `what`
 * and `index` name the entry in messages. */
static localai_status read_name(reader *r, const char *what, uint64_t index, uint64_t max_len,
                                char **out) {
    uint64_t at = r->pos;
    uint64_t len;
    if (!rd_u64(r, &len))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "%s %llu: the name length at offset %llu is past the end of the file",
                        what, (unsigned long long)index, (unsigned long long)at);
    if (len == 0)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "%s %llu: empty name at offset %llu", what,
                        (unsigned long long)index, (unsigned long long)at);
    if (len > max_len)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "%s %llu: name length %llu at offset %llu exceeds the limit of %llu",
                        what, (unsigned long long)index, (unsigned long long)len,
                        (unsigned long long)at, (unsigned long long)max_len);
    const uint8_t *p = rd_take(r, len);
    if (p == NULL)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "%s %llu: name of %llu bytes at offset %llu runs past the end of the "
                        "file (%llu bytes left)",
                        what, (unsigned long long)index, (unsigned long long)len,
                        (unsigned long long)at, (unsigned long long)(rd_left(r)));
    if (memchr(p, 0, (size_t)len) != NULL)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "%s %llu: name at offset %llu contains a NUL byte", what,
                        (unsigned long long)index, (unsigned long long)at);
    char *s = lai_malloc((size_t)len + 1);
    if (s == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "%s %llu: cannot allocate its name", what,
                        (unsigned long long)index);
    memcpy(s, p, (size_t)len);
    s[len] = '\0';
    *out = s;
    return LOCALAI_STATUS_OK;
}

/* Walks `n` strings starting at the reader's position, checking every length against
 * the bytes left; when `dst` is not NULL records them. */
static localai_status walk_strings(reader *r, const char *key, uint64_t n, lai_str *dst) {
    for (uint64_t i = 0; i < n; i++) {
        uint64_t at = r->pos;
        uint64_t len;
        if (!rd_u64(r, &len))
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "key '%s': string %llu: its length at offset %llu is past the end "
                            "of the file",
                            key, (unsigned long long)i, (unsigned long long)at);
        const uint8_t *p = rd_take(r, len);
        if (p == NULL)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "key '%s': string %llu: length %llu at offset %llu runs past the "
                            "end of the file (%llu bytes left)",
                            key, (unsigned long long)i, (unsigned long long)len,
                            (unsigned long long)at, (unsigned long long)rd_left(r));
        if (dst != NULL) {
            dst[i].ptr = (const char *)p;
            dst[i].len = len;
        }
    }
    return LOCALAI_STATUS_OK;
}

static localai_status check_bools(const char *key, const uint8_t *p, uint64_t n, uint64_t at) {
    for (uint64_t i = 0; i < n; i++)
        if (p[i] > 1)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "key '%s': boolean value %u at offset %llu is neither 0 nor 1", key,
                            (unsigned)p[i], (unsigned long long)(at + i));
    return LOCALAI_STATUS_OK;
}

static localai_status read_value(reader *r, lai_gguf_kv *kv) {
    const char *key = kv->key;
    uint64_t at = r->pos;
    if (kv->type == LAI_GGUF_STRING) {
        reader probe = *r;
        localai_status st = walk_strings(&probe, key, 1, NULL);
        if (st != LOCALAI_STATUS_OK) return st;
        kv->strings = lai_malloc(sizeof(lai_str));
        if (kv->strings == NULL)
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "key '%s': out of memory", key);
        kv->value = r->data + r->pos;
        return walk_strings(r, key, 1, kv->strings);
    }
    if (kv->type != LAI_GGUF_ARRAY) {
        uint64_t n = lai_gguf_scalar_size(kv->type);
        const uint8_t *p = rd_take(r, n);
        if (p == NULL)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "key '%s': %s value at offset %llu is past the end of the file", key,
                            lai_gguf_type_name(kv->type), (unsigned long long)at);
        kv->value = p;
        if (kv->type == LAI_GGUF_BOOL) return check_bools(key, p, 1, at);
        return LOCALAI_STATUS_OK;
    }
    uint32_t et;
    uint64_t n;
    if (!rd_u32(r, &et) || !rd_u64(r, &n))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s': array header at offset %llu is past the end of the file", key,
                        (unsigned long long)at);
    if (et >= LAI_GGUF_TYPE_COUNT)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s': unknown array element type %u at offset %llu", key, et,
                        (unsigned long long)at);
    if (et == LAI_GGUF_ARRAY)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s': arrays of arrays are not supported (offset %llu)", key,
                        (unsigned long long)at);
    kv->array_type = et;
    kv->array_len = n;
    kv->value = r->data + r->pos;
    if (et == LAI_GGUF_STRING) {
        /* Each string takes at least its 8-byte length, so the count is bounded by the
         * bytes left; the first walk validates every length before we allocate. */
        if (n > rd_left(r) / 8)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "key '%s': array of %llu strings at offset %llu cannot fit in the "
                            "%llu bytes left",
                            key, (unsigned long long)n, (unsigned long long)at,
                            (unsigned long long)rd_left(r));
        reader probe = *r;
        localai_status st = walk_strings(&probe, key, n, NULL);
        if (st != LOCALAI_STATUS_OK) return st;
        kv->strings = lai_calloc((size_t)n, sizeof(lai_str));
        if (kv->strings == NULL)
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY,
                            "key '%s': cannot allocate %llu string entries", key,
                            (unsigned long long)n);
        return walk_strings(r, key, n, kv->strings);
    }
    uint64_t bytes;
    if (lai_mul_overflow_u64(n, lai_gguf_scalar_size(et), &bytes) || bytes > rd_left(r))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s': array of %llu %s values at offset %llu runs past the end of "
                        "the file (%llu bytes left)",
                        key, (unsigned long long)n, lai_gguf_type_name(et),
                        (unsigned long long)at, (unsigned long long)rd_left(r));
    const uint8_t *p = rd_take(r, bytes);
    if (et == LAI_GGUF_BOOL) return check_bools(key, p, n, r->pos - bytes);
    return LOCALAI_STATUS_OK;
}

static int cmp_kv_key(const void *a, const void *b) {
    const lai_gguf_kv *x = *(lai_gguf_kv *const *)a, *y = *(lai_gguf_kv *const *)b;
    return strcmp(x->key, y->key);
}

static int cmp_tensor_name(const void *a, const void *b) {
    const lai_gguf_tensor *x = *(lai_gguf_tensor *const *)a, *y = *(lai_gguf_tensor *const *)b;
    return strcmp(x->name, y->name);
}

static int cmp_tensor_offset(const void *a, const void *b) {
    const lai_gguf_tensor *x = *(lai_gguf_tensor *const *)a, *y = *(lai_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset ? 1 : 0;
}

/* Grows an array of `elem` bytes to hold at least `need` entries (amortised doubling), so
 * memory follows what was actually parsed, not what a header claims. */
static int grow(void **arr, uint64_t *cap, uint64_t need, size_t elem) {
    if (need <= *cap) return 1;
    uint64_t n = *cap ? *cap * 2 : 16;
    if (n < need) n = need;
    uint64_t bytes;
    if (lai_mul_overflow_u64(n, elem, &bytes) || bytes > SIZE_MAX) return 0;
    void *p = lai_realloc(*arr, (size_t)bytes);
    if (p == NULL) return 0;
    memset((char *)p + *cap * elem, 0, (size_t)((n - *cap) * elem));
    *arr = p;
    *cap = n;
    return 1;
}

static localai_status parse_kvs(reader *r, lai_gguf *g, uint64_t n_kv) {
    uint64_t cap = 0;
    for (uint64_t i = 0; i < n_kv; i++) {
        if (!grow((void **)&g->kv, &cap, i + 1, sizeof(lai_gguf_kv)))
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate metadata entries");
        lai_gguf_kv *kv = &g->kv[i];
        g->n_kv = i + 1; /* counted now so close() frees a partly read entry */
        localai_status st = read_name(r, "metadata entry", i, GGUF_MAX_KEY_LEN, &kv->key);
        if (st != LOCALAI_STATUS_OK) return st;
        uint64_t at = r->pos;
        if (!rd_u32(r, &kv->type))
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "key '%s': value type at offset %llu is past the end of the file",
                            kv->key, (unsigned long long)at);
        if (kv->type >= LAI_GGUF_TYPE_COUNT)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "key '%s': unknown value type %u at offset %llu", kv->key, kv->type,
                            (unsigned long long)at);
        st = read_value(r, kv);
        if (st != LOCALAI_STATUS_OK) return st;
    }
    return LOCALAI_STATUS_OK;
}

static localai_status parse_alignment(lai_gguf *g) {
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    const lai_gguf_kv *kv = lai_gguf_find(g, "general.alignment");
    if (kv == NULL) return LOCALAI_STATUS_OK;
    uint64_t a;
    localai_status st = lai_gguf_get_u64(g, "general.alignment", &a);
    if (st != LOCALAI_STATUS_OK) return st;
    if (a == 0 || (a & (a - 1)) != 0 || a > 0x80000000u)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key 'general.alignment': %llu is not a power of two up to 2^31",
                        (unsigned long long)a);
    g->alignment = a;
    return LOCALAI_STATUS_OK;
}

static localai_status parse_tensor_info(reader *r, lai_gguf *g, uint64_t i) {
    lai_gguf_tensor *t = &g->tensors[i];
    localai_status st = read_name(r, "tensor", i, GGUF_MAX_TENSOR_NAME_LEN, &t->name);
    if (st != LOCALAI_STATUS_OK) return st;
    uint64_t at = r->pos;
    if (!rd_u32(r, &t->n_dims))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "tensor '%s': dimension count at offset %llu is past the end of the file",
                        t->name, (unsigned long long)at);
    if (t->n_dims < 1 || t->n_dims > LAI_GGUF_MAX_DIMS)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "tensor '%s': %u dimensions at offset %llu (must be 1 to %d)", t->name,
                        t->n_dims, (unsigned long long)at, LAI_GGUF_MAX_DIMS);
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < LAI_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        at = r->pos;
        if (!rd_u64(r, &t->ne[d]))
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "tensor '%s': dimension %u at offset %llu is past the end of the file",
                            t->name, d, (unsigned long long)at);
        if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "tensor '%s': dimension %u is %llu (offset %llu); it must be between "
                            "1 and 2^63-1",
                            t->name, d, (unsigned long long)t->ne[d], (unsigned long long)at);
        if (lai_mul_overflow_u64(n_elements, t->ne[d], &n_elements) ||
            n_elements > (uint64_t)INT64_MAX)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "tensor '%s': the element count overflows (dimension %u = %llu)",
                            t->name, d, (unsigned long long)t->ne[d]);
    }
    at = r->pos;
    if (!rd_u32(r, &t->type))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "tensor '%s': type at offset %llu is past the end of the file", t->name,
                        (unsigned long long)at);
    const lai_type_traits *tr = lai_type_get(t->type);
    if (tr == NULL || tr->block_size == 0 || tr->type_size == 0)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "tensor '%s': unknown tensor type id %u at offset %llu", t->name,
                        t->type, (unsigned long long)at);
    if (t->ne[0] % tr->block_size != 0)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "tensor '%s': row length %llu is not a multiple of the %s block size %u",
                        t->name, (unsigned long long)t->ne[0], tr->name, tr->block_size);
    uint64_t bytes = (t->ne[0] / tr->block_size);
    if (lai_mul_overflow_u64(bytes, tr->type_size, &bytes) ||
        lai_mul_overflow_u64(bytes, t->ne[1], &bytes) ||
        lai_mul_overflow_u64(bytes, t->ne[2], &bytes) ||
        lai_mul_overflow_u64(bytes, t->ne[3], &bytes))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tensor '%s': its byte size overflows",
                        t->name);
    t->n_bytes = bytes;
    at = r->pos;
    if (!rd_u64(r, &t->offset))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "tensor '%s': data offset at offset %llu is past the end of the file",
                        t->name, (unsigned long long)at);
    if (t->offset % g->alignment != 0)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "tensor '%s': data offset %llu is not a multiple of the alignment %llu",
                        t->name, (unsigned long long)t->offset,
                        (unsigned long long)g->alignment);
    return LOCALAI_STATUS_OK;
}

static localai_status parse_tensors(reader *r, lai_gguf *g, uint64_t n_tensors) {
    uint64_t cap = 0;
    for (uint64_t i = 0; i < n_tensors; i++) {
        if (!grow((void **)&g->tensors, &cap, i + 1, sizeof(lai_gguf_tensor)))
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate tensor entries");
        g->n_tensors = i + 1;
        localai_status st = parse_tensor_info(r, g, i);
        if (st != LOCALAI_STATUS_OK) return st;
    }
    return LOCALAI_STATUS_OK;
}

/* Places every tensor inside the data section and checks that none overlaps another. */
static localai_status place_tensors(lai_gguf *g, lai_gguf_index *ix) {
    uint64_t size = g->view.size;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        lai_gguf_tensor *t = &g->tensors[i];
        uint64_t start, end;
        if (lai_add_overflow_u64(g->data_offset, t->offset, &start) ||
            lai_add_overflow_u64(start, t->n_bytes, &end) || end > size)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "tensor '%s': data at offset %llu + %llu bytes (data section starts "
                            "at %llu) runs past the end of the file (size %llu)",
                            t->name, (unsigned long long)t->offset,
                            (unsigned long long)t->n_bytes, (unsigned long long)g->data_offset,
                            (unsigned long long)size);
        t->data = g->view.data + start;
    }
    if (g->n_tensors < 2) return LOCALAI_STATUS_OK;
    lai_gguf_tensor **by_off = lai_malloc((size_t)g->n_tensors * sizeof *by_off);
    if (by_off == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate the tensor index");
    memcpy(by_off, ix->tensor_by_name, (size_t)g->n_tensors * sizeof *by_off);
    qsort(by_off, (size_t)g->n_tensors, sizeof *by_off, cmp_tensor_offset);
    localai_status st = LOCALAI_STATUS_OK;
    for (uint64_t i = 0; i + 1 < g->n_tensors; i++) {
        const lai_gguf_tensor *a = by_off[i], *b = by_off[i + 1];
        if (a->offset + a->n_bytes > b->offset) { /* no overflow: checked above */
            st = lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                          "tensor '%s' (data bytes %llu..%llu) overlaps tensor '%s' (data "
                          "offset %llu)",
                          a->name, (unsigned long long)a->offset,
                          (unsigned long long)(a->offset + a->n_bytes), b->name,
                          (unsigned long long)b->offset);
            break;
        }
    }
    lai_free(by_off);
    return st;
}

static localai_status build_index(lai_gguf *g, lai_gguf_index *ix) {
    if (g->n_kv > 0) {
        ix->kv_by_key = lai_malloc((size_t)g->n_kv * sizeof *ix->kv_by_key);
        if (ix->kv_by_key == NULL)
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate the key index");
        for (uint64_t i = 0; i < g->n_kv; i++) ix->kv_by_key[i] = &g->kv[i];
        qsort(ix->kv_by_key, (size_t)g->n_kv, sizeof *ix->kv_by_key, cmp_kv_key);
        for (uint64_t i = 0; i + 1 < g->n_kv; i++)
            if (strcmp(ix->kv_by_key[i]->key, ix->kv_by_key[i + 1]->key) == 0)
                return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "duplicate metadata key '%s'",
                                ix->kv_by_key[i]->key);
    }
    return LOCALAI_STATUS_OK;
}

static localai_status build_tensor_index(lai_gguf *g, lai_gguf_index *ix) {
    if (g->n_tensors == 0) return LOCALAI_STATUS_OK;
    ix->tensor_by_name = lai_malloc((size_t)g->n_tensors * sizeof *ix->tensor_by_name);
    if (ix->tensor_by_name == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate the tensor index");
    for (uint64_t i = 0; i < g->n_tensors; i++) ix->tensor_by_name[i] = &g->tensors[i];
    qsort(ix->tensor_by_name, (size_t)g->n_tensors, sizeof *ix->tensor_by_name,
          cmp_tensor_name);
    for (uint64_t i = 0; i + 1 < g->n_tensors; i++)
        if (strcmp(ix->tensor_by_name[i]->name, ix->tensor_by_name[i + 1]->name) == 0)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "duplicate tensor name '%s'",
                            ix->tensor_by_name[i]->name);
    return LOCALAI_STATUS_OK;
}

static localai_status parse_header(reader *r, lai_gguf *g, uint64_t *n_tensors,
                                   uint64_t *n_kv) {
    if (r->size < 4 || memcmp(r->data, "GGUF", 4) != 0) {
        if (r->size < 4)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "file is %llu bytes long: too short for a GGUF header",
                            (unsigned long long)r->size);
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "bad magic %02x %02x %02x %02x: not a GGUF file", r->data[0],
                        r->data[1], r->data[2], r->data[3]);
    }
    r->pos = 4;
    if (!rd_u32(r, &g->version))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "file ends inside the GGUF version field");
    if (g->version == 1)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "GGUF version 1 is not supported (only versions 2 and 3)");
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xFFFFu) == 0 && (g->version >> 24 == 2 || g->version >> 24 == 3))
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "GGUF version field 0x%08x: a big-endian file, which is not "
                            "supported",
                            g->version);
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "unknown GGUF version %u (supported: 2 and 3)", g->version);
    }
    if (!rd_u64(r, n_tensors) || !rd_u64(r, n_kv))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "file ends inside the header (tensor and metadata counts)");
    uint64_t need_kv, need_t, need;
    if (lai_mul_overflow_u64(*n_kv, GGUF_MIN_KV_BYTES, &need_kv) ||
        lai_mul_overflow_u64(*n_tensors, GGUF_MIN_TENSOR_BYTES, &need_t) ||
        lai_add_overflow_u64(need_kv, need_t, &need) || need > rd_left(r))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "header counts %llu tensors and %llu metadata entries, more than the "
                        "%llu bytes after the header can hold",
                        (unsigned long long)*n_tensors, (unsigned long long)*n_kv,
                        (unsigned long long)rd_left(r));
    return LOCALAI_STATUS_OK;
}

static localai_status parse_all(lai_gguf *g) {
    reader r = {g->view.data, g->view.size, 0};
    if (r.data == NULL) r.size = 0;
    uint64_t n_tensors = 0, n_kv = 0;
    localai_status st = parse_header(&r, g, &n_tensors, &n_kv);
    if (st != LOCALAI_STATUS_OK) return st;
    lai_gguf_index *ix = lai_calloc(1, sizeof *ix);
    if (ix == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate the index");
    g->index = ix;
    st = parse_kvs(&r, g, n_kv);
    if (st == LOCALAI_STATUS_OK) st = build_index(g, ix);
    if (st == LOCALAI_STATUS_OK) st = parse_alignment(g);
    if (st != LOCALAI_STATUS_OK) return st;
    /* The tensor table must fit after the metadata too. */
    uint64_t need_t;
    if (lai_mul_overflow_u64(n_tensors, GGUF_MIN_TENSOR_BYTES, &need_t) || need_t > rd_left(&r))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "header counts %llu tensors, more than the %llu bytes after the "
                        "metadata (offset %llu) can describe",
                        (unsigned long long)n_tensors, (unsigned long long)rd_left(&r),
                        (unsigned long long)r.pos);
    st = parse_tensors(&r, g, n_tensors);
    if (st == LOCALAI_STATUS_OK) st = build_tensor_index(g, ix);
    if (st != LOCALAI_STATUS_OK) return st;
    uint64_t pad = (g->alignment - r.pos % g->alignment) % g->alignment;
    if (lai_add_overflow_u64(r.pos, pad, &g->data_offset))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "the data section offset overflows");
    if (g->n_tensors > 0 && g->data_offset > g->view.size)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "the data section would start at offset %llu, past the end of the file "
                        "(size %llu)",
                        (unsigned long long)g->data_offset, (unsigned long long)g->view.size);
    return place_tensors(g, ix);
}

localai_status lai_gguf_parse(const uint8_t *data, uint64_t size, lai_gguf **out) {
    if (out == NULL || (data == NULL && size != 0))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "lai_gguf_parse: NULL argument");
    *out = NULL;
    lai_gguf *g = lai_calloc(1, sizeof *g);
    if (g == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate a GGUF");
    g->view.data = data;
    g->view.size = size;
    g->owns_view = 0;
    localai_status st = parse_all(g);
    if (st != LOCALAI_STATUS_OK) {
        lai_gguf_close(g);
        return st;
    }
    *out = g;
    return LOCALAI_STATUS_OK;
}

localai_status lai_gguf_open(const char *path, int use_mmap, lai_gguf **out) {
    if (path == NULL || out == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "lai_gguf_open: NULL argument");
    *out = NULL;
    lai_gguf *g = lai_calloc(1, sizeof *g);
    if (g == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate a GGUF");
    localai_status st = lai_file_view_open(path, use_mmap, &g->view);
    if (st != LOCALAI_STATUS_OK) {
        lai_free(g);
        return st;
    }
    g->owns_view = 1;
    st = parse_all(g);
    if (st != LOCALAI_STATUS_OK) {
        lai_gguf_close(g);
        lai_error_prefix(path);
        return st;
    }
    *out = g;
    return LOCALAI_STATUS_OK;
}

void lai_gguf_close(lai_gguf *g) {
    if (g == NULL) return;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        lai_free(g->kv[i].key);
        lai_free(g->kv[i].strings);
    }
    lai_free(g->kv);
    for (uint64_t i = 0; i < g->n_tensors; i++) lai_free(g->tensors[i].name);
    lai_free(g->tensors);
    lai_gguf_index *ix = g->index;
    if (ix != NULL) {
        lai_free(ix->kv_by_key);
        lai_free(ix->tensor_by_name);
        lai_free(ix);
    }
    if (g->owns_view) lai_file_view_close(&g->view);
    lai_free(g);
}

