/* SPDX-License-Identifier: MIT */
/* Reference kernels for the integer QDQ groups (ops/qlinear.h), each reproducing the arithmetic
 * of ONNX Runtime's CPU kernel for the same group (MLAS, onnxruntime/core/mlas/lib), because the
 * point is to agree with ORT per element, not merely to be close:
 *   CONV / GEMM (QLinearConv, QGemm): exact int32 accumulation of (x - zx) * w (+ int32 bias),
 *     then MlasRequantizeOutput: float(acc) * scale[c] with scale = s_x * s_w[c] / s_y computed
 *     in float in that order (qlinearconv.cc ComputeOutputScale), clamp to [lo - zy, hi - zy],
 *     cvtps2dq (round half to even), + zy. QGemm without y: float(acc) * (s_a * s_b[c]).
 *   ADD (qladd_avx2.cpp): r_a = s_a / s_y, r_b = s_b / s_y,
 *     fixed = zy - (r_a * za + r_b * zb), y = cvt(fma(a, r_a, fma(b, r_b, fixed))), saturated.
 *   MUL (qlmul.cpp, SSE2): y = cvt(float((a - za) * (b - zb)) * (s_a * s_b / s_y) + zy).
 *   LUT (QLinearSigmoid, qlinear_lookup_table.cc): table[q] = quantize(logistic(s_x * (q - zx)))
 *     with MLAS's rational logistic and quantize = round_half_even(v / s_y) + zy, saturated.
 *   GAP (qlgavgpool.cpp): acc = sum(x) - zx * n in int32, requantized with the scale
 *     s_x / (s_y * float(n)) (CheckQLinearGlobalAveragePoolScaleAndSize).
 * Plain C with int32 accumulation; a SIMD version is later work. */
#include "../../ops/qlinear.h"

#include <math.h>
#include <string.h>

int32_t rt_ql_requant(float v, int32_t zy, int y_signed) {
    float lo = (float)((y_signed ? -128 : 0) - zy), hi = (float)((y_signed ? 127 : 255) - zy);
    v = v > lo ? v : lo; /* _mm_max_ps then _mm_min_ps, as MLAS does */
    v = v < hi ? v : hi;
    return (int32_t)nearbyintf(v) + zy;
}

float rt_ql_logistic(float x) { return rt_logistic(x); }

static inline int32_t load_q(const void *p, int64_t i, int is_signed) {
    return is_signed ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

static inline void store_q(void *p, int64_t i, int32_t v, int is_signed) {
    if (is_signed) ((int8_t *)p)[i] = (int8_t)v;
    else ((uint8_t *)p)[i] = (uint8_t)v;
}

/* ---- QLinearConv ----------------------------------------------------------------------------- */

typedef struct ql_job {
    const rt_node *n;
    const rt_ctx *x;
    int64_t per_task;
} ql_job;

/* One (batch, output channel) plane: acc over the plane in this thread's scratch. */
static void conv_task(void *user, int64_t task, int32_t thread) {
    const ql_job *j = user;
    const rt_node *n = j->n;
    const rt_qlinear *q = n->params;
    const rt_conv_params *c = &q->cp;
    int64_t b = task / c->M, m = task % c->M, g = m / c->Mg;
    int32_t *acc = rt_scratch(j->x, thread);
    for (int64_t i = 0; i < c->out_sp; i++) acc[i] = 0;
    const void *xd = n->in[0]->data;
    for (int64_t cg = 0; cg < c->Cg; cg++) {
        int64_t ci = g * c->Cg + cg;
        int64_t xbase = (b * c->C + ci) * c->in_sp;
        const int8_t *w = q->w + (m * c->Cg + cg) * c->k_sp;
        for (int64_t kd = 0; kd < c->k[0]; kd++)
        for (int64_t kh = 0; kh < c->k[1]; kh++)
        for (int64_t kw = 0; kw < c->k[2]; kw++) {
            int32_t wv = w[(kd * c->k[1] + kh) * c->k[2] + kw];
            if (!wv) continue; /* padding and zero weights add nothing */
            /* output columns whose input column lies inside the image */
            int64_t off = kw * c->dil[2] - c->pad0[2], s = c->stride[2];
            int64_t ow0 = off >= 0 ? 0 : (-off + s - 1) / s;
            int64_t ow1 = c->in[2] - off <= 0 ? 0 : (c->in[2] - off + s - 1) / s;
            if (ow1 > c->out[2]) ow1 = c->out[2];
            for (int64_t od = 0; od < c->out[0]; od++) {
                int64_t id = od * c->stride[0] - c->pad0[0] + kd * c->dil[0];
                if (id < 0 || id >= c->in[0]) continue;
                for (int64_t oh = 0; oh < c->out[1]; oh++) {
                    int64_t ih = oh * c->stride[1] - c->pad0[1] + kh * c->dil[1];
                    if (ih < 0 || ih >= c->in[1]) continue;
                    int32_t *a = acc + (od * c->out[1] + oh) * c->out[2];
                    int64_t row = xbase + (id * c->in[1] + ih) * c->in[2] + off;
                    if (q->x_signed) {
                        const int8_t *xr = (const int8_t *)xd + row;
                        for (int64_t ow = ow0; ow < ow1; ow++)
                            a[ow] += wv * ((int32_t)xr[ow * s] - q->zx);
                    } else {
                        const uint8_t *xr = (const uint8_t *)xd + row;
                        for (int64_t ow = ow0; ow < ow1; ow++)
                            a[ow] += wv * ((int32_t)xr[ow * s] - q->zx);
                    }
                }
            }
        }
    }
    int32_t bias = q->bias ? q->bias[m] : 0;
    float sc = q->scale[m];
    void *y = n->out[0]->data;
    int64_t ybase = (b * c->M + m) * c->out_sp;
    for (int64_t i = 0; i < c->out_sp; i++)
        store_q(y, ybase + i, rt_ql_requant((float)(acc[i] + bias) * sc, q->zy, q->y_signed),
                q->y_signed);
}

/* ---- QGemm ----------------------------------------------------------------------------------- */

static void gemm_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const ql_job *j = user;
    const rt_node *n = j->n;
    const rt_qlinear *q = n->params;
    int64_t m = task;
    const void *a = n->in[0]->data;
    for (int64_t c = 0; c < q->N; c++) {
        int32_t acc = q->bias ? q->bias[c] : 0;
        for (int64_t k = 0; k < q->K; k++)
            acc += (load_q(a, m * q->K + k, q->x_signed) - q->zx) *
                   (int32_t)q->w[k * q->b_rs + c * q->b_cs];
        float v = (float)acc * q->scale[c];
        if (q->float_out) ((float *)n->out[0]->data)[m * q->N + c] = v;
        else store_q(n->out[0]->data, m * q->N + c, rt_ql_requant(v, q->zy, q->y_signed),
                     q->y_signed);
    }
}

/* ---- QLinearAdd / QLinearMul / lookup / global average pool --------------------------------- */

static void eltwise_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const ql_job *j = user;
    const rt_node *n = j->n;
    const rt_qlinear *q = n->params;
    int64_t i0 = task * j->per_task, i1 = i0 + j->per_task;
    if (i1 > q->n_elem) i1 = q->n_elem;
    const void *a = n->in[0]->data, *b = n->n_in > 1 ? n->in[1]->data : NULL;
    void *y = n->out[0]->data;
    int xs = q->x_signed;
    if (q->kind == RT_QL_LUT) {
        for (int64_t i = i0; i < i1; i++)
            store_q(y, i, load_q(q->lut, load_q(a, i, xs) & 0xff, 0), xs);
        return;
    }
    int32_t lo = xs ? -128 : 0, hi = xs ? 127 : 255;
    if (q->kind == RT_QL_ADD) {
        /* both qladd kernels compute the ratios, then this fixed part, in float */
        float ra = q->sx / q->sy, rb = q->sb / q->sy;
        /* ra * za + rb * zb is one contracted expression in the AVX2 kernel's C++ source */
        float fixed = (float)q->zy - fmaf(ra, (float)q->zx, rb * (float)q->zb);
        /* a broadcast operand joins the fixed part first (mul then add, not fused) */
        if (q->a_bcast) fixed = fixed + (float)load_q(a, 0, xs) * ra;
        if (q->b_bcast) fixed = fixed + (float)load_q(b, 0, xs) * rb;
        for (int64_t i = i0; i < i1; i++) {
            float r = fixed;
            if (!q->b_bcast) r = fmaf((float)load_q(b, i, xs), rb, r);
            if (!q->a_bcast) r = fmaf((float)load_q(a, i, xs), ra, r);
            float c = nearbyintf(r);
            int32_t v = c < (float)lo ? lo : (c > (float)hi ? hi : (int32_t)c);
            store_q(y, i, v, xs);
        }
    } else {
        float ratio = q->sx * q->sb / q->sy;
        for (int64_t i = i0; i < i1; i++) {
            int32_t pa = load_q(a, q->a_bcast ? 0 : i, xs) - q->zx;
            int32_t pb = load_q(b, q->b_bcast ? 0 : i, xs) - q->zb;
            float c = nearbyintf((float)(pa * pb) * ratio + (float)q->zy);
            int32_t v = c < (float)lo ? lo : (c > (float)hi ? hi : (int32_t)c);
            store_q(y, i, v, xs);
        }
    }
}

static void gap_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const ql_job *j = user;
    const rt_node *n = j->n;
    const rt_qlinear *q = n->params;
    const void *x = n->in[0]->data;
    int32_t acc = -q->zx * (int32_t)q->image;
    for (int64_t i = 0; i < q->image; i++) acc += load_q(x, task * q->image + i, q->x_signed);
    float scale = q->sx / (q->sy * (float)q->image);
    store_q(n->out[0]->data, task, rt_ql_requant((float)acc * scale, q->zy, q->y_signed),
            q->y_signed);
}

static ac_status prepare_qlinear(rt_plan *p, rt_node *n, ac_diag *d) {
    (void)p, (void)d;
    const rt_qlinear *q = n->params;
    if (q->kind == RT_QL_CONV) n->scratch = (size_t)q->cp.out_sp * sizeof(int32_t);
    return AC_OK;
}

static void run_qlinear(const rt_node *n, const rt_ctx *x) {
    const rt_qlinear *q = n->params;
    ql_job j = {n, x, 1};
    switch (q->kind) {
    case RT_QL_CONV: rt_parallel_for(x, q->cp.N * q->cp.M, conv_task, &j); break;
    case RT_QL_GEMM: rt_parallel_for(x, q->M, gemm_task, &j); break;
    case RT_QL_GAP: rt_parallel_for(x, q->planes, gap_task, &j); break;
    default:
        if (q->n_elem == 0) return;
        j.per_task = 1 << 16;
        rt_parallel_for(x, (q->n_elem + j.per_task - 1) / j.per_task, eltwise_task, &j);
        break;
    }
}

static int score_qlinear(const rt_node *n) { return n->op == &rt_op_qlinear ? 100 : 0; }

const rt_kernel rt_k_qlinear_ref = {"qlinear_ref", "*", AC_ISA_REF, score_qlinear,
                                    prepare_qlinear, run_qlinear};
