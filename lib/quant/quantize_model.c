/* quantize_model.c - `localai quantize`: read a GGUF model, re-encode its tensors, write it. */
#include "quantize_model.h"

#include "../base/platform.h"
#include "../gguf/gguf_write.h"

#include <math.h>

void lai_quantize_params_default(lai_quantize_params *p) {
    memset(p, 0, sizeof *p);
    p->ftype = LAI_FTYPE_MOSTLY_Q8_0;
}

/* ---- converting one tensor, rows split over threads ---------------------------------- */

typedef struct convert_task {
    const lai_gguf_tensor *t;
    const lai_type_traits *from, *to;
    uint64_t in_row_bytes, out_row_bytes;
    uint64_t row_begin, row_end;
    uint8_t *dst;
    /* results, read by the caller after join */
    localai_status status;
    uint64_t bad_row, bad_col;
} convert_task;

static void convert_rows(void *arg) {
    convert_task *task = arg;
    const uint64_t ne0 = task->t->ne[0];
    /* Rows are copied out of the file first: the mapping only guarantees the data
     * section's alignment, and the block structs want their natural alignment. */
    uint8_t *raw = lai_malloc((size_t)task->in_row_bytes + 1);
    float *row = lai_malloc((size_t)ne0 * sizeof(float));
    if (raw == NULL || row == NULL) {
        task->status = LOCALAI_STATUS_OUT_OF_MEMORY;
        goto done;
    }
    for (uint64_t r = task->row_begin; r < task->row_end; r++) {
        memcpy(raw, task->t->data + r * task->in_row_bytes, (size_t)task->in_row_bytes);
        task->from->to_float(raw, row, (int64_t)ne0);
        for (uint64_t c = 0; c < ne0; c++) {
            if (!isfinite(row[c])) {
                task->status = LOCALAI_STATUS_BAD_FORMAT;
                task->bad_row = r;
                task->bad_col = c;
                goto done;
            }
        }
        task->to->from_float(row, task->dst + r * task->out_row_bytes, (int64_t)ne0);
    }
    task->status = LOCALAI_STATUS_OK;
done:
    lai_free(raw);
    lai_free(row);
}

static localai_status convert_tensor(const lai_gguf_tensor *t, uint32_t new_type, uint8_t *dst,
                                     uint64_t n_bytes, int n_threads) {
    const lai_type_traits *from = lai_type_get(t->type), *to = lai_type_get(new_type);
    if (from == NULL || from->to_float == NULL)
        return lai_fail(LOCALAI_STATUS_UNSUPPORTED, "tensor '%s': cannot convert from type %s",
                        t->name, from ? from->name : "?");
    if (to == NULL || to->from_float == NULL)
        return lai_fail(LOCALAI_STATUS_UNSUPPORTED, "tensor '%s': cannot write type %s", t->name,
                        to ? to->name : "?");
    const uint64_t ne0 = t->ne[0];
    if (ne0 == 0) return LOCALAI_STATUS_OK;
    uint64_t n_rows = t->ne[1] * t->ne[2] * t->ne[3]; /* the reader checked the product */
    uint64_t in_row_bytes, out_row_bytes;
    localai_status st = lai_type_row_bytes(t->type, ne0, &in_row_bytes);
    if (st == LOCALAI_STATUS_OK) st = lai_type_row_bytes(new_type, ne0, &out_row_bytes);
    if (st != LOCALAI_STATUS_OK) return st;
    if (ne0 > SIZE_MAX / sizeof(float) || in_row_bytes * n_rows != t->n_bytes ||
        out_row_bytes * n_rows != n_bytes)
        return lai_fail(LOCALAI_STATUS_INTERNAL, "tensor '%s': inconsistent sizes", t->name);

    /* a thread per ~64K elements at least, so small tensors do not pay for threads */
    uint64_t want = (ne0 * n_rows) / 65536 + 1;
    int n = n_threads;
    if ((uint64_t)n > want) n = (int)want;
    if ((uint64_t)n > n_rows) n = (int)n_rows;
    if (n < 1) n = 1;
    convert_task tasks[64];
    lai_thread *threads[64];
    if (n > 64) n = 64;
    for (int i = 0; i < n; i++) {
        tasks[i] = (convert_task){t, from, to, in_row_bytes, out_row_bytes,
                                  n_rows * (uint64_t)i / (uint64_t)n, n_rows * (uint64_t)(i + 1) / (uint64_t)n,
                                  dst, LOCALAI_STATUS_INTERNAL, 0, 0};
        threads[i] = NULL;
    }
    for (int i = 1; i < n; i++)
        if (lai_thread_start(&threads[i], convert_rows, &tasks[i]) != LOCALAI_STATUS_OK) {
            lai_clear_error();
            threads[i] = NULL;
            convert_rows(&tasks[i]); /* no thread: do that share here */
        }
    convert_rows(&tasks[0]);
    for (int i = 1; i < n; i++)
        if (threads[i] != NULL) lai_thread_join(threads[i]);
    for (int i = 0; i < n; i++) {
        if (tasks[i].status == LOCALAI_STATUS_BAD_FORMAT)
            return lai_fail(LOCALAI_STATUS_BAD_FORMAT, "tensor '%s': row %llu, column %llu is not finite",
                            t->name, (unsigned long long)tasks[i].bad_row,
                            (unsigned long long)tasks[i].bad_col);
        if (tasks[i].status != LOCALAI_STATUS_OK)
            return lai_fail(tasks[i].status, "tensor '%s': out of memory converting rows", t->name);
    }
    return LOCALAI_STATUS_OK;
}

/* ---- the writer's data source ---------------------------------------------------------- */

typedef struct job {
    const lai_gguf *in;
    const lai_quantize_params *params;
    const uint64_t *order; /* output position -> input tensor */
    const lai_quant_choice *choices;
    int n_threads;
} job;

static localai_status produce_tensor(void *user, uint64_t index, uint8_t *dst, uint64_t n_bytes) {
    job *j = user;
    const uint64_t src = j->order[index];
    const lai_gguf_tensor *t = &j->in->tensors[src];
    const uint32_t new_type = j->choices[src].type;
    localai_status st = LOCALAI_STATUS_OK;
    if (new_type == t->type) {
        if (n_bytes != t->n_bytes) return lai_fail(LOCALAI_STATUS_INTERNAL, "tensor '%s': size changed", t->name);
        memcpy(dst, t->data, (size_t)n_bytes);
    } else {
        st = convert_tensor(t, new_type, dst, n_bytes, j->n_threads);
    }
    if (st == LOCALAI_STATUS_OK && j->params->progress != NULL &&
        j->params->progress(j->params->progress_user, index + 1, j->in->n_tensors, t->name, new_type) != 0)
        st = lai_fail(LOCALAI_STATUS_CANCELLED, "quantize: cancelled");
    return st;
}

/* ---- the whole model ------------------------------------------------------------------- */

static int is_split_key(const char *key) {
    return strcmp(key, "split.no") == 0 || strcmp(key, "split.count") == 0 ||
           strcmp(key, "split.tensors.count") == 0;
}

/* Checks the plan before any byte is written: every conversion must be possible. */
static localai_status check_plan(const lai_gguf *in, const lai_quant_choice *choices, int allow_requantize) {
    for (uint64_t i = 0; i < in->n_tensors; i++) {
        const lai_gguf_tensor *t = &in->tensors[i];
        if (choices[i].type == t->type) continue;
        const lai_type_traits *from = lai_type_get(t->type);
        if (from->is_quantized && !allow_requantize)
            return lai_fail(LOCALAI_STATUS_UNSUPPORTED,
                            "tensor '%s' is already %s: requantizing loses quality (allow it explicitly)",
                            t->name, from->name);
        if (from->to_float == NULL)
            return lai_fail(LOCALAI_STATUS_UNSUPPORTED, "tensor '%s': cannot read type %s", t->name, from->name);
        if (lai_type_get(choices[i].type)->from_float == NULL)
            return lai_fail(LOCALAI_STATUS_UNSUPPORTED, "tensor '%s': cannot write type %s", t->name,
                            lai_type_get(choices[i].type)->name);
    }
    return LOCALAI_STATUS_OK;
}

static localai_status build_and_write(const lai_gguf *in, const char *out_path, const lai_quantize_params *p,
                                      const lai_quant_choice *choices, const uint64_t *order) {
    lai_gguf_writer *w = NULL;
    localai_status st = lai_gguf_writer_new(&w);
    if (st != LOCALAI_STATUS_OK) return st;
    for (uint64_t i = 0; i < in->n_kv && st == LOCALAI_STATUS_OK; i++)
        if (!is_split_key(in->kv[i].key)) st = lai_gguf_writer_copy_kv(w, &in->kv[i]);
    /* the quantization scheme version llama.cpp writes (GGML_QNT_VERSION) */
    if (st == LOCALAI_STATUS_OK) st = lai_gguf_writer_set_u32(w, "general.quantization_version", 2);
    if (st == LOCALAI_STATUS_OK) st = lai_gguf_writer_set_u32(w, "general.file_type", p->ftype);
    if (st == LOCALAI_STATUS_OK) st = lai_gguf_writer_set_alignment(w, (uint32_t)in->alignment);
    for (uint64_t k = 0; k < in->n_tensors && st == LOCALAI_STATUS_OK; k++) {
        const lai_gguf_tensor *t = &in->tensors[order[k]];
        uint64_t n_elems = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3], n_bytes;
        st = lai_type_row_bytes(choices[order[k]].type, n_elems, &n_bytes);
        if (st == LOCALAI_STATUS_OK)
            st = lai_gguf_writer_add_tensor(w, t->name, choices[order[k]].type, t->n_dims, t->ne, NULL, n_bytes, 0);
    }
    job j = {in, p, order, choices, p->n_threads > 0 ? p->n_threads : lai_cpu_count()};
    if (j.n_threads > 64) j.n_threads = 64;
    lai_gguf_writer_set_source(w, produce_tensor, &j);
    /* The writer fills a new, uniquely named file beside OUT and renames it over OUT only
     * when complete: a failure or cancel leaves OUT as it was, no file or link already in
     * the folder is opened, and an input replaced this way stays valid under our mapping. */
    if (st == LOCALAI_STATUS_OK) st = lai_gguf_writer_write_file(w, out_path);
    lai_gguf_writer_free(w);
    return st;
}

localai_status lai_quantize_model(const char *in_path, const char *out_path, const lai_quantize_params *params) {
    if (in_path == NULL || out_path == NULL || params == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "quantize: NULL argument");
    if (lai_ftype_name(params->ftype) == NULL)
        return lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT, "quantize: file type %u cannot be written", params->ftype);
    lai_gguf *in = NULL;
    localai_status st = lai_gguf_open(in_path, 1, &in);
    if (st != LOCALAI_STATUS_OK) return st;

    lai_quant_choice *choices = NULL;
    uint64_t *order = NULL;
    int same = 0;
    st = lai_file_same(in_path, out_path, &same);
    if (st == LOCALAI_STATUS_OK && same && !params->overwrite_input)
        st = lai_fail(LOCALAI_STATUS_INVALID_ARGUMENT,
                      "the output %s is the input file itself (the same name, a link or a hard link): "
                      "refusing to replace the input unless overwrite_input is set",
                      out_path);
    if (st != LOCALAI_STATUS_OK) goto done;
    size_t n = (size_t)(in->n_tensors ? in->n_tensors : 1);
    if (in->n_tensors > SIZE_MAX / sizeof(lai_quant_choice)) {
        st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "quantize: too many tensors");
        goto done;
    }
    choices = lai_calloc(n, sizeof *choices);
    order = lai_calloc(n, sizeof *order);
    if (choices == NULL || order == NULL) {
        st = lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "quantize: out of memory");
        goto done;
    }
    st = lai_quantize_choose_types(in, params->ftype, choices);
    if (st == LOCALAI_STATUS_OK) st = check_plan(in, choices, params->allow_requantize);
    if (st == LOCALAI_STATUS_OK) st = lai_quantize_order(in, order);
    if (st == LOCALAI_STATUS_OK) st = build_and_write(in, out_path, params, choices, order);
done:
    if (st != LOCALAI_STATUS_OK) lai_error_prefix(in_path);
    lai_free(choices);
    lai_free(order);
    lai_gguf_close(in);
    return st;
}
