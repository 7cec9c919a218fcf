/* vocab.c - builds the vocabulary from tokenizer.ggml.* metadata (or a spec made by tests). */
#include "vocab_internal.h"

#include "unicode.h"

#include <stdio.h>
#include <stdlib.h>

#define ID_ABSENT (-2)

void lai_vocab_spec_init(lai_vocab_spec *spec) {
    memset(spec, 0, sizeof *spec);
    spec->bos = spec->eos = spec->eot = spec->eom = spec->unk = ID_ABSENT;
    spec->sep = spec->pad = spec->mask = ID_ABSENT;
    spec->fim_pre = spec->fim_suf = spec->fim_mid = ID_ABSENT;
    spec->fim_pad = spec->fim_rep = spec->fim_sep = ID_ABSENT;
    spec->add_bos = spec->add_eos = spec->add_sep = -1;
    spec->add_space_prefix = spec->remove_extra_ws = -1;
}

void lai_vocab_free(lai_vocab *v) {
    if (v == NULL) return;
    lai_strmap_free(&v->text_map);
    lai_strmap_free(&v->raw_map);
    lai_pairmap_free(&v->merges);
    lai_free(v->text);
    lai_free(v->pieces);
    lai_free(v->raw);
    lai_free(v->tok);
    lai_free(v->eog);
    lai_free(v->special);
    lai_free(v->special_bucket_start);
    lai_free(v->special_by_bucket);
    lai_free(v);
}

int32_t lai_vocab_n_tokens(const lai_vocab *v) { return v ? v->n_tokens : 0; }

/* ---- pieces: the bytes each token renders to (llama.cpp's token_to_piece cache) ---- */

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static int buf_put(buf *b, const void *p, size_t n) {
    if (n > SIZE_MAX - b->len) return -1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) {
            if (cap > SIZE_MAX / 2) return -1;
            cap *= 2;
        }
        char *d = (char *)lai_realloc(b->data, cap);
        if (d == NULL) return -1;
        b->data = d;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The byte of a "<0xXX>" token (strtol-like: stops at the first non-hex digit). */
static uint8_t byte_token_value(const char *s, size_t len) {
    int v = 0;
    for (size_t i = 3; i < 5 && i < len; i++) {
        int h = hexval(s[i]);
        if (h < 0) break;
        v = v * 16 + h;
    }
    return (uint8_t)v;
}

static int render_piece(const lai_vocab *v, int32_t id, buf *out) {
    const lai_token_data *t = &v->tok[id];
    const char *s = v->text + t->off;
    if (t->attr & (LAI_ATTR_UNKNOWN | LAI_ATTR_CONTROL | LAI_ATTR_USER_DEFINED))
        return buf_put(out, s, t->len);
    if (t->attr & LAI_ATTR_NORMAL) {
        if (v->type == LAI_VOCAB_SPM) {
            for (size_t i = 0; i < t->len;) {
                if (i + 3 <= t->len && memcmp(s + i, "\xE2\x96\x81", 3) == 0) {
                    if (buf_put(out, " ", 1)) return -1;
                    i += 3;
                } else {
                    if (buf_put(out, s + i, 1)) return -1;
                    i++;
                }
            }
            return 0;
        }
        /* byte-level BPE: each code point stands for one byte */
        size_t pos = 0;
        while (pos < t->len) {
            uint32_t cpt = lai_utf8_decode((const uint8_t *)s, t->len, &pos);
            int b = lai_cpt_to_byte(cpt);
            if (b >= 0) {
                uint8_t c = (uint8_t)b;
                if (buf_put(out, &c, 1)) return -1;
            } else {
                uint8_t u[4];
                size_t n = lai_utf8_encode(cpt, u);
                char hex[8];
                if (buf_put(out, "[UNK_BYTE_0x", 12)) return -1;
                for (size_t k = 0; k < n; k++) {
                    snprintf(hex, sizeof hex, "%02x", u[k]);
                    if (buf_put(out, hex, 2)) return -1;
                }
                if (buf_put(out, s, t->len) || buf_put(out, "]", 1)) return -1;
            }
        }
        return 0;
    }
    if (t->attr & LAI_ATTR_BYTE) {
        uint8_t c = byte_token_value(s, t->len);
        return buf_put(out, &c, 1);
    }
    return 0;
}

static localai_status build_pieces(lai_vocab *v) {
    buf b = {0};
    for (int32_t id = 0; id < v->n_tokens; id++) {
        size_t start = b.len;
        if (render_piece(v, id, &b) || b.len > UINT32_MAX) {
            lai_free(b.data);
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary: token pieces");
        }
        v->tok[id].piece_off = (uint32_t)start;
        v->tok[id].piece_len = (uint32_t)(b.len - start);
    }
    v->pieces = b.data ? b.data : (char *)lai_malloc(1);
    if (v->pieces == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary: pieces");
    return LOCALAI_STATUS_OK;
}

/* ---- build ----------------------------------------------------------------------------- */

static uint32_t attr_of_type(int32_t type) {
    switch (type) {
    case LAI_TOKTYPE_UNKNOWN: return LAI_ATTR_UNKNOWN;
    case LAI_TOKTYPE_UNUSED: return LAI_ATTR_UNUSED;
    case LAI_TOKTYPE_NORMAL: return LAI_ATTR_NORMAL;
    case LAI_TOKTYPE_CONTROL: return LAI_ATTR_CONTROL;
    case LAI_TOKTYPE_USER_DEFINED: return LAI_ATTR_USER_DEFINED;
    case LAI_TOKTYPE_BYTE: return LAI_ATTR_BYTE;
    default: return LAI_ATTR_UNDEFINED;
    }
}

static localai_status load_tokens(lai_vocab *v, const lai_vocab_spec *spec) {
    uint32_t n = spec->n_tokens;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t len = spec->tokens[i].len ? spec->tokens[i].len : 24; /* "[EMPTY_i]" */
        if (len >= UINT32_MAX || lai_add_overflow_u64(total, len, &total))
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.tokens: token %u is too long", i);
    }
    if (total >= UINT32_MAX)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.tokens: %llu bytes of text is too much",
                        (unsigned long long)total);
    v->text = (char *)lai_malloc((size_t)total + 1);
    v->tok = (lai_token_data *)lai_calloc(n ? n : 1, sizeof *v->tok);
    if (v->text == NULL || v->tok == NULL)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary: %u tokens", n);
    localai_status st = lai_strmap_init(&v->text_map, n);
    if (st) return st;
    v->text_map.base = v->text;
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        lai_token_data *t = &v->tok[i];
        const lai_str *s = &spec->tokens[i];
        t->off = (uint32_t)off;
        if (s->len == 0) {
            /* llama.cpp names empty tokens so that every text stays unique */
            int w = snprintf(v->text + off, 25, "[EMPTY_%u]", i);
            t->len = (uint32_t)w;
        } else {
            memcpy(v->text + off, s->ptr, (size_t)s->len);
            t->len = (uint32_t)s->len;
        }
        off += t->len;
        t->score = spec->scores ? spec->scores[i] : 0.0f;
        t->attr = spec->types ? attr_of_type(spec->types[i]) : LAI_ATTR_NORMAL;
        if (t->len > v->max_token_len) v->max_token_len = t->len;
        int32_t prev = -1;
        if (lai_strmap_put(&v->text_map, t->off, t->len, (int32_t)i, &prev) == 0)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                            "tokenizer.ggml.tokens: duplicate token '%.*s' has ids %d and %u",
                            (int)LAI_MIN(t->len, 64u), v->text + t->off, (int)prev, i);
    }
    return LOCALAI_STATUS_OK;
}

static void set_id(const lai_vocab *v, int32_t *id, int32_t meta, const char *what,
                   const lai_logger *log) {
    if (*id >= v->n_tokens) *id = -1; /* a default outside the vocabulary is no token */
    if (meta == ID_ABSENT) return;
    if (meta < 0 || meta >= v->n_tokens) {
        /* Converters write -1 (as u32 0xFFFFFFFF, read here as INT32_MAX) for "no such
         * token": that is no mistake worth a warning on every load. */
        int32_t level = meta == -1 || meta == INT32_MAX ? LOCALAI_LOG_DEBUG : LOCALAI_LOG_WARN;
        lai_log(log, level, "vocabulary: bad special token %s = %d, keeping %d", what, (int)meta,
                (int)*id);
        return;
    }
    *id = meta;
}

localai_status lai_vocab_build(const lai_vocab_spec *spec, const lai_logger *log,
                               lai_vocab **out) {
    *out = NULL;
    if (spec->model == NULL)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.model is missing");
    if (spec->n_tokens == 0 || spec->n_tokens > INT32_MAX / 2)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.tokens: %u tokens",
                        spec->n_tokens);
    lai_vocab *v = (lai_vocab *)lai_calloc(1, sizeof *v);
    if (v == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary");
    v->n_tokens = (int32_t)spec->n_tokens;
    v->eot = v->eom = v->sep = v->pad = v->mask = -1;
    v->fim_pre = v->fim_suf = v->fim_mid = v->fim_pad = v->fim_rep = v->fim_sep = -1;
    lai_pretok_info pre = {LAI_PRETOK_DEFAULT, 0, 0, 0, 0};
    localai_status st;

    if (strcmp(spec->model, "llama") == 0) {
        v->type = LAI_VOCAB_SPM;
        v->bos = 1;
        v->eos = 2;
        v->unk = 0;
        v->add_space_prefix = 1;
        v->add_bos = 1;
        snprintf(v->pre_name, sizeof v->pre_name, "%s", "default");
    } else if (strcmp(spec->model, "gpt2") == 0) {
        v->type = LAI_VOCAB_BPE;
        v->bos = 11;
        v->eos = 11;
        v->unk = -1;
        if (spec->pre == NULL || spec->pre[0] == '\0')
            lai_log_warn(log, "vocabulary: no tokenizer.ggml.pre, using the default pre-tokenizer");
        if (!lai_pretok_lookup(spec->pre, &pre)) {
            lai_vocab_free(v);
            return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                            "tokenizer.ggml.pre: pre-tokenizer '%s' is not supported", spec->pre);
        }
        snprintf(v->pre_name, sizeof v->pre_name, "%s",
                 spec->pre && spec->pre[0] ? spec->pre : "default");
        v->pre = pre.kind;
        v->clean_spaces = pre.clean_spaces;
        v->ignore_merges = pre.ignore_merges;
        v->add_bos = pre.add_bos;
        if (pre.no_bos) v->bos = -1;
    } else {
        lai_vocab_free(v);
        return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                        "tokenizer.ggml.model: tokenizer '%s' is not supported", spec->model);
    }
    if (spec->add_space_prefix >= 0) v->add_space_prefix = spec->add_space_prefix;
    if (spec->remove_extra_ws >= 0) v->remove_extra_ws = spec->remove_extra_ws;

    st = load_tokens(v, spec);
    if (st) goto fail;
    if (v->type == LAI_VOCAB_BPE) {
        st = lai_bpe_prepare(v, spec);
        if (st) goto fail;
    }
    for (int b = 0; b < 256; b++) {
        static const char hex[] = "0123456789ABCDEF";
        char name[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
        int32_t id = lai_strmap_get(&v->text_map, name, 6);
        if (id < 0) {
            char c = (char)b;
            id = lai_strmap_get(&v->text_map, &c, 1);
        }
        v->spm_byte_token[b] = id;
    }

    if (v->type == LAI_VOCAB_SPM) {
        v->spm_split_words = 1;
        for (int32_t i = 0; i < v->n_tokens && v->spm_split_words; i++) {
            const char *t = lai_vocab_text(v, i);
            uint32_t n = v->tok[i].len;
            for (uint32_t k = 1; k + 3 <= n; k++) {
                if (memcmp(t + k, "\xE2\x96\x81", 3) == 0 &&
                    !(k >= 3 && memcmp(t + k - 3, "\xE2\x96\x81", 3) == 0)) {
                    v->spm_split_words = 0;
                    break;
                }
            }
        }
    }

    set_id(v, &v->bos, spec->bos, "bos", log);
    set_id(v, &v->eos, spec->eos, "eos", log);
    set_id(v, &v->eot, spec->eot, "eot", log);
    set_id(v, &v->eom, spec->eom, "eom", log);
    set_id(v, &v->unk, spec->unk, "unk", log);
    set_id(v, &v->sep, spec->sep, "sep", log);
    set_id(v, &v->pad, spec->pad, "pad", log);
    set_id(v, &v->mask, spec->mask, "mask", log);
    set_id(v, &v->fim_pre, spec->fim_pre, "fim_pre", log);
    set_id(v, &v->fim_suf, spec->fim_suf, "fim_suf", log);
    set_id(v, &v->fim_mid, spec->fim_mid, "fim_mid", log);
    set_id(v, &v->fim_pad, spec->fim_pad, "fim_pad", log);
    set_id(v, &v->fim_rep, spec->fim_rep, "fim_rep", log);
    set_id(v, &v->fim_sep, spec->fim_sep, "fim_sep", log);
    if (spec->add_bos >= 0) v->add_bos = spec->add_bos;
    if (spec->add_eos >= 0) v->add_eos = spec->add_eos;
    if (spec->add_sep >= 0) v->add_sep = spec->add_sep;
    if (v->add_bos && v->bos < 0) {
        lai_log_warn(log, "vocabulary: add_bos_token is true but there is no BOS token");
        v->add_bos = 0;
    }
    if (v->add_eos && v->eos < 0) {
        lai_log_warn(log, "vocabulary: add_eos_token is true but there is no EOS token");
        v->add_eos = 0;
    }

    st = lai_special_prepare(v, spec, log);
    if (st) goto fail;
    st = build_pieces(v);
    if (st) goto fail;

    /* the newline token */
    if (v->type == LAI_VOCAB_SPM) {
        v->nl = v->spm_byte_token['\n'] >= 0 ? v->spm_byte_token['\n'] : v->pad;
    } else {
        localai_token ids[4];
        lai_tok_out o = {ids, 4, 0};
        st = lai_vocab_tokenize(v, "\n", 1, 0, 0, &o);
        if (st) goto fail;
        v->nl = o.count > 0 ? ids[0] : v->pad;
    }
    *out = v;
    return LOCALAI_STATUS_OK;
fail:
    lai_vocab_free(v);
    return st;
}

/* ---- GGUF ---------------------------------------------------------------------------- */

static char *dup_str(const lai_gguf *g, const char *key, localai_status *st) {
    lai_str s;
    *st = lai_gguf_get_str(g, key, &s);
    if (*st == LOCALAI_STATUS_NOT_FOUND) {
        *st = LOCALAI_STATUS_OK;
        return NULL;
    }
    if (*st) return NULL;
    if (memchr(s.ptr, 0, (size_t)s.len) != NULL || s.len > 4096) {
        *st = lai_fail(LOCALAI_STATUS_BAD_FORMAT, "%s: not a valid name", key);
        return NULL;
    }
    char *d = (char *)lai_malloc((size_t)s.len + 1);
    if (d == NULL) {
        *st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "%s", key);
        return NULL;
    }
    memcpy(d, s.ptr, (size_t)s.len);
    d[s.len] = '\0';
    return d;
}

static localai_status get_id(const lai_gguf *g, const char *key, int32_t *out) {
    uint32_t v;
    localai_status st = lai_gguf_get_u32(g, key, &v);
    if (st == LOCALAI_STATUS_NOT_FOUND) return LOCALAI_STATUS_OK;
    if (st) return st;
    *out = v > INT32_MAX ? INT32_MAX : (int32_t)v;
    return LOCALAI_STATUS_OK;
}

static localai_status get_flag(const lai_gguf *g, const char *key, int *out) {
    int v;
    localai_status st = lai_gguf_get_bool(g, key, &v);
    if (st == LOCALAI_STATUS_NOT_FOUND) return LOCALAI_STATUS_OK;
    if (st) return st;
    *out = v ? 1 : 0;
    return LOCALAI_STATUS_OK;
}

localai_status lai_vocab_load(const lai_gguf *gguf, const lai_logger *log, lai_vocab **out) {
    lai_vocab_spec spec;
    lai_vocab_spec_init(&spec);
    localai_status st = LOCALAI_STATUS_OK;
    char *model = NULL, *pre = NULL, *name = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    *out = NULL;

    model = dup_str(gguf, "tokenizer.ggml.model", &st);
    if (st) goto done;
    if (model == NULL || strcmp(model, "none") == 0 || strcmp(model, "no_vocab") == 0)
        goto done; /* no tokenizer in this file: no vocabulary */
    pre = dup_str(gguf, "tokenizer.ggml.pre", &st);
    if (st) goto done;
    name = dup_str(gguf, "general.name", &st);
    if (st) goto done;
    spec.model = model;
    spec.pre = pre;
    spec.name = name;

    const lai_gguf_kv *kv = NULL;
    st = lai_gguf_get_array(gguf, "tokenizer.ggml.tokens", LAI_GGUF_STRING, &kv);
    if (st == LOCALAI_STATUS_NOT_FOUND) {
        st = lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.tokens is missing");
        goto done;
    }
    if (st) goto done;
    if (kv->array_len == 0 || kv->array_len > INT32_MAX / 2) {
        st = lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.tokens: %llu tokens",
                      (unsigned long long)kv->array_len);
        goto done;
    }
    spec.n_tokens = (uint32_t)kv->array_len;
    spec.tokens = kv->strings;

    const lai_gguf_kv *skv = lai_gguf_find(gguf, "tokenizer.ggml.scores");
    if (skv != NULL) {
        if (skv->type != LAI_GGUF_ARRAY ||
            (skv->array_type != LAI_GGUF_FLOAT32 && skv->array_type != LAI_GGUF_INT32)) {
            st = lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.scores: not an f32 or i32 array");
            goto done;
        }
        if (skv->array_len < spec.n_tokens) {
            st = lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.scores: %llu scores for %u tokens",
                          (unsigned long long)skv->array_len, spec.n_tokens);
            goto done;
        }
        scores = (float *)lai_malloc(sizeof(float) * spec.n_tokens);
        if (scores == NULL) {
            st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "tokenizer.ggml.scores");
            goto done;
        }
        for (uint32_t i = 0; i < spec.n_tokens; i++) {
            if (skv->array_type == LAI_GGUF_FLOAT32) {
                memcpy(&scores[i], skv->value + 4 * (size_t)i, 4);
            } else {
                int32_t iv;
                memcpy(&iv, skv->value + 4 * (size_t)i, 4);
                scores[i] = (float)iv;
            }
        }
        spec.scores = scores;
    }
    const lai_gguf_kv *tkv = lai_gguf_find(gguf, "tokenizer.ggml.token_type");
    if (tkv != NULL) {
        if (tkv->type != LAI_GGUF_ARRAY || tkv->array_type != LAI_GGUF_INT32) {
            st = lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.token_type: not an i32 array");
            goto done;
        }
        if (tkv->array_len < spec.n_tokens) {
            st = lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                          "tokenizer.ggml.token_type: %llu types for %u tokens",
                          (unsigned long long)tkv->array_len, spec.n_tokens);
            goto done;
        }
        types = (int32_t *)lai_malloc(sizeof(int32_t) * spec.n_tokens);
        if (types == NULL) {
            st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "tokenizer.ggml.token_type");
            goto done;
        }
        memcpy(types, tkv->value, sizeof(int32_t) * spec.n_tokens);
        spec.types = types;
    }
    if (strcmp(model, "gpt2") == 0) {
        const lai_gguf_kv *mkv = NULL;
        st = lai_gguf_get_array(gguf, "tokenizer.ggml.merges", LAI_GGUF_STRING, &mkv);
        if (st == LOCALAI_STATUS_NOT_FOUND) {
            st = lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.merges is missing");
            goto done;
        }
        if (st) goto done;
        spec.n_merges = mkv->array_len;
        spec.merges = mkv->strings;
    }

    static const struct {
        const char *key;
        size_t offset;
    } ids[] = {
        {"tokenizer.ggml.bos_token_id", offsetof(lai_vocab_spec, bos)},
        {"tokenizer.ggml.eos_token_id", offsetof(lai_vocab_spec, eos)},
        {"tokenizer.ggml.eot_token_id", offsetof(lai_vocab_spec, eot)},
        {"tokenizer.ggml.eom_token_id", offsetof(lai_vocab_spec, eom)},
        {"tokenizer.ggml.unknown_token_id", offsetof(lai_vocab_spec, unk)},
        {"tokenizer.ggml.seperator_token_id", offsetof(lai_vocab_spec, sep)},
        {"tokenizer.ggml.padding_token_id", offsetof(lai_vocab_spec, pad)},
        {"tokenizer.ggml.mask_token_id", offsetof(lai_vocab_spec, mask)},
        {"tokenizer.ggml.fim_pre_token_id", offsetof(lai_vocab_spec, fim_pre)},
        {"tokenizer.ggml.fim_suf_token_id", offsetof(lai_vocab_spec, fim_suf)},
        {"tokenizer.ggml.fim_mid_token_id", offsetof(lai_vocab_spec, fim_mid)},
        {"tokenizer.ggml.fim_pad_token_id", offsetof(lai_vocab_spec, fim_pad)},
        {"tokenizer.ggml.fim_rep_token_id", offsetof(lai_vocab_spec, fim_rep)},
        {"tokenizer.ggml.fim_sep_token_id", offsetof(lai_vocab_spec, fim_sep)},
        /* deprecated names of the FIM tokens */
        {"tokenizer.ggml.prefix_token_id", offsetof(lai_vocab_spec, fim_pre)},
        {"tokenizer.ggml.suffix_token_id", offsetof(lai_vocab_spec, fim_suf)},
        {"tokenizer.ggml.middle_token_id", offsetof(lai_vocab_spec, fim_mid)},
    };
    for (size_t i = 0; i < LAI_ARRAY_LEN(ids); i++) {
        st = get_id(gguf, ids[i].key, (int32_t *)((char *)&spec + ids[i].offset));
        if (st) goto done;
    }
    static const struct {
        const char *key;
        size_t offset;
    } flags[] = {
        {"tokenizer.ggml.add_bos_token", offsetof(lai_vocab_spec, add_bos)},
        {"tokenizer.ggml.add_eos_token", offsetof(lai_vocab_spec, add_eos)},
        {"tokenizer.ggml.add_sep_token", offsetof(lai_vocab_spec, add_sep)},
        {"tokenizer.ggml.add_space_prefix", offsetof(lai_vocab_spec, add_space_prefix)},
        {"tokenizer.ggml.remove_extra_whitespaces", offsetof(lai_vocab_spec, remove_extra_ws)},
    };
    for (size_t i = 0; i < LAI_ARRAY_LEN(flags); i++) {
        st = get_flag(gguf, flags[i].key, (int *)((char *)&spec + flags[i].offset));
        if (st) goto done;
    }
    st = lai_vocab_build(&spec, log, out);
done:
    lai_free(model);
    lai_free(pre);
    lai_free(name);
    lai_free(scores);
    lai_free(types);
    return st;
}
