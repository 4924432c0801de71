/* SPDX-License-Identifier: MIT */
/* Reference elementwise kernels: unary math, broadcasting binary ops, comparisons, variadic
 * reductions and Where. Work is split in row chunks over the pool; results do not depend on
 * the thread count (every element is computed the same way by whichever thread owns it). */
#include "../../ops/ops.h"
#include "../kernels.h"

#include <math.h>
#include <string.h>

/* ---- broadcasting ------------------------------------------------------------------------ */

void rt_bcast_init(rt_bcast *b, const rt_tensor *out, int32_t n_in, const rt_tensor *const *in) {
    memset(b, 0, sizeof *b);
    b->n_in = n_in;
    int32_t r = out->rank;
    int64_t dims[AC_MAX_RANK], st[4][AC_MAX_RANK];
    for (int32_t i = 0; i < r; i++) dims[i] = out->dims[i];
    for (int32_t k = 0; k < n_in; k++) {
        const rt_tensor *t = in[k];
        int64_t s = 1;
        for (int32_t i = r - 1; i >= 0; i--) {
            int32_t ti = i - (r - t->rank);
            int64_t dk = ti >= 0 ? t->dims[ti] : 1;
            st[k][i] = dk == 1 && dims[i] != 1 ? 0 : s;
            s *= dk;
        }
    }
    /* drop size-1 axes, then merge neighbours that every input walks the same way */
    int32_t m = 0;
    int64_t md[AC_MAX_RANK], ms[4][AC_MAX_RANK];
    for (int32_t i = 0; i < r; i++) {
        if (dims[i] == 1) continue;
        if (m > 0) {
            int merge = 1;
            for (int32_t k = 0; k < n_in && merge; k++) {
                int64_t so = ms[k][m - 1], si = st[k][i];
                merge = (so == 0 && si == 0) || (si != 0 && so == si * dims[i]);
            }
            if (merge) {
                md[m - 1] *= dims[i];
                for (int32_t k = 0; k < n_in; k++) ms[k][m - 1] = st[k][i];
                continue;
            }
        }
        md[m] = dims[i];
        for (int32_t k = 0; k < n_in; k++) ms[k][m] = st[k][i];
        m++;
    }
    if (m == 0) {
        md[0] = 1;
        for (int32_t k = 0; k < n_in; k++) ms[k][0] = 0;
        m = 1;
    }
    b->rank = m;
    memcpy(b->dims, md, sizeof(int64_t) * (size_t)m);
    for (int32_t k = 0; k < n_in; k++) memcpy(b->strides[k], ms[k], sizeof(int64_t) * (size_t)m);
    b->inner = md[m - 1];
    b->rows = out->numel / (b->inner ? b->inner : 1);
    if (out->numel == 0) b->rows = 0;
}

void rt_bcast_row(const rt_bcast *b, int64_t row, int64_t *offs) {
    for (int32_t k = 0; k < b->n_in; k++) offs[k] = 0;
    for (int32_t i = b->rank - 2; i >= 0; i--) {
        int64_t c = row % b->dims[i];
        row /= b->dims[i];
        for (int32_t k = 0; k < b->n_in; k++) offs[k] += c * b->strides[k][i];
    }
}

/* Chunking: rows are grouped so each task has enough work to pay for the hand-off. */
static int64_t rows_per_task(const rt_bcast *b) {
    int64_t per = (1 << 16) / (b->inner ? b->inner : 1);
    return per < 1 ? 1 : per;
}

/* ---- unary ------------------------------------------------------------------------------- */

typedef struct unary_job {
    const rt_node *n;
    const rt_ew_params *e;
    int64_t chunk;
} unary_job;

static double unary_f64(const rt_ew_params *e, double x);

static float unary_f32(const rt_ew_params *e, float x) {
    switch (e->kind) {
    case RT_EW_ABS: return fabsf(x);
    case RT_EW_CEIL: return ceilf(x);
    case RT_EW_ERF: return erff(x);
    case RT_EW_EXP: return expf(x);
    case RT_EW_FLOOR: return floorf(x);
    case RT_EW_HARD_SIGMOID: {
        float v = e->alpha * x + e->beta;
        return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case RT_EW_HARD_SWISH: {
        float v = x / 6.0f + 0.5f;
        return x * (v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v));
    }
    case RT_EW_LEAKY_RELU: return x < 0.0f ? e->alpha * x : x;
    case RT_EW_LOG: return logf(x);
    case RT_EW_NEG: return -x;
    case RT_EW_RECIPROCAL: return 1.0f / x;
    case RT_EW_RELU: return x < 0.0f ? 0.0f : x; /* NaN passes through, as max(0, NaN) */
    case RT_EW_SIGMOID: return rt_logistic(x);
    case RT_EW_SQRT: return sqrtf(x);
    case RT_EW_TANH: return tanhf(x);
    case RT_EW_CLIP: return x < e->alpha ? e->alpha : (x > e->beta ? e->beta : x);
    default: return (float)unary_f64(e, x); /* the rarer ones: in double, rounded once */
    }
}

static double unary_f64(const rt_ew_params *e, double x) {
    switch (e->kind) {
    case RT_EW_ABS: return fabs(x);
    case RT_EW_CEIL: return ceil(x);
    case RT_EW_ERF: return erf(x);
    case RT_EW_EXP: return exp(x);
    case RT_EW_FLOOR: return floor(x);
    case RT_EW_HARD_SIGMOID: {
        double v = e->alpha * x + e->beta;
        return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
    }
    case RT_EW_HARD_SWISH: {
        double v = x / 6.0 + 0.5;
        return x * (v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v));
    }
    case RT_EW_LEAKY_RELU: return x < 0.0 ? e->alpha * x : x;
    case RT_EW_LOG: return log(x);
    case RT_EW_NEG: return -x;
    case RT_EW_RECIPROCAL: return 1.0 / x;
    case RT_EW_RELU: return x < 0.0 ? 0.0 : x;
    case RT_EW_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case RT_EW_SQRT: return sqrt(x);
    case RT_EW_TANH: return tanh(x);
    case RT_EW_CLIP: return x < e->lo ? e->lo : (x > e->hi ? e->hi : x);
    case RT_EW_SOFTPLUS: return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x));
    case RT_EW_SOFTSIGN: return x / (1.0 + fabs(x));
    case RT_EW_ELU: return x < 0.0 ? e->alpha * (exp(x) - 1.0) : x;
    case RT_EW_SELU: return e->beta * (x > 0.0 ? x : e->alpha * (exp(x) - 1.0));
    case RT_EW_CELU: return fmax(0.0, x) + fmin(0.0, e->alpha * (exp(x / e->alpha) - 1.0));
    case RT_EW_THRESHOLDED_RELU: return x > e->alpha ? x : 0.0;
    case RT_EW_MISH: return x * tanh(x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x)));
    case RT_EW_GELU:
        return e->tanh_gelu
                   ? 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
                   : 0.5 * x * (1.0 + erf(x * 0.7071067811865476));
    case RT_EW_ROUND: return nearbyint(x); /* half to even in the default rounding mode */
    case RT_EW_SIGN: return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : x); /* keeps 0, -0 and NaN */
    case RT_EW_SHRINK: return x < -e->alpha ? x + e->beta : (x > e->alpha ? x - e->beta : 0.0);
    case RT_EW_SIN: return sin(x);
    case RT_EW_COS: return cos(x);
    case RT_EW_TAN: return tan(x);
    case RT_EW_ASIN: return asin(x);
    case RT_EW_ACOS: return acos(x);
    case RT_EW_ATAN: return atan(x);
    case RT_EW_SINH: return sinh(x);
    case RT_EW_COSH: return cosh(x);
    case RT_EW_ASINH: return asinh(x);
    case RT_EW_ACOSH: return acosh(x);
    case RT_EW_ATANH: return atanh(x);
    default: return x;
    }
}

#define UNARY_INT(T)                                                                               \
    do {                                                                                           \
        const T *x = n->in[0]->data;                                                               \
        T *y = n->out[0]->data;                                                                    \
        for (int64_t i = lo; i < hi; i++) {                                                        \
            T v = x[i];                                                                            \
            switch (e->kind) {                                                                     \
            case RT_EW_ABS: v = v < 0 ? (T)-v : v; break;                                          \
            case RT_EW_NEG: v = (T)-v; break;                                                      \
            case RT_EW_RELU: v = v < 0 ? 0 : v; break;                                             \
            case RT_EW_CLIP: v = (double)v < e->lo ? (T)e->lo : ((double)v > e->hi ? (T)e->hi : v); \
                break;                                                                             \
            default: break;                                                                        \
            }                                                                                      \
            y[i] = v;                                                                              \
        }                                                                                          \
    } while (0)

static void unary_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const unary_job *j = user;
    const rt_node *n = j->n;
    const rt_ew_params *e = j->e;
    int64_t lo = task * j->chunk, hi = lo + j->chunk;
    if (hi > n->out[0]->numel) hi = n->out[0]->numel;
    if (e->kind == RT_EW_ISNAN || e->kind == RT_EW_ISINF) { /* float in, bool out */
        uint8_t *y = n->out[0]->data;
        int f64 = n->in[0]->dtype == AC_DTYPE_F64;
        for (int64_t i = lo; i < hi; i++) {
            double v = f64 ? ((const double *)n->in[0]->data)[i]
                           : ((const float *)n->in[0]->data)[i];
            y[i] = e->kind == RT_EW_ISNAN ? isnan(v) != 0
                                          : (isinf(v) && (v > 0 ? e->inf_pos : e->inf_neg));
        }
        return;
    }
    switch (n->in[0]->dtype) {
    case AC_DTYPE_F32: {
        const float *x = n->in[0]->data;
        float *y = n->out[0]->data;
        /* The common activations as loops of their own, which the compiler vectorises (a
         * standalone Relu over a U-Net's 160x160 maps cost 10% of a calibration run element by
         * element through the switch); same expressions as unary_f32, so the same results. */
        const float a = e->alpha, b = e->beta;
        switch (e->kind) {
        case RT_EW_RELU:
            for (int64_t i = lo; i < hi; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
            break;
        case RT_EW_CLIP:
            for (int64_t i = lo; i < hi; i++) y[i] = x[i] < a ? a : (x[i] > b ? b : x[i]);
            break;
        case RT_EW_LEAKY_RELU:
            for (int64_t i = lo; i < hi; i++) y[i] = x[i] < 0.0f ? a * x[i] : x[i];
            break;
        case RT_EW_SIGMOID:
            rt_logistic_n(x + lo, y + lo, hi - lo);
            break;
        default:
            for (int64_t i = lo; i < hi; i++) y[i] = unary_f32(e, x[i]);
        }
        break;
    }
    case AC_DTYPE_F64: {
        const double *x = n->in[0]->data;
        double *y = n->out[0]->data;
        for (int64_t i = lo; i < hi; i++) y[i] = unary_f64(e, x[i]);
        break;
    }
    case AC_DTYPE_BOOL: {
        const uint8_t *x = n->in[0]->data;
        uint8_t *y = n->out[0]->data;
        for (int64_t i = lo; i < hi; i++) y[i] = !x[i];
        break;
    }
    case AC_DTYPE_S8: UNARY_INT(int8_t); break;
    case AC_DTYPE_U8: { /* unsigned: Abs/Relu are the identity, Neg wraps */
        const uint8_t *xs = n->in[0]->data;
        uint8_t *y = n->out[0]->data;
        for (int64_t i = lo; i < hi; i++) {
            uint8_t v = xs[i];
            if (e->kind == RT_EW_NEG) v = (uint8_t)(256 - v);
            if (e->kind == RT_EW_CLIP) v = v < e->lo ? (uint8_t)e->lo : (v > e->hi ? (uint8_t)e->hi : v);
            y[i] = v;
        }
        break;
    }
    case AC_DTYPE_S32: UNARY_INT(int32_t); break;
    case AC_DTYPE_S64: UNARY_INT(int64_t); break;
    default: break;
    }
}

static void run_unary(const rt_node *n, const rt_ctx *x) {
    rt_ew_params local = *(const rt_ew_params *)n->params;
    if (local.dyn_bounds) {
        if (n->n_in > 1 && n->in[1]) local.lo = rt_ew_scalar(n->in[1]);
        if (n->n_in > 2 && n->in[2]) local.hi = rt_ew_scalar(n->in[2]);
        local.alpha = (float)local.lo;
        local.beta = (float)local.hi;
    }
    unary_job j = {n, &local, 1 << 16};
    int64_t tasks = (n->out[0]->numel + j.chunk - 1) / j.chunk;
    rt_parallel_for(x, tasks, unary_task, &j);
}

static int score_unary(const rt_node *n) {
    return n->op->infer == rt_infer_unary || n->op->infer == rt_infer_clip ||
           n->op->infer == rt_infer_isnan_isinf;
}

const rt_kernel rt_k_unary_ref = {"unary_ref", "*", AC_ISA_REF, score_unary, NULL, run_unary};

/* ---- binary ------------------------------------------------------------------------------ */

typedef struct bin_job {
    const rt_node *n;
    rt_bcast b;
    int64_t per;
    const void *a, *bb;  /* operands (variadic: accumulator and next input) */
    void *y;
    ac_dtype ta, tb;
    rt_ew_kind kind;
} bin_job;

/* One row of a binary op for element type T. Floats get IEEE semantics (NaN propagates
 * through Max/Min as numpy does); integers wrap, and integer division truncates toward zero
 * (C and ONNX Runtime semantics) with x / 0 giving 0 instead of a trap. Pow computes in double
 * and converts back, whatever the exponent's type. */
#define BIN_ROW(T)                                                                                 \
    for (int64_t i = 0; i < inner; i++) {                                                          \
        T a = A[i * sa], b = B[i * sb];                                                            \
        T r;                                                                                       \
        switch (kind) {                                                                            \
        case RT_EW_ADD: case RT_EW_SUM: case RT_EW_MEAN: r = (T)(a + b); break;                    \
        case RT_EW_SUB: r = (T)(a - b); break;                                                     \
        case RT_EW_MUL: r = (T)(a * b); break;                                                     \
        case RT_EW_DIV: r = DIV(a, b); break;                                                      \
        case RT_EW_MAX: r = MAXF(a, b); break;                                                     \
        case RT_EW_MIN: r = MINF(a, b); break;                                                     \
        case RT_EW_PRELU: r = PRELU(a, b); break;                                                  \
        case RT_EW_EQUAL: ((uint8_t *)Y)[i] = a == b; continue;                                    \
        case RT_EW_GREATER: ((uint8_t *)Y)[i] = a > b; continue;                                   \
        case RT_EW_LESS: ((uint8_t *)Y)[i] = a < b; continue;                                      \
        default: r = a; break;                                                                     \
        }                                                                                          \
        ((T *)Y)[i] = r;                                                                           \
    }

/* Add, Sub and Mul of a contiguous row with a contiguous one or a scalar, as loops of their
 * own that the compiler vectorises (through BIN_ROW's switch, the residual Adds that cannot
 * fuse while calibration observes their inputs cost 1-3% of a run); the same expressions, so
 * the same results. */
#define BIN_LOOP(T, OP)                                                                            \
    do {                                                                                           \
        T *y_ = Y;                                                                                 \
        if (sb) {                                                                                  \
            for (int64_t i = 0; i < inner; i++) y_[i] = (T)(A[i] OP B[i]);                         \
        } else {                                                                                   \
            const T b_ = B[0];                                                                     \
            for (int64_t i = 0; i < inner; i++) y_[i] = (T)(A[i] OP b_);                           \
        }                                                                                          \
        return;                                                                                    \
    } while (0)

#define DEFINE_BIN(NAME, T, DIV_, MAX_, MIN_, PRELU_)                                              \
    static void NAME(rt_ew_kind kind, const void *va, const void *vb, void *Y, int64_t inner,     \
                     int64_t sa, int64_t sb) {                                                     \
        const T *A = va, *B = vb;                                                                  \
        if (sa == 1 && (sb == 1 || sb == 0)) {                                                     \
            switch (kind) {                                                                        \
            case RT_EW_ADD: case RT_EW_SUM: case RT_EW_MEAN: BIN_LOOP(T, +);                       \
            case RT_EW_SUB: BIN_LOOP(T, -);                                                        \
            case RT_EW_MUL: BIN_LOOP(T, *);                                                        \
            default: break;                                                                        \
            }                                                                                      \
        }                                                                                          \
        BIN_ROW(T)                                                                                 \
    }

#define FDIV(a, b) ((a) / (b))
#define IDIV(a, b) ((b) ? (a) / (b) : 0)
#define FMAX(a, b) ((a) != (a) ? (a) : ((b) != (b) ? (b) : ((a) > (b) ? (a) : (b))))
#define FMIN(a, b) ((a) != (a) ? (a) : ((b) != (b) ? (b) : ((a) < (b) ? (a) : (b))))
#define IMAX(a, b) ((a) > (b) ? (a) : (b))
#define IMIN(a, b) ((a) < (b) ? (a) : (b))
#define FPRELU(a, b) ((a) < 0 ? (a) * (b) : (a))
#define NOPRELU(a, b) (a)

#define DIV FDIV
#define MAXF FMAX
#define MINF FMIN
#define PRELU FPRELU
DEFINE_BIN(bin_f32, float, , , , )
DEFINE_BIN(bin_f64, double, , , , )
#undef DIV
#undef MAXF
#undef MINF
#undef PRELU
#define DIV IDIV
#define MAXF IMAX
#define MINF IMIN
#define PRELU NOPRELU
DEFINE_BIN(bin_s8, int8_t, , , , )
DEFINE_BIN(bin_u8, uint8_t, , , , )
DEFINE_BIN(bin_s16, int16_t, , , , )
DEFINE_BIN(bin_u16, uint16_t, , , , )
DEFINE_BIN(bin_s32, int32_t, , , , )
DEFINE_BIN(bin_u32, uint32_t, , , , )
DEFINE_BIN(bin_s64, int64_t, , , , )
DEFINE_BIN(bin_u64, uint64_t, , , , )
#undef DIV
#undef MAXF
#undef MINF
#undef PRELU

typedef void (*bin_row_fn)(rt_ew_kind, const void *, const void *, void *, int64_t, int64_t,
                           int64_t);

static bin_row_fn bin_row_for(ac_dtype t) {
    switch (t) {
    case AC_DTYPE_F32: return bin_f32;
    case AC_DTYPE_F64: return bin_f64;
    case AC_DTYPE_S8: return bin_s8;
    case AC_DTYPE_U8: return bin_u8;
    case AC_DTYPE_S16: return bin_s16;
    case AC_DTYPE_U16: return bin_u16;
    case AC_DTYPE_S32: return bin_s32;
    case AC_DTYPE_U32: return bin_u32;
    case AC_DTYPE_S64: return bin_s64;
    case AC_DTYPE_U64: return bin_u64;
    default: return NULL;
    }
}

/* Any numeric element as double (Pow's mixed types). */
static double load_as_double(ac_dtype t, const void *p, int64_t i) {
    switch (t) {
    case AC_DTYPE_F32: return ((const float *)p)[i];
    case AC_DTYPE_F64: return ((const double *)p)[i];
    case AC_DTYPE_S8: return ((const int8_t *)p)[i];
    case AC_DTYPE_U8: return ((const uint8_t *)p)[i];
    case AC_DTYPE_S16: return ((const int16_t *)p)[i];
    case AC_DTYPE_U16: return ((const uint16_t *)p)[i];
    case AC_DTYPE_S32: return ((const int32_t *)p)[i];
    case AC_DTYPE_U32: return ((const uint32_t *)p)[i];
    case AC_DTYPE_S64: return (double)((const int64_t *)p)[i];
    case AC_DTYPE_U64: return (double)((const uint64_t *)p)[i];
    default: return 0;
    }
}

/* Integers of any width as int64 and back (Mod: exact, where double is not above 2^53; a
 * uint64 above 2^63 wraps). */
static int64_t load_as_i64(ac_dtype t, const void *p, int64_t i) {
    switch (t) {
    case AC_DTYPE_S8: return ((const int8_t *)p)[i];
    case AC_DTYPE_U8: return ((const uint8_t *)p)[i];
    case AC_DTYPE_S16: return ((const int16_t *)p)[i];
    case AC_DTYPE_U16: return ((const uint16_t *)p)[i];
    case AC_DTYPE_S32: return ((const int32_t *)p)[i];
    case AC_DTYPE_U32: return ((const uint32_t *)p)[i];
    case AC_DTYPE_S64: return ((const int64_t *)p)[i];
    case AC_DTYPE_U64: return (int64_t)((const uint64_t *)p)[i];
    default: return 0;
    }
}

static void store_from_i64(ac_dtype t, void *p, int64_t i, int64_t v) {
    switch (t) {
    case AC_DTYPE_S8: ((int8_t *)p)[i] = (int8_t)v; break;
    case AC_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case AC_DTYPE_S16: ((int16_t *)p)[i] = (int16_t)v; break;
    case AC_DTYPE_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case AC_DTYPE_S32: ((int32_t *)p)[i] = (int32_t)v; break;
    case AC_DTYPE_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case AC_DTYPE_S64: ((int64_t *)p)[i] = v; break;
    case AC_DTYPE_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    default: break;
    }
}

static void store_from_double(ac_dtype t, void *p, int64_t i, double v) {
    switch (t) {
    case AC_DTYPE_F32: ((float *)p)[i] = (float)v; break;
    case AC_DTYPE_F64: ((double *)p)[i] = v; break;
    case AC_DTYPE_S8: ((int8_t *)p)[i] = (int8_t)v; break;
    case AC_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case AC_DTYPE_S16: ((int16_t *)p)[i] = (int16_t)v; break;
    case AC_DTYPE_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case AC_DTYPE_S32: ((int32_t *)p)[i] = (int32_t)v; break;
    case AC_DTYPE_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case AC_DTYPE_S64: ((int64_t *)p)[i] = (int64_t)v; break;
    case AC_DTYPE_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    default: break;
    }
}

static void bin_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const bin_job *j = user;
    int64_t inner = j->b.inner, r0 = task * j->per, r1 = r0 + j->per;
    if (r1 > j->b.rows) r1 = j->b.rows;
    int64_t sa = j->b.strides[0][j->b.rank - 1] ? 1 : 0;
    int64_t sb = j->b.strides[1][j->b.rank - 1] ? 1 : 0;
    size_t ea = rt_elsize(j->ta), eb = rt_elsize(j->tb);
    size_t ey = j->kind == RT_EW_EQUAL || j->kind == RT_EW_GREATER || j->kind == RT_EW_LESS
                    ? 1 : ea;
    const rt_ew_params *e = j->n->params;
    bin_row_fn fn = bin_row_for(j->ta);
    for (int64_t row = r0; row < r1; row++) {
        int64_t offs[4];
        rt_bcast_row(&j->b, row, offs);
        const uint8_t *A = (const uint8_t *)j->a + (size_t)offs[0] * ea;
        const uint8_t *B = (const uint8_t *)j->bb + (size_t)offs[1] * eb;
        uint8_t *Y = (uint8_t *)j->y + (size_t)(row * inner) * ey;
        if (j->kind == RT_EW_AND || j->kind == RT_EW_OR || j->kind == RT_EW_XOR) {
            for (int64_t i = 0; i < inner; i++) {
                int a = A[i * sa] != 0, b = B[i * sb] != 0;
                Y[i] = (uint8_t)(j->kind == RT_EW_AND ? a && b : j->kind == RT_EW_OR ? a || b
                                                                                     : a != b);
            }
        } else if (j->kind == RT_EW_MOD) {
            for (int64_t i = 0; i < inner; i++) {
                if (j->ta == AC_DTYPE_F32 || j->ta == AC_DTYPE_F64) {
                    store_from_double(j->ta, Y, i, fmod(load_as_double(j->ta, A, i * sa),
                                                        load_as_double(j->tb, B, i * sb)));
                    continue;
                }
                int64_t a = load_as_i64(j->ta, A, i * sa), b = load_as_i64(j->tb, B, i * sb);
                int64_t r = b == 0 ? 0 : a % b; /* C: the sign of the dividend */
                if (!e->fmod && r != 0 && (r < 0) != (b < 0)) r += b; /* Python: the divisor's */
                store_from_i64(j->ta, Y, i, r);
            }
        } else if (j->kind == RT_EW_POW) {
            for (int64_t i = 0; i < inner; i++)
                store_from_double(j->ta, Y, i, pow(load_as_double(j->ta, A, i * sa),
                                                   load_as_double(j->tb, B, i * sb)));
        } else if (fn) {
            fn(j->kind, A, B, Y, inner, sa, sb);
            /* an activation the planner fused into this Add/Sub/Mul/Div (float only) */
            if (j->n->act.kind != RT_ACT_NONE) rt_act_apply(&j->n->act, (float *)Y, inner);
        }
    }
}

static void run_binary_into(const rt_ctx *x, const rt_node *n, rt_ew_kind kind,
                            const rt_tensor *a, const rt_tensor *b, const void *adata) {
    bin_job j;
    const rt_tensor *in[2] = {a, b};
    rt_bcast_init(&j.b, n->out[0], 2, in);
    j.n = n;
    j.per = rows_per_task(&j.b);
    j.a = adata;
    j.bb = b->data;
    j.y = n->out[0]->data;
    j.ta = a->dtype;
    j.tb = b->dtype;
    j.kind = kind;
    rt_parallel_for(x, (j.b.rows + j.per - 1) / j.per, bin_task, &j);
}

static void run_binary(const rt_node *n, const rt_ctx *x) {
    const rt_ew_params *e = n->params;
    run_binary_into(x, n, e->kind, n->in[0], n->in[1], n->in[0]->data);
}

static int score_binary(const rt_node *n) {
    return n->op->infer == rt_infer_binary || n->op->infer == rt_infer_pow ||
           n->op->infer == rt_infer_prelu || n->op->infer == rt_infer_compare ||
           n->op->infer == rt_infer_logical || n->op->infer == rt_infer_mod;
}

const rt_kernel rt_k_binary_ref = {"binary_ref", "*", AC_ISA_REF, score_binary, NULL, run_binary};

/* ---- variadic: out = in0 op in1 op ... (accumulated in the output) ------------------------ */

static void run_variadic(const rt_node *n, const rt_ctx *x) {
    const rt_ew_params *e = n->params;
    rt_tensor *y = n->out[0];
    /* out = broadcast(in0): a binary "Add" of in0 and nothing is not available, so copy by
     * broadcasting with the Max kernel against itself */
    run_binary_into(x, n, RT_EW_MAX, n->in[0], n->in[0], n->in[0]->data);
    for (int32_t k = 1; k < n->n_in; k++) {
        rt_tensor acc = *y;
        run_binary_into(x, n, e->kind, &acc, n->in[k], y->data);
    }
    if (e->kind == RT_EW_MEAN) {
        if (y->dtype == AC_DTYPE_F32) {
            float *v = y->data;
            for (int64_t i = 0; i < y->numel; i++) v[i] /= (float)n->n_in;
        } else {
            double *v = y->data;
            for (int64_t i = 0; i < y->numel; i++) v[i] /= (double)n->n_in;
        }
    }
}

static int score_variadic(const rt_node *n) { return n->op->infer == rt_infer_variadic; }

const rt_kernel rt_k_variadic_ref = {"variadic_ref", "*", AC_ISA_REF, score_variadic, NULL,
                                     run_variadic};

/* ---- Where ------------------------------------------------------------------------------- */

static void run_where(const rt_node *n, const rt_ctx *x) {
    (void)x;
    rt_bcast b;
    const rt_tensor *in[3] = {n->in[0], n->in[1], n->in[2]};
    rt_bcast_init(&b, n->out[0], 3, in);
    size_t es = rt_elsize(n->out[0]->dtype);
    const uint8_t *c = n->in[0]->data;
    const uint8_t *xa = n->in[1]->data, *ya = n->in[2]->data;
    uint8_t *out = n->out[0]->data;
    int64_t s0 = b.strides[0][b.rank - 1] ? 1 : 0, s1 = b.strides[1][b.rank - 1] ? 1 : 0,
            s2 = b.strides[2][b.rank - 1] ? 1 : 0;
    for (int64_t row = 0; row < b.rows; row++) {
        int64_t o[4];
        rt_bcast_row(&b, row, o);
        for (int64_t i = 0; i < b.inner; i++) {
            const uint8_t *src = c[o[0] + i * s0] ? xa + (size_t)(o[1] + i * s1) * es
                                                  : ya + (size_t)(o[2] + i * s2) * es;
            memcpy(out + (size_t)(row * b.inner + i) * es, src, es);
        }
    }
}

const rt_kernel rt_k_where_ref = {"where_ref", "Where", AC_ISA_REF, NULL, NULL, run_where};
