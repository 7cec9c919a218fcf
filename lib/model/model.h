/* model.h - the localai_model handle: file, hyper-parameters, vocabulary, weights. */
#ifndef LAI_MODEL_H
#define LAI_MODEL_H

#include "../gguf/gguf.h"
#include "../tokenizer/vocab.h"
#include "hparams.h"
#include "weights.h"

struct localai_model {
    lai_gguf *gguf;
    lai_vocab *vocab;
    lai_logger log;
    localai_allocator allocator; /* copy of the host's, or zeroed */
    int has_allocator;
    int32_t backend;             /* LOCALAI_BACKEND_CPU / _VULKAN */
    char *architecture;
    char *name;
    lai_hparams hp;
    lai_model_weights weights;   /* empty when opened vocab_only */
    int vocab_only;
    /* appended fields */
    uint8_t *file_buffer;        /* the whole file when opened without mmap (host allocator) */
    uint64_t file_buffer_size;
    size_t n_chat_templates;     /* tokenizer.chat_template and tokenizer.chat_template.NAME */
    char **chat_template_names;  /* "" for the default template */
    char **chat_templates;       /* NUL-terminated copies */
    uint64_t n_params;           /* sum of tensor elements in the file */
    uint64_t size_bytes;         /* sum of tensor bytes in the file */
    uint8_t *realigned;          /* tensors the file stores unaligned, copied (host allocator) */
    struct lai_threadpool *pool; /* CPU workers shared by every context (NULL: vocab_only) */
    const struct lai_cpu_kernels *kernels; /* the CPU kernel level its contexts run */
    /* The compute backend the model lives on (NULL: vocab_only), holding its weights
     * once for every context: weight_tensors[i] is file tensor i on the device. */
    struct lai_backend *device;
    struct lai_buffer **weight_buffers; /* runs of tensors, each within the device's largest buffer */
    size_t n_weight_buffers;
    struct lai_tensor *weight_tensors;
    size_t realigned_size;
};

/* The allocator a model's memory comes from (NULL: the C heap): public calls working for
 * the model pass it to lai_heap_enter. */
static inline const localai_allocator *lai_model_heap(const localai_model *m) {
    return m != NULL && m->has_allocator ? &m->allocator : NULL;
}

/* Creates the model's device and wraps its weights (model_device.c); the free undoes it.
 * p->backend, p->device_index and p->vulkan_pipeline_cache are the host's request: a Vulkan device
 * that cannot be used (no loader, no device, a weight type without a shader, too little
 * memory) leaves the model on the CPU, and the log says why. m->backend says where it
 * went. host (may be NULL): the host's own Vulkan device, checked by the caller. */
localai_status lai_model_device_init(localai_model *m, const localai_model_params *p,
                                     const localai_vulkan_interop *host);
void lai_model_device_free(localai_model *m);

#endif /* LAI_MODEL_H */
