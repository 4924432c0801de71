/* SPDX-License-Identifier: MIT */
/* Reference Resize / Upsample: nearest, N-D multilinear and N-D cubic, every coordinate
 * transformation mode. Interpolation is separable, so prepare builds per axis and per output
 * coordinate a small tap table (input offsets and weights, at most 4 taps; zero-weight taps are
 * dropped, which makes untouched axes such as N and C cost nothing); run then sums the product
 * of the tables over every tap combination. This equals ONNX's reference, which interpolates
 * axis by axis, including tf_crop_and_resize's extrapolation (any axis out of range gives the
 * extrapolation value, since interpolation weights sum to 1). Coordinates are computed in
 * double like the reference (numpy float64), which decides the ties of nearest modes. */
#include "../../ops/pool.h"

#include <math.h>
#include <string.h>

#define TAPS 4

typedef struct rs_state {
    int32_t rank;
    int64_t out[AC_MAX_RANK];
    int64_t *off[AC_MAX_RANK]; /* [out[a] * TAPS] input offsets (index * input stride) */
    double *w[AC_MAX_RANK];    /* [out[a] * TAPS] weights */
    uint8_t *nt[AC_MAX_RANK];  /* [out[a]] taps used */
    uint8_t *ext[AC_MAX_RANK]; /* [out[a]] 1: outside the crop, write extrapolation_value */
} rs_state;

/* Output coordinate x -> input coordinate along an axis of input length L and output length
 * out. Like ONNX's reference, align_corners and pytorch_half_pixel use the unrounded output
 * length scale * L (they differ from `out` when scales, not sizes, were given). */
static double orig_coord(const rt_resize_params *rp, int32_t a, double x, int64_t L,
                         int64_t out) {
    double s = rp->scale[a], ow = s * (double)L;
    switch (rp->ctm) {
    case RT_RS_HALF_PIXEL: return (x + 0.5) / s - 0.5;
    case RT_RS_HALF_PIXEL_SYMMETRIC: {
        double adj = (double)out / ow, center = (double)L / 2.0;
        return center * (1.0 - adj) + (x + 0.5) / s - 0.5;
    }
    case RT_RS_PYTORCH_HALF_PIXEL: return ow > 1.0 ? (x + 0.5) / s - 0.5 : 0.0;
    case RT_RS_ALIGN_CORNERS: return ow == 1.0 ? 0.0 : x * (double)(L - 1) / (ow - 1.0);
    case RT_RS_ASYMMETRIC: return x / s;
    case RT_RS_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / s;
    case RT_RS_TF_CROP_AND_RESIZE: {
        double st = rp->roi_start[a], en = rp->roi_end[a];
        if (out > 1) return st * (double)(L - 1) + x * (en - st) * (double)(L - 1) / (double)(out - 1);
        return 0.5 * (st + en) * (double)(L - 1);
    }
    }
    return x / s;
}

static void cubic_coeffs(double r, double A, double *c) {
    double t = r + 1.0, u = 1.0 - r, v = 2.0 - r;
    c[0] = ((A * t - 5.0 * A) * t + 8.0 * A) * t - 4.0 * A;
    c[1] = ((A + 2.0) * r - (A + 3.0)) * r * r + 1.0;
    c[2] = ((A + 2.0) * u - (A + 3.0)) * u * u + 1.0;
    c[3] = ((A * v - 5.0 * A) * v + 8.0 * A) * v - 4.0 * A;
}

static int64_t clampi(int64_t i, int64_t L) { return i < 0 ? 0 : (i >= L ? L - 1 : i); }

/* Taps of one output coordinate: returns the count, fills idx (unclamped) and w. */
static int coord_taps(const rt_resize_params *rp, double xo, int64_t L, int64_t *idx,
                      double *w) {
    double f = floor(xo), r = xo - f;
    int64_t fi = (int64_t)f;
    switch (rp->mode) {
    case RT_RS_NEAREST: {
        int up;
        switch (rp->nearest) {
        case RT_RS_ROUND_PREFER_FLOOR: up = r > 0.5; break;
        case RT_RS_ROUND_PREFER_CEIL: up = r >= 0.5; break;
        case RT_RS_FLOOR: up = 0; break;
        default: up = r > 0.0; break;
        }
        idx[0] = fi + up;
        w[0] = 1.0;
        return 1;
    }
    case RT_RS_LINEAR:
        idx[0] = fi;
        idx[1] = fi + 1;
        w[0] = 1.0 - r;
        w[1] = r;
        return 2;
    default: {
        cubic_coeffs(r, rp->cubic_a, w);
        double sum = 0.0;
        for (int t = 0; t < 4; t++) {
            idx[t] = fi - 1 + t;
            /* exclude_outside: taps outside the input get weight 0, the rest renormalised */
            if (rp->exclude_outside && (idx[t] < 0 || idx[t] >= L)) w[t] = 0.0;
            sum += w[t];
        }
        if (rp->exclude_outside && sum != 0.0)
            for (int t = 0; t < 4; t++) w[t] /= sum;
        return 4;
    }
    }
}

/* ---- ORT's float bilinear (4-D, N and C not resized) ----------------------------------------
 * A QDQ model quantizes what Resize makes, and a bilinear output of dequantized codes often
 * lies on a rounding tie of the next QuantizeLinear (0.75 a + 0.25 b of two codes with the same
 * scale is a quarter step), so the last bit decides the code. ONNX Runtime (cpu/tensor/
 * upsample.cc: SetupUpsampleBilinear, UpsampleBilinear and NhwcUpsampleBilinear, the same
 * per-element arithmetic) works in float: coordinates in float, dy1 = |y - y1|, dy2 = |y - y2|
 * (both 0.5 where y1 == y2 at the border), and
 *     y = (dx2 dy2) X11 + (dx1 dy2) X21 + (dx2 dy1) X12 + (dx1 dy1) X22
 * summed left to right. We compute exactly that for this common case (FP32 results move by
 * an ulp at most against the double-precision path). */
typedef struct bl_state {
    int64_t *y1, *y2, *x1, *x2; /* input row offsets, input columns */
    float *dy1, *dy2, *dx1, *dx2;
} bl_state;

static float ort_coord(const rt_resize_params *rp, float x, float scale, float out, float L) {
    switch (rp->ctm) {
    case RT_RS_ASYMMETRIC: return x / scale;
    case RT_RS_PYTORCH_HALF_PIXEL: return out > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
    case RT_RS_TF_HALF_PIXEL_FOR_NN: return (x + 0.5f) / scale;
    case RT_RS_ALIGN_CORNERS: return out == 1 ? 0.0f : x * (L - 1) / (out - 1);
    default: return ((x + 0.5f) / scale) - 0.5f; /* half_pixel */
    }
}

static int bl_axis(rt_plan *p, const rt_resize_params *rp, int32_t a, int64_t L, int64_t out,
                   int64_t stride, int64_t **i1, int64_t **i2, float **d1, float **d2) {
    *i1 = rt_plan_alloc(p, (size_t)(out + 1) * sizeof **i1);
    *i2 = rt_plan_alloc(p, (size_t)(out + 1) * sizeof **i2);
    *d1 = rt_plan_alloc(p, (size_t)(out + 1) * sizeof **d1);
    *d2 = rt_plan_alloc(p, (size_t)(out + 1) * sizeof **d2);
    if (!*i1 || !*i2 || !*d1 || !*d2) return 0;
    float scale = (float)rp->scale[a];
    for (int64_t o = 0; o < out; o++) {
        float v = scale == 1.0f ? (float)o : ort_coord(rp, (float)o, scale, (float)out, (float)L);
        v = fmaxf(0.0f, fminf(v, (float)(L - 1)));
        int64_t a1 = (int64_t)v < L - 1 ? (int64_t)v : L - 1, a2 = a1 + 1 < L - 1 ? a1 + 1 : L - 1;
        (*d1)[o] = fabsf(v - (float)a1);
        (*d2)[o] = fabsf(v - (float)a2);
        if (a1 == a2) (*d1)[o] = (*d2)[o] = 0.5f;
        (*i1)[o] = a1 * stride;
        (*i2)[o] = a2 * stride;
    }
    return 1;
}

static int bl_applies(const rt_node *n) {
    const rt_resize_params *rp = n->params;
    const rt_tensor *x = n->in[0], *y = n->out[0];
    return rp->mode == RT_RS_LINEAR && rp->rank == 4 && x->dims[0] == y->dims[0] &&
           x->dims[1] == y->dims[1] && rp->scale[0] == 1.0 && rp->scale[1] == 1.0 &&
           rp->ctm != RT_RS_TF_CROP_AND_RESIZE && rp->ctm != RT_RS_HALF_PIXEL_SYMMETRIC &&
           x->dims[2] > 0 && x->dims[3] > 0 &&
           /* ORT's align_corners / pytorch_half_pixel use the output length where ONNX uses
            * scale * L; keep ONNX's where they differ (scales that do not divide evenly) */
           ((rp->ctm != RT_RS_ALIGN_CORNERS && rp->ctm != RT_RS_PYTORCH_HALF_PIXEL) ||
            (rp->scale[2] * (double)x->dims[2] == (double)y->dims[2] &&
             rp->scale[3] * (double)x->dims[3] == (double)y->dims[3]));
}

static ac_status prepare_bilinear(rt_plan *p, rt_node *n, ac_diag *d) {
    const rt_resize_params *rp = n->params;
    const rt_tensor *x = n->in[0], *y = n->out[0];
    bl_state *st = rt_plan_alloc(p, sizeof *st);
    if (!st || !bl_axis(p, rp, 2, x->dims[2], y->dims[2], x->dims[3], &st->y1, &st->y2, &st->dy1,
                        &st->dy2) ||
        !bl_axis(p, rp, 3, x->dims[3], y->dims[3], 1, &st->x1, &st->x2, &st->dx1, &st->dx2))
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->kstate = st;
    return AC_OK;
}

typedef struct bl_job {
    const rt_node *n;
    const bl_state *st;
} bl_job;

static void bl_task(void *user, int64_t plane, int32_t thread) {
    (void)thread;
    const bl_job *j = user;
    const bl_state *st = j->st;
    const rt_tensor *xt = j->n->in[0], *yt = j->n->out[0];
    int64_t H = yt->dims[2], W = yt->dims[3];
    const float *X = (const float *)xt->data + plane * xt->dims[2] * xt->dims[3];
    float *Y = (float *)yt->data + plane * H * W;
    for (int64_t yo = 0; yo < H; yo++) {
        const float *r1 = X + st->y1[yo], *r2 = X + st->y2[yo];
        float dy1 = st->dy1[yo], dy2 = st->dy2[yo];
        for (int64_t xo = 0; xo < W; xo++) {
            float c11 = st->dx2[xo] * dy2, c21 = st->dx1[xo] * dy2;
            float c12 = st->dx2[xo] * dy1, c22 = st->dx1[xo] * dy1;
            float v = c11 * r1[st->x1[xo]];
            v += c21 * r1[st->x2[xo]];
            v += c12 * r2[st->x1[xo]];
            v += c22 * r2[st->x2[xo]];
            Y[yo * W + xo] = v;
        }
    }
}

static ac_status prepare_resize(rt_plan *p, rt_node *n, ac_diag *d) {
    if (bl_applies(n)) return prepare_bilinear(p, n, d);
    const rt_resize_params *rp = n->params;
    const rt_tensor *x = n->in[0], *y = n->out[0];
    rs_state *st = rt_plan_alloc(p, sizeof *st);
    if (!st) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    st->rank = rp->rank;
    int64_t stride = 1;
    for (int32_t a = rp->rank - 1; a >= 0; a--) {
        int64_t L = x->dims[a], out = y->dims[a];
        st->out[a] = out;
        st->off[a] = rt_plan_alloc(p, (size_t)(out * TAPS + 1) * sizeof(int64_t));
        st->w[a] = rt_plan_alloc(p, (size_t)(out * TAPS + 1) * sizeof(double));
        st->nt[a] = rt_plan_alloc(p, (size_t)out + 1);
        st->ext[a] = rt_plan_alloc(p, (size_t)out + 1);
        if (!st->off[a] || !st->w[a] || !st->nt[a] || !st->ext[a])
            return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (int64_t o = 0; o < out && L > 0; o++) {
            double xo = orig_coord(rp, a, (double)o, L, out);
            if (rp->ctm == RT_RS_TF_CROP_AND_RESIZE && (xo < 0.0 || xo > (double)(L - 1)))
                st->ext[a][o] = 1;
            int64_t idx[TAPS];
            double w[TAPS];
            int k = coord_taps(rp, xo, L, idx, w), m = 0;
            for (int t = 0; t < k; t++) {
                if (w[t] == 0.0) continue; /* no contribution (see the file comment) */
                st->off[a][o * TAPS + m] = clampi(idx[t], L) * stride;
                st->w[a][o * TAPS + m] = w[t];
                m++;
            }
            if (m == 0) { /* all weights cancelled: keep one tap of weight 0 */
                st->off[a][o * TAPS] = clampi(idx[0], L) * stride;
                m = 1;
            }
            st->nt[a][o] = (uint8_t)m;
        }
        stride *= L;
    }
    n->kstate = st;
    return AC_OK;
}

typedef struct rs_job {
    const rt_node *n;
    const rs_state *st;
    int64_t rows, per, inner;
} rs_job;

static void rs_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const rs_job *j = user;
    const rs_state *st = j->st;
    const rt_resize_params *rp = j->n->params;
    const float *X = j->n->in[0]->data;
    float *Y = j->n->out[0]->data;
    int32_t r = st->rank;
    int64_t r0 = task * j->per, r1 = r0 + j->per;
    if (r1 > j->rows) r1 = j->rows;
    for (int64_t row = r0; row < r1; row++) {
        int64_t o[AC_MAX_RANK], rem = row;
        for (int32_t a = r - 2; a >= 0; a--) {
            o[a] = rem % st->out[a];
            rem /= st->out[a];
        }
        for (int64_t e = 0; e < j->inner; e++) {
            o[r - 1] = e;
            int nt[AC_MAX_RANK], c[AC_MAX_RANK], ext = 0;
            const int64_t *off[AC_MAX_RANK];
            const double *w[AC_MAX_RANK];
            for (int32_t a = 0; a < r; a++) {
                ext |= st->ext[a][o[a]];
                nt[a] = st->nt[a][o[a]];
                off[a] = st->off[a] + o[a] * TAPS;
                w[a] = st->w[a] + o[a] * TAPS;
                c[a] = 0;
            }
            if (ext) {
                Y[row * j->inner + e] = rp->extrapolation;
                continue;
            }
            double sum = 0.0;
            for (;;) {
                double wp = 1.0;
                int64_t ofs = 0;
                for (int32_t a = 0; a < r; a++) {
                    wp *= w[a][c[a]];
                    ofs += off[a][c[a]];
                }
                sum += wp * (double)X[ofs];
                int32_t a = r - 1;
                while (a >= 0 && ++c[a] == nt[a]) c[a--] = 0;
                if (a < 0) break;
            }
            Y[row * j->inner + e] = (float)sum;
        }
    }
}

static void run_resize(const rt_node *n, const rt_ctx *x) {
    const rt_tensor *y = n->out[0];
    if (y->numel == 0 || n->in[0]->numel == 0) return;
    if (bl_applies(n)) {
        bl_job b = {n, n->kstate};
        rt_parallel_for(x, y->dims[0] * y->dims[1], bl_task, &b);
        return;
    }
    rs_job j = {n, n->kstate, 0, 0, y->dims[y->rank - 1]};
    j.rows = y->numel / j.inner;
    j.per = (1 << 14) / j.inner;
    if (j.per < 1) j.per = 1;
    rt_parallel_for(x, (j.rows + j.per - 1) / j.per, rs_task, &j);
}

static int score_resize(const rt_node *n) { return n->op->infer == rt_infer_resize; }

const rt_kernel rt_k_resize_ref = {"resize_ref", "*", AC_ISA_REF, score_resize, prepare_resize,
                                   run_resize};
