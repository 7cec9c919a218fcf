/* model_api.c - the model queries of the public API: facts, metadata, chat templates. */
#include "model.h"

#include <stdio.h>

LOCALAI_API const char *localai_model_architecture(const localai_model *model) {
    return model != NULL && model->architecture != NULL ? model->architecture : "";
}

LOCALAI_API const char *localai_model_name(const localai_model *model) {
    return model != NULL && model->name != NULL ? model->name : "";
}

LOCALAI_API uint64_t localai_model_n_params(const localai_model *model) {
    return model != NULL ? model->n_params : 0;
}

LOCALAI_API uint64_t localai_model_size_bytes(const localai_model *model) {
    return model != NULL ? model->size_bytes : 0;
}

static int32_t clamp_i32(uint64_t v) { return v > INT32_MAX ? INT32_MAX : (int32_t)v; }

LOCALAI_API int32_t localai_model_n_vocab(const localai_model *model) {
    if (model == NULL) return 0;
    if (model->vocab != NULL) return lai_vocab_n_tokens(model->vocab);
    return clamp_i32(model->hp.n_vocab);
}

LOCALAI_API int32_t localai_model_n_ctx_train(const localai_model *model) {
    return model != NULL ? clamp_i32(model->hp.n_ctx_train) : 0;
}

LOCALAI_API int32_t localai_model_n_embd(const localai_model *model) {
    return model != NULL ? clamp_i32(model->hp.n_embd) : 0;
}

LOCALAI_API int32_t localai_model_n_layer(const localai_model *model) {
    return model != NULL ? clamp_i32(model->hp.n_layer) : 0;
}

LOCALAI_API int32_t localai_model_n_head(const localai_model *model) {
    return model != NULL ? clamp_i32(model->hp.n_head) : 0;
}

LOCALAI_API int32_t localai_model_n_head_kv(const localai_model *model) {
    return model != NULL ? clamp_i32(model->hp.n_head_kv) : 0;
}

LOCALAI_API int32_t localai_model_backend(const localai_model *model) {
    return model != NULL ? model->backend : LOCALAI_BACKEND_CPU;
}

LOCALAI_API int32_t localai_model_meta_count(const localai_model *model) {
    return model != NULL && model->gguf != NULL ? clamp_i32(model->gguf->n_kv) : 0;
}

LOCALAI_API localai_status localai_model_meta_key(const localai_model *model, int32_t i,
                                                  const char **out_key) {
    if (model == NULL || out_key == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_meta_key: %s is NULL",
                        model == NULL ? "model" : "out_key");
    if (i < 0 || i >= localai_model_meta_count(model))
        return lai_fail(LOCALAI_STATUS_NOT_FOUND, "metadata entry %d does not exist (%d entries)",
                        (int)i, (int)localai_model_meta_count(model));
    *out_key = model->gguf->kv[i].key;
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_model_meta_value(const localai_model *model, const char *key,
                                                    char *buf, size_t capacity, size_t *out_len) {
    if (model == NULL || key == NULL || (buf == NULL && capacity > 0))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_model_meta_value: %s is NULL",
                        model == NULL ? "model" : key == NULL ? "key" : "buf");
    const lai_gguf_kv *kv = lai_gguf_find(model->gguf, key);
    if (kv == NULL)
        return lai_fail(LOCALAI_STATUS_NOT_FOUND, "metadata key '%s' not found", key);
    size_t need = lai_gguf_format_value(kv, buf, capacity);
    if (out_len != NULL) *out_len = need;
    if (need >= capacity)
        return lai_fail(LOCALAI_STATUS_BUFFER_TOO_SMALL,
                        "metadata key '%s': the value needs %zu bytes plus a NUL, the buffer has %zu",
                        key, need, capacity);
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_model_chat_template(const localai_model *model,
                                                       const char *name,
                                                       const char **out_template) {
    if (model == NULL || out_template == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_chat_template: %s is NULL",
                        model == NULL ? "model" : "out_template");
    const char *want = name != NULL ? name : "";
    for (size_t i = 0; i < model->n_chat_templates; i++) {
        if (strcmp(model->chat_template_names[i], want) == 0) {
            *out_template = model->chat_templates[i];
            lai_clear_error();
            return LOCALAI_STATUS_OK;
        }
    }
    if (name == NULL)
        return lai_fail(LOCALAI_STATUS_NOT_FOUND, "the model has no chat template "
                        "(tokenizer.chat_template)");
    return lai_fail(LOCALAI_STATUS_NOT_FOUND, "the model has no chat template named '%s' "
                    "(tokenizer.chat_template.%s)", name, name);
}
