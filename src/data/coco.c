/* SPDX-License-Identifier: MIT */
/* COCO instances JSON (cocodataset.org "format-data", detection part) read with jansson and
 * validated before anything trusts it: every error names the JSON path, e.g.
 * "instances_val.json: annotations[17]: missing 'bbox'". */
#define _DEFAULT_SOURCE
#include "dataset_internal.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Most images/annotations one file may hold (a 1 GiB JSON cannot hold many more). */
#define COCO_MAX_ITEMS 50000000

typedef struct coco_ctx {
    ac_dataset *ds;
    const char *json; /* path, for messages */
    ac_diag *d;
} coco_ctx;

static ac_status at(coco_ctx *c, const char *arr, size_t i, ac_status s, const char *fmt, ...)
    AC_PRINTF(5, 6);
static ac_status at(coco_ctx *c, const char *arr, size_t i, ac_status s, const char *fmt, ...) {
    ac_diag_where(c->d, "%s: %s[%zu]", c->json, arr, i);
    va_list ap;
    va_start(ap, fmt);
    ac_status r = ac_failv(c->d, s, fmt, ap);
    va_end(ap);
    return r;
}

/* Required integer field (JSON integer, not a float or a string). */
static ac_status get_int(coco_ctx *c, json_t *o, const char *arr, size_t i, const char *key,
                         int64_t *out) {
    json_t *v = json_object_get(o, key);
    if (!v) return at(c, arr, i, AC_ERR_CONFIG, "missing '%s'", key);
    if (!json_is_integer(v)) return at(c, arr, i, AC_ERR_CONFIG, "'%s' is not an integer", key);
    *out = (int64_t)json_integer_value(v);
    return AC_OK;
}

static ac_status get_num(coco_ctx *c, json_t *v, const char *arr, size_t i, const char *key,
                         double *out) {
    if (!json_is_number(v)) return at(c, arr, i, AC_ERR_CONFIG, "'%s' is not a number", key);
    double x = json_number_value(v);
    if (!isfinite(x)) return at(c, arr, i, AC_ERR_CONFIG, "'%s' is not finite", key);
    *out = x;
    return AC_OK;
}

static json_t *get_array(coco_ctx *c, json_t *root, const char *key) {
    json_t *a = json_object_get(root, key);
    if (!a) {
        ac_diag_where(c->d, "%s", c->json);
        AC_FAIL(c->d, AC_ERR_CONFIG, "missing '%s'", key);
        return NULL;
    }
    if (!json_is_array(a)) {
        ac_diag_where(c->d, "%s", c->json);
        AC_FAIL(c->d, AC_ERR_CONFIG, "'%s' is not an array", key);
        return NULL;
    }
    if (json_array_size(a) > COCO_MAX_ITEMS) {
        ac_diag_where(c->d, "%s", c->json);
        AC_FAIL(c->d, AC_ERR_LIMIT, "'%s' has more than %d entries", key, COCO_MAX_ITEMS);
        return NULL;
    }
    return a;
}

/* id -> index lookup over a sorted array of (id, index). */
typedef struct id_idx {
    int64_t id;
    int64_t idx;
} id_idx;

static int cmp_id(const void *a, const void *b) {
    const id_idx *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static const id_idx *find_id(const id_idx *t, size_t n, int64_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && t[lo].id == id ? &t[lo] : NULL;
}

/* Sorts the table and fails on the first duplicate id (naming its later occurrence). */
static ac_status sort_unique(coco_ctx *c, id_idx *t, size_t n, const char *arr) {
    if (n > 1) qsort(t, n, sizeof *t, cmp_id);
    for (size_t k = 1; k < n; k++)
        if (t[k].id == t[k - 1].id)
            return at(c, arr, (size_t)t[k].idx, AC_ERR_CONFIG, "duplicate id %lld (also %s[%lld])",
                      (long long)t[k].id, arr, (long long)t[k - 1].idx);
    return AC_OK;
}

/* file_name must stay inside the images folder: relative, no "." / ".." / empty components,
 * and its resolved path (symlinks followed) under the resolved folder. */
static ac_status check_file_name(coco_ctx *c, size_t i, const char *fn, const char *root_real,
                                 const char *images_dir, const char **out_path) {
    if (!fn[0]) return at(c, "images", i, AC_ERR_CONFIG, "empty 'file_name'");
    if (fn[0] == '/')
        return at(c, "images", i, AC_ERR_CONFIG, "'file_name' '%.200s' is an absolute path", fn);
    for (const char *p = fn; *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return at(c, "images", i, AC_ERR_CONFIG,
                      "'file_name' '%.200s' leaves the images folder or has empty components",
                      fn);
        p += len + (e ? 1 : 0);
        if (e && !*p)
            return at(c, "images", i, AC_ERR_CONFIG, "'file_name' '%.200s' ends with '/'", fn);
    }
    const char *path = ac_ds_join(c->ds, images_dir, fn);
    if (!path) return AC_FAIL(c->d, AC_ERR_NOMEM, "out of memory");
    char *real = realpath(path, NULL);
    if (!real) {
        if (errno == ENOENT || errno == ENOTDIR)
            return at(c, "images", i, AC_ERR_CONFIG, "'file_name' '%.200s' does not exist in %s",
                      fn, images_dir);
        int e = errno;
        ac_diag_where(c->d, "%s: images[%zu]", c->json, i);
        return ac_fail_io(c->d, e, "cannot resolve '%s'", path);
    }
    size_t rl = strlen(root_real);
    int inside = !strncmp(real, root_real, rl) && (real[rl] == '/' || !strcmp(root_real, "/"));
    struct stat st;
    int reg = stat(real, &st) == 0 && S_ISREG(st.st_mode);
    free(real);
    if (!inside)
        return at(c, "images", i, AC_ERR_CONFIG,
                  "'file_name' '%.200s' resolves outside the images folder (symlink?)", fn);
    if (!reg) return at(c, "images", i, AC_ERR_CONFIG, "'file_name' '%.200s' is not a file", fn);
    *out_path = path;
    return AC_OK;
}

static int cmp_sample_id(const void *a, const void *b) {
    const ac_sample *x = a, *y = b;
    return x->label < y->label ? -1 : x->label > y->label;
}

static int cmp_cat(const void *a, const void *b) {
    const ac_coco_category *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static ac_status parse(coco_ctx *c, json_t *root, const char *images_dir, const char *root_real) {
    ac_dataset *ds = c->ds;
    ac_diag *d = c->d;
    if (!json_is_object(root)) {
        ac_diag_where(d, "%s", c->json);
        return AC_FAIL(d, AC_ERR_CONFIG, "top level is not an object");
    }
    json_t *images = get_array(c, root, "images");
    json_t *anns = images ? get_array(c, root, "annotations") : NULL;
    json_t *cats = anns ? get_array(c, root, "categories") : NULL;
    if (!cats) return d ? d->status : AC_ERR_CONFIG;
    size_t ni = json_array_size(images), na = json_array_size(anns), nc = json_array_size(cats);
    if (!ni) {
        ac_diag_where(d, "%s", c->json);
        return AC_FAIL(d, AC_ERR_CONFIG, "'images' is empty");
    }
    if (nc > INT32_MAX / 2) {
        ac_diag_where(d, "%s", c->json);
        return AC_FAIL(d, AC_ERR_LIMIT, "too many categories");
    }
    ac_status st = AC_OK;
    id_idx *img_ids = ac_malloc_array(ni, sizeof *img_ids);
    id_idx *cat_ids = ac_malloc_array(nc ? nc : 1, sizeof *cat_ids);
    id_idx *ann_ids = ac_malloc_array(na ? na : 1, sizeof *ann_ids);
    int64_t *per_img = ac_calloc(ni + 1, sizeof *per_img); /* counts, then write cursors */
    ds->cats = ac_malloc_array(nc ? nc : 1, sizeof *ds->cats);
    ds->anns = ac_malloc_array(na ? na : 1, sizeof *ds->anns);
    ac_coco_ann *tmp = ac_malloc_array(na ? na : 1, sizeof *tmp);
    int64_t *ann_img = ac_malloc_array(na ? na : 1, sizeof *ann_img); /* sample index per ann */
    if (!img_ids || !cat_ids || !ann_ids || !per_img || !ds->cats || !ds->anns || !tmp ||
        !ann_img) {
        st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* categories */
    for (size_t i = 0; i < nc && st == AC_OK; i++) {
        json_t *o = json_array_get(cats, i);
        if (!json_is_object(o)) {
            st = at(c, "categories", i, AC_ERR_CONFIG, "not an object");
            break;
        }
        ac_coco_category *k = &ds->cats[i];
        if ((st = get_int(c, o, "categories", i, "id", &k->id)) != AC_OK) break;
        json_t *nm = json_object_get(o, "name");
        if (!nm) st = at(c, "categories", i, AC_ERR_CONFIG, "missing 'name'");
        else if (!json_is_string(nm))
            st = at(c, "categories", i, AC_ERR_CONFIG, "'name' is not a string");
        else if (!(k->name = ac_arena_strdup(ds->arena, json_string_value(nm))))
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        cat_ids[i] = (id_idx){k->id, (int64_t)i};
    }
    if (st != AC_OK || (st = sort_unique(c, cat_ids, nc, "categories")) != AC_OK) goto done;
    ds->n_cats = (int32_t)nc;
    if (nc > 1) qsort(ds->cats, nc, sizeof *ds->cats, cmp_cat);
    /* images */
    for (size_t i = 0; i < ni && st == AC_OK; i++) {
        json_t *o = json_array_get(images, i);
        if (!json_is_object(o)) {
            st = at(c, "images", i, AC_ERR_CONFIG, "not an object");
            break;
        }
        int64_t id = 0, w = 0, h = 0;
        if ((st = get_int(c, o, "images", i, "id", &id)) != AC_OK) break;
        if ((st = get_int(c, o, "images", i, "width", &w)) != AC_OK) break;
        if ((st = get_int(c, o, "images", i, "height", &h)) != AC_OK) break;
        if (w < 1 || h < 1 || w > INT32_MAX || h > INT32_MAX) {
            st = at(c, "images", i, AC_ERR_CONFIG, "bad size %lldx%lld", (long long)w,
                    (long long)h);
            break;
        }
        json_t *fn = json_object_get(o, "file_name");
        if (!fn) {
            st = at(c, "images", i, AC_ERR_CONFIG, "missing 'file_name'");
            break;
        }
        if (!json_is_string(fn)) {
            st = at(c, "images", i, AC_ERR_CONFIG, "'file_name' is not a string");
            break;
        }
        const char *path = NULL;
        st = check_file_name(c, i, json_string_value(fn), root_real, images_dir, &path);
        if (st != AC_OK) break;
        ac_sample *s = ac_ds_push(ds, d);
        if (!s) {
            st = d ? d->status : AC_ERR_NOMEM;
            break;
        }
        s->path = path;
        s->label = id;
        s->width = (int32_t)w;
        s->height = (int32_t)h;
        s->ann_first = (int64_t)i; /* file index, until sorted below */
        img_ids[i] = (id_idx){id, (int64_t)i};
    }
    if (st != AC_OK || (st = sort_unique(c, img_ids, ni, "images")) != AC_OK) goto done;
    /* samples in id order (pycocotools sorts image ids) */
    qsort(ds->items, (size_t)ds->n, sizeof *ds->items, cmp_sample_id);
    /* ids are unique, so both are sorted alike: the lookup now maps id -> sample index */
    for (int64_t k = 0; k < ds->n; k++) img_ids[k] = (id_idx){ds->items[k].label, k};
    /* annotations */
    for (size_t i = 0; i < na && st == AC_OK; i++) {
        json_t *o = json_array_get(anns, i);
        if (!json_is_object(o)) {
            st = at(c, "annotations", i, AC_ERR_CONFIG, "not an object");
            break;
        }
        ac_coco_ann *a = &tmp[i];
        memset(a, 0, sizeof *a);
        if ((st = get_int(c, o, "annotations", i, "id", &a->id)) != AC_OK) break;
        if ((st = get_int(c, o, "annotations", i, "image_id", &a->image_id)) != AC_OK) break;
        if ((st = get_int(c, o, "annotations", i, "category_id", &a->category_id)) != AC_OK)
            break;
        json_t *bb = json_object_get(o, "bbox");
        if (!bb) {
            st = at(c, "annotations", i, AC_ERR_CONFIG, "missing 'bbox'");
            break;
        }
        if (!json_is_array(bb) || json_array_size(bb) != 4) {
            st = at(c, "annotations", i, AC_ERR_CONFIG, "'bbox' is not [x, y, w, h]");
            break;
        }
        for (size_t k = 0; k < 4 && st == AC_OK; k++)
            st = get_num(c, json_array_get(bb, k), "annotations", i, "bbox", &a->bbox[k]);
        if (st != AC_OK) break;
        if (a->bbox[2] < 0 || a->bbox[3] < 0) {
            st = at(c, "annotations", i, AC_ERR_CONFIG, "'bbox' has negative width or height");
            break;
        }
        json_t *ar = json_object_get(o, "area");
        if (!ar) {
            st = at(c, "annotations", i, AC_ERR_CONFIG, "missing 'area'");
            break;
        }
        if ((st = get_num(c, ar, "annotations", i, "area", &a->area)) != AC_OK) break;
        json_t *cr = json_object_get(o, "iscrowd");
        if (cr) {
            if (!json_is_integer(cr) || json_integer_value(cr) < 0 || json_integer_value(cr) > 1) {
                st = at(c, "annotations", i, AC_ERR_CONFIG, "'iscrowd' is not 0 or 1");
                break;
            }
            a->iscrowd = (int32_t)json_integer_value(cr);
        }
        const id_idx *im = find_id(img_ids, ni, a->image_id);
        if (!im) {
            st = at(c, "annotations", i, AC_ERR_CONFIG, "unknown image_id %lld",
                    (long long)a->image_id);
            break;
        }
        if (!find_id(cat_ids, nc, a->category_id)) {
            st = at(c, "annotations", i, AC_ERR_CONFIG, "unknown category_id %lld",
                    (long long)a->category_id);
            break;
        }
        ann_img[i] = im->idx;
        per_img[im->idx]++;
        ann_ids[i] = (id_idx){a->id, (int64_t)i};
    }
    if (st != AC_OK || (st = sort_unique(c, ann_ids, na, "annotations")) != AC_OK) goto done;
    /* group by sample, keeping file order inside each image (a counting sort) */
    int64_t pos = 0;
    for (int64_t k = 0; k < ds->n; k++) {
        ds->items[k].ann_first = pos;
        ds->items[k].ann_count = per_img[k];
        per_img[k] = pos;
        pos += ds->items[k].ann_count;
    }
    for (size_t i = 0; i < na; i++) ds->anns[per_img[ann_img[i]]++] = tmp[i];
    ds->n_anns = (int64_t)na;
done:
    ac_free(img_ids);
    ac_free(cat_ids);
    ac_free(ann_ids);
    ac_free(per_img);
    ac_free(tmp);
    ac_free(ann_img);
    return st;
}

ac_status ac_dataset_open_coco(const char *json_path, const char *images_dir,
                               const ac_dataset_opts *o, ac_dataset **out, ac_diag *d) {
    if (!out || !json_path || !images_dir) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    *out = NULL;
    struct stat sb;
    if (stat(images_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        ac_diag_where(d, "%s", images_dir);
        return AC_FAIL(d, AC_ERR_CONFIG, "folder does not exist");
    }
    ac_dataset *ds = NULL;
    AC_TRY(ac_ds_new(AC_DATASET_COCO, json_path, o, &ds, d));
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *root = NULL;
    char *root_real = NULL;
    ac_status st = ac_file_read_all(json_path, ac_ds_max_file_bytes(o), &buf, &len, d);
    if (st != AC_OK) {
        if (st == AC_ERR_IO && d && d->sys_errno == ENOENT) st = d->status = AC_ERR_CONFIG;
        ac_diag_where(d, "%s", json_path);
        goto done;
    }
    json_error_t err;
    /* duplicate keys are refused: a second "bbox" silently winning is how typos hide */
    root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        ac_diag_where(d, "%s:%d:%d", json_path, err.line, err.column);
        st = AC_FAIL(d, AC_ERR_FORMAT, "invalid JSON: %s", err.text);
        goto done;
    }
    ac_free(buf);
    buf = NULL;
    root_real = realpath(images_dir, NULL);
    if (!root_real) {
        ac_diag_where(d, "%s", images_dir);
        st = ac_fail_io(d, errno, "cannot resolve folder");
        goto done;
    }
    coco_ctx c = {ds, json_path, d};
    st = parse(&c, root, images_dir, root_real);
done:
    free(root_real);
    json_decref(root);
    ac_free(buf);
    if (st != AC_OK) {
        ac_dataset_free(ds);
        return st;
    }
    *out = ds;
    return AC_OK;
}
