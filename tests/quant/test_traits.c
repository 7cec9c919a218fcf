/* test_traits.c - the type table against llama.cpp's sizes, and row-size overflow checks. */
#include "test_util.h"
#include "quant/quant.h"

/* Names, block sizes and bytes per block as ggml_type_name / ggml_blck_size /
 * ggml_type_size report them (llama.cpp, node-llama-cpp 3.x build). */
static const struct {
    uint32_t id;
    const char *name;
    uint32_t block, bytes;
    int quantized;
} expected[] = {
    {0, "f32", 1, 4, 0},       {1, "f16", 1, 2, 0},        {2, "q4_0", 32, 18, 1},
    {3, "q4_1", 32, 20, 1},    {6, "q5_0", 32, 22, 1},     {7, "q5_1", 32, 24, 1},
    {8, "q8_0", 32, 34, 1},    {9, "q8_1", 32, 36, 1},     {10, "q2_K", 256, 84, 1},
    {11, "q3_K", 256, 110, 1}, {12, "q4_K", 256, 144, 1},  {13, "q5_K", 256, 176, 1},
    {14, "q6_K", 256, 210, 1}, {15, "q8_K", 256, 292, 1},  {16, "iq2_xxs", 256, 66, 1},
    {17, "iq2_xs", 256, 74, 1}, {18, "iq3_xxs", 256, 98, 1}, {19, "iq1_s", 256, 50, 1},
    {20, "iq4_nl", 32, 18, 1}, {21, "iq3_s", 256, 110, 1}, {22, "iq2_s", 256, 82, 1},
    {23, "iq4_xs", 256, 136, 1}, {24, "i8", 1, 1, 0},      {25, "i16", 1, 2, 0},
    {26, "i32", 1, 4, 0},      {27, "i64", 1, 8, 0},       {28, "f64", 1, 8, 0},
    {29, "iq1_m", 256, 56, 1}, {30, "bf16", 1, 2, 0},      {34, "tq1_0", 256, 54, 1},
    {35, "tq2_0", 256, 66, 1},
};

/* Types that must convert both ways / at least dequantize (issue 3). */
static const uint32_t must_dequantize[] = {0, 1, 30, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14, 15, 20, 23};
static const uint32_t must_quantize[] = {0, 1, 30, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14, 15};

int main(void) {
    int known = 0;
    for (size_t i = 0; i < LAI_ARRAY_LEN(expected); i++) {
        const lai_type_traits *t = lai_type_get(expected[i].id);
        CHECK_MSG(t != NULL, "type %u", expected[i].id);
        if (t == NULL) continue;
        CHECK_MSG(strcmp(t->name, expected[i].name) == 0, "type %u is '%s'", expected[i].id, t->name);
        CHECK_MSG(t->block_size == expected[i].block && t->type_size == expected[i].bytes &&
                      t->is_quantized == expected[i].quantized,
                  "type %s: %u/%u/%d", t->name, t->block_size, t->type_size, t->is_quantized);
    }
    for (uint32_t id = 0; id < 300; id++) known += lai_type_get(id) != NULL;
    CHECK_MSG(known == (int)LAI_ARRAY_LEN(expected), "%d known ids", known);
    CHECK(lai_type_get(4) == NULL && lai_type_get(31) == NULL && lai_type_get(38) == NULL);
    CHECK(lai_type_get(LAI_TYPE_COUNT) == NULL && lai_type_get(UINT32_MAX) == NULL);

    for (size_t i = 0; i < LAI_ARRAY_LEN(must_dequantize); i++)
        CHECK_MSG(lai_type_get(must_dequantize[i])->to_float != NULL, "to_float %u", must_dequantize[i]);
    for (size_t i = 0; i < LAI_ARRAY_LEN(must_quantize); i++)
        CHECK_MSG(lai_type_get(must_quantize[i])->from_float != NULL, "from_float %u", must_quantize[i]);

    uint64_t bytes = 0;
    CHECK_STATUS(lai_type_row_bytes(LAI_TYPE_Q4_K, 4096, &bytes), LOCALAI_STATUS_OK);
    CHECK(bytes == 16 * 144);
    CHECK_STATUS(lai_type_row_bytes(LAI_TYPE_Q4_0, 0, &bytes), LOCALAI_STATUS_OK);
    CHECK(bytes == 0);
    CHECK_STATUS(lai_type_row_bytes(LAI_TYPE_F32, UINT64_MAX / 4, &bytes), LOCALAI_STATUS_OK);
    CHECK(bytes == (UINT64_MAX / 4) * 4);
    /* whole blocks only */
    CHECK_STATUS(lai_type_row_bytes(LAI_TYPE_Q4_0, 33, &bytes), LOCALAI_STATUS_BAD_FORMAT);
    CHECK_STATUS(lai_type_row_bytes(LAI_TYPE_Q6_K, 172, &bytes), LOCALAI_STATUS_BAD_FORMAT);
    /* overflow of blocks * bytes: must be refused, not wrapped */
    CHECK_STATUS(lai_type_row_bytes(LAI_TYPE_F32, UINT64_MAX / 4 + 1, &bytes), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(lai_type_row_bytes(LAI_TYPE_F64, UINT64_MAX, &bytes), LOCALAI_STATUS_INVALID_ARGUMENT);
    /* blocks no bigger than their elements' count cannot overflow; Q8_K (292 bytes per
     * 256 elements) can */
    CHECK_STATUS(lai_type_row_bytes(LAI_TYPE_Q4_0, UINT64_MAX - 31, &bytes), LOCALAI_STATUS_OK);
    CHECK(bytes == (UINT64_MAX / 32) * 18);
    CHECK_STATUS(lai_type_row_bytes(LAI_TYPE_Q8_K, (UINT64_MAX / 292 + 1) * 256, &bytes),
                 LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(lai_type_row_bytes(LAI_TYPE_Q8_K, (UINT64_MAX / 292) * 256, &bytes), LOCALAI_STATUS_OK);
    CHECK(bytes == (UINT64_MAX / 292) * 292);
    /* unknown ids */
    CHECK_STATUS(lai_type_row_bytes(5, 32, &bytes), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(lai_type_row_bytes(1000, 32, &bytes), LOCALAI_STATUS_INVALID_ARGUMENT);
    return test_finish("test_traits");
}
