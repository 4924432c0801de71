/* SPDX-License-Identifier: MIT */
/* GlobalAveragePool over float NC... tensors, written once over a small vector abstraction and
 * included by gavgpool_avx2.c and gavgpool_avx512.c, which define V, VL, VZERO, VLOAD, VADD,
 * VHSUM_D (sum of the lanes, in double) and GAP_SCORE.
 *
 * Each plane (one image, one channel) is summed VL lanes at a time in float over blocks of
 * GAP_BLOCK vectors, each block's lane sum added to a double total, so long planes stay as
 * accurate as the reference kernel's double sum. A task is a run of planes sized to a few
 * thousand elements; every plane is summed in the same order whatever the thread count.
 *
 * In a QDQ model the plane's float sum must be ONNX Runtime's to the last bit (the mean goes
 * on to a QuantizeLinear, or to a float Conv whose input it quantizes): with a channel count
 * that is a multiple of MLAS's NCHWc block ORT pools in NCHWc, adding the plane's values one
 * by one from 0 (GAP_SEQUENTIAL); otherwise MLAS's global kernel keeps four partial sums over
 * the plane's first 4 * floor(n / 4) values, adds them as (s0 + s2) + (s1 + s3), then the rest
 * one by one (GAP_MLAS4). Both divide the sum by n in float. */
#include "../../ops/pool.h"
#include "mlas_order.h"

#define GAP_BLOCK 256 /* vectors summed in float before the total moves to double */

enum { GAP_DOUBLE = 0, GAP_SEQUENTIAL = 1, GAP_MLAS4 = 2 };

typedef struct gap_job {
    const rt_node *n;
    int64_t sp, per_task, planes;
    int order;
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
        if (j->order != GAP_DOUBLE) {
            Y[p] = rt_mlas_global_mean(x, sp, j->order == GAP_SEQUENTIAL);
            continue;
        }
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
    gap_job j = {n, pp->in[0], 1, pp->planes, n->kstate ? *(const int *)n->kstate : GAP_DOUBLE};
    j.per_task = 4096 / (j.sp > 0 ? j.sp : 1);
    if (j.per_task < 1) j.per_task = 1;
    rt_parallel_for(x, (j.planes + j.per_task - 1) / j.per_task, gap_task, &j);
}

static ac_status gap_prepare(rt_plan *p, rt_node *n, ac_diag *d) {
    int *order = rt_plan_alloc(p, sizeof *order);
    if (!order) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    int32_t blk = rt_plan_ort_nchwc_block(p);
    const rt_tensor *x = n->in[0];
    *order = !blk                                    ? GAP_DOUBLE
             : x->rank == 4 && x->dims[1] % blk == 0 ? GAP_SEQUENTIAL
                                                     : GAP_MLAS4;
    n->kstate = order;
    return AC_OK;
}

static int gap_score(const rt_node *n) {
    if (n->op->infer != rt_infer_global_pool) return 0;
    const rt_pool_params *pp = n->params;
    return pp->kind == RT_POOL_AVG && n->in[0]->dtype == AC_DTYPE_F32 && pp->in[0] > 0 ? GAP_SCORE : 0;
}
