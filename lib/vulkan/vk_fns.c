/* vk_fns.c - finds the Vulkan loader through volk and fills the per-instance and per-device function tables. */
#include "vk_fns.h"

#include "../base/platform.h"

#include <volk.h>

static PFN_vkGetInstanceProcAddr loader_gipa;
static const char *loader_why = "";
static lai_once loader_once = LAI_ONCE_INIT;

static void find_loader(void) {
    /* volk dlopens libvulkan.so.1; the library itself never links it, so a machine
     * without Vulkan still loads liblocalai */
    if (volkInitialize() != VK_SUCCESS) {
        loader_why = "no Vulkan loader (libvulkan.so.1) was found";
        return;
    }
    loader_gipa = vkGetInstanceProcAddr;
}

PFN_vkGetInstanceProcAddr lai_vk_loader(const char **why) {
    lai_call_once(&loader_once, find_loader);
    if (why != NULL) *why = loader_why;
    return loader_gipa;
}

int lai_vk_load_instance_fns(PFN_vkGetInstanceProcAddr gipa, VkInstance instance,
                             lai_vk_instance_fns *out, const char **missing) {
    memset(out, 0, sizeof *out);
#define LOAD(name)                                                        \
    out->name = (PFN_##name)(void (*)(void))gipa(instance, #name);        \
    if (out->name == NULL) {                                              \
        *missing = #name;                                                 \
        return 0;                                                         \
    }
    LAI_VK_INSTANCE_FNS(LOAD)
#undef LOAD
    return 1;
}

int lai_vk_load_device_fns(PFN_vkGetDeviceProcAddr gdpa, VkDevice device, lai_vk_device_fns *out,
                           const char **missing) {
    memset(out, 0, sizeof *out);
#define LOAD(name)                                                        \
    out->name = (PFN_##name)(void (*)(void))gdpa(device, #name);          \
    if (out->name == NULL) {                                              \
        *missing = #name;                                                 \
        return 0;                                                         \
    }
    LAI_VK_DEVICE_FNS(LOAD)
#undef LOAD
    return 1;
}

const char *lai_vk_result_name(VkResult r) {
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult error";
    }
}
