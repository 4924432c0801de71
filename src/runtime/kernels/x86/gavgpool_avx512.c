/* SPDX-License-Identifier: MIT */
/* GlobalAveragePool, AVX-512F (see gavgpool.h). */
#include <immintrin.h>
#include <stdint.h>

#define V __m512
#define VL 16
#define VZERO() _mm512_setzero_ps()
#define VLOAD(p) _mm512_loadu_ps(p)
#define VADD(a, b) _mm512_add_ps(a, b)
/* the two halves added in float, then the 8 lanes in double */
static inline double gap_hsum(__m512 v) {
    __m256 f = _mm256_add_ps(_mm512_castps512_ps256(v),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m256d d = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(f)),
                              _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1)));
    __m128d q = _mm_add_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
    return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
}
#define VHSUM_D(v) gap_hsum(v)
#define GAP_SCORE 21

#include "gavgpool.h"

const rt_kernel rt_k_gavgpool_avx512 = {"gavgpool_avx512", "*",         AC_ISA_AVX512,
                                        gap_score,         gap_prepare, gap_run};
