/* model_test_util.h - builds generated models in memory for the hparams/weights tests. */
#ifndef LOCALAI_MODEL_TEST_UTIL_H
#define LOCALAI_MODEL_TEST_UTIL_H

#include "gen_model.h"
#include "gguf/gguf.h"

/* A parsed in-memory model; free with image_free. */
typedef struct image {
    uint8_t *bytes;
    uint64_t size;
    lai_gguf *g;
} image;

typedef void (*edit_fn)(lai_gguf_writer *w, const char *arch);

/* Generates the model of `o`, lets `edit` change its metadata, and parses the result. */
static inline localai_status image_make(const gen_options *o, edit_fn edit, image *out) {
    memset(out, 0, sizeof *out);
    lai_gguf_writer *w = NULL;
    localai_status st = gen_model_build(o, &w);
    if (st != LOCALAI_STATUS_OK) return st;
    if (edit != NULL) edit(w, lai_arch_name(o->arch));
    st = lai_gguf_writer_write_mem(w, &out->bytes, &out->size);
    lai_gguf_writer_free(w);
    if (st != LOCALAI_STATUS_OK) return st;
    return lai_gguf_parse(out->bytes, out->size, &out->g);
}

static inline void image_free(image *im) {
    lai_gguf_close(im->g);
    lai_free(im->bytes);
    memset(im, 0, sizeof *im);
}

/* "<arch>.<suffix>" in a static buffer, for edit functions. */
static inline const char *arch_key(const char *arch, const char *suffix) {
    static char buf[160];
    snprintf(buf, sizeof buf, "%s.%s", arch, suffix);
    return buf;
}

#endif /* LOCALAI_MODEL_TEST_UTIL_H */
