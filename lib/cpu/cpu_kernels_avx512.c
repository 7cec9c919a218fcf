/* cpu_kernels_avx512.c - the AVX-512 level (F, BW, VL, VNNI): vpdpbusd dots, GEMM tiles of 16 columns (on AMX tiles where the CPU has them), f16 and float rows. */
#include "cpu_kernels.h"

#include "../base/platform.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

/* This file alone is compiled for AVX-512; nothing here runs before lai_cpu_kernels_get()
 * has checked that the CPU has every feature named. */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")
#endif

#include <immintrin.h>
#include <math.h>

#include "../quant/blocks.h"
#include "../quant/quant_k_impl.h"
#include "cpu_ops.h"
#include "cpu_vecdot.h"

/* ---- activation rounding (the same bytes as lai_quantize_act_q8 / _q8k) ---------- */

/* x rounded to the nearest f16 and back: F16C's conversion, round to nearest even, gives
 * the same bits as lai_f32_to_f16 for every float (checked over all 2^32 of them). */
static inline float f16_round(float x) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtps_ph(_mm_set_ss(x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
}

static void quantize_q8(const float *x, void *out, int64_t n) {
    lai_act_q8 *a = out;
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        const __m512 vid = _mm512_set1_ps(id);
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, vid));
        const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, vid));
        _mm_storeu_si128((__m128i *)a[b].qs, _mm512_cvtsepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(a[b].qs + 16), _mm512_cvtsepi32_epi8(q1));
        const int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        a[b].d = f16_round(d);
        a[b].s = f16_round(d * (float)sum);
        a[b].sum = sum;
        a[b].unused = 0;
    }
}

static void quantize_q8k(const float *x, void *out, int64_t n) {
    lai_act_q8k *a = out;
    for (int64_t b = 0; b < n / 256; b++, x += 256) {
        __m512 m = _mm512_setzero_ps();
        for (int i = 0; i < 16; i++) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + 16 * i)));
        const float amax = _mm512_reduce_max_ps(m);
        if (amax == 0.0f) {
            memset(&a[b], 0, sizeof a[b]);
            continue;
        }
        /* the signed value of the first element of largest magnitude, as the reference */
        float max = 0.0f;
        for (int i = 0; i < 16; i++) {
            const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * i)),
                                                     _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (hit) {
                max = x[16 * i + __builtin_ctz(hit)];
                break;
            }
        }
        const float iscale = -127.0f / max;
        const __m512 vis = _mm512_set1_ps(iscale);
        const __m512i top = _mm512_set1_epi32(127);
        for (int g = 0; g < 16; g++) {
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * g), vis));
            q = _mm512_min_epi32(q, top);
            _mm_storeu_si128((__m128i *)(a[b].qs + 16 * g), _mm512_cvtsepi32_epi8(q));
            a[b].bsums[g] = (int16_t)_mm512_reduce_add_epi32(q);
        }
        a[b].d = 1.0f / iscale;
        memset(a[b].unused, 0, sizeof a[b].unused);
    }
}

/* ---- matrix-vector dots ----------------------------------------------------------- */

static inline __m512i load_act_pair(const lai_act_q8 *a) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a[0].qs)),
                              _mm256_loadu_si256((const __m256i *)a[1].qs), 1);
}

/* Nibbles of two 16-byte groups as [lo0 | hi0 | lo1 | hi1]: each block's 32 elements in
 * order, two blocks per vector. */
static inline __m512i nibbles_pair(const uint8_t *q0, const uint8_t *q1) {
    const __m256i v = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)q1), _mm_loadu_si128((const __m128i *)q0));
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    return _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
}

/* The fifth bits of two Q5 blocks (bit j of each little-endian qh word is element j) as
 * 0x10 bytes in the element order of nibbles_pair. */
static inline __m512i fifth_bits_pair(const uint8_t *qh0, const uint8_t *qh1) {
    uint32_t h0, h1;
    memcpy(&h0, qh0, 4);
    memcpy(&h1, qh1, 4);
    return _mm512_and_si512(_mm512_movm_epi8((__mmask64)h0 | (__mmask64)h1 << 32), _mm512_set1_epi8(0x10));
}

/* IQ4 values + 128 as unsigned bytes, looked up from nibbles in each 128-bit lane. */
static inline __m512i iq4_bytes(__m512i nibbles) {
    const __m512i table = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)lai_iq4nl_values));
    return _mm512_xor_si512(_mm512_shuffle_epi8(table, nibbles), _mm512_set1_epi8((char)0x80));
}

/* The 32-element block types against LAI_ACT_Q8 activations, four blocks per turn in two
 * independent chains. Each block's bytes u = q + off are dotted unsigned; the off * sum(a)
 * they carry, and the min term of the types with one, are taken back in floats per block
 * (the activation block knows its sum and s). The four blocks' scales d_w * d_a come from
 * one vector conversion and are spread to their dot products' lanes. */
enum { Q32_Q4_0, Q32_Q4_1, Q32_Q5_0, Q32_Q5_1, Q32_Q8_0, Q32_IQ4_NL };

static inline __attribute__((always_inline)) __m512i q32_pair_bytes(const uint8_t *b0, const uint8_t *b1, const int kind) {
    switch (kind) {
    case Q32_Q4_0: return nibbles_pair(b0 + 2, b1 + 2);
    case Q32_Q4_1: return nibbles_pair(b0 + 4, b1 + 4);
    case Q32_Q5_0: return _mm512_or_si512(nibbles_pair(b0 + 6, b1 + 6), fifth_bits_pair(b0 + 2, b1 + 2));
    case Q32_Q5_1: return _mm512_or_si512(nibbles_pair(b0 + 8, b1 + 8), fifth_bits_pair(b0 + 4, b1 + 4));
    case Q32_Q8_0:
        return _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(b0 + 2))),
                                                   _mm256_loadu_si256((const __m256i *)(b1 + 2)), 1),
                                _mm512_set1_epi8((char)0x80));
    default: return iq4_bytes(nibbles_pair(b0 + 2, b1 + 2));
    }
}

/* R = 1 or 2 rows against the same activations: the activation loads and their scales
 * serve both rows, and each row's sums are formed in the same order as alone, so a pair
 * gives bit for bit the single-row results. The 4-bit types without fifth bits (Q4_0,
 * Q4_1, IQ4_NL) take four blocks' 16 bytes of nibbles into one vector, split into low and
 * high nibbles (elements 0..15 and 16..31 of each block), and the activations are
 * permuted to match once for both rows; the other types go two blocks per vector. */
static inline __attribute__((always_inline)) void dot_q32_rows(const uint8_t *const *wr, const int R, const lai_act_q8 *a,
                                                               int64_t n, const int kind, const size_t bsize,
                                                               const float off, const int has_min,
                                                               const lai_vec_dot_fn tail, float *out) {
    const int64_t nb = n / 32;
    const __m512i lanes01 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i lanes23 = _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    __m512 acc0[2], acc1[2];
    __m128 corr[2], mins[2];
    for (int r = 0; r < R; r++) {
        acc0[r] = acc1[r] = _mm512_setzero_ps();
        corr[r] = mins[r] = _mm_setzero_ps();
    }
    const int quad = kind == Q32_Q4_0 || kind == Q32_Q4_1 || kind == Q32_IQ4_NL;
    const size_t qs_at = kind == Q32_Q4_1 ? 4 : 2;
    const __m512i lanes4 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        const __m128 ad = _mm_setr_ps(a[b].d, a[b + 1].d, a[b + 2].d, a[b + 3].d);
        const __m512i a01 = load_act_pair(&a[b]), a23 = load_act_pair(&a[b + 2]);
        /* quad: elements 0..15 of the four blocks, then 16..31 */
        const __m512i alo = quad ? _mm512_permutex2var_epi64(a01, _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13), a23) : a01;
        const __m512i ahi = quad ? _mm512_permutex2var_epi64(a01, _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15), a23) : a23;
        for (int r = 0; r < R; r++) {
            const uint8_t *b0 = wr[r] + (size_t)b * bsize, *b1 = b0 + bsize, *b2 = b1 + bsize, *b3 = b2 + bsize;
            lai_prefetch_ahead(b0, 4 * bsize);
            uint16_t d[4];
            memcpy(&d[0], b0, 2);
            memcpy(&d[1], b1, 2);
            memcpy(&d[2], b2, 2);
            memcpy(&d[3], b3, 2);
            const __m128 s4 = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(const void *)d)), ad);
            if (off != 0.0f)
                corr[r] = _mm_fmadd_ps(s4, _mm_cvtepi32_ps(_mm_setr_epi32(a[b].sum, a[b + 1].sum, a[b + 2].sum, a[b + 3].sum)),
                                       corr[r]);
            if (has_min) {
                uint16_t m[4];
                memcpy(&m[0], b0 + 2, 2);
                memcpy(&m[1], b1 + 2, 2);
                memcpy(&m[2], b2 + 2, 2);
                memcpy(&m[3], b3 + 2, 2);
                mins[r] = _mm_fmadd_ps(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(const void *)m)),
                                       _mm_setr_ps(a[b].s, a[b + 1].s, a[b + 2].s, a[b + 3].s), mins[r]);
            }
            const __m512 s16 = _mm512_castps128_ps512(s4);
            if (quad) {
                __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(b0 + qs_at)));
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(b1 + qs_at)), 1);
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(b2 + qs_at)), 2);
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(b3 + qs_at)), 3);
                __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                if (kind == Q32_IQ4_NL) {
                    lo = iq4_bytes(lo);
                    hi = iq4_bytes(hi);
                }
                const __m512i p = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, alo), hi, ahi);
                acc0[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_permutexvar_ps(lanes4, s16), acc0[r]);
            } else {
                const __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q32_pair_bytes(b0, b1, kind), alo);
                const __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q32_pair_bytes(b2, b3, kind), ahi);
                acc0[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), _mm512_permutexvar_ps(lanes01, s16), acc0[r]);
                acc1[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1), _mm512_permutexvar_ps(lanes23, s16), acc1[r]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        /* off * corr - mins, summed over the four lanes */
        __m128 t = _mm_fmsub_ps(_mm_set1_ps(off), corr[r], mins[r]);
        t = _mm_add_ps(t, _mm_movehl_ps(t, t));
        t = _mm_add_ss(t, _mm_movehdup_ps(t));
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0[r], acc1[r])) - _mm_cvtss_f32(t);
        if (b < nb) sum += tail(wr[r] + (size_t)b * bsize, &a[b], (nb - b) * 32);
        out[r] = sum;
    }
}

/* The entries of one 32-element type: a row, and a pair of rows (vec_dot_x2). */
#define Q32_ENTRIES(name, kind, block, off, has_min)                                                   \
    static float vec_dot_##name(const void *w, const void *a, int64_t n) {                             \
        const uint8_t *rows[1] = {w};                                                                  \
        float v;                                                                                       \
        dot_q32_rows(rows, 1, a, n, kind, sizeof(block), off, has_min, lai_vec_dot_##name, &v);        \
        return v;                                                                                      \
    }                                                                                                  \
    static void vec_dot_x2_##name(const void *w0, const void *w1, const void *a, int64_t n, float out[2]) { \
        const uint8_t *rows[2] = {w0, w1};                                                             \
        dot_q32_rows(rows, 2, a, n, kind, sizeof(block), off, has_min, lai_vec_dot_##name, out);       \
    }

Q32_ENTRIES(q4_0, Q32_Q4_0, lai_block_q4_0, 8.0f, 0)
Q32_ENTRIES(q4_1, Q32_Q4_1, lai_block_q4_1, 0.0f, 1)
Q32_ENTRIES(q5_0, Q32_Q5_0, lai_block_q5_0, 16.0f, 0)
Q32_ENTRIES(q5_1, Q32_Q5_1, lai_block_q5_1, 0.0f, 1)
Q32_ENTRIES(q8_0, Q32_Q8_0, lai_block_q8_0, 128.0f, 0)
Q32_ENTRIES(iq4_nl, Q32_IQ4_NL, lai_block_iq4_nl, 128.0f, 0)

static inline __m512i two_ints(int32_t s0, int32_t s1) {
    return _mm512_inserti64x4(_mm512_set1_epi32(s0), _mm256_set1_epi32(s1), 1);
}

/* The 6-bit scales and mins of a Q4_K / Q5_K super-block (see lai_k4_scale_min), all
 * eight at once with 32-bit operations on the 12 packed bytes. */
static inline void k4_scales(const uint8_t *packed, uint8_t sc[8], uint8_t m[8]) {
    uint32_t u[3], out[4];
    memcpy(u, packed, 12);
    const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
    out[0] = u[0] & low6;                                        /* sc 0..3 */
    out[1] = (u[2] & low4) | (((u[0] >> 6) & low2) << 4);        /* sc 4..7 */
    out[2] = u[1] & low6;                                        /* m 0..3 */
    out[3] = ((u[2] >> 4) & low4) | (((u[1] >> 6) & low2) << 4); /* m 4..7 */
    memcpy(sc, out, 8);
    memcpy(m, out + 2, 8);
}

/* Q4_K / Q5_K: sub-blocks 2j and 2j + 1 are the low and high nibbles of the same 32
 * bytes qs[32j ...] and, together, the 64 consecutive activations from 64j: one load
 * each side. Returns the scale-weighted integer sums lane by lane (their total is
 * sum_s sc_s * dot_s). */
static inline __m512i dot_q45_K_lanes(const uint8_t *qs, const uint8_t *qh, const uint8_t *sc, const int8_t *aq) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    /* the eight scales as 16-bit words, spread per pair of sub-blocks by one permute */
    const __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)sc)));
    __m512i acc = _mm512_setzero_si512();
    for (int j = 0; j < 4; j++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
        __m512i u = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(q, m4)),
                                       _mm256_and_si256(_mm256_srli_epi16(q, 4), m4), 1);
        if (qh != NULL) { /* fifth bit of sub-block s is bit s of qh[l] */
            const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
            const __m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(h), h, 1);
            const __m512i sh = _mm512_inserti64x4(_mm512_set1_epi64(2 * j), _mm256_set1_epi64x(2 * j + 1), 1);
            /* per 64-bit lane shifts, then bit 0 of each byte */
            u = _mm512_or_si512(u, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(hz, sh), _mm512_set1_epi8(1)), 4));
        }
        /* 16-bit pair sums (at most 2 * 31 * 127) times the 6-bit scales, summed to 32
         * bits: the scales ride along in vpmaddwd instead of a 32-bit multiply */
        const __m512i p = _mm512_maddubs_epi16(u, _mm512_loadu_si512((const void *)(aq + 64 * j)));
        const __m512i pick = _mm512_inserti64x4(_mm512_set1_epi16((short)(2 * j)), _mm256_set1_epi16((short)(2 * j + 1)), 1);
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(p, _mm512_permutexvar_epi16(pick, sc16)));
    }
    return acc;
}

/* Super-blocks accumulate in a float vector, reduced once per row. */
static inline float dot_q45_K(const uint8_t *base, size_t stride, int64_t nb, const lai_act_q8k *a, int has_qh) {
    __m512 acc = _mm512_setzero_ps();
    __m256 mins = _mm256_setzero_ps();
    const __m128i pair_pattern = _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = base + (size_t)b * stride;
        lai_prefetch_ahead(blk, stride);
        const uint16_t *dd = (const uint16_t *)(const void *)blk; /* d, dmin */
        const uint8_t *scales = blk + 4;
        const uint8_t *qh = has_qh ? blk + 4 + LAI_K_SCALE_BYTES : NULL;
        const uint8_t *qs = blk + 4 + LAI_K_SCALE_BYTES + (has_qh ? LAI_QK_K / 8 : 0);
        uint8_t sc[8], m[8];
        k4_scales(scales, sc, m);
        /* sum_s m_s * (bsums[2s] + bsums[2s + 1]) as pairs of 16-bit products, kept in a
         * float vector like the main sums */
        const __m256i m16 = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(_mm_loadl_epi64((const __m128i *)m), pair_pattern));
        const __m256i pm = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a[b].bsums), m16);
        mins = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pm), _mm256_set1_ps(a[b].d * lai_cpu_f16(dd[1])), mins);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot_q45_K_lanes(qs, qh, sc, a[b].qs)),
                              _mm512_set1_ps(a[b].d * lai_cpu_f16(dd[0])), acc);
    }
    const __m256 m8 = _mm256_add_ps(_mm512_castps512_ps256(acc),
                                    _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
    const __m256 r = _mm256_sub_ps(m8, mins);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

static float vec_dot_q4_K(const void *wr, const void *ar, int64_t n) {
    return dot_q45_K(wr, sizeof(lai_block_q4_K), n / 256, ar, 0);
}

static float vec_dot_q5_K(const void *wr, const void *ar, int64_t n) {
    return dot_q45_K(wr, sizeof(lai_block_q5_K), n / 256, ar, 1);
}

/* Q6_K bytes of one half (128 elements): u01 = [group 0 | group 1], u23 = [2 | 3], each
 * group 32 consecutive elements (see lai_dequantize_row_q6_K). */
static inline void q6_K_half(const uint8_t *ql, const uint8_t *qh, __m512i *u01, __m512i *u23) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), m3 = _mm512_set1_epi8(3);
    const __m512i l = _mm512_loadu_si512((const void *)ql);
    const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    const __m512i h01 = _mm512_inserti64x4(_mm512_castsi256_si512(h), _mm256_srli_epi16(h, 2), 1);
    const __m512i h23 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(h, 4)), _mm256_srli_epi16(h, 6), 1);
    *u01 = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_slli_epi16(_mm512_and_si512(h01, m3), 4));
    *u23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), _mm512_slli_epi16(_mm512_and_si512(h23, m3), 4));
}

static float vec_dot_q6_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q6_K *w = wr;
    const lai_act_q8k *a = ar;
    const __m128i pat01 = _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m128i pat23 = _mm_setr_epi8(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
    __m512 accf = _mm512_setzero_ps();
    float corr_total = 0.0f;
    for (int64_t b = 0; b < n / 256; b++) {
        lai_prefetch_ahead(&w[b], sizeof w[b]);
        __m512i acc = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m512i u01, u23;
            q6_K_half(w[b].ql + 64 * h, w[b].qh + 32 * h, &u01, &u23);
            const __m512i p01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u01, _mm512_loadu_si512((const void *)(a[b].qs + 128 * h)));
            const __m512i p23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u23, _mm512_loadu_si512((const void *)(a[b].qs + 128 * h + 64)));
            const __m128i sc = _mm_loadl_epi64((const __m128i *)(w[b].scales + 8 * h));
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p01, _mm512_cvtepi8_epi32(_mm_shuffle_epi8(sc, pat01))));
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p23, _mm512_cvtepi8_epi32(_mm_shuffle_epi8(sc, pat23))));
        }
        int32_t corr = 0; /* the values were stored + 32 */
        for (int j = 0; j < 16; j++) corr += w[b].scales[j] * a[b].bsums[j];
        const float d = lai_cpu_f16(w[b].d) * a[b].d;
        accf = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(d), accf);
        corr_total += d * (float)(32 * corr);
    }
    return _mm512_reduce_add_ps(accf) - corr_total;
}

/* The sixteen signed 6-bit scales of a Q3_K super-block (see lai_k3_scale): low nibbles
 * from bytes 0..7 (sub-blocks 0..7, then their high nibbles for 8..15), two high bits
 * from byte 8 + s % 4 at bit 2 * (s / 4). */
static inline __m128i k3_scales(const uint8_t *packed) {
    uint64_t lo8;
    uint32_t hi4;
    memcpy(&lo8, packed, 8);
    memcpy(&hi4, packed + 8, 4);
    const __m128i m4 = _mm_set1_epi8(0x0f);
    const __m128i l = _mm_cvtsi64_si128((long long)lo8);
    const __m128i low = _mm_unpacklo_epi64(_mm_and_si128(l, m4), _mm_and_si128(_mm_srli_epi16(l, 4), m4));
    const uint32_t m2 = 0x03030303u;
    const __m128i high = _mm_setr_epi32((int)(hi4 & m2), (int)((hi4 >> 2) & m2), (int)((hi4 >> 4) & m2),
                                        (int)((hi4 >> 6) & m2));
    return _mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi16(high, 4)), _mm_set1_epi8(32));
}

/* Sum of a float vector and a second one of 8 lanes. */
static inline float reduce_16_8(__m512 v, __m256 w) {
    const __m256 s = _mm256_add_ps(_mm256_add_ps(_mm512_castps512_ps256(v),
                                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))),
                                   w);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

static float vec_dot_iq4_xs(const void *wr, const void *ar, int64_t n) {
    const lai_block_iq4_xs *w = wr;
    const lai_act_q8k *a = ar;
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    __m512 accf = _mm512_setzero_ps();
    for (int64_t b = 0; b < n / 256; b++) {
        lai_prefetch_ahead(&w[b], sizeof w[b]);
        int32_t ls[8];
        const uint32_t sl = (uint32_t)w[b].scales_l[0] | (uint32_t)w[b].scales_l[1] << 8 |
                            (uint32_t)w[b].scales_l[2] << 16 | (uint32_t)w[b].scales_l[3] << 24;
        for (int s = 0; s < 8; s++) ls[s] = (int32_t)(((sl >> (4 * s)) & 0x0f) | (((w[b].scales_h >> (2 * s)) & 3) << 4)) - 32;
        __m512i acc = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) { /* sub-blocks 2j and 2j + 1: elements 64j .. 64j + 63 */
            const __m512i az = _mm512_loadu_si512((const void *)(a[b].qs + 64 * j));
            __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
                                            iq4_bytes(nibbles_pair(w[b].qs + 32 * j, w[b].qs + 32 * j + 16)), az);
            p = _mm512_sub_epi32(p, _mm512_dpbusd_epi32(_mm512_setzero_si512(), bias, az));
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p, two_ints(ls[2 * j], ls[2 * j + 1])));
        }
        accf = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(lai_cpu_f16(w[b].d) * a[b].d), accf);
    }
    return _mm512_reduce_add_ps(accf);
}

/* The 2-bit fields of one half (32 bytes of qs, 128 elements) as two vectors of bytes:
 * [group 0 | group 1] and [group 2 | group 3], group g being bits 2g..2g+1. */
static inline void two_bit_groups(const uint8_t *qs, __m512i *g01, __m512i *g23) {
    const __m256i q = _mm256_loadu_si256((const __m256i *)qs), m3 = _mm256_set1_epi8(3);
    *g01 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(q, m3)),
                              _mm256_and_si256(_mm256_srli_epi16(q, 2), m3), 1);
    *g23 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(_mm256_srli_epi16(q, 4), m3)),
                              _mm256_and_si256(_mm256_srli_epi16(q, 6), m3), 1);
}

/* Per-16 scales of sub-blocks 4i .. 4i + 3 of a 16-entry int8 array, one per dword lane. */
static inline __m512i scales16(const int8_t *sc, int i) {
    const __m128i pat = _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m128i v = _mm_cvtsi32_si128(*(const int32_t *)(const void *)(sc + 4 * i));
    return _mm512_cvtepi8_epi32(_mm_shuffle_epi8(v, pat));
}

static float vec_dot_q2_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q2_K *w = wr;
    const lai_act_q8k *a = ar;
    const __m128i m4 = _mm_set1_epi8(0x0f);
    __m512 accf = _mm512_setzero_ps();
    __m256 mins = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 256; b++) {
        lai_prefetch_ahead(&w[b], sizeof w[b]);
        const __m128i packed = _mm_loadu_si128((const __m128i *)w[b].scales);
        int8_t sc[16];
        _mm_storeu_si128((__m128i *)sc, _mm_and_si128(packed, m4));
        /* sum_j min_j * bsums_j in 16-bit pairs */
        const __m256i pm = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), m4)),
                                             _mm256_loadu_si256((const __m256i *)a[b].bsums));
        mins = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pm), _mm256_set1_ps(a[b].d * lai_cpu_f16(w[b].dmin)), mins);
        __m512i acc = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m512i g01, g23;
            two_bit_groups(w[b].qs + 32 * h, &g01, &g23);
            const __m512i p01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), g01, _mm512_loadu_si512((const void *)(a[b].qs + 128 * h)));
            const __m512i p23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), g23, _mm512_loadu_si512((const void *)(a[b].qs + 128 * h + 64)));
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p01, scales16(sc, 2 * h)));
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p23, scales16(sc, 2 * h + 1)));
        }
        accf = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(a[b].d * lai_cpu_f16(w[b].d)), accf);
    }
    return reduce_16_8(accf, _mm256_sub_ps(_mm256_setzero_ps(), mins));
}

static float vec_dot_q3_K(const void *wr, const void *ar, int64_t n) {
    const lai_block_q3_K *w = wr;
    const lai_act_q8k *a = ar;
    const __m512i one = _mm512_set1_epi8(1);
    __m512 accf = _mm512_setzero_ps();
    __m256 corr = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 256; b++) {
        lai_prefetch_ahead(&w[b], sizeof w[b]);
        const __m128i scv = k3_scales(w[b].scales);
        int8_t sc[16];
        _mm_storeu_si128((__m128i *)sc, scv);
        const float d = lai_cpu_f16(w[b].d) * a[b].d;
        /* the values are stored + 4: take 4 * sum_j sc_j * bsums_j back */
        const __m256i pc = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scv), _mm256_loadu_si256((const __m256i *)a[b].bsums));
        corr = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pc), _mm256_set1_ps(4.0f * d), corr);
        const __m256i hm = _mm256_loadu_si256((const __m256i *)w[b].hmask);
        const __m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(hm), hm, 1);
        __m512i acc = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m512i g01, g23;
            two_bit_groups(w[b].qs + 32 * h, &g01, &g23);
            /* high bit of group g in half h: bit 4h + g of hmask[l] */
            const int k0 = 4 * h;
            const __m512i s01 = _mm512_inserti64x4(_mm512_set1_epi64(k0), _mm256_set1_epi64x(k0 + 1), 1);
            const __m512i s23 = _mm512_inserti64x4(_mm512_set1_epi64(k0 + 2), _mm256_set1_epi64x(k0 + 3), 1);
            g01 = _mm512_or_si512(g01, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(hz, s01), one), 2));
            g23 = _mm512_or_si512(g23, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(hz, s23), one), 2));
            const __m512i p01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), g01, _mm512_loadu_si512((const void *)(a[b].qs + 128 * h)));
            const __m512i p23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), g23, _mm512_loadu_si512((const void *)(a[b].qs + 128 * h + 64)));
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p01, scales16(sc, 2 * h)));
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p23, scales16(sc, 2 * h + 1)));
        }
        accf = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(d), accf);
    }
    return reduce_16_8(accf, _mm256_sub_ps(_mm256_setzero_ps(), corr));
}

/* ---- float rows ------------------------------------------------------------------- */

static float dot_f32(const float *a, const float *b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        lai_prefetch_ahead(a + i, 32 * sizeof *a);
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static inline __m512 load_f16(const uint16_t *h) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)h));
}

static inline __m512 load_bf16(const uint16_t *h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)h)), 16));
}

/* F16 / BF16 rows (R of them, 1 or 2, constant once inlined) against one x: two
 * accumulators of 16 per row, the x vectors loaded once for every row. A row's sum does
 * not depend on R, so the paired dots give the single-row dot's result bit for bit. */
static inline __attribute__((always_inline)) void dot_h_rows(const uint16_t *const *w, const int R, const int bf16,
                                                             const float *x, int64_t n, float *out) {
    __m512 s[2][2];
    for (int r = 0; r < R; r++) s[r][0] = s[r][1] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + 16);
        for (int r = 0; r < R; r++) {
            lai_prefetch_ahead(w[r] + i, 32 * sizeof *w[r]);
            s[r][0] = _mm512_fmadd_ps(bf16 ? load_bf16(w[r] + i) : load_f16(w[r] + i), x0, s[r][0]);
            s[r][1] = _mm512_fmadd_ps(bf16 ? load_bf16(w[r] + i + 16) : load_f16(w[r] + i + 16), x1, s[r][1]);
        }
    }
    for (int r = 0; r < R; r++) {
        int64_t t = i;
        __m512 s0 = s[r][0];
        for (; t + 16 <= n; t += 16) s0 = _mm512_fmadd_ps(bf16 ? load_bf16(w[r] + t) : load_f16(w[r] + t), _mm512_loadu_ps(x + t), s0);
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s[r][1]));
        for (; t < n; t++) sum += (bf16 ? lai_bf16_to_f32(w[r][t]) : lai_cpu_f16(w[r][t])) * x[t];
        out[r] = sum;
    }
}

LAI_DOT_H_ENTRIES

static void f16_to_f32(const uint16_t *h, float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, load_f16(h + i));
    for (; i < n; i++) x[i] = lai_cpu_f16(h[i]);
}

static void f32_to_f16(const float *x, uint16_t *h, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(h + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) h[i] = lai_f32_to_f16(x[i]);
}

/* e^x for 16 floats: 2^n * p(r), r = x - n ln 2 in [-ln2/2, ln2/2], p Cephes' degree-7
 * fit (about 1 ulp); saturates to 0 and +inf outside float range like expf. */
static inline __m512 exp_ps(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7228f)), _mm512_set1_ps(-103.97f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500E-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

static void silu_mul(const float *g, const float *u, float *out, int64_t n) {
    int64_t i = 0;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (; i + 16 <= n; i += 16) {
        const __m512 x = _mm512_loadu_ps(g + i);
        const __m512 s = _mm512_div_ps(x, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), x))));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(s, _mm512_loadu_ps(u + i)));
    }
    for (; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void gelu_mul(const float *g, const float *u, float *out, int64_t n) {
    const __m512 k = _mm512_set1_ps(0.7978845608028654f), c = _mm512_set1_ps(0.044715f);
    const __m512 one = _mm512_set1_ps(1.0f), half = _mm512_set1_ps(0.5f), two = _mm512_set1_ps(2.0f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 x = _mm512_loadu_ps(g + i);
        const __m512 z = _mm512_mul_ps(_mm512_mul_ps(k, x), _mm512_fmadd_ps(_mm512_mul_ps(c, x), x, one));
        /* tanh z = 1 - 2 / (e^2z + 1) */
        const __m512 t = _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(exp_ps(_mm512_mul_ps(two, z)), one)));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(half, x), _mm512_add_ps(one, t)),
                                                _mm512_loadu_ps(u + i)));
    }
    lai_cpu_kernels_scalar()->gelu_mul(g + i, u + i, out + i, n - i);
}

static float sum_sq(const float *x, int64_t n) {
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
        s0 = _mm512_fmadd_pd(lo, lo, s0);
        s1 = _mm512_fmadd_pd(hi, hi, s1);
    }
    double sum = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    for (; i < n; i++) sum += (double)x[i] * (double)x[i];
    return (float)sum;
}

static void scale_mul(const float *x, float s, const float *w, float *out, int64_t n) {
    const __m512 vs = _mm512_set1_ps(s);
    int64_t i = 0;
    if (w != NULL) {
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vs), _mm512_loadu_ps(w + i)));
        for (; i < n; i++) out[i] = x[i] * s * w[i];
    } else {
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), vs));
        for (; i < n; i++) out[i] = x[i] * s;
    }
}

static float exp_sum(float *x, float max, int64_t n) {
    const __m512 vm = _mm512_set1_ps(max);
    __m512 acc = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), vm);
        const __m512 e = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(d, _mm512_set1_ps(LAI_EXP_CUT), _CMP_NLT_UQ), exp_ps(d));
        _mm512_storeu_ps(x + i, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        const __m512 d = _mm512_sub_ps(_mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, x + i), vm);
        const __m512 e = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(d, _mm512_set1_ps(LAI_EXP_CUT), _CMP_NLT_UQ), exp_ps(d));
        _mm512_mask_storeu_ps(x + i, m, e);
        acc = _mm512_add_ps(acc, _mm512_maskz_mov_ps(m, e));
    }
    return _mm512_reduce_add_ps(acc);
}

/* The sums of eight vectors, in order, as one 8-float vector. */
static inline __m256 hsum8_ps(const __m512 z[8]) {
    __m256 a[8];
    for (int j = 0; j < 8; j++)
        a[j] = _mm256_add_ps(_mm512_castps512_ps256(z[j]),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(z[j]), 1)));
    const __m256 h0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
    const __m256 h1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
    /* h0 = [lane-0 halves of a0..a3 | lane-1 halves of a0..a3], h1 likewise for a4..a7 */
    return _mm256_add_ps(_mm256_permute2f128_ps(h0, h1, 0x20), _mm256_permute2f128_ps(h0, h1, 0x31));
}

/* Eight rows at a time, each with its own accumulator: q is loaded once per 16 elements
 * for all of them (the last partial group masked), and one reduction serves eight results. */
static void dot_rows(const float *q, const float *rows, size_t ld, int64_t nc, int64_t n, float *out) {
    const __mmask16 tail = (__mmask16)((1u << (n % 16)) - 1u);
    const int64_t n16 = n - n % 16;
    int64_t c = 0;
    for (; c + 8 <= nc; c += 8) {
        const float *r = rows + (size_t)c * ld;
        __m512 a[8];
        for (int j = 0; j < 8; j++) a[j] = _mm512_setzero_ps();
        for (int64_t i = 0; i < n16; i += 16) {
            const __m512 qv = _mm512_loadu_ps(q + i);
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) a[j] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(r + (size_t)j * ld + (size_t)i), a[j]);
        }
        if (tail != 0) {
            const __m512 qv = _mm512_maskz_loadu_ps(tail, q + n16);
            for (int j = 0; j < 8; j++)
                a[j] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(tail, r + (size_t)j * ld + (size_t)n16), a[j]);
        }
        _mm256_storeu_ps(out + c, hsum8_ps(a));
    }
    for (; c < nc; c++) out[c] = dot_f32(q, rows + (size_t)c * ld, n);
}

/* QB queries x W vectors of 16 floats (columns i..), over the listed cells: each row's
 * vectors are loaded once for the QB queries, whose QB * W accumulators stay in registers
 * (W == 1 is the tail, its vector masked by `last`). */
static inline __attribute__((always_inline)) void axpy_block(const float *p, size_t ldp, const float *rows, size_t ld,
                                                             const int32_t *idx, int m, float *y, size_t ldy,
                                                             int64_t i, const int QB, const int W, __mmask16 last) {
    __m512 a[4][4];
    for (int q = 0; q < QB; q++)
        for (int w = 0; w < W; w++)
            a[q][w] = W == 1 ? _mm512_maskz_loadu_ps(last, y + (size_t)q * ldy + (size_t)i)
                             : _mm512_loadu_ps(y + (size_t)q * ldy + (size_t)i + 16 * w);
    for (int j = 0; j < m; j++) {
        const int32_t c = idx[j];
        const float *x = rows + (size_t)c * ld + (size_t)i;
        __m512 v[4];
        for (int w = 0; w < W; w++) v[w] = W == 1 ? _mm512_maskz_loadu_ps(last, x) : _mm512_loadu_ps(x + 16 * w);
        for (int q = 0; q < QB; q++) {
            const __m512 pv = _mm512_set1_ps(p[(size_t)q * ldp + (size_t)c]);
            for (int w = 0; w < W; w++) a[q][w] = _mm512_fmadd_ps(pv, v[w], a[q][w]);
        }
    }
    for (int q = 0; q < QB; q++)
        for (int w = 0; w < W; w++)
            if (W == 1) _mm512_mask_storeu_ps(y + (size_t)q * ldy + (size_t)i, last, a[q][w]);
            else _mm512_storeu_ps(y + (size_t)q * ldy + (size_t)i + 16 * w, a[q][w]);
}

static inline __attribute__((always_inline)) void axpy_queries(const float *p, size_t ldp, int64_t nq, const float *rows,
                                                               size_t ld, const int32_t *idx, int m, float *y,
                                                               size_t ldy, int64_t i, const int W, __mmask16 last) {
    int64_t q = 0;
    for (; q + 4 <= nq; q += 4) axpy_block(p + (size_t)q * ldp, ldp, rows, ld, idx, m, y + (size_t)q * ldy, ldy, i, 4, W, last);
    switch (nq - q) {
    case 3: axpy_block(p + (size_t)q * ldp, ldp, rows, ld, idx, m, y + (size_t)q * ldy, ldy, i, 3, W, last); break;
    case 2: axpy_block(p + (size_t)q * ldp, ldp, rows, ld, idx, m, y + (size_t)q * ldy, ldy, i, 2, W, last); break;
    case 1: axpy_block(p + (size_t)q * ldp, ldp, rows, ld, idx, m, y + (size_t)q * ldy, ldy, i, 1, W, last); break;
    default: break;
    }
}

/* Cells in groups of 64: the ones some query weighs listed once (a compare per query and
 * 16 cells), then y in blocks of 64 columns, four queries at a time. */
static void axpy_rows(const float *p, size_t ldp, int64_t nq, const float *rows, size_t ld, int64_t nc, float *y,
                      size_t ldy, int64_t n) {
    for (int64_t c0 = 0; c0 < nc; c0 += 64) {
        const int64_t gc = LAI_MIN(64, nc - c0);
        uint64_t any = 0;
        for (int64_t q = 0; q < nq; q++) {
            const float *pq = p + (size_t)q * ldp + (size_t)c0;
            for (int64_t c = 0; c < gc; c += 16) {
                const __mmask16 in = gc - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (gc - c)) - 1u);
                any |= (uint64_t)_mm512_mask_cmp_ps_mask(in, _mm512_maskz_loadu_ps(in, pq + c), _mm512_setzero_ps(), _CMP_NEQ_UQ)
                       << c;
            }
        }
        int32_t idx[64];
        const int m = lai_cells_of(any, idx);
        if (m == 0) continue;
        const float *pc = p + c0, *rc = rows + (size_t)c0 * ld;
        int64_t i = 0;
        for (; i + 64 <= n; i += 64) axpy_queries(pc, ldp, nq, rc, ld, idx, m, y, ldy, i, 4, 0xffff);
        for (; i < n; i += 16) {
            const __mmask16 last = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
            axpy_queries(pc, ldp, nq, rc, ld, idx, m, y, ldy, i, 1, last);
        }
    }
}

static void scale(float *y, float a, int64_t n) {
    const __m512 va = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(va, _mm512_loadu_ps(y + i)));
    for (; i < n; i++) y[i] *= a;
}

/* ---- GEMM ------------------------------------------------------------------------- */

enum { TILE_COLS = 16, GEMM_ROWS = 8 };

static inline int32_t load_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* GEMM_ROWS rows x 16 columns; G = sub / 4 groups of four bytes per sub-block. */
static inline __attribute__((always_inline)) void gemm_rows(const uint8_t *u, const float *scale, const float *min,
                                                            int n_rows, int64_t K, const uint8_t *tile, float *out,
                                                            size_t out_stride, int n_cols, const int G,
                                                            const int off_shift, const int has_min, const int kq) {
    const int sub = 4 * G;
    const int64_t nsb = K / sub;
    const size_t sb_bytes = (size_t)G * 64 + 192;
    /* kq (the K-quants, one activation scale per 256 = kq sub-blocks): accp sums a
     * super-block's sub-blocks scaled by the weight scale alone, and goes into acc times
     * the activation scale once per super-block */
    __m512 acc[GEMM_ROWS], accp[GEMM_ROWS];
    for (int r = 0; r < GEMM_ROWS; r++) acc[r] = accp[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *t = tile + b * sb_bytes;
        const __m512 dv = _mm512_loadu_ps((const float *)(t + (size_t)G * 64));
        /* every row's integer sum starts at -off * sum(a): the offset taken back once */
        const __m512i init =
            off_shift >= 0
                ? _mm512_sub_epi32(_mm512_setzero_si512(),
                                   _mm512_slli_epi32(_mm512_loadu_si512((const void *)(t + (size_t)G * 64 + 64)),
                                                     (unsigned)(off_shift >= 0 ? off_shift : 0)))
                : _mm512_setzero_si512();
        const __m512 mv = _mm512_loadu_ps((const float *)(t + (size_t)G * 64 + 128));
        /* groups outer, rows inner: one activation vector serves every row, and the rows'
         * integer sums are independent chains the core overlaps */
        __m512i ia[GEMM_ROWS];
#pragma GCC unroll 8
        for (int r = 0; r < GEMM_ROWS; r++) ia[r] = init;
        const uint8_t *ub = u + (size_t)b * (size_t)sub;
#pragma GCC unroll 8
        for (int g = 0; g < G; g++) {
            const __m512i av = _mm512_loadu_si512((const void *)(t + 64 * g));
#pragma GCC unroll 8
            for (int r = 0; r < GEMM_ROWS; r++)
                ia[r] = _mm512_dpbusd_epi32(ia[r], _mm512_set1_epi32(load_i32(ub + (size_t)r * (size_t)K + 4 * g)), av);
        }
        /* kq: into accp, without the activation scale, the min term against the integer
         * activation sums; accp goes into acc times the activation scale per super-block */
        __m512 *const into = kq ? accp : acc;
        const __m512 mk = kq && has_min ? _mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(t + (size_t)G * 64 + 64))) : mv;
#pragma GCC unroll 8
        for (int r = 0; r < GEMM_ROWS; r++) {
            const __m512 s = _mm512_set1_ps(scale[(size_t)r * (size_t)nsb + (size_t)b]);
            into[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[r]), kq ? s : _mm512_mul_ps(s, dv), into[r]);
            if (has_min) into[r] = _mm512_fmadd_ps(_mm512_set1_ps(min[(size_t)r * (size_t)nsb + (size_t)b]), mk, into[r]);
        }
        if (kq && (b + 1) % kq == 0)
#pragma GCC unroll 8
            for (int r = 0; r < GEMM_ROWS; r++) {
                acc[r] = _mm512_fmadd_ps(accp[r], dv, acc[r]);
                accp[r] = _mm512_setzero_ps();
            }
    }
    float tmp[GEMM_ROWS][TILE_COLS];
    for (int r = 0; r < GEMM_ROWS; r++) _mm512_storeu_ps(tmp[r], acc[r]);
    for (int c = 0; c < n_cols; c++)
        for (int r = 0; r < n_rows; r++) out[(size_t)c * out_stride + (size_t)r] = tmp[r][c];
}

static int off_shift_of(int off) {
    switch (off) {
    case 0: return -1;
    case 4: return 2;
    case 8: return 3;
    case 16: return 4;
    case 32: return 5;
    default: return 7; /* 128 */
    }
}

static void gemm_run(const lai_weight_format *fmt, const uint8_t *u, const float *scale, const float *min,
                     int n_rows, int64_t K, const void *tile, int n_cols, float *out, size_t out_stride) {
    const int64_t nsb = K / fmt->sub;
    for (int r0 = 0; r0 < n_rows; r0 += GEMM_ROWS) {
        const int nr = LAI_MIN(GEMM_ROWS, n_rows - r0);
        const uint8_t *ur = u + (size_t)r0 * (size_t)K;
        const float *sr = scale + (size_t)r0 * (size_t)nsb, *mr = min + (size_t)r0 * (size_t)nsb;
        float *o = out + r0;
        const int sh = off_shift_of(fmt->off);
        /* K-quants: activations with one scale per 256 */
        const int k = fmt->act == LAI_ACT_Q8K;
#define GEMM_CASE(G, SH, MIN)                                                                   \
    do {                                                                                        \
        if (k) gemm_rows(ur, sr, mr, nr, K, tile, o, out_stride, n_cols, G, SH, MIN, 256 / (4 * (G))); \
        else gemm_rows(ur, sr, mr, nr, K, tile, o, out_stride, n_cols, G, SH, MIN, 0);          \
    } while (0)
        if (fmt->sub == 32) {
            if (fmt->has_min) {
                if (sh < 0) GEMM_CASE(8, -1, 1);
                else GEMM_CASE(8, sh, 1);
            } else {
                switch (sh) {
                case 3: GEMM_CASE(8, 3, 0); break;
                case 4: GEMM_CASE(8, 4, 0); break;
                case 7: GEMM_CASE(8, 7, 0); break;
                default: GEMM_CASE(8, sh, 0); break;
                }
            }
        } else {
            if (fmt->has_min) GEMM_CASE(4, sh, 1);
            else if (sh == 5) GEMM_CASE(4, 5, 0);
            else GEMM_CASE(4, sh, 0);
        }
#undef GEMM_CASE
    }
}

/* Rows unpacked with vector code for the common types, else the format's own unpack. */
static void gemm_unpack(uint32_t type, const lai_weight_format *fmt, const uint8_t *w, size_t row_stride,
                        int n_rows, int64_t K, uint8_t *u, float *scale, float *min) {
    const int64_t nsb = K / fmt->sub, nblk = K / fmt->block;
    const int per_blk = (int)(fmt->block / fmt->sub);
    for (int r = 0; r < n_rows; r++) {
        const uint8_t *row = w + (size_t)r * row_stride;
        uint8_t *ur = u + (size_t)r * (size_t)K;
        float *sr = scale + (size_t)r * (size_t)nsb, *mr = min + (size_t)r * (size_t)nsb;
        switch (type) {
        case LAI_TYPE_Q4_0: {
            const lai_block_q4_0 *bl = (const lai_block_q4_0 *)row;
            const __m128i m4 = _mm_set1_epi8(0x0f);
            for (int64_t i = 0; i < nblk; i++) {
                lai_prefetch_ahead(&bl[i], sizeof bl[i]);
                const __m128i q = _mm_loadu_si128((const __m128i *)bl[i].qs);
                _mm_storeu_si128((__m128i *)(ur + 32 * i), _mm_and_si128(q, m4));
                _mm_storeu_si128((__m128i *)(ur + 32 * i + 16), _mm_and_si128(_mm_srli_epi16(q, 4), m4));
                sr[i] = lai_cpu_f16(bl[i].d);
            }
            break;
        }
        case LAI_TYPE_Q8_0: {
            const lai_block_q8_0 *bl = (const lai_block_q8_0 *)row;
            const __m256i bias = _mm256_set1_epi8((char)0x80);
            for (int64_t i = 0; i < nblk; i++) {
                lai_prefetch_ahead(&bl[i], sizeof bl[i]);
                _mm256_storeu_si256((__m256i *)(ur + 32 * i),
                                    _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)bl[i].qs), bias));
                sr[i] = lai_cpu_f16(bl[i].d);
            }
            break;
        }
        case LAI_TYPE_Q4_K: {
            const lai_block_q4_K *bl = (const lai_block_q4_K *)row;
            const __m256i m4 = _mm256_set1_epi8(0x0f);
            for (int64_t i = 0; i < nblk; i++) {
                lai_prefetch_ahead(&bl[i], sizeof bl[i]);
                for (int j = 0; j < 4; j++) {
                    const __m256i q = _mm256_loadu_si256((const __m256i *)(bl[i].qs + 32 * j));
                    _mm256_storeu_si256((__m256i *)(ur + 256 * i + 64 * j), _mm256_and_si256(q, m4));
                    _mm256_storeu_si256((__m256i *)(ur + 256 * i + 64 * j + 32), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
                }
                const float d = lai_cpu_f16(bl[i].d), dmin = lai_cpu_f16(bl[i].dmin);
                uint8_t sc[8], m[8];
                k4_scales(bl[i].scales, sc, m);
                for (int s = 0; s < 8; s++) {
                    sr[8 * i + s] = d * (float)sc[s];
                    mr[8 * i + s] = -dmin * (float)m[s];
                }
            }
            break;
        }
        case LAI_TYPE_Q6_K: {
            const lai_block_q6_K *bl = (const lai_block_q6_K *)row;
            for (int64_t i = 0; i < nblk; i++) {
                lai_prefetch_ahead(&bl[i], sizeof bl[i]);
                for (int h = 0; h < 2; h++) {
                    __m512i u01, u23;
                    q6_K_half(bl[i].ql + 64 * h, bl[i].qh + 32 * h, &u01, &u23);
                    _mm512_storeu_si512((void *)(ur + 256 * i + 128 * h), u01);
                    _mm512_storeu_si512((void *)(ur + 256 * i + 128 * h + 64), u23);
                }
                const float d = lai_cpu_f16(bl[i].d);
                for (int j = 0; j < 16; j++) sr[16 * i + j] = d * (float)bl[i].scales[j];
            }
            break;
        }
        case LAI_TYPE_Q5_0:
        case LAI_TYPE_Q4_1:
        case LAI_TYPE_Q5_1:
        case LAI_TYPE_IQ4_NL: {
            /* 32-element blocks of nibbles (plus fifth bits, or a table) */
            const size_t bbytes = lai_type_get(type)->type_size;
            for (int64_t i = 0; i < nblk; i++) {
                const uint8_t *blk = row + (size_t)i * bbytes;
                uint16_t d16, m16 = 0;
                memcpy(&d16, blk, 2);
                const uint8_t *qs, *qh = NULL;
                if (type == LAI_TYPE_Q5_0) qh = blk + 2, qs = blk + 6;
                else if (type == LAI_TYPE_Q4_1) memcpy(&m16, blk + 2, 2), qs = blk + 4;
                else if (type == LAI_TYPE_Q5_1) memcpy(&m16, blk + 2, 2), qh = blk + 4, qs = blk + 8;
                else qs = blk + 2;
                const __m128i q = _mm_loadu_si128((const __m128i *)qs), m4 = _mm_set1_epi8(0x0f);
                __m256i v = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m4), _mm_and_si128(q, m4));
                if (qh != NULL) {
                    uint32_t h;
                    memcpy(&h, qh, 4);
                    v = _mm256_or_si256(v, _mm256_and_si256(_mm256_movm_epi8(h), _mm256_set1_epi8(0x10)));
                }
                if (type == LAI_TYPE_IQ4_NL)
                    v = _mm256_xor_si256(_mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lai_iq4nl_values)), v),
                                         _mm256_set1_epi8((char)0x80));
                _mm256_storeu_si256((__m256i *)(ur + 32 * i), v);
                sr[i] = lai_cpu_f16(d16);
                if (fmt->has_min) mr[i] = lai_cpu_f16(m16);
            }
            break;
        }
        case LAI_TYPE_Q5_K: {
            const lai_block_q5_K *bl = (const lai_block_q5_K *)row;
            const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
            for (int64_t i = 0; i < nblk; i++) {
                const __m256i h = _mm256_loadu_si256((const __m256i *)bl[i].qh);
                for (int j = 0; j < 4; j++) {
                    const __m256i q = _mm256_loadu_si256((const __m256i *)(bl[i].qs + 32 * j));
                    const __m256i b0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * j), one), 4);
                    const __m256i b1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * j + 1), one), 4);
                    _mm256_storeu_si256((__m256i *)(ur + 256 * i + 64 * j), _mm256_or_si256(_mm256_and_si256(q, m4), b0));
                    _mm256_storeu_si256((__m256i *)(ur + 256 * i + 64 * j + 32),
                                        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), b1));
                }
                const float d = lai_cpu_f16(bl[i].d), dmin = lai_cpu_f16(bl[i].dmin);
                uint8_t sc[8], m[8];
                k4_scales(bl[i].scales, sc, m);
                for (int s = 0; s < 8; s++) {
                    sr[8 * i + s] = d * (float)sc[s];
                    mr[8 * i + s] = -dmin * (float)m[s];
                }
            }
            break;
        }
        case LAI_TYPE_Q2_K:
        case LAI_TYPE_Q3_K: {
            const size_t bbytes = lai_type_get(type)->type_size;
            for (int64_t i = 0; i < nblk; i++) {
                const uint8_t *blk = row + (size_t)i * bbytes;
                const lai_block_q2_K *b2 = (const lai_block_q2_K *)blk;
                const lai_block_q3_K *b3 = (const lai_block_q3_K *)blk;
                const uint8_t *qs = type == LAI_TYPE_Q2_K ? b2->qs : b3->qs;
                __m512i hz = _mm512_setzero_si512();
                if (type == LAI_TYPE_Q3_K) {
                    const __m256i hm = _mm256_loadu_si256((const __m256i *)b3->hmask);
                    hz = _mm512_inserti64x4(_mm512_castsi256_si512(hm), hm, 1);
                }
                for (int h = 0; h < 2; h++) {
                    __m512i g01, g23;
                    two_bit_groups(qs + 32 * h, &g01, &g23);
                    if (type == LAI_TYPE_Q3_K) { /* u = low | high << 2: the value + 4 */
                        const int k0 = 4 * h;
                        const __m512i one = _mm512_set1_epi8(1);
                        const __m512i s01 = _mm512_inserti64x4(_mm512_set1_epi64(k0), _mm256_set1_epi64x(k0 + 1), 1);
                        const __m512i s23 = _mm512_inserti64x4(_mm512_set1_epi64(k0 + 2), _mm256_set1_epi64x(k0 + 3), 1);
                        g01 = _mm512_or_si512(g01, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(hz, s01), one), 2));
                        g23 = _mm512_or_si512(g23, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(hz, s23), one), 2));
                    }
                    _mm512_storeu_si512((void *)(ur + 256 * i + 128 * h), g01);
                    _mm512_storeu_si512((void *)(ur + 256 * i + 128 * h + 64), g23);
                }
                if (type == LAI_TYPE_Q2_K) {
                    const float d = lai_cpu_f16(b2->d), dmin = lai_cpu_f16(b2->dmin);
                    for (int j = 0; j < 16; j++) {
                        sr[16 * i + j] = d * (float)(b2->scales[j] & 0x0f);
                        mr[16 * i + j] = -dmin * (float)(b2->scales[j] >> 4);
                    }
                } else {
                    int8_t sc[16];
                    _mm_storeu_si128((__m128i *)sc, k3_scales(b3->scales));
                    const float d = lai_cpu_f16(b3->d);
                    for (int j = 0; j < 16; j++) sr[16 * i + j] = d * (float)sc[j];
                }
            }
            break;
        }
        default: {
            const size_t bbytes = lai_type_get(type)->type_size;
            for (int64_t i = 0; i < nblk; i++)
                fmt->unpack(row + (size_t)i * bbytes, ur + (size_t)i * fmt->block, sr + i * per_blk, mr + i * per_blk);
            break;
        }
        }
    }
}

/* Float weights: a tile is 16 columns' x[k], interleaved (k-major). */
static void gemm_run_f32(const float *w32, int n_rows, int64_t K, const float *xt, int n_cols, float *out,
                         size_t out_stride) {
    for (int r0 = 0; r0 < n_rows; r0 += GEMM_ROWS) {
        const int nr = LAI_MIN(GEMM_ROWS, n_rows - r0);
        __m512 acc[GEMM_ROWS];
        for (int r = 0; r < GEMM_ROWS; r++) acc[r] = _mm512_setzero_ps();
        for (int64_t k = 0; k < K; k++) {
            const __m512 xv = _mm512_loadu_ps(xt + k * TILE_COLS);
#pragma GCC unroll 8
            for (int r = 0; r < GEMM_ROWS; r++) {
                if (r >= nr) break;
                acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(w32[(size_t)(r0 + r) * (size_t)K + (size_t)k]), xv, acc[r]);
            }
        }
        float tmp[GEMM_ROWS][TILE_COLS];
        for (int r = 0; r < GEMM_ROWS; r++) _mm512_storeu_ps(tmp[r], acc[r]);
        for (int c = 0; c < n_cols; c++)
            for (int r = 0; r < nr; r++) out[(size_t)c * out_stride + (size_t)(r0 + r)] = tmp[r][c];
    }
}

static const lai_gemm_kernel gemm_avx512 = {
    .cols = TILE_COLS,
    .rows = 64,
    .unpack = gemm_unpack,
    .run = gemm_run,
    .run_f32 = gemm_run_f32,
};

/* ---- GEMM on AMX tiles (Intel Sapphire Rapids and later) ---------------------------- *
 *
 * The activation tiles of gemm_run, against the rows unpacked as signed bytes (q, the
 * offset taken out), with the integer products of a sub-block done by one TDPBSSD per
 * 16 rows x 16 columns: A = 16 rows' bytes of the sub-block (row stride K), B = the
 * activation tile's sub-block, already in the 4-bytes-per-column layout the tile product
 * reads (sub / 4 rows of 64 bytes), C = 16 x 16 int32. Each sub-block has its own scales,
 * so its C is stored and scaled into 16 float accumulators with AVX-512 (three
 * instructions per row: convert, scale, add); two C tiles alternate, so the next
 * sub-block's product runs while this one is scaled. The tile instructions are written as
 * inline assembly with a memory clobber (the compiler's _tile_stored does not tell it that
 * memory changes). */

#define TILE_ZERO(t) __asm__ volatile("tilezero %%tmm" #t ::: "memory")
#define TILE_LOAD(t, base, stride) \
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t ::"r"((const void *)(base)), "r"((long)(stride)) : "memory")
#define TILE_STORE(t, base, stride) \
    __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)" ::"r"((void *)(base)), "r"((long)(stride)) : "memory")
/* C += A . B, signed bytes both */
#define TILE_DPBSSD(c, a, b) __asm__ volatile("tdpbssd %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::: "memory")

typedef struct amx_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_config;

/* tmm0, tmm1: C (16 x 16 int32); tmm2, tmm3: A (16 rows x sub bytes); tmm4, tmm5: B
 * (sub / 4 rows x 64 bytes). */
static void amx_configure(int sub) {
    amx_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = 0; t < 2; t++) {
        c.rows[t] = 16;
        c.colsb[t] = 64;
        c.rows[2 + t] = 16;
        c.colsb[2 + t] = (uint16_t)sub;
        c.rows[4 + t] = (uint8_t)(sub / 4);
        c.colsb[4 + t] = 64;
    }
    __asm__ volatile("ldtilecfg %0" ::"m"(c));
}

/* The unpacked rows in the order the tiles read them: for each block of 16 rows and each
 * sub-block, the 16 rows' `sub` bytes one after another (one A tile: 512 or 256
 * contiguous bytes), as signed q (gemm_unpack's u = q + off, the offset taken out); the
 * scales and mins likewise 16 rows together per sub-block. Rows past n_rows up to the
 * next 16 are zero. Q4_0, Q8_0 and Q4_K are written in that order directly; the other
 * types through gemm_unpack into the second copy of the buffer, then reordered. */
static void gemm_unpack_amx(uint32_t type, const lai_weight_format *fmt, const uint8_t *w, size_t row_stride,
                            int n_rows, int64_t K, uint8_t *u, float *scale, float *min) {
    enum { ROWS = 64 }; /* gemm_amx.rows */
    const int sub = fmt->sub;
    const int64_t nsb = K / sub;
    if (type == LAI_TYPE_Q4_0 || type == LAI_TYPE_Q8_0 || type == LAI_TYPE_Q4_K) {
        const __m128i m4 = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
        for (int rb = 0; rb < n_rows; rb += 16) {
            uint8_t *ub = u + (size_t)rb * (size_t)K;
            float *sb = scale + (size_t)rb * (size_t)nsb, *mb = min + (size_t)rb * (size_t)nsb;
            for (int r = 0; r < 16; r++) {
                if (rb + r >= n_rows) { /* past the last row: zero */
                    for (int64_t b = 0; b < nsb; b++) {
                        memset(ub + (size_t)b * 512 + (size_t)r * 32, 0, 32);
                        sb[b * 16 + r] = mb[b * 16 + r] = 0.0f;
                    }
                    continue;
                }
                const uint8_t *row = w + (size_t)(rb + r) * row_stride;
                if (type == LAI_TYPE_Q4_0) {
                    const lai_block_q4_0 *bl = (const lai_block_q4_0 *)(const void *)row;
                    for (int64_t b = 0; b < nsb; b++) {
                        lai_prefetch_ahead(&bl[b], sizeof bl[b]);
                        const __m128i q = _mm_loadu_si128((const __m128i *)bl[b].qs);
                        uint8_t *dst = ub + (size_t)b * 512 + (size_t)r * 32;
                        _mm_storeu_si128((__m128i *)dst, _mm_sub_epi8(_mm_and_si128(q, m4), eight));
                        _mm_storeu_si128((__m128i *)(dst + 16), _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), eight));
                        sb[b * 16 + r] = lai_cpu_f16(bl[b].d);
                        mb[b * 16 + r] = 0.0f;
                    }
                } else if (type == LAI_TYPE_Q8_0) {
                    const lai_block_q8_0 *bl = (const lai_block_q8_0 *)(const void *)row;
                    for (int64_t b = 0; b < nsb; b++) {
                        lai_prefetch_ahead(&bl[b], sizeof bl[b]);
                        _mm256_storeu_si256((__m256i *)(ub + (size_t)b * 512 + (size_t)r * 32), _mm256_loadu_si256((const __m256i *)bl[b].qs));
                        sb[b * 16 + r] = lai_cpu_f16(bl[b].d);
                        mb[b * 16 + r] = 0.0f;
                    }
                } else {
                    const lai_block_q4_K *bl = (const lai_block_q4_K *)(const void *)row;
                    for (int64_t i = 0; i < nsb / 8; i++) {
                        lai_prefetch_ahead(&bl[i], sizeof bl[i]);
                        for (int j = 0; j < 4; j++) {
                            const __m256i q = _mm256_loadu_si256((const __m256i *)(bl[i].qs + 32 * j));
                            const __m256i m4y = _mm256_set1_epi8(0x0f);
                            _mm256_storeu_si256((__m256i *)(ub + (size_t)(8 * i + 2 * j) * 512 + (size_t)r * 32), _mm256_and_si256(q, m4y));
                            _mm256_storeu_si256((__m256i *)(ub + (size_t)(8 * i + 2 * j + 1) * 512 + (size_t)r * 32),
                                                _mm256_and_si256(_mm256_srli_epi16(q, 4), m4y));
                        }
                        const float d = lai_cpu_f16(bl[i].d), dmin = lai_cpu_f16(bl[i].dmin);
                        uint8_t sc[8], m[8];
                        k4_scales(bl[i].scales, sc, m);
                        for (int s = 0; s < 8; s++) {
                            sb[(8 * i + s) * 16 + r] = d * (float)sc[s];
                            mb[(8 * i + s) * 16 + r] = -dmin * (float)m[s];
                        }
                    }
                }
            }
        }
        return;
    }
    uint8_t *pu = (uint8_t *)(min + (size_t)ROWS * (size_t)nsb);
    float *ps = (float *)(void *)(pu + (size_t)ROWS * (size_t)K), *pm = ps + (size_t)ROWS * (size_t)nsb;
    gemm_unpack(type, fmt, w, row_stride, n_rows, K, pu, ps, pm);
    const __m256i off = _mm256_set1_epi8((char)fmt->off);
    for (int rb = 0; rb < n_rows; rb += 16) {
        uint8_t *ub = u + (size_t)rb * (size_t)K;
        float *sb = scale + (size_t)rb * (size_t)nsb, *mb = min + (size_t)rb * (size_t)nsb;
        for (int r = 0; r < 16; r++) {
            const int live = rb + r < n_rows;
            const uint8_t *src = pu + (size_t)(rb + r) * (size_t)K;
            for (int64_t b = 0; b < nsb; b++) {
                uint8_t *dst = ub + (size_t)b * 16 * (size_t)sub + (size_t)r * (size_t)sub;
                if (sub == 32) {
                    const __m256i v = live ? _mm256_sub_epi8(_mm256_loadu_si256((const __m256i *)(src + 32 * b)), off)
                                           : _mm256_setzero_si256();
                    _mm256_storeu_si256((__m256i *)dst, v);
                } else {
                    const __m128i v = live ? _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(src + 16 * b)), _mm256_castsi256_si128(off))
                                           : _mm_setzero_si128();
                    _mm_storeu_si128((__m128i *)dst, v);
                }
                sb[b * 16 + r] = live ? ps[(size_t)(rb + r) * (size_t)nsb + (size_t)b] : 0.0f;
                mb[b * 16 + r] = live && fmt->has_min ? pm[(size_t)(rb + r) * (size_t)nsb + (size_t)b] : 0.0f;
            }
        }
    }
}

/* Sub-block b's 16 x 16 products (cs) into the sums: times the weight scale and the
 * activation scale, plus the min term. kq (the K-quants, one activation scale per 256):
 * the activation scale is left to amx_flush, once per super-block, and the min term is
 * taken against the integer activation sums (two instructions per row, three with a min). */
static inline __attribute__((always_inline)) void amx_scale(const int32_t *cs, const uint8_t *t, int G, int has_min,
                                                            const int kq, const float *scale, const float *min,
                                                            int64_t b, __m512 acc[16]) {
    const __m512 dv = _mm512_loadu_ps((const float *)(const void *)(t + (size_t)G * 64));
    const __m512 mv = !has_min ? _mm512_setzero_ps()
                      : kq     ? _mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(t + (size_t)G * 64 + 64)))
                               : _mm512_loadu_ps((const float *)(const void *)(t + (size_t)G * 64 + 128));
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) {
        const __m512 c = _mm512_cvtepi32_ps(_mm512_load_si512((const void *)(cs + 16 * r)));
        const __m512 s = _mm512_set1_ps(scale[16 * b + r]);
        acc[r] = _mm512_fmadd_ps(c, kq ? s : _mm512_mul_ps(s, dv), acc[r]);
        if (has_min) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(min[16 * b + r]), mv, acc[r]);
    }
}

/* total += acc * the activation scale of the super-block (the dv of its sub-block t); acc = 0 */
static inline __attribute__((always_inline)) void amx_flush(__m512 acc[16], float total[16][16], const uint8_t *t, int G) {
    const __m512 dv = _mm512_loadu_ps((const float *)(const void *)(t + (size_t)G * 64));
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) {
        _mm512_store_ps(total[r], _mm512_fmadd_ps(acc[r], dv, _mm512_load_ps(total[r])));
        acc[r] = _mm512_setzero_ps();
    }
}

/* 16 rows (the first nr of them written out) x 16 columns over every sub-block, from
 * gemm_unpack_amx's order. */
static inline __attribute__((always_inline)) void amx_rows(const uint8_t *u, const float *scale, const float *min, int nr,
                                                           int64_t K, const uint8_t *tile, float *out, size_t out_stride,
                                                           int n_cols, const int sub, const int has_min, const int kq) {
    const int G = sub / 4;
    const int64_t nsb = K / sub;
    const size_t sb_bytes = (size_t)G * 64 + 192;
    int32_t cs[2][256] __attribute__((aligned(64)));
    float total[16][16] __attribute__((aligned(64))); /* kq: the sums of finished super-blocks */
    __m512 acc[16];
    for (int r = 0; r < 16; r++) acc[r] = _mm512_setzero_ps();
    if (kq) memset(total, 0, sizeof total);
    /* sub-block bb's product, stored in csx, into the sums */
#define AMX_STEP(csx, bb)                                                                                   \
    do {                                                                                                    \
        const uint8_t *t_ = tile + (size_t)(bb) * sb_bytes;                                                 \
        amx_scale(csx, t_, G, has_min, kq, scale, min, bb, acc);                                            \
        if (kq && ((bb) + 1) % kq == 0) amx_flush(acc, total, t_, G);                                       \
    } while (0)
    /* sub-blocks in pairs: C0 for even ones, C1 for odd ones. Each product is stored one
     * step after the next one has started, and scaled one step after it is stored, so
     * the tile unit's latency hides behind the scaling of the sub-block before. */
    const size_t a_bytes = 16 * (size_t)sub;
    TILE_ZERO(0);
    TILE_LOAD(2, u, sub);
    TILE_LOAD(4, tile, 64);
    TILE_DPBSSD(0, 2, 4);
    for (int64_t b = 0; b < nsb; b += 2) {
        /* tmm0 is computing sub-block b; cs[1] holds b - 1 (b > 0) */
        if (b + 1 < nsb) {
            TILE_ZERO(1);
            TILE_LOAD(3, u + (size_t)(b + 1) * a_bytes, sub);
            TILE_LOAD(5, tile + (size_t)(b + 1) * sb_bytes, 64);
            TILE_DPBSSD(1, 3, 5);
        }
        if (b > 0) AMX_STEP(cs[1], b - 1);
        TILE_STORE(0, cs[0], 64);
        if (b + 1 >= nsb) {
            AMX_STEP(cs[0], b);
            break;
        }
        /* tmm1 is computing b + 1; cs[0] holds b */
        if (b + 2 < nsb) {
            TILE_ZERO(0);
            TILE_LOAD(2, u + (size_t)(b + 2) * a_bytes, sub);
            TILE_LOAD(4, tile + (size_t)(b + 2) * sb_bytes, 64);
            TILE_DPBSSD(0, 2, 4);
        }
        AMX_STEP(cs[0], b);
        TILE_STORE(1, cs[1], 64);
        if (b + 2 >= nsb) {
            AMX_STEP(cs[1], b + 1);
            break;
        }
    }
#undef AMX_STEP
    float tmp[16][TILE_COLS];
    for (int r = 0; r < 16; r++) _mm512_storeu_ps(tmp[r], kq ? _mm512_load_ps(total[r]) : acc[r]);
    for (int c = 0; c < n_cols; c++)
        for (int r = 0; r < nr; r++) out[(size_t)c * out_stride + (size_t)r] = tmp[r][c];
}

/* Rows in blocks of 16. */
static void gemm_run_amx(const lai_weight_format *fmt, const uint8_t *u, const float *scale, const float *min,
                         int n_rows, int64_t K, const void *tile, int n_cols, float *out, size_t out_stride) {
    const int64_t nsb = K / fmt->sub;
    amx_configure(fmt->sub);
    for (int r0 = 0; r0 < n_rows; r0 += 16) {
        const int nr = LAI_MIN(16, n_rows - r0);
        const uint8_t *ur = u + (size_t)r0 * (size_t)K;
        const float *sr = scale + (size_t)r0 * (size_t)nsb, *mr = min + (size_t)r0 * (size_t)nsb;
        float *o = out + r0;
        /* K-quants (activations with one scale per 256): the activation scale once per 256 */
        const int k = fmt->act == LAI_ACT_Q8K;
#define AMX_CASE(SUB, MIN)                                                                       \
    do {                                                                                         \
        if (k) amx_rows(ur, sr, mr, nr, K, tile, o, out_stride, n_cols, SUB, MIN, 256 / (SUB));  \
        else amx_rows(ur, sr, mr, nr, K, tile, o, out_stride, n_cols, SUB, MIN, 0);              \
    } while (0)
        if (fmt->sub == 32) {
            if (fmt->has_min) AMX_CASE(32, 1);
            else AMX_CASE(32, 0);
        } else {
            if (fmt->has_min) AMX_CASE(16, 1);
            else AMX_CASE(16, 0);
        }
#undef AMX_CASE
    }
    __asm__ volatile("tilerelease" ::: "memory");
}

static const lai_gemm_kernel gemm_amx = {
    .cols = TILE_COLS,
    .rows = 64,
    .unpack_copies = 2,
    .unpack = gemm_unpack_amx,
    .run = gemm_run_amx,
    .run_f32 = gemm_run_f32,
};

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

static lai_cpu_kernels table = {
    .level = LAI_CPU_LEVEL_AVX512,
    .quantize = {NULL, quantize_q8, quantize_q8k},
    .vec_dot =
        {
            [LAI_TYPE_Q4_0] = vec_dot_q4_0,
            [LAI_TYPE_Q4_1] = vec_dot_q4_1,
            [LAI_TYPE_Q5_0] = vec_dot_q5_0,
            [LAI_TYPE_Q5_1] = vec_dot_q5_1,
            [LAI_TYPE_Q8_0] = vec_dot_q8_0,
            [LAI_TYPE_IQ4_NL] = vec_dot_iq4_nl,
            [LAI_TYPE_IQ4_XS] = vec_dot_iq4_xs,
            [LAI_TYPE_Q2_K] = vec_dot_q2_K,
            [LAI_TYPE_Q3_K] = vec_dot_q3_K,
            [LAI_TYPE_Q4_K] = vec_dot_q4_K,
            [LAI_TYPE_Q5_K] = vec_dot_q5_K,
            [LAI_TYPE_Q6_K] = vec_dot_q6_K,
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
    .gemm = &gemm_avx512,
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

/* The same level with its integer GEMM on AMX tiles, where the CPU has AMX-INT8 and the
 * operating system lets this process use it (lai_cpu_features.amx). */
static lai_cpu_kernels table_amx;

static lai_once table_once = LAI_ONCE_INIT;
static void complete_table(void) {
    lai_cpu_f16_init();
    lai_cpu_kernels_complete(&table);
    table_amx = table;
    table_amx.gemm = &gemm_amx;
}

const lai_cpu_kernels *lai_cpu_kernels_avx512(void) {
    lai_call_once(&table_once, complete_table);
    return lai_cpu_features_get()->amx ? &table_amx : &table;
}

const lai_cpu_kernels *lai_cpu_kernels_avx512_vnni(void) {
    lai_call_once(&table_once, complete_table);
    return &table;
}

#else

const lai_cpu_kernels *lai_cpu_kernels_avx512(void) { return NULL; }
const lai_cpu_kernels *lai_cpu_kernels_avx512_vnni(void) { return NULL; }

#endif
