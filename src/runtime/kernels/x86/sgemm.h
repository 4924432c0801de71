/* SPDX-License-Identifier: MIT */
/* Conv-oriented SGEMM kernels with a fused epilogue. Callable only after the registry checked
 * the CPU (they are compiled for their ISA). */
#ifndef AC_RT_SGEMM_H
#define AC_RT_SGEMM_H

#include "../../rt.h"

/* Applied to C on the final pass: C = act(C + bias[row] + sum[row, col]). Pointers are relative
 * to the first row/column of the C passed in; any may be NULL. */
typedef struct rt_gemm_epi {
    const float *bias;
    const float *sum;
    int64_t lds;
    const rt_act *act;
} rt_gemm_epi;

/* C[M,N] = epilogue(A[M,K] x B[K,N]); all row-major with leading dimensions lda, ldb, ldc. */
typedef void (*rt_sgemm_fn)(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                            const float *B, int64_t ldb, float *C, int64_t ldc,
                            const rt_gemm_epi *ep);

void rt_sgemm_avx512(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                     const float *B, int64_t ldb, float *C, int64_t ldc, const rt_gemm_epi *ep);

/* dst[i] = src[i * stride] for i < n (im2col of strided convolutions). */
typedef void (*rt_copy_strided_fn)(float *dst, const float *src, int64_t n, int64_t stride);
void rt_copy_strided_avx512(float *dst, const float *src, int64_t n, int64_t stride);

#endif
