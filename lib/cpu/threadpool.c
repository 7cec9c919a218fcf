/* threadpool.c - worker threads that sleep between runs and spin briefly at barriers. */
#include "threadpool.h"

#include "../base/platform.h"

#include <stdatomic.h>

struct lai_threadpool {
    int n_threads;
    lai_thread **workers;
    int n_started;
    lai_mutex *mutex;
    lai_cond *wake;   /* workers wait here for a new run */
    lai_cond *done;   /* the caller waits here for workers to finish */
    uint64_t run_id;  /* incremented for every run (under mutex) */
    int n_busy;       /* workers still in the current run (under mutex) */
    int stop;
    lai_task_fn fn;
    void *arg;
    /* barrier */
    atomic_int n_arrived;
    atomic_int phase;
};

typedef struct worker_arg {
    lai_threadpool *pool;
    int ith;
} worker_arg;

static void worker_main(void *p) {
    worker_arg wa = *(worker_arg *)p;
    lai_free(p);
    lai_threadpool *pool = wa.pool;
    uint64_t seen = 0;
    for (;;) {
        lai_mutex_lock(pool->mutex);
        while (!pool->stop && pool->run_id == seen) lai_cond_wait(pool->wake, pool->mutex);
        if (pool->stop) {
            lai_mutex_unlock(pool->mutex);
            return;
        }
        seen = pool->run_id;
        lai_task_fn fn = pool->fn;
        void *arg = pool->arg;
        lai_mutex_unlock(pool->mutex);

        fn(arg, wa.ith, pool->n_threads);

        lai_mutex_lock(pool->mutex);
        if (--pool->n_busy == 0) lai_cond_signal(pool->done);
        lai_mutex_unlock(pool->mutex);
    }
}

localai_status lai_threadpool_new(int n_threads, lai_threadpool **out) {
    if (n_threads < 1 || n_threads > 1024)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "thread pool: %d threads (1..1024)", n_threads);
    lai_threadpool *pool = lai_calloc(1, sizeof *pool);
    if (pool == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "thread pool: no memory");
    pool->n_threads = n_threads;
    atomic_init(&pool->n_arrived, 0);
    atomic_init(&pool->phase, 0);
    localai_status st = lai_mutex_new(&pool->mutex);
    if (st == LOCALAI_STATUS_OK) st = lai_cond_new(&pool->wake);
    if (st == LOCALAI_STATUS_OK) st = lai_cond_new(&pool->done);
    if (st != LOCALAI_STATUS_OK) {
        lai_threadpool_free(pool);
        return st;
    }
    if (n_threads > 1) {
        pool->workers = lai_calloc((size_t)n_threads - 1, sizeof *pool->workers);
        if (pool->workers == NULL) {
            lai_threadpool_free(pool);
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "thread pool: no memory");
        }
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = lai_malloc(sizeof *wa);
        if (wa == NULL) {
            lai_threadpool_free(pool);
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "thread pool: no memory");
        }
        wa->pool = pool;
        wa->ith = i;
        st = lai_thread_start(&pool->workers[i - 1], worker_main, wa);
        if (st != LOCALAI_STATUS_OK) {
            lai_free(wa);
            lai_threadpool_free(pool);
            return st;
        }
        pool->n_started++;
    }
    *out = pool;
    return LOCALAI_STATUS_OK;
}

void lai_threadpool_free(lai_threadpool *pool) {
    if (pool == NULL) return;
    if (pool->mutex != NULL && pool->wake != NULL) {
        lai_mutex_lock(pool->mutex);
        pool->stop = 1;
        lai_cond_broadcast(pool->wake);
        lai_mutex_unlock(pool->mutex);
    }
    for (int i = 0; i < pool->n_started; i++) lai_thread_join(pool->workers[i]);
    lai_free(pool->workers);
    lai_cond_free(pool->wake);
    lai_cond_free(pool->done);
    lai_mutex_free(pool->mutex);
    lai_free(pool);
}

int lai_threadpool_size(const lai_threadpool *pool) { return pool->n_threads; }

void lai_threadpool_run(lai_threadpool *pool, lai_task_fn fn, void *arg) {
    if (pool->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    lai_mutex_lock(pool->mutex);
    pool->fn = fn;
    pool->arg = arg;
    pool->n_busy = pool->n_threads - 1;
    pool->run_id++;
    lai_cond_broadcast(pool->wake);
    lai_mutex_unlock(pool->mutex);

    fn(arg, 0, pool->n_threads);

    lai_mutex_lock(pool->mutex);
    while (pool->n_busy > 0) lai_cond_wait(pool->done, pool->mutex);
    lai_mutex_unlock(pool->mutex);
}

void lai_threadpool_barrier(lai_threadpool *pool) {
    int nth = pool->n_threads;
    if (nth == 1) return;
    int phase = atomic_load_explicit(&pool->phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&pool->n_arrived, 1, memory_order_acq_rel) == nth - 1) {
        atomic_store_explicit(&pool->n_arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&pool->phase, 1, memory_order_acq_rel);
        return;
    }
    /* Spin a little (ops are short), then yield: the machine may have fewer free cores
     * than threads, and a spinning thread would steal time from the one we wait for. */
    for (int spins = 0; atomic_load_explicit(&pool->phase, memory_order_acquire) == phase; spins++) {
        if (spins > 2000) lai_thread_yield();
    }
}
