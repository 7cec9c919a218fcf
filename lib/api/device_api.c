/* device_api.c - localai_device_count/get: the CPU plus any Vulkan compute devices. */
#include "../base/platform.h"
#include "../cpu/cpu_features.h"
#include "../vulkan/vk_backend.h"
#include "../vulkan/vk_probe.h"
#include "../vulkan/vk_selftest.h"
#include "../quant/quant.h"

#include <stdio.h>

LOCALAI_API localai_status localai_device_count(int32_t *out_count) {
    if (out_count == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_device_count: out_count is NULL");
    const lai_vk_device_desc *devs;
    int32_t n;
    const char *why;
    lai_vk_probe(&devs, &n, &why);
    *out_count = 1 + n;
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_device_get(int32_t i, localai_device_info *info) {
    if (info == NULL || info->struct_size < sizeof(size_t))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_device_get: info is NULL or its struct_size is not set");
    localai_device_info d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    const lai_vk_device_desc *devs;
    int32_t n;
    const char *why;
    lai_vk_probe(&devs, &n, &why);
    if (i < 0 || i > n)
        return lai_fail(LOCALAI_STATUS_NOT_FOUND, "localai_device_get: no device %d (there are %d)",
                        (int)i, (int)(n + 1));
    if (i == 0) {
        d.backend = LOCALAI_BACKEND_CPU;
        d.index = 0;
        char features[96];
        lai_cpu_features_describe(features, sizeof features);
        snprintf(d.name, sizeof d.name, "CPU (%d cores)", (int)lai_cpu_count());
        snprintf(d.description, sizeof d.description, "%s; kernels %s", features,
                 lai_cpu_level_name(lai_cpu_level_best()));
        d.memory_bytes = lai_physical_memory();
    } else {
        const lai_vk_device_desc *v = &devs[i - 1];
        d.backend = LOCALAI_BACKEND_VULKAN;
        d.index = i - 1;
        snprintf(d.name, sizeof d.name, "%s", v->name);
        char features[96];
        lai_vk_features_describe(&v->feat, features, sizeof features);
        snprintf(d.description, sizeof d.description, "%s; %s", v->driver, features[0] ? features : "no optional features");
        d.memory_bytes = v->memory_bytes;
        d.is_software = v->is_software;
        memcpy(d.uuid, v->uuid, sizeof d.uuid);
    }
    size_t keep = info->struct_size;
    memcpy(info, &d, LAI_MIN(keep, sizeof d));
    info->struct_size = keep;
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_device_self_test(int32_t i, char *report, size_t report_size) {
    if (report == NULL && report_size > 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_device_self_test: report is NULL");
    if (report != NULL && report_size > 0) report[0] = '\0';
    const lai_vk_device_desc *devs;
    int32_t n;
    const char *why;
    lai_vk_probe(&devs, &n, &why);
    if (i < 0 || i > n)
        return lai_fail(LOCALAI_STATUS_NOT_FOUND, "localai_device_self_test: no device %d (there are %d)", (int)i,
                        (int)(n + 1));
    if (i == 0) {
        if (report != NULL && report_size > 0) snprintf(report, report_size, "cpu: the reference\n");
        lai_clear_error();
        return LOCALAI_STATUS_OK;
    }
    const uint32_t *types = NULL;
    const int n_types = lai_vk_weight_types(&types);
    const lai_vk_backend_params vp = {i - 1, NULL, NULL};
    lai_backend *be = NULL;
    localai_status st = lai_vk_backend_new(&vp, &be);
    if (st != LOCALAI_STATUS_OK) {
        if (report != NULL && report_size > 0) snprintf(report, report_size, "%s\n", localai_errmsg());
        return st == LOCALAI_STATUS_OUT_OF_MEMORY ? st : LOCALAI_STATUS_BACKEND;
    }
    int passed = 0;
    st = lai_vk_self_test(be, types, n_types, report, report_size, &passed);
    be->vt->destroy(be);
    if (st != LOCALAI_STATUS_OK) return st;
    if (!passed)
        return lai_fail(LOCALAI_STATUS_BACKEND, "localai_device_self_test: a kernel on '%s' disagrees with the CPU "
                        "(see the report)", devs[i - 1].name);
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_vulkan_device_needs(localai_vulkan_needs *needs) {
    if (needs == NULL || needs->struct_size < sizeof(size_t))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_vulkan_device_needs: needs is NULL or its struct_size is not set");
    /* the first kernel tier reads every block with 32-bit loads: nothing beyond 1.2 core;
     * the faster tiers use these where the device has them enabled */
    static const char *const optional_extensions[] = {"VK_KHR_shader_integer_dot_product",
                                                      "VK_KHR_cooperative_matrix"};
    static const char *const optional_features[] = {
        "VkPhysicalDeviceVulkan11Features.storageBuffer16BitAccess",
        "VkPhysicalDeviceVulkan12Features.storageBuffer8BitAccess",
        "VkPhysicalDeviceVulkan12Features.shaderFloat16",
        "VkPhysicalDeviceVulkan12Features.shaderInt8",
        "VkPhysicalDeviceShaderIntegerDotProductFeatures.shaderIntegerDotProduct",
        "VkPhysicalDeviceCooperativeMatrixFeaturesKHR.cooperativeMatrix",
    };
    localai_vulkan_needs d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.api_version = (1u << 22) | (2u << 12); /* VK_API_VERSION_1_2 */
    d.optional_extensions = optional_extensions;
    d.n_optional_extensions = sizeof optional_extensions / sizeof optional_extensions[0];
    d.optional_features = optional_features;
    d.n_optional_features = sizeof optional_features / sizeof optional_features[0];
    size_t keep = needs->struct_size;
    memcpy(needs, &d, LAI_MIN(keep, sizeof d));
    needs->struct_size = keep;
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}
