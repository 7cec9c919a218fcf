/* test_window.c - sliding-window layers in a cache group of their own: same logits as the full cache, rewinds within reach. */
/*
 * Gemma 2/3 layers that attend to a window of n_swa positions keep their cells in a
 * small group of their own (n_seq_max * n_swa + n_batch cells) that drops what no token
 * can see any more. The oracle is the same model with a cache that holds everything
 * (n_batch large enough that no window group is made): every logit must agree.
 */
#include <math.h>

#include "localai.h"
#include "test_util.h"

#include "gen_model.h"

#include <unistd.h>

enum { N_TOK = 120, CHUNK = 16, WINDOW = 8 };

static localai_context *new_ctx(localai_model *m, uint32_t n_batch, uint32_t n_seq, int32_t kv_type) {
    localai_context_params p;
    localai_context_params_init(&p);
    p.n_ctx = 256;
    p.n_batch = n_batch;
    p.n_seq_max = n_seq;
    p.n_threads = 2;
    p.kv_type = kv_type;
    localai_context *c = NULL;
    CHECK_STATUS(localai_context_new(m, &p, &c), LOCALAI_STATUS_OK);
    return c;
}

/* Decodes tokens [t0, t1) of sequence seq in chunks, keeping every position's logits. */
static int decode_range(localai_context *c, const localai_token *toks, int t0, int t1, int32_t seq, float *logits,
                        int32_t V) {
    for (int a = t0; a < t1; a += CHUNK) {
        const int n = (t1 - a < CHUNK ? t1 - a : CHUNK);
        int32_t pos[CHUNK], seqs[CHUNK];
        int8_t want[CHUNK];
        for (int i = 0; i < n; i++) {
            pos[i] = a + i;
            seqs[i] = seq;
            want[i] = 1;
        }
        localai_batch b;
        localai_batch_init(&b);
        b.n_tokens = n;
        b.tokens = toks + a;
        b.positions = pos;
        b.seq_ids = seqs;
        b.logits = want;
        localai_status st = localai_decode(c, &b);
        if (st != LOCALAI_STATUS_OK) return st;
        for (int i = 0; i < n; i++) {
            const float *o = NULL;
            if (localai_logits(c, i, &o) != LOCALAI_STATUS_OK) return -1;
            memcpy(logits + (size_t)(a + i) * (size_t)V, o, (size_t)V * sizeof(float));
        }
    }
    return LOCALAI_STATUS_OK;
}

static double rel_diff(const float *a, const float *b, size_t n) {
    double m = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        m = fmax(m, fabs((double)a[i] - b[i]));
        r = fmax(r, fabs((double)b[i]));
    }
    return r > 0 ? m / r : m;
}

static void test_arch(lai_arch arch, const char *dir) {
    char path[300];
    snprintf(path, sizeof path, "%s/%s.gguf", dir, lai_arch_name(arch));
    gen_options o;
    gen_options_init(&o);
    o.arch = arch;
    o.n_layer = 3;
    o.n_swa = WINDOW;
    o.tied = 1;
    o.n_ctx = 512;
    CHECK_STATUS(gen_model_write(&o, path), LOCALAI_STATUS_OK);
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(path, NULL, &m), LOCALAI_STATUS_OK);
    if (m == NULL) return;
    const int32_t V = localai_model_n_vocab(m);
    localai_token toks[N_TOK];
    for (int i = 0; i < N_TOK; i++) toks[i] = (localai_token)((i * 37 + 11) % V);
    float *want = malloc(sizeof(float) * (size_t)V * N_TOK), *got = malloc(sizeof(float) * (size_t)V * N_TOK);

    /* n_batch 256: the window group would not be smaller than the cache, so there is none */
    localai_context *full = new_ctx(m, 256, 1, LOCALAI_KV_F32);
    CHECK_STATUS(decode_range(full, toks, 0, N_TOK, 0, want, V), LOCALAI_STATUS_OK);
    /* n_batch 16: window layers keep 8 + 16 cells, dropping the rest as they go */
    localai_context *win = new_ctx(m, CHUNK, 1, LOCALAI_KV_F32);
    CHECK_STATUS(decode_range(win, toks, 0, N_TOK, 0, got, V), LOCALAI_STATUS_OK);
    double d = rel_diff(got, want, (size_t)V * N_TOK);
    printf("%s: window cache vs full cache over %d tokens: max |diff| / max |ref| %.3g\n", lai_arch_name(arch),
           N_TOK, d);
    CHECK(d <= 2e-5);

    /* going back within the window's reach gives the same logits again */
    CHECK_STATUS(localai_kv_remove(win, 0, 110, -1), LOCALAI_STATUS_OK);
    CHECK_STATUS(decode_range(win, toks, 110, N_TOK, 0, got, V), LOCALAI_STATUS_OK);
    d = rel_diff(got + (size_t)110 * V, want + (size_t)110 * V, (size_t)V * (N_TOK - 110));
    CHECK(d <= 2e-5);
    /* further back than the window group still holds: refused, nothing computed */
    CHECK_STATUS(localai_kv_remove(win, 0, 60, -1), LOCALAI_STATUS_OK);
    CHECK_STATUS(decode_range(win, toks, 60, 70, 0, got, V), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_MSG(strstr(localai_context_errmsg(win), "sliding-window") != NULL, "%s", localai_context_errmsg(win));
    /* once the sequence is removed it starts over */
    CHECK_STATUS(localai_kv_remove(win, 0, 0, -1), LOCALAI_STATUS_OK);
    CHECK_STATUS(decode_range(win, toks, 0, N_TOK, 0, got, V), LOCALAI_STATUS_OK);
    CHECK(rel_diff(got, want, (size_t)V * N_TOK) <= 2e-5);
    localai_context_free(win);

    /* two sequences share the window group */
    localai_context *two = new_ctx(m, CHUNK, 2, LOCALAI_KV_F32);
    CHECK_STATUS(decode_range(two, toks, 0, 40, 0, got, V), LOCALAI_STATUS_OK);
    CHECK_STATUS(decode_range(two, toks, 0, 40, 1, got, V), LOCALAI_STATUS_OK);
    CHECK_STATUS(decode_range(two, toks, 40, N_TOK, 0, got, V), LOCALAI_STATUS_OK);
    CHECK(rel_diff(got + (size_t)40 * V, want + (size_t)40 * V, (size_t)V * (N_TOK - 40)) <= 2e-5);
    localai_context_free(two);

    localai_context_free(full);
    free(want);
    free(got);
    localai_model_close(m);
    unlink(path);
}

int main(void) {
    char dir[] = "/tmp/localai-window-XXXXXX";
    if (mkdtemp(dir) == NULL) return 1;
    test_arch(LAI_ARCH_GEMMA2, dir);
    test_arch(LAI_ARCH_GEMMA3, dir);
    rmdir(dir);
    return test_finish("window");
}
