/* SPDX-License-Identifier: MIT */
/* The "nn" op family: Conv, ConvTranspose, Gemm, MatMul, BatchNormalization,
 * InstanceNormalization, LayerNormalization, LRN, Einsum. Parameter structs
 * filled by the infer functions in ops/nn.c and read by the kernels under kernels/ref, blas
 * and x86. Every Conv/ConvTranspose/Gemm/MatMul kernel applies n->sum and n->act to out[0]. */
#ifndef AC_RT_NN_H
#define AC_RT_NN_H

#include "../rt.h"

/* Conv and ConvTranspose. Spatial axes are right-aligned into three (D, H, W): a 2-D conv has
 * in[0] = out[0] = k[0] = 1, stride[0] = dil[0] = 1, pads 0, so kernels loop over 3 axes. */
typedef struct rt_conv_params {
    int32_t nd;          /* spatial rank of the model's tensors, 1..3 */
    int64_t N, C, M;     /* batch, input channels, output channels */
    int64_t group, Cg, Mg; /* groups, input and output channels per group */
    int64_t in[3], out[3], k[3], stride[3], dil[3], pad0[3], pad1[3];
    int64_t in_sp, out_sp, k_sp; /* products over the three axes */
    int transposed;
    int has_bias;
    int ort_order; /* a float Conv of a QDQ model: sum in ORT's order (kernels/x86/conv_ortorder) */
} rt_conv_params;

/* Gemm: Y[M,N] = alpha * A' B' + beta * C; C broadcast to [M,N] by element strides. */
typedef struct rt_gemm_params {
    int trans_a, trans_b;
    float alpha, beta;
    int64_t M, N, K;
    int has_c;
    int64_t c_rs, c_cs; /* C element (i, j) is C[i * c_rs + j * c_cs] */
} rt_gemm_params;

/* MatMul: batched [.., M, K] x [.., K, N] with numpy broadcasting over the batch axes. */
typedef struct rt_matmul_params {
    int64_t M, N, K, batch;
    int32_t brank;
    int64_t bdims[AC_MAX_RANK];
    int64_t astr[AC_MAX_RANK], bstr[AC_MAX_RANK]; /* batch strides, in matrices (0 = bcast) */
} rt_matmul_params;

/* BatchNormalization (X in NC...; statistics per channel). */
typedef struct rt_bn_params {
    float eps, momentum;
    int training; /* opset >= 14 training_mode = 1: batch statistics, running outputs */
    int64_t N, C, inner;
} rt_bn_params;

/* InstanceNormalization and LayerNormalization: `rows` runs of `inner` contiguous values, each
 * normalized by its own mean and variance, then y = x_hat * scale[s] + bias[s] where
 * s = (row % sc_rows) * sc_inner + (i % sc_inner): InstanceNormalization scales per channel
 * (sc_rows = C, sc_inner = 1), LayerNormalization per position of the normalized axes
 * (sc_rows = 1, sc_inner = inner) or by one value (sc_inner = 1). */
typedef struct rt_norm_params {
    int64_t rows, inner;
    int64_t sc_rows, sc_inner;
    float eps;
    int has_bias;
} rt_norm_params;

/* LRN over the channels of [N, C, ...]: y = x / (bias + alpha / size * sum of x^2 over
 * channels [c - (size - 1) / 2, c + size / 2])^beta. */
typedef struct rt_lrn_params {
    int64_t N, C, inner, size;
    float alpha, beta, bias;
} rt_lrn_params;

/* Einsum: every axis of every input and of the output carries a label (a letter, or one of
 * the ellipsis's broadcast axes); the output is the sum over the other labels of the product
 * of the inputs. Strides are 0 where an input broadcasts (an ellipsis axis of size 1). */
#define RT_EINSUM_MAX_IN 8
#define RT_EINSUM_MAX_LABELS (52 + AC_MAX_RANK)
typedef struct rt_einsum_params {
    int32_t n_in, n_labels, n_out, n_sum;
    int64_t size[RT_EINSUM_MAX_LABELS];
    int32_t out[AC_MAX_RANK];            /* labels of the output axes, in order */
    int32_t sum[RT_EINSUM_MAX_LABELS];   /* labels summed over */
    int64_t stride[RT_EINSUM_MAX_IN][RT_EINSUM_MAX_LABELS]; /* per input, per label */
} rt_einsum_params;

ac_status rt_infer_conv(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_conv_transpose(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_gemm(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_matmul(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_batchnorm(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_instancenorm(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_layernorm(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_lrn(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_einsum(rt_plan *p, rt_node *n, ac_diag *d);

/* Offsets of the A and B matrices of output batch b (in matrices). */
static inline void rt_matmul_batch(const rt_matmul_params *q, int64_t b, int64_t *oa,
                                   int64_t *ob) {
    int64_t a = 0, c = 0;
    for (int32_t i = q->brank - 1; i >= 0; i--) {
        int64_t x = b % q->bdims[i];
        b /= q->bdims[i];
        a += x * q->astr[i];
        c += x * q->bstr[i];
    }
    *oa = a;
    *ob = c;
}

/* Shared epilogue (kernels/ref/conv.c): y[i] = act(y[i] + bias + sum[i]) for i < n; sum may be
 * NULL. The order matches ONNX: op(...) + bias, then the residual, then the activation. */
void rt_nn_epilogue(const rt_act *a, float *y, int64_t n, float bias, const float *sum);

/* kernels/blas/conv_blas.c: col[Cg * k_sp, T] for output positions [col0, col0 + T) of one
 * image and group (x at its first input channel), zeros where the kernel reads padding. */
void rt_conv_im2col(const rt_conv_params *q, const float *x, int64_t col0, int64_t T,
                    float *col);

/* Makes OpenBLAS single-threaded (the engine splits work itself); idempotent. */
void rt_blas_init(void);

/* kernels/ref */
extern const rt_kernel rt_k_conv_ref, rt_k_conv_transpose_ref, rt_k_gemm_ref, rt_k_matmul_ref,
    rt_k_batchnorm_ref, rt_k_instancenorm_ref, rt_k_layernorm_ref, rt_k_lrn_ref,
    rt_k_einsum_ref;
/* kernels/blas */
extern const rt_kernel rt_k_conv_blas, rt_k_conv_avx512, rt_k_conv_transpose_blas, rt_k_gemm_blas,
    rt_k_matmul_blas;
/* kernels/x86: depthwise 3x3 stride 1/2 */
extern const rt_kernel rt_k_dwconv3x3_avx2, rt_k_dwconv3x3_avx512;
/* kernels/x86: Gemm with transB and few rows (fully connected layers at small batch) */
extern const rt_kernel rt_k_gemm_nt_avx512;
/* kernels/x86: float Conv summed in ONNX Runtime's (MLAS's) order, for QDQ models */
extern const rt_kernel rt_k_conv_ortorder_avx2;
/* kernels/x86: Winograd F(4x4, 3x3) for 3x3 stride-1 convs */
extern const rt_kernel rt_k_conv_wino_avx512;

/* kernels/x86: a pointwise Conv and the depthwise 3x3 Conv reading it, as one node (n->dw) */
extern const rt_kernel rt_k_pwdw_avx512;

/* 1x1, stride 1, unpadded: per group the conv is a GEMM on the input itself. */
static inline int rt_conv_is_pointwise(const rt_conv_params *q) {
    if (!q || q->transposed || q->k_sp != 1 || q->in_sp != q->out_sp) return 0;
    for (int i = 0; i < 3; i++)
        if (q->stride[i] != 1 || q->pad0[i] != 0 || q->pad1[i] != 0) return 0;
    return 1;
}

/* Depthwise 3x3 applicability shared by the x86 kernels. */
static inline int rt_dw3x3_ok(const rt_node *n) {
    const rt_conv_params *q = n->params;
    if (!q || q->transposed || n->in[0]->dtype != AC_DTYPE_F32) return 0;
    if (q->nd != 2 || q->group != q->C || q->M != q->C || q->k[1] != 3 || q->k[2] != 3) return 0;
    if (q->dil[1] != 1 || q->dil[2] != 1 || q->stride[1] != q->stride[2]) return 0;
    if (q->stride[1] != 1 && q->stride[1] != 2) return 0;
    return q->pad0[1] <= 2 && q->pad1[1] <= 2 && q->pad0[2] <= 2 && q->pad1[2] <= 2;
}

#endif
