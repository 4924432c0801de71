/* SPDX-License-Identifier: MIT */
/* Developer tool: what calibration statistics cost next to inference, per image.
 *
 *   calib_cost MODEL IMAGE_DIR [--num-images N] [--preprocess Y.yaml] [--reps R]
 *
 * Preprocesses N images (default 20), times plain inference on one thread, records every
 * activation `calibrate` would observe (the quantizer's needs for both modes' defaults), then
 * replays the recorded activations through a fresh collector R times (default 5), each tensor
 * copied into a cache-hot buffer before ac_calib_observe is timed, as it is when the session
 * has just written it. The first two images set the histogram widths and are not timed.
 * Prints ms per image for both and the ratio calibration would have if nothing else
 * differed. Used to show where MobileNetV2's calibration time goes (issue notes). */
#define _POSIX_C_SOURCE 200809L
#include "autocompress/ac_calib.h"
#include "autocompress/ac_data.h"
#include "autocompress/ac_driver.h"
#include "autocompress/ac_model.h"
#include "autocompress/ac_quant.h"
#include "autocompress/ac_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct rec {
    const char *name;
    int64_t numel;
    float *data;
} rec;

typedef struct recorder {
    char **names;
    int64_t n_names;
    rec *recs;
    int64_t n, cap;
} recorder;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int want(const ac_value *v, void *user) {
    const recorder *r = user;
    for (int64_t i = 0; i < r->n_names; i++)
        if (!strcmp(r->names[i], v->name)) return 1;
    return 0;
}

static ac_status record(const ac_value *v, const ac_tensor *t, void *user, ac_diag *d) {
    recorder *r = user;
    if (t->dtype != AC_DTYPE_F32) return AC_OK;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        rec *g = realloc(r->recs, (size_t)r->cap * sizeof *g);
        if (!g) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        r->recs = g;
    }
    rec *e = &r->recs[r->n++];
    e->name = v->name;
    e->numel = t->numel;
    e->data = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    if (!e->data) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    memcpy(e->data, t->data, (size_t)t->numel * sizeof(float));
    return AC_OK;
}

static int fail(const ac_diag *d) {
    fprintf(stderr, "calib_cost: %s%s%s\n", d->where, d->where[0] ? ": " : "", d->msg);
    return 1;
}

/* The union of what the quantizer reads for both modes' defaults (as `calibrate` does). */
static ac_status needed(const ac_model *m, recorder *r, ac_diag *d) {
    ac_quant_opts modes[2] = {{.mode = AC_QUANT_ORT}, {.mode = AC_QUANT_TENSORRT}};
    for (int k = 0; k < 2; k++) {
        char **names;
        int64_t n;
        AC_TRY(ac_quant_needed(m, &modes[k], &names, &n, d));
        char **all = realloc(r->names, (size_t)(r->n_names + n + 1) * sizeof *all);
        if (!all) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        r->names = all;
        for (int64_t i = 0; i < n; i++) {
            int dup = 0;
            for (int64_t j = 0; j < r->n_names && !dup; j++) dup = !strcmp(all[j], names[i]);
            all[r->n_names] = dup ? NULL : strdup(names[i]);
            if (!dup) r->n_names++;
        }
        ac_quant_names_free(names, n);
    }
    return AC_OK;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fputs("usage: calib_cost MODEL IMAGE_DIR [--num-images N] [--preprocess Y.yaml] "
              "[--reps R]\n", stderr);
        return 2;
    }
    const char *model = argv[1], *dir = argv[2], *yaml = NULL;
    int64_t n_img = 20;
    int reps = 5;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--num-images")) n_img = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--preprocess")) yaml = argv[i + 1];
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
    }
    if (n_img < 3 || reps < 1) return fputs("calib_cost: needs 3+ images, 1+ reps\n", stderr), 2;
    ac_diag d = {0};
    ac_model *m;
    if (ac_model_load(model, NULL, &m, &d) != AC_OK) return fail(&d);
    char found[4200];
    if (!yaml && ac_driver_find_deploy_yaml(model, found, sizeof found)) yaml = found;
    if (!yaml) return fputs("calib_cost: no deploy yaml beside the model\n", stderr), 1;
    ac_pipeline *pipe;
    char **paths;
    int64_t n_paths;
    if (ac_pipeline_from_yaml(yaml, NULL, &pipe, &d) != AC_OK ||
        ac_driver_list_images(dir, 0, &paths, &n_paths, &d) != AC_OK)
        return fail(&d);
    if (n_img > n_paths) n_img = n_paths;

    /* preprocessed inputs, kept so decoding is not timed */
    float **inputs = calloc((size_t)n_img, sizeof *inputs);
    int64_t dims[4] = {1, 0, 0, 0};
    size_t numel = 0;
    for (int64_t i = 0; i < n_img; i++) {
        ac_image img = {0};
        ac_pre_result pr;
        if (ac_image_read(paths[i], ac_pipeline_decode_opts(pipe), &img, &d) != AC_OK ||
            ac_pipeline_run(pipe, &img, &pr, &d) != AC_OK)
            return fail(&d);
        dims[1] = pr.channels, dims[2] = pr.height, dims[3] = pr.width, numel = pr.numel;
        inputs[i] = malloc(numel * sizeof(float));
        memcpy(inputs[i], pr.data, numel * sizeof(float));
        ac_image_release(&img);
    }
    const ac_graph *g = ac_model_graph(m);
    const char *in_name = g->inputs[0]->name;
    for (int64_t i = 0; i < g->n_inputs; i++)
        if (!(g->inputs[i]->flags & AC_VALUE_INITIALIZER)) in_name = g->inputs[i]->name;

    recorder r = {0};
    if (needed(m, &r, &d) != AC_OK) return fail(&d);
    ac_session_opts plain_o = {.threads = 1};
    ac_session_opts rec_o = {.threads = 1, .want = want, .observe = record, .observer_user = &r};
    ac_session *plain, *recs;
    if (ac_session_new(g, ac_model_opset(m, ""), &plain_o, &plain, &d) != AC_OK ||
        ac_session_new(g, ac_model_opset(m, ""), &rec_o, &recs, &d) != AC_OK)
        return fail(&d);
    double best_infer = 1e30;
    int64_t first_timed = 0;
    for (int rep = 0; rep <= reps; rep++) {
        double t = 0;
        for (int64_t i = 0; i < n_img; i++) {
            ac_tensor in = {.name = in_name, .dtype = AC_DTYPE_F32, .rank = 4, .dims = dims,
                            .numel = (int64_t)numel, .data = inputs[i],
                            .nbytes = numel * sizeof(float)};
            const ac_tensor *out;
            int32_t n_out;
            double t0 = now_s();
            if (ac_session_run(plain, 1, &in, &out, &n_out, &d) != AC_OK) return fail(&d);
            t += now_s() - t0;
            if (rep == 0) {
                if (i == 2) first_timed = r.n;
                if (ac_session_run(recs, 1, &in, &out, &n_out, &d) != AC_OK) return fail(&d);
            }
        }
        if (rep > 0 && t < best_infer) best_infer = t; /* rep 0 warms up */
    }

    size_t hot_n = 1;
    for (int64_t i = 0; i < r.n; i++)
        if ((size_t)r.recs[i].numel > hot_n) hot_n = (size_t)r.recs[i].numel;
    float *hot = malloc(hot_n * sizeof *hot);
    double best_stats = 1e30;
    int64_t values = 0;
    for (int rep = 0; rep < reps; rep++) {
        ac_calib *c;
        if (ac_calib_new(NULL, &c, &d) != AC_OK) return fail(&d);
        double t = 0;
        values = 0;
        for (int64_t i = 0; i < r.n; i++) {
            rec *e = &r.recs[i];
            memcpy(hot, e->data, (size_t)e->numel * sizeof *hot);
            int64_t td[2] = {1, e->numel};
            ac_tensor tt = {.dtype = AC_DTYPE_F32, .rank = 2, .dims = td, .numel = e->numel,
                            .data = hot, .nbytes = (size_t)e->numel * sizeof *hot};
            double t0 = now_s();
            if (ac_calib_observe(c, e->name, &tt, 0, &d) != AC_OK) return fail(&d);
            if (i >= first_timed) t += now_s() - t0, values += e->numel;
        }
        if (t < best_stats) best_stats = t;
        ac_calib_free(c);
    }
    int64_t timed = n_img - 2;
    double infer_ms = best_infer / (double)n_img * 1e3, stats_ms = best_stats / (double)timed * 1e3;
    printf("%s: %lld images, %lld observed tensors, %lld values per image\n", model,
           (long long)n_img, (long long)(r.n / n_img), (long long)(values / timed));
    printf("inference %.3f ms/image (1 thread), statistics %.3f ms/image (replayed, hot), "
           "ratio %.3f; 1.15x leaves %.3f ms\n",
           infer_ms, stats_ms, 1.0 + stats_ms / infer_ms, 0.15 * infer_ms);
    return 0;
}
