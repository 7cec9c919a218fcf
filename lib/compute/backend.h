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
typedef struct lai_exec lai_exec;

/* Memory owned by a backend. `host` is the host address of byte 0 when the memory is
 * host-visible (always on the CPU backend), else NULL. */
struct lai_buffer {
    lai_backend *backend;
    uint8_t *host;
    size_t size;
    int owned;   /* 0: wraps memory the backend must not free (mapped weights) */
    void *impl;  /* backend-specific */
};

/* What one context runs with: its share of the device (threads on the CPU). */
typedef struct lai_exec_params {
    int32_t n_threads; /* CPU threads; <= 0: one per core */
} lai_exec_params;

/*
 * A backend belongs to a model: it holds the model's weights as the device wants them
 * (on the CPU the mapped file in place; on a GPU an upload) and every context of the
 * model allocates its KV cache and work buffers from it. The buffer and transfer calls
 * are thread-safe (contexts on several threads use one model). A context runs graphs
 * through its own lai_exec: execution state (scratch, threads, command buffers) that
 * one thread uses at a time.
 */
typedef struct lai_backend_vtable {
    const char *name;
    /* Device memory of `size` bytes, at most lai_backend.max_buffer. Its contents are
     * undefined until written: nothing reads the KV cache, a cell table or an activation
     * before writing it, and not clearing saves a pass over every byte (page faults
     * included) when a context is made. */
    localai_status (*buffer_alloc)(lai_backend *be, size_t size, lai_buffer **out);
    /* Read-only memory holding `size` bytes of host data that outlives the buffer (the
     * mapped model file). The CPU backend uses the host memory in place: no copy. */
    localai_status (*buffer_from_host)(lai_backend *be, const void *data, size_t size,
                                       lai_buffer **out);
    void (*buffer_free)(lai_backend *be, lai_buffer *buf);
    /* Host <-> device copies of `size` bytes at byte `offset` of a tensor's memory. Used
     * before a run (inputs) and after it (outputs), never during. */
    localai_status (*tensor_write)(lai_backend *be, const lai_tensor *t, const void *src,
                                   size_t offset, size_t size);
    localai_status (*tensor_read)(lai_backend *be, const lai_tensor *t, void *dst,
                                  size_t offset, size_t size);
    /* Execution state for one context. */
    localai_status (*exec_new)(lai_backend *be, const lai_exec_params *p, lai_exec **out);
    void (*exec_free)(lai_exec *ex);
    /* Runs every op of a planned and bound graph, in order. */
    localai_status (*compute)(lai_exec *ex, const lai_graph *g, const lai_compute_opts *opts);
    void (*destroy)(lai_backend *be);
} lai_backend_vtable;

struct lai_backend {
    const lai_backend_vtable *vt;
    size_t alignment;  /* of every buffer and of planned tensor offsets */
    size_t max_buffer; /* the largest single buffer the device allocates */
};

#endif /* LAI_BACKEND_H */
