/* SPDX-License-Identifier: MIT */
/* Infer for the index family: GatherElements, ScatterElements (and Scatter, its name before
 * opset 11) and ScatterND, with ScatterElements/ScatterND's reductions (none, add, mul, max,
 * min), TopK (k a constant, so the output shape is known when planning) and CumSum. Indices may be
 * negative (counted from the end); constant indices are checked here, and at run time an index out
 * of range is skipped (its output stays zero for GatherElements, the data for the scatters), since
 * a kernel cannot fail. */
#include "index.h"

#include <string.h>

static ac_status index_type(const rt_node *n, const rt_tensor *idx, ac_diag *d) {
    if (idx->dtype != AC_DTYPE_S32 && idx->dtype != AC_DTYPE_S64)
        return AC_FAIL(d, AC_ERR_MODEL, "%s: indices must be int32 or int64, got %s",
                       n->src->op_type, ac_dtype_name(idx->dtype));
    return AC_OK;
}

static ac_status new_params(rt_plan *p, rt_node *n, rt_index_params **out, ac_diag *d) {
    rt_index_params *q = rt_plan_alloc(p, sizeof *q);
    if (!q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = q;
    const rt_tensor *x = n->in[0];
    q->rank = x->rank;
    memcpy(q->dims, x->dims, (size_t)x->rank * sizeof *x->dims);
    q->es = rt_elsize(x->dtype);
    q->dtype = x->dtype;
    if (!q->es)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "%s on %s tensors is not supported", n->src->op_type,
                       ac_dtype_name(x->dtype));
    *out = q;
    return AC_OK;
}

/* reduction attribute (ScatterElements / ScatterND 16+: none add mul; 18+: max min) */
static ac_status reduction(rt_plan *p, rt_node *n, rt_index_params *q, ac_diag *d) {
    const char *r = rt_attr_str(n, "reduction", "none");
    int64_t opset = rt_plan_opset(p);
    static const char *const names[] = {"none", "add", "mul", "max", "min"};
    q->reduction = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(r, names[i])) q->reduction = i;
    if (q->reduction < 0 || (q->reduction > 0 && opset < 16) || (q->reduction > 2 && opset < 18))
        return AC_FAIL(d, AC_ERR_MODEL, "reduction \"%s\" is not defined at opset %lld", r,
                       (long long)opset);
    if (q->reduction != RT_SCATTER_NONE && q->dtype != AC_DTYPE_F32 && q->dtype != AC_DTYPE_F64 &&
        q->dtype != AC_DTYPE_S32 && q->dtype != AC_DTYPE_S64)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "reduction \"%s\" on %s tensors is not supported", r,
                       ac_dtype_name(q->dtype));
    return AC_OK;
}

/* GatherElements and ScatterElements: indices of the data's rank, no larger on other axes. */
static ac_status elements_common(rt_plan *p, rt_node *n, rt_index_params **out, ac_diag *d) {
    const rt_tensor *x = n->in[0], *idx = n->in[1];
    AC_TRY(index_type(n, idx, d));
    if (x->rank < 1 || idx->rank != x->rank)
        return AC_FAIL(d, AC_ERR_MODEL, "indices have rank %d, data rank %d", (int)idx->rank,
                       (int)x->rank);
    rt_index_params *q = NULL;
    AC_TRY(new_params(p, n, &q, d));
    AC_TRY(rt_axis(rt_attr_int(n, "axis", 0), x->rank, &q->axis, d));
    memcpy(q->idims, idx->dims, (size_t)idx->rank * sizeof *idx->dims);
    for (int32_t i = 0; i < x->rank; i++)
        if (i != q->axis && idx->dims[i] > x->dims[i])
            return AC_FAIL(d, AC_ERR_MODEL, "indices dim %d is %lld, data has %lld", (int)i,
                           (long long)idx->dims[i], (long long)x->dims[i]);
    if (idx->is_const)
        for (int64_t i = 0; i < idx->numel; i++) {
            int64_t v = rt_index_at(idx, i), s = x->dims[q->axis];
            if (v < -s || v >= s)
                return AC_FAIL(d, AC_ERR_MODEL, "index %lld is out of range for axis size %lld",
                               (long long)v, (long long)s);
        }
    *out = q;
    return AC_OK;
}

ac_status rt_infer_gather_elements(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    rt_index_params *q = NULL;
    AC_TRY(elements_common(p, n, &q, d));
    return rt_set_shape(n->out[0], n->in[0]->dtype, n->in[1]->rank, n->in[1]->dims, d);
}

ac_status rt_infer_scatter_elements(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 3, 3, 1, d));
    rt_index_params *q = NULL;
    AC_TRY(elements_common(p, n, &q, d));
    const rt_tensor *x = n->in[0], *idx = n->in[1], *u = n->in[2];
    if (u->dtype != x->dtype || u->rank != idx->rank ||
        memcmp(u->dims, idx->dims, (size_t)idx->rank * sizeof *idx->dims))
        return AC_FAIL(d, AC_ERR_MODEL, "updates must have the indices' shape and the data's type");
    AC_TRY(reduction(p, n, q, d));
    return rt_set_shape(n->out[0], x->dtype, x->rank, x->dims, d);
}

/* ScatterND: indices [..., k] address slices of the data's last rank - k axes. */
ac_status rt_infer_scatter_nd(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 3, 3, 1, d));
    const rt_tensor *x = n->in[0], *idx = n->in[1], *u = n->in[2];
    AC_TRY(index_type(n, idx, d));
    if (idx->rank < 1) return AC_FAIL(d, AC_ERR_MODEL, "indices must have rank 1 or more");
    rt_index_params *q = NULL;
    AC_TRY(new_params(p, n, &q, d));
    q->k = idx->dims[idx->rank - 1];
    if (q->k < 1 || q->k > x->rank)
        return AC_FAIL(d, AC_ERR_MODEL, "indices address %lld axes of a rank-%d tensor",
                       (long long)q->k, (int)x->rank);
    /* updates: indices.shape[:-1] + data.shape[k:] */
    int32_t ur = idx->rank - 1 + x->rank - (int32_t)q->k;
    int ok = u->dtype == x->dtype && u->rank == ur;
    for (int32_t i = 0; ok && i < ur; i++)
        ok = u->dims[i] == (i < idx->rank - 1 ? idx->dims[i] : x->dims[q->k + i - (idx->rank - 1)]);
    if (!ok)
        return AC_FAIL(d, AC_ERR_MODEL, "updates must have shape indices[:-1] + data[%lld:]",
                       (long long)q->k);
    q->slice = 1;
    for (int32_t i = (int32_t)q->k; i < x->rank; i++)
        q->slice *= x->dims[i];
    if (idx->is_const)
        for (int64_t i = 0; i < idx->numel; i++) {
            int64_t v = rt_index_at(idx, i), s = x->dims[i % q->k];
            if (v < -s || v >= s)
                return AC_FAIL(d, AC_ERR_MODEL, "index %lld is out of range for axis size %lld",
                               (long long)v, (long long)s);
        }
    AC_TRY(reduction(p, n, q, d));
    return rt_set_shape(n->out[0], x->dtype, x->rank, x->dims, d);
}

/* The data as [outer, axis_len, inner] around `axis`. */
static void split_axis(rt_index_params *q, const rt_tensor *x, int32_t axis) {
    q->axis = axis;
    q->outer = q->inner = 1;
    for (int32_t i = 0; i < axis; i++)
        q->outer *= x->dims[i];
    for (int32_t i = axis + 1; i < x->rank; i++)
        q->inner *= x->dims[i];
    q->axis_len = x->dims[axis];
}

static int sortable(ac_dtype t) {
    return t == AC_DTYPE_F32 || t == AC_DTYPE_F64 || t == AC_DTYPE_S32 || t == AC_DTYPE_S64 ||
           t == AC_DTYPE_S8 || t == AC_DTYPE_U8;
}

/* TopK: k from the attribute (opset 1) or a constant input; largest / smallest; the values in
 * order (sorted = 0 allows any order: they are sorted all the same), ties by lower index. */
ac_status rt_infer_topk(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, opset < 10 ? 1 : 2, opset < 10 ? 1 : 2, 2, d));
    const rt_tensor *x = n->in[0];
    if (x->rank < 1) return AC_FAIL(d, AC_ERR_MODEL, "input must have rank 1 or more");
    if (!sortable(x->dtype))
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "TopK on %s tensors is not supported",
                       ac_dtype_name(x->dtype));
    rt_index_params *q = NULL;
    AC_TRY(new_params(p, n, &q, d));
    int32_t axis;
    AC_TRY(rt_axis(rt_attr_int(n, "axis", -1), x->rank, &axis, d));
    split_axis(q, x, axis);
    if (opset < 10) {
        q->topk = rt_attr_int(n, "k", -1);
    } else {
        const rt_tensor *kt = n->in[1];
        if (kt->dtype != AC_DTYPE_S64 || kt->numel != 1)
            return AC_FAIL(d, AC_ERR_MODEL, "k must be one int64");
        if (!rt_value_known(kt))
            return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                           "k must be a constant (the output shape "
                           "depends on it)");
        rt_const_ints(kt, &q->topk, 1);
    }
    if (q->topk < 0 || q->topk > q->axis_len)
        return AC_FAIL(d, AC_ERR_MODEL, "k %lld is not in [0, %lld]", (long long)q->topk,
                       (long long)q->axis_len);
    q->largest = opset < 11 || rt_attr_int(n, "largest", 1) != 0;
    int64_t dims[AC_MAX_RANK];
    memcpy(dims, x->dims, (size_t)x->rank * sizeof *dims);
    dims[axis] = q->topk;
    AC_TRY(rt_set_shape(n->out[0], x->dtype, x->rank, dims, d));
    if (n->out[1]) AC_TRY(rt_set_shape(n->out[1], AC_DTYPE_S64, x->rank, dims, d));
    return AC_OK;
}

/* CumSum: running sums along a constant axis; exclusive leaves the element out, reverse runs
 * from the end. */
ac_status rt_infer_cumsum(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    const rt_tensor *x = n->in[0], *at = n->in[1];
    if (x->rank < 1) return AC_FAIL(d, AC_ERR_MODEL, "input must have rank 1 or more");
    if (x->dtype != AC_DTYPE_F32 && x->dtype != AC_DTYPE_F64 && x->dtype != AC_DTYPE_S32 &&
        x->dtype != AC_DTYPE_S64)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "CumSum on %s tensors is not supported",
                       ac_dtype_name(x->dtype));
    if ((at->dtype != AC_DTYPE_S64 && at->dtype != AC_DTYPE_S32) || at->numel != 1)
        return AC_FAIL(d, AC_ERR_MODEL, "axis must be one int32 or int64");
    if (!rt_value_known(at)) return AC_FAIL(d, AC_ERR_UNSUPPORTED, "axis must be a constant");
    rt_index_params *q = NULL;
    AC_TRY(new_params(p, n, &q, d));
    int64_t a;
    rt_const_ints(at, &a, 1);
    int32_t axis;
    AC_TRY(rt_axis(a, x->rank, &axis, d));
    split_axis(q, x, axis);
    q->exclusive = rt_attr_int(n, "exclusive", 0) != 0;
    q->reverse = rt_attr_int(n, "reverse", 0) != 0;
    return rt_set_shape(n->out[0], x->dtype, x->rank, x->dims, d);
}

static const rt_op ops[] = {
    {"GatherElements", 11, RT_LATEST, rt_infer_gather_elements},
    {"Scatter", 9, 10, rt_infer_scatter_elements},
    {"ScatterElements", 11, RT_LATEST, rt_infer_scatter_elements},
    {"ScatterND", 11, RT_LATEST, rt_infer_scatter_nd},
    {"TopK", 1, RT_LATEST, rt_infer_topk},
    {"CumSum", 11, RT_LATEST, rt_infer_cumsum},
};

static const rt_kernel *const kernels[] = {
    &rt_k_gather_elements_ref, &rt_k_scatter_elements_ref, &rt_k_scatter_nd_ref, &rt_k_topk_ref,
    &rt_k_cumsum_ref,
};

const rt_family rt_family_index = {ops, RT_COUNT(ops), kernels, RT_COUNT(kernels)};
