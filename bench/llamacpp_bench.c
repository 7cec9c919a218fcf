/* llamacpp_bench.c - llama.cpp's pp/tg throughput measured exactly as `localai bench` measures ours.
 *
 * Built by bench/compare.sh (not by meson) against the llama.cpp headers that ship inside the
 * npm package node-llama-cpp, and run against that package's prebuilt CPU libraries, which
 * it opens with dlopen() at run time: nothing of llama.cpp is in this repository or linked
 * into it.
 *
 *   cc -O2 -I SRC/include -I SRC/ggml/include bench/llamacpp_bench.c -ldl -o llamacpp_bench
 *   llamacpp_bench --lib .../bins/linux-x64/libllama.v0.5.0.so -m MODEL [-p 512] [-n 128]
 *                  [-t T] [-r REPS] [-b N_BATCH] [-c N_CTX] [--no-repack] [-v]
 *
 * The method is the one of tools/cmd_bench.c: the same pseudo-random token ids (splitmix64,
 * same seed, control and end-of-generation tokens skipped; their FNV-1a hash is printed so
 * the caller can check both decoded the same ids), a warm-up of min(p, n_batch) prompt tokens
 * and one generation step, then per repetition the prompt from an empty cache in chunks of
 * n_batch (logits for the last token of each chunk) and n single-token decodes from an empty
 * cache; medians over the repetitions. As llama-bench: a persistent ggml thread pool attached
 * to the context, n_ubatch = n_batch, the library's other defaults (mmap, weight repacking,
 * flash attention auto, f16 KV cache); --no-repack turns the repacking off
 * (use_extra_bufts = false: the kernels read the mapped file as it is). Prints one JSON line
 * with the keys of `localai bench --json`. */
#define _POSIX_C_SOURCE 200809L

#include "llama.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BENCH_SEED 0x5EEDB0A7ull

/* The entry points used, looked up in the dlopen()ed library (and its dependencies). */
#define LLAMA_FUNCS(X) \
    X(llama_backend_init) X(llama_backend_free) X(llama_log_set) X(llama_print_system_info) \
    X(ggml_backend_load_all_from_path) X(ggml_backend_dev_by_type) \
    X(ggml_backend_dev_backend_reg) X(ggml_backend_reg_get_proc_address) \
    X(ggml_threadpool_params_default) \
    X(llama_model_default_params) X(llama_model_load_from_file) X(llama_model_free) \
    X(llama_model_get_vocab) X(llama_model_size) X(llama_model_n_params) \
    X(llama_context_default_params) X(llama_init_from_model) X(llama_free) \
    X(llama_attach_threadpool) X(llama_detach_threadpool) X(llama_set_n_threads) \
    X(llama_vocab_n_tokens) X(llama_vocab_is_eog) X(llama_vocab_get_attr) \
    X(llama_vocab_bos) X(llama_vocab_eos) X(llama_vocab_eot) X(llama_vocab_sep) \
    X(llama_vocab_pad) X(llama_token_to_piece) X(llama_batch_get_one) X(llama_decode) \
    X(llama_synchronize) X(llama_get_memory) X(llama_memory_clear)

#define DECLARE(f) static __typeof__(f) *p_##f;
LLAMA_FUNCS(DECLARE)
#undef DECLARE

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void quiet_log(enum ggml_log_level level, const char *text, void *user) {
    (void)level;
    (void)text;
    (void)user;
}

static int load_library(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "llamacpp_bench: cannot open %s: %s\n", path, dlerror());
        return 0;
    }
#define LOOKUP(f)                                                                      \
    if ((*(void **)&p_##f = dlsym(h, #f)) == NULL) {                                   \
        fprintf(stderr, "llamacpp_bench: %s has no %s (another llama.cpp version?)\n", \
                path, #f);                                                             \
        return 0;                                                                      \
    }
    LLAMA_FUNCS(LOOKUP)
#undef LOOKUP
    return 1;
}

/* Same generator and rule as tools/cmd_bench.c. */
static uint64_t bench_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int token_ok(const struct llama_vocab *v, llama_token t) {
    if (p_llama_vocab_is_eog(v, t)) return 0;
    if (t == p_llama_vocab_bos(v) || t == p_llama_vocab_eos(v) || t == p_llama_vocab_eot(v) ||
        t == p_llama_vocab_sep(v) || t == p_llama_vocab_pad(v))
        return 0;
    enum llama_token_attr attr = p_llama_vocab_get_attr(v, t);
    if (attr & (LLAMA_TOKEN_ATTR_UNKNOWN | LLAMA_TOKEN_ATTR_CONTROL)) return 0;
    char piece[64];
    int32_t n = p_llama_token_to_piece(v, t, piece, (int32_t)sizeof piece, 0, false);
    return n != 0; /* negative: longer than the buffer, still text */
}

static int make_tokens(const struct llama_vocab *v, llama_token *out, size_t n, uint64_t *hash) {
    int32_t n_vocab = p_llama_vocab_n_tokens(v);
    if (n_vocab <= 0) return 0;
    uint64_t s = BENCH_SEED, h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        llama_token t = 0;
        int found = 0;
        for (int tries = 0; tries < 1000 && !found; tries++) {
            t = (llama_token)(bench_next(&s) % (uint64_t)n_vocab);
            found = token_ok(v, t);
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

/* tokens[0..n) in chunks of n_batch (llama_batch_get_one: logits for the last token). */
static int decode(struct llama_context *ctx, llama_token *tokens, size_t n, size_t n_batch) {
    for (size_t done = 0; done < n;) {
        size_t len = n - done < n_batch ? n - done : n_batch;
        int rc = p_llama_decode(ctx, p_llama_batch_get_one(tokens + done, (int32_t)len));
        if (rc != 0) {
            fprintf(stderr, "llamacpp_bench: llama_decode returned %d\n", rc);
            return 0;
        }
        done += len;
    }
    p_llama_synchronize(ctx);
    return 1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static int parse_int(const char *flag, const char *text, long lo, long hi, int *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
        fprintf(stderr, "llamacpp_bench: %s expects an integer in [%ld, %ld], got '%s'\n", flag, lo,
                hi, text);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static void json_string(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

static void json_tps(const char *key, int n, double s) {
    if (n > 0 && s > 0) printf(", \"%s\": %.3f", key, (double)n / s);
    else printf(", \"%s\": null", key);
}

/* The widest SIMD level llama.cpp's chosen CPU library reports. */
static const char *ggml_level(const char *info) {
    if (strstr(info, "AVX512_VNNI = 1") && strstr(info, "AMX_INT8 = 1")) return "avx512_vnni+amx_int8";
    if (strstr(info, "AVX512_VNNI = 1")) return "avx512_vnni";
    if (strstr(info, "AVX512 = 1")) return "avx512";
    if (strstr(info, "AVX2 = 1")) return "avx2";
    if (strstr(info, "NEON = 1")) return "neon";
    return "other";
}

int main(int argc, char **argv) {
    const char *lib = NULL, *model_path = NULL;
    int n_prompt = 512, n_gen = 128, threads = 2, reps = 5, n_batch = 512, n_ctx = 0, verbose = 0, repack = 1;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (strcmp(f, "-v") == 0) { verbose = 1; continue; }
        if (strcmp(f, "--no-repack") == 0) { repack = 0; continue; }
        if (v == NULL) ok = 0;
        else if (strcmp(f, "--lib") == 0) lib = v;
        else if (strcmp(f, "-m") == 0) model_path = v;
        else if (strcmp(f, "-p") == 0) ok = parse_int(f, v, 0, 1 << 24, &n_prompt);
        else if (strcmp(f, "-n") == 0) ok = parse_int(f, v, 0, 1 << 24, &n_gen);
        else if (strcmp(f, "-t") == 0) ok = parse_int(f, v, 1, 1024, &threads);
        else if (strcmp(f, "-r") == 0) ok = parse_int(f, v, 1, 1000, &reps);
        else if (strcmp(f, "-b") == 0) ok = parse_int(f, v, 1, 1 << 20, &n_batch);
        else if (strcmp(f, "-c") == 0) ok = parse_int(f, v, 0, 1 << 24, &n_ctx);
        else ok = 0;
        if (!ok) {
            fprintf(stderr, "usage: llamacpp_bench --lib LIBLLAMA.so -m MODEL [-p N] [-n N] [-t T] "
                            "[-r REPS] [-b N_BATCH] [-c N_CTX] [--no-repack] [-v]\n");
            return 2;
        }
        i++;
    }
    if (lib == NULL || model_path == NULL || (n_prompt == 0 && n_gen == 0)) {
        fprintf(stderr, "llamacpp_bench: --lib, -m and a non-empty test are required\n");
        return 2;
    }
    if (n_ctx == 0) n_ctx = (n_prompt + n_gen + 255) / 256 * 256;
    if (!load_library(lib)) return 1;

    if (!verbose) p_llama_log_set(quiet_log, NULL);
    p_llama_backend_init();
    /* The CPU backend is a separate library per instruction set; ggml picks the best one
     * for this CPU from the directory of libllama. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", lib);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    p_ggml_backend_load_all_from_path(dir);
    ggml_backend_dev_t cpu_dev = p_ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (cpu_dev == NULL) {
        fprintf(stderr, "llamacpp_bench: no CPU backend library loaded from %s\n", dir);
        return 1;
    }
    ggml_backend_reg_t cpu_reg = p_ggml_backend_dev_backend_reg(cpu_dev);
    __typeof__(ggml_threadpool_new) *tp_new =
        (__typeof__(ggml_threadpool_new) *)p_ggml_backend_reg_get_proc_address(cpu_reg, "ggml_threadpool_new");
    __typeof__(ggml_threadpool_free) *tp_free =
        (__typeof__(ggml_threadpool_free) *)p_ggml_backend_reg_get_proc_address(cpu_reg, "ggml_threadpool_free");
    if (tp_new == NULL || tp_free == NULL) {
        fprintf(stderr, "llamacpp_bench: the CPU backend has no ggml_threadpool_new/free\n");
        return 1;
    }

    double t0 = now_s();
    struct llama_model_params mp = p_llama_model_default_params();
    mp.use_extra_bufts = repack != 0; /* off: the weights are used where the file is mapped */
    struct llama_model *model = p_llama_model_load_from_file(model_path, mp);
    if (model == NULL) {
        fprintf(stderr, "llamacpp_bench: llama.cpp could not load %s (run with -v for its log)\n",
                model_path);
        return 1;
    }
    struct llama_context_params cp = p_llama_context_default_params();
    cp.n_ctx = (uint32_t)n_ctx;
    cp.n_batch = (uint32_t)n_batch;
    cp.n_ubatch = (uint32_t)n_batch;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    struct llama_context *ctx = p_llama_init_from_model(model, cp);
    if (ctx == NULL) {
        fprintf(stderr, "llamacpp_bench: llama_init_from_model failed\n");
        p_llama_model_free(model);
        return 1;
    }
    const double load_ms = (now_s() - t0) * 1e3;

    struct ggml_threadpool_params tpp = p_ggml_threadpool_params_default(threads);
    struct ggml_threadpool *pool = tp_new(&tpp);
    if (pool == NULL) {
        fprintf(stderr, "llamacpp_bench: ggml_threadpool_new failed for %d threads\n", threads);
        return 1;
    }
    p_llama_attach_threadpool(ctx, pool, NULL);
    p_llama_set_n_threads(ctx, threads, threads);

    const struct llama_vocab *vocab = p_llama_model_get_vocab(model);
    size_t n_ids = (size_t)n_prompt + (size_t)n_gen;
    llama_token *ids = malloc((n_ids ? n_ids : 1) * sizeof *ids);
    double *pp_t = calloc((size_t)reps, sizeof *pp_t), *tg_t = calloc((size_t)reps, sizeof *tg_t);
    uint64_t hash = 0;
    int ok = ids != NULL && pp_t != NULL && tg_t != NULL && make_tokens(vocab, ids, n_ids, &hash);
    if (!ok) fprintf(stderr, "llamacpp_bench: no prompt tokens (out of memory or no ordinary tokens)\n");
    llama_token *pp_ids = ids, *tg_ids = ids + n_prompt;
    llama_memory_t mem = p_llama_get_memory(ctx);
    if (ok && n_prompt > 0) {
        ok = decode(ctx, pp_ids, (size_t)(n_prompt < n_batch ? n_prompt : n_batch), (size_t)n_batch);
        p_llama_memory_clear(mem, false);
    }
    if (ok && n_gen > 0) {
        ok = decode(ctx, tg_ids, 1, 1);
        p_llama_memory_clear(mem, false);
    }
    for (int r = 0; ok && r < reps; r++) {
        if (n_prompt > 0) {
            double s = now_s();
            ok = decode(ctx, pp_ids, (size_t)n_prompt, (size_t)n_batch);
            pp_t[r] = now_s() - s;
            p_llama_memory_clear(mem, false);
        }
        if (ok && n_gen > 0) {
            double s = now_s();
            for (int i = 0; i < n_gen && ok; i++) ok = decode(ctx, tg_ids + i, 1, 1);
            tg_t[r] = now_s() - s;
            p_llama_memory_clear(mem, false);
        }
    }
    if (ok) {
        double pp_min = 0, pp_max = 0, tg_min = 0, tg_max = 0;
        double pp = median(pp_t, reps), tg = median(tg_t, reps);
        pp_min = pp_t[0], pp_max = pp_t[reps - 1], tg_min = tg_t[0], tg_max = tg_t[reps - 1];
        struct rusage ru;
        double rss_mb = getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : 0.0;
        const char *info = p_llama_print_system_info();
        printf("{\"engine\": \"llama.cpp\", \"model\": ");
        json_string(model_path);
        printf(", \"threads\": %d, \"n_batch\": %d, \"n_ctx\": %d, \"reps\": %d", threads, n_batch,
               n_ctx, reps);
        printf(", \"pp_tokens\": %d", n_prompt);
        json_tps("pp_tps", n_prompt, pp);
        json_tps("pp_tps_min", n_prompt, pp_max);
        json_tps("pp_tps_max", n_prompt, pp_min);
        printf(", \"pp_ms\": %.3f", n_prompt > 0 ? pp * 1e3 : 0.0);
        printf(", \"tg_tokens\": %d", n_gen);
        json_tps("tg_tps", n_gen, tg);
        json_tps("tg_tps_min", n_gen, tg_max);
        json_tps("tg_tps_max", n_gen, tg_min);
        printf(", \"tg_ms\": %.3f", n_gen > 0 ? tg * 1e3 : 0.0);
        printf(", \"tg_from\": \"empty\", \"load_ms\": %.3f, \"peak_rss_mb\": %.1f", load_ms, rss_mb);
        printf(", \"cpu_level\": \"%s\", \"model_bytes\": %llu, \"n_params\": %llu", ggml_level(info),
               (unsigned long long)p_llama_model_size(model),
               (unsigned long long)p_llama_model_n_params(model));
        printf(", \"tokens_hash\": \"%016llx\", \"system_info\": ", (unsigned long long)hash);
        json_string(info);
        printf("}\n");
    }
    free(ids);
    free(pp_t);
    free(tg_t);
    p_llama_detach_threadpool(ctx);
    tp_free(pool);
    p_llama_free(ctx);
    p_llama_model_free(model);
    p_llama_backend_free();
    return ok ? 0 : 1;
}
