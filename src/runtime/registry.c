/* SPDX-License-Identifier: MIT */
/* Op and kernel lookup over the op families. Each family file (ops/<family>.c) holds a
 * hand-written op table (name, the ai.onnx opset versions its infer function handles, infer)
 * and kernel list (reference kernels first), so "who implements Conv?" is a grep. The
 * best-scoring kernel the ISA cap allows wins; ties go to the earlier entry. */
#include "rt.h"

#include <string.h>

/* Op families, each defined beside its infer functions (ops/<family>.c). */
static const rt_family *const families[] = {
    &rt_family_elementwise,
    &rt_family_shape,
    &rt_family_nn,
    &rt_family_pool,
    &rt_family_index,
};
#define N_FAMILIES ((int)(sizeof families / sizeof families[0]))

const rt_op *rt_find_op(const char *op_type) {
    for (int f = 0; f < N_FAMILIES; f++)
        for (int i = 0; i < families[f]->n_ops; i++)
            if (!strcmp(families[f]->ops[i].name, op_type)) return &families[f]->ops[i];
    return NULL;
}

const rt_kernel *rt_choose_kernel(const rt_node *n, ac_isa cap) {
    const rt_kernel *best = NULL;
    int best_score = 0;
    for (int f = 0; f < N_FAMILIES; f++)
    for (int i = 0; i < families[f]->n_kernels; i++) {
        const rt_kernel *k = families[f]->kernels[i];
        /* a kernel names one op, or "*" for a family sharing one infer (unary, binary...) */
        if (k->isa > cap || (k->pair != 0) != (n->dw != NULL)) continue;
        if (strcmp(k->op, "*") && strcmp(k->op, n->src->op_type)) continue;
        int sc = k->score ? k->score(n) : 1;
        if (sc > best_score) {
            best = k;
            best_score = sc;
        }
    }
    return best;
}
