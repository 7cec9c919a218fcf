/* generate.c - localai_generate: prompt in, sampled tokens out through a callback. */
#include "../base/base.h"

LOCALAI_API localai_status localai_generate(localai_context *ctx, const char *prompt,
                                            const localai_generate_params *params,
                                            int32_t *out_n_generated) {
    (void)ctx; (void)prompt; (void)params; (void)out_n_generated;
    return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                    "localai_generate: running models is not implemented in this build yet");
}
