/* gguf.h - the GGUF reader: a validated, read-only view of a model file's metadata and tensors. */
#ifndef LAI_GGUF_H
#define LAI_GGUF_H

#include "../base/base.h"
#include "../base/platform.h"

/* GGUF metadata value types (numbering from the GGUF specification). */
enum {
    LAI_GGUF_UINT8 = 0,
    LAI_GGUF_INT8 = 1,
    LAI_GGUF_UINT16 = 2,
    LAI_GGUF_INT16 = 3,
    LAI_GGUF_UINT32 = 4,
    LAI_GGUF_INT32 = 5,
    LAI_GGUF_FLOAT32 = 6,
    LAI_GGUF_BOOL = 7,
    LAI_GGUF_STRING = 8,
    LAI_GGUF_ARRAY = 9,
    LAI_GGUF_UINT64 = 10,
    LAI_GGUF_INT64 = 11,
    LAI_GGUF_FLOAT64 = 12,
    LAI_GGUF_TYPE_COUNT = 13
};

#define LAI_GGUF_MAX_DIMS 4

/* A string inside the file: NOT NUL-terminated. */
typedef struct lai_str {
    const char *ptr;
    uint64_t len;
} lai_str;

typedef struct lai_gguf_kv {
    char *key;             /* NUL-terminated copy (validated: no embedded NUL) */
    uint32_t type;         /* LAI_GGUF_* */
    uint32_t array_type;   /* element type when type == ARRAY */
    uint64_t array_len;    /* element count when type == ARRAY */
    const uint8_t *value;  /* scalar value, or first array element, inside the file */
    lai_str *strings;      /* STRING: one entry; ARRAY of STRING: array_len entries */
} lai_gguf_kv;

typedef struct lai_gguf_tensor {
    char *name;                        /* NUL-terminated copy */
    uint32_t n_dims;                   /* 1..LAI_GGUF_MAX_DIMS */
    uint64_t ne[LAI_GGUF_MAX_DIMS];    /* elements per dim, ne[0] innermost; unused dims = 1 */
    uint32_t type;                     /* LAI_TYPE_* (lib/quant/quant.h) */
    uint64_t offset;                   /* from the start of the data section */
    uint64_t n_bytes;                  /* validated against the type's block layout */
    const uint8_t *data;               /* inside the file view */
} lai_gguf_tensor;

typedef struct lai_gguf {
    lai_file_view view;   /* owned when opened by lai_gguf_open */
    int owns_view;
    uint32_t version;     /* 2 or 3 */
    uint64_t alignment;   /* general.alignment or 32 */
    uint64_t data_offset; /* start of the tensor data section in the file */
    uint64_t n_kv;
    lai_gguf_kv *kv;
    uint64_t n_tensors;
    lai_gguf_tensor *tensors;
    void *index;          /* private lookup tables */
} lai_gguf;

/* Opens and validates a GGUF file. Errors carry the path and the failing field. */
localai_status lai_gguf_open(const char *path, int use_mmap, lai_gguf **out);
/* Validates a GGUF image in memory (not copied: it must outlive the result). For fuzzing
 * and tests. */
localai_status lai_gguf_parse(const uint8_t *data, uint64_t size, lai_gguf **out);
void lai_gguf_close(lai_gguf *gguf);

const lai_gguf_kv *lai_gguf_find(const lai_gguf *gguf, const char *key);
const lai_gguf_tensor *lai_gguf_find_tensor(const lai_gguf *gguf, const char *name);

/* Typed getters. NOT_FOUND when absent (no message set: absence is often fine);
 * BAD_FORMAT with a message naming the key on a type mismatch or a value that does not
 * fit. Integer getters accept any integer type whose value fits. */
localai_status lai_gguf_get_u32(const lai_gguf *g, const char *key, uint32_t *out);
localai_status lai_gguf_get_i32(const lai_gguf *g, const char *key, int32_t *out);
localai_status lai_gguf_get_u64(const lai_gguf *g, const char *key, uint64_t *out);
localai_status lai_gguf_get_f32(const lai_gguf *g, const char *key, float *out); /* f32/f64 */
localai_status lai_gguf_get_bool(const lai_gguf *g, const char *key, int *out);
localai_status lai_gguf_get_str(const lai_gguf *g, const char *key, lai_str *out);
/* An array of `elem_type` with its length; *out_kv is the entry. */
localai_status lai_gguf_get_array(const lai_gguf *g, const char *key, uint32_t elem_type,
                                  const lai_gguf_kv **out_kv);
/* Element i of a numeric array entry as double / int64 (caller checked the bounds). */
double lai_gguf_array_f64(const lai_gguf_kv *kv, uint64_t i);
int64_t lai_gguf_array_i64(const lai_gguf_kv *kv, uint64_t i);

const char *lai_gguf_type_name(uint32_t type);
/* Renders a value as text (see localai_model_meta_value); returns the length needed. */
size_t lai_gguf_format_value(const lai_gguf_kv *kv, char *buf, size_t capacity);

#endif /* LAI_GGUF_H */
