/* cmd_bench.c - `localai bench`: prompt (pp) and generation (tg) throughput, load time, peak RSS. */
#include "cli.h"

#include "base/platform.h"
#include "cpu/cpu_features.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* localai_context_new's range for n_batch. */
#define BENCH_N_BATCH_MAX (1 << 20)
#define BENCH_REPS_MAX 1000
/* The token stream's seed (bench/llamacpp_bench.c uses the same). */
#define BENCH_SEED 0x5EEDB0A7ull

static void bench_usage(FILE *out) {
    fprintf(out,
            "usage: localai bench [-m MODEL] [-p N] [-n N] [-t THREADS] [-r REPS] [-b N_BATCH]\n"
            "                     [-c N_CTX] [--no-mmap] [--backend B] [--device N] [--json]\n"
            "  -m, --model MODEL    GGUF file (default: $LOCALAI_MODEL, else the first .gguf\n"
            "                       in ./models, then ../shared/models)\n"
            "  -p, --n-prompt N     pp: N prompt tokens decoded in chunks of n_batch from an empty\n"
            "                       cache (default 512; 0 = skip)\n"
            "  -n, --n-gen N        tg: N single-token decodes from an empty cache, as llama-bench's\n"
            "                       tg (default 128; 0 = skip)\n"
            "  -t, --threads N      CPU threads, at most %d (default: one per core)\n"
            "  -r, --repetitions N  timed runs of each test, 1..%d; the median is reported\n"
            "                       (default 5)\n"
            "  -b, --batch-size N   tokens per decode call for pp, 1..%d (default 512)\n"
            "  -c, --ctx-size N     KV cache length, at most %d (default: p + n rounded up to\n"
            "                       a multiple of 256)\n"
            "  --no-mmap            read the file into memory (huge pages where the system has\n"
            "                       them) instead of mapping it: slower to load, faster to run\n"
            CLI_DEVICE_USAGE
            "  --json               print one JSON line instead of the table\n"
            "Tokens are deterministic pseudo-random ids (no control or end-of-generation tokens),\n"
            "the same on every run. Before timing, one warm-up decode of min(p, n_batch) tokens\n"
            "and one single-token decode (as llama-bench), then the cache is cleared before each\n"
            "timed run. load_ms = localai_model_open + localai_context_new; ttft (time to first\n"
            "token) = that plus one single-token decode, cold (first open in the process) and warm\n"
            "(the model closed and opened again); peak RSS = getrusage.\n",
            CLI_N_THREADS_MAX, BENCH_REPS_MAX, BENCH_N_BATCH_MAX, CLI_N_CTX_MAX);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* splitmix64, the token stream's generator: bench/llamacpp_bench.c draws the same ids. */
static uint64_t bench_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A token a prompt may hold: not end-of-generation, not one of the named special tokens,
 * not a control token (control tokens have no text unless rendered as special). */
static int bench_token_ok(const localai_model *model, localai_token t) {
    if (localai_token_is_eog(model, t)) return 0;
    for (int32_t w = LOCALAI_SPECIAL_BOS; w <= LOCALAI_SPECIAL_SEP; w++)
        if (localai_token_special(model, w) == t) return 0;
    char piece[64];
    size_t len = 0;
    localai_status st = localai_token_to_piece(model, t, 0, piece, sizeof piece, &len);
    return (st == LOCALAI_STATUS_OK || st == LOCALAI_STATUS_BUFFER_TOO_SMALL) && len > 0;
}

/* n ids drawn uniformly from the vocabulary, skipping those bench_token_ok refuses; 0
 * when the vocabulary has (almost) none. *hash: FNV-1a of the ids, printed so that two
 * programs can show they decoded the same tokens. */
static int bench_tokens(const localai_model *model, localai_token *out, size_t n, uint64_t *hash) {
    int32_t n_vocab = localai_model_n_vocab(model);
    if (n_vocab <= 0) return 0;
    uint64_t s = BENCH_SEED, h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        localai_token t = 0;
        int found = 0;
        for (int tries = 0; tries < 1000 && !found; tries++) {
            t = (localai_token)(bench_next(&s) % (uint64_t)n_vocab);
            found = bench_token_ok(model, t);
        }
        if (!found) return 0;
        out[i] = t;
        for (int b = 0; b < 4; b++) {
            h ^= ((uint32_t)t >> (8 * b)) & 0xFF;
            h *= 0x100000001b3ull;
        }
    }
    *hash = h;
    return 1;
}

/* Decodes tokens[0..n) from wherever the cache is, n_batch at a time, logits for the
 * last token of each chunk (as llama.cpp's llama_batch_get_one). */
static localai_status bench_decode(localai_context *ctx, const localai_token *tokens, size_t n,
                                   size_t n_batch) {
    for (size_t done = 0; done < n;) {
        size_t len = n - done < n_batch ? n - done : n_batch;
        localai_batch b;
        localai_batch_init(&b);
        b.n_tokens = (int32_t)len;
        b.tokens = tokens + done;
        localai_status st = localai_decode(ctx, &b);
        if (st != LOCALAI_STATUS_OK) return st;
        done += len;
    }
    return LOCALAI_STATUS_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct bench_stat {
    double median_s, min_s, max_s;
} bench_stat;

static bench_stat bench_summarize(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    bench_stat s;
    s.min_s = t[0];
    s.max_s = t[n - 1];
    s.median_s = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    return s;
}

/* The JSON text of a string (the model path). */
static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
        else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
        else fputc(*p, out);
    }
    fputc('"', out);
}

/* tokens/s of a test (null in JSON when skipped). */
static double tps(int32_t n, double s) { return n > 0 && s > 0 ? (double)n / s : 0.0; }

static void json_tps(FILE *out, const char *key, int32_t n, double s) {
    if (n > 0) fprintf(out, ", \"%s\": %.3f", key, tps(n, s));
    else fprintf(out, ", \"%s\": null", key);
}

typedef struct bench_args {
    const char *model_path;
    int32_t n_prompt, n_gen, threads, reps, n_batch, n_ctx;
    int json, no_mmap;
    cli_device dev;
} bench_args;

/* 0 ok, 1 help printed, 2 bad arguments (message printed). */
static int bench_parse(int argc, char **argv, bench_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "-h") == 0 || strcmp(f, "--help") == 0) {
            bench_usage(stdout);
            return 1;
        }
        if (strcmp(f, "--json") == 0) {
            a->json = 1;
            continue;
        }
        if (strcmp(f, "--no-mmap") == 0) {
            a->no_mmap = 1;
            continue;
        }
        if (i + 1 >= argc || f[0] != '-') {
            fprintf(stderr, f[0] == '-' ? "localai bench: %s needs a value\n"
                                        : "localai bench: unexpected argument '%s'\n", f);
            bench_usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        int ok = 1;
        if (strcmp(f, "-m") == 0 || strcmp(f, "--model") == 0) a->model_path = v;
        else if (strcmp(f, "-p") == 0 || strcmp(f, "--n-prompt") == 0)
            ok = cli_parse_i32("bench", f, v, 0, CLI_N_CTX_MAX, &a->n_prompt);
        else if (strcmp(f, "-n") == 0 || strcmp(f, "--n-gen") == 0)
            ok = cli_parse_i32("bench", f, v, 0, CLI_N_CTX_MAX, &a->n_gen);
        else if (strcmp(f, "-t") == 0 || strcmp(f, "--threads") == 0)
            ok = cli_parse_i32("bench", f, v, 0, CLI_N_THREADS_MAX, &a->threads);
        else if (strcmp(f, "-r") == 0 || strcmp(f, "--repetitions") == 0)
            ok = cli_parse_i32("bench", f, v, 1, BENCH_REPS_MAX, &a->reps);
        else if (strcmp(f, "-b") == 0 || strcmp(f, "--batch-size") == 0)
            ok = cli_parse_i32("bench", f, v, 1, BENCH_N_BATCH_MAX, &a->n_batch);
        else if (strcmp(f, "-c") == 0 || strcmp(f, "--ctx-size") == 0)
            ok = cli_parse_i32("bench", f, v, 0, CLI_N_CTX_MAX, &a->n_ctx);
        else if (cli_device_flag("bench", f, v, &a->dev, &ok)) {
        } else {
            fprintf(stderr, "localai bench: unknown option '%s'\n", f);
            bench_usage(stderr);
            return 2;
        }
        if (!ok) return 2;
    }
    if (a->n_prompt == 0 && a->n_gen == 0) {
        fprintf(stderr, "localai bench: -p and -n are both 0: nothing to measure\n");
        return 2;
    }
    /* Each test starts from an empty cache, so the cache needs the longer of the two. */
    int32_t need = a->n_prompt > a->n_gen ? a->n_prompt : a->n_gen;
    if (a->n_ctx == 0) {
        int64_t c = ((int64_t)a->n_prompt + a->n_gen + 255) / 256 * 256;
        if (c > CLI_N_CTX_MAX) c = CLI_N_CTX_MAX;
        a->n_ctx = (int32_t)c;
    } else if (a->n_ctx < need) {
        fprintf(stderr, "localai bench: -c %d is smaller than the longest test (%d tokens); pass "
                        "-c %d or more (at most %d)\n", (int)a->n_ctx, (int)need, (int)need,
                CLI_N_CTX_MAX);
        return 2;
    }
    return 0;
}

int cli_cmd_bench(int argc, char **argv) {
    bench_args a = {NULL, 512, 128, 0, 5, 512, 0, 0, 0, CLI_DEVICE_DEFAULT};
    int parsed = bench_parse(argc, argv, &a);
    if (parsed != 0) return parsed == 1 ? 0 : 2;
    char found[1200];
    if (a.model_path == NULL && (a.model_path = cli_default_model("bench", found, sizeof found)) == NULL)
        return 1;
    const int32_t threads = a.threads > 0 ? a.threads : lai_cpu_count();

    /* Load: the model and a context ready for its first decode. */
    double t0 = now_s();
    localai_model *model = cli_open_model(a.model_path, a.no_mmap ? CLI_OPEN_NO_MMAP : 0, &a.dev);
    if (model == NULL) return 1;
    localai_context_params cp;
    localai_context_params_init(&cp);
    cp.n_threads = a.threads;
    cp.n_ctx = (uint32_t)a.n_ctx;
    cp.n_batch = (uint32_t)a.n_batch;
    localai_context *ctx = NULL;
    localai_status st = localai_context_new(model, &cp, &ctx);
    if (st != LOCALAI_STATUS_OK) {
        int rc = cli_fail("context", st);
        localai_model_close(model);
        return rc;
    }
    const double load_ms = (now_s() - t0) * 1e3;

    /* pp decodes ids[0..p), tg ids[p..p+n), the warm-up the first of each. */
    size_t n_ids = (size_t)a.n_prompt + (size_t)a.n_gen;
    localai_token *ids = malloc(n_ids * sizeof *ids);
    double *pp_t = calloc((size_t)a.reps, sizeof *pp_t), *tg_t = calloc((size_t)a.reps, sizeof *tg_t);
    uint64_t hash = 0;
    int rc = 0;
    if (ids == NULL || pp_t == NULL || tg_t == NULL) {
        fprintf(stderr, "localai bench: out of memory\n");
        rc = 1;
    } else if (!bench_tokens(model, ids, n_ids, &hash)) {
        fprintf(stderr, "localai bench: the vocabulary has no ordinary tokens to make a prompt of\n");
        rc = 1;
    }
    /* Time to first token: open, context, one single-token decode. Cold: the first open
     * in this process (a GPU compiles its pipelines, unless --pipeline-cache holds them);
     * warm: the model closed and opened again (the cache file now written, the driver's
     * own caches filled). The runs below use the second model. */
    double ttft_ms[2] = {0.0, 0.0};
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        if (pass == 1) {
            localai_context_free(ctx);
            localai_model_close(model);
            ctx = NULL;
            t0 = now_s();
            model = cli_open_model(a.model_path, a.no_mmap ? CLI_OPEN_NO_MMAP : 0, &a.dev);
            if (model == NULL) {
                free(ids);
                free(pp_t);
                free(tg_t);
                return 1;
            }
            if ((st = localai_context_new(model, &cp, &ctx)) != LOCALAI_STATUS_OK) {
                rc = cli_fail("context", st);
                break;
            }
        }
        if ((st = bench_decode(ctx, ids, 1, 1)) != LOCALAI_STATUS_OK) rc = cli_fail("first decode", st);
        else if ((st = localai_kv_clear(ctx)) != LOCALAI_STATUS_OK) rc = cli_fail("kv clear", st);
        ttft_ms[pass] = (now_s() - t0) * 1e3;
    }
    const localai_token *pp_ids = ids, *tg_ids = ids + a.n_prompt;
    /* Warm-up, as llama-bench: the first chunk of the prompt and one generation step, so
     * that page faults on the weights, thread start-up and buffer growth are not timed. */
    if (rc == 0 && a.n_prompt > 0) {
        size_t w = (size_t)(a.n_prompt < a.n_batch ? a.n_prompt : a.n_batch);
        if ((st = bench_decode(ctx, pp_ids, w, (size_t)a.n_batch)) != LOCALAI_STATUS_OK)
            rc = cli_fail("warm-up decode", st);
        else if ((st = localai_kv_clear(ctx)) != LOCALAI_STATUS_OK)
            rc = cli_fail("kv clear", st);
    }
    if (rc == 0 && a.n_gen > 0) {
        if ((st = bench_decode(ctx, tg_ids, 1, 1)) != LOCALAI_STATUS_OK)
            rc = cli_fail("warm-up decode", st);
        else if ((st = localai_kv_clear(ctx)) != LOCALAI_STATUS_OK)
            rc = cli_fail("kv clear", st);
    }
    for (int32_t r = 0; rc == 0 && r < a.reps; r++) {
        if (a.n_prompt > 0) {
            double s = now_s();
            st = bench_decode(ctx, pp_ids, (size_t)a.n_prompt, (size_t)a.n_batch);
            pp_t[r] = now_s() - s;
            if (st != LOCALAI_STATUS_OK) rc = cli_fail("prompt decode", st);
            else if ((st = localai_kv_clear(ctx)) != LOCALAI_STATUS_OK) rc = cli_fail("kv clear", st);
        }
        if (rc == 0 && a.n_gen > 0) {
            double s = now_s();
            for (int32_t i = 0; i < a.n_gen && st == LOCALAI_STATUS_OK; i++)
                st = bench_decode(ctx, tg_ids + i, 1, 1);
            tg_t[r] = now_s() - s;
            if (st != LOCALAI_STATUS_OK) rc = cli_fail("generation decode", st);
            else if ((st = localai_kv_clear(ctx)) != LOCALAI_STATUS_OK) rc = cli_fail("kv clear", st);
        }
    }
    if (rc == 0) {
        bench_stat pp = bench_summarize(pp_t, a.reps), tg = bench_summarize(tg_t, a.reps);
        struct rusage ru;
        double rss_mb = getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : 0.0;
        /* the level the model runs: $LOCALAI_CPU_LEVEL's (cli_open_model refused one the CPU
         * cannot run), else the best */
        int32_t asked = LOCALAI_CPU_LEVEL_AUTO;
        cli_cpu_level(&asked);
        const char *level = lai_cpu_level_name(asked == LOCALAI_CPU_LEVEL_AUTO ? lai_cpu_level_best()
                                                                              : (lai_cpu_level)(asked - 1));
        if (a.json) {
            printf("{\"engine\": \"liblocalai\", \"model\": ");
            json_string(stdout, a.model_path);
            printf(", \"threads\": %d, \"n_batch\": %d, \"n_ctx\": %d, \"reps\": %d",
                   (int)threads, (int)a.n_batch, (int)a.n_ctx, (int)a.reps);
            printf(", \"pp_tokens\": %d", (int)a.n_prompt);
            json_tps(stdout, "pp_tps", a.n_prompt, pp.median_s);
            json_tps(stdout, "pp_tps_min", a.n_prompt, pp.max_s);
            json_tps(stdout, "pp_tps_max", a.n_prompt, pp.min_s);
            printf(", \"pp_ms\": %.3f", a.n_prompt > 0 ? pp.median_s * 1e3 : 0.0);
            printf(", \"tg_tokens\": %d", (int)a.n_gen);
            json_tps(stdout, "tg_tps", a.n_gen, tg.median_s);
            json_tps(stdout, "tg_tps_min", a.n_gen, tg.max_s);
            json_tps(stdout, "tg_tps_max", a.n_gen, tg.min_s);
            printf(", \"tg_ms\": %.3f", a.n_gen > 0 ? tg.median_s * 1e3 : 0.0);
            printf(", \"mmap\": %s", a.no_mmap ? "false" : "true");
            printf(", \"backend\": \"%s\"", localai_model_backend(model) == LOCALAI_BACKEND_VULKAN ? "vulkan" : "cpu");
            printf(", \"tg_from\": \"empty\", \"load_ms\": %.3f, \"peak_rss_mb\": %.1f", load_ms, rss_mb);
            printf(", \"ttft_cold_ms\": %.3f, \"ttft_warm_ms\": %.3f", ttft_ms[0], ttft_ms[1]);
            printf(", \"cpu_level\": \"%s\", \"model_bytes\": %llu, \"n_params\": %llu",
                   level, (unsigned long long)localai_model_size_bytes(model),
                   (unsigned long long)localai_model_n_params(model));
            printf(", \"tokens_hash\": \"%016llx\"}\n", (unsigned long long)hash);
        } else {
            const char *base = strrchr(a.model_path, '/');
            base = base ? base + 1 : a.model_path;
            double size_mib = (double)localai_model_size_bytes(model) / (1024.0 * 1024.0);
            double params_m = (double)localai_model_n_params(model) / 1e6;
            printf("| model | size | params | threads | n_batch | test | t/s (median) | min | max |\n");
            printf("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n");
            if (a.n_prompt > 0)
                printf("| %s | %.1f MiB | %.2f M | %d | %d | pp%d | %.2f | %.2f | %.2f |\n", base,
                       size_mib, params_m, (int)threads, (int)a.n_batch, (int)a.n_prompt,
                       tps(a.n_prompt, pp.median_s), tps(a.n_prompt, pp.max_s),
                       tps(a.n_prompt, pp.min_s));
            if (a.n_gen > 0)
                printf("| %s | %.1f MiB | %.2f M | %d | %d | tg%d | %.2f | %.2f | %.2f |\n", base,
                       size_mib, params_m, (int)threads, (int)a.n_batch, (int)a.n_gen,
                       tps(a.n_gen, tg.median_s), tps(a.n_gen, tg.max_s), tps(a.n_gen, tg.min_s));
            printf("\n%d repetitions; tg from an empty cache; n_ctx %d; load %.1f ms (%s); first token "
                   "%.1f ms cold, %.1f ms warm; peak RSS %.1f MiB; backend %s; CPU kernels: %s\n",
                   (int)a.reps, (int)a.n_ctx, load_ms, a.no_mmap ? "read into memory" : "mapped", ttft_ms[0],
                   ttft_ms[1], rss_mb, localai_model_backend(model) == LOCALAI_BACKEND_VULKAN ? "vulkan" : "cpu",
                   level);
        }
    }
    free(ids);
    free(pp_t);
    free(tg_t);
    localai_context_free(ctx);
    localai_model_close(model);
    return rc;
}
