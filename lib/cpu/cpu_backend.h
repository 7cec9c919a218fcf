/* cpu_backend.h - the CPU compute backend: host buffers, scalar kernels on a thread pool. */
#ifndef LAI_CPU_BACKEND_H
#define LAI_CPU_BACKEND_H

#include "../compute/backend.h"
#include "cpu_kernels.h"
#include "threadpool.h"

/* Runs graphs on the calling thread and up to n_threads - 1 workers of `pool` (shared,
 * not owned; NULL: the caller alone) with the kernels of one level (NULL: the best this
 * CPU runs). n_threads <= 0 means one per core. `host_alloc` (may be NULL) serves large
 * buffers. */
localai_status lai_cpu_backend_new(lai_threadpool *pool, int32_t n_threads, const lai_cpu_kernels *kernels,
                                   const localai_allocator *host_alloc, lai_backend **out);

#endif /* LAI_CPU_BACKEND_H */
