/* vocab_internal.h - the vocabulary's layout, shared by the tokenizer's source files. */
#ifndef LAI_VOCAB_INTERNAL_H
#define LAI_VOCAB_INTERNAL_H

#include "vocab.h"
#include "pretok.h"
#include "strmap.h"

enum { LAI_VOCAB_SPM = 1, LAI_VOCAB_BPE = 2 };

/* Token attributes (llama.cpp's llama_token_attr bits). */
enum {
    LAI_ATTR_UNDEFINED = 0,
    LAI_ATTR_UNKNOWN = 1 << 0,
    LAI_ATTR_UNUSED = 1 << 1,
    LAI_ATTR_NORMAL = 1 << 2,
    LAI_ATTR_CONTROL = 1 << 3,
    LAI_ATTR_USER_DEFINED = 1 << 4,
    LAI_ATTR_BYTE = 1 << 5,
    LAI_ATTR_LSTRIP = 1 << 7,
    LAI_ATTR_RSTRIP = 1 << 8
};

/* GGUF tokenizer.ggml.token_type values. */
enum {
    LAI_TOKTYPE_UNDEFINED = 0,
    LAI_TOKTYPE_NORMAL = 1,
    LAI_TOKTYPE_UNKNOWN = 2,
    LAI_TOKTYPE_CONTROL = 3,
    LAI_TOKTYPE_USER_DEFINED = 4,
    LAI_TOKTYPE_UNUSED = 5,
    LAI_TOKTYPE_BYTE = 6
};

typedef struct lai_token_data {
    uint32_t off, len;        /* text in vocab->text */
    uint32_t piece_off, piece_len; /* rendered bytes in vocab->pieces */
    float score;
    uint32_t attr;
} lai_token_data;

/* Everything a vocabulary is built from, independent of where it was read. Ids of -2
 * mean "absent": the model type's default applies. Booleans: -1 absent, 0, 1. */
typedef struct lai_vocab_spec {
    const char *model;        /* tokenizer.ggml.model: "llama" or "gpt2" */
    const char *pre;          /* tokenizer.ggml.pre or NULL */
    const char *name;         /* general.name or NULL (some fixes key on it) */
    uint32_t n_tokens;
    const lai_str *tokens;
    const float *scores;      /* NULL: all 0 */
    const int32_t *types;     /* NULL: all normal */
    uint64_t n_merges;
    const lai_str *merges;    /* "left right" */
    int32_t bos, eos, eot, eom, unk, sep, pad, mask;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    int add_bos, add_eos, add_sep, add_space_prefix, remove_extra_ws;
} lai_vocab_spec;

void lai_vocab_spec_init(lai_vocab_spec *spec);

struct lai_vocab {
    int type;                 /* LAI_VOCAB_* */
    lai_pretok_kind pre;
    char pre_name[64];
    int32_t n_tokens;
    char *text;               /* all token texts */
    char *pieces;             /* all rendered pieces */
    lai_token_data *tok;
    lai_strmap text_map;      /* token text -> id */
    size_t max_token_len;

    /* byte-level BPE: symbols are tokens (ids < n_tokens) or merge parts that are no
     * token (ids >= n_tokens); keys are the raw bytes a symbol stands for. */
    lai_strmap raw_map;
    char *raw;                /* raw bytes of every symbol */
    int32_t n_symbols;
    lai_pairmap merges;
    int32_t byte_symbol[256]; /* symbol of a single raw byte, or -1 */
    int32_t byte_fallback[256][2]; /* tokens for the encoded bytes of a raw byte, -1 none */

    /* SPM: 1 when no token holds U+2581 right after another character, so text can be
     * merged word by word (see spm.c). */
    int spm_split_words;

    /* SPM byte fallback: <0xXX> token of each byte (or the byte's own token), -1 none. */
    int32_t spm_byte_token[256];

    int32_t bos, eos, eot, eom, unk, sep, pad, mask, nl;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    int add_bos, add_eos, add_sep, add_space_prefix, remove_extra_ws;
    int clean_spaces, ignore_merges;

    int32_t *eog;             /* sorted end-of-generation ids */
    size_t n_eog;

    /* Control, user-defined and unknown tokens, longest text first (ties by id): the
     * order in which text is split on them. */
    int32_t *special;
    size_t n_special;
    /* Index for finding special texts quickly: bucket of the first two bytes -> list. */
    uint32_t *special_bucket_start; /* LAI_SPECIAL_BUCKETS + 1 offsets into special_by_bucket */
    int32_t *special_by_bucket;
    uint8_t special_first_byte[256]; /* 1 when some special text starts with the byte */
};

#define LAI_SPECIAL_BUCKETS 4096u

/* Builds a vocabulary from a spec (the GGUF loader and the tests use it). */
localai_status lai_vocab_build(const lai_vocab_spec *spec, const lai_logger *log,
                               lai_vocab **out);

static inline const char *lai_vocab_text(const lai_vocab *v, int32_t id) {
    return v->text + v->tok[id].off;
}

/* Output sink: writes while there is room, always counts. */
typedef struct lai_tok_out {
    localai_token *tokens;
    size_t capacity;
    size_t count;
} lai_tok_out;

static inline void lai_tok_push(lai_tok_out *o, int32_t id) {
    if (o->count < o->capacity) o->tokens[o->count] = id;
    o->count++;
}

/* spm.c: tokenizes already escaped text (spaces are U+2581). */
localai_status lai_spm_tokenize(const lai_vocab *v, const char *text, size_t len,
                                lai_tok_out *out);
/* bpe.c: pre-tokenizes and encodes one text fragment. */
localai_status lai_bpe_tokenize(const lai_vocab *v, const char *text, size_t len,
                                lai_tok_out *out);
/* bpe.c: builds raw_map, merges and byte tables (BPE vocabularies). */
localai_status lai_bpe_prepare(lai_vocab *v, const lai_vocab_spec *spec);
/* special.c: specials index, EOG set, attribute fixes (after tokens are loaded). */
localai_status lai_special_prepare(lai_vocab *v, const lai_vocab_spec *spec,
                                   const lai_logger *log);

/* tokenize.c */
localai_status lai_vocab_tokenize(const lai_vocab *v, const char *text, size_t len,
                                  int add_special, int parse_special, lai_tok_out *out);
/* The piece of `id` (special: render control/unknown tokens); NULL for a bad id. */
const char *lai_vocab_piece(const lai_vocab *v, int32_t id, int special, size_t *len);
/* Detokenizes into buf (NUL-terminated when room allows); *needed gets the text's
 * length. BUFFER_TOO_SMALL when it does not fit; INVALID_ARGUMENT for a bad id. */
localai_status lai_vocab_detokenize(const lai_vocab *v, const int32_t *ids, size_t n,
                                    int remove_special, int unparse_special, char *buf,
                                    size_t capacity, size_t *needed);
int lai_vocab_is_eog(const lai_vocab *v, int32_t id);

#endif /* LAI_VOCAB_INTERNAL_H */
