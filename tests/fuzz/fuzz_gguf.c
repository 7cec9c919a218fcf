/* fuzz_gguf.c - libFuzzer target: the input is a GGUF image; everything a model open does with it. */
/*
 * Parses the image, renders every metadata value, touches the first and last byte of
 * every tensor, reads the hyper-parameters, binds the weights, realigns what the file
 * stores unaligned (UBSan checks every load after that) and converts a row of each
 * bound matrix, and (for small inputs) builds the vocabulary. A crash, a sanitizer report
 * or a status outside the documented ones is a bug.
 * Build and run: tests/fuzz/run_fuzz.sh SECONDS. Crashes found go to
 * tests/fuzz/regressions/, which the test suite replays (fuzz_replay.c).
 */
#include "gguf/gguf.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "quant/quant.h"
#include "tokenizer/vocab.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Statuses a damaged file may produce; anything else (INTERNAL, INVALID_ARGUMENT, ...)
 * means the loader mis-handled its input. */
static void check_status(localai_status st, const char *stage) {
    if (st == LOCALAI_STATUS_OK || st == LOCALAI_STATUS_BAD_FORMAT ||
        st == LOCALAI_STATUS_UNSUPPORTED)
        return;
    fprintf(stderr, "%s: unexpected status %d: %s\n", stage, (int)st, localai_errmsg());
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lai_gguf *g = NULL;
    localai_status st = lai_gguf_parse(data, size, &g);
    check_status(st, "parse");
    if (st != LOCALAI_STATUS_OK) return 0;
    char buf[64];
    unsigned sum = 0;
    for (uint64_t i = 0; i < g->n_kv; i++)
        sum += (unsigned)lai_gguf_format_value(&g->kv[i], buf, sizeof buf);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const lai_gguf_tensor *t = &g->tensors[i];
        if (t->data < data || t->n_bytes == 0 || t->data + t->n_bytes > data + size) abort();
        sum += t->data[0] + t->data[t->n_bytes - 1];
    }
    lai_hparams hp;
    st = lai_hparams_load(g, &hp);
    check_status(st, "hparams");
    if (st == LOCALAI_STATUS_OK && g->n_tensors > 0) {
        lai_model_weights w;
        uint8_t *realigned = NULL;
        size_t realigned_size = 0;
        st = lai_weights_bind(g, &hp, &w);
        check_status(st, "bind");
        if (st == LOCALAI_STATUS_OK) {
            /* as model open does: tensors a small general.alignment left unaligned move */
            if (lai_weights_realign(g, NULL, &realigned, &realigned_size) != LOCALAI_STATUS_OK)
                abort(); /* an allocation of at most the input's size */
            static float row[1 << 16];
            for (uint32_t il = 0; il < hp.n_layer; il++) {
                const lai_gguf_tensor *mats[3] = {w.layers[il].ffn_down, w.layers[il].attn_output,
                                                  w.token_embd};
                for (int k = 0; k < 3; k++) {
                    const lai_gguf_tensor *t = mats[k];
                    if (t == NULL || t->ne[0] > (1 << 16)) continue;
                    lai_type_get(t->type)->to_float(t->data, row, (int64_t)t->ne[0]);
                    sum += row[0] > 0.0f;
                }
            }
            lai_weights_free(&w);
            lai_free_aligned(NULL, realigned, realigned_size, LAI_WEIGHTS_ALIGN);
        }
    }
    if (size < (64u << 10)) {
        lai_vocab *v = NULL;
        st = lai_vocab_load(g, NULL, &v);
        check_status(st, "vocab");
        lai_vocab_free(v);
    }
    lai_gguf_close(g);
    return (int)(sum & 0);
}
