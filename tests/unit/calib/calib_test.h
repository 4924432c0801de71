/* SPDX-License-Identifier: MIT */
/* Shared helpers for the calib suites. */
#ifndef AC_CALIB_TEST_H
#define AC_CALIB_TEST_H

#include "autocompress/ac_calib.h"
#include "check_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A new collector with `nbins` bins (0 = default); fails the test on error. */
static inline ac_calib *ct_new(int32_t nbins) {
    ac_diag d = {0};
    ac_calib *c = NULL;
    ac_calib_opts o = {.nbins = nbins};
    ck_assert_msg(ac_calib_new(&o, &c, &d) == AC_OK, "ac_calib_new: %s", d.msg);
    return c;
}

/* Observes `n_samples` samples of `per` floats each; must succeed. */
static inline void ct_observe(ac_calib *c, const char *name, const float *x, int64_t n_samples,
                              int64_t per, int64_t first_image) {
    int64_t dims[2] = {n_samples, per};
    ac_tensor t = {.dtype = AC_DTYPE_F32,
                   .rank = 2,
                   .dims = dims,
                   .numel = n_samples * per,
                   .data = (void *)x,
                   .nbytes = (size_t)(n_samples * per) * sizeof(float)};
    ac_diag d = {0};
    ck_assert_msg(ac_calib_observe(c, name, &t, first_image, &d) == AC_OK, "observe %s: %s: %s",
                  name, d.where, d.msg);
}

static inline uint8_t *ct_save(const ac_calib *c, size_t *len) {
    ac_diag d = {0};
    uint8_t *b = NULL;
    ck_assert_msg(ac_calib_save_buffer(c, &b, len, &d) == AC_OK, "save: %s", d.msg);
    return b;
}

static inline ac_calib_stats ct_stats(const ac_calib *c, const char *name) {
    ac_diag d = {0};
    ac_calib_stats s;
    ck_assert_msg(ac_calib_find(c, name, &s, &d) == AC_OK, "find %s: %s", name, d.msg);
    return s;
}

static inline ac_calib_range ct_range(const ac_calib *c, const char *name, ac_calib_method m,
                                      double percent) {
    ac_diag d = {0};
    ac_calib_range r;
    ac_calib_method_opts o = {.hist_percent = percent};
    ck_assert_msg(ac_calib_range_of(c, name, m, &o, &r, &d) == AC_OK, "range %s %s: %s", name,
                  ac_calib_method_name(m), d.msg);
    return r;
}

/* Standard normal from two uniforms (Box-Muller). */
static inline float ct_gauss(ac_test_rng *r) {
    double u1 = 1.0 - (ac_test_rng_float(r) + 1.0) / 2; /* (0, 1] */
    double u2 = (ac_test_rng_float(r) + 1.0) / 2;
    return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}

#endif
