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

/* table->name = getter(handle, "name") for each entry; 0 at the first one missing */
#define LOAD_INTO(table, getter, handle, name)                       \
    (table)->name = (PFN_##name)(void (*)(void))getter(handle, #name); \
    if ((table)->name == NULL) {                                     \
        *missing = #name;                                            \
        return 0;                                                    \
    }

int lai_vk_load_instance_fns(PFN_vkGetInstanceProcAddr gipa, VkInstance instance,
                             lai_vk_instance_fns *out, const char **missing) {
    memset(out, 0, sizeof *out);
#define LOAD(name) LOAD_INTO(out, gipa, instance, name)
    LAI_VK_INSTANCE_FNS(LOAD)
#undef LOAD
    return 1;
}

int lai_vk_load_device_fns(PFN_vkGetDeviceProcAddr gdpa, VkDevice device, lai_vk_device_fns *out,
                           const char **missing) {
    memset(out, 0, sizeof *out);
#define LOAD(name) LOAD_INTO(out, gdpa, device, name)
    LAI_VK_DEVICE_FNS(LOAD)
#undef LOAD
    return 1;
}

VkResult lai_vk_create_instance(PFN_vkGetInstanceProcAddr gipa, const VkInstanceCreateInfo *info,
                                VkInstance *out, lai_vk_instance_fns *fns, const char **missing) {
    *out = VK_NULL_HANDLE;
    PFN_vkCreateInstance create = (PFN_vkCreateInstance)(void (*)(void))gipa(NULL, "vkCreateInstance");
    if (create == NULL) {
        *missing = "vkCreateInstance";
        return VK_ERROR_INITIALIZATION_FAILED;
    }
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "liblocalai",
                             .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ii = *info;
    ii.pApplicationInfo = &app;
    VkInstance inst = VK_NULL_HANDLE;
    VkResult r = create(&ii, NULL, &inst);
    if (r != VK_SUCCESS) return r;
    if (!lai_vk_load_instance_fns(gipa, inst, fns, missing)) {
        PFN_vkDestroyInstance destroy = (PFN_vkDestroyInstance)(void (*)(void))gipa(inst, "vkDestroyInstance");
        if (destroy != NULL) destroy(inst, NULL);
        return VK_ERROR_INITIALIZATION_FAILED;
    }
    *out = inst;
    return VK_SUCCESS;
}

uint32_t lai_vk_physical_devices(const lai_vk_instance_fns *fns, VkInstance instance,
                                 VkPhysicalDevice devs[LAI_VK_MAX_PHYSICAL]) {
    uint32_t n = 0;
    fns->vkEnumeratePhysicalDevices(instance, &n, NULL);
    if (n > LAI_VK_MAX_PHYSICAL) n = LAI_VK_MAX_PHYSICAL;
    if (n > 0 && fns->vkEnumeratePhysicalDevices(instance, &n, devs) < 0) n = 0;
    return n;
}

uint32_t lai_vk_queue_families(const lai_vk_instance_fns *fns, VkPhysicalDevice pd,
                               VkQueueFamilyProperties qf[LAI_VK_MAX_QUEUE_FAMILIES]) {
    uint32_t n = 0;
    fns->vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    if (n > LAI_VK_MAX_QUEUE_FAMILIES) n = LAI_VK_MAX_QUEUE_FAMILIES;
    fns->vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, qf);
    return n;
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
