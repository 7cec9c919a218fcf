/* vk_exec.c - a context's runs on the Vulkan backend: every op a dispatch in one command buffer, recorded again only when the dispatches change. */
#include <stdio.h>

#include "vk_internal.h"

/* vkQueueSubmit under our lock and, on a host's queue, the host's. */
VkResult lai_vk_submit(vk_backend *be, const VkSubmitInfo *si, VkFence fence) {
    if (!be->owns_device && be->host.lock_queue != NULL) be->host.lock_queue(be->host.user);
    VkResult r = be->fn.vkQueueSubmit(be->queue, 1, si, fence);
    if (!be->owns_device && be->host.unlock_queue != NULL) be->host.unlock_queue(be->host.user);
    return r;
}

/* A command pool on the queue's family, one primary command buffer from it, and a fence:
 * what a context's runs (and the backend's transfers) are recorded, submitted and waited
 * with. On failure the caller destroys whatever is not VK_NULL_HANDLE. */
VkResult lai_vk_make_submitter(vk_backend *be, VkCommandPool *pool, VkCommandBuffer *cb, VkFence *fence) {
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

localai_status lai_vk_exec_new(lai_backend *b, const lai_exec_params *p, lai_exec **out) {
    (void)p;
    vk_backend *be = (vk_backend *)b;
    vk_exec *ex = lai_calloc(1, sizeof *ex);
    if (ex == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vulkan: no memory");
    ex->be = be;
    VkResult r = lai_vk_make_submitter(be, &ex->pool, &ex->cb, &ex->fence);
    if (r != VK_SUCCESS) {
        if (ex->pool != VK_NULL_HANDLE) be->fn.vkDestroyCommandPool(be->dev, ex->pool, NULL);
        lai_free(ex);
        return lai_vk_fail(r, "creating a context's command buffer");
    }
    *out = (lai_exec *)ex;
    return LOCALAI_STATUS_OK;
}

/* The per-op arrays (exec_reserve sizes them). */
static void free_arrays(vk_exec *ex) {
    lai_free(ex->sets);
    lai_free(ex->layouts);
    lai_free(ex->disp);
    lai_free(ex->infos);
    lai_free(ex->writes);
    lai_free(ex->rec_disp);
    lai_free(ex->rec_infos);
}

void lai_vk_exec_free(lai_exec *e) {
    vk_exec *ex = (vk_exec *)e;
    if (ex == NULL) return;
    vk_backend *be = ex->be;
    if (ex->fence != VK_NULL_HANDLE) be->fn.vkDestroyFence(be->dev, ex->fence, NULL);
    if (ex->pool != VK_NULL_HANDLE) be->fn.vkDestroyCommandPool(be->dev, ex->pool, NULL);
    if (ex->dpool != VK_NULL_HANDLE) be->fn.vkDestroyDescriptorPool(be->dev, ex->dpool, NULL);
    free_arrays(ex);
    lai_free(ex);
}

/* Room for n ops: the per-op arrays and a descriptor pool of n sets. */
static localai_status exec_reserve(vk_exec *ex, int32_t n) {
    vk_backend *be = ex->be;
    if (n <= ex->cap) return LOCALAI_STATUS_OK;
    int32_t cap = LAI_MAX(n, ex->cap + ex->cap / 2);
    free_arrays(ex);
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
    if (r != VK_SUCCESS) return lai_vk_fail(r, "vkCreateDescriptorPool");
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
        st = lai_vk_pipeline(be, ex->disp[i].kernel, &p);
    }
    lai_mutex_unlock(be->mu);
    if (st != LOCALAI_STATUS_OK) return st;
    VkResult r = be->fn.vkResetDescriptorPool(be->dev, ex->dpool, 0);
    VkDescriptorSetAllocateInfo dai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                       .descriptorPool = ex->dpool,
                                       .descriptorSetCount = (uint32_t)g->n_ops,
                                       .pSetLayouts = ex->layouts};
    if (r == VK_SUCCESS) r = be->fn.vkAllocateDescriptorSets(be->dev, &dai, ex->sets);
    if (r != VK_SUCCESS) return lai_vk_fail(r, "vkAllocateDescriptorSets");
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
    if (r != VK_SUCCESS) return lai_vk_fail(r, "recording a run");
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
    if (r != VK_SUCCESS) return lai_vk_fail(r, "recording a run");
    return LOCALAI_STATUS_OK;
}

localai_status lai_vk_compute(lai_exec *e, const lai_graph *g, const lai_compute_opts *opts) {
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
    if (r == VK_SUCCESS) r = lai_vk_submit(be, &si, ex->fence);
    lai_mutex_unlock(be->mu);
    if (r == VK_SUCCESS) r = be->fn.vkWaitForFences(be->dev, 1, &ex->fence, VK_TRUE, FENCE_WAIT_NS);
    if (r != VK_SUCCESS) return lai_vk_fail(r, "running a graph");
    if (atomic_load(&be->validation_messages) > complaints)
        return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the validation layer reported a message (printed above)");
    return LOCALAI_STATUS_OK;
}
