/* SPDX-License-Identifier: MIT */
/* ac_quantize: clone, raise the opset, fold affine ops into Convs, plan, rewrite, and record
 * the table. */
#include "quant_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const mode_names[] = {"ort", "tensorrt"};
_Static_assert(sizeof mode_names / sizeof mode_names[0] == AC_QUANT_MODE_COUNT,
               "one name per ac_quant_mode");

const char *ac_quant_mode_name(ac_quant_mode m) {
    return (unsigned)m < AC_QUANT_MODE_COUNT ? mode_names[m] : "unknown";
}

ac_status ac_quant_mode_parse(const char *s, ac_quant_mode *out, ac_diag *d) {
    for (int i = 0; s && i < AC_QUANT_MODE_COUNT; i++)
        if (!strcasecmp(s, mode_names[i])) {
            *out = (ac_quant_mode)i;
            return AC_OK;
        }
    if (s && !strcasecmp(s, "trt")) {
        *out = AC_QUANT_TENSORRT;
        return AC_OK;
    }
    return AC_FAIL(d, AC_ERR_ARG, "unknown quantization mode \"%s\" (ort or tensorrt)",
                   s ? s : "(null)");
}

int64_t ac_quant_table_count(const ac_quant_table *t) { return t ? t->n : 0; }

const ac_quant_entry *ac_quant_table_at(const ac_quant_table *t, int64_t i) {
    return t && i >= 0 && i < t->n ? &t->e[i] : NULL;
}

void ac_quant_table_free(ac_quant_table *t) {
    if (!t) return;
    for (int64_t i = 0; i < t->n; i++) ac_free((char *)t->e[i].tensor);
    ac_free(t->e);
    ac_free(t);
}

static ac_status make_table(const ac_q_plan *p, ac_quant_table **out, ac_diag *d) {
    ac_quant_table *t = ac_calloc(1, sizeof *t);
    if (!t) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    t->mode = p->o->mode;
    t->method = p->o->method;
    t->e = ac_calloc((size_t)p->n_order + 1, sizeof *t->e);
    if (!t->e) {
        ac_free(t);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    for (int64_t k = 0; k < p->n_order; k++) {
        int64_t vi = p->order[k];
        ac_quant_entry *e = &t->e[k];
        e->tensor = ac_strdup(p->g->values[vi]->name);
        if (!e->tensor) {
            ac_quant_table_free(t);
            return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        }
        t->n = k + 1;
        e->method = ac_calib_method_name(p->o->method);
        e->min = p->range[vi].min;
        e->max = p->range[vi].max;
        e->amax = p->range[vi].amax;
        e->scale = p->qp[vi].scale;
        e->zero_point = p->qp[vi].zero_point;
        e->dtype = p->o->mode == AC_QUANT_TENSORRT ? AC_DTYPE_S8 : AC_DTYPE_U8;
    }
    *out = t;
    return AC_OK;
}

static int already_quantized(const ac_graph *g, const ac_node **which) {
    for (int64_t i = 0; i < g->n_nodes; i++) {
        const char *op = g->nodes[i]->op_type;
        if (!strcmp(op, "QuantizeLinear") || !strcmp(op, "DequantizeLinear") ||
            !strncmp(op, "QLinear", 7) || !strcmp(op, "ConvInteger") ||
            !strcmp(op, "MatMulInteger")) {
            *which = g->nodes[i];
            return 1;
        }
    }
    return 0;
}

ac_status ac_quantize(const ac_model *fp32, const ac_calib *stats, const ac_quant_opts *o,
                      ac_model **out, ac_quant_table **table, ac_diag *d) {
    if (out) *out = NULL;
    if (table) *table = NULL;
    if (!fp32 || !stats || !o || !out || !table)
        return AC_FAIL(d, AC_ERR_ARG, "ac_quantize: model, stats, opts, out and table are "
                       "required");
    if ((unsigned)o->mode >= AC_QUANT_MODE_COUNT || (unsigned)o->method >= AC_CALIB_METHOD_COUNT)
        return AC_FAIL(d, AC_ERR_ARG, "ac_quantize: mode %d or method %d out of range",
                       (int)o->mode, (int)o->method);
    const ac_node *qn;
    if (already_quantized(ac_model_graph(fp32), &qn)) {
        char lb[300];
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "the model is already quantized (%s)",
                       ac_node_label(qn, lb, sizeof lb));
    }
    ac_model *m = NULL;
    ac_q_plan p;
    memset(&p, 0, sizeof p);
    ac_status s = ac_model_clone(fp32, &m, d);
    /* per-axis QDQ needs opset 13; per-tensor QDQ only QuantizeLinear itself (10) */
    if (s == AC_OK && (!o->per_tensor_weights || ac_model_opset(m, "") < 10))
        s = ac_q_upgrade_opset(m, d);
    /* BatchNormalization, or Mul/Add by per-channel constants, after a Conv: into its weights */
    if (s == AC_OK) s = ac_graph_fold_conv_affine(ac_model_graph(m), NULL, d);
    if (s == AC_OK && ac_model_opset(m, "") < 10)
        s = AC_FAIL(d, AC_ERR_UNSUPPORTED, "ai.onnx opset %lld has no QuantizeLinear (needs "
                    ">= 10)", (long long)ac_model_opset(m, ""));
    if (s == AC_OK) s = ac_graph_sort(ac_model_graph(m), d);
    if (s == AC_OK) s = ac_q_plan_build(ac_model_graph(m), stats, o, &p, d);
    if (s == AC_OK) s = make_table(&p, table, d);
    if (s == AC_OK) s = ac_q_rewrite(&p, d);
    if (s == AC_OK) s = ac_model_set_producer(m, "autocompress", AC_VERSION_STRING, d);
    ac_q_plan_free(&p);
    if (s != AC_OK) {
        ac_quant_table_free(*table);
        *table = NULL;
        ac_model_free(m);
        return s;
    }
    *out = m;
    return AC_OK;
}

ac_status ac_quant_needed(const ac_model *fp32, const ac_quant_opts *o, char ***names,
                          int64_t *n, ac_diag *d) {
    *names = NULL;
    *n = 0;
    if (!fp32 || !o || (unsigned)o->mode >= AC_QUANT_MODE_COUNT)
        return AC_FAIL(d, AC_ERR_ARG, "ac_quant_needed: model and valid opts are required");
    ac_model *m = NULL;
    ac_q_plan p;
    memset(&p, 0, sizeof p);
    /* the same preparation as ac_quantize, so the placement is the one it will make */
    ac_status s = ac_model_clone(fp32, &m, d);
    if (s == AC_OK && (!o->per_tensor_weights || ac_model_opset(m, "") < 10))
        s = ac_q_upgrade_opset(m, d);
    if (s == AC_OK) s = ac_graph_fold_conv_affine(ac_model_graph(m), NULL, d);
    if (s == AC_OK) s = ac_graph_sort(ac_model_graph(m), d);
    if (s == AC_OK) s = ac_q_plan_build(ac_model_graph(m), NULL, o, &p, d);
    char **out = NULL;
    int64_t k = 0;
    if (s == AC_OK) {
        out = ac_calloc((size_t)p.nv + 1, sizeof *out);
        if (!out) s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (int64_t v = 0; s == AC_OK && v < p.nv; v++) {
            if (!p.want[v]) continue;
            out[k] = ac_strdup(p.g->values[v]->name);
            if (!out[k]) s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            else k++;
        }
    }
    ac_q_plan_free(&p);
    ac_model_free(m);
    if (s != AC_OK) {
        ac_quant_names_free(out, k);
        return s;
    }
    *names = out;
    *n = k;
    return AC_OK;
}

void ac_quant_names_free(char **names, int64_t n) {
    if (!names) return;
    for (int64_t i = 0; i < n; i++) ac_free(names[i]);
    ac_free(names);
}
