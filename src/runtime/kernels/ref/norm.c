/* SPDX-License-Identifier: MIT */
/* Reference LRN (across channels, sums in double) and InstanceNormalization and
 * LayerNormalization: each run of `inner` values is
 * normalized by its own mean and (population) variance, y = (x - mean) / sqrt(var + eps) *
 * scale + bias. The statistics are summed in double, so long runs stay accurate; one task per
 * run. LayerNormalization's optional outputs are the runs' mean and 1 / sqrt(var + eps). */
#include "../../ops/nn.h"

#include <math.h>

static void norm_task(void *user, int64_t row, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_norm_params *q = n->params;
    const float *x = (const float *)n->in[0]->data + row * q->inner;
    float *y = (float *)n->out[0]->data + row * q->inner;
    const float *scale = n->in[1]->data;
    const float *bias = q->has_bias ? n->in[2]->data : NULL;
    double s = 0.0, s2 = 0.0;
    for (int64_t i = 0; i < q->inner; i++)
        s += x[i];
    double mean = q->inner > 0 ? s / (double)q->inner : 0.0;
    for (int64_t i = 0; i < q->inner; i++)
        s2 += (x[i] - mean) * (x[i] - mean);
    double var = q->inner > 0 ? s2 / (double)q->inner : 0.0;
    double inv = 1.0 / sqrt(var + (double)q->eps);
    int64_t base = (row % q->sc_rows) * q->sc_inner;
    for (int64_t i = 0; i < q->inner; i++) {
        int64_t k = base + (q->sc_inner > 1 ? i : 0);
        y[i] = (float)((x[i] - mean) * inv * scale[k] + (bias ? bias[k] : 0.0f));
    }
    if (n->n_out > 1 && n->out[1]) ((float *)n->out[1]->data)[row] = (float)mean;
    if (n->n_out > 2 && n->out[2]) ((float *)n->out[2]->data)[row] = (float)inv;
}

static void run_norm(const rt_node *n, const rt_ctx *x) {
    const rt_norm_params *q = n->params;
    rt_parallel_for(x, q->rows, norm_task, (void *)n);
}

const rt_kernel rt_k_instancenorm_ref = {
    "instancenorm_ref", "InstanceNormalization", AC_ISA_REF, NULL, NULL, run_norm};
const rt_kernel rt_k_layernorm_ref = {"layernorm_ref", "LayerNormalization", AC_ISA_REF, NULL, NULL,
                                      run_norm};

/* One task per (image, channel): the squares of the window's channels, position by
 * position. */
static void lrn_task(void *user, int64_t t, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_lrn_params *q = n->params;
    int64_t img = t / q->C, c = t % q->C;
    int64_t lo = c - (q->size - 1) / 2, hi = c + q->size / 2;
    if (lo < 0) lo = 0;
    if (hi > q->C - 1) hi = q->C - 1;
    const float *x = (const float *)n->in[0]->data + img * q->C * q->inner;
    float *y = (float *)n->out[0]->data + t * q->inner;
    double k = (double)q->alpha / (double)q->size;
    for (int64_t i = 0; i < q->inner; i++) {
        double s = 0.0;
        for (int64_t cc = lo; cc <= hi; cc++)
            s += (double)x[cc * q->inner + i] * x[cc * q->inner + i];
        y[i] = (float)(x[c * q->inner + i] / pow(q->bias + k * s, q->beta));
    }
}

static void run_lrn(const rt_node *n, const rt_ctx *x) {
    const rt_lrn_params *q = n->params;
    rt_parallel_for(x, q->N * q->C, lrn_task, (void *)n);
}

const rt_kernel rt_k_lrn_ref = {"lrn_ref", "LRN", AC_ISA_REF, NULL, NULL, run_lrn};
