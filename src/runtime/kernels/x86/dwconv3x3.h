/* SPDX-License-Identifier: MIT */
/* Depthwise 3x3 conv (group == C == M, stride 1 or 2, dilation 1), NCHW, written once over a
 * small vector abstraction and included by dwconv3x3_avx2.c and dwconv3x3_avx512.c, which
 * define V, VL, VLOAD, VSET1, VFMA, VADD, VMAX, VMIN, VSTORE_N before including it.
 *
 * A task is one (image, channel). The channel is copied with its zero padding into the
 * thread's scratch (stride 2: split into even and odd columns so every tap is a contiguous
 * load), then each output row is computed VL columns at a time with bias, residual and ReLU /
 * Clip applied in registers; other activations run over the finished row. */
#include "../../ops/nn.h"

#include <string.h>

typedef struct dw_state {
    int64_t hp, lw; /* padded rows, floats per buffer row */
} dw_state;

static int64_t dw_round(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

static ac_status dw_prepare(rt_plan *p, rt_node *n, ac_diag *d) {
    const rt_conv_params *q = n->params;
    dw_state *s = rt_plan_alloc(p, sizeof *s);
    if (!s) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    s->hp = q->in[1] + q->pad0[1] + q->pad1[1];
    s->lw = dw_round(q->out[2], VL) + VL;
    if (q->stride[2] == 1 && s->lw < q->in[2] + q->pad0[2] + q->pad1[2])
        s->lw = dw_round(q->in[2] + q->pad0[2] + q->pad1[2], VL);
    n->kstate = s;
    n->scratch = (size_t)((q->stride[2] == 2 ? 2 : 1) * s->hp * s->lw) * sizeof(float);
    return AC_OK;
}

typedef struct dw_job {
    const rt_node *n;
    const rt_ctx *x;
} dw_job;

static void dw_task(void *user, int64_t task, int32_t thread) {
    const dw_job *j = user;
    const rt_node *n = j->n;
    const rt_conv_params *q = n->params;
    const dw_state *s = n->kstate;
    int64_t c = task % q->C;
    int64_t H = q->in[1], W = q->in[2], OH = q->out[1], OW = q->out[2];
    int64_t ph = q->pad0[1], pw = q->pad0[2], lw = s->lw, st = q->stride[2];
    const float *x = (const float *)n->in[0]->data + task * q->in_sp;
    float *y = (float *)n->out[0]->data + task * q->out_sp;
    const float *sum = n->sum ? (const float *)n->sum->data + task * q->out_sp : NULL;
    const float *w = (const float *)n->in[1]->data + c * 9;
    float bias = q->has_bias && n->in[2] ? ((const float *)n->in[2]->data)[c] : 0.0f;
    float *buf = rt_scratch(j->x, thread);
    /* padded copy (stride 2: even columns in buf, odd columns in buf + hp * lw) */
    for (int64_t r = 0; r < s->hp; r++) {
        int64_t ih = r - ph;
        if (st == 1) {
            float *row = buf + r * lw;
            if (ih < 0 || ih >= H) {
                memset(row, 0, (size_t)lw * sizeof *row);
                continue;
            }
            memset(row, 0, (size_t)pw * sizeof *row);
            memcpy(row + pw, x + ih * W, (size_t)W * sizeof *row);
            memset(row + pw + W, 0, (size_t)(lw - pw - W) * sizeof *row);
        } else {
            float *ev = buf + r * lw, *od = buf + (s->hp + r) * lw;
            if (ih < 0 || ih >= H) {
                memset(ev, 0, (size_t)lw * sizeof *ev);
                memset(od, 0, (size_t)lw * sizeof *od);
                continue;
            }
            /* ev[jj] = x[2 jj - pw], od[jj] = x[2 jj + 1 - pw] where inside the row */
            const float *xr = x + ih * W;
            memset(ev, 0, (size_t)lw * sizeof *ev);
            memset(od, 0, (size_t)lw * sizeof *od);
            int64_t e0 = (pw + 1) / 2, e1 = (W + pw + 1) / 2; /* 0 <= 2 jj - pw < W */
            int64_t o0 = pw / 2, o1 = (W + pw) / 2;           /* 0 <= 2 jj + 1 - pw < W */
            if (e1 > lw) e1 = lw;
            if (o1 > lw) o1 = lw;
            for (int64_t jj = e0; jj < e1; jj++) ev[jj] = xr[2 * jj - pw];
            for (int64_t jj = o0; jj < o1; jj++) od[jj] = xr[2 * jj + 1 - pw];
        }
    }
    V w0 = VSET1(w[0]), w1 = VSET1(w[1]), w2 = VSET1(w[2]), w3 = VSET1(w[3]), w4 = VSET1(w[4]),
      w5 = VSET1(w[5]), w6 = VSET1(w[6]), w7 = VSET1(w[7]), w8 = VSET1(w[8]);
    V vb = VSET1(bias);
    int act = n->act.kind;
    V lo = VSET1(act == RT_ACT_RELU ? 0.0f : n->act.alpha), hi = VSET1(n->act.beta);
    for (int64_t oh = 0; oh < OH; oh++) {
        float *yr = y + oh * OW;
        const float *sr = sum ? sum + oh * OW : NULL;
        for (int64_t ow = 0; ow < OW; ow += VL) {
            V acc = vb;
            if (st == 1) {
                const float *r0 = buf + oh * lw + ow, *r1 = r0 + lw, *r2 = r1 + lw;
                acc = VFMA(VLOAD(r0), w0, acc);
                acc = VFMA(VLOAD(r0 + 1), w1, acc);
                acc = VFMA(VLOAD(r0 + 2), w2, acc);
                acc = VFMA(VLOAD(r1), w3, acc);
                acc = VFMA(VLOAD(r1 + 1), w4, acc);
                acc = VFMA(VLOAD(r1 + 2), w5, acc);
                acc = VFMA(VLOAD(r2), w6, acc);
                acc = VFMA(VLOAD(r2 + 1), w7, acc);
                acc = VFMA(VLOAD(r2 + 2), w8, acc);
            } else {
                const float *e0 = buf + 2 * oh * lw + ow, *e1 = e0 + lw, *e2 = e1 + lw;
                const float *o0 = e0 + s->hp * lw, *o1 = o0 + lw, *o2 = o1 + lw;
                acc = VFMA(VLOAD(e0), w0, acc);
                acc = VFMA(VLOAD(o0), w1, acc);
                acc = VFMA(VLOAD(e0 + 1), w2, acc);
                acc = VFMA(VLOAD(e1), w3, acc);
                acc = VFMA(VLOAD(o1), w4, acc);
                acc = VFMA(VLOAD(e1 + 1), w5, acc);
                acc = VFMA(VLOAD(e2), w6, acc);
                acc = VFMA(VLOAD(o2), w7, acc);
                acc = VFMA(VLOAD(e2 + 1), w8, acc);
            }
            int64_t cnt = OW - ow < VL ? OW - ow : VL;
            if (sr) acc = VADD(acc, VLOAD_N(sr + ow, cnt));
            if (act == RT_ACT_RELU) acc = VMAX(acc, lo);
            else if (act == RT_ACT_CLIP) acc = VMIN(VMAX(acc, lo), hi);
            VSTORE_N(yr + ow, acc, cnt);
        }
        if (act != RT_ACT_NONE && act != RT_ACT_RELU && act != RT_ACT_CLIP)
            rt_act_apply(&n->act, yr, OW);
    }
}

static void dw_run(const rt_node *n, const rt_ctx *x) {
    const rt_conv_params *q = n->params;
    dw_job j = {n, x};
    rt_parallel_for(x, q->N * q->C, dw_task, &j);
}
