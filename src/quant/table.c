/* SPDX-License-Identifier: MIT */
/* Calibration table writers. Numbers are printed so they read back to the same float:
 * %.9g for text, 9 significant digits in JSON, raw IEEE bits in the TensorRT cache. Names with
 * a line break would corrupt the line formats, so they are refused. */
#include "quant_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* A growable byte buffer (the writers build the file in memory, then write it atomically). */
typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) AC_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)k + 1;
        char *q = ac_realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q, b->cap = cap;
    }
}

static ac_status check_names(const ac_quant_table *t, ac_diag *d) {
    for (int64_t i = 0; i < t->n; i++)
        if (strpbrk(t->e[i].tensor, "\n\r"))
            return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                           "tensor name \"%s\" contains a line break: the table formats are "
                           "line-based", t->e[i].tensor);
    return AC_OK;
}

static ac_status finish(sbuf *b, const char *path, ac_diag *d) {
    ac_status s = b->oom ? AC_FAIL(d, AC_ERR_NOMEM, "out of memory formatting %s", path)
                         : ac_file_write_atomic(path, b->p ? b->p : "", b->n, d);
    ac_free(b->p);
    return s;
}

/* TensorRT's calibrator header names; methods without a TensorRT calibrator use their own. */
static const char *trt_header(ac_calib_method m) {
    switch (m) {
    case AC_CALIB_KL: return "TRT-8601-EntropyCalibration2";
    case AC_CALIB_ABS_MAX:
    case AC_CALIB_MIN_MAX: return "TRT-8601-MinMaxCalibration";
    default: return NULL;
    }
}

ac_status ac_quant_write_trt_cache(const ac_quant_table *t, const char *path, ac_diag *d) {
    AC_TRY(check_names(t, d));
    sbuf b = {0};
    const char *h = trt_header(t->method);
    if (h) sb_printf(&b, "%s\n", h);
    else sb_printf(&b, "TRT-8601-%s\n", ac_calib_method_name(t->method));
    for (int64_t i = 0; i < t->n; i++)
        sb_printf(&b, "%s: %08x\n", t->e[i].tensor,
                  (unsigned)ac_q_float_bits(ac_q_sym_scale(t->e[i].amax)));
    return finish(&b, path, d);
}

ac_status ac_quant_write_text(const ac_quant_table *t, const char *path, ac_diag *d) {
    AC_TRY(check_names(t, d));
    sbuf b = {0};
    for (int64_t i = 0; i < t->n; i++)
        sb_printf(&b, "%s %.9g %d\n", t->e[i].tensor, (double)t->e[i].scale,
                  (int)t->e[i].zero_point);
    return finish(&b, path, d);
}

ac_status ac_quant_write_json(const ac_quant_table *t, const char *path, ac_diag *d) {
    json_t *root = json_object(), *tensors = json_object();
    int bad = !root || !tensors;
    if (!bad) {
        bad |= json_object_set_new(root, "format", json_string("autocompress-calibration")) != 0;
        bad |= json_object_set_new(root, "version", json_integer(1)) != 0;
        bad |= json_object_set_new(root, "mode", json_string(ac_quant_mode_name(t->mode))) != 0;
        bad |= json_object_set_new(root, "method",
                                   json_string(ac_calib_method_name(t->method))) != 0;
    }
    for (int64_t i = 0; i < t->n && !bad; i++) {
        const ac_quant_entry *e = &t->e[i];
        json_t *o = json_object();
        bad |= !o;
        if (bad) break;
        bad |= json_object_set_new(o, "method", json_string(e->method)) != 0;
        bad |= json_object_set_new(o, "min", json_real(e->min)) != 0;
        bad |= json_object_set_new(o, "max", json_real(e->max)) != 0;
        bad |= json_object_set_new(o, "amax", json_real(e->amax)) != 0;
        bad |= json_object_set_new(o, "scale", json_real(e->scale)) != 0;
        bad |= json_object_set_new(o, "zero_point", json_integer(e->zero_point)) != 0;
        bad |= json_object_set_new(o, "dtype", json_string(ac_dtype_name(e->dtype))) != 0;
        /* set_new takes o even on failure */
        bad |= json_object_set_new(tensors, e->tensor, o) != 0;
    }
    if (!bad) {
        bad |= json_object_set_new(root, "tensors", tensors) != 0;
        tensors = NULL;
    }
    char *text = bad ? NULL
                     : json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                            JSON_REAL_PRECISION(9));
    json_decref(tensors);
    json_decref(root);
    if (!text) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory formatting %s", path);
    size_t n = strlen(text);
    /* jansson allocates with malloc: copy the newline-terminated text, then free its copy */
    char *buf = ac_malloc(n + 1);
    if (!buf) {
        free(text);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory formatting %s", path);
    }
    memcpy(buf, text, n);
    buf[n] = '\n';
    free(text);
    ac_status s = ac_file_write_atomic(path, buf, n + 1, d);
    ac_free(buf);
    return s;
}
