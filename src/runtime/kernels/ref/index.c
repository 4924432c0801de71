/* SPDX-License-Identifier: MIT */
/* Reference GatherElements, ScatterElements, ScatterND, TopK and CumSum (see ops/index.h). Elements
 * move as bytes; the scatters' reductions work in the element type. Scatters run in one task, in
 * index order, as the spec's sequential definition (a repeated index: the last update wins,
 * or every update is reduced in order). */
#include "../../ops/index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void strides_of(const int64_t *dims, int32_t rank, int64_t *st) {
    int64_t s = 1;
    for (int32_t i = rank - 1; i >= 0; i--) {
        st[i] = s;
        s *= dims[i];
    }
}

/* dst op= src, one element of q's type. */
#define REDUCE(T)                                                                                  \
    do {                                                                                           \
        T a, b;                                                                                    \
        memcpy(&a, dst, sizeof a);                                                                 \
        memcpy(&b, src, sizeof b);                                                                 \
        switch (q->reduction) {                                                                    \
        case RT_SCATTER_ADD:                                                                       \
            a = a + b;                                                                             \
            break;                                                                                 \
        case RT_SCATTER_MUL:                                                                       \
            a = a * b;                                                                             \
            break;                                                                                 \
        case RT_SCATTER_MAX:                                                                       \
            a = b > a ? b : a;                                                                     \
            break;                                                                                 \
        default:                                                                                   \
            a = b < a ? b : a;                                                                     \
            break;                                                                                 \
        }                                                                                          \
        memcpy(dst, &a, sizeof a);                                                                 \
    } while (0)

static void apply(const rt_index_params *q, uint8_t *dst, const uint8_t *src) {
    if (q->reduction == RT_SCATTER_NONE) {
        memcpy(dst, src, q->es);
        return;
    }
    switch (q->dtype) {
    case AC_DTYPE_F32:
        REDUCE(float);
        break;
    case AC_DTYPE_F64:
        REDUCE(double);
        break;
    case AC_DTYPE_S32:
        REDUCE(int32_t);
        break;
    default:
        REDUCE(int64_t);
        break; /* infer allows no other type with a reduction */
    }
}

/* Offset in the data of indices element `i` (decoded over the indices' dims) with the axis
 * coordinate replaced by the index; -1 when the index is out of range. */
static int64_t element_offset(const rt_index_params *q, const rt_tensor *idx, int64_t i,
                              const int64_t *dst_st) {
    int64_t rem = i, off = 0;
    for (int32_t a = q->rank - 1; a >= 0; a--) {
        int64_t c = rem % q->idims[a];
        rem /= q->idims[a];
        if (a == q->axis) {
            c = rt_index_at(idx, i);
            if (c < 0) c += q->dims[a];
            if (c < 0 || c >= q->dims[a]) return -1;
        }
        off += c * dst_st[a];
    }
    return off;
}

static void run_gather_elements(const rt_node *n, const rt_ctx *x) {
    (void)x;
    const rt_index_params *q = n->params;
    int64_t st[AC_MAX_RANK];
    strides_of(q->dims, q->rank, st);
    const rt_tensor *idx = n->in[1];
    const uint8_t *src = n->in[0]->data;
    uint8_t *dst = n->out[0]->data;
    for (int64_t i = 0; i < idx->numel; i++) {
        int64_t off = element_offset(q, idx, i, st);
        if (off < 0)
            memset(dst + (size_t)i * q->es, 0, q->es);
        else
            memcpy(dst + (size_t)i * q->es, src + (size_t)off * q->es, q->es);
    }
}

/* A scatter's start: the output holds the data, st the data's strides. */
static uint8_t *scatter_start(const rt_node *n, int64_t *st) {
    const rt_index_params *q = n->params;
    strides_of(q->dims, q->rank, st);
    uint8_t *dst = n->out[0]->data;
    if (n->out[0]->data != n->in[0]->data) memcpy(dst, n->in[0]->data, n->out[0]->nbytes);
    return dst;
}

static void run_scatter_elements(const rt_node *n, const rt_ctx *x) {
    (void)x;
    const rt_index_params *q = n->params;
    int64_t st[AC_MAX_RANK];
    uint8_t *dst = scatter_start(n, st);
    const rt_tensor *idx = n->in[1];
    const uint8_t *up = n->in[2]->data;
    for (int64_t i = 0; i < idx->numel; i++) {
        int64_t off = element_offset(q, idx, i, st);
        if (off >= 0) apply(q, dst + (size_t)off * q->es, up + (size_t)i * q->es);
    }
}

static void run_scatter_nd(const rt_node *n, const rt_ctx *x) {
    (void)x;
    const rt_index_params *q = n->params;
    int64_t st[AC_MAX_RANK];
    uint8_t *dst = scatter_start(n, st);
    const rt_tensor *idx = n->in[1];
    const uint8_t *up = n->in[2]->data;
    int64_t tuples = idx->numel / q->k;
    for (int64_t t = 0; t < tuples; t++) {
        int64_t off = 0;
        for (int64_t j = 0; j < q->k && off >= 0; j++) {
            int64_t c = rt_index_at(idx, t * q->k + j);
            if (c < 0) c += q->dims[j];
            off = c < 0 || c >= q->dims[j] ? -1 : off + c * st[j];
        }
        if (off < 0) continue;
        for (int64_t e = 0; e < q->slice; e++)
            apply(q, dst + (size_t)(off + e) * q->es, up + (size_t)(t * q->slice + e) * q->es);
    }
}

const rt_kernel rt_k_gather_elements_ref = {
    "gather_elements_ref", "GatherElements", AC_ISA_REF, NULL, NULL, run_gather_elements};
/* Scatter (opsets 9, 10) and ScatterElements share the infer and this kernel */
static int score_scatter_elements(const rt_node *n) {
    return n->op->infer == rt_infer_scatter_elements;
}

const rt_kernel rt_k_scatter_elements_ref = {"scatter_elements_ref", "*",  AC_ISA_REF,
                                             score_scatter_elements, NULL, run_scatter_elements};
const rt_kernel rt_k_scatter_nd_ref = {"scatter_nd_ref", "ScatterND", AC_ISA_REF, NULL, NULL,
                                       run_scatter_nd};

/* ---- TopK ----------------------------------------------------------------------------------
 * Each [axis_len] slice is sorted as (key, index) pairs in per-thread scratch; keys are long
 * double, exact for every int64. NaN ranks above every number (first when largest). Ties go to
 * the lower index, as the spec asks. */
typedef struct topk_pair {
    long double key;
    int64_t index;
} topk_pair;

static int key_cmp(long double a, long double b) {
    int na = isnan(a), nb = isnan(b);
    if (na || nb) return na - nb;
    return a < b ? -1 : a > b;
}

static int cmp_largest(const void *pa, const void *pb) {
    const topk_pair *a = pa, *b = pb;
    int c = key_cmp(b->key, a->key);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

static int cmp_smallest(const void *pa, const void *pb) {
    const topk_pair *a = pa, *b = pb;
    int c = key_cmp(a->key, b->key);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

static long double key_at(const rt_index_params *q, const uint8_t *x, int64_t i) {
    switch (q->dtype) {
    case AC_DTYPE_F32:
        return ((const float *)x)[i];
    case AC_DTYPE_F64:
        return ((const double *)x)[i];
    case AC_DTYPE_S32:
        return ((const int32_t *)x)[i];
    case AC_DTYPE_S64:
        return ((const int64_t *)x)[i];
    case AC_DTYPE_S8:
        return ((const int8_t *)x)[i];
    default:
        return x[i]; /* uint8 */
    }
}

typedef struct topk_job {
    const rt_node *n;
    const rt_ctx *x;
} topk_job;

static void topk_task(void *user, int64_t s, int32_t thread) {
    const topk_job *j = user;
    const rt_index_params *q = j->n->params;
    topk_pair *pr = rt_scratch(j->x, thread);
    int64_t o = s / q->inner, in = s % q->inner;
    const uint8_t *x = j->n->in[0]->data;
    int64_t base = o * q->axis_len * q->inner + in;
    for (int64_t i = 0; i < q->axis_len; i++) {
        pr[i].key = key_at(q, x, base + i * q->inner);
        pr[i].index = i;
    }
    qsort(pr, (size_t)q->axis_len, sizeof *pr, q->largest ? cmp_largest : cmp_smallest);
    uint8_t *v = j->n->out[0]->data;
    int64_t *ix = j->n->n_out > 1 && j->n->out[1] ? j->n->out[1]->data : NULL;
    for (int64_t t = 0; t < q->topk; t++) {
        int64_t at = o * q->topk * q->inner + t * q->inner + in;
        memcpy(v + (size_t)at * q->es, x + (size_t)(base + pr[t].index * q->inner) * q->es, q->es);
        if (ix) ix[at] = pr[t].index;
    }
}

static ac_status prepare_topk(rt_plan *p, rt_node *n, ac_diag *d) {
    (void)p;
    (void)d;
    const rt_index_params *q = n->params;
    n->scratch = (size_t)(q->axis_len ? q->axis_len : 1) * sizeof(topk_pair);
    return AC_OK;
}

static void run_topk(const rt_node *n, const rt_ctx *x) {
    const rt_index_params *q = n->params;
    if (q->topk == 0) return;
    topk_job j = {n, x};
    rt_parallel_for(x, q->outer * q->inner, topk_task, &j);
}

const rt_kernel rt_k_topk_ref = {"topk_ref", "TopK", AC_ISA_REF, NULL, prepare_topk, run_topk};

/* ---- CumSum ------------------------------------------------------------------------------- */

#define CUMSUM(T)                                                                                  \
    do {                                                                                           \
        const T *xs = n->in[0]->data;                                                              \
        T *ys = n->out[0]->data;                                                                   \
        for (int64_t s = 0; s < q->outer * q->inner; s++) {                                        \
            int64_t base = (s / q->inner) * q->axis_len * q->inner + s % q->inner;                 \
            T acc = 0;                                                                             \
            for (int64_t t = 0; t < q->axis_len; t++) {                                            \
                int64_t i = q->reverse ? q->axis_len - 1 - t : t;                                  \
                int64_t at = base + i * q->inner;                                                  \
                if (q->exclusive) {                                                                \
                    ys[at] = acc;                                                                  \
                    acc += xs[at];                                                                 \
                } else {                                                                           \
                    acc += xs[at];                                                                 \
                    ys[at] = acc;                                                                  \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static void run_cumsum(const rt_node *n, const rt_ctx *x) {
    (void)x;
    const rt_index_params *q = n->params;
    switch (q->dtype) {
    case AC_DTYPE_F32:
        CUMSUM(float);
        break;
    case AC_DTYPE_F64:
        CUMSUM(double);
        break;
    case AC_DTYPE_S32:
        CUMSUM(int32_t);
        break;
    default:
        CUMSUM(int64_t);
        break;
    }
}

const rt_kernel rt_k_cumsum_ref = {"cumsum_ref", "CumSum", AC_ISA_REF, NULL, NULL, run_cumsum};
