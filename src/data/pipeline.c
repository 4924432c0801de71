/* SPDX-License-Identifier: MIT */
/* Executes a transform list on one image. The working image is 8-bit until a transform needs
 * float (Normalize, a fractional pad value) or the source framework works in float from the
 * start (PaddleSeg), exactly where the Python pipelines change dtype, because the uint8 and
 * float resize arithmetics differ. */
#include "data_internal.h"

#include <math.h>
#include <string.h>

#define MAX_SIDE 65536
#define MAX_ELEMS ((size_t)1 << 31)

struct ac_pipeline {
    ac_xform xf[AC_MAX_XFORMS];
    int32_t n;
    ac_decode_opts dec;
    int32_t float_input;
    /* ping-pong scratch, reused across runs */
    void *buf[2];
    size_t cap[2];
    float *out;
    size_t out_cap;
};

/* The image between transforms. */
typedef struct work {
    void *data;
    int is_f32, chw;
    int32_t w, h, c;
    double ax, bx, ay, by; /* x_out = ax * x_src + bx */
} work;

const char *ac_xform_name(ac_xform_kind k) {
    static const char *const names[] = {"resize", "resize_short", "resize_long", "center_crop",
                                        "letterbox", "pad", "normalize", "to_chw", "swap_rb"};
    _Static_assert(sizeof names / sizeof names[0] == AC_XFORM_KIND_COUNT, "names");
    return (unsigned)k < AC_XFORM_KIND_COUNT ? names[k] : "?";
}

static ac_status validate(const ac_xform *x, int32_t i, int after_chw, ac_diag *d) {
#define BAD(...)                                                                                   \
    do {                                                                                           \
        ac_diag_where(d, "transform %d (%s)", (int)i, ac_xform_name(x->kind));                     \
        return AC_FAIL(d, AC_ERR_CONFIG, __VA_ARGS__);                                             \
    } while (0)
    if ((unsigned)x->kind >= AC_XFORM_KIND_COUNT) BAD("unknown transform kind %d", (int)x->kind);
    if ((unsigned)x->interp >= AC_INTERP_COUNT) BAD("unknown interpolation %d", (int)x->interp);
    if ((unsigned)x->backend >= AC_RESIZE_BACKEND_COUNT) BAD("unknown backend %d", (int)x->backend);
    if (x->backend == AC_RESIZE_PIL && x->interp != AC_INTERP_LINEAR)
        BAD("the PIL backend supports bilinear only");
    int sized = x->kind == AC_XFORM_RESIZE || x->kind == AC_XFORM_CENTER_CROP ||
                x->kind == AC_XFORM_LETTERBOX;
    if (sized && (x->width <= 0 || x->height <= 0 || x->width > MAX_SIDE || x->height > MAX_SIDE))
        BAD("size must be in 1..%d, got %dx%d", MAX_SIDE, (int)x->width, (int)x->height);
    if ((x->kind == AC_XFORM_RESIZE_SHORT || x->kind == AC_XFORM_RESIZE_LONG) &&
        (x->size <= 0 || x->size > MAX_SIDE || x->max_size < 0))
        BAD("size must be in 1..%d, got %d", MAX_SIDE, (int)x->size);
    if (x->kind == AC_XFORM_PAD &&
        (x->width < 0 || x->height < 0 || x->width > MAX_SIDE || x->height > MAX_SIDE ||
         x->stride < 0 || x->stride > 4096 || (!x->width && !x->height && !x->stride)))
        BAD("pad needs a target size (0..%d) or a stride (1..4096)", MAX_SIDE);
    if (x->kind == AC_XFORM_NORMALIZE) {
        if (!isfinite(x->scale)) BAD("scale must be finite");
        for (int k = 0; k < 3; k++)
            if (!isfinite(x->mean[k]) || !isfinite(x->std[k]) || x->std[k] == 0.f)
                BAD("mean must be finite and std finite and non-zero");
    }
    if (after_chw && x->kind != AC_XFORM_PAD && x->kind != AC_XFORM_NORMALIZE &&
        x->kind != AC_XFORM_SWAP_RB)
        BAD("%s cannot follow the HWC -> CHW transposition", ac_xform_name(x->kind));
#undef BAD
    return AC_OK;
}

ac_status ac_pipeline_new(const ac_xform *xf, int32_t n, const ac_pipeline_opts *o,
                          int32_t float_input, ac_pipeline **out, ac_diag *d) {
    if (!out) return AC_FAIL(d, AC_ERR_ARG, "ac_pipeline_new: NULL out");
    *out = NULL;
    if (n < 0 || n > AC_MAX_XFORMS || (n && !xf))
        return AC_FAIL(d, AC_ERR_ARG, "ac_pipeline_new: %d transforms (at most %d)", (int)n,
                       AC_MAX_XFORMS);
    int chw = 0;
    for (int32_t i = 0; i < n; i++) {
        AC_TRY(validate(&xf[i], i, chw, d));
        if (xf[i].kind == AC_XFORM_TO_CHW) chw = 1;
    }
    if (o && (unsigned)o->decode.format >= AC_PIXFMT_COUNT)
        return AC_FAIL(d, AC_ERR_ARG, "ac_pipeline_new: bad pixel format");
    ac_pipeline *p = ac_calloc(1, sizeof *p);
    if (!p) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for a pipeline");
    if (n) memcpy(p->xf, xf, (size_t)n * sizeof *xf);
    p->n = n;
    if (o) p->dec = o->decode;
    p->float_input = float_input != 0;
    *out = p;
    return AC_OK;
}

ac_status ac_pipeline_clone(const ac_pipeline *p, ac_pipeline **out, ac_diag *d) {
    if (!p) return AC_FAIL(d, AC_ERR_ARG, "ac_pipeline_clone: NULL pipeline");
    ac_pipeline_opts o = {.decode = p->dec};
    return ac_pipeline_new(p->xf, p->n, &o, p->float_input, out, d);
}

void ac_pipeline_free(ac_pipeline *p) {
    if (!p) return;
    ac_aligned_free(p->buf[0]);
    ac_aligned_free(p->buf[1]);
    ac_aligned_free(p->out);
    ac_free(p);
}

const ac_decode_opts *ac_pipeline_decode_opts(const ac_pipeline *p) { return p ? &p->dec : NULL; }
int32_t ac_pipeline_count(const ac_pipeline *p) { return p ? p->n : 0; }
const ac_xform *ac_pipeline_at(const ac_pipeline *p, int32_t i) {
    return p && i >= 0 && i < p->n ? &p->xf[i] : NULL;
}

/* A scratch buffer other than the one holding `cur`, with room for `elems` of the type. */
static ac_status scratch(ac_pipeline *p, const work *cur, size_t elems, int f32, void **outp,
                         ac_diag *d) {
    if (elems > MAX_ELEMS)
        return AC_FAIL(d, AC_ERR_LIMIT, "intermediate image of %zu values is over the limit",
                       elems);
    int i = cur->data == p->buf[0] ? 1 : 0;
    size_t bytes = elems * (f32 ? sizeof(float) : 1);
    if (bytes > p->cap[i]) {
        void *b = ac_aligned_alloc(bytes);
        if (!b) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for a %zu-byte image", bytes);
        ac_aligned_free(p->buf[i]);
        p->buf[i] = b;
        p->cap[i] = bytes;
    }
    *outp = p->buf[i];
    return AC_OK;
}

static size_t numel(const work *w) { return (size_t)w->w * (size_t)w->h * (size_t)w->c; }

static ac_status to_float(ac_pipeline *p, work *w, ac_diag *d) {
    if (w->is_f32) return AC_OK;
    void *o = NULL;
    AC_TRY(scratch(p, w, numel(w), 1, &o, d));
    const uint8_t *s = w->data;
    float *f = o;
    for (size_t i = 0, n = numel(w); i < n; i++) f[i] = (float)s[i];
    w->data = o;
    w->is_f32 = 1;
    return AC_OK;
}

/* cv2.resize to (dw, dh) with inverse scales (isx, isy). */
static ac_status do_resize(ac_pipeline *p, work *w, int32_t dw, int32_t dh, double isx,
                           double isy, ac_interp in, ac_resize_backend be, ac_diag *d) {
    if (dw <= 0 || dh <= 0 || dw > MAX_SIDE || dh > MAX_SIDE)
        return AC_FAIL(d, AC_ERR_CONFIG, "resize of %dx%d gives %dx%d", (int)w->w, (int)w->h,
                       (int)dw, (int)dh);
    void *o = NULL;
    AC_TRY(scratch(p, w, (size_t)dw * dh * w->c, w->is_f32, &o, d));
    if (be == AC_RESIZE_PIL) {
        if (w->is_f32)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "the PIL resize backend needs an 8-bit image "
                           "(resize before normalizing)");
        AC_TRY(ac_resize_u8_pil(w->data, w->w, w->h, w->c, o, dw, dh, d));
    } else if (w->is_f32)
        AC_TRY(ac_resize_f32(w->data, w->w, w->h, w->c, o, dw, dh, isx, isy, in, d));
    else
        AC_TRY(ac_resize_u8(w->data, w->w, w->h, w->c, o, dw, dh, isx, isy, in, d));
    w->ax *= (double)dw / w->w, w->bx *= (double)dw / w->w;
    w->ay *= (double)dh / w->h, w->by *= (double)dh / w->h;
    w->data = o, w->w = dw, w->h = dh;
    return AC_OK;
}

/* Copies `w` into a (nw x nh) canvas at (left, top), rest filled with val[c]. */
static ac_status do_pad(ac_pipeline *p, work *w, int32_t nw, int32_t nh, int32_t left,
                        int32_t top, const float *val, ac_diag *d) {
    int frac = 0;
    for (int k = 0; k < 3; k++) frac |= val[k] != floorf(val[k]) || val[k] < 0 || val[k] > 255;
    if (!w->is_f32 && frac) AC_TRY(to_float(p, w, d)); /* Paddle pads on a float32 canvas */
    void *o = NULL;
    AC_TRY(scratch(p, w, (size_t)nw * nh * w->c, w->is_f32, &o, d));
    int32_t c = w->c;
    for (int32_t ch = 0; ch < c; ch++) {
        float v = val[ch < 3 ? ch : 2];
        for (int32_t y = 0; y < nh; y++)
            for (int32_t x = 0; x < nw; x++) {
                int32_t sx = x - left, sy = y - top;
                int in = sx >= 0 && sy >= 0 && sx < w->w && sy < w->h;
                size_t di = w->chw ? ((size_t)ch * nh + y) * nw + x : ((size_t)y * nw + x) * c + ch;
                size_t si = w->chw ? ((size_t)ch * w->h + sy) * w->w + sx
                                   : ((size_t)sy * w->w + sx) * c + ch;
                if (w->is_f32)
                    ((float *)o)[di] = in ? ((const float *)w->data)[si] : v;
                else
                    ((uint8_t *)o)[di] = in ? ((const uint8_t *)w->data)[si] : (uint8_t)lrintf(v);
            }
    }
    w->bx += left, w->by += top;
    w->data = o, w->w = nw, w->h = nh;
    return AC_OK;
}

static ac_status do_crop(ac_pipeline *p, work *w, int32_t cw, int32_t chh, ac_diag *d) {
    if (cw > w->w || chh > w->h)
        return AC_FAIL(d, AC_ERR_CONFIG, "crop %dx%d is larger than the %dx%d image", (int)cw,
                       (int)chh, (int)w->w, (int)w->h);
    int32_t x0 = (w->w - cw) / 2, y0 = (w->h - chh) / 2;
    size_t es = w->is_f32 ? sizeof(float) : 1, pix = (size_t)w->c * es;
    void *o = NULL;
    AC_TRY(scratch(p, w, (size_t)cw * chh * w->c, w->is_f32, &o, d));
    for (int32_t y = 0; y < chh; y++)
        memcpy((char *)o + (size_t)y * cw * pix,
               (const char *)w->data + ((size_t)(y0 + y) * w->w + x0) * pix, (size_t)cw * pix);
    w->bx -= x0, w->by -= y0;
    w->data = o, w->w = cw, w->h = chh;
    return AC_OK;
}

static ac_status do_normalize(ac_pipeline *p, work *w, const ac_xform *x, ac_diag *d) {
    AC_TRY(to_float(p, w, d));
    float *f = w->data;
    float sc = (float)x->scale;
    size_t plane = (size_t)w->w * w->h;
    for (int32_t ch = 0; ch < w->c; ch++) {
        float m = x->mean[ch < 3 ? ch : 2], s = x->std[ch < 3 ? ch : 2];
        if (w->chw) {
            float *q = f + (size_t)ch * plane;
            for (size_t i = 0; i < plane; i++) q[i] = (q[i] * sc - m) / s;
        } else {
            for (size_t i = 0; i < plane; i++) {
                float *q = f + i * w->c + ch;
                *q = (*q * sc - m) / s;
            }
        }
    }
    return AC_OK;
}

static ac_status do_chw(ac_pipeline *p, work *w, ac_diag *d) {
    void *o = NULL;
    AC_TRY(scratch(p, w, numel(w), w->is_f32, &o, d));
    size_t plane = (size_t)w->w * w->h;
    for (int32_t ch = 0; ch < w->c; ch++)
        for (size_t i = 0; i < plane; i++) {
            if (w->is_f32)
                ((float *)o)[ch * plane + i] = ((const float *)w->data)[i * w->c + ch];
            else
                ((uint8_t *)o)[ch * plane + i] = ((const uint8_t *)w->data)[i * w->c + ch];
        }
    w->data = o, w->chw = 1;
    return AC_OK;
}

static void do_swap(work *w) {
    if (w->c < 3) return;
    size_t plane = (size_t)w->w * w->h, es = w->is_f32 ? sizeof(float) : 1;
    char *b = w->data, t[sizeof(float)];
    for (size_t i = 0; i < plane; i++) {
        char *r = w->chw ? b + i * es : b + i * w->c * es;
        char *bl = w->chw ? b + (2 * plane + i) * es : r + 2 * es;
        memcpy(t, r, es), memcpy(r, bl, es), memcpy(bl, t, es);
    }
}

/* Python's round() on a non-negative double: half to even, like lrint. */
static int32_t pyround(double v) { return (int32_t)lrint(v); }

static ac_status step(ac_pipeline *p, work *w, const ac_xform *x, ac_diag *d) {
    switch (x->kind) {
    case AC_XFORM_RESIZE: {
        if (!x->keep_ratio)
            return do_resize(p, w, x->width, x->height, (double)x->width / w->w,
                             (double)x->height / w->h, x->interp, x->backend, d);
        /* PaddleDetection's generate_scale, then cv2.resize(fx=fy=scale): cv2 takes the
         * scale itself for coordinates and rounds the size */
        double smin = w->w < w->h ? w->w : w->h, smax = w->w < w->h ? w->h : w->w;
        double tmin = x->width < x->height ? x->width : x->height;
        double tmax = x->width < x->height ? x->height : x->width;
        double s = tmin / smin;
        if (nearbyint(s * smax) > tmax) s = tmax / smax;
        return do_resize(p, w, pyround(w->w * s), pyround(w->h * s), s, s, x->interp, x->backend,
                         d);
    }
    case AC_XFORM_RESIZE_SHORT:
    case AC_XFORM_RESIZE_LONG: {
        int32_t sh = w->w < w->h ? w->w : w->h, lo = w->w < w->h ? w->h : w->w;
        double s = (double)x->size / (x->kind == AC_XFORM_RESIZE_SHORT ? sh : lo);
        if (x->kind == AC_XFORM_RESIZE_SHORT && x->max_size > 0 &&
            nearbyint(s * lo) > x->max_size)
            s = (double)x->max_size / lo;
        int32_t nw = pyround(w->w * s), nh = pyround(w->h * s);
        return do_resize(p, w, nw, nh, (double)nw / w->w, (double)nh / w->h, x->interp,
                         x->backend, d);
    }
    case AC_XFORM_CENTER_CROP: return do_crop(p, w, x->width, x->height, d);
    case AC_XFORM_LETTERBOX: {
        double r = fmin((double)x->height / w->h, (double)x->width / w->w);
        int32_t nw = pyround(w->w * r), nh = pyround(w->h * r);
        if (nw > x->width) nw = x->width;
        if (nh > x->height) nh = x->height;
        double dw = (x->width - nw) / 2.0, dh = (x->height - nh) / 2.0;
        int32_t left = pyround(dw - 0.1), top = pyround(dh - 0.1);
        if (nw != w->w || nh != w->h)
            AC_TRY(do_resize(p, w, nw, nh, (double)nw / w->w, (double)nh / w->h, x->interp,
                             x->backend, d));
        return do_pad(p, w, x->width, x->height, left, top, x->pad_value, d);
    }
    case AC_XFORM_PAD: {
        int32_t nw = w->w > x->width ? w->w : x->width, nh = w->h > x->height ? w->h : x->height;
        if (x->stride > 0) {
            nw = (nw + x->stride - 1) / x->stride * x->stride;
            nh = (nh + x->stride - 1) / x->stride * x->stride;
        }
        if (nw == w->w && nh == w->h) return AC_OK;
        return do_pad(p, w, nw, nh, 0, 0, x->pad_value, d);
    }
    case AC_XFORM_NORMALIZE: return do_normalize(p, w, x, d);
    case AC_XFORM_TO_CHW: return w->chw ? AC_OK : do_chw(p, w, d);
    case AC_XFORM_SWAP_RB: do_swap(w); return AC_OK;
    default: return AC_FAIL(d, AC_ERR_INTERNAL, "transform kind %d", (int)x->kind);
    }
}

ac_status ac_pipeline_run(ac_pipeline *p, const ac_image *img, ac_pre_result *r, ac_diag *d) {
    if (!p || !img || !r || !img->data || img->width <= 0 || img->height <= 0 ||
        (img->channels != 1 && img->channels != 3))
        return AC_FAIL(d, AC_ERR_ARG, "ac_pipeline_run: need a decoded 1- or 3-channel image");
    memset(r, 0, sizeof *r);
    work w = {.data = img->data, .w = img->width, .h = img->height, .c = img->channels,
              .ax = 1, .ay = 1};
    if (w.c == 1 && p->dec.format != AC_PIXFMT_GRAY) {
        /* cv2.IMREAD_COLOR replicates gray into three channels before anything else */
        void *o = NULL;
        AC_TRY(scratch(p, &w, numel(&w) * 3, 0, &o, d));
        const uint8_t *s = img->data;
        uint8_t *t = o;
        for (size_t i = 0, n = numel(&w); i < n; i++) t[3 * i] = t[3 * i + 1] = t[3 * i + 2] = s[i];
        w.data = o, w.c = 3;
    }
    if (p->float_input) AC_TRY(to_float(p, &w, d));
    for (int32_t i = 0; i < p->n; i++) {
        ac_status s = step(p, &w, &p->xf[i], d);
        if (s != AC_OK) {
            ac_diag_where(d, "transform %d (%s)", (int)i, ac_xform_name(p->xf[i].kind));
            return s;
        }
    }
    size_t n = numel(&w);
    if (n > p->out_cap) {
        float *o = ac_aligned_alloc(n * sizeof(float));
        if (!o) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for the output tensor");
        ac_aligned_free(p->out);
        p->out = o;
        p->out_cap = n;
    }
    if (w.is_f32)
        memcpy(p->out, w.data, n * sizeof(float));
    else
        for (size_t i = 0; i < n; i++) p->out[i] = (float)((const uint8_t *)w.data)[i];
    r->data = p->out;
    r->channels = w.c, r->height = w.h, r->width = w.w;
    r->numel = n;
    r->chw = w.chw;
    r->src_width = img->width, r->src_height = img->height;
    r->scale_x = w.ax, r->scale_y = w.ay;
    r->offset_x = w.bx, r->offset_y = w.by;
    return AC_OK;
}
