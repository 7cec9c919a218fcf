/* gen_model.c - command line for the random-weight GGUF generator (see gen_model.h). */
#include "gen_model.h"

#include "quant/quant.h"

#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: gen_model --arch ARCH --out FILE [options]\n"
            "  --arch llama|qwen2|qwen3|phi3|gemma2|gemma3\n"
            "  --vocab FILE      copy tokenizer.* from this GGUF (default: 259 byte tokens)\n"
            "  --type T          matrix type: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_K ... (default f32)\n"
            "  --seed N          (default 1)\n"
            "  --embd N --layers N --heads N --kv-heads N --ff N --ctx N\n"
            "  --head-dim N      (default embd/heads)   --rot N (default head-dim)\n"
            "  --swa N           sliding window (gemma2/3)\n"
            "  --rope-base F     rope.freq_base\n"
            "  --tied            no output.weight\n"
            "  --alignment N     general.alignment (e.g. 1: tensors at any byte)\n"
            "  --rope-freqs      llama rope_freqs / phi3 rope_factors_long+short\n"
            "  --separate-qkv    phi3 with attn_q/k/v instead of attn_qkv\n"
            "  --endoftext       add <|endoftext|> to the byte vocabulary (llama.cpp needs it for phi3)\n"
            "  --vocab-size N    grow the byte vocabulary to N tokens with synthetic ordinary\n"
            "                    tokens (e.g. 128256 for a Llama 3 shaped model)\n"
            "rope scaling (nothing is written unless asked):\n"
            "  --rope-scaling T  rope.scaling.type: none|linear|yarn|longrope\n"
            "  --rope-factor F   rope.scaling.factor\n"
            "  --rope-orig-ctx N rope.scaling.original_context_length (phi3 default: --ctx)\n"
            "  --rope-attn-factor F  rope.scaling.attn_factor\n"
            "  --rope-base-swa F rope.freq_base_swa\n"
            "  --llama3-rope FACTOR,LOW,HIGH,ORIG  llama rope_freqs by Llama 3.1's formula\n"
            "  --longrope F      phi3/llama rope_factors_long rising to F, short to F^(1/4)\n");
}

static int parse_type(const char *name, uint32_t *out) {
    for (uint32_t t = 0; t < LAI_TYPE_COUNT; t++) {
        const lai_type_traits *tr = lai_type_get(t);
        if (tr != NULL && strcmp(tr->name, name) == 0) {
            *out = t;
            return 1;
        }
    }
    return 0;
}

static int parse_f32(const char *s, float *out) {
    char *end;
    float v = strtof(s, &end);
    if (*s == '\0' || *end != '\0' || !(v == v)) return 0;
    *out = v;
    return 1;
}

/* n comma-separated numbers */
static int parse_f32_list(const char *s, float *out, int n) {
    for (int i = 0; i < n; i++) {
        char *end;
        out[i] = strtof(s, &end);
        if (end == s || *end != (i + 1 < n ? ',' : '\0')) return 0;
        s = end + 1;
    }
    return 1;
}

static int parse_u32(const char *s, uint32_t *out) {
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v > 0xFFFFFFFFul) return 0;
    *out = (uint32_t)v;
    return 1;
}

int main(int argc, char **argv) {
    gen_options o;
    gen_options_init(&o);
    const char *out = NULL;
    int have_arch = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1, takes = 1;
        if (strcmp(a, "--arch") == 0 && v) ok = have_arch = lai_arch_lookup(v, strlen(v), &o.arch);
        else if (strcmp(a, "--out") == 0 && v) out = v;
        else if (strcmp(a, "--vocab") == 0 && v) o.vocab_path = v;
        else if (strcmp(a, "--type") == 0 && v) ok = parse_type(v, &o.weight_type);
        else if (strcmp(a, "--seed") == 0 && v) o.seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--embd") == 0 && v) ok = parse_u32(v, &o.n_embd);
        else if (strcmp(a, "--layers") == 0 && v) ok = parse_u32(v, &o.n_layer);
        else if (strcmp(a, "--heads") == 0 && v) ok = parse_u32(v, &o.n_head);
        else if (strcmp(a, "--kv-heads") == 0 && v) ok = parse_u32(v, &o.n_head_kv);
        else if (strcmp(a, "--ff") == 0 && v) ok = parse_u32(v, &o.n_ff);
        else if (strcmp(a, "--ctx") == 0 && v) ok = parse_u32(v, &o.n_ctx);
        else if (strcmp(a, "--head-dim") == 0 && v) ok = parse_u32(v, &o.head_dim);
        else if (strcmp(a, "--rot") == 0 && v) ok = parse_u32(v, &o.n_rot);
        else if (strcmp(a, "--swa") == 0 && v) ok = parse_u32(v, &o.n_swa);
        else if (strcmp(a, "--rope-base") == 0 && v) o.rope_freq_base = strtof(v, NULL);
        else if (strcmp(a, "--rope-scaling") == 0 && v) o.rope_scaling_type = v;
        else if (strcmp(a, "--rope-factor") == 0 && v) ok = parse_f32(v, &o.rope_scaling_factor);
        else if (strcmp(a, "--rope-orig-ctx") == 0 && v) ok = parse_u32(v, &o.rope_orig_ctx);
        else if (strcmp(a, "--rope-attn-factor") == 0 && v) ok = parse_f32(v, &o.rope_attn_factor);
        else if (strcmp(a, "--rope-base-swa") == 0 && v) ok = parse_f32(v, &o.rope_freq_base_swa);
        else if (strcmp(a, "--llama3-rope") == 0 && v) ok = parse_f32_list(v, o.llama3_rope, 4);
        else if (strcmp(a, "--longrope") == 0 && v) ok = parse_f32(v, &o.longrope_max);
        else if (strcmp(a, "--alignment") == 0 && v) ok = parse_u32(v, &o.alignment);
        else if (strcmp(a, "--vocab-size") == 0 && v) ok = parse_u32(v, &o.vocab_size);
        else if (strcmp(a, "--tied") == 0) { o.tied = 1; takes = 0; }
        else if (strcmp(a, "--rope-freqs") == 0) { o.rope_freqs = 1; takes = 0; }
        else if (strcmp(a, "--separate-qkv") == 0) { o.phi3_separate_qkv = 1; takes = 0; }
        else if (strcmp(a, "--endoftext") == 0) { o.endoftext_token = 1; takes = 0; }
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); return 0; }
        else ok = 0;
        if (!ok) {
            fprintf(stderr, "gen_model: bad argument '%s'%s%s\n", a, v && takes ? " " : "",
                    v && takes ? v : "");
            usage(stderr);
            return 2;
        }
        i += takes;
    }
    if (!have_arch || out == NULL) {
        usage(stderr);
        return 2;
    }
    localai_status st = gen_model_write(&o, out);
    if (st != LOCALAI_STATUS_OK) {
        fprintf(stderr, "gen_model: %s: %s\n", localai_status_string(st), localai_errmsg());
        return 1;
    }
    return 0;
}
