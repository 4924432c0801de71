/* SPDX-License-Identifier: MIT */
/* 2-D pooling kernels against the reference kernel, through sessions capped at each ISA the CPU
 * has: MaxPool and AveragePool over kernel sizes 1..5, strides 1..3, symmetric and asymmetric
 * pads, ceil_mode, count_include_pad, odd and tiny spatial sizes, batch 2. Max must match
 * exactly; averages (float sums in the fast kernel, double in the reference) within 1e-6. */
#include "autocompress/ac_session.h"
#include "check_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pool_cfg {
    int64_t k[2], s[2], pads[4];
    int ceil_mode, count_include_pad;
} pool_cfg;

static const pool_cfg cfgs[] = {
    {{3, 3}, {2, 2}, {1, 1, 1, 1}, 0, 0}, /* ResNet stem pool */
    {{2, 2}, {2, 2}, {0, 0, 0, 0}, 0, 0},
    {{2, 2}, {2, 2}, {0, 0, 0, 0}, 1, 0}, /* ceil_mode on odd sizes */
    {{5, 5}, {1, 1}, {2, 2, 2, 2}, 0, 0}, /* YOLO SPP */
    {{3, 3}, {1, 1}, {1, 1, 1, 1}, 0, 1},
    {{3, 2}, {3, 2}, {1, 0, 0, 1}, 1, 1}, /* asymmetric, stride 3 */
    {{1, 1}, {1, 1}, {0, 0, 0, 0}, 0, 0},
    {{4, 3}, {2, 3}, {2, 1, 1, 2}, 0, 0},
};

static const int64_t sizes[][2] = {{1, 1}, {5, 7}, {13, 17}, {56, 56}, {9, 40}};

/* Output of one pooling node on x [N, C, H, W] at `isa`; NULL if the shape is invalid. */
static float *run_pool(const char *op, const pool_cfg *c, const int64_t *xd, const float *x,
                       ac_isa isa, int64_t *numel) {
    ac_diag d = {0};
    ac_graph *g;
    ck_assert_int_eq(ac_graph_new("p", &g, &d), AC_OK);
    ac_value *xv, *yv;
    ck_assert_int_eq(ac_graph_new_value(g, "x", &xv, &d), AC_OK);
    ck_assert_int_eq(ac_value_set_type(xv, AC_DTYPE_F32, 4, xd, NULL, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, xv, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_value(g, "y", &yv, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(g, yv, &d), AC_OK);
    ac_node *n;
    ck_assert_int_eq(ac_graph_add_node(g, op, "", "pool", 1, &xv, 1, &yv, &n, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_ints(n, "kernel_shape", 2, c->k, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_ints(n, "strides", 2, c->s, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_ints(n, "pads", 4, c->pads, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_int(n, "ceil_mode", c->ceil_mode, &d), AC_OK);
    if (c->count_include_pad)
        ck_assert_int_eq(ac_node_set_attr_int(n, "count_include_pad", 1, &d), AC_OK);
    ac_session_opts o = {.threads = 2, .isa = isa};
    ac_session *s;
    float *y = NULL;
    if (ac_session_new(g, 13, &o, &s, &d) == AC_OK) {
        int64_t nx = xd[0] * xd[1] * xd[2] * xd[3], dims[4] = {xd[0], xd[1], xd[2], xd[3]};
        ac_tensor in = {.dtype = AC_DTYPE_F32, .rank = 4, .dims = dims, .data = (void *)x,
                        .numel = nx, .nbytes = (size_t)nx * sizeof(float)};
        const ac_tensor *out;
        int32_t n_out;
        if (ac_session_run(s, 1, &in, &out, &n_out, &d) == AC_OK) {
            *numel = out[0].numel;
            y = malloc((size_t)out[0].nbytes + 4);
            memcpy(y, out[0].data, out[0].nbytes);
        }
        ac_session_free(s);
    }
    ac_graph_free(g);
    return y;
}

START_TEST(pool_kernels_match_ref) {
    static const ac_isa isas[] = {AC_ISA_AVX2, AC_ISA_AVX512};
    ac_isa have = ac_isa_detect();
    ac_test_rng rng = {7u};
    int checked = 0;
    for (size_t ci = 0; ci < sizeof cfgs / sizeof cfgs[0]; ci++)
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (int oi = 0; oi < 2; oi++) {
                const char *op = oi ? "AveragePool" : "MaxPool";
                int64_t xd[4] = {1 + (int64_t)(si % 2), 3, sizes[si][0], sizes[si][1]};
                int64_t nx = xd[0] * xd[1] * xd[2] * xd[3];
                float *x = malloc((size_t)nx * sizeof *x);
                for (int64_t i = 0; i < nx; i++)
                    x[i] = 8.0f * ac_test_rng_float(&rng); /* negatives too */
                int64_t n_ref = 0;
                float *want = run_pool(op, &cfgs[ci], xd, x, AC_ISA_REF, &n_ref);
                for (size_t ii = 0; want && ii < 2; ii++) {
                    if (isas[ii] > have) continue;
                    int64_t n_got = 0;
                    float *got = run_pool(op, &cfgs[ci], xd, x, isas[ii], &n_got);
                    ck_assert_ptr_nonnull(got);
                    ck_assert_int_eq(n_got, n_ref);
                    for (int64_t i = 0; i < n_ref; i++) {
                        float tol = oi ? 1e-6f * (1.0f + fabsf(want[i])) : 0.0f;
                        ck_assert_msg(fabsf(got[i] - want[i]) <= tol,
                                      "%s cfg %zu size %lldx%lld isa %s: y[%lld] = %g, ref %g", op,
                                      ci, (long long)xd[2], (long long)xd[3],
                                      ac_isa_name(isas[ii]), (long long)i, got[i], want[i]);
                    }
                    free(got);
                    checked++;
                }
                free(want);
                free(x);
            }
    ck_assert_int_gt(checked, 0);
}
END_TEST

Suite *ac_test_runtime_pool_suite(void) {
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, pool_kernels_match_ref);
    suite_add_tcase(s, tc);
    return s;
}
