/* bench_decode.c - prompt and generation speed of localai_decode on a model (prints numbers; never fails). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "localai.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* $LOCALAI_CPU_LEVEL (auto, scalar, avx2, avx512, neon) as localai_model_params.cpu_level;
 * -1 when it names no level. */
static int32_t cpu_level_from_env(void) {
    static const char *const names[] = {"auto", "scalar", "avx2", "avx512", "neon"};
    const char *env = getenv("LOCALAI_CPU_LEVEL");
    if (env == NULL || env[0] == '\0') return LOCALAI_CPU_LEVEL_AUTO;
    for (int32_t i = 0; i < (int32_t)(sizeof names / sizeof names[0]); i++)
        if (strcmp(env, names[i]) == 0) return i; /* LOCALAI_CPU_LEVEL_AUTO .. _NEON in this order */
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [n_prompt=64] [n_gen=16] [threads=0]\n"
                        "  $LOCALAI_CPU_LEVEL: auto, scalar, avx2, avx512 or neon kernels\n", argv[0]);
        return 2;
    }
    int n_prompt = argc > 2 ? atoi(argv[2]) : 64, n_gen = argc > 3 ? atoi(argv[3]) : 16;
    int threads = argc > 4 ? atoi(argv[4]) : 0;
    localai_model *m = NULL;
    localai_context *c = NULL;
    localai_model_params mp;
    localai_model_params_init(&mp);
    mp.cpu_level = cpu_level_from_env();
    if (mp.cpu_level < 0) {
        fprintf(stderr, "LOCALAI_CPU_LEVEL='%s' is not one of auto, scalar, avx2, avx512, neon\n",
                getenv("LOCALAI_CPU_LEVEL"));
        return 2;
    }
    if (localai_model_open(argv[1], &mp, &m) != LOCALAI_STATUS_OK) {
        fprintf(stderr, "open: %s\n", localai_errmsg());
        return 1;
    }
    localai_context_params p;
    localai_context_params_init(&p);
    p.n_ctx = (uint32_t)(n_prompt + n_gen + 8);
    p.n_batch = (uint32_t)(n_prompt > 0 ? n_prompt : 1);
    p.n_threads = threads;
    if (localai_context_new(m, &p, &c) != LOCALAI_STATUS_OK) {
        fprintf(stderr, "context: %s\n", localai_errmsg());
        return 1;
    }
    int32_t n_vocab = localai_model_n_vocab(m);
    localai_token *toks = malloc(sizeof *toks * (size_t)(n_prompt > 0 ? n_prompt : 1));
    for (int i = 0; i < n_prompt; i++) toks[i] = (localai_token)((i * 7919 + 13) % n_vocab);
    localai_batch b;
    localai_batch_init(&b);
    double t0 = now();
    if (n_prompt > 0) {
        b.n_tokens = n_prompt;
        b.tokens = toks;
        if (localai_decode(c, &b) != LOCALAI_STATUS_OK) {
            fprintf(stderr, "decode: %s\n", localai_errmsg());
            return 1;
        }
    }
    double t1 = now();
    localai_token t = 1;
    for (int i = 0; i < n_gen; i++) {
        b.n_tokens = 1;
        b.tokens = &t;
        if (localai_decode(c, &b) != LOCALAI_STATUS_OK) {
            fprintf(stderr, "decode: %s\n", localai_errmsg());
            return 1;
        }
        t = (localai_token)((t * 31 + 7) % n_vocab);
    }
    double t2 = now();
    printf("%s: prompt %d tokens %.2f tok/s, generation %d tokens %.2f tok/s (%.1f ms/token)\n",
           argv[1], n_prompt, n_prompt / (t1 - t0), n_gen, n_gen / (t2 - t1), (t2 - t1) * 1e3 / n_gen);
    free(toks);
    localai_context_free(c);
    localai_model_close(m);
    return 0;
}
