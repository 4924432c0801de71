/* SPDX-License-Identifier: MIT */
/*
 * ac_session.h — run a model: FP32 (and QDQ INT8) inference with an observer hook.
 *
 * A session borrows a model and plans it for the shapes of the inputs it is given: shapes are
 * inferred, everything computable from constants and shapes is folded (Shape-driven subgraphs
 * included), BatchNorm and Identity/Dropout disappear, activations fuse into Conv/Gemm, kernels
 * are chosen once per node and activation memory is laid out by tensor lifetime. The plan is
 * kept and reused while the input shapes stay the same; new shapes (dynamic batch, height,
 * width) plan again. The model's graph is never modified.
 *
 *     ac_session *s;
 *     ac_session_opts o = {.threads = 1};
 *     ac_session_new(ac_model_graph(model), ac_model_opset(model, ""), &o, &s, &d);
 *     ac_tensor in = {.name = "x", .dtype = AC_DTYPE_F32, .rank = 4, .dims = dims, .data = buf};
 *     const ac_tensor *out;
 *     int32_t n_out;
 *     ac_session_run(s, 1, &in, &out, &n_out, &d);   // out[0..n_out) valid until next run
 *     ac_session_free(s);
 *
 * Observers (calibration): `want` is asked once per planned value ("do you need this tensor?");
 * wanted values are never fused away, and `observe` receives each one right after the node that
 * makes it has run (graph inputs before the first node). Tensors passed to `observe` are
 * borrowed for the duration of the call.
 *
 * Thread safety: one session runs one call at a time; separate sessions are independent.
 */
#ifndef AC_SESSION_H
#define AC_SESSION_H

#include "autocompress/ac_base.h"
#include "autocompress/ac_graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Highest rank a runtime tensor may have. */
#define AC_MAX_RANK 8

typedef int (*ac_observe_want_fn)(const ac_value *v, void *user);
typedef ac_status (*ac_observe_fn)(const ac_value *v, const ac_tensor *t, void *user,
                                   ac_diag *d);

typedef enum ac_isa {
    AC_ISA_AUTO = 0, /* best the CPU has, capped by the AC_ISA environment variable */
    AC_ISA_REF,      /* portable C reference kernels only (no BLAS, no SIMD) */
    AC_ISA_BLAS,     /* reference + OpenBLAS GEMM paths */
    AC_ISA_AVX2,     /* + AVX2/FMA kernels */
    AC_ISA_AVX512,   /* + AVX-512 kernels */
    AC_ISA_COUNT
} ac_isa;

/* "ref", "blas", "avx2", "avx512" (or "auto"). */
AC_API const char *ac_isa_name(ac_isa isa);
/* Parses the names above; AC_ERR_ARG for anything else. */
AC_API ac_status ac_isa_parse(const char *s, ac_isa *out, ac_diag *d);
/* The best level this CPU supports (cpuid + xgetbv), ignoring AC_ISA. */
AC_API ac_isa ac_isa_detect(void);

typedef struct ac_session_opts {
    int32_t threads;   /* 0 = all cores */
    ac_isa isa;        /* cap on kernel choice; AUTO reads AC_ISA from the environment */
    int no_fusion;     /* 1: keep every node (debugging, per-op profiles) */
    int profile;       /* 1: time each node (see ac_session_profile) */
    ac_observe_want_fn want;
    ac_observe_fn observe;
    void *observer_user;
} ac_session_opts;

typedef struct ac_session ac_session;

/* Creates a session over graph `g` with ai.onnx opset `opset` (g is borrowed: it must outlive
 * the session and not change while it exists). Checks up front that every node's op is one the
 * engine runs (AC_ERR_UNSUPPORTED naming the node and op otherwise). */
AC_API ac_status ac_session_new(const ac_graph *g, int64_t opset, const ac_session_opts *o,
                                ac_session **out, ac_diag *d);
AC_API void ac_session_free(ac_session *s);

/* Runs the model. `inputs` are matched to graph inputs by name (or by position when their
 * names are NULL/empty); inputs the model gives initializer defaults may be omitted. Outputs
 * are in graph order, owned by the session and valid until the next run or free. */
AC_API ac_status ac_session_run(ac_session *s, int32_t n_inputs, const ac_tensor *inputs,
                                const ac_tensor **outputs, int32_t *n_outputs, ac_diag *d);

/* After a run with profile set: per-node records of the last plan, in execution order. */
typedef struct ac_node_profile {
    const char *name;    /* node name (first of a fused group) */
    const char *op_type; /* "Conv", "Conv+Relu", ... */
    const char *kernel;  /* chosen kernel, e.g. "conv_f32_blas" */
    double ms;           /* summed over runs since the plan was made */
    int64_t runs;
} ac_node_profile;
AC_API int32_t ac_session_profile(const ac_session *s, const ac_node_profile **out);

/* The session's thread pool (owned by the session). Idle while an observer runs, so observers
 * may use it for their own work inside the callback (the calibration collector does). */
AC_API ac_threadpool *ac_session_threadpool(ac_session *s);

/* Bytes of activation memory the current plan uses (0 before the first run). */
AC_API size_t ac_session_activation_bytes(const ac_session *s);

#ifdef __cplusplus
}
#endif
#endif /* AC_SESSION_H */
