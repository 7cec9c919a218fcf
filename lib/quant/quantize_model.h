/* quantize_model.h - re-encode a whole GGUF model to a llama.cpp file type (Q4_K_M, ...). */
#ifndef LAI_QUANTIZE_MODEL_H
#define LAI_QUANTIZE_MODEL_H

#include "../gguf/gguf.h"
#include "quant.h"

/* File types as llama.cpp numbers them (general.file_type, enum llama_ftype). Only the
 * ones we can write are listed. */
enum {
    LAI_FTYPE_ALL_F32 = 0,
    LAI_FTYPE_MOSTLY_F16 = 1,
    LAI_FTYPE_MOSTLY_Q4_0 = 2,
    LAI_FTYPE_MOSTLY_Q4_1 = 3,
    LAI_FTYPE_MOSTLY_Q8_0 = 7,
    LAI_FTYPE_MOSTLY_Q5_0 = 8,
    LAI_FTYPE_MOSTLY_Q5_1 = 9,
    LAI_FTYPE_MOSTLY_Q4_K_S = 14,
    LAI_FTYPE_MOSTLY_Q4_K_M = 15,
    LAI_FTYPE_MOSTLY_Q5_K_S = 16,
    LAI_FTYPE_MOSTLY_Q5_K_M = 17,
    LAI_FTYPE_MOSTLY_Q6_K = 18,
    LAI_FTYPE_MOSTLY_BF16 = 32,
};

/* "Q4_K_M", "q8_0", "F16", ... (case-insensitive) to a file type; BAD value gives
 * INVALID_ARGUMENT with the list of accepted names. */
localai_status lai_ftype_from_name(const char *name, uint32_t *out);
/* "Q4_K_M" etc., or NULL for a file type we cannot write. */
const char *lai_ftype_name(uint32_t ftype);

/* What happens to one input tensor. */
typedef struct lai_quant_choice {
    uint32_t type;     /* output type (equal to the input type: copied unchanged) */
    int fallback;      /* 1: the row length did not fit the mix's type, a wider one was used */
} lai_quant_choice;

/* Chooses the output type of every tensor of `in` (choices[i] for in->tensors[i]) the way
 * llama.cpp's llama_model_quantize does for `ftype` without an importance matrix:
 * only 2-D+ tensors whose names end in "weight" (norms, ffn_gate_inp and a few others
 * excluded) are re-encoded; output.weight (and token_embd.weight when there is no
 * output.weight) gets Q6_K in the quantized mixes, Q8_0 when its rows do not fit
 * 256; the _M mixes give attn_v / attn_qkv and ffn_down Q6_K on the layers llama.cpp's
 * use_more_bits picks; rows that do not divide into the chosen type's blocks fall back
 * (Q4_K->Q5_0, Q5_K->Q5_1, Q6_K->Q8_0) and finally to F16. Where llama.cpp stops with
 * an error (a Q4_0 / Q8_0 row not a multiple of 32) we fall back to F16 too.
 * Fails with a message naming the tensor when a MoE layer index cannot be found. */
localai_status lai_quantize_choose_types(const lai_gguf *in, uint32_t ftype,
                                         lai_quant_choice *choices);

/* Fills order[0..n_tensors) with tensor indices in llama.cpp's processing order: tensors
 * outside layers first, then layer by layer ("blk.N."), each group sorted by name. The
 * per-layer counters of the mixes follow this order, and the output file uses it. */
localai_status lai_quantize_order(const lai_gguf *in, uint64_t *order);

/* Called after each tensor is written; non-zero cancels (CANCELLED). */
typedef int (*lai_quantize_progress_fn)(void *user, uint64_t done, uint64_t total,
                                        const char *tensor, uint32_t type);

typedef struct lai_quantize_params {
    uint32_t ftype;
    int32_t n_threads;            /* <= 0: one per core */
    int allow_requantize;         /* accept already-quantized input tensors */
    lai_quantize_progress_fn progress;
    void *progress_user;
    /* Accept an output that is the input file itself (the same path, a link to it or a
     * hard link); else that is refused with INVALID_ARGUMENT. Even then the input is only
     * replaced by a rename once the whole output is written. */
    int overwrite_input;
} lai_quantize_params;

void lai_quantize_params_default(lai_quantize_params *p);

/* Reads `in_path`, writes `out_path` (GGUF v3): all metadata kept except split keys,
 * general.file_type and general.quantization_version set, the input's alignment kept,
 * tensors in llama.cpp's output order (non-layer tensors, then by layer, by name).
 * Input tensors to re-encode must be F32, F16 or BF16 (or any type we can dequantize,
 * with allow_requantize) and finite. The output is written to a new, uniquely named file
 * in OUT's folder and renamed over `out_path` when complete (a file or link there is
 * replaced, not written through); a failure or cancel removes it and leaves `out_path` as
 * it was. */
localai_status lai_quantize_model(const char *in_path, const char *out_path,
                                  const lai_quantize_params *params);

#endif /* LAI_QUANTIZE_MODEL_H */
