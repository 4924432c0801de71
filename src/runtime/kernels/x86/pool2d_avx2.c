/* SPDX-License-Identifier: MIT */
/* 2-D float pooling fast path (MaxPool and AveragePool without dilation or Indices), the common
 * CNN case (ResNet's 3x3/2 stem pool, YOLO's SPP pools). Per output row the window's input rows
 * are first combined column by column (contiguous, vectorised by the compiler for AVX2) into a
 * row with the horizontal padding already in place (-inf for max, 0 for average); strides 1
 * and 2 then combine kw shifted copies of that row (stride 2 after splitting it into even and
 * odd columns), so the horizontal pass is contiguous too. The reference kernel
 * (kernels/ref/pool.c) walks every tap with index arithmetic; this one gives the same results
 * (max is exact; averages sum the same taps, in float instead of double, well inside the
 * tolerance the tests document).
 *
 * In a QDQ model an average's last bit can flip a code at the next QuantizeLinear, so there
 * the taps are summed in the order ONNX Runtime's MLAS sums them: its vector kernel (2-D,
 * horizontal stride 1 or 2, windows up to 32) adds the window's rows column by column and then
 * the kw columns, the order above; its generic kernel, and the NCHWc kernel ORT moves every
 * float pool into when the channel count is a multiple of the NCHWc block, add the taps row by
 * row from 0 (ORDER_TAPS). Both divide by the count. */
#include "../../ops/pool.h"
#include "mlas_order.h"

#include <math.h>

enum { ORDER_ROWS_FIRST = 0, ORDER_TAPS = 1, ORDER_GLOBAL = 2 };

typedef struct job {
    const rt_node *n;
    const rt_pool_params *pp;
    const rt_ctx *x;
} job;

/* Divisor of output (oh, ow) of an AveragePool. */
static float avg_count(const rt_pool_params *pp, int64_t h0, int64_t h1, int64_t a, int64_t b,
                       int64_t ow) {
    const int64_t H = pp->in[0], W = pp->in[1], pw = pp->pad[1];
    int64_t w0 = ow * pp->s[1] - pw, w1 = w0 + pp->k[1];
    if (pp->count_include_pad) {
        /* taps inside the padded input count, taps beyond it do not */
        int64_t ha = h0 < -pp->pad[0] ? -pp->pad[0] : h0;
        int64_t hb = h1 > H + pp->pad_end[0] ? H + pp->pad_end[0] : h1;
        int64_t wa = w0 < -pw ? -pw : w0, wb = w1 > W + pp->pad_end[1] ? W + pp->pad_end[1] : w1;
        return (float)((hb - ha) * (wb - wa));
    }
    int64_t c = w0 < 0 ? 0 : w0, e = w1 > W ? W : w1;
    return (float)((b - a) * (e - c));
}

static void plane_task(void *user, int64_t plane, int32_t thread) {
    const job *j = user;
    const rt_pool_params *pp = j->pp;
    const int64_t H = pp->in[0], W = pp->in[1], OH = pp->out[0], OW = pp->out[1];
    const int64_t kh = pp->k[0], kw = pp->k[1], sh = pp->s[0], sw = pp->s[1];
    const int64_t ph = pp->pad[0], pw = pp->pad[1];
    const float *X = (const float *)j->n->in[0]->data + plane * H * W;
    float *Y = (float *)j->n->out[0]->data + plane * OH * OW;
    /* scratch: the padded row (lp floats), then its even and odd columns */
    const int64_t lp = (OW - 1) * sw + kw > W + pw ? (OW - 1) * sw + kw : W + pw;
    float *row = rt_scratch(j->x, thread), *ev = row + lp, *od = ev + lp / 2 + 1;
    const int is_max = pp->kind == RT_POOL_MAX;
    const int order = *(const int *)j->n->kstate;
    const int taps = !is_max && order == ORDER_TAPS;
    if (!is_max && order == ORDER_GLOBAL) { /* one output: the plane's mean */
        Y[0] = rt_mlas_global_mean(X, H * W, 0);
        return;
    }
    const float padv = is_max ? -INFINITY : 0.0f;
    for (int64_t w = 0; w < pw; w++) row[w] = padv;
    for (int64_t w = pw + W; w < lp; w++) row[w] = padv;
    float *in = row + pw; /* input column w is in[w] */
    for (int64_t oh = 0; oh < OH; oh++) {
        int64_t h0 = oh * sh - ph, h1 = h0 + kh;
        int64_t a = h0 < 0 ? 0 : h0, b = h1 > H ? H : h1;
        float *y = Y + oh * OW;
        if (b <= a) { /* window entirely in padding (only with odd ceil_mode shapes) */
            for (int64_t ow = 0; ow < OW; ow++) y[ow] = 0.0f;
            continue;
        }
        if (taps) {
            /* row by row, each row's kw taps in order, from 0 */
            for (int64_t ow = 0; ow < OW; ow++) y[ow] = 0.0f;
            for (int64_t h = a; h < b; h++) {
                const float *r = X + h * W;
                for (int64_t w = 0; w < W; w++) in[w] = r[w];
                if (sw == 2) {
                    for (int64_t w = 0; 2 * w < lp; w++) ev[w] = row[2 * w];
                    for (int64_t w = 0; 2 * w + 1 < lp; w++) od[w] = row[2 * w + 1];
                }
                for (int64_t t = 0; t < kw; t++) {
                    if (sw == 1 || sw == 2) {
                        const float *st = sw == 1 ? row + t : (t & 1 ? od : ev) + t / 2;
                        for (int64_t ow = 0; ow < OW; ow++) y[ow] += st[ow];
                    } else {
                        for (int64_t ow = 0; ow < OW; ow++) y[ow] += row[ow * sw + t];
                    }
                }
            }
            for (int64_t ow = 0; ow < OW; ow++) y[ow] /= avg_count(pp, h0, h1, a, b, ow);
            continue;
        }
        const float *r0 = X + a * W;
        for (int64_t w = 0; w < W; w++) in[w] = r0[w];
        for (int64_t h = a + 1; h < b; h++) {
            const float *r = X + h * W;
            if (is_max)
                for (int64_t w = 0; w < W; w++) in[w] = r[w] > in[w] ? r[w] : in[w];
            else
                for (int64_t w = 0; w < W; w++) in[w] += r[w];
        }
        /* output ow combines row[ow * sw + t], t < kw */
        if (sw == 1 || sw == 2) {
            if (sw == 2) {
                for (int64_t w = 0; 2 * w < lp; w++) ev[w] = row[2 * w];
                for (int64_t w = 0; 2 * w + 1 < lp; w++) od[w] = row[2 * w + 1];
            }
            for (int64_t t = 0; t < kw; t++) {
                /* tap t of output ow: stride 1 row[ow + t]; stride 2 (t even ? ev : od)[ow + t / 2] */
                const float *st = sw == 1 ? row + t : (t & 1 ? od : ev) + t / 2;
                if (t == 0)
                    for (int64_t ow = 0; ow < OW; ow++) y[ow] = st[ow];
                else if (is_max)
                    for (int64_t ow = 0; ow < OW; ow++) y[ow] = st[ow] > y[ow] ? st[ow] : y[ow];
                else
                    for (int64_t ow = 0; ow < OW; ow++) y[ow] += st[ow];
            }
        } else {
            for (int64_t ow = 0; ow < OW; ow++) {
                const float *r = row + ow * sw;
                float v = r[0];
                for (int64_t t = 1; t < kw; t++)
                    v = is_max ? (r[t] > v ? r[t] : v) : v + r[t];
                y[ow] = v;
            }
        }
        if (!is_max)
            for (int64_t ow = 0; ow < OW; ow++) y[ow] /= avg_count(pp, h0, h1, a, b, ow);
    }
}

static ac_status prepare(rt_plan *p, rt_node *n, ac_diag *d) {
    const rt_pool_params *pp = n->params;
    int *order = rt_plan_alloc(p, sizeof *order);
    if (!order) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    *order = ORDER_ROWS_FIRST;
    int32_t blk = rt_plan_ort_nchwc_block(p);
    if (blk && pp->kind == RT_POOL_AVG) {
        const rt_tensor *x = n->in[0];
        int nchwc = x->rank == 4 && x->dims[1] % blk == 0;
        /* MLAS's conditions for its vector kernel (its reduction buffer holds 2048 floats) */
        int vector = pp->s[1] <= 2 && pp->k[0] <= 32 && pp->k[1] <= 32 &&
                     pp->in[1] + pp->pad[1] + pp->pad_end[1] <= 2048 - 3;
        int global = pp->k[0] == pp->in[0] && pp->k[1] == pp->in[1] && pp->s[0] == 1 &&
                     pp->s[1] == 1 && !pp->pad[0] && !pp->pad[1] && !pp->pad_end[0] &&
                     !pp->pad_end[1];
        if (nchwc || !vector) *order = ORDER_TAPS;
        if (!nchwc && global) *order = ORDER_GLOBAL;
    }
    n->kstate = order;
    int64_t lp = (pp->out[1] - 1) * pp->s[1] + pp->k[1];
    if (lp < pp->in[1] + pp->pad[1]) lp = pp->in[1] + pp->pad[1];
    n->scratch = (size_t)(2 * lp + 2) * sizeof(float); /* padded row, its even + odd columns */
    return AC_OK;
}

static void run(const rt_node *n, const rt_ctx *x) {
    job j = {n, n->params, x};
    rt_parallel_for(x, j.pp->planes, plane_task, &j);
}

static int score(const rt_node *n) {
    if (n->op->infer != rt_infer_pool) return 0;
    const rt_pool_params *pp = n->params;
    if (pp->nsp != 2 || n->in[0]->dtype != AC_DTYPE_F32) return 0;
    if (pp->kind != RT_POOL_MAX && pp->kind != RT_POOL_AVG) return 0;
    if (n->n_out > 1 && n->out[1]) return 0; /* Indices: the reference kernel */
    if (pp->dil[0] != 1 || pp->dil[1] != 1) return 0;
    /* every window must hold an input tap, so the max never sees only padding */
    for (int i = 0; i < 2; i++)
        if (pp->pad[i] >= pp->k[i] || (pp->out[i] - 1) * pp->s[i] - pp->pad[i] >= pp->in[i])
            return 0;
    return 10;
}

const rt_kernel rt_k_pool2d_avx2 = {"pool2d_avx2", "*", AC_ISA_AVX2, score, prepare, run};
