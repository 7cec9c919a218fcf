/* vk_backend.c - the Vulkan backend: instance and device, buffers and transfers, each graph run as one command buffer. */
#include "vk_backend.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../base/platform.h"
#include "vk_fns.h"
#include "vk_ops.h"
#include "vk_shaders.h"

#define VK_MAX_BUFFER ((size_t)1 << 30)  /* no single allocation above 1 GiB */
#define STAGING_MAX ((size_t)64 << 20)   /* transfers larger than this go in pieces */
#define N_BINDINGS 6                     /* dst and five srcs (kernels/common.glsl) */
#define FENCE_WAIT_NS 60000000000ull     /* a minute: beyond it the device is taken as hung */

typedef struct vk_buf {
    VkBuffer buf;
    VkDeviceMemory mem;
    void *map; /* host address when the memory is host-visible */
    size_t size;
} vk_buf;

typedef struct vk_backend {
    lai_backend base;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger; /* LOCALAI_VULKAN_VALIDATION=1 only */
    _Atomic uint32_t validation_messages;
    lai_vk_instance_fns ifn;
    VkPhysicalDevice pd;
    VkDevice dev;
    lai_vk_device_fns fn;
    VkQueue queue;
    uint32_t qfamily;
    lai_vk_device_desc desc;
    VkPhysicalDeviceMemoryProperties mem;
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipes[LAI_VK_K_COUNT]; /* made on first use, under mu */
    lai_mutex *mu;                    /* pipelines, the queue, the staging buffer */
    VkCommandPool xpool;              /* transfers */
    VkCommandBuffer xcb;
    VkFence xfence;
    vk_buf staging;
    vk_buf dummy; /* bound where an op has no src */
    int broken;   /* LOCALAI_VULKAN_BREAK names a kernel made to compute wrong (-1: none) */
    int tier;     /* LAI_VK_TIER_*: the kernels its runs use */
    int owns_device;               /* 0: the host's instance and device (destroyed by the host) */
    VkPipelineCache cache;         /* every pipeline is made through it */
    char *cache_path;              /* where it is kept between runs (NULL: nowhere) */
    int cache_dirty;               /* a pipeline was made since it was read */
    localai_vulkan_interop host;   /* the host's, when !owns_device */
} vk_backend;

/* vkQueueSubmit under our lock and, on a host's queue, the host's. */
static VkResult submit(vk_backend *be, const VkSubmitInfo *si, VkFence fence) {
    if (!be->owns_device && be->host.lock_queue != NULL) be->host.lock_queue(be->host.user);
    VkResult r = be->fn.vkQueueSubmit(be->queue, 1, si, fence);
    if (!be->owns_device && be->host.unlock_queue != NULL) be->host.unlock_queue(be->host.user);
    return r;
}

typedef struct vk_exec {
    vk_backend *be;
    VkCommandPool pool;
    VkCommandBuffer cb;
    VkFence fence;
    VkDescriptorPool dpool;
    uint32_t dcap; /* descriptor sets the pool holds */
    VkDescriptorSet *sets;
    VkDescriptorSetLayout *layouts;
    lai_vk_dispatch *disp;
    VkDescriptorBufferInfo *infos;
    VkWriteDescriptorSet *writes;
    int32_t cap; /* ops the arrays above hold */
    /* what the command buffer holds: a run whose dispatches and buffers are the same (a
     * generation step: positions, lengths and the mask are data in buffers, not push
     * constants) submits it again without recording anything */
    lai_vk_dispatch *rec_disp;
    VkDescriptorBufferInfo *rec_infos;
    int32_t rec_n; /* 0: nothing recorded */
} vk_exec;

static localai_status vk_fail(VkResult r, const char *what) {
    return lai_fail(r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY
                        ? LOCALAI_STATUS_OUT_OF_MEMORY
                        : LOCALAI_STATUS_BACKEND,
                    "vulkan: %s failed (%s)", what, lai_vk_result_name(r));
}

/* ---- memory ------------------------------------------------------------------------------- */

static int memory_type(const vk_backend *be, uint32_t bits, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < be->mem.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (be->mem.memoryTypes[i].propertyFlags & want) == want) return (int)i;
    return -1;
}

/* A storage buffer of `size` bytes: device-local memory (mapped too when the device
 * shares it with the host, as integrated GPUs and lavapipe do), or host-visible memory for
 * staging. */
static localai_status buf_make(vk_backend *be, size_t size, int for_host, vk_buf *out) {
    memset(out, 0, sizeof *out);
    const VkDeviceSize n = size ? size : 4;
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = n,
                             .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                      VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = be->fn.vkCreateBuffer(be->dev, &bi, NULL, &out->buf);
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreateBuffer");
    VkMemoryRequirements req;
    be->fn.vkGetBufferMemoryRequirements(be->dev, out->buf, &req);
    const VkMemoryPropertyFlags coherent = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int t;
    if (for_host) {
        t = memory_type(be, req.memoryTypeBits, coherent | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
        if (t < 0) t = memory_type(be, req.memoryTypeBits, coherent);
    } else {
        t = memory_type(be, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | coherent);
        if (t < 0) t = memory_type(be, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
        if (t < 0) t = memory_type(be, req.memoryTypeBits, 0);
    }
    if (t < 0) {
        be->fn.vkDestroyBuffer(be->dev, out->buf, NULL);
        out->buf = VK_NULL_HANDLE;
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: no memory type for a %s buffer",
                        for_host ? "staging" : "device");
    }
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)t};
    r = be->fn.vkAllocateMemory(be->dev, &ai, NULL, &out->mem);
    if (r == VK_SUCCESS) r = be->fn.vkBindBufferMemory(be->dev, out->buf, out->mem, 0);
    if (r == VK_SUCCESS && (be->mem.memoryTypes[t].propertyFlags & coherent) == coherent)
        r = be->fn.vkMapMemory(be->dev, out->mem, 0, VK_WHOLE_SIZE, 0, &out->map);
    if (r != VK_SUCCESS) {
        if (out->mem != VK_NULL_HANDLE) be->fn.vkFreeMemory(be->dev, out->mem, NULL);
        be->fn.vkDestroyBuffer(be->dev, out->buf, NULL);
        memset(out, 0, sizeof *out);
        char what[96];
        snprintf(what, sizeof what, "allocating %zu bytes of %s memory", size, for_host ? "staging" : "device");
        return vk_fail(r, what);
    }
    out->size = size;
    return LOCALAI_STATUS_OK;
}

static void buf_drop(vk_backend *be, vk_buf *b) {
    if (b->buf != VK_NULL_HANDLE) be->fn.vkDestroyBuffer(be->dev, b->buf, NULL);
    if (b->mem != VK_NULL_HANDLE) be->fn.vkFreeMemory(be->dev, b->mem, NULL);
    memset(b, 0, sizeof *b);
}

static localai_status vk_buffer_alloc(lai_backend *b, size_t size, lai_buffer **out) {
    vk_backend *be = (vk_backend *)b;
    if (size > be->base.max_buffer)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY,
                        "vulkan: a buffer of %zu bytes is above the device's largest (%zu)", size,
                        be->base.max_buffer);
    lai_buffer *buf = lai_calloc(1, sizeof *buf);
    vk_buf *vb = lai_calloc(1, sizeof *vb);
    if (buf == NULL || vb == NULL) {
        lai_free(buf);
        lai_free(vb);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vulkan: no memory for a buffer");
    }
    localai_status st = buf_make(be, size, 0, vb);
    if (st != LOCALAI_STATUS_OK) {
        lai_free(buf);
        lai_free(vb);
        return st;
    }
    buf->backend = b;
    buf->host = NULL; /* device memory: reached through tensor_write / tensor_read only */
    buf->size = size;
    buf->owned = 1;
    buf->impl = vb;
    *out = buf;
    return LOCALAI_STATUS_OK;
}

static void vk_buffer_free(lai_backend *b, lai_buffer *buf) {
    if (buf == NULL) return;
    vk_backend *be = (vk_backend *)b;
    vk_buf *vb = buf->impl;
    if (vb != NULL) {
        buf_drop(be, vb);
        lai_free(vb);
    }
    lai_free(buf);
}

/* ---- transfers ---------------------------------------------------------------------------- */

/* Runs one copy between the staging buffer and `dev` on the transfer command buffer and
 * waits for it. Called with mu held. */
static localai_status copy_and_wait(vk_backend *be, VkBuffer src, VkBuffer dst, VkDeviceSize src_off,
                                    VkDeviceSize dst_off, VkDeviceSize n) {
    VkResult r = be->fn.vkResetCommandPool(be->dev, be->xpool, 0);
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    if (r == VK_SUCCESS) r = be->fn.vkBeginCommandBuffer(be->xcb, &begin);
    if (r != VK_SUCCESS) return vk_fail(r, "recording a transfer");
    VkBufferCopy region = {.srcOffset = src_off, .dstOffset = dst_off, .size = n};
    be->fn.vkCmdCopyBuffer(be->xcb, src, dst, 1, &region);
    /* the copy's writes are visible to later work on the queue and to the host */
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT};
    be->fn.vkCmdPipelineBarrier(be->xcb, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0,
                                NULL, 0, NULL);
    r = be->fn.vkEndCommandBuffer(be->xcb);
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &be->xcb};
    if (r == VK_SUCCESS) r = be->fn.vkResetFences(be->dev, 1, &be->xfence);
    if (r == VK_SUCCESS) r = submit(be, &si, be->xfence);
    if (r == VK_SUCCESS) r = be->fn.vkWaitForFences(be->dev, 1, &be->xfence, VK_TRUE, FENCE_WAIT_NS);
    return r == VK_SUCCESS ? LOCALAI_STATUS_OK : vk_fail(r, "a transfer");
}

static localai_status staging_reserve(vk_backend *be, size_t want) {
    if (want > STAGING_MAX) want = STAGING_MAX;
    if (be->staging.buf != VK_NULL_HANDLE && be->staging.size >= want) return LOCALAI_STATUS_OK;
    buf_drop(be, &be->staging);
    localai_status st = buf_make(be, want, 1, &be->staging);
    if (st == LOCALAI_STATUS_OK && be->staging.map == NULL) {
        buf_drop(be, &be->staging);
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the staging memory cannot be mapped");
    }
    return st;
}

/* Host -> device (to_device) or device -> host of n bytes at byte `at` of vb. */
static localai_status transfer(vk_backend *be, vk_buf *vb, size_t at, void *host, size_t n, int to_device) {
    if (n == 0) return LOCALAI_STATUS_OK;
    if (vb->map != NULL) { /* memory the host sees: a plain copy (the queue is idle between runs) */
        lai_mutex_lock(be->mu);
        if (to_device)
            memcpy((uint8_t *)vb->map + at, host, n);
        else
            memcpy(host, (const uint8_t *)vb->map + at, n);
        lai_mutex_unlock(be->mu);
        return LOCALAI_STATUS_OK;
    }
    lai_mutex_lock(be->mu);
    localai_status st = staging_reserve(be, n);
    for (size_t done = 0; st == LOCALAI_STATUS_OK && done < n;) {
        const size_t piece = LAI_MIN(n - done, be->staging.size);
        if (to_device) {
            memcpy(be->staging.map, (const uint8_t *)host + done, piece);
            st = copy_and_wait(be, be->staging.buf, vb->buf, 0, at + done, piece);
        } else {
            st = copy_and_wait(be, vb->buf, be->staging.buf, at + done, 0, piece);
            if (st == LOCALAI_STATUS_OK) memcpy((uint8_t *)host + done, be->staging.map, piece);
        }
        done += piece;
    }
    lai_mutex_unlock(be->mu);
    return st;
}

static localai_status check_range(const lai_tensor *t, size_t offset, size_t size) {
    size_t end;
    if (t->buffer == NULL || t->buffer->impl == NULL || lai_add_overflow_size(t->offset, offset, &end) ||
        lai_add_overflow_size(end, size, &end) || end > t->buffer->size)
        return lai_fail(LOCALAI_STATUS_INTERNAL, "vulkan: transfer outside tensor '%s'", t->name ? t->name : "?");
    return LOCALAI_STATUS_OK;
}

static localai_status vk_tensor_write(lai_backend *b, const lai_tensor *t, const void *src, size_t offset,
                                      size_t size) {
    localai_status st = check_range(t, offset, size);
    if (st != LOCALAI_STATUS_OK) return st;
    return transfer((vk_backend *)b, t->buffer->impl, t->offset + offset, (void *)(uintptr_t)src, size, 1);
}

static localai_status vk_tensor_read(lai_backend *b, const lai_tensor *t, void *dst, size_t offset, size_t size) {
    localai_status st = check_range(t, offset, size);
    if (st != LOCALAI_STATUS_OK) return st;
    return transfer((vk_backend *)b, t->buffer->impl, t->offset + offset, dst, size, 0);
}

/* The weights: uploaded once, shared by every context of the model. */
static localai_status vk_buffer_from_host(lai_backend *b, const void *data, size_t size, lai_buffer **out) {
    localai_status st = vk_buffer_alloc(b, size, out);
    if (st != LOCALAI_STATUS_OK) return st;
    st = transfer((vk_backend *)b, (*out)->impl, 0, (void *)(uintptr_t)data, size, 1);
    if (st != LOCALAI_STATUS_OK) {
        vk_buffer_free(b, *out);
        *out = NULL;
    }
    return st;
}

/* ---- pipelines ---------------------------------------------------------------------------- */

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

static void cache_save(vk_backend *be) {
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

static localai_status cache_open(vk_backend *be, const char *path) {
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
    return r == VK_SUCCESS ? LOCALAI_STATUS_OK : vk_fail(r, "vkCreatePipelineCache");
}

/* The pipeline of a kernel, made on first use. Called with mu held. */
static localai_status pipeline(vk_backend *be, int kernel, VkPipeline *out) {
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
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreateShaderModule");
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
        return vk_fail(r, what);
    }
    *out = be->pipes[kernel];
    return LOCALAI_STATUS_OK;
}

/* ---- execution ---------------------------------------------------------------------------- */

/* A command pool on the queue's family, one primary command buffer from it, and a fence:
 * what a context's runs (and the backend's transfers) are recorded, submitted and waited
 * with. On failure the caller destroys whatever is not VK_NULL_HANDLE. */
static VkResult make_submitter(vk_backend *be, VkCommandPool *pool, VkCommandBuffer *cb, VkFence *fence) {
    VkCommandPoolCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .queueFamilyIndex = be->qfamily};
    VkResult r = be->fn.vkCreateCommandPool(be->dev, &ci, NULL, pool);
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = *pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    if (r == VK_SUCCESS) r = be->fn.vkAllocateCommandBuffers(be->dev, &ai, cb);
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if (r == VK_SUCCESS) r = be->fn.vkCreateFence(be->dev, &fi, NULL, fence);
    return r;
}

static localai_status vk_exec_new(lai_backend *b, const lai_exec_params *p, lai_exec **out) {
    (void)p;
    vk_backend *be = (vk_backend *)b;
    vk_exec *ex = lai_calloc(1, sizeof *ex);
    if (ex == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vulkan: no memory");
    ex->be = be;
    VkResult r = make_submitter(be, &ex->pool, &ex->cb, &ex->fence);
    if (r != VK_SUCCESS) {
        if (ex->pool != VK_NULL_HANDLE) be->fn.vkDestroyCommandPool(be->dev, ex->pool, NULL);
        lai_free(ex);
        return vk_fail(r, "creating a context's command buffer");
    }
    *out = (lai_exec *)ex;
    return LOCALAI_STATUS_OK;
}

static void vk_exec_free(lai_exec *e) {
    vk_exec *ex = (vk_exec *)e;
    if (ex == NULL) return;
    vk_backend *be = ex->be;
    if (ex->fence != VK_NULL_HANDLE) be->fn.vkDestroyFence(be->dev, ex->fence, NULL);
    if (ex->pool != VK_NULL_HANDLE) be->fn.vkDestroyCommandPool(be->dev, ex->pool, NULL);
    if (ex->dpool != VK_NULL_HANDLE) be->fn.vkDestroyDescriptorPool(be->dev, ex->dpool, NULL);
    lai_free(ex->sets);
    lai_free(ex->layouts);
    lai_free(ex->disp);
    lai_free(ex->infos);
    lai_free(ex->writes);
    lai_free(ex->rec_disp);
    lai_free(ex->rec_infos);
    lai_free(ex);
}

/* Room for n ops: the per-op arrays and a descriptor pool of n sets. */
static localai_status exec_reserve(vk_exec *ex, int32_t n) {
    vk_backend *be = ex->be;
    if (n <= ex->cap) return LOCALAI_STATUS_OK;
    int32_t cap = LAI_MAX(n, ex->cap + ex->cap / 2);
    lai_free(ex->sets);
    lai_free(ex->layouts);
    lai_free(ex->disp);
    lai_free(ex->infos);
    lai_free(ex->writes);
    lai_free(ex->rec_disp);
    lai_free(ex->rec_infos);
    ex->cap = 0;
    ex->rec_n = 0;
    ex->sets = lai_calloc((size_t)cap, sizeof *ex->sets);
    ex->layouts = lai_calloc((size_t)cap, sizeof *ex->layouts);
    ex->disp = lai_calloc((size_t)cap, sizeof *ex->disp);
    ex->infos = lai_calloc((size_t)cap * N_BINDINGS, sizeof *ex->infos);
    ex->writes = lai_calloc((size_t)cap, sizeof *ex->writes);
    ex->rec_disp = lai_calloc((size_t)cap, sizeof *ex->rec_disp);
    ex->rec_infos = lai_calloc((size_t)cap * N_BINDINGS, sizeof *ex->rec_infos);
    if (ex->sets == NULL || ex->layouts == NULL || ex->disp == NULL || ex->infos == NULL || ex->writes == NULL ||
        ex->rec_disp == NULL || ex->rec_infos == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vulkan: no memory for a run of %d ops", (int)n);
    for (int32_t i = 0; i < cap; i++) ex->layouts[i] = be->dsl;
    if (ex->dpool != VK_NULL_HANDLE) be->fn.vkDestroyDescriptorPool(be->dev, ex->dpool, NULL);
    ex->dpool = VK_NULL_HANDLE;
    VkDescriptorPoolSize size = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = (uint32_t)cap * N_BINDINGS};
    VkDescriptorPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                     .maxSets = (uint32_t)cap,
                                     .poolSizeCount = 1,
                                     .pPoolSizes = &size};
    VkResult r = be->fn.vkCreateDescriptorPool(be->dev, &pi, NULL, &ex->dpool);
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreateDescriptorPool");
    ex->cap = cap;
    return LOCALAI_STATUS_OK;
}

static VkBuffer vk_handle_of(const vk_backend *be, const lai_tensor *t) {
    if (t == NULL || t->buffer == NULL || t->buffer->impl == NULL) return be->dummy.buf;
    return ((const vk_buf *)t->buffer->impl)->buf;
}

/* Pipelines (made once per backend), one descriptor set per op and the command buffer of
 * the run whose dispatches are in ex->disp and buffers in ex->infos. */
static localai_status record(vk_exec *ex, const lai_graph *g) {
    vk_backend *be = ex->be;
    localai_status st = LOCALAI_STATUS_OK;
    /* pipelines first (made once per backend), then one descriptor set per op */
    lai_mutex_lock(be->mu);
    for (int32_t i = 0; i < g->n_ops && st == LOCALAI_STATUS_OK; i++) {
        VkPipeline p;
        st = pipeline(be, ex->disp[i].kernel, &p);
    }
    lai_mutex_unlock(be->mu);
    if (st != LOCALAI_STATUS_OK) return st;
    VkResult r = be->fn.vkResetDescriptorPool(be->dev, ex->dpool, 0);
    VkDescriptorSetAllocateInfo dai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                       .descriptorPool = ex->dpool,
                                       .descriptorSetCount = (uint32_t)g->n_ops,
                                       .pSetLayouts = ex->layouts};
    if (r == VK_SUCCESS) r = be->fn.vkAllocateDescriptorSets(be->dev, &dai, ex->sets);
    if (r != VK_SUCCESS) return vk_fail(r, "vkAllocateDescriptorSets");
    for (int32_t i = 0; i < g->n_ops; i++) {
        VkDescriptorBufferInfo *bi = ex->infos + (size_t)i * N_BINDINGS;
        ex->writes[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                               .dstSet = ex->sets[i],
                                               .dstBinding = 0,
                                               .descriptorCount = N_BINDINGS,
                                               .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                               .pBufferInfo = bi};
    }
    be->fn.vkUpdateDescriptorSets(be->dev, (uint32_t)g->n_ops, ex->writes, 0, NULL);

    r = be->fn.vkResetCommandPool(be->dev, ex->pool, 0);
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    if (r == VK_SUCCESS) r = be->fn.vkBeginCommandBuffer(ex->cb, &begin);
    if (r != VK_SUCCESS) return vk_fail(r, "recording a run");
    const uint32_t max_x = LAI_MAX(1u, LAI_MIN(be->desc.lim.max_workgroups_x, 65535u));
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
    for (int32_t i = 0; i < g->n_ops; i++) {
        const lai_vk_dispatch *d = &ex->disp[i];
        if (d->groups == 0) continue;
        be->fn.vkCmdBindPipeline(ex->cb, VK_PIPELINE_BIND_POINT_COMPUTE, be->pipes[d->kernel]);
        be->fn.vkCmdBindDescriptorSets(ex->cb, VK_PIPELINE_BIND_POINT_COMPUTE, be->layout, 0, 1, &ex->sets[i], 0, NULL);
        be->fn.vkCmdPushConstants(ex->cb, be->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof d->pc, &d->pc);
        if (d->kernel == be->broken) {
            /* the self-test's own test: this kernel leaves half its work undone */
            lai_vk_push half = d->pc;
            half.n /= 2;
            be->fn.vkCmdPushConstants(ex->cb, be->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof half, &half);
        }
        const uint32_t x = LAI_MIN(d->groups, max_x), y = (d->groups + x - 1) / x;
        be->fn.vkCmdDispatch(ex->cb, x, y, 1);
        /* every op reads what the ones before it wrote */
        be->fn.vkCmdPipelineBarrier(ex->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                    0, 1, &mb, 0, NULL, 0, NULL);
    }
    /* the results are visible to the host and to transfers */
    VkMemoryBarrier out_mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                              .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                              .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT};
    be->fn.vkCmdPipelineBarrier(ex->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &out_mb, 0, NULL, 0,
                                NULL);
    r = be->fn.vkEndCommandBuffer(ex->cb);
    if (r != VK_SUCCESS) return vk_fail(r, "recording a run");
    return LOCALAI_STATUS_OK;
}

static localai_status vk_compute(lai_exec *e, const lai_graph *g, const lai_compute_opts *opts) {
    vk_exec *ex = (vk_exec *)e;
    vk_backend *be = ex->be;
    if (g->status != LOCALAI_STATUS_OK) return g->status;
    if (g->n_ops == 0) return LOCALAI_STATUS_OK;
    localai_status st = exec_reserve(ex, g->n_ops);
    if (st != LOCALAI_STATUS_OK) return st;
    for (int32_t i = 0; i < g->n_ops; i++) {
        const lai_op *op = &g->ops[i];
        const char *why = "";
        if (op->dst->buffer == NULL || op->dst->buffer->backend != &be->base)
            return lai_fail(LOCALAI_STATUS_INTERNAL, "vulkan: op %d (%s) writes memory of another backend", (int)i,
                            lai_op_name(op->kind));
        for (int s = 0; s < LAI_OP_MAX_SRC; s++)
            if (op->src[s] != NULL && (op->src[s]->buffer == NULL || op->src[s]->buffer->backend != &be->base))
                return lai_fail(LOCALAI_STATUS_INTERNAL, "vulkan: op %d (%s) reads memory of another backend",
                                (int)i, lai_op_name(op->kind));
        if (!lai_vk_op_prepare(op, be->tier, &ex->disp[i], &why))
            return lai_fail(LOCALAI_STATUS_UNSUPPORTED, "vulkan: op %d (%s): %s", (int)i, lai_op_name(op->kind), why);
    }
    for (int32_t i = 0; i < g->n_ops; i++) {
        const lai_op *op = &g->ops[i];
        VkDescriptorBufferInfo *bi = ex->infos + (size_t)i * N_BINDINGS;
        bi[0] = (VkDescriptorBufferInfo){vk_handle_of(be, op->dst), 0, VK_WHOLE_SIZE};
        for (int s = 0; s < LAI_OP_MAX_SRC; s++)
            bi[1 + s] = (VkDescriptorBufferInfo){vk_handle_of(be, op->src[s]), 0, VK_WHOLE_SIZE};
    }
    const size_t disp_bytes = (size_t)g->n_ops * sizeof *ex->disp, info_bytes = (size_t)g->n_ops * N_BINDINGS * sizeof *ex->infos;
    const int same = ex->rec_n == g->n_ops && memcmp(ex->rec_disp, ex->disp, disp_bytes) == 0 &&
                     memcmp(ex->rec_infos, ex->infos, info_bytes) == 0;
    if (!same) {
        st = record(ex, g);
        if (st != LOCALAI_STATUS_OK) {
            ex->rec_n = 0;
            return st;
        }
        memcpy(ex->rec_disp, ex->disp, disp_bytes);
        memcpy(ex->rec_infos, ex->infos, info_bytes);
        ex->rec_n = g->n_ops;
    }
    VkResult r;
    if (opts != NULL && opts->abort_callback != NULL && opts->abort_callback(opts->abort_user) != 0)
        return lai_fail(LOCALAI_STATUS_CANCELLED, "decode cancelled by the abort callback");
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &ex->cb};
    const uint32_t complaints = atomic_load(&be->validation_messages);
    if (complaints > 0)
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the validation layer reported %u message(s) (printed above)",
                        (unsigned)complaints);
    r = be->fn.vkResetFences(be->dev, 1, &ex->fence);
    lai_mutex_lock(be->mu); /* a VkQueue is used by one thread at a time */
    if (r == VK_SUCCESS) r = submit(be, &si, ex->fence);
    lai_mutex_unlock(be->mu);
    if (r == VK_SUCCESS) r = be->fn.vkWaitForFences(be->dev, 1, &ex->fence, VK_TRUE, FENCE_WAIT_NS);
    if (r != VK_SUCCESS) return vk_fail(r, "running a graph");
    if (atomic_load(&be->validation_messages) > complaints)
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the validation layer reported a message (printed above)");
    return LOCALAI_STATUS_OK;
}

/* ---- the device --------------------------------------------------------------------------- */

static void vk_destroy(lai_backend *b) {
    vk_backend *be = (vk_backend *)b;
    if (be == NULL) return;
    if (be->dev != VK_NULL_HANDLE) {
        /* our work is over once its fences signalled (every submit is waited for); a
         * host's device may be busy with the host's own work, never waited for here */
        if (be->owns_device) be->fn.vkDeviceWaitIdle(be->dev);
        buf_drop(be, &be->staging);
        buf_drop(be, &be->dummy);
        for (int i = 0; i < LAI_VK_K_COUNT; i++)
            if (be->pipes[i] != VK_NULL_HANDLE) be->fn.vkDestroyPipeline(be->dev, be->pipes[i], NULL);
        if (be->cache != VK_NULL_HANDLE) {
            if (be->cache_path != NULL && be->cache_dirty) cache_save(be);
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
    vk_buffer_alloc,
    vk_buffer_from_host,
    vk_buffer_free,
    vk_tensor_write,
    vk_tensor_read,
    vk_exec_new,
    vk_exec_free,
    vk_compute,
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
    PFN_vkCreateInstance create = (PFN_vkCreateInstance)(void (*)(void))gipa(NULL, "vkCreateInstance");
    if (create == NULL) return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the loader has no vkCreateInstance");
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "liblocalai",
                             .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ii = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
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
    VkResult r = create(&ii, NULL, &be->instance);
    if (r != VK_SUCCESS)
        return validate ? lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: LOCALAI_VULKAN_VALIDATION=1 but vkCreateInstance "
                                   "failed (%s): is the validation layer (vulkan-validationlayers) installed?",
                                   lai_vk_result_name(r))
                        : vk_fail(r, "vkCreateInstance");
    const char *missing = "";
    if (!lai_vk_load_instance_fns(gipa, be->instance, &be->ifn, &missing)) {
        PFN_vkDestroyInstance destroy = (PFN_vkDestroyInstance)(void (*)(void))gipa(be->instance, "vkDestroyInstance");
        if (destroy != NULL) destroy(be->instance, NULL);
        be->instance = VK_NULL_HANDLE;
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the loader has no %s", missing);
    }
    if (validate) {
        PFN_vkCreateDebugUtilsMessengerEXT make =
            (PFN_vkCreateDebugUtilsMessengerEXT)(void (*)(void))gipa(be->instance, "vkCreateDebugUtilsMessengerEXT");
        if (make == NULL || make(be->instance, &dm, NULL, &be->messenger) != VK_SUCCESS)
            return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: cannot attach to the validation layer");
    }
    uint32_t n = 0;
    be->ifn.vkEnumeratePhysicalDevices(be->instance, &n, NULL);
    VkPhysicalDevice devs[LAI_VK_MAX_DEVICES];
    if (n > LAI_VK_MAX_DEVICES) n = LAI_VK_MAX_DEVICES;
    if (n > 0 && be->ifn.vkEnumeratePhysicalDevices(be->instance, &n, devs) < 0) n = 0;
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
    uint32_t nq = 0;
    be->ifn.vkGetPhysicalDeviceQueueFamilyProperties(be->pd, &nq, NULL);
    VkQueueFamilyProperties qf[32];
    if (nq > 32) nq = 32;
    be->ifn.vkGetPhysicalDeviceQueueFamilyProperties(be->pd, &nq, qf);
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
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreateDevice");
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
    if (r == VK_SUCCESS) r = make_submitter(be, &be->xpool, &be->xcb, &be->xfence);
    if (r != VK_SUCCESS) return vk_fail(r, "setting up the device");
    return buf_make(be, 16, 0, &be->dummy);
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
    uint32_t nq = 0;
    be->ifn.vkGetPhysicalDeviceQueueFamilyProperties(be->pd, &nq, NULL);
    VkQueueFamilyProperties qf[32];
    if (nq > 32) nq = 32;
    be->ifn.vkGetPhysicalDeviceQueueFamilyProperties(be->pd, &nq, qf);
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
    localai_status st = cache_open(be, cache_path);
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
