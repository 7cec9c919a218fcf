/* cpu_backend.h - the CPU compute backend: host buffers, scalar kernels on a thread pool. */
#ifndef LAI_CPU_BACKEND_H
#define LAI_CPU_BACKEND_H

#include "../compute/backend.h"
#include "cpu_kernels.h"
#include "threadpool.h"

/* The CPU backend of a model: buffers in host memory (from `host_alloc` when not NULL),
 * the kernels of one level (NULL: the best this CPU runs), and graphs run on each
 * context's calling thread plus workers of `pool` (shared, not owned; NULL: the caller
 * alone), up to the n_threads of the context's lai_exec_params. */
localai_status lai_cpu_backend_new(lai_threadpool *pool, const lai_cpu_kernels *kernels,
                                   const localai_allocator *host_alloc, lai_backend **out);

#endif /* LAI_CPU_BACKEND_H */
