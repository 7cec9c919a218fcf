/* cpu_backend.c - the CPU backend: buffers in host memory, graphs run op by op on the thread pool. */
#include "cpu_backend.h"

#include <stdatomic.h>

#include "../base/platform.h"
#include "cpu_ops.h"
#include "threadpool.h"

#define CPU_ALIGN 64

typedef struct cpu_backend {
    lai_backend base;
    lai_threadpool *pool;     /* the model's workers, shared by its contexts */
    localai_allocator host;
    int has_host;
    const lai_cpu_kernels *k; /* the kernel level of the model */
} cpu_backend;

/* One context's execution state. */
typedef struct cpu_exec {
    cpu_backend *be;
    int n_threads;     /* the most this context's runs ask the pool for */
    uint8_t *work;     /* scratch: shared areas, then n_threads slices */
    size_t work_size;  /* bytes allocated at `work` */
    uint8_t *quantize; /* per op of the current graph: the matmul rounds its input */
    _Atomic int32_t *chunks; /* per op: the next work chunk its threads claim */
    int32_t quantize_cap;
} cpu_exec;

static const localai_allocator *host_of(const cpu_backend *be) {
    return be->has_host ? &be->host : NULL;
}

static localai_status cpu_buffer_alloc(lai_backend *b, size_t size, lai_buffer **out) {
    cpu_backend *be = (cpu_backend *)b;
    lai_buffer *buf = lai_calloc(1, sizeof *buf);
    if (buf == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cpu: no memory for a buffer");
    size_t n = size ? size : 1;
    buf->host = lai_alloc_aligned(host_of(be), n, CPU_ALIGN);
    if (buf->host == NULL) {
        lai_free(buf);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cpu: cannot allocate %zu bytes", size);
    }
    buf->backend = b;
    buf->size = size;
    buf->owned = 1;
    *out = buf;
    return LOCALAI_STATUS_OK;
}

static localai_status cpu_buffer_from_host(lai_backend *b, const void *data, size_t size,
                                           lai_buffer **out) {
    lai_buffer *buf = lai_calloc(1, sizeof *buf);
    if (buf == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cpu: no memory for a buffer");
    /* The weights are read in place: kernels never write through a weight tensor. */
    buf->host = (uint8_t *)(uintptr_t)data;
    buf->backend = b;
    buf->size = size;
    buf->owned = 0;
    *out = buf;
    return LOCALAI_STATUS_OK;
}

static void cpu_buffer_free(lai_backend *b, lai_buffer *buf) {
    cpu_backend *be = (cpu_backend *)b;
    if (buf == NULL) return;
    if (buf->owned) lai_free_aligned(host_of(be), buf->host, buf->size ? buf->size : 1, CPU_ALIGN);
    lai_free(buf);
}

static localai_status check_range(const lai_tensor *t, size_t offset, size_t size) {
    size_t end;
    if (t->buffer == NULL || lai_add_overflow_size(t->offset, offset, &end) ||
        lai_add_overflow_size(end, size, &end) || end > t->buffer->size)
        return lai_fail(LOCALAI_STATUS_INTERNAL, "cpu: transfer outside tensor '%s'",
                        t->name ? t->name : "?");
    return LOCALAI_STATUS_OK;
}

static localai_status cpu_tensor_write(lai_backend *b, const lai_tensor *t, const void *src,
                                       size_t offset, size_t size) {
    (void)b;
    localai_status st = check_range(t, offset, size);
    if (st == LOCALAI_STATUS_OK && size) memcpy(t->buffer->host + t->offset + offset, src, size);
    return st;
}

static localai_status cpu_tensor_read(lai_backend *b, const lai_tensor *t, void *dst,
                                      size_t offset, size_t size) {
    (void)b;
    localai_status st = check_range(t, offset, size);
    if (st == LOCALAI_STATUS_OK && size) memcpy(dst, t->buffer->host + t->offset + offset, size);
    return st;
}

size_t lai_cpu_op_work_size(const lai_op *op, const lai_cpu_kernels *k) {
    switch (op->kind) {
    case LAI_OP_MATMUL: return lai_cpu_matmul_work_size(op, k);
    case LAI_OP_ROPE: return lai_cpu_rope_work_size(op);
    case LAI_OP_ATTENTION: return lai_cpu_attention_work_size(op);
    default: return 0;
    }
}

void lai_cpu_op_run(const lai_op *op, const lai_cpu_thread *th, int quantize) {
    switch (op->kind) {
    case LAI_OP_GET_ROWS: lai_cpu_get_rows(op, th); break;
    case LAI_OP_RMS_NORM: lai_cpu_rms_norm(op, th); break;
    case LAI_OP_ADD:
    case LAI_OP_MUL: lai_cpu_binary(op, th); break;
    case LAI_OP_SCALE:
    case LAI_OP_SOFTCAP: lai_cpu_unary(op, th); break;
    case LAI_OP_MATMUL: lai_cpu_matmul(op, th, quantize); break;
    case LAI_OP_ROPE: lai_cpu_rope(op, th); break;
    case LAI_OP_KV_STORE: lai_cpu_kv_store(op, th); break;
    case LAI_OP_ATTENTION: lai_cpu_attention(op, th); break;
    case LAI_OP_SWIGLU:
    case LAI_OP_GEGLU: lai_cpu_glu(op, th); break;
    default: break;
    }
}

typedef struct run_state {
    cpu_exec *ex;
    const lai_graph *g;
    const lai_compute_opts *opts;
    size_t slice;
    uint8_t *shared_act, *shared_tiles, *slices;
    atomic_int stop_before; /* index of the first op not to run (n_ops + 1: none) */
} run_state;

/* Every thread walks the whole op list, does its share of each op, and meets the others
 * at one barrier per op. Thread 0 polls the abort callback after op i and records "stop
 * before op i + 1": a thread that reads it early, still at op i, must not stop there, or
 * it would skip the barrier the others wait at. */
static void run_task(void *arg, lai_team *team, int ith, int nth) {
    run_state *rs = arg;
    lai_cpu_thread th;
    th.ith = ith;
    th.nth = nth;
    th.k = rs->ex->be->k;
    th.team = team;
    th.wdata = rs->slices + (size_t)ith * rs->slice;
    th.wsize = rs->slice;
    th.shared_act = rs->shared_act;
    th.shared_tiles = rs->shared_tiles;
    for (int32_t i = 0; i < rs->g->n_ops; i++) {
        if (atomic_load_explicit(&rs->stop_before, memory_order_relaxed) <= i) break;
        th.chunk = &rs->ex->chunks[i];
        lai_cpu_op_run(&rs->g->ops[i], &th, rs->ex->quantize[i]);
        if (ith == 0 && rs->opts != NULL && rs->opts->abort_callback != NULL &&
            rs->opts->abort_callback(rs->opts->abort_user) != 0)
            atomic_store_explicit(&rs->stop_before, i + 1, memory_order_relaxed);
        lai_team_barrier(team);
    }
}

static size_t align_up(size_t n) { return (n + CPU_ALIGN - 1) & ~(size_t)(CPU_ALIGN - 1); }

/* Which matmuls round their input: the first of consecutive matmuls that read the same
 * tensor in the same activation format (Q, K and V; gate and up) rounds it, the others
 * reuse it from the shared area, which nothing else writes in between. Decided before the
 * run, so every thread of the team agrees without talking. */
static localai_status plan_quantize(cpu_exec *ex, const lai_graph *g) {
    if (g->n_ops > ex->quantize_cap) {
        uint8_t *grown = lai_realloc(ex->quantize, (size_t)g->n_ops);
        if (grown != NULL) ex->quantize = grown;
        _Atomic int32_t *chunks = grown != NULL ? lai_realloc(ex->chunks, (size_t)g->n_ops * sizeof *chunks) : NULL;
        if (grown == NULL || chunks == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cpu: no memory for the run plan");
        ex->chunks = chunks;
        ex->quantize_cap = g->n_ops;
    }
    for (int32_t i = 0; i < g->n_ops; i++) atomic_init(&ex->chunks[i], 0);
    const lai_tensor *last = NULL;
    int last_fmt = LAI_ACT_NONE;
    for (int32_t i = 0; i < g->n_ops; i++) {
        const lai_op *op = &g->ops[i];
        ex->quantize[i] = 0;
        if (op->kind != LAI_OP_MATMUL) continue;
        const int fmt = lai_cpu_matmul_act_format(op);
        if (fmt == LAI_ACT_NONE) continue;
        ex->quantize[i] = !(op->src[1] == last && fmt == last_fmt);
        last = op->src[1];
        last_fmt = fmt;
    }
    return LOCALAI_STATUS_OK;
}

static localai_status cpu_compute(lai_exec *e, const lai_graph *g, const lai_compute_opts *opts) {
    cpu_exec *ex = (cpu_exec *)e;
    cpu_backend *be = ex->be;
    if (g->status != LOCALAI_STATUS_OK) return g->status;
    for (int32_t i = 0; i < g->n_ops; i++) {
        const lai_op *op = &g->ops[i];
        if (op->dst->buffer == NULL || op->dst->buffer->host == NULL)
            return lai_fail(LOCALAI_STATUS_INTERNAL, "cpu: op %d (%s) has no memory", i,
                            lai_op_name(op->kind));
        for (int s = 0; s < LAI_OP_MAX_SRC; s++)
            if (op->src[s] != NULL && (op->src[s]->buffer == NULL || op->src[s]->buffer->host == NULL))
                return lai_fail(LOCALAI_STATUS_INTERNAL, "cpu: op %d (%s) reads unbound memory",
                                i, lai_op_name(op->kind));
    }
    localai_status st = plan_quantize(ex, g);
    if (st != LOCALAI_STATUS_OK) return st;
    /* scratch: [rounded activations][GEMM tiles][one slice per thread] */
    size_t slice = 0, act = 0, tiles = 0;
    for (int32_t i = 0; i < g->n_ops; i++) {
        const lai_op *op = &g->ops[i];
        slice = LAI_MAX(slice, lai_cpu_op_work_size(op, be->k));
        if (op->kind == LAI_OP_MATMUL) {
            size_t a, t;
            lai_cpu_matmul_shared_size(op, be->k, &a, &t);
            act = LAI_MAX(act, a);
            tiles = LAI_MAX(tiles, t);
        }
    }
    slice = align_up(slice);
    act = align_up(act);
    tiles = align_up(tiles);
    const int nth = ex->n_threads;
    size_t need;
    if (lai_mul_overflow_size(slice, (size_t)nth, &need) || lai_add_overflow_size(need, act, &need) ||
        lai_add_overflow_size(need, tiles, &need))
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cpu: scratch size overflow");
    if (need > ex->work_size) {
        /* half again at least: attention's scratch follows the KV length token by token */
        if (ex->work_size + ex->work_size / 2 > need) need = ex->work_size + ex->work_size / 2;
        lai_free_aligned(host_of(be), ex->work, ex->work_size, CPU_ALIGN);
        ex->work = NULL;
        ex->work_size = 0;
        ex->work = lai_alloc_aligned(host_of(be), need, CPU_ALIGN);
        if (ex->work == NULL)
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cpu: cannot allocate %zu bytes of scratch", need);
        ex->work_size = need;
    }
    run_state rs;
    rs.ex = ex;
    rs.g = g;
    rs.opts = opts;
    rs.slice = slice;
    rs.shared_act = ex->work;
    rs.shared_tiles = rs.shared_act + act;
    rs.slices = rs.shared_tiles + tiles;
    atomic_init(&rs.stop_before, g->n_ops + 1);
    lai_threadpool_run(be->pool, ex->n_threads, run_task, &rs);
    if (atomic_load(&rs.stop_before) <= g->n_ops)
        return lai_fail(LOCALAI_STATUS_CANCELLED, "decode cancelled by the abort callback");
    return LOCALAI_STATUS_OK;
}

static localai_status cpu_exec_new(lai_backend *b, const lai_exec_params *p, lai_exec **out) {
    cpu_exec *ex = lai_calloc(1, sizeof *ex);
    if (ex == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cpu: no memory");
    ex->be = (cpu_backend *)b;
    int32_t n = p != NULL ? p->n_threads : 0;
    if (n <= 0) n = lai_cpu_count();
    ex->n_threads = n > LAI_THREADPOOL_MAX ? LAI_THREADPOOL_MAX : n;
    /* a context that asks for more threads than the machine has cores gets them */
    lai_threadpool_reserve(ex->be->pool, ex->n_threads);
    *out = (lai_exec *)ex;
    return LOCALAI_STATUS_OK;
}

static void cpu_exec_free(lai_exec *e) {
    cpu_exec *ex = (cpu_exec *)e;
    if (ex == NULL) return;
    if (ex->work != NULL) lai_free_aligned(host_of(ex->be), ex->work, ex->work_size, CPU_ALIGN);
    lai_free(ex->quantize);
    lai_free((void *)ex->chunks);
    lai_free(ex);
}

static void cpu_destroy(lai_backend *b) { lai_free(b); }

static const lai_backend_vtable cpu_vtable = {
    "cpu",
    cpu_buffer_alloc,
    cpu_buffer_from_host,
    cpu_buffer_free,
    cpu_tensor_write,
    cpu_tensor_read,
    cpu_exec_new,
    cpu_exec_free,
    cpu_compute,
    cpu_destroy,
};

localai_status lai_cpu_backend_new(lai_threadpool *pool, const lai_cpu_kernels *kernels,
                                   const localai_allocator *host_alloc, lai_backend **out) {
    lai_cpu_f16_init();
    cpu_backend *be = lai_calloc(1, sizeof *be);
    if (be == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cpu: no memory");
    be->base.vt = &cpu_vtable;
    be->base.alignment = CPU_ALIGN;
    be->base.max_buffer = SIZE_MAX / 2;
    if (host_alloc != NULL) {
        be->host = *host_alloc;
        be->has_host = 1;
    }
    be->pool = pool;
    be->k = kernels != NULL ? kernels : lai_cpu_kernels_get(lai_cpu_level_best());
    *out = &be->base;
    return LOCALAI_STATUS_OK;
}
