/* SPDX-License-Identifier: MIT */
/* The op table and the kernel list. Both are hand-written so "who implements Conv?" is a grep.
 * Ops: name, the ai.onnx opset versions the infer function handles, infer. Kernels: grouped by
 * op, reference kernels first; the best-scoring kernel the ISA cap allows wins, ties go to the
 * earlier entry. */
#include "ops/ops.h"
#include "kernels/kernels.h"

#include <string.h>

#define LATEST 21 /* newest opset whose changes to these ops we handle */

const rt_op rt_ops[] = {
    /* elementwise and activations (ops/elementwise.c) */
    {"Abs", 6, LATEST, rt_infer_unary},
    {"Add", 7, LATEST, rt_infer_binary},
    {"Ceil", 6, LATEST, rt_infer_unary},
    {"Clip", 6, LATEST, rt_infer_clip},
    {"Div", 7, LATEST, rt_infer_binary},
    {"Equal", 7, LATEST, rt_infer_compare},
    {"Erf", 9, LATEST, rt_infer_unary},
    {"Exp", 6, LATEST, rt_infer_unary},
    {"Floor", 6, LATEST, rt_infer_unary},
    {"Greater", 7, LATEST, rt_infer_compare},
    {"HardSigmoid", 6, LATEST, rt_infer_unary},
    {"HardSwish", 14, LATEST, rt_infer_unary},
    {"LeakyRelu", 6, LATEST, rt_infer_unary},
    {"Less", 7, LATEST, rt_infer_compare},
    {"Log", 6, LATEST, rt_infer_unary},
    {"Max", 8, LATEST, rt_infer_variadic},
    {"Mean", 8, LATEST, rt_infer_variadic},
    {"Min", 8, LATEST, rt_infer_variadic},
    {"Mul", 7, LATEST, rt_infer_binary},
    {"Neg", 6, LATEST, rt_infer_unary},
    {"Not", 1, LATEST, rt_infer_unary},
    {"Pow", 7, LATEST, rt_infer_pow},
    {"PRelu", 7, LATEST, rt_infer_prelu},
    {"Reciprocal", 6, LATEST, rt_infer_unary},
    {"Relu", 6, LATEST, rt_infer_unary},
    {"Sigmoid", 6, LATEST, rt_infer_unary},
    {"Sqrt", 6, LATEST, rt_infer_unary},
    {"Sub", 7, LATEST, rt_infer_binary},
    {"Sum", 8, LATEST, rt_infer_variadic},
    {"Tanh", 6, LATEST, rt_infer_unary},
    {"Where", 9, LATEST, rt_infer_where},
};
const int rt_n_ops = (int)(sizeof rt_ops / sizeof rt_ops[0]);

const rt_kernel *const rt_kernels[] = {
    &rt_k_unary_ref,
    &rt_k_binary_ref,
    &rt_k_variadic_ref,
    &rt_k_where_ref,
    NULL,
};
const int rt_n_kernels = (int)(sizeof rt_kernels / sizeof rt_kernels[0]) - 1;

const rt_op *rt_find_op(const char *op_type) {
    for (int i = 0; i < rt_n_ops; i++)
        if (!strcmp(rt_ops[i].name, op_type)) return &rt_ops[i];
    return NULL;
}

const rt_kernel *rt_choose_kernel(const rt_node *n, ac_isa cap) {
    const rt_kernel *best = NULL;
    int best_score = 0;
    for (int i = 0; i < rt_n_kernels; i++) {
        const rt_kernel *k = rt_kernels[i];
        /* a kernel names one op, or "*" for a family sharing one infer (unary, binary...) */
        if (k->isa > cap) continue;
        if (strcmp(k->op, "*") && strcmp(k->op, n->src->op_type)) continue;
        int sc = k->score ? k->score(n) : 1;
        if (sc > best_score) {
            best = k;
            best_score = sc;
        }
    }
    return best;
}
