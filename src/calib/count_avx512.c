/* SPDX-License-Identifier: MIT */
/* AVX-512 counting kernels, built with AVX-512 flags (src/calib/CMakeLists.txt) and called only
 * when the CPU and OS have them (collector.c).
 *
 * The generic loop costs one memory increment per element. After a ReLU or Clip(0, c) about
 * half the values are exactly 0: they all land in bin 0, so the non-negative kernel counts
 * them as the remainder, and only the other bin indices are compressed into a buffer and
 * incremented one by one. Every count is the same integer the generic loop produces: bin
 * indices are the same truncations of the same exact products, and counts are added, never
 * estimated. */
#include "calib_internal.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

#define BLOCK 512 /* indices compressed per block before they are counted */

/* Per 16 values: nine vector operations. The extremes are integer min/max of the bit patterns,
 * which order non-negative floats as numbers and put anything with a sign bit below 0; no abs
 * is taken because a batch with a sign bit is either -0.0 (bin 0 either way: -0.0 * fa
 * truncates to 0) or invalid for this kernel. */
float ac_calib_count_nonneg_avx512(const float *xs, int64_t m, float fa, uint32_t *sa,
                                   int32_t nbins, ac_calib_sspec *spec) {
    uint32_t *sa1 = sa + nbins, *sa2 = sa1 + nbins, *sa3 = sa2 + nbins;
    const __m512 vfa = _mm512_set1_ps(fa);
    const __m512i vlast = _mm512_set1_epi32(nbins - 1);
    __m512i kmax = _mm512_set1_epi32(INT32_MIN), kmin = _mm512_set1_epi32(INT32_MAX);
    uint32_t n_rest = 0; /* m < 2^32 */
    int32_t idx[BLOCK + 16];
    for (int64_t e = 0; e < m; e += BLOCK) {
        int64_t mb = m - e < BLOCK ? m - e : BLOCK;
        const float *x = xs + e;
        int32_t n = 0;
        for (int64_t i = 0; i < mb; i += 16) {
            __mmask16 live = mb - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (mb - i)) - 1);
            __m512i raw = _mm512_maskz_loadu_epi32(live, x + i);
            kmax = _mm512_mask_max_epi32(kmax, live, kmax, raw);
            kmin = _mm512_mask_min_epi32(kmin, live, kmin, raw);
            /* clamped so that a value that does not fit (only when the caller speculates)
             * cannot count outside the copies; negative products and NaN (0x80000000) are
             * clamped too */
            __m512i b = _mm512_min_epu32(
                _mm512_cvttps_epi32(_mm512_mul_ps(_mm512_castsi512_ps(raw), vfa)), vlast);
            __mmask16 nz = _mm512_test_epi32_mask(b, b); /* dead lanes are 0 */
            /* register-form compress + plain store: the memory form is slow on some cores */
            _mm512_storeu_si512(idx + n, _mm512_maskz_compress_epi32(nz, b));
            n += __builtin_popcount(nz);
        }
        n_rest += (uint32_t)n;
        /* four counter copies so increments of one bin do not wait on each other */
        int32_t k = 0;
        for (; k + 3 < n; k += 4) {
            sa[idx[k]]++;
            sa1[idx[k + 1]]++;
            sa2[idx[k + 2]]++;
            sa3[idx[k + 3]]++;
        }
        for (; k < n; k++)
            sa[idx[k]]++;
    }
    sa[0] += (uint32_t)m - n_rest; /* bin 0: everything not counted elsewhere */
    int32_t hi = _mm512_reduce_max_epi32(kmax);
    if (spec) {
        int32_t lo = _mm512_reduce_min_epi32(kmin);
        if (lo < spec->kmin) spec->kmin = lo;
        if (hi > spec->kmax) spec->kmax = hi;
    }
    if (hi < 0) hi = 0; /* every value -0.0 */
    float f;
    __builtin_memcpy(&f, &hi, sizeof f);
    return f;
}

float ac_calib_count_signed_avx512(const float *xs, int64_t m, float fa, int32_t nbins,
                                   uint32_t *f, ac_calib_sspec *spec) {
    const __m512 vfa = _mm512_set1_ps(fa);
    const __m512i absmask = _mm512_set1_epi32(0x7fffffff), vn = _mm512_set1_epi32(nbins);
    const __m512i vlast = _mm512_set1_epi32(nbins - 1);
    __m512i vmax = _mm512_setzero_si512();
    /* order-preserving keys (bits, magnitude flipped when negative): their min and max are the
     * batch's extremes; only kept with spec */
    __m512i kmin = _mm512_set1_epi32(INT32_MAX), kmax = _mm512_set1_epi32(INT32_MIN);
    int32_t idx[BLOCK + 16];
    for (int64_t e = 0; e < m; e += BLOCK) {
        int64_t mb = m - e < BLOCK ? m - e : BLOCK;
        const float *x = xs + e;
        for (int64_t i = 0; i < mb; i += 16) {
            __mmask16 live = mb - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (mb - i)) - 1);
            __m512i raw = _mm512_maskz_loadu_epi32(live, x + i);
            __m512i u = _mm512_and_si512(raw, absmask);
            vmax = _mm512_max_epu32(vmax, u);
            if (spec) {
                __m512i key = _mm512_xor_si512(
                    raw, _mm512_and_si512(_mm512_srai_epi32(raw, 31), absmask));
                kmin = _mm512_mask_min_epi32(kmin, live, kmin, key);
                kmax = _mm512_mask_max_epi32(kmax, live, kmax, key);
            }
            __m512 q = _mm512_mul_ps(_mm512_castsi512_ps(u), vfa);
            /* clamped: when the caller speculates a value may not fit (or be NaN, which converts
             * to 0x80000000); otherwise a no-op */
            __m512i a = _mm512_min_epu32(_mm512_cvttps_epi32(q), vlast);
            /* negative: sign set and not -0.0 (that is x >= 0 for the signed histogram) */
            __mmask16 neg = _mm512_cmpgt_epu32_mask(raw, _mm512_set1_epi32((int)0x80000000u));
            /* exactly on an edge (a != 0: a value inside bin 0 whose product underflowed) */
            __mmask16 exact = _mm512_mask_cmp_ps_mask(_mm512_test_epi32_mask(a, a), q,
                                                      _mm512_cvtepi32_ps(a), _CMP_EQ_OQ);
            a = _mm512_mask_add_epi32(a, neg, a, vn);
            a = _mm512_mask_add_epi32(a, (__mmask16)(neg & exact), a, vn);
            _mm512_storeu_si512(idx + i, a);
        }
        int32_t k = 0, n = (int32_t)mb;
        uint32_t *g = f + 3 * (size_t)nbins; /* second copy of the three rows */
        for (; k + 1 < n; k += 2) {
            f[idx[k]]++;
            g[idx[k + 1]]++;
        }
        if (k < n) f[idx[k]]++;
    }
    if (spec) {
        int32_t lo = _mm512_reduce_min_epi32(kmin), hi = _mm512_reduce_max_epi32(kmax);
        if (lo < spec->kmin) spec->kmin = lo;
        if (hi > spec->kmax) spec->kmax = hi;
    }
    uint32_t mx = _mm512_reduce_max_epu32(vmax);
    float r;
    __builtin_memcpy(&r, &mx, sizeof r);
    return r;
}

/* Adds the low and high halves of 16 u32 counts to ha[0..16) as u64. */
static inline void add_u64x16(uint64_t *ha, __m512i v) {
    __m512i lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(v));
    __m512i hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(v, 1));
    _mm512_storeu_si512(ha, _mm512_add_epi64(_mm512_loadu_si512(ha), lo));
    _mm512_storeu_si512(ha + 8, _mm512_add_epi64(_mm512_loadu_si512(ha + 8), hi));
}

/* Sums of adjacent lanes (2g, 2g + 1) of 16 u32 as 8 u64. */
static inline __m512i pair_sums(__m512i v) {
    __m512i s = _mm512_add_epi32(v, _mm512_srli_epi64(v, 32));
    return _mm512_and_si512(s, _mm512_set1_epi64(0xffffffff));
}

void ac_calib_fold_nonneg_k1_avx512(uint64_t *ha, uint64_t *hs, uint32_t *c, int32_t nbins,
                                    int32_t n) {
    uint32_t *c1 = c + nbins, *c2 = c1 + nbins, *c3 = c2 + nbins;
    int32_t a = 0;
    for (; a + 16 <= n; a += 16) {
        __m512i v = _mm512_add_epi32(
            _mm512_add_epi32(_mm512_loadu_si512(c + a), _mm512_loadu_si512(c1 + a)),
            _mm512_add_epi32(_mm512_loadu_si512(c2 + a), _mm512_loadu_si512(c3 + a)));
        _mm512_storeu_si512(c + a, _mm512_setzero_si512());
        _mm512_storeu_si512(c1 + a, _mm512_setzero_si512());
        _mm512_storeu_si512(c2 + a, _mm512_setzero_si512());
        _mm512_storeu_si512(c3 + a, _mm512_setzero_si512());
        add_u64x16(ha + a, v);
        uint64_t *h = hs + a / 2;
        _mm512_storeu_si512(h, _mm512_add_epi64(_mm512_loadu_si512(h), pair_sums(v)));
    }
    for (; a < n; a++) {
        uint64_t cnt = (uint64_t)c[a] + c1[a] + c2[a] + c3[a];
        c[a] = c1[a] = c2[a] = c3[a] = 0;
        ha[a] += cnt;
        hs[a >> 1] += cnt;
    }
}

void ac_calib_fold_signed_k1_avx512(uint64_t *ha, uint64_t *hs, uint32_t *c, int32_t nbins,
                                    int32_t n) {
    uint32_t *p0 = c, *q0 = c + nbins, *x0 = c + 2 * (size_t)nbins;
    uint32_t *p1 = c + 3 * (size_t)nbins, *q1 = c + 4 * (size_t)nbins, *x1 = c + 5 * (size_t)nbins;
    const __m512i rev = _mm512_set_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    hs[0] += (uint64_t)x0[0] + x1[0];
    int32_t a = 0;
    /* vectors of 16 bins (8 signed bins); x is also read at a + 2 .. a + 17, before the next
     * iteration zeroes it, and must stay inside its row */
    for (; a + 16 <= n && a + 18 <= nbins; a += 16) {
        __m512i P = _mm512_add_epi32(_mm512_loadu_si512(p0 + a), _mm512_loadu_si512(p1 + a));
        __m512i Q = _mm512_add_epi32(_mm512_loadu_si512(q0 + a), _mm512_loadu_si512(q1 + a));
        __m512i X = _mm512_add_epi32(_mm512_loadu_si512(x0 + a), _mm512_loadu_si512(x1 + a));
        __m512i Xn =
            _mm512_add_epi32(_mm512_loadu_si512(x0 + a + 2), _mm512_loadu_si512(x1 + a + 2));
        _mm512_storeu_si512(p0 + a, _mm512_setzero_si512());
        _mm512_storeu_si512(p1 + a, _mm512_setzero_si512());
        _mm512_storeu_si512(q0 + a, _mm512_setzero_si512());
        _mm512_storeu_si512(q1 + a, _mm512_setzero_si512());
        _mm512_storeu_si512(x0 + a, _mm512_setzero_si512());
        _mm512_storeu_si512(x1 + a, _mm512_setzero_si512());
        add_u64x16(ha + a, _mm512_add_epi32(_mm512_add_epi32(P, Q), X));
        uint64_t *h = hs + a / 2;
        _mm512_storeu_si512(h, _mm512_add_epi64(_mm512_loadu_si512(h), pair_sums(P)));
        /* signed bin -(g + 1) gets q[2g] + q[2g + 1] + x[2g + 1] + x[2g + 2]: the odd lanes of
         * X and the even lanes of Xn */
        const __m512i odd = _mm512_set1_epi64((long long)0xffffffff00000000ull);
        __m512i xo = _mm512_srli_epi64(_mm512_and_si512(X, odd), 32);
        __m512i xe = _mm512_and_si512(Xn, _mm512_set1_epi64(0xffffffff));
        __m512i neg = _mm512_add_epi64(_mm512_add_epi64(pair_sums(Q), xo), xe);
        /* lanes g .. g + 7 go to hs[-(g + 1)] .. hs[-(g + 8)]: reversed, stored at hs - g - 8 */
        uint64_t *hn = hs - a / 2 - 8;
        _mm512_storeu_si512(hn, _mm512_add_epi64(_mm512_loadu_si512(hn),
                                                 _mm512_permutexvar_epi64(rev, neg)));
    }
    int32_t ng = (n + 1) / 2;
    for (int32_t g = a / 2; g < ng; g++) {
        int32_t e = 2 * g, f = e + 1;
        uint64_t pa = (uint64_t)p0[e] + p1[e], pb = (uint64_t)p0[f] + p1[f];
        uint64_t qa = (uint64_t)q0[e] + q1[e], qb = (uint64_t)q0[f] + q1[f];
        uint64_t xa = (uint64_t)x0[e] + x1[e], xb = (uint64_t)x0[f] + x1[f];
        uint64_t xn = g + 1 < ng ? (uint64_t)x0[e + 2] + x1[e + 2] : 0;
        p0[e] = p1[e] = p0[f] = p1[f] = q0[e] = q1[e] = q0[f] = q1[f] = 0;
        x0[e] = x1[e] = x0[f] = x1[f] = 0;
        ha[e] += pa + qa + xa;
        ha[f] += pb + qb + xb;
        hs[g] += pa + pb;
        hs[-(g + 1)] += qa + qb + xb + xn;
    }
}

int ac_calib_have_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
}
#else
float ac_calib_count_nonneg_avx512(const float *xs, int64_t m, float fa, uint32_t *sa,
                                   int32_t nbins, ac_calib_sspec *spec) {
    (void)xs, (void)m, (void)fa, (void)sa, (void)nbins, (void)spec;
    return 0.0f;
}
float ac_calib_count_signed_avx512(const float *xs, int64_t m, float fa, int32_t nbins,
                                   uint32_t *f, ac_calib_sspec *spec) {
    (void)xs, (void)m, (void)fa, (void)nbins, (void)f, (void)spec;
    return 0.0f;
}
void ac_calib_fold_nonneg_k1_avx512(uint64_t *ha, uint64_t *hs, uint32_t *c, int32_t nbins,
                                    int32_t n) {
    (void)ha, (void)hs, (void)c, (void)nbins, (void)n;
}
void ac_calib_fold_signed_k1_avx512(uint64_t *ha, uint64_t *hs, uint32_t *c, int32_t nbins,
                                    int32_t n) {
    (void)ha, (void)hs, (void)c, (void)nbins, (void)n;
}
int ac_calib_have_avx512(void) { return 0; }
#endif
