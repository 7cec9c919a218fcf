/* vk_backend_none.c - the Vulkan backend of a build without Vulkan support: never available. */
#include "vk_backend.h"
#include "vk_ops.h"
#include "vk_selftest.h"

localai_status lai_vk_backend_new(const lai_vk_backend_params *p, lai_backend **out) {
    (void)p;
    *out = NULL;
    return lai_fail(LOCALAI_STATUS_UNSUPPORTED, "vulkan: this build has no Vulkan support");
}

const lai_vk_device_desc *lai_vk_backend_device(const lai_backend *be) {
    (void)be;
    return NULL;
}

int lai_vk_has_weight_kernel(uint32_t type) {
    (void)type;
    return 0;
}

localai_status lai_vk_self_test(lai_backend *vk, const uint32_t *types, int n_types, char *report, size_t size,
                                int *passed) {
    (void)vk;
    (void)types;
    (void)n_types;
    if (report != NULL && size > 0) report[0] = '\0';
    *passed = 0;
    return lai_fail(LOCALAI_STATUS_UNSUPPORTED, "vulkan: this build has no Vulkan support");
}

int lai_vk_backend_tier(const lai_backend *be) {
    (void)be;
    return 0;
}

void lai_vk_backend_set_tier(lai_backend *be, int tier) {
    (void)be;
    (void)tier;
}

const char *lai_vk_tier_name(int tier) {
    (void)tier;
    return "none";
}

int lai_vk_weight_types(const uint32_t **types) {
    *types = NULL;
    return 0;
}
