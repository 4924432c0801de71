/* SPDX-License-Identifier: MIT */
/* Reference Gemm and MatMul: plain triple loops, one task per output row. */
#include "../../ops/nn.h"

static void gemm_task(void *user, int64_t i, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_gemm_params *q = n->params;
    const float *a = n->in[0]->data, *b = n->in[1]->data;
    const float *c = q->has_c && n->in[2] ? (const float *)n->in[2]->data : NULL;
    float *y = (float *)n->out[0]->data + i * q->N;
    for (int64_t j = 0; j < q->N; j++) {
        float acc = 0.0f;
        for (int64_t k = 0; k < q->K; k++) {
            float av = q->trans_a ? a[k * q->M + i] : a[i * q->K + k];
            float bv = q->trans_b ? b[j * q->K + k] : b[k * q->N + j];
            acc += av * bv;
        }
        acc *= q->alpha;
        if (c) acc += q->beta * c[i * q->c_rs + j * q->c_cs];
        y[j] = acc;
    }
    const float *s = n->sum ? (const float *)n->sum->data + i * q->N : NULL;
    rt_nn_epilogue(&n->act, y, q->N, 0.0f, s);
}

static void run_gemm(const rt_node *n, const rt_ctx *x) {
    const rt_gemm_params *q = n->params;
    rt_parallel_for(x, q->M, gemm_task, (void *)n);
}

static int score_f32(const rt_node *n) { return n->in[0]->dtype == AC_DTYPE_F32; }

const rt_kernel rt_k_gemm_ref = {"gemm_ref", "Gemm", AC_ISA_REF, score_f32, NULL, run_gemm};

static void matmul_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_matmul_params *q = n->params;
    int64_t bi = task / q->M, i = task % q->M, oa, ob;
    rt_matmul_batch(q, bi, &oa, &ob);
    const float *a = (const float *)n->in[0]->data + oa * q->M * q->K + i * q->K;
    const float *b = (const float *)n->in[1]->data + ob * q->K * q->N;
    float *y = (float *)n->out[0]->data + (bi * q->M + i) * q->N;
    for (int64_t j = 0; j < q->N; j++) {
        float acc = 0.0f;
        for (int64_t k = 0; k < q->K; k++) acc += a[k] * b[k * q->N + j];
        y[j] = acc;
    }
    const float *s = n->sum ? (const float *)n->sum->data + (bi * q->M + i) * q->N : NULL;
    rt_nn_epilogue(&n->act, y, q->N, 0.0f, s);
}

static void run_matmul(const rt_node *n, const rt_ctx *x) {
    const rt_matmul_params *q = n->params;
    rt_parallel_for(x, q->batch * q->M, matmul_task, (void *)n);
}

const rt_kernel rt_k_matmul_ref = {"matmul_ref", "MatMul", AC_ISA_REF, score_f32, NULL,
                                   run_matmul};
