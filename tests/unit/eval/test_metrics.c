/* SPDX-License-Identifier: MIT */
/* Metrics against hand-computed values: COCO mAP under pycocotools' rules (perfect, known IoUs,
 * duplicates, misses, crowds, categories without ground truth, score ties), mIoU with absent
 * classes, top-k with ties, YOLOv5 decode + NMS, and merges / state files equal to one pass. */
#include "autocompress/ac_eval.h"
#include "check_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *line(const ac_diag *d) {
    static char buf[800];
    return ac_diag_line(d, buf, sizeof buf);
}

static ac_coco_ann gt_box(int64_t id, int64_t cat, double x, double y, double w, double h,
                          int crowd) {
    ac_coco_ann a = {id, 0, cat, {x, y, w, h}, w * h, crowd};
    return a;
}

static ac_det det_box(int64_t cat, double x, double y, double w, double h, double score) {
    ac_det e = {{x, y, w, h}, score, cat};
    return e;
}

/* One image, one category list, returns the result. */
static ac_eval_result eval1(const int64_t *cats, int32_t nc, const ac_coco_ann *gt, int64_t ng,
                            const ac_det *dt, int64_t nd) {
    ac_diag d = {0};
    ac_metric *m = NULL;
    ck_assert_int_eq(ac_metric_new_det(cats, nc, &m, &d), AC_OK);
    ck_assert_int_eq(ac_metric_add_det(m, 1, gt, ng, dt, nd, &d), AC_OK);
    ac_eval_result r;
    ck_assert_msg(ac_metric_compute(m, &r, &d) == AC_OK, "%s", line(&d));
    ac_metric_free(m);
    return r;
}

#define NEAR(a, b)                                                                                 \
    ck_assert_msg(fabs((a) - (b)) < 1e-12, "%.17g != %.17g", (double)(a), (double)(b))

START_TEST(coco_perfect_and_iou) {
    const int64_t cats[] = {1, 2};
    ac_coco_ann g[2] = {gt_box(1, 1, 0, 0, 10, 10, 0), gt_box(2, 2, 30, 30, 20, 10, 0)};
    ac_det p[2] = {det_box(1, 0, 0, 10, 10, 0.9), det_box(2, 30, 30, 20, 10, 0.8)};
    ac_eval_result r = eval1(cats, 2, g, 2, p, 2);
    NEAR(r.map, 1.0);
    NEAR(r.ap50, 1.0);
    ck_assert_int_eq(r.classes, 2);
    /* IoU 0.8 (a 10x8 box inside a 10x10 one): matched at thresholds .50 ... .80 (7 of 10;
     * linspace gives exactly 0.8 there) */
    ac_det q = det_box(1, 0, 0, 10, 8, 0.9);
    r = eval1(cats, 1, g, 1, &q, 1);
    NEAR(r.map, 0.7);
    NEAR(r.ap50, 1.0);
    /* IoU 0.6 exactly: .50, .55, .60 */
    q = det_box(1, 0, 0, 10, 6, 0.9);
    r = eval1(cats, 1, g, 1, &q, 1);
    NEAR(r.map, 0.3);
    /* shifted by 5 px in x: inter 50, union 150, IoU 1/3 < .5 -> nothing */
    q = det_box(1, 5, 0, 10, 10, 0.9);
    r = eval1(cats, 1, g, 1, &q, 1);
    NEAR(r.map, 0.0);
    NEAR(r.ap50, 0.0);
    /* touching boxes (no +1): IoU 0 */
    q = det_box(1, 10, 0, 10, 10, 0.9);
    r = eval1(cats, 1, g, 1, &q, 1);
    NEAR(r.ap50, 0.0);
}
END_TEST

START_TEST(coco_duplicates_and_misses) {
    const int64_t cats[] = {1};
    ac_coco_ann g[2] = {gt_box(1, 1, 0, 0, 10, 10, 0), gt_box(2, 1, 50, 50, 10, 10, 0)};
    /* duplicates: an IoU-0.6 box at 0.9 and the exact box at 0.8. Up to .60 the first matches
     * and the second is a false positive after recall 1 (AP 1); above, the first is a false
     * positive before the true one: precision 1/2 at every recall (AP 0.5) */
    ac_det p[2] = {det_box(1, 0, 0, 10, 6, 0.9), det_box(1, 0, 0, 10, 10, 0.8)};
    ac_eval_result r = eval1(cats, 1, g, 1, p, 2);
    NEAR(r.map, (3 * 1.0 + 7 * 0.5) / 10);
    NEAR(r.ap50, 1.0);
    /* a missed ground truth: recall reaches 0.5 at precision 1 -> 51 of 101 recall points */
    ac_det e = det_box(1, 0, 0, 10, 10, 0.9);
    r = eval1(cats, 1, g, 2, &e, 1);
    NEAR(r.map, 51.0 / 101);
    NEAR(r.ap50, 51.0 / 101);
    /* no detections at all: 0; more than 100 detections: only the best 100 count */
    r = eval1(cats, 1, g, 2, NULL, 0);
    NEAR(r.map, 0.0);
    ac_det many[101];
    for (int i = 0; i < 100; i++) many[i] = det_box(1, 200 + i, 200, 5, 5, 0.9);
    many[100] = det_box(1, 0, 0, 10, 10, 0.1); /* would match, but is the 101st */
    r = eval1(cats, 1, g, 1, many, 101);
    NEAR(r.map, 0.0);
}
END_TEST

START_TEST(coco_crowd_and_empty_categories) {
    const int64_t cats[] = {1, 2, 3};
    /* two detections inside a crowd region score above the true positive: matched to the crowd
     * box (intersection over the detection's area = 1) they are ignored, so AP stays 1 */
    ac_coco_ann g[2] = {gt_box(1, 1, 0, 0, 10, 10, 0), gt_box(2, 1, 20, 20, 40, 40, 1)};
    ac_det p[3] = {det_box(1, 25, 25, 5, 5, 0.95), det_box(1, 40, 40, 5, 5, 0.94),
                   det_box(1, 0, 0, 10, 10, 0.9)};
    ac_eval_result r = eval1(cats, 3, g, 2, p, 3);
    NEAR(r.map, 1.0);
    /* the same boxes without the crowd flag are false positives ranked first: precision 1/3
     * at recall 1/2 and 1 ... with the region as a real gt they do not match it (IoU tiny) */
    g[1].iscrowd = 0;
    r = eval1(cats, 3, g, 2, p, 3);
    ck_assert(r.map < 0.5);
    /* category 2 has detections but no ground truth, category 3 nothing: both skipped */
    g[1].iscrowd = 1;
    ac_det q[2] = {det_box(1, 0, 0, 10, 10, 0.9), det_box(2, 0, 0, 10, 10, 0.99)};
    r = eval1(cats, 3, g, 2, q, 2);
    NEAR(r.map, 1.0);
    ck_assert_int_eq(r.classes, 1);
    /* a category the ground truth file does not list: its detections are dropped */
    ac_det x[2] = {det_box(9, 0, 0, 10, 10, 0.99), det_box(1, 0, 0, 10, 10, 0.5)};
    r = eval1(cats, 3, g, 1, x, 2);
    NEAR(r.map, 1.0);
    /* only crowd ground truth: no category has gt -> -1, as pycocotools */
    r = eval1(cats, 3, &g[1], 1, p, 1);
    NEAR(r.map, -1.0);
}
END_TEST

START_TEST(coco_score_ties) {
    const int64_t cats[] = {1};
    ac_coco_ann g = gt_box(1, 1, 0, 0, 10, 10, 0);
    /* equal scores keep input order (mergesort): FP first -> precision 1/2 everywhere */
    ac_det p[2] = {det_box(1, 50, 50, 10, 10, 0.5), det_box(1, 0, 0, 10, 10, 0.5)};
    ac_eval_result r = eval1(cats, 1, &g, 1, p, 2);
    NEAR(r.map, 0.5);
    ac_det q[2] = {p[1], p[0]};
    r = eval1(cats, 1, &g, 1, q, 2);
    NEAR(r.map, 1.0);
    /* across images: the lower image id comes first among equal scores, whatever order the
     * images were added in */
    ac_diag d = {0};
    for (int order = 0; order < 2; order++) {
        ac_metric *m = NULL;
        ck_assert_int_eq(ac_metric_new_det(cats, 1, &m, &d), AC_OK);
        ac_coco_ann g1 = gt_box(1, 1, 0, 0, 10, 10, 0), g2 = gt_box(2, 1, 0, 0, 10, 10, 0);
        ac_det fp = det_box(1, 50, 50, 10, 10, 0.5), tp = det_box(1, 0, 0, 10, 10, 0.5);
        if (order == 0) {
            ck_assert_int_eq(ac_metric_add_det(m, 1, &g1, 1, &fp, 1, &d), AC_OK);
            ck_assert_int_eq(ac_metric_add_det(m, 2, &g2, 1, &tp, 1, &d), AC_OK);
        } else {
            ck_assert_int_eq(ac_metric_add_det(m, 2, &g2, 1, &tp, 1, &d), AC_OK);
            ck_assert_int_eq(ac_metric_add_det(m, 1, &g1, 1, &fp, 1, &d), AC_OK);
        }
        ck_assert_int_eq(ac_metric_compute(m, &r, &d), AC_OK);
        /* sorted: [fp (img 1), tp (img 2)]: recall 0.5 at precision 0.5 -> 51 points of 0.5 */
        NEAR(r.map, 51 * 0.5 / 101);
        ac_metric_free(m);
    }
    /* an image id added twice is refused at compute */
    ac_metric *m = NULL;
    ck_assert_int_eq(ac_metric_new_det(cats, 1, &m, &d), AC_OK);
    ck_assert_int_eq(ac_metric_add_det(m, 7, &g, 1, NULL, 0, &d), AC_OK);
    ck_assert_int_eq(ac_metric_add_det(m, 7, &g, 1, NULL, 0, &d), AC_OK);
    ck_assert_int_eq(ac_metric_compute(m, &r, &d), AC_ERR_ARG);
    ac_metric_free(m);
}
END_TEST

START_TEST(seg_miou) {
    ac_diag d = {0};
    ac_metric *m = NULL;
    ck_assert_int_eq(ac_metric_new_seg(4, &m, &d), AC_OK);
    /* class 0: tp 1, gt 2, pred 1 -> 1/2; class 1: tp 2, gt 2, pred 3 -> 2/3; classes 2 and 3
     * appear only under ignored pixels -> absent, not zeros */
    const uint8_t gt[6] = {0, 0, 1, 1, 255, 255}, pr[6] = {0, 1, 1, 1, 2, 3};
    ck_assert_int_eq(ac_metric_add_seg(m, gt, pr, 6, &d), AC_OK);
    ac_eval_result r;
    ck_assert_int_eq(ac_metric_compute(m, &r, &d), AC_OK);
    NEAR(r.miou, (0.5 + 2.0 / 3) / 2);
    NEAR(r.pixel_acc, 0.75);
    ck_assert_int_eq(r.classes, 2);
    /* a class only predicted counts (IoU 0) */
    const uint8_t gt2[2] = {0, 0}, pr2[2] = {0, 3};
    ck_assert_int_eq(ac_metric_add_seg(m, gt2, pr2, 2, &d), AC_OK);
    ck_assert_int_eq(ac_metric_compute(m, &r, &d), AC_OK);
    NEAR(r.miou, (2.0 / 4 + 2.0 / 3 + 0) / 3);
    /* a ground-truth value that is neither a class nor 255 */
    const uint8_t bad[1] = {7};
    ck_assert_int_eq(ac_metric_add_seg(m, bad, pr2, 1, &d), AC_ERR_CONFIG);
    ck_assert_str_eq(d.msg, "mask value 7 is not a class (< 4) or 255");
    ac_metric_free(m);
}
END_TEST

START_TEST(cls_topk_ties) {
    ac_diag d = {0};
    ac_metric *m = NULL;
    ck_assert_int_eq(ac_metric_new_cls(6, &m, &d), AC_OK);
    const float s[6] = {1, 2, 2, 0, 5, 5};
    /* label 1 ties with 2 but has the lower index: only class 4 and 5 are ahead */
    ck_assert_int_eq(ac_metric_add_cls(m, s, 6, 1, &d), AC_OK); /* ahead 2: top5 */
    ck_assert_int_eq(ac_metric_add_cls(m, s, 6, 2, &d), AC_OK); /* ahead 3: top5 */
    ck_assert_int_eq(ac_metric_add_cls(m, s, 6, 4, &d), AC_OK); /* ahead 0: top1 */
    ck_assert_int_eq(ac_metric_add_cls(m, s, 6, 5, &d), AC_OK); /* ahead 1 (class 4) */
    ck_assert_int_eq(ac_metric_add_cls(m, s, 6, 3, &d), AC_OK); /* ahead 5: miss */
    ac_eval_result r;
    ck_assert_int_eq(ac_metric_compute(m, &r, &d), AC_OK);
    NEAR(r.top1, 1.0 / 5);
    NEAR(r.top5, 4.0 / 5);
    ck_assert_int_eq(ac_metric_add_cls(m, s, 6, 6, &d), AC_ERR_ARG);
    ac_metric_free(m);
}
END_TEST

START_TEST(yolo_decode_nms) {
    ac_diag d = {0};
    /* rows: cx, cy, w, h, obj, p0, p1 */
    const float rows[5][7] = {
        {50, 50, 20, 20, 0.9f, 0.9f, 0.1f},  /* 0.81 class 0, 0.09 class 1 */
        {51, 50, 20, 20, 0.8f, 0.95f, 0.0f}, /* 0.76 class 0: IoU ~0.9 with row 0 -> gone */
        {150, 150, 10, 10, 0.5f, 0.0f, 0.5f}, /* 0.25 class 1 */
        {10, 10, 4, 4, 0.0005f, 1.0f, 1.0f}, /* objectness under the threshold */
        {70, 50, 20, 20, 0.7f, 0.5f, 0.0f},  /* 0.35 class 0, touching row 0 (IoU 0): kept */
    };
    ac_det out[10];
    int32_t n = 0;
    ac_pre_result geo = {.scale_x = 2, .scale_y = 2, .src_width = 100, .src_height = 100};
    ck_assert_int_eq(ac_det_decode_yolov5(&rows[0][0], 5, 7, &geo, NULL, out, 10, &n, &d), AC_OK);
    ck_assert_int_eq(n, 4);
    NEAR(out[0].score, 0.9f * 0.9f);
    ck_assert_int_eq(out[0].category_id, 1);
    NEAR(out[0].bbox[0], 20);
    NEAR(out[0].bbox[1], 20);
    NEAR(out[0].bbox[2], 10);
    NEAR(out[0].bbox[3], 10);
    NEAR(out[1].score, 0.7f * 0.5f);
    ck_assert_int_eq(out[1].category_id, 1);
    NEAR(out[2].score, 0.5f * 0.5f);
    ck_assert_int_eq(out[2].category_id, 2);
    ck_assert_int_eq(out[3].category_id, 2); /* classes do not suppress each other */
    /* not clipped by default (the MODEL.md figures were made so); clipped on request */
    NEAR(out[2].bbox[0], 72.5);
    NEAR(out[2].bbox[2], 5);
    ac_det_post_opts po = {.clip = 1, .max_dets = 2};
    ck_assert_int_eq(ac_det_decode_yolov5(&rows[0][0], 5, 7, &geo, &po, out, 10, &n, &d), AC_OK);
    ck_assert_int_eq(n, 2);
    /* a category map, and a class it lacks */
    const int64_t map[2] = {17, 42};
    po = (ac_det_post_opts){.category_map = map, .n_category_map = 2};
    ck_assert_int_eq(ac_det_decode_yolov5(&rows[0][0], 5, 7, NULL, &po, out, 10, &n, &d), AC_OK);
    ck_assert_int_eq(out[0].category_id, 17);
    ck_assert_int_eq(out[2].category_id, 42);
    po.n_category_map = 1;
    ck_assert_int_eq(ac_det_decode_yolov5(&rows[0][0], 5, 7, NULL, &po, out, 10, &n, &d),
                     AC_ERR_CONFIG);
    ac_diag_clear(&d);
    /* NMS-included rows: class, score, x0, y0, x1, y1; padding class -1 dropped */
    const float nms[3][6] = {{2, 0.3f, 0, 0, 10, 10}, {-1, 0.9f, 0, 0, 1, 1},
                             {0, 0.8f, 5, 5, 15, 25}};
    ck_assert_int_eq(ac_det_decode_nms_included(&nms[0][0], 3, NULL, NULL, out, 10, &n, &d),
                     AC_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(out[0].category_id, 1);
    NEAR(out[0].bbox[3], 20);
    ck_assert_int_eq(out[1].category_id, 3);
    /* argmax: first maximum wins */
    const float lg[2 * 3] = {1, 5, 2, 1, 6, 2};
    uint8_t lab[3];
    ac_seg_argmax(lg, 2, 3, lab);
    ck_assert(lab[0] == 0 && lab[1] == 1 && lab[2] == 0);
}
END_TEST

/* A deterministic detection workload over `n` images. */
static void fill_det(ac_metric *m, int64_t first, int64_t step, int64_t n) {
    ac_test_rng rng = {12345};
    ac_diag d = {0};
    for (int64_t i = 0; i < n; i++) {
        ac_coco_ann g[4];
        ac_det p[8];
        for (int k = 0; k < 4; k++) {
            double x = 40 * k + 20 * ac_test_rng_float(&rng) + 20;
            g[k] = gt_box(i * 10 + k + 1, 1 + k % 3, x, x / 2, 15 + k, 20 - k, k == 3);
            p[2 * k] = det_box(1 + k % 3, x + 3 * ac_test_rng_float(&rng), x / 2, 15, 20,
                               0.5 + 0.4 * ac_test_rng_float(&rng));
            p[2 * k + 1] = det_box(1 + (k + 1) % 3, x + 30, x, 10, 10,
                                   0.5 + 0.4 * ac_test_rng_float(&rng));
        }
        if (i % step == first)
            ck_assert_int_eq(ac_metric_add_det(m, i + 1, g, 4, p, 8, &d), AC_OK);
    }
}

START_TEST(merge_equals_one_pass) {
    ac_diag d = {0};
    const int64_t cats[3] = {3, 1, 2};
    ac_metric *all = NULL, *s[3] = {NULL, NULL, NULL};
    ck_assert_int_eq(ac_metric_new_det(cats, 3, &all, &d), AC_OK);
    fill_det(all, 0, 1, 30);
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(ac_metric_new_det(cats, 3, &s[k], &d), AC_OK);
        fill_det(s[k], k, 3, 30);
    }
    /* shards through files, merged in reverse order */
    const char *dir = ac_test_tmpdir();
    char path[3][512];
    for (int k = 0; k < 3; k++) {
        snprintf(path[k], sizeof path[k], "%s/shard%d.json", dir, k);
        ck_assert_msg(ac_metric_save(s[k], path[k], &d) == AC_OK, "%s", line(&d));
        ac_metric_free(s[k]);
    }
    ac_metric *acc = NULL, *one = NULL;
    ck_assert_int_eq(ac_metric_load(path[2], &acc, &d), AC_OK);
    for (int k = 1; k >= 0; k--) {
        ck_assert_msg(ac_metric_load(path[k], &one, &d) == AC_OK, "%s", line(&d));
        ck_assert_int_eq(ac_metric_merge(acc, one, &d), AC_OK);
        ac_metric_free(one);
    }
    ac_eval_result ra, rb;
    ck_assert_int_eq(ac_metric_compute(all, &ra, &d), AC_OK);
    ck_assert_int_eq(ac_metric_compute(acc, &rb, &d), AC_OK);
    ck_assert(ra.map > 0.05 && ra.map < 0.95);
    ck_assert_msg(ra.map == rb.map && ra.ap50 == rb.ap50, "%.17g %.17g", ra.map, rb.map);
    ck_assert_int_eq(ra.n, rb.n);
    /* merging a shard twice overlaps image ids: refused at compute */
    ck_assert_int_eq(ac_metric_merge(acc, all, &d), AC_OK);
    ck_assert_int_eq(ac_metric_compute(acc, &rb, &d), AC_ERR_ARG);
    ac_metric_free(acc);
    ac_metric_free(all);

    /* classification and segmentation counts */
    ac_metric *c1 = NULL, *c2 = NULL, *c3 = NULL;
    const float sc[3] = {0.1f, 0.7f, 0.2f};
    ck_assert_int_eq(ac_metric_new_cls(3, &c1, &d), AC_OK);
    ck_assert_int_eq(ac_metric_new_cls(3, &c2, &d), AC_OK);
    ck_assert_int_eq(ac_metric_add_cls(c1, sc, 3, 1, &d), AC_OK);
    ck_assert_int_eq(ac_metric_add_cls(c2, sc, 3, 0, &d), AC_OK);
    snprintf(path[0], sizeof path[0], "%s/cls.json", dir);
    ck_assert_int_eq(ac_metric_save(c2, path[0], &d), AC_OK);
    ck_assert_int_eq(ac_metric_load(path[0], &c3, &d), AC_OK);
    ck_assert_int_eq(ac_metric_merge(c1, c3, &d), AC_OK);
    ac_metric_free(c3);
    c3 = NULL;
    ck_assert_int_eq(ac_metric_compute(c1, &ra, &d), AC_OK);
    NEAR(ra.top1, 0.5);
    ck_assert_int_eq(ra.n, 2);
    ac_metric *g1 = NULL, *g2 = NULL;
    ck_assert_int_eq(ac_metric_new_seg(3, &g1, &d), AC_OK);
    ck_assert_int_eq(ac_metric_merge(c1, g1, &d), AC_ERR_ARG); /* different tasks */
    ac_diag_clear(&d);
    const uint8_t gt[4] = {0, 1, 2, 255}, pr[4] = {0, 1, 1, 0};
    ck_assert_int_eq(ac_metric_add_seg(g1, gt, pr, 4, &d), AC_OK);
    snprintf(path[1], sizeof path[1], "%s/seg.json", dir);
    ck_assert_int_eq(ac_metric_save(g1, path[1], &d), AC_OK);
    ck_assert_int_eq(ac_metric_load(path[1], &g2, &d), AC_OK);
    ck_assert_int_eq(ac_metric_merge(g2, g1, &d), AC_OK);
    ck_assert_int_eq(ac_metric_compute(g2, &ra, &d), AC_OK);
    ck_assert_int_eq(ac_metric_compute(g1, &rb, &d), AC_OK);
    ck_assert(ra.miou == rb.miou && ra.n == 2);
    /* a bad state file */
    snprintf(path[2], sizeof path[2], "%s/bad.json", dir);
    const char *txt = "{\"format\":\"autocompress-metric\",\"version\":9,\"task\":\"cls\"}";
    ac_test_write_file(path[2], txt, strlen(txt));
    ck_assert_int_eq(ac_metric_load(path[2], &c3, &d), AC_ERR_UNSUPPORTED);
    ck_assert_ptr_null(c3);
    ac_metric_free(c1);
    ac_metric_free(c2);
    ac_metric_free(g1);
    ac_metric_free(g2);
}
END_TEST

Suite *ac_test_eval_metrics(void) {
    Suite *s = suite_create("eval_metrics");
    TCase *tc = tcase_create("metrics");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, coco_perfect_and_iou);
    tcase_add_test(tc, coco_duplicates_and_misses);
    tcase_add_test(tc, coco_crowd_and_empty_categories);
    tcase_add_test(tc, coco_score_ties);
    tcase_add_test(tc, seg_miou);
    tcase_add_test(tc, cls_topk_ties);
    tcase_add_test(tc, yolo_decode_nms);
    tcase_add_test(tc, merge_equals_one_pass);
    suite_add_tcase(s, tc);
    return s;
}
