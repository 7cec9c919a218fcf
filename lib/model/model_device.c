/* model_device.c - the model on its compute backend: the device, and every file tensor as a handle into device memory. */
#include "model.h"

#include <stdlib.h>

#include "../cpu/cpu_backend.h"
#include "../vulkan/vk_backend.h"
#include "../vulkan/vk_ops.h"
#include "../vulkan/vk_selftest.h"

typedef struct placed {
    const uint8_t *data;
    uint64_t index;
    int region; /* 0: the file image, 1: the realigned block */
} placed;

static int by_address(const void *a, const void *b) {
    const placed *x = a, *y = b;
    if (x->region != y->region) return x->region < y->region ? -1 : 1;
    return x->data < y->data ? -1 : x->data > y->data;
}

/* Handles for every tensor of the file, pointing where its data already is: the file
 * image (the mapping, or the model's copy of the file) or the block of tensors the model
 * had to realign. Device buffers wrap runs of consecutive tensors, each run as large as
 * the device's largest buffer allows (on the CPU one run per block: the memory itself; on
 * a GPU uploads of at most 1 GiB each), made once here for every context. */
static localai_status wrap_weights(localai_model *m) {
    const lai_gguf *gg = m->gguf;
    lai_backend *dev = m->device;
    const uint8_t *base[2] = {gg->view.data, m->realigned};
    const size_t size[2] = {(size_t)gg->view.size, m->realigned_size};
    const size_t n_t = gg->n_tensors ? (size_t)gg->n_tensors : 1;
    m->weight_tensors = lai_calloc(n_t, sizeof *m->weight_tensors);
    placed *order = lai_calloc(n_t, sizeof *order);
    m->weight_buffers = lai_calloc(n_t, sizeof *m->weight_buffers);
    if (m->weight_tensors == NULL || order == NULL || m->weight_buffers == NULL) {
        lai_free(order);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "no memory for tensor handles");
    }
    size_t n = 0;
    for (uint64_t i = 0; i < gg->n_tensors; i++) {
        const lai_gguf_tensor *t = &gg->tensors[i];
        lai_tensor *h = &m->weight_tensors[i];
        int64_t ne[LAI_MAX_DIMS];
        for (int d = 0; d < LAI_MAX_DIMS; d++) ne[d] = (int64_t)t->ne[d];
        /* Tensors of types no kernel reads (never bound to a role) keep an empty handle. */
        if (!lai_tensor_set_dense(h, t->type, ne) || t->n_bytes == 0) continue;
        h->kind = LAI_TENSOR_EXTERNAL;
        h->name = t->name;
        const int r = base[1] != NULL && t->data >= base[1] && t->data < base[1] + size[1];
        order[n++] = (placed){t->data, i, r};
    }
    qsort(order, n, sizeof *order, by_address);
    localai_status st = LOCALAI_STATUS_OK;
    for (size_t i = 0; i < n && st == LOCALAI_STATUS_OK;) {
        /* the run: tensors from order[i] while the span fits one buffer */
        const uint8_t *start = order[i].data;
        const uint8_t *end = start + gg->tensors[order[i].index].n_bytes;
        if ((size_t)(end - start) > dev->max_buffer) {
            st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "%s: tensor '%s' (%llu bytes) is larger than the "
                          "device's largest buffer (%zu bytes)", dev->vt->name, gg->tensors[order[i].index].name,
                          (unsigned long long)gg->tensors[order[i].index].n_bytes, dev->max_buffer);
            break;
        }
        size_t j = i + 1;
        for (; j < n && order[j].region == order[i].region; j++) {
            const uint8_t *e = order[j].data + gg->tensors[order[j].index].n_bytes;
            if ((size_t)((e > end ? e : end) - start) > dev->max_buffer) break;
            if (e > end) end = e;
        }
        lai_buffer *buf = NULL;
        st = dev->vt->buffer_from_host(dev, start, (size_t)(end - start), &buf);
        if (st != LOCALAI_STATUS_OK) break;
        m->weight_buffers[m->n_weight_buffers++] = buf;
        for (size_t k = i; k < j; k++) {
            lai_tensor *h = &m->weight_tensors[order[k].index];
            h->buffer = buf;
            h->offset = (size_t)(order[k].data - start);
        }
        i = j;
    }
    lai_free(order);
    return st;
}

/* Releases what wrap_weights made and the device, leaving the model without one. */
static void drop_device(localai_model *m) {
    for (size_t i = 0; i < m->n_weight_buffers; i++) m->device->vt->buffer_free(m->device, m->weight_buffers[i]);
    lai_free(m->weight_buffers);
    m->weight_buffers = NULL;
    m->n_weight_buffers = 0;
    lai_free(m->weight_tensors);
    m->weight_tensors = NULL;
    m->device->vt->destroy(m->device);
    m->device = NULL;
}

/* The Vulkan device for the host's request, or -1: AUTO takes the first discrete GPU,
 * VULKAN the named device or the first. An integrated GPU shares the CPU's memory
 * bandwidth, which the CPU kernels already stream at 70-90% of (docs/PERFORMANCE.md), and
 * no measurement yet shows the shaders beating them there; a CPU implementation such as
 * lavapipe is slower still. Either runs when the host asks for VULKAN. */
static int32_t vulkan_choice(int32_t backend, int32_t device_index, const char **why) {
    const lai_vk_device_desc *devs;
    int32_t n;
    lai_vk_probe(&devs, &n, why);
    if (backend == LOCALAI_BACKEND_VULKAN) return n == 0 ? -1 : device_index >= 0 ? device_index : 0;
    for (int32_t i = 0; i < n; i++)
        if (devs[i].is_discrete) return i;
    if (n > 0) *why = "no discrete GPU (an integrated or software device runs with backend VULKAN)";
    return -1;
}

/* Weight types the model's matrices use that the device has no shader for. */
static const char *unsupported_weight(const localai_model *m) {
    const lai_gguf *gg = m->gguf;
    for (uint64_t i = 0; i < gg->n_tensors; i++) {
        const lai_gguf_tensor *t = &gg->tensors[i];
        if (t->n_dims >= 2 && !lai_vk_has_weight_kernel(t->type)) return t->name;
    }
    return NULL;
}

/* Every kernel family the model needs, checked on the device against the CPU before the
 * model trusts it (drivers miscompile; ggml-vulkan users met garbage from some). */
static localai_status self_test(localai_model *m) {
    uint32_t types[32];
    int n = 0;
    for (uint64_t i = 0; i < m->gguf->n_tensors; i++) {
        const lai_gguf_tensor *t = &m->gguf->tensors[i];
        int seen = t->n_dims < 2;
        for (int j = 0; j < n && !seen; j++) seen = types[j] == t->type;
        if (!seen && n < 32) types[n++] = t->type;
    }
    char report[4096];
    int passed = 0;
    const int tier = lai_vk_backend_tier(m->device);
    localai_status st = lai_vk_self_test(m->device, types, n, report, sizeof report, &passed);
    if (st != LOCALAI_STATUS_OK) return st;
    if (!passed || lai_vk_backend_tier(m->device) != tier) {
        /* the lines that failed, for the log */
        char failed[1024] = "";
        for (char *line = report; *line;) {
            char *end = strchr(line, '\n');
            if (end != NULL) *end = '\0';
            if (strstr(line, "FAILED") != NULL && strlen(failed) + strlen(line) + 3 < sizeof failed) {
                if (failed[0]) strcat(failed, "; ");
                strcat(failed, line);
            }
            line = end != NULL ? end + 1 : line + strlen(line);
        }
        if (!passed)
            return lai_fail(LOCALAI_STATUS_BACKEND, "vulkan: the self-test on %s failed: %s",
                            lai_vk_backend_device(m->device)->name, failed);
        /* a faster tier disagreed and a slower one passed: run that one */
        lai_log_warn(&m->log, "vulkan: on %s the %s kernels failed the self-test (%s); running the %s kernels",
                     lai_vk_backend_device(m->device)->name, lai_vk_tier_name(tier), failed,
                     lai_vk_tier_name(lai_vk_backend_tier(m->device)));
    }
    lai_log_debug(&m->log, "vulkan: self-test passed:\n%s", report);
    return LOCALAI_STATUS_OK;
}

static localai_status try_vulkan(localai_model *m, int32_t backend, int32_t device_index,
                                 const localai_vulkan_interop *host, const char *pipeline_cache) {
    const char *why = "";
    const int32_t index = host != NULL ? 0 : vulkan_choice(backend, device_index, &why);
    if (index < 0) {
        if (backend == LOCALAI_BACKEND_VULKAN) lai_log_warn(&m->log, "vulkan: %s; running on the CPU", why);
        else lai_log_info(&m->log, "vulkan: %s; running on the CPU", why);
        return LOCALAI_STATUS_UNSUPPORTED;
    }
    const char *bad = unsupported_weight(m);
    if (bad != NULL) {
        lai_log_warn(&m->log, "vulkan: tensor '%s' has a type without a shader; running on the CPU", bad);
        return LOCALAI_STATUS_UNSUPPORTED;
    }
    const lai_vk_backend_params vp = {index, host, pipeline_cache};
    localai_status st = lai_vk_backend_new(&vp, &m->device);
    if (st == LOCALAI_STATUS_OK) {
        /* planned before anything is uploaded: the weights and room for a context's KV
         * cache and work buffers (an eighth more, at least 64 MiB) within device memory */
        const lai_vk_device_desc *d = lai_vk_backend_device(m->device);
        const uint64_t need = m->size_bytes + LAI_MAX(m->size_bytes / 8, (uint64_t)64 << 20);
        if (d->memory_bytes > 0 && need > d->memory_bytes) {
            st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY,
                          "vulkan: the model needs about %llu MiB on the device (%llu MiB of weights and room "
                          "for a context), '%s' has %llu MiB",
                          (unsigned long long)(need >> 20), (unsigned long long)(m->size_bytes >> 20), d->name,
                          (unsigned long long)(d->memory_bytes >> 20));
            m->device->vt->destroy(m->device);
            m->device = NULL;
        }
    }
    if (st == LOCALAI_STATUS_INVALID_ARGUMENT) return st; /* the host named a device that is not there */
    if (st == LOCALAI_STATUS_OK) {
        st = wrap_weights(m);
        if (st == LOCALAI_STATUS_OK) st = self_test(m);
        if (st != LOCALAI_STATUS_OK) drop_device(m);
    }
    if (st != LOCALAI_STATUS_OK) {
        lai_log_warn(&m->log, "%s; running on the CPU", localai_errmsg());
        lai_clear_error();
        return LOCALAI_STATUS_UNSUPPORTED;
    }
    m->backend = LOCALAI_BACKEND_VULKAN;
    lai_log_info(&m->log, "vulkan: running on %s; weights uploaded in %zu buffer(s)",
                 lai_vk_backend_device(m->device)->name, m->n_weight_buffers);
    return LOCALAI_STATUS_OK;
}

localai_status lai_model_device_init(localai_model *m, const localai_model_params *p,
                                     const localai_vulkan_interop *host) {
    if (p->backend != LOCALAI_BACKEND_CPU) {
        localai_status st = try_vulkan(m, p->backend, p->device_index, host, p->vulkan_pipeline_cache);
        if (st == LOCALAI_STATUS_OK || st == LOCALAI_STATUS_INVALID_ARGUMENT) return st;
    }
    m->backend = LOCALAI_BACKEND_CPU;
    localai_status st = lai_cpu_backend_new(m->pool, m->kernels, lai_model_heap(m), &m->device);
    if (st == LOCALAI_STATUS_OK) st = wrap_weights(m);
    return st;
}

void lai_model_device_free(localai_model *m) {
    if (m->device != NULL) drop_device(m);
}
