/* cpu_attention.c - scaled dot-product attention of a batch's queries over the KV cache. */
#include "cpu_ops.h"

#include <math.h>

size_t lai_cpu_attention_work_size(const lai_op *op) {
    const lai_tensor *v = op->src[2];
    const int64_t head_dim_v = v->ne[0] / op->ip[1];
    /* scores for n_kv cells, a float copy of one K/V row, and the output accumulator */
    const int64_t head_dim_k = op->src[0]->ne[0];
    return ((size_t)op->ip[0] + (size_t)LAI_MAX(head_dim_k, head_dim_v) + (size_t)head_dim_v) *
           sizeof(float);
}

void lai_cpu_attention(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *q = op->src[0], *k = op->src[1], *v = op->src[2], *mask = op->src[3];
    const lai_tensor *dst = op->dst;
    const int32_t n_kv = op->ip[0], n_head_kv = op->ip[1];
    const float scale = op->fp[0], softcap = op->fp[1];
    const int64_t head_dim_k = q->ne[0], n_head = q->ne[1], n_tok = q->ne[2];
    const int64_t head_dim_v = v->ne[0] / n_head_kv;
    const int64_t group = n_head / n_head_kv;
    const int k_f16 = k->type == LAI_TYPE_F16, v_f16 = v->type == LAI_TYPE_F16;

    float *scores = th->wdata;
    float *row = scores + n_kv;
    float *acc = row + LAI_MAX(head_dim_k, head_dim_v);

    int64_t b, e;
    lai_cpu_split(n_head * n_tok, th, &b, &e);
    for (int64_t r = b; r < e; r++) {
        const int64_t t = r / n_head, h = r % n_head, kh = h / group;
        const float *qr = (const float *)(lai_cpu_data(q) + (size_t)h * q->nb[1] + (size_t)t * q->nb[2]);
        const float *mr = (const float *)(lai_cpu_data(mask) + (size_t)t * mask->nb[1]);
        const uint8_t *kbase = lai_cpu_data(k) + (size_t)(kh * head_dim_k) * k->nb[0];
        const uint8_t *vbase = lai_cpu_data(v) + (size_t)(kh * head_dim_v) * v->nb[0];

        float max = -INFINITY;
        for (int32_t c = 0; c < n_kv; c++) {
            if (mr[c] == -INFINITY) {
                scores[c] = -INFINITY;
                continue;
            }
            const uint8_t *kr = kbase + (size_t)c * k->nb[1];
            float s;
            if (k_f16) {
                const uint16_t *kh16 = (const uint16_t *)kr;
                for (int64_t i = 0; i < head_dim_k; i++) row[i] = lai_cpu_f16(kh16[i]);
                s = lai_cpu_dot_f32(qr, row, head_dim_k);
            } else {
                s = lai_cpu_dot_f32(qr, (const float *)kr, head_dim_k);
            }
            s *= scale;
            if (softcap > 0.0f) s = softcap * tanhf(s / softcap);
            s += mr[c];
            scores[c] = s;
            if (s > max) max = s;
        }
        float *out = (float *)(lai_cpu_data(dst) + (size_t)t * dst->nb[1]) + h * head_dim_v;
        if (max == -INFINITY) { /* every cell masked: no information, output zeros */
            memset(out, 0, (size_t)head_dim_v * sizeof(float));
            continue;
        }
        double sum = 0.0;
        memset(acc, 0, (size_t)head_dim_v * sizeof(float));
        for (int32_t c = 0; c < n_kv; c++) {
            if (scores[c] == -INFINITY) continue;
            const float p = expf(scores[c] - max);
            sum += p;
            const uint8_t *vr = vbase + (size_t)c * v->nb[1];
            if (v_f16) {
                const uint16_t *vh16 = (const uint16_t *)vr;
                for (int64_t i = 0; i < head_dim_v; i++) acc[i] += p * lai_cpu_f16(vh16[i]);
            } else {
                const float *vf = (const float *)vr;
                for (int64_t i = 0; i < head_dim_v; i++) acc[i] += p * vf[i];
            }
        }
        const float inv = (float)(1.0 / sum);
        for (int64_t i = 0; i < head_dim_v; i++) out[i] = acc[i] * inv;
    }
}
