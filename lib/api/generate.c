/* generate.c - localai_generate: prompt in, sampled tokens out through a callback. */
#include "context.h"

#include <math.h>

/* log-softmax of the raw logits at `tok`, in double so a 150k vocabulary adds no error. */
static float token_logprob(const float *logits, int32_t n_vocab, localai_token tok) {
    double max = -INFINITY;
    for (int32_t i = 0; i < n_vocab; i++)
        if (logits[i] > max) max = logits[i]; /* NaN compares false: skipped */
    if (!isfinite(max)) return logits[tok] == max ? 0.0f : -INFINITY;
    double sum = 0.0;
    for (int32_t i = 0; i < n_vocab; i++)
        if (!isnan(logits[i])) sum += exp((double)logits[i] - max);
    return (float)((double)logits[tok] - max - log(sum));
}

/* Decodes tokens[0..n) of sequence 0 at positions from 0, n_batch tokens at a time,
 * asking for logits at the last token only. */
static localai_status decode_prompt(localai_context *ctx, const localai_token *tokens,
                                    int32_t n) {
    int32_t chunk = ctx->n_batch > 0 && ctx->n_batch <= INT32_MAX ? (int32_t)ctx->n_batch : 1;
    for (int32_t done = 0; done < n;) {
        int32_t len = LAI_MIN(chunk, n - done);
        localai_batch b;
        localai_batch_init(&b);
        b.n_tokens = len;
        b.tokens = tokens + done;
        localai_status st = localai_decode(ctx, &b);
        if (st != LOCALAI_STATUS_OK) return st;
        done += len;
    }
    return LOCALAI_STATUS_OK;
}

typedef struct gen_state {
    localai_token *tokens;
    char *piece;
    size_t piece_cap;
    localai_sampler *sampler;
} gen_state;

static void gen_state_free(gen_state *g) {
    lai_free(g->tokens);
    lai_free(g->piece);
    localai_sampler_free(g->sampler);
}

/* The piece of `tok` in g->piece (grown as needed); *len gets its byte count. */
static localai_status token_piece(gen_state *g, const localai_model *model, localai_token tok,
                                  size_t *len) {
    localai_status st = localai_token_to_piece(model, tok, 0, g->piece, g->piece_cap, len);
    if (st != LOCALAI_STATUS_BUFFER_TOO_SMALL) return st;
    char *grown = lai_realloc(g->piece, *len + 1);
    if (grown == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "no memory for a piece");
    g->piece = grown;
    g->piece_cap = *len + 1;
    return localai_token_to_piece(model, tok, 0, g->piece, g->piece_cap, len);
}

static localai_status tokenize_prompt(gen_state *g, const localai_model *model, const char *prompt,
                                      uint32_t flags, int32_t *out_n) {
    size_t len = strlen(prompt), n = 0, cap = len + 8; /* never more tokens than bytes + specials */
    g->tokens = lai_malloc(cap * sizeof *g->tokens);
    if (g->tokens == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "no memory for the prompt");
    localai_status st = localai_tokenize(model, prompt, len, flags, g->tokens, cap, &n);
    if (st == LOCALAI_STATUS_BUFFER_TOO_SMALL) {
        localai_token *grown = lai_realloc(g->tokens, n * sizeof *g->tokens);
        if (grown == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "no memory for the prompt");
        g->tokens = grown;
        st = localai_tokenize(model, prompt, len, flags, g->tokens, n, &n);
    }
    if (st != LOCALAI_STATUS_OK) return st;
    if (n == 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "the prompt gives no tokens and the vocabulary adds no BOS: "
                        "there is nothing to continue from");
    if (n > INT32_MAX) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "the prompt is too long");
    *out_n = (int32_t)n;
    return LOCALAI_STATUS_OK;
}

static localai_status generate(gen_state *g, localai_context *ctx, const char *prompt,
                               const localai_generate_params *p, int32_t *n_generated) {
    const localai_model *model = localai_context_model(ctx);
    int32_t n_vocab = localai_model_n_vocab(model);
    int32_t n_prompt = 0;
    localai_status st;
    if (p->max_tokens < 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "max_tokens %d is negative",
                        (int)p->max_tokens);
    if ((st = tokenize_prompt(g, model, prompt, p->tokenize_flags, &n_prompt)) != LOCALAI_STATUS_OK)
        return st;
    /* A prompt that cannot fit would be decoded chunk by chunk, at a cost that grows with
     * the context, only to fail at the end: refuse it before clearing or decoding anything. */
    if ((uint32_t)n_prompt > ctx->n_ctx)
        return lai_fail(LOCALAI_STATUS_CONTEXT_FULL,
                        "the prompt has %d tokens but the context holds %u (make n_ctx larger)",
                        (int)n_prompt, ctx->n_ctx);
    st = p->sampling ? localai_sampler_new_from_params(p->sampling, &g->sampler)
                     : localai_sampler_new(&g->sampler); /* an empty chain is greedy */
    if (st != LOCALAI_STATUS_OK) return st;
    /* The penalties see the prompt, as llama.cpp's samplers do. */
    for (int32_t i = 0; i < n_prompt; i++) localai_sampler_accept(g->sampler, g->tokens[i]);

    if ((st = localai_kv_remove(ctx, 0, 0, -1)) != LOCALAI_STATUS_OK) return st;
    if ((st = decode_prompt(ctx, g->tokens, n_prompt)) != LOCALAI_STATUS_OK) return st;

    for (int32_t index = 0; index < p->max_tokens; index++) {
        const float *logits = NULL;
        localai_token tok = LOCALAI_TOKEN_NONE;
        if ((st = localai_logits(ctx, -1, &logits)) != LOCALAI_STATUS_OK) return st;
        if ((st = localai_sample(g->sampler, ctx, -1, &tok)) != LOCALAI_STATUS_OK) return st;
        if (!p->ignore_eog && localai_token_is_eog(model, tok)) break;
        size_t piece_len = 0;
        if ((st = token_piece(g, model, tok, &piece_len)) != LOCALAI_STATUS_OK) return st;
        *n_generated = index + 1;
        if (p->on_token) {
            localai_token_info info;
            memset(&info, 0, sizeof info);
            info.struct_size = sizeof info;
            info.token = tok;
            info.piece = g->piece;
            info.piece_len = piece_len;
            info.logprob = token_logprob(logits, n_vocab, tok);
            info.index = index;
            if (p->on_token(&info, p->user) != 0)
                return lai_fail(LOCALAI_STATUS_CANCELLED,
                                "the token callback stopped generation after %d tokens",
                                (int)(index + 1));
        }
        if (index + 1 == p->max_tokens) break; /* its logits would never be used */
        localai_batch b;
        localai_batch_init(&b);
        b.n_tokens = 1;
        b.tokens = &tok;
        if ((st = localai_decode(ctx, &b)) != LOCALAI_STATUS_OK) return st;
    }
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_generate(localai_context *ctx, const char *prompt,
                                            const localai_generate_params *params,
                                            int32_t *out_n_generated) {
    if (ctx == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_generate: ctx is NULL");
    if (prompt == NULL)
        return lai_errbuf_store(&ctx->err, lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                                                    "localai_generate: prompt is NULL"));
    localai_generate_params p;
    localai_status st = localai_generate_params_init(&p);
    if (st == LOCALAI_STATUS_OK) st = lai_params_merge(&p, sizeof p, params, "localai_generate_params");
    if (st != LOCALAI_STATUS_OK) return lai_errbuf_store(&ctx->err, st);
    gen_state g;
    memset(&g, 0, sizeof g);
    int32_t n_generated = 0;
    const localai_allocator *previous = lai_heap_enter(lai_model_heap(ctx->model));
    st = generate(&g, ctx, prompt, &p, &n_generated);
    gen_state_free(&g);
    lai_heap_leave(previous);
    if (out_n_generated) *out_n_generated = n_generated;
    if (st != LOCALAI_STATUS_OK) lai_error_prefix("localai_generate");
    return lai_errbuf_store(&ctx->err, st);
}
