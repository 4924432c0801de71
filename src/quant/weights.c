/* SPDX-License-Identifier: MIT */
/* Symmetric int8 weights, one scale per output channel (or per tensor). The channel axis is
 * the one that indexes output channels, so each output's dot product uses one weight scale and
 * the int32 bias scale s_in * s_w[c] stays per channel:
 *   Conv [M, C/g, k...]           axis 0
 *   ConvTranspose [C, M/g, k...]  axis 1 (group 1 only: with groups axis 1 is M/g long)
 *   Gemm B [K, N] / [N, K]        axis 1, or 0 with transB = 1
 *   MatMul B [..., K, N]          last axis */
#include "quant_internal.h"

#include <math.h>
#include <string.h>

int32_t ac_q_weight_axis(const ac_node *n, const ac_tensor *w, int per_tensor) {
    if (per_tensor || w->rank < 2) return -1;
    const char *op = n->op_type;
    if (!strcmp(op, "Conv")) return 0;
    if (!strcmp(op, "ConvTranspose")) return ac_node_attr_int(n, "group", 1) == 1 ? 1 : -1;
    if (!strcmp(op, "Gemm")) return ac_node_attr_int(n, "transB", 0) ? 0 : 1;
    if (!strcmp(op, "MatMul")) return w->rank - 1;
    return -1;
}

int64_t ac_q_channels(const ac_tensor *w, int32_t axis) { return axis < 0 ? 1 : w->dims[axis]; }

/* Splits w's elements as [outer, len, inner] around axis (len 1 for per-tensor). */
static void split_dims(const ac_tensor *w, int32_t axis, int64_t *outer, int64_t *len,
                       int64_t *inner) {
    *outer = 1, *len = 1, *inner = 1;
    if (axis < 0) {
        *inner = w->numel;
        return;
    }
    for (int32_t i = 0; i < axis; i++) *outer *= w->dims[i];
    *len = w->dims[axis];
    for (int32_t i = axis + 1; i < w->rank; i++) *inner *= w->dims[i];
}

void ac_q_weight_scales(const ac_tensor *w, int32_t axis, float *scales) {
    int64_t outer, len, inner;
    split_dims(w, axis, &outer, &len, &inner);
    const float *x = w->data;
    for (int64_t c = 0; c < len; c++) {
        float amax = 0.0f;
        for (int64_t o = 0; o < outer; o++) {
            const float *row = x + (o * len + c) * inner;
            for (int64_t i = 0; i < inner; i++) {
                float a = fabsf(row[i]);
                if (a > amax) amax = a; /* NaN never wins the comparison */
            }
        }
        scales[c] = ac_q_sym_scale(isfinite(amax) ? amax : 0.0f);
    }
}

void ac_q_weight_quantize(const ac_tensor *w, int32_t axis, const float *scales, int8_t *q) {
    int64_t outer, len, inner;
    split_dims(w, axis, &outer, &len, &inner);
    const float *x = w->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < len; c++) {
            int64_t e0 = (o * len + c) * inner;
            for (int64_t i = 0; i < inner; i++)
                q[e0 + i] = ac_q_quantize_s8_sym(x[e0 + i], scales[c]);
        }
}
