/* vk_shaders.h - the compute shaders embedded in the library as SPIR-V (generated from kernels/ by the build). */
#ifndef LAI_VK_SHADERS_H
#define LAI_VK_SHADERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct lai_vk_spirv_entry {
    const char *name;      /* "rms_norm", "matmul_q4_0", ... (kernels/meson.build) */
    const uint32_t *words;
    size_t size;           /* bytes */
} lai_vk_spirv_entry;

extern const lai_vk_spirv_entry lai_vk_spirv[];
extern const int lai_vk_spirv_count;

#endif /* LAI_VK_SHADERS_H */
