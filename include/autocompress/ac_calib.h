/* SPDX-License-Identifier: MIT */
/*
 * ac_calib.h — calibration statistics: a streaming per-tensor collector, a versioned statistics
 * file, exact merging of shards, and the range methods that turn statistics into clipping
 * ranges (abs_max, min_max, avg, hist, KL, mse, emd).
 *
 *     ac_calib *c;
 *     ac_calib_new(NULL, &c, &d);                         // 2048 bins per histogram
 *     ac_session_opts so = {.want = ac_calib_want, .observe = ac_calib_observer,
 *                           .observer_user = c};
 *     ...                                                  // ac_session_new(..., &so, ...)
 *     for (int64_t img = 0; img < n; img += batch) {
 *         ac_calib_set_image(c, img);                     // index of the batch's first image
 *         ac_session_run(s, 1, &in, &out, &n_out, &d);    // observer feeds the collector
 *     }
 *     ac_calib_save(c, "stats.accal", &d);                // or merge shards: ac_calib_merge
 *     ac_calib_range r;
 *     ac_calib_range_of(c, "conv1_out", AC_CALIB_KL, NULL, &r, &d);
 *     ac_calib_qparams q = ac_calib_scale_zp_s8(&r);      // scale = r.amax / 127, zp 0
 *     ac_calib_free(c);
 *
 * What is kept per tensor (never the raw activations; memory is fixed once a tensor has been
 * seen, whatever the number of images):
 *   - min, max (so abs-max = max(-min, max)); -0.0 is recorded as +0.0 so the result does not
 *     depend on the order in which 0.0 and -0.0 arrive;
 *   - "avg": the mean over samples of the per-sample max |x|. A sample is one index of axis 0 of
 *     the observed tensor (a rank-0 tensor is one sample; samples with no elements do not
 *     count). The sum is kept in an exact fixed-point accumulator (352 bits, every finite float
 *     is a multiple of 2^-149), so it does not depend on summation order either;
 *   - two histograms of `nbins` uint64 counts: of |x| and of x.
 *
 * Histogram scheme (why: exact, order-independent, exactly mergeable). Bins have width w = 2^e
 * anchored at 0. The |x| histogram's bin i covers [i*w, (i+1)*w), i in [0, nbins); the signed
 * histogram's bin i covers [(i - nbins/2)*w, (i - nbins/2 + 1)*w). Each histogram has its own
 * e, always the smallest e >= AC_CALIB_HIST_E_MIN for which every value seen so far fits. A
 * value that does not fit makes e grow by k: adjacent groups of 2^k bins are summed into one,
 * which is exact because the bin boundaries of 2^e are a subset of those of 2^(e-1). Values
 * are binned by floor(x * 2^-e) computed in double: a float converted to double and multiplied
 * by a power of two is exact in this range (no overflow, no subnormals), so there is no
 * rounding that could differ between runs. Consequences:
 *   - the final histogram depends only on the multiset of values, not on their order or on how
 *     they were split into batches or images;
 *   - two shards merge exactly: the finer one is coarsened to the coarser e and counts add. A
 *     merge of shards over disjoint image sets saves byte-for-byte the same file as one run over
 *     their union (min, max and the avg accumulator are exact as well).
 * With the minimal-e rule the largest |x| lies in the upper half of the |x| histogram's range,
 * so at least nbins/2 bins cover [0, abs-max].
 *
 * Thread safety: a collector is used by one thread at a time (observe, merge, load into it);
 * const calls (range, stats, save) may run concurrently with each other. Separate collectors are
 * independent: collect per thread or per process, then merge.
 */
#ifndef AC_CALIB_H
#define AC_CALIB_H

#include "autocompress/ac_base.h"
#include "autocompress/ac_graph.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AC_CALIB_DEFAULT_BINS 2048
#define AC_CALIB_MIN_BINS 256 /* KL needs at least 128 candidate bins above its 128 levels */
#define AC_CALIB_MAX_BINS (1 << 20)
#define AC_CALIB_MAX_NAME 4096     /* bytes of a tensor name, without the NUL */
#define AC_CALIB_HIST_E_MIN (-190) /* finest bin width 2^-190: below every nonzero float's need */
#define AC_CALIB_HIST_E_MAX 140    /* coarsest ever needed for finite floats (< 2^128) */

typedef struct ac_calib ac_calib;

typedef struct ac_calib_opts {
    int32_t nbins;         /* bins per histogram: even, in [MIN_BINS, MAX_BINS]; 0 = 2048.
                            * Ignored by load (the file says). */
    int64_t max_tensors;   /* most tensors a collector holds (observe, merge, load); 0 = 65536 */
    size_t max_file_bytes; /* load: larger files fail with AC_ERR_LIMIT; 0 = 4 GiB */
} ac_calib_opts;

/* Creates an empty collector (o may be NULL for defaults). Caller owns *out: ac_calib_free.
 * Errors: AC_ERR_ARG (bad nbins or limit), AC_ERR_NOMEM. */
AC_API ac_status ac_calib_new(const ac_calib_opts *o, ac_calib **out, ac_diag *d);
/* Frees c and everything it owns; NULL is a no-op. */
AC_API void ac_calib_free(ac_calib *c);

/* Sets the image index reported for the next observations through ac_calib_observer (the index
 * of the first image of the batch about to run). */
AC_API void ac_calib_set_image(ac_calib *c, int64_t first_image_index);
/* Lends a thread pool (borrowed; NULL = none) that ac_calib_observe may split big batches over.
 * The session's own pool (ac_session_threadpool) is idle while its observer runs. The
 * statistics do not depend on it: counts add exactly and maxima are exact. */
AC_API void ac_calib_set_threadpool(ac_calib *c, ac_threadpool *pool);

/* Adds one batch of tensor `name` (F32, any rank; axis 0 = samples) to its statistics; the
 * first observation of a name creates its entry. `t` is borrowed for the call; its name field
 * is ignored. `first_image_index` is the index of the batch's first image, used only in error
 * messages (the failing image is first_image_index + sample).
 * Errors (on any error nothing of this batch is recorded):
 *   AC_ERR_MODEL        a NaN or an infinity, naming the tensor, image and element;
 *   AC_ERR_UNSUPPORTED  a dtype other than F32;
 *   AC_ERR_ARG          empty or over-long name, inconsistent tensor (numel vs dims, no data);
 *   AC_ERR_LIMIT        more than max_tensors distinct names;
 *   AC_ERR_NOMEM.
 * Allocates only when a new name is seen. Not thread-safe (see above). */
AC_API ac_status ac_calib_observe(ac_calib *c, const char *name, const ac_tensor *t,
                                  int64_t first_image_index, ac_diag *d);

/* Ready adapters for ac_session_opts (user = the ac_calib *).
 * ac_calib_want: wants every value that is not an initializer and whose dtype is F32 or not
 * yet known. ac_calib_observer: ac_calib_observe(user, v->name, t, <image set by
 * ac_calib_set_image>, d); tensors whose dtype is not F32 are skipped (AC_OK), since the
 * dtype may be unknown when `want` is asked. */
AC_API int ac_calib_want(const ac_value *v, void *user);
AC_API ac_status ac_calib_observer(const ac_value *v, const ac_tensor *t, void *user, ac_diag *d);

/* Adds all of src's statistics to dst (src is only read; tensors new to dst are appended in
 * src's order). Both must have the same nbins (AC_ERR_ARG otherwise, or if src == dst).
 * Errors: AC_ERR_ARG, AC_ERR_LIMIT, AC_ERR_NOMEM; on any error dst is unchanged. */
AC_API ac_status ac_calib_merge(ac_calib *dst, const ac_calib *src, ac_diag *d);

/* Read-only view of one tensor's statistics; pointers are borrowed from the collector and valid
 * until it is next modified or freed. */
typedef struct ac_calib_stats {
    const char *name;
    int64_t n_samples;    /* samples (axis-0 indices with at least one element) */
    uint64_t n_values;    /* elements seen */
    float min, max, amax; /* 0, 0, 0 when n_values == 0 */
    double avg;           /* mean of per-sample max |x| (0 when no samples) */
    int32_t nbins;
    int32_t abs_e;            /* |x| bins have width 2^abs_e, bin i = [i w, (i+1) w) */
    int32_t signed_e;         /* x bins: width 2^signed_e, bin i = [(i - nbins/2) w, ...) */
    const uint64_t *abs_hist; /* nbins counts */
    const uint64_t *signed_hist;
} ac_calib_stats;

/* Number of tensors held. */
AC_API int64_t ac_calib_count(const ac_calib *c);
/* Bins per histogram. */
AC_API int32_t ac_calib_nbins(const ac_calib *c);
/* Bytes held by the collector (fixed per tensor: does not grow with images observed). */
AC_API size_t ac_calib_bytes(const ac_calib *c);
/* The i-th tensor, in order of first observation (after a load: file order, i.e. by name).
 * AC_ERR_ARG if i is out of range. */
AC_API ac_status ac_calib_stats_at(const ac_calib *c, int64_t i, ac_calib_stats *out, ac_diag *d);
/* The tensor called `name`; AC_ERR_ARG naming it if it was never observed. */
AC_API ac_status ac_calib_find(const ac_calib *c, const char *name, ac_calib_stats *out,
                               ac_diag *d);

/* ---------------------------------------------------------------------------------------------
 * Statistics file (little-endian throughout, independent of the host):
 *     "ACCALIB\0"  u32 version (1)  u32 flags (0)  u32 nbins  u32 reserved (0)  u64 n_tensors
 *     per tensor, sorted by name (bytewise strcmp), names unique:
 *         u32 name_len  name bytes (1..4096, no NUL)  u64 n_samples  u64 n_values
 *         f32 min  f32 max  u32 avg_sum[11] (fixed point, limb 0 lowest, unit 2^-149)
 *         i32 abs_e  i32 signed_e  u64 abs_hist[nbins]  u64 signed_hist[nbins]
 *     u32 CRC-32 (IEEE, as zlib's crc32) of every byte before it.
 * Saving sorts by name so the bytes depend only on the statistics, never on observation or
 * merge order. The same collector always saves the same bytes.
 */

/* Writes c atomically to `path` (temp file, fsync, rename: a failure leaves `path` as it was).
 * Errors: AC_ERR_IO (sys_errno set), AC_ERR_NOMEM. */
AC_API ac_status ac_calib_save(const ac_calib *c, const char *path, ac_diag *d);
/* The same bytes into a new buffer (caller frees *out with ac_free). */
AC_API ac_status ac_calib_save_buffer(const ac_calib *c, uint8_t **out, size_t *out_len,
                                      ac_diag *d);
/* Reads a statistics file into a new collector (caller owns *out; nbins from the file; o may be
 * NULL). Everything is validated before it is trusted: magic, version, flags, exact length
 * (truncated or trailing bytes), counts against the file size and max_tensors, names, sorted
 * order, checksum, and consistency (histogram totals equal n_values, e minimal for the
 * recorded range, extreme bins hold min/max, avg <= abs-max, canonical zeros).
 * Errors: AC_ERR_IO (cannot read), AC_ERR_FORMAT (not a valid file: the message says where),
 * AC_ERR_UNSUPPORTED (newer version), AC_ERR_LIMIT (file or tensor count over the limits),
 * AC_ERR_NOMEM. The path is named in d->where. */
AC_API ac_status ac_calib_load(const char *path, const ac_calib_opts *o, ac_calib **out,
                               ac_diag *d);
/* Same from memory (buf borrowed for the call). */
AC_API ac_status ac_calib_load_buffer(const uint8_t *buf, size_t len, const ac_calib_opts *o,
                                      ac_calib **out, ac_diag *d);

/* ---------------------------------------------------------------------------------------------
 * Range methods. Each fills all three fields of ac_calib_range: `amax` (> 0 unless the tensor
 * is all zeros) is the clip threshold for symmetric int8 (scale = amax / 127, zero point 0);
 * [min, max] (min <= max, not necessarily containing 0) is the clip range for asymmetric uint8.
 *
 *   abs_max  amax = max |x|;                      [min, max] = observed min, max.
 *   min_max  same values as abs_max (the name says which field the quantizer uses).
 *   avg      amax = mean of per-sample max |x|;   [min, max] = observed, clipped to +-amax.
 *   hist     amax = the hist_percent quantile of |x| (from the |x| histogram, interpolated
 *            linearly inside the bin; the top bin ends at abs-max);
 *            [min, max] = the (1 - p) and p quantiles of x from the signed histogram.
 *   KL       TensorRT entropy calibration on the |x| histogram: for each candidate i in
 *            [i0, n] (n = bins up to the last nonzero one; i0 >= 128 the smallest bin whose
 *            clip leaves at most 1% of the values above it: KL compares shapes only, and a
 *            distribution away from 0 would otherwise be clipped whole to its bottom, where P
 *            and Q both collapse into one bin), P = bins [0, i) with the counts of
 *            bins >= i folded into bin i-1; bins [0, i) without that fold are merged into 128
 *            levels and expanded back over P's nonzero bins (Q, as MXNet's and TensorRT's
 *            reference); both are smoothed (eps 1e-4) and KL(P||Q) computed; the
 *            smallest divergence wins (ties: the larger i, so a constant tensor is not
 *            clipped). amax = i * w, at most abs-max. [min, max] = observed, clipped to +-amax.
 *   mse,     the clip threshold is searched over the |x| histogram's bin edges (capped at
 *   emd      abs-max), minimizing the mean squared error (mse) or the earth mover's distance
 *            (emd, in 1-D the mean |x - q(x)| of the monotone coupling) between the histogram's
 *            distribution (uniform inside each bin, top bin ending at abs-max) and its
 *            fake-quantized version with 127 symmetric levels; integrated exactly per bin.
 *            [min, max]: the observed range (widened to contain 0) shrunk by a factor t in
 *            (0, 1] searched on the signed histogram with 255 levels, same error.
 * All methods are deterministic functions of the statistics.
 */
typedef enum ac_calib_method {
    AC_CALIB_ABS_MAX = 0,
    AC_CALIB_MIN_MAX,
    AC_CALIB_AVG,
    AC_CALIB_HIST,
    AC_CALIB_KL,
    AC_CALIB_MSE,
    AC_CALIB_EMD,
    AC_CALIB_METHOD_COUNT
} ac_calib_method;

typedef struct ac_calib_method_opts {
    double hist_percent; /* hist: quantile in (0, 1]; 0 = 0.9999 */
} ac_calib_method_opts;

typedef struct ac_calib_range {
    float min, max; /* asymmetric clip range */
    float amax;     /* symmetric clip threshold */
} ac_calib_range;

/* PaddleSlim/FastDeploy names: "abs_max", "min_max", "avg", "hist", "KL", "mse", "emd". */
AC_API const char *ac_calib_method_name(ac_calib_method m);
/* Parses those names (case-insensitive); AC_ERR_ARG listing the valid ones otherwise. */
AC_API ac_status ac_calib_method_parse(const char *s, ac_calib_method *out, ac_diag *d);

/* Range of one tensor's statistics (o may be NULL). Errors: AC_ERR_ARG (bad method or
 * hist_percent). Pure; thread-safe. */
AC_API ac_status ac_calib_compute_range(const ac_calib_stats *s, ac_calib_method m,
                                        const ac_calib_method_opts *o, ac_calib_range *out,
                                        ac_diag *d);
/* ac_calib_find + ac_calib_compute_range. */
AC_API ac_status ac_calib_range_of(const ac_calib *c, const char *name, ac_calib_method m,
                                   const ac_calib_method_opts *o, ac_calib_range *out, ac_diag *d);

/* Quantization parameters from a range (always a finite scale > 0). */
typedef struct ac_calib_qparams {
    float scale;
    int32_t zero_point;
} ac_calib_qparams;
/* Symmetric int8: scale = amax / 127, zero point 0. amax == 0 (all-zero tensor) gives scale 1
 * (ONNX Runtime's convention); a scale below FLT_MIN becomes FLT_MIN. */
AC_API ac_calib_qparams ac_calib_scale_zp_s8(const ac_calib_range *r);
/* Asymmetric uint8: the range is widened to contain 0, scale = (max - min) / 255, zero point
 * = round-half-even(-min / scale) clamped to [0, 255], so 0.0 is exactly representable. An
 * empty range gives scale 1, zero point 0. */
AC_API ac_calib_qparams ac_calib_scale_zp_u8(const ac_calib_range *r);

#ifdef __cplusplus
}
#endif
#endif /* AC_CALIB_H */
