/* SPDX-License-Identifier: MIT */
/* Shape family (ops/shape.c, kernels/ref/shape.c): constants, shape queries, reshapes and data
 * movement (Transpose, Concat, Split, Slice, Gather, Expand, Tile, Pad), Range, Cast, Identity
 * and Dropout. Data movement is byte-wise, so every dtype of whole bytes works (not STRING, not
 * the packed 4-bit types). */
#ifndef AC_RT_OPS_SHAPE_H
#define AC_RT_OPS_SHAPE_H

#include "../rt.h"

/* Most axes a strided copy walks: Tile splits every axis into (repeat, axis). */
#define RT_STRIDED_MAX (2 * AC_MAX_RANK)

/* Constant (data copied whole) and ConstantOfShape (one element of elsize bytes repeated). */
typedef struct rt_constant_params {
    const void *data;
    size_t nbytes; /* Constant: bytes to copy */
    size_t elsize; /* ConstantOfShape: size of the fill element in data */
} rt_constant_params;

/* Shape: output = dims[start, end) of the input, already clamped. */
typedef struct rt_shape_params {
    int32_t start, end;
} rt_shape_params;

/* Transpose, Slice, Expand, Tile: out[i0..ik] = in[offset + sum(i_j * strides[j])], with size-1
 * axes dropped and contiguous neighbours merged at plan time. Strides are in elements and may be
 * 0 (broadcast, repeat) or negative (Slice with negative steps). */
typedef struct rt_strided_params {
    int32_t rank;
    int64_t dims[RT_STRIDED_MAX];
    int64_t strides[RT_STRIDED_MAX];
    int64_t offset;
    size_t elsize;
} rt_strided_params;

/* Concat (inputs -> out) and Split (in -> outputs): each of `outer` rows of the big tensor is the
 * parts' rows laid end to end; part k has part_bytes[k] bytes per row at part_off[k]. */
typedef struct rt_concat_params {
    int64_t outer;
    size_t row_bytes;
    int32_t n_parts;
    size_t *part_bytes;
    size_t *part_off;
} rt_concat_params;

/* Gather: data viewed as [outer, axis_dim, inner bytes]. */
typedef struct rt_gather_params {
    int64_t outer, axis_dim;
    size_t inner_bytes;
} rt_gather_params;

typedef enum rt_pad_mode { RT_PAD_CONSTANT, RT_PAD_REFLECT, RT_PAD_EDGE, RT_PAD_WRAP } rt_pad_mode;

/* Pad: per axis, the output is `before` padded elements, then the input window [lo, lo + w)
 * (negative pads crop the input first), then the rest. */
typedef struct rt_pad_params {
    rt_pad_mode mode;
    int32_t rank;
    int64_t before[AC_MAX_RANK];
    int64_t lo[AC_MAX_RANK];
    int64_t w[AC_MAX_RANK];
    size_t elsize;
    uint8_t fill[16]; /* constant mode: the pad element (a run-time constant_value wins) */
} rt_pad_params;

/* Cast: conversion between the input and output dtypes. */
typedef struct rt_cast_params {
    int saturate; /* opset 19: float8 targets only (float8 is not supported yet) */
} rt_cast_params;

ac_status rt_infer_constant(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_constant_of_shape(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_shape(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_size(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_reshape(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_flatten(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_squeeze(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_unsqueeze(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_identity(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_dropout(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_transpose(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_depth_to_space(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_space_to_depth(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_slice(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_expand(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_tile(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_concat(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_split(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_gather(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_range(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_pad(rt_plan *p, rt_node *n, ac_diag *d);
ac_status rt_infer_cast(rt_plan *p, rt_node *n, ac_diag *d);

/* Writes Shape's / Size's int64 output (used by the kernels and by infer, which makes these
 * outputs constants right away since every shape is known at plan time). */
void rt_shape_fill(const rt_node *n);
void rt_size_fill(const rt_node *n);

/* Cast conversions shared with infer (constant folding uses the kernels). */
int rt_cast_supported(ac_dtype t);

/* kernels/ref/shape.c */
extern const rt_kernel rt_k_constant_ref, rt_k_constant_of_shape_ref, rt_k_shape_ref,
    rt_k_size_ref, rt_k_copy_ref, rt_k_dropout_ref, rt_k_strided_ref, rt_k_concat_ref,
    rt_k_split_ref, rt_k_gather_ref, rt_k_range_ref, rt_k_pad_ref, rt_k_cast_ref;

#endif
