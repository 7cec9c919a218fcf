/* test_pretok_vectors.c - every pre-tokenizer chain against llama.cpp, on one small BPE vocabulary. */
/*
 * data/mini-bpe.vocab is a small byte-level BPE vocabulary (make_mini_vocab.py); for each
 * pre-tokenizer name, data/mini-NAME.inp/.out/.outs are llama.cpp's ids for random texts
 * with the same vocabulary written as GGUF with tokenizer.ggml.pre = NAME. Here the
 * vocabulary is built from the same data through lai_vocab_build.
 */
#include "tokenizer/vocab_internal.h"
#include "test_util.h"

static size_t unhex(const char *s, size_t n, char *out) {
    size_t k = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned v;
        sscanf(s + i, "%2x", &v);
        out[k++] = (char)v;
    }
    return k;
}

typedef struct mini {
    lai_str *tokens;
    int32_t *types;
    lai_str *merges;
    size_t n_tokens, n_merges;
    char *arena;
} mini;

static int load_mini(const char *path, mini *m) {
    size_t len;
    char *txt = test_read_file(path, &len);
    if (txt == NULL) return 0;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += txt[i] == '\n';
    m->tokens = (lai_str *)calloc(lines, sizeof(lai_str));
    m->merges = (lai_str *)calloc(lines, sizeof(lai_str));
    m->types = (int32_t *)calloc(lines, sizeof(int32_t));
    m->arena = (char *)malloc(len);
    m->n_tokens = m->n_merges = 0;
    size_t used = 0;
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        char *a = strchr(line, ' ') + 1, *b = strchr(a, ' ');
        if (line[0] == 'T') {
            char *p = m->arena + used;
            size_t n = unhex(a, (size_t)(b - a), p);
            m->tokens[m->n_tokens].ptr = p;
            m->tokens[m->n_tokens].len = n;
            m->types[m->n_tokens++] = atoi(b + 1);
            used += n;
        } else {
            char *p = m->arena + used;
            size_t n = unhex(a, (size_t)(b - a), p);
            p[n++] = ' ';
            n += unhex(b + 1, strlen(b + 1), p + n);
            m->merges[m->n_merges].ptr = p;
            m->merges[m->n_merges++].len = n;
            used += n;
        }
    }
    free(txt);
    return 1;
}

static char *find_sep(char *hay, size_t hn, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= hn; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0) return hay + i;
    return NULL;
}

static void run(const lai_vocab *v, const char *pre, const char *inp_path, const char *out_path,
                int parse_special) {
    size_t inp_len = 0, out_len = 0;
    char *inp = test_read_file(inp_path, &inp_len), *out = test_read_file(out_path, &out_len);
    CHECK_MSG(inp && out, "cannot read %s", inp_path);
    if (!inp || !out) return;
    static const char sep[] = "\n__ggml_vocab_test__\n";
    int cases = 0, failed = 0;
    char *ip = inp, *op = out;
    for (;;) {
        char *hit = find_sep(ip, inp_len - (size_t)(ip - inp), sep), *nl = strchr(op, '\n');
        if (!hit || !nl) break;
        localai_token toks[4096];
        lai_tok_out o = {toks, 4096, 0};
        int ok = lai_vocab_tokenize(v, ip, (size_t)(hit - ip), 0, parse_special, &o) == 0;
        size_t k = 0;
        for (char *q = op; ok && q < nl;) {
            while (q < nl && *q == ' ') q++;
            if (q >= nl) break;
            long id = strtol(q, &q, 10);
            if (k >= o.count || toks[k] != id) ok = 0;
            k++;
        }
        if (k != o.count) ok = 0;
        cases++;
        if (!ok && failed++ < 3)
            fprintf(stderr, "%s%s: case %d '%.*s' differs\n  want:%.*s\n", pre,
                    parse_special ? " (special)" : "", cases, (int)(hit - ip), ip, (int)(nl - op), op);
        ip = hit + sizeof sep - 1;
        op = nl + 1;
    }
    printf("%-16s %-9s %d cases, %d failed\n", pre, parse_special ? "special" : "plain", cases, failed);
    CHECK(cases >= 50 && failed == 0);
    free(inp);
    free(out);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "data";
    char path[4096];
    snprintf(path, sizeof path, "%s/mini-bpe.vocab", dir);
    mini m = {0};
    if (!load_mini(path, &m)) {
        CHECK_MSG(0, "cannot read %s", path);
        return test_finish("test_pretok_vectors");
    }
    static const char *const pres[] = {"default", "gpt-2", "llama-bpe", "qwen2", "deepseek-llm",
                                       "deepseek-coder", "falcon", "starcoder", "refact", "mpt",
                                       "command-r", "phi-2", "smollm", "bloom", "viking"};
    for (size_t i = 0; i < sizeof pres / sizeof pres[0]; i++) {
        lai_vocab_spec spec;
        lai_vocab_spec_init(&spec);
        spec.model = "gpt2";
        spec.pre = pres[i];
        spec.n_tokens = (uint32_t)m.n_tokens;
        spec.tokens = m.tokens;
        spec.types = m.types;
        spec.n_merges = m.n_merges;
        spec.merges = m.merges;
        lai_vocab *v = NULL;
        CHECK_STATUS(lai_vocab_build(&spec, NULL, &v), LOCALAI_STATUS_OK);
        if (v == NULL) continue;
        char inp[4096], out[4096];
        snprintf(inp, sizeof inp, "%s/mini-%s.inp", dir, pres[i]);
        snprintf(out, sizeof out, "%s/mini-%s.out", dir, pres[i]);
        run(v, pres[i], inp, out, 0);
        snprintf(out, sizeof out, "%s/mini-%s.outs", dir, pres[i]);
        run(v, pres[i], inp, out, 1);
        lai_vocab_free(v);
    }
    free(m.tokens);
    free(m.types);
    free(m.merges);
    free(m.arena);
    return test_finish("test_pretok_vectors");
}
