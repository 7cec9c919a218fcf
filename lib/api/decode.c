/* decode.c - localai_decode: validate a batch, place it in the KV cache, record and run the forward pass. */
#include "context.h"

#include "../base/platform.h"

static localai_status grow_floats(float **p, size_t *cap, size_t need) {
    if (need <= *cap) return LOCALAI_STATUS_OK;
    float *n = lai_realloc(*p, need * sizeof(float));
    if (n == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "decode: no memory for %zu floats", need);
    *p = n;
    *cap = need;
    return LOCALAI_STATUS_OK;
}

/* Checks every entry and fills ctx->pos / ctx->seq; counts the rows that want logits. */
static localai_status read_batch(localai_context *ctx, const localai_batch *b, uint32_t *n_out) {
    const int32_t n = b->n_tokens;
    const uint32_t n_vocab = ctx->model->hp.n_vocab;
    if (n <= 0 || (uint32_t)n > ctx->n_batch)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_decode: n_tokens %d is outside 1..%u "
                        "(n_batch)", (int)n, ctx->n_batch);
    if (b->tokens == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_decode: batch.tokens is NULL");
    for (int32_t i = 0; i < n; i++) {
        if (b->tokens[i] < 0 || (uint32_t)b->tokens[i] >= n_vocab)
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_decode: token %d at entry %d "
                            "is outside the vocabulary (0..%u)", (int)b->tokens[i], (int)i, n_vocab - 1);
        int32_t s = b->seq_ids != NULL ? b->seq_ids[i] : 0;
        if (s < 0 || (uint32_t)s >= ctx->n_seq_max)
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_decode: sequence id %d at "
                            "entry %d is outside 0..%u", (int)s, (int)i, ctx->n_seq_max - 1);
        ctx->seq[i] = s;
        if (b->positions != NULL) {
            /* Keep positions far from overflow in pos - n_swa style arithmetic. */
            if (b->positions[i] < 0 || b->positions[i] > INT32_MAX / 2)
                return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_decode: position %d at "
                                "entry %d is out of range", (int)b->positions[i], (int)i);
            ctx->pos[i] = b->positions[i];
        }
    }
    if (b->positions == NULL) { /* each sequence continues after its last cached position */
        for (uint32_t s = 0; s < ctx->n_seq_max; s++) ctx->next_pos[s] = -2;
        for (int32_t i = 0; i < n; i++) {
            int32_t s = ctx->seq[i];
            if (ctx->next_pos[s] == -2) ctx->next_pos[s] = lai_kv_pos_max(&ctx->kv, s) + 1;
            ctx->pos[i] = ctx->next_pos[s]++;
        }
    }
    uint32_t count = 0;
    for (int32_t i = 0; i < n; i++) {
        int want = b->logits != NULL ? b->logits[i] != 0 : i == n - 1;
        ctx->row_of[i] = want ? (int32_t)count : -1;
        if (want) ctx->out_ids[count++] = i;
    }
    *n_out = count;
    return LOCALAI_STATUS_OK;
}

/* Records (or reuses) the graph for a batch of n_tokens tokens with n_rows output rows:
 * positions, sequences, cache slots and the KV length are run-time inputs, so a
 * generation step replays the graph recorded for the step before, with nothing
 * re-planned or re-allocated. */
static localai_status prepare_graph(localai_context *ctx, uint32_t n_tokens, uint32_t n_rows) {
    if (ctx->graph_logits != NULL && ctx->graph_tokens_n == n_tokens && ctx->graph_rows_n == n_rows)
        return LOCALAI_STATUS_OK;
    lai_backend *be = ctx->model->device;
    ctx->graph_logits = NULL;
    lai_graph_reset(&ctx->graph);
    lai_forward f;
    memset(&f, 0, sizeof f);
    f.model = ctx->model;
    f.weights = ctx->model->weight_tensors;
    f.kv = &ctx->kv;
    f.g = &ctx->graph;
    f.n_tokens = n_tokens;
    f.n_outputs = n_rows;
    /* The context per sequence as llama.cpp counts it, since phi3's choice of long or short
     * rope factors depends on it: llama.cpp pads n_ctx, then each sequence's share, up to
     * multiples of 256 (n_ctx <= 2^24 here, so no overflow). */
    f.n_ctx_seq = ((ctx->n_ctx + 255u) / 256u * 256u / ctx->n_seq_max + 255u) / 256u * 256u;
    lai_tensor *logits = lai_forward_build(&f);
    if (logits == NULL) return ctx->graph.status != LOCALAI_STATUS_OK ? ctx->graph.status : LOCALAI_STATUS_INTERNAL;
    localai_status st = lai_graph_plan(&ctx->graph);
    if (st != LOCALAI_STATUS_OK) return st;
    if (ctx->compute_buffer == NULL || ctx->compute_buffer->size < ctx->graph.planned_size) {
        if (ctx->compute_buffer != NULL) be->vt->buffer_free(be, ctx->compute_buffer);
        ctx->compute_buffer = NULL;
        if ((st = be->vt->buffer_alloc(be, ctx->graph.planned_size, &ctx->compute_buffer)) != LOCALAI_STATUS_OK)
            return st;
    }
    lai_graph_bind(&ctx->graph, ctx->compute_buffer);
    lai_log_debug(&ctx->log, "graph: recorded %d ops for batches of %u tokens (%u with logits), %zu bytes of "
                  "activations", (int)ctx->graph.n_ops, n_tokens, n_rows, ctx->graph.planned_size);
    ctx->in = f.in;
    ctx->graph_logits = logits;
    ctx->graph_tokens_n = n_tokens;
    ctx->graph_rows_n = n_rows;
    return LOCALAI_STATUS_OK;
}

/* Writes the batch's inputs; the cache's changed cells go to the device table. */
static localai_status write_inputs(localai_context *ctx, const localai_batch *b, uint32_t n, uint32_t n_rows) {
    lai_backend *be = ctx->model->device;
    const size_t i32 = sizeof(int32_t);
    ctx->info[0] = (int32_t)lai_kv_n_active(&ctx->kv.full);
    ctx->info[1] = ctx->kv.swa.cells != NULL ? (int32_t)lai_kv_n_active(&ctx->kv.swa) : 0;
    memcpy(ctx->info + 2, ctx->pos, n * i32);
    memcpy(ctx->info + 2 + n, ctx->seq, n * i32);
    localai_status st;
    if ((st = be->vt->tensor_write(be, ctx->in.tokens, b->tokens, 0, n * i32)) ||
        (st = be->vt->tensor_write(be, ctx->in.kv_slots, ctx->slots, 0, n * i32)) ||
        (st = be->vt->tensor_write(be, ctx->in.info, ctx->info, 0, (2 + 2 * (size_t)n) * i32)))
        return st;
    if (ctx->in.swa_slots != NULL && (st = be->vt->tensor_write(be, ctx->in.swa_slots, ctx->swa_slots, 0, n * i32)))
        return st;
    if (ctx->in.out_ids != NULL && (st = be->vt->tensor_write(be, ctx->in.out_ids, ctx->out_ids, 0, n_rows * i32)))
        return st;
    return lai_kv_sync(&ctx->kv);
}

localai_status lai_context_decode(localai_context *ctx, const localai_batch *batch) {
    if (batch == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_decode: batch is NULL");
    localai_batch b;
    localai_batch_init(&b);
    localai_status st = lai_params_merge(&b, sizeof b, batch, "localai_batch");
    if (st != LOCALAI_STATUS_OK) return st;

    const uint64_t t0 = lai_time_ns();
    /* The previous logits stay readable only until this call changes them. */
    ctx->n_last = 0;
    ctx->last_with_logits = -1;

    uint32_t n_out = 0;
    if ((st = read_batch(ctx, &b, &n_out)) != LOCALAI_STATUS_OK) return st;
    /* A mapped file truncated since the last decode would kill the process on the first
     * weight read; an error is the most we can do (see localai_model_params.use_mmap). */
    if ((st = lai_file_view_check(&ctx->model->gguf->view)) != LOCALAI_STATUS_OK) return st;
    const uint32_t n = (uint32_t)b.n_tokens;
    /* With no logits wanted the graph still needs an output row; it computes the last
     * token's and nobody reads it. */
    uint32_t n_rows = n_out;
    if (n_rows == 0) {
        ctx->out_ids[0] = (int32_t)n - 1;
        n_rows = 1;
    }
    /* The batch's cells count as filled while the pass runs; any failure empties them
     * again, which is all the rollback the cache needs (the data written to empty cells is
     * never read). */
    if ((st = lai_kv_place(&ctx->kv, n, ctx->pos, ctx->seq, ctx->slots, ctx->swa_slots)) != LOCALAI_STATUS_OK)
        return st;
    st = prepare_graph(ctx, n, n_rows);
    lai_backend *be = ctx->model->device;
    if (st == LOCALAI_STATUS_OK) st = write_inputs(ctx, &b, n, n_rows);
    if (st == LOCALAI_STATUS_OK) {
        lai_compute_opts opts = {ctx->params.abort_callback, ctx->params.abort_user};
        st = be->vt->compute(ctx->exec, &ctx->graph, &opts);
    }
    const size_t n_vocab = ctx->model->hp.n_vocab;
    if (st == LOCALAI_STATUS_OK) {
        size_t cap = ctx->logits_cap;
        st = grow_floats(&ctx->logits, &cap, (size_t)n_rows * n_vocab);
        ctx->logits_cap = cap;
    }
    if (st == LOCALAI_STATUS_OK)
        st = be->vt->tensor_read(be, ctx->graph_logits, ctx->logits, 0, (size_t)n_rows * n_vocab * sizeof(float));
    if (st != LOCALAI_STATUS_OK) {
        lai_kv_unplace(&ctx->kv, n, ctx->slots, ctx->swa_slots);
        return st;
    }
    ctx->n_last = (int32_t)n;
    ctx->last_with_logits = n_out > 0 ? ctx->out_ids[n_out - 1] : -1;
    lai_log_debug(&ctx->log, "decode: %u tokens (%u with logits) in %.2f ms; KV cache %u of %u cells used",
                  n, n_out, (double)(lai_time_ns() - t0) / 1e6, lai_kv_n_used(&ctx->kv), ctx->kv.full.n_cells);
    return LOCALAI_STATUS_OK;
}
