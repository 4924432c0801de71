/* SPDX-License-Identifier: MIT */
/* Float Conv summed in ONNX Runtime's order, for the Convs of a QDQ model that ORT runs in float
 * (Conv + Relu whose Relu the output zero point does not make redundant, a Conv whose output Q
 * is read twice, the last Conv before a float output). Their sums go through a QuantizeLinear,
 * where the last bit of a float decides rounding ties, so a different summation order flips
 * about one code in 10^5 and moves every later layer.
 *
 * ORT's CPU Conv (FusedConv) is MLAS's MlasConv (mlas/lib/convolve.cpp): with one thread every
 * algorithm it picks for these shapes (GemmDirect for 1x1, ExpandThenGemm, and
 * ExpandThenGemmSegmented, which im2cols block by block) reduces, per output element, to
 *   K cut into blocks of StrideK (MLAS_SGEMM_STRIDEK = 128, doubled while the N stride of 128
 *   halves above N = output size when N < K, halved while it stays >= K when N >= K);
 *   per block acc = fma(w[k], x[k], acc) from 0 in k order (the SGEMM kernels' FMA chain);
 *   C = first block's acc, then C = C + acc per block -- or, for FusedConv with a residual
 *   (Beta = 1), C starts as the residual and every block is added;
 *   then MlasActivation: C + bias, then the activation.
 * The k order is im2col's (input channel, kernel depth, row, column). Checked bit-exact against
 * ORT 1.30 on seg_unet's float Conv + Relu.
 * Except with one output channel per group (FilterCount == 1: depthwise convs, a Conv to one
 * channel): there MLAS's SGEMM takes its M = 1 path, whose x86-64 kernel adds rounded products
 * four at a time without FMA (oo_block_m1 below). ORT does run depthwise Convs of a QDQ model
 * through MlasConv: its NCHWc transformer (MlasNchwcConv, MlasConvDepthwiseFloatKernel) only
 * takes Convs whose weights are initializers, and here they come from DequantizeLinear (ORT's
 * optimized graph for mobilenetv2 has FusedConv/Conv nodes and no com.microsoft.nchwc ones).
 * Checked bit-exact against ORT 1.30 on every quantized tensor of the 8 oracle pairs. Other kernels keep their own (faster) orders; the
 * planner asks for this one (rt_conv_params.ort_order) only for Convs reading a
 * DequantizeLinear. */
#include "../../ops/nn.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

typedef struct oo_state {
    int64_t Kg, sk;   /* im2col rows; MLAS's K stride for this shape */
    int64_t tile, ntiles;
    int pointwise;    /* 1x1, stride 1, no pads: x itself is the im2col matrix */
} oo_state;

/* MlasSgemmOperation / MlasConvOperation stride choice (N = output size, one thread). */
static int64_t mlas_stride_k(int64_t N, int64_t K) {
    int64_t sn = 128, sk = 128;
    if (N >= K) {
        while (sk / 2 >= K) sn *= 2, sk /= 2;
    } else {
        while (sn > 16 && sn / 2 >= N) sk *= 2, sn /= 2;
    }
    return sk;
}

static ac_status prepare_oo(rt_plan *p, rt_node *n, ac_diag *d) {
    const rt_conv_params *q = n->params;
    oo_state *s = rt_plan_alloc(p, sizeof *s);
    if (!s) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    s->Kg = q->Cg * q->k_sp;
    s->sk = mlas_stride_k(q->out_sp, s->Kg);
    s->pointwise = rt_conv_is_pointwise(q);
    int64_t t = (256 * 1024) / (s->Kg * (int64_t)sizeof(float));
    t = t < 64 ? 64 : t / 8 * 8;
    s->tile = t > q->out_sp ? q->out_sp : t;
    s->ntiles = (q->out_sp + s->tile - 1) / s->tile;
    n->kstate = s;
    n->scratch = s->pointwise ? 0 : (size_t)(s->Kg * s->tile) * sizeof(float);
    return AC_OK;
}

typedef struct oo_job {
    const rt_node *n;
    const rt_ctx *x;
} oo_job;

/* Outputs of MB channels x NV * 8 positions, each summed exactly as the file comment says; the
 * channels and positions only share loads (more independent FMA chains, same order each). */
typedef struct oo_tile {
    const float *B;     /* im2col rows, row k at B + k * ldb */
    int64_t ldb, K, sk;
    const float *w;     /* first channel's weights, K per channel */
    const float *bias;  /* first channel's bias, or NULL */
    const float *z;     /* first channel's residual, or NULL; channel stride ys */
    float *y;           /* first channel's output; channel stride ys */
    int64_t ys;
} oo_tile;

/* One output channel per group (FilterCount == 1: depthwise convs with multiplier 1, or a
 * Conv with one output channel): MLAS's SGEMM is called with M = 1, which MlasSgemmOperation
 * (mlas/lib/sgemm.cpp, "special case of a small M") hands on x86-64 to
 * GetMlasPlatform().KernelM1Routine = MlasSgemmKernelM1Avx (mlas/lib/x86_64/SgemmKernelM1Avx.S)
 * -- also on AVX-512 machines. That kernel has no FMA: per call (one K block of
 * MlasConvOperation, beta 0 for the first block, 1 after) it takes the K rows four at a time,
 *   t = a0*b0; t = t + a1*b1; t = t + a2*b2; t = t + a3*b3   (vmulps, vaddps: two roundings)
 *   C = t + (beta == 0 on the first group ? +0 : C)
 * then a last group of 2 rows (if K mod 4 >= 2) the same way, then a last single row
 * C = a*b + C. A residual (FusedConv Sum, Beta = 1) is the starting C. */
static inline __attribute__((always_inline)) void oo_block_m1(const oo_tile *o, int64_t t, int NV) {
    __m256 c[3], acc[3];
    for (int v = 0; v < NV; v++)
        c[v] = o->z ? _mm256_loadu_ps(o->z + t + 8 * v) : _mm256_setzero_ps();
    for (int64_t k0 = 0; k0 < o->K; k0 += o->sk) {
        int64_t k1 = k0 + o->sk < o->K ? k0 + o->sk : o->K;
        for (int64_t k = k0; k < k1;) {
            int64_t g = k1 - k >= 4 ? 4 : k1 - k >= 2 ? 2 : 1;
            for (int64_t j = 0; j < g; j++) {
                __m256 wv = _mm256_set1_ps(o->w[k + j]);
                for (int v = 0; v < NV; v++) {
                    __m256 p = _mm256_mul_ps(wv, _mm256_loadu_ps(o->B + (k + j) * o->ldb + t + 8 * v));
                    acc[v] = j == 0 ? p : _mm256_add_ps(acc[v], p);
                }
            }
            for (int v = 0; v < NV; v++) c[v] = _mm256_add_ps(acc[v], c[v]);
            k += g;
        }
    }
    for (int v = 0; v < NV; v++) {
        __m256 r = o->bias ? _mm256_add_ps(c[v], _mm256_set1_ps(o->bias[0])) : c[v];
        _mm256_storeu_ps(o->y + t + 8 * v, r);
    }
}

static void oo_scalar_m1(const oo_tile *o, int64_t t) {
    float c = o->z ? o->z[t] : 0.0f;
    for (int64_t k0 = 0; k0 < o->K; k0 += o->sk) {
        int64_t k1 = k0 + o->sk < o->K ? k0 + o->sk : o->K;
        for (int64_t k = k0; k < k1;) {
            int64_t g = k1 - k >= 4 ? 4 : k1 - k >= 2 ? 2 : 1;
            volatile float acc = o->w[k] * o->B[k * o->ldb + t];
            for (int64_t j = 1; j < g; j++) {
                volatile float p = o->w[k + j] * o->B[(k + j) * o->ldb + t];
                acc = acc + p;
            }
            c = acc + c;
            k += g;
        }
    }
    o->y[t] = o->bias ? c + o->bias[0] : c;
}

static inline __attribute__((always_inline)) void oo_block(const oo_tile *o, int64_t t, int MB,
                                                            int NV) {
    __m256 c[4][3], acc[4][3];
    for (int m = 0; m < MB; m++)
        for (int v = 0; v < NV; v++)
            c[m][v] = o->z ? _mm256_loadu_ps(o->z + m * o->ys + t + 8 * v) : _mm256_setzero_ps();
    for (int64_t k0 = 0; k0 < o->K; k0 += o->sk) {
        int64_t k1 = k0 + o->sk < o->K ? k0 + o->sk : o->K;
        for (int m = 0; m < MB; m++)
            for (int v = 0; v < NV; v++) acc[m][v] = _mm256_setzero_ps();
        for (int64_t k = k0; k < k1; k++) {
            __m256 b[3];
            for (int v = 0; v < NV; v++) b[v] = _mm256_loadu_ps(o->B + k * o->ldb + t + 8 * v);
            for (int m = 0; m < MB; m++) {
                __m256 wv = _mm256_set1_ps(o->w[m * o->K + k]);
                for (int v = 0; v < NV; v++) acc[m][v] = _mm256_fmadd_ps(wv, b[v], acc[m][v]);
            }
        }
        for (int m = 0; m < MB; m++)
            for (int v = 0; v < NV; v++)
                c[m][v] = (k0 == 0 && !o->z) ? acc[m][v] : _mm256_add_ps(c[m][v], acc[m][v]);
    }
    for (int m = 0; m < MB; m++)
        for (int v = 0; v < NV; v++) {
            __m256 r = o->bias ? _mm256_add_ps(c[m][v], _mm256_set1_ps(o->bias[m])) : c[m][v];
            _mm256_storeu_ps(o->y + m * o->ys + t + 8 * v, r);
        }
}

static void oo_scalar(const oo_tile *o, int64_t t, int MB) {
    for (int m = 0; m < MB; m++) {
        float c = o->z ? o->z[m * o->ys + t] : 0.0f;
        for (int64_t k0 = 0; k0 < o->K; k0 += o->sk) {
            int64_t k1 = k0 + o->sk < o->K ? k0 + o->sk : o->K;
            float acc = 0.0f;
            for (int64_t k = k0; k < k1; k++) acc = fmaf(o->w[m * o->K + k], o->B[k * o->ldb + t], acc);
            c = (k0 == 0 && !o->z) ? acc : c + acc;
        }
        o->y[m * o->ys + t] = o->bias ? c + o->bias[m] : c;
    }
}

/* MB channels over positions [0, T). */
static void oo_rows(const oo_tile *o, int64_t T, int MB, int m1) {
    int64_t t = 0;
    if (m1) {
        for (; t + 24 <= T; t += 24) oo_block_m1(o, t, 3);
        for (; t + 8 <= T; t += 8) oo_block_m1(o, t, 1);
        for (; t < T; t++) oo_scalar_m1(o, t);
        return;
    }
    if (MB == 4) {
        for (; t + 24 <= T; t += 24) oo_block(o, t, 4, 3);
        for (; t + 8 <= T; t += 8) oo_block(o, t, 4, 1);
    } else {
        for (; t + 24 <= T; t += 24) oo_block(o, t, 1, 3);
        for (; t + 8 <= T; t += 8) oo_block(o, t, 1, 1);
    }
    for (; t < T; t++) oo_scalar(o, t, MB);
}

static void oo_task(void *user, int64_t task, int32_t thread) {
    const oo_job *j = user;
    const rt_node *n = j->n;
    const rt_conv_params *q = n->params;
    const oo_state *s = n->kstate;
    int64_t tile = task % s->ntiles;
    task /= s->ntiles;
    int64_t g = task % q->group, img = task / q->group;
    int64_t t0 = tile * s->tile, T = q->out_sp - t0 < s->tile ? q->out_sp - t0 : s->tile;
    const float *x = (const float *)n->in[0]->data + (img * q->C + g * q->Cg) * q->in_sp;
    oo_tile o = {.K = s->Kg, .sk = s->sk, .ys = q->out_sp};
    if (s->pointwise) {
        o.B = x + t0;
        o.ldb = q->in_sp;
    } else {
        float *col = rt_scratch(j->x, thread);
        rt_conv_im2col(q, x, t0, T, col);
        o.B = col;
        o.ldb = T;
    }
    const float *bias = q->has_bias && n->in[2] ? (const float *)n->in[2]->data : NULL;
    for (int64_t m = 0; m < q->Mg;) {
        int MB = q->Mg - m >= 4 ? 4 : 1;
        int64_t oc = g * q->Mg + m;
        o.w = (const float *)n->in[1]->data + oc * s->Kg;
        o.bias = bias ? bias + oc : NULL;
        o.y = (float *)n->out[0]->data + (img * q->M + oc) * q->out_sp + t0;
        o.z = n->sum ? (const float *)n->sum->data + (img * q->M + oc) * q->out_sp + t0 : NULL;
        oo_rows(&o, T, MB, q->Mg == 1);
        if (n->act.kind)
            for (int k = 0; k < MB; k++) rt_act_apply(&n->act, o.y + k * q->out_sp, T);
        m += MB;
    }
}

static void run_oo(const rt_node *n, const rt_ctx *x) {
    const rt_conv_params *q = n->params;
    const oo_state *s = n->kstate;
    oo_job j = {n, x};
    rt_parallel_for(x, q->N * q->group * s->ntiles, oo_task, &j);
}

static int score_oo(const rt_node *n) {
    const rt_conv_params *q = n->params;
    return q && q->ort_order && !q->transposed && n->in[0]->dtype == AC_DTYPE_F32 ? 50 : 0;
}

const rt_kernel rt_k_conv_ortorder_avx2 = {"conv_ortorder_avx2", "Conv", AC_ISA_AVX2, score_oo,
                                           prepare_oo, run_oo};
