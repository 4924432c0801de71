/* SPDX-License-Identifier: MIT */
/* GlobalAveragePool over float NC... tensors, written once over a small vector abstraction and
 * included by gavgpool_avx2.c and gavgpool_avx512.c, which define V, VL, VZERO, VLOAD, VADD,
 * VHSUM_D (sum of the lanes, in double) and GAP_SCORE.
 *
 * Each plane (one image, one channel) is summed VL lanes at a time in float over blocks of
 * GAP_BLOCK vectors, each block's lane sum added to a double total, so long planes stay as
 * accurate as the reference kernel's double sum. A task is a run of planes sized to a few
 * thousand elements; every plane is summed in the same order whatever the thread count. */
#include "../../ops/pool.h"

#define GAP_BLOCK 256 /* vectors summed in float before the total moves to double */

typedef struct gap_job {
    const rt_node *n;
    int64_t sp, per_task, planes;
} gap_job;

static void gap_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const gap_job *j = user;
    const int64_t sp = j->sp;
    int64_t p0 = task * j->per_task, p1 = p0 + j->per_task;
    if (p1 > j->planes) p1 = j->planes;
    const float *X = (const float *)j->n->in[0]->data;
    float *Y = (float *)j->n->out[0]->data;
    const double inv = 1.0 / (double)sp;
    for (int64_t p = p0; p < p1; p++) {
        const float *x = X + p * sp;
        double total = 0.0;
        int64_t i = 0;
        while (i + VL <= sp) {
            int64_t end = i + (int64_t)GAP_BLOCK * VL;
            if (end > sp) end = sp;
            V a = VLOAD(x + i), b = VZERO();
            i += VL;
            for (; i + 2 * VL <= end; i += 2 * VL) {
                b = VADD(b, VLOAD(x + i));
                a = VADD(a, VLOAD(x + i + VL));
            }
            if (i + VL <= end) {
                b = VADD(b, VLOAD(x + i));
                i += VL;
            }
            total += VHSUM_D(VADD(a, b));
        }
        for (; i < sp; i++) total += (double)x[i];
        Y[p] = (float)(total * inv);
    }
}

static void gap_run(const rt_node *n, const rt_ctx *x) {
    const rt_pool_params *pp = n->params;
    gap_job j = {n, pp->in[0], 1, pp->planes};
    j.per_task = 4096 / (j.sp > 0 ? j.sp : 1);
    if (j.per_task < 1) j.per_task = 1;
    rt_parallel_for(x, (j.planes + j.per_task - 1) / j.per_task, gap_task, &j);
}

static int gap_score(const rt_node *n) {
    if (n->op->infer != rt_infer_global_pool) return 0;
    const rt_pool_params *pp = n->params;
    return pp->kind == RT_POOL_AVG && n->in[0]->dtype == AC_DTYPE_F32 && pp->in[0] > 0 ? GAP_SCORE : 0;
}
