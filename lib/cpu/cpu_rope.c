/* cpu_rope.c - rotary position embedding (normal and NeoX pairing, frequency factors, YaRN). */
#include "cpu_ops.h"

#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* YaRN: the dimension index at which a pair completes n_rot_turns rotations over the
 * original context. */
static float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot_turns, float base) {
    return (float)n_dims * logf((float)n_ctx_orig / (n_rot_turns * 2.0f * (float)M_PI)) /
           (2.0f * logf(base));
}

static float yarn_ramp(float low, float high, int i0) {
    float y = ((float)(i0 / 2) - low) / fmaxf(0.001f, high - low);
    return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

size_t lai_cpu_rope_work_size(const lai_op *op) {
    /* inverse frequencies, then cos and sin of the current token */
    return (size_t)op->ip[0] / 2 * 3 * sizeof(float);
}

void lai_cpu_rope(const lai_op *op, const lai_cpu_thread *th) {
    const lai_tensor *x = op->src[0], *pos = op->src[1], *ff = op->src[2], *dst = op->dst;
    const int n_rot = op->ip[0], neox = op->ip[1], n_ctx_orig = op->ip[2];
    const float freq_base = op->fp[0], freq_scale = op->fp[1], ext_factor = op->fp[2];
    const float attn_factor = op->fp[3], beta_fast = op->fp[4], beta_slow = op->fp[5];
    const int half = n_rot / 2;
    const int64_t head_dim = x->ne[0], n_head = x->ne[1], n_tok = x->ne[2];
    const int32_t *p = (const int32_t *)lai_cpu_data(pos);
    const float *factors = ff != NULL ? (const float *)lai_cpu_data(ff) : NULL;

    float *inv_freq = th->wdata;
    float *cos_t = inv_freq + half;
    float *sin_t = cos_t + half;
    for (int i = 0; i < half; i++) {
        double f = pow((double)freq_base, -2.0 * i / (double)n_rot);
        if (factors != NULL) f /= (double)factors[i];
        inv_freq[i] = (float)f;
    }
    float corr_lo = 0.0f, corr_hi = 0.0f, mscale = attn_factor;
    if (ext_factor != 0.0f) {
        corr_lo = fmaxf(0.0f, floorf(yarn_corr_dim(n_rot, n_ctx_orig, beta_fast, freq_base)));
        corr_hi = fminf((float)(n_rot - 1), ceilf(yarn_corr_dim(n_rot, n_ctx_orig, beta_slow, freq_base)));
        mscale *= 1.0f + 0.1f * logf(1.0f / freq_scale);
    }

    int64_t b, e;
    lai_cpu_split(n_head * n_tok, th, &b, &e);
    int64_t cached_tok = -1;
    for (int64_t r = b; r < e; r++) {
        const int64_t t = r / n_head, h = r % n_head;
        if (t != cached_tok) {
            cached_tok = t;
            for (int i = 0; i < half; i++) {
                float theta_extrap = (float)p[t] * inv_freq[i];
                float theta = freq_scale * theta_extrap;
                if (ext_factor != 0.0f) {
                    float mix = yarn_ramp(corr_lo, corr_hi, 2 * i) * ext_factor;
                    theta = theta * (1.0f - mix) + theta_extrap * mix;
                }
                cos_t[i] = cosf(theta) * mscale;
                sin_t[i] = sinf(theta) * mscale;
            }
        }
        const float *in = (const float *)(lai_cpu_data(x) + (size_t)h * x->nb[1] + (size_t)t * x->nb[2]);
        float *out = (float *)(lai_cpu_data(dst) + (size_t)h * dst->nb[1] + (size_t)t * dst->nb[2]);
        for (int i = 0; i < half; i++) {
            const int i0 = neox ? i : 2 * i;
            const int i1 = neox ? i + half : 2 * i + 1;
            const float x0 = in[i0], x1 = in[i1];
            out[i0] = x0 * cos_t[i] - x1 * sin_t[i];
            out[i1] = x0 * sin_t[i] + x1 * cos_t[i];
        }
        for (int64_t i = n_rot; i < head_dim; i++) out[i] = in[i];
    }
}
