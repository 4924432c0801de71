/* SPDX-License-Identifier: MIT */
/* Gemm with transB = 1 and few rows of A (the fully connected classifier at batch 1..32),
 * AVX-512: Y[i, j] = alpha * dot(A[i, :], B[j, :]) + beta * C[i, j], then activation / residual.
 *
 * Why: that layer is a matrix-vector product streaming the whole weight matrix (ResNet-50's
 * 2048 x 1000 = 8 MB) once; OpenBLAS runs it as a small sgemm with packing. Here both A's row
 * and B's rows are contiguous in K, so each output is a dot product vectorised over K: eight
 * B rows stream side by side per A row (eight independent accumulators), each B block is reused
 * from cache by every row of A, and nothing is packed. Tasks are blocks of 64 output columns
 * (fixed by the shape), and every output's summation order is fixed, so results do not depend
 * on the thread count. */
#include "../../ops/nn.h"

#include <immintrin.h>

#define JB 64 /* output columns per task */

/* Dot products of one A row with rows j0..j0+nj (nj <= 8) of B, into out[0..nj). */
static inline void dot8(const float *a, const float *b, int64_t ldb, int64_t K, int nj,
                        float *out) {
    __m512 acc[8];
    const float *r[8];
    for (int j = 0; j < 8; j++) {
        acc[j] = _mm512_setzero_ps();
        r[j] = b + (j < nj ? j : 0) * ldb;
    }
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 av = _mm512_loadu_ps(a + k);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) acc[j] = _mm512_fmadd_ps(av, _mm512_loadu_ps(r[j] + k), acc[j]);
    }
    if (k < K) {
        __mmask16 m = (__mmask16)((1u << (K - k)) - 1u);
        __m512 av = _mm512_maskz_loadu_ps(m, a + k);
        for (int j = 0; j < 8; j++)
            acc[j] = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, r[j] + k), acc[j]);
    }
    for (int j = 0; j < nj; j++) out[j] = _mm512_reduce_add_ps(acc[j]);
}

static void task(void *user, int64_t t, int32_t thread) {
    (void)thread;
    const rt_node *n = user;
    const rt_gemm_params *q = n->params;
    const float *A = n->in[0]->data, *B = n->in[1]->data;
    const float *C = q->has_c && n->in[2] && q->beta != 0.0f ? (const float *)n->in[2]->data
                                                              : NULL;
    const float *S = n->sum ? (const float *)n->sum->data : NULL;
    float *Y = n->out[0]->data;
    int64_t j0 = t * JB, j1 = j0 + JB < q->N ? j0 + JB : q->N;
    for (int64_t jb = j0; jb < j1; jb += 8) {
        int nj = j1 - jb < 8 ? (int)(j1 - jb) : 8;
        for (int64_t i = 0; i < q->M; i++) {
            float d[8];
            dot8(A + i * q->K, B + jb * q->K, q->K, q->K, nj, d);
            float *y = Y + i * q->N + jb;
            for (int j = 0; j < nj; j++) {
                float v = q->alpha * d[j];
                if (C) v += q->beta * C[i * q->c_rs + (jb + j) * q->c_cs];
                y[j] = v;
            }
            rt_nn_epilogue(&n->act, y, nj, 0.0f, S ? S + i * q->N + jb : NULL);
        }
    }
}

static void run(const rt_node *n, const rt_ctx *x) {
    const rt_gemm_params *q = n->params;
    rt_parallel_for(x, (q->N + JB - 1) / JB, task, (void *)n);
}

static int score(const rt_node *n) {
    const rt_gemm_params *q = n->params;
    if (!q || n->in[0]->dtype != AC_DTYPE_F32 || !q->trans_b || q->trans_a) return 0;
    return q->M <= 32 && q->K > 0 ? 20 : 0;
}

const rt_kernel rt_k_gemm_nt_avx512 = {"gemm_nt_avx512", "Gemm", AC_ISA_AVX512, score, NULL, run};
