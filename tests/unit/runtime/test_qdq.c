/* SPDX-License-Identifier: MIT */
/* Integer QDQ groups (src/runtime/qdq_fuse.c): small DQ -> op -> Q graphs whose uint8 results
 * are worked out by hand with ONNX Runtime's arithmetic (int32 accumulation, per-channel
 * float requantization, round half to even, saturation, zero points). */
#include "check_util.h"
#include "ops/qlinear.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ac_value *init(ac_graph *g, const char *name, ac_dtype dt, int32_t rank,
                      const int64_t *dims, const void *data, size_t bytes) {
    ac_diag d = {0};
    ac_value *v;
    ac_tensor *t;
    ck_assert_int_eq(ac_graph_new_value(g, name, &v, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_tensor(g, name, dt, rank, dims, &t, &d), AC_OK);
    memcpy(t->data, data, bytes);
    ck_assert_int_eq(ac_graph_set_initializer(g, v, t, &d), AC_OK);
    return v;
}

static ac_value *node1(ac_graph *g, const char *op, const char *out, int32_t n_in,
                       ac_value **ins) {
    ac_diag d = {0};
    ac_value *y;
    ac_node *n;
    ck_assert_int_eq(ac_graph_new_value(g, out, &y, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_node(g, op, "", out, n_in, ins, 1, &y, &n, &d), AC_OK);
    return y;
}

static ac_value *scalar_qp(ac_graph *g, const char *name, float s, uint8_t z, ac_value **zp) {
    char zn[64];
    snprintf(zn, sizeof zn, "%s_zp", name);
    *zp = init(g, zn, AC_DTYPE_U8, 0, NULL, &z, 1);
    return init(g, name, AC_DTYPE_F32, 0, NULL, &s, 4);
}

static ac_value *u8_input(ac_graph *g, const char *name, int32_t rank, const int64_t *dims) {
    ac_diag d = {0};
    ac_value *x;
    ck_assert_int_eq(ac_graph_new_value(g, name, &x, &d), AC_OK);
    ck_assert_int_eq(ac_value_set_type(x, AC_DTYPE_U8, rank, dims, NULL, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    return x;
}

static void run1(ac_graph *g, int32_t n_in, ac_tensor *in, const uint8_t *want, int64_t n) {
    ac_session *s;
    ac_diag d = {0};
    ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_OK);
    const ac_tensor *out;
    int32_t n_out;
    ac_status st = ac_session_run(s, n_in, in, &out, &n_out, &d);
    ck_assert_msg(st == AC_OK, "%s", d.msg);
    ck_assert_int_eq(out[0].dtype, AC_DTYPE_U8);
    ck_assert_int_eq(out[0].numel, n);
    const uint8_t *y = out[0].data;
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(y[i] == want[i], "element %lld: %d, want %d", (long long)i, y[i], want[i]);
    ac_session_free(s);
}

/* 1x1 Conv, 2 -> 2 channels, 2 pixels: x_scale 0.5, x_zp 128; per-channel weight scales
 * 0.25 and 0.5; int32 bias 6 and -2; y_scale 0.5, y_zp 10.
 *   ch0 px0: 2*2 + 0*-3 + 6 = 10, * (0.5*0.25/0.5) = 2.5 -> 2 (half to even) + 10 = 12
 *   ch0 px1: -8*2 + 127*-3 + 6 = -391, * 0.25 = -97.75 -> -98 + 10 = -88 -> 0 (saturated)
 *   ch1 px0: 2 + 0 - 2 = 0 -> 10;  ch1 px1: -8 + 127 - 2 = 117, * 0.5 = 58.5 -> 58 + 10 = 68 */
START_TEST(qlinear_conv_hand_computed) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[4] = {1, 2, 1, 2}, wd[4] = {2, 2, 1, 1}, cd[1] = {2};
    ac_value *x = u8_input(g, "x", 4, xd), *xz, *yz;
    ac_value *xs = scalar_qp(g, "xs", 0.5f, 128, &xz);
    int8_t w[4] = {2, -3, 1, 1};
    float ws[2] = {0.25f, 0.5f}, bs[2] = {0.125f, 0.25f};
    int32_t b[2] = {6, -2};
    ac_value *wq = init(g, "wq", AC_DTYPE_S8, 4, wd, w, 4);
    ac_value *wsv = init(g, "ws", AC_DTYPE_F32, 1, cd, ws, 8);
    ac_value *bq = init(g, "bq", AC_DTYPE_S32, 1, cd, b, 8);
    ac_value *bsv = init(g, "bs", AC_DTYPE_F32, 1, cd, bs, 8);
    ac_value *dx = node1(g, "DequantizeLinear", "dx", 3, (ac_value *[]){x, xs, xz});
    ac_value *dw = node1(g, "DequantizeLinear", "dw", 2, (ac_value *[]){wq, wsv});
    ac_value *db = node1(g, "DequantizeLinear", "db", 2, (ac_value *[]){bq, bsv});
    /* per output channel: axis 0 of the weight and of the bias */
    ck_assert_int_eq(ac_node_set_attr_int(dw->producer, "axis", 0, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_int(db->producer, "axis", 0, &d), AC_OK);
    ac_value *c = node1(g, "Conv", "c", 3, (ac_value *[]){dx, dw, db});
    ac_value *ys = scalar_qp(g, "ys", 0.5f, 10, &yz);
    ac_value *y = node1(g, "QuantizeLinear", "y", 3, (ac_value *[]){c, ys, yz});
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    uint8_t xv[4] = {130, 120, 128, 255}, want[4] = {12, 0, 10, 68};
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_U8, .rank = 4, .dims = xd, .data = xv};
    run1(g, 1, &in, want, 4);
    ac_graph_free(g);
}
END_TEST

/* QLinearAdd: a_scale 0.5 a_zp 128, b_scale 0.25 b_zp 100, y_scale 1 y_zp 0, so y =
 * round(0.5 a + 0.25 b - 89): ties go to even (0.5 -> 0, 1.5 -> 2), saturation at 0. */
START_TEST(qlinear_add_hand_computed) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t dims[1] = {5};
    ac_value *a = u8_input(g, "a", 1, dims), *b = u8_input(g, "b", 1, dims), *az, *bz, *yz;
    ac_value *as = scalar_qp(g, "as", 0.5f, 128, &az), *bs = scalar_qp(g, "bs", 0.25f, 100, &bz);
    ac_value *da = node1(g, "DequantizeLinear", "da", 3, (ac_value *[]){a, as, az});
    ac_value *dbv = node1(g, "DequantizeLinear", "dbv", 3, (ac_value *[]){b, bs, bz});
    ac_value *s = node1(g, "Add", "s", 2, (ac_value *[]){da, dbv});
    ac_value *ys = scalar_qp(g, "ys", 1.0f, 0, &yz);
    ac_value *y = node1(g, "QuantizeLinear", "y", 3, (ac_value *[]){s, ys, yz});
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    uint8_t av[5] = {129, 131, 131, 255, 0}, bv[5] = {100, 100, 102, 255, 0};
    uint8_t want[5] = {0, 2, 2, 102, 0};
    ac_tensor in[2] = {{.name = "a", .dtype = AC_DTYPE_U8, .rank = 1, .dims = dims, .data = av},
                       {.name = "b", .dtype = AC_DTYPE_U8, .rank = 1, .dims = dims, .data = bv}};
    run1(g, 2, in, want, 5);
    ac_graph_free(g);
}
END_TEST

START_TEST(requant_rounds_half_even_and_saturates) {
    ck_assert_int_eq(rt_ql_requant(2.5f, 0, 0), 2);
    ck_assert_int_eq(rt_ql_requant(3.5f, 0, 0), 4);
    ck_assert_int_eq(rt_ql_requant(-2.5f, 10, 0), 8);
    ck_assert_int_eq(rt_ql_requant(-20.0f, 10, 0), 0);
    ck_assert_int_eq(rt_ql_requant(300.0f, 10, 0), 255);
    ck_assert_int_eq(rt_ql_requant(-200.0f, 0, 1), -128);
    ck_assert_int_eq(rt_ql_requant(126.5f, 0, 1), 126);
    /* MLAS's rational logistic: symmetric around 0.5 and saturating */
    ck_assert(rt_ql_logistic(0.0f) == 0.5f);
    ck_assert(fabsf(rt_ql_logistic(2.0f) - 0.880797f) < 1e-6f);
    ck_assert(rt_ql_logistic(100.0f) <= 1.0f && rt_ql_logistic(-100.0f) >= 0.0f);
}
END_TEST

/* ---- which groups ORT runs in integer, and with which bias (TensorRT-style QDQ) ---------- */

static ac_value *f32_input(ac_graph *g, const char *name, int32_t rank, const int64_t *dims) {
    ac_diag d = {0};
    ac_value *x;
    ck_assert_int_eq(ac_graph_new_value(g, name, &x, &d), AC_OK);
    ck_assert_int_eq(ac_value_set_type(x, AC_DTYPE_F32, rank, dims, NULL, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    return x;
}

/* Q -> DQ with an int8 scalar scale s and zero point 0, as the TensorRT layout writes them. */
static ac_value *qdq_s8(ac_graph *g, const char *name, ac_value *x, float s) {
    char n[64];
    int8_t z = 0;
    snprintf(n, sizeof n, "%s_s", name);
    ac_value *sv = init(g, n, AC_DTYPE_F32, 0, NULL, &s, 4);
    snprintf(n, sizeof n, "%s_z", name);
    ac_value *zv = init(g, n, AC_DTYPE_S8, 0, NULL, &z, 1);
    snprintf(n, sizeof n, "%s_q", name);
    ac_value *q = node1(g, "QuantizeLinear", n, 3, (ac_value *[]){x, sv, zv});
    snprintf(n, sizeof n, "%s_dq", name);
    return node1(g, "DequantizeLinear", n, 3, (ac_value *[]){q, sv, zv});
}

/* 1x1 Conv, one channel, weight 1 (scale 1, int8) and the given bias value or int32 code. */
static ac_value *conv1(ac_graph *g, const char *name, ac_value *x, const float *fbias,
                       const int32_t *qbias) {
    char n[64];
    int64_t wd[4] = {1, 1, 1, 1}, bd[1] = {1};
    int8_t w = 1;
    float one = 1.0f;
    snprintf(n, sizeof n, "%s_w", name);
    ac_value *wq = init(g, n, AC_DTYPE_S8, 4, wd, &w, 1);
    snprintf(n, sizeof n, "%s_ws", name);
    ac_value *ws = init(g, n, AC_DTYPE_F32, 0, NULL, &one, 4);
    snprintf(n, sizeof n, "%s_wdq", name);
    ac_value *dw = node1(g, "DequantizeLinear", n, 2, (ac_value *[]){wq, ws});
    ac_value *b;
    snprintf(n, sizeof n, "%s_b", name);
    if (qbias) {
        ac_value *bq = init(g, n, AC_DTYPE_S32, 1, bd, qbias, 4);
        snprintf(n, sizeof n, "%s_bs", name);
        ac_value *bs = init(g, n, AC_DTYPE_F32, 0, NULL, &one, 4);
        snprintf(n, sizeof n, "%s_bdq", name);
        b = node1(g, "DequantizeLinear", n, 2, (ac_value *[]){bq, bs});
    } else {
        b = init(g, n, AC_DTYPE_F32, 1, bd, fbias, 4);
    }
    return node1(g, "Conv", name, 3, (ac_value *[]){x, dw, b});
}

/* Runs g on a float input x[3] and returns the float output in y[3]; *fused counts the
 * QLinearConv nodes of the plan. */
static void run_f32(ac_graph *g, const float *xv, float *y, int *fused) {
    ac_session *s;
    ac_diag d = {0};
    ac_session_opts o = {.threads = 1, .profile = 1};
    ck_assert_int_eq(ac_session_new(g, 13, &o, &s, &d), AC_OK);
    int64_t xd[4] = {1, 1, 1, 3};
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_F32, .rank = 4, .dims = xd,
                    .data = (void *)xv};
    const ac_tensor *out;
    int32_t n_out;
    ac_status st = ac_session_run(s, 1, &in, &out, &n_out, &d);
    ck_assert_msg(st == AC_OK, "%s", d.msg);
    ck_assert_int_eq(out[0].dtype, AC_DTYPE_F32);
    ck_assert_int_eq(out[0].numel, 3);
    memcpy(y, out[0].data, 3 * sizeof *y);
    const ac_node_profile *pr;
    int32_t np = ac_session_profile(s, &pr);
    *fused = 0;
    for (int32_t i = 0; i < np; i++) *fused += !strcmp(pr[i].op_type, "QLinearConv");
    ac_session_free(s);
}

/* ORT's WeightBiasQuantization: x (int8, scale 1) -> Conv(w 1, float bias 0.5) -> Relu -> Q.
 * ORT replaces the bias by DQ(round_half_even(0.5 / (1 * 1)) = 0) before running the Conv in
 * float (the Relu is not redundant with an int8 zero point of 0), so y = x, not x + 0.5
 * (which Q would round to 2, 2, 4). */
START_TEST(float_bias_is_rounded_like_ort) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[4] = {1, 1, 1, 3};
    float half = 0.5f;
    ac_value *x = qdq_s8(g, "x", f32_input(g, "x", 4, xd), 1.0f);
    ac_value *c = conv1(g, "c", x, &half, NULL);
    ac_value *r = node1(g, "Relu", "r", 1, (ac_value *[]){c});
    ac_value *y = qdq_s8(g, "y", r, 1.0f);
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    float xv[3] = {1, 2, 3}, yv[3];
    int fused;
    run_f32(g, xv, yv, &fused);
    for (int i = 0; i < 3; i++) ck_assert_msg(yv[i] == xv[i], "%d: %g", i, (double)yv[i]);
    ck_assert_int_eq(fused, 0); /* Conv + Relu with int8 zero point 0 stays float */
    ac_graph_free(g);
}
END_TEST

/* ...but only where the Conv's output goes (through Relu / Clip only) to a QuantizeLinear:
 * a Conv read by anything else keeps its float bias. */
START_TEST(float_bias_kept_without_path_to_q) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[4] = {1, 1, 1, 3};
    float half = 0.5f;
    ac_value *x = qdq_s8(g, "x", f32_input(g, "x", 4, xd), 1.0f);
    ac_value *c = conv1(g, "c", x, &half, NULL);
    ck_assert_int_eq(ac_graph_add_output(g, c, &d), AC_OK);
    float xv[3] = {1, 2, 3}, yv[3];
    int fused;
    run_f32(g, xv, yv, &fused);
    for (int i = 0; i < 3; i++) ck_assert(yv[i] == xv[i] + 0.5f);
    ac_graph_free(g);
}
END_TEST

/* QDQS8ToU8 + ConvNodeGroupSelector on x86: an int8 Conv group becomes QLinearConv only when
 * both its Q/DQ pairs are single-edge pairs ORT turns into uint8; with the float bias of the
 * TensorRT layout, after WeightBiasQuantization. The output pair is read by a Relu (a DQ that
 * is itself a graph output would also keep its pair int8); with a second reader of that DQ,
 * ORT gives each reader its own DQ, the Q has two edges and the Conv stays float. */
START_TEST(int8_conv_fused_only_when_ort_makes_it_uint8) {
    for (int shared = 0; shared < 2; shared++) {
        ac_graph *g;
        ac_diag d = {0};
        ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
        int64_t xd[4] = {1, 1, 1, 3};
        float half = 0.5f;
        ac_value *x = qdq_s8(g, "x", f32_input(g, "x", 4, xd), 1.0f);
        ac_value *c = conv1(g, "c", x, &half, NULL);
        ac_value *y = qdq_s8(g, "y", c, 1.0f);
        ac_value *r = node1(g, "Relu", "r", 1, (ac_value *[]){y});
        ck_assert_int_eq(ac_graph_add_output(g, r, &d), AC_OK);
        if (shared) { /* a second reader of y's DQ: ORT duplicates the DQ, the pair stays int8 */
            ac_value *r2 = node1(g, "Relu", "r2", 1, (ac_value *[]){y});
            ck_assert_int_eq(ac_graph_add_output(g, r2, &d), AC_OK);
        }
        float xv[3] = {1, 2, 3}, yv[3];
        int fused;
        run_f32(g, xv, yv, &fused);
        ck_assert_msg(fused == !shared, "shared %d: %d QLinearConv", shared, fused);
        for (int i = 0; i < 3; i++) ck_assert_msg(yv[i] == xv[i], "%d: %g", i, (double)yv[i]);
        ac_graph_free(g);
    }
}
END_TEST

/* An int8 tensor that comes from no QuantizeLinear (a graph input) is never converted: the
 * group stays float even with an int32 bias. */
START_TEST(int8_conv_from_int8_input_stays_float) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[4] = {1, 1, 1, 3};
    ac_value *xi;
    ck_assert_int_eq(ac_graph_new_value(g, "x", &xi, &d), AC_OK);
    ck_assert_int_eq(ac_value_set_type(xi, AC_DTYPE_S8, 4, xd, NULL, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, xi, &d), AC_OK);
    float one = 1.0f;
    int8_t z = 0;
    ac_value *xs = init(g, "xs", AC_DTYPE_F32, 0, NULL, &one, 4);
    ac_value *xz = init(g, "xz", AC_DTYPE_S8, 0, NULL, &z, 1);
    ac_value *x = node1(g, "DequantizeLinear", "xdq", 3, (ac_value *[]){xi, xs, xz});
    int32_t b = 0;
    ac_value *c = conv1(g, "c", x, NULL, &b);
    ac_value *y = qdq_s8(g, "y", c, 1.0f);
    ac_value *r = node1(g, "Relu", "r", 1, (ac_value *[]){y});
    ck_assert_int_eq(ac_graph_add_output(g, r, &d), AC_OK);
    ac_session *s;
    ac_session_opts o = {.threads = 1, .profile = 1};
    ck_assert_int_eq(ac_session_new(g, 13, &o, &s, &d), AC_OK);
    int8_t xv[3] = {1, -2, 3};
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_S8, .rank = 4, .dims = xd, .data = xv};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
    const float *yv = out[0].data;
    ck_assert(yv[0] == 1.0f && yv[1] == 0.0f && yv[2] == 3.0f);
    const ac_node_profile *pr;
    int32_t np = ac_session_profile(s, &pr);
    for (int32_t i = 0; i < np; i++) ck_assert_str_ne(pr[i].op_type, "QLinearConv");
    ac_session_free(s);
    ac_graph_free(g);
}
END_TEST

/* The same for ConvTranspose, whose per-output-channel weight scales run along axis 1 of its
 * [C_in, C_out, k...] weight: 1 -> 2 channels, 1x1 kernel, weights 1 (scales 1, 1), float
 * bias 0.5 rounded to 0, so y = x in both channels rather than x + 0.5 (2, 2, 4 after Q). */
START_TEST(convtranspose_float_bias_is_rounded_like_ort) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[4] = {1, 1, 1, 3}, wd[4] = {1, 2, 1, 1}, cd[1] = {2};
    ac_value *x = qdq_s8(g, "x", f32_input(g, "x", 4, xd), 1.0f);
    int8_t w[2] = {1, 1};
    float ws[2] = {1, 1}, b[2] = {0.5f, 0.5f};
    ac_value *wq = init(g, "wq", AC_DTYPE_S8, 4, wd, w, 2);
    ac_value *wsv = init(g, "ws", AC_DTYPE_F32, 1, cd, ws, 8);
    ac_value *dw = node1(g, "DequantizeLinear", "dw", 2, (ac_value *[]){wq, wsv});
    ck_assert_int_eq(ac_node_set_attr_int(dw->producer, "axis", 1, &d), AC_OK);
    ac_value *bv = init(g, "b", AC_DTYPE_F32, 1, cd, b, 8);
    ac_value *c = node1(g, "ConvTranspose", "c", 3, (ac_value *[]){x, dw, bv});
    ac_value *y = qdq_s8(g, "y", c, 1.0f);
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    ac_session *s;
    ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_OK);
    float xv[3] = {1, 2, 3};
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_F32, .rank = 4, .dims = xd, .data = xv};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
    ck_assert_int_eq(out[0].numel, 6);
    const float *yv = out[0].data;
    for (int i = 0; i < 6; i++)
        ck_assert_msg(yv[i] == xv[i % 3], "%d: %g", i, (double)yv[i]);
    ac_session_free(s);
    ac_graph_free(g);
}
END_TEST

/* Bilinear Resize in ORT's float arithmetic (cpu/tensor/upsample.cc): 2x2 -> 4x4, half_pixel;
 * output (1, 1) has weights 0.75 x 0.75, 0.25 x 0.75, ... and ORT sums
 * 0.5625 X11 + 0.1875 X21 + 0.1875 X12 + 0.0625 X22 in float, left to right: for these inputs
 * -1.9625001, where the exact sum rounds to -1.9624999. In a QDQ model such last bits decide a
 * rounding tie of the next QuantizeLinear. */
START_TEST(resize_bilinear_in_ort_float_order) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[4] = {1, 1, 2, 2}, sd[1] = {4};
    ac_value *x = f32_input(g, "x", 4, xd);
    float sc[4] = {1, 1, 2, 2};
    ac_value *scales = init(g, "scales", AC_DTYPE_F32, 1, sd, sc, sizeof sc);
    ac_value *y = node1(g, "Resize", "y", 3, (ac_value *[]){x, NULL, scales});
    ck_assert_int_eq(ac_node_set_attr_string(y->producer, "mode", "linear", &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    float xv[4] = {-20 * 0.1f, -20 * 0.1f, -19 * 0.1f, -17 * 0.1f};
    volatile float ort = 0.5625f * xv[0];
    ort += 0.1875f * xv[1];
    ort += 0.1875f * xv[2];
    ort += 0.0625f * xv[3];
    float exact = (float)(0.5625 * xv[0] + 0.1875 * xv[1] + 0.1875 * xv[2] + 0.0625 * xv[3]);
    ck_assert(ort != exact); /* the case is one where the order matters */
    ac_session *s;
    ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_OK);
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_F32, .rank = 4, .dims = xd, .data = xv};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
    ck_assert_int_eq(out[0].numel, 16);
    const float *yv = out[0].data;
    ck_assert_msg(yv[5] == ort, "%.9g, ORT computes %.9g", (double)yv[5], (double)ort);
    ck_assert(yv[0] == xv[0] && yv[15] == xv[3]); /* borders: 0.5 / 0.5 of the same pixel */
    ac_session_free(s);
    ac_graph_free(g);
}
END_TEST

/* Float Sigmoid is ORT's MlasComputeLogistic (which its Sigmoid, QuickGelu and QLinearSigmoid
 * share), not 1 / (1 + exp(-x)): sigmoid(0.5) is 0.622459292 there, 0.622459352 by expf. A
 * TensorRT-style YOLO runs its SiLU in float before each QuantizeLinear. */
START_TEST(float_sigmoid_is_mlas_logistic) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[1] = {4};
    ac_value *x = f32_input(g, "x", 1, xd);
    ac_value *y = node1(g, "Sigmoid", "y", 1, (ac_value *[]){x});
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    ac_session *s;
    ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_OK);
    float xv[4] = {0.25f, 0.5f, 1.75f, 2.0f};
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_F32, .rank = 1, .dims = xd, .data = xv};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
    const float *yv = out[0].data;
    for (int i = 0; i < 4; i++) ck_assert(yv[i] == rt_ql_logistic(xv[i]));
    ck_assert(yv[1] == 0.622459292f);
    ac_session_free(s);
    ac_graph_free(g);
}
END_TEST

/* A Conv that ORT runs in float inside a QDQ model is summed in MLAS's order
 * (kernels/x86/conv_ortorder_avx2.c): per output, K = 300 input channels cut into blocks of
 * 128 (output size 400 >= K), each block an FMA chain from 0, the blocks added in order, then
 * the bias. Other orders differ from it in the last bit for some of the 400 outputs, which is
 * what flips codes at the next QuantizeLinear. Two output channels: with one, MLAS's SGEMM
 * runs its M = 1 kernel instead (the next test); the expected values here were checked
 * bit-exact against ORT 1.30 (a float Conv with the weights as a graph input). */
START_TEST(float_conv_in_qdq_model_sums_in_mlas_order) {
    if (ac_isa_detect() < AC_ISA_AVX2) return; /* the kernel needs FMA */
    enum { C = 300, P = 400, M = 2 };
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[4] = {1, C, 20, 20}, wd[4] = {M, C, 1, 1}, bd[1] = {M};
    ac_value *x = u8_input(g, "x", 4, xd), *xz;
    ac_value *xs = scalar_qp(g, "xs", 0.0173f, 128, &xz);
    static int8_t w[M * C];
    static uint8_t xv[C * P];
    uint32_t r = 12345;
    for (int i = 0; i < M * C; i++) w[i] = (int8_t)((r = r * 1103515245u + 12345u) >> 24);
    for (int i = 0; i < C * P; i++) xv[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 24);
    float ws = 0.0071f, b[M] = {0.3f, -0.2f};
    ac_value *wq = init(g, "wq", AC_DTYPE_S8, 4, wd, w, sizeof w);
    ac_value *wsv = init(g, "ws", AC_DTYPE_F32, 0, NULL, &ws, 4);
    ac_value *bv = init(g, "b", AC_DTYPE_F32, 1, bd, b, sizeof b);
    ac_value *dx = node1(g, "DequantizeLinear", "dx", 3, (ac_value *[]){x, xs, xz});
    ac_value *dw = node1(g, "DequantizeLinear", "dw", 2, (ac_value *[]){wq, wsv});
    ac_value *y = node1(g, "Conv", "y", 3, (ac_value *[]){dx, dw, bv});
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    ac_session *s;
    ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_OK);
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_U8, .rank = 4, .dims = xd, .data = xv};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
    ck_assert_int_eq(out[0].numel, M * P);
    const float *yv = out[0].data;
    int other = 0;
    for (int m = 0; m < M; m++)
        for (int p = 0; p < P; p++) {
            float c = 0.0f, one = 0.0f;
            for (int k0 = 0; k0 < C; k0 += 128) {
                float acc = 0.0f;
                for (int k = k0; k < k0 + 128 && k < C; k++) {
                    float xf = 0.0173f * (float)(xv[k * P + p] - 128), wf = ws * (float)w[m * C + k];
                    acc = fmaf(wf, xf, acc);
                    one = fmaf(wf, xf, one);
                }
                c = k0 == 0 ? acc : c + acc;
            }
            c += b[m];
            other += c != one + b[m];
            ck_assert_msg(yv[m * P + p] == c, "output %d: %.9g, MLAS order gives %.9g", m * P + p,
                          (double)yv[m * P + p], (double)c);
        }
    ck_assert_int_gt(other, 0); /* the blocks matter for this case */
    ac_session_free(s);
    ac_graph_free(g);
}
END_TEST

/* The same float Conv with a residual Add whose other input is made after the Conv (a
 * TensorRT-mode ResNet-50: the downsample Conv comes before the DequantizeLinear of the
 * block's last Conv). ORT fuses them into FusedConv, whose C starts as the residual before the
 * blocks are added; so must the engine, running the fused node in the Add's place. Summed as
 * Conv then Add instead, about one code in 10^4 flipped at the next QuantizeLinear of that
 * ResNet-50 and its output moved by 0.6 of a step. */
START_TEST(float_conv_with_late_residual_sums_like_fused_conv) {
    if (ac_isa_detect() < AC_ISA_AVX2) return; /* the kernel needs FMA */
    enum { C = 300, P = 400, M = 2 };
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[4] = {1, C, 20, 20}, rd[4] = {1, M, 20, 20}, wd[4] = {M, C, 1, 1}, bd[1] = {M};
    ac_value *x = u8_input(g, "x", 4, xd), *r8 = u8_input(g, "r8", 4, rd), *xz, *rz;
    ac_value *xs = scalar_qp(g, "xs", 0.0173f, 128, &xz);
    ac_value *rs = scalar_qp(g, "rs", 0.0391f, 120, &rz);
    static int8_t w[M * C];
    static uint8_t xv[C * P], rv[M * P];
    uint32_t r = 4321;
    for (int i = 0; i < M * C; i++) w[i] = (int8_t)((r = r * 1103515245u + 12345u) >> 24);
    for (int i = 0; i < C * P; i++) xv[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 24);
    for (int i = 0; i < M * P; i++) rv[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 24);
    float ws = 0.0071f, b[M] = {0.3f, -0.2f};
    ac_value *wq = init(g, "wq", AC_DTYPE_S8, 4, wd, w, sizeof w);
    ac_value *wsv = init(g, "ws", AC_DTYPE_F32, 0, NULL, &ws, 4);
    ac_value *bv = init(g, "b", AC_DTYPE_F32, 1, bd, b, sizeof b);
    ac_value *dx = node1(g, "DequantizeLinear", "dx", 3, (ac_value *[]){x, xs, xz});
    ac_value *dw = node1(g, "DequantizeLinear", "dw", 2, (ac_value *[]){wq, wsv});
    ac_value *y = node1(g, "Conv", "y", 3, (ac_value *[]){dx, dw, bv});
    ac_value *res = node1(g, "DequantizeLinear", "res", 3, (ac_value *[]){r8, rs, rz});
    ac_value *sum = node1(g, "Add", "sum", 2, (ac_value *[]){res, y});
    ac_value *out_v = node1(g, "Relu", "out", 1, (ac_value *[]){sum});
    ck_assert_int_eq(ac_graph_add_output(g, out_v, &d), AC_OK);
    ac_session *s;
    ac_session_opts so = {.profile = 1};
    ck_assert_int_eq(ac_session_new(g, 13, &so, &s, &d), AC_OK);
    ac_tensor in[2] = {{.name = "x", .dtype = AC_DTYPE_U8, .rank = 4, .dims = xd, .data = xv},
                       {.name = "r8", .dtype = AC_DTYPE_U8, .rank = 4, .dims = rd, .data = rv}};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 2, in, &out, &n_out, &d), AC_OK);
    ck_assert_int_eq(out[0].numel, M * P);
    const ac_node_profile *prof;
    int32_t n_prof = ac_session_profile(s, &prof), fused = 0;
    for (int32_t i = 0; i < n_prof; i++) fused |= !strcmp(prof[i].op_type, "Conv+Add+Relu");
    ck_assert_msg(fused, "Conv, Add and Relu not fused");
    const float *yv = out[0].data;
    int other = 0;
    for (int m = 0; m < M; m++)
        for (int p = 0; p < P; p++) {
            float z = 0.0391f * (float)(rv[m * P + p] - 120), c = z, unfused = 0.0f;
            for (int k0 = 0; k0 < C; k0 += 128) {
                float acc = 0.0f;
                for (int k = k0; k < k0 + 128 && k < C; k++) {
                    float xf = 0.0173f * (float)(xv[k * P + p] - 128), wf = ws * (float)w[m * C + k];
                    acc = fmaf(wf, xf, acc);
                }
                c = c + acc;
                unfused = k0 == 0 ? acc : unfused + acc;
            }
            c = fmaxf(c + b[m], 0.0f);
            unfused = fmaxf((unfused + b[m]) + z, 0.0f);
            other += c != unfused;
            ck_assert_msg(yv[m * P + p] == c, "output %d: %.9g, FusedConv order gives %.9g",
                          m * P + p, (double)yv[m * P + p], (double)c);
        }
    ck_assert_int_gt(other, 0); /* the order matters for this case */
    ac_session_free(s);
    ac_graph_free(g);
}
END_TEST

/* Runs DequantizeLinear(x, 0.0173, 128) -> `op` (AveragePool 2x2 stride 2, or over the whole
 * plane with `whole`; GlobalAveragePool) over x [1, C, H, W] and returns the float outputs
 * (caller frees). */
static float *dq_pool(const char *op, int whole, int64_t C, int64_t H, int64_t W,
                      const uint8_t *xv, int64_t *n) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[4] = {1, C, H, W};
    ac_value *x = u8_input(g, "x", 4, xd), *xz;
    ac_value *xs = scalar_qp(g, "xs", 0.0173f, 128, &xz);
    ac_value *dx = node1(g, "DequantizeLinear", "dx", 3, (ac_value *[]){x, xs, xz});
    ac_value *y = node1(g, op, "y", 1, &dx);
    if (!strcmp(op, "AveragePool")) {
        ac_node *pn = y->producer;
        int64_t two[2] = {2, 2}, plane[2] = {H, W};
        ck_assert_int_eq(ac_node_set_attr_ints(pn, "kernel_shape", 2, whole ? plane : two, &d),
                         AC_OK);
        if (!whole) ck_assert_int_eq(ac_node_set_attr_ints(pn, "strides", 2, two, &d), AC_OK);
    }
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    ac_session *s;
    ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_OK);
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_U8, .rank = 4, .dims = xd, .data = (void *)xv};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
    *n = out[0].numel;
    float *r = malloc((size_t)*n * sizeof *r);
    memcpy(r, out[0].data, (size_t)*n * sizeof *r);
    ac_session_free(s);
    ac_graph_free(g);
    return r;
}

/* Float pools of a QDQ model sum as ONNX Runtime's MLAS does (kernels/x86/pool2d_avx2.c,
 * gavgpool.h): with a channel count that is a multiple of the NCHWc block (16 or 8) ORT pools
 * in NCHWc and adds the taps row by row from 0; otherwise its vector AveragePool adds the
 * window's rows first, and its global kernel keeps four partial sums. Before, a DenseNet's
 * transition AveragePool (256 channels) flipped codes downstream (0.78 of a step at the
 * output) and SqueezeNet's last GlobalAveragePool differed in the last bit. */
START_TEST(float_pools_in_qdq_model_sum_in_mlas_order) {
    if (ac_isa_detect() < AC_ISA_AVX2) return; /* the ISA levels that follow ORT's order */
    enum { H = 6, W = 10 };
    static uint8_t xv[32 * H * W];
    uint32_t r = 99;
    for (int i = 0; i < 32 * H * W; i++) xv[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 24);
    const int64_t channels[2] = {16, 3}; /* a multiple of every block; none */
    int other_avg = 0, other_gap = 0;
    for (int k = 0; k < 2; k++) {
        int64_t C = channels[k], n;
        int nchwc = C % 8 == 0;
        float *y = dq_pool("AveragePool", 0, C, H, W, xv, &n);
        ck_assert_int_eq(n, C * (H / 2) * (W / 2));
        for (int64_t c = 0; c < C; c++)
            for (int oh = 0; oh < H / 2; oh++)
                for (int ow = 0; ow < W / 2; ow++) {
                    float t[4];
                    for (int q = 0; q < 4; q++) {
                        int64_t at = (c * H + 2 * oh + q / 2) * W + 2 * ow + q % 2;
                        t[q] = 0.0173f * (float)(xv[at] - 128);
                    }
                    float taps = (((0.0f + t[0]) + t[1]) + t[2]) + t[3];
                    float rows = (t[0] + t[2]) + (t[1] + t[3]);
                    float want = (nchwc ? taps : rows) / 4.0f, alt = (nchwc ? rows : taps) / 4.0f;
                    other_avg += want != alt;
                    float got = y[(c * (H / 2) + oh) * (W / 2) + ow];
                    ck_assert_msg(got == want, "C %lld avg %lld,%d,%d: %.9g, MLAS gives %.9g",
                                  (long long)C, (long long)c, oh, ow, (double)got, (double)want);
                }
        free(y);
        y = dq_pool("GlobalAveragePool", 0, C, H, W, xv, &n);
        for (int64_t c = 0; c < C; c++) {
            float seq = 0.0f, p4[4] = {0, 0, 0, 0};
            int64_t i = 0;
            for (; i < H * W; i++) seq += 0.0173f * (float)(xv[c * H * W + i] - 128);
            for (i = 0; i + 4 <= H * W; i += 4)
                for (int l = 0; l < 4; l++) p4[l] += 0.0173f * (float)(xv[c * H * W + i + l] - 128);
            float m4 = (p4[0] + p4[2]) + (p4[1] + p4[3]);
            for (; i < H * W; i++) m4 += 0.0173f * (float)(xv[c * H * W + i] - 128);
            float want = (nchwc ? seq : m4) / (float)(H * W);
            float alt = (nchwc ? m4 : seq) / (float)(H * W);
            other_gap += want != alt;
            ck_assert_msg(y[c] == want, "C %lld gap %lld: %.9g, MLAS gives %.9g", (long long)C,
                          (long long)c, (double)y[c], (double)want);
        }
        /* an AveragePool over the whole plane (stride 1, no pads) is a global pool to MLAS */
        float *yw = dq_pool("AveragePool", 1, C, H, W, xv, &n);
        ck_assert_int_eq(n, C);
        for (int64_t c = 0; c < C; c++)
            ck_assert_msg(yw[c] == y[c], "C %lld whole-plane avg %lld: %.9g, MLAS gives %.9g",
                          (long long)C, (long long)c, (double)yw[c], (double)y[c]);
        free(yw);
        free(y);
    }
    ck_assert_int_gt(other_avg, 0); /* the orders differ for these values */
    ck_assert_int_gt(other_gap, 0);
}
END_TEST

/* A depthwise float Conv (group = C, one output channel per group) reading DequantizeLinear:
 * MLAS calls its SGEMM with M = 1 per group, which on x86-64 runs MlasSgemmKernelM1Avx
 * (kernels/x86/conv_ortorder_avx2.c): no FMA, the K = 9 taps in groups of four
 * t = p0 + p1 + p2 + p3 (each product rounded), C = t + C, then the ninth tap C = p8 + C; then
 * the bias. An FMA chain (the M > 1 order) differs from it in the last bit for some outputs. */
START_TEST(float_depthwise_conv_in_qdq_model_sums_in_mlas_m1_order) {
    if (ac_isa_detect() < AC_ISA_AVX2) return; /* the kernel needs AVX2 */
    enum { C = 6, H = 13, W = 11, P = H * W };
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    int64_t xd[4] = {1, C, H, W}, wd[4] = {C, 1, 3, 3}, bd[1] = {C};
    ac_value *x = u8_input(g, "x", 4, xd), *xz;
    ac_value *xs = scalar_qp(g, "xs", 0.0173f, 128, &xz);
    static int8_t w[C * 9];
    static uint8_t xv[C * P];
    float b[C];
    uint32_t r = 777;
    for (int i = 0; i < C * 9; i++) w[i] = (int8_t)((r = r * 1103515245u + 12345u) >> 24);
    for (int i = 0; i < C * P; i++) xv[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 24);
    for (int i = 0; i < C; i++) b[i] = 0.01f * (float)(i - 2);
    float ws = 0.0071f;
    ac_value *wq = init(g, "wq", AC_DTYPE_S8, 4, wd, w, sizeof w);
    ac_value *wsv = init(g, "ws", AC_DTYPE_F32, 0, NULL, &ws, 4);
    ac_value *bv = init(g, "b", AC_DTYPE_F32, 1, bd, b, sizeof b);
    ac_value *dx = node1(g, "DequantizeLinear", "dx", 3, (ac_value *[]){x, xs, xz});
    ac_value *dw = node1(g, "DequantizeLinear", "dw", 2, (ac_value *[]){wq, wsv});
    ac_value *y;
    ac_node *cn;
    ck_assert_int_eq(ac_graph_new_value(g, "y", &y, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_node(g, "Conv", "", "y", 3, (ac_value *[]){dx, dw, bv}, 1, &y,
                                       &cn, &d),
                     AC_OK);
    int64_t ks[2] = {3, 3}, pads[4] = {1, 1, 1, 1};
    ck_assert_int_eq(ac_node_set_attr_ints(cn, "kernel_shape", 2, ks, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_ints(cn, "pads", 4, pads, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_int(cn, "group", C, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    ac_session *s;
    ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_OK);
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_U8, .rank = 4, .dims = xd, .data = xv};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
    ck_assert_int_eq(out[0].numel, C * P);
    const float *yv = out[0].data;
    int other = 0;
    for (int c = 0; c < C; c++)
        for (int oy = 0; oy < H; oy++)
            for (int ox = 0; ox < W; ox++) {
                float prod[9], acc = 0.0f, fma_chain = 0.0f;
                for (int k = 0; k < 9; k++) {
                    int iy = oy + k / 3 - 1, ix = ox + k % 3 - 1;
                    float xf = iy < 0 || iy >= H || ix < 0 || ix >= W
                                   ? 0.0f
                                   : 0.0173f * (float)(xv[(c * H + iy) * W + ix] - 128);
                    float wf = ws * (float)w[c * 9 + k];
                    prod[k] = wf * xf;
                    fma_chain = fmaf(wf, xf, fma_chain);
                }
                float t = prod[0] + prod[1];
                t = t + prod[2];
                t = t + prod[3];
                acc = t + acc;
                t = prod[4] + prod[5];
                t = t + prod[6];
                t = t + prod[7];
                acc = t + acc;
                acc = prod[8] + acc;
                acc = acc + b[c];
                other += acc != fma_chain + b[c];
                int i = c * P + oy * W + ox;
                ck_assert_msg(yv[i] == acc, "output %d: %.9g, MLAS M = 1 order gives %.9g", i,
                              (double)yv[i], (double)acc);
            }
    ck_assert_int_gt(other, 0); /* the order matters for this case */
    ac_session_free(s);
    ac_graph_free(g);
}
END_TEST

Suite *ac_test_runtime_qdq_suite(void) {
    Suite *s = suite_create("runtime_qdq");
    TCase *tc = tcase_create("qdq");
    tcase_add_test(tc, qlinear_conv_hand_computed);
    tcase_add_test(tc, qlinear_add_hand_computed);
    tcase_add_test(tc, requant_rounds_half_even_and_saturates);
    tcase_add_test(tc, float_bias_is_rounded_like_ort);
    tcase_add_test(tc, float_bias_kept_without_path_to_q);
    tcase_add_test(tc, int8_conv_fused_only_when_ort_makes_it_uint8);
    tcase_add_test(tc, int8_conv_from_int8_input_stays_float);
    tcase_add_test(tc, convtranspose_float_bias_is_rounded_like_ort);
    tcase_add_test(tc, resize_bilinear_in_ort_float_order);
    tcase_add_test(tc, float_sigmoid_is_mlas_logistic);
    tcase_add_test(tc, float_conv_in_qdq_model_sums_in_mlas_order);
    tcase_add_test(tc, float_conv_with_late_residual_sums_like_fused_conv);
    tcase_add_test(tc, float_depthwise_conv_in_qdq_model_sums_in_mlas_m1_order);
    tcase_add_test(tc, float_pools_in_qdq_model_sum_in_mlas_order);
    suite_add_tcase(s, tc);
    return s;
}
