/* SPDX-License-Identifier: MIT */
/* Metric states: creation, accumulation, merging and the cls/seg arithmetic. */
#include "eval_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const task_names[AC_TASK_COUNT] = {"cls", "det", "seg"};

const char *ac_task_name(ac_task t) {
    return t >= 0 && t < AC_TASK_COUNT ? task_names[t] : "unknown";
}

ac_status ac_task_parse(const char *s, ac_task *out, ac_diag *d) {
    for (int i = 0; i < AC_TASK_COUNT; i++)
        if (s && !strcmp(s, task_names[i])) {
            *out = (ac_task)i;
            return AC_OK;
        }
    return AC_FAIL(d, AC_ERR_ARG, "unknown task '%.40s' (cls, det or seg)", s ? s : "");
}

static ac_status new_state(ac_task t, ac_metric **out, ac_diag *d) {
    if (!out) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    *out = ac_calloc(1, sizeof **out);
    if (!*out) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    (*out)->task = t;
    return AC_OK;
}

ac_status ac_metric_new_cls(int32_t num_classes, ac_metric **out, ac_diag *d) {
    if (num_classes < 0) return AC_FAIL(d, AC_ERR_ARG, "negative class count");
    AC_TRY(new_state(AC_TASK_CLS, out, d));
    (*out)->num_classes = num_classes;
    return AC_OK;
}

ac_status ac_metric_new_seg(int32_t num_classes, ac_metric **out, ac_diag *d) {
    if (num_classes < 1 || num_classes > AC_SEG_MAX_CLASSES)
        return AC_FAIL(d, AC_ERR_ARG, "segmentation needs 1..%d classes, got %d",
                       AC_SEG_MAX_CLASSES, (int)num_classes);
    AC_TRY(new_state(AC_TASK_SEG, out, d));
    (*out)->num_classes = num_classes;
    (*out)->conf = ac_calloc((size_t)num_classes * (size_t)num_classes, sizeof(int64_t));
    if (!(*out)->conf) {
        ac_metric_free(*out);
        *out = NULL;
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    return AC_OK;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

ac_status ac_metric_new_det(const int64_t *category_ids, int32_t n, ac_metric **out,
                            ac_diag *d) {
    if (n < 0 || (n && !category_ids)) return AC_FAIL(d, AC_ERR_ARG, "bad category list");
    AC_TRY(new_state(AC_TASK_DET, out, d));
    ac_metric *m = *out;
    m->cats = ac_malloc_array(n ? (size_t)n : 1, sizeof *m->cats);
    if (!m->cats) {
        ac_metric_free(m);
        *out = NULL;
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    if (n) memcpy(m->cats, category_ids, (size_t)n * sizeof *m->cats);
    qsort(m->cats, (size_t)n, sizeof *m->cats, cmp_i64);
    for (int32_t i = 1; i < n; i++)
        if (m->cats[i] == m->cats[i - 1]) {
            ac_metric_free(m);
            *out = NULL;
            return AC_FAIL(d, AC_ERR_ARG, "category id %lld listed twice",
                           (long long)category_ids[i]);
        }
    m->n_cats = n;
    return AC_OK;
}

void ac_metric_free(ac_metric *m) {
    if (!m) return;
    for (int64_t i = 0; i < m->n_imgs; i++) {
        ac_free(m->imgs[i].gt);
        ac_free(m->imgs[i].dt);
    }
    ac_free(m->imgs);
    ac_free(m->conf);
    ac_free(m->cats);
    ac_free(m);
}

ac_task ac_metric_task(const ac_metric *m) { return m->task; }

ac_status ac_metric_add_cls(ac_metric *m, const float *scores, int32_t n, int64_t label,
                            ac_diag *d) {
    if (!m || m->task != AC_TASK_CLS || !scores || n < 1)
        return AC_FAIL(d, AC_ERR_ARG, "not a classification state or no scores");
    if (m->num_classes && n != m->num_classes)
        return AC_FAIL(d, AC_ERR_ARG, "%d scores for %d classes", (int)n, (int)m->num_classes);
    if (label < 0 || label >= n)
        return AC_FAIL(d, AC_ERR_ARG, "label %lld is not a class of the model (0..%d)",
                       (long long)label, (int)n - 1);
    float s = scores[label];
    int32_t ahead = 0; /* classes ranked before the label */
    for (int32_t j = 0; j < n; j++)
        if (scores[j] > s || (j < label && scores[j] == s)) ahead++;
    m->n++;
    m->top1 += ahead < 1;
    m->top5 += ahead < 5;
    return AC_OK;
}

ac_status ac_metric_add_seg(ac_metric *m, const uint8_t *gt, const uint8_t *pred, int64_t npix,
                            ac_diag *d) {
    if (!m || m->task != AC_TASK_SEG || (npix && (!gt || !pred)) || npix < 0)
        return AC_FAIL(d, AC_ERR_ARG, "not a segmentation state or no pixels");
    const int32_t c = m->num_classes;
    /* validate first so a bad mask leaves the state unchanged */
    for (int64_t i = 0; i < npix; i++) {
        if (gt[i] != 255 && gt[i] >= c)
            return AC_FAIL(d, AC_ERR_CONFIG, "mask value %d is not a class (< %d) or 255",
                           (int)gt[i], (int)c);
        if (pred[i] >= c)
            return AC_FAIL(d, AC_ERR_ARG, "predicted label %d >= %d classes", (int)pred[i],
                           (int)c);
    }
    for (int64_t i = 0; i < npix; i++)
        if (gt[i] != 255) m->conf[(size_t)gt[i] * (size_t)c + pred[i]]++;
    m->n++;
    return AC_OK;
}

ac_status ac_metric_push_det(ac_metric *m, int64_t id, const ac_coco_ann *gt, int64_t n_gt,
                             const ac_det *dt, int64_t n_dt, ac_diag *d) {
    if (n_gt < 0 || n_dt < 0 || (n_gt && !gt) || (n_dt && !dt))
        return AC_FAIL(d, AC_ERR_ARG, "bad detection arrays");
    if (m->n_imgs == m->cap_imgs) {
        int64_t cap = m->cap_imgs ? m->cap_imgs * 2 : 64;
        ac_det_image *p = ac_realloc(m->imgs, (size_t)cap * sizeof *p);
        if (!p) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        m->imgs = p;
        m->cap_imgs = cap;
    }
    ac_det_image im = {id, NULL, n_gt, NULL, n_dt};
    im.gt = ac_malloc_array(n_gt ? (size_t)n_gt : 1, sizeof *im.gt);
    im.dt = ac_malloc_array(n_dt ? (size_t)n_dt : 1, sizeof *im.dt);
    if (!im.gt || !im.dt) {
        ac_free(im.gt);
        ac_free(im.dt);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    if (n_gt) memcpy(im.gt, gt, (size_t)n_gt * sizeof *gt);
    if (n_dt) memcpy(im.dt, dt, (size_t)n_dt * sizeof *dt);
    m->imgs[m->n_imgs++] = im;
    m->n++;
    return AC_OK;
}

ac_status ac_metric_add_det(ac_metric *m, int64_t image_id, const ac_coco_ann *gt, int64_t n_gt,
                            const ac_det *dets, int64_t n_dets, ac_diag *d) {
    if (!m || m->task != AC_TASK_DET) return AC_FAIL(d, AC_ERR_ARG, "not a detection state");
    return ac_metric_push_det(m, image_id, gt, n_gt, dets, n_dets, d);
}

ac_status ac_metric_merge(ac_metric *into, const ac_metric *from, ac_diag *d) {
    if (!into || !from || into->task != from->task)
        return AC_FAIL(d, AC_ERR_ARG, "cannot merge states of different tasks");
    switch (into->task) {
    case AC_TASK_CLS:
        if (into->num_classes != from->num_classes)
            return AC_FAIL(d, AC_ERR_ARG, "cannot merge: %d vs %d classes",
                           (int)into->num_classes, (int)from->num_classes);
        into->n += from->n;
        into->top1 += from->top1;
        into->top5 += from->top5;
        return AC_OK;
    case AC_TASK_SEG: {
        if (into->num_classes != from->num_classes)
            return AC_FAIL(d, AC_ERR_ARG, "cannot merge: %d vs %d classes",
                           (int)into->num_classes, (int)from->num_classes);
        size_t cc = (size_t)into->num_classes * (size_t)into->num_classes;
        for (size_t i = 0; i < cc; i++) into->conf[i] += from->conf[i];
        into->n += from->n;
        return AC_OK;
    }
    case AC_TASK_DET: {
        if (into->n_cats != from->n_cats ||
            (into->n_cats &&
             memcmp(into->cats, from->cats, (size_t)into->n_cats * sizeof *into->cats)))
            return AC_FAIL(d, AC_ERR_ARG, "cannot merge: different category lists");
        int64_t keep = into->n_imgs, keep_n = into->n;
        for (int64_t i = 0; i < from->n_imgs; i++) {
            const ac_det_image *im = &from->imgs[i];
            ac_status st = ac_metric_push_det(into, im->id, im->gt, im->n_gt, im->dt, im->n_dt, d);
            if (st != AC_OK) {
                /* roll back so a failed merge leaves `into` as it was */
                for (int64_t k = keep; k < into->n_imgs; k++) {
                    ac_free(into->imgs[k].gt);
                    ac_free(into->imgs[k].dt);
                }
                into->n_imgs = keep;
                into->n = keep_n;
                return st;
            }
        }
        return AC_OK;
    }
    default:
        return AC_FAIL(d, AC_ERR_INTERNAL, "bad task");
    }
}

ac_status ac_metric_compute(const ac_metric *m, ac_eval_result *out, ac_diag *d) {
    if (!m || !out) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    memset(out, 0, sizeof *out);
    out->task = m->task;
    out->n = m->n;
    out->top1 = out->top5 = out->map = out->ap50 = out->miou = out->pixel_acc = -1;
    switch (m->task) {
    case AC_TASK_CLS:
        if (m->n) {
            out->top1 = (double)m->top1 / (double)m->n;
            out->top5 = (double)m->top5 / (double)m->n;
        }
        out->classes = m->num_classes;
        return AC_OK;
    case AC_TASK_SEG: {
        const int32_t c = m->num_classes;
        int64_t total = 0, correct = 0;
        double sum = 0;
        int32_t present = 0;
        for (int32_t k = 0; k < c; k++) {
            int64_t tp = m->conf[(size_t)k * (size_t)c + (size_t)k], gt = 0, pr = 0;
            for (int32_t j = 0; j < c; j++) {
                gt += m->conf[(size_t)k * (size_t)c + (size_t)j];
                pr += m->conf[(size_t)j * (size_t)c + (size_t)k];
            }
            total += gt;
            correct += tp;
            /* a class counts when it occurs in the ground truth or the prediction */
            if (gt + pr - tp > 0) {
                sum += (double)tp / (double)(gt + pr - tp);
                present++;
            }
        }
        if (present) out->miou = sum / present;
        if (total) out->pixel_acc = (double)correct / (double)total;
        out->classes = present;
        return AC_OK;
    }
    case AC_TASK_DET:
        return ac_coco_evaluate(m, out, d);
    default:
        return AC_FAIL(d, AC_ERR_INTERNAL, "bad task");
    }
}
