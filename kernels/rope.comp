#version 450
// rope.comp - rotary position embedding of x [head_dim, n_head, n_tok] at positions src1 (I32),
// frequencies divided by src2's factors when pc.aux = 1; normal (2i, 2i+1) or NeoX (i, i + n_rot/2)
// pairs, YaRN ramp when ext_factor != 0 (the CPU's lai_cpu_rope, term by term). One invocation
// per pair or per dimension past n_rot (copied). pc.ne: head_dim, n_head, n_tok;
// pc.nb[0..1] x's nb1..2, [2..3] dst's; ip: n_rot, neox, n_ctx_orig; fp: freq_base,
// freq_scale, ext_factor, attn_factor, beta_fast, beta_slow.
layout(local_size_x = 256) in;
#include "common.glsl"

const float PI = 3.14159265358979323846;

float yarn_corr_dim(float n_dims, float n_ctx_orig, float n_rot_turns, float base) {
    return n_dims * log(n_ctx_orig / (n_rot_turns * 2.0 * PI)) / (2.0 * log(base));
}

void main() {
    uint e = global_id();
    if (e >= pc.n) return;
    int n_rot = pc.ip[0], half_ = n_rot / 2;
    // items per (head, token): the pairs, then the dims past n_rot
    uint per = uint(half_) + (pc.ne[0] - uint(n_rot));
    uint k = e % per, ht = e / per;
    uint h = ht % pc.ne[1], tok = ht / pc.ne[1];
    uint xi = (pc.off[1] + h * pc.nb[0] + tok * pc.nb[1]) / 4u;
    uint oi = (pc.off[0] + h * pc.nb[2] + tok * pc.nb[3]) / 4u;
    if (k >= uint(half_)) {
        uint d = uint(n_rot) + (k - uint(half_));
        dst_f[oi + d] = src0_f[xi + d];
        return;
    }
    int i = int(k);
    float freq_base = pc.fp[0], freq_scale = pc.fp[1], ext_factor = pc.fp[2];
    float inv_freq = exp2(log2(freq_base) * (-2.0 * float(i) / float(n_rot)));
    if (pc.aux != 0u) inv_freq /= src2_f[pc.off[3] / 4u + uint(i)];
    int pos = int(src1_u[pc.off[2] / 4u + tok]);
    float theta_extrap = float(pos) * inv_freq;
    float theta = freq_scale * theta_extrap;
    float mscale = pc.fp[3];
    if (ext_factor != 0.0) {
        float lo = max(0.0, floor(yarn_corr_dim(float(n_rot), float(pc.ip[2]), pc.fp[4], freq_base)));
        float hi = min(float(n_rot - 1), ceil(yarn_corr_dim(float(n_rot), float(pc.ip[2]), pc.fp[5], freq_base)));
        float y = (float(i) - lo) / max(0.001, hi - lo);
        float mix_ = (1.0 - min(1.0, max(0.0, y))) * ext_factor;
        theta = theta * (1.0 - mix_) + theta_extrap * mix_;
        mscale *= 1.0 + 0.1 * log(1.0 / freq_scale);
    }
    vec2 sc = lai_sincos(theta);
    float c = sc.y * mscale, s = sc.x * mscale;
    uint i0 = pc.ip[1] != 0 ? uint(i) : uint(2 * i);
    uint i1 = pc.ip[1] != 0 ? uint(i + half_) : uint(2 * i + 1);
    float x0 = src0_f[xi + i0], x1 = src0_f[xi + i1];
    dst_f[oi + i0] = x0 * c - x1 * s;
    dst_f[oi + i1] = x0 * s + x1 * c;
}
