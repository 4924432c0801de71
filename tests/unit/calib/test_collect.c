/* SPDX-License-Identifier: MIT */
/* src/calib collector: basic statistics, errors (NaN/Inf, dtype), adapters, fixed memory, and
 * the exactness guarantees: order/batching independence and shard merges equal to one run,
 * byte for byte in the saved file. */
#include "autocompress/ac_session.h" /* only the hook types, to pin the adapters to them */
#include "calib_test.h"

/* ---- basic statistics ----------------------------------------------------------------- */

START_TEST(basic_stats) {
    ac_calib *c = ct_new(0);
    const float x[6] = {1, -2, 3, -4, 0.5f, 0};
    ct_observe(c, "t", x, 2, 3, 0);
    ac_calib_stats s = ct_stats(c, "t");
    ck_assert_int_eq(s.n_samples, 2);
    ck_assert_uint_eq(s.n_values, 6);
    ck_assert(s.min == -4 && s.max == 3 && s.amax == 4);
    ck_assert(s.avg == 3.5); /* (max|sample 0| 3 + max|sample 1| 4) / 2 */
    ck_assert_int_eq(s.nbins, AC_CALIB_DEFAULT_BINS);
    uint64_t ta = 0, ts = 0;
    for (int i = 0; i < s.nbins; i++) {
        ta += s.abs_hist[i];
        ts += s.signed_hist[i];
    }
    ck_assert_uint_eq(ta, 6);
    ck_assert_uint_eq(ts, 6);
    /* minimal e: 4 < 2048 * 2^e  ->  e = -9 (2048 * 2^-9 = 4 does not fit, 2^-8 does) */
    ck_assert_int_eq(s.abs_e, -8);
    ck_assert_uint_eq(s.abs_hist[(int)ldexp(4, 8)], 1); /* abs-max in the upper half */
    ck_assert_int_ge((int)ldexp(4, 8), s.nbins / 2);

    /* a rank-0 tensor is one sample */
    float v = -7;
    ac_tensor t0 = {.dtype = AC_DTYPE_F32, .rank = 0, .numel = 1, .data = &v, .nbytes = 4};
    ac_diag d = {0};
    ck_assert_int_eq(ac_calib_observe(c, "t", &t0, 5, &d), AC_OK);
    s = ct_stats(c, "t");
    ck_assert_int_eq(s.n_samples, 3);
    ck_assert(s.min == -7 && s.amax == 7);
    ck_assert(fabs(s.avg - 14.0 / 3) < 1e-12);
    ck_assert_int_eq(ac_calib_count(c), 1);
    ac_calib_free(c);
}
END_TEST

START_TEST(empty_batches) {
    ac_calib *c = ct_new(256);
    int64_t dims[2] = {4, 0};
    ac_tensor t = {.dtype = AC_DTYPE_F32, .rank = 2, .dims = dims, .numel = 0};
    ac_diag d = {0};
    ck_assert_int_eq(ac_calib_observe(c, "e", &t, 0, &d), AC_OK);
    ac_calib_stats s = ct_stats(c, "e");
    ck_assert_int_eq(s.n_samples, 0);
    ck_assert_uint_eq(s.n_values, 0);
    ck_assert(s.min == 0 && s.max == 0 && s.amax == 0 && s.avg == 0);
    ac_calib_free(c);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------------ */

static void check_nonfinite(float bad, const char *word) {
    ac_calib *c = ct_new(256);
    float x[4 * 5];
    for (int i = 0; i < 20; i++)
        x[i] = (float)i * 0.25f;
    ct_observe(c, "conv1_out", x, 4, 5, 0);
    size_t len0;
    uint8_t *before = ct_save(c, &len0);

    x[2 * 5 + 3] = bad; /* sample 2, element 3 */
    int64_t dims[2] = {4, 5};
    ac_tensor t = {
        .dtype = AC_DTYPE_F32, .rank = 2, .dims = dims, .numel = 20, .data = x, .nbytes = sizeof x};
    ac_value v = {.name = "conv1_out", .dtype = AC_DTYPE_F32};
    ac_diag d = {0};
    ac_calib_set_image(c, 40);
    ck_assert_int_eq(ac_calib_observer(&v, &t, c, &d), AC_ERR_MODEL);
    char line[800];
    ac_diag_line(&d, line, sizeof line);
    ck_assert_msg(strstr(line, "conv1_out") && strstr(line, "image 42") && strstr(line, word) &&
                      strstr(line, "element 3"),
                  "message: %s", line);
    /* nothing of the failed batch was recorded */
    size_t len1;
    uint8_t *after = ct_save(c, &len1);
    ck_assert_uint_eq(len0, len1);
    ck_assert(memcmp(before, after, len0) == 0);
    ac_free(before);
    ac_free(after);
    ac_calib_free(c);
}

START_TEST(nan_is_an_error) {
    check_nonfinite(NAN, "NaN");
}
END_TEST

START_TEST(inf_is_an_error) {
    check_nonfinite(INFINITY, "+Inf");
    check_nonfinite(-INFINITY, "-Inf");
}
END_TEST

START_TEST(bad_arguments) {
    ac_calib *c = ct_new(0);
    ac_diag d = {0};
    int64_t dims[1] = {3};
    int64_t q[3] = {1, 2, 3};
    ac_tensor ti = {
        .dtype = AC_DTYPE_S64, .rank = 1, .dims = dims, .numel = 3, .data = q, .nbytes = sizeof q};
    ck_assert_int_eq(ac_calib_observe(c, "shape", &ti, 0, &d), AC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(d.where, "shape"));
    /* the session adapter skips non-float tensors */
    ac_value v = {.name = "shape", .dtype = AC_DTYPE_S64};
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_observer(&v, &ti, c, &d), AC_OK);
    ck_assert_int_eq(ac_calib_count(c), 0);

    float f[3] = {1, 2, 3};
    ac_tensor tf = {
        .dtype = AC_DTYPE_F32, .rank = 1, .dims = dims, .numel = 4, .data = f, .nbytes = sizeof f};
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_observe(c, "x", &tf, 0, &d), AC_ERR_ARG); /* numel != dims */
    tf.numel = 3;
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_observe(c, "", &tf, 0, &d), AC_ERR_ARG);
    ac_diag_clear(&d);
    ac_calib_stats s;
    ck_assert_int_eq(ac_calib_find(c, "nope", &s, &d), AC_ERR_ARG);
    ck_assert_int_eq(ac_calib_count(c), 0);

    ac_calib_opts o = {.nbins = 1001};
    ac_calib *bad = NULL;
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_new(&o, &bad, &d), AC_ERR_ARG);
    ck_assert_ptr_null(bad);

    /* max_tensors */
    ac_calib_opts lim = {.max_tensors = 2};
    ac_calib *c2;
    ck_assert_int_eq(ac_calib_new(&lim, &c2, &d), AC_OK);
    ct_observe(c2, "a", f, 3, 1, 0);
    ct_observe(c2, "b", f, 3, 1, 0);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_observe(c2, "c", &tf, 0, &d), AC_ERR_LIMIT);
    ac_calib_free(c2);
    ac_calib_free(c);
}
END_TEST

START_TEST(want_adapter) {
    ac_value a = {.name = "a", .dtype = AC_DTYPE_F32};
    ac_value b = {.name = "b", .dtype = AC_DTYPE_UNDEFINED};
    ac_value w = {.name = "w", .dtype = AC_DTYPE_F32, .flags = AC_VALUE_INITIALIZER};
    ac_value i = {.name = "i", .dtype = AC_DTYPE_S64};
    ck_assert(ac_calib_want(&a, NULL) && ac_calib_want(&b, NULL));
    ck_assert(!ac_calib_want(&w, NULL) && !ac_calib_want(&i, NULL));
    /* the adapter has the engine's exact hook types */
    ac_observe_want_fn wf = ac_calib_want;
    ac_observe_fn of = ac_calib_observer;
    (void)wf;
    (void)of;
}
END_TEST

/* ---- memory ------------------------------------------------------------------------------- */

START_TEST(memory_does_not_grow) {
    ac_calib *c = ct_new(0);
    ac_test_rng r = {.s = 11};
    enum { PER = 3 * 8 * 8 };
    float x[2 * PER];
    const char *names[3] = {"in", "mid", "out"};
    size_t bytes_after_first = 0;
    int64_t allocs = 0;
    for (int img = 0; img < 1000; img += 2) {
        for (int k = 0; k < 2 * PER; k++)
            x[k] = ac_test_rng_float(&r) * (float)(1 + img);
        for (int n = 0; n < 3; n++)
            ct_observe(c, names[n], x, 2, PER, img);
        if (img == 0) {
            bytes_after_first = ac_calib_bytes(c);
            allocs = ac_alloc_count();
        }
    }
    /* the range grew 500x (histograms coarsened many times) without any new memory */
    ck_assert_uint_eq(ac_calib_bytes(c), bytes_after_first);
    ck_assert_int_eq(ac_alloc_count(), allocs);
    ck_assert_int_eq(ct_stats(c, "mid").n_samples, 1000);
    ac_calib_free(c);
}
END_TEST

/* ---- exactness ---------------------------------------------------------------------------- */

/* A synthetic stream: images with wildly different scales (tiny, subnormal, huge), exact
 * zeros of both signs, so the histograms must coarsen many times. */
enum { N_IMG = 60, PER_IMG = 37 };
static float stream[N_IMG][PER_IMG];

static void make_stream(void) {
    ac_test_rng r = {.s = 12345};
    for (int i = 0; i < N_IMG; i++) {
        double scale = ldexp(1.0, (int)(ac_test_rng_next(&r) % 60) - 30);
        if (i == 7) scale = 1e-42; /* subnormal floats */
        if (i == 31) scale = 3e37;
        for (int k = 0; k < PER_IMG; k++) {
            float v = (float)(ac_test_rng_float(&r) * scale);
            if (k == 5) v = 0.0f;
            if (k == 6) v = -0.0f;
            if (i == 13) v = -fabsf(v) - 1; /* an all-negative image */
            stream[i][k] = v;
        }
    }
}

/* Observes images [from, to) of the stream in batches of `batch` images, into tensors "a"
 * (all images), "b" (odd images only) and, when `with_c`, "c". */
static void feed(ac_calib *c, const int *imgs, int n, int batch, int with_c) {
    ck_assert(batch <= 16);
    float buf[16 * PER_IMG];
    for (int i = 0; i < n; i += batch) {
        int nb = n - i < batch ? n - i : batch;
        for (int k = 0; k < nb; k++)
            memcpy(buf + k * PER_IMG, stream[imgs[i + k]], sizeof stream[0]);
        if (with_c) ct_observe(c, "c", buf, nb, PER_IMG, imgs[i]);
        ct_observe(c, "a", buf, nb, PER_IMG, imgs[i]);
        for (int k = 0; k < nb; k++)
            if (imgs[i + k] % 2) ct_observe(c, "b", stream[imgs[i + k]], 1, PER_IMG, imgs[i + k]);
    }
}

static void assert_same_bytes(const ac_calib *x, const ac_calib *y, const char *what) {
    size_t lx, ly;
    uint8_t *bx = ct_save(x, &lx), *by = ct_save(y, &ly);
    ck_assert_msg(lx == ly && memcmp(bx, by, lx) == 0, "%s: saved bytes differ", what);
    ac_free(bx);
    ac_free(by);
}

START_TEST(order_and_batching_independent) {
    make_stream();
    int fwd[N_IMG], rev[N_IMG], shuf[N_IMG];
    for (int i = 0; i < N_IMG; i++)
        fwd[i] = rev[N_IMG - 1 - i] = shuf[i] = i;
    ac_test_rng r = {.s = 99};
    for (int i = N_IMG - 1; i > 0; i--) {
        int j = (int)(ac_test_rng_next(&r) % (uint64_t)(i + 1));
        int t = shuf[i];
        shuf[i] = shuf[j];
        shuf[j] = t;
    }
    ac_calib *ref = ct_new(256);
    feed(ref, fwd, N_IMG, 1, 1);
    ac_calib *x = ct_new(256);
    feed(x, rev, N_IMG, 8, 1);
    assert_same_bytes(ref, x, "reversed, batches of 8");
    ac_calib *y = ct_new(256);
    feed(y, shuf, N_IMG, 3, 1);
    assert_same_bytes(ref, y, "shuffled, batches of 3");

    /* the histogram equals direct binning of every value at the final width */
    ac_calib_stats s = ct_stats(ref, "a");
    uint64_t *h = calloc(256, sizeof *h), *hs = calloc(256, sizeof *hs);
    for (int i = 0; i < N_IMG; i++)
        for (int k = 0; k < PER_IMG; k++) {
            double v = stream[i][k];
            h[(int)floor(ldexp(fabs(v), -s.abs_e))]++;
            hs[(int)floor(ldexp(v, -s.signed_e)) + 128]++;
        }
    ck_assert(memcmp(h, s.abs_hist, 256 * sizeof *h) == 0);
    ck_assert(memcmp(hs, s.signed_hist, 256 * sizeof *hs) == 0);
    free(h);
    free(hs);
    ac_calib_free(ref);
    ac_calib_free(x);
    ac_calib_free(y);

    /* 0.0 and -0.0 compare equal: the recorded zero must not depend on which came first */
    ac_calib *z1 = ct_new(256), *z2 = ct_new(256);
    const float pz = 0.0f, nz = -0.0f;
    ct_observe(z1, "z", &nz, 1, 1, 0);
    ct_observe(z1, "z", &pz, 1, 1, 1);
    ct_observe(z2, "z", &pz, 1, 1, 0);
    ct_observe(z2, "z", &nz, 1, 1, 1);
    assert_same_bytes(z1, z2, "signed zeros");
    ac_calib_stats zs = ct_stats(z1, "z");
    ck_assert(!signbit(zs.min) && !signbit(zs.max));
    ac_calib_free(z1);
    ac_calib_free(z2);
}
END_TEST

/* Big batches split over a lent thread pool (1, 2 and 3 ranges, uneven sizes, samples cut
 * between ranges, ReLU-like and signed data) save exactly what one thread saves. */
START_TEST(thread_pool_split_is_exact) {
    enum { SAMPLES = 3, PER = 50000 };
    float *x = malloc(SAMPLES * PER * sizeof *x);
    ac_test_rng r = {.s = 5};
    for (int i = 0; i < SAMPLES * PER; i++) x[i] = ac_test_rng_float(&r) * (float)(1 + i % 7);
    float *relu = malloc(SAMPLES * PER * sizeof *relu);
    for (int i = 0; i < SAMPLES * PER; i++) relu[i] = x[i] > 0 ? x[i] : 0.0f;
    ac_calib *ref = ct_new(0);
    for (int k = 0; k < 3; k++) {
        ct_observe(ref, "signed", x + k * 7, SAMPLES, PER - 7, k);
        ct_observe(ref, "relu", relu + k * 5, SAMPLES, PER - 5, k);
    }
    for (int32_t threads = 2; threads <= 3; threads++) {
        ac_threadpool *pool;
        ck_assert_int_eq(ac_threadpool_new(threads, &pool, NULL), AC_OK);
        ac_calib *c = ct_new(0);
        ac_calib_set_threadpool(c, pool);
        for (int k = 0; k < 3; k++) {
            ct_observe(c, "signed", x + k * 7, SAMPLES, PER - 7, k);
            ct_observe(c, "relu", relu + k * 5, SAMPLES, PER - 5, k);
        }
        ac_calib_set_threadpool(c, NULL);
        assert_same_bytes(ref, c, threads == 2 ? "pool of 2" : "pool of 3");
        ac_calib_free(c);
        ac_threadpool_free(pool);
    }
    ac_calib_free(ref);
    free(x);
    free(relu);
}
END_TEST

START_TEST(merge_equals_union) {
    make_stream();
    int all[N_IMG];
    for (int i = 0; i < N_IMG; i++)
        all[i] = i;
    ac_calib *ref = ct_new(256);
    feed(ref, all, N_IMG, 4, 1);

    /* three shards over disjoint image sets, chosen so each shard has a different range */
    int s0[N_IMG], s1[N_IMG], s2[N_IMG], n0 = 0, n1 = 0, n2 = 0;
    for (int i = 0; i < N_IMG; i++) {
        if (i == 7 || i % 3 == 0)
            s0[n0++] = i;
        else if (i % 3 == 1)
            s1[n1++] = i;
        else
            s2[n2++] = i;
    }
    ac_calib *sh[3] = {ct_new(256), ct_new(256), ct_new(256)};
    feed(sh[0], s0, n0, 5, 0); /* shard 0 never sees tensor "c" */
    feed(sh[1], s1, n1, 2, 1);
    feed(sh[2], s2, n2, 7, 1);
    /* "c" of shard 0's images, observed by a fourth collector */
    ac_calib *c0 = ct_new(256);
    float buf[PER_IMG];
    for (int i = 0; i < n0; i++) {
        memcpy(buf, stream[s0[i]], sizeof buf);
        ct_observe(c0, "c", buf, 1, PER_IMG, s0[i]);
    }

    static const int orders[4][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}};
    for (int o = 0; o < 4; o++) {
        ac_calib *m = ct_new(256);
        ac_diag d = {0};
        for (int k = 0; k < 4; k++) {
            int w = orders[o][k];
            const ac_calib *src = w == 3 ? c0 : sh[w];
            ck_assert_msg(ac_calib_merge(m, src, &d) == AC_OK, "merge: %s", d.msg);
        }
        assert_same_bytes(ref, m, "merged shards");
        ac_calib_free(m);
    }
    /* tree-shaped merge: (1 + 2) + (c0 + 0) into a shard itself */
    ac_diag d = {0};
    ck_assert_int_eq(ac_calib_merge(sh[1], sh[2], &d), AC_OK);
    ck_assert_int_eq(ac_calib_merge(c0, sh[0], &d), AC_OK);
    ck_assert_int_eq(ac_calib_merge(sh[1], c0, &d), AC_OK);
    assert_same_bytes(ref, sh[1], "tree merge");

    /* a merged collector keeps collecting exactly */
    ac_calib *again = ct_new(256);
    ck_assert_int_eq(ac_calib_merge(again, sh[1], &d), AC_OK);
    feed(again, all, 10, 3, 1);
    feed(ref, all, 10, 10, 1);
    assert_same_bytes(ref, again, "merge then observe");

    ac_calib_free(again);
    for (int k = 0; k < 3; k++)
        ac_calib_free(sh[k]);
    ac_calib_free(c0);
    ac_calib_free(ref);
}
END_TEST

START_TEST(merge_errors) {
    ac_calib *a = ct_new(256), *b = ct_new(512);
    float x[2] = {1, 2};
    ct_observe(b, "t", x, 1, 2, 0);
    ac_diag d = {0};
    ck_assert_int_eq(ac_calib_merge(a, b, &d), AC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(d.msg, "bins"));
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_merge(a, a, &d), AC_ERR_ARG);
    ck_assert_int_eq(ac_calib_count(a), 0);

    /* allocation failures leave dst unchanged */
    ac_calib *src = ct_new(256);
    ct_observe(src, "t", x, 1, 2, 0);
    ct_observe(src, "u", x, 2, 1, 0);
    ct_observe(a, "t", x, 2, 1, 0);
    size_t l0;
    uint8_t *before = ct_save(a, &l0);
    for (int n = 1; n < 20; n++) {
        ac_diag_clear(&d);
        ac_alloc_fail_at(n);
        ac_status s = ac_calib_merge(a, src, &d);
        ac_alloc_fail_at(0);
        if (s == AC_OK) break;
        ck_assert_int_eq(s, AC_ERR_NOMEM);
        size_t l1;
        uint8_t *after = ct_save(a, &l1);
        ck_assert(l0 == l1 && memcmp(before, after, l0) == 0);
        ac_free(after);
    }
    ck_assert_int_eq(ac_calib_count(a), 2);
    ac_free(before);
    ac_calib_free(src);
    ac_calib_free(a);
    ac_calib_free(b);
}
END_TEST

Suite *ac_test_calib_collect_suite(void) {
    Suite *s = suite_create("calib_collect");
    TCase *tc = tcase_create("stats");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, basic_stats);
    tcase_add_test(tc, empty_batches);
    tcase_add_test(tc, nan_is_an_error);
    tcase_add_test(tc, inf_is_an_error);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, want_adapter);
    tcase_add_test(tc, memory_does_not_grow);
    suite_add_tcase(s, tc);
    TCase *tx = tcase_create("exactness");
    tcase_set_timeout(tx, 60);
    tcase_add_test(tx, order_and_batching_independent);
    tcase_add_test(tx, merge_equals_union);
    tcase_add_test(tx, thread_pool_split_is_exact);
    tcase_add_test(tx, merge_errors);
    suite_add_tcase(s, tx);
    return s;
}
