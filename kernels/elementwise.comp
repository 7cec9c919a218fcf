#version 450
// elementwise.comp - ADD, MUL (src1 the same shape or one broadcast row), SCALE, SOFTCAP, SWIGLU, GEGLU.
// pc.aux: 0 add, 1 mul, 2 scale, 3 softcap, 4 swiglu, 5 geglu. pc.ne: src0's shape.
// pc.nb[0..2]: src0's nb1..3, [3..5] src1's (all 0 when it is one broadcast row), [6..8]
// dst's. Each element is read before it is written, so dst may be src0's or src1's memory.
layout(local_size_x = 256) in;
#include "common.glsl"

void main() {
    uint e = global_id();
    if (e >= pc.n) return;
    uint i0 = e % pc.ne[0], r = e / pc.ne[0];
    uint i1 = r % pc.ne[1], i2 = (r / pc.ne[1]) % pc.ne[2], i3 = r / (pc.ne[1] * pc.ne[2]);
    uint a = (pc.off[1] + i1 * pc.nb[0] + i2 * pc.nb[1] + i3 * pc.nb[2]) / 4u + i0;
    uint o = (pc.off[0] + i1 * pc.nb[6] + i2 * pc.nb[7] + i3 * pc.nb[8]) / 4u + i0;
    float x = src0_f[a], y = 0.0;
    if (pc.aux == 0u || pc.aux == 1u || pc.aux >= 4u)
        y = src1_f[(pc.off[2] + i1 * pc.nb[3] + i2 * pc.nb[4] + i3 * pc.nb[5]) / 4u + i0];
    float v;
    switch (pc.aux) {
    case 0u: v = x + y; break;
    case 1u: v = x * y; break;
    case 2u: v = x * pc.fp[0]; break;
    case 3u: v = pc.fp[0] * lai_tanh(x / pc.fp[0]); break;
    case 4u: v = x / (1.0 + exp(-x)) * y; break;
    default: {
        // gelu, tanh approximation, as the CPU's gelu_mul
        float t = lai_tanh(0.7978845608028654 * x * (1.0 + 0.044715 * x * x));
        v = 0.5 * x * (1.0 + t) * y;
    }
    }
    dst_f[o] = v;
}
