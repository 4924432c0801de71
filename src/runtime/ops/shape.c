/* SPDX-License-Identifier: MIT */
/* Infer for the shape family: constants, shape queries, reshapes, data movement, Range, Pad,
 * Cast, Identity and Dropout.
 *
 * Inputs that define an output shape (Reshape's shape, Slice's starts...) must be constant at
 * plan time; they are in practice, since Shape outputs are made constant here and everything
 * computed from them folds. Strided copies (Transpose, Slice, Expand, Tile) are reduced here to
 * one (dims, strides, offset) description so a single kernel runs them all. */
#include "shape.h"

#include <math.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------------------------- */

static const char *op_name(const rt_node *n) { return n->src->op_type; }

static const rt_tensor *opt_in(const rt_node *n, int32_t k) {
    return k < n->n_in ? n->in[k] : NULL;
}

/* Data movement works on whole bytes of any type; strings and packed 4-bit types cannot. */
static ac_status bytewise_type(const rt_node *n, ac_dtype t, ac_diag *d) {
    if (t == AC_DTYPE_STRING || t == AC_DTYPE_UNDEFINED || ac_dtype_bits(t) < 8)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "%s on %s tensors is not supported", op_name(n),
                       ac_dtype_name(t));
    return AC_OK;
}

static ac_status no_attr(const rt_node *n, const char *name, const char *why, ac_diag *d) {
    if (ac_node_attr(n->src, name))
        return AC_FAIL(d, AC_ERR_MODEL, "attribute %s is not valid here (%s)", name, why);
    return AC_OK;
}

/* Reads integer input k (int32/int64) that must be constant at plan time. */
static ac_status const_input_ints(const rt_node *n, int32_t k, const char *what, int64_t *vals,
                                  int64_t cap, int64_t *count, ac_diag *d) {
    const rt_tensor *t = n->in[k];
    if (t->dtype != AC_DTYPE_S64 && t->dtype != AC_DTYPE_S32)
        return AC_FAIL(d, AC_ERR_MODEL, "%s must be int32 or int64, is %s", what,
                       ac_dtype_name(t->dtype));
    if (t->rank > 1) return AC_FAIL(d, AC_ERR_MODEL, "%s must be 1-D", what);
    if (!rt_value_known(t)) return AC_FAIL(d, AC_ERR_UNSUPPORTED, "%s must be constant", what);
    if (t->numel > cap)
        return AC_FAIL(d, AC_ERR_MODEL, "%s has %lld values, at most %lld make sense", what,
                       (long long)t->numel, (long long)cap);
    *count = rt_const_ints(t, vals, cap);
    return AC_OK;
}

/* Axes list (attribute or input): normalised, each once, against `rank`. */
static ac_status norm_axes(const int64_t *axes, int64_t n_axes, int32_t rank, int allow_neg,
                           int32_t *out, ac_diag *d) {
    for (int64_t i = 0; i < n_axes; i++) {
        if (axes[i] < 0 && !allow_neg)
            return AC_FAIL(d, AC_ERR_MODEL, "negative axis %lld needs opset 11",
                           (long long)axes[i]);
        AC_TRY(rt_axis(axes[i], rank, &out[i], d));
        if (rank == 0) return AC_FAIL(d, AC_ERR_MODEL, "axis on a scalar");
        for (int64_t j = 0; j < i; j++)
            if (out[j] == out[i])
                return AC_FAIL(d, AC_ERR_MODEL, "axis %d is given twice", (int)out[i]);
    }
    return AC_OK;
}

static void *alloc_params(rt_plan *p, rt_node *n, size_t size) {
    n->params = rt_plan_alloc(p, size);
    return n->params;
}

#define NEW_PARAMS(T, var)                                                                         \
    T *var = alloc_params(p, n, sizeof *var);                                                      \
    if (!var) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory")

static void contiguous_strides(const rt_tensor *t, int64_t *st) {
    int64_t s = 1;
    for (int32_t i = t->rank - 1; i >= 0; i--) {
        st[i] = s;
        s *= t->dims[i];
    }
}

/* Simplifies a strided copy: drops size-1 axes, merges neighbours the input walks contiguously
 * relative to each other (the output is always contiguous). */
static void strided_finish(rt_strided_params *s, int32_t rank, const int64_t *dims,
                           const int64_t *strides) {
    int32_t m = 0;
    for (int32_t i = 0; i < rank; i++) {
        if (dims[i] == 1) continue;
        if (m > 0 && s->strides[m - 1] == strides[i] * dims[i]) {
            s->dims[m - 1] *= dims[i];
            s->strides[m - 1] = strides[i];
            continue;
        }
        s->dims[m] = dims[i];
        s->strides[m] = strides[i];
        m++;
    }
    if (m == 0) { /* one element (or none: the kernel checks numel) */
        s->dims[0] = 1;
        s->strides[0] = 1;
        m = 1;
    }
    for (int32_t i = 0; i < rank; i++)
        if (dims[i] == 0) { /* empty: nothing to walk */
            s->dims[0] = 0;
            s->strides[0] = 1;
            m = 1;
        }
    s->rank = m;
}

/* ---- Constant, ConstantOfShape ----------------------------------------------------------- */

ac_status rt_infer_constant(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 0, 0, 1, d));
    int64_t opset = rt_plan_opset(p);
    static const char *const names[] = {"value",        "sparse_value", "value_float",
                                        "value_floats", "value_int",    "value_ints",
                                        "value_string", "value_strings"};
    const ac_attr *a = NULL;
    int found = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const ac_attr *x = ac_node_attr(n->src, names[i]);
        if (!x) continue;
        if ((i == 1 && opset < 11) || (i >= 2 && opset < 12))
            return AC_FAIL(d, AC_ERR_MODEL, "attribute %s needs opset %d", names[i],
                           i == 1 ? 11 : 12);
        a = x;
        found++;
    }
    if (found != 1)
        return AC_FAIL(d, AC_ERR_MODEL, "Constant needs exactly one value attribute, has %d",
                       found);
    NEW_PARAMS(rt_constant_params, c);
    switch (a->type) {
    case AC_ATTR_TENSOR:
    case AC_ATTR_SPARSE_TENSOR: { /* sparse values are held dense by the reader */
        const ac_tensor *t = a->t;
        if (!t) return AC_FAIL(d, AC_ERR_MODEL, "attribute %s holds no tensor", a->name);
        if (t->dtype == AC_DTYPE_STRING || t->dtype == AC_DTYPE_UNDEFINED)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "Constant of %s is not supported",
                           ac_dtype_name(t->dtype));
        AC_TRY(rt_set_shape(n->out[0], t->dtype, t->rank, t->dims, d));
        if (t->nbytes < n->out[0]->nbytes)
            return AC_FAIL(d, AC_ERR_MODEL, "tensor of attribute %s holds too few bytes",
                           a->name);
        c->data = t->data;
        c->nbytes = n->out[0]->nbytes;
        return AC_OK;
    }
    case AC_ATTR_FLOAT:
    case AC_ATTR_INT: {
        int is_f = a->type == AC_ATTR_FLOAT;
        void *buf = rt_plan_alloc(p, 8);
        if (!buf) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        if (is_f) memcpy(buf, &a->f, sizeof a->f);
        else memcpy(buf, &a->i, sizeof a->i);
        c->data = buf;
        AC_TRY(rt_set_shape(n->out[0], is_f ? AC_DTYPE_F32 : AC_DTYPE_S64, 0, NULL, d));
        c->nbytes = n->out[0]->nbytes;
        return AC_OK;
    }
    case AC_ATTR_FLOATS:
    case AC_ATTR_INTS: {
        int is_f = a->type == AC_ATTR_FLOATS;
        int64_t dims[1] = {a->n};
        AC_TRY(rt_set_shape(n->out[0], is_f ? AC_DTYPE_F32 : AC_DTYPE_S64, 1, dims, d));
        c->data = is_f ? (const void *)a->floats : (const void *)a->ints;
        c->nbytes = n->out[0]->nbytes;
        return AC_OK;
    }
    case AC_ATTR_STRING:
    case AC_ATTR_STRINGS:
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "string constants are not supported");
    default:
        return AC_FAIL(d, AC_ERR_MODEL, "attribute %s has type %s", a->name,
                       ac_attr_type_name(a->type));
    }
}

ac_status rt_infer_constant_of_shape(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    int64_t dims[AC_MAX_RANK], cnt = 0;
    AC_TRY(const_input_ints(n, 0, "shape", dims, AC_MAX_RANK, &cnt, d));
    if (n->in[0]->dtype != AC_DTYPE_S64)
        return AC_FAIL(d, AC_ERR_MODEL, "shape must be int64");
    for (int64_t i = 0; i < cnt; i++)
        if (dims[i] < 0) return AC_FAIL(d, AC_ERR_MODEL, "shape has negative dim %lld",
                                        (long long)dims[i]);
    NEW_PARAMS(rt_constant_params, c);
    static const float zero = 0.0f;
    ac_dtype dt = AC_DTYPE_F32;
    c->data = &zero;
    const ac_attr *a = ac_node_attr(n->src, "value");
    if (a) {
        if (a->type != AC_ATTR_TENSOR || !a->t || a->t->numel != 1)
            return AC_FAIL(d, AC_ERR_MODEL, "value must be a one-element tensor");
        dt = a->t->dtype;
        AC_TRY(bytewise_type(n, dt, d));
        c->data = a->t->data;
    }
    c->elsize = rt_elsize(dt);
    return rt_set_shape(n->out[0], dt, (int32_t)cnt, dims, d);
}

/* ---- Shape, Size ------------------------------------------------------------------------- */

/* Every shape is concrete in a plan, so the output is a constant now, whether or not the input
 * data is: the node is done here and everything computed from the shape folds. */
static ac_status make_const_now(rt_plan *p, rt_node *n, void (*fill)(const rt_node *),
                                ac_diag *d) {
    if (n->in[0]->is_const) return AC_OK; /* folds the usual way */
    AC_TRY(rt_plan_const_data(p, n->out[0], d));
    fill(n);
    n->dead = 1;
    return AC_OK;
}

ac_status rt_infer_shape(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    int32_t r = n->in[0]->rank;
    int64_t start = 0, end = r;
    if (rt_plan_opset(p) >= 15) {
        start = rt_attr_int(n, "start", 0);
        end = rt_attr_int(n, "end", r);
    } else {
        AC_TRY(no_attr(n, "start", "opset 15", d));
        AC_TRY(no_attr(n, "end", "opset 15", d));
    }
    /* negative counts from the back; both clamp to [0, rank] */
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = start < 0 ? 0 : (start > r ? r : start);
    end = end < 0 ? 0 : (end > r ? r : end);
    if (end < start) end = start;
    NEW_PARAMS(rt_shape_params, s);
    s->start = (int32_t)start;
    s->end = (int32_t)end;
    int64_t dims[1] = {end - start};
    AC_TRY(rt_set_shape(n->out[0], AC_DTYPE_S64, 1, dims, d));
    return make_const_now(p, n, rt_shape_fill, d);
}

ac_status rt_infer_size(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    AC_TRY(rt_set_shape(n->out[0], AC_DTYPE_S64, 0, NULL, d));
    return make_const_now(p, n, rt_size_fill, d);
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout: copies -------------------- */

ac_status rt_infer_reshape(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, opset < 5 ? 1 : 2, opset < 5 ? 1 : 2, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    int64_t shape[AC_MAX_RANK], cnt;
    if (opset < 5) {
        const int64_t *v;
        cnt = rt_attr_ints(n, "shape", &v);
        if (cnt < 0) return AC_FAIL(d, AC_ERR_MODEL, "attribute shape is required");
        if (cnt > AC_MAX_RANK)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "rank %lld is above the engine's limit",
                           (long long)cnt);
        memcpy(shape, v, (size_t)cnt * sizeof *v);
    } else {
        AC_TRY(no_attr(n, "shape", "shape is an input since opset 5", d));
        if (n->in[1]->dtype != AC_DTYPE_S64) return AC_FAIL(d, AC_ERR_MODEL, "shape must be int64");
        if (n->in[1]->numel > AC_MAX_RANK)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "rank %lld is above the engine's limit",
                           (long long)n->in[1]->numel);
        AC_TRY(const_input_ints(n, 1, "shape", shape, AC_MAX_RANK, &cnt, d));
    }
    int allowzero = opset >= 14 ? (int)rt_attr_int(n, "allowzero", 0) : 0;
    int64_t known = 1;
    int neg = -1;
    for (int64_t i = 0; i < cnt; i++) {
        if (shape[i] == 0 && !allowzero) {
            if (i >= x->rank)
                return AC_FAIL(d, AC_ERR_MODEL, "shape[%lld] = 0 copies a dim the input lacks",
                               (long long)i);
            shape[i] = x->dims[i];
        }
        if (shape[i] == -1) {
            if (neg >= 0) return AC_FAIL(d, AC_ERR_MODEL, "shape has more than one -1");
            neg = (int)i;
        } else if (shape[i] < 0) {
            return AC_FAIL(d, AC_ERR_MODEL, "shape has invalid dim %lld", (long long)shape[i]);
        } else {
            known *= shape[i];
        }
    }
    if (neg >= 0) {
        if (known == 0 || x->numel % known)
            return AC_FAIL(d, AC_ERR_MODEL, "cannot infer the -1 dim of shape for %lld elements",
                           (long long)x->numel);
        shape[neg] = x->numel / known;
    } else if (known != x->numel) {
        return AC_FAIL(d, AC_ERR_MODEL, "shape holds %lld elements, the input %lld",
                       (long long)known, (long long)x->numel);
    }
    return rt_set_shape(n->out[0], x->dtype, (int32_t)cnt, shape, d);
}

ac_status rt_infer_flatten(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    int64_t axis = rt_attr_int(n, "axis", 1);
    if (axis < 0 && rt_plan_opset(p) >= 11) axis += x->rank;
    if (axis < 0 || axis > x->rank)
        return AC_FAIL(d, AC_ERR_MODEL, "axis %lld is out of range for rank %d",
                       (long long)rt_attr_int(n, "axis", 1), (int)x->rank);
    int64_t dims[2] = {1, 1};
    for (int32_t i = 0; i < x->rank; i++) dims[i >= axis] *= x->dims[i];
    return rt_set_shape(n->out[0], x->dtype, 2, dims, d);
}

ac_status rt_infer_squeeze(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, 1, opset < 13 ? 1 : 2, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    int64_t axes[AC_MAX_RANK], cnt = -1;
    if (opset < 13) {
        const int64_t *v;
        cnt = rt_attr_ints(n, "axes", &v);
        if (cnt > AC_MAX_RANK) return AC_FAIL(d, AC_ERR_MODEL, "too many axes");
        if (cnt > 0) memcpy(axes, v, (size_t)cnt * sizeof *v);
    } else {
        AC_TRY(no_attr(n, "axes", "axes is an input since opset 13", d));
        if (opt_in(n, 1)) AC_TRY(const_input_ints(n, 1, "axes", axes, AC_MAX_RANK, &cnt, d));
    }
    int drop[AC_MAX_RANK] = {0};
    if (cnt < 0) { /* no axes: every size-1 dim goes */
        for (int32_t i = 0; i < x->rank; i++) drop[i] = x->dims[i] == 1;
    } else {
        int32_t ax[AC_MAX_RANK];
        AC_TRY(norm_axes(axes, cnt, x->rank, opset >= 11, ax, d));
        for (int64_t i = 0; i < cnt; i++) {
            if (x->dims[ax[i]] != 1)
                return AC_FAIL(d, AC_ERR_MODEL, "cannot squeeze axis %d of size %lld",
                               (int)ax[i], (long long)x->dims[ax[i]]);
            drop[ax[i]] = 1;
        }
    }
    int64_t dims[AC_MAX_RANK];
    int32_t r = 0;
    for (int32_t i = 0; i < x->rank; i++)
        if (!drop[i]) dims[r++] = x->dims[i];
    return rt_set_shape(n->out[0], x->dtype, r, dims, d);
}

ac_status rt_infer_unsqueeze(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, opset < 13 ? 1 : 2, opset < 13 ? 1 : 2, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    int64_t axes[AC_MAX_RANK], cnt = -1;
    if (opset < 13) {
        const int64_t *v;
        cnt = rt_attr_ints(n, "axes", &v);
        if (cnt < 0) return AC_FAIL(d, AC_ERR_MODEL, "attribute axes is required");
        if (cnt > AC_MAX_RANK) return AC_FAIL(d, AC_ERR_UNSUPPORTED, "too many axes");
        memcpy(axes, v, (size_t)cnt * sizeof *v);
    } else {
        AC_TRY(no_attr(n, "axes", "axes is an input since opset 13", d));
        AC_TRY(const_input_ints(n, 1, "axes", axes, AC_MAX_RANK, &cnt, d));
    }
    int64_t r = x->rank + cnt;
    if (r > AC_MAX_RANK)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "rank %lld is above the engine's limit of %d",
                       (long long)r, AC_MAX_RANK);
    int32_t ax[AC_MAX_RANK]; /* axes refer to the output's rank */
    AC_TRY(norm_axes(axes, cnt, (int32_t)r, opset >= 11, ax, d));
    int ins[AC_MAX_RANK] = {0};
    for (int64_t i = 0; i < cnt; i++) ins[ax[i]] = 1;
    int64_t dims[AC_MAX_RANK];
    for (int32_t i = 0, k = 0; i < r; i++) dims[i] = ins[i] ? 1 : x->dims[k++];
    return rt_set_shape(n->out[0], x->dtype, (int32_t)r, dims, d);
}

ac_status rt_infer_identity(rt_plan *p, rt_node *n, ac_diag *d) {
    (void)p;
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    return rt_set_shape(n->out[0], x->dtype, x->rank, x->dims, d);
}

/* An inference engine runs Dropout as the identity (its mask all ones); only an explicit,
 * constant-true training_mode (opset 12) would ask for random dropping. */
ac_status rt_infer_dropout(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, 1, opset < 12 ? 1 : 3, 2, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    /* opsets 1..6: is_test only told training frameworks what to do; inference ignores it */
    const rt_tensor *ratio = opt_in(n, 1), *train = opt_in(n, 2);
    if (ratio && ratio->numel != 1) return AC_FAIL(d, AC_ERR_MODEL, "ratio must be a scalar");
    if (train) {
        if (train->dtype != AC_DTYPE_BOOL || train->numel != 1)
            return AC_FAIL(d, AC_ERR_MODEL, "training_mode must be a bool scalar");
        if (!rt_value_known(train))
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "training_mode must be constant");
        int zero_ratio = 0;
        float r;
        if (ratio && rt_const_floats(ratio, &r, 1) == 1) zero_ratio = r == 0.0f;
        if (*(const uint8_t *)train->data && !zero_ratio)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "Dropout in training mode is not supported");
    }
    AC_TRY(rt_set_shape(n->out[0], x->dtype, x->rank, x->dims, d));
    if (n->n_out > 1 && n->out[1]) /* mask: bool from opset 10, the input's type before */
        AC_TRY(rt_set_shape(n->out[1], opset >= 10 ? AC_DTYPE_BOOL : x->dtype, x->rank, x->dims,
                            d));
    return AC_OK;
}

/* ---- Transpose, Slice, Expand, Tile: strided copies ------------------------------------- */

ac_status rt_infer_transpose(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    int32_t r = x->rank, perm[AC_MAX_RANK];
    const int64_t *v;
    int64_t cnt = rt_attr_ints(n, "perm", &v);
    if (cnt < 0) {
        for (int32_t i = 0; i < r; i++) perm[i] = r - 1 - i; /* default: reverse the axes */
    } else {
        if (cnt != r)
            return AC_FAIL(d, AC_ERR_MODEL, "perm has %lld entries for rank %d", (long long)cnt,
                           (int)r);
        int seen[AC_MAX_RANK] = {0};
        for (int32_t i = 0; i < r; i++) {
            int64_t a = v[i] < 0 ? v[i] + r : v[i];
            if (a < 0 || a >= r || seen[a])
                return AC_FAIL(d, AC_ERR_MODEL, "perm is not a permutation of 0..%d", (int)r - 1);
            seen[a] = 1;
            perm[i] = (int32_t)a;
        }
    }
    int64_t dims[AC_MAX_RANK], st[AC_MAX_RANK] = {0}, ost[AC_MAX_RANK];
    contiguous_strides(x, st);
    for (int32_t i = 0; i < r; i++) {
        dims[i] = x->dims[perm[i]];
        ost[i] = st[perm[i]];
    }
    NEW_PARAMS(rt_strided_params, s);
    s->elsize = rt_elsize(x->dtype);
    strided_finish(s, r, dims, ost);
    return rt_set_shape(n->out[0], x->dtype, r, dims, d);
}

/* DepthToSpace / SpaceToDepth on [N, C, H, W]: a reshape, a transpose and a reshape, so one
 * strided copy over a 6-axis view of the input. DepthToSpace DCR reads the channel as
 * (b1, b2, C'), CRD as (C', b1, b2); SpaceToDepth writes (b1, b2, C). */
static ac_status depth_space(rt_plan *p, rt_node *n, int to_space, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    if (x->rank != 4) return AC_FAIL(d, AC_ERR_MODEL, "input must have rank 4 (NCHW)");
    int64_t b = rt_attr_int(n, "blocksize", 0);
    if (b < 1) return AC_FAIL(d, AC_ERR_MODEL, "blocksize must be 1 or more");
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t vd[6], vs[6], out[4];
    if (to_space) {
        if (C % (b * b))
            return AC_FAIL(d, AC_ERR_MODEL, "%lld channels do not divide by blocksize^2 %lld",
                           (long long)C, (long long)(b * b));
        int64_t Cp = C / (b * b), hw = H * W;
        const char *mode = rt_attr_str(n, "mode", "DCR");
        int crd = !strcmp(mode, "CRD");
        if (!crd && strcmp(mode, "DCR"))
            return AC_FAIL(d, AC_ERR_MODEL, "mode must be DCR or CRD, got \"%s\"", mode);
        /* output [N, C', H, b1, W, b2]; input channel (c' b + b1) b + b2 (CRD) or
         * (b1 b + b2) C' + c' (DCR) */
        int64_t s_c = crd ? b * b * hw : hw, s_b1 = crd ? b * hw : b * Cp * hw,
                s_b2 = crd ? hw : Cp * hw;
        int64_t dims6[6] = {N, Cp, H, b, W, b}, st6[6] = {C * hw, s_c, W, s_b1, 1, s_b2};
        memcpy(vd, dims6, sizeof vd);
        memcpy(vs, st6, sizeof vs);
        out[0] = N, out[1] = Cp, out[2] = H * b, out[3] = W * b;
    } else {
        if (H % b || W % b)
            return AC_FAIL(d, AC_ERR_MODEL, "spatial size %lldx%lld does not divide by "
                           "blocksize %lld", (long long)H, (long long)W, (long long)b);
        int64_t Hp = H / b, Wp = W / b;
        /* output [N, b1, b2, C, H', W'] from input [N, C, H' b + b1, W' b + b2] */
        int64_t dims6[6] = {N, b, b, C, Hp, Wp}, st6[6] = {C * H * W, W, 1, H * W, b * W, b};
        memcpy(vd, dims6, sizeof vd);
        memcpy(vs, st6, sizeof vs);
        out[0] = N, out[1] = C * b * b, out[2] = Hp, out[3] = Wp;
    }
    NEW_PARAMS(rt_strided_params, s);
    s->elsize = rt_elsize(x->dtype);
    strided_finish(s, 6, vd, vs);
    return rt_set_shape(n->out[0], x->dtype, 4, out, d);
}

ac_status rt_infer_depth_to_space(rt_plan *p, rt_node *n, ac_diag *d) {
    return depth_space(p, n, 1, d);
}

ac_status rt_infer_space_to_depth(rt_plan *p, rt_node *n, ac_diag *d) {
    return depth_space(p, n, 0, d);
}

ac_status rt_infer_slice(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, opset < 10 ? 1 : 3, opset < 10 ? 1 : 5, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    int32_t r = x->rank;
    int64_t starts[AC_MAX_RANK], ends[AC_MAX_RANK], axes[AC_MAX_RANK], steps[AC_MAX_RANK];
    int64_t ns, ne, na = -1, nst = -1;
    if (opset < 10) {
        const int64_t *vs, *ve, *va;
        ns = rt_attr_ints(n, "starts", &vs);
        ne = rt_attr_ints(n, "ends", &ve);
        na = rt_attr_ints(n, "axes", &va);
        if (ns < 0 || ne < 0) return AC_FAIL(d, AC_ERR_MODEL, "starts and ends are required");
        if (ns > AC_MAX_RANK || ne > AC_MAX_RANK || na > AC_MAX_RANK)
            return AC_FAIL(d, AC_ERR_MODEL, "more slice axes than the input has");
        memcpy(starts, vs, (size_t)ns * sizeof *vs);
        memcpy(ends, ve, (size_t)ne * sizeof *ve);
        if (na > 0) memcpy(axes, va, (size_t)na * sizeof *va);
    } else {
        AC_TRY(no_attr(n, "starts", "starts is an input since opset 10", d));
        AC_TRY(const_input_ints(n, 1, "starts", starts, AC_MAX_RANK, &ns, d));
        AC_TRY(const_input_ints(n, 2, "ends", ends, AC_MAX_RANK, &ne, d));
        if (opt_in(n, 3)) AC_TRY(const_input_ints(n, 3, "axes", axes, AC_MAX_RANK, &na, d));
        if (opt_in(n, 4)) AC_TRY(const_input_ints(n, 4, "steps", steps, AC_MAX_RANK, &nst, d));
    }
    if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return AC_FAIL(d, AC_ERR_MODEL, "starts, ends, axes and steps differ in length");
    if (na < 0)
        for (int64_t i = 0; i < ns; i++) axes[i] = i;
    if (nst < 0)
        for (int64_t i = 0; i < ns; i++) steps[i] = 1;
    int32_t ax[AC_MAX_RANK];
    AC_TRY(norm_axes(axes, ns, r, opset >= 10, ax, d));
    /* per axis: first element, count and step (defaults: the whole axis) */
    int64_t first[AC_MAX_RANK], len[AC_MAX_RANK], step[AC_MAX_RANK];
    for (int32_t i = 0; i < r; i++) {
        first[i] = 0;
        len[i] = x->dims[i];
        step[i] = 1;
    }
    for (int64_t i = 0; i < ns; i++) {
        int32_t a = ax[i];
        int64_t dim = x->dims[a], st = steps[i], s = starts[i], e = ends[i];
        if (st == 0) return AC_FAIL(d, AC_ERR_MODEL, "slice step is 0 on axis %d", (int)a);
        /* negative indices count from the back; then clamp to what the step direction allows */
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        int64_t l = 0;
        if (st > 0) {
            s = s < 0 ? 0 : (s > dim ? dim : s);
            e = e < 0 ? 0 : (e > dim ? dim : e);
            if (e > s) l = 1 + (e - s - 1) / st;
        } else {
            s = s < 0 ? 0 : (s > dim - 1 ? dim - 1 : s);
            e = e < -1 ? -1 : (e > dim - 1 ? dim - 1 : e);
            if (st < -INT64_MAX) st = -INT64_MAX;
            if (s > e && dim > 0) l = 1 + (s - e - 1) / -st;
        }
        first[a] = l > 0 ? s : 0;
        len[a] = l;
        step[a] = l > 1 ? st : 1; /* an unused step may be huge: keep products in range */
    }
    int64_t st[AC_MAX_RANK] = {0}, ost[AC_MAX_RANK];
    contiguous_strides(x, st);
    NEW_PARAMS(rt_strided_params, s);
    s->elsize = rt_elsize(x->dtype);
    for (int32_t i = 0; i < r; i++) {
        s->offset += first[i] * st[i];
        ost[i] = step[i] * st[i];
    }
    strided_finish(s, r, len, ost);
    return rt_set_shape(n->out[0], x->dtype, r, len, d);
}

/* Input strides for broadcasting x to `rank` dims (0 where x has size 1 or lacks the axis). */
static void broadcast_strides(const rt_tensor *x, int32_t rank, const int64_t *dims,
                              int64_t *out) {
    int64_t st[AC_MAX_RANK] = {0};
    contiguous_strides(x, st);
    for (int32_t i = 0; i < rank; i++) {
        int32_t xi = i - (rank - x->rank);
        out[i] = xi < 0 || (x->dims[xi] == 1 && dims[i] != 1) ? 0 : st[xi];
    }
}

ac_status rt_infer_expand(rt_plan *p, rt_node *n, ac_diag *d) {
    (void)p;
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    if (n->in[1]->dtype != AC_DTYPE_S64) return AC_FAIL(d, AC_ERR_MODEL, "shape must be int64");
    if (n->in[1]->numel > AC_MAX_RANK)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "rank %lld is above the engine's limit",
                       (long long)n->in[1]->numel);
    rt_tensor shape_t; /* the shape as a tensor's dims, for the broadcast helper */
    memset(&shape_t, 0, sizeof shape_t);
    shape_t.name = n->in[1]->name;
    int64_t cnt;
    AC_TRY(const_input_ints(n, 1, "shape", shape_t.dims, AC_MAX_RANK, &cnt, d));
    for (int64_t i = 0; i < cnt; i++)
        if (shape_t.dims[i] < 0)
            return AC_FAIL(d, AC_ERR_MODEL, "shape has negative dim %lld",
                           (long long)shape_t.dims[i]);
    shape_t.rank = (int32_t)cnt;
    int32_t r;
    int64_t dims[AC_MAX_RANK], ist[AC_MAX_RANK];
    AC_TRY(rt_broadcast_shape(x, &shape_t, &r, dims, d));
    broadcast_strides(x, r, dims, ist);
    NEW_PARAMS(rt_strided_params, s);
    s->elsize = rt_elsize(x->dtype);
    strided_finish(s, r, dims, ist);
    return rt_set_shape(n->out[0], x->dtype, r, dims, d);
}

ac_status rt_infer_tile(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, opset < 6 ? 3 : 2, opset < 6 ? 3 : 2, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    int32_t r = x->rank;
    int64_t rep[AC_MAX_RANK], cnt;
    if (opset < 6) { /* opset 1: `tiles` copies along the one axis `axis` */
        int64_t tiles, axis, c1, c2;
        AC_TRY(const_input_ints(n, 1, "tiles", &tiles, 1, &c1, d));
        AC_TRY(const_input_ints(n, 2, "axis", &axis, 1, &c2, d));
        if (c1 != 1 || c2 != 1) return AC_FAIL(d, AC_ERR_MODEL, "tiles and axis are scalars");
        int32_t a;
        AC_TRY(rt_axis(axis, r, &a, d));
        for (int32_t i = 0; i < r; i++) rep[i] = i == a ? tiles : 1;
        cnt = r;
    } else {
        if (n->in[1]->dtype != AC_DTYPE_S64)
            return AC_FAIL(d, AC_ERR_MODEL, "repeats must be int64");
        AC_TRY(const_input_ints(n, 1, "repeats", rep, AC_MAX_RANK, &cnt, d));
    }
    if (cnt != r)
        return AC_FAIL(d, AC_ERR_MODEL, "repeats has %lld values for rank %d", (long long)cnt,
                       (int)r);
    /* each axis becomes (repeat, axis): the repeat walks with stride 0 */
    int64_t dims[AC_MAX_RANK], st[AC_MAX_RANK] = {0}, sd[RT_STRIDED_MAX], ss[RT_STRIDED_MAX];
    contiguous_strides(x, st);
    for (int32_t i = 0; i < r; i++) {
        if (rep[i] < 0)
            return AC_FAIL(d, AC_ERR_MODEL, "negative repeat %lld", (long long)rep[i]);
        if (rep[i] && x->dims[i] > INT64_MAX / rep[i])
            return AC_FAIL(d, AC_ERR_LIMIT, "output would have too many elements");
        dims[i] = x->dims[i] * rep[i];
        sd[2 * i] = rep[i];
        ss[2 * i] = 0;
        sd[2 * i + 1] = x->dims[i];
        ss[2 * i + 1] = st[i];
    }
    AC_TRY(rt_set_shape(n->out[0], x->dtype, r, dims, d));
    NEW_PARAMS(rt_strided_params, s);
    s->elsize = rt_elsize(x->dtype);
    strided_finish(s, 2 * r, sd, ss);
    return AC_OK;
}

/* ---- Concat, Split ----------------------------------------------------------------------- */

/* `sizes`: each part's extent along the axis (omitted Split outputs still own their slice). */
static ac_status concat_params(rt_plan *p, rt_node *n, const rt_tensor *big, int32_t axis,
                               int32_t n_parts, const int64_t *sizes, ac_diag *d) {
    NEW_PARAMS(rt_concat_params, c);
    c->part_bytes = rt_plan_alloc(p, (size_t)(n_parts + 1) * sizeof *c->part_bytes);
    c->part_off = rt_plan_alloc(p, (size_t)(n_parts + 1) * sizeof *c->part_off);
    if (!c->part_bytes || !c->part_off) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    size_t inner = rt_elsize(big->dtype);
    c->outer = 1;
    for (int32_t i = 0; i < axis; i++) c->outer *= big->dims[i];
    for (int32_t i = axis + 1; i < big->rank; i++) inner *= (size_t)big->dims[i];
    c->n_parts = n_parts;
    size_t off = 0;
    for (int32_t k = 0; k < n_parts; k++) {
        c->part_bytes[k] = (size_t)sizes[k] * inner;
        c->part_off[k] = off;
        off += c->part_bytes[k];
    }
    c->row_bytes = off;
    return AC_OK;
}

ac_status rt_infer_concat(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, 1, INT32_MAX, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    const ac_attr *aa = ac_node_attr(n->src, "axis");
    if (!aa && opset >= 4) return AC_FAIL(d, AC_ERR_MODEL, "attribute axis is required");
    int64_t axis = aa ? aa->i : 1; /* opset 1 defaulted to 1 */
    if (axis < 0 && opset < 11)
        return AC_FAIL(d, AC_ERR_MODEL, "negative axis %lld needs opset 11", (long long)axis);
    int32_t a;
    if (x->rank == 0) return AC_FAIL(d, AC_ERR_MODEL, "cannot concatenate scalars");
    AC_TRY(rt_axis(axis, x->rank, &a, d));
    int64_t dims[AC_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[a] = 0;
    for (int32_t k = 0; k < n->n_in; k++) {
        const rt_tensor *t = n->in[k];
        if (!t) return AC_FAIL(d, AC_ERR_MODEL, "input %d is missing", (int)k);
        if (t->dtype != x->dtype || t->rank != x->rank)
            return AC_FAIL(d, AC_ERR_MODEL, "input %d differs in type or rank from input 0",
                           (int)k);
        for (int32_t i = 0; i < x->rank; i++)
            if (i != a && t->dims[i] != x->dims[i])
                return AC_FAIL(d, AC_ERR_MODEL, "input %d has %lld at axis %d, input 0 %lld",
                               (int)k, (long long)t->dims[i], (int)i, (long long)x->dims[i]);
        dims[a] += t->dims[a];
    }
    AC_TRY(rt_set_shape(n->out[0], x->dtype, x->rank, dims, d));
    int64_t *sizes = rt_plan_alloc(p, (size_t)(n->n_in + 1) * sizeof *sizes);
    if (!sizes) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    for (int32_t k = 0; k < n->n_in; k++) sizes[k] = n->in[k]->dims[a];
    return concat_params(p, n, n->out[0], a, n->n_in, sizes, d);
}

ac_status rt_infer_split(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    int has_split_input = opset < 2 || opset >= 13;
    AC_TRY(rt_check_io(n, 1, has_split_input ? 2 : 1, INT32_MAX, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    int64_t axis = rt_attr_int(n, "axis", 0);
    if (axis < 0 && opset < 11)
        return AC_FAIL(d, AC_ERR_MODEL, "negative axis %lld needs opset 11", (long long)axis);
    if (x->rank == 0) return AC_FAIL(d, AC_ERR_MODEL, "cannot split a scalar");
    int32_t a;
    AC_TRY(rt_axis(axis, x->rank, &a, d));
    int32_t n_out = n->n_out;
    int64_t *sizes = rt_plan_alloc(p, (size_t)(n_out + 1) * sizeof *sizes);
    if (!sizes) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    int64_t cnt = -1, dim = x->dims[a];
    if (opset >= 13) AC_TRY(no_attr(n, "split", "split is an input since opset 13", d));
    if (opset < 18) AC_TRY(no_attr(n, "num_outputs", "opset 18", d));
    if (opset < 13) {
        const int64_t *v;
        cnt = rt_attr_ints(n, "split", &v);
        if (cnt >= 0 && cnt != n_out)
            return AC_FAIL(d, AC_ERR_MODEL, "split has %lld sizes for %d outputs",
                           (long long)cnt, (int)n_out);
        if (cnt > 0) memcpy(sizes, v, (size_t)cnt * sizeof *v);
    }
    if (cnt < 0 && has_split_input && opt_in(n, 1)) {
        if (n->in[1]->numel != n_out)
            return AC_FAIL(d, AC_ERR_MODEL, "split has %lld sizes for %d outputs",
                           (long long)n->in[1]->numel, (int)n_out);
        AC_TRY(const_input_ints(n, 1, "split", sizes, n_out, &cnt, d));
    }
    if (cnt >= 0) {
        if (ac_node_attr(n->src, "num_outputs"))
            return AC_FAIL(d, AC_ERR_MODEL, "split and num_outputs are both given");
        int64_t sum = 0;
        for (int32_t k = 0; k < n_out; k++) {
            if (sizes[k] < 0) return AC_FAIL(d, AC_ERR_MODEL, "negative split size");
            sum += sizes[k];
        }
        if (sum != dim)
            return AC_FAIL(d, AC_ERR_MODEL, "split sizes add up to %lld, the axis has %lld",
                           (long long)sum, (long long)dim);
    } else if (opset >= 18) {
        /* num_outputs: ceil-sized chunks, the last one takes what is left */
        int64_t num = rt_attr_int(n, "num_outputs", -1);
        if (num < 1) return AC_FAIL(d, AC_ERR_MODEL, "split or num_outputs is required");
        if (num != n_out)
            return AC_FAIL(d, AC_ERR_MODEL, "num_outputs is %lld, the node has %d outputs",
                           (long long)num, (int)n_out);
        int64_t chunk = (dim + num - 1) / num;
        for (int32_t k = 0; k < n_out; k++) {
            int64_t left = dim - chunk * k;
            sizes[k] = left < 0 ? 0 : (left < chunk ? left : chunk);
        }
    } else {
        if (dim % n_out)
            return AC_FAIL(d, AC_ERR_MODEL, "axis of %lld does not split into %d equal parts",
                           (long long)dim, (int)n_out);
        for (int32_t k = 0; k < n_out; k++) sizes[k] = dim / n_out;
    }
    for (int32_t k = 0; k < n_out; k++) {
        if (!n->out[k]) continue;
        int64_t dims[AC_MAX_RANK];
        memcpy(dims, x->dims, sizeof dims);
        dims[a] = sizes[k];
        AC_TRY(rt_set_shape(n->out[k], x->dtype, x->rank, dims, d));
    }
    return concat_params(p, n, x, a, n_out, sizes, d);
}

/* ---- Gather ------------------------------------------------------------------------------ */

ac_status rt_infer_gather(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    const rt_tensor *x = n->in[0], *idx = n->in[1];
    AC_TRY(bytewise_type(n, x->dtype, d));
    if (idx->dtype != AC_DTYPE_S32 && idx->dtype != AC_DTYPE_S64)
        return AC_FAIL(d, AC_ERR_MODEL, "indices must be int32 or int64");
    if (x->rank == 0) return AC_FAIL(d, AC_ERR_MODEL, "cannot gather from a scalar");
    int64_t axis = rt_attr_int(n, "axis", 0);
    if (axis < 0 && opset < 11)
        return AC_FAIL(d, AC_ERR_MODEL, "negative axis %lld needs opset 11", (long long)axis);
    int32_t a;
    AC_TRY(rt_axis(axis, x->rank, &a, d));
    int32_t r = x->rank - 1 + idx->rank;
    if (r > AC_MAX_RANK)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "rank %d is above the engine's limit", (int)r);
    int64_t dims[AC_MAX_RANK];
    int32_t k = 0;
    for (int32_t i = 0; i < a; i++) dims[k++] = x->dims[i];
    for (int32_t i = 0; i < idx->rank; i++) dims[k++] = idx->dims[i];
    for (int32_t i = a + 1; i < x->rank; i++) dims[k++] = x->dims[i];
    /* constant indices are checked now; the kernel writes zeros for bad run-time ones */
    if (idx->is_const)
        for (int64_t i = 0; i < idx->numel; i++) {
            int64_t v = idx->dtype == AC_DTYPE_S64 ? ((const int64_t *)idx->data)[i]
                                                    : ((const int32_t *)idx->data)[i];
            if (v < -x->dims[a] || v >= x->dims[a])
                return AC_FAIL(d, AC_ERR_MODEL, "index %lld is out of range for axis size %lld",
                               (long long)v, (long long)x->dims[a]);
        }
    NEW_PARAMS(rt_gather_params, g);
    g->outer = 1;
    g->inner_bytes = rt_elsize(x->dtype);
    for (int32_t i = 0; i < a; i++) g->outer *= x->dims[i];
    for (int32_t i = a + 1; i < x->rank; i++) g->inner_bytes *= (size_t)x->dims[i];
    g->axis_dim = x->dims[a];
    return rt_set_shape(n->out[0], x->dtype, r, dims, d);
}

/* ---- Range ------------------------------------------------------------------------------- */

static double scalar_value(const rt_tensor *t) {
    switch (t->dtype) {
    case AC_DTYPE_F32: return *(const float *)t->data;
    case AC_DTYPE_F64: return *(const double *)t->data;
    case AC_DTYPE_S16: return *(const int16_t *)t->data;
    case AC_DTYPE_S32: return *(const int32_t *)t->data;
    default: return (double)*(const int64_t *)t->data;
    }
}

static int64_t scalar_int(const rt_tensor *t) {
    switch (t->dtype) {
    case AC_DTYPE_S16: return *(const int16_t *)t->data;
    case AC_DTYPE_S32: return *(const int32_t *)t->data;
    default: return *(const int64_t *)t->data;
    }
}

ac_status rt_infer_range(rt_plan *p, rt_node *n, ac_diag *d) {
    (void)p;
    AC_TRY(rt_check_io(n, 3, 3, 1, d));
    ac_dtype t = n->in[0]->dtype;
    if (t != AC_DTYPE_F32 && t != AC_DTYPE_F64 && t != AC_DTYPE_S16 && t != AC_DTYPE_S32 &&
        t != AC_DTYPE_S64)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "Range on %s is not supported", ac_dtype_name(t));
    for (int k = 0; k < 3; k++) {
        if (n->in[k]->dtype != t || n->in[k]->numel != 1 || n->in[k]->rank > 1)
            return AC_FAIL(d, AC_ERR_MODEL, "start, limit and delta must be scalars of one type");
        if (!rt_value_known(n->in[k]))
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "Range's start, limit and delta must be "
                           "constant");
    }
    int64_t count;
    if (t == AC_DTYPE_F32 || t == AC_DTYPE_F64) {
        double s = scalar_value(n->in[0]), l = scalar_value(n->in[1]),
               dl = scalar_value(n->in[2]);
        if (dl == 0 || !isfinite(s) || !isfinite(l) || !isfinite(dl))
            return AC_FAIL(d, AC_ERR_MODEL, "Range needs finite bounds and a non-zero delta");
        double c = ceil((l - s) / dl);
        if (c > (double)((int64_t)1 << 40))
            return AC_FAIL(d, AC_ERR_LIMIT, "Range would have too many elements");
        count = c > 0 ? (int64_t)c : 0;
    } else {
        int64_t s = scalar_int(n->in[0]), l = scalar_int(n->in[1]), dl = scalar_int(n->in[2]);
        if (dl == 0) return AC_FAIL(d, AC_ERR_MODEL, "Range delta is 0");
        /* ceil((l - s) / dl) in exact integer arithmetic (the operands fit 32 bits + sign) */
        double span = (double)l - (double)s;
        if (fabs(span) > 9e18) return AC_FAIL(d, AC_ERR_LIMIT, "Range is too long");
        int64_t num = l - s;
        count = num / dl + ((num % dl != 0) && ((num > 0) == (dl > 0)));
        if (count < 0) count = 0;
    }
    int64_t dims[1] = {count};
    return rt_set_shape(n->out[0], t, 1, dims, d);
}

/* ---- Pad --------------------------------------------------------------------------------- */

/* Writes `v` (the pad value attribute of opsets < 11) as one element of type t. */
static int fill_from_float(ac_dtype t, float v, uint8_t *out) {
    switch (t) {
    case AC_DTYPE_F32: memcpy(out, &v, 4); return 1;
    case AC_DTYPE_F64: { double x = v; memcpy(out, &x, 8); return 1; }
    case AC_DTYPE_S8: { int8_t x = (int8_t)v; memcpy(out, &x, 1); return 1; }
    case AC_DTYPE_U8: { uint8_t x = (uint8_t)v; memcpy(out, &x, 1); return 1; }
    case AC_DTYPE_S16: { int16_t x = (int16_t)v; memcpy(out, &x, 2); return 1; }
    case AC_DTYPE_U16: { uint16_t x = (uint16_t)v; memcpy(out, &x, 2); return 1; }
    case AC_DTYPE_S32: { int32_t x = (int32_t)v; memcpy(out, &x, 4); return 1; }
    case AC_DTYPE_U32: { uint32_t x = (uint32_t)v; memcpy(out, &x, 4); return 1; }
    case AC_DTYPE_S64: { int64_t x = (int64_t)v; memcpy(out, &x, 8); return 1; }
    case AC_DTYPE_U64: { uint64_t x = (uint64_t)v; memcpy(out, &x, 8); return 1; }
    case AC_DTYPE_BOOL: out[0] = v != 0.0f; return 1;
    default: return v == 0.0f; /* zero bytes are zero in every other type */
    }
}

ac_status rt_infer_pad(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, opset < 11 ? 1 : 2, opset < 11 ? 1 : (opset < 18 ? 3 : 4), 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(bytewise_type(n, x->dtype, d));
    int32_t r = x->rank;
    NEW_PARAMS(rt_pad_params, pp);
    pp->elsize = rt_elsize(x->dtype);
    pp->rank = r;
    const char *mode = rt_attr_str(n, "mode", "constant");
    if (!strcmp(mode, "constant")) pp->mode = RT_PAD_CONSTANT;
    else if (!strcmp(mode, "reflect")) pp->mode = RT_PAD_REFLECT;
    else if (!strcmp(mode, "edge")) pp->mode = RT_PAD_EDGE;
    else if (!strcmp(mode, "wrap") && opset >= 19) pp->mode = RT_PAD_WRAP;
    else return AC_FAIL(d, AC_ERR_MODEL, "unknown pad mode \"%s\"", mode);
    int64_t pads[2 * AC_MAX_RANK], npads;
    int32_t ax[AC_MAX_RANK];
    int64_t n_ax = r;
    for (int32_t i = 0; i < r; i++) ax[i] = i;
    if (opset < 11) {
        const int64_t *v;
        const char *nm = opset < 2 ? "paddings" : "pads";
        npads = rt_attr_ints(n, nm, &v);
        if (npads < 0) return AC_FAIL(d, AC_ERR_MODEL, "attribute %s is required", nm);
        if (npads != 2 * r)
            return AC_FAIL(d, AC_ERR_MODEL, "%s has %lld values for rank %d", nm,
                           (long long)npads, (int)r);
        memcpy(pads, v, (size_t)npads * sizeof *v);
        if (!fill_from_float(x->dtype, rt_attr_float(n, "value", 0.0f), pp->fill))
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "pad value for %s tensors",
                           ac_dtype_name(x->dtype));
    } else {
        AC_TRY(no_attr(n, "pads", "pads is an input since opset 11", d));
        if (n->in[1]->dtype != AC_DTYPE_S64) return AC_FAIL(d, AC_ERR_MODEL, "pads must be int64");
        AC_TRY(const_input_ints(n, 1, "pads", pads, 2 * AC_MAX_RANK, &npads, d));
        const rt_tensor *cv = opt_in(n, 2);
        if (cv && (cv->dtype != x->dtype || cv->numel != 1))
            return AC_FAIL(d, AC_ERR_MODEL, "constant_value must be one element of the input's "
                           "type");
        if (opt_in(n, 3)) {
            int64_t axes[AC_MAX_RANK];
            AC_TRY(const_input_ints(n, 3, "axes", axes, AC_MAX_RANK, &n_ax, d));
            AC_TRY(norm_axes(axes, n_ax, r, 1, ax, d));
        }
        if (npads != 2 * n_ax)
            return AC_FAIL(d, AC_ERR_MODEL, "pads has %lld values for %lld axes",
                           (long long)npads, (long long)n_ax);
    }
    int64_t before[AC_MAX_RANK] = {0}, after[AC_MAX_RANK] = {0}, dims[AC_MAX_RANK];
    for (int64_t i = 0; i < n_ax; i++) {
        before[ax[i]] = pads[i];
        after[ax[i]] = pads[i + n_ax];
    }
    for (int32_t i = 0; i < r; i++) {
        /* negative pads crop first; the mode then pads the cropped window */
        int64_t lo = before[i] < 0 ? -before[i] : 0;
        int64_t hi = x->dims[i] + (after[i] < 0 ? after[i] : 0);
        if (hi < lo) return AC_FAIL(d, AC_ERR_MODEL, "pads crop more than axis %d has", (int)i);
        pp->lo[i] = lo;
        pp->w[i] = hi - lo;
        pp->before[i] = before[i] > 0 ? before[i] : 0;
        dims[i] = pp->before[i] + pp->w[i] + (after[i] > 0 ? after[i] : 0);
        if (pp->mode != RT_PAD_CONSTANT && pp->w[i] == 0 && dims[i] > 0)
            return AC_FAIL(d, AC_ERR_MODEL, "%s padding of an empty axis %d", mode, (int)i);
    }
    return rt_set_shape(n->out[0], x->dtype, r, dims, d);
}

/* ---- Cast -------------------------------------------------------------------------------- */

int rt_cast_supported(ac_dtype t) {
    switch (t) {
    case AC_DTYPE_F32: case AC_DTYPE_F64: case AC_DTYPE_F16: case AC_DTYPE_BF16:
    case AC_DTYPE_S8: case AC_DTYPE_U8: case AC_DTYPE_S16: case AC_DTYPE_U16:
    case AC_DTYPE_S32: case AC_DTYPE_U32: case AC_DTYPE_S64: case AC_DTYPE_U64:
    case AC_DTYPE_BOOL:
        return 1;
    default:
        return 0;
    }
}

/* Opsets 1..5 name the target type as a string. */
static ac_dtype dtype_from_name(const char *s) {
    static const struct {
        const char *name;
        ac_dtype t;
    } names[] = {{"FLOAT", AC_DTYPE_F32},   {"UINT8", AC_DTYPE_U8},     {"INT8", AC_DTYPE_S8},
                 {"UINT16", AC_DTYPE_U16},  {"INT16", AC_DTYPE_S16},    {"INT32", AC_DTYPE_S32},
                 {"INT64", AC_DTYPE_S64},   {"STRING", AC_DTYPE_STRING}, {"BOOL", AC_DTYPE_BOOL},
                 {"FLOAT16", AC_DTYPE_F16}, {"DOUBLE", AC_DTYPE_F64},   {"UINT32", AC_DTYPE_U32},
                 {"UINT64", AC_DTYPE_U64}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(names[i].name, s)) return names[i].t;
    return AC_DTYPE_UNDEFINED;
}

ac_status rt_infer_cast(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    const rt_tensor *x = n->in[0];
    const ac_attr *a = ac_node_attr(n->src, "to");
    if (!a) return AC_FAIL(d, AC_ERR_MODEL, "attribute to is required");
    ac_dtype to;
    if (a->type == AC_ATTR_STRING && opset < 6) to = dtype_from_name(a->s);
    else if (a->type == AC_ATTR_INT) to = a->i > 0 && a->i < AC_DTYPE_COUNT ? (ac_dtype)a->i
                                                                            : AC_DTYPE_UNDEFINED;
    else return AC_FAIL(d, AC_ERR_MODEL, "attribute to has type %s", ac_attr_type_name(a->type));
    if (to == AC_DTYPE_UNDEFINED) return AC_FAIL(d, AC_ERR_MODEL, "attribute to is not a type");
    NEW_PARAMS(rt_cast_params, c);
    c->saturate = opset >= 19 ? (int)rt_attr_int(n, "saturate", 1) : 1;
    if (!rt_cast_supported(x->dtype) || !rt_cast_supported(to))
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "Cast from %s to %s is not supported",
                       ac_dtype_name(x->dtype), ac_dtype_name(to));
    return rt_set_shape(n->out[0], to, x->rank, x->dims, d);
}

/* ---- family table ------------------------------------------------------------------------ */

static const rt_op ops[] = {
    {"Cast", 1, RT_LATEST, rt_infer_cast},
    {"Concat", 1, RT_LATEST, rt_infer_concat},
    {"Constant", 1, RT_LATEST, rt_infer_constant},
    {"DepthToSpace", 1, RT_LATEST, rt_infer_depth_to_space},
    {"ConstantOfShape", 9, RT_LATEST, rt_infer_constant_of_shape},
    {"Dropout", 1, RT_LATEST, rt_infer_dropout},
    {"Expand", 8, RT_LATEST, rt_infer_expand},
    {"Flatten", 1, RT_LATEST, rt_infer_flatten},
    {"Gather", 1, RT_LATEST, rt_infer_gather},
    {"Identity", 1, RT_LATEST, rt_infer_identity},
    {"Pad", 1, RT_LATEST, rt_infer_pad},
    {"Range", 11, RT_LATEST, rt_infer_range},
    {"Reshape", 1, RT_LATEST, rt_infer_reshape},
    {"Shape", 1, RT_LATEST, rt_infer_shape},
    {"Size", 1, RT_LATEST, rt_infer_size},
    {"Slice", 1, RT_LATEST, rt_infer_slice},
    {"SpaceToDepth", 1, RT_LATEST, rt_infer_space_to_depth},
    {"Split", 1, RT_LATEST, rt_infer_split},
    {"Squeeze", 1, RT_LATEST, rt_infer_squeeze},
    {"Tile", 1, RT_LATEST, rt_infer_tile},
    {"Transpose", 1, RT_LATEST, rt_infer_transpose},
    {"Unsqueeze", 1, RT_LATEST, rt_infer_unsqueeze},
};

static const rt_kernel *const kernels[] = {
    &rt_k_constant_ref, &rt_k_constant_of_shape_ref,
    &rt_k_shape_ref,    &rt_k_size_ref,
    &rt_k_copy_ref,     &rt_k_dropout_ref,
    &rt_k_strided_ref,  &rt_k_concat_ref,
    &rt_k_split_ref,    &rt_k_gather_ref,
    &rt_k_range_ref,    &rt_k_pad_ref,
    &rt_k_cast_ref,
};

const rt_family rt_family_shape = {ops, RT_COUNT(ops), kernels, RT_COUNT(kernels)};
