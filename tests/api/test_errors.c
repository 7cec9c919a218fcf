/* test_errors.c - the error model: status names, per-thread messages, params, no aborts. */
#include "localai.h"
#include "test_util.h"

#include <pthread.h>
#include <stdint.h>

static void test_status_strings(void) {
    for (int32_t s = 0; s < LOCALAI_STATUS_COUNT; s++) {
        const char *name = localai_status_string(s);
        CHECK_MSG(name != NULL && name[0] != '\0' && strcmp(name, "unknown status") != 0,
                  "status %d has no name", (int)s);
        for (int32_t t = 0; t < s; t++)
            CHECK_MSG(strcmp(name, localai_status_string(t)) != 0, "statuses %d and %d share a name",
                      (int)s, (int)t);
    }
    CHECK(strcmp(localai_status_string(-1), "unknown status") == 0);
    CHECK(strcmp(localai_status_string(LOCALAI_STATUS_COUNT), "unknown status") == 0);
    CHECK(strcmp(localai_status_string(INT32_MAX), "unknown status") == 0);
}

static void test_version(void) {
    CHECK(strcmp(localai_version(), LOCALAI_VERSION_STRING) == 0);
    CHECK(localai_version_number() == LOCALAI_VERSION_NUMBER);
    CHECK(localai_abi_version() == LOCALAI_ABI_VERSION);
    CHECK_STATUS(localai_abi_check(LOCALAI_ABI_VERSION, LOCALAI_VERSION_NUMBER), LOCALAI_STATUS_OK);
    CHECK(localai_errmsg()[0] == '\0');
    CHECK_STATUS(localai_abi_check(LOCALAI_ABI_VERSION + 1, 0), LOCALAI_STATUS_ABI_MISMATCH);
    CHECK(strstr(localai_errmsg(), "ABI") != NULL);
    CHECK_STATUS(localai_abi_check(LOCALAI_ABI_VERSION, LOCALAI_VERSION_NUMBER + 1),
                 LOCALAI_STATUS_ABI_MISMATCH);
    CHECK(strstr(localai_errmsg(), "or newer") != NULL);
}

/* An older caller's struct: just the size and the first field. */
typedef struct old_model_params {
    size_t struct_size;
    int32_t backend;
} old_model_params;

static void test_params(void) {
    localai_model_params mp;
    memset(&mp, 0xAB, sizeof mp);
    CHECK_STATUS(localai_model_params_init(&mp), LOCALAI_STATUS_OK);
    CHECK(mp.struct_size == sizeof mp);
    CHECK(mp.backend == LOCALAI_BACKEND_AUTO && mp.use_mmap == 1 && mp.vocab_only == 0);
    CHECK(mp.device_index == -1 && mp.progress == NULL && mp.allocator == NULL);
    CHECK(mp.vk_instance == NULL && mp.vk_device == NULL);

    /* init must not write past a shorter (older) struct. */
    unsigned char raw[sizeof(old_model_params) + 16];
    memset(raw, 0x5A, sizeof raw);
    CHECK_STATUS(localai_model_params_init_sized((localai_model_params *)(void *)raw,
                                                 sizeof(old_model_params)),
                 LOCALAI_STATUS_OK);
    old_model_params old;
    memcpy(&old, raw, sizeof old);
    CHECK(old.struct_size == sizeof(old_model_params));
    CHECK(old.backend == LOCALAI_BACKEND_AUTO);
    for (size_t i = sizeof(old_model_params); i < sizeof raw; i++) CHECK(raw[i] == 0x5A);

    CHECK_STATUS(localai_model_params_init_sized(NULL, sizeof mp), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_model_params_init_sized(&mp, 0), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(localai_errmsg()[0] != '\0');

    localai_context_params cp;
    CHECK_STATUS(localai_context_params_init(&cp), LOCALAI_STATUS_OK);
    CHECK(cp.n_batch == 512 && cp.n_seq_max == 1 && cp.kv_type == LOCALAI_KV_F16);
    localai_sampler_params sp;
    CHECK_STATUS(localai_sampler_params_init(&sp), LOCALAI_STATUS_OK);
    CHECK(sp.top_k == 40 && sp.repeat_penalty == 1.0f && sp.struct_size == sizeof sp);
    localai_generate_params gp;
    CHECK_STATUS(localai_generate_params_init(&gp), LOCALAI_STATUS_OK);
    CHECK(gp.max_tokens == 256 && gp.tokenize_flags == LOCALAI_TOKENIZE_ADD_SPECIAL);
    localai_batch b;
    CHECK_STATUS(localai_batch_init(&b), LOCALAI_STATUS_OK);
    CHECK(b.n_tokens == 0 && b.tokens == NULL);

    /* A params struct whose struct_size was never set is refused, not trusted. */
    localai_model *model = NULL;
    mp.struct_size = 0;
    CHECK_STATUS(localai_model_open("x.gguf", &mp, &model), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(model == NULL);
}

/* Each thread fails with its own message and must read back only its own. */
typedef struct thread_case {
    int id;
    int ok;
} thread_case;

static void *thread_main(void *arg) {
    thread_case *tc = arg;
    char want[64];
    snprintf(want, sizeof want, "ABI %d", 100 + tc->id);
    tc->ok = 1;
    for (int i = 0; i < 2000; i++) {
        if (localai_abi_check(100 + tc->id, 0) != LOCALAI_STATUS_ABI_MISMATCH) tc->ok = 0;
        if (strstr(localai_errmsg(), want) == NULL) tc->ok = 0;
    }
    return NULL;
}

static void test_thread_messages(void) {
    enum { N = 4 };
    pthread_t th[N];
    thread_case tc[N];
    for (int i = 0; i < N; i++) {
        tc[i].id = i;
        pthread_create(&th[i], NULL, thread_main, &tc[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK_MSG(tc[i].ok, "thread %d saw another thread's message", i);
    }
    /* The main thread's own message is untouched by the others. */
    CHECK_STATUS(localai_abi_check(7, 0), LOCALAI_STATUS_ABI_MISMATCH);
    CHECK(strstr(localai_errmsg(), "ABI 7") != NULL);
}

static void test_null_handles(void) {
    /* Every entry point tolerates NULL handles and NULL out pointers. */
    localai_model_close(NULL);
    localai_context_free(NULL);
    localai_sampler_free(NULL);
    CHECK(localai_context_errmsg(NULL) != NULL);
    CHECK(localai_sampler_errmsg(NULL) != NULL);
    CHECK(localai_model_architecture(NULL) != NULL);
    CHECK(localai_model_n_vocab(NULL) == 0);
    CHECK_STATUS(localai_model_open(NULL, NULL, NULL), LOCALAI_STATUS_INVALID_ARGUMENT);
    localai_model *model = (localai_model *)(uintptr_t)1;
    CHECK(localai_model_open("/nonexistent/dir/model.gguf", NULL, &model) != LOCALAI_STATUS_OK);
    CHECK(localai_errmsg()[0] != '\0');
    CHECK(strstr(localai_errmsg(), "/nonexistent/dir/model.gguf") != NULL);
    CHECK_STATUS(localai_context_new(NULL, NULL, NULL), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_device_count(NULL), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_device_get(0, NULL), LOCALAI_STATUS_INVALID_ARGUMENT);
}

static void test_devices(void) {
    int32_t n = 0;
    CHECK_STATUS(localai_device_count(&n), LOCALAI_STATUS_OK);
    CHECK(n >= 1);
    localai_device_info info;
    info.struct_size = sizeof info;
    CHECK_STATUS(localai_device_get(0, &info), LOCALAI_STATUS_OK);
    CHECK(info.backend == LOCALAI_BACKEND_CPU && info.name[0] != '\0');
    CHECK(info.struct_size == sizeof info);
    info.struct_size = sizeof info;
    CHECK_STATUS(localai_device_get(n, &info), LOCALAI_STATUS_NOT_FOUND);
    CHECK_STATUS(localai_device_get(-1, &info), LOCALAI_STATUS_NOT_FOUND);
    for (int32_t i = 1; i < n; i++) {
        info.struct_size = sizeof info;
        CHECK_STATUS(localai_device_get(i, &info), LOCALAI_STATUS_OK);
        CHECK(info.backend == LOCALAI_BACKEND_VULKAN);
        printf("device %d: %s (%s)\n", (int)i, info.name, info.description);
    }
}

typedef struct log_capture {
    int info, debug;
    char last[256];
} log_capture;

static void capture_log(int32_t level, const char *message, void *user) {
    log_capture *c = user;
    if (level == LOCALAI_LOG_INFO) c->info++;
    if (level == LOCALAI_LOG_DEBUG) c->debug++;
    snprintf(c->last, sizeof c->last, "%s", message);
}

/* A context logs through its own sink when it has one (and never through the model's). */
static void test_context_log(void) {
    log_capture model_log = {0, 0, ""}, ctx_log = {0, 0, ""};
    localai_model_params mp;
    localai_model_params_init(&mp);
    mp.backend = LOCALAI_BACKEND_CPU;
    mp.log = capture_log;
    mp.log_user = &model_log;
    mp.log_level = LOCALAI_LOG_WARN;
    localai_model *model = NULL;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &mp, &model),
                 LOCALAI_STATUS_OK);
    if (model == NULL) return;
    localai_context_params cp;
    localai_context_params_init(&cp);
    cp.n_ctx = 64;
    cp.log = capture_log;
    cp.log_user = &ctx_log;
    cp.log_level = LOCALAI_LOG_DEBUG;
    localai_context *ctx = NULL;
    CHECK_STATUS(localai_context_new(model, &cp, &ctx), LOCALAI_STATUS_OK);
    CHECK(ctx_log.info == 1 && strstr(ctx_log.last, "KV cache") != NULL);
    localai_token bos = 1;
    localai_batch b;
    localai_batch_init(&b);
    b.n_tokens = 1;
    b.tokens = &bos;
    CHECK_STATUS(localai_decode(ctx, &b), LOCALAI_STATUS_OK);
    CHECK(ctx_log.debug == 2 && strstr(ctx_log.last, "decode: 1 tokens") != NULL); /* graph, decode */
    CHECK(model_log.info == 0 && model_log.debug == 0);
    localai_context_free(ctx);
    localai_model_close(model);
}

/* A context setting out of range names the range (or the maximum) it must be in. */
static void test_context_ranges(void) {
    localai_model *model = NULL;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), NULL, &model),
                 LOCALAI_STATUS_OK);
    if (model == NULL) return;
    static const struct {
        int field;
        int64_t value;
        const char *want;
    } cases[] = {
        {0, 2000000000, "n_ctx 2000000000 is above the maximum, 16777216"},
        {1, 4096, "n_threads 4096 is outside 0..1024"},
        {1, -1, "n_threads -1 is outside 0..1024"},
        {2, 0, "n_batch 0 is outside 1..1048576"},
        {2, 2000000, "n_batch 2000000 is outside 1..1048576"},
        {3, 5000, "n_seq_max 5000 is outside 1..4096"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        localai_context_params cp;
        localai_context_params_init(&cp);
        if (cases[i].field == 0) cp.n_ctx = (uint32_t)cases[i].value;
        if (cases[i].field == 1) cp.n_threads = (int32_t)cases[i].value;
        if (cases[i].field == 2) cp.n_batch = (uint32_t)cases[i].value;
        if (cases[i].field == 3) cp.n_seq_max = (uint32_t)cases[i].value;
        localai_context *ctx = NULL;
        CHECK_STATUS(localai_context_new(model, &cp, &ctx), LOCALAI_STATUS_INVALID_ARGUMENT);
        CHECK_MSG(strstr(localai_errmsg(), cases[i].want) != NULL, "got '%s', want '%s'",
                  localai_errmsg(), cases[i].want);
        localai_context_free(ctx);
    }
    localai_model_close(model);
}

/* cpu_level: the reference level always opens; unknown values are refused. */
static void test_cpu_level(void) {
    localai_model_params mp;
    localai_model_params_init(&mp);
    CHECK(mp.cpu_level == LOCALAI_CPU_LEVEL_AUTO);
    localai_model *m = NULL;
    mp.cpu_level = LOCALAI_CPU_LEVEL_SCALAR;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &mp, &m), LOCALAI_STATUS_OK);
    localai_model_close(m);
    m = NULL;
    mp.cpu_level = 99;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &mp, &m), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(localai_errmsg(), "cpu_level") != NULL && m == NULL);
}

typedef struct graph_count {
    int recorded, decodes;
} graph_count;

static void count_graphs(int32_t level, const char *message, void *user) {
    graph_count *c = user;
    (void)level;
    if (strncmp(message, "graph: recorded", 15) == 0) c->recorded++;
    if (strncmp(message, "decode:", 7) == 0) c->decodes++;
}

/* Generation replays the graph recorded for its first single-token step: a 20-token
 * generation records two graphs (the prompt's, then one token's), not twenty. */
static void test_graph_reuse(void) {
    localai_model *model = NULL;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), NULL, &model), LOCALAI_STATUS_OK);
    if (model == NULL) return;
    graph_count gc = {0, 0};
    localai_context_params cp;
    localai_context_params_init(&cp);
    cp.n_ctx = 64;
    cp.log = count_graphs;
    cp.log_user = &gc;
    cp.log_level = LOCALAI_LOG_DEBUG;
    localai_context *ctx = NULL;
    CHECK_STATUS(localai_context_new(model, &cp, &ctx), LOCALAI_STATUS_OK);
    localai_generate_params gp;
    localai_generate_params_init(&gp);
    gp.max_tokens = 20;
    gp.ignore_eog = 1;
    int32_t n = 0;
    CHECK_STATUS(localai_generate(ctx, "Once upon a time", &gp, &n), LOCALAI_STATUS_OK);
    CHECK_MSG(n == 20 && gc.decodes == 20 && gc.recorded == 2, "%d tokens, %d decodes, %d graphs recorded", (int)n,
              gc.decodes, gc.recorded);
    localai_context_free(ctx);
    localai_model_close(model);
}

int main(void) {
    test_graph_reuse();
    test_cpu_level();
    test_context_ranges();
    test_status_strings();
    test_version();
    test_params();
    test_thread_messages();
    test_null_handles();
    test_devices();
    test_context_log();
    return test_finish("test_errors");
}
