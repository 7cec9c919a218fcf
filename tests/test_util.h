/* test_util.h - a tiny assertion harness for liblocalai's C tests (no abort on failure). */
#ifndef LOCALAI_TEST_UTIL_H
#define LOCALAI_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                             \
    do {                                                                        \
        test_checks++;                                                          \
        if (!(cond)) {                                                          \
            test_failures++;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                       \
    } while (0)

#define CHECK_MSG(cond, ...)                                                    \
    do {                                                                        \
        test_checks++;                                                          \
        if (!(cond)) {                                                          \
            test_failures++;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

#define CHECK_STATUS(expr, expected)                                            \
    do {                                                                        \
        int32_t check_status_got_ = (expr);                                     \
        test_checks++;                                                          \
        if (check_status_got_ != (expected)) {                                  \
            test_failures++;                                                    \
            fprintf(stderr, "%s:%d: %s returned %d, expected %d (%s)\n",        \
                    __FILE__, __LINE__, #expr, (int)check_status_got_,          \
                    (int)(expected), localai_errmsg());                         \
        }                                                                       \
    } while (0)

/* xorshift64: uniform doubles in [-1, 1) from *state (a fixed seed gives the same inputs
 * on every run), and n floats of them times amp. */
static inline double test_rand(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (double)(*state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}
static inline void test_fill(uint64_t *state, float *x, size_t n, double amp) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(test_rand(state) * amp);
}

/* Path of a file in ../shared (LOCALAI_SHARED_DIR overrides), in a static buffer. */
static inline const char *test_shared_path(const char *rel) {
    static char buf[4096];
    const char *dir = getenv("LOCALAI_SHARED_DIR");
#ifdef LOCALAI_SHARED_DIR_DEFAULT
    if (dir == NULL) dir = LOCALAI_SHARED_DIR_DEFAULT;
#endif
    if (dir == NULL) dir = "../shared";
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    return buf;
}

/* Reads a whole file into a NUL-terminated heap buffer (free() it); *len gets its size
 * when len is not NULL. NULL when the file cannot be read. */
static inline char *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = (char *)malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf == NULL) return NULL;
    buf[n] = '\0';
    if (len != NULL) *len = (size_t)n;
    return buf;
}

static inline int test_finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures == 0 ? 0 : 1;
}

#endif /* LOCALAI_TEST_UTIL_H */
