/* vk_internal.h - what the Vulkan backend's files share: its backend, buffer and context structs and the helpers each file gives the others. */
#ifndef LAI_VK_INTERNAL_H
#define LAI_VK_INTERNAL_H

#include <stdatomic.h>

#include "../base/platform.h"
#include "vk_backend.h"
#include "vk_fns.h"
#include "vk_ops.h"

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

/* vk_backend.c: a VkResult as a status (OUT_OF_MEMORY or BACKEND) and message. */
localai_status lai_vk_fail(VkResult r, const char *what);

/* vk_memory.c: storage buffers (device-local, mapped where the host shares the memory; or
 * host-visible for staging), and the backend's buffer and transfer entries. */
localai_status lai_vk_buf_make(vk_backend *be, size_t size, int for_host, vk_buf *out);
void lai_vk_buf_drop(vk_backend *be, vk_buf *b);
localai_status lai_vk_buffer_alloc(lai_backend *b, size_t size, lai_buffer **out);
void lai_vk_buffer_free(lai_backend *b, lai_buffer *buf);
localai_status lai_vk_buffer_from_host(lai_backend *b, const void *data, size_t size, lai_buffer **out);
localai_status lai_vk_tensor_write(lai_backend *b, const lai_tensor *t, const void *src, size_t offset, size_t size);
localai_status lai_vk_tensor_read(lai_backend *b, const lai_tensor *t, void *dst, size_t offset, size_t size);

/* vk_pipeline.c: the pipeline cache (and its file), and each kernel's pipeline, made on
 * first use (called with be->mu held). */
localai_status lai_vk_cache_open(vk_backend *be, const char *path);
void lai_vk_cache_save(vk_backend *be);
localai_status lai_vk_pipeline(vk_backend *be, int kernel, VkPipeline *out);

/* vk_exec.c: command pools, buffers and fences; submission under the queue's locks; a
 * context's execution state and its runs. */
VkResult lai_vk_make_submitter(vk_backend *be, VkCommandPool *pool, VkCommandBuffer *cb, VkFence *fence);
VkResult lai_vk_submit(vk_backend *be, const VkSubmitInfo *si, VkFence fence);
localai_status lai_vk_exec_new(lai_backend *b, const lai_exec_params *p, lai_exec **out);
void lai_vk_exec_free(lai_exec *e);
localai_status lai_vk_compute(lai_exec *e, const lai_graph *g, const lai_compute_opts *opts);

#endif /* LAI_VK_INTERNAL_H */
