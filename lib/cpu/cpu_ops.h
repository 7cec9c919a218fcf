/* cpu_ops.h - the CPU backend's kernels: one entry per op kind, each run by all threads. */
#ifndef LAI_CPU_OPS_H
#define LAI_CPU_OPS_H

#include <stdatomic.h>

#include "../compute/backend.h"
#include "../quant/quant.h"
#include "cpu_kernels.h"
#include "threadpool.h"

/* What a kernel gets besides its op: its thread index, the kernels of the level in use,
 * its team (for the barriers inside an op), a private scratch area of at least
 * lai_cpu_op_work_size(op, k) bytes, and the areas every thread of the run shares
 * (the rounded activations of the last matmul input, and packed GEMM tiles); all 64-byte
 * aligned. */
typedef struct lai_cpu_thread {
    int ith, nth;
    const lai_cpu_kernels *k;
    lai_team *team;
    void *wdata;
    size_t wsize;
    uint8_t *shared_act, *shared_tiles;
    _Atomic int32_t *chunk; /* this op's next unclaimed work chunk, 0 when the op starts */
} lai_cpu_thread;

/* The next chunk of work for this thread (0, 1, 2, ... across the team), or -1 when all
 * n chunks are taken: faster cores simply take more chunks. */
static inline int64_t lai_cpu_next_chunk(const lai_cpu_thread *th, int64_t n) {
    const int64_t c = atomic_fetch_add_explicit(th->chunk, 1, memory_order_relaxed);
    return c < n ? c : -1;
}

static inline uint8_t *lai_cpu_data(const lai_tensor *t) {
    return t->buffer->host + t->offset;
}

/* The half of [0, n) that thread ith of nth works on. */
static inline void lai_cpu_split(int64_t n, const lai_cpu_thread *th, int64_t *begin, int64_t *end) {
    *begin = n * th->ith / th->nth;
    *end = n * (th->ith + 1) / th->nth;
}

/* f16 -> f32 through a table filled once per process (lai_call_once). */
void lai_cpu_f16_init(void);
extern float lai_cpu_f16_table[65536];
static inline float lai_cpu_f16(uint16_t h) { return lai_cpu_f16_table[h]; }

/* Dequantizes n elements of one row of `type` to floats. */
void lai_cpu_row_to_f32(uint32_t type, const void *src, float *dst, int64_t n);
/* 1 when rows of `type` can be dequantized (f32, f16, bf16, or a reference to_float). */
int lai_cpu_type_supported(uint32_t type);

float lai_cpu_dot_f32(const float *a, const float *b, int64_t n);

size_t lai_cpu_op_work_size(const lai_op *op, const lai_cpu_kernels *k);
/* quantize: a matmul rounds its input into shared_act first (else that area already holds
 * this input, rounded by an earlier matmul of the same input). */
void lai_cpu_op_run(const lai_op *op, const lai_cpu_thread *th, int quantize);

/* Per-kind kernels (cpu_ops_basic.c, cpu_matmul.c, cpu_rope.c, cpu_attention.c). */
void lai_cpu_get_rows(const lai_op *op, const lai_cpu_thread *th);
void lai_cpu_rms_norm(const lai_op *op, const lai_cpu_thread *th);
void lai_cpu_binary(const lai_op *op, const lai_cpu_thread *th);
void lai_cpu_unary(const lai_op *op, const lai_cpu_thread *th);
void lai_cpu_glu(const lai_op *op, const lai_cpu_thread *th);
void lai_cpu_matmul(const lai_op *op, const lai_cpu_thread *th, int quantize);
size_t lai_cpu_matmul_work_size(const lai_op *op, const lai_cpu_kernels *k);
/* The shared areas a matmul needs (bytes), and the activation format of its input
 * (LAI_ACT_NONE: it reads f32 columns). */
void lai_cpu_matmul_shared_size(const lai_op *op, const lai_cpu_kernels *k, size_t *act, size_t *tiles);
int lai_cpu_matmul_act_format(const lai_op *op);
void lai_cpu_rope(const lai_op *op, const lai_cpu_thread *th);
size_t lai_cpu_rope_work_size(const lai_op *op);
void lai_cpu_kv_store(const lai_op *op, const lai_cpu_thread *th);
void lai_cpu_attention(const lai_op *op, const lai_cpu_thread *th);
size_t lai_cpu_attention_work_size(const lai_op *op);

#endif /* LAI_CPU_OPS_H */
