/* platform_posix.c - POSIX implementation of platform.h (Linux, macOS, BSD). */
#define _GNU_SOURCE
#include "platform.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

localai_status lai_file_view_open(const char *path, int use_mmap, lai_file_view *out) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lai_fail(LOCALAI_STATUS_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return lai_fail(LOCALAI_STATUS_IO, "%s: cannot stat: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lai_fail(LOCALAI_STATUS_IO, "%s: not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size > (uint64_t)SIZE_MAX) {
        close(fd);
        return lai_fail(LOCALAI_STATUS_IO, "%s: file too large for this platform", path);
    }
    out->size = size;
    if (size == 0) {
        close(fd);
        return LOCALAI_STATUS_OK;
    }
    if (use_mmap) {
        void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            out->data = p;
            out->is_mapped = 1;
            return LOCALAI_STATUS_OK;
        }
        /* Fall back to reading (e.g. a filesystem without mmap support). */
    }
    uint8_t *buf = lai_malloc((size_t)size);
    if (buf == NULL) {
        close(fd);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "%s: cannot allocate %llu bytes to read it",
                        path, (unsigned long long)size);
    }
    uint64_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, buf + done, (size_t)(size - done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            lai_free(buf);
            close(fd);
            return lai_fail(LOCALAI_STATUS_IO, "%s: read failed at byte %llu: %s", path,
                            (unsigned long long)done, strerror(err));
        }
        done += (uint64_t)n;
    }
    close(fd);
    out->data = buf;
    return LOCALAI_STATUS_OK;
}

void lai_file_view_close(lai_file_view *view) {
    if (view == NULL || view->data == NULL) return;
    if (view->is_mapped)
        munmap((void *)view->data, (size_t)view->size);
    else
        lai_free((void *)view->data);
    memset(view, 0, sizeof *view);
}

uint64_t lai_time_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int32_t lai_cpu_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int32_t)n : 1;
}

uint64_t lai_physical_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES);
    long page_size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page_size <= 0) return 0;
    return (uint64_t)pages * (uint64_t)page_size;
}

struct lai_thread {
    pthread_t handle;
    lai_thread_fn fn;
    void *arg;
};

static void *thread_trampoline(void *p) {
    lai_thread *t = p;
    t->fn(t->arg);
    return NULL;
}

localai_status lai_thread_start(lai_thread **out, lai_thread_fn fn, void *arg) {
    lai_thread *t = lai_calloc(1, sizeof *t);
    if (t == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate a thread");
    t->fn = fn;
    t->arg = arg;
    int rc = pthread_create(&t->handle, NULL, thread_trampoline, t);
    if (rc != 0) {
        lai_free(t);
        return lai_fail(LOCALAI_STATUS_BACKEND, "cannot start a thread: %s", strerror(rc));
    }
    *out = t;
    return LOCALAI_STATUS_OK;
}

void lai_thread_join(lai_thread *thread) {
    if (thread == NULL) return;
    pthread_join(thread->handle, NULL);
    lai_free(thread);
}

struct lai_mutex {
    pthread_mutex_t m;
};

struct lai_cond {
    pthread_cond_t c;
};

localai_status lai_mutex_new(lai_mutex **out) {
    lai_mutex *m = lai_calloc(1, sizeof *m);
    if (m == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate a mutex");
    int rc = pthread_mutex_init(&m->m, NULL);
    if (rc != 0) {
        lai_free(m);
        return lai_fail(LOCALAI_STATUS_BACKEND, "cannot create a mutex: %s", strerror(rc));
    }
    *out = m;
    return LOCALAI_STATUS_OK;
}

void lai_mutex_free(lai_mutex *mutex) {
    if (mutex == NULL) return;
    pthread_mutex_destroy(&mutex->m);
    lai_free(mutex);
}

void lai_mutex_lock(lai_mutex *mutex) { pthread_mutex_lock(&mutex->m); }
void lai_mutex_unlock(lai_mutex *mutex) { pthread_mutex_unlock(&mutex->m); }

localai_status lai_cond_new(lai_cond **out) {
    lai_cond *c = lai_calloc(1, sizeof *c);
    if (c == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate a condition");
    int rc = pthread_cond_init(&c->c, NULL);
    if (rc != 0) {
        lai_free(c);
        return lai_fail(LOCALAI_STATUS_BACKEND, "cannot create a condition: %s", strerror(rc));
    }
    *out = c;
    return LOCALAI_STATUS_OK;
}

void lai_cond_free(lai_cond *cond) {
    if (cond == NULL) return;
    pthread_cond_destroy(&cond->c);
    lai_free(cond);
}

void lai_cond_wait(lai_cond *cond, lai_mutex *mutex) { pthread_cond_wait(&cond->c, &mutex->m); }
void lai_cond_signal(lai_cond *cond) { pthread_cond_signal(&cond->c); }
void lai_cond_broadcast(lai_cond *cond) { pthread_cond_broadcast(&cond->c); }
void lai_thread_yield(void) { sched_yield(); }

void lai_call_once(lai_once *once, void (*fn)(void)) {
    int expected = 0;
    if (__atomic_load_n(&once->state, __ATOMIC_ACQUIRE) == 2) return;
    if (__atomic_compare_exchange_n(&once->state, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        fn();
        __atomic_store_n(&once->state, 2, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&once->state, __ATOMIC_ACQUIRE) != 2) sched_yield();
}

void *lai_dlopen(const char *name) { return dlopen(name, RTLD_NOW | RTLD_LOCAL); }
void *lai_dlsym(void *lib, const char *symbol) { return dlsym(lib, symbol); }
void lai_dlclose(void *lib) {
    if (lib != NULL) dlclose(lib);
}
