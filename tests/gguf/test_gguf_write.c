/* test_gguf_write.c - writer round trips: every value type, tensors, alignment, copy of a real file. */
#include "gguf/gguf.h"
#include "gguf/gguf_write.h"
#include "quant/quant.h"
#include "test_util.h"

#include <stdio.h>
#include <unistd.h>

static int str_is(lai_str s, const char *want) {
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static localai_status source_fill(void *user, uint64_t index, uint8_t *dst, uint64_t n) {
    (void)user;
    for (uint64_t i = 0; i < n; i++) dst[i] = (uint8_t)(index * 31 + i);
    return LOCALAI_STATUS_OK;
}

static void test_round_trip(uint32_t alignment) {
    lai_gguf_writer *w = NULL;
    CHECK_STATUS(lai_gguf_writer_new(&w), LOCALAI_STATUS_OK);
    if (w == NULL) return;
    if (alignment != 32) CHECK_STATUS(lai_gguf_writer_set_alignment(w, alignment), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_str(w, "general.architecture", "llama"), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_u8(w, "t.u8", 200), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_i8(w, "t.i8", -100), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_u16(w, "t.u16", 60000), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_i16(w, "t.i16", -30000), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_u32(w, "t.u32", 4000000000u), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_i32(w, "t.i32", -2000000000), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_u64(w, "t.u64", 18000000000000000000ull), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_i64(w, "t.i64", -9000000000000000000ll), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_f32(w, "t.f32", 0.1f), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_f64(w, "t.f64", 0.1), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_bool(w, "t.bool", 1), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_str_n(w, "t.strnul", "a\0b", 3), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_u32(w, "t.replaced", 1), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_u32(w, "t.replaced", 2), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_u32(w, "t.removed", 3), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_remove(w, "t.removed"), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_remove(w, "t.removed"), LOCALAI_STATUS_NOT_FOUND);
    float fa[3] = {1.5f, -2.0f, 1e-6f};
    int32_t ia[4] = {-1, 0, 1, 2147483647};
    uint8_t ba[3] = {1, 0, 1};
    CHECK_STATUS(lai_gguf_writer_set_array(w, "t.af32", LAI_GGUF_FLOAT32, fa, 3), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_array(w, "t.ai32", LAI_GGUF_INT32, ia, 4), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_array(w, "t.abool", LAI_GGUF_BOOL, ba, 3), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_array(w, "t.aempty", LAI_GGUF_UINT64, NULL, 0), LOCALAI_STATUS_OK);
    lai_str sa[3] = {{"hello", 5}, {"", 0}, {"x\"y", 3}};
    CHECK_STATUS(lai_gguf_writer_set_str_array(w, "t.astr", sa, 3), LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_set_array(w, "t.bad", LAI_GGUF_STRING, sa, 1),
                 LOCALAI_STATUS_INVALID_ARGUMENT);

    float data_a[8 * 3];
    for (int i = 0; i < 24; i++) data_a[i] = (float)i * 0.5f;
    uint64_t ne_a[2] = {8, 3};
    CHECK_STATUS(lai_gguf_writer_add_tensor(w, "a.weight", LAI_TYPE_F32, 2, ne_a, data_a,
                                            sizeof data_a, 1),
                 LOCALAI_STATUS_OK);
    uint64_t ne_b[1] = {5};
    uint16_t data_b[5] = {1, 2, 3, 4, 5};
    CHECK_STATUS(lai_gguf_writer_add_tensor(w, "b", LAI_TYPE_F16, 1, ne_b, data_b, 10, 0),
                 LOCALAI_STATUS_OK);
    uint64_t ne_c[3] = {64, 2, 3}; /* q8_0: 2 blocks of 34 bytes per row, 6 rows */
    CHECK_STATUS(lai_gguf_writer_add_tensor(w, "c", LAI_TYPE_Q8_0, 3, ne_c, NULL, 6 * 68, 0),
                 LOCALAI_STATUS_OK);
    lai_gguf_writer_set_source(w, source_fill, NULL);
    /* rejected tensors */
    CHECK_STATUS(lai_gguf_writer_add_tensor(w, "b", LAI_TYPE_F16, 1, ne_b, data_b, 10, 0),
                 LOCALAI_STATUS_INVALID_ARGUMENT);
    uint64_t ne_bad[1] = {33};
    CHECK(lai_gguf_writer_add_tensor(w, "d", LAI_TYPE_Q8_0, 1, ne_bad, NULL, 34, 0) !=
          LOCALAI_STATUS_OK);
    CHECK_STATUS(lai_gguf_writer_add_tensor(w, "e", LAI_TYPE_F32, 1, ne_b, data_a, 19, 0),
                 LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(lai_gguf_writer_n_tensors(w) == 3);

    uint8_t *img = NULL;
    uint64_t size = 0;
    CHECK_STATUS(lai_gguf_writer_write_mem(w, &img, &size), LOCALAI_STATUS_OK);
    lai_gguf *g = NULL;
    CHECK_STATUS(lai_gguf_parse(img, size, &g), LOCALAI_STATUS_OK);
    if (g != NULL) {
        CHECK(g->version == 3 && g->alignment == alignment);
        CHECK(g->data_offset % alignment == 0);
        uint32_t u32 = 0;
        int32_t i32 = 0;
        uint64_t u64 = 0;
        float f = 0;
        int b = 0;
        lai_str s;
        CHECK_STATUS(lai_gguf_get_u32(g, "t.u8", &u32), LOCALAI_STATUS_OK);
        CHECK(u32 == 200);
        CHECK_STATUS(lai_gguf_get_i32(g, "t.i8", &i32), LOCALAI_STATUS_OK);
        CHECK(i32 == -100);
        CHECK_STATUS(lai_gguf_get_u32(g, "t.u16", &u32), LOCALAI_STATUS_OK);
        CHECK(u32 == 60000);
        CHECK_STATUS(lai_gguf_get_i32(g, "t.i16", &i32), LOCALAI_STATUS_OK);
        CHECK(i32 == -30000);
        CHECK_STATUS(lai_gguf_get_u32(g, "t.u32", &u32), LOCALAI_STATUS_OK);
        CHECK(u32 == 4000000000u);
        CHECK_STATUS(lai_gguf_get_i32(g, "t.u32", &i32), LOCALAI_STATUS_BAD_FORMAT);
        CHECK_STATUS(lai_gguf_get_i32(g, "t.i32", &i32), LOCALAI_STATUS_OK);
        CHECK(i32 == -2000000000);
        CHECK_STATUS(lai_gguf_get_u32(g, "t.i32", &u32), LOCALAI_STATUS_BAD_FORMAT);
        CHECK_STATUS(lai_gguf_get_u64(g, "t.u64", &u64), LOCALAI_STATUS_OK);
        CHECK(u64 == 18000000000000000000ull);
        CHECK_STATUS(lai_gguf_get_u64(g, "t.i64", &u64), LOCALAI_STATUS_BAD_FORMAT);
        CHECK_STATUS(lai_gguf_get_f32(g, "t.f32", &f), LOCALAI_STATUS_OK);
        CHECK(f == 0.1f);
        CHECK_STATUS(lai_gguf_get_f32(g, "t.f64", &f), LOCALAI_STATUS_OK);
        CHECK(f == 0.1f);
        CHECK_STATUS(lai_gguf_get_bool(g, "t.bool", &b), LOCALAI_STATUS_OK);
        CHECK(b == 1);
        CHECK_STATUS(lai_gguf_get_str(g, "t.strnul", &s), LOCALAI_STATUS_OK);
        CHECK(s.len == 3 && memcmp(s.ptr, "a\0b", 3) == 0);
        CHECK_STATUS(lai_gguf_get_u32(g, "t.replaced", &u32), LOCALAI_STATUS_OK);
        CHECK(u32 == 2);
        CHECK(lai_gguf_find(g, "t.removed") == NULL);
        const lai_gguf_kv *kv = NULL;
        CHECK_STATUS(lai_gguf_get_array(g, "t.af32", LAI_GGUF_FLOAT32, &kv), LOCALAI_STATUS_OK);
        if (kv) CHECK(kv->array_len == 3 && lai_gguf_array_f64(kv, 1) == -2.0 &&
                      (float)lai_gguf_array_f64(kv, 2) == 1e-6f);
        CHECK_STATUS(lai_gguf_get_array(g, "t.ai32", LAI_GGUF_INT32, &kv), LOCALAI_STATUS_OK);
        if (kv) CHECK(lai_gguf_array_i64(kv, 0) == -1 && lai_gguf_array_i64(kv, 3) == 2147483647);
        CHECK_STATUS(lai_gguf_get_array(g, "t.aempty", LAI_GGUF_UINT64, &kv), LOCALAI_STATUS_OK);
        if (kv) CHECK(kv->array_len == 0);
        CHECK_STATUS(lai_gguf_get_array(g, "t.astr", LAI_GGUF_STRING, &kv), LOCALAI_STATUS_OK);
        if (kv) CHECK(kv->array_len == 3 && str_is(kv->strings[0], "hello") &&
                      kv->strings[1].len == 0 && str_is(kv->strings[2], "x\"y"));
        char buf[128];
        lai_gguf_format_value(lai_gguf_find(g, "t.astr"), buf, sizeof buf);
        CHECK_MSG(strcmp(buf, "[\"hello\", \"\", \"x\\\"y\"]") == 0, "%s", buf);
        lai_gguf_format_value(lai_gguf_find(g, "t.abool"), buf, sizeof buf);
        CHECK(strcmp(buf, "[true, false, true]") == 0);
        lai_gguf_format_value(lai_gguf_find(g, "t.i64"), buf, sizeof buf);
        CHECK(strcmp(buf, "-9000000000000000000") == 0);
        lai_gguf_format_value(lai_gguf_find(g, "t.f64"), buf, sizeof buf);
        CHECK(strcmp(buf, "0.1") == 0);
        lai_gguf_format_value(lai_gguf_find(g, "t.af32"), buf, sizeof buf);
        CHECK_MSG(strcmp(buf, "[1.5, -2, 1e-06]") == 0, "%s", buf);

        CHECK(g->n_tensors == 3);
        const lai_gguf_tensor *t = lai_gguf_find_tensor(g, "a.weight");
        CHECK(t != NULL && t->ne[0] == 8 && t->ne[1] == 3 && t->n_dims == 2);
        if (t) CHECK(memcmp(t->data, data_a, sizeof data_a) == 0);
        t = lai_gguf_find_tensor(g, "b");
        CHECK(t != NULL && t->type == LAI_TYPE_F16 && t->n_bytes == 10);
        if (t) CHECK(memcmp(t->data, data_b, 10) == 0 && t->offset % alignment == 0);
        t = lai_gguf_find_tensor(g, "c");
        CHECK(t != NULL && t->n_dims == 3 && t->ne[2] == 3 && t->n_bytes == 6 * 68);
        if (t) {
            int same = 1;
            for (uint64_t i = 0; i < t->n_bytes; i++) same &= t->data[i] == (uint8_t)(2 * 31 + i);
            CHECK(same);
            CHECK(t->offset % alignment == 0);
        }
    }
    lai_gguf_close(g);
    lai_free(img);
    lai_gguf_writer_free(w);
}

/* Copying every entry and tensor of a real file gives a file that reads back the same. */
static void test_copy_real_file(void) {
    lai_gguf *src = NULL;
    CHECK_STATUS(lai_gguf_open(test_shared_path("models/stories260K.gguf"), 1, &src),
                 LOCALAI_STATUS_OK);
    if (src == NULL) return;
    lai_gguf_writer *w = NULL;
    CHECK_STATUS(lai_gguf_writer_new(&w), LOCALAI_STATUS_OK);
    for (uint64_t i = 0; i < src->n_kv; i++)
        CHECK_STATUS(lai_gguf_writer_copy_kv(w, &src->kv[i]), LOCALAI_STATUS_OK);
    for (uint64_t i = 0; i < src->n_tensors; i++) {
        const lai_gguf_tensor *t = &src->tensors[i];
        CHECK_STATUS(lai_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data,
                                                t->n_bytes, 0),
                     LOCALAI_STATUS_OK);
    }
    char path[256];
    snprintf(path, sizeof path, "gguf_copy_test_%d.gguf", (int)getpid());
    CHECK_STATUS(lai_gguf_writer_write_file(w, path), LOCALAI_STATUS_OK);
    lai_gguf *dst = NULL;
    CHECK_STATUS(lai_gguf_open(path, 0, &dst), LOCALAI_STATUS_OK);
    if (dst != NULL) {
        /* The source was written by the same layout rules, so the bytes match exactly. */
        CHECK(dst->view.size == src->view.size);
        CHECK(dst->view.size == src->view.size &&
              memcmp(dst->view.data, src->view.data, (size_t)src->view.size) == 0);
        CHECK(dst->n_kv == src->n_kv && dst->n_tensors == src->n_tensors);
    }
    lai_gguf_close(dst);
    remove(path);
    lai_gguf_writer_free(w);
    lai_gguf_close(src);
}

int main(void) {
    test_round_trip(32);
    test_round_trip(64);
    test_round_trip(1);
    test_copy_real_file();
    return test_finish("test_gguf_write");
}
