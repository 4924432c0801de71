/* SPDX-License-Identifier: MIT */
/* Reference pooling: MaxPool (with Indices), AveragePool, LpPool and the Global forms (which
 * infer turns into one 1-D window over all spatial elements). One task per N*C plane; every
 * spatial rank is walked as 3-D with missing axes of size 1, so one loop nest serves 1-D to 3-D.
 * Windows clip to the input; padding only matters for AveragePool's count_include_pad
 * divisor and for LpPool (padded zeros add nothing). */
#include "../../ops/pool.h"

#include <float.h>
#include <math.h>
#include <string.h>

typedef struct pool_geom {
    int64_t in[3], out[3], k[3], s[3], dil[3], pad[3], pad_end[3];
    int64_t in_plane, out_plane;
    int64_t cm_stride[3]; /* column-major strides within a plane, for storage_order = 1 */
    int64_t rm_stride[3]; /* row-major strides */
} pool_geom;

static void geom(const rt_pool_params *pp, pool_geom *g) {
    for (int i = 0; i < 3; i++) {
        int real = i < pp->nsp;
        g->in[i] = real ? pp->in[i] : 1;
        g->out[i] = real ? pp->out[i] : 1;
        g->k[i] = real ? pp->k[i] : 1;
        g->s[i] = real ? pp->s[i] : 1;
        g->dil[i] = real ? pp->dil[i] : 1;
        g->pad[i] = real ? pp->pad[i] : 0;
        g->pad_end[i] = real ? pp->pad_end[i] : 0;
    }
    g->in_plane = g->in[0] * g->in[1] * g->in[2];
    g->out_plane = g->out[0] * g->out[1] * g->out[2];
    g->rm_stride[2] = 1;
    g->rm_stride[1] = g->in[2];
    g->rm_stride[0] = g->in[1] * g->in[2];
    g->cm_stride[0] = 1;
    g->cm_stride[1] = g->in[0];
    g->cm_stride[2] = g->in[0] * g->in[1];
}

/* First and last+1 window tap (j) whose position start + j * dil lies in [lo, hi). */
static void taps(int64_t start, int64_t k, int64_t dil, int64_t lo, int64_t hi, int64_t *j0,
                 int64_t *j1) {
    int64_t a = 0, b = k;
    if (start < lo) a = (lo - start + dil - 1) / dil;
    if (start + (k - 1) * dil >= hi) b = hi - start <= 0 ? 0 : (hi - start + dil - 1) / dil;
    if (b < a) b = a;
    *j0 = a;
    *j1 = b;
}

typedef struct pool_job {
    const rt_node *n;
    const rt_pool_params *pp;
    pool_geom g;
} pool_job;

/* MaxPool on one plane of type T; strict '>' keeps the first maximum (ONNX's Indices rule). */
#define MAX_PLANE(T, LOWEST)                                                                       \
    do {                                                                                           \
        const T *X = (const T *)j->n->in[0]->data + plane * g->in_plane;                           \
        T *Y = (T *)j->n->out[0]->data + plane * g->out_plane;                                     \
        int64_t oi = 0;                                                                            \
        for (int64_t o0 = 0; o0 < g->out[0]; o0++)                                                 \
            for (int64_t o1 = 0; o1 < g->out[1]; o1++)                                             \
                for (int64_t o2 = 0; o2 < g->out[2]; o2++, oi++) {                                 \
                    int64_t st[3] = {o0 * g->s[0] - g->pad[0], o1 * g->s[1] - g->pad[1],           \
                                     o2 * g->s[2] - g->pad[2]};                                    \
                    int64_t a[3], b[3];                                                            \
                    for (int q = 0; q < 3; q++) taps(st[q], g->k[q], g->dil[q], 0, g->in[q], &a[q], &b[q]); \
                    T best = LOWEST;                                                               \
                    int found = 0;                                                                 \
                    int64_t bp[3] = {0, 0, 0};                                                     \
                    for (int64_t j0 = a[0]; j0 < b[0]; j0++)                                       \
                        for (int64_t j1 = a[1]; j1 < b[1]; j1++)                                   \
                            for (int64_t j2 = a[2]; j2 < b[2]; j2++) {                             \
                                int64_t p0 = st[0] + j0 * g->dil[0], p1 = st[1] + j1 * g->dil[1],  \
                                        p2 = st[2] + j2 * g->dil[2];                               \
                                T v = X[p0 * g->rm_stride[0] + p1 * g->rm_stride[1] + p2];         \
                                if (!found || v > best) {                                          \
                                    best = v;                                                      \
                                    found = 1;                                                     \
                                    bp[0] = p0;                                                    \
                                    bp[1] = p1;                                                    \
                                    bp[2] = p2;                                                    \
                                }                                                                  \
                            }                                                                      \
                    Y[oi] = best;                                                                  \
                    if (I) {                                                                       \
                        const int64_t *sd = j->pp->storage_order ? g->cm_stride : g->rm_stride;    \
                        I[oi] = found ? plane * g->in_plane + bp[0] * sd[0] + bp[1] * sd[1] +      \
                                            bp[2] * sd[2]                                          \
                                      : -1;                                                        \
                    }                                                                              \
                }                                                                                  \
    } while (0)

static void max_task(void *user, int64_t plane, int32_t thread) {
    (void)thread;
    const pool_job *j = user;
    const pool_geom *g = &j->g;
    int64_t *I = j->n->n_out > 1 && j->n->out[1]
                     ? (int64_t *)j->n->out[1]->data + plane * g->out_plane
                     : NULL;
    switch (j->n->in[0]->dtype) {
    case AC_DTYPE_U8: MAX_PLANE(uint8_t, 0); break;
    case AC_DTYPE_S8: MAX_PLANE(int8_t, INT8_MIN); break;
    default: MAX_PLANE(float, -INFINITY); break;
    }
}

/* AveragePool and LpPool: sums in double so long windows (Global pools) stay accurate. */
static void avg_task(void *user, int64_t plane, int32_t thread) {
    (void)thread;
    const pool_job *j = user;
    const pool_geom *g = &j->g;
    const rt_pool_params *pp = j->pp;
    const float *X = (const float *)j->n->in[0]->data + plane * g->in_plane;
    float *Y = (float *)j->n->out[0]->data + plane * g->out_plane;
    int lp = pp->kind == RT_POOL_LP;
    double p = pp->p;
    int64_t oi = 0;
    for (int64_t o0 = 0; o0 < g->out[0]; o0++)
        for (int64_t o1 = 0; o1 < g->out[1]; o1++)
            for (int64_t o2 = 0; o2 < g->out[2]; o2++, oi++) {
                int64_t st[3] = {o0 * g->s[0] - g->pad[0], o1 * g->s[1] - g->pad[1],
                                 o2 * g->s[2] - g->pad[2]};
                int64_t a[3], b[3], cnt = 1;
                for (int q = 0; q < 3; q++) {
                    taps(st[q], g->k[q], g->dil[q], 0, g->in[q], &a[q], &b[q]);
                    if (pp->count_include_pad) {
                        /* the divisor counts taps inside the padded input, not beyond it */
                        int64_t pa, pb;
                        taps(st[q], g->k[q], g->dil[q], -g->pad[q], g->in[q] + g->pad_end[q],
                             &pa, &pb);
                        cnt *= pb - pa;
                    } else {
                        cnt *= b[q] - a[q];
                    }
                }
                double sum = 0.0;
                for (int64_t j0 = a[0]; j0 < b[0]; j0++)
                    for (int64_t j1 = a[1]; j1 < b[1]; j1++) {
                        const float *row = X + (st[0] + j0 * g->dil[0]) * g->rm_stride[0] +
                                           (st[1] + j1 * g->dil[1]) * g->rm_stride[1] + st[2];
                        for (int64_t j2 = a[2]; j2 < b[2]; j2++) {
                            double v = row[j2 * g->dil[2]];
                            sum += lp ? (p == 2.0 ? v * v : pow(fabs(v), p)) : v;
                        }
                    }
                if (lp) Y[oi] = (float)(p == 2.0 ? sqrt(sum) : pow(sum, 1.0 / p));
                else Y[oi] = cnt ? (float)(sum / (double)cnt) : 0.0f;
            }
}

static void run_pool(const rt_node *n, const rt_ctx *x) {
    pool_job j;
    j.n = n;
    j.pp = n->params;
    geom(j.pp, &j.g);
    rt_parallel_for(x, j.pp->planes, j.pp->kind == RT_POOL_MAX ? max_task : avg_task, &j);
}

static int score_pool(const rt_node *n) {
    return n->op->infer == rt_infer_pool || n->op->infer == rt_infer_global_pool;
}

const rt_kernel rt_k_pool_ref = {"pool_ref", "*", AC_ISA_REF, score_pool, NULL, run_pool};
