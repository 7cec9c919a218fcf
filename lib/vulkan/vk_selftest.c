/* vk_selftest.c - each kernel family run on the device with small inputs and compared with the CPU's scalar reference before a model uses it. */
#include "vk_selftest.h"

#include <math.h>
#include <stdio.h>

#include "../cpu/cpu_backend.h"
#include "../cpu/threadpool.h"
#include "../quant/quant.h"
#include "vk_backend.h"
#include "vk_ops.h"

/* One small graph, recorded alike on the device and on the CPU. */
#define MAX_IN 6

typedef struct st_run {
    lai_backend *be;
    lai_exec *ex;
    lai_graph g;
    lai_buffer *buf, *kv;
    lai_tensor *in[MAX_IN];
    const void *data[MAX_IN];
    int n_in;
} st_run;

typedef struct st_inputs {
    uint64_t seed;
    float x[9 * 512], y[3 * 256], row[256], q[32 * 8 * 3];
    uint8_t w[37 * 512 * 4]; /* 37 rows of up to 512 f32 or blocks */
    uint16_t kv[2][64 * 40];
    int32_t ids[4], pos[3], slots[3], info[2 + 2 * 3], cells[3 * 40];
} st_inputs;

static float st_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static lai_tensor *st_input(st_run *r, uint32_t type, int64_t ne0, int64_t ne1, int64_t ne2, const void *data) {
    lai_tensor *t = lai_graph_new_tensor(&r->g, LAI_TENSOR_INPUT, type, ne0, ne1, ne2, "self-test input");
    if (t != NULL && r->n_in < MAX_IN) {
        r->in[r->n_in] = t;
        r->data[r->n_in++] = data;
    }
    return t;
}

/* The families: what each records, reading the shared inputs. */
enum { F_ELEMENTWISE, F_RMS_NORM, F_ROPE, F_ATTENTION, F_WEIGHTS, F_ROWS, F_GEMM, N_PER_TYPE = 3 };

static lai_tensor *record(st_run *r, int family, uint32_t type, const st_inputs *in) {
    lai_graph *g = &r->g;
    switch (family) {
    case F_ELEMENTWISE: {
        lai_tensor *a = st_input(r, LAI_TYPE_F32, 67, 3, 1, in->x), *b = st_input(r, LAI_TYPE_F32, 67, 3, 1, in->y);
        lai_tensor *row = st_input(r, LAI_TYPE_F32, 67, 1, 1, in->row);
        lai_tensor *t = lai_op_add(g, a, b);
        t = lai_op_mul(g, t, row);
        t = lai_op_softcap(g, lai_op_scale(g, t, 0.7f), 2.5f);
        t = lai_op_swiglu(g, t, a);
        return lai_op_geglu(g, t, b);
    }
    case F_RMS_NORM:
        return lai_op_rms_norm(g, st_input(r, LAI_TYPE_F32, 256, 3, 1, in->x), st_input(r, LAI_TYPE_F32, 256, 1, 1, in->row),
                               1e-5f);
    case F_ROPE: {
        const lai_rope_params rp = {32, 1, 4096, 10000.0f, 1.0f, 0.0f, 1.0f, 32.0f, 1.0f};
        lai_tensor *x = st_input(r, LAI_TYPE_F32, 40, 4, 3, in->q);
        lai_tensor *ff = st_input(r, LAI_TYPE_F32, 16, 1, 1, in->row);
        return lai_op_rope(g, x, st_input(r, LAI_TYPE_I32, 3, 1, 1, in->pos), ff, &rp);
    }
    case F_ATTENTION: {
        /* the cache outside the graph, written by kv_store, read by attention */
        lai_tensor *k = lai_graph_new_tensor(g, LAI_TENSOR_EXTERNAL, LAI_TYPE_F16, 64, 40, 1, "self-test K");
        lai_tensor *v = lai_graph_new_tensor(g, LAI_TENSOR_EXTERNAL, LAI_TYPE_F16, 64, 40, 1, "self-test V");
        if (k == NULL || v == NULL || r->kv == NULL) return NULL;
        k->buffer = v->buffer = r->kv;
        v->offset = sizeof in->kv[0];
        lai_tensor *rows = st_input(r, LAI_TYPE_F32, 64, 3, 1, in->x);
        lai_tensor *slots = st_input(r, LAI_TYPE_I32, 3, 1, 1, in->slots);
        if (lai_op_kv_store(g, k, rows, slots) == NULL || lai_op_kv_store(g, v, rows, slots) == NULL) return NULL;
        lai_tensor *q = st_input(r, LAI_TYPE_F32, 32, 8, 3, in->q);
        lai_tensor *info = st_input(r, LAI_TYPE_I32, 8, 1, 1, in->info);
        lai_tensor *cells = st_input(r, LAI_TYPE_I32, 3, 40, 1, in->cells);
        return lai_op_attention(g, q, k, v, info, cells, 0, 0, 2, 0.18f, 0.0f);
    }
    default: {
        const lai_type_traits *tt = lai_type_get(type);
        const int64_t K = tt->block_size == 256 ? 512 : 96;
        lai_tensor *w = st_input(r, type, K, 37, 1, in->w);
        /* 3 columns: the generation kernels; 9: the prompt's tiles (one full, one partial) */
        lai_tensor *x = st_input(r, LAI_TYPE_F32, K, family == F_GEMM ? 9 : 3, 1, in->x);
        if (family == F_WEIGHTS || family == F_GEMM) return lai_op_matmul(g, w, x);
        return lai_op_get_rows(g, w, st_input(r, LAI_TYPE_I32, 4, 1, 1, in->ids));
    }
    }
}

/* Runs family on backend be; *out gets the n output floats (malloc'd). */
static localai_status run_on(lai_backend *be, int family, uint32_t type, const st_inputs *in, float **out, size_t *n) {
    st_run r;
    memset(&r, 0, sizeof r);
    r.be = be;
    lai_graph_init(&r.g);
    const lai_exec_params ep = {1};
    localai_status st = be->vt->exec_new(be, &ep, &r.ex);
    if (st == LOCALAI_STATUS_OK && family == F_ATTENTION) {
        st = be->vt->buffer_alloc(be, sizeof in->kv, &r.kv);
        lai_tensor whole;
        memset(&whole, 0, sizeof whole);
        whole.buffer = r.kv;
        if (st == LOCALAI_STATUS_OK) st = be->vt->tensor_write(be, &whole, in->kv, 0, sizeof in->kv);
    }
    lai_tensor *y = st == LOCALAI_STATUS_OK ? record(&r, family, type, in) : NULL;
    if (st == LOCALAI_STATUS_OK && y == NULL)
        st = r.g.status != LOCALAI_STATUS_OK ? r.g.status : lai_fail(LOCALAI_STATUS_INTERNAL, "self-test: recording failed");
    if (st == LOCALAI_STATUS_OK) {
        lai_graph_mark_output(&r.g, y);
        st = lai_graph_plan(&r.g);
    }
    if (st == LOCALAI_STATUS_OK) st = be->vt->buffer_alloc(be, r.g.planned_size, &r.buf);
    if (st == LOCALAI_STATUS_OK) {
        lai_graph_bind(&r.g, r.buf);
        for (int i = 0; i < r.n_in && st == LOCALAI_STATUS_OK; i++)
            st = be->vt->tensor_write(be, r.in[i], r.data[i], 0, r.in[i]->nb[3] * (size_t)r.in[i]->ne[3]);
    }
    if (st == LOCALAI_STATUS_OK) st = be->vt->compute(r.ex, &r.g, NULL);
    if (st == LOCALAI_STATUS_OK) {
        *n = (size_t)lai_tensor_nelements(y);
        *out = lai_malloc(*n * sizeof(float));
        if (*out == NULL) st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "self-test: no memory");
        else st = be->vt->tensor_read(be, y, *out, 0, *n * sizeof(float));
    }
    if (r.buf != NULL) be->vt->buffer_free(be, r.buf);
    if (r.kv != NULL) be->vt->buffer_free(be, r.kv);
    if (r.ex != NULL) be->vt->exec_free(r.ex);
    lai_graph_free(&r.g);
    return st;
}

static void fill_inputs(st_inputs *in, uint32_t type) {
    uint64_t s = 0x51F7E57ull + type;
    for (size_t i = 0; i < sizeof in->x / sizeof in->x[0]; i++) in->x[i] = 2.0f * st_rand(&s);
    for (size_t i = 0; i < sizeof in->y / sizeof in->y[0]; i++) in->y[i] = 2.0f * st_rand(&s);
    for (size_t i = 0; i < sizeof in->row / sizeof in->row[0]; i++) in->row[i] = 1.0f + 0.5f * st_rand(&s);
    for (size_t i = 0; i < sizeof in->q / sizeof in->q[0]; i++) in->q[i] = st_rand(&s);
    for (int c = 0; c < 2; c++)
        for (size_t i = 0; i < sizeof in->kv[0] / sizeof in->kv[0][0]; i++) in->kv[c][i] = lai_f32_to_f16(st_rand(&s));
    const int32_t ids[4] = {5, 0, 36, -1}, pos[3] = {3, 700, 31}, slots[3] = {30, 31, 32};
    memcpy(in->ids, ids, sizeof ids);
    memcpy(in->pos, pos, sizeof pos);
    memcpy(in->slots, slots, sizeof slots);
    /* 33 cells of sequence 0 at positions 0..32; tokens at 30, 31, 32 */
    in->info[0] = in->info[1] = 33;
    for (int t = 0; t < 3; t++) {
        in->info[2 + t] = 30 + t;
        in->info[5 + t] = 0;
    }
    for (int c = 0; c < 40; c++) {
        in->cells[3 * c] = c < 33 ? c : -1;
        in->cells[3 * c + 1] = c < 33 ? 1 : 0;
        in->cells[3 * c + 2] = 0;
    }
    const lai_type_traits *tt = lai_type_get(type);
    if (tt == NULL) return;
    const int64_t K = tt->block_size == 256 ? 512 : 96;
    const size_t row = lai_tensor_row_size(type, K);
    float f[512];
    for (int n = 0; n < 37; n++) {
        uint8_t *dst = in->w + (size_t)n * row;
        for (int64_t k = 0; k < K; k++) f[k] = st_rand(&s);
        if (type == LAI_TYPE_F32) memcpy(dst, f, row);
        else if (tt->from_float != NULL) tt->from_float(f, dst, K);
        else { /* no reference quantizer: random bytes, a small f16 scale first in each block */
            for (size_t i = 0; i < row; i++) dst[i] = (uint8_t)(st_rand(&s) * 127.0f + 128.0f);
            for (size_t b = 0; b < row; b += tt->type_size) {
                const uint16_t d = lai_f32_to_f16(0.01f);
                memcpy(dst + b, &d, 2);
            }
        }
    }
}

static const char *family_name(int family, uint32_t type, char *buf, size_t size) {
    static const char *const names[] = {"elementwise", "rms_norm", "rope", "kv_store + attention"};
    if (family < F_WEIGHTS) return names[family];
    snprintf(buf, size, "%s %s", family == F_WEIGHTS ? "matmul" : family == F_ROWS ? "get_rows" : "gemm",
             lai_type_get(type)->name);
    return buf;
}

static void appendf(char *report, size_t size, const char *fmt, const char *a, double e, double tol) {
    const size_t n = report != NULL ? strlen(report) : 0;
    if (report != NULL && n + 1 < size) snprintf(report + n, size - n, fmt, a, e, tol);
}

static localai_status test_tier(lai_backend *vk, const uint32_t *types, int n_types, char *report, size_t size,
                                int *passed);

localai_status lai_vk_self_test(lai_backend *vk, const uint32_t *types, int n_types, char *report, size_t size,
                                int *passed) {
    *passed = 0;
    if (report != NULL && size > 0) report[0] = '\0';
    /* from the backend's tier down, until one agrees with the CPU */
    for (int tier = lai_vk_backend_tier(vk); tier >= 0; tier--) {
        lai_vk_backend_set_tier(vk, tier);
        const size_t n = report != NULL ? strlen(report) : 0;
        if (report != NULL && n + 1 < size) snprintf(report + n, size - n, "tier %s:\n", lai_vk_tier_name(tier));
        const size_t at = report != NULL ? strlen(report) : 0;
        localai_status st = test_tier(vk, types, n_types, report != NULL ? report + at : NULL, size > at ? size - at : 0,
                                      passed);
        if (st != LOCALAI_STATUS_OK || *passed) return st;
    }
    return LOCALAI_STATUS_OK;
}

/* One pass over the families at the backend's current tier, its lines into report. */
static localai_status test_tier(lai_backend *vk, const uint32_t *types, int n_types, char *report, size_t size,
                                int *passed) {
    *passed = 0;
    if (report != NULL && size > 0) report[0] = '\0';
    lai_threadpool *pool = NULL;
    lai_backend *cpu = NULL;
    localai_status st = lai_threadpool_new(0, &pool);
    if (st == LOCALAI_STATUS_OK) st = lai_cpu_backend_new(pool, lai_cpu_kernels_scalar(), NULL, &cpu);
    st_inputs *in = st == LOCALAI_STATUS_OK ? lai_calloc(1, sizeof *in) : NULL;
    if (st == LOCALAI_STATUS_OK && in == NULL) st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "self-test: no memory");
    int failures = 0;
    for (int f = 0; st == LOCALAI_STATUS_OK && f < F_WEIGHTS + N_PER_TYPE * n_types; f++) {
        /* the four type-independent families, then matmul, get_rows and gemm of each type */
        const int family = f < F_WEIGHTS ? f : F_WEIGHTS + (f - F_WEIGHTS) % N_PER_TYPE;
        const uint32_t type = f < F_WEIGHTS ? LAI_TYPE_F32 : types[(f - F_WEIGHTS) / N_PER_TYPE];
        fill_inputs(in, type);
        float *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        char buf[64];
        const char *name = family_name(family, type, buf, sizeof buf);
        st = run_on(cpu, family, type, in, &a, &na);
        if (st == LOCALAI_STATUS_OK) {
            st = run_on(vk, family, type, in, &b, &nb);
            if (st != LOCALAI_STATUS_OK) { /* the device failed to run it: a failed check, not an error */
                const size_t n = report != NULL ? strlen(report) : 0;
                if (report != NULL && n + 1 < size)
                    snprintf(report + n, size - n, "%s: FAILED to run (%s)\n", name, localai_errmsg());
                failures++;
                st = LOCALAI_STATUS_OK;
                lai_clear_error();
                lai_free(a);
                continue;
            }
        }
        if (st == LOCALAI_STATUS_OK && na == nb) {
            /* root-mean-square error relative to the reference's: matmul's activations are
             * rounded to 8 bits on the CPU and not on the device, the rest is float
             * rounding and the order of sums */
            double se = 0, sr = 0;
            for (size_t i = 0; i < na; i++) {
                const double d = (double)b[i] - a[i];
                se += d * d;
                sr += (double)a[i] * a[i];
            }
            const double e = sr > 0 ? sqrt(se / sr) : sqrt(se);
            const double tol = family == F_WEIGHTS || family == F_GEMM ? 2e-2 : 1e-3;
            const int ok = e <= tol; /* NaN fails */
            failures += !ok;
            appendf(report, size, ok ? "%s: ok (relative error %.2e, tolerance %.0e)\n"
                                     : "%s: FAILED (relative error %.2e, tolerance %.0e)\n",
                    name, e, tol);
        }
        lai_free(a);
        lai_free(b);
    }
    lai_free(in);
    if (cpu != NULL) cpu->vt->destroy(cpu);
    lai_threadpool_free(pool);
    if (st == LOCALAI_STATUS_OK) *passed = failures == 0;
    return st;
}
