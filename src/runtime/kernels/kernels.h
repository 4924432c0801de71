/* SPDX-License-Identifier: MIT */
/* Every kernel the registry lists. Names: rt_k_<op>_<isa>. */
#ifndef AC_RT_KERNELS_H
#define AC_RT_KERNELS_H

#include "../rt.h"

/* kernels/ref/elementwise.c */
extern const rt_kernel rt_k_unary_ref, rt_k_binary_ref, rt_k_variadic_ref, rt_k_where_ref;

/* Broadcast iteration shared by elementwise kernels: the output is walked row by row (last
 * axis contiguous); for each row the offsets of every input are computed from broadcast
 * strides, and the inner loop sees a per-input step of 0 (broadcast) or 1. */
typedef struct rt_bcast {
    int32_t rank;
    int64_t dims[AC_MAX_RANK];
    int32_t n_in;
    int64_t strides[4][AC_MAX_RANK]; /* element strides per input, 0 on broadcast axes */
    int64_t inner;                   /* elements per row (last dim, 1 for scalars) */
    int64_t rows;
} rt_bcast;

/* Sets up broadcasting of up to 4 inputs to the output shape. */
void rt_bcast_init(rt_bcast *b, const rt_tensor *out, int32_t n_in, const rt_tensor *const *in);
/* Element offsets of every input at the start of row `row`. */
void rt_bcast_row(const rt_bcast *b, int64_t row, int64_t *offs);

#endif
