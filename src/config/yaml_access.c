/* SPDX-License-Identifier: MIT */
/* Typed, located accessors over the YAML tree. Numbers are parsed here, not by libyaml (which
 * only returns text), with the YAML 1.1 plain-scalar rules PyYAML uses, because the deploy
 * yamls we read are written and read by PyYAML. */
#include "autocompress/ac_config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

ac_status ac_yaml_fail(const ac_yaml_doc *doc, const ac_yaml_node *n, ac_diag *d, ac_status s,
                       const char *fmt, ...) {
    if (d && d->status == AC_OK) {
        if (n)
            ac_diag_where(d, "%s:%d:%d", ac_yaml_name(doc), (int)n->line, (int)n->col);
        else
            ac_diag_where(d, "%s", ac_yaml_name(doc));
    }
    va_list ap;
    va_start(ap, fmt);
    ac_status r = ac_failv(d, s, fmt, ap);
    va_end(ap);
    return r;
}

const ac_yaml_node *ac_yaml_map_get(const ac_yaml_node *map, const char *key) {
    if (!map || map->kind != AC_YAML_MAP || !key) return NULL;
    size_t len = strlen(key);
    for (int32_t i = 0; i < map->count; i++) {
        const ac_yaml_node *k = map->keys[i];
        if (k->scalar_len == len && !memcmp(k->scalar, key, len)) return map->items[i];
    }
    return NULL;
}

int ac_yaml_is_null(const ac_yaml_node *n) {
    if (!n || n->kind != AC_YAML_SCALAR || !n->plain) return 0;
    const char *s = n->scalar;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

/* What the user wrote, for "got '...'" (collections are named by kind). */
static const char *shown(const ac_yaml_node *n) {
    if (n->kind == AC_YAML_SEQ) return "a list";
    if (n->kind == AC_YAML_MAP) return "a mapping";
    return n->scalar;
}

static ac_status type_error(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                            const char *want, ac_diag *d) {
    if (n->kind == AC_YAML_SCALAR)
        return ac_yaml_fail(doc, n, d, AC_ERR_CONFIG, "key '%s': expected %s, got '%s'", key,
                            want, shown(n));
    return ac_yaml_fail(doc, n, d, AC_ERR_CONFIG, "key '%s': expected %s, got %s", key, want,
                        shown(n));
}

/* Strict decimal integer: [+-]?[0-9]+ with '_' separators refused (PyYAML allows them, but
 * nothing we read writes them and refusing is the safe side). */
static int parse_int(const char *s, int64_t *out) {
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!*p) return 0;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return 0;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return 0;
    *out = (int64_t)v;
    return 1;
}

/* Decimal number: [+-]? digits [. digits] [eE [+-] digits], at least one digit in the
 * mantissa. strtod alone would also take hex, "inf", "nan" and leading blanks. */
static int parse_float(const char *s, double *out) {
    const char *p = s;
    int digits = 0;
    if (*p == '+' || *p == '-') p++;
    while (isdigit((unsigned char)*p)) p++, digits++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) p++, digits++;
    }
    if (!digits) return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p) return 0;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (*end || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

ac_status ac_yaml_get_int(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                          int64_t *out, ac_diag *d) {
    int64_t v;
    if (!n || n->kind != AC_YAML_SCALAR || !n->plain || !parse_int(n->scalar, &v))
        return n ? type_error(doc, n, key, "integer", d)
                 : AC_FAIL(d, AC_ERR_ARG, "ac_yaml_get_int: NULL node");
    *out = v;
    return AC_OK;
}

ac_status ac_yaml_get_float(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                            double *out, ac_diag *d) {
    double v;
    if (!n || n->kind != AC_YAML_SCALAR || !n->plain || !parse_float(n->scalar, &v))
        return n ? type_error(doc, n, key, "number", d)
                 : AC_FAIL(d, AC_ERR_ARG, "ac_yaml_get_float: NULL node");
    *out = v;
    return AC_OK;
}

ac_status ac_yaml_get_bool(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                           int *out, ac_diag *d) {
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
                                      "on",   "On",   "ON",   NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
                                     "off",   "Off",   "OFF",   NULL};
    if (!n) return AC_FAIL(d, AC_ERR_ARG, "ac_yaml_get_bool: NULL node");
    if (n->kind == AC_YAML_SCALAR && n->plain) {
        for (int i = 0; yes[i]; i++)
            if (!strcmp(n->scalar, yes[i])) return *out = 1, AC_OK;
        for (int i = 0; no[i]; i++)
            if (!strcmp(n->scalar, no[i])) return *out = 0, AC_OK;
    }
    return type_error(doc, n, key, "true or false", d);
}

ac_status ac_yaml_get_str(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                          const char **out, ac_diag *d) {
    if (!n) return AC_FAIL(d, AC_ERR_ARG, "ac_yaml_get_str: NULL node");
    if (n->kind != AC_YAML_SCALAR) return type_error(doc, n, key, "a string", d);
    if (strlen(n->scalar) != n->scalar_len)
        return ac_yaml_fail(doc, n, d, AC_ERR_CONFIG, "key '%s': string contains a NUL byte",
                            key);
    *out = n->scalar;
    return AC_OK;
}

static ac_status list_shape(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                            int32_t min_n, int32_t max_n, ac_diag *d) {
    if (!n) return AC_FAIL(d, AC_ERR_ARG, "ac_yaml_get_*_list: NULL node");
    if (n->kind != AC_YAML_SEQ) return type_error(doc, n, key, "a list", d);
    if (n->count < min_n || n->count > max_n) {
        if (min_n == max_n)
            return ac_yaml_fail(doc, n, d, AC_ERR_CONFIG, "key '%s': expected %d values, got %d",
                                key, (int)min_n, (int)n->count);
        return ac_yaml_fail(doc, n, d, AC_ERR_CONFIG,
                            "key '%s': expected %d to %d values, got %d", key, (int)min_n,
                            (int)max_n, (int)n->count);
    }
    return AC_OK;
}

ac_status ac_yaml_get_float_list(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                                 double *out, int32_t min_n, int32_t max_n, int32_t *n_out,
                                 ac_diag *d) {
    AC_TRY(list_shape(doc, n, key, min_n, max_n, d));
    for (int32_t i = 0; i < n->count; i++) {
        const ac_yaml_node *it = n->items[i];
        if (it->kind != AC_YAML_SCALAR || !it->plain || !parse_float(it->scalar, &out[i]))
            return ac_yaml_fail(doc, it, d, AC_ERR_CONFIG,
                                "key '%s': item %d: expected number, got '%s'", key, (int)i,
                                shown(it));
    }
    *n_out = n->count;
    return AC_OK;
}

ac_status ac_yaml_get_int_list(const ac_yaml_doc *doc, const ac_yaml_node *n, const char *key,
                               int64_t *out, int32_t min_n, int32_t max_n, int32_t *n_out,
                               ac_diag *d) {
    AC_TRY(list_shape(doc, n, key, min_n, max_n, d));
    for (int32_t i = 0; i < n->count; i++) {
        const ac_yaml_node *it = n->items[i];
        if (it->kind != AC_YAML_SCALAR || !it->plain || !parse_int(it->scalar, &out[i]))
            return ac_yaml_fail(doc, it, d, AC_ERR_CONFIG,
                                "key '%s': item %d: expected integer, got '%s'", key, (int)i,
                                shown(it));
    }
    *n_out = n->count;
    return AC_OK;
}

ac_status ac_yaml_check_keys(const ac_yaml_doc *doc, const ac_yaml_node *map,
                             const char *const *allowed, ac_diag *d) {
    if (!map) return AC_FAIL(d, AC_ERR_ARG, "ac_yaml_check_keys: NULL node");
    if (map->kind != AC_YAML_MAP)
        return ac_yaml_fail(doc, map, d, AC_ERR_CONFIG, "expected a mapping, got %s",
                            map->kind == AC_YAML_SEQ ? "a list" : "a scalar");
    for (int32_t i = 0; i < map->count; i++) {
        const char *k = map->keys[i]->scalar;
        int ok = 0;
        for (int j = 0; allowed && allowed[j] && !ok; j++) ok = !strcmp(k, allowed[j]);
        if (!ok)
            return ac_yaml_fail(doc, map->keys[i], d, AC_ERR_CONFIG, "unknown key '%s'", k);
    }
    return AC_OK;
}
