/* sampler_api.c - the sampler chain entry points of the public API. */
#include "sampler.h"

#include <math.h>

/* A sampler belongs to no model, so its memory comes from the C heap even when it is made
 * or grown inside a call that works for a model with a host allocator (localai_generate
 * makes its sampler that way). */
static void *sampler_malloc(size_t size, int zero, void *grow) {
    const localai_allocator *previous = lai_heap_enter(NULL);
    void *p = lai_realloc(grow, size); /* grow NULL: a new block */
    lai_heap_leave(previous);
    if (p != NULL && zero) memset(p, 0, size);
    return p;
}

LOCALAI_API localai_status localai_sampler_new(localai_sampler **out_sampler) {
    if (out_sampler == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_sampler_new: out_sampler is NULL");
    localai_sampler *s = sampler_malloc(sizeof *s, 1, NULL);
    if (s == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "localai_sampler_new: out of memory");
    *out_sampler = s;
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}

LOCALAI_API void localai_sampler_free(localai_sampler *s) {
    if (s == NULL) return;
    for (size_t i = 0; i < s->n_steps; i++) lai_free(s->steps[i].ring);
    lai_free(s->steps);
    lai_free(s->cand);
    lai_free(s->counts);
    lai_free(s);
}

LOCALAI_API const char *localai_sampler_errmsg(const localai_sampler *s) {
    return s == NULL ? "" : s->err.text;
}

/* Appends a step (copied) to the chain; the chain then owns step->ring. */
static localai_status push_step(localai_sampler *s, const lai_step *step, const char *fn) {
    if (s->n_steps == s->cap_steps) {
        size_t cap = s->cap_steps ? s->cap_steps * 2 : 8;
        lai_step *grown = sampler_malloc(cap * sizeof *grown, 0, s->steps);
        if (grown == NULL) {
            lai_free(step->ring);
            return lai_errbuf_store(&s->err, lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY,
                                                      "%s: out of memory", fn));
        }
        s->steps = grown;
        s->cap_steps = cap;
    }
    s->steps[s->n_steps++] = *step;
    return lai_errbuf_store(&s->err, LOCALAI_STATUS_OK);
}

static localai_status null_sampler(const char *fn) {
    return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "%s: sampler is NULL", fn);
}

static localai_status bad_value(localai_sampler *s, const char *fn, const char *what, double v) {
    return lai_errbuf_store(&s->err, lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                                              "%s: %s %g is out of range", fn, what, v));
}

LOCALAI_API localai_status localai_sampler_add_penalties(localai_sampler *s, int32_t last_n,
                                                         float repeat, float frequency,
                                                         float presence) {
    static const char fn[] = "localai_sampler_add_penalties";
    if (s == NULL) return null_sampler(fn);
    if (last_n < 0) return bad_value(s, fn, "last_n (0 disables)", last_n);
    if (!isfinite(repeat) || repeat <= 0.0f)
        return bad_value(s, fn, "repeat (must be > 0; 1 disables)", repeat);
    if (!isfinite(frequency)) return bad_value(s, fn, "frequency", frequency);
    if (!isfinite(presence)) return bad_value(s, fn, "presence", presence);
    lai_step st;
    memset(&st, 0, sizeof st);
    st.kind = LAI_STEP_PENALTIES;
    st.repeat = repeat;
    st.frequency = frequency;
    st.presence = presence;
    st.last_n = last_n;
    if (last_n > 0) {
        size_t bytes;
        if (lai_mul_overflow_size((size_t)last_n, sizeof(localai_token), &bytes) ||
            (st.ring = sampler_malloc(bytes, 0, NULL)) == NULL)
            return lai_errbuf_store(&s->err, lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY,
                                                      "%s: no memory for a window of %d tokens",
                                                      fn, (int)last_n));
    }
    return push_step(s, &st, fn);
}

LOCALAI_API localai_status localai_sampler_add_top_k(localai_sampler *s, int32_t k) {
    if (s == NULL) return null_sampler("localai_sampler_add_top_k");
    lai_step st;
    memset(&st, 0, sizeof st);
    st.kind = LAI_STEP_TOP_K;
    st.k = k; /* <= 0 keeps every token, as the params struct documents */
    return push_step(s, &st, "localai_sampler_add_top_k");
}

LOCALAI_API localai_status localai_sampler_add_top_p(localai_sampler *s, float p, size_t min_keep) {
    static const char fn[] = "localai_sampler_add_top_p";
    if (s == NULL) return null_sampler(fn);
    if (isnan(p)) return bad_value(s, fn, "p", p);
    lai_step st;
    memset(&st, 0, sizeof st);
    st.kind = LAI_STEP_TOP_P;
    st.p = p;
    st.min_keep = min_keep;
    return push_step(s, &st, fn);
}

LOCALAI_API localai_status localai_sampler_add_min_p(localai_sampler *s, float p, size_t min_keep) {
    static const char fn[] = "localai_sampler_add_min_p";
    if (s == NULL) return null_sampler(fn);
    if (isnan(p) || p > 1.0f) return bad_value(s, fn, "p (must be <= 1; <= 0 disables)", p);
    lai_step st;
    memset(&st, 0, sizeof st);
    st.kind = LAI_STEP_MIN_P;
    st.p = p;
    st.min_keep = min_keep;
    return push_step(s, &st, fn);
}

LOCALAI_API localai_status localai_sampler_add_temperature(localai_sampler *s, float t) {
    static const char fn[] = "localai_sampler_add_temperature";
    if (s == NULL) return null_sampler(fn);
    /* An infinite temperature would turn every logit into 0 or NaN (-inf / inf). */
    if (!isfinite(t)) return bad_value(s, fn, "temperature (must be finite)", t);
    lai_step st;
    memset(&st, 0, sizeof st);
    st.kind = LAI_STEP_TEMPERATURE;
    st.temperature = t;
    return push_step(s, &st, fn);
}

LOCALAI_API localai_status localai_sampler_add_greedy(localai_sampler *s) {
    if (s == NULL) return null_sampler("localai_sampler_add_greedy");
    lai_step st;
    memset(&st, 0, sizeof st);
    st.kind = LAI_STEP_GREEDY;
    return push_step(s, &st, "localai_sampler_add_greedy");
}

LOCALAI_API localai_status localai_sampler_add_dist(localai_sampler *s, uint64_t seed) {
    if (s == NULL) return null_sampler("localai_sampler_add_dist");
    lai_step st;
    memset(&st, 0, sizeof st);
    st.kind = LAI_STEP_DIST;
    st.seed = seed;
    lai_rng_seed(&st.rng, seed);
    return push_step(s, &st, "localai_sampler_add_dist");
}

LOCALAI_API localai_status localai_sampler_new_from_params(const localai_sampler_params *params,
                                                           localai_sampler **out_sampler) {
    static const char fn[] = "localai_sampler_new_from_params";
    if (out_sampler == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "%s: out_sampler is NULL", fn);
    localai_sampler_params p;
    localai_status st = localai_sampler_params_init(&p);
    if (st == LOCALAI_STATUS_OK) st = lai_params_merge(&p, sizeof p, params, "localai_sampler_params");
    if (st != LOCALAI_STATUS_OK) return st;
    if (!isfinite(p.temperature) || isnan(p.top_p) || isnan(p.min_p))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "%s: temperature is not finite, or top_p or min_p is NaN", fn);
    localai_sampler *s = NULL;
    if ((st = localai_sampler_new(&s)) != LOCALAI_STATUS_OK) return st;
    int penalties = p.penalty_last_n != 0 &&
                    (p.repeat_penalty != 1.0f || p.frequency_penalty != 0.0f ||
                     p.presence_penalty != 0.0f);
    if (penalties)
        st = localai_sampler_add_penalties(s, p.penalty_last_n, p.repeat_penalty,
                                           p.frequency_penalty, p.presence_penalty);
    if (p.temperature <= 0.0f) {
        /* top-k, top-p and min-p never remove the most probable token: skip them. */
        if (st == LOCALAI_STATUS_OK) st = localai_sampler_add_greedy(s);
    } else {
        if (st == LOCALAI_STATUS_OK && p.top_k > 0) st = localai_sampler_add_top_k(s, p.top_k);
        if (st == LOCALAI_STATUS_OK && p.top_p < 1.0f) st = localai_sampler_add_top_p(s, p.top_p, 1);
        if (st == LOCALAI_STATUS_OK && p.min_p > 0.0f) st = localai_sampler_add_min_p(s, p.min_p, 1);
        if (st == LOCALAI_STATUS_OK) st = localai_sampler_add_temperature(s, p.temperature);
        if (st == LOCALAI_STATUS_OK) st = localai_sampler_add_dist(s, p.seed);
    }
    if (st != LOCALAI_STATUS_OK) {
        localai_sampler_free(s); /* the failing step's message stays on the thread */
        return st;
    }
    *out_sampler = s;
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}

/* Grows the vocabulary-sized scratch; steady-state sampling allocates nothing. */
static localai_status ensure_scratch(localai_sampler *s, int32_t n_vocab) {
    size_t n = (size_t)n_vocab;
    if (n <= s->scratch_vocab) return LOCALAI_STATUS_OK;
    size_t cand_bytes, count_bytes;
    if (lai_mul_overflow_size(n, sizeof(lai_candidate), &cand_bytes) ||
        lai_mul_overflow_size(n, sizeof(int32_t), &count_bytes))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "n_vocab %d is too large", (int)n_vocab);
    lai_candidate *cand = sampler_malloc(cand_bytes, 0, NULL);
    int32_t *counts = sampler_malloc(count_bytes, 1, NULL);
    if (cand == NULL || counts == NULL) {
        lai_free(cand);
        lai_free(counts);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "no memory for %d candidates", (int)n_vocab);
    }
    lai_free(s->cand);
    lai_free(s->counts);
    s->cand = cand;
    s->counts = counts;
    s->scratch_vocab = n;
    return LOCALAI_STATUS_OK;
}

localai_status lai_sampler_apply(localai_sampler *s, const float *logits, int32_t n_vocab,
                                 lai_candidates *out) {
    if (logits == NULL || n_vocab <= 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "sampling: no logits (n_vocab %d)",
                        (int)n_vocab);
    localai_status st = ensure_scratch(s, n_vocab);
    if (st != LOCALAI_STATUS_OK) return st;
    lai_candidates c = {s->cand, (size_t)n_vocab, 0};
    for (int32_t i = 0; i < n_vocab; i++) {
        float l = logits[i];
        c.data[i].id = i;
        c.data[i].logit = isnan(l) ? -INFINITY : l; /* a NaN must never win a comparison */
        c.data[i].p = 0.0f;
    }
    for (size_t i = 0; i < s->n_steps && c.size > 0; i++)
        lai_step_apply(&s->steps[i], &c, s->counts, n_vocab);
    *out = c;
    return LOCALAI_STATUS_OK;
}

localai_status lai_sampler_sample_logits(localai_sampler *s, const float *logits,
                                         int32_t n_vocab, localai_token *out_token) {
    lai_candidates c;
    localai_status st = lai_sampler_apply(s, logits, n_vocab, &c);
    if (st != LOCALAI_STATUS_OK) return st;
    if (c.size == 0) /* every step keeps at least one token; this is a bug if reached */
        return lai_fail(LOCALAI_STATUS_INTERNAL, "sampling: the chain removed every token");
    size_t best = 0;
    for (size_t i = 1; i < c.size; i++)
        if (lai_candidate_before(&c.data[i], &c.data[best])) best = i;
    localai_token tok = c.data[best].id;
    for (size_t i = 0; i < s->n_steps; i++) lai_step_accept(&s->steps[i], tok);
    *out_token = tok;
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_sample(localai_sampler *s, localai_context *ctx, int32_t i,
                                          localai_token *out_token) {
    static const char fn[] = "localai_sample";
    if (s == NULL) return null_sampler(fn);
    if (ctx == NULL || out_token == NULL)
        return lai_errbuf_store(&s->err, lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "%s: %s is NULL",
                                                  fn, ctx == NULL ? "ctx" : "out_token"));
    const float *logits = NULL;
    localai_status st = localai_logits(ctx, i, &logits);
    if (st != LOCALAI_STATUS_OK) return lai_errbuf_store(&s->err, st);
    int32_t n_vocab = localai_model_n_vocab(localai_context_model(ctx));
    st = lai_sampler_sample_logits(s, logits, n_vocab, out_token);
    if (st != LOCALAI_STATUS_OK) lai_error_prefix(fn);
    return lai_errbuf_store(&s->err, st);
}

LOCALAI_API localai_status localai_sampler_accept(localai_sampler *s, localai_token token) {
    if (s == NULL) return null_sampler("localai_sampler_accept");
    if (token < 0)
        return lai_errbuf_store(&s->err, lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                                                  "localai_sampler_accept: token %d is negative",
                                                  (int)token));
    for (size_t i = 0; i < s->n_steps; i++) lai_step_accept(&s->steps[i], token);
    return lai_errbuf_store(&s->err, LOCALAI_STATUS_OK);
}

LOCALAI_API localai_status localai_sampler_reset(localai_sampler *s) {
    if (s == NULL) return null_sampler("localai_sampler_reset");
    for (size_t i = 0; i < s->n_steps; i++) lai_step_reset(&s->steps[i]);
    return lai_errbuf_store(&s->err, LOCALAI_STATUS_OK);
}
