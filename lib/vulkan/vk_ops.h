/* vk_ops.h - how each graph op becomes one dispatch of an embedded shader: kernel, push constants, workgroups. */
#ifndef LAI_VK_OPS_H
#define LAI_VK_OPS_H

#include "../compute/graph.h"

/* The push constants every shader declares (kernels/common.glsl, block Push): 128 bytes. */
typedef struct lai_vk_push {
    uint32_t off[6]; /* byte offsets in their buffers: dst, src0 .. src4 */
    uint32_t ne[4];
    uint32_t nb[10];
    int32_t ip[4];
    float fp[6];
    uint32_t n;      /* work items: invocations, or workgroups for the row kernels */
    uint32_t aux;
} lai_vk_push;
_Static_assert(sizeof(lai_vk_push) == 128, "lai_vk_push must match kernels/common.glsl");

/* Kernels: the type-independent ones, then one matmul and one get_rows per weight type
 * (indexed by the LAI_TYPE_* value, which stays below 32 for the types they read). */
enum {
    LAI_VK_K_ELEMENTWISE = 0,
    LAI_VK_K_RMS_NORM,
    LAI_VK_K_ROPE,
    LAI_VK_K_KV_STORE,
    LAI_VK_K_ATTENTION,
    LAI_VK_K_MATMUL,
    LAI_VK_K_GET_ROWS = LAI_VK_K_MATMUL + 32,
    LAI_VK_K_MATMUL_SG = LAI_VK_K_GET_ROWS + 32, /* the subgroup tier's matmul */
    LAI_VK_K_GEMM = LAI_VK_K_MATMUL_SG + 32,     /* tiled, for 8 columns of x and more */
    LAI_VK_K_COUNT = LAI_VK_K_GEMM + 32
};

/* Kernel tiers, fastest last: a device runs the highest its features allow and its
 * self-test passes; a tier that disagrees with the CPU is dropped for the one below. */
enum {
    LAI_VK_TIER_PORTABLE = 0, /* 32-bit loads, workgroup-memory reductions: any 1.2 device */
    LAI_VK_TIER_SUBGROUP = 1, /* + subgroup arithmetic reductions in the matrix products */
    LAI_VK_TIER_COUNT
};
const char *lai_vk_tier_name(int tier);

typedef struct lai_vk_dispatch {
    int kernel;
    uint32_t groups;     /* workgroups in all (the backend spreads them over x and y) */
    lai_vk_push pc;
} lai_vk_dispatch;

/* Fills *d for op, or returns 0 with *why saying what this backend cannot run (a weight
 * type without a shader, a shape beyond 32-bit offsets, an f16 cache row of odd length). */
int lai_vk_op_prepare(const lai_op *op, int tier, lai_vk_dispatch *d, const char **why);

/* The embedded shader's name for a kernel ("matmul_q4_k"), into buf; NULL if none. */
const char *lai_vk_kernel_name(int kernel, char *buf, size_t size);

#endif /* LAI_VK_OPS_H */
