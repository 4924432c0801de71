/* SPDX-License-Identifier: MIT */
/* src/graph/fold.c: per-channel affine ops after a Conv (BatchNormalization, or Mul/Add by
 * constants as paddle2onnx writes BatchNormalization) folded into its weights and bias, and
 * the cases that must stay as they are. */
#include "autocompress/ac_graph.h"
#include "check_util.h"

#include <math.h>
#include <string.h>

static ac_value *val(ac_graph *g, const char *name) {
    ac_diag d = {0};
    ac_value *v = NULL;
    ck_assert_msg(ac_graph_new_value(g, name, &v, &d) == AC_OK, "%s", d.msg);
    return v;
}

static ac_value *init(ac_graph *g, const char *name, int32_t rank, const int64_t *dims,
                      const float *data) {
    ac_diag d = {0};
    ac_tensor *t;
    ac_value *v = val(g, name);
    ck_assert(ac_graph_new_tensor(g, name, AC_DTYPE_F32, rank, dims, &t, &d) == AC_OK);
    memcpy(t->data, data, t->nbytes);
    ck_assert(ac_graph_set_initializer(g, v, t, &d) == AC_OK);
    return v;
}

static ac_node *op(ac_graph *g, const char *type, int32_t n_in, ac_value **ins, ac_value *out) {
    ac_diag d = {0};
    ac_node *n;
    ck_assert_msg(ac_graph_add_node(g, type, "", out->name, n_in, ins, 1, &out, &n, &d) == AC_OK,
                  "%s", d.msg);
    return n;
}

static int count(const ac_graph *g, const char *type) {
    int k = 0;
    for (int64_t i = 0; i < g->n_nodes; i++) k += !strcmp(g->nodes[i]->op_type, type);
    return k;
}

static const float W[6] = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f}; /* [3, 2, 1, 1] */
static const int64_t WD[4] = {3, 2, 1, 1};

/* A graph with input x [1, 2, 2, 2] and Conv "c" (1x1 weights W, optional bias) -> "c_out". */
static ac_graph *conv_graph(const float *bias, ac_value **conv_out) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert(ac_graph_new("g", &g, &d) == AC_OK);
    ac_value *x = val(g, "x");
    int64_t xd[4] = {1, 2, 2, 2};
    ck_assert(ac_value_set_type(x, AC_DTYPE_F32, 4, xd, NULL, &d) == AC_OK);
    ck_assert(ac_graph_add_input(g, x, &d) == AC_OK);
    ac_value *ins[3] = {x, init(g, "W", 4, WD, W),
                        bias ? init(g, "B", 1, (int64_t[]){3}, bias) : NULL};
    *conv_out = val(g, "c_out");
    op(g, "Conv", bias ? 3 : 2, ins, *conv_out);
    return g;
}

static void check_conv(const ac_graph *g, const char *out, const float *scale,
                       const float *shift) {
    const ac_value *y = ac_graph_find(g, out);
    ck_assert_ptr_nonnull(y);
    const ac_node *c = y->producer;
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->op_type, "Conv");
    ck_assert_int_eq(c->n_inputs, 3);
    const ac_tensor *w = ac_value_constant(c->inputs[1]), *b = ac_value_constant(c->inputs[2]);
    ck_assert(w && b && w->numel == 6 && b->numel == 3);
    for (int k = 0; k < 6; k++) {
        float want = W[k] * scale[k / 2];
        ck_assert_msg(fabsf(((float *)w->data)[k] - want) <= 1e-6f * fabsf(want) + 1e-7f,
                      "W[%d] %g, want %g", k, (double)((float *)w->data)[k], (double)want);
    }
    for (int c3 = 0; c3 < 3; c3++)
        ck_assert_msg(fabsf(((float *)b->data)[c3] - shift[c3]) <= 1e-6f,
                      "B[%d] %g, want %g", c3, (double)((float *)b->data)[c3], (double)shift[c3]);
}

START_TEST(mul_add_fold) {
    ac_value *c;
    ac_graph *g = conv_graph(NULL, &c);
    static const float s[3] = {2.0f, -0.5f, 3.0f}, t[3] = {0.1f, 0.2f, -0.3f};
    ac_value *m = val(g, "m"), *a = val(g, "a"), *r = val(g, "r");
    op(g, "Mul", 2, (ac_value *[]){c, init(g, "s", 4, (int64_t[]){1, 3, 1, 1}, s)}, m);
    op(g, "Add", 2, (ac_value *[]){init(g, "t", 3, (int64_t[]){3, 1, 1}, t), m}, a);
    op(g, "Relu", 1, &a, r);
    ac_diag d = {0};
    ck_assert(ac_graph_add_output(g, r, &d) == AC_OK);
    int64_t n;
    ck_assert_int_eq(ac_graph_fold_conv_affine(g, &n, &d), AC_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(count(g, "Mul") + count(g, "Add"), 0);
    ck_assert_int_eq(g->n_nodes, 2); /* Conv, Relu */
    check_conv(g, "a", s, t);
    ck_assert_ptr_eq(ac_graph_find(g, "r")->producer->inputs[0], ac_graph_find(g, "a"));
    ck_assert_ptr_null(ac_value_constant(ac_graph_find(g, "W"))); /* unused: dropped */
    ac_graph_free(g);
}
END_TEST

START_TEST(batchnorm_fold) {
    static const float b0[3] = {0.5f, 0.0f, -1.0f};
    static const float gamma[3] = {1.0f, 2.0f, 0.5f}, beta[3] = {0.0f, 0.1f, -0.2f},
                       mean[3] = {0.2f, -0.4f, 1.0f}, var[3] = {1.0f, 4.0f, 0.25f};
    ac_value *c;
    ac_graph *g = conv_graph(b0, &c);
    ac_value *y = val(g, "y");
    int64_t cd[1] = {3};
    ac_node *bn = op(g, "BatchNormalization", 5,
                     (ac_value *[]){c, init(g, "gamma", 1, cd, gamma),
                                    init(g, "beta", 1, cd, beta), init(g, "mean", 1, cd, mean),
                                    init(g, "var", 1, cd, var)},
                     y);
    ac_diag d = {0};
    ck_assert(ac_node_set_attr_float(bn, "epsilon", 0.0f, &d) == AC_OK);
    ck_assert(ac_graph_add_output(g, y, &d) == AC_OK);
    ck_assert_int_eq(ac_graph_fold_conv_affine(g, NULL, &d), AC_OK);
    ck_assert_int_eq(g->n_nodes, 1);
    float s[3], t[3];
    for (int k = 0; k < 3; k++) {
        s[k] = gamma[k] / sqrtf(var[k]);
        t[k] = (b0[k] - mean[k]) * s[k] + beta[k];
    }
    check_conv(g, "y", s, t);
    ac_graph_free(g);
}
END_TEST

/* Not folded: the Conv output also read elsewhere or a graph output, a constant that varies
 * over space, c - x, a Conv whose weight is not constant. */
START_TEST(fold_keeps_what_it_must) {
    static const float s[3] = {2.0f, -0.5f, 3.0f}, sp[4] = {1, 2, 3, 4};
    ac_diag d = {0};
    int64_t n;
    for (int which = 0; which < 4; which++) {
        ac_value *c;
        ac_graph *g = conv_graph(NULL, &c);
        ac_value *m = val(g, "m");
        if (which == 0) { /* two readers */
            op(g, "Mul", 2, (ac_value *[]){c, init(g, "s", 4, (int64_t[]){1, 3, 1, 1}, s)}, m);
            ac_value *r = val(g, "r");
            op(g, "Relu", 1, &c, r);
            ck_assert(ac_graph_add_output(g, r, &d) == AC_OK);
        } else if (which == 1) { /* per position, not per channel */
            op(g, "Mul", 2, (ac_value *[]){c, init(g, "s", 4, (int64_t[]){1, 1, 2, 2}, sp)}, m);
        } else if (which == 2) { /* s - x */
            op(g, "Sub", 2, (ac_value *[]){init(g, "s", 4, (int64_t[]){1, 3, 1, 1}, s), c}, m);
        } else { /* the Conv output is a graph output */
            op(g, "Mul", 2, (ac_value *[]){c, init(g, "s", 4, (int64_t[]){1, 3, 1, 1}, s)}, m);
            ck_assert(ac_graph_add_output(g, c, &d) == AC_OK);
        }
        ck_assert(ac_graph_add_output(g, m, &d) == AC_OK);
        int64_t before = g->n_nodes;
        ck_assert_int_eq(ac_graph_fold_conv_affine(g, &n, &d), AC_OK);
        ck_assert_msg(n == 0 && g->n_nodes == before, "case %d folded", which);
        ac_graph_free(g);
    }
}
END_TEST

Suite *ac_test_graph_fold_suite(void) {
    Suite *s = suite_create("graph_fold");
    TCase *c = tcase_create("fold");
    tcase_add_test(c, mul_add_fold);
    tcase_add_test(c, batchnorm_fold);
    tcase_add_test(c, fold_keeps_what_it_must);
    suite_add_tcase(s, c);
    return s;
}
