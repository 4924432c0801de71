/* SPDX-License-Identifier: MIT */
/* Reference GridSample (2-D), as ONNX's reference and PyTorch define it: grid values map to
 * pixel coordinates ((g + 1) / 2 * (d - 1) with align_corners, else ((g + 1) * d - 1) / 2);
 * nearest rounds half to even (nearbyint); a coordinate outside [lo, hi] (0, d - 1 with
 * align_corners, else -0.5, d - 0.5) is clamped to the image (border) or reflected between lo
 * and hi (reflection); then every tap outside the image reads 0 (zeros), the nearest edge
 * pixel (border) or its reflection. Linear mixes 2 x 2 taps, cubic 4 x 4 with Keys' a = -0.75.
 * One task per output plane; arithmetic in double. */
#include "../../ops/pool.h"

#include <math.h>

static double denorm(double g, int64_t d, int align) {
    return align ? (g + 1.0) / 2.0 * (double)(d - 1) : ((g + 1.0) * (double)d - 1.0) / 2.0;
}

static double reflect(double x, double lo, double hi) {
    double rng = hi - lo;
    if (rng <= 0) return lo;
    if (x < lo) {
        double dx = lo - x;
        int64_t k = (int64_t)(dx / rng);
        double r = dx - (double)k * rng;
        return k % 2 == 0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double dx = x - hi;
        int64_t k = (int64_t)(dx / rng);
        double r = dx - (double)k * rng;
        return k % 2 == 0 ? hi - r : lo + r;
    }
    return x;
}

/* Pixel (r, c) of a plane under the padding rule. */
static double pixel(const rt_grid_sample_params *q, const float *img, int64_t r, int64_t c) {
    if (q->pad == RT_GS_ZEROS) {
        if (r < 0 || r >= q->H || c < 0 || c >= q->W) return 0.0;
    } else if (q->pad == RT_GS_BORDER) {
        r = r < 0 ? 0 : (r >= q->H ? q->H - 1 : r);
        c = c < 0 ? 0 : (c >= q->W ? q->W - 1 : c);
    } else {
        double lo_r = q->align_corners ? 0.0 : -0.5,
               hi_r = q->align_corners ? q->H - 1.0 : q->H - 0.5;
        double lo_c = q->align_corners ? 0.0 : -0.5,
               hi_c = q->align_corners ? q->W - 1.0 : q->W - 0.5;
        r = (int64_t)reflect((double)r, lo_r, hi_r);
        c = (int64_t)reflect((double)c, lo_c, hi_c);
        r = r < 0 ? 0 : (r >= q->H ? q->H - 1 : r);
        c = c < 0 ? 0 : (c >= q->W ? q->W - 1 : c);
    }
    return img[r * q->W + c];
}

static void cubic_coeffs(double t, double *w) {
    const double a = -0.75;
    double x = fabs(t);
    w[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
    w[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
    w[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
    w[3] = ((a * (2 - x) - 5 * a) * (2 - x) + 8 * a) * (2 - x) - 4 * a;
}

static void gs_task(void *user, int64_t plane, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_grid_sample_params *q = n->params;
    int64_t b = plane / q->C;
    const float *img = (const float *)n->in[0]->data + plane * q->H * q->W;
    const float *grid = (const float *)n->in[1]->data + b * q->Ho * q->Wo * 2;
    float *y = (float *)n->out[0]->data + plane * q->Ho * q->Wo;
    double lo_x = q->align_corners ? 0.0 : -0.5, hi_x = q->align_corners ? q->W - 1.0 : q->W - 0.5;
    double lo_y = q->align_corners ? 0.0 : -0.5, hi_y = q->align_corners ? q->H - 1.0 : q->H - 0.5;
    for (int64_t o = 0; o < q->Ho * q->Wo; o++) {
        double x = denorm(grid[2 * o], q->W, q->align_corners);
        double yy = denorm(grid[2 * o + 1], q->H, q->align_corners);
        if (q->mode == RT_GS_NEAREST) {
            x = nearbyint(x);
            yy = nearbyint(yy);
        }
        if (x < lo_x || x > hi_x) {
            if (q->pad == RT_GS_BORDER)
                x = x < 0 ? 0 : (x > q->W - 1 ? q->W - 1 : x);
            else if (q->pad == RT_GS_REFLECTION)
                x = reflect(x, lo_x, hi_x);
        }
        if (yy < lo_y || yy > hi_y) {
            if (q->pad == RT_GS_BORDER)
                yy = yy < 0 ? 0 : (yy > q->H - 1 ? q->H - 1 : yy);
            else if (q->pad == RT_GS_REFLECTION)
                yy = reflect(yy, lo_y, hi_y);
        }
        double v;
        if (q->mode == RT_GS_NEAREST) {
            v = pixel(q, img, (int64_t)yy, (int64_t)x);
        } else if (q->mode == RT_GS_LINEAR) {
            int64_t x0 = (int64_t)floor(x), y0 = (int64_t)floor(yy);
            double wx = x - (double)x0, wy = yy - (double)y0;
            double r0 = (1 - wx) * pixel(q, img, y0, x0) + wx * pixel(q, img, y0, x0 + 1);
            double r1 = (1 - wx) * pixel(q, img, y0 + 1, x0) + wx * pixel(q, img, y0 + 1, x0 + 1);
            v = (1 - wy) * r0 + wy * r1;
        } else {
            int64_t x0 = (int64_t)floor(x), y0 = (int64_t)floor(yy);
            double wx[4], wy[4];
            cubic_coeffs(x - (double)x0, wx);
            cubic_coeffs(yy - (double)y0, wy);
            v = 0;
            for (int i = 0; i < 4; i++) {
                double r = 0;
                for (int k = 0; k < 4; k++)
                    r += wx[k] * pixel(q, img, y0 - 1 + i, x0 - 1 + k);
                v += wy[i] * r;
            }
        }
        y[o] = (float)v;
    }
}

static void run_gs(const rt_node *n, const rt_ctx *x) {
    const rt_grid_sample_params *q = n->params;
    rt_parallel_for(x, q->N * q->C, gs_task, (void *)n);
}

const rt_kernel rt_k_grid_sample_ref = {
    "grid_sample_ref", "GridSample", AC_ISA_REF, NULL, NULL, run_gs};
