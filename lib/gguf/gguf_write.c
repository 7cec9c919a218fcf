/* gguf_write.c - the GGUF writer: metadata and tensor table in memory, data streamed out. */
#include "gguf_write.h"

#include "../base/platform.h"
#include "../quant/quant.h"
#include "gguf_internal.h"

#include <errno.h>
#include <stdio.h>

#define WRITER_MAX_TENSOR_NAME 256u

typedef struct wkv {
    char *key;
    uint8_t *blob; /* type (u32) then the encoded value */
    size_t blob_len;
} wkv;

typedef struct wtensor {
    char *name;
    uint32_t type;
    uint32_t n_dims;
    uint64_t ne[LAI_GGUF_MAX_DIMS];
    uint64_t n_bytes;
    uint64_t offset;
    const uint8_t *data;
    int owned;
} wtensor;

struct lai_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    uint32_t alignment;
    lai_gguf_tensor_source source;
    void *source_user;
    lai_gguf_write_progress progress;
    void *progress_user;
};

/* A growable byte buffer used to encode values. */
typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
    int oom;
} bytes;

static void b_put(bytes *b, const void *src, size_t n) {
    if (b->oom) return;
    if (n > SIZE_MAX - b->len) {
        b->oom = 1;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) {
            if (cap > SIZE_MAX / 2) {
                cap = b->len + n;
                break;
            }
            cap *= 2;
        }
        uint8_t *q = lai_realloc(b->p, cap);
        if (q == NULL) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void b_le(bytes *b, uint64_t v, unsigned n) {
    uint8_t tmp[8];
    for (unsigned i = 0; i < n; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    b_put(b, tmp, n);
}

static void b_str(bytes *b, const char *s, uint64_t len) {
    b_le(b, len, 8);
    if (len > SIZE_MAX) {
        b->oom = 1;
        return;
    }
    b_put(b, s, (size_t)len);
}

localai_status lai_gguf_writer_new(lai_gguf_writer **out) {
    if (out == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: out is NULL");
    lai_gguf_writer *w = lai_calloc(1, sizeof *w);
    if (w == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate a GGUF writer");
    w->alignment = 32;
    *out = w;
    return LOCALAI_STATUS_OK;
}

void lai_gguf_writer_free(lai_gguf_writer *w) {
    if (w == NULL) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        lai_free(w->kv[i].key);
        lai_free(w->kv[i].blob);
    }
    lai_free(w->kv);
    for (size_t i = 0; i < w->n_t; i++) {
        lai_free(w->t[i].name);
        if (w->t[i].owned) lai_free((void *)w->t[i].data);
    }
    lai_free(w->t);
    lai_free(w);
}

static localai_status check_key(const char *key) {
    if (key == NULL || key[0] == '\0')
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: empty or NULL key");
    if (strlen(key) > 65535)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: key longer than 65535 bytes");
    return LOCALAI_STATUS_OK;
}

/* Stores an encoded value under `key`, taking ownership of b->p. */
static localai_status put_blob(lai_gguf_writer *w, const char *key, bytes *b) {
    if (b->oom) {
        lai_free(b->p);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gguf writer: key '%s': out of memory", key);
    }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, key) == 0) {
            lai_free(w->kv[i].blob);
            w->kv[i].blob = b->p;
            w->kv[i].blob_len = b->len;
            return LOCALAI_STATUS_OK;
        }
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 32;
        wkv *p = lai_realloc(w->kv, cap * sizeof *p);
        if (p == NULL) {
            lai_free(b->p);
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gguf writer: out of memory");
        }
        w->kv = p;
        w->cap_kv = cap;
    }
    char *k = lai_strdup(key);
    if (k == NULL) {
        lai_free(b->p);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gguf writer: out of memory");
    }
    w->kv[w->n_kv].key = k;
    w->kv[w->n_kv].blob = b->p;
    w->kv[w->n_kv].blob_len = b->len;
    w->n_kv++;
    return LOCALAI_STATUS_OK;
}

static localai_status set_scalar(lai_gguf_writer *w, const char *key, uint32_t type, uint64_t raw) {
    if (w == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL writer");
    localai_status st = check_key(key);
    if (st != LOCALAI_STATUS_OK) return st;
    bytes b = {0};
    b_le(&b, type, 4);
    b_le(&b, raw, (unsigned)lai_gguf_scalar_size(type));
    return put_blob(w, key, &b);
}

localai_status lai_gguf_writer_set_u8(lai_gguf_writer *w, const char *key, uint8_t v) {
    return set_scalar(w, key, LAI_GGUF_UINT8, v);
}
localai_status lai_gguf_writer_set_i8(lai_gguf_writer *w, const char *key, int8_t v) {
    return set_scalar(w, key, LAI_GGUF_INT8, (uint8_t)v);
}
localai_status lai_gguf_writer_set_u16(lai_gguf_writer *w, const char *key, uint16_t v) {
    return set_scalar(w, key, LAI_GGUF_UINT16, v);
}
localai_status lai_gguf_writer_set_i16(lai_gguf_writer *w, const char *key, int16_t v) {
    return set_scalar(w, key, LAI_GGUF_INT16, (uint16_t)v);
}
localai_status lai_gguf_writer_set_u32(lai_gguf_writer *w, const char *key, uint32_t v) {
    return set_scalar(w, key, LAI_GGUF_UINT32, v);
}
localai_status lai_gguf_writer_set_i32(lai_gguf_writer *w, const char *key, int32_t v) {
    return set_scalar(w, key, LAI_GGUF_INT32, (uint32_t)v);
}
localai_status lai_gguf_writer_set_u64(lai_gguf_writer *w, const char *key, uint64_t v) {
    return set_scalar(w, key, LAI_GGUF_UINT64, v);
}
localai_status lai_gguf_writer_set_i64(lai_gguf_writer *w, const char *key, int64_t v) {
    return set_scalar(w, key, LAI_GGUF_INT64, (uint64_t)v);
}
localai_status lai_gguf_writer_set_f32(lai_gguf_writer *w, const char *key, float v) {
    uint32_t raw;
    memcpy(&raw, &v, 4);
    return set_scalar(w, key, LAI_GGUF_FLOAT32, raw);
}
localai_status lai_gguf_writer_set_f64(lai_gguf_writer *w, const char *key, double v) {
    uint64_t raw;
    memcpy(&raw, &v, 8);
    return set_scalar(w, key, LAI_GGUF_FLOAT64, raw);
}
localai_status lai_gguf_writer_set_bool(lai_gguf_writer *w, const char *key, int v) {
    return set_scalar(w, key, LAI_GGUF_BOOL, v ? 1u : 0u);
}

localai_status lai_gguf_writer_set_str_n(lai_gguf_writer *w, const char *key, const char *v,
                                         uint64_t len) {
    if (w == NULL || (v == NULL && len != 0))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL argument");
    localai_status st = check_key(key);
    if (st != LOCALAI_STATUS_OK) return st;
    bytes b = {0};
    b_le(&b, LAI_GGUF_STRING, 4);
    b_str(&b, v, len);
    return put_blob(w, key, &b);
}

localai_status lai_gguf_writer_set_str(lai_gguf_writer *w, const char *key, const char *v) {
    if (v == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL string");
    return lai_gguf_writer_set_str_n(w, key, v, strlen(v));
}

/* Appends n packed values of `type` read from host-layout memory. */
static void put_host_values(bytes *b, uint32_t type, const void *elems, uint64_t n) {
    uint64_t sz = lai_gguf_scalar_size(type);
    const uint8_t *p = elems;
    for (uint64_t i = 0; i < n && !b->oom; i++) {
        uint64_t raw = 0;
        switch (sz) {
        case 1: raw = p[i]; break;
        case 2: { uint16_t v; memcpy(&v, p + i * 2, 2); raw = v; } break;
        case 4: { uint32_t v; memcpy(&v, p + i * 4, 4); raw = v; } break;
        default: { uint64_t v; memcpy(&v, p + i * 8, 8); raw = v; } break;
        }
        if (type == LAI_GGUF_BOOL) raw = raw != 0;
        b_le(b, raw, (unsigned)sz);
    }
}

localai_status lai_gguf_writer_set_array(lai_gguf_writer *w, const char *key, uint32_t elem_type,
                                         const void *elems, uint64_t n) {
    if (w == NULL || (elems == NULL && n != 0))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL argument");
    localai_status st = check_key(key);
    if (st != LOCALAI_STATUS_OK) return st;
    if (lai_gguf_scalar_size(elem_type) == 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "gguf writer: key '%s': %s is not a numeric element type", key,
                        lai_gguf_type_name(elem_type));
    bytes b = {0};
    b_le(&b, LAI_GGUF_ARRAY, 4);
    b_le(&b, elem_type, 4);
    b_le(&b, n, 8);
    put_host_values(&b, elem_type, elems, n);
    return put_blob(w, key, &b);
}

localai_status lai_gguf_writer_set_str_array(lai_gguf_writer *w, const char *key,
                                             const lai_str *strs, uint64_t n) {
    if (w == NULL || (strs == NULL && n != 0))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL argument");
    localai_status st = check_key(key);
    if (st != LOCALAI_STATUS_OK) return st;
    bytes b = {0};
    b_le(&b, LAI_GGUF_ARRAY, 4);
    b_le(&b, LAI_GGUF_STRING, 4);
    b_le(&b, n, 8);
    for (uint64_t i = 0; i < n && !b.oom; i++) b_str(&b, strs[i].ptr, strs[i].len);
    return put_blob(w, key, &b);
}

localai_status lai_gguf_writer_copy_kv(lai_gguf_writer *w, const lai_gguf_kv *kv) {
    if (w == NULL || kv == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL argument");
    localai_status st = check_key(kv->key);
    if (st != LOCALAI_STATUS_OK) return st;
    bytes b = {0};
    b_le(&b, kv->type, 4);
    if (kv->type == LAI_GGUF_STRING) {
        b_str(&b, kv->strings[0].ptr, kv->strings[0].len);
    } else if (kv->type == LAI_GGUF_ARRAY) {
        b_le(&b, kv->array_type, 4);
        b_le(&b, kv->array_len, 8);
        if (kv->array_type == LAI_GGUF_STRING) {
            for (uint64_t i = 0; i < kv->array_len && !b.oom; i++)
                b_str(&b, kv->strings[i].ptr, kv->strings[i].len);
        } else {
            /* The file's bytes are already little-endian. */
            uint64_t n = kv->array_len * lai_gguf_scalar_size(kv->array_type);
            if (n > SIZE_MAX) b.oom = 1;
            else b_put(&b, kv->value, (size_t)n);
        }
    } else {
        b_put(&b, kv->value, (size_t)lai_gguf_scalar_size(kv->type));
    }
    return put_blob(w, kv->key, &b);
}

localai_status lai_gguf_writer_remove(lai_gguf_writer *w, const char *key) {
    if (w == NULL || key == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL argument");
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, key) == 0) {
            lai_free(w->kv[i].key);
            lai_free(w->kv[i].blob);
            memmove(&w->kv[i], &w->kv[i + 1], (w->n_kv - i - 1) * sizeof *w->kv);
            w->n_kv--;
            return LOCALAI_STATUS_OK;
        }
    }
    return LOCALAI_STATUS_NOT_FOUND;
}

localai_status lai_gguf_writer_set_alignment(lai_gguf_writer *w, uint32_t alignment) {
    if (w == NULL || alignment == 0 || (alignment & (alignment - 1)) != 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "gguf writer: alignment %u is not a power of two", alignment);
    w->alignment = alignment;
    if (alignment == 32) {
        lai_gguf_writer_remove(w, "general.alignment");
        return LOCALAI_STATUS_OK;
    }
    return lai_gguf_writer_set_u32(w, "general.alignment", alignment);
}

localai_status lai_gguf_writer_add_tensor(lai_gguf_writer *w, const char *name, uint32_t type,
                                          uint32_t n_dims, const uint64_t *ne, const void *data,
                                          uint64_t n_bytes, int copy) {
    if (w == NULL || name == NULL || ne == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL argument");
    size_t name_len = strlen(name);
    if (name_len == 0 || name_len > WRITER_MAX_TENSOR_NAME)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "gguf writer: tensor name '%s' must be 1 to %u bytes", name,
                        WRITER_MAX_TENSOR_NAME);
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: duplicate tensor '%s'",
                            name);
    if (n_dims < 1 || n_dims > LAI_GGUF_MAX_DIMS)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "gguf writer: tensor '%s': %u dimensions", name, n_dims);
    const lai_type_traits *tr = lai_type_get(type);
    if (tr == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "gguf writer: tensor '%s': unknown type %u", name, type);
    uint64_t rows = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] == 0 || ne[d] > (uint64_t)INT64_MAX)
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                            "gguf writer: tensor '%s': dimension %u is %llu", name, d,
                            (unsigned long long)ne[d]);
        if (d > 0 && lai_mul_overflow_u64(rows, ne[d], &rows))
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                            "gguf writer: tensor '%s': size overflows", name);
    }
    uint64_t row_bytes, want;
    localai_status st = lai_type_row_bytes(type, ne[0], &row_bytes);
    if (st != LOCALAI_STATUS_OK) {
        lai_error_prefix(name);
        return st;
    }
    if (lai_mul_overflow_u64(row_bytes, rows, &want))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "gguf writer: tensor '%s': size overflows", name);
    if (want != n_bytes)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "gguf writer: tensor '%s': %llu bytes given, its shape and type %s need "
                        "%llu",
                        name, (unsigned long long)n_bytes, tr->name, (unsigned long long)want);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *p = lai_realloc(w->t, cap * sizeof *p);
        if (p == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gguf writer: out of memory");
        w->t = p;
        w->cap_t = cap;
    }
    wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    t->name = lai_strdup(name);
    if (t->name == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gguf writer: out of memory");
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < LAI_GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->n_bytes = n_bytes;
    if (data != NULL && copy) {
        if (n_bytes > SIZE_MAX) {
            lai_free(t->name);
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gguf writer: tensor '%s' too large", name);
        }
        uint8_t *c = lai_malloc((size_t)n_bytes);
        if (c == NULL) {
            lai_free(t->name);
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY,
                            "gguf writer: cannot copy tensor '%s' (%llu bytes)", name,
                            (unsigned long long)n_bytes);
        }
        memcpy(c, data, (size_t)n_bytes);
        t->data = c;
        t->owned = 1;
    } else {
        t->data = data;
    }
    w->n_t++;
    return LOCALAI_STATUS_OK;
}

void lai_gguf_writer_set_source(lai_gguf_writer *w, lai_gguf_tensor_source fn, void *user) {
    if (w == NULL) return;
    w->source = fn;
    w->source_user = user;
}

void lai_gguf_writer_set_progress(lai_gguf_writer *w, lai_gguf_write_progress fn, void *user) {
    if (w == NULL) return;
    w->progress = fn;
    w->progress_user = user;
}

uint64_t lai_gguf_writer_n_tensors(const lai_gguf_writer *w) { return w ? w->n_t : 0; }

/* ---- output -------------------------------------------------------------------------- */

typedef struct sink {
    FILE *f;      /* file output, or */
    bytes mem;    /* memory output */
    const char *path;
    uint64_t written;
} sink;

static localai_status sink_put(sink *s, const void *p, size_t n) {
    if (s->f != NULL) {
        if (n && fwrite(p, 1, n, s->f) != n)
            return lai_fail(LOCALAI_STATUS_IO, "%s: write failed at byte %llu: %s", s->path,
                            (unsigned long long)s->written, strerror(errno));
    } else {
        b_put(&s->mem, p, n);
        if (s->mem.oom) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gguf writer: out of memory");
    }
    s->written += n;
    return LOCALAI_STATUS_OK;
}

static localai_status sink_pad(sink *s, uint32_t alignment) {
    static const uint8_t zeros[64];
    uint64_t pad = (alignment - s->written % alignment) % alignment;
    while (pad > 0) {
        size_t n = pad < sizeof zeros ? (size_t)pad : sizeof zeros;
        localai_status st = sink_put(s, zeros, n);
        if (st != LOCALAI_STATUS_OK) return st;
        pad -= n;
    }
    return LOCALAI_STATUS_OK;
}

static localai_status write_all(lai_gguf_writer *w, sink *s) {
    /* Offsets: each tensor starts aligned, relative to the data section. */
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        w->t[i].offset = off;
        uint64_t end, pad;
        if (lai_add_overflow_u64(off, w->t[i].n_bytes, &end))
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: data size overflows");
        pad = (w->alignment - end % w->alignment) % w->alignment;
        if (lai_add_overflow_u64(end, pad, &off))
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: data size overflows");
    }
    bytes h = {0};
    b_put(&h, "GGUF", 4);
    b_le(&h, 3, 4);
    b_le(&h, w->n_t, 8);
    b_le(&h, w->n_kv, 8);
    for (size_t i = 0; i < w->n_kv; i++) {
        b_str(&h, w->kv[i].key, strlen(w->kv[i].key));
        b_put(&h, w->kv[i].blob, w->kv[i].blob_len);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        b_str(&h, t->name, strlen(t->name));
        b_le(&h, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims; d++) b_le(&h, t->ne[d], 8);
        b_le(&h, t->type, 4);
        b_le(&h, t->offset, 8);
    }
    if (h.oom) {
        lai_free(h.p);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "gguf writer: out of memory");
    }
    localai_status st = sink_put(s, h.p, h.len);
    lai_free(h.p);
    if (st == LOCALAI_STATUS_OK && w->n_t > 0) st = sink_pad(s, w->alignment);
    for (size_t i = 0; i < w->n_t && st == LOCALAI_STATUS_OK; i++) {
        const wtensor *t = &w->t[i];
        if (t->n_bytes > SIZE_MAX)
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "tensor '%s' too large", t->name);
        if (t->data != NULL) {
            st = sink_put(s, t->data, (size_t)t->n_bytes);
        } else if (w->source != NULL) {
            uint8_t *buf = lai_malloc((size_t)t->n_bytes);
            if (buf == NULL)
                return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY,
                                "gguf writer: cannot allocate %llu bytes for tensor '%s'",
                                (unsigned long long)t->n_bytes, t->name);
            st = w->source(w->source_user, i, buf, t->n_bytes);
            if (st == LOCALAI_STATUS_OK) st = sink_put(s, buf, (size_t)t->n_bytes);
            lai_free(buf);
        } else {
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                            "gguf writer: tensor '%s' has no data and no source is set", t->name);
        }
        if (st == LOCALAI_STATUS_OK && i + 1 < w->n_t) st = sink_pad(s, w->alignment);
        if (st == LOCALAI_STATUS_OK && w->progress != NULL &&
            w->progress(w->progress_user, i + 1, w->n_t) != 0)
            st = lai_fail(LOCALAI_STATUS_CANCELLED, "gguf writer: cancelled");
    }
    return st;
}

localai_status lai_gguf_writer_write_stream(lai_gguf_writer *w, FILE *f, const char *name) {
    if (w == NULL || f == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL argument");
    sink s = {0};
    s.f = f;
    s.path = name != NULL ? name : "gguf writer";
    localai_status st = write_all(w, &s);
    if (st == LOCALAI_STATUS_OK && fflush(f) != 0)
        st = lai_fail(LOCALAI_STATUS_IO, "%s: write failed: %s", s.path, strerror(errno));
    return st;
}

localai_status lai_gguf_writer_write_file(lai_gguf_writer *w, const char *path) {
    if (w == NULL || path == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL argument");
    /* Never fopen(path, "wb"): that would follow a link planted at `path` and truncate
     * whatever file it names, perhaps one still mapped by a reader (SIGBUS there). A new
     * file beside it, renamed over it when complete, leaves the old one intact. */
    lai_file_temp tmp;
    localai_status st = lai_file_temp_create(path, &tmp);
    if (st != LOCALAI_STATUS_OK) return st;
    st = lai_gguf_writer_write_stream(w, tmp.file, tmp.path);
    if (st == LOCALAI_STATUS_OK) return lai_file_temp_commit(&tmp, path);
    lai_file_temp_discard(&tmp);
    return st;
}

localai_status lai_gguf_writer_write_mem(lai_gguf_writer *w, uint8_t **out, uint64_t *out_size) {
    if (w == NULL || out == NULL || out_size == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "gguf writer: NULL argument");
    sink s = {0};
    localai_status st = write_all(w, &s);
    if (st != LOCALAI_STATUS_OK) {
        lai_free(s.mem.p);
        return st;
    }
    *out = s.mem.p;
    *out_size = s.mem.len;
    return LOCALAI_STATUS_OK;
}
