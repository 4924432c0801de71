/* SPDX-License-Identifier: MIT */
/* The output folder: model, three tables, and the deploy yaml copied from beside the FP32
 * model (the runtimes that read these folders expect it next to the model). */
#include "quant_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_YAML_BYTES (16u << 20)

/* mkdir -p: every component that does not exist yet is created (0755). */
static ac_status make_dirs(const char *dir, ac_diag *d) {
    char buf[4096];
    size_t n = strlen(dir);
    if (!n || n >= sizeof buf) return AC_FAIL(d, AC_ERR_ARG, "output folder path is empty or "
                                              "too long");
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        struct stat st;
        if (stat(buf, &st) != 0) {
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return ac_fail_io(d, errno, "cannot create folder %s", buf);
        } else if (!S_ISDIR(st.st_mode)) {
            return AC_FAIL(d, AC_ERR_IO, "%s exists and is not a folder", buf);
        }
        buf[i] = c;
    }
    return AC_OK;
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The deploy yaml to copy: the given one, else a known name beside the FP32 model. */
static int find_yaml(const char *fp32_model_path, const char *deploy_yaml, char *out, size_t n) {
    if (deploy_yaml) {
        snprintf(out, n, "%s", deploy_yaml);
        return 1;
    }
    if (!fp32_model_path) return 0;
    static const char *const names[] = {"inference_cls.yaml", "infer_cfg.yml", "deploy.yaml"};
    const char *slash = strrchr(fp32_model_path, '/');
    int dlen = slash ? (int)(slash - fp32_model_path) : 1;
    const char *dir = slash ? fp32_model_path : ".";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(out, n, "%.*s/%s", dlen, dir, names[i]);
        if (is_file(out)) return 1;
    }
    return 0;
}

ac_status ac_quant_check_out_dir(const char *fp32_model_path, const char *out_dir, ac_diag *d) {
    if (!out_dir || !out_dir[0]) return AC_FAIL(d, AC_ERR_ARG, "no output folder given");
    char path[4200];
    snprintf(path, sizeof path, "%s/model.onnx", out_dir);
    if (ac_file_same(path, fp32_model_path))
        return AC_FAIL(d, AC_ERR_ARG,
                       "%s would replace the FP32 model %s: choose another output folder", path,
                       fp32_model_path);
    struct stat st;
    if (stat(out_dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return AC_FAIL(d, AC_ERR_ARG, "%s exists and is not a folder", out_dir);
    return AC_OK;
}

ac_status ac_quant_write_outputs(const ac_model *qdq, const ac_quant_table *t,
                                 const char *fp32_model_path, const char *out_dir,
                                 const char *deploy_yaml, ac_diag *d) {
    if (!qdq || !t || !out_dir)
        return AC_FAIL(d, AC_ERR_ARG, "ac_quant_write_outputs: model, table and out_dir are "
                       "required");
    char path[4200], yaml[4200];
    AC_TRY(ac_quant_check_out_dir(fp32_model_path, out_dir, d));
    AC_TRY(make_dirs(out_dir, d));
    snprintf(path, sizeof path, "%s/model.onnx", out_dir);
    AC_TRY(ac_model_save(qdq, path, d));
    snprintf(path, sizeof path, "%s/calibration.cache", out_dir);
    AC_TRY(ac_quant_write_trt_cache(t, path, d));
    snprintf(path, sizeof path, "%s/calibration.json", out_dir);
    AC_TRY(ac_quant_write_json(t, path, d));
    snprintf(path, sizeof path, "%s/calibration_table.txt", out_dir);
    AC_TRY(ac_quant_write_text(t, path, d));
    if (!find_yaml(fp32_model_path, deploy_yaml, yaml, sizeof yaml)) return AC_OK;
    uint8_t *buf = NULL;
    size_t len = 0;
    AC_TRY(ac_file_read_all(yaml, MAX_YAML_BYTES, &buf, &len, d));
    snprintf(path, sizeof path, "%s/%s", out_dir, base_name(yaml));
    ac_status s = ac_file_write_atomic(path, buf, len, d);
    ac_free(buf);
    return s;
}
