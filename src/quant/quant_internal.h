/* SPDX-License-Identifier: MIT */
/* Internal interfaces of the quantizer (never installed). The pipeline of ac_quantize:
 *   clone -> opset.c (raise to 13 when per-axis QDQ needs it) -> placement.c (which nodes and
 *   tensors are quantized, scale-sharing groups, ranges) -> qdq_rewrite.c (Q/DQ pairs, int8
 *   weights via weights.c, int32 bias via bias.c, removed activations) -> table. */
#ifndef AC_QUANT_INTERNAL_H
#define AC_QUANT_INTERNAL_H

#include "autocompress/ac_quant.h"

/* ---- params.c: scalar math shared by weights, bias and activations ---------------------- */

/* Round half to even (ties go to the even integer), as ONNX QuantizeLinear and numpy. */
double ac_q_round_half_even(double x);
/* Clamps v into [lo, hi]. */
int64_t ac_q_saturate(int64_t v, int64_t lo, int64_t hi);
/* QuantizeLinear on one value: saturate(round_half_even(x / scale) + zp) with the division in
 * float32 (ONNX's reference), NaN -> zp; range from t (U8, S8, S32; int8 weights use
 * ac_q_quantize_s8_sym for the restricted [-127, 127]). */
int64_t ac_q_quantize_value(float x, float scale, int64_t zp, ac_dtype t);
/* Symmetric int8 weight value in [-127, 127] (TensorRT and ORT: -128 is never used, so the
 * range is symmetric and s8 x s8 products cannot overflow int16 pairs in VNNI kernels). */
int8_t ac_q_quantize_s8_sym(float x, float scale);
/* Symmetric scale amax / 127 with the edge rules of ac_calib_scale_zp_s8 (0 -> 1, tiny ->
 * FLT_MIN, always finite > 0). */
float ac_q_sym_scale(float amax);
/* Activation parameters for a range: ORT mode uint8 asymmetric, TensorRT mode int8 with zero
 * point 0. */
ac_calib_qparams ac_q_act_params(const ac_calib_range *r, ac_quant_mode m);
/* IEEE-754 bits of f (what the TensorRT cache prints). */
uint32_t ac_q_float_bits(float f);

/* ---- weights.c -------------------------------------------------------------------------- */

/* Per-channel axis for the weight input of n (Conv 0; ConvTranspose 1 when group == 1; Gemm 1,
 * or 0 with transB; MatMul rank-1), or -1 for one scale per tensor (per_tensor set, rank < 2,
 * grouped ConvTranspose whose axis 1 holds only C_out / group channels). */
int32_t ac_q_weight_axis(const ac_node *n, const ac_tensor *w, int per_tensor);
/* Number of channels along axis (1 for -1). */
int64_t ac_q_channels(const ac_tensor *w, int32_t axis);
/* scales[c] = ac_q_sym_scale(max |w| over channel c). */
void ac_q_weight_scales(const ac_tensor *w, int32_t axis, float *scales);
/* q[e] = ac_q_quantize_s8_sym(w[e], scales[channel of e]). */
void ac_q_weight_quantize(const ac_tensor *w, int32_t axis, const float *scales, int8_t *q);

/* ---- bias.c ----------------------------------------------------------------------------- */

/* ORT-style int32 bias: bias scale s_in * s_w[c] (computed in float32, as ORT does), value
 * round_half_even(b / scale) saturated to int32. Before quantizing, weight scales whose bias
 * would not fit in int32 (tiny weights, large bias) are raised so it fits: returns the number
 * of channels whose weight scale was raised. n_w == 1 means per-tensor weight scale. */
int64_t ac_q_bias_fit(const float *b, int64_t n, float s_in, float *w_scales, int64_t n_w);
void ac_q_bias_quantize(const float *b, int64_t n, float s_in, const float *w_scales, int64_t n_w,
                        int32_t *q, float *b_scales);

/* ---- opset.c ---------------------------------------------------------------------------- */

/* Raises the ai.onnx opset to 13 (if below) so QuantizeLinear/DequantizeLinear can be
 * per-axis. Ops whose meaning changes between the model's opset and 13 are rewritten to
 * their opset-13 form (Squeeze/Unsqueeze/ReduceSum axes, Split split, Clip min/max, Dropout ->
 * Identity) or refused with AC_ERR_UNSUPPORTED naming the node and op. Opsets below 10 are
 * refused (no QuantizeLinear). */
ac_status ac_q_upgrade_opset(ac_model *m, ac_diag *d);

/* ---- placement.c ------------------------------------------------------------------------ */

typedef enum ac_q_kind {
    AC_QK_NONE = 0,
    AC_QK_WEIGHTED,  /* Conv, ConvTranspose, Gemm, MatMul: activation + int8 weight (+ bias) */
    AC_QK_BINARY,    /* Add, Mul: both inputs activations */
    AC_QK_UNARY,     /* pooling, Sigmoid, HardSigmoid: input 0, own output scale */
    AC_QK_CONCAT,    /* all inputs and the output share one scale */
    AC_QK_PASS,      /* Reshape, Transpose, MaxPool, ...: output shares input 0's scale */
    AC_QK_REMOVABLE, /* Relu / Clip, ORT mode: folded into the Q of its input's producer */
    AC_QK_COUNT
} ac_q_kind;

/* Role of one node input in the plan. */
enum { AC_QIN_FLOAT = 0, AC_QIN_ACT = 1, AC_QIN_WEIGHT = 2, AC_QIN_BIAS = 3 };

typedef struct ac_q_plan {
    ac_graph *g;
    const ac_quant_opts *o;
    int64_t nn, nv;
    ac_node **nodes;    /* snapshot of the main graph's nodes (topological) */
    uint8_t *kind;      /* per node: ac_q_kind when quantized, else AC_QK_NONE */
    uint8_t *removed;   /* per node: a Relu/Clip folded away (ORT mode) */
    int64_t *in_off;    /* per node: offset of its inputs in `role` (nn + 1 entries) */
    uint8_t *role;      /* per node input: AC_QIN_* */
    uint8_t *is_const;  /* per value: computable from constants only */
    uint8_t *want;      /* per value: gets a Q/DQ pair */
    uint8_t *prod_q;    /* per value: made by a quantized node (all its readers take the DQ) */
    ac_value **fwd;     /* per value: the removed activation's output it turns into */
    int64_t *parent;    /* per value: union-find of scale-sharing groups */
    ac_calib_range *range; /* per value: range used (group union), for wanted values */
    ac_calib_qparams *qp;  /* per value: scale / zero point, for wanted values */
    int64_t *order;     /* wanted values in table order */
    int64_t n_order;
} ac_q_plan;

/* Decides placement on g (already opset-upgraded and sorted) and computes every wanted
 * tensor's range and parameters from stats. With stats NULL it only decides placement: `want`
 * then also marks tensors a later range check could still need (see ac_quant_needed). Errors: AC_ERR_ARG (missing statistics, bad
 * regex or op type), AC_ERR_UNSUPPORTED (non-constant weight), AC_ERR_NOMEM. */
ac_status ac_q_plan_build(ac_graph *g, const ac_calib *stats, const ac_quant_opts *o,
                          ac_q_plan *p, ac_diag *d);
void ac_q_plan_free(ac_q_plan *p);
/* Role of input j of snapshot node i. */
static inline uint8_t ac_q_role(const ac_q_plan *p, int64_t i, int32_t j) {
    return p->role[p->in_off[i] + j];
}

/* ---- qdq_rewrite.c ---------------------------------------------------------------------- */

/* Applies the plan to p->g: removed activations, Q/DQ pairs, int8 weights and int32 biases,
 * dead constants dropped, nodes re-sorted. */
ac_status ac_q_rewrite(ac_q_plan *p, ac_diag *d);

/* ---- quantize.c (table) ----------------------------------------------------------------- */

struct ac_quant_table {
    ac_quant_mode mode;
    ac_calib_method method;
    int64_t n;
    ac_quant_entry *e; /* tensor names ac_malloc'd, method names static */
};

#endif
