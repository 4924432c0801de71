/* SPDX-License-Identifier: MIT */
/* The pointwise + depthwise pair run as one node (plan.c fuse_pointwise_depthwise,
 * kernels/x86/pwdw_avx512.c): the pair is fused where it should be, its output matches the
 * reference kernels for strides 1 and 2, every pad, odd sizes and batch 2, it does not depend
 * on the thread count, and an observed middle tensor keeps the two convs apart. */
#include "autocompress/ac_session.h"
#include "check_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct pair_case {
    int64_t N, C, M, H, W, stride;
    int64_t pads[4]; /* depthwise: top, left, bottom, right */
    int dw_bias;
    int rare_acts; /* Sigmoid and LeakyRelu (applied after the stores) instead of Clip, Relu */
} pair_case;

static ac_value *add_weight(ac_graph *g, const char *name, int32_t rank, const int64_t *dims,
                            float scale, ac_test_rng *r) {
    ac_diag d = {0};
    ac_value *v;
    ac_tensor *t;
    ck_assert_int_eq(ac_graph_new_value(g, name, &v, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_tensor(g, name, AC_DTYPE_F32, rank, dims, &t, &d), AC_OK);
    for (int64_t i = 0; i < t->numel; i++) ((float *)t->data)[i] = scale * ac_test_rng_float(r);
    ck_assert_int_eq(ac_graph_set_initializer(g, v, t, &d), AC_OK);
    return v;
}

/* x -> Conv 1x1 (bias) -> Clip(0, 6) -> "mid" -> depthwise Conv 3x3 -> Relu -> y, or with
 * Sigmoid and LeakyRelu for rare_acts */
static ac_graph *pair_graph(const pair_case *c) {
    ac_diag d = {0};
    ac_graph *g;
    ac_test_rng r = {7u};
    ck_assert_int_eq(ac_graph_new("pwdw", &g, &d), AC_OK);
    ac_value *x, *e, *mid, *z, *y;
    int64_t xd[4] = {c->N, c->C, c->H, c->W};
    ck_assert_int_eq(ac_graph_new_value(g, "x", &x, &d), AC_OK);
    ck_assert_int_eq(ac_value_set_type(x, AC_DTYPE_F32, 4, xd, NULL, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    int64_t w1d[4] = {c->M, c->C, 1, 1}, w2d[4] = {c->M, 1, 3, 3}, bd[1] = {c->M};
    ac_value *w1 = add_weight(g, "w1", 4, w1d, 0.6f, &r), *b1 = add_weight(g, "b1", 1, bd, 1, &r);
    ac_value *w2 = add_weight(g, "w2", 4, w2d, 0.5f, &r), *b2 = add_weight(g, "b2", 1, bd, 1, &r);
    ck_assert_int_eq(ac_graph_new_value(g, "e", &e, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_value(g, "mid", &mid, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_value(g, "z", &z, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_value(g, "y", &y, &d), AC_OK);
    ac_node *n;
    ac_value *in1[3] = {x, w1, b1};
    ck_assert_int_eq(ac_graph_add_node(g, "Conv", "", "pw", 3, in1, 1, &e, &n, &d), AC_OK);
    /* opset 10: Clip's bounds are attributes */
    if (c->rare_acts) {
        ck_assert_int_eq(ac_graph_add_node(g, "Sigmoid", "", "sig", 1, &e, 1, &mid, &n, &d), AC_OK);
    } else {
        ck_assert_int_eq(ac_graph_add_node(g, "Clip", "", "clip", 1, &e, 1, &mid, &n, &d), AC_OK);
        ck_assert_int_eq(ac_node_set_attr_float(n, "min", 0.0f, &d), AC_OK);
        ck_assert_int_eq(ac_node_set_attr_float(n, "max", 6.0f, &d), AC_OK);
    }
    ac_value *in2[3] = {mid, w2, b2};
    ck_assert_int_eq(ac_graph_add_node(g, "Conv", "", "dw", c->dw_bias ? 3 : 2, in2, 1, &z, &n,
                                       &d),
                     AC_OK);
    int64_t strides[2] = {c->stride, c->stride};
    ck_assert_int_eq(ac_node_set_attr_int(n, "group", c->M, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_ints(n, "strides", 2, strides, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_ints(n, "pads", 4, c->pads, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_node(g, c->rare_acts ? "LeakyRelu" : "Relu", "", "act", 1, &z,
                                       1, &y, &n, &d),
                     AC_OK);
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    return g;
}

static int want_mid(const ac_value *v, void *user) {
    (void)user;
    return !strcmp(v->name, "mid");
}

static ac_status ignore(const ac_value *v, const ac_tensor *t, void *user, ac_diag *d) {
    (void)v, (void)t, (void)user, (void)d;
    return AC_OK;
}

/* Output of the pair (malloc'd) at `isa` on `threads` threads; *fused: whether the plan ran
 * it as one pwdw node. */
static float *run_pair(const ac_graph *g, const pair_case *c, ac_isa isa, int32_t threads,
                       int observe_mid, int *fused, int64_t *numel) {
    ac_diag d = {0};
    ac_session_opts o = {.threads = threads, .isa = isa, .profile = 1};
    if (observe_mid) {
        o.want = want_mid;
        o.observe = ignore;
    }
    ac_session *s;
    ck_assert_int_eq(ac_session_new(g, 10, &o, &s, &d), AC_OK);
    int64_t nx = c->N * c->C * c->H * c->W;
    float *xv = malloc((size_t)nx * sizeof *xv);
    ac_test_rng r = {31u};
    for (int64_t i = 0; i < nx; i++) xv[i] = 3.0f * ac_test_rng_float(&r);
    int64_t xd[4] = {c->N, c->C, c->H, c->W};
    ac_tensor in = {.dtype = AC_DTYPE_F32, .rank = 4, .dims = xd, .data = xv, .numel = nx,
                    .nbytes = (size_t)nx * sizeof(float)};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
    *numel = out[0].numel;
    float *y = malloc(out[0].nbytes);
    memcpy(y, out[0].data, out[0].nbytes);
    const ac_node_profile *prof;
    int32_t np = ac_session_profile(s, &prof);
    *fused = 0;
    for (int32_t i = 0; i < np; i++) *fused |= !strcmp(prof[i].kernel, "pwdw_avx512");
    ac_session_free(s);
    free(xv);
    return y;
}

/* Middle tensors of 48-64 channels x 12k pixels: over the 2 MB above which the pair fuses. */
static const pair_case cases[] = {
    {1, 8, 48, 112, 112, 2, {1, 1, 1, 1}, 1}, /* MobileNetV2's first pair, scaled down */
    {1, 16, 48, 112, 112, 1, {1, 1, 1, 1}, 1},
    {2, 8, 48, 100, 120, 2, {0, 0, 0, 0}, 0}, /* batch 2, valid padding, ragged width */
    {1, 5, 64, 111, 97, 2, {2, 1, 0, 2}, 1},  /* odd sizes, asymmetric pads */
    {1, 5, 64, 97, 111, 1, {0, 2, 2, 0}, 0},
    {1, 3, 40, 150, 90, 1, {2, 2, 2, 2}, 1},
    {1, 8, 48, 112, 112, 2, {1, 1, 1, 1}, 1, 1}, /* activations applied after the stores */
    {1, 8, 48, 112, 112, 1, {1, 1, 1, 1}, 0, 1},
};

START_TEST(pointwise_depthwise_pair_matches_reference) {
    const pair_case *c = &cases[_i];
    ac_graph *g = pair_graph(c);
    int64_t n_ref, n1, n3;
    int fused_ref, fused1, fused3;
    float *ref = run_pair(g, c, AC_ISA_REF, 1, 0, &fused_ref, &n_ref);
    float *y1 = run_pair(g, c, AC_ISA_AUTO, 1, 0, &fused1, &n1);
    float *y3 = run_pair(g, c, AC_ISA_AUTO, 3, 0, &fused3, &n3);
    ck_assert_int_eq(n1, n_ref);
    ck_assert_int_eq(n3, n_ref);
    ck_assert(!fused_ref);
    int avx512 = ac_isa_detect() >= AC_ISA_AVX512 && !getenv("AC_ISA");
    if (avx512) ck_assert_msg(fused1 && fused3, "case %d: the pair was not fused", _i);
    double maxref = 0, maxdiff = 0;
    for (int64_t i = 0; i < n_ref; i++) {
        double a = fabs((double)ref[i]), e = fabs((double)y1[i] - ref[i]);
        if (a > maxref) maxref = a;
        if (e > maxdiff) maxdiff = e;
    }
    ck_assert_msg(maxref > 0.1 && maxdiff <= 2e-6 * maxref, "case %d: max diff %g of %g", _i,
                  maxdiff, maxref);
    ck_assert_msg(!memcmp(y1, y3, (size_t)n1 * sizeof *y1), "case %d: 1 and 3 threads differ",
                  _i);
    free(ref);
    free(y1);
    free(y3);
    ac_graph_free(g);
}
END_TEST

/* Calibration observes the middle tensor: the pair must then run as two nodes. */
START_TEST(observed_middle_tensor_is_not_fused) {
    ac_graph *g = pair_graph(&cases[0]);
    int64_t n0, n1;
    int fused_plain, fused_obs;
    float *plain = run_pair(g, &cases[0], AC_ISA_AUTO, 2, 0, &fused_plain, &n0);
    float *obs = run_pair(g, &cases[0], AC_ISA_AUTO, 2, 1, &fused_obs, &n1);
    ck_assert(!fused_obs);
    ck_assert_int_eq(n0, n1);
    double maxdiff = 0;
    for (int64_t i = 0; i < n0; i++) {
        double e = fabs((double)plain[i] - obs[i]);
        if (e > maxdiff) maxdiff = e;
    }
    ck_assert_msg(maxdiff < 1e-4, "fused and observed runs differ by %g", maxdiff);
    free(plain);
    free(obs);
    ac_graph_free(g);
}
END_TEST

Suite *ac_test_runtime_pwdw_suite(void) {
    Suite *s = suite_create("pwdw");
    TCase *tc = tcase_create("pair");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, pointwise_depthwise_pair_matches_reference, 0,
                        (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, observed_middle_tensor_is_not_fused);
    suite_add_tcase(s, tc);
    return s;
}
