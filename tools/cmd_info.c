/* cmd_info.c - `localai info MODEL [--json]`: what a GGUF file holds, as text or JSON. */
#include "cli.h"

#include "gguf/gguf.h"
#include "model/model.h"
#include "quant/quant.h"

#include <stdlib.h>
#include <string.h>

/* llama.cpp's names of general.file_type (enum llama_ftype), for display. */
static const char *ftype_display_name(uint32_t ftype) {
    static const struct {
        uint32_t id;
        const char *name;
    } names[] = {
        {0, "F32"},      {1, "F16"},      {2, "Q4_0"},     {3, "Q4_1"},     {7, "Q8_0"},
        {8, "Q5_0"},     {9, "Q5_1"},     {10, "Q2_K"},    {11, "Q3_K_S"},  {12, "Q3_K_M"},
        {13, "Q3_K_L"},  {14, "Q4_K_S"},  {15, "Q4_K_M"},  {16, "Q5_K_S"},  {17, "Q5_K_M"},
        {18, "Q6_K"},    {19, "IQ2_XXS"}, {20, "IQ2_XS"},  {21, "Q2_K_S"},  {22, "IQ3_XS"},
        {23, "IQ3_XXS"}, {24, "IQ1_S"},   {25, "IQ4_NL"},  {26, "IQ3_S"},   {27, "IQ3_M"},
        {28, "IQ2_S"},   {29, "IQ2_M"},   {30, "IQ4_XS"},  {31, "IQ1_M"},   {32, "BF16"},
        {36, "TQ1_0"},   {37, "TQ2_0"},   {38, "MXFP4_MOE"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].id == ftype) return names[i].name;
    return NULL;
}

/* ---- JSON output ------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; }
    else return 0;
    if (len > n) return 0;
    unsigned cp = c & (0x3Fu >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* A JSON string: quotes, backslashes and control characters escaped; bytes that are not
 * UTF-8 become U+FFFD so the output always parses. */
static void json_str_n(FILE *out, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc((int)c, out);
            i++;
        } else if (c == '\n') {
            fputs("\\n", out);
            i++;
        } else if (c == '\r') {
            fputs("\\r", out);
            i++;
        } else if (c == '\t') {
            fputs("\\t", out);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            fprintf(out, "\\u%04x", c);
            i++;
        } else {
            size_t len = utf8_len(p + i, n - i);
            if (len == 0) {
                fputs("\\ufffd", out);
                i++;
            } else {
                fwrite(p + i, 1, len, out);
                i += len;
            }
        }
    }
    fputc('"', out);
}

static void json_str(FILE *out, const char *s) { json_str_n(out, s, strlen(s)); }

/* ---- facts gathered once for both formats -------------------------------------------- */

enum { N_SPECIAL = 9 };
static const char *const special_names[N_SPECIAL] = {"bos", "eos", "eot", "eom", "unknown",
                                                     "seperator", "padding", "cls", "mask"};

typedef struct info {
    const char *path;
    const localai_model *model;
    const lai_gguf *g;
    int vocab_only;
    const char *load_error;        /* why the weights could not be loaded, or NULL */
    int32_t file_type;             /* -1 when absent */
    uint64_t type_count[LAI_TYPE_COUNT];
    lai_str vocab_model, vocab_pre;
    int has_vocab_model, has_pre;
    int64_t special[N_SPECIAL];    /* -1 when absent */
    int add_bos, add_eos;          /* -1 when absent */
} info;

static int64_t special_id(const lai_gguf *g, const char *what) {
    char key[64];
    snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", what);
    int32_t v;
    /* llama.cpp reads these as int32 (so 0xFFFFFFFF means "none") */
    const lai_gguf_kv *kv = lai_gguf_find(g, key);
    if (kv == NULL) return -1;
    if (lai_gguf_get_i32(g, key, &v) == LOCALAI_STATUS_OK) return v < 0 ? -1 : v;
    uint32_t u;
    if (lai_gguf_get_u32(g, key, &u) == LOCALAI_STATUS_OK) return u > INT32_MAX ? -1 : (int64_t)u;
    return -1;
}

static int opt_bool(const lai_gguf *g, const char *key) {
    int v;
    return lai_gguf_get_bool(g, key, &v) == LOCALAI_STATUS_OK ? v : -1;
}

static void gather(info *in) {
    const lai_gguf *g = in->g;
    uint32_t ft;
    in->file_type = lai_gguf_get_u32(g, "general.file_type", &ft) == LOCALAI_STATUS_OK &&
                            ft <= INT32_MAX ? (int32_t)ft : -1;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].type < LAI_TYPE_COUNT) in->type_count[g->tensors[i].type]++;
    in->has_vocab_model = lai_gguf_get_str(g, "tokenizer.ggml.model", &in->vocab_model) == LOCALAI_STATUS_OK;
    in->has_pre = lai_gguf_get_str(g, "tokenizer.ggml.pre", &in->vocab_pre) == LOCALAI_STATUS_OK;
    for (int i = 0; i < N_SPECIAL; i++) in->special[i] = special_id(g, special_names[i]);
    in->add_bos = opt_bool(g, "tokenizer.ggml.add_bos_token");
    in->add_eos = opt_bool(g, "tokenizer.ggml.add_eos_token");
}

static void print_count(FILE *out, uint64_t n) {
    if (n >= 1000000000ull) fprintf(out, "%.2f B", (double)n / 1e9);
    else if (n >= 1000000ull) fprintf(out, "%.2f M", (double)n / 1e6);
    else if (n >= 1000ull) fprintf(out, "%.2f K", (double)n / 1e3);
    else fprintf(out, "%llu", (unsigned long long)n);
}

static void print_text(FILE *out, const info *in) {
    const localai_model *m = in->model;
    const lai_hparams *hp = &m->hp;
    fprintf(out, "file:            %s\n", in->path);
    fprintf(out, "architecture:    %s%s\n", localai_model_architecture(m),
            in->vocab_only ? " (vocabulary only)" : "");
    fprintf(out, "name:            %s\n", localai_model_name(m));
    fprintf(out, "parameters:      ");
    print_count(out, localai_model_n_params(m));
    fprintf(out, " (%llu)\n", (unsigned long long)localai_model_n_params(m));
    if (in->file_type >= 0) {
        const char *fn = ftype_display_name((uint32_t)in->file_type);
        fprintf(out, "file type:       %s (%d)\n", fn ? fn : "unknown", (int)in->file_type);
    } else {
        fprintf(out, "file type:       (not given)\n");
    }
    fprintf(out, "tensor bytes:    %llu (%.2f MiB)\n", (unsigned long long)localai_model_size_bytes(m),
            (double)localai_model_size_bytes(m) / (1024.0 * 1024.0));
    fprintf(out, "tensors:         %llu", (unsigned long long)in->g->n_tensors);
    const char *sep = " (";
    for (uint32_t t = 0; t < LAI_TYPE_COUNT; t++) {
        if (in->type_count[t] == 0) continue;
        fprintf(out, "%s%s: %llu", sep, lai_type_get(t)->name, (unsigned long long)in->type_count[t]);
        sep = ", ";
    }
    fprintf(out, "%s\n", in->g->n_tensors ? ")" : "");
    if (in->load_error) fprintf(out, "weights:         not loadable: %s\n", in->load_error);
    fprintf(out, "context length:  %d\n", (int)localai_model_n_ctx_train(m));
    fprintf(out, "embedding size:  %d\n", (int)localai_model_n_embd(m));
    fprintf(out, "layers:          %d\n", (int)localai_model_n_layer(m));
    fprintf(out, "heads:           %d\n", (int)localai_model_n_head(m));
    fprintf(out, "kv heads:        %d\n", (int)localai_model_n_head_kv(m));
    if (hp->n_ff) fprintf(out, "feed-forward:    %u\n", hp->n_ff);
    if (hp->head_dim_k) {
        static const char *const scal[] = {"none", "linear", "yarn", "longrope"};
        fprintf(out, "head size:       %u\n", hp->head_dim_k);
        fprintf(out, "rope:            %u dims, base %g, scaling %s", hp->n_rot,
                (double)hp->rope_freq_base, scal[hp->rope_scaling]);
        if (hp->rope_scaling_factor != 0.0f) fprintf(out, " x%g", (double)hp->rope_scaling_factor);
        fprintf(out, "\n");
        if (hp->n_swa) fprintf(out, "sliding window:  %u (pattern %u)\n", hp->n_swa, hp->swa_pattern);
    }
    fprintf(out, "vocabulary:      %d tokens", (int)localai_model_n_vocab(m));
    if (in->has_vocab_model)
        fprintf(out, ", type %.*s", (int)LAI_MIN(in->vocab_model.len, 64), in->vocab_model.ptr);
    if (in->has_pre) fprintf(out, ", pre %.*s", (int)LAI_MIN(in->vocab_pre.len, 64), in->vocab_pre.ptr);
    fprintf(out, "\n");
    fprintf(out, "special tokens: ");
    int any = 0;
    for (int i = 0; i < N_SPECIAL; i++) {
        if (in->special[i] < 0) continue;
        fprintf(out, " %s=%lld", special_names[i], (long long)in->special[i]);
        any = 1;
    }
    if (in->add_bos >= 0) fprintf(out, " add_bos=%s", in->add_bos ? "yes" : "no"), any = 1;
    if (in->add_eos >= 0) fprintf(out, " add_eos=%s", in->add_eos ? "yes" : "no"), any = 1;
    fprintf(out, "%s\n", any ? "" : " (none)");
    const char *tmpl = NULL;
    if (localai_model_chat_template(m, NULL, &tmpl) == LOCALAI_STATUS_OK)
        fprintf(out, "chat template:   yes (%zu bytes)", strlen(tmpl));
    else
        fprintf(out, "chat template:   no");
    for (size_t i = 0; i < m->n_chat_templates; i++)
        if (m->chat_template_names[i][0] != '\0') fprintf(out, ", named '%s'", m->chat_template_names[i]);
    fprintf(out, "\n");
}

static void print_json(FILE *out, const info *in) {
    const localai_model *m = in->model;
    const lai_hparams *hp = &m->hp;
    fprintf(out, "{\n  \"file\": ");
    json_str(out, in->path);
    fprintf(out, ",\n  \"architecture\": ");
    json_str(out, localai_model_architecture(m));
    fprintf(out, ",\n  \"name\": ");
    json_str(out, localai_model_name(m));
    fprintf(out, ",\n  \"vocab_only\": %s", in->vocab_only ? "true" : "false");
    fprintf(out, ",\n  \"weights_loadable\": %s", in->load_error || in->g->n_tensors == 0 ? "false" : "true");
    if (in->load_error) {
        fprintf(out, ",\n  \"load_error\": ");
        json_str(out, in->load_error);
    }
    fprintf(out, ",\n  \"n_params\": %llu", (unsigned long long)localai_model_n_params(m));
    fprintf(out, ",\n  \"size_bytes\": %llu", (unsigned long long)localai_model_size_bytes(m));
    fprintf(out, ",\n  \"file_type\": ");
    if (in->file_type >= 0) {
        const char *fn = ftype_display_name((uint32_t)in->file_type);
        fprintf(out, "{\"id\": %d, \"name\": ", (int)in->file_type);
        if (fn) json_str(out, fn);
        else fprintf(out, "null");
        fprintf(out, "}");
    } else {
        fprintf(out, "null");
    }
    fprintf(out, ",\n  \"n_tensors\": %llu,\n  \"tensor_types\": {", (unsigned long long)in->g->n_tensors);
    const char *sep = "";
    for (uint32_t t = 0; t < LAI_TYPE_COUNT; t++) {
        if (in->type_count[t] == 0) continue;
        fprintf(out, "%s", sep);
        json_str(out, lai_type_get(t)->name);
        fprintf(out, ": %llu", (unsigned long long)in->type_count[t]);
        sep = ", ";
    }
    fprintf(out, "}");
    fprintf(out, ",\n  \"context_length\": %d", (int)localai_model_n_ctx_train(m));
    fprintf(out, ",\n  \"embedding_length\": %d", (int)localai_model_n_embd(m));
    fprintf(out, ",\n  \"block_count\": %d", (int)localai_model_n_layer(m));
    fprintf(out, ",\n  \"head_count\": %d", (int)localai_model_n_head(m));
    fprintf(out, ",\n  \"head_count_kv\": %d", (int)localai_model_n_head_kv(m));
    fprintf(out, ",\n  \"feed_forward_length\": %u", hp->n_ff);
    fprintf(out, ",\n  \"vocab_size\": %d", (int)localai_model_n_vocab(m));
    fprintf(out, ",\n  \"vocab_type\": ");
    if (in->has_vocab_model) json_str_n(out, in->vocab_model.ptr, (size_t)in->vocab_model.len);
    else fprintf(out, "null");
    fprintf(out, ",\n  \"vocab_pre\": ");
    if (in->has_pre) json_str_n(out, in->vocab_pre.ptr, (size_t)in->vocab_pre.len);
    else fprintf(out, "null");
    fprintf(out, ",\n  \"special_tokens\": {");
    sep = "";
    for (int i = 0; i < N_SPECIAL; i++) {
        if (in->special[i] < 0) continue;
        fprintf(out, "%s\"%s\": %lld", sep, special_names[i], (long long)in->special[i]);
        sep = ", ";
    }
    fprintf(out, "}");
    fprintf(out, ",\n  \"add_bos_token\": %s", in->add_bos < 0 ? "null" : in->add_bos ? "true" : "false");
    fprintf(out, ",\n  \"add_eos_token\": %s", in->add_eos < 0 ? "null" : in->add_eos ? "true" : "false");
    const char *tmpl = NULL;
    int has_tmpl = localai_model_chat_template(m, NULL, &tmpl) == LOCALAI_STATUS_OK;
    fprintf(out, ",\n  \"chat_template\": %s", has_tmpl ? "true" : "false");
    fprintf(out, ",\n  \"chat_template_names\": [");
    sep = "";
    for (size_t i = 0; i < m->n_chat_templates; i++) {
        fprintf(out, "%s", sep);
        json_str(out, m->chat_template_names[i][0] ? m->chat_template_names[i] : "default");
        sep = ", ";
    }
    fprintf(out, "]\n}\n");
}

static void usage(void) {
    fprintf(stderr, "usage: localai info MODEL [--json] [--vocab-only]\n"
                    "       localai info --devices [--self-test]\n"
                    "  describes a GGUF file (files without tensors are read as vocabularies), or the\n"
                    "  devices liblocalai can run on (as `localai devices`)\n");
}

int cli_cmd_info(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--devices") == 0) return cli_cmd_devices(argc - 1, argv + 1);
    const char *path = NULL;
    int json = 0, vocab_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--vocab-only") == 0) vocab_only = 1;
        else if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) && i + 1 < argc && !path)
            path = argv[++i];
        else if (argv[i][0] != '-' && path == NULL) path = argv[i];
        else {
            usage();
            return 2;
        }
    }
    if (path == NULL) {
        usage();
        return 2;
    }
    /* A look at the tensor table first: a file without tensors is a vocabulary. */
    lai_gguf *peek = NULL;
    localai_status st = lai_gguf_open(path, 1, &peek);
    if (st != LOCALAI_STATUS_OK) return cli_fail("info", st);
    if (peek->n_tensors == 0) vocab_only = 1;
    lai_gguf_close(peek);

    localai_model_params p;
    localai_model_params_init(&p);
    p.backend = LOCALAI_BACKEND_CPU;
    p.vocab_only = vocab_only;
    localai_model *model = NULL;
    char load_error[LAI_ERRMSG_MAX] = "";
    st = localai_model_open(path, &p, &model);
    if (st == LOCALAI_STATUS_UNSUPPORTED && !vocab_only) {
        /* An architecture or tensor type we cannot run: still describe the file. */
        snprintf(load_error, sizeof load_error, "%s", localai_errmsg());
        vocab_only = 1;
        p.vocab_only = 1;
        st = localai_model_open(path, &p, &model);
    }
    if (st != LOCALAI_STATUS_OK) return cli_fail("info", st);
    info in;
    memset(&in, 0, sizeof in);
    in.path = path;
    in.model = model;
    in.g = model->gguf;
    in.vocab_only = vocab_only;
    in.load_error = load_error[0] ? load_error : NULL;
    gather(&in);
    if (json) print_json(stdout, &in);
    else print_text(stdout, &in);
    localai_model_close(model);
    return 0;
}
