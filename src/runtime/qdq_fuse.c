/* SPDX-License-Identifier: MIT */
/* QDQ groups -> integer nodes (ops/qlinear.h), matched the way ONNX Runtime's QDQ selectors
 * (onnxruntime/core/optimizer/qdq_transformer/selectors_actions) match them, so that we run in
 * integer exactly the groups ORT runs in integer and in float the ones it runs in float:
 *   DQ(x) , DQ(const int8 w) [, DQ(const int32 b)] -> Conv -> Q        QLinearConv
 *   DQ(a) , DQ(const int8 B) [, DQ(const int32 C)] -> Gemm [-> Q]      QGemm (float y without Q)
 *   DQ(a) , DQ(b) -> Add | Mul -> Q                                    QLinearAdd / QLinearMul
 *   DQ(x) -> Sigmoid -> Q                                              QLinearSigmoid
 *   DQ(x) -> GlobalAveragePool -> Q                                    QLinearGlobalAveragePool
 * Conditions, as ORT's: activation scales/zero points per tensor and constant, x and y of the
 * same 8-bit type as ORT sees it after QDQS8ToU8 (mark_u8_pairs; on x86 an int8 Conv group is
 * fused only when both its pairs become uint8), the op's output read only by the Q (and no
 * graph output), weight zero points 0, bias int32 -- a float bias first goes through ORT's
 * WeightBiasQuantization (quantize_bias), which also changes what a float Conv adds. A Conv
 * followed by Relu whose Q zero point leaves the Relu needed (TensorRT mode) stays float, as in
 * ORT; such Convs, and any other unfused Conv reading a DequantizeLinear, are marked to be
 * summed in ORT's order (rt_conv_params.ort_order). Pass-through ops between equal-scale Q/DQ
 * pairs (MaxPool, Reshape, Concat, Resize nearest) are exact in fake-quant and are left alone.
 * Tensors an observer wants are never fused away. */
#include "ops/qlinear.h"
#include "plan.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static ac_status infer_never(rt_plan *p, rt_node *n, ac_diag *d) {
    (void)p, (void)n;
    return AC_FAIL(d, AC_ERR_INTERNAL, "QLinear nodes are made after inference");
}

const rt_op rt_op_qlinear = {"QLinear", 0, 0, infer_never};

static int64_t readers(const rt_plan *p, const rt_tensor *t) {
    int64_t c = 0;
    for (int64_t i = 0; i < p->n_nodes; i++) {
        const rt_node *n = &p->nodes[i];
        if (n->dead) continue;
        for (int32_t k = 0; k < n->n_in; k++) c += n->in[k] == t;
        c += n->sum == t;
    }
    return c;
}

static int is(const rt_node *n, const char *op) {
    return !strcmp(n->src->op_type, op) && (!n->src->domain[0] ||
                                            !strcmp(n->src->domain, "ai.onnx"));
}

/* Per-tensor constant scale and zero point of a Q/DQ node (inputs 1 and 2). */
static int per_tensor(const rt_tensor *s, const rt_tensor *z, float *scale, int32_t *zp) {
    if (!s || !s->is_const || s->dtype != AC_DTYPE_F32 || s->numel != 1) return 0;
    *scale = *(const float *)s->data;
    *zp = 0;
    if (!z) return 1;
    if (!z->is_const || z->numel != 1) return 0;
    if (z->dtype == AC_DTYPE_U8) *zp = *(const uint8_t *)z->data;
    else if (z->dtype == AC_DTYPE_S8) *zp = *(const int8_t *)z->data;
    else return 0;
    return 1;
}

/* What ORT's graph transformers decided before its QDQ selectors run, computed once per plan
 * on the unfused graph (see rt_qdq_fuse). */
typedef struct qbias {
    const rt_tensor *f; /* the Conv/Gemm bias input after WeightBiasQuantization */
    const int32_t *q;   /* its int32 codes (scale s_x * s_w[c]) */
} qbias;

typedef struct fctx {
    uint8_t *u8;   /* per graph value: an int8 Q -> DQ pair that QDQS8ToU8 makes uint8 */
    qbias *qb;
    int64_t n_qb;
} fctx;

typedef struct qside {
    rt_node *node;  /* the DQ or Q node */
    rt_tensor *q;   /* its integer tensor */
    float s;
    int32_t z;
    int is_signed;
} qside;

/* t is the output of a live per-tensor DequantizeLinear of an 8-bit tensor. */
static int dq_input(rt_plan *p, rt_tensor *t, qside *o) {
    if (!t || t->producer < 0 || t->producer >= p->n_nodes) return 0;
    rt_node *n = &p->nodes[t->producer];
    if (n->dead || !is(n, "DequantizeLinear") || n->out[0] != t) return 0;
    rt_tensor *x = n->in[0];
    if (x->dtype != AC_DTYPE_U8 && x->dtype != AC_DTYPE_S8) return 0;
    if (rt_attr_int(n, "block_size", 0) != 0) return 0;
    if (!per_tensor(n->in[1], n->n_in > 2 ? n->in[2] : NULL, &o->s, &o->z)) return 0;
    o->node = n;
    o->q = x;
    o->is_signed = x->dtype == AC_DTYPE_S8;
    return 1;
}

/* The single reader of t, if it is a per-tensor QuantizeLinear and t may disappear. */
static int q_output(rt_plan *p, rt_tensor *t, qside *o) {
    if (t->is_output || t->observed || readers(p, t) != 1) return 0;
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead || n->n_in < 2 || n->in[0] != t) continue;
        if (!is(n, "QuantizeLinear") || rt_attr_int(n, "block_size", 0) != 0) return 0;
        if (!per_tensor(n->in[1], n->n_in > 2 ? n->in[2] : NULL, &o->s, &o->z)) return 0;
        o->node = n;
        o->q = n->out[0];
        if (o->q->dtype != AC_DTYPE_U8 && o->q->dtype != AC_DTYPE_S8) return 0;
        o->is_signed = o->q->dtype == AC_DTYPE_S8;
        return 1;
    }
    return 0;
}

/* A constant input that the planner folded from DequantizeLinear(const integer tensor): the
 * graph still has that DQ; returns its integer data, scale count and scales. */
typedef struct qconst {
    const rt_tensor *q, *s, *z;
    int32_t axis; /* of per-channel scales, normalised; -1 per tensor */
} qconst;

static int folded_dq(const rt_plan *p, const rt_tensor *t, ac_dtype want, qconst *o) {
    if (!t || !t->is_const || !t->value) return 0;
    const ac_node *dq = t->value->producer;
    if (!dq || strcmp(dq->op_type, "DequantizeLinear") || (dq->domain[0] &&
                                                           strcmp(dq->domain, "ai.onnx")))
        return 0;
    if (dq->n_inputs < 2 || !dq->inputs[0] || !dq->inputs[1] || dq->graph != p->g) return 0;
    if (ac_node_attr_int(dq, "block_size", 0) != 0) return 0;
    o->q = p->vt[dq->inputs[0]->index];
    o->s = p->vt[dq->inputs[1]->index];
    o->z = dq->n_inputs > 2 && dq->inputs[2] ? p->vt[dq->inputs[2]->index] : NULL;
    o->axis = -1;
    if (o->s->numel > 1) {
        int64_t a = ac_node_attr_int(dq, "axis", 1), r = o->q->rank;
        if (a < -r || a >= r || o->s->rank != 1 || o->s->dims[0] != o->q->dims[a < 0 ? a + r : a])
            return 0;
        o->axis = (int32_t)(a < 0 ? a + r : a);
    }
    if (!o->q->is_const || o->q->dtype != want || !o->s->is_const ||
        o->s->dtype != AC_DTYPE_F32)
        return 0;
    if (o->z) { /* symmetric weights only: what the quantizer writes and ORT's fast path */
        if (!o->z->is_const || o->z->dtype != want) return 0;
        for (int64_t i = 0; i < o->z->numel; i++)
            if (want == AC_DTYPE_S8 ? ((const int8_t *)o->z->data)[i] != 0
                                    : ((const int32_t *)o->z->data)[i] != 0)
                return 0;
    }
    return 1;
}

/* The node reading t, when exactly one node input reads it. */
static rt_node *only_reader(rt_plan *p, const rt_tensor *t) {
    rt_node *r = NULL;
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead) continue;
        for (int32_t k = 0; k < n->n_in; k++)
            if (n->in[k] == t) {
                if (r) return NULL;
                r = n;
            }
        if (n->sum == t) return NULL;
    }
    return r;
}

/* Scalar constant int8 zero point (input 2, which must be there) of a Q or DQ node. */
static int s8_zp(const rt_node *n, int8_t *zp) {
    const rt_tensor *z = n->n_in > 2 ? n->in[2] : NULL;
    if (!z || !z->is_const || z->dtype != AC_DTYPE_S8 || z->numel != 1) return 0;
    *zp = *(const int8_t *)z->data;
    return 1;
}

/* ORT on x86 has no int8 x int8 QLinearConv (QDQIsInt8Allowed() is false unless
 * MLAS_TARGET_ARM_ANY; ConvNodeGroupSelector rejects int8 activations), so before its selectors
 * run, QDQS8ToU8Transformer (qdq_transformer/qdq_s8_to_u8.cc) rewrites an int8
 * QuantizeLinear -> DequantizeLinear pair as uint8 with zero point + 128 -- but only a pair
 * where the Q has exactly one output edge, to a DQ, the Q output is no graph output, and both
 * have a constant scalar int8 zero point of the same value. EnsureUniqueDQForNodeUnit has run
 * before and given every consumer of a shared DQ its own copy, so a Q whose DQ has two readers
 * (or is a graph output) has two edges and stays int8. A group whose activations end up of
 * different types (uint8 in, int8 out) is then not fused by ORT and runs in float. Marks the
 * integer tensors of the converted pairs in c->u8. */
static void mark_u8_pairs(rt_plan *p, fctx *c) {
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        float s;
        int32_t z;
        int8_t zq, zd;
        if (n->dead || !is(n, "QuantizeLinear") || n->n_in != 3 || !n->out || !n->out[0]) continue;
        rt_tensor *q = n->out[0];
        if (q->dtype != AC_DTYPE_S8 || q->is_output || !q->value || q->value->graph != p->g ||
            !s8_zp(n, &zq) || !per_tensor(n->in[1], n->in[2], &s, &z))
            continue;
        rt_node *dq = only_reader(p, q);
        if (!dq || !is(dq, "DequantizeLinear") || dq->n_in != 3 || dq->in[0] != q ||
            !s8_zp(dq, &zd) || zd != zq)
            continue;
        rt_tensor *f = dq->out[0];
        if (!f || f->is_output || !only_reader(p, f)) continue;
        c->u8[q->value->index] = 1;
    }
}

/* Whether ORT sees the integer tensor t as uint8 when it selects groups. */
static int eff_u8(const fctx *c, const rt_tensor *t) {
    if (t->dtype == AC_DTYPE_U8) return 1;
    return t->dtype == AC_DTYPE_S8 && t->value && c->u8[t->value->index];
}

/* ORT's IsNoBranchPathToQuantizeLinear: t's only reader is a QuantizeLinear, possibly after a
 * chain of Relu / Clip nodes that are each the only reader of the previous output. */
static int path_to_q(rt_plan *p, const rt_tensor *t) {
    for (int hops = 0; hops < 64; hops++) {
        rt_node *r = only_reader(p, t);
        if (!r || r->n_out != 1 || !r->out[0]) return 0;
        if (is(r, "QuantizeLinear")) return r->in[0] == t;
        if ((!is(r, "Relu") && !is(r, "Clip")) || r->in[0] != t) return 0;
        t = r->out[0];
    }
    return 0;
}

/* ORT's WeightBiasQuantization (qdq_transformer/weight_bias_quantization.cc, a level-1
 * transformer): a Conv, ConvTranspose or Gemm whose input is DequantizeLinear with a scalar
 * scale, whose weight is DequantizeLinear (per tensor, or per channel along the output axis: 0
 * for Conv, 1 for ConvTranspose, transB ? 0 : 1 for Gemm, as many scales as bias elements),
 * whose bias is a 1-D float initializer and whose output path leads to QuantizeLinear
 * (path_to_q) gets its bias replaced by DequantizeLinear(Cast<int32>(Round(b / (s_x * s_w))),
 * s_x * s_w), all in float32 and constant-folded with ORT's own kernels (Round: half to even).
 * The float kernel then adds the rounded bias, and the group becomes an integer QLinearConv /
 * QGemm candidate with that int32 bias -- the TensorRT-style layout (float bias) therefore
 * does not run what its model file says. We make the same bias and keep its codes for
 * try_conv / try_gemm. */
static ac_status quantize_bias(rt_plan *p, int64_t i, fctx *c, ac_diag *d) {
    rt_node *n = &p->nodes[i];
    qside x;
    qconst w;
    if (n->n_in < 3 || !n->in[2] || !n->in[1] || n->n_out != 1 || !n->out[0]) return AC_OK;
    rt_tensor *b = n->in[2];
    if (!b->is_const || b->dtype != AC_DTYPE_F32 || b->rank != 1 || b->numel < 1) return AC_OK;
    /* an initializer (or Constant), not the folded output of a DQ or other node */
    if (b->value && b->value->producer && strcmp(b->value->producer->op_type, "Constant"))
        return AC_OK;
    if (!dq_input(p, n->in[0], &x) || !folded_dq(p, n->in[1], AC_DTYPE_S8, &w)) return AC_OK;
    if (w.axis >= 0) {
        int64_t want = 0;
        if (is(n, "Gemm")) want = ((const rt_gemm_params *)n->params)->trans_b ? 0 : 1;
        /* ConvTranspose weights are [C_in, C_out/group, k...]: ORT 1.30 quantizes the bias of
         * a ConvTranspose with per-output-channel weight scales (axis 1; seen in the optimized
         * seg_unet model), although the transformer's source we read expects axis 0 */
        if (is(n, "ConvTranspose")) want = 1;
        if (w.axis != want || w.s->numel != b->numel) return AC_OK;
    }
    if (!path_to_q(p, n->out[0])) return AC_OK;
    rt_tensor *nb = rt_plan_alloc(p, sizeof *nb);
    int32_t *q = rt_plan_alloc(p, (size_t)b->numel * sizeof *q);
    if (!nb || !q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    nb->name = b->name;
    nb->producer = -1;
    nb->last_use = -1;
    AC_TRY(rt_set_shape(nb, AC_DTYPE_F32, 1, b->dims, d));
    AC_TRY(rt_plan_const_data(p, nb, d));
    const float *bf = b->data, *ws = w.s->data;
    float *out = nb->data;
    for (int64_t k = 0; k < b->numel; k++) {
        float bs = x.s * ws[w.s->numel == 1 ? 0 : k];
        float r = rintf(bf[k] / bs); /* Div, then Round: nearbyint in the default mode */
        q[k] = r >= 2147483520.0f ? INT32_MAX : r <= -2147483648.0f ? INT32_MIN : (int32_t)r;
        out[k] = (float)q[k] * bs; /* DequantizeLinear of int32 */
    }
    n->in[2] = nb;
    c->qb[c->n_qb].f = nb;
    c->qb[c->n_qb++].q = q;
    return AC_OK;
}

/* The int32 codes of a Conv/Gemm bias: a folded DequantizeLinear of int32 in the model, or
 * one quantize_bias made. */
static const int32_t *bias_codes(const rt_plan *p, const fctx *c, const rt_tensor *t) {
    qconst b;
    if (folded_dq(p, t, AC_DTYPE_S32, &b)) return b.q->data;
    for (int64_t k = 0; k < c->n_qb; k++)
        if (c->qb[k].f == t) return c->qb[k].q;
    return NULL;
}

/* Replaces node n (reading `in`, writing y) by an integer node; kills the Q and any DQ left
 * without readers. */
static ac_status rewrite(rt_plan *p, int64_t i, rt_qlinear *ql, rt_tensor **in, int32_t n_in,
                         qside *dq, int n_dq, qside *yq, const char *label, ac_diag *d) {
    rt_node *n = &p->nodes[i];
    rt_tensor **ins = rt_plan_alloc(p, 2 * sizeof *ins);
    rt_tensor **outs = rt_plan_alloc(p, sizeof *outs);
    if (!ins || !outs) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    for (int32_t k = 0; k < n_in; k++) ins[k] = in[k];
    outs[0] = yq ? yq->q : n->out[0];
    n->in = ins;
    n->n_in = n_in;
    n->out = outs;
    n->n_out = 1;
    n->op = &rt_op_qlinear;
    n->params = ql;
    n->label = label;
    outs[0]->producer = i;
    if (yq) yq->node->dead = 1;
    for (int k = 0; k < n_dq; k++) {
        rt_tensor *t = dq[k].node->out[0];
        if (!dq[k].node->dead && !t->is_output && !t->observed && readers(p, t) == 0)
            dq[k].node->dead = 1;
    }
    return AC_OK;
}

/* Per-output-channel scales s_x * s_w[c] (/ s_y), one or n of them in the weight's DQ. */
static float *channel_scales(rt_plan *p, float sx, const rt_tensor *ws, int64_t n, float sy,
                             int has_y) {
    if (ws->numel != 1 && ws->numel != n) return NULL;
    float *sc = rt_plan_alloc(p, (size_t)n * sizeof *sc);
    if (!sc) return NULL;
    const float *w = ws->data;
    for (int64_t c = 0; c < n; c++) {
        float v = sx * w[ws->numel == 1 ? 0 : c];
        sc[c] = has_y ? v / sy : v;
    }
    return sc;
}

static ac_status try_conv(rt_plan *p, int64_t i, const fctx *c, ac_diag *d) {
    rt_node *n = &p->nodes[i];
    qside x, y;
    qconst w;
    if (n->n_in < 2 || !dq_input(p, n->in[0], &x) || !q_output(p, n->out[0], &y)) return AC_OK;
    /* ConvNodeGroupSelector: same type in and out, and not int8 on x86 (see mark_u8_pairs) */
    if (!eff_u8(c, x.q) || !eff_u8(c, y.q) || !folded_dq(p, n->in[1], AC_DTYPE_S8, &w))
        return AC_OK;
    const rt_conv_params *cp = n->params;
    if (cp->transposed) return AC_OK;
    int has_b = n->n_in > 2 && n->in[2];
    const int32_t *bq = has_b ? bias_codes(p, c, n->in[2]) : NULL;
    if (has_b && (!bq || n->in[2]->numel != cp->M)) return AC_OK;
    if (w.q->numel != cp->M * cp->Cg * cp->k_sp) return AC_OK;
    if (w.axis > 0) return AC_OK; /* per output channel only */
    rt_qlinear *ql = rt_plan_alloc(p, sizeof *ql);
    if (!ql) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    ql->kind = RT_QL_CONV;
    ql->cp = *cp;
    ql->x_signed = x.is_signed;
    ql->y_signed = y.is_signed;
    ql->zx = x.z, ql->sx = x.s, ql->zy = y.z, ql->sy = y.s;
    ql->w = w.q->data;
    ql->bias = bq;
    ql->scale = channel_scales(p, x.s, w.s, cp->M, y.s, 1);
    if (!ql->scale) return AC_OK;
    rt_tensor *in[1] = {x.q};
    return rewrite(p, i, ql, in, 1, &x, 1, &y, "QLinearConv", d);
}

static ac_status try_gemm(rt_plan *p, int64_t i, const fctx *fc, ac_diag *d) {
    rt_node *n = &p->nodes[i];
    qside a, y;
    qconst w;
    if (n->n_in < 2 || !dq_input(p, n->in[0], &a)) return AC_OK;
    const rt_gemm_params *gp = n->params;
    if (gp->trans_a || gp->alpha != 1.0f || n->in[0]->rank != 2) return AC_OK;
    if (!folded_dq(p, n->in[1], AC_DTYPE_S8, &w) || w.q->rank != 2) return AC_OK;
    /* per-channel scales must run along N: axis 0 of a transposed B, else axis 1 */
    if (w.axis >= 0 && w.axis != (gp->trans_b ? 0 : 1)) return AC_OK;
    int has_c = gp->has_c && n->n_in > 2 && n->in[2];
    const int32_t *cq = has_c ? bias_codes(p, fc, n->in[2]) : NULL;
    if (has_c && (gp->beta != 1.0f || !cq || n->in[2]->numel != gp->N || gp->c_cs != 1 ||
                  gp->c_rs != 0))
        return AC_OK;
    /* with an output Q: QGemm to 8 bits; without (a graph output, a float reader): float y */
    int quant = q_output(p, n->out[0], &y);
    if (quant && eff_u8(fc, y.q) != eff_u8(fc, a.q)) return AC_OK;
    if (!quant && n->out[0]->dtype != AC_DTYPE_F32) return AC_OK;
    rt_qlinear *ql = rt_plan_alloc(p, sizeof *ql);
    if (!ql) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    ql->kind = RT_QL_GEMM;
    ql->x_signed = a.is_signed;
    ql->y_signed = quant ? y.is_signed : 0;
    ql->float_out = !quant;
    ql->zx = a.z, ql->sx = a.s;
    if (quant) ql->zy = y.z, ql->sy = y.s;
    ql->M = gp->M, ql->N = gp->N, ql->K = gp->K;
    ql->b_rs = gp->trans_b ? 1 : gp->N;
    ql->b_cs = gp->trans_b ? gp->K : 1;
    ql->w = w.q->data;
    ql->bias = cq;
    ql->scale = channel_scales(p, a.s, w.s, gp->N, quant ? y.s : 1.0f, quant);
    if (!ql->scale) return AC_OK;
    rt_tensor *in[1] = {a.q};
    return rewrite(p, i, ql, in, 1, &a, 1, quant ? &y : NULL, "QGemm", d);
}

static int same_shape(const rt_tensor *a, const rt_tensor *b) {
    if (a->rank != b->rank) return 0;
    for (int32_t k = 0; k < a->rank; k++)
        if (a->dims[k] != b->dims[k]) return 0;
    return 1;
}

static ac_status try_binary(rt_plan *p, int64_t i, int mul, const fctx *c, ac_diag *d) {
    rt_node *n = &p->nodes[i];
    qside q[2], y;
    if (n->n_in != 2 || !dq_input(p, n->in[0], &q[0]) || !dq_input(p, n->in[1], &q[1]) ||
        !q_output(p, n->out[0], &y))
        return AC_OK;
    /* BinaryNodeGroupSelector: all three of one type, as ORT sees them */
    if (eff_u8(c, q[0].q) != eff_u8(c, y.q) || eff_u8(c, q[1].q) != eff_u8(c, y.q) ||
        q[0].is_signed != y.is_signed || q[1].is_signed != y.is_signed)
        return AC_OK;
    const rt_tensor *o = n->out[0];
    int ab = q[0].q->numel == 1 && o->numel != 1, bb = q[1].q->numel == 1 && o->numel != 1;
    if ((!ab && !same_shape(q[0].q, o)) || (!bb && !same_shape(q[1].q, o))) return AC_OK;
    rt_qlinear *ql = rt_plan_alloc(p, sizeof *ql);
    if (!ql) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    ql->kind = mul ? RT_QL_MUL : RT_QL_ADD;
    ql->x_signed = ql->y_signed = y.is_signed;
    ql->zx = q[0].z, ql->sx = q[0].s, ql->zb = q[1].z, ql->sb = q[1].s;
    ql->zy = y.z, ql->sy = y.s;
    ql->n_elem = o->numel;
    ql->a_bcast = ab, ql->b_bcast = bb;
    rt_tensor *in[2] = {q[0].q, q[1].q};
    return rewrite(p, i, ql, in, 2, q, 2, &y, mul ? "QLinearMul" : "QLinearAdd", d);
}

static ac_status try_unary(rt_plan *p, int64_t i, int gap, const fctx *fc, ac_diag *d) {
    rt_node *n = &p->nodes[i];
    qside x, y;
    if (!dq_input(p, n->in[0], &x) || !q_output(p, n->out[0], &y)) return AC_OK;
    if (eff_u8(fc, x.q) != eff_u8(fc, y.q) || x.is_signed != y.is_signed || (gap && x.q->rank < 3))
        return AC_OK;
    rt_qlinear *ql = rt_plan_alloc(p, sizeof *ql);
    if (!ql) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    ql->kind = gap ? RT_QL_GAP : RT_QL_LUT;
    ql->x_signed = ql->y_signed = x.is_signed;
    ql->zx = x.z, ql->sx = x.s, ql->zy = y.z, ql->sy = y.s;
    ql->n_elem = x.q->numel;
    if (gap) {
        ql->planes = x.q->dims[0] * x.q->dims[1];
        ql->image = ql->planes ? x.q->numel / ql->planes : 0;
        if (ql->image <= 0 || ql->image > (1 << 23)) return AC_OK; /* int32 sums stay exact */
    } else {
        /* QlinearBuildLookupTable: dequantize all 256 codes, logistic, MlasQuantizeLinear */
        for (int c = 0; c < 256; c++) {
            int32_t v = x.is_signed ? (int8_t)(uint8_t)c : c;
            float f = rt_ql_logistic(x.s * (float)(v - x.z));
            int32_t r = rt_ql_requant(f / y.s, y.z, y.is_signed);
            ql->lut[c] = (uint8_t)(r & 0xff);
        }
    }
    rt_tensor *in[1] = {x.q};
    return rewrite(p, i, ql, in, 1, &x, 1, &y, gap ? "QLinearGlobalAveragePool" :
                                                    "QLinearSigmoid", d);
}

ac_status rt_qdq_fuse(rt_plan *p, ac_diag *d) {
    fctx c = {0};
    c.u8 = rt_plan_alloc(p, (size_t)p->g->n_values + 1);
    c.qb = rt_plan_alloc(p, (size_t)(p->n_nodes + 1) * sizeof *c.qb);
    if (!c.u8 || !c.qb) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    memset(c.u8, 0, (size_t)p->g->n_values + 1);
    for (int64_t i = 0; i < p->n_nodes && !p->qdq; i++)
        p->qdq = !p->nodes[i].dead && is(&p->nodes[i], "DequantizeLinear");
    /* ORT's order: EnsureUniqueDQForNodeUnit and WeightBiasQuantization (level 1), then
     * QDQS8ToU8Transformer and the QDQ selectors (level 2); all read the unfused graph. */
    mark_u8_pairs(p, &c);
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead || !n->in || !n->out) continue;
        if (is(n, "Conv") || is(n, "ConvTranspose") || is(n, "Gemm"))
            AC_TRY(quantize_bias(p, i, &c, d));
    }
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead || n->op == &rt_op_qlinear || !n->in || !n->in[0] || !n->out ||
            !n->out[0])
            continue;
        ac_status s = AC_OK;
        if (is(n, "Conv")) {
            s = try_conv(p, i, &c, d);
            /* a Conv ORT runs in float inside a QDQ model: its summation order matters */
            qside x;
            if (s == AC_OK && n->op != &rt_op_qlinear && dq_input(p, n->in[0], &x))
                ((rt_conv_params *)n->params)->ort_order = 1;
        }
        else if (is(n, "Gemm")) s = try_gemm(p, i, &c, d);
        else if (is(n, "Add")) s = try_binary(p, i, 0, &c, d);
        else if (is(n, "Mul")) s = try_binary(p, i, 1, &c, d);
        else if (is(n, "Sigmoid")) s = try_unary(p, i, 0, &c, d);
        else if (is(n, "GlobalAveragePool")) s = try_unary(p, i, 1, &c, d);
        if (s != AC_OK) return s;
    }
    return AC_OK;
}

int rt_qdq_fused(const rt_node *n) { return n->op == &rt_op_qlinear; }
