/* test_llamacpp_ref.c - our quantizers and dequantizers against bytes made by llama.cpp. */
#include "test_util.h"
#include "quant/quant.h"

#include <stdint.h>

/* The vectors in ref/ were written by ref/make_ref.py through llama.cpp's own
 * ggml_quantize_chunk and dequantize_row_* (see that script for the layout). Quantizing
 * the same input must give the same bytes; dequantizing random blocks the same floats,
 * bit for bit. */

static unsigned char *read_file(const char *name, size_t *size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", QUANT_REF_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return buf;
}

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const char *const type_names[] = {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_K", "q3_K",
                                         "q4_K", "q5_K", "q6_K", "iq4_nl", "iq4_xs", "f16", "bf16"};

int main(void) {
    size_t in_size = 0;
    unsigned char *in = read_file("input.ref", &in_size);
    CHECK(in != NULL && in_size >= 12 && memcmp(in, "LAIQIN01", 8) == 0);
    if (in == NULL) return test_finish("test_llamacpp_ref");
    const uint32_t n_in = rd32(in + 8);
    CHECK(in_size == 12 + (size_t)n_in * 4);
    float *x = malloc((size_t)n_in * sizeof(float));
    memcpy(x, in + 12, (size_t)n_in * sizeof(float));

    for (size_t t = 0; t < LAI_ARRAY_LEN(type_names); t++) {
        char fname[64];
        snprintf(fname, sizeof fname, "%s.ref", type_names[t]);
        size_t size = 0;
        unsigned char *ref = read_file(fname, &size);
        CHECK_MSG(ref != NULL && size >= 20 && memcmp(ref, "LAIQREF1", 8) == 0, "%s", fname);
        if (ref == NULL || size < 20) {
            free(ref);
            continue;
        }
        const uint32_t type = rd32(ref + 8), n_quant = rd32(ref + 12), n_deq = rd32(ref + 16);
        const lai_type_traits *tr = lai_type_get(type);
        CHECK_MSG(tr != NULL && strcmp(tr->name, type_names[t]) == 0, "%s: type %u", fname, type);
        if (tr == NULL) {
            free(ref);
            continue;
        }
        uint64_t qbytes = 0, dbytes = 0;
        CHECK_STATUS(lai_type_row_bytes(type, n_quant, &qbytes), LOCALAI_STATUS_OK);
        CHECK_STATUS(lai_type_row_bytes(type, n_deq, &dbytes), LOCALAI_STATUS_OK);
        CHECK_MSG(size == 20 + qbytes + dbytes + (size_t)n_deq * 4, "%s: size %zu", fname, size);
        if (size != 20 + qbytes + dbytes + (size_t)n_deq * 4) {
            free(ref);
            continue;
        }
        const unsigned char *qref = ref + 20, *blocks = qref + qbytes;
        const unsigned char *deq_ref = blocks + dbytes;

        if (n_quant > 0) {
            CHECK_MSG(n_quant == n_in && tr->from_float != NULL, "%s: quantizer", tr->name);
            if (n_quant == n_in && tr->from_float != NULL) {
                unsigned char *q = calloc(1, (size_t)qbytes);
                tr->from_float(x, q, n_quant);
                size_t bad_blocks = 0, first = SIZE_MAX;
                for (uint64_t b = 0; b < qbytes / tr->type_size; b++) {
                    if (memcmp(q + b * tr->type_size, qref + b * tr->type_size, tr->type_size) != 0) {
                        if (first == SIZE_MAX) first = (size_t)b;
                        bad_blocks++;
                    }
                }
                CHECK_MSG(bad_blocks == 0, "%s: %zu of %llu quantized blocks differ from llama.cpp (first: %zu)",
                          tr->name, bad_blocks, (unsigned long long)(qbytes / tr->type_size), first);
                free(q);
            }
        }

        float *y = malloc((size_t)n_deq * sizeof(float));
        tr->to_float(blocks, y, n_deq);
        size_t bad = 0;
        for (uint32_t i = 0; i < n_deq; i++) {
            if (memcmp(&y[i], deq_ref + 4 * (size_t)i, 4) != 0) {
                if (bad < 3) {
                    float want;
                    memcpy(&want, deq_ref + 4 * (size_t)i, 4);
                    fprintf(stderr, "%s: element %u: %.9g, llama.cpp %.9g\n", tr->name, i, (double)y[i], (double)want);
                }
                bad++;
            }
        }
        CHECK_MSG(bad == 0, "%s: %zu dequantized values differ from llama.cpp", tr->name, bad);
        free(y);
        free(ref);
    }
    free(x);
    free(in);
    return test_finish("test_llamacpp_ref");
}
