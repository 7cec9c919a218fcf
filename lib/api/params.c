/* params.c - defaults of every public parameter struct and their init functions. */
#include "../base/base.h"

LOCALAI_API localai_status localai_model_params_init_sized(localai_model_params *params,
                                                           size_t struct_size) {
    localai_model_params d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.backend = LOCALAI_BACKEND_AUTO;
    d.device_index = -1;
    d.use_mmap = 1;
    d.log_level = LOCALAI_LOG_WARN;
    return lai_params_init(params, struct_size, &d, sizeof d, "localai_model_params");
}

LOCALAI_API localai_status localai_context_params_init_sized(localai_context_params *params,
                                                             size_t struct_size) {
    localai_context_params d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.n_ctx = 0;
    d.n_batch = 512;
    d.n_seq_max = 1;
    d.n_threads = 0;
    d.seed = 0xC0FFEE;
    d.kv_type = LOCALAI_KV_F16;
    d.log_level = LOCALAI_LOG_WARN;
    return lai_params_init(params, struct_size, &d, sizeof d, "localai_context_params");
}

LOCALAI_API localai_status localai_batch_init_sized(localai_batch *batch, size_t struct_size) {
    localai_batch d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    return lai_params_init(batch, struct_size, &d, sizeof d, "localai_batch");
}

LOCALAI_API localai_status localai_sampler_params_init_sized(localai_sampler_params *params,
                                                             size_t struct_size) {
    localai_sampler_params d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.temperature = 0.8f;
    d.top_k = 40;
    d.top_p = 0.95f;
    d.min_p = 0.05f;
    d.repeat_penalty = 1.0f;
    d.frequency_penalty = 0.0f;
    d.presence_penalty = 0.0f;
    d.penalty_last_n = 64;
    d.seed = 0xC0FFEE;
    return lai_params_init(params, struct_size, &d, sizeof d, "localai_sampler_params");
}

LOCALAI_API localai_status localai_generate_params_init_sized(localai_generate_params *params,
                                                              size_t struct_size) {
    localai_generate_params d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.max_tokens = 256;
    d.sampling = NULL;
    d.tokenize_flags = LOCALAI_TOKENIZE_ADD_SPECIAL;
    return lai_params_init(params, struct_size, &d, sizeof d, "localai_generate_params");
}
