/* SPDX-License-Identifier: MIT */
/* Kernel conformance for the nn family: every registered Conv / ConvTranspose / Gemm / MatMul
 * kernel the CPU can run is compared with the reference kernel of its op on odd shapes
 * (channels 1..33, spatial 1x1 to 18x17, strides, dilations, asymmetric pads, groups and
 * depthwise, transposes, broadcasting), with fused activations and residuals, by normalised
 * mean squared error. Outputs start as NaN (an element a kernel forgets shows up) and are
 * followed by sentinel bytes (a kernel writing past the end is caught). The best kernel must
 * also give bit-identical results with 1 and 3 threads, and so must the OpenBLAS kernels. */
#include "check_util.h"
#include "ops/nn.h"
#include "ops/pool.h"
#include "plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENTINEL 64
#define NMSE_MAX 1e-9

static ac_test_rng rng = {12345u};
static float frand(void) { return ac_test_rng_float(&rng); }

typedef struct kcase {
    ac_graph *g;
    ac_value *x;     /* the one graph input */
    float *xdata;
    int64_t xdims[6];
    int32_t xrank;
    const char *op;
    const rt_family *family; /* NULL: rt_family_nn */
} kcase;

static ac_value *new_input(kcase *c, int32_t rank, const int64_t *dims) {
    ac_diag d = {0};
    ac_value *v;
    ck_assert_int_eq(ac_graph_new_value(c->g, "x", &v, &d), AC_OK);
    ck_assert_int_eq(ac_value_set_type(v, AC_DTYPE_F32, rank, dims, NULL, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(c->g, v, &d), AC_OK);
    int64_t n = 1;
    for (int32_t i = 0; i < rank; i++) n *= dims[i];
    c->xdata = malloc((size_t)(n ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) c->xdata[i] = frand();
    memcpy(c->xdims, dims, (size_t)rank * sizeof *dims);
    c->xrank = rank;
    c->x = v;
    return v;
}

static ac_value *new_const(kcase *c, const char *name, int32_t rank, const int64_t *dims) {
    ac_diag d = {0};
    ac_value *v;
    ac_tensor *t;
    ck_assert_int_eq(ac_graph_new_value(c->g, name, &v, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_tensor(c->g, name, AC_DTYPE_F32, rank, dims, &t, &d), AC_OK);
    float *p = t->data;
    for (int64_t i = 0; i < t->numel; i++) p[i] = frand();
    ck_assert_int_eq(ac_graph_set_initializer(c->g, v, t, &d), AC_OK);
    return v;
}

static double nmse(const float *a, const float *ref, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = (double)a[i] - ref[i];
        num += e * e;
        den += (double)ref[i] * ref[i];
    }
    if (isnan(num)) return INFINITY;
    return num / (den > 1e-30 ? den : 1e-30);
}

/* Runs kernel k on a copy of node n (prepared afresh) into a new NaN-filled buffer with
 * sentinel bytes behind it; returns the buffer (caller frees). */
static float *run_kernel(rt_plan *p, const rt_node *n, const rt_kernel *k, int32_t threads,
                         const char *what) {
    rt_node m = *n;
    m.k = k;
    m.kstate = NULL;
    m.scratch = 0;
    ac_diag d = {0};
    if (k->prepare) ck_assert_msg(k->prepare(p, &m, &d) == AC_OK, "%s: prepare: %s", what, d.msg);
    rt_tensor out = *n->out[0];
    rt_tensor *outs[2] = {&out, NULL};
    m.out = outs;
    uint8_t *buf = malloc(out.nbytes + SENTINEL);
    float *y = (float *)buf;
    for (int64_t i = 0; i < out.numel; i++) y[i] = NAN;
    memset(buf + out.nbytes, 0xA5, SENTINEL);
    out.data = buf;
    size_t stride = (m.scratch + 63) & ~(size_t)63;
    uint8_t *scratch = stride ? aligned_alloc(64, stride * (size_t)threads) : NULL;
    ac_threadpool *pool;
    ck_assert_int_eq(ac_threadpool_new(threads, &pool, &d), AC_OK);
    rt_ctx x = {.pool = pool, .nthreads = threads, .scratch = scratch, .scratch_stride = stride};
    k->run(&m, &x);
    ac_threadpool_free(pool);
    free(scratch);
    for (int i = 0; i < SENTINEL; i++)
        ck_assert_msg(buf[out.nbytes + i] == 0xA5, "%s: %s wrote past the output", what,
                      k->name);
    return y;
}

static int n_checked, n_kernel_runs;

/* Plans c's graph, fuses act/sum into its single node by hand and compares every kernel. */
static void check_case(kcase *c, rt_act act, int with_sum, const char *what) {
    ac_diag d = {0};
    rt_plan_opts o = {.g = c->g, .opset = 21, .isa = AC_ISA_REF, .nthreads = 3, .no_fusion = 1};
    ac_tensor in = {.dtype = AC_DTYPE_F32, .rank = c->xrank, .dims = c->xdims,
                    .data = c->xdata};
    int64_t nx = 1;
    for (int32_t i = 0; i < c->xrank; i++) nx *= c->xdims[i];
    in.numel = nx;
    in.nbytes = (size_t)nx * sizeof(float);
    rt_plan *p;
    ac_status st = rt_plan_build(&o, 1, &in, &p, &d);
    ck_assert_msg(st == AC_OK, "%s: plan: %s", what, d.msg);
    rt_node *n = NULL;
    for (int64_t i = 0; i < p->n_nodes; i++)
        if (!p->nodes[i].dead) n = &p->nodes[i];
    ck_assert_ptr_nonnull(n);
    p->vt[c->x->index]->data = c->xdata;
    rt_tensor sum;
    float *sdata = NULL;
    if (with_sum) {
        sum = *n->out[0];
        sdata = malloc(sum.nbytes + 4);
        for (int64_t i = 0; i < sum.numel; i++) sdata[i] = frand();
        sum.data = sdata;
        n->sum = &sum;
    }
    n->act = act;
    /* kernels for c->op, or for any op ("*") whose score takes this node */
    const rt_family *f = c->family ? c->family : &rt_family_nn;
#define FOR_OP(k) (!strcmp((k)->op, c->op) || (!strcmp((k)->op, "*") && (k)->score))
    const rt_kernel *ref = NULL;
    for (int i = 0; i < f->n_kernels && !ref; i++)
        if (f->kernels[i]->isa == AC_ISA_REF && FOR_OP(f->kernels[i]) &&
            (!f->kernels[i]->score || f->kernels[i]->score(n) > 0))
            ref = f->kernels[i];
    ck_assert_ptr_nonnull(ref);
    float *want = run_kernel(p, n, ref, 3, what);
    ac_isa have = ac_isa_detect();
    const rt_kernel *best = rt_choose_kernel(n, have);
    for (int i = 0; i < f->n_kernels; i++) {
        const rt_kernel *k = f->kernels[i];
        if (k == ref || !FOR_OP(k) || k->isa > have) continue;
        if (k->score && k->score(n) <= 0) continue;
        float *got = run_kernel(p, n, k, 3, what);
        double e = nmse(got, want, n->out[0]->numel);
        ck_assert_msg(e <= NMSE_MAX, "%s: kernel %s NMSE %.3g vs %s", what, k->name, e,
                      ref->name);
        /* the best kernel, and the OpenBLAS ones (the x86 caps fall back to them) */
        if (k == best || k->isa == AC_ISA_BLAS) {
            float *one = run_kernel(p, n, k, 1, what);
            ck_assert_msg(!memcmp(one, got, n->out[0]->nbytes),
                          "%s: kernel %s differs between 1 and 3 threads", what, k->name);
            free(one);
        }
        free(got);
        n_kernel_runs++;
    }
#undef FOR_OP
    n_checked++;
    free(want);
    free(sdata);
    rt_plan_free(p);
    ac_graph_free(c->g);
    free(c->xdata);
}

static rt_act act_for(int i) {
    static const rt_act acts[] = {
        {RT_ACT_NONE, 0, 0},         {RT_ACT_RELU, 0, 0},       {RT_ACT_CLIP, 0.0f, 6.0f},
        {RT_ACT_LEAKY_RELU, 0.1f, 0}, {RT_ACT_HARD_SWISH, 0, 0}, {RT_ACT_SIGMOID, 0, 0},
        {RT_ACT_CLIP, -0.5f, 0.5f},
    };
    return acts[i % 7];
}

static void ints_attr(ac_node *n, const char *name, int cnt, const int64_t *v) {
    ac_diag d = {0};
    ck_assert_int_eq(ac_node_set_attr_ints(n, name, cnt, v, &d), AC_OK);
}

typedef struct conv_cfg {
    int64_t k[3], s[3], dl[3], pads[6];
} conv_cfg;

/* One Conv (or ConvTranspose) case with nd spatial axes (dims right-aligned in 3). */
static void conv_case(int transposed, int64_t N, int64_t C, int64_t M, int64_t group, int nd,
                      const int64_t *sp, const conv_cfg *k, int idx) {
    /* skip shapes whose kernel exceeds the padded input */
    for (int i = 3 - nd; i < 3 && !transposed; i++)
        if (sp[i] + k->pads[i - (3 - nd)] + k->pads[i - (3 - nd) + nd] < (k->k[i] - 1) * k->dl[i] + 1)
            return;
    kcase c = {0};
    c.op = transposed ? "ConvTranspose" : "Conv";
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("k", &c.g, &d), AC_OK);
    int64_t xd[5] = {N, C}, wd[5];
    if (transposed) {
        wd[0] = C;
        wd[1] = M / group;
    } else {
        wd[0] = M;
        wd[1] = C / group;
    }
    for (int i = 0; i < nd; i++) {
        xd[2 + i] = sp[3 - nd + i];
        wd[2 + i] = k->k[3 - nd + i];
    }
    ac_value *ins[3];
    ins[0] = new_input(&c, nd + 2, xd);
    ins[1] = new_const(&c, "w", nd + 2, wd);
    int64_t bd[1] = {M};
    ins[2] = idx % 3 ? new_const(&c, "b", 1, bd) : NULL;
    ac_value *y;
    ck_assert_int_eq(ac_graph_new_value(c.g, "y", &y, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(c.g, y, &d), AC_OK);
    ac_node *node;
    ck_assert_int_eq(ac_graph_add_node(c.g, c.op, "", "n", ins[2] ? 3 : 2, ins, 1, &y, &node, &d),
                     AC_OK);
    int64_t s[3], dl[3];
    for (int i = 0; i < nd; i++) {
        s[i] = k->s[3 - nd + i];
        dl[i] = k->dl[3 - nd + i];
    }
    ints_attr(node, "strides", nd, s);
    ints_attr(node, "dilations", nd, dl);
    ints_attr(node, "pads", 2 * nd, k->pads);
    if (group > 1) ck_assert_int_eq(ac_node_set_attr_int(node, "group", group, &d), AC_OK);
    char what[200];
    snprintf(what, sizeof what, "%s N%lld C%lld M%lld g%lld sp %lldx%lldx%lld k %lldx%lldx%lld "
             "s%lld,%lld d%lld pads %lld,%lld,%lld,%lld", c.op, (long long)N, (long long)C,
             (long long)M, (long long)group, (long long)sp[0], (long long)sp[1], (long long)sp[2],
             (long long)k->k[0], (long long)k->k[1], (long long)k->k[2], (long long)k->s[1],
             (long long)k->s[2], (long long)k->dl[2], (long long)k->pads[0],
             (long long)k->pads[1], (long long)k->pads[2], (long long)k->pads[3]);
    check_case(&c, act_for(idx), idx % 2, what);
}

/* 2-D configurations: kernel, strides, dilations, pads (top, left, bottom, right). */
static const conv_cfg cfg2d[] = {
    {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0, 0}}, /* pointwise */
    {{1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1}},
    {{1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1, 1}},
    {{1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 1, 1}}, /* TF SAME, stride 2 */
    {{1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {2, 2, 2, 2}}, /* dilated */
    {{1, 1, 1}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0, 0}}, /* downsample */
    {{1, 5, 3}, {1, 2, 1}, {1, 1, 1}, {2, 1, 1, 0}}, /* asymmetric */
    {{1, 7, 7}, {1, 2, 2}, {1, 1, 1}, {3, 3, 3, 3}}, /* stem */
    {{1, 3, 3}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1, 1}}, /* stride 3 (gathered im2col rows) */
};

static const int64_t chans[] = {1, 3, 7, 16, 17, 33};
static const int64_t spat[][3] = {{1, 1, 1}, {1, 7, 5}, {1, 18, 17}};

START_TEST(conv_kernels_match_ref) {
    int idx = 0;
    for (int ci = 0; ci < 6; ci++)
        for (int mi = 0; mi < 6; mi += (ci % 2 ? 2 : 1))
            for (int si = 0; si < 3; si++)
                for (int k = 0; k < (int)(sizeof cfg2d / sizeof cfg2d[0]); k++)
                {
                    conv_case(0, 1 + (idx % 5 == 0), chans[ci], chans[mi], 1, 2, spat[si],
                              &cfg2d[k], idx);
                    idx++;
                }
    /* depthwise (group == C == M), every padding variant the x86 kernels take */
    static const conv_cfg dw[] = {
        {{1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1}},
        {{1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1, 1}},
        {{1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 1, 1}},
        {{1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0, 0}},
        {{1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {2, 1, 0, 2}},
        {{1, 5, 5}, {1, 1, 1}, {1, 1, 1}, {2, 2, 2, 2}},
        {{1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {2, 2, 2, 2}},
    };
    static const int64_t dws[][3] = {{1, 1, 1}, {1, 7, 5}, {1, 18, 17}, {1, 35, 33}};
    for (int ci = 0; ci < 6; ci++)
        for (int si = 0; si < 4; si++)
            for (int k = 0; k < 7; k++)
            {
                conv_case(0, 1 + (idx % 4 == 0), chans[ci], chans[ci], chans[ci], 2, dws[si],
                          &dw[k], idx);
                idx++;
            }
    /* grouped, channel multiplier > 1 */
    conv_case(0, 1, 16, 16, 4, 2, spat[2], &cfg2d[1], idx++);
    conv_case(0, 2, 33, 33, 3, 2, spat[1], &cfg2d[2], idx++);
    conv_case(0, 1, 7, 14, 7, 2, spat[2], &cfg2d[1], idx++);
    conv_case(0, 1, 16, 32, 2, 2, spat[2], &cfg2d[6], idx++);
    /* output sizes 16 k + 1..4 (the AVX-512 GEMM's tail columns) with K over several blocks,
     * every activation and the residual sum on both */
    static const int64_t tails[][3] = {{1, 7, 7}, {1, 14, 14}, {1, 3, 6}, {1, 1, 19}, {1, 4, 5}};
    for (int t = 0; t < 5; t++)
        for (int a = 0; a < 7; a++) {
            conv_case(0, 1 + (a == 3), 130 + a, 21 + 3 * a, 1, 2, tails[t], &cfg2d[0], idx++);
            conv_case(0, 1, 40 + a, 9 + a, 1, 2, tails[t], &cfg2d[1], idx++);
        }
    /* many output channels over few pixels: tasks split output channels (per thread count
     * for our GEMM, fixed by the shape for OpenBLAS) */
    conv_case(0, 1, 24, 130, 1, 2, tails[0], &cfg2d[0], idx++);
    conv_case(0, 1, 24, 200, 1, 2, tails[4], &cfg2d[1], idx++);
    /* K = 1350 over N <= 64 columns: several balanced K blocks of the narrow-panel path */
    for (int t = 0; t < 5; t++) conv_case(0, 1, 150, 11, 1, 2, tails[t], &cfg2d[1], idx++);
    /* 1-D and 3-D */
    static const conv_cfg c1 = {{1, 1, 3}, {1, 1, 2}, {1, 1, 1}, {1, 0}};
    static const conv_cfg c3 = {{3, 3, 3}, {2, 1, 1}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}};
    static const int64_t s1[3] = {1, 1, 17}, s3[3] = {5, 7, 6};
    for (int ci = 0; ci < 6; ci++) {
        conv_case(0, 1, chans[ci], 7, 1, 1, s1, &c1, idx++);
        conv_case(0, 1, chans[ci], 16, 1, 3, s3, &c3, idx++);
    }
    printf("kernels: %d conv cases, %d kernel runs compared with the reference\n", n_checked,
           n_kernel_runs);
}
END_TEST

START_TEST(conv_transpose_kernels_match_ref) {
    static const conv_cfg ct[] = {
        {{1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1, 1}},
        {{1, 2, 2}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0, 0}},
        {{1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {0, 1, 2, 0}},
        {{1, 4, 3}, {1, 3, 2}, {1, 1, 1}, {1, 0, 0, 1}},
    };
    int idx = 0;
    for (int ci = 0; ci < 6; ci++)
        for (int mi = 0; mi < 6; mi += 2)
            for (int si = 0; si < 3; si++)
                for (int k = 0; k < 4; k++)
                    conv_case(1, 1, chans[ci], chans[mi], 1, 2, spat[si], &ct[k], idx++);
    conv_case(1, 2, 16, 8, 4, 2, spat[1], &ct[0], idx++);
    conv_case(1, 1, 33, 33, 33, 2, spat[2], &ct[1], idx++);
}
END_TEST

static void gemm_case(int64_t M, int64_t N, int64_t K, int ta, int tb, int cmode, int idx) {
    kcase c = {0};
    c.op = "Gemm";
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("k", &c.g, &d), AC_OK);
    int64_t ad[2] = {ta ? K : M, ta ? M : K}, bd[2] = {tb ? N : K, tb ? K : N};
    ac_value *ins[3];
    ins[0] = new_input(&c, 2, ad);
    ins[1] = new_const(&c, "B", 2, bd);
    int64_t cd[2];
    int32_t cr = 0;
    switch (cmode) {
    case 1: cr = 1; cd[0] = N; break;
    case 2: cr = 2; cd[0] = M; cd[1] = N; break;
    case 3: cr = 1; cd[0] = 1; break;
    case 4: cr = 2; cd[0] = M; cd[1] = 1; break;
    case 5: cr = 0; break;
    default: break;
    }
    ins[2] = cmode ? new_const(&c, "C", cr, cd) : NULL;
    ac_value *y;
    ck_assert_int_eq(ac_graph_new_value(c.g, "y", &y, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(c.g, y, &d), AC_OK);
    ac_node *node;
    ck_assert_int_eq(ac_graph_add_node(c.g, "Gemm", "", "n", cmode ? 3 : 2, ins, 1, &y, &node, &d),
                     AC_OK);
    ac_node_set_attr_int(node, "transA", ta, &d);
    ac_node_set_attr_int(node, "transB", tb, &d);
    if (idx % 3 == 1) ac_node_set_attr_float(node, "alpha", 0.5f, &d);
    if (idx % 4 == 1) ac_node_set_attr_float(node, "beta", -1.5f, &d);
    char what[160];
    snprintf(what, sizeof what, "Gemm M%lld N%lld K%lld tA%d tB%d C%d", (long long)M,
             (long long)N, (long long)K, ta, tb, cmode);
    check_case(&c, act_for(idx), idx % 2, what);
}

static void matmul_case(int32_t ra, const int64_t *adims, int32_t rb, const int64_t *bdims,
                        int idx) {
    kcase c = {0};
    c.op = "MatMul";
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("k", &c.g, &d), AC_OK);
    ac_value *ins[2];
    ins[0] = new_input(&c, ra, adims);
    ins[1] = new_const(&c, "B", rb, bdims);
    ac_value *y;
    ck_assert_int_eq(ac_graph_new_value(c.g, "y", &y, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(c.g, y, &d), AC_OK);
    ac_node *node;
    ck_assert_int_eq(ac_graph_add_node(c.g, "MatMul", "", "n", 2, ins, 1, &y, &node, &d), AC_OK);
    char what[160];
    snprintf(what, sizeof what, "MatMul rank %d x %d, K %lld", ra, rb,
             (long long)adims[ra - 1]);
    check_case(&c, act_for(idx), idx % 2, what);
}

START_TEST(gemm_matmul_kernels_match_ref) {
    static const int64_t sz[] = {1, 3, 7, 16, 17, 33, 130};
    int idx = 0;
    for (int mi = 0; mi < 7; mi++)
        for (int ni = 0; ni < 7; ni += 2)
            for (int ki = 0; ki < 7; ki += 3)
                for (int t = 0; t < 4; t++)
                    gemm_case(sz[mi], sz[ni], sz[ki], t & 1, t >> 1, idx % 6, idx), idx++;
    for (int mi = 0; mi < 7; mi += 2)
        for (int ni = 0; ni < 7; ni += 3)
            for (int ki = 1; ki < 7; ki += 2) {
                int64_t M = sz[mi], N = sz[ni], K = sz[ki];
                int64_t a2[2] = {M, K}, b2[2] = {K, N};
                int64_t a4[4] = {2, 1, M, K}, b3[3] = {3, K, N};
                int64_t a1[1] = {K}, b1[1] = {K};
                int64_t a3[3] = {3, M, K};
                matmul_case(2, a2, 2, b2, idx++);
                matmul_case(4, a4, 3, b3, idx++);
                matmul_case(1, a1, 3, b3, idx++);
                matmul_case(3, a3, 1, b1, idx++);
                matmul_case(3, a3, 2, b2, idx++);
            }
}
END_TEST

/* Depthwise 3x3 (the x86 dwconv3x3 kernels): every width 1..40 (row tails, planes narrower
 * than a vector, stride 2 with odd sizes), the pads those kernels take (0, 1, 2 per side,
 * asymmetric), MobileNet-sized planes (interior fast paths), batch 2, residuals and every fused
 * activation (act_for cycles through them, idx % 2 adds a residual). */
START_TEST(dwconv_kernels_match_ref) {
    static const conv_cfg dw[] = {
        {{1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1}},
        {{1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1, 1}},
        {{1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 1, 1}}, /* TF SAME, stride 2 */
        {{1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0, 0}},
        {{1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 2, 2, 0}}, /* left 2, right 0 */
        {{1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {2, 0, 0, 2}}, /* left 0, right 2 */
        {{1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {2, 1, 0, 2}},
        {{1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {2, 0, 1, 2}},
        {{1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {1, 2, 2, 1}},
    };
    const int ncfg = (int)(sizeof dw / sizeof dw[0]);
    int idx = 0;
    for (int64_t w = 1; w <= 40; w++)
        for (int k = 0; k < ncfg; k++) {
            int64_t sp[3] = {1, 1 + (w * 5 + k) % 11, w};
            int64_t C = (w + k) % 3 ? 3 : 17;
            conv_case(0, 1 + (idx % 4 == 0), C, C, C, 2, sp, &dw[k], idx);
            idx++;
        }
    /* MobileNet planes, fewer channels: long interiors, full vectors, tails */
    static const int64_t big[][3] = {{1, 112, 112}, {1, 56, 56}, {1, 28, 28}, {1, 14, 14},
                                     {1, 7, 7}, {1, 33, 65}, {1, 64, 64}};
    for (int b = 0; b < (int)(sizeof big / sizeof big[0]); b++)
        for (int k = 0; k < 3; k++) {
            conv_case(0, 1 + (idx % 4 == 0), 2 + b, 2 + b, 2 + b, 2, big[b], &dw[k], idx);
            idx++;
        }
    printf("kernels: %d depthwise cases\n", idx);
}
END_TEST

/* GlobalAveragePool: spatial 1, below / at / above a vector, 7x7, 13x17, a plane long enough
 * for several float blocks, 1-D and 3-D inputs, N = 2, C not a multiple of 16. */
static void gap_case(int32_t rank, const int64_t *dims) {
    kcase c = {0};
    c.op = "GlobalAveragePool";
    c.family = &rt_family_pool;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new("k", &c.g, &d), AC_OK);
    ac_value *x = new_input(&c, rank, dims), *y;
    ck_assert_int_eq(ac_graph_new_value(c.g, "y", &y, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(c.g, y, &d), AC_OK);
    ac_node *node;
    ck_assert_int_eq(ac_graph_add_node(c.g, c.op, "", "n", 1, &x, 1, &y, &node, &d), AC_OK);
    char what[200];
    snprintf(what, sizeof what, "GlobalAveragePool rank %d dims %lld,%lld,%lld,%lld,%lld",
             (int)rank, (long long)dims[0], (long long)dims[1], (long long)(rank > 2 ? dims[2] : 0),
             (long long)(rank > 3 ? dims[3] : 0), (long long)(rank > 4 ? dims[4] : 0));
    check_case(&c, (rt_act){RT_ACT_NONE, 0, 0}, 0, what);
}

START_TEST(global_pool_kernels_match_ref) {
    static const int64_t hw[][2] = {{1, 1}, {1, 7}, {3, 5}, {4, 4}, {1, 17}, {7, 7}, {13, 17},
                                    {5, 33}, {128, 130}};
    static const int64_t nc[][2] = {{1, 1}, {1, 16}, {2, 37}, {1, 1280}};
    for (int i = 0; i < (int)(sizeof hw / sizeof hw[0]); i++)
        for (int j = 0; j < 4; j++) {
            if (hw[i][0] * hw[i][1] * nc[j][0] * nc[j][1] > 2000000) continue;
            int64_t dims[4] = {nc[j][0], nc[j][1], hw[i][0], hw[i][1]};
            gap_case(4, dims);
        }
    int64_t d3[3] = {2, 5, 19}, d5[5] = {2, 3, 4, 5, 6};
    gap_case(3, d3);
    gap_case(5, d5);
}
END_TEST

/* rt_logistic_n (clones per ISA, vectorised with FMA) gives rt_logistic's bits for every
 * input: random values over the whole range that matters, the clamp edges, zeros, subnormals,
 * infinities and NaN; out of place and in place, at lengths around the vector widths. */
START_TEST(vector_logistic_matches_scalar) {
    enum { N = 4099 };
    static float x[N], y[N], z[N];
    ac_test_rng r = {2024u};
    for (int i = 0; i < N; i++) x[i] = 24.0f * ac_test_rng_float(&r);
    const float special[] = {0.0f, -0.0f, 18.0f, -18.0f, 17.999998f, -18.000002f, 1e-39f,
                             -1e-39f, INFINITY, -INFINITY, NAN, 1e-8f, -3.5f, 40.0f};
    for (int i = 0; i < (int)(sizeof special / sizeof *special); i++) x[i * 7] = special[i];
    for (int n = 0; n <= 40; n++) {
        rt_logistic_n(x, y, n);
        for (int i = 0; i < n; i++) ck_assert_mem_eq(&y[i], &(float){rt_logistic(x[i])}, 4);
    }
    rt_logistic_n(x, y, N);
    memcpy(z, x, sizeof z);
    rt_logistic_n(z, z, N);
    for (int i = 0; i < N; i++) {
        float want = rt_logistic(x[i]);
        if (isnan(want)) {
            ck_assert(isnan(y[i]) && isnan(z[i]));
            continue;
        }
        ck_assert_msg(!memcmp(&y[i], &want, 4) && !memcmp(&z[i], &want, 4),
                      "x = %.9g: %.9g / %.9g, scalar %.9g", (double)x[i], (double)y[i],
                      (double)z[i], (double)want);
    }
}
END_TEST

Suite *ac_test_runtime_kernels_suite(void) {
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("nn");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, conv_kernels_match_ref);
    tcase_add_test(tc, dwconv_kernels_match_ref);
    tcase_add_test(tc, global_pool_kernels_match_ref);
    tcase_add_test(tc, conv_transpose_kernels_match_ref);
    tcase_add_test(tc, gemm_matmul_kernels_match_ref);
    tcase_add_test(tc, vector_logistic_matches_scalar);
    suite_add_tcase(s, tc);
    return s;
}
