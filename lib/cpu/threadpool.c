/* threadpool.c - shared workers: claimed per run, spinning briefly then sleeping between runs. */
#include "threadpool.h"

#include "../base/platform.h"

#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* How long an idle worker polls for its next run before it sleeps: long enough to span
 * the host's sampling between two decodes, short enough not to burn a core for long. */
#define SPIN_NS 200000u
/* How long a thread waiting at a barrier polls before it yields between polls. */
#define BARRIER_SPIN_NS 50000u

struct lai_team {
    lai_task_fn fn;
    void *arg;
    int nth;
    atomic_int n_arrived, phase; /* barrier */
    atomic_int n_done;           /* workers that finished the task */
};

typedef struct worker {
    lai_threadpool *pool;
    lai_thread *thread;
    lai_cond *wake;
    int claimed;        /* held by a run (under pool->mutex) */
    struct worker *next_claimed; /* the next worker of the same run (its caller's list) */
    int sleeping;       /* waiting on wake (under pool->mutex) */
    lai_team *team;     /* the run's team and this worker's index, published by `seq` */
    int ith;
    atomic_uint seq;    /* incremented for every run posted to this worker */
} worker;

struct lai_threadpool {
    lai_mutex *mutex;
    int max_workers;    /* the most that may start (under mutex) */
    int n_started;
    int n_busy;         /* threads inside runs now, callers included (under mutex) */
    worker *workers;    /* LAI_THREADPOOL_MAX - 1 entries, the first n_started running */
    atomic_int stop;
};

static void worker_main(void *p) {
    worker *w = p;
    lai_threadpool *pool = w->pool;
    unsigned seen = 0;
    for (;;) {
        /* Poll for a run, then sleep; `seq` is re-read under the mutex after `sleeping` is
         * set, and a poster signals under the same mutex, so no wake-up is lost. */
        uint64_t t0 = lai_time_ns();
        for (unsigned spins = 0;; spins++) {
            if (atomic_load_explicit(&w->seq, memory_order_acquire) != seen ||
                atomic_load_explicit(&pool->stop, memory_order_relaxed))
                break;
            cpu_relax();
            if ((spins & 63) == 63 && lai_time_ns() - t0 > SPIN_NS) {
                lai_mutex_lock(pool->mutex);
                w->sleeping = 1;
                while (atomic_load_explicit(&w->seq, memory_order_acquire) == seen &&
                       !atomic_load_explicit(&pool->stop, memory_order_relaxed))
                    lai_cond_wait(w->wake, pool->mutex);
                w->sleeping = 0;
                lai_mutex_unlock(pool->mutex);
                break;
            }
        }
        if (atomic_load_explicit(&pool->stop, memory_order_relaxed)) return;
        seen = atomic_load_explicit(&w->seq, memory_order_acquire);
        lai_team *team = w->team;
        team->fn(team->arg, team, w->ith, team->nth);
        /* the last touch of the team: the caller may return (and free it) after this */
        atomic_fetch_add_explicit(&team->n_done, 1, memory_order_release);
    }
}

localai_status lai_threadpool_new(int max_workers, lai_threadpool **out) {
    if (max_workers < 0 || max_workers > LAI_THREADPOOL_MAX - 1)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "thread pool: %d workers (0..%d)", max_workers,
                        LAI_THREADPOOL_MAX - 1);
    lai_threadpool *pool = lai_calloc(1, sizeof *pool);
    if (pool == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "thread pool: no memory");
    atomic_init(&pool->stop, 0);
    pool->max_workers = max_workers;
    pool->workers = lai_calloc(LAI_THREADPOOL_MAX - 1, sizeof *pool->workers);
    localai_status st = pool->workers != NULL
                            ? lai_mutex_new(&pool->mutex)
                            : lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "thread pool: no memory");
    if (st != LOCALAI_STATUS_OK) {
        lai_free(pool->workers);
        lai_free(pool);
        return st;
    }
    *out = pool;
    return LOCALAI_STATUS_OK;
}

void lai_threadpool_free(lai_threadpool *pool) {
    if (pool == NULL) return;
    lai_mutex_lock(pool->mutex);
    atomic_store(&pool->stop, 1);
    for (int i = 0; i < pool->n_started; i++) lai_cond_signal(pool->workers[i].wake);
    lai_mutex_unlock(pool->mutex);
    for (int i = 0; i < pool->n_started; i++) {
        lai_thread_join(pool->workers[i].thread);
        lai_cond_free(pool->workers[i].wake);
    }
    lai_mutex_free(pool->mutex);
    lai_free(pool->workers);
    lai_free(pool);
}

int lai_threadpool_started(lai_threadpool *pool) {
    if (pool == NULL) return 0;
    lai_mutex_lock(pool->mutex);
    int n = pool->n_started;
    lai_mutex_unlock(pool->mutex);
    return n;
}

/* Starts one more worker (under pool->mutex); 0 when the system refuses. */
static int start_worker(lai_threadpool *pool) {
    worker *w = &pool->workers[pool->n_started];
    memset(w, 0, sizeof *w);
    w->pool = pool;
    atomic_init(&w->seq, 0);
    if (lai_cond_new(&w->wake) != LOCALAI_STATUS_OK) {
        lai_clear_error();
        return 0;
    }
    if (lai_thread_start(&w->thread, worker_main, w) != LOCALAI_STATUS_OK) {
        lai_clear_error();
        lai_cond_free(w->wake);
        return 0;
    }
    pool->n_started++;
    return 1;
}

void lai_threadpool_reserve(lai_threadpool *pool, int n_threads) {
    if (pool == NULL) return;
    if (n_threads > LAI_THREADPOOL_MAX) n_threads = LAI_THREADPOOL_MAX;
    lai_mutex_lock(pool->mutex);
    if (n_threads - 1 > pool->max_workers) pool->max_workers = n_threads - 1;
    lai_mutex_unlock(pool->mutex);
}

int lai_threadpool_run(lai_threadpool *pool, int n_threads, lai_task_fn fn, void *arg) {
    lai_team team;
    team.fn = fn;
    team.arg = arg;
    atomic_init(&team.n_arrived, 0);
    atomic_init(&team.phase, 0);
    atomic_init(&team.n_done, 0);
    int n_claimed = 0;
    worker *list = NULL; /* the claimed workers; only this run touches their list links */
    if (pool != NULL) {
        /* Claim idle workers, starting new ones up to the pool's limit, while the threads
         * inside runs (this caller included) stay within the limit + 1: when other runs
         * already use the cores, an extra worker would only make this run's threads wait
         * for each other at every barrier. A failed thread start is no error: the run
         * proceeds with the threads it has. */
        lai_mutex_lock(pool->mutex);
        int want = LAI_MIN(n_threads - 1, pool->max_workers - pool->n_busy);
        for (int i = 0; n_claimed < want; i++) {
            if (i == pool->n_started && (pool->n_started >= pool->max_workers || !start_worker(pool)))
                break;
            worker *w = &pool->workers[i];
            if (w->claimed) continue;
            w->claimed = 1;
            w->ith = ++n_claimed;
            w->next_claimed = list;
            list = w;
        }
        pool->n_busy += 1 + n_claimed;
        lai_mutex_unlock(pool->mutex);
    }
    team.nth = n_claimed + 1;
    if (n_claimed > 0) {
        for (worker *w = list; w != NULL; w = w->next_claimed) {
            w->team = &team;
            atomic_fetch_add_explicit(&w->seq, 1, memory_order_release);
        }
        lai_mutex_lock(pool->mutex);
        for (worker *w = list; w != NULL; w = w->next_claimed)
            if (w->sleeping) lai_cond_signal(w->wake);
        lai_mutex_unlock(pool->mutex);
    }
    fn(arg, &team, 0, team.nth);
    for (unsigned spins = 0; atomic_load_explicit(&team.n_done, memory_order_acquire) < n_claimed; spins++)
        if (spins > 1000) lai_thread_yield();
        else cpu_relax();
    if (pool != NULL) {
        lai_mutex_lock(pool->mutex);
        for (worker *w = list; w != NULL; w = w->next_claimed) w->claimed = 0;
        pool->n_busy -= 1 + n_claimed;
        lai_mutex_unlock(pool->mutex);
    }
    return team.nth;
}

void lai_team_barrier(lai_team *team) {
    const int nth = team->nth;
    if (nth == 1) return;
    int phase = atomic_load_explicit(&team->phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&team->n_arrived, 1, memory_order_acq_rel) == nth - 1) {
        atomic_store_explicit(&team->n_arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&team->phase, 1, memory_order_acq_rel);
        return;
    }
    /* Spin (ops are short: a yield is a system call, costlier than most waits), then
     * yield: the machine may have fewer free cores than threads, and a spinning thread
     * would steal time from the one it waits for. */
    uint64_t t0 = 0;
    int yielding = 0;
    for (unsigned spins = 0; atomic_load_explicit(&team->phase, memory_order_acquire) == phase; spins++) {
        if (yielding) {
            lai_thread_yield();
            continue;
        }
        if ((spins & 255) == 255) {
            const uint64_t now = lai_time_ns();
            if (t0 == 0) t0 = now;
            else yielding = now - t0 > BARRIER_SPIN_NS;
        }
        cpu_relax();
    }
}
