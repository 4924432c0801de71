/* SPDX-License-Identifier: MIT */
/* Exact histogram and accumulator primitives. Everything here is integer arithmetic or double
 * arithmetic that is exact by construction (power-of-two scaling of floats), which is what
 * makes statistics independent of order and batching and lets shards merge byte-for-byte. */
#include "calib_internal.h"

#include <math.h>
#include <string.h>

static int32_t floor_log2_i32(int32_t n) {
    int32_t p = 0;
    while ((n >> 1) >= 1 && p < 30) {
        n >>= 1;
        p++;
    }
    return p;
}

int32_t ac_calib_abs_e_for(double a, int32_t nbins) {
    if (!(a > 0)) return AC_CALIB_HIST_E_MIN;
    int k;
    (void)frexp(a, &k); /* a = f * 2^k, f in [0.5, 1) */
    /* a / 2^(k - p - 1) = f * 2^(p + 1) < 2 * nbins, and one step finer would not fit, so the
     * minimum is this e or a step or two above it. */
    int32_t e = k - floor_log2_i32(nbins) - 1;
    if (e < AC_CALIB_HIST_E_MIN) e = AC_CALIB_HIST_E_MIN;
    while (ldexp(a, -e) >= (double)nbins)
        e++;
    return e;
}

int32_t ac_calib_signed_e_for(double x, int32_t nbins) {
    if (x == 0) return AC_CALIB_HIST_E_MIN;
    double h = (double)(nbins / 2);
    double a = fabs(x);
    int k;
    (void)frexp(a, &k);
    int32_t e = k - floor_log2_i32(nbins / 2) - 1;
    if (e < AC_CALIB_HIST_E_MIN) e = AC_CALIB_HIST_E_MIN;
    /* positive values need x / w < h; negative ones -h <= x / w, i.e. |x| / w <= h */
    if (x > 0) {
        while (ldexp(a, -e) >= h)
            e++;
    } else {
        while (ldexp(a, -e) > h)
            e++;
    }
    return e;
}

/* floor(v) for |v| < 2^62, without libm's floor (exact either way). */
static int64_t floor_i64(double v) {
    int64_t t = (int64_t)v;
    if ((double)t > v) t--;
    return t;
}

/* floor(n / 2^k) */
static int64_t floor_shift(int64_t n, int32_t k) {
    if (k >= 62) return n < 0 ? -1 : 0;
    if (n >= 0) return n >> k;
    return -(int64_t)(((uint64_t)(-n) + ((UINT64_C(1) << k) - 1)) >> k);
}

int32_t ac_calib_abs_bin(double a, int32_t e) {
    return (int32_t)floor_i64(a * ldexp(1.0, -e));
}

int32_t ac_calib_signed_bin(double x, int32_t e, int32_t nbins) {
    return (int32_t)(floor_i64(x * ldexp(1.0, -e)) + nbins / 2);
}

void ac_calib_coarsen_abs(uint64_t *h, int32_t nbins, int32_t k) {
    if (k <= 0) return;
    /* targets are <= sources and every lower source has already moved: ascending is safe */
    for (int32_t j = 1; j < nbins; j++) {
        uint64_t v = h[j];
        if (!v) continue;
        int32_t t = (int32_t)floor_shift(j, k);
        if (t == j) continue;
        h[j] = 0;
        h[t] += v;
    }
}

void ac_calib_coarsen_signed(uint64_t *h, int32_t nbins, int32_t k) {
    if (k <= 0) return;
    int32_t half = nbins / 2;
    /* bins move toward the zero bin: the upper half ascending, the lower half descending, so a
     * target has always been emptied of its old count before it receives new ones */
    for (int32_t j = half + 1; j < nbins; j++) {
        uint64_t v = h[j];
        if (!v) continue;
        int32_t t = half + (int32_t)floor_shift(j - half, k);
        if (t == j) continue;
        h[j] = 0;
        h[t] += v;
    }
    for (int32_t j = half - 1; j >= 0; j--) {
        uint64_t v = h[j];
        if (!v) continue;
        int32_t t = half + (int32_t)floor_shift(j - half, k);
        if (t == j) continue;
        h[j] = 0;
        h[t] += v;
    }
}

void ac_calib_acc_add_float(uint32_t *acc, float a) {
    uint32_t bits;
    memcpy(&bits, &a, sizeof bits);
    bits &= 0x7fffffffu;
    uint32_t ex = bits >> 23, mant = bits & 0x7fffffu;
    if (ex == 0 && mant == 0) return;
    /* value = m * 2^(pos - 149) with m < 2^24 */
    uint64_t m = ex ? (mant | 0x800000u) : mant;
    uint32_t pos = ex ? ex - 1 : 0;
    uint32_t li = pos / 32, off = pos % 32;
    uint64_t v = m << off; /* < 2^55: spans two limbs */
    uint64_t carry = 0;
    for (uint32_t i = li; i < AC_CALIB_ACC_LIMBS; i++) {
        uint64_t add = (i == li) ? (v & 0xffffffffu) : (i == li + 1) ? (v >> 32) : 0;
        uint64_t s = (uint64_t)acc[i] + add + carry;
        acc[i] = (uint32_t)s;
        carry = s >> 32;
        if (i > li && carry == 0) break;
    }
}

void ac_calib_acc_add(uint32_t *acc, const uint32_t *other) {
    uint64_t carry = 0;
    for (int i = 0; i < AC_CALIB_ACC_LIMBS; i++) {
        uint64_t s = (uint64_t)acc[i] + other[i] + carry;
        acc[i] = (uint32_t)s;
        carry = s >> 32;
    }
}

double ac_calib_acc_to_double(const uint32_t *acc) {
    double r = 0;
    for (int i = AC_CALIB_ACC_LIMBS - 1; i >= 0; i--)
        r = r * 4294967296.0 + (double)acc[i];
    return ldexp(r, -149);
}

void ac_calib_tensor_merge(ac_calib_tensor *dst, const ac_calib_tensor *src, int32_t nbins) {
    if (src->n_values > 0) {
        if (dst->n_values == 0) {
            dst->min = src->min;
            dst->max = src->max;
        } else {
            if (src->min < dst->min) dst->min = src->min;
            if (src->max > dst->max) dst->max = src->max;
        }
    }
    dst->n_samples += src->n_samples;
    dst->n_values += src->n_values;
    ac_calib_acc_add(dst->acc, src->acc);

    int32_t half = nbins / 2;
    int32_t e = dst->abs_e > src->abs_e ? dst->abs_e : src->abs_e;
    ac_calib_coarsen_abs(dst->abs_hist, nbins, e - dst->abs_e);
    dst->abs_e = e;
    for (int32_t j = 0; j < nbins; j++)
        if (src->abs_hist[j]) dst->abs_hist[floor_shift(j, e - src->abs_e)] += src->abs_hist[j];

    e = dst->signed_e > src->signed_e ? dst->signed_e : src->signed_e;
    ac_calib_coarsen_signed(dst->signed_hist, nbins, e - dst->signed_e);
    dst->signed_e = e;
    for (int32_t j = 0; j < nbins; j++)
        if (src->signed_hist[j])
            dst->signed_hist[half + floor_shift(j - half, e - src->signed_e)] +=
                src->signed_hist[j];
}

void ac_calib_tensor_view(const ac_calib_tensor *t, int32_t nbins, ac_calib_stats *out) {
    memset(out, 0, sizeof *out);
    out->name = t->name;
    out->n_samples = t->n_samples;
    out->n_values = t->n_values;
    out->min = t->min;
    out->max = t->max;
    out->amax = -t->min > t->max ? -t->min : t->max;
    out->avg = t->n_samples > 0 ? ac_calib_acc_to_double(t->acc) / (double)t->n_samples : 0;
    out->nbins = nbins;
    out->abs_e = t->abs_e;
    out->signed_e = t->signed_e;
    out->abs_hist = t->abs_hist;
    out->signed_hist = t->signed_hist;
}
