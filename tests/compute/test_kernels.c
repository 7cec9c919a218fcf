/* test_kernels.c - each CPU kernel against a straightforward float64 evaluation on random inputs. */
#include <math.h>

#include "compute/backend.h"
#include "cpu/cpu_backend.h"
#include "cpu/cpu_vecdot.h"
#include "quant/quant.h"
#include "test_util.h"

/* ---- small harness ------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double rnd(void) { return test_rand(&rng_state); }
static void fill(float *x, size_t n, double amp) { test_fill(&rng_state, x, n, amp); }

typedef struct harness {
    lai_threadpool *pool;
    lai_backend *be;
    lai_exec *ex;
    lai_graph g;
    lai_buffer *buf;
} harness;

static void h_init(harness *h, int threads) {
    memset(h, 0, sizeof *h);
    CHECK_STATUS(lai_threadpool_new(threads - 1, &h->pool), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_cpu_backend_new(h->pool, lai_cpu_kernels_scalar(), NULL, &h->be), LOCALAI_STATUS_OK);
    const lai_exec_params ep = {threads};
    CHECK_STATUS(h->be->vt->exec_new(h->be, &ep, &h->ex), LOCALAI_STATUS_OK);
    lai_graph_init(&h->g);
}

static void h_free(harness *h) {
    if (h->buf) h->be->vt->buffer_free(h->be, h->buf);
    lai_graph_free(&h->g);
    if (h->ex) h->be->vt->exec_free(h->ex);
    if (h->be) h->be->vt->destroy(h->be);
    lai_threadpool_free(h->pool);
}

static lai_tensor *input(harness *h, uint32_t type, int64_t ne0, int64_t ne1, int64_t ne2) {
    return lai_graph_new_tensor(&h->g, LAI_TENSOR_INPUT, type, ne0, ne1, ne2, "input");
}

/* Plans, binds, writes the inputs (pairs of tensor, data, bytes), runs. */
static localai_status h_run(harness *h, int n_inputs, lai_tensor **ins, const void **data,
                            const lai_compute_opts *opts) {
    localai_status st = lai_graph_plan(&h->g);
    if (st != LOCALAI_STATUS_OK) return st;
    st = h->be->vt->buffer_alloc(h->be, h->g.planned_size, &h->buf);
    if (st != LOCALAI_STATUS_OK) return st;
    lai_graph_bind(&h->g, h->buf);
    for (int i = 0; i < n_inputs; i++) {
        size_t bytes = ins[i]->nb[3] * (size_t)ins[i]->ne[3];
        st = h->be->vt->tensor_write(h->be, ins[i], data[i], 0, bytes);
        if (st != LOCALAI_STATUS_OK) return st;
    }
    return h->be->vt->compute(h->ex, &h->g, opts);
}

static void h_read(harness *h, lai_tensor *t, float *out) {
    CHECK_STATUS(h->be->vt->tensor_read(h->be, t, out, 0, (size_t)lai_tensor_nelements(t) * 4),
                 LOCALAI_STATUS_OK);
}

/* max |o - r| / (atol + rtol * scale_i) must be <= 1 */
static int close_enough(const float *o, const double *r, const double *scale, size_t n,
                        double rtol, double atol, const char *what) {
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double s = scale ? scale[i] : fabs(r[i]);
        double e = fabs((double)o[i] - r[i]) / (atol + rtol * s);
        if (!(e <= worst)) { worst = e; at = i; }
    }
    if (!(worst <= 1.0))
        fprintf(stderr, "%s: element %zu: got %.9g want %.9g (ratio %.3g)\n", what, at, o[at], r[at], worst);
    return worst <= 1.0;
}

/* ---- matmul: every type with a reference quantizer and dequantizer -------------- */

static void test_matmul_type(uint32_t type, int64_t M, int threads) {
    const lai_type_traits *tt = lai_type_get(type);
    const int64_t K = 256, N = 37;
    float *w = malloc(sizeof(float) * (size_t)(K * N)), *x = malloc(sizeof(float) * (size_t)(K * M));
    float *wq_f = malloc(sizeof(float) * (size_t)(K * N));
    float *out = malloc(sizeof(float) * (size_t)(N * M));
    double *ref = malloc(sizeof(double) * (size_t)(N * M)), *scale = malloc(sizeof(double) * (size_t)(N * M));
    size_t row = lai_tensor_row_size(type, K);
    uint8_t *wq = malloc(row * (size_t)N);
    fill(w, (size_t)(K * N), 1.0);
    fill(x, (size_t)(K * M), 1.0);
    for (int64_t n = 0; n < N; n++) {
        tt->from_float(w + n * K, wq + (size_t)n * row, K);
        tt->to_float(wq + (size_t)n * row, wq_f + n * K, K); /* the weights the kernel sees */
    }
    /* Where the CPU backend rounds activations to 8-bit blocks (as llama.cpp does), each
     * element of x moves by at most half a step, amax(block) / 254: the bound on the
     * result is sum |w| * that step, added to the f32 accumulation allowance. */
    const lai_weight_format *fmt = lai_weight_format_get(type);
    const int64_t ablock = fmt == NULL ? 0 : fmt->act == LAI_ACT_Q8 ? 32 : 256;
    /* ...and, tighter, against the same products on the rounded activations x~ (the
     * kernel's integer arithmetic is exact, so only f32 scale products remain). */
    double *xr = malloc(sizeof(double) * (size_t)(K * M));
    /* per column and block, |d * sum(q)|: formats with a min multiply it by an f16-rounded
     * copy of that product (as llama.cpp does), an error of 2^-11 of it times |min| */
    double *dsum = calloc((size_t)(M * (K / 32)), sizeof(double));
    for (int64_t i = 0; i < K * M; i++) xr[i] = x[i];
    if (fmt != NULL) {
        void *act = malloc(lai_act_row_bytes(fmt->act, K));
        for (int64_t m = 0; m < M; m++) {
            lai_cpu_kernels_scalar()->quantize[fmt->act](x + m * K, act, K);
            for (int64_t k = 0; k < K; k++) {
                if (ablock == 32) {
                    const lai_act_q8 *a = (const lai_act_q8 *)act + k / 32;
                    xr[m * K + k] = (double)a->d * a->qs[k % 32];
                    dsum[m * (K / 32) + k / 32] += (double)a->d * a->qs[k % 32];
                } else {
                    const lai_act_q8k *a = (const lai_act_q8k *)act + k / 256;
                    xr[m * K + k] = (double)a->d * a->qs[k % 256];
                }
            }
        }
        free(act);
    }
    double *ref2 = malloc(sizeof(double) * (size_t)(N * M)), *scale2 = malloc(sizeof(double) * (size_t)(N * M));
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double s = 0, a = 0;
            for (int64_t k = 0; k < K; k++) {
                s += (double)wq_f[n * K + k] * xr[m * K + k];
                a += fabs((double)wq_f[n * K + k] * xr[m * K + k]);
            }
            double minterm = 0;
            for (int64_t b = 0; ablock == 32 && b < K / 32; b++) {
                double wmax = 0;
                for (int64_t k = 32 * b; k < 32 * b + 32; k++) wmax = fmax(wmax, fabs(wq_f[n * K + k]));
                minterm += wmax * fabs(dsum[m * (K / 32) + b]) * 0x1p-10;
            }
            ref2[m * N + n] = s;
            scale2[m * N + n] = a + minterm * 1e6;
        }
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double s = 0, a = 0, r = 0;
            for (int64_t k = 0; k < K; k++) {
                s += (double)wq_f[n * K + k] * x[m * K + k];
                a += fabs((double)wq_f[n * K + k] * x[m * K + k]);
                if (fmt != NULL) {
                    const int64_t b0 = k / ablock * ablock;
                    double amax = 0;
                    for (int64_t j = b0; j < b0 + ablock; j++) amax = fmax(amax, fabs(x[m * K + j]));
                    r += fabs((double)wq_f[n * K + k]) * amax / 254.0 * 1.001;
                }
            }
            ref[m * N + n] = s;
            scale[m * N + n] = a + r * 1e6; /* rtol below is 1e-6 */
        }
    harness h;
    h_init(&h, threads);
    lai_tensor *tw = input(&h, type, K, N, 1), *tx = input(&h, LAI_TYPE_F32, K, M, 1);
    lai_tensor *y = lai_op_matmul(&h.g, tw, tx);
    lai_graph_mark_output(&h.g, y);
    lai_tensor *ins[2] = {tw, tx};
    const void *data[2] = {wq, x};
    CHECK_STATUS(h_run(&h, 2, ins, data, NULL), LOCALAI_STATUS_OK);
    h_read(&h, y, out);
    char what[64];
    snprintf(what, sizeof what, "matmul %s M=%lld", tt->name, (long long)M);
    /* f32 accumulation of K=256 products: a few ulps of the sum of magnitudes */
    CHECK_MSG(close_enough(out, ref, scale, (size_t)(N * M), 1e-6, 1e-7, what), "%s", what);
    CHECK_MSG(close_enough(out, ref2, scale2, (size_t)(N * M), 1e-6, 1e-7, what), "%s (rounded x)", what);
    free(xr); free(ref2); free(scale2); free(dsum);
    h_free(&h);
    free(w); free(x); free(wq_f); free(out); free(ref); free(scale); free(wq);
}

static void test_matmul(void) {
    int n_types = 0;
    for (uint32_t type = 0; type < LAI_TYPE_COUNT; type++) {
        const lai_type_traits *tt = lai_type_get(type);
        if (tt == NULL || tt->to_float == NULL || tt->from_float == NULL) continue;
        if (256 % tt->block_size != 0) continue;
        n_types++;
        test_matmul_type(type, 1, 1);
        test_matmul_type(type, 5, 3);
        test_matmul_type(type, 20, 2);
    }
    CHECK(n_types >= 3); /* f32, f16, bf16 at least */
}

/* ---- row ops --------------------------------------------------------------------- */

static void test_rows(int threads) {
    const int64_t n = 48, rows = 7;
    float x[48 * 7], y[48 * 7], w[48], out[48 * 7];
    double ref[48 * 7];
    fill(x, sizeof x / 4, 3.0);
    fill(y, sizeof y / 4, 3.0);
    fill(w, sizeof w / 4, 2.0);
    for (int kind = 0; kind < 8; kind++) {
        harness h;
        h_init(&h, threads);
        lai_tensor *tx = input(&h, LAI_TYPE_F32, n, rows, 1), *ty = input(&h, LAI_TYPE_F32, n, rows, 1);
        lai_tensor *tw = input(&h, LAI_TYPE_F32, n, 1, 1);
        lai_tensor *r = NULL;
        const char *name = "";
        switch (kind) {
        case 0: r = lai_op_rms_norm(&h.g, tx, tw, 1e-5f); name = "rms_norm*w"; break;
        case 1: r = lai_op_rms_norm(&h.g, tx, NULL, 1e-6f); name = "rms_norm"; break;
        case 2: r = lai_op_add(&h.g, tx, ty); name = "add"; break;
        case 3: r = lai_op_mul(&h.g, tx, tw); name = "mul broadcast"; break;
        case 4: r = lai_op_scale(&h.g, tx, 0.125f); name = "scale"; break;
        case 5: r = lai_op_softcap(&h.g, tx, 2.5f); name = "softcap"; break;
        case 6: r = lai_op_swiglu(&h.g, tx, ty); name = "swiglu"; break;
        default: r = lai_op_geglu(&h.g, tx, ty); name = "geglu"; break;
        }
        lai_graph_mark_output(&h.g, r);
        lai_tensor *ins[3] = {tx, ty, tw};
        const void *data[3] = {x, y, w};
        CHECK_STATUS(h_run(&h, 3, ins, data, NULL), LOCALAI_STATUS_OK);
        h_read(&h, r, out);
        for (int64_t j = 0; j < rows; j++) {
            double ss = 0;
            for (int64_t i = 0; i < n; i++) ss += (double)x[j * n + i] * x[j * n + i];
            for (int64_t i = 0; i < n; i++) {
                double a = x[j * n + i], b = y[j * n + i], v;
                switch (kind) {
                case 0: v = a / sqrt(ss / n + 1e-5) * w[i]; break;
                case 1: v = a / sqrt(ss / n + 1e-6); break;
                case 2: v = a + b; break;
                case 3: v = a * w[i]; break;
                case 4: v = a * 0.125; break;
                case 5: v = 2.5 * tanh(a / 2.5); break;
                case 6: v = a / (1 + exp(-a)) * b; break;
                default: v = 0.5 * a * (1 + tanh(sqrt(2 / M_PI) * (a + 0.044715 * a * a * a))) * b; break;
                }
                ref[j * n + i] = v;
            }
        }
        CHECK_MSG(close_enough(out, ref, NULL, (size_t)(n * rows), 1e-5, 1e-6, name), "%s", name);
        h_free(&h);
    }
}

static void test_get_rows(void) {
    const int64_t n = 16, vocab = 10;
    uint16_t table[16 * 10];
    float tf[16 * 10];
    for (int i = 0; i < 160; i++) {
        table[i] = lai_f32_to_f16((float)rnd());
        tf[i] = lai_f16_to_f32(table[i]);
    }
    int32_t ids[5] = {3, 0, 9, 3, 7};
    harness h;
    h_init(&h, 2);
    lai_tensor *tt = input(&h, LAI_TYPE_F16, n, vocab, 1), *ti = input(&h, LAI_TYPE_I32, 5, 1, 1);
    lai_tensor *r = lai_op_get_rows(&h.g, tt, ti);
    lai_graph_mark_output(&h.g, r);
    lai_tensor *ins[2] = {tt, ti};
    const void *data[2] = {table, ids};
    CHECK_STATUS(h_run(&h, 2, ins, data, NULL), LOCALAI_STATUS_OK);
    float out[16 * 5];
    double ref[16 * 5];
    h_read(&h, r, out);
    for (int j = 0; j < 5; j++)
        for (int i = 0; i < n; i++) ref[j * n + i] = tf[ids[j] * n + i];
    CHECK(close_enough(out, ref, NULL, 80, 0, 1e-30, "get_rows f16")); /* exact */
    h_free(&h);
}

/* ---- rope ------------------------------------------------------------------------ */

static void test_rope_case(int neox, int with_factors, int yarn, int threads) {
    const int64_t hd = 16, nh = 3, nt = 4;
    const int n_rot = 12; /* partial rotation: dims 12..15 pass through */
    float x[16 * 3 * 4], ff[6], out[16 * 3 * 4];
    double ref[16 * 3 * 4];
    int32_t pos[4] = {0, 5, 77, 1000};
    fill(x, sizeof x / 4, 1.0);
    for (int i = 0; i < 6; i++) ff[i] = 1.0f + (float)i * 0.7f;
    lai_rope_params rp = {n_rot, neox, 4096, 10000.0f, yarn ? 0.25f : 1.0f, yarn ? 1.0f : 0.0f,
                          yarn ? 1.3f : 1.0f, 32.0f, 1.0f};
    harness h;
    h_init(&h, threads);
    lai_tensor *tx = input(&h, LAI_TYPE_F32, hd, nh, nt), *tp = input(&h, LAI_TYPE_I32, nt, 1, 1);
    lai_tensor *tf = input(&h, LAI_TYPE_F32, 6, 1, 1);
    lai_tensor *r = lai_op_rope(&h.g, tx, tp, with_factors ? tf : NULL, &rp);
    lai_graph_mark_output(&h.g, r);
    lai_tensor *ins[3] = {tx, tp, tf};
    const void *data[3] = {x, pos, ff};
    CHECK_STATUS(h_run(&h, 3, ins, data, NULL), LOCALAI_STATUS_OK);
    h_read(&h, r, out);
    /* float64 reference, written from the definitions */
    double lo = 0, hi = 0, mscale = rp.attn_factor;
    if (yarn) {
        double dlo = n_rot * log(4096.0 / (32.0 * 2 * M_PI)) / (2 * log(10000.0));
        double dhi = n_rot * log(4096.0 / (1.0 * 2 * M_PI)) / (2 * log(10000.0));
        lo = fmax(0, floor(dlo));
        hi = fmin(n_rot - 1, ceil(dhi));
        mscale *= 1 + 0.1 * log(1 / 0.25);
    }
    for (int64_t t = 0; t < nt; t++)
        for (int64_t hh = 0; hh < nh; hh++) {
            const float *in = x + (t * nh + hh) * hd;
            double *o = ref + (t * nh + hh) * hd;
            for (int i = 0; i < n_rot / 2; i++) {
                double th_e = pos[t] * pow(10000.0, -2.0 * i / n_rot) / (with_factors ? ff[i] : 1.0);
                double th = rp.freq_scale * th_e;
                if (yarn) {
                    double y = (i - lo) / fmax(0.001, hi - lo);
                    double mix = 1 - fmin(1, fmax(0, y));
                    th = th * (1 - mix) + th_e * mix;
                }
                int a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
                o[a] = (in[a] * cos(th) - in[b] * sin(th)) * mscale;
                o[b] = (in[a] * sin(th) + in[b] * cos(th)) * mscale;
            }
            for (int i = n_rot; i < hd; i++) o[i] = in[i];
        }
    /* positions up to 1000: theta in f32 carries ~1000 * 6e-8 rad of error */
    char what[64];
    snprintf(what, sizeof what, "rope neox=%d factors=%d yarn=%d", neox, with_factors, yarn);
    CHECK_MSG(close_enough(out, ref, NULL, sizeof out / 4, 1e-4, 2e-4, what), "%s", what);
    h_free(&h);
}

/* ---- kv_store + attention --------------------------------------------------------- */

/* Which cells a token sees comes from the cell table and the tokens' positions and
 * sequences: causal, per sequence, within n_kv, and within the sliding window when
 * n_swa > 0. The reference works that rule out on its own. */
static void test_attention_case(uint32_t kv_type, float softcap, int32_t n_swa, int threads) {
    enum { HD = 8, NH = 4, NKV = 2, NT = 3, NCELL = 10 };
    const int n_kv = 9; /* cell 9 lies beyond it and must be ignored */
    float q[HD * NH * NT], knew[HD * NKV * NT], vnew[HD * NKV * NT], out[HD * NH * NT];
    double ref[HD * NH * NT];
    int32_t slots[NT] = {6, 2, 8}, tok_pos[NT] = {5, 8, 3}, tok_seq[NT] = {0, 1, 2};
    fill(q, sizeof q / 4, 1.0);
    fill(knew, sizeof knew / 4, 1.0);
    fill(vnew, sizeof vnew / 4, 1.0);
    /* older cells hold random values; the kernel must read the stored (rounded) ones */
    float kold[NCELL * HD * NKV], vold[NCELL * HD * NKV];
    fill(kold, sizeof kold / 4, 1.0);
    fill(vold, sizeof vold / 4, 1.0);
    /* the cell table: position and sequence bits; the batch's cells as lai_kv_fill leaves them */
    int32_t cells[NCELL][2];
    for (int c = 0; c < NCELL; c++) {
        cells[c][0] = c == 4 ? -1 : (c * 7) % 11;
        cells[c][1] = c == 4 ? 0 : c % 3 == 0 ? 1 : c % 3 == 1 ? 2 : 3;
    }
    cells[9][0] = 0;
    cells[9][1] = 7; /* visible to everyone, but past n_kv */
    for (int t = 0; t < NT; t++) {
        cells[slots[t]][0] = tok_pos[t];
        cells[slots[t]][1] = 1 << tok_seq[t];
    }
    int32_t info[2 + 2 * NT];
    info[0] = n_kv;
    info[1] = 0; /* the window group's length: this op reads group 0 */
    for (int t = 0; t < NT; t++) {
        info[2 + t] = tok_pos[t];
        info[2 + NT + t] = tok_seq[t];
    }

    harness h;
    h_init(&h, threads);
    /* the caches live in their own buffer, as the context's KV cache does */
    lai_tensor kc, vc, ct;
    const int64_t ne[4] = {HD * NKV, NCELL, 1, 1}, cne[4] = {2, NCELL, 1, 1};
    memset(&kc, 0, sizeof kc);
    memset(&vc, 0, sizeof vc);
    memset(&ct, 0, sizeof ct);
    CHECK(lai_tensor_set_dense(&kc, kv_type, ne));
    CHECK(lai_tensor_set_dense(&vc, kv_type, ne));
    CHECK(lai_tensor_set_dense(&ct, LAI_TYPE_I32, cne));
    kc.kind = vc.kind = ct.kind = LAI_TENSOR_EXTERNAL;
    lai_buffer *kvbuf = NULL;
    size_t cache_bytes = kc.nb[1] * NCELL;
    CHECK_STATUS(h.be->vt->buffer_alloc(h.be, 2 * cache_bytes + sizeof cells, &kvbuf), LOCALAI_STATUS_OK);
    kc.buffer = vc.buffer = ct.buffer = kvbuf;
    vc.offset = cache_bytes;
    ct.offset = 2 * cache_bytes;
    h.be->vt->tensor_write(h.be, &ct, cells, 0, sizeof cells);
    /* fill old cells */
    double kcell[NCELL][HD * NKV], vcell[NCELL][HD * NKV];
    for (int c = 0; c < NCELL; c++)
        for (int i = 0; i < HD * NKV; i++) {
            float kv = kold[c * HD * NKV + i], vv = vold[c * HD * NKV + i];
            if (kv_type == LAI_TYPE_F16) {
                uint16_t hk = lai_f32_to_f16(kv), hv = lai_f32_to_f16(vv);
                h.be->vt->tensor_write(h.be, &kc, &hk, (size_t)(c * HD * NKV + i) * 2, 2);
                h.be->vt->tensor_write(h.be, &vc, &hv, (size_t)(c * HD * NKV + i) * 2, 2);
                kcell[c][i] = lai_f16_to_f32(hk);
                vcell[c][i] = lai_f16_to_f32(hv);
            } else {
                h.be->vt->tensor_write(h.be, &kc, &kv, (size_t)(c * HD * NKV + i) * 4, 4);
                h.be->vt->tensor_write(h.be, &vc, &vv, (size_t)(c * HD * NKV + i) * 4, 4);
                kcell[c][i] = kv;
                vcell[c][i] = vv;
            }
        }
    for (int t = 0; t < NT; t++)
        for (int i = 0; i < HD * NKV; i++) {
            float kv = knew[t * HD * NKV + i], vv = vnew[t * HD * NKV + i];
            kcell[slots[t]][i] = kv_type == LAI_TYPE_F16 ? lai_f16_to_f32(lai_f32_to_f16(kv)) : kv;
            vcell[slots[t]][i] = kv_type == LAI_TYPE_F16 ? lai_f16_to_f32(lai_f32_to_f16(vv)) : vv;
        }

    lai_tensor *tq = input(&h, LAI_TYPE_F32, HD, NH, NT);
    lai_tensor *tk = input(&h, LAI_TYPE_F32, HD, NKV, NT), *tv = input(&h, LAI_TYPE_F32, HD * NKV, NT, 1);
    lai_tensor *ts = input(&h, LAI_TYPE_I32, NT, 1, 1), *ti = input(&h, LAI_TYPE_I32, 2 + 2 * NT, 1, 1);
    CHECK(lai_op_kv_store(&h.g, &kc, tk, ts) != NULL);
    CHECK(lai_op_kv_store(&h.g, &vc, tv, ts) != NULL);
    const float scale = 0.35f;
    lai_tensor *r = lai_op_attention(&h.g, tq, &kc, &vc, ti, &ct, 0, n_swa, NKV, scale, softcap);
    lai_graph_mark_output(&h.g, r);
    lai_tensor *ins[5] = {tq, tk, tv, ts, ti};
    const void *data[5] = {q, knew, vnew, slots, info};
    CHECK_STATUS(h_run(&h, 5, ins, data, NULL), LOCALAI_STATUS_OK);
    h_read(&h, r, out);
    int n_visible = 0;
    for (int t = 0; t < NT; t++)
        for (int hh = 0; hh < NH; hh++) {
            int kh = hh / (NH / NKV);
            double s[NCELL], mx = -INFINITY, sum = 0;
            for (int c = 0; c < n_kv; c++) {
                const int visible = cells[c][0] >= 0 && cells[c][0] <= tok_pos[t] &&
                                    ((cells[c][1] >> tok_seq[t]) & 1) &&
                                    (n_swa == 0 || tok_pos[t] - cells[c][0] < n_swa);
                n_visible += visible && hh == 0;
                double d = 0;
                for (int i = 0; i < HD; i++) d += (double)q[(t * NH + hh) * HD + i] * kcell[c][kh * HD + i];
                d *= scale;
                if (softcap > 0) d = softcap * tanh(d / softcap);
                s[c] = visible ? d : -INFINITY;
                if (s[c] > mx) mx = s[c];
            }
            for (int c = 0; c < n_kv; c++) sum += s[c] == -INFINITY ? 0 : exp(s[c] - mx);
            for (int i = 0; i < HD; i++) {
                double o = 0;
                for (int c = 0; c < n_kv; c++)
                    if (s[c] != -INFINITY) o += exp(s[c] - mx) / sum * vcell[c][kh * HD + i];
                ref[t * NH * HD + hh * HD + i] = o;
            }
        }
    CHECK(n_visible > NT); /* the rule leaves more than each token's own cell */
    char what[80];
    snprintf(what, sizeof what, "attention kv=%s softcap=%g n_swa=%d", kv_type == LAI_TYPE_F16 ? "f16" : "f32",
             softcap, (int)n_swa);
    CHECK_MSG(close_enough(out, ref, NULL, sizeof out / 4, 1e-5, 1e-6, what), "%s", what);
    h.be->vt->buffer_free(h.be, kvbuf);
    h_free(&h);
}

/* ---- planner reuse and thread agreement ------------------------------------------ */

static void test_plan_chain(void) {
    /* 40 chained adds: the plan must reuse memory, and values must stay right. */
    const int64_t n = 1000;
    float *x = malloc(n * 4), *out = malloc(n * 4);
    double *ref = malloc(n * sizeof(double));
    fill(x, (size_t)n, 1.0);
    harness h;
    h_init(&h, 2);
    lai_tensor *tx = input(&h, LAI_TYPE_F32, n, 1, 1);
    lai_tensor *cur = tx;
    for (int i = 0; i < 40; i++) cur = lai_op_add(&h.g, lai_op_scale(&h.g, cur, 0.5f), tx);
    lai_graph_mark_output(&h.g, cur);
    lai_tensor *ins[1] = {tx};
    const void *data[1] = {x};
    CHECK_STATUS(h_run(&h, 1, ins, data, NULL), LOCALAI_STATUS_OK);
    CHECK_MSG(h.g.planned_size <= (size_t)n * 4 * 5, "planned %zu bytes", h.g.planned_size);
    h_read(&h, cur, out);
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        for (int k = 0; k < 40; k++) v = v * 0.5 + x[i];
        ref[i] = v;
    }
    CHECK(close_enough(out, ref, NULL, (size_t)n, 1e-5, 1e-6, "add chain"));
    h_free(&h);
    free(x); free(out); free(ref);
}

static int abort_calls;
static int32_t abort_after_3(void *user) {
    (void)user;
    return ++abort_calls >= 3;
}

static void test_abort(void) {
    float x[64];
    fill(x, 64, 1.0);
    harness h;
    h_init(&h, 2);
    lai_tensor *tx = input(&h, LAI_TYPE_F32, 64, 1, 1);
    lai_tensor *cur = tx;
    for (int i = 0; i < 10; i++) cur = lai_op_scale(&h.g, cur, 2.0f);
    lai_graph_mark_output(&h.g, cur);
    lai_compute_opts opts = {abort_after_3, NULL};
    lai_tensor *ins[1] = {tx};
    const void *data[1] = {x};
    CHECK_STATUS(h_run(&h, 1, ins, data, &opts), LOCALAI_STATUS_CANCELLED);
    CHECK(abort_calls == 3);
    h_free(&h);
}

static void test_bad_graph(void) {
    harness h;
    h_init(&h, 1);
    lai_tensor *a = input(&h, LAI_TYPE_F32, 8, 2, 1), *b = input(&h, LAI_TYPE_F32, 9, 2, 1);
    CHECK(lai_op_add(&h.g, a, b) == NULL);
    CHECK(h.g.status != LOCALAI_STATUS_OK);
    CHECK(lai_op_scale(&h.g, a, 1.0f) == NULL); /* sticky */
    h_free(&h);
}

int main(void) {
    test_matmul();
    test_rows(1);
    test_rows(3);
    test_get_rows();
    for (int neox = 0; neox < 2; neox++)
        for (int ff = 0; ff < 2; ff++)
            for (int yarn = 0; yarn < 2; yarn++) test_rope_case(neox, ff, yarn, 1 + neox + yarn);
    test_attention_case(LAI_TYPE_F32, 0.0f, 0, 1);
    test_attention_case(LAI_TYPE_F16, 0.0f, 0, 3);
    test_attention_case(LAI_TYPE_F32, 1.5f, 0, 2);
    test_attention_case(LAI_TYPE_F16, 0.0f, 3, 2);
    test_plan_chain();
    test_abort();
    test_bad_graph();
    return test_finish("test_kernels");
}
