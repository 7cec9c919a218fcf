/* candidates.c - ordering, partial selection and softmax of a sampling candidate set. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>

static int cmp_candidates(const void *pa, const void *pb) {
    const lai_candidate *a = pa, *b = pb;
    if (lai_candidate_before(a, b)) return -1;
    if (lai_candidate_before(b, a)) return 1;
    return 0;
}

void lai_candidates_sort(lai_candidates *c) {
    if (c->sorted) return;
    /* The order is total (ids are distinct), so any qsort gives the same result. */
    qsort(c->data, c->size, sizeof c->data[0], cmp_candidates);
    c->sorted = 1;
}

/* Min-heap on "worst first" so the root is the weakest of the k kept so far. */
static void heap_sift_down(lai_candidate *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && lai_candidate_before(&h[w], &h[l])) w = l;
        if (r < n && lai_candidate_before(&h[w], &h[r])) w = r;
        if (w == i) return;
        lai_candidate t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

void lai_candidates_keep_top(lai_candidates *c, size_t k) {
    if (k == 0) k = 1;
    if (c->sorted || k >= c->size || k > c->size / 8) {
        /* Sorting is as cheap as a heap when k is a good fraction of the set. */
        lai_candidates_sort(c);
        if (k < c->size) c->size = k;
        return;
    }
    /* Select the k best in O(n log k) with a heap kept in the first k slots. */
    lai_candidate *h = c->data;
    for (size_t i = k / 2; i-- > 0;) heap_sift_down(h, k, i);
    for (size_t i = k; i < c->size; i++) {
        if (lai_candidate_before(&c->data[i], &h[0])) {
            h[0] = c->data[i];
            heap_sift_down(h, k, 0);
        }
    }
    c->size = k;
    c->sorted = 0;
    lai_candidates_sort(c);
}

void lai_candidates_softmax(lai_candidates *c) {
    lai_candidates_sort(c);
    if (c->size == 0) return;
    float max = c->data[0].logit;
    if (isinf(max)) {
        /* All -inf: nothing is likelier than anything else, so the first (lowest id)
         * gets the mass; several +inf share it equally. */
        size_t n_top = 0;
        for (size_t i = 0; i < c->size && c->data[i].logit == max; i++) n_top++;
        if (max < 0) n_top = 1;
        for (size_t i = 0; i < c->size; i++) c->data[i].p = i < n_top ? 1.0f / (float)n_top : 0.0f;
        return;
    }
    double sum = 0.0;
    for (size_t i = 0; i < c->size; i++) {
        double e = exp((double)c->data[i].logit - (double)max);
        c->data[i].p = (float)e;
        sum += e;
    }
    for (size_t i = 0; i < c->size; i++) c->data[i].p = (float)((double)c->data[i].p / sum);
}
