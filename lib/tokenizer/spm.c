/* spm.c - SentencePiece-style tokenization: merge adjacent pieces by best score, byte fallback. */
/*
 * As llama.cpp's SPM tokenizer: the text (spaces already written as U+2581) is cut into
 * UTF-8 characters by their lead bytes; every adjacent pair whose concatenation is a
 * token is queued with that token's score; the best score is merged first, the leftmost
 * on ties, and a queued pair is dropped when either side changed since. A final piece
 * that is not a token becomes its bytes' <0xXX> tokens.
 */
#include "vocab_internal.h"

#include "unicode.h"

typedef struct spm_sym {
    int32_t prev, next;
    uint32_t start, len;
} spm_sym;

typedef struct spm_bigram {
    float score;
    int32_t left, right;
    uint32_t size;
} spm_bigram;

static int before(const spm_bigram *a, const spm_bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

typedef struct spm_session {
    const lai_vocab *v;
    const char *text;
    spm_sym *sym;
    spm_bigram *heap;
    size_t n_heap;
} spm_session;

static void push(spm_session *s, spm_bigram g) {
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&g, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = g;
}

static spm_bigram pop(spm_session *s) {
    spm_bigram top = s->heap[0];
    spm_bigram last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n > 0) s->heap[i] = last;
    return top;
}

static void try_bigram(spm_session *s, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const spm_sym *l = &s->sym[left], *r = &s->sym[right];
    uint32_t size = l->len + r->len;
    int32_t id = lai_strmap_get(&s->v->text_map, s->text + l->start, size);
    if (id < 0) return;
    spm_bigram g = {s->v->tok[id].score, left, right, size};
    push(s, g);
}

/* Merges the symbols of text[0..len) and writes the tokens (one independent segment). */
static void merge_segment(spm_session *s, const char *text, size_t len, lai_tok_out *out) {
    const lai_vocab *v = s->v;
    s->text = text;
    s->n_heap = 0;
    int32_t n = 0;
    for (size_t off = 0; off < len;) {
        size_t cl = lai_utf8_lead_len((uint8_t)text[off]);
        if (cl > len - off) cl = len - off;
        s->sym[n].start = (uint32_t)off;
        s->sym[n].len = (uint32_t)cl;
        s->sym[n].prev = n - 1;
        off += cl;
        s->sym[n].next = off == len ? -1 : n + 1;
        n++;
    }
    for (int32_t i = 1; i < n; i++) try_bigram(s, i - 1, i);
    while (s->n_heap > 0) {
        spm_bigram g = pop(s);
        spm_sym *l = &s->sym[g.left], *r = &s->sym[g.right];
        if (l->len == 0 || r->len == 0 || l->len + r->len != g.size) continue;
        l->len += r->len;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0) s->sym[r->next].prev = g.left;
        try_bigram(s, l->prev, g.left);
        try_bigram(s, g.left, l->next);
    }
    for (int32_t i = 0; i != -1; i = s->sym[i].next) {
        const spm_sym *y = &s->sym[i];
        int32_t id = lai_strmap_get(&v->text_map, text + y->start, y->len);
        if (id >= 0) {
            lai_tok_push(out, id);
            continue;
        }
        for (uint32_t k = 0; k < y->len; k++) {
            int32_t b = v->spm_byte_token[(uint8_t)text[y->start + k]];
            if (b < 0) b = v->unk; /* llama.cpp has no answer here; the unknown token is ours */
            if (b >= 0) lai_tok_push(out, b);
        }
    }
}

static int is_space_mark(const char *p, size_t avail) {
    return avail >= 3 && memcmp(p, "\xE2\x96\x81", 3) == 0;
}

/* The end of the segment that starts at `from`: the next character that is U+2581 right
 * after one that is not. When no token holds U+2581 after another character
 * (v->spm_split_words), no pair across that point is ever a token, so merging the
 * segments apart gives what merging the whole text gives. */
static size_t segment_end(const lai_vocab *v, const char *text, size_t len, size_t from) {
    if (!v->spm_split_words) return len;
    size_t off = from;
    int prev_mark = 1;
    while (off < len) {
        size_t cl = lai_utf8_lead_len((uint8_t)text[off]);
        if (cl > len - off) cl = len - off;
        int mark = cl == 3 && is_space_mark(text + off, len - off);
        if (mark && !prev_mark && off > from) return off;
        prev_mark = mark;
        off += cl;
    }
    return len;
}

localai_status lai_spm_tokenize(const lai_vocab *v, const char *text, size_t len,
                                lai_tok_out *out) {
    if (len == 0) return LOCALAI_STATUS_OK;
    if (len > UINT32_MAX / 2)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "tokenize: text of %zu bytes is too long", len);
    spm_session s = {v, text, NULL, NULL, 0};
    size_t cap = 0;
    localai_status st = LOCALAI_STATUS_OK;
    for (size_t a = 0; a < len;) {
        size_t b = segment_end(v, text, len, a);
        size_t n = b - a;
        if (n > cap) {
            size_t want = n < 256 ? 256 : n;
            lai_free(s.sym);
            lai_free(s.heap);
            s.sym = (spm_sym *)lai_malloc(want * sizeof(spm_sym));
            s.heap = (spm_bigram *)lai_malloc(3 * want * sizeof(spm_bigram));
            if (s.sym == NULL || s.heap == NULL) {
                st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "tokenize: %zu bytes", len);
                break;
            }
            cap = want;
        }
        merge_segment(&s, text + a, n, out);
        a = b;
    }
    lai_free(s.sym);
    lai_free(s.heap);
    return st;
}
