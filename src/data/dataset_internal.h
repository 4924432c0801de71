/* SPDX-License-Identifier: MIT */
/* Shared between dataset.c (folders, lists, shards) and coco.c (COCO instances JSON). */
#ifndef AC_DATASET_INTERNAL_H
#define AC_DATASET_INTERNAL_H

#include "autocompress/ac_data.h"

struct ac_dataset {
    ac_dataset_kind kind;
    const char *name;      /* in arena */
    ac_arena *arena;       /* every string */
    ac_sample *items;      /* ac_malloc'd */
    int64_t n, cap;
    int32_t n_classes;
    const char **class_names; /* class-per-folder, in arena */
    ac_coco_ann *anns;        /* COCO, ac_malloc'd, grouped by image in sample order */
    int64_t n_anns;
    ac_coco_category *cats;   /* COCO, ac_malloc'd, sorted by id */
    int32_t n_cats;
    int64_t max_samples;
};

/* New empty dataset of `kind` named `name`. */
ac_status ac_ds_new(ac_dataset_kind kind, const char *name, const ac_dataset_opts *o,
                    ac_dataset **out, ac_diag *d);
/* Appends a zeroed sample (label -1) and returns it, or NULL after recording the failure. */
ac_sample *ac_ds_push(ac_dataset *ds, ac_diag *d);
/* Joins dir + "/" + rel into the arena (rel as is when absolute or dir is empty/"."). */
char *ac_ds_join(ac_dataset *ds, const char *dir, const char *rel);
/* Folder part of a path ("." when it has none), in the arena. */
char *ac_ds_dirname(ac_dataset *ds, const char *path);

static inline size_t ac_ds_max_file_bytes(const ac_dataset_opts *o) {
    return o && o->max_file_bytes ? o->max_file_bytes : ((size_t)1 << 30);
}

#endif
