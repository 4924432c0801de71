/* SPDX-License-Identifier: MIT */
/* src/calib internals: the per-tensor record, the exact histogram/accumulator primitives
 * (histogram.c) and the collector's table (collector.c) shared with the file code. */
#ifndef AC_CALIB_INTERNAL_H
#define AC_CALIB_INTERNAL_H

#include "autocompress/ac_calib.h"

#include <stdint.h>

/* 352-bit fixed-point accumulator, unit 2^-149 (the smallest float subnormal): every finite
 * float is an integer multiple of it, below 2^277 units, so 2^63 additions fit too. */
#define AC_CALIB_ACC_LIMBS 11

typedef struct ac_calib_tensor {
    char *name;
    uint32_t name_len;
    uint64_t hash;
    int64_t n_samples;
    uint64_t n_values;
    float min, max; /* valid when n_values > 0, else both +0 */
    uint32_t acc[AC_CALIB_ACC_LIMBS];
    int32_t abs_e, signed_e;
    uint64_t *abs_hist;    /* nbins */
    uint64_t *signed_hist; /* nbins */
} ac_calib_tensor;

struct ac_calib {
    int32_t nbins;
    int64_t max_tensors;
    size_t max_file_bytes;
    int64_t image;             /* set by ac_calib_set_image, reported by ac_calib_observer */
    ac_calib_tensor **tensors; /* in order of first observation */
    int64_t count, cap;
    int32_t *slots;  /* open-addressing hash table of tensor indices, -1 = empty */
    int64_t n_slots; /* power of two, >= 2 * cap */
    /* Observe's second set of histograms (2 * nbins counts, zero between calls): odd elements
     * count here so consecutive increments of one bin (the zeros after a Relu) do not wait for
     * each other; added into the tensor's histograms at the end of each call. */
    uint64_t *scratch; /* tasks x 4 x nbins counts, zero between calls (see add_values) */
    size_t scratch_len;
    uint32_t *scratch32; /* tasks x 6 x nbins 32-bit counts for the SIMD kernels, zero between
                          * calls: half the bytes of 64-bit copies, so they stay in L1 */
    size_t scratch32_len;
    float *pmax; /* tasks x samples: per-range maxima of one call */
    size_t pmax_len;
    ac_threadpool *pool; /* lent by the caller for big batches; NULL = one thread */
    int simd;            /* 1: AVX-512 counting kernel (CPU has it, AC_ISA allows it) */
    int64_t one_pass;    /* batches recorded by a speculative one-pass kernel (for tests) */
};

/* ---- histogram.c ---------------------------------------------------------------------- */

/* Smallest e >= AC_CALIB_HIST_E_MIN with a (>= 0, finite) in [0, nbins * 2^e). */
int32_t ac_calib_abs_e_for(double a, int32_t nbins);
/* Smallest e >= AC_CALIB_HIST_E_MIN with x (finite) in [-nbins/2 * 2^e, nbins/2 * 2^e). */
int32_t ac_calib_signed_e_for(double x, int32_t nbins);
/* Coarsens counts in place by 2^k (k >= 0): bins are summed in aligned groups. */
void ac_calib_coarsen_abs(uint64_t *h, int32_t nbins, int32_t k);
void ac_calib_coarsen_signed(uint64_t *h, int32_t nbins, int32_t k);
/* Bin index of a value at width 2^e (the value must fit). */
int32_t ac_calib_abs_bin(double a, int32_t e);
int32_t ac_calib_signed_bin(double x, int32_t e, int32_t nbins);

/* Exact accumulator: acc += a (a finite float >= 0); acc += other; to double (deterministic
 * function of the exact value). */
void ac_calib_acc_add_float(uint32_t *acc, float a);
void ac_calib_acc_add(uint32_t *acc, const uint32_t *other);
double ac_calib_acc_to_double(const uint32_t *acc);

/* Merges src's statistics into dst (same nbins). Cannot fail. */
void ac_calib_tensor_merge(ac_calib_tensor *dst, const ac_calib_tensor *src, int32_t nbins);
/* Fills the public view. */
void ac_calib_tensor_view(const ac_calib_tensor *t, int32_t nbins, ac_calib_stats *out);

/* ---- count_avx512.c ------------------------------------------------------------------- */

/* Order-preserving integer keys of floats (a float's bits, the magnitude bits flipped when
 * negative): their min and max are a batch's extremes. */
typedef struct ac_calib_sspec {
    int32_t kmin, kmax;
} ac_calib_sspec;
/* Counts xs[0..m) (finite, no value below -0.0, every |x| * fa < nbins and exact in float) into
 * the four 32-bit counter copies sa[0..4 * nbins) exactly as the generic loop does (bin
 * floor(|x| * fa), any copy), and returns the max |x|. The caller keeps every copy's counts
 * below 2^32 (at most 2^32 - 1 elements between folds). Only call when ac_calib_have_avx512().
 * With `spec` (start it at {INT32_MAX, INT32_MIN}), the caller may speculate: values need not
 * be finite, non-negative or fit; bins are clamped to nbins - 1 so nothing is written outside
 * the copies, and spec gets the min and max of the raw bits as int32 (the keys above for
 * non-negative floats; kmin < 0 means some value has its sign bit set, -0.0 included). The
 * counts are valid (else the caller zeroes the copies) when kmin >= 0 and the returned max,
 * NaN and infinities included as bit patterns, is finite and fits. */
float ac_calib_count_nonneg_avx512(const float *xs, int64_t m, float fa, uint32_t *sa,
                                   int32_t nbins, ac_calib_sspec *spec);
/* Signed batches on the fine path (float widths, signed_e >= abs_e; values finite and fitting):
 * counts each value once into f, two copies of three rows of nbins 32-bit counts, at
 * a = floor(|x| * fa) in row 0 (x >= 0, -0.0 included), row 1 (x < 0 inside its bin) or row 2
 * (x < 0 exactly on the bin's lower edge, a > 0), as fine_indices in collector.c. Returns the
 * max |x|. The caller keeps counts below 2^32.
 * With `spec` (start it at {INT32_MAX, INT32_MIN}) the caller may speculate as with the
 * non-negative kernel: bins are clamped to nbins - 1, spec gets the min and max of the values'
 * keys (-0.0 sorts just below +0.0), and the returned max |x| (NaN and infinities included, as
 * bit patterns) says whether everything fitted. */
float ac_calib_count_signed_avx512(const float *xs, int64_t m, float fa, int32_t nbins,
                                   uint32_t *f, ac_calib_sspec *spec);
/* Folds of the kernels' 32-bit rows for the usual width ratio signed_e = abs_e + 1, zeroing
 * them: ha (|x| histogram) and hs (signed histogram's zero bin) get bins [0, n), n <= nbins.
 * nonneg: the four copies c[0 .. 4 nbins) of the non-negative kernel (|x| bin a -> signed
 * bin a / 2). signed: the six rows of the signed kernel, as fold_fine_k1 in collector.c.
 * The copies' sums stay below 2^32 (see above), so they are added in 32 bits first. */
void ac_calib_fold_nonneg_k1_avx512(uint64_t *ha, uint64_t *hs, uint32_t *c, int32_t nbins,
                                    int32_t n);
void ac_calib_fold_signed_k1_avx512(uint64_t *ha, uint64_t *hs, uint32_t *c, int32_t nbins,
                                    int32_t n);
/* The CPU and OS run AVX-512F code (0 on other architectures and compilers). */
int ac_calib_have_avx512(void);

/* ---- collector.c ---------------------------------------------------------------------- */

uint64_t ac_calib_hash(const char *s, size_t n);
/* New empty record (zero counts, e at the minimum); NULL on allocation failure. */
ac_calib_tensor *ac_calib_tensor_new(const char *name, size_t name_len, int32_t nbins);
void ac_calib_tensor_free(ac_calib_tensor *t);
ac_calib_tensor *ac_calib_lookup(const ac_calib *c, const char *name, size_t name_len,
                                 uint64_t hash);
/* Grows the table so `extra` more tensors can be inserted without allocating. */
ac_status ac_calib_reserve(ac_calib *c, int64_t extra, ac_diag *d);
/* Inserts t (room must have been reserved; name not present). Cannot fail. */
void ac_calib_insert(ac_calib *c, ac_calib_tensor *t);

/* Turns the SIMD counting kernels off (0) or back on where the CPU has them (1), for tests
 * comparing both paths; returns whether they are now on. Statistics are the same either way. */
int ac_calib_set_simd(ac_calib *c, int on);

/* Default-filled options. */
ac_status ac_calib_resolve_opts(const ac_calib_opts *o, ac_calib_opts *out, ac_diag *d);

#endif
