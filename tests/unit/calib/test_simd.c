/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
/* The collector's SIMD counting path (AVX-512 where the CPU has it) against the generic loops:
 * the same batches must give byte-identical statistics files and the histograms of direct
 * binning, on adversarial values (zeros of both signs, subnormals, values exactly on bin edges,
 * the batch max repeated, vector tails, sample boundaries inside a vector, ranges that force
 * re-binning, widths outside the float fast path), with and without a thread pool; NaN and
 * infinities must fail the same way and record nothing. */
#include "calib_internal.h"
#include "calib_test.h"

#include <float.h>
#include <stdio.h>

/* Two collectors fed the same batches: `v` with the SIMD kernels (where available), `s`
 * without. */
typedef struct pair {
    ac_calib *v, *s;
} pair;

static pair pair_new(int32_t nbins) {
    pair p = {ct_new(nbins), ct_new(nbins)};
    ac_calib_set_simd(p.v, 1);
    ck_assert_int_eq(ac_calib_set_simd(p.s, 0), 0);
    return p;
}

static void pair_observe(pair *p, const char *name, const float *x, int64_t n_samples,
                         int64_t per, int64_t img) {
    ct_observe(p->v, name, x, n_samples, per, img);
    ct_observe(p->s, name, x, n_samples, per, img);
}

static void pair_check(pair *p, const char *what) {
    size_t lv, ls;
    uint8_t *bv = ct_save(p->v, &lv), *bs = ct_save(p->s, &ls);
    ck_assert_msg(lv == ls && memcmp(bv, bs, lv) == 0, "%s: SIMD and generic statistics differ",
                  what);
    ac_free(bv);
    ac_free(bs);
}

static void pair_free(pair *p) {
    ac_calib_free(p->v);
    ac_calib_free(p->s);
}

/* Histograms of tensor `name` equal direct binning of `vals` (every value observed) at the
 * final widths, in double as ac_calib.h defines them. */
static void check_direct(const ac_calib *c, const char *name, const float *vals, int64_t n) {
    ac_calib_stats s = ct_stats(c, name);
    uint64_t *ha = calloc((size_t)s.nbins, sizeof *ha), *hs = calloc((size_t)s.nbins, sizeof *hs);
    for (int64_t i = 0; i < n; i++) {
        double v = vals[i];
        ha[(int64_t)floor(ldexp(fabs(v), -s.abs_e))]++;
        hs[(int64_t)floor(ldexp(v, -s.signed_e)) + s.nbins / 2]++;
    }
    ck_assert_msg(memcmp(ha, s.abs_hist, (size_t)s.nbins * sizeof *ha) == 0, "%s: |x| histogram",
                  name);
    ck_assert_msg(memcmp(hs, s.signed_hist, (size_t)s.nbins * sizeof *hs) == 0,
                  "%s: signed histogram", name);
    free(ha);
    free(hs);
}

/* A ReLU6-like batch of non-negative values whose max is `top`: about half exact zeros (some
 * -0.0 when `neg_zero`: those batches take the two-pass path), runs of `top`, values exactly on the edges of bins of width 2^e (and one ulp either
 * side), subnormals and tiny normals that land in bin 0. */
static void relu_batch(float *x, int64_t n, float top, int e, int neg_zero, ac_test_rng *r) {
    for (int64_t i = 0; i < n; i++) {
        uint64_t k = ac_test_rng_next(r) % 16;
        float v;
        if (k < 7) v = (k == 0 && neg_zero) ? -0.0f : 0.0f;
        else if (k == 7) v = top;
        else if (k == 8) v = (float)ldexp((double)(ac_test_rng_next(r) % 2048), e); /* an edge */
        else if (k == 9) v = nextafterf((float)ldexp((double)(ac_test_rng_next(r) % 2048 + 1), e), 0);
        else if (k == 10) v = nextafterf((float)ldexp((double)(ac_test_rng_next(r) % 2047), e), 1e30f);
        else if (k == 11) v = FLT_MIN * 0.375f; /* subnormal */
        else if (k == 12) v = FLT_MIN;
        else v = fabsf(ac_test_rng_float(r)) * top;
        if (v > top) v = top;
        x[i] = v;
    }
}

START_TEST(simd_matches_generic_relu) {
    if (!ac_calib_have_avx512()) fprintf(stderr, "calib_simd: no AVX-512 here, generic only\n");
    ac_test_rng r = {.s = 2024};
    pair p = pair_new(0);
    enum { MAXN = 5 * 1037 };
    float *x = malloc(MAXN * sizeof *x), *all = malloc(64 * MAXN * sizeof *all);
    int64_t n_all = 0;
    /* lengths around the vector width and the kernel's block, samples cut inside vectors */
    const int64_t pers[] = {1, 15, 16, 17, 31, 511, 512, 513, 1037};
    for (int it = 0; it < 24; it++) {
        int64_t per = pers[it % 9], samples = 1 + it % 5;
        float top = it < 12 ? 6.0f : 6.0f + (float)it; /* the range grows: re-binning */
        relu_batch(x, per * samples, top, -8 + it / 12, it % 3 == 0, &r);
        pair_observe(&p, "relu6", x, samples, per, it);
        memcpy(all + n_all, x, (size_t)(per * samples) * sizeof *x);
        n_all += per * samples;
        pair_check(&p, "relu6");
    }
    check_direct(p.v, "relu6", all, n_all);
    if (ac_calib_have_avx512()) ck_assert_int_ge(p.v->one_pass, 10);

    /* a batch entirely inside bin 0 (top bin 0) after the width was set by a larger one */
    for (int i = 0; i < 100; i++) x[i] = (i % 3) ? ldexpf((float)(i % 7), -20) : 0.0f;
    pair_observe(&p, "relu6", x, 2, 50, 99);
    memcpy(all + n_all, x, 100 * sizeof *x);
    n_all += 100;
    pair_check(&p, "bin-0 batch");
    check_direct(p.s, "relu6", all, n_all);

    /* all zeros, then tiny values only (widths below the float fast path), then a huge max */
    pair q = pair_new(256);
    memset(x, 0, 64 * sizeof *x);
    pair_observe(&q, "z", x, 4, 16, 0);
    for (int i = 0; i < 64; i++) x[i] = FLT_MIN * (float)(i % 5) / 8.0f; /* subnormals */
    pair_observe(&q, "z", x, 4, 16, 1);
    pair_check(&q, "subnormal-only batch");
    for (int i = 0; i < 64; i++) x[i] = (i % 2) ? FLT_MAX / (float)(1 + i) : 1e-30f * (float)i;
    pair_observe(&q, "z", x, 2, 32, 2);
    pair_check(&q, "huge range after tiny values");
    for (int i = 0; i < 64; i++) x[i] = (float)i;
    pair_observe(&q, "z", x, 1, 64, 3);
    pair_check(&q, "ordinary values after a huge range");
    pair_free(&q);

    /* negative values arrive after non-negative batches: the tensor leaves the fast path */
    for (int i = 0; i < 100; i++) x[i] = (float)(i - 50) / 8.0f;
    pair_observe(&p, "relu6", x, 4, 25, 100);
    pair_check(&p, "negatives after ReLU batches");
    relu_batch(x, 3000, 6.0f, -8, 1, &r);
    pair_observe(&p, "relu6", x, 3, 1000, 101);
    pair_check(&p, "ReLU batch after negatives");
    pair_free(&p);
    free(x);
    free(all);
}
END_TEST

/* Signed batches (the one-pass fine layout): negative values exactly on bin edges and one ulp
 * inside, -0.0, negative subnormals, zeros, values near both extremes, vector tails. */
START_TEST(simd_matches_generic_signed) {
    ac_test_rng r = {.s = 4242};
    pair p = pair_new(0);
    enum { MAXN = 4 * 1037 };
    float *x = malloc(MAXN * sizeof *x), *all = malloc(40 * MAXN * sizeof *all);
    int64_t n_all = 0;
    const int64_t pers[] = {1, 15, 16, 17, 33, 511, 513, 1037};
    for (int it = 0; it < 32; it++) {
        int64_t per = pers[it % 8], samples = 1 + it % 4;
        float scale = it < 16 ? 5.0f : 40.0f; /* the range grows once: re-binning */
        int e = it < 16 ? -8 : -5;
        for (int64_t i = 0; i < per * samples; i++) {
            uint64_t k = ac_test_rng_next(&r) % 12;
            float v;
            if (k == 0) v = -0.0f;
            else if (k == 1) v = 0.0f;
            else if (k == 2) v = -(float)ldexp((double)(ac_test_rng_next(&r) % 1024), e);
            else if (k == 3) v = -nextafterf((float)ldexp((double)(ac_test_rng_next(&r) % 1024 + 1), e), 0);
            else if (k == 4) v = (float)ldexp((double)(ac_test_rng_next(&r) % 1024), e);
            else if (k == 5) v = -FLT_MIN * 0.25f;
            else if (k == 6) v = (i % 2) ? -scale : scale * 0.999f;
            else v = ac_test_rng_float(&r) * scale;
            x[i] = v;
        }
        pair_observe(&p, "conv", x, samples, per, it);
        memcpy(all + n_all, x, (size_t)(per * samples) * sizeof *x);
        n_all += per * samples;
        pair_check(&p, "signed");
    }
    check_direct(p.v, "conv", all, n_all);
    pair_free(&p);
    free(x);
    free(all);
}
END_TEST

/* Big ReLU batches split over a pool: SIMD and generic agree for 1, 2 and 3 threads. */
START_TEST(simd_matches_generic_pool) {
    enum { SAMPLES = 3, PER = 40001 };
    float *x = malloc(SAMPLES * PER * sizeof *x);
    ac_test_rng r = {.s = 77};
    relu_batch(x, SAMPLES * PER, 6.0f, -8, 0, &r);
    float *sx = malloc(SAMPLES * PER * sizeof *sx);
    for (int i = 0; i < SAMPLES * PER; i++)
        sx[i] = (i % 3) ? ac_test_rng_float(&r) * 3.0f : -(float)ldexp((double)(i % 700), -8);
    pair ref = pair_new(0);
    for (int k = 0; k < 3; k++) { /* the first call sets widths, the next ones take one pass */
        pair_observe(&ref, "t", x + k, SAMPLES, PER - 1, k);
        pair_observe(&ref, "s", sx + k, SAMPLES, PER - 1, k);
    }
    pair_check(&ref, "one thread");
    for (int32_t threads = 2; threads <= 3; threads++) {
        ac_threadpool *pool;
        ck_assert_int_eq(ac_threadpool_new(threads, &pool, NULL), AC_OK);
        pair p = pair_new(0);
        ac_calib_set_threadpool(p.v, pool);
        ac_calib_set_threadpool(p.s, pool);
        for (int k = 0; k < 3; k++) {
            pair_observe(&p, "t", x + k, SAMPLES, PER - 1, k);
            pair_observe(&p, "s", sx + k, SAMPLES, PER - 1, k);
        }
        pair_check(&p, "pool");
        if (ac_calib_have_avx512()) ck_assert_int_eq(p.v->one_pass, 4); /* calls 2, 3 of each */
        size_t l1, l2;
        uint8_t *b1 = ct_save(ref.s, &l1), *b2 = ct_save(p.v, &l2);
        ck_assert(l1 == l2 && memcmp(b1, b2, l1) == 0);
        ac_free(b1);
        ac_free(b2);
        pair_free(&p);
        ac_threadpool_free(pool);
    }
    pair_free(&ref);
    free(x);
    free(sx);
}
END_TEST

/* NaN and infinities in a ReLU batch fail on both paths and leave the statistics as they were. */
START_TEST(simd_nonfinite_records_nothing) {
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    /* a tensor seen non-negative, then one seen negative: each one-pass path meets the bad
     * value after the widths are set */
    for (int b = 0; b < 6; b++) {
        pair p = pair_new(0);
        float x[100];
        ac_test_rng r = {.s = 3};
        relu_batch(x, 100, 6.0f, -8, 0, &r);
        if (b >= 3)
            for (int i = 0; i < 100; i++) x[i] -= 3.0f;
        pair_observe(&p, "t", x, 2, 50, 0);
        size_t l0[2];
        uint8_t *before[2] = {ct_save(p.v, &l0[0]), ct_save(p.s, &l0[1])};
        x[77] = bad[b % 3];
        int64_t dims[2] = {2, 50};
        ac_tensor t = {.dtype = AC_DTYPE_F32, .rank = 2, .dims = dims, .numel = 100, .data = x,
                       .nbytes = sizeof x};
        for (int k = 0; k < 2; k++) {
            ac_diag d = {0};
            ac_calib *c = k ? p.s : p.v;
            ck_assert_int_eq(ac_calib_observe(c, "t", &t, 10, &d), AC_ERR_MODEL);
            ck_assert_ptr_nonnull(strstr(d.msg, "image 11"));
            ck_assert_ptr_nonnull(strstr(d.msg, "element 27"));
            size_t l1;
            uint8_t *after = ct_save(c, &l1);
            ck_assert(l0[k] == l1 && memcmp(before[k], after, l1) == 0);
            ac_free(after);
            ac_free(before[k]);
        }
        pair_free(&p);
    }
}
END_TEST

/* AC_ISA below avx512 keeps the generic loops. */
START_TEST(simd_follows_ac_isa) {
    const char *old = getenv("AC_ISA");
    char *saved = old ? strdup(old) : NULL;
    setenv("AC_ISA", "avx2", 1);
    ac_calib *c = ct_new(0);
    ck_assert_int_eq(ac_calib_set_simd(c, 1), 0);
    ac_calib_free(c);
    setenv("AC_ISA", "avx512", 1);
    c = ct_new(0);
    ck_assert_int_eq(ac_calib_set_simd(c, 1), ac_calib_have_avx512());
    ac_calib_free(c);
    if (saved) setenv("AC_ISA", saved, 1);
    else unsetenv("AC_ISA");
    free(saved);
}
END_TEST

Suite *ac_test_calib_simd_suite(void) {
    Suite *s = suite_create("calib_simd");
    TCase *tc = tcase_create("simd");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, simd_matches_generic_relu);
    tcase_add_test(tc, simd_matches_generic_signed);
    tcase_add_test(tc, simd_matches_generic_pool);
    tcase_add_test(tc, simd_nonfinite_records_nothing);
    tcase_add_test(tc, simd_follows_ac_isa);
    suite_add_tcase(s, tc);
    return s;
}
