/* gen_model.h - builds random-weight GGUF models of any shape for every supported architecture. */
#ifndef LOCALAI_GEN_MODEL_H
#define LOCALAI_GEN_MODEL_H

#include "gguf/gguf_write.h"
#include "model/hparams.h"

typedef struct gen_options {
    lai_arch arch;
    const char *vocab_path;  /* a GGUF whose tokenizer.* keys are copied; NULL: 256 byte tokens */
    uint32_t weight_type;    /* LAI_TYPE_* of the matrices; vectors are always f32 */
    uint64_t seed;
    uint32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
    uint32_t head_dim;       /* 0: n_embd / n_head (else written as attention.key/value_length) */
    uint32_t n_rot;          /* 0: head_dim (written as rope.dimension_count) */
    uint32_t n_swa;          /* gemma2/3 attention.sliding_window (0: not written) */
    float rope_freq_base;    /* 0: not written */
    int tied;                /* 1: no output.weight */
    int rope_freqs;          /* llama: write rope_freqs.weight; phi3: rope_factors_long/short */
    int phi3_separate_qkv;   /* phi3: attn_q/k/v instead of the fused attn_qkv */
    /* For tests of broken files: */
    const char *skip_tensor;     /* leave this tensor out */
    const char *reshape_tensor;  /* write this tensor with ne[0] = reshape_ne0 */
    uint64_t reshape_ne0;
    const char *f16_tensor;      /* write this (1-D) tensor as f16 */
    const char *extra_tensor;    /* add a [n_embd] f32 tensor with this name */
    /* For llama.cpp (tests/llamacpp): append <|endoftext|> to the byte vocabulary, which
     * llama.cpp needs to load a phi3 model. */
    int endoftext_token;
    /* Rope scaling (tests/llamacpp's rope variants); the defaults write nothing, so files
     * made without these options stay byte-identical. */
    const char *rope_scaling_type; /* rope.scaling.type: none|linear|yarn|longrope (NULL: not written) */
    float rope_scaling_factor;     /* rope.scaling.factor (0: not written) */
    uint32_t rope_orig_ctx;        /* rope.scaling.original_context_length (0: not written; phi3 writes n_ctx) */
    float rope_attn_factor;        /* rope.scaling.attn_factor (0: not written) */
    float rope_freq_base_swa;      /* rope.freq_base_swa (0: not written) */
    float llama3_rope[4];          /* factor, low_freq_factor, high_freq_factor, original context:
                                    * llama rope_freqs.weight by Llama 3.1's formula (factor 0: off) */
    float longrope_max;            /* phi3, llama: deterministic rope_factors_long rising from 1 to this,
                                    * rope_factors_short to its 4th root (0: off) */
    uint32_t alignment;            /* general.alignment (0: the default 32, not written) */
    /* The byte vocabulary grown to this many tokens with synthetic, unique, ordinary tokens
     * (for models shaped like real ones, e.g. Llama 3's 128256; bench/compare.sh). 0: the
     * byte vocabulary alone, as before. Must not be below the byte vocabulary's size. */
    uint32_t vocab_size;
} gen_options;

/* Defaults: a tiny llama, f32, seed 1, no vocab file. */
void gen_options_init(gen_options *o);

/* Builds the model into a new writer (metadata and tensor data); the caller may still
 * change metadata, then writes it. */
localai_status gen_model_build(const gen_options *o, lai_gguf_writer **out);

/* Builds and writes a GGUF file. */
localai_status gen_model_write(const gen_options *o, const char *path);

/* general.file_type (llama_ftype) for a matrix type, or -1. */
int32_t gen_ftype_for_type(uint32_t type);

#endif /* LOCALAI_GEN_MODEL_H */
