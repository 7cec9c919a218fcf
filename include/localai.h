/* localai.h - the public API of liblocalai: run open-weight language models locally. */
/*
 * liblocalai runs GGUF language models entirely on this machine. It never opens a
 * socket, never reads an environment variable behind the host's back, and never
 * aborts the process on bad input.
 *
 * ---------------------------------------------------------------------------------
 * Conventions (they hold for every function below unless its comment says otherwise)
 * ---------------------------------------------------------------------------------
 *
 * Status.   Every fallible function returns a localai_status: LOCALAI_STATUS_OK (0) on
 *           success, a positive code otherwise. localai_status_string() names a code.
 *           On failure, out parameters are left untouched unless documented, and a
 *           detailed message is stored:
 *             - always for the calling thread: localai_errmsg();
 *             - also in the context or sampler handle the call was made on:
 *               localai_context_errmsg(), localai_sampler_errmsg().
 *           A localai_model is shared between threads, so calls on a model keep their
 *           message with the calling thread only.
 *
 * Buffers.  A function that fills a caller buffer takes (buffer, capacity) and an out
 *           parameter for the size it needs. When the buffer is too small it returns
 *           LOCALAI_STATUS_BUFFER_TOO_SMALL and still writes the needed size, so the
 *           caller can allocate and call again. Text is UTF-8; byte counts exclude the
 *           terminating NUL, which is written whenever capacity allows.
 *
 * Params.   Parameter structs start with `size_t struct_size`, are filled with defaults
 *           by localai_*_params_init(&p) (an inline wrapper that records the size the
 *           caller was compiled with), and are passed by pointer. They only ever grow at
 *           the end: a field the caller's struct is too short to hold takes its default.
 *           Passing NULL for a params pointer means "all defaults".
 *
 * Handles.  Handles are opaque. The creating function's out pointer receives the handle;
 *           the matching free/close function releases it and accepts NULL.
 *
 * Threads.  A localai_model is immutable after localai_model_open() returns and may be
 *           used by any number of threads and contexts at once. A localai_context, and a
 *           localai_sampler, is used by one thread at a time (different contexts on
 *           different threads need no locking). Functions that take no handle are
 *           thread-safe. A model must outlive every context created from it.
 *
 * Stability. A published signature never changes. New behaviour arrives as a new
 *           function (..._v2) or a new field at the end of a params struct. The ABI
 *           major is in the soname (liblocalai.so.0) and in LOCALAI_ABI_VERSION;
 *           bindings call localai_abi_check() when they load the library.
 */
#ifndef LOCALAI_H
#define LOCALAI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------
 * Export macro
 * ------------------------------------------------------------------------------ */
#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(LOCALAI_BUILDING)
#    define LOCALAI_API __declspec(dllexport)
#  elif defined(LOCALAI_STATIC)
#    define LOCALAI_API
#  else
#    define LOCALAI_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define LOCALAI_API __attribute__((visibility("default")))
#else
#  define LOCALAI_API
#endif

/* Every fallible call returns one of the LOCALAI_STATUS_* codes below. */
typedef int32_t localai_status;

/* ---------------------------------------------------------------------------------
 * Versions and ABI
 * ------------------------------------------------------------------------------ */
#define LOCALAI_VERSION_MAJOR 0
#define LOCALAI_VERSION_MINOR 2
#define LOCALAI_VERSION_PATCH 0
#define LOCALAI_VERSION_STRING "0.2.0"
/* MAJOR * 1000000 + MINOR * 1000 + PATCH, for compile-time comparisons. */
#define LOCALAI_VERSION_NUMBER \
    (LOCALAI_VERSION_MAJOR * 1000000 + LOCALAI_VERSION_MINOR * 1000 + LOCALAI_VERSION_PATCH)

/* The ABI major of this header. It equals the number in the soname (liblocalai.so.0)
 * and changes only when a published signature or struct prefix would have to change. */
#define LOCALAI_ABI_VERSION 0

/* The library's version string, e.g. "0.2.0". Static storage; never NULL. */
LOCALAI_API const char *localai_version(void);

/* The library's LOCALAI_VERSION_NUMBER. */
LOCALAI_API int32_t localai_version_number(void);

/* The library's ABI major (the LOCALAI_ABI_VERSION it was built with). */
LOCALAI_API int32_t localai_abi_version(void);

/* Checks that the loaded library serves the ABI a caller was written for. Bindings call
 * localai_abi_check(LOCALAI_ABI_VERSION, LOCALAI_VERSION_NUMBER) with the numbers of the
 * header they were written against right after loading the shared library.
 * Returns OK when abi_version equals the library's ABI major and the library is at least
 * min_version_number (a binding that uses functions added in 0.3 passes 3000); otherwise
 * LOCALAI_STATUS_ABI_MISMATCH with a message naming both versions. */
LOCALAI_API localai_status localai_abi_check(int32_t abi_version, int32_t min_version_number);

/* ---------------------------------------------------------------------------------
 * Status codes and messages
 * ------------------------------------------------------------------------------ */

enum {
    LOCALAI_STATUS_OK = 0,
    LOCALAI_STATUS_INVALID_ARGUMENT = 1, /* a NULL handle, out-of-range value, bad flag */
    LOCALAI_STATUS_OUT_OF_MEMORY = 2,    /* an allocation (host or device) failed */
    LOCALAI_STATUS_IO = 3,               /* a file could not be opened, mapped or read */
    LOCALAI_STATUS_BAD_FORMAT = 4,       /* a model file is malformed or inconsistent */
    LOCALAI_STATUS_UNSUPPORTED = 5,      /* valid, but not supported by this build */
    LOCALAI_STATUS_BUFFER_TOO_SMALL = 6, /* the needed size was written to the out param */
    LOCALAI_STATUS_CONTEXT_FULL = 7,     /* the KV cache has no room for the batch */
    LOCALAI_STATUS_CANCELLED = 8,        /* a progress, abort or token callback said stop */
    LOCALAI_STATUS_NOT_FOUND = 9,        /* a metadata key, token or device does not exist */
    LOCALAI_STATUS_BACKEND = 10,         /* the compute backend (driver, device) failed */
    LOCALAI_STATUS_ABI_MISMATCH = 11,    /* library and caller disagree on the ABI */
    LOCALAI_STATUS_INTERNAL = 12         /* a bug in liblocalai: please report it */
};
/* One past the largest status code; every code below it has a name. */
#define LOCALAI_STATUS_COUNT 13

/* A short, static, English name for a status ("invalid argument"). Unknown codes give
 * "unknown status". Never NULL. */
LOCALAI_API const char *localai_status_string(localai_status status);

/* The detailed message of the last failed call made on the calling thread, e.g.
 * "stories.gguf: tensor 'blk.0.attn_q.weight': data offset 123 is past the end of the
 * file (size 100)". The empty string when that call succeeded. The text stays valid on
 * this thread until its next liblocalai call. Never NULL. */
LOCALAI_API const char *localai_errmsg(void);

/* ---------------------------------------------------------------------------------
 * Host-provided services: logging, allocation, progress
 * ------------------------------------------------------------------------------ */
enum {
    LOCALAI_LOG_ERROR = 0,
    LOCALAI_LOG_WARN = 1,
    LOCALAI_LOG_INFO = 2,
    LOCALAI_LOG_DEBUG = 3
};

/* Receives one log line (no trailing newline) at `level`. Called on whichever thread is
 * doing the work; it must not call back into liblocalai with the same handle. There is
 * no global log sink: with no sink set, liblocalai prints nothing. */
typedef void (*localai_log_fn)(int32_t level, const char *message, void *user);

/* A host allocator (localai_model_params.allocator). It serves every allocation
 * liblocalai makes for the model and its contexts: the copy of the file when use_mmap is
 * 0, the vocabulary and metadata tables, the KV cache, activation and scratch buffers,
 * the model's worker threads' bookkeeping, and the temporary memory of calls on them
 * (localai_tokenize, localai_detokenize, localai_decode, localai_generate, ...). Not
 * served by it: samplers (they belong to no model; the C heap), the process-wide device
 * list, the memory the operating system takes for mapping the file and for thread
 * stacks. alloc returns memory aligned to `alignment` (a power of two, at most 4096) or
 * NULL, which the failing call reports as LOCALAI_STATUS_OUT_OF_MEMORY after freeing
 * what it had made; free receives the same size and alignment. Both may be called from
 * any thread that uses the model or its contexts, including the model's worker threads,
 * until localai_model_close() returns. */
typedef struct localai_allocator {
    size_t struct_size;
    void *(*alloc)(size_t size, size_t alignment, void *user);
    void (*free)(void *ptr, size_t size, size_t alignment, void *user);
    void *user;
} localai_allocator;

/* Reports loading progress in [0, 1]. Return 0 to continue, non-zero to cancel: the
 * operation then fails with LOCALAI_STATUS_CANCELLED and frees what it had made. */
typedef int32_t (*localai_progress_fn)(float progress, void *user);

/* Polled between units of work during localai_decode() (on the CPU after every op; on
 * Vulkan before the decode's work is submitted, which then runs to its end). Return
 * non-zero to stop: the decode then fails with LOCALAI_STATUS_CANCELLED and the KV cache
 * holds no part of that batch. */
typedef int32_t (*localai_abort_fn)(void *user);

/* ---------------------------------------------------------------------------------
 * Devices and backends
 * ------------------------------------------------------------------------------ */
enum {
    LOCALAI_BACKEND_AUTO = 0,   /* the best device found, else the CPU */
    LOCALAI_BACKEND_CPU = 1,    /* SIMD CPU backend (AVX2, AVX-512, NEON, chosen at run time) */
    LOCALAI_BACKEND_VULKAN = 2  /* a Vulkan 1.2 compute device, loaded at run time */
};

typedef struct localai_device_info {
    size_t struct_size;
    int32_t backend;         /* LOCALAI_BACKEND_CPU or LOCALAI_BACKEND_VULKAN */
    int32_t index;           /* index among devices of that backend */
    char name[128];          /* e.g. "CPU (x86_64: avx2 fma f16c)", "NVIDIA H100" */
    char description[128];   /* driver or feature details, may be empty */
    uint64_t memory_bytes;   /* device-local memory, or physical RAM for the CPU; 0 = unknown */
    int32_t is_software;     /* 1 for a software rasterizer such as llvmpipe */
    /* appended in 0.2.0 */
    uint8_t uuid[16];        /* Vulkan: VkPhysicalDeviceIDProperties.deviceUUID, to find the
                              * device among a host's own; the CPU: zeros */
} localai_device_info;

/* Counts the devices liblocalai can run on: the CPU is always device 0; Vulkan 1.2
 * devices with a compute queue follow when a Vulkan loader is present, in the order the
 * library prefers them (discrete GPUs, integrated, virtual, then CPU implementations such
 * as lavapipe); their `index` is the device_index that names them. Drivers are
 * probed once per process, on the first call of this function or of localai_device_get()
 * (or when a model is opened with backend AUTO or VULKAN), never before the host asks.
 * A missing Vulkan loader is not an error: the count is then 1. */
LOCALAI_API localai_status localai_device_count(int32_t *out_count);

/* Describes device `i` (0 <= i < count). `info->struct_size` must be set by the caller
 * (sizeof(localai_device_info)). Returns NOT_FOUND past the end. */
LOCALAI_API localai_status localai_device_get(int32_t i, localai_device_info *info);

/* Checks device `i` as a model does before it trusts a Vulkan device: every kernel family
 * (element-wise ops, RMS norm, rope, KV store and attention, and matrix products and row
 * lookups for every weight type) runs on small inputs and is compared with the CPU's
 * reference kernels, first with the fastest kernel tier the device's features allow; a
 * tier that disagrees is dropped for the next slower one, as a model would. Writes a
 * NUL-terminated report: "tier subgroup:" and one line per family ("rope: ok (relative
 * error 2.1e-07, tolerance 1e-03)") for each tier tried, truncated to report_size (report
 * may be NULL when report_size is 0). Returns OK when a tier agrees (the device is
 * usable; the report shows any tier that did not), BACKEND when none does or the device
 * cannot be used (the report and the message say which kernel and by how much),
 * NOT_FOUND past the end. Device 0, the CPU, is the reference: OK. Thread-safe. */
LOCALAI_API localai_status localai_device_self_test(int32_t i, char *report, size_t report_size);

/* ---------------------------------------------------------------------------------
 * Models
 * ------------------------------------------------------------------------------ */
typedef struct localai_model localai_model;
typedef struct localai_context localai_context;
typedef struct localai_sampler localai_sampler;
typedef int32_t localai_token;
#define LOCALAI_TOKEN_NONE (-1)

typedef struct localai_model_params {
    size_t struct_size;
    int32_t backend;             /* LOCALAI_BACKEND_*; default AUTO: the first discrete
                                  * Vulkan GPU, else the CPU (an integrated GPU shares the
                                  * CPU's memory bandwidth; ask for it with VULKAN). VULKAN: the
                                  * device_index-th Vulkan device (localai_device_info.index).
                                  * When Vulkan cannot run the model (no loader, no device, a
                                  * weight type without a shader, too little device memory)
                                  * the model opens on the CPU and the log says why;
                                  * localai_model_backend() tells where it runs. */
    int32_t device_index;        /* among the chosen backend's devices; -1 (default) = best;
                                  * a Vulkan index past the last device: INVALID_ARGUMENT */
    int32_t use_mmap;            /* 1 (default): map the file, weights are not copied.
                                  * 0: read the whole file into memory (the host
                                  * allocator's, else huge pages where the system has
                                  * them: slower to open, and generation on the CPU up
                                  * to ~20% faster; docs/PERFORMANCE.md measures both).
                                  * See "Files that change" at localai_model_open(). */
    int32_t vocab_only;          /* 1: read metadata and vocabulary only, no weights */
    localai_progress_fn progress; /* optional, see localai_progress_fn */
    void *progress_user;
    localai_log_fn log;          /* optional; also the default for contexts of this model */
    void *log_user;
    int32_t log_level;           /* messages above this level are dropped; default WARN */
    const localai_allocator *allocator; /* optional; must outlive the model */
    /* Placeholders of 0.1.0, superseded by `vulkan` below (which also carries the
     * host's vkGetInstanceProcAddr, API version and queue lock): leave them NULL and 0;
     * a non-NULL vk_device gives INVALID_ARGUMENT. */
    void *vk_instance;
    void *vk_physical_device;
    void *vk_device;
    uint32_t vk_queue_family;
    uint32_t vk_queue_index;
    /* appended in 0.2.0 */
    int32_t cpu_level;           /* LOCALAI_CPU_LEVEL_*: the CPU kernels to run; default AUTO */
    const struct localai_vulkan_interop *vulkan; /* optional: the host's own Vulkan device
                                  * (see localai_vulkan_interop); must outlive the model */
    const char *vulkan_pipeline_cache; /* optional: a file (UTF-8 path) that keeps the
                                  * compiled GPU pipelines between runs: read at open when
                                  * it exists and was made by this device and driver
                                  * (checked; anything else is ignored), written when the
                                  * model closes (a new file renamed over the old) */
} localai_model_params;

/* A Vulkan device the host already has (a game, an editor), for a model to run on instead
 * of one of its own. With it set in localai_model_params.vulkan (and backend VULKAN or
 * AUTO), the model creates no instance or device: it loads its function pointers from
 * get_instance_proc_addr, allocates its memory and pipelines on `device`, and submits on
 * the queue (queue_family, queue_index), calling lock_queue / unlock_queue around each
 * vkQueueSubmit when given (a VkQueue must be externally synchronised: the host's own
 * submissions to that queue take the same lock). It waits only for its own work, never
 * for the device to be idle, and destroys only what it created. The device must have been
 * created with API version >= 1.2 and what localai_vulkan_device_needs() lists as
 * required; the model uses optional features only where the host enabled them. If the
 * device cannot run the model (the self-test included), the model runs on the CPU and
 * the log says why, as for a device of its own. Handles are the Vulkan handles cast to
 * void *; get_instance_proc_addr is a PFN_vkGetInstanceProcAddr. */
typedef void (*localai_vk_void_fn)(void);
typedef localai_vk_void_fn (*localai_vk_get_instance_proc_addr_fn)(void *instance, const char *name);
typedef struct localai_vulkan_interop {
    size_t struct_size;          /* sizeof(localai_vulkan_interop) */
    uint32_t api_version;        /* what the host created instance and device with (VK_MAKE_API_VERSION) */
    void *instance;              /* VkInstance */
    void *physical_device;       /* VkPhysicalDevice */
    void *device;                /* VkDevice */
    uint32_t queue_family;       /* a family with VK_QUEUE_COMPUTE_BIT */
    uint32_t queue_index;
    localai_vk_get_instance_proc_addr_fn get_instance_proc_addr; /* the host's vkGetInstanceProcAddr */
    void (*lock_queue)(void *user);   /* optional; both or neither */
    void (*unlock_queue)(void *user);
    void *user;
} localai_vulkan_interop;

/* What liblocalai needs and can use from a Vulkan device, for a host that creates the
 * device it will pass in localai_vulkan_interop. Strings are static. Features are named
 * "StructName.member" after Vulkan's feature structs ("VkPhysicalDeviceVulkan12Features.
 * shaderFloat16"); a host enables those it can. */
typedef struct localai_vulkan_needs {
    size_t struct_size;                       /* sizeof(localai_vulkan_needs), set by the caller */
    uint32_t api_version;                     /* the least: Vulkan 1.2 */
    const char *const *required_extensions;   /* none at present */
    size_t n_required_extensions;
    const char *const *optional_extensions;   /* used when enabled */
    size_t n_optional_extensions;
    const char *const *required_features;
    size_t n_required_features;
    const char *const *optional_features;
    size_t n_optional_features;
} localai_vulkan_needs;

/* Fills *needs (its struct_size set by the caller). Works in a build without Vulkan too
 * (the lists are the same; such a build runs every model on the CPU). */
LOCALAI_API localai_status localai_vulkan_device_needs(localai_vulkan_needs *needs);

/* CPU kernel levels (localai_model_params.cpu_level). AUTO picks the fastest this CPU
 * runs; naming another one (to compare levels, or to work around a suspected kernel
 * problem) gives UNSUPPORTED when the CPU or this build cannot run it. Every level
 * computes the same results up to float rounding; SCALAR is the portable reference. */
enum {
    LOCALAI_CPU_LEVEL_AUTO = 0,
    LOCALAI_CPU_LEVEL_SCALAR = 1,
    LOCALAI_CPU_LEVEL_AVX2 = 2,   /* x86-64 with AVX2, FMA and F16C */
    LOCALAI_CPU_LEVEL_AVX512 = 3, /* x86-64 with AVX-512 F, BW, VL and VNNI */
    LOCALAI_CPU_LEVEL_NEON = 4    /* AArch64 (dotprod used where present) */
};

LOCALAI_API localai_status localai_model_params_init_sized(localai_model_params *params,
                                                           size_t struct_size);
/* Fills *params with defaults. */
static inline localai_status localai_model_params_init(localai_model_params *params) {
    return localai_model_params_init_sized(params, sizeof(localai_model_params));
}

/* Opens the GGUF model at `path` (UTF-8) and prepares it on the chosen backend.
 * Every length, count and offset in the file is checked; a malformed file gives
 * BAD_FORMAT with a message naming the field, tensor or key, never a crash. Only a
 * regular file opens: a directory, FIFO or device gives IO at once, without blocking.
 *
 * Files that change. With use_mmap = 1 the model reads the file's pages in place for as
 * long as it is open. Replacing the file by rename (how downloaders and package managers
 * update files) is safe: the model keeps the old contents. Truncating or rewriting it in
 * place is not: the operating system kills a process that reads a page cut off by a
 * truncation (SIGBUS), so each localai_decode() first checks the file's size and fails
 * with IO when it shrank, but a truncation during a decode can still end the process.
 * Open a file that may be rewritten in place (one being downloaded or edited, a network
 * share) with use_mmap = 0: the model then holds its own copy and the file may change
 * or vanish at any time.
 *
 * Returns OK, INVALID_ARGUMENT, IO, BAD_FORMAT, UNSUPPORTED (architecture or tensor type),
 * OUT_OF_MEMORY, BACKEND or CANCELLED. On success *out_model owns the file mapping
 * and is released with localai_model_close(). */
LOCALAI_API localai_status localai_model_open(const char *path,
                                              const localai_model_params *params,
                                              localai_model **out_model);

/* Releases a model. Every context made from it must have been freed. NULL is a no-op. */
LOCALAI_API void localai_model_close(localai_model *model);

/* Model facts; thread-safe. Strings are owned by the model and live until
 * localai_model_close(). A NULL model gives "" or 0. */
LOCALAI_API const char *localai_model_architecture(const localai_model *model); /* "llama" */
LOCALAI_API const char *localai_model_name(const localai_model *model); /* general.name or "" */
LOCALAI_API uint64_t localai_model_n_params(const localai_model *model);
LOCALAI_API uint64_t localai_model_size_bytes(const localai_model *model); /* tensor bytes */
LOCALAI_API int32_t localai_model_n_vocab(const localai_model *model);
LOCALAI_API int32_t localai_model_n_ctx_train(const localai_model *model);
LOCALAI_API int32_t localai_model_n_embd(const localai_model *model);
LOCALAI_API int32_t localai_model_n_layer(const localai_model *model);
LOCALAI_API int32_t localai_model_n_head(const localai_model *model);
LOCALAI_API int32_t localai_model_n_head_kv(const localai_model *model);
/* The backend the model's weights live on (LOCALAI_BACKEND_CPU or _VULKAN). */
LOCALAI_API int32_t localai_model_backend(const localai_model *model);

/* Number of metadata entries, and the key of entry i (owned by the model). */
LOCALAI_API int32_t localai_model_meta_count(const localai_model *model);
LOCALAI_API localai_status localai_model_meta_key(const localai_model *model, int32_t i,
                                                  const char **out_key);
/* The value of metadata `key` rendered as text: numbers in decimal, booleans as
 * true/false, strings as they are, arrays as [a, b, ...] (long arrays abbreviated).
 * Returns NOT_FOUND when the key is absent, BUFFER_TOO_SMALL with *out_len set. */
LOCALAI_API localai_status localai_model_meta_value(const localai_model *model,
                                                    const char *key, char *buf,
                                                    size_t capacity, size_t *out_len);

/* The chat template (Jinja text) stored in the file: `name` NULL for the default
 * template (tokenizer.chat_template), or a named one (tokenizer.chat_template.NAME).
 * Returns NOT_FOUND when the file has none. *out_template is owned by the model. */
LOCALAI_API localai_status localai_model_chat_template(const localai_model *model,
                                                       const char *name,
                                                       const char **out_template);

/* ---------------------------------------------------------------------------------
 * Tokenizer (needs only the model, also one opened with vocab_only; thread-safe)
 *
 * Each call returns OK, INVALID_ARGUMENT (NULL model, text or out pointer; unknown flag
 * bits), UNSUPPORTED (the model file has no vocabulary), BUFFER_TOO_SMALL (needed size
 * written) or, for pieces, NOT_FOUND.
 * ------------------------------------------------------------------------------ */
enum {
    LOCALAI_TOKENIZE_ADD_SPECIAL = 1u << 0,   /* add BOS/EOS as the vocabulary's metadata asks */
    LOCALAI_TOKENIZE_PARSE_SPECIAL = 1u << 1  /* "<|eot_id|>" in text becomes its control token */
};

/* Tokenizes `text_len` bytes of UTF-8 `text` into `tokens` (room for `capacity`).
 * Writes the number of tokens to *out_count, also when the buffer is too small
 * (BUFFER_TOO_SMALL). Invalid UTF-8 is tokenized byte by byte (byte fallback) or as
 * the unknown token; it is never an error. */
LOCALAI_API localai_status localai_tokenize(const localai_model *model, const char *text,
                                            size_t text_len, uint32_t flags,
                                            localai_token *tokens, size_t capacity,
                                            size_t *out_count);

enum {
    LOCALAI_PIECE_RENDER_SPECIAL = 1u << 0 /* control tokens give their text ("</s>") */
};

/* The bytes token `token` stands for (a piece may be part of a UTF-8 character, so it
 * is not NUL-terminated text in general; a NUL is still written when room allows).
 * Control tokens give "" unless LOCALAI_PIECE_RENDER_SPECIAL. NOT_FOUND for ids outside
 * the vocabulary. */
LOCALAI_API localai_status localai_token_to_piece(const localai_model *model,
                                                  localai_token token, uint32_t flags,
                                                  char *buf, size_t capacity,
                                                  size_t *out_len);

enum {
    LOCALAI_DETOKENIZE_REMOVE_SPECIAL = 1u << 0, /* drop a leading BOS / trailing EOS */
    LOCALAI_DETOKENIZE_RENDER_SPECIAL = 1u << 1  /* control tokens give their text */
};

/* The text of a token sequence, undoing the tokenizer's whitespace rules (so
 * detokenize(tokenize(x)) == x where the vocabulary allows it). */
LOCALAI_API localai_status localai_detokenize(const localai_model *model,
                                              const localai_token *tokens, size_t n_tokens,
                                              uint32_t flags, char *buf, size_t capacity,
                                              size_t *out_len);

enum {
    LOCALAI_SPECIAL_BOS = 0,
    LOCALAI_SPECIAL_EOS = 1,
    LOCALAI_SPECIAL_EOT = 2,  /* end of turn, e.g. <|eot_id|>, <|im_end|>, <end_of_turn> */
    LOCALAI_SPECIAL_UNK = 3,
    LOCALAI_SPECIAL_PAD = 4,
    LOCALAI_SPECIAL_SEP = 5,
    LOCALAI_SPECIAL_NL = 6    /* the newline token */
};

/* The id of a special token, or LOCALAI_TOKEN_NONE when the vocabulary has none. */
LOCALAI_API localai_token localai_token_special(const localai_model *model, int32_t which);

/* 1 when `token` ends generation (EOS, EOT or another end token the vocabulary marks). */
LOCALAI_API int32_t localai_token_is_eog(const localai_model *model, localai_token token);

/* ---------------------------------------------------------------------------------
 * Contexts: KV cache and decoding (one thread at a time per context)
 * ------------------------------------------------------------------------------ */
enum {
    LOCALAI_KV_F16 = 0,  /* default */
    LOCALAI_KV_F32 = 1
};

typedef struct localai_context_params {
    size_t struct_size;
    uint32_t n_ctx;          /* KV cache length in tokens; 0 (default) = min(training context, 4096) */
    uint32_t n_batch;        /* most tokens one localai_decode() accepts; default 512 */
    uint32_t n_seq_max;      /* number of sequences (seq ids 0..n_seq_max-1); default 1 */
    int32_t n_threads;       /* CPU threads for one decode, 0..1024; 0 (default) = one per
                              * core. The threads belong to the model and are shared: a
                              * decode runs on its calling thread plus the model's idle
                              * workers, so contexts decoding at the same time together
                              * start no more threads than there are cores (or than the
                              * largest n_threads asked for) */
    uint64_t seed;           /* reserved, keep the default (0xC0FFEE): randomness comes from
                              * each sampler's own seed (localai_sampler_params.seed,
                              * localai_sampler_add_dist) */
    int32_t kv_type;         /* LOCALAI_KV_F16 (default) or LOCALAI_KV_F32 */
    localai_abort_fn abort_callback; /* optional */
    void *abort_user;
    localai_log_fn log;      /* optional; NULL = the model's sink. The context logs its
                              * size at INFO and each decode's timing at DEBUG. */
    void *log_user;
    int32_t log_level;       /* used when log is set; default WARN */
} localai_context_params;

LOCALAI_API localai_status localai_context_params_init_sized(localai_context_params *params,
                                                             size_t struct_size);
static inline localai_status localai_context_params_init(localai_context_params *params) {
    return localai_context_params_init_sized(params, sizeof(localai_context_params));
}

/* Creates a context (KV cache, scratch buffers) for `model`. The context keeps a
 * pointer to the model, which must stay open until localai_context_free(). Returns OK,
 * INVALID_ARGUMENT (NULL model, a model opened vocab_only, n_ctx or n_seq_max out of
 * range), OUT_OF_MEMORY, BACKEND or UNSUPPORTED. */
LOCALAI_API localai_status localai_context_new(localai_model *model,
                                               const localai_context_params *params,
                                               localai_context **out_ctx);
LOCALAI_API void localai_context_free(localai_context *ctx);

/* The message of the last failed call on this context ("" if none). Never NULL. */
LOCALAI_API const char *localai_context_errmsg(const localai_context *ctx);
LOCALAI_API const localai_model *localai_context_model(const localai_context *ctx);
LOCALAI_API uint32_t localai_context_n_ctx(const localai_context *ctx);

/* A batch of tokens for localai_decode(). The arrays hold n_tokens entries each and
 * are read only during the call. */
typedef struct localai_batch {
    size_t struct_size;
    int32_t n_tokens;
    const localai_token *tokens;
    const int32_t *positions;   /* NULL: each sequence continues after its last position */
    const int32_t *seq_ids;     /* NULL: every token is in sequence 0 */
    const int8_t *logits;       /* non-zero where logits are wanted; NULL: the last token only */
} localai_batch;

LOCALAI_API localai_status localai_batch_init_sized(localai_batch *batch, size_t struct_size);
static inline localai_status localai_batch_init(localai_batch *batch) {
    return localai_batch_init_sized(batch, sizeof(localai_batch));
}

/* Runs the model on a batch: appends its keys and values to the KV cache and computes
 * logits where asked. Tokens of one sequence attend causally to that sequence only.
 * Returns OK, INVALID_ARGUMENT (bad token id, position or sequence id; more than n_batch
 * tokens; for models with sliding-window layers (Gemma 2/3), a token whose window reaches
 * back to positions the cache has already let go of, after localai_kv_remove() went
 * further back than the window cache holds: remove the sequence and decode it again),
 * CONTEXT_FULL (the cache cannot hold the batch; nothing was changed), CANCELLED,
 * BACKEND, OUT_OF_MEMORY. */
LOCALAI_API localai_status localai_decode(localai_context *ctx, const localai_batch *batch);

/* Logits (n_vocab floats) of batch entry `i` of the last localai_decode(); i = -1 means
 * the last entry that asked for logits. The pointer is owned by the context and valid
 * until the next decode or KV operation. NOT_FOUND when that entry asked for none. */
LOCALAI_API localai_status localai_logits(localai_context *ctx, int32_t i,
                                          const float **out_logits);

/* KV cache operations. Positions are half-open ranges [p0, p1); p1 < 0 means "to the
 * end". seq_id < 0 in kv_remove means every sequence. kv_copy makes dst_seq share the
 * cached entries of src_seq in that range (no data is duplicated), e.g. to fork a common
 * prompt into several continuations. Each returns OK, or INVALID_ARGUMENT (NULL context
 * or out pointer, a sequence id outside 0..n_seq_max-1). An empty range is no error. */
LOCALAI_API localai_status localai_kv_clear(localai_context *ctx);
LOCALAI_API localai_status localai_kv_remove(localai_context *ctx, int32_t seq_id,
                                             int32_t p0, int32_t p1);
LOCALAI_API localai_status localai_kv_copy(localai_context *ctx, int32_t src_seq,
                                           int32_t dst_seq, int32_t p0, int32_t p1);
/* The largest position stored for `seq_id`, or -1 when the sequence is empty. */
LOCALAI_API localai_status localai_kv_pos_max(localai_context *ctx, int32_t seq_id,
                                              int32_t *out_pos);

/* ---------------------------------------------------------------------------------
 * Sampling: a chain of steps applied in order to one position's logits
 * ------------------------------------------------------------------------------ */
/* Creates an empty chain. An empty chain (or one with no final step) picks the
 * most probable token. A sampler is not tied to a model or context; use one sampler per
 * generated sequence. Returns OK, INVALID_ARGUMENT or OUT_OF_MEMORY; the add_* calls
 * return OK, INVALID_ARGUMENT (NULL sampler; a NaN or out-of-range setting: infinite
 * temperature, min_p > 1, negative last_n, repeat <= 0) or OUT_OF_MEMORY. Settings that
 * disable a step (top_k <= 0, top_p >= 1, min_p <= 0) make it a no-op. */
LOCALAI_API localai_status localai_sampler_new(localai_sampler **out_sampler);
LOCALAI_API void localai_sampler_free(localai_sampler *sampler);
LOCALAI_API const char *localai_sampler_errmsg(const localai_sampler *sampler);

/* Steps, in the order they are added. The final pick is greedy unless a dist step is
 * present. */
LOCALAI_API localai_status localai_sampler_add_penalties(localai_sampler *sampler,
                                                         int32_t last_n, float repeat,
                                                         float frequency, float presence);
LOCALAI_API localai_status localai_sampler_add_top_k(localai_sampler *sampler, int32_t k);
LOCALAI_API localai_status localai_sampler_add_top_p(localai_sampler *sampler, float p,
                                                     size_t min_keep);
LOCALAI_API localai_status localai_sampler_add_min_p(localai_sampler *sampler, float p,
                                                     size_t min_keep);
LOCALAI_API localai_status localai_sampler_add_temperature(localai_sampler *sampler,
                                                           float temperature);
LOCALAI_API localai_status localai_sampler_add_greedy(localai_sampler *sampler);
/* A random draw from the remaining distribution, with its own generator seeded by
 * `seed`: the same seed gives the same tokens. */
LOCALAI_API localai_status localai_sampler_add_dist(localai_sampler *sampler, uint64_t seed);

/* The chain most applications want, from the settings of one struct. */
typedef struct localai_sampler_params {
    size_t struct_size;
    float temperature;       /* default 0.8; <= 0 means greedy */
    int32_t top_k;           /* default 40; <= 0 disables */
    float top_p;             /* default 0.95; >= 1 disables */
    float min_p;             /* default 0.05; <= 0 disables */
    float repeat_penalty;    /* default 1.0 (off) */
    float frequency_penalty; /* default 0 */
    float presence_penalty;  /* default 0 */
    int32_t penalty_last_n;  /* default 64 */
    uint64_t seed;           /* default 0xC0FFEE */
} localai_sampler_params;

LOCALAI_API localai_status localai_sampler_params_init_sized(localai_sampler_params *params,
                                                             size_t struct_size);
static inline localai_status localai_sampler_params_init(localai_sampler_params *params) {
    return localai_sampler_params_init_sized(params, sizeof(localai_sampler_params));
}
/* Builds penalties -> top-k -> top-p -> min-p -> temperature -> dist (or greedy). */
LOCALAI_API localai_status localai_sampler_new_from_params(const localai_sampler_params *params,
                                                           localai_sampler **out_sampler);

/* Picks a token from the logits of batch entry `i` of the context's last decode
 * (-1 = last entry with logits), and accepts it (see below). */
LOCALAI_API localai_status localai_sample(localai_sampler *sampler, localai_context *ctx,
                                          int32_t i, localai_token *out_token);
/* Records a token as generated, for the penalties; localai_sample() does this itself.
 * Use it for prompt tokens that the penalties should see. */
LOCALAI_API localai_status localai_sampler_accept(localai_sampler *sampler,
                                                  localai_token token);
/* Forgets accepted tokens and reseeds random steps with their original seeds. */
LOCALAI_API localai_status localai_sampler_reset(localai_sampler *sampler);

/* ---------------------------------------------------------------------------------
 * High level: generate text from a prompt with a callback per token
 * ------------------------------------------------------------------------------ */
typedef struct localai_token_info {
    size_t struct_size;
    localai_token token;
    const char *piece;       /* the token's bytes (may split a UTF-8 character) */
    size_t piece_len;
    float logprob;           /* natural log of the model's probability of this token
                              * (softmax of the raw logits): a confidence signal */
    int32_t index;           /* 0 for the first generated token */
} localai_token_info;

/* Return 0 to continue, non-zero to stop (the call then returns CANCELLED). */
typedef int32_t (*localai_token_fn)(const localai_token_info *info, void *user);

typedef struct localai_generate_params {
    size_t struct_size;
    int32_t max_tokens;                   /* default 256 */
    const localai_sampler_params *sampling; /* NULL: greedy */
    uint32_t tokenize_flags;              /* default LOCALAI_TOKENIZE_ADD_SPECIAL */
    int32_t ignore_eog;                   /* 1: do not stop at end-of-generation tokens */
    localai_token_fn on_token;            /* optional */
    void *user;
} localai_generate_params;

LOCALAI_API localai_status localai_generate_params_init_sized(localai_generate_params *params,
                                                              size_t struct_size);
static inline localai_status localai_generate_params_init(localai_generate_params *params) {
    return localai_generate_params_init_sized(params, sizeof(localai_generate_params));
}

/* Clears sequence 0 of the context, decodes the prompt, then samples and decodes up to
 * max_tokens tokens, calling on_token for each. Stops at an end-of-generation token
 * (not reported) unless ignore_eog. Writes the number of generated tokens to
 * *out_n_generated when it is not NULL. Returns OK, CANCELLED (callback), CONTEXT_FULL
 * (tokens generated so far were reported), or a decode failure. A prompt of more tokens
 * than the context's n_ctx is CONTEXT_FULL at once, before anything is cleared or
 * decoded and with no on_token call; the message names both lengths. */
LOCALAI_API localai_status localai_generate(localai_context *ctx, const char *prompt,
                                            const localai_generate_params *params,
                                            int32_t *out_n_generated);

#ifdef __cplusplus
}
#endif

#endif /* LOCALAI_H */
