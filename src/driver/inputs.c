/* SPDX-License-Identifier: MIT */
/* What the driver reads: the sorted image list of a folder, the deploy yaml beside a model,
 * and "i/n" shard specs. */
#define _POSIX_C_SOURCE 200809L
#include "autocompress/ac_driver.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_IMAGES 10000000
#define MAX_DEPTH 64 /* folders below images_dir; deeper trees are refused, not truncated */
#define MAX_PATH 4096

typedef struct path_list {
    char **v;
    int64_t n, cap, max;
} path_list;

static int is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    return !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png");
}

static ac_status list_push(path_list *l, const char *path, ac_diag *d) {
    if (l->n >= l->max)
        return AC_FAIL(d, AC_ERR_LIMIT, "more than %lld images", (long long)l->max);
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 256;
        char **v = ac_realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory listing images");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = ac_strdup(path);
    if (!l->v[l->n]) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory listing images");
    l->n++;
    return AC_OK;
}

static ac_status walk(const char *dir, int depth, path_list *l, ac_diag *d) {
    if (depth > MAX_DEPTH)
        return AC_FAIL(d, AC_ERR_LIMIT, "%s: folders nested deeper than %d", dir, MAX_DEPTH);
    DIR *dh = opendir(dir);
    if (!dh) return ac_fail_io(d, errno, "cannot open folder %s", dir);
    ac_status s = AC_OK;
    char path[MAX_PATH];
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(dh);
        if (!e) {
            if (errno) s = ac_fail_io(d, errno, "cannot read folder %s", dir);
            break;
        }
        if (e->d_name[0] == '.') continue; /* ".", "..", and hidden files (editor droppings) */
        int len = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (len < 0 || (size_t)len >= sizeof path) {
            s = AC_FAIL(d, AC_ERR_LIMIT, "path longer than %d bytes under %s", MAX_PATH, dir);
            break;
        }
        struct stat st;
        /* lstat: a symlinked folder is not entered (no cycles); a symlinked file is an image */
        if (lstat(path, &st) != 0) {
            s = ac_fail_io(d, errno, "cannot stat %s", path);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            s = walk(path, depth + 1, l, d);
            if (s != AC_OK) break;
        } else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && is_image_name(e->d_name)) {
            s = list_push(l, path, d);
            if (s != AC_OK) break;
        }
    }
    closedir(dh);
    return s;
}

static int cmp_path(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void ac_driver_free_list(char **paths, int64_t n) {
    if (!paths) return;
    for (int64_t i = 0; i < n; i++)
        ac_free(paths[i]);
    ac_free(paths);
}

ac_status ac_driver_list_images(const char *dir, int64_t max_images, char ***out, int64_t *n,
                                ac_diag *d) {
    *out = NULL;
    *n = 0;
    if (!dir || !dir[0]) return AC_FAIL(d, AC_ERR_ARG, "no image folder given");
    struct stat st;
    if (stat(dir, &st) != 0) {
        /* a folder that is not there is a wrong argument, not a failing disk */
        if (errno == ENOENT || errno == ENOTDIR) {
            ac_diag_where(d, "%s", dir);
            return AC_FAIL(d, AC_ERR_ARG, "image folder does not exist");
        }
        return ac_fail_io(d, errno, "cannot stat %s", dir);
    }
    if (!S_ISDIR(st.st_mode)) {
        ac_diag_where(d, "%s", dir);
        return AC_FAIL(d, AC_ERR_ARG, "not a folder (calibration needs a folder of images)");
    }
    /* strip trailing slashes so paths read "dir/x.jpg", not "dir//x.jpg" */
    char root[MAX_PATH];
    size_t len = strlen(dir);
    if (len >= sizeof root) return AC_FAIL(d, AC_ERR_LIMIT, "folder path too long");
    memcpy(root, dir, len + 1);
    while (len > 1 && root[len - 1] == '/')
        root[--len] = 0;
    path_list l = {.max = max_images > 0 ? max_images : DEFAULT_MAX_IMAGES};
    ac_status s = walk(root, 0, &l, d);
    if (s == AC_OK && l.n == 0) {
        ac_diag_where(d, "%s", dir);
        s = AC_FAIL(d, AC_ERR_ARG, "no images (*.jpg, *.jpeg, *.png) in the folder");
    }
    if (s != AC_OK) {
        ac_driver_free_list(l.v, l.n);
        return s;
    }
    qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_path);
    *out = l.v;
    *n = l.n;
    return AC_OK;
}

int ac_driver_find_deploy_yaml(const char *model_path, char *buf, size_t n) {
    static const char *const names[] = {"inference_cls.yaml", "infer_cfg.yml", "deploy.yaml"};
    if (!model_path || !buf || n == 0) return 0;
    const char *slash = strrchr(model_path, '/');
    int dir_len = slash ? (int)(slash - model_path) : 1;
    const char *dir = slash ? model_path : ".";
    if (slash == model_path) dir_len = 0; /* "/model.onnx": the root folder */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int len = snprintf(buf, n, "%.*s/%s", dir_len, dir, names[i]);
        if (len < 0 || (size_t)len >= n) continue;
        struct stat st;
        if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, R_OK) == 0) return 1;
    }
    buf[0] = 0;
    return 0;
}

ac_status ac_driver_parse_shard(const char *s, int32_t *index, int32_t *count, ac_diag *d) {
    if (!s) return AC_FAIL(d, AC_ERR_ARG, "no shard given");
    char *end;
    errno = 0;
    long i = strtol(s, &end, 10);
    long n = -1;
    if (end != s && *end == '/' && s[0] >= '0' && s[0] <= '9') {
        const char *t = end + 1;
        if (*t >= '0' && *t <= '9') {
            n = strtol(t, &end, 10);
            if (*end) n = -1;
        }
    }
    if (errno || n < 1 || n > 65536 || i < 0 || i >= n)
        return AC_FAIL(d, AC_ERR_ARG, "bad shard '%s' (want i/n with 0 <= i < n <= 65536)", s);
    *index = (int32_t)i;
    *count = (int32_t)n;
    return AC_OK;
}
