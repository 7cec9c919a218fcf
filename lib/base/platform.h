/* platform.h - the operating-system calls liblocalai uses: files, mmap, threads, clocks. */
#ifndef LAI_PLATFORM_H
#define LAI_PLATFORM_H

#include "base.h"

/* A read-only view of a whole file: mapped when possible and asked for, else read into
 * a heap buffer. `data` is NULL only for an empty file. */
typedef struct lai_file_view {
    const uint8_t *data;
    uint64_t size;
    int is_mapped;
} lai_file_view;

/* Opens `path` read-only and maps it (use_mmap != 0) or reads it whole. Fails with IO
 * and a message naming the path and the OS error. */
localai_status lai_file_view_open(const char *path, int use_mmap, lai_file_view *out);
void lai_file_view_close(lai_file_view *view);

/* Monotonic time in nanoseconds. */
uint64_t lai_time_ns(void);

/* Number of online CPU cores (at least 1). */
int32_t lai_cpu_count(void);

/* Physical memory in bytes, 0 when unknown. */
uint64_t lai_physical_memory(void);

/* Threads: a thin wrapper so the rest of the library never includes pthread.h. */
typedef struct lai_thread lai_thread;
typedef void (*lai_thread_fn)(void *arg);
localai_status lai_thread_start(lai_thread **out, lai_thread_fn fn, void *arg);
void lai_thread_join(lai_thread *thread);

/* Runs `fn` exactly once per process, thread-safely. */
typedef struct lai_once {
    volatile int state; /* 0 = not run, 1 = running, 2 = done */
} lai_once;
#define LAI_ONCE_INIT {0}
void lai_call_once(lai_once *once, void (*fn)(void));

/* Dynamic libraries (Vulkan loader). */
void *lai_dlopen(const char *name);
void *lai_dlsym(void *lib, const char *symbol);
void lai_dlclose(void *lib);

#endif /* LAI_PLATFORM_H */
