/* generate.c - the README's example: open a model, generate text, stream it to stdout. */
#include <localai.h>
#include <stdio.h>

static int32_t print_token(const localai_token_info *t, void *user) {
    (void)user;
    fwrite(t->piece, 1, t->piece_len, stdout);
    fflush(stdout);
    return 0; /* non-zero stops generation */
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "model.gguf";
    const char *prompt = argc > 2 ? argv[2] : "Once upon a time";
    localai_model *model;
    localai_context *ctx;
    if (localai_model_open(path, NULL, &model) != LOCALAI_STATUS_OK) {
        fprintf(stderr, "%s\n", localai_errmsg());
        return 1;
    }
    if (localai_context_new(model, NULL, &ctx) != LOCALAI_STATUS_OK) {
        fprintf(stderr, "%s\n", localai_errmsg());
        localai_model_close(model);
        return 1;
    }
    localai_generate_params gp;
    localai_generate_params_init(&gp);
    gp.max_tokens = 128;
    gp.on_token = print_token;
    localai_status st = localai_generate(ctx, prompt, &gp, NULL);
    printf("\n");
    if (st != LOCALAI_STATUS_OK) fprintf(stderr, "%s\n", localai_errmsg());
    localai_context_free(ctx);
    localai_model_close(model);
    return st == LOCALAI_STATUS_OK ? 0 : 1;
}
