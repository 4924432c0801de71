/* SPDX-License-Identifier: MIT */
/* Winograd F(4x4, 3x3) convolution, AVX-512 (NCHW, 3x3, stride 1, dilation 1, group 1, 2-D).
 *
 * y = A^T [ (G g G^T) (.) (B^T d B) ] A per 4x4 output tile, so the 36 products of the
 * transformed 6x6 input tiles with the transformed filters replace 144 multiply-adds per output
 * channel and tile: 36 independent GEMMs, one per transformed position xi,
 *     X_xi[tile][m] = sum_c V_xi[tile][c] * U_xi[c][m],
 * run by rt_sgemm_avx512 with output channels as its vector (column) dimension, so small
 * spatial sizes (few tiles) still fill the registers.
 *
 * Nothing is prepacked: a task (image, block of up to 64 output channels, block of tiles)
 * transforms the filters of its channel block into its thread's scratch (U[36][C][mbp]), then
 * for each group of up to TS tiles transforms the input (V[36][ts][Cp], vectorised over 16
 * channels with gathers), runs the 36 GEMMs (X[36][ts][mbp]), and applies the output
 * transform, bias, residual and activation while storing (vectorised over 16 output channels,
 * then transposed to pixels with a 16x16 register transpose).
 *
 * Every output element goes through the same tile grid, the same transforms and the same GEMM
 * k order whichever task or thread computes it, so results do not depend on the thread count.
 * Accuracy: the F(4x4, 3x3) transforms (points 0, +-1, +-2) lose a few bits against direct
 * convolution: NMSE around 1e-12..1e-11 on random data, max relative error ~1e-5 of the output
 * scale. */
#include "../../ops/nn.h"
#include "sgemm.h"

#include <immintrin.h>
#include <string.h>

#define NXI 36   /* transformed positions (6x6) */
#define MB 64    /* output channels per task */
#define TS 48    /* tiles per GEMM group (multiple of 6: the GEMM's row tile for 64 columns) */
#define CB 32    /* input channels per filter-transform block (channel-blocked mode) */

typedef struct wino_state {
    int64_t th, tw, tiles; /* tile grid of the output */
    int64_t tpb, ntb;      /* tiles per task, tile blocks */
    int64_t nmb;           /* output channel blocks of MB */
    int64_t cp;            /* C rounded up to 16 */
    int64_t mbp;           /* min(M, MB) rounded up to 16 */
    int cblocked;          /* few tiles per task: all tiles at once, filters in channel blocks */
} wino_state;

static int64_t rup16(int64_t v) { return (v + 15) / 16 * 16; }

/* shape the kernel handles at all */
static int wino_ok(const rt_node *n) {
    const rt_conv_params *q = n->params;
    if (!q || q->transposed || n->in[0]->dtype != AC_DTYPE_F32) return 0;
    if (q->nd != 2 || q->group != 1 || q->k[1] != 3 || q->k[2] != 3) return 0;
    if (q->stride[1] != 1 || q->stride[2] != 1 || q->dil[1] != 1 || q->dil[2] != 1) return 0;
    if (q->out[1] < 1 || q->out[2] < 1) return 0;
    /* gather indices are 32-bit */
    if (16 * q->in_sp > INT32_MAX || 16 * q->C * 9 > INT32_MAX) return 0;
    return 1;
}

static size_t scratch_floats(const rt_conv_params *q, const wino_state *s) {
    int64_t ts = s->tpb < TS ? s->tpb : TS;
    int64_t uc = s->cblocked ? (q->C < CB ? q->C : CB) : q->C;
    return (size_t)(NXI * uc * s->mbp + NXI * ts * s->cp + NXI * ts * s->mbp);
}

static ac_status prepare_wino(rt_plan *p, rt_node *n, ac_diag *d) {
    const rt_conv_params *q = n->params;
    wino_state *s = rt_plan_alloc(p, sizeof *s);
    if (!s) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    s->th = (q->out[1] + 3) / 4;
    s->tw = (q->out[2] + 3) / 4;
    s->tiles = s->th * s->tw;
    s->cp = rup16(q->C);
    s->mbp = rup16(q->M < MB ? q->M : MB);
    s->nmb = (q->M + MB - 1) / MB;
    /* split tiles only as far as needed to give every thread a task (each split repeats the
     * filter transform of its channel block) */
    int64_t want = rt_plan_threads(p), ntb = 1;
    while (q->N * s->nmb * ntb < want && ntb < s->tiles) ntb++;
    s->tpb = (s->tiles + ntb - 1) / ntb;
    s->ntb = (s->tiles + s->tpb - 1) / s->tpb;
    /* Few tiles per task reuse each transformed filter little, and the whole U (36 C mbp floats,
     * 4.7 MB at C = 512) would stream through memory: transform and consume it in blocks of CB
     * input channels instead, accumulating the GEMMs over the blocks. */
    s->cblocked = s->tpb <= TS && s->tpb * s->cp <= 8192;
    n->kstate = s;
    n->scratch = scratch_floats(q, s) * sizeof(float) + 64;
    return AC_OK;
}

/* ---- transforms ----------------------------------------------------------------------------- */

/* B^T d over six vectors (a column or row of the 6x6 input tile). */
static inline __attribute__((always_inline)) void bt6(const __m512 *d, __m512 *r) {
    const __m512 f4 = _mm512_set1_ps(4.0f), f5 = _mm512_set1_ps(5.0f), f2 = _mm512_set1_ps(2.0f);
    __m512 t0 = _mm512_fnmadd_ps(f4, d[2], d[4]);        /* d4 - 4 d2 */
    __m512 t1 = _mm512_fnmadd_ps(f4, d[1], d[3]);        /* d3 - 4 d1 */
    __m512 t2 = _mm512_sub_ps(d[4], d[2]);               /* d4 - d2 */
    __m512 t3 = _mm512_mul_ps(f2, _mm512_sub_ps(d[3], d[1])); /* 2 (d3 - d1) */
    r[0] = _mm512_add_ps(_mm512_fnmadd_ps(f5, d[2], d[4]), _mm512_mul_ps(f4, d[0]));
    r[1] = _mm512_add_ps(t0, t1);
    r[2] = _mm512_sub_ps(t0, t1);
    r[3] = _mm512_add_ps(t2, t3);
    r[4] = _mm512_sub_ps(t2, t3);
    r[5] = _mm512_add_ps(_mm512_fnmadd_ps(f5, d[3], d[5]), _mm512_mul_ps(f4, d[1]));
}

/* A^T s over six vectors. */
static inline __attribute__((always_inline)) void at6(const __m512 *s, __m512 *o) {
    const __m512 f2 = _mm512_set1_ps(2.0f), f4 = _mm512_set1_ps(4.0f), f8 = _mm512_set1_ps(8.0f);
    __m512 a = _mm512_add_ps(s[1], s[2]), b = _mm512_sub_ps(s[1], s[2]);
    __m512 c = _mm512_add_ps(s[3], s[4]), e = _mm512_sub_ps(s[3], s[4]);
    o[0] = _mm512_add_ps(_mm512_add_ps(s[0], a), c);
    o[1] = _mm512_fmadd_ps(f2, e, b);
    o[2] = _mm512_fmadd_ps(f4, c, a);
    o[3] = _mm512_add_ps(_mm512_fmadd_ps(f8, e, b), s[5]);
}

/* G g over three vectors. */
static inline __attribute__((always_inline)) void g3(const __m512 *g, __m512 *r) {
    const __m512 q4 = _mm512_set1_ps(0.25f), s6 = _mm512_set1_ps(1.0f / 6.0f),
                 s12 = _mm512_set1_ps(1.0f / 12.0f), s24 = _mm512_set1_ps(1.0f / 24.0f);
    __m512 a = _mm512_add_ps(g[0], g[2]);
    r[0] = _mm512_mul_ps(q4, g[0]);
    r[1] = _mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), s6), _mm512_add_ps(a, g[1]));
    r[2] = _mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), s6), _mm512_sub_ps(a, g[1]));
    __m512 b = _mm512_fmadd_ps(s24, g[0], _mm512_mul_ps(s6, g[2]));
    r[3] = _mm512_fmadd_ps(s12, g[1], b);
    r[4] = _mm512_fnmadd_ps(s12, g[1], b);
    r[5] = g[2];
}

/* In-register transpose of 16 vectors of 16 floats: r[i][j] -> r[j][i]. */
static inline __attribute__((always_inline)) void transpose16(__m512 *r) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), e = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, e));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, e));
    }
    /* r[4i + k] now holds, per 128-bit lane L, column 4L + k of rows 4i .. 4i + 3 */
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) {
            t[8 * i + k] = _mm512_shuffle_f32x4(r[8 * i + k], r[8 * i + 4 + k], 0x88);
            t[8 * i + 4 + k] = _mm512_shuffle_f32x4(r[8 * i + k], r[8 * i + 4 + k], 0xdd);
        }
    for (int k = 0; k < 8; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0x88);
        r[8 + k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0xdd);
    }
}

/* U[xi][c][0 .. mcnt) for output channels m0 .. m0 + mcnt and input channels c0 .. c0 + C
 * (row stride mbp, xi stride C * mbp). Per 16 output channels and 16 input channels the 16 x 144
 * weights are transposed in registers (9 blocks of 16 x 16) so each of the 9 taps of 16 filters
 * is one vector over output channels; then G g G^T, vectorised over those 16 filters. */
static void filter_transform(const rt_conv_params *q, const float *w, int64_t m0, int64_t mcnt,
                             int64_t c0, int64_t C, int64_t mbp, float *U) {
    const int64_t csz = q->C * 9;
    float tb[144 * 16] __attribute__((aligned(64)));
    for (int64_t mm = 0; mm < mcnt; mm += 16) {
        int64_t mc = mcnt - mm < 16 ? mcnt - mm : 16;
        for (int64_t cb = 0; cb < C; cb += 16) {
            int64_t cc = C - cb < 16 ? C - cb : 16, nf = cc * 9;
            for (int j = 0; j < 9; j++) {
                __m512 r[16];
                int64_t left = nf - 16 * j;
                __mmask16 lm = (__mmask16)(left >= 16 ? 0xffff : left <= 0 ? 0 : (1u << left) - 1);
                for (int l = 0; l < 16; l++)
                    r[l] = l < mc ? _mm512_maskz_loadu_ps(
                                        lm, w + (m0 + mm + l) * csz + (c0 + cb) * 9 + 16 * j)
                                  : _mm512_setzero_ps();
                transpose16(r);
                for (int e = 0; e < 16; e++) _mm512_store_ps(tb + (16 * j + e) * 16, r[e]);
            }
            for (int64_t c = 0; c < cc; c++) {
                __m512 g[9];
                for (int k = 0; k < 9; k++) g[k] = _mm512_load_ps(tb + (c * 9 + k) * 16);
                __m512 t[6][3];
                for (int j = 0; j < 3; j++) {
                    __m512 col[3] = {g[j], g[3 + j], g[6 + j]}, r[6];
                    g3(col, r);
                    for (int i = 0; i < 6; i++) t[i][j] = r[i];
                }
                float *u = U + (cb + c) * mbp + mm;
                for (int i = 0; i < 6; i++) {
                    __m512 r[6];
                    g3(t[i], r);
                    for (int j = 0; j < 6; j++)
                        _mm512_storeu_ps(u + (i * 6 + j) * C * mbp, r[j]);
                }
            }
        }
    }
}

/* V[xi][t][c] for tiles t0 .. t0 + ts of one image (row stride cp, xi stride ts * cp). */
static void input_transform(const rt_conv_params *q, const wino_state *s, const float *x,
                            int64_t t0, int64_t ts, float *V) {
    const int64_t C = q->C, H = q->in[1], W = q->in[2], sp = q->in_sp;
    const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
                                                            5, 4, 3, 2, 1, 0),
                                           _mm512_set1_epi32((int)sp));
    const int64_t xs = ts * s->cp;
    for (int64_t t = 0; t < ts; t++) {
        int64_t th = (t0 + t) / s->tw, tw = (t0 + t) % s->tw;
        int64_t ih0 = th * 4 - q->pad0[1], iw0 = tw * 4 - q->pad0[2];
        int ok[6][6];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                ok[i][j] = ih0 + i >= 0 && ih0 + i < H && iw0 + j >= 0 && iw0 + j < W;
        for (int64_t c = 0; c < C; c += 16) {
            int64_t cnt = C - c < 16 ? C - c : 16;
            __mmask16 mk = (__mmask16)(cnt == 16 ? 0xffff : (1u << cnt) - 1);
            const float *xb = x + c * sp + ih0 * W + iw0;
            __m512 d[6][6];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++)
                    d[i][j] = ok[i][j] ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mk, idx,
                                                                  xb + i * W + j, 4)
                                       : _mm512_setzero_ps();
            __m512 r[6][6];
            for (int j = 0; j < 6; j++) {
                __m512 col[6] = {d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j]}, o[6];
                bt6(col, o);
                for (int i = 0; i < 6; i++) r[i][j] = o[i];
            }
            float *v = V + t * s->cp + c;
            for (int i = 0; i < 6; i++) {
                __m512 o[6];
                bt6(r[i], o);
                for (int j = 0; j < 6; j++) _mm512_storeu_ps(v + (i * 6 + j) * xs, o[j]);
            }
        }
    }
}

static inline __m128 act128(const rt_act *a, __m128 v) {
    switch (a->kind) {
    case RT_ACT_RELU:
        return _mm_max_ps(v, _mm_setzero_ps());
    case RT_ACT_CLIP:
        return _mm_min_ps(_mm_max_ps(v, _mm_set1_ps(a->alpha)), _mm_set1_ps(a->beta));
    default:
        return v;
    }
}

/* Output transform of tiles t0 .. t0 + ts for channels m0 .. m0 + mcnt, with the epilogue. */
static void output_transform(const rt_node *n, const wino_state *s, const float *X, int64_t t0,
                             int64_t ts, int64_t m0, int64_t mcnt, float *y, const float *sum) {
    const rt_conv_params *q = n->params;
    const int64_t OH = q->out[1], OW = q->out[2], osp = q->out_sp, xs = ts * s->mbp;
    const float *bias = q->has_bias && n->in[2] ? (const float *)n->in[2]->data : NULL;
    const rt_act *act = &n->act;
    const int simple = act->kind == RT_ACT_NONE || act->kind == RT_ACT_RELU ||
                       act->kind == RT_ACT_CLIP;
    for (int64_t t = 0; t < ts; t++) {
        int64_t th = (t0 + t) / s->tw, tw = (t0 + t) % s->tw;
        int64_t oh0 = th * 4, ow0 = tw * 4;
        int64_t nr = OH - oh0 < 4 ? OH - oh0 : 4, nc = OW - ow0 < 4 ? OW - ow0 : 4;
        __mmask8 cm = (__mmask8)((1u << nc) - 1);
        for (int64_t mm = 0; mm < mcnt; mm += 16) {
            const float *xp = X + t * s->mbp + mm;
            __m512 r[6][4];
            for (int i = 0; i < 6; i++) {
                __m512 sv[6];
                for (int j = 0; j < 6; j++) sv[j] = _mm512_loadu_ps(xp + (i * 6 + j) * xs);
                at6(sv, r[i]);
            }
            __m512 p[16];
            __m512 b = bias ? _mm512_maskz_loadu_ps(
                                  (__mmask16)(mcnt - mm >= 16 ? 0xffff
                                                              : (1u << (mcnt - mm)) - 1),
                                  bias + m0 + mm)
                            : _mm512_setzero_ps();
            for (int j = 0; j < 4; j++) {
                __m512 col[6] = {r[0][j], r[1][j], r[2][j], r[3][j], r[4][j], r[5][j]}, o[4];
                at6(col, o);
                for (int i = 0; i < 4; i++) p[i * 4 + j] = _mm512_add_ps(o[i], b);
            }
            transpose16(p); /* p[l]: the 4x4 tile of channel m0 + mm + l, row-major */
            int64_t cnt = mcnt - mm < 16 ? mcnt - mm : 16;
            for (int64_t l = 0; l < cnt; l++) {
                int64_t off = (m0 + mm + l) * osp + oh0 * OW + ow0;
                float *yo = y + off;
                const float *so = sum ? sum + off : NULL;
                __m128 rows[4] = {_mm512_castps512_ps128(p[l]), _mm512_extractf32x4_ps(p[l], 1),
                                  _mm512_extractf32x4_ps(p[l], 2),
                                  _mm512_extractf32x4_ps(p[l], 3)};
                for (int64_t i = 0; i < nr; i++) {
                    __m128 v = rows[i];
                    if (so) v = _mm_add_ps(v, _mm_maskz_loadu_ps(cm, so + i * OW));
                    if (simple) v = act128(act, v);
                    _mm_mask_storeu_ps(yo + i * OW, cm, v);
                    if (!simple) rt_act_apply(act, yo + i * OW, nc);
                }
            }
        }
    }
}

/* ---- run ------------------------------------------------------------------------------------ */

typedef struct wino_job {
    const rt_node *n;
    const rt_ctx *x;
} wino_job;

/* C[mr][16 nv] (+)= A[mr][K] x B[K][16 nv] (lda, ldb, ldc in floats). */
static inline __attribute__((always_inline)) void
mk(const int mr, const int nv, int64_t K, const float *A, int64_t lda, const float *B,
   int64_t ldb, float *C, int64_t ldc, int acc) {
    __m512 c[6][4];
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            c[i][v] = acc ? _mm512_loadu_ps(C + i * ldc + 16 * v) : _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
        __m512 b[4];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) b[v] = _mm512_loadu_ps(B + k * ldb + 16 * v);
#pragma GCC unroll 6
        for (int i = 0; i < mr; i++) {
            __m512 a = _mm512_set1_ps(A[i * lda + k]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) c[i][v] = _mm512_fmadd_ps(a, b[v], c[i][v]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) _mm512_storeu_ps(C + i * ldc + 16 * v, c[i][v]);
}

#define MK_ROWS(NV)                                                                                \
    for (int64_t i0 = 0; i0 < M; i0 += 6) {                                                        \
        const float *a = A + i0 * lda;                                                             \
        float *cc = C + i0 * ldc;                                                                  \
        switch (M - i0 < 6 ? M - i0 : 6) {                                                         \
        case 6: mk(6, NV, K, a, lda, B, ldb, cc, ldc, acc); break;                                 \
        case 5: mk(5, NV, K, a, lda, B, ldb, cc, ldc, acc); break;                                 \
        case 4: mk(4, NV, K, a, lda, B, ldb, cc, ldc, acc); break;                                 \
        case 3: mk(3, NV, K, a, lda, B, ldb, cc, ldc, acc); break;                                 \
        case 2: mk(2, NV, K, a, lda, B, ldb, cc, ldc, acc); break;                                 \
        default: mk(1, NV, K, a, lda, B, ldb, cc, ldc, acc); break;                                \
        }                                                                                          \
    }

/* C[M][N] (+)= A[M][K] x B[K][N] with N a multiple of 16 up to 64; k runs in order. */
static void gemm_acc(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                     const float *B, int64_t ldb, float *C, int64_t ldc, int acc) {
    switch (N / 16) {
    case 4: MK_ROWS(4); break;
    case 3: MK_ROWS(3); break;
    case 2: MK_ROWS(2); break;
    default: MK_ROWS(1); break;
    }
}

static void wino_task(void *user, int64_t task, int32_t thread) {
    const wino_job *j = user;
    const rt_node *n = j->n;
    const rt_conv_params *q = n->params;
    const wino_state *s = n->kstate;
    int64_t tb = task % s->ntb;
    task /= s->ntb;
    int64_t mb = task % s->nmb, img = task / s->nmb;
    int64_t m0 = mb * MB, mcnt = q->M - m0 < MB ? q->M - m0 : MB;
    int64_t tb0 = tb * s->tpb, tbn = s->tiles - tb0 < s->tpb ? s->tiles - tb0 : s->tpb;
    int64_t tsmax = s->tpb < TS ? s->tpb : TS;
    float *U = (float *)(((uintptr_t)rt_scratch(j->x, thread) + 63) & ~(uintptr_t)63);
    float *V = U + NXI * q->C * s->mbp;
    float *X = V + NXI * tsmax * s->cp;
    const float *x = (const float *)n->in[0]->data + img * q->C * q->in_sp;
    float *y = (float *)n->out[0]->data + img * q->M * q->out_sp;
    const float *sum = n->sum ? (const float *)n->sum->data + img * q->M * q->out_sp : NULL;
    const float *w = (const float *)n->in[1]->data;
    if (s->cblocked) {
        int64_t mbc = rup16(mcnt);
        float *Vb = U + NXI * (q->C < CB ? q->C : CB) * s->mbp;
        float *Xb = Vb + NXI * tbn * s->cp;
        input_transform(q, s, x, tb0, tbn, Vb);
        for (int64_t c0 = 0; c0 < q->C; c0 += CB) {
            int64_t cn = q->C - c0 < CB ? q->C - c0 : CB;
            filter_transform(q, w, m0, mcnt, c0, cn, s->mbp, U);
            for (int xi = 0; xi < NXI; xi++)
                gemm_acc(tbn, mbc, cn, Vb + xi * tbn * s->cp + c0, s->cp, U + xi * cn * s->mbp,
                         s->mbp, Xb + xi * tbn * s->mbp, s->mbp, c0 > 0);
        }
        output_transform(n, s, Xb, tb0, tbn, m0, mcnt, y, sum);
        return;
    }
    filter_transform(q, w, m0, mcnt, 0, q->C, s->mbp, U);
    for (int64_t t0 = tb0; t0 < tb0 + tbn; t0 += tsmax) {
        int64_t ts = tb0 + tbn - t0 < tsmax ? tb0 + tbn - t0 : tsmax;
        input_transform(q, s, x, t0, ts, V);
        for (int xi = 0; xi < NXI; xi++)
            rt_sgemm_avx512(ts, mcnt, q->C, V + xi * ts * s->cp, s->cp,
                            U + xi * q->C * s->mbp, s->mbp, X + xi * ts * s->mbp, s->mbp, NULL);
        output_transform(n, s, X, t0, ts, m0, mcnt, y, sum);
    }
}

static void run_wino(const rt_node *n, const rt_ctx *x) {
    const rt_conv_params *q = n->params;
    const wino_state *s = n->kstate;
    wino_job j = {n, x};
    rt_parallel_for(x, q->N * s->nmb * s->ntb, wino_task, &j);
}

/* Above conv_avx512 (20) only where measured faster (tools/conv_bench, AVX-512 Zen 4, batch 1):
 *   3x3 64->64 at 56x56:    2.37 -> 0.91 ms (1 thread), 1.31 -> 0.47 ms (2 threads)
 *   3x3 128->128 at 28x28:  2.44 -> 0.92 ms,            1.50 -> 0.47 ms
 *   3x3 256->256 at 14x14:  2.55 -> 1.40 ms,            1.85 -> 0.76 ms
 *   3x3 512->512 at 7x7:    2.88 -> 2.84 ms,            1.55 -> 1.40 ms (not taken: the
 *                           per-call filter transform is as costly as the 4 tiles' GEMMs)
 * Elsewhere 2: never chosen over the im2col kernels, but still checked by the kernel tests. */
static int score_wino(const rt_node *n) {
    if (!wino_ok(n)) return 0;
    const rt_conv_params *q = n->params;
    return q->C >= 64 && q->M >= 64 && q->out_sp >= 196 ? 25 : 2;
}

const rt_kernel rt_k_conv_wino_avx512 = {"conv_wino_avx512", "Conv", AC_ISA_AVX512, score_wino,
                                         prepare_wino, run_wino};
