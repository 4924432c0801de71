/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "check_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

const char *ac_test_shared_dir(void) {
    const char *s = getenv("AC_SHARED_DIR");
    struct stat st;
    if (!s || stat(s, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    return s;
}

const char *ac_test_cli(void) {
    const char *s = getenv("AC_CLI");
    return s ? s : "autocompress";
}

const char *ac_test_source_dir(void) {
    const char *s = getenv("AC_SOURCE_DIR");
    return s ? s : ".";
}

const char *ac_test_tmpdir(void) {
    static char bufs[8][256];
    static int k;
    char *b = bufs[k++ & 7];
    const char *base = getenv("TMPDIR");
    snprintf(b, 256, "%s/actest.XXXXXX", base ? base : "/tmp");
    ck_assert_msg(mkdtemp(b) != NULL, "mkdtemp failed");
    return b;
}

const char *ac_test_path(const char *dir, const char *name) {
    static char bufs[8][1024];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, 1024, "%s/%s", dir, name);
    return b;
}

void ac_test_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

uint8_t *ac_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int ac_test_run_cli(const char *args, char **output) {
    size_t cl = strlen(ac_test_cli()) + strlen(args) + 32;
    char *cmd = malloc(cl);
    ck_assert_ptr_nonnull(cmd);
    snprintf(cmd, cl, "'%s' %s 2>&1", ac_test_cli(), args);
    FILE *p = popen(cmd, "r");
    free(cmd);
    ck_assert_ptr_nonnull(p);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    size_t k;
    while ((k = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += k;
        if (cap - len < 2) {
            cap *= 2;
            out = realloc(out, cap);
            ck_assert_ptr_nonnull(out);
        }
    }
    out[len] = 0;
    int st = pclose(p);
    if (output)
        *output = out;
    else
        free(out);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

int ac_test_count_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

uint64_t ac_test_rng_next(ac_test_rng *r) {
    if (!r->s) r->s = 7767517;
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

float ac_test_rng_float(ac_test_rng *r) {
    return (float)((ac_test_rng_next(r) >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}
