/* SPDX-License-Identifier: MIT */
/* Infer for elementwise ops: unary math and activations, broadcasting binary arithmetic and
 * comparisons, variadic Max/Min/Sum/Mean, Where. */
#include "ops.h"
#include "../kernels/kernels.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *name;
    rt_ew_kind kind;
} kinds[] = {
    {"Abs", RT_EW_ABS},       {"Ceil", RT_EW_CEIL},
    {"Erf", RT_EW_ERF},       {"Exp", RT_EW_EXP},
    {"Floor", RT_EW_FLOOR},   {"HardSigmoid", RT_EW_HARD_SIGMOID},
    {"HardSwish", RT_EW_HARD_SWISH}, {"LeakyRelu", RT_EW_LEAKY_RELU},
    {"Log", RT_EW_LOG},       {"Neg", RT_EW_NEG},
    {"Not", RT_EW_NOT},       {"Reciprocal", RT_EW_RECIPROCAL},
    {"Relu", RT_EW_RELU},     {"Sigmoid", RT_EW_SIGMOID},
    {"Sqrt", RT_EW_SQRT},     {"Tanh", RT_EW_TANH},
    {"Clip", RT_EW_CLIP},     {"Add", RT_EW_ADD},
    {"Sub", RT_EW_SUB},       {"Mul", RT_EW_MUL},
    {"Div", RT_EW_DIV},       {"Pow", RT_EW_POW},
    {"PRelu", RT_EW_PRELU},   {"Max", RT_EW_MAX},
    {"Min", RT_EW_MIN},       {"Sum", RT_EW_SUM},
    {"Mean", RT_EW_MEAN},     {"Equal", RT_EW_EQUAL},
    {"Greater", RT_EW_GREATER}, {"Less", RT_EW_LESS},
    {"Softplus", RT_EW_SOFTPLUS}, {"Softsign", RT_EW_SOFTSIGN},
    {"Elu", RT_EW_ELU},       {"Selu", RT_EW_SELU},
    {"Celu", RT_EW_CELU},     {"ThresholdedRelu", RT_EW_THRESHOLDED_RELU},
    {"Mish", RT_EW_MISH},     {"Gelu", RT_EW_GELU},
    {"Round", RT_EW_ROUND},   {"Sign", RT_EW_SIGN},
    {"Shrink", RT_EW_SHRINK}, {"Sin", RT_EW_SIN},
    {"Cos", RT_EW_COS},       {"Tan", RT_EW_TAN},
    {"Asin", RT_EW_ASIN},     {"Acos", RT_EW_ACOS},
    {"Atan", RT_EW_ATAN},     {"Sinh", RT_EW_SINH},
    {"Cosh", RT_EW_COSH},     {"Asinh", RT_EW_ASINH},
    {"Acosh", RT_EW_ACOSH},   {"Atanh", RT_EW_ATANH},
    {"IsNaN", RT_EW_ISNAN},   {"IsInf", RT_EW_ISINF},
    {"And", RT_EW_AND},       {"Or", RT_EW_OR},
    {"Xor", RT_EW_XOR},       {"Mod", RT_EW_MOD},
};

static ac_status new_params(rt_plan *p, rt_node *n, rt_ew_params **out, ac_diag *d) {
    rt_ew_params *e = rt_plan_alloc(p, sizeof *e);
    if (!e) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, n->src->op_type)) e->kind = kinds[i].kind;
    n->params = e;
    *out = e;
    return AC_OK;
}

static int is_float(ac_dtype t) { return t == AC_DTYPE_F32 || t == AC_DTYPE_F64; }
static int is_int(ac_dtype t) {
    return t == AC_DTYPE_S32 || t == AC_DTYPE_S64 || t == AC_DTYPE_S8 || t == AC_DTYPE_U8;
}
/* Types the binary kernels handle: every integer width and float/double. */
static int is_numeric(ac_dtype t) {
    switch (t) {
    case AC_DTYPE_F32: case AC_DTYPE_F64: case AC_DTYPE_S8: case AC_DTYPE_U8: case AC_DTYPE_S16:
    case AC_DTYPE_U16: case AC_DTYPE_S32: case AC_DTYPE_U32: case AC_DTYPE_S64: case AC_DTYPE_U64:
        return 1;
    default:
        return 0;
    }
}

static ac_status unsupported_type(const rt_node *n, ac_dtype t, ac_diag *d) {
    return AC_FAIL(d, AC_ERR_UNSUPPORTED, "%s on %s tensors is not supported", n->src->op_type,
                   ac_dtype_name(t));
}

ac_status rt_infer_unary(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    rt_ew_params *e = NULL;
    AC_TRY(new_params(p, n, &e, d));
    const rt_tensor *x = n->in[0];
    switch (e->kind) {
    case RT_EW_NOT:
        if (x->dtype != AC_DTYPE_BOOL) return unsupported_type(n, x->dtype, d);
        break;
    case RT_EW_ABS:
    case RT_EW_NEG:
        if (!is_float(x->dtype) && !is_int(x->dtype)) return unsupported_type(n, x->dtype, d);
        break;
    case RT_EW_RELU:
        if (!is_float(x->dtype) && x->dtype != AC_DTYPE_S32 && x->dtype != AC_DTYPE_S8)
            return unsupported_type(n, x->dtype, d);
        break;
    default:
        if (!is_float(x->dtype)) return unsupported_type(n, x->dtype, d);
    }
    if (e->kind == RT_EW_LEAKY_RELU) e->alpha = rt_attr_float(n, "alpha", 0.01f);
    if (e->kind == RT_EW_ELU || e->kind == RT_EW_CELU || e->kind == RT_EW_THRESHOLDED_RELU)
        e->alpha = rt_attr_float(n, "alpha", 1.0f);
    if (e->kind == RT_EW_SELU) {
        e->alpha = rt_attr_float(n, "alpha", 1.67326319217681884765625f);
        e->beta = rt_attr_float(n, "gamma", 1.05070102214813232421875f);
    }
    if (e->kind == RT_EW_SHRINK) {
        e->alpha = rt_attr_float(n, "lambd", 0.5f);
        e->beta = rt_attr_float(n, "bias", 0.0f);
    }
    if (e->kind == RT_EW_GELU) {
        const char *a = rt_attr_str(n, "approximate", "none");
        if (strcmp(a, "none") && strcmp(a, "tanh"))
            return AC_FAIL(d, AC_ERR_MODEL, "Gelu approximate must be \"none\" or \"tanh\", "
                           "got \"%s\"", a);
        e->tanh_gelu = !strcmp(a, "tanh");
    }
    if (e->kind == RT_EW_HARD_SIGMOID) {
        e->alpha = rt_attr_float(n, "alpha", 0.2f);
        e->beta = rt_attr_float(n, "beta", 0.5f);
    }
    return rt_set_shape(n->out[0], x->dtype, x->rank, x->dims, d);
}

ac_status rt_infer_clip(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, 1, opset < 11 ? 1 : 3, 1, d));
    rt_ew_params *e = NULL;
    AC_TRY(new_params(p, n, &e, d));
    const rt_tensor *x = n->in[0];
    if (!is_float(x->dtype) && !is_int(x->dtype)) return unsupported_type(n, x->dtype, d);
    e->lo = -INFINITY;
    e->hi = INFINITY;
    if (opset < 11) {
        e->lo = rt_attr_float(n, "min", -INFINITY);
        e->hi = rt_attr_float(n, "max", INFINITY);
    } else {
        for (int k = 1; k <= 2 && k < n->n_in; k++) {
            const rt_tensor *b = n->in[k];
            if (!b) continue;
            if (b->dtype != x->dtype || b->numel != 1)
                return AC_FAIL(d, AC_ERR_MODEL, "Clip bound %d must be a scalar of the input's "
                               "type", k);
            if (!b->is_const) {
                e->dyn_bounds = 1; /* known only when the node runs */
                continue;
            }
            double v = rt_ew_scalar(b);
            if (k == 1) e->lo = v;
            else e->hi = v;
        }
    }
    e->alpha = (float)e->lo;
    e->beta = (float)e->hi;
    return rt_set_shape(n->out[0], x->dtype, x->rank, x->dims, d);
}

double rt_ew_scalar(const rt_tensor *b) {
    switch (b->dtype) {
    case AC_DTYPE_F32: return *(const float *)b->data;
    case AC_DTYPE_F64: return *(const double *)b->data;
    case AC_DTYPE_S32: return *(const int32_t *)b->data;
    case AC_DTYPE_S64: return (double)*(const int64_t *)b->data;
    case AC_DTYPE_S8: return *(const int8_t *)b->data;
    default: return *(const uint8_t *)b->data;
    }
}

static ac_status broadcast_out(rt_node *n, ac_dtype out_t, ac_diag *d) {
    int32_t rank = 0;
    int64_t dims[AC_MAX_RANK];
    const rt_tensor *acc = n->in[0];
    rt_tensor tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.name = acc->name;
    tmp.rank = acc->rank;
    memcpy(tmp.dims, acc->dims, sizeof tmp.dims);
    for (int32_t k = 1; k < n->n_in; k++) {
        if (!n->in[k]) return AC_FAIL(d, AC_ERR_MODEL, "input %d is required", (int)k);
        AC_TRY(rt_broadcast_shape(&tmp, n->in[k], &rank, dims, d));
        tmp.rank = rank;
        memcpy(tmp.dims, dims, sizeof dims);
    }
    if (tmp.rank > AC_MAX_RANK) return AC_FAIL(d, AC_ERR_UNSUPPORTED, "rank too large");
    return rt_set_shape(n->out[0], out_t, tmp.rank, tmp.dims, d);
}

static ac_status same_types(const rt_node *n, ac_diag *d) {
    for (int32_t k = 1; k < n->n_in; k++)
        if (n->in[k] && n->in[k]->dtype != n->in[0]->dtype)
            return AC_FAIL(d, AC_ERR_MODEL, "input %d is %s but input 0 is %s", (int)k,
                           ac_dtype_name(n->in[k]->dtype), ac_dtype_name(n->in[0]->dtype));
    return AC_OK;
}

ac_status rt_infer_binary(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    rt_ew_params *e = NULL;
    AC_TRY(new_params(p, n, &e, d));
    AC_TRY(same_types(n, d));
    ac_dtype t = n->in[0]->dtype;
    if (!is_numeric(t)) return unsupported_type(n, t, d);
    if (rt_plan_opset(p) < 7 && rt_attr_int(n, "broadcast", 0))
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "legacy broadcast attribute (opset < 7)");
    return broadcast_out(n, t, d);
}

ac_status rt_infer_pow(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    rt_ew_params *e = NULL;
    AC_TRY(new_params(p, n, &e, d));
    ac_dtype a = n->in[0]->dtype, b = n->in[1]->dtype;
    if (!is_numeric(a)) return unsupported_type(n, a, d);
    if (!is_numeric(b)) return unsupported_type(n, b, d);
    return broadcast_out(n, a, d);
}

ac_status rt_infer_prelu(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    rt_ew_params *e = NULL;
    AC_TRY(new_params(p, n, &e, d));
    AC_TRY(same_types(n, d));
    if (!is_float(n->in[0]->dtype)) return unsupported_type(n, n->in[0]->dtype, d);
    /* slope broadcasts to X (unidirectional): the output has X's shape */
    int32_t rank;
    int64_t dims[AC_MAX_RANK];
    AC_TRY(rt_broadcast_shape(n->in[0], n->in[1], &rank, dims, d));
    if (rank != n->in[0]->rank || memcmp(dims, n->in[0]->dims, (size_t)rank * sizeof *dims))
        return AC_FAIL(d, AC_ERR_MODEL, "slope does not broadcast to X's shape");
    return rt_set_shape(n->out[0], n->in[0]->dtype, rank, dims, d);
}

ac_status rt_infer_compare(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    rt_ew_params *e = NULL;
    AC_TRY(new_params(p, n, &e, d));
    AC_TRY(same_types(n, d));
    ac_dtype t = n->in[0]->dtype;
    if (!is_numeric(t)) return unsupported_type(n, t, d);
    return broadcast_out(n, AC_DTYPE_BOOL, d);
}

ac_status rt_infer_variadic(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, 4, 1, d));
    rt_ew_params *e = NULL;
    AC_TRY(new_params(p, n, &e, d));
    AC_TRY(same_types(n, d));
    ac_dtype t = n->in[0]->dtype;
    if (!is_numeric(t) || (e->kind == RT_EW_MEAN && !is_float(t)))
        return unsupported_type(n, t, d);
    return broadcast_out(n, t, d);
}

/* And, Or, Xor: bool operands, broadcast. */
ac_status rt_infer_logical(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    rt_ew_params *e = NULL;
    AC_TRY(new_params(p, n, &e, d));
    for (int k = 0; k < 2; k++)
        if (n->in[k]->dtype != AC_DTYPE_BOOL) return unsupported_type(n, n->in[k]->dtype, d);
    return broadcast_out(n, AC_DTYPE_BOOL, d);
}

/* Mod: integers take the divisor's sign (Python) unless fmod = 1 (C's fmod); floats need
 * fmod = 1 (the spec's rule). x mod 0 is 0 for integers, as integer Div. */
ac_status rt_infer_mod(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    rt_ew_params *e = NULL;
    AC_TRY(new_params(p, n, &e, d));
    AC_TRY(same_types(n, d));
    ac_dtype t = n->in[0]->dtype;
    if (!is_numeric(t)) return unsupported_type(n, t, d);
    e->fmod = rt_attr_int(n, "fmod", 0) != 0;
    if (is_float(t) && !e->fmod)
        return AC_FAIL(d, AC_ERR_MODEL, "Mod of floating-point tensors needs fmod = 1");
    return broadcast_out(n, t, d);
}

/* IsNaN, IsInf (detect_positive / detect_negative): float in, bool out. */
ac_status rt_infer_isnan_isinf(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    rt_ew_params *e = NULL;
    AC_TRY(new_params(p, n, &e, d));
    const rt_tensor *x = n->in[0];
    if (!is_float(x->dtype)) return unsupported_type(n, x->dtype, d);
    e->inf_pos = rt_attr_int(n, "detect_positive", 1) != 0;
    e->inf_neg = rt_attr_int(n, "detect_negative", 1) != 0;
    return rt_set_shape(n->out[0], AC_DTYPE_BOOL, x->rank, x->dims, d);
}

ac_status rt_infer_where(rt_plan *p, rt_node *n, ac_diag *d) {
    (void)p;
    AC_TRY(rt_check_io(n, 3, 3, 1, d));
    if (n->in[0]->dtype != AC_DTYPE_BOOL)
        return AC_FAIL(d, AC_ERR_MODEL, "condition must be bool");
    if (n->in[1]->dtype != n->in[2]->dtype)
        return AC_FAIL(d, AC_ERR_MODEL, "X and Y must have the same type");
    if (n->in[1]->dtype == AC_DTYPE_STRING || ac_dtype_bits(n->in[1]->dtype) < 8)
        return unsupported_type(n, n->in[1]->dtype, d);
    return broadcast_out(n, n->in[1]->dtype, d);
}

/* ---- family table ------------------------------------------------------------------------ */

static const rt_op ops[] = {
    {"Abs", 6, RT_LATEST, rt_infer_unary},
    {"Add", 7, RT_LATEST, rt_infer_binary},
    {"And", 7, RT_LATEST, rt_infer_logical},
    {"IsInf", 10, RT_LATEST, rt_infer_isnan_isinf},
    {"IsNaN", 9, RT_LATEST, rt_infer_isnan_isinf},
    {"Mod", 10, RT_LATEST, rt_infer_mod},
    {"Or", 7, RT_LATEST, rt_infer_logical},
    {"Xor", 7, RT_LATEST, rt_infer_logical},
    {"Ceil", 6, RT_LATEST, rt_infer_unary},
    {"Clip", 6, RT_LATEST, rt_infer_clip},
    {"Div", 7, RT_LATEST, rt_infer_binary},
    {"Equal", 7, RT_LATEST, rt_infer_compare},
    {"Erf", 9, RT_LATEST, rt_infer_unary},
    {"Exp", 6, RT_LATEST, rt_infer_unary},
    {"Floor", 6, RT_LATEST, rt_infer_unary},
    {"Greater", 7, RT_LATEST, rt_infer_compare},
    {"HardSigmoid", 6, RT_LATEST, rt_infer_unary},
    {"HardSwish", 14, RT_LATEST, rt_infer_unary},
    {"LeakyRelu", 6, RT_LATEST, rt_infer_unary},
    {"Less", 7, RT_LATEST, rt_infer_compare},
    {"Log", 6, RT_LATEST, rt_infer_unary},
    {"Max", 8, RT_LATEST, rt_infer_variadic},
    {"Mean", 8, RT_LATEST, rt_infer_variadic},
    {"Min", 8, RT_LATEST, rt_infer_variadic},
    {"Mul", 7, RT_LATEST, rt_infer_binary},
    {"Neg", 6, RT_LATEST, rt_infer_unary},
    {"Not", 1, RT_LATEST, rt_infer_unary},
    {"Pow", 7, RT_LATEST, rt_infer_pow},
    {"PRelu", 7, RT_LATEST, rt_infer_prelu},
    {"Reciprocal", 6, RT_LATEST, rt_infer_unary},
    {"Relu", 6, RT_LATEST, rt_infer_unary},
    {"Sigmoid", 6, RT_LATEST, rt_infer_unary},
    {"Sqrt", 6, RT_LATEST, rt_infer_unary},
    {"Sub", 7, RT_LATEST, rt_infer_binary},
    {"Sum", 8, RT_LATEST, rt_infer_variadic},
    {"Tanh", 6, RT_LATEST, rt_infer_unary},
    {"Softplus", 1, RT_LATEST, rt_infer_unary},
    {"Softsign", 1, RT_LATEST, rt_infer_unary},
    {"Elu", 6, RT_LATEST, rt_infer_unary},
    {"Selu", 6, RT_LATEST, rt_infer_unary},
    {"Celu", 12, RT_LATEST, rt_infer_unary},
    {"ThresholdedRelu", 10, RT_LATEST, rt_infer_unary},
    {"Mish", 18, RT_LATEST, rt_infer_unary},
    {"Gelu", 20, RT_LATEST, rt_infer_unary},
    {"Round", 11, RT_LATEST, rt_infer_unary},
    {"Sign", 9, RT_LATEST, rt_infer_unary},
    {"Shrink", 9, RT_LATEST, rt_infer_unary},
    {"Sin", 7, RT_LATEST, rt_infer_unary},
    {"Cos", 7, RT_LATEST, rt_infer_unary},
    {"Tan", 7, RT_LATEST, rt_infer_unary},
    {"Asin", 7, RT_LATEST, rt_infer_unary},
    {"Acos", 7, RT_LATEST, rt_infer_unary},
    {"Atan", 7, RT_LATEST, rt_infer_unary},
    {"Sinh", 9, RT_LATEST, rt_infer_unary},
    {"Cosh", 9, RT_LATEST, rt_infer_unary},
    {"Asinh", 9, RT_LATEST, rt_infer_unary},
    {"Acosh", 9, RT_LATEST, rt_infer_unary},
    {"Atanh", 9, RT_LATEST, rt_infer_unary},
    {"Where", 9, RT_LATEST, rt_infer_where},
};

static const rt_kernel *const kernels[] = {
    &rt_k_unary_ref,
    &rt_k_binary_ref,
    &rt_k_variadic_ref,
    &rt_k_where_ref,
};

const rt_family rt_family_elementwise = {ops, RT_COUNT(ops), kernels, RT_COUNT(kernels)};
