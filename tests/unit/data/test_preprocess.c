/* SPDX-License-Identifier: MIT */
/* Resize against hand-computed OpenCV values, deploy yamls -> pipelines, and end to end: the
 * shared models' reference inputs reproduced from the dataset images. Set AC_BENCH_DATA=1 to
 * also time decode + preprocess of the fmnist-cls val set on one core. */
#include "autocompress/ac_config.h"
#include "autocompress/ac_data.h"
#include "autocompress/ac_graph.h"
#include "autocompress/ac_model.h"
#include "check_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

static const char *line(const ac_diag *d) {
    static char buf[800];
    return ac_diag_line(d, buf, sizeof buf);
}

START_TEST(resize_values) {
    ac_diag d = {0};
    /* 2 -> 3 linear: x0 clamps to the left pixel, x1 = (0 * 1024 + 100 * 1024) / 2048 through
     * the 22-bit rounding of the vertical pass = 50 (50.5 floors: OpenCV adds 2^21 and shifts
     * a value that is exactly 50.5 * 2^22, giving 50), x2 clamps to the right */
    const uint8_t a[2] = {0, 100};
    uint8_t o[3];
    ck_assert_int_eq(ac_resize_u8(a, 2, 1, 1, o, 3, 1, 1.5, 1.0, AC_INTERP_LINEAR, &d), AC_OK);
    ck_assert_int_eq(o[0], 0);
    ck_assert_int_eq(o[1], 50);
    ck_assert_int_eq(o[2], 100);
    /* nearest 4 -> 2: floor(x * 2) */
    const uint8_t b[4] = {10, 20, 30, 40};
    ck_assert_int_eq(ac_resize_u8(b, 4, 1, 1, o, 2, 1, 0.5, 1.0, AC_INTERP_NEAREST, &d), AC_OK);
    ck_assert_int_eq(o[0], 10);
    ck_assert_int_eq(o[1], 30);
    /* area 4x2 -> 2x1: (sum + 2) >> 2; linear at exactly 1/2 is the same (OpenCV switches) */
    const uint8_t c[8] = {10, 20, 30, 40, 11, 21, 31, 41};
    ck_assert_int_eq(ac_resize_u8(c, 4, 2, 1, o, 2, 1, 0.5, 0.5, AC_INTERP_AREA, &d), AC_OK);
    ck_assert_int_eq(o[0], 16);
    ck_assert_int_eq(o[1], 36);
    ck_assert_int_eq(ac_resize_u8(c, 4, 2, 1, o, 2, 1, 0.5, 0.5, AC_INTERP_LINEAR, &d), AC_OK);
    ck_assert_int_eq(o[0], 16);
    ck_assert_int_eq(o[1], 36);
    /* 3-channel 2x2 -> 3x3 linear, centre pixel = mean of the four (weights 1024 each):
     * (10 + 20 + 30 + 40) / 4 = 25 per channel */
    uint8_t e[12], f[27];
    for (int i = 0; i < 4; i++) e[3 * i] = e[3 * i + 1] = e[3 * i + 2] = (uint8_t)(10 * (i + 1));
    ck_assert_int_eq(ac_resize_u8(e, 2, 2, 3, f, 3, 3, 1.5, 1.5, AC_INTERP_LINEAR, &d), AC_OK);
    ck_assert_int_eq(f[4 * 3], 25);
    ck_assert_int_eq(f[0], 10);
    ck_assert_int_eq(f[8 * 3 + 2], 40);
    /* float path: exact halves */
    const float g[2] = {0.f, 1.f};
    float h[3];
    ck_assert_int_eq(ac_resize_f32(g, 2, 1, 1, h, 3, 1, 1.5, 1.0, AC_INTERP_LINEAR, &d), AC_OK);
    ck_assert(h[0] == 0.f && h[1] == 0.5f && h[2] == 1.f);
    /* bad arguments */
    ck_assert_int_eq(ac_resize_u8(a, 0, 1, 1, o, 3, 1, 1.5, 1.0, AC_INTERP_LINEAR, &d),
                     AC_ERR_ARG);
}
END_TEST

/* Writes text to a temp yaml and returns its path. */
static const char *tmp_yaml(const char *name, const char *text) {
    const char *p = ac_test_path(ac_test_tmpdir(), name);
    ac_test_write_file(p, text, strlen(text));
    return p;
}

START_TEST(yaml_errors) {
    ac_diag d = {0};
    ac_pipeline *p = NULL;
    const char *y = tmp_yaml("bad.yaml", "PreProcess:\n  transform_ops:\n    - ResizeImage:\n"
                                         "        size: 32\n    - FooImage:\n");
    ck_assert_int_eq(ac_pipeline_from_yaml(y, NULL, &p, &d), AC_ERR_CONFIG);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(line(&d), "bad.yaml:5:7: unknown transform 'FooImage' in "
                                   "PreProcess.transform_ops"), "%s", line(&d));
    ac_diag_clear(&d);
    y = tmp_yaml("bad2.yaml", "Preprocess:\n- type: Resize\n  target_size: [1, 2]\n"
                              "  interp: eight\n");
    ck_assert_int_eq(ac_pipeline_from_yaml(y, NULL, &p, &d), AC_ERR_CONFIG);
    ck_assert_msg(strstr(line(&d), "bad2.yaml:4:11: key 'interp': expected integer, got 'eight'"),
                  "%s", line(&d));
    ac_diag_clear(&d);
    y = tmp_yaml("bad3.yaml", "Deploy:\n  transforms:\n  - type: Normalize\n    men: [1]\n");
    ck_assert_int_eq(ac_pipeline_from_yaml(y, NULL, &p, &d), AC_ERR_CONFIG);
    ck_assert_msg(strstr(line(&d), "bad3.yaml:4:5: unknown key 'men'"), "%s", line(&d));
    ac_diag_clear(&d);
    y = tmp_yaml("bad4.yaml", "PreProcess:\n  transform_ops:\n  - ResizeImage:\n"
                              "      size: 8\n      backend: magick\n");
    ck_assert_int_eq(ac_pipeline_from_yaml(y, NULL, &p, &d), AC_ERR_UNSUPPORTED);
    ac_diag_clear(&d);
    y = tmp_yaml("other.yaml", "Global:\n  x: 1\n");
    ck_assert_int_eq(ac_pipeline_from_yaml(y, NULL, &p, &d), AC_ERR_CONFIG);
    ck_assert(strstr(line(&d), "not a PaddleClas, PaddleDetection or PaddleSeg deploy yaml"));
    ac_diag_clear(&d);
    /* scale as a Python expression string, crop, resize_short */
    y = tmp_yaml("ok.yaml", "PreProcess:\n  transform_ops:\n  - DecodeImage:\n      to_rgb: false\n"
                            "  - ResizeImage:\n      resize_short: 40\n  - CropImage:\n"
                            "      size: 32\n  - NormalizeImage:\n      scale: '1./255.'\n"
                            "      order: ''\n  - ToCHWImage:\n");
    ck_assert_msg(ac_pipeline_from_yaml(y, NULL, &p, &d) == AC_OK, "%s", line(&d));
    ck_assert_int_eq(ac_pipeline_decode_opts(p)->format, AC_PIXFMT_BGR);
    ck_assert_int_eq(ac_pipeline_count(p), 4);
    ck_assert(fabs(ac_pipeline_at(p, 2)->scale - 1 / 255.0) < 1e-12);
    ac_image img = {.width = 80, .height = 50, .channels = 3};
    img.data = calloc(80 * 50, 3);
    ac_pre_result r;
    ck_assert_int_eq(ac_pipeline_run(p, &img, &r, &d), AC_OK);
    ck_assert_int_eq(r.width, 32);
    ck_assert_int_eq(r.height, 32);
    ck_assert_int_eq(r.chw, 1);
    /* 80x50 -> 64x40 (x0.8), crop at (16, 4): x_out = 0.8 x_src - 16 */
    ck_assert(fabs(r.scale_x - 0.8) < 1e-12 && fabs(r.offset_x + 16) < 1e-12);
    ck_assert(fabs(r.offset_y + 4) < 1e-12);
    free(img.data);
    ac_pipeline_free(p);
}
END_TEST

START_TEST(presets_and_letterbox) {
    ac_diag d = {0};
    ac_pipeline *p = NULL;
    ck_assert_int_eq(ac_pipeline_preset("nope", 0, 0, NULL, &p, &d), AC_ERR_CONFIG);
    ac_diag_clear(&d);
    ac_image img = {.width = 100, .height = 50, .channels = 3};
    img.data = malloc(100 * 50 * 3);
    memset(img.data, 200, 100 * 50 * 3);
    ac_pre_result r;
    ck_assert_int_eq(ac_pipeline_preset("yolo_image_preprocess", 64, 64, NULL, &p, &d), AC_OK);
    ck_assert_int_eq(ac_pipeline_decode_opts(p)->format, AC_PIXFMT_BGR);
    ck_assert_int_eq(ac_pipeline_run(p, &img, &r, &d), AC_OK);
    ck_assert(r.channels == 3 && r.height == 64 && r.width == 64);
    /* 100x50 -> 64x32 at the top-left, 114 below */
    ck_assert(fabs(r.data[0] - 200 / 255.f) < 1e-6);
    ck_assert(fabs(r.data[40 * 64] - 114 / 255.f) < 1e-6);
    ac_pipeline_free(p);
    const char *names[] = {"cls_image_preprocess", "ppyoloe_withNMS_image_preprocess",
                           "ppyoloe_plus_withNMS_image_preprocess"};
    int sizes[] = {224, 640, 640};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(ac_pipeline_preset(names[i], 0, 0, NULL, &p, &d), AC_OK);
        ck_assert_int_eq(ac_pipeline_run(p, &img, &r, &d), AC_OK);
        ck_assert_int_eq(r.width, sizes[i]);
        ck_assert_int_eq(r.height, sizes[i]);
        ac_pipeline_free(p);
    }
    /* letterbox (YOLO): 100x50 into 64x64 -> 64x32 centred, 16 rows of pad above */
    ac_xform lb = {.kind = AC_XFORM_LETTERBOX, .width = 64, .height = 64,
                   .pad_value = {114, 114, 114}};
    ck_assert_int_eq(ac_pipeline_new(&lb, 1, NULL, 0, &p, &d), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, &img, &r, &d), AC_OK);
    ck_assert_int_eq(r.chw, 0);
    ck_assert(r.data[0] == 114.f && r.data[16 * 64 * 3] == 200.f && r.data[48 * 64 * 3] == 114.f);
    ck_assert(fabs(r.offset_y - 16) < 1e-12 && fabs(r.scale_y - 0.64) < 1e-12);
    ac_pipeline_free(p);
    /* validation */
    ac_xform bad[2] = {{.kind = AC_XFORM_TO_CHW}, {.kind = AC_XFORM_RESIZE, .width = 4,
                                                   .height = 4}};
    ck_assert_int_eq(ac_pipeline_new(bad, 2, NULL, 0, &p, &d), AC_ERR_CONFIG);
    ac_diag_clear(&d);
    ac_xform crop = {.kind = AC_XFORM_CENTER_CROP, .width = 200, .height = 10};
    ck_assert_int_eq(ac_pipeline_new(&crop, 1, NULL, 0, &p, &d), AC_OK);
    ck_assert_int_eq(ac_pipeline_run(p, &img, &r, &d), AC_ERR_CONFIG);
    ck_assert(strstr(line(&d), "crop 200x10 is larger than the 100x50 image"));
    ac_pipeline_free(p);
    free(img.data);
}
END_TEST

/* ---- shared models ------------------------------------------------------------------------*/

static void shared_path(char *buf, size_t n, const char *rel) {
    snprintf(buf, n, "%s/%s", ac_test_shared_dir(), rel);
}

START_TEST(shared_yamls) {
    if (!ac_test_shared_dir()) return;
    char path[1024];
    ac_diag d = {0};
    ac_pipeline *p = NULL;
    shared_path(path, sizeof path, "models/cls_resnet20/inference_cls.yaml");
    ck_assert_msg(ac_pipeline_from_yaml(path, NULL, &p, &d) == AC_OK, "%s", line(&d));
    ck_assert_int_eq(ac_pipeline_count(p), 3);
    const ac_xform *x = ac_pipeline_at(p, 0);
    ck_assert(x->kind == AC_XFORM_RESIZE && x->width == 32 && x->height == 32 &&
              x->interp == AC_INTERP_LINEAR && !x->keep_ratio);
    x = ac_pipeline_at(p, 1);
    ck_assert(x->kind == AC_XFORM_NORMALIZE && fabs(x->scale - 0.00392157) < 1e-12);
    ck_assert(fabsf(x->mean[2] - 0.2860f) < 1e-7f && fabsf(x->std[0] - 0.3530f) < 1e-7f);
    ck_assert_int_eq(ac_pipeline_at(p, 2)->kind, AC_XFORM_TO_CHW);
    ck_assert_int_eq(ac_pipeline_decode_opts(p)->format, AC_PIXFMT_RGB);
    ac_pipeline_free(p);

    shared_path(path, sizeof path, "models/det_yolo/infer_cfg.yml");
    ck_assert_msg(ac_pipeline_from_yaml(path, NULL, &p, &d) == AC_OK, "%s", line(&d));
    ck_assert_int_eq(ac_pipeline_count(p), 3);
    x = ac_pipeline_at(p, 0);
    ck_assert(x->kind == AC_XFORM_RESIZE && x->width == 160 && x->height == 160 &&
              !x->keep_ratio && x->interp == AC_INTERP_LINEAR);
    x = ac_pipeline_at(p, 1);
    ck_assert(x->kind == AC_XFORM_NORMALIZE && fabs(x->scale - 1 / 255.0) < 1e-15 &&
              x->mean[0] == 0.f && x->std[1] == 1.f);
    ck_assert_int_eq(ac_pipeline_at(p, 2)->kind, AC_XFORM_TO_CHW);
    ac_pipeline_free(p);

    shared_path(path, sizeof path, "models/seg_unet/deploy.yaml");
    ck_assert_msg(ac_pipeline_from_yaml(path, NULL, &p, &d) == AC_OK, "%s", line(&d));
    ck_assert_int_eq(ac_pipeline_count(p), 2);
    x = ac_pipeline_at(p, 0);
    ck_assert(x->kind == AC_XFORM_NORMALIZE && fabs(x->scale - 1 / 255.0) < 1e-15 &&
              x->mean[0] == 0.f && x->std[2] == 1.f);
    ck_assert_int_eq(ac_pipeline_at(p, 1)->kind, AC_XFORM_TO_CHW);
    ac_pipeline_free(p);
}
END_TEST

/* Preprocesses the first N images of `list` (or NNNNN.jpg in `dir`) and compares with the
 * model's ref/test_data_set_0/input_0.pb, N being its batch size. */
static void check_ref(const char *model, const char *yaml, const char *imgdir, int pil,
                      float tol) {
    char path[1024];
    ac_diag d = {0};
    ac_tensor *ref = NULL;
    ac_graph *owner = NULL;
    snprintf(path, sizeof path, "%s/models/%s/ref/test_data_set_0/input_0.pb",
             ac_test_shared_dir(), model);
    ck_assert_msg(ac_tensor_read_pb(path, &ref, &owner, &d) == AC_OK, "%s", line(&d));
    ck_assert_int_eq(ref->rank, 4);
    ck_assert_int_eq(ref->dtype, AC_DTYPE_F32);
    ac_pipeline *p = NULL;
    if (yaml[0] == '/') /* a yaml of ours, e.g. the repository's configs/ */
        snprintf(path, sizeof path, "%s", yaml);
    else
        snprintf(path, sizeof path, "%s/models/%s/%s", ac_test_shared_dir(), model, yaml);
    ck_assert_msg(ac_pipeline_from_yaml(path, NULL, &p, &d) == AC_OK, "%s", line(&d));
    if (pil) { /* same transforms, resizes switched to the PIL backend */
        ac_xform xf[8];
        int32_t n = ac_pipeline_count(p);
        for (int32_t i = 0; i < n; i++) {
            xf[i] = *ac_pipeline_at(p, i);
            if (xf[i].kind == AC_XFORM_RESIZE) xf[i].backend = AC_RESIZE_PIL;
        }
        ac_pipeline_opts o = {.decode = *ac_pipeline_decode_opts(p)};
        ac_pipeline_free(p);
        ck_assert_int_eq(ac_pipeline_new(xf, n, &o, 0, &p, &d), AC_OK);
    }
    ac_image img = {0};
    size_t per = (size_t)(ref->numel / ref->dims[0]);
    const float *want = ref->data;
    float maxdiff = 0;
    for (int64_t i = 0; i < ref->dims[0]; i++) {
        /* val_list.txt order is val/00000.jpg, val/00001.jpg, ... (checked below for cls) */
        snprintf(path, sizeof path, "%s/%s/%05d.jpg", ac_test_shared_dir(), imgdir, (int)i);
        ck_assert_msg(ac_image_read(path, ac_pipeline_decode_opts(p), &img, &d) == AC_OK, "%s",
                      line(&d));
        ac_pre_result r;
        ck_assert_msg(ac_pipeline_run(p, &img, &r, &d) == AC_OK, "%s", line(&d));
        ck_assert_int_eq(r.numel, per);
        ck_assert(r.chw && r.channels == ref->dims[1] && r.height == ref->dims[2] &&
                  r.width == ref->dims[3]);
        for (size_t k = 0; k < per; k++) {
            float df = fabsf(r.data[k] - want[i * per + k]);
            if (df > maxdiff) maxdiff = df;
        }
    }
    ck_assert_msg(maxdiff <= tol, "%s%s: max |diff| %g", model, pil ? " (pil)" : "",
                  (double)maxdiff);
    ac_image_release(&img);
    ac_pipeline_free(p);
    ac_graph_free(owner);
}

START_TEST(end_to_end_refs) {
    const char *sh = ac_test_shared_dir();
    if (!sh) return;
    /* the cls refs are the first val_list entries: check the list really starts 00000.. */
    char path[1024];
    snprintf(path, sizeof path, "%s/datasets/fmnist-cls/val_list.txt", sh);
    size_t n;
    char *list = (char *)ac_test_read_file(path, &n);
    ck_assert(!strncmp(list, "val/00000.jpg ", 14));
    ck_assert(strstr(list, "\nval/00001.jpg ") && strstr(list, "\nval/00003.jpg "));
    free(list);
    /* The cls refs were made with PIL's bilinear resize (8-bit rounding after each pass; a
     * Python model of Pillow's Resample.c reproduces all 4096 values), although the yaml says
     * backend: cv2 and MODEL.md says INTER_LINEAR. With the PIL backend they match exactly;
     * the yaml's own cv2 arithmetic is within one 8-bit level (1 / 255 / 0.353). */
    check_ref("cls_resnet20", "inference_cls.yaml", "datasets/fmnist-cls/val", 1, 1e-5f);
    check_ref("cls_mobilenetv2", "inference_cls.yaml", "datasets/fmnist-cls/val", 1, 1e-5f);
    check_ref("cls_resnet20", "inference_cls.yaml", "datasets/fmnist-cls/val", 0,
              1.0f / 255 / 0.353f + 1e-5f);
    /* configs/fmnist_cls_pil.yaml says so itself and reproduces the refs as written */
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s/configs/fmnist_cls_pil.yaml", ac_test_source_dir());
    if (cfg[0] != '/') {
        char cwd[512];
        ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
        snprintf(cfg, sizeof cfg, "%s/%s/configs/fmnist_cls_pil.yaml", cwd, ac_test_source_dir());
    }
    check_ref("cls_resnet20", cfg, "datasets/fmnist-cls/val", 0, 1e-5f);
    check_ref("det_yolo", "infer_cfg.yml", "datasets/fmnist-scenes/val", 0, 1e-5f);
    check_ref("seg_unet", "deploy.yaml", "datasets/fmnist-scenes/val", 0, 1e-5f);
}
END_TEST

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Decode + preprocess throughput on one core (files read into memory first, then timed both
 * ways). Only with AC_BENCH_DATA set: it is a measurement, not a check. */
START_TEST(bench_cls) {
    const char *sh = ac_test_shared_dir();
    if (!sh || !getenv("AC_BENCH_DATA")) return;
    char path[1024];
    ac_diag d = {0};
    ac_pipeline *p = NULL;
    snprintf(path, sizeof path, "%s/models/cls_resnet20/inference_cls.yaml", sh);
    ck_assert_int_eq(ac_pipeline_from_yaml(path, NULL, &p, &d), AC_OK);
    enum { N = 10000 };
    uint8_t **bufs = calloc(N, sizeof *bufs);
    size_t *lens = calloc(N, sizeof *lens);
    ac_image img = {0};
    ac_pre_result r;
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "%s/datasets/fmnist-cls/val/%05d.jpg", sh, i);
        ck_assert_int_eq(ac_file_read_all(path, 1 << 20, &bufs[i], &lens[i], &d), AC_OK);
        ck_assert_int_eq(ac_image_decode(bufs[i], lens[i], ac_pipeline_decode_opts(p), &img, &d),
                         AC_OK);
        ck_assert_int_eq(ac_pipeline_run(p, &img, &r, &d), AC_OK);
    }
    double t1 = now_s();
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double a = now_s();
        for (int i = 0; i < N; i++) {
            ac_image_decode(bufs[i], lens[i], ac_pipeline_decode_opts(p), &img, &d);
            ac_pipeline_run(p, &img, &r, &d);
        }
        double b = now_s() - a;
        best = b < best ? b : best;
    }
    fprintf(stderr, "bench: fmnist-cls val %d images: read+decode+preprocess %.0f img/s (cold "
            "cache possible); decode+preprocess from memory %.0f img/s (best of 3)\n", N,
            N / (t1 - t0), N / best);
    for (int i = 0; i < N; i++) ac_free(bufs[i]);
    free(bufs);
    free(lens);
    ac_image_release(&img);
    ac_pipeline_free(p);
}
END_TEST

Suite *ac_test_data_preprocess(void) {
    Suite *s = suite_create("data_preprocess");
    TCase *t = tcase_create("preprocess");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, resize_values);
    tcase_add_test(t, yaml_errors);
    tcase_add_test(t, presets_and_letterbox);
    tcase_add_test(t, shared_yamls);
    tcase_add_test(t, end_to_end_refs);
    tcase_add_test(t, bench_cls);
    suite_add_tcase(s, t);
    return s;
}
