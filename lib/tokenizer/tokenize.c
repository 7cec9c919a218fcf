/* tokenize.c - text to tokens (special-token split, BOS/EOS, SPM or BPE) and tokens to text. */
#include "vocab_internal.h"

typedef struct frag {
    int32_t token; /* -1: raw text [off, off + len) */
    size_t off, len;
} frag;

typedef struct frag_list {
    frag *items;
    size_t n, cap;
} frag_list;

static int frag_add(frag_list *l, int32_t token, size_t off, size_t len) {
    if (token < 0 && len == 0) return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        frag *items = (frag *)lai_realloc(l->items, cap * sizeof *items);
        if (items == NULL) return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n].token = token;
    l->items[l->n].off = off;
    l->items[l->n].len = len;
    l->n++;
    return 0;
}

static int is_c_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The first occurrence of needle (n > 0 bytes) in hay, or NULL (memmem is not C11). */
static const char *find_bytes(const char *hay, size_t hn, const char *needle, size_t n) {
    if (n == 0 || n > hn) return NULL;
    const char *end = hay + (hn - n) + 1;
    for (const char *p = hay; p < end;) {
        p = (const char *)memchr(p, needle[0], (size_t)(end - p));
        if (p == NULL) return NULL;
        if (memcmp(p, needle, n) == 0) return p;
        p++;
    }
    return NULL;
}

/* Which special tokens occur in the text at all (indices into v->special). */
static void find_present(const lai_vocab *v, const char *text, size_t len, int parse_special,
                         uint8_t *present) {
    const uint8_t *s = (const uint8_t *)text;
    for (size_t i = 0; i < len; i++) {
        if (!v->special_first_byte[s[i]]) continue;
        for (int pass = 0; pass < 2; pass++) {
            unsigned second;
            if (pass == 0) {
                if (i + 1 >= len) continue;
                second = s[i + 1];
            } else {
                second = 256;
            }
            unsigned b = ((unsigned)s[i] * 257u + second) % LAI_SPECIAL_BUCKETS;
            for (uint32_t k = v->special_bucket_start[b]; k < v->special_bucket_start[b + 1]; k++) {
                int32_t idx = v->special_by_bucket[k];
                if (present[idx]) continue;
                const lai_token_data *t = &v->tok[v->special[idx]];
                if (!parse_special && (t->attr & (LAI_ATTR_CONTROL | LAI_ATTR_UNKNOWN))) continue;
                if (t->len <= len - i && memcmp(text + i, v->text + t->off, t->len) == 0)
                    present[idx] = 1;
            }
        }
    }
}

/* Splits text on special token texts the way llama.cpp's tokenizer_st_partition does:
 * longest token first, each one cutting every raw fragment at all its occurrences;
 * LSTRIP/RSTRIP tokens eat the ASCII whitespace beside them. */
static localai_status partition(const lai_vocab *v, const char *text, size_t len,
                                int parse_special, frag_list *out) {
    out->n = 0;
    if (len == 0) return LOCALAI_STATUS_OK;
    if (frag_add(out, -1, 0, len)) goto oom;
    if (v->n_special == 0) return LOCALAI_STATUS_OK;
    uint8_t *present = (uint8_t *)lai_calloc(v->n_special, 1);
    if (present == NULL) goto oom;
    find_present(v, text, len, parse_special, present);
    frag_list next = {0};
    for (size_t idx = 0; idx < v->n_special; idx++) {
        if (!present[idx]) continue;
        int32_t id = v->special[idx];
        const lai_token_data *t = &v->tok[id];
        const char *tt = v->text + t->off;
        next.n = 0;
        for (size_t f = 0; f < out->n; f++) {
            frag fr = out->items[f];
            if (fr.token >= 0) {
                if (frag_add(&next, fr.token, 0, 0)) goto oom2;
                continue;
            }
            size_t pos = fr.off, end = fr.off + fr.len;
            for (;;) {
                const char *m = find_bytes(text + pos, end - pos, tt, t->len);
                if (m == NULL) break;
                size_t at = (size_t)(m - text), left = at - pos;
                if (t->attr & LAI_ATTR_LSTRIP)
                    while (left > 0 && is_c_space(text[pos + left - 1])) left--;
                if (frag_add(&next, -1, pos, left) || frag_add(&next, id, 0, 0)) goto oom2;
                pos = at + t->len;
                if (t->attr & LAI_ATTR_RSTRIP)
                    while (pos < end && is_c_space(text[pos])) pos++;
            }
            if (frag_add(&next, -1, pos, end - pos)) goto oom2;
        }
        frag_list tmp = *out;
        *out = next;
        next = tmp;
    }
    lai_free(next.items);
    lai_free(present);
    return LOCALAI_STATUS_OK;
oom2:
    lai_free(next.items);
    lai_free(present);
oom:
    return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "tokenize: %zu bytes", len);
}

/* SPM input: an optional leading space, then the text with every space as U+2581. */
static localai_status spm_fragment(const lai_vocab *v, const char *text, size_t len,
                                   int prefix_space, lai_tok_out *out) {
    size_t cap;
    if (lai_mul_overflow_size(len + 1, 3, &cap))
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "tokenize: %zu bytes", len);
    char *esc = (char *)lai_malloc(cap);
    if (esc == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "tokenize: %zu bytes", len);
    size_t n = 0;
    if (prefix_space) {
        memcpy(esc, "\xE2\x96\x81", 3);
        n = 3;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(esc + n, "\xE2\x96\x81", 3);
            n += 3;
        } else {
            esc[n++] = text[i];
        }
    }
    localai_status st = lai_spm_tokenize(v, esc, n, out);
    lai_free(esc);
    return st;
}

localai_status lai_vocab_tokenize(const lai_vocab *v, const char *text, size_t len,
                                  int add_special, int parse_special, lai_tok_out *out) {
    frag_list frags = {0};
    localai_status st = partition(v, text, len, parse_special, &frags);
    if (st) {
        lai_free(frags.items);
        return st;
    }
    if (add_special && v->add_bos && v->bos >= 0) lai_tok_push(out, v->bos);
    int prev_special = 1; /* SPM: the first text gets the leading space */
    for (size_t i = 0; i < frags.n && st == LOCALAI_STATUS_OK; i++) {
        const frag *f = &frags.items[i];
        if (f->token >= 0) {
            lai_tok_push(out, f->token);
            prev_special = 1;
            continue;
        }
        if (v->type == LAI_VOCAB_SPM) {
            st = spm_fragment(v, text + f->off, f->len, v->add_space_prefix && prev_special, out);
        } else {
            st = lai_bpe_tokenize(v, text + f->off, f->len, out);
        }
        prev_special = 0;
    }
    if (st == LOCALAI_STATUS_OK && add_special && v->add_eos && v->eos >= 0)
        lai_tok_push(out, v->eos);
    lai_free(frags.items);
    return st;
}

const char *lai_vocab_piece(const lai_vocab *v, int32_t id, int special, size_t *len) {
    if (v == NULL || id < 0 || id >= v->n_tokens) return NULL;
    const lai_token_data *t = &v->tok[id];
    if (!special && (t->attr & (LAI_ATTR_UNKNOWN | LAI_ATTR_CONTROL))) {
        *len = 0;
        return v->pieces + t->piece_off;
    }
    *len = t->piece_len;
    return v->pieces + t->piece_off;
}

/* llama.cpp's clean_up_tokenization_spaces: " ." -> ".", " ' " -> "'", " 's" -> "'s". */
static size_t clean_spaces(char *text, size_t total) {
    size_t total1 = total;
    total = total ? 1 : 0;
    for (size_t i = 1; i < total1; ++i) {
        char x = text[i];
        if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) total--;
        text[total++] = x;
    }
    size_t total2 = total;
    total = total ? 1 : 0;
    for (size_t i = 1; i < total2; ++i) {
        char x = text[i];
        if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
            total--;
            text[++i] = '\0';
        }
        text[total++] = x;
    }
    size_t total3 = total;
    total = total ? 1 : 0;
    for (size_t i = 1; i < total3; ++i) {
        char x = text[i];
        if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
            char x1 = text[i + 1];
            if (x1 == 's' || x1 == 'm') {
                total--;
            } else if (x1 != 't' && x1 != 'd' && i + 2 < total3) {
                char x2 = text[i + 2];
                if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) total--;
            }
        }
        text[total++] = x;
    }
    return total;
}

localai_status lai_vocab_detokenize(const lai_vocab *v, const int32_t *ids, size_t n,
                                    int remove_special, int unparse_special, char *buf,
                                    size_t capacity, size_t *needed) {
    int remove_space = v->add_space_prefix;
    if (remove_special && v->add_bos && n > 0 && ids[0] == v->bos) {
        remove_space = 0;
        ids++;
        n--;
    }
    if (remove_special && v->add_eos && n > 0 && ids[n - 1] == v->eos) n--;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        if (lai_vocab_piece(v, ids[i], unparse_special, &len) == NULL)
            return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                            "detokenize: token %zu is %d, outside the vocabulary of %d", i,
                            (int)ids[i], (int)v->n_tokens);
        if (lai_add_overflow_size(total, len, &total))
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "detokenize: text too long");
    }
    char *tmp = (char *)lai_malloc(total + 1);
    if (tmp == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "detokenize: %zu bytes", total);
    size_t len_out = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *p = lai_vocab_piece(v, ids[i], unparse_special, &len);
        if (remove_space && len > 0 && p[0] == ' ') {
            p++;
            len--;
        }
        remove_space = 0;
        memcpy(tmp + len_out, p, len);
        len_out += len;
    }
    if (v->clean_spaces) len_out = clean_spaces(tmp, len_out);
    *needed = len_out;
    localai_status st = LOCALAI_STATUS_OK;
    if (buf != NULL && len_out <= capacity) {
        memcpy(buf, tmp, len_out);
        if (len_out < capacity) buf[len_out] = '\0';
    }
    if (len_out > capacity)
        st = lai_fail(LOCALAI_STATUS_BUFFER_TOO_SMALL, "detokenize: %zu bytes needed, %zu given",
                      len_out, capacity);
    lai_free(tmp);
    return st;
}
