/* test_pretok_regex.c - each hand-written splitter pass against a backtracking matcher of its regex. */
/*
 * A small regex engine for the subset llama.cpp's pre-tokenizer regexes use (literals,
 * classes with ranges, \s \S \p{L} \p{N} \p{P}, groups, alternation in order, greedy
 * ? * + {m,n}, negative lookahead, $), written for this test only. Splitting follows
 * std::regex_iterator: leftmost match, then continue after it; text between matches is
 * a piece too. As in llama.cpp, \s is White_Space, and a regex without \p{..} sees
 * non-ASCII whitespace as U+000B.
 */
#include "tokenizer/pretok.h"
#include "tokenizer/unicode.h"
#include "test_util.h"

#include <stdint.h>

enum { N_CHAR, N_CLASS, N_SEQ, N_ALT, N_REP, N_NEGLOOK, N_EOL };

#define MAX_ITEMS 160

typedef struct node {
    int type;
    uint32_t cpt;                      /* N_CHAR */
    int negated;                       /* N_CLASS */
    int n_ranges;
    uint32_t lo[MAX_ITEMS], hi[MAX_ITEMS];
    uint8_t flag_mask;                 /* \p{..} and \s bits in a class */
    int not_space;                     /* \S */
    struct node *kids[64];             /* N_SEQ, N_ALT; N_REP/N_NEGLOOK use kids[0] */
    int n_kids;
    int min, max;                      /* N_REP */
} node;

static node pool[4096];
static int pool_used;

static node *new_node(int type) {
    node *n = &pool[pool_used++];
    memset(n, 0, sizeof *n);
    n->type = type;
    return n;
}

/* ---- parser -------------------------------------------------------------------------- */

static const char *rp; /* parse position */

static uint32_t next_cpt(void) {
    size_t pos = 0, n = strlen(rp);
    uint32_t c = lai_utf8_decode((const uint8_t *)rp, n, &pos);
    rp += pos;
    return c;
}

static uint8_t prop_flag(void) { /* after "\p" */
    rp++; /* { */
    uint8_t f = rp[0] == 'L' ? LAI_UC_LETTER : rp[0] == 'N' ? LAI_UC_NUMBER : LAI_UC_PUNCT;
    while (*rp != '}') rp++;
    rp++;
    return f;
}

static uint32_t escape_char(char c) {
    return c == 'r' ? '\r' : c == 'n' ? '\n' : c == 't' ? '\t' : (uint32_t)(unsigned char)c;
}

static node *parse_class(void) {
    node *n = new_node(N_CLASS);
    if (*rp == '^') {
        n->negated = 1;
        rp++;
    }
    while (*rp && *rp != ']') {
        uint32_t lo;
        if (*rp == '\\') {
            rp++;
            char e = *rp++;
            if (e == 's') { n->flag_mask |= LAI_UC_WHITESPACE; continue; }
            if (e == 'p') { n->flag_mask |= prop_flag(); continue; }
            lo = escape_char(e);
        } else {
            lo = next_cpt();
        }
        uint32_t hi = lo;
        if (rp[0] == '-' && rp[1] != ']') {
            rp++;
            if (*rp == '\\') {
                rp++;
                hi = escape_char(*rp++);
            } else {
                hi = next_cpt();
            }
        }
        n->lo[n->n_ranges] = lo;
        n->hi[n->n_ranges++] = hi;
    }
    rp++;
    return n;
}

static node *parse_alt(void);

static node *parse_atom(void) {
    if (*rp == '(') {
        rp++;
        int neg = 0;
        if (rp[0] == '?' && rp[1] == ':') rp += 2;
        else if (rp[0] == '?' && rp[1] == '!') { rp += 2; neg = 1; }
        node *inner = parse_alt();
        rp++; /* ) */
        if (neg) {
            node *n = new_node(N_NEGLOOK);
            n->kids[0] = inner;
            return n;
        }
        return inner;
    }
    if (*rp == '[') {
        rp++;
        return parse_class();
    }
    if (*rp == '$') {
        rp++;
        return new_node(N_EOL);
    }
    if (*rp == '\\') {
        rp++;
        char e = *rp++;
        if (e == 's' || e == 'S' || e == 'p') {
            node *n = new_node(N_CLASS);
            if (e == 'p') n->flag_mask = prop_flag();
            else n->flag_mask = LAI_UC_WHITESPACE;
            n->negated = e == 'S';
            return n;
        }
        node *n = new_node(N_CHAR);
        n->cpt = escape_char(e);
        return n;
    }
    node *n = new_node(N_CHAR);
    n->cpt = next_cpt();
    return n;
}

static node *parse_seq(void) {
    node *seq = new_node(N_SEQ);
    while (*rp && *rp != '|' && *rp != ')') {
        node *a = parse_atom();
        if (*rp == '?' || *rp == '*' || *rp == '+' || *rp == '{') {
            node *r = new_node(N_REP);
            r->kids[0] = a;
            char q = *rp++;
            r->min = q == '+' ? 1 : 0;
            r->max = q == '?' ? 1 : 1 << 30;
            if (q == '{') {
                r->min = (int)strtol(rp, (char **)&rp, 10);
                r->max = r->min;
                if (*rp == ',') {
                    rp++;
                    r->max = *rp == '}' ? 1 << 30 : (int)strtol(rp, (char **)&rp, 10);
                }
                rp++; /* } */
            }
            a = r;
        }
        seq->kids[seq->n_kids++] = a;
    }
    return seq;
}

static node *parse_alt(void) {
    node *alt = new_node(N_ALT);
    alt->kids[alt->n_kids++] = parse_seq();
    while (*rp == '|') {
        rp++;
        alt->kids[alt->n_kids++] = parse_seq();
    }
    return alt;
}

static node *compile(const char *re) {
    rp = re;
    return parse_alt();
}

/* ---- matcher ------------------------------------------------------------------------- */

typedef struct subject {
    const uint32_t *cpt; /* non-ASCII whitespace already U+000B */
    const uint8_t *flags;
    size_t end;
} subject;

static const subject *S;

typedef struct cont {
    const node *n;
    int count;
    const struct cont *next;
} cont;

static size_t match(const node *n, size_t i, const cont *k);

static int class_has(const node *n, size_t i) {
    uint8_t f = S->flags[i];
    int in = (f & n->flag_mask) != 0;
    for (int r = 0; !in && r < n->n_ranges; r++) in = S->cpt[i] >= n->lo[r] && S->cpt[i] <= n->hi[r];
    return n->negated ? !in : in;
}

/* Runs the continuation at position i; returns end + 1 of the whole match, 0 if none. */
static size_t run(const cont *k, size_t i) {
    if (k == NULL) return i + 1;
    const node *n = k->n;
    if (n->type == N_SEQ) {
        if (k->count == n->n_kids) return run(k->next, i);
        cont c = {n, k->count + 1, k->next};
        return match(n->kids[k->count], i, &c);
    }
    /* N_REP: one more repetition matched, ending at i */
    int count = k->count;
    if (count < n->max) {
        cont c = {n, count + 1, k->next};
        size_t r = match(n->kids[0], i, &c);
        if (r) return r;
    }
    return count >= n->min ? run(k->next, i) : 0;
}

static size_t match(const node *n, size_t i, const cont *k) {
    switch (n->type) {
    case N_CHAR:
        return i < S->end && S->cpt[i] == n->cpt ? run(k, i + 1) : 0;
    case N_CLASS:
        return i < S->end && class_has(n, i) ? run(k, i + 1) : 0;
    case N_SEQ: {
        cont c = {n, 0, k};
        return run(&c, i);
    }
    case N_ALT:
        for (int a = 0; a < n->n_kids; a++) {
            size_t r = match(n->kids[a], i, k);
            if (r) return r;
        }
        return 0;
    case N_REP: {
        if (n->max > 0) {
            cont c = {n, 1, k};
            size_t r = match(n->kids[0], i, &c);
            if (r) return r;
        }
        return n->min == 0 ? run(k, i) : 0;
    }
    case N_NEGLOOK:
        return match(n->kids[0], i, NULL) ? 0 : run(k, i);
    case N_EOL:
        return i == S->end ? run(k, i) : 0;
    }
    return 0;
}

/* ---- splitting and comparison -------------------------------------------------------- */

typedef struct pieces {
    size_t b[512], e[512];
    size_t n;
} pieces;

static void add_piece(void *user, size_t b, size_t e) {
    pieces *p = (pieces *)user;
    if (p->n < 512) {
        p->b[p->n] = b;
        p->e[p->n] = e;
    }
    p->n++;
}

static void regex_split(const node *re, const lai_pretok_text *t, size_t b, size_t e, pieces *out) {
    static uint32_t mapped[512];
    for (size_t i = 0; i < t->n; i++)
        mapped[i] = t->cpts[i] >= 0x80 && (t->flags[i] & LAI_UC_WHITESPACE) ? 0x0B : t->cpts[i];
    static subject s;
    s.cpt = mapped + b;
    s.flags = t->flags + b;
    s.end = e - b;
    S = &s;
    size_t gap = 0, p = 0;
    while (p < s.end) {
        size_t r = match(re, p, NULL);
        if (r > p + 1) {
            if (gap < p) add_piece(out, b + gap, b + p);
            add_piece(out, b + p, b + r - 1);
            gap = p = r - 1;
        } else {
            p++;
        }
    }
    if (gap < s.end) add_piece(out, b + gap, e);
}

#define GPT2_RE "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define LLAMA3_RE(n)                                                                                \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" n \
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define DS_LETTERS                                                                                 \
    "\\s?[A-Za-z\xc2\xb5\xc3\x80-\xc3\x96\xc3\x98-\xc3\xb6\xc3\xb8-\xc6\xba\xc6\xbc-\xc6\xbf\xc7\x84-"  \
    "\xca\x93\xca\x95-\xca\xaf\xcd\xb0-\xcd\xb3\xcd\xb6\xcd\xb7\xcd\xbb-\xcd\xbd\xcd\xbf\xce\x86\xce\x88-" \
    "\xce\x8a\xce\x8c\xce\x8e-\xce\xa1\xce\xa3-\xcf\xb5\xcf\xb7-\xd2\x81\xd2\x8a-\xd4\xaf\xd4\xb1-\xd5\x96]+"
#define CJK "[\xe4\xb8\x80-\xe9\xbe\xa5\xe0\xa0\x80-\xe4\xb8\x80\xea\xb0\x80-\xed\x9f\xbf]+"

typedef struct chain_re {
    lai_pretok_kind kind;
    const char *re[7];
} chain_re;

/* The regexes of each chain, as llama.cpp lists them (deepseek-llm's long letter list is
 * cut to its first ranges here, and the test texts use no letter past them; the whole
 * list is checked against llama.cpp in test_pretok_vectors). */
static const chain_re chains[] = {
    {LAI_PRETOK_DEFAULT, {"[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2_RE, "\\p{N}+", "[0-9][0-9][0-9]"}},
    {LAI_PRETOK_GPT2, {GPT2_RE}},
    {LAI_PRETOK_LLAMA3, {LLAMA3_RE("{1,3}")}},
    {LAI_PRETOK_QWEN2, {LLAMA3_RE("")}},
    {LAI_PRETOK_DEEPSEEK_LLM,
     {"[\\r\\n]", DS_LETTERS,
      "\\s?[!-/:-~\xef\xbc\x81-\xef\xbc\x8f\xef\xbc\x9a-\xef\xbd\x9e\xe2\x80\x98-\xe2\x80\x9f\xe3\x80\x80-\xe3\x80\x82]+",
      "\\s+$", CJK, "\\p{N}+"}},
    {LAI_PRETOK_DEEPSEEK_CODER, {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}"}},
    {LAI_PRETOK_FALCON, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2_RE, "[0-9][0-9][0-9]"}},
    {LAI_PRETOK_STARCODER, {"\\p{N}", GPT2_RE}},
    {LAI_PRETOK_BLOOM,
     {" ?[^(\\s|.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c\xe3\x80\x81\xe0\xa5\xa4\xdb\x94\xd8\x8c)]+"}},
    {LAI_PRETOK_VIKING,
     {" ?[^(\\s|.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c\xe3\x80\x81\xe0\xa5\xa4\xdb\x94\xd8\x8c)]+",
      "\\p{N}"}},
};

static uint64_t rs = 0x1234567887654321ull;
static uint32_t rnd(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 20);
}

static uint32_t random_cpt(void) {
    static const uint32_t pick[] = {' ', ' ', ' ', '\n', '\r', '\t', '\'', 's', 'S', 't', 'l', 'L',
                                    'e', 'r', 'v', 'd', 'm', 'a', 'Z', '0', '7', '9', '.', ',',
                                    '!', '?', '(', ')', '|', '$', '+', '<', '=', '^', '~', '`',
                                    '_', '-', '#', 0xA0, 0x3000, 0x2028, 0x85, 0x0B, 0x1C, 0x00,
                                    0xE9, 0x3A9, 0x416, 0x4E2D, 0x6587, 0xAC00, 0x0660, 0x00B2,
                                    0x2026, 0x3002, 0xFF0C, 0x3001, 0x0964, 0x06D4, 0x060C,
                                    0xFF01, 0x2018, 0x0301, 0x1F600, 0x0378, 0xE000, 0x20AC,
                                    0x00B5, 0x0800, 0x10FFFF, 0x0386, 0x0531};
    return pick[rnd() % (sizeof pick / sizeof pick[0])];
}

int main(void) {
    uint32_t cpts[64];
    uint8_t flags[64];
    int mismatches = 0, compared = 0;
    for (size_t c = 0; c < sizeof chains / sizeof chains[0]; c++) {
        const chain_re *ch = &chains[c];
        size_t n_pass = lai_pretok_n_passes(ch->kind);
        for (size_t pass = 0; pass < n_pass; pass++) {
            CHECK_MSG(ch->re[pass] != NULL, "kind %d pass %zu has no regex", ch->kind, pass);
            if (ch->re[pass] == NULL) continue;
            pool_used = 0;
            node *re = compile(ch->re[pass]);
            for (int iter = 0; iter < 3000; iter++) {
                size_t n = 1 + rnd() % 24;
                for (size_t i = 0; i < n; i++) {
                    cpts[i] = random_cpt();
                    flags[i] = lai_uc_flags(cpts[i]);
                }
                lai_pretok_text t = {cpts, flags, n};
                pieces want = {{0}, {0}, 0}, got = {{0}, {0}, 0};
                regex_split(re, &t, 0, n, &want);
                lai_pretok_split_pass(ch->kind, pass, &t, 0, n, add_piece, &got);
                compared++;
                int same = want.n == got.n;
                for (size_t i = 0; same && i < want.n && i < 512; i++)
                    same = want.b[i] == got.b[i] && want.e[i] == got.e[i];
                if (!same && mismatches++ < 5) {
                    fprintf(stderr, "kind %d pass %zu (%s): text", ch->kind, pass, ch->re[pass]);
                    for (size_t i = 0; i < n; i++) fprintf(stderr, " %04X", (unsigned)cpts[i]);
                    fprintf(stderr, "\n  regex:");
                    for (size_t i = 0; i < want.n; i++) fprintf(stderr, " [%zu,%zu)", want.b[i], want.e[i]);
                    fprintf(stderr, "\n  ours: ");
                    for (size_t i = 0; i < got.n; i++) fprintf(stderr, " [%zu,%zu)", got.b[i], got.e[i]);
                    fprintf(stderr, "\n");
                }
            }
        }
    }
    printf("splitter passes vs regexes: %d texts compared, %d differ\n", compared, mismatches);
    CHECK(mismatches == 0);
    return test_finish("test_pretok_regex");
}
