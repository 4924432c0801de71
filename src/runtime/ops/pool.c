/* SPDX-License-Identifier: MIT */
/* Infer for the "pool" family: MaxPool/AveragePool/LpPool and their Global forms, Resize and
 * Upsample, Softmax/LogSoftmax, the Reduce* ops, ArgMax/ArgMin, QuantizeLinear and
 * DequantizeLinear. Every attribute is checked against the node's opset; inputs that decide an
 * output shape (Resize scales/sizes/roi, Reduce axes) must be constant at plan time. */
#include "pool.h"
#include "qlinear.h"

#include <math.h>
#include <string.h>

static ac_status bad_type(const rt_node *n, ac_dtype t, ac_diag *d) {
    return AC_FAIL(d, AC_ERR_UNSUPPORTED, "%s on %s tensors is not supported", n->src->op_type,
                   ac_dtype_name(t));
}

/* An attribute that does not exist at this opset is a model error (ONNX checkers reject it). */
static ac_status attr_since(const rt_node *n, const char *name, int64_t since, int64_t opset,
                            ac_diag *d) {
    if (opset < since && ac_node_attr(n->src, name))
        return AC_FAIL(d, AC_ERR_MODEL, "attribute %s needs opset %lld (model has %lld)", name,
                       (long long)since, (long long)opset);
    return AC_OK;
}

static int is_op(const rt_node *n, const char *name) { return !strcmp(n->src->op_type, name); }

/* ---- pooling ------------------------------------------------------------------------------ */

/* Reads an INTS attribute of exactly `want` values into out (or fills dflt when absent). */
static ac_status ints_attr(const rt_node *n, const char *name, int64_t want, int64_t dflt,
                           int64_t min, int64_t *out, ac_diag *d) {
    const int64_t *v;
    int64_t c = rt_attr_ints(n, name, &v);
    if (c < 0) {
        for (int64_t i = 0; i < want; i++) out[i] = dflt;
        return AC_OK;
    }
    if (c != want)
        return AC_FAIL(d, AC_ERR_MODEL, "%s has %lld values, expected %lld", name, (long long)c,
                       (long long)want);
    for (int64_t i = 0; i < c; i++) {
        if (v[i] < min)
            return AC_FAIL(d, AC_ERR_MODEL, "%s[%lld] = %lld is below %lld", name, (long long)i,
                           (long long)v[i], (long long)min);
        out[i] = v[i];
    }
    return AC_OK;
}

static ac_status pool_dtype(const rt_node *n, rt_pool_kind kind, int64_t opset, ac_diag *d) {
    ac_dtype t = n->in[0]->dtype;
    if (t == AC_DTYPE_F32) return AC_OK;
    /* MaxPool takes 8-bit integers from opset 12 (quantized models pool before dequantizing) */
    if (kind == RT_POOL_MAX && (t == AC_DTYPE_U8 || t == AC_DTYPE_S8)) {
        if (opset < 12)
            return AC_FAIL(d, AC_ERR_MODEL, "MaxPool on %s needs opset 12", ac_dtype_name(t));
        return AC_OK;
    }
    return bad_type(n, t, d);
}

ac_status rt_infer_pool(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    rt_pool_kind kind = is_op(n, "MaxPool") ? RT_POOL_MAX
                        : is_op(n, "AveragePool") ? RT_POOL_AVG : RT_POOL_LP;
    AC_TRY(rt_check_io(n, 1, 1, kind == RT_POOL_MAX && opset >= 8 ? 2 : 1, d));
    const rt_tensor *x = n->in[0];
    if (x->rank < 3) return AC_FAIL(d, AC_ERR_MODEL, "input must be N x C x D1..., has rank %d",
                                    (int)x->rank);
    if (x->rank - 2 > RT_POOL_MAX_SP)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "%d-D pooling (only 1-D to 3-D)", (int)x->rank - 2);
    AC_TRY(pool_dtype(n, kind, opset, d));
    /* attributes by opset: dilations (MaxPool 10, AveragePool 19, LpPool 18), ceil_mode
     * (MaxPool/AveragePool 10, LpPool 18), storage_order 8, count_include_pad 7 */
    int64_t dil_since = kind == RT_POOL_MAX ? 10 : kind == RT_POOL_AVG ? 19 : 18;
    AC_TRY(attr_since(n, "dilations", dil_since, opset, d));
    AC_TRY(attr_since(n, "ceil_mode", kind == RT_POOL_LP ? 18 : 10, opset, d));
    if (kind == RT_POOL_MAX) AC_TRY(attr_since(n, "storage_order", 8, opset, d));
    if (kind == RT_POOL_AVG) AC_TRY(attr_since(n, "count_include_pad", 7, opset, d));

    rt_pool_params *pp = rt_plan_alloc(p, sizeof *pp);
    if (!pp) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = pp;
    pp->kind = kind;
    int32_t ns = x->rank - 2;
    pp->nsp = ns;
    pp->planes = x->dims[0] * x->dims[1];
    if (!ac_node_attr(n->src, "kernel_shape"))
        return AC_FAIL(d, AC_ERR_MODEL, "kernel_shape is required");
    AC_TRY(ints_attr(n, "kernel_shape", ns, 1, 1, pp->k, d));
    AC_TRY(ints_attr(n, "strides", ns, 1, 1, pp->s, d));
    AC_TRY(ints_attr(n, "dilations", ns, 1, 1, pp->dil, d));
    int64_t pads[2 * RT_POOL_MAX_SP];
    AC_TRY(ints_attr(n, "pads", 2 * ns, 0, 0, pads, d));
    int64_t ceil_mode = rt_attr_int(n, "ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1)
        return AC_FAIL(d, AC_ERR_MODEL, "ceil_mode must be 0 or 1");
    pp->count_include_pad = (int)rt_attr_int(n, "count_include_pad", 0);
    pp->storage_order = (int)rt_attr_int(n, "storage_order", 0);
    if (pp->storage_order != 0 && pp->storage_order != 1)
        return AC_FAIL(d, AC_ERR_MODEL, "storage_order must be 0 or 1");
    if (kind == RT_POOL_LP) {
        /* LpPool-1 had a float p; from opset 2 it is an int */
        pp->p = opset < 2 ? rt_attr_float(n, "p", 2.0f) : (float)rt_attr_int(n, "p", 2);
        if (!(pp->p > 0)) return AC_FAIL(d, AC_ERR_MODEL, "p must be positive");
    }
    const char *ap = rt_attr_str(n, "auto_pad", "NOTSET");
    int same_upper = !strcmp(ap, "SAME_UPPER"), same_lower = !strcmp(ap, "SAME_LOWER");
    int valid = !strcmp(ap, "VALID");
    if (!same_upper && !same_lower && !valid && strcmp(ap, "NOTSET"))
        return AC_FAIL(d, AC_ERR_MODEL, "unknown auto_pad \"%s\"", ap);

    int64_t dims[AC_MAX_RANK];
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int32_t i = 0; i < ns; i++) {
        int64_t in = x->dims[2 + i], ek = (pp->k[i] - 1) * pp->dil[i] + 1, out;
        int64_t pb = 0, pe = 0;
        if (same_upper || same_lower) {
            /* output covers the input exactly; the odd pad goes at the end (UPPER) or start */
            out = (in + pp->s[i] - 1) / pp->s[i];
            int64_t total = (out - 1) * pp->s[i] + ek - in;
            if (total < 0) total = 0;
            pb = same_upper ? total / 2 : total - total / 2;
            pe = total - pb;
        } else if (valid) {
            if (in < ek)
                return AC_FAIL(d, AC_ERR_MODEL, "kernel %lld is larger than input %lld",
                               (long long)ek, (long long)in);
            out = (in - ek) / pp->s[i] + 1;
        } else {
            pb = pads[i];
            pe = pads[ns + i];
            if (pb >= ek || pe >= ek)
                return AC_FAIL(d, AC_ERR_MODEL, "pads (%lld, %lld) must be smaller than the "
                               "kernel (%lld)", (long long)pb, (long long)pe, (long long)ek);
            int64_t span = in + pb + pe - ek;
            if (span < 0)
                return AC_FAIL(d, AC_ERR_MODEL, "kernel %lld is larger than padded input %lld",
                               (long long)ek, (long long)(in + pb + pe));
            out = (ceil_mode ? (span + pp->s[i] - 1) / pp->s[i] : span / pp->s[i]) + 1;
            /* ceil_mode never starts a window in the end padding (PyTorch/ORT rule), so every
             * window holds at least one input element */
            if (ceil_mode && (out - 1) * pp->s[i] >= in + pb) out--;
        }
        pp->in[i] = in;
        pp->out[i] = out;
        pp->pad[i] = pb;
        pp->pad_end[i] = pe;
        dims[2 + i] = out;
    }
    AC_TRY(rt_set_shape(n->out[0], x->dtype, x->rank, dims, d));
    if (n->n_out > 1 && n->out[1]) AC_TRY(rt_set_shape(n->out[1], AC_DTYPE_S64, x->rank, dims, d));
    return AC_OK;
}

/* Global pools are one window over all spatial elements, viewed as 1-D of their product. */
ac_status rt_infer_global_pool(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    const rt_tensor *x = n->in[0];
    if (x->rank < 2) return AC_FAIL(d, AC_ERR_MODEL, "input must be N x C x D1..., has rank %d",
                                    (int)x->rank);
    if (x->dtype != AC_DTYPE_F32) return bad_type(n, x->dtype, d);
    rt_pool_params *pp = rt_plan_alloc(p, sizeof *pp);
    if (!pp) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = pp;
    pp->kind = is_op(n, "GlobalMaxPool") ? RT_POOL_MAX
               : is_op(n, "GlobalAveragePool") ? RT_POOL_AVG : RT_POOL_LP;
    if (pp->kind == RT_POOL_LP) {
        pp->p = opset < 2 ? rt_attr_float(n, "p", 2.0f) : (float)rt_attr_int(n, "p", 2);
        if (!(pp->p > 0)) return AC_FAIL(d, AC_ERR_MODEL, "p must be positive");
    }
    int64_t sp = 1, dims[AC_MAX_RANK];
    for (int32_t i = 2; i < x->rank; i++) {
        sp *= x->dims[i];
        dims[i] = 1;
    }
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    pp->nsp = 1;
    pp->in[0] = pp->k[0] = sp;
    pp->out[0] = pp->s[0] = pp->dil[0] = 1;
    pp->planes = x->dims[0] * x->dims[1];
    return rt_set_shape(n->out[0], x->dtype, x->rank, dims, d);
}

/* ---- Resize / Upsample -------------------------------------------------------------------- */

static const char *const ctm_names[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                        "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                                        "tf_crop_and_resize"};
static const char *const nearest_names[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                            "ceil"};

static int name_index(const char *s, const char *const *names, int count) {
    for (int i = 0; i < count; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

/* A shape-defining input: absent or empty -> 0 values; not constant -> unsupported. */
static ac_status const_input(const rt_node *n, int k, const char *what, int ints, int64_t *iv,
                             double *fv, int64_t cap, int64_t *count, ac_diag *d) {
    *count = 0;
    const rt_tensor *t = k < n->n_in ? n->in[k] : NULL;
    if (!t || t->numel == 0) return AC_OK;
    if (!rt_value_known(t))
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "%s must be constant at plan time (an initializer "
                       "or computed from shapes)", what);
    if (t->rank != 1) return AC_FAIL(d, AC_ERR_MODEL, "%s must be 1-D", what);
    if (t->numel > cap)
        return AC_FAIL(d, AC_ERR_MODEL, "%s has %lld values, at most %lld", what,
                       (long long)t->numel, (long long)cap);
    if (ints) {
        if (rt_const_ints(t, iv, cap) < 0)
            return AC_FAIL(d, AC_ERR_MODEL, "%s must be int64, is %s", what,
                           ac_dtype_name(t->dtype));
    } else {
        if (t->dtype == AC_DTYPE_F32) {
            for (int64_t i = 0; i < t->numel; i++) fv[i] = ((const float *)t->data)[i];
        } else if (t->dtype == AC_DTYPE_F64) {
            for (int64_t i = 0; i < t->numel; i++) fv[i] = ((const double *)t->data)[i];
        } else {
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "%s of type %s", what,
                           ac_dtype_name(t->dtype));
        }
    }
    *count = t->numel;
    return AC_OK;
}

/* GridSample-16 (bilinear, nearest, bicubic) and -20 (linear, nearest, cubic) on 4-D input;
 * padding zeros, border or reflection; align_corners. */
ac_status rt_infer_grid_sample(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, 2, 2, 1, d));
    const rt_tensor *x = n->in[0], *g = n->in[1];
    if (x->dtype != AC_DTYPE_F32) return bad_type(n, x->dtype, d);
    if (g->dtype != AC_DTYPE_F32) return bad_type(n, g->dtype, d);
    if (x->rank != 4 || g->rank != 4 || g->dims[3] != 2 || g->dims[0] != x->dims[0])
        return AC_FAIL(d, opset >= 20 && x->rank != 4 ? AC_ERR_UNSUPPORTED : AC_ERR_MODEL,
                       "GridSample needs X [N, C, H, W] and grid [N, Ho, Wo, 2] (only 2-D "
                       "sampling is implemented)");
    rt_grid_sample_params *q = rt_plan_alloc(p, sizeof *q);
    if (!q) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = q;
    const char *m = rt_attr_str(n, "mode", opset >= 20 ? "linear" : "bilinear");
    if (!strcmp(m, opset >= 20 ? "linear" : "bilinear")) q->mode = RT_GS_LINEAR;
    else if (!strcmp(m, "nearest")) q->mode = RT_GS_NEAREST;
    else if (!strcmp(m, opset >= 20 ? "cubic" : "bicubic")) q->mode = RT_GS_CUBIC;
    else return AC_FAIL(d, AC_ERR_MODEL, "unknown mode \"%s\" at opset %lld", m,
                        (long long)opset);
    const char *pm = rt_attr_str(n, "padding_mode", "zeros");
    if (!strcmp(pm, "zeros")) q->pad = RT_GS_ZEROS;
    else if (!strcmp(pm, "border")) q->pad = RT_GS_BORDER;
    else if (!strcmp(pm, "reflection")) q->pad = RT_GS_REFLECTION;
    else return AC_FAIL(d, AC_ERR_MODEL, "unknown padding_mode \"%s\"", pm);
    q->align_corners = rt_attr_int(n, "align_corners", 0) != 0;
    q->N = x->dims[0], q->C = x->dims[1], q->H = x->dims[2], q->W = x->dims[3];
    q->Ho = g->dims[1], q->Wo = g->dims[2];
    int64_t dims[4] = {q->N, q->C, q->Ho, q->Wo};
    return rt_set_shape(n->out[0], AC_DTYPE_F32, 4, dims, d);
}

ac_status rt_infer_resize(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    int upsample = is_op(n, "Upsample");
    /* inputs: Upsample-7 X; Upsample-9 / Resize-10 X, scales; Resize-11+ X, roi, scales,
     * sizes (roi and scales optional from 13) */
    if (upsample) AC_TRY(rt_check_io(n, opset < 9 ? 1 : 2, opset < 9 ? 1 : 2, 1, d));
    else if (opset < 11) AC_TRY(rt_check_io(n, 2, 2, 1, d));
    else AC_TRY(rt_check_io(n, 1, 4, 1, d));
    const rt_tensor *x = n->in[0];
    int32_t r = x->rank;
    if (x->dtype != AC_DTYPE_F32) return bad_type(n, x->dtype, d);
    if (r < 1) return AC_FAIL(d, AC_ERR_MODEL, "input must have rank 1 or more");
    rt_resize_params *rp = rt_plan_alloc(p, sizeof *rp);
    if (!rp) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = rp;
    rp->rank = r;
    int v11 = !upsample && opset >= 11;
    if (!v11) {
        static const char *const attrs[] = {"coordinate_transformation_mode", "nearest_mode",
                                            "cubic_coeff_a", "exclude_outside",
                                            "extrapolation_value"};
        for (int i = 0; i < 5; i++) AC_TRY(attr_since(n, attrs[i], 1000, opset, d));
    }
    if (!upsample) {
        AC_TRY(attr_since(n, "antialias", 18, opset, d));
        AC_TRY(attr_since(n, "axes", 18, opset, d));
        AC_TRY(attr_since(n, "keep_aspect_ratio_policy", 18, opset, d));
    }
    const char *mode = rt_attr_str(n, "mode", "nearest");
    if (!strcmp(mode, "nearest")) rp->mode = RT_RS_NEAREST;
    else if (!strcmp(mode, "linear")) rp->mode = RT_RS_LINEAR;
    else if (!strcmp(mode, "cubic") && v11) rp->mode = RT_RS_CUBIC;
    else return AC_FAIL(d, AC_ERR_MODEL, "unknown mode \"%s\"", mode);

    /* before Resize-11 the mapping is x / scale with floor for nearest (Upsample's rule) */
    rp->ctm = RT_RS_ASYMMETRIC;
    rp->nearest = RT_RS_FLOOR;
    rp->cubic_a = -0.75;
    if (v11) {
        const char *c = rt_attr_str(n, "coordinate_transformation_mode", "half_pixel");
        int ci = name_index(c, ctm_names, RT_COUNT(ctm_names));
        if (ci < 0 || (ci == RT_RS_TF_HALF_PIXEL_FOR_NN && opset >= 13) ||
            (ci == RT_RS_HALF_PIXEL_SYMMETRIC && opset < 19))
            return AC_FAIL(d, AC_ERR_MODEL, "coordinate_transformation_mode \"%s\" is not "
                           "defined at opset %lld", c, (long long)opset);
        rp->ctm = (rt_rs_ctm)ci;
        const char *nm = rt_attr_str(n, "nearest_mode", "round_prefer_floor");
        int ni = name_index(nm, nearest_names, RT_COUNT(nearest_names));
        if (ni < 0) return AC_FAIL(d, AC_ERR_MODEL, "unknown nearest_mode \"%s\"", nm);
        rp->nearest = (rt_rs_nearest)ni;
        rp->cubic_a = rt_attr_float(n, "cubic_coeff_a", -0.75f);
        rp->exclude_outside = rt_attr_int(n, "exclude_outside", 0) != 0;
        rp->extrapolation = rt_attr_float(n, "extrapolation_value", 0.0f);
        if (rt_attr_int(n, "antialias", 0))
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "antialias=1 is not implemented");
    }

    /* axes (18): scales/sizes/roi list only these axes; the others keep scale 1 */
    int32_t axes[AC_MAX_RANK], na = r;
    for (int32_t i = 0; i < r; i++) axes[i] = i;
    const int64_t *av;
    int64_t nav = upsample ? -1 : rt_attr_ints(n, "axes", &av);
    if (nav >= 0) {
        if (nav > r) return AC_FAIL(d, AC_ERR_MODEL, "more axes than the input's rank");
        uint8_t seen[AC_MAX_RANK] = {0};
        for (int64_t i = 0; i < nav; i++) {
            AC_TRY(rt_axis(av[i], r, &axes[i], d));
            if (seen[axes[i]]++) return AC_FAIL(d, AC_ERR_MODEL, "axes repeats %lld",
                                                (long long)av[i]);
        }
        na = (int32_t)nav;
    }

    double scales[AC_MAX_RANK], roi[2 * AC_MAX_RANK];
    int64_t sizes[AC_MAX_RANK], n_scales = 0, n_sizes = 0, n_roi = 0;
    if (upsample && opset < 9) {
        const float *fv;
        n_scales = rt_attr_floats(n, "scales", &fv);
        if (n_scales < 0) return AC_FAIL(d, AC_ERR_MODEL, "scales attribute is required");
        if (n_scales > AC_MAX_RANK) n_scales = AC_MAX_RANK + 1; /* reported below */
        for (int64_t i = 0; i < n_scales && i < AC_MAX_RANK; i++) scales[i] = fv[i];
    } else if (!v11) {
        AC_TRY(const_input(n, 1, "scales", 0, NULL, scales, AC_MAX_RANK, &n_scales, d));
        if (n_scales == 0) return AC_FAIL(d, AC_ERR_MODEL, "scales must not be empty");
    } else {
        AC_TRY(const_input(n, 1, "roi", 0, NULL, roi, 2 * AC_MAX_RANK, &n_roi, d));
        AC_TRY(const_input(n, 2, "scales", 0, NULL, scales, AC_MAX_RANK, &n_scales, d));
        AC_TRY(const_input(n, 3, "sizes", 1, sizes, NULL, AC_MAX_RANK, &n_sizes, d));
        if ((n_scales > 0) == (n_sizes > 0))
            return AC_FAIL(d, AC_ERR_MODEL, "exactly one of scales and sizes must be given");
    }
    if ((n_scales && n_scales != na) || (n_sizes && n_sizes != na))
        return AC_FAIL(d, AC_ERR_MODEL, "%s has %lld values for %d axes",
                       n_scales ? "scales" : "sizes", (long long)(n_scales ? n_scales : n_sizes),
                       (int)na);

    int64_t out[AC_MAX_RANK];
    for (int32_t i = 0; i < r; i++) {
        out[i] = x->dims[i];
        rp->scale[i] = 1.0;
        rp->roi_start[i] = 0.0;
        rp->roi_end[i] = 1.0;
    }
    if (rp->ctm == RT_RS_TF_CROP_AND_RESIZE && n_roi) {
        if (n_roi != 2 * na)
            return AC_FAIL(d, AC_ERR_MODEL, "roi has %lld values, expected %d",
                           (long long)n_roi, (int)(2 * na));
        for (int32_t i = 0; i < na; i++) {
            rp->roi_start[axes[i]] = roi[i];
            rp->roi_end[axes[i]] = roi[na + i];
        }
    }
    if (n_scales) {
        for (int32_t i = 0; i < na; i++) {
            int32_t a = axes[i];
            double s = scales[i];
            if (!(s > 0) || (upsample && s < 1))
                return AC_FAIL(d, AC_ERR_MODEL, "scale %g for axis %d is not allowed", s, (int)a);
            rp->scale[a] = s;
            /* ONNX: floor(in * scale), the roi length included for tf_crop_and_resize */
            double len = (double)x->dims[a];
            if (rp->ctm == RT_RS_TF_CROP_AND_RESIZE) len *= rp->roi_end[a] - rp->roi_start[a];
            out[a] = (int64_t)floor(len * s);
        }
    } else {
        const char *pol = opset >= 18 ? rt_attr_str(n, "keep_aspect_ratio_policy", "stretch")
                                      : "stretch";
        int stretch = !strcmp(pol, "stretch"), not_larger = !strcmp(pol, "not_larger");
        if (!stretch && !not_larger && strcmp(pol, "not_smaller"))
            return AC_FAIL(d, AC_ERR_MODEL, "unknown keep_aspect_ratio_policy \"%s\"", pol);
        double common = not_larger ? INFINITY : 0.0;
        for (int32_t i = 0; i < na; i++) {
            int32_t a = axes[i];
            if (sizes[i] < 0) return AC_FAIL(d, AC_ERR_MODEL, "negative size");
            if (x->dims[a] == 0) return AC_FAIL(d, AC_ERR_MODEL, "cannot resize an empty axis");
            double s = (double)sizes[i] / (double)x->dims[a];
            if (not_larger ? s < common : s > common) common = s;
            rp->scale[a] = s;
            out[a] = sizes[i];
        }
        if (!stretch) /* one scale for all listed axes, sizes rounded (half to even) */
            for (int32_t i = 0; i < na; i++) {
                rp->scale[axes[i]] = common;
                out[axes[i]] = (int64_t)nearbyint(common * (double)x->dims[axes[i]]);
            }
    }
    return rt_set_shape(n->out[0], x->dtype, r, out, d);
}

/* ---- Softmax / LogSoftmax ----------------------------------------------------------------- */

ac_status rt_infer_softmax(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    const rt_tensor *x = n->in[0];
    if (x->dtype != AC_DTYPE_F32) return bad_type(n, x->dtype, d);
    rt_softmax_params *sp = rt_plan_alloc(p, sizeof *sp);
    if (!sp) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = sp;
    sp->log = is_op(n, "LogSoftmax");
    int32_t axis = 0;
    int32_t r = x->rank;
    sp->outer = sp->n = sp->inner = 1;
    if (opset < 13) {
        /* the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])]; axis == rank
         * is allowed (a 1-element row) */
        int64_t a = rt_attr_int(n, "axis", 1);
        if (a < 0) a += r;
        if (a < 0 || a > r)
            return AC_FAIL(d, AC_ERR_MODEL, "axis %lld is out of range for rank %d",
                           (long long)rt_attr_int(n, "axis", 1), (int)r);
        for (int32_t i = 0; i < r; i++) {
            if (i < a) sp->outer *= x->dims[i];
            else sp->n *= x->dims[i];
        }
    } else {
        if (r > 0) AC_TRY(rt_axis(rt_attr_int(n, "axis", -1), r, &axis, d));
        for (int32_t i = 0; i < r; i++) {
            if (i < axis) sp->outer *= x->dims[i];
            else if (i == axis) sp->n = x->dims[i];
            else sp->inner *= x->dims[i];
        }
    }
    return rt_set_shape(n->out[0], x->dtype, r, x->dims, d);
}

/* ---- reductions, ArgMax/ArgMin ------------------------------------------------------------ */

static const struct {
    const char *name;
    rt_red_kind kind;
} red_kinds[] = {
    {"ReduceSum", RT_RED_SUM},       {"ReduceMean", RT_RED_MEAN},
    {"ReduceMax", RT_RED_MAX},       {"ReduceMin", RT_RED_MIN},
    {"ReduceProd", RT_RED_PROD},     {"ReduceL1", RT_RED_L1},
    {"ReduceL2", RT_RED_L2},         {"ReduceLogSum", RT_RED_LOG_SUM},
    {"ReduceLogSumExp", RT_RED_LOG_SUM_EXP}, {"ReduceSumSquare", RT_RED_SUM_SQUARE},
    {"ArgMax", RT_RED_ARGMAX},       {"ArgMin", RT_RED_ARGMIN},
};

static rt_red_kind red_kind(const rt_node *n) {
    for (int i = 0; i < RT_COUNT(red_kinds); i++)
        if (!strcmp(red_kinds[i].name, n->src->op_type)) return red_kinds[i].kind;
    return RT_RED_SUM;
}

/* Element types a reduction kernel handles: floats always; integers where the result stays
 * an integer (sums, products, extrema); 8-bit integers for extrema and Arg*. */
static int red_type_ok(rt_red_kind k, ac_dtype t) {
    if (t == AC_DTYPE_F32 || t == AC_DTYPE_F64) return 1;
    int wide = t == AC_DTYPE_S32 || t == AC_DTYPE_S64, narrow = t == AC_DTYPE_U8 || t == AC_DTYPE_S8;
    switch (k) {
    case RT_RED_MAX: case RT_RED_MIN: case RT_RED_ARGMAX: case RT_RED_ARGMIN:
        return wide || narrow;
    case RT_RED_SUM: case RT_RED_PROD: case RT_RED_L1: case RT_RED_SUM_SQUARE:
        return wide;
    default:
        return 0;
    }
}

static ac_status reduce_out(rt_plan *p, rt_node *n, rt_reduce_params *rp, int keepdims,
                            ac_dtype out_t, ac_diag *d) {
    (void)p;
    const rt_tensor *x = n->in[0];
    int64_t dims[AC_MAX_RANK];
    int32_t m = 0;
    rp->count = 1;
    for (int32_t i = 0; i < x->rank; i++) {
        if (rp->reduced[i]) {
            rp->count *= x->dims[i];
            if (keepdims) dims[m++] = 1;
        } else {
            dims[m++] = x->dims[i];
        }
    }
    return rt_set_shape(n->out[0], out_t, m, dims, d);
}

ac_status rt_infer_reduce(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    rt_red_kind kind = red_kind(n);
    /* axes became an input in opset 13 for ReduceSum and 18 for the others */
    int axes_input = kind == RT_RED_SUM ? opset >= 13 : opset >= 18;
    AC_TRY(rt_check_io(n, 1, axes_input ? 2 : 1, 1, d));
    AC_TRY(attr_since(n, "noop_with_empty_axes", axes_input ? 0 : 1000, opset, d));
    if (axes_input && ac_node_attr(n->src, "axes"))
        return AC_FAIL(d, AC_ERR_MODEL, "axes is an input at opset %lld, not an attribute",
                       (long long)opset);
    const rt_tensor *x = n->in[0];
    if (!red_type_ok(kind, x->dtype)) return bad_type(n, x->dtype, d);
    rt_reduce_params *rp = rt_plan_alloc(p, sizeof *rp);
    if (!rp) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = rp;
    rp->kind = kind;
    rp->rank = x->rank;
    int64_t keepdims = rt_attr_int(n, "keepdims", 1);
    int64_t axes[AC_MAX_RANK], na = 0;
    if (axes_input) {
        const rt_tensor *t = n->n_in > 1 ? n->in[1] : NULL;
        if (t && t->numel > 0) {
            if (!rt_value_known(t))
                return AC_FAIL(d, AC_ERR_UNSUPPORTED, "axes must be constant at plan time");
            if (t->dtype != AC_DTYPE_S64 || t->rank != 1)
                return AC_FAIL(d, AC_ERR_MODEL, "axes must be a 1-D int64 tensor");
            if (t->numel > AC_MAX_RANK) return AC_FAIL(d, AC_ERR_MODEL, "too many axes");
            na = rt_const_ints(t, axes, AC_MAX_RANK);
        }
    } else {
        const int64_t *v;
        na = rt_attr_ints(n, "axes", &v);
        if (na > AC_MAX_RANK) return AC_FAIL(d, AC_ERR_MODEL, "too many axes");
        for (int64_t i = 0; i < na; i++) axes[i] = v[i];
        if (na < 0) na = 0;
    }
    for (int64_t i = 0; i < na; i++) {
        int32_t a;
        AC_TRY(rt_axis(axes[i], x->rank, &a, d));
        if (x->rank == 0) continue;
        if (rp->reduced[a]) return AC_FAIL(d, AC_ERR_MODEL, "axes repeats %lld",
                                           (long long)axes[i]);
        rp->reduced[a] = 1;
    }
    if (na == 0) {
        if (rt_attr_int(n, "noop_with_empty_axes", 0)) {
            rp->noop = 1; /* output = input, unreduced */
            return rt_set_shape(n->out[0], x->dtype, x->rank, x->dims, d);
        }
        for (int32_t i = 0; i < x->rank; i++) rp->reduced[i] = 1;
    }
    return reduce_out(p, n, rp, keepdims != 0, x->dtype, d);
}

ac_status rt_infer_arg(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    AC_TRY(rt_check_io(n, 1, 1, 1, d));
    AC_TRY(attr_since(n, "select_last_index", 12, opset, d));
    const rt_tensor *x = n->in[0];
    rt_red_kind kind = red_kind(n);
    if (!red_type_ok(kind, x->dtype)) return bad_type(n, x->dtype, d);
    if (x->rank < 1) return AC_FAIL(d, AC_ERR_MODEL, "input must have rank 1 or more");
    rt_reduce_params *rp = rt_plan_alloc(p, sizeof *rp);
    if (!rp) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = rp;
    rp->kind = kind;
    rp->rank = x->rank;
    rp->select_last_index = rt_attr_int(n, "select_last_index", 0) != 0;
    int32_t a;
    AC_TRY(rt_axis(rt_attr_int(n, "axis", 0), x->rank, &a, d));
    rp->reduced[a] = 1;
    if (x->dims[a] == 0) return AC_FAIL(d, AC_ERR_MODEL, "%s over an empty axis",
                                        n->src->op_type);
    return reduce_out(p, n, rp, rt_attr_int(n, "keepdims", 1) != 0, AC_DTYPE_S64, d);
}

/* ---- QuantizeLinear / DequantizeLinear ---------------------------------------------------- */

ac_status rt_infer_qdq(rt_plan *p, rt_node *n, ac_diag *d) {
    int64_t opset = rt_plan_opset(p);
    int q = is_op(n, "QuantizeLinear");
    AC_TRY(rt_check_io(n, 2, 3, 1, d));
    AC_TRY(attr_since(n, "axis", 13, opset, d));
    AC_TRY(attr_since(n, "block_size", 21, opset, d));
    AC_TRY(attr_since(n, "saturate", 19, opset, d));
    if (q) AC_TRY(attr_since(n, "output_dtype", 21, opset, d));
    const rt_tensor *x = n->in[0], *s = n->in[1];
    const rt_tensor *zp = n->n_in > 2 ? n->in[2] : NULL;
    if (s->dtype != AC_DTYPE_F32) return bad_type(n, s->dtype, d);
    ac_dtype qt; /* the integer side's type */
    if (q) {
        if (x->dtype != AC_DTYPE_F32 && x->dtype != AC_DTYPE_S32) return bad_type(n, x->dtype, d);
        int64_t od = rt_attr_int(n, "output_dtype", 0);
        qt = zp ? zp->dtype : od ? (ac_dtype)od : AC_DTYPE_U8;
        if (zp && od && od != (int64_t)zp->dtype)
            return AC_FAIL(d, AC_ERR_MODEL, "output_dtype %s differs from y_zero_point's %s",
                           ac_dtype_name((ac_dtype)od), ac_dtype_name(zp->dtype));
        if (qt != AC_DTYPE_U8 && qt != AC_DTYPE_S8)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "QuantizeLinear to %s (only uint8/int8)",
                           ac_dtype_name(qt));
    } else {
        qt = x->dtype;
        if (qt != AC_DTYPE_U8 && qt != AC_DTYPE_S8 && qt != AC_DTYPE_S32)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "DequantizeLinear from %s (only uint8/int8/"
                           "int32)", ac_dtype_name(qt));
        if (zp && zp->dtype != qt)
            return AC_FAIL(d, AC_ERR_MODEL, "x_zero_point is %s but x is %s",
                           ac_dtype_name(zp->dtype), ac_dtype_name(qt));
    }
    rt_qdq_params *qp = rt_plan_alloc(p, sizeof *qp);
    if (!qp) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    n->params = qp;
    qp->quantize = q;
    qp->outer = 1; /* per-tensor: one row of every element */
    qp->len = 1;
    qp->inner = x->numel;
    qp->block = 1;
    int64_t block = rt_attr_int(n, "block_size", 0);
    if (block < 0) return AC_FAIL(d, AC_ERR_MODEL, "block_size must not be negative");
    if (block == 0 && s->rank <= 1 && s->numel == 1) {
        /* per-tensor: every stride 0 (a 1-element 1-D scale counts as a scalar, as in ORT) */
    } else if (opset < 13) {
        return AC_FAIL(d, AC_ERR_MODEL, "the scale must be a scalar before opset 13");
    } else {
        int32_t axis;
        AC_TRY(rt_axis(rt_attr_int(n, "axis", 1), x->rank, &axis, d));
        qp->len = x->dims[axis];
        qp->outer = qp->inner = 1;
        for (int32_t i = 0; i < x->rank; i++) {
            if (i < axis) qp->outer *= x->dims[i];
            if (i > axis) qp->inner *= x->dims[i];
        }
        if (block == 0) {
            if (s->rank != 1 || s->numel != qp->len)
                return AC_FAIL(d, AC_ERR_MODEL, "per-axis scale must be 1-D with %lld values",
                               (long long)qp->len);
            qp->sa = 1;
        } else {
            /* blocked: the scale has x's shape with ceil(len / block) along the axis */
            int64_t nb = (qp->len + block - 1) / block;
            int ok = s->rank == x->rank;
            for (int32_t i = 0; ok && i < x->rank; i++)
                ok = s->dims[i] == (i == axis ? nb : x->dims[i]);
            if (!ok) return AC_FAIL(d, AC_ERR_MODEL, "blocked scale must have x's shape with "
                                    "%lld blocks along axis %d", (long long)nb, (int)axis);
            qp->block = block;
            qp->so = nb * qp->inner;
            qp->sa = qp->inner;
            qp->si = 1;
        }
    }
    if (zp) {
        int same = zp->rank == s->rank;
        for (int32_t i = 0; same && i < s->rank; i++) same = zp->dims[i] == s->dims[i];
        if (!same && !(zp->numel == 1 && s->numel == 1))
            return AC_FAIL(d, AC_ERR_MODEL, "zero point and scale shapes differ");
    }
    return rt_set_shape(n->out[0], q ? qt : AC_DTYPE_F32, x->rank, x->dims, d);
}

/* ---- family table ------------------------------------------------------------------------ */

static const rt_op ops[] = {
    {"ArgMax", 1, RT_LATEST, rt_infer_arg},
    {"ArgMin", 1, RT_LATEST, rt_infer_arg},
    {"AveragePool", 1, RT_LATEST, rt_infer_pool},
    {"DequantizeLinear", 10, RT_LATEST, rt_infer_qdq},
    {"GlobalAveragePool", 1, RT_LATEST, rt_infer_global_pool},
    {"GlobalLpPool", 1, RT_LATEST, rt_infer_global_pool},
    {"GlobalMaxPool", 1, RT_LATEST, rt_infer_global_pool},
    {"LogSoftmax", 1, RT_LATEST, rt_infer_softmax},
    {"LpPool", 1, RT_LATEST, rt_infer_pool},
    {"MaxPool", 1, RT_LATEST, rt_infer_pool},
    {"QuantizeLinear", 10, RT_LATEST, rt_infer_qdq},
    {"ReduceL1", 1, RT_LATEST, rt_infer_reduce},
    {"ReduceL2", 1, RT_LATEST, rt_infer_reduce},
    {"ReduceLogSum", 1, RT_LATEST, rt_infer_reduce},
    {"ReduceLogSumExp", 1, RT_LATEST, rt_infer_reduce},
    {"ReduceMax", 1, RT_LATEST, rt_infer_reduce},
    {"ReduceMean", 1, RT_LATEST, rt_infer_reduce},
    {"ReduceMin", 1, RT_LATEST, rt_infer_reduce},
    {"ReduceProd", 1, RT_LATEST, rt_infer_reduce},
    {"ReduceSum", 1, RT_LATEST, rt_infer_reduce},
    {"ReduceSumSquare", 1, RT_LATEST, rt_infer_reduce},
    {"GridSample", 16, RT_LATEST, rt_infer_grid_sample},
    {"Resize", 10, RT_LATEST, rt_infer_resize},
    {"Softmax", 1, RT_LATEST, rt_infer_softmax},
    {"Upsample", 7, 9, rt_infer_resize},
};

static const rt_kernel *const kernels[] = {
    &rt_k_pool_ref, &rt_k_resize_ref, &rt_k_softmax_ref, &rt_k_reduce_ref, &rt_k_qdq_ref,
    &rt_k_pool2d_avx2, &rt_k_gavgpool_avx2, &rt_k_gavgpool_avx512, &rt_k_qlinear_ref,
    &rt_k_qlinear_conv_avx512, &rt_k_grid_sample_ref,
};

const rt_family rt_family_pool = {ops, RT_COUNT(ops), kernels, RT_COUNT(kernels)};
