/* model_open.c - localai_model_open/close: file, metadata, vocabulary, hyper-parameters, weights. */
#include "model.h"

#include "../cpu/cpu_kernels.h"
#include "../cpu/threadpool.h"

#include <stdio.h>

#define READ_CHUNK (16u << 20)

typedef struct open_state {
    localai_progress_fn progress;
    void *progress_user;
} open_state;

/* Reports progress; a non-zero answer from the host cancels the open. */
static localai_status report(const open_state *os, float value) {
    if (os->progress != NULL && os->progress(value, os->progress_user) != 0)
        return lai_fail(LOCALAI_STATUS_CANCELLED, "model loading cancelled by the progress callback");
    return LOCALAI_STATUS_OK;
}

/* Reads the whole file into a buffer from the host allocator when there is one, else
 * into huge pages (lai_pages_alloc), in chunks so the progress callback can follow and
 * cancel. */
static localai_status read_file(localai_model *m, const char *path, const open_state *os) {
    lai_file *f = NULL;
    uint64_t size = 0;
    localai_status st = lai_file_open_read(path, &f, &size);
    if (st != LOCALAI_STATUS_OK) return st;
    const localai_allocator *host = lai_model_heap(m);
    uint8_t *buf = host != NULL ? lai_alloc_aligned(host, (size_t)size, 64) : lai_pages_alloc((size_t)size);
    if (buf == NULL) {
        lai_file_close(f);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "%s: cannot allocate %llu bytes to read it",
                        path, (unsigned long long)size);
    }
    m->file_buffer = buf;
    m->file_buffer_size = size;
    for (uint64_t done = 0; done < size && st == LOCALAI_STATUS_OK;) {
        size_t want = (size_t)LAI_MIN(size - done, (uint64_t)READ_CHUNK);
        st = lai_file_read_at(f, buf + done, want, done);
        done += want;
        if (st == LOCALAI_STATUS_OK) st = report(os, 0.8f * (float)((double)done / (double)size));
    }
    lai_file_close(f);
    return st;
}

/* Copies every tokenizer.chat_template[.NAME] string so it can be returned NUL-terminated. */
static localai_status copy_chat_templates(localai_model *m) {
    static const char prefix[] = "tokenizer.chat_template";
    const size_t plen = sizeof prefix - 1;
    const lai_gguf *g = m->gguf;
    size_t n = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const char *k = g->kv[i].key;
        if (g->kv[i].type == LAI_GGUF_STRING && strncmp(k, prefix, plen) == 0 &&
            (k[plen] == '\0' || (k[plen] == '.' && k[plen + 1] != '\0')))
            n++;
    }
    if (n == 0) return LOCALAI_STATUS_OK;
    m->chat_template_names = lai_calloc(n, sizeof(char *));
    m->chat_templates = lai_calloc(n, sizeof(char *));
    if (m->chat_template_names == NULL || m->chat_templates == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate chat templates");
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const lai_gguf_kv *kv = &g->kv[i];
        const char *k = kv->key;
        if (!(kv->type == LAI_GGUF_STRING && strncmp(k, prefix, plen) == 0 &&
              (k[plen] == '\0' || (k[plen] == '.' && k[plen + 1] != '\0'))))
            continue;
        size_t j = m->n_chat_templates;
        lai_str s = kv->strings[0];
        if (s.len >= SIZE_MAX)
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "key '%s': too large", k);
        m->chat_template_names[j] = lai_strdup(k[plen] == '.' ? k + plen + 1 : "");
        m->chat_templates[j] = lai_malloc((size_t)s.len + 1);
        m->n_chat_templates++;
        if (m->chat_template_names[j] == NULL || m->chat_templates[j] == NULL)
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot copy '%s'", k);
        memcpy(m->chat_templates[j], s.ptr, (size_t)s.len);
        m->chat_templates[j][s.len] = '\0';
    }
    return LOCALAI_STATUS_OK;
}

static char *dup_str(lai_str s) {
    if (s.len >= SIZE_MAX) return NULL;
    char *p = lai_malloc((size_t)s.len + 1);
    if (p == NULL) return NULL;
    memcpy(p, s.ptr, (size_t)s.len);
    p[s.len] = '\0';
    return p;
}

/* Hyper-parameters for a vocabulary-only open: as much as the file gives; a file of an
 * architecture we do not run (gpt2, falcon) still yields its vocabulary. */
static void load_vocab_only_hparams(localai_model *m) {
    if (lai_hparams_load(m->gguf, &m->hp) == LOCALAI_STATUS_OK) return;
    memset(&m->hp, 0, sizeof m->hp);
    lai_arch arch;
    if (lai_arch_lookup(m->architecture, strlen(m->architecture), &arch)) m->hp.arch = arch;
    else m->hp.arch = LAI_ARCH_COUNT; /* none of ours */
    const lai_gguf_kv *tokens = lai_gguf_find(m->gguf, "tokenizer.ggml.tokens");
    if (tokens != NULL && tokens->type == LAI_GGUF_ARRAY && tokens->array_len <= INT32_MAX)
        m->hp.n_vocab = (uint32_t)tokens->array_len;
    /* The generic <arch>.* facts, for display; a value that does not read stays 0. */
    static const char *const suffixes[] = {"context_length", "embedding_length", "block_count",
                                           "attention.head_count", "attention.head_count_kv"};
    uint32_t *fields[] = {&m->hp.n_ctx_train, &m->hp.n_embd, &m->hp.n_layer, &m->hp.n_head,
                          &m->hp.n_head_kv};
    for (size_t i = 0; i < LAI_ARRAY_LEN(suffixes); i++) {
        char key[160];
        snprintf(key, sizeof key, "%s.%s", m->architecture, suffixes[i]);
        if (lai_gguf_get_u32(m->gguf, key, fields[i]) != LOCALAI_STATUS_OK) *fields[i] = 0;
    }
    if (m->hp.n_head_kv == 0) m->hp.n_head_kv = m->hp.n_head;
    lai_log_debug(&m->log, "vocab-only open: hyper-parameters not available (%s)",
                  lai_thread_errmsg());
    lai_clear_error();
}

static void sum_tensors(localai_model *m) {
    const lai_gguf *g = m->gguf;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const lai_gguf_tensor *t = &g->tensors[i];
        uint64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]; /* checked by the reader */
        if (lai_add_overflow_u64(m->n_params, n, &m->n_params)) m->n_params = UINT64_MAX;
        if (lai_add_overflow_u64(m->size_bytes, t->n_bytes, &m->size_bytes))
            m->size_bytes = UINT64_MAX;
    }
}

/* The public level numbers are the internal ones plus one (0 = AUTO). */
static localai_status choose_kernels(localai_model *m, int32_t level) {
    if (level == LOCALAI_CPU_LEVEL_AUTO) {
        m->kernels = lai_cpu_kernels_get(lai_cpu_level_best());
    } else {
        if (level < LOCALAI_CPU_LEVEL_SCALAR || level > LAI_CPU_LEVEL_COUNT)
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_params.cpu_level: unknown value %d",
                            (int)level);
        const lai_cpu_level l = (lai_cpu_level)(level - 1);
        m->kernels = lai_cpu_kernels_get(l);
        if (m->kernels == NULL) {
            char features[96];
            lai_cpu_features_describe(features, sizeof features);
            return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                            "localai_model_params.cpu_level: this CPU or build cannot run the %s kernels "
                            "(it has %s; the best it runs is %s)",
                            lai_cpu_level_name(l), features, lai_cpu_level_name(lai_cpu_level_best()));
        }
    }
    lai_log_info(&m->log, "CPU kernels: %s", lai_cpu_level_name(((const lai_cpu_kernels *)m->kernels)->level));
    return LOCALAI_STATUS_OK;
}

/* The host's Vulkan device (localai_model_params.vulkan), checked and copied: the caller's
 * struct may be older (shorter) or newer (longer, its unknown tail all zeros). */
static localai_status host_vulkan(const localai_model_params *p, localai_vulkan_interop *out) {
    memset(out, 0, sizeof *out);
    if (p->vulkan == NULL) return LOCALAI_STATUS_OK;
    localai_status st = lai_params_merge(out, sizeof *out, p->vulkan, "localai_vulkan_interop");
    if (st != LOCALAI_STATUS_OK) return st;
    if (out->instance == NULL || out->physical_device == NULL || out->device == NULL ||
        out->get_instance_proc_addr == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_vulkan_interop: instance, physical_device, device "
                        "and get_instance_proc_addr are all needed");
    if ((out->lock_queue == NULL) != (out->unlock_queue == NULL))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_vulkan_interop: lock_queue and unlock_queue go together");
    if (out->api_version < ((1u << 22) | (2u << 12))) /* VK_API_VERSION_1_2 */
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_vulkan_interop: api_version %u.%u is below Vulkan 1.2", (out->api_version >> 22) & 0x7fu,
                        (out->api_version >> 12) & 0x3ffu);
    if (p->backend == LOCALAI_BACKEND_CPU)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_params: a Vulkan device with backend CPU");
    return LOCALAI_STATUS_OK;
}

static localai_status load(localai_model *m, const char *path, const localai_model_params *p,
                           const open_state *os) {
    localai_status st;
    if ((st = report(os, 0.0f)) != LOCALAI_STATUS_OK) return st;
    if (p->use_mmap) {
        st = lai_gguf_open(path, 1, &m->gguf);
    } else {
        st = read_file(m, path, os);
        if (st == LOCALAI_STATUS_OK) {
            st = lai_gguf_parse(m->file_buffer, m->file_buffer_size, &m->gguf);
            if (st != LOCALAI_STATUS_OK) lai_error_prefix(path);
        }
    }
    if (st != LOCALAI_STATUS_OK) return st;
    if ((st = report(os, 0.85f)) != LOCALAI_STATUS_OK) return st;

    lai_str s;
    st = lai_gguf_get_str(m->gguf, "general.architecture", &s);
    if (st == LOCALAI_STATUS_NOT_FOUND)
        st = lai_fail(LOCALAI_STATUS_BAD_FORMAT, "missing key 'general.architecture'");
    if (st != LOCALAI_STATUS_OK) return st;
    if (memchr(s.ptr, 0, (size_t)s.len) != NULL)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "key 'general.architecture' contains a NUL byte");
    m->architecture = dup_str(s);
    st = lai_gguf_get_str(m->gguf, "general.name", &s);
    if (st == LOCALAI_STATUS_NOT_FOUND) s = (lai_str){"", 0};
    else if (st != LOCALAI_STATUS_OK) return st;
    m->name = dup_str(s);
    if (m->architecture == NULL || m->name == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot copy the model name");

    if ((st = copy_chat_templates(m)) != LOCALAI_STATUS_OK) return st;
    sum_tensors(m);
    if (m->vocab_only) {
        load_vocab_only_hparams(m);
    } else {
        if ((st = lai_hparams_load(m->gguf, &m->hp)) != LOCALAI_STATUS_OK) return st;
        if (m->gguf->n_tensors == 0)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "the file has no tensors (a vocabulary-only file? open it with "
                            "vocab_only = 1)");
        if ((st = lai_weights_bind(m->gguf, &m->hp, &m->weights)) != LOCALAI_STATUS_OK) return st;
        st = lai_weights_realign(m->gguf, lai_model_heap(m),
                                 &m->realigned, &m->realigned_size);
        if (st != LOCALAI_STATUS_OK) return st;
        if ((st = choose_kernels(m, p->cpu_level)) != LOCALAI_STATUS_OK) return st;
        /* one thread per core between all contexts; each run claims what is idle */
        if ((st = lai_threadpool_new(LAI_MIN(lai_cpu_count(), LAI_THREADPOOL_MAX) - 1, &m->pool)) !=
            LOCALAI_STATUS_OK)
            return st;
        localai_vulkan_interop host;
        if ((st = host_vulkan(p, &host)) != LOCALAI_STATUS_OK) return st;
        if ((st = lai_model_device_init(m, p, p->vulkan != NULL ? &host : NULL)) !=
            LOCALAI_STATUS_OK)
            return st;
        if (m->realigned != NULL)
            lai_log_info(&m->log, "general.alignment %llu leaves tensors unaligned: copied %zu bytes "
                         "to aligned memory", (unsigned long long)m->gguf->alignment, m->realigned_size);
    }
    if ((st = report(os, 0.9f)) != LOCALAI_STATUS_OK) return st;
    if ((st = lai_vocab_load(m->gguf, &m->log, &m->vocab)) != LOCALAI_STATUS_OK) return st;
    if (m->vocab != NULL && !m->vocab_only && lai_vocab_n_tokens(m->vocab) != (int32_t)m->hp.n_vocab)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "the vocabulary has %d tokens but the embedding has %u rows",
                        (int)lai_vocab_n_tokens(m->vocab), m->hp.n_vocab);
    return report(os, 1.0f);
}

LOCALAI_API void localai_model_close(localai_model *model) {
    if (model == NULL) return;
    lai_model_device_free(model);
    lai_threadpool_free(model->pool);
    lai_weights_free(&model->weights);
    lai_vocab_free(model->vocab);
    lai_gguf_close(model->gguf);
    if (model->realigned != NULL)
        lai_free_aligned(lai_model_heap(model), model->realigned,
                         model->realigned_size, LAI_WEIGHTS_ALIGN);
    if (model->file_buffer != NULL) {
        if (lai_model_heap(model) != NULL)
            lai_free_aligned(lai_model_heap(model), model->file_buffer, (size_t)model->file_buffer_size, 64);
        else
            lai_pages_free(model->file_buffer, (size_t)model->file_buffer_size);
    }
    for (size_t i = 0; i < model->n_chat_templates; i++) {
        lai_free(model->chat_template_names[i]);
        lai_free(model->chat_templates[i]);
    }
    lai_free(model->chat_template_names);
    lai_free(model->chat_templates);
    lai_free(model->architecture);
    lai_free(model->name);
    lai_free(model);
}

static localai_status check_params(const localai_model_params *p, localai_allocator *alloc,
                                   int *has_alloc) {
    if (p->backend != LOCALAI_BACKEND_AUTO && p->backend != LOCALAI_BACKEND_CPU &&
        p->backend != LOCALAI_BACKEND_VULKAN)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_params.backend: unknown value %d",
                        (int)p->backend);
    if (p->vk_device != NULL || p->vk_instance != NULL || p->vk_physical_device != NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_model_params.vk_instance/vk_physical_device/vk_device are placeholders "
                        "of 0.1.0: pass the host's Vulkan device in localai_model_params.vulkan");
    if (p->backend == LOCALAI_BACKEND_VULKAN && p->device_index < -1)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_params.device_index %d is negative",
                        (int)p->device_index);
    if (p->backend != LOCALAI_BACKEND_VULKAN && p->device_index != -1 && p->device_index != 0)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                        "localai_model_params.device_index %d: the CPU backend has only device 0",
                        (int)p->device_index);
    *has_alloc = 0;
    memset(alloc, 0, sizeof *alloc);
    if (p->allocator != NULL) {
        const localai_allocator *a = p->allocator;
        if (a->struct_size < offsetof(localai_allocator, user) + sizeof(void *))
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                            "localai_allocator.struct_size %zu is too small", a->struct_size);
        if (a->alloc == NULL || a->free == NULL)
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                            "localai_allocator needs both alloc and free");
        /* field by field: never read past the caller's struct_size */
        alloc->struct_size = sizeof *alloc;
        alloc->alloc = a->alloc;
        alloc->free = a->free;
        alloc->user = a->user;
        *has_alloc = 1;
    }
    return LOCALAI_STATUS_OK;
}

LOCALAI_API localai_status localai_model_open(const char *path,
                                              const localai_model_params *params,
                                              localai_model **out_model) {
    if (path == NULL || out_model == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "localai_model_open: %s is NULL",
                        path == NULL ? "path" : "out_model");
    localai_model_params p;
    localai_model_params_init(&p);
    localai_status st = lai_params_merge(&p, sizeof p, params, "localai_model_params");
    if (st != LOCALAI_STATUS_OK) return st;
    localai_allocator alloc;
    int has_alloc = 0;
    if ((st = check_params(&p, &alloc, &has_alloc)) != LOCALAI_STATUS_OK) return st;
    /* Everything the model holds comes from the host's allocator when it gave one. */
    const localai_allocator *previous = lai_heap_enter(has_alloc ? &alloc : NULL);
    localai_model *m = lai_calloc(1, sizeof *m);
    if (m == NULL) {
        lai_heap_leave(previous);
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "cannot allocate a model");
    }
    m->allocator = alloc;
    m->has_allocator = has_alloc;
    m->log.fn = p.log;
    m->log.user = p.log_user;
    m->log.level = p.log_level;
    m->backend = LOCALAI_BACKEND_CPU;
    m->vocab_only = p.vocab_only != 0;
    open_state os = {p.progress, p.progress_user};
    st = load(m, path, &p, &os);
    if (st != LOCALAI_STATUS_OK) {
        /* Messages from the file layers already carry the path; add it to the others. */
        if (strstr(lai_thread_errmsg(), path) == NULL) lai_error_prefix(path);
        lai_log_error(&m->log, "%s", lai_thread_errmsg());
        localai_model_close(m);
        lai_heap_leave(previous);
        return st;
    }
    lai_heap_leave(previous);
    lai_log_info(&m->log, "%s: %s '%s', %llu tensors, %llu parameters%s", path, m->architecture,
                 m->name, (unsigned long long)m->gguf->n_tensors,
                 (unsigned long long)m->n_params, m->vocab_only ? " (vocabulary only)" : "");
    *out_model = m;
    lai_clear_error();
    return LOCALAI_STATUS_OK;
}
