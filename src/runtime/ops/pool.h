/* SPDX-License-Identifier: MIT */
/* The "pool" op family (ops/pool.c): pooling, Resize/Upsample, Softmax/LogSoftmax, reductions,
 * ArgMax/ArgMin and QuantizeLinear/DequantizeLinear. Infer functions fill the parameter structs
 * below; the kernels in kernels/ref/{pool,resize,softmax,reduce,qdq}.c read them. */
#ifndef AC_RT_OPS_POOL_H
#define AC_RT_OPS_POOL_H

#include "../rt.h"

/* ---- pooling ------------------------------------------------------------------------------ */
#define RT_POOL_MAX_SP 3 /* 1-D, 2-D and 3-D spatial pooling */

typedef enum rt_pool_kind { RT_POOL_MAX, RT_POOL_AVG, RT_POOL_LP } rt_pool_kind;

typedef struct rt_pool_params {
    rt_pool_kind kind;
    int32_t nsp;                   /* spatial axes (rank - 2) */
    int64_t in[RT_POOL_MAX_SP];    /* input spatial dims */
    int64_t out[RT_POOL_MAX_SP];   /* output spatial dims */
    int64_t k[RT_POOL_MAX_SP];     /* kernel (the whole input for Global*) */
    int64_t s[RT_POOL_MAX_SP];     /* strides */
    int64_t dil[RT_POOL_MAX_SP];   /* dilations */
    int64_t pad[RT_POOL_MAX_SP];   /* padding before each axis */
    int64_t pad_end[RT_POOL_MAX_SP];
    int count_include_pad;         /* AveragePool */
    int storage_order;             /* MaxPool Indices: 0 row major, 1 column major */
    float p;                       /* LpPool exponent */
    int64_t planes;                /* N * C */
} rt_pool_params;

/* ---- Resize / Upsample -------------------------------------------------------------------- */
typedef enum rt_rs_mode { RT_RS_NEAREST, RT_RS_LINEAR, RT_RS_CUBIC } rt_rs_mode;
typedef enum rt_rs_ctm {
    RT_RS_HALF_PIXEL, RT_RS_HALF_PIXEL_SYMMETRIC, RT_RS_PYTORCH_HALF_PIXEL, RT_RS_ALIGN_CORNERS,
    RT_RS_ASYMMETRIC, RT_RS_TF_HALF_PIXEL_FOR_NN, RT_RS_TF_CROP_AND_RESIZE,
} rt_rs_ctm;
typedef enum rt_rs_nearest {
    RT_RS_ROUND_PREFER_FLOOR, RT_RS_ROUND_PREFER_CEIL, RT_RS_FLOOR, RT_RS_CEIL,
} rt_rs_nearest;

typedef struct rt_resize_params {
    rt_rs_mode mode;
    rt_rs_ctm ctm;
    rt_rs_nearest nearest;
    double cubic_a;
    int exclude_outside;
    float extrapolation;
    int32_t rank;
    double scale[AC_MAX_RANK];                   /* per axis, as the coordinate maps use it */
    double roi_start[AC_MAX_RANK], roi_end[AC_MAX_RANK]; /* tf_crop_and_resize, normalised */
} rt_resize_params;

/* ---- GridSample (2-D: X [N, C, H, W], grid [N, Ho, Wo, 2] of normalized (x, y)) ---------- */
typedef enum rt_gs_mode { RT_GS_LINEAR, RT_GS_NEAREST, RT_GS_CUBIC } rt_gs_mode;
typedef enum rt_gs_pad { RT_GS_ZEROS, RT_GS_BORDER, RT_GS_REFLECTION } rt_gs_pad;
typedef struct rt_grid_sample_params {
    rt_gs_mode mode;
    rt_gs_pad pad;
    int align_corners;
    int64_t N, C, H, W, Ho, Wo;
} rt_grid_sample_params;

/* ---- Softmax / LogSoftmax ----------------------------------------------------------------- */
typedef struct rt_softmax_params {
    int log;                 /* LogSoftmax */
    int64_t outer, n, inner; /* x viewed as [outer, n, inner], normalised over n */
} rt_softmax_params;

/* ---- reductions, ArgMax/ArgMin ------------------------------------------------------------ */
typedef enum rt_red_kind {
    RT_RED_SUM, RT_RED_MEAN, RT_RED_MAX, RT_RED_MIN, RT_RED_PROD, RT_RED_L1, RT_RED_L2,
    RT_RED_LOG_SUM, RT_RED_LOG_SUM_EXP, RT_RED_SUM_SQUARE, RT_RED_ARGMAX, RT_RED_ARGMIN,
} rt_red_kind;

typedef struct rt_reduce_params {
    rt_red_kind kind;
    int32_t rank;
    uint8_t reduced[AC_MAX_RANK]; /* 1 for axes reduced over */
    int64_t count;                /* elements reduced into each output */
    int select_last_index;        /* ArgMax/ArgMin */
    int noop;                     /* empty axes with noop_with_empty_axes: output = input */
} rt_reduce_params;

/* ---- QuantizeLinear / DequantizeLinear ---------------------------------------------------- */
typedef struct rt_qdq_params {
    int quantize;
    /* x viewed as [outer, len, inner] around `axis`; element (o, a, i) uses scale and zero
     * point number o * so + (a / block) * sa + i * si: per-tensor has all strides 0, per-axis
     * sa = 1, blocked (opset 21) the scale's own strides */
    int64_t outer, len, inner, block;
    int64_t so, sa, si;
} rt_qdq_params;

ac_status rt_infer_pool(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_global_pool(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_resize(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_softmax(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_grid_sample(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_reduce(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_arg(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_qdq(rt_plan *p, rt_node *n, ac_diag *d);

/* kernels (kernels/ref/pool.c, resize.c, softmax.c, reduce.c, qdq.c) */
extern const rt_kernel rt_k_pool2d_avx2, rt_k_gavgpool_avx2, rt_k_gavgpool_avx512;
extern const rt_kernel rt_k_pool_ref, rt_k_resize_ref, rt_k_softmax_ref, rt_k_reduce_ref,
    rt_k_qdq_ref, rt_k_grid_sample_ref;

#endif
