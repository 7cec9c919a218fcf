/* cmd_run.c - `localai run`: generate text from a prompt and stream it to stdout. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void run_usage(FILE *out) {
    fprintf(out,
            "usage: localai run [-m MODEL] [-p PROMPT] [-n N] [options]\n"
            "  -m, --model MODEL    GGUF file (default: $LOCALAI_MODEL, else the first .gguf\n"
            "                       in ./models, then ../shared/models)\n"
            "  -p, --prompt TEXT    prompt (default: empty, i.e. BOS alone)\n"
            "  -n, --n-predict N    tokens to generate (default 128)\n"
            "  --temp T             temperature; 0 = greedy (default 0.8)\n"
            "  --top-k K            keep the K most probable tokens; 0 = off (default 40)\n"
            "  --top-p P            nucleus sampling; 1 = off (default 0.95)\n"
            "  --min-p P            drop tokens below P x the best; 0 = off (default 0.05)\n"
            "  --repeat-penalty R   penalise the last 64 tokens; 1 = off (default 1)\n"
            "  --seed S             random seed (default 0xC0FFEE): same seed, same text\n"
            "  -t, --threads N      CPU threads, at most %d (default: one per core)\n"
            "  -c, --ctx-size N     context length in tokens, at most %d (default:\n"
            "                       min(training context, 4096)); the prompt must fit in it\n"
            CLI_DEVICE_USAGE
            "  --ignore-eos         keep going past end-of-generation tokens\n"
            "  --ids                print the generated token ids on one line instead of text\n"
            "exit status: 0 done, 1 failed (a prompt or output longer than the context\n"
            "included), 2 bad arguments\n",
            CLI_N_THREADS_MAX, CLI_N_CTX_MAX);
}

typedef struct run_out {
    int ids;
    int strip_space; /* the text so far is empty: drop the first piece's space prefix */
    int32_t count;
} run_out;

static int32_t on_token(const localai_token_info *t, void *user) {
    run_out *o = user;
    if (o->ids) {
        printf("%s%d", o->count ? " " : "", (int)t->token);
    } else {
        const char *piece = t->piece;
        size_t len = t->piece_len;
        /* As detokenizing does (and llama2.c): SentencePiece's word-start space on the
         * very first piece of the output is not text. */
        if (o->strip_space && len > 0 && piece[0] == ' ') {
            piece++;
            len--;
        }
        if (len > 0) o->strip_space = 0;
        fwrite(piece, 1, len, stdout);
    }
    o->count++;
    fflush(stdout);
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cli_cmd_run(int argc, char **argv) {
    const char *model_path = NULL, *prompt = "";
    int32_t n_predict = 128, threads = 0, n_ctx = 0, ignore_eos = 0;
    cli_device dev = CLI_DEVICE_DEFAULT;
    run_out out = {0, 0, 0};
    localai_sampler_params sp;
    localai_sampler_params_init(&sp);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            run_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--ids") == 0) { out.ids = 1; continue; }
        if (strcmp(a, "--ignore-eos") == 0) { ignore_eos = 1; continue; }
        if (i + 1 >= argc || a[0] != '-') {
            if (a[0] == '-')
                fprintf(stderr, "localai run: %s needs a value\n", a);
            else
                fprintf(stderr, "localai run: unexpected argument '%s' (the prompt goes after -p)\n", a);
            run_usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        int ok = 1;
        if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) model_path = v;
        else if (strcmp(a, "-p") == 0 || strcmp(a, "--prompt") == 0) prompt = v;
        else if (strcmp(a, "-n") == 0 || strcmp(a, "--n-predict") == 0)
            ok = cli_parse_i32("run", a, v, 0, INT32_MAX, &n_predict);
        else if (strcmp(a, "--temp") == 0) ok = cli_parse_float("run", a, v, &sp.temperature);
        else if (strcmp(a, "--top-k") == 0) ok = cli_parse_i32("run", a, v, 0, INT32_MAX, &sp.top_k);
        else if (strcmp(a, "--top-p") == 0) ok = cli_parse_float("run", a, v, &sp.top_p);
        else if (strcmp(a, "--min-p") == 0) ok = cli_parse_float("run", a, v, &sp.min_p);
        else if (strcmp(a, "--repeat-penalty") == 0) ok = cli_parse_float("run", a, v, &sp.repeat_penalty);
        else if (strcmp(a, "--seed") == 0) ok = cli_parse_u64("run", a, v, &sp.seed);
        else if (strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0)
            ok = cli_parse_i32("run", a, v, 0, CLI_N_THREADS_MAX, &threads);
        else if (strcmp(a, "-c") == 0 || strcmp(a, "--ctx-size") == 0)
            ok = cli_parse_i32("run", a, v, 0, CLI_N_CTX_MAX, &n_ctx);
        else if (cli_device_flag("run", a, v, &dev, &ok)) {
        } else {
            fprintf(stderr, "localai run: unknown option '%s'\n", a);
            run_usage(stderr);
            return 2;
        }
        if (!ok) return 2;
    }
    if ((sp.top_p <= 0.0f) || sp.min_p < 0.0f || sp.min_p > 1.0f || sp.repeat_penalty <= 0.0f) {
        fprintf(stderr, "localai run: --top-p must be in (0, 1], --min-p in [0, 1], "
                        "--repeat-penalty > 0\n");
        return 2;
    }
    char found[1200];
    if (model_path == NULL && (model_path = cli_default_model("run", found, sizeof found)) == NULL)
        return 1;

    localai_model *model = cli_open_model(model_path, 0, &dev);
    if (model == NULL) return 1;
    localai_context_params cp;
    localai_context_params_init(&cp);
    cp.n_threads = threads;
    cp.n_ctx = (uint32_t)n_ctx;
    localai_context *ctx = NULL;
    localai_status st;
    if ((st = localai_context_new(model, &cp, &ctx)) != LOCALAI_STATUS_OK) {
        int rc = cli_fail("context", st);
        localai_model_close(model);
        return rc;
    }
    localai_generate_params gp;
    localai_generate_params_init(&gp);
    gp.max_tokens = n_predict;
    gp.sampling = &sp;
    gp.ignore_eog = ignore_eos;
    gp.on_token = on_token;
    gp.user = &out;
    /* The prompt is echoed, so the output reads as one text; ids mode prints ids only. */
    if (!out.ids) fputs(prompt, stdout);
    out.strip_space = prompt[0] == '\0';
    double t0 = now_s();
    int32_t n_gen = 0;
    st = localai_generate(ctx, prompt, &gp, &n_gen);
    double dt = now_s() - t0;
    if (out.count > 0 || (!out.ids && prompt[0] != '\0')) printf("\n");
    fflush(stdout);
    int rc = 0;
    if (st == LOCALAI_STATUS_CONTEXT_FULL) {
        /* A script must see that the text is cut short: this is a failure, whatever was
         * printed before it. */
        rc = 1;
        if (n_gen == 0) {
            /* localai_generate measured the prompt before decoding it; its message has
             * both numbers. */
            const char *msg = localai_context_errmsg(ctx);
            static const char prefix[] = "localai_generate: ";
            if (strncmp(msg, prefix, sizeof prefix - 1) == 0) msg += sizeof prefix - 1;
            fprintf(stderr, "localai run: %s; -c N sets the context length", msg);
            int32_t n_train = localai_model_n_ctx_train(model);
            if (n_train > 0) fprintf(stderr, " (the model was trained on %d)", (int)n_train);
            fprintf(stderr, "\n");
        } else {
            fprintf(stderr, "localai run: the context of %u tokens is full after %d generated "
                            "tokens (use -c to make it longer)\n",
                    (unsigned)localai_context_n_ctx(ctx), (int)n_gen);
        }
    } else if (st != LOCALAI_STATUS_OK) {
        rc = cli_fail("generate", st);
    }
    if (!(st == LOCALAI_STATUS_CONTEXT_FULL && n_gen == 0)) /* nothing was run to time */
        fprintf(stderr, "localai run: %d tokens in %.2f s (%.1f tokens/s, prompt included)\n",
                (int)n_gen, dt, dt > 0 ? n_gen / dt : 0.0);
    localai_context_free(ctx);
    localai_model_close(model);
    return rc;
}
