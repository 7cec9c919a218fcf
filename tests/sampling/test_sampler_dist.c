/* test_sampler_dist.c - the seeded generator and the dist step: known answers, statistics,
 * determinism, and that no filtered or out-of-vocabulary token is ever returned. */
#include "sampling/sampler.h"
#include "test_util.h"

#include <math.h>

static void test_rng_known_answers(void) {
    /* xoshiro256** seeded by splitmix64: the published known-answer vectors (the same
     * streams Rust's rand_xoshiro and other ports give for seed_from_u64). */
    static const uint64_t seed0[4] = {UINT64_C(0x99ec5f36cb75f2b4), UINT64_C(0xbf6e1f784956452a),
                                      UINT64_C(0x1a5f849d4933e6e0), UINT64_C(0x6aa594f1262d2d2c)};
    static const uint64_t seed42[3] = {UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e),
                                       UINT64_C(0xae17533239e499a1)};
    lai_rng r;
    lai_rng_seed(&r, 0);
    for (int i = 0; i < 4; i++) CHECK(lai_rng_next(&r) == seed0[i]);
    lai_rng_seed(&r, 42);
    for (int i = 0; i < 3; i++) CHECK(lai_rng_next(&r) == seed42[i]);
    lai_rng_seed(&r, 7);
    for (int i = 0; i < 1000; i++) {
        double u = lai_rng_uniform(&r);
        CHECK(u >= 0.0 && u < 1.0);
    }
}

/* Draws `n` tokens with a dist-only chain and returns a chi-square statistic against probs. */
static double chi_square(const double *probs, int32_t k, int n, uint64_t seed) {
    float logits[16];
    int counts[16] = {0};
    for (int32_t i = 0; i < k; i++) logits[i] = (float)log(probs[i]);
    localai_sampler *s = NULL;
    CHECK_STATUS(localai_sampler_new(&s), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_sampler_add_dist(s, seed), LOCALAI_STATUS_OK);
    for (int i = 0; i < n; i++) {
        localai_token t = -1;
        CHECK_STATUS(lai_sampler_sample_logits(s, logits, k, &t), LOCALAI_STATUS_OK);
        if (t >= 0 && t < k) counts[t]++;
        else CHECK_MSG(0, "token %d outside [0, %d)", (int)t, (int)k);
    }
    localai_sampler_free(s);
    double chi2 = 0.0;
    for (int32_t i = 0; i < k; i++) {
        double e = probs[i] * n;
        chi2 += (counts[i] - e) * (counts[i] - e) / e;
    }
    return chi2;
}

static void test_dist_statistics(void) {
    /* 5 categories, 4 degrees of freedom: P(chi2 > 18.47) = 0.001. The seeds are fixed,
     * so the test is deterministic; a biased draw (off by one in the cumulative walk,
     * wrong order, unnormalised softmax) lands far above the bound. */
    const double probs[5] = {0.0625, 0.5, 0.125, 0.25, 0.0625};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        double chi2 = chi_square(probs, 5, 20000, seed);
        CHECK_MSG(chi2 < 18.47, "seed %llu: chi-square %.2f", (unsigned long long)seed, chi2);
    }
    /* temperature 2 flattens: draw through temperature + dist, compare with p^(1/2) */
    const double base[4] = {0.64, 0.16, 0.16, 0.04};
    float logits[4];
    double flat[4], z = 0;
    for (int i = 0; i < 4; i++) {
        logits[i] = (float)log(base[i]);
        flat[i] = sqrt(base[i]);
        z += flat[i];
    }
    for (int i = 0; i < 4; i++) flat[i] /= z;
    localai_sampler *s = NULL;
    localai_sampler_new(&s);
    localai_sampler_add_temperature(s, 2.0f);
    localai_sampler_add_dist(s, 99);
    int counts[4] = {0};
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        localai_token t = -1;
        lai_sampler_sample_logits(s, logits, 4, &t);
        if (t >= 0 && t < 4) counts[t]++;
    }
    localai_sampler_free(s);
    double chi2 = 0;
    for (int i = 0; i < 4; i++) chi2 += (counts[i] - flat[i] * n) * (counts[i] - flat[i] * n) / (flat[i] * n);
    CHECK_MSG(chi2 < 16.27, "temperature 2: chi-square %.2f (3 dof, p=0.001 bound 16.27)", chi2);
}

static void draw_sequence(uint64_t seed, localai_token *out, int n, const float *logits, int32_t v) {
    localai_sampler_params p;
    localai_sampler_params_init(&p);
    p.seed = seed;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.temperature = 1.5f;
    localai_sampler *s = NULL;
    CHECK_STATUS(localai_sampler_new_from_params(&p, &s), LOCALAI_STATUS_OK);
    for (int i = 0; i < n; i++) lai_sampler_sample_logits(s, logits, v, &out[i]);
    /* reset reseeds: the same stream again */
    CHECK_STATUS(localai_sampler_reset(s), LOCALAI_STATUS_OK);
    for (int i = 0; i < n; i++) {
        localai_token t = -1;
        lai_sampler_sample_logits(s, logits, v, &t);
        CHECK_MSG(t == out[i], "after reset, draw %d gave %d, first run %d", i, (int)t, (int)out[i]);
    }
    localai_sampler_free(s);
}

static void test_determinism(void) {
    enum { V = 64, N = 200 };
    float logits[V];
    for (int i = 0; i < V; i++) logits[i] = (float)sin(i * 1.7) * 2.0f;
    localai_token a[N], b[N], c[N];
    draw_sequence(1234, a, N, logits, V);
    draw_sequence(1234, b, N, logits, V);
    draw_sequence(1235, c, N, logits, V);
    int same = 1, differ = 0;
    for (int i = 0; i < N; i++) {
        same &= a[i] == b[i];
        differ += a[i] != c[i];
    }
    CHECK(same);
    CHECK(differ > N / 4);
    /* The first draws for seed 1234, computed independently (a Python model of the
     * documented algorithm: softmax in rank order, one uniform per draw, cumulative walk).
     * Any platform must give these; a change here breaks users' reproducibility. */
    static const localai_token pinned[8] = {49, 61, 57, 11, 60, 2, 56, 38};
    for (int i = 0; i < 8; i++)
        CHECK_MSG(a[i] == pinned[i], "draw %d: %d, pinned %d", i, (int)a[i], (int)pinned[i]);
}

/* A tiny LCG for the fuzz loop's inputs (not the generator under test). */
static uint32_t fuzz_next(uint32_t *x) {
    *x = *x * 1664525u + 1013904223u;
    return *x >> 8;
}

static void test_never_filtered(void) {
    enum { V = 50 };
    uint32_t x = 12345;
    float logits[V];
    for (int round = 0; round < 400; round++) {
        for (int i = 0; i < V; i++) {
            uint32_t r = fuzz_next(&x) % 100;
            logits[i] = r < 3 ? -INFINITY : r < 5 ? NAN : (float)(fuzz_next(&x) % 2000) / 200.0f - 5.0f;
            if (round % 7 == 0 && r % 5 == 0) logits[i] = 1.0f; /* many ties */
        }
        int32_t k = (int32_t)(fuzz_next(&x) % 12) + 1;
        float top_p = (float)(fuzz_next(&x) % 100) / 100.0f;
        float min_p = (float)(fuzz_next(&x) % 100) / 100.0f;
        localai_sampler_params p;
        localai_sampler_params_init(&p);
        p.top_k = k;
        p.top_p = top_p;
        p.min_p = min_p;
        p.temperature = 0.3f + (float)(fuzz_next(&x) % 30) / 10.0f;
        p.seed = round;
        localai_sampler *s = NULL;
        CHECK_STATUS(localai_sampler_new_from_params(&p, &s), LOCALAI_STATUS_OK);
        localai_token t = -1;
        CHECK_STATUS(lai_sampler_sample_logits(s, logits, V, &t), LOCALAI_STATUS_OK);
        CHECK_MSG(t >= 0 && t < V, "round %d: token %d outside the vocabulary", round, (int)t);
        if (t < 0 || t >= V) {
            localai_sampler_free(s);
            continue;
        }
        /* Brute force the allowed set: rank (ties by lower id, NaN as -inf) must be < k,
         * and the token must pass min-p against the best logit. */
        float lt = isnan(logits[t]) ? -INFINITY : logits[t];
        int rank = 0;
        float best = -INFINITY;
        for (int i = 0; i < V; i++) {
            float li = isnan(logits[i]) ? -INFINITY : logits[i];
            if (li > best) best = li;
            if (li > lt || (li == lt && i < t)) rank++;
        }
        CHECK_MSG(rank < k, "round %d: token %d has rank %d, top-k %d", round, (int)t, rank, (int)k);
        if (rank > 0 && min_p > 0 && isfinite(best))
            CHECK_MSG(lt >= best + logf(min_p) - 1e-5f,
                      "round %d: token %d logit %g under min-p %g of best %g", round, (int)t, lt,
                      min_p, best);
        if (rank > 0) CHECK_MSG(lt > -INFINITY, "round %d: picked a -inf token", round);
        localai_sampler_free(s);
    }
}

int main(void) {
    test_rng_known_answers();
    test_dist_statistics();
    test_determinism();
    test_never_filtered();
    return test_finish("test_sampler_dist");
}
