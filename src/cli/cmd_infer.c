/* SPDX-License-Identifier: MIT */
/* autocompress infer MODEL IN_0.pb [IN_1.pb ...] --out DIR [--threads N] [--isa LEVEL]
 * Runs the model on ONNX TensorProto files and writes DIR/output_K.pb, the layout of ONNX's
 * test_data_set folders (and of ort_run.js run). */
#include "cli.h"

#include "autocompress/ac_model.h"
#include "autocompress/ac_session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_INPUTS 64

static const char infer_usage[] =
    "usage: autocompress infer MODEL IN_0.pb [IN_1.pb ...] --out DIR [--threads N]\n"
    "                          [--isa ref|blas|avx2|avx512]\n"
    "Runs MODEL on ONNX TensorProto inputs (matched to the model's inputs in order) and writes\n"
    "DIR/output_K.pb for each model output, atomically.\n";

int ac_cmd_infer(int argc, char **argv) {
    const char *model = NULL, *out_dir = NULL;
    const char *ins[MAX_INPUTS];
    int n_in = 0;
    ac_session_opts so = {0};
    ac_diag d = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(infer_usage, stdout);
            return AC_EXIT_OK;
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 1024)
                return ac_cli_usage_error("infer", "--threads needs a number from 1 to 1024");
            so.threads = (int32_t)t;
        } else if (!strcmp(a, "--isa") && i + 1 < argc) {
            if (ac_isa_parse(argv[++i], &so.isa, &d) != AC_OK) return ac_cli_report(&d);
        } else if (a[0] == '-') {
            return ac_cli_usage_error("infer", "unknown or incomplete option '%s'", a);
        } else if (!model) {
            model = a;
        } else if (n_in < MAX_INPUTS) {
            ins[n_in++] = a;
        } else {
            return ac_cli_usage_error("infer", "more than %d inputs", MAX_INPUTS);
        }
    }
    if (!model || !out_dir) return ac_cli_usage_error("infer", "needs MODEL, inputs and --out DIR");

    ac_model *m = NULL;
    ac_session *s = NULL;
    ac_graph *owners[MAX_INPUTS] = {0};
    ac_tensor in[MAX_INPUTS];
    int rc = AC_EXIT_OK;
    if (ac_model_load(model, NULL, &m, &d) != AC_OK) return ac_cli_report(&d);
    for (int k = 0; k < n_in; k++) {
        ac_tensor *t;
        if (ac_tensor_read_pb(ins[k], &t, &owners[k], &d) != AC_OK) goto fail;
        in[k] = *t;
        in[k].name = NULL; /* match by position, as ort_run.js does */
    }
    if (ac_session_new(ac_model_graph(m), ac_model_opset(m, ""), &so, &s, &d) != AC_OK) {
        ac_diag_prefix(&d, "%s", model);
        goto fail;
    }
    const ac_tensor *outs;
    int32_t n_out;
    if (ac_session_run(s, n_in, in, &outs, &n_out, &d) != AC_OK) {
        ac_diag_prefix(&d, "%s", model);
        goto fail;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        ac_fail_io(&d, errno, "cannot create %s", out_dir);
        goto fail;
    }
    for (int32_t k = 0; k < n_out; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/output_%d.pb", out_dir, (int)k);
        if (ac_tensor_write_pb(path, &outs[k], outs[k].name, &d) != AC_OK) goto fail;
    }
    goto done;
fail:
    rc = ac_cli_report(&d);
done:
    ac_session_free(s);
    for (int k = 0; k < n_in; k++) ac_graph_free(owners[k]);
    ac_model_free(m);
    return rc;
}
