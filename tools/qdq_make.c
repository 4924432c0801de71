/* SPDX-License-Identifier: MIT */
/* Developer tool for the QDQ oracle (tests/oracle/ort_qdq.sh):
 *
 *   qdq_make quantize MODEL IN.pb OUT_DIR [--mode ort|tensorrt] [--method NAME] [--per-tensor]
 *       calibrates MODEL on the batch in IN.pb with our engine, quantizes it and writes OUT_DIR
 *       (model.onnx, calibration.cache / .json / _table.txt, the deploy yaml);
 *   qdq_make compare REF.pb GOT.pb [--bound B] [--step S]
 *       prints cosine, SQNR (dB) and max |ref - got| of two tensors; with --bound, exits 1
 *       when an element differs by more than B; with --step, the shares of elements within S
 *       and of bit-identical elements, the count of elements farther than S (the shares are
 *       rounded; this is exact) and the largest difference in steps;
 *   qdq_make step MODEL
 *       prints, per graph output, the largest scale among the activation DequantizeLinear
 *       nodes nearest above it (the quantization step of what feeds that output). */
#include "autocompress/ac_calib.h"
#include "autocompress/ac_model.h"
#include "autocompress/ac_quant.h"
#include "autocompress/ac_session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const ac_diag *d) {
    char line[900];
    fprintf(stderr, "qdq_make: %s\n", ac_diag_line(d, line, sizeof line));
    return 1;
}

static int cmd_quantize(int argc, char **argv) {
    if (argc < 5) return fputs("qdq_make quantize MODEL IN.pb OUT_DIR [...]\n", stderr), 2;
    ac_quant_opts o = {.mode = AC_QUANT_ORT, .method = AC_CALIB_ABS_MAX};
    ac_diag d = {0};
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
            if (ac_quant_mode_parse(argv[++i], &o.mode, &d) != AC_OK) return fail(&d);
        } else if (!strcmp(argv[i], "--method") && i + 1 < argc) {
            if (ac_calib_method_parse(argv[++i], &o.method, &d) != AC_OK) return fail(&d);
        } else if (!strcmp(argv[i], "--per-tensor")) {
            o.per_tensor_weights = 1;
        } else {
            return fprintf(stderr, "qdq_make: unknown option %s\n", argv[i]), 2;
        }
    }
    ac_model *m = NULL, *q = NULL;
    ac_graph *owner = NULL;
    ac_tensor *in = NULL;
    ac_calib *c = NULL;
    ac_session *s = NULL;
    ac_quant_table *t = NULL;
    int rc = 1;
    ac_session_opts so = {.threads = 0, .want = ac_calib_want, .observe = ac_calib_observer};
    if (ac_model_load(argv[2], NULL, &m, &d) != AC_OK ||
        ac_tensor_read_pb(argv[3], &in, &owner, &d) != AC_OK ||
        ac_calib_new(NULL, &c, &d) != AC_OK)
        goto done;
    so.observer_user = c;
    ac_tensor x = *in;
    x.name = NULL; /* match the model's first input by position */
    const ac_tensor *outs;
    int32_t n_out;
    if (ac_session_new(ac_model_graph(m), ac_model_opset(m, ""), &so, &s, &d) != AC_OK)
        goto done;
    ac_calib_set_image(c, 0);
    if (ac_session_run(s, 1, &x, &outs, &n_out, &d) != AC_OK ||
        ac_quantize(m, c, &o, &q, &t, &d) != AC_OK ||
        ac_quant_write_outputs(q, t, argv[2], argv[4], NULL, &d) != AC_OK)
        goto done;
    printf("%s: %s/%s, %lld tensors quantized\n", argv[4], ac_quant_mode_name(o.mode),
           ac_calib_method_name(o.method), (long long)ac_quant_table_count(t));
    rc = 0;
done:
    if (rc) fail(&d);
    ac_session_free(s);
    ac_quant_table_free(t);
    ac_calib_free(c);
    ac_graph_free(owner);
    ac_model_free(q);
    ac_model_free(m);
    return rc;
}

static int cmd_compare(int argc, char **argv) {
    if (argc < 4) return fputs("qdq_make compare REF.pb GOT.pb [--bound B] [--step S]\n",
                               stderr), 2;
    double bound = -1.0, step = 0.0;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--bound")) bound = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--step")) step = atof(argv[i + 1]);
    }
    ac_diag d = {0};
    ac_tensor *a, *b;
    ac_graph *oa = NULL, *ob = NULL;
    if (ac_tensor_read_pb(argv[2], &a, &oa, &d) != AC_OK ||
        ac_tensor_read_pb(argv[3], &b, &ob, &d) != AC_OK) {
        ac_graph_free(oa);
        return fail(&d);
    }
    int rc = 0;
    if (a->dtype != AC_DTYPE_F32 || b->dtype != AC_DTYPE_F32 || a->numel != b->numel) {
        fprintf(stderr, "qdq_make: %s and %s differ in type or size\n", argv[2], argv[3]);
        rc = 1;
    } else {
        const float *x = a->data, *y = b->data;
        double dot = 0, nx = 0, ny = 0, err = 0, maxd = 0;
        int64_t within = 0, exact = 0;
        for (int64_t i = 0; i < a->numel; i++) {
            double e = (double)x[i] - (double)y[i];
            within += fabs(e) <= step;
            exact += x[i] == y[i];
            dot += (double)x[i] * y[i], nx += (double)x[i] * x[i], ny += (double)y[i] * y[i];
            err += e * e;
            if (fabs(e) > maxd) maxd = fabs(e);
        }
        double cosv = nx > 0 && ny > 0 ? dot / sqrt(nx * ny) : (nx == ny ? 1.0 : 0.0);
        double sqnr = err > 0 ? 10.0 * log10(nx / err) : INFINITY;
        printf("cosine %.6f sqnr_db %.2f max_abs %.6g", cosv, sqnr, maxd);
        if (step > 0)
            printf(" step %.6g within_one_step %.4f bit_exact %.4f outside_one_step %lld"
                   " max_steps %.3g", step,
                   a->numel ? (double)within / (double)a->numel : 1.0,
                   a->numel ? (double)exact / (double)a->numel : 1.0,
                   (long long)(a->numel - within), maxd / step);
        if (bound >= 0) {
            printf(" bound %.6g", bound);
            if (maxd > bound) rc = 1;
        }
        printf("\n");
    }
    ac_graph_free(oa);
    ac_graph_free(ob);
    return rc;
}

/* Largest activation DQ scale reached going up from v without passing another DQ. */
static float step_above(const ac_value *v, int depth) {
    const ac_node *n = v ? v->producer : NULL;
    if (!n || depth > 64) return 0.0f;
    if (!strcmp(n->op_type, "DequantizeLinear")) {
        const ac_value *qv = n->inputs[0];
        if (qv->flags & AC_VALUE_INITIALIZER) return 0.0f; /* a weight, not an activation */
        const ac_tensor *st = n->inputs[1]->init;
        return st && st->numel == 1 ? *(const float *)st->data : 0.0f;
    }
    float best = 0.0f;
    for (int32_t j = 0; j < n->n_inputs; j++) {
        float s = step_above(n->inputs[j], depth + 1);
        if (s > best) best = s;
    }
    return best;
}

static int cmd_step(int argc, char **argv) {
    if (argc < 3) return fputs("qdq_make step MODEL\n", stderr), 2;
    ac_diag d = {0};
    ac_model *m;
    if (ac_model_load(argv[2], NULL, &m, &d) != AC_OK) return fail(&d);
    const ac_graph *g = ac_model_graph(m);
    for (int64_t i = 0; i < g->n_outputs; i++)
        printf("output_%lld %.9g\n", (long long)i, (double)step_above(g->outputs[i], 0));
    ac_model_free(m);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "quantize")) return cmd_quantize(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "compare")) return cmd_compare(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "step")) return cmd_step(argc, argv);
    fputs("usage: qdq_make quantize|compare|step ...\n", stderr);
    return 2;
}
