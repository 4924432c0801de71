/* SPDX-License-Identifier: MIT */
/* Float sums in the order of ONNX Runtime's MLAS, for the float ops of a QDQ model whose
 * results go on to a QuantizeLinear, where the last bit can flip a code (see
 * rt_plan_ort_nchwc_block). */
#ifndef AC_RT_MLAS_ORDER_H
#define AC_RT_MLAS_ORDER_H

#include <stdint.h>

/* Mean of x[0..n) as MLAS's global average pool computes it: with `sequential` (ORT's NCHWc
 * kernels) one value after another from 0; otherwise (MlasPoolGlobalKernel) four partial sums
 * over the first 4 * floor(n / 4) values, added as (s0 + s2) + (s1 + s3), then the rest one by
 * one. The sum is divided by n in float. */
static inline float rt_mlas_global_mean(const float *x, int64_t n, int sequential) {
    float sum = 0.0f;
    int64_t i = 0;
    if (!sequential) {
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        for (; i + 4 <= n; i += 4) {
            s0 += x[i];
            s1 += x[i + 1];
            s2 += x[i + 2];
            s3 += x[i + 3];
        }
        sum = (s0 + s2) + (s1 + s3);
    }
    for (; i < n; i++) sum += x[i];
    return sum / (float)n;
}

#endif
