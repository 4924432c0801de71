/* SPDX-License-Identifier: MIT */
/* autocompress eval --model M --task cls|det|seg [data flags] [--json] [--threads N] ...
 * autocompress eval --merge STATE.json... [--json]
 * Flag parsing only: datasets come from ac_data, the evaluation from ac_eval_run. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "autocompress/ac_eval.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_MERGE 256

static const char eval_usage[] =
    "usage: autocompress eval --model M --task cls|det|seg [options]\n"
    "  cls: --data LIST.txt (PaddleClas 'path label') | --images DIR (one folder per class)\n"
    "  det: --data instances.json --images DIR [--postprocess yolov5|nms_included]\n"
    "       [--conf-thresh 0.001] [--nms-iou 0.6] [--max-dets 300] [--clip]\n"
    "  seg: --images DIR --masks DIR | --data LIST.txt ('image mask' lines)\n"
    "  --preprocess FILE.yaml  deploy yaml (default: inference_cls.yaml, infer_cfg.yml or\n"
    "                          deploy.yaml beside the model)\n"
    "  --threads N --batch N --isa LEVEL --num-images N (first N) --shard i/n (every n-th\n"
    "  from i, after --num-images) --save-state FILE (mergeable metric state) --json\n"
    "       autocompress eval --merge STATE.json... [--json]\n"
    "Prints top1/top5, mAP/AP50 (pycocotools rules) or mIoU/pixel_acc as fractions.\n";

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_float(const char *s, double lo, double hi, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

/* The deploy yaml beside the model, or NULL. Writes into buf. */
static const char *find_yaml(const char *model, char *buf, size_t n) {
    static const char *const names[] = {"inference_cls.yaml", "infer_cfg.yml", "deploy.yaml"};
    const char *sl = strrchr(model, '/');
    int dir_len = sl ? (int)(sl - model) : 1;
    const char *dir = sl ? model : ".";
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        struct stat st;
        snprintf(buf, n, "%.*s/%s", dir_len, dir, names[i]);
        if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) return buf;
    }
    return NULL;
}

static void print_result(const char *name, const ac_eval_result *r, int as_json) {
    if (as_json) {
        json_t *o = json_pack("{s:s,s:s,s:I}", "model", name, "task", ac_task_name(r->task), "n",
                              (json_int_t)r->n);
        if (r->task == AC_TASK_CLS) {
            json_object_set_new(o, "top1", json_real(r->top1));
            json_object_set_new(o, "top5", json_real(r->top5));
        } else if (r->task == AC_TASK_DET) {
            json_object_set_new(o, "mAP", json_real(r->map));
            json_object_set_new(o, "AP50", json_real(r->ap50));
        } else {
            json_object_set_new(o, "mIoU", json_real(r->miou));
            json_object_set_new(o, "pixel_acc", json_real(r->pixel_acc));
        }
        json_object_set_new(o, "classes", json_integer(r->classes));
        if (r->seconds > 0) {
            json_object_set_new(o, "seconds", json_real(r->seconds));
            json_object_set_new(o, "images_per_second", json_real(r->images_per_second));
        }
        char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        if (txt) puts(txt);
        free(txt);
        json_decref(o);
        return;
    }
    if (r->task == AC_TASK_CLS)
        printf("%s: top1 %.4f top5 %.4f", name, r->top1, r->top5);
    else if (r->task == AC_TASK_DET)
        printf("%s: mAP %.4f AP50 %.4f", name, r->map, r->ap50);
    else
        printf("%s: mIoU %.4f pixel_acc %.4f", name, r->miou, r->pixel_acc);
    printf(" (%lld images", (long long)r->n);
    if (r->seconds > 0) printf(", %.2f s, %.1f images/s", r->seconds, r->images_per_second);
    printf(")\n");
}

static int do_merge(const char **files, int n, const char *save, int as_json) {
    ac_diag d = {0};
    ac_metric *acc = NULL, *one = NULL;
    ac_eval_result r;
    int rc = AC_EXIT_OK;
    for (int i = 0; i < n; i++) {
        if (ac_metric_load(files[i], i ? &one : &acc, &d) != AC_OK) goto fail;
        if (i && ac_metric_merge(acc, one, &d) != AC_OK) {
            ac_diag_where(&d, "%s", files[i]);
            goto fail;
        }
        ac_metric_free(one);
        one = NULL;
    }
    if (ac_metric_compute(acc, &r, &d) != AC_OK) goto fail;
    if (save && ac_metric_save(acc, save, &d) != AC_OK) goto fail;
    print_result("merged", &r, as_json);
    goto done;
fail:
    rc = ac_cli_report(&d);
done:
    ac_metric_free(one);
    ac_metric_free(acc);
    return rc;
}

int ac_cmd_eval(int argc, char **argv) {
    const char *model = NULL, *task_s = NULL, *data = NULL, *images = NULL, *masks = NULL;
    const char *preprocess = NULL, *shard = NULL, *save = NULL;
    const char *merge[MAX_MERGE];
    int n_merge = 0, merging = 0, as_json = 0;
    long num_images = -1, l;
    double f;
    ac_eval_opts eo = {0};
    ac_diag d = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(eval_usage, stdout);
            return AC_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            as_json = 1;
        } else if (!strcmp(a, "--clip")) {
            eo.det.clip = 1;
        } else if (!strcmp(a, "--merge")) {
            merging = 1;
        } else if (!v && a[0] == '-') {
            return ac_cli_usage_error("eval", "option '%s' needs a value", a);
        } else if (!strcmp(a, "--model")) {
            model = argv[++i];
        } else if (!strcmp(a, "--task")) {
            task_s = argv[++i];
        } else if (!strcmp(a, "--data")) {
            data = argv[++i];
        } else if (!strcmp(a, "--images")) {
            images = argv[++i];
        } else if (!strcmp(a, "--masks")) {
            masks = argv[++i];
        } else if (!strcmp(a, "--preprocess")) {
            preprocess = argv[++i];
        } else if (!strcmp(a, "--shard")) {
            shard = argv[++i];
        } else if (!strcmp(a, "--save-state")) {
            save = argv[++i];
        } else if (!strcmp(a, "--threads")) {
            if (parse_long(v, 1, 1024, &l)) return ac_cli_usage_error("eval", "bad --threads");
            eo.threads = (int32_t)l;
            i++;
        } else if (!strcmp(a, "--batch")) {
            if (parse_long(v, 1, 4096, &l)) return ac_cli_usage_error("eval", "bad --batch");
            eo.batch = (int32_t)l;
            i++;
        } else if (!strcmp(a, "--num-images")) {
            if (parse_long(v, 1, 1L << 40, &num_images))
                return ac_cli_usage_error("eval", "bad --num-images");
            i++;
        } else if (!strcmp(a, "--max-dets")) {
            if (parse_long(v, 1, 100000, &l)) return ac_cli_usage_error("eval", "bad --max-dets");
            eo.det.max_dets = (int32_t)l;
            i++;
        } else if (!strcmp(a, "--conf-thresh")) {
            if (parse_float(v, 0, 1, &f)) return ac_cli_usage_error("eval", "bad --conf-thresh");
            eo.det.conf_thresh = f == 0 ? -1.0f : (float)f; /* 0 in the struct means default */
            i++;
        } else if (!strcmp(a, "--nms-iou")) {
            if (parse_float(v, 1e-6, 1, &f)) return ac_cli_usage_error("eval", "bad --nms-iou");
            eo.det.nms_iou = (float)f;
            i++;
        } else if (!strcmp(a, "--postprocess")) {
            if (ac_det_post_parse(v, &eo.post, &d) != AC_OK) return ac_cli_report(&d);
            i++;
        } else if (!strcmp(a, "--isa")) {
            if (ac_isa_parse(v, &eo.isa, &d) != AC_OK) return ac_cli_report(&d);
            i++;
        } else if (a[0] == '-') {
            return ac_cli_usage_error("eval", "unknown option '%s'", a);
        } else if (merging && n_merge < MAX_MERGE) {
            merge[n_merge++] = a;
        } else {
            return ac_cli_usage_error("eval", "unexpected argument '%s'", a);
        }
    }
    if (merging) {
        if (!n_merge) return ac_cli_usage_error("eval", "--merge needs state files");
        return do_merge(merge, n_merge, save, as_json);
    }
    if (!model) return ac_cli_usage_error("eval", "no --model given");
    ac_task task;
    if (!task_s) return ac_cli_usage_error("eval", "no --task given (cls, det or seg)");
    if (ac_task_parse(task_s, &task, &d) != AC_OK) return ac_cli_report(&d);
    int64_t sh_i = 0, sh_n = 1;
    if (shard && ac_shard_parse(shard, &sh_i, &sh_n, &d) != AC_OK) return ac_cli_report(&d);

    ac_dataset *ds = NULL;
    ac_pipeline *pipe = NULL;
    ac_model *m = NULL;
    ac_metric *state = NULL;
    ac_status st;
    int rc = AC_EXIT_OK;
    if (task == AC_TASK_CLS) {
        if (!!data == !!images)
            return ac_cli_usage_error("eval", "cls needs --data LIST.txt or --images DIR");
        st = data ? ac_dataset_open_list(data, NULL, &ds, &d)
                  : ac_dataset_open_class_folders(images, NULL, &ds, &d);
    } else if (task == AC_TASK_DET) {
        if (!data || !images)
            return ac_cli_usage_error("eval", "det needs --data instances.json --images DIR");
        st = ac_dataset_open_coco(data, images, NULL, &ds, &d);
    } else {
        if (data ? (images || masks) : (!images || !masks))
            return ac_cli_usage_error("eval", "seg needs --images DIR --masks DIR or --data LIST");
        st = data ? ac_dataset_open_seg_list(data, NULL, &ds, &d)
                  : ac_dataset_open_seg(images, masks, NULL, &ds, &d);
    }
    if (st != AC_OK) goto fail;
    if (num_images > 0) ac_dataset_limit(ds, num_images);
    if (ac_dataset_shard(ds, sh_i, sh_n, &d) != AC_OK) goto fail;
    char ybuf[4096];
    const char *yaml = preprocess ? preprocess : find_yaml(model, ybuf, sizeof ybuf);
    if (!yaml) {
        ac_diag_where(&d, "%s", model);
        AC_FAIL(&d, AC_ERR_CONFIG, "no deploy yaml beside the model: give --preprocess FILE");
        goto fail;
    }
    if (ac_pipeline_from_yaml(yaml, NULL, &pipe, &d) != AC_OK) goto fail;
    if (ac_model_load(model, NULL, &m, &d) != AC_OK) goto fail;
    ac_eval_result r;
    if (ac_eval_run(m, task, ds, pipe, &eo, &state, &r, &d) != AC_OK) {
        ac_diag_where(&d, "%s", model); /* data errors already name their file */
        goto fail;
    }
    if (save && ac_metric_save(state, save, &d) != AC_OK) goto fail;
    print_result(model, &r, as_json);
    goto done;
fail:
    rc = ac_cli_report(&d);
done:
    ac_metric_free(state);
    ac_model_free(m);
    ac_pipeline_free(pipe);
    ac_dataset_free(ds);
    return rc;
}
