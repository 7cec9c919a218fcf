/* cpu_kernels_neon.c - the AArch64 NEON level: ARMv8.0 NEON everywhere, SDOT (dotprod) integer dots and GEMM tiles of 4 columns where the CPU has it. */
#ifndef LAI_NEON_INT_PASS /* ---- the file proper (the integer kernels are at the end) ---- */
#include "cpu_kernels.h"

#include "../base/platform.h"

/* Little-endian only: the kernels read 16- and 32-bit block fields as bytes in memory order. */
#if defined(__aarch64__) && !defined(__AARCH64EB__) && (defined(__GNUC__) || defined(__clang__))

#include <arm_neon.h>
#include <math.h>

#include "../quant/blocks.h"
#include "cpu_ops.h"
#include "cpu_vecdot.h"

/*
 * Everything here is ARMv8.0-A Advanced SIMD, which every AArch64 CPU has, except the
 * integer dot products: they come twice from the same source text (the integer pass at the
 * end of this file, included twice), once with SMULL/SADALP and once compiled for
 * ARMv8.2 dotprod with SDOT, and the table takes the SDOT ones only when the CPU reports
 * dotprod at run time. The file itself builds for plain armv8-a.
 */

/* ---- activation rounding (the same bytes as lai_quantize_act_q8 / _q8k) ---------- */

static inline float f16_round(float x) { return lai_cpu_f16(lai_f32_to_f16(x)); }

/* Four int32 vectors to 16 bytes, truncating as the reference's (int8_t) casts do. */
static inline int8x16_t narrow_4x(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    return vcombine_s8(vmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))),
                       vmovn_s16(vcombine_s16(vmovn_s32(c), vmovn_s32(d))));
}

static void quantize_q8(const float *x, void *out, int64_t n) {
    lai_act_q8 *a = out;
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        float32x4_t v[8];
        /* fmaxf from 0 as the reference: NaNs are ignored (vmaxnm), not propagated */
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int i = 0; i < 8; i++) {
            v[i] = vld1q_f32(x + 4 * i);
            m = vmaxnmq_f32(m, vabsq_f32(v[i]));
        }
        const float amax = vmaxnmvq_f32(m);
        const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int32x4_t q[8], sum = vdupq_n_s32(0);
        for (int i = 0; i < 8; i++) { /* x * id, then to nearest, ties to even: lrintf */
            q[i] = vcvtnq_s32_f32(vmulq_n_f32(v[i], id));
            sum = vaddq_s32(sum, q[i]);
        }
        vst1q_s8(a[b].qs, narrow_4x(q[0], q[1], q[2], q[3]));
        vst1q_s8(a[b].qs + 16, narrow_4x(q[4], q[5], q[6], q[7]));
        const int32_t s = vaddvq_s32(sum);
        a[b].d = f16_round(d);
        a[b].s = f16_round(d * (float)s);
        a[b].sum = s;
        a[b].unused = 0;
    }
}

static void quantize_q8k(const float *x, void *out, int64_t n) {
    lai_act_q8k *a = out;
    for (int64_t b = 0; b < n / 256; b++, x += 256) {
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int i = 0; i < 64; i++) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + 4 * i)));
        const float amax = vmaxnmvq_f32(m);
        if (amax == 0.0f) {
            memset(&a[b], 0, sizeof a[b]);
            continue;
        }
        /* the signed value of the first element of largest magnitude, as the reference */
        const float32x4_t va = vdupq_n_f32(amax);
        int j = 0;
        while (j < 252 && vmaxvq_u32(vceqq_f32(vabsq_f32(vld1q_f32(x + j)), va)) == 0) j += 4;
        while (j < 255 && fabsf(x[j]) != amax) j++;
        const float iscale = -127.0f / x[j];
        const int32x4_t top = vdupq_n_s32(127);
        for (int g = 0; g < 16; g++) {
            int32x4_t q[4];
            for (int i = 0; i < 4; i++)
                q[i] = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 16 * g + 4 * i), iscale)), top);
            vst1q_s8(a[b].qs + 16 * g, narrow_4x(q[0], q[1], q[2], q[3]));
            a[b].bsums[g] = (int16_t)vaddvq_s32(vaddq_s32(vaddq_s32(q[0], q[1]), vaddq_s32(q[2], q[3])));
        }
        a[b].d = 1.0f / iscale;
        memset(a[b].unused, 0, sizeof a[b].unused);
    }
}

/* ---- weight bytes shared by the dots and the GEMM unpacking ------------------------ */

static inline int8x16_t s8(uint8x16_t v) { return vreinterpretq_s8_u8(v); }

/* The fifth bits of a Q5_0 / Q5_1 block (qh, a little-endian 32-bit word: bit j belongs to
 * element j) as 0x10 bytes: *lo for elements 0..15, *hi for 16..31. */
static inline void q5_high_bits(const uint8_t *qh, uint8x16_t *lo, uint8x16_t *hi) {
    static const uint8_t idx_lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t idx_hi[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint32_t h;
    memcpy(&h, qh, sizeof h);
    const uint8x16_t hv = vreinterpretq_u8_u32(vdupq_n_u32(h)), bits = vld1q_u8(bit), m = vdupq_n_u8(0x10);
    *lo = vandq_u8(vtstq_u8(vqtbl1q_u8(hv, vld1q_u8(idx_lo)), bits), m);
    *hi = vandq_u8(vtstq_u8(vqtbl1q_u8(hv, vld1q_u8(idx_hi)), bits), m);
}

/* Scales and mins (6 bits each) of the eight sub-blocks of a Q4_K / Q5_K block. */
static inline void k4_scales(const uint8_t *s, uint8_t sc[8], uint8_t m[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = s[j] & 63;
        m[j] = s[j + 4] & 63;
        sc[j + 4] = (uint8_t)((s[j + 8] & 0x0f) | ((s[j] >> 6) << 4));
        m[j + 4] = (uint8_t)((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
}

/* The signed scales of the sixteen sub-blocks of a Q3_K block. */
static inline void k3_scales(const uint8_t *s, int8_t sc[16]) {
    for (int j = 0; j < 16; j++) {
        const int low = j < 8 ? s[j] & 0x0f : s[j - 8] >> 4;
        const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (int8_t)((low | (high << 4)) - 32);
    }
}

/* The 6-bit scale (less 32) of sub-block s of an IQ4_XS block. */
static inline int iq4_xs_scale(const lai_block_iq4_xs *b, int s) {
    return (((b->scales_l[s / 2] >> (4 * (s % 2))) & 0x0f) | (((b->scales_h >> (2 * s)) & 3) << 4)) - 32;
}

/* Q6_K bytes (0..63) of one half (128 elements): u[0..7], 16 consecutive elements each. */
static inline void q6_K_half(const uint8_t *ql, const uint8_t *qh, uint8x16_t u[8]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m3 = vdupq_n_u8(3);
    const uint8x16_t l0 = vld1q_u8(ql), l1 = vld1q_u8(ql + 16), l2 = vld1q_u8(ql + 32), l3 = vld1q_u8(ql + 48);
    const uint8x16_t h0 = vld1q_u8(qh), h1 = vld1q_u8(qh + 16);
    u[0] = vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(h0, m3), 4));
    u[1] = vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(h1, m3), 4));
    u[2] = vorrq_u8(vandq_u8(l2, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 2), m3), 4));
    u[3] = vorrq_u8(vandq_u8(l3, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 2), m3), 4));
    u[4] = vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 4), m3), 4));
    u[5] = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 4), m3), 4));
    u[6] = vorrq_u8(vshrq_n_u8(l2, 4), vshlq_n_u8(vshrq_n_u8(h0, 6), 4));
    u[7] = vorrq_u8(vshrq_n_u8(l3, 4), vshlq_n_u8(vshrq_n_u8(h1, 6), 4));
}

/* ---- float rows ------------------------------------------------------------------- */

static float dot_f32(const float *a, const float *b, int64_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static inline float32x4_t load_f16_lo(const uint16_t *h) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h))); }

static inline float32x4_t load_bf16_lo(const uint16_t *h) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(h), 16)); }

static float dot_f16(const uint16_t *w, const float *x, int64_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const float16x8_t h0 = vreinterpretq_f16_u16(vld1q_u16(w + i)), h1 = vreinterpretq_f16_u16(vld1q_u16(w + i + 8));
        s0 = vfmaq_f32(s0, vcvt_f32_f16(vget_low_f16(h0)), vld1q_f32(x + i));
        s1 = vfmaq_f32(s1, vcvt_high_f32_f16(h0), vld1q_f32(x + i + 4));
        s2 = vfmaq_f32(s2, vcvt_f32_f16(vget_low_f16(h1)), vld1q_f32(x + i + 8));
        s3 = vfmaq_f32(s3, vcvt_high_f32_f16(h1), vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, load_f16_lo(w + i), vld1q_f32(x + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++) sum += lai_cpu_f16(w[i]) * x[i];
    return sum;
}

static float dot_bf16(const uint16_t *w, const float *x, int64_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint16x8_t h0 = vld1q_u16(w + i), h1 = vld1q_u16(w + i + 8);
        s0 = vfmaq_f32(s0, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h0), 16)), vld1q_f32(x + i));
        s1 = vfmaq_f32(s1, vreinterpretq_f32_u32(vshll_high_n_u16(h0, 16)), vld1q_f32(x + i + 4));
        s2 = vfmaq_f32(s2, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h1), 16)), vld1q_f32(x + i + 8));
        s3 = vfmaq_f32(s3, vreinterpretq_f32_u32(vshll_high_n_u16(h1, 16)), vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, load_bf16_lo(w + i), vld1q_f32(x + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++) {
        const uint32_t u = (uint32_t)w[i] << 16;
        float f;
        memcpy(&f, &u, sizeof f);
        sum += f * x[i];
    }
    return sum;
}

/* FCVTL quiets a signalling NaN; the reference keeps every NaN's payload as it is. */
static inline float32x4_t f16_nan_exact(uint16x4_t h, float32x4_t converted) {
    const uint32x4_t w = vmovl_u16(h);
    const uint32x4_t is_nan = vcgtq_u32(vandq_u32(w, vdupq_n_u32(0x7fff)), vdupq_n_u32(0x7c00));
    const uint32x4_t bits = vorrq_u32(vorrq_u32(vshlq_n_u32(vandq_u32(w, vdupq_n_u32(0x8000)), 16), vdupq_n_u32(0x7f800000)),
                                      vshlq_n_u32(vandq_u32(w, vdupq_n_u32(0x3ff)), 13));
    return vbslq_f32(is_nan, vreinterpretq_f32_u32(bits), converted);
}

static void f16_to_f32(const uint16_t *h, float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t v = vld1q_u16(h + i);
        const float16x8_t f = vreinterpretq_f16_u16(v);
        vst1q_f32(x + i, f16_nan_exact(vget_low_u16(v), vcvt_f32_f16(vget_low_f16(f))));
        vst1q_f32(x + i + 4, f16_nan_exact(vget_high_u16(v), vcvt_high_f32_f16(f)));
    }
    for (; i < n; i++) x[i] = lai_cpu_f16(h[i]);
}

/* FCVTN rounds to nearest even (FPCR's default mode, which no code here changes) and
 * turns NaNs into quiet NaNs with the top payload bits: lai_f32_to_f16, bit for bit. */
static void f32_to_f16(const float *x, uint16_t *h, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t f = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(x + i)), vld1q_f32(x + i + 4));
        vst1q_u16(h + i, vreinterpretq_u16_f16(f));
    }
    for (; i < n; i++) h[i] = lai_f32_to_f16(x[i]);
}

/* e^x for 4 floats: 2^n * p(r), r = x - n ln 2 in [-ln2/2, ln2/2], p Cephes' degree-7 fit
 * (about 1 ulp); 2^n applied as two normal powers of two so results down to float's
 * subnormals come out right; saturates to 0 and +inf outside float range like expf. */
static inline float32x4_t exp_ps(float32x4_t x) {
    x = vmaxq_f32(vminq_f32(x, vdupq_n_f32(88.7228f)), vdupq_n_f32(-103.97f));
    const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500E-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507E-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073E-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894E-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459E-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201E-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    const int32x4_t ni = vcvtq_s32_f32(n), n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1); /* each in [-75, 64] */
    const int32x4_t bias = vdupq_n_s32(127);
    const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, bias), 23));
    const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, bias), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

static void silu_mul(const float *g, const float *u, float *out, int64_t n) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t x = vld1q_f32(g + i);
        const float32x4_t s = vdivq_f32(x, vaddq_f32(one, exp_ps(vnegq_f32(x))));
        vst1q_f32(out + i, vmulq_f32(s, vld1q_f32(u + i)));
    }
    for (; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void gelu_mul(const float *g, const float *u, float *out, int64_t n) {
    const float32x4_t k = vdupq_n_f32(0.7978845608028654f), c = vdupq_n_f32(0.044715f);
    const float32x4_t one = vdupq_n_f32(1.0f), half = vdupq_n_f32(0.5f), two = vdupq_n_f32(2.0f);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t x = vld1q_f32(g + i);
        const float32x4_t z = vmulq_f32(vmulq_f32(k, x), vfmaq_f32(one, vmulq_f32(c, x), x));
        /* tanh z = 1 - 2 / (e^2z + 1) */
        const float32x4_t t = vsubq_f32(one, vdivq_f32(two, vaddq_f32(exp_ps(vmulq_f32(two, z)), one)));
        vst1q_f32(out + i, vmulq_f32(vmulq_f32(vmulq_f32(half, x), vaddq_f32(one, t)), vld1q_f32(u + i)));
    }
    lai_cpu_kernels_scalar()->gelu_mul(g + i, u + i, out + i, n - i);
}

static float sum_sq(const float *x, int64_t n) {
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) { /* float squares are exact in double: fused or not, the same */
        const float32x4_t v = vld1q_f32(x + i);
        const float64x2_t lo = vcvt_f64_f32(vget_low_f32(v)), hi = vcvt_high_f64_f32(v);
        s0 = vfmaq_f64(s0, lo, lo);
        s1 = vfmaq_f64(s1, hi, hi);
    }
    double sum = vaddvq_f64(vaddq_f64(s0, s1));
    for (; i < n; i++) sum += (double)x[i] * (double)x[i];
    return (float)sum;
}

/* (x * s) * w, rounded after each product as the reference does. */
static void scale_mul(const float *x, float s, const float *w, float *out, int64_t n) {
    int64_t i = 0;
    if (w != NULL) {
        for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vmulq_f32(vmulq_n_f32(vld1q_f32(x + i), s), vld1q_f32(w + i)));
        for (; i < n; i++) out[i] = x[i] * s * w[i];
    } else {
        for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vmulq_n_f32(vld1q_f32(x + i), s));
        for (; i < n; i++) out[i] = x[i] * s;
    }
}

static float exp_sum(float *x, float max, int64_t n) {
    const float32x4_t vm = vdupq_n_f32(max);
    float32x4_t acc = vdupq_n_f32(0.0f);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t d = vsubq_f32(vld1q_f32(x + i), vm);
        const float32x4_t e = vreinterpretq_f32_u32(
            vbicq_u32(vreinterpretq_u32_f32(exp_ps(d)), vcltq_f32(d, vdupq_n_f32(LAI_EXP_CUT))));
        vst1q_f32(x + i, e);
        acc = vaddq_f32(acc, e);
    }
    float sum = vaddvq_f32(acc);
    for (; i < n; i++) {
        x[i] = lai_exp_cut(x[i] - max);
        sum += x[i];
    }
    return sum;
}

/* Four rows at a time, each with its own accumulator, q loaded once for all of them. */
static void dot_rows(const float *q, const float *rows, size_t ld, int64_t nc, int64_t n, float *out) {
    const int64_t n4 = n & ~(int64_t)3;
    int64_t c = 0;
    for (; c + 4 <= nc; c += 4) {
        const float *r = rows + (size_t)c * ld;
        float32x4_t a[4];
        for (int j = 0; j < 4; j++) a[j] = vdupq_n_f32(0.0f);
        for (int64_t i = 0; i < n4; i += 4) {
            const float32x4_t qv = vld1q_f32(q + i);
            for (int j = 0; j < 4; j++) a[j] = vfmaq_f32(a[j], qv, vld1q_f32(r + (size_t)j * ld + (size_t)i));
        }
        /* pairwise adds: [a0 a1 a2 a3] lane sums in order */
        vst1q_f32(out + c, vpaddq_f32(vpaddq_f32(a[0], a[1]), vpaddq_f32(a[2], a[3])));
        for (int64_t i = n4; i < n; i++)
            for (int j = 0; j < 4; j++) out[c + j] += q[i] * r[(size_t)j * ld + (size_t)i];
    }
    for (; c < nc; c++) out[c] = dot_f32(q, rows + (size_t)c * ld, n);
}

/* QB queries x W vectors of 4 floats (columns i..), over the listed cells: each row's
 * vectors are loaded once for the QB queries, whose accumulators stay in registers. */
static inline __attribute__((always_inline)) void axpy_block(const float *p, size_t ldp, const float *rows, size_t ld,
                                                             const int32_t *idx, int m, float *y, size_t ldy,
                                                             int64_t i, const int QB, const int W) {
    float32x4_t a[4][4];
    for (int q = 0; q < QB; q++)
        for (int w = 0; w < W; w++) a[q][w] = vld1q_f32(y + (size_t)q * ldy + (size_t)i + 4 * w);
    for (int j = 0; j < m; j++) {
        const int32_t c = idx[j];
        const float *x = rows + (size_t)c * ld + (size_t)i;
        float32x4_t v[4];
        for (int w = 0; w < W; w++) v[w] = vld1q_f32(x + 4 * w);
        for (int q = 0; q < QB; q++) {
            const float pq = p[(size_t)q * ldp + (size_t)c];
            for (int w = 0; w < W; w++) a[q][w] = vfmaq_n_f32(a[q][w], v[w], pq);
        }
    }
    for (int q = 0; q < QB; q++)
        for (int w = 0; w < W; w++) vst1q_f32(y + (size_t)q * ldy + (size_t)i + 4 * w, a[q][w]);
}

static inline __attribute__((always_inline)) void axpy_queries(const float *p, size_t ldp, int64_t nq, const float *rows,
                                                               size_t ld, const int32_t *idx, int m, float *y,
                                                               size_t ldy, int64_t i, const int W) {
    int64_t q = 0;
    for (; q + 4 <= nq; q += 4) axpy_block(p + (size_t)q * ldp, ldp, rows, ld, idx, m, y + (size_t)q * ldy, ldy, i, 4, W);
    for (; q < nq; q++) axpy_block(p + (size_t)q * ldp, ldp, rows, ld, idx, m, y + (size_t)q * ldy, ldy, i, 1, W);
}

/* Cells in groups of 64: the ones some query weighs listed once, then y in blocks of 16
 * columns, four queries at a time; the last columns 4 at a time, then one by one. */
static void axpy_rows(const float *p, size_t ldp, int64_t nq, const float *rows, size_t ld, int64_t nc, float *y,
                      size_t ldy, int64_t n) {
    for (int64_t c0 = 0; c0 < nc; c0 += 64) {
        const int64_t gc = LAI_MIN(64, nc - c0);
        uint64_t any = 0;
        for (int64_t q = 0; q < nq; q++)
            for (int64_t c = 0; c < gc; c++) any |= (uint64_t)(p[(size_t)q * ldp + (size_t)(c0 + c)] != 0.0f) << c;
        int32_t idx[64];
        const int m = lai_cells_of(any, idx);
        if (m == 0) continue;
        const float *pc = p + c0, *rc = rows + (size_t)c0 * ld;
        int64_t i = 0;
        for (; i + 16 <= n; i += 16) axpy_queries(pc, ldp, nq, rc, ld, idx, m, y, ldy, i, 4);
        for (; i + 4 <= n; i += 4) axpy_queries(pc, ldp, nq, rc, ld, idx, m, y, ldy, i, 1);
        for (; i < n; i++)
            for (int64_t q = 0; q < nq; q++) {
                float acc = y[(size_t)q * ldy + (size_t)i];
                for (int j = 0; j < m; j++) acc += pc[(size_t)q * ldp + (size_t)idx[j]] * rc[(size_t)idx[j] * ld + (size_t)i];
                y[(size_t)q * ldy + (size_t)i] = acc;
            }
    }
}

static void scale(float *y, float a, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(y + i), a));
    for (; i < n; i++) y[i] *= a;
}

/* ---- GEMM: unpacking and float tiles (the integer tiles are in the integer pass) ---- */

/* Four columns of four bytes fill one 128-bit register: the tile of lai_gemm_pack_act.
 * Rows are unpacked GEMM_UNPACK_ROWS at a time and multiplied GEMM_ROWS at a time. */
enum { TILE_COLS = 4, GEMM_ROWS = 8, GEMM_UNPACK_ROWS = 16 };

/* How unpacked bytes meet the signed products. Formats with off 128 (Q8_0, IQ4_NL, IQ4_XS:
 * bytes up to 255) are unpacked as their signed q = u - 128 and used as they are
 * (OFF_NONE); every other format's bytes u = q + off are below 128 (at most 63), so they
 * are signed bytes as they are and off * sum(a) comes off the integer sum (OFF_SUB). */
enum { OFF_NONE, OFF_SUB };

/* Q4_K / Q5_K (qh NULL for Q4_K): sub-block s is the low (s even) or high nibble of
 * qs[32 (s / 2) + l], its fifth bit bit s of qh[l]. */
static inline void unpack_q45_K(const uint8_t *scales, uint16_t d16, uint16_t dmin16, const uint8_t *qs,
                                const uint8_t *qh, uint8_t *o, float *sr, float *mr) {
    const uint8x16_t m4 = vdupq_n_u8(0x0f), one = vdupq_n_u8(1), two = vdupq_n_u8(2);
    uint8x16_t h0 = vdupq_n_u8(0), h1 = h0;
    if (qh != NULL) {
        h0 = vld1q_u8(qh);
        h1 = vld1q_u8(qh + 16);
    }
    for (int j = 0; j < 4; j++) { /* sub-blocks 2j and 2j + 1 */
        const uint8x16_t q0 = vld1q_u8(qs + 32 * j), q1 = vld1q_u8(qs + 32 * j + 16);
        vst1q_u8(o + 64 * j, vorrq_u8(vandq_u8(q0, m4), vshlq_n_u8(vandq_u8(h0, one), 4)));
        vst1q_u8(o + 64 * j + 16, vorrq_u8(vandq_u8(q1, m4), vshlq_n_u8(vandq_u8(h1, one), 4)));
        vst1q_u8(o + 64 * j + 32, vorrq_u8(vshrq_n_u8(q0, 4), vshlq_n_u8(vandq_u8(h0, two), 3)));
        vst1q_u8(o + 64 * j + 48, vorrq_u8(vshrq_n_u8(q1, 4), vshlq_n_u8(vandq_u8(h1, two), 3)));
        h0 = vshrq_n_u8(h0, 2);
        h1 = vshrq_n_u8(h1, 2);
    }
    uint8_t sc[8], m[8];
    k4_scales(scales, sc, m);
    const float d = lai_cpu_f16(d16), dmin = lai_cpu_f16(dmin16);
    for (int s = 0; s < 8; s++) {
        sr[s] = d * (float)sc[s];
        mr[s] = -dmin * (float)m[s];
    }
}

/* Rows unpacked with vector code for the common types, else the format's own unpack;
 * off-128 formats as signed q (see OFF_NONE). */
static void gemm_unpack(uint32_t type, const lai_weight_format *fmt, const uint8_t *w, size_t row_stride,
                        int n_rows, int64_t K, uint8_t *u, float *scale_out, float *min) {
    const int64_t nsb = K / fmt->sub, nblk = K / fmt->block;
    const int per_blk = (int)(fmt->block / fmt->sub);
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    for (int r = 0; r < n_rows; r++) {
        const uint8_t *row = w + (size_t)r * row_stride;
        uint8_t *ur = u + (size_t)r * (size_t)K;
        float *sr = scale_out + (size_t)r * (size_t)nsb, *mr = min + (size_t)r * (size_t)nsb;
        switch (type) {
        case LAI_TYPE_Q4_0: {
            const lai_block_q4_0 *bl = (const lai_block_q4_0 *)row;
            for (int64_t i = 0; i < nblk; i++) {
                const uint8x16_t q = vld1q_u8(bl[i].qs);
                vst1q_u8(ur + 32 * i, vandq_u8(q, m4));
                vst1q_u8(ur + 32 * i + 16, vshrq_n_u8(q, 4));
                sr[i] = lai_cpu_f16(bl[i].d);
            }
            break;
        }
        case LAI_TYPE_Q5_0: {
            const lai_block_q5_0 *bl = (const lai_block_q5_0 *)row;
            for (int64_t i = 0; i < nblk; i++) {
                uint8x16_t hlo, hhi;
                q5_high_bits(bl[i].qh, &hlo, &hhi);
                const uint8x16_t q = vld1q_u8(bl[i].qs);
                vst1q_u8(ur + 32 * i, vorrq_u8(vandq_u8(q, m4), hlo));
                vst1q_u8(ur + 32 * i + 16, vorrq_u8(vshrq_n_u8(q, 4), hhi));
                sr[i] = lai_cpu_f16(bl[i].d);
            }
            break;
        }
        case LAI_TYPE_Q8_0: {
            const lai_block_q8_0 *bl = (const lai_block_q8_0 *)row;
            for (int64_t i = 0; i < nblk; i++) {
                vst1q_u8(ur + 32 * i, vld1q_u8((const uint8_t *)bl[i].qs));
                vst1q_u8(ur + 32 * i + 16, vld1q_u8((const uint8_t *)bl[i].qs + 16));
                sr[i] = lai_cpu_f16(bl[i].d);
            }
            break;
        }
        case LAI_TYPE_IQ4_NL: {
            const lai_block_iq4_nl *bl = (const lai_block_iq4_nl *)row;
            const uint8x16_t values = vld1q_u8((const uint8_t *)lai_iq4nl_values);
            for (int64_t i = 0; i < nblk; i++) {
                const uint8x16_t q = vld1q_u8(bl[i].qs);
                vst1q_u8(ur + 32 * i, vqtbl1q_u8(values, vandq_u8(q, m4)));
                vst1q_u8(ur + 32 * i + 16, vqtbl1q_u8(values, vshrq_n_u8(q, 4)));
                sr[i] = lai_cpu_f16(bl[i].d);
            }
            break;
        }
        case LAI_TYPE_Q4_K: {
            const lai_block_q4_K *bl = (const lai_block_q4_K *)row;
            for (int64_t i = 0; i < nblk; i++)
                unpack_q45_K(bl[i].scales, bl[i].d, bl[i].dmin, bl[i].qs, NULL, ur + 256 * i, sr + 8 * i, mr + 8 * i);
            break;
        }
        case LAI_TYPE_Q5_K: {
            const lai_block_q5_K *bl = (const lai_block_q5_K *)row;
            for (int64_t i = 0; i < nblk; i++)
                unpack_q45_K(bl[i].scales, bl[i].d, bl[i].dmin, bl[i].qs, bl[i].qh, ur + 256 * i, sr + 8 * i, mr + 8 * i);
            break;
        }
        case LAI_TYPE_Q6_K: {
            const lai_block_q6_K *bl = (const lai_block_q6_K *)row;
            for (int64_t i = 0; i < nblk; i++) {
                for (int h = 0; h < 2; h++) {
                    uint8x16_t q[8];
                    q6_K_half(bl[i].ql + 64 * h, bl[i].qh + 32 * h, q);
                    for (int k = 0; k < 8; k++) vst1q_u8(ur + 256 * i + 128 * h + 16 * k, q[k]);
                }
                const float d = lai_cpu_f16(bl[i].d);
                for (int j = 0; j < 16; j++) sr[16 * i + j] = d * (float)bl[i].scales[j];
            }
            break;
        }
        case LAI_TYPE_IQ4_XS: {
            const lai_block_iq4_xs *bl = (const lai_block_iq4_xs *)row;
            const uint8x16_t values = vld1q_u8((const uint8_t *)lai_iq4nl_values);
            for (int64_t i = 0; i < nblk; i++) {
                const float d = lai_cpu_f16(bl[i].d);
                for (int s = 0; s < 8; s++) {
                    const uint8x16_t q = vld1q_u8(bl[i].qs + 16 * s);
                    vst1q_u8(ur + 256 * i + 32 * s, vqtbl1q_u8(values, vandq_u8(q, m4)));
                    vst1q_u8(ur + 256 * i + 32 * s + 16, vqtbl1q_u8(values, vshrq_n_u8(q, 4)));
                    sr[8 * i + s] = d * (float)iq4_xs_scale(&bl[i], s);
                }
            }
            break;
        }
        default: {
            const size_t bbytes = lai_type_get(type)->type_size;
            for (int64_t i = 0; i < nblk; i++)
                fmt->unpack(row + (size_t)i * bbytes, ur + (size_t)i * fmt->block, sr + i * per_blk, mr + i * per_blk);
            if (fmt->off == 128)
                for (int64_t e = 0; e < K; e++) ur[e] ^= 0x80;
            break;
        }
        }
    }
}

/* Float weights against a tile of 4 columns' x[k], interleaved (tile[4 k + c]): each
 * weight row's four next values multiply four tile vectors by lane. */
static void gemm_run_f32(const float *w32, int n_rows, int64_t K, const float *xt, int n_cols, float *out,
                         size_t out_stride) {
    for (int r0 = 0; r0 < n_rows; r0 += GEMM_ROWS) {
        const int nr = LAI_MIN(GEMM_ROWS, n_rows - r0);
        const float *w0 = w32 + (size_t)r0 * (size_t)K;
        float32x4_t acc[GEMM_ROWS];
        for (int r = 0; r < GEMM_ROWS; r++) acc[r] = vdupq_n_f32(0.0f);
        int64_t k = 0;
        for (; k + 4 <= K; k += 4) {
            const float32x4_t x0 = vld1q_f32(xt + 4 * k), x1 = vld1q_f32(xt + 4 * k + 4);
            const float32x4_t x2 = vld1q_f32(xt + 4 * k + 8), x3 = vld1q_f32(xt + 4 * k + 12);
#pragma GCC unroll 8
            for (int r = 0; r < GEMM_ROWS; r++) {
                if (r >= nr) break;
                const float32x4_t wv = vld1q_f32(w0 + (size_t)r * (size_t)K + (size_t)k);
                acc[r] = vfmaq_laneq_f32(acc[r], x0, wv, 0);
                acc[r] = vfmaq_laneq_f32(acc[r], x1, wv, 1);
                acc[r] = vfmaq_laneq_f32(acc[r], x2, wv, 2);
                acc[r] = vfmaq_laneq_f32(acc[r], x3, wv, 3);
            }
        }
        for (; k < K; k++) {
            const float32x4_t xv = vld1q_f32(xt + 4 * k);
            for (int r = 0; r < nr; r++) acc[r] = vfmaq_n_f32(acc[r], xv, w0[(size_t)r * (size_t)K + (size_t)k]);
        }
        float tmp[GEMM_ROWS][TILE_COLS];
        for (int r = 0; r < GEMM_ROWS; r++) vst1q_f32(tmp[r], acc[r]);
        for (int c = 0; c < n_cols; c++)
            for (int r = 0; r < nr; r++) out[(size_t)c * out_stride + (size_t)(r0 + r)] = tmp[r][c];
    }
}

/* ---- the integer kernels, twice ---------------------------------------------------- */

#define NEON_CAT_(a, b) a##b
#define NEON_CAT(a, b) NEON_CAT_(a, b)
#define FN(name) NEON_CAT(name, NEON_SFX)

/* ARMv8.0: 8-bit products widened to 16 bits and pairwise added into 32 (SMULL, SADALP). */
#define LAI_NEON_INT_PASS 1
#define NEON_SFX _v80
#include "cpu_kernels_neon.c"
#undef NEON_SFX
#undef LAI_NEON_INT_PASS

/* ARMv8.2 dotprod: SDOT (every CPU with dotprod is ARMv8.2 or later, and GCC's arm_neon.h
 * declares vdotq_s32 for armv8.2-a+dotprod). GCC and clang 16+ declare it for a function
 * compiled for dotprod whatever the file's target; older clang only when the whole file
 * targets it. */
#if defined(__ARM_FEATURE_DOTPROD) || !defined(__clang__) || __clang_major__ >= 16
#define LAI_NEON_HAVE_SDOT 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif
#define LAI_NEON_INT_PASS 2
#define NEON_SFX _sdot
#include "cpu_kernels_neon.c"
#undef NEON_SFX
#undef LAI_NEON_INT_PASS
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

/* ---- the table --------------------------------------------------------------------- */

static lai_cpu_kernels table = {
    .level = LAI_CPU_LEVEL_NEON,
    .quantize = {NULL, quantize_q8, quantize_q8k},
    .dot_f32 = dot_f32,
    .dot_f16 = dot_f16,
    .dot_bf16 = dot_bf16,
    .f16_to_f32 = f16_to_f32,
    .f32_to_f16 = f32_to_f16,
    .silu_mul = silu_mul,
    .gelu_mul = gelu_mul,
    .sum_sq = sum_sq,
    .scale_mul = scale_mul,
    .exp_sum = exp_sum,
    .dot_rows = dot_rows,
    .axpy_rows = axpy_rows,
    .scale = scale,
};

static lai_once table_once = LAI_ONCE_INIT;

static void complete_table(void) {
    lai_cpu_f16_init();
#if defined(LAI_NEON_HAVE_SDOT)
    if (lai_cpu_features_get()->dotprod)
        fill_int_kernels_sdot(&table);
    else
#endif
        fill_int_kernels_v80(&table);
    lai_cpu_kernels_complete(&table);
}

const lai_cpu_kernels *lai_cpu_kernels_neon(void) {
    lai_call_once(&table_once, complete_table);
    return &table;
}

#else

const lai_cpu_kernels *lai_cpu_kernels_neon(void) { return NULL; }

#endif

#else /* LAI_NEON_INT_PASS: the integer dots and GEMM tiles, compiled once per pass */

/* 16 signed byte products summed into the four lanes of acc (which lane gets which
 * product differs between the passes; only the lanes' total is used). */
static inline int32x4_t FN(dot16)(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if LAI_NEON_INT_PASS == 2
    return vdotq_s32(acc, a, b);
#else
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

/* A 32-element block's two halves against its 32 activation bytes. */
static inline int32x4_t FN(dot32)(int8x16_t lo, int8x16_t hi, const int8_t *aq) {
    return FN(dot16)(FN(dot16)(vdupq_n_s32(0), lo, vld1q_s8(aq)), hi, vld1q_s8(aq + 16));
}

static float FN(vec_dot_q4_0)(const void *wr, const void *ar, int64_t n) {
    const lai_block_q4_0 *w = wr;
    const lai_act_q8 *a = ar;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    const int8x16_t eight = vdupq_n_s8(8);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8x16_t q = vld1q_u8(w[b].qs);
        const int32x4_t p = FN(dot32)(vsubq_s8(s8(vandq_u8(q, m4)), eight), vsubq_s8(s8(vshrq_n_u8(q, 4)), eight), a[b].qs);
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), lai_cpu_f16(w[b].d) * a[b].d);
    }
    return vaddvq_f32(acc);
}

static float FN(vec_dot_q4_1)(const void *wr, const void *ar, int64_t n) {
    const lai_block_q4_1 *w = wr;
    const lai_act_q8 *a = ar;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    float32x4_t acc = vdupq_n_f32(0.0f);
    float mins = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8x16_t q = vld1q_u8(w[b].qs);
        const int32x4_t p = FN(dot32)(s8(vandq_u8(q, m4)), s8(vshrq_n_u8(q, 4)), a[b].qs);
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), lai_cpu_f16(w[b].d) * a[b].d);
        mins += lai_cpu_f16(w[b].m) * a[b].s;
    }
    return vaddvq_f32(acc) + mins;
}

static float FN(vec_dot_q5_0)(const void *wr, const void *ar, int64_t n) {
    const lai_block_q5_0 *w = wr;
    const lai_act_q8 *a = ar;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    const int8x16_t sixteen = vdupq_n_s8(16);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < n / 32; b++) {
        uint8x16_t hlo, hhi;
        q5_high_bits(w[b].qh, &hlo, &hhi);
        const uint8x16_t q = vld1q_u8(w[b].qs);
        const int8x16_t lo = vsubq_s8(s8(vorrq_u8(vandq_u8(q, m4), hlo)), sixteen);
        const int8x16_t hi = vsubq_s8(s8(vorrq_u8(vshrq_n_u8(q, 4), hhi)), sixteen);
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(FN(dot32)(lo, hi, a[b].qs)), lai_cpu_f16(w[b].d) * a[b].d);
    }
    return vaddvq_f32(acc);
}

static float FN(vec_dot_q5_1)(const void *wr, const void *ar, int64_t n) {
    const lai_block_q5_1 *w = wr;
    const lai_act_q8 *a = ar;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    float32x4_t acc = vdupq_n_f32(0.0f);
    float mins = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        uint8x16_t hlo, hhi;
        q5_high_bits(w[b].qh, &hlo, &hhi);
        const uint8x16_t q = vld1q_u8(w[b].qs);
        const int8x16_t lo = s8(vorrq_u8(vandq_u8(q, m4), hlo)), hi = s8(vorrq_u8(vshrq_n_u8(q, 4), hhi));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(FN(dot32)(lo, hi, a[b].qs)), lai_cpu_f16(w[b].d) * a[b].d);
        mins += lai_cpu_f16(w[b].m) * a[b].s;
    }
    return vaddvq_f32(acc) + mins;
}

static float FN(vec_dot_q8_0)(const void *wr, const void *ar, int64_t n) {
    const lai_block_q8_0 *w = wr;
    const lai_act_q8 *a = ar;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0;
    const int64_t nb = n / 32;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const int32x4_t p0 = FN(dot32)(vld1q_s8(w[b].qs), vld1q_s8(w[b].qs + 16), a[b].qs);
        const int32x4_t p1 = FN(dot32)(vld1q_s8(w[b + 1].qs), vld1q_s8(w[b + 1].qs + 16), a[b + 1].qs);
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(p0), lai_cpu_f16(w[b].d) * a[b].d);
        acc1 = vfmaq_n_f32(acc1, vcvtq_f32_s32(p1), lai_cpu_f16(w[b + 1].d) * a[b + 1].d);
    }
    if (b < nb) {
        const int32x4_t p = FN(dot32)(vld1q_s8(w[b].qs), vld1q_s8(w[b].qs + 16), a[b].qs);
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(p), lai_cpu_f16(w[b].d) * a[b].d);
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

static float FN(vec_dot_iq4_nl)(const void *wr, const void *ar, int64_t n) {
    const lai_block_iq4_nl *w = wr;
    const lai_act_q8 *a = ar;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    const int8x16_t values = vld1q_s8(lai_iq4nl_values);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8x16_t q = vld1q_u8(w[b].qs);
        const int32x4_t p = FN(dot32)(vqtbl1q_s8(values, vandq_u8(q, m4)), vqtbl1q_s8(values, vshrq_n_u8(q, 4)), a[b].qs);
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), lai_cpu_f16(w[b].d) * a[b].d);
    }
    return vaddvq_f32(acc);
}

/* The K-quant dots form each block's integer sums exactly and combine them with the
 * reference's float expression, block by block. */

/* sum over sub-blocks s of m[s] * (sum of the activations of sub-block s), 8 of 32. */
static inline int32_t FN(mins_8)(const uint8_t m[8], const int16_t *bsums) {
    const int16x8_t bs = vpaddq_s16(vld1q_s16(bsums), vld1q_s16(bsums + 8));
    const int16x8_t mv = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(m)));
    return vaddvq_s32(vmlal_high_s16(vmull_s16(vget_low_s16(bs), vget_low_s16(mv)), bs, mv));
}

static inline float FN(dot_q45_K_block)(const uint8_t *scales, uint16_t d16, uint16_t dmin16, const uint8_t *qs,
                                        const uint8_t *qh, const lai_act_q8k *a) {
    uint8_t sc[8], m[8];
    k4_scales(scales, sc, m);
    const int32_t sum_m = FN(mins_8)(m, a->bsums);
    const uint8x16_t m4 = vdupq_n_u8(0x0f), one = vdupq_n_u8(1), two = vdupq_n_u8(2);
    uint8x16_t h0 = vdupq_n_u8(0), h1 = h0;
    if (qh != NULL) {
        h0 = vld1q_u8(qh);
        h1 = vld1q_u8(qh + 16);
    }
    int32x4_t acc = vdupq_n_s32(0);
    for (int j = 0; j < 4; j++) { /* sub-blocks 2j (low nibbles) and 2j + 1 (high) */
        const uint8x16_t q0 = vld1q_u8(qs + 32 * j), q1 = vld1q_u8(qs + 32 * j + 16);
        uint8x16_t l0 = vandq_u8(q0, m4), l1 = vandq_u8(q1, m4), u0 = vshrq_n_u8(q0, 4), u1 = vshrq_n_u8(q1, 4);
        if (qh != NULL) { /* the fifth bit of sub-block s is bit s of qh[l] */
            l0 = vorrq_u8(l0, vshlq_n_u8(vandq_u8(h0, one), 4));
            l1 = vorrq_u8(l1, vshlq_n_u8(vandq_u8(h1, one), 4));
            u0 = vorrq_u8(u0, vshlq_n_u8(vandq_u8(h0, two), 3));
            u1 = vorrq_u8(u1, vshlq_n_u8(vandq_u8(h1, two), 3));
            h0 = vshrq_n_u8(h0, 2);
            h1 = vshrq_n_u8(h1, 2);
        }
        const int8_t *aq = a->qs + 64 * j;
        acc = vmlaq_n_s32(acc, FN(dot32)(s8(l0), s8(l1), aq), sc[2 * j]);
        acc = vmlaq_n_s32(acc, FN(dot32)(s8(u0), s8(u1), aq + 32), sc[2 * j + 1]);
    }
    const int32_t sum_q = vaddvq_s32(acc);
    return a->d * (lai_cpu_f16(d16) * (float)sum_q - lai_cpu_f16(dmin16) * (float)sum_m);
}

static float FN(vec_dot_q4_K)(const void *wr, const void *ar, int64_t n) {
    const lai_block_q4_K *w = wr;
    const lai_act_q8k *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) sum += FN(dot_q45_K_block)(w[b].scales, w[b].d, w[b].dmin, w[b].qs, NULL, &a[b]);
    return sum;
}

static float FN(vec_dot_q5_K)(const void *wr, const void *ar, int64_t n) {
    const lai_block_q5_K *w = wr;
    const lai_act_q8k *a = ar;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++)
        sum += FN(dot_q45_K_block)(w[b].scales, w[b].d, w[b].dmin, w[b].qs, w[b].qh, &a[b]);
    return sum;
}

static float FN(vec_dot_q6_K)(const void *wr, const void *ar, int64_t n) {
    const lai_block_q6_K *w = wr;
    const lai_act_q8k *a = ar;
    const int8x16_t k32 = vdupq_n_s8(32);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) {
        int32x4_t acc = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            uint8x16_t u[8];
            q6_K_half(w[b].ql + 64 * h, w[b].qh + 32 * h, u);
            const int8_t *aq = a[b].qs + 128 * h;
            for (int k = 0; k < 8; k++) /* 16 elements, one scale */
                acc = vmlaq_n_s32(acc, FN(dot16)(vdupq_n_s32(0), vsubq_s8(s8(u[k]), k32), vld1q_s8(aq + 16 * k)),
                                  w[b].scales[8 * h + k]);
        }
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)vaddvq_s32(acc);
    }
    return sum;
}

static float FN(vec_dot_q2_K)(const void *wr, const void *ar, int64_t n) {
    const lai_block_q2_K *w = wr;
    const lai_act_q8k *a = ar;
    const uint8x16_t m3 = vdupq_n_u8(3);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) {
        const uint8x16_t scv = vld1q_u8(w[b].scales);
        const int16x8_t m_lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(vshrq_n_u8(scv, 4))));
        const int16x8_t m_hi = vreinterpretq_s16_u16(vmovl_high_u8(vshrq_n_u8(scv, 4)));
        const int16x8_t bs0 = vld1q_s16(a[b].bsums), bs1 = vld1q_s16(a[b].bsums + 8);
        int32x4_t pm = vmull_s16(vget_low_s16(bs0), vget_low_s16(m_lo));
        pm = vmlal_high_s16(pm, bs0, m_lo);
        pm = vmlal_s16(pm, vget_low_s16(bs1), vget_low_s16(m_hi));
        pm = vmlal_high_s16(pm, bs1, m_hi);
        const int32_t sum_m = vaddvq_s32(pm);
        uint8_t sc[16];
        vst1q_u8(sc, vandq_u8(scv, vdupq_n_u8(0x0f)));
        int32x4_t acc = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) { /* element 128h + 32i + l is bits 2i of qs[32h + l] */
            uint8x16_t q0 = vld1q_u8(w[b].qs + 32 * h), q1 = vld1q_u8(w[b].qs + 32 * h + 16);
            const int8_t *aq = a[b].qs + 128 * h;
            for (int i = 0; i < 4; i++) {
                acc = vmlaq_n_s32(acc, FN(dot16)(vdupq_n_s32(0), s8(vandq_u8(q0, m3)), vld1q_s8(aq + 32 * i)),
                                  sc[8 * h + 2 * i]);
                acc = vmlaq_n_s32(acc, FN(dot16)(vdupq_n_s32(0), s8(vandq_u8(q1, m3)), vld1q_s8(aq + 32 * i + 16)),
                                  sc[8 * h + 2 * i + 1]);
                q0 = vshrq_n_u8(q0, 2);
                q1 = vshrq_n_u8(q1, 2);
            }
        }
        const int32_t sum_q = vaddvq_s32(acc);
        sum += a[b].d * (lai_cpu_f16(w[b].d) * (float)sum_q - lai_cpu_f16(w[b].dmin) * (float)sum_m);
    }
    return sum;
}

static float FN(vec_dot_q3_K)(const void *wr, const void *ar, int64_t n) {
    const lai_block_q3_K *w = wr;
    const lai_act_q8k *a = ar;
    const uint8x16_t m3 = vdupq_n_u8(3), four = vdupq_n_u8(4);
    const int8x16_t k4 = vdupq_n_s8(4);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) {
        int8_t sc[16];
        k3_scales(w[b].scales, sc);
        const uint8x16_t hm0 = vld1q_u8(w[b].hmask), hm1 = vld1q_u8(w[b].hmask + 16);
        int32x4_t acc = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) { /* element e = 128h + 32i + l: hmask bit 4h + i of byte l */
            uint8x16_t q0 = vld1q_u8(w[b].qs + 32 * h), q1 = vld1q_u8(w[b].qs + 32 * h + 16);
            const int8_t *aq = a[b].qs + 128 * h;
            for (int i = 0; i < 4; i++) {
                const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << (4 * h + i)));
                const int8x16_t v0 = vsubq_s8(s8(vorrq_u8(vandq_u8(q0, m3), vandq_u8(vtstq_u8(hm0, bit), four))), k4);
                const int8x16_t v1 = vsubq_s8(s8(vorrq_u8(vandq_u8(q1, m3), vandq_u8(vtstq_u8(hm1, bit), four))), k4);
                acc = vmlaq_n_s32(acc, FN(dot16)(vdupq_n_s32(0), v0, vld1q_s8(aq + 32 * i)), sc[8 * h + 2 * i]);
                acc = vmlaq_n_s32(acc, FN(dot16)(vdupq_n_s32(0), v1, vld1q_s8(aq + 32 * i + 16)), sc[8 * h + 2 * i + 1]);
                q0 = vshrq_n_u8(q0, 2);
                q1 = vshrq_n_u8(q1, 2);
            }
        }
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)vaddvq_s32(acc);
    }
    return sum;
}

static float FN(vec_dot_iq4_xs)(const void *wr, const void *ar, int64_t n) {
    const lai_block_iq4_xs *w = wr;
    const lai_act_q8k *a = ar;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    const int8x16_t values = vld1q_s8(lai_iq4nl_values);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) {
        int32x4_t acc = vdupq_n_s32(0);
        for (int s = 0; s < 8; s++) {
            const uint8x16_t q = vld1q_u8(w[b].qs + 16 * s);
            const int32x4_t p = FN(dot32)(vqtbl1q_s8(values, vandq_u8(q, m4)), vqtbl1q_s8(values, vshrq_n_u8(q, 4)),
                                          a[b].qs + 32 * s);
            acc = vmlaq_n_s32(acc, p, iq4_xs_scale(&w[b], s));
        }
        sum += lai_cpu_f16(w[b].d) * a[b].d * (float)vaddvq_s32(acc);
    }
    return sum;
}

/* ---- GEMM tiles --------------------------------------------------------------------- */

/* Four groups of a tile (a0..a3: four bytes of each of 4 columns) against four groups of
 * one weight row (the lanes of w), added to ia: ia[c] += sum over g, j of a_g[4c + j] * w[4g + j]. */
static inline int32x4_t FN(tile_dot4)(int32x4_t ia, int8x16_t a0, int8x16_t a1, int8x16_t a2, int8x16_t a3,
                                      int8x16_t w) {
#if LAI_NEON_INT_PASS == 2
    ia = vdotq_laneq_s32(ia, a0, w, 0);
    ia = vdotq_laneq_s32(ia, a1, w, 1);
    ia = vdotq_laneq_s32(ia, a2, w, 2);
    return vdotq_laneq_s32(ia, a3, w, 3);
#else
    /* lo: columns 0-1, hi: columns 2-3, as pairs of partial sums per column */
    const int32x4_t wi = vreinterpretq_s32_s8(w);
    const int8x16_t w0 = vreinterpretq_s8_s32(vdupq_laneq_s32(wi, 0)), w1 = vreinterpretq_s8_s32(vdupq_laneq_s32(wi, 1));
    const int8x16_t w2 = vreinterpretq_s8_s32(vdupq_laneq_s32(wi, 2)), w3 = vreinterpretq_s8_s32(vdupq_laneq_s32(wi, 3));
    int32x4_t lo = vpaddlq_s16(vmull_s8(vget_low_s8(a0), vget_low_s8(w0)));
    int32x4_t hi = vpaddlq_s16(vmull_high_s8(a0, w0));
    lo = vpadalq_s16(lo, vmull_s8(vget_low_s8(a1), vget_low_s8(w1)));
    hi = vpadalq_s16(hi, vmull_high_s8(a1, w1));
    lo = vpadalq_s16(lo, vmull_s8(vget_low_s8(a2), vget_low_s8(w2)));
    hi = vpadalq_s16(hi, vmull_high_s8(a2, w2));
    lo = vpadalq_s16(lo, vmull_s8(vget_low_s8(a3), vget_low_s8(w3)));
    hi = vpadalq_s16(hi, vmull_high_s8(a3, w3));
    return vaddq_s32(ia, vpaddq_s32(lo, hi));
#endif
}

/* GEMM_ROWS rows x 4 columns; G = sub / 4 groups of four bytes per sub-block (8 or 4). */
static inline __attribute__((always_inline)) void FN(gemm_rows)(const uint8_t *u, const float *scale_in,
                                                                const float *min, int n_rows, int64_t K,
                                                                const uint8_t *tile, float *out, size_t out_stride,
                                                                int n_cols, const int G, const int mode, int off,
                                                                const int has_min) {
    const int sub = 4 * G;
    const int64_t nsb = K / sub;
    const size_t sb_bytes = (size_t)G * 16 + 48;
    float32x4_t acc[GEMM_ROWS];
    for (int r = 0; r < GEMM_ROWS; r++) acc[r] = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *t = tile + (size_t)b * sb_bytes;
        int8x16_t av[8];
        for (int g = 0; g < G; g++) av[g] = vld1q_s8((const int8_t *)(t + 16 * g));
        const float32x4_t dv = vld1q_f32((const float *)(const void *)(t + (size_t)G * 16));
        /* each row's integer sums start at -off * sum(a) */
        const int32x4_t ia0 = mode == OFF_SUB ? vmulq_n_s32(vld1q_s32((const int32_t *)(const void *)(t + (size_t)G * 16 + 16)), -off)
                                              : vdupq_n_s32(0);
        const float32x4_t mv = vld1q_f32((const float *)(const void *)(t + (size_t)G * 16 + 32));
#pragma GCC unroll 8
        for (int r = 0; r < GEMM_ROWS; r++) {
            if (r >= n_rows) break;
            const int8_t *ur = (const int8_t *)u + (size_t)r * (size_t)K + (size_t)b * (size_t)sub;
            int32x4_t ia = FN(tile_dot4)(ia0, av[0], av[1], av[2], av[3], vld1q_s8(ur));
            if (G == 8) ia = FN(tile_dot4)(ia, av[4], av[5], av[6], av[7], vld1q_s8(ur + 16));
            const size_t at = (size_t)r * (size_t)nsb + (size_t)b;
            acc[r] = vfmaq_f32(acc[r], vcvtq_f32_s32(ia), vmulq_n_f32(dv, scale_in[at]));
            if (has_min) acc[r] = vfmaq_n_f32(acc[r], mv, min[at]);
        }
    }
    float tmp[GEMM_ROWS][TILE_COLS];
    for (int r = 0; r < GEMM_ROWS; r++) vst1q_f32(tmp[r], acc[r]);
    for (int c = 0; c < n_cols; c++)
        for (int r = 0; r < n_rows; r++) out[(size_t)c * out_stride + (size_t)r] = tmp[r][c];
}

static void FN(gemm_run)(const lai_weight_format *fmt, const uint8_t *u, const float *scale_in, const float *min,
                         int n_rows, int64_t K, const void *tile, int n_cols, float *out, size_t out_stride) {
    const int64_t nsb = K / fmt->sub;
    const int off = fmt->off;
    for (int r0 = 0; r0 < n_rows; r0 += GEMM_ROWS) {
        const int nr = LAI_MIN(GEMM_ROWS, n_rows - r0);
        const uint8_t *ur = u + (size_t)r0 * (size_t)K;
        const float *sr = scale_in + (size_t)r0 * (size_t)nsb, *mr = min + (size_t)r0 * (size_t)nsb;
        float *o = out + r0;
#define GEMM_CASE(G, MODE, MIN) FN(gemm_rows)(ur, sr, mr, nr, K, tile, o, out_stride, n_cols, G, MODE, off, MIN)
        if (fmt->sub == 32) {
            if (off == 128 && !fmt->has_min) GEMM_CASE(8, OFF_NONE, 0);
            else if ((off == 0 || off == 128) && fmt->has_min) GEMM_CASE(8, OFF_NONE, 1);
            else GEMM_CASE(8, OFF_SUB, fmt->has_min);
        } else {
            if ((off == 0 || off == 128) && fmt->has_min) GEMM_CASE(4, OFF_NONE, 1);
            else if (off == 128) GEMM_CASE(4, OFF_NONE, 0);
            else GEMM_CASE(4, OFF_SUB, fmt->has_min);
        }
#undef GEMM_CASE
    }
}

static const lai_gemm_kernel FN(gemm) = {
    .cols = TILE_COLS,
    .rows = GEMM_UNPACK_ROWS,
    .unpack = gemm_unpack,
    .run = FN(gemm_run),
    .run_f32 = gemm_run_f32,
};

static void FN(fill_int_kernels)(lai_cpu_kernels *t) {
    t->vec_dot[LAI_TYPE_Q4_0] = FN(vec_dot_q4_0);
    t->vec_dot[LAI_TYPE_Q4_1] = FN(vec_dot_q4_1);
    t->vec_dot[LAI_TYPE_Q5_0] = FN(vec_dot_q5_0);
    t->vec_dot[LAI_TYPE_Q5_1] = FN(vec_dot_q5_1);
    t->vec_dot[LAI_TYPE_Q8_0] = FN(vec_dot_q8_0);
    t->vec_dot[LAI_TYPE_IQ4_NL] = FN(vec_dot_iq4_nl);
    t->vec_dot[LAI_TYPE_Q2_K] = FN(vec_dot_q2_K);
    t->vec_dot[LAI_TYPE_Q3_K] = FN(vec_dot_q3_K);
    t->vec_dot[LAI_TYPE_Q4_K] = FN(vec_dot_q4_K);
    t->vec_dot[LAI_TYPE_Q5_K] = FN(vec_dot_q5_K);
    t->vec_dot[LAI_TYPE_Q6_K] = FN(vec_dot_q6_K);
    t->vec_dot[LAI_TYPE_IQ4_XS] = FN(vec_dot_iq4_xs);
    t->gemm = &FN(gemm);
}

#endif /* LAI_NEON_INT_PASS */
