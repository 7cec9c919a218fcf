/* forward.c - records a batch's forward pass: the inputs, and the builder of the model's architecture. */
#include "forward.h"

#include "../quant/quant.h"

/* Architectures by builder: adding an architecture adds a row here (and its builder). */
static const struct {
    lai_arch arch;
    lai_tensor *(*build)(lai_forward *f);
} builders[] = {
    {LAI_ARCH_LLAMA, lai_build_llama_family},  {LAI_ARCH_QWEN2, lai_build_llama_family},
    {LAI_ARCH_QWEN3, lai_build_llama_family},  {LAI_ARCH_PHI3, lai_build_llama_family},
    {LAI_ARCH_GEMMA2, lai_build_gemma_family}, {LAI_ARCH_GEMMA3, lai_build_gemma_family},
};

lai_tensor *lai_forward_build(lai_forward *f) {
    lai_graph *g = f->g;
    const lai_hparams *hp = &f->model->hp;
    const int64_t nt = f->n_tokens;
    memset(&f->in, 0, sizeof f->in);
    f->in.tokens = lai_graph_new_tensor(g, LAI_TENSOR_INPUT, LAI_TYPE_I32, nt, 1, 1, "tokens");
    f->in.kv_slots = lai_graph_new_tensor(g, LAI_TENSOR_INPUT, LAI_TYPE_I32, nt, 1, 1, "kv_slots");
    if (f->kv->swa.cells != NULL)
        f->in.swa_slots = lai_graph_new_tensor(g, LAI_TENSOR_INPUT, LAI_TYPE_I32, nt, 1, 1, "swa_slots");
    f->in.info = lai_graph_new_tensor(g, LAI_TENSOR_INPUT, LAI_TYPE_I32, 2 + 2 * nt, 1, 1, "attn_info");
    if (f->in.info != NULL) {
        const int64_t ne[LAI_MAX_DIMS] = {nt, 1, 1, 1};
        const size_t nb[LAI_MAX_DIMS] = {4, (size_t)nt * 4, (size_t)nt * 4, (size_t)nt * 4};
        f->in.positions = lai_graph_view(g, f->in.info, ne, nb, 2 * sizeof(int32_t));
    }
    if (f->n_outputs != f->n_tokens)
        f->in.out_ids = lai_graph_new_tensor(g, LAI_TENSOR_INPUT, LAI_TYPE_I32, f->n_outputs, 1, 1, "out_ids");
    if (g->status != LOCALAI_STATUS_OK) return NULL;

    lai_tensor *(*build)(lai_forward *) = NULL;
    for (size_t i = 0; i < LAI_ARRAY_LEN(builders); i++)
        if (builders[i].arch == hp->arch) build = builders[i].build;
    if (build == NULL) {
        g->status = lai_fail(LOCALAI_STATUS_UNSUPPORTED, "no forward pass for architecture %s",
                             lai_arch_name(hp->arch));
        return NULL;
    }
    lai_tensor *logits = build(f);
    lai_graph_mark_output(g, logits);
    return g->status == LOCALAI_STATUS_OK ? logits : NULL;
}
