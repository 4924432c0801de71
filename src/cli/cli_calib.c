/* SPDX-License-Identifier: MIT */
/* Calibration options shared by `calibrate` and `quantize`, and the run that uses them. */
#include "cli_calib.h"

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char ac_cli_calib_usage[] =
    "  --data DIR            calibration images (jpg/jpeg/png, recursive, sorted by path)\n"
    "  --inputs A.pb...      or ONNX TensorProto files, samples along axis 0\n"
    "  --preprocess Y.yaml   deploy yaml to preprocess with (default: inference_cls.yaml,\n"
    "                        infer_cfg.yml or deploy.yaml beside MODEL)\n"
    "  --num-images N        use the first N images (after sharding)\n"
    "  --shard i/n           every n-th image starting at i (shards merge exactly)\n"
    "  --batch N             images per run (default 1)\n"
    "  --threads N           threads in all (default: all cores)\n"
    "  --lanes N             images run side by side, the threads shared among them\n"
    "                        (default: one per thread while their activations fit in 2 GiB)\n"
    "  --isa LEVEL           kernel cap: ref, blas, avx2, avx512\n"
    "  --all-tensors         collect every float activation, not only those the quantizer\n"
    "                        reads (slower: observed tensors block fusions)\n";

int ac_cli_calib_check_outputs(const char *cmd, const ac_cli_calib_args *a) {
    if (a->save_stats && ac_file_same(a->model, a->save_stats))
        return ac_cli_usage_error(cmd, "--save-stats %s is the model itself", a->save_stats);
    for (int i = 0; a->save_stats && i < a->n_inputs; i++)
        if (ac_file_same(a->inputs[i], a->save_stats))
            return ac_cli_usage_error(cmd, "--save-stats %s is one of the inputs",
                                      a->save_stats);
    return AC_EXIT_OK;
}

int ac_cli_calib_init(ac_cli_calib_args *a, int argc) {
    memset(a, 0, sizeof *a);
    a->inputs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *a->inputs);
    return a->inputs ? 0 : -1;
}

void ac_cli_calib_release(ac_cli_calib_args *a) {
    free(a->inputs);
    a->inputs = NULL;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    if (!s || !*s) return -1;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int ac_cli_calib_option(const char *cmd, int argc, char **argv, int *i, ac_cli_calib_args *a) {
    const char *opt = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long n;
    if (!strcmp(opt, "--all-tensors")) {
        a->all_tensors = 1;
        return 1;
    }
    if (!strcmp(opt, "--inputs")) {
        int k = *i + 1;
        while (k < argc && strncmp(argv[k], "--", 2) != 0)
            a->inputs[a->n_inputs++] = argv[k++];
        if (k == *i + 1) {
            ac_cli_usage_error(cmd, "--inputs needs at least one TensorProto file");
            return -1;
        }
        *i = k - 1;
        return 1;
    }
    if (strcmp(opt, "--model") && strcmp(opt, "--data") && strcmp(opt, "--preprocess") &&
        strcmp(opt, "--num-images") && strcmp(opt, "--shard") && strcmp(opt, "--batch") &&
        strcmp(opt, "--threads") && strcmp(opt, "--lanes") && strcmp(opt, "--isa") &&
        strcmp(opt, "--save-stats"))
        return 0;
    if (!v) {
        ac_cli_usage_error(cmd, "%s needs a value", opt);
        return -1;
    }
    (*i)++;
    if (!strcmp(opt, "--model")) {
        a->model = v;
    } else if (!strcmp(opt, "--data")) {
        a->o.images_dir = v;
    } else if (!strcmp(opt, "--preprocess")) {
        a->o.preprocess_yaml = v;
    } else if (!strcmp(opt, "--save-stats")) {
        a->save_stats = v;
    } else if (!strcmp(opt, "--num-images")) {
        if (parse_long(v, 1, 1000000000L, &n)) {
            ac_cli_usage_error(cmd, "--num-images needs a positive number, got '%s'", v);
            return -1;
        }
        a->o.num_images = n;
    } else if (!strcmp(opt, "--batch")) {
        if (parse_long(v, 1, 65536, &n)) {
            ac_cli_usage_error(cmd, "--batch needs a number from 1 to 65536, got '%s'", v);
            return -1;
        }
        a->o.batch = (int32_t)n;
    } else if (!strcmp(opt, "--threads")) {
        if (parse_long(v, 1, 1024, &n)) {
            ac_cli_usage_error(cmd, "--threads needs a number from 1 to 1024, got '%s'", v);
            return -1;
        }
        a->o.threads = (int32_t)n;
    } else if (!strcmp(opt, "--lanes")) {
        if (parse_long(v, 1, 1024, &n)) {
            ac_cli_usage_error(cmd, "--lanes needs a number from 1 to 1024, got '%s'", v);
            return -1;
        }
        a->o.lanes = (int32_t)n;
    } else if (!strcmp(opt, "--shard")) {
        ac_diag d = {0};
        if (ac_driver_parse_shard(v, &a->o.shard_index, &a->o.shard_count, &d) != AC_OK) {
            ac_cli_usage_error(cmd, "%s", d.msg);
            return -1;
        }
    } else { /* --isa */
        ac_diag d = {0};
        if (ac_isa_parse(v, &a->o.isa, &d) != AC_OK) {
            ac_cli_usage_error(cmd, "%s", d.msg);
            return -1;
        }
    }
    return 1;
}

/* Union of the tensors the quantizer needs: for `qo`, or for both modes' defaults. */
static ac_status needed_tensors(const ac_model *m, const ac_quant_opts *qo, char ***out,
                                int64_t *n, ac_diag *d) {
    *out = NULL;
    *n = 0;
    ac_quant_opts defaults[2] = {{.mode = AC_QUANT_ORT}, {.mode = AC_QUANT_TENSORRT}};
    const ac_quant_opts *list[2] = {qo ? qo : &defaults[0], qo ? NULL : &defaults[1]};
    char **all = NULL;
    int64_t n_all = 0;
    for (int k = 0; k < 2 && list[k]; k++) {
        char **names;
        int64_t cnt;
        ac_status s = ac_quant_needed(m, list[k], &names, &cnt, d);
        if (s != AC_OK) {
            ac_quant_names_free(all, n_all);
            return s;
        }
        char **grown = ac_realloc(all, (size_t)(n_all + cnt + 1) * sizeof *grown);
        if (!grown) {
            ac_quant_names_free(names, cnt);
            ac_quant_names_free(all, n_all);
            return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        }
        all = grown;
        for (int64_t i = 0; i < cnt; i++) {
            int dup = 0;
            for (int64_t j = 0; j < n_all && !dup; j++) dup = !strcmp(all[j], names[i]);
            if (dup) {
                ac_free(names[i]);
            } else {
                all[n_all++] = names[i];
            }
        }
        ac_free(names);
    }
    *out = all;
    *n = n_all;
    return AC_OK;
}

int ac_cli_calibrate(const ac_model *m, const ac_cli_calib_args *a, const ac_quant_opts *qo,
                     ac_calib **out) {
    ac_diag d = {0};
    *out = NULL;
    ac_driver_opts o = a->o;
    o.tensor_files = (const char *const *)a->inputs;
    o.n_tensor_files = a->n_inputs;
    char **names = NULL;
    int64_t n_names = 0;
    if (!a->all_tensors) {
        if (needed_tensors(m, qo, &names, &n_names, &d) != AC_OK) {
            ac_diag_prefix(&d, "%s", a->model);
            return ac_cli_report(&d);
        }
        o.tensors = (const char *const *)names;
        o.n_tensors = n_names;
    }
    ac_calib *c = NULL;
    if (ac_calib_new(NULL, &c, &d) != AC_OK) {
        ac_quant_names_free(names, n_names);
        return ac_cli_report(&d);
    }
    ac_driver_report r;
    ac_status st = ac_driver_run(m, a->model, &o, c, &r, &d);
    ac_quant_names_free(names, n_names);
    if (st != AC_OK) {
        ac_calib_free(c);
        return ac_cli_report(&d);
    }
    printf("calibrated %lld images in %lld batches on %d lane(s): %lld tensors, %.3f s "
           "(inference %.3f s, waiting for decoding %.3f s, per lane)\n",
           (long long)r.samples, (long long)r.batches, (int)r.lanes, (long long)r.tensors,
           r.seconds, r.infer_seconds, r.wait_seconds);
    *out = c;
    return AC_EXIT_OK;
}
