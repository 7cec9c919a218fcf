/* bench_tokenizer.c - tokenizer throughput (MB/s) on a large English and a large mixed-script text. */
/*
 * Usage: bench_tokenizer [--write DIR] [--mb N] MODEL.gguf...
 * The texts are generated deterministically (same bytes on every machine); --write saves
 * them as DIR/english.txt and DIR/mixed.txt so tokenizer_llamacpp.mjs can time llama.cpp
 * on the very same bytes. Prints one line per vocabulary and text. Never fails a build.
 */
#include "localai.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t state = 0x853C49E6748FEA9Bull;
static uint32_t rnd(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 16);
}

typedef struct text {
    char *data;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->data = (char *)realloc(t->data, t->cap);
        if (t->data == NULL) exit(1);
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}
static void puts_(text *t, const char *s) { put(t, s, strlen(s)); }

static void put_cpt(text *t, uint32_t c) {
    char b[4];
    size_t n;
    if (c < 0x80) { b[0] = (char)c; n = 1; }
    else if (c < 0x800) { b[0] = (char)(0xC0 | (c >> 6)); b[1] = (char)(0x80 | (c & 0x3F)); n = 2; }
    else if (c < 0x10000) {
        b[0] = (char)(0xE0 | (c >> 12)); b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (char)(0x80 | (c & 0x3F)); n = 3;
    } else {
        b[0] = (char)(0xF0 | (c >> 18)); b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((c >> 6) & 0x3F)); b[3] = (char)(0x80 | (c & 0x3F)); n = 4;
    }
    put(t, b, n);
}

static const char *const words[] = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on",
    "are", "with", "as", "I", "his", "they", "be", "at", "one", "have", "this", "from", "or",
    "had", "by", "not", "word", "but", "what", "some", "we", "can", "out", "other", "were",
    "all", "there", "when", "up", "use", "your", "how", "said", "an", "each", "she", "which",
    "do", "their", "time", "if", "will", "way", "about", "many", "then", "them", "write",
    "would", "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has",
    "look", "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most",
    "people", "my", "over", "know", "water", "than", "call", "first", "who", "may", "down",
    "side", "been", "now", "find", "any", "new", "work", "part", "take", "get", "place", "made",
    "live", "where", "after", "back", "little", "only", "round", "man", "year", "came", "show",
    "every", "good", "me", "give", "our", "under", "name", "very", "through", "just", "form",
    "sentence", "great", "think", "say", "help", "low", "line", "differ", "turn", "cause",
    "much", "mean", "before", "move", "right", "boy", "old", "too", "same", "tell", "does",
    "set", "three", "want", "air", "well", "also", "play", "small", "end", "put", "home",
    "read", "hand", "port", "large", "spell", "add", "even", "land", "here", "must", "big",
    "high", "such", "follow", "act", "why", "ask", "men", "change", "went", "light", "kind",
    "off", "need", "house", "picture", "try", "us", "again", "animal", "point", "mother",
    "world", "near", "build", "self", "earth", "father", "head", "stand", "own", "page",
    "should", "country", "found", "answer", "school", "grow", "study", "still", "learn",
    "plant", "cover", "food", "sun", "four", "between", "state", "keep", "eye", "never",
    "last", "let", "thought", "city", "tree", "cross", "farm", "hard", "start", "might",
    "story", "saw", "far", "sea", "draw", "left", "late", "run", "don't", "while", "press",
    "close", "night", "real", "life", "few", "north", "tokenization", "internationalization",
    "it's", "we're", "they've", "I'll", "she'd"};

static void english(text *t, size_t bytes) {
    while (t->len < bytes) {
        size_t n = 5 + rnd() % 16;
        for (size_t i = 0; i < n; i++) {
            const char *w = words[rnd() % (sizeof words / sizeof words[0])];
            if (i == 0) {
                char c = w[0] >= 'a' && w[0] <= 'z' ? (char)(w[0] - 32) : w[0];
                put(t, &c, 1);
                puts_(t, w + 1);
            } else {
                puts_(t, w);
            }
            if (i + 1 < n) puts_(t, rnd() % 12 == 0 ? ", " : " ");
            if (rnd() % 40 == 0) {
                char num[16];
                snprintf(num, sizeof num, "%u ", rnd() % 100000);
                puts_(t, num);
            }
        }
        static const char *const ends[] = {". ", ". ", ". ", "? ", "! ", ".\n", ".\n\n", "; "};
        puts_(t, ends[rnd() % 8]);
    }
}

static void mixed(text *t, size_t bytes) {
    static const char *const cyr[] = {"привет", "мир", "это", "текст", "на", "русском", "языке"};
    static const char *const ara[] = {"مرحبا", "بالعالم", "هذا", "نص", "عربي"};
    static const char *const hin[] = {"नमस्ते", "दुनिया", "यह", "हिंदी", "पाठ", "है"};
    static const char *const code[] = {"for (int i = 0; i < n; i++) {\n    sum += a[i] * b[i];\n}\n",
                                       "def f(x):\n    return x ** 2 + 1\n",
                                       "if (err != nil) { return fmt.Errorf(\"bad: %w\", err) }\n"};
    while (t->len < bytes) {
        switch (rnd() % 8) {
        case 0: english(t, t->len + 200); break;
        case 1: /* Chinese */
            for (int i = 0, n = 10 + (int)(rnd() % 40); i < n; i++) put_cpt(t, 0x4E00 + rnd() % 0x5000);
            puts_(t, "。");
            break;
        case 2: /* Japanese kana */
            for (int i = 0, n = 10 + (int)(rnd() % 30); i < n; i++) put_cpt(t, 0x3041 + rnd() % 0x5A);
            puts_(t, "、");
            break;
        case 3:
            for (int i = 0; i < 8; i++) { puts_(t, cyr[rnd() % 7]); puts_(t, " "); }
            break;
        case 4:
            for (int i = 0; i < 8; i++) { puts_(t, ara[rnd() % 5]); puts_(t, " "); }
            break;
        case 5:
            for (int i = 0; i < 8; i++) { puts_(t, hin[rnd() % 6]); puts_(t, " "); }
            break;
        case 6: /* emoji and symbols */
            for (int i = 0, n = 3 + (int)(rnd() % 8); i < n; i++) put_cpt(t, 0x1F600 + rnd() % 0x50);
            puts_(t, " ");
            break;
        default: puts_(t, code[rnd() % 3]); break;
        }
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bench(localai_model *m, const char *model, const char *name, const text *t) {
    size_t cap = t->len + 16, n = 0;
    localai_token *toks = (localai_token *)malloc(cap * sizeof *toks);
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        localai_status st = localai_tokenize(m, t->data, t->len, 0, toks, cap, &n);
        double dt = now() - t0;
        if (st != LOCALAI_STATUS_OK) {
            fprintf(stderr, "%s: %s\n", model, localai_errmsg());
            break;
        }
        if (dt < best) best = dt;
    }
    printf("%-48s %-8s %8.2f MB  %9zu tokens  %8.2f MB/s\n", model, name, (double)t->len / 1e6, n,
           (double)t->len / 1e6 / best);
    free(toks);
}

int main(int argc, char **argv) {
    const char *dir = NULL;
    double mb = 4.0;
    int first = 1;
    while (first < argc && argv[first][0] == '-') {
        if (strcmp(argv[first], "--write") == 0 && first + 1 < argc) dir = argv[++first];
        else if (strcmp(argv[first], "--mb") == 0 && first + 1 < argc) mb = atof(argv[++first]);
        first++;
    }
    text en = {0}, mx = {0};
    english(&en, (size_t)(mb * 1e6));
    mixed(&mx, (size_t)(mb * 1e6));
    if (dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/english.txt", dir);
        FILE *f = fopen(path, "wb");
        if (f) { fwrite(en.data, 1, en.len, f); fclose(f); }
        snprintf(path, sizeof path, "%s/mixed.txt", dir);
        f = fopen(path, "wb");
        if (f) { fwrite(mx.data, 1, mx.len, f); fclose(f); }
    }
    for (int i = first; i < argc; i++) {
        localai_model_params p;
        localai_model_params_init(&p);
        p.vocab_only = 1;
        p.backend = LOCALAI_BACKEND_CPU;
        localai_model *m = NULL;
        if (localai_model_open(argv[i], &p, &m) != LOCALAI_STATUS_OK) {
            fprintf(stderr, "%s: %s\n", argv[i], localai_errmsg());
            continue;
        }
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        bench(m, base, "english", &en);
        bench(m, base, "mixed", &mx);
        localai_model_close(m);
    }
    free(en.data);
    free(mx.data);
    return 0;
}
