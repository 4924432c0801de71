/* SPDX-License-Identifier: MIT */
/* The statistics file: deterministic little-endian serialization (sorted by name) with a
 * trailing CRC-32, and a loader that validates structure, checksum and consistency before it
 * trusts a byte. Layout in ac_calib.h. */
#include "calib_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "ACCALIB\0"
#define VERSION 1u
#define HEADER_BYTES 32u
/* per tensor, besides the name (and its length) and the histograms */
#define FIXED_BYTES (8u + 8u + 4u + 4u + 4u * AC_CALIB_ACC_LIMBS + 4u + 4u)

/* CRC-32 (IEEE 802.3, reflected, as zlib), 4 bits at a time: a 16-entry table needs no lazy
 * initialisation (thread-safe) and is fast enough for files of a few MiB. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
    static const uint32_t tab[16] = {0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu,
                                     0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
                                     0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
                                     0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ tab[crc & 15];
        crc = (crc >> 4) ^ tab[crc & 15];
    }
    return ~crc;
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- save ----------------------------------------------------------------------------- */

/* Output goes either to a growing memory buffer or to an atomic file; the CRC runs along. */
typedef struct sink {
    ac_atomic_file *f;
    uint8_t *buf;
    size_t len, cap;
    uint32_t crc;
} sink;

static ac_status emit(sink *s, const uint8_t *p, size_t n, ac_diag *d) {
    s->crc = crc32_update(s->crc, p, n);
    if (s->f) return ac_atomic_write(s->f, p, n, d);
    if (n > s->cap - s->len) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap - s->len < n)
            cap *= 2;
        uint8_t *b = ac_realloc(s->buf, cap);
        if (!b) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory serializing statistics");
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return AC_OK;
}

static int cmp_tensor_name(const void *a, const void *b) {
    const ac_calib_tensor *x = *(const ac_calib_tensor *const *)a;
    const ac_calib_tensor *y = *(const ac_calib_tensor *const *)b;
    return strcmp(x->name, y->name);
}

static ac_status write_all(const ac_calib *c, sink *s, ac_diag *d) {
    ac_status st = AC_OK;
    size_t hist_bytes = 2 * (size_t)c->nbins * 8;
    uint8_t *rec = ac_malloc(FIXED_BYTES + hist_bytes);
    const ac_calib_tensor **order = ac_malloc_array((size_t)c->count + 1, sizeof *order);
    if (!rec || !order) {
        st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory serializing statistics");
        goto done;
    }
    /* sorted by name: the bytes must not depend on observation or merge order */
    for (int64_t i = 0; i < c->count; i++)
        order[i] = c->tensors[i];
    qsort(order, (size_t)c->count, sizeof *order, cmp_tensor_name);

    uint8_t hdr[HEADER_BYTES] = {0};
    memcpy(hdr, MAGIC, 8);
    put_u32(hdr + 8, VERSION);
    put_u32(hdr + 12, 0);
    put_u32(hdr + 16, (uint32_t)c->nbins);
    put_u32(hdr + 20, 0);
    put_u64(hdr + 24, (uint64_t)c->count);
    if ((st = emit(s, hdr, sizeof hdr, d)) != AC_OK) goto done;
    for (int64_t i = 0; i < c->count; i++) {
        const ac_calib_tensor *t = order[i];
        uint8_t nl[4];
        put_u32(nl, t->name_len);
        if ((st = emit(s, nl, 4, d)) != AC_OK) goto done;
        if ((st = emit(s, (const uint8_t *)t->name, t->name_len, d)) != AC_OK) goto done;
        uint8_t *p = rec;
        put_u64(p, (uint64_t)t->n_samples), p += 8;
        put_u64(p, t->n_values), p += 8;
        put_u32(p, f32_bits(t->min)), p += 4;
        put_u32(p, f32_bits(t->max)), p += 4;
        for (int k = 0; k < AC_CALIB_ACC_LIMBS; k++)
            put_u32(p, t->acc[k]), p += 4;
        put_u32(p, (uint32_t)t->abs_e), p += 4;
        put_u32(p, (uint32_t)t->signed_e), p += 4;
        for (int32_t k = 0; k < c->nbins; k++)
            put_u64(p, t->abs_hist[k]), p += 8;
        for (int32_t k = 0; k < c->nbins; k++)
            put_u64(p, t->signed_hist[k]), p += 8;
        if ((st = emit(s, rec, (size_t)(p - rec), d)) != AC_OK) goto done;
    }
    uint8_t tail[4];
    put_u32(tail, s->crc);
    st = emit(s, tail, 4, d);
done:
    ac_free(rec);
    ac_free(order);
    return st;
}

ac_status ac_calib_save_buffer(const ac_calib *c, uint8_t **out, size_t *out_len, ac_diag *d) {
    *out = NULL;
    *out_len = 0;
    if (!c) return AC_FAIL(d, AC_ERR_ARG, "ac_calib_save_buffer: NULL collector");
    sink s = {0};
    ac_status st = write_all(c, &s, d);
    if (st != AC_OK) {
        ac_free(s.buf);
        return st;
    }
    *out = s.buf;
    *out_len = s.len;
    return AC_OK;
}

ac_status ac_calib_save(const ac_calib *c, const char *path, ac_diag *d) {
    if (!c || !path) return AC_FAIL(d, AC_ERR_ARG, "ac_calib_save: NULL argument");
    sink s = {0};
    ac_status st = ac_atomic_open(path, &s.f, d);
    if (st == AC_OK) st = write_all(c, &s, d);
    if (st == AC_OK) {
        st = ac_atomic_commit(s.f, d); /* frees s.f either way */
    } else if (s.f) {
        ac_atomic_abort(s.f);
    }
    return st;
}

/* ---- load ----------------------------------------------------------------------------- */

/* Checks one record's consistency: the invariants every collector keeps, so a file that
 * passes is one we could have written (and saving it again gives the same bytes). */
static ac_status check_tensor(const ac_calib_tensor *t, int32_t nbins, int64_t idx, ac_diag *d) {
#define BAD(...)                                                                                   \
    do {                                                                                           \
        ac_diag_where(d, "tensor %lld \"%.200s\"", (long long)idx, t->name);                       \
        return AC_FAIL(d, AC_ERR_FORMAT, __VA_ARGS__);                                             \
    } while (0)
    if (t->n_samples < 0 || (uint64_t)t->n_samples > t->n_values)
        BAD("%lld samples for %llu values", (long long)t->n_samples,
            (unsigned long long)t->n_values);
    if ((t->n_samples == 0) != (t->n_values == 0))
        BAD("%lld samples for %llu values", (long long)t->n_samples,
            (unsigned long long)t->n_values);
    if (!isfinite(t->min) || !isfinite(t->max) || !(t->min <= t->max))
        BAD("invalid range [%g, %g]", (double)t->min, (double)t->max);
    if ((t->min == 0 && signbit(t->min)) || (t->max == 0 && signbit(t->max)))
        BAD("negative zero in the range (not canonical)");
    if (t->abs_e < AC_CALIB_HIST_E_MIN || t->abs_e > AC_CALIB_HIST_E_MAX ||
        t->signed_e < AC_CALIB_HIST_E_MIN || t->signed_e > AC_CALIB_HIST_E_MAX)
        BAD("bin width exponents %d, %d out of range [%d, %d]", (int)t->abs_e, (int)t->signed_e,
            AC_CALIB_HIST_E_MIN, AC_CALIB_HIST_E_MAX);
    double amax = -(double)t->min > (double)t->max ? -(double)t->min : (double)t->max;
    int32_t es = ac_calib_signed_e_for(t->min, nbins), es2 = ac_calib_signed_e_for(t->max, nbins);
    if (es2 > es) es = es2;
    if (t->abs_e != ac_calib_abs_e_for(amax, nbins) || t->signed_e != es)
        BAD("bin width exponents %d, %d are not the ones of the range [%g, %g]", (int)t->abs_e,
            (int)t->signed_e, (double)t->min, (double)t->max);
    uint64_t sa = 0, ss = 0;
    int32_t a_top = -1, s_lo = -1, s_hi = -1;
    for (int32_t k = 0; k < nbins; k++) {
        if (t->abs_hist[k]) a_top = k;
        if (t->signed_hist[k]) {
            if (s_lo < 0) s_lo = k;
            s_hi = k;
        }
        if (t->abs_hist[k] > UINT64_MAX - sa || t->signed_hist[k] > UINT64_MAX - ss)
            BAD("histogram counts overflow");
        sa += t->abs_hist[k];
        ss += t->signed_hist[k];
    }
    if (sa != t->n_values || ss != t->n_values)
        BAD("histogram totals %llu and %llu differ from the %llu values", (unsigned long long)sa,
            (unsigned long long)ss, (unsigned long long)t->n_values);
    if (t->n_values == 0) {
        if (t->min != 0 || t->max != 0) BAD("a range without values");
        for (int k = 0; k < AC_CALIB_ACC_LIMBS; k++)
            if (t->acc[k]) BAD("a sample sum without samples");
        return AC_OK;
    }
    if (a_top != ac_calib_abs_bin(amax, t->abs_e) ||
        s_lo != ac_calib_signed_bin(t->min, t->signed_e, nbins) ||
        s_hi != ac_calib_signed_bin(t->max, t->signed_e, nbins))
        BAD("histograms do not end at the range [%g, %g]", (double)t->min, (double)t->max);
    /* the mean of per-sample maxima cannot exceed the abs-max (small slack for the rounding of
     * the conversion to double) */
    double avg = ac_calib_acc_to_double(t->acc) / (double)t->n_samples;
    if (!(avg <= amax * (1 + 1e-9))) BAD("mean per-sample max %g above the abs-max %g", avg, amax);
    return AC_OK;
#undef BAD
}

ac_status ac_calib_load_buffer(const uint8_t *buf, size_t len, const ac_calib_opts *o,
                               ac_calib **out, ac_diag *d) {
    *out = NULL;
    ac_calib_opts r = {0};
    AC_TRY(ac_calib_resolve_opts(
        o ? &(ac_calib_opts){.max_tensors = o->max_tensors, .max_file_bytes = o->max_file_bytes}
          : NULL,
        &r, d));
    if (!buf && len) return AC_FAIL(d, AC_ERR_ARG, "ac_calib_load_buffer: NULL buffer");
    if (len < HEADER_BYTES + 4)
        return AC_FAIL(d, AC_ERR_FORMAT,
                       "truncated: %zu bytes, shorter than the %u-byte header "
                       "and checksum",
                       len, HEADER_BYTES + 4);
    if (memcmp(buf, MAGIC, 8) != 0)
        return AC_FAIL(d, AC_ERR_FORMAT, "not a calibration statistics file (bad magic)");
    uint32_t version = get_u32(buf + 8);
    if (version == 0) return AC_FAIL(d, AC_ERR_FORMAT, "invalid version 0");
    if (version > VERSION)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                       "statistics file version %u is newer than this build reads (%u)", version,
                       VERSION);
    if (get_u32(buf + 12) != 0 || get_u32(buf + 20) != 0)
        return AC_FAIL(d, AC_ERR_FORMAT, "unknown flags or reserved bits set");
    uint32_t nbins = get_u32(buf + 16);
    if (nbins < AC_CALIB_MIN_BINS || nbins > AC_CALIB_MAX_BINS || nbins % 2)
        return AC_FAIL(d, AC_ERR_FORMAT, "bin count %u is not even in [%d, %d]", nbins,
                       AC_CALIB_MIN_BINS, AC_CALIB_MAX_BINS);
    uint64_t n_tensors = get_u64(buf + 24);
    size_t rec_min = 4 + 1 + FIXED_BYTES + 2 * (size_t)nbins * 8;
    size_t room = (len - HEADER_BYTES - 4) / rec_min;
    if (n_tensors > (uint64_t)r.max_tensors)
        return AC_FAIL(d, AC_ERR_LIMIT, "%llu tensors, over the limit of %lld",
                       (unsigned long long)n_tensors, (long long)r.max_tensors);
    if (n_tensors > room)
        return AC_FAIL(d, AC_ERR_FORMAT,
                       "claims %llu tensors but %zu bytes hold at most %zu (truncated?)",
                       (unsigned long long)n_tensors, len, room);

    /* Structure first (every length against the bytes left), so truncation reads as such and
     * not as a checksum mismatch; then the checksum; then the contents. */
    size_t pos = HEADER_BYTES;
    size_t body = FIXED_BYTES + 2 * (size_t)nbins * 8;
    for (uint64_t i = 0; i < n_tensors; i++) {
        if (len - pos < 4)
            return AC_FAIL(d, AC_ERR_FORMAT, "truncated in tensor %llu of %llu (byte %zu)",
                           (unsigned long long)i, (unsigned long long)n_tensors, pos);
        uint32_t nl = get_u32(buf + pos);
        if (nl == 0 || nl > AC_CALIB_MAX_NAME)
            return AC_FAIL(d, AC_ERR_FORMAT, "tensor %llu: name length %u not in [1, %d]",
                           (unsigned long long)i, nl, AC_CALIB_MAX_NAME);
        if (len - pos - 4 < (size_t)nl + body)
            return AC_FAIL(d, AC_ERR_FORMAT, "truncated in tensor %llu of %llu (byte %zu)",
                           (unsigned long long)i, (unsigned long long)n_tensors, pos);
        pos += 4 + nl + body;
    }
    if (len - pos < 4)
        return AC_FAIL(d, AC_ERR_FORMAT, "truncated before the checksum (byte %zu)", pos);
    if (len - pos > 4)
        return AC_FAIL(d, AC_ERR_FORMAT, "%zu unexpected bytes after the checksum", len - pos - 4);
    uint32_t want = get_u32(buf + pos), got = crc32_update(0, buf, pos);
    if (want != got)
        return AC_FAIL(d, AC_ERR_FORMAT,
                       "checksum mismatch (file is corrupt): stored %08x, "
                       "computed %08x",
                       want, got);

    ac_calib *c;
    ac_calib_opts co = r;
    co.nbins = (int32_t)nbins;
    AC_TRY(ac_calib_new(&co, &c, d));
    ac_status st = ac_calib_reserve(c, (int64_t)n_tensors, d);
    const ac_calib_tensor *prev = NULL;
    pos = HEADER_BYTES;
    for (uint64_t i = 0; st == AC_OK && i < n_tensors; i++) {
        uint32_t nl = get_u32(buf + pos);
        const char *name = (const char *)buf + pos + 4;
        pos += 4 + nl;
        if (memchr(name, 0, nl)) {
            st = AC_FAIL(d, AC_ERR_FORMAT, "tensor %llu: NUL byte in the name",
                         (unsigned long long)i);
            break;
        }
        ac_calib_tensor *t = ac_calib_tensor_new(name, nl, (int32_t)nbins);
        if (!t) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory loading statistics");
            break;
        }
        const uint8_t *p = buf + pos;
        t->n_samples = (int64_t)get_u64(p), p += 8;
        t->n_values = get_u64(p), p += 8;
        t->min = bits_f32(get_u32(p)), p += 4;
        t->max = bits_f32(get_u32(p)), p += 4;
        for (int k = 0; k < AC_CALIB_ACC_LIMBS; k++)
            t->acc[k] = get_u32(p), p += 4;
        t->abs_e = (int32_t)get_u32(p), p += 4;
        t->signed_e = (int32_t)get_u32(p), p += 4;
        for (uint32_t k = 0; k < nbins; k++)
            t->abs_hist[k] = get_u64(p), p += 8;
        for (uint32_t k = 0; k < nbins; k++)
            t->signed_hist[k] = get_u64(p), p += 8;
        pos += body;
        /* strictly increasing names: sorted (the canonical order) and unique */
        if (prev && strcmp(prev->name, t->name) >= 0) {
            ac_diag_where(d, "tensor %llu \"%.200s\"", (unsigned long long)i, t->name);
            st = AC_FAIL(d, AC_ERR_FORMAT, "names not sorted or repeated (after \"%.200s\")",
                         prev->name);
            ac_calib_tensor_free(t);
            break;
        }
        st = check_tensor(t, (int32_t)nbins, (int64_t)i, d);
        if (st != AC_OK) {
            ac_calib_tensor_free(t);
            break;
        }
        ac_calib_insert(c, t);
        prev = t;
    }
    if (st != AC_OK) {
        ac_calib_free(c);
        return st;
    }
    *out = c;
    return AC_OK;
}

ac_status ac_calib_load(const char *path, const ac_calib_opts *o, ac_calib **out, ac_diag *d) {
    *out = NULL;
    if (!path) return AC_FAIL(d, AC_ERR_ARG, "ac_calib_load: NULL path");
    ac_calib_opts r = {0};
    ac_status st = ac_calib_resolve_opts(
        o ? &(ac_calib_opts){.max_tensors = o->max_tensors, .max_file_bytes = o->max_file_bytes}
          : NULL,
        &r, d);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (st == AC_OK) st = ac_file_read_all(path, r.max_file_bytes, &buf, &len, d);
    if (st == AC_OK) st = ac_calib_load_buffer(buf, len, o, out, d);
    ac_free(buf);
    if (st != AC_OK) ac_diag_prefix(d, "%s", path);
    return st;
}
