/* SPDX-License-Identifier: MIT */
/* Infer for the nn family: Conv, ConvTranspose (all attributes, 1-D to 3-D, groups, auto_pad),
 * Gemm (transposes, alpha/beta, unidirectional C broadcast), MatMul (1-D promotion, batch
 * broadcasting), BatchNormalization (inference, and training_mode batch statistics),
 * InstanceNormalization, LayerNormalization and LRN. */
#include "nn.h"

#include <string.h>

static ac_status need_f32(const rt_node *n, const rt_tensor *t, ac_diag *d) {
    if (t && t->dtype != AC_DTYPE_F32)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "%s on %s tensors is not supported",
                       n->src->op_type, ac_dtype_name(t->dtype));
    return AC_OK;
}

/* ---- Conv / ConvTranspose ---------------------------------------------------------------- */

/* Reads an INTS attribute of nd values into v (right-aligned in 3), default dflt. */
static ac_status spatial_attr(const rt_node *n, const char *name, int32_t nd, int64_t dflt,
                              int64_t *v, ac_diag *d) {
    const int64_t *a;
    int64_t cnt = rt_attr_ints(n, name, &a);
    for (int i = 0; i < 3; i++) v[i] = dflt;
    if (cnt < 0) return AC_OK;
    if (cnt != nd)
        return AC_FAIL(d, AC_ERR_MODEL, "%s has %lld values for %d spatial axes", name,
                       (long long)cnt, (int)nd);
    for (int32_t i = 0; i < nd; i++) v[3 - nd + i] = a[i];
    return AC_OK;
}

static ac_status conv_common(rt_plan *p, rt_node *n, int transposed, rt_conv_params **out,
                             ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 3, 1, d));
    const rt_tensor *x = n->in[0], *w = n->in[1], *b = n->n_in > 2 ? n->in[2] : NULL;
    AC_TRY(need_f32(n, x, d));
    AC_TRY(need_f32(n, w, d));
    AC_TRY(need_f32(n, b, d));
    if (x->rank < 3 || x->rank > 5)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "%s on rank-%d input (1-D to 3-D supported)",
                       n->src->op_type, (int)x->rank);
    if (w->rank != x->rank)
        return AC_FAIL(d, AC_ERR_MODEL, "weight rank %d differs from input rank %d",
                       (int)w->rank, (int)x->rank);
    rt_conv_params *q = rt_plan_alloc(p, sizeof *q);
    if (!q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = q;
    int32_t nd = x->rank - 2;
    q->nd = nd;
    q->transposed = transposed;
    q->N = x->dims[0];
    q->C = x->dims[1];
    q->group = rt_attr_int(n, "group", 1);
    if (q->group < 1 || q->C % q->group)
        return AC_FAIL(d, AC_ERR_MODEL, "group %lld does not divide %lld input channels",
                       (long long)q->group, (long long)q->C);
    q->Cg = q->C / q->group;
    if (!transposed) {
        q->M = w->dims[0];
        if (q->M % q->group || w->dims[1] != q->Cg)
            return AC_FAIL(d, AC_ERR_MODEL, "weight shape does not match %lld channels in "
                           "%lld groups", (long long)q->C, (long long)q->group);
        q->Mg = q->M / q->group;
    } else {
        if (w->dims[0] != q->C)
            return AC_FAIL(d, AC_ERR_MODEL, "weight has %lld input channels, X has %lld",
                           (long long)w->dims[0], (long long)q->C);
        q->Mg = w->dims[1];
        q->M = q->Mg * q->group;
    }
    if (b) {
        if (b->numel != q->M)
            return AC_FAIL(d, AC_ERR_MODEL, "bias has %lld values for %lld output channels",
                           (long long)b->numel, (long long)q->M);
        q->has_bias = 1;
    }
    int64_t ks[3];
    const int64_t *ksv;
    int has_ks = rt_attr_ints(n, "kernel_shape", &ksv) >= 0;
    AC_TRY(spatial_attr(n, "kernel_shape", nd, 1, ks, d));
    AC_TRY(spatial_attr(n, "strides", nd, 1, q->stride, d));
    AC_TRY(spatial_attr(n, "dilations", nd, 1, q->dil, d));
    for (int i = 0; i < 3; i++) {
        q->in[i] = i < 3 - nd ? 1 : x->dims[2 + i - (3 - nd)];
        q->k[i] = i < 3 - nd ? 1 : w->dims[2 + i - (3 - nd)];
        if (has_ks && ks[i] != q->k[i])
            return AC_FAIL(d, AC_ERR_MODEL, "kernel_shape disagrees with the weight's shape");
        if (q->stride[i] < 1 || q->dil[i] < 1 || q->k[i] < 1)
            return AC_FAIL(d, AC_ERR_MODEL, "strides, dilations and kernel sizes must be >= 1");
    }
    const int64_t *pads;
    int64_t np = rt_attr_ints(n, "pads", &pads);
    if (np >= 0 && np != 2 * nd)
        return AC_FAIL(d, AC_ERR_MODEL, "pads has %lld values for %d spatial axes",
                       (long long)np, (int)nd);
    for (int i = 0; i < 3; i++) {
        int j = i - (3 - nd);
        q->pad0[i] = np > 0 && j >= 0 ? pads[j] : 0;
        q->pad1[i] = np > 0 && j >= 0 ? pads[nd + j] : 0;
        if (q->pad0[i] < 0 || q->pad1[i] < 0)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "negative pads");
    }
    *out = q;
    return AC_OK;
}

static ac_status finish_conv(rt_node *n, rt_conv_params *q, ac_diag *d) {
    q->in_sp = q->in[0] * q->in[1] * q->in[2];
    q->out_sp = q->out[0] * q->out[1] * q->out[2];
    q->k_sp = q->k[0] * q->k[1] * q->k[2];
    int64_t dims[5] = {q->N, q->M};
    for (int32_t i = 0; i < q->nd; i++) dims[2 + i] = q->out[3 - q->nd + i];
    return rt_set_shape(n->out[0], AC_DTYPE_F32, q->nd + 2, dims, d);
}

static int pad_mode(const char *s) {
    if (!strcmp(s, "SAME_UPPER")) return 1;
    if (!strcmp(s, "SAME_LOWER")) return 2;
    if (!strcmp(s, "VALID")) return 3;
    if (!strcmp(s, "NOTSET") || !s[0]) return 0;
    return -1;
}

ac_status rt_infer_conv(rt_plan *p, rt_node *n, ac_diag *d) {
    rt_conv_params *q;
    AC_TRY(conv_common(p, n, 0, &q, d));
    int mode = pad_mode(rt_attr_str(n, "auto_pad", "NOTSET"));
    if (mode < 0) return AC_FAIL(d, AC_ERR_MODEL, "unknown auto_pad value");
    for (int i = 0; i < 3; i++) {
        int64_t ek = (q->k[i] - 1) * q->dil[i] + 1;
        if (mode == 1 || mode == 2) {
            q->out[i] = (q->in[i] + q->stride[i] - 1) / q->stride[i];
            int64_t total = (q->out[i] - 1) * q->stride[i] + ek - q->in[i];
            if (total < 0) total = 0;
            q->pad0[i] = mode == 1 ? total / 2 : total - total / 2;
            q->pad1[i] = total - q->pad0[i];
        } else {
            if (mode == 3) q->pad0[i] = q->pad1[i] = 0;
            int64_t span = q->in[i] + q->pad0[i] + q->pad1[i] - ek;
            if (span < 0)
                return AC_FAIL(d, AC_ERR_MODEL, "kernel larger than the padded input");
            q->out[i] = span / q->stride[i] + 1;
        }
    }
    return finish_conv(n, q, d);
}

ac_status rt_infer_conv_transpose(rt_plan *p, rt_node *n, ac_diag *d) {
    rt_conv_params *q;
    AC_TRY(conv_common(p, n, 1, &q, d));
    int mode = pad_mode(rt_attr_str(n, "auto_pad", "NOTSET"));
    if (mode < 0) return AC_FAIL(d, AC_ERR_MODEL, "unknown auto_pad value");
    int64_t opad[3];
    AC_TRY(spatial_attr(n, "output_padding", q->nd, 0, opad, d));
    const int64_t *os;
    int64_t nos = rt_attr_ints(n, "output_shape", &os);
    if (nos >= 0 && nos != q->nd && nos != q->nd + 2)
        return AC_FAIL(d, AC_ERR_MODEL, "output_shape has %lld values", (long long)nos);
    if (nos == q->nd + 2) os += 2;
    for (int i = 0; i < 3; i++) {
        int j = i - (3 - q->nd);
        int64_t ek = (q->k[i] - 1) * q->dil[i] + 1;
        int64_t full = q->stride[i] * (q->in[i] - 1) + opad[i] + ek;
        int64_t want = -1;
        if (nos >= 0) want = j >= 0 ? os[j] : 1;
        else if (mode == 1 || mode == 2) want = q->in[i] * q->stride[i];
        if (want >= 0) {
            /* as the ONNX reference: floor division; a negative end pad (output_shape larger
             * than the full result) extends the output with positions only the bias reaches */
            int64_t total = full - want;
            int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
            if (mode == 1) { /* SAME_UPPER: extra padding at the end */
                q->pad0[i] = half;
                q->pad1[i] = total - half;
            } else {
                q->pad0[i] = total - half;
                q->pad1[i] = half;
            }
            q->out[i] = want;
        } else {
            if (mode == 3) q->pad0[i] = q->pad1[i] = 0;
            q->out[i] = full - q->pad0[i] - q->pad1[i];
            if (q->out[i] < 1) return AC_FAIL(d, AC_ERR_MODEL, "empty ConvTranspose output");
        }
    }
    return finish_conv(n, q, d);
}

/* ---- Gemm / MatMul ----------------------------------------------------------------------- */

ac_status rt_infer_gemm(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, rt_plan_opset(p) < 11 ? 3 : 2, 3, 1, d));
    const rt_tensor *a = n->in[0], *b = n->in[1], *c = n->n_in > 2 ? n->in[2] : NULL;
    AC_TRY(need_f32(n, a, d));
    AC_TRY(need_f32(n, b, d));
    AC_TRY(need_f32(n, c, d));
    if (a->rank != 2 || b->rank != 2)
        return AC_FAIL(d, AC_ERR_MODEL, "Gemm needs 2-D A and B");
    rt_gemm_params *q = rt_plan_alloc(p, sizeof *q);
    if (!q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = q;
    q->trans_a = rt_attr_int(n, "transA", 0) != 0;
    q->trans_b = rt_attr_int(n, "transB", 0) != 0;
    q->alpha = rt_attr_float(n, "alpha", 1.0f);
    q->beta = rt_attr_float(n, "beta", 1.0f);
    q->M = q->trans_a ? a->dims[1] : a->dims[0];
    q->K = q->trans_a ? a->dims[0] : a->dims[1];
    q->N = q->trans_b ? b->dims[0] : b->dims[1];
    int64_t kb = q->trans_b ? b->dims[1] : b->dims[0];
    if (kb != q->K)
        return AC_FAIL(d, AC_ERR_MODEL, "inner dimensions differ (%lld vs %lld)",
                       (long long)q->K, (long long)kb);
    if (c) {
        int64_t cm = c->rank >= 2 ? c->dims[c->rank - 2] : 1;
        int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
        if (c->rank > 2 || (cm != 1 && cm != q->M) || (cn != 1 && cn != q->N))
            return AC_FAIL(d, AC_ERR_MODEL, "C does not broadcast to [%lld, %lld]",
                           (long long)q->M, (long long)q->N);
        q->has_c = 1;
        q->c_cs = cn == 1 ? 0 : 1;
        q->c_rs = cm == 1 ? 0 : cn;
    }
    int64_t dims[2] = {q->M, q->N};
    return rt_set_shape(n->out[0], AC_DTYPE_F32, 2, dims, d);
}

ac_status rt_infer_matmul(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    const rt_tensor *a = n->in[0], *b = n->in[1];
    AC_TRY(need_f32(n, a, d));
    AC_TRY(need_f32(n, b, d));
    if (a->rank < 1 || b->rank < 1) return AC_FAIL(d, AC_ERR_MODEL, "MatMul of a scalar");
    rt_matmul_params *q = rt_plan_alloc(p, sizeof *q);
    if (!q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = q;
    q->M = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
    q->K = a->dims[a->rank - 1];
    q->N = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
    int64_t kb = b->rank >= 2 ? b->dims[b->rank - 2] : b->dims[0];
    if (kb != q->K)
        return AC_FAIL(d, AC_ERR_MODEL, "inner dimensions differ (%lld vs %lld)",
                       (long long)q->K, (long long)kb);
    int32_t ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
    int32_t r = ra > rb ? ra : rb;
    q->brank = r;
    q->batch = 1;
    int64_t sa = 1, sb = 1;
    for (int32_t i = r - 1; i >= 0; i--) {
        int32_t ia = i - (r - ra), ib = i - (r - rb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return AC_FAIL(d, AC_ERR_MODEL, "batch axes do not broadcast");
        q->bdims[i] = da == 1 ? db : da;
        q->astr[i] = da == 1 ? 0 : sa;
        q->bstr[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
        q->batch *= q->bdims[i];
    }
    int64_t dims[AC_MAX_RANK + 2];
    int32_t rank = 0;
    for (int32_t i = 0; i < r; i++) dims[rank++] = q->bdims[i];
    if (a->rank >= 2) dims[rank++] = q->M;
    if (b->rank >= 2) dims[rank++] = q->N;
    return rt_set_shape(n->out[0], AC_DTYPE_F32, rank, dims, d);
}

/* ---- BatchNormalization ------------------------------------------------------------------ */

ac_status rt_infer_batchnorm(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 5, 5, 5, d));
    const rt_tensor *x = n->in[0];
    for (int k = 0; k < 5; k++) AC_TRY(need_f32(n, n->in[k], d));
    if (x->rank < 2) return AC_FAIL(d, AC_ERR_MODEL, "input needs a channel axis");
    int64_t opset = rt_plan_opset(p);
    if (opset < 9 && rt_attr_int(n, "spatial", 1) == 0)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "BatchNormalization with spatial = 0");
    rt_bn_params *q = rt_plan_alloc(p, sizeof *q);
    if (!q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = q;
    q->eps = rt_attr_float(n, "epsilon", 1e-5f);
    q->momentum = rt_attr_float(n, "momentum", 0.9f);
    q->training = opset >= 14 && rt_attr_int(n, "training_mode", 0) != 0;
    q->N = x->dims[0];
    q->C = x->dims[1];
    q->inner = 1;
    for (int32_t i = 2; i < x->rank; i++) q->inner *= x->dims[i];
    for (int k = 1; k < 5; k++)
        if (n->in[k]->numel != q->C)
            return AC_FAIL(d, AC_ERR_MODEL, "input %d has %lld values for %lld channels", k,
                           (long long)n->in[k]->numel, (long long)q->C);
    if (opset >= 14 && !q->training && n->n_out > 1)
        for (int32_t k = 1; k < n->n_out; k++)
            if (n->out[k])
                return AC_FAIL(d, AC_ERR_MODEL, "running statistics outputs need "
                               "training_mode = 1");
    AC_TRY(rt_set_shape(n->out[0], AC_DTYPE_F32, x->rank, x->dims, d));
    int64_t cd[1] = {q->C};
    for (int32_t k = 1; k < n->n_out && k < 5; k++)
        if (n->out[k]) AC_TRY(rt_set_shape(n->out[k], AC_DTYPE_F32, 1, cd, d));
    if (n->n_out > 5) return AC_FAIL(d, AC_ERR_MODEL, "too many outputs");
    return AC_OK;
}

/* ---- InstanceNormalization / LayerNormalization ------------------------------------------- */

ac_status rt_infer_instancenorm(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 3, 3, 1, d));
    const rt_tensor *x = n->in[0];
    for (int k = 0; k < 3; k++) AC_TRY(need_f32(n, n->in[k], d));
    if (x->rank < 3) return AC_FAIL(d, AC_ERR_MODEL, "input needs N, C and spatial axes");
    int64_t C = x->dims[1];
    for (int k = 1; k < 3; k++)
        if (n->in[k]->numel != C)
            return AC_FAIL(d, AC_ERR_MODEL, "input %d has %lld values for %lld channels", k,
                           (long long)n->in[k]->numel, (long long)C);
    rt_norm_params *q = rt_plan_alloc(p, sizeof *q);
    if (!q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = q;
    q->rows = x->dims[0] * C;
    q->inner = 1;
    for (int32_t i = 2; i < x->rank; i++) q->inner *= x->dims[i];
    q->sc_rows = C;
    q->sc_inner = 1;
    q->eps = rt_attr_float(n, "epsilon", 1e-5f);
    q->has_bias = 1;
    return rt_set_shape(n->out[0], AC_DTYPE_F32, x->rank, x->dims, d);
}

/* LayerNormalization-17: X normalized over axes [axis, rank); Scale and the optional B hold
 * the normalized shape (or broadcast to it from one value); optional outputs Mean and
 * InvStdDev have X's shape with the normalized axes set to 1. */
ac_status rt_infer_layernorm(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 2, 3, 3, d));
    const rt_tensor *x = n->in[0];
    for (int k = 0; k < n->n_in; k++) AC_TRY(need_f32(n, n->in[k], d));
    if (x->rank < 1) return AC_FAIL(d, AC_ERR_MODEL, "input must have rank 1 or more");
    int32_t axis;
    AC_TRY(rt_axis(rt_attr_int(n, "axis", -1), x->rank, &axis, d));
    rt_norm_params *q = rt_plan_alloc(p, sizeof *q);
    if (!q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = q;
    q->rows = 1;
    q->inner = 1;
    for (int32_t i = 0; i < axis; i++) q->rows *= x->dims[i];
    for (int32_t i = axis; i < x->rank; i++) q->inner *= x->dims[i];
    q->sc_rows = 1;
    q->eps = rt_attr_float(n, "epsilon", 1e-5f);
    q->has_bias = n->n_in > 2 && n->in[2];
    int64_t sc_numel = -1;
    for (int k = 1; k < 1 + (q->has_bias ? 2 : 1); k++) {
        const rt_tensor *t = n->in[k];
        /* the normalized shape, right-aligned (leading 1s allowed), or one value */
        int ok = t->numel == 1;
        if (!ok && t->numel == q->inner && t->rank <= x->rank) {
            ok = 1;
            for (int32_t i = 0; i < t->rank && ok; i++) {
                int32_t xi = x->rank - t->rank + i;
                ok = xi >= axis ? t->dims[i] == x->dims[xi] : t->dims[i] == 1;
            }
        }
        if (!ok)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                           "%s (%lld values) does not have the normalized axes' shape (%lld "
                           "values)",
                           k == 1 ? "Scale" : "B", (long long)t->numel, (long long)q->inner);
        if (sc_numel >= 0 && t->numel != sc_numel)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "Scale and B differ in size");
        sc_numel = t->numel;
    }
    q->sc_inner = sc_numel == 1 ? 1 : q->inner;
    AC_TRY(rt_set_shape(n->out[0], AC_DTYPE_F32, x->rank, x->dims, d));
    int64_t sd[AC_MAX_RANK];
    for (int32_t i = 0; i < x->rank; i++) sd[i] = i < axis ? x->dims[i] : 1;
    for (int32_t k = 1; k < n->n_out; k++)
        if (n->out[k]) AC_TRY(rt_set_shape(n->out[k], AC_DTYPE_F32, x->rank, sd, d));
    return AC_OK;
}

ac_status rt_infer_lrn(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    const rt_tensor *x = n->in[0];
    AC_TRY(need_f32(n, x, d));
    if (x->rank < 3) return AC_FAIL(d, AC_ERR_MODEL, "input needs N, C and spatial axes");
    rt_lrn_params *q = rt_plan_alloc(p, sizeof *q);
    if (!q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = q;
    q->size = rt_attr_int(n, "size", 0);
    if (q->size < 1) return AC_FAIL(d, AC_ERR_MODEL, "size must be 1 or more");
    q->alpha = rt_attr_float(n, "alpha", 1e-4f);
    q->beta = rt_attr_float(n, "beta", 0.75f);
    q->bias = rt_attr_float(n, "bias", 1.0f);
    q->N = x->dims[0];
    q->C = x->dims[1];
    q->inner = 1;
    for (int32_t i = 2; i < x->rank; i++) q->inner *= x->dims[i];
    return rt_set_shape(n->out[0], AC_DTYPE_F32, x->rank, x->dims, d);
}

/* ---- Einsum ---------------------------------------------------------------------------------
 * The equation's terms are letters (a-z, A-Z) and at most one "..." each; spaces are ignored.
 * Without "->" the output is the ellipsis's axes, then the letters used once, alphabetically.
 * A letter repeated within a term takes a diagonal. Ellipsis axes broadcast right-aligned. */

static int letter_id(char c) {
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= 'A' && c <= 'Z') return 26 + c - 'A';
    return -1;
}

/* Parses one term into labels (-2 marks the ellipsis); returns the count or -1. */
static int parse_term(const char *t, const char *end, int32_t *labels, int cap) {
    int k = 0, ell = 0;
    for (const char *c = t; c < end; c++) {
        if (*c == ' ') continue;
        if (*c == '.') {
            if (ell || end - c < 3 || c[1] != '.' || c[2] != '.') return -1;
            ell = 1;
            c += 2;
            if (k >= cap) return -1;
            labels[k++] = -2;
            continue;
        }
        int id = letter_id(*c);
        if (id < 0 || k >= cap) return -1;
        labels[k++] = id;
    }
    return k;
}

ac_status rt_infer_einsum(rt_plan *p, rt_node *n, ac_diag *d) {
    AC_TRY(rt_check_io(n, 1, RT_EINSUM_MAX_IN, 1, d));
    ac_dtype t = n->in[0]->dtype;
    if (t != AC_DTYPE_F32 && t != AC_DTYPE_F64)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "Einsum on %s tensors is not supported",
                       ac_dtype_name(t));
    for (int32_t k = 1; k < n->n_in; k++)
        if (!n->in[k] || n->in[k]->dtype != t)
            return AC_FAIL(d, AC_ERR_MODEL, "Einsum inputs must all have one type");
    const char *eq = rt_attr_str(n, "equation", NULL);
    if (!eq) return AC_FAIL(d, AC_ERR_MODEL, "equation attribute is required");
    rt_einsum_params *q = rt_plan_alloc(p, sizeof *q);
    if (!q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = q;
    q->n_in = n->n_in;
    const char *arrow = strstr(eq, "->"), *lhs_end = arrow ? arrow : eq + strlen(eq);
    int32_t terms[RT_EINSUM_MAX_IN][AC_MAX_RANK + 3];
    int n_terms[RT_EINSUM_MAX_IN];
    const char *c = eq;
    int ell_rank = 0, counts[52] = {0};
    for (int32_t k = 0; k < n->n_in; k++) {
        const char *comma = memchr(c, ',', (size_t)(lhs_end - c));
        const char *e = comma ? comma : lhs_end;
        if ((k < n->n_in - 1) != (comma != NULL))
            return AC_FAIL(d, AC_ERR_MODEL, "equation \"%s\" has not one term per input", eq);
        n_terms[k] = parse_term(c, e, terms[k], AC_MAX_RANK + 3);
        if (n_terms[k] < 0)
            return AC_FAIL(d, AC_ERR_MODEL, "equation \"%s\": bad term", eq);
        int letters = 0, has_ell = 0;
        for (int i = 0; i < n_terms[k]; i++) {
            if (terms[k][i] == -2) has_ell = 1;
            else letters++, counts[terms[k][i]]++;
        }
        int32_t r = n->in[k]->rank;
        if (has_ell ? letters > r : letters != r)
            return AC_FAIL(d, AC_ERR_MODEL, "equation term %d does not match input rank %d",
                           (int)k, (int)r);
        if (has_ell && r - letters > ell_rank) ell_rank = r - letters;
        c = e + 1;
    }
    /* label sizes: letters first, then the ellipsis axes (52 + i, right-aligned) */
    q->n_labels = 52 + ell_rank;
    for (int i = 0; i < q->n_labels; i++) q->size[i] = i < 52 ? -1 : 1;
    for (int32_t k = 0; k < n->n_in; k++) {
        const rt_tensor *x = n->in[k];
        int letters = 0;
        for (int i = 0; i < n_terms[k]; i++) letters += terms[k][i] != -2;
        int32_t ell_here = x->rank - letters, axis = 0;
        int64_t st[AC_MAX_RANK], s = 1;
        for (int32_t i = x->rank - 1; i >= 0; i--) st[i] = s, s *= x->dims[i];
        for (int i = 0; i < n_terms[k]; i++) {
            if (terms[k][i] == -2) {
                for (int32_t e = 0; e < ell_here; e++, axis++) {
                    int32_t lab = 52 + ell_rank - ell_here + e;
                    int64_t dim = x->dims[axis];
                    if (dim != 1) {
                        if (q->size[lab] != 1 && q->size[lab] != dim)
                            return AC_FAIL(d, AC_ERR_MODEL, "ellipsis axes do not broadcast");
                        q->size[lab] = dim;
                        q->stride[k][lab] += st[axis];
                    }
                }
                continue;
            }
            int32_t lab = terms[k][i];
            int64_t dim = x->dims[axis];
            if (q->size[lab] >= 0 && q->size[lab] != dim)
                return AC_FAIL(d, AC_ERR_MODEL, "label '%c' has sizes %lld and %lld",
                               lab < 26 ? 'a' + lab : 'A' + lab - 26, (long long)q->size[lab],
                               (long long)dim);
            q->size[lab] = dim;
            q->stride[k][lab] += st[axis]; /* a repeated label walks the diagonal */
            axis++;
        }
    }
    /* output labels */
    int in_out[RT_EINSUM_MAX_LABELS] = {0};
    q->n_out = 0;
    if (arrow) {
        int32_t ot[AC_MAX_RANK + 3];
        int no = parse_term(arrow + 2, arrow + strlen(arrow), ot, AC_MAX_RANK + 3);
        if (no < 0) return AC_FAIL(d, AC_ERR_MODEL, "equation \"%s\": bad output term", eq);
        for (int i = 0; i < no; i++) {
            if (ot[i] == -2) {
                if (q->n_out + ell_rank > AC_MAX_RANK)
                    return AC_FAIL(d, AC_ERR_LIMIT, "output rank too high");
                for (int e = 0; e < ell_rank; e++) q->out[q->n_out++] = 52 + e, in_out[52 + e] = 1;
                continue;
            }
            if (q->size[ot[i]] < 0 || in_out[ot[i]])
                return AC_FAIL(d, AC_ERR_MODEL, "output label '%c' is not an input label or "
                               "repeats", ot[i] < 26 ? 'a' + ot[i] : 'A' + ot[i] - 26);
            if (q->n_out >= AC_MAX_RANK) return AC_FAIL(d, AC_ERR_LIMIT, "output rank too high");
            q->out[q->n_out++] = ot[i];
            in_out[ot[i]] = 1;
        }
    } else {
        for (int e = 0; e < ell_rank; e++) q->out[q->n_out++] = 52 + e, in_out[52 + e] = 1;
        for (int l = 0; l < 52; l++)
            if (counts[l] == 1) {
                if (q->n_out >= AC_MAX_RANK)
                    return AC_FAIL(d, AC_ERR_LIMIT, "output rank too high");
                q->out[q->n_out++] = l;
                in_out[l] = 1;
            }
    }
    q->n_sum = 0;
    for (int l = 0; l < q->n_labels; l++)
        if (q->size[l] >= 0 && !in_out[l] && (l >= 52 || counts[l] > 0)) q->sum[q->n_sum++] = l;
    int64_t dims[AC_MAX_RANK];
    for (int i = 0; i < q->n_out; i++) dims[i] = q->size[q->out[i]];
    return rt_set_shape(n->out[0], t, q->n_out, dims, d);
}

/* ---- family table ------------------------------------------------------------------------ */

static const rt_op ops[] = {
    {"BatchNormalization", 6, RT_LATEST, rt_infer_batchnorm},
    {"InstanceNormalization", 6, RT_LATEST, rt_infer_instancenorm},
    {"LayerNormalization", 17, RT_LATEST, rt_infer_layernorm},
    {"LRN", 1, RT_LATEST, rt_infer_lrn},
    {"Einsum", 12, RT_LATEST, rt_infer_einsum},
    {"Conv", 1, RT_LATEST, rt_infer_conv},
    {"ConvTranspose", 1, RT_LATEST, rt_infer_conv_transpose},
    {"Gemm", 6, RT_LATEST, rt_infer_gemm},
    {"MatMul", 1, RT_LATEST, rt_infer_matmul},
};

static const rt_kernel *const kernels[] = {
    &rt_k_conv_ref,
    &rt_k_conv_transpose_ref,
    &rt_k_gemm_ref,
    &rt_k_matmul_ref,
    &rt_k_batchnorm_ref,
    &rt_k_instancenorm_ref,
    &rt_k_layernorm_ref,
    &rt_k_lrn_ref,
    &rt_k_einsum_ref,
    &rt_k_conv_blas,
    &rt_k_conv_avx512,
    &rt_k_conv_transpose_blas,
    &rt_k_gemm_blas,
    &rt_k_matmul_blas,
    &rt_k_dwconv3x3_avx2,
    &rt_k_dwconv3x3_avx512,
    &rt_k_conv_wino_avx512,
    &rt_k_gemm_nt_avx512,
    &rt_k_conv_ortorder_avx2,
    &rt_k_pwdw_avx512,
};

const rt_family rt_family_nn = {ops, RT_COUNT(ops), kernels, RT_COUNT(kernels)};
