/* SPDX-License-Identifier: MIT */
/* The ops the engine can run, with the opset range each kernel implements. One row per op;
 * the kernel registry (engine issue) adds rows as kernels land, so `autocompress inspect`
 * always reports the truth about what cannot run yet. */
#include "autocompress/ac_runtime.h"

#include <string.h>

typedef struct op_row {
    const char *op_type;
    int64_t min_opset, max_opset;
} op_row;

/* Empty until the first kernels land; kept sorted by name. */
static const op_row supported_ops[] = {
    {NULL, 0, 0},
};

int ac_runtime_supports(const char *domain, const char *op_type, int64_t opset) {
    if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0) return 0;
    for (const op_row *r = supported_ops; r->op_type; r++)
        if (!strcmp(r->op_type, op_type)) return opset >= r->min_opset && opset <= r->max_opset;
    return 0;
}
