/* test_generate.c - localai_generate on stories260K against llama.cpp's greedy continuation
 * (shared/reference/stories260K.greedy-from-bos.json), plus logprobs, cancellation,
 * max_tokens, a full context, a prompt longer than the context (refused before decoding),
 * and seeded sampling. Skips (77) while the model cannot be run yet (UNSUPPORTED from
 * open, context or generate). */
#include "localai.h"
#include "../llamacpp/json_min.h"
#include "test_util.h"

#include <math.h>
#include <time.h>

#define SKIP 77

typedef struct collected {
    localai_context *ctx;
    localai_token tokens[600];
    char text[8192];
    size_t text_len;
    int32_t n;
    int32_t stop_at;        /* return non-zero at this index (-1: never) */
    double worst_logprob_err;
    int index_ok;
} collected;

static int32_t collect(const localai_token_info *t, void *user) {
    collected *c = user;
    if (t->index != c->n) c->index_ok = 0;
    if (c->n < 600) c->tokens[c->n] = t->token;
    if (c->text_len + t->piece_len < sizeof c->text) {
        memcpy(c->text + c->text_len, t->piece, t->piece_len);
        c->text_len += t->piece_len;
        c->text[c->text_len] = '\0';
    }
    /* The logprob must be the log-softmax of the raw logits the token was drawn from. */
    const float *l = NULL;
    if (localai_logits(c->ctx, -1, &l) == LOCALAI_STATUS_OK) {
        int32_t v = localai_model_n_vocab(localai_context_model(c->ctx));
        double max = -INFINITY, sum = 0;
        for (int32_t i = 0; i < v; i++) max = fmax(max, l[i]);
        for (int32_t i = 0; i < v; i++) sum += exp(l[i] - max);
        double want = l[t->token] - max - log(sum);
        c->worst_logprob_err = fmax(c->worst_logprob_err, fabs(want - t->logprob));
    }
    c->n++;
    return c->stop_at >= 0 && t->index == c->stop_at;
}

static localai_status run(localai_context *ctx, collected *c, int32_t max_tokens,
                          const localai_sampler_params *sp, int32_t *n_gen) {
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    c->stop_at = -1;
    c->index_ok = 1;
    localai_generate_params gp;
    localai_generate_params_init(&gp);
    gp.max_tokens = max_tokens;
    gp.sampling = sp;
    gp.ignore_eog = 1;
    gp.on_token = collect;
    gp.user = c;
    return localai_generate(ctx, "", &gp, n_gen);
}

/* Counts the context's per-decode DEBUG lines, to see that nothing was decoded. */
static void count_decodes(int32_t level, const char *message, void *user) {
    if (level == LOCALAI_LOG_DEBUG && strncmp(message, "decode:", 7) == 0) ++*(int *)user;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* 7. A prompt of more tokens than n_ctx is CONTEXT_FULL before anything is decoded or
 * cleared: no decode, no token reported, sequence 0 as it was, both lengths in the
 * message. n_ctx 1024 with n_batch 512 lets the old code decode two chunks before
 * failing, so "before decoding" is what the decode count checks. */
static void check_long_prompt(localai_model *model) {
    int decodes = 0;
    localai_context_params cp;
    localai_context_params_init(&cp);
    cp.n_ctx = 1024;
    cp.log = count_decodes;
    cp.log_user = &decodes;
    cp.log_level = LOCALAI_LOG_DEBUG;
    localai_context *ctx = NULL;
    CHECK_STATUS(localai_context_new(model, &cp, &ctx), LOCALAI_STATUS_OK);
    if (ctx == NULL) return;
    static char prompt[16000];
    prompt[0] = '\0';
    for (int i = 0; i < 300; i++) strcat(prompt, "Once upon a time there was a little dog. ");
    static localai_token toks[20000];
    size_t n_prompt = 0;
    CHECK_STATUS(localai_tokenize(model, prompt, strlen(prompt), LOCALAI_TOKENIZE_ADD_SPECIAL, toks,
                                  sizeof toks / sizeof toks[0], &n_prompt),
                 LOCALAI_STATUS_OK);
    CHECK_MSG(n_prompt > 2 * 1024, "the prompt has only %zu tokens", n_prompt);

    /* Something in sequence 0 first, to see that the refused call leaves it alone. */
    static collected c;
    int32_t n_gen = -1, pos_before = -2, pos_after = -2;
    CHECK_STATUS(run(ctx, &c, 3, NULL, &n_gen), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_kv_pos_max(ctx, 0, &pos_before), LOCALAI_STATUS_OK);
    CHECK(pos_before >= 0);

    memset(&c, 0, sizeof c);
    c.ctx = ctx;
    c.stop_at = -1;
    localai_generate_params gp;
    localai_generate_params_init(&gp);
    gp.max_tokens = 10;
    gp.on_token = collect;
    gp.user = &c;
    decodes = 0;
    n_gen = -1;
    double t0 = now_s();
    localai_status st = localai_generate(ctx, prompt, &gp, &n_gen);
    double dt = now_s() - t0;
    /* Copied now: the next successful call on ctx clears it. */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", localai_context_errmsg(ctx));
    CHECK_STATUS(st, LOCALAI_STATUS_CONTEXT_FULL);
    CHECK_MSG(decodes == 0, "%d decodes before CONTEXT_FULL", decodes);
    CHECK(n_gen == 0 && c.n == 0);
    CHECK_MSG(dt < 5.0, "refusing the prompt took %.2f s", dt);
    CHECK_STATUS(localai_kv_pos_max(ctx, 0, &pos_after), LOCALAI_STATUS_OK);
    CHECK_MSG(pos_after == pos_before, "sequence 0 ends at %d, was %d", (int)pos_after,
              (int)pos_before);
    char want_prompt[32], want_ctx[32];
    snprintf(want_prompt, sizeof want_prompt, "%zu tokens", n_prompt);
    snprintf(want_ctx, sizeof want_ctx, "holds 1024");
    CHECK_MSG(strstr(msg, want_prompt) && strstr(msg, want_ctx), "message: %s", msg);
    printf("a prompt of %zu tokens in a context of 1024: refused in %.3f ms: %s\n", n_prompt,
           dt * 1e3, msg);

    /* A prompt that exactly fills the context still gives its one token. */
    localai_context_free(ctx);
    localai_context_params_init(&cp);
    cp.n_ctx = (uint32_t)n_prompt;
    ctx = NULL;
    CHECK_STATUS(localai_context_new(model, &cp, &ctx), LOCALAI_STATUS_OK);
    if (ctx) {
        memset(&c, 0, sizeof c);
        c.ctx = ctx;
        c.stop_at = -1;
        gp.max_tokens = 1;
        CHECK_STATUS(localai_generate(ctx, prompt, &gp, &n_gen), LOCALAI_STATUS_OK);
        CHECK(n_gen == 1 && c.n == 1);
    }
    localai_context_free(ctx);
}

int main(void) {
    char *json = test_read_file(test_shared_path("reference/stories260K.greedy-from-bos.json"), NULL);
    char err[256] = "";
    json_value *ref = json ? json_parse(json, err, sizeof err) : NULL;
    free(json);
    const json_value *ref_tokens = json_get(ref, "tokens"), *ref_text = json_get(ref, "text");
    CHECK_MSG(ref_tokens && ref_tokens->kind == JSON_ARRAY && ref_tokens->n == 256 && ref_text,
              "reference unreadable: %s", err);
    if (!ref_tokens || ref_tokens->n != 256 || !ref_text) return test_finish("test_generate");

    localai_model *model = NULL;
    localai_context *ctx = NULL;
    localai_status st = localai_model_open(test_shared_path("models/stories260K.gguf"), NULL, &model);
    if (st == LOCALAI_STATUS_UNSUPPORTED) {
        printf("SKIP: model_open: %s\n", localai_errmsg());
        json_free(ref);
        return SKIP;
    }
    CHECK_STATUS(st, LOCALAI_STATUS_OK);
    if (st != LOCALAI_STATUS_OK) return test_finish("test_generate");
    localai_context_params cp;
    localai_context_params_init(&cp);
    cp.n_ctx = 512;
    st = localai_context_new(model, &cp, &ctx);
    if (st == LOCALAI_STATUS_UNSUPPORTED) {
        printf("SKIP: context_new: %s\n", localai_errmsg());
        localai_model_close(model);
        json_free(ref);
        return SKIP;
    }
    CHECK_STATUS(st, LOCALAI_STATUS_OK);

    static collected c;
    int32_t n_gen = -1;
    st = run(ctx, &c, 256, NULL, &n_gen);
    if (st == LOCALAI_STATUS_UNSUPPORTED) {
        printf("SKIP: generate: %s\n", localai_errmsg());
        localai_context_free(ctx);
        localai_model_close(model);
        json_free(ref);
        return SKIP;
    }
    /* 1. greedy from BOS: llama.cpp's 256 tokens and its text */
    CHECK_STATUS(st, LOCALAI_STATUS_OK);
    CHECK(n_gen == 256 && c.n == 256 && c.index_ok);
    int first_diff = -1;
    for (int32_t i = 0; i < c.n && i < 256; i++)
        if (c.tokens[i] != (localai_token)ref_tokens->items[i].number && first_diff < 0) first_diff = i;
    CHECK_MSG(first_diff < 0, "greedy token %d is %d, llama.cpp's %d", first_diff,
              first_diff >= 0 ? (int)c.tokens[first_diff] : 0,
              first_diff >= 0 ? (int)ref_tokens->items[first_diff].number : 0);
    /* The first piece carries SentencePiece's space prefix, which detokenizing drops. */
    const char *text = c.text[0] == ' ' ? c.text + 1 : c.text;
    CHECK_MSG(strcmp(text, ref_text->string) == 0, "text differs:\n%s\n---\n%s", text, ref_text->string);
    CHECK_MSG(c.worst_logprob_err < 1e-4, "logprob off by %g", c.worst_logprob_err);

    /* 2. cancellation after the 5th token */
    memset(&c, 0, sizeof c);
    c.ctx = ctx;
    c.stop_at = 4;
    localai_generate_params gp;
    localai_generate_params_init(&gp);
    gp.on_token = collect;
    gp.user = &c;
    CHECK_STATUS(localai_generate(ctx, "", &gp, &n_gen), LOCALAI_STATUS_CANCELLED);
    CHECK(n_gen == 5 && c.n == 5);
    CHECK(strstr(localai_context_errmsg(ctx), "callback") != NULL);

    /* 3. max_tokens 0 decodes the prompt and reports nothing; negative is refused */
    CHECK_STATUS(run(ctx, &c, 0, NULL, &n_gen), LOCALAI_STATUS_OK);
    CHECK(n_gen == 0 && c.n == 0);
    CHECK_STATUS(run(ctx, &c, -1, NULL, &n_gen), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_generate(ctx, NULL, NULL, NULL), LOCALAI_STATUS_INVALID_ARGUMENT);

    /* 4. seeded sampling: the same seed gives the same tokens, another seed others */
    localai_sampler_params sp;
    localai_sampler_params_init(&sp);
    sp.temperature = 1.0f;
    sp.seed = 42;
    static collected c2;
    CHECK_STATUS(run(ctx, &c, 40, &sp, &n_gen), LOCALAI_STATUS_OK);
    CHECK_STATUS(run(ctx, &c2, 40, &sp, &n_gen), LOCALAI_STATUS_OK);
    CHECK(c.n == 40 && c2.n == 40 && memcmp(c.tokens, c2.tokens, sizeof(localai_token) * 40) == 0);
    sp.seed = 43;
    CHECK_STATUS(run(ctx, &c2, 40, &sp, &n_gen), LOCALAI_STATUS_OK);
    CHECK(memcmp(c.tokens, c2.tokens, sizeof(localai_token) * 40) != 0);
    /* 5. a prompt longer than n_batch is decoded in chunks, with the same result */
    static collected c3;
    gp.max_tokens = 20;
    gp.on_token = collect;
    memset(&c2, 0, sizeof c2);
    c2.ctx = ctx;
    c2.stop_at = -1;
    gp.user = &c2;
    const char *prompt = "Once upon a time, there was a little girl named Lily. She loved to play";
    CHECK_STATUS(localai_generate(ctx, prompt, &gp, &n_gen), LOCALAI_STATUS_OK);
    localai_context_free(ctx);
    cp.n_batch = 3;
    ctx = NULL;
    CHECK_STATUS(localai_context_new(model, &cp, &ctx), LOCALAI_STATUS_OK);
    memset(&c3, 0, sizeof c3);
    c3.ctx = ctx;
    c3.stop_at = -1;
    gp.user = &c3;
    CHECK_STATUS(localai_generate(ctx, prompt, &gp, &n_gen), LOCALAI_STATUS_OK);
    CHECK(c2.n == 20 && c3.n == 20 && memcmp(c2.tokens, c3.tokens, sizeof(localai_token) * 20) == 0);
    localai_context_free(ctx);
    cp.n_batch = 512;

    /* 6. a context of 16 fills up: CONTEXT_FULL, and what was reported is still llama.cpp's */
    cp.n_ctx = 16;
    ctx = NULL;
    CHECK_STATUS(localai_context_new(model, &cp, &ctx), LOCALAI_STATUS_OK);
    if (ctx) {
        st = run(ctx, &c, 100, NULL, &n_gen);
        CHECK_STATUS(st, LOCALAI_STATUS_CONTEXT_FULL);
        CHECK(localai_context_errmsg(ctx)[0] != '\0');
        CHECK_MSG(n_gen >= 14 && n_gen <= 16 && n_gen == c.n, "n_gen %d, reported %d", (int)n_gen, (int)c.n);
        for (int32_t i = 0; i < c.n && i < 16; i++)
            CHECK(c.tokens[i] == (localai_token)ref_tokens->items[i].number);
    }
    localai_context_free(ctx);
    check_long_prompt(model);
    localai_model_close(model);
    json_free(ref);
    return test_finish("test_generate");
}
