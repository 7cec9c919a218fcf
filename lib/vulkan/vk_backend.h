/* vk_backend.h - the Vulkan compute backend: a device of its own (or the host's), buffers, one command buffer per graph run. */
#ifndef LAI_VK_BACKEND_H
#define LAI_VK_BACKEND_H

#include "../compute/backend.h"
#include "vk_probe.h"

typedef struct lai_vk_backend_params {
    int32_t device_index; /* among lai_vk_probe()'s devices; -1 = the first (preferred) */
    const localai_vulkan_interop *host; /* the host's device instead (validated, complete) */
    const char *pipeline_cache;         /* a file for compiled pipelines, or NULL */
} lai_vk_backend_params;

/* Creates an instance and a logical device with one compute queue. Fails with BACKEND
 * (no loader, no device, a driver error) or UNSUPPORTED (a build without Vulkan), and a
 * message that says why; the caller then runs on the CPU. */
localai_status lai_vk_backend_new(const lai_vk_backend_params *p, lai_backend **out);

/* Whether the matmul and get_rows shaders read weights of this LAI_TYPE_*; all such
 * types (*types points at static storage; returns how many). */
int lai_vk_has_weight_kernel(uint32_t type);
int lai_vk_weight_types(const uint32_t **types);

/* The kernel tier a backend runs (LAI_VK_TIER_*, vk_ops.h): at creation the highest the
 * device's features allow (LOCALAI_VULKAN_TIER=N caps it, for tests); the self-test
 * lowers it when a tier disagrees with the CPU. Set it only while no context runs. */
int lai_vk_backend_tier(const lai_backend *be);
void lai_vk_backend_set_tier(lai_backend *be, int tier);

/* The device a Vulkan backend runs on. */
const lai_vk_device_desc *lai_vk_backend_device(const lai_backend *be);

#endif /* LAI_VK_BACKEND_H */
