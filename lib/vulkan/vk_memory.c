/* vk_memory.c - the Vulkan backend's memory: device and staging buffers, uploads of the weights, transfers to and from tensors. */
#include <stdio.h>

#include "vk_internal.h"

static int memory_type(const vk_backend *be, uint32_t bits, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < be->mem.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (be->mem.memoryTypes[i].propertyFlags & want) == want) return (int)i;
    return -1;
}

/* A storage buffer of `size` bytes: device-local memory (mapped too when the device
 * shares it with the host, as integrated GPUs and lavapipe do), or host-visible memory for
 * staging. */
localai_status lai_vk_buf_make(vk_backend *be, size_t size, int for_host, vk_buf *out) {
    memset(out, 0, sizeof *out);
    const VkDeviceSize n = size ? size : 4;
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = n,
                             .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                      VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = be->fn.vkCreateBuffer(be->dev, &bi, NULL, &out->buf);
    if (r != VK_SUCCESS) return lai_vk_fail(r, "vkCreateBuffer");
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
        return lai_vk_fail(r, what);
    }
    out->size = size;
    return LOCALAI_STATUS_OK;
}

void lai_vk_buf_drop(vk_backend *be, vk_buf *b) {
    if (b->buf != VK_NULL_HANDLE) be->fn.vkDestroyBuffer(be->dev, b->buf, NULL);
    if (b->mem != VK_NULL_HANDLE) be->fn.vkFreeMemory(be->dev, b->mem, NULL);
    memset(b, 0, sizeof *b);
}

localai_status lai_vk_buffer_alloc(lai_backend *b, size_t size, lai_buffer **out) {
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
    localai_status st = lai_vk_buf_make(be, size, 0, vb);
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

void lai_vk_buffer_free(lai_backend *b, lai_buffer *buf) {
    if (buf == NULL) return;
    vk_backend *be = (vk_backend *)b;
    vk_buf *vb = buf->impl;
    if (vb != NULL) {
        lai_vk_buf_drop(be, vb);
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
    if (r != VK_SUCCESS) return lai_vk_fail(r, "recording a transfer");
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
    if (r == VK_SUCCESS) r = lai_vk_submit(be, &si, be->xfence);
    if (r == VK_SUCCESS) r = be->fn.vkWaitForFences(be->dev, 1, &be->xfence, VK_TRUE, FENCE_WAIT_NS);
    return r == VK_SUCCESS ? LOCALAI_STATUS_OK : lai_vk_fail(r, "a transfer");
}

static localai_status staging_reserve(vk_backend *be, size_t want) {
    if (want > STAGING_MAX) want = STAGING_MAX;
    if (be->staging.buf != VK_NULL_HANDLE && be->staging.size >= want) return LOCALAI_STATUS_OK;
    lai_vk_buf_drop(be, &be->staging);
    localai_status st = lai_vk_buf_make(be, want, 1, &be->staging);
    if (st == LOCALAI_STATUS_OK && be->staging.map == NULL) {
        lai_vk_buf_drop(be, &be->staging);
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

localai_status lai_vk_tensor_write(lai_backend *b, const lai_tensor *t, const void *src, size_t offset,
                                      size_t size) {
    localai_status st = check_range(t, offset, size);
    if (st != LOCALAI_STATUS_OK) return st;
    return transfer((vk_backend *)b, t->buffer->impl, t->offset + offset, (void *)(uintptr_t)src, size, 1);
}

localai_status lai_vk_tensor_read(lai_backend *b, const lai_tensor *t, void *dst, size_t offset, size_t size) {
    localai_status st = check_range(t, offset, size);
    if (st != LOCALAI_STATUS_OK) return st;
    return transfer((vk_backend *)b, t->buffer->impl, t->offset + offset, dst, size, 0);
}

/* The weights: uploaded once, shared by every context of the model. */
localai_status lai_vk_buffer_from_host(lai_backend *b, const void *data, size_t size, lai_buffer **out) {
    localai_status st = lai_vk_buffer_alloc(b, size, out);
    if (st != LOCALAI_STATUS_OK) return st;
    st = transfer((vk_backend *)b, (*out)->impl, 0, (void *)(uintptr_t)data, size, 1);
    if (st != LOCALAI_STATUS_OK) {
        lai_vk_buffer_free(b, *out);
        *out = NULL;
    }
    return st;
}
