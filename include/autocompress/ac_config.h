/* SPDX-License-Identifier: MIT */
/*
 * ac_config.h — a small, strict YAML reader: libyaml's event API turned into a read-only tree
 * whose every node knows its line and column, plus typed accessors whose errors point at the
 * offending node.
 *
 * Strict means: aliases and anchors, tags, complex (non-scalar) keys, duplicate keys, more than
 * one document, an empty file and nesting deeper than `max_depth` are all errors. Nothing is
 * silently ignored.
 *
 * This module only knows YAML. What a tree *means* (a PaddleClas inference_cls.yaml, a
 * PaddleDetection infer_cfg.yml, ...) is interpreted by the module that owns the types (for the
 * deploy yamls: ac_data, see ac_pipeline_from_yaml). So config depends on base only and data
 * depends on config, never the other way.
 *
 *     ac_diag d = {0};
 *     ac_yaml_doc *doc = NULL;
 *     if (ac_yaml_load_file("cfg.yaml", NULL, &doc, &d) != AC_OK) { report(&d); return; }
 *     const ac_yaml_node *bs = ac_yaml_map_get(ac_yaml_root(doc), "batch_size");
 *     int64_t batch = 1;
 *     if (bs && ac_yaml_get_int(doc, bs, "batch_size", &batch, &d) != AC_OK) ...
 *         // d: where "cfg.yaml:3:13", msg "key 'batch_size': expected integer, got 'eight'"
 *     ac_yaml_free(doc);
 *
 * Thread safety: a loaded document is immutable; any number of threads may read it.
 */
#ifndef AC_CONFIG_H
#define AC_CONFIG_H

#include "autocompress/ac_base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ac_yaml_kind {
    AC_YAML_SCALAR = 0,
    AC_YAML_SEQ,
    AC_YAML_MAP,
    AC_YAML_KIND_COUNT
} ac_yaml_kind;

/* One node of the tree. Plain read-only data owned by its ac_yaml_doc (valid until
 * ac_yaml_free). A mapping value written as nothing (`ToCHWImage:`) is a plain empty scalar,
 * which ac_yaml_is_null() reports as null. */
typedef struct ac_yaml_node {
    ac_yaml_kind kind;
    int32_t line, col;            /* 1-based position of the node's first character */
    const char *scalar;           /* SCALAR: NUL-terminated text ("" for other kinds) */
    size_t scalar_len;            /* SCALAR: length (text may hold NULs from escapes) */
    int32_t plain;                /* SCALAR: 1 if unquoted (only plain scalars are numbers) */
    int32_t count;                /* SEQ: number of items; MAP: number of pairs */
    const struct ac_yaml_node *const *items; /* SEQ: items; MAP: values, in file order */
    const struct ac_yaml_node *const *keys;  /* MAP: key scalars, parallel to items */
} ac_yaml_node;

typedef struct ac_yaml_doc ac_yaml_doc;

/* Limits; zero fields mean the defaults. */
typedef struct ac_yaml_opts {
    int32_t max_depth;  /* nested collections, default 64 */
    int64_t max_nodes;  /* total nodes, default 1,000,000 */
    size_t max_bytes;   /* file size, default 16 MiB (checked before reading) */
} ac_yaml_opts;

/* Parses a YAML file into a tree. `o` may be NULL. Caller owns *out (free with ac_yaml_free);
 * on failure *out is NULL and d says where: "<path>:<line>:<col>" (or "<path>") and what.
 * Errors: AC_ERR_IO (cannot read), AC_ERR_FORMAT (YAML syntax, alias/anchor/tag, complex or
 * duplicate key, several documents), AC_ERR_CONFIG (empty file), AC_ERR_LIMIT (size, depth,
 * node count), AC_ERR_NOMEM. Thread-safe (no shared state). */
AC_API ac_status ac_yaml_load_file(const char *path, const ac_yaml_opts *o, ac_yaml_doc **out,
                                   ac_diag *d);
/* Same, from memory; `name` (borrowed, copied) is used in messages in place of a path. */
AC_API ac_status ac_yaml_load_mem(const char *name, const void *buf, size_t n,
                                  const ac_yaml_opts *o, ac_yaml_doc **out, ac_diag *d);
/* Frees the document and every node. NULL is a no-op. */
AC_API void ac_yaml_free(ac_yaml_doc *doc);

/* The root node (never NULL for a loaded document). Borrowed. */
AC_API const ac_yaml_node *ac_yaml_root(const ac_yaml_doc *doc);
/* The name given at load (the path). Borrowed. */
AC_API const char *ac_yaml_name(const ac_yaml_doc *doc);

/* Value for `key` in a mapping, or NULL if `map` is NULL, not a mapping or lacks the key. */
AC_API const ac_yaml_node *ac_yaml_map_get(const ac_yaml_node *map, const char *key);
/* 1 for a plain scalar "", "~", "null", "Null" or "NULL"; else 0 (also for NULL). */
AC_API int ac_yaml_is_null(const ac_yaml_node *n);

/* Records a failure located at node `n`: where = "<name>:<line>:<col>", msg from fmt. Returns
 * `s`. First failure wins, as with AC_FAIL. Used by interpreters of the tree. */
AC_API ac_status ac_yaml_fail(const ac_yaml_doc *doc, const ac_yaml_node *n, ac_diag *d,
                              ac_status s, const char *fmt, ...) AC_PRINTF(5, 6);

/* Typed accessors. `key` names the value in messages ("key 'batch_size': expected integer,
 * got 'eight'"). All fail with AC_ERR_CONFIG located at the node, leave *out untouched on
 * failure, and accept only what the type allows:
 *   int:   a plain decimal integer with optional sign that fits int64 ("1e3" is refused);
 *   float: a plain finite decimal number (integers too; ".nan"/".inf" refused);
 *   bool:  plain true/false/yes/no/on/off in the YAML 1.1 spellings PyYAML accepts;
 *   str:   any scalar (quoted or not); the pointer is borrowed from the document. */
AC_API ac_status ac_yaml_get_int(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                                 int64_t *out, ac_diag *d);
AC_API ac_status ac_yaml_get_float(const ac_yaml_doc *doc, const ac_yaml_node *n,
                                   const char *key, double *out, ac_diag *d);
AC_API ac_status ac_yaml_get_bool(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                                  int *out, ac_diag *d);
AC_API ac_status ac_yaml_get_str(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                                 const char **out, ac_diag *d);
/* A sequence of numbers of length in [min_n, max_n] into out[0..*n_out). */
AC_API ac_status ac_yaml_get_float_list(const ac_yaml_doc *doc, const ac_yaml_node *n,
                                        const char *key, double *out, int32_t min_n,
                                        int32_t max_n, int32_t *n_out, ac_diag *d);
AC_API ac_status ac_yaml_get_int_list(const ac_yaml_doc *doc, const ac_yaml_node *n,
                                      const char *key, int64_t *out, int32_t min_n,
                                      int32_t max_n, int32_t *n_out, ac_diag *d);
/* Fails with "unknown key 'bacth_size'" (located at that key) if mapping `map` has a key not
 * in the NULL-terminated list `allowed`; fails if `map` is not a mapping. */
AC_API ac_status ac_yaml_check_keys(const ac_yaml_doc *doc, const ac_yaml_node *map,
                                    const char *const *allowed, ac_diag *d);

#ifdef __cplusplus
}
#endif
#endif /* AC_CONFIG_H */
