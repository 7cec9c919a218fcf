/* test_vk_ops.c - every Vulkan shader against an oracle: float64 evaluations, or the CPU backend's scalar reference, on random inputs and odd shapes. */
#include <math.h>
#include <stdlib.h>

#include "compute/backend.h"
#include "cpu/cpu_backend.h"
#include "quant/quant.h"
#include "test_util.h"
#include "vulkan/vk_backend.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static double rnd(void) { return test_rand(&rng_state); }
static void fill(float *x, size_t n, double amp) { test_fill(&rng_state, x, n, amp); }

/* ---- one graph on one backend ----------------------------------------------------- */

#define MAX_INPUTS 8

typedef struct run {
    lai_backend *be;
    lai_exec *ex;
    lai_graph g;
    lai_buffer *buf;
    lai_tensor *in[MAX_INPUTS];
    const void *data[MAX_INPUTS];
    int n_in;
} run;

static void run_init(run *r, lai_backend *be) {
    memset(r, 0, sizeof *r);
    r->be = be;
    const lai_exec_params ep = {1};
    CHECK_STATUS(be->vt->exec_new(be, &ep, &r->ex), LOCALAI_STATUS_OK);
    lai_graph_init(&r->g);
}

static lai_tensor *run_input(run *r, uint32_t type, int64_t ne0, int64_t ne1, int64_t ne2, const void *data) {
    lai_tensor *t = lai_graph_new_tensor(&r->g, LAI_TENSOR_INPUT, type, ne0, ne1, ne2, "input");
    r->in[r->n_in] = t;
    r->data[r->n_in++] = data;
    return t;
}

static localai_status run_go(run *r) {
    localai_status st = lai_graph_plan(&r->g);
    if (st != LOCALAI_STATUS_OK) return st;
    st = r->be->vt->buffer_alloc(r->be, r->g.planned_size, &r->buf);
    if (st != LOCALAI_STATUS_OK) return st;
    lai_graph_bind(&r->g, r->buf);
    for (int i = 0; i < r->n_in; i++) {
        st = r->be->vt->tensor_write(r->be, r->in[i], r->data[i], 0, r->in[i]->nb[3] * (size_t)r->in[i]->ne[3]);
        if (st != LOCALAI_STATUS_OK) return st;
    }
    return r->be->vt->compute(r->ex, &r->g, NULL);
}

static void run_read(run *r, const lai_tensor *t, void *out, size_t bytes) {
    CHECK_STATUS(r->be->vt->tensor_read(r->be, t, out, 0, bytes), LOCALAI_STATUS_OK);
}

static void run_free(run *r) {
    if (r->buf) r->be->vt->buffer_free(r->be, r->buf);
    lai_graph_free(&r->g);
    if (r->ex) r->be->vt->exec_free(r->ex);
}

/* max |o - r| / (atol + rtol * |r|) <= 1, the worst element reported */
static int close_enough(const float *o, const double *ref, size_t n, double rtol, double atol, const char *what) {
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)o[i] - ref[i]) / (atol + rtol * fabs(ref[i]));
        if (!(e <= worst)) {
            worst = e;
            at = i;
        }
    }
    if (!(worst <= 1.0)) fprintf(stderr, "%s: element %zu: got %.9g want %.9g (ratio %.3g)\n", what, at, o[at], ref[at], worst);
    return worst <= 1.0;
}

static lai_backend *vk;
static lai_threadpool *pool;
static lai_backend *cpu;

/* ---- matmul and get_rows: every weight type against float64 on the dequantized weights - */

static void test_weights(uint32_t type, int64_t K, int64_t N, int64_t M) {
    const lai_type_traits *tt = lai_type_get(type);
    char what[64];
    snprintf(what, sizeof what, "matmul %s K=%d N=%d M=%d", tt->name, (int)K, (int)N, (int)M);
    const size_t row = lai_tensor_row_size(type, K);
    float *w = malloc(sizeof(float) * (size_t)(K * N)), *wf = malloc(sizeof(float) * (size_t)(K * N));
    float *x = malloc(sizeof(float) * (size_t)(K * M)), *out = malloc(sizeof(float) * (size_t)(N * M));
    double *ref = malloc(sizeof(double) * (size_t)(N * M)), *mag = malloc(sizeof(double) * (size_t)(N * M));
    uint8_t *wq = malloc(row * (size_t)N);
    fill(w, (size_t)(K * N), 1.0);
    fill(x, (size_t)(K * M), 1.0);
    for (int64_t n = 0; n < N; n++) {
        uint8_t *qrow = wq + (size_t)n * row;
        if (type == LAI_TYPE_F32) {
            memcpy(qrow, w + n * K, row);
        } else if (tt->from_float != NULL) {
            tt->from_float(w + n * K, qrow, K);
        } else { /* no reference quantizer (IQ4_NL, IQ4_XS): random blocks with a sane scale first */
            for (size_t i = 0; i < row; i++) qrow[i] = (uint8_t)(rnd() * 128.0 + 128.0);
            for (size_t b = 0; b < row; b += tt->type_size) {
                const uint16_t d = lai_f32_to_f16((float)(0.01 + 0.01 * rnd()));
                memcpy(qrow + b, &d, 2);
            }
        }
        if (type == LAI_TYPE_F32)
            memcpy(wf + n * K, w + n * K, sizeof(float) * (size_t)K);
        else
            tt->to_float(wq + (size_t)n * row, wf + n * K, K);
    }
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double s = 0, a = 0;
            for (int64_t k = 0; k < K; k++) {
                s += (double)wf[n * K + k] * x[m * K + k];
                a += fabs((double)wf[n * K + k] * x[m * K + k]);
            }
            ref[m * N + n] = s;
            mag[m * N + n] = a;
        }
    run r;
    run_init(&r, vk);
    lai_tensor *tw = run_input(&r, type, K, N, 1, wq);
    lai_tensor *tx = run_input(&r, LAI_TYPE_F32, K, M, 1, x);
    /* rows 2, 0, a negative id and one past the end (zeros), N-1 */
    const int32_t ids[5] = {2, 0, -1, (int32_t)N, (int32_t)N - 1};
    lai_tensor *tid = run_input(&r, LAI_TYPE_I32, 5, 1, 1, ids);
    lai_tensor *rows = lai_op_get_rows(&r.g, tw, tid);
    lai_graph_mark_output(&r.g, rows);
    lai_tensor *y = lai_op_matmul(&r.g, tw, tx);
    lai_graph_mark_output(&r.g, y);
    CHECK_STATUS(run_go(&r), LOCALAI_STATUS_OK);
    run_read(&r, y, out, sizeof(float) * (size_t)(N * M));
    /* f32 accumulation of K products: a few ulp of sum |w x| */
    double worst = 0;
    for (int64_t i = 0; i < N * M; i++) worst = fmax(worst, fabs(out[i] - ref[i]) / (1e-6 + 2e-6 * mag[i]));
    if (!(worst <= 1.0)) fprintf(stderr, "%s: error %.3g of the allowance\n", what, worst);
    CHECK(worst <= 1.0);
    float *got = malloc(sizeof(float) * (size_t)(5 * K));
    run_read(&r, rows, got, sizeof(float) * (size_t)(5 * K));
    int same = 1;
    for (int i = 0; i < 5; i++)
        for (int64_t k = 0; k < K; k++) {
            const float want = ids[i] >= 0 && ids[i] < N ? wf[ids[i] * K + k] : 0.0f;
            if (same && memcmp(&got[i * K + k], &want, sizeof want) != 0)
                fprintf(stderr, "get_rows %s: row %d (id %d) element %d: got %.9g want %.9g\n", tt->name, i,
                        (int)ids[i], (int)k, got[i * K + k], want);
            same &= memcmp(&got[i * K + k], &want, sizeof want) == 0;
        }
    if (!same) fprintf(stderr, "get_rows %s: rows differ from the reference dequantizer\n", tt->name);
    CHECK(same);
    free(got);
    run_free(&r);
    free(w);
    free(wf);
    free(x);
    free(out);
    free(ref);
    free(mag);
    free(wq);
}

/* ---- element-wise ops and rms_norm against float64 ------------------------------------ */

static void test_elementwise(void) {
    enum { NE0 = 67, NE1 = 5, NE2 = 2, N = NE0 * NE1 * NE2 };
    static float a[N], b[N], row[NE0], out[N];
    static double ref[N];
    fill(a, N, 3.0);
    fill(b, N, 2.0);
    fill(row, NE0, 2.0);
    for (int kind = 0; kind < 8; kind++) {
        run r;
        run_init(&r, vk);
        lai_tensor *ta = run_input(&r, LAI_TYPE_F32, NE0, NE1, NE2, a);
        lai_tensor *tb = kind == 6 || kind == 7 ? run_input(&r, LAI_TYPE_F32, NE0, 1, 1, row)
                                                : run_input(&r, LAI_TYPE_F32, NE0, NE1, NE2, b);
        lai_tensor *y = kind == 0 ? lai_op_add(&r.g, ta, tb)
                        : kind == 1 ? lai_op_mul(&r.g, ta, tb)
                        : kind == 2 ? lai_op_scale(&r.g, ta, 0.37f)
                        : kind == 3 ? lai_op_softcap(&r.g, ta, 1.5f)
                        : kind == 4 ? lai_op_swiglu(&r.g, ta, tb)
                        : kind == 5 ? lai_op_geglu(&r.g, ta, tb)
                        : kind == 6 ? lai_op_add(&r.g, ta, tb)
                                    : lai_op_mul(&r.g, ta, tb);
        lai_graph_mark_output(&r.g, y);
        CHECK_STATUS(run_go(&r), LOCALAI_STATUS_OK);
        run_read(&r, y, out, sizeof out);
        for (int i = 0; i < N; i++) {
            const double x = a[i], v = kind >= 6 ? row[i % NE0] : b[i];
            ref[i] = kind == 0 || kind == 6 ? x + v
                     : kind == 1 || kind == 7 ? x * v
                     : kind == 2 ? x * (double)0.37f
                     : kind == 3 ? 1.5 * tanh(x / 1.5)
                     : kind == 4 ? x / (1.0 + exp(-x)) * v
                                 : 0.5 * x * (1.0 + tanh(0.7978845608028654 * x * (1.0 + 0.044715 * x * x))) * v;
        }
        static const char *const names[] = {"add", "mul", "scale", "softcap", "swiglu", "geglu", "add (row)", "mul (row)"};
        CHECK(close_enough(out, ref, N, 2e-6, 2e-6, names[kind]));
        run_free(&r);
    }
}

static void test_rms_norm(void) {
    enum { NE0 = 300, NE1 = 3, N = NE0 * NE1 };
    static float x[N], w[NE0], out[N];
    static double ref[N];
    fill(x, N, 2.0);
    fill(w, NE0, 1.0);
    for (int with_w = 0; with_w < 2; with_w++) {
        run r;
        run_init(&r, vk);
        lai_tensor *tx = run_input(&r, LAI_TYPE_F32, NE0, NE1, 1, x);
        lai_tensor *tw = with_w ? run_input(&r, LAI_TYPE_F32, NE0, 1, 1, w) : NULL;
        lai_tensor *y = lai_op_rms_norm(&r.g, tx, tw, 1e-5f);
        lai_graph_mark_output(&r.g, y);
        CHECK_STATUS(run_go(&r), LOCALAI_STATUS_OK);
        run_read(&r, y, out, sizeof out);
        for (int i = 0; i < NE1; i++) {
            double s = 0;
            for (int j = 0; j < NE0; j++) s += (double)x[i * NE0 + j] * x[i * NE0 + j];
            const double scale = 1.0 / sqrt(s / NE0 + (double)1e-5f);
            for (int j = 0; j < NE0; j++) ref[i * NE0 + j] = x[i * NE0 + j] * scale * (with_w ? w[j] : 1.0);
        }
        CHECK(close_enough(out, ref, N, 1e-5, 1e-6, with_w ? "rms_norm (weight)" : "rms_norm"));
        run_free(&r);
    }
}

/* ---- rope, kv_store and attention against the CPU backend's scalar kernels ------------ */

/* Runs the graph that build() records on the CPU and on Vulkan and compares output 0 (f32). */
typedef lai_tensor *(*build_fn)(run *r);

static void compare_with_cpu(build_fn build, size_t n_out, double rtol, double atol, const char *what) {
    float *a = malloc(n_out * sizeof(float)), *b = malloc(n_out * sizeof(float));
    double *ref = malloc(n_out * sizeof(double));
    run rc, rv;
    run_init(&rc, cpu);
    run_init(&rv, vk);
    lai_tensor *yc = build(&rc), *yv = build(&rv);
    CHECK(yc != NULL && yv != NULL);
    CHECK_STATUS(run_go(&rc), LOCALAI_STATUS_OK);
    CHECK_STATUS(run_go(&rv), LOCALAI_STATUS_OK);
    run_read(&rc, yc, a, n_out * sizeof(float));
    run_read(&rv, yv, b, n_out * sizeof(float));
    for (size_t i = 0; i < n_out; i++) ref[i] = a[i];
    CHECK(close_enough(b, ref, n_out, rtol, atol, what));
    run_free(&rc);
    run_free(&rv);
    free(a);
    free(b);
    free(ref);
}

enum { HD = 40, NH = 6, NT = 5 };
static float rope_x[HD * NH * NT], rope_ff[HD / 2];
static int32_t rope_pos[NT] = {0, 1, 17, 300, 1023};
static lai_rope_params rope_p;

static lai_tensor *build_rope(run *r) {
    lai_tensor *x = run_input(r, LAI_TYPE_F32, HD, NH, NT, rope_x);
    lai_tensor *pos = run_input(r, LAI_TYPE_I32, NT, 1, 1, rope_pos);
    lai_tensor *ff = rope_p.n_ctx_orig == 4096 ? run_input(r, LAI_TYPE_F32, HD / 2, 1, 1, rope_ff) : NULL;
    lai_tensor *y = lai_op_rope(&r->g, x, pos, ff, &rope_p);
    lai_graph_mark_output(&r->g, y);
    return y;
}

static void test_rope(void) {
    fill(rope_x, HD * NH * NT, 1.0);
    for (int i = 0; i < HD / 2; i++) rope_ff[i] = 1.0f + (float)i * 0.5f;
    for (int v = 0; v < 4; v++) {
        /* normal pairs; NeoX; frequency factors with n_rot < head_dim; YaRN */
        rope_p = (lai_rope_params){.n_rot = v == 2 ? 32 : HD, .neox = v == 1, .n_ctx_orig = v == 2 ? 4096 : 2048,
                                   .freq_base = 10000.0f, .freq_scale = v == 3 ? 0.25f : 1.0f,
                                   .ext_factor = v == 3 ? 1.0f : 0.0f, .attn_factor = 1.0f,
                                   .beta_fast = 32.0f, .beta_slow = 1.0f};
        static const char *const names[] = {"rope", "rope neox", "rope factors", "rope yarn"};
        /* the angle p * f reaches 1023 rad: a few ulp of it in both engines */
        compare_with_cpu(build_rope, HD * NH * NT, 0.0, 1e-3, names[v]);
    }
}

enum { KV_ROW = 2 * 24, CELLS = 70, KV_T = 4 };
static float kv_rows[KV_ROW * KV_T];
static int32_t kv_slots[KV_T] = {3, 69, -5, 0};
static uint16_t kv_init[KV_ROW * CELLS];

static void test_kv_store(void) {
    fill(kv_rows, KV_ROW * KV_T, 100.0);
    kv_rows[5] = 1e-6f; /* an f16 subnormal */
    kv_rows[7] = 70000.0f; /* beyond f16: inf */
    for (int i = 0; i < KV_ROW * CELLS; i++) kv_init[i] = (uint16_t)(i * 2654435761u >> 16);
    uint16_t got[2][KV_ROW * CELLS];
    for (int b = 0; b < 2; b++) {
        run r;
        run_init(&r, b ? vk : cpu);
        /* the cache lives outside the graph, as a context's does, at an offset in its buffer */
        lai_buffer *kvbuf = NULL;
        CHECK_STATUS(r.be->vt->buffer_alloc(r.be, 256 + sizeof kv_init, &kvbuf), LOCALAI_STATUS_OK);
        lai_tensor *cache = lai_graph_new_tensor(&r.g, LAI_TENSOR_EXTERNAL, LAI_TYPE_F16, KV_ROW, CELLS, 1, "cache");
        cache->buffer = kvbuf;
        cache->offset = 256;
        CHECK_STATUS(r.be->vt->tensor_write(r.be, cache, kv_init, 0, sizeof kv_init), LOCALAI_STATUS_OK);
        lai_tensor *rows = run_input(&r, LAI_TYPE_F32, KV_ROW, KV_T, 1, kv_rows);
        lai_tensor *slots = run_input(&r, LAI_TYPE_I32, KV_T, 1, 1, kv_slots);
        CHECK(lai_op_kv_store(&r.g, cache, rows, slots) != NULL);
        CHECK_STATUS(run_go(&r), LOCALAI_STATUS_OK);
        run_read(&r, cache, got[b], sizeof got[b]);
        r.be->vt->buffer_free(r.be, kvbuf);
        run_free(&r);
    }
    /* the same bytes: rounding to nearest even, untouched cells kept */
    CHECK(memcmp(got[0], got[1], sizeof got[0]) == 0);
}

enum { A_HD = 32, A_NH = 8, A_NKV = 2, A_NT = 6, A_CELLS = 150, A_WORDS = 2 };
static float att_q[A_HD * A_NH * A_NT];
static uint16_t att_k[A_HD * A_NKV * A_CELLS], att_v[A_HD * A_NKV * A_CELLS];
static int32_t att_info[2 + 2 * A_NT];
static int32_t att_cells[(1 + A_WORDS) * A_CELLS];
static int att_swa;
static float att_softcap;

static lai_tensor *build_attention(run *r) {
    lai_tensor *q = run_input(r, LAI_TYPE_F32, A_HD, A_NH, A_NT, att_q);
    lai_tensor *k = run_input(r, LAI_TYPE_F16, A_HD * A_NKV, A_CELLS, 1, att_k);
    lai_tensor *v = run_input(r, LAI_TYPE_F16, A_HD * A_NKV, A_CELLS, 1, att_v);
    lai_tensor *info = run_input(r, LAI_TYPE_I32, 2 + 2 * A_NT, 1, 1, att_info);
    lai_tensor *cells = run_input(r, LAI_TYPE_I32, 1 + A_WORDS, A_CELLS, 1, att_cells);
    lai_tensor *y = lai_op_attention(&r->g, q, k, v, info, cells, 0, att_swa, A_NKV, 0.17f, att_softcap);
    lai_graph_mark_output(&r->g, y);
    return y;
}

static void test_attention(void) {
    float tmp[A_HD * A_NKV * A_CELLS];
    fill(att_q, A_HD * A_NH * A_NT, 2.0);
    fill(tmp, A_HD * A_NKV * A_CELLS, 2.0);
    for (int i = 0; i < A_HD * A_NKV * A_CELLS; i++) att_k[i] = lai_f32_to_f16(tmp[i]);
    fill(tmp, A_HD * A_NKV * A_CELLS, 2.0);
    for (int i = 0; i < A_HD * A_NKV * A_CELLS; i++) att_v[i] = lai_f32_to_f16(tmp[i]);
    /* cells: positions 0..139 of sequence 0 (some also in 33), ten empty ones at the end
     * except one NaN-filled cell of sequence 1 that sequence-0 tokens must never see */
    for (int c = 0; c < A_CELLS; c++) {
        int32_t *row = att_cells + c * (1 + A_WORDS);
        row[0] = c < 140 ? c : -1;
        row[1] = c < 140 ? 1 : 0;
        row[2] = c < 140 && c % 3 == 0 ? 2 : 0; /* sequence 33 = word 2, bit 1 */
    }
    att_cells[145 * (1 + A_WORDS)] = 5;
    att_cells[145 * (1 + A_WORDS) + 1] = 2; /* sequence 1 */
    for (int i = 0; i < A_HD; i++) att_v[145 * A_HD * A_NKV + i] = 0x7e00; /* NaN */
    att_info[0] = 146; /* active cells */
    att_info[1] = 146;
    const int32_t pos[A_NT] = {139, 0, 64, 100, 5, 139}, seq[A_NT] = {0, 0, 33, 0, 1, -1};
    for (int t = 0; t < A_NT; t++) {
        att_info[2 + t] = pos[t];
        att_info[2 + A_NT + t] = seq[t];
    }
    for (int v = 0; v < 3; v++) {
        att_swa = v == 1 ? 20 : 0;
        att_softcap = v == 2 ? 3.0f : 0.0f;
        static const char *const names[] = {"attention", "attention window", "attention softcap"};
        compare_with_cpu(build_attention, (size_t)A_HD * A_NH * A_NT, 1e-4, 1e-5, names[v]);
    }
}

int main(void) {
    lai_vk_backend_params p = {-1, NULL, NULL};
    localai_status st = lai_vk_backend_new(&p, &vk);
    if (st != LOCALAI_STATUS_OK) {
        printf("SKIP: no Vulkan device: %s\n", localai_errmsg());
        return 77;
    }
    printf("device: %s\n", lai_vk_backend_device(vk)->name);
    CHECK_STATUS(lai_threadpool_new(0, &pool), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_cpu_backend_new(pool, lai_cpu_kernels_scalar(), NULL, &cpu), LOCALAI_STATUS_OK);

    static const uint32_t types[] = {LAI_TYPE_F32,  LAI_TYPE_F16,  LAI_TYPE_BF16, LAI_TYPE_Q4_0,  LAI_TYPE_Q4_1,
                                     LAI_TYPE_Q5_0, LAI_TYPE_Q5_1, LAI_TYPE_Q8_0, LAI_TYPE_IQ4_NL, LAI_TYPE_Q2_K,
                                     LAI_TYPE_Q3_K, LAI_TYPE_Q4_K, LAI_TYPE_Q5_K, LAI_TYPE_Q6_K, LAI_TYPE_IQ4_XS};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const lai_type_traits *tt = lai_type_get(types[i]);
        /* K not a multiple of the 64 invocations of a workgroup where the block allows */
        test_weights(types[i], tt->block_size == 256 ? 512 : 96, 37, 3);
        /* the prompt's tiled kernel: 37 columns, tiles of 8 cut at both edges */
        test_weights(types[i], tt->block_size == 256 ? 256 : 160, 37, 37);
    }
    test_elementwise();
    test_rms_norm();
    test_rope();
    test_kv_store();
    test_attention();

    cpu->vt->destroy(cpu);
    lai_threadpool_free(pool);
    vk->vt->destroy(vk);
    return test_finish("test_vk_ops");
}
