/* SPDX-License-Identifier: MIT */
/* The collector: a table of per-tensor records fed batch by batch (directly or from the
 * session's observer), and exact merging of collectors. */
#include "calib_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_TENSORS 65536
#define DEFAULT_MAX_FILE_BYTES ((size_t)4 << 30)

ac_status ac_calib_resolve_opts(const ac_calib_opts *o, ac_calib_opts *out, ac_diag *d) {
    ac_calib_opts r = {0};
    if (o) r = *o;
    if (r.nbins == 0) r.nbins = AC_CALIB_DEFAULT_BINS;
    if (r.max_tensors == 0) r.max_tensors = DEFAULT_MAX_TENSORS;
    if (r.max_file_bytes == 0) r.max_file_bytes = DEFAULT_MAX_FILE_BYTES;
    if (r.nbins < AC_CALIB_MIN_BINS || r.nbins > AC_CALIB_MAX_BINS || r.nbins % 2 != 0)
        return AC_FAIL(d, AC_ERR_ARG, "nbins %d must be even and in [%d, %d]", (int)r.nbins,
                       AC_CALIB_MIN_BINS, AC_CALIB_MAX_BINS);
    /* the hash table stores int32 indices */
    if (r.max_tensors < 0 || r.max_tensors > (INT64_C(1) << 30))
        return AC_FAIL(d, AC_ERR_ARG, "max_tensors %lld out of range [1, 2^30]",
                       (long long)r.max_tensors);
    *out = r;
    return AC_OK;
}

ac_status ac_calib_new(const ac_calib_opts *o, ac_calib **out, ac_diag *d) {
    *out = NULL;
    ac_calib_opts r = {0};
    AC_TRY(ac_calib_resolve_opts(o, &r, d));
    ac_calib *c = ac_calloc(1, sizeof *c);
    if (!c) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory creating a calibration collector");
    c->nbins = r.nbins;
    c->max_tensors = r.max_tensors;
    c->max_file_bytes = r.max_file_bytes;
    ac_calib_set_simd(c, 1);
    *out = c;
    return AC_OK;
}

void ac_calib_tensor_free(ac_calib_tensor *t) {
    if (!t) return;
    ac_free(t->name);
    ac_free(t->abs_hist);
    ac_free(t->signed_hist);
    ac_free(t);
}

void ac_calib_free(ac_calib *c) {
    if (!c) return;
    for (int64_t i = 0; i < c->count; i++)
        ac_calib_tensor_free(c->tensors[i]);
    ac_free(c->tensors);
    ac_free(c->slots);
    ac_free(c->scratch);
    ac_free(c->scratch32);
    ac_free(c->pmax);
    ac_free(c);
}

/* The AVX-512 kernel where the CPU has it, unless AC_ISA (the session's kernel cap, read the
 * same way) names a lower level: ref, blas and avx2 keep the generic loops. */
int ac_calib_set_simd(ac_calib *c, int on) {
    if (on) {
        const char *cap = getenv("AC_ISA");
        if (cap && cap[0] && strcmp(cap, "auto") != 0 && strcmp(cap, "avx512") != 0) on = 0;
    }
    c->simd = on && ac_calib_have_avx512();
    return c->simd;
}

void ac_calib_set_threadpool(ac_calib *c, ac_threadpool *pool) {
    if (c) c->pool = pool;
}

void ac_calib_set_image(ac_calib *c, int64_t first_image_index) {
    if (c) c->image = first_image_index;
}

/* FNV-1a: names are short and few; good enough for an open-addressing table. */
uint64_t ac_calib_hash(const char *s, size_t n) {
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

ac_calib_tensor *ac_calib_tensor_new(const char *name, size_t name_len, int32_t nbins) {
    ac_calib_tensor *t = ac_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->name = ac_malloc(name_len + 1);
    t->abs_hist = ac_calloc((size_t)nbins, sizeof *t->abs_hist);
    t->signed_hist = ac_calloc((size_t)nbins, sizeof *t->signed_hist);
    if (!t->name || !t->abs_hist || !t->signed_hist) {
        ac_calib_tensor_free(t);
        return NULL;
    }
    memcpy(t->name, name, name_len);
    t->name[name_len] = 0;
    t->name_len = (uint32_t)name_len;
    t->hash = ac_calib_hash(name, name_len);
    t->abs_e = AC_CALIB_HIST_E_MIN;
    t->signed_e = AC_CALIB_HIST_E_MIN;
    return t;
}

ac_calib_tensor *ac_calib_lookup(const ac_calib *c, const char *name, size_t name_len,
                                 uint64_t hash) {
    if (c->n_slots == 0) return NULL;
    uint64_t mask = (uint64_t)c->n_slots - 1;
    for (uint64_t s = hash & mask;; s = (s + 1) & mask) {
        int32_t i = c->slots[s];
        if (i < 0) return NULL;
        ac_calib_tensor *t = c->tensors[i];
        if (t->hash == hash && t->name_len == name_len && memcmp(t->name, name, name_len) == 0)
            return t;
    }
}

static void slot_put(int32_t *slots, int64_t n_slots, uint64_t hash, int32_t idx) {
    uint64_t mask = (uint64_t)n_slots - 1;
    uint64_t s = hash & mask;
    while (slots[s] >= 0)
        s = (s + 1) & mask;
    slots[s] = idx;
}

ac_status ac_calib_reserve(ac_calib *c, int64_t extra, ac_diag *d) {
    if (extra > c->max_tensors - c->count)
        return AC_FAIL(d, AC_ERR_LIMIT, "more than %lld tensors (max_tensors)",
                       (long long)c->max_tensors);
    int64_t need = c->count + extra;
    if (need <= c->cap) return AC_OK;
    int64_t cap = c->cap ? c->cap : 64;
    while (cap < need)
        cap *= 2;
    int64_t n_slots = 2 * cap; /* load factor <= 1/2 keeps probes short */
    ac_calib_tensor **tensors = ac_realloc(c->tensors, (size_t)cap * sizeof *tensors);
    if (!tensors) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory growing the tensor table");
    c->tensors = tensors;
    int32_t *slots = ac_malloc_array((size_t)n_slots, sizeof *slots);
    if (!slots) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory growing the tensor table");
    memset(slots, 0xff, (size_t)n_slots * sizeof *slots);
    for (int64_t i = 0; i < c->count; i++)
        slot_put(slots, n_slots, c->tensors[i]->hash, (int32_t)i);
    ac_free(c->slots);
    c->slots = slots;
    c->n_slots = n_slots;
    c->cap = cap;
    return AC_OK;
}

void ac_calib_insert(ac_calib *c, ac_calib_tensor *t) {
    slot_put(c->slots, c->n_slots, t->hash, (int32_t)c->count);
    c->tensors[c->count++] = t;
}

/* ---- observe ------------------------------------------------------------------------------ */

#define CHUNK 256 /* bin indices computed per block, so that loop vectorises */
#define SPLIT_MIN (1 << 14) /* values in a batch worth splitting over the pool */

/* The library is built for baseline x86-64; these loops are worth AVX2/AVX-512, so GCC builds
 * one clone per ISA and picks by CPU at load time (ifunc). Results are the same in every clone:
 * integer min/max and exact power-of-two scaling. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AC_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define AC_VECTOR_CLONES
#endif

/* max |x| of finite floats, as the max of their bit patterns with the sign cleared: for
 * non-negative floats integer order is numeric order, and an integer max vectorises where a
 * float one would need -ffinite-math-only. */
AC_VECTOR_CLONES static float max_abs(const float *xs, int64_t m) {
    uint32_t mx = 0;
    for (int64_t i = 0; i < m; i++) {
        uint32_t u;
        memcpy(&u, &xs[i], sizeof u);
        u &= 0x7fffffffu;
        mx = u > mx ? u : mx;
    }
    float f;
    memcpy(&f, &mx, sizeof f);
    return f;
}

/* Bin indices of xs[0..m) at the tensor's widths, and the block's max |x|. Float arithmetic
 * when 2^-e is a normal float: multiplying by a power of two is then exact unless the product
 * is subnormal, and a subnormal product is below 1, whose floor rounding cannot change, except
 * a negative product rounded to -0.0 (floor -1, not 0): the `neg_zero` term. Otherwise double,
 * exact over the whole range (see ac_calib.h). */
AC_VECTOR_CLONES static float bin_indices_f32(const float *xs, int64_t m, float fa, float fs,
                                              int32_t *ia,
                             int32_t *is) {
    for (int64_t i = 0; i < m; i++) {
        float v = xs[i];
        ia[i] = (int32_t)(fabsf(v) * fa);
        float q = v * fs;
        int32_t b = (int32_t)q;
        int32_t below = (float)b > q;
        int32_t neg_zero = (v < 0) & (q == 0);
        is[i] = b - (below | neg_zero);
    }
    return max_abs(xs, m);
}

static float bin_indices_f64(const float *xs, int64_t m, double da, double ds, int32_t *ia,
                             int32_t *is) {
    for (int64_t i = 0; i < m; i++) {
        float v = xs[i];
        ia[i] = (int32_t)((double)fabsf(v) * da);
        double q = (double)v * ds;
        int32_t b = (int32_t)q;
        is[i] = b - ((double)b > q);
    }
    return max_abs(xs, m);
}

/* Like bin_indices_* for the |x| histogram only (batches without negative values). */
AC_VECTOR_CLONES static float abs_indices(const float *xs, int64_t m, int fast, float fa,
                                          double da, int32_t *ia) {
    if (fast)
        for (int64_t i = 0; i < m; i++)
            ia[i] = (int32_t)(fabsf(xs[i]) * fa);
    else
        for (int64_t i = 0; i < m; i++)
            ia[i] = (int32_t)((double)fabsf(xs[i]) * da);
    return max_abs(xs, m);
}

/* Signed batches in one pass: the |x| bin a = floor(|x| / w_a) plus which of three arrays
 * (x >= 0; x < 0 strictly inside its |x| bin; x < 0 exactly on a bin edge) it goes to. From
 * those three counts per a, both histograms follow exactly (see fold_fine), so each value is
 * counted once instead of twice. Only for the float path (`fast`), where |x| * 2^-e is exact. */
AC_VECTOR_CLONES static float fine_indices(const float *xs, int64_t m, float fa, int32_t nbins,
                                           int32_t *ia) {
    for (int64_t i = 0; i < m; i++) {
        float v = xs[i], q = fabsf(v) * fa;
        int32_t a = (int32_t)q;
        /* a == 0: |x| > 0 is inside bin 0, even when |x| * 2^-e underflowed to 0 */
        int32_t neg = v < 0.0f, exact = ((float)a == q) & (a != 0);
        ia[i] = a + neg * (nbins + exact * nbins);
    }
    return max_abs(xs, m);
}

/* ---- binning a batch ----------------------------------------------------------------------
 *
 * The batch's elements are cut into `tasks` contiguous ranges (one per pool thread, or one).
 * Each range counts into its own scratch (4 x nbins: |x| and signed counts, each twice so that
 * consecutive increments of one bin, like the zeros after a ReLU, do not wait on each other)
 * and records the max |x| of every sample it touches. The fold then adds all scratch counts
 * into the tensor's histograms and combines the per-sample maxima in sample order. Counts add
 * exactly and maxima are exact, so any split gives the same statistics as one thread.
 *
 * A batch with no negative value (every ReLU output) is counted once, in the |x| scratch: for
 * x >= 0 the signed bin is the |x| bin shifted right by k = signed_e - abs_e >= 0 (its bins are
 * 2^k times wider, boundaries nested, both anchored at 0), so the signed counts are derived
 * per bin at the fold. */

/* Scratch counts per task: the two-pass layout uses 4 x nbins (|x| twice, signed twice), the
 * one-pass signed layout 6 x nbins (three arrays, twice). */
#define TASK_SCRATCH 6

typedef struct bin_job {
    int32_t nbins;
    const float *x;
    int64_t per, n_samp, numel, tasks;
    int nonneg, fast, fine, simd;
    float fa, fs;
    double da, ds;
    uint64_t *scratch; /* tasks x TASK_SCRATCH x nbins */
    uint32_t *scratch32; /* simd: tasks x TASK_SCRATCH x nbins */
    float *pmax;       /* tasks x n_samp */
} bin_job;

static void bin_range(void *user, int64_t t, int32_t thread) {
    (void)thread; /* each task owns scratch by task index: the split is the same on any pool */
    const bin_job *j = user;
    int32_t nbins = j->nbins, half = nbins / 2;
    uint64_t *sa0 = j->scratch + (size_t)t * TASK_SCRATCH * (size_t)nbins, *sa1 = sa0 + nbins;
    uint64_t *ss0 = sa1 + nbins + half, *ss1 = ss0 + nbins; /* signed: offset by half */
    uint64_t *f1 = sa0 + 3 * (size_t)nbins;                 /* fine: sa0 and f1, 3 x nbins */
    float *pm = j->pmax + t * j->n_samp;
    int64_t e0 = j->numel * t / j->tasks, e1 = j->numel * (t + 1) / j->tasks;
    int32_t ia[CHUNK], is[CHUNK];
    for (int64_t e = e0; e < e1;) {
        int64_t smp = e / j->per, send = (smp + 1) * j->per;
        int64_t stop = send < e1 ? send : e1;
        float smax = 0;
        for (; e < stop; e += CHUNK) {
            int64_t m = stop - e < CHUNK ? stop - e : CHUNK;
            const float *xs = j->x + e;
            float bmax;
            if (j->nonneg && j->simd && j->fast) {
                /* the whole rest of the sample at once */
                uint32_t *c32 = j->scratch32 + (size_t)t * TASK_SCRATCH * (size_t)nbins;
                bmax = ac_calib_count_nonneg_avx512(j->x + e, stop - e, j->fa, c32, nbins, NULL);
                if (bmax > smax) smax = bmax;
                break;
            } else if (j->nonneg) {
                /* ReLU/ReLU6 outputs pile into two bins (0 and the clip value): four counter
                 * copies keep the increments of one bin from waiting on each other */
                bmax = abs_indices(xs, m, j->fast, j->fa, j->da, ia);
                if (bmax > smax) smax = bmax;
                uint64_t *sa2 = sa0 + 2 * (size_t)nbins, *sa3 = sa0 + 3 * (size_t)nbins;
                int64_t i = 0;
                for (; i + 3 < m; i += 4) {
                    sa0[ia[i]]++;
                    sa1[ia[i + 1]]++;
                    sa2[ia[i + 2]]++;
                    sa3[ia[i + 3]]++;
                }
                for (; i < m; i++) sa0[ia[i]]++;
                if (e + m > stop) break;
                continue;
            } else if (j->fine && j->simd) {
                uint32_t *c32 = j->scratch32 + (size_t)t * TASK_SCRATCH * (size_t)nbins;
                bmax = ac_calib_count_signed_avx512(j->x + e, stop - e, j->fa, nbins, c32, NULL);
                if (bmax > smax) smax = bmax;
                break;
            } else if (j->fine) {
                bmax = fine_indices(xs, m, j->fa, nbins, ia);
                if (bmax > smax) smax = bmax;
                int64_t i = 0;
                for (; i + 1 < m; i += 2) {
                    sa0[ia[i]]++;
                    f1[ia[i + 1]]++;
                }
                if (i < m) sa0[ia[i]]++;
                if (e + m > stop) break;
                continue;
            } else {
                bmax = j->fast ? bin_indices_f32(xs, m, j->fa, j->fs, ia, is)
                               : bin_indices_f64(xs, m, j->da, j->ds, ia, is);
            }
            if (bmax > smax) smax = bmax;
            int64_t i = 0;
            for (; i + 1 < m; i += 2) {
                sa0[ia[i]]++;
                sa1[ia[i + 1]]++;
            }
            if (i < m) sa0[ia[i]]++;
            if (!j->nonneg) {
                for (i = 0; i + 1 < m; i += 2) {
                    ss0[is[i]]++;
                    ss1[is[i + 1]]++;
                }
                if (i < m) ss0[is[i]]++;
            }
            if (e + m > stop) break;
        }
        e = stop;
        if (smax > pm[smp]) pm[smp] = smax;
    }
}

/* Scratch for `tasks` ranges and their per-sample maxima (grown, never shrunk). */
static ac_status bin_buffers(ac_calib *c, int64_t tasks, int64_t n_samp, ac_diag *d) {
    size_t need = (size_t)tasks * TASK_SCRATCH * (size_t)c->nbins;
    if (need > c->scratch_len) {
        uint64_t *p = ac_calloc(need, sizeof *p);
        if (!p) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for histogram scratch");
        ac_free(c->scratch);
        c->scratch = p;
        c->scratch_len = need;
    }
    if (c->simd && need > c->scratch32_len) {
        size_t n32 = need;
        uint32_t *p = ac_calloc(n32, sizeof *p);
        if (!p) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for histogram scratch");
        ac_free(c->scratch32);
        c->scratch32 = p;
        c->scratch32_len = n32;
    }
    size_t pneed = (size_t)(tasks * n_samp);
    if (pneed > c->pmax_len) {
        float *p = ac_malloc_array(pneed, sizeof *p);
        if (!p) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for per-sample maxima");
        ac_free(c->pmax);
        c->pmax = p;
        c->pmax_len = pneed;
    }
    return AC_OK;
}

/* ---- folding a call's counts into the tensor ------------------------------------------------
 * Sums of counter copies, in loops the compiler vectorises (restrict: the copies are disjoint
 * rows of the scratch). Integer adds: exact in any order. */

/* ha[b] += s0[b] + s1[b] + s2[b] + s3[b] for b < n; s0[b] keeps that sum, s1..s3 are zeroed. */
AC_VECTOR_CLONES static void fold_sum4(uint64_t *restrict ha, uint64_t *restrict s0,
                                       uint64_t *restrict s1, uint64_t *restrict s2,
                                       uint64_t *restrict s3, int32_t n) {
    for (int32_t b = 0; b < n; b++) {
        uint64_t cnt = s0[b] + s1[b] + s2[b] + s3[b];
        s0[b] = cnt;
        s1[b] = s2[b] = s3[b] = 0;
        ha[b] += cnt;
    }
}

/* The same from the SIMD kernel's 32-bit copies c0..c3 (zeroed); s gets the sums. */
AC_VECTOR_CLONES static void fold_sum4_u32(uint64_t *restrict ha, uint64_t *restrict s,
                                           uint32_t *restrict c0, uint32_t *restrict c1,
                                           uint32_t *restrict c2, uint32_t *restrict c3,
                                           int32_t n) {
    for (int32_t b = 0; b < n; b++) {
        uint64_t cnt = (uint64_t)c0[b] + c1[b] + c2[b] + c3[b];
        c0[b] = c1[b] = c2[b] = c3[b] = 0;
        s[b] = cnt;
        ha[b] += cnt;
    }
}

/* hs[b >> k] += s[b] for b < n (signed bin of a non-negative |x| bin), zeroing s. */
AC_VECTOR_CLONES static void fold_groups(uint64_t *restrict hs, uint64_t *restrict s, int32_t n,
                                         int32_t k) {
    if (k == 0) {
        for (int32_t b = 0; b < n; b++) {
            hs[b] += s[b];
            s[b] = 0;
        }
    } else if (k == 1) {
        int32_t b = 0;
        for (; b + 1 < n; b += 2) {
            hs[b >> 1] += s[b] + s[b + 1];
            s[b] = s[b + 1] = 0;
        }
        if (b < n) {
            hs[b >> 1] += s[b];
            s[b] = 0;
        }
    } else {
        for (int32_t b = 0; b < n; b++) {
            hs[b >> k] += s[b];
            s[b] = 0;
        }
    }
}

/* The one-pass signed layout: three rows of nbins counts in f0 and again in f1. f0's rows get
 * the sums, f1 is zeroed, and ha[a] gets all three for a < n. */
AC_VECTOR_CLONES static void fold_pairs(uint64_t *restrict ha, uint64_t *restrict f0,
                                        uint64_t *restrict f1, int32_t nbins, int32_t n) {
    for (int r = 0; r < 3; r++) {
        uint64_t *restrict p = f0 + (size_t)r * (size_t)nbins, *restrict q = f1 + (size_t)r * (size_t)nbins;
        for (int32_t a = 0; a < n; a++) {
            uint64_t cnt = p[a] + q[a];
            p[a] = cnt;
            q[a] = 0;
            ha[a] += cnt;
        }
    }
}

/* f0's three rows (zero) get the sums of the SIMD kernel's two copies of three 32-bit rows in
 * c, for bins below n; c is zeroed. */
AC_VECTOR_CLONES static void widen_rows(uint64_t *restrict f0, uint32_t *restrict c,
                                        int32_t nbins, int32_t n) {
    for (int r = 0; r < 3; r++) {
        uint64_t *restrict o = f0 + (size_t)r * (size_t)nbins;
        uint32_t *restrict p = c + (size_t)r * (size_t)nbins, *restrict q = p + 3 * (size_t)nbins;
        for (int32_t a = 0; a < n; a++) {
            o[a] = (uint64_t)p[a] + q[a];
            p[a] = q[a] = 0;
        }
    }
}

/* The usual case k = signed_e - abs_e = 1 of the fine fold, one pass per pair of |x| bins
 * (2j, 2j + 1) instead of three scattered updates per bin: x >= 0 goes to signed bin j; x < 0
 * inside either bin to -(j + 1); exactly -2j w to -j and exactly -(2j + 1) w to -(j + 1). Every
 * signed bin is updated once. hs points at the signed histogram's zero bin. */
static void fold_fine_k1(uint64_t *restrict ha, uint64_t *restrict hs, uint64_t *restrict f0,
                         uint64_t *restrict f1, int32_t nbins, int32_t n) {
    int32_t ng = (n + 1) / 2, n2 = 2 * ng; /* n2 <= nbins: nbins is even */
    fold_pairs(ha, f0, f1, nbins, n2);
    const uint64_t *p = f0, *q = f0 + nbins, *x = f0 + 2 * (size_t)nbins;
    hs[0] += x[0];
    for (int32_t g = 0; g < ng; g++) {
        hs[g] += p[2 * g] + p[2 * g + 1];
        uint64_t next = g + 1 < ng ? x[2 * g + 2] : 0;
        hs[-(g + 1)] += q[2 * g] + q[2 * g + 1] + x[2 * g + 1] + next;
    }
    memset(f0, 0, (size_t)n2 * sizeof *f0);
    memset(f0 + nbins, 0, (size_t)n2 * sizeof *f0);
    memset(f0 + 2 * (size_t)nbins, 0, (size_t)n2 * sizeof *f0);
}

/* Adds samples x[0 .. n_samp * per) (finite, within [lo, hi], histograms already wide enough)
 * to r's histograms and avg accumulator; the buffers must be ready for `tasks`. */
static void add_values(ac_calib *c, ac_calib_tensor *r, const float *x, int64_t per,
                       int64_t n_samp, float lo, float hi, int64_t tasks) {
    int32_t nbins = c->nbins, half = nbins / 2;
    int nonneg = lo >= 0 && r->signed_e >= r->abs_e;
    bin_job j = {.nbins = nbins, .x = x, .per = per, .n_samp = n_samp,
                 .numel = per * n_samp, .tasks = tasks, .nonneg = nonneg,
                 .scratch = c->scratch, .pmax = c->pmax};
    j.fast = r->abs_e >= -126 && r->abs_e <= 126 &&
             (nonneg || (r->signed_e >= -126 && r->signed_e <= 126));
    j.fine = !nonneg && j.fast && r->signed_e >= r->abs_e;
    j.da = ldexp(1.0, -r->abs_e);
    j.ds = ldexp(1.0, -r->signed_e);
    j.fa = (float)j.da;
    j.fs = (float)j.ds;
    /* 32-bit copies: a task counts at most numel / tasks + 1 values per call */
    j.simd = c->simd && j.numel / tasks + 1 < (int64_t)UINT32_MAX;
    j.scratch32 = c->scratch32;
    for (int64_t i = 0; i < tasks * n_samp; i++) c->pmax[i] = 0.0f;
    if (tasks > 1)
        ac_threadpool_run(c->pool, tasks, bin_range, &j);
    else
        bin_range(&j, 0, 0);

    /* fold: only bins between the batch's extremes can be nonzero */
    uint64_t *ha = r->abs_hist, *hs = r->signed_hist + half;
    float amax = -lo > hi ? -lo : hi;
    int32_t a_hi = (int32_t)((double)amax * j.da);
    int32_t k = r->signed_e - r->abs_e;
    if (j.fine) {
        /* x >= 0 in bin a: signed bin a >> k. x < 0 strictly inside (a w, (a+1) w): signed bin
         * -((a >> k) + 1). x < 0 exactly -a w: -((a >> k) + (a not a multiple of 2^k)). */
        int32_t mask = (1 << k) - 1;
        for (int64_t t = 0; t < tasks; t++) {
            uint64_t *f0 = c->scratch + (size_t)t * TASK_SCRATCH * (size_t)nbins;
            uint64_t *f1 = f0 + 3 * (size_t)nbins;
            uint32_t *c32 = c->scratch32 + (size_t)t * TASK_SCRATCH * (size_t)nbins;
            if (j.simd && k == 1) {
                ac_calib_fold_signed_k1_avx512(ha, hs, c32, nbins, a_hi + 1);
                continue;
            }
            if (j.simd) /* the kernel counted in 32 bits: its two copies become f0's rows */
                widen_rows(f0, c32, nbins, a_hi + 1);
            if (k == 1) {
                fold_fine_k1(ha, hs, f0, f1, nbins, a_hi + 1);
                continue;
            }
            fold_pairs(ha, f0, f1, nbins, a_hi + 1);
            /* only bins that hold values: with k = 0 the |x| bins reach nbins / 2, one past
             * the signed histogram's ends on either side, where only one sign can fit */
            for (int32_t a = 0; a <= a_hi; a++) {
                int32_t g = a >> k;
                uint64_t pc = f0[a], nc = f0[nbins + a], xc = f0[2 * nbins + a];
                if (pc) hs[g] += pc;
                if (nc) hs[-(g + 1)] += nc;
                if (xc) hs[-(g + ((a & mask) != 0))] += xc;
                f0[a] = f0[nbins + a] = f0[2 * nbins + a] = 0;
            }
        }
    }
    for (int64_t t = 0; t < tasks && !j.fine; t++) {
        uint64_t *sa0 = c->scratch + (size_t)t * TASK_SCRATCH * (size_t)nbins, *sa1 = sa0 + nbins;
        uint64_t *sa2 = sa0 + 2 * (size_t)nbins, *sa3 = sa0 + 3 * (size_t)nbins;
        if (nonneg && j.simd && j.fast && k == 1) {
            ac_calib_fold_nonneg_k1_avx512(ha, hs, c->scratch32 + (size_t)t * TASK_SCRATCH *
                                                                      (size_t)nbins,
                                           nbins, a_hi + 1);
        } else if (nonneg && j.simd && j.fast) {
            uint32_t *c0 = c->scratch32 + (size_t)t * TASK_SCRATCH * (size_t)nbins;
            fold_sum4_u32(ha, sa0, c0, c0 + nbins, c0 + 2 * (size_t)nbins, c0 + 3 * (size_t)nbins,
                          a_hi + 1);
            fold_groups(hs, sa0, a_hi + 1, k);
        } else if (nonneg) {
            fold_sum4(ha, sa0, sa1, sa2, sa3, a_hi + 1);
            fold_groups(hs, sa0, a_hi + 1, k);
        } else {
            for (int32_t b = 0; b <= a_hi; b++) {
                ha[b] += sa0[b] + sa1[b];
                sa0[b] = sa1[b] = 0;
            }
            uint64_t *ss0 = sa1 + nbins + half, *ss1 = ss0 + nbins;
            int32_t s_lo = (int32_t)floor((double)lo * j.ds), s_hi = (int32_t)floor((double)hi * j.ds);
            for (int32_t b = s_lo; b <= s_hi; b++) {
                hs[b] += ss0[b] + ss1[b];
                ss0[b] = ss1[b] = 0;
            }
        }
    }
    for (int64_t s = 0; s < n_samp; s++) {
        float smax = 0;
        for (int64_t t = 0; t < tasks; t++)
            if (c->pmax[t * n_samp + s] > smax) smax = c->pmax[t * n_samp + s];
        ac_calib_acc_add_float(r->acc, smax);
    }
}

#define AC_CALIB_SPEC_TASKS 64 /* pools larger than this split the two-pass path only */

/* The one-pass path for a tensor that has only ever been non-negative, with the SIMD kernel:
 * count at the widths the tensor already has while finding the batch's extremes, instead of a
 * separate pass for the extremes first. Valid when the batch turns out finite, non-negative
 * and inside the current widths (the common case once a few images have been seen); then the
 * widths would not have changed and the counts are those of the two-pass path. Otherwise the
 * copies are zeroed, nothing has been recorded, and the caller takes the two-pass path (which
 * reports any NaN or infinity). Returns whether the batch was recorded. */
typedef struct spec_job {
    const float *x;
    int64_t per, n_samp, numel, tasks;
    float fa;
    int32_t nbins;
    int is_signed;          /* the signed kernel (a tensor seen negative), else the non-negative */
    uint32_t *scratch32;    /* tasks x TASK_SCRATCH x nbins */
    float *pmax;            /* tasks x n_samp: each sample's max |x| per task */
    ac_calib_sspec *spec;   /* tasks: each task's extremes as keys */
} spec_job;

/* One contiguous range of the batch (split as bin_range splits), its samples' maxima kept per
 * task so that they combine in sample order. */
static void spec_range(void *user, int64_t t, int32_t thread) {
    (void)thread;
    const spec_job *j = user;
    uint32_t *c32 = j->scratch32 + (size_t)t * TASK_SCRATCH * (size_t)j->nbins;
    float *pm = j->pmax + t * j->n_samp;
    ac_calib_sspec sp = {INT32_MAX, INT32_MIN};
    int64_t e0 = j->numel * t / j->tasks, e1 = j->numel * (t + 1) / j->tasks;
    for (int64_t e = e0; e < e1;) {
        int64_t smp = e / j->per, send = (smp + 1) * j->per, stop = send < e1 ? send : e1;
        /* each task touches a sample at most once */
        pm[smp] = j->is_signed ? ac_calib_count_signed_avx512(j->x + e, stop - e, j->fa,
                                                              j->nbins, c32, &sp)
                               : ac_calib_count_nonneg_avx512(j->x + e, stop - e, j->fa, c32,
                                                              j->nbins, &sp);
        e = stop;
    }
    j->spec[t] = sp;
}

/* The extremes of all tasks' keys. */
static void spec_extremes(const spec_job *j, int32_t *kmin, int32_t *kmax) {
    *kmin = INT32_MAX;
    *kmax = INT32_MIN;
    for (int64_t t = 0; t < j->tasks; t++) {
        if (j->spec[t].kmin < *kmin) *kmin = j->spec[t].kmin;
        if (j->spec[t].kmax > *kmax) *kmax = j->spec[t].kmax;
    }
}

/* Runs the kernel of j over the batch and returns the bits of its max |x| (compared as bits:
 * a NaN must not be skipped). */
static uint32_t spec_count(ac_calib *c, spec_job *j) {
    for (int64_t i = 0; i < j->tasks * j->n_samp; i++) c->pmax[i] = 0.0f;
    if (j->tasks > 1)
        ac_threadpool_run(c->pool, j->tasks, spec_range, j);
    else
        spec_range(j, 0, 0);
    uint32_t hi_bits = 0;
    for (int64_t i = 0; i < j->tasks * j->n_samp; i++) {
        uint32_t b;
        memcpy(&b, &c->pmax[i], sizeof b);
        if (b > hi_bits) hi_bits = b;
    }
    return hi_bits;
}

/* A counted batch that fitted: its samples' maxima, extremes and sizes join r. */
static void spec_record(ac_calib *c, ac_calib_tensor *r, const spec_job *j, float lo, float hi) {
    for (int64_t s = 0; s < j->n_samp; s++) {
        float smax = 0;
        for (int64_t t = 0; t < j->tasks; t++)
            if (c->pmax[t * j->n_samp + s] > smax) smax = c->pmax[t * j->n_samp + s];
        ac_calib_acc_add_float(r->acc, smax);
    }
    if (lo < r->min) r->min = lo;
    if (hi > r->max) r->max = hi;
    r->n_samples += j->n_samp;
    r->n_values += (uint64_t)j->numel;
    c->one_pass++;
}

static int observe_speculative(ac_calib *c, ac_calib_tensor *r, const float *x, int64_t per,
                               int64_t n_samp, int64_t tasks) {
    int32_t nbins = c->nbins, half = nbins / 2;
    ac_calib_sspec spec[AC_CALIB_SPEC_TASKS];
    spec_job j = {.x = x, .per = per, .n_samp = n_samp, .numel = per * n_samp, .tasks = tasks,
                  .fa = ldexpf(1.0f, -r->abs_e), .nbins = nbins, .scratch32 = c->scratch32,
                  .pmax = c->pmax, .spec = spec};
    uint32_t hi_bits = spec_count(c, &j);
    int32_t kmin, kmax;
    spec_extremes(&j, &kmin, &kmax);
    float hi, lo;
    memcpy(&hi, &hi_bits, sizeof hi);
    memcpy(&lo, &kmin, sizeof lo); /* used only when kmin >= 0: then a non-negative float */
    /* a sign bit anywhere (a negative value, or -0.0, which the two-pass path records as 0) */
    int ok = kmin >= 0 && hi_bits < 0x7f800000u &&
             (int64_t)(hi * j.fa) < nbins && ac_calib_signed_e_for(hi, nbins) <= r->signed_e;
    for (int64_t t = 0; t < tasks; t++) {
        uint32_t *c32 = c->scratch32 + (size_t)t * TASK_SCRATCH * (size_t)nbins;
        if (!ok) {
            memset(c32, 0, 4 * (size_t)nbins * sizeof *c32); /* the rows the kernel used */
            continue;
        }
        uint64_t *sa0 = c->scratch;
        int32_t a_hi = (int32_t)(hi * j.fa);
        if (r->signed_e - r->abs_e == 1) {
            ac_calib_fold_nonneg_k1_avx512(r->abs_hist, r->signed_hist + half, c32, nbins,
                                           a_hi + 1);
            continue;
        }
        fold_sum4_u32(r->abs_hist, sa0, c32, c32 + nbins, c32 + 2 * (size_t)nbins,
                      c32 + 3 * (size_t)nbins, a_hi + 1);
        fold_groups(r->signed_hist + half, sa0, a_hi + 1, r->signed_e - r->abs_e);
    }
    if (!ok) return 0;
    spec_record(c, r, &j, lo, hi);
    return 1;
}

/* A key of the signed kernel's order back to its float. */
static float key_float(int32_t k) {
    uint32_t u = (uint32_t)k ^ ((uint32_t)(k >> 31) & 0x7fffffffu);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The same for a tensor that has been negative: the signed kernel counts at the current widths
 * while finding the batch's extremes. Valid when the batch is finite and fits those widths,
 * with the usual ratio signed_e = abs_e + 1 (the widths then stay and the counts are the
 * two-pass path's); otherwise nothing is recorded and the caller takes the two-pass path. */
static int observe_speculative_signed(ac_calib *c, ac_calib_tensor *r, const float *x,
                                      int64_t per, int64_t n_samp, int64_t tasks) {
    int32_t nbins = c->nbins, half = nbins / 2;
    ac_calib_sspec spec[AC_CALIB_SPEC_TASKS];
    spec_job j = {.x = x, .per = per, .n_samp = n_samp, .numel = per * n_samp, .tasks = tasks,
                  .fa = ldexpf(1.0f, -r->abs_e), .nbins = nbins, .is_signed = 1,
                  .scratch32 = c->scratch32, .pmax = c->pmax, .spec = spec};
    uint32_t amax_bits = spec_count(c, &j);
    int32_t kmin, kmax;
    spec_extremes(&j, &kmin, &kmax);
    float amax, lo = key_float(kmin), hi = key_float(kmax);
    memcpy(&amax, &amax_bits, sizeof amax);
    int ok = amax_bits < 0x7f800000u && (int64_t)(amax * j.fa) < nbins &&
             ac_calib_signed_e_for(lo, nbins) <= r->signed_e &&
             ac_calib_signed_e_for(hi, nbins) <= r->signed_e;
    for (int64_t t = 0; t < tasks; t++) {
        uint32_t *c32 = c->scratch32 + (size_t)t * TASK_SCRATCH * (size_t)nbins;
        if (ok)
            ac_calib_fold_signed_k1_avx512(r->abs_hist, r->signed_hist + half, c32, nbins,
                                           (int32_t)(amax * j.fa) + 1);
        else
            memset(c32, 0, 6 * (size_t)nbins * sizeof *c32); /* the rows the kernel used */
    }
    if (!ok) return 0;
    /* canonical zero, as the two-pass path: which of 0.0 and -0.0 is kept must not depend on
     * arrival order */
    spec_record(c, r, &j, lo == 0 ? 0.0f : lo, hi == 0 ? 0.0f : hi);
    return 1;
}

static const char *nonfinite_name(float x) {
    return isnan(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf";
}

/* Min and max of x[0..n) (n > 0) through order-preserving integer keys (a float's bits with the
 * magnitude bits flipped when negative sort like the float, -0.0 just below +0.0), because
 * integer min/max vectorise where float ones need -ffinite-math-only. Returns 0 if some value is
 * NaN or infinite (the caller then finds which one, slowly). */
AC_VECTOR_CLONES static int extremes(const float *x, int64_t n, float *lo, float *hi) {
    int32_t kmin = INT32_MAX, kmax = INT32_MIN;
    uint32_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        bad |= (u & 0x7fffffffu) >= 0x7f800000u;
        int32_t k = (int32_t)(u ^ ((uint32_t)((int32_t)u >> 31) & 0x7fffffffu));
        kmin = k < kmin ? k : kmin;
        kmax = k > kmax ? k : kmax;
    }
    if (bad) return 0;
    uint32_t a = (uint32_t)kmin ^ ((uint32_t)(kmin >> 31) & 0x7fffffffu);
    uint32_t b = (uint32_t)kmax ^ ((uint32_t)(kmax >> 31) & 0x7fffffffu);
    memcpy(lo, &a, sizeof a);
    memcpy(hi, &b, sizeof b);
    return 1;
}

ac_status ac_calib_observe(ac_calib *c, const char *name, const ac_tensor *t,
                           int64_t first_image_index, ac_diag *d) {
    if (!c || !t) return AC_FAIL(d, AC_ERR_ARG, "ac_calib_observe: NULL collector or tensor");
    if (!name || !name[0]) return AC_FAIL(d, AC_ERR_ARG, "ac_calib_observe: empty tensor name");
    size_t name_len = strlen(name);
    if (name_len > AC_CALIB_MAX_NAME) {
        ac_diag_where(d, "tensor \"%.64s...\"", name);
        return AC_FAIL(d, AC_ERR_ARG, "name is %zu bytes, over the limit of %d", name_len,
                       AC_CALIB_MAX_NAME);
    }
    if (t->dtype != AC_DTYPE_F32) {
        ac_diag_where(d, "tensor \"%s\"", name);
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "calibration needs float tensors, got %s",
                       ac_dtype_name(t->dtype));
    }
    int64_t numel = 0;
    if (t->rank < 0 || (t->rank > 0 && !t->dims) || ac_dims_numel(t->dims, t->rank, &numel) != 0 ||
        numel != t->numel || (numel > 0 && !t->data) ||
        (t->data && t->nbytes < (size_t)numel * sizeof(float))) {
        ac_diag_where(d, "tensor \"%s\"", name);
        return AC_FAIL(d, AC_ERR_ARG, "inconsistent tensor (rank %d, numel %lld, %zu bytes)",
                       (int)t->rank, (long long)t->numel, t->nbytes);
    }
    int64_t n_samp = t->rank > 0 ? t->dims[0] : 1;
    int64_t per = n_samp > 0 ? numel / n_samp : 0; /* elements per sample */
    const float *x = t->data;

    /* Split big batches over the pool the caller lent (the session's, idle while its observer
     * runs); small ones are not worth the hand-off. */
    int64_t tasks = 1;
    if (c->pool && ac_threadpool_size(c->pool) > 1 && numel >= SPLIT_MIN)
        tasks = ac_threadpool_size(c->pool);

    /* A tensor seen before, at widths the float path handles: try one pass (the non-negative
     * kernel if it has never been negative, else the signed one at the usual width ratio). */
    if (c->simd && numel > 0 && per > 0 && numel / tasks + 1 < (int64_t)UINT32_MAX &&
        tasks <= AC_CALIB_SPEC_TASKS) {
        ac_calib_tensor *r = ac_calib_lookup(c, name, name_len, ac_calib_hash(name, name_len));
        if (r && r->n_values > 0 && r->abs_e >= -126 && r->abs_e <= 126) {
            int nonneg = r->min >= 0 && r->signed_e >= r->abs_e;
            int sgn = r->min < 0 && r->signed_e == r->abs_e + 1 && r->signed_e <= 126;
            if (nonneg || sgn) {
                AC_TRY(bin_buffers(c, tasks, n_samp, d));
                if (nonneg ? observe_speculative(c, r, x, per, n_samp, tasks)
                           : observe_speculative_signed(c, r, x, per, n_samp, tasks))
                    return AC_OK;
            }
        }
    }

    /* Pass 1 validates and finds the batch's extremes before anything is recorded, so a failing
     * batch leaves the statistics as they were. */
    float lo = 0, hi = 0;
    if (numel > 0 && extremes(x, numel, &lo, &hi)) {
        /* finite everywhere; lo/hi hold the extremes */
    } else for (int64_t i = 0; i < numel; i++) {
        float v = x[i];
        if (!isfinite(v)) {
            ac_diag_where(d, "tensor \"%s\"", name);
            return AC_FAIL(d, AC_ERR_MODEL,
                           "image %lld: %s at element %lld of the sample (calibration needs "
                           "finite activations)",
                           (long long)(first_image_index + i / per), nonfinite_name(v),
                           (long long)(i % per));
        }
        if (i == 0 || v < lo) lo = v;
        if (i == 0 || v > hi) hi = v;
    }
    /* canonical zero: 0.0 and -0.0 compare equal, so which one a comparison keeps would depend
     * on arrival order */
    if (lo == 0) lo = 0.0f;
    if (hi == 0) hi = 0.0f;

    AC_TRY(bin_buffers(c, tasks, n_samp > 0 ? n_samp : 1, d));
    uint64_t hash = ac_calib_hash(name, name_len);
    ac_calib_tensor *r = ac_calib_lookup(c, name, name_len, hash);
    if (!r) {
        AC_TRY(ac_calib_reserve(c, 1, d));
        r = ac_calib_tensor_new(name, name_len, c->nbins);
        if (!r) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory adding tensor \"%s\"", name);
        ac_calib_insert(c, r);
    }
    if (numel == 0) return AC_OK;

    int32_t nbins = c->nbins;
    double amax = -(double)lo > (double)hi ? -(double)lo : (double)hi;
    int32_t e = ac_calib_abs_e_for(amax, nbins);
    if (e > r->abs_e) {
        ac_calib_coarsen_abs(r->abs_hist, nbins, e - r->abs_e);
        r->abs_e = e;
    }
    e = ac_calib_signed_e_for(lo, nbins);
    int32_t e2 = ac_calib_signed_e_for(hi, nbins);
    if (e2 > e) e = e2;
    if (e > r->signed_e) {
        ac_calib_coarsen_signed(r->signed_hist, nbins, e - r->signed_e);
        r->signed_e = e;
    }
    add_values(c, r, x, per, n_samp, lo, hi, tasks);
    if (r->n_values == 0) {
        r->min = lo;
        r->max = hi;
    } else {
        if (lo < r->min) r->min = lo;
        if (hi > r->max) r->max = hi;
    }
    r->n_samples += n_samp;
    r->n_values += (uint64_t)numel;
    return AC_OK;
}

int ac_calib_want(const ac_value *v, void *user) {
    (void)user;
    if (!v || (v->flags & AC_VALUE_INITIALIZER)) return 0;
    return v->dtype == AC_DTYPE_F32 || v->dtype == AC_DTYPE_UNDEFINED;
}

ac_status ac_calib_observer(const ac_value *v, const ac_tensor *t, void *user, ac_diag *d) {
    ac_calib *c = user;
    if (!c || !v || !t) return AC_FAIL(d, AC_ERR_ARG, "ac_calib_observer: NULL argument");
    if (t->dtype != AC_DTYPE_F32) return AC_OK;
    return ac_calib_observe(c, v->name, t, c->image, d);
}

/* ---- merge and accessors ------------------------------------------------------------------ */

ac_status ac_calib_merge(ac_calib *dst, const ac_calib *src, ac_diag *d) {
    if (!dst || !src || dst == src)
        return AC_FAIL(d, AC_ERR_ARG, "ac_calib_merge: needs two distinct collectors");
    if (dst->nbins != src->nbins)
        return AC_FAIL(d, AC_ERR_ARG, "cannot merge statistics with %d bins into %d bins",
                       (int)src->nbins, (int)dst->nbins);
    /* Everything that can fail happens first (new records, table growth), so a failure leaves
     * dst unchanged; the merge itself cannot fail. */
    int64_t n_new = 0;
    for (int64_t i = 0; i < src->count; i++) {
        const ac_calib_tensor *t = src->tensors[i];
        if (!ac_calib_lookup(dst, t->name, t->name_len, t->hash)) n_new++;
    }
    ac_calib_tensor **fresh = NULL;
    if (n_new > 0) {
        AC_TRY(ac_calib_reserve(dst, n_new, d));
        fresh = ac_calloc((size_t)n_new, sizeof *fresh);
        if (!fresh) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory merging statistics");
        int64_t k = 0;
        for (int64_t i = 0; i < src->count; i++) {
            const ac_calib_tensor *t = src->tensors[i];
            if (ac_calib_lookup(dst, t->name, t->name_len, t->hash)) continue;
            fresh[k] = ac_calib_tensor_new(t->name, t->name_len, dst->nbins);
            if (!fresh[k]) {
                for (int64_t j = 0; j < k; j++)
                    ac_calib_tensor_free(fresh[j]);
                ac_free(fresh);
                return AC_FAIL(d, AC_ERR_NOMEM, "out of memory merging statistics");
            }
            k++;
        }
    }
    int64_t k = 0;
    for (int64_t i = 0; i < src->count; i++) {
        const ac_calib_tensor *t = src->tensors[i];
        ac_calib_tensor *r = ac_calib_lookup(dst, t->name, t->name_len, t->hash);
        if (!r) {
            r = fresh[k++];
            ac_calib_insert(dst, r);
        }
        ac_calib_tensor_merge(r, t, dst->nbins);
    }
    ac_free(fresh);
    return AC_OK;
}

int64_t ac_calib_count(const ac_calib *c) {
    return c ? c->count : 0;
}

int32_t ac_calib_nbins(const ac_calib *c) {
    return c ? c->nbins : 0;
}

size_t ac_calib_bytes(const ac_calib *c) {
    if (!c) return 0;
    size_t n =
        sizeof *c + (size_t)c->cap * sizeof *c->tensors + (size_t)c->n_slots * sizeof *c->slots;
    for (int64_t i = 0; i < c->count; i++)
        n += sizeof(ac_calib_tensor) + c->tensors[i]->name_len + 1 +
             2 * (size_t)c->nbins * sizeof(uint64_t);
    n += c->scratch_len * sizeof *c->scratch + c->scratch32_len * sizeof *c->scratch32 +
         c->pmax_len * sizeof *c->pmax;
    return n;
}

ac_status ac_calib_stats_at(const ac_calib *c, int64_t i, ac_calib_stats *out, ac_diag *d) {
    if (!c || i < 0 || i >= c->count)
        return AC_FAIL(d, AC_ERR_ARG, "tensor index %lld out of range [0, %lld)", (long long)i,
                       (long long)(c ? c->count : 0));
    ac_calib_tensor_view(c->tensors[i], c->nbins, out);
    return AC_OK;
}

ac_status ac_calib_find(const ac_calib *c, const char *name, ac_calib_stats *out, ac_diag *d) {
    if (!c || !name) return AC_FAIL(d, AC_ERR_ARG, "ac_calib_find: NULL argument");
    size_t n = strlen(name);
    const ac_calib_tensor *t = ac_calib_lookup(c, name, n, ac_calib_hash(name, n));
    if (!t) {
        ac_diag_where(d, "tensor \"%s\"", name);
        return AC_FAIL(d, AC_ERR_ARG, "no calibration statistics (never observed)");
    }
    ac_calib_tensor_view(t, c->nbins, out);
    return AC_OK;
}
