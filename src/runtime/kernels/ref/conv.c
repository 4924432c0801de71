/* SPDX-License-Identifier: MIT */
/* Reference Conv and ConvTranspose: direct loops over the three (D, H, W) axes, one task per
 * (image, output channel). Simple on purpose: the oracle the optimized kernels are tested
 * against. Also the epilogue every nn kernel shares. */
#include "../../ops/nn.h"

void rt_nn_epilogue(const rt_act *a, float *y, int64_t n, float bias, const float *sum) {
    if (sum)
        for (int64_t i = 0; i < n; i++) y[i] = y[i] + bias + sum[i];
    else if (bias != 0.0f)
        for (int64_t i = 0; i < n; i++) y[i] += bias;
    rt_act_apply(a, y, n);
}

static void conv_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_conv_params *q = n->params;
    int64_t img = task / q->M, m = task % q->M, g = m / q->Mg;
    const float *x = (const float *)n->in[0]->data + (img * q->C + g * q->Cg) * q->in_sp;
    const float *w = (const float *)n->in[1]->data + m * q->Cg * q->k_sp;
    float *y = (float *)n->out[0]->data + (img * q->M + m) * q->out_sp;
    float bias = q->has_bias && n->in[2] ? ((const float *)n->in[2]->data)[m] : 0.0f;
    for (int64_t od = 0; od < q->out[0]; od++)
    for (int64_t oh = 0; oh < q->out[1]; oh++)
    for (int64_t ow = 0; ow < q->out[2]; ow++) {
        float acc = 0.0f;
        for (int64_t c = 0; c < q->Cg; c++)
        for (int64_t kd = 0; kd < q->k[0]; kd++) {
            int64_t id = od * q->stride[0] - q->pad0[0] + kd * q->dil[0];
            if (id < 0 || id >= q->in[0]) continue;
            for (int64_t kh = 0; kh < q->k[1]; kh++) {
                int64_t ih = oh * q->stride[1] - q->pad0[1] + kh * q->dil[1];
                if (ih < 0 || ih >= q->in[1]) continue;
                for (int64_t kw = 0; kw < q->k[2]; kw++) {
                    int64_t iw = ow * q->stride[2] - q->pad0[2] + kw * q->dil[2];
                    if (iw < 0 || iw >= q->in[2]) continue;
                    acc += x[c * q->in_sp + (id * q->in[1] + ih) * q->in[2] + iw] *
                           w[((c * q->k[0] + kd) * q->k[1] + kh) * q->k[2] + kw];
                }
            }
        }
        y[(od * q->out[1] + oh) * q->out[2] + ow] = acc;
    }
    const float *s = n->sum ? (const float *)n->sum->data + (img * q->M + m) * q->out_sp : NULL;
    rt_nn_epilogue(&n->act, y, q->out_sp, bias, s);
}

static void run_conv(const rt_node *n, const rt_ctx *x) {
    const rt_conv_params *q = n->params;
    rt_parallel_for(x, q->N * q->M, conv_task, (void *)n);
}

static int score_f32(const rt_node *n) { return n->in[0]->dtype == AC_DTYPE_F32; }

const rt_kernel rt_k_conv_ref = {"conv_ref", "Conv", AC_ISA_REF, score_f32, NULL, run_conv};

/* ConvTranspose: y[o] += x[i] * w[k] wherever o = i * stride - pad0 + k * dil. A task owns one
 * output channel and gathers into it, so no two tasks write the same element. */
static void convt_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_conv_params *q = n->params;
    int64_t img = task / q->M, m = task % q->M, g = m / q->Mg, mg = m % q->Mg;
    const float *x = (const float *)n->in[0]->data + (img * q->C + g * q->Cg) * q->in_sp;
    /* W is [C, Mg, k...] */
    const float *w = (const float *)n->in[1]->data;
    float *y = (float *)n->out[0]->data + (img * q->M + m) * q->out_sp;
    float bias = q->has_bias && n->in[2] ? ((const float *)n->in[2]->data)[m] : 0.0f;
    for (int64_t i = 0; i < q->out_sp; i++) y[i] = 0.0f;
    for (int64_t c = 0; c < q->Cg; c++) {
        const float *wc = w + ((g * q->Cg + c) * q->Mg + mg) * q->k_sp;
        const float *xc = x + c * q->in_sp;
        for (int64_t id = 0; id < q->in[0]; id++)
        for (int64_t ih = 0; ih < q->in[1]; ih++)
        for (int64_t iw = 0; iw < q->in[2]; iw++) {
            float v = xc[(id * q->in[1] + ih) * q->in[2] + iw];
            for (int64_t kd = 0; kd < q->k[0]; kd++) {
                int64_t od = id * q->stride[0] - q->pad0[0] + kd * q->dil[0];
                if (od < 0 || od >= q->out[0]) continue;
                for (int64_t kh = 0; kh < q->k[1]; kh++) {
                    int64_t oh = ih * q->stride[1] - q->pad0[1] + kh * q->dil[1];
                    if (oh < 0 || oh >= q->out[1]) continue;
                    for (int64_t kw = 0; kw < q->k[2]; kw++) {
                        int64_t ow = iw * q->stride[2] - q->pad0[2] + kw * q->dil[2];
                        if (ow < 0 || ow >= q->out[2]) continue;
                        y[(od * q->out[1] + oh) * q->out[2] + ow] +=
                            v * wc[(kd * q->k[1] + kh) * q->k[2] + kw];
                    }
                }
            }
        }
    }
    const float *s = n->sum ? (const float *)n->sum->data + (img * q->M + m) * q->out_sp : NULL;
    rt_nn_epilogue(&n->act, y, q->out_sp, bias, s);
}

static void run_convt(const rt_node *n, const rt_ctx *x) {
    const rt_conv_params *q = n->params;
    rt_parallel_for(x, q->N * q->M, convt_task, (void *)n);
}

const rt_kernel rt_k_conv_transpose_ref = {"conv_transpose_ref", "ConvTranspose", AC_ISA_REF,
                                           score_f32, NULL, run_convt};
