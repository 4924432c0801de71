/* SPDX-License-Identifier: MIT */
/* The index op family (ops/index.c, kernels/ref/index.c): GatherElements, ScatterElements,
 * ScatterND. */
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
} rt_index_params;

ac_status rt_infer_gather_elements(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_scatter_elements(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_scatter_nd(rt_plan *p, rt_node *n, ac_diag *d);

extern const rt_kernel rt_k_gather_elements_ref, rt_k_scatter_elements_ref, rt_k_scatter_nd_ref;

#endif
