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
        if (rd->first_op == i) st = plan_tensor(&p, rd);
        /* Release intermediates whose last reader is this op (dst included when unread). */
        for (int s = -1; s < LAI_OP_MAX_SRC && st == LOCALAI_STATUS_OK; s++) {
            lai_tensor *t = s < 0 ? op->dst : op->src[s];
            if (t == NULL) continue;
            lai_tensor *r = root_of(t);
            if (r->kind != LAI_TENSOR_INTERMEDIATE || r->last_op != i || !r->planned)
                continue;
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
