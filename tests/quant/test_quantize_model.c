/* test_quantize_model.c - `localai quantize` against llama.cpp's own quantized files. */
#include "test_util.h"
#include "gguf/gguf.h"
#include "gguf/gguf_write.h"
#include "quant/quantize_model.h"

#include <math.h>
#include <unistd.h>

/* ref/make_model_ref.py ran llama.cpp's llama_model_quantize on stories260K and on two
 * generated llama-shaped models, and listed every output tensor as "name type fnv1a64"
 * in file order. Our output must match line for line: the same per-tensor type choices
 * (mixes, fallbacks, tied embeddings), the same order, the same bytes. We also reopen
 * each output with our reader and check metadata and dequantized values. */

static char tmp_dir[1024];

static const char *tmp_path(const char *name) {
    static char buf[2048];
    snprintf(buf, sizeof buf, "%s/lai_qm_%ld_%s", tmp_dir, (long)getpid(), name);
    return buf;
}

static uint64_t fnv1a64(const uint8_t *p, uint64_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Compares the tensors of `out_path` with ref/<manifest>; returns mismatching lines. */
static int compare_manifest(const char *out_path, const char *manifest) {
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/%s", QUANT_REF_DIR, manifest);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (f == NULL) return 1;
    lai_gguf *g = NULL;
    CHECK_STATUS(lai_gguf_open(out_path, 1, &g), LOCALAI_STATUS_OK);
    if (g == NULL) {
        fclose(f);
        return 1;
    }
    uint64_t i = 0;
    int bad = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#') continue;
        char name[256];
        unsigned type;
        unsigned long long hash;
        if (sscanf(line, "%255s %u %llx", name, &type, &hash) != 3) continue;
        if (i >= g->n_tensors) {
            bad++;
            break;
        }
        const lai_gguf_tensor *t = &g->tensors[i++];
        uint64_t h = fnv1a64(t->data, t->n_bytes);
        if (strcmp(t->name, name) != 0 || t->type != type || h != hash) {
            if (bad < 5)
                fprintf(stderr, "%s: tensor %llu: ours %s %s %016llx, llama.cpp %s %s %016llx\n", manifest,
                        (unsigned long long)(i - 1), t->name, lai_type_get(t->type)->name,
                        (unsigned long long)h, name, lai_type_get(type) ? lai_type_get(type)->name : "?", hash);
            bad++;
        }
    }
    CHECK_MSG(i == g->n_tensors, "%s: %llu lines for %llu tensors", manifest, (unsigned long long)i,
              (unsigned long long)g->n_tensors);
    fclose(f);
    lai_gguf_close(g);
    CHECK_MSG(bad == 0, "%s: %d tensors differ from llama.cpp", manifest, bad);
    return bad;
}

/* Metadata kept, file type recorded, every tensor within its format's error of the input. */
static void check_output(const char *in_path, const char *out_path, uint32_t ftype) {
    lai_gguf *in = NULL, *out = NULL;
    CHECK_STATUS(lai_gguf_open(in_path, 1, &in), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_open(out_path, 1, &out), LOCALAI_STATUS_OK);
    if (in == NULL || out == NULL) goto done;
    uint32_t v = 0;
    CHECK(lai_gguf_get_u32(out, "general.file_type", &v) == LOCALAI_STATUS_OK && v == ftype);
    CHECK(lai_gguf_get_u32(out, "general.quantization_version", &v) == LOCALAI_STATUS_OK && v == 2);
    CHECK(out->alignment == in->alignment);
    for (uint64_t i = 0; i < in->n_kv; i++) {
        const char *key = in->kv[i].key;
        if (strcmp(key, "general.file_type") == 0 || strcmp(key, "general.quantization_version") == 0) continue;
        const lai_gguf_kv *o = lai_gguf_find(out, key);
        CHECK_MSG(o != NULL, "key %s lost", key);
        if (o == NULL) continue;
        char a[256], b[256];
        lai_gguf_format_value(&in->kv[i], a, sizeof a);
        lai_gguf_format_value(o, b, sizeof b);
        CHECK_MSG(o->type == in->kv[i].type && strcmp(a, b) == 0, "key %s changed", key);
    }
    CHECK(out->n_tensors == in->n_tensors);
    for (uint64_t i = 0; i < in->n_tensors; i++) {
        const lai_gguf_tensor *ti = &in->tensors[i];
        const lai_gguf_tensor *to = lai_gguf_find_tensor(out, ti->name);
        CHECK_MSG(to != NULL, "tensor %s lost", ti->name);
        if (to == NULL) continue;
        CHECK(to->n_dims == ti->n_dims && memcmp(to->ne, ti->ne, sizeof ti->ne) == 0);
        if (ti->n_dims < 2) CHECK_MSG(to->type == ti->type, "1-D tensor %s re-encoded", ti->name);
        uint64_t n = ti->ne[0] * ti->ne[1] * ti->ne[2] * ti->ne[3];
        float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
        lai_type_get(ti->type)->to_float(ti->data, x, (int64_t)n);
        lai_type_get(to->type)->to_float(to->data, y, (int64_t)n);
        double se = 0, sx = 0;
        for (uint64_t k = 0; k < n; k++) {
            se += ((double)x[k] - y[k]) * ((double)x[k] - y[k]);
            sx += (double)x[k] * x[k];
        }
        double rel = sx > 0 ? sqrt(se / sx) : sqrt(se);
        double bound;
        switch (to->type) {
        case LAI_TYPE_F32: bound = 0; break;
        case LAI_TYPE_F16: bound = 0.001; break;
        case LAI_TYPE_Q8_0: bound = 0.01; break;
        case LAI_TYPE_Q6_K: bound = 0.03; break;
        case LAI_TYPE_Q5_K: case LAI_TYPE_Q5_0: case LAI_TYPE_Q5_1: bound = 0.07; break;
        default: bound = 0.14; break; /* 4-bit */
        }
        CHECK_MSG(rel <= bound, "%s as %s: relative rms error %.4f > %.4f", ti->name,
                  lai_type_get(to->type)->name, rel, bound);
        free(x);
        free(y);
    }
done:
    lai_gguf_close(in);
    lai_gguf_close(out);
}

/* ---- the generated models (must equal synth_tensors in ref/make_model_ref.py) ---------- */

enum { E = 256, F = 256, L = 8, HEADS = 4, HEADS_KV = 2, VOCAB = 320 };

static localai_status write_synth(const char *path, int tied) {
    lai_gguf_writer *w = NULL;
    localai_status st = lai_gguf_writer_new(&w);
    if (st != LOCALAI_STATUS_OK) return st;
    lai_gguf_writer_set_str(w, "general.architecture", "llama");
    lai_gguf_writer_set_u32(w, "llama.context_length", 256);
    lai_gguf_writer_set_u32(w, "llama.embedding_length", E);
    lai_gguf_writer_set_u32(w, "llama.block_count", L);
    lai_gguf_writer_set_u32(w, "llama.feed_forward_length", F);
    lai_gguf_writer_set_u32(w, "llama.attention.head_count", HEADS);
    lai_gguf_writer_set_u32(w, "llama.attention.head_count_kv", HEADS_KV);
    lai_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    lai_gguf_writer_set_u32(w, "general.file_type", 0);
    struct { char name[64]; uint64_t ne[2]; int nd; } shapes[3 + 9 * L];
    int ns = 0;
#define ADD(nm, n0, n1, d) do { snprintf(shapes[ns].name, 64, "%s", nm); shapes[ns].ne[0] = n0; \
        shapes[ns].ne[1] = n1; shapes[ns].nd = d; ns++; } while (0)
    ADD("token_embd.weight", E, VOCAB, 2);
    ADD("output_norm.weight", E, 1, 1);
    if (!tied) ADD("output.weight", E, VOCAB, 2);
    const int kv = E * HEADS_KV / HEADS;
    for (int i = 0; i < L; i++) {
        char n[64];
#define LAYER(suffix, n0, n1, d) do { snprintf(n, sizeof n, "blk.%d.%s", i, suffix); ADD(n, n0, n1, d); } while (0)
        LAYER("attn_norm.weight", E, 1, 1);
        LAYER("attn_q.weight", E, E, 2);
        LAYER("attn_k.weight", E, kv, 2);
        LAYER("attn_v.weight", E, kv, 2);
        LAYER("attn_output.weight", E, E, 2);
        LAYER("ffn_norm.weight", E, 1, 1);
        LAYER("ffn_gate.weight", E, F, 2);
        LAYER("ffn_up.weight", E, F, 2);
        LAYER("ffn_down.weight", F, E, 2);
    }
    uint64_t state = 0x5DEECE66Dull, counter = 0;
    for (int s = 0; s < ns && st == LOCALAI_STATUS_OK; s++) {
        uint64_t n = shapes[s].ne[0] * shapes[s].ne[1];
        float *vals = malloc(n * sizeof(float));
        for (uint64_t k = 0; k < n; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            int32_t q = (int32_t)(state >> 40) - (1 << 23);
            counter++;
            vals[k] = ldexpf((float)q, counter % 997 == 0 ? -24 : -28);
        }
        st = lai_gguf_writer_add_tensor(w, shapes[s].name, LAI_TYPE_F32, (uint32_t)shapes[s].nd,
                                        shapes[s].ne, vals, n * sizeof(float), 1);
        free(vals);
    }
    if (st == LOCALAI_STATUS_OK) st = lai_gguf_writer_write_file(w, path);
    lai_gguf_writer_free(w);
    return st;
}

static int count_progress(void *user, uint64_t done, uint64_t total, const char *tensor, uint32_t type) {
    uint64_t *calls = user;
    (void)tensor;
    (void)type;
    if (done != calls[0] + 1 || done > total) calls[1]++; /* out of sequence */
    calls[0] = done;
    return 0;
}

static int cancel_at_3(void *user, uint64_t done, uint64_t total, const char *tensor, uint32_t type) {
    (void)user; (void)total; (void)tensor; (void)type;
    return done >= 3;
}

static void quantize_and_compare(const char *in_path, const char *tag, const char *ftype_name, int check) {
    lai_quantize_params p;
    lai_quantize_params_default(&p);
    CHECK_STATUS(lai_ftype_from_name(ftype_name, &p.ftype), LOCALAI_STATUS_OK);
    p.n_threads = 2;
    uint64_t calls[2] = {0, 0};
    p.progress = count_progress;
    p.progress_user = calls;
    char out[2048], manifest[256];
    snprintf(out, sizeof out, "%s", tmp_path(ftype_name));
    CHECK_STATUS(lai_quantize_model(in_path, out, &p), LOCALAI_STATUS_OK);
    CHECK_MSG(calls[1] == 0 && calls[0] > 0, "progress: %llu calls, %llu out of order",
              (unsigned long long)calls[0], (unsigned long long)calls[1]);
    snprintf(manifest, sizeof manifest, "%s.%s.txt", tag, ftype_name);
    compare_manifest(out, manifest);
    if (check) check_output(in_path, out, p.ftype);
    remove(out);
}

static void check_errors(const char *stories) {
    lai_quantize_params p;
    lai_quantize_params_default(&p);
    uint32_t ft;
    CHECK_STATUS(lai_ftype_from_name("Q3_K_XL", &ft), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(lai_ftype_from_name("q4_k", &ft), LOCALAI_STATUS_OK); /* alias of Q4_K_M */
    CHECK(ft == LAI_FTYPE_MOSTLY_Q4_K_M);
    p.ftype = 12345;
    CHECK_STATUS(lai_quantize_model(stories, tmp_path("x.gguf"), &p), LOCALAI_STATUS_INVALID_ARGUMENT);
    p.ftype = LAI_FTYPE_MOSTLY_Q8_0;
    CHECK_STATUS(lai_quantize_model(tmp_path("missing.gguf"), tmp_path("x.gguf"), &p), LOCALAI_STATUS_IO);

    /* cancelling leaves neither the output nor the temporary file */
    p.progress = cancel_at_3;
    CHECK_STATUS(lai_quantize_model(stories, tmp_path("cancel.gguf"), &p), LOCALAI_STATUS_CANCELLED);
    CHECK(access(tmp_path("cancel.gguf"), F_OK) != 0);
    CHECK(access(tmp_path("cancel.gguf.quantize-tmp"), F_OK) != 0);
    p.progress = NULL;

    /* requantizing a quantized file is refused unless asked for, then works */
    char q8[2048];
    snprintf(q8, sizeof q8, "%s", tmp_path("q8.gguf"));
    CHECK_STATUS(lai_quantize_model(stories, q8, &p), LOCALAI_STATUS_OK);
    p.ftype = LAI_FTYPE_MOSTLY_Q4_0;
    CHECK_STATUS(lai_quantize_model(q8, tmp_path("q4.gguf"), &p), LOCALAI_STATUS_UNSUPPORTED);
    CHECK(strstr(localai_errmsg(), "requantiz") != NULL);
    p.allow_requantize = 1;
    CHECK_STATUS(lai_quantize_model(q8, tmp_path("q4.gguf"), &p), LOCALAI_STATUS_OK);
    remove(tmp_path("q4.gguf"));
    /* OUT may be IN when asked for: written aside, then renamed over it */
    CHECK_STATUS(lai_quantize_model(q8, q8, &p), LOCALAI_STATUS_INVALID_ARGUMENT);
    p.overwrite_input = 1;
    CHECK_STATUS(lai_quantize_model(q8, q8, &p), LOCALAI_STATUS_OK);
    p.overwrite_input = 0;
    lai_gguf *g = NULL;
    CHECK_STATUS(lai_gguf_open(q8, 1, &g), LOCALAI_STATUS_OK);
    lai_gguf_close(g);
    remove(q8);

    /* a non-finite weight is reported with its tensor, not quantized into garbage */
    lai_gguf_writer *w = NULL;
    CHECK_STATUS(lai_gguf_writer_new(&w), LOCALAI_STATUS_OK);
    float vals[64 * 2];
    for (int i = 0; i < 128; i++) vals[i] = (float)i / 128.0f;
    vals[77] = NAN;
    uint64_t ne[2] = {64, 2};
    CHECK_STATUS(lai_gguf_writer_add_tensor(w, "blk.0.attn_q.weight", LAI_TYPE_F32, 2, ne, vals, sizeof vals, 1),
                 LOCALAI_STATUS_OK);
    char nan_path[2048];
    snprintf(nan_path, sizeof nan_path, "%s", tmp_path("nan.gguf"));
    CHECK_STATUS(lai_gguf_writer_write_file(w, nan_path), LOCALAI_STATUS_OK);
    lai_gguf_writer_free(w);
    p.allow_requantize = 0;
    CHECK_STATUS(lai_quantize_model(nan_path, tmp_path("nan_q.gguf"), &p), LOCALAI_STATUS_BAD_FORMAT);
    CHECK(strstr(localai_errmsg(), "blk.0.attn_q.weight") != NULL);
    CHECK(access(tmp_path("nan_q.gguf"), F_OK) != 0);
    remove(nan_path);
}

int main(void) {
    const char *t = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s", t && t[0] ? t : "/tmp");
    char stories[4096];
    snprintf(stories, sizeof stories, "%s", test_shared_path("models/stories260K.gguf"));

    static const char *const ftypes[] = {"Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K"};
    for (size_t i = 0; i < LAI_ARRAY_LEN(ftypes); i++) quantize_and_compare(stories, "stories260K", ftypes[i], 1);

    char synth[2048];
    snprintf(synth, sizeof synth, "%s", tmp_path("synth.gguf"));
    CHECK_STATUS(write_synth(synth, 0), LOCALAI_STATUS_OK);
    for (size_t i = 0; i < LAI_ARRAY_LEN(ftypes); i++) quantize_and_compare(synth, "synth", ftypes[i], i == 2);
    CHECK_STATUS(write_synth(synth, 1), LOCALAI_STATUS_OK);
    quantize_and_compare(synth, "synth_tied", "Q4_K_M", 0);
    quantize_and_compare(synth, "synth_tied", "Q4_0", 0);
    remove(synth);

    check_errors(stories);
    return test_finish("test_quantize_model");
}
