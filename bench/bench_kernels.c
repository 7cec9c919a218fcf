/* bench_kernels.c - single-thread speed of each level's matrix-vector dots and GEMM tiles per weight type (prints numbers, never fails). */
/*
 * Usage: bench_kernels [TYPE...]   e.g. bench_kernels q4_0 q4_K q6_K
 * For every kernel level this CPU runs: GB/s of weight rows streamed through vec_dot
 * (generation's access pattern: a 4096 x 4096 matrix, larger than the caches) and
 * G MAC/s of the GEMM tiles (prompt's: 64 columns). Run on a quiet machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu_kernels.h"
#include "quant/quant.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int wanted(int argc, char **argv, const char *name) {
    if (argc < 2) return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}

int main(int argc, char **argv) {
    enum { K = 4096, N = 4096, M = 64 };
    float *x = malloc(sizeof(float) * (size_t)K * M);
    for (size_t i = 0; i < (size_t)K * M; i++) x[i] = (float)((int)(i * 2654435761u % 2001) - 1000) / 1000.0f;
    for (uint32_t type = 0; type < LAI_TYPE_COUNT; type++) {
        const lai_weight_format *fmt = lai_weight_format_get(type);
        const lai_type_traits *tt = lai_type_get(type);
        if (fmt == NULL || !wanted(argc, argv, tt->name)) continue;
        const size_t row = (size_t)(K / tt->block_size) * tt->type_size;
        uint8_t *w = malloc(row * N);
        for (size_t i = 0; i < row * N; i++) w[i] = (uint8_t)(i * 2246822519u >> 7);
        for (size_t r = 0; r < N; r++) /* sane f16 scales where a block starts with one */
            for (size_t b = 0; b < (size_t)(K / tt->block_size); b++) {
                uint8_t *blk = w + r * row + b * tt->type_size;
                if (tt->block_size == 32 || type == LAI_TYPE_IQ4_XS || type == LAI_TYPE_Q4_K || type == LAI_TYPE_Q5_K) {
                    const uint16_t d = 0x2000;
                    memcpy(blk, &d, 2);
                }
            }
        const size_t abytes = lai_act_row_bytes(fmt->act, K);
        uint8_t *act = malloc(abytes * M);
        /* every level, and AVX-512 without AMX too where the level uses AMX */
        for (int l = 0; l <= LAI_CPU_LEVEL_COUNT; l++) {
            const lai_cpu_kernels *k = l < LAI_CPU_LEVEL_COUNT ? lai_cpu_kernels_get((lai_cpu_level)l) : lai_cpu_kernels_avx512_vnni();
            if (k == NULL || (l == LAI_CPU_LEVEL_COUNT && k == lai_cpu_kernels_get(LAI_CPU_LEVEL_AVX512))) continue;
            const char *level = l < LAI_CPU_LEVEL_COUNT ? lai_cpu_level_name((lai_cpu_level)l) : "avx512-vnni";
            for (int m = 0; m < M; m++) k->quantize[fmt->act](x + (size_t)m * K, act + (size_t)m * abytes, K);
            volatile float sink = 0;
            double best = 1e9;
            for (int rep = 0; rep < 3; rep++) {
                const double t0 = now();
                float s = 0;
                for (size_t r = 0; r < N; r++) s += k->vec_dot[type](w + r * row, act, K);
                sink += s;
                const double dt = now() - t0;
                if (dt < best) best = dt;
            }
            printf("%-8s %-11s vec_dot %6.1f GB/s", tt->name, level,
                   (double)(row * N) / best / 1e9);
            if (k->gemm != NULL) {
                const lai_gemm_kernel *g = k->gemm;
                const size_t tile_bytes = lai_gemm_tile_bytes(g->cols, fmt, K);
                const int n_tiles = (M + g->cols - 1) / g->cols;
                uint8_t *tiles = malloc(tile_bytes * (size_t)n_tiles);
                for (int t = 0; t < n_tiles; t++)
                    lai_gemm_pack_act(g->cols, fmt, act + (size_t)(t * g->cols) * abytes, abytes, K, g->cols,
                                      tiles + (size_t)t * tile_bytes);
                const int rows = g->rows, nsb = K / fmt->sub;
                /* u, then the scales and mins, as the matmul lays out its work buffer (as
                 * many copies as the kernel's unpack asks for) */
                const size_t unpack_bytes = ((size_t)rows * K + sizeof(float) * (size_t)rows * (size_t)nsb * 2) *
                                            (size_t)(g->unpack_copies > 1 ? g->unpack_copies : 1);
                uint8_t *u = malloc(unpack_bytes);
                float *sc = (float *)(void *)(u + (size_t)rows * K), *mn = sc + (size_t)rows * (size_t)nsb;
                float *out = malloc(sizeof(float) * (size_t)M * rows);
                const int n_rows = 512;
                best = 1e9;
                for (int rep = 0; rep < 3; rep++) {
                    const double t0 = now();
                    for (int r0 = 0; r0 < n_rows; r0 += rows) {
                        g->unpack(type, fmt, w + (size_t)r0 * row, row, rows, K, u, sc, mn);
                        for (int t = 0; t < n_tiles; t++)
                            g->run(fmt, u, sc, mn, rows, K, tiles + (size_t)t * tile_bytes, g->cols,
                                   out + (size_t)t * g->cols * rows, (size_t)rows);
                    }
                    const double dt = now() - t0;
                    if (dt < best) best = dt;
                }
                sink += out[0];
                printf("   gemm %6.1f G MAC/s", (double)n_rows * K * M / best / 1e9);
                free(u);
                free(out);
                free(tiles);
            }
            printf("\n");
            (void)sink;
        }
        free(act);
        free(w);
    }
    free(x);
    return 0;
}
