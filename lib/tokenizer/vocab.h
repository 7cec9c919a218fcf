/* vocab.h - the vocabulary and tokenizer built from a GGUF file's tokenizer.* metadata. */
#ifndef LAI_VOCAB_H
#define LAI_VOCAB_H

#include "../gguf/gguf.h"

typedef struct lai_vocab lai_vocab;

/* Reads tokenizer.ggml.* from `gguf` (which must outlive the vocab). Fails with
 * BAD_FORMAT naming the key, or UNSUPPORTED for an unknown tokenizer model or
 * pre-tokenizer (with its name in the message). */
localai_status lai_vocab_load(const lai_gguf *gguf, const lai_logger *log, lai_vocab **out);
void lai_vocab_free(lai_vocab *vocab);
int32_t lai_vocab_n_tokens(const lai_vocab *vocab);

#endif /* LAI_VOCAB_H */
