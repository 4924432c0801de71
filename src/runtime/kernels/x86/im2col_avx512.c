/* SPDX-License-Identifier: MIT */
/* Strided row copy for im2col, AVX-512: dst[i] = src[i * stride] for i < n.
 *
 * Why: stride-2 convolutions (stems, downsampling 3x3 and 1x1) spend much of their im2col in a
 * scalar strided loop. For stride 2, two loads of 16 floats and one two-source permute give 16
 * outputs; other strides use a gather. Reads never go past src[(n - 1) * stride]. */
#include "sgemm.h"

#include <immintrin.h>

void rt_copy_strided_avx512(float *dst, const float *src, int64_t n, int64_t stride) {
    int64_t i = 0;
    if (stride == 2) {
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24,
                                               26, 28, 30);
        /* the second load reads src[2 i + 16 .. 2 i + 31]; the last needed is src[2 i + 30] */
        for (; i + 16 <= n; i += 16) {
            __m512 lo = _mm512_loadu_ps(src + 2 * i);
            __m512 hi = _mm512_maskz_loadu_ps(0x7fff, src + 2 * i + 16);
            _mm512_storeu_ps(dst + i, _mm512_permutex2var_ps(lo, even, hi));
        }
        if (i < n) { /* r < 16 outputs need src[2 i .. 2 i + 2 r - 2]: 2 r - 1 floats */
            int64_t r = n - i, need = 2 * r - 1;
            __mmask16 mlo = (__mmask16)(need >= 16 ? 0xffff : (1u << need) - 1u);
            __mmask16 mhi = (__mmask16)(need > 16 ? (1u << (need - 16)) - 1u : 0u);
            __m512 lo = _mm512_maskz_loadu_ps(mlo, src + 2 * i);
            __m512 hi = _mm512_maskz_loadu_ps(mhi, src + 2 * i + 16);
            _mm512_mask_storeu_ps(dst + i, (__mmask16)((1u << r) - 1u),
                                  _mm512_permutex2var_ps(lo, even, hi));
        }
        return;
    }
    if (stride > 2 && stride <= (1 << 26)) {
        const __m512i idx = _mm512_mullo_epi32(
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32((int)stride));
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(dst + i, _mm512_i32gather_ps(idx, src + i * stride, 4));
        if (i < n) {
            __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
            _mm512_mask_storeu_ps(dst + i, m,
                                  _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx,
                                                           src + i * stride, 4));
        }
        return;
    }
    for (; i < n; i++) dst[i] = src[i * stride];
}
