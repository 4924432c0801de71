/* SPDX-License-Identifier: MIT */
/* QLinearConv (integer QDQ Conv groups, see ops/qlinear.h) on the AVX-512 float GEMM, exactly.
 *
 * Why float is exact here: an operand (x - zx) is an integer in [-255, 255] and a weight in
 * [-128, 127], so each product is an integer below 2^15 in magnitude and a sum of up to KB = 512
 * of them stays below 2^24: every partial sum the GEMM forms (with or without FMA) is an
 * integer a float holds exactly. Each K block's float result is therefore the exact int32 sum;
 * blocks are added in int32 and requantized exactly as the reference kernel (and ONNX Runtime)
 * does. The result is bit-identical to kernels/ref/qlinear.c, ~50x faster on ResNet-20.
 *
 * 2-D convs only (depth 1), tiled in whole output rows; others use the reference kernel. */
#include "../../ops/qlinear.h"
#include "sgemm.h"

#include <string.h>

#define KB 512 /* rows of K per exact float block: 512 * 255 * 128 < 2^24 */

typedef struct qc_state {
    int64_t Kg, rows, tile, ntiles; /* output rows per tile, columns per tile */
} qc_state;

static ac_status prepare(rt_plan *p, rt_node *n, ac_diag *d) {
    const rt_qlinear *q = n->params;
    const rt_conv_params *c = &q->cp;
    qc_state *s = rt_plan_alloc(p, sizeof *s);
    if (!s) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    s->Kg = c->Cg * c->k_sp;
    int64_t ow = c->out[2], kb = s->Kg < KB ? s->Kg : KB;
    /* about 1 MiB of float im2col per tile */
    int64_t rows = (256 * 1024) / (kb * (ow > 0 ? ow : 1));
    if (rows < 1) rows = 1;
    if (rows > c->out[1]) rows = c->out[1];
    s->rows = rows;
    s->tile = rows * ow;
    s->ntiles = (c->out[1] + rows - 1) / rows;
    n->kstate = s;
    /* col block [kb, tile] + weight block [Mg, kb] + float result [Mg, tile] + int32 acc */
    n->scratch = ((size_t)(kb * s->tile) + (size_t)(c->Mg * kb) + 2 * (size_t)(c->Mg * s->tile)) *
                 sizeof(float);
    return AC_OK;
}

typedef struct job {
    const rt_node *n;
    const rt_ctx *x;
} job;

static inline float q_at(const void *xd, int64_t i, int is_signed) {
    return is_signed ? (float)((const int8_t *)xd)[i] : (float)((const uint8_t *)xd)[i];
}

static void task(void *user, int64_t t, int32_t thread) {
    const job *j = user;
    const rt_node *n = j->n;
    const rt_qlinear *q = n->params;
    const rt_conv_params *c = &q->cp;
    const qc_state *s = n->kstate;
    int64_t tile = t % s->ntiles;
    t /= s->ntiles;
    int64_t g = t % c->group, b = t / c->group;
    int64_t oh0 = tile * s->rows, nrows = c->out[1] - oh0 < s->rows ? c->out[1] - oh0 : s->rows;
    const int64_t OW = c->out[2], T = nrows * OW, H = c->in[1], W = c->in[2];
    int64_t kb_max = s->Kg < KB ? s->Kg : KB;
    float *col = rt_scratch(j->x, thread);
    float *wf = col + kb_max * s->tile;
    float *cf = wf + c->Mg * kb_max;
    int32_t *acc = (int32_t *)(cf + c->Mg * s->tile);
    const void *xd = n->in[0]->data;
    const float zx = (float)q->zx;
    for (int64_t i = 0; i < c->Mg * T; i++) acc[i] = 0;
    for (int64_t k0 = 0; k0 < s->Kg; k0 += KB) {
        int64_t kb = s->Kg - k0 < KB ? s->Kg - k0 : KB;
        /* im2col of rows k0..k0+kb as (x - zx); padding reads as the zero point, i.e. 0 */
        for (int64_t r = 0; r < kb; r++) {
            int64_t kk = k0 + r, cg = kk / c->k_sp, rem = kk % c->k_sp;
            int64_t kh = rem / c->k[2], kw = rem % c->k[2];
            int64_t ci = g * c->Cg + cg;
            int64_t xbase = (b * c->C + ci) * c->in_sp;
            float *dst = col + r * T;
            int64_t off = kw * c->dil[2] - c->pad0[2], sw = c->stride[2];
            int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
            int64_t hi = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;
            if (hi > OW) hi = OW;
            if (lo > hi) lo = hi;
            for (int64_t i = 0; i < nrows; i++, dst += OW) {
                int64_t ih = (oh0 + i) * c->stride[1] - c->pad0[1] + kh * c->dil[1];
                if (ih < 0 || ih >= H) {
                    for (int64_t ow = 0; ow < OW; ow++) dst[ow] = 0.0f;
                    continue;
                }
                int64_t row = xbase + ih * W + off;
                for (int64_t ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
                for (int64_t ow = lo; ow < hi; ow++) dst[ow] = q_at(xd, row + ow * sw, q->x_signed) - zx;
                for (int64_t ow = hi; ow < OW; ow++) dst[ow] = 0.0f;
            }
        }
        for (int64_t m = 0; m < c->Mg; m++) {
            const int8_t *w = q->w + (g * c->Mg + m) * s->Kg + k0;
            for (int64_t r = 0; r < kb; r++) wf[m * kb + r] = (float)w[r];
        }
        rt_sgemm_avx512(c->Mg, T, kb, wf, kb, col, T, cf, T, NULL);
        for (int64_t i = 0; i < c->Mg * T; i++) acc[i] += (int32_t)cf[i];
    }
    void *y = n->out[0]->data;
    for (int64_t m = 0; m < c->Mg; m++) {
        int64_t mc = g * c->Mg + m;
        int32_t bias = q->bias ? q->bias[mc] : 0;
        float sc = q->scale[mc];
        int64_t ybase = (b * c->M + mc) * c->out_sp + oh0 * OW;
        const int32_t *a = acc + m * T;
        for (int64_t i = 0; i < T; i++) {
            int32_t v = rt_ql_requant((float)(a[i] + bias) * sc, q->zy, q->y_signed);
            if (q->y_signed) ((int8_t *)y)[ybase + i] = (int8_t)v;
            else ((uint8_t *)y)[ybase + i] = (uint8_t)v;
        }
    }
}

static void run(const rt_node *n, const rt_ctx *x) {
    const rt_qlinear *q = n->params;
    const qc_state *s = n->kstate;
    job j = {n, x};
    rt_parallel_for(x, q->cp.N * q->cp.group * s->ntiles, task, &j);
}

static int score(const rt_node *n) {
    if (n->op != &rt_op_qlinear) return 0;
    const rt_qlinear *q = n->params;
    if (q->kind != RT_QL_CONV) return 0;
    const rt_conv_params *c = &q->cp;
    if (c->transposed || c->in[0] != 1 || c->out[0] != 1 || c->k[0] != 1) return 0;
    return 110; /* above the reference kernel's 100 */
}

const rt_kernel rt_k_qlinear_conv_avx512 = {"qlinear_conv_avx512", "*", AC_ISA_AVX512, score,
                                            prepare, run};
