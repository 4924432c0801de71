/* SPDX-License-Identifier: MIT */
/* src/calib statistics file: round trips, determinism, and hard validation of hostile or
 * damaged files (every truncation, bad header fields, absurd counts, corrupted contents). */
#include "calib_test.h"

#include <stdio.h>
#include <sys/stat.h>

/* CRC-32 (IEEE), bit by bit: an independent check of the file's trailer. */
static uint32_t crc32_ref(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void fix_crc(uint8_t *b, size_t len) {
    uint32_t c = crc32_ref(b, len - 4);
    for (int i = 0; i < 4; i++)
        b[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

static ac_calib *sample_collector(void) {
    ac_calib *c = ct_new(256);
    ac_test_rng r = {.s = 5};
    float x[3 * 50];
    for (int b = 0; b < 4; b++) {
        for (int i = 0; i < 150; i++)
            x[i] = ac_test_rng_float(&r) * (float)(b + 1);
        ct_observe(c, "zeta", x, 3, 50, b * 3);
        ct_observe(c, "alpha", x, 1, 150, b * 3);
    }
    int64_t dims[2] = {2, 0};
    ac_tensor e = {.dtype = AC_DTYPE_F32, .rank = 2, .dims = dims};
    ac_diag d = {0};
    ck_assert_int_eq(ac_calib_observe(c, "empty", &e, 0, &d), AC_OK);
    return c;
}

static ac_status load(const uint8_t *b, size_t n, ac_diag *d) {
    ac_calib *c = NULL;
    ac_status s = ac_calib_load_buffer(b, n, NULL, &c, d);
    ck_assert(s == AC_OK ? c != NULL : c == NULL);
    ac_calib_free(c);
    return s;
}

START_TEST(round_trip) {
    ac_calib *c = sample_collector();
    size_t n1, n2;
    uint8_t *b1 = ct_save(c, &n1);
    ck_assert_uint_eq(crc32_ref(b1, n1 - 4), (uint32_t)b1[n1 - 4] | (uint32_t)b1[n1 - 3] << 8 |
                                                 (uint32_t)b1[n1 - 2] << 16 |
                                                 (uint32_t)b1[n1 - 1] << 24);
    ck_assert(memcmp(b1, "ACCALIB", 8) == 0);
    ac_diag d = {0};
    ac_calib *l = NULL;
    ck_assert_msg(ac_calib_load_buffer(b1, n1, NULL, &l, &d) == AC_OK, "%s", d.msg);
    uint8_t *b2 = ct_save(l, &n2);
    ck_assert(n1 == n2 && memcmp(b1, b2, n1) == 0);
    /* file order is by name; statistics survive exactly */
    ck_assert_int_eq(ac_calib_count(l), 3);
    ac_calib_stats s0;
    ck_assert_int_eq(ac_calib_stats_at(l, 0, &s0, &d), AC_OK);
    ck_assert_str_eq(s0.name, "alpha");
    ac_calib_stats a = ct_stats(c, "zeta"), b = ct_stats(l, "zeta");
    ck_assert(a.min == b.min && a.max == b.max && a.avg == b.avg && a.n_samples == b.n_samples);
    ck_assert(memcmp(a.abs_hist, b.abs_hist, 256 * 8) == 0);
    ac_calib_range ra = ct_range(c, "zeta", AC_CALIB_KL, 0),
                   rb = ct_range(l, "zeta", AC_CALIB_KL, 0);
    ck_assert(ra.amax == rb.amax);

    /* through files: save, load, save again gives identical bytes */
    const char *dir = ac_test_tmpdir();
    const char *p1 = ac_test_path(dir, "a.accal"), *p2 = ac_test_path(dir, "b.accal");
    ck_assert_msg(ac_calib_save(c, p1, &d) == AC_OK, "%s", d.msg);
    ac_calib *lf = NULL;
    ck_assert_msg(ac_calib_load(p1, NULL, &lf, &d) == AC_OK, "%s", d.msg);
    ck_assert_msg(ac_calib_save(lf, p2, &d) == AC_OK, "%s", d.msg);
    size_t f1, f2;
    uint8_t *r1 = ac_test_read_file(p1, &f1), *r2 = ac_test_read_file(p2, &f2);
    ck_assert(f1 == n1 && memcmp(r1, b1, n1) == 0);
    ck_assert(f2 == n1 && memcmp(r2, b1, n1) == 0);
    ck_assert_int_eq(ac_test_count_files(dir), 2); /* no temp files left */
    free(r1);
    free(r2);
    remove(p1);
    remove(p2);
    ac_free(b1);
    ac_free(b2);
    ac_calib_free(lf);
    ac_calib_free(l);
    ac_calib_free(c);
}
END_TEST

START_TEST(every_truncation_fails_cleanly) {
    ac_calib *c = sample_collector();
    size_t n;
    uint8_t *b = ct_save(c, &n);
    for (size_t len = 0; len < n; len++) {
        /* a copy of exactly `len` bytes, so ASan sees any read past the end */
        uint8_t *t = malloc(len ? len : 1);
        memcpy(t, b, len);
        ac_diag d = {0};
        ac_status s = load(t, len, &d);
        ck_assert_msg(s == AC_ERR_FORMAT && d.msg[0], "length %zu: status %d", len, (int)s);
        free(t);
    }
    /* one extra byte is an error too */
    uint8_t *longer = malloc(n + 1);
    memcpy(longer, b, n);
    longer[n] = 0;
    ac_diag d = {0};
    ck_assert_int_eq(load(longer, n + 1, &d), AC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(d.msg, "after the checksum"));
    free(longer);
    ac_free(b);
    ac_calib_free(c);
}
END_TEST

/* Mutates a copy of the saved bytes, optionally re-fixes the checksum, loads, and checks the
 * status and that the message contains `want`. */
static void expect_bad(const uint8_t *b, size_t n, size_t off, const void *bytes, size_t nb,
                       int fix, ac_status want_status, const char *want) {
    uint8_t *t = malloc(n);
    memcpy(t, b, n);
    memcpy(t + off, bytes, nb);
    if (fix) fix_crc(t, n);
    ac_diag d = {0};
    ac_status s = load(t, n, &d);
    char line[800];
    ac_diag_line(&d, line, sizeof line);
    ck_assert_msg(s == want_status && strstr(line, want), "offset %zu: got %d \"%s\", want \"%s\"",
                  off, (int)s, line, want);
    free(t);
}

START_TEST(bad_headers_and_counts) {
    ac_calib *c = sample_collector();
    size_t n;
    uint8_t *b = ct_save(c, &n);
    const uint8_t v0[4] = {0}, v2[4] = {2}, one[4] = {1};
    expect_bad(b, n, 0, "ACCALIX", 7, 1, AC_ERR_FORMAT, "bad magic");
    expect_bad(b, n, 8, v0, 4, 1, AC_ERR_FORMAT, "version 0");
    expect_bad(b, n, 8, v2, 4, 1, AC_ERR_UNSUPPORTED, "version 2");
    expect_bad(b, n, 12, one, 4, 1, AC_ERR_FORMAT, "flags");
    const uint8_t odd[4] = {0x01, 0x01}; /* 257 bins */
    expect_bad(b, n, 16, odd, 4, 1, AC_ERR_FORMAT, "bin count");
    const uint8_t huge[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f};
    expect_bad(b, n, 24, huge, 8, 1, AC_ERR_LIMIT, "over the limit");
    const uint8_t four[8] = {4};
    expect_bad(b, n, 24, four, 8, 1, AC_ERR_FORMAT, "claims 4 tensors");
    const uint8_t two[8] = {2};
    expect_bad(b, n, 24, two, 8, 1, AC_ERR_FORMAT, "unexpected bytes");
    /* name length absurd */
    const uint8_t big_name[4] = {0xff, 0xff, 0xff, 0x7f};
    expect_bad(b, n, 32, big_name, 4, 1, AC_ERR_FORMAT, "name length");
    /* a flipped bit anywhere is caught by the checksum */
    const uint8_t flip = (uint8_t)(b[n / 2] ^ 0x10);
    expect_bad(b, n, n / 2, &flip, 1, 0, AC_ERR_FORMAT, "checksum");
    ac_free(b);

    /* limit from the options */
    c = c ? c : NULL;
    uint8_t *b2 = ct_save(c, &n);
    ac_calib_opts o = {.max_tensors = 2};
    ac_calib *l = NULL;
    ac_diag d = {0};
    ck_assert_int_eq(ac_calib_load_buffer(b2, n, &o, &l, &d), AC_ERR_LIMIT);
    ck_assert_ptr_null(l);
    ac_free(b2);
    ac_calib_free(c);
}
END_TEST

START_TEST(bad_contents_with_valid_checksum) {
    /* one tensor "t", 256 bins: record layout after the 32-byte header */
    ac_calib *c = ct_new(256);
    float x[8] = {-1, 2, 3, 0.5f, -0.25f, 4, 1, 0};
    ct_observe(c, "t", x, 2, 4, 0);
    size_t n;
    uint8_t *b = ct_save(c, &n);
    const size_t rec = 32 + 4 + 1; /* after the name */
    const size_t o_samples = rec, o_values = rec + 8, o_min = rec + 16, o_max = rec + 20;
    const size_t o_acc = rec + 24, o_abs_e = o_acc + 44, o_sig_e = o_abs_e + 4;
    const size_t o_abs = o_sig_e + 4, o_sig = o_abs + 256 * 8;
    ck_assert_uint_eq(o_sig + 256 * 8 + 4, n);

    const uint8_t big[8] = {9};
    expect_bad(b, n, o_samples, big, 8, 1, AC_ERR_FORMAT, "samples");
    expect_bad(b, n, o_values, big, 8, 1, AC_ERR_FORMAT, "histogram totals");
    float nan = NAN, negz = -0.0f, bigf = 100.0f, lo = 1.5f;
    expect_bad(b, n, o_min, &nan, 4, 1, AC_ERR_FORMAT, "invalid range");
    expect_bad(b, n, o_max, &bigf, 4, 1, AC_ERR_FORMAT, "exponents");
    expect_bad(b, n, o_min, &lo, 4, 1, AC_ERR_FORMAT, "do not end at the range");
    (void)negz;
    const int32_t e_bad = 5000, e_off = -5;
    expect_bad(b, n, o_abs_e, &e_bad, 4, 1, AC_ERR_FORMAT, "out of range");
    expect_bad(b, n, o_sig_e, &e_off, 4, 1, AC_ERR_FORMAT, "not the ones of the range");
    const uint8_t acc_big[4] = {0, 0, 0, 0x7f};
    expect_bad(b, n, o_acc + 40, acc_big, 4, 1, AC_ERR_FORMAT, "above the abs-max");
    /* move one count between bins: totals still right, but the top bin is wrong */
    uint8_t *t = malloc(n);
    memcpy(t, b, n);
    t[o_abs + 255 * 8] = 1;
    int found = 0;
    for (int k = 254; k >= 0 && !found; k--)
        if (t[o_abs + k * 8]) {
            t[o_abs + k * 8]--;
            found = 1;
        }
    ck_assert(found);
    expect_bad(t, n, 0, "A", 1, 1, AC_ERR_FORMAT, "do not end at the range");
    free(t);
    /* NUL in a name */
    expect_bad(b, n, 36, "\0", 1, 1, AC_ERR_FORMAT, "NUL");
    ac_free(b);

    /* unsorted / repeated names */
    ac_calib *c2 = ct_new(256);
    ct_observe(c2, "a", x, 2, 4, 0);
    ct_observe(c2, "b", x, 2, 4, 0);
    b = ct_save(c2, &n);
    size_t second = 32 + 4 + 1 + (o_sig + 256 * 8 - rec);
    expect_bad(b, n, second + 4, "a", 1, 1, AC_ERR_FORMAT, "not sorted or repeated");
    ac_free(b);
    ac_calib_free(c2);
    ac_calib_free(c);
}
END_TEST

START_TEST(io_errors) {
    ac_calib *c = sample_collector();
    ac_diag d = {0};
    ac_calib *l = NULL;
    const char *dir = ac_test_tmpdir();
    const char *missing = ac_test_path(dir, "missing.accal");
    ck_assert_int_eq(ac_calib_load(missing, NULL, &l, &d), AC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(d.where, "missing.accal"));
    ck_assert_ptr_null(l);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_save(c, ac_test_path(dir, "no/such/dir.accal"), &d), AC_ERR_IO);
    ac_diag_clear(&d);
    /* a damaged file names the path */
    const char *p = ac_test_path(dir, "bad.accal");
    ac_test_write_file(p, "ACCALIB\0garbage", 15);
    ck_assert_int_eq(ac_calib_load(p, NULL, &l, &d), AC_ERR_FORMAT);
    char line[800];
    ck_assert_ptr_nonnull(strstr(ac_diag_line(&d, line, sizeof line), "bad.accal: "));
    /* max_file_bytes */
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_calib_save(c, p, &d), AC_OK);
    ac_calib_opts o = {.max_file_bytes = 100};
    ck_assert_int_eq(ac_calib_load(p, &o, &l, &d), AC_ERR_LIMIT);
    remove(p);
    ac_calib_free(c);
}
END_TEST

START_TEST(load_allocation_failures) {
    ac_calib *c = sample_collector();
    size_t n;
    uint8_t *b = ct_save(c, &n);
    for (int k = 1; k < 40; k++) {
        ac_diag d = {0};
        ac_calib *l = NULL;
        ac_alloc_fail_at(k);
        ac_status s = ac_calib_load_buffer(b, n, NULL, &l, &d);
        ac_alloc_fail_at(0);
        ac_calib_free(l);
        if (s == AC_OK) break;
        ck_assert_int_eq(s, AC_ERR_NOMEM);
    }
    ac_free(b);
    ac_calib_free(c);
}
END_TEST

Suite *ac_test_calib_statfile_suite(void) {
    Suite *s = suite_create("calib_statfile");
    TCase *tc = tcase_create("statfile");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, every_truncation_fails_cleanly);
    tcase_add_test(tc, bad_headers_and_counts);
    tcase_add_test(tc, bad_contents_with_valid_checksum);
    tcase_add_test(tc, io_errors);
    tcase_add_test(tc, load_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}
