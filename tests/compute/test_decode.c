/* test_decode.c - decoding real models: llama.cpp's greedy text and logits, and batch/KV invariants. */
#include <math.h>

#include "localai.h"
#include "llamacpp/json_min.h"
#include "test_util.h"

static json_value *load_json(const char *rel) {
    char err[128] = "cannot read";
    char *text = test_read_file(test_shared_path(rel), NULL);
    json_value *v = text ? json_parse(text, err, sizeof err) : NULL;
    free(text);
    CHECK_MSG(v != NULL, "%s: %s", rel, err);
    return v;
}

/* LOCALAI_TEST_BACKEND=vulkan runs every check on the Vulkan backend (tests/vulkan); cpu
 * keeps them on the CPU even where a GPU is present. */
static int32_t test_backend = LOCALAI_BACKEND_AUTO;

static localai_model *open_model(const char *rel) {
    localai_model *m = NULL;
    localai_model_params p;
    localai_model_params_init(&p);
    p.backend = test_backend;
    CHECK_STATUS(localai_model_open(test_shared_path(rel), &p, &m), LOCALAI_STATUS_OK);
    return m;
}

static localai_context *new_ctx(localai_model *m, uint32_t n_ctx, uint32_t n_seq, int32_t kv_type,
                                localai_abort_fn abort_fn, void *abort_user) {
    localai_context_params p;
    localai_context_params_init(&p);
    p.n_ctx = n_ctx;
    p.n_seq_max = n_seq;
    p.n_threads = 2;
    p.kv_type = kv_type;
    p.abort_callback = abort_fn;
    p.abort_user = abort_user;
    localai_context *c = NULL;
    CHECK_STATUS(localai_context_new(m, &p, &c), LOCALAI_STATUS_OK);
    return c;
}

/* Decodes tokens[0..n) of sequence `seq` at positions p0.. in one batch; logits at the last. */
static localai_status decode_run(localai_context *c, const localai_token *tokens, int32_t n,
                                 int32_t seq, int32_t p0) {
    int32_t pos[512], seqs[512];
    for (int32_t i = 0; i < n; i++) {
        pos[i] = p0 + i;
        seqs[i] = seq;
    }
    localai_batch b;
    localai_batch_init(&b);
    b.n_tokens = n;
    b.tokens = tokens;
    b.positions = pos;
    b.seq_ids = seqs;
    return localai_decode(c, &b);
}

static int argmax(const float *x, int32_t n) {
    int best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* max |a - b| over max |b|. A batch and the same tokens one by one run different
 * kernels (GEMM tiles, dots) that sum in different orders, and the f16 KV cache turns
 * those last-bit differences into f16 rounding steps (about 5e-4 relative) of the keys
 * and values: equal logits are equal to a few 1e-5 of their range. */
static double max_rel_diff(const float *a, const float *b, int32_t n) {
    double m = 0, r = 0;
    for (int32_t i = 0; i < n; i++) {
        m = fmax(m, fabs((double)a[i] - b[i]));
        r = fmax(r, fabs((double)b[i]));
    }
    return r > 0 ? m / r : m;
}
#define SAME_LOGITS 2e-4

/* nrmse = rms(o - r) / std(r), as the issue defines it */
static double nrmse(const float *o, const json_value *r, int32_t n) {
    double mean = 0, se = 0, var = 0;
    for (int32_t i = 0; i < n; i++) mean += r->items[i].number;
    mean /= n;
    for (int32_t i = 0; i < n; i++) {
        double d = o[i] - r->items[i].number, c = r->items[i].number - mean;
        se += d * d;
        var += c * c;
    }
    return sqrt(se / n) / sqrt(var / n);
}

/* stories260K, greedy from BOS alone, 256 tokens: exactly llama.cpp's ids. */
static void test_greedy_stories(void) {
    json_value *ref = load_json("reference/stories260K.greedy-from-bos.json");
    localai_model *m = open_model("models/stories260K.gguf");
    if (ref == NULL || m == NULL) goto done;
    const json_value *want = json_get(ref, "tokens");
    CHECK(want && want->kind == JSON_ARRAY && want->n == 256);
    localai_context *c = new_ctx(m, 0, 1, LOCALAI_KV_F16, NULL, NULL);
    if (c == NULL || want == NULL) goto done;
    localai_token tok = localai_token_special(m, LOCALAI_SPECIAL_BOS);
    CHECK(tok == 1);
    int mismatch = -1;
    for (int i = 0; i < 256; i++) {
        localai_batch b;
        localai_batch_init(&b);
        b.n_tokens = 1;
        b.tokens = &tok; /* positions NULL: continue sequence 0 */
        localai_status st = localai_decode(c, &b);
        CHECK_STATUS(st, LOCALAI_STATUS_OK);
        const float *logits = NULL;
        if (st != LOCALAI_STATUS_OK || localai_logits(c, -1, &logits) != LOCALAI_STATUS_OK) break;
        tok = argmax(logits, localai_model_n_vocab(m));
        if (mismatch < 0 && tok != (localai_token)want->items[i].number) mismatch = i;
    }
    CHECK_MSG(mismatch < 0, "greedy token %d differs from llama.cpp's", mismatch);
    int32_t pmax = -2;
    CHECK_STATUS(localai_kv_pos_max(c, 0, &pmax), LOCALAI_STATUS_OK);
    CHECK(pmax == 255);
    localai_context_free(c);
done:
    localai_model_close(m);
    json_free(ref);
}

/* Last-position logits of a prompt against llama.cpp's (F16 KV cache there and here). */
static void test_logits_ref(const char *model_rel, const char *ref_rel, double tol) {
    json_value *ref = load_json(ref_rel);
    localai_model *m = open_model(model_rel);
    if (ref == NULL || m == NULL) goto done;
    const json_value *pt = json_get(ref, "prompt_tokens"), *logits = json_get(ref, "logits");
    const int32_t n_vocab = localai_model_n_vocab(m);
    CHECK(pt && logits && logits->kind == JSON_ARRAY && (int32_t)logits->n == n_vocab);
    if (!pt || !logits || (int32_t)logits->n != n_vocab) goto done;
    localai_token toks[64];
    int32_t n = (int32_t)pt->n;
    for (int32_t i = 0; i < n && i < 64; i++) toks[i] = (localai_token)pt->items[i].number;
    localai_context *c = new_ctx(m, 128, 1, LOCALAI_KV_F16, NULL, NULL);
    if (c == NULL) goto done;
    CHECK_STATUS(decode_run(c, toks, n, 0, 0), LOCALAI_STATUS_OK);
    const float *o = NULL;
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK);
    if (o != NULL) {
        double e = nrmse(o, logits, n_vocab);
        printf("%s: nrmse vs llama.cpp %.3e (tolerance %.1e), argmax %d (llama.cpp %d)\n", model_rel, e,
               tol, argmax(o, n_vocab), (int)json_get(ref, "argmax")->number);
        CHECK_MSG(e <= tol, "%s: nrmse %.3e", model_rel, e);
        CHECK(argmax(o, n_vocab) == (int)json_get(ref, "argmax")->number);
    }
    localai_context_free(c);
done:
    localai_model_close(m);
    json_free(ref);
}

static const localai_token prompt_a[12] = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 400, 428};
static const localai_token prompt_b[9] = {1, 306, 298, 315, 421, 395, 317, 426, 338};

/* Logits after decoding `prompt` token by token (fresh context) into out. */
static void token_by_token(localai_model *m, const localai_token *prompt, int32_t n, float *out) {
    localai_context *c = new_ctx(m, 64, 1, LOCALAI_KV_F16, NULL, NULL);
    if (c == NULL) return;
    for (int32_t i = 0; i < n; i++) CHECK_STATUS(decode_run(c, prompt + i, 1, 0, i), LOCALAI_STATUS_OK);
    const float *o = NULL;
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK);
    if (o) memcpy(out, o, sizeof(float) * (size_t)localai_model_n_vocab(m));
    localai_context_free(c);
}

static void test_batch_invariants(void) {
    localai_model *m = open_model("models/stories260K.gguf");
    if (m == NULL) return;
    const int32_t V = localai_model_n_vocab(m);
    float *ref_a = calloc((size_t)V, sizeof(float)), *ref_b = calloc((size_t)V, sizeof(float));
    float *tmp = calloc((size_t)V, sizeof(float));
    token_by_token(m, prompt_a, 12, ref_a);
    token_by_token(m, prompt_b, 9, ref_b);
    const float *o = NULL;

    /* one batch equals token by token, at every position asked for */
    localai_context *c = new_ctx(m, 64, 2, LOCALAI_KV_F16, NULL, NULL);
    CHECK_STATUS(decode_run(c, prompt_a, 12, 0, 0), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK);
    double d = o ? max_rel_diff(o, ref_a, V) : 1e9;
    printf("batch vs token-by-token: max |diff| / max |ref| %.3g\n", d);
    CHECK(d <= SAME_LOGITS);
    CHECK_STATUS(localai_logits(c, 0, &o), LOCALAI_STATUS_NOT_FOUND); /* only the last asked */
    CHECK_STATUS(localai_logits(c, 12, &o), LOCALAI_STATUS_INVALID_ARGUMENT);

    /* removing a range and decoding it again gives the same logits */
    CHECK_STATUS(localai_kv_remove(c, 0, 5, -1), LOCALAI_STATUS_OK);
    int32_t pmax = -2;
    CHECK_STATUS(localai_kv_pos_max(c, 0, &pmax), LOCALAI_STATUS_OK);
    CHECK(pmax == 4);
    CHECK_STATUS(decode_run(c, prompt_a + 5, 7, 0, 5), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK);
    d = o ? max_rel_diff(o, ref_a, V) : 1e9;
    printf("kv_remove + re-decode: max |diff| / max |ref| %.3g\n", d);
    CHECK(d <= SAME_LOGITS);

    /* two sequences interleaved in one batch equal each alone */
    CHECK_STATUS(localai_kv_clear(c), LOCALAI_STATUS_OK);
    localai_token toks[21];
    int32_t pos[21], seq[21];
    int8_t want[21];
    int32_t k = 0, ia = 0, ib = 0, last_a = -1, last_b = -1;
    while (ia < 12 || ib < 9) {
        if (ia < 12) { toks[k] = prompt_a[ia]; pos[k] = ia; seq[k] = 0; want[k] = ia == 11; if (ia == 11) last_a = k; ia++; k++; }
        if (ib < 9) { toks[k] = prompt_b[ib]; pos[k] = ib; seq[k] = 1; want[k] = ib == 8; if (ib == 8) last_b = k; ib++; k++; }
    }
    localai_batch b;
    localai_batch_init(&b);
    b.n_tokens = 21;
    b.tokens = toks;
    b.positions = pos;
    b.seq_ids = seq;
    b.logits = want;
    CHECK_STATUS(localai_decode(c, &b), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_logits(c, last_a, &o), LOCALAI_STATUS_OK);
    d = o ? max_rel_diff(o, ref_a, V) : 1e9;
    CHECK_STATUS(localai_logits(c, last_b, &o), LOCALAI_STATUS_OK);
    double d2 = o ? max_rel_diff(o, ref_b, V) : 1e9;
    printf("two sequences in one batch: max |diff| / max |ref| %.3g and %.3g\n", d, d2);
    CHECK(d <= SAME_LOGITS && d2 <= SAME_LOGITS);
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK); /* -1 = last entry asked */
    CHECK(o != NULL && max_rel_diff(o, last_a > last_b ? ref_a : ref_b, V) <= SAME_LOGITS);

    /* kv_copy shares a prefix: sequence 1 continues from sequence 0's first 5 tokens */
    CHECK_STATUS(localai_kv_remove(c, 1, 0, -1), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_kv_copy(c, 0, 1, 0, 5), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_kv_pos_max(c, 1, &pmax), LOCALAI_STATUS_OK);
    CHECK(pmax == 4);
    CHECK_STATUS(decode_run(c, prompt_a + 5, 7, 1, 5), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK);
    d = o ? max_rel_diff(o, ref_a, V) : 1e9;
    printf("kv_copy prefix: max |diff| / max |ref| %.3g\n", d);
    CHECK(d <= SAME_LOGITS);

    /* bad input */
    CHECK_STATUS(decode_run(c, prompt_a, 1, 2, 0), LOCALAI_STATUS_INVALID_ARGUMENT); /* seq 2 of 2 */
    CHECK(strstr(localai_context_errmsg(c), "sequence id 2") != NULL);
    localai_token bad = 100000;
    CHECK_STATUS(decode_run(c, &bad, 1, 0, 0), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_kv_copy(c, 0, 7, 0, -1), LOCALAI_STATUS_INVALID_ARGUMENT);
    localai_context_free(c);

    /* F32 cache: close to the F16 one */
    c = new_ctx(m, 64, 1, LOCALAI_KV_F32, NULL, NULL);
    CHECK_STATUS(decode_run(c, prompt_a, 12, 0, 0), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK);
    d = o ? max_rel_diff(o, ref_a, V) : 1e9;
    printf("f32 KV vs f16 KV: max |diff| / max |ref| %.3g\n", d);
    CHECK(d <= 0.05);
    localai_context_free(c);
    free(ref_a);
    free(ref_b);
    free(tmp);
    localai_model_close(m);
}

static int abort_countdown;
static int32_t abort_when_zero(void *user) {
    (void)user;
    return --abort_countdown == 0;
}

/* A full cache and a cancelled batch leave the context as it was. */
static void test_full_and_cancel(void) {
    localai_model *m = open_model("models/stories260K.gguf");
    if (m == NULL) return;
    const int32_t V = localai_model_n_vocab(m);
    float *ref = calloc((size_t)V, sizeof(float));
    token_by_token(m, prompt_a, 12, ref);
    abort_countdown = -1;
    localai_context *c = new_ctx(m, 16, 1, LOCALAI_KV_F16, abort_when_zero, NULL);
    CHECK(localai_context_n_ctx(c) == 16);
    CHECK_STATUS(decode_run(c, prompt_a, 10, 0, 0), LOCALAI_STATUS_OK);
    CHECK_STATUS(decode_run(c, prompt_a, 7, 0, 10), LOCALAI_STATUS_CONTEXT_FULL);
    int32_t pmax = -2;
    CHECK_STATUS(localai_kv_pos_max(c, 0, &pmax), LOCALAI_STATUS_OK);
    CHECK(pmax == 9);
    /* stop after the fifth op; Vulkan polls once, before it submits the decode */
    abort_countdown = test_backend == LOCALAI_BACKEND_VULKAN ? 1 : 5;
    CHECK_STATUS(decode_run(c, prompt_a + 10, 1, 0, 10), LOCALAI_STATUS_CANCELLED);
    CHECK_STATUS(localai_kv_pos_max(c, 0, &pmax), LOCALAI_STATUS_OK);
    CHECK(pmax == 9);
    const float *o = NULL;
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_NOT_FOUND);
    abort_countdown = -1;
    CHECK_STATUS(decode_run(c, prompt_a + 10, 2, 0, 10), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK);
    double d = o ? max_rel_diff(o, ref, V) : 1e9;
    printf("after CONTEXT_FULL and CANCELLED: max |diff| / max |ref| %.3g\n", d);
    CHECK(d <= SAME_LOGITS);
    localai_context_free(c);

    /* more tokens than n_batch */
    localai_context_params p;
    localai_context_params_init(&p);
    p.n_batch = 4;
    p.n_ctx = 32;
    p.n_threads = 1;
    CHECK_STATUS(localai_context_new(m, &p, &c), LOCALAI_STATUS_OK);
    CHECK_STATUS(decode_run(c, prompt_a, 5, 0, 0), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(localai_context_errmsg(c), "n_batch") != NULL);
    CHECK_STATUS(decode_run(c, prompt_a, 4, 0, 0), LOCALAI_STATUS_OK);
    CHECK(strcmp(localai_context_errmsg(c), "") == 0);
    localai_context_free(c);
    free(ref);
    localai_model_close(m);
}

int main(void) {
    const char *be = getenv("LOCALAI_TEST_BACKEND");
    if (be != NULL && strcmp(be, "cpu") == 0) test_backend = LOCALAI_BACKEND_CPU;
    if (be != NULL && strcmp(be, "vulkan") == 0) {
        test_backend = LOCALAI_BACKEND_VULKAN;
        localai_model *m = open_model("models/stories260K.gguf");
        const int on_vulkan = m != NULL && localai_model_backend(m) == LOCALAI_BACKEND_VULKAN;
        localai_model_close(m);
        if (!on_vulkan) {
            printf("SKIP: no Vulkan device runs the model here\n");
            return 77;
        }
    }
    test_greedy_stories();
    test_logits_ref("models/stories260K.gguf", "reference/stories260K.logits-once.json", 1e-3);
    test_logits_ref("models/llama-2-tiny-random-UNTRAINED.gguf",
                    "reference/llama-2-tiny-random.logits-capital.json", 1e-3);
    test_batch_invariants();
    test_full_and_cancel();
    return test_finish("test_decode");
}
