/* SPDX-License-Identifier: MIT */
/* GlobalAveragePool, AVX2 (see gavgpool.h). */
#include <immintrin.h>
#include <stdint.h>

#define V __m256
#define VL 8
#define VZERO() _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VADD(a, b) _mm256_add_ps(a, b)
static inline double gap_hsum(__m256 v) {
    __m256d d = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                              _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    __m128d q = _mm_add_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
    return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
}
#define VHSUM_D(v) gap_hsum(v)
#define GAP_SCORE 20

#include "gavgpool.h"

const rt_kernel rt_k_gavgpool_avx2 = {"gavgpool_avx2", "*",         AC_ISA_AVX2,
                                      gap_score,       gap_prepare, gap_run};
