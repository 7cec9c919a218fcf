/* test_sampler_steps.c - each sampler step against hand-computed results on tiny logits. */
#include "sampling/sampler.h"
#include "test_util.h"

#include <math.h>

/* Runs the chain on `logits` and copies the survivors (ids in rank order for sorted
 * sets, else in set order) and their logits out. Returns the number of survivors. */
static size_t survivors(localai_sampler *s, const float *logits, int32_t n, int32_t *ids,
                        float *out_logits) {
    lai_candidates c;
    if (lai_sampler_apply(s, logits, n, &c) != LOCALAI_STATUS_OK) return 0;
    lai_candidates_sort(&c);
    for (size_t i = 0; i < c.size; i++) {
        ids[i] = c.data[i].id;
        if (out_logits) out_logits[i] = c.data[i].logit;
    }
    return c.size;
}

static localai_sampler *fresh(void) {
    localai_sampler *s = NULL;
    CHECK_STATUS(localai_sampler_new(&s), LOCALAI_STATUS_OK);
    return s;
}

static void test_top_k(void) {
    const float logits[5] = {1, 5, 3, 5, 2};
    int32_t ids[5];
    localai_sampler *s = fresh();
    CHECK_STATUS(localai_sampler_add_top_k(s, 2), LOCALAI_STATUS_OK);
    size_t n = survivors(s, logits, 5, ids, NULL);
    /* Two tokens tie at 5: both kept, lower id first. */
    CHECK(n == 2 && ids[0] == 1 && ids[1] == 3);
    localai_sampler_free(s);

    s = fresh();
    CHECK_STATUS(localai_sampler_add_top_k(s, 3), LOCALAI_STATUS_OK);
    n = survivors(s, logits, 5, ids, NULL);
    CHECK(n == 3 && ids[0] == 1 && ids[1] == 3 && ids[2] == 2);
    localai_sampler_free(s);

    /* k <= 0 and k >= n keep everything. */
    const int32_t keep_all[3] = {0, -1, 9};
    for (size_t c = 0; c < 3; c++) {
        s = fresh();
        CHECK_STATUS(localai_sampler_add_top_k(s, keep_all[c]), LOCALAI_STATUS_OK);
        CHECK(survivors(s, logits, 5, ids, NULL) == 5);
        localai_sampler_free(s);
    }

    /* The heap path (k much smaller than n) agrees with a plain ranking. */
    enum { N = 1000 };
    static float big[N];
    for (int i = 0; i < N; i++) big[i] = (float)((i * 7919) % 1009) * 0.01f;
    s = fresh();
    CHECK_STATUS(localai_sampler_add_top_k(s, 10), LOCALAI_STATUS_OK);
    int32_t top[N];
    n = survivors(s, big, N, top, NULL);
    CHECK(n == 10);
    for (size_t r = 0; r < n; r++) {
        /* rank of top[r]: number of tokens strictly before it must equal r */
        size_t before = 0;
        for (int i = 0; i < N; i++)
            if (big[i] > big[top[r]] || (big[i] == big[top[r]] && i < top[r])) before++;
        CHECK_MSG(before == r, "rank %zu holds token %d with %zu better", r, (int)top[r], before);
    }
    localai_sampler_free(s);
}

/* logits whose softmax is exactly `probs` (up to rounding) */
static void logits_of(const double *probs, int n, float *out) {
    for (int i = 0; i < n; i++) out[i] = (float)log(probs[i]);
}

static void test_top_p(void) {
    /* shuffled probabilities 0.05 0.5 0.1 0.2 0.15 */
    const double probs[5] = {0.05, 0.5, 0.1, 0.2, 0.15};
    float logits[5];
    int32_t ids[5];
    logits_of(probs, 5, logits);
    struct { float p; size_t min_keep; size_t want; } cases[] = {
        {0.45f, 1, 1}, /* 0.5 alone reaches 0.45 */
        {0.6f, 1, 2},  /* 0.5 + 0.2 */
        {0.8f, 1, 3},  /* 0.5 + 0.2 + 0.15 = 0.85 */
        {0.9f, 1, 4},  /* + 0.1 = 0.95 */
        {0.99f, 1, 5},
        {1.0f, 1, 5},  /* disabled */
        {0.1f, 3, 3},  /* min_keep wins */
        {0.0f, 0, 1},  /* keeps at least one */
    };
    const int32_t rank[5] = {1, 3, 4, 2, 0};
    for (size_t c = 0; c < LAI_ARRAY_LEN(cases); c++) {
        localai_sampler *s = fresh();
        CHECK_STATUS(localai_sampler_add_top_p(s, cases[c].p, cases[c].min_keep), LOCALAI_STATUS_OK);
        size_t n = survivors(s, logits, 5, ids, NULL);
        CHECK_MSG(n == cases[c].want, "top-p %g min_keep %zu kept %zu, want %zu", cases[c].p,
                  cases[c].min_keep, n, cases[c].want);
        for (size_t i = 0; i < n && i < 5; i++) CHECK(ids[i] == rank[i]);
        localai_sampler_free(s);
    }
}

static void test_min_p(void) {
    const double probs[5] = {0.05, 0.5, 0.1, 0.2, 0.15};
    float logits[5];
    int32_t ids[5];
    logits_of(probs, 5, logits);
    struct { float p; size_t min_keep; size_t want; } cases[] = {
        {0.25f, 1, 3}, /* threshold 0.125: 0.5 0.2 0.15 */
        {0.35f, 1, 2}, /* threshold 0.175: 0.5 0.2 */
        {0.15f, 1, 4}, /* threshold 0.075: drops 0.05 */
        {0.05f, 1, 5},
        {0.0f, 1, 5},  /* disabled */
        {0.9f, 1, 1},
        {0.9f, 4, 4},  /* min_keep */
        {1.0f, 0, 1},
    };
    for (size_t c = 0; c < LAI_ARRAY_LEN(cases); c++) {
        localai_sampler *s = fresh();
        CHECK_STATUS(localai_sampler_add_min_p(s, cases[c].p, cases[c].min_keep), LOCALAI_STATUS_OK);
        size_t n = survivors(s, logits, 5, ids, NULL);
        CHECK_MSG(n == cases[c].want, "min-p %g min_keep %zu kept %zu, want %zu", cases[c].p,
                  cases[c].min_keep, n, cases[c].want);
        localai_sampler_free(s);
    }
}

static void test_temperature(void) {
    const float logits[3] = {1, 3, 2};
    int32_t ids[3];
    float out[3];
    localai_sampler *s = fresh();
    CHECK_STATUS(localai_sampler_add_temperature(s, 0.5f), LOCALAI_STATUS_OK);
    size_t n = survivors(s, logits, 3, ids, out);
    CHECK(n == 3 && ids[0] == 1 && out[0] == 6.0f && ids[1] == 2 && out[1] == 4.0f &&
          ids[2] == 0 && out[2] == 2.0f);
    localai_sampler_free(s);

    s = fresh();
    CHECK_STATUS(localai_sampler_add_temperature(s, 0.0f), LOCALAI_STATUS_OK);
    n = survivors(s, logits, 3, ids, out);
    CHECK(n == 1 && ids[0] == 1);
    localai_sampler_free(s);
}

static void test_penalties(void) {
    const float logits[4] = {2.0f, -2.0f, 1.0f, 0.5f};
    int32_t ids[4];
    float out[4];
    localai_sampler *s = fresh();
    CHECK_STATUS(localai_sampler_add_penalties(s, 64, 2.0f, 0.5f, 0.25f), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_sampler_accept(s, 0), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_sampler_accept(s, 1), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_sampler_accept(s, 0), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_sampler_accept(s, 77), LOCALAI_STATUS_OK); /* outside this vocab: ignored */
    size_t n = survivors(s, logits, 4, ids, out);
    /* token 0 seen twice: 2/2 - (2*0.5 + 0.25) = -0.25;
     * token 1 once, negative so multiplied: -2*2 - (0.5 + 0.25) = -4.75. */
    CHECK(n == 4);
    float want[4] = {-0.25f, -4.75f, 1.0f, 0.5f};
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(out[i] == want[ids[i]], "token %d: %g, want %g", (int)ids[i], out[i], want[ids[i]]);
    CHECK(ids[0] == 2 && ids[1] == 3 && ids[2] == 0 && ids[3] == 1);

    /* reset forgets the window */
    CHECK_STATUS(localai_sampler_reset(s), LOCALAI_STATUS_OK);
    n = survivors(s, logits, 4, ids, out);
    for (size_t i = 0; i < n; i++) CHECK(out[i] == logits[ids[i]]);
    localai_sampler_free(s);

    /* last_n = 2: only the last two accepted tokens (1, 0) count, once each */
    s = fresh();
    CHECK_STATUS(localai_sampler_add_penalties(s, 2, 2.0f, 0.5f, 0.25f), LOCALAI_STATUS_OK);
    localai_sampler_accept(s, 0);
    localai_sampler_accept(s, 0);
    localai_sampler_accept(s, 1);
    localai_sampler_accept(s, 0);
    n = survivors(s, logits, 4, ids, out);
    float want2[4] = {2.0f / 2 - 0.75f, -4.75f, 1.0f, 0.5f};
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(out[i] == want2[ids[i]], "last_n: token %d: %g, want %g", (int)ids[i], out[i],
                  want2[ids[i]]);
    localai_sampler_free(s);
}

static void test_greedy_and_empty_chain(void) {
    const float logits[6] = {0.5f, 3.0f, NAN, 3.0f, -INFINITY, 1.0f};
    localai_token t = -1;
    localai_sampler *s = fresh();
    CHECK_STATUS(lai_sampler_sample_logits(s, logits, 6, &t), LOCALAI_STATUS_OK);
    CHECK(t == 1); /* empty chain is greedy; tie goes to the lower id; NaN never wins */
    CHECK_STATUS(localai_sampler_add_greedy(s), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_sampler_sample_logits(s, logits, 6, &t), LOCALAI_STATUS_OK);
    CHECK(t == 1);
    localai_sampler_free(s);

    const float all_nan[3] = {NAN, NAN, NAN};
    s = fresh();
    CHECK_STATUS(localai_sampler_add_top_p(s, 0.9f, 1), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_sampler_add_dist(s, 1), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_sampler_sample_logits(s, all_nan, 3, &t), LOCALAI_STATUS_OK);
    CHECK(t >= 0 && t < 3);
    localai_sampler_free(s);
}

static void test_huge_temperature_keeps_masked_tokens_out(void) {
    /* A huge (finite) temperature flattens the distribution, but tokens already at -inf
     * stay impossible: -inf / t must not become NaN or a finite value. */
    const float logits[4] = {1.0f, -INFINITY, 2.0f, -INFINITY};
    int seen[4] = {0, 0, 0, 0};
    for (uint64_t seed = 0; seed < 200; seed++) {
        localai_sampler *s = fresh();
        CHECK_STATUS(localai_sampler_add_temperature(s, 1e30f), LOCALAI_STATUS_OK);
        CHECK_STATUS(localai_sampler_add_dist(s, seed), LOCALAI_STATUS_OK);
        localai_token t = -1;
        CHECK_STATUS(lai_sampler_sample_logits(s, logits, 4, &t), LOCALAI_STATUS_OK);
        if (t >= 0 && t < 4) seen[t]++;
        localai_sampler_free(s);
    }
    CHECK(seen[1] == 0 && seen[3] == 0);
    CHECK(seen[0] > 50 && seen[2] > 50); /* flat over the two live tokens */
}

static void test_chain_order(void) {
    /* top-k 3 then top-p 0.7 then temperature: the nucleus is taken over the renormalised
     * top-3 (0.5, 0.2, 0.15 -> 0.588, 0.235, 0.176): 0.588 + 0.235 >= 0.7 keeps 2. */
    const double probs[5] = {0.05, 0.5, 0.1, 0.2, 0.15};
    float logits[5];
    int32_t ids[5];
    logits_of(probs, 5, logits);
    localai_sampler *s = fresh();
    CHECK_STATUS(localai_sampler_add_top_k(s, 3), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_sampler_add_top_p(s, 0.7f, 1), LOCALAI_STATUS_OK);
    CHECK(survivors(s, logits, 5, ids, NULL) == 2 && ids[0] == 1 && ids[1] == 3);
    localai_sampler_free(s);
}

static void test_params_chain(void) {
    localai_sampler_params p;
    localai_sampler_params_init(&p);
    localai_sampler *s = NULL;
    CHECK_STATUS(localai_sampler_new_from_params(&p, &s), LOCALAI_STATUS_OK);
    /* defaults: no penalties (repeat 1), top-k, top-p, min-p, temperature, dist */
    CHECK(s != NULL && s->n_steps == 5);
    if (s && s->n_steps == 5) {
        CHECK(s->steps[0].kind == LAI_STEP_TOP_K && s->steps[0].k == 40);
        CHECK(s->steps[1].kind == LAI_STEP_TOP_P && s->steps[2].kind == LAI_STEP_MIN_P);
        CHECK(s->steps[3].kind == LAI_STEP_TEMPERATURE && s->steps[4].kind == LAI_STEP_DIST);
        CHECK(s->steps[4].seed == 0xC0FFEE);
    }
    localai_sampler_free(s);

    p.temperature = 0.0f;
    p.repeat_penalty = 1.5f;
    CHECK_STATUS(localai_sampler_new_from_params(&p, &s), LOCALAI_STATUS_OK);
    CHECK(s != NULL && s->n_steps == 2 && s->steps[0].kind == LAI_STEP_PENALTIES &&
          s->steps[1].kind == LAI_STEP_GREEDY);
    /* greedy with the repeat penalty: after accepting 0, 2.0/1.5 < 1.5 so token 1 wins */
    const float logits[3] = {2.0f, 1.5f, 0.0f};
    localai_token t = -1;
    CHECK_STATUS(lai_sampler_sample_logits(s, logits, 3, &t), LOCALAI_STATUS_OK);
    CHECK(t == 0);
    CHECK_STATUS(lai_sampler_sample_logits(s, logits, 3, &t), LOCALAI_STATUS_OK);
    CHECK(t == 1);
    localai_sampler_free(s);

    CHECK_STATUS(localai_sampler_new_from_params(NULL, &s), LOCALAI_STATUS_OK);
    localai_sampler_free(s);
}

static void test_errors(void) {
    localai_sampler *s = fresh();
    CHECK_STATUS(localai_sampler_add_top_p(s, NAN, 1), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(localai_sampler_errmsg(s), "localai_sampler_add_top_p") != NULL);
    CHECK_STATUS(localai_sampler_add_min_p(s, 1.5f, 1), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_sampler_add_penalties(s, -1, 1.1f, 0, 0), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_sampler_add_penalties(s, 8, 0.0f, 0, 0), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_sampler_add_temperature(s, NAN), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_sampler_add_temperature(s, INFINITY), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(localai_sampler_errmsg(s), "finite") != NULL);
    CHECK_STATUS(localai_sampler_accept(s, -3), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(localai_sampler_errmsg(s), "negative") != NULL);
    CHECK(s->n_steps == 0);
    CHECK_STATUS(localai_sampler_add_greedy(s), LOCALAI_STATUS_OK);
    CHECK(localai_sampler_errmsg(s)[0] == '\0');
    localai_token t;
    CHECK_STATUS(localai_sample(s, NULL, -1, &t), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(lai_sampler_sample_logits(s, NULL, 3, &t), LOCALAI_STATUS_INVALID_ARGUMENT);
    localai_sampler_free(s);
    CHECK_STATUS(localai_sampler_new(NULL), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_sampler_add_top_k(NULL, 3), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_sampler_new_from_params(NULL, NULL), LOCALAI_STATUS_INVALID_ARGUMENT);
    localai_sampler_params p;
    localai_sampler_params_init(&p);
    p.struct_size = 2;
    s = NULL;
    CHECK_STATUS(localai_sampler_new_from_params(&p, &s), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(s == NULL);
    localai_sampler_free(NULL);
    CHECK(localai_sampler_errmsg(NULL)[0] == '\0');
}

int main(void) {
    test_top_k();
    test_top_p();
    test_min_p();
    test_temperature();
    test_penalties();
    test_greedy_and_empty_chain();
    test_huge_temperature_keeps_masked_tokens_out();
    test_chain_order();
    test_params_chain();
    test_errors();
    return test_finish("test_sampler_steps");
}
