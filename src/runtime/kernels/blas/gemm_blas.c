/* SPDX-License-Identifier: MIT */
/* Gemm and MatMul on OpenBLAS sgemm. The output is cut into row/column blocks chosen from the
 * shape alone (never the thread count); each task runs one sgemm on its block and applies the
 * residual and activation while the block is in cache. */
#include "../../ops/nn.h"

#include <cblas.h>

typedef struct mm_blocks {
    int64_t rb, cb, nrb, ncb;
} mm_blocks;

static int64_t round16(int64_t v) { return (v + 15) / 16 * 16; }

/* Blocks of an [M, N] output repeated `batch` times, aiming at >= 16 tasks of useful size. */
static void choose_blocks(int64_t batch, int64_t M, int64_t N, int64_t K, mm_blocks *b) {
    b->rb = M;
    b->cb = N;
    if (M <= 0 || N <= 0) {
        b->nrb = b->ncb = 0;
        return;
    }
    for (;;) {
        int64_t tasks = batch * ((M + b->rb - 1) / b->rb) * ((N + b->cb - 1) / b->cb);
        int64_t work = b->rb * b->cb * K;
        if (tasks >= 16 || work < (1 << 18)) break;
        if (b->rb >= 64 && b->rb >= b->cb / 4) b->rb = round16((b->rb + 1) / 2);
        else if (b->cb >= 128) b->cb = round16((b->cb + 1) / 2);
        else break;
    }
    b->nrb = (M + b->rb - 1) / b->rb;
    b->ncb = (N + b->cb - 1) / b->cb;
}

static ac_status prepare_gemm(rt_plan *p, rt_node *n, ac_diag *d) {
    rt_blas_init();
    const rt_gemm_params *q = n->params;
    mm_blocks *b = rt_plan_alloc(p, sizeof *b);
    if (!b) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    choose_blocks(1, q->M, q->N, q->K, b);
    n->kstate = b;
    return AC_OK;
}

static void gemm_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_gemm_params *q = n->params;
    const mm_blocks *bl = n->kstate;
    int64_t i0 = (task / bl->ncb) * bl->rb, j0 = (task % bl->ncb) * bl->cb;
    int64_t mi = q->M - i0 < bl->rb ? q->M - i0 : bl->rb;
    int64_t nj = q->N - j0 < bl->cb ? q->N - j0 : bl->cb;
    const float *a = n->in[0]->data, *b = n->in[1]->data;
    const float *c = q->has_c && n->in[2] && q->beta != 0.0f ? (const float *)n->in[2]->data
                                                              : NULL;
    float *y = (float *)n->out[0]->data + i0 * q->N + j0;
    if (c)
        for (int64_t i = 0; i < mi; i++)
            for (int64_t jj = 0; jj < nj; jj++)
                y[i * q->N + jj] = q->beta * c[(i0 + i) * q->c_rs + (j0 + jj) * q->c_cs];
    if (q->K > 0)
        cblas_sgemm(CblasRowMajor, q->trans_a ? CblasTrans : CblasNoTrans,
                    q->trans_b ? CblasTrans : CblasNoTrans, (blasint)mi, (blasint)nj,
                    (blasint)q->K, q->alpha, q->trans_a ? a + i0 : a + i0 * q->K,
                    (blasint)(q->trans_a ? q->M : q->K), q->trans_b ? b + j0 * q->K : b + j0,
                    (blasint)(q->trans_b ? q->K : q->N), c ? 1.0f : 0.0f, y, (blasint)q->N);
    else if (!c)
        for (int64_t i = 0; i < mi; i++)
            for (int64_t jj = 0; jj < nj; jj++) y[i * q->N + jj] = 0.0f;
    const float *s = n->sum ? (const float *)n->sum->data + i0 * q->N + j0 : NULL;
    for (int64_t i = 0; i < mi; i++)
        rt_nn_epilogue(&n->act, y + i * q->N, nj, 0.0f, s ? s + i * q->N : NULL);
}

static void run_gemm(const rt_node *n, const rt_ctx *x) {
    const mm_blocks *bl = n->kstate;
    rt_parallel_for(x, bl->nrb * bl->ncb, gemm_task, (void *)n);
}

static int score_f32(const rt_node *n) { return n->in[0]->dtype == AC_DTYPE_F32 ? 10 : 0; }

const rt_kernel rt_k_gemm_blas = {"gemm_blas", "Gemm", AC_ISA_BLAS, score_f32, prepare_gemm,
                                  run_gemm};

static ac_status prepare_matmul(rt_plan *p, rt_node *n, ac_diag *d) {
    rt_blas_init();
    const rt_matmul_params *q = n->params;
    mm_blocks *b = rt_plan_alloc(p, sizeof *b);
    if (!b) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    choose_blocks(q->batch, q->M, q->N, q->K, b);
    n->kstate = b;
    return AC_OK;
}

static void matmul_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_matmul_params *q = n->params;
    const mm_blocks *bl = n->kstate;
    int64_t per = bl->nrb * bl->ncb, bi = task / per, r = task % per, oa, ob;
    int64_t i0 = (r / bl->ncb) * bl->rb, j0 = (r % bl->ncb) * bl->cb;
    int64_t mi = q->M - i0 < bl->rb ? q->M - i0 : bl->rb;
    int64_t nj = q->N - j0 < bl->cb ? q->N - j0 : bl->cb;
    rt_matmul_batch(q, bi, &oa, &ob);
    const float *a = (const float *)n->in[0]->data + oa * q->M * q->K + i0 * q->K;
    const float *b = (const float *)n->in[1]->data + ob * q->K * q->N + j0;
    float *y = (float *)n->out[0]->data + bi * q->M * q->N + i0 * q->N + j0;
    if (q->K > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)mi, (blasint)nj,
                    (blasint)q->K, 1.0f, a, (blasint)q->K, b, (blasint)q->N, 0.0f, y,
                    (blasint)q->N);
    else
        for (int64_t i = 0; i < mi; i++)
            for (int64_t jj = 0; jj < nj; jj++) y[i * q->N + jj] = 0.0f;
    const float *s = n->sum ? (const float *)n->sum->data + bi * q->M * q->N + i0 * q->N + j0
                            : NULL;
    for (int64_t i = 0; i < mi; i++)
        rt_nn_epilogue(&n->act, y + i * q->N, nj, 0.0f, s ? s + i * q->N : NULL);
}

static void run_matmul(const rt_node *n, const rt_ctx *x) {
    const rt_matmul_params *q = n->params;
    const mm_blocks *bl = n->kstate;
    rt_parallel_for(x, q->batch * bl->nrb * bl->ncb, matmul_task, (void *)n);
}

const rt_kernel rt_k_matmul_blas = {"matmul_blas", "MatMul", AC_ISA_BLAS, score_f32,
                                    prepare_matmul, run_matmul};
