/* hide_vulkan_loader.c - an LD_PRELOAD shim for tests: dlopen of the Vulkan loader fails, as on a machine without libvulkan. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

void *dlopen(const char *file, int mode) {
    static void *(*real)(const char *, int);
    if (file != NULL && strstr(file, "libvulkan") != NULL) return NULL;
    if (real == NULL) real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    return real != NULL ? real(file, mode) : NULL;
}
