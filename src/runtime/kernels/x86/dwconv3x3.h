/* SPDX-License-Identifier: MIT */
/* Depthwise 3x3 conv (group == C == M, stride 1 or 2, dilation 1, pads 0..2), NCHW, written
 * once over a small vector abstraction and included by dwconv3x3_avx2.c and dwconv3x3_avx512.c,
 * which define the vector types and operations used below (V, VL, VM, VI, VLOAD, VLOAD_M, ...;
 * see those files). Three paths, all reading the input in place or from scratch copies:
 *   - stride 1 with left + right pad == 2 (every "same" conv): dw_task_flat / dw_task_small,
 *     the plane as one flat run of vectors across row ends;
 *   - other stride-1 pads: dw_task, row by row;
 *   - stride 2: dw_task_s2, two output rows per pass, columns split into even / odd lanes in
 *     registers (AVX-512, W <= 16: two output rows per vector).
 * Masked loads are slow on Zen 4, so interior vectors use plain loads and mask on the FMAs or
 * permutes; only vectors at a plane's first and last rows use masked loads (their lanes
 * outside the image read 0, the padding). Bias, residual and ReLU / Clip are applied in
 * registers, other activations over the finished output. Every output element sums its nine
 * taps in one fixed order, whatever the path, the task split or the thread count. */
#include "../../ops/nn.h"

#include <string.h>

/* p + off floats, where off may point before p: only masked loads whose lanes outside the
 * row are off use such addresses (integer arithmetic, no out-of-object pointer arithmetic). */
static inline const float *dw_at(const float *p, int64_t off) {
    return (const float *)((uintptr_t)p + (uintptr_t)(off * (int64_t)sizeof(float)));
}

/* Lanes of a load at column c (lane i reads column c + i) that fall inside [0, W). */
static inline VM dw_cols(int64_t c, int64_t W) {
    int64_t lo = c < 0 ? -c : 0, hi = W - c;
    if (hi > VL) hi = VL;
    if (lo > VL) lo = VL;
    if (hi < lo) hi = lo;
    return VMASK((int)lo, (int)hi);
}

typedef struct dw_job {
    const rt_node *n;
    const rt_ctx *x;
} dw_job;

/* Plane p (image * C + channel) of the node's input, output and residual (NULL without one). */
typedef struct dw_plane {
    const float *x;
    float *y;
    const float *sum;
} dw_plane;

static inline dw_plane dw_plane_at(const rt_node *n, int64_t p) {
    const rt_conv_params *q = n->params;
    dw_plane r = {(const float *)n->in[0]->data + p * q->in_sp,
                  (float *)n->out[0]->data + p * q->out_sp,
                  n->sum ? (const float *)n->sum->data + p * q->out_sp : NULL};
    return r;
}

#define DW_TAPS3(acc, r, c, wa, wb, wc)                                                        \
    do {                                                                                       \
        acc = VFMA(VLOAD((r) + (c)), wa, acc);                                                 \
        acc = VFMA(VLOAD((r) + (c) + 1), wb, acc);                                             \
        acc = VFMA(VLOAD((r) + (c) + 2), wc, acc);                                             \
    } while (0)

#define DW_TAPS3_M(acc, r, c, m0, m1, m2, wa, wb, wc)                                          \
    do {                                                                                       \
        acc = VFMA(VLOAD_M(dw_at(r, (c)), m0), wa, acc);                                       \
        acc = VFMA(VLOAD_M(dw_at(r, (c) + 1), m1), wb, acc);                                   \
        acc = VFMA(VLOAD_M(dw_at(r, (c) + 2), m2), wc, acc);                                   \
    } while (0)

/* Stride 1 with other pads (OW != W): one output row at a time; interior vectors use plain
 * loads, a row's first and last vectors masked loads, and rows above or below the image read a
 * zeroed row in the thread's scratch. */
static void dw_task(void *user, int64_t task, int32_t thread) {
    const dw_job *j = user;
    const rt_node *n = j->n;
    const rt_conv_params *q = n->params;
    int64_t c = task % q->C;
    const int64_t H = q->in[1], W = q->in[2], OH = q->out[1], OW = q->out[2];
    const int64_t pt = q->pad0[1], pl = q->pad0[2];
    const dw_plane at = dw_plane_at(n, task);
    const float *x = at.x, *sum = at.sum;
    float *y = at.y;
    const float *w = (const float *)n->in[1]->data + c * 9;
    float bias = q->has_bias && n->in[2] ? ((const float *)n->in[2]->data)[c] : 0.0f;
    float *zero = rt_scratch(j->x, thread);
    memset(zero, 0, (size_t)W * sizeof *zero);
    const V w0 = VSET1(w[0]), w1 = VSET1(w[1]), w2 = VSET1(w[2]), w3 = VSET1(w[3]),
            w4 = VSET1(w[4]), w5 = VSET1(w[5]), w6 = VSET1(w[6]), w7 = VSET1(w[7]),
            w8 = VSET1(w[8]);
    const V vb = VSET1(bias);
    const int act = n->act.kind;
    const V lo = VSET1(act == RT_ACT_RELU ? 0.0f : n->act.alpha), hi = VSET1(n->act.beta);
    for (int64_t oh = 0; oh < OH; oh++) {
        const float *r[3];
        for (int ky = 0; ky < 3; ky++) {
            int64_t ih = oh - pt + ky;
            r[ky] = ih >= 0 && ih < H ? x + ih * W : zero;
        }
        const float *r0 = r[0], *r1 = r[1], *r2 = r[2];
        float *yr = y + oh * OW;
        const float *sr = sum ? sum + oh * OW : NULL;
        for (int64_t ow = 0; ow < OW; ow += VL) {
            int64_t cnt = OW - ow < VL ? OW - ow : VL;
            V acc = vb;
            int64_t c0 = ow - pl; /* input column of lane 0, tap kx = 0 */
            if (c0 >= 0 && c0 + VL + 2 <= W) {
                DW_TAPS3(acc, r0, c0, w0, w1, w2);
                DW_TAPS3(acc, r1, c0, w3, w4, w5);
                DW_TAPS3(acc, r2, c0, w6, w7, w8);
            } else {
                VM m0 = dw_cols(c0, W), m1 = dw_cols(c0 + 1, W), m2 = dw_cols(c0 + 2, W);
                DW_TAPS3_M(acc, r0, c0, m0, m1, m2, w0, w1, w2);
                DW_TAPS3_M(acc, r1, c0, m0, m1, m2, w3, w4, w5);
                DW_TAPS3_M(acc, r2, c0, m0, m1, m2, w6, w7, w8);
            }
            if (sr) acc = VADD(acc, VLOAD_N(sr + ow, cnt));
            if (act == RT_ACT_RELU) acc = VMAX(acc, lo);
            else if (act == RT_ACT_CLIP) acc = VMIN(VMAX(acc, lo), hi);
            VSTORE_N(yr + ow, acc, cnt);
        }
        if (act != RT_ACT_NONE && act != RT_ACT_RELU && act != RT_ACT_CLIP)
            rt_act_apply(&n->act, yr, OW);
    }
}

/* Stride 1 with pl + pr == 2 (OW == W): output element i = oh * W + ow of a channel reads
 * x[i + (ky - pt) * W + kx - pl], the same offset for every element, so the plane is computed
 * as one flat run of VL-wide vectors that cross row ends (no lanes wasted on a 7- or 56-wide
 * row's tail). A tap lane is skipped where its column leaves the row (column masks from a
 * per-lane column counter, on the FMAs) or its row leaves the image (first and last rows:
 * masked loads). The interior loop is instantiated per left pad (which taps need a column
 * mask), residual and activation so that it holds no branches. */
typedef struct dw_flat_ctx {
    const float *w; /* the channel's 9 weights */
    float bias, lo, hi;
    int64_t W;
} dw_flat_ctx;

/* lane i = 0, 1, ..., VL - 1 */
static inline VI dw_iota_mod(int64_t W) {
    const VI wv = VI_SET1((int)W);
    return VI_WRAP(VI_WRAP(VI_WRAP(VI_IOTA(), wv), wv), wv); /* W >= 4 > (VL - 1) / 4 */
}

static inline __attribute__((always_inline)) V dw_epi(V acc, const float *s, int64_t cnt, V lo,
                                                      V hi, const int has_sum, const int act) {
    if (has_sum) acc = VADD(acc, VLOAD_N(s, cnt));
    if (act == RT_ACT_RELU) acc = VMAX(acc, lo);
    else if (act == RT_ACT_CLIP) acc = VMIN(VMAX(acc, lo), hi);
    return acc;
}

/* Interior vectors i0, i0 + VL, ... < i1 (the last one partial when i1 - i0 is not a multiple
 * of VL): plain loads from x0 + i (+ ky W + kx). */
static inline __attribute__((always_inline)) VI
dw_flat_mid(const dw_flat_ctx *f, const float *x0, float *y, const float *sum, int64_t i0,
            int64_t i1, VI col, const int pl, const int has_sum, const int act) {
    /* locals (in registers): stores to y could alias *f */
    const int64_t W = f->W;
    const V w0 = VSET1(f->w[0]), w1 = VSET1(f->w[1]), w2 = VSET1(f->w[2]), w3 = VSET1(f->w[3]),
            w4 = VSET1(f->w[4]), w5 = VSET1(f->w[5]), w6 = VSET1(f->w[6]), w7 = VSET1(f->w[7]),
            w8 = VSET1(f->w[8]), vb = VSET1(f->bias), lo = VSET1(f->lo), hi = VSET1(f->hi);
    const VI step = VI_SET1((int)(VL % W)), wv = VI_SET1((int)W);
    const VI one = VI_SET1(1), two = VI_SET1(2), wm1 = VI_SET1((int)W - 1),
             wm2 = VI_SET1((int)W - 2);
    for (int64_t i = i0; i < i1; i += VL) {
        const float *p0 = x0 + i, *p1 = p0 + W, *p2 = p1 + W;
        V a0, a1, a2;
        /* three partial sums (one per kernel row) keep the FMA chains short */
        if (pl == 1) { /* kx = 0 needs ow >= 1, kx = 2 needs ow < W - 1 */
            VM m0 = VI_GE(col, one), m2 = VI_LT(col, wm1);
            a0 = VFMA_M(VLOAD(p0), w0, vb, m0);
            a1 = VMUL_M(VLOAD(p1), w3, m0);
            a2 = VMUL_M(VLOAD(p2), w6, m0);
            a0 = VFMA(VLOAD(p0 + 1), w1, a0);
            a1 = VFMA(VLOAD(p1 + 1), w4, a1);
            a2 = VFMA(VLOAD(p2 + 1), w7, a2);
            a0 = VFMA_M(VLOAD(p0 + 2), w2, a0, m2);
            a1 = VFMA_M(VLOAD(p1 + 2), w5, a1, m2);
            a2 = VFMA_M(VLOAD(p2 + 2), w8, a2, m2);
        } else if (pl == 0) { /* kx = 1 needs ow < W - 1, kx = 2 ow < W - 2 */
            VM m1 = VI_LT(col, wm1), m2 = VI_LT(col, wm2);
            a0 = VFMA(VLOAD(p0), w0, vb);
            a1 = VMUL(VLOAD(p1), w3);
            a2 = VMUL(VLOAD(p2), w6);
            a0 = VFMA_M(VLOAD(p0 + 1), w1, a0, m1);
            a1 = VFMA_M(VLOAD(p1 + 1), w4, a1, m1);
            a2 = VFMA_M(VLOAD(p2 + 1), w7, a2, m1);
            a0 = VFMA_M(VLOAD(p0 + 2), w2, a0, m2);
            a1 = VFMA_M(VLOAD(p1 + 2), w5, a1, m2);
            a2 = VFMA_M(VLOAD(p2 + 2), w8, a2, m2);
        } else { /* pl == 2: kx = 0 needs ow >= 2, kx = 1 ow >= 1 */
            VM m0 = VI_GE(col, two), m1 = VI_GE(col, one);
            a0 = VFMA_M(VLOAD(p0), w0, vb, m0);
            a1 = VMUL_M(VLOAD(p1), w3, m0);
            a2 = VMUL_M(VLOAD(p2), w6, m0);
            a0 = VFMA_M(VLOAD(p0 + 1), w1, a0, m1);
            a1 = VFMA_M(VLOAD(p1 + 1), w4, a1, m1);
            a2 = VFMA_M(VLOAD(p2 + 1), w7, a2, m1);
            a0 = VFMA(VLOAD(p0 + 2), w2, a0);
            a1 = VFMA(VLOAD(p1 + 2), w5, a1);
            a2 = VFMA(VLOAD(p2 + 2), w8, a2);
        }
        int64_t cnt = i1 - i < VL ? i1 - i : VL;
        V acc = dw_epi(VADD(VADD(a0, a1), a2), sum + i, cnt, lo, hi, has_sum, act);
        VSTORE_N(y + i, acc, cnt);
        col = VI_WRAP(VI_ADD(col, step), wv);
    }
    return col;
}

/* dw_flat_mid instantiated per (pl, residual, activation) */
static VI dw_flat_any(const dw_flat_ctx *f, const float *x0, float *y, const float *sum,
                      int64_t i0, int64_t i1, VI col, int pl, int ac) {
#define DW_MID(PL, S, A) return dw_flat_mid(f, x0, y, sum, i0, i1, col, PL, S, A)
#define DW_MID_A(PL, S)                                                                        \
    do {                                                                                       \
        if (ac == RT_ACT_CLIP) DW_MID(PL, S, RT_ACT_CLIP);                                     \
        if (ac == RT_ACT_RELU) DW_MID(PL, S, RT_ACT_RELU);                                     \
        DW_MID(PL, S, RT_ACT_NONE);                                                            \
    } while (0)
#define DW_MID_S(PL)                                                                           \
    do {                                                                                       \
        if (sum) DW_MID_A(PL, 1);                                                              \
        DW_MID_A(PL, 0);                                                                       \
    } while (0)
    if (pl == 1) DW_MID_S(1);
    if (pl == 0) DW_MID_S(0);
    DW_MID_S(2);
#undef DW_MID_S
#undef DW_MID_A
#undef DW_MID
}

static void dw_flat_init(dw_flat_ctx *f, const rt_node *n, int64_t c) {
    const rt_conv_params *q = n->params;
    f->w = (const float *)n->in[1]->data + c * 9;
    f->bias = q->has_bias && n->in[2] ? ((const float *)n->in[2]->data)[c] : 0.0f;
    f->lo = n->act.kind == RT_ACT_RELU ? 0.0f : n->act.alpha;
    f->hi = n->act.beta;
    f->W = q->in[2];
}

/* Planes up to DW_SMALL floats: a task takes a group of planes, copies each between zeros in
 * scratch (the first and last rows then need no masked loads, which are slow on Zen 4, and
 * no vector is lost to them), then runs the interior loop over every vector of each copy. All
 * copies are written before the first is read, so the loads do not wait on the stores. */
#define DW_SMALL 1024

/* floats before a copied plane (a multiple of VL), floats per copy, planes per task */
static void dw_small_geom(const rt_conv_params *q, int64_t *before, int64_t *len,
                          int64_t *group) {
    int64_t W = q->in[2];
    *before = (q->pad0[1] * W + q->pad0[2] + VL - 1) / VL * VL;
    *len = (*before + (q->in[1] + 4) * W + 2 + 2 * VL + VL - 1) / VL * VL;
    *group = 16384 / (*len * (int64_t)sizeof(float));
    if (*group > 16) *group = 16;
    if (*group < 1) *group = 1;
}

static int dw_small(const rt_conv_params *q) { return q->in[1] * q->in[2] <= DW_SMALL; }

static void dw_task_small(void *user, int64_t task, int32_t thread) {
    const dw_job *j = user;
    const rt_node *n = j->n;
    const rt_conv_params *q = n->params;
    const int64_t H = q->in[1], W = q->in[2], HW = H * W, np = q->out[1] * W;
    const int64_t pt = q->pad0[1], pl = q->pad0[2];
    int64_t before, len, group;
    dw_small_geom(q, &before, &len, &group);
    int64_t p0 = task * group, p1 = p0 + group;
    if (p1 > q->N * q->C) p1 = q->N * q->C;
    float *buf = (float *)(((uintptr_t)rt_scratch(j->x, thread) + 63) & ~(uintptr_t)63);
    for (int64_t p = p0; p < p1; p++) {
        const float *x = dw_plane_at(n, p).x;
        float *b = buf + (p - p0) * len;
        memset(b, 0, (size_t)before * sizeof *b);
        int64_t k = 0;
        for (; k + VL <= HW; k += VL) VSTORE_N(b + before + k, VLOAD(x + k), VL);
        if (k < HW) VSTORE_N(b + before + k, VLOAD_N(x + k, HW - k), HW - k);
        memset(b + before + HW, 0, (size_t)(len - before - HW) * sizeof *b);
    }
    const int act = n->act.kind;
    const int ac = act == RT_ACT_RELU || act == RT_ACT_CLIP ? act : RT_ACT_NONE;
    for (int64_t p = p0; p < p1; p++) {
        dw_flat_ctx f;
        dw_flat_init(&f, n, p % q->C);
        const dw_plane at = dw_plane_at(n, p);
        float *y = at.y;
        const float *sum = at.sum;
        const float *x0 = buf + (p - p0) * len + before - pt * W - pl;
        dw_flat_any(&f, x0, y, sum, 0, np, dw_iota_mod(W), (int)pl, ac);
        if (ac != act) rt_act_apply(&n->act, y, np);
    }
}

static void dw_task_flat(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const dw_job *j = user;
    const rt_node *n = j->n;
    const rt_conv_params *q = n->params;
    int64_t c = task % q->C;
    const int64_t H = q->in[1], W = q->in[2], OH = q->out[1];
    const int64_t pt = q->pad0[1], pl = q->pad0[2], np = OH * W;
    const dw_plane at = dw_plane_at(n, task);
    const float *x = at.x, *sum = at.sum;
    float *y = at.y;
    const int act = n->act.kind;
    dw_flat_ctx f;
    dw_flat_init(&f, n, c);
    /* tap kx reads column ow - pl + kx: valid for clo[kx] <= ow < chi[kx] */
    int clo[3], chi[3];
    for (int kx = 0; kx < 3; kx++) {
        clo[kx] = (int)(pl - kx > 0 ? pl - kx : 0);
        chi[kx] = (int)(W + pl - kx < W ? W + pl - kx : W);
    }
    /* interior: full vectors [ms, me) whose taps all lie in image rows and whose loads stay
     * inside the plane: vector i reads x[i - pt W - pl ..] up to x[i + VL + (2 - pt) W - pl + 1] */
    int64_t mid0 = pt * W + pl, mid1 = (H + pt - 2) * W + pl - 2;
    if (mid1 > np) mid1 = np;
    int64_t ms = (mid0 + VL - 1) / VL * VL, me = ms;
    if (mid1 - ms >= VL) me = ms + (mid1 - ms) / VL * VL;
    const float *x0 = dw_at(x, -pt * W - pl);
    const int ac = act == RT_ACT_RELU || act == RT_ACT_CLIP ? act : RT_ACT_NONE;
    VI col = dw_iota_mod(W);
    for (int64_t i = 0; i < np; i += VL) {
        if (i == ms && me > ms) {
            col = dw_flat_any(&f, x0, y, sum, ms, me, col, (int)pl, ac);
            i = me - VL;
            continue;
        }
        /* first and last rows, the plane's tail: masked loads, lanes off read 0; tap ky is
         * valid for flat outputs (pt - ky) W <= i < (H + pt - ky) W */
        int64_t cnt = np - i < VL ? np - i : VL;
        VM mc0 = VM_COLS(col, clo[0], chi[0]), mc1 = VM_COLS(col, clo[1], chi[1]),
           mc2 = VM_COLS(col, clo[2], chi[2]);
        VM mr[3];
        for (int ky = 0; ky < 3; ky++) {
            int64_t rl = (pt - ky) * W - i, rh = (H + pt - ky) * W - i;
            rl = rl < 0 ? 0 : rl > VL ? VL : rl;
            rh = rh > cnt ? cnt : rh < rl ? rl : rh;
            mr[ky] = VMASK((int)rl, (int)rh);
        }
        V a0 = VFMA(VLOAD_M(dw_at(x0, i), VMAND(mr[0], mc0)), VSET1(f.w[0]), VSET1(f.bias));
        V a1 = VMUL(VLOAD_M(dw_at(x0, i + W), VMAND(mr[1], mc0)), VSET1(f.w[3]));
        V a2 = VMUL(VLOAD_M(dw_at(x0, i + 2 * W), VMAND(mr[2], mc0)), VSET1(f.w[6]));
        a0 = VFMA(VLOAD_M(dw_at(x0, i + 1), VMAND(mr[0], mc1)), VSET1(f.w[1]), a0);
        a1 = VFMA(VLOAD_M(dw_at(x0, i + W + 1), VMAND(mr[1], mc1)), VSET1(f.w[4]), a1);
        a2 = VFMA(VLOAD_M(dw_at(x0, i + 2 * W + 1), VMAND(mr[2], mc1)), VSET1(f.w[7]), a2);
        a0 = VFMA(VLOAD_M(dw_at(x0, i + 2), VMAND(mr[0], mc2)), VSET1(f.w[2]), a0);
        a1 = VFMA(VLOAD_M(dw_at(x0, i + W + 2), VMAND(mr[1], mc2)), VSET1(f.w[5]), a1);
        a2 = VFMA(VLOAD_M(dw_at(x0, i + 2 * W + 2), VMAND(mr[2], mc2)), VSET1(f.w[8]), a2);
        V acc = VADD(VADD(a0, a1), a2);
        if (sum) acc = VADD(acc, VLOAD_N(sum + i, cnt));
        if (act == RT_ACT_RELU) acc = VMAX(acc, VSET1(f.lo));
        else if (act == RT_ACT_CLIP) acc = VMIN(VMAX(acc, VSET1(f.lo)), VSET1(f.hi));
        VSTORE_N(y + i, acc, cnt);
        col = VI_WRAP(VI_ADD(col, VI_SET1((int)(VL % W))), VI_SET1((int)W));
    }
    if (ac != act) rt_act_apply(&n->act, y, np);
}

/* Stride 2, one output row at a time. Each tap row is read VL outputs (2 VL input columns
 * c = 2 ow ..) at a time and split into its even (E) and odd (O) columns; tap kx reads column
 * 2 ow + d, d = kx - pl in -2..2: E and O for d = 0, 1, and for d < 0 the same shifted up one
 * lane with the previous vector's last lane (zero at the row start: the left padding), for
 * d = 2 E shifted down one lane with column c + 2 VL. Columns >= W are zeroed by masks on the
 * splits; loads that would leave the plane are masked (its last rows only). */
typedef struct dw_s2_ctx {
    V w[9], vb, lo, hi;
    int64_t W, OW;
    int act;
} dw_s2_ctx;

/* nr (1 or 2) output rows from the 2 nr + 1 input rows r[] (lim[]: floats readable from each);
 * the second row shares the first one's last input row. */
static inline __attribute__((always_inline)) void dw_s2_rows(const dw_s2_ctx *f,
                                                              const float *const *r,
                                                              const int64_t *lim, float *yr,
                                                              const float *sr, const int d0,
                                                              const int nr) {
    const int64_t W = f->W, OW = f->OW;
    const int act = f->act;
    V ep[5], op[5];
    for (int k = 0; k < 5; k++) ep[k] = op[k] = VSET1(0.0f);
    for (int64_t ow = 0; ow < OW; ow += VL) {
        int64_t cnt = OW - ow < VL ? OW - ow : VL;
        int64_t c0 = 2 * ow;
        int64_t ne = (W - c0 + 1) / 2, no = (W - c0) / 2; /* even / odd columns < W */
        VM me = VMASK(0, (int)(ne > VL ? VL : ne < 0 ? 0 : ne));
        VM mo = VMASK(0, (int)(no > VL ? VL : no < 0 ? 0 : no));
        V acc0 = f->vb, acc1 = f->vb;
        for (int rr = 0; rr < 2 * nr + 1; rr++) {
            const float *rp = r[rr];
            V a, b;
            if (c0 + 2 * VL <= lim[rr]) {
                a = VLOAD(rp + c0);
                b = VLOAD(rp + c0 + VL);
            } else {
                a = VLOAD_M(dw_at(rp, c0), dw_cols(c0, W));
                b = VLOAD_M(dw_at(rp, c0 + VL), dw_cols(c0 + VL, W));
            }
            V e = VEVEN_Z(a, b, me), o = VODD_Z(a, b, mo);
            V t[3];
            for (int kx = 0; kx < 3; kx++) {
                switch (d0 + kx) {
                case -2: t[kx] = VUP1(e, ep[rr]); break;
                case -1: t[kx] = VUP1(o, op[rr]); break;
                case 0: t[kx] = e; break;
                case 1: t[kx] = o; break;
                default: t[kx] = VDOWN1(e, VSET1(c0 + 2 * VL < W ? rp[c0 + 2 * VL] : 0.0f));
                }
            }
            if (rr < 3)
                for (int kx = 0; kx < 3; kx++) acc0 = VFMA(t[kx], f->w[3 * rr + kx], acc0);
            if (nr == 2 && rr >= 2)
                for (int kx = 0; kx < 3; kx++) acc1 = VFMA(t[kx], f->w[3 * (rr - 2) + kx], acc1);
            ep[rr] = e;
            op[rr] = o;
        }
        for (int k = 0; k < nr; k++) {
            V acc = k ? acc1 : acc0;
            if (sr) acc = VADD(acc, VLOAD_N(sr + k * OW + ow, cnt));
            if (act == RT_ACT_RELU) acc = VMAX(acc, f->lo);
            else if (act == RT_ACT_CLIP) acc = VMIN(VMAX(acc, f->lo), f->hi);
            VSTORE_N(yr + k * OW + ow, acc, cnt);
        }
    }
}

/* Output rows two at a time (five input rows instead of six), the last one alone when OH is
 * odd; every output sums its taps in the same order either way. */
static inline __attribute__((always_inline)) void dw_s2(const dw_job *j, int64_t task,
                                                         int32_t thread, const int d0) {
    const rt_node *n = j->n;
    const rt_conv_params *q = n->params;
    int64_t c = task % q->C;
    const int64_t H = q->in[1], W = q->in[2], OH = q->out[1], OW = q->out[2];
    const int64_t pt = q->pad0[1], HW = H * W;
    const dw_plane at = dw_plane_at(n, task);
    const float *x = at.x, *sum = at.sum;
    float *y = at.y;
    const float *w = (const float *)n->in[1]->data + c * 9;
    float bias = q->has_bias && n->in[2] ? ((const float *)n->in[2]->data)[c] : 0.0f;
    float *zero = rt_scratch(j->x, thread);
    memset(zero, 0, (size_t)(W + 2 * VL) * sizeof *zero);
    dw_s2_ctx f;
    for (int k = 0; k < 9; k++) f.w[k] = VSET1(w[k]);
    f.vb = VSET1(bias);
    f.act = n->act.kind;
    f.lo = VSET1(f.act == RT_ACT_RELU ? 0.0f : n->act.alpha);
    f.hi = VSET1(n->act.beta);
    f.W = W;
    f.OW = OW;
    const int pf = n->in[0]->nbytes > ((size_t)2 << 20);
    for (int64_t oh = 0; oh < OH; oh += 2) {
        const int nr = OH - oh >= 2 ? 2 : 1;
        const float *r[5];
        int64_t lim[5];
        for (int k = 0; k < 2 * nr + 1; k++) {
            int64_t ih = 2 * oh - pt + k;
            int in = ih >= 0 && ih < H;
            r[k] = in ? x + ih * W : zero;
            lim[k] = in ? HW - ih * W : W + 2 * VL;
        }
        /* inputs larger than L2 stream from L3 or memory: fetch the rows 4 pairs ahead */
        if (pf)
            for (int64_t ih = 2 * oh - pt + 9; ih < 2 * oh - pt + 13 && ih < H; ih++)
                for (int64_t k = 0; k < W; k += 64 / (int64_t)sizeof(float))
                    _mm_prefetch((const char *)(x + ih * W + k), _MM_HINT_T0);
        float *yr = y + oh * OW;
        const float *sr = sum ? sum + oh * OW : NULL;
        if (nr == 2) dw_s2_rows(&f, r, lim, yr, sr, d0, 2);
        else dw_s2_rows(&f, r, lim, yr, sr, d0, 1);
        if (f.act != RT_ACT_NONE && f.act != RT_ACT_RELU && f.act != RT_ACT_CLIP)
            rt_act_apply(&n->act, yr, nr * OW);
    }
}

/* d0 = -pl is the d of tap kx = 0; one instance per left pad so the taps are fixed */
#ifdef DW_S2_PACKED
/* Stride 2 with W <= VL and OW <= VL / 2 (MobileNet's 14 -> 7): two output rows per vector,
 * row oh in lanes 0.. and row oh + 1 in lanes VL / 2..; tap row ky is input rows
 * 2 oh - pt + ky and that + 2, one load each, split into even / odd columns by one permute
 * each, shifted within the halves for d = -2, -1, 2. The two rows are then made contiguous
 * for the residual, activation and store. (AVX-512 only: DW_S2_PACKED, DW_HALF_UP,
 * DW_HALF_DOWN, DW_PACK.) */
static void dw_s2_packed(const dw_job *j, int64_t p, float *zero) {
    const rt_node *n = j->n;
    const rt_conv_params *q = n->params;
    const int64_t H = q->in[1], W = q->in[2], OH = q->out[1], OW = q->out[2];
    const int64_t pt = q->pad0[1], HW = H * W;
    const int d0 = (int)-q->pad0[2];
    const int64_t c = p % q->C;
    const dw_plane at = dw_plane_at(n, p);
    const float *x = at.x, *sum = at.sum;
    float *y = at.y;
    const float *w = (const float *)n->in[1]->data + c * 9;
    V wv[9];
    for (int k = 0; k < 9; k++) wv[k] = VSET1(w[k]);
    const V vb = VSET1(q->has_bias && n->in[2] ? ((const float *)n->in[2]->data)[c] : 0.0f);
    const int act = n->act.kind;
    const V lo = VSET1(act == RT_ACT_RELU ? 0.0f : n->act.alpha), hi = VSET1(n->act.beta);
    /* half-lane i holds column 2 i (even) or 2 i + 1 (odd): zero those >= W */
    const int ne = (int)((W + 1) / 2), no = (int)(W / 2);
    const VM me = VMASK(0, ne) | (VM)(VMASK(0, ne) << (VL / 2));
    const VM mo = VMASK(0, no) | (VM)(VMASK(0, no) << (VL / 2));
    const VI pack = DW_PACK((int)OW);
    for (int64_t oh = 0; oh < OH; oh += 2) {
        const int nr = OH - oh >= 2 ? 2 : 1;
        V acc = vb;
        for (int ky = 0; ky < 3; ky++) {
            V ab[2];
            for (int h = 0; h < 2; h++) {
                int64_t ih = 2 * oh - pt + ky + 2 * h;
                if (ih < 0 || ih >= H || h >= nr) ab[h] = VLOAD(zero);
                else if (ih * W + VL <= HW) ab[h] = VLOAD(x + ih * W);
                else ab[h] = VLOAD_M(x + ih * W, dw_cols(0, W));
            }
            V e = VEVEN_Z(ab[0], ab[1], me), o = VODD_Z(ab[0], ab[1], mo);
            for (int kx = 0; kx < 3; kx++) {
                V t;
                switch (d0 + kx) {
                case -2: t = DW_HALF_UP(e); break;
                case -1: t = DW_HALF_UP(o); break;
                case 0: t = e; break;
                case 1: t = o; break;
                default: t = DW_HALF_DOWN(e);
                }
                acc = VFMA(t, wv[3 * ky + kx], acc);
            }
        }
        int64_t cnt = nr * OW;
        acc = VPERM(pack, acc);
        if (sum) acc = VADD(acc, VLOAD_N(sum + oh * OW, cnt));
        if (act == RT_ACT_RELU) acc = VMAX(acc, lo);
        else if (act == RT_ACT_CLIP) acc = VMIN(VMAX(acc, lo), hi);
        VSTORE_N(y + oh * OW, acc, cnt);
        if (act != RT_ACT_NONE && act != RT_ACT_RELU && act != RT_ACT_CLIP)
            rt_act_apply(&n->act, y + oh * OW, cnt);
    }
}
#endif

/* Planes per stride-2 task: small planes are grouped so that thread tasks are not tiny. */
static int64_t dw_s2_group(const rt_conv_params *q) {
    int64_t g = 4096 / (q->in[1] * q->in[2] > 0 ? q->in[1] * q->in[2] : 1);
    return g < 1 ? 1 : g;
}

static void dw_task_s2(void *user, int64_t task, int32_t thread) {
    const dw_job *j = user;
    const rt_conv_params *q = j->n->params;
    int64_t g = dw_s2_group(q), p0 = task * g, p1 = p0 + g;
    if (p1 > q->N * q->C) p1 = q->N * q->C;
#ifdef DW_S2_PACKED
    if (q->in[2] <= VL && q->out[2] <= VL / 2) {
        float *zero = rt_scratch(j->x, thread);
        memset(zero, 0, (size_t)VL * sizeof *zero);
        for (int64_t p = p0; p < p1; p++) dw_s2_packed(j, p, zero);
        return;
    }
#endif
    for (int64_t p = p0; p < p1; p++) {
        if (q->pad0[2] == 0) dw_s2(j, p, thread, 0);
        else if (q->pad0[2] == 1) dw_s2(j, p, thread, -1);
        else dw_s2(j, p, thread, -2);
    }
}

static int dw_flat(const rt_conv_params *q) {
    return q->stride[2] == 1 && q->pad0[2] + q->pad1[2] == 2 && q->in[2] >= 4;
}

static ac_status dw_prepare(rt_plan *p, rt_node *n, ac_diag *d) {
    (void)p;
    (void)d;
    const rt_conv_params *q = n->params;
    /* small flat planes: the padded copies; else one zero row, read in place of rows in the
     * vertical padding */
    int64_t before, len, group;
    dw_small_geom(q, &before, &len, &group);
    n->scratch = dw_flat(q) && dw_small(q) ? (size_t)(group * len) * sizeof(float) + 64
                                           : (size_t)(q->in[2] + 2 * VL) * sizeof(float);
    return AC_OK;
}

static void dw_run(const rt_node *n, const rt_ctx *x) {
    const rt_conv_params *q = n->params;
    dw_job j = {n, x};
    if (dw_flat(q) && dw_small(q)) {
        int64_t before, len, group;
        dw_small_geom(q, &before, &len, &group);
        rt_parallel_for(x, (q->N * q->C + group - 1) / group, dw_task_small, &j);
        return;
    }
    if (q->stride[2] == 2 && !dw_flat(q)) {
        int64_t g = dw_s2_group(q);
        rt_parallel_for(x, (q->N * q->C + g - 1) / g, dw_task_s2, &j);
        return;
    }
    rt_parallel_for(x, q->N * q->C, dw_flat(q) ? dw_task_flat : dw_task, &j);
}
