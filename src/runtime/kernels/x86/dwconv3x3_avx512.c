/* SPDX-License-Identifier: MIT */
/* Depthwise 3x3 conv, AVX-512F (see dwconv3x3.h). */
#include <immintrin.h>
#include <stdint.h>

#define V __m512
#define VL 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSET1(v) _mm512_set1_ps(v)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VMUL(a, b) _mm512_mul_ps(a, b)
#define VADD(a, b) _mm512_add_ps(a, b)
#define VMAX(a, b) _mm512_max_ps(a, b)
#define VMIN(a, b) _mm512_min_ps(a, b)
/* masked loads and stores are slow on Zen 4: only for partial vectors */
#define VLOAD_N(p, cnt)                                                                            \
    ((cnt) == 16 ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps((__mmask16)((1u << (cnt)) - 1u), p))
#define VSTORE_N(p, v, cnt)                                                                        \
    do {                                                                                           \
        if ((cnt) == 16) _mm512_storeu_ps(p, v);                                                   \
        else _mm512_mask_storeu_ps(p, (__mmask16)((1u << (cnt)) - 1u), v);                        \
    } while (0)
#define VM __mmask16
#define VMASK(lo, hi) ((__mmask16)(((1u << (hi)) - 1u) & ~((1u << (lo)) - 1u)))
#define VLOAD_M(p, m) _mm512_maskz_loadu_ps(m, p)
#define VMAND(a, b) ((__mmask16)((a) & (b)))
#define VI __m512i
#define VI_SET1(v) _mm512_set1_epi32(v)
#define VI_IOTA() _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define VI_ADD(a, b) _mm512_add_epi32(a, b)
#define VI_GE(a, b) _mm512_cmpge_epi32_mask(a, b)
#define VI_LT(a, b) _mm512_cmplt_epi32_mask(a, b)
/* lanes >= W lose W */
#define VI_WRAP(c, wv) _mm512_mask_sub_epi32(c, _mm512_cmpge_epi32_mask(c, wv), c, wv)
/* lanes whose column is in [lo, hi) */
#define VM_COLS(c, lo, hi)                                                                         \
    _mm512_mask_cmplt_epi32_mask(_mm512_cmpge_epi32_mask(c, _mm512_set1_epi32(lo)), c,             \
                                 _mm512_set1_epi32(hi))
/* lanes outside m keep acc (the tap is skipped) */
#define VFMA_M(a, b, acc, m) _mm512_mask3_fmadd_ps(a, b, acc, m)
#define VMUL_M(a, b, m) _mm512_maskz_mul_ps(m, a, b)
/* even / odd lanes of a:b, lanes outside m zero */
static inline __m512 dw_even_z(__m512 a, __m512 b, __mmask16 m) {
    const __m512i i = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_maskz_permutex2var_ps(m, a, i, b);
}
static inline __m512 dw_odd_z(__m512 a, __m512 b, __mmask16 m) {
    const __m512i i = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_maskz_permutex2var_ps(m, a, i, b);
}
#define VEVEN_Z(a, b, m) dw_even_z(a, b, m)
#define VODD_Z(a, b, m) dw_odd_z(a, b, m)
/* lane i = cur[i - 1], lane 0 = prev[15]; lane i = cur[i + 1], lane 15 = next[0] */
#define VUP1(cur, prev)                                                                            \
    _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(cur), _mm512_castps_si512(prev), 15))
#define VDOWN1(cur, next)                                                                          \
    _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(cur), 1))
/* stride 2, W <= 16: two output rows per vector (see dw_s2_packed) */
#define DW_S2_PACKED 1
/* within each 8-lane half: lane i = v[i - 1], lane 0 = 0; lane i = v[i + 1], lane 7 = 0 */
#define DW_HALF_UP(v)                                                                              \
    _mm512_maskz_permutexvar_ps(                                                                   \
        0xFEFE, _mm512_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6, 8, 8, 9, 10, 11, 12, 13, 14), v)
#define DW_HALF_DOWN(v)                                                                            \
    _mm512_maskz_permutexvar_ps(                                                                   \
        0x7F7F, _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 7, 9, 10, 11, 12, 13, 14, 15, 15), v)
/* lanes 0..ow-1 and 8..8+ow-1 moved to 0..2 ow-1 */
static inline __m512i dw_pack(int ow) {
    const __m512i i = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm512_mask_add_epi32(i, _mm512_cmpge_epi32_mask(i, _mm512_set1_epi32(ow)), i,
                                 _mm512_set1_epi32(8 - ow));
}
#define DW_PACK(ow) dw_pack(ow)
#define VPERM(idx, v) _mm512_permutexvar_ps(idx, v)

#include "dwconv3x3.h"

static int score(const rt_node *n) { return rt_dw3x3_ok(n) ? 21 : 0; }

const rt_kernel rt_k_dwconv3x3_avx512 = {"dwconv3x3_avx512", "Conv", AC_ISA_AVX512, score,
                                         dw_prepare, dw_run};
