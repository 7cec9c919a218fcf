/* cpu_backend.h - the CPU compute backend: host buffers, scalar kernels on a thread pool. */
#ifndef LAI_CPU_BACKEND_H
#define LAI_CPU_BACKEND_H

#include "../compute/backend.h"

/* n_threads <= 0 means one per core. `host_alloc` (may be NULL) serves large buffers. */
localai_status lai_cpu_backend_new(int32_t n_threads, const localai_allocator *host_alloc,
                                   lai_backend **out);

#endif /* LAI_CPU_BACKEND_H */
