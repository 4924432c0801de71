/* SPDX-License-Identifier: MIT */
/* CPU feature detection: cpuid for what the CPU has and xgetbv for what the OS saves on context
 * switches (an AVX-512 CPU under an OS that does not save ZMM state must not use it). */
#include "autocompress/ac_session.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

ac_isa ac_isa_detect(void) {
    static ac_isa cached = AC_ISA_AUTO;
    if (cached != AC_ISA_AUTO) return cached;
    unsigned a, b, c, d;
    ac_isa best = AC_ISA_BLAS;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE) && (c & bit_AVX) && (c & bit_FMA)) {
        uint64_t xcr0 = xgetbv0();
        int os_avx = (xcr0 & 0x6) == 0x6;
        int os_avx512 = (xcr0 & 0xe6) == 0xe6;
        if (os_avx && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2)) {
            best = AC_ISA_AVX2;
            /* F + BW + DQ + VL: the subset our AVX-512 kernels use */
            unsigned need = bit_AVX512F | bit_AVX512BW | bit_AVX512DQ | bit_AVX512VL;
            if (os_avx512 && (b & need) == need) best = AC_ISA_AVX512;
        }
    }
    cached = best;
    return best;
}
#else
ac_isa ac_isa_detect(void) { return AC_ISA_BLAS; }
#endif

static const char *const isa_names[] = {"auto", "ref", "blas", "avx2", "avx512"};
_Static_assert(sizeof isa_names / sizeof isa_names[0] == AC_ISA_COUNT, "name every ac_isa");

const char *ac_isa_name(ac_isa isa) {
    return (unsigned)isa < AC_ISA_COUNT ? isa_names[isa] : "unknown";
}

ac_status ac_isa_parse(const char *s, ac_isa *out, ac_diag *d) {
    for (int i = 0; i < AC_ISA_COUNT; i++)
        if (!strcmp(s, isa_names[i])) {
            *out = (ac_isa)i;
            return AC_OK;
        }
    return AC_FAIL(d, AC_ERR_ARG, "unknown ISA level '%s' (use ref, blas, avx2, avx512 or auto)",
                   s);
}
