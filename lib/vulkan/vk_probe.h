/* vk_probe.h - finds the Vulkan compute devices (through volk, without linking libvulkan), their features and limits, in the order liblocalai prefers them. */
#ifndef LAI_VK_PROBE_H
#define LAI_VK_PROBE_H

#include "../base/base.h"

#define LAI_VK_MAX_DEVICES 16

/* Optional capabilities; each kernel family has a path without them. */
typedef struct lai_vk_features {
    int32_t storage16;     /* 16-bit loads/stores in storage buffers */
    int32_t storage8;      /* 8-bit loads/stores in storage buffers */
    int32_t float16;       /* fp16 arithmetic in shaders */
    int32_t int8;          /* int8 arithmetic in shaders */
    int32_t subgroup;      /* subgroup basic + arithmetic + shuffle in compute shaders */
    uint32_t subgroup_size;
    int32_t integer_dot;   /* VK_KHR_shader_integer_dot_product (core in 1.3) */
    int32_t coopmat;       /* VK_KHR_cooperative_matrix */
} lai_vk_features;

typedef struct lai_vk_limits {
    uint64_t max_storage_range;    /* maxStorageBufferRange */
    uint64_t max_allocation;       /* maxMemoryAllocationSize */
    uint32_t max_allocations;      /* maxMemoryAllocationCount */
    uint32_t storage_align;        /* minStorageBufferOffsetAlignment */
    uint32_t max_push_constants;   /* bytes */
    uint32_t max_workgroup_invocations;
    uint32_t max_shared_memory;    /* bytes of workgroup memory */
    uint32_t max_workgroups_x;     /* maxComputeWorkGroupCount[0] */
} lai_vk_limits;

typedef struct lai_vk_device_desc {
    char name[128];
    char driver[128];         /* "Vulkan 1.3, Mesa 22.3.6 (llvmpipe)" */
    uint8_t uuid[16];         /* VkPhysicalDeviceIDProperties.deviceUUID */
    uint8_t cache_uuid[16];   /* VkPhysicalDeviceProperties.pipelineCacheUUID */
    uint32_t api_version;
    uint32_t vendor_id, device_id;
    int32_t type;             /* VkPhysicalDeviceType */
    int32_t is_software;      /* a CPU implementation (llvmpipe, SwiftShader) */
    int32_t is_discrete;      /* a discrete GPU (its own memory) */
    uint32_t enum_index;      /* its index in vkEnumeratePhysicalDevices */
    uint64_t memory_bytes;    /* device-local heaps */
    lai_vk_features feat;
    lai_vk_limits lim;
} lai_vk_device_desc;

/* Probes once per process (the first caller pays). *out_devices points at static storage,
 * ordered discrete GPUs first, then integrated, virtual, other, CPU implementations (each
 * group in the driver's order). No loader or no usable device gives a count of 0 and
 * the reason in *out_reason; devices left out (below Vulkan 1.2, no compute queue) are
 * named there too. */
void lai_vk_probe(const lai_vk_device_desc **out_devices, int32_t *out_count,
                  const char **out_reason);

/* Fills *out from a physical device of an instance whose table is `fns` (a const
 * lai_vk_instance_fns *, untyped so that this header stays free of Vulkan's). Returns 0
 * with *why set when the device cannot serve (below 1.2, no compute queue). */
int lai_vk_describe(const void *fns, void *physical_device, lai_vk_device_desc *out,
                    const char **why);

/* "fp16 int8 16-bit 8-bit subgroup(32) dot coopmat", the features present. */
void lai_vk_features_describe(const lai_vk_features *f, char *buf, size_t size);

#endif /* LAI_VK_PROBE_H */
