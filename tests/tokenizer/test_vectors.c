/* test_vectors.c - llama.cpp tokenizer test vectors: every case of shared/vocab (.inp/.out). */
/*
 * Each .inp holds texts, each followed by a line "__ggml_vocab_test__"; the .out has one
 * line of ids per text, made without BOS/EOS and without parsing special tokens.
 */
#include "localai.h"
#include "test_util.h"

#include <stdint.h>

/* The first occurrence of needle in hay[0..hn), or NULL (texts may hold NUL bytes). */
static char *find_sep(char *hay, size_t hn, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= hn; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0) return hay + i;
    return NULL;
}

/* Paths starting with '/' or '.' are used as they are, others are in ../shared. */
static void resolve(char *dst, size_t cap, const char *rel) {
    if (rel[0] == '/' || rel[0] == '.') snprintf(dst, cap, "%s", rel);
    else snprintf(dst, cap, "%s", test_shared_path(rel));
}

static int run_vectors(const char *model_rel, const char *inp_rel, const char *out_rel,
                       uint32_t flags) {
    char model_path[4096], inp_path[4096], out_path[4096];
    resolve(model_path, sizeof model_path, model_rel);
    resolve(inp_path, sizeof inp_path, inp_rel);
    resolve(out_path, sizeof out_path, out_rel);
    localai_model_params p;
    localai_model_params_init(&p);
    p.vocab_only = 1;
    p.backend = LOCALAI_BACKEND_CPU;
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(model_path, &p, &m), LOCALAI_STATUS_OK);
    if (m == NULL) return 0;
    size_t inp_len = 0, out_len = 0;
    char *inp = test_read_file(inp_path, &inp_len);
    char *out = test_read_file(out_path, &out_len);
    CHECK_MSG(inp && out, "cannot read %s / %s", inp_path, out_path);
    int cases = 0, failed = 0;
    if (inp && out) {
        static const char sep[] = "\n__ggml_vocab_test__\n";
        char *ip = inp, *op = out;
        for (;;) {
            char *hit = find_sep(ip, inp_len - (size_t)(ip - inp), sep);
            char *nl = strchr(op, '\n');
            if (hit == NULL || nl == NULL) break;
            size_t tlen = (size_t)(hit - ip);
            localai_token toks[4096];
            size_t n = 0;
            localai_status st = localai_tokenize(m, ip, tlen, flags, toks, 4096, &n);
            CHECK_STATUS(st, LOCALAI_STATUS_OK);
            /* compare with the expected line */
            int ok = st == LOCALAI_STATUS_OK;
            size_t k = 0;
            char *q = op;
            while (ok && q < nl) {
                while (q < nl && *q == ' ') q++;
                if (q >= nl) break;
                long id = strtol(q, &q, 10);
                if (k >= n || toks[k] != id) ok = 0;
                k++;
            }
            if (k != n) ok = 0;
            cases++;
            if (!ok) {
                failed++;
                fprintf(stderr, "%s case %d: text '%.*s'\n  want:%.*s\n  got: ", model_rel, cases,
                        (int)tlen, ip, (int)(nl - op), op);
                for (size_t i = 0; i < n && i < 4096; i++) fprintf(stderr, " %d", (int)toks[i]);
                fprintf(stderr, "\n");
            }
            CHECK(ok);
            ip = hit + sizeof sep - 1;
            op = nl + 1;
        }
    }
    printf("%s %s: %d cases, %d failed\n", model_rel, out_rel, cases, failed);
    CHECK(cases >= 40);
    free(inp);
    free(out);
    localai_model_close(m);
    return cases;
}

int main(int argc, char **argv) {
    if (argc >= 4) { /* MODEL INP OUT [special]: one file of vectors */
        run_vectors(argv[1], argv[2], argv[3], argc > 4 ? LOCALAI_TOKENIZE_PARSE_SPECIAL : 0);
        return test_finish("test_vectors");
    }
    static const char *const vocabs[] = {"llama-spm", "phi-3", "gpt-2", "falcon", "starcoder",
                                         "deepseek-coder"};
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++) {
        char m[256], in[256], out[256];
        snprintf(m, sizeof m, "vocab/ggml-vocab-%s.gguf", vocabs[i]);
        snprintf(in, sizeof in, "vocab/ggml-vocab-%s.gguf.inp", vocabs[i]);
        snprintf(out, sizeof out, "vocab/ggml-vocab-%s.gguf.out", vocabs[i]);
        run_vectors(m, in, out, 0);
    }
    run_vectors("models/llama-2-tiny-random-UNTRAINED.gguf", "models/tokenizer-tests/llama-spm.inp",
                "models/tokenizer-tests/llama-spm.out", 0);
    return test_finish("test_vectors");
}
