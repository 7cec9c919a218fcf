/* cli.h - shared helpers and the subcommand table of the `localai` command-line tool. */
#ifndef LOCALAI_CLI_H
#define LOCALAI_CLI_H

#include "localai.h"

#include <stdio.h>

/* The library's limits (localai_context_new), so that a flag out of range is refused
 * with its range named before anything is loaded. */
#define CLI_N_CTX_MAX (1 << 24)  /* n_ctx; 0 = the default */
#define CLI_N_THREADS_MAX 1024   /* n_threads; 0 = one per core */

/* The most bytes -f reads: a million-token context is about 4 MiB of text, and the
 * token array is four times the text, so this bounds memory near 320 MiB. */
#define CLI_TEXT_FILE_MAX ((size_t)64 << 20)

/* Each subcommand: argv[0] is the subcommand name. Returns the process exit code. */
int cli_cmd_version(int argc, char **argv);
int cli_cmd_devices(int argc, char **argv);
int cli_cmd_info(int argc, char **argv);
int cli_cmd_tokenize(int argc, char **argv);
int cli_cmd_detokenize(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
int cli_cmd_logits(int argc, char **argv);
int cli_cmd_quantize(int argc, char **argv);
int cli_cmd_bench(int argc, char **argv);

/* Prints "localai: <what>: <status name>: <detail>" to stderr and returns 1. */
int cli_fail(const char *what, localai_status status);
/* A log sink that writes "[level] message" lines to stderr. */
void cli_log_stderr(int32_t level, const char *message, void *user);
/* Prints the version line and the devices found; returns 0 or 1. */
int cli_print_devices(FILE *out);

/* cli_model.c: the model to use when -m is absent ($LOCALAI_MODEL, else the first .gguf
 * in ./models, then ../shared/models), said on stderr; NULL (and a hint) when none. */
const char *cli_default_model(const char *cmd, char *buf, size_t cap);
/* Strict flag parsing: the whole text must be a number in range; else a message naming
 * the command and flag, and 0. */
int cli_parse_i32(const char *cmd, const char *flag, const char *text, int32_t lo, int32_t hi,
                  int32_t *out);
int cli_parse_u64(const char *cmd, const char *flag, const char *text, uint64_t *out);
int cli_parse_float(const char *cmd, const char *flag, const char *text, float *out);
/* Where a command runs the model: --backend cpu|vulkan|auto and --device N. */
typedef struct cli_device {
    int32_t backend;            /* LOCALAI_BACKEND_*; default AUTO */
    int32_t device_index;       /* -1: the backend's best */
    const char *pipeline_cache; /* --pipeline-cache FILE, or NULL */
} cli_device;
#define CLI_DEVICE_DEFAULT {LOCALAI_BACKEND_AUTO, -1, NULL}
#define CLI_DEVICE_USAGE                                                                  \
    "  --backend B          cpu, vulkan or auto (default: a GPU when there is one, else\n" \
    "                       the CPU; vulkan on a machine without one runs on the CPU)\n"   \
    "  --device N           the Nth device of that backend (`localai devices` lists them)\n" \
    "  --pipeline-cache F   keep the GPU's compiled pipelines in file F between runs\n"
/* Takes --backend / --device / --pipeline-cache with its value: 1 when flag is one of them (*ok = 0 and a
 * message when the value is bad), 0 when it is another flag. */
int cli_device_flag(const char *cmd, const char *flag, const char *value, cli_device *d, int *ok);
/* Opens `path` with warnings to stderr: the whole model, or (vocab_only) just what the
 * tokenizer needs, on the CPU. `dev` (NULL: default) says where the model runs. On
 * failure prints the error and returns NULL. */
/* Flags of cli_open_model. */
enum { CLI_OPEN_VOCAB_ONLY = 1, CLI_OPEN_NO_MMAP = 2 };
localai_model *cli_open_model(const char *path, int flags, const cli_device *dev);
/* The CPU kernel level $LOCALAI_CPU_LEVEL names (auto, scalar, avx2, avx512, neon; unset:
 * auto) as a LOCALAI_CPU_LEVEL_* value; 0 and a message when the name is unknown. */
int cli_cpu_level(int32_t *out);
/* Tokenizes a prompt as llama.cpp does (BOS if the vocabulary asks, special tokens not
 * parsed) into a malloc'd array; 0 on failure (message printed). */
int cli_tokenize_prompt(const localai_model *model, const char *prompt, localai_token **out,
                        size_t *out_n);


/* cli_file.c: the whole of `path` ("-" = standard input) as a NUL-terminated malloc'd
 * buffer. Refuses, with a message naming `cmd`, a directory, device or socket (before
 * opening it), more than CLI_TEXT_FILE_MAX bytes, and read errors; returns 0 then. */
int cli_read_text_file(const char *cmd, const char *path, char **out, size_t *out_len);

#endif /* LOCALAI_CLI_H */
