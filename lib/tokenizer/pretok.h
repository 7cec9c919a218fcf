/* pretok.h - byte-level BPE pre-tokenizers: hand-written splitters standing for llama.cpp's regexes. */
#ifndef LAI_PRETOK_H
#define LAI_PRETOK_H

#include <stddef.h>
#include <stdint.h>

typedef enum lai_pretok_kind {
    LAI_PRETOK_DEFAULT = 0,
    LAI_PRETOK_GPT2,           /* gpt-2, phi-2, mpt, olmo, jais, gpt-neox, ... */
    LAI_PRETOK_LLAMA3,         /* llama3 / llama-bpe, dbrx, smaug-bpe, chatglm-bpe */
    LAI_PRETOK_QWEN2,          /* qwen2 (Qwen2/2.5/3), stablelm2, megrez, hunyuan */
    LAI_PRETOK_DEEPSEEK_LLM,
    LAI_PRETOK_DEEPSEEK_CODER,
    LAI_PRETOK_FALCON,
    LAI_PRETOK_STARCODER,      /* starcoder, refact, command-r, smollm, codeshell, exaone */
    LAI_PRETOK_BLOOM,          /* bloom, poro-chat, gpt3-finnish */
    LAI_PRETOK_VIKING,
    LAI_PRETOK_COUNT
} lai_pretok_kind;

/* What a tokenizer.ggml.pre name selects, with the flags llama.cpp ties to it. */
typedef struct lai_pretok_info {
    lai_pretok_kind kind;
    int clean_spaces;   /* detokenizer removes spaces before . , ! ? and contractions */
    int ignore_merges;  /* a word that is a whole token is taken as it is */
    int add_bos;        /* default for add_bos before metadata */
    int no_bos;         /* the BOS id is cleared (chatglm) */
} lai_pretok_info;

/* Looks up a pre-tokenizer name ("" or NULL = default); 0 when unknown. */
int lai_pretok_lookup(const char *name, lai_pretok_info *info);

/* Text decoded to code points with their class bits (lai_uc_flags). */
typedef struct lai_pretok_text {
    const uint32_t *cpts;
    const uint8_t *flags;
    size_t n;
} lai_pretok_text;

/* Receives each piece [begin, end) (code point indices, in order, never empty). */
typedef void (*lai_piece_fn)(void *user, size_t begin, size_t end);

/* Splits t into pieces exactly as llama.cpp's regex chain for `kind` does. */
void lai_pretok_split(lai_pretok_kind kind, const lai_pretok_text *t, lai_piece_fn fn,
                      void *user);

/* The number of passes of a kind's chain, and a split with one pass only (for tests
 * that compare each splitter with the regex it stands for). Pass ids are internal. */
size_t lai_pretok_n_passes(lai_pretok_kind kind);
void lai_pretok_split_pass(lai_pretok_kind kind, size_t pass, const lai_pretok_text *t,
                           size_t begin, size_t end, lai_piece_fn fn, void *user);

#endif /* LAI_PRETOK_H */
