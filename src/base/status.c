/* SPDX-License-Identifier: MIT */
/* Status names and the per-call diagnostics record (first failure wins). */
#include "autocompress/ac_base.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
    [AC_OK] = "ok",
    [AC_ERR_NOMEM] = "out of memory",
    [AC_ERR_IO] = "i/o error",
    [AC_ERR_FORMAT] = "bad format",
    [AC_ERR_MODEL] = "invalid model",
    [AC_ERR_UNSUPPORTED] = "unsupported",
    [AC_ERR_CONFIG] = "bad config",
    [AC_ERR_LIMIT] = "limit exceeded",
    [AC_ERR_ARG] = "bad argument",
    [AC_ERR_CANCELLED] = "cancelled",
    [AC_ERR_INTERNAL] = "internal error",
};
_Static_assert(sizeof status_names / sizeof status_names[0] == AC_STATUS_COUNT,
               "status_names must name every ac_status");

const char *ac_status_str(ac_status s) {
    if ((unsigned)s >= AC_STATUS_COUNT) return "unknown status";
    return status_names[s];
}

ac_status ac_failv(ac_diag *d, ac_status s, const char *fmt, va_list ap) {
    if (d && d->status == AC_OK) {
        d->status = s;
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    }
    return s;
}

ac_status ac_fail(ac_diag *d, ac_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ac_failv(d, s, fmt, ap);
    va_end(ap);
    return s;
}

ac_status ac_fail_io(ac_diag *d, int err, const char *fmt, ...) {
    if (d && d->status == AC_OK) {
        va_list ap;
        va_start(ap, fmt);
        ac_failv(d, AC_ERR_IO, fmt, ap);
        va_end(ap);
        d->sys_errno = err;
        size_t len = strlen(d->msg);
        snprintf(d->msg + len, sizeof d->msg - len, ": %s", strerror(err));
    }
    return AC_ERR_IO;
}

void ac_diag_where(ac_diag *d, const char *fmt, ...) {
    if (!d || d->where[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->where, sizeof d->where, fmt, ap);
    va_end(ap);
}

void ac_diag_prefix(ac_diag *d, const char *fmt, ...) {
    if (!d) return;
    char head[sizeof d->where];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    if (!d->where[0]) {
        memcpy(d->where, head, sizeof head);
        return;
    }
    /* build "head: old" by hand; truncation at the buffer end is acceptable */
    char old[sizeof d->where];
    memcpy(old, d->where, sizeof old);
    size_t hl = strlen(head), ol = strlen(old), cap = sizeof d->where - 1, k = 0;
    for (size_t i = 0; i < hl && k < cap; i++) d->where[k++] = head[i];
    for (size_t i = 0; i < 2 && k < cap; i++) d->where[k++] = ": "[i];
    for (size_t i = 0; i < ol && k < cap; i++) d->where[k++] = old[i];
    d->where[k] = '\0';
}

void ac_diag_clear(ac_diag *d) {
    if (d) memset(d, 0, sizeof *d);
}

const char *ac_diag_line(const ac_diag *d, char *buf, size_t n) {
    if (!buf || n == 0) return "";
    if (!d || d->status == AC_OK) {
        snprintf(buf, n, "no error");
    } else {
        const char *msg = d->msg[0] ? d->msg : ac_status_str(d->status);
        if (d->where[0])
            snprintf(buf, n, "%s: %s", d->where, msg);
        else
            snprintf(buf, n, "%s", msg);
        /* names in messages come from untrusted files: a newline or an escape sequence in one
         * must not split the line or reach a terminal */
        for (char *p = buf; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    }
    return buf;
}
