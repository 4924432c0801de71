/* SPDX-License-Identifier: MIT */
/* Metric state files: versioned JSON, written atomically, validated on load. Doubles are
 * written by jansson with 17 significant digits, so a load gives back the same bits and merged
 * shards compute exactly what one pass would. */
#include "eval_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STATE_MAX_BYTES ((size_t)1 << 31)

static json_t *det_json(const ac_metric *m) {
    json_t *imgs = json_array();
    for (int64_t i = 0; imgs && i < m->n_imgs; i++) {
        const ac_det_image *im = &m->imgs[i];
        json_t *gt = json_array(), *dt = json_array();
        for (int64_t k = 0; gt && k < im->n_gt; k++) {
            const ac_coco_ann *a = &im->gt[k];
            json_array_append_new(gt, json_pack("[I,I,f,f,f,f,f,i]", (json_int_t)a->id,
                                                (json_int_t)a->category_id, a->bbox[0],
                                                a->bbox[1], a->bbox[2], a->bbox[3], a->area,
                                                (int)a->iscrowd));
        }
        for (int64_t k = 0; dt && k < im->n_dt; k++) {
            const ac_det *e = &im->dt[k];
            json_array_append_new(dt, json_pack("[I,f,f,f,f,f]", (json_int_t)e->category_id,
                                                e->bbox[0], e->bbox[1], e->bbox[2], e->bbox[3],
                                                e->score));
        }
        json_array_append_new(imgs, json_pack("{s:I,s:o,s:o}", "id", (json_int_t)im->id, "gt",
                                              gt, "dt", dt));
    }
    json_t *cats = json_array();
    for (int32_t c = 0; cats && c < m->n_cats; c++)
        json_array_append_new(cats, json_integer((json_int_t)m->cats[c]));
    return json_pack("{s:o,s:o}", "categories", cats, "images", imgs);
}

ac_status ac_metric_save(const ac_metric *m, const char *path, ac_diag *d) {
    if (!m || !path) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    json_t *o = json_pack("{s:s,s:i,s:s,s:I}", "format", AC_METRIC_FORMAT, "version",
                          AC_METRIC_VERSION, "task", ac_task_name(m->task), "n",
                          (json_int_t)m->n);
    if (!o) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    if (m->task == AC_TASK_CLS) {
        json_object_set_new(o, "num_classes", json_integer(m->num_classes));
        json_object_set_new(o, "top1", json_integer((json_int_t)m->top1));
        json_object_set_new(o, "top5", json_integer((json_int_t)m->top5));
    } else if (m->task == AC_TASK_SEG) {
        json_object_set_new(o, "num_classes", json_integer(m->num_classes));
        json_t *cm = json_array();
        size_t cc = (size_t)m->num_classes * (size_t)m->num_classes;
        for (size_t i = 0; cm && i < cc; i++)
            json_array_append_new(cm, json_integer((json_int_t)m->conf[i]));
        json_object_set_new(o, "confusion", cm);
    } else {
        json_t *det = det_json(m);
        json_object_update(o, det);
        json_decref(det);
    }
    char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (!txt) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory writing the state");
    size_t len = strlen(txt);
    ac_status st = ac_file_write_atomic(path, txt, len, d);
    free(txt);
    if (st != AC_OK) ac_diag_where(d, "%s", path);
    return st;
}

/* ---- load ----------------------------------------------------------------------------------*/

typedef struct ld {
    const char *path;
    ac_diag *d;
} ld;

static ac_status bad(ld *l, const char *field, const char *what) {
    ac_diag_where(l->d, "%s: %s", l->path, field);
    return AC_FAIL(l->d, AC_ERR_CONFIG, "%s", what);
}

static ac_status get_i64(ld *l, json_t *o, const char *key, int64_t lo, int64_t *out) {
    json_t *v = json_object_get(o, key);
    if (!v) return bad(l, key, "missing");
    if (!json_is_integer(v) || json_integer_value(v) < lo) return bad(l, key, "bad integer");
    *out = (int64_t)json_integer_value(v);
    return AC_OK;
}

/* Numbers of a JSON array into out[0..n); ints where `is_int` has a 1. */
static ac_status nums(ld *l, json_t *a, size_t n, const char *where, double *out) {
    if (!json_is_array(a) || json_array_size(a) != n) return bad(l, where, "bad entry");
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return bad(l, where, "bad number");
        out[i] = json_number_value(v);
    }
    return AC_OK;
}

static ac_status load_det(ld *l, json_t *root, ac_metric **out) {
    json_t *cats = json_object_get(root, "categories"), *imgs = json_object_get(root, "images");
    if (!json_is_array(cats) || json_array_size(cats) > (size_t)INT32_MAX / 2)
        return bad(l, "categories", "missing or not an array");
    if (!json_is_array(imgs)) return bad(l, "images", "missing or not an array");
    size_t nc = json_array_size(cats);
    int64_t *ids = ac_malloc_array(nc ? nc : 1, sizeof *ids);
    if (!ids) return AC_FAIL(l->d, AC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nc; i++) {
        json_t *v = json_array_get(cats, i);
        if (!json_is_integer(v)) {
            ac_free(ids);
            return bad(l, "categories", "not an integer");
        }
        ids[i] = (int64_t)json_integer_value(v);
    }
    ac_status st = ac_metric_new_det(ids, (int32_t)nc, out, l->d);
    ac_free(ids);
    if (st != AC_OK) return st;
    ac_coco_ann *gt = NULL;
    ac_det *dt = NULL;
    char where[64];
    for (size_t i = 0; i < json_array_size(imgs) && st == AC_OK; i++) {
        json_t *im = json_array_get(imgs, i);
        snprintf(where, sizeof where, "images[%zu]", i);
        json_t *jg = json_object_get(im, "gt"), *jd = json_object_get(im, "dt");
        int64_t id;
        if (!json_is_object(im) || !json_is_array(jg) || !json_is_array(jd)) {
            st = bad(l, where, "bad entry");
            break;
        }
        if ((st = get_i64(l, im, "id", INT64_MIN, &id)) != AC_OK) break;
        size_t ng = json_array_size(jg), nd = json_array_size(jd);
        gt = ac_malloc_array(ng ? ng : 1, sizeof *gt);
        dt = ac_malloc_array(nd ? nd : 1, sizeof *dt);
        if (!gt || !dt) {
            st = AC_FAIL(l->d, AC_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t k = 0; k < ng && st == AC_OK; k++) {
            double v[8];
            json_t *e = json_array_get(jg, k);
            if ((st = nums(l, e, 8, where, v)) != AC_OK) break;
            if (!json_is_integer(json_array_get(e, 0)) || !json_is_integer(json_array_get(e, 1)) ||
                (v[7] != 0 && v[7] != 1)) {
                st = bad(l, where, "bad ground truth entry");
                break;
            }
            gt[k] = (ac_coco_ann){(int64_t)json_integer_value(json_array_get(e, 0)), id,
                                  (int64_t)json_integer_value(json_array_get(e, 1)),
                                  {v[2], v[3], v[4], v[5]}, v[6], (int32_t)v[7]};
        }
        for (size_t k = 0; k < nd && st == AC_OK; k++) {
            double v[6];
            json_t *e = json_array_get(jd, k);
            if ((st = nums(l, e, 6, where, v)) != AC_OK) break;
            if (!json_is_integer(json_array_get(e, 0))) {
                st = bad(l, where, "bad detection entry");
                break;
            }
            dt[k] = (ac_det){{v[1], v[2], v[3], v[4]}, v[5],
                             (int64_t)json_integer_value(json_array_get(e, 0))};
        }
        if (st == AC_OK) st = ac_metric_push_det(*out, id, gt, (int64_t)ng, dt, (int64_t)nd, l->d);
        ac_free(gt);
        ac_free(dt);
        gt = NULL;
        dt = NULL;
    }
    ac_free(gt);
    ac_free(dt);
    return st;
}

ac_status ac_metric_load(const char *path, ac_metric **out, ac_diag *d) {
    if (!path || !out) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    *out = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    ac_status st = ac_file_read_all(path, STATE_MAX_BYTES, &buf, &len, d);
    if (st != AC_OK) {
        ac_diag_where(d, "%s", path);
        return st;
    }
    json_error_t err;
    json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
    ac_free(buf);
    if (!root) {
        ac_diag_where(d, "%s:%d:%d", path, err.line, err.column);
        return AC_FAIL(d, AC_ERR_FORMAT, "invalid JSON: %s", err.text);
    }
    ld l = {path, d};
    json_t *fmt = json_object_get(root, "format"), *task = json_object_get(root, "task");
    int64_t version = 0, n = 0, nc = 0;
    ac_task t;
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), AC_METRIC_FORMAT)) {
        st = bad(&l, "format", "not an autocompress metric state");
        goto done;
    }
    if ((st = get_i64(&l, root, "version", 0, &version)) != AC_OK) goto done;
    if (version != AC_METRIC_VERSION) {
        ac_diag_where(d, "%s", path);
        st = AC_FAIL(d, AC_ERR_UNSUPPORTED, "state version %lld (this build reads %d)",
                     (long long)version, AC_METRIC_VERSION);
        goto done;
    }
    if (!json_is_string(task) || ac_task_parse(json_string_value(task), &t, NULL) != AC_OK) {
        st = bad(&l, "task", "unknown task");
        goto done;
    }
    if ((st = get_i64(&l, root, "n", 0, &n)) != AC_OK) goto done;
    if (t == AC_TASK_CLS) {
        int64_t t1, t5;
        if ((st = get_i64(&l, root, "num_classes", 0, &nc)) != AC_OK ||
            (st = get_i64(&l, root, "top1", 0, &t1)) != AC_OK ||
            (st = get_i64(&l, root, "top5", 0, &t5)) != AC_OK)
            goto done;
        if (nc > INT32_MAX || t1 > t5 || t5 > n) {
            st = bad(&l, "top1", "inconsistent counts");
            goto done;
        }
        if ((st = ac_metric_new_cls((int32_t)nc, out, d)) != AC_OK) goto done;
        (*out)->n = n;
        (*out)->top1 = t1;
        (*out)->top5 = t5;
    } else if (t == AC_TASK_SEG) {
        if ((st = get_i64(&l, root, "num_classes", 1, &nc)) != AC_OK) goto done;
        if (nc > AC_SEG_MAX_CLASSES) {
            st = bad(&l, "num_classes", "too many classes");
            goto done;
        }
        json_t *cm = json_object_get(root, "confusion");
        if (!json_is_array(cm) || json_array_size(cm) != (size_t)(nc * nc)) {
            st = bad(&l, "confusion", "missing or not num_classes^2 integers");
            goto done;
        }
        if ((st = ac_metric_new_seg((int32_t)nc, out, d)) != AC_OK) goto done;
        for (size_t i = 0; i < (size_t)(nc * nc); i++) {
            json_t *v = json_array_get(cm, i);
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                st = bad(&l, "confusion", "not a non-negative integer");
                goto done;
            }
            (*out)->conf[i] = (int64_t)json_integer_value(v);
        }
        (*out)->n = n;
    } else {
        if ((st = load_det(&l, root, out)) != AC_OK) goto done;
        if ((*out)->n != n) {
            st = bad(&l, "n", "does not match the number of images");
            goto done;
        }
    }
done:
    json_decref(root);
    if (st != AC_OK) {
        ac_metric_free(*out);
        *out = NULL;
    }
    return st;
}
