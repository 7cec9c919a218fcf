/* consumer.c - a program built only from the installed header and `pkg-config localai`. */
#include <localai.h>

#include <stdio.h>

int main(void) {
    if (localai_abi_check(LOCALAI_ABI_VERSION, LOCALAI_VERSION_NUMBER) != LOCALAI_STATUS_OK) {
        fprintf(stderr, "ABI check failed: %s\n", localai_errmsg());
        return 1;
    }
    int32_t n = 0;
    if (localai_device_count(&n) != LOCALAI_STATUS_OK || n < 1) return 1;
    printf("installed liblocalai %s works: %d device(s)\n", localai_version(), (int)n);
    return 0;
}
