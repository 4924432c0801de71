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
    int64_t chunk;
} unary_job;

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
    case RT_EW_SIGMOID: return x >= 0.0f ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
    case RT_EW_SQRT: return sqrtf(x);
    case RT_EW_TANH: return tanhf(x);
    case RT_EW_CLIP: return x < e->alpha ? e->alpha : (x > e->beta ? e->beta : x);
    default: return x;
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
    const rt_ew_params *e = n->params;
    int64_t lo = task * j->chunk, hi = lo + j->chunk;
    if (hi > n->out[0]->numel) hi = n->out[0]->numel;
    switch (n->in[0]->dtype) {
    case AC_DTYPE_F32: {
        const float *x = n->in[0]->data;
        float *y = n->out[0]->data;
        for (int64_t i = lo; i < hi; i++) y[i] = unary_f32(e, x[i]);
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
    unary_job j = {n, 1 << 16};
    int64_t tasks = (n->out[0]->numel + j.chunk - 1) / j.chunk;
    rt_parallel_for(x, tasks, unary_task, &j);
}

static int score_unary(const rt_node *n) {
    return n->op->infer == rt_infer_unary || n->op->infer == rt_infer_clip;
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

static inline double pow_int_exp(double base, double e) { return pow(base, e); }

#define BIN_LOOP(T, EXPR)                                                                          \
    do {                                                                                           \
        const T *A = (const T *)j->a + oa;                                                         \
        const T *B = (const T *)j->bb + ob;                                                        \
        T *Y = (T *)j->y + row * inner;                                                            \
        for (int64_t i = 0; i < inner; i++) {                                                      \
            T a = A[i * sa], b = B[i * sb];                                                        \
            Y[i] = (EXPR);                                                                         \
        }                                                                                          \
    } while (0)

#define CMP_LOOP(T, EXPR)                                                                          \
    do {                                                                                           \
        const T *A = (const T *)j->a + oa;                                                         \
        const T *B = (const T *)j->bb + ob;                                                        \
        uint8_t *Y = (uint8_t *)j->y + row * inner;                                                \
        for (int64_t i = 0; i < inner; i++) {                                                      \
            T a = A[i * sa], b = B[i * sb];                                                        \
            Y[i] = (uint8_t)(EXPR);                                                                \
        }                                                                                          \
    } while (0)

#define ARITH(T)                                                                                   \
    switch (j->kind) {                                                                             \
    case RT_EW_ADD: case RT_EW_SUM: case RT_EW_MEAN: BIN_LOOP(T, a + b); break;                   \
    case RT_EW_SUB: BIN_LOOP(T, a - b); break;                                                     \
    case RT_EW_MUL: BIN_LOOP(T, a * b); break;                                                     \
    case RT_EW_MAX: BIN_LOOP(T, a != a ? a : (b != b ? b : (a > b ? a : b))); break;              \
    case RT_EW_MIN: BIN_LOOP(T, a != a ? a : (b != b ? b : (a < b ? a : b))); break;              \
    case RT_EW_PRELU: BIN_LOOP(T, a < 0 ? a * b : a); break;                                       \
    case RT_EW_EQUAL: CMP_LOOP(T, a == b); break;                                                  \
    case RT_EW_GREATER: CMP_LOOP(T, a > b); break;                                                 \
    case RT_EW_LESS: CMP_LOOP(T, a < b); break;                                                    \
    default: break;                                                                                \
    }

static void bin_task(void *user, int64_t task, int32_t thread) {
    (void)thread;
    const bin_job *j = user;
    int64_t inner = j->b.inner, r0 = task * j->per, r1 = r0 + j->per;
    if (r1 > j->b.rows) r1 = j->b.rows;
    int64_t sa = j->b.strides[0][j->b.rank - 1] ? 1 : 0;
    int64_t sb = j->b.strides[1][j->b.rank - 1] ? 1 : 0;
    for (int64_t row = r0; row < r1; row++) {
        int64_t offs[4];
        rt_bcast_row(&j->b, row, offs);
        int64_t oa = offs[0], ob = offs[1];
        switch (j->ta) {
        case AC_DTYPE_F32:
            if (j->kind == RT_EW_DIV) BIN_LOOP(float, a / b);
            else if (j->kind == RT_EW_POW && j->tb == AC_DTYPE_F32) BIN_LOOP(float, powf(a, b));
            else if (j->kind == RT_EW_POW) {
                const float *A = (const float *)j->a + oa;
                float *Y = (float *)j->y + row * inner;
                for (int64_t i = 0; i < inner; i++) {
                    double e = j->tb == AC_DTYPE_S64 ? (double)((const int64_t *)j->bb)[ob + i * sb]
                               : j->tb == AC_DTYPE_S32 ? ((const int32_t *)j->bb)[ob + i * sb]
                                                       : ((const double *)j->bb)[ob + i * sb];
                    Y[i] = (float)pow_int_exp(A[i * sa], e);
                }
            } else {
                ARITH(float)
            }
            break;
        case AC_DTYPE_F64:
            if (j->kind == RT_EW_DIV) BIN_LOOP(double, a / b);
            else if (j->kind == RT_EW_POW && j->tb == AC_DTYPE_F64) BIN_LOOP(double, pow(a, b));
            else if (j->kind == RT_EW_POW) {
                const double *A = (const double *)j->a + oa;
                double *Y = (double *)j->y + row * inner;
                for (int64_t i = 0; i < inner; i++) {
                    double e = j->tb == AC_DTYPE_S64 ? (double)((const int64_t *)j->bb)[ob + i * sb]
                               : j->tb == AC_DTYPE_S32 ? ((const int32_t *)j->bb)[ob + i * sb]
                                                       : ((const float *)j->bb)[ob + i * sb];
                    Y[i] = pow(A[i * sa], e);
                }
            } else {
                ARITH(double)
            }
            break;
        case AC_DTYPE_S32:
            /* integer division truncates toward zero like C; x / 0 yields 0 instead of a trap */
            if (j->kind == RT_EW_DIV) BIN_LOOP(int32_t, b ? a / b : 0);
            else {
                ARITH(int32_t)
            }
            break;
        case AC_DTYPE_S64:
            if (j->kind == RT_EW_DIV) BIN_LOOP(int64_t, b ? a / b : 0);
            else {
                ARITH(int64_t)
            }
            break;
        default:
            break;
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
           n->op->infer == rt_infer_prelu || n->op->infer == rt_infer_compare;
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
