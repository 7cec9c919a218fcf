/* sampler.h - the sampler chain: candidate sets, steps, and the localai_sampler handle. */
#ifndef LAI_SAMPLER_H
#define LAI_SAMPLER_H

#include "../base/base.h"
#include "rng.h"

/* One token still in the running. `p` is valid only right after lai_candidates_softmax. */
typedef struct lai_candidate {
    int32_t id;
    float logit;
    float p;
} lai_candidate;

/* The candidates of one sampling call. A step that filters tokens shrinks `size`; a
 * filtered token is gone for good, so no later step can pick it. `sorted` means the
 * entries are in lai_candidate_before order (highest logit first, ties by lower id),
 * which makes every step independent of the sort algorithm of the platform. */
typedef struct lai_candidates {
    lai_candidate *data;
    size_t size;
    int sorted;
} lai_candidates;

/* 1 when a ranks before b: higher logit, or equal logit and lower id. */
static inline int lai_candidate_before(const lai_candidate *a, const lai_candidate *b) {
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

void lai_candidates_sort(lai_candidates *c);
/* Keeps the k best candidates, sorted (k >= size keeps all, sorted). */
void lai_candidates_keep_top(lai_candidates *c, size_t k);
/* Sorts, then fills p with the softmax of the logits (sums in double). */
void lai_candidates_softmax(lai_candidates *c);

typedef enum lai_step_kind {
    LAI_STEP_PENALTIES,
    LAI_STEP_TOP_K,
    LAI_STEP_TOP_P,
    LAI_STEP_MIN_P,
    LAI_STEP_TEMPERATURE,
    LAI_STEP_GREEDY,
    LAI_STEP_DIST
} lai_step_kind;

typedef struct lai_step {
    lai_step_kind kind;
    int32_t k;          /* top-k */
    float p;            /* top-p, min-p */
    size_t min_keep;    /* top-p, min-p */
    float temperature;
    /* penalties: the last `last_n` accepted tokens in a ring */
    float repeat, frequency, presence;
    int32_t last_n;
    localai_token *ring;
    int32_t ring_len, ring_head;
    /* dist */
    uint64_t seed;
    lai_rng rng;
} lai_step;

struct localai_sampler {
    lai_errbuf err;
    lai_step *steps;
    size_t n_steps, cap_steps;
    /* Scratch sized to the vocabulary, kept between calls so sampling allocates only
     * when the vocabulary grows. */
    lai_candidate *cand;
    int32_t *counts;    /* penalties: occurrences per token id, zero between calls */
    size_t scratch_vocab;
};

/* Applies a single step to `c`. `counts` is zeroed scratch of n_vocab entries. */
void lai_step_apply(lai_step *step, lai_candidates *c, int32_t *counts, int32_t n_vocab);
void lai_step_accept(lai_step *step, localai_token token);
void lai_step_reset(lai_step *step);

/* Loads `logits` (n_vocab of them; NaN counts as -inf) into the sampler's scratch and
 * applies every step of the chain. On OK, *out describes the surviving candidates
 * (owned by the sampler, valid until its next call). Used by localai_sample and by
 * tests on synthetic logits. */
localai_status lai_sampler_apply(localai_sampler *s, const float *logits, int32_t n_vocab,
                                 lai_candidates *out);
/* lai_sampler_apply, then the final pick (the only survivor of a greedy/dist step, or
 * the best remaining candidate), then accept. */
localai_status lai_sampler_sample_logits(localai_sampler *s, const float *logits,
                                         int32_t n_vocab, localai_token *out_token);

#endif /* LAI_SAMPLER_H */
