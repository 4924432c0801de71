/* SPDX-License-Identifier: MIT */
/* Depthwise 3x3 conv, AVX2 + FMA (see dwconv3x3.h). */
#include <immintrin.h>
#include <stdint.h>

#define V __m256
#define VL 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSET1(v) _mm256_set1_ps(v)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VMUL(a, b) _mm256_mul_ps(a, b)
#define VADD(a, b) _mm256_add_ps(a, b)
#define VMAX(a, b) _mm256_max_ps(a, b)
#define VMIN(a, b) _mm256_min_ps(a, b)

static inline __m256i dw_mask(int64_t cnt) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cnt), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define VLOAD_N(p, cnt) ((cnt) == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, dw_mask(cnt)))
#define VSTORE_N(p, v, cnt)                                                                        \
    do {                                                                                           \
        if ((cnt) == 8) _mm256_storeu_ps(p, v);                                                    \
        else _mm256_maskstore_ps(p, dw_mask(cnt), v);                                              \
    } while (0)

#define VM __m256i
static inline __m256i dw_range(int lo, int hi) {
    const __m256i i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lo), i),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), i));
}
#define VMASK(lo, hi) dw_range(lo, hi)
#define VLOAD_M(p, m) _mm256_maskload_ps(p, m)
#define VMAND(a, b) _mm256_and_si256(a, b)
#define VI __m256i
#define VI_SET1(v) _mm256_set1_epi32(v)
#define VI_IOTA() _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)
#define VI_ADD(a, b) _mm256_add_epi32(a, b)
#define VI_GE(a, b) _mm256_xor_si256(_mm256_cmpgt_epi32(b, a), _mm256_set1_epi32(-1))
#define VI_LT(a, b) _mm256_cmpgt_epi32(b, a)
/* lanes >= W lose W */
#define VI_WRAP(c, wv) _mm256_sub_epi32(c, _mm256_andnot_si256(_mm256_cmpgt_epi32(wv, c), wv))
/* lanes whose column is in [lo, hi) */
#define VM_COLS(c, lo, hi)                                                                         \
    _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lo), c),                              \
                        _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), c))
/* lanes outside m add 0 (the tap is skipped) */
#define VFMA_M(a, b, acc, m) _mm256_fmadd_ps(_mm256_and_ps(a, _mm256_castsi256_ps(m)), b, acc)
#define VMUL_M(a, b, m) _mm256_mul_ps(_mm256_and_ps(a, _mm256_castsi256_ps(m)), b)
/* a = x0..x7, b = x8..x15: shuffle gives x0 x2 x8 x10 | x4 x6 x12 x14, the 64-bit permute puts
 * the pairs in order */
#define VEVEN(a, b)                                                                                \
    _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8))
#define VODD(a, b)                                                                                 \
    _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8))
#define VEVEN_Z(a, b, m) _mm256_and_ps(VEVEN(a, b), _mm256_castsi256_ps(m))
#define VODD_Z(a, b, m) _mm256_and_ps(VODD(a, b), _mm256_castsi256_ps(m))
/* lane i = cur[i - 1], lane 0 = prev[7]; lane i = cur[i + 1], lane 7 = next[7] (next is a
 * broadcast) */
#define VUP1(cur, prev)                                                                            \
    _mm256_blend_ps(_mm256_permutevar8x32_ps(cur, _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6)),      \
                    _mm256_permutevar8x32_ps(prev, _mm256_set1_epi32(7)), 0x01)
#define VDOWN1(cur, next)                                                                          \
    _mm256_blend_ps(_mm256_permutevar8x32_ps(cur, _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0)),      \
                    next, 0x80)

#include "dwconv3x3.h"

static int score(const rt_node *n) { return rt_dw3x3_ok(n) ? 20 : 0; }

const rt_kernel rt_k_dwconv3x3_avx2 = {"dwconv3x3_avx2", "Conv", AC_ISA_AVX2, score, dw_prepare,
                                       dw_run};
