#version 450
// matmul.comp - dst[n, m] = sum_k W[k, n] x[k, m], W in its block format (one variant per type).
// One workgroup per (n, m); its invocations take whole blocks of the row in turn, and their
// sums meet in workgroup memory (the portable tier) or, built with -DSUBGROUP (matmul_sg_*,
// the subgroup tier), through subgroupAdd first.
// pc.ne: K, N, M1, M2 (x is [K, M1, M2]); pc.nb[0] W's row stride, [1..2] x's nb1..2,
// [3..4] dst's nb1..2. Workgroups are numbered n fastest.
layout(local_size_x = 64) in;
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common.glsl"
#include "dequant.glsl"
shared float partial[64];

void main() {
    uint g = group_id();
    if (g >= pc.n) return;
    uint n = g % pc.ne[1], m = g / pc.ne[1];
    uint m1 = m % pc.ne[2], m2 = m / pc.ne[2];
    uint row = pc.off[1] + n * pc.nb[0];
    uint x = (pc.off[2] + m1 * pc.nb[1] + m2 * pc.nb[2]) / 4u;
    uint t = gl_LocalInvocationID.x;
    float s = 0.0;
    uint nblocks = pc.ne[0] / BLOCK;
    for (uint b = t; b < nblocks; b += 64u) {
        uint blk = row + b * BLOCK_BYTES, xb = x + b * BLOCK;
        for (uint j = 0u; j < BLOCK; j++) s = fma(dq1(blk, j), src1_f[xb + j], s);
    }
#ifdef SUBGROUP
    // the subgroup tier: each subgroup sums in registers, then one value per subgroup
    s = subgroupAdd(s);
    if (subgroupElect()) partial[gl_SubgroupID] = s;
    barrier();
    if (t == 0u) {
        float total = 0.0;
        for (uint i = 0u; i < gl_NumSubgroups; i++) total += partial[i];
        dst_f[(pc.off[0] + m1 * pc.nb[3] + m2 * pc.nb[4]) / 4u + n] = total;
    }
#else
    partial[t] = s;
    barrier();
    [[unroll]] for (uint w = 32u; w > 0u; w >>= 1) {
        if (t < w) partial[t] += partial[t + w];
        barrier();
    }
    if (t == 0u) dst_f[(pc.off[0] + m1 * pc.nb[3] + m2 * pc.nb[4]) / 4u + n] = partial[0];
#endif
}
