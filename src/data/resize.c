/* SPDX-License-Identifier: MIT */
/* cv2.resize, reproduced from OpenCV 4.x imgproc/src/resize.cpp (the generic separable path,
 * resizeNN, resizeArea and resizeAreaFast), so preprocessing matches what Paddle's Python
 * pipelines produce with cv2:
 *
 *  - coordinates: src = (dst + 0.5) * scale - 0.5 computed in double, cast to float, floored;
 *    scale = 1 / inv_scale where inv_scale is dsize / ssize (or fx/fy when given);
 *  - uint8: coefficients are float weights times 2048 rounded half-to-even to int16
 *    (INTER_RESIZE_COEF_BITS = 11); the horizontal pass is exact integer arithmetic; the
 *    vertical pass has two arithmetics in OpenCV and we follow both: the universal-intrinsic
 *    path (128-bit, the x86-64 baseline of the opencv-python wheels) for the first elements of
 *    each row, ((S0 >> 4) * b0 >> 16) + ((S1 >> 4) * b1 >> 16), rounded >> 2, and the scalar
 *    tail (S0 * b0 + S1 * b1 + 2^21) >> 22. They differ by one in some pixels, hence the care;
 *  - INTER_LINEAR at exactly 1/2 on both axes is INTER_AREA (OpenCV switches silently);
 *  - INTER_AREA: integer factors average blocks (2x2 rounds (sum + 2) >> 2, as its SIMD code),
 *    other down-scales use OpenCV's fractional area tables in float, up-scales a bilinear
 *    variant with OpenCV's area coefficients.
 * Float images use the same coordinates with float weights (OpenCV's CV_32F path). */
#include "autocompress/ac_data.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define COEF_BITS 11
#define COEF_SCALE (1 << COEF_BITS)
/* lanes of OpenCV's v_uint8 / v_int16 in the build whose output we match (SSE2 baseline) */
#define CV_U8_LANES 16
#define CV_S16_LANES 8

static inline int32_t clampi(int32_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}
static inline uint8_t sat_u8(int32_t v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }
/* saturate_cast<short>(float): cvRound (half to even) then clamp */
static inline int16_t sat_s16f(float v) {
    long r = lrintf(v);
    return (int16_t)(r < -32768 ? -32768 : r > 32767 ? 32767 : r);
}
static inline uint8_t sat_u8f(float v) {
    long r = lrintf(v);
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

/* Per-axis source index and weights of each destination index (OpenCV's xofs/alpha and
 * yofs/beta). `clamp_edges`: the x axis clamps out-of-range linear taps and records xmax (the
 * first dx whose second tap would fall outside); the y axis only clips rows later. */
static void axis_coeffs(int32_t ssz, int32_t dsz, double scale, double inv_scale, int area_mode,
                        int ksize, int clamp_edges, int32_t *ofs, float *cb, int32_t *xmax) {
    int32_t lim = dsz;
    for (int32_t dx = 0; dx < dsz; dx++) {
        float f;
        int32_t s;
        if (!area_mode) {
            f = (float)((dx + 0.5) * scale - 0.5);
            s = (int32_t)floorf(f);
            f -= (float)s;
        } else {
            s = (int32_t)floor(dx * scale);
            f = (float)((dx + 1) - (s + 1) * inv_scale);
            f = f <= 0 ? 0.f : f - floorf(f);
        }
        if (clamp_edges) {
            int k2 = ksize / 2;
            if (s < k2 - 1 && s < 0 && ksize == 2) f = 0, s = 0;
            if (s + k2 >= ssz) {
                if (dx < lim) lim = dx;
                if (s >= ssz - 1 && ksize == 2) f = 0, s = ssz - 1;
            }
        }
        ofs[dx] = s;
        float *c = cb + (size_t)dx * ksize;
        if (ksize == 4) {
            const float A = -0.75f;
            c[0] = ((A * (f + 1) - 5 * A) * (f + 1) + 8 * A) * (f + 1) - 4 * A;
            c[1] = ((A + 2) * f - (A + 3)) * f * f + 1;
            c[2] = ((A + 2) * (1 - f) - (A + 3)) * (1 - f) * (1 - f) + 1;
            c[3] = 1.f - c[0] - c[1] - c[2];
        } else {
            c[0] = 1.f - f;
            c[1] = f;
        }
    }
    if (xmax) *xmax = lim;
}

typedef struct sep_ctx {
    int32_t sw, sh, cn, dw, dh, ksize, xmax;
    int32_t *xofs, *yofs;
    float *ax, *ay;     /* float weights */
    int16_t *iax, *iay; /* fixed-point weights (uint8) */
} sep_ctx;

/* Horizontal pass of one source row into `out` (dw*cn values). */
static void hpass_u8(const sep_ctx *c, const uint8_t *S, int32_t *out) {
    int32_t cn = c->cn, sw = c->sw;
    for (int32_t dx = 0; dx < c->dw; dx++) {
        int32_t sx = c->xofs[dx];
        const int16_t *a = c->iax + (size_t)dx * c->ksize;
        for (int32_t k = 0; k < cn; k++) {
            int32_t v;
            if (c->ksize == 2) {
                v = dx < c->xmax ? S[sx * cn + k] * a[0] + S[(sx + 1) * cn + k] * a[1]
                                 : S[sx * cn + k] * COEF_SCALE;
            } else {
                v = 0;
                for (int j = 0; j < 4; j++) v += S[clampi(sx - 1 + j, 0, sw - 1) * cn + k] * a[j];
            }
            out[dx * cn + k] = v;
        }
    }
}

static void hpass_f32(const sep_ctx *c, const float *S, float *out) {
    int32_t cn = c->cn, sw = c->sw;
    for (int32_t dx = 0; dx < c->dw; dx++) {
        int32_t sx = c->xofs[dx];
        const float *a = c->ax + (size_t)dx * c->ksize;
        for (int32_t k = 0; k < cn; k++) {
            float v;
            if (c->ksize == 2) {
                v = dx < c->xmax ? S[sx * cn + k] * a[0] + S[(sx + 1) * cn + k] * a[1]
                                 : S[sx * cn + k];
            } else {
                v = 0;
                for (int j = 0; j < 4; j++) v += S[clampi(sx - 1 + j, 0, sw - 1) * cn + k] * a[j];
            }
            out[dx * cn + k] = v;
        }
    }
}

/* Where OpenCV's vector loop stops for a row of `width` elements. */
static int32_t simd_end_linear(int32_t width) {
    int32_t x = width / CV_U8_LANES * CV_U8_LANES;
    while (x < width - CV_S16_LANES) x += CV_S16_LANES;
    return x;
}

static void vpass_u8(const sep_ctx *c, int32_t *const *R, const int16_t *b, uint8_t *dst) {
    int32_t width = c->dw * c->cn;
    if (c->ksize == 2) {
        int32_t xv = simd_end_linear(width);
        const int32_t *S0 = R[0], *S1 = R[1];
        for (int32_t x = 0; x < xv; x++) {
            int32_t t = (((S0[x] >> 4) * b[0]) >> 16) + (((S1[x] >> 4) * b[1]) >> 16);
            dst[x] = sat_u8((t + 2) >> 2);
        }
        for (int32_t x = xv; x < width; x++)
            dst[x] = sat_u8((S0[x] * b[0] + S1[x] * b[1] + (1 << 21)) >> 22);
    } else {
        int32_t xv = width / CV_S16_LANES * CV_S16_LANES;
        const float sc = 1.f / (COEF_SCALE * COEF_SCALE);
        float fb[4];
        for (int k = 0; k < 4; k++) fb[k] = b[k] * sc;
        for (int32_t x = 0; x < xv; x++) {
            float v = (float)R[0][x] * fb[0] +
                      ((float)R[1][x] * fb[1] + ((float)R[2][x] * fb[2] + (float)R[3][x] * fb[3]));
            long r = lrintf(v);
            dst[x] = sat_u8((int32_t)(r < -32768 ? -32768 : r > 32767 ? 32767 : r));
        }
        for (int32_t x = xv; x < width; x++) {
            int64_t v = (int64_t)R[0][x] * b[0] + (int64_t)R[1][x] * b[1] +
                        (int64_t)R[2][x] * b[2] + (int64_t)R[3][x] * b[3];
            dst[x] = sat_u8((int32_t)((v + (1 << 21)) >> 22));
        }
    }
}

static void vpass_f32(const sep_ctx *c, float *const *R, const float *b, float *dst) {
    int32_t width = c->dw * c->cn;
    if (c->ksize == 2) {
        for (int32_t x = 0; x < width; x++) dst[x] = R[0][x] * b[0] + R[1][x] * b[1];
    } else {
        for (int32_t x = 0; x < width; x++)
            dst[x] = R[0][x] * b[0] + (R[1][x] * b[1] + (R[2][x] * b[2] + R[3][x] * b[3]));
    }
}

/* The generic separable resize (linear, cubic, area up-scale) for u8 (is_u8) or f32. */
static ac_status resize_sep(const void *src, void *dst, const sep_ctx *geo, double sx, double sy,
                            double isx, double isy, int area_mode, int is_u8, ac_diag *d) {
    sep_ctx c = *geo;
    int ks = c.ksize;
    size_t rown = (size_t)c.dw * (size_t)c.cn;
    size_t esz = is_u8 ? sizeof(int32_t) : sizeof(float);
    c.xofs = ac_malloc_array((size_t)c.dw + (size_t)c.dh, sizeof(int32_t));
    c.ax = ac_malloc_array(((size_t)c.dw + (size_t)c.dh) * (size_t)ks, sizeof(float));
    c.iax = ac_malloc_array(((size_t)c.dw + (size_t)c.dh) * (size_t)ks, sizeof(int16_t));
    void *rowbuf = ac_malloc_array(rown * (size_t)ks, esz);
    ac_status s = AC_OK;
    if (!c.xofs || !c.ax || !c.iax || !rowbuf) {
        s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory for resize tables");
        goto out;
    }
    c.yofs = c.xofs + c.dw;
    c.ay = c.ax + (size_t)c.dw * ks;
    c.iay = c.iax + (size_t)c.dw * ks;
    axis_coeffs(c.sw, c.dw, sx, isx, area_mode, ks, 1, c.xofs, c.ax, &c.xmax);
    axis_coeffs(c.sh, c.dh, sy, isy, area_mode, ks, 0, c.yofs, c.ay, NULL);
    for (size_t i = 0; i < ((size_t)c.dw + (size_t)c.dh) * (size_t)ks; i++)
        c.iax[i] = sat_s16f(c.ax[i] * (float)COEF_SCALE);

    /* ring of ks horizontally-resized rows, keyed by source row, reused across dst rows */
    void *rows[4];
    int32_t have[4];
    for (int k = 0; k < ks; k++) {
        rows[k] = (char *)rowbuf + (size_t)k * rown * esz;
        have[k] = -1;
    }
    size_t sstride = (size_t)c.sw * (size_t)c.cn;
    for (int32_t dy = 0; dy < c.dh; dy++) {
        void *use[4] = {0};
        int32_t need[4];
        int taken[4] = {0};
        for (int k = 0; k < ks; k++) need[k] = clampi(c.yofs[dy] - ks / 2 + 1 + k, 0, c.sh - 1);
        for (int k = 0; k < ks; k++)
            for (int j = 0; j < ks; j++)
                if (!taken[j] && have[j] == need[k]) {
                    use[k] = rows[j];
                    taken[j] = 1;
                    break;
                }
        /* slots not reused are recomputed (duplicated rows at the edges are recomputed too,
         * which is cheap and keeps the bookkeeping trivial) */
        for (int k = 0; k < ks; k++) {
            if (use[k]) continue;
            for (int j = 0; j < ks; j++)
                if (!taken[j]) {
                    taken[j] = 1;
                    use[k] = rows[j];
                    if (is_u8)
                        hpass_u8(&c, (const uint8_t *)src + (size_t)need[k] * sstride, use[k]);
                    else
                        hpass_f32(&c, (const float *)src + (size_t)need[k] * sstride, use[k]);
                    break;
                }
        }
        for (int k = 0; k < ks; k++) {
            rows[k] = use[k];
            have[k] = need[k];
        }
        if (is_u8)
            vpass_u8(&c, (int32_t *const *)rows, c.iay + (size_t)dy * ks,
                     (uint8_t *)dst + (size_t)dy * rown);
        else
            vpass_f32(&c, (float *const *)rows, c.ay + (size_t)dy * ks,
                      (float *)dst + (size_t)dy * rown);
    }
out:
    ac_free(c.xofs);
    ac_free(c.ax);
    ac_free(c.iax);
    ac_free(rowbuf);
    return s;
}

static ac_status resize_nn(const void *src, void *dst, int32_t sw, int32_t sh, int32_t cn,
                           int32_t dw, int32_t dh, double isx, double isy, size_t esz,
                           ac_diag *d) {
    double ifx = 1. / isx, ify = 1. / isy;
    int32_t *xo = ac_malloc_array((size_t)dw, sizeof *xo);
    if (!xo) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for resize tables");
    for (int32_t x = 0; x < dw; x++) {
        int32_t sx = (int32_t)floor(x * ifx);
        xo[x] = sx < sw - 1 ? sx : sw - 1;
    }
    size_t pix = (size_t)cn * esz;
    for (int32_t y = 0; y < dh; y++) {
        int32_t sy = (int32_t)floor(y * ify);
        if (sy > sh - 1) sy = sh - 1;
        const char *S = (const char *)src + (size_t)sy * sw * pix;
        char *D = (char *)dst + (size_t)y * dw * pix;
        for (int32_t x = 0; x < dw; x++) memcpy(D + x * pix, S + xo[x] * pix, pix);
    }
    ac_free(xo);
    return AC_OK;
}

/* Integer-factor area averaging (resizeAreaFast_). */
static void area_fast(const void *src, void *dst, int32_t sw, int32_t sh, int32_t cn, int32_t dw,
                      int32_t dh, int32_t fx, int32_t fy, int is_u8) {
    int32_t area = fx * fy;
    float scale = 1.f / (float)area;
    int32_t dwidth1 = (sw / fx) * cn, width = dw * cn, swidth = sw * cn;
    int fast2 = is_u8 && fx == 2 && fy == 2 && (cn == 1 || cn == 3 || cn == 4);
    const uint8_t *su = src;
    const float *sf = src;
    for (int32_t dy = 0; dy < dh; dy++) {
        int32_t sy0 = dy * fy;
        int32_t w = sy0 + fy <= sh ? dwidth1 : 0;
        uint8_t *du = (uint8_t *)dst + (size_t)dy * width;
        float *df = (float *)dst + (size_t)dy * width;
        if (sy0 >= sh) {
            for (int32_t x = 0; x < width; x++) is_u8 ? (void)(du[x] = 0) : (void)(df[x] = 0);
            continue;
        }
        int32_t dx = 0;
        for (; dx < w; dx++) {
            int32_t px = dx / cn, k = dx % cn, sx0 = px * fx * cn + k;
            if (is_u8) {
                int32_t sum = 0;
                for (int32_t yy = 0; yy < fy; yy++)
                    for (int32_t xx = 0; xx < fx; xx++)
                        sum += su[(size_t)(sy0 + yy) * swidth + sx0 + xx * cn];
                du[dx] = fast2 ? (uint8_t)((sum + 2) >> 2) : sat_u8f((float)sum * scale);
            } else {
                float sum = 0;
                for (int32_t yy = 0; yy < fy; yy++)
                    for (int32_t xx = 0; xx < fx; xx++)
                        sum += sf[(size_t)(sy0 + yy) * swidth + sx0 + xx * cn];
                df[dx] = sum * scale;
            }
        }
        for (; dx < width; dx++) { /* partial blocks at the right/bottom edge */
            int32_t px = dx / cn, k = dx % cn, sx0 = px * fx * cn + k;
            float sum = 0;
            int32_t count = 0;
            for (int32_t yy = 0; yy < fy && sy0 + yy < sh; yy++)
                for (int32_t xx = 0; xx < fx * cn && sx0 + xx < swidth; xx += cn) {
                    size_t i = (size_t)(sy0 + yy) * swidth + sx0 + xx;
                    sum += is_u8 ? (float)su[i] : sf[i];
                    count++;
                }
            float v = count ? sum / (float)count : 0.f;
            if (is_u8)
                du[dx] = sat_u8f(v);
            else
                df[dx] = v;
        }
    }
}

typedef struct area_tab {
    int32_t di, si;
    float alpha;
} area_tab;

/* computeResizeAreaTab: source cells covered by each destination cell, with weights. */
static int32_t area_table(int32_t ssz, int32_t dsz, int32_t cn, double scale, area_tab *t) {
    int32_t k = 0;
    for (int32_t dx = 0; dx < dsz; dx++) {
        double f1 = dx * scale, f2 = f1 + scale;
        double cell = scale < ssz - f1 ? scale : ssz - f1;
        int32_t s1 = (int32_t)ceil(f1), s2 = (int32_t)floor(f2);
        if (s2 > ssz - 1) s2 = ssz - 1;
        if (s1 > s2) s1 = s2;
        if (s1 - f1 > 1e-3) t[k++] = (area_tab){dx * cn, (s1 - 1) * cn, (float)((s1 - f1) / cell)};
        for (int32_t sx = s1; sx < s2; sx++) t[k++] = (area_tab){dx * cn, sx * cn, (float)(1.0 / cell)};
        if (f2 - s2 > 1e-3) {
            double a = f2 - s2 < 1. ? f2 - s2 : 1.;
            t[k++] = (area_tab){dx * cn, s2 * cn, (float)((a < cell ? a : cell) / cell)};
        }
    }
    return k;
}

static ac_status area_general(const void *src, void *dst, int32_t sw, int32_t sh, int32_t cn,
                              int32_t dw, int32_t dh, double sx, double sy, int is_u8,
                              ac_diag *d) {
    area_tab *xt = ac_malloc_array((size_t)sw * 2 + 2, sizeof *xt);
    area_tab *yt = ac_malloc_array((size_t)sh * 2 + 2, sizeof *yt);
    size_t width = (size_t)dw * cn;
    float *buf = ac_malloc_array(width * 2, sizeof *buf);
    if (!xt || !yt || !buf) {
        ac_free(xt), ac_free(yt), ac_free(buf);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for resize tables");
    }
    float *sum = buf + width;
    int32_t nx = area_table(sw, dw, cn, sx, xt), ny = area_table(sh, dh, 1, sy, yt);
    int32_t prev = ny ? yt[0].di : 0;
    memset(sum, 0, width * sizeof *sum);
    size_t sstride = (size_t)sw * cn;
#define STORE_ROW(row)                                                                             \
    do {                                                                                           \
        for (size_t x_ = 0; x_ < width; x_++) {                                                    \
            if (is_u8)                                                                             \
                ((uint8_t *)dst)[(size_t)(row)*width + x_] = sat_u8f(sum[x_]);                     \
            else                                                                                   \
                ((float *)dst)[(size_t)(row)*width + x_] = sum[x_];                                \
        }                                                                                          \
    } while (0)
    for (int32_t j = 0; j < ny; j++) {
        float beta = yt[j].alpha;
        int32_t dy = yt[j].di, syi = yt[j].si;
        memset(buf, 0, width * sizeof *buf);
        for (int32_t k = 0; k < nx; k++)
            for (int32_t c = 0; c < cn; c++) {
                size_t si = (size_t)syi * sstride + xt[k].si + c;
                float v = is_u8 ? (float)((const uint8_t *)src)[si] : ((const float *)src)[si];
                buf[xt[k].di + c] += v * xt[k].alpha;
            }
        if (dy != prev) {
            STORE_ROW(prev);
            for (size_t x = 0; x < width; x++) sum[x] = beta * buf[x];
            prev = dy;
        } else {
            for (size_t x = 0; x < width; x++) sum[x] += beta * buf[x];
        }
    }
    STORE_ROW(prev);
#undef STORE_ROW
    ac_free(xt), ac_free(yt), ac_free(buf);
    return AC_OK;
}

static ac_status resize_any(const void *src, int32_t sw, int32_t sh, int32_t cn, void *dst,
                            int32_t dw, int32_t dh, double isx, double isy, ac_interp interp,
                            int is_u8, ac_diag *d) {
    if (!src || !dst || sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || cn <= 0 || cn > 4 ||
        !(isx > 0) || !(isy > 0) || (unsigned)interp >= AC_INTERP_COUNT)
        return AC_FAIL(d, AC_ERR_ARG, "resize: bad arguments (%dx%dx%d -> %dx%d, interp %d)",
                       (int)sw, (int)sh, (int)cn, (int)dw, (int)dh, (int)interp);
    size_t esz = is_u8 ? 1 : sizeof(float);
    if (sw == dw && sh == dh) {
        /* cv2 copies when sizes match and no fx/fy was given; with fx/fy = 1 too */
        memcpy(dst, src, (size_t)sw * sh * cn * esz);
        return AC_OK;
    }
    if (interp == AC_INTERP_NEAREST) return resize_nn(src, dst, sw, sh, cn, dw, dh, isx, isy, esz, d);
    double sx = 1. / isx, sy = 1. / isy;
    int32_t ix = (int32_t)lrint(sx), iy = (int32_t)lrint(sy);
    int area_fast_ok = fabs(sx - ix) < DBL_EPSILON && fabs(sy - iy) < DBL_EPSILON;
    if (interp == AC_INTERP_LINEAR && area_fast_ok && ix == 2 && iy == 2) interp = AC_INTERP_AREA;
    if (interp == AC_INTERP_AREA && sx >= 1 && sy >= 1) {
        if (area_fast_ok) {
            area_fast(src, dst, sw, sh, cn, dw, dh, ix, iy, is_u8);
            return AC_OK;
        }
        return area_general(src, dst, sw, sh, cn, dw, dh, sx, sy, is_u8, d);
    }
    sep_ctx c = {.sw = sw, .sh = sh, .cn = cn, .dw = dw, .dh = dh,
                 .ksize = interp == AC_INTERP_CUBIC ? 4 : 2};
    return resize_sep(src, dst, &c, sx, sy, isx, isy, interp == AC_INTERP_AREA, is_u8, d);
}

ac_status ac_resize_u8(const uint8_t *src, int32_t sw, int32_t sh, int32_t cn, uint8_t *dst,
                       int32_t dw, int32_t dh, double inv_scale_x, double inv_scale_y,
                       ac_interp interp, ac_diag *d) {
    return resize_any(src, sw, sh, cn, dst, dw, dh, inv_scale_x, inv_scale_y, interp, 1, d);
}

ac_status ac_resize_f32(const float *src, int32_t sw, int32_t sh, int32_t cn, float *dst,
                        int32_t dw, int32_t dh, double inv_scale_x, double inv_scale_y,
                        ac_interp interp, ac_diag *d) {
    return resize_any(src, sw, sh, cn, dst, dw, dh, inv_scale_x, inv_scale_y, interp, 0, d);
}

/* ---- PIL ---------------------------------------------------------------------------------
 * Pillow's ImagingResample (libImaging/Resample.c) with the bilinear filter: per output index
 * a window of input pixels around centre (x + 0.5) * scale, triangle weights of support
 * max(scale, 1), normalised, then fixed point with 22 fractional bits (rounded away from
 * zero); each pass rounds to uint8 ((sum + 2^21) >> 22, clipped). Horizontal pass first,
 * each pass only when that size changes. */
#define PIL_BITS 22

typedef struct pil_axis {
    int32_t *lo, *cnt;
    int32_t *k; /* cnt_max per output */
    int32_t kmax;
} pil_axis;

static ac_status pil_coeffs(int32_t in, int32_t out, pil_axis *a, ac_diag *d) {
    double scale = (double)in / out, fs = scale > 1 ? scale : 1, support = fs;
    int32_t kmax = (int32_t)ceil(support) * 2 + 1;
    a->lo = ac_malloc_array((size_t)out * 2, sizeof(int32_t));
    a->k = ac_malloc_array((size_t)out * kmax, sizeof(int32_t));
    double *w = ac_malloc_array((size_t)kmax, sizeof(double));
    if (!a->lo || !a->k || !w) {
        ac_free(a->lo), ac_free(a->k), ac_free(w);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for resize tables");
    }
    a->cnt = a->lo + out;
    a->kmax = kmax;
    for (int32_t xx = 0; xx < out; xx++) {
        double c = (xx + 0.5) * scale, ss = 1.0 / fs, ww = 0;
        int32_t xmin = (int32_t)(c - support + 0.5), xmax = (int32_t)(c + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in) xmax = in;
        xmax -= xmin;
        for (int32_t x = 0; x < xmax; x++) {
            double t = fabs((x + xmin - c + 0.5) * ss);
            w[x] = t < 1.0 ? 1.0 - t : 0.0;
            ww += w[x];
        }
        for (int32_t x = 0; x < xmax; x++) {
            double v = ww != 0 ? w[x] / ww : w[x];
            a->k[(size_t)xx * kmax + x] =
                (int32_t)(v < 0 ? v * (1 << PIL_BITS) - 0.5 : v * (1 << PIL_BITS) + 0.5);
        }
        a->lo[xx] = xmin;
        a->cnt[xx] = xmax;
    }
    ac_free(w);
    return AC_OK;
}

static inline uint8_t pil_clip(int64_t v) {
    v >>= PIL_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

ac_status ac_resize_u8_pil(const uint8_t *src, int32_t sw, int32_t sh, int32_t cn, uint8_t *dst,
                           int32_t dw, int32_t dh, ac_diag *d) {
    if (!src || !dst || sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || cn <= 0 || cn > 4)
        return AC_FAIL(d, AC_ERR_ARG, "resize: bad arguments");
    pil_axis ax = {0}, ay = {0};
    uint8_t *tmp = NULL;
    ac_status s = AC_OK;
    if (dw != sw) {
        AC_TRY(pil_coeffs(sw, dw, &ax, d));
        tmp = dh != sh ? ac_malloc_array((size_t)sh * dw, (size_t)cn) : dst;
        if (!tmp) {
            s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory for a resize buffer");
            goto out;
        }
        for (int32_t y = 0; y < sh; y++)
            for (int32_t xx = 0; xx < dw; xx++)
                for (int32_t c = 0; c < cn; c++) {
                    int64_t acc = 1 << (PIL_BITS - 1);
                    const int32_t *k = ax.k + (size_t)xx * ax.kmax;
                    for (int32_t x = 0; x < ax.cnt[xx]; x++)
                        acc += (int64_t)src[((size_t)y * sw + ax.lo[xx] + x) * cn + c] * k[x];
                    tmp[((size_t)y * dw + xx) * cn + c] = pil_clip(acc);
                }
    } else {
        tmp = (uint8_t *)src;
    }
    if (dh != sh) {
        s = pil_coeffs(sh, dh, &ay, d);
        if (s != AC_OK) goto out;
        size_t row = (size_t)dw * cn;
        for (int32_t yy = 0; yy < dh; yy++) {
            const int32_t *k = ay.k + (size_t)yy * ay.kmax;
            for (size_t x = 0; x < row; x++) {
                int64_t acc = 1 << (PIL_BITS - 1);
                for (int32_t y = 0; y < ay.cnt[yy]; y++)
                    acc += (int64_t)tmp[(size_t)(ay.lo[yy] + y) * row + x] * k[y];
                dst[(size_t)yy * row + x] = pil_clip(acc);
            }
        }
    } else if (tmp == src) {
        memcpy(dst, src, (size_t)sw * sh * cn);
    }
out:
    if (tmp != src && tmp != dst) ac_free(tmp);
    ac_free(ax.lo), ac_free(ax.k), ac_free(ay.lo), ac_free(ay.k);
    return s;
}
