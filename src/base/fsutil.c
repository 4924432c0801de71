/* SPDX-License-Identifier: MIT */
/* Whole-file reads with a size cap, and atomic writes (temp file beside the target, fsync,
 * rename, fsync of the folder) so a crash or a full disk never leaves a partial output. */
#define _GNU_SOURCE
#include "autocompress/ac_base.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens a regular file for reading and checks its size against max_bytes before anything is
 * read (AC_ERR_LIMIT); the caller closes *fd. */
static ac_status open_regular(const char *path, size_t max_bytes, int *fd, struct stat *st,
                              ac_diag *d) {
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) return ac_fail_io(d, errno, "cannot open");
    ac_status s = AC_OK;
    if (fstat(*fd, st) != 0)
        s = ac_fail_io(d, errno, "cannot stat");
    else if (!S_ISREG(st->st_mode))
        s = AC_FAIL(d, AC_ERR_IO, "not a regular file");
    else if ((uint64_t)st->st_size > (uint64_t)max_bytes)
        s = AC_FAIL(d, AC_ERR_LIMIT, "file is %lld bytes, over the limit of %zu bytes",
                    (long long)st->st_size, max_bytes);
    if (s != AC_OK) {
        close(*fd);
        *fd = -1;
    }
    return s;
}

ac_status ac_file_read_all(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len,
                           ac_diag *d) {
    *out = NULL;
    *out_len = 0;
    int fd;
    struct stat st;
    AC_TRY(open_regular(path, max_bytes, &fd, &st, d));
    size_t n = (size_t)st.st_size;
    uint8_t *buf = ac_malloc(n + 1);
    if (!buf) {
        close(fd);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory reading %zu bytes", n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            ac_free(buf);
            close(fd);
            return ac_fail_io(d, e, "read failed");
        }
        if (r == 0) break; /* file shrank under us: report what we have */
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    *out = buf;
    *out_len = got;
    return AC_OK;
}

ac_status ac_file_view_open(const char *path, size_t max_bytes, ac_file_view *v, ac_diag *d) {
    memset(v, 0, sizeof *v);
    int fd;
    struct stat st;
    AC_TRY(open_regular(path, max_bytes, &fd, &st, d));
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            (void)madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
            v->data = p;
            v->len = (size_t)st.st_size;
            v->mapped = 1;
            return AC_OK;
        }
    }
    close(fd);
    /* not mappable (or empty): fall back to reading it */
    uint8_t *buf;
    size_t len;
    AC_TRY(ac_file_read_all(path, max_bytes, &buf, &len, d));
    v->data = buf;
    v->len = len;
    return AC_OK;
}

void ac_file_view_drop(const ac_file_view *v, size_t off, size_t len) {
    if (!v->mapped || off >= v->len) return;
    if (len > v->len - off) len = v->len - off;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t start = (off + page - 1) / page * page, end = (off + len) / page * page;
    if (end > start) (void)madvise((void *)(v->data + start), end - start, MADV_DONTNEED);
}

int ac_file_same(const char *a, const char *b) {
    struct stat sa, sb;
    if (!a || !b || stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void ac_file_view_close(ac_file_view *v) {
    if (!v->data) return;
    if (v->mapped)
        munmap((void *)v->data, v->len);
    else
        ac_free((void *)v->data);
    memset(v, 0, sizeof *v);
}

/* ------------------------------------------------------------------------------------------ */

#define ATOMIC_BUF_BYTES (1u << 16)

struct ac_atomic_file {
    int fd;
    char *path;
    char *tmp;
    size_t used;
    unsigned char buf[ATOMIC_BUF_BYTES];
};

ac_status ac_atomic_open(const char *path, ac_atomic_file **out, ac_diag *d) {
    *out = NULL;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return AC_FAIL(d, AC_ERR_IO, "%s: is a directory", path);
    ac_atomic_file *f = ac_calloc(1, sizeof *f);
    char *dcopy = ac_strdup(path), *bcopy = ac_strdup(path);
    size_t tlen = strlen(path) + 32;
    char *tmp = ac_malloc(tlen);
    if (!f || !dcopy || !bcopy || !tmp) {
        ac_free(f), ac_free(dcopy), ac_free(bcopy), ac_free(tmp);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory opening %s", path);
    }
    /* Hidden temp name in the same folder, so rename() stays on one file system. */
    snprintf(tmp, tlen, "%s/.%s.tmp.XXXXXX", dirname(dcopy), basename(bcopy));
    ac_free(dcopy);
    ac_free(bcopy);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        ac_free(f);
        ac_free(tmp);
        return ac_fail_io(d, e, "cannot create a temporary file for %s", path);
    }
    /* mkstemp makes 0600 files; outputs should get the usual 0666 & ~umask */
    static mode_t mask = (mode_t)-1;
    if (mask == (mode_t)-1) {
        mask = umask(022);
        umask(mask);
    }
    (void)fchmod(fd, 0666 & ~mask);
    f->fd = fd;
    f->tmp = tmp;
    f->path = ac_strdup(path);
    if (!f->path) {
        ac_atomic_abort(f);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory opening %s", path);
    }
    *out = f;
    return AC_OK;
}

static ac_status flush_buf(ac_atomic_file *f, ac_diag *d) {
    size_t off = 0;
    while (off < f->used) {
        ssize_t w = write(f->fd, f->buf + off, f->used - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return ac_fail_io(d, errno, "cannot write %s", f->path);
        off += (size_t)w;
    }
    f->used = 0;
    return AC_OK;
}

ac_status ac_atomic_write(ac_atomic_file *f, const void *data, size_t n, ac_diag *d) {
    const unsigned char *p = data;
    while (n > 0) {
        size_t room = ATOMIC_BUF_BYTES - f->used;
        size_t take = n < room ? n : room;
        memcpy(f->buf + f->used, p, take);
        f->used += take;
        p += take;
        n -= take;
        if (f->used == ATOMIC_BUF_BYTES) AC_TRY(flush_buf(f, d));
    }
    return AC_OK;
}

ac_status ac_atomic_commit(ac_atomic_file *f, ac_diag *d) {
    ac_status s = flush_buf(f, d);
    if (s == AC_OK && fsync(f->fd) != 0) s = ac_fail_io(d, errno, "cannot fsync %s", f->path);
    if (s == AC_OK) {
        int fd = f->fd;
        f->fd = -1;
        if (close(fd) != 0) s = ac_fail_io(d, errno, "cannot close %s", f->path);
    }
    if (s == AC_OK && rename(f->tmp, f->path) != 0)
        s = ac_fail_io(d, errno, "cannot rename the temporary file to %s", f->path);
    if (s != AC_OK) {
        ac_atomic_abort(f);
        return s;
    }
    /* Make the rename itself durable. Failure here cannot undo the rename; ignore it. */
    char *dcopy = ac_strdup(f->path);
    if (dcopy) {
        int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        ac_free(dcopy);
    }
    ac_free(f->tmp);
    ac_free(f->path);
    ac_free(f);
    return AC_OK;
}

void ac_atomic_abort(ac_atomic_file *f) {
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    if (f->tmp) unlink(f->tmp);
    ac_free(f->tmp);
    ac_free(f->path);
    ac_free(f);
}

ac_status ac_file_write_atomic(const char *path, const void *data, size_t n, ac_diag *d) {
    ac_atomic_file *f;
    AC_TRY(ac_atomic_open(path, &f, d));
    ac_status s = ac_atomic_write(f, data, n, d);
    if (s != AC_OK) {
        ac_atomic_abort(f);
        return s;
    }
    return ac_atomic_commit(f, d);
}
