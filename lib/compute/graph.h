/* graph.h - the op interface: tensor handles and the list of ops a forward pass records. */
#ifndef LAI_GRAPH_H
#define LAI_GRAPH_H

#include "../base/base.h"

/*
 * A forward pass does not compute anything itself: it records ops on tensor handles into
 * a lai_graph, the context uploads the inputs, and a backend runs the whole list at once
 * (the CPU backend on its thread pool, a GPU backend as one command buffer). Nothing
 * reads a result back to the host while the list runs; outputs are read afterwards.
 *
 * A tensor handle names memory on the backend: a buffer and an offset, with a type, a
 * shape ne[] (ne[0] innermost) and byte strides nb[]. Weights are handles into the
 * model's (mapped) file; the KV cache and the activations live in backend buffers. Rows
 * (all of ne[0]) are always contiguous; nb[1..3] may describe a view into a wider tensor,
 * e.g. the Q, K and V column blocks of a fused QKV projection.
 */

#define LAI_MAX_DIMS 4
#define LAI_OP_MAX_SRC 5

typedef struct lai_buffer lai_buffer; /* backend-owned memory (opaque) */

enum {
    LAI_TENSOR_INTERMEDIATE = 0, /* produced by an op; memory planned by the graph */
    LAI_TENSOR_INPUT = 1,        /* written by the host before the graph runs */
    LAI_TENSOR_OUTPUT = 2,       /* read by the host after the graph runs */
    LAI_TENSOR_EXTERNAL = 3      /* lives elsewhere (weights, KV cache): never planned */
};

typedef struct lai_tensor {
    uint32_t type;               /* LAI_TYPE_* (lib/quant/quant.h) */
    int64_t ne[LAI_MAX_DIMS];    /* elements per dimension, unused ones 1 */
    size_t nb[LAI_MAX_DIMS];     /* byte strides; nb[0] is the size of one block/element */
    lai_buffer *buffer;          /* set for external tensors and after planning */
    size_t offset;               /* byte offset of element 0 in buffer */
    int32_t kind;                /* LAI_TENSOR_* */
    struct lai_tensor *view_of;  /* not NULL: shares the memory of this tensor */
    size_t view_offset;          /* byte offset inside view_of */
    int32_t first_op, last_op;   /* planner bookkeeping: producing op, last reader */
    int32_t planned;             /* planner bookkeeping: offset assigned */
    const char *name;            /* for messages; static storage */
} lai_tensor;

/*
 * Ops. Unless said otherwise, activations are F32, srcs are not modified, and dst is a
 * new tensor. "Rows" are the ne[0] runs; an op over rows treats ne[1..3] as a batch.
 */
typedef enum lai_op_kind {
    /* dst[ne0(src0), n] = rows ids[i] of src0 (any type with a dequantizer; src1 I32 [n]) */
    LAI_OP_GET_ROWS = 0,
    /* dst = x / sqrt(mean(x^2) + eps) per row, times weight src1 [ne0] when not NULL.
     * fp[0] = eps */
    LAI_OP_RMS_NORM,
    /* dst = src0 + src1, src0 * src1; src1 is either the same shape or one row [ne0] that is
     * broadcast over every row */
    LAI_OP_ADD,
    LAI_OP_MUL,
    /* dst = src0 * fp[0] */
    LAI_OP_SCALE,
    /* dst = fp[0] * tanh(src0 / fp[0]) */
    LAI_OP_SOFTCAP,
    /* dst[N, M] = W^T x: src0 W [K, N] in any supported type (quantized weights stay in
     * their block format), src1 x [K, M] F32. dst[n, m] = sum_k W[k, n] x[k, m]. */
    LAI_OP_MATMUL,
    /* Rotary position embedding of src0 [head_dim, n_head, n_tokens] at positions src1
     * (I32 [n_tokens]); src2 optional frequency factors F32 [n_rot/2] that divide each
     * pair's frequency. ip[0] = n_rot, ip[1] = neox (pairs (i, i+n_rot/2) instead of
     * (2i, 2i+1)), ip[2] = n_ctx_orig (YaRN). fp: [0] freq_base, [1] freq_scale,
     * [2] ext_factor, [3] attn_factor, [4] beta_fast, [5] beta_slow. Dims >= n_rot are
     * copied unchanged. */
    LAI_OP_ROPE,
    /* Side effect: row t of src0 [row_len, n_tokens] is written (converted to the cache
     * type) to row src1[t] (I32) of dst, an external KV cache tensor [row_len, n_cells].
     * dst is the cache itself; no new tensor. */
    LAI_OP_KV_STORE,
    /* Attention of queries src0 [head_dim_k, n_head, n_tokens] over the KV cache tensors
     * src1 (K, [head_dim_k * n_head_kv, n_cells]) and src2 (V, [head_dim_v * n_head_kv,
     * n_cells]). Which cells a token sees is computed here from run-time data, so a
     * recorded graph serves every step: src3 (I32 [2 + 2 * n_tokens]) holds the active
     * length of the full and of the window cell group (cells beyond it are empty), then
     * each token's position, then its sequence id; src4 is the group's cell table (I32
     * [1 + seq_words, n_cells]: the cell's position, -1 when empty, then the bit set of its
     * sequences). ip[2] (0 or 1) says which of the two lengths applies. Token t sees cell c
     * when the cell is in t's sequence at a position <= t's, and, when ip[0] = n_swa > 0,
     * at a position > t's - n_swa. ip[1] = n_head_kv (query head h uses kv head
     * h / (n_head/n_head_kv)). score = fp[0] * q.k; if fp[1] > 0: score = fp[1] *
     * tanh(score / fp[1]); then softmax over the visible cells weights the V rows (no
     * visible cell: zeros). dst [head_dim_v * n_head, n_tokens]. */
    LAI_OP_ATTENTION,
    /* dst = silu(src0) * src1 and gelu_tanh(src0) * src1 (same shapes) */
    LAI_OP_SWIGLU,
    LAI_OP_GEGLU,
    /* In place: the planner may give the dst of ADD, MUL, SCALE, SOFTCAP, SWIGLU, GEGLU and
     * RMS_NORM the memory of a same-layout input the op reads last (plan.c), so backends
     * compute them so that dst may be src0 or src1 (each element, or RMS_NORM's row, read
     * before it is written). */
    LAI_OP_COUNT
} lai_op_kind;

typedef struct lai_op {
    lai_op_kind kind;
    lai_tensor *dst;
    lai_tensor *src[LAI_OP_MAX_SRC];
    int32_t ip[4];
    float fp[8];
} lai_op;

/* Tensor handles are stored in fixed blocks so pointers stay valid while recording. */
#define LAI_BLOCK_TENSORS 128
typedef struct lai_tensor_block {
    lai_tensor tensors[LAI_BLOCK_TENSORS];
    int32_t used;
    struct lai_tensor_block *next;
} lai_tensor_block;

/* A recorded forward pass. Tensors made by the graph belong to it. */
typedef struct lai_graph {
    lai_op *ops;
    int32_t n_ops, cap_ops;
    lai_tensor_block *blocks; /* stable storage for tensor handles */
    lai_tensor **outputs;     /* tensors marked LAI_TENSOR_OUTPUT */
    int32_t n_outputs, cap_outputs;
    localai_status status;    /* first recording error (sticky); ops on failure return NULL */
    size_t planned_size;      /* bytes of backend memory the plan needs (lai_graph_plan) */
} lai_graph;

void lai_graph_init(lai_graph *g);
void lai_graph_free(lai_graph *g);
/* Forgets every op and tensor but keeps the storage, for the next batch. */
void lai_graph_reset(lai_graph *g);

/* Element/block size helpers. Row bytes of ne0 elements of `type`; 0 for unknown types or
 * ne0 not a whole number of blocks. */
size_t lai_tensor_row_size(uint32_t type, int64_t ne0);
int64_t lai_tensor_nelements(const lai_tensor *t);
int lai_tensor_rows_contiguous(const lai_tensor *t); /* nb[i+1] == nb[i] * ne[i] */

/* Fills ne/nb for a dense tensor of `type` (shape ne0..ne3). Returns 0 when the shape is
 * invalid for the type (ne0 not a multiple of the block size, overflow). */
int lai_tensor_set_dense(lai_tensor *t, uint32_t type, const int64_t ne[LAI_MAX_DIMS]);

/* New tensors owned by the graph. On failure they return NULL and set g->status, so a
 * builder can record a whole pass and check the status once at the end. */
lai_tensor *lai_graph_new_tensor(lai_graph *g, int32_t kind, uint32_t type, int64_t ne0,
                                 int64_t ne1, int64_t ne2, const char *name);
/* A view of `src` with shape ne and strides nb (nb[0] from src) starting `offset` bytes
 * into it. Used for reshapes and to split fused projections. */
lai_tensor *lai_graph_view(lai_graph *g, lai_tensor *src, const int64_t ne[LAI_MAX_DIMS],
                           const size_t nb[LAI_MAX_DIMS], size_t offset);
/* Reshape of a tensor whose rows are contiguous into ne0 x ne1 x ne2 (same element count). */
lai_tensor *lai_graph_reshape(lai_graph *g, lai_tensor *src, int64_t ne0, int64_t ne1,
                              int64_t ne2);
/* Marks a tensor as read by the host after the run (its memory is never reused). */
void lai_graph_mark_output(lai_graph *g, lai_tensor *t);

/* Recording helpers: each validates shapes and types, appends one op and returns dst. */
lai_tensor *lai_op_get_rows(lai_graph *g, lai_tensor *table, lai_tensor *ids);
lai_tensor *lai_op_rms_norm(lai_graph *g, lai_tensor *x, lai_tensor *weight, float eps);
lai_tensor *lai_op_add(lai_graph *g, lai_tensor *a, lai_tensor *b);
lai_tensor *lai_op_mul(lai_graph *g, lai_tensor *a, lai_tensor *b);
lai_tensor *lai_op_scale(lai_graph *g, lai_tensor *a, float s);
lai_tensor *lai_op_softcap(lai_graph *g, lai_tensor *a, float cap);
lai_tensor *lai_op_matmul(lai_graph *g, lai_tensor *w, lai_tensor *x);

typedef struct lai_rope_params {
    int32_t n_rot;
    int32_t neox;
    int32_t n_ctx_orig;
    float freq_base, freq_scale, ext_factor, attn_factor, beta_fast, beta_slow;
} lai_rope_params;
lai_tensor *lai_op_rope(lai_graph *g, lai_tensor *x, lai_tensor *positions,
                        lai_tensor *freq_factors, const lai_rope_params *rp);
/* Returns cache (for chaining), or NULL on error. */
lai_tensor *lai_op_kv_store(lai_graph *g, lai_tensor *cache, lai_tensor *rows,
                            lai_tensor *slots);
lai_tensor *lai_op_attention(lai_graph *g, lai_tensor *q, lai_tensor *k_cache,
                             lai_tensor *v_cache, lai_tensor *info, lai_tensor *cells,
                             int32_t kv_group, int32_t n_swa, int32_t n_head_kv, float scale,
                             float softcap);
lai_tensor *lai_op_swiglu(lai_graph *g, lai_tensor *gate, lai_tensor *up);
lai_tensor *lai_op_geglu(lai_graph *g, lai_tensor *gate, lai_tensor *up);

/* Memory plan: gives every input, output and intermediate tensor an offset in one
 * compute buffer, reusing the memory of intermediates after their last reader. Sets
 * g->planned_size. lai_graph_bind then points the planned tensors at `buffer`. */
localai_status lai_graph_plan(lai_graph *g);
void lai_graph_bind(lai_graph *g, lai_buffer *buffer);

const char *lai_op_name(lai_op_kind kind);

#endif /* LAI_GRAPH_H */
