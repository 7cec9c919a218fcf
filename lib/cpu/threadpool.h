/* threadpool.h - worker threads shared by every run of a model: each run claims the idle ones it wants. */
#ifndef LAI_THREADPOOL_H
#define LAI_THREADPOOL_H

#include "../base/base.h"

/*
 * A model owns one pool; every context of the model runs its graphs on it. A run is the
 * calling thread (thread 0) plus the workers it can claim: at most n_threads - 1, only
 * workers no other run holds, and only while the threads inside runs (callers included)
 * stay within the pool's limit + 1, the machine's cores. Contexts decoding at the same
 * time so share the cores instead of each starting one thread per core; a run that
 * finds them in use runs on its caller alone. Workers start on first need and sleep
 * between runs after spinning briefly.
 */
typedef struct lai_threadpool lai_threadpool;
typedef struct lai_team lai_team; /* the threads of one run */

/* A task runs on every thread of a team at once; ith is 0..nth-1 (0 is the caller). */
typedef void (*lai_task_fn)(void *arg, lai_team *team, int ith, int nth);

/* The most threads one run can have (the caller and LAI_THREADPOOL_MAX - 1 workers). */
#define LAI_THREADPOOL_MAX 1024

/* A pool that may start up to max_workers threads (0 is valid: every run is the caller
 * alone). No thread starts here. */
localai_status lai_threadpool_new(int max_workers, lai_threadpool **out);
/* Raises the pool's limit so one run can have n_threads threads (a context that asks
 * for more threads than the machine has cores). */
void lai_threadpool_reserve(lai_threadpool *pool, int n_threads);
/* Stops and joins the workers; no run may be in progress. NULL is a no-op. */
void lai_threadpool_free(lai_threadpool *pool);

/* Runs fn(arg, team, ith, nth) on the caller and up to n_threads - 1 claimed workers
 * and returns when all have finished; returns nth, the number of threads that ran it
 * (1..n_threads). pool may be NULL (the caller alone). Thread-safe: runs from different
 * threads proceed in parallel on disjoint workers. */
int lai_threadpool_run(lai_threadpool *pool, int n_threads, lai_task_fn fn, void *arg);

/* Inside a task: returns when all nth threads of the team have called it (memory
 * written before the barrier by any thread is visible after it to all). */
void lai_team_barrier(lai_team *team);

/* Workers started so far (for tests and logs). */
int lai_threadpool_started(lai_threadpool *pool);

#endif /* LAI_THREADPOOL_H */
