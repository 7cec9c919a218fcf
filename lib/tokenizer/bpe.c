/* bpe.c - byte-level BPE: merge tables keyed by symbol ids, and the encoder of pre-tokenized words. */
/*
 * Byte-level vocabularies write each byte as one code point (GPT-2's byte map). We key
 * everything by the raw bytes a token stands for instead, so a word is encoded straight
 * from the input bytes: one initial symbol per byte. Merge parts that are not tokens get
 * ids past the vocabulary, so a merge is one (left id, right id) lookup.
 * Merges are applied lowest rank first, leftmost first on ties, as llama.cpp's queue does.
 */
#include "vocab_internal.h"

#include "unicode.h"

/* Decodes a byte-level token text to raw bytes; returns 0 when some code point is not
 * one of the 256 byte stand-ins (such a text never matches an encoded word). */
static int decode_raw(const char *s, size_t len, char *out, size_t *out_len) {
    size_t pos = 0, n = 0;
    while (pos < len) {
        uint32_t cpt = lai_utf8_decode((const uint8_t *)s, len, &pos);
        int b = lai_cpt_to_byte(cpt);
        if (b < 0) return 0;
        out[n++] = (char)b;
    }
    *out_len = n;
    return 1;
}

typedef struct raw_builder {
    lai_vocab *v;
    size_t used, cap;
} raw_builder;

/* The symbol id of raw bytes `s`, adding a non-token symbol when it is new. */
static int32_t raw_symbol(raw_builder *rb, const char *s, size_t len) {
    lai_vocab *v = rb->v;
    int32_t id = lai_strmap_get(&v->raw_map, s, len);
    if (id >= 0) return id;
    if (len > rb->cap - rb->used || v->n_symbols == INT32_MAX) return -1;
    memmove(v->raw + rb->used, s, len);
    int32_t fresh = v->n_symbols;
    if (lai_strmap_put(&v->raw_map, (uint32_t)rb->used, (uint32_t)len, fresh, NULL) != 1) return -1;
    rb->used += len;
    v->n_symbols++;
    return fresh;
}

localai_status lai_bpe_prepare(lai_vocab *v, const lai_vocab_spec *spec) {
    uint64_t cap = 0;
    for (int32_t i = 0; i < v->n_tokens; i++) cap += v->tok[i].len;
    for (uint64_t i = 0; i < spec->n_merges; i++) {
        uint64_t l = spec->merges[i].len;
        if (l > UINT32_MAX) return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.merges: merge %llu is too long", (unsigned long long)i);
        cap += 2 * l;
    }
    if (cap >= UINT32_MAX || spec->n_merges > INT32_MAX / 4)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tokenizer.ggml.merges: too many merges (%llu)",
                        (unsigned long long)spec->n_merges);
    v->raw = (char *)lai_malloc((size_t)cap + 8);
    if (v->raw == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary: merges");
    localai_status st = lai_strmap_init(&v->raw_map, (size_t)v->n_tokens + 2 * (size_t)spec->n_merges);
    if (st) return st;
    st = lai_pairmap_init(&v->merges, (size_t)spec->n_merges);
    if (st) return st;
    v->raw_map.base = v->raw;
    raw_builder rb = {v, 0, (size_t)cap + 8};
    v->n_symbols = v->n_tokens;

    for (int32_t i = 0; i < v->n_tokens; i++) {
        size_t n;
        if (!decode_raw(lai_vocab_text(v, i), v->tok[i].len, v->raw + rb.used, &n)) continue;
        if (lai_strmap_put(&v->raw_map, (uint32_t)rb.used, (uint32_t)n, i, NULL) == 1) rb.used += n;
    }

    char *tmp = (char *)lai_malloc(v->max_token_len * 2 + 16);
    size_t tmp_cap = v->max_token_len * 2 + 16;
    for (uint64_t i = 0; i < spec->n_merges && st == LOCALAI_STATUS_OK; i++) {
        const char *m = spec->merges[i].ptr;
        size_t len = (size_t)spec->merges[i].len;
        /* "left right": the separator is the first space after the first byte */
        const char *sp = len > 1 ? (const char *)memchr(m + 1, ' ', len - 1) : NULL;
        if (sp == NULL) continue;
        size_t ll = (size_t)(sp - m), rl = len - ll - 1;
        if (len * 2 > tmp_cap) {
            char *t = (char *)lai_realloc(tmp, len * 2);
            if (t == NULL) {
                st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary: merges");
                break;
            }
            tmp = t;
            tmp_cap = len * 2;
        }
        if (tmp == NULL) {
            st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary: merges");
            break;
        }
        size_t lraw, rraw;
        if (!decode_raw(m, ll, tmp, &lraw) || !decode_raw(sp + 1, rl, tmp + lraw, &rraw)) continue;
        int32_t left = raw_symbol(&rb, tmp, lraw);
        int32_t right = raw_symbol(&rb, tmp + lraw, rraw);
        int32_t result = raw_symbol(&rb, tmp, lraw + rraw);
        if (left < 0 || right < 0 || result < 0) {
            st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary: merges");
            break;
        }
        lai_pairmap_put(&v->merges, left, right, (int32_t)i, result);
    }
    lai_free(tmp);
    if (st) return st;

    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        v->byte_symbol[b] = lai_strmap_get(&v->raw_map, &c, 1);
        uint8_t enc[4];
        size_t n = lai_utf8_encode(lai_byte_to_cpt((uint8_t)b), enc);
        for (size_t k = 0; k < 2; k++)
            v->byte_fallback[b][k] = k < n ? lai_strmap_get(&v->text_map, (const char *)&enc[k], 1) : -1;
    }
    return LOCALAI_STATUS_OK;
}

/* ---- encoding ------------------------------------------------------------------------- */

typedef struct bpe_sym {
    int32_t id;
    int32_t prev, next;
    uint32_t start, len;
} bpe_sym;

typedef struct bpe_bigram {
    int32_t rank;
    int32_t left, right;
    uint32_t size;
    int32_t result;
} bpe_bigram;

typedef struct bpe_session {
    const lai_vocab *v;
    lai_tok_out *out;
    const uint8_t *bytes;   /* the fragment, re-encoded from its code points */
    const size_t *offs;     /* byte offset of each code point (n + 1 entries) */
    bpe_sym *sym;
    bpe_bigram *heap;
    size_t cap;             /* symbols the scratch holds */
    size_t n_heap;
    localai_status st;
} bpe_session;

static int bigram_before(const bpe_bigram *a, const bpe_bigram *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void heap_push(bpe_session *s, bpe_bigram g) {
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bigram_before(&g, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = g;
}

static bpe_bigram heap_pop(bpe_session *s) {
    bpe_bigram top = s->heap[0];
    bpe_bigram last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && bigram_before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!bigram_before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n > 0) s->heap[i] = last;
    return top;
}

static void add_bigram(bpe_session *s, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const bpe_sym *l = &s->sym[left], *r = &s->sym[right];
    if (l->id < 0 || r->id < 0) return;
    const lai_pairmap_entry *e = lai_pairmap_get(&s->v->merges, l->id, r->id);
    if (e == NULL) return;
    bpe_bigram g = {e->rank, left, right, l->len + r->len, e->result};
    heap_push(s, g);
}

static int ensure_scratch(bpe_session *s, size_t n) {
    if (n <= s->cap) return 1;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n) cap *= 2;
    if (cap > SIZE_MAX / (3 * sizeof(bpe_bigram))) return 0;
    bpe_sym *sym = (bpe_sym *)lai_realloc(s->sym, cap * sizeof *sym);
    if (sym == NULL) return 0;
    s->sym = sym;
    bpe_bigram *heap = (bpe_bigram *)lai_realloc(s->heap, 3 * cap * sizeof *heap);
    if (heap == NULL) return 0;
    s->heap = heap;
    s->cap = cap;
    return 1;
}

static void encode_word(bpe_session *s, const uint8_t *w, size_t len) {
    const lai_vocab *v = s->v;
    if (v->ignore_merges) {
        int32_t id = lai_strmap_get(&v->raw_map, (const char *)w, len);
        if (id >= 0 && id < v->n_tokens) {
            lai_tok_push(s->out, id);
            return;
        }
    }
    if (len == 1) {
        int32_t id = v->byte_symbol[w[0]];
        if (id >= 0 && id < v->n_tokens) {
            lai_tok_push(s->out, id);
            return;
        }
    }
    if (len > UINT32_MAX || !ensure_scratch(s, len)) {
        s->st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "tokenize: a word of %zu bytes", len);
        return;
    }
    bpe_sym *sym = s->sym;
    for (size_t i = 0; i < len; i++) {
        sym[i].id = v->byte_symbol[w[i]];
        sym[i].prev = (int32_t)i - 1;
        sym[i].next = i + 1 < len ? (int32_t)i + 1 : -1;
        sym[i].start = (uint32_t)i;
        sym[i].len = 1;
    }
    s->n_heap = 0;
    for (size_t i = 1; i < len; i++) add_bigram(s, (int32_t)i - 1, (int32_t)i);
    while (s->n_heap > 0) {
        bpe_bigram g = heap_pop(s);
        bpe_sym *l = &sym[g.left], *r = &sym[g.right];
        if (l->len == 0 || r->len == 0 || l->len + r->len != g.size) continue; /* stale */
        l->id = g.result;
        l->len += r->len;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = g.left;
        add_bigram(s, l->prev, g.left);
        add_bigram(s, g.left, l->next);
    }
    for (int32_t i = 0; i != -1; i = sym[i].next) {
        const bpe_sym *y = &sym[i];
        if (y->id >= 0 && y->id < v->n_tokens) {
            lai_tok_push(s->out, y->id);
            continue;
        }
        /* no token for this text: llama.cpp looks each byte of the encoded text up as a
         * one-byte token and drops what it does not find */
        for (uint32_t k = 0; k < y->len; k++) {
            uint8_t b = w[y->start + k];
            for (int j = 0; j < 2; j++)
                if (v->byte_fallback[b][j] >= 0) lai_tok_push(s->out, v->byte_fallback[b][j]);
        }
    }
}

static void on_piece(void *user, size_t b, size_t e) {
    bpe_session *s = (bpe_session *)user;
    if (s->st) return;
    encode_word(s, s->bytes + s->offs[b], s->offs[e] - s->offs[b]);
}

localai_status lai_bpe_tokenize(const lai_vocab *v, const char *text, size_t len,
                                lai_tok_out *out) {
    if (len == 0) return LOCALAI_STATUS_OK;
    /* per code point: value, offset, class; plus the re-encoded bytes (at most 3 per
     * input byte: an invalid byte becomes U+FFFD) */
    size_t per = sizeof(uint32_t) + sizeof(size_t) + 1 + 3, total;
    if (lai_mul_overflow_size(len + 1, per, &total))
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "tokenize: %zu bytes", len);
    char *mem = (char *)lai_malloc(total);
    if (mem == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "tokenize: %zu bytes", len);
    size_t *offs = (size_t *)mem;
    uint32_t *cpts = (uint32_t *)(offs + len + 1);
    uint8_t *flags = (uint8_t *)(cpts + len + 1);
    uint8_t *bytes = flags + len + 1;

    const uint8_t *src = (const uint8_t *)text;
    size_t pos = 0, n = 0, nb = 0;
    while (pos < len) {
        uint32_t cpt = lai_utf8_decode(src, len, &pos);
        offs[n] = nb;
        if (cpt > 0x10FFFF) cpt = LAI_UC_REPLACEMENT; /* llama.cpp cannot re-encode these */
        cpts[n] = cpt;
        flags[n] = lai_uc_flags(cpt);
        /* words are cut from the re-encoded code points, as in llama.cpp: invalid bytes
         * become U+FFFD, overlong forms their shortest form */
        if (cpt < 0x80) bytes[nb++] = (uint8_t)cpt;
        else nb += lai_utf8_encode(cpt, bytes + nb);
        n++;
    }
    offs[n] = nb;

    bpe_session s = {v, out, bytes, offs, NULL, NULL, 0, 0, LOCALAI_STATUS_OK};
    lai_pretok_text t = {cpts, flags, n};
    lai_pretok_split(v->pre, &t, on_piece, &s);
    lai_free(s.sym);
    lai_free(s.heap);
    lai_free(mem);
    return s.st;
}
