/* vk_probe.c - one-time enumeration of the Vulkan compute devices: properties, features, limits, preference order. */
#include "vk_probe.h"

#include "../base/platform.h"
#include "vk_fns.h"

#include <stdio.h>
#include <string.h>

static lai_vk_device_desc found[LAI_VK_MAX_DEVICES];
static int32_t found_count;
static char reason[512];
static lai_once probe_once = LAI_ONCE_INIT;

static int has_extension(const VkExtensionProperties *ext, uint32_t n, const char *name) {
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(ext[i].extensionName, name) == 0) return 1;
    return 0;
}

int lai_vk_describe(const void *fns, void *physical_device, lai_vk_device_desc *out,
                    const char **why) {
    const lai_vk_instance_fns *fn = fns;
    VkPhysicalDevice pd = physical_device;
    memset(out, 0, sizeof *out);
    VkPhysicalDeviceProperties props;
    fn->vkGetPhysicalDeviceProperties(pd, &props);
    snprintf(out->name, sizeof out->name, "%s", props.deviceName);
    if (props.apiVersion < VK_API_VERSION_1_2) {
        *why = "below Vulkan 1.2";
        return 0;
    }
    VkQueueFamilyProperties qf[LAI_VK_MAX_QUEUE_FAMILIES];
    const uint32_t nq = lai_vk_queue_families(fn, pd, qf);
    int compute = 0;
    for (uint32_t i = 0; i < nq; i++) compute |= (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) != 0;
    if (!compute) {
        *why = "no compute queue";
        return 0;
    }

    /* extensions beyond 1.2 that a kernel tier may use */
    uint32_t next = 0;
    fn->vkEnumerateDeviceExtensionProperties(pd, NULL, &next, NULL);
    VkExtensionProperties *ext = next ? lai_calloc(next, sizeof *ext) : NULL;
    if (ext != NULL && fn->vkEnumerateDeviceExtensionProperties(pd, NULL, &next, ext) != VK_SUCCESS) next = 0;
    if (ext == NULL) next = 0;
    const int has_dot = props.apiVersion >= VK_API_VERSION_1_3 ||
                        has_extension(ext, next, "VK_KHR_shader_integer_dot_product");
    const int has_coopmat = has_extension(ext, next, "VK_KHR_cooperative_matrix");
    lai_free(ext);

    VkPhysicalDeviceShaderIntegerDotProductFeatures dotf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = has_dot ? &dotf : NULL};
    VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                            .pNext = &f12};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
    fn->vkGetPhysicalDeviceFeatures2(pd, &f2);

    VkPhysicalDeviceVulkan12Properties p12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES};
    VkPhysicalDeviceVulkan11Properties p11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES,
                                              .pNext = &p12};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &p11};
    fn->vkGetPhysicalDeviceProperties2(pd, &p2);

    out->api_version = props.apiVersion;
    out->vendor_id = props.vendorID;
    out->device_id = props.deviceID;
    out->type = (int32_t)props.deviceType;
    out->is_software = props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    out->is_discrete = props.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
    memcpy(out->uuid, p11.deviceUUID, sizeof out->uuid);
    memcpy(out->cache_uuid, props.pipelineCacheUUID, sizeof out->cache_uuid);
    snprintf(out->driver, sizeof out->driver, "Vulkan %u.%u, %s %s",
             VK_API_VERSION_MAJOR(props.apiVersion), VK_API_VERSION_MINOR(props.apiVersion),
             p12.driverName, p12.driverInfo);

    lai_vk_features *f = &out->feat;
    f->storage16 = f11.storageBuffer16BitAccess != 0;
    f->storage8 = f12.storageBuffer8BitAccess != 0;
    f->float16 = f12.shaderFloat16 != 0;
    f->int8 = f12.shaderInt8 != 0;
    const VkSubgroupFeatureFlags need = VK_SUBGROUP_FEATURE_BASIC_BIT |
                                        VK_SUBGROUP_FEATURE_ARITHMETIC_BIT |
                                        VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
    f->subgroup = (p11.subgroupSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0 &&
                  (p11.subgroupSupportedOperations & need) == need;
    f->subgroup_size = p11.subgroupSize;
    f->integer_dot = has_dot && dotf.shaderIntegerDotProduct != 0;
    f->coopmat = has_coopmat;

    lai_vk_limits *l = &out->lim;
    l->max_storage_range = props.limits.maxStorageBufferRange;
    l->max_allocation = p11.maxMemoryAllocationSize;
    l->max_allocations = props.limits.maxMemoryAllocationCount;
    l->storage_align = (uint32_t)props.limits.minStorageBufferOffsetAlignment;
    l->max_push_constants = props.limits.maxPushConstantsSize;
    l->max_workgroup_invocations = props.limits.maxComputeWorkGroupInvocations;
    l->max_shared_memory = props.limits.maxComputeSharedMemorySize;
    l->max_workgroups_x = props.limits.maxComputeWorkGroupCount[0];

    VkPhysicalDeviceMemoryProperties mem;
    fn->vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    for (uint32_t h = 0; h < mem.memoryHeapCount; h++)
        if (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            out->memory_bytes += mem.memoryHeaps[h].size;
    return 1;
}

void lai_vk_features_describe(const lai_vk_features *f, char *buf, size_t size) {
    snprintf(buf, size, "%s%s%s%s", f->float16 ? "fp16 " : "", f->int8 ? "int8 " : "",
             f->storage16 ? "16-bit-storage " : "", f->storage8 ? "8-bit-storage " : "");
    size_t n = strlen(buf);
    if (f->subgroup && n < size) snprintf(buf + n, size - n, "subgroup(%u) ", f->subgroup_size);
    n = strlen(buf);
    if (n < size) snprintf(buf + n, size - n, "%s%s", f->integer_dot ? "int-dot " : "", f->coopmat ? "coopmat " : "");
    n = strlen(buf);
    if (n > 0 && buf[n - 1] == ' ') buf[n - 1] = '\0';
}

/* discrete, integrated, virtual, other, CPU */
static int preference(int32_t type) {
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 4;
    default: return 3;
    }
}

static void note(const char *fmt, const char *a, const char *b) {
    size_t n = strlen(reason);
    if (n + 2 < sizeof reason) snprintf(reason + n, sizeof reason - n, fmt, a, b);
}

static void probe(void) {
    const char *why = NULL;
    PFN_vkGetInstanceProcAddr gipa = lai_vk_loader(&why);
    if (gipa == NULL) {
        snprintf(reason, sizeof reason, "%s", why);
        return;
    }
    const VkInstanceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    VkInstance instance = VK_NULL_HANDLE;
    lai_vk_instance_fns fn;
    const char *missing = NULL;
    VkResult rc = lai_vk_create_instance(gipa, &info, &instance, &fn, &missing);
    if (rc != VK_SUCCESS) {
        if (missing != NULL)
            snprintf(reason, sizeof reason, "the Vulkan loader has no %s", missing);
        else
            snprintf(reason, sizeof reason, "vkCreateInstance failed (%s): no usable Vulkan driver",
                     lai_vk_result_name(rc));
        return;
    }
    VkPhysicalDevice devs[LAI_VK_MAX_PHYSICAL];
    const uint32_t n = lai_vk_physical_devices(&fn, instance, devs);
    for (uint32_t i = 0; i < n; i++) {
        lai_vk_device_desc d;
        if (!lai_vk_describe(&fn, devs[i], &d, &why)) {
            note("%s%s left out", reason[0] ? "; " : "", d.name);
            note(" (%s)%s", why, "");
            continue;
        }
        d.enum_index = i;
        /* insertion keeps the driver's order within a preference group */
        int32_t at = found_count;
        while (at > 0 && preference(found[at - 1].type) > preference(d.type)) {
            found[at] = found[at - 1];
            at--;
        }
        found[at] = d;
        found_count++;
    }
    if (found_count == 0 && reason[0] == '\0')
        snprintf(reason, sizeof reason, "no Vulkan device (no driver for this machine's GPU)");
    else if (found_count == 0) {
        char tmp[sizeof reason];
        snprintf(tmp, sizeof tmp, "no usable Vulkan device: %s", reason);
        memcpy(reason, tmp, sizeof reason);
    }
    fn.vkDestroyInstance(instance, NULL);
}

void lai_vk_probe(const lai_vk_device_desc **out_devices, int32_t *out_count,
                  const char **out_reason) {
    lai_call_once(&probe_once, probe);
    *out_devices = found;
    *out_count = found_count;
    *out_reason = reason;
}
