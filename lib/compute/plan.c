/* plan.c - memory plan of a graph: offsets in one compute buffer, reusing dead intermediates. */
#include "graph.h"

#define PLAN_ALIGN 64

typedef struct free_block {
    size_t offset, size;
} free_block;

typedef struct planner {
    free_block *blocks;
    int32_t n, cap;
    size_t end;  /* first byte past the highest live allocation */
    size_t peak; /* the most `end` has been */
} planner;

static size_t align_up(size_t x) { return (x + PLAN_ALIGN - 1) & ~(size_t)(PLAN_ALIGN - 1); }

static size_t tensor_bytes(const lai_tensor *t) {
    return align_up(t->nb[3] * (size_t)t->ne[3]);
}

static localai_status plan_alloc(planner *p, size_t size, size_t *out) {
    int32_t best = -1;
    for (int32_t i = 0; i < p->n; i++)
        if (p->blocks[i].size >= size && (best < 0 || p->blocks[i].size < p->blocks[best].size))
            best = i;
    if (best >= 0) {
        *out = p->blocks[best].offset;
        p->blocks[best].offset += size;
        p->blocks[best].size -= size;
        if (p->blocks[best].size == 0) {
            memmove(&p->blocks[best], &p->blocks[best + 1],
                    (size_t)(p->n - best - 1) * sizeof *p->blocks);
            p->n--;
        }
        return LOCALAI_STATUS_OK;
    }
    /* A free block that ends at `end` can be grown instead of starting a new region. */
    if (p->n > 0 && p->blocks[p->n - 1].offset + p->blocks[p->n - 1].size == p->end) {
        free_block *last = &p->blocks[p->n - 1];
        *out = last->offset;
        p->end = last->offset + size;
        p->n--;
    } else {
        *out = p->end;
        if (lai_add_overflow_size(p->end, size, &p->end))
            return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "graph plan: size overflow");
    }
    if (p->end > p->peak) p->peak = p->end;
    return LOCALAI_STATUS_OK;
}

static localai_status plan_release(planner *p, size_t offset, size_t size) {
    /* Insert sorted by offset, then merge with neighbours. */
    int32_t i = 0;
    while (i < p->n && p->blocks[i].offset < offset) i++;
    if (p->n == p->cap) {
        int32_t cap = p->cap ? p->cap * 2 : 32;
        free_block *b = lai_realloc(p->blocks, (size_t)cap * sizeof *b);
        if (b == NULL) return lai_fail(LOCALAI_STATUS_OUT_OF_MEMORY, "graph plan: no memory");
        p->blocks = b;
        p->cap = cap;
    }
    memmove(&p->blocks[i + 1], &p->blocks[i], (size_t)(p->n - i) * sizeof *p->blocks);
    p->blocks[i].offset = offset;
    p->blocks[i].size = size;
    p->n++;
    if (i + 1 < p->n && p->blocks[i].offset + p->blocks[i].size == p->blocks[i + 1].offset) {
        p->blocks[i].size += p->blocks[i + 1].size;
        memmove(&p->blocks[i + 1], &p->blocks[i + 2], (size_t)(p->n - i - 2) * sizeof *p->blocks);
        p->n--;
    }
    if (i > 0 && p->blocks[i - 1].offset + p->blocks[i - 1].size == p->blocks[i].offset) {
        p->blocks[i - 1].size += p->blocks[i].size;
        memmove(&p->blocks[i], &p->blocks[i + 1], (size_t)(p->n - i - 1) * sizeof *p->blocks);
        p->n--;
    }
    return LOCALAI_STATUS_OK;
}

static lai_tensor *root_of(lai_tensor *t) {
    while (t->view_of != NULL) t = t->view_of;
    return t;
}

static localai_status plan_tensor(planner *p, lai_tensor *r) {
    if (r->kind == LAI_TENSOR_EXTERNAL || r->planned) return LOCALAI_STATUS_OK;
    localai_status st = plan_alloc(p, tensor_bytes(r), &r->offset);
    if (st == LOCALAI_STATUS_OK) r->planned = 1;
    return st;
}

static int same_layout(const lai_tensor *a, const lai_tensor *b) {
    if (a->type != b->type) return 0;
    for (int d = 0; d < 4; d++)
        if (a->ne[d] != b->ne[d] || a->nb[d] != b->nb[d]) return 0;
    return 1;
}

/* An input of op i whose memory its result can take over: ops that write each element
 * of a row after reading the same element (or, RMS norm, the whole row) of their inputs,
 * row by row with the same layout, may run in place, and an intermediate this op reads
 * last is dead once it has run. The SwiGLU of a 512-token batch then needs two n_ff-wide
 * buffers instead of three. NULL when none can. */
static lai_tensor *in_place_donor(const lai_op *op, int32_t i, const lai_tensor *rd) {
    switch (op->kind) {
    case LAI_OP_ADD: case LAI_OP_MUL: case LAI_OP_SCALE: case LAI_OP_SOFTCAP:
    case LAI_OP_SWIGLU: case LAI_OP_GEGLU: case LAI_OP_RMS_NORM: break;
    default: return NULL;
    }
    if (op->dst != rd || rd->kind != LAI_TENSOR_INTERMEDIATE) return NULL;
    for (int s = 0; s < 2; s++) {
        lai_tensor *t = op->src[s];
        if (t == NULL || t->view_of != NULL || t->kind != LAI_TENSOR_INTERMEDIATE || !t->planned || t->last_op != i)
            continue;
        if (op->kind == LAI_OP_RMS_NORM && s != 0) continue; /* src1 is the weight row */
        if (same_layout(t, rd)) return t;
    }
    return NULL;
}

localai_status lai_graph_plan(lai_graph *g) {
    if (g->status != LOCALAI_STATUS_OK) return g->status;
    planner p;
    memset(&p, 0, sizeof p);
    localai_status st = LOCALAI_STATUS_OK;

    /* Inputs first (every one, read or not): the host writes them before any op runs,
     * so they live throughout. */
    for (lai_tensor_block *b = g->blocks; b != NULL && st == LOCALAI_STATUS_OK; b = b->next)
        for (int32_t i = 0; i < b->used && st == LOCALAI_STATUS_OK; i++)
            if (b->tensors[i].kind == LAI_TENSOR_INPUT && b->tensors[i].view_of == NULL)
                st = plan_tensor(&p, &b->tensors[i]);

    for (int32_t i = 0; i < g->n_ops && st == LOCALAI_STATUS_OK; i++) {
        lai_op *op = &g->ops[i];
        lai_tensor *rd = root_of(op->dst);
        lai_tensor *donor = NULL;
        if (rd->first_op == i && !rd->planned) {
            donor = in_place_donor(op, i, rd);
            if (donor != NULL) {
                rd->offset = donor->offset;
                rd->planned = 1;
            } else {
                st = plan_tensor(&p, rd);
            }
        }
        /* Release intermediates whose last reader is this op (dst included when unread). */
        for (int s = -1; s < LAI_OP_MAX_SRC && st == LOCALAI_STATUS_OK; s++) {
            lai_tensor *t = s < 0 ? op->dst : op->src[s];
            if (t == NULL) continue;
            lai_tensor *r = root_of(t);
            if (r->kind != LAI_TENSOR_INTERMEDIATE || r->last_op != i || !r->planned || r == donor)
                continue; /* (a donor's memory now belongs to dst) */
            /* Guard against releasing the same tensor twice when an op reads it twice. */
            int seen = 0;
            for (int s2 = -1; s2 < s; s2++) {
                lai_tensor *t2 = s2 < 0 ? op->dst : op->src[s2];
                if (t2 != NULL && root_of(t2) == r) seen = 1;
            }
            if (!seen) st = plan_release(&p, r->offset, tensor_bytes(r));
        }
    }
    g->planned_size = p.peak;
    lai_free(p.blocks);
    if (st != LOCALAI_STATUS_OK) g->status = st;
    return st;
}

/* Views copy their root's buffer and offset, following the view chain. */
static void bind_tensor(lai_tensor *t, lai_buffer *buffer) {
    if (t->kind == LAI_TENSOR_EXTERNAL) return;
    if (t->view_of == NULL) {
        t->buffer = buffer;
        return;
    }
    bind_tensor(t->view_of, buffer);
    t->buffer = t->view_of->buffer;
    t->offset = t->view_of->offset + t->view_offset;
}

void lai_graph_bind(lai_graph *g, lai_buffer *buffer) {
    for (lai_tensor_block *b = g->blocks; b != NULL; b = b->next)
        for (int32_t i = 0; i < b->used; i++) bind_tensor(&b->tensors[i], buffer);
}
