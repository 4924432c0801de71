/* SPDX-License-Identifier: MIT */
/* Int32 bias (ORT mode). QLinearConv / QGemm add the bias to the int32 accumulator of
 * (x_q - zp_x) * w_q, whose unit is s_in * s_w[c]; so the bias is stored in that unit with zero
 * point 0. The scale is the float32 product, as ORT's quantizer computes it, so a model we
 * write and one ORT's tools write for the same scales hold the same integers. */
#include "quant_internal.h"

#include <float.h>
#include <math.h>

/* Largest |bias| / bias_scale we store: int32 with headroom, since the kernels add the bias to
 * accumulators that already hold up to K * 127 * 255. */
#define BIAS_LIMIT 1073741823.0 /* 2^30 - 1 */

static float chan_scale(const float *w_scales, int64_t n_w, int64_t c) {
    return n_w == 1 ? w_scales[0] : w_scales[c];
}

int64_t ac_q_bias_fit(const float *b, int64_t n, float s_in, float *w_scales, int64_t n_w) {
    int64_t raised = 0;
    for (int64_t c = 0; c < n; c++) {
        float bs = s_in * chan_scale(w_scales, n_w, c);
        double need = isfinite(b[c]) ? fabs((double)b[c]) / BIAS_LIMIT : 0.0;
        if ((double)bs >= need || need == 0.0) continue;
        /* raise the weight scale so the bias fits: the weights of that channel (tiny next to
         * the bias, or all zero) lose precision they barely had */
        float ws = (float)(need / (double)s_in) * (1.0f + 4.0f * FLT_EPSILON);
        if (!(ws >= FLT_MIN)) ws = FLT_MIN;
        if (n_w == 1) {
            if (ws > w_scales[0]) w_scales[0] = ws;
        } else {
            w_scales[c] = ws;
        }
        raised++;
    }
    return raised;
}

void ac_q_bias_quantize(const float *b, int64_t n, float s_in, const float *w_scales, int64_t n_w,
                        int32_t *q, float *b_scales) {
    for (int64_t c = 0; c < n; c++) {
        float bs = s_in * chan_scale(w_scales, n_w, c);
        if (!(bs >= FLT_MIN)) bs = FLT_MIN;
        if (n_w > 1 || c == 0) b_scales[n_w > 1 ? c : 0] = bs;
        q[c] = (int32_t)ac_q_quantize_value(isfinite(b[c]) ? b[c] : 0.0f, bs, 0, AC_DTYPE_S32);
    }
}
