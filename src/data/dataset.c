/* SPDX-License-Identifier: MIT */
/* Datasets read up front into a sorted sample table: image folders (calibration), PaddleClas
 * lists, class-per-folder trees, segmentation pairs; shards and limits. COCO is in coco.c. */
#define _POSIX_C_SOURCE 200809L
#include "dataset_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

ac_status ac_ds_new(ac_dataset_kind kind, const char *name, const ac_dataset_opts *o,
                    ac_dataset **out, ac_diag *d) {
    *out = NULL;
    ac_dataset *ds = ac_calloc(1, sizeof *ds);
    if (!ds) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    if (ac_arena_new(0, &ds->arena, d) != AC_OK) {
        ac_free(ds);
        return d ? d->status : AC_ERR_NOMEM;
    }
    ds->kind = kind;
    ds->name = ac_arena_strdup(ds->arena, name ? name : "");
    ds->max_samples = o && o->max_samples > 0 ? o->max_samples : 10000000;
    if (!ds->name) {
        ac_dataset_free(ds);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    *out = ds;
    return AC_OK;
}

void ac_dataset_free(ac_dataset *ds) {
    if (!ds) return;
    ac_arena_free(ds->arena);
    ac_free(ds->items);
    ac_free(ds->anns);
    ac_free(ds->cats);
    ac_free(ds);
}

ac_sample *ac_ds_push(ac_dataset *ds, ac_diag *d) {
    if (ds->n >= ds->max_samples) {
        AC_FAIL(d, AC_ERR_LIMIT, "more than %lld samples", (long long)ds->max_samples);
        return NULL;
    }
    if (ds->n == ds->cap) {
        int64_t cap = ds->cap ? ds->cap * 2 : 256;
        ac_sample *p = ac_realloc(ds->items, (size_t)cap * sizeof *p);
        if (!p) {
            AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            return NULL;
        }
        ds->items = p;
        ds->cap = cap;
    }
    ac_sample *s = &ds->items[ds->n++];
    memset(s, 0, sizeof *s);
    s->label = -1;
    return s;
}

char *ac_ds_join(ac_dataset *ds, const char *dir, const char *rel) {
    if (rel[0] == '/' || !dir[0] || !strcmp(dir, ".")) return ac_arena_strdup(ds->arena, rel);
    size_t a = strlen(dir), b = strlen(rel);
    int slash = dir[a - 1] != '/';
    char *p = ac_arena_alloc(ds->arena, a + (size_t)slash + b + 1);
    if (!p) return NULL;
    memcpy(p, dir, a);
    if (slash) p[a] = '/';
    memcpy(p + a + slash, rel, b + 1);
    return p;
}

char *ac_ds_dirname(ac_dataset *ds, const char *path) {
    const char *sl = strrchr(path, '/');
    if (!sl) return ac_arena_strdup(ds->arena, ".");
    if (sl == path) return ac_arena_strdup(ds->arena, "/");
    return ac_arena_strndup(ds->arena, path, (size_t)(sl - path));
}

/* ---- folder scanning --------------------------------------------------------------------- */

typedef struct path_list {
    char **p; /* relative paths, in the dataset's arena */
    int64_t n, cap;
} path_list;

static int is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    return !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png");
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder argument that is missing or not a folder is bad input (exit 2), not an I/O error. */
static ac_status check_dir(const char *dir, ac_diag *d) {
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            ac_diag_where(d, "%s", dir);
            return AC_FAIL(d, AC_ERR_CONFIG, "folder does not exist");
        }
        ac_diag_where(d, "%s", dir);
        return ac_fail_io(d, errno, "cannot open folder");
    }
    if (!S_ISDIR(st.st_mode)) {
        ac_diag_where(d, "%s", dir);
        return AC_FAIL(d, AC_ERR_CONFIG, "not a folder");
    }
    return AC_OK;
}

/* Collects image files under root/rel (rel "" = root) into *pl, recursively. Symlinked files
 * are followed, symlinked folders are not (no loops). */
static ac_status scan(ac_dataset *ds, const char *root, const char *rel, int depth, int max_depth,
                      path_list *pl, ac_diag *d) {
    const char *dir = rel[0] ? ac_ds_join(ds, root, rel) : root;
    if (!dir) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    DIR *dh = opendir(dir);
    if (!dh) {
        ac_diag_where(d, "%s", dir);
        return ac_fail_io(d, errno, "cannot open folder");
    }
    ac_status st = AC_OK;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ".", "..", hidden files */
        char *r = rel[0] ? ac_ds_join(ds, rel, e->d_name) : ac_arena_strdup(ds->arena, e->d_name);
        char *full = r ? ac_ds_join(ds, root, r) : NULL;
        if (!full) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            break;
        }
        struct stat lst, fst;
        if (lstat(full, &lst) != 0) continue; /* vanished meanwhile */
        if (S_ISDIR(lst.st_mode)) {
            if (depth + 1 > max_depth) {
                ac_diag_where(d, "%s", full);
                st = AC_FAIL(d, AC_ERR_LIMIT, "folders nested deeper than %d", max_depth);
                break;
            }
            st = scan(ds, root, r, depth + 1, max_depth, pl, d);
            if (st != AC_OK) break;
            continue;
        }
        if (!is_image_name(e->d_name)) continue;
        if (stat(full, &fst) != 0 || !S_ISREG(fst.st_mode)) continue; /* dangling link etc. */
        if (pl->n >= ds->max_samples) {
            ac_diag_where(d, "%s", root);
            st = AC_FAIL(d, AC_ERR_LIMIT, "more than %lld images", (long long)ds->max_samples);
            break;
        }
        if (pl->n == pl->cap) {
            int64_t cap = pl->cap ? pl->cap * 2 : 256;
            char **p = ac_realloc(pl->p, (size_t)cap * sizeof *p);
            if (!p) {
                st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
                break;
            }
            pl->p = p;
            pl->cap = cap;
        }
        pl->p[pl->n++] = r;
    }
    closedir(dh);
    return st;
}

/* Sorted relative image paths under dir; empty is an error. */
static ac_status scan_sorted(ac_dataset *ds, const char *dir, const ac_dataset_opts *o,
                             int allow_empty, path_list *pl, ac_diag *d) {
    memset(pl, 0, sizeof *pl);
    AC_TRY(check_dir(dir, d));
    int max_depth = o && o->max_depth > 0 ? o->max_depth : 32;
    AC_TRY(scan(ds, dir, "", 0, max_depth, pl, d));
    if (!pl->n && !allow_empty) {
        ac_diag_where(d, "%s", dir);
        return AC_FAIL(d, AC_ERR_CONFIG, "no images (.jpg, .jpeg, .png) in folder");
    }
    if (pl->n > 1) qsort(pl->p, (size_t)pl->n, sizeof *pl->p, cmp_str);
    return AC_OK;
}

ac_status ac_dataset_open_images(const char *dir, const ac_dataset_opts *o, ac_dataset **out,
                                 ac_diag *d) {
    if (!out || !dir) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    *out = NULL;
    ac_dataset *ds = NULL;
    AC_TRY(ac_ds_new(AC_DATASET_IMAGES, dir, o, &ds, d));
    path_list pl;
    ac_status st = scan_sorted(ds, dir, o, 0, &pl, d);
    for (int64_t i = 0; st == AC_OK && i < pl.n; i++) {
        ac_sample *s = ac_ds_push(ds, d);
        if (!s) st = d ? d->status : AC_ERR_NOMEM;
        else if (!(s->path = ac_ds_join(ds, dir, pl.p[i])))
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    ac_free(pl.p);
    if (st != AC_OK) {
        ac_dataset_free(ds);
        return st;
    }
    *out = ds;
    return AC_OK;
}

ac_status ac_dataset_open_class_folders(const char *dir, const ac_dataset_opts *o,
                                        ac_dataset **out, ac_diag *d) {
    if (!out || !dir) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    *out = NULL;
    AC_TRY(check_dir(dir, d));
    ac_dataset *ds = NULL;
    AC_TRY(ac_ds_new(AC_DATASET_CLS, dir, o, &ds, d));
    ac_status st = AC_OK;
    path_list classes = {0};
    DIR *dh = opendir(dir);
    if (!dh) {
        ac_diag_where(d, "%s", dir);
        st = ac_fail_io(d, errno, "cannot open folder");
        goto done;
    }
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *full = ac_ds_join(ds, dir, e->d_name);
        struct stat lst;
        if (!full) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            break;
        }
        if (lstat(full, &lst) != 0 || !S_ISDIR(lst.st_mode)) continue;
        if (classes.n == classes.cap) {
            int64_t cap = classes.cap ? classes.cap * 2 : 64;
            char **p = ac_realloc(classes.p, (size_t)cap * sizeof *p);
            if (!p) {
                st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
                break;
            }
            classes.p = p;
            classes.cap = cap;
        }
        if (!(classes.p[classes.n++] = ac_arena_strdup(ds->arena, e->d_name))) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            break;
        }
        if (classes.n > INT32_MAX / 2) {
            st = AC_FAIL(d, AC_ERR_LIMIT, "too many class folders");
            break;
        }
    }
    closedir(dh);
    if (st != AC_OK) goto done;
    if (!classes.n) {
        ac_diag_where(d, "%s", dir);
        st = AC_FAIL(d, AC_ERR_CONFIG, "no class folders in folder");
        goto done;
    }
    qsort(classes.p, (size_t)classes.n, sizeof *classes.p, cmp_str);
    ds->class_names = (const char **)classes.p;
    ds->n_classes = (int32_t)classes.n;
    for (int64_t c = 0; c < classes.n && st == AC_OK; c++) {
        const char *cdir = ac_ds_join(ds, dir, classes.p[c]);
        path_list pl;
        if (!cdir) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            break;
        }
        st = scan_sorted(ds, cdir, o, 1, &pl, d);
        for (int64_t i = 0; st == AC_OK && i < pl.n; i++) {
            ac_sample *s = ac_ds_push(ds, d);
            if (!s) st = d ? d->status : AC_ERR_NOMEM;
            else if (!(s->path = ac_ds_join(ds, cdir, pl.p[i])))
                st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            else s->label = c;
        }
        ac_free(pl.p);
    }
    if (st == AC_OK && !ds->n) {
        ac_diag_where(d, "%s", dir);
        st = AC_FAIL(d, AC_ERR_CONFIG, "no images (.jpg, .jpeg, .png) in the class folders");
    }
done:
    /* class names live on in ds->class_names; only the array is ours to keep */
    if (st != AC_OK) {
        ac_free(classes.p);
        ds->class_names = NULL;
        ac_dataset_free(ds);
        return st;
    }
    /* move the name array into the arena so ac_dataset_free needs no extra field */
    const char **names = ac_arena_array(ds->arena, (size_t)classes.n, sizeof *names);
    if (!names) {
        ac_free(classes.p);
        ac_dataset_free(ds);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    memcpy(names, classes.p, (size_t)classes.n * sizeof *names);
    ac_free(classes.p);
    ds->class_names = names;
    *out = ds;
    return AC_OK;
}

/* ---- list files ----------------------------------------------------------------------------*/

/* Checks that a listed file exists and is a regular file. */
static ac_status check_listed(const char *list, int64_t line, const char *path, ac_diag *d) {
    struct stat st;
    int rc = stat(path, &st);
    if (rc == 0 && S_ISREG(st.st_mode)) return AC_OK;
    ac_diag_where(d, "%s:%lld", list, (long long)line);
    if (rc != 0 && errno != ENOENT && errno != ENOTDIR)
        return ac_fail_io(d, errno, "cannot access '%s'", path);
    return AC_FAIL(d, AC_ERR_CONFIG, "'%s' does not exist or is not a file", path);
}

/* Reads a list file and calls `fn` for each non-blank line as (a, b): the line split at its
 * last run of whitespace. */
typedef ac_status (*line_fn)(ac_dataset *ds, const char *base, int64_t lineno, char *a,
                             char *b, ac_diag *d);

static ac_status read_list(ac_dataset *ds, const char *list_path, const ac_dataset_opts *o,
                           const char *what, line_fn fn, ac_diag *d) {
    uint8_t *buf = NULL;
    size_t len = 0;
    ac_status st = ac_file_read_all(list_path, ac_ds_max_file_bytes(o), &buf, &len, d);
    if (st != AC_OK) {
        /* a list that does not exist is a bad argument (exit 2), not an I/O failure */
        if (st == AC_ERR_IO && d && d->status == AC_ERR_IO && d->sys_errno == ENOENT)
            st = d->status = AC_ERR_CONFIG;
        ac_diag_where(d, "%s", list_path);
        return st;
    }
    const char *base = ac_ds_dirname(ds, list_path);
    if (!base) {
        ac_free(buf);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    if (memchr(buf, 0, len)) {
        ac_free(buf);
        ac_diag_where(d, "%s", list_path);
        return AC_FAIL(d, AC_ERR_FORMAT, "list file holds NUL bytes (binary file?)");
    }
    int64_t lineno = 0;
    size_t pos = 0;
    while (pos < len && st == AC_OK) {
        size_t end = pos;
        while (end < len && buf[end] != '\n') end++;
        lineno++;
        char *ln = (char *)buf + pos;
        size_t n = end - pos;
        pos = end + 1;
        while (n && isspace((unsigned char)ln[n - 1])) n--;
        while (n && isspace((unsigned char)*ln)) ln++, n--;
        if (!n) continue;
        ln[n] = '\0'; /* the '\n' (or whitespace) we trimmed; buf has one spare byte at len */
        char *sp = ln + n;
        while (sp > ln && !isspace((unsigned char)sp[-1])) sp--;
        if (sp == ln) {
            ac_diag_where(d, "%s:%lld", list_path, (long long)lineno);
            st = AC_FAIL(d, AC_ERR_CONFIG, "expected '%s', got one field", what);
            break;
        }
        char *b = sp;
        char *a_end = sp;
        while (a_end > ln && isspace((unsigned char)a_end[-1])) a_end--;
        *a_end = '\0';
        st = fn(ds, base, lineno, ln, b, d);
        if (st != AC_OK) ac_diag_where(d, "%s:%lld", list_path, (long long)lineno);
    }
    ac_free(buf);
    if (st == AC_OK && !ds->n) {
        ac_diag_where(d, "%s", list_path);
        st = AC_FAIL(d, AC_ERR_CONFIG, "list is empty");
    }
    return st;
}

static ac_status cls_line(ac_dataset *ds, const char *base, int64_t lineno, char *a, char *b,
                          ac_diag *d) {
    char *end;
    errno = 0;
    long long v = strtoll(b, &end, 10);
    if (*end || errno || v < 0 || v > INT32_MAX - 1 || !isdigit((unsigned char)b[0]))
        return AC_FAIL(d, AC_ERR_CONFIG, "label '%.40s' is not an integer in [0, 2^31)", b);
    ac_sample *s = ac_ds_push(ds, d);
    if (!s) return d ? d->status : AC_ERR_NOMEM;
    if (!(s->path = ac_ds_join(ds, base, a))) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    s->label = v;
    if (v + 1 > ds->n_classes) ds->n_classes = (int32_t)(v + 1);
    (void)lineno;
    return check_listed(ds->name, lineno, s->path, d);
}

ac_status ac_dataset_open_list(const char *list_path, const ac_dataset_opts *o, ac_dataset **out,
                               ac_diag *d) {
    if (!out || !list_path) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    *out = NULL;
    ac_dataset *ds = NULL;
    AC_TRY(ac_ds_new(AC_DATASET_CLS, list_path, o, &ds, d));
    ac_status st = read_list(ds, list_path, o, "PATH LABEL", cls_line, d);
    if (st != AC_OK) {
        ac_dataset_free(ds);
        return st;
    }
    *out = ds;
    return AC_OK;
}

static ac_status seg_line(ac_dataset *ds, const char *base, int64_t lineno, char *a, char *b,
                          ac_diag *d) {
    ac_sample *s = ac_ds_push(ds, d);
    if (!s) return d ? d->status : AC_ERR_NOMEM;
    s->path = ac_ds_join(ds, base, a);
    s->mask_path = ac_ds_join(ds, base, b);
    if (!s->path || !s->mask_path) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    AC_TRY(check_listed(ds->name, lineno, s->path, d));
    return check_listed(ds->name, lineno, s->mask_path, d);
}

ac_status ac_dataset_open_seg_list(const char *list_path, const ac_dataset_opts *o,
                                   ac_dataset **out, ac_diag *d) {
    if (!out || !list_path) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    *out = NULL;
    ac_dataset *ds = NULL;
    AC_TRY(ac_ds_new(AC_DATASET_SEG, list_path, o, &ds, d));
    ac_status st = read_list(ds, list_path, o, "IMAGE MASK", seg_line, d);
    if (st != AC_OK) {
        ac_dataset_free(ds);
        return st;
    }
    *out = ds;
    return AC_OK;
}

ac_status ac_dataset_open_seg(const char *images_dir, const char *masks_dir,
                              const ac_dataset_opts *o, ac_dataset **out, ac_diag *d) {
    if (!out || !images_dir || !masks_dir) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    *out = NULL;
    AC_TRY(check_dir(masks_dir, d));
    ac_dataset *ds = NULL;
    AC_TRY(ac_ds_new(AC_DATASET_SEG, images_dir, o, &ds, d));
    path_list pl;
    ac_status st = scan_sorted(ds, images_dir, o, 0, &pl, d);
    for (int64_t i = 0; st == AC_OK && i < pl.n; i++) {
        ac_sample *s = ac_ds_push(ds, d);
        if (!s) {
            st = d ? d->status : AC_ERR_NOMEM;
            break;
        }
        const char *rel = pl.p[i];
        const char *dot = strrchr(rel, '.'); /* exists: is_image_name checked it */
        size_t stem = (size_t)(dot - rel);
        char *mrel = ac_arena_alloc(ds->arena, stem + 5);
        if (!mrel || !(s->path = ac_ds_join(ds, images_dir, rel))) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            break;
        }
        memcpy(mrel, rel, stem);
        memcpy(mrel + stem, ".png", 5);
        if (!(s->mask_path = ac_ds_join(ds, masks_dir, mrel))) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            break;
        }
        struct stat sb;
        if (stat(s->mask_path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            ac_diag_where(d, "%s", s->path);
            st = AC_FAIL(d, AC_ERR_CONFIG, "no mask '%s'", s->mask_path);
        }
    }
    ac_free(pl.p);
    if (st != AC_OK) {
        ac_dataset_free(ds);
        return st;
    }
    *out = ds;
    return AC_OK;
}

/* ---- access --------------------------------------------------------------------------------*/

ac_dataset_kind ac_dataset_kind_of(const ac_dataset *ds) { return ds->kind; }
const char *ac_dataset_name(const ac_dataset *ds) { return ds->name; }
int64_t ac_dataset_count(const ac_dataset *ds) { return ds ? ds->n : 0; }

const ac_sample *ac_dataset_at(const ac_dataset *ds, int64_t i) {
    return ds && i >= 0 && i < ds->n ? &ds->items[i] : NULL;
}

int32_t ac_dataset_num_classes(const ac_dataset *ds) {
    return ds->kind == AC_DATASET_COCO ? ds->n_cats : ds->n_classes;
}

const char *ac_dataset_class_name(const ac_dataset *ds, int32_t i) {
    return ds->class_names && i >= 0 && i < ds->n_classes ? ds->class_names[i] : NULL;
}

const ac_coco_ann *ac_dataset_coco_anns(const ac_dataset *ds, int64_t *n) {
    if (n) *n = ds->n_anns;
    return ds->anns;
}

const ac_coco_category *ac_dataset_coco_categories(const ac_dataset *ds, int32_t *n) {
    if (n) *n = ds->n_cats;
    return ds->cats;
}

ac_status ac_dataset_shard(ac_dataset *ds, int64_t index, int64_t count, ac_diag *d) {
    if (!ds || count < 1 || index < 0 || index >= count)
        return AC_FAIL(d, AC_ERR_ARG, "shard %lld/%lld: need 0 <= index < count",
                       (long long)index, (long long)count);
    int64_t k = 0;
    for (int64_t i = index; i < ds->n; i += count) ds->items[k++] = ds->items[i];
    ds->n = k;
    return AC_OK;
}

void ac_dataset_limit(ac_dataset *ds, int64_t n) {
    if (ds && n >= 0 && n < ds->n) ds->n = n;
}

ac_status ac_shard_parse(const char *s, int64_t *index, int64_t *count, ac_diag *d) {
    char *end;
    if (!s || !isdigit((unsigned char)s[0])) goto bad;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (errno || *end != '/' || !isdigit((unsigned char)end[1])) goto bad;
    long long n = strtoll(end + 1, &end, 10);
    if (errno || *end || n < 1 || i >= n) goto bad;
    *index = i;
    *count = n;
    return AC_OK;
bad:
    return AC_FAIL(d, AC_ERR_ARG, "bad shard '%.40s' (use i/n with 0 <= i < n)", s ? s : "");
}
