/* gguf_write.h - the GGUF writer: collect metadata and tensors, then write a valid v3 file. */
#ifndef LAI_GGUF_WRITE_H
#define LAI_GGUF_WRITE_H

#include "gguf.h"

#include <stdio.h>

typedef struct lai_gguf_writer lai_gguf_writer;

/* Supplies the bytes of tensor `index` (in add order) for tensors added with data NULL,
 * when the file is written: lets a tool produce one tensor at a time (quantize). */
typedef localai_status (*lai_gguf_tensor_source)(void *user, uint64_t index, uint8_t *dst,
                                                 uint64_t n_bytes);
/* Called after each tensor is written with (tensors done, tensor count); non-zero cancels. */
typedef int (*lai_gguf_write_progress)(void *user, uint64_t done, uint64_t total);

localai_status lai_gguf_writer_new(lai_gguf_writer **out);
void lai_gguf_writer_free(lai_gguf_writer *w);

/* Data alignment, a power of two (default 32). A value other than 32 is also recorded
 * as general.alignment (u32), as readers expect. */
localai_status lai_gguf_writer_set_alignment(lai_gguf_writer *w, uint32_t alignment);

/* Metadata. Setting a key that exists replaces its value and keeps its position; keys
 * keep the order of their first setting. */
localai_status lai_gguf_writer_set_u8(lai_gguf_writer *w, const char *key, uint8_t v);
localai_status lai_gguf_writer_set_i8(lai_gguf_writer *w, const char *key, int8_t v);
localai_status lai_gguf_writer_set_u16(lai_gguf_writer *w, const char *key, uint16_t v);
localai_status lai_gguf_writer_set_i16(lai_gguf_writer *w, const char *key, int16_t v);
localai_status lai_gguf_writer_set_u32(lai_gguf_writer *w, const char *key, uint32_t v);
localai_status lai_gguf_writer_set_i32(lai_gguf_writer *w, const char *key, int32_t v);
localai_status lai_gguf_writer_set_u64(lai_gguf_writer *w, const char *key, uint64_t v);
localai_status lai_gguf_writer_set_i64(lai_gguf_writer *w, const char *key, int64_t v);
localai_status lai_gguf_writer_set_f32(lai_gguf_writer *w, const char *key, float v);
localai_status lai_gguf_writer_set_f64(lai_gguf_writer *w, const char *key, double v);
localai_status lai_gguf_writer_set_bool(lai_gguf_writer *w, const char *key, int v);
localai_status lai_gguf_writer_set_str(lai_gguf_writer *w, const char *key, const char *v);
localai_status lai_gguf_writer_set_str_n(lai_gguf_writer *w, const char *key, const char *v,
                                         uint64_t len);
/* An array of numbers or booleans: `elems` holds n values of elem_type in host layout
 * (uint32_t[] for LAI_GGUF_UINT32, float[] for FLOAT32, uint8_t[] for BOOL, ...). */
localai_status lai_gguf_writer_set_array(lai_gguf_writer *w, const char *key, uint32_t elem_type,
                                         const void *elems, uint64_t n);
localai_status lai_gguf_writer_set_str_array(lai_gguf_writer *w, const char *key,
                                             const lai_str *strs, uint64_t n);
/* Copies an entry read from another file (its key and value). */
localai_status lai_gguf_writer_copy_kv(lai_gguf_writer *w, const lai_gguf_kv *kv);
/* Removes a key; NOT_FOUND (no message) when absent. */
localai_status lai_gguf_writer_remove(lai_gguf_writer *w, const char *key);

/* Adds a tensor. ne[0] is the innermost dimension; n_bytes must be the size its type's
 * block layout gives. `data`: copied when copy != 0, else borrowed (it must outlive the
 * write), or NULL to be asked from the source at write time. */
localai_status lai_gguf_writer_add_tensor(lai_gguf_writer *w, const char *name, uint32_t type,
                                          uint32_t n_dims, const uint64_t *ne, const void *data,
                                          uint64_t n_bytes, int copy);
void lai_gguf_writer_set_source(lai_gguf_writer *w, lai_gguf_tensor_source fn, void *user);
void lai_gguf_writer_set_progress(lai_gguf_writer *w, lai_gguf_write_progress fn, void *user);
uint64_t lai_gguf_writer_n_tensors(const lai_gguf_writer *w);

/* Writes the file (GGUF v3) to `path`: into a new file beside it with a unique name,
 * renamed over `path` when complete. A file or link already at `path` is replaced, never
 * written through (a reader that mapped the old file keeps its bytes); a failed or
 * cancelled write leaves `path` as it was and removes the partial file. */
localai_status lai_gguf_writer_write_file(lai_gguf_writer *w, const char *path);
/* Writes the file to a stream the caller opened for binary writing, and flushes it; the
 * caller closes it (and removes it if this fails). `name` names it in messages. */
localai_status lai_gguf_writer_write_stream(lai_gguf_writer *w, FILE *f, const char *name);
/* Writes the file into a heap buffer (lai_free it). */
localai_status lai_gguf_writer_write_mem(lai_gguf_writer *w, uint8_t **out, uint64_t *out_size);

#endif /* LAI_GGUF_WRITE_H */
