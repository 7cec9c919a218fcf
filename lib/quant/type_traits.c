/* type_traits.c - the one table of tensor element types: names, block geometry, conversions. */
#include "quant_ref.h"

/* Conversions are wired in here as each reference implementation exists; a NULL keeps a
 * type inspectable (sizes, names) without claiming we can compute with it. */
#define ROW_FNS(name) lai_dequantize_row_##name, lai_quantize_row_##name
#define DEQ_ONLY(name) lai_dequantize_row_##name, NULL
#define NO_FNS NULL, NULL

/* Indexed by the ggml type id; ids ggml retired (4, 5, 31-33, 36-38) stay zeroed, so
 * lai_type_get() reports them unknown. Block sizes and bytes per block are those of the
 * file format (checked against ggml_blck_size/ggml_type_size of llama.cpp). The last
 * column is the address alignment the kernels need: that of the widest scalar in a block
 * (the IQ/TQ formats we only inspect hold 16-bit scales at most). */
static const lai_type_traits type_table[LAI_TYPE_COUNT] = {
    [LAI_TYPE_F32] = {"f32", 1, 4, 0, ROW_FNS(f32), 4},
    [LAI_TYPE_F16] = {"f16", 1, 2, 0, ROW_FNS(f16), 2},
    [LAI_TYPE_Q4_0] = {"q4_0", 32, 18, 1, ROW_FNS(q4_0), _Alignof(lai_block_q4_0)},
    [LAI_TYPE_Q4_1] = {"q4_1", 32, 20, 1, ROW_FNS(q4_1), _Alignof(lai_block_q4_1)},
    [LAI_TYPE_Q5_0] = {"q5_0", 32, 22, 1, ROW_FNS(q5_0), _Alignof(lai_block_q5_0)},
    [LAI_TYPE_Q5_1] = {"q5_1", 32, 24, 1, ROW_FNS(q5_1), _Alignof(lai_block_q5_1)},
    [LAI_TYPE_Q8_0] = {"q8_0", 32, 34, 1, ROW_FNS(q8_0), _Alignof(lai_block_q8_0)},
    [LAI_TYPE_Q8_1] = {"q8_1", 32, 36, 1, ROW_FNS(q8_1), _Alignof(lai_block_q8_1)},
    [LAI_TYPE_Q2_K] = {"q2_K", 256, 84, 1, ROW_FNS(q2_K), _Alignof(lai_block_q2_K)},
    [LAI_TYPE_Q3_K] = {"q3_K", 256, 110, 1, ROW_FNS(q3_K), _Alignof(lai_block_q3_K)},
    [LAI_TYPE_Q4_K] = {"q4_K", 256, 144, 1, ROW_FNS(q4_K), _Alignof(lai_block_q4_K)},
    [LAI_TYPE_Q5_K] = {"q5_K", 256, 176, 1, ROW_FNS(q5_K), _Alignof(lai_block_q5_K)},
    [LAI_TYPE_Q6_K] = {"q6_K", 256, 210, 1, ROW_FNS(q6_K), _Alignof(lai_block_q6_K)},
    [LAI_TYPE_Q8_K] = {"q8_K", 256, 292, 1, ROW_FNS(q8_K), _Alignof(lai_block_q8_K)},
    [LAI_TYPE_IQ2_XXS] = {"iq2_xxs", 256, 66, 1, NO_FNS, 2},
    [LAI_TYPE_IQ2_XS] = {"iq2_xs", 256, 74, 1, NO_FNS, 2},
    [LAI_TYPE_IQ3_XXS] = {"iq3_xxs", 256, 98, 1, NO_FNS, 2},
    [LAI_TYPE_IQ1_S] = {"iq1_s", 256, 50, 1, NO_FNS, 2},
    [LAI_TYPE_IQ4_NL] = {"iq4_nl", 32, 18, 1, DEQ_ONLY(iq4_nl), _Alignof(lai_block_iq4_nl)},
    [LAI_TYPE_IQ3_S] = {"iq3_s", 256, 110, 1, NO_FNS, 2},
    [LAI_TYPE_IQ2_S] = {"iq2_s", 256, 82, 1, NO_FNS, 2},
    [LAI_TYPE_IQ4_XS] = {"iq4_xs", 256, 136, 1, DEQ_ONLY(iq4_xs), _Alignof(lai_block_iq4_xs)},
    [LAI_TYPE_I8] = {"i8", 1, 1, 0, NO_FNS, 1},
    [LAI_TYPE_I16] = {"i16", 1, 2, 0, NO_FNS, 2},
    [LAI_TYPE_I32] = {"i32", 1, 4, 0, NO_FNS, 4},
    [LAI_TYPE_I64] = {"i64", 1, 8, 0, NO_FNS, 8},
    [LAI_TYPE_F64] = {"f64", 1, 8, 0, NO_FNS, 8},
    [LAI_TYPE_IQ1_M] = {"iq1_m", 256, 56, 1, NO_FNS, 2},
    [LAI_TYPE_BF16] = {"bf16", 1, 2, 0, ROW_FNS(bf16), 2},
    [LAI_TYPE_TQ1_0] = {"tq1_0", 256, 54, 1, NO_FNS, 2},
    [LAI_TYPE_TQ2_0] = {"tq2_0", 256, 66, 1, NO_FNS, 2},
};

const lai_type_traits *lai_type_get(uint32_t type) {
    if (type >= LAI_TYPE_COUNT || type_table[type].name == NULL) return NULL;
    return &type_table[type];
}

localai_status lai_type_row_bytes(uint32_t type, uint64_t n_elements, uint64_t *out) {
    const lai_type_traits *t = lai_type_get(type);
    if (t == NULL) return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "unknown tensor type id %u", type);
    if (n_elements % t->block_size != 0)
        return lai_fail(LOCALAI_STATUS_BAD_FORMAT,
                        "%llu elements is not a whole number of %s blocks of %u",
                        (unsigned long long)n_elements, t->name, t->block_size);
    uint64_t bytes;
    if (lai_mul_overflow_u64(n_elements / t->block_size, t->type_size, &bytes))
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "%llu elements of %s overflow a byte count",
                        (unsigned long long)n_elements, t->name);
    if (out != NULL) *out = bytes;
    return LOCALAI_STATUS_OK;
}
