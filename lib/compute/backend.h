/* backend.h - what a compute backend (CPU, Vulkan) provides: buffers, transfers, running a graph. */
#ifndef LAI_BACKEND_H
#define LAI_BACKEND_H

#include "graph.h"

/* Polled between ops; non-zero stops the run (the call then returns CANCELLED). */
typedef struct lai_compute_opts {
    localai_abort_fn abort_callback;
    void *abort_user;
} lai_compute_opts;

typedef struct lai_backend lai_backend;

/* Memory owned by a backend. `host` is the host address of byte 0 when the memory is
 * host-visible (always on the CPU backend), else NULL. */
struct lai_buffer {
    lai_backend *backend;
    uint8_t *host;
    size_t size;
    int owned;   /* 0: wraps memory the backend must not free (mapped weights) */
    void *impl;  /* backend-specific */
};

typedef struct lai_backend_vtable {
    const char *name;
    /* Device memory of `size` bytes (zero-filled). */
    localai_status (*buffer_alloc)(lai_backend *be, size_t size, lai_buffer **out);
    /* Read-only memory holding `size` bytes of host data that outlives the buffer (the
     * mapped model file). The CPU backend uses the host memory in place: no copy. */
    localai_status (*buffer_from_host)(lai_backend *be, const void *data, size_t size,
                                       lai_buffer **out);
    void (*buffer_free)(lai_backend *be, lai_buffer *buf);
    size_t (*buffer_size)(const lai_buffer *buf);
    /* Host <-> device copies of `size` bytes at byte `offset` of a tensor's memory. Used
     * before a run (inputs) and after it (outputs), never during. */
    localai_status (*tensor_write)(lai_backend *be, const lai_tensor *t, const void *src,
                                   size_t offset, size_t size);
    localai_status (*tensor_read)(lai_backend *be, const lai_tensor *t, void *dst,
                                  size_t offset, size_t size);
    /* Copies `size` bytes inside a buffer (KV cache maintenance). */
    localai_status (*buffer_copy)(lai_backend *be, lai_buffer *buf, size_t dst_offset,
                                  size_t src_offset, size_t size);
    /* Runs every op of a planned and bound graph, in order. */
    localai_status (*compute)(lai_backend *be, const lai_graph *g, const lai_compute_opts *opts);
    void (*destroy)(lai_backend *be);
} lai_backend_vtable;

struct lai_backend {
    const lai_backend_vtable *vt;
};

#endif /* LAI_BACKEND_H */
