/* test_alignment.c - files whose general.alignment leaves tensors unaligned run like aligned ones. */
/*
 * GGUF lets a writer choose general.alignment = 1 (or 2), so tensors may start at odd
 * addresses; kernels load floats, halves and blocks directly. For every weight type, a
 * model written with alignment 1 and 2 must give exactly the logits of the same model
 * written with the default 32, mapped or read into memory. The sanitized build of this
 * test (forward-asan) turns any misaligned load into a failure.
 */
#include "localai.h"
#include "model/model.h"
#include "quant/quant.h"
#include "test_util.h"

#include "gen_model.h"

#include <unistd.h>

static char dir[] = "/tmp/localai-alignment-XXXXXX";

/* Greedy-free check: the logits of a 3-token batch, copied into out (n_vocab floats). */
static int run(const char *path, int use_mmap, int expect_realigned, float *out, int32_t *n_vocab) {
    localai_model_params mp;
    localai_model_params_init(&mp);
    mp.use_mmap = use_mmap;
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(path, &mp, &m), LOCALAI_STATUS_OK);
    if (m == NULL) return 0;
    CHECK_MSG((m->realigned != NULL) == expect_realigned, "%s: realigned %zu bytes", path,
              m->realigned_size);
    for (uint64_t i = 0; i < m->gguf->n_tensors; i++) {
        const lai_gguf_tensor *t = &m->gguf->tensors[i];
        CHECK_MSG((uintptr_t)t->data % lai_type_get(t->type)->align == 0, "%s: %s", path, t->name);
    }
    localai_context_params cp;
    localai_context_params_init(&cp);
    cp.n_ctx = 32;
    cp.n_threads = 2;
    localai_context *c = NULL;
    CHECK_STATUS(localai_context_new(m, &cp, &c), LOCALAI_STATUS_OK);
    int ok = 0;
    if (c != NULL) {
        const localai_token tokens[3] = {1, 7, 42};
        localai_batch b;
        localai_batch_init(&b);
        b.n_tokens = 3;
        b.tokens = tokens;
        const float *logits = NULL;
        CHECK_STATUS(localai_decode(c, &b), LOCALAI_STATUS_OK);
        CHECK_STATUS(localai_logits(c, -1, &logits), LOCALAI_STATUS_OK);
        *n_vocab = localai_model_n_vocab(m);
        if (logits != NULL) {
            memcpy(out, logits, (size_t)*n_vocab * sizeof(float));
            ok = 1;
        }
    }
    localai_context_free(c);
    localai_model_close(m);
    return ok;
}

int main(void) {
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    static const uint32_t types[] = {LAI_TYPE_F32,  LAI_TYPE_F16,  LAI_TYPE_BF16,   LAI_TYPE_Q4_0,
                                     LAI_TYPE_Q4_1, LAI_TYPE_Q5_0, LAI_TYPE_Q5_1,   LAI_TYPE_Q8_0,
                                     LAI_TYPE_Q2_K, LAI_TYPE_Q3_K, LAI_TYPE_Q4_K,   LAI_TYPE_Q5_K,
                                     LAI_TYPE_Q6_K, LAI_TYPE_IQ4_NL, LAI_TYPE_IQ4_XS};
    static float want[1024], got[1024];
    int n_realigned = 0;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const lai_type_traits *tt = lai_type_get(types[ti]);
        gen_options o;
        gen_options_init(&o);
        o.weight_type = types[ti];
        o.n_embd = tt->block_size >= 256 ? 256 : 64;
        o.n_ff = tt->block_size >= 256 ? 256 : 96;
        o.n_layer = 1;
        o.n_ctx = 64;
        o.seed = 7 + ti;
        char base[300], path[300];
        snprintf(base, sizeof base, "%s/%s-a32.gguf", dir, tt->name);
        CHECK_STATUS(gen_model_write(&o, base), LOCALAI_STATUS_OK);
        int32_t nv = 0, nv2 = 0;
        if (!run(base, 1, 0, want, &nv)) continue;
        for (uint32_t align = 1; align <= 2; align++) {
            o.alignment = align;
            snprintf(path, sizeof path, "%s/%s-a%u.gguf", dir, tt->name, align);
            CHECK_STATUS(gen_model_write(&o, path), LOCALAI_STATUS_OK);
            /* Which tensors end up unaligned depends on the header length: ask the file. */
            lai_gguf *g = NULL;
            int unaligned = 0;
            CHECK_STATUS(lai_gguf_open(path, 1, &g), LOCALAI_STATUS_OK);
            for (uint64_t i = 0; g != NULL && i < g->n_tensors; i++)
                unaligned |= (uintptr_t)g->tensors[i].data % lai_type_get(g->tensors[i].type)->align != 0;
            lai_gguf_close(g);
            n_realigned += unaligned;
            for (int use_mmap = 0; use_mmap <= 1; use_mmap++) {
                memset(got, 0, sizeof got);
                if (!run(path, use_mmap, unaligned, got, &nv2)) continue;
                CHECK_MSG(nv == nv2 && memcmp(want, got, (size_t)nv * sizeof(float)) == 0,
                          "%s (mmap %d): logits differ from the aligned file's", path, use_mmap);
            }
            unlink(path);
        }
        unlink(base);
    }
    /* the test must have exercised the realignment, not only aligned files */
    CHECK_MSG(n_realigned >= 10, "only %d files had unaligned tensors", n_realigned);
    rmdir(dir);
    return test_finish("alignment");
}
