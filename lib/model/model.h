/* model.h - the localai_model handle: file, hyper-parameters, vocabulary, weights. */
#ifndef LAI_MODEL_H
#define LAI_MODEL_H

#include "../gguf/gguf.h"
#include "../tokenizer/vocab.h"
#include "hparams.h"
#include "weights.h"

struct localai_model {
    lai_gguf *gguf;
    lai_vocab *vocab;
    lai_logger log;
    localai_allocator allocator; /* copy of the host's, or zeroed */
    int has_allocator;
    int32_t backend;             /* LOCALAI_BACKEND_CPU / _VULKAN */
    char *architecture;
    char *name;
    lai_hparams hp;
    lai_model_weights weights;   /* empty when opened vocab_only */
    int vocab_only;
};

#endif /* LAI_MODEL_H */
