/* vocab.c - placeholder vocabulary loader until the tokenizer lands (issue 4): no vocab. */
#include "vocab.h"

localai_status lai_vocab_load(const lai_gguf *gguf, const lai_logger *log, lai_vocab **out) {
    (void)gguf; (void)log;
    *out = NULL;
    return LOCALAI_STATUS_OK;
}

void lai_vocab_free(lai_vocab *vocab) { (void)vocab; }

int32_t lai_vocab_n_tokens(const lai_vocab *vocab) { (void)vocab; return 0; }
