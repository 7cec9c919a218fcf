/* vk_selftest.h - the device checks itself: every kernel family a model needs, against the CPU's scalar reference. */
#ifndef LAI_VK_SELFTEST_H
#define LAI_VK_SELFTEST_H

#include "../compute/backend.h"

/* Runs elementwise, rms_norm, rope, kv_store + attention, and matmul and get_rows for
 * each of the n_types weight types on small fixed inputs, on `vk` and on the CPU's scalar
 * kernels, and compares them (relative RMS error: 1e-3, matmul 2e-2 because the CPU
 * rounds activations to 8 bits). *passed is 1 when every family agrees; report (may be
 * NULL) gets one line per family: "rms_norm: ok (relative error 3.1e-07, tolerance 1e-03)".
 * A family the device fails to run is a failed check, not an error; errors are the CPU
 * side's or memory. A tier that fails is dropped for the one below it
 * (lai_vk_backend_set_tier) and the families run again: the report has a "tier NAME:"
 * line before each pass, and the backend is left at the tier that passed (or the lowest). */
localai_status lai_vk_self_test(lai_backend *vk, const uint32_t *types, int n_types, char *report, size_t size,
                                int *passed);

#endif /* LAI_VK_SELFTEST_H */
