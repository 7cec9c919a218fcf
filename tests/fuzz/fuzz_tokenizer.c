/* fuzz_tokenizer.c - libFuzzer target: tokenize, detokenize and vocabulary loading on hostile input. */
/*
 * Input byte 0 picks what to do: a shared vocabulary to tokenize the rest with (flags
 * from byte 1, then tokens are detokenized and rendered piece by piece), or, for the
 * last choice, the rest is read as a GGUF image whose tokenizer.* metadata is loaded.
 * Build with libFuzzer: tests/fuzz/build_fuzz_tokenizer.sh; the test suite runs the same
 * target on random inputs through fuzz_driver.c.
 */
#include "gguf/gguf.h"
#include "localai.h"
#include "tokenizer/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LOCALAI_SHARED_DIR_DEFAULT
#define LOCALAI_SHARED_DIR_DEFAULT "../shared"
#endif

static const char *const vocab_files[] = {
    "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-phi-3.gguf",
    "vocab/ggml-vocab-gpt-2.gguf",     "vocab/ggml-vocab-falcon.gguf",
    "vocab/ggml-vocab-starcoder.gguf", "vocab/ggml-vocab-deepseek-coder.gguf"};
#define N_VOCABS (sizeof vocab_files / sizeof vocab_files[0])

/* Opened on first use and kept for the process (a fuzzing harness, not library code). */
static localai_model *models[N_VOCABS];
static int opened[N_VOCABS];

static localai_model *get_model(size_t i) {
    if (!opened[i]) {
        opened[i] = 1;
        const char *dir = getenv("LOCALAI_SHARED_DIR");
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir ? dir : LOCALAI_SHARED_DIR_DEFAULT, vocab_files[i]);
        localai_model_params p;
        localai_model_params_init(&p);
        p.vocab_only = 1;
        p.backend = LOCALAI_BACKEND_CPU;
        if (localai_model_open(path, &p, &models[i]) != LOCALAI_STATUS_OK) models[i] = NULL;
    }
    return models[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    size_t choice = data[0] % (N_VOCABS + 1);
    if (choice == N_VOCABS) {
        lai_gguf *g = NULL;
        if (lai_gguf_parse(data + 1, size - 1, &g) == LOCALAI_STATUS_OK) {
            lai_vocab *v = NULL;
            if (lai_vocab_load(g, NULL, &v) == LOCALAI_STATUS_OK) lai_vocab_free(v);
            lai_gguf_close(g);
        }
        return 0;
    }
    localai_model *m = get_model(choice);
    if (m == NULL) return 0;
    uint32_t flags = data[1] & 3u;
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    /* an invalid byte reads as U+FFFD, whose 3 bytes may each fall back to 2 tokens */
    size_t cap = 6 * len + 8, n = 0;
    localai_token *toks = (localai_token *)malloc(cap * sizeof *toks);
    if (toks == NULL) return 0;
    if (localai_tokenize(m, text, len, flags, toks, cap, &n) == LOCALAI_STATUS_OK) {
        size_t need = 0;
        localai_status st = localai_detokenize(m, toks, n, data[1] >> 2 & 3u, NULL, 0, &need);
        if (st == LOCALAI_STATUS_OK || st == LOCALAI_STATUS_BUFFER_TOO_SMALL) {
            char *buf = (char *)malloc(need + 1);
            if (buf) {
                size_t got = 0;
                if (localai_detokenize(m, toks, n, data[1] >> 2 & 3u, buf, need + 1, &got) != LOCALAI_STATUS_OK ||
                    got != need) {
                    fprintf(stderr, "detokenize: %zu != %zu: %s\n", got, need, localai_errmsg());
                    abort(); /* the size protocol must agree with itself */
                }
                free(buf);
            }
        }
        char piece[256];
        for (size_t i = 0; i < n; i++) {
            size_t pl = 0;
            localai_status pst = localai_token_to_piece(m, toks[i], data[1] >> 4 & 1u, piece, sizeof piece, &pl);
            if (pst != LOCALAI_STATUS_OK && !(pst == LOCALAI_STATUS_BUFFER_TOO_SMALL && pl > sizeof piece)) {
                fprintf(stderr, "token_to_piece(%d): %s\n", (int)toks[i], localai_errmsg());
                abort();
            }
            (void)localai_token_is_eog(m, toks[i]);
        }
    } else if (n > cap) {
        abort(); /* cap is always enough */
    }
    free(toks);
    return 0;
}
