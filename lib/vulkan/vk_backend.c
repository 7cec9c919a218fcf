/* vk_backend.c - the Vulkan backend's device: its own instance and device or the host's, the backend's tier and test hooks, its teardown. */
#include <stdio.h>
#include <stdlib.h>

#include "vk_internal.h"

localai_status lai_vk_fail(VkResult r, const char *what) {
    return lai_fail(r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY
                        ? LOCALAI_STATUS_OUT_OF_MEMORY
                        : LOCALAI_STATUS_BACKEND,
                    "vulkan: %s failed (%s)", what, lai_vk_result_name(r));
}

static void vk_destroy(lai_backend *b) {
    vk_backend *be = (vk_backend *)b;
    if (be == NULL) return;
    if (be->dev != VK_NULL_HANDLE) {
        /* our work is over once its fences signalled (every submit is waited for); a
         * host's device may be busy with the host's own work, never waited for here */
        if (be->owns_device) be->fn.vkDeviceWaitIdle(be->dev);
        lai_vk_buf_drop(be, &be->staging);
        lai_vk_buf_drop(be, &be->dummy);
        for (int i = 0; i < LAI_VK_K_COUNT; i++)
            if (be->pipes[i] != VK_NULL_HANDLE) be->fn.vkDestroyPipeline(be->dev, be->pipes[i], NULL);
        if (be->cache != VK_NULL_HANDLE) {
            if (be->cache_path != NULL && be->cache_dirty) lai_vk_cache_save(be);
            be->fn.vkDestroyPipelineCache(be->dev, be->cache, NULL);
        }
        if (be->xfence != VK_NULL_HANDLE) be->fn.vkDestroyFence(be->dev, be->xfence, NULL);
        if (be->xpool != VK_NULL_HANDLE) be->fn.vkDestroyCommandPool(be->dev, be->xpool, NULL);
        if (be->layout != VK_NULL_HANDLE) be->fn.vkDestroyPipelineLayout(be->dev, be->layout, NULL);
        if (be->dsl != VK_NULL_HANDLE) be->fn.vkDestroyDescriptorSetLayout(be->dev, be->dsl, NULL);
        if (be->owns_device) be->fn.vkDestroyDevice(be->dev, NULL);
    }
    if (be->messenger != VK_NULL_HANDLE) {
        PFN_vkDestroyDebugUtilsMessengerEXT drop = (PFN_vkDestroyDebugUtilsMessengerEXT)(void (*)(void))lai_vk_loader(NULL)(
            be->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (drop != NULL) drop(be->instance, be->messenger, NULL);
    }
    if (be->owns_device && be->instance != VK_NULL_HANDLE && be->ifn.vkDestroyInstance != NULL)
        be->ifn.vkDestroyInstance(be->instance, NULL);
    if (be->mu != NULL) lai_mutex_free(be->mu);
    lai_free(be->cache_path);
    lai_free(be);
}

static const lai_backend_vtable vk_vtable = {
    "vulkan",
    lai_vk_buffer_alloc,
    lai_vk_buffer_from_host,
    lai_vk_buffer_free,
    lai_vk_tensor_write,
    lai_vk_tensor_read,
    lai_vk_exec_new,
    lai_vk_exec_free,
    lai_vk_compute,
    vk_destroy,
};

static localai_status setup_objects(vk_backend *be, uint32_t queue_index);
static localai_status finish_backend(vk_backend *be, const char *cache_path, lai_backend **out);

/* LOCALAI_VULKAN_VALIDATION=1 (a developer's and CI's aid) loads the Khronos validation
 * layer: every message it sends is printed, counted, and fails the next run, so a test
 * that decodes through the public API fails on the first one. */
static VkBool32 VKAPI_PTR on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                        VkDebugUtilsMessageTypeFlagsEXT types,
                                        const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)types;
    vk_backend *be = user;
    atomic_fetch_add(&be->validation_messages, 1u);
    fprintf(stderr, "liblocalai vulkan validation (%s): %s\n",
            severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning",
            data != NULL && data->pMessage != NULL ? data->pMessage : "?");
    return VK_FALSE;
}

static int validation_wanted(void) {
    const char *v = getenv("LOCALAI_VULKAN_VALIDATION");
    return v != NULL && strcmp(v, "1") == 0;
}

/* The instance, the physical device that matches the probed one, a device with one
 * compute queue, and the objects every run shares. */
static localai_status open_device(vk_backend *be, const lai_vk_device_desc *want) {
    const char *why = NULL;
    PFN_vkGetInstanceProcAddr gipa = lai_vk_loader(&why);
    if (gipa == NULL) return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: %s", why);
    VkInstanceCreateInfo ii = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    const int validate = validation_wanted();
    const char *layer = "VK_LAYER_KHRONOS_validation", *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkDebugUtilsMessengerCreateInfoEXT dm = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation,
        .pUserData = be};
    if (validate) {
        ii.enabledLayerCount = 1;
        ii.ppEnabledLayerNames = &layer;
        ii.enabledExtensionCount = 1;
        ii.ppEnabledExtensionNames = &ext;
        ii.pNext = &dm; /* also covers vkCreateInstance and vkDestroyInstance */
    }
    const char *missing = NULL;
    VkResult r = lai_vk_create_instance(gipa, &ii, &be->instance, &be->ifn, &missing);
    if (r != VK_SUCCESS && missing != NULL)
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the loader has no %s", missing);
    if (r != VK_SUCCESS)
        return validate ? lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: LOCALAI_VULKAN_VALIDATION=1 but vkCreateInstance "
                                   "failed (%s): is the validation layer (vulkan-validationlayers) installed?",
                                   lai_vk_result_name(r))
                        : lai_vk_fail(r, "vkCreateInstance");
    if (validate) {
        PFN_vkCreateDebugUtilsMessengerEXT make =
            (PFN_vkCreateDebugUtilsMessengerEXT)(void (*)(void))gipa(be->instance, "vkCreateDebugUtilsMessengerEXT");
        if (make == NULL || make(be->instance, &dm, NULL, &be->messenger) != VK_SUCCESS)
            return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: cannot attach to the validation layer");
    }
    VkPhysicalDevice devs[LAI_VK_MAX_PHYSICAL];
    const uint32_t n = lai_vk_physical_devices(&be->ifn, be->instance, devs);
    for (uint32_t i = 0; i < n && be->pd == VK_NULL_HANDLE; i++) {
        lai_vk_device_desc d;
        if (lai_vk_describe(&be->ifn, devs[i], &d, &why) && memcmp(d.uuid, want->uuid, sizeof d.uuid) == 0 &&
            strcmp(d.name, want->name) == 0) {
            be->pd = devs[i];
            d.enum_index = i;
            be->desc = d;
        }
    }
    if (be->pd == VK_NULL_HANDLE)
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the device '%s' is gone", want->name);
    VkQueueFamilyProperties qf[LAI_VK_MAX_QUEUE_FAMILIES];
    const uint32_t nq = lai_vk_queue_families(&be->ifn, be->pd, qf);
    /* a compute queue, one without graphics if the device has it (less contention) */
    int fam = -1;
    for (uint32_t i = 0; i < nq; i++)
        if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && (fam < 0 || !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)))
            if (fam < 0 || (qf[fam].queueFlags & VK_QUEUE_GRAPHICS_BIT)) fam = (int)i;
    if (fam < 0) return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: '%s' has no compute queue", be->desc.name);
    be->qfamily = (uint32_t)fam;
    const float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                  .queueFamilyIndex = be->qfamily,
                                  .queueCount = 1,
                                  .pQueuePriorities = &prio};
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1, .pQueueCreateInfos = &qi};
    r = be->ifn.vkCreateDevice(be->pd, &di, NULL, &be->dev);
    if (r != VK_SUCCESS) return lai_vk_fail(r, "vkCreateDevice");
    if (!lai_vk_load_device_fns(be->ifn.vkGetDeviceProcAddr, be->dev, &be->fn, &missing)) {
        PFN_vkDestroyDevice destroy = (PFN_vkDestroyDevice)(void (*)(void))be->ifn.vkGetDeviceProcAddr(be->dev, "vkDestroyDevice");
        if (destroy != NULL) destroy(be->dev, NULL);
        be->dev = VK_NULL_HANDLE;
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the driver has no %s", missing);
    }
    return setup_objects(be, 0);
}

/* The queue and the objects every run shares, on an opened device. */
static localai_status setup_objects(vk_backend *be, uint32_t queue_index) {
    be->fn.vkGetDeviceQueue(be->dev, be->qfamily, queue_index, &be->queue);
    be->ifn.vkGetPhysicalDeviceMemoryProperties(be->pd, &be->mem);
    VkResult r;

    VkDescriptorSetLayoutBinding binds[N_BINDINGS];
    for (uint32_t i = 0; i < N_BINDINGS; i++)
        binds[i] = (VkDescriptorSetLayoutBinding){.binding = i,
                                                  .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                  .descriptorCount = 1,
                                                  .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                          .bindingCount = N_BINDINGS,
                                          .pBindings = binds};
    r = be->fn.vkCreateDescriptorSetLayout(be->dev, &li, NULL, &be->dsl);
    VkPushConstantRange range = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = sizeof(lai_vk_push)};
    VkPipelineLayoutCreateInfo pli = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                      .setLayoutCount = 1,
                                      .pSetLayouts = &be->dsl,
                                      .pushConstantRangeCount = 1,
                                      .pPushConstantRanges = &range};
    if (r == VK_SUCCESS) r = be->fn.vkCreatePipelineLayout(be->dev, &pli, NULL, &be->layout);
    if (r == VK_SUCCESS) r = lai_vk_make_submitter(be, &be->xpool, &be->xcb, &be->xfence);
    if (r != VK_SUCCESS) return lai_vk_fail(r, "setting up the device");
    return lai_vk_buf_make(be, 16, 0, &be->dummy);
}

/* The host's instance and device: function tables from its vkGetInstanceProcAddr, the
 * physical device described as a probed one, its queue; nothing created but our objects. */
static localai_status adopt_device(vk_backend *be, const localai_vulkan_interop *h) {
    be->host = *h;
    be->instance = (VkInstance)h->instance;
    be->pd = (VkPhysicalDevice)h->physical_device;
    be->dev = VK_NULL_HANDLE; /* set once the tables are in */
    PFN_vkGetInstanceProcAddr gipa = (PFN_vkGetInstanceProcAddr)(void (*)(void))h->get_instance_proc_addr;
    const char *missing = "", *why = "";
    if (!lai_vk_load_instance_fns(gipa, be->instance, &be->ifn, &missing))
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the host's instance has no %s", missing);
    if (!lai_vk_describe(&be->ifn, be->pd, &be->desc, &why))
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the host's device '%s' cannot be used: %s", be->desc.name, why);
    VkQueueFamilyProperties qf[LAI_VK_MAX_QUEUE_FAMILIES];
    const uint32_t nq = lai_vk_queue_families(&be->ifn, be->pd, qf);
    if (h->queue_family >= nq || !(qf[h->queue_family].queueFlags & VK_QUEUE_COMPUTE_BIT) ||
        h->queue_index >= qf[h->queue_family].queueCount)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_vulkan_interop: queue family %u, index %u is not a compute queue of '%s'",
                        h->queue_family, h->queue_index, be->desc.name);
    if (!lai_vk_load_device_fns(be->ifn.vkGetDeviceProcAddr, (VkDevice)h->device, &be->fn, &missing))
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the host's device has no %s", missing);
    be->dev = (VkDevice)h->device;
    be->qfamily = h->queue_family;
    return setup_objects(be, h->queue_index);
}

localai_status lai_vk_backend_new(const lai_vk_backend_params *p, lai_backend **out) {
    *out = NULL;
    if (p != NULL && p->host != NULL) {
        vk_backend *be = lai_calloc(1, sizeof *be);
        if (be == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vulkan: no memory");
        be->base.vt = &vk_vtable;
        localai_status st = lai_mutex_new(&be->mu);
        if (st == LOCALAI_STATUS_OK) st = adopt_device(be, p->host);
        if (st != LOCALAI_STATUS_OK) {
            vk_destroy(&be->base);
            return st;
        }
        return finish_backend(be, p->pipeline_cache, out);
    }
    const lai_vk_device_desc *devs;
    int32_t n;
    const char *why;
    lai_vk_probe(&devs, &n, &why);
    if (n == 0) return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: %s", why);
    const int32_t index = p != NULL && p->device_index >= 0 ? p->device_index : 0;
    if (index >= n)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "vulkan: no device %d (there are %d)", (int)index, (int)n);
    if (devs[index].lim.max_push_constants < sizeof(lai_vk_push))
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: '%s' holds %u bytes of push constants, below Vulkan's minimum",
                        devs[index].name, devs[index].lim.max_push_constants);
    vk_backend *be = lai_calloc(1, sizeof *be);
    if (be == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vulkan: no memory");
    be->base.vt = &vk_vtable;
    be->owns_device = 1;
    localai_status st = lai_mutex_new(&be->mu);
    if (st == LOCALAI_STATUS_OK) st = open_device(be, &devs[index]);
    if (st != LOCALAI_STATUS_OK) {
        vk_destroy(&be->base);
        return st;
    }
    return finish_backend(be, p != NULL ? p->pipeline_cache : NULL, out);
}

/* The pipeline cache, limits, test hooks; the backend is ready. */
static localai_status finish_backend(vk_backend *be, const char *cache_path, lai_backend **out) {
    localai_status st = lai_vk_cache_open(be, cache_path);
    if (st != LOCALAI_STATUS_OK) {
        vk_destroy(&be->base);
        return st;
    }
    /* offsets reach the shaders as push constants, so any alignment works; 256 keeps every
     * tensor on a cache line and a minStorageBufferOffsetAlignment */
    be->base.alignment = LAI_MAX((size_t)256, (size_t)be->desc.lim.storage_align);
    size_t max = VK_MAX_BUFFER;
    if (be->desc.lim.max_allocation > 0 && be->desc.lim.max_allocation < max) max = (size_t)be->desc.lim.max_allocation;
    if (be->desc.lim.max_storage_range < max) max = (size_t)be->desc.lim.max_storage_range;
    /* LOCALAI_VULKAN_MAX_BUFFER=BYTES lowers it further: the tests split a small model's
     * weights over many buffers as a large model's are */
    const char *cap = getenv("LOCALAI_VULKAN_MAX_BUFFER");
    if (cap != NULL && strtoull(cap, NULL, 10) >= 4096 && strtoull(cap, NULL, 10) < max) max = (size_t)strtoull(cap, NULL, 10);
    be->base.max_buffer = max;
    be->tier = be->desc.feat.subgroup ? LAI_VK_TIER_SUBGROUP : LAI_VK_TIER_PORTABLE;
    const char *tier = getenv("LOCALAI_VULKAN_TIER");
    if (tier != NULL && tier[0] >= '0' && tier[0] < '0' + be->tier && tier[1] == '\0') be->tier = tier[0] - '0';
    be->broken = -1;
    const char *broken = getenv("LOCALAI_VULKAN_BREAK");
    for (int k = 0; broken != NULL && k < LAI_VK_K_COUNT; k++) {
        char name[48];
        if (lai_vk_kernel_name(k, name, sizeof name) != NULL && strcmp(name, broken) == 0) be->broken = k;
    }
    *out = &be->base;
    return LOCALAI_STATUS_OK;
}

int lai_vk_backend_tier(const lai_backend *be) {
    return be != NULL && be->vt == &vk_vtable ? ((const vk_backend *)be)->tier : 0;
}

void lai_vk_backend_set_tier(lai_backend *be, int tier) {
    if (be != NULL && be->vt == &vk_vtable && tier >= 0 && tier < LAI_VK_TIER_COUNT) ((vk_backend *)be)->tier = tier;
}

const lai_vk_device_desc *lai_vk_backend_device(const lai_backend *be) {
    return be != NULL && be->vt == &vk_vtable ? &((const vk_backend *)be)->desc : NULL;
}
