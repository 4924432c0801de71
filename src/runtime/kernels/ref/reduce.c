/* SPDX-License-Identifier: MIT */
/* Reference reductions (Reduce*) and ArgMax/ArgMin. Each output element walks its reduced
 * elements in row-major order (so Arg* sees indices in order along its axis). Floats
 * accumulate in double, integers in int64 (wrapping like the ONNX reference's fixed-width
 * numpy arithmetic only beyond int64, which shape arithmetic never reaches). */
#include "../../ops/pool.h"

#include <math.h>
#include <string.h>

typedef struct red_job {
    const rt_node *n;
    const rt_reduce_params *rp;
    int32_t nk, nr;                           /* kept and reduced axes */
    int64_t kd[AC_MAX_RANK], ks[AC_MAX_RANK]; /* kept dims, their input strides */
    int64_t rd[AC_MAX_RANK], rs[AC_MAX_RANK]; /* reduced dims, their input strides */
    int64_t per;                              /* outputs per task */
    int is_float;
} red_job;

static double load_f(const void *x, ac_dtype t, int64_t i) {
    return t == AC_DTYPE_F32 ? ((const float *)x)[i] : ((const double *)x)[i];
}

static int64_t load_i(const void *x, ac_dtype t, int64_t i) {
    switch (t) {
    case AC_DTYPE_U8: return ((const uint8_t *)x)[i];
    case AC_DTYPE_S8: return ((const int8_t *)x)[i];
    case AC_DTYPE_S32: return ((const int32_t *)x)[i];
    default: return ((const int64_t *)x)[i];
    }
}

static void store_i(void *y, ac_dtype t, int64_t i, int64_t v) {
    switch (t) {
    case AC_DTYPE_U8: ((uint8_t *)y)[i] = (uint8_t)v; break;
    case AC_DTYPE_S8: ((int8_t *)y)[i] = (int8_t)v; break;
    case AC_DTYPE_S32: ((int32_t *)y)[i] = (int32_t)v; break;
    default: ((int64_t *)y)[i] = v; break;
    }
}

/* Next reduced offset: odometer over the reduced axes, last fastest. */
static int64_t step(const red_job *j, int64_t *c, int64_t off) {
    for (int32_t a = j->nr - 1; a >= 0; a--) {
        off += j->rs[a];
        if (++c[a] < j->rd[a]) return off;
        off -= j->rs[a] * j->rd[a];
        c[a] = 0;
    }
    return off;
}

static void reduce_one(const red_job *j, int64_t oi) {
    const rt_reduce_params *rp = j->rp;
    const void *X = j->n->in[0]->data;
    ac_dtype t = j->n->in[0]->dtype;
    void *Y = j->n->out[0]->data;
    int64_t base = 0, r = oi;
    for (int32_t a = j->nk - 1; a >= 0; a--) {
        base += (r % j->kd[a]) * j->ks[a];
        r /= j->kd[a];
    }
    int64_t c[AC_MAX_RANK] = {0}, off = base, cnt = rp->count;
    rt_red_kind k = rp->kind;
    if (k == RT_RED_ARGMAX || k == RT_RED_ARGMIN) {
        int64_t best = 0;
        int mx = k == RT_RED_ARGMAX, last = rp->select_last_index;
        if (j->is_float) {
            double bv = load_f(X, t, off);
            for (int64_t i = 1; i < cnt; i++) {
                off = step(j, c, off);
                double v = load_f(X, t, off);
                if (mx ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv))) {
                    bv = v;
                    best = i;
                }
            }
        } else {
            int64_t bv = load_i(X, t, off);
            for (int64_t i = 1; i < cnt; i++) {
                off = step(j, c, off);
                int64_t v = load_i(X, t, off);
                if (mx ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv))) {
                    bv = v;
                    best = i;
                }
            }
        }
        ((int64_t *)Y)[oi] = best;
        return;
    }
    if (j->is_float) {
        double acc = k == RT_RED_PROD ? 1.0 : k == RT_RED_MAX || k == RT_RED_LOG_SUM_EXP
                                                  ? -INFINITY
                                                  : k == RT_RED_MIN ? INFINITY : 0.0;
        double mx = -INFINITY;
        if (k == RT_RED_LOG_SUM_EXP) { /* subtract the maximum so exp cannot overflow */
            int64_t c2[AC_MAX_RANK] = {0}, o2 = base;
            for (int64_t i = 0; i < cnt; i++) {
                double v = load_f(X, t, o2);
                if (v > mx) mx = v;
                if (i + 1 < cnt) o2 = step(j, c2, o2);
            }
            acc = 0.0;
        }
        for (int64_t i = 0; i < cnt; i++) {
            double v = load_f(X, t, off);
            switch (k) {
            case RT_RED_MAX: acc = v != v || v > acc ? v : acc; break;
            case RT_RED_MIN: acc = v != v || v < acc ? v : acc; break;
            case RT_RED_PROD: acc *= v; break;
            case RT_RED_L1: acc += fabs(v); break;
            case RT_RED_L2: case RT_RED_SUM_SQUARE: acc += v * v; break;
            case RT_RED_LOG_SUM_EXP: acc += exp(v - mx); break;
            default: acc += v; break;
            }
            if (i + 1 < cnt) off = step(j, c, off);
        }
        if (k == RT_RED_MEAN) acc /= (double)cnt;
        else if (k == RT_RED_L2) acc = sqrt(acc);
        else if (k == RT_RED_LOG_SUM) acc = log(acc);
        else if (k == RT_RED_LOG_SUM_EXP) acc = cnt ? mx + log(acc) : -INFINITY;
        if (t == AC_DTYPE_F32) ((float *)Y)[oi] = (float)acc;
        else ((double *)Y)[oi] = acc;
        return;
    }
    /* integers: empty Max/Min give the type's extreme (numpy has no identity there) */
    int64_t acc = k == RT_RED_PROD ? 1 : k == RT_RED_MAX ? INT64_MIN
                                       : k == RT_RED_MIN ? INT64_MAX : 0;
    for (int64_t i = 0; i < cnt; i++) {
        int64_t v = load_i(X, t, off);
        switch (k) {
        case RT_RED_MAX: acc = v > acc ? v : acc; break;
        case RT_RED_MIN: acc = v < acc ? v : acc; break;
        case RT_RED_PROD: acc = (int64_t)((uint64_t)acc * (uint64_t)v); break;
        case RT_RED_L1: acc += v < 0 ? -v : v; break;
        case RT_RED_SUM_SQUARE: acc += v * v; break;
        default: acc += v; break;
        }
        if (i + 1 < cnt) off = step(j, c, off);
    }
    store_i(Y, t, oi, acc);
}

static void red_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const red_job *j = user;
    int64_t o0 = task * j->per, o1 = o0 + j->per, total = j->n->out[0]->numel;
    if (o1 > total) o1 = total;
    for (int64_t oi = o0; oi < o1; oi++) reduce_one(j, oi);
}

static void run_reduce(const rt_node *n, const rt_ctx *x) {
    const rt_reduce_params *rp = n->params;
    const rt_tensor *in = n->in[0];
    if (rp->noop) {
        if (in->nbytes) memcpy(n->out[0]->data, in->data, in->nbytes);
        return;
    }
    red_job j;
    memset(&j, 0, sizeof j);
    j.n = n;
    j.rp = rp;
    j.is_float = in->dtype == AC_DTYPE_F32 || in->dtype == AC_DTYPE_F64;
    int64_t st = 1, strides[AC_MAX_RANK];
    for (int32_t a = in->rank - 1; a >= 0; a--) {
        strides[a] = st;
        st *= in->dims[a];
    }
    for (int32_t a = 0; a < in->rank; a++) {
        if (rp->reduced[a]) {
            j.rd[j.nr] = in->dims[a];
            j.rs[j.nr++] = strides[a];
        } else {
            j.kd[j.nk] = in->dims[a];
            j.ks[j.nk++] = strides[a];
        }
    }
    int64_t total = n->out[0]->numel;
    if (total == 0) return;
    int64_t work = rp->count > 0 ? rp->count : 1;
    j.per = (1 << 15) / work;
    if (j.per < 1) j.per = 1;
    rt_parallel_for(x, (total + j.per - 1) / j.per, red_task, &j);
}

static int score_reduce(const rt_node *n) {
    return n->op->infer == rt_infer_reduce || n->op->infer == rt_infer_arg;
}

const rt_kernel rt_k_reduce_ref = {"reduce_ref", "*", AC_ISA_REF, score_reduce, NULL,
                                   run_reduce};
