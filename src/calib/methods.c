/* SPDX-License-Identifier: MIT */
/* Range methods over collected statistics (pure functions of ac_calib_stats) and the scale /
 * zero-point helpers. The histogram-based ones treat each bin as uniform mass over the bin,
 * with the extreme bins cut at the observed min / max so a percentile of 1 or a clip at the
 * top edge never invents values beyond the data. */
#include "calib_internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

static const char *const method_names[AC_CALIB_METHOD_COUNT] = {
    [AC_CALIB_ABS_MAX] = "abs_max", [AC_CALIB_MIN_MAX] = "min_max", [AC_CALIB_AVG] = "avg",
    [AC_CALIB_HIST] = "hist",       [AC_CALIB_KL] = "KL",           [AC_CALIB_MSE] = "mse",
    [AC_CALIB_EMD] = "emd",
};
_Static_assert(AC_CALIB_METHOD_COUNT == 7, "method_names covers every method");

const char *ac_calib_method_name(ac_calib_method m) {
    return (unsigned)m < AC_CALIB_METHOD_COUNT ? method_names[m] : "unknown";
}

static int same_ci(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return 0;
    }
    return *a == *b;
}

ac_status ac_calib_method_parse(const char *s, ac_calib_method *out, ac_diag *d) {
    for (int m = 0; s && m < AC_CALIB_METHOD_COUNT; m++) {
        if (same_ci(s, method_names[m])) {
            *out = (ac_calib_method)m;
            return AC_OK;
        }
    }
    return AC_FAIL(d, AC_ERR_ARG,
                   "unknown calibration method \"%.100s\" (abs_max, min_max, avg, hist, KL, "
                   "mse, emd)",
                   s ? s : "(null)");
}

/* ---- bins as uniform mass ----------------------------------------------------------------- */

typedef struct hist_view {
    const uint64_t *h;
    int32_t n;           /* bins */
    double w;            /* bin width */
    double origin;       /* left edge of bin 0 */
    int32_t first, last; /* first and last nonzero bins (-1 when empty) */
    double lo, hi;       /* the data's extremes: bin `first` starts at lo, bin `last` ends at hi */
} hist_view;

static hist_view view_abs(const ac_calib_stats *s) {
    hist_view v = {.h = s->abs_hist,
                   .n = s->nbins,
                   .w = ldexp(1.0, s->abs_e),
                   .origin = 0,
                   .first = -1,
                   .last = -1,
                   .lo = 0,
                   .hi = s->amax};
    for (int32_t i = 0; i < v.n; i++)
        if (v.h[i]) {
            if (v.first < 0) v.first = i;
            v.last = i;
        }
    /* bin 0 still starts at 0: |x| has no lower cut worth making */
    v.lo = v.first >= 0 ? v.first * v.w : 0;
    return v;
}

static hist_view view_signed(const ac_calib_stats *s) {
    double w = ldexp(1.0, s->signed_e);
    hist_view v = {.h = s->signed_hist,
                   .n = s->nbins,
                   .w = w,
                   .origin = -(s->nbins / 2) * w,
                   .first = -1,
                   .last = -1,
                   .lo = s->min,
                   .hi = s->max};
    for (int32_t i = 0; i < v.n; i++)
        if (v.h[i]) {
            if (v.first < 0) v.first = i;
            v.last = i;
        }
    return v;
}

static void bin_edges(const hist_view *v, int32_t i, double *a, double *b) {
    *a = v->origin + i * v->w;
    *b = *a + v->w;
    if (i == v->first && v->lo > *a) *a = v->lo;
    if (i == v->last && v->hi < *b) *b = v->hi;
    if (*b < *a) *b = *a;
}

/* Value below which a fraction p of the mass lies, linear inside a bin. */
static double quantile(const hist_view *v, double p) {
    if (v->first < 0) return 0;
    uint64_t total = 0;
    for (int32_t i = v->first; i <= v->last; i++)
        total += v->h[i];
    double target = p * (double)total, cum = 0;
    for (int32_t i = v->first; i <= v->last; i++) {
        double c = (double)v->h[i];
        if (c == 0) continue;
        if (cum + c >= target) {
            double a, b, f = (target - cum) / c;
            bin_edges(v, i, &a, &b);
            if (f < 0) f = 0;
            return a + (b - a) * f;
        }
        cum += c;
    }
    return v->hi;
}

/* ---- fake-quantization error, integrated exactly over uniform bins ------------------------ */

/* Quantizer grid: q(v) = o + clamp(round((v - o) / s), 0, kmax) * s. */
typedef struct grid {
    double o, s;
    int32_t kmax;
} grid;

/* Integral over [u0, u1) of (v - q)^2 (mse) or |v - q| (emd). */
static double piece(double u0, double u1, double q, int emd) {
    double x0 = u0 - q, x1 = u1 - q;
    if (!emd) return (x1 * x1 * x1 - x0 * x0 * x0) / 3;
    if (x0 >= 0) return (x1 * x1 - x0 * x0) / 2;
    if (x1 <= 0) return (x0 * x0 - x1 * x1) / 2;
    return (x0 * x0 + x1 * x1) / 2;
}

static int32_t level(const grid *g, double u) {
    double t = floor((u - g->o) / g->s + 0.5);
    if (t < 0) return 0;
    if (t > g->kmax) return g->kmax;
    return (int32_t)t;
}

/* Expected error (times the count) of a bin of `count` values uniform over [a, b). */
static double bin_error(double a, double b, double count, const grid *g, int emd) {
    if (!(b > a)) { /* a point mass (cut bin of a constant tensor) */
        double q = g->o + level(g, a) * g->s, x = fabs(a - q);
        return count * (emd ? x : x * x);
    }
    double total = 0, u = a;
    int32_t k = level(g, u);
    while (u < b) {
        /* rounding may put u on the far side of a boundary: step past it */
        while (k < g->kmax && g->o + (k + 0.5) * g->s <= u)
            k++;
        double nb = k < g->kmax ? g->o + (k + 0.5) * g->s : b;
        double u1 = nb < b ? nb : b;
        total += piece(u, u1, g->o + k * g->s, emd);
        u = u1;
        k++;
    }
    return total * count / (b - a);
}

static double hist_error(const hist_view *v, const grid *g, int emd) {
    double e = 0;
    for (int32_t i = v->first; i <= v->last; i++) {
        if (!v->h[i]) continue;
        double a, b;
        bin_edges(v, i, &a, &b);
        e += bin_error(a, b, (double)v->h[i], g, emd);
    }
    return e;
}

/* Symmetric: candidates at the |x| histogram's bin edges, capped at abs-max. */
static double search_symmetric(const ac_calib_stats *s, int emd) {
    hist_view v = view_abs(s);
    if (v.last < 0 || !(s->amax > 0)) return 0;
    double best_t = s->amax, best = INFINITY;
    for (int32_t i = 1; i <= v.last + 1; i++) {
        double t = i * v.w;
        if (t > s->amax) t = s->amax;
        grid g = {.o = 0, .s = t / 127, .kmax = 127};
        double err = hist_error(&v, &g, emd);
        if (err <= best) { /* ties: the larger threshold clips less */
            best = err;
            best_t = t;
        }
    }
    return best_t;
}

/* Asymmetric: the observed range (with 0) shrunk by t = j / J, 255 levels. */
static void search_asymmetric(const ac_calib_stats *s, int emd, double *lo, double *hi) {
    double l0 = s->min < 0 ? s->min : 0, h0 = s->max > 0 ? s->max : 0;
    *lo = l0;
    *hi = h0;
    hist_view v = view_signed(s);
    if (v.last < 0 || !(h0 > l0)) return;
    int32_t J = s->nbins / 2;
    double best = INFINITY;
    for (int32_t j = 1; j <= J; j++) {
        double t = (double)j / J;
        grid g = {.o = t * l0, .s = t * (h0 - l0) / 255, .kmax = 255};
        double err = hist_error(&v, &g, emd);
        if (err <= best) {
            best = err;
            *lo = t * l0;
            *hi = t * h0;
        }
    }
}

/* ---- KL (TensorRT entropy calibration) ---------------------------------------------------- */

#define KL_LEVELS 128
#define KL_EPS 1e-4
/* KL never clips more than this share of the values (see kl_threshold) */
#define KL_MAX_CLIPPED 0.01

/* MXNet's _smooth_distribution: eps to the zeros, taken proportionally from the nonzeros.
 * Returns 0 when that would leave a nonpositive entry (the candidate is then skipped). */
static int smooth(double *p, int32_t n) {
    int32_t zeros = 0;
    for (int32_t i = 0; i < n; i++)
        zeros += p[i] == 0;
    if (zeros == n) return 0;
    double eps1 = KL_EPS * zeros / (n - zeros);
    for (int32_t i = 0; i < n; i++) {
        p[i] = p[i] == 0 ? KL_EPS : p[i] - eps1;
        if (!(p[i] > 0)) return 0;
    }
    return 1;
}

static double kl_divergence(const double *p, const double *q, int32_t n) {
    double sp = 0, sq = 0, kl = 0;
    for (int32_t i = 0; i < n; i++) {
        sp += p[i];
        sq += q[i];
    }
    for (int32_t i = 0; i < n; i++) {
        double a = p[i] / sp, b = q[i] / sq;
        kl += a * log(a / b);
    }
    return kl;
}

static ac_status kl_threshold(const ac_calib_stats *s, double *out, ac_diag *d) {
    hist_view v = view_abs(s);
    *out = s->amax;
    int32_t n = v.last + 1;
    if (n <= KL_LEVELS) return AC_OK; /* too few bins to clip anything */
    double *h = ac_malloc_array((size_t)n, sizeof *h);
    double *p = ac_malloc_array((size_t)n, sizeof *p), *q = ac_malloc_array((size_t)n, sizeof *q);
    if (!h || !p || !q) {
        ac_free(h);
        ac_free(p);
        ac_free(q);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory in KL calibration");
    }
    for (int32_t k = 0; k < n; k++)
        h[k] = (double)v.h[k];
    /* The smallest candidate clips at most KL_MAX_CLIPPED of the values. KL compares the
     * shapes of P and Q only: when nearly all the mass sits above a candidate (a distribution
     * away from 0, as a squeeze-and-excitation gate's HardSigmoid output of about 0.45 to
     * 0.53), P and Q both collapse into their last bin, their divergence is 0, and every value
     * would be clipped to the distribution's bottom (MobileNetV3 INT8 output SQNR 10 dB). On
     * the shared trained models KL's choice never clips that much, so they do not move. */
    double total = 0, above = 0;
    for (int32_t k = 0; k < n; k++)
        total += h[k];
    int32_t first = n;
    while (first > KL_LEVELS && above + h[first - 1] <= KL_MAX_CLIPPED * total)
        above += h[--first];
    /* The first bin holds every exact zero: after a ReLU that is often half the values. Left
     * as is, spreading it over its 128-level group costs so much that the smallest candidate
     * always wins and the range collapses (ResNet-20 INT8 top-1 fell from 0.85 to 0.25).
     * TensorRT's entropy calibrator (as NVIDIA's pytorch-quantization reproduces it) replaces
     * it by its neighbour's count; so do we. */
    h[0] = h[1];
    double outliers = 0;
    for (int32_t k = first; k < n; k++)
        outliers += h[k];
    double best = INFINITY;
    int32_t best_i = n;
    for (int32_t i = first; i <= n; i++) {
        /* P: bins [0, i) with everything above folded into the last one */
        for (int32_t k = 0; k < i; k++)
            p[k] = h[k];
        p[i - 1] += outliers;
        if (i < n) outliers -= h[i];
        /* Q: bins [0, i) WITHOUT the outliers merged into 128 levels, spread back evenly over
         * P's nonzero bins. Leaving the outliers out of Q is what makes clipping cost
         * something (with them, i = 128 would give Q == P and always win); this is the
         * reference implementation's choice (MXNet / TensorRT's calibrator). */
        int32_t merged = i / KL_LEVELS;
        for (int32_t j = 0; j < KL_LEVELS; j++) {
            int32_t a = j * merged, b = j == KL_LEVELS - 1 ? i : a + merged;
            double sum = 0;
            int32_t nz = 0;
            for (int32_t k = a; k < b; k++) {
                sum += h[k];
                nz += p[k] != 0;
            }
            for (int32_t k = a; k < b; k++)
                q[k] = p[k] != 0 ? sum / nz : 0;
        }
        if (!smooth(p, i) || !smooth(q, i)) continue;
        double kl = kl_divergence(p, q, i);
        if (kl <= best) { /* ties: the larger threshold (a constant tensor keeps its value) */
            best = kl;
            best_i = i;
        }
    }
    ac_free(h);
    ac_free(p);
    ac_free(q);
    double t = best_i * v.w;
    *out = t < s->amax ? t : s->amax;
    return AC_OK;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static float clampf(double x, double lo, double hi) {
    return (float)(x < lo ? lo : x > hi ? hi : x);
}

ac_status ac_calib_compute_range(const ac_calib_stats *s, ac_calib_method m,
                                 const ac_calib_method_opts *o, ac_calib_range *out, ac_diag *d) {
    if (!s || !out) return AC_FAIL(d, AC_ERR_ARG, "ac_calib_compute_range: NULL argument");
    double p = o && o->hist_percent != 0 ? o->hist_percent : 0.9999;
    if (!(p > 0 && p <= 1)) return AC_FAIL(d, AC_ERR_ARG, "hist_percent %g must be in (0, 1]", p);
    ac_calib_range r = {.min = s->min, .max = s->max, .amax = s->amax};
    double a = s->amax, lo, hi;
    switch (m) {
    case AC_CALIB_ABS_MAX:
    case AC_CALIB_MIN_MAX:
        break;
    case AC_CALIB_AVG:
        a = s->avg < s->amax ? s->avg : s->amax;
        break;
    case AC_CALIB_HIST: {
        hist_view va = view_abs(s), vs = view_signed(s);
        a = quantile(&va, p);
        r.min = clampf(quantile(&vs, 1 - p), s->min, s->max);
        r.max = clampf(quantile(&vs, p), r.min, s->max);
        r.amax = clampf(a, 0, s->amax);
        *out = r;
        return AC_OK;
    }
    case AC_CALIB_KL:
        AC_TRY(kl_threshold(s, &a, d));
        break;
    case AC_CALIB_MSE:
    case AC_CALIB_EMD: {
        int emd = m == AC_CALIB_EMD;
        a = search_symmetric(s, emd);
        search_asymmetric(s, emd, &lo, &hi);
        r.amax = clampf(a, 0, s->amax);
        r.min = (float)lo;
        r.max = (float)hi;
        if (r.min > r.max) r.min = r.max;
        *out = r;
        return AC_OK;
    }
    default:
        return AC_FAIL(d, AC_ERR_ARG, "unknown calibration method %d", (int)m);
    }
    r.amax = clampf(a, 0, s->amax);
    if (m == AC_CALIB_AVG || m == AC_CALIB_KL) {
        /* the symmetric threshold clips both ends of the asymmetric range */
        r.min = clampf(s->min, -(double)r.amax, s->max);
        r.max = clampf(s->max, r.min, r.amax);
    }
    *out = r;
    return AC_OK;
}

ac_status ac_calib_range_of(const ac_calib *c, const char *name, ac_calib_method m,
                            const ac_calib_method_opts *o, ac_calib_range *out, ac_diag *d) {
    ac_calib_stats s;
    AC_TRY(ac_calib_find(c, name, &s, d));
    ac_status st = ac_calib_compute_range(&s, m, o, out, d);
    if (st != AC_OK) ac_diag_where(d, "tensor \"%s\"", name);
    return st;
}

/* ---- scale / zero point ------------------------------------------------------------------- */

static double round_half_even(double z) {
    double f = floor(z), diff = z - f;
    if (diff > 0.5) return f + 1;
    if (diff < 0.5) return f;
    return fmod(f, 2) == 0 ? f : f + 1;
}

ac_calib_qparams ac_calib_scale_zp_s8(const ac_calib_range *r) {
    ac_calib_qparams q = {.scale = 1.0f, .zero_point = 0};
    double a = r ? r->amax : 0;
    if (!(a > 0) || !isfinite(a)) return q;
    q.scale = (float)(a / 127);
    if (!(q.scale >= FLT_MIN)) q.scale = FLT_MIN;
    return q;
}

ac_calib_qparams ac_calib_scale_zp_u8(const ac_calib_range *r) {
    ac_calib_qparams q = {.scale = 1.0f, .zero_point = 0};
    if (!r || !isfinite(r->min) || !isfinite(r->max)) return q;
    double lo = r->min < 0 ? r->min : 0, hi = r->max > 0 ? r->max : 0;
    if (!(hi > lo)) return q;
    q.scale = (float)((hi - lo) / 255);
    if (!(q.scale >= FLT_MIN)) q.scale = FLT_MIN;
    double z = round_half_even(-lo / q.scale);
    q.zero_point = (int32_t)(z < 0 ? 0 : z > 255 ? 255 : z);
    return q;
}
