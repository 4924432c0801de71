/* SPDX-License-Identifier: MIT */
/* Private to src/runtime: the plan object made by plan.c and run by session.c. */
#ifndef AC_RT_PLAN_H
#define AC_RT_PLAN_H

#include "rt.h"

struct rt_plan {
    const ac_graph *g;
    int64_t opset;
    ac_isa isa;
    int32_t nthreads;
    ac_arena *arena;   /* nodes, tensors, params, kernel state */
    void **blocks;     /* constant data made at plan time */
    int64_t n_blocks, cap_blocks;
    rt_tensor **vt;    /* graph value index -> tensor */
    rt_node *nodes;
    int64_t n_nodes;
    int32_t n_bound;   /* caller inputs bound to graph inputs */
    int32_t *input_src; /* index into the caller's inputs array */
    rt_tensor **input_t;
    uint8_t *act;      /* activation arena */
    size_t act_bytes;
    uint8_t *scratch;  /* nthreads x scratch_stride */
    size_t scratch_stride;
    int qdq;           /* the graph has DequantizeLinear nodes (set by rt_qdq_fuse) */
};

typedef struct rt_plan_opts {
    const ac_graph *g;
    int64_t opset;
    ac_isa isa;
    int32_t nthreads;
    int no_fusion;
    ac_observe_want_fn want;
    void *user;
} rt_plan_opts;

ac_status rt_plan_build(const rt_plan_opts *o, int32_t n_inputs, const ac_tensor *inputs,
                        rt_plan **out, ac_diag *d);
void rt_plan_free(rt_plan *p);

/* qdq_fuse.c: DQ -> op -> Q groups become integer nodes computing what ONNX Runtime computes;
 * run after inference and folding, before the float fusions (which skip such nodes). */
ac_status rt_qdq_fuse(rt_plan *p, ac_diag *d);
int rt_qdq_fused(const rt_node *n);

#endif
