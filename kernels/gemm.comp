#version 450
// gemm.comp - dst[n, m] = sum_k W[k, n] x[k, m] for prompts (several columns of x): each
// workgroup computes an 8 x 8 tile (8 weight rows, 8 columns of x), staging 32 values of k
// at a time in workgroup memory, so every weight is dequantized once per tile and read by
// 8 columns, every activation read by 8 rows. One variant per weight type. Push constants
// as matmul.comp's (pc.ne: K, N, M1, M2; pc.nb[0] W's row stride, [1..2] x's nb1..2,
// [3..4] dst's nb1..2); workgroups numbered by tile, n fastest.
layout(local_size_x = 64) in;
#include "common.glsl"
#include "dequant.glsl"

#define TILE 8u
#define KC 32u
shared float ws[TILE][KC + 1u];
shared float xs[TILE][KC + 1u];

uint x_row(uint m) { // word address of column m of x
    uint m1 = m % pc.ne[2], m2 = m / pc.ne[2];
    return (pc.off[2] + m1 * pc.nb[1] + m2 * pc.nb[2]) / 4u;
}

void main() {
    uint g = group_id();
    if (g >= pc.n) return;
    uint K = pc.ne[0], N = pc.ne[1], M = pc.ne[2] * pc.ne[3];
    uint tiles_n = (N + TILE - 1u) / TILE;
    uint n0 = (g % tiles_n) * TILE, m0 = (g / tiles_n) * TILE;
    uint t = gl_LocalInvocationID.x, i = t % TILE, j = t / TILE;
    float acc = 0.0;
    for (uint k0 = 0u; k0 < K; k0 += KC) {
        // 256 weights and 256 activations of this slice, four of each per invocation
        [[unroll]] for (uint r = 0u; r < 4u; r++) {
            uint idx = t + 64u * r, rr = idx / KC, kk = idx % KC, k = k0 + kk;
            uint n = n0 + rr, m = m0 + rr;
            ws[rr][kk] = n < N && k < K ? dq_elem(pc.off[1] + n * pc.nb[0], k) : 0.0;
            xs[rr][kk] = m < M && k < K ? src1_f[x_row(m) + k] : 0.0;
        }
        barrier();
        [[unroll]] for (uint kk = 0u; kk < KC; kk++) acc = fma(ws[i][kk], xs[j][kk], acc);
        barrier();
    }
    uint n = n0 + i, m = m0 + j;
    if (n < N && m < M) {
        uint m1 = m % pc.ne[2], m2 = m / pc.ne[2];
        dst_f[(pc.off[0] + m1 * pc.nb[3] + m2 * pc.nb[4]) / 4u + n] = acc;
    }
}
