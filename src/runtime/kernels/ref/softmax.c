/* SPDX-License-Identifier: MIT */
/* Reference Softmax / LogSoftmax over x viewed as [outer, n, inner] (infer does the opset's
 * axis semantics: 2-D coercion before 13, one axis from 13). The maximum is subtracted first so
 * large inputs do not overflow exp; the sum is kept in double. One task per outer index. */
#include "../../ops/pool.h"

#include <math.h>

typedef struct sm_job {
    const rt_softmax_params *sp;
    const float *x;
    float *y;
} sm_job;

static void sm_task(void *user, int64_t o, int32_t thread) {
    (void)thread;
    const sm_job *j = user;
    int64_t n = j->sp->n, inner = j->sp->inner;
    const float *X = j->x + o * n * inner;
    float *Y = j->y + o * n * inner;
    for (int64_t i = 0; i < inner; i++) {
        float mx = -INFINITY;
        for (int64_t k = 0; k < n; k++)
            if (X[k * inner + i] > mx) mx = X[k * inner + i];
        double sum = 0.0;
        for (int64_t k = 0; k < n; k++) sum += exp((double)X[k * inner + i] - mx);
        if (j->sp->log) {
            double ls = log(sum);
            for (int64_t k = 0; k < n; k++)
                Y[k * inner + i] = (float)((double)X[k * inner + i] - mx - ls);
        } else {
            for (int64_t k = 0; k < n; k++)
                Y[k * inner + i] = (float)(exp((double)X[k * inner + i] - mx) / sum);
        }
    }
}

static void run_softmax(const rt_node *n, const rt_ctx *x) {
    sm_job j = {n->params, n->in[0]->data, n->out[0]->data};
    if (n->out[0]->numel == 0) return;
    rt_parallel_for(x, j.sp->outer, sm_task, &j);
}

static int score_softmax(const rt_node *n) { return n->op->infer == rt_infer_softmax; }

const rt_kernel rt_k_softmax_ref = {"softmax_ref", "*", AC_ISA_REF, score_softmax, NULL,
                                    run_softmax};
