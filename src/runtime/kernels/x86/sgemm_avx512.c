/* SPDX-License-Identifier: MIT */
/* AVX-512 single-precision GEMM for convolutions: C[M,N] (+)= A[M,K] x B[K,N], row-major, with
 * the conv epilogue (bias per row, residual, activation) fused into the last pass.
 *
 * Why not OpenBLAS here: OpenBLAS packs A (the conv weights) on every call. For the late,
 * small-spatial layers of a CNN (N = 49 or 196 output pixels, K up to 4608) that packing costs
 * as much as the arithmetic. This kernel reads A in place instead: a micro-tile of MR = 8 rows
 * broadcasts one weight per row per k from 8 sequential streams (which the prefetchers follow),
 * and B (an im2col tile, or the input itself for 1x1 convs) is read 48 columns at a time.
 * Nothing is packed, so nothing is allocated and weights are never duplicated.
 *
 * Blocking: K in blocks of KC; a B panel (KC x 48-64 floats, 48-64 KB) stays in L1/L2 while
 * all row blocks of A pass over it, and the A block (M x KC) stays in L2 across panels. KC =
 * 256 rather than 128 (an L1-sized panel): ResNet-50 at 1 thread 72.3 -> 70.5 ms (one binary,
 * KC switched by an environment variable, 8 alternations, every pair the same way; 384 gave
 * 71.0), MobileNetV2 unchanged. C is accumulated in registers within a K block and in memory
 * across blocks; the epilogue runs on the last block while the tile is still in registers.
 *
 * Ragged widths: when N is a few columns past a multiple of 16 (N = 49 in the 7x7 layers, 196
 * in the 14x14 ones), a register of lanes for 1-4 columns would cost as much as a full one (N =
 * 49 ran at 75% of the speed of N = 48). Those tail columns are instead computed per K block as
 * dot products vectorised over k (tail_cols), band by band right after the panels, with the
 * band's weight rows still in cache.
 *
 * Every C element is computed with the same k order whatever the tiling by the caller (rows are
 * independent; the split of columns into panels and tail depends on N alone), so results do
 * not depend on the thread count. */
#include "sgemm.h"

#include <immintrin.h>

#define KC 256
#define KC_MAX 1024 /* K block for a single narrow panel (see rt_sgemm_avx512) */
#define MAX_NV 4 /* zmm registers per tile row: panels of up to 64 columns */

static inline __m512 act512(const rt_act *a, __m512 v) {
    switch (a->kind) {
    case RT_ACT_RELU:
        return _mm512_max_ps(v, _mm512_setzero_ps());
    case RT_ACT_CLIP:
        return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(a->alpha)), _mm512_set1_ps(a->beta));
    default:
        return v;
    }
}

/* Rows per tile for nv registers per row: at most 24 accumulators (the rest of the 32 zmm
 * registers hold the B row and the broadcast weight) and at most 8 rows, since each row is a
 * separate weight stream whose address must stay in a general register. */
static inline int rows_for(int nv) { return nv == 4 ? 6 : 8; }

/* One tile of mr rows x (nv x 16) columns (the last register masked by `mlast`). Inlined
 * with constant mr and nv so the loops unroll and the accumulators stay in registers.
 * Every other k it prefetches one line of the next tile's weights (pf_rows rows from pf, the
 * same K block): a tile's rows are read as 6-8 interleaved streams that the hardware
 * prefetchers pick up only after some misses, and in the small-spatial layers each weight is
 * used by one tile only, straight from memory (MobileNetV2's 14x14 and 7x7 1x1s 5-15% faster
 * in the model, ResNet-50's layer4 3%; no layer measurably slower). */
static inline __attribute__((always_inline)) void
tile(const int mr, const int nv, int64_t kc, const float *A, int64_t lda, const float *B,
     int64_t ldb, float *C, int64_t ldc, __mmask16 mlast, int first, int last,
     const rt_gemm_epi *ep, int64_t row0, int64_t col0, const float *pf, int64_t pf_rows) {
    __m512 c[8][MAX_NV];
    int64_t pf_col = 0;
    __mmask16 mk[MAX_NV];
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) mk[v] = v == nv - 1 ? mlast : (__mmask16)0xffff;
#pragma GCC unroll 8
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            c[i][v] = first ? _mm512_setzero_ps()
                            : _mm512_maskz_loadu_ps(mk[v], C + i * ldc + 16 * v);
    for (int64_t k = 0; k < kc; k++) {
        if (pf_rows && !(k & 1)) {
            _mm_prefetch((const char *)(pf + pf_col), _MM_HINT_T0);
            if ((pf_col += 16) >= kc) {
                pf_col = 0;
                pf += lda;
                pf_rows--;
            }
        }
        const float *b = B + k * ldb;
        __m512 bv[MAX_NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) bv[v] = _mm512_maskz_loadu_ps(mk[v], b + 16 * v);
#pragma GCC unroll 8
        for (int i = 0; i < mr; i++) {
            __m512 a = _mm512_set1_ps(A[i * lda + k]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) c[i][v] = _mm512_fmadd_ps(a, bv[v], c[i][v]);
        }
    }
    int simple = 1;
    if (last) {
        simple = ep->act == NULL || ep->act->kind == RT_ACT_NONE ||
                 ep->act->kind == RT_ACT_RELU || ep->act->kind == RT_ACT_CLIP;
#pragma GCC unroll 8
        for (int i = 0; i < mr; i++) {
            const float *s = ep->sum ? ep->sum + (row0 + i) * ep->lds + col0 : NULL;
            __m512 bias = _mm512_set1_ps(ep->bias ? ep->bias[row0 + i] : 0.0f);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) {
                c[i][v] = _mm512_add_ps(c[i][v], bias);
                if (s) c[i][v] = _mm512_add_ps(c[i][v], _mm512_maskz_loadu_ps(mk[v], s + 16 * v));
                if (simple && ep->act) c[i][v] = act512(ep->act, c[i][v]);
            }
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < mr; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) _mm512_mask_storeu_ps(C + i * ldc + 16 * v, mk[v], c[i][v]);
        /* rare activations (sigmoid, tanh, ...) use the shared scalar code after the store */
        if (!simple) rt_act_apply(ep->act, C + i * ldc, 16 * (nv - 1) + __builtin_popcount(mlast));
    }
}

/* All row tiles of one panel. The switch turns mr into a constant for each inlined copy. */
#define TILE(MR, NV) tile(MR, NV, kc, a, lda, b, ldb, cc, ldc, ml, first, last, ep, i0, n0, pf, pfr)
#define ROWS(NV)                                                                                   \
    do {                                                                                           \
        const int R = rows_for(NV);                                                                \
        for (int64_t i0 = 0; i0 < M; i0 += R) {                                                    \
            const float *a = A + i0 * lda + k0;                                                    \
            float *cc = C + i0 * ldc + n0;                                                         \
            int64_t mr = M - i0 < R ? M - i0 : R;                                                  \
            int64_t pfr = M - i0 - R < 0 ? 0 : M - i0 - R < R ? M - i0 - R : R;                   \
            const float *pf = pfr ? a + R * lda : a; /* the next tile's weights, pfr rows */      \
            switch (mr) {                                                                          \
            case 8: TILE(8, NV); break;                                                            \
            case 7: TILE(7, NV); break;                                                            \
            case 6: TILE(6, NV); break;                                                            \
            case 5: TILE(5, NV); break;                                                            \
            case 4: TILE(4, NV); break;                                                            \
            case 3: TILE(3, NV); break;                                                            \
            case 2: TILE(2, NV); break;                                                            \
            default: TILE(1, NV); break;                                                           \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Every panel of up to 64 columns for rows [0, M) and one K block. */
static void panels(int64_t M, int64_t N, int64_t kc, int64_t k0, const float *A, int64_t lda,
                   const float *B, int64_t ldb, float *C, int64_t ldc, int first, int last,
                   const rt_gemm_epi *ep) {
    /* Panels of 64 columns (tiles of 6 rows) or, when M is a multiple of 8 but not of 6
     * (M = 16, 32, 64, 128, ...), of 48 columns (tiles of 8 rows), so no tile is left with a
     * few rows (M = 32 in 6-row tiles ends with a 2-row tile at a third of the speed). The
     * last panel is only as wide (in registers) as it needs. */
    const int64_t pw = M % 6 != 0 && M % 8 == 0 ? 48 : 16 * MAX_NV;
    for (int64_t n0 = 0; n0 < N; n0 += pw) {
        int64_t nr = N - n0 < pw ? N - n0 : pw;
        int nv = (int)((nr + 15) / 16);
        int64_t rem = nr - 16 * (nv - 1);
        __mmask16 ml = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
        const float *b = B + k0 * ldb + n0;
        switch (nv) {
        case 4: ROWS(4); break;
        case 3: ROWS(3); break;
        case 2: ROWS(2); break;
        default: ROWS(1); break;
        }
    }
}

/* The sums of 16 vectors: lane p holds the sum of the lanes of v[p]. Folded pairwise by a fixed
 * tree (within 128-bit chunks, then across them), so the order of additions is fixed. */
static inline __m512 fold16(const __m512 v[16]) {
    __m512 s[8], t[4], x[2];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        s[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]),
                             _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(s[2 * i]), b = _mm512_castps_pd(s[2 * i + 1]);
        t[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)),
                             _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
    }
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++)
        x[i] = _mm512_add_ps(_mm512_shuffle_f32x4(t[2 * i], t[2 * i + 1], 0x44),
                             _mm512_shuffle_f32x4(t[2 * i], t[2 * i + 1], 0xEE));
    return _mm512_add_ps(_mm512_shuffle_f32x4(x[0], x[1], 0x88),
                         _mm512_shuffle_f32x4(x[0], x[1], 0xDD));
}

/* Tail tile: mr rows x nt columns (mr <= 8, mr * nt <= 16) of dot products over kc values of k, from A
 * rows and the gathered tail columns bt[j * KC_MAX + k]. Rows past `rows` repeat row 0 and are
 * dropped, so a kept sum is folded exactly as in a full tile. */
static inline __attribute__((always_inline)) void
tail_tile(const int mr, const int nt, int rows, int64_t kc, const float *A, int64_t lda,
          const float *bt, float *C, int64_t ldc, int first, int last, const rt_gemm_epi *ep,
          int64_t row0, int64_t col0) {
    __m512 acc[16];
    const float *a[8];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int i = 0; i < mr; i++) a[i] = A + (i < rows ? i : 0) * lda;
    /* plain loads in the loop (masked loads are about twice as slow on Zen 4), the remainder
     * of fewer than 16 k with masks; the masked-off lanes are zeros, so the sums are those of
     * the same products */
    int64_t k = 0;
    for (; k + 16 <= kc; k += 16) {
        __m512 b[4];
#pragma GCC unroll 4
        for (int j = 0; j < nt; j++) b[j] = _mm512_loadu_ps(bt + j * KC_MAX + k);
#pragma GCC unroll 8
        for (int i = 0; i < mr; i++) {
            __m512 av = _mm512_loadu_ps(a[i] + k);
#pragma GCC unroll 4
            for (int j = 0; j < nt; j++) acc[i * nt + j] = _mm512_fmadd_ps(av, b[j], acc[i * nt + j]);
        }
    }
    if (k < kc) {
        __mmask16 m = (__mmask16)((1u << (kc - k)) - 1u);
        __m512 b[4];
        for (int j = 0; j < nt; j++) b[j] = _mm512_maskz_loadu_ps(m, bt + j * KC_MAX + k);
        for (int i = 0; i < mr; i++) {
            __m512 av = _mm512_maskz_loadu_ps(m, a[i] + k);
            for (int j = 0; j < nt; j++) acc[i * nt + j] = _mm512_fmadd_ps(av, b[j], acc[i * nt + j]);
        }
    }
    /* Lane p = i * nt + j of the folded sums is C[i, j]: the epilogue runs on that vector,
     * reading and writing C by gather/scatter (a per-element loop cost more than the dot
     * products themselves when K is small). */
    __m512 r = fold16(acc);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i vnt = _mm512_set1_epi32(nt);
    /* i = p / nt and j = p % nt for nt <= 4, without integer division */
    __m512i vi = nt == 1 ? lane : nt == 2 ? _mm512_srli_epi32(lane, 1) : nt == 4 ? _mm512_srli_epi32(lane, 2)
               : _mm512_srli_epi32(_mm512_mullo_epi32(lane, _mm512_set1_epi32(11)), 5); /* p / 3, p < 16 */
    __m512i vj = _mm512_sub_epi32(lane, _mm512_mullo_epi32(vi, vnt));
    __mmask16 mask = (__mmask16)((1u << (rows * nt)) - 1u);
    __m512i ic = _mm512_add_epi32(_mm512_mullo_epi32(vi, _mm512_set1_epi32((int)ldc)), vj);
    if (!first) r = _mm512_add_ps(r, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, ic, C, 4));
    int simple = 1;
    if (last) {
        if (ep->bias) {
            __m512 b = _mm512_maskz_loadu_ps((__mmask16)((1u << rows) - 1u), ep->bias + row0);
            r = _mm512_add_ps(r, _mm512_permutexvar_ps(vi, b));
        }
        if (ep->sum) {
            __m512i is = _mm512_add_epi32(_mm512_mullo_epi32(vi, _mm512_set1_epi32((int)ep->lds)), vj);
            r = _mm512_add_ps(r, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, is,
                                                          ep->sum + row0 * ep->lds + col0, 4));
        }
        simple = ep->act == NULL || ep->act->kind == RT_ACT_NONE ||
                 ep->act->kind == RT_ACT_RELU || ep->act->kind == RT_ACT_CLIP;
        if (simple && ep->act) r = act512(ep->act, r);
    }
    _mm512_mask_i32scatter_ps(C, mask, ic, r, 4);
    if (!simple)
        for (int i = 0; i < rows; i++) rt_act_apply(ep->act, C + i * ldc, nt);
}

/* Columns [n0, n0 + nt) (nt <= 4) of one K block, every row. */
/* The tail columns [n0, n0 + nt) of B's rows [k0, k0 + kc) as contiguous runs: bt[j * KC_MAX
 * + k] (gathered once per K block, read by every row band). */
static void tail_gather(int nt, int64_t kc, int64_t k0, const float *B, int64_t ldb, int64_t n0,
                        float *bt) {
    for (int j = 0; j < nt; j++)
        for (int64_t k = 0; k < kc; k++) bt[j * KC_MAX + k] = B[(k0 + k) * ldb + n0 + j];
}

static void tail_cols(int64_t M, int nt, int64_t kc, int64_t k0, const float *A, int64_t lda,
                      const float *bt, float *C, int64_t ldc, int first, int last,
                      const rt_gemm_epi *ep, int64_t n0) {
    const int R = nt <= 2 ? 8 : nt == 3 ? 5 : 4; /* at most 8 weight rows: their pointers stay in registers */
    for (int64_t i0 = 0; i0 < M; i0 += R) {
        int rows = M - i0 < R ? (int)(M - i0) : R;
        const float *a = A + i0 * lda + k0;
        float *c = C + i0 * ldc + n0;
        switch (nt) {
        case 1: tail_tile(8, 1, rows, kc, a, lda, bt, c, ldc, first, last, ep, i0, n0); break;
        case 2: tail_tile(8, 2, rows, kc, a, lda, bt, c, ldc, first, last, ep, i0, n0); break;
        case 3: tail_tile(5, 3, rows, kc, a, lda, bt, c, ldc, first, last, ep, i0, n0); break;
        default: tail_tile(4, 4, rows, kc, a, lda, bt, c, ldc, first, last, ep, i0, n0); break;
        }
    }
}

void rt_sgemm_avx512(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                     const float *B, int64_t ldb, float *C, int64_t ldc, const rt_gemm_epi *ep) {
    rt_gemm_epi none = {0};
    if (!ep) ep = &none;
    if (K == 0) {
        /* no products: C is the epilogue of zero */
        for (int64_t i = 0; i < M; i++) {
            for (int64_t j = 0; j < N; j++) {
                float v = ep->bias ? ep->bias[i] : 0.0f;
                if (ep->sum) v += ep->sum[i * ep->lds + j];
                C[i * ldc + j] = ep->act ? rt_act_scalar(ep->act, v) : v;
            }
        }
        return;
    }
    /* 1-4 columns past a multiple of 16 go to tail_cols (see the header comment) */
    int nt = N > 16 && N % 16 <= 4 ? (int)(N % 16) : 0;
    if (ldc > (1 << 26) || (ep->sum && ep->lds > (1 << 26))) nt = 0; /* 32-bit gather offsets */
    int64_t Nv = N - nt;
    /* One narrow panel (N <= 64, the 7x7 layers): nothing to keep in L1 across panels, so K is
     * cut into few, even blocks (<= KC_MAX). Each weight row is then read in long sequential
     * runs rather than 512-byte pieces of every row per block, which the prefetchers follow
     * better when the weights come from memory (4-7% on 7x7 layers, cold caches). */
    int64_t kcb = KC;
    if (Nv <= 64 && K > KC) {
        int64_t nb = (K + KC_MAX - 1) / KC_MAX;
        kcb = ((K + nb - 1) / nb + 15) / 16 * 16;
    }
    float bt[4 * KC_MAX] __attribute__((aligned(64))); /* the tail columns of a K block */
    for (int64_t k0 = 0; k0 < K; k0 += kcb) {
        int64_t kc = K - k0 < kcb ? K - k0 : kcb;
        int first = k0 == 0, last = k0 + kc == K;
        if (nt) tail_gather(nt, kc, k0, B, ldb, Nv, bt);
        /* Loop order: with a small B block (few k, as in 1x1 convs on few channels) walk all
         * columns for one row band at a time, so each output row is written as one stream;
         * otherwise keep a B panel in L1 while every row band passes over it. Tail columns
         * are done band by band beside the panels, so the band's weight rows come from
         * memory once, not once for the tail and again for the panels (MobileNetV2's last
         * 1x1, 1.6 MB of weights: 0.49-0.52 -> 0.44-0.46 ms in the model). */
        int rows_outer = kc * Nv * (int64_t)sizeof(float) <= (256 << 10);
        /* Bands of 64 rows (8-row tiles; 6-row ones leave one of 4): fewer passes over B than
         * the 24 used before, which cost 2-5% of whole models (one binary, bands switched by
         * an environment variable, 6-8 alternations: MobileNetV2 at 1 thread 7.50 -> 7.17 ms
         * median of medians, ResNet-50 73.6 -> 71.5; 40 and 128 did about as well as 64, 16,
         * 24 and 36 worse). 120 is a multiple of every tile height, tails' (5, 4) too. */
        int64_t band = rows_outer ? 64 : nt ? 120 : M;
        for (int64_t b0 = 0; b0 < M; b0 += band) {
            int64_t bm = M - b0 < band ? M - b0 : band;
            const float *Ab = A + b0 * lda;
            float *Cb = C + b0 * ldc;
            rt_gemm_epi epb = *ep;
            if (epb.bias) epb.bias += b0;
            if (epb.sum) epb.sum += b0 * epb.lds;
            panels(bm, Nv, kc, k0, Ab, lda, B, ldb, Cb, ldc, first, last, &epb);
            if (nt) tail_cols(bm, nt, kc, k0, Ab, lda, bt, Cb, ldc, first, last, &epb, Nv);
        }
    }
}
