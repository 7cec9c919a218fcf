/* test_damage.c - thousands of damaged copies of real and generated GGUF files: an error or a correct open, never a crash. */
#include "gguf/gguf.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "quant/quant.h"
#include "test_util.h"
#include "tokenizer/vocab.h"

#include "gen_model.h"

#include <stdio.h>
#include <stdlib.h>

/* Every damaged copy lives in a heap block of exactly its size, so a read past the end is
 * caught by AddressSanitizer in the sanitized build of this test. */

typedef enum { F_U32, F_COUNT, F_LEN, F_DIM, F_OFFSET } field_kind;

typedef struct field {
    uint64_t at;
    field_kind kind;
} field;

typedef struct layout {
    field *fields;
    size_t n_fields, cap_fields;
    uint64_t *bounds; /* structure boundaries: truncation points */
    size_t n_bounds, cap_bounds;
} layout;

static void add_field(layout *l, uint64_t at, field_kind k) {
    if (l->n_fields == l->cap_fields) {
        l->cap_fields = l->cap_fields ? 2 * l->cap_fields : 256;
        l->fields = realloc(l->fields, l->cap_fields * sizeof *l->fields);
    }
    l->fields[l->n_fields++] = (field){at, k};
}

static void add_bound(layout *l, uint64_t at) {
    if (l->n_bounds == l->cap_bounds) {
        l->cap_bounds = l->cap_bounds ? 2 * l->cap_bounds : 256;
        l->bounds = realloc(l->bounds, l->cap_bounds * sizeof *l->bounds);
    }
    l->bounds[l->n_bounds++] = at;
}

static uint64_t rd64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t scalar_bytes(uint32_t t) {
    static const uint8_t sz[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < 13 ? sz[t] : 0;
}

/* Records where the fields of a VALID file are (an independent walk, no validation).
 * Strings inside long arrays are sampled: every one up to 64, then every 997th. */
static void walk(const uint8_t *d, uint64_t size, layout *l) {
    (void)size;
    uint64_t p = 0;
    add_bound(l, 0);
    add_bound(l, 4);
    add_field(l, 4, F_U32); /* version */
    add_field(l, 8, F_COUNT);
    add_field(l, 16, F_COUNT);
    uint64_t n_t = rd64(d + 8), n_kv = rd64(d + 16);
    p = 24;
    add_bound(l, 8);
    add_bound(l, 16);
    add_bound(l, 24);
    for (uint64_t i = 0; i < n_kv; i++) {
        add_bound(l, p);
        add_field(l, p, F_LEN);
        p += 8 + rd64(d + p);
        add_bound(l, p);
        add_field(l, p, F_U32);
        uint32_t t = rd32(d + p);
        p += 4;
        add_bound(l, p);
        if (t == 8) {
            add_field(l, p, F_LEN);
            p += 8 + rd64(d + p);
        } else if (t == 9) {
            uint32_t et = rd32(d + p);
            add_field(l, p, F_U32);
            add_field(l, p + 4, F_COUNT);
            uint64_t n = rd64(d + p + 4);
            p += 12;
            add_bound(l, p);
            if (et == 8) {
                for (uint64_t j = 0; j < n; j++) {
                    if (j < 64 || j % 997 == 0) {
                        add_field(l, p, F_LEN);
                        add_bound(l, p);
                    }
                    p += 8 + rd64(d + p);
                }
            } else {
                p += n * scalar_bytes(et);
            }
        } else {
            p += scalar_bytes(t);
        }
        add_bound(l, p);
    }
    uint64_t align = 32;
    for (uint64_t i = 0; i < n_t; i++) {
        add_bound(l, p);
        add_field(l, p, F_LEN);
        p += 8 + rd64(d + p);
        add_field(l, p, F_U32); /* n_dims */
        uint32_t nd = rd32(d + p);
        p += 4;
        for (uint32_t k = 0; k < nd; k++, p += 8) add_field(l, p, F_DIM);
        add_field(l, p, F_U32); /* type */
        p += 4;
        add_field(l, p, F_OFFSET);
        p += 8;
        add_bound(l, p);
    }
    uint64_t data = (p + align - 1) / align * align;
    add_bound(l, data);
    add_bound(l, size);
}

typedef struct stats {
    int cases, opened, bound, failed;
} stats;

static uint64_t rng_state;
static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint64_t below(uint64_t n) { return n ? next_u64() % n : 0; }

/* Everything a model open does with an untrusted image, in memory. */
static void consume(const uint8_t *bytes, uint64_t size, stats *s, int with_vocab) {
    s->cases++;
    /* One exact-size block is kept while the size stays the same (fresh blocks for every
     * case cost the sanitized build most of its time in page faults). */
    static uint8_t *copy;
    static uint64_t copy_size = UINT64_MAX;
    if (size != copy_size) {
        free(copy);
        copy = malloc(size ? (size_t)size : 1);
        copy_size = size;
    }
    memcpy(copy, bytes, (size_t)size);
    lai_gguf *g = NULL;
    localai_status st = lai_gguf_parse(copy, size, &g);
    if (st != LOCALAI_STATUS_OK) {
        s->failed++;
        CHECK_MSG(st == LOCALAI_STATUS_BAD_FORMAT, "parse status %d: %s", (int)st, localai_errmsg());
        CHECK(localai_errmsg()[0] != '\0' && g == NULL);
        return;
    }
    s->opened++;
    /* every value renders and every tensor's bytes are inside the image */
    char buf[96];
    unsigned sum = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) sum += (unsigned)lai_gguf_format_value(&g->kv[i], buf, sizeof buf);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const lai_gguf_tensor *t = &g->tensors[i];
        CHECK(t->data >= copy && t->data + t->n_bytes <= copy + size);
        sum += t->data[0] + t->data[t->n_bytes - 1];
    }
    (void)sum;
    lai_hparams hp;
    st = lai_hparams_load(g, &hp);
    if (st == LOCALAI_STATUS_OK && g->n_tensors > 0) {
        lai_model_weights w;
        st = lai_weights_bind(g, &hp, &w);
        if (st == LOCALAI_STATUS_OK) {
            s->bound++;
            /* a bound model's first row of every matrix converts */
            float row[4096];
            for (uint32_t il = 0; il < hp.n_layer; il++) {
                const lai_gguf_tensor *t = w.layers[il].ffn_down;
                const lai_type_traits *tr = lai_type_get(t->type);
                if (t->ne[0] <= 4096) tr->to_float(t->data, row, (int64_t)t->ne[0]);
            }
            lai_weights_free(&w);
        } else {
            CHECK_MSG(st == LOCALAI_STATUS_BAD_FORMAT || st == LOCALAI_STATUS_UNSUPPORTED,
                      "bind status %d: %s", (int)st, localai_errmsg());
        }
    } else if (st != LOCALAI_STATUS_OK) {
        CHECK_MSG(st == LOCALAI_STATUS_BAD_FORMAT || st == LOCALAI_STATUS_UNSUPPORTED,
                  "hparams status %d: %s", (int)st, localai_errmsg());
    }
    if (with_vocab) {
        lai_vocab *v = NULL;
        st = lai_vocab_load(g, NULL, &v);
        CHECK_MSG(st == LOCALAI_STATUS_OK || st == LOCALAI_STATUS_BAD_FORMAT ||
                      st == LOCALAI_STATUS_UNSUPPORTED,
                  "vocab status %d: %s", (int)st, localai_errmsg());
        lai_vocab_free(v);
    }
    lai_gguf_close(g);
}

static const uint64_t u64_values[] = {0, 1, 2, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFFull, 0x80000000ull,
                                      0xFFFFFFFFull, 0x100000000ull, 0x7FFFFFFFFFFFFFFFull,
                                      0x8000000000000000ull, 0xFFFFFFFFFFFFFFFFull,
                                      0xFFFFFFFFFFFFFFF8ull};
static const uint32_t u32_values[] = {0, 1, 2, 3, 7, 8, 9, 12, 13, 30, 39, 0xFF, 0x7FFFFFFF,
                                      0xFFFFFFFF};

static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* Runs every kind of damage on one valid image. `scale` multiplies the random parts. */
static void damage(const char *what, const uint8_t *d, uint64_t size, int scale, stats *s) {
    layout l = {0};
    walk(d, size, &l);
    uint8_t *work = malloc((size_t)size);
    int vocab_every = size > 100000 ? 25 : 3; /* the tokenizer build is slow on big vocabularies */
    int n = 0;

    /* 1. the intact file opens */
    consume(d, size, s, 1);
    CHECK_MSG(s->opened > 0, "%s: the intact file does not open: %s", what, localai_errmsg());

    /* 2. truncated at every structure boundary, one byte either side, and at random points */
    for (size_t i = 0; i < l.n_bounds; i++) {
        for (int delta = -1; delta <= 1; delta++) {
            uint64_t at = l.bounds[i] + (uint64_t)(int64_t)delta;
            if (at >= size) continue;
            consume(d, at, s, ++n % vocab_every == 0);
        }
    }
    for (int i = 0; i < 40 * scale; i++) consume(d, below(size), s, ++n % vocab_every == 0);

    /* 3. header fields overwritten with extreme values */
    for (size_t i = 0; i < l.n_fields; i++) {
        /* files have hundreds of fields: visit about 60 of them (times the scale) */
        if (l.n_fields > 60 && below(l.n_fields) >= (uint64_t)(60 * scale)) continue;
        const field *f = &l.fields[i];
        memcpy(work, d, (size_t)size);
        if (f->kind == F_U32) {
            for (size_t k = 0; k < LAI_ARRAY_LEN(u32_values); k++) {
                put32(work + f->at, u32_values[k]);
                consume(work, size, s, ++n % vocab_every == 0);
            }
        } else {
            uint64_t orig = rd64(d + f->at);
            uint64_t extra[4] = {size, size + 1, orig + 1, orig ? orig - 1 : 1};
            for (size_t k = 0; k < LAI_ARRAY_LEN(u64_values) + 4; k++) {
                uint64_t v = k < LAI_ARRAY_LEN(u64_values) ? u64_values[k] : extra[k - LAI_ARRAY_LEN(u64_values)];
                put64(work + f->at, v);
                consume(work, size, s, ++n % vocab_every == 0);
            }
        }
    }

    /* 4. random bit flips, mostly in the metadata and tensor table */
    uint64_t meta_end = l.n_bounds ? l.bounds[l.n_bounds - 2] : size;
    if (meta_end == 0 || meta_end > size) meta_end = size;
    for (int i = 0; i < 150 * scale; i++) {
        memcpy(work, d, (size_t)size);
        int flips = 1 + (int)below(4);
        for (int k = 0; k < flips; k++) {
            uint64_t at = below(8) == 0 ? below(size) : below(meta_end);
            work[at] ^= (uint8_t)(1u << below(8));
        }
        consume(work, size, s, ++n % vocab_every == 0);
    }

    /* 5. random bytes spliced over a field */
    for (int i = 0; i < 50 * scale && l.n_fields; i++) {
        memcpy(work, d, (size_t)size);
        const field *f = &l.fields[below(l.n_fields)];
        uint64_t len = f->kind == F_U32 ? 4 : 8;
        for (uint64_t k = 0; k < len; k++) work[f->at + k] = (uint8_t)next_u64();
        consume(work, size, s, ++n % vocab_every == 0);
    }
    free(work);
    free(l.fields);
    free(l.bounds);
}

static uint8_t *read_whole(const char *path, uint64_t *size) {
    size_t n = 0;
    uint8_t *buf = (uint8_t *)test_read_file(path, &n);
    *size = n;
    return buf;
}

int main(void) {
    const char *seed_env = getenv("LOCALAI_DAMAGE_SEED");
    const char *scale_env = getenv("LOCALAI_DAMAGE_SCALE");
    rng_state = seed_env ? strtoull(seed_env, NULL, 0) : 0x5EED;
    int scale = scale_env ? atoi(scale_env) : 1;
    if (scale < 1) scale = 1;
    printf("seed 0x%llx, scale %d (LOCALAI_DAMAGE_SEED / LOCALAI_DAMAGE_SCALE)\n",
           (unsigned long long)rng_state, scale);
    stats total = {0};

    const char *shared[] = {
        "models/stories260K.gguf", "models/llama-2-tiny-random-UNTRAINED.gguf",
        "vocab/ggml-vocab-deepseek-coder.gguf", "vocab/ggml-vocab-falcon.gguf",
        "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-llama-spm.gguf",
        "vocab/ggml-vocab-phi-3.gguf", "vocab/ggml-vocab-starcoder.gguf",
    };
    for (size_t i = 0; i < LAI_ARRAY_LEN(shared); i++) {
        uint64_t size = 0;
        uint8_t *d = read_whole(test_shared_path(shared[i]), &size);
        CHECK_MSG(d != NULL, "cannot read %s", shared[i]);
        if (d == NULL) continue;
        stats s = {0};
        damage(shared[i], d, size, scale, &s);
        printf("%-45s %6d cases: %5d parsed, %4d bound, %5d refused\n", shared[i], s.cases,
               s.opened, s.bound, s.failed);
        total.cases += s.cases;
        total.opened += s.opened;
        total.bound += s.bound;
        total.failed += s.failed;
        free(d);
    }

    /* Generated models: every architecture, several weight types, small shapes. */
    const lai_arch archs[] = {LAI_ARCH_LLAMA, LAI_ARCH_QWEN2, LAI_ARCH_QWEN3,
                              LAI_ARCH_PHI3, LAI_ARCH_GEMMA2, LAI_ARCH_GEMMA3};
    const uint32_t types[] = {LAI_TYPE_F16, LAI_TYPE_Q8_0, LAI_TYPE_Q4_K, LAI_TYPE_BF16,
                              LAI_TYPE_Q6_K, LAI_TYPE_F32};
    for (size_t i = 0; i < LAI_ARRAY_LEN(archs); i++) {
        gen_options o;
        gen_options_init(&o);
        o.arch = archs[i];
        o.weight_type = types[i];
        o.n_embd = 256;
        o.n_ff = 256;
        o.n_layer = 2;
        o.n_swa = archs[i] == LAI_ARCH_GEMMA3 ? 64 : 0;
        o.tied = (int)(i % 2);
        const lai_type_traits *tr = lai_type_get(o.weight_type);
        if (tr == NULL || tr->from_float == NULL) o.weight_type = LAI_TYPE_F16;
        lai_gguf_writer *w = NULL;
        uint8_t *img = NULL;
        uint64_t size = 0;
        CHECK_STATUS(gen_model_build(&o, &w), LOCALAI_STATUS_OK);
        if (w == NULL) continue;
        CHECK_STATUS(lai_gguf_writer_write_mem(w, &img, &size), LOCALAI_STATUS_OK);
        lai_gguf_writer_free(w);
        if (img == NULL) continue;
        stats s = {0};
        damage(lai_arch_name(archs[i]), img, size, scale, &s);
        printf("generated %-35s %6d cases: %5d parsed, %4d bound, %5d refused\n",
               lai_arch_name(archs[i]), s.cases, s.opened, s.bound, s.failed);
        CHECK_MSG(s.bound > 0, "%s: the intact generated model does not bind", lai_arch_name(archs[i]));
        total.cases += s.cases;
        total.opened += s.opened;
        total.bound += s.bound;
        total.failed += s.failed;
        lai_free(img);
    }
    printf("total %d damaged or intact copies: %d parsed, %d bound, %d refused\n", total.cases,
           total.opened, total.bound, total.failed);
    CHECK(total.cases > 2000);
    return test_finish("test_damage");
}
