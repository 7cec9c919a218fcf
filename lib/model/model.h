/* model.h - the localai_model handle: file, hyper-parameters, vocabulary, weights. */
#ifndef LAI_MODEL_H
#define LAI_MODEL_H

#include "../gguf/gguf.h"
#include "../tokenizer/vocab.h"

struct localai_model {
    lai_gguf *gguf;
    lai_vocab *vocab;
    lai_logger log;
    localai_allocator allocator; /* copy of the host's, or zeroed */
    int has_allocator;
    int32_t backend;             /* LOCALAI_BACKEND_CPU / _VULKAN */
    char *architecture;
    char *name;
    /* Filled by the architecture loaders (lib/model/) as they land. */
    void *arch;
};

#endif /* LAI_MODEL_H */
