/* SPDX-License-Identifier: MIT */
/* End to end over the shared models (skipped without ../shared): calibrate with our engine on
 * the reference batch, quantize in both modes, write the output folder, reload the QDQ model,
 * run it and the FP32 model with our engine and compare (cosine, SQNR); quantizing twice must
 * give byte-identical files. */
#include "autocompress/ac_session.h"
#include "quant_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const struct {
    const char *name;
    double min_cos;  /* QDQ vs FP32, our engine, on the reference batch */
    double min_sqnr; /* dB */
} models[] = {
    {"cls_resnet20", 0.98, 20.0},
    {"cls_mobilenetv2", 0.98, 20.0},
    {"det_yolo", 0.99, 25.0},
    {"seg_unet", 0.98, 15.0},
};

/* Runs m on x; returns a malloc'd copy of output 0 (and its size). With c, calibrates. */
static float *run(const ac_model *m, const ac_tensor *x, ac_calib *c, int64_t *n) {
    ac_diag d = {0};
    ac_session *s;
    ac_session_opts o = {.threads = 0};
    if (c) o.want = ac_calib_want, o.observe = ac_calib_observer, o.observer_user = c;
    ck_assert_msg(ac_session_new(ac_model_graph(m), ac_model_opset(m, ""), &o, &s, &d) == AC_OK,
                  "session: %s: %s", d.where, d.msg);
    ac_tensor in = *x;
    in.name = NULL;
    const ac_tensor *outs;
    int32_t no;
    if (c) ac_calib_set_image(c, 0);
    ck_assert_msg(ac_session_run(s, 1, &in, &outs, &no, &d) == AC_OK, "run: %s: %s", d.where,
                  d.msg);
    float *y = malloc(outs[0].nbytes);
    memcpy(y, outs[0].data, outs[0].nbytes);
    *n = outs[0].numel;
    ac_session_free(s);
    return y;
}

static void compare(const float *ref, const float *got, int64_t n, double *cosv, double *sqnr) {
    double dot = 0, nr = 0, ng = 0, err = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = (double)ref[i] - got[i];
        dot += (double)ref[i] * got[i], nr += (double)ref[i] * ref[i];
        ng += (double)got[i] * got[i], err += e * e;
    }
    *cosv = nr > 0 && ng > 0 ? dot / sqrt(nr * ng) : 0.0;
    *sqnr = err > 0 ? 10.0 * log10(nr / err) : INFINITY;
}

static int same_file(const char *a, const char *b) {
    size_t na, nb;
    uint8_t *x = ac_test_read_file(a, &na), *y = ac_test_read_file(b, &nb);
    int same = na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

START_TEST(shared_models) {
    const char *shared = ac_test_shared_dir();
    if (!shared) {
        fprintf(stderr, "quant e2e: skipped (no shared folder)\n");
        return;
    }
    const char *name = models[_i].name;
    char path[1024], in_path[1024];
    snprintf(path, sizeof path, "%s/models/%s/model.onnx", shared, name);
    snprintf(in_path, sizeof in_path, "%s/models/%s/ref/test_data_set_0/input_0.pb", shared, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "quant e2e: %s skipped (missing)\n", name);
        return;
    }
    fclose(f);
    ac_diag d = {0};
    ac_model *m;
    ac_tensor *x;
    ac_graph *xo;
    ac_calib *c;
    ck_assert_msg(ac_model_load(path, NULL, &m, &d) == AC_OK, "%s", d.msg);
    ck_assert_msg(ac_tensor_read_pb(in_path, &x, &xo, &d) == AC_OK, "%s", d.msg);
    ck_assert(ac_calib_new(NULL, &c, &d) == AC_OK);
    int64_t n_ref;
    float *ref = run(m, x, c, &n_ref);
    const char *tmp = ac_test_tmpdir();
    for (int mode = 0; mode < AC_QUANT_MODE_COUNT; mode++) {
        ac_quant_opts o = {.mode = (ac_quant_mode)mode, .method = AC_CALIB_ABS_MAX};
        char dir[2][1100];
        for (int rep = 0; rep < 2; rep++) {
            ac_model *q;
            ac_quant_table *t;
            ck_assert_msg(ac_quantize(m, c, &o, &q, &t, &d) == AC_OK, "%s %s: %s: %s", name,
                          ac_quant_mode_name(o.mode), d.where, d.msg);
            snprintf(dir[rep], sizeof dir[rep], "%s/%s.%s.%d", tmp, name,
                     ac_quant_mode_name(o.mode), rep);
            ck_assert_msg(ac_quant_write_outputs(q, t, path, dir[rep], NULL, &d) == AC_OK, "%s",
                          d.msg);
            ac_quant_table_free(t);
            ac_model_free(q);
        }
        /* determinism: every file byte-identical between the two runs */
        static const char *const files[] = {"model.onnx", "calibration.cache",
                                            "calibration.json", "calibration_table.txt"};
        for (size_t k = 0; k < 4; k++) {
            char a[1200], b[1200];
            snprintf(a, sizeof a, "%s/%s", dir[0], files[k]);
            snprintf(b, sizeof b, "%s/%s", dir[1], files[k]);
            ck_assert_msg(same_file(a, b), "%s %s: %s differs between runs", name,
                          ac_quant_mode_name(o.mode), files[k]);
        }
        ck_assert_int_eq(ac_test_count_files(dir[0]), 5); /* + the deploy yaml */
        /* reload and run the QDQ model with our engine */
        char qp[1200];
        snprintf(qp, sizeof qp, "%s/model.onnx", dir[0]);
        ac_model *q;
        ck_assert_msg(ac_model_load(qp, NULL, &q, &d) == AC_OK, "%s", d.msg);
        ck_assert_int_ge(ac_model_opset(q, ""), 13);
        int64_t n_q;
        float *y = run(q, x, NULL, &n_q);
        ck_assert_int_eq(n_q, n_ref);
        double cosv, sqnr;
        compare(ref, y, n_ref, &cosv, &sqnr);
        fprintf(stderr, "quant e2e: %-16s %-8s cosine %.6f  SQNR %.2f dB\n", name,
                ac_quant_mode_name(o.mode), cosv, sqnr);
        ck_assert_msg(cosv > models[_i].min_cos && sqnr > models[_i].min_sqnr,
                      "%s %s: cosine %.6f, SQNR %.2f dB", name, ac_quant_mode_name(o.mode), cosv,
                      sqnr);
        /* re-running gives identical outputs */
        int64_t n2;
        float *y2 = run(q, x, NULL, &n2);
        ck_assert(!memcmp(y, y2, (size_t)n2 * sizeof *y2));
        free(y2);
        free(y);
        ac_model_free(q);
    }
    free(ref);
    ac_calib_free(c);
    ac_graph_free(xo);
    ac_model_free(m);
}
END_TEST

Suite *ac_test_quant_e2e_suite(void) {
    Suite *s = suite_create("quant_e2e");
    TCase *tc = tcase_create("shared_models");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, shared_models, 0, (int)(sizeof models / sizeof models[0]));
    suite_add_tcase(s, tc);
    return s;
}
