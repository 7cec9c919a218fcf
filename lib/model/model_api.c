/* model_api.c - localai_model_open/close and the model queries of the public API. */
#include "model.h"

/* Until the GGUF loader lands (issue 3) opening a model is reported as unsupported. */
LOCALAI_API localai_status localai_model_open(const char *path,
                                              const localai_model_params *params,
                                              localai_model **out_model) {
    if (path == NULL || out_model == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_open: %s is NULL",
                        path == NULL ? "path" : "out_model");
    localai_model_params p;
    localai_model_params_init(&p);
    localai_status st = lai_params_merge(&p, sizeof p, params, "localai_model_params");
    if (st != LOCALAI_STATUS_OK) return st;
    return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                    "%s: loading GGUF models is not implemented in this build yet", path);
}

LOCALAI_API void localai_model_close(localai_model *model) { (void)model; }

#define MODEL_QUERY(type, name, fallback) \
    LOCALAI_API type name(const localai_model *model) { (void)model; return fallback; }
MODEL_QUERY(const char *, localai_model_architecture, "")
MODEL_QUERY(const char *, localai_model_name, "")
MODEL_QUERY(uint64_t, localai_model_n_params, 0)
MODEL_QUERY(uint64_t, localai_model_size_bytes, 0)
MODEL_QUERY(int32_t, localai_model_n_vocab, 0)
MODEL_QUERY(int32_t, localai_model_n_ctx_train, 0)
MODEL_QUERY(int32_t, localai_model_n_embd, 0)
MODEL_QUERY(int32_t, localai_model_n_layer, 0)
MODEL_QUERY(int32_t, localai_model_n_head, 0)
MODEL_QUERY(int32_t, localai_model_n_head_kv, 0)
MODEL_QUERY(int32_t, localai_model_backend, LOCALAI_BACKEND_CPU)
MODEL_QUERY(int32_t, localai_model_meta_count, 0)

LOCALAI_API localai_status localai_model_meta_key(const localai_model *model, int32_t i,
                                                  const char **out_key) {
    (void)model; (void)i; (void)out_key;
    return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_meta_key: no model");
}

LOCALAI_API localai_status localai_model_meta_value(const localai_model *model, const char *key,
                                                    char *buf, size_t capacity, size_t *out_len) {
    (void)model; (void)key; (void)buf; (void)capacity; (void)out_len;
    return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_meta_value: no model");
}

LOCALAI_API localai_status localai_model_chat_template(const localai_model *model,
                                                       const char *name,
                                                       const char **out_template) {
    (void)model; (void)name; (void)out_template;
    return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_chat_template: no model");
}
