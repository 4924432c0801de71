/* SPDX-License-Identifier: MIT */
/* Raw model outputs -> predictions: YOLOv5 decoded rows with per-class NMS, NMS-included
 * (PaddleDetection) box lists, segmentation argmax. */
#include "eval_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct cand {
    float box[4]; /* x0, y0, x1, y1 in input pixels */
    float score;
    int32_t cls;
    int64_t order; /* (row, class) order: the stable tie-break */
} cand;

static int cmp_cand(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_cls_cand(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    return cmp_cand(a, b);
}

/* torchvision.ops.nms's IoU, in float as it computes it. */
static float iou_xyxy(const float *a, const float *b) {
    float aa = (a[2] - a[0]) * (a[3] - a[1]), ab = (b[2] - b[0]) * (b[3] - b[1]);
    float w = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    float h = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (w < 0) w = 0;
    if (h < 0) h = 0;
    float inter = w * h;
    return inter / (aa + ab - inter);
}

static void resolve(const ac_det_post_opts *o, float *conf, float *iou, int32_t *max_dets,
                    int32_t *max_nms) {
    *conf = o && o->conf_thresh != 0 ? o->conf_thresh : 0.001f;
    *iou = o && o->nms_iou > 0 ? o->nms_iou : 0.6f;
    *max_dets = o && o->max_dets > 0 ? o->max_dets : 300;
    *max_nms = o && o->max_nms > 0 ? o->max_nms : 30000;
}

static ac_status category_of(const ac_det_post_opts *o, int32_t cls, int64_t *out, ac_diag *d) {
    if (!o || !o->category_map) {
        *out = (int64_t)cls + 1;
        return AC_OK;
    }
    if (cls < 0 || cls >= o->n_category_map)
        return AC_FAIL(d, AC_ERR_CONFIG, "class %d has no category (map of %d)", (int)cls,
                       (int)o->n_category_map);
    *out = o->category_map[cls];
    return AC_OK;
}

/* x0,y0,x1,y1 in input pixels -> COCO x,y,w,h in original pixels. */
static void to_det(const float *b, const ac_pre_result *geo, int clip, ac_det *out) {
    double x0 = b[0], y0 = b[1], x1 = b[2], y1 = b[3];
    if (geo) {
        double sx = geo->scale_x != 0 ? geo->scale_x : 1, sy = geo->scale_y != 0 ? geo->scale_y : 1;
        x0 = (x0 - geo->offset_x) / sx;
        x1 = (x1 - geo->offset_x) / sx;
        y0 = (y0 - geo->offset_y) / sy;
        y1 = (y1 - geo->offset_y) / sy;
        if (clip && geo->src_width > 0 && geo->src_height > 0) {
            x0 = fmin(fmax(x0, 0), geo->src_width);
            x1 = fmin(fmax(x1, 0), geo->src_width);
            y0 = fmin(fmax(y0, 0), geo->src_height);
            y1 = fmin(fmax(y1, 0), geo->src_height);
        }
    }
    out->bbox[0] = x0;
    out->bbox[1] = y0;
    out->bbox[2] = x1 - x0;
    out->bbox[3] = y1 - y0;
}

ac_status ac_det_decode_yolov5(const float *rows, int64_t n_rows, int32_t row_len,
                               const ac_pre_result *geo, const ac_det_post_opts *o, ac_det *out,
                               int32_t cap, int32_t *n_out, ac_diag *d) {
    *n_out = 0;
    if (row_len < 6 || n_rows < 0 || (n_rows && !rows) || cap < 0)
        return AC_FAIL(d, AC_ERR_ARG, "YOLOv5 rows need 5 + classes values, got %d",
                       (int)row_len);
    float conf, nms_iou;
    int32_t max_dets, max_nms;
    resolve(o, &conf, &nms_iou, &max_dets, &max_nms);
    const int32_t nc = row_len - 5;
    int64_t n = 0, ncap = 0;
    cand *c = NULL;
    for (int64_t r = 0; r < n_rows; r++) {
        const float *p = rows + r * row_len;
        float obj = p[4];
        if (!(obj > conf)) continue;
        for (int32_t k = 0; k < nc; k++) {
            float sc = p[5 + k] * obj;
            if (!(sc > conf)) continue;
            if (n == ncap) {
                int64_t cc = ncap ? 2 * ncap : 1024;
                cand *q = ac_realloc(c, (size_t)cc * sizeof *q);
                if (!q) {
                    ac_free(c);
                    return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
                }
                c = q;
                ncap = cc;
            }
            cand *e = &c[n++];
            e->box[0] = p[0] - p[2] / 2;
            e->box[1] = p[1] - p[3] / 2;
            e->box[2] = p[0] + p[2] / 2;
            e->box[3] = p[1] + p[3] / 2;
            e->score = sc;
            e->cls = k;
            e->order = r * nc + k;
        }
    }
    if (n > 1) qsort(c, (size_t)n, sizeof *c, cmp_cand);
    if (n > max_nms) n = max_nms;
    /* per-class greedy NMS: classes never suppress each other */
    if (n > 1) qsort(c, (size_t)n, sizeof *c, cmp_cls_cand);
    int64_t kept = 0;
    for (int64_t a = 0; a < n;) {
        int64_t b = a;
        while (b < n && c[b].cls == c[a].cls) b++;
        int64_t first = kept;
        for (int64_t i = a; i < b; i++) {
            int keep = 1;
            for (int64_t j = first; j < kept && keep; j++)
                if (iou_xyxy(c[i].box, c[j].box) > nms_iou) keep = 0;
            if (keep) c[kept++] = c[i]; /* kept <= i: in place */
        }
        a = b;
    }
    if (kept > 1) qsort(c, (size_t)kept, sizeof *c, cmp_cand);
    if (kept > max_dets) kept = max_dets;
    if (kept > cap) kept = cap;
    ac_status st = AC_OK;
    int clip = o && o->clip;
    for (int64_t i = 0; i < kept && st == AC_OK; i++) {
        to_det(c[i].box, geo, clip, &out[i]);
        out[i].score = c[i].score;
        st = category_of(o, c[i].cls, &out[i].category_id, d);
    }
    ac_free(c);
    if (st == AC_OK) *n_out = (int32_t)kept;
    return st;
}

ac_status ac_det_decode_nms_included(const float *rows, int64_t n_rows, const ac_pre_result *geo,
                                     const ac_det_post_opts *o, ac_det *out, int32_t cap,
                                     int32_t *n_out, ac_diag *d) {
    *n_out = 0;
    if (n_rows < 0 || (n_rows && !rows) || cap < 0) return AC_FAIL(d, AC_ERR_ARG, "bad rows");
    float conf, nms_iou;
    int32_t max_dets, max_nms;
    resolve(o, &conf, &nms_iou, &max_dets, &max_nms);
    cand *c = ac_malloc_array(n_rows ? (size_t)n_rows : 1, sizeof *c);
    if (!c) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    int64_t n = 0;
    for (int64_t r = 0; r < n_rows; r++) {
        const float *p = rows + r * 6;
        if (!(p[0] >= 0) || !(p[1] > conf) || p[0] > (float)INT32_MAX) continue;
        c[n] = (cand){{p[2], p[3], p[4], p[5]}, p[1], (int32_t)p[0], r};
        n++;
    }
    if (n > 1) qsort(c, (size_t)n, sizeof *c, cmp_cand);
    if (n > max_dets) n = max_dets;
    if (n > cap) n = cap;
    ac_status st = AC_OK;
    int clip = o && o->clip;
    for (int64_t i = 0; i < n && st == AC_OK; i++) {
        to_det(c[i].box, geo, clip, &out[i]);
        out[i].score = c[i].score;
        st = category_of(o, c[i].cls, &out[i].category_id, d);
    }
    ac_free(c);
    if (st == AC_OK) *n_out = (int32_t)n;
    return st;
}

void ac_seg_argmax(const float *logits, int32_t c, int64_t hw, uint8_t *out) {
    for (int64_t i = 0; i < hw; i++) {
        float best = logits[i];
        int32_t arg = 0;
        for (int32_t k = 1; k < c; k++) {
            float v = logits[(int64_t)k * hw + i];
            if (v > best) {
                best = v;
                arg = k;
            }
        }
        out[i] = (uint8_t)arg;
    }
}

ac_status ac_det_post_parse(const char *s, ac_det_post *out, ac_diag *d) {
    if (s && !strcmp(s, "yolov5")) *out = AC_DET_POST_YOLOV5;
    else if (s && !strcmp(s, "nms_included")) *out = AC_DET_POST_NMS_INCLUDED;
    else
        return AC_FAIL(d, AC_ERR_ARG, "unknown post-processing '%.40s' (yolov5 or nms_included)",
                       s ? s : "");
    return AC_OK;
}
