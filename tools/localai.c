/* localai.c - entry point of the `localai` command-line tool: dispatches subcommands. */
#include "cli.h"

#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"version", cli_cmd_version, "print the library version and the devices found"},
    {"devices", cli_cmd_devices, "list the CPU and Vulkan devices liblocalai can use [--self-test]"},
    {"info", cli_cmd_info, "describe a GGUF model: MODEL [--json]"},
    {"tokenize", cli_cmd_tokenize, "-m MODEL [--no-bos] [--parse-special] (-p TEXT | -f FILE)"},
    {"detokenize", cli_cmd_detokenize, "-m MODEL ID..."},
    {"run", cli_cmd_run, "-m MODEL -p PROMPT -n N [--temp T] [--top-k K] [--seed S] ..."},
    {"logits", cli_cmd_logits, "-m MODEL -p PROMPT: last-position logits as JSON"},
    {"quantize", cli_cmd_quantize, "IN.gguf OUT.gguf TYPE"},
    {"bench", cli_cmd_bench, "measure prompt and generation speed"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: localai COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
    if (argc < 2) return cli_cmd_version(argc - 1, argv + 1);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) return cli_cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "localai: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
