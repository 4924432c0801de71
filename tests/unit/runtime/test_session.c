/* SPDX-License-Identifier: MIT */
/* Sessions: input binding errors, unsupported ops, observers (want/observe, no fusion of
 * wanted tensors, errors from the observer), re-planning on new shapes, batch > 1, and thread
 * count independence on the shared models. */
#include "autocompress/ac_model.h"
#include "autocompress/ac_session.h"
#include "check_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* y = Relu(x + b) with b an initializer; x [N, 4] symbolic N. */
static ac_graph *small_graph(const char *op) {
    ac_graph *g;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
    ac_value *x, *b, *s, *y;
    ck_assert_int_eq(ac_graph_new_value(g, "x", &x, &d), AC_OK);
    int64_t xd[2] = {-1, 4};
    const char *xp[2] = {"N", NULL};
    ck_assert_int_eq(ac_value_set_type(x, AC_DTYPE_F32, 2, xd, xp, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_value(g, "b", &b, &d), AC_OK);
    ac_tensor *bt;
    int64_t bd[1] = {4};
    ck_assert_int_eq(ac_graph_new_tensor(g, "b", AC_DTYPE_F32, 1, bd, &bt, &d), AC_OK);
    float *bv = bt->data;
    for (int i = 0; i < 4; i++) bv[i] = (float)i - 1.5f;
    ck_assert_int_eq(ac_graph_set_initializer(g, b, bt, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_value(g, "s", &s, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_value(g, "y", &y, &d), AC_OK);
    ac_node *n;
    ac_value *ins[2] = {x, b};
    ck_assert_int_eq(ac_graph_add_node(g, "Add", "", "add", 2, ins, 1, &s, &n, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_node(g, op, "", "act", 1, &s, 1, &y, &n, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    return g;
}

START_TEST(unsupported_op_is_named_at_creation) {
    ac_graph *g = small_graph("FancyOp");
    ac_session *s = NULL;
    ac_diag d = {0};
    ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_ERR_UNSUPPORTED);
    ck_assert_ptr_null(s);
    char line[900];
    ac_diag_line(&d, line, sizeof line);
    ck_assert_msg(strstr(line, "node \"act\" (FancyOp)") && strstr(line, "FancyOp"), "%s", line);
    ac_graph_free(g);
}
END_TEST

START_TEST(input_errors_are_clear) {
    ac_graph *g = small_graph("Relu");
    ac_session *s;
    ac_diag d = {0};
    ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_OK);
    float buf[8] = {0};
    int64_t dims[2] = {2, 4}, bad[2] = {2, 5};
    const ac_tensor *out;
    int32_t n_out;
    ac_tensor in = {.name = "x", .dtype = AC_DTYPE_F32, .rank = 2, .dims = bad, .data = buf};
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_ERR_ARG);
    ck_assert_msg(strstr(d.msg, "axis 1") != NULL, "%s", d.msg);
    ac_diag_clear(&d);
    in.dims = dims;
    in.name = "nope";
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_ERR_ARG);
    ck_assert_msg(strstr(d.msg, "no input named \"nope\"") != NULL, "%s", d.msg);
    ac_diag_clear(&d);
    in.name = "x";
    in.dtype = AC_DTYPE_S32;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_ERR_ARG);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_session_run(s, 0, NULL, &out, &n_out, &d), AC_ERR_ARG);
    ck_assert_msg(strstr(d.msg, "missing") != NULL, "%s", d.msg);
    ac_session_free(s);
    ac_graph_free(g);
}
END_TEST

/* Einsum equations that do not fit are errors, not overruns: an output of more than
 * AC_MAX_RANK axes (an ellipsis of 8 axes plus two letters), a term with more letters than its
 * input's rank, a letter with two sizes. */
START_TEST(einsum_bad_equations_are_errors) {
    const char *eqs[] = {"...,ab->ab...", "abc,ab->a", "ab,ab->ab", "a.b,ab->ab", "ab,ab->z"};
    for (size_t k = 0; k < sizeof eqs / sizeof eqs[0]; k++) {
        ac_graph *g;
        ac_diag d = {0};
        ck_assert_int_eq(ac_graph_new("g", &g, &d), AC_OK);
        ac_value *a, *b, *y;
        int64_t da[8] = {1, 1, 1, 1, 1, 1, 1, 2}, db[2] = {2, k == 2 ? 4 : 3};
        int64_t da2[2] = {2, 3};
        int big = k == 0;
        ck_assert_int_eq(ac_graph_new_value(g, "a", &a, &d), AC_OK);
        ck_assert_int_eq(ac_value_set_type(a, AC_DTYPE_F32, big ? 8 : 2, big ? da : da2, NULL,
                                           &d), AC_OK);
        ck_assert_int_eq(ac_graph_add_input(g, a, &d), AC_OK);
        ck_assert_int_eq(ac_graph_new_value(g, "b", &b, &d), AC_OK);
        ck_assert_int_eq(ac_value_set_type(b, AC_DTYPE_F32, 2, db, NULL, &d), AC_OK);
        ck_assert_int_eq(ac_graph_add_input(g, b, &d), AC_OK);
        ck_assert_int_eq(ac_graph_new_value(g, "y", &y, &d), AC_OK);
        ac_node *nd;
        ac_value *ins[2] = {a, b};
        ck_assert_int_eq(ac_graph_add_node(g, "Einsum", "", "e", 2, ins, 1, &y, &nd, &d), AC_OK);
        ck_assert_int_eq(ac_node_set_attr_string(nd, "equation", eqs[k], &d), AC_OK);
        ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
        ac_session *s;
        ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_OK);
        float va[2] = {1, 2}, vb[12] = {0};
        ac_tensor in[2] = {{.name = "a", .dtype = AC_DTYPE_F32, .rank = big ? 8 : 2,
                            .dims = big ? da : da2, .data = va},
                           {.name = "b", .dtype = AC_DTYPE_F32, .rank = 2, .dims = db, .data = vb}};
        float va6[6] = {0};
        if (!big) in[0].data = va6;
        const ac_tensor *out;
        int32_t n_out;
        ac_status st = ac_session_run(s, 2, in, &out, &n_out, &d);
        ck_assert_msg(st == AC_ERR_MODEL || st == AC_ERR_LIMIT, "\"%s\": %d %s", eqs[k],
                      (int)st, d.msg);
        ac_session_free(s);
        ac_graph_free(g);
    }
}
END_TEST

typedef struct seen {
    int calls;
    char names[8][32];
    int64_t numel[8];
    ac_status fail_with;
} seen;

static int want_all(const ac_value *v, void *user) {
    (void)v;
    (void)user;
    return 1;
}

static ac_status record(const ac_value *v, const ac_tensor *t, void *user, ac_diag *d) {
    seen *s = user;
    if (s->fail_with) return AC_FAIL(d, s->fail_with, "observer refused");
    if (s->calls < 8) {
        snprintf(s->names[s->calls], 32, "%s", v->name);
        s->numel[s->calls] = t->numel;
    }
    s->calls++;
    return AC_OK;
}

START_TEST(observers_see_every_wanted_tensor) {
    ac_graph *g = small_graph("Relu");
    seen sn = {0};
    ac_session_opts o = {.threads = 1, .want = want_all, .observe = record, .observer_user = &sn};
    ac_session *s;
    ac_diag d = {0};
    ck_assert_int_eq(ac_session_new(g, 13, &o, &s, &d), AC_OK);
    float x[12];
    for (int i = 0; i < 12; i++) x[i] = (float)i - 6.0f;
    int64_t dims[2] = {3, 4};
    ac_tensor in = {.dtype = AC_DTYPE_F32, .rank = 2, .dims = dims, .data = x};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
    /* x (input) first, then s and y as they are made; initializers (b) are weights, which the
     * quantizer reads from the graph, so they are never offered */
    ck_assert_int_eq(sn.calls, 3);
    ck_assert_str_eq(sn.names[0], "x");
    ck_assert_str_eq(sn.names[1], "s");
    ck_assert_str_eq(sn.names[2], "y");
    ck_assert_int_eq(sn.numel[1], 12);
    const float *y = out[0].data;
    for (int i = 0; i < 12; i++) {
        float v = x[i] + ((float)(i % 4) - 1.5f);
        ck_assert_float_eq(y[i], v > 0 ? v : 0);
    }
    /* an observer error stops the run and names the tensor */
    sn.fail_with = AC_ERR_CANCELLED;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_ERR_CANCELLED);
    char line[900];
    ck_assert_msg(strstr(ac_diag_line(&d, line, 900), "observer of \"x\""), "%s", line);
    ac_session_free(s);
    ac_graph_free(g);
}
END_TEST

START_TEST(new_shapes_replan) {
    ac_graph *g = small_graph("Sigmoid");
    ac_session *s;
    ac_diag d = {0};
    ck_assert_int_eq(ac_session_new(g, 13, NULL, &s, &d), AC_OK);
    float x[40];
    for (int i = 0; i < 40; i++) x[i] = (float)i * 0.1f;
    const ac_tensor *out;
    int32_t n_out;
    for (int64_t n = 1; n <= 10; n += 3) {
        int64_t dims[2] = {n, 4};
        ac_tensor in = {.dtype = AC_DTYPE_F32, .rank = 2, .dims = dims, .data = x};
        ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
        ck_assert_int_eq(out[0].dims[0], n);
        ck_assert_int_eq(out[0].numel, n * 4);
        const float *y = out[0].data;
        for (int64_t i = 0; i < n * 4; i++)
            ck_assert_float_eq_tol(y[i], 1.0f / (1.0f + expf(-(x[i] + (float)(i % 4) - 1.5f))),
                                   1e-6f);
    }
    ac_session_free(s);
    ac_graph_free(g);
}
END_TEST

/* ---- shared models: batch > 1 and thread counts -------------------------------------------- */

/* One Conv (k x k, pad k / 2) of C -> M channels on a 1 x C x hw x hw input: its output at
 * `isa` with `threads` threads (malloc'd). */
static float *conv_out(int64_t C, int64_t M, int64_t k, int64_t hw, ac_isa isa, int32_t threads,
                       int64_t *numel) {
    ac_diag d = {0};
    ac_graph *g;
    ck_assert_int_eq(ac_graph_new("c", &g, &d), AC_OK);
    ac_value *x, *w, *y;
    int64_t xd[4] = {1, C, hw, hw}, wd[4] = {M, C, k, k}, pads[4] = {k / 2, k / 2, k / 2, k / 2};
    ck_assert_int_eq(ac_graph_new_value(g, "x", &x, &d), AC_OK);
    ck_assert_int_eq(ac_value_set_type(x, AC_DTYPE_F32, 4, xd, NULL, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    ac_tensor *wt;
    ck_assert_int_eq(ac_graph_new_value(g, "w", &w, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_tensor(g, "w", AC_DTYPE_F32, 4, wd, &wt, &d), AC_OK);
    ac_test_rng r = {99u};
    for (int64_t i = 0; i < wt->numel; i++) ((float *)wt->data)[i] = 0.5f * ac_test_rng_float(&r);
    ck_assert_int_eq(ac_graph_set_initializer(g, w, wt, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_value(g, "y", &y, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    ac_node *n;
    ac_value *ins[2] = {x, w};
    ck_assert_int_eq(ac_graph_add_node(g, "Conv", "", "conv", 2, ins, 1, &y, &n, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_ints(n, "pads", 4, pads, &d), AC_OK);
    int64_t nx = C * hw * hw;
    float *xv = malloc((size_t)nx * sizeof *xv);
    for (int64_t i = 0; i < nx; i++) xv[i] = 4.0f * ac_test_rng_float(&r);
    ac_session_opts o = {.threads = threads, .isa = isa};
    ac_session *s;
    ck_assert_int_eq(ac_session_new(g, 13, &o, &s, &d), AC_OK);
    ac_tensor in = {.dtype = AC_DTYPE_F32, .rank = 4, .dims = xd, .data = xv, .numel = nx,
                    .nbytes = (size_t)nx * sizeof(float)};
    const ac_tensor *out;
    int32_t n_out;
    ck_assert_int_eq(ac_session_run(s, 1, &in, &out, &n_out, &d), AC_OK);
    *numel = out[0].numel;
    float *yv = malloc(out[0].nbytes);
    memcpy(yv, out[0].data, out[0].nbytes);
    ac_session_free(s);
    ac_graph_free(g);
    free(xv);
    return yv;
}

/* Late-layer shapes (many output channels, few pixels) make the conv kernels split output
 * channels into tasks. With OpenBLAS (the blas and avx2 caps) that split must not follow the
 * thread count: its edge kernels sum in another order, and MobileNetV2 at 224 gave different
 * outputs with 1 and 3 threads. */
START_TEST(conv_results_do_not_depend_on_threads) {
    static const ac_isa isas[] = {AC_ISA_BLAS, AC_ISA_AVX2, AC_ISA_AVX512};
    static const int64_t shapes[][4] = {{320, 1280, 1, 7}, {96, 520, 3, 7}, {64, 136, 1, 14}};
    ac_isa have = ac_isa_detect();
    for (int i = 0; i < 3; i++) {
        if (isas[i] > have) continue;
        for (int j = 0; j < 3; j++) {
            const int64_t *sh = shapes[j];
            int64_t n1, n3;
            float *y1 = conv_out(sh[0], sh[1], sh[2], sh[3], isas[i], 1, &n1);
            float *y3 = conv_out(sh[0], sh[1], sh[2], sh[3], isas[i], 3, &n3);
            ck_assert_int_eq(n1, n3);
            ck_assert_msg(!memcmp(y1, y3, (size_t)n1 * sizeof *y1),
                          "isa %s, conv %lld -> %lld k%lld @%lld: 1 and 3 threads differ",
                          ac_isa_name(isas[i]), (long long)sh[0], (long long)sh[1],
                          (long long)sh[2], (long long)sh[3]);
            free(y1);
            free(y3);
        }
    }
}
END_TEST

static const char *const models[] = {"cls_resnet20", "cls_mobilenetv2", "det_yolo", "seg_unet"};

/* Runs a shared model on its reference batch repeated twice along axis 0 and checks that each
 * half equals the single-batch output, with 1 and 2 threads. */
START_TEST(batch_and_threads) {
    const char *shared = ac_test_shared_dir();
    if (!shared) return;
    char p[1024];
    snprintf(p, sizeof p, "%s/models/%s/model.onnx", shared, models[_i]);
    ac_model *m;
    ac_diag d = {0};
    char line[900];
    ck_assert_msg(ac_model_load(p, NULL, &m, &d) == AC_OK, "%s", ac_diag_line(&d, line, 900));
    snprintf(p, sizeof p, "%s/models/%s/ref/test_data_set_0/input_0.pb", shared, models[_i]);
    ac_tensor *x;
    ac_graph *own;
    ck_assert_int_eq(ac_tensor_read_pb(p, &x, &own, &d), AC_OK);
    /* doubled batch */
    int64_t dims2[AC_MAX_RANK];
    memcpy(dims2, x->dims, (size_t)x->rank * sizeof *dims2);
    dims2[0] *= 2;
    float *buf2 = malloc(x->nbytes * 2);
    memcpy(buf2, x->data, x->nbytes);
    memcpy((char *)buf2 + x->nbytes, x->data, x->nbytes);
    ac_tensor one = *x, two = *x;
    one.name = two.name = NULL;
    two.dims = dims2;
    two.data = buf2;
    two.numel = x->numel * 2;
    two.nbytes = x->nbytes * 2;
    float *ref = NULL;
    int64_t ref_n = 0;
    for (int threads = 1; threads <= 2; threads++) {
        ac_session *s;
        ac_session_opts o = {.threads = threads};
        ck_assert_msg(ac_session_new(ac_model_graph(m), ac_model_opset(m, ""), &o, &s, &d) ==
                          AC_OK, "%s", ac_diag_line(&d, line, 900));
        const ac_tensor *out;
        int32_t n_out;
        ck_assert_msg(ac_session_run(s, 1, &one, &out, &n_out, &d) == AC_OK, "%s",
                      ac_diag_line(&d, line, 900));
        if (!ref) {
            ref_n = out[0].numel;
            ref = malloc((size_t)ref_n * sizeof *ref);
            memcpy(ref, out[0].data, (size_t)ref_n * sizeof *ref);
        } else {
            /* Work is split by output elements, each computed the same way by any thread:
             * thread count changes nothing, bit for bit. */
            ck_assert_int_eq(memcmp(ref, out[0].data, (size_t)ref_n * sizeof *ref), 0);
        }
        ck_assert_msg(ac_session_run(s, 1, &two, &out, &n_out, &d) == AC_OK, "%s",
                      ac_diag_line(&d, line, 900));
        ck_assert_int_eq(out[0].numel, 2 * ref_n);
        const float *y = out[0].data;
        double maxdiff = 0, maxref = 0;
        for (int64_t h = 0; h < 2; h++)
            for (int64_t i = 0; i < ref_n; i++) {
                double diff = fabs((double)y[h * ref_n + i] - ref[i]);
                if (diff > maxdiff) maxdiff = diff;
                if (fabs(ref[i]) > maxref) maxref = fabs(ref[i]);
            }
        /* a batch of 2 may block GEMMs differently than a batch of 1: allow reassociation */
        ck_assert_msg(maxdiff <= 1e-5 * maxref, "%s: batch 2 differs by %g (max %g)", models[_i],
                      maxdiff, maxref);
        ac_session_free(s);
    }
    free(ref);
    free(buf2);
    ac_graph_free(own);
    ac_model_free(m);
}
END_TEST

Suite *ac_test_runtime_session_suite(void) {
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, unsupported_op_is_named_at_creation);
    tcase_add_test(tc, input_errors_are_clear);
    tcase_add_test(tc, einsum_bad_equations_are_errors);
    tcase_add_test(tc, observers_see_every_wanted_tensor);
    tcase_add_test(tc, new_shapes_replan);
    suite_add_tcase(s, tc);
    tc = tcase_create("shared_models");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, batch_and_threads, 0, 4);
    tcase_add_test(tc, conv_results_do_not_depend_on_threads);
    suite_add_tcase(s, tc);
    return s;
}
