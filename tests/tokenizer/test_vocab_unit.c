/* test_vocab_unit.c - SPM and BPE algorithms on small hand-made vocabularies, worked out by hand. */
#include "tokenizer/strmap.h"
#include "tokenizer/vocab_internal.h"
#include "test_util.h"

#define S(x) {x, sizeof(x) - 1}
#define SP "\xE2\x96\x81" /* U+2581, SentencePiece's space */

static int tok(const lai_vocab *v, const char *text, int add, int special, int32_t *ids) {
    lai_tok_out o = {ids, 32, 0};
    if (lai_vocab_tokenize(v, text, strlen(text), add, special, &o) != LOCALAI_STATUS_OK) return -1;
    return (int)o.count;
}

static int same(const int32_t *got, int n, const int32_t *want, int wn) {
    if (n != wn) return 0;
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) return 0;
    return 1;
}

#define EXPECT(v, text, add, special, ...)                                                   \
    do {                                                                                     \
        int32_t ids_[32];                                                                    \
        static const int32_t want_[] = {__VA_ARGS__};                                        \
        int n_ = tok(v, text, add, special, ids_);                                           \
        CHECK_MSG(same(ids_, n_, want_, (int)(sizeof want_ / sizeof want_[0])),              \
                  "'%s': got %d tokens, first %d", text, n_, n_ > 0 ? (int)ids_[0] : -1);    \
    } while (0)

static void spm(void) {
    static const lai_str tokens[] = {S("<unk>"), S("<s>"), S("</s>"), S(SP), S("a"), S("b"),
                                     S("ab"), S(SP "a"), S("<0x63>"), S("ba"), S("x"), S("y"),
                                     S("z"), S("xy"), S("yz"), S("<|end|>")};
    static const float scores[] = {0, 0, 0, -1, -2, -3, -0.5f, -0.1f, 0, -0.2f, -4, -4, -4, -1, -1, 0};
    static const int32_t types[] = {2, 3, 3, 1, 1, 1, 1, 1, 6, 1, 1, 1, 1, 1, 1, 3};
    lai_vocab_spec spec;
    lai_vocab_spec_init(&spec);
    spec.model = "llama";
    spec.name = "Phi3-mini"; /* special tokens eat the whitespace after them */
    spec.n_tokens = 16;
    spec.tokens = tokens;
    spec.scores = scores;
    spec.types = types;
    lai_vocab *v = NULL;
    CHECK_STATUS(lai_vocab_build(&spec, NULL, &v), LOCALAI_STATUS_OK);
    if (v == NULL) return;
    /* "▁a" (-0.1) first, then "ba" (-0.2); "ab" (-0.5) is stale by then */
    EXPECT(v, "aba", 0, 0, 7, 9);
    EXPECT(v, "aba", 1, 0, 1, 7, 9);
    /* 'c' has only its byte token; 'd' has none: the unknown token */
    EXPECT(v, "c", 0, 0, 3, 8);
    EXPECT(v, "d", 0, 0, 3, 0);
    /* equal scores: the leftmost pair merges first */
    EXPECT(v, "xyz", 0, 0, 3, 13, 12);
    /* special tokens: split only when parsing them; RSTRIP eats the spaces after */
    EXPECT(v, "a<|end|>  ab", 0, 1, 7, 15, 7, 5); /* text after a special gets the space prefix */
    EXPECT(v, "<s>a", 0, 1, 1, 7);
    CHECK(lai_vocab_is_eog(v, 15) && lai_vocab_is_eog(v, 2) && !lai_vocab_is_eog(v, 1));
    CHECK(v->eot == 15);
    size_t len = 0;
    const char *p = lai_vocab_piece(v, 7, 0, &len);
    CHECK(len == 2 && memcmp(p, " a", 2) == 0);
    p = lai_vocab_piece(v, 8, 0, &len);
    CHECK(len == 1 && p[0] == 'c');
    lai_vocab_free(v);
}

static void bpe(void) {
    /* byte-level texts: 'Ġ' (U+0120) stands for the space byte */
    static const lai_str tokens[] = {S("a"), S("b"), S("c"), S("\xC4\xA0"), S("ab"), S("bc"),
                                     S("abc"), S("\xC4\xA0" "a"), S("<|endoftext|>")};
    static const int32_t types[] = {1, 1, 1, 1, 1, 1, 1, 1, 3};
    static const lai_str merges[] = {S("a b"), S("b c"), S("ab c"), S("\xC4\xA0 a")};
    lai_vocab_spec spec;
    lai_vocab_spec_init(&spec);
    spec.model = "gpt2";
    spec.pre = "gpt-2";
    spec.n_tokens = 9;
    spec.tokens = tokens;
    spec.types = types;
    spec.n_merges = 4;
    spec.merges = merges;
    lai_vocab *v = NULL;
    CHECK_STATUS(lai_vocab_build(&spec, NULL, &v), LOCALAI_STATUS_OK);
    if (v == NULL) return;
    EXPECT(v, "abc", 0, 0, 6);        /* a+b (rank 0), then ab+c (rank 2) */
    EXPECT(v, "bc", 0, 0, 5);
    EXPECT(v, "cab", 0, 0, 2, 4);
    /* " abc" is one word: a+b (rank 0) goes before Ġ+a (rank 3), then ab+c */
    EXPECT(v, "a abc", 0, 0, 0, 3, 6);
    EXPECT(v, "a ab", 0, 0, 0, 3, 4);
    EXPECT(v, "a<|endoftext|>", 0, 1, 0, 8);
    int32_t ids[32];
    CHECK(tok(v, "d", 0, 0, ids) == 0); /* no token for the byte: dropped, as in llama.cpp */
    lai_vocab_free(v);
}

static void errors(void) {
    static const lai_str dup[] = {S("a"), S("a")};
    lai_vocab_spec spec;
    lai_vocab_spec_init(&spec);
    spec.model = "llama";
    spec.n_tokens = 2;
    spec.tokens = dup;
    lai_vocab *v = NULL;
    CHECK_STATUS(lai_vocab_build(&spec, NULL, &v), LOCALAI_STATUS_BAD_FORMAT);
    CHECK(strstr(localai_errmsg(), "duplicate") != NULL);
    static const lai_str one[] = {S("a"), S("")};
    spec.tokens = one;
    CHECK_STATUS(lai_vocab_build(&spec, NULL, &v), LOCALAI_STATUS_OK);
    if (v) {
        CHECK(strcmp(lai_vocab_text(v, 1), "[EMPTY_1]") == 0); /* as llama.cpp names it */
        lai_vocab_free(v);
    }
    spec.model = "t5";
    CHECK_STATUS(lai_vocab_build(&spec, NULL, &v), LOCALAI_STATUS_UNSUPPORTED);
    CHECK(strstr(localai_errmsg(), "t5") != NULL);
    spec.model = "gpt2";
    spec.pre = "no-such-pre";
    CHECK_STATUS(lai_vocab_build(&spec, NULL, &v), LOCALAI_STATUS_UNSUPPORTED);
    CHECK(strstr(localai_errmsg(), "no-such-pre") != NULL);
}

/* The maps hash with a per-map seed (keys come from untrusted files): two maps of the same
 * keys get different seeds and lay the keys out differently, and lookups stay exact. */
static void seeded_maps(void) {
    enum { N = 2000 };
    static char arena[N * 8];
    for (int i = 0; i < N; i++) snprintf(arena + 8 * i, 8, "k%06d", i);
    lai_strmap a, b;
    CHECK_STATUS(lai_strmap_init(&a, N), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_strmap_init(&b, N), LOCALAI_STATUS_OK);
    a.base = b.base = arena;
    CHECK(a.seed != b.seed);
    for (int i = 0; i < N; i++) {
        CHECK(lai_strmap_put(&a, (uint32_t)(8 * i), 7, i, NULL) == 1);
        CHECK(lai_strmap_put(&b, (uint32_t)(8 * i), 7, i, NULL) == 1);
    }
    int same_slot = 0;
    for (size_t i = 0; i <= a.mask; i++)
        if (a.slots[i].len_plus1 && b.slots[i].len_plus1 && a.slots[i].off == b.slots[i].off) same_slot++;
    CHECK_MSG(same_slot < N / 4, "%d of %d keys sit in the same slot in both maps", same_slot, N);
    for (int i = 0; i < N; i++) {
        CHECK(lai_strmap_get(&a, arena + 8 * i, 7) == i);
        CHECK(lai_strmap_get(&b, arena + 8 * i, 7) == i);
    }
    CHECK(lai_strmap_get(&a, "absent!", 7) == -1);
    lai_strmap_free(&a);
    lai_strmap_free(&b);

    lai_pairmap p, q;
    CHECK_STATUS(lai_pairmap_init(&p, N), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_pairmap_init(&q, N), LOCALAI_STATUS_OK);
    CHECK(p.seed != q.seed);
    for (int i = 0; i < N; i++) {
        lai_pairmap_put(&p, i, i + 1, i, 7 * i);
        lai_pairmap_put(&q, i, i + 1, i, 7 * i);
    }
    for (int i = 0; i < N; i++) {
        const lai_pairmap_entry *e = lai_pairmap_get(&p, i, i + 1);
        CHECK(e != NULL && e->rank == i && e->result == 7 * i);
        CHECK(lai_pairmap_get(&q, i, i + 1) != NULL);
    }
    CHECK(lai_pairmap_get(&p, 5, 5) == NULL);
    lai_pairmap_free(&p);
    lai_pairmap_free(&q);
}

int main(void) {
    seeded_maps();
    spm();
    bpe();
    errors();
    return test_finish("test_vocab_unit");
}
