/* SPDX-License-Identifier: MIT */
/* Logging goes through one hook; the library itself never prints. */
#include "autocompress/ac_base.h"

#include <stdatomic.h>
#include <stdio.h>

static _Atomic(ac_log_fn) log_fn;
static void *_Atomic log_user;
static _Atomic int log_max = AC_LOG_WARN;

void ac_log_set(ac_log_fn fn, void *user, ac_log_level max_level) {
    atomic_store(&log_user, user);
    atomic_store(&log_max, (int)max_level);
    atomic_store(&log_fn, fn);
}

void ac_log(ac_log_level level, const char *fmt, ...) {
    ac_log_fn fn = atomic_load(&log_fn);
    if (!fn || (int)level > atomic_load(&log_max)) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fn(level, buf, atomic_load(&log_user));
}
