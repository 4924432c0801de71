/* SPDX-License-Identifier: MIT */
/* Conv and ConvTranspose on OpenBLAS sgemm (NCHW).
 *
 * Conv: per (image, group) the output is W[Mg, Kg] x col[Kg, out_sp] with Kg = Cg * k_sp. The
 * output columns are cut into tiles sized from the shape alone (so results never depend on the
 * thread count); a task im2cols one tile into its thread's scratch, runs one sgemm writing
 * straight into the output (ldc = out_sp), then applies bias + residual + activation to the
 * tile while it is still in cache. 1x1 stride-1 unpadded convs skip im2col (B = X). When a
 * shape gives few tiles (late ResNet stages), output channels are split too. Groups with one or
 * two output channels (depthwise shapes the x86 kernels do not take) use a vectorisable
 * multiply-add over the im2col rows instead of a degenerate sgemm.
 *
 * ConvTranspose: per (image, group) col[Mg * k_sp, in_sp] = Wg^T x X, then col2im adds every
 * column entry into its output position. */
#include "../../ops/nn.h"
#include "../x86/sgemm.h"

#include <cblas.h>
#include <stdatomic.h>
#include <string.h>

/* OpenBLAS's own worker threads: the engine never uses them (it calls sgemm from its own pool
 * with OpenBLAS set to one thread), but the pthread build starts them at load time and they
 * spin in sched_yield, taking the core our second pool thread needs. blas_thread_shutdown_ is
 * exported by every OpenBLAS since GotoBLAS but not declared in cblas.h; weak, so a BLAS
 * without it still links. OpenBLAS restarts its threads by itself if ever asked for more. */
extern void blas_thread_shutdown_(void) __attribute__((weak));

void rt_blas_init(void) {
    static atomic_int done;
    if (atomic_exchange(&done, 1)) return;
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}

typedef struct conv_state {
    int pointwise;        /* 1x1, stride 1, no pads: B is X itself */
    int rows2d;           /* 2-D conv tiled in whole output rows: the fast im2col applies */
    int64_t Kg;           /* rows of the im2col matrix */
    int64_t tile, ntiles; /* output columns per task */
    int64_t mblock, nmb;  /* output channels per task */
    rt_sgemm_fn gemm;     /* our SIMD GEMM with fused epilogue, or NULL for OpenBLAS */
    rt_copy_strided_fn copy_strided; /* SIMD strided row copy for im2col, or NULL */
} conv_state;

#define COL_BUDGET (1536 * 1024) /* bytes of im2col per tile */
/* With few weights (stems: 3 input channels) a tile's weights cost nothing to read again, so
 * tiles are cut to stay in L2 beside the output they produce: the im2col written is then read
 * back from L2, not L3 (MobileNetV2's stem 0.43-0.47 -> 0.37-0.39 ms, ResNet-50's 2.81-2.85 ->
 * 2.74-2.75 ms inside the model, 1 thread). */
#define COL_BUDGET_SMALL_W (384 * 1024)
#define SMALL_W_BYTES (64 * 1024)

static int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

static ac_status prepare_conv_split(rt_plan *p, rt_node *n, int own_gemm, ac_diag *d) {
    rt_blas_init();
    const rt_conv_params *q = n->params;
    conv_state *s = rt_plan_alloc(p, sizeof *s);
    if (!s) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    s->Kg = q->Cg * q->k_sp;
    s->pointwise = rt_conv_is_pointwise(q);
    int64_t rows = s->Kg > q->Mg ? s->Kg : q->Mg;
    int64_t budget = s->Kg * q->Mg * (int64_t)sizeof(float) <= SMALL_W_BYTES ? COL_BUDGET_SMALL_W
                                                                            : COL_BUDGET;
    int64_t t = budget / (rows * (int64_t)sizeof(float));
    if (t < 64) t = 64;
    t = t / 16 * 16;
    if (t >= q->out_sp) t = q->out_sp;
    else {
        /* even tiles: same count, less waste in the last */
        int64_t nt = (q->out_sp + t - 1) / t;
        t = round_up((q->out_sp + nt - 1) / nt, 16);
        if (t > q->out_sp) t = q->out_sp;
    }
    s->tile = t < 1 ? 1 : t;
    /* 2-D convs (depth 1) tile in whole output rows so im2col needs no index arithmetic */
    s->rows2d = q->in[0] == 1 && q->out[0] == 1 && q->k[0] == 1;
    if (s->rows2d && !s->pointwise) {
        int64_t ow = q->out[2], nrows = s->tile / ow;
        if (nrows < 1) nrows = 1;
        if (nrows > q->out[1]) nrows = q->out[1];
        int64_t nt = (q->out[1] + nrows - 1) / nrows;
        nrows = (q->out[1] + nt - 1) / nt; /* even tiles */
        s->tile = nrows * ow;
    }
    s->ntiles = (q->out_sp + s->tile - 1) / s->tile;
    s->mblock = q->Mg;
    s->nmb = 1;
    /* Split output channels only as far as needed to give every thread a task: each split
     * repeats the tile's im2col, and a lone thread gains nothing from it. Our GEMM computes
     * every element the same way whatever rows it is given, so the split may follow the
     * thread count; OpenBLAS's edge kernels sum in another order than its main kernel, so
     * with it the split is fixed by the shape (as if for 4 threads), or the results would
     * change with the thread count. */
    int64_t want = own_gemm ? rt_plan_threads(p) : 4;
    while (q->N * q->group * s->ntiles * s->nmb < want && s->mblock >= 64) {
        s->mblock = round_up((s->mblock + 1) / 2, 16);
        s->nmb = (q->Mg + s->mblock - 1) / s->mblock;
    }
    n->kstate = s;
    n->scratch = s->pointwise ? 0 : (size_t)(s->Kg * s->tile) * sizeof(float);
    return AC_OK;
}

static ac_status prepare_conv(rt_plan *p, rt_node *n, ac_diag *d) {
    return prepare_conv_split(p, n, 0, d);
}

/* Fills col[Kg, T] for output columns [col0, col0 + T) of one image and group. */
void rt_conv_im2col(const rt_conv_params *q, const float *x, int64_t col0, int64_t T,
                    float *col) {
    int64_t r = 0;
    for (int64_t c = 0; c < q->Cg; c++)
    for (int64_t kd = 0; kd < q->k[0]; kd++)
    for (int64_t kh = 0; kh < q->k[1]; kh++)
    for (int64_t kw = 0; kw < q->k[2]; kw++, r++) {
        const float *xc = x + c * q->in_sp;
        float *dst = col + r * T;
        int64_t off = kw * q->dil[2] - q->pad0[2], s2 = q->stride[2], W = q->in[2];
        /* ow is valid where 0 <= ow * s2 + off < W */
        int64_t lo = off >= 0 ? 0 : (-off + s2 - 1) / s2;
        int64_t hi = W - off <= 0 ? 0 : (W - off + s2 - 1) / s2;
        for (int64_t t = col0; t < col0 + T;) {
            int64_t ow0 = t % q->out[2], rowi = t / q->out[2];
            int64_t oh = rowi % q->out[1], od = rowi / q->out[1];
            int64_t cnt = q->out[2] - ow0;
            if (cnt > col0 + T - t) cnt = col0 + T - t;
            float *o = dst + (t - col0);
            int64_t id = od * q->stride[0] - q->pad0[0] + kd * q->dil[0];
            int64_t ih = oh * q->stride[1] - q->pad0[1] + kh * q->dil[1];
            if (id < 0 || id >= q->in[0] || ih < 0 || ih >= q->in[1]) {
                memset(o, 0, (size_t)cnt * sizeof *o);
            } else {
                const float *src = xc + (id * q->in[1] + ih) * W + off;
                int64_t a = lo > ow0 ? lo : ow0, b = hi < ow0 + cnt ? hi : ow0 + cnt;
                if (b < a) b = a;
                for (int64_t ow = ow0; ow < a; ow++) o[ow - ow0] = 0.0f;
                if (s2 == 1) memcpy(o + (a - ow0), src + a, (size_t)(b - a) * sizeof *o);
                else
                    for (int64_t ow = a; ow < b; ow++) o[ow - ow0] = src[ow * s2];
                for (int64_t ow = b; ow < ow0 + cnt; ow++) o[ow - ow0] = 0.0f;
            }
            t += cnt;
        }
    }
}

/* im2col of output rows [oh0, oh0 + nrows) of a 2-D conv (depth 1) into col[Kg, nrows * OW]:
 * the valid output columns of each kernel column kw do not depend on the row, so each row is
 * zero head, a (strided) copy, zero tail. */
static void im2col_2d(const rt_conv_params *q, const conv_state *s, const float *x, int64_t oh0,
                      int64_t nrows, float *col) {
    const int64_t H = q->in[1], W = q->in[2], OW = q->out[2], T = nrows * OW;
    const int64_t sh = q->stride[1], sw = q->stride[2], dh = q->dil[1], dw = q->dil[2];
    int64_t r = 0;
    for (int64_t c = 0; c < q->Cg; c++) {
        const float *xc = x + c * q->in_sp;
        for (int64_t kh = 0; kh < q->k[1]; kh++)
            for (int64_t kw = 0; kw < q->k[2]; kw++, r++) {
                float *dst = col + r * T;
                int64_t off = kw * dw - q->pad0[2];
                /* ow is valid where 0 <= ow * sw + off < W */
                int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
                int64_t hi = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;
                if (hi > OW) hi = OW;
                if (lo > hi) lo = hi;
                for (int64_t i = 0; i < nrows; i++, dst += OW) {
                    int64_t ih = (oh0 + i) * sh - q->pad0[1] + kh * dh;
                    if (ih < 0 || ih >= H) {
                        for (int64_t ow = 0; ow < OW; ow++) dst[ow] = 0.0f;
                        continue;
                    }
                    const float *src = xc + ih * W + off;
                    for (int64_t ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
                    if (sw == 1)
                        for (int64_t ow = lo; ow < hi; ow++) dst[ow] = src[ow];
                    else if (s->copy_strided)
                        s->copy_strided(dst + lo, src + lo * sw, hi - lo, sw);
                    else
                        for (int64_t ow = lo; ow < hi; ow++) dst[ow] = src[ow * sw];
                    for (int64_t ow = hi; ow < OW; ow++) dst[ow] = 0.0f;
                }
            }
    }
}

typedef struct conv_job {
    const rt_node *n;
    const rt_ctx *x;
} conv_job;

static void conv_task(void *user, int64_t task, int32_t thread) {
    const conv_job *j = user;
    const rt_node *n = j->n;
    const rt_conv_params *q = n->params;
    const conv_state *s = n->kstate;
    int64_t mb = task % s->nmb;
    task /= s->nmb;
    int64_t tile = task % s->ntiles;
    task /= s->ntiles;
    int64_t g = task % q->group, img = task / q->group;
    int64_t col0 = tile * s->tile, T = q->out_sp - col0 < s->tile ? q->out_sp - col0 : s->tile;
    int64_t m0 = mb * s->mblock, mcnt = q->Mg - m0 < s->mblock ? q->Mg - m0 : s->mblock;
    const float *x = (const float *)n->in[0]->data + (img * q->C + g * q->Cg) * q->in_sp;
    const float *w = (const float *)n->in[1]->data + (g * q->Mg + m0) * s->Kg;
    float *y = (float *)n->out[0]->data + (img * q->M + g * q->Mg + m0) * q->out_sp + col0;
    const float *B;
    int64_t ldb;
    if (s->pointwise) {
        B = x + col0;
        ldb = q->in_sp;
    } else {
        float *col = rt_scratch(j->x, thread);
        if (s->rows2d)
            im2col_2d(q, s, x, col0 / q->out[2], T / q->out[2], col);
        else
            rt_conv_im2col(q, x, col0, T, col);
        B = col;
        ldb = T;
    }
    const float *bias = q->has_bias && n->in[2] ? (const float *)n->in[2]->data : NULL;
    const float *sum = n->sum ? (const float *)n->sum->data +
                                    (img * q->M + g * q->Mg + m0) * q->out_sp + col0
                              : NULL;
    if (s->gemm) {
        rt_gemm_epi ep = {bias ? bias + g * q->Mg + m0 : NULL, sum, q->out_sp, &n->act};
        s->gemm(mcnt, T, s->Kg, w, s->Kg, B, ldb, y, q->out_sp, &ep);
        return;
    }
    if (mcnt <= 2) {
        for (int64_t m = 0; m < mcnt; m++) {
            float *ym = y + m * q->out_sp;
            const float *wm = w + m * s->Kg;
            for (int64_t t = 0; t < T; t++) ym[t] = 0.0f;
            for (int64_t r = 0; r < s->Kg; r++) {
                float wv = wm[r];
                const float *br = B + r * ldb;
                for (int64_t t = 0; t < T; t++) ym[t] += wv * br[t];
            }
        }
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)mcnt, (blasint)T,
                    (blasint)s->Kg, 1.0f, w, (blasint)s->Kg, B, (blasint)ldb, 0.0f, y,
                    (blasint)q->out_sp);
    }
    for (int64_t m = 0; m < mcnt; m++)
        rt_nn_epilogue(&n->act, y + m * q->out_sp, T, bias ? bias[g * q->Mg + m0 + m] : 0.0f,
                       sum ? sum + m * q->out_sp : NULL);
}

static void run_conv(const rt_node *n, const rt_ctx *x) {
    const rt_conv_params *q = n->params;
    const conv_state *s = n->kstate;
    conv_job j = {n, x};
    rt_parallel_for(x, q->N * q->group * s->ntiles * s->nmb, conv_task, &j);
}

static int score_conv(const rt_node *n) {
    const rt_conv_params *q = n->params;
    return q && !q->transposed && n->in[0]->dtype == AC_DTYPE_F32 ? 10 : 0;
}

const rt_kernel rt_k_conv_blas = {"conv_blas", "Conv", AC_ISA_BLAS, score_conv, prepare_conv,
                                  run_conv};

/* The same tiling and im2col with the AVX-512 GEMM (no weight packing per call, epilogue in
 * registers). */
static ac_status prepare_conv_avx512(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(prepare_conv_split(p, n, 1, d));
    conv_state *s = n->kstate;
    s->gemm = rt_sgemm_avx512;
    s->copy_strided = rt_copy_strided_avx512;
    return AC_OK;
}

static int score_conv_avx512(const rt_node *n) { return score_conv(n) ? 20 : 0; }

const rt_kernel rt_k_conv_avx512 = {"conv_avx512", "Conv", AC_ISA_AVX512, score_conv_avx512,
                                    prepare_conv_avx512, run_conv};

/* ---- ConvTranspose ----------------------------------------------------------------------- */

#define CONVT_SCRATCH_MAX ((size_t)64 << 20)

static size_t convt_scratch(const rt_conv_params *q) {
    return (size_t)(q->Mg * q->k_sp * q->in_sp) * sizeof(float);
}

static ac_status prepare_convt(rt_plan *p, rt_node *n, ac_diag *d) {
    (void)p;
    (void)d;
    rt_blas_init();
    n->scratch = convt_scratch(n->params);
    return AC_OK;
}

static void convt_task(void *user, int64_t task, int32_t thread) {
    const conv_job *j = user;
    const rt_node *n = j->n;
    const rt_conv_params *q = n->params;
    int64_t g = task % q->group, img = task / q->group;
    const float *x = (const float *)n->in[0]->data + (img * q->C + g * q->Cg) * q->in_sp;
    const float *w = (const float *)n->in[1]->data + g * q->Cg * q->Mg * q->k_sp;
    float *y = (float *)n->out[0]->data + (img * q->M + g * q->Mg) * q->out_sp;
    float *col = rt_scratch(j->x, thread);
    int64_t rows = q->Mg * q->k_sp;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)rows, (blasint)q->in_sp,
                (blasint)q->Cg, 1.0f, w, (blasint)rows, x, (blasint)q->in_sp, 0.0f, col,
                (blasint)q->in_sp);
    memset(y, 0, (size_t)(q->Mg * q->out_sp) * sizeof *y);
    int64_t r = 0;
    for (int64_t m = 0; m < q->Mg; m++)
    for (int64_t kd = 0; kd < q->k[0]; kd++)
    for (int64_t kh = 0; kh < q->k[1]; kh++)
    for (int64_t kw = 0; kw < q->k[2]; kw++, r++) {
        const float *cr = col + r * q->in_sp;
        float *ym = y + m * q->out_sp;
        int64_t off = kw * q->dil[2] - q->pad0[2], s2 = q->stride[2];
        for (int64_t id = 0; id < q->in[0]; id++) {
            int64_t od = id * q->stride[0] - q->pad0[0] + kd * q->dil[0];
            if (od < 0 || od >= q->out[0]) continue;
            for (int64_t ih = 0; ih < q->in[1]; ih++) {
                int64_t oh = ih * q->stride[1] - q->pad0[1] + kh * q->dil[1];
                if (oh < 0 || oh >= q->out[1]) continue;
                const float *src = cr + (id * q->in[1] + ih) * q->in[2];
                float *dst = ym + (od * q->out[1] + oh) * q->out[2];
                for (int64_t iw = 0; iw < q->in[2]; iw++) {
                    int64_t ow = iw * s2 + off;
                    if (ow >= 0 && ow < q->out[2]) dst[ow] += src[iw];
                }
            }
        }
    }
    const float *bias = q->has_bias && n->in[2] ? (const float *)n->in[2]->data : NULL;
    const float *sum = n->sum ? (const float *)n->sum->data + (img * q->M + g * q->Mg) * q->out_sp
                              : NULL;
    for (int64_t m = 0; m < q->Mg; m++)
        rt_nn_epilogue(&n->act, y + m * q->out_sp, q->out_sp,
                       bias ? bias[g * q->Mg + m] : 0.0f, sum ? sum + m * q->out_sp : NULL);
}

static void run_convt(const rt_node *n, const rt_ctx *x) {
    const rt_conv_params *q = n->params;
    conv_job j = {n, x};
    rt_parallel_for(x, q->N * q->group, convt_task, &j);
}

static int score_convt(const rt_node *n) {
    const rt_conv_params *q = n->params;
    if (!q || !q->transposed || n->in[0]->dtype != AC_DTYPE_F32) return 0;
    return convt_scratch(q) <= CONVT_SCRATCH_MAX ? 10 : 0;
}

const rt_kernel rt_k_conv_transpose_blas = {"conv_transpose_blas", "ConvTranspose", AC_ISA_BLAS,
                                            score_convt, prepare_convt, run_convt};
