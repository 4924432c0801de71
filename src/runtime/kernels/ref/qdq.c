/* SPDX-License-Identifier: MIT */
/* Reference QuantizeLinear / DequantizeLinear, per-tensor, per-axis or blocked.
 *   quantize:   y = saturate(round_half_even(x / scale) + zero_point)
 *   dequantize: y = (x - zero_point) * scale
 * exactly as ONNX's reference: the division is in float32 (not x * (1 / scale), which can
 * round differently), rounding is to nearest even (nearbyintf in the default FP environment),
 * and saturation clamps to the integer type's range. NaN quantizes to the zero point.
 * Scales and zero points are read at run time, so they need not be constants. */
#include "../../ops/pool.h"

#include <math.h>

typedef struct qdq_job {
    const rt_node *n;
    const rt_qdq_params *qp;
    int64_t rows_per_task; /* rows are (outer, axis) pairs of `inner` elements */
} qdq_job;

static int64_t zp_at(const rt_tensor *zp, int64_t i) {
    if (!zp) return 0;
    switch (zp->dtype) {
    case AC_DTYPE_U8: return ((const uint8_t *)zp->data)[i];
    case AC_DTYPE_S8: return ((const int8_t *)zp->data)[i];
    default: return ((const int32_t *)zp->data)[i];
    }
}

static void qdq_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const qdq_job *j = user;
    const rt_qdq_params *qp = j->qp;
    const rt_node *n = j->n;
    const rt_tensor *xt = n->in[0], *zp = n->n_in > 2 ? n->in[2] : NULL;
    const float *S = n->in[1]->data;
    int64_t rows = qp->outer * qp->len, r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task;
    if (r1 > rows) r1 = rows;
    ac_dtype yt = n->out[0]->dtype;
    float lo = yt == AC_DTYPE_U8 ? 0.0f : -128.0f, hi = yt == AC_DTYPE_U8 ? 255.0f : 127.0f;
    for (int64_t row = r0; row < r1; row++) {
        int64_t o = row / qp->len, a = row % qp->len;
        int64_t sbase = o * qp->so + (a / qp->block) * qp->sa;
        int64_t e0 = row * qp->inner;
        for (int64_t i = 0; i < qp->inner; i++) {
            int64_t si = sbase + i * qp->si, e = e0 + i;
            float s = S[si];
            int64_t z = zp_at(zp, si);
            if (qp->quantize) {
                float v = xt->dtype == AC_DTYPE_F32 ? ((const float *)xt->data)[e]
                                                    : (float)((const int32_t *)xt->data)[e];
                float q = nearbyintf(v / s);
                q = q != q ? 0.0f : q;
                q += (float)z;
                q = q < lo ? lo : (q > hi ? hi : q);
                if (yt == AC_DTYPE_U8) ((uint8_t *)n->out[0]->data)[e] = (uint8_t)q;
                else ((int8_t *)n->out[0]->data)[e] = (int8_t)q;
            } else {
                int64_t v;
                switch (xt->dtype) {
                case AC_DTYPE_U8: v = ((const uint8_t *)xt->data)[e]; break;
                case AC_DTYPE_S8: v = ((const int8_t *)xt->data)[e]; break;
                default: v = ((const int32_t *)xt->data)[e]; break;
                }
                ((float *)n->out[0]->data)[e] = (float)(v - z) * s;
            }
        }
    }
}

static void run_qdq(const rt_node *n, const rt_ctx *x) {
    qdq_job j = {n, n->params, 1};
    const rt_qdq_params *qp = j.qp;
    int64_t rows = qp->outer * qp->len;
    if (rows == 0 || qp->inner == 0) return;
    j.rows_per_task = (1 << 16) / qp->inner;
    if (j.rows_per_task < 1) j.rows_per_task = 1;
    rt_parallel_for(x, (rows + j.rows_per_task - 1) / j.rows_per_task, qdq_task, &j);
}

static int score_qdq(const rt_node *n) { return n->op->infer == rt_infer_qdq; }

const rt_kernel rt_k_qdq_ref = {"qdq_ref", "*", AC_ISA_REF, score_qdq, NULL, run_qdq};
