/* threadpool.h - a fixed set of worker threads that run one task on every thread, with a barrier. */
#ifndef LAI_THREADPOOL_H
#define LAI_THREADPOOL_H

#include "../base/base.h"

typedef struct lai_threadpool lai_threadpool;

/* A task runs on all n threads at once; ith is 0..nth-1 (0 is the calling thread). */
typedef void (*lai_task_fn)(void *arg, int ith, int nth);

/* Starts n_threads - 1 workers (the caller is thread 0). */
localai_status lai_threadpool_new(int n_threads, lai_threadpool **out);
void lai_threadpool_free(lai_threadpool *pool);
int lai_threadpool_size(const lai_threadpool *pool);

/* Runs fn(arg, ith, nth) on every thread and returns when all have finished. Workers
 * sleep between runs. One run at a time per pool. */
void lai_threadpool_run(lai_threadpool *pool, lai_task_fn fn, void *arg);

/* Inside a task: returns when all nth threads have called it (memory written before
 * the barrier by any thread is visible after it to all). */
void lai_threadpool_barrier(lai_threadpool *pool);

#endif /* LAI_THREADPOOL_H */
