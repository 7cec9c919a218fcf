/* vk_probe_none.c - the Vulkan probe of a build without Vulkan support. */
#include "vk_probe.h"

#include <stdio.h>

void lai_vk_probe(const lai_vk_device_desc **out_devices, int32_t *out_count,
                  const char **out_reason) {
    *out_devices = NULL;
    *out_count = 0;
    *out_reason = "this build has no Vulkan support";
}

void lai_vk_features_describe(const lai_vk_features *f, char *buf, size_t size) {
    (void)f;
    if (size > 0) buf[0] = '\0';
}
