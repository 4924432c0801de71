/* SPDX-License-Identifier: MIT */
/* Helpers shared by op infer functions and kernels: shapes, attributes, constant inputs,
 * broadcasting, fused activations. */
#include "rt.h"

#include <math.h>
#include <string.h>

ac_status rt_set_shape(rt_tensor *t, ac_dtype dt, int32_t rank, const int64_t *dims, ac_diag *d) {
    if (rank < 0 || rank > AC_MAX_RANK)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "rank %d is above the engine's limit of %d",
                       (int)rank, AC_MAX_RANK);
    int64_t tmp[AC_MAX_RANK];
    if (rank) memcpy(tmp, dims, (size_t)rank * sizeof *tmp); /* dims may alias t->dims */
    int64_t numel;
    int rc = ac_dims_numel(tmp, rank, &numel);
    if (rc == -1) return AC_FAIL(d, AC_ERR_MODEL, "output \"%s\" gets a negative dimension",
                                 t->name);
    if (rc == -2 || numel > ((int64_t)1 << 40))
        return AC_FAIL(d, AC_ERR_LIMIT, "output \"%s\" would have too many elements", t->name);
    t->dtype = dt;
    t->rank = rank;
    if (rank) memcpy(t->dims, tmp, (size_t)rank * sizeof *tmp);
    t->numel = numel;
    t->nbytes = ac_dtype_bytes(dt, numel);
    return AC_OK;
}

int64_t rt_attr_int(const rt_node *n, const char *name, int64_t dflt) {
    return ac_node_attr_int(n->src, name, dflt);
}

float rt_attr_float(const rt_node *n, const char *name, float dflt) {
    return ac_node_attr_float(n->src, name, dflt);
}

const char *rt_attr_str(const rt_node *n, const char *name, const char *dflt) {
    return ac_node_attr_string(n->src, name, dflt);
}

int64_t rt_attr_ints(const rt_node *n, const char *name, const int64_t **vals) {
    const ac_attr *a = ac_node_attr(n->src, name);
    if (!a || a->type != AC_ATTR_INTS) {
        *vals = NULL;
        return -1;
    }
    *vals = a->ints;
    return a->n;
}

int64_t rt_attr_floats(const rt_node *n, const char *name, const float **vals) {
    const ac_attr *a = ac_node_attr(n->src, name);
    if (!a || a->type != AC_ATTR_FLOATS) {
        *vals = NULL;
        return -1;
    }
    *vals = a->floats;
    return a->n;
}

int rt_value_known(const rt_tensor *t) {
    if (!t) return 0;
    if (t->is_const) return 1;
    if (!t->value_known) return 0;
    ((rt_tensor *)t)->value_used = 1; /* planning state, not the tensor's data */
    return 1;
}

int64_t rt_const_ints(const rt_tensor *t, int64_t *out, int64_t cap) {
    if (!rt_value_known(t)) return -1;
    if (t->dtype != AC_DTYPE_S64 && t->dtype != AC_DTYPE_S32) return -1;
    for (int64_t i = 0; i < t->numel && i < cap; i++)
        out[i] = t->dtype == AC_DTYPE_S64 ? ((const int64_t *)t->data)[i]
                                          : ((const int32_t *)t->data)[i];
    return t->numel;
}

int64_t rt_const_floats(const rt_tensor *t, float *out, int64_t cap) {
    if (!rt_value_known(t)) return -1;
    if (t->dtype != AC_DTYPE_F32 && t->dtype != AC_DTYPE_F64) return -1;
    for (int64_t i = 0; i < t->numel && i < cap; i++)
        out[i] = t->dtype == AC_DTYPE_F32 ? ((const float *)t->data)[i]
                                          : (float)((const double *)t->data)[i];
    return t->numel;
}

ac_status rt_check_io(const rt_node *n, int32_t in_lo, int32_t in_hi, int32_t out_hi,
                      ac_diag *d) {
    const char *op = n->src->op_type;
    if (n->n_in < in_lo || n->n_in > in_hi)
        return AC_FAIL(d, AC_ERR_MODEL, "%s takes %d..%d inputs, has %d", op, (int)in_lo,
                       (int)in_hi, (int)n->n_in);
    for (int32_t k = 0; k < in_lo; k++)
        if (!n->in[k]) return AC_FAIL(d, AC_ERR_MODEL, "input %d is required", (int)k);
    if (n->n_out < 1 || !n->out[0]) return AC_FAIL(d, AC_ERR_MODEL, "has no output");
    if (n->n_out > out_hi)
        return AC_FAIL(d, AC_ERR_MODEL, "%s has at most %d outputs, has %d", op, (int)out_hi,
                       (int)n->n_out);
    return AC_OK;
}

ac_status rt_axis(int64_t axis, int32_t rank, int32_t *out, ac_diag *d) {
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= (rank ? rank : 1))
        return AC_FAIL(d, AC_ERR_MODEL, "axis %lld is out of range for rank %d",
                       (long long)axis, (int)rank);
    *out = (int32_t)a;
    return AC_OK;
}

ac_status rt_broadcast_shape(const rt_tensor *a, const rt_tensor *b, int32_t *rank,
                             int64_t *dims, ac_diag *d) {
    int32_t r = a->rank > b->rank ? a->rank : b->rank;
    for (int32_t i = 0; i < r; i++) {
        int32_t ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return AC_FAIL(d, AC_ERR_MODEL,
                           "shapes of \"%s\" and \"%s\" do not broadcast (axis %d: %lld vs %lld)",
                           a->name, b->name, (int)i, (long long)da, (long long)db);
        dims[i] = da == 1 ? db : da;
    }
    *rank = r;
    return AC_OK;
}

/* ONNX Runtime's MlasComputeLogistic, which its float Sigmoid, QuickGelu (x * sigmoid(x), what
 * it fuses a SiLU into) and QLinearSigmoid's table all use: in QDQ models the last bit of a
 * float sigmoid decides rounding ties at the next QuantizeLinear, so we use the same function
 * rather than 1 / (1 + exp(-x)) (within a few ulp of it). */
/* MlasLogisticConstants (Eigen's coefficients); the FMA3 kernel fuses every multiply-add.
 * Inline so that rt_logistic_n's clones vectorise it: fmaf there is the FMA instruction, which
 * rounds exactly as the libm call of the baseline build, so every clone gives the same bits. */
static inline float logistic(float x) {
    x = x < -18.0f ? -18.0f : x;
    x = x > 18.0f ? 18.0f : x;
    float x2 = x * x;
    float p = fmaf(x2, 4.37031012579801e-11f, 1.15627324459942e-07f);
    p = fmaf(p, x2, 6.08574864600143e-05f);
    p = fmaf(p, x2, 8.51377133304701e-03f);
    p = fmaf(p, x2, 2.48287947061529e-01f);
    p = p * x;
    float q = fmaf(x2, 6.10247389755681e-13f, 5.76102136993427e-09f);
    q = fmaf(q, x2, 6.29106785017040e-06f);
    q = fmaf(q, x2, 1.70198817374094e-03f);
    q = fmaf(q, x2, 1.16817656904453e-01f);
    q = fmaf(q, x2, 9.93151921023180e-01f);
    float y = p / q + 0.5f;
    return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
}

float rt_logistic(float x) { return logistic(x); }

/* One clone per ISA (picked by CPU at load time): the baseline build has no FMA instruction,
 * so its fmaf is a libm call per multiply-add, and a standalone Sigmoid (YOLO's SiLU in a
 * TensorRT-mode QDQ model) cost 3.5 ms for one 160x160 map. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void rt_logistic_n(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = logistic(x[i]);
}

float rt_act_scalar(const rt_act *a, float x) {
    switch (a->kind) {
    case RT_ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case RT_ACT_CLIP:
        return x < a->alpha ? a->alpha : (x > a->beta ? a->beta : x);
    case RT_ACT_LEAKY_RELU:
        return x < 0.0f ? a->alpha * x : x;
    case RT_ACT_SIGMOID:
        return rt_logistic(x);
    case RT_ACT_HARD_SIGMOID: {
        float v = a->alpha * x + a->beta;
        return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case RT_ACT_HARD_SWISH: {
        float v = x / 6.0f + 0.5f;
        return x * (v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v));
    }
    case RT_ACT_TANH:
        return tanhf(x);
    default:
        return x;
    }
}

void rt_act_apply(const rt_act *a, float *y, int64_t n) {
    switch (a->kind) {
    case RT_ACT_NONE:
        return;
    case RT_ACT_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        return;
    case RT_ACT_CLIP: {
        float lo = a->alpha, hi = a->beta;
        for (int64_t i = 0; i < n; i++) y[i] = y[i] < lo ? lo : (y[i] > hi ? hi : y[i]);
        return;
    }
    case RT_ACT_SIGMOID:
        rt_logistic_n(y, y, n);
        return;
    default:
        for (int64_t i = 0; i < n; i++) y[i] = rt_act_scalar(a, y[i]);
        return;
    }
}
