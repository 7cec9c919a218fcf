/* cmd_quantize.c - `localai quantize IN.gguf OUT.gguf TYPE`: re-encode a model's weights. */
#include "cli.h"

#include "base/platform.h"
#include "gguf/gguf.h"
#include "quant/quantize_model.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: localai quantize IN.gguf OUT.gguf TYPE [--threads N] [--allow-requantize]\n"
            "                        [--overwrite-input]\n"
            "\n"
            "TYPE: Q4_K_M (alias Q4_K), Q5_K_M (Q5_K), Q6_K, Q8_0, Q4_0, and also\n"
            "      Q4_K_S, Q5_K_S, Q4_1, Q5_0, Q5_1, F16, BF16, F32.\n"
            "The _M mixes pick per-tensor types as llama.cpp's quantize tool does (output and\n"
            "some attn_v / ffn_down layers get Q6_K); norms and 1-D tensors are copied as they are.\n"
            "\n"
            "OUT is written under a new temporary name in its folder and renamed over OUT\n"
            "when complete: a failure leaves OUT as it was; a link at OUT is replaced, not\n"
            "followed.\n"
            "  --threads N         threads converting rows (default: one per core)\n"
            "  --allow-requantize  accept tensors that are already quantized (loses quality)\n"
            "  --overwrite-input   allow OUT to be IN itself (the same name, a link or a hard\n"
            "                      link); without it that is refused. IN is replaced only\n"
            "                      once the whole output is written.\n");
}

typedef struct progress_state {
    int tty;
    uint64_t t0;
} progress_state;

static int on_progress(void *user, uint64_t done, uint64_t total, const char *tensor, uint32_t type) {
    progress_state *ps = user;
    if (!ps->tty) return 0;
    enum { WIDTH = 30 };
    int filled = total ? (int)(done * WIDTH / total) : WIDTH;
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = 0;
    const lai_type_traits *t = lai_type_get(type);
    /* \r and clear-to-end: one line that updates in place */
    fprintf(stderr, "\r[%s] %llu/%llu %-7s %.40s\033[K", bar, (unsigned long long)done,
            (unsigned long long)total, t ? t->name : "?", tensor);
    if (done == total) fputc('\n', stderr);
    fflush(stderr);
    return 0;
}

/* Prints what will happen: tensors per output type and the fallbacks. */
static int print_plan(const char *in_path, uint32_t ftype) {
    lai_gguf *g = NULL;
    localai_status st = lai_gguf_open(in_path, 1, &g);
    if (st != LOCALAI_STATUS_OK) return cli_fail(in_path, st);
    lai_quant_choice *ch = calloc(g->n_tensors ? (size_t)g->n_tensors : 1, sizeof *ch);
    if (ch == NULL) {
        lai_gguf_close(g);
        fprintf(stderr, "localai quantize: out of memory\n");
        return 1;
    }
    st = lai_quantize_choose_types(g, ftype, ch);
    if (st != LOCALAI_STATUS_OK) {
        free(ch);
        lai_gguf_close(g);
        return cli_fail(in_path, st);
    }
    uint64_t count[LAI_TYPE_COUNT] = {0}, n_fallback = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        if (ch[i].type < LAI_TYPE_COUNT) count[ch[i].type]++;
        if (ch[i].fallback) {
            if (n_fallback < 8)
                fprintf(stderr, "note: %s: %llu columns do not fit the mix's blocks, using %s\n",
                        g->tensors[i].name, (unsigned long long)g->tensors[i].ne[0],
                        lai_type_get(ch[i].type)->name);
            n_fallback++;
        }
    }
    if (n_fallback > 8) fprintf(stderr, "note: ... %llu tensors fell back in all\n", (unsigned long long)n_fallback);
    fprintf(stderr, "quantizing %llu tensors to %s:", (unsigned long long)g->n_tensors, lai_ftype_name(ftype));
    for (uint32_t t = 0; t < LAI_TYPE_COUNT; t++)
        if (count[t]) fprintf(stderr, " %s %llu", lai_type_get(t)->name, (unsigned long long)count[t]);
    fputc('\n', stderr);
    free(ch);
    lai_gguf_close(g);
    return 0;
}

int cli_cmd_quantize(int argc, char **argv) {
    const char *pos[3];
    int n_pos = 0;
    lai_quantize_params p;
    lai_quantize_params_default(&p);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--threads") == 0 || strcmp(argv[i], "-t") == 0) {
            char *end;
            long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || *end != 0 || v < 1 || v > 1024) {
                fprintf(stderr, "localai quantize: --threads needs a count from 1 to 1024\n");
                return 2;
            }
            p.n_threads = (int32_t)v;
            i++;
        } else if (strcmp(argv[i], "--allow-requantize") == 0) {
            p.allow_requantize = 1;
        } else if (strcmp(argv[i], "--overwrite-input") == 0) {
            p.overwrite_input = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(stderr, "localai quantize: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (n_pos < 3) {
            pos[n_pos++] = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (n_pos != 3) {
        usage(stderr);
        return 2;
    }
    localai_status st = lai_ftype_from_name(pos[2], &p.ftype);
    if (st != LOCALAI_STATUS_OK) return cli_fail("quantize", st);
    /* Refused here too (the library would refuse it), to name the flag before any work. */
    int same = 0;
    st = lai_file_same(pos[0], pos[1], &same);
    if (st != LOCALAI_STATUS_OK) return cli_fail("quantize", st);
    if (same && !p.overwrite_input) {
        fprintf(stderr,
                "localai quantize: %s is the input file %s itself (the same name, a link or\n"
                "  a hard link): refusing to replace the input; pass --overwrite-input to allow it\n",
                pos[1], pos[0]);
        return 1;
    }
    if (print_plan(pos[0], p.ftype) != 0) return 1;
    /* Measured now: with --overwrite-input, IN is gone once the output is renamed over it. */
    uint64_t in_size = 0, out_size = 0;
    st = lai_file_size(pos[0], &in_size);
    if (st != LOCALAI_STATUS_OK) return cli_fail("quantize", st);

    progress_state ps = {isatty(STDERR_FILENO), lai_time_ns()};
    p.progress = on_progress;
    p.progress_user = &ps;
    st = lai_quantize_model(pos[0], pos[1], &p);
    if (st != LOCALAI_STATUS_OK) {
        if (ps.tty) fputc('\n', stderr);
        return cli_fail("quantize", st);
    }
    double secs = (double)(lai_time_ns() - ps.t0) / 1e9;
    st = lai_file_size(pos[1], &out_size);
    if (st != LOCALAI_STATUS_OK) return cli_fail("quantize", st);
    fprintf(stderr, "wrote %s: %.2f MiB -> %.2f MiB in %.1f s\n", pos[1],
            (double)in_size / 1048576.0, (double)out_size / 1048576.0, secs);
    return 0;
}
