/* SPDX-License-Identifier: MIT */
/*
 * Private to src/runtime: the plan, its tensors and nodes, op descriptors and kernels.
 *
 * How a node runs:
 *   1. plan: rt_op.infer checks attributes and input dtypes/ranks for the node's opset, parses
 *      attributes into n->params and sets every output's dtype and dims. Inputs whose data is
 *      known at plan time (initializers, Constant outputs, folded results) have t->is_const;
 *      infer may read their data (Reshape's shape, Slice's starts, Resize's scales).
 *   2. If every input is constant, the node runs right away at plan time (constant folding,
 *      which also folds Shape-driven subgraphs since all shapes are concrete in a plan).
 *   3. Otherwise fusion passes may merge it with neighbours, then the kernel with the highest
 *      score among those the ISA cap allows is chosen; kernel.prepare may prepack weights and
 *      declare per-thread scratch.
 *   4. run: kernel.run(n, ctx) — cannot fail, never allocates; splits its work over the pool.
 *
 * Adding an op: one rt_op row in registry.c (name, opset range, infer), a ref kernel in
 * kernels/ref/, one line in the kernel list, and test cases (ONNX node tests run automatically).
 */
#ifndef AC_RT_H
#define AC_RT_H

#include "autocompress/ac_session.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rt_plan rt_plan;
typedef struct rt_node rt_node;

typedef struct rt_tensor {
    const ac_value *value; /* graph value it holds, NULL for planner-made tensors */
    const char *name;
    ac_dtype dtype;
    int32_t rank;
    int64_t dims[AC_MAX_RANK];
    int64_t numel;
    size_t nbytes;
    void *data; /* valid during run (activations) or always (constants, inputs) */
    uint8_t is_const;   /* data known at plan time; owned by the plan */
    uint8_t is_input;   /* points at the caller's buffer during a run */
    uint8_t is_output;  /* graph output: kept until the run returns */
    uint8_t observed;   /* an observer wants it: never fused away */
    uint8_t value_known; /* graph input whose data the planner may read (see rt_value_known) */
    uint8_t value_used;  /* ...and did: the plan is valid only for these input values */
    int64_t producer;   /* index of the producing node in the plan, -1 if none */
    int64_t last_use;   /* index of the last node reading it */
    int64_t n_uses;     /* how many node inputs read it */
    size_t offset;      /* in the activation arena */
} rt_tensor;

/* Activations a Conv/Gemm/MatMul kernel applies to its output before storing it. */
typedef enum rt_act_kind {
    RT_ACT_NONE = 0,
    RT_ACT_RELU,
    RT_ACT_CLIP,         /* min(max(x, alpha), beta) */
    RT_ACT_LEAKY_RELU,   /* x < 0 ? alpha * x : x */
    RT_ACT_SIGMOID,
    RT_ACT_HARD_SIGMOID, /* max(0, min(1, alpha * x + beta)) */
    RT_ACT_HARD_SWISH,   /* x * max(0, min(1, x / 6 + 0.5)) */
    RT_ACT_TANH,
} rt_act_kind;

typedef struct rt_act {
    rt_act_kind kind;
    float alpha, beta;
} rt_act;

/* Applies `a` to n floats in place (shared by every kernel that fuses activations). */
void rt_act_apply(const rt_act *a, float *y, int64_t n);
float rt_act_scalar(const rt_act *a, float x);
/* Logistic as ORT's MLAS computes it (FMA3 kernel), for Sigmoid everywhere; _n over n floats
 * (y may be x), vectorised where the CPU has FMA, with the same results. */
float rt_logistic(float x);
void rt_logistic_n(const float *x, float *y, int64_t n);

struct rt_node {
    const ac_node *src; /* the graph node (attributes); first of a fused group */
    const struct rt_op *op;
    const struct rt_kernel *k;
    int32_t n_in, n_out;
    rt_tensor **in;  /* NULL entries: omitted optional inputs */
    rt_tensor **out; /* NULL entries: omitted optional outputs */
    void *params;    /* parsed attributes, op-specific, allocated from the plan */
    void *kstate;    /* kernel-prepared state (packed weights), allocated from the plan */
    size_t scratch;  /* bytes of per-thread scratch the kernel needs */
    rt_act act;      /* fused activation applied to out[0] */
    rt_tensor *sum;  /* fused residual: out[0] = act(op(...) + sum) */
    /* A depthwise Conv fused after this pointwise one (plan.c, fuse_pointwise_depthwise): it
     * stays in the plan, dead, for its params, weights and activation; out[0] is its output
     * and the tensor between the two is never stored whole. */
    struct rt_node *dw;
    int dead;        /* removed by a pass (folded, fused, Identity) */
    const char *label; /* "Conv+Add+Relu" for profiles */
    double ms;
    int64_t runs;
};

/* Per-run context handed to kernels. */
typedef struct rt_ctx {
    struct ac_threadpool *pool;
    int32_t nthreads;
    uint8_t *scratch;     /* nthreads blocks of scratch_stride bytes */
    size_t scratch_stride;
} rt_ctx;

/* Runs fn(user, task, thread) for task in [0, n_tasks) on the pool (or inline). */
void rt_parallel_for(const rt_ctx *x, int64_t n_tasks,
                     void (*fn)(void *user, int64_t task, int32_t thread), void *user);
/* This thread's scratch block. */
static inline void *rt_scratch(const rt_ctx *x, int32_t thread) {
    return x->scratch + (size_t)thread * x->scratch_stride;
}

typedef struct rt_op {
    const char *name;
    int32_t since, until; /* ai.onnx opset versions covered, inclusive */
    ac_status (*infer)(rt_plan *p, rt_node *n, ac_diag *d);
} rt_op;

typedef struct rt_kernel {
    const char *name; /* "conv_f32_blas" */
    const char *op;   /* op_type it implements */
    ac_isa isa;       /* lowest ISA level it needs */
    /* 0: cannot run this node (dtype, layout); else higher wins. NULL means 1. */
    int (*score)(const rt_node *n);
    /* optional: prepack, set n->scratch; may allocate from the plan */
    ac_status (*prepare)(rt_plan *p, rt_node *n, ac_diag *d);
    void (*run)(const rt_node *n, const rt_ctx *x);
    /* 1: runs pointwise + depthwise pairs (n->dw set) and nothing else; only such kernels
     * run them */
    int pair;
} rt_kernel;

/* ---- plan services for infer/prepare --------------------------------------------------- */

int64_t rt_plan_opset(const rt_plan *p);
/* For a QDQ model's float ops, whose sums must be ONNX Runtime's to the last bit (a flipped
 * code at the next QuantizeLinear moves every later layer): the channel block of MLAS's
 * NCHWc layout, which ORT puts every float 4-D pool with a multiple of it as channel count
 * into (16 where the CPU runs AVX-512F, 8 with AVX2). 0: not a QDQ model, or a level (ref,
 * blas) that does not follow ORT's order. */
int32_t rt_plan_ort_nchwc_block(const rt_plan *p);
/* Threads the plan runs on. Kernels may tile by it only where results stay bit-identical. */
int32_t rt_plan_threads(const rt_plan *p);
/* Plan-owned zeroed memory (freed with the plan); NULL when out of memory. */
void *rt_plan_alloc(rt_plan *p, size_t n);
/* Makes t hold a new plan-owned constant buffer of its nbytes (after its shape is set). */
ac_status rt_plan_const_data(rt_plan *p, rt_tensor *t, ac_diag *d);

/* Sets dtype and shape of an output and computes numel/nbytes; AC_ERR_LIMIT on overflow or a
 * rank above AC_MAX_RANK. */
ac_status rt_set_shape(rt_tensor *t, ac_dtype dt, int32_t rank, const int64_t *dims, ac_diag *d);

/* Attribute helpers reading n->src. */
int64_t rt_attr_int(const rt_node *n, const char *name, int64_t dflt);
float rt_attr_float(const rt_node *n, const char *name, float dflt);
const char *rt_attr_str(const rt_node *n, const char *name, const char *dflt);
/* INTS attribute: count (or -1 if absent) and values. */
int64_t rt_attr_ints(const rt_node *n, const char *name, const int64_t **vals);
int64_t rt_attr_floats(const rt_node *n, const char *name, const float **vals);

/* Whether t's values can shape the plan: constants, and graph inputs (whose values the plan
 * then depends on: the session re-plans when they change, as it does for new shapes). Infer
 * functions call this before reading an input that defines an output shape (Reshape's shape,
 * Resize's sizes, ...), which is how ONNX's node tests feed them. */
int rt_value_known(const rt_tensor *t);

/* Reads a constant integer tensor (int32 or int64) into out[cap]; -1 if not constant or not an
 * integer type (the caller reports). Returns the element count. */
int64_t rt_const_ints(const rt_tensor *t, int64_t *out, int64_t cap);
/* Same for float/double tensors into floats. */
int64_t rt_const_floats(const rt_tensor *t, float *out, int64_t cap);

/* Checks input/output counts: in_lo..in_hi inputs with the first in_lo present, an output 0,
 * and at most out_hi outputs. AC_ERR_MODEL naming the op otherwise. */
ac_status rt_check_io(const rt_node *n, int32_t in_lo, int32_t in_hi, int32_t out_hi,
                      ac_diag *d);

/* Normalises a possibly negative axis against rank; AC_ERR_MODEL if out of range. */
ac_status rt_axis(int64_t axis, int32_t rank, int32_t *out, ac_diag *d);

/* Numpy-style broadcast of two shapes; AC_ERR_MODEL if incompatible. */
ac_status rt_broadcast_shape(const rt_tensor *a, const rt_tensor *b, int32_t *rank,
                             int64_t *dims, ac_diag *d);

/* Registry lookups (registry.c). */
const rt_op *rt_find_op(const char *op_type);
const rt_kernel *rt_choose_kernel(const rt_node *n, ac_isa cap);

/* An op family: its op table and kernel list (reference kernels first), defined at the end of
 * ops/<family>.c and listed in registry.c. */
typedef struct rt_family {
    const rt_op *ops;
    int n_ops;
    const rt_kernel *const *kernels;
    int n_kernels;
} rt_family;
extern const rt_family rt_family_elementwise, rt_family_shape, rt_family_nn, rt_family_pool,
    rt_family_index;

/* Newest ai.onnx opset whose changes the op tables were checked against. */
#define RT_LATEST 21
#define RT_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* dtype helpers */
static inline size_t rt_elsize(ac_dtype t) { return (size_t)ac_dtype_bits(t) / 8; }

#endif
