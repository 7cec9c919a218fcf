/* gguf_get.c - lookups by key and tensor name, and typed access to metadata values. */
#include "gguf_internal.h"

const lai_gguf_kv *lai_gguf_find(const lai_gguf *g, const char *key) {
    if (g == NULL || key == NULL || g->index == NULL) return NULL;
    const lai_gguf_index *ix = g->index;
    if (ix->kv_by_key == NULL) return NULL;
    uint64_t lo = 0, hi = g->n_kv;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ix->kv_by_key[mid]->key, key);
        if (c == 0) return ix->kv_by_key[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const lai_gguf_tensor *lai_gguf_find_tensor(const lai_gguf *g, const char *name) {
    if (g == NULL || name == NULL || g->index == NULL) return NULL;
    const lai_gguf_index *ix = g->index;
    if (ix->tensor_by_name == NULL) return NULL;
    uint64_t lo = 0, hi = g->n_tensors;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ix->tensor_by_name[mid]->name, name);
        if (c == 0) return ix->tensor_by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* ---- typed access ------------------------------------------------------------------ */

static int is_int_type(uint32_t t) {
    return t == LAI_GGUF_UINT8 || t == LAI_GGUF_INT8 || t == LAI_GGUF_UINT16 ||
           t == LAI_GGUF_INT16 || t == LAI_GGUF_UINT32 || t == LAI_GGUF_INT32 ||
           t == LAI_GGUF_UINT64 || t == LAI_GGUF_INT64;
}

static int is_signed_type(uint32_t t) {
    return t == LAI_GGUF_INT8 || t == LAI_GGUF_INT16 || t == LAI_GGUF_INT32 ||
           t == LAI_GGUF_INT64;
}

/* Reads an integer of type t at p as (negative flag, magnitude-or-value). */
static void load_int(uint32_t t, const uint8_t *p, int *neg, uint64_t *u, int64_t *s) {
    uint64_t raw = 0;
    uint64_t n = lai_gguf_scalar_size(t);
    for (uint64_t i = n; i-- > 0;) raw = raw << 8 | p[i];
    *neg = 0;
    *u = raw;
    *s = 0;
    if (is_signed_type(t)) {
        unsigned bits = (unsigned)(n * 8);
        int64_t v;
        if (bits < 64 && (raw >> (bits - 1)) & 1) v = (int64_t)(raw | (~0ull << bits));
        else v = (int64_t)raw;
        *s = v;
        *neg = v < 0;
        *u = (uint64_t)v;
    } else {
        *s = raw > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)raw;
    }
}

static localai_status get_int(const lai_gguf *g, const char *key, int *neg, uint64_t *u,
                              int64_t *s) {
    const lai_gguf_kv *kv = lai_gguf_find(g, key);
    if (kv == NULL) return LOCALAI_STATUS_NOT_FOUND;
    if (!is_int_type(kv->type))
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': expected an integer, found %s",
                        key, lai_gguf_type_name(kv->type));
    load_int(kv->type, kv->value, neg, u, s);
    return LOCALAI_STATUS_OK;
}

localai_status lai_gguf_get_u64(const lai_gguf *g, const char *key, uint64_t *out) {
    int neg = 0;
    uint64_t u = 0;
    int64_t s = 0;
    localai_status st = get_int(g, key, &neg, &u, &s);
    if (st != LOCALAI_STATUS_OK) return st;
    if (neg)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': negative value %lld", key,
                        (long long)s);
    *out = u;
    return LOCALAI_STATUS_OK;
}

localai_status lai_gguf_get_u32(const lai_gguf *g, const char *key, uint32_t *out) {
    uint64_t v = 0;
    localai_status st = lai_gguf_get_u64(g, key, &v);
    if (st != LOCALAI_STATUS_OK) return st;
    if (v > UINT32_MAX)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': value %llu does not fit in 32 bits",
                        key, (unsigned long long)v);
    *out = (uint32_t)v;
    return LOCALAI_STATUS_OK;
}

localai_status lai_gguf_get_i32(const lai_gguf *g, const char *key, int32_t *out) {
    int neg = 0;
    uint64_t u = 0;
    int64_t s = 0;
    localai_status st = get_int(g, key, &neg, &u, &s);
    if (st != LOCALAI_STATUS_OK) return st;
    if (!neg && u > (uint64_t)INT32_MAX)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s': value %llu does not fit in a signed 32-bit integer", key,
                        (unsigned long long)u);
    if (neg && s < INT32_MIN)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s': value %lld does not fit in a signed 32-bit integer", key,
                        (long long)s);
    *out = (int32_t)s;
    return LOCALAI_STATUS_OK;
}

static double load_float(uint32_t t, const uint8_t *p) {
    if (t == LAI_GGUF_FLOAT32) {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    double d;
    memcpy(&d, p, 8);
    return d;
}

localai_status lai_gguf_get_f32(const lai_gguf *g, const char *key, float *out) {
    const lai_gguf_kv *kv = lai_gguf_find(g, key);
    if (kv == NULL) return LOCALAI_STATUS_NOT_FOUND;
    if (kv->type != LAI_GGUF_FLOAT32 && kv->type != LAI_GGUF_FLOAT64)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': expected a float, found %s", key,
                        lai_gguf_type_name(kv->type));
    *out = (float)load_float(kv->type, kv->value);
    return LOCALAI_STATUS_OK;
}

localai_status lai_gguf_get_bool(const lai_gguf *g, const char *key, int *out) {
    const lai_gguf_kv *kv = lai_gguf_find(g, key);
    if (kv == NULL) return LOCALAI_STATUS_NOT_FOUND;
    if (kv->type != LAI_GGUF_BOOL)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': expected a bool, found %s", key,
                        lai_gguf_type_name(kv->type));
    *out = kv->value[0] != 0;
    return LOCALAI_STATUS_OK;
}

localai_status lai_gguf_get_str(const lai_gguf *g, const char *key, lai_str *out) {
    const lai_gguf_kv *kv = lai_gguf_find(g, key);
    if (kv == NULL) return LOCALAI_STATUS_NOT_FOUND;
    if (kv->type != LAI_GGUF_STRING)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': expected a string, found %s",
                        key, lai_gguf_type_name(kv->type));
    *out = kv->strings[0];
    return LOCALAI_STATUS_OK;
}

localai_status lai_gguf_get_array(const lai_gguf *g, const char *key, uint32_t elem_type,
                                  const lai_gguf_kv **out_kv) {
    const lai_gguf_kv *kv = lai_gguf_find(g, key);
    if (kv == NULL) return LOCALAI_STATUS_NOT_FOUND;
    if (kv->type != LAI_GGUF_ARRAY)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key '%s': expected an array of %s, found %s",
                        key, lai_gguf_type_name(elem_type), lai_gguf_type_name(kv->type));
    if (kv->array_type != elem_type)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "key '%s': expected an array of %s, found an array of %s", key,
                        lai_gguf_type_name(elem_type), lai_gguf_type_name(kv->array_type));
    *out_kv = kv;
    return LOCALAI_STATUS_OK;
}

double lai_gguf_array_f64(const lai_gguf_kv *kv, uint64_t i) {
    uint32_t t = kv->type == LAI_GGUF_ARRAY ? kv->array_type : kv->type;
    if (kv->type == LAI_GGUF_ARRAY && i >= kv->array_len) return 0.0;
    uint64_t sz = lai_gguf_scalar_size(t);
    if (sz == 0) return 0.0;
    const uint8_t *p = kv->value + i * sz;
    if (t == LAI_GGUF_FLOAT32 || t == LAI_GGUF_FLOAT64) return load_float(t, p);
    int neg;
    uint64_t u;
    int64_t s;
    load_int(t, p, &neg, &u, &s);
    if (t == LAI_GGUF_BOOL) return p[0] != 0;
    return is_signed_type(t) ? (double)s : (double)u;
}

int64_t lai_gguf_array_i64(const lai_gguf_kv *kv, uint64_t i) {
    uint32_t t = kv->type == LAI_GGUF_ARRAY ? kv->array_type : kv->type;
    if (kv->type == LAI_GGUF_ARRAY && i >= kv->array_len) return 0;
    uint64_t sz = lai_gguf_scalar_size(t);
    if (sz == 0) return 0;
    const uint8_t *p = kv->value + i * sz;
    if (t == LAI_GGUF_FLOAT32 || t == LAI_GGUF_FLOAT64) {
        double d = load_float(t, p);
        if (!(d == d)) return 0;
        if (d >= 9.2e18) return INT64_MAX;
        if (d <= -9.2e18) return INT64_MIN;
        return (int64_t)d;
    }
    if (t == LAI_GGUF_BOOL) return p[0] != 0;
    int neg;
    uint64_t u;
    int64_t s;
    load_int(t, p, &neg, &u, &s);
    return s;
}
