/* test_unsupported.c - capabilities of later milestones report UNSUPPORTED with a message.
 * Each issue that implements one of these removes its line here and tests the real thing. */
#include "localai.h"
#include "test_util.h"

#define CHECK_UNSUPPORTED(expr, word)                                                   \
    do {                                                                                \
        CHECK_STATUS(expr, LOCALAI_STATUS_UNSUPPORTED);                                 \
        CHECK_MSG(strstr(localai_errmsg(), word) != NULL, "message '%s' lacks '%s'",   \
                  localai_errmsg(), word);                                              \
    } while (0)

int main(void) {
    /* The Vulkan backend (a later issue) cannot run models yet: asking for it is refused
     * with a message, and nothing is left open. */
    localai_model_params mp;
    localai_model_params_init(&mp);
    mp.backend = LOCALAI_BACKEND_VULKAN;
    localai_model *model = NULL;
    CHECK_UNSUPPORTED(localai_model_open(test_shared_path("models/stories260K.gguf"), &mp, &model),
                      "Vulkan");
    CHECK(model == NULL);
    /* The same file opens on the CPU, so the refusal is about the backend alone. */
    mp.backend = LOCALAI_BACKEND_CPU;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &mp, &model),
                 LOCALAI_STATUS_OK);
    localai_model_close(model);
    return test_finish("test_unsupported");
}
