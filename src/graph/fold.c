/* SPDX-License-Identifier: MIT */
/* Folding the per-channel affine ops that follow a Conv into its weights and bias.
 *
 * Exporters leave BatchNormalization after a Conv (or, as paddle2onnx does, its inference
 * form as Mul and Add by per-channel constants). Quantized as they stand, the Conv's output
 * goes to a float Mul instead of a QuantizeLinear, so ONNX Runtime cannot make the Conv an
 * integer QLinearConv and TensorRT sees scales between a Conv and its quantization. Folded,
 * y = conv(x, W * s) + (b * s + t) per output channel, the Conv is followed by what follows
 * the affine ops. Only constants that act per output channel are folded (one value, or C
 * values along the channel axis), and only when the Conv's output feeds that op alone. */
#include "autocompress/ac_graph.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const ac_tensor *ac_value_constant(const ac_value *v) {
    /* through Identity nodes: torch.onnx writes a parameter used twice as an Identity of the
     * first copy (bounded, in case a broken graph loops) */
    for (int hops = 0; v && hops < 64; hops++) {
        if ((v->flags & AC_VALUE_INITIALIZER) && !(v->flags & AC_VALUE_INPUT)) return v->init;
        const ac_node *p = v->producer;
        if (!p || p->domain[0]) return NULL;
        if (!strcmp(p->op_type, "Constant")) {
            const ac_attr *a = ac_node_attr(p, "value");
            return a && a->type == AC_ATTR_TENSOR ? a->t : NULL;
        }
        if (strcmp(p->op_type, "Identity") || p->n_inputs != 1) return NULL;
        v = p->inputs[0];
    }
    return NULL;
}

static int is_op(const ac_node *n, const char *op) {
    return !strcmp(n->op_type, op) && (!n->domain[0] || !strcmp(n->domain, "ai.onnx"));
}

/* The one node of g reading v once (v not a graph output, not captured by a subgraph). */
static ac_node *sole_reader(const ac_graph *g, const ac_value *v) {
    if ((v->flags & AC_VALUE_OUTPUT) || ac_value_use_count(g, v) != 1) return NULL;
    for (int64_t i = 0; i < g->n_nodes; i++)
        for (int32_t k = 0; k < g->nodes[i]->n_inputs; k++)
            if (g->nodes[i]->inputs[k] == v) return g->nodes[i];
    return NULL; /* the use is a capture */
}

/* The C values a float constant contributes per channel of a rank-`rank` [N, C, ...] tensor
 * it broadcasts against: one value, or C values on the axis that lines up with axis 1 and 1
 * everywhere else (so the result keeps the Conv output's shape). */
static int per_channel(const ac_tensor *t, int32_t rank, int64_t C, float *out) {
    if (!t || t->dtype != AC_DTYPE_F32 || t->rank > rank) return 0;
    const float *v = t->data;
    if (t->numel == 1) {
        for (int64_t c = 0; c < C; c++) out[c] = v[0];
        return 1;
    }
    int32_t axis = t->rank - rank + 1; /* broadcasting aligns the trailing axes */
    if (t->numel != C || axis < 0) return 0;
    for (int32_t i = 0; i < t->rank; i++)
        if (t->dims[i] != (i == axis ? C : 1)) return 0;
    memcpy(out, v, (size_t)C * sizeof *out);
    return 1;
}

/* If n (reading the Conv output x) is an affine op by per-channel constants, composes it into
 * y = x * S + T (S, T of C values) and returns 1. */
static int compose(const ac_node *n, const ac_value *x, int32_t rank, int64_t C, float *S,
                   float *T, float *tmp) {
    if (n->n_inputs < 2 || n->n_outputs < 1 || !n->outputs[0]) return 0;
    if (is_op(n, "BatchNormalization")) {
        if (n->inputs[0] != x || n->n_inputs != 5) return 0;
        for (int32_t k = 1; k < n->n_outputs; k++)
            if (n->outputs[k]) return 0; /* training-mode outputs */
        if (ac_node_attr_int(n, "training_mode", 0)) return 0;
        const ac_tensor *p[4];
        for (int k = 0; k < 4; k++) {
            p[k] = ac_value_constant(n->inputs[1 + k]);
            if (!p[k] || p[k]->dtype != AC_DTYPE_F32 || p[k]->numel != C) return 0;
        }
        const float *scale = p[0]->data, *bias = p[1]->data, *mean = p[2]->data,
                    *var = p[3]->data;
        double eps = ac_node_attr_float(n, "epsilon", 1e-5f);
        for (int64_t c = 0; c < C; c++) {
            double s = scale[c] / sqrt((double)var[c] + eps);
            if (!isfinite(s)) return 0;
            S[c] = (float)(S[c] * s);
            T[c] = (float)(T[c] * s + (bias[c] - mean[c] * s));
        }
        return 1;
    }
    int mul = is_op(n, "Mul"), add = is_op(n, "Add"), sub = is_op(n, "Sub"),
        div = is_op(n, "Div");
    if (!(mul || add || sub || div) || n->n_inputs != 2) return 0;
    int xi = n->inputs[0] == x ? 0 : 1;
    if (n->inputs[xi] != x || n->inputs[1 - xi] == x) return 0;
    if ((sub || div) && xi != 0) return 0; /* c - x and c / x are not affine in x per c */
    if (!per_channel(ac_value_constant(n->inputs[1 - xi]), rank, C, tmp)) return 0;
    for (int64_t c = 0; c < C; c++) {
        float k = tmp[c];
        if (mul || div) {
            if (div && k == 0) return 0;
            float s = div ? 1.0f / k : k;
            if (!isfinite(s)) return 0;
            S[c] *= s;
            T[c] *= s;
        } else {
            T[c] += sub ? -k : k;
        }
    }
    return 1;
}

/* A float initializer named after `base`, [dims], holding data. */
static ac_status new_weight(ac_graph *g, const char *base, int32_t rank, const int64_t *dims,
                            const float *data, ac_value **out, ac_diag *d) {
    const char *name;
    ac_tensor *t;
    AC_TRY(ac_graph_unique_name(g, base, &name, d));
    AC_TRY(ac_graph_new_tensor(g, name, AC_DTYPE_F32, rank, dims, &t, d));
    memcpy(t->data, data, t->nbytes);
    AC_TRY(ac_graph_new_value(g, name, out, d));
    return ac_graph_set_initializer(g, *out, t, d);
}

/* Drops a constant nothing reads any more (an initializer, or a Constant node's output). */
static void drop_if_unused(ac_graph *g, ac_value *v) {
    if (!v || ac_value_use_count(g, v) != 0 || (v->flags & (AC_VALUE_OUTPUT | AC_VALUE_INPUT)))
        return;
    if (v->flags & AC_VALUE_INITIALIZER) ac_graph_remove_initializer(g, v);
    else if (v->producer && is_op(v->producer, "Constant")) ac_graph_remove_node(g, v->producer);
}

/* Folds the affine ops after Conv n; *did says whether any was. */
static ac_status fold_one(ac_graph *g, ac_node *n, int *did, ac_diag *d) {
    *did = 0;
    if (n->n_inputs < 2 || n->n_outputs != 1 || !n->outputs[0]) return AC_OK;
    const ac_tensor *w = ac_value_constant(n->inputs[1]);
    const ac_tensor *b = n->n_inputs > 2 ? ac_value_constant(n->inputs[2]) : NULL;
    if (!w || w->dtype != AC_DTYPE_F32 || w->rank < 3 || w->dims[0] < 1) return AC_OK;
    int64_t C = w->dims[0], per = w->numel / C;
    if (n->n_inputs > 2 && n->inputs[2] && (!b || b->dtype != AC_DTYPE_F32 || b->numel != C))
        return AC_OK;
    float *buf = ac_malloc_array((size_t)(3 * C + w->numel), sizeof *buf);
    if (!buf) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory folding into \"%s\"", n->name);
    float *S = buf, *T = S + C, *tmp = T + C, *W = tmp + C;
    for (int64_t c = 0; c < C; c++) {
        S[c] = 1.0f;
        T[c] = 0.0f;
    }
    ac_value *x = n->outputs[0];
    ac_node *r;
    int folded = 0;
    while ((r = sole_reader(g, x)) && compose(r, x, w->rank, C, S, T, tmp)) {
        ac_value *y = r->outputs[0];
        ac_graph_remove_node(g, r);
        ac_status s = ac_node_set_output(n, 0, y, d);
        if (s != AC_OK) {
            ac_free(buf);
            return s;
        }
        x = y;
        folded = 1;
    }
    ac_status s = AC_OK;
    if (folded) {
        const float *w0 = w->data, *b0 = b ? b->data : NULL;
        for (int64_t c = 0; c < C; c++) {
            for (int64_t i = 0; i < per; i++) W[c * per + i] = w0[c * per + i] * S[c];
            tmp[c] = (b0 ? b0[c] : 0.0f) * S[c] + T[c];
        }
        ac_value *wv, *bv, *old_w = n->inputs[1], *old_b = n->n_inputs > 2 ? n->inputs[2] : NULL;
        char base[512];
        snprintf(base, sizeof base, "%s_folded_W", n->name[0] ? n->name : "Conv");
        s = new_weight(g, base, w->rank, w->dims, W, &wv, d);
        snprintf(base, sizeof base, "%s_folded_B", n->name[0] ? n->name : "Conv");
        if (s == AC_OK) s = new_weight(g, base, 1, &C, tmp, &bv, d);
        if (s == AC_OK) s = ac_node_set_input(n, 1, wv, d);
        if (s == AC_OK && n->n_inputs > 2) s = ac_node_set_input(n, 2, bv, d);
        if (s == AC_OK && n->n_inputs == 2) { /* no bias yet: the node gets a third input */
            ac_value *ins[3] = {n->inputs[0], wv, bv};
            s = ac_graph_rebuild_node(g, n, "Conv", 3, ins, 1, NULL, NULL, d);
        }
        if (s == AC_OK) {
            drop_if_unused(g, old_w);
            drop_if_unused(g, old_b);
        }
        *did = s == AC_OK;
    }
    ac_free(buf);
    return s;
}

ac_status ac_graph_fold_conv_affine(ac_graph *g, int64_t *n_folded, ac_diag *d) {
    if (n_folded) *n_folded = 0;
    /* over a snapshot: folding removes nodes and may rebuild the Conv */
    int64_t nn = g->n_nodes;
    ac_node **snap = ac_malloc_array((size_t)(nn ? nn : 1), sizeof *snap);
    if (!snap) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    memcpy(snap, g->nodes, (size_t)nn * sizeof *snap);
    ac_status s = AC_OK;
    for (int64_t i = 0; i < nn && s == AC_OK; i++) {
        int alive = 0;
        for (int64_t k = 0; k < g->n_nodes && !alive; k++) alive = g->nodes[k] == snap[i];
        if (!alive || !is_op(snap[i], "Conv")) continue;
        int did;
        s = fold_one(g, snap[i], &did, d);
        if (s == AC_OK && did && n_folded) (*n_folded)++;
    }
    ac_free(snap);
    if (s == AC_OK) s = ac_graph_sort(g, d);
    return s;
}
