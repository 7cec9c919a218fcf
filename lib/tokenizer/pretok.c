/* pretok.c - pre-tokenizer splitters: each pass stands for one regex of llama.cpp's chain. */
/*
 * llama.cpp splits text with a list of regexes applied one after another: every piece
 * produced by one regex (its matches and the gaps between them) is split again by the
 * next. Two regexes (GPT-2's and Llama 3's) have hand-written splitters there; the
 * others run through std::regex on a "collapsed" text where each non-ASCII code point
 * becomes one byte for its class (whitespace first). Each pass below reproduces the
 * matches of one regex under those rules: leftmost match, alternatives tried in order,
 * greedy quantifiers. Whitespace (\s) is the White_Space property; \p{L}, \p{N}, \p{P}
 * are general categories.
 */
#include "pretok.h"

#include "unicode.h"

#include <string.h>

#define LAI_ARRAY_LEN_(a) (sizeof(a) / sizeof((a)[0]))
#define LAI_MIN_(a, b) ((a) < (b) ? (a) : (b))

enum {
    P_END = 0,
    P_GPT2,          /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
    P_LLAMA3,        /* (?i:'s|..)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
    P_QWEN2,         /* the same with \p{N} instead of \p{N}{1,3} */
    P_PUNCT_DEFAULT, /* [\p{P}\$\+<=>\^~\|]+ */
    P_PUNCT_FALCON,  /* [\p{P}\$\+<=>\^~\|`]+ */
    P_NUM_RUN,       /* \p{N}+ */
    P_NUM_ONE,       /* \p{N} */
    P_3DIGITS,       /* [0-9][0-9][0-9] */
    P_NEWLINE,       /* [\r\n] */
    P_DS_LETTERS,    /* \s?[A-Za-zµÀ-Ö...]+ (deepseek-llm's list of cased letters) */
    P_DS_PUNCT,      /* \s?[!-/:-~！-／：-～‘-‟　-。]+ */
    P_TRAIL_WS,      /* \s+$ */
    P_CJK,           /* [一-龥ࠀ-一가-퟿]+ */
    P_SP_LETTERS,    /* \s?\p{L}+ */
    P_SP_PUNCT,      /* \s?\p{P}+ */
    P_BLOOM          /*  ?[^(\s|.,!?…。，、।۔،)]+ */
};

#define MAX_PASSES 7

static const uint8_t chains[LAI_PRETOK_COUNT][MAX_PASSES] = {
    [LAI_PRETOK_DEFAULT] = {P_PUNCT_DEFAULT, P_GPT2, P_NUM_RUN, P_3DIGITS},
    [LAI_PRETOK_GPT2] = {P_GPT2},
    [LAI_PRETOK_LLAMA3] = {P_LLAMA3},
    [LAI_PRETOK_QWEN2] = {P_QWEN2},
    [LAI_PRETOK_DEEPSEEK_LLM] = {P_NEWLINE, P_DS_LETTERS, P_DS_PUNCT, P_TRAIL_WS, P_CJK,
                                 P_NUM_RUN},
    [LAI_PRETOK_DEEPSEEK_CODER] = {P_NEWLINE, P_SP_LETTERS, P_SP_PUNCT, P_CJK, P_NUM_ONE},
    [LAI_PRETOK_FALCON] = {P_PUNCT_FALCON, P_GPT2, P_3DIGITS},
    [LAI_PRETOK_STARCODER] = {P_NUM_ONE, P_GPT2},
    [LAI_PRETOK_BLOOM] = {P_BLOOM},
    [LAI_PRETOK_VIKING] = {P_BLOOM, P_NUM_ONE},
};

typedef struct chain {
    const lai_pretok_text *t;
    const uint8_t *passes;
    size_t n_passes;
    lai_piece_fn fn;
    void *user;
} chain;

static void run(const chain *c, size_t k, size_t b, size_t e);

static void emit(const chain *c, size_t k, size_t b, size_t e) {
    if (b < e) run(c, k + 1, b, e);
}

/* ---- classes ---------------------------------------------------------------------- */

#define WS(f) ((f) & LAI_UC_WHITESPACE)
#define LETTER(f) ((f) & LAI_UC_LETTER)
#define NUMBER(f) ((f) & LAI_UC_NUMBER)

/* Coarse class for the hand-written splitters: letter, number, whitespace, other. */
enum { C_NONE, C_L, C_N, C_WS, C_O };

static int cls_at(const lai_pretok_text *t, size_t i, size_t e) {
    if (i >= e) return C_NONE;
    uint8_t f = t->flags[i];
    if (WS(f)) return C_WS;
    if (LETTER(f)) return C_L;
    if (NUMBER(f)) return C_N;
    return C_O;
}

typedef struct range {
    uint32_t lo, hi;
} range;

static int in_ranges(const range *r, size_t n, uint32_t cpt) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cpt < r[mid].lo) hi = mid;
        else if (cpt > r[mid].hi) lo = mid + 1;
        else return 1;
    }
    return 0;
}

/* deepseek-llm's letter list, as code points (sorted). */
static const range ds_letters[] = {
    {0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6},
    {0x00D8, 0x00F6}, {0x00F8, 0x01BA}, {0x01BC, 0x01BF}, {0x01C4, 0x0293},
    {0x0295, 0x02AF}, {0x0370, 0x0373}, {0x0376, 0x0377}, {0x037B, 0x037D},
    {0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A}, {0x038C, 0x038C},
    {0x038E, 0x03A1}, {0x03A3, 0x03F5}, {0x03F7, 0x0481}, {0x048A, 0x052F},
    {0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77},
    {0x1D79, 0x1D9A}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D}, {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC},
    {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115},
    {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128},
    {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F},
    {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B},
    {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D},
    {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787}, {0xA78B, 0xA78E},
    {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

static const range ds_punct[] = {
    {0x21, 0x2F}, {0x3A, 0x7E}, {0x2018, 0x201F}, {0x3000, 0x3002}, {0xFF01, 0xFF0F},
    {0xFF1A, 0xFF5E},
};

static const range cjk[] = {{0x0800, 0x9FA5}, {0xAC00, 0xD7FF}};

/* The regexes without \p{..} run on code points where non-ASCII whitespace was
 * replaced by U+000B, so such whitespace never falls in their explicit ranges. */
static int is_ds_letter(uint32_t cpt, uint8_t f) {
    return !WS(f) && in_ranges(ds_letters, LAI_ARRAY_LEN_(ds_letters), cpt);
}
static int is_ds_punct(uint32_t cpt, uint8_t f) {
    return !WS(f) && in_ranges(ds_punct, LAI_ARRAY_LEN_(ds_punct), cpt);
}
static int is_cjk(uint32_t cpt, uint8_t f) {
    return !WS(f) && in_ranges(cjk, LAI_ARRAY_LEN_(cjk), cpt);
}
static int is_letter(uint32_t cpt, uint8_t f) {
    (void)cpt;
    return LETTER(f) != 0;
}
static int is_punct(uint32_t cpt, uint8_t f) {
    (void)cpt;
    return (f & LAI_UC_PUNCT) && !WS(f);
}
static int is_number(uint32_t cpt, uint8_t f) {
    (void)cpt;
    return NUMBER(f) != 0;
}
static int is_punct_default(uint32_t cpt, uint8_t f) {
    if (is_punct(cpt, f)) return 1;
    return cpt == '$' || cpt == '+' || cpt == '<' || cpt == '=' || cpt == '>' || cpt == '^' ||
           cpt == '~' || cpt == '|';
}
static int is_punct_falcon(uint32_t cpt, uint8_t f) {
    return is_punct_default(cpt, f) || cpt == '`';
}
static int is_bloom_word(uint32_t cpt, uint8_t f) {
    if (WS(f)) return 0;
    switch (cpt) {
    case '(': case '|': case '.': case ',': case '!': case '?': case ')':
    case 0x2026: case 0x3002: case 0xFF0C: case 0x3001: case 0x0964: case 0x06D4:
    case 0x060C:
        return 0;
    default:
        return 1;
    }
}

typedef int (*class_fn)(uint32_t cpt, uint8_t f);

/* ---- generic regex shapes ----------------------------------------------------------- */

/* C+ : maximal runs of the class; everything between them is a gap piece. */
static void split_runs(const chain *c, size_t k, size_t b, size_t e, class_fn in) {
    const lai_pretok_text *t = c->t;
    size_t gap = b, p = b;
    while (p < e) {
        if (!in(t->cpts[p], t->flags[p])) {
            p++;
            continue;
        }
        size_t q = p + 1;
        while (q < e && in(t->cpts[q], t->flags[q])) q++;
        emit(c, k, gap, p);
        emit(c, k, p, q);
        gap = p = q;
    }
    emit(c, k, gap, e);
}

/* \s?C+ : a run of the class, with one whitespace before it taken along. */
static void split_ws_runs(const chain *c, size_t k, size_t b, size_t e, class_fn in) {
    const lai_pretok_text *t = c->t;
    size_t gap = b, p = b;
    while (p < e) {
        size_t start;
        if (WS(t->flags[p]) && p + 1 < e && in(t->cpts[p + 1], t->flags[p + 1])) start = p + 1;
        else if (in(t->cpts[p], t->flags[p])) start = p;
        else {
            p++;
            continue;
        }
        size_t q = start + 1;
        while (q < e && in(t->cpts[q], t->flags[q])) q++;
        emit(c, k, gap, p);
        emit(c, k, p, q);
        gap = p = q;
    }
    emit(c, k, gap, e);
}

/* C (one code point at a time). */
static void split_singles(const chain *c, size_t k, size_t b, size_t e, class_fn in) {
    const lai_pretok_text *t = c->t;
    size_t gap = b;
    for (size_t p = b; p < e; p++) {
        if (!in(t->cpts[p], t->flags[p])) continue;
        emit(c, k, gap, p);
        emit(c, k, p, p + 1);
        gap = p + 1;
    }
    emit(c, k, gap, e);
}

static int is_ascii_digit(uint32_t cpt, uint8_t f) {
    (void)f;
    return cpt >= '0' && cpt <= '9';
}
static int is_newline(uint32_t cpt, uint8_t f) {
    (void)f;
    return cpt == '\r' || cpt == '\n';
}

static void split_3digits(const chain *c, size_t k, size_t b, size_t e) {
    const uint32_t *s = c->t->cpts;
    size_t gap = b, p = b;
    while (p + 3 <= e) {
        if (is_ascii_digit(s[p], 0) && is_ascii_digit(s[p + 1], 0) && is_ascii_digit(s[p + 2], 0)) {
            emit(c, k, gap, p);
            emit(c, k, p, p + 3);
            gap = p = p + 3;
        } else {
            p++;
        }
    }
    emit(c, k, gap, e);
}

static void split_trailing_ws(const chain *c, size_t k, size_t b, size_t e) {
    size_t q = e;
    while (q > b && WS(c->t->flags[q - 1])) q--;
    emit(c, k, b, q);
    emit(c, k, q, e);
}

/* ---- GPT-2 ------------------------------------------------------------------------- */

static void split_gpt2(const chain *c, size_t k, size_t b, size_t e) {
    const lai_pretok_text *t = c->t;
    const uint32_t *s = t->cpts;
    size_t pos = b;
    while (pos < e) {
        uint32_t cpt = s[pos];
        if (cpt == '\'' && pos + 1 < e) {
            uint32_t n1 = s[pos + 1];
            if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
                emit(c, k, pos, pos + 2);
                pos += 2;
                continue;
            }
            if (pos + 2 < e) {
                uint32_t n2 = s[pos + 2];
                if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
                    emit(c, k, pos, pos + 3);
                    pos += 3;
                    continue;
                }
            }
        }
        /*  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+ */
        size_t first = pos + (cpt == ' ');
        int k2 = cls_at(t, first, e);
        if (k2 == C_L || k2 == C_N || k2 == C_O) {
            size_t q = first;
            while (cls_at(t, q, e) == k2) q++;
            emit(c, k, pos, q);
            pos = q;
            continue;
        }
        size_t nws = 0;
        while (pos + nws < e && WS(t->flags[pos + nws])) nws++;
        if (nws > 1 && pos + nws < e) {
            emit(c, k, pos, pos + nws - 1);
            pos += nws - 1;
        } else if (nws > 0) {
            emit(c, k, pos, pos + nws);
            pos += nws;
        } else {
            emit(c, k, pos, pos + 1);
            pos++;
        }
    }
}

/* ---- Llama 3 / Qwen 2 -------------------------------------------------------------- */

static void split_llama3(const chain *c, size_t k, size_t b, size_t e, size_t max_digits) {
    const lai_pretok_text *t = c->t;
    const uint32_t *s = t->cpts;
    size_t pos = b;
    while (pos < e) {
        uint32_t cpt = s[pos];
        uint8_t f = t->flags[pos];
        if (cpt == '\'' && pos + 1 < e) {
            uint32_t n1 = lai_uc_tolower(s[pos + 1]);
            if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
                emit(c, k, pos, pos + 2);
                pos += 2;
                continue;
            }
            if (pos + 2 < e) {
                uint32_t n2 = lai_uc_tolower(s[pos + 2]);
                if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
                    emit(c, k, pos, pos + 3);
                    pos += 3;
                    continue;
                }
            }
        }
        /* [^\r\n\p{L}\p{N}]?\p{L}+ */
        if (!(cpt == '\r' || cpt == '\n' || NUMBER(f))) {
            if (LETTER(f) || (pos + 1 < e && LETTER(t->flags[pos + 1]))) {
                size_t q = pos + 1;
                while (q < e && LETTER(t->flags[q])) q++;
                emit(c, k, pos, q);
                pos = q;
                continue;
            }
        }
        /* \p{N}{1,max} */
        if (NUMBER(f)) {
            size_t q = pos;
            while (q < e && NUMBER(t->flags[q])) q++;
            while (pos < q) {
                size_t n = LAI_MIN_(q - pos, max_digits);
                emit(c, k, pos, pos + n);
                pos += n;
            }
            continue;
        }
        /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
        int k2 = cpt == ' ' ? cls_at(t, pos + 1, e) : cls_at(t, pos, e);
        if (k2 == C_O || k2 == C_NONE) {
            size_t q = pos + (cpt == ' ');
            while (cls_at(t, q, e) == C_O) q++;
            while (q < e && (s[q] == '\r' || s[q] == '\n')) q++;
            emit(c, k, pos, q);
            pos = q;
            continue;
        }
        size_t nws = 0, last_nl = 0;
        while (pos + nws < e && WS(t->flags[pos + nws])) {
            uint32_t w = s[pos + nws];
            if (w == '\r' || w == '\n') last_nl = pos + nws + 1;
            nws++;
        }
        if (last_nl > 0) { /* \s*[\r\n]+ */
            emit(c, k, pos, last_nl);
            pos = last_nl;
        } else if (nws > 1 && pos + nws < e) { /* \s+(?!\S) */
            emit(c, k, pos, pos + nws - 1);
            pos += nws - 1;
        } else if (nws > 0) { /* \s+ */
            emit(c, k, pos, pos + nws);
            pos += nws;
        } else {
            emit(c, k, pos, pos + 1);
            pos++;
        }
    }
}

/* ---- driver ------------------------------------------------------------------------ */

static void run(const chain *c, size_t k, size_t b, size_t e) {
    if (k >= c->n_passes) {
        c->fn(c->user, b, e);
        return;
    }
    switch (c->passes[k]) {
    case P_GPT2: split_gpt2(c, k, b, e); break;
    case P_LLAMA3: split_llama3(c, k, b, e, 3); break;
    case P_QWEN2: split_llama3(c, k, b, e, 1); break;
    case P_PUNCT_DEFAULT: split_runs(c, k, b, e, is_punct_default); break;
    case P_PUNCT_FALCON: split_runs(c, k, b, e, is_punct_falcon); break;
    case P_NUM_RUN: split_runs(c, k, b, e, is_number); break;
    case P_NUM_ONE: split_singles(c, k, b, e, is_number); break;
    case P_3DIGITS: split_3digits(c, k, b, e); break;
    case P_NEWLINE: split_singles(c, k, b, e, is_newline); break;
    case P_DS_LETTERS: split_ws_runs(c, k, b, e, is_ds_letter); break;
    case P_DS_PUNCT: split_ws_runs(c, k, b, e, is_ds_punct); break;
    case P_TRAIL_WS: split_trailing_ws(c, k, b, e); break;
    case P_CJK: split_runs(c, k, b, e, is_cjk); break;
    case P_SP_LETTERS: split_ws_runs(c, k, b, e, is_letter); break;
    case P_SP_PUNCT: split_ws_runs(c, k, b, e, is_punct); break;
    case P_BLOOM: {
        /*  ?X+ : like \s?X+ but only a space (U+0020) is taken along. */
        const lai_pretok_text *t = c->t;
        size_t gap = b, p = b;
        while (p < e) {
            size_t start;
            if (t->cpts[p] == ' ' && p + 1 < e && is_bloom_word(t->cpts[p + 1], t->flags[p + 1]))
                start = p + 1;
            else if (is_bloom_word(t->cpts[p], t->flags[p]))
                start = p;
            else {
                p++;
                continue;
            }
            size_t q = start + 1;
            while (q < e && is_bloom_word(t->cpts[q], t->flags[q])) q++;
            emit(c, k, gap, p);
            emit(c, k, p, q);
            gap = p = q;
        }
        emit(c, k, gap, e);
        break;
    }
    default: c->fn(c->user, b, e); break;
    }
}

static size_t chain_len(lai_pretok_kind kind) {
    size_t n = 0;
    if ((unsigned)kind >= LAI_PRETOK_COUNT) return 0;
    while (n < MAX_PASSES && chains[kind][n] != P_END) n++;
    return n;
}

void lai_pretok_split(lai_pretok_kind kind, const lai_pretok_text *t, lai_piece_fn fn,
                      void *user) {
    chain c = {t, (unsigned)kind < LAI_PRETOK_COUNT ? chains[kind] : NULL, chain_len(kind), fn,
               user};
    if (t->n > 0) run(&c, 0, 0, t->n);
}

size_t lai_pretok_n_passes(lai_pretok_kind kind) { return chain_len(kind); }

void lai_pretok_split_pass(lai_pretok_kind kind, size_t pass, const lai_pretok_text *t,
                           size_t begin, size_t end, lai_piece_fn fn, void *user) {
    if (pass >= chain_len(kind) || begin >= end || end > t->n) return;
    chain c = {t, chains[kind] + pass, 1, fn, user};
    run(&c, 0, begin, end);
}

/* ---- names ------------------------------------------------------------------------- */

typedef struct pre_name {
    const char *name;
    lai_pretok_kind kind;
    int8_t clean_spaces, ignore_merges, add_bos, no_bos;
} pre_name;

/* From llama.cpp's llama_vocab::impl::load: which names select which regex chain and
 * which flags (clean_spaces defaults to 1 for BPE). */
static const pre_name pre_names[] = {
    {"default", LAI_PRETOK_DEFAULT, 1, 0, 0, 0},
    {"llama3", LAI_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"llama-v3", LAI_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"llama-bpe", LAI_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"falcon3", LAI_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"falcon-h1", LAI_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"pixtral", LAI_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"midm-2.0", LAI_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"lfm2", LAI_PRETOK_LLAMA3, 1, 1, 1, 0},
    {"dbrx", LAI_PRETOK_LLAMA3, 1, 0, 0, 0},
    {"smaug-bpe", LAI_PRETOK_LLAMA3, 1, 0, 0, 0},
    {"chatglm-bpe", LAI_PRETOK_LLAMA3, 1, 0, 0, 1},
    {"glm4", LAI_PRETOK_LLAMA3, 1, 0, 0, 1},
    {"deepseek-llm", LAI_PRETOK_DEEPSEEK_LLM, 0, 0, 0, 0},
    {"deepseek-coder", LAI_PRETOK_DEEPSEEK_CODER, 0, 0, 0, 0},
    {"falcon", LAI_PRETOK_FALCON, 1, 0, 0, 0},
    {"mpt", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"starcoder", LAI_PRETOK_STARCODER, 1, 0, 0, 0},
    {"gpt-2", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"phi-2", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"jina-es", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"jina-de", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"gigachat", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"jina-v2-es", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"jina-v2-de", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"a.x-4.0", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"mellum", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"exaone4", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"olmo", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"jais", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"trillion", LAI_PRETOK_GPT2, 0, 0, 0, 0},
    {"granite-docling", LAI_PRETOK_GPT2, 0, 0, 0, 0},
    {"gpt-neox", LAI_PRETOK_GPT2, 1, 0, 0, 0},
    {"refact", LAI_PRETOK_STARCODER, 1, 0, 0, 0},
    {"command-r", LAI_PRETOK_STARCODER, 0, 0, 0, 0},
    {"smollm", LAI_PRETOK_STARCODER, 0, 0, 0, 0},
    {"codeshell", LAI_PRETOK_STARCODER, 1, 0, 0, 0},
    {"exaone", LAI_PRETOK_STARCODER, 1, 0, 0, 0},
    {"minerva-7b", LAI_PRETOK_STARCODER, 1, 0, 0, 0},
    {"mellum2", LAI_PRETOK_STARCODER, 1, 0, 0, 0},
    {"qwen2", LAI_PRETOK_QWEN2, 0, 0, 0, 0},
    {"deepseek-r1-qwen", LAI_PRETOK_QWEN2, 0, 0, 0, 0},
    {"kormo", LAI_PRETOK_QWEN2, 0, 0, 0, 0},
    {"f2llmv2", LAI_PRETOK_QWEN2, 0, 0, 0, 0},
    {"megrez", LAI_PRETOK_QWEN2, 1, 0, 0, 0},
    {"stablelm2", LAI_PRETOK_QWEN2, 1, 0, 0, 0},
    {"hunyuan", LAI_PRETOK_QWEN2, 0, 0, 0, 0},
    {"solar-open", LAI_PRETOK_QWEN2, 0, 0, 0, 0},
    {"poro-chat", LAI_PRETOK_BLOOM, 0, 0, 0, 0},
    {"bloom", LAI_PRETOK_BLOOM, 1, 0, 0, 0},
    {"gpt3-finnish", LAI_PRETOK_BLOOM, 1, 0, 0, 0},
    {"viking", LAI_PRETOK_VIKING, 0, 0, 0, 0},
};

int lai_pretok_lookup(const char *name, lai_pretok_info *info) {
    if (name == NULL || name[0] == '\0') name = "default";
    for (size_t i = 0; i < sizeof pre_names / sizeof pre_names[0]; i++) {
        if (strcmp(pre_names[i].name, name) == 0) {
            info->kind = pre_names[i].kind;
            info->clean_spaces = pre_names[i].clean_spaces;
            info->ignore_merges = pre_names[i].ignore_merges;
            info->add_bos = pre_names[i].add_bos;
            info->no_bos = pre_names[i].no_bos;
            return 1;
        }
    }
    return 0;
}
