/* test_roundtrip.c - detokenize(tokenize(x)) == x on random UTF-8, invalid UTF-8, buffer protocol, special ids. */
#include "localai.h"
#include "test_util.h"

#include <stdint.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static size_t put_utf8(char *out, uint32_t c) {
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12)); out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18)); out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F)); out[3] = (char)(0x80 | (c & 0x3F)); return 4;
}

/* A random valid code point from scripts, symbols, whitespace and controls. */
static uint32_t random_cpt(void) {
    static const uint32_t ranges[][2] = {
        {0x20, 0x7E}, {0x20, 0x7E}, {0x20, 0x7E}, {0x61, 0x7A}, {0x09, 0x0D}, {0x00, 0x1F},
        {0xA0, 0xFF}, {0x100, 0x24F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x590, 0x6FF},
        {0x900, 0x97F}, {0xE00, 0xE7F}, {0x1100, 0x11FF}, {0x2000, 0x206F}, {0x2190, 0x22FF},
        {0x3000, 0x30FF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xE000, 0xE0FF}, {0xFF00, 0xFFEF},
        {0x1F300, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x10000, 0x1007F}, {0x20000, 0x2A6DF}};
    size_t r = rnd() % (sizeof ranges / sizeof ranges[0]);
    return ranges[r][0] + rnd() % (ranges[r][1] - ranges[r][0] + 1);
}

static localai_model *open_vocab(const char *rel) {
    localai_model_params p;
    localai_model_params_init(&p);
    p.vocab_only = 1;
    p.backend = LOCALAI_BACKEND_CPU;
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(test_shared_path(rel), &p, &m), LOCALAI_STATUS_OK);
    return m;
}

static int tokenize(localai_model *m, const char *s, size_t n, uint32_t flags, localai_token *t,
                    size_t cap, size_t *count) {
    return localai_tokenize(m, s, n, flags, t, cap, count);
}

/* clean: the vocabulary's detokenizer removes " ." style spaces, so texts avoid them;
 * spm: U+2581 stands for a space in SPM vocabularies, so texts avoid it;
 * no_ctl: the vocabulary has no token for some control bytes (Falcon), which llama.cpp
 * drops, so texts avoid control characters. */
static void roundtrip_valid(localai_model *m, const char *name, int clean, int spm, int no_ctl) {
    char text[1024], back[4096];
    localai_token toks[2048];
    int failures = 0;
    for (int iter = 0; iter < 300; iter++) {
        size_t n = 0, len = rnd() % 60;
        for (size_t i = 0; i < len; i++) {
            uint32_t c = random_cpt();
            if (spm && c == 0x2581) c = 'x';
            if (no_ctl && c < 0x20 && c != '\n' && c != '\t') c = 'w';
            if (clean && (c == '?' || c == '!' || c == '.' || c == ',' || c == '\'') && n > 0 &&
                text[n - 1] == ' ')
                c = 'y';
            if (clean && c == ' ' && rnd() % 2) c = 'z';
            n += put_utf8(text + n, c);
        }
        size_t count = 0, blen = 0;
        CHECK_STATUS(tokenize(m, text, n, 0, toks, 2048, &count), LOCALAI_STATUS_OK);
        CHECK_STATUS(localai_detokenize(m, toks, count, 0, back, sizeof back, &blen),
                     LOCALAI_STATUS_OK);
        if (blen != n || memcmp(back, text, n) != 0) {
            if (failures++ < 3)
                fprintf(stderr, "%s: round trip differs for '%.*s' -> '%.*s'\n", name, (int)n, text,
                        (int)blen, back);
        }
    }
    CHECK_MSG(failures == 0, "%s: %d round trips differ", name, failures);
}

/* Invalid UTF-8 never fails; SPM keeps every byte (byte fallback), byte-level BPE
 * reads each invalid byte as U+FFFD, as llama.cpp does. */
static void invalid_utf8(localai_model *m, const char *name, int spm, int clean) {
    char text[256], back[4096], expect[1024];
    localai_token toks[2048];
    int failures = 0;
    for (int iter = 0; iter < 300; iter++) {
        size_t len = rnd() % 40, elen = 0;
        for (size_t i = 0; i < len; i++) {
            uint32_t r = rnd() % 4;
            text[i] = (char)(r == 0 ? 0x80 + rnd() % 0x80 : r == 1 ? 0xC0 + rnd() % 0x40 : 'a' + rnd() % 26);
            if (clean && text[i] == 'a') text[i] = 'b';
        }
        /* for SPM avoid the bytes of U+2581 (it reads as a space) */
        if (spm)
            for (size_t i = 0; i + 2 < len; i++)
                if ((uint8_t)text[i] == 0xE2 && (uint8_t)text[i + 1] == 0x96 && (uint8_t)text[i + 2] == 0x81)
                    text[i] = 'q';
        /* expected text: llama.cpp's decoding (lead byte gives the length, continuation
         * bytes checked, else one byte -> U+FFFD) */
        for (size_t i = 0; i < len;) {
            uint8_t b = (uint8_t)text[i];
            size_t need = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
            int ok = need > 0 && (b & 0xC0) != 0x80 && i + need <= len && !(need > 1 && i + need - 1 >= len);
            for (size_t k = 1; ok && k < need; k++) ok = ((uint8_t)text[i + k] & 0xC0) == 0x80;
            if (ok && need > 1 && i + need > len - 0) ok = i + need <= len;
            if (ok) {
                uint32_t c = need == 1 ? b : need == 2 ? (b & 0x1Fu) : need == 3 ? (b & 0x0Fu) : (b & 0x07u);
                for (size_t k = 1; k < need; k++) c = (c << 6) | ((uint8_t)text[i + k] & 0x3Fu);
                if (c > 0x10FFFF) c = 0xFFFD;
                elen += put_utf8(expect + elen, c);
                i += need;
            } else {
                elen += put_utf8(expect + elen, 0xFFFD);
                i++;
            }
        }
        size_t count = 0, blen = 0;
        CHECK_STATUS(tokenize(m, text, len, 0, toks, 2048, &count), LOCALAI_STATUS_OK);
        CHECK(len == 0 || count > 0);
        CHECK_STATUS(localai_detokenize(m, toks, count, 0, back, sizeof back, &blen),
                     LOCALAI_STATUS_OK);
        const char *want = spm ? text : expect;
        size_t wlen = spm ? len : elen;
        if (blen != wlen || memcmp(back, want, wlen) != 0) failures++;
    }
    CHECK_MSG(failures == 0, "%s: %d invalid-UTF-8 texts came back different", name, failures);
}

static void buffer_protocol(localai_model *m) {
    const char *text = "Hello world, this is a test.";
    size_t count = 0;
    CHECK_STATUS(localai_tokenize(m, text, strlen(text), LOCALAI_TOKENIZE_ADD_SPECIAL, NULL, 0,
                                  &count), LOCALAI_STATUS_BUFFER_TOO_SMALL);
    CHECK(count > 2);
    localai_token toks[64];
    size_t count2 = 0;
    CHECK_STATUS(localai_tokenize(m, text, strlen(text), LOCALAI_TOKENIZE_ADD_SPECIAL, toks, count,
                                  &count2), LOCALAI_STATUS_OK);
    CHECK(count2 == count);
    size_t need = 0;
    CHECK_STATUS(localai_detokenize(m, toks, count, LOCALAI_DETOKENIZE_REMOVE_SPECIAL, NULL, 0, &need),
                 LOCALAI_STATUS_BUFFER_TOO_SMALL);
    char buf[128];
    size_t got = 0;
    CHECK_STATUS(localai_detokenize(m, toks, count, LOCALAI_DETOKENIZE_REMOVE_SPECIAL, buf, need + 1,
                                    &got), LOCALAI_STATUS_OK);
    CHECK(got == need && buf[got] == '\0');
    size_t plen = 0;
    CHECK_STATUS(localai_token_to_piece(m, toks[count - 1], 0, buf, 0, &plen),
                 LOCALAI_STATUS_BUFFER_TOO_SMALL);
    CHECK(plen > 0);
    CHECK_STATUS(localai_token_to_piece(m, 1 << 30, 0, buf, sizeof buf, &plen),
                 LOCALAI_STATUS_NOT_FOUND);
    localai_token bad = -5;
    CHECK_STATUS(localai_detokenize(m, &bad, 1, 0, buf, sizeof buf, &got),
                 LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_tokenize(m, "x", 1, 0x100, toks, 64, &count), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(localai_token_to_piece(m, 1, 0x100, buf, sizeof buf, &plen),
                 LOCALAI_STATUS_INVALID_ARGUMENT);
    localai_token one = 1;
    CHECK_STATUS(localai_detokenize(m, &one, 1, 0x100, buf, sizeof buf, &got),
                 LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(localai_errmsg(), "unknown flags") != NULL);
    CHECK_STATUS(localai_tokenize(NULL, "x", 1, 0, toks, 64, &count), LOCALAI_STATUS_INVALID_ARGUMENT);
}

static void piece_is(localai_model *m, localai_token t, uint32_t flags, const char *want) {
    char buf[64];
    size_t len = 0;
    CHECK_STATUS(localai_token_to_piece(m, t, flags, buf, sizeof buf, &len), LOCALAI_STATUS_OK);
    CHECK_MSG(len == strlen(want) && memcmp(buf, want, len) == 0, "token %d: '%.*s' != '%s'",
              (int)t, (int)len, buf, want);
}

int main(void) {
    localai_model *spm = open_vocab("vocab/ggml-vocab-llama-spm.gguf");
    localai_model *phi3 = open_vocab("vocab/ggml-vocab-phi-3.gguf");
    localai_model *gpt2 = open_vocab("vocab/ggml-vocab-gpt-2.gguf");
    localai_model *falcon = open_vocab("vocab/ggml-vocab-falcon.gguf");
    localai_model *star = open_vocab("vocab/ggml-vocab-starcoder.gguf");
    localai_model *dsc = open_vocab("vocab/ggml-vocab-deepseek-coder.gguf");
    if (!spm || !phi3 || !gpt2 || !falcon || !star || !dsc) return test_finish("test_roundtrip");

    roundtrip_valid(spm, "llama-spm", 0, 1, 0);
    roundtrip_valid(phi3, "phi-3", 0, 1, 0);
    roundtrip_valid(gpt2, "gpt-2", 1, 0, 0);
    roundtrip_valid(falcon, "falcon", 1, 0, 1);
    roundtrip_valid(star, "starcoder", 1, 0, 0);
    roundtrip_valid(dsc, "deepseek-coder", 0, 0, 0);
    invalid_utf8(spm, "llama-spm", 1, 0);
    invalid_utf8(phi3, "phi-3", 1, 0);
    invalid_utf8(dsc, "deepseek-coder", 0, 0);
    invalid_utf8(gpt2, "gpt-2", 0, 1);
    buffer_protocol(spm);
    buffer_protocol(gpt2);

    /* special ids and end-of-generation, as llama.cpp reports them */
    CHECK(localai_token_special(spm, LOCALAI_SPECIAL_BOS) == 1);
    CHECK(localai_token_special(spm, LOCALAI_SPECIAL_EOS) == 2);
    CHECK(localai_token_special(spm, LOCALAI_SPECIAL_UNK) == 0);
    CHECK(localai_token_special(spm, LOCALAI_SPECIAL_NL) == 13);
    CHECK(localai_token_is_eog(spm, 2) && !localai_token_is_eog(spm, 1));
    CHECK(localai_token_special(gpt2, LOCALAI_SPECIAL_EOS) == 50256);
    CHECK(localai_token_is_eog(gpt2, 50256));
    CHECK(localai_token_special(gpt2, LOCALAI_SPECIAL_NL) == 198);
    localai_token end = -1;
    size_t n = 0;
    CHECK_STATUS(localai_tokenize(phi3, "<|end|>", 7, LOCALAI_TOKENIZE_PARSE_SPECIAL, &end, 1, &n),
                 LOCALAI_STATUS_OK);
    CHECK(n == 1 && localai_token_is_eog(phi3, end) &&
          localai_token_special(phi3, LOCALAI_SPECIAL_EOT) == end);

    /* BOS from metadata; control pieces render only when asked */
    localai_token t[8];
    CHECK_STATUS(localai_tokenize(spm, "", 0, LOCALAI_TOKENIZE_ADD_SPECIAL, t, 8, &n), LOCALAI_STATUS_OK);
    CHECK(n == 1 && t[0] == 1);
    CHECK_STATUS(localai_tokenize(gpt2, "", 0, LOCALAI_TOKENIZE_ADD_SPECIAL, t, 8, &n), LOCALAI_STATUS_OK);
    CHECK(n == 0);
    piece_is(spm, 1, 0, "");
    piece_is(spm, 1, LOCALAI_PIECE_RENDER_SPECIAL, "<s>");
    piece_is(spm, 13, 0, "\n");
    piece_is(spm, 15043, 0, " Hello");
    piece_is(gpt2, 50256, LOCALAI_PIECE_RENDER_SPECIAL, "<|endoftext|>");

    localai_model_close(spm);
    localai_model_close(phi3);
    localai_model_close(gpt2);
    localai_model_close(falcon);
    localai_model_close(star);
    localai_model_close(dsc);
    return test_finish("test_roundtrip");
}
