/* ceilings.c - the machine's ceilings for inference: read bandwidth, int8 dot-product and fp32 FMA throughput.
 *
 *   ceilings [-t THREADS] [-m MIB] [--json]
 *
 * read bandwidth: T threads each stream through their share of one buffer (default 1 GiB,
 *   far beyond the caches; each thread first-touches its own share), with the widest loads
 *   the CPU has (AVX-512, else AVX2, else 64-bit words); best of 10 passes. GB = 1e9 bytes.
 * int8 MAC/s: T threads each run vpdpbusd (u8 x s8, 4 products added into an i32 lane) on
 *   zmm registers where AVX-512 VNNI exists, on ymm with AVX-VNNI, else the AVX2 sequence
 *   vpmaddubsw + vpmaddwd + vpaddd that int8 kernels use without VNNI; 12 independent
 *   accumulators, so the loop is bound by throughput, not latency. One MAC = one u8 x s8
 *   product added. Best of 10.
 * fp32 FLOP/s: the same with vfmadd on zmm (else ymm) and 12 accumulators; one FMA lane
 *   = 2 FLOP. Best of 10.
 * These are the roofs a decode can reach: token generation streams the weights (bandwidth),
 * prompt processing multiplies them (int8 for quantized weights, fp32 FMA for f16/f32).
 * Benchmarks never fail a build: this program only prints numbers. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CEIL_X86 1
#else
#define CEIL_X86 0
#endif

#define N_ACC 12
#define PASSES 10

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- kernels: each returns a value derived from every accumulator so none is dropped ---- */

#if CEIL_X86
__attribute__((target("avx512f"))) static uint64_t read_avx512(const uint8_t *p, size_t n) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 256 <= n; i += 256) {
        a0 = _mm512_xor_si512(a0, _mm512_load_si512((const void *)(p + i)));
        a1 = _mm512_xor_si512(a1, _mm512_load_si512((const void *)(p + i + 64)));
        a2 = _mm512_xor_si512(a2, _mm512_load_si512((const void *)(p + i + 128)));
        a3 = _mm512_xor_si512(a3, _mm512_load_si512((const void *)(p + i + 192)));
    }
    __m512i x = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    return (uint64_t)_mm512_reduce_add_epi64(x);
}

__attribute__((target("avx2"))) static uint64_t read_avx2(const uint8_t *p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= n; i += 128) {
        a0 = _mm256_xor_si256(a0, _mm256_load_si256((const __m256i *)(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256((const __m256i *)(p + i + 96)));
    }
    __m256i x = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    return (uint64_t)_mm256_extract_epi64(x, 0) ^ (uint64_t)_mm256_extract_epi64(x, 3);
}

/* Twelve accumulators with different starting values: equal ones would be merged by the
 * compiler into one dependency chain. */
#define ACC_DECL(T, set1) T c0 = set1(1), c1 = set1(2), c2 = set1(3), c3 = set1(4), \
    c4 = set1(5), c5 = set1(6), c6 = set1(7), c7 = set1(8), c8 = set1(9), c9 = set1(10), \
    c10 = set1(11), c11 = set1(12)
#define ACC_ALL(OP) OP(c0); OP(c1); OP(c2); OP(c3); OP(c4); OP(c5); OP(c6); OP(c7); OP(c8); \
    OP(c9); OP(c10); OP(c11)

/* iters x 12 x 64 MACs (16 i32 lanes, each summing 4 u8 x s8 products) */
__attribute__((target("avx512f,avx512vnni"))) static uint64_t int8_avx512vnni(uint64_t iters) {
    __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
    ACC_DECL(__m512i, _mm512_set1_epi32);
    for (uint64_t i = 0; i < iters; i++) {
#define OP(c) c = _mm512_dpbusd_epi32(c, a, b)
        ACC_ALL(OP);
#undef OP
        __asm__ volatile("" : "+v"(a), "+v"(b));
    }
    __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                                 _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
    s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11)));
    return (uint64_t)(uint32_t)_mm512_reduce_add_epi32(s);
}

/* iters x 12 x 32 MACs (8 i32 lanes, each summing 4 u8 x s8 products) */
__attribute__((target("avx2,avxvnni"))) static uint64_t int8_avxvnni(uint64_t iters) {
    __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2);
    ACC_DECL(__m256i, _mm256_set1_epi32);
    for (uint64_t i = 0; i < iters; i++) {
#define OP(c) c = _mm256_dpbusd_avx_epi32(c, a, b)
        ACC_ALL(OP);
#undef OP
        __asm__ volatile("" : "+x"(a), "+x"(b));
    }
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                                 _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
    s = _mm256_add_epi32(s, _mm256_add_epi32(_mm256_add_epi32(c8, c9), _mm256_add_epi32(c10, c11)));
    return (uint64_t)(uint32_t)_mm256_extract_epi32(s, 0);
}

/* iters x 12 x 32 u8 x s8 MACs (maddubs: 32 products summed in pairs; madd with ones to
 * i32; add) */
__attribute__((target("avx2"))) static uint64_t int8_avx2(uint64_t iters) {
    __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
    ACC_DECL(__m256i, _mm256_set1_epi32);
    for (uint64_t i = 0; i < iters; i++) {
#define OP(c) c = _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones))
        ACC_ALL(OP);
#undef OP
        __asm__ volatile("" : "+x"(a), "+x"(b));
    }
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                                 _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
    s = _mm256_add_epi32(s, _mm256_add_epi32(_mm256_add_epi32(c8, c9), _mm256_add_epi32(c10, c11)));
    return (uint64_t)(uint32_t)_mm256_extract_epi32(s, 0);
}

#define F512(i) _mm512_set1_ps(0.1f * (float)(i))
#define F256(i) _mm256_set1_ps(0.1f * (float)(i))

/* iters x 12 x 16 lanes FMA */
__attribute__((target("avx512f"))) static uint64_t fma_avx512(uint64_t iters) {
    __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-7f);
    ACC_DECL(__m512, F512);
    for (uint64_t i = 0; i < iters; i++) {
#define OP(c) c = _mm512_fmadd_ps(c, a, b)
        ACC_ALL(OP);
#undef OP
        __asm__ volatile("" : "+v"(a), "+v"(b));
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
    return (uint64_t)(_mm512_reduce_add_ps(s) * 1000.0f);
}

/* iters x 12 x 8 lanes FMA */
__attribute__((target("avx2,fma"))) static uint64_t fma_avx2(uint64_t iters) {
    __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-7f);
    ACC_DECL(__m256, F256);
    for (uint64_t i = 0; i < iters; i++) {
#define OP(c) c = _mm256_fmadd_ps(c, a, b)
        ACC_ALL(OP);
#undef OP
        __asm__ volatile("" : "+x"(a), "+x"(b));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    return (uint64_t)(_mm256_cvtss_f32(s) * 1000.0f);
}
#endif

static uint64_t read_words(const uint8_t *p, size_t n) {
    const uint64_t *w = (const uint64_t *)(const void *)p;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i + 4 <= n / 8; i += 4) {
        a0 ^= w[i];
        a1 ^= w[i + 1];
        a2 ^= w[i + 2];
        a3 ^= w[i + 3];
    }
    return a0 ^ a1 ^ a2 ^ a3;
}

/* ---- the chosen implementations ---- */

typedef uint64_t (*read_fn)(const uint8_t *, size_t);
typedef uint64_t (*loop_fn)(uint64_t);

typedef struct choice {
    read_fn read;
    const char *read_kind;
    loop_fn int8;
    const char *int8_kind;
    double int8_per_iter; /* MACs per loop iteration */
    loop_fn fma;
    const char *fma_kind;
    double flop_per_iter;
} choice;

static choice choose(void) {
    choice c = {read_words, "64-bit", NULL, "none", 0, NULL, "none", 0};
#if CEIL_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        c.read = read_avx2, c.read_kind = "avx2";
        c.int8 = int8_avx2, c.int8_kind = "avx2 vpmaddubsw+vpmaddwd", c.int8_per_iter = N_ACC * 32.0;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        c.fma = fma_avx2, c.fma_kind = "avx2 vfmadd ymm", c.flop_per_iter = N_ACC * 8 * 2.0;
    unsigned a7, b7, c7, d7; /* AVX-VNNI: CPUID leaf 7 subleaf 1, EAX bit 4 (not every
                              * compiler's __builtin_cpu_supports knows "avxvnni") */
    __asm__ volatile("cpuid" : "=a"(a7), "=b"(b7), "=c"(c7), "=d"(d7) : "a"(7), "c"(1));
    if ((a7 >> 4) & 1)
        c.int8 = int8_avxvnni, c.int8_kind = "avx-vnni vpdpbusd ymm", c.int8_per_iter = N_ACC * 32.0;
    if (__builtin_cpu_supports("avx512f")) {
        c.read = read_avx512, c.read_kind = "avx512";
        c.fma = fma_avx512, c.fma_kind = "avx512 vfmadd zmm", c.flop_per_iter = N_ACC * 16 * 2.0;
    }
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni"))
        c.int8 = int8_avx512vnni, c.int8_kind = "avx512-vnni vpdpbusd zmm", c.int8_per_iter = N_ACC * 64.0;
#endif
    return c;
}

/* ---- threads: all start together; a pass lasts until the slowest is done ---- */

typedef struct job {
    const choice *c;
    int what; /* 0 read, 1 int8, 2 fma */
    uint8_t *buf;
    size_t bytes;
    uint64_t iters;
    pthread_barrier_t *start, *end;
    uint64_t sink;
    int passes;
} job;

static void *worker(void *arg) {
    job *j = arg;
    /* First touch: this thread's pages, near this thread. Distinct contents per word, so
     * a hypervisor that merges identical pages cannot turn the read into a cache hit. */
    uint64_t x = (uint64_t)(uintptr_t)j->buf | 1;
    for (size_t i = 0; i + 8 <= j->bytes; i += 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memcpy(j->buf + i, &x, 8);
    }
    for (int pass = 0; pass < j->passes; pass++) {
        pthread_barrier_wait(j->start);
        if (j->what == 0) j->sink += j->c->read(j->buf, j->bytes);
        else if (j->what == 1) j->sink += j->c->int8(j->iters);
        else j->sink += j->c->fma(j->iters);
        pthread_barrier_wait(j->end);
    }
    return NULL;
}

/* Best of PASSES: units per second over all threads. */
static double run(const choice *c, int what, int threads, uint8_t *buf, size_t total_bytes,
                  uint64_t iters, double units_per_thread) {
    pthread_barrier_t start, end;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    pthread_barrier_init(&end, NULL, (unsigned)threads + 1);
    job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    size_t share = total_bytes / (size_t)threads / 4096 * 4096;
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){c, what, buf + (size_t)t * share, what == 0 ? share : 4096, iters,
                        &start, &end, 0, PASSES};
        pthread_create(&tid[t], NULL, worker, &jobs[t]);
    }
    double best = 0.0;
    for (int pass = 0; pass < PASSES; pass++) {
        pthread_barrier_wait(&start);
        double s = now_s();
        pthread_barrier_wait(&end);
        double dt = now_s() - s;
        double units = what == 0 ? (double)share * threads : units_per_thread * threads;
        if (dt > 0 && units / dt > best) best = units / dt;
    }
    uint64_t sink = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        sink += jobs[t].sink;
    }
    if (sink == 42) fprintf(stderr, " "); /* keeps the results live */
    free(jobs);
    free(tid);
    pthread_barrier_destroy(&start);
    pthread_barrier_destroy(&end);
    return best;
}

int main(int argc, char **argv) {
    int threads = 2, json = 0;
    long mib = 1024;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) mib = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: ceilings [-t THREADS] [-m MIB] [--json]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 1024 || mib < 16 || mib > (1L << 20)) {
        fprintf(stderr, "ceilings: -t must be 1..1024 and -m 16..1048576\n");
        return 2;
    }
    choice c = choose();
    size_t bytes = (size_t)mib << 20;
    uint8_t *buf = NULL;
    if (posix_memalign((void **)&buf, 4096, bytes + (size_t)threads * 4096) != 0) {
        fprintf(stderr, "ceilings: cannot allocate %ld MiB\n", mib);
        return 1;
    }
    double bw = run(&c, 0, threads, buf, bytes, 0, 0);
    /* about 0.15-0.5 s a pass: 480M vector instructions per thread */
    const uint64_t iters = 40000000;
    double macs = c.int8 ? run(&c, 1, threads, buf, bytes, iters, (double)iters * c.int8_per_iter) : 0;
    double flops = c.fma ? run(&c, 2, threads, buf, bytes, iters, (double)iters * c.flop_per_iter) : 0;
    free(buf);
    if (json) {
        printf("{\"threads\": %d, \"buffer_mib\": %ld, \"read_gbs\": %.2f, \"read_kind\": \"%s\", "
               "\"int8_gmacs\": %.2f, \"int8_kind\": \"%s\", \"fp32_gflops\": %.2f, "
               "\"fp32_kind\": \"%s\"}\n",
               threads, mib, bw / 1e9, c.read_kind, macs / 1e9, c.int8_kind, flops / 1e9, c.fma_kind);
    } else {
        printf("threads %d, buffer %ld MiB, best of %d\n", threads, mib, PASSES);
        printf("read bandwidth  %8.2f GB/s      (%s loads)\n", bw / 1e9, c.read_kind);
        printf("int8 dot        %8.2f GMAC/s    (%s)\n", macs / 1e9, c.int8_kind);
        printf("fp32 FMA        %8.2f GFLOP/s   (%s)\n", flops / 1e9, c.fma_kind);
    }
    return 0;
}
