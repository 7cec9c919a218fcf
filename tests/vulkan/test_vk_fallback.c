/* test_vk_fallback.c - through the public API: a kernel the self-test rejects, a machine without a Vulkan driver, several contexts on one Vulkan model.
 *
 *   test_vk_fallback broken     with LOCALAI_VULKAN_BREAK=rope: the self-test names rope,
 *                               the model runs on the CPU, the log says why
 *   test_vk_fallback step-down  with LOCALAI_VULKAN_BREAK=matmul_sg_f32: the subgroup tier
 *                               fails its self-test, the model runs the portable tier
 *   test_vk_fallback no-driver  with VK_ICD_FILENAMES naming no driver, or the loader
 *                               hidden: one device (the CPU), a Vulkan model opens on the
 *                               CPU and says why
 *   test_vk_fallback contexts   two contexts of one Vulkan model decode in turn and give
 *                               the logits one context gives
 *   test_vk_fallback cache      the pipeline cache file: written, read back, and ignored
 *                               when altered, garbage, truncated or unwritable
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <unistd.h>

#include "localai.h"
#include "test_util.h"

static char logged[4096];

static void keep_log(int32_t level, const char *message, void *user) {
    (void)level;
    (void)user;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof logged - n, "%s\n", message);
}

static localai_model *open_vulkan(void) {
    localai_model_params p;
    localai_model_params_init(&p);
    p.backend = LOCALAI_BACKEND_VULKAN;
    p.log = keep_log;
    p.log_level = LOCALAI_LOG_INFO;
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &p, &m), LOCALAI_STATUS_OK);
    return m;
}

static void test_broken(void) {
    char report[8192];
    int32_t n = 0;
    CHECK_STATUS(localai_device_count(&n), LOCALAI_STATUS_OK);
    if (n < 2) {
        printf("SKIP: no Vulkan device\n");
        exit(77);
    }
    CHECK_STATUS(localai_device_self_test(n - 1, report, sizeof report), LOCALAI_STATUS_BACKEND);
    CHECK_MSG(strstr(report, "rope: FAILED") != NULL, "report:\n%s", report);
    CHECK_MSG(strstr(report, "rms_norm: ok") != NULL, "report:\n%s", report);
    CHECK_STATUS(localai_device_self_test(0, report, sizeof report), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_device_self_test(n, report, sizeof report), LOCALAI_STATUS_NOT_FOUND);
    localai_model *m = open_vulkan();
    CHECK(m != NULL && localai_model_backend(m) == LOCALAI_BACKEND_CPU);
    CHECK_MSG(strstr(logged, "self-test") != NULL && strstr(logged, "rope: FAILED") != NULL &&
                  strstr(logged, "running on the CPU") != NULL,
              "log:\n%s", logged);
    localai_model_close(m);
}

/* LOCALAI_VULKAN_BREAK=matmul_sg_f32: the subgroup tier fails, the portable tier passes,
 * the model runs on Vulkan with the portable kernels and says so. */
static void test_step_down(void) {
    localai_model *m = open_vulkan();
    if (m != NULL && localai_model_backend(m) == LOCALAI_BACKEND_CPU && strstr(logged, "subgroup") == NULL) {
        printf("SKIP: no Vulkan device with subgroup arithmetic\n");
        localai_model_close(m);
        exit(77);
    }
    CHECK(m != NULL && localai_model_backend(m) == LOCALAI_BACKEND_VULKAN);
    CHECK_MSG(strstr(logged, "subgroup kernels failed the self-test") != NULL && strstr(logged, "matmul f32: FAILED") != NULL &&
                  strstr(logged, "running the portable kernels") != NULL,
              "log:\n%s", logged);
    localai_model_close(m);
}

static void test_no_driver(void) {
    int32_t n = -1;
    CHECK_STATUS(localai_device_count(&n), LOCALAI_STATUS_OK);
    CHECK(n == 1);
    localai_model *m = open_vulkan();
    CHECK(m != NULL && localai_model_backend(m) == LOCALAI_BACKEND_CPU);
    CHECK_MSG(strstr(logged, "vulkan:") != NULL && strstr(logged, "running on the CPU") != NULL, "log:\n%s", logged);
    localai_model_close(m);
}

static localai_context *new_ctx(localai_model *m) {
    localai_context_params p;
    localai_context_params_init(&p);
    p.n_ctx = 64;
    localai_context *c = NULL;
    CHECK_STATUS(localai_context_new(m, &p, &c), LOCALAI_STATUS_OK);
    return c;
}

static void decode_one(localai_context *c, localai_token t) {
    localai_batch b;
    localai_batch_init(&b);
    b.n_tokens = 1;
    b.tokens = &t;
    CHECK_STATUS(localai_decode(c, &b), LOCALAI_STATUS_OK);
}

static void test_contexts(void) {
    localai_model *m = open_vulkan();
    if (m == NULL) return;
    if (localai_model_backend(m) != LOCALAI_BACKEND_VULKAN) {
        printf("SKIP: no Vulkan device runs the model here\n");
        localai_model_close(m);
        exit(77);
    }
    static const localai_token a[6] = {1, 403, 407, 261, 378, 432}, b[6] = {1, 306, 298, 315, 421, 395};
    const int32_t V = localai_model_n_vocab(m);
    float *ref_a = calloc((size_t)V, sizeof(float)), *ref_b = calloc((size_t)V, sizeof(float));
    /* alone */
    localai_context *c = new_ctx(m);
    for (int i = 0; i < 6; i++) decode_one(c, a[i]);
    const float *o = NULL;
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK);
    if (o != NULL) memcpy(ref_a, o, (size_t)V * sizeof(float));
    localai_context_free(c);
    c = new_ctx(m);
    for (int i = 0; i < 6; i++) decode_one(c, b[i]);
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK);
    if (o != NULL) memcpy(ref_b, o, (size_t)V * sizeof(float));
    localai_context_free(c);
    /* two at once, in turn, on the same uploaded weights */
    localai_context *x = new_ctx(m), *y = new_ctx(m);
    for (int i = 0; i < 6; i++) {
        decode_one(x, a[i]);
        decode_one(y, b[i]);
    }
    const float *ox = NULL, *oy = NULL;
    CHECK_STATUS(localai_logits(x, -1, &ox), LOCALAI_STATUS_OK);
    CHECK_STATUS(localai_logits(y, -1, &oy), LOCALAI_STATUS_OK);
    double dx = 0, dy = 0;
    for (int32_t i = 0; ox != NULL && oy != NULL && i < V; i++) {
        dx = fmax(dx, fabs((double)ox[i] - ref_a[i]));
        dy = fmax(dy, fabs((double)oy[i] - ref_b[i]));
    }
    printf("two contexts vs one: max |diff| %.3g and %.3g\n", dx, dy);
    CHECK(ox != NULL && oy != NULL && dx == 0 && dy == 0);
    localai_context_free(x);
    localai_context_free(y);
    free(ref_a);
    free(ref_b);
    localai_model_close(m);
}

/* The pipeline cache file: written at close with our header, and a file that is not one
 * (garbage, truncated, altered) never reaches the driver: the model opens and decodes. */
static int open_decode_close(const char *cache) {
    localai_model_params p;
    localai_model_params_init(&p);
    p.backend = LOCALAI_BACKEND_VULKAN;
    p.vulkan_pipeline_cache = cache;
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &p, &m), LOCALAI_STATUS_OK);
    if (m == NULL) return 0;
    const int on_vulkan = localai_model_backend(m) == LOCALAI_BACKEND_VULKAN;
    localai_context *c = new_ctx(m);
    decode_one(c, 1);
    localai_context_free(c);
    localai_model_close(m);
    return on_vulkan;
}

static void test_cache(void) {
    char path[] = "/tmp/localai-cache-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
    remove(path); /* start without a file */
    if (!open_decode_close(path)) {
        printf("SKIP: no Vulkan device runs the model here\n");
        exit(77);
    }
    FILE *f = fopen(path, "rb");
    char head[8] = {0};
    CHECK(f != NULL && fread(head, 1, 8, f) == 8 && memcmp(head, "LAIPC1", 6) == 0);
    if (f) fclose(f);
    CHECK(open_decode_close(path)); /* read back */
    /* one byte altered past our header: the hash no longer matches */
    f = fopen(path, "r+b");
    if (f != NULL) {
        fseek(f, 30, SEEK_SET);
        int ch = fgetc(f);
        fseek(f, 30, SEEK_SET);
        fputc(ch ^ 0x5a, f);
        fclose(f);
    }
    CHECK(open_decode_close(path));
    /* garbage, and a truncated file */
    f = fopen(path, "wb");
    if (f != NULL) {
        for (int i = 0; i < 200; i++) fputc((i * 7919) & 0xff, f);
        fclose(f);
    }
    CHECK(open_decode_close(path));
    f = fopen(path, "wb");
    if (f != NULL) {
        fwrite("LAIPC1\0\0\xff\xff", 1, 10, f);
        fclose(f);
    }
    CHECK(open_decode_close(path));
    /* a folder that cannot be written: the model still runs */
    CHECK(open_decode_close("/nonexistent-dir/cache.bin"));
    remove(path);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "broken") == 0) test_broken();
    else if (strcmp(mode, "no-driver") == 0) test_no_driver();
    else if (strcmp(mode, "step-down") == 0) test_step_down();
    else if (strcmp(mode, "contexts") == 0) test_contexts();
    else if (strcmp(mode, "cache") == 0) test_cache();
    else {
        fprintf(stderr, "usage: test_vk_fallback broken|step-down|no-driver|contexts|cache\n");
        return 2;
    }
    return test_finish("test_vk_fallback");
}
