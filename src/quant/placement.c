/* SPDX-License-Identifier: MIT */
/* Where the Q/DQ pairs go. One decision per node, made in reverse topological order so that a
 * node knows, when its turn comes, whether any reader of its output is quantized.
 *
 * Both modes
 *   - Weighted ops (Conv, ConvTranspose, Gemm, MatMul) are always quantized: activation input
 *     through Q/DQ, constant weight as an int8 initializer + DequantizeLinear (per channel),
 *     Gemm/MatMul with a non-constant B quantize B as a second activation.
 *   - Pass-through ops (Reshape, Transpose, Flatten, Squeeze, Unsqueeze, MaxPool, Resize other
 *     than cubic, Slice) and Concat are quantized only when a quantized node reads their
 *     output; input(s) and output then form one scale-sharing group (union of ranges), so
 *     DQ -> op -> Q has equal scales and ORT / TensorRT run the op on int8 directly.
 *   - A tensor gets one Q/DQ pair, inserted when a quantized node reads it as an activation.
 *     Quantized readers take the DQ output; other readers keep the float tensor, except when
 *     the producer is quantized (ORT fuses X -> Q only if every reader goes through the Q).
 *     Graph outputs always stay float. A tensor nobody quantized reads stays float.
 *   - Add / Mul with a constant operand (decode arithmetic, BatchNorm exported as Mul/Add)
 *     stay float: a per-tensor int8 constant would cost accuracy for no int8 kernel.
 * ORT mode (uint8 asymmetric activations; ORT's QDQ selectors need the output Q too)
 *   - Add, Mul, AveragePool, GlobalAveragePool, Sigmoid, HardSigmoid are quantized only when
 *     a quantized node reads their output (QLinearAdd etc. need input and output Q/DQ).
 *   - Relu and Clip(lo <= 0 <= hi) whose input comes from a node that only they read are
 *     removed: the producer writes their output, and the uint8 Q (zero point 0 when the range
 *     starts at 0) does the clipping, as ORT's quantizer does.
 * TensorRT mode (int8 symmetric; explicit-quantization placement: quantize op inputs only)
 *   - Add, AveragePool, GlobalAveragePool quantize their inputs unconditionally; an Add input
 *     produced by a weighted op that only the Add reads stays float, so TensorRT can fuse the
 *     Add into that Conv (its "quantize the residual input" rule). Relu / Clip stay (TensorRT
 *     fuses them); Mul and Sigmoid stay float. */
#include "quant_internal.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

typedef struct op_rule {
    const char *op;
    ac_q_kind kind;
    uint8_t ort, trt; /* in the mode's default set */
} op_rule;

static const op_rule rules[] = {
    {"Conv", AC_QK_WEIGHTED, 1, 1},        {"ConvTranspose", AC_QK_WEIGHTED, 1, 1},
    {"Gemm", AC_QK_WEIGHTED, 1, 1},        {"MatMul", AC_QK_WEIGHTED, 1, 1},
    {"Add", AC_QK_BINARY, 1, 1},           {"Mul", AC_QK_BINARY, 1, 0},
    {"AveragePool", AC_QK_UNARY, 1, 1},    {"GlobalAveragePool", AC_QK_UNARY, 1, 1},
    {"Sigmoid", AC_QK_UNARY, 1, 0},        {"HardSigmoid", AC_QK_UNARY, 1, 0},
    {"Concat", AC_QK_CONCAT, 1, 1},        {"Reshape", AC_QK_PASS, 1, 1},
    {"Transpose", AC_QK_PASS, 1, 1},       {"Flatten", AC_QK_PASS, 1, 1},
    {"Squeeze", AC_QK_PASS, 1, 1},         {"Unsqueeze", AC_QK_PASS, 1, 1},
    {"MaxPool", AC_QK_PASS, 1, 1},         {"Resize", AC_QK_PASS, 1, 1},
    {"Slice", AC_QK_PASS, 1, 1},           {"Relu", AC_QK_REMOVABLE, 1, 0},
    {"Clip", AC_QK_REMOVABLE, 1, 0},
};
#define N_RULES ((int)(sizeof rules / sizeof rules[0]))

/* PaddleSlim / FastDeploy quantize_op_types names, for configs written for those tools. */
static const struct {
    const char *alias;
    const char *ops[3];
} aliases[] = {
    {"conv2d", {"Conv"}},
    {"depthwise_conv2d", {"Conv"}},
    {"conv2d_transpose", {"ConvTranspose"}},
    {"mul", {"MatMul", "Gemm"}},
    {"matmul", {"MatMul", "Gemm"}},
    {"matmul_v2", {"MatMul", "Gemm"}},
    {"elementwise_add", {"Add"}},
    {"elementwise_mul", {"Mul"}},
    {"concat", {"Concat"}},
    {"pool2d", {"AveragePool", "GlobalAveragePool", "MaxPool"}},
    {"sigmoid", {"Sigmoid"}},
    {"hard_sigmoid", {"HardSigmoid"}},
};
#define N_ALIASES ((int)(sizeof aliases / sizeof aliases[0]))

static int rule_index(const char *op) {
    for (int i = 0; i < N_RULES; i++)
        if (!strcmp(rules[i].op, op)) return i;
    return -1;
}

/* Which rules are on: the mode's set, or the op_types list plus the scale-sharing machinery
 * (pass-through ops, and Relu/Clip removal in ORT mode), which only acts next to quantized
 * ops. */
static ac_status enabled_rules(const ac_quant_opts *o, uint8_t *en, ac_diag *d) {
    int trt = o->mode == AC_QUANT_TENSORRT;
    for (int i = 0; i < N_RULES; i++) en[i] = trt ? rules[i].trt : rules[i].ort;
    if (!o->n_op_types) return AC_OK;
    for (int i = 0; i < N_RULES; i++)
        if (rules[i].kind != AC_QK_PASS && rules[i].kind != AC_QK_REMOVABLE) en[i] = 0;
    for (int32_t k = 0; k < o->n_op_types; k++) {
        const char *t = o->op_types[k];
        int r = t ? rule_index(t) : -1, found = r >= 0;
        if (r >= 0 && !(trt && rules[r].kind == AC_QK_REMOVABLE)) en[r] = 1;
        for (int a = 0; t && a < N_ALIASES; a++) {
            if (strcmp(aliases[a].alias, t)) continue;
            found = 1;
            for (int j = 0; j < 3 && aliases[a].ops[j]; j++) en[rule_index(aliases[a].ops[j])] = 1;
        }
        if (!found) {
            char known[600] = "";
            for (int i = 0; i < N_RULES; i++) {
                strncat(known, rules[i].op, sizeof known - strlen(known) - 1);
                strncat(known, i + 1 < N_RULES ? ", " : "", sizeof known - strlen(known) - 1);
            }
            return AC_FAIL(d, AC_ERR_ARG,
                           "quantize_op_types: \"%s\" is not an op the quantizer handles (ONNX "
                           "names: %s; PaddleSlim names such as conv2d are accepted too)",
                           t ? t : "(null)", known);
        }
    }
    return AC_OK;
}

/* ---- plan state helpers -------------------------------------------------------------- */

typedef struct ctx {
    ac_q_plan *p;
    const ac_calib *stats;
    uint8_t *is_float; /* per value: float32 (declared, or inferred through float ops) */
    uint8_t en[N_RULES];
    regex_t re;
    int has_re;
} ctx;

static int64_t uf_find(int64_t *parent, int64_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void uf_union(int64_t *parent, int64_t a, int64_t b) {
    a = uf_find(parent, a), b = uf_find(parent, b);
    if (a == b) return;
    /* the smaller index becomes the root, so groups do not depend on union order */
    if (a < b) parent[b] = a;
    else parent[a] = b;
}

static ac_value *res(const ac_q_plan *p, ac_value *v) {
    while (v && p->fwd[v->index]) v = p->fwd[v->index];
    return v;
}

static int has_stats(const ctx *c, const ac_value *v) {
    /* without statistics (ac_quant_needed) every float activation counts as available */
    if (!c->stats) return 1;
    ac_calib_stats st;
    return ac_calib_find(c->stats, v->name, &st, NULL) == AC_OK;
}

/* A float activation: not constant, of this graph, and float32 — declared, or inferred by
 * mark_float. The placement must not depend on which tensors have statistics (calibration
 * observes only what ac_quant_needed lists, a plan made without statistics). */
static int float_act(const ctx *c, const ac_value *v) {
    if (!v || c->p->is_const[v->index] || v->graph != c->p->g) return 0;
    return c->is_float[v->index];
}

static int name_in(const char *name, const char *const *list, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        if (list[i] && !strcmp(list[i], name)) return 1;
    return 0;
}

static int node_skipped(const ctx *c, const ac_node *n) {
    const ac_quant_opts *o = c->p->o;
    if (name_in(n->name, o->skip_nodes, o->n_skip_nodes)) return 1;
    if (c->has_re && regexec(&c->re, n->name, 0, NULL, 0) == 0) return 1;
    for (int32_t j = 0; j < n->n_inputs; j++)
        if (n->inputs[j] && name_in(n->inputs[j]->name, o->skip_tensors, o->n_skip_tensors))
            return 1;
    for (int32_t j = 0; j < n->n_outputs; j++)
        if (n->outputs[j] && name_in(n->outputs[j]->name, o->skip_tensors, o->n_skip_tensors))
            return 1;
    return 0;
}

/* Is n's (first) output read by a quantized node as an activation? */
static int out_wanted(const ac_q_plan *p, const ac_node *n) {
    ac_value *o = n->n_outputs ? res(p, n->outputs[0]) : NULL;
    return o && p->want[o->index] && !(o->flags & AC_VALUE_OUTPUT);
}

static int is_weighted_op(const ac_node *n) {
    int r = rule_index(n->op_type);
    return !n->domain[0] && r >= 0 && rules[r].kind == AC_QK_WEIGHTED;
}

static ac_q_kind kind_of(const ctx *c, const ac_node *n) {
    if (n->domain[0] && strcmp(n->domain, "ai.onnx")) return AC_QK_NONE;
    int r = rule_index(n->op_type);
    if (r < 0 || !c->en[r]) return AC_QK_NONE;
    if (!strcmp(n->op_type, "Resize") && !strcmp(ac_node_attr_string(n, "mode", "nearest"),
                                                 "cubic"))
        return AC_QK_NONE; /* cubic overshoots: its output range is not the input's */
    if (!strcmp(n->op_type, "MaxPool") && n->n_outputs > 1 && n->outputs[1])
        return AC_QK_NONE; /* indices output: not a pass-through */
    return rules[r].kind;
}

static ac_status need_stats(const ctx *c, const ac_node *n, int32_t j, ac_diag *d) {
    if (has_stats(c, n->inputs[j])) return AC_OK;
    char lb[300];
    return AC_FAIL(d, AC_ERR_ARG,
                   "no calibration statistics for tensor \"%s\" (input %d of %s); calibrate "
                   "this model, or skip the node", n->inputs[j]->name, (int)j,
                   ac_node_label(n, lb, sizeof lb));
}

static float clip_bound(const ac_node *n, int32_t j, float dflt, int *ok) {
    if (j >= n->n_inputs || !n->inputs[j]) return dflt;
    const ac_tensor *t = ac_value_constant(n->inputs[j]);
    if (!t || t->dtype != AC_DTYPE_F32 || t->numel != 1) {
        *ok = 0;
        return dflt;
    }
    return *(const float *)t->data;
}

/* ---- per-kind decisions ------------------------------------------------------------------ */

static void set_role(ac_q_plan *p, int64_t i, int32_t j, uint8_t r) { p->role[p->in_off[i] + j] = r; }

static void want_in(ac_q_plan *p, int64_t i, int32_t j) {
    set_role(p, i, j, AC_QIN_ACT);
    p->want[p->nodes[i]->inputs[j]->index] = 1;
}

static ac_status decide_weighted(ctx *c, int64_t i, ac_diag *d) {
    ac_q_plan *p = c->p;
    ac_node *n = p->nodes[i];
    char lb[300];
    if (n->n_inputs < 2 || !n->inputs[0] || !n->inputs[1]) return AC_OK;
    ac_value *x = n->inputs[0], *w = n->inputs[1];
    if (p->is_const[x->index] || x->graph != p->g) return AC_OK;
    if (x->dtype != AC_DTYPE_F32 && x->dtype != AC_DTYPE_UNDEFINED) return AC_OK;
    AC_TRY(need_stats(c, n, 0, d));
    const ac_tensor *wt = ac_value_constant(w);
    int conv = !strcmp(n->op_type, "Conv") || !strcmp(n->op_type, "ConvTranspose");
    if (wt && wt->dtype != AC_DTYPE_F32) return AC_OK; /* already integer / other precision */
    if (!wt && (conv || p->is_const[w->index] || !float_act(c, w))) {
        if (!conv && w->dtype != AC_DTYPE_F32 && w->dtype != AC_DTYPE_UNDEFINED) return AC_OK;
        ac_diag_where(d, "%s", ac_node_label(n, lb, sizeof lb));
        return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                       "weight \"%s\" is not a constant (initializer or Constant node); skip the "
                       "node (skip_nodes) to keep it in float", w->name);
    }
    if (!strcmp(n->op_type, "ConvTranspose") && wt && wt->rank < 2) return AC_OK;
    p->kind[i] = AC_QK_WEIGHTED;
    want_in(p, i, 0);
    if (wt) {
        set_role(p, i, 1, AC_QIN_WEIGHT);
    } else {
        AC_TRY(need_stats(c, n, 1, d));
        want_in(p, i, 1);
    }
    /* int32 bias (ORT mode) when it has the per-output-channel shape the kernels expect */
    if (p->o->mode != AC_QUANT_ORT || !wt || n->n_inputs < 3 || !n->inputs[2]) return AC_OK;
    if (!strcmp(n->op_type, "MatMul")) return AC_OK;
    const ac_tensor *bt = ac_value_constant(n->inputs[2]);
    if (!bt || bt->dtype != AC_DTYPE_F32) return AC_OK;
    int64_t n_out;
    if (!strcmp(n->op_type, "Conv")) {
        n_out = wt->dims[0];
    } else if (!strcmp(n->op_type, "ConvTranspose")) {
        n_out = wt->dims[1] * ac_node_attr_int(n, "group", 1);
    } else { /* Gemm: C is added after alpha * A'B', scaled by beta */
        if (ac_node_attr_float(n, "alpha", 1.0f) != 1.0f ||
            ac_node_attr_float(n, "beta", 1.0f) != 1.0f || wt->rank != 2)
            return AC_OK;
        n_out = ac_node_attr_int(n, "transB", 0) ? wt->dims[0] : wt->dims[1];
        if (bt->rank == 2 && bt->dims[0] != 1) return AC_OK;
    }
    if (bt->rank < 1 || bt->rank > 2 || bt->numel != n_out) return AC_OK;
    set_role(p, i, 2, AC_QIN_BIAS);
    return AC_OK;
}

static void decide(ctx *c, int64_t i, ac_q_kind k) {
    ac_q_plan *p = c->p;
    ac_node *n = p->nodes[i];
    int trt = p->o->mode == AC_QUANT_TENSORRT;
    if (!n->n_outputs || !n->outputs[0] || !n->n_inputs) return;
    switch (k) {
    case AC_QK_BINARY: {
        if (n->n_inputs != 2 || !float_act(c, n->inputs[0]) || !float_act(c, n->inputs[1]))
            return;
        if (!trt && !out_wanted(p, n)) return;
        int fused = -1;
        for (int32_t j = 1; trt && j >= 0 && fused < 0; j--) {
            ac_value *v = n->inputs[j];
            if (v->producer && v->producer->graph == p->g && is_weighted_op(v->producer) &&
                !(v->flags & AC_VALUE_OUTPUT) && ac_value_use_count(p->g, v) == 1)
                fused = j;
        }
        if (n->inputs[0] == n->inputs[1]) fused = -1;
        p->kind[i] = AC_QK_BINARY;
        for (int32_t j = 0; j < 2; j++)
            if (j != fused) want_in(p, i, j);
        return;
    }
    case AC_QK_UNARY:
        if (!float_act(c, n->inputs[0]) || (!trt && !out_wanted(p, n))) return;
        p->kind[i] = AC_QK_UNARY;
        want_in(p, i, 0);
        return;
    case AC_QK_CONCAT:
        if (!out_wanted(p, n)) return;
        for (int32_t j = 0; j < n->n_inputs; j++)
            if (!float_act(c, n->inputs[j])) return;
        p->kind[i] = AC_QK_CONCAT;
        for (int32_t j = 0; j < n->n_inputs; j++) {
            want_in(p, i, j);
            uf_union(p->parent, n->inputs[j]->index, res(p, n->outputs[0])->index);
        }
        return;
    case AC_QK_PASS:
        if (!out_wanted(p, n) || !float_act(c, n->inputs[0])) return;
        p->kind[i] = AC_QK_PASS;
        want_in(p, i, 0);
        uf_union(p->parent, n->inputs[0]->index, res(p, n->outputs[0])->index);
        return;
    case AC_QK_REMOVABLE: {
        ac_value *x = n->inputs[0], *y = n->outputs[0];
        if (trt || !out_wanted(p, n) || !float_act(c, x) || !x->producer ||
            x->producer->graph != p->g || (x->flags & AC_VALUE_OUTPUT) ||
            (y->flags & AC_VALUE_OUTPUT) || ac_value_use_count(p->g, x) != 1)
            return;
        if (!strcmp(n->op_type, "Clip")) {
            int ok = 1;
            float lo = clip_bound(n, 1, -INFINITY, &ok), hi = clip_bound(n, 2, INFINITY, &ok);
            if (!ok || !(lo <= 0.0f && hi >= 0.0f)) return;
        }
        p->kind[i] = AC_QK_REMOVABLE;
        p->removed[i] = 1;
        p->fwd[x->index] = y;
        return;
    }
    default: return;
    }
}

/* ---- ranges ------------------------------------------------------------------------------ */

static ac_status compute_ranges(ctx *c, ac_diag *d) {
    ac_q_plan *p = c->p;
    const ac_quant_opts *o = p->o;
    ac_calib_range *agg = ac_calloc((size_t)p->nv, sizeof *agg);
    uint8_t *seen = ac_calloc((size_t)p->nv, 1);
    if (!agg || !seen) {
        ac_free(agg);
        ac_free(seen);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    ac_status s = AC_OK;
    for (int64_t k = 0; k < p->n_order && s == AC_OK; k++) {
        const ac_value *v = p->g->values[p->order[k]];
        ac_calib_range r;
        s = ac_calib_range_of(c->stats, v->name, o->method, o->method_opts, &r, d);
        if (s != AC_OK) {
            ac_diag_where(d, "tensor \"%s\"", v->name);
            break;
        }
        p->range[v->index] = r;
        int64_t root = uf_find(p->parent, v->index);
        ac_calib_range *a = &agg[root];
        if (!seen[root]) {
            *a = r;
            seen[root] = 1;
        } else {
            a->min = r.min < a->min ? r.min : a->min;
            a->max = r.max > a->max ? r.max : a->max;
            a->amax = r.amax > a->amax ? r.amax : a->amax;
        }
    }
    for (int64_t k = 0; k < p->n_order && s == AC_OK; k++) {
        int64_t vi = p->order[k];
        p->range[vi] = agg[uf_find(p->parent, vi)];
        p->qp[vi] = ac_q_act_params(&p->range[vi], o->mode);
    }
    ac_free(agg);
    ac_free(seen);
    return s;
}

/* A removed Relu/Clip is only exact if the Q of its output clips at least as hard as it did.
 * A scale-sharing group (e.g. the output also feeds a Concat with negative inputs) can widen
 * the range past the bounds: such nodes are put back (their output keeps its Q/DQ). */
static void check_removals(ctx *c) {
    ac_q_plan *p = c->p;
    for (int64_t i = 0; i < p->nn; i++) {
        if (!p->removed[i]) continue;
        ac_node *n = p->nodes[i];
        int ok = 1;
        float lo = 0.0f, hi = INFINITY;
        if (!strcmp(n->op_type, "Clip")) {
            lo = clip_bound(n, 1, -INFINITY, &ok);
            hi = clip_bound(n, 2, INFINITY, &ok);
        }
        const ac_calib_qparams *q = &p->qp[n->outputs[0]->index];
        float qlo = (float)(0 - q->zero_point) * q->scale;
        float qhi = (float)(255 - q->zero_point) * q->scale;
        float tol = 1e-5f * (fabsf(hi) > 1.0f && isfinite(hi) ? fabsf(hi) : 1.0f);
        float lo_ok = lo == 0.0f ? 0.0f : lo - tol; /* Relu: the zero point must be exactly 0 */
        if (qlo >= lo_ok && qhi <= hi + tol) continue;
        p->removed[i] = 0;
        p->kind[i] = AC_QK_NONE;
        p->fwd[n->inputs[0]->index] = NULL;
    }
}

/* ---- driver ------------------------------------------------------------------------------ */

static ac_status alloc_plan(ac_q_plan *p, ac_graph *g, const ac_quant_opts *o, ac_diag *d) {
    memset(p, 0, sizeof *p);
    p->g = g;
    p->o = o;
    p->nn = g->n_nodes;
    p->nv = g->n_values;
    size_t nn = (size_t)p->nn + 1, nv = (size_t)p->nv + 1;
    int64_t n_in = 0;
    for (int64_t i = 0; i < p->nn; i++) n_in += g->nodes[i]->n_inputs;
    p->nodes = ac_malloc_array(nn, sizeof *p->nodes);
    p->kind = ac_calloc(nn, 1);
    p->removed = ac_calloc(nn, 1);
    p->in_off = ac_calloc(nn, sizeof *p->in_off);
    p->role = ac_calloc((size_t)n_in + 1, 1);
    p->is_const = ac_calloc(nv, 1);
    p->want = ac_calloc(nv, 1);
    p->prod_q = ac_calloc(nv, 1);
    p->fwd = ac_calloc(nv, sizeof *p->fwd);
    p->parent = ac_malloc_array(nv, sizeof *p->parent);
    p->range = ac_calloc(nv, sizeof *p->range);
    p->qp = ac_calloc(nv, sizeof *p->qp);
    p->order = ac_malloc_array(nv, sizeof *p->order);
    if (!p->nodes || !p->kind || !p->removed || !p->in_off || !p->role || !p->is_const ||
        !p->want || !p->prod_q || !p->fwd || !p->parent || !p->range || !p->qp || !p->order)
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory planning %lld nodes",
                       (long long)p->nn);
    memcpy(p->nodes, g->nodes, (size_t)p->nn * sizeof *p->nodes);
    for (int64_t i = 0; i < p->nn; i++) p->in_off[i + 1] = p->in_off[i] + p->nodes[i]->n_inputs;
    for (int64_t v = 0; v < p->nv; v++) p->parent[v] = v;
    return AC_OK;
}

static int has_subgraph(const ac_node *n) {
    for (int32_t a = 0; a < n->n_attrs; a++)
        if (n->attrs[a].type == AC_ATTR_GRAPH || n->attrs[a].type == AC_ATTR_GRAPHS) return 1;
    return 0;
}

static void mark_constants(ac_q_plan *p) {
    static const char *const random_ops[] = {"RandomNormal", "RandomUniform", "RandomNormalLike",
                                             "RandomUniformLike", "Multinomial", "Bernoulli"};
    ac_graph *g = p->g;
    for (int64_t v = 0; v < p->nv; v++) {
        const ac_value *x = g->values[v];
        p->is_const[v] = (x->flags & AC_VALUE_INITIALIZER) && !(x->flags & AC_VALUE_INPUT);
    }
    for (int64_t i = 0; i < p->nn; i++) {
        const ac_node *n = p->nodes[i];
        int c = !strcmp(n->op_type, "Constant") || n->n_inputs > 0;
        for (size_t k = 0; k < sizeof random_ops / sizeof random_ops[0]; k++)
            if (!strcmp(n->op_type, random_ops[k])) c = 0;
        if (has_subgraph(n)) c = 0;
        for (int32_t j = 0; j < n->n_inputs && c; j++) {
            const ac_value *x = n->inputs[j];
            if (x && (x->graph != g || !p->is_const[x->index])) c = 0;
        }
        for (int32_t j = 0; j < n->n_outputs && c; j++)
            if (n->outputs[j]) p->is_const[n->outputs[j]->index] = 1;
    }
}

/* Most exported graphs declare types only for their inputs and outputs. Intermediate values
 * are float32 when made by an op that keeps its (first non-constant) input's float type —
 * which shape arithmetic (Shape -> Gather -> Concat, int64) never is. Walked in topological
 * order, so every input is decided before its readers. */
static void mark_float(const ac_q_plan *p, uint8_t *is_float) {
    static const char *const float_ops[] = {
        "Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization",
        "InstanceNormalization", "LayerNormalization", "Relu", "Clip",
        "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softmax",
        "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Erf", "MaxPool", "AveragePool",
        "GlobalAveragePool", "GlobalMaxPool", "Resize", "Upsample", "Concat", "Reshape",
        "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Pad", "Identity",
        "Dropout", "Split", "Gather", "Expand", "Tile", "ReduceMean", "ReduceMax",
        "ReduceSum", "QuantizeLinear", "DequantizeLinear", "Elu", "Selu", "Celu", "Mish",
        "Softplus", "Softsign", "Gelu", "ThresholdedRelu", "Shrink", "Sign", "Round", "Neg",
        "Abs", "Sin", "Cos", "DepthToSpace", "SpaceToDepth", "LRN", "GridSample",
        "GatherElements", "ScatterElements", "ScatterND", "CumSum"};
    const ac_graph *g = p->g;
    for (int64_t v = 0; v < p->nv; v++) {
        const ac_value *x = g->values[v];
        is_float[v] = x->dtype == AC_DTYPE_F32;
    }
    for (int64_t i = 0; i < p->nn; i++) {
        const ac_node *n = p->nodes[i];
        int keeps = 0;
        for (size_t k = 0; k < sizeof float_ops / sizeof float_ops[0] && !keeps; k++)
            keeps = !strcmp(n->op_type, float_ops[k]);
        if (!keeps || (n->domain[0] && strcmp(n->domain, "ai.onnx"))) continue;
        int in_float = 0;
        if (!strcmp(n->op_type, "DequantizeLinear")) {
            in_float = 1;
        } else if (strcmp(n->op_type, "QuantizeLinear")) {
            for (int32_t j = 0; j < n->n_inputs && !in_float; j++) {
                const ac_value *x = n->inputs[j];
                if (x && x->graph == g && !p->is_const[x->index]) in_float = is_float[x->index];
                if (!strcmp(n->op_type, "Gather") || !strcmp(n->op_type, "Expand") ||
                    !strcmp(n->op_type, "Tile") || !strcmp(n->op_type, "Reshape") ||
                    !strcmp(n->op_type, "Slice") || !strcmp(n->op_type, "Pad") ||
                    !strcmp(n->op_type, "Split") || !strcmp(n->op_type, "Squeeze") ||
                    !strcmp(n->op_type, "Unsqueeze"))
                    break; /* the data is input 0; the others are indices or shapes */
            }
        }
        for (int32_t j = 0; j < n->n_outputs; j++) {
            const ac_value *y = n->outputs[j];
            if (y && y->dtype == AC_DTYPE_UNDEFINED) is_float[y->index] = (uint8_t)in_float;
        }
    }
}

ac_status ac_q_plan_build(ac_graph *g, const ac_calib *stats, const ac_quant_opts *o,
                          ac_q_plan *p, ac_diag *d) {
    ctx c = {.p = p, .stats = stats};
    AC_TRY(alloc_plan(p, g, o, d));
    AC_TRY(enabled_rules(o, c.en, d));
    if (o->skip_node_regex) {
        int rc = regcomp(&c.re, o->skip_node_regex, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[200];
            regerror(rc, &c.re, msg, sizeof msg);
            return AC_FAIL(d, AC_ERR_ARG, "skip_node_regex \"%s\": %s", o->skip_node_regex, msg);
        }
        c.has_re = 1;
    }
    mark_constants(p);
    c.is_float = ac_calloc((size_t)p->nv + 1, 1);
    if (!c.is_float) {
        if (c.has_re) regfree(&c.re);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    mark_float(p, c.is_float);
    ac_status s = AC_OK;
    for (int64_t i = p->nn - 1; i >= 0 && s == AC_OK; i--) {
        ac_node *n = p->nodes[i];
        ac_q_kind k = kind_of(&c, n);
        if (k == AC_QK_NONE || node_skipped(&c, n)) continue;
        if (k == AC_QK_WEIGHTED) s = decide_weighted(&c, i, d);
        else decide(&c, i, k);
    }
    if (c.has_re) regfree(&c.re);
    ac_free(c.is_float);
    c.is_float = NULL;
    AC_TRY(s);
    /* table order: graph inputs, then node outputs in topological order */
    for (int64_t k = 0; k < g->n_inputs; k++)
        if (p->want[g->inputs[k]->index]) p->order[p->n_order++] = g->inputs[k]->index;
    for (int64_t i = 0; i < p->nn; i++)
        for (int32_t j = 0; j < p->nodes[i]->n_outputs; j++) {
            const ac_value *v = p->nodes[i]->outputs[j];
            if (v && p->want[v->index] && !(v->flags & AC_VALUE_INPUT))
                p->order[p->n_order++] = v->index;
        }
    if (!stats) {
        /* placement only (ac_quant_needed): check_removals may later put back a Relu/Clip
         * whose output shares a scale group with other tensors, and then its input needs
         * statistics too */
        for (int64_t i = 0; i < p->nn; i++) {
            if (!p->removed[i]) continue;
            const ac_node *n = p->nodes[i];
            int64_t root = uf_find(p->parent, n->outputs[0]->index), members = 0;
            for (int64_t v = 0; v < p->nv && members < 2; v++)
                members += p->want[v] && uf_find(p->parent, v) == root;
            if (members > 1) p->want[n->inputs[0]->index] = 1;
        }
        return AC_OK;
    }
    AC_TRY(compute_ranges(&c, d));
    check_removals(&c);
    for (int64_t i = 0; i < p->nn; i++) {
        if (p->kind[i] == AC_QK_NONE || p->removed[i]) continue;
        for (int32_t j = 0; j < p->nodes[i]->n_outputs; j++)
            if (p->nodes[i]->outputs[j]) p->prod_q[res(p, p->nodes[i]->outputs[j])->index] = 1;
    }
    return AC_OK;
}

void ac_q_plan_free(ac_q_plan *p) {
    if (!p) return;
    ac_free(p->nodes);
    ac_free(p->kind);
    ac_free(p->removed);
    ac_free(p->in_off);
    ac_free(p->role);
    ac_free(p->is_const);
    ac_free(p->want);
    ac_free(p->prod_q);
    ac_free(p->fwd);
    ac_free(p->parent);
    ac_free(p->range);
    ac_free(p->qp);
    ac_free(p->order);
    memset(p, 0, sizeof *p);
}
