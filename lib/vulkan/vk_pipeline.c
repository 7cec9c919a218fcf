/* vk_pipeline.c - the Vulkan backend's compute pipelines, made on first use from the embedded SPIR-V, and the pipeline cache file. */
#include <stdio.h>

#include "vk_internal.h"
#include "vk_shaders.h"

/* ---- the pipeline cache file -------------------------------------------------------------
 * The driver's cache data, behind a header of ours: "LAIPC1\0\0", the data's length and its
 * FNV-1a hash, then the data, whose own header (Vulkan's) names the vendor, device and
 * pipelineCacheUUID. A file that is short, altered, or made by another device or driver is
 * not handed to the driver (drivers trust what they are given more than they should): the
 * pipelines are then compiled anew and the file is replaced when the model closes. */
#define CACHE_MAGIC "LAIPC1\0\0"
#define CACHE_MAX ((uint64_t)256 << 20)

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* The cache data in the file at path if it is whole and this device's, else NULL. */
static uint8_t *cache_read(const vk_backend *be, const char *path, size_t *size) {
    lai_file *f = NULL;
    uint64_t n = 0;
    uint8_t head[24];
    *size = 0;
    if (lai_file_open_read(path, &f, &n) != LOCALAI_STATUS_OK) {
        lai_clear_error();
        return NULL; /* none yet */
    }
    uint8_t *data = NULL;
    if (n > sizeof head && n - sizeof head <= CACHE_MAX && lai_file_read_at(f, head, sizeof head, 0) == LOCALAI_STATUS_OK &&
        memcmp(head, CACHE_MAGIC, 8) == 0) {
        uint64_t len, hash;
        memcpy(&len, head + 8, 8);
        memcpy(&hash, head + 16, 8);
        if (len == n - sizeof head && len >= 32 && (data = lai_malloc((size_t)len)) != NULL) {
            uint32_t hdr[4];
            if (lai_file_read_at(f, data, (size_t)len, sizeof head) != LOCALAI_STATUS_OK || fnv1a(data, (size_t)len) != hash) {
                lai_free(data);
                data = NULL;
            } else {
                /* VkPipelineCacheHeaderVersionOne: size, version, vendor, device, uuid */
                memcpy(hdr, data, sizeof hdr);
                if (hdr[0] < 32 || hdr[1] != VK_PIPELINE_CACHE_HEADER_VERSION_ONE || hdr[2] != be->desc.vendor_id ||
                    hdr[3] != be->desc.device_id || memcmp(data + 16, be->desc.cache_uuid, 16) != 0) {
                    lai_free(data);
                    data = NULL;
                } else {
                    *size = (size_t)len;
                }
            }
        }
    }
    lai_file_close(f);
    lai_clear_error();
    return data;
}

void lai_vk_cache_save(vk_backend *be) {
    size_t n = 0;
    if (be->fn.vkGetPipelineCacheData(be->dev, be->cache, &n, NULL) != VK_SUCCESS || n == 0 || n > CACHE_MAX) return;
    uint8_t *data = lai_malloc(n);
    if (data == NULL) return;
    lai_file_temp tmp;
    if (be->fn.vkGetPipelineCacheData(be->dev, be->cache, &n, data) == VK_SUCCESS &&
        lai_file_temp_create(be->cache_path, &tmp) == LOCALAI_STATUS_OK) {
        uint8_t head[24];
        const uint64_t len = n, hash = fnv1a(data, n);
        memcpy(head, CACHE_MAGIC, 8);
        memcpy(head + 8, &len, 8);
        memcpy(head + 16, &hash, 8);
        if (fwrite(head, 1, sizeof head, tmp.file) == sizeof head && fwrite(data, 1, n, tmp.file) == n)
            lai_file_temp_commit(&tmp, be->cache_path);
        else
            lai_file_temp_discard(&tmp);
    }
    lai_clear_error(); /* a cache that cannot be written costs the next start time, nothing else */
    lai_free(data);
}

localai_status lai_vk_cache_open(vk_backend *be, const char *path) {
    size_t n = 0;
    uint8_t *data = NULL;
    if (path != NULL) {
        be->cache_path = lai_strdup(path);
        if (be->cache_path == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vulkan: no memory");
        data = cache_read(be, path, &n);
    }
    VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO, .initialDataSize = n,
                                    .pInitialData = data};
    VkResult r = be->fn.vkCreatePipelineCache(be->dev, &ci, NULL, &be->cache);
    lai_free(data);
    return r == VK_SUCCESS ? LOCALAI_STATUS_OK : lai_vk_fail(r, "vkCreatePipelineCache");
}

/* The pipeline of a kernel, made on first use. Called with mu held. */
localai_status lai_vk_pipeline(vk_backend *be, int kernel, VkPipeline *out) {
    if (be->pipes[kernel] != VK_NULL_HANDLE) {
        *out = be->pipes[kernel];
        return LOCALAI_STATUS_OK;
    }
    char name[48];
    const lai_vk_spirv_entry *e = NULL;
    if (lai_vk_kernel_name(kernel, name, sizeof name) != NULL)
        for (int i = 0; i < lai_vk_spirv_count; i++)
            if (strcmp(lai_vk_spirv[i].name, name) == 0) e = &lai_vk_spirv[i];
    if (e == NULL) return lai_fail(LOCALAI_STATUS_INTERNAL, "vulkan: no embedded shader for kernel %d", kernel);
    VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = e->size, .pCode = e->words};
    VkShaderModule mod;
    VkResult r = be->fn.vkCreateShaderModule(be->dev, &mi, NULL, &mod);
    if (r != VK_SUCCESS) return lai_vk_fail(r, "vkCreateShaderModule");
    VkComputePipelineCreateInfo pi = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = mod,
                  .pName = "main"},
        .layout = be->layout};
    r = be->fn.vkCreateComputePipelines(be->dev, be->cache, 1, &pi, NULL, &be->pipes[kernel]);
    be->cache_dirty = 1;
    be->fn.vkDestroyShaderModule(be->dev, mod, NULL);
    if (r != VK_SUCCESS) {
        be->pipes[kernel] = VK_NULL_HANDLE;
        char what[80];
        snprintf(what, sizeof what, "creating the %s pipeline", name);
        return lai_vk_fail(r, what);
    }
    *out = be->pipes[kernel];
    return LOCALAI_STATUS_OK;
}
