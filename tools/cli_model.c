/* cli_model.c - finding and opening the model, strict parsing of numeric flags, prompt tokens. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int has_gguf_suffix(const char *name) {
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".gguf") == 0;
}

/* Random-weight fixtures print gibberish, so a trained model is preferred to them. */
static int is_fixture(const char *name) {
    return strstr(name, "UNTRAINED") != NULL || strstr(name, "random") != NULL;
}

/* 1 when file name a should be chosen over b: trained models first, then by name. */
static int prefer(const char *a, const char *b) {
    if (is_fixture(a) != is_fixture(b)) return !is_fixture(a);
    return strcmp(a, b) < 0;
}

/* The first *.gguf directly inside `dir` (in `prefer` order, so the choice does not
 * depend on the directory's listing order), into buf; 0 when none. */
static int first_gguf_in(const char *dir, char *buf, size_t cap) {
    DIR *d = opendir(dir);
    if (d == NULL) return 0;
    char best[1024] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!has_gguf_suffix(e->d_name) || strlen(e->d_name) >= sizeof best) continue;
        if (best[0] == '\0' || prefer(e->d_name, best)) snprintf(best, sizeof best, "%s", e->d_name);
    }
    closedir(d);
    if (best[0] == '\0') return 0;
    return snprintf(buf, cap, "%s/%s", dir, best) < (int)cap;
}

const char *cli_default_model(const char *cmd, char *buf, size_t cap) {
    const char *env = getenv("LOCALAI_MODEL");
    if (env != NULL && env[0] != '\0') {
        fprintf(stderr, "localai %s: using the model in $LOCALAI_MODEL: %s\n", cmd, env);
        return env;
    }
    static const char *const dirs[] = {"models", "../shared/models"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (first_gguf_in(dirs[i], buf, cap)) {
            fprintf(stderr, "localai %s: no -m given; using %s\n", cmd, buf);
            return buf;
        }
    }
    fprintf(stderr,
            "localai %s: no model: pass -m MODEL.gguf, set $LOCALAI_MODEL, or put a .gguf file "
            "in ./models or ../shared/models\n",
            cmd);
    return NULL;
}

int cli_parse_i32(const char *cmd, const char *flag, const char *text, int32_t lo, int32_t hi,
                  int32_t *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || end == text) {
        fprintf(stderr, "localai %s: %s expects an integer in [%ld, %ld], got '%s'\n", cmd, flag,
                (long)lo, (long)hi, text);
        return 0;
    }
    /* A number too large for long (ERANGE) is out of range on the same side. */
    if (errno == ERANGE || v < lo || v > hi) {
        int above = errno == ERANGE ? v > 0 : v > hi;
        fprintf(stderr, "localai %s: %s %s is out of range [%ld, %ld]: the %s is %ld\n", cmd, flag,
                text, (long)lo, (long)hi, above ? "maximum" : "minimum", above ? (long)hi : (long)lo);
        return 0;
    }
    *out = (int32_t)v;
    return 1;
}

int cli_parse_u64(const char *cmd, const char *flag, const char *text, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (text[0] == '\0' || text[0] == '-' || *end != '\0' || errno != 0) {
        fprintf(stderr, "localai %s: %s expects a non-negative integer, got '%s'\n", cmd, flag, text);
        return 0;
    }
    *out = (uint64_t)v;
    return 1;
}

int cli_parse_float(const char *cmd, const char *flag, const char *text, float *out) {
    char *end = NULL;
    errno = 0;
    float v = strtof(text, &end);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v)) {
        fprintf(stderr, "localai %s: %s expects a number, got '%s'\n", cmd, flag, text);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_cpu_level(int32_t *out) {
    static const char *const names[] = {"auto", "scalar", "avx2", "avx512", "neon"};
    const char *env = getenv("LOCALAI_CPU_LEVEL");
    *out = LOCALAI_CPU_LEVEL_AUTO;
    if (env == NULL || env[0] == '\0') return 1;
    for (int32_t i = 0; i < (int32_t)(sizeof names / sizeof names[0]); i++)
        if (strcmp(env, names[i]) == 0) {
            *out = i; /* LOCALAI_CPU_LEVEL_AUTO .. _NEON in this order */
            return 1;
        }
    fprintf(stderr, "localai: LOCALAI_CPU_LEVEL='%s' is not one of auto, scalar, avx2, avx512, neon\n", env);
    return 0;
}

int cli_device_flag(const char *cmd, const char *flag, const char *value, cli_device *d, int *ok) {
    if (strcmp(flag, "--backend") == 0) {
        *ok = 1;
        if (strcmp(value, "cpu") == 0) d->backend = LOCALAI_BACKEND_CPU;
        else if (strcmp(value, "vulkan") == 0) d->backend = LOCALAI_BACKEND_VULKAN;
        else if (strcmp(value, "auto") == 0) d->backend = LOCALAI_BACKEND_AUTO;
        else {
            fprintf(stderr, "localai %s: --backend expects cpu, vulkan or auto, got '%s'\n", cmd, value);
            *ok = 0;
        }
        return 1;
    }
    if (strcmp(flag, "--pipeline-cache") == 0) {
        d->pipeline_cache = value;
        *ok = 1;
        return 1;
    }
    if (strcmp(flag, "--device") == 0) {
        *ok = cli_parse_i32(cmd, flag, value, 0, 1 << 20, &d->device_index);
        return 1;
    }
    return 0;
}

localai_model *cli_open_model(const char *path, int flags, const cli_device *dev) {
    localai_model_params p;
    localai_model_params_init(&p);
    if (!cli_cpu_level(&p.cpu_level)) return NULL;
    if (dev != NULL) {
        p.backend = dev->backend;
        p.device_index = dev->device_index;
        p.vulkan_pipeline_cache = dev->pipeline_cache;
    }
    if (flags & CLI_OPEN_NO_MMAP) p.use_mmap = 0;
    if (flags & CLI_OPEN_VOCAB_ONLY) {
        p.vocab_only = 1;
        p.backend = LOCALAI_BACKEND_CPU;
    }
    p.log = cli_log_stderr;
    localai_model *model = NULL;
    localai_status st = localai_model_open(path, &p, &model);
    if (st != LOCALAI_STATUS_OK) {
        cli_fail(path, st);
        return NULL;
    }
    return model;
}

int cli_tokenize_prompt(const localai_model *model, const char *prompt, localai_token **out,
                        size_t *out_n) {
    size_t len = strlen(prompt), n = 0, cap = len + 8;
    localai_token *tokens = malloc(cap * sizeof *tokens);
    if (tokens == NULL) return 0;
    /* As llama.cpp: BOS when the vocabulary asks for it, special tokens not parsed. */
    localai_status st =
        localai_tokenize(model, prompt, len, LOCALAI_TOKENIZE_ADD_SPECIAL, tokens, cap, &n);
    if (st == LOCALAI_STATUS_BUFFER_TOO_SMALL) {
        localai_token *grown = realloc(tokens, (n ? n : 1) * sizeof *tokens);
        if (grown == NULL) {
            free(tokens);
            return 0;
        }
        tokens = grown;
        st = localai_tokenize(model, prompt, len, LOCALAI_TOKENIZE_ADD_SPECIAL, tokens, n, &n);
    }
    if (st != LOCALAI_STATUS_OK) {
        free(tokens);
        cli_fail("tokenize", st);
        return 0;
    }
    *out = tokens;
    *out_n = n;
    return 1;
}
