/* context_api.c - contexts, logits and KV-cache entry points of the public API. */
#include "context.h"

#include "../base/platform.h"
#include "../cpu/threadpool.h"
#include "../quant/quant.h"

static void context_destroy(localai_context *ctx) {
    if (ctx == NULL) return;
    lai_graph_free(&ctx->graph);
    lai_backend *dev = ctx->model->device;
    lai_kv_cache_free(&ctx->kv);
    if (ctx->compute_buffer) dev->vt->buffer_free(dev, ctx->compute_buffer);
    if (ctx->exec != NULL) dev->vt->exec_free(ctx->exec);
    lai_free(ctx->logits);
    lai_free(ctx->row_of);
    lai_free(ctx->pos);
    lai_free(ctx->seq);
    lai_free(ctx->slots);
    lai_free(ctx->swa_slots);
    lai_free(ctx->out_ids);
    lai_free(ctx->next_pos);
    lai_free(ctx->info);
    lai_free(ctx);
}

static localai_status context_create(localai_model *model, const localai_context_params *params,
                                     localai_context **out_ctx) {
    if (model->vocab_only || model->weights.layers == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_context_new: the model was opened vocab_only (no weights)");
    localai_context_params p;
    localai_context_params_init(&p);
    localai_status st = lai_params_merge(&p, sizeof p, params, "localai_context_params");
    if (st != LOCALAI_STATUS_OK) return st;
    const lai_hparams *hp = &model->hp;
    if (p.kv_type != LOCALAI_KV_F16 && p.kv_type != LOCALAI_KV_F32)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_context_new: kv_type %d is not "
                        "LOCALAI_KV_F16 or LOCALAI_KV_F32", (int)p.kv_type);
    if (p.n_seq_max == 0 || p.n_seq_max > 4096)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_context_new: n_seq_max %u is outside 1..4096", p.n_seq_max);
    if (p.n_batch == 0 || p.n_batch > 1u << 20)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_context_new: n_batch %u is outside 1..%u", p.n_batch, 1u << 20);
    if (p.n_ctx > 1u << 24)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_context_new: n_ctx %u is above the maximum, %u (0 = the default)",
                        p.n_ctx, 1u << 24);
    if (p.n_threads < 0 || p.n_threads > LAI_THREADPOOL_MAX)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_context_new: n_threads %d is outside 0..%d (0 = one per core)",
                        (int)p.n_threads, LAI_THREADPOOL_MAX);

    localai_context *ctx = lai_calloc(1, sizeof *ctx);
    if (ctx == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "localai_context_new: no memory");
    ctx->model = model;
    ctx->params = p;
    ctx->n_ctx = p.n_ctx != 0 ? p.n_ctx : LAI_MIN(hp->n_ctx_train ? hp->n_ctx_train : 4096, 4096u);
    ctx->n_batch = p.n_batch;
    ctx->n_seq_max = p.n_seq_max;
    ctx->last_with_logits = -1;
    if (p.log != NULL) {
        ctx->log.fn = p.log;
        ctx->log.user = p.log_user;
        ctx->log.level = p.log_level;
    } else {
        ctx->log = model->log;
    }
    lai_graph_init(&ctx->graph);

    lai_backend *dev = model->device;
    const lai_exec_params ep = {p.n_threads};
    st = dev->vt->exec_new(dev, &ep, &ctx->exec);
    if (st == LOCALAI_STATUS_OK) {
        lai_kv_shape ks;
        memset(&ks, 0, sizeof ks);
        ks.type = p.kv_type == LOCALAI_KV_F32 ? LAI_TYPE_F32 : LAI_TYPE_F16;
        ks.n_ctx = ctx->n_ctx;
        ks.n_layer = hp->n_layer;
        ks.k_row = hp->head_dim_k * hp->n_head_kv;
        ks.v_row = hp->head_dim_v * hp->n_head_kv;
        ks.n_seq_max = ctx->n_seq_max;
        ks.n_batch = ctx->n_batch;
        ks.n_swa = hp->n_swa;
        ks.swa_layer = hp->swa_layer;
        st = lai_kv_cache_init(&ctx->kv, dev, &ks);
    }
    if (st == LOCALAI_STATUS_OK) {
        size_t nb = ctx->n_batch;
        {
            ctx->row_of = lai_malloc(nb * sizeof(int32_t));
            ctx->pos = lai_malloc(nb * sizeof(int32_t));
            ctx->seq = lai_malloc(nb * sizeof(int32_t));
            ctx->slots = lai_malloc(nb * sizeof(int32_t));
            ctx->swa_slots = lai_malloc(nb * sizeof(int32_t));
            ctx->out_ids = lai_malloc(nb * sizeof(int32_t));
            ctx->next_pos = lai_malloc(ctx->n_seq_max * sizeof(int32_t));
            ctx->info = lai_malloc((2 + 2 * nb) * sizeof(int32_t));
            if (!ctx->row_of || !ctx->pos || !ctx->seq || !ctx->slots || !ctx->swa_slots || !ctx->out_ids ||
                !ctx->next_pos || !ctx->info)
                st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "localai_context_new: no memory");
        }
    }
    if (st != LOCALAI_STATUS_OK) {
        context_destroy(ctx);
        return st;
    }
    lai_log_info(&ctx->log, "context: %u tokens, batches of up to %u, %u sequence(s), KV cache %s %.1f MiB",
                 ctx->n_ctx, ctx->n_batch, ctx->n_seq_max,
                 p.kv_type == LOCALAI_KV_F32 ? "f32" : "f16",
                 (double)lai_kv_cache_bytes(&ctx->kv) / (1024.0 * 1024.0));
    *out_ctx = ctx;
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_context_new(localai_model *model,
                                               const localai_context_params *params,
                                               localai_context **out_ctx) {
    if (model == NULL || out_ctx == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_context_new: %s is NULL",
                        model == NULL ? "model" : "out_ctx");
    const localai_allocator *previous = lai_heap_enter(lai_model_heap(model));
    localai_status st = context_create(model, params, out_ctx);
    lai_heap_leave(previous);
    if (st == LOCALAI_STATUS_OK) lai_clear_error();
    return st;
}

LOCALAI_API void localai_context_free(localai_context *ctx) { context_destroy(ctx); }

LOCALAI_API const char *localai_context_errmsg(const localai_context *ctx) {
    return ctx != NULL ? ctx->err.text : "";
}

LOCALAI_API const localai_model *localai_context_model(const localai_context *ctx) {
    return ctx != NULL ? ctx->model : NULL;
}

LOCALAI_API uint32_t localai_context_n_ctx(const localai_context *ctx) {
    return ctx != NULL ? ctx->n_ctx : 0;
}

LOCALAI_API localai_status localai_decode(localai_context *ctx, const localai_batch *batch) {
    if (ctx == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_decode: ctx is NULL");
    const localai_allocator *previous = lai_heap_enter(lai_model_heap(ctx->model));
    localai_status st = lai_context_decode(ctx, batch);
    lai_heap_leave(previous);
    if (st == LOCALAI_STATUS_OK) lai_clear_error();
    return lai_errbuf_store(&ctx->err, st);
}

LOCALAI_API localai_status localai_logits(localai_context *ctx, int32_t i,
                                          const float **out_logits) {
    if (ctx == NULL || out_logits == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_logits: %s is NULL",
                        ctx == NULL ? "ctx" : "out_logits");
    localai_status st = LOCALAI_STATUS_OK;
    int32_t idx = i;
    if (idx == -1) {
        if (ctx->last_with_logits < 0)
            st = lai_fail(LOCALAI_STATUS_NOT_FOUND, "localai_logits: the last decode computed no logits");
        idx = ctx->last_with_logits;
    } else if (idx < 0 || idx >= ctx->n_last) {
        st = lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                      "localai_logits: entry %d is outside the last batch (%d tokens)", (int)i,
                      (int)ctx->n_last);
    } else if (ctx->row_of[idx] < 0) {
        st = lai_fail(LOCALAI_STATUS_NOT_FOUND, "localai_logits: batch entry %d asked for no logits",
                      (int)i);
    }
    if (st == LOCALAI_STATUS_OK) {
        *out_logits = ctx->logits + (size_t)ctx->row_of[idx] * ctx->model->hp.n_vocab;
        lai_clear_error();
    }
    return lai_errbuf_store(&ctx->err, st);
}

static localai_status check_seq(const localai_context *ctx, const char *fn, const char *what,
                                int32_t seq_id) {
    if (seq_id < 0 || (uint32_t)seq_id >= ctx->n_seq_max)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "%s: %s %d is outside 0..%u", fn, what,
                        (int)seq_id, ctx->n_seq_max - 1);
    return LOCALAI_STATUS_OK;
}

static localai_status kv_done(localai_context *ctx, localai_status st) {
    if (st == LOCALAI_STATUS_OK) lai_clear_error();
    return lai_errbuf_store(&ctx->err, st);
}

LOCALAI_API localai_status localai_kv_clear(localai_context *ctx) {
    if (ctx == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_kv_clear: ctx is NULL");
    lai_kv_clear(&ctx->kv);
    return kv_done(ctx, LOCALAI_STATUS_OK);
}

LOCALAI_API localai_status localai_kv_remove(localai_context *ctx, int32_t seq_id, int32_t p0,
                                             int32_t p1) {
    if (ctx == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_kv_remove: ctx is NULL");
    localai_status st = LOCALAI_STATUS_OK;
    if (seq_id >= 0) st = check_seq(ctx, "localai_kv_remove", "seq_id", seq_id);
    if (st == LOCALAI_STATUS_OK) lai_kv_remove(&ctx->kv, seq_id, p0, p1);
    return kv_done(ctx, st);
}

LOCALAI_API localai_status localai_kv_copy(localai_context *ctx, int32_t src_seq,
                                           int32_t dst_seq, int32_t p0, int32_t p1) {
    if (ctx == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_kv_copy: ctx is NULL");
    localai_status st = check_seq(ctx, "localai_kv_copy", "src_seq", src_seq);
    if (st == LOCALAI_STATUS_OK) st = check_seq(ctx, "localai_kv_copy", "dst_seq", dst_seq);
    if (st == LOCALAI_STATUS_OK) lai_kv_copy(&ctx->kv, src_seq, dst_seq, p0, p1);
    return kv_done(ctx, st);
}

LOCALAI_API localai_status localai_kv_pos_max(localai_context *ctx, int32_t seq_id,
                                              int32_t *out_pos) {
    if (ctx == NULL || out_pos == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_kv_pos_max: %s is NULL",
                        ctx == NULL ? "ctx" : "out_pos");
    localai_status st = check_seq(ctx, "localai_kv_pos_max", "seq_id", seq_id);
    if (st == LOCALAI_STATUS_OK) *out_pos = lai_kv_pos_max(&ctx->kv, seq_id);
    return kv_done(ctx, st);
}
