/* context.h - the localai_context handle: backend, weight handles, KV cache, graph and logits. */
#ifndef LAI_CONTEXT_H
#define LAI_CONTEXT_H

#include "../compute/kv_cache.h"
#include "../model/forward.h"

struct localai_context {
    localai_model *model;
    lai_errbuf err;
    localai_context_params params;
    lai_logger log;             /* the params' sink, else the model's */
    uint32_t n_ctx, n_batch, n_seq_max;
    lai_exec *exec;             /* this context's execution state on the model's device */
    lai_kv_cache kv;
    lai_graph graph;            /* recorded for one batch shape, reused while it repeats */
    lai_forward_inputs in;      /* its inputs */
    lai_tensor *graph_logits;   /* its output; NULL: no graph recorded */
    uint32_t graph_tokens_n, graph_rows_n; /* the shape it was recorded for */
    lai_buffer *compute_buffer; /* grows to the largest plan seen */
    /* logits of the last decode: n_logit_rows rows of n_vocab; row_of[i] for batch entry i */
    float *logits;
    size_t logits_cap;          /* floats */
    int32_t *row_of;            /* n_batch entries, -1 = no logits */
    int32_t n_last;             /* entries in the last decoded batch */
    int32_t last_with_logits;   /* -1 when none */
    /* per-batch host scratch: n_batch entries each (next_pos: n_seq_max; info: the
     * attention input, 2 + 2 * n_batch) */
    int32_t *pos, *seq, *slots, *swa_slots, *out_ids, *next_pos, *info;
};

/* localai_decode's worker (decode.c); the caller stores the message in ctx->err. */
localai_status lai_context_decode(localai_context *ctx, const localai_batch *batch);

#endif /* LAI_CONTEXT_H */
