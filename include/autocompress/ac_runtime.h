/* SPDX-License-Identifier: MIT */
/*
 * ac_runtime.h — the FP32/INT8 execution engine (planner, kernel registry, executor).
 *
 * This header grows with the engine issue. Today it answers the question every other stage asks
 * first: can the engine run this node?
 *
 *     for each node n of a loaded graph:
 *         if (!ac_runtime_supports(n->domain, n->op_type, opset)) report n;
 */
#ifndef AC_RUNTIME_H
#define AC_RUNTIME_H

#include "autocompress/ac_base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Nonzero when the engine has a kernel for op_type of `domain` ("" or "ai.onnx" is the default
 * domain) at ai.onnx opset `opset`. Pure function of its arguments; thread-safe. */
AC_API int ac_runtime_supports(const char *domain, const char *op_type, int64_t opset);

#ifdef __cplusplus
}
#endif
#endif /* AC_RUNTIME_H */
