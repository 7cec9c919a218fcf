/* test_gguf_bad.c - hand-made broken GGUF images: each gives BAD_FORMAT and names what is wrong. */
#include "gguf/gguf.h"
#include "quant/quant.h"
#include "test_util.h"

#include "gguf_craft.h"

/* Parses c's bytes expecting `want`; on failure the message must contain `words`. */
static void expect(craft *c, localai_status want, const char *words, int line) {
    lai_gguf *g = NULL;
    localai_status st = lai_gguf_parse(c->p, c->len, &g);
    test_checks++;
    if (st != want) {
        test_failures++;
        fprintf(stderr, "line %d: status %d, expected %d (%s)\n", line, (int)st, (int)want,
                localai_errmsg());
    } else if (words != NULL && strstr(localai_errmsg(), words) == NULL) {
        test_failures++;
        fprintf(stderr, "line %d: message '%s' lacks '%s'\n", line, localai_errmsg(), words);
    }
    if (st == LOCALAI_STATUS_OK) CHECK(g != NULL);
    else CHECK(g == NULL);
    lai_gguf_close(g);
    free(c->p);
    memset(c, 0, sizeof *c);
}
#define EXPECT_BAD(c, words) expect(&(c), LOCALAI_STATUS_BAD_FORMAT, (words), __LINE__)
#define EXPECT_OK(c) expect(&(c), LOCALAI_STATUS_OK, NULL, __LINE__)

/* A file with one f32 tensor of ne elements at `offset`, preceded by `n_kv` given u32 keys. */
static void one_tensor(craft *c, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                       uint64_t offset, size_t data_bytes) {
    craft_header(c, 3, 1, 0);
    craft_tensor(c, "t", n_dims, ne, type, offset);
    craft_pad(c, 32);
    craft_zeros(c, data_bytes);
}

static void test_header(void) {
    craft c = {0};
    craft_bytes(&c, "GG", 2);
    EXPECT_BAD(c, "too short");
    craft_bytes(&c, "GGML", 4);
    craft_u32(&c, 3);
    EXPECT_BAD(c, "magic");
    craft_header(&c, 1, 0, 0);
    EXPECT_BAD(c, "version 1");
    craft_header(&c, 0x03000000u, 0, 0);
    EXPECT_BAD(c, "big-endian");
    craft_header(&c, 4, 0, 0);
    EXPECT_BAD(c, "version 4");
    craft_bytes(&c, "GGUF", 4);
    craft_u32(&c, 3);
    craft_u32(&c, 0);
    EXPECT_BAD(c, "header");
    craft_header(&c, 3, 0, UINT64_MAX);
    EXPECT_BAD(c, "metadata entries");
    craft_header(&c, 3, 1ull << 62, 0);
    EXPECT_BAD(c, "tensors");
    craft_header(&c, 3, 0, 0);
    EXPECT_OK(c);
    craft_header(&c, 2, 0, 0);
    EXPECT_OK(c);
}

static void test_keys(void) {
    craft c = {0};
    craft_header(&c, 3, 0, 1);
    craft_u64(&c, 0); /* empty key */
    craft_u32(&c, 4);
    craft_u32(&c, 1);
    craft_zeros(&c, 8);
    EXPECT_BAD(c, "empty name");

    craft_header(&c, 3, 0, 1);
    craft_u64(&c, 1ull << 40);
    craft_zeros(&c, 32);
    EXPECT_BAD(c, "exceeds the limit");

    craft_header(&c, 3, 0, 1);
    craft_u64(&c, 60000);
    craft_zeros(&c, 32);
    EXPECT_BAD(c, "past the end");

    craft_header(&c, 3, 0, 1);
    craft_u64(&c, 3);
    craft_bytes(&c, "a\0b", 3);
    craft_u32(&c, 4);
    craft_u32(&c, 1);
    EXPECT_BAD(c, "NUL");

    craft_header(&c, 3, 0, 2);
    craft_kv_u32(&c, "k.a", 1);
    craft_kv_u32(&c, "k.a", 2);
    EXPECT_BAD(c, "duplicate metadata key 'k.a'");

    craft_header(&c, 3, 0, 1);
    craft_str(&c, "k.type");
    craft_u32(&c, 13);
    craft_u32(&c, 0);
    EXPECT_BAD(c, "k.type': unknown value type 13");

    craft_header(&c, 3, 0, 1);
    craft_str(&c, "k.u32");
    craft_u32(&c, 4);
    craft_bytes(&c, "\1\2", 2);
    EXPECT_BAD(c, "k.u32': u32 value");

    craft_header(&c, 3, 0, 1);
    craft_str(&c, "k.bool");
    craft_u32(&c, 7);
    craft_le(&c, 2, 1);
    craft_zeros(&c, 4);
    EXPECT_BAD(c, "k.bool': boolean value 2");
}

static void test_values(void) {
    craft c = {0};
    /* string longer than the file */
    craft_header(&c, 3, 0, 1);
    craft_str(&c, "k.s");
    craft_u32(&c, 8);
    craft_u64(&c, UINT64_MAX);
    craft_zeros(&c, 8);
    EXPECT_BAD(c, "k.s': string 0: length 18446744073709551615");

    /* nested array */
    craft_header(&c, 3, 0, 1);
    craft_str(&c, "k.nest");
    craft_u32(&c, 9);
    craft_u32(&c, 9);
    craft_u64(&c, 1);
    craft_zeros(&c, 16);
    EXPECT_BAD(c, "arrays of arrays");

    /* unknown element type */
    craft_header(&c, 3, 0, 1);
    craft_str(&c, "k.arr");
    craft_u32(&c, 9);
    craft_u32(&c, 99);
    craft_u64(&c, 1);
    craft_zeros(&c, 16);
    EXPECT_BAD(c, "unknown array element type 99");

    /* numeric array whose byte size overflows */
    craft_header(&c, 3, 0, 1);
    craft_str(&c, "k.big");
    craft_u32(&c, 9);
    craft_u32(&c, 10);
    craft_u64(&c, 1ull << 61);
    craft_zeros(&c, 16);
    EXPECT_BAD(c, "k.big': array of 2305843009213693952 u64 values");

    /* array of strings: too many for the bytes left */
    craft_header(&c, 3, 0, 1);
    craft_str(&c, "k.strs");
    craft_u32(&c, 9);
    craft_u32(&c, 8);
    craft_u64(&c, 1000);
    craft_zeros(&c, 64);
    EXPECT_BAD(c, "k.strs': array of 1000 strings");

    /* array of strings: one length runs out of the file */
    craft_header(&c, 3, 0, 1);
    craft_str(&c, "k.strs");
    craft_u32(&c, 9);
    craft_u32(&c, 8);
    craft_u64(&c, 2);
    craft_str(&c, "ok");
    craft_u64(&c, 1000);
    craft_zeros(&c, 16);
    EXPECT_BAD(c, "k.strs': string 1: length 1000");

    /* alignment: zero, not a power of two, wrong type */
    craft_header(&c, 3, 0, 1);
    craft_kv_u32(&c, "general.alignment", 0);
    EXPECT_BAD(c, "general.alignment");
    craft_header(&c, 3, 0, 1);
    craft_kv_u32(&c, "general.alignment", 48);
    EXPECT_BAD(c, "not a power of two");
    craft_header(&c, 3, 0, 1);
    craft_str(&c, "general.alignment");
    craft_u32(&c, 8);
    craft_str(&c, "32");
    EXPECT_BAD(c, "general.alignment': expected an integer");
}

static void test_tensors(void) {
    craft c = {0};
    uint64_t ne2[2] = {4, 2};
    one_tensor(&c, 2, ne2, LAI_TYPE_F32, 0, 32);
    EXPECT_OK(c);

    one_tensor(&c, 2, ne2, LAI_TYPE_F32, 0, 31);
    EXPECT_BAD(c, "tensor 't': data at offset 0 + 32 bytes");

    uint64_t ne5[5] = {1, 1, 1, 1, 1};
    one_tensor(&c, 5, ne5, LAI_TYPE_F32, 0, 32);
    EXPECT_BAD(c, "tensor 't': 5 dimensions");
    one_tensor(&c, 0, ne5, LAI_TYPE_F32, 0, 32);
    EXPECT_BAD(c, "tensor 't': 0 dimensions");

    uint64_t ne_zero[2] = {4, 0};
    one_tensor(&c, 2, ne_zero, LAI_TYPE_F32, 0, 32);
    EXPECT_BAD(c, "tensor 't': dimension 1 is 0");

    uint64_t ne_neg[1] = {1ull << 63};
    one_tensor(&c, 1, ne_neg, LAI_TYPE_F32, 0, 32);
    EXPECT_BAD(c, "dimension 0 is 9223372036854775808");

    uint64_t ne_ovf[3] = {1ull << 32, 1ull << 31, 2};
    one_tensor(&c, 3, ne_ovf, LAI_TYPE_F32, 0, 32);
    EXPECT_BAD(c, "element count overflows");

    uint64_t ne_bytes[2] = {1ull << 40, 1ull << 22}; /* 2^62 elements, 2^64 bytes */
    one_tensor(&c, 2, ne_bytes, LAI_TYPE_F32, 0, 32);
    EXPECT_BAD(c, "byte size overflows");

    one_tensor(&c, 2, ne2, 4, 0, 32); /* retired ggml type id */
    EXPECT_BAD(c, "unknown tensor type id 4");
    one_tensor(&c, 2, ne2, 1000, 0, 32);
    EXPECT_BAD(c, "unknown tensor type id 1000");

    uint64_t ne_q[1] = {33};
    one_tensor(&c, 1, ne_q, LAI_TYPE_Q8_0, 0, 64);
    EXPECT_BAD(c, "row length 33 is not a multiple of the q8_0 block size 32");

    one_tensor(&c, 2, ne2, LAI_TYPE_F32, 16, 64);
    EXPECT_BAD(c, "data offset 16 is not a multiple of the alignment 32");

    one_tensor(&c, 2, ne2, LAI_TYPE_F32, 1ull << 63, 64);
    EXPECT_BAD(c, "runs past the end");
    one_tensor(&c, 2, ne2, LAI_TYPE_F32, UINT64_MAX - 31, 64);
    EXPECT_BAD(c, "runs past the end");

    /* two tensors: overlapping, and duplicate names */
    craft_header(&c, 3, 2, 0);
    craft_tensor(&c, "a", 2, ne2, LAI_TYPE_F32, 0);
    uint64_t ne1[1] = {4};
    craft_tensor(&c, "b", 1, ne1, LAI_TYPE_F32, 0);
    craft_pad(&c, 32);
    craft_zeros(&c, 64);
    EXPECT_BAD(c, "tensor 'a' (data bytes 0..32) overlaps tensor 'b'");

    craft_header(&c, 3, 2, 0);
    craft_tensor(&c, "a", 2, ne2, LAI_TYPE_F32, 0);
    craft_tensor(&c, "a", 1, ne1, LAI_TYPE_F32, 32);
    craft_pad(&c, 32);
    craft_zeros(&c, 64);
    EXPECT_BAD(c, "duplicate tensor name 'a'");

    /* out-of-order but disjoint tensors are fine */
    craft_header(&c, 3, 2, 0);
    craft_tensor(&c, "a", 2, ne2, LAI_TYPE_F32, 32);
    craft_tensor(&c, "b", 1, ne1, LAI_TYPE_F32, 0);
    craft_pad(&c, 32);
    craft_zeros(&c, 64);
    EXPECT_OK(c);

    /* tensor name with a NUL and an over-long name */
    craft_header(&c, 3, 1, 0);
    craft_u64(&c, 2);
    craft_bytes(&c, "x\0", 2);
    craft_u32(&c, 1);
    craft_u64(&c, 4);
    craft_u32(&c, 0);
    craft_u64(&c, 0);
    craft_pad(&c, 32);
    craft_zeros(&c, 32);
    EXPECT_BAD(c, "NUL");
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    craft_header(&c, 3, 1, 0);
    craft_tensor(&c, longname, 1, ne1, LAI_TYPE_F32, 0);
    craft_pad(&c, 32);
    craft_zeros(&c, 32);
    EXPECT_BAD(c, "exceeds the limit of 256");

    /* alignment from the metadata applies to offsets and the data section */
    craft_header(&c, 3, 2, 1);
    craft_kv_u32(&c, "general.alignment", 64);
    craft_tensor(&c, "a", 1, ne1, LAI_TYPE_F32, 0);
    craft_tensor(&c, "b", 1, ne1, LAI_TYPE_F32, 32);
    craft_pad(&c, 64);
    craft_zeros(&c, 128);
    EXPECT_BAD(c, "alignment 64");
    craft_header(&c, 3, 2, 1);
    craft_kv_u32(&c, "general.alignment", 64);
    craft_tensor(&c, "a", 1, ne1, LAI_TYPE_F32, 0);
    craft_tensor(&c, "b", 1, ne1, LAI_TYPE_F32, 64);
    craft_pad(&c, 64);
    size_t data_start = c.len;
    craft_zeros(&c, 128);
    lai_gguf *g = NULL;
    CHECK_STATUS(lai_gguf_parse(c.p, c.len, &g), LOCALAI_STATUS_OK);
    if (g != NULL) {
        CHECK(g->alignment == 64 && g->data_offset == data_start);
        CHECK(lai_gguf_find_tensor(g, "b")->data == c.p + data_start + 64);
    }
    lai_gguf_close(g);
    free(c.p);
}

int main(void) {
    test_header();
    test_keys();
    test_values();
    test_tensors();
    CHECK_STATUS(lai_gguf_parse(NULL, 10, NULL), LOCALAI_STATUS_INVALID_ARGUMENT);
    return test_finish("test_gguf_bad");
}
