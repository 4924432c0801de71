/* SPDX-License-Identifier: MIT */
/*
 * ac_eval.h — accuracy of a model on a dataset: classification top-1/top-5, COCO bbox mAP with
 * pycocotools' exact rules, segmentation mIoU; the post-processing that turns raw outputs into
 * predictions; and one call that runs it all (decode + preprocess on a worker thread, batched
 * inference through ac_session).
 *
 *     ac_eval_opts o = {.batch = 16};                 // zeros: documented defaults
 *     ac_metric *state = NULL;
 *     ac_eval_result r;
 *     if (ac_eval_run(model, AC_TASK_CLS, ds, pipeline, &o, &state, &r, &d) != AC_OK) ...
 *     printf("top1 %.4f over %lld images\n", r.top1, (long long)r.n);
 *     ac_metric_save(state, "shard0.json", &d);      // later: load, merge, compute
 *     ac_metric_free(state);
 *
 * Metric states are MERGEABLE: integer counts (classification), an integer confusion matrix
 * (segmentation) or the per-image ground truth and detections (detection), so shards evaluated
 * on different machines merge into exactly the result of one pass. Their file form is a small
 * versioned JSON object (doubles written with 17 significant digits: exact round trip).
 *
 * Thread safety: a metric state is not locked; use one per thread and merge. The functions
 * without state (post-processing) are reentrant.
 */
#ifndef AC_EVAL_H
#define AC_EVAL_H

#include "autocompress/ac_base.h"
#include "autocompress/ac_data.h"
#include "autocompress/ac_model.h"
#include "autocompress/ac_session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ac_task {
    AC_TASK_CLS = 0,
    AC_TASK_DET,
    AC_TASK_SEG,
    AC_TASK_COUNT
} ac_task;

/* "cls", "det", "seg". Never NULL. */
AC_API const char *ac_task_name(ac_task t);
/* Parses the names above; AC_ERR_ARG otherwise. */
AC_API ac_status ac_task_parse(const char *s, ac_task *out, ac_diag *d);

/* One detection in original-image pixels, COCO box convention (x, y, w, h). */
typedef struct ac_det {
    double bbox[4];
    double score;
    int64_t category_id;
} ac_det;

/* ---- metric states -------------------------------------------------------------------------*/

typedef struct ac_metric ac_metric;

/* Final numbers. Fractions in [0, 1]; -1 where undefined (pycocotools' convention: no category
 * with ground truth; no class present for mIoU). Fields of other tasks are -1. */
typedef struct ac_eval_result {
    ac_task task;
    int64_t n;                   /* images evaluated */
    double top1, top5;           /* CLS */
    double map, ap50;            /* DET: mAP@[.50:.95], AP@.50 (area all, 100 dets) */
    double miou, pixel_acc;      /* SEG */
    int32_t classes;             /* DET: categories with ground truth; SEG: classes counted */
    double seconds;              /* ac_eval_run: wall time of the run (0 from compute) */
    double images_per_second;    /* ac_eval_run: n / seconds */
} ac_eval_result;

/* New empty states. CLS: `num_classes` only checks labels (0 = any). SEG: the confusion matrix
 * is num_classes^2 (1..1024); mask value 255 is ignored. DET: the categories evaluated
 * (pycocotools' catIds: detections of other categories are dropped; categories without ground
 * truth are skipped). Caller frees with ac_metric_free. */
AC_API ac_status ac_metric_new_cls(int32_t num_classes, ac_metric **out, ac_diag *d);
AC_API ac_status ac_metric_new_seg(int32_t num_classes, ac_metric **out, ac_diag *d);
AC_API ac_status ac_metric_new_det(const int64_t *category_ids, int32_t n, ac_metric **out,
                                   ac_diag *d);
AC_API void ac_metric_free(ac_metric *m);
AC_API ac_task ac_metric_task(const ac_metric *m);

/* One image's class scores (any monotone scale: logits or probabilities). Ranking follows a
 * stable descending sort (numpy's argsort on <= 16 classes): a tie with a lower class index
 * ranks first, so the label is in the top k iff fewer than k classes beat it that way.
 * AC_ERR_ARG for a label outside [0, n) or n disagreeing with num_classes. */
AC_API ac_status ac_metric_add_cls(ac_metric *m, const float *scores, int32_t n, int64_t label,
                                   ac_diag *d);
/* One image: ground-truth mask and predicted labels, `npix` pixels each. Ground truth 255 is
 * ignored; other ground-truth values must be < num_classes (AC_ERR_CONFIG "mask value 37 is not
 * a class (< 11) or 255"); predictions must be < num_classes (AC_ERR_ARG). */
AC_API ac_status ac_metric_add_seg(ac_metric *m, const uint8_t *gt, const uint8_t *pred,
                                   int64_t npix, ac_diag *d);
/* One image: its ground truth (file order, as in the COCO JSON) and detections (any order:
 * pycocotools sorts them by score, stably, per category). Both are copied. An image id added
 * twice (also through merging overlapping shards) makes ac_metric_compute fail (AC_ERR_ARG). */
AC_API ac_status ac_metric_add_det(ac_metric *m, int64_t image_id, const ac_coco_ann *gt,
                                   int64_t n_gt, const ac_det *dets, int64_t n_dets, ac_diag *d);

/* Adds `from` into `into` (same task and classes/categories, else AC_ERR_ARG; detection image
 * sets must be disjoint, checked by compute). The result is independent of merge order. On
 * failure `into` is unchanged. */
AC_API ac_status ac_metric_merge(ac_metric *into, const ac_metric *from, ac_diag *d);
/* Writes the state atomically as versioned JSON ({"format": "autocompress-metric",
 * "version": 1, "task": ...}). */
AC_API ac_status ac_metric_save(const ac_metric *m, const char *path, ac_diag *d);
/* Reads and validates a state file (AC_ERR_FORMAT / AC_ERR_CONFIG naming the field). */
AC_API ac_status ac_metric_load(const char *path, ac_metric **out, ac_diag *d);
/* The metrics of everything added. Detection: pycocotools COCOeval (bbox, useCats, area all,
 * maxDets 100, IoU thresholds .50:.05:.95, 101 recall points, precision envelope). */
AC_API ac_status ac_metric_compute(const ac_metric *m, ac_eval_result *out, ac_diag *d);

/* ---- post-processing -----------------------------------------------------------------------*/

typedef struct ac_det_post_opts {
    float conf_thresh;  /* keep score > this; 0 = 0.001 (negative: keep all) */
    float nms_iou;      /* per-class NMS: drop IoU > this; 0 = 0.6 */
    int32_t max_dets;   /* per image after NMS; 0 = 300 */
    int32_t max_nms;    /* candidates entering NMS (YOLOv5's max_nms); 0 = 30000 */
    int32_t clip;       /* 1: clip boxes to the original image, as YOLOv5's val.py does; 0 (the
                         * default) keeps them, as the MODEL.md reference figures were made */
    /* class index -> COCO category id; NULL: class k is category k + 1 */
    const int64_t *category_map;
    int32_t n_category_map;
} ac_det_post_opts;

/* YOLOv5 decoded rows [n_rows, row_len] = cx, cy, w, h (input pixels), objectness, then
 * row_len - 5 class probabilities. As YOLOv5's non_max_suppression (multi-label): rows with
 * objectness > conf; every (row, class) with obj x prob > conf; sorted by score (stable in
 * row, class order); the first max_nms; greedy NMS per class; the best max_dets. Boxes then map
 * back to the original image with `geo` (x_src = (x - offset_x) / scale_x; NULL: identity) and
 * are clipped to src_width x src_height if o->clip. Writes at most `cap` detections to
 * out, sorted by score, and their count to *n_out. `o` may be NULL. Reentrant (allocates its
 * scratch). Errors: AC_ERR_ARG (row_len < 6), AC_ERR_CONFIG (a class with no category),
 * AC_ERR_NOMEM. */
AC_API ac_status ac_det_decode_yolov5(const float *rows, int64_t n_rows, int32_t row_len,
                                      const ac_pre_result *geo, const ac_det_post_opts *o,
                                      ac_det *out, int32_t cap, int32_t *n_out, ac_diag *d);
/* NMS-included outputs (PaddleDetection / PP-YOLOE export): `n_rows` rows of 6 floats =
 * class, score, x0, y0, x1, y1 for one image. Rows with class < 0 (padding) or score <= conf
 * are dropped; boxes map back with `geo` unless it is NULL (the model already received
 * scale_factor); sorted by score, the best min(cap, max_dets) kept. */
AC_API ac_status ac_det_decode_nms_included(const float *rows, int64_t n_rows,
                                            const ac_pre_result *geo, const ac_det_post_opts *o,
                                            ac_det *out, int32_t cap, int32_t *n_out,
                                            ac_diag *d);
/* Per-pixel argmax over `c` channels of CHW logits (the first maximum wins, as numpy). */
AC_API void ac_seg_argmax(const float *logits, int32_t c, int64_t hw, uint8_t *out);

/* ---- the whole evaluation ------------------------------------------------------------------*/

typedef enum ac_det_post {
    AC_DET_POST_YOLOV5 = 0, /* output [N, K, 5 + C] */
    AC_DET_POST_NMS_INCLUDED, /* outputs boxes [M, 6] and per-image counts [N] */
    AC_DET_POST_COUNT
} ac_det_post;

/* "yolov5", "nms_included". */
AC_API ac_status ac_det_post_parse(const char *s, ac_det_post *out, ac_diag *d);

typedef struct ac_eval_opts {
    int32_t threads;  /* engine threads; 0 = all cores but one (the decoding worker's) */
    int32_t batch;    /* images per run; 0 = 8. The last batch is padded, so one plan serves */
    ac_isa isa;
    ac_det_post post;
    ac_det_post_opts det; /* zeros: defaults above */
} ac_eval_opts;

/* Evaluates `m` on every sample of `ds` with preprocessing `p` (borrowed; cloned for the
 * worker). The task decides the dataset kind (CLS: AC_DATASET_CLS, DET: AC_DATASET_COCO, SEG:
 * AC_DATASET_SEG) and how outputs are read:
 *   CLS: first output [N, classes] (scores);
 *   DET: yolov5: first output [N, K, 5 + C]; nms_included: a [M, 6] float output and an
 *        integer [N] count output; model inputs named *scale_factor* / *im_shape* are fed
 *        [scale_y, scale_x] / [input h, w] (boxes then come back in original pixels);
 *   SEG: first output [N, C, H, W] float logits, argmax; if H x W differs from the mask the
 *        prediction is sampled at the mask's pixel centres mapped through the preprocessing
 *        (nearest; PaddleSeg resizes logits bilinearly, so this may differ at edges).
 * Bad data stops the run with the sample's path: decode errors, a decoded size differing from
 * the COCO JSON, an image/mask size mismatch ("00007.jpg: image is 160x160 but its mask
 * 00007.png is 80x80"), bad mask values. On success *state (may be NULL: not returned)
 * holds the mergeable state and *out the metrics with timing. Nothing is written to disk. */
AC_API ac_status ac_eval_run(const ac_model *m, ac_task task, const ac_dataset *ds,
                             const ac_pipeline *p, const ac_eval_opts *o, ac_metric **state,
                             ac_eval_result *out, ac_diag *d);

#ifdef __cplusplus
}
#endif
#endif /* AC_EVAL_H */
