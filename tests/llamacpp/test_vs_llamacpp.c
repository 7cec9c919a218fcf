/* test_vs_llamacpp.c - our logits against llama.cpp's on a random-weight model.
 *
 * usage: test_vs_llamacpp REF.json GENERATOR WORKDIR [QUANTIZER]
 * REF.json (made by make_refs.mjs) names the generator arguments of its model (or a
 * model file in ../shared, "shared_model"; or, with "quantize": TYPE, a generated model
 * passed through `QUANTIZER quantize IN OUT TYPE`, the project's localai tool), the
 * model's size and FNV-1a hash, the prompt tokens, the compared positions, llama.cpp's
 * logits there and the tolerance. The model is regenerated into WORKDIR, checked
 * against the hash (so a stale reference is reported as such, not as a wrong answer),
 * decoded in one batch (or in chunks of "n_batch" tokens when the reference says so),
 * and compared: nrmse = rms(ours - llama) / std(llama) must be
 * <= tol = max(1e-3, 2 * nrmse(llama, exact f64)), and the top-1 token must agree
 * wherever llama.cpp's top two differ by more than max(1%, 6 * tol) of std(llama).
 * Exit 77 (skip) only when open, context or decode say UNSUPPORTED. */
#include "localai.h"
#include "json_min.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SKIP 77

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

/* FNV-1a, 64-bit, over the whole file; *size gets its length. */
static int hash_file(const char *path, uint64_t *hash, uint64_t *size) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return 0;
    uint64_t h = UINT64_C(0xcbf29ce484222325), n = 0;
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < got; i++) h = (h ^ buf[i]) * UINT64_C(0x100000001b3);
        n += got;
    }
    fclose(f);
    *hash = h;
    *size = n;
    return 1;
}

static int run_argv(char **argv);

/* Runs GENERATOR with the reference's arguments, "{out}" replaced by `out`. */
static int run_generator(const char *gen, const json_value *args, const char *out) {
    if (args == NULL || args->kind != JSON_ARRAY || args->n > 60) return 0;
    char *argv[64];
    size_t k = 0;
    argv[k++] = (char *)gen;
    for (size_t i = 0; i < args->n; i++) {
        if (args->items[i].kind != JSON_STRING) return 0;
        argv[k++] = strcmp(args->items[i].string, "{out}") == 0 ? (char *)out : args->items[i].string;
    }
    argv[k] = NULL;
    return run_argv(argv);
}

/* Runs argv[0] with argv; 1 when it exits with status 0. */
static int run_argv(char **argv) {
    const char *gen = argv[0];
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        execv(gen, argv);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static double num(const json_value *o, const char *key, double dflt) {
    const json_value *v = json_get(o, key);
    return v && v->kind == JSON_NUMBER ? v->number : dflt;
}

/* LOCALAI_TEST_BACKEND=vulkan: the reference is checked on the Vulkan device. */
static int on_vulkan(void) {
    const char *b = getenv("LOCALAI_TEST_BACKEND");
    return b != NULL && strcmp(b, "vulkan") == 0;
}

/* The Vulkan run makes its model files under names of its own: meson runs it beside the
 * CPU run of the same reference. */
static const char *file_prefix(void) { return on_vulkan() ? "vk-" : ""; }

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s REF.json GENERATOR WORKDIR [QUANTIZER]\n", argv[0]);
        return 2;
    }
    char err[256];
    char *text = read_text(argv[1]);
    snprintf(err, sizeof err, "cannot read the file");
    json_value *ref = text ? json_parse(text, err, sizeof err) : NULL;
    free(text);
    if (ref == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        return 1;
    }
    const json_value *name = json_get(ref, "name"), *tokens = json_get(ref, "tokens"),
                     *positions = json_get(ref, "positions"), *logits = json_get(ref, "logits"),
                     *hash_hex = json_get(ref, "model_fnv1a64");
    int32_t n_vocab = (int32_t)num(ref, "n_vocab", 0);
    double tol = num(ref, "tol", 0), llama_exact = num(ref, "nrmse_llama_exact", NAN);
    if (!name || name->kind != JSON_STRING || !tokens || tokens->kind != JSON_ARRAY || tokens->n == 0 ||
        !positions || positions->kind != JSON_ARRAY || !logits || logits->kind != JSON_ARRAY ||
        logits->n != positions->n || !hash_hex || hash_hex->kind != JSON_STRING || n_vocab <= 0 ||
        !(tol > 0)) {
        fprintf(stderr, "%s: missing or malformed fields\n", argv[1]);
        json_free(ref);
        return 1;
    }
    const char *nm = name->string;
    char model_path[4096];
    const json_value *shared_model = json_get(ref, "shared_model");
    if (shared_model && shared_model->kind == JSON_STRING) {
        /* a real model from ../shared instead of a generated one */
        const char *dir = getenv("LOCALAI_SHARED_DIR");
#ifdef LOCALAI_SHARED_DIR_DEFAULT
        if (dir == NULL) dir = LOCALAI_SHARED_DIR_DEFAULT;
#endif
        snprintf(model_path, sizeof model_path, "%s/%s", dir ? dir : "../shared", shared_model->string);
    } else {
        snprintf(model_path, sizeof model_path, "%s/%s%s.gguf", argv[3], file_prefix(), nm);
    }
    const json_value *quant = json_get(ref, "quantize");
    int quantized = quant && quant->kind == JSON_STRING;
    char src_path[4096 + 16];
    snprintf(src_path, sizeof src_path, "%s/%s%s-src.gguf", argv[3], file_prefix(), nm);
    if (!shared_model &&
        !run_generator(argv[2], json_get(ref, "gen_args"), quantized ? src_path : model_path)) {
        fprintf(stderr, "%s: the generator failed to make %s\n", nm, quantized ? src_path : model_path);
        json_free(ref);
        return 1;
    }
    if (!shared_model && quantized) {
        /* the reference's model is our quantizer's output, as a user would make it */
        char *qargv[] = {argc == 5 ? argv[4] : NULL, "quantize", src_path, model_path,
                         quant->string, "--threads", "1", NULL};
        if (qargv[0] == NULL || !run_argv(qargv)) {
            fprintf(stderr, "%s: `%s quantize %s %s %s` failed\n", nm, qargv[0] ? qargv[0] : "(no quantizer)",
                    src_path, model_path, quant->string);
            json_free(ref);
            return 1;
        }
        remove(src_path);
    }
    uint64_t h = 0, size = 0;
    char h_text[32];
    if (!hash_file(model_path, &h, &size)) {
        fprintf(stderr, "%s: cannot read %s\n", nm, model_path);
        json_free(ref);
        return 1;
    }
    snprintf(h_text, sizeof h_text, "%016llx", (unsigned long long)h);
    if (strcmp(h_text, hash_hex->string) != 0 || size != (uint64_t)num(ref, "model_bytes", 0)) {
        fprintf(stderr,
                "%s: the generator now makes a different file (fnv1a64 %s, %llu bytes; the "
                "reference was made from %s, %.0f bytes): regenerate the references with "
                "tests/llamacpp/make_refs.mjs\n",
                nm, h_text, (unsigned long long)size, hash_hex->string, num(ref, "model_bytes", 0));
        json_free(ref);
        return 1;
    }

    int rc = 1;
    localai_model *model = NULL;
    localai_context *ctx = NULL;
    int32_t n_tok = (int32_t)tokens->n, n_pos = (int32_t)positions->n;
    localai_token *toks = calloc((size_t)n_tok, sizeof *toks);
    int8_t *want = calloc((size_t)n_tok, 1);
    float *got = calloc((size_t)n_pos * (size_t)n_vocab, sizeof *got); /* ours, per position */
    if (toks == NULL || want == NULL || got == NULL) {
        fprintf(stderr, "%s: out of memory\n", nm);
        goto done;
    }
    /* Every CPU kernel level this machine runs must meet the reference; with
     * LOCALAI_TEST_BACKEND=vulkan, the Vulkan device instead (tests/vulkan). */
    const int vulkan = on_vulkan();
    int all_ok = 1, n_levels = 0;
    for (int32_t level = LOCALAI_CPU_LEVEL_SCALAR; level <= (vulkan ? LOCALAI_CPU_LEVEL_SCALAR : LOCALAI_CPU_LEVEL_NEON);
         level++) {
        localai_model_params mp;
        localai_model_params_init(&mp);
        mp.cpu_level = level;
        if (vulkan) mp.backend = LOCALAI_BACKEND_VULKAN;
        localai_status st = localai_model_open(model_path, &mp, &model);
        if (st == LOCALAI_STATUS_OK && vulkan && localai_model_backend(model) != LOCALAI_BACKEND_VULKAN) {
            printf("%s: SKIP: no Vulkan device runs the model here\n", nm);
            rc = SKIP;
            goto done;
        }
        if (st == LOCALAI_STATUS_UNSUPPORTED && level != LOCALAI_CPU_LEVEL_SCALAR &&
            strstr(localai_errmsg(), "cpu_level") != NULL)
            continue; /* this CPU does not run that level */
        n_levels++;
        if (st == LOCALAI_STATUS_UNSUPPORTED) {
            printf("%s: SKIP: model_open: %s\n", nm, localai_errmsg());
            rc = SKIP;
            goto done;
        }
        if (st != LOCALAI_STATUS_OK) {
            fprintf(stderr, "%s: model_open: %s: %s\n", nm, localai_status_string(st), localai_errmsg());
            goto done;
        }
        if (localai_model_n_vocab(model) != n_vocab) {
            fprintf(stderr, "%s: n_vocab %d, reference %d\n", nm, (int)localai_model_n_vocab(model), (int)n_vocab);
            goto done;
        }
        localai_context_params cp;
        localai_context_params_init(&cp);
        /* The context size llama.cpp was asked for (n_ctx_asked; older references have only
         * n_ctx): like llama.cpp, we pad it to pick phi3's long or short rope factors. */
        double ref_ctx = num(ref, "n_ctx_asked", num(ref, "n_ctx", 256));
        cp.n_ctx = (uint32_t)(ref_ctx >= n_tok && ref_ctx < 1e6 ? ref_ctx : n_tok);
        /* n_batch: the reference may ask for a prompt longer than one decode takes */
        double ref_batch = num(ref, "n_batch", n_tok);
        int32_t n_batch = ref_batch >= 1 && ref_batch <= n_tok ? (int32_t)ref_batch : n_tok;
        cp.n_batch = (uint32_t)n_batch;
        /* 2 threads unless the reference or LOCALAI_TEST_THREADS asks for another split */
        double ref_threads = num(ref, "n_threads", 2);
        const char *env_threads = getenv("LOCALAI_TEST_THREADS");
        if (env_threads != NULL && atoi(env_threads) > 0) ref_threads = atoi(env_threads);
        cp.n_threads = ref_threads >= 1 && ref_threads <= 64 ? (int32_t)ref_threads : 2;
        st = localai_context_new(model, &cp, &ctx);
        if (st == LOCALAI_STATUS_UNSUPPORTED) {
            printf("%s: SKIP: context_new: %s\n", nm, localai_errmsg());
            rc = SKIP;
            goto done;
        }
        if (st != LOCALAI_STATUS_OK) {
            fprintf(stderr, "%s: context_new: %s: %s\n", nm, localai_status_string(st), localai_errmsg());
            goto done;
        }
        for (int32_t i = 0; i < n_tok; i++) toks[i] = (localai_token)tokens->items[i].number;
        for (int32_t k = 0; k < n_pos; k++) {
            int32_t p = (int32_t)positions->items[k].number;
            if (p < 0 || p >= n_tok || logits->items[k].kind != JSON_ARRAY ||
                logits->items[k].n != (size_t)n_vocab) {
                fprintf(stderr, "%s: malformed position %d\n", nm, (int)k);
                goto done;
            }
            want[p] = 1;
        }
        /* Decode in chunks of n_batch tokens, keeping our logits at the compared positions. */
        for (int32_t c0 = 0; c0 < n_tok; c0 += n_batch) {
            int32_t cn = n_tok - c0 < n_batch ? n_tok - c0 : n_batch;
            localai_batch b;
            localai_batch_init(&b);
            b.n_tokens = cn;
            b.tokens = toks + c0;
            b.logits = want + c0;
            st = localai_decode(ctx, &b);
            if (st == LOCALAI_STATUS_UNSUPPORTED) {
                printf("%s: SKIP: decode: %s\n", nm, localai_errmsg());
                rc = SKIP;
                goto done;
            }
            if (st != LOCALAI_STATUS_OK) {
                fprintf(stderr, "%s: decode of tokens %d..%d: %s: %s\n", nm, (int)c0, (int)(c0 + cn - 1),
                        localai_status_string(st), localai_errmsg());
                goto done;
            }
            for (int32_t k = 0; k < n_pos; k++) {
                int32_t p = (int32_t)positions->items[k].number;
                if (p < c0 || p >= c0 + cn) continue;
                const float *ours = NULL;
                st = localai_logits(ctx, p - c0, &ours);
                if (st != LOCALAI_STATUS_OK) {
                    fprintf(stderr, "%s: logits(%d): %s\n", nm, (int)p, localai_errmsg());
                    goto done;
                }
                memcpy(got + (size_t)k * (size_t)n_vocab, ours, (size_t)n_vocab * sizeof *ours);
            }
        }

        /* nrmse over every compared value, and std(llama) for the top-1 rule. */
        double se = 0, sum = 0, sum2 = 0;
        size_t count = 0;
        for (int32_t k = 0; k < n_pos; k++) {
            const float *ours = got + (size_t)k * (size_t)n_vocab;
            for (int32_t v = 0; v < n_vocab; v++) {
                double r = logits->items[k].items[v].number, d = (double)ours[v] - r;
                se += d * d;
                sum += r;
                sum2 += r * r;
                count++;
            }
        }
        double mean = sum / (double)count, sd = sqrt(sum2 / (double)count - mean * mean);
        double e = sqrt(se / (double)count) / sd;
        int ok = e <= tol;
        static const char *const level_names[] = {"auto", "scalar", "avx2", "avx512", "neon"};
        printf("%s [%s]: nrmse %.3e, tolerance %.3e (llama.cpp vs exact f64: %.3e) %s\n", nm,
               level_names[level], e, tol, llama_exact, ok ? "ok" : "TOO FAR");
        double margin = fmax(0.01, 6 * tol) * sd;
        for (int32_t k = 0; k < n_pos; k++) {
            const float *ours = got + (size_t)k * (size_t)n_vocab;
            int32_t p = (int32_t)positions->items[k].number;
            int32_t r1 = 0, r2 = -1, o1 = 0;
            for (int32_t v = 1; v < n_vocab; v++) {
                double r = logits->items[k].items[v].number;
                if (r > logits->items[k].items[r1].number) {
                    r2 = r1;
                    r1 = v;
                } else if (r2 < 0 || r > logits->items[k].items[r2].number) {
                    r2 = v;
                }
                if (ours[v] > ours[o1]) o1 = v;
            }
            double gap = logits->items[k].items[r1].number - logits->items[k].items[r2].number;
            if (gap > margin && o1 != r1) {
                printf("%s [%s]: position %d: our top token %d, llama.cpp's %d (its lead %.4g > %.4g)\n", nm,
                       level_names[level], (int)p, (int)o1, (int)r1, gap, margin);
                ok = 0;
            }
        }
        all_ok &= ok;
        localai_context_free(ctx);
        localai_model_close(model);
        ctx = NULL;
        model = NULL;
    }
    rc = all_ok && n_levels > 0 ? 0 : 1;
done:
    localai_context_free(ctx);
    localai_model_close(model);
    free(toks);
    free(want);
    free(got);
    json_free(ref);
    return rc;
}
