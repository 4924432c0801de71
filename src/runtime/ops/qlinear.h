/* SPDX-License-Identifier: MIT */
/* Integer QDQ groups (qdq_fuse.c) and their reference kernel (kernels/ref/qlinear.c).
 *
 * The planner replaces DequantizeLinear -> op -> QuantizeLinear groups by one node that computes
 * what ONNX Runtime's CPU kernels compute for the same group (QLinearConv, QGemm, QLinearAdd,
 * QLinearMul, QLinearSigmoid, QLinearGlobalAveragePool), so our quantized tensors match ORT's bit
 * for bit instead of within a rounding step. The node keeps src (the op's graph node, for
 * labels and errors) but its op is rt_op_qlinear and its params an rt_qlinear. */
#ifndef AC_RT_OPS_QLINEAR_H
#define AC_RT_OPS_QLINEAR_H

#include "nn.h"

typedef enum rt_ql_kind {
    RT_QL_CONV,  /* in[0] x; weights, bias, scales below */
    RT_QL_GEMM,  /* in[0] A [M, K]; B, C, scales below; output quantized or float */
    RT_QL_ADD,   /* in[0] a, in[1] b (same shape, or one of them a single element) */
    RT_QL_MUL,
    RT_QL_LUT,   /* in[0] x; 256-entry table (QLinearSigmoid) */
    RT_QL_GAP,   /* in[0] x [N, C, spatial...] -> [N, C, 1...] */
} rt_ql_kind;

typedef struct rt_qlinear {
    rt_ql_kind kind;
    int x_signed, y_signed; /* int8 (else uint8) input / output */
    int float_out;          /* GEMM without an output QuantizeLinear: y is float */
    int32_t zx, zb, zy;     /* zero points of input a/x, input b, output */
    float sx, sb, sy;       /* scales of the same */
    /* CONV */
    rt_conv_params cp;
    /* GEMM: y[m, n] = sum_k (A[m, k] - zx) * B(k, n) + C[n] */
    int64_t M, N, K, b_rs, b_cs; /* B(k, n) = w[k * b_rs + n * b_cs] */
    /* CONV and GEMM */
    const int8_t *w;     /* CONV: [M, Cg, k...] as in the model */
    const int32_t *bias; /* per output channel, NULL when absent */
    float *scale;        /* per output channel: s_x * s_w[c] / s_y (or s_x * s_w[c]) */
    /* ADD / MUL */
    int64_t n_elem;
    int a_bcast, b_bcast; /* that input is a single element */
    /* LUT */
    uint8_t lut[256];
    /* GAP */
    int64_t planes, image;
} rt_qlinear;

extern const rt_op rt_op_qlinear;
extern const rt_kernel rt_k_qlinear_ref;
/* kernels/x86: QLinearConv on the AVX-512 float GEMM, exact (see that file) */
extern const rt_kernel rt_k_qlinear_conv_avx512;

/* Rounds v half to even (the MXCSR default that ORT's cvtps2dq uses) after clamping it to the
 * output type's range shifted by the zero point, then adds the zero point. */
int32_t rt_ql_requant(float v, int32_t zy, int y_signed);

/* Computes ORT's MlasComputeLogistic (the FMA3 kernel on x86-64) for one value. */
float rt_ql_logistic(float x);

#endif
