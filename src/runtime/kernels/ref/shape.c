/* SPDX-License-Identifier: MIT */
/* Reference kernels of the shape family. Data movement is byte-wise (the element size comes from
 * the dtype), so one kernel serves every type. Copies are split in chunks of ~64 KiB over the
 * pool; every output byte is written by exactly one task, so results do not depend on the
 * thread count. */
#include "../../ops/shape.h"

#include <math.h>
#include <string.h>

/* Work per task: enough bytes that handing a task to a thread pays off. */
#define CHUNK_BYTES ((int64_t)1 << 16)

static int64_t per_task(size_t item_bytes) {
    int64_t per = CHUNK_BYTES / (int64_t)(item_bytes ? item_bytes : 1);
    return per < 1 ? 1 : per;
}

static int64_t n_tasks(int64_t items, int64_t per) { return (items + per - 1) / per; }

/* ---- plain copies: Reshape, Flatten, Squeeze, Unsqueeze, Identity ------------------------ */

typedef struct copy_job {
    uint8_t *dst;
    const uint8_t *src;
    size_t n;
} copy_job;

static void copy_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const copy_job *j = user;
    size_t lo = (size_t)task * (size_t)CHUNK_BYTES, len = j->n - lo;
    if (len > (size_t)CHUNK_BYTES) len = (size_t)CHUNK_BYTES;
    memcpy(j->dst + lo, j->src + lo, len);
}

static void copy_bytes(const rt_ctx *x, void *dst, const void *src, size_t n) {
    if (!n || dst == src) return;
    copy_job j = {dst, src, n};
    rt_parallel_for(x, n_tasks((int64_t)n, CHUNK_BYTES), copy_task, &j);
}

static void run_copy(const rt_node *n, const rt_ctx *x) {
    copy_bytes(x, n->out[0]->data, n->in[0]->data, n->out[0]->nbytes);
}

static int score_copy(const rt_node *n) {
    ac_status (*f)(rt_plan *, rt_node *, ac_diag *) = n->op->infer;
    return f == rt_infer_reshape || f == rt_infer_flatten || f == rt_infer_squeeze ||
           f == rt_infer_unsqueeze || f == rt_infer_identity;
}

const rt_kernel rt_k_copy_ref = {"copy_ref", "*", AC_ISA_REF, score_copy, NULL, run_copy};

/* ---- Constant, ConstantOfShape, Shape, Size ---------------------------------------------- */

static void run_constant(const rt_node *n, const rt_ctx *x) {
    (void)x;
    const rt_constant_params *c = n->params;
    if (c->nbytes) memcpy(n->out[0]->data, c->data, c->nbytes);
}

const rt_kernel rt_k_constant_ref = {"constant_ref", "Constant", AC_ISA_REF, NULL, NULL,
                                     run_constant};

/* Fills n elements of es bytes with the element at `one`. */
static void fill_elems(uint8_t *dst, const void *one, size_t es, int64_t n) {
    for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * es, one, es);
}

static void run_constant_of_shape(const rt_node *n, const rt_ctx *x) {
    (void)x;
    const rt_constant_params *c = n->params;
    fill_elems(n->out[0]->data, c->data, c->elsize, n->out[0]->numel);
}

const rt_kernel rt_k_constant_of_shape_ref = {"constant_of_shape_ref", "ConstantOfShape",
                                              AC_ISA_REF, NULL, NULL, run_constant_of_shape};

void rt_shape_fill(const rt_node *n) {
    const rt_shape_params *s = n->params;
    int64_t *y = n->out[0]->data;
    for (int32_t i = s->start; i < s->end; i++) y[i - s->start] = n->in[0]->dims[i];
}

void rt_size_fill(const rt_node *n) { *(int64_t *)n->out[0]->data = n->in[0]->numel; }

static void run_shape(const rt_node *n, const rt_ctx *x) {
    (void)x;
    rt_shape_fill(n);
}

static void run_size(const rt_node *n, const rt_ctx *x) {
    (void)x;
    rt_size_fill(n);
}

const rt_kernel rt_k_shape_ref = {"shape_ref", "Shape", AC_ISA_REF, NULL, NULL, run_shape};
const rt_kernel rt_k_size_ref = {"size_ref", "Size", AC_ISA_REF, NULL, NULL, run_size};

/* ---- Cast -------------------------------------------------------------------------------- */

/* A number in transit: integers keep all 64 bits, floats go through double. */
typedef struct num {
    enum { NUM_F, NUM_S, NUM_U } kind;
    double f;
    int64_t i;
    uint64_t u;
} num;

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0) { /* zero or subnormal: m * 2^-24 is exact in float */
        float v = (float)m * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (e == 31) return bits_f32(sign | 0x7f800000u | (m << 13));
    return bits_f32(sign | ((e + 112) << 23) | (m << 13));
}

/* float -> half, round to nearest even (F. Giesen's float_to_half_fast3_rtne); NaN keeps its top
 * payload bits and stays NaN, as numpy does. */
static uint16_t f32_to_f16(float f) {
    uint32_t u = f32_bits(f), sign = u & 0x80000000u;
    u ^= sign;
    uint16_t o;
    if (u >= 0x47800000u) { /* >= 65536: Inf, or NaN */
        if (u > 0x7f800000u) {
            o = (uint16_t)(0x7c00u + ((u & 0x7fffffu) >> 13));
            if (o == 0x7c00u) o++;
        } else {
            o = 0x7c00u;
        }
    } else if (u < (113u << 23)) { /* subnormal or zero: let the FPU round at 2^-24 */
        float v = bits_f32(u) + 0.5f;
        o = (uint16_t)(f32_bits(v) - 0x3f000000u);
    } else {
        uint32_t odd = (u >> 13) & 1;
        u += ((uint32_t)(15 - 127) << 23) + 0xfffu + odd;
        o = (uint16_t)(u >> 13);
    }
    return (uint16_t)(o | (sign >> 16));
}

/* double -> float rounding to odd: truncate, then set the last bit if anything was dropped.
 * Rounding that again to fewer bits (half, bfloat16) equals rounding the double directly. */
static float f64_to_f32_odd(double v) {
    if (v != v || isinf(v)) return (float)v;
    float f = (float)v;
    if (isinf(f) || fabs((double)f) > fabs(v)) f = nextafterf(f, 0.0f);
    if ((double)f != v) f = bits_f32(f32_bits(f) | 1u);
    return f;
}

static uint16_t f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static num load_num(ac_dtype t, const uint8_t *p) {
    num v = {NUM_S, 0, 0, 0};
    switch (t) {
    case AC_DTYPE_F32: { float x; memcpy(&x, p, 4); v.kind = NUM_F; v.f = x; break; }
    case AC_DTYPE_F64: { memcpy(&v.f, p, 8); v.kind = NUM_F; break; }
    case AC_DTYPE_F16: { uint16_t h; memcpy(&h, p, 2); v.kind = NUM_F; v.f = f16_to_f32(h);
                         break; }
    case AC_DTYPE_BF16: { uint16_t h; memcpy(&h, p, 2); v.kind = NUM_F;
                          v.f = bits_f32((uint32_t)h << 16); break; }
    case AC_DTYPE_S8: { int8_t x; memcpy(&x, p, 1); v.i = x; break; }
    case AC_DTYPE_S16: { int16_t x; memcpy(&x, p, 2); v.i = x; break; }
    case AC_DTYPE_S32: { int32_t x; memcpy(&x, p, 4); v.i = x; break; }
    case AC_DTYPE_S64: { memcpy(&v.i, p, 8); break; }
    case AC_DTYPE_BOOL: v.i = p[0] != 0; break;
    case AC_DTYPE_U8: v.kind = NUM_U; v.u = p[0]; break;
    case AC_DTYPE_U16: { uint16_t x; memcpy(&x, p, 2); v.kind = NUM_U; v.u = x; break; }
    case AC_DTYPE_U32: { uint32_t x; memcpy(&x, p, 4); v.kind = NUM_U; v.u = x; break; }
    case AC_DTYPE_U64: { memcpy(&v.u, p, 8); v.kind = NUM_U; break; }
    default: break;
    }
    return v;
}

/* Float to integer: truncation toward zero; NaN gives 0 and out-of-range values saturate at the
 * int64 range (C leaves them undefined), then narrow like an integer would. */
static uint64_t float_to_bits(double f, int unsigned64) {
    if (f != f) return 0;
    if (unsigned64 && f >= 0) return f >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)f;
    if (f >= 9223372036854775808.0) return (uint64_t)INT64_MAX;
    if (f < -9223372036854775808.0) return (uint64_t)INT64_MIN;
    return (uint64_t)(int64_t)f;
}

static void store_num(ac_dtype t, uint8_t *p, num v) {
    double f = v.kind == NUM_F ? v.f : v.kind == NUM_S ? (double)v.i : (double)v.u;
    uint64_t bits = v.kind == NUM_F ? float_to_bits(v.f, t == AC_DTYPE_U64)
                  : v.kind == NUM_S ? (uint64_t)v.i : v.u;
    switch (t) {
    case AC_DTYPE_F32: {
        /* integers convert directly so int64 -> float rounds once */
        float x = v.kind == NUM_F ? (float)v.f : v.kind == NUM_S ? (float)v.i : (float)v.u;
        memcpy(p, &x, 4);
        break;
    }
    case AC_DTYPE_F64: memcpy(p, &f, 8); break;
    case AC_DTYPE_F16: { uint16_t h = f32_to_f16(f64_to_f32_odd(f)); memcpy(p, &h, 2); break; }
    case AC_DTYPE_BF16: { uint16_t h = f32_to_bf16(f64_to_f32_odd(f)); memcpy(p, &h, 2); break; }
    case AC_DTYPE_BOOL:
        p[0] = v.kind == NUM_F ? v.f != 0 : v.kind == NUM_S ? v.i != 0 : v.u != 0;
        break;
    case AC_DTYPE_S8: case AC_DTYPE_U8: p[0] = (uint8_t)bits; break;
    case AC_DTYPE_S16: case AC_DTYPE_U16: { uint16_t x = (uint16_t)bits; memcpy(p, &x, 2); break; }
    case AC_DTYPE_S32: case AC_DTYPE_U32: { uint32_t x = (uint32_t)bits; memcpy(p, &x, 4); break; }
    case AC_DTYPE_S64: case AC_DTYPE_U64: memcpy(p, &bits, 8); break;
    default: break;
    }
}

typedef struct cast_job {
    const rt_node *n;
    int64_t per;
} cast_job;

static void cast_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const cast_job *j = user;
    const rt_tensor *in = j->n->in[0], *out = j->n->out[0];
    int64_t lo = task * j->per, hi = lo + j->per;
    if (hi > out->numel) hi = out->numel;
    size_t is = rt_elsize(in->dtype), os = rt_elsize(out->dtype);
    const uint8_t *src = in->data;
    uint8_t *dst = out->data;
    /* the common pairs get direct loops; everything else goes through `num` */
    if (in->dtype == AC_DTYPE_F32 && out->dtype == AC_DTYPE_F16) {
        const float *a = in->data;
        uint16_t *b = out->data;
        for (int64_t i = lo; i < hi; i++) b[i] = f32_to_f16(a[i]);
    } else if (in->dtype == AC_DTYPE_F16 && out->dtype == AC_DTYPE_F32) {
        const uint16_t *a = in->data;
        float *b = out->data;
        for (int64_t i = lo; i < hi; i++) b[i] = f16_to_f32(a[i]);
    } else if (in->dtype == out->dtype) {
        memcpy(dst + (size_t)lo * os, src + (size_t)lo * is, (size_t)(hi - lo) * os);
    } else {
        for (int64_t i = lo; i < hi; i++)
            store_num(out->dtype, dst + (size_t)i * os, load_num(in->dtype, src + (size_t)i * is));
    }
}

static void run_cast(const rt_node *n, const rt_ctx *x) {
    cast_job j = {n, 1 << 14};
    rt_parallel_for(x, n_tasks(n->out[0]->numel, j.per), cast_task, &j);
}

const rt_kernel rt_k_cast_ref = {"cast_ref", "Cast", AC_ISA_REF, NULL, NULL, run_cast};

/* ---- Dropout (inference: the identity, mask all ones) ------------------------------------ */

static void run_dropout(const rt_node *n, const rt_ctx *x) {
    copy_bytes(x, n->out[0]->data, n->in[0]->data, n->out[0]->nbytes);
    if (n->n_out > 1 && n->out[1]) {
        const rt_tensor *m = n->out[1];
        size_t es = rt_elsize(m->dtype);
        uint8_t one[16] = {0};
        num v = {NUM_S, 0, 1, 0};
        store_num(m->dtype, one, v);
        fill_elems(m->data, one, es, m->numel);
    }
}

const rt_kernel rt_k_dropout_ref = {"dropout_ref", "Dropout", AC_ISA_REF, NULL, NULL,
                                    run_dropout};

/* ---- strided copies: Transpose, Slice, Expand, Tile, DepthToSpace, SpaceToDepth -------- */

/* Copies n elements of es bytes from src walking `stride` elements to contiguous dst. */
static void gather_row(uint8_t *dst, const uint8_t *src, int64_t n, int64_t stride, size_t es) {
    if (stride == 1) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    ptrdiff_t sb = (ptrdiff_t)stride * (ptrdiff_t)es;
    /* fixed sizes let the compiler turn memcpy into single moves */
    switch (es) {
    case 1: for (int64_t i = 0; i < n; i++) dst[i] = src[i * sb]; break;
    case 2: for (int64_t i = 0; i < n; i++) memcpy(dst + i * 2, src + i * sb, 2); break;
    case 4: for (int64_t i = 0; i < n; i++) memcpy(dst + i * 4, src + i * sb, 4); break;
    case 8: for (int64_t i = 0; i < n; i++) memcpy(dst + i * 8, src + i * sb, 8); break;
    default:
        for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * es, src + i * sb, es);
        break;
    }
}

typedef struct strided_job {
    const rt_strided_params *s;
    const uint8_t *in;
    uint8_t *out;
    int64_t rows, per;
} strided_job;

static void strided_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const strided_job *j = user;
    const rt_strided_params *s = j->s;
    int32_t last = s->rank - 1;
    int64_t inner = s->dims[last], r0 = task * j->per, r1 = r0 + j->per;
    if (r1 > j->rows) r1 = j->rows;
    /* coordinates of row r0 over the outer axes, then walk them like an odometer */
    int64_t c[RT_STRIDED_MAX] = {0}, off = s->offset, rem = r0;
    for (int32_t i = last - 1; i >= 0; i--) {
        c[i] = rem % s->dims[i];
        rem /= s->dims[i];
        off += c[i] * s->strides[i];
    }
    size_t es = s->elsize;
    for (int64_t row = r0; row < r1; row++) {
        gather_row(j->out + (size_t)(row * inner) * es, j->in + (ptrdiff_t)off * (ptrdiff_t)es,
                   inner, s->strides[last], es);
        for (int32_t i = last - 1; i >= 0; i--) {
            off += s->strides[i];
            if (++c[i] < s->dims[i]) break;
            off -= c[i] * s->strides[i];
            c[i] = 0;
        }
    }
}

static void run_strided(const rt_node *n, const rt_ctx *x) {
    const rt_strided_params *s = n->params;
    if (n->out[0]->numel == 0) return;
    int64_t inner = s->dims[s->rank - 1];
    strided_job j = {s, n->in[0]->data, n->out[0]->data, n->out[0]->numel / inner,
                     per_task((size_t)inner * s->elsize)};
    rt_parallel_for(x, n_tasks(j.rows, j.per), strided_task, &j);
}

static int score_strided(const rt_node *n) {
    ac_status (*f)(rt_plan *, rt_node *, ac_diag *) = n->op->infer;
    return f == rt_infer_transpose || f == rt_infer_slice || f == rt_infer_expand ||
           f == rt_infer_tile || f == rt_infer_depth_to_space || f == rt_infer_space_to_depth;
}

const rt_kernel rt_k_strided_ref = {"strided_ref", "*", AC_ISA_REF, score_strided, NULL,
                                    run_strided};

/* ---- Concat, Split ----------------------------------------------------------------------- */

/* Items are (row, part) pairs; a task copies `per` consecutive items. */
typedef struct concat_job {
    const rt_node *n;
    const rt_concat_params *c;
    int64_t items, per;
    int split;
} concat_job;

static void concat_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const concat_job *j = user;
    const rt_concat_params *c = j->c;
    int64_t lo = task * j->per, hi = lo + j->per;
    if (hi > j->items) hi = j->items;
    for (int64_t it = lo; it < hi; it++) {
        int64_t row = it / c->n_parts;
        int32_t k = (int32_t)(it % c->n_parts);
        size_t nb = c->part_bytes[k];
        if (!nb) continue;
        size_t big = (size_t)row * c->row_bytes + c->part_off[k], small = (size_t)row * nb;
        if (j->split) {
            if (j->n->out[k])
                memcpy((uint8_t *)j->n->out[k]->data + small,
                       (const uint8_t *)j->n->in[0]->data + big, nb);
        } else {
            memcpy((uint8_t *)j->n->out[0]->data + big,
                   (const uint8_t *)j->n->in[k]->data + small, nb);
        }
    }
}

static void run_concat_split(const rt_node *n, const rt_ctx *x, int split) {
    const rt_concat_params *c = n->params;
    if (!c->row_bytes || !c->outer) return;
    int64_t items = c->outer * c->n_parts;
    concat_job j = {n, c, items, per_task(c->row_bytes / (size_t)c->n_parts + 1), split};
    rt_parallel_for(x, n_tasks(items, j.per), concat_task, &j);
}

static void run_concat(const rt_node *n, const rt_ctx *x) { run_concat_split(n, x, 0); }
static void run_split(const rt_node *n, const rt_ctx *x) { run_concat_split(n, x, 1); }

const rt_kernel rt_k_concat_ref = {"concat_ref", "Concat", AC_ISA_REF, NULL, NULL, run_concat};
const rt_kernel rt_k_split_ref = {"split_ref", "Split", AC_ISA_REF, NULL, NULL, run_split};

/* ---- Gather ------------------------------------------------------------------------------ */

typedef struct gather_job {
    const rt_node *n;
    const rt_gather_params *g;
    int64_t n_idx, items, per;
} gather_job;

static void gather_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const gather_job *j = user;
    const rt_gather_params *g = j->g;
    const rt_tensor *idx = j->n->in[1];
    const uint8_t *src = j->n->in[0]->data;
    uint8_t *dst = j->n->out[0]->data;
    size_t nb = g->inner_bytes;
    int64_t lo = task * j->per, hi = lo + j->per;
    if (hi > j->items) hi = j->items;
    for (int64_t it = lo; it < hi; it++) {
        int64_t o = it / j->n_idx, k = it % j->n_idx;
        int64_t v = idx->dtype == AC_DTYPE_S64 ? ((const int64_t *)idx->data)[k]
                                                : ((const int32_t *)idx->data)[k];
        if (v < 0) v += g->axis_dim;
        if (v < 0 || v >= g->axis_dim) /* checked at plan time when constant; never read out */
            memset(dst + (size_t)it * nb, 0, nb);
        else
            memcpy(dst + (size_t)it * nb, src + (size_t)(o * g->axis_dim + v) * nb, nb);
    }
}

static void run_gather(const rt_node *n, const rt_ctx *x) {
    const rt_gather_params *g = n->params;
    int64_t n_idx = n->in[1]->numel;
    if (!n->out[0]->numel) return;
    gather_job j = {n, g, n_idx, g->outer * n_idx, per_task(g->inner_bytes)};
    rt_parallel_for(x, n_tasks(j.items, j.per), gather_task, &j);
}

const rt_kernel rt_k_gather_ref = {"gather_ref", "Gather", AC_ISA_REF, NULL, NULL, run_gather};

/* ---- Range ------------------------------------------------------------------------------- */

/* output[i] = start + i * delta, in the type's own arithmetic (the spec's definition) */
#define RANGE(T)                                                                                   \
    do {                                                                                           \
        T s = *(const T *)n->in[0]->data, dl = *(const T *)n->in[2]->data, *y = out->data;         \
        for (int64_t i = 0; i < out->numel; i++) y[i] = (T)(s + (T)i * dl);                        \
    } while (0)

static void run_range(const rt_node *n, const rt_ctx *x) {
    (void)x;
    const rt_tensor *out = n->out[0];
    switch (out->dtype) {
    case AC_DTYPE_F32: RANGE(float); break;
    case AC_DTYPE_F64: RANGE(double); break;
    case AC_DTYPE_S16: RANGE(int16_t); break;
    case AC_DTYPE_S32: RANGE(int32_t); break;
    case AC_DTYPE_S64: RANGE(int64_t); break;
    default: break;
    }
}

const rt_kernel rt_k_range_ref = {"range_ref", "Range", AC_ISA_REF, NULL, NULL, run_range};

/* ---- Pad --------------------------------------------------------------------------------- */

/* Position c relative to a window of w elements -> index in [0, w), or -1 for "use the constant
 * value". Reflect and wrap repeat periodically, as numpy.pad does for wide pads. */
static int64_t pad_map(int64_t c, int64_t w, rt_pad_mode mode) {
    if (c >= 0 && c < w) return c;
    switch (mode) {
    case RT_PAD_EDGE: return c < 0 ? 0 : w - 1;
    case RT_PAD_WRAP: {
        int64_t m = c % w;
        return m < 0 ? m + w : m;
    }
    case RT_PAD_REFLECT: {
        if (w == 1) return 0;
        int64_t period = 2 * (w - 1), m = c % period;
        if (m < 0) m += period;
        return m >= w ? period - m : m;
    }
    default: return -1;
    }
}

typedef struct pad_job {
    const rt_node *n;
    const rt_pad_params *pp;
    const uint8_t *fill;
    int64_t in_st[AC_MAX_RANK];
    int64_t out_dims[AC_MAX_RANK];
    int64_t rows, per;
} pad_job;

static void pad_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const pad_job *j = user;
    const rt_pad_params *pp = j->pp;
    int32_t r = pp->rank, last = r - 1;
    size_t es = pp->elsize;
    int64_t L = j->out_dims[last], r0 = task * j->per, r1 = r0 + j->per;
    if (r1 > j->rows) r1 = j->rows;
    const uint8_t *src = j->n->in[0]->data;
    uint8_t *dst = j->n->out[0]->data;
    int64_t pb = pp->before[last], w = pp->w[last], lo = pp->lo[last];
    for (int64_t row = r0; row < r1; row++) {
        uint8_t *y = dst + (size_t)(row * L) * es;
        /* source row: map every outer coordinate; a constant-mode miss fills the whole row */
        int64_t rem = row, off = 0, hit = 1;
        for (int32_t i = last - 1; i >= 0; i--) {
            int64_t c = rem % j->out_dims[i];
            rem /= j->out_dims[i];
            int64_t m = pad_map(c - pp->before[i], pp->w[i], pp->mode);
            if (m < 0) hit = 0;
            else off += (pp->lo[i] + m) * j->in_st[i];
        }
        if (!hit) {
            fill_elems(y, j->fill, es, L);
            continue;
        }
        const uint8_t *x = src + (size_t)(off + lo) * es;
        int64_t mid_end = pb + w < L ? pb + w : L;
        for (int64_t c = 0; c < pb && c < L; c++) {
            int64_t m = pad_map(c - pb, w, pp->mode);
            memcpy(y + (size_t)c * es, m < 0 ? j->fill : x + (size_t)m * es, es);
        }
        if (mid_end > pb) memcpy(y + (size_t)pb * es, x, (size_t)(mid_end - pb) * es);
        for (int64_t c = pb + w; c < L; c++) {
            int64_t m = pad_map(c - pb, w, pp->mode);
            memcpy(y + (size_t)c * es, m < 0 ? j->fill : x + (size_t)m * es, es);
        }
    }
}

static void run_pad(const rt_node *n, const rt_ctx *x) {
    const rt_pad_params *pp = n->params;
    const rt_tensor *out = n->out[0];
    if (!out->numel) return;
    /* a run-time constant_value (opset 11+) is read here, so it need not be a plan constant */
    const uint8_t *fill = n->n_in > 2 && n->in[2] ? n->in[2]->data : pp->fill;
    if (pp->rank == 0) {
        memcpy(out->data, n->in[0]->data, pp->elsize);
        return;
    }
    pad_job j;
    memset(&j, 0, sizeof j);
    j.n = n;
    j.pp = pp;
    j.fill = fill;
    int64_t s = 1;
    for (int32_t i = pp->rank - 1; i >= 0; i--) {
        j.in_st[i] = s;
        s *= n->in[0]->dims[i];
        j.out_dims[i] = out->dims[i];
    }
    int64_t L = out->dims[pp->rank - 1];
    j.rows = out->numel / L;
    j.per = per_task((size_t)L * pp->elsize);
    rt_parallel_for(x, n_tasks(j.rows, j.per), pad_task, &j);
}

const rt_kernel rt_k_pad_ref = {"pad_ref", "Pad", AC_ISA_REF, NULL, NULL, run_pad};
