/* vk_ops.c - each graph op as one shader dispatch: which kernel, its push constants and workgroup count. */
#include "vk_ops.h"

#include "vk_backend.h"

#include <stdio.h>

#include "../quant/quant.h"

#define WG_ELEM 256u /* local size of the element-wise shaders (kernels/NAME.comp) */
#define GEMM_MIN_COLUMNS 8 /* matrix products with this many columns of x take gemm.comp */

static const uint32_t weight_types[] = {
    LAI_TYPE_F32,  LAI_TYPE_F16,  LAI_TYPE_BF16, LAI_TYPE_Q4_0, LAI_TYPE_Q4_1,
    LAI_TYPE_Q5_0, LAI_TYPE_Q5_1, LAI_TYPE_Q8_0, LAI_TYPE_IQ4_NL, LAI_TYPE_Q2_K,
    LAI_TYPE_Q3_K, LAI_TYPE_Q4_K, LAI_TYPE_Q5_K, LAI_TYPE_Q6_K, LAI_TYPE_IQ4_XS,
};

int lai_vk_weight_types(const uint32_t **types) {
    *types = weight_types;
    return (int)(sizeof weight_types / sizeof weight_types[0]);
}

int lai_vk_has_weight_kernel(uint32_t type) {
    for (size_t i = 0; i < sizeof weight_types / sizeof weight_types[0]; i++)
        if (weight_types[i] == type) return 1;
    return 0;
}

const char *lai_vk_tier_name(int tier) {
    return tier == LAI_VK_TIER_SUBGROUP ? "subgroup" : "portable";
}

const char *lai_vk_kernel_name(int kernel, char *buf, size_t size) {
    static const char *const fixed[] = {"elementwise", "rms_norm", "rope", "kv_store", "attention"};
    if (kernel >= 0 && kernel < LAI_VK_K_MATMUL) {
        snprintf(buf, size, "%s", fixed[kernel]);
        return buf;
    }
    if (kernel < 0 || kernel >= LAI_VK_K_COUNT) return NULL;
    const int family = kernel < LAI_VK_K_GET_ROWS ? 0 : kernel < LAI_VK_K_MATMUL_SG ? 1 : kernel < LAI_VK_K_GEMM ? 2 : 3;
    static const int base[4] = {LAI_VK_K_MATMUL, LAI_VK_K_GET_ROWS, LAI_VK_K_MATMUL_SG, LAI_VK_K_GEMM};
    static const char *const prefix[4] = {"matmul", "get_rows", "matmul_sg", "gemm"};
    const uint32_t type = (uint32_t)(kernel - base[family]);
    const lai_type_traits *tt = lai_type_get(type);
    if (tt == NULL || !lai_vk_has_weight_kernel(type)) return NULL;
    int n = snprintf(buf, size, "%s_%s", prefix[family], tt->name);
    for (int i = 0; i < n && (size_t)i < size; i++)
        if (buf[i] >= 'A' && buf[i] <= 'Z') buf[i] = (char)(buf[i] - 'A' + 'a');
    return buf;
}

/* Every offset, stride and count a shader sees is 32-bit. */
static int fits(uint64_t v) { return v <= 0xffffffffu; }

static int u32_of(size_t v, uint32_t *out) {
    if (!fits(v)) return 0;
    *out = (uint32_t)v;
    return 1;
}

static int set_offsets(const lai_op *op, lai_vk_push *pc) {
    if (!u32_of(op->dst->offset, &pc->off[0])) return 0;
    for (int s = 0; s < 5; s++)
        if (op->src[s] != NULL && !u32_of(op->src[s]->offset, &pc->off[1 + s])) return 0;
    return 1;
}

static int f32_aligned(const lai_tensor *t) {
    return t == NULL || (t->offset % 4 == 0 && t->nb[1] % 4 == 0 && t->nb[2] % 4 == 0 && t->nb[3] % 4 == 0);
}

static uint32_t groups_for(uint64_t items, uint32_t local) { return (uint32_t)((items + local - 1) / local); }

int lai_vk_op_prepare(const lai_op *op, int tier, lai_vk_dispatch *d, const char **why) {
    memset(d, 0, sizeof *d);
    lai_vk_push *pc = &d->pc;
    const lai_tensor *a = op->src[0], *b = op->src[1], *dst = op->dst;
    *why = "a tensor lies beyond 4 GiB of its buffer";
    if (!set_offsets(op, pc)) return 0;
    for (int i = 0; i < 4; i++) pc->ip[i] = op->ip[i];
    for (int i = 0; i < 6; i++) pc->fp[i] = op->fp[i];
    *why = "a tensor of more than 2^32 elements";
    for (int i = 0; i < 4; i++)
        if (!fits((uint64_t)a->ne[i]) || !fits((uint64_t)dst->ne[i])) return 0;
    for (int i = 0; i < 4; i++)
        if (!fits(a->nb[i]) || !fits(dst->nb[i]) || (b != NULL && !fits(b->nb[i]))) return 0;
    const uint64_t n_elem = (uint64_t)lai_tensor_nelements(a);
    if (!fits(n_elem)) return 0;
    *why = "an f32 tensor that is not 4-byte aligned";

    switch (op->kind) {
    case LAI_OP_ADD:
    case LAI_OP_MUL:
    case LAI_OP_SCALE:
    case LAI_OP_SOFTCAP:
    case LAI_OP_SWIGLU:
    case LAI_OP_GEGLU: {
        if (!f32_aligned(a) || !f32_aligned(b) || !f32_aligned(dst)) return 0;
        d->kernel = LAI_VK_K_ELEMENTWISE;
        pc->aux = op->kind == LAI_OP_ADD ? 0u : op->kind == LAI_OP_MUL ? 1u : op->kind == LAI_OP_SCALE ? 2u
                  : op->kind == LAI_OP_SOFTCAP ? 3u : op->kind == LAI_OP_SWIGLU ? 4u : 5u;
        for (int i = 0; i < 4; i++) pc->ne[i] = (uint32_t)a->ne[i];
        for (int i = 0; i < 3; i++) {
            pc->nb[i] = (uint32_t)a->nb[i + 1];
            pc->nb[6 + i] = (uint32_t)dst->nb[i + 1];
        }
        if (b != NULL) {
            /* ADD / MUL: src1 the same shape, or one row broadcast over every row */
            const int broadcast = (op->kind == LAI_OP_ADD || op->kind == LAI_OP_MUL) &&
                                  lai_tensor_nelements(b) == b->ne[0] && (int64_t)n_elem != a->ne[0];
            for (int i = 0; i < 3; i++) pc->nb[3 + i] = broadcast ? 0u : (uint32_t)b->nb[i + 1];
        }
        pc->n = (uint32_t)n_elem;
        d->groups = groups_for(n_elem, WG_ELEM);
        return 1;
    }
    case LAI_OP_RMS_NORM: {
        if (!f32_aligned(a) || !f32_aligned(b) || !f32_aligned(dst)) return 0;
        d->kernel = LAI_VK_K_RMS_NORM;
        for (int i = 0; i < 4; i++) pc->ne[i] = (uint32_t)a->ne[i];
        for (int i = 0; i < 3; i++) {
            pc->nb[i] = (uint32_t)a->nb[i + 1];
            pc->nb[3 + i] = (uint32_t)dst->nb[i + 1];
        }
        pc->aux = b != NULL;
        pc->n = (uint32_t)(n_elem / (uint64_t)a->ne[0]);
        d->groups = pc->n;
        return 1;
    }
    case LAI_OP_GET_ROWS: {
        *why = "no shader for this table type";
        if (!lai_vk_has_weight_kernel(a->type)) return 0;
        d->kernel = LAI_VK_K_GET_ROWS + (int)a->type;
        pc->ne[0] = (uint32_t)a->ne[0];
        pc->ne[1] = (uint32_t)a->ne[1];
        pc->nb[0] = (uint32_t)a->nb[1];
        pc->nb[1] = (uint32_t)dst->nb[1];
        const uint64_t items = (uint64_t)a->ne[0] * (uint64_t)b->ne[0];
        *why = "a tensor of more than 2^32 elements";
        if (!fits(items)) return 0;
        pc->n = (uint32_t)items;
        d->groups = groups_for(items, WG_ELEM);
        return 1;
    }
    case LAI_OP_MATMUL: {
        *why = "no shader for this weight type";
        if (!lai_vk_has_weight_kernel(a->type)) return 0;
        *why = "an f32 tensor that is not 4-byte aligned";
        if (!f32_aligned(b) || !f32_aligned(dst)) return 0;
        /* a prompt (8 columns or more) in 8 x 8 tiles, a generation step row by row */
        const int64_t M = b->ne[1] * b->ne[2];
        d->kernel = (M >= GEMM_MIN_COLUMNS ? LAI_VK_K_GEMM
                     : tier >= LAI_VK_TIER_SUBGROUP ? LAI_VK_K_MATMUL_SG : LAI_VK_K_MATMUL) + (int)a->type;
        pc->ne[0] = (uint32_t)a->ne[0];
        pc->ne[1] = (uint32_t)a->ne[1];
        pc->ne[2] = (uint32_t)b->ne[1];
        pc->ne[3] = (uint32_t)b->ne[2];
        pc->nb[0] = (uint32_t)a->nb[1];
        pc->nb[1] = (uint32_t)b->nb[1];
        pc->nb[2] = (uint32_t)b->nb[2];
        pc->nb[3] = (uint32_t)dst->nb[1];
        pc->nb[4] = (uint32_t)dst->nb[2];
        const uint64_t groups = M >= GEMM_MIN_COLUMNS ? (uint64_t)((a->ne[1] + 7) / 8) * (uint64_t)((M + 7) / 8)
                                                      : (uint64_t)a->ne[1] * (uint64_t)M;
        *why = "a tensor of more than 2^32 elements";
        if (!fits(groups)) return 0;
        pc->n = (uint32_t)groups;
        d->groups = pc->n;
        return 1;
    }
    case LAI_OP_ROPE: {
        if (!f32_aligned(a) || !f32_aligned(dst) || !f32_aligned(op->src[2])) return 0;
        d->kernel = LAI_VK_K_ROPE;
        for (int i = 0; i < 3; i++) pc->ne[i] = (uint32_t)a->ne[i];
        pc->nb[0] = (uint32_t)a->nb[1];
        pc->nb[1] = (uint32_t)a->nb[2];
        pc->nb[2] = (uint32_t)dst->nb[1];
        pc->nb[3] = (uint32_t)dst->nb[2];
        pc->aux = op->src[2] != NULL;
        const uint64_t per = (uint64_t)(op->ip[0] / 2) + (uint64_t)(a->ne[0] - op->ip[0]);
        const uint64_t items = per * (uint64_t)a->ne[1] * (uint64_t)a->ne[2];
        *why = "a tensor of more than 2^32 elements";
        if (!fits(items)) return 0;
        pc->n = (uint32_t)items;
        d->groups = groups_for(items, WG_ELEM);
        return 1;
    }
    case LAI_OP_KV_STORE: {
        const lai_tensor *cache = dst;
        const int64_t row_len = cache->ne[0], n_tok = b->ne[0];
        const size_t tok_stride = a->ne[2] > 1 ? a->nb[2] : a->nb[1];
        *why = "a KV cache type other than f16 and f32";
        if (cache->type != LAI_TYPE_F16 && cache->type != LAI_TYPE_F32) return 0;
        *why = "an f16 KV cache row of odd length or at an odd offset";
        if (cache->type == LAI_TYPE_F16 && (row_len % 2 != 0 || cache->offset % 4 != 0 || cache->nb[1] % 4 != 0))
            return 0;
        *why = "an f32 tensor that is not 4-byte aligned";
        if (a->offset % 4 != 0 || tok_stride % 4 != 0 || (cache->type == LAI_TYPE_F32 && !f32_aligned(cache))) return 0;
        d->kernel = LAI_VK_K_KV_STORE;
        pc->aux = cache->type == LAI_TYPE_F16;
        pc->ne[0] = (uint32_t)row_len;
        pc->ne[1] = (uint32_t)n_tok;
        pc->ne[2] = (uint32_t)cache->ne[1];
        pc->nb[0] = (uint32_t)tok_stride;
        pc->nb[1] = (uint32_t)cache->nb[1];
        const uint64_t items = (uint64_t)(pc->aux ? row_len / 2 : row_len) * (uint64_t)n_tok;
        pc->n = (uint32_t)items;
        d->groups = groups_for(items, WG_ELEM);
        return 1;
    }
    case LAI_OP_ATTENTION: {
        const lai_tensor *kc = op->src[1], *vc = op->src[2], *cells = op->src[4];
        const int64_t n_head_kv = op->ip[1], hd_v = vc->ne[0] / n_head_kv;
        *why = "a KV cache type other than f16 and f32";
        if ((kc->type != LAI_TYPE_F16 && kc->type != LAI_TYPE_F32) || (vc->type != LAI_TYPE_F16 && vc->type != LAI_TYPE_F32))
            return 0;
        *why = "a head dimension above 512";
        if (a->ne[0] > 512 || hd_v > 512) return 0;
        *why = "an f32 tensor that is not 4-byte aligned";
        if (!f32_aligned(a) || !f32_aligned(dst) || kc->offset % 4 || vc->offset % 4 || kc->nb[1] % 2 ||
            vc->nb[1] % 2 || op->src[3]->offset % 4 || cells->offset % 4)
            return 0;
        d->kernel = LAI_VK_K_ATTENTION;
        pc->aux = (kc->type == LAI_TYPE_F16 ? 1u : 0u) | (vc->type == LAI_TYPE_F16 ? 2u : 0u);
        pc->ne[0] = (uint32_t)a->ne[0];
        pc->ne[1] = (uint32_t)a->ne[1];
        pc->ne[2] = (uint32_t)a->ne[2];
        pc->ne[3] = (uint32_t)hd_v;
        pc->nb[0] = (uint32_t)a->nb[1];
        pc->nb[1] = (uint32_t)a->nb[2];
        pc->nb[2] = (uint32_t)kc->nb[1];
        pc->nb[3] = (uint32_t)vc->nb[1];
        pc->nb[4] = (uint32_t)dst->nb[1];
        pc->nb[5] = (uint32_t)cells->ne[0];
        pc->nb[6] = (uint32_t)cells->ne[1];
        pc->n = (uint32_t)(a->ne[1] * a->ne[2]);
        d->groups = pc->n;
        return 1;
    }
    default:
        *why = "an op without a shader";
        return 0;
    }
}
