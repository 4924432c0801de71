/* SPDX-License-Identifier: MIT */
/* src/calib range methods on synthetic distributions with known answers, and the
 * scale/zero-point helpers. */
#include "calib_test.h"

#include <float.h>
#include <stdio.h>

static const ac_calib_method all_methods[] = {AC_CALIB_ABS_MAX, AC_CALIB_MIN_MAX, AC_CALIB_AVG,
                                              AC_CALIB_HIST,    AC_CALIB_KL,      AC_CALIB_MSE,
                                              AC_CALIB_EMD};
#define N_METHODS ((int)(sizeof all_methods / sizeof all_methods[0]))

/* Every method's range is well formed and gives a usable scale. */
static void check_all_valid(const ac_calib *c, const char *name) {
    ac_calib_stats s = ct_stats(c, name);
    for (int i = 0; i < N_METHODS; i++) {
        ac_calib_range r = ct_range(c, name, all_methods[i], 0);
        const char *m = ac_calib_method_name(all_methods[i]);
        ck_assert_msg(isfinite(r.min) && isfinite(r.max) && r.min <= r.max, "%s: [%g, %g]", m,
                      (double)r.min, (double)r.max);
        ck_assert_msg(r.amax >= 0 && r.amax <= s.amax, "%s: amax %g", m, (double)r.amax);
        /* (mse/emd widen the range to contain 0 before shrinking it) */
        ck_assert_msg(r.min >= fminf(s.min, 0) && r.max <= fmaxf(s.max, 0),
                      "%s: [%g, %g] outside data", m, (double)r.min, (double)r.max);
        ac_calib_qparams q8 = ac_calib_scale_zp_s8(&r), qu = ac_calib_scale_zp_u8(&r);
        ck_assert_msg(isfinite(q8.scale) && q8.scale > 0 && q8.zero_point == 0, "%s s8", m);
        ck_assert_msg(isfinite(qu.scale) && qu.scale > 0 && qu.zero_point >= 0 &&
                          qu.zero_point <= 255,
                      "%s u8", m);
    }
}

/* ---- uniform ------------------------------------------------------------------------------ */

START_TEST(uniform) {
    const float a = 3.0f;
    enum { N = 200000 };
    float *x = malloc(N * sizeof *x);
    ac_test_rng r = {.s = 1};
    for (int i = 0; i < N; i++)
        x[i] = ac_test_rng_float(&r) * a;
    x[0] = a;
    x[1] = -a;
    ac_calib *c = ct_new(0);
    for (int i = 0; i < N; i += 1000)
        ct_observe(c, "u", x + i, 10, 100, i / 100);

    ac_calib_range abs = ct_range(c, "u", AC_CALIB_ABS_MAX, 0);
    ck_assert(abs.amax == a && abs.min == -a && abs.max == a);
    ac_calib_range mm = ct_range(c, "u", AC_CALIB_MIN_MAX, 0);
    ck_assert(mm.min == -a && mm.max == a);
    /* |x| is uniform on [0, a]: the p quantile is p * a; x's (1-p) and p quantiles +-(2p-1) a */
    const double ps[3] = {0.9, 0.99, 0.9999};
    for (int k = 0; k < 3; k++) {
        ac_calib_range h = ct_range(c, "u", AC_CALIB_HIST, ps[k]);
        ck_assert_msg(fabs(h.amax - ps[k] * a) < 0.01 * a, "p %g: %g", ps[k], (double)h.amax);
        ck_assert_msg(fabs(h.max - (2 * ps[k] - 1) * a) < 0.01 * a, "p %g max %g", ps[k],
                      (double)h.max);
        ck_assert_msg(fabs(h.min + (2 * ps[k] - 1) * a) < 0.01 * a, "p %g min %g", ps[k],
                      (double)h.min);
    }
    ck_assert(ct_range(c, "u", AC_CALIB_HIST, 1.0).amax == a);
    /* per-sample max of 100 uniforms on [0, a]: mean 100/101 a */
    ac_calib_range avg = ct_range(c, "u", AC_CALIB_AVG, 0);
    ck_assert_msg(fabs(avg.amax - a * 100.0 / 101) < 0.005 * a, "avg %g", (double)avg.amax);
    /* nothing to clip in a uniform distribution: the error-minimizing thresholds stay near a */
    ac_calib_range mse = ct_range(c, "u", AC_CALIB_MSE, 0);
    ac_calib_range emd = ct_range(c, "u", AC_CALIB_EMD, 0);
    ac_calib_range kl = ct_range(c, "u", AC_CALIB_KL, 0);
    ck_assert_msg(mse.amax > 0.97 * a && emd.amax > 0.97 * a, "mse %g emd %g", (double)mse.amax,
                  (double)emd.amax);
    ck_assert_msg(mse.min < -0.97 * a && mse.max > 0.97 * a, "mse asym [%g, %g]", (double)mse.min,
                  (double)mse.max);
    ck_assert_msg(kl.amax > 0.5 * a, "KL %g", (double)kl.amax);
    check_all_valid(c, "u");
    free(x);
    ac_calib_free(c);
}
END_TEST

/* ---- Gaussian with outliers --------------------------------------------------------------- */

/* Exact fake-quant error of the raw samples at threshold t (127 symmetric levels). */
static double raw_error(const float *x, int n, double t, int emd) {
    double s = t / 127, e = 0;
    for (int i = 0; i < n; i++) {
        double q = nearbyint(x[i] / s);
        if (q > 127) q = 127;
        if (q < -127) q = -127;
        double diff = fabs(x[i] - q * s);
        e += emd ? diff : diff * diff;
    }
    return e / n;
}

START_TEST(gaussian_with_outliers) {
    /* 1M samples and 2 outliers at 20 sigma: rare enough that clipping them pays off for the
     * squared error too (the MSE optimum is near 5.6: 2 (20 - T)^2 / N against T^2 / (127^2 12)
     * of rounding noise); with more outliers MSE rightly keeps them. */
    enum { N = 1000000 };
    const float outlier = 20.0f;
    float *x = malloc(N * sizeof *x);
    ac_test_rng r = {.s = 2};
    for (int i = 0; i < N; i++)
        x[i] = ct_gauss(&r);
    x[1000] = outlier;
    x[777777] = -outlier;
    ac_calib *c = ct_new(0);
    for (int i = 0; i < N; i += 500)
        ct_observe(c, "g", x + i, 5, 100, i / 100);

    ck_assert(ct_range(c, "g", AC_CALIB_ABS_MAX, 0).amax == outlier);
    /* P(|z| <= 3.8906) = 0.9999; the 2 outliers move it only a little */
    ac_calib_range h = ct_range(c, "g", AC_CALIB_HIST, 0);
    ck_assert_msg(h.amax > 3.7 && h.amax < 4.3, "hist %g", (double)h.amax);
    /* P(|z| <= 2.5758) = 0.99 */
    ac_calib_range h99 = ct_range(c, "g", AC_CALIB_HIST, 0.99);
    ck_assert_msg(fabs(h99.amax - 2.5758) < 0.05, "hist 0.99 %g", (double)h99.amax);

    ac_calib_range kl = ct_range(c, "g", AC_CALIB_KL, 0);
    ac_calib_range mse = ct_range(c, "g", AC_CALIB_MSE, 0);
    ac_calib_range emd = ct_range(c, "g", AC_CALIB_EMD, 0);
    fprintf(stderr,
            "gaussian+outliers: hist %.4f KL %.4f mse %.4f emd %.4f mse-asym [%.4f, "
            "%.4f]\n",
            (double)h.amax, (double)kl.amax, (double)mse.amax, (double)emd.amax, (double)mse.min,
            (double)mse.max);
    /* all well below the outlier, around the usual 8-bit clipping points of N(0, 1) */
    ck_assert_msg(kl.amax > 2.5 && kl.amax < 0.4 * outlier, "KL %g", (double)kl.amax);
    ck_assert_msg(mse.amax > 2.5 && mse.amax < 0.4 * outlier, "mse %g", (double)mse.amax);
    ck_assert_msg(emd.amax > 2.0 && emd.amax < 0.4 * outlier, "emd %g", (double)emd.amax);
    ck_assert_msg(mse.max > 2.5 && mse.max < 0.4 * outlier && mse.min < -2.5 &&
                      mse.min > -0.4 * outlier,
                  "mse asym [%g, %g]", (double)mse.min, (double)mse.max);

    /* reference: brute-force search of the real error on the raw samples over a fine grid; the
     * histogram-based choice must be within 2% of the best real error */
    for (int emd_mode = 0; emd_mode < 2; emd_mode++) {
        double best = INFINITY;
        for (double t = 1.0; t <= outlier; t += 0.05) {
            double e = raw_error(x, N, t, emd_mode);
            if (e < best) best = e;
        }
        double got = raw_error(x, N, emd_mode ? emd.amax : mse.amax, emd_mode);
        ck_assert_msg(got <= 1.02 * best, "%s: error %g vs best %g", emd_mode ? "emd" : "mse", got,
                      best);
        ck_assert(raw_error(x, N, outlier, emd_mode) > 2 * best); /* abs_max is much worse */
    }
    check_all_valid(c, "g");
    free(x);
    ac_calib_free(c);
}
END_TEST

/* ---- post-ReLU tensors --------------------------------------------------------------------- */

/* Half the values exactly 0 (a ReLU of a Gaussian), half |N(0, 1)|. Before the zero bin was
 * neutralised, KL chose its smallest candidate (128 bins, about 1/16 of the range) for such
 * tensors and ResNet-20's INT8 top-1 fell to 0.25. The threshold must sit where a Gaussian's
 * tail is clipped, well above the 99th percentile of the nonzero half (2.58). */
START_TEST(kl_after_relu) {
    enum { N = 400000 };
    float *x = malloc(N * sizeof *x);
    ac_test_rng r = {.s = 3};
    for (int i = 0; i < N; i++) {
        float g = ct_gauss(&r);
        x[i] = g > 0 ? g : 0.0f;
    }
    ac_calib *c = ct_new(0);
    for (int i = 0; i < N; i += 1000)
        ct_observe(c, "relu", x + i, 10, 100, i / 100);
    ac_calib_range kl = ct_range(c, "relu", AC_CALIB_KL, 0);
    ac_calib_stats st = ct_stats(c, "relu");
    fprintf(stderr, "relu: KL %.4f of abs-max %.4f\n", (double)kl.amax, (double)st.amax);
    ck_assert_msg(kl.amax > 2.58 && kl.amax <= st.amax, "KL %g", (double)kl.amax);
    free(x);
    ac_calib_free(c);
}
END_TEST

/* A distribution away from 0, as a squeeze-and-excitation gate (HardSigmoid of small inputs):
 * uniform in [0.448, 0.533]. Every candidate below the data folds all of it into P's last bin
 * and Q's, whose divergence is then 0: KL used to clip every value to 0.448 (MobileNetV3's
 * INT8 output SQNR fell to 10 dB). It may clip at most 1% of the values now. */
START_TEST(kl_away_from_zero) {
    enum { N = 100000 };
    float *x = malloc(N * sizeof *x);
    ac_test_rng r = {.s = 11};
    for (int i = 0; i < N; i++)
        x[i] = 0.4905f + 0.0425f * ac_test_rng_float(&r); /* [0.448, 0.533) */
    ac_calib *c = ct_new(0);
    for (int i = 0; i < N; i += 1000)
        ct_observe(c, "gate", x + i, 10, 100, i / 100);
    ac_calib_range kl = ct_range(c, "gate", AC_CALIB_KL, 0);
    ac_calib_stats st = ct_stats(c, "gate");
    int clipped = 0;
    for (int i = 0; i < N; i++)
        clipped += x[i] > kl.amax;
    fprintf(stderr, "gate: KL %.4f of abs-max %.4f, %d of %d clipped\n", (double)kl.amax,
            (double)st.amax, clipped, N);
    ck_assert_msg(clipped <= N / 100 && kl.amax <= st.amax, "KL %g clips %d", (double)kl.amax,
                  clipped);
    free(x);
    ac_calib_free(c);
}
END_TEST

/* ---- degenerate tensors ------------------------------------------------------------------- */

START_TEST(constant_and_zero) {
    ac_calib *c = ct_new(0);
    float k[64], z[64];
    for (int i = 0; i < 64; i++) {
        k[i] = 3.0f;
        z[i] = 0.0f;
    }
    ct_observe(c, "const", k, 4, 16, 0);
    ct_observe(c, "zero", z, 4, 16, 0);
    for (int i = 0; i < N_METHODS; i++) {
        ac_calib_range r = ct_range(c, "const", all_methods[i], 0);
        ck_assert_msg(r.amax > 2.9f && r.amax <= 3.0f, "%s: const amax %g",
                      ac_calib_method_name(all_methods[i]), (double)r.amax);
        ac_calib_range rz = ct_range(c, "zero", all_methods[i], 0);
        ck_assert(rz.amax == 0 && rz.min == 0 && rz.max == 0);
        ac_calib_qparams q = ac_calib_scale_zp_s8(&rz), qu = ac_calib_scale_zp_u8(&rz);
        ck_assert(q.scale == 1.0f && q.zero_point == 0);
        ck_assert(qu.scale == 1.0f && qu.zero_point == 0);
    }
    /* KL, abs_max and mse keep a constant exactly (ties go to the larger threshold) */
    ck_assert(ct_range(c, "const", AC_CALIB_KL, 0).amax == 3.0f);
    ck_assert(ct_range(c, "const", AC_CALIB_MSE, 0).amax == 3.0f);
    ck_assert(ct_range(c, "const", AC_CALIB_ABS_MAX, 0).amax == 3.0f);
    ac_calib_qparams q = ac_calib_scale_zp_s8(&(ac_calib_range){.amax = 3.0f});
    ck_assert(q.scale == 3.0f / 127);
    ac_calib_qparams qu = ac_calib_scale_zp_u8(&(ac_calib_range){.min = 3.0f, .max = 3.0f});
    ck_assert(qu.zero_point == 0 && qu.scale == (float)(3.0 / 255)); /* widened to [0, 3] */
    check_all_valid(c, "const");
    check_all_valid(c, "zero");
    ac_calib_free(c);
}
END_TEST

START_TEST(all_negative) {
    enum { N = 20000 };
    float *x = malloc(N * sizeof *x);
    ac_test_rng r = {.s = 3};
    for (int i = 0; i < N; i++)
        x[i] = -3.0f + 2.0f * ac_test_rng_float(&r); /* [-5, -1) */
    x[0] = -5.0f;
    x[1] = -1.0f;
    ac_calib *c = ct_new(0);
    ct_observe(c, "neg", x, 200, 100, 0);
    ac_calib_range mm = ct_range(c, "neg", AC_CALIB_MIN_MAX, 0);
    ck_assert(mm.min == -5.0f && mm.max == -1.0f && mm.amax == 5.0f);
    ac_calib_qparams qu = ac_calib_scale_zp_u8(&mm);
    ck_assert(qu.zero_point == 255 && qu.scale == (float)(5.0 / 255));
    ac_calib_qparams q8 = ac_calib_scale_zp_s8(&mm);
    ck_assert(q8.scale == (float)(5.0 / 127) && q8.zero_point == 0);
    ac_calib_range h = ct_range(c, "neg", AC_CALIB_HIST, 0.99);
    ck_assert_msg(h.max < -1.0f && h.max > -1.1f && h.min > -5.0f && h.min < -4.9f, "[%g, %g]",
                  (double)h.min, (double)h.max);
    ck_assert_msg(h.amax > 4.9f && h.amax < 5.0f, "%g", (double)h.amax);
    for (int i = 0; i < N_METHODS; i++) {
        ac_calib_range rr = ct_range(c, "neg", all_methods[i], 0);
        ck_assert_int_eq(ac_calib_scale_zp_u8(&rr).zero_point, 255); /* max <= 0 -> zp 255 */
    }
    check_all_valid(c, "neg");
    free(x);
    ac_calib_free(c);
}
END_TEST

START_TEST(extreme_values) {
    /* the whole float range in one tensor: nothing overflows, every method stays finite */
    float x[6] = {FLT_MAX, -FLT_MAX, 1.4e-45f, -1.4e-45f, 0.0f, 1.0f};
    ac_calib *c = ct_new(0);
    ct_observe(c, "x", x, 2, 3, 0);
    ac_calib_stats s = ct_stats(c, "x");
    ck_assert(s.amax == FLT_MAX && s.min == -FLT_MAX);
    ck_assert_int_le(s.abs_e, AC_CALIB_HIST_E_MAX);
    check_all_valid(c, "x");
    /* and only subnormals */
    float tiny[4] = {1.4e-45f, -2.8e-45f, 7e-45f, 0.0f};
    ct_observe(c, "tiny", tiny, 1, 4, 0);
    ck_assert(ct_stats(c, "tiny").amax == 7e-45f);
    check_all_valid(c, "tiny");
    ac_calib_free(c);
}
END_TEST

/* ---- helpers ------------------------------------------------------------------------------ */

START_TEST(scale_zero_point) {
    ac_calib_qparams q = ac_calib_scale_zp_u8(&(ac_calib_range){.min = -1, .max = 3});
    ck_assert(q.scale == (float)(4.0 / 255));
    ck_assert_int_eq(q.zero_point, 64); /* 1 / (4/255) = 63.75 */
    /* exact halves round to even */
    q = ac_calib_scale_zp_u8(&(ac_calib_range){.min = -2.5f, .max = 252.5f});
    ck_assert(q.scale == 1.0f);
    ck_assert_int_eq(q.zero_point, 2);
    q = ac_calib_scale_zp_u8(&(ac_calib_range){.min = -3.5f, .max = 251.5f});
    ck_assert_int_eq(q.zero_point, 4);
    /* 0 is exactly representable: dequantize(zp) == 0 */
    q = ac_calib_scale_zp_u8(&(ac_calib_range){.min = -0.37f, .max = 1.91f});
    ck_assert(q.zero_point > 0 && q.zero_point < 255);
    ck_assert(fabs(q.zero_point * (double)q.scale - 0.37) <= q.scale / 2);
    /* tiny ranges keep a normal scale */
    q = ac_calib_scale_zp_s8(&(ac_calib_range){.amax = 1e-40f});
    ck_assert(q.scale >= FLT_MIN);
}
END_TEST

START_TEST(method_names) {
    ac_diag d = {0};
    ac_calib_method m;
    const char *names[] = {"abs_max", "min_max", "avg", "hist", "KL", "mse", "emd"};
    for (int i = 0; i < AC_CALIB_METHOD_COUNT; i++) {
        ck_assert_str_eq(ac_calib_method_name((ac_calib_method)i), names[i]);
        ck_assert_int_eq(ac_calib_method_parse(names[i], &m, &d), AC_OK);
        ck_assert_int_eq(m, i);
    }
    ck_assert_int_eq(ac_calib_method_parse("kl", &m, &d), AC_OK);
    ck_assert_int_eq(m, AC_CALIB_KL);
    ck_assert_int_eq(ac_calib_method_parse("entropy", &m, &d), AC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(d.msg, "entropy"));

    ac_calib *c = ct_new(0);
    float x[4] = {1, 2, 3, 4};
    ct_observe(c, "t", x, 1, 4, 0);
    ac_calib_range r;
    ac_calib_method_opts o = {.hist_percent = 1.5};
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_range_of(c, "t", AC_CALIB_HIST, &o, &r, &d), AC_ERR_ARG);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_range_of(c, "t", AC_CALIB_METHOD_COUNT, NULL, &r, &d), AC_ERR_ARG);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_range_of(c, "missing", AC_CALIB_KL, NULL, &r, &d), AC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(d.where, "missing"));
    ac_calib_free(c);
}
END_TEST

Suite *ac_test_calib_methods_suite(void) {
    Suite *s = suite_create("calib_methods");
    TCase *tc = tcase_create("methods");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, uniform);
    tcase_add_test(tc, gaussian_with_outliers);
    tcase_add_test(tc, kl_after_relu);
    tcase_add_test(tc, kl_away_from_zero);
    tcase_add_test(tc, constant_and_zero);
    tcase_add_test(tc, all_negative);
    tcase_add_test(tc, extreme_values);
    tcase_add_test(tc, scale_zero_point);
    tcase_add_test(tc, method_names);
    suite_add_tcase(s, tc);
    return s;
}
