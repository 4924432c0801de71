/* SPDX-License-Identifier: MIT */
/* Scale / zero-point math, rounding, saturation, per-channel weights and int32 bias. */
#include "quant_internal.h"
#include "quant_test.h"

#include <float.h>
#include <math.h>

START_TEST(round_half_even) {
    const double in[] = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 3.7, -3.7};
    const double want[] = {0, 2, 2, -0.0, -2, -2, 0, 4, -4};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        ck_assert_msg(ac_q_round_half_even(in[i]) == want[i], "%g", in[i]);
    /* QuantizeLinear divides in float32: 1.5 / 1 ties to 2, 2.5 / 1 ties to 2 */
    ck_assert_int_eq(ac_q_quantize_value(2.5f, 1.0f, 0, AC_DTYPE_S8), 2);
    ck_assert_int_eq(ac_q_quantize_value(3.5f, 1.0f, 0, AC_DTYPE_S8), 4);
    ck_assert_int_eq(ac_q_quantize_value(0.5f, 1.0f, 10, AC_DTYPE_U8), 10);
}
END_TEST

START_TEST(saturation) {
    ck_assert_int_eq(ac_q_quantize_value(300.0f, 1.0f, 0, AC_DTYPE_U8), 255);
    ck_assert_int_eq(ac_q_quantize_value(-5.0f, 1.0f, 0, AC_DTYPE_U8), 0);
    ck_assert_int_eq(ac_q_quantize_value(-5.0f, 1.0f, 3, AC_DTYPE_U8), 0);
    ck_assert_int_eq(ac_q_quantize_value(-200.0f, 1.0f, 0, AC_DTYPE_S8), -128);
    ck_assert_int_eq(ac_q_quantize_s8_sym(-200.0f, 1.0f), -127); /* weights never use -128 */
    ck_assert_int_eq(ac_q_quantize_s8_sym(200.0f, 1.0f), 127);
    ck_assert_int_eq(ac_q_quantize_value(1e30f, 1e-30f, 0, AC_DTYPE_S32), INT32_MAX);
    ck_assert_int_eq(ac_q_quantize_value(-1e30f, 1e-30f, 0, AC_DTYPE_S32), INT32_MIN);
    ck_assert_int_eq(ac_q_quantize_value(NAN, 1.0f, 7, AC_DTYPE_U8), 7);
    ck_assert_int_eq(ac_q_saturate(5, -1, 1), 1);
}
END_TEST

START_TEST(zero_range) {
    ck_assert(ac_q_sym_scale(0.0f) == 1.0f);
    ck_assert(ac_q_sym_scale(1.0f) == 1.0f / 127.0f);
    ck_assert(ac_q_sym_scale(1e-42f) >= FLT_MIN); /* never a denormal or zero scale */
    ac_calib_range zero = {0, 0, 0}, cst = {5.0f, 5.0f, 5.0f}, neg = {-2.0f, -2.0f, 2.0f};
    ac_calib_qparams q = ac_q_act_params(&zero, AC_QUANT_ORT);
    ck_assert(q.scale == 1.0f && q.zero_point == 0);
    q = ac_q_act_params(&cst, AC_QUANT_ORT); /* widened to [0, 5]: 0 stays exact */
    ck_assert(q.scale == 5.0f / 255.0f && q.zero_point == 0);
    q = ac_q_act_params(&neg, AC_QUANT_ORT); /* [-2, 0]: zero point at the top */
    ck_assert_int_eq(q.zero_point, 255);
    q = ac_q_act_params(&zero, AC_QUANT_TENSORRT);
    ck_assert(q.scale == 1.0f && q.zero_point == 0);
    q = ac_q_act_params(&neg, AC_QUANT_TENSORRT);
    ck_assert(q.scale == 2.0f / 127.0f && q.zero_point == 0);
    ck_assert_uint_eq(ac_q_float_bits(1.0f / 127.0f), 0x3c010204u);
}
END_TEST

/* A node of `op` with attribute (name, value) pairs, for the axis rules. */
static ac_node *mk_node(ac_graph *g, const char *op, const char *attr, int64_t v) {
    ac_diag d = {0};
    ac_node *n;
    ck_assert(ac_graph_add_node(g, op, "", op, 0, NULL, 0, NULL, &n, &d) == AC_OK);
    if (attr) ck_assert(ac_node_set_attr_int(n, attr, v, &d) == AC_OK);
    return n;
}

static ac_tensor *mk_w(ac_graph *g, int32_t rank, const int64_t *dims, const float *data) {
    ac_diag d = {0};
    ac_tensor *t;
    ck_assert(ac_graph_new_tensor(g, "w", AC_DTYPE_F32, rank, dims, &t, &d) == AC_OK);
    memcpy(t->data, data, t->nbytes);
    return t;
}

START_TEST(weight_layouts) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert(ac_graph_new("g", &g, &d) == AC_OK);
    /* Conv [M=2, C=1, 1, 2]: channel = axis 0 */
    const float cw[] = {1.0f, -0.5f, 0.25f, 2.0f};
    ac_tensor *w = mk_w(g, 4, (int64_t[]){2, 1, 1, 2}, cw);
    ac_node *conv = mk_node(g, "Conv", NULL, 0);
    ck_assert_int_eq(ac_q_weight_axis(conv, w, 0), 0);
    ck_assert_int_eq(ac_q_weight_axis(conv, w, 1), -1);
    float s[3];
    int8_t q[6];
    ac_q_weight_scales(w, 0, s);
    ck_assert(s[0] == 1.0f / 127.0f && s[1] == 2.0f / 127.0f);
    ac_q_weight_quantize(w, 0, s, q);
    ck_assert(q[0] == 127 && q[1] == -64 && q[2] == 16 && q[3] == 127); /* -63.5 -> -64 (even) */
    ac_q_weight_scales(w, -1, s); /* per tensor */
    ck_assert(s[0] == 2.0f / 127.0f);
    /* ConvTranspose [C=1, M=2, 1, 2]: channel = axis 1; grouped: per tensor */
    ac_tensor *wt = mk_w(g, 4, (int64_t[]){1, 2, 1, 2}, cw);
    ac_node *ct = mk_node(g, "ConvTranspose", NULL, 0);
    ck_assert_int_eq(ac_q_weight_axis(ct, wt, 0), 1);
    ac_q_weight_scales(wt, 1, s);
    ck_assert(s[0] == 1.0f / 127.0f && s[1] == 2.0f / 127.0f);
    ac_node *ctg = mk_node(g, "ConvTranspose", "group", 2);
    ck_assert_int_eq(ac_q_weight_axis(ctg, wt, 0), -1);
    /* Gemm B [K=2, N=3] (transB 0): channel = axis 1; transB 1: B [N, K], axis 0 */
    const float gw[] = {1, -3, 0.5f, 2, 1, -0.25f};
    ac_tensor *b = mk_w(g, 2, (int64_t[]){2, 3}, gw);
    ac_node *gemm = mk_node(g, "Gemm", NULL, 0), *gemmt = mk_node(g, "Gemm", "transB", 1);
    ck_assert_int_eq(ac_q_weight_axis(gemm, b, 0), 1);
    ck_assert_int_eq(ac_q_weight_axis(gemmt, b, 0), 0);
    ac_q_weight_scales(b, 1, s);
    ck_assert(s[0] == 2.0f / 127.0f && s[1] == 3.0f / 127.0f && s[2] == 0.5f / 127.0f);
    ac_q_weight_quantize(b, 1, s, q);
    ck_assert(q[0] == 64 && q[1] == -127 && q[2] == 127 && q[3] == 127 && q[5] == -64);
    ac_q_weight_scales(b, 0, s);
    ck_assert(s[0] == 3.0f / 127.0f && s[1] == 2.0f / 127.0f);
    /* MatMul B [K, N]: last axis */
    ac_node *mm = mk_node(g, "MatMul", NULL, 0);
    ck_assert_int_eq(ac_q_weight_axis(mm, b, 0), 1);
    /* an all-zero channel still gets a valid scale (1) and zeros */
    const float zw[] = {0, 0, 0, 0};
    ac_tensor *z = mk_w(g, 4, (int64_t[]){2, 1, 1, 2}, zw);
    ac_q_weight_scales(z, 0, s);
    ck_assert(s[0] == 1.0f && s[1] == 1.0f);
    ac_graph_free(g);
}
END_TEST

START_TEST(bias_int32) {
    float ws[2] = {0.5f, 0.25f};
    const float b[2] = {1.0f, -0.3f};
    int32_t q[2];
    float bs[2];
    ck_assert_int_eq(ac_q_bias_fit(b, 2, 0.1f, ws, 2), 0);
    ac_q_bias_quantize(b, 2, 0.1f, ws, 2, q, bs);
    ck_assert(bs[0] == 0.1f * 0.5f && bs[1] == 0.1f * 0.25f);
    ck_assert_int_eq(q[0], 20);
    ck_assert_int_eq(q[1], -12);
    /* tiny weights with a large bias: the weight scale is raised so the bias fits int32 */
    float tiny[1] = {1e-30f};
    const float big[1] = {1000.0f};
    ck_assert_int_eq(ac_q_bias_fit(big, 1, 0.01f, tiny, 1), 1);
    ac_q_bias_quantize(big, 1, 0.01f, tiny, 1, q, bs);
    ck_assert(q[0] > 0 && q[0] <= 1073741823);
    ck_assert(fabs((double)q[0] * bs[0] - 1000.0) < 1e-3);
}
END_TEST

Suite *ac_test_quant_params_suite(void) {
    Suite *s = suite_create("quant_params");
    TCase *tc = tcase_create("params");
    tcase_add_test(tc, round_half_even);
    tcase_add_test(tc, saturation);
    tcase_add_test(tc, zero_range);
    tcase_add_test(tc, weight_layouts);
    tcase_add_test(tc, bias_int32);
    suite_add_tcase(s, tc);
    return s;
}
