/* test_threads.c - the shared CPU thread pool: claiming, barriers, and contexts that never oversubscribe. */
#include "localai.h"
#include "base/platform.h"
#include "cpu/threadpool.h"
#include "test_util.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>

/* Threads of this process right now (Linux /proc; -1 elsewhere). */
static int count_threads(void) {
    DIR *d = opendir("/proc/self/task");
    if (d == NULL) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* ---- the pool on its own -------------------------------------------------------------- */

enum { N_ITEMS = 4096, PHASES = 50 };

typedef struct sum_task {
    int64_t *data;
    int64_t partial[LAI_THREADPOOL_MAX];
    atomic_int active, max_active; /* threads inside the task at once, over every run */
    int nth_seen;
} sum_task;

static atomic_int pool_active, pool_max_active;

/* Each phase adds 1 to every item, split by thread, with a barrier between phases; then
 * every thread sums a share. A broken barrier or claim shows up as a wrong total. */
static void sum_fn(void *arg, lai_team *team, int ith, int nth) {
    sum_task *t = arg;
    int now = atomic_fetch_add(&pool_active, 1) + 1;
    for (int m = atomic_load(&pool_max_active); now > m && !atomic_compare_exchange_weak(&pool_max_active, &m, now);)
        ;
    if (ith == 0) t->nth_seen = nth;
    for (int p = 0; p < PHASES; p++) {
        for (int64_t i = N_ITEMS * ith / nth; i < N_ITEMS * (ith + 1) / nth; i++)
            t->data[(i + p) % N_ITEMS] += 1; /* shifted: each phase needs the last one done */
        lai_team_barrier(team);
    }
    int64_t s = 0;
    for (int64_t i = N_ITEMS * ith / nth; i < N_ITEMS * (ith + 1) / nth; i++) s += t->data[i];
    t->partial[ith] = s;
    atomic_fetch_sub(&pool_active, 1);
}

static int64_t run_sum(lai_threadpool *pool, int n_threads, int *nth) {
    static _Thread_local int64_t data[N_ITEMS];
    static _Thread_local sum_task t;
    memset(data, 0, sizeof data);
    t.data = data;
    int got = lai_threadpool_run(pool, n_threads, sum_fn, &t);
    int64_t s = 0;
    for (int i = 0; i < got; i++) s += t.partial[i];
    if (nth) *nth = got;
    return t.nth_seen == got ? s : -1; /* (no CHECK here: host threads call this too) */
}

typedef struct host_arg {
    lai_threadpool *pool;
    int n_threads, runs, ok;
} host_arg;

static void *host_main(void *p) {
    host_arg *h = p;
    h->ok = 1;
    for (int r = 0; r < h->runs; r++)
        if (run_sum(h->pool, h->n_threads, NULL) != (int64_t)N_ITEMS * PHASES) h->ok = 0;
    return NULL;
}

static void test_pool(void) {
    lai_threadpool *pool = NULL;
    CHECK_STATUS(lai_threadpool_new(3, &pool), LOCALAI_STATUS_OK);
    CHECK(lai_threadpool_started(pool) == 0); /* nothing starts before a run needs it */
    int nth = 0;
    CHECK(run_sum(pool, 1, &nth) == (int64_t)N_ITEMS * PHASES && nth == 1);
    CHECK(lai_threadpool_started(pool) == 0);
    CHECK(run_sum(pool, 3, &nth) == (int64_t)N_ITEMS * PHASES && nth == 3);
    CHECK(lai_threadpool_started(pool) == 2);
    CHECK(run_sum(pool, 64, &nth) == (int64_t)N_ITEMS * PHASES && nth == 4); /* limit 3 workers */
    CHECK(lai_threadpool_started(pool) == 3);
    CHECK(run_sum(NULL, 8, &nth) == (int64_t)N_ITEMS * PHASES && nth == 1);

    /* Six host threads run at once on a pool of 3 workers: every run is correct, and no
     * more than 6 callers + 3 workers are ever inside a task together. */
    atomic_store(&pool_max_active, 0);
    pthread_t th[6];
    host_arg args[6];
    for (int i = 0; i < 6; i++) {
        args[i] = (host_arg){pool, 4, 200, 0};
        CHECK(pthread_create(&th[i], NULL, host_main, &args[i]) == 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        CHECK_MSG(args[i].ok, "host thread %d got a wrong sum", i);
    }
    CHECK_MSG(atomic_load(&pool_max_active) <= 9, "%d threads inside tasks at once", atomic_load(&pool_max_active));
    CHECK(lai_threadpool_started(pool) == 3);

    /* a context that asks for more threads than the machine has raises the limit */
    lai_threadpool_reserve(pool, 6);
    CHECK(run_sum(pool, 6, &nth) == (int64_t)N_ITEMS * PHASES && nth == 6);
    lai_threadpool_free(pool);
}

/* ---- contexts of one model ----------------------------------------------------------- */

enum { N_CTX = 4, N_TOKENS = 24 };

typedef struct ctx_arg {
    localai_context *ctx;
    float last[512];
    localai_status st;
} ctx_arg;

static atomic_int max_threads_seen;

static void note_threads(void) {
    int n = count_threads();
    for (int m = atomic_load(&max_threads_seen); n > m && !atomic_compare_exchange_weak(&max_threads_seen, &m, n);)
        ;
}

/* Decodes N_TOKENS tokens one by one (generation's pattern), counting threads as it goes. */
static void *ctx_main(void *p) {
    ctx_arg *a = p;
    a->st = LOCALAI_STATUS_OK;
    for (int i = 0; i < N_TOKENS && a->st == LOCALAI_STATUS_OK; i++) {
        localai_token tok = (localai_token)(1 + (i * 37) % 500);
        localai_batch b;
        localai_batch_init(&b);
        b.n_tokens = 1;
        b.tokens = &tok;
        a->st = localai_decode(a->ctx, &b);
        note_threads();
    }
    const float *logits = NULL;
    if (a->st == LOCALAI_STATUS_OK) a->st = localai_logits(a->ctx, -1, &logits);
    if (logits != NULL) memcpy(a->last, logits, sizeof a->last);
    return NULL;
}

static void test_contexts(void) {
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), NULL, &m), LOCALAI_STATUS_OK);
    if (m == NULL) return;
    const int cores = lai_cpu_count();
    const int before = count_threads();
    ctx_arg *args = calloc(N_CTX + 1, sizeof *args);
    for (int i = 0; i <= N_CTX; i++) {
        localai_context_params cp;
        localai_context_params_init(&cp); /* n_threads 0: one per core */
        cp.n_ctx = 64;
        CHECK_STATUS(localai_context_new(m, &cp, &args[i].ctx), LOCALAI_STATUS_OK);
    }
    /* the reference: the same tokens alone */
    ctx_main(&args[N_CTX]);
    CHECK_STATUS(args[N_CTX].st, LOCALAI_STATUS_OK);

    atomic_store(&max_threads_seen, 0);
    pthread_t th[N_CTX];
    for (int i = 0; i < N_CTX; i++) CHECK(pthread_create(&th[i], NULL, ctx_main, &args[i]) == 0);
    for (int i = 0; i < N_CTX; i++) {
        pthread_join(th[i], NULL);
        CHECK_STATUS(args[i].st, LOCALAI_STATUS_OK);
        CHECK_MSG(memcmp(args[i].last, args[N_CTX].last, sizeof args[i].last) == 0,
                  "context %d decoded differently alongside the others", i);
    }
    /* This thread and the N_CTX callers, plus at most one worker per core beyond the first
     * (a context per pool used to start cores - 1 workers each: 4 more here). */
    const int limit = before + N_CTX + (cores - 1);
    CHECK_MSG(count_threads() < 0 || atomic_load(&max_threads_seen) <= limit,
              "%d threads while %d contexts decoded on %d cores (at most %d expected)",
              atomic_load(&max_threads_seen), N_CTX, cores, limit);
    printf("%d contexts on %d cores: at most %d threads (this one and %d callers + workers)\n", N_CTX,
           cores, atomic_load(&max_threads_seen), N_CTX);
    for (int i = 0; i <= N_CTX; i++) localai_context_free(args[i].ctx);
    free(args);
    localai_model_close(m);
}

int main(void) {
    test_pool();
    test_contexts();
    return test_finish("threads");
}
