/* cpu_attention.c - attention over the KV cache: each K/V row read once per group of query heads, online softmax. */
#include "cpu_ops.h"

#include <math.h>

/*
 * Work units are (KV head, block of up to TOKEN_BLOCK tokens): the query heads that share
 * a KV head (grouped-query attention) and a few consecutive tokens all read the cache
 * rows of that head together, CHUNK cells at a time, converted to f32 once per unit. The
 * softmax runs online (a running max and sum per query), so scores never need more than
 * one chunk of memory and the cost is linear in the KV length. Units are dealt to the
 * threads round-robin, which balances causal prompts (later tokens see more cells).
 */
#define CHUNK 64
#define TOKEN_BLOCK 8

typedef struct att_shape {
    int64_t hd_k, hd_v, n_head, n_tok, group, n_head_kv;
    int64_t max_queries; /* group * TOKEN_BLOCK */
} att_shape;

static void shape_of(const lai_op *op, att_shape *s) {
    const lai_tensor *q = op->src[0], *v = op->src[2];
    s->n_head_kv = op->ip[1];
    s->hd_k = q->ne[0];
    s->n_head = q->ne[1];
    s->n_tok = q->ne[2];
    s->hd_v = v->ne[0] / s->n_head_kv;
    s->group = s->n_head / s->n_head_kv;
    s->max_queries = s->group * TOKEN_BLOCK;
}

size_t lai_cpu_attention_work_size(const lai_op *op) {
    att_shape s;
    shape_of(op, &s);
    /* converted K and V chunks, one chunk of scores per query, an output accumulator and
     * a running max and sum per query, and which cells of the chunk each token sees */
    const size_t floats = (size_t)CHUNK * (size_t)(s.hd_k + s.hd_v) + (size_t)s.max_queries * CHUNK +
                          (size_t)s.max_queries * (size_t)s.hd_v + 2 * (size_t)s.max_queries + 64;
    return floats * sizeof(float) + TOKEN_BLOCK * CHUNK;
}

/* Rows [c0, c0 + n) of head kh of a cache tensor as f32, or a pointer into the cache when
 * it already holds f32. Row i is at *rows + i * hd. */
static const float *cache_rows(const lai_cpu_kernels *k, const lai_tensor *cache, int64_t kh, int64_t hd,
                               int64_t c0, int64_t n, float *buf, size_t *stride) {
    const uint8_t *base = lai_cpu_data(cache) + (size_t)(kh * hd) * cache->nb[0];
    if (cache->type == LAI_TYPE_F32) {
        *stride = cache->nb[1] / sizeof(float);
        return (const float *)(base + (size_t)c0 * cache->nb[1]);
    }
    for (int64_t i = 0; i < n; i++)
        k->f16_to_f32((const uint16_t *)(base + (size_t)(c0 + i) * cache->nb[1]), buf + i * hd, hd);
    *stride = (size_t)hd;
    return buf;
}

void lai_cpu_attention(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *q = op->src[0], *kc = op->src[1], *vc = op->src[2], *dst = op->dst;
    const int32_t *info = (const int32_t *)lai_cpu_data(op->src[3]);
    const int32_t *cells = (const int32_t *)lai_cpu_data(op->src[4]);
    const int64_t row_ints = op->src[4]->ne[0], n_cells = op->src[4]->ne[1];
    const int32_t n_swa = op->ip[0];
    const lai_cpu_kernels *k = th->k;
    const float scale = op->fp[0], softcap = op->fp[1];
    att_shape s;
    shape_of(op, &s);
    const int64_t hd_k = s.hd_k, hd_v = s.hd_v, G = s.group;
    const int64_t n_kv = LAI_MAX(0, LAI_MIN((int64_t)info[op->ip[2]], n_cells));
    const int32_t *tok_pos = info + 2, *tok_seq = info + 2 + s.n_tok;

    float *kbuf = th->wdata;
    float *vbuf = kbuf + CHUNK * hd_k;
    float *scores = vbuf + CHUNK * hd_v;             /* [query][CHUNK] */
    float *acc = scores + s.max_queries * CHUNK;     /* [query][hd_v] */
    float *run_max = acc + s.max_queries * hd_v;
    float *run_sum = run_max + s.max_queries;
    uint8_t *seen = (uint8_t *)(run_sum + s.max_queries + 64); /* [token][CHUNK] */

    const int64_t n_blocks = (s.n_tok + TOKEN_BLOCK - 1) / TOKEN_BLOCK;
    const int64_t n_units = n_blocks * s.n_head_kv;
    for (int64_t unit = th->ith; unit < n_units; unit += th->nth) {
        const int64_t kh = unit % s.n_head_kv, t0 = (unit / s.n_head_kv) * TOKEN_BLOCK;
        const int64_t nt = LAI_MIN(TOKEN_BLOCK, s.n_tok - t0), nq = nt * G;
        for (int64_t i = 0; i < nq; i++) {
            run_max[i] = -INFINITY;
            run_sum[i] = 0.0f;
        }
        memset(acc, 0, (size_t)(nq * hd_v) * sizeof(float));
        for (int64_t c0 = 0; c0 < n_kv; c0 += CHUNK) {
            const int64_t nc = LAI_MIN(CHUNK, n_kv - c0);
            /* which cells of this chunk each token of the block sees (the causal,
             * sequence and sliding-window rules of LAI_OP_ATTENTION): per sequence, each
             * cell's position if it holds that sequence, else -1 (worked out again only
             * when a token's sequence differs from the one before); then each token
             * compares positions */
            int any = 0;
            int32_t cpos[CHUNK];
            int32_t cpos_seq = 0;
            for (int64_t t = 0; t < nt; t++) {
                const int32_t sq = tok_seq[t0 + t];
                if (t == 0 || sq != cpos_seq) {
                    const int64_t word = sq >= 0 ? 1 + sq / 32 : row_ints; /* a negative sequence sees nothing */
                    const uint32_t bit = sq >= 0 ? 1u << (sq % 32) : 0u;
                    for (int64_t c = 0; c < nc; c++) {
                        const int32_t *row = cells + (size_t)(c0 + c) * (size_t)row_ints;
                        cpos[c] = word < row_ints && ((uint32_t)row[word] & bit) ? row[0] : -1;
                    }
                    cpos_seq = sq;
                }
                const int64_t p = tok_pos[t0 + t], lo = n_swa > 0 ? p - n_swa : -1; /* visible: lo < cp <= p */
                uint8_t *sv = seen + t * CHUNK;
                int hit = 0;
                for (int64_t c = 0; c < nc; c++) {
                    const int vis = cpos[c] >= 0 && cpos[c] <= p && cpos[c] > lo;
                    sv[c] = (uint8_t)vis;
                    hit |= vis;
                }
                any |= hit;
            }
            if (!any) continue;
            size_t kstride, vstride;
            const float *krows = cache_rows(k, kc, kh, hd_k, c0, nc, kbuf, &kstride);
            for (int64_t t = 0; t < nt; t++) {
                const uint8_t *vis = seen + t * CHUNK;
                for (int64_t g = 0; g < G; g++) {
                    const int64_t h = kh * G + g, qi = t * G + g;
                    const float *qr = (const float *)(lai_cpu_data(q) + (size_t)h * q->nb[1] + (size_t)(t0 + t) * q->nb[2]);
                    float *sc = scores + qi * CHUNK;
                    k->dot_rows(qr, krows, kstride, nc, hd_k, sc);
                    /* scaled (and soft-capped) scores, -inf where hidden; the largest
                     * kept in four running maxima, without branches on the mask */
                    float mx4[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
                    if (softcap > 0.0f)
                        for (int64_t c = 0; c < nc; c++) sc[c] = softcap * tanhf(scale * sc[c] / softcap);
                    else
                        for (int64_t c = 0; c < nc; c++) sc[c] *= scale;
                    for (int64_t c = 0; c < nc; c++) {
                        const float v = vis[c] ? sc[c] : -INFINITY;
                        sc[c] = v;
                        mx4[c & 3] = v > mx4[c & 3] ? v : mx4[c & 3];
                    }
                    const float mx = fmaxf(fmaxf(mx4[0], mx4[1]), fmaxf(mx4[2], mx4[3]));
                    /* online softmax: rescale what was summed so far to the new max */
                    const float m_new = fmaxf(run_max[qi], mx);
                    if (m_new == -INFINITY) {
                        for (int64_t c = 0; c < nc; c++) sc[c] = 0.0f;
                        continue;
                    }
                    const float corr = run_max[qi] == -INFINITY ? 0.0f : expf(run_max[qi] - m_new);
                    run_sum[qi] = run_sum[qi] * corr + k->exp_sum(sc, m_new, nc);
                    if (corr != 1.0f) k->scale(acc + qi * hd_v, corr, hd_v);
                    run_max[qi] = m_new;
                }
            }
            const float *vrows = cache_rows(k, vc, kh, hd_v, c0, nc, vbuf, &vstride);
            /* the values, for all queries at once when every token of the block sees the
             * same cells (away from the diagonal), else token by token: a cell hidden
             * from a token must not reach it, even as 0 times a NaN */
            int same = 1;
            for (int64_t t = 1; t < nt && same; t++) same = memcmp(seen, seen + t * CHUNK, (size_t)nc) == 0;
            if (same) k->axpy_rows(scores, CHUNK, nq, vrows, vstride, nc, acc, (size_t)hd_v, hd_v);
            else
                for (int64_t t = 0; t < nt; t++)
                    k->axpy_rows(scores + t * G * CHUNK, CHUNK, G, vrows, vstride, nc, acc + t * G * hd_v, (size_t)hd_v, hd_v);
        }
        for (int64_t t = 0; t < nt; t++)
            for (int64_t g = 0; g < G; g++) {
                const int64_t h = kh * G + g, qi = t * G + g;
                float *out = (float *)(lai_cpu_data(dst) + (size_t)(t0 + t) * dst->nb[1]) + h * hd_v;
                if (run_sum[qi] == 0.0f) { /* every cell masked: no information, output zeros */
                    memset(out, 0, (size_t)hd_v * sizeof(float));
                    continue;
                }
                const float inv = 1.0f / run_sum[qi];
                for (int64_t i = 0; i < hd_v; i++) out[i] = acc[qi * hd_v + i] * inv;
            }
    }
}
