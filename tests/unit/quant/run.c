/* SPDX-License-Identifier: MIT */
#include "quant_test.h"

#include "autocompress/ac_session.h"

#include <stdlib.h>

Suite *ac_test_quant_params_suite(void);
Suite *ac_test_quant_tables_suite(void);
Suite *ac_test_quant_placement_suite(void);
Suite *ac_test_quant_e2e_suite(void);

ac_model *qt_model(int64_t opset, int32_t rank, const int64_t *dims) {
    ac_model *m = NULL;
    ac_diag d = {0};
    ck_assert(ac_model_new(opset, &m, &d) == AC_OK);
    ac_graph *g = ac_model_graph(m);
    ac_value *x;
    ck_assert(ac_graph_new_value(g, "x", &x, &d) == AC_OK);
    ck_assert(ac_value_set_type(x, AC_DTYPE_F32, rank, dims, NULL, &d) == AC_OK);
    x->flags |= AC_VALUE_TYPED;
    ck_assert(ac_graph_add_input(g, x, &d) == AC_OK);
    return m;
}

ac_value *qt_init(ac_model *m, const char *name, int32_t rank, const int64_t *dims,
                  const float *data) {
    ac_graph *g = ac_model_graph(m);
    ac_diag d = {0};
    ac_tensor *t;
    ac_value *v;
    ck_assert(ac_graph_new_tensor(g, name, AC_DTYPE_F32, rank, dims, &t, &d) == AC_OK);
    float *p = t->data;
    for (int64_t i = 0; i < t->numel; i++) p[i] = data ? data[i] : 0.1f * (float)((i % 7) - 3);
    ck_assert(ac_graph_new_value(g, name, &v, &d) == AC_OK);
    ck_assert(ac_graph_set_initializer(g, v, t, &d) == AC_OK);
    return v;
}

ac_value *qt_node(ac_model *m, const char *op, const char *name, int32_t n_in, ac_value **ins,
                  const char *out) {
    ac_graph *g = ac_model_graph(m);
    ac_diag d = {0};
    ac_value *y;
    ac_node *n;
    ck_assert(ac_graph_new_value(g, out, &y, &d) == AC_OK);
    ck_assert_msg(ac_graph_add_node(g, op, "", name, n_in, ins, 1, &y, &n, &d) == AC_OK, "%s",
                  d.msg);
    return y;
}

void qt_finish(ac_model *m, ac_value *out) {
    ac_diag d = {0};
    ck_assert(ac_value_set_type(out, AC_DTYPE_F32, -1, NULL, NULL, &d) == AC_OK);
    out->flags |= AC_VALUE_TYPED;
    ck_assert(ac_graph_add_output(ac_model_graph(m), out, &d) == AC_OK);
    ck_assert(ac_graph_sort(ac_model_graph(m), &d) == AC_OK);
}

ac_calib *qt_stats(const ac_model *m, float lo, float hi) {
    return qt_stats_ex(m, lo, hi, 0, NULL, NULL, NULL);
}

ac_calib *qt_stats_ex(const ac_model *m, float lo, float hi, int n, const char *const *names,
                      const float *los, const float *his) {
    ac_calib *c;
    ac_diag d = {0};
    ck_assert(ac_calib_new(NULL, &c, &d) == AC_OK);
    const ac_graph *g = ac_model_graph(m);
    float x[2] = {lo, hi};
    int64_t dims[1] = {2};
    ac_tensor t = {.dtype = AC_DTYPE_F32, .rank = 1, .dims = dims, .numel = 2, .data = x,
                   .nbytes = sizeof x};
    for (int64_t i = 0; i < g->n_values; i++) {
        const ac_value *v = g->values[i];
        if (v->flags & AC_VALUE_INITIALIZER) continue;
        x[0] = lo, x[1] = hi;
        for (int k = 0; k < n; k++)
            if (!strcmp(names[k], v->name)) x[0] = los[k], x[1] = his[k];
        ck_assert(ac_calib_observe(c, v->name, &t, 0, &d) == AC_OK);
    }
    return c;
}

int qt_count(const ac_model *m, const char *op) {
    const ac_graph *g = ac_model_graph(m);
    int k = 0;
    for (int64_t i = 0; i < g->n_nodes; i++) k += !strcmp(g->nodes[i]->op_type, op);
    return k;
}

const ac_node *qt_producer(const ac_model *m, const char *name) {
    const ac_value *v = ac_graph_find(ac_model_graph(m), name);
    return v ? v->producer : NULL;
}

const ac_quant_entry *qt_entry(const ac_quant_table *t, const char *name) {
    for (int64_t i = 0; i < ac_quant_table_count(t); i++)
        if (!strcmp(ac_quant_table_at(t, i)->tensor, name)) return ac_quant_table_at(t, i);
    return NULL;
}

float *qt_run(const ac_model *m, const int64_t *xdims, int32_t xrank, int64_t *n_out) {
    ac_diag d = {0};
    ac_session *s;
    ac_session_opts o = {.threads = 1};
    ck_assert_msg(ac_session_new(ac_model_graph(m), ac_model_opset(m, ""), &o, &s, &d) == AC_OK,
                  "session: %s: %s", d.where, d.msg);
    int64_t n = 1;
    for (int32_t i = 0; i < xrank; i++) n *= xdims[i];
    float *x = malloc((size_t)n * sizeof *x);
    ac_test_rng r = {12345};
    for (int64_t i = 0; i < n; i++) x[i] = ac_test_rng_float(&r);
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_F32, .rank = xrank, .dims = (int64_t *)xdims,
                    .numel = n, .data = x, .nbytes = (size_t)n * sizeof *x};
    const ac_tensor *outs;
    int32_t no;
    ck_assert_msg(ac_session_run(s, 1, &in, &outs, &no, &d) == AC_OK, "run: %s: %s", d.where,
                  d.msg);
    float *y = malloc(outs[0].nbytes);
    memcpy(y, outs[0].data, outs[0].nbytes);
    *n_out = outs[0].numel;
    ac_session_free(s);
    free(x);
    return y;
}

int main(void) {
    SRunner *sr = srunner_create(ac_test_quant_params_suite());
    srunner_add_suite(sr, ac_test_quant_tables_suite());
    srunner_add_suite(sr, ac_test_quant_placement_suite());
    srunner_add_suite(sr, ac_test_quant_e2e_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
