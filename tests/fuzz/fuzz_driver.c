/* fuzz_driver.c - runs a libFuzzer target on deterministic random inputs (for builds without libFuzzer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
    long runs = argc > 1 ? atol(argv[1]) : 2000;
    uint64_t s = 0x2545F4914F6CDD1Dull;
    uint8_t buf[512];
    for (long r = 0; r < runs; r++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        size_t n = (size_t)(s % sizeof buf);
        for (size_t i = 0; i < n; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            /* mostly text-like bytes, some high and control bytes, some special-token text */
            uint8_t b = (uint8_t)(s >> 24);
            buf[i] = (s & 7) < 5 ? (uint8_t)(0x20 + b % 0x5F) : b;
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz_driver: %ld inputs, no crash\n", runs);
    return 0;
}
