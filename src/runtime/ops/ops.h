/* SPDX-License-Identifier: MIT */
/* Infer functions (shape/type inference + attribute parsing) of every op, and the parameter
 * structs their kernels read. One file per op family under ops/. */
#ifndef AC_RT_OPS_H
#define AC_RT_OPS_H

#include "../rt.h"

/* ---- elementwise (ops/elementwise.c) ---------------------------------------------------- */
typedef enum rt_ew_kind {
    RT_EW_ABS, RT_EW_CEIL, RT_EW_ERF, RT_EW_EXP, RT_EW_FLOOR, RT_EW_HARD_SIGMOID,
    RT_EW_HARD_SWISH, RT_EW_LEAKY_RELU, RT_EW_LOG, RT_EW_NEG, RT_EW_NOT, RT_EW_RECIPROCAL,
    RT_EW_RELU, RT_EW_SIGMOID, RT_EW_SQRT, RT_EW_TANH, RT_EW_CLIP,
    RT_EW_SOFTPLUS, RT_EW_SOFTSIGN, RT_EW_ELU, RT_EW_SELU, RT_EW_CELU, RT_EW_THRESHOLDED_RELU,
    RT_EW_MISH, RT_EW_GELU, RT_EW_ROUND, RT_EW_SIGN, RT_EW_SHRINK, RT_EW_SIN, RT_EW_COS,
    RT_EW_TAN, RT_EW_ASIN, RT_EW_ACOS, RT_EW_ATAN, RT_EW_SINH, RT_EW_COSH, RT_EW_ASINH,
    RT_EW_ACOSH, RT_EW_ATANH, RT_EW_ISNAN, RT_EW_ISINF,
    /* binary */
    RT_EW_ADD, RT_EW_SUB, RT_EW_MUL, RT_EW_DIV, RT_EW_POW, RT_EW_PRELU, RT_EW_MAX, RT_EW_MIN,
    RT_EW_SUM, RT_EW_MEAN, RT_EW_EQUAL, RT_EW_GREATER, RT_EW_LESS, RT_EW_AND, RT_EW_OR,
    RT_EW_XOR, RT_EW_MOD,
} rt_ew_kind;

typedef struct rt_ew_params {
    rt_ew_kind kind;
    float alpha, beta; /* LeakyRelu, Elu, Celu, ThresholdedRelu alpha; HardSigmoid alpha/beta;
                        * Selu alpha/gamma; Shrink lambd/bias; Clip min/max */
    int tanh_gelu;     /* Gelu approximate = "tanh" */
    int fmod;          /* Mod: C's fmod (sign of the dividend) instead of the divisor's sign */
    int inf_pos, inf_neg; /* IsInf: which infinities count */
    double lo, hi;     /* Clip bounds for integer tensors */
    int dyn_bounds;    /* Clip bounds come from non-constant inputs: read at run time */
} rt_ew_params;

/* Reads a one-element numeric tensor as double (Clip bounds). */
double rt_ew_scalar(const rt_tensor *t);

ac_status rt_infer_unary(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_clip(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_binary(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_pow(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_prelu(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_compare(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_variadic(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_where(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_logical(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_mod(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_isnan_isinf(rt_plan *p, rt_node *n, ac_diag *d);

#endif
