/* vk_probe.c - one-time enumeration of Vulkan devices that have a compute queue. */
#include "vk_probe.h"

#include "../base/platform.h"

#include <stdio.h>
#include <volk.h>

static lai_vk_device_desc found[LAI_VK_MAX_DEVICES];
static int32_t found_count;
static char reason[160];
static lai_once probe_once = LAI_ONCE_INIT;

static int has_compute_queue(VkPhysicalDevice dev) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(dev, &n, NULL);
    VkQueueFamilyProperties props[32];
    if (n > 32) n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(dev, &n, props);
    for (uint32_t i = 0; i < n; i++)
        if (props[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return 1;
    return 0;
}

static void probe(void) {
    if (volkInitialize() != VK_SUCCESS) {
        snprintf(reason, sizeof reason, "no Vulkan loader (libvulkan.so.1) found");
        return;
    }
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "liblocalai",
                             .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                 .pApplicationInfo = &app};
    VkInstance instance = VK_NULL_HANDLE;
    VkResult rc = vkCreateInstance(&info, NULL, &instance);
    if (rc != VK_SUCCESS) {
        snprintf(reason, sizeof reason, "vkCreateInstance failed (VkResult %d)", (int)rc);
        return;
    }
    volkLoadInstanceOnly(instance);
    uint32_t n = 0;
    vkEnumeratePhysicalDevices(instance, &n, NULL);
    VkPhysicalDevice devs[LAI_VK_MAX_DEVICES];
    if (n > LAI_VK_MAX_DEVICES) n = LAI_VK_MAX_DEVICES;
    if (n > 0) vkEnumeratePhysicalDevices(instance, &n, devs);
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties props;
        vkGetPhysicalDeviceProperties(devs[i], &props);
        if (props.apiVersion < VK_API_VERSION_1_1 || !has_compute_queue(devs[i])) continue;
        lai_vk_device_desc *d = &found[found_count++];
        snprintf(d->name, sizeof d->name, "%s", props.deviceName);
        snprintf(d->driver, sizeof d->driver, "Vulkan %u.%u, driver 0x%x",
                 VK_API_VERSION_MAJOR(props.apiVersion), VK_API_VERSION_MINOR(props.apiVersion),
                 props.driverVersion);
        d->is_software = props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
        VkPhysicalDeviceMemoryProperties mem;
        vkGetPhysicalDeviceMemoryProperties(devs[i], &mem);
        for (uint32_t h = 0; h < mem.memoryHeapCount; h++)
            if (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
                d->memory_bytes += mem.memoryHeaps[h].size;
    }
    if (found_count == 0) snprintf(reason, sizeof reason, "no Vulkan device with a compute queue");
    vkDestroyInstance(instance, NULL);
}

void lai_vk_probe(const lai_vk_device_desc **out_devices, int32_t *out_count,
                  const char **out_reason) {
    lai_call_once(&probe_once, probe);
    *out_devices = found;
    *out_count = found_count;
    *out_reason = reason;
}
