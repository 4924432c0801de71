/* SPDX-License-Identifier: MIT */
/* Applies a placement plan to the graph with the ac_graph mutation API. Names follow ORT's
 * quantizer (<t>_QuantizeLinear_Output, <w>_quantized, <w>_scale, ...) so models from both
 * tools read alike; every name is made unique in the graph first. */
#include "quant_internal.h"

#include <stdio.h>
#include <string.h>

static ac_status uname(ac_graph *g, const char *base, const char *suffix, const char **out,
                       ac_diag *d) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", base, suffix);
    return ac_graph_unique_name(g, buf, out, d);
}

/* A new initializer named base+suffix with dtype t and shape [n] (rank 1) or scalar (n < 0),
 * filled from data (nbytes of it). */
static ac_status add_init(ac_graph *g, const char *base, const char *suffix, ac_dtype t,
                          int64_t n, const void *data, ac_value **out, ac_diag *d) {
    const char *name;
    ac_tensor *tt;
    AC_TRY(uname(g, base, suffix, &name, d));
    int64_t dims[1] = {n};
    AC_TRY(ac_graph_new_tensor(g, name, t, n < 0 ? 0 : 1, dims, &tt, d));
    if (tt->nbytes && data) memcpy(tt->data, data, tt->nbytes);
    AC_TRY(ac_graph_new_value(g, name, out, d));
    return ac_graph_set_initializer(g, *out, tt, d);
}

static ac_status add_value(ac_graph *g, const char *base, const char *suffix, ac_dtype t,
                           const ac_value *like, ac_value **out, ac_diag *d) {
    const char *name;
    AC_TRY(uname(g, base, suffix, &name, d));
    AC_TRY(ac_graph_new_value(g, name, out, d));
    return ac_value_set_type(*out, t, like ? like->rank : -1, like ? like->dims : NULL,
                             like ? like->dim_params : NULL, d);
}

/* DequantizeLinear(q, scale, zp [, axis]) -> new float value named base+suffix. */
static ac_status add_dq(ac_graph *g, const char *base, ac_value *q, ac_value *scale,
                        ac_value *zp, int32_t axis, const ac_value *like, ac_value **out,
                        ac_diag *d) {
    const char *nname;
    ac_node *n;
    AC_TRY(add_value(g, base, "_DequantizeLinear_Output", AC_DTYPE_F32, like, out, d));
    AC_TRY(uname(g, base, "_DequantizeLinear", &nname, d));
    ac_value *ins[3] = {q, scale, zp};
    AC_TRY(ac_graph_add_node(g, "DequantizeLinear", "", nname, 3, ins, 1, out, &n, d));
    if (axis >= 0) AC_TRY(ac_node_set_attr_int(n, "axis", axis, d));
    return AC_OK;
}

/* ---- activations ------------------------------------------------------------------------- */

static ac_status qdq_activation(ac_q_plan *p, int64_t vi, ac_diag *d) {
    ac_graph *g = p->g;
    ac_value *t = g->values[vi];
    const ac_calib_qparams *q = &p->qp[vi];
    ac_dtype qt = p->o->mode == AC_QUANT_TENSORRT ? AC_DTYPE_S8 : AC_DTYPE_U8;
    ac_value *scale, *zp, *qv, *dq;
    uint8_t zpb = qt == AC_DTYPE_U8 ? (uint8_t)q->zero_point : (uint8_t)(int8_t)q->zero_point;
    AC_TRY(add_init(g, t->name, "_scale", AC_DTYPE_F32, -1, &q->scale, &scale, d));
    AC_TRY(add_init(g, t->name, "_zero_point", qt, -1, &zpb, &zp, d));
    AC_TRY(add_value(g, t->name, "_QuantizeLinear_Output", qt, t, &qv, d));
    const char *nname;
    ac_node *qn;
    AC_TRY(uname(g, t->name, "_QuantizeLinear", &nname, d));
    ac_value *ins[3] = {t, scale, zp};
    AC_TRY(ac_graph_add_node(g, "QuantizeLinear", "", nname, 3, ins, 1, &qv, &qn, d));
    AC_TRY(add_dq(g, t->name, qv, scale, zp, -1, t, &dq, d));
    /* readers in the main graph (snapshot: the new Q is not among them) */
    int all = p->prod_q[vi];
    for (int64_t i = 0; i < p->nn; i++) {
        if (p->removed[i]) continue;
        ac_node *n = p->nodes[i];
        for (int32_t j = 0; j < n->n_inputs; j++)
            if (n->inputs[j] == t && (all || ac_q_role(p, i, j) == AC_QIN_ACT))
                AC_TRY(ac_node_set_input(n, j, dq, d));
    }
    return AC_OK;
}

/* ---- weights and bias -------------------------------------------------------------------- */

static ac_status quantize_weighted(ac_q_plan *p, int64_t i, ac_value **dead, int64_t *n_dead,
                                   ac_diag *d) {
    ac_graph *g = p->g;
    ac_node *n = p->nodes[i];
    ac_value *w = n->inputs[1];
    const ac_tensor *wt = ac_value_constant(w);
    int32_t axis = ac_q_weight_axis(n, wt, p->o->per_tensor_weights);
    int64_t nch = ac_q_channels(wt, axis);
    float *scales = ac_malloc_array((size_t)nch, sizeof *scales);
    int8_t *q = ac_malloc(wt->numel ? (size_t)wt->numel : 1);
    float *bscales = NULL;
    int32_t *bq = NULL;
    ac_status s = AC_OK;
    if (!scales || !q) {
        s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory quantizing weight \"%s\"", w->name);
        goto done;
    }
    ac_q_weight_scales(wt, axis, scales);
    ac_value *b = n->n_inputs > 2 ? n->inputs[2] : NULL;
    const ac_tensor *bt = NULL;
    float s_in = 0.0f;
    if (b && ac_q_role(p, i, 2) == AC_QIN_BIAS) {
        bt = ac_value_constant(b);
        s_in = p->qp[n->inputs[0]->index].scale; /* still the plan-time input (step 2) */
        bscales = ac_malloc_array((size_t)bt->numel, sizeof *bscales);
        bq = ac_malloc_array((size_t)bt->numel, sizeof *bq);
        if (!bscales || !bq) {
            s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory quantizing bias \"%s\"", b->name);
            goto done;
        }
        ac_q_bias_fit(bt->data, bt->numel, s_in, scales, nch);
        ac_q_bias_quantize(bt->data, bt->numel, s_in, scales, nch, bq, bscales);
    }
    ac_q_weight_quantize(wt, axis, scales, q);

    /* int8 weight initializer (same shape) + scale + zero point + DequantizeLinear */
    const char *qname;
    ac_tensor *qt;
    ac_value *qv, *sv, *zv, *dq;
    if ((s = uname(g, w->name, "_quantized", &qname, d)) != AC_OK) goto done;
    if ((s = ac_graph_new_tensor(g, qname, AC_DTYPE_S8, wt->rank, wt->dims, &qt, d)) != AC_OK)
        goto done;
    if (qt->nbytes) memcpy(qt->data, q, qt->nbytes);
    if ((s = ac_graph_new_value(g, qname, &qv, d)) != AC_OK ||
        (s = ac_graph_set_initializer(g, qv, qt, d)) != AC_OK)
        goto done;
    int64_t sn = axis < 0 ? -1 : nch;
    if ((s = add_init(g, w->name, "_scale", AC_DTYPE_F32, sn, scales, &sv, d)) != AC_OK ||
        (s = add_init(g, w->name, "_zero_point", AC_DTYPE_S8, sn, NULL, &zv, d)) != AC_OK ||
        (s = add_dq(g, w->name, qv, sv, zv, axis, w, &dq, d)) != AC_OK ||
        (s = ac_node_set_input(n, 1, dq, d)) != AC_OK)
        goto done;
    dead[(*n_dead)++] = w;
    if (bt) {
        int64_t bn = nch > 1 ? bt->numel : -1, baxis = nch > 1 ? 0 : -1;
        if ((s = uname(g, b->name, "_quantized", &qname, d)) != AC_OK ||
            (s = ac_graph_new_tensor(g, qname, AC_DTYPE_S32, bt->rank, bt->dims, &qt, d)) !=
                AC_OK)
            goto done;
        memcpy(qt->data, bq, qt->nbytes);
        if ((s = ac_graph_new_value(g, qname, &qv, d)) != AC_OK ||
            (s = ac_graph_set_initializer(g, qv, qt, d)) != AC_OK ||
            (s = add_init(g, b->name, "_scale", AC_DTYPE_F32, bn, bscales, &sv, d)) != AC_OK ||
            (s = add_init(g, b->name, "_zero_point", AC_DTYPE_S32, bn, NULL, &zv, d)) != AC_OK)
            goto done;
        /* a [1, N] Gemm bias is per-axis along its axis 1 */
        if (baxis == 0 && bt->rank == 2) baxis = 1;
        if ((s = add_dq(g, b->name, qv, sv, zv, (int32_t)baxis, b, &dq, d)) != AC_OK ||
            (s = ac_node_set_input(n, 2, dq, d)) != AC_OK)
            goto done;
        dead[(*n_dead)++] = b;
    }
done:
    if (s != AC_OK) {
        char lb[300];
        ac_diag_where(d, "%s", ac_node_label(n, lb, sizeof lb));
    }
    ac_free(scales);
    ac_free(q);
    ac_free(bscales);
    ac_free(bq);
    return s;
}

/* Drops constants nothing reads any more (replaced weights and biases, the bounds of removed
 * Clips), so the float copies are not written back. */
static void drop_dead(ac_graph *g, ac_value **dead, int64_t n_dead) {
    for (int64_t k = 0; k < n_dead; k++) {
        ac_value *v = dead[k];
        if (!v || (v->flags & (AC_VALUE_OUTPUT | AC_VALUE_INPUT)) || ac_value_use_count(g, v))
            continue;
        if (v->flags & AC_VALUE_INITIALIZER) {
            ac_graph_remove_initializer(g, v);
        } else if (v->producer && !strcmp(v->producer->op_type, "Constant") &&
                   v->producer->graph == g) {
            ac_graph_remove_node(g, v->producer);
        }
    }
}

ac_status ac_q_rewrite(ac_q_plan *p, ac_diag *d) {
    ac_graph *g = p->g;
    int64_t cap = 0, n_dead = 0;
    for (int64_t i = 0; i < p->nn; i++) cap += p->nodes[i]->n_inputs;
    ac_value **dead = ac_malloc_array((size_t)cap + 1, sizeof *dead);
    if (!dead) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    ac_status s = AC_OK;
    /* 1. removed Relu/Clip: the producer of their input writes their output (forward order,
     *    so chains fold one after the other) */
    for (int64_t i = 0; i < p->nn && s == AC_OK; i++) {
        if (!p->removed[i]) continue;
        ac_node *n = p->nodes[i];
        ac_value *x = n->inputs[0], *y = n->outputs[0];
        ac_node *prod = x->producer;
        int32_t idx = x->producer_output;
        for (int32_t j = 1; j < n->n_inputs; j++)
            if (n->inputs[j]) dead[n_dead++] = n->inputs[j];
        ac_graph_remove_node(g, n);
        s = ac_node_set_output(prod, idx, y, d);
    }
    /* 2. weights and biases, while input 0 is still the tensor whose scale the bias uses */
    for (int64_t i = 0; i < p->nn && s == AC_OK; i++)
        if (p->kind[i] == AC_QK_WEIGHTED && ac_q_role(p, i, 1) == AC_QIN_WEIGHT)
            s = quantize_weighted(p, i, dead, &n_dead, d);
    /* 3. a Q/DQ pair per wanted activation, in table order */
    for (int64_t k = 0; k < p->n_order && s == AC_OK; k++) s = qdq_activation(p, p->order[k], d);
    if (s == AC_OK) {
        drop_dead(g, dead, n_dead);
        s = ac_graph_sort(g, d);
    }
    ac_free(dead);
    return s;
}
