/* model_device.c - the model on its compute backend: the device, and every file tensor as a handle into device memory. */
#include "model.h"

#include "../cpu/cpu_backend.h"

/* Handles for every tensor of the file, pointing where its data already is: the file
 * image (the mapping, or the model's copy of the file) or the block of tensors the model
 * had to realign. One device buffer wraps each of the two; on the CPU that is the memory
 * itself, on a GPU an upload made once here for every context. */
static localai_status wrap_weights(localai_model *m) {
    const lai_gguf *gg = m->gguf;
    lai_backend *dev = m->device;
    const uint8_t *base[2] = {gg->view.data, m->realigned};
    const size_t size[2] = {(size_t)gg->view.size, m->realigned_size};
    m->weight_tensors = lai_calloc(gg->n_tensors ? (size_t)gg->n_tensors : 1, sizeof *m->weight_tensors);
    if (m->weight_tensors == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "no memory for tensor handles");
    for (int r = 0; r < 2; r++) {
        if (base[r] == NULL) continue;
        localai_status st = dev->vt->buffer_from_host(dev, base[r], size[r], &m->weight_buffers[r]);
        if (st != LOCALAI_STATUS_OK) return st;
    }
    for (uint64_t i = 0; i < gg->n_tensors; i++) {
        const lai_gguf_tensor *t = &gg->tensors[i];
        lai_tensor *h = &m->weight_tensors[i];
        int64_t ne[LAI_MAX_DIMS];
        for (int d = 0; d < LAI_MAX_DIMS; d++) ne[d] = (int64_t)t->ne[d];
        /* Tensors of types no kernel reads (never bound to a role) keep an empty handle. */
        if (!lai_tensor_set_dense(h, t->type, ne)) continue;
        const int r = base[1] != NULL && t->data >= base[1] && t->data < base[1] + size[1];
        h->kind = LAI_TENSOR_EXTERNAL;
        h->buffer = m->weight_buffers[r];
        h->offset = (size_t)(t->data - base[r]);
        h->name = t->name;
    }
    return LOCALAI_STATUS_OK;
}

localai_status lai_model_device_init(localai_model *m) {
    localai_status st = lai_cpu_backend_new(m->pool, m->kernels, lai_model_heap(m), &m->device);
    if (st == LOCALAI_STATUS_OK) st = wrap_weights(m);
    return st;
}

void lai_model_device_free(localai_model *m) {
    if (m->device == NULL) return;
    for (int r = 0; r < 2; r++)
        if (m->weight_buffers[r] != NULL) m->device->vt->buffer_free(m->device, m->weight_buffers[r]);
    lai_free(m->weight_tensors);
    m->device->vt->destroy(m->device);
    m->device = NULL;
}
