/* steps.c - what each sampler step does to a candidate set (llama.cpp's semantics). */
#include "sampler.h"

#include <math.h>

static void apply_penalties(lai_step *st, lai_candidates *c, int32_t *counts, int32_t n_vocab) {
    if (st->ring_len == 0) return;
    /* Count the window into the shared scratch, apply, then zero only what was set. */
    for (int32_t i = 0; i < st->ring_len; i++) {
        localai_token t = st->ring[i];
        if (t >= 0 && t < n_vocab) counts[t]++;
    }
    for (size_t i = 0; i < c->size; i++) {
        int32_t n = counts[c->data[i].id];
        if (n == 0) continue;
        float l = c->data[i].logit;
        /* As llama.cpp: dividing a negative logit would raise it, so those are multiplied. */
        l = l <= 0.0f ? l * st->repeat : l / st->repeat;
        l -= (float)n * st->frequency + st->presence;
        c->data[i].logit = l;
    }
    for (int32_t i = 0; i < st->ring_len; i++) {
        localai_token t = st->ring[i];
        if (t >= 0 && t < n_vocab) counts[t] = 0;
    }
    c->sorted = 0;
}

static void apply_top_p(const lai_step *st, lai_candidates *c) {
    if (st->p >= 1.0f || c->size == 0) return;
    lai_candidates_softmax(c);
    double cum = 0.0;
    size_t keep = c->size;
    for (size_t i = 0; i < c->size; i++) {
        cum += c->data[i].p;
        if (cum >= (double)st->p && i + 1 >= st->min_keep) {
            keep = i + 1;
            break;
        }
    }
    c->size = keep;
}

static void apply_min_p(const lai_step *st, lai_candidates *c) {
    if (st->p <= 0.0f || c->size == 0) return;
    lai_candidates_sort(c);
    float min_logit = c->data[0].logit + logf(st->p);
    size_t min_keep = st->min_keep > 0 ? st->min_keep : 1;
    size_t keep = 1;
    while (keep < c->size && (c->data[keep].logit >= min_logit || keep < min_keep)) keep++;
    c->size = keep;
}

static void keep_best(lai_candidates *c) {
    if (c->size <= 1) return;
    size_t best = 0;
    for (size_t i = 1; i < c->size; i++)
        if (lai_candidate_before(&c->data[i], &c->data[best])) best = i;
    c->data[0] = c->data[best];
    c->size = 1;
    c->sorted = 1;
}

static void apply_temperature(const lai_step *st, lai_candidates *c) {
    if (st->temperature <= 0.0f) {
        keep_best(c); /* the limit of t -> 0: all mass on the most probable token */
        return;
    }
    /* Dividing by a positive number keeps the order, so `sorted` stays true; -inf (a
     * token masked out by an earlier step) stays -inf. */
    for (size_t i = 0; i < c->size; i++)
        if (c->data[i].logit != -INFINITY) c->data[i].logit /= st->temperature;
}

static void apply_dist(lai_step *st, lai_candidates *c) {
    if (c->size == 0) return;
    lai_candidates_softmax(c);
    double u = lai_rng_uniform(&st->rng);
    double cum = 0.0;
    size_t pick = c->size - 1; /* rounding may leave the total a hair under u */
    for (size_t i = 0; i < c->size; i++) {
        cum += c->data[i].p;
        if (u < cum) {
            pick = i;
            break;
        }
    }
    /* Never land on a zero-probability tail left there by rounding. */
    while (pick > 0 && c->data[pick].p == 0.0f) pick--;
    c->data[0] = c->data[pick];
    c->size = 1;
}

void lai_step_apply(lai_step *st, lai_candidates *c, int32_t *counts, int32_t n_vocab) {
    switch (st->kind) {
    case LAI_STEP_PENALTIES: apply_penalties(st, c, counts, n_vocab); break;
    case LAI_STEP_TOP_K:
        if (st->k > 0) lai_candidates_keep_top(c, (size_t)st->k);
        break;
    case LAI_STEP_TOP_P: apply_top_p(st, c); break;
    case LAI_STEP_MIN_P: apply_min_p(st, c); break;
    case LAI_STEP_TEMPERATURE: apply_temperature(st, c); break;
    case LAI_STEP_GREEDY: keep_best(c); break;
    case LAI_STEP_DIST: apply_dist(st, c); break;
    }
}

void lai_step_accept(lai_step *st, localai_token token) {
    if (st->kind != LAI_STEP_PENALTIES || st->last_n <= 0) return;
    st->ring[st->ring_head] = token;
    st->ring_head = (st->ring_head + 1) % st->last_n;
    if (st->ring_len < st->last_n) st->ring_len++;
}

void lai_step_reset(lai_step *st) {
    st->ring_len = 0;
    st->ring_head = 0;
    if (st->kind == LAI_STEP_DIST) lai_rng_seed(&st->rng, st->seed);
}
