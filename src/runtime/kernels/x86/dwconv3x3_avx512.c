/* SPDX-License-Identifier: MIT */
/* Depthwise 3x3 conv, AVX-512F (see dwconv3x3.h). */
#include <immintrin.h>
#include <stdint.h>

#define V __m512
#define VL 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSET1(v) _mm512_set1_ps(v)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VADD(a, b) _mm512_add_ps(a, b)
#define VMAX(a, b) _mm512_max_ps(a, b)
#define VMIN(a, b) _mm512_min_ps(a, b)
#define VLOAD_N(p, cnt) _mm512_maskz_loadu_ps((__mmask16)((1u << (cnt)) - 1u), p)
#define VSTORE_N(p, v, cnt) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (cnt)) - 1u), v)

#include "dwconv3x3.h"

static int score(const rt_node *n) { return rt_dw3x3_ok(n) ? 21 : 0; }

const rt_kernel rt_k_dwconv3x3_avx512 = {"dwconv3x3_avx512", "Conv", AC_ISA_AVX512, score,
                                         dw_prepare, dw_run};
