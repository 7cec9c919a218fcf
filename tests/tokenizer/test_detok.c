/* test_detok.c - localai_detokenize against llama.cpp's llama_detokenize on token sequences. */
/*
 * data/detok-<vocab>.dtk (make_llamacpp_detok.mjs): "<render special> <ids> <hex text>" per
 * line. The expected text went through a JS string, so invalid UTF-8 in it became U+FFFD
 * per maximal subpart (the WHATWG decoder); ours is decoded the same way before comparing.
 */
#include "localai.h"
#include "test_util.h"

#include <stdint.h>

static size_t put_cpt(uint8_t *o, uint32_t c) {
    if (c < 0x80) { o[0] = (uint8_t)c; return 1; }
    if (c < 0x800) { o[0] = (uint8_t)(0xC0 | (c >> 6)); o[1] = (uint8_t)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (c >> 12)); o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (c & 0x3F)); return 3;
    }
    o[0] = (uint8_t)(0xF0 | (c >> 18)); o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (c & 0x3F)); return 4;
}

/* WHATWG UTF-8 decode (U+FFFD per maximal subpart), re-encoded. */
static size_t lossy(const uint8_t *s, size_t n, uint8_t *out) {
    size_t o = 0, need = 0, seen = 0;
    uint32_t cp = 0;
    uint8_t lower = 0x80, upper = 0xBF;
    for (size_t i = 0; i < n;) {
        uint8_t b = s[i];
        if (need == 0) {
            i++;
            if (b <= 0x7F) o += put_cpt(out + o, b);
            else if (b >= 0xC2 && b <= 0xDF) { need = 1; cp = b & 0x1Fu; }
            else if (b >= 0xE0 && b <= 0xEF) {
                if (b == 0xE0) lower = 0xA0;
                if (b == 0xED) upper = 0x9F;
                need = 2; cp = b & 0xFu;
            } else if (b >= 0xF0 && b <= 0xF4) {
                if (b == 0xF0) lower = 0x90;
                if (b == 0xF4) upper = 0x8F;
                need = 3; cp = b & 0x7u;
            } else o += put_cpt(out + o, 0xFFFD);
            continue;
        }
        if (b < lower || b > upper) {
            need = seen = 0; cp = 0; lower = 0x80; upper = 0xBF;
            o += put_cpt(out + o, 0xFFFD);
            continue; /* b is read again */
        }
        i++;
        lower = 0x80; upper = 0xBF;
        cp = (cp << 6) | (b & 0x3Fu);
        if (++seen == need) {
            o += put_cpt(out + o, cp);
            need = seen = 0; cp = 0;
        }
    }
    if (need) o += put_cpt(out + o, 0xFFFD);
    return o;
}

static void run(const char *vocab) {
    char path[4096];
    snprintf(path, sizeof path, "vocab/ggml-vocab-%s.gguf", vocab);
    localai_model_params p;
    localai_model_params_init(&p);
    p.vocab_only = 1;
    p.backend = LOCALAI_BACKEND_CPU;
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(test_shared_path(path), &p, &m), LOCALAI_STATUS_OK);
    if (m == NULL) return;
    snprintf(path, sizeof path, "%s/detok-%s.dtk", TOKENIZER_DATA_DIR, vocab);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (f == NULL) return;
    static char line[65536];
    int cases = 0, failed = 0;
    while (fgets(line, sizeof line, f)) {
        char *q = line;
        int render = (int)strtol(q, &q, 10);
        localai_token ids[2048];
        size_t n = 0;
        if (*q == ' ') q++;
        while (*q != ' ' && *q != '\n' && *q && n < 2048) { /* "id,id,...": may be empty */
            ids[n++] = (localai_token)strtol(q, &q, 10);
            if (*q == ',') q++;
        }
        if (*q == ' ') q++;
        static uint8_t want[32768], got[32768], norm[98304];
        size_t wn = 0;
        while (q[0] && q[1] && q[0] != '\n') {
            unsigned v;
            sscanf(q, "%2x", &v);
            want[wn++] = (uint8_t)v;
            q += 2;
        }
        size_t gl = 0;
        localai_status st = localai_detokenize(m, ids, n, render ? LOCALAI_DETOKENIZE_RENDER_SPECIAL : 0,
                                               (char *)got, sizeof got, &gl);
        CHECK_STATUS(st, LOCALAI_STATUS_OK);
        size_t nl = lossy(got, gl, norm);
        cases++;
        if (nl != wn || memcmp(norm, want, wn) != 0) {
            if (failed++ < 3)
                fprintf(stderr, "%s: render=%d, %zu ids: want '%.*s' got '%.*s'\n", vocab, render, n,
                        (int)wn, (const char *)want, (int)nl, (const char *)norm);
        }
    }
    fclose(f);
    printf("detok %-16s %d cases, %d failed\n", vocab, cases, failed);
    CHECK(cases >= 100 && failed == 0);
    localai_model_close(m);
}

int main(void) {
    static const char *const vocabs[] = {"llama-spm", "phi-3", "gpt-2", "falcon", "starcoder",
                                         "deepseek-coder"};
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++) run(vocabs[i]);
    return test_finish("test_detok");
}
