/* SPDX-License-Identifier: MIT */
/* External tensor data, confined to the model's folder.
 *
 * The location is untrusted text from the model. Accepted: a relative path with no "..", "."
 * or empty components, resolving (after symlinks) to a regular, singly-linked file inside the
 * model's folder. Offset and length are plain decimal numbers and must fit the file and the
 * tensor exactly. Every check runs before the file is read or memory is allocated; the
 * CVE-2022-25882 / CVE-2024-27318 family of traversal bugs is what this guards against. */
#define _GNU_SOURCE
#include "onnx_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parses a non-negative decimal integer; -1 if it is anything else or overflows. */
static int64_t parse_count(const char *s) {
    if (!s || !*s) return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        if (v > (INT64_MAX - (*s - '0')) / 10) return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* Rejects locations that could name anything outside the folder before touching the disk. */
static ac_status check_location(const char *loc, ac_diag *d) {
    if (!loc || !*loc) return AC_FAIL(d, AC_ERR_MODEL, "external data location is empty");
    if (loc[0] == '/' || loc[0] == '\\')
        return AC_FAIL(d, AC_ERR_MODEL,
                       "external data location is an absolute path (must be inside the model "
                       "directory)");
    if (strchr(loc, '\\') || strchr(loc, ':'))
        return AC_FAIL(d, AC_ERR_MODEL,
                       "external data location '%.200s' has a character not allowed in a "
                       "relative path", loc);
    /* every component, the one after a trailing '/' included ("w.bin/" is not a file) */
    for (const char *p = loc;;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return AC_FAIL(d, AC_ERR_MODEL,
                           "external data location '%.200s' is outside the model directory "
                           "(it has an empty, '.' or '..' component)", loc);
        if (!e) return AC_OK;
        p = e + 1;
    }
}

ac_status ac_onnx_read_external(ac_onnx_reader *r, const Onnx__TensorProto *tp, size_t nbytes,
                                void **out, ac_diag *d) {
    *out = NULL;
    const char *loc = NULL, *off_s = NULL, *len_s = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        const char *k = e->key ? e->key : "";
        if (!strcmp(k, "location")) loc = e->value;
        else if (!strcmp(k, "offset")) off_s = e->value;
        else if (!strcmp(k, "length")) len_s = e->value;
        /* "checksum" and unknown keys are informational */
    }
    AC_TRY(check_location(loc, d));
    int64_t off = off_s ? parse_count(off_s) : 0;
    int64_t len = len_s ? parse_count(len_s) : -2;
    if (off < 0)
        return AC_FAIL(d, AC_ERR_MODEL, "external data offset '%.60s' is not a byte count",
                       off_s);
    if (len == -1)
        return AC_FAIL(d, AC_ERR_MODEL, "external data length '%.60s' is not a byte count",
                       len_s);
    if (len >= 0 && (uint64_t)len != nbytes)
        return AC_FAIL(d, AC_ERR_MODEL, "external data length is %lld bytes, expected %zu",
                       (long long)len, nbytes);
    if (!r->base_dir)
        return AC_FAIL(d, AC_ERR_MODEL,
                       "uses external data, but the model was not loaded from a folder");
    if (r->external_bytes + nbytes > r->opts->max_external_bytes)
        return AC_FAIL(d, AC_ERR_LIMIT, "external data passes the limit of %llu bytes",
                       (unsigned long long)r->opts->max_external_bytes);
    if (!r->base_real) {
        r->base_real = realpath(r->base_dir, NULL);
        if (!r->base_real) return ac_fail_io(d, errno, "cannot resolve the model directory");
    }
    size_t blen = strlen(r->base_real);
    char *joined = ac_malloc(blen + strlen(loc) + 2);
    if (!joined) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    strcpy(joined, r->base_real);
    strcat(joined, "/");
    strcat(joined, loc);
    char *real = realpath(joined, NULL);
    ac_free(joined);
    if (!real) return ac_fail_io(d, errno, "cannot open external data '%.200s'", loc);
    /* a symlink may only point inside the folder */
    int inside = strncmp(real, r->base_real, blen) == 0 &&
                 (real[blen] == '/' || (blen == 1 && r->base_real[0] == '/'));
    if (!inside) {
        free(real);
        return AC_FAIL(d, AC_ERR_MODEL,
                       "external data location '%.200s' is outside the model directory "
                       "(through a symbolic link)", loc);
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    free(real);
    if (fd < 0) return ac_fail_io(d, errno, "cannot open external data '%.200s'", loc);
    struct stat st;
    ac_status s = AC_OK;
    if (fstat(fd, &st) != 0) {
        s = ac_fail_io(d, errno, "cannot stat external data '%.200s'", loc);
    } else if (!S_ISREG(st.st_mode)) {
        s = AC_FAIL(d, AC_ERR_MODEL, "external data '%.200s' is not a regular file", loc);
    } else if (st.st_nlink > 1) {
        /* a hard link can make any file of the same file system look local */
        s = AC_FAIL(d, AC_ERR_MODEL, "external data '%.200s' is a hard link; refused", loc);
    } else if ((uint64_t)off > (uint64_t)st.st_size ||
               nbytes > (uint64_t)st.st_size - (uint64_t)off) {
        s = AC_FAIL(d, AC_ERR_MODEL,
                    "external data for this tensor is %zu bytes at offset %lld, but '%.200s' has "
                    "%lld bytes", nbytes, (long long)off, loc, (long long)st.st_size);
    } else if (len == -2 && (uint64_t)st.st_size - (uint64_t)off != nbytes) {
        s = AC_FAIL(d, AC_ERR_MODEL,
                    "external data '%.200s' has %lld bytes after offset %lld, expected %zu", loc,
                    (long long)((uint64_t)st.st_size - (uint64_t)off), (long long)off, nbytes);
    }
    uint8_t *buf = NULL;
    if (s == AC_OK) {
        buf = ac_malloc(nbytes);
        if (!buf) s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory (%zu bytes)", nbytes);
    }
    size_t got = 0;
    while (s == AC_OK && got < nbytes) {
        ssize_t k = pread(fd, buf + got, nbytes - got, (off_t)off + (off_t)got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) s = ac_fail_io(d, errno, "cannot read external data '%.200s'", loc);
        else if (k == 0) s = AC_FAIL(d, AC_ERR_IO, "external data '%.200s' ended early", loc);
        else got += (size_t)k;
    }
    close(fd);
    if (s != AC_OK) {
        ac_free(buf);
        return s;
    }
    r->external_bytes += nbytes;
    *out = buf;
    return AC_OK;
}
