/* hparams.h - architecture ids and the hyper-parameters read from GGUF metadata. */
#ifndef LAI_HPARAMS_H
#define LAI_HPARAMS_H

#include "../gguf/gguf.h"

typedef enum lai_arch {
    LAI_ARCH_LLAMA = 0, /* Llama 2/3/3.x, Mistral, SmolLM, TinyLlama */
    LAI_ARCH_QWEN2,
    LAI_ARCH_QWEN3,
    LAI_ARCH_PHI3,
    LAI_ARCH_GEMMA2,
    LAI_ARCH_GEMMA3,
    LAI_ARCH_COUNT
} lai_arch;

typedef enum lai_rope_scaling {
    LAI_ROPE_SCALING_NONE = 0,
    LAI_ROPE_SCALING_LINEAR,
    LAI_ROPE_SCALING_YARN,
    LAI_ROPE_SCALING_LONGROPE /* phi3: rope_factors_long/short tensors */
} lai_rope_scaling;

#define LAI_MAX_LAYERS 512

typedef struct lai_hparams {
    lai_arch arch;
    uint32_t n_vocab;
    uint32_t n_ctx_train;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head;          /* query heads */
    uint32_t n_head_kv;       /* key/value heads (GQA); same for every layer */
    uint32_t n_ff;            /* feed-forward width */
    uint32_t head_dim_k;      /* attention.key_length, default n_embd / n_head */
    uint32_t head_dim_v;      /* attention.value_length, default n_embd / n_head */
    float norm_eps;           /* attention.layer_norm_rms_epsilon */
    /* rope */
    uint32_t n_rot;           /* rope.dimension_count, default head_dim_k */
    float rope_freq_base;     /* default 10000 */
    float rope_freq_scale;    /* 1 / rope.scaling.factor (when set) unless the type is none */
    lai_rope_scaling rope_scaling;
    float rope_scaling_factor;
    uint32_t rope_orig_ctx;   /* rope.scaling.original_context_length */
    float rope_attn_factor;   /* rope.scaling.attn_factor, default 1 */
    float yarn_beta_fast, yarn_beta_slow, yarn_ext_factor;
    int rope_neox;            /* 1: rotate pairs (i, i + n_rot/2) (qwen2/3, phi3, gemma);
                               * 0: adjacent pairs (2i, 2i+1) (llama) */
    float rope_freq_base_swa; /* sliding layers: rope.freq_base_swa (gemma3 default 10000, gemma2
                               * default rope_freq_base), else = rope_freq_base */
    /* attention */
    uint32_t n_swa;           /* sliding window size, 0 = none */
    uint8_t swa_layer[LAI_MAX_LAYERS]; /* 1 where layer il uses the sliding window */
    float attn_scale;         /* multiplier of q.k; default 1/sqrt(head_dim_k) */
    float attn_logit_softcap; /* gemma2: 50, 0 = none */
    float final_logit_softcap;/* gemma2: 30, 0 = none */
    /* embeddings */
    int tied_embeddings;      /* no output.weight: the output projection is token_embd */
    float embd_scale;         /* gemma: sqrt(n_embd), else 1 */
    /* appended fields (keep the ones above in place) */
    float rope_freq_scale_swa;  /* scale on sliding-window layers (gemma3: 1), else = rope_freq_scale */
    float yarn_attn_factor;     /* rope.scaling.yarn_attn_factor, default 1 (the forward pass, like
                                 * llama.cpp for these architectures, does not use it) */
    float yarn_log_mul;         /* rope.scaling.yarn_log_multiplier, default 0 */
    int rope_finetuned;         /* rope.scaling.finetuned */
    uint32_t swa_pattern;       /* 0: no sliding window; n: layers il % n < n-1 slide (gemma2: 2, gemma3: 6) */
} lai_hparams;

/* Reads general.architecture and <arch>.* keys; fails with UNSUPPORTED for an unknown
 * architecture, BAD_FORMAT (naming the key) for missing or out-of-range values. */
localai_status lai_hparams_load(const lai_gguf *gguf, lai_hparams *hp);
const char *lai_arch_name(lai_arch arch);
/* Finds the architecture called name[0..len); returns 0 when it is not one we run. */
int lai_arch_lookup(const char *name, size_t len, lai_arch *out);

#endif /* LAI_HPARAMS_H */
