/* cpu_convert.c - row dequantization and the f32 dot product the scalar kernels share. */
#include "cpu_ops.h"

#include "../base/platform.h"
#include "../quant/quant.h"

/* Written once under lai_call_once, read-only afterwards. */
float lai_cpu_f16_table[65536];

static void fill_f16_table(void) {
    for (uint32_t i = 0; i < 65536; i++) lai_cpu_f16_table[i] = lai_f16_to_f32((uint16_t)i);
}

void lai_cpu_f16_init(void) {
    static lai_once once = LAI_ONCE_INIT;
    lai_call_once(&once, fill_f16_table);
}

int lai_cpu_type_supported(uint32_t type) {
    if (type == LAI_TYPE_F32 || type == LAI_TYPE_F16 || type == LAI_TYPE_BF16) return 1;
    const lai_type_traits *tt = lai_type_get(type);
    return tt != NULL && tt->to_float != NULL;
}

void lai_cpu_row_to_f32(uint32_t type, const void *src, float *dst, int64_t n) {
    switch (type) {
    case LAI_TYPE_F32:
        memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    case LAI_TYPE_F16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) dst[i] = lai_cpu_f16(h[i]);
        return;
    }
    case LAI_TYPE_BF16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) {
            uint32_t u = (uint32_t)h[i] << 16;
            memcpy(&dst[i], &u, sizeof u);
        }
        return;
    }
    default: {
        const lai_type_traits *tt = lai_type_get(type);
        if (tt != NULL && tt->to_float != NULL) {
            tt->to_float(src, dst, n);
        } else {
            /* Unreachable: the graph refuses such types when it is recorded. */
            memset(dst, 0, (size_t)n * sizeof(float));
        }
        return;
    }
    }
}

/* Eight independent partial sums: the compiler can keep them in vector registers, and
 * the rounding error grows more slowly than with one running sum. */
float lai_cpu_dot_f32(const float *a, const float *b, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    float tail = 0.0f;
    for (; i < n; i++) tail += a[i] * b[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}
