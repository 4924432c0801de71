/* SPDX-License-Identifier: MIT */
#include "ops.h"
#include "../kernels/kernels.h"

/* ---- family table ------------------------------------------------------------------------ */

static const rt_op ops[] = {{NULL, 0, 0, NULL}};
static const rt_kernel *const kernels[] = {NULL};

const rt_family rt_family_shape = {ops, 0, kernels, 0};
