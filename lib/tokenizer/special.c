/* special.c - special tokens: end-of-generation set, attribute fixes, and splitting text on them. */
#include "vocab_internal.h"

#include <ctype.h>
#include <stdlib.h>

static int32_t find_text(const lai_vocab *v, const char *s) {
    return lai_strmap_get(&v->text_map, s, strlen(s));
}

static void mark_control(lai_vocab *v, int32_t id, const lai_logger *log) {
    if ((v->tok[id].attr & LAI_ATTR_CONTROL) == 0) {
        lai_log_debug(log, "vocabulary: token %d '%s' looks like a control token; marking it so",
                      (int)id, lai_vocab_text(v, id));
        v->tok[id].attr |= LAI_ATTR_CONTROL;
    }
}

/* Finds the first of `names` in the vocabulary when *id is unset (llama.cpp finds these
 * by text because converters often leave the keys out). */
static void detect(lai_vocab *v, int32_t *id, const char *const *names, const lai_logger *log) {
    if (*id >= 0) return;
    for (size_t i = 0; names[i] != NULL; i++) {
        int32_t t = find_text(v, names[i]);
        if (t >= 0) {
            *id = t;
            mark_control(v, t, log);
            return;
        }
    }
}

static const char *const eot_names[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
    "<end_of_utterance>", NULL};
static const char *const eom_names[] = {"<|eom_id|>", NULL};
static const char *const fim_pre_names[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
    "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL};
static const char *const fim_suf_names[] = {
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>",
    "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL};
static const char *const fim_mid_names[] = {
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>",
    "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL};
static const char *const fim_pad_names[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
                                            "[PAD]", NULL};
static const char *const fim_rep_names[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                            "<REPO>", "<reponame>", NULL};
static const char *const fim_sep_names[] = {"<|file_sep|>", NULL};

/* Texts llama.cpp treats as end of generation wherever they appear. */
static const char *const eog_names[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "[e~[", NULL};

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void eog_add(lai_vocab *v, int32_t id) {
    if (id < 0) return;
    for (size_t i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id) return;
    v->eog[v->n_eog++] = id;
}

static void eog_remove(lai_vocab *v, int32_t id) {
    for (size_t i = 0; i < v->n_eog; i++) {
        if (v->eog[i] == id) {
            v->eog[i] = v->eog[--v->n_eog];
            return;
        }
    }
}

static int eog_has_text(const lai_vocab *v, const char *s, int32_t *id) {
    int32_t t = find_text(v, s);
    if (t < 0) return 0;
    for (size_t i = 0; i < v->n_eog; i++) {
        if (v->eog[i] == t) {
            if (id) *id = t;
            return 1;
        }
    }
    return 0;
}

static unsigned bucket_of(uint8_t b0, unsigned b1) {
    return ((unsigned)b0 * 257u + b1) % LAI_SPECIAL_BUCKETS;
}

static localai_status build_special_index(lai_vocab *v) {
    size_t n = 0;
    for (int32_t id = 0; id < v->n_tokens; id++)
        if (v->tok[id].attr & (LAI_ATTR_CONTROL | LAI_ATTR_USER_DEFINED | LAI_ATTR_UNKNOWN)) n++;
    v->special = (int32_t *)lai_malloc((n ? n : 1) * sizeof(int32_t));
    v->special_by_bucket = (int32_t *)lai_malloc((n ? n : 1) * sizeof(int32_t));
    v->special_bucket_start = (uint32_t *)lai_calloc(LAI_SPECIAL_BUCKETS + 1, sizeof(uint32_t));
    if (!v->special || !v->special_by_bucket || !v->special_bucket_start)
        return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary: special tokens");
    n = 0;
    for (int32_t id = 0; id < v->n_tokens; id++)
        if (v->tok[id].attr & (LAI_ATTR_CONTROL | LAI_ATTR_USER_DEFINED | LAI_ATTR_UNKNOWN))
            v->special[n++] = id;
    v->n_special = n;
    /* longest first; equal lengths keep id order (insertion sort is stable) */
    for (size_t i = 1; i < n; i++) {
        int32_t id = v->special[i];
        uint32_t len = v->tok[id].len;
        size_t j = i;
        while (j > 0 && v->tok[v->special[j - 1]].len < len) {
            v->special[j] = v->special[j - 1];
            j--;
        }
        v->special[j] = id;
    }
    /* bucket by the first two bytes (one-byte texts use 256 as the second) so a scan
     * only compares texts that can match; entries hold indices into v->special */
    for (size_t i = 0; i < n; i++) {
        const lai_token_data *t = &v->tok[v->special[i]];
        const uint8_t *s = (const uint8_t *)v->text + t->off;
        v->special_first_byte[s[0]] = 1;
        v->special_bucket_start[bucket_of(s[0], t->len > 1 ? s[1] : 256u) + 1]++;
    }
    for (unsigned b = 0; b < LAI_SPECIAL_BUCKETS; b++)
        v->special_bucket_start[b + 1] += v->special_bucket_start[b];
    uint32_t *fill = (uint32_t *)lai_malloc(LAI_SPECIAL_BUCKETS * sizeof(uint32_t));
    if (fill == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary: special tokens");
    memcpy(fill, v->special_bucket_start, LAI_SPECIAL_BUCKETS * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        const lai_token_data *t = &v->tok[v->special[i]];
        const uint8_t *s = (const uint8_t *)v->text + t->off;
        unsigned b = bucket_of(s[0], t->len > 1 ? s[1] : 256u);
        v->special_by_bucket[fill[b]++] = (int32_t)i;
    }
    lai_free(fill);
    return LOCALAI_STATUS_OK;
}

static int contains_ci(const char *hay, const char *needle) {
    if (hay == NULL) return 0;
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == needle[i]) i++;
        if (i == n) return 1;
    }
    return 0;
}

localai_status lai_special_prepare(lai_vocab *v, const lai_vocab_spec *spec,
                                   const lai_logger *log) {
    detect(v, &v->eot, eot_names, log);
    detect(v, &v->eom, eom_names, log);
    detect(v, &v->fim_pre, fim_pre_names, log);
    detect(v, &v->fim_suf, fim_suf_names, log);
    detect(v, &v->fim_mid, fim_mid_names, log);
    detect(v, &v->fim_pad, fim_pad_names, log);
    detect(v, &v->fim_rep, fim_rep_names, log);
    detect(v, &v->fim_sep, fim_sep_names, log);

    /* control tokens named "...unused..." are unused */
    for (int32_t id = 0; id < v->n_tokens; id++) {
        lai_token_data *t = &v->tok[id];
        if ((t->attr & LAI_ATTR_CONTROL) && !(t->attr & LAI_ATTR_UNUSED)) {
            const char *s = v->text + t->off;
            for (uint32_t i = 0; i + 6 <= t->len; i++) {
                if (memcmp(s + i, "unused", 6) == 0) {
                    t->attr |= LAI_ATTR_UNUSED;
                    break;
                }
            }
        }
    }

    size_t max_eog = 8;
    for (size_t i = 0; eog_names[i]; i++) max_eog++;
    v->eog = (int32_t *)lai_malloc(max_eog * sizeof(int32_t));
    if (v->eog == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "vocabulary: EOG set");
    v->n_eog = 0;
    eog_add(v, v->fim_pad);
    eog_add(v, v->fim_rep);
    eog_add(v, v->fim_sep);
    for (size_t i = 0; eog_names[i]; i++) {
        int32_t t = find_text(v, eog_names[i]);
        if (t >= 0) {
            eog_add(v, t);
            mark_control(v, t, log);
        }
    }
    /* gpt-oss: always render these */
    static const char *const render_names[] = {"<|channel|>", "<|message|>", "<|start|>",
                                               "<|constrain|>", NULL};
    for (size_t i = 0; render_names[i]; i++) {
        int32_t t = find_text(v, render_names[i]);
        if (t >= 0) v->tok[t].attr = LAI_ATTR_USER_DEFINED;
    }
    eog_add(v, v->eos);
    eog_add(v, v->eot);
    eog_add(v, v->eom);
    /* o200k_harmony and solar-open: "<|end|>" ends a message, not the generation */
    {
        int32_t end_id = -1;
        int has_return = eog_has_text(v, "<|return|>", NULL);
        int has_call = eog_has_text(v, "<|call|>", NULL) || eog_has_text(v, "<|calls|>", NULL);
        int has_flush = eog_has_text(v, "<|flush|>", NULL);
        int has_end = eog_has_text(v, "<|end|>", &end_id);
        if ((has_return && has_call && has_end) || (has_call && has_flush && has_end)) {
            eog_remove(v, end_id);
            v->tok[end_id].attr = LAI_ATTR_USER_DEFINED;
        }
    }
    /* gemma4 and paddleocr: "</s>" is no end of generation next to "<|tool_response>" */
    {
        int32_t s_id = -1;
        if (eog_has_text(v, "<|tool_response>", NULL) && eog_has_text(v, "</s>", &s_id)) {
            eog_remove(v, s_id);
            v->tok[s_id].attr = LAI_ATTR_NORMAL;
        }
    }
    qsort(v->eog, v->n_eog, sizeof(int32_t), cmp_i32);

    localai_status st = build_special_index(v);
    if (st) return st;

    /* Phi-3 files strip whitespace after special tokens (llama.cpp keys this on the name) */
    if (contains_ci(spec->name, "phi-3") || contains_ci(spec->name, "phi3")) {
        for (size_t i = 0; i < v->n_special; i++) v->tok[v->special[i]].attr |= LAI_ATTR_RSTRIP;
        int32_t t = find_text(v, "</s>");
        if (t >= 0) v->tok[t].attr |= LAI_ATTR_RSTRIP;
        static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>", NULL};
        for (size_t i = 0; keep[i]; i++) {
            t = find_text(v, keep[i]);
            if (t >= 0) v->tok[t].attr &= ~(uint32_t)LAI_ATTR_RSTRIP;
        }
    }
    return LOCALAI_STATUS_OK;
}

int lai_vocab_is_eog(const lai_vocab *v, int32_t id) {
    if (v == NULL || id < 0) return 0;
    size_t lo = 0, hi = v->n_eog;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->eog[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < v->n_eog && v->eog[lo] == id;
}
