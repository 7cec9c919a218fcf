#version 450
// rms_norm.comp - x / sqrt(mean(x^2) + eps) per row, times the weight row src1 when pc.aux = 1.
// One workgroup per row. pc.ne: x's shape; pc.nb[0..2] x's nb1..3, [3..5] dst's; fp[0] eps.
// The whole row is summed before any of it is written, so dst may be x's memory.
layout(local_size_x = 256) in;
#include "common.glsl"
shared float partial[256];

void main() {
    uint r = group_id();
    if (r >= pc.n) return;
    uint i1 = r % pc.ne[1], i2 = (r / pc.ne[1]) % pc.ne[2], i3 = r / (pc.ne[1] * pc.ne[2]);
    uint a = (pc.off[1] + i1 * pc.nb[0] + i2 * pc.nb[1] + i3 * pc.nb[2]) / 4u;
    uint o = (pc.off[0] + i1 * pc.nb[3] + i2 * pc.nb[4] + i3 * pc.nb[5]) / 4u;
    uint t = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint i = t; i < pc.ne[0]; i += 256u) {
        float v = src0_f[a + i];
        s = fma(v, v, s);
    }
    partial[t] = s;
    barrier();
    [[unroll]] for (uint w = 128u; w > 0u; w >>= 1) {
        if (t < w) partial[t] += partial[t + w];
        barrier();
    }
    float scale = 1.0 / sqrt(partial[0] / float(pc.ne[0]) + pc.fp[0]);
    barrier(); // every invocation has its scale before any row element is overwritten
    uint wo = pc.off[2] / 4u;
    for (uint i = t; i < pc.ne[0]; i += 256u) {
        float v = src0_f[a + i] * scale;
        dst_f[o + i] = pc.aux != 0u ? v * src1_f[wo + i] : v;
    }
}
