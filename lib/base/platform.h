/* platform.h - the operating-system calls liblocalai uses: files, mmap, threads, clocks. */
#ifndef LAI_PLATFORM_H
#define LAI_PLATFORM_H

#include "base.h"

/* An open regular file, read with lai_file_read_at. Only regular files open: a FIFO,
 * socket, device or directory is refused at once (the open never blocks on a FIFO that
 * has no writer). The file keeps a copy of `path` to name it in messages. */
typedef struct lai_file lai_file;
localai_status lai_file_open_read(const char *path, lai_file **out, uint64_t *out_size);
/* Reads exactly `size` bytes at `offset`. IO naming the path and byte offset on an error
 * or when the file ends first (it shrank since it was opened). */
localai_status lai_file_read_at(lai_file *f, void *buf, size_t size, uint64_t offset);
void lai_file_close(lai_file *f);

/* A read-only view of a whole file: mapped when possible and asked for, else read into
 * a heap buffer. `data` is NULL only for an empty file.
 *
 * A mapping reads the file's pages in place, so the file must not be truncated or
 * rewritten in place while the view is open (the kernel would deliver SIGBUS on a read of
 * a page that no longer exists); replacing it by rename is safe. A mapped view keeps the
 * file open so lai_file_view_check can tell whether it shrank. */
typedef struct lai_file_view {
    const uint8_t *data;
    uint64_t size;
    int is_mapped;
    lai_file *file;    /* kept open while mapped, else NULL */
} lai_file_view;

/* Opens `path` read-only and maps it (use_mmap != 0) or reads it whole. Fails with IO
 * and a message naming the path and the OS error. */
localai_status lai_file_view_open(const char *path, int use_mmap, lai_file_view *out);
/* OK while a mapped file still has at least the size it had when mapped; IO naming both
 * sizes when it was truncated (reading the view could then kill the process). A view
 * read into memory is always OK. */
localai_status lai_file_view_check(const lai_file_view *view);
void lai_file_view_close(lai_file_view *view);

/* Memory for a whole model file read into memory when the host gave no allocator: page
 * aligned, zero-filled, and backed by huge pages where the system offers them (Linux:
 * 2 MiB-aligned anonymous memory advised MADV_HUGEPAGE). The matrix-vector dots stream
 * weights faster from it than from a file mapping of 4 KiB pages: fewer TLB misses, and
 * hardware prefetchers that stop at page boundaries stop 512 times less often. NULL when
 * the memory cannot be had. */
void *lai_pages_alloc(size_t size);
void lai_pages_free(void *p, size_t size);

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

/* Mutexes and condition variables (heap objects, so no OS header leaks out). */
typedef struct lai_mutex lai_mutex;
typedef struct lai_cond lai_cond;
localai_status lai_mutex_new(lai_mutex **out);
void lai_mutex_free(lai_mutex *mutex);
void lai_mutex_lock(lai_mutex *mutex);
void lai_mutex_unlock(lai_mutex *mutex);
localai_status lai_cond_new(lai_cond **out);
void lai_cond_free(lai_cond *cond);
void lai_cond_wait(lai_cond *cond, lai_mutex *mutex);
void lai_cond_signal(lai_cond *cond);
void lai_cond_broadcast(lai_cond *cond);
/* Gives up the rest of this thread's time slice. */
void lai_thread_yield(void);

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

/* ---- replacing files safely ----------------------------------------------------------
 * A tool's output is written under a unique temporary name beside its final name and
 * renamed over it when complete: readers of the old file (even one mapped by this very
 * process) keep their bytes, a failure leaves no half-written file, and a link planted at
 * a predictable name is never followed. */
#include <stdio.h>

typedef struct lai_file_temp {
    FILE *file; /* open for binary writing */
    char *path; /* the temporary's name (heap; freed by commit or discard) */
} lai_file_temp;

/* Creates a new empty file in final_path's folder, named final_path + ".<random>.tmp",
 * exclusively: it never opens, truncates or follows an existing file or link (another
 * random name is tried when one exists). Mode 0666 less the umask, like any new file.
 * Fails with IO naming the path and the OS error. */
localai_status lai_file_temp_create(const char *final_path, lai_file_temp *out);
/* Flushes the data to disk, closes the file and renames it to final_path, replacing a file
 * or a link of that name (never writing through it). On failure the temporary is removed.
 * *tmp is cleared either way. */
localai_status lai_file_temp_commit(lai_file_temp *tmp, const char *final_path);
/* Closes and removes the temporary; does nothing for a cleared one. */
void lai_file_temp_discard(lai_file_temp *tmp);

/* *out_same = 1 when a and b name the same existing file: links followed, compared by
 * device and inode, so a symbolic or hard link to a file is that file. 0 when either
 * does not exist. Other failures (permission, a link loop) give IO naming the path. */
localai_status lai_file_same(const char *a, const char *b, int *out_same);

/* The size in bytes of the file at `path` (links followed); IO naming the path. */
localai_status lai_file_size(const char *path, uint64_t *out);

#endif /* LAI_PLATFORM_H */
