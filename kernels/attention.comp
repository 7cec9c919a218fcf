#version 450
// attention.comp - LAI_OP_ATTENTION (lib/compute/graph.h): one workgroup per (query head, token),
// online softmax over the visible cells in chunks of 64, the visibility worked out here from
// the run-time data (src3: lengths, positions, sequences; src4: the cell table), so a
// recorded command buffer serves every step. K and V rows are f16 (pc.aux bit 0 / bit 1 set)
// or f32. Hidden cells never reach the sum, not even as 0 times a NaN.
// pc.ne: hd_k, n_head, n_tok, hd_v; pc.nb[0..1] q's nb1..2; [2] K's nb1, [3] V's nb1,
// [4] dst's nb1, [5] cell table row ints, [6] n_cells; ip: n_swa, n_head_kv, which length;
// fp: scale, softcap.
layout(local_size_x = 64) in;
#include "common.glsl"

#define MAX_DV 8u // head_dim_v up to 512
shared float w_sh[64];
shared float red[64];
shared float q_sh[512];

float kv_elem(uint base_word_addr_bytes, uint i, bool f16, uint which) {
    // which: 0 K (binding 2), 1 V (binding 3)
    if (f16) {
        uint a = base_word_addr_bytes + i * 2u;
        uint word = which == 0u ? src1_u[a >> 2] : src2_u[a >> 2];
        return half_bits((a & 2u) != 0u ? word >> 16 : word & 0xffffu);
    }
    uint a = base_word_addr_bytes / 4u + i;
    return which == 0u ? src1_f[a] : src2_f[a];
}

float reduce_max(float v) {
    uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier();
    [[unroll]] for (uint w = 32u; w > 0u; w >>= 1) {
        if (t < w) red[t] = max(red[t], red[t + w]);
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

float reduce_sum(float v) {
    uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier();
    [[unroll]] for (uint w = 32u; w > 0u; w >>= 1) {
        if (t < w) red[t] += red[t + w];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

void main() {
    uint g = group_id();
    if (g >= pc.n) return;
    uint hd_k = pc.ne[0], n_head = pc.ne[1], n_tok = pc.ne[2], hd_v = pc.ne[3];
    uint h = g % n_head, tok = g / n_head;
    uint t = gl_LocalInvocationID.x;
    uint n_head_kv = uint(pc.ip[1]);
    uint kh = h / (n_head / n_head_kv);
    bool k16 = (pc.aux & 1u) != 0u, v16 = (pc.aux & 2u) != 0u;
    uint row_ints = pc.nb[5], n_cells = pc.nb[6];
    uint info = pc.off[4] / 4u, cells = pc.off[5] / 4u;
    int len = int(src3_u[info + uint(pc.ip[2])]);
    uint n_kv = uint(clamp(len, 0, int(n_cells)));
    int pos = int(src3_u[info + 2u + tok]);
    int seq = int(src3_u[info + 2u + n_tok + tok]);
    int lo = pc.ip[0] > 0 ? pos - pc.ip[0] : -1;
    uint word = seq >= 0 ? 1u + uint(seq) / 32u : row_ints;
    uint bit = seq >= 0 ? 1u << (uint(seq) % 32u) : 0u;

    uint qa = (pc.off[1] + h * pc.nb[0] + tok * pc.nb[1]) / 4u;
    for (uint i = t; i < hd_k; i += 64u) q_sh[i] = src0_f[qa + i];
    barrier();

    uint kbase = pc.off[2] + (kh * hd_k) * (k16 ? 2u : 4u);
    uint vbase = pc.off[3] + (kh * hd_v) * (v16 ? 2u : 4u);
    float m = -1.0 / 0.0, l = 0.0;
    float acc[MAX_DV];
    [[unroll]] for (uint d = 0u; d < MAX_DV; d++) acc[d] = 0.0;

    for (uint c0 = 0u; c0 < n_kv; c0 += 64u) {
        uint c = c0 + t;
        float s = -1.0 / 0.0;
        if (c < n_kv) {
            uint row = cells + c * row_ints;
            int cp = word < row_ints && (src4_u[row + word] & bit) != 0u ? int(src4_u[row]) : -1;
            if (cp >= 0 && cp <= pos && cp > lo) {
                uint kr = kbase + c * pc.nb[2];
                float dot_ = 0.0;
                for (uint i = 0u; i < hd_k; i++) dot_ = fma(q_sh[i], kv_elem(kr, i, k16, 0u), dot_);
                s = pc.fp[0] * dot_;
                if (pc.fp[1] > 0.0) s = pc.fp[1] * lai_tanh(s / pc.fp[1]);
            }
        }
        float mx = reduce_max(s);
        float m_new = max(m, mx);
        if (m_new == -1.0 / 0.0) continue; // nothing visible yet: uniform across the group
        float corr = m == -1.0 / 0.0 ? 0.0 : exp(m - m_new);
        float w = s == -1.0 / 0.0 ? 0.0 : exp(s - m_new);
        w_sh[t] = w;
        l = l * corr + reduce_sum(w); // reduce_sum's barriers also publish w_sh
        uint nc = min(64u, n_kv - c0);
        [[unroll]] for (uint d = 0u; d < MAX_DV; d++) {
            uint dim = t + 64u * d;
            if (dim >= hd_v) break;
            float a = acc[d] * corr;
            for (uint j = 0u; j < nc; j++) {
                float wj = w_sh[j];
                if (wj != 0.0) a = fma(wj, kv_elem(vbase + (c0 + j) * pc.nb[3], dim, v16, 1u), a);
            }
            acc[d] = a;
        }
        m = m_new;
        barrier(); // w_sh is rewritten by the next chunk
    }
    uint o = (pc.off[0] + tok * pc.nb[4]) / 4u + h * hd_v;
    [[unroll]] for (uint d = 0u; d < MAX_DV; d++) {
        uint dim = t + 64u * d;
        if (dim >= hd_v) break;
        dst_f[o + dim] = l == 0.0 ? 0.0 : acc[d] / l;
    }
}
