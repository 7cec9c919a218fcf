/* cmd_logits.c - `localai logits`: the last prompt position's logits as one JSON object. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void logits_usage(FILE *out) {
    fprintf(out, "usage: localai logits [-m MODEL] -p PROMPT [-t THREADS] [-c CTX] [--backend B] [--device N]\n"
                 "prints {\"tokens\": [prompt ids], \"n_vocab\": V, \"logits\": [V numbers]} for the\n"
                 "last prompt position (BOS added when the vocabulary asks; special tokens not parsed)\n"
                 "  -t, --threads N    CPU threads, at most %d (default: one per core)\n"
                 "  -c, --ctx-size N   context length in tokens, at most %d; the prompt must fit.\n"
                 "                     Default: min(training context, 4096), grown to the prompt\n"
                 "                     up to the training context\n" CLI_DEVICE_USAGE,
            CLI_N_THREADS_MAX, CLI_N_CTX_MAX);
}

/* Decodes the prompt in chunks no larger than the context's batch, logits at the end. */
static localai_status decode_all(localai_context *ctx, const localai_token *tokens, size_t n,
                                 size_t chunk) {
    for (size_t done = 0; done < n;) {
        size_t len = n - done < chunk ? n - done : chunk;
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

int cli_cmd_logits(int argc, char **argv) {
    const char *model_path = NULL, *prompt = NULL;
    int32_t threads = 0, n_ctx = 0;
    cli_device dev = CLI_DEVICE_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            logits_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc || a[0] != '-') {
            fprintf(stderr, a[0] == '-' ? "localai logits: %s needs a value\n"
                                        : "localai logits: unexpected argument '%s'\n", a);
            logits_usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        int ok = 1;
        if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) model_path = v;
        else if (strcmp(a, "-p") == 0 || strcmp(a, "--prompt") == 0) prompt = v;
        else if (strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0) {
            if (!cli_parse_i32("logits", a, v, 0, CLI_N_THREADS_MAX, &threads)) return 2;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--ctx-size") == 0) {
            if (!cli_parse_i32("logits", a, v, 0, CLI_N_CTX_MAX, &n_ctx)) return 2;
        } else if (cli_device_flag("logits", a, v, &dev, &ok)) {
            if (!ok) return 2;
        } else {
            fprintf(stderr, "localai logits: unknown option '%s'\n", a);
            logits_usage(stderr);
            return 2;
        }
    }
    if (prompt == NULL) {
        fprintf(stderr, "localai logits: -p PROMPT is required\n");
        logits_usage(stderr);
        return 2;
    }
    char found[1200];
    if (model_path == NULL && (model_path = cli_default_model("logits", found, sizeof found)) == NULL)
        return 1;

    localai_model *model = cli_open_model(model_path, 0, &dev);
    if (model == NULL) return 1;
    localai_token *tokens = NULL;
    size_t n = 0;
    if (!cli_tokenize_prompt(model, prompt, &tokens, &n)) {
        localai_model_close(model);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "localai logits: the prompt gives no tokens (and the vocabulary adds no BOS)\n");
        free(tokens);
        localai_model_close(model);
        return 1;
    }
    localai_context_params cp;
    localai_context_params_init(&cp);
    cp.n_threads = threads;
    cp.n_ctx = (uint32_t)n_ctx;
    /* Refused before the cache is made or anything decoded: a prompt that does not fit
     * would only fail after long work. Without -c the default cache (min(training context,
     * 4096)) grows to the prompt, but not past the training context: beyond it the logits
     * mean little and the work (quadratic in the prompt) can take minutes, so that takes
     * an explicit -c. */
    int32_t n_train = localai_model_n_ctx_train(model);
    size_t n_default = n_train > 0 && n_train < 4096 ? (size_t)n_train : 4096;
    size_t n_grow_max = n_train > 0 ? (size_t)n_train : n_default;
    int refused = 0;
    if (n_ctx > 0 && n > (size_t)n_ctx) {
        fprintf(stderr, "localai logits: the prompt has %zu tokens but -c is %d; pass a larger -c "
                        "(at most %d)\n", n, (int)n_ctx, CLI_N_CTX_MAX);
        refused = 1;
    } else if (n_ctx == 0 && n > n_grow_max) {
        if (n_train > 0)
            fprintf(stderr, "localai logits: the prompt has %zu tokens, more than the model's "
                            "training context of %d", n, (int)n_train);
        else
            fprintf(stderr, "localai logits: the prompt has %zu tokens, more than the default "
                            "context of %zu (the model does not give its training context)",
                    n, n_grow_max);
        fprintf(stderr, "; pass -c N with N >= %zu (at most %d) to decode it anyway\n", n,
                CLI_N_CTX_MAX);
        refused = 1;
    } else if (n_ctx == 0 && n > n_default) {
        cp.n_ctx = (uint32_t)n;
    }
    if (refused) {
        free(tokens);
        localai_model_close(model);
        return 1;
    }
    localai_context *ctx = NULL;
    localai_status st;
    int rc = 0;
    const float *logits = NULL;
    if ((st = localai_context_new(model, &cp, &ctx)) != LOCALAI_STATUS_OK)
        rc = cli_fail("context", st);
    else if ((st = decode_all(ctx, tokens, n, cp.n_batch)) != LOCALAI_STATUS_OK)
        rc = cli_fail("decode", st);
    else if ((st = localai_logits(ctx, -1, &logits)) != LOCALAI_STATUS_OK)
        rc = cli_fail("logits", st);
    if (rc == 0) {
        int32_t n_vocab = localai_model_n_vocab(model);
        printf("{\"tokens\": [");
        for (size_t i = 0; i < n; i++) printf("%s%d", i ? ", " : "", (int)tokens[i]);
        printf("], \"n_vocab\": %d, \"logits\": [", (int)n_vocab);
        for (int32_t i = 0; i < n_vocab; i++) {
            /* %.9g round-trips a float; JSON has no inf or NaN, so those become null. */
            if (isfinite(logits[i])) printf("%s%.9g", i ? ", " : "", (double)logits[i]);
            else printf("%snull", i ? ", " : "");
        }
        printf("]}\n");
    }
    free(tokens);
    localai_context_free(ctx);
    localai_model_close(model);
    return rc;
}
