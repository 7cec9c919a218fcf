/* vk_fns.h - the Vulkan entry points liblocalai calls, held per instance and per device (no process-wide function pointers). */
#ifndef LAI_VK_FNS_H
#define LAI_VK_FNS_H

#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#include "../base/base.h"

/*
 * volk finds the loader (libvulkan) at run time; everything after that goes through
 * these tables, loaded from the instance's vkGetInstanceProcAddr: the loader's, or the
 * host's when the host hands us its own instance and device. Two models on two devices,
 * or our instance beside a host's, never share a pointer.
 */
#define LAI_VK_INSTANCE_FNS(X)                                                            \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties)   \
    X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures2)                     \
    X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkGetPhysicalDeviceMemoryProperties)    \
    X(vkEnumerateDeviceExtensionProperties) X(vkCreateDevice) X(vkGetDeviceProcAddr)

#define LAI_VK_DEVICE_FNS(X)                                                               \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkDeviceWaitIdle) X(vkQueueSubmit)            \
    X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements)                  \
    X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory) X(vkMapMemory)               \
    X(vkUnmapMemory) X(vkFlushMappedMemoryRanges) X(vkInvalidateMappedMemoryRanges)       \
    X(vkCreateShaderModule) X(vkDestroyShaderModule) X(vkCreateDescriptorSetLayout)       \
    X(vkDestroyDescriptorSetLayout) X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout)  \
    X(vkCreateComputePipelines) X(vkDestroyPipeline) X(vkCreateDescriptorPool)            \
    X(vkDestroyDescriptorPool) X(vkResetDescriptorPool) X(vkAllocateDescriptorSets)       \
    X(vkUpdateDescriptorSets) X(vkCreateCommandPool) X(vkDestroyCommandPool)              \
    X(vkAllocateCommandBuffers) X(vkResetCommandPool) X(vkBeginCommandBuffer)             \
    X(vkEndCommandBuffer) X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets)                 \
    X(vkCmdPushConstants) X(vkCmdDispatch) X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer)     \
    X(vkCreateFence) X(vkDestroyFence) X(vkResetFences) X(vkWaitForFences)                \
    X(vkCreatePipelineCache) X(vkDestroyPipelineCache) X(vkGetPipelineCacheData)

#define LAI_VK_DECLARE_FN(name) PFN_##name name;

typedef struct lai_vk_instance_fns {
    LAI_VK_INSTANCE_FNS(LAI_VK_DECLARE_FN)
} lai_vk_instance_fns;

typedef struct lai_vk_device_fns {
    LAI_VK_DEVICE_FNS(LAI_VK_DECLARE_FN)
} lai_vk_device_fns;

/* The loader's vkGetInstanceProcAddr (volk opens libvulkan once per process), or NULL
 * with *why set when there is no loader. */
PFN_vkGetInstanceProcAddr lai_vk_loader(const char **why);

/* Fills the instance table from gipa; 0 when an entry is missing (named in *missing). */
int lai_vk_load_instance_fns(PFN_vkGetInstanceProcAddr gipa, VkInstance instance,
                             lai_vk_instance_fns *out, const char **missing);
int lai_vk_load_device_fns(PFN_vkGetDeviceProcAddr gdpa, VkDevice device, lai_vk_device_fns *out,
                           const char **missing);

#define LAI_VK_MAX_PHYSICAL 16       /* physical devices looked at */
#define LAI_VK_MAX_QUEUE_FAMILIES 32

/* An instance made with `info` (liblocalai's application info, Vulkan 1.2, put in) and
 * its table in *fns. A loader without an entry we call gives
 * VK_ERROR_INITIALIZATION_FAILED with *missing naming it; nothing is left to destroy
 * on failure. */
VkResult lai_vk_create_instance(PFN_vkGetInstanceProcAddr gipa, const VkInstanceCreateInfo *info,
                                VkInstance *out, lai_vk_instance_fns *fns, const char **missing);
/* The instance's physical devices (at most LAI_VK_MAX_PHYSICAL), in the driver's order. */
uint32_t lai_vk_physical_devices(const lai_vk_instance_fns *fns, VkInstance instance,
                                 VkPhysicalDevice devs[LAI_VK_MAX_PHYSICAL]);
/* A physical device's queue families (at most LAI_VK_MAX_QUEUE_FAMILIES). */
uint32_t lai_vk_queue_families(const lai_vk_instance_fns *fns, VkPhysicalDevice pd,
                               VkQueueFamilyProperties qf[LAI_VK_MAX_QUEUE_FAMILIES]);

/* "VK_ERROR_OUT_OF_DEVICE_MEMORY" and so on, for messages. */
const char *lai_vk_result_name(VkResult r);

#endif /* LAI_VK_FNS_H */
