/* SPDX-License-Identifier: MIT */
/* Reference BatchNormalization: per channel y = (x - mean) / sqrt(var + eps) * scale + B, with
 * running statistics (inference) or this batch's statistics (training_mode, opset >= 14; then
 * outputs 1 and 2 are the updated running mean and variance). One task per channel. */
#include "../../ops/nn.h"

#include <math.h>

static void bn_task(void *user, int64_t c, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_bn_params *q = n->params;
    const float *x = n->in[0]->data;
    float *y = n->out[0]->data;
    float scale = ((const float *)n->in[1]->data)[c], bias = ((const float *)n->in[2]->data)[c];
    float mean = ((const float *)n->in[3]->data)[c], var = ((const float *)n->in[4]->data)[c];
    float bmean = mean, bvar = var;
    if (q->training) {
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < q->N; i++)
            for (int64_t j = 0; j < q->inner; j++) s += x[(i * q->C + c) * q->inner + j];
        double cnt = (double)(q->N * q->inner), mu = cnt > 0 ? s / cnt : 0;
        for (int64_t i = 0; i < q->N; i++)
            for (int64_t j = 0; j < q->inner; j++) {
                double dv = x[(i * q->C + c) * q->inner + j] - mu;
                s2 += dv * dv;
            }
        bmean = (float)mu;
        bvar = (float)(cnt > 0 ? s2 / cnt : 0);
    }
    float f = scale / sqrtf(bvar + q->eps), sh = bias - bmean * f;
    for (int64_t i = 0; i < q->N; i++)
        for (int64_t j = 0; j < q->inner; j++) {
            int64_t o = (i * q->C + c) * q->inner + j;
            y[o] = x[o] * f + sh;
        }
    /* optional outputs: running mean, running var, saved mean, saved var */
    float outs[4] = {mean, var, bmean, bvar};
    if (q->training) {
        outs[0] = mean * q->momentum + bmean * (1.0f - q->momentum);
        outs[1] = var * q->momentum + bvar * (1.0f - q->momentum);
    }
    for (int32_t k = 1; k < n->n_out && k < 5; k++)
        if (n->out[k]) ((float *)n->out[k]->data)[c] = outs[k - 1];
}

static void run_bn(const rt_node *n, const rt_ctx *x) {
    const rt_bn_params *q = n->params;
    rt_parallel_for(x, q->C, bn_task, (void *)n);
}

const rt_kernel rt_k_batchnorm_ref = {"batchnorm_ref", "BatchNormalization", AC_ISA_REF, NULL,
                                      NULL, run_bn};
