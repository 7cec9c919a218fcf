#version 450
// kv_store.comp - row t of src0 (f32, row_len contiguous floats from t * token stride) to row
// slots[t] of the KV cache dst, as f16 (rounded to nearest even, as the CPU) when pc.aux = 1,
// else f32. One invocation per 32-bit word of a cache row: two f16 elements (row_len is
// even for an f16 cache: the backend checks) or one f32. pc.ne[0]: row_len, ne[1]: n_tok,
// ne[2]: cache cells; pc.nb[0]: the token stride of src0, nb[1]: the cache's nb1.
layout(local_size_x = 256) in;
#include "common.glsl"

void main() {
    uint e = global_id();
    if (e >= pc.n) return;
    uint words = pc.aux != 0u ? pc.ne[0] / 2u : pc.ne[0];
    uint w = e % words, t = e / words;
    int slot = int(src1_u[pc.off[2] / 4u + t]);
    if (slot < 0 || uint(slot) >= pc.ne[2]) return; // host-validated; stay in bounds
    uint s = (pc.off[1] + t * pc.nb[0]) / 4u;
    uint o = (pc.off[0] + uint(slot) * pc.nb[1]) / 4u + w;
    if (pc.aux != 0u)
        dst_u[o] = f32_to_f16_rte(src0_f[s + 2u * w]) | (f32_to_f16_rte(src0_f[s + 2u * w + 1u]) << 16);
    else
        dst_f[o] = src0_f[s + w];
}
