/* SPDX-License-Identifier: MIT */
/* Placement on small hand-built graphs, both modes; skip lists; edge cases; opset raising. */
#include "quant_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const int64_t XD[4] = {1, 2, 4, 4};

/* Conv with a 1x1 [2, 2] weight and a bias, named `name`, writing `out`. */
static ac_value *conv(ac_model *m, const char *name, ac_value *x, const char *out) {
    char wn[64], bn[64];
    snprintf(wn, sizeof wn, "%s_W", name);
    snprintf(bn, sizeof bn, "%s_B", name);
    const float b[2] = {0.05f, -0.1f};
    ac_value *ins[3] = {x, qt_init(m, wn, 4, (int64_t[]){2, 2, 1, 1}, NULL),
                        qt_init(m, bn, 1, (int64_t[]){2}, b)};
    return qt_node(m, "Conv", name, 3, ins, out);
}

static ac_value *relu(ac_model *m, const char *name, ac_value *x, const char *out) {
    return qt_node(m, "Relu", name, 1, &x, out);
}

static void quant(const ac_model *m, const ac_calib *c, const ac_quant_opts *o, ac_model **q,
                  ac_quant_table **t) {
    ac_diag d = {0};
    ck_assert_msg(ac_quantize(m, c, o, q, t, &d) == AC_OK, "quantize: %s: %s", d.where, d.msg);
}

/* Max |a - b| relative to max |a| between the FP32 and the QDQ model on one input. */
static double rel_err(const ac_model *a, const ac_model *b) {
    int64_t na, nb;
    float *ya = qt_run(a, XD, 4, &na), *yb = qt_run(b, XD, 4, &nb);
    ck_assert_int_eq(na, nb);
    double e = 0, mx = 0;
    for (int64_t i = 0; i < na; i++) {
        e = fmax(e, fabs((double)ya[i] - yb[i]));
        mx = fmax(mx, fabs((double)ya[i]));
    }
    free(ya);
    free(yb);
    return mx > 0 ? e / mx : e;
}

static ac_model *conv_relu_conv(void) {
    ac_model *m = qt_model(13, 4, XD);
    ac_value *x = ac_graph_find(ac_model_graph(m), "x");
    ac_value *y = conv(m, "c2", relu(m, "r1", conv(m, "c1", x, "c1_out"), "r1_out"), "y");
    qt_finish(m, y);
    return m;
}

static const char *const RELU_OUT[] = {"r1_out"};
static const float ZERO[] = {0.0f}, ONE[] = {1.0f};

START_TEST(conv_relu_ort) {
    ac_model *m = conv_relu_conv(), *q;
    ac_calib *c = qt_stats_ex(m, -1.0f, 1.0f, 1, RELU_OUT, ZERO, ONE);
    ac_quant_opts o = {.mode = AC_QUANT_ORT};
    ac_quant_table *t;
    quant(m, c, &o, &q, &t);
    /* Relu folded into the uint8 Q (zero point 0) of its output, written by c1 directly */
    ck_assert_int_eq(qt_count(q, "Relu"), 0);
    ck_assert_str_eq(qt_producer(q, "r1_out")->op_type, "Conv");
    ck_assert_int_eq(qt_count(q, "QuantizeLinear"), 2); /* x, r1_out; y is a graph output */
    ck_assert_int_eq(qt_count(q, "DequantizeLinear"), 6); /* + 2 weights + 2 int32 biases */
    ck_assert_int_eq(ac_quant_table_count(t), 2);
    ck_assert_int_eq(qt_entry(t, "r1_out")->zero_point, 0);
    ck_assert_int_eq(qt_entry(t, "r1_out")->dtype, AC_DTYPE_U8);
    ck_assert_int_eq(qt_entry(t, "x")->zero_point, 127); /* 1 / (2/255 in float) = 127.4999 */
    /* weights are int8 initializers; the float ones are gone */
    const ac_node *c1 = qt_producer(q, "r1_out");
    ck_assert_str_eq(c1->inputs[1]->producer->op_type, "DequantizeLinear");
    ck_assert_int_eq(c1->inputs[1]->producer->inputs[0]->init->dtype, AC_DTYPE_S8);
    ck_assert_int_eq(c1->inputs[2]->producer->inputs[0]->init->dtype, AC_DTYPE_S32);
    ck_assert_ptr_null(ac_graph_find(ac_model_graph(q), "c1_W")->init);
    ck_assert_int_eq(ac_model_opset(q, ""), 13);
    ck_assert(rel_err(m, q) < 0.05);
    ac_quant_table_free(t);
    ac_model_free(q);
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

START_TEST(conv_relu_trt) {
    ac_model *m = conv_relu_conv(), *q;
    ac_calib *c = qt_stats_ex(m, -1.0f, 1.0f, 1, RELU_OUT, ZERO, ONE);
    ac_quant_opts o = {.mode = AC_QUANT_TENSORRT};
    ac_quant_table *t;
    quant(m, c, &o, &q, &t);
    ck_assert_int_eq(qt_count(q, "Relu"), 1); /* kept: int8 symmetric cannot clip at 0 */
    ck_assert_int_eq(qt_count(q, "QuantizeLinear"), 2);
    ck_assert_int_eq(qt_count(q, "DequantizeLinear"), 4); /* bias stays float */
    const ac_quant_entry *e = qt_entry(t, "r1_out");
    ck_assert(e && e->zero_point == 0 && e->dtype == AC_DTYPE_S8 && e->scale == 1.0f / 127.0f);
    const ac_node *c2 = qt_producer(q, "y");
    ck_assert_str_eq(c2->inputs[2]->name, "c2_B");
    ck_assert(rel_err(m, q) < 0.05);
    ac_quant_table_free(t);
    ac_model_free(q);
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

START_TEST(residual_add) {
    ac_model *m = qt_model(13, 4, XD);
    ac_value *x = ac_graph_find(ac_model_graph(m), "x");
    ac_value *r1 = relu(m, "r1", conv(m, "c1", x, "c1_out"), "r1_out");
    ac_value *ins[2] = {conv(m, "c2", r1, "c2_out"), r1};
    ac_value *a = qt_node(m, "Add", "add", 2, ins, "a");
    qt_finish(m, conv(m, "c3", a, "y"));
    ac_calib *c = qt_stats_ex(m, -1.0f, 1.0f, 1, RELU_OUT, ZERO, ONE);
    ac_model *q;
    ac_quant_table *t;
    /* TensorRT: the residual input is quantized, the Conv branch stays float so the Add fuses
     * into c2 */
    ac_quant_opts o = {.mode = AC_QUANT_TENSORRT};
    quant(m, c, &o, &q, &t);
    ck_assert_ptr_nonnull(qt_entry(t, "r1_out"));
    ck_assert_ptr_null(qt_entry(t, "c2_out"));
    ck_assert_ptr_nonnull(qt_entry(t, "a"));
    const ac_node *add = qt_producer(q, "a");
    ck_assert_str_eq(add->inputs[0]->name, "c2_out");
    ck_assert_str_eq(add->inputs[1]->producer->op_type, "DequantizeLinear");
    ac_quant_table_free(t);
    ac_model_free(q);
    /* ORT: QLinearAdd needs both inputs and the output quantized */
    o.mode = AC_QUANT_ORT;
    quant(m, c, &o, &q, &t);
    ck_assert_ptr_nonnull(qt_entry(t, "c2_out"));
    ck_assert_ptr_nonnull(qt_entry(t, "r1_out"));
    ck_assert_ptr_nonnull(qt_entry(t, "a"));
    ck_assert(rel_err(m, q) < 0.05);
    ac_quant_table_free(t);
    ac_model_free(q);
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

START_TEST(concat_shares_scale) {
    ac_diag d = {0};
    ac_value *ins[2];
    ac_model *m = qt_model(13, 4, XD);
    ac_value *x = ac_graph_find(ac_model_graph(m), "x");
    ins[0] = conv(m, "ca", x, "a");
    ins[1] = conv(m, "cb", x, "b");
    ac_value *cat = qt_node(m, "Concat", "cat", 2, ins, "c");
    ck_assert(ac_node_set_attr_int(cat->producer, "axis", 1, &d) == AC_OK);
    ac_value *cins[2] = {cat, qt_init(m, "cc_W", 4, (int64_t[]){2, 4, 1, 1}, NULL)};
    qt_finish(m, qt_node(m, "Conv", "cc", 2, cins, "y"));
    static const char *const names[] = {"a", "b", "c"};
    const float los[] = {-1.0f, -3.0f, -3.0f}, his[] = {1.0f, 2.0f, 2.0f};
    ac_calib *c = qt_stats_ex(m, -1.0f, 1.0f, 3, names, los, his);
    for (int mode = 0; mode < AC_QUANT_MODE_COUNT; mode++) {
        ac_quant_opts o = {.mode = (ac_quant_mode)mode};
        ac_model *q;
        ac_quant_table *t;
        quant(m, c, &o, &q, &t);
        const ac_quant_entry *ea = qt_entry(t, "a"), *eb = qt_entry(t, "b"), *ec = qt_entry(t, "c");
        ck_assert(ea && eb && ec);
        ck_assert(ea->scale == ec->scale && eb->scale == ec->scale);
        ck_assert(ea->zero_point == ec->zero_point && eb->zero_point == ec->zero_point);
        ck_assert(ea->min == -3.0f && ea->max == 2.0f && ea->amax == 3.0f);
        ck_assert(ec->scale == (mode == AC_QUANT_ORT ? 5.0f / 255.0f : 3.0f / 127.0f));
        ac_quant_table_free(t);
        ac_model_free(q);
    }
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

START_TEST(reshape_pass_through) {
    ac_model *m = qt_model(13, 4, XD);
    ac_graph *g = ac_model_graph(m);
    ac_value *cv = conv(m, "c1", ac_graph_find(g, "x"), "c");
    ac_diag d = {0};
    ac_tensor *st;
    ac_value *shape;
    ck_assert(ac_graph_new_tensor(g, "shape", AC_DTYPE_S64, 1, (int64_t[]){2}, &st, &d) == AC_OK);
    ((int64_t *)st->data)[0] = 1, ((int64_t *)st->data)[1] = 32;
    ck_assert(ac_graph_new_value(g, "shape", &shape, &d) == AC_OK);
    ck_assert(ac_graph_set_initializer(g, shape, st, &d) == AC_OK);
    ac_value *rins[2] = {cv, shape};
    ac_value *r = qt_node(m, "Reshape", "rs", 2, rins, "r");
    const float bias[3] = {0.1f, 0.2f, 0.3f};
    ac_value *gins[3] = {r, qt_init(m, "gB", 2, (int64_t[]){32, 3}, NULL),
                         qt_init(m, "gC", 1, (int64_t[]){3}, bias)};
    qt_finish(m, qt_node(m, "Gemm", "fc", 3, gins, "y"));
    static const char *const names[] = {"c", "r"};
    const float los[] = {-2.0f, -1.0f}, his[] = {2.0f, 1.0f};
    ac_calib *c = qt_stats_ex(m, -1.0f, 1.0f, 2, names, los, his);
    ac_quant_opts o = {.mode = AC_QUANT_ORT};
    ac_model *q;
    ac_quant_table *t;
    quant(m, c, &o, &q, &t);
    const ac_quant_entry *ec = qt_entry(t, "c"), *er = qt_entry(t, "r");
    ck_assert(ec && er && ec->scale == er->scale && ec->zero_point == er->zero_point);
    ck_assert_int_eq(qt_count(q, "QuantizeLinear"), 3);
    /* Gemm: per-channel weight along N (axis 1), int32 bias per channel */
    const ac_node *fc = qt_producer(q, "y");
    const ac_node *wdq = fc->inputs[1]->producer;
    ck_assert_int_eq(ac_node_attr_int(wdq, "axis", -5), 1);
    ck_assert_int_eq(wdq->inputs[1]->init->numel, 3);
    ck_assert_int_eq(fc->inputs[2]->producer->inputs[0]->init->dtype, AC_DTYPE_S32);
    ac_quant_table_free(t);
    ac_model_free(q);
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

START_TEST(skip_lists) {
    ac_model *m = conv_relu_conv(), *q;
    ac_calib *c = qt_stats_ex(m, -1.0f, 1.0f, 1, RELU_OUT, ZERO, ONE);
    ac_quant_table *t;
    static const char *const c2[] = {"c2"}, *const relu_out[] = {"r1_out"};
    /* node c2 by name: its weight and input stay float; c1 alone still quantizes x */
    ac_quant_opts o = {.mode = AC_QUANT_ORT, .skip_nodes = c2, .n_skip_nodes = 1};
    quant(m, c, &o, &q, &t);
    ck_assert_str_eq(qt_producer(q, "y")->inputs[1]->name, "c2_W");
    ck_assert_str_eq(qt_producer(q, "y")->inputs[0]->name, "r1_out");
    ck_assert_int_eq(qt_count(q, "Relu"), 1);
    ck_assert_int_eq(ac_quant_table_count(t), 1);
    ac_quant_table_free(t);
    ac_model_free(q);
    /* the tensor r1_out (FastDeploy skip_tensor_list): same effect */
    ac_quant_opts o2 = {.mode = AC_QUANT_ORT, .skip_tensors = relu_out, .n_skip_tensors = 1};
    quant(m, c, &o2, &q, &t);
    ck_assert_ptr_null(qt_entry(t, "r1_out"));
    ck_assert_str_eq(qt_producer(q, "y")->inputs[1]->name, "c2_W");
    ac_quant_table_free(t);
    ac_model_free(q);
    /* regex over node names: nothing left to quantize */
    ac_quant_opts o3 = {.mode = AC_QUANT_TENSORRT, .skip_node_regex = "^c[12]$"};
    quant(m, c, &o3, &q, &t);
    ck_assert_int_eq(ac_quant_table_count(t), 0);
    ck_assert_int_eq(qt_count(q, "QuantizeLinear") + qt_count(q, "DequantizeLinear"), 0);
    ac_quant_table_free(t);
    ac_model_free(q);
    /* a bad regex and an unknown op type are argument errors naming them */
    ac_diag d = {0};
    ac_quant_opts o4 = {.skip_node_regex = "(["};
    ck_assert_int_eq(ac_quantize(m, c, &o4, &q, &t, &d), AC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(d.msg, "(["));
    static const char *const ops[] = {"conv2d", "Softmax"};
    ac_quant_opts o5 = {.op_types = ops, .n_op_types = 2};
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_quantize(m, c, &o5, &q, &t, &d), AC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(d.msg, "Softmax"));
    /* op_types limited to Gemm: no Conv is quantized */
    static const char *const gemm[] = {"Gemm"};
    ac_quant_opts o6 = {.op_types = gemm, .n_op_types = 1};
    quant(m, c, &o6, &q, &t);
    ck_assert_int_eq(ac_quant_table_count(t), 0);
    ac_quant_table_free(t);
    ac_model_free(q);
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

START_TEST(float_neighbours_and_constants) {
    /* x -> Add(x, const) -> a -> Conv -> c -> Softmax -> y */
    ac_model *m = qt_model(13, 4, XD);
    ac_graph *g = ac_model_graph(m);
    ac_value *ains[2] = {ac_graph_find(g, "x"), qt_init(m, "k", 1, (int64_t[]){1}, ONE)};
    ac_value *a = qt_node(m, "Add", "add", 2, ains, "a");
    /* the Conv weight comes from a Constant node, as torch / paddle2onnx export it */
    ac_diag d = {0};
    ac_value *w;
    ac_node *cn;
    ac_attr *at;
    ck_assert(ac_graph_new_value(g, "cw", &w, &d) == AC_OK);
    ck_assert(ac_graph_add_node(g, "Constant", "", "cw_node", 0, NULL, 1, &w, &cn, &d) == AC_OK);
    ck_assert(ac_node_add_attr(cn, "value", AC_ATTR_TENSOR, &at, &d) == AC_OK);
    ck_assert(ac_graph_new_tensor(g, "cw", AC_DTYPE_F32, 4, (int64_t[]){2, 2, 1, 1}, &at->t,
                                  &d) == AC_OK);
    for (int i = 0; i < 4; i++) ((float *)at->t->data)[i] = 0.5f - 0.25f * (float)i;
    ac_value *cins[2] = {a, w};
    ac_value *cv = qt_node(m, "Conv", "conv", 2, cins, "c");
    qt_finish(m, qt_node(m, "Softmax", "sm", 1, &cv, "y"));
    /* "c" is all zeros in calibration: still a valid scale */
    static const char *const names[] = {"c"};
    ac_calib *c = qt_stats_ex(m, -1.0f, 1.0f, 1, names, (const float[]){0.0f},
                              (const float[]){0.0f});
    for (int mode = 0; mode < AC_QUANT_MODE_COUNT; mode++) {
        ac_quant_opts o = {.mode = (ac_quant_mode)mode};
        ac_model *q;
        ac_quant_table *t;
        quant(m, c, &o, &q, &t);
        ck_assert_int_eq(ac_quant_table_count(t), 1); /* only a, the Conv input */
        ck_assert_ptr_nonnull(qt_entry(t, "a"));
        ck_assert_str_eq(qt_producer(q, "a")->inputs[0]->name, "x"); /* Add stays float */
        ck_assert_int_eq(qt_count(q, "Constant"), 0); /* the float weight is gone */
        const ac_node *dq = qt_producer(q, "c")->inputs[1]->producer;
        ck_assert_str_eq(dq->op_type, "DequantizeLinear");
        ck_assert_int_eq(dq->inputs[0]->init->dtype, AC_DTYPE_S8);
        int64_t ny;
        float *y = qt_run(q, XD, 4, &ny); /* synthetic ranges: only check that it runs */
        for (int64_t i = 0; i < ny; i++) ck_assert(isfinite(y[i]));
        free(y);
        /* the QDQ model survives a save / load round trip */
        uint8_t *buf;
        size_t len;
        ac_model *back;
        ck_assert(ac_model_save_buffer(q, &buf, &len, &d) == AC_OK);
        ck_assert_msg(ac_model_load_buffer(buf, len, "q", NULL, NULL, &back, &d) == AC_OK, "%s",
                      d.msg);
        ac_free(buf);
        ac_model_free(back);
        ac_quant_table_free(t);
        ac_model_free(q);
        /* quantizing a quantized model is refused */
        ac_quant_table *t2;
        ac_model *q2;
        quant(m, c, &o, &q, &t);
        ck_assert_int_eq(ac_quantize(q, c, &o, &q2, &t2, &d), AC_ERR_UNSUPPORTED);
        ac_diag_clear(&d);
        ac_quant_table_free(t);
        ac_model_free(q);
    }
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

START_TEST(missing_stats) {
    ac_model *m = conv_relu_conv(), *q;
    ac_calib *c;
    ac_diag d = {0};
    ck_assert(ac_calib_new(NULL, &c, &d) == AC_OK);
    ac_quant_opts o = {0};
    ac_quant_table *t;
    ck_assert_int_eq(ac_quantize(m, c, &o, &q, &t, &d), AC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(d.msg, "no calibration statistics for tensor \"r1_out\""));
    ck_assert_ptr_nonnull(strstr(d.msg, "\"c2\" (Conv)"));
    ck_assert_ptr_null(q);
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

START_TEST(opset_raise) {
    /* opset 11: Unsqueeze's axes is an attribute; raising to 13 moves it to an input */
    ac_model *m = qt_model(11, 4, XD);
    ac_value *cv = conv(m, "c1", ac_graph_find(ac_model_graph(m), "x"), "c");
    ac_value *u = qt_node(m, "Unsqueeze", "unsq", 1, &cv, "u");
    ac_diag d = {0};
    ck_assert(ac_node_set_attr_ints(u->producer, "axes", 1, (int64_t[]){0}, &d) == AC_OK);
    qt_finish(m, u);
    ac_calib *c = qt_stats(m, -1.0f, 1.0f);
    ac_quant_opts o = {0};
    ac_model *q;
    ac_quant_table *t;
    quant(m, c, &o, &q, &t);
    ck_assert_int_eq(ac_model_opset(q, ""), 13);
    const ac_node *un = qt_producer(q, "u");
    ck_assert_int_eq(un->n_inputs, 2);
    ck_assert_ptr_null(ac_node_attr(un, "axes"));
    ck_assert_int_eq(((const int64_t *)un->inputs[1]->init->data)[0], 0);
    ck_assert_int_eq(ac_model_opset(m, ""), 11); /* the FP32 model is untouched */
    ck_assert(rel_err(m, q) < 0.05);
    ac_quant_table_free(t);
    ac_model_free(q);
    ac_calib_free(c);
    ac_model_free(m);
    /* opset 11 Softmax over axis 1 of a rank-4 tensor means a 2-D coercion: refused */
    m = qt_model(11, 4, XD);
    cv = conv(m, "c1", ac_graph_find(ac_model_graph(m), "x"), "c");
    qt_finish(m, qt_node(m, "Softmax", "sm", 1, &cv, "y"));
    c = qt_stats(m, -1.0f, 1.0f);
    ck_assert_int_eq(ac_quantize(m, c, &o, &q, &t, &d), AC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(d.where, "sm"));
    ck_assert_ptr_nonnull(strstr(d.msg, "Softmax"));
    /* per-tensor weights need no per-axis QDQ: the opset stays */
    ac_quant_opts pt = {.per_tensor_weights = 1};
    quant(m, c, &pt, &q, &t);
    ck_assert_int_eq(ac_model_opset(q, ""), 11);
    ck_assert_int_eq(ac_node_attr_int(qt_producer(q, "c")->inputs[1]->producer, "axis", -7), -7);
    ac_quant_table_free(t);
    ac_model_free(q);
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

/* Opsets 9 and 10 (torch.onnx's and paddle2onnx's): Slice's starts/ends/axes attributes,
 * Upsample (removed at 10) and Resize-10 become their opset-13 forms, and the QDQ model
 * computes what the FP32 one does. Before, opset 9 was refused outright and Resize-10 or
 * Upsample anywhere refused the model. */
START_TEST(opset_raise_from_9_and_10) {
    for (int64_t opset = 9; opset <= 10; opset++) {
        for (int linear = 0; linear <= 1; linear++) {
            ac_model *m = qt_model(opset, 4, XD);
            ac_diag d = {0};
            ac_value *cv = conv(m, "c1", ac_graph_find(ac_model_graph(m), "x"), "c");
            static const float scales[4] = {1.0f, 1.0f, 2.0f, 2.0f};
            ac_value *up_in[2] = {cv, qt_init(m, "sc", 1, (int64_t[]){4}, scales)};
            ac_value *up = qt_node(m, opset == 9 ? "Upsample" : "Resize", "up", 2, up_in, "u");
            ck_assert(ac_node_set_attr_string(up->producer, "mode", linear ? "linear" : "nearest",
                                              &d) == AC_OK);
            ac_value *sl;
            if (opset == 9) {
                sl = qt_node(m, "Slice", "sl", 1, &up, "s");
                ac_node *n = sl->producer;
                ck_assert(ac_node_set_attr_ints(n, "starts", 2, (int64_t[]){1, 1}, &d) == AC_OK);
                ck_assert(ac_node_set_attr_ints(n, "ends", 2, (int64_t[]){-1, 7}, &d) == AC_OK);
                ck_assert(ac_node_set_attr_ints(n, "axes", 2, (int64_t[]){2, 3}, &d) == AC_OK);
            } else {
                sl = up;
            }
            qt_finish(m, conv(m, "c2", sl, "y"));
            ac_calib *c = qt_stats(m, -1.0f, 1.0f);
            ac_quant_opts o = {0};
            ac_model *q;
            ac_quant_table *t;
            quant(m, c, &o, &q, &t);
            ck_assert_int_eq(ac_model_opset(q, ""), 13);
            const ac_node *r = qt_producer(q, "u");
            ck_assert_str_eq(r->op_type, "Resize");
            ck_assert_int_eq(r->n_inputs, 3);
            ck_assert_ptr_null(r->inputs[1]); /* roi omitted */
            ck_assert_str_eq(ac_node_attr_string(r, "coordinate_transformation_mode", ""),
                             "asymmetric");
            ck_assert_str_eq(ac_node_attr_string(r, "mode", ""), linear ? "linear" : "nearest");
            if (!linear) ck_assert_str_eq(ac_node_attr_string(r, "nearest_mode", ""), "floor");
            if (opset == 9) {
                const ac_node *n = qt_producer(q, "s");
                ck_assert_int_eq(n->n_inputs, 4);
                ck_assert_ptr_null(ac_node_attr(n, "starts"));
                ck_assert_int_eq(((const int64_t *)n->inputs[2]->init->data)[0], -1);
                ck_assert_int_eq(((const int64_t *)n->inputs[3]->init->data)[1], 3);
            }
            ck_assert_msg(rel_err(m, q) < 0.05, "opset %lld %s", (long long)opset,
                          linear ? "linear" : "nearest");
            /* per-tensor weights: opset 9 has no QuantizeLinear, so it is raised all the same */
            ac_quant_table_free(t);
            ac_model_free(q);
            ac_quant_opts pt = {.per_tensor_weights = 1};
            quant(m, c, &pt, &q, &t);
            ck_assert_int_eq(ac_model_opset(q, ""), opset == 9 ? 13 : 10);
            ac_quant_table_free(t);
            ac_model_free(q);
            ac_calib_free(c);
            ac_model_free(m);
        }
    }
    /* opset 8 is older than any export this raises */
    ac_model *m = qt_model(8, 4, XD);
    qt_finish(m, conv(m, "c1", ac_graph_find(ac_model_graph(m), "x"), "y"));
    ac_calib *c = qt_stats(m, -1.0f, 1.0f);
    ac_quant_opts o = {0};
    ac_model *q;
    ac_quant_table *t;
    ac_diag d = {0};
    ck_assert_int_eq(ac_quantize(m, c, &o, &q, &t, &d), AC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(d.msg, "opset 8"));
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

/* BatchNormalization written as Mul and Add by per-channel constants (paddle2onnx) folds into
 * the Conv before placement, so the Conv's output goes straight to its QuantizeLinear and
 * ONNX Runtime runs it as QLinearConv; before, the Conv stayed float between DequantizeLinear
 * and a float Mul. */
START_TEST(conv_mul_add_folds_before_placement) {
    ac_model *m = qt_model(11, 4, XD);
    ac_value *cv = conv(m, "c1", ac_graph_find(ac_model_graph(m), "x"), "c");
    static const float sc[2] = {1.5f, 0.5f}, sh[2] = {0.1f, -0.2f};
    ac_value *mins[2] = {cv, qt_init(m, "bn_s", 4, (int64_t[]){1, 2, 1, 1}, sc)};
    ac_value *mv = qt_node(m, "Mul", "bn_mul", 2, mins, "bn_m");
    ac_value *ains[2] = {mv, qt_init(m, "bn_b", 4, (int64_t[]){1, 2, 1, 1}, sh)};
    ac_value *av = qt_node(m, "Add", "bn_add", 2, ains, "bn_a");
    qt_finish(m, conv(m, "c2", relu(m, "r", av, "r_out"), "y"));
    ac_calib *c = qt_stats(m, -1.0f, 1.0f);
    for (int mode = 0; mode < 2; mode++) {
        ac_quant_opts o = {.mode = mode ? AC_QUANT_TENSORRT : AC_QUANT_ORT};
        ac_model *q;
        ac_quant_table *t;
        quant(m, c, &o, &q, &t);
        ck_assert_int_eq(qt_count(q, "Mul") + qt_count(q, "Add"), 0);
        const ac_node *cn = qt_producer(q, "bn_a");
        ck_assert_str_eq(cn->op_type, "Conv");
        ck_assert_str_eq(cn->inputs[1]->producer->op_type, "DequantizeLinear");
        ck_assert(rel_err(m, q) < 0.05);
        ac_quant_table_free(t);
        ac_model_free(q);
    }
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

/* torch.onnx writes a parameter used twice as an Identity of its first copy: such a bias is
 * still a constant, quantized to int32 in ORT mode (it was left float, and ORT's own bias
 * quantization then differed from ours for SqueezeNet 1.1's expand convs). */
START_TEST(bias_through_identity_is_quantized) {
    ac_model *m = qt_model(13, 4, XD);
    ac_value *x = ac_graph_find(ac_model_graph(m), "x");
    static const float b[2] = {0.05f, -0.1f};
    ac_value *bi = qt_init(m, "b_orig", 1, (int64_t[]){2}, b);
    ac_value *bid = qt_node(m, "Identity", "b_copy", 1, &bi, "b_id");
    ac_value *ins[3] = {x, qt_init(m, "W", 4, (int64_t[]){2, 2, 1, 1}, NULL), bid};
    ac_value *y = qt_node(m, "Conv", "c", 3, ins, "c_out");
    qt_finish(m, relu(m, "r", y, "y"));
    ac_calib *c = qt_stats(m, -1.0f, 1.0f);
    ac_quant_opts o = {0};
    ac_model *q;
    ac_quant_table *t;
    quant(m, c, &o, &q, &t);
    const ac_node *cn = qt_producer(q, "c_out");
    ck_assert_str_eq(cn->op_type, "Conv");
    ck_assert_ptr_nonnull(cn->inputs[2]->producer);
    ck_assert_str_eq(cn->inputs[2]->producer->op_type, "DequantizeLinear");
    ck_assert_int_eq(cn->inputs[2]->producer->inputs[0]->init->dtype, AC_DTYPE_S32);
    ck_assert(rel_err(m, q) < 0.05);
    ac_quant_table_free(t);
    ac_model_free(q);
    ac_calib_free(c);
    ac_model_free(m);
}
END_TEST

Suite *ac_test_quant_placement_suite(void) {
    Suite *s = suite_create("quant_placement");
    TCase *tc = tcase_create("placement");
    tcase_add_test(tc, conv_relu_ort);
    tcase_add_test(tc, conv_relu_trt);
    tcase_add_test(tc, residual_add);
    tcase_add_test(tc, concat_shares_scale);
    tcase_add_test(tc, reshape_pass_through);
    tcase_add_test(tc, skip_lists);
    tcase_add_test(tc, float_neighbours_and_constants);
    tcase_add_test(tc, missing_stats);
    tcase_add_test(tc, opset_raise);
    tcase_add_test(tc, opset_raise_from_9_and_10);
    tcase_add_test(tc, conv_mul_add_folds_before_placement);
    tcase_add_test(tc, bias_through_identity_is_quantized);
    suite_add_tcase(s, tc);
    return s;
}
