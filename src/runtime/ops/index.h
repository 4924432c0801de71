/* SPDX-License-Identifier: MIT */
/* The index op family (ops/index.c, kernels/ref/index.c), ops that pick or place elements by
 * position along an axis: GatherElements, ScatterElements, ScatterND, TopK, CumSum. */
#ifndef AC_RT_INDEX_H
#define AC_RT_INDEX_H

#include "../rt.h"

/* the order of the reduction attribute's names */
enum { RT_SCATTER_NONE, RT_SCATTER_ADD, RT_SCATTER_MUL, RT_SCATTER_MAX, RT_SCATTER_MIN };

typedef struct rt_index_params {
    int32_t rank, axis;         /* the data's rank; GatherElements/ScatterElements axis */
    int64_t dims[AC_MAX_RANK];  /* the data's dims */
    int64_t idims[AC_MAX_RANK]; /* the indices' dims (GatherElements/ScatterElements) */
    int64_t k, slice;           /* ScatterND: index depth, elements per addressed slice */
    size_t es;
    ac_dtype dtype;
    int reduction; /* RT_SCATTER_* */
    /* TopK, CumSum: the data as [outer, axis_len, inner] */
    int64_t outer, axis_len, inner, topk;
    int largest, exclusive, reverse;
} rt_index_params;

/* Element i of an int32 or int64 index tensor. */
static inline int64_t rt_index_at(const rt_tensor *idx, int64_t i) {
    return idx->dtype == AC_DTYPE_S64 ? ((const int64_t *)idx->data)[i]
                                      : ((const int32_t *)idx->data)[i];
}

ac_status rt_infer_gather_elements(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_scatter_elements(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_scatter_nd(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_topk(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_cumsum(rt_plan *p, rt_node *n, ac_diag *d);

extern const rt_kernel rt_k_gather_elements_ref, rt_k_scatter_elements_ref, rt_k_scatter_nd_ref,
    rt_k_topk_ref, rt_k_cumsum_ref;

#endif
