/* SPDX-License-Identifier: MIT */
/* Reference Einsum: for each output element (one task per run of them), the sum over every
 * combination of the summed labels of the product of the inputs, in double. Plain loops: a
 * contraction that is a batched matrix product runs at reference speed. */
#include "../../ops/nn.h"

typedef struct es_job {
    const rt_node *n;
    int64_t per, total;
} es_job;

static double load(const rt_tensor *t, int64_t i) {
    return t->dtype == AC_DTYPE_F64 ? ((const double *)t->data)[i] : ((const float *)t->data)[i];
}

static void es_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const es_job *j = user;
    const rt_node *n = j->n;
    const rt_einsum_params *q = n->params;
    int64_t o0 = task * j->per, o1 = o0 + j->per;
    if (o1 > j->total) o1 = j->total;
    int64_t sum_count = 1;
    for (int i = 0; i < q->n_sum; i++)
        sum_count *= q->size[q->sum[i]];
    for (int64_t o = o0; o < o1; o++) {
        /* offsets of the output element in every input */
        int64_t base[RT_EINSUM_MAX_IN] = {0}, rem = o;
        for (int i = q->n_out - 1; i >= 0; i--) {
            int32_t l = q->out[i];
            int64_t c = rem % q->size[l];
            rem /= q->size[l];
            for (int32_t k = 0; k < q->n_in; k++)
                base[k] += c * q->stride[k][l];
        }
        double acc = 0.0;
        int64_t cs[RT_EINSUM_MAX_LABELS] = {0}, off[RT_EINSUM_MAX_IN];
        for (int32_t k = 0; k < q->n_in; k++)
            off[k] = base[k];
        for (int64_t s = 0; s < sum_count; s++) {
            double prod = 1.0;
            for (int32_t k = 0; k < q->n_in; k++)
                prod *= load(n->in[k], off[k]);
            acc += prod;
            /* next combination of the summed labels (odometer, last label fastest) */
            for (int i = q->n_sum - 1; i >= 0; i--) {
                int32_t l = q->sum[i];
                for (int32_t k = 0; k < q->n_in; k++)
                    off[k] += q->stride[k][l];
                if (++cs[i] < q->size[l]) break;
                for (int32_t k = 0; k < q->n_in; k++)
                    off[k] -= cs[i] * q->stride[k][l];
                cs[i] = 0;
            }
        }
        if (n->out[0]->dtype == AC_DTYPE_F64)
            ((double *)n->out[0]->data)[o] = acc;
        else
            ((float *)n->out[0]->data)[o] = (float)acc;
    }
}

static void run_einsum(const rt_node *n, const rt_ctx *x) {
    es_job j = {n, 64, n->out[0]->numel};
    if (j.total == 0) return;
    rt_parallel_for(x, (j.total + j.per - 1) / j.per, es_task, &j);
}

const rt_kernel rt_k_einsum_ref = {"einsum_ref", "Einsum", AC_ISA_REF, NULL, NULL, run_einsum};
