/* SPDX-License-Identifier: MIT */
/* autocompress quantize --model M (--stats F | --data DIR [calibration options]) --out DIR
 *                       [--mode ort|tensorrt] [--method NAME] [--hist-percent P]
 *                       [--per-tensor] [--skip-tensors a,b] [--skip-nodes a,b]
 *                       [--skip-regex RE] [--op-types Conv,Gemm] [--deploy-yaml FILE]
 * Builds the INT8 QDQ model from saved statistics or from a calibration run, and writes it
 * with its calibration tables and deploy yaml (ac_quant_write_outputs). */
#include "cli.h"
#include "cli_calib.h"

#include "autocompress/ac_model.h"
#include "autocompress/ac_quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char quantize_usage[] =
    "usage: autocompress quantize --model MODEL (--stats FILE | --data DIR [options])\n"
    "                             --out DIR [quantization options]\n"
    "Writes DIR/model.onnx (INT8 QDQ), calibration.cache, calibration.json,\n"
    "calibration_table.txt and the deploy yaml.\n"
    "  --stats FILE          statistics from 'autocompress calibrate' (or merge);\n"
    "                        --load-stats FILE is the same\n"
    "  --save-stats FILE     with --data: also save the statistics\n"
    "  --mode ort|tensorrt   placement and activation type (default ort)\n"
    "  --method NAME         abs_max, min_max, avg, hist, KL, mse, emd (default KL)\n"
    "  --hist-percent P      quantile for hist, in (0, 1] (default 0.9999)\n"
    "  --per-tensor          one weight scale per tensor instead of per channel\n"
    "  --skip-tensors a,b    keep these activations in float\n"
    "  --skip-nodes a,b      keep these nodes in float\n"
    "  --skip-regex RE       keep nodes whose name matches RE (POSIX extended) in float\n"
    "  --op-types Conv,Gemm  op types to quantize (default: the mode's set)\n"
    "  --deploy-yaml FILE    deploy yaml to copy (default: the one beside MODEL)\n"
    "calibration options (with --data or --inputs):\n";

/* A comma-separated list as an array of strings (one malloc'd copy, split in place). Empty
 * items are refused: "a,,b" is a typo, not a request to match the empty name. */
typedef struct name_list {
    char *buf;
    const char **v;
    int32_t n;
} name_list;

static int split_list(const char *opt, const char *s, name_list *l) {
    free(l->buf);
    free(l->v);
    memset(l, 0, sizeof *l);
    size_t len = strlen(s);
    l->buf = malloc(len + 1);
    l->v = calloc(len / 2 + 2, sizeof *l->v);
    if (!l->buf || !l->v) return ac_cli_usage_error("quantize", "out of memory");
    memcpy(l->buf, s, len + 1);
    for (char *p = l->buf;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        if (!*p) return ac_cli_usage_error("quantize", "%s: empty name in '%s'", opt, s);
        l->v[l->n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

int ac_cmd_quantize(int argc, char **argv) {
    ac_cli_calib_args a;
    if (ac_cli_calib_init(&a, argc)) {
        fprintf(stderr, "autocompress: out of memory\n");
        return AC_EXIT_FAILURE;
    }
    const char *stats_path = NULL, *out_dir = NULL, *deploy_yaml = NULL;
    name_list skip_t = {0}, skip_n = {0}, ops = {0};
    ac_calib_method_opts mo = {0};
    ac_quant_opts qo = {.mode = AC_QUANT_ORT, .method = AC_CALIB_KL};
    ac_diag d = {0};
    ac_model *m = NULL, *q = NULL;
    ac_quant_table *t = NULL;
    ac_calib *stats = NULL;
    int rc = AC_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r = ac_cli_calib_option("quantize", argc, argv, &i, &a);
        if (r < 0) {
            rc = AC_EXIT_BAD_INPUT;
            goto out;
        }
        if (r > 0) continue;
        if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
            fputs(quantize_usage, stdout);
            fputs(ac_cli_calib_usage, stdout);
            goto out;
        } else if (!strcmp(opt, "--per-tensor")) {
            qo.per_tensor_weights = 1;
            continue;
        }
        if (!v || opt[0] != '-') {
            rc = ac_cli_usage_error("quantize", "unknown or incomplete option '%s'", opt);
            goto out;
        }
        i++;
        if (!strcmp(opt, "--stats") || !strcmp(opt, "--load-stats")) {
            stats_path = v;
        } else if (!strcmp(opt, "--out")) {
            out_dir = v;
        } else if (!strcmp(opt, "--deploy-yaml")) {
            deploy_yaml = v;
        } else if (!strcmp(opt, "--mode")) {
            if (ac_quant_mode_parse(v, &qo.mode, &d) != AC_OK) {
                rc = ac_cli_usage_error("quantize", "%s", d.msg);
                goto out;
            }
        } else if (!strcmp(opt, "--method")) {
            if (ac_calib_method_parse(v, &qo.method, &d) != AC_OK) {
                rc = ac_cli_usage_error("quantize", "%s", d.msg);
                goto out;
            }
        } else if (!strcmp(opt, "--hist-percent")) {
            char *end;
            double p = strtod(v, &end);
            if (*end || !(p > 0 && p <= 1)) {
                rc = ac_cli_usage_error("quantize", "--hist-percent needs a number in (0, 1], "
                                                    "got '%s'", v);
                goto out;
            }
            mo.hist_percent = p;
        } else if (!strcmp(opt, "--skip-tensors")) {
            if ((rc = split_list(opt, v, &skip_t))) goto out;
        } else if (!strcmp(opt, "--skip-nodes")) {
            if ((rc = split_list(opt, v, &skip_n))) goto out;
        } else if (!strcmp(opt, "--op-types")) {
            if ((rc = split_list(opt, v, &ops))) goto out;
        } else if (!strcmp(opt, "--skip-regex")) {
            qo.skip_node_regex = v;
        } else {
            rc = ac_cli_usage_error("quantize", "unknown option '%s'", opt);
            goto out;
        }
    }
    int calibrating = a.o.images_dir || a.n_inputs > 0;
    if (!a.model || !out_dir || (!stats_path && !calibrating)) {
        rc = ac_cli_usage_error("quantize", "needs --model, --out DIR and --stats FILE or "
                                            "--data DIR");
        goto out;
    }
    if (stats_path && calibrating) {
        rc = ac_cli_usage_error("quantize", "give --stats or --data/--inputs, not both");
        goto out;
    }
    if (a.o.images_dir && a.n_inputs > 0) {
        rc = ac_cli_usage_error("quantize", "give --data or --inputs, not both");
        goto out;
    }
    if (a.save_stats && !calibrating) {
        rc = ac_cli_usage_error("quantize", "--save-stats needs --data or --inputs");
        goto out;
    }
    qo.method_opts = &mo;
    qo.skip_tensors = skip_t.v;
    qo.n_skip_tensors = skip_t.n;
    qo.skip_nodes = skip_n.v;
    qo.n_skip_nodes = skip_n.n;
    qo.op_types = ops.v;
    qo.n_op_types = ops.n;

    /* before any work: --out must not be where the FP32 model lives */
    if (ac_quant_check_out_dir(a.model, out_dir, &d) != AC_OK) goto fail;
    if ((rc = ac_cli_calib_check_outputs("quantize", &a)) != AC_EXIT_OK) goto out;
    if (ac_model_load(a.model, NULL, &m, &d) != AC_OK) goto fail;
    if (stats_path) {
        if (ac_calib_load(stats_path, NULL, &stats, &d) != AC_OK) goto fail;
    } else {
        rc = ac_cli_calibrate(m, &a, &qo, &stats);
        if (rc != AC_EXIT_OK) goto out;
        if (a.save_stats && ac_calib_save(stats, a.save_stats, &d) != AC_OK) goto fail;
    }
    if (ac_quantize(m, stats, &qo, &q, &t, &d) != AC_OK) {
        ac_diag_prefix(&d, "%s", a.model);
        goto fail;
    }
    if (ac_quant_write_outputs(q, t, a.model, out_dir, deploy_yaml, &d) != AC_OK) goto fail;
    printf("quantized %lld activations (mode %s, method %s) -> %s\n",
           (long long)ac_quant_table_count(t), ac_quant_mode_name(qo.mode),
           ac_calib_method_name(qo.method), out_dir);
    goto out;
fail:
    rc = ac_cli_report(&d);
out:
    ac_quant_table_free(t);
    ac_model_free(q);
    ac_model_free(m);
    ac_calib_free(stats);
    free(skip_t.buf);
    free(skip_t.v);
    free(skip_n.buf);
    free(skip_n.v);
    free(ops.buf);
    free(ops.v);
    ac_cli_calib_release(&a);
    return rc;
}
