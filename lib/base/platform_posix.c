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

struct lai_file {
    int fd;
    char *path; /* for messages */
};

localai_status lai_file_open_read(const char *path, lai_file **out, uint64_t *out_size) {
    /* O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever; it has no
     * effect on reading a regular file, the only kind we go on with. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return lai_fail(LOCALAI_STATUS_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return lai_fail(LOCALAI_STATUS_IO, "%s: cannot stat: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lai_fail(LOCALAI_STATUS_IO, "%s: not a regular file (%s)", path,
                        S_ISDIR(st.st_mode)    ? "a directory"
                        : S_ISFIFO(st.st_mode) ? "a FIFO"
                        : S_ISCHR(st.st_mode)  ? "a character device"
                        : S_ISBLK(st.st_mode)  ? "a block device"
                        : S_ISSOCK(st.st_mode) ? "a socket"
                                               : "not a plain file");
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if (st.st_size < 0 || (uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return lai_fail(LOCALAI_STATUS_IO, "%s: file too large for this platform", path);
    }
    lai_file *f = lai_calloc(1, sizeof *f);
    if (f != NULL) f->path = lai_strdup(path);
    if (f == NULL || f->path == NULL) {
        lai_free(f);
        close(fd);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "%s: no memory to open it", path);
    }
    f->fd = fd;
    *out = f;
    *out_size = (uint64_t)st.st_size;
    return LOCALAI_STATUS_OK;
}

localai_status lai_file_read_at(lai_file *f, void *buf, size_t size, uint64_t offset) {
    uint8_t *p = buf;
    size_t done = 0;
    while (done < size) {
        uint64_t at = offset + done;
        if (at > (uint64_t)INT64_MAX)
            return lai_fail(LOCALAI_STATUS_IO, "%s: offset %llu is out of range", f->path,
                            (unsigned long long)at);
        size_t want = size - done;
        if (want > ((size_t)1 << 30)) want = (size_t)1 << 30; /* some systems cap one read */
        ssize_t n = pread(f->fd, p + done, want, (off_t)at);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return lai_fail(LOCALAI_STATUS_IO, "%s: read failed at byte %llu: %s", f->path,
                            (unsigned long long)at, strerror(errno));
        if (n == 0)
            return lai_fail(LOCALAI_STATUS_IO, "%s: the file ends at byte %llu, %zu bytes early "
                            "(it shrank while being read)", f->path, (unsigned long long)at,
                            size - done);
        done += (size_t)n;
    }
    return LOCALAI_STATUS_OK;
}

void lai_file_close(lai_file *f) {
    if (f == NULL) return;
    close(f->fd);
    lai_free(f->path);
    lai_free(f);
}

localai_status lai_file_view_open(const char *path, int use_mmap, lai_file_view *out) {
    memset(out, 0, sizeof *out);
    lai_file *f = NULL;
    uint64_t size = 0;
    localai_status st = lai_file_open_read(path, &f, &size);
    if (st != LOCALAI_STATUS_OK) return st;
    out->size = size;
    if (size == 0) {
        lai_file_close(f);
        return LOCALAI_STATUS_OK;
    }
    if (use_mmap) {
        void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, f->fd, 0);
        if (p != MAP_FAILED) {
            out->data = p;
            out->is_mapped = 1;
            out->file = f; /* kept for lai_file_view_check */
            return LOCALAI_STATUS_OK;
        }
        /* Fall back to reading (e.g. a filesystem without mmap support). */
    }
    uint8_t *buf = lai_malloc((size_t)size);
    if (buf == NULL) {
        lai_file_close(f);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "%s: cannot allocate %llu bytes to read it",
                        path, (unsigned long long)size);
    }
    st = lai_file_read_at(f, buf, (size_t)size, 0);
    lai_file_close(f);
    if (st != LOCALAI_STATUS_OK) {
        lai_free(buf);
        return st;
    }
    out->data = buf;
    return LOCALAI_STATUS_OK;
}

localai_status lai_file_view_check(const lai_file_view *view) {
    if (view == NULL || view->file == NULL) return LOCALAI_STATUS_OK;
    struct stat st;
    if (fstat(view->file->fd, &st) != 0)
        return lai_fail(LOCALAI_STATUS_IO, "%s: cannot stat the mapped file: %s", view->file->path,
                        strerror(errno));
    if (st.st_size < 0 || (uint64_t)st.st_size < view->size)
        return lai_fail(LOCALAI_STATUS_IO,
                        "%s: the file was truncated to %lld bytes while mapped (it had %llu); "
                        "reopen it, and open files that may change in place with use_mmap = 0",
                        view->file->path, (long long)st.st_size, (unsigned long long)view->size);
    return LOCALAI_STATUS_OK;
}

void lai_file_view_close(lai_file_view *view) {
    if (view == NULL) return;
    if (view->data != NULL) {
        if (view->is_mapped)
            munmap((void *)view->data, (size_t)view->size);
        else
            lai_free((void *)view->data);
    }
    lai_file_close(view->file);
    memset(view, 0, sizeof *view);
}

#define HUGE_PAGE ((size_t)2 << 20)

void *lai_pages_alloc(size_t size) {
    size_t len, span;
    if (size == 0 || lai_add_overflow_size(size, 4095, &len)) return NULL;
    len &= ~(size_t)4095;
    if (lai_add_overflow_size(len, HUGE_PAGE, &span)) return NULL;
    uint8_t *area = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) return NULL;
    /* keep the 2 MiB-aligned part, give back the rest */
    uint8_t *at = (uint8_t *)(((uintptr_t)area + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (at > area) munmap(area, (size_t)(at - area));
    if (area + span > at + len) munmap(at + len, (size_t)(area + span - (at + len)));
#ifdef MADV_HUGEPAGE
    (void)madvise(at, len, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
#endif
    return at;
}

void lai_pages_free(void *p, size_t size) {
    if (p == NULL) return;
    munmap(p, (size + 4095) & ~(size_t)4095);
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
        /* process-wide state outlives any model: never from a model's allocator */
        const localai_allocator *previous = lai_heap_enter(NULL);
        fn();
        lai_heap_leave(previous);
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

/* ---- replacing files safely ------------------------------------------------------------ */

#if defined(__linux__)
#include <sys/random.h>
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <stdlib.h> /* arc4random_buf */
#endif

/* 64 unpredictable bits for a temporary's name. Unpredictable only makes names harder to
 * squat on: safety comes from O_EXCL, and a taken name just costs another try. */
static uint64_t temp_name_bits(unsigned attempt) {
    uint64_t r = 0;
#if defined(__linux__)
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r) return r;
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
    arc4random_buf(&r, sizeof r);
    return r;
#endif
    /* No system generator: clock, process, stack address and attempt, mixed (splitmix64). */
    r = lai_time_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&r ^
        ((uint64_t)attempt * 0x9E3779B97F4A7C15ull);
    r = (r ^ (r >> 30)) * 0xBF58476D1CE4E5B9ull;
    r = (r ^ (r >> 27)) * 0x94D049BB133111EBull;
    return r ^ (r >> 31);
}

localai_status lai_file_temp_create(const char *final_path, lai_file_temp *out) {
    if (out == NULL || final_path == NULL || final_path[0] == '\0')
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "temporary file: empty or NULL path");
    memset(out, 0, sizeof *out);
    enum { SUFFIX = 1 + 12 + 4 + 1 }; /* ".<12 random chars>.tmp" and the NUL */
    size_t len = strlen(final_path);
    if (len > SIZE_MAX - SUFFIX)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "temporary file: path too long");
    char *path = lai_malloc(len + SUFFIX);
    if (path == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "%s: cannot allocate a temporary name",
                        final_path);
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        uint64_t bits = temp_name_bits(attempt);
        char rnd[13];
        for (int i = 0; i < 12; i++) rnd[i] = alphabet[(bits >> (5 * i)) & 31];
        rnd[12] = '\0';
        snprintf(path, len + SUFFIX, "%s.%s.tmp", final_path, rnd);
        /* O_EXCL: never an existing file (and, with O_CREAT, never through a link);
         * O_NOFOLLOW says the same for systems that would otherwise follow one. */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) {
            int err = errno;
            localai_status st = lai_fail(LOCALAI_STATUS_IO,
                                         "%s: cannot create a temporary file beside it: %s",
                                         final_path, strerror(err));
            lai_free(path);
            return st;
        }
        FILE *f = fdopen(fd, "wb");
        if (f == NULL) {
            int err = errno;
            close(fd);
            unlink(path);
            localai_status st = lai_fail(LOCALAI_STATUS_IO, "%s: cannot open a stream on it: %s",
                                         path, strerror(err));
            lai_free(path);
            return st;
        }
        out->file = f;
        out->path = path;
        return LOCALAI_STATUS_OK;
    }
    lai_free(path);
    return lai_fail(LOCALAI_STATUS_IO,
                    "%s: cannot create a temporary file beside it: 100 random names taken",
                    final_path);
}

localai_status lai_file_temp_commit(lai_file_temp *tmp, const char *final_path) {
    if (tmp == NULL || tmp->file == NULL || tmp->path == NULL || final_path == NULL) {
        lai_file_temp_discard(tmp);
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "temporary file: nothing to commit");
    }
    localai_status st = LOCALAI_STATUS_OK;
    /* On disk before the rename, so a crash cannot leave final_path naming a file whose
     * data never arrived. */
    if (fflush(tmp->file) != 0 || fsync(fileno(tmp->file)) != 0)
        st = lai_fail(LOCALAI_STATUS_IO, "%s: write failed: %s", tmp->path, strerror(errno));
    int closed = fclose(tmp->file);
    int close_err = errno;
    tmp->file = NULL;
    if (st == LOCALAI_STATUS_OK && closed != 0)
        st = lai_fail(LOCALAI_STATUS_IO, "%s: write failed: %s", tmp->path, strerror(close_err));
    if (st == LOCALAI_STATUS_OK && rename(tmp->path, final_path) != 0)
        st = lai_fail(LOCALAI_STATUS_IO, "%s: cannot replace it with the finished %s: %s",
                      final_path, tmp->path, strerror(errno));
    if (st == LOCALAI_STATUS_OK) {
        lai_free(tmp->path);
        tmp->path = NULL;
    }
    lai_file_temp_discard(tmp);
    return st;
}

void lai_file_temp_discard(lai_file_temp *tmp) {
    if (tmp == NULL) return;
    if (tmp->file != NULL) fclose(tmp->file);
    if (tmp->path != NULL) unlink(tmp->path);
    lai_free(tmp->path);
    memset(tmp, 0, sizeof *tmp);
}

localai_status lai_file_same(const char *a, const char *b, int *out_same) {
    if (a == NULL || b == NULL || out_same == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "lai_file_same: NULL argument");
    *out_same = 0;
    struct stat sa, sb;
    const char *paths[2] = {a, b};
    struct stat *sts[2] = {&sa, &sb};
    for (int i = 0; i < 2; i++) {
        if (stat(paths[i], sts[i]) == 0) continue;
        if (errno == ENOENT || errno == ENOTDIR) return LOCALAI_STATUS_OK; /* nothing there */
        return lai_fail(LOCALAI_STATUS_IO, "%s: cannot stat: %s", paths[i], strerror(errno));
    }
    *out_same = sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return LOCALAI_STATUS_OK;
}

localai_status lai_file_size(const char *path, uint64_t *out) {
    if (path == NULL || out == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "lai_file_size: NULL argument");
    struct stat st;
    if (stat(path, &st) != 0)
        return lai_fail(LOCALAI_STATUS_IO, "%s: cannot stat: %s", path, strerror(errno));
    *out = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    return LOCALAI_STATUS_OK;
}
