/* cpu_features.c - detects AVX2 / AVX-512 / VNNI / NEON / dotprod / i8mm once, at first use. */
#include "cpu_features.h"

#include "cpu_kernels.h"

#include "../base/platform.h"

#include <stdio.h>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
/* The kernel's hwcap bits (asm/hwcap.h), for C libraries whose headers predate them. */
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef AT_HWCAP2
#define AT_HWCAP2 26
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

static lai_cpu_features detected;
static lai_once detect_once = LAI_ONCE_INIT;

static void detect(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    detected.avx2 = __builtin_cpu_supports("avx2");
    detected.fma = __builtin_cpu_supports("fma");
    detected.avx512f = __builtin_cpu_supports("avx512f");
    detected.avx512bw = __builtin_cpu_supports("avx512bw");
    detected.avx512vl = __builtin_cpu_supports("avx512vl");
    detected.avx512vnni = __builtin_cpu_supports("avx512vnni");
    {
        /* f16c and avx-vnni are not known to every compiler's __builtin_cpu_supports. */
        unsigned a, b, c, d;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
        detected.f16c = (c >> 29) & 1;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(1));
        detected.avxvnni = (a >> 4) & 1;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
        const int amx_int8 = ((d >> 24) & 1) && ((d >> 25) & 1); /* AMX-TILE, AMX-INT8 */
#if defined(__x86_64__) && defined(__linux__)
        /* Linux hands out the 8 KiB tile state per process on request (arch_prctl
         * ARCH_REQ_XCOMP_PERM for XTILEDATA, feature 18); without it the first tile
         * instruction would kill the process. Asked once, here, on a CPU that has AMX. */
        if (amx_int8 && detected.avx512f && syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18) == 0)
            detected.amx = 1;
#else
        (void)amx_int8; /* other systems: the tiles are not used */
#endif
    }
#elif defined(__aarch64__)
    /* What the compiler was told every target CPU has, then what this CPU reports: a build
     * for plain armv8-a still uses dotprod and i8mm on a CPU that has them. */
    detected.neon = 1;
#if defined(__ARM_FEATURE_DOTPROD)
    detected.dotprod = 1;
#endif
#if defined(__ARM_FEATURE_MATMUL_INT8)
    detected.i8mm = 1;
#endif
#if defined(__linux__)
    const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    if (hwcap != 0) {
        detected.neon = (hwcap & HWCAP_ASIMD) != 0;
        detected.dotprod |= (hwcap & HWCAP_ASIMDDP) != 0;
        detected.i8mm |= (hwcap2 & HWCAP2_I8MM) != 0;
    }
#elif defined(__APPLE__)
    int on = 0;
    size_t size = sizeof on;
    if (sysctlbyname("hw.optional.arm.FEAT_DotProd", &on, &size, NULL, 0) == 0 && on) detected.dotprod = 1;
    on = 0;
    size = sizeof on;
    if (sysctlbyname("hw.optional.arm.FEAT_I8MM", &on, &size, NULL, 0) == 0 && on) detected.i8mm = 1;
#endif
#endif
}

const lai_cpu_features *lai_cpu_features_get(void) {
    lai_call_once(&detect_once, detect);
    return &detected;
}

void lai_cpu_features_describe(char *buf, size_t capacity) {
    const lai_cpu_features *f = lai_cpu_features_get();
#if defined(__x86_64__)
    const char *arch = "x86_64";
#elif defined(__aarch64__)
    const char *arch = "aarch64";
#else
    const char *arch = "generic";
#endif
    int n = snprintf(buf, capacity, "%s:", arch);
    struct { int on; const char *name; } flags[] = {
        {f->avx2, "avx2"}, {f->fma, "fma"}, {f->f16c, "f16c"}, {f->avx512f, "avx512f"},
        {f->avx512bw, "avx512bw"}, {f->avx512vnni, "avx512vnni"}, {f->avxvnni, "avxvnni"}, {f->amx, "amx"},
        {f->neon, "neon"}, {f->dotprod, "dotprod"}, {f->i8mm, "i8mm"},
    };
    for (size_t i = 0; i < LAI_ARRAY_LEN(flags); i++) {
        if (!flags[i].on || n < 0 || (size_t)n >= capacity) continue;
        n += snprintf(buf + n, capacity - (size_t)n, " %s", flags[i].name);
    }
    if (n >= 0 && (size_t)n < capacity && buf[n - 1] == ':')
        snprintf(buf + n, capacity - (size_t)n, " scalar");
}

lai_cpu_level lai_cpu_level_best(void) {
    for (int l = LAI_CPU_LEVEL_COUNT - 1; l > 0; l--)
        if (lai_cpu_kernels_get((lai_cpu_level)l) != NULL) return (lai_cpu_level)l;
    return LAI_CPU_LEVEL_SCALAR;
}

const char *lai_cpu_level_name(lai_cpu_level level) {
    static const char *const names[LAI_CPU_LEVEL_COUNT] = {"scalar", "avx2", "avx512", "neon"};
    return (unsigned)level < LAI_CPU_LEVEL_COUNT ? names[level] : "?";
}
