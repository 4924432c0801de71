/* SPDX-License-Identifier: MIT */
/* End to end: ac_eval_run on the shared models over small subsets (sane metric ranges; shards
 * merged = one pass), and `autocompress eval` on bad inputs: one line, exit 2, nothing
 * written. The CLI cases use the demo model in the repository, so they never skip. */
#include "autocompress/ac_eval.h"
#include "check_util.h"
#include "eval_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *line(const ac_diag *d) {
    static char buf[800];
    return ac_diag_line(d, buf, sizeof buf);
}

static char *sp(const char *fmt, const char *a, const char *b) {
    static char bufs[8][1024];
    static int k;
    char *o = bufs[k++ & 7];
    snprintf(o, 1024, fmt, a, b);
    return o;
}

/* Runs one shared model on the first `n` samples (after an optional shard). */
static ac_eval_result run_shared(const char *model_dir, const char *yaml, ac_task task,
                                 ac_dataset *ds, int64_t n, int32_t batch, ac_metric **state) {
    const char *sh = ac_test_shared_dir();
    ac_diag d = {0};
    ac_model *m = NULL;
    ac_pipeline *p = NULL;
    ck_assert_msg(ac_model_load(sp("%s/models/%s/model.onnx", sh, model_dir), NULL, &m, &d) ==
                      AC_OK,
                  "%s", line(&d));
    ck_assert_msg(ac_pipeline_from_yaml(sp("%s/models/%s", sh, model_dir), NULL, &p, &d) !=
                      AC_OK,
                  "a folder is not a yaml");
    ac_diag_clear(&d);
    char y[1024];
    snprintf(y, sizeof y, "%s/models/%s/%s", sh, model_dir, yaml);
    ck_assert_msg(ac_pipeline_from_yaml(y, NULL, &p, &d) == AC_OK, "%s", line(&d));
    if (n > 0) ac_dataset_limit(ds, n);
    ac_eval_opts o = {.batch = batch, .threads = 2};
    ac_eval_result r;
    ck_assert_msg(ac_eval_run(m, task, ds, p, &o, state, &r, &d) == AC_OK, "%s", line(&d));
    ac_pipeline_free(p);
    ac_model_free(m);
    return r;
}

START_TEST(shared_models) {
    const char *sh = ac_test_shared_dir();
    if (!sh) return;
    ac_diag d = {0};
    ac_dataset *ds = NULL;
    /* cls: 64 images */
    ck_assert_int_eq(
        ac_dataset_open_list(sp("%s/datasets/fmnist-cls/val_list.txt", sh, ""), NULL, &ds, &d),
        AC_OK);
    ac_eval_result r = run_shared("cls_resnet20", "inference_cls.yaml", AC_TASK_CLS, ds, 64, 16,
                                  NULL);
    ck_assert_int_eq(r.n, 64);
    ck_assert_msg(r.top1 > 0.7 && r.top1 <= 1 && r.top5 >= r.top1, "top1 %f", r.top1);
    ac_dataset_free(ds);
    /* det: 64 images, odd batch so the last one is padded */
    const char *ann = "%s/datasets/fmnist-scenes/annotations/instances_val.json";
    const char *val = sp("%s/datasets/fmnist-scenes/val", sh, "");
    ck_assert_int_eq(ac_dataset_open_coco(sp(ann, sh, ""), val, NULL, &ds, &d), AC_OK);
    r = run_shared("det_yolo", "infer_cfg.yml", AC_TASK_DET, ds, 64, 6, NULL);
    ck_assert_int_eq(r.n, 64);
    ck_assert_msg(r.map > 0.12 && r.map < 0.5 && r.ap50 > r.map, "mAP %f AP50 %f", r.map, r.ap50);
    ac_dataset_free(ds);
    /* seg: 16 images (the U-Net is the slow one) */
    ck_assert_int_eq(ac_dataset_open_seg(val, sp("%s/datasets/fmnist-scenes/masks", sh, ""), NULL,
                                         &ds, &d),
                     AC_OK);
    r = run_shared("seg_unet", "deploy.yaml", AC_TASK_SEG, ds, 16, 8, NULL);
    ck_assert_int_eq(r.n, 16);
    ck_assert_msg(r.miou > 0.15 && r.miou < 0.8 && r.pixel_acc > 0.6, "mIoU %f", r.miou);
    ac_dataset_free(ds);
}
END_TEST

START_TEST(shared_shards_merge) {
    const char *sh = ac_test_shared_dir();
    if (!sh) return;
    ac_diag d = {0};
    const char *ann = sp("%s/datasets/fmnist-scenes/annotations/instances_val.json", sh, "");
    const char *val = sp("%s/datasets/fmnist-scenes/val", sh, "");
    ac_dataset *ds = NULL;
    ac_metric *whole = NULL, *part[2] = {NULL, NULL};
    /* batch 1, so every image sees exactly the same computation in each run */
    ck_assert_int_eq(ac_dataset_open_coco(ann, val, NULL, &ds, &d), AC_OK);
    ac_eval_result a = run_shared("det_yolo", "infer_cfg.yml", AC_TASK_DET, ds, 24, 1, &whole);
    ac_dataset_free(ds);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(ac_dataset_open_coco(ann, val, NULL, &ds, &d), AC_OK);
        ac_dataset_limit(ds, 24);
        ck_assert_int_eq(ac_dataset_shard(ds, k, 2, &d), AC_OK);
        run_shared("det_yolo", "infer_cfg.yml", AC_TASK_DET, ds, 0, 1, &part[k]);
        ac_dataset_free(ds);
    }
    ck_assert_int_eq(ac_metric_merge(part[1], part[0], &d), AC_OK);
    ac_eval_result b;
    ck_assert_int_eq(ac_metric_compute(part[1], &b, &d), AC_OK);
    ck_assert_msg(a.map == b.map && a.ap50 == b.ap50 && a.n == b.n, "%.17g vs %.17g", a.map,
                  b.map);
    ac_metric_free(whole);
    ac_metric_free(part[0]);
    ac_metric_free(part[1]);
}
END_TEST

/* Runs the CLI, expects exit 2 with `msg` in its single output line, and no file in `out`. */
static void expect_bad(const char *args, const char *msg, const char *out) {
    char *o = NULL;
    int rc = ac_test_run_cli(args, &o);
    ck_assert_msg(rc == 2, "rc %d for %s: %s", rc, args, o ? o : "");
    ck_assert_msg(o && strstr(o, msg), "'%s' not in: %s", msg, o ? o : "");
    char *nl = strchr(o, '\n');
    ck_assert_msg(nl && !nl[1], "more than one line: %s", o);
    ck_assert_int_eq(ac_test_count_files(out), 0);
    free(o);
}

START_TEST(cli_bad_inputs) {
    const char *src = ac_test_source_dir();
    char model[1024], cmd[4096];
    snprintf(model, sizeof model, "%s/demo/cls_resnet20/model.onnx", src);
    const char *dir = ac_test_tmpdir();
    const char *out = ac_test_tmpdir();
    char state[1100];
    snprintf(state, sizeof state, "%s/state.json", out);

    /* the demo set evaluates, and --save-state writes a mergeable state */
    char *o = NULL;
    snprintf(cmd, sizeof cmd,
             "eval --model '%s' --task cls --data '%s/demo/images/val_list.txt' --json "
             "--num-images 40 --batch 16 --shard 0/2 --threads 1 --save-state '%s'",
             model, src, state);
    int rc = ac_test_run_cli(cmd, &o);
    ck_assert_msg(rc == 0 && o && strstr(o, "\"top1\":") && strstr(o, "\"n\":20"), "%d %s", rc,
                  o ? o : "");
    free(o);
    snprintf(cmd, sizeof cmd, "eval --merge '%s' --json", state);
    rc = ac_test_run_cli(cmd, &o);
    ck_assert_msg(rc == 0 && strstr(o, "\"n\":20"), "%s", o);
    free(o);
    snprintf(cmd, sizeof cmd, "eval --merge '%s' '%s'", state, state); /* cls counts add */
    rc = ac_test_run_cli(cmd, &o);
    ck_assert_msg(rc == 0 && strstr(o, "40 images"), "%s", o);
    free(o);
    remove(state);

    /* class folders with bad images, one case at a time */
    char cls[600], c0[700];
    snprintf(cls, sizeof cls, "%s/cls", dir);
    snprintf(c0, sizeof c0, "%s/a", cls);
    ac_et_mkdir(cls);
    snprintf(cmd, sizeof cmd, "eval --model '%s' --task cls --images '%s/none' --save-state '%s'",
             model, dir, state);
    expect_bad(cmd, "none: folder does not exist", out);
    snprintf(cmd, sizeof cmd, "eval --model '%s' --task cls --images '%s' --save-state '%s'",
             model, cls, state);
    expect_bad(cmd, "no class folders", out);
    ac_et_mkdir(c0);
    expect_bad(cmd, "no images (.jpg, .jpeg, .png) in the class folders", out);
    /* truncated JPEG */
    const char *jp = ac_test_path(c0, "t.jpg");
    size_t n = ac_et_write_jpeg(jp, 32, 32);
    size_t len;
    uint8_t *bytes = ac_test_read_file(jp, &len);
    ck_assert_uint_eq(len, n);
    ac_test_write_file(jp, bytes, len / 2);
    free(bytes);
    expect_bad(cmd, "t.jpg: corrupt JPEG", out);
    remove(jp);
    /* PNG claiming 100000 x 100000 */
    ac_et_write_png_claiming(ac_test_path(c0, "bomb.png"), 100000, 100000);
    expect_bad(cmd, "exceeds pixel limit", out);
    remove(ac_test_path(c0, "bomb.png"));

    /* segmentation pairs: 16-bit mask, size mismatch (the data fails before the cls model's
     * output could be questioned) */
    char im[600], mk[600];
    snprintf(im, sizeof im, "%s/im", dir);
    snprintf(mk, sizeof mk, "%s/mk", dir);
    ac_et_mkdir(im);
    ac_et_mkdir(mk);
    ac_et_write_jpeg(ac_test_path(im, "0.jpg"), 16, 16);
    ac_et_write_png(ac_test_path(mk, "0.png"), 16, 16, 16, NULL);
    snprintf(cmd, sizeof cmd,
             "eval --model '%s' --task seg --images '%s' --masks '%s' --save-state '%s'", model, im,
             mk, state);
    expect_bad(cmd, "0.png: mask must be an 8-bit single-channel PNG", out);
    ac_et_write_png(ac_test_path(mk, "0.png"), 8, 16, 8, NULL);
    expect_bad(cmd, "0.jpg: image is 16x16 but its mask", out);

    /* COCO: unknown image id, malformed JSON, a decoded size differing from the JSON */
    const char *js = ac_test_path(dir, "inst.json");
    const char *j1 = "{\"images\": [{\"id\": 1, \"file_name\": \"0.jpg\", \"width\": 16, "
                     "\"height\": 16}], \"annotations\": [{\"id\": 1, \"image_id\": 3, "
                     "\"category_id\": 1, \"bbox\": [0, 0, 2, 2], \"area\": 4}], "
                     "\"categories\": [{\"id\": 1, \"name\": \"a\"}]}";
    ac_test_write_file(js, j1, strlen(j1));
    snprintf(cmd, sizeof cmd,
             "eval --model '%s' --task det --data '%s' --images '%s' --save-state '%s'", model, js,
             im, state);
    expect_bad(cmd, "inst.json: annotations[0]: unknown image_id 3", out);
    ac_test_write_file(js, j1, strlen(j1) - 5);
    expect_bad(cmd, "inst.json:1:", out);
    const char *j2 = "{\"images\": [{\"id\": 1, \"file_name\": \"0.jpg\", \"width\": 20, "
                     "\"height\": 16}], \"annotations\": [], \"categories\": []}";
    ac_test_write_file(js, j2, strlen(j2));
    expect_bad(cmd, "0.jpg: image is 16x16 but", out);
    /* usage errors */
    snprintf(cmd, sizeof cmd, "eval --model '%s' --task pose --data x", model);
    expect_bad(cmd, "unknown task 'pose'", out);
    snprintf(cmd, sizeof cmd, "eval --model '%s' --task cls --data x --shard 3/3", model);
    expect_bad(cmd, "bad shard '3/3'", out);
}
END_TEST

Suite *ac_test_eval_e2e(void) {
    Suite *s = suite_create("eval_e2e");
    TCase *tc = tcase_create("e2e");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, shared_models);
    tcase_add_test(tc, shared_shards_merge);
    tcase_add_test(tc, cli_bad_inputs);
    suite_add_tcase(s, tc);
    return s;
}
