/* version.c - library version and the ABI check bindings run when they load us. */
#include "../base/base.h"

LOCALAI_API const char *localai_version(void) { return LOCALAI_VERSION_STRING; }

LOCALAI_API int32_t localai_version_number(void) { return LOCALAI_VERSION_NUMBER; }

LOCALAI_API int32_t localai_abi_version(void) { return LOCALAI_ABI_VERSION; }

LOCALAI_API localai_status localai_abi_check(int32_t abi_version, int32_t min_version_number) {
    if (abi_version != LOCALAI_ABI_VERSION)
        return lai_fail(LOCALAI_STATUS_ABI_MISMATCH,
                        "the caller was written for liblocalai ABI %d, but this library "
                        "(version %s) has ABI %d",
                        (int)abi_version, LOCALAI_VERSION_STRING, LOCALAI_ABI_VERSION);
    if (min_version_number > LOCALAI_VERSION_NUMBER)
        return lai_fail(LOCALAI_STATUS_ABI_MISMATCH,
                        "the caller needs liblocalai %d.%d.%d or newer, but this library is %s",
                        (int)(min_version_number / 1000000), (int)(min_version_number / 1000 % 1000),
                        (int)(min_version_number % 1000), LOCALAI_VERSION_STRING);
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}
