/* SPDX-License-Identifier: MIT */
/* Raising the ai.onnx opset to 13 for per-axis QuantizeLinear / DequantizeLinear. Every node
 * keeps its meaning: an op whose schema changed between the model's opset and 13 is rewritten
 * to the opset-13 form, or refused when we cannot prove the meaning is kept. Changes covered
 * (opsets 10..12 -> 13):
 *   Squeeze, Unsqueeze, ReduceSum (13)  axes attribute -> int64 input 1
 *   Split (13)                          split attribute -> int64 input 1
 *   Clip (11)                           min / max attributes -> inputs 1, 2
 *   Pad (11)                            pads / value attributes -> inputs 1, 2
 *   Dropout (12)                        inference-only: becomes Identity (mask must be unused)
 *   Softmax, LogSoftmax, Hardmax (13)   2-D coercion at `axis` -> one axis: kept only when the
 *                                       axis is the last one, where both mean the same
 *   Resize (11), Upsample, Scatter      refused (coordinate modes / removed ops)
 * Subgraphs are checked and rewritten too, since the opset import covers them. */
#include "quant_internal.h"

#include <float.h>
#include <stdio.h>
#include <string.h>

#define TARGET_OPSET 13

static int is_op(const ac_node *n, const char *op) {
    return !strcmp(n->op_type, op) && (!n->domain[0] || !strcmp(n->domain, "ai.onnx"));
}

static ac_status refuse(const ac_node *n, const char *why, int64_t opset, ac_diag *d) {
    char lb[300];
    ac_diag_where(d, "%s", ac_node_label(n, lb, sizeof lb));
    return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                   "%s changes meaning between opset %lld and %d (needed for per-axis "
                   "QuantizeLinear): %s; export the model with opset >= 13",
                   n->op_type, (long long)opset, TARGET_OPSET, why);
}

/* A new initializer in g: int64 [count] or float scalar. */
static ac_status new_const(ac_graph *g, const char *base, ac_dtype t, int64_t count,
                           const void *data, ac_value **out, ac_diag *d) {
    const char *name;
    ac_tensor *tt;
    AC_TRY(ac_graph_unique_name(g, base, &name, d));
    int64_t dims[1] = {count};
    AC_TRY(ac_graph_new_tensor(g, name, t, t == AC_DTYPE_S64 ? 1 : 0, dims, &tt, d));
    if (tt->nbytes) memcpy(tt->data, data, tt->nbytes);
    AC_TRY(ac_graph_new_value(g, name, out, d));
    return ac_graph_set_initializer(g, *out, tt, d);
}

/* Moves int attribute list `attr` into a new int64 input at position 1. */
static ac_status attr_to_input(ac_graph *g, ac_node *n, const char *attr, ac_diag *d) {
    const ac_attr *a = ac_node_attr(n, attr);
    if (!a) return AC_OK; /* absent = default, same meaning as an omitted input */
    if (a->type != AC_ATTR_INTS) return AC_FAIL(d, AC_ERR_MODEL, "%s: attribute \"%s\" is not a list of ints", n->name, attr);
    char base[300];
    snprintf(base, sizeof base, "%s_%s", n->name[0] ? n->name : n->op_type, attr);
    ac_value *c;
    AC_TRY(new_const(g, base, AC_DTYPE_S64, a->n, a->ints, &c, d));
    ac_value *ins[2] = {n->inputs[0], c};
    const char *drop[] = {attr, NULL};
    return ac_graph_rebuild_node(g, n, n->op_type, 2, ins, n->n_outputs, drop, NULL, d);
}

/* Slice-1: starts, ends and (optional) axes attributes -> inputs 1, 2, 3. */
static ac_status slice_to_inputs(ac_graph *g, ac_node *n, int64_t opset, ac_diag *d) {
    static const char *const names[3] = {"starts", "ends", "axes"};
    ac_value *ins[4] = {n->inputs[0], NULL, NULL, NULL};
    int32_t n_in = 1;
    for (int k = 0; k < 3; k++) {
        const ac_attr *a = ac_node_attr(n, names[k]);
        if (!a) {
            if (k < 2) return refuse(n, "starts or ends attribute missing", opset, d);
            continue;
        }
        if (a->type != AC_ATTR_INTS)
            return AC_FAIL(d, AC_ERR_MODEL, "%s: attribute \"%s\" is not a list of ints",
                           n->name, names[k]);
        char base[300];
        snprintf(base, sizeof base, "%s_%s", n->name[0] ? n->name : "Slice", names[k]);
        AC_TRY(new_const(g, base, AC_DTYPE_S64, a->n, a->ints, &ins[1 + k], d));
        n_in = 2 + k;
    }
    const char *drop[] = {"starts", "ends", "axes", NULL};
    return ac_graph_rebuild_node(g, n, "Slice", n_in, ins, n->n_outputs, drop, NULL, d);
}

/* Upsample-9 / Resize-10 (X, scales): input x / scale on every axis, nearest rounding down;
 * Resize-13 says so with its coordinate_transformation_mode and nearest_mode. */
static ac_status resize_to_13(ac_graph *g, ac_node *n, int64_t opset, ac_diag *d) {
    if (n->n_inputs < 2 || !n->inputs[1])
        return refuse(n, "scales is an attribute (Upsample before opset 9)", opset, d);
    const char *mode = ac_node_attr_string(n, "mode", "nearest");
    if (strcmp(mode, "nearest") && strcmp(mode, "linear"))
        return AC_FAIL(d, AC_ERR_MODEL, "%s: unknown mode \"%s\"", n->name, mode);
    ac_value *ins[3] = {n->inputs[0], NULL, n->inputs[1]}; /* roi omitted */
    ac_node *m;
    AC_TRY(ac_graph_rebuild_node(g, n, "Resize", 3, ins, 1, (const char *const[]){"*", NULL}, &m, d));
    AC_TRY(ac_node_set_attr_string(m, "mode", mode, d));
    AC_TRY(ac_node_set_attr_string(m, "coordinate_transformation_mode", "asymmetric", d));
    if (!strcmp(mode, "nearest")) AC_TRY(ac_node_set_attr_string(m, "nearest_mode", "floor", d));
    return AC_OK;
}

static ac_status upgrade_graph(ac_graph *g, int64_t opset, ac_diag *d) {
    /* iterate over a snapshot: ac_graph_rebuild_node appends nodes and removes the old ones */
    int64_t nn = g->n_nodes;
    ac_node **snap = ac_malloc_array((size_t)(nn ? nn : 1), sizeof *snap);
    if (!snap) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    memcpy(snap, g->nodes, (size_t)nn * sizeof *snap);
    ac_status s = AC_OK;
    for (int64_t i = 0; i < nn && s == AC_OK; i++) {
        ac_node *n = snap[i];
        for (int32_t a = 0; a < n->n_attrs && s == AC_OK; a++) {
            if (n->attrs[a].type == AC_ATTR_GRAPH) s = upgrade_graph(n->attrs[a].g, opset, d);
            if (n->attrs[a].type == AC_ATTR_GRAPHS)
                for (int64_t k = 0; k < n->attrs[a].n && s == AC_OK; k++)
                    s = upgrade_graph(n->attrs[a].graphs[k], opset, d);
        }
        if (s != AC_OK) break;
        if (n->domain[0] && strcmp(n->domain, "ai.onnx")) continue;
        if (is_op(n, "Squeeze") || is_op(n, "Unsqueeze") || is_op(n, "ReduceSum")) {
            s = attr_to_input(g, n, "axes", d);
        } else if (is_op(n, "Split")) {
            s = attr_to_input(g, n, "split", d);
        } else if (is_op(n, "Clip") && opset < 11) {
            ac_value *ins[3] = {n->inputs[0], NULL, NULL};
            const char *names[2] = {"min", "max"};
            for (int k = 0; k < 2 && s == AC_OK; k++) {
                const ac_attr *a = ac_node_attr(n, names[k]);
                if (!a) continue;
                char base[300];
                snprintf(base, sizeof base, "%s_%s", n->name[0] ? n->name : "Clip", names[k]);
                s = new_const(g, base, AC_DTYPE_F32, 1, &a->f, &ins[1 + k], d);
            }
            const char *drop[] = {"min", "max", NULL};
            if (s == AC_OK) s = ac_graph_rebuild_node(g, n, "Clip", 3, ins, n->n_outputs, drop, NULL, d);
        } else if (is_op(n, "Pad") && opset < 11) {
            const ac_attr *pads = ac_node_attr(n, "pads");
            float value = ac_node_attr_float(n, "value", 0.0f);
            ac_value *ins[3] = {n->inputs[0], NULL, NULL};
            char base[300];
            snprintf(base, sizeof base, "%s_pads", n->name[0] ? n->name : "Pad");
            if (!pads || pads->type != AC_ATTR_INTS) {
                s = refuse(n, "pads attribute missing", opset, d);
                break;
            }
            s = new_const(g, base, AC_DTYPE_S64, pads->n, pads->ints, &ins[1], d);
            snprintf(base, sizeof base, "%s_value", n->name[0] ? n->name : "Pad");
            if (s == AC_OK) s = new_const(g, base, AC_DTYPE_F32, 1, &value, &ins[2], d);
            const char *drop[] = {"pads", "value", NULL};
            if (s == AC_OK) s = ac_graph_rebuild_node(g, n, "Pad", 3, ins, n->n_outputs, drop, NULL, d);
        } else if (is_op(n, "Dropout") && opset < 12) {
            if (n->n_outputs > 1 && n->outputs[1] && ac_value_use_count(g, n->outputs[1]))
                s = refuse(n, "its mask output is used", opset, d);
            else
                s = ac_graph_rebuild_node(g, n, "Identity", 1, n->inputs, 1, (const char *const[]){"*", NULL},
                            NULL, d); /* Identity has none of Dropout's attributes */
        } else if (is_op(n, "Softmax") || is_op(n, "LogSoftmax") || is_op(n, "Hardmax")) {
            int64_t axis = ac_node_attr_int(n, "axis", 1);
            const ac_value *x = n->inputs[0];
            int last = axis == -1 || (x && x->rank > 0 && (axis == x->rank - 1));
            if (opset < 13 && !last)
                s = refuse(n, "axis is not the last axis (or the rank is unknown)", opset, d);
        } else if (is_op(n, "Slice") && opset < 10) {
            s = slice_to_inputs(g, n, opset, d);
        } else if (is_op(n, "TopK") && opset < 10) {
            const ac_attr *k = ac_node_attr(n, "k");
            if (!k || k->type != AC_ATTR_INT) {
                s = refuse(n, "k attribute missing", opset, d);
                break;
            }
            char base[300];
            snprintf(base, sizeof base, "%s_k", n->name[0] ? n->name : "TopK");
            ac_value *ins[2] = {n->inputs[0], NULL};
            s = new_const(g, base, AC_DTYPE_S64, 1, &k->i, &ins[1], d);
            const char *drop[] = {"k", NULL};
            if (s == AC_OK) s = ac_graph_rebuild_node(g, n, "TopK", 2, ins, n->n_outputs, drop, NULL, d);
        } else if (is_op(n, "Upsample") || (is_op(n, "Resize") && opset < 11)) {
            s = resize_to_13(g, n, opset, d);
        } else if (is_op(n, "Scatter")) {
            s = ac_graph_rebuild_node(g, n, "ScatterElements", n->n_inputs, n->inputs, n->n_outputs, NULL, NULL,
                        d);
        }
    }
    ac_free(snap);
    return s;
}

ac_status ac_q_upgrade_opset(ac_model *m, ac_diag *d) {
    int64_t opset = ac_model_opset(m, "");
    if (opset >= TARGET_OPSET) return AC_OK;
    if (opset < 9)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                       "ai.onnx opset %lld is older than 9, the oldest this quantizer raises "
                       "to 13; export the model with opset >= 9", (long long)opset);
    ac_graph *g = ac_model_graph(m);
    AC_TRY(upgrade_graph(g, opset, d));
    AC_TRY(ac_graph_sort(g, d));
    AC_TRY(ac_model_set_opset(m, "", TARGET_OPSET, d));
    if (ac_model_ir_version(m) < 7) AC_TRY(ac_model_set_ir_version(m, 7, d));
    return AC_OK;
}
