/* SPDX-License-Identifier: MIT */
/* A pointwise Conv (1x1, stride 1, unpadded) and the depthwise 3x3 Conv that alone reads its
 * output, run as one node (plan.c's fuse_pointwise_depthwise sets n->dw): MobileNet's expand +
 * depthwise pair.
 *
 * Why: the expanded tensor is the largest of such a network (MobileNetV2's first one is 96 x
 * 112 x 112 floats, 4.8 MB), so run separately the pointwise conv writes it to memory and the
 * depthwise conv reads it back. Here it is made a band of rows at a time in per-thread scratch
 * that stays in L2, and the depthwise kernel consumes each band before the next is made.
 *
 * Each task takes a run of output rows of one image and walks it in bands of `ob` rows. A band
 * needs input rows [lo, hi); those the previous band already made are moved to the front of
 * each channel plane, the others are computed by one GEMM call, and the depthwise kernel
 * (dwconv3x3_avx512) runs on the band as on a small image: its rows, its own top padding, the
 * output plane's stride. Tasks are cut from the shape alone (never from the thread count), so
 * the GEMM calls, and with them the results, are the same however many threads run them. */
#include "../../ops/nn.h"
#include "sgemm.h"

#include <string.h>

/* Bytes of expanded rows a band holds: with the input rows it reads and the output rows it
 * writes, a band stays inside a 1 MB L2 (MobileNetV2's first pair: 400-900 KB all ran alike,
 * 100-160 KB slower from the smaller GEMMs and more depthwise calls). */
#define BAND_BYTES (512 * 1024)

/* Tasks an image is cut into, whatever the thread count: each repeats the 1-2 expanded rows
 * its first band shares with the previous task's last (about 1-3% more pointwise work). */
#define TASKS_PER_IMAGE 4

typedef struct pwdw_state {
    int64_t ob;        /* output rows per band */
    int64_t rcap;      /* expanded rows a band holds; a channel plane is rcap * W floats */
    int64_t chunk;     /* output rows per task */
    int64_t nchunks;   /* tasks per image */
    size_t band_bytes; /* per-thread scratch for the expanded band (a multiple of 64) */
    size_t dw_bytes;   /* per-thread scratch of the depthwise kernel for one band */
} pwdw_state;

typedef struct pwdw_job {
    const rt_node *n;
    const rt_ctx *x;
} pwdw_job;

/* The band of output rows from o0: its end *o1 (at most oe) and the expanded rows [lo, hi)
 * its taps read. */
static void band_rows(const pwdw_state *st, const rt_conv_params *pq, const rt_conv_params *dq,
                      int64_t o0, int64_t oe, int64_t *o1, int64_t *lo, int64_t *hi) {
    const int64_t s = dq->stride[1], pt = dq->pad0[1];
    *o1 = o0 + st->ob < oe ? o0 + st->ob : oe;
    *lo = o0 * s - pt;
    *hi = (*o1 - 1) * s - pt + 3;
    if (*lo < 0) *lo = 0;
    if (*hi > pq->in[1]) *hi = pq->in[1];
}

/* The depthwise conv of output rows [o0, o1) over expanded rows [lo, hi), as a node of its
 * own: params `vq`, input `vin`, output `vout` (filled here), everything else the real
 * depthwise node's. */
static void band_node(const rt_node *dw, int64_t o0, int64_t o1, int64_t lo, int64_t hi,
                      int64_t plane, rt_conv_params *vq, rt_tensor *vin, rt_tensor *vout,
                      rt_tensor **ins, rt_tensor **outs, rt_node *vn) {
    const rt_conv_params *q = dw->params;
    const int64_t s = q->stride[1], pt = q->pad0[1];
    *vq = *q;
    vq->N = 1;
    vq->in[1] = hi - lo;
    vq->out[1] = o1 - o0;
    vq->pad0[1] = lo - (o0 * s - pt); /* rows of padding above the band's first tap row */
    int64_t last = (o1 - o0 - 1) * s - vq->pad0[1] + 2;
    vq->pad1[1] = last + 1 > vq->in[1] ? last + 1 - vq->in[1] : 0;
    vq->in_sp = plane; /* plane strides: the band's in scratch, the whole image's out */
    memset(vin, 0, sizeof *vin);
    memset(vout, 0, sizeof *vout);
    vin->dtype = vout->dtype = AC_DTYPE_F32;
    vin->nbytes = (size_t)(q->C * plane) * sizeof(float);
    ins[0] = vin;
    ins[1] = dw->in[1];
    ins[2] = dw->n_in > 2 ? dw->in[2] : NULL;
    outs[0] = vout;
    *vn = *dw;
    vn->in = ins;
    vn->n_in = 3;
    vn->out = outs;
    vn->n_out = 1;
    vn->params = vq;
    vn->sum = NULL;
    vn->dead = 0;
}

static void pwdw_task(void *user, int64_t task, int32_t thread) {
    const pwdw_job *j = user;
    const rt_node *n = j->n, *dw = n->dw;
    const rt_conv_params *pq = n->params, *dq = dw->params;
    const pwdw_state *st = n->kstate;
    const int64_t img = task / st->nchunks, ck = task % st->nchunks;
    const int64_t W = pq->in[2], K = pq->C, Cm = pq->M, OH = dq->out[1], OW = dq->out[2];
    const int64_t plane = st->rcap * W;
    const int64_t ob = ck * st->chunk, oe = ob + st->chunk < OH ? ob + st->chunk : OH;
    uint8_t *scr = rt_scratch(j->x, thread);
    float *e = (float *)scr;
    const float *X = (const float *)n->in[0]->data + img * K * pq->in_sp;
    float *Y = (float *)n->out[0]->data + img * Cm * dq->out_sp;
    const float *A = n->in[1]->data;
    const float *bias = pq->has_bias && n->n_in > 2 && n->in[2] ? n->in[2]->data : NULL;
    const rt_gemm_epi ep = {bias, NULL, 0, &n->act};
    rt_ctx one = {.pool = NULL, .nthreads = 1, .scratch = scr + st->band_bytes,
                  .scratch_stride = st->dw_bytes};
    int64_t have_lo = 0, have_hi = 0; /* expanded rows in e, from plane offset 0 */
    for (int64_t o0 = ob; o0 < oe; o0 += st->ob) {
        int64_t o1, lo, hi;
        band_rows(st, pq, dq, o0, oe, &o1, &lo, &hi);
        int64_t from = lo;
        if (have_hi > lo && lo >= have_lo) {
            /* rows [lo, have_hi) were made for the previous band */
            if (lo > have_lo)
                for (int64_t c = 0; c < Cm; c++)
                    memmove(e + c * plane, e + c * plane + (lo - have_lo) * W,
                            (size_t)((have_hi - lo) * W) * sizeof *e);
            from = have_hi;
        }
        if (from < hi)
            rt_sgemm_avx512(Cm, (hi - from) * W, K, A, K, X + from * W, pq->in_sp,
                            e + (from - lo) * W, plane, &ep);
        have_lo = lo;
        have_hi = hi;
        rt_conv_params vq;
        rt_tensor vin, vout, *ins[3], *outs[1];
        rt_node vn;
        band_node(dw, o0, o1, lo, hi, plane, &vq, &vin, &vout, ins, outs, &vn);
        vin.data = e;
        vout.data = Y + o0 * OW;
        rt_k_dwconv3x3_avx512.run(&vn, &one);
    }
}

static ac_status pwdw_prepare(rt_plan *p, rt_node *n, ac_diag *d) {
    const rt_conv_params *pq = n->params, *dq = n->dw->params;
    pwdw_state *st = rt_plan_alloc(p, sizeof *st);
    if (!st) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    const int64_t W = pq->in[2], Cm = pq->M, s = dq->stride[1], OH = dq->out[1];
    int64_t rows = BAND_BYTES / (Cm * W * (int64_t)sizeof(float));
    st->ob = rows > 3 ? (rows - 3) / s + 1 : 1;
    if (st->ob > OH) st->ob = OH;
    st->rcap = (st->ob - 1) * s + 3;
    /* TASKS_PER_IMAGE runs of whole bands (fewer if there are fewer bands) */
    int64_t bands = (OH + st->ob - 1) / st->ob;
    int64_t per_img = bands < TASKS_PER_IMAGE ? bands : TASKS_PER_IMAGE;
    st->chunk = (bands + per_img - 1) / per_img * st->ob;
    st->nchunks = (OH + st->chunk - 1) / st->chunk;
    st->band_bytes = ((size_t)(Cm * st->rcap * W) * sizeof(float) + 63) & ~(size_t)63;
    /* the depthwise kernel's scratch: the most any band asks for (the first has top padding,
     * a short last one may take the kernel's small-plane path) */
    size_t dw_bytes = 0;
    for (int64_t ob = 0; ob < OH; ob += st->chunk) {
        int64_t oe = ob + st->chunk < OH ? ob + st->chunk : OH;
        for (int64_t o0 = ob; o0 < oe; o0 += st->ob) {
            int64_t o1, lo, hi;
            band_rows(st, pq, dq, o0, oe, &o1, &lo, &hi);
            rt_conv_params vq;
            rt_tensor vin, vout, *ins[3], *outs[1];
            rt_node vn;
            band_node(n->dw, o0, o1, lo, hi, st->rcap * W, &vq, &vin, &vout, ins, outs, &vn);
            vn.scratch = 0;
            AC_TRY(rt_k_dwconv3x3_avx512.prepare(p, &vn, d));
            if (vn.scratch > dw_bytes) dw_bytes = vn.scratch;
        }
    }
    st->dw_bytes = (dw_bytes + 63) & ~(size_t)63;
    n->kstate = st;
    n->scratch = st->band_bytes + st->dw_bytes;
    return AC_OK;
}

static void pwdw_run(const rt_node *n, const rt_ctx *x) {
    const pwdw_state *st = n->kstate;
    const rt_conv_params *dq = n->dw->params;
    pwdw_job j = {n, x};
    rt_parallel_for(x, dq->N * st->nchunks, pwdw_task, &j);
}

static int pwdw_score(const rt_node *n) {
    const rt_conv_params *q = n->params;
    return n->dw && rt_conv_is_pointwise(q) && q->group == 1 && rt_dw3x3_ok(n->dw) ? 30 : 0;
}

const rt_kernel rt_k_pwdw_avx512 = {"pwdw_avx512", "Conv", AC_ISA_AVX512, pwdw_score,
                                    pwdw_prepare, pwdw_run, 1};
