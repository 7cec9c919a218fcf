/* cpu_kernels_avx2.c - the AVX2 level (AVX2, FMA, F16C): maddubs dots, GEMM tiles of 8 columns, f16 and float rows. */
#include "cpu_kernels.h"

#include "../base/platform.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

/* This file alone is compiled for AVX2; nothing here runs before lai_cpu_kernels_get()
 * has checked that the CPU has every feature named. */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

#include <immintrin.h>
#include <math.h>

#include "../quant/blocks.h"
#include "../quant/quant_k_impl.h"
#include "cpu_ops.h"
#include "cpu_vecdot.h"

/*
 * Integer products without VNNI: vpmaddubsw multiplies unsigned bytes by signed bytes and
 * adds neighbouring pairs into saturating 16-bit lanes, vpmaddwd widens (or scales) those
 * to 32 bits. A pair never saturates while the unsigned operand stays below 128 (the
 * activations are -127..127), so weights of up to 7 bits go in as unsigned bytes u = q +
 * off and the offset comes off through the activation sums; 8-bit signed weights (Q8_0,
 * IQ4_NL, IQ4_XS) use the sign trick: |w| times a carrying w's sign.
 */

static inline float f16(uint16_t h) { return _cvtsh_ss(h); }
/* x rounded to the nearest f16 and back: F16C's conversion, round to nearest even, gives
 * the same bits as lai_f32_to_f16 for every float (checked over all 2^32 of them). */
static inline float f16_round(float x) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtps_ph(_mm_set_ss(x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
}

static inline int32_t load_i32(const void *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __m256i loadu256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float hmax_ps(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

static inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

/* ---- activation rounding (the same bytes as lai_quantize_act_q8 / _q8k) ---------- */

/* 32 int32 (-127..127) in four vectors to 32 bytes in order. */
static inline __m256i pack_32(__m256i q0, __m256i q1, __m256i q2, __m256i q3) {
    /* packs work per 128-bit lane: the result holds 4-byte runs in the order 0 2 4 6 1 3 5 7 */
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static void quantize_q8(const float *x, void *out, int64_t n) {
    lai_act_q8 *a = out;
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        const __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
        const __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
        const float amax =
            hmax_ps(_mm256_max_ps(_mm256_max_ps(abs_ps(v0), abs_ps(v1)), _mm256_max_ps(abs_ps(v2), abs_ps(v3))));
        const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        const __m256 vid = _mm256_set1_ps(id);
        /* vcvtps2dq rounds to nearest even, as lrintf in the default rounding mode */
        const __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, vid));
        const __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, vid));
        const __m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, vid));
        const __m256i q3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, vid));
        _mm256_storeu_si256((__m256i *)a[b].qs, pack_32(q0, q1, q2, q3));
        const int32_t sum = hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3)));
        a[b].d = f16_round(d);
        a[b].s = f16_round(d * (float)sum);
        a[b].sum = sum;
        a[b].unused = 0;
    }
}

static void quantize_q8k(const float *x, void *out, int64_t n) {
    lai_act_q8k *a = out;
    for (int64_t b = 0; b < n / 256; b++, x += 256) {
        __m256 m = _mm256_setzero_ps();
        for (int i = 0; i < 32; i++) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + 8 * i)));
        const float amax = hmax_ps(m);
        if (amax == 0.0f) {
            memset(&a[b], 0, sizeof a[b]);
            continue;
        }
        /* the signed value of the first element of largest magnitude, as the reference */
        float max = 0.0f;
        const __m256 vamax = _mm256_set1_ps(amax);
        for (int i = 0; i < 32; i++) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + 8 * i)), vamax, _CMP_EQ_OQ));
            if (hit) {
                max = x[8 * i + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        const float iscale = -127.0f / max;
        const __m256 vis = _mm256_set1_ps(iscale);
        const __m256i top = _mm256_set1_epi32(127);
        for (int g = 0; g < 8; g++) { /* 32 elements, two sums of 16 */
            const float *xg = x + 32 * g;
            const __m256i q0 = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg), vis)), top);
            const __m256i q1 = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg + 8), vis)), top);
            const __m256i q2 = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg + 16), vis)), top);
            const __m256i q3 = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg + 24), vis)), top);
            _mm256_storeu_si256((__m256i *)(a[b].qs + 32 * g), pack_32(q0, q1, q2, q3));
            a[b].bsums[2 * g] = (int16_t)hsum_epi32(_mm256_add_epi32(q0, q1));
            a[b].bsums[2 * g + 1] = (int16_t)hsum_epi32(_mm256_add_epi32(q2, q3));
        }
        a[b].d = 1.0f / iscale;
        memset(a[b].unused, 0, sizeof a[b].unused);
    }
}

/* ---- weight bytes ----------------------------------------------------------------- */

/* 16 bytes of nibbles as 32 bytes [low nibbles | high nibbles]: the element order of the
 * 32-element formats and of one IQ4_XS sub-block. */
static inline __m256i nibbles_32(const uint8_t *q) {
    /* the 16 bytes in both lanes, the upper lane shifted by 4 (per 32-bit word: the bits
     * that come in from the next byte are masked off) */
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)q));
    return _mm256_and_si256(_mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0f));
}

/* Bit j of a little-endian 32-bit word as byte j: 0xff when set. */
static inline __m256i bits_32(const uint8_t *qh) {
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(load_i32(qh)), shuf);
    /* byte k of each 8 gets every bit but bit k: all ones exactly when bit k was set */
    const __m256i probe = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(probe, _mm256_set1_epi64x(-1));
}

/* Q5_0 / Q5_1 bytes 0..31 of one block. */
static inline __m256i q5_bytes(const uint8_t *qs, const uint8_t *qh) {
    return _mm256_or_si256(nibbles_32(qs), _mm256_and_si256(bits_32(qh), _mm256_set1_epi8(0x10)));
}

static inline __m256i iq4_table(void) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lai_iq4nl_values));
}

/* Bits s of every byte (one bit per byte, s constant after unrolling) moved to bit `to`. */
static inline __m256i bit_to(__m256i h, int s, int to) {
    const __m256i b = _mm256_and_si256(_mm256_srli_epi16(h, s), _mm256_set1_epi8(1));
    return _mm256_slli_epi16(b, to);
}

/* Q4_K / Q5_K: sub-blocks 2j (low nibbles) and 2j + 1 (high) of 32 bytes of qs, the
 * fifth bit from qh (bit s of qh[l] for sub-block s) when qh is not NULL. */
static inline void q45_K_pair(const uint8_t *qs, const uint8_t *qh, int j, __m256i *lo, __m256i *hi) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const __m256i q = loadu256(qs + 32 * j);
    *lo = _mm256_and_si256(q, m4);
    *hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
    if (qh != NULL) {
        const __m256i h = loadu256(qh);
        *lo = _mm256_or_si256(*lo, bit_to(h, 2 * j, 4));
        *hi = _mm256_or_si256(*hi, bit_to(h, 2 * j + 1, 4));
    }
}

/* Q6_K bytes (0..63) of the four 32-element groups of one half (see
 * lai_dequantize_row_q6_K). */
static inline void q6_K_half(const uint8_t *ql, const uint8_t *qh, __m256i u[4]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    const __m256i l0 = loadu256(ql), l1 = loadu256(ql + 32), h = loadu256(qh);
    u[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m3), 4));
    u[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m3), 4));
    u[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m3), 4));
    u[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m3), 4));
}

/* Q2_K / Q3_K: the 2-bit values of group g (32 elements) of one half, from its 32 qs
 * bytes; Q3_K adds the high bit (bit 4 * half + g of hmask[l]) as bit 2. */
static inline __m256i q2_group(__m256i q, int g) {
    return _mm256_and_si256(_mm256_srli_epi16(q, 2 * g), _mm256_set1_epi8(3));
}

static inline __m256i q3_group(__m256i q, __m256i hm, int half, int g) {
    return _mm256_or_si256(q2_group(q, g), bit_to(hm, 4 * half + g, 2));
}

/* The 12 packed scale bytes of Q3_K, Q4_K and Q5_K as 32-bit words [v0, v1, v2, 0]. */
static inline __m128i load_12(const uint8_t *p) {
    return _mm_insert_epi32(_mm_loadl_epi64((const __m128i *)p), load_i32(p + 8), 2);
}

/* Q4_K / Q5_K scales (bytes 0..7) and mins (bytes 8..15), as lai_k4_scale_min: words
 * [v0 & 0x3f.., v2 & 0x0f.. | (v0 >> 6 & 3..) << 4, v1 & 0x3f.., v2 >> 4 & 0x0f.. | (v1 >> 6 & 3..) << 4]. */
static inline __m128i k4_scales_mins(const uint8_t *scales) {
    const __m128i v = load_12(scales);
    const __m128i lo = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0)), _mm_setr_epi32(0, 0, 0, 4)),
                                     _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
    const __m128i hi = _mm_and_si128(_mm_srli_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0)), 2),
                                     _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
    return _mm_or_si128(lo, hi);
}

/* Q3_K's 16 signed scales (-32..31), as lai_k3_scale: word i holds the low nibbles
 * (v0, v1, v0 >> 4, v1 >> 4) and 2 bits of v2 (shifted by 2i) on top. */
static inline __m128i k3_scales(const uint8_t *scales) {
    const __m128i v = load_12(scales);
    const __m128i lo = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 1, 0)), _mm_setr_epi32(0, 0, 4, 4)),
                                     _mm_set1_epi8(0x0f));
    const __m128i hi = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 2, 2)), _mm_setr_epi32(0, 2, 4, 6)),
                                     _mm_set1_epi8(3));
    return _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi32(hi, 4)), _mm_set1_epi8(32));
}

/* IQ4_XS: the signed scale (-32..31) of sub-block s. */
static inline int iq4_xs_scale(const lai_block_iq4_xs *b, int s) {
    return (((b->scales_l[s / 2] >> (4 * (s % 2))) & 0x0f) | (((b->scales_h >> (2 * s)) & 3) << 4)) - 32;
}

/* ---- matrix-vector dots ----------------------------------------------------------- */

/* 32 products u * a (u unsigned below 128) summed to 8 int32. */
static inline __m256i dot_u8(__m256i u, __m256i a) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, a), _mm256_set1_epi16(1));
}

/* The same for signed weights w (-128..127): |w| times a with w's sign. */
static inline __m256i dot_s8(__m256i w, __m256i a) {
    return dot_u8(_mm256_abs_epi8(w), _mm256_sign_epi8(a, w));
}

/* 16-bit pair sums of u * a, each pair scaled by s (signed 16-bit) into int32. */
static inline __m256i dot_u8_scaled(__m256i u, __m256i a, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, a), s);
}

/* A value in lane 0 only, to take a block's offset term off its lane sums. */
static inline __m256i lane0(int32_t v) { return _mm256_setr_epi32(v, 0, 0, 0, 0, 0, 0, 0); }

/* The scales of the sub-blocks of 16 of one half (128 elements), 16-bit, in both lanes. */
static inline __m256i half_scales(__m128i eight_bytes, int is_signed) {
    const __m128i v = is_signed ? _mm_cvtepi8_epi16(eight_bytes) : _mm_cvtepu8_epi16(eight_bytes);
    return _mm256_broadcastsi128_si256(v);
}

/* Scale s of 8 16-bit scales (in both lanes) in every lane (s constant once unrolled). */
static inline __m256i scale_all(__m256i eight, int s) {
    const short pair = (short)((2 * s) | (2 * s + 1) << 8);
    return _mm256_shuffle_epi8(eight, _mm256_set1_epi16(pair));
}

/* Scales 2g and 2g + 1 of half_scales for the lane halves [elements 0..15 | 16..31] of
 * group g's 32-byte product (g constant once the loops are unrolled). */
static inline __m256i scale_pair(__m256i half, int g) {
    const char a = (char)(4 * g), b = (char)(4 * g + 1), c = (char)(4 * g + 2), d = (char)(4 * g + 3);
    return _mm256_shuffle_epi8(half, _mm256_setr_epi8(a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b,
                                                      c, d, c, d, c, d, c, d, c, d, c, d, c, d, c, d));
}

/* The 32-element formats: per block an integer dot (8 lanes), its scale, and for Q4_1 /
 * Q5_1 the min term; two accumulators for two blocks in flight. R = 1 or 2 rows against
 * the same activations (loaded once for both); each row's sums are formed in the same
 * order as alone, so a pair gives bit for bit the single-row results. */
enum { D32_Q4_0, D32_Q4_1, D32_Q5_0, D32_Q5_1, D32_Q8_0, D32_IQ4_NL };

static inline uint16_t load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The integer dot of one block (its bytes at blk) with its activations `act`, offset
 * taken off. */
static inline __attribute__((always_inline)) __m256i d32_lanes(const uint8_t *blk, const lai_act_q8 *a, __m256i act,
                                                               const int kind, __m256i table) {
    switch (kind) {
    case D32_Q4_0: return _mm256_sub_epi32(dot_u8(nibbles_32(blk + 2), act), lane0(8 * a->sum));
    case D32_Q4_1: return dot_u8(nibbles_32(blk + 4), act);
    case D32_Q5_0: return _mm256_sub_epi32(dot_u8(q5_bytes(blk + 6, blk + 2), act), lane0(16 * a->sum));
    case D32_Q5_1: return dot_u8(q5_bytes(blk + 8, blk + 4), act);
    case D32_Q8_0: return dot_s8(loadu256(blk + 2), act);
    default: return dot_s8(_mm256_shuffle_epi8(table, nibbles_32(blk + 2)), act);
    }
}

static inline __attribute__((always_inline)) void dot32_rows(const uint8_t *const *wr, const int R, const lai_act_q8 *a,
                                                             int64_t n, const int kind, const size_t bsize, float *out) {
    const int64_t nb = n / 32;
    const int has_min = kind == D32_Q4_1 || kind == D32_Q5_1;
    const __m256i table = kind == D32_IQ4_NL ? iq4_table() : _mm256_setzero_si256();
    __m256 acc0[2], acc1[2];
    float sum_min[2];
    for (int r = 0; r < R; r++) {
        acc0[r] = acc1[r] = _mm256_setzero_ps();
        sum_min[r] = 0.0f;
    }
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m256i a0 = loadu256(a[b].qs), a1 = loadu256(a[b + 1].qs);
        for (int r = 0; r < R; r++) {
            const uint8_t *b0 = wr[r] + (size_t)b * bsize, *b1 = b0 + bsize;
            lai_prefetch_ahead(b0, 2 * bsize);
            acc0[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d32_lanes(b0, &a[b], a0, kind, table)),
                                      _mm256_set1_ps(f16(load_u16(b0)) * a[b].d), acc0[r]);
            if (has_min) sum_min[r] += f16(load_u16(b0 + 2)) * a[b].s;
            acc1[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d32_lanes(b1, &a[b + 1], a1, kind, table)),
                                      _mm256_set1_ps(f16(load_u16(b1)) * a[b + 1].d), acc1[r]);
            if (has_min) sum_min[r] += f16(load_u16(b1 + 2)) * a[b + 1].s;
        }
    }
    for (; b < nb; b++) {
        const __m256i a0 = loadu256(a[b].qs);
        for (int r = 0; r < R; r++) {
            const uint8_t *b0 = wr[r] + (size_t)b * bsize;
            acc0[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d32_lanes(b0, &a[b], a0, kind, table)),
                                      _mm256_set1_ps(f16(load_u16(b0)) * a[b].d), acc0[r]);
            if (has_min) sum_min[r] += f16(load_u16(b0 + 2)) * a[b].s;
        }
    }
    for (int r = 0; r < R; r++) out[r] = hsum_ps(_mm256_add_ps(acc0[r], acc1[r])) + sum_min[r];
}

/* The entries of one 32-element type: a row, and a pair of rows (vec_dot_x2). */
#define D32_ENTRIES(name, kind, block)                                                                  \
    static float vec_dot_##name(const void *w, const void *a, int64_t n) {                              \
        const uint8_t *rows[1] = {w};                                                                   \
        float v;                                                                                        \
        dot32_rows(rows, 1, a, n, kind, sizeof(block), &v);                                             \
        return v;                                                                                       \
    }                                                                                                   \
    static void vec_dot_x2_##name(const void *w0, const void *w1, const void *a, int64_t n, float out[2]) { \
        const uint8_t *rows[2] = {w0, w1};                                                              \
        dot32_rows(rows, 2, a, n, kind, sizeof(block), out);                                            \
    }

D32_ENTRIES(q4_0, D32_Q4_0, lai_block_q4_0)
D32_ENTRIES(q4_1, D32_Q4_1, lai_block_q4_1)
D32_ENTRIES(q5_0, D32_Q5_0, lai_block_q5_0)
D32_ENTRIES(q5_1, D32_Q5_1, lai_block_q5_1)
D32_ENTRIES(q8_0, D32_Q8_0, lai_block_q8_0)
D32_ENTRIES(iq4_nl, D32_IQ4_NL, lai_block_iq4_nl)

/* The K-quants: integer sums per super-block in 8 lanes, scaled once per super-block. */

static inline void dot_q45_K(const uint8_t *scales, uint16_t d16, uint16_t dmin16, const uint8_t *qs,
                              const uint8_t *qh, const lai_act_q8k *a, __m256 *acc, __m128 *acc_min) {
    const __m128i sm = k4_scales_mins(scales);
    const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
    /* mins times the activation sums of each sub-block of 32 */
    const __m128i bsum32 = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)a->bsums),
                                          _mm_loadu_si128((const __m128i *)(a->bsums + 8)));
    const __m128i mins = _mm_cvtepu8_epi16(_mm_unpackhi_epi64(sm, sm));
    *acc_min = _mm_fmadd_ps(_mm_set1_ps(a->d * f16(dmin16)), _mm_cvtepi32_ps(_mm_madd_epi16(mins, bsum32)), *acc_min);
    __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        __m256i lo, hi;
        q45_K_pair(qs, qh, j, &lo, &hi);
        const __m256i plo = dot_u8_scaled(lo, loadu256(a->qs + 64 * j), scale_all(sc, 2 * j));
        const __m256i phi = dot_u8_scaled(hi, loadu256(a->qs + 64 * j + 32), scale_all(sc, 2 * j + 1));
        isum = _mm256_add_epi32(isum, _mm256_add_epi32(plo, phi));
    }
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(a->d * f16(d16)), _mm256_cvtepi32_ps(isum), *acc);
}

/* d * sum_q minus dmin * sum_m, over the super-blocks */
static inline float k_result(__m256 acc, __m128 acc_min) {
    __m128 m = _mm_add_ps(acc_min, _mm_movehl_ps(acc_min, acc_min));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    return hsum_ps(acc) - _mm_cvtss_f32(m);
}

static float vec_dot_q4_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q4_K *w = wr;
    const lai_act_q8k *a = ar;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_min = _mm_setzero_ps();
    for (int64_t b = 0; b < n / 256; b++) {
        lai_prefetch_ahead(&w[b], sizeof w[b]);
        dot_q45_K(w[b].scales, w[b].d, w[b].dmin, w[b].qs, NULL, &a[b], &acc, &acc_min);
    }
    return k_result(acc, acc_min);
}

static float vec_dot_q5_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q5_K *w = wr;
    const lai_act_q8k *a = ar;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_min = _mm_setzero_ps();
    for (int64_t b = 0; b < n / 256; b++) {
        lai_prefetch_ahead(&w[b], sizeof w[b]);
        dot_q45_K(w[b].scales, w[b].d, w[b].dmin, w[b].qs, w[b].qh, &a[b], &acc, &acc_min);
    }
    return k_result(acc, acc_min);
}

/* sum over the 16 sub-blocks of 16 of scale_j * bsums_j (scales signed bytes) */
static inline __m256i scaled_bsums(const int8_t *scales, const int16_t *bsums) {
    return _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)scales)), loadu256(bsums));
}

static float vec_dot_q6_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q6_K *w = wr;
    const lai_act_q8k *a = ar;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 256; b++) {
        lai_prefetch_ahead(&w[b], sizeof w[b]);
        const int8_t *sc = w[b].scales;
        /* the values were stored + 32: take 32 * sum(scale * bsum) off */
        __m256i isum = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(scaled_bsums(sc, a[b].bsums), 5));
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i u[4];
            q6_K_half(w[b].ql + 64 * h, w[b].qh + 32 * h, u);
            const __m256i hs = half_scales(_mm_loadl_epi64((const __m128i *)(sc + 8 * h)), 1);
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++)
                isum = _mm256_add_epi32(isum, dot_u8_scaled(u[g], loadu256(a[b].qs + 128 * h + 32 * g), scale_pair(hs, g)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16(w[b].d) * a[b].d), _mm256_cvtepi32_ps(isum), acc);
    }
    return hsum_ps(acc);
}

static float vec_dot_q2_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q2_K *w = wr;
    const lai_act_q8k *a = ar;
    __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 256; b++) {
        lai_prefetch_ahead(&w[b], sizeof w[b]);
        const __m128i scm = _mm_loadu_si128((const __m128i *)w[b].scales);
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(scm, 4), _mm_set1_epi8(0x0f)));
        const __m256i summ = _mm256_madd_epi16(mins, loadu256(a[b].bsums));
        const __m128i sc = _mm_and_si128(scm, _mm_set1_epi8(0x0f));
        __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m256i q = loadu256(w[b].qs + 32 * h);
            const __m256i hs = half_scales(h == 0 ? sc : _mm_unpackhi_epi64(sc, sc), 0);
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++)
                isum = _mm256_add_epi32(isum, dot_u8_scaled(q2_group(q, g), loadu256(a[b].qs + 128 * h + 32 * g),
                                                             scale_pair(hs, g)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a[b].d * f16(w[b].d)), _mm256_cvtepi32_ps(isum), acc);
        acc_min = _mm256_fmadd_ps(_mm256_set1_ps(a[b].d * f16(w[b].dmin)), _mm256_cvtepi32_ps(summ), acc_min);
    }
    return hsum_ps(_mm256_sub_ps(acc, acc_min));
}

static float vec_dot_q3_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q3_K *w = wr;
    const lai_act_q8k *a = ar;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 256; b++) {
        lai_prefetch_ahead(&w[b], sizeof w[b]);
        const __m128i sc = k3_scales(w[b].scales);
        /* u = q + 4 (the clear high bit subtracts 4): take 4 * sum(scale * bsum) off */
        const __m256i sbs = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc), loadu256(a[b].bsums));
        __m256i isum = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sbs, 2));
        const __m256i hm = loadu256(w[b].hmask);
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m256i q = loadu256(w[b].qs + 32 * h);
            const __m256i hs = half_scales(h == 0 ? sc : _mm_unpackhi_epi64(sc, sc), 1);
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++)
                isum = _mm256_add_epi32(isum, dot_u8_scaled(q3_group(q, hm, h, g), loadu256(a[b].qs + 128 * h + 32 * g),
                                                             scale_pair(hs, g)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16(w[b].d) * a[b].d), _mm256_cvtepi32_ps(isum), acc);
    }
    return hsum_ps(acc);
}

static float vec_dot_iq4_xs(const void *wr, const void *ar, int64_t n) {
    const lai_block_iq4_xs *w = wr;
    const lai_act_q8k *a = ar;
    const __m256i table = iq4_table();
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 256; b++) {
        lai_prefetch_ahead(&w[b], sizeof w[b]);
        __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int s = 0; s < 8; s++) {
            const __m256i v = _mm256_shuffle_epi8(table, nibbles_32(w[b].qs + 16 * s));
            const __m256i av = loadu256(a[b].qs + 32 * s);
            const __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(v), _mm256_sign_epi8(av, v));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, _mm256_set1_epi16((short)iq4_xs_scale(&w[b], s))));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16(w[b].d) * a[b].d), _mm256_cvtepi32_ps(isum), acc);
    }
    return hsum_ps(acc);
}

/* ---- float rows ------------------------------------------------------------------- */

static float dot_f32(const float *a, const float *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static inline __m256 load_f16(const uint16_t *h) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
}

static inline __m256 load_bf16(const uint16_t *h) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)h)), 16));
}

static inline float bf16_f32(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* F16 / BF16 rows (R of them, 1 or 2, constant once inlined) against one x: four
 * accumulators of 8 per row, the x vectors loaded once for every row. A row's sum does
 * not depend on R, so the paired dots give the single-row dot's result bit for bit. */
static inline __attribute__((always_inline)) void dot_h_rows(const uint16_t *const *w, const int R, const int bf16,
                                                             const float *x, int64_t n, float *out) {
    __m256 s[2][4];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < 4; j++) s[r][j] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 xv[4];
        for (int j = 0; j < 4; j++) xv[j] = _mm256_loadu_ps(x + i + 8 * j);
        for (int r = 0; r < R; r++) {
            lai_prefetch_ahead(w[r] + i, 32 * sizeof *w[r]);
            for (int j = 0; j < 4; j++) {
                const uint16_t *h = w[r] + i + 8 * j;
                s[r][j] = _mm256_fmadd_ps(bf16 ? load_bf16(h) : load_f16(h), xv[j], s[r][j]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        int64_t t = i;
        __m256 s0 = s[r][0];
        for (; t + 8 <= n; t += 8) s0 = _mm256_fmadd_ps(bf16 ? load_bf16(w[r] + t) : load_f16(w[r] + t), _mm256_loadu_ps(x + t), s0);
        float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s[r][1]), _mm256_add_ps(s[r][2], s[r][3])));
        for (; t < n; t++) sum += (bf16 ? bf16_f32(w[r][t]) : f16(w[r][t])) * x[t];
        out[r] = sum;
    }
}

LAI_DOT_H_ENTRIES

static void f16_to_f32(const uint16_t *h, float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, load_f16(h + i));
    for (; i < n; i++) x[i] = f16(h[i]);
}

/* vcvtps2ph rounds to nearest even like lai_f32_to_f16, and quiets a NaN the same way. */
static void f32_to_f16(const float *x, uint16_t *h, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) h[i] = lai_f32_to_f16(x[i]);
}

/* e^x for 8 floats: 2^n * p(r), r = x - n ln 2 in [-ln2/2, ln2/2], p Cephes' degree-7
 * fit (about 1 ulp); saturates to 0 and +inf outside float range like expf. 2^n is
 * applied in two steps so that n below -126 gives expf's subnormals. */
static inline __m256 exp_ps(__m256 x) {
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.7228f)), _mm256_set1_ps(-103.97f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500E-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* n in [-150, 128]: 2^n1 * 2^n2 with n1 = n >> 1, both normal */
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

static void silu_mul(const float *g, const float *u, float *out, int64_t n) {
    int64_t i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 s = _mm256_div_ps(x, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x))));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void gelu_mul(const float *g, const float *u, float *out, int64_t n) {
    const __m256 k = _mm256_set1_ps(0.7978845608028654f), c = _mm256_set1_ps(0.044715f);
    const __m256 one = _mm256_set1_ps(1.0f), half = _mm256_set1_ps(0.5f), two = _mm256_set1_ps(2.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 z = _mm256_mul_ps(_mm256_mul_ps(k, x), _mm256_fmadd_ps(_mm256_mul_ps(c, x), x, one));
        /* tanh z = 1 - 2 / (e^2z + 1) */
        const __m256 t = _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(exp_ps(_mm256_mul_ps(two, z)), one)));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, t)),
                                                _mm256_loadu_ps(u + i)));
    }
    lai_cpu_kernels_scalar()->gelu_mul(g + i, u + i, out + i, n - i);
}

static float sum_sq(const float *x, int64_t n) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        s0 = _mm256_fmadd_pd(lo, lo, s0);
        s1 = _mm256_fmadd_pd(hi, hi, s1);
    }
    const __m256d s = _mm256_add_pd(s0, s1);
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    double sum = _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
    for (; i < n; i++) sum += (double)x[i] * (double)x[i];
    return (float)sum;
}

static void scale_mul(const float *x, float s, const float *w, float *out, int64_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    if (w != NULL) {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i)));
        for (; i < n; i++) out[i] = x[i] * s * w[i];
    } else {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
        for (; i < n; i++) out[i] = x[i] * s;
    }
}

static float exp_sum(float *x, float max, int64_t n) {
    const __m256 vm = _mm256_set1_ps(max);
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
        const __m256 e = _mm256_and_ps(exp_ps(d), _mm256_cmp_ps(d, _mm256_set1_ps(LAI_EXP_CUT), _CMP_NLT_UQ));
        _mm256_storeu_ps(x + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    float sum = hsum_ps(acc);
    for (; i < n; i++) {
        x[i] = lai_exp_cut(x[i] - max);
        sum += x[i];
    }
    return sum;
}

/* The sums of eight vectors, in order, as one vector. */
static inline __m256 hsum8_ps(const __m256 a[8]) {
    const __m256 h0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
    const __m256 h1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
    /* h0 = [lane-0 halves of a0..a3 | lane-1 halves of a0..a3], h1 likewise for a4..a7 */
    return _mm256_add_ps(_mm256_permute2f128_ps(h0, h1, 0x20), _mm256_permute2f128_ps(h0, h1, 0x31));
}

/* Eight rows at a time, each with its own accumulator: q is loaded once per 8 elements
 * for all of them, and one horizontal reduction serves eight results. */
static void dot_rows(const float *q, const float *rows, size_t ld, int64_t nc, int64_t n, float *out) {
    const int64_t n8 = n & ~(int64_t)7;
    int64_t c = 0;
    for (; c + 8 <= nc; c += 8) {
        const float *r = rows + (size_t)c * ld;
        __m256 a[8];
        for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
        for (int64_t i = 0; i < n8; i += 8) {
            const __m256 qv = _mm256_loadu_ps(q + i);
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(r + (size_t)j * ld + (size_t)i), a[j]);
        }
        _mm256_storeu_ps(out + c, hsum8_ps(a));
        for (int64_t i = n8; i < n; i++)
            for (int j = 0; j < 8; j++) out[c + j] += q[i] * r[(size_t)j * ld + (size_t)i];
    }
    for (; c < nc; c++) out[c] = dot_f32(q, rows + (size_t)c * ld, n);
}

/* QB queries x W vectors of 8 floats (columns i..), over the listed cells: each row's
 * vectors are loaded once for the QB queries, whose accumulators stay in registers. */
static inline __attribute__((always_inline)) void axpy_block(const float *p, size_t ldp, const float *rows, size_t ld,
                                                             const int32_t *idx, int m, float *y, size_t ldy,
                                                             int64_t i, const int QB, const int W) {
    __m256 a[2][4];
    for (int q = 0; q < QB; q++)
        for (int w = 0; w < W; w++) a[q][w] = _mm256_loadu_ps(y + (size_t)q * ldy + (size_t)i + 8 * w);
    for (int j = 0; j < m; j++) {
        const int32_t c = idx[j];
        const float *x = rows + (size_t)c * ld + (size_t)i;
        __m256 v[4];
        for (int w = 0; w < W; w++) v[w] = _mm256_loadu_ps(x + 8 * w);
        for (int q = 0; q < QB; q++) {
            const __m256 pv = _mm256_set1_ps(p[(size_t)q * ldp + (size_t)c]);
            for (int w = 0; w < W; w++) a[q][w] = _mm256_fmadd_ps(pv, v[w], a[q][w]);
        }
    }
    for (int q = 0; q < QB; q++)
        for (int w = 0; w < W; w++) _mm256_storeu_ps(y + (size_t)q * ldy + (size_t)i + 8 * w, a[q][w]);
}

static inline __attribute__((always_inline)) void axpy_queries(const float *p, size_t ldp, int64_t nq, const float *rows,
                                                               size_t ld, const int32_t *idx, int m, float *y,
                                                               size_t ldy, int64_t i, const int W) {
    int64_t q = 0;
    for (; q + 2 <= nq; q += 2) axpy_block(p + (size_t)q * ldp, ldp, rows, ld, idx, m, y + (size_t)q * ldy, ldy, i, 2, W);
    if (q < nq) axpy_block(p + (size_t)q * ldp, ldp, rows, ld, idx, m, y + (size_t)q * ldy, ldy, i, 1, W);
}

/* Cells in groups of 64: the ones some query weighs listed once, then y in blocks of 32
 * columns, two queries at a time; the last columns 8 at a time, then one by one. */
static void axpy_rows(const float *p, size_t ldp, int64_t nq, const float *rows, size_t ld, int64_t nc, float *y,
                      size_t ldy, int64_t n) {
    for (int64_t c0 = 0; c0 < nc; c0 += 64) {
        const int64_t gc = LAI_MIN(64, nc - c0);
        uint64_t any = 0;
        for (int64_t q = 0; q < nq; q++) {
            const float *pq = p + (size_t)q * ldp + (size_t)c0;
            int64_t c = 0;
            for (; c + 8 <= gc; c += 8)
                any |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(pq + c), _mm256_setzero_ps(), _CMP_NEQ_UQ))
                       << c;
            for (; c < gc; c++) any |= (uint64_t)(pq[c] != 0.0f) << c;
        }
        int32_t idx[64];
        const int m = lai_cells_of(any, idx);
        if (m == 0) continue;
        const float *pc = p + c0, *rc = rows + (size_t)c0 * ld;
        int64_t i = 0;
        for (; i + 32 <= n; i += 32) axpy_queries(pc, ldp, nq, rc, ld, idx, m, y, ldy, i, 4);
        for (; i + 8 <= n; i += 8) axpy_queries(pc, ldp, nq, rc, ld, idx, m, y, ldy, i, 1);
        for (; i < n; i++)
            for (int64_t q = 0; q < nq; q++) {
                float acc = y[(size_t)q * ldy + (size_t)i];
                for (int j = 0; j < m; j++) acc += pc[(size_t)q * ldp + (size_t)idx[j]] * rc[(size_t)idx[j] * ld + (size_t)i];
                y[(size_t)q * ldy + (size_t)i] = acc;
            }
    }
}

static void scale(float *y, float a, int64_t n) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(va, _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] *= a;
}

/* ---- GEMM ------------------------------------------------------------------------- */

/*
 * Tiles of 8 columns: per sub-block, G = sub / 4 vectors of 8 columns x 4 bytes, then d_a,
 * sum(a) and amin of the 8 columns (lai_gemm_pack_act). A pass takes GEMM_R weight rows;
 * each group of four weight bytes is broadcast against the tile vector of that group.
 *
 * Unpacked rows hold u = q + off (0..63) for the types of up to 6 bits, but the signed
 * value q itself (u ^ 0x80) for the types with off = 128, whose products go through the
 * sign trick: u up to 255 would saturate vpmaddubsw's pairs. The sign goes onto the
 * broadcast weight bytes against |a|, taken once per tile vector for all rows; that is
 * exact unless q = -128 (its negation wraps), so the unpack marks each such row (a Q8_0
 * row holding -128; IQ4 values never are) with min[0] = 1 and those rows' passes take
 * |q| times a with q's sign instead (the types with off = 128 have no mins).
 */
enum { TILE_COLS = 8, GEMM_R = 4, GEMM_ROWS = 64, F32_R = 8 };
enum { UNSIGNED = 0, SIGNED_BY_WEIGHT = 1, SIGNED_BY_TILE = 2 };

/* A value the compiler must hold in a register as it is: keeps the 16-bit sums a chain in
 * program order (GCC reassociates them into a tree whose partial sums spill to the stack). */
static inline __m256i in_register(__m256i v) {
    __asm__("" : "+x"(v));
    return v;
}

static inline __attribute__((always_inline)) void gemm_rows(const uint8_t *u, const float *scale, const float *min,
                                                            int nr, int64_t K, const uint8_t *tile, float *out,
                                                            size_t out_stride, int n_cols, const int G,
                                                            const int off_shift, const int has_min, const int chain,
                                                            const int sign_mode) {
    const int sub = 4 * G;
    const int64_t nsb = K / sub;
    const size_t sb_bytes = (size_t)G * 32 + 96;
    const uint8_t *ur[GEMM_R];
    const float *sr[GEMM_R], *mr[GEMM_R];
    for (int r = 0; r < GEMM_R; r++) { /* rows past nr repeat the last one; their results are dropped */
        const int rr = r < nr ? r : nr - 1;
        ur[r] = u + (size_t)rr * (size_t)K;
        sr[r] = scale + (size_t)rr * (size_t)nsb;
        mr[r] = min + (size_t)rr * (size_t)nsb;
    }
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[GEMM_R];
    for (int r = 0; r < GEMM_R; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *t = tile + (size_t)b * sb_bytes;
        const size_t ub = (size_t)b * (size_t)sub;
        __m256i p16[GEMM_R], p32[GEMM_R];
#pragma GCC unroll 8
        for (int g = 0; g < G; g++) {
            const __m256i av = loadu256(t + 32 * g);
            const __m256i aabs = sign_mode == SIGNED_BY_TILE ? _mm256_abs_epi8(av) : av;
#pragma GCC unroll 8
            for (int r = 0; r < GEMM_R; r++) {
                const __m256i w = _mm256_set1_epi32(load_i32(ur[r] + ub + 4 * (size_t)g));
                const __m256i m = sign_mode == SIGNED_BY_TILE     ? _mm256_maddubs_epi16(aabs, _mm256_sign_epi8(w, av))
                                  : sign_mode == SIGNED_BY_WEIGHT ? _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(av, w))
                                                                  : _mm256_maddubs_epi16(w, av);
                p16[r] = g % chain == 0 ? m : in_register(_mm256_add_epi16(p16[r], m));
                if (g % chain == chain - 1) {
                    const __m256i x = _mm256_madd_epi16(p16[r], ones);
                    p32[r] = g < chain ? x : in_register(_mm256_add_epi32(p32[r], x));
                }
            }
        }
        const __m256 dv = _mm256_loadu_ps((const float *)(const void *)(t + (size_t)G * 32));
        const __m256i offv = off_shift >= 0 ? _mm256_slli_epi32(loadu256(t + (size_t)G * 32 + 32), off_shift)
                                            : _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int r = 0; r < GEMM_R; r++) {
            const __m256i ia = off_shift >= 0 ? _mm256_sub_epi32(p32[r], offv) : p32[r];
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ia), _mm256_mul_ps(_mm256_broadcast_ss(sr[r] + b), dv), acc[r]);
            if (has_min) {
                const __m256 mv = _mm256_loadu_ps((const float *)(const void *)(t + (size_t)G * 32 + 64));
                acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(mr[r] + b), mv, acc[r]);
            }
        }
    }
    float tmp[GEMM_R][TILE_COLS];
    for (int r = 0; r < GEMM_R; r++) _mm256_storeu_ps(tmp[r], acc[r]);
    for (int c = 0; c < n_cols; c++)
        for (int r = 0; r < nr; r++) out[(size_t)c * out_stride + (size_t)r] = tmp[r][c];
}

/* Rows that hold -128 (only Q8_0 rows can) are marked by the unpack with min[0] = 1. */
static int any_wraps(const float *min, int nr, int64_t nsb) {
    for (int r = 0; r < nr; r++)
        if (min[(size_t)r * (size_t)nsb] != 0.0f) return 1;
    return 0;
}

/*
 * The kernel for each format. CHAIN groups of 16-bit pair sums (each at most 2 * 127 * umax,
 * umax the largest unpacked byte) may be added before widening while CHAIN * 254 * umax <
 * 32768: 4-bit u (umax 15) 8, 5-bit (31) 4, Q6_K (63) 2; Q3_K (7) and Q2_K (3) add all four
 * groups of their 16-element sub-blocks; the signed types, whose pairs reach 2 * 127 * 127
 * (2 * 128 * 127 for a row with -128), widen every group. Q4_1 / Q4_K and Q5_1 / Q5_K have
 * the same geometry (off 0 with mins), so the format pointer tells their bit widths apart.
 */
static void gemm_run(const lai_weight_format *fmt, const uint8_t *u, const float *scale, const float *min,
                     int n_rows, int64_t K, const void *tile, int n_cols, float *out, size_t out_stride) {
    const int64_t nsb = K / fmt->sub;
    const int four_bit_min = fmt == lai_weight_format_get(LAI_TYPE_Q4_1) || fmt == lai_weight_format_get(LAI_TYPE_Q4_K);
    for (int r0 = 0; r0 < n_rows; r0 += GEMM_R) {
        const int nr = LAI_MIN(GEMM_R, n_rows - r0);
        const uint8_t *ur = u + (size_t)r0 * (size_t)K;
        const float *sr = scale + (size_t)r0 * (size_t)nsb, *mr = min + (size_t)r0 * (size_t)nsb;
        float *o = out + r0;
        /* G groups of 4 per sub-block, offset as a shift of sum(a) (-1: none), mins, CHAIN, sign mode */
#define GEMM_CASE(G, SH, MIN, CHAIN, SIGNED) \
    gemm_rows(ur, sr, mr, nr, K, tile, o, out_stride, n_cols, G, SH, MIN, CHAIN, SIGNED)
        if (fmt->sub == 32) {
            if (fmt->off == 128) { /* Q8_0, IQ4_NL, IQ4_XS */
                if (any_wraps(mr, nr, nsb)) GEMM_CASE(8, -1, 0, 1, SIGNED_BY_WEIGHT);
                else GEMM_CASE(8, -1, 0, 1, SIGNED_BY_TILE);
            } else if (fmt->off == 8) { /* Q4_0 */
                GEMM_CASE(8, 3, 0, 8, UNSIGNED);
            } else if (fmt->off == 16) { /* Q5_0 */
                GEMM_CASE(8, 4, 0, 4, UNSIGNED);
            } else if (four_bit_min) { /* Q4_1, Q4_K */
                GEMM_CASE(8, -1, 1, 8, UNSIGNED);
            } else { /* Q5_1, Q5_K */
                GEMM_CASE(8, -1, 1, 4, UNSIGNED);
            }
        } else {
            if (fmt->off == 32) GEMM_CASE(4, 5, 0, 2, UNSIGNED);     /* Q6_K */
            else if (fmt->off == 4) GEMM_CASE(4, 2, 0, 4, UNSIGNED); /* Q3_K */
            else GEMM_CASE(4, -1, 1, 4, UNSIGNED);                   /* Q2_K */
        }
#undef GEMM_CASE
    }
}

static inline void store_u(uint8_t *dst, __m256i v) { _mm256_storeu_si256((__m256i *)dst, v); }

/* 8 small integers (32-bit lanes) times d, stored as floats */
static inline void store_scaled(float *dst, __m256i v, float d) {
    _mm256_storeu_ps(dst, _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(v)));
}

/* 8 bytes of a block as 32-bit lanes */
static inline __m256i u8x8(const uint8_t *p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)); }
static inline __m256i s8x8(const int8_t *p) { return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)); }

/* Rows unpacked with vector code (the same bytes, scales and mins as the formats' own
 * unpack, except the signed bytes of the off = 128 types). */
static void gemm_unpack(uint32_t type, const lai_weight_format *fmt, const uint8_t *w, size_t row_stride,
                        int n_rows, int64_t K, uint8_t *u, float *scale, float *min) {
    const int64_t nsb = K / fmt->sub, nblk = K / fmt->block;
    const int per_blk = (int)(fmt->block / fmt->sub);
    const __m256i table = iq4_table();
    for (int r = 0; r < n_rows; r++) {
        const uint8_t *row = w + (size_t)r * row_stride;
        uint8_t *ur = u + (size_t)r * (size_t)K;
        float *sr = scale + (size_t)r * (size_t)nsb, *mr = min + (size_t)r * (size_t)nsb;
        /* the next row asked for now: a mapped file's hardware prefetch stops at every page */
        for (size_t off = 0; off < row_stride; off += 64) __builtin_prefetch(row + row_stride + off, 0, 3);
        switch (type) {
        case LAI_TYPE_Q4_0: {
            const lai_block_q4_0 *bl = (const lai_block_q4_0 *)row;
            for (int64_t i = 0; i < nblk; i++) {
                store_u(ur + 32 * i, nibbles_32(bl[i].qs));
                sr[i] = f16(bl[i].d);
            }
            break;
        }
        case LAI_TYPE_Q4_1: {
            const lai_block_q4_1 *bl = (const lai_block_q4_1 *)row;
            for (int64_t i = 0; i < nblk; i++) {
                store_u(ur + 32 * i, nibbles_32(bl[i].qs));
                sr[i] = f16(bl[i].d);
                mr[i] = f16(bl[i].m);
            }
            break;
        }
        case LAI_TYPE_Q5_0: {
            const lai_block_q5_0 *bl = (const lai_block_q5_0 *)row;
            for (int64_t i = 0; i < nblk; i++) {
                store_u(ur + 32 * i, q5_bytes(bl[i].qs, bl[i].qh));
                sr[i] = f16(bl[i].d);
            }
            break;
        }
        case LAI_TYPE_Q5_1: {
            const lai_block_q5_1 *bl = (const lai_block_q5_1 *)row;
            for (int64_t i = 0; i < nblk; i++) {
                store_u(ur + 32 * i, q5_bytes(bl[i].qs, bl[i].qh));
                sr[i] = f16(bl[i].d);
                mr[i] = f16(bl[i].m);
            }
            break;
        }
        case LAI_TYPE_Q8_0: {
            const lai_block_q8_0 *bl = (const lai_block_q8_0 *)row;
            __m256i wraps = _mm256_setzero_si256();
            for (int64_t i = 0; i < nblk; i++) {
                const __m256i q = loadu256(bl[i].qs);
                wraps = _mm256_or_si256(wraps, _mm256_cmpeq_epi8(q, _mm256_set1_epi8(-128)));
                store_u(ur + 32 * i, q);
                sr[i] = f16(bl[i].d);
            }
            mr[0] = _mm256_testz_si256(wraps, wraps) ? 0.0f : 1.0f;
            break;
        }
        case LAI_TYPE_IQ4_NL: {
            const lai_block_iq4_nl *bl = (const lai_block_iq4_nl *)row;
            for (int64_t i = 0; i < nblk; i++) {
                store_u(ur + 32 * i, _mm256_shuffle_epi8(table, nibbles_32(bl[i].qs)));
                sr[i] = f16(bl[i].d);
            }
            mr[0] = 0.0f;
            break;
        }
        case LAI_TYPE_Q2_K: {
            const lai_block_q2_K *bl = (const lai_block_q2_K *)row;
            for (int64_t i = 0; i < nblk; i++) {
                for (int h = 0; h < 2; h++) {
                    const __m256i q = loadu256(bl[i].qs + 32 * h);
                    for (int g = 0; g < 4; g++) store_u(ur + 256 * i + 128 * h + 32 * g, q2_group(q, g));
                }
                const float d = f16(bl[i].d), dmin = f16(bl[i].dmin);
                for (int j = 0; j < 16; j += 8) {
                    const __m256i v = u8x8(bl[i].scales + j);
                    store_scaled(sr + 16 * i + j, _mm256_and_si256(v, _mm256_set1_epi32(0x0f)), d);
                    store_scaled(mr + 16 * i + j, _mm256_srli_epi32(v, 4), -dmin);
                }
            }
            break;
        }
        case LAI_TYPE_Q3_K: {
            const lai_block_q3_K *bl = (const lai_block_q3_K *)row;
            for (int64_t i = 0; i < nblk; i++) {
                const __m256i hm = loadu256(bl[i].hmask);
                for (int h = 0; h < 2; h++) {
                    const __m256i q = loadu256(bl[i].qs + 32 * h);
                    for (int g = 0; g < 4; g++) store_u(ur + 256 * i + 128 * h + 32 * g, q3_group(q, hm, h, g));
                }
                const __m128i sc = k3_scales(bl[i].scales);
                const float d = f16(bl[i].d);
                store_scaled(sr + 16 * i, _mm256_cvtepi8_epi32(sc), d);
                store_scaled(sr + 16 * i + 8, _mm256_cvtepi8_epi32(_mm_unpackhi_epi64(sc, sc)), d);
            }
            break;
        }
        case LAI_TYPE_Q4_K:
        case LAI_TYPE_Q5_K: {
            const int five = type == LAI_TYPE_Q5_K;
            const size_t bbytes = five ? sizeof(lai_block_q5_K) : sizeof(lai_block_q4_K);
            for (int64_t i = 0; i < nblk; i++) {
                const uint8_t *blk = row + (size_t)i * bbytes;
                uint16_t d16, dmin16;
                const uint8_t *scales, *qs, *qh;
                if (five) {
                    const lai_block_q5_K *b5 = (const lai_block_q5_K *)blk;
                    d16 = b5->d, dmin16 = b5->dmin, scales = b5->scales, qs = b5->qs, qh = b5->qh;
                } else {
                    const lai_block_q4_K *b4 = (const lai_block_q4_K *)blk;
                    d16 = b4->d, dmin16 = b4->dmin, scales = b4->scales, qs = b4->qs, qh = NULL;
                }
                for (int j = 0; j < 4; j++) {
                    __m256i lo, hi;
                    q45_K_pair(qs, qh, j, &lo, &hi);
                    store_u(ur + 256 * i + 64 * j, lo);
                    store_u(ur + 256 * i + 64 * j + 32, hi);
                }
                const __m128i sm = k4_scales_mins(scales);
                store_scaled(sr + 8 * i, _mm256_cvtepu8_epi32(sm), f16(d16));
                store_scaled(mr + 8 * i, _mm256_cvtepu8_epi32(_mm_unpackhi_epi64(sm, sm)), -f16(dmin16));
            }
            break;
        }
        case LAI_TYPE_Q6_K: {
            const lai_block_q6_K *bl = (const lai_block_q6_K *)row;
            for (int64_t i = 0; i < nblk; i++) {
                for (int h = 0; h < 2; h++) {
                    __m256i q[4];
                    q6_K_half(bl[i].ql + 64 * h, bl[i].qh + 32 * h, q);
                    for (int g = 0; g < 4; g++) store_u(ur + 256 * i + 128 * h + 32 * g, q[g]);
                }
                const float d = f16(bl[i].d);
                store_scaled(sr + 16 * i, s8x8(bl[i].scales), d);
                store_scaled(sr + 16 * i + 8, s8x8(bl[i].scales + 8), d);
            }
            break;
        }
        case LAI_TYPE_IQ4_XS: {
            const lai_block_iq4_xs *bl = (const lai_block_iq4_xs *)row;
            for (int64_t i = 0; i < nblk; i++) {
                for (int s = 0; s < 8; s++)
                    store_u(ur + 256 * i + 32 * s, _mm256_shuffle_epi8(table, nibbles_32(bl[i].qs + 16 * s)));
                const float d = f16(bl[i].d);
                for (int s = 0; s < 8; s++) sr[8 * i + s] = d * (float)iq4_xs_scale(&bl[i], s);
            }
            mr[0] = 0.0f;
            break;
        }
        default: {
            const size_t bbytes = lai_type_get(type)->type_size;
            for (int64_t i = 0; i < nblk; i++)
                fmt->unpack(row + (size_t)i * bbytes, ur + (size_t)i * fmt->block, sr + i * per_blk, mr + i * per_blk);
            if (fmt->off == 128) { /* to the signed bytes gemm_run expects */
                int64_t k = 0;
                for (; k + 32 <= K; k += 32) store_u(ur + k, _mm256_xor_si256(loadu256(ur + k), _mm256_set1_epi8((char)0x80)));
                for (; k < K; k++) ur[k] ^= 0x80;
                mr[0] = 1.0f; /* values unknown here: the pass that is exact for -128 */
            }
            break;
        }
        }
    }
}

/* Float weights: a tile is 8 columns' x[k], interleaved (k-major). */
static void gemm_run_f32(const float *w32, int n_rows, int64_t K, const float *xt, int n_cols, float *out,
                         size_t out_stride) {
    for (int r0 = 0; r0 < n_rows; r0 += F32_R) {
        const int nr = LAI_MIN(F32_R, n_rows - r0);
        const float *wr[F32_R];
        for (int r = 0; r < F32_R; r++) wr[r] = w32 + (size_t)(r0 + (r < nr ? r : nr - 1)) * (size_t)K;
        __m256 acc[F32_R];
        for (int r = 0; r < F32_R; r++) acc[r] = _mm256_setzero_ps();
        for (int64_t k = 0; k < K; k++) {
            const __m256 xv = _mm256_loadu_ps(xt + k * TILE_COLS);
#pragma GCC unroll 16
            for (int r = 0; r < F32_R; r++) acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(wr[r] + k), xv, acc[r]);
        }
        float tmp[F32_R][TILE_COLS];
        for (int r = 0; r < F32_R; r++) _mm256_storeu_ps(tmp[r], acc[r]);
        for (int c = 0; c < n_cols; c++)
            for (int r = 0; r < nr; r++) out[(size_t)c * out_stride + (size_t)(r0 + r)] = tmp[r][c];
    }
}

static const lai_gemm_kernel gemm_avx2 = {
    .cols = TILE_COLS,
    .rows = GEMM_ROWS,
    .unpack = gemm_unpack,
    .run = gemm_run,
    .run_f32 = gemm_run_f32,
};

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

static lai_cpu_kernels table = {
    .level = LAI_CPU_LEVEL_AVX2,
    .quantize = {NULL, quantize_q8, quantize_q8k},
    .vec_dot =
        {
            [LAI_TYPE_Q4_0] = vec_dot_q4_0,
            [LAI_TYPE_Q4_1] = vec_dot_q4_1,
            [LAI_TYPE_Q5_0] = vec_dot_q5_0,
            [LAI_TYPE_Q5_1] = vec_dot_q5_1,
            [LAI_TYPE_Q8_0] = vec_dot_q8_0,
            [LAI_TYPE_Q2_K] = vec_dot_q2_K,
            [LAI_TYPE_Q3_K] = vec_dot_q3_K,
            [LAI_TYPE_Q4_K] = vec_dot_q4_K,
            [LAI_TYPE_Q5_K] = vec_dot_q5_K,
            [LAI_TYPE_Q6_K] = vec_dot_q6_K,
            [LAI_TYPE_IQ4_NL] = vec_dot_iq4_nl,
            [LAI_TYPE_IQ4_XS] = vec_dot_iq4_xs,
        },
    .vec_dot_x2 =
        {
            [LAI_TYPE_Q4_0] = vec_dot_x2_q4_0,
            [LAI_TYPE_Q4_1] = vec_dot_x2_q4_1,
            [LAI_TYPE_Q5_0] = vec_dot_x2_q5_0,
            [LAI_TYPE_Q5_1] = vec_dot_x2_q5_1,
            [LAI_TYPE_Q8_0] = vec_dot_x2_q8_0,
            [LAI_TYPE_IQ4_NL] = vec_dot_x2_iq4_nl,
        },
    .dot_f32 = dot_f32,
    .dot_f16 = dot_f16,
    .dot_bf16 = dot_bf16,
    .dot_f16_x2 = dot_f16_x2,
    .dot_bf16_x2 = dot_bf16_x2,
    .gemm = &gemm_avx2,
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
    lai_cpu_kernels_complete(&table);
}

const lai_cpu_kernels *lai_cpu_kernels_avx2(void) {
    lai_call_once(&table_once, complete_table);
    return &table;
}

#else

const lai_cpu_kernels *lai_cpu_kernels_avx2(void) { return NULL; }

#endif
