/* header_c99.c - localai.h must compile as strict C99 (-std=c99 -pedantic -Werror). */
#include "localai.h"

#include <stdio.h>

int main(void) {
    localai_model_params mp;
    localai_context_params cp;
    localai_sampler_params sp;
    localai_generate_params gp;
    localai_batch b;
    if (localai_model_params_init(&mp) || localai_context_params_init(&cp) ||
        localai_sampler_params_init(&sp) || localai_generate_params_init(&gp) ||
        localai_batch_init(&b))
        return 1;
    if (mp.struct_size != sizeof mp || cp.struct_size != sizeof cp) return 1;
    printf("C99 translation unit: liblocalai %s\n", localai_version());
    return localai_abi_check(LOCALAI_ABI_VERSION, LOCALAI_VERSION_NUMBER) == LOCALAI_STATUS_OK ? 0 : 1;
}
