/* vk_probe.h - finds Vulkan compute devices through volk, without linking libvulkan. */
#ifndef LAI_VK_PROBE_H
#define LAI_VK_PROBE_H

#include "../base/base.h"

#define LAI_VK_MAX_DEVICES 16

typedef struct lai_vk_device_desc {
    char name[128];
    char driver[128];
    uint64_t memory_bytes;
    int is_software;
} lai_vk_device_desc;

/* Probes once per process. *out_devices points at static storage filled by the probe.
 * A missing loader or no device gives a count of 0 and a reason in *out_reason. */
void lai_vk_probe(const lai_vk_device_desc **out_devices, int32_t *out_count,
                  const char **out_reason);

#endif /* LAI_VK_PROBE_H */
