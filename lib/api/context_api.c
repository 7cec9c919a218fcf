/* context_api.c - contexts, decoding, logits and KV-cache entry points of the public API. */
#include "../model/model.h"

#define NOT_YET(fn) \
    lai_fail(LOCALAI_STATUS_UNSUPPORTED, fn ": running models is not implemented in this build yet")

LOCALAI_API localai_status localai_context_new(localai_model *model,
                                               const localai_context_params *params,
                                               localai_context **out_ctx) {
    if (model == NULL || out_ctx == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_context_new: %s is NULL",
                        model == NULL ? "model" : "out_ctx");
    (void)params;
    return NOT_YET("localai_context_new");
}

LOCALAI_API void localai_context_free(localai_context *ctx) { (void)ctx; }

LOCALAI_API const char *localai_context_errmsg(const localai_context *ctx) {
    (void)ctx;
    return "";
}

LOCALAI_API const localai_model *localai_context_model(const localai_context *ctx) {
    (void)ctx;
    return NULL;
}

LOCALAI_API uint32_t localai_context_n_ctx(const localai_context *ctx) {
    (void)ctx;
    return 0;
}

LOCALAI_API localai_status localai_decode(localai_context *ctx, const localai_batch *batch) {
    (void)ctx; (void)batch;
    return NOT_YET("localai_decode");
}

LOCALAI_API localai_status localai_logits(localai_context *ctx, int32_t i,
                                          const float **out_logits) {
    (void)ctx; (void)i; (void)out_logits;
    return NOT_YET("localai_logits");
}

LOCALAI_API localai_status localai_kv_clear(localai_context *ctx) {
    (void)ctx;
    return NOT_YET("localai_kv_clear");
}

LOCALAI_API localai_status localai_kv_remove(localai_context *ctx, int32_t seq_id, int32_t p0,
                                             int32_t p1) {
    (void)ctx; (void)seq_id; (void)p0; (void)p1;
    return NOT_YET("localai_kv_remove");
}

LOCALAI_API localai_status localai_kv_copy(localai_context *ctx, int32_t src_seq,
                                           int32_t dst_seq, int32_t p0, int32_t p1) {
    (void)ctx; (void)src_seq; (void)dst_seq; (void)p0; (void)p1;
    return NOT_YET("localai_kv_copy");
}

LOCALAI_API localai_status localai_kv_pos_max(localai_context *ctx, int32_t seq_id,
                                              int32_t *out_pos) {
    (void)ctx; (void)seq_id; (void)out_pos;
    return NOT_YET("localai_kv_pos_max");
}
