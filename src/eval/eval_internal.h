/* SPDX-License-Identifier: MIT */
/* Shared inside src/eval: the metric state layout (metric.c, metric_io.c, coco_eval.c). */
#ifndef AC_EVAL_INTERNAL_H
#define AC_EVAL_INTERNAL_H

#include "autocompress/ac_eval.h"

#define AC_METRIC_FORMAT "autocompress-metric"
#define AC_METRIC_VERSION 1
#define AC_SEG_MAX_CLASSES 1024

/* One image's ground truth and detections, both owned (ac_malloc'd). */
typedef struct ac_det_image {
    int64_t id;
    ac_coco_ann *gt;
    int64_t n_gt;
    ac_det *dt;
    int64_t n_dt;
} ac_det_image;

struct ac_metric {
    ac_task task;
    int32_t num_classes; /* CLS (0 = any), SEG */
    int64_t n;           /* images added */
    int64_t top1, top5;  /* CLS */
    int64_t *conf;       /* SEG: num_classes^2, row = ground truth, column = prediction */
    int64_t *cats;       /* DET: sorted category ids */
    int32_t n_cats;
    ac_det_image *imgs;  /* DET */
    int64_t n_imgs, cap_imgs;
};

/* Appends an image (copies gt/dt); used by add and load. */
ac_status ac_metric_push_det(ac_metric *m, int64_t id, const ac_coco_ann *gt, int64_t n_gt,
                             const ac_det *dt, int64_t n_dt, ac_diag *d);
/* pycocotools COCOeval on the state's images: fills map, ap50, classes. */
ac_status ac_coco_evaluate(const ac_metric *m, ac_eval_result *out, ac_diag *d);

#endif
