/* SPDX-License-Identifier: MIT */
/* The calibration driver and the calibrate/merge commands on the demo model: statistics of a
 * run, shards merged equal to one run byte for byte, determinism, --num-images, TensorProto
 * inputs, fixed memory, and bad inputs (exit 2, nothing written). */
#define _POSIX_C_SOURCE 200809L
#include "check_util.h"

#include "autocompress/ac_calib.h"
#include "autocompress/ac_driver.h"
#include "autocompress/ac_model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char model[4096], calib_dir[4096], yaml[4096];

static void setup_paths(void) {
    const char *src = ac_test_source_dir();
    snprintf(model, sizeof model, "%s/demo/cls_resnet20/model.onnx", src);
    snprintf(calib_dir, sizeof calib_dir, "%s/demo/calib", src);
    snprintf(yaml, sizeof yaml, "%s/demo/cls_resnet20/inference_cls.yaml", src);
}

static int cli(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *last_out;

/* Runs `autocompress <formatted args>`, keeping the output in last_out. */
static int cli(const char *fmt, ...) {
    char args[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    free(last_out);
    last_out = NULL;
    return ac_test_run_cli(args, &last_out);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static void assert_same_file(const char *a, const char *b) {
    size_t na, nb;
    uint8_t *x = ac_test_read_file(a, &na), *y = ac_test_read_file(b, &nb);
    ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "%s and %s differ", a, b);
    free(x);
    free(y);
}

static ac_calib_stats stats_of(const char *path, const char *tensor, ac_calib **keep) {
    ac_diag d = {0};
    ck_assert_int_eq(ac_calib_load(path, NULL, keep, &d), AC_OK);
    ac_calib_stats s;
    ck_assert_int_eq(ac_calib_find(*keep, tensor, &s, &d), AC_OK);
    return s;
}

/* ---- a run, and its summary ------------------------------------------------------------- */

START_TEST(calibrate_demo) {
    const char *tmp = ac_test_tmpdir();
    const char *out = ac_test_path(tmp, "all.accal");
    ck_assert_int_eq(cli("calibrate --model %s --data %s --save-stats %s --method KL --threads 1",
                         model, calib_dir, out), 0);
    ck_assert_msg(strstr(last_out, "calibrated 64 images"), "%s", last_out);
    ck_assert_msg(strstr(last_out, "KL thresholds"), "%s", last_out);
    ac_calib *c;
    ac_calib_stats s = stats_of(out, "x", &c);
    ck_assert_int_eq(s.n_samples, 64);
    ck_assert_uint_eq(s.n_values, 64 * 3 * 32 * 32);
    ck_assert(s.min < 0 && s.max > 0);
    /* only what the quantizer reads: ResNet-20's 33 (of 53 activations); the logits feed no
     * quantized op, and a Conv output before a folded ReLU is never needed */
    ck_assert_int_eq(ac_calib_count(c), 33);
    ck_assert_int_ne(ac_calib_find(c, "logits", &s, NULL), AC_OK);
    ac_calib_free(c);

    /* --all-tensors: every float activation, logits included */
    const char *every = ac_test_path(tmp, "every.accal");
    ck_assert_int_eq(cli("calibrate --model %s --data %s --save-stats %s --all-tensors "
                         "--num-images 4", model, calib_dir, every), 0);
    s = stats_of(every, "logits", &c);
    ck_assert_int_eq(s.n_samples, 4);
    ck_assert_int_ge(ac_calib_count(c), 50);
    ac_calib_free(c);

    /* the placement must not depend on which extra tensors have statistics: the same images
     * with only the needed tensors quantize to the same bytes (they did not: the pre-ReLU
     * outputs had no statistics, so the ReLUs were kept and 11 activations lost) */
    /* --out in the FP32 model's own folder would replace the model: refused before any work,
     * the model untouched (it was silently overwritten) */
    {
        char same[1024], m2[1100], cmd_model[1100];
        snprintf(same, sizeof same, "%s/same", tmp);
        snprintf(m2, sizeof m2, "%s/model.onnx", same);
        snprintf(cmd_model, sizeof cmd_model, "mkdir -p '%s' && cp '%s' '%s'", same, model, m2);
        ck_assert_int_eq(system(cmd_model), 0);
        size_t n0, n1;
        uint8_t *before = ac_test_read_file(m2, &n0);
        ck_assert_int_eq(cli("quantize --model %s --stats %s --out %s", m2, every,
                             same), 2);
        ck_assert_msg(strstr(last_out, "would replace the FP32 model"), "%s", last_out);
        uint8_t *after = ac_test_read_file(m2, &n1);
        ck_assert(n0 == n1 && memcmp(before, after, n0) == 0);
        /* the statistics file must not be the model either */
        ck_assert_int_eq(cli("calibrate --model %s --data %s --save-stats %s --num-images 2", m2,
                             calib_dir, m2), 2);
        ck_assert_msg(strstr(last_out, "is the model itself"), "%s", last_out);
        free(after);
        after = ac_test_read_file(m2, &n1);
        ck_assert(n0 == n1 && memcmp(before, after, n0) == 0);
        free(before);
        free(after);
    }

    /* (own buffers: ac_test_path's rotate and `out` is still needed below) */
    char needed[1024], qa[1024], qn[1024], ma[1100], mn[1100], ev[1024];
    snprintf(ev, sizeof ev, "%s", every);
    snprintf(needed, sizeof needed, "%s/needed.accal", tmp);
    snprintf(qa, sizeof qa, "%s/q_every", tmp);
    snprintf(qn, sizeof qn, "%s/q_needed", tmp);
    snprintf(ma, sizeof ma, "%s/model.onnx", qa);
    snprintf(mn, sizeof mn, "%s/model.onnx", qn);
    ck_assert_int_eq(cli("calibrate --model %s --data %s --save-stats %s --num-images 4", model,
                         calib_dir, needed), 0);
    ck_assert_int_eq(cli("quantize --model %s --stats %s --out %s", model, ev, qa), 0);
    ck_assert_int_eq(cli("quantize --model %s --stats %s --out %s", model, needed, qn), 0);
    assert_same_file(ma, mn);
    /* --load-stats, the name for it, is --stats */
    ck_assert_int_eq(cli("quantize --model %s --load-stats %s --out %s", model, needed, qn), 0);
    assert_same_file(ma, mn);

    /* determinism: the same inputs save the same bytes, whatever the thread count */
    const char *again = ac_test_path(tmp, "again.accal");
    ck_assert_int_eq(cli("calibrate --model %s --data %s --save-stats %s --threads 2", model,
                         calib_dir, again), 0);
    assert_same_file(out, again);

    /* quantize from the saved statistics: the output folder is complete */
    const char *qdir = ac_test_path(tmp, "int8");
    ck_assert_int_eq(cli("quantize --model %s --stats %s --out %s --method KL", model, out, qdir),
                     0);
    ck_assert_int_eq(ac_test_count_files(qdir), 5); /* model, 3 tables, deploy yaml */
    const char *qbad = ac_test_path(tmp, "int8_bad");
    ck_assert_int_eq(cli("quantize --model %s --stats %s --out %s --mode nope", model, out, qbad),
                     2);
    struct stat st;
    ck_assert_int_ne(stat(qbad, &st), 0);

    /* the deploy yaml given explicitly is the one found beside the model */
    const char *explicit_yaml = ac_test_path(tmp, "yaml.accal");
    ck_assert_int_eq(cli("calibrate --model %s --data %s --preprocess %s --save-stats %s", model,
                         calib_dir, yaml, explicit_yaml), 0);
    assert_same_file(out, explicit_yaml);
}
END_TEST

/* Shards over disjoint images merged equal one run over their union, byte for byte; with
 * batches, and a last partial batch, too. */
START_TEST(shards_merge_exactly) {
    const char *tmp = ac_test_tmpdir();
    char all[4096], s0[4096], s1[4096], merged[4096];
    snprintf(all, sizeof all, "%s", ac_test_path(tmp, "all.accal"));
    snprintf(s0, sizeof s0, "%s", ac_test_path(tmp, "s0.accal"));
    snprintf(s1, sizeof s1, "%s", ac_test_path(tmp, "s1.accal"));
    snprintf(merged, sizeof merged, "%s", ac_test_path(tmp, "merged.accal"));
    ck_assert_int_eq(cli("calibrate --model %s --data %s --save-stats %s", model, calib_dir, all),
                     0);
    ck_assert_int_eq(cli("calibrate --model %s --data %s --shard 0/2 --save-stats %s", model,
                         calib_dir, s0), 0);
    ck_assert_msg(strstr(last_out, "calibrated 32 images"), "%s", last_out);
    ck_assert_int_eq(cli("calibrate --model %s --data %s --shard 1/2 --save-stats %s", model,
                         calib_dir, s1), 0);
    ck_assert_int_eq(cli("merge %s %s %s", merged, s1, s0), 0);
    assert_same_file(all, merged);

    /* three uneven shards (22 + 21 + 21 images) */
    char s[3][4096];
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%d.accal", i);
        snprintf(s[i], sizeof s[i], "%s", ac_test_path(tmp, name));
        ck_assert_int_eq(cli("calibrate --model %s --data %s --shard %d/3 --save-stats %s",
                             model, calib_dir, i, s[i]), 0);
    }
    ck_assert_int_eq(cli("merge %s %s %s %s", merged, s[2], s[0], s[1]), 0);
    assert_same_file(all, merged);
}
END_TEST

/* --num-images N takes the first N images of the sorted list: the same statistics as a folder
 * holding only those images. */
START_TEST(num_images) {
    const char *tmp = ac_test_tmpdir();
    char sub[4096], a[4096], b[4096];
    snprintf(sub, sizeof sub, "%s", ac_test_path(tmp, "first10"));
    snprintf(a, sizeof a, "%s", ac_test_path(tmp, "a.accal"));
    snprintf(b, sizeof b, "%s", ac_test_path(tmp, "b.accal"));
    sh("mkdir -p '%s/nested' && cd '%s' && cp 00000.jpg 00001.jpg 00002.jpg 00003.jpg "
       "00004.jpg '%s/' && cp 00005.jpg 00006.jpg 00007.jpg 00008.jpg 00009.jpg '%s/nested/' "
       "&& echo notes > '%s/README.txt'",
       sub, calib_dir, sub, sub, sub);
    ck_assert_int_eq(cli("calibrate --model %s --data %s --num-images 10 --batch 4 --save-stats "
                         "%s",
                         model, calib_dir, a), 0);
    ck_assert_msg(strstr(last_out, "calibrated 10 images in 3 batches on "), "%s", last_out);
    /* the copy sorts as .../00000.jpg ... 00004.jpg, nested/00005.jpg ...: the same 10 */
    ck_assert_int_eq(cli("calibrate --model %s --data %s --preprocess %s --batch 4 --save-stats "
                         "%s", model, sub, yaml, b), 0);
    assert_same_file(a, b);
    ac_calib *c;
    ac_calib_stats s = stats_of(a, "x", &c);
    ck_assert_int_eq(s.n_samples, 10);
    ac_calib_free(c);
}
END_TEST

/* TensorProto inputs: rows of axis 0 are the samples. */
START_TEST(tensor_inputs) {
    const char *tmp = ac_test_tmpdir();
    char in[4096], out[4096];
    snprintf(in, sizeof in, "%s/demo/cls_resnet20/ref/test_data_set_0/input_0.pb",
             ac_test_source_dir());
    snprintf(out, sizeof out, "%s", ac_test_path(tmp, "pb.accal"));
    ac_tensor *t;
    ac_graph *owner;
    ck_assert_int_eq(ac_tensor_read_pb(in, &t, &owner, NULL), AC_OK);
    int64_t rows = t->dims[0];
    ac_graph_free(owner);
    ck_assert_int_eq(cli("calibrate --model %s --inputs %s %s --batch 3 --save-stats %s", model,
                         in, in, out), 0);
    ac_calib *c;
    ac_calib_stats s = stats_of(out, "x", &c);
    ck_assert_int_eq(s.n_samples, 2 * rows);
    ac_calib_free(c);

    /* a NaN in sample 1: the error names the file and row, and the tensor */
    ck_assert_int_eq(ac_tensor_read_pb(in, &t, &owner, NULL), AC_OK);
    ck_assert_int_ge(rows, 2);
    ((float *)t->data)[t->numel / rows + 5] = NAN;
    char nan_pb[4096], nan_out[4096];
    snprintf(nan_pb, sizeof nan_pb, "%s", ac_test_path(tmp, "nan.pb"));
    snprintf(nan_out, sizeof nan_out, "%s", ac_test_path(tmp, "nan.accal"));
    ck_assert_int_eq(ac_tensor_write_pb(nan_pb, t, "x", NULL), AC_OK);
    ac_graph_free(owner);
    ck_assert_int_eq(cli("calibrate --model %s --inputs %s --batch 2 --save-stats %s", model,
                         nan_pb, nan_out), 2);
    ck_assert_msg(strstr(last_out, "nan.pb row 1") && strstr(last_out, "tensor \"x\"") &&
                      strstr(last_out, "NaN"), "%s", last_out);
    struct stat st;
    ck_assert_int_ne(stat(nan_out, &st), 0);
}
END_TEST

/* The library: listing, shard specs, and memory that does not grow with the images. */
START_TEST(library) {
    char **paths;
    int64_t n;
    ac_diag d = {0};
    ck_assert_int_eq(ac_driver_list_images(calib_dir, 0, &paths, &n, &d), AC_OK);
    ck_assert_int_eq(n, 64);
    for (int64_t i = 1; i < n; i++)
        ck_assert(strcmp(paths[i - 1], paths[i]) < 0);
    ck_assert(strstr(paths[0], "/00000.jpg"));
    ac_driver_free_list(paths, n);
    ck_assert_int_eq(ac_driver_list_images(calib_dir, 10, &paths, &n, &d), AC_ERR_LIMIT);

    int32_t i, k;
    ck_assert_int_eq(ac_driver_parse_shard("1/4", &i, &k, NULL), AC_OK);
    ck_assert(i == 1 && k == 4);
    const char *bad[] = {"4/4", "-1/2", "1/0", "a/b", "1", "1/", "/2", "1/2x", "0/65537", ""};
    for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++)
        ck_assert_msg(ac_driver_parse_shard(bad[j], &i, &k, NULL) == AC_ERR_ARG, "%s", bad[j]);

    char found[4096];
    ck_assert(ac_driver_find_deploy_yaml(model, found, sizeof found));
    ck_assert(strstr(found, "inference_cls.yaml"));

    /* the collector's size is fixed once every tensor has been seen */
    ac_model *m;
    ck_assert_int_eq(ac_model_load(model, NULL, &m, &d), AC_OK);
    size_t bytes[2];
    for (int r = 0; r < 2; r++) {
        ac_calib *c;
        ck_assert_int_eq(ac_calib_new(NULL, &c, &d), AC_OK);
        ac_driver_opts o = {.images_dir = calib_dir, .num_images = r ? 48 : 4, .threads = 1};
        ac_driver_report rep;
        ck_assert_int_eq(ac_driver_run(m, model, &o, c, &rep, &d), AC_OK);
        ck_assert_int_eq(rep.samples, r ? 48 : 4);
        bytes[r] = ac_calib_bytes(c);
        ac_calib_free(c);
    }
    ck_assert_uint_eq(bytes[0], bytes[1]);
    /* no observer: the timing baseline */
    ac_driver_opts o = {.images_dir = calib_dir, .num_images = 3, .batch = 2, .threads = 1};
    ac_driver_report rep;
    ck_assert_int_eq(ac_driver_run(m, model, &o, NULL, &rep, &d), AC_OK);
    ck_assert(rep.samples == 3 && rep.batches == 2 && rep.tensors == 0);
    ac_model_free(m);
}
END_TEST

/* ---- lanes ------------------------------------------------------------------------------- */

/* Lanes run images side by side with collectors of their own, merged at the end: the file is
 * byte for byte that of one lane, whatever the lanes, threads and batches; and an error is
 * that of the earliest failing batch, as one lane running them in order reports it. */
START_TEST(lanes_match_one_lane) {
    const char *tmp = ac_test_tmpdir();
    char one[4096], many[4096];
    snprintf(one, sizeof one, "%s", ac_test_path(tmp, "one.accal"));
    snprintf(many, sizeof many, "%s", ac_test_path(tmp, "many.accal"));
    ck_assert_int_eq(cli("calibrate --model %s --data %s --threads 1 --lanes 1 --save-stats %s",
                         model, calib_dir, one), 0);
    ck_assert_msg(strstr(last_out, "on 1 lane(s)"), "%s", last_out);
    /* 5 and 9 lanes: two and three decoding threads publishing out of order */
    const char *variants[] = {"--threads 3 --lanes 3", "--threads 2 --lanes 5 --batch 3",
                              "--threads 2", "--threads 2 --lanes 9", "--lanes 9 --batch 2"};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        ck_assert_int_eq(cli("calibrate --model %s --data %s %s --save-stats %s", model,
                             calib_dir, variants[i], many), 0);
        ck_assert_msg(!strstr(last_out, "on 1 lane(s)"), "%s: %s", variants[i], last_out);
        assert_same_file(one, many);
    }
    /* never more lanes than batches */
    ck_assert_int_eq(cli("calibrate --model %s --data %s --num-images 2 --lanes 4 --save-stats %s",
                         model, calib_dir, many), 0);
    ck_assert_msg(strstr(last_out, "on 2 lane(s)"), "%s", last_out);

    /* NaN in rows 1 and 3 of four: every lane count names row 1 */
    char in[4096], nan_pb[4096], out[4096];
    snprintf(in, sizeof in, "%s/demo/cls_resnet20/ref/test_data_set_0/input_0.pb",
             ac_test_source_dir());
    snprintf(nan_pb, sizeof nan_pb, "%s", ac_test_path(tmp, "nan2.pb"));
    snprintf(out, sizeof out, "%s", ac_test_path(tmp, "nan2.accal"));
    ac_tensor *t;
    ac_graph *owner;
    ck_assert_int_eq(ac_tensor_read_pb(in, &t, &owner, NULL), AC_OK);
    int64_t rows = t->dims[0], per = t->numel / rows;
    ck_assert_int_ge(rows, 4);
    ((float *)t->data)[per + 7] = NAN;
    ((float *)t->data)[3 * per] = INFINITY;
    ck_assert_int_eq(ac_tensor_write_pb(nan_pb, t, "x", NULL), AC_OK);
    ac_graph_free(owner);
    for (int lanes = 1; lanes <= 4; lanes++) {
        ck_assert_int_eq(cli("calibrate --model %s --inputs %s %s --threads 2 --lanes %d "
                             "--save-stats %s", model, in, nan_pb, lanes, out), 2);
        ck_assert_msg(strstr(last_out, "nan2.pb row 1") && strstr(last_out, "NaN"), "%s",
                      last_out);
    }
    struct stat st;
    ck_assert_int_ne(stat(out, &st), 0);

    /* a truncated image among good ones, found by the decoding thread */
    char broken[4096];
    snprintf(broken, sizeof broken, "%s", ac_test_path(tmp, "broken3"));
    sh("mkdir -p '%s' && cd '%s' && cp 00000.jpg 00001.jpg 00002.jpg 00003.jpg 00005.jpg '%s/' "
       "&& head -c 300 00004.jpg > '%s/00002b.jpg' && head -c 200 00006.jpg > '%s/00003b.jpg'",
       broken, calib_dir, broken, broken, broken);
    for (int lanes = 3; lanes <= 8; lanes += 5) { /* 8 lanes: two decoding threads */
        ck_assert_int_eq(cli("calibrate --model %s --data %s --preprocess %s --threads 2 "
                             "--lanes %d --save-stats %s", model, broken, yaml, lanes, out), 2);
        ck_assert_msg(strstr(last_out, "00002b.jpg") && strstr(last_out, "corrupt JPEG"), "%s",
                      last_out);
        ck_assert_int_ne(stat(out, &st), 0);
    }

    /* the library: lanes without a collector (the timing baseline) and the report */
    ac_model *m;
    ac_diag d = {0};
    ck_assert_int_eq(ac_model_load(model, NULL, &m, &d), AC_OK);
    ac_driver_opts o = {.images_dir = calib_dir, .num_images = 9, .batch = 2, .threads = 2,
                        .lanes = 3};
    ac_driver_report rep;
    ck_assert_int_eq(ac_driver_run(m, model, &o, NULL, &rep, &d), AC_OK);
    ck_assert(rep.samples == 9 && rep.batches == 5 && rep.lanes == 3 && rep.tensors == 0);
    o.lanes = -1;
    ck_assert_int_eq(ac_driver_run(m, model, &o, NULL, &rep, &d), AC_ERR_ARG);
    ac_model_free(m);
}
END_TEST

/* ---- bad inputs: exit 2, a message naming the culprit, and no statistics file ------------ */

static void expect_bad(const char *out_dir, const char *needle, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expect_bad(const char *out_dir, const char *needle, const char *fmt, ...) {
    char args[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int rc = cli("%s", args);
    ck_assert_msg(rc == 2, "exit %d for '%s': %s", rc, args, last_out);
    ck_assert_msg(strstr(last_out, needle), "'%s' not in: %s", needle, last_out);
    ck_assert_int_eq(ac_test_count_files(out_dir), 0);
}

START_TEST(bad_inputs) {
    const char *tmp = ac_test_tmpdir();
    char outd[4096], stats[4096], empty[4096], broken[4096];
    snprintf(outd, sizeof outd, "%s", ac_test_path(tmp, "out"));
    snprintf(empty, sizeof empty, "%s", ac_test_path(tmp, "empty"));
    snprintf(broken, sizeof broken, "%s", ac_test_path(tmp, "broken"));
    sh("mkdir -p '%s' '%s' '%s'", outd, empty, broken);
    snprintf(stats, sizeof stats, "%s/s.accal", outd);

    expect_bad(outd, "does not exist", "calibrate --model %s --data %s/nope --save-stats %s",
               model, tmp, stats);
    expect_bad(outd, "no images", "calibrate --model %s --data %s --save-stats %s", model, empty,
               stats);
    /* a truncated JPEG among good ones: the error names it */
    sh("cd '%s' && cp 00000.jpg 00001.jpg 00002.jpg 00003.jpg '%s/' && head -c 300 00004.jpg > "
       "'%s/00002b.jpg'",
       calib_dir, broken, broken);
    expect_bad(outd, "00002b.jpg", "calibrate --model %s --data %s --preprocess %s "
               "--save-stats %s", model, broken, yaml, stats);
    expect_bad(outd, "corrupt JPEG", "calibrate --model %s --data %s --preprocess %s --batch 2 "
               "--save-stats %s", model, broken, yaml, stats);
    expect_bad(outd, "method", "calibrate --model %s --data %s --method nope --save-stats %s",
               model, calib_dir, stats);
    const char *shards[] = {"2/2", "0/0", "a/b", "1", "-1/2"};
    for (size_t i = 0; i < sizeof shards / sizeof shards[0]; i++)
        expect_bad(outd, "shard", "calibrate --model %s --data %s --shard %s --save-stats %s",
                   model, calib_dir, shards[i], stats);
    expect_bad(outd, "--num-images", "calibrate --model %s --data %s --num-images 0 "
               "--save-stats %s", model, calib_dir, stats);
    expect_bad(outd, "--batch", "calibrate --model %s --data %s --batch x --save-stats %s",
               model, calib_dir, stats);
    expect_bad(outd, "--lanes", "calibrate --model %s --data %s --lanes 0 --save-stats %s",
               model, calib_dir, stats);
    expect_bad(outd, "needs", "calibrate --model %s --data %s", model, calib_dir);
    /* a shard with no images: 64 images, shard 70/100 */
    expect_bad(outd, "empty", "calibrate --model %s --data %s --shard 70/100 --save-stats %s",
               model, calib_dir, stats);
    /* no deploy yaml beside a copied model */
    sh("cp '%s' '%s/model.onnx'", model, tmp);
    expect_bad(outd, "no preprocessing", "calibrate --model %s/model.onnx --data %s "
               "--save-stats %s", tmp, calib_dir, stats);
    /* a sample that does not fit the input: the model's yaml replaced by a 28x28 one */
    char y28[4096];
    snprintf(y28, sizeof y28, "%s/y28.yaml", tmp);
    sh("sed 's/size: \\[32, 32\\]/size: [28, 28]/' '%s' > '%s'", yaml, y28);
    expect_bad(outd, "does not fit", "calibrate --model %s --data %s --preprocess %s "
               "--save-stats %s", model, calib_dir, y28, stats);
    /* merge: a file that is not statistics */
    expect_bad(outd, "", "merge %s %s", stats, yaml);
    ck_assert_int_eq(ac_test_count_files(outd), 0);
}
END_TEST

Suite *ac_test_driver_suite(void) {
    setup_paths();
    Suite *s = suite_create("driver");
    TCase *t = tcase_create("driver");
    tcase_set_timeout(t, 1500); /* sanitizer builds on a busy machine */
    tcase_add_test(t, calibrate_demo);
    tcase_add_test(t, shards_merge_exactly);
    tcase_add_test(t, num_images);
    tcase_add_test(t, tensor_inputs);
    tcase_add_test(t, library);
    tcase_add_test(t, lanes_match_one_lane);
    tcase_add_test(t, bad_inputs);
    suite_add_tcase(s, t);
    return s;
}
