/* SPDX-License-Identifier: MIT */
/* src/base: diagnostics, allocation hooks, arenas, atomic files. */
#include "autocompress/ac_base.h"
#include "check_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(first_failure_wins) {
    ac_diag d = {0};
    ck_assert_int_eq(AC_FAIL(&d, AC_ERR_MODEL, "first %d", 1), AC_ERR_MODEL);
    AC_FAIL(&d, AC_ERR_IO, "second");
    ck_assert_int_eq(d.status, AC_ERR_MODEL);
    ck_assert_str_eq(d.msg, "first 1");
    ck_assert_int_eq(AC_FAIL(NULL, AC_ERR_LIMIT, "no diag"), AC_ERR_LIMIT);
}
END_TEST

START_TEST(where_and_prefix) {
    ac_diag d = {0};
    AC_FAIL(&d, AC_ERR_MODEL, "input \"w3\" is never defined");
    ac_diag_where(&d, "node \"conv_3\" (Conv)");
    ac_diag_where(&d, "ignored, already named");
    ac_diag_prefix(&d, "model.onnx");
    char line[900];
    ck_assert_str_eq(ac_diag_line(&d, line, sizeof line),
                     "model.onnx: node \"conv_3\" (Conv): input \"w3\" is never defined");
}
END_TEST

START_TEST(io_failure_names_errno) {
    ac_diag d = {0};
    ac_fail_io(&d, ENOENT, "cannot open %s", "x.onnx");
    ck_assert_int_eq(d.status, AC_ERR_IO);
    ck_assert_int_eq(d.sys_errno, ENOENT);
    ck_assert_ptr_nonnull(strstr(d.msg, "No such file"));
}
END_TEST

START_TEST(status_names_cover_all) {
    for (int s = 0; s < AC_STATUS_COUNT; s++) ck_assert_ptr_nonnull(ac_status_str((ac_status)s));
    ck_assert_str_eq(ac_status_str(AC_STATUS_COUNT), "unknown status");
}
END_TEST

START_TEST(alloc_fail_injection) {
    ac_alloc_fail_at(2);
    void *a = ac_malloc(10);
    void *b = ac_malloc(10);
    void *c = ac_malloc(10);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(b);
    ck_assert_ptr_nonnull(c);
    ac_free(a);
    ac_free(c);
    ac_alloc_fail_at(0);
    ck_assert_ptr_null(ac_malloc_array(SIZE_MAX / 2, 4)); /* overflow is refused, not wrapped */
}
END_TEST

START_TEST(arena_alignment_and_big_blocks) {
    ac_arena *a;
    ck_assert_int_eq(ac_arena_new(256, &a, NULL), AC_OK);
    for (int i = 1; i < 100; i++) {
        unsigned char *p = ac_arena_alloc(a, (size_t)i);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 16, 0);
        for (int k = 0; k < i; k++) ck_assert_int_eq(p[k], 0);
        memset(p, 0xab, (size_t)i);
    }
    char *big = ac_arena_alloc(a, 10000); /* larger than a chunk */
    ck_assert_ptr_nonnull(big);
    char *s = ac_arena_strndup(a, "abcdef", 3);
    ck_assert_str_eq(s, "abc");
    ck_assert_uint_ge(ac_arena_bytes(a), 10000);
    ac_arena_free(a);
    ac_arena_free(NULL);
}
END_TEST

START_TEST(atomic_write_commit_and_abort) {
    const char *dir = ac_test_tmpdir();
    const char *p = ac_test_path(dir, "out.bin");
    ck_assert_int_eq(ac_file_write_atomic(p, "hello", 5, NULL), AC_OK);
    size_t n;
    uint8_t *got = ac_test_read_file(p, &n);
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(memcmp(got, "hello", 5), 0);
    free(got);
    /* an aborted write leaves the old file and no temp file */
    ac_atomic_file *f;
    ck_assert_int_eq(ac_atomic_open(p, &f, NULL), AC_OK);
    ck_assert_int_eq(ac_atomic_write(f, "partial", 7, NULL), AC_OK);
    ck_assert_int_eq(ac_test_count_files(dir), 2);
    ac_atomic_abort(f);
    ck_assert_int_eq(ac_test_count_files(dir), 1);
    got = ac_test_read_file(p, &n);
    ck_assert_uint_eq(n, 5);
    free(got);
    /* large writes pass through the buffer */
    size_t big = 300000;
    char *buf = malloc(big);
    for (size_t i = 0; i < big; i++) buf[i] = (char)(i * 7);
    ck_assert_int_eq(ac_file_write_atomic(p, buf, big, NULL), AC_OK);
    got = ac_test_read_file(p, &n);
    ck_assert_uint_eq(n, big);
    ck_assert_int_eq(memcmp(got, buf, big), 0);
    free(got);
    free(buf);
    unlink(p);
    rmdir(dir);
}
END_TEST

START_TEST(atomic_write_failures_are_clean) {
    ac_diag d = {0};
    ck_assert_int_eq(ac_file_write_atomic("/nonexistent-dir/x.onnx", "x", 1, &d), AC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(d.msg, "No such file"));
    const char *dir = ac_test_tmpdir();
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_file_write_atomic(dir, "x", 1, &d), AC_ERR_IO); /* a directory */
    ck_assert_int_eq(ac_test_count_files(dir), 0);
    rmdir(dir);
}
END_TEST

START_TEST(read_all_respects_limit) {
    const char *dir = ac_test_tmpdir();
    const char *p = ac_test_path(dir, "f");
    ac_test_write_file(p, "0123456789", 10);
    uint8_t *buf;
    size_t n;
    ac_diag d = {0};
    ck_assert_int_eq(ac_file_read_all(p, 5, &buf, &n, &d), AC_ERR_LIMIT);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(ac_file_read_all(p, 10, &buf, &n, NULL), AC_OK);
    ck_assert_uint_eq(n, 10);
    ac_free(buf);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_file_read_all(dir, 10, &buf, &n, &d), AC_ERR_IO);
    unlink(p);
    rmdir(dir);
}
END_TEST

Suite *ac_test_base_suite(void) {
    Suite *s = suite_create("base");
    TCase *tc = tcase_create("diag");
    tcase_add_test(tc, first_failure_wins);
    tcase_add_test(tc, where_and_prefix);
    tcase_add_test(tc, io_failure_names_errno);
    tcase_add_test(tc, status_names_cover_all);
    suite_add_tcase(s, tc);
    tc = tcase_create("memory");
    tcase_add_test(tc, alloc_fail_injection);
    tcase_add_test(tc, arena_alignment_and_big_blocks);
    suite_add_tcase(s, tc);
    tc = tcase_create("files");
    tcase_add_test(tc, atomic_write_commit_and_abort);
    tcase_add_test(tc, atomic_write_failures_are_clean);
    tcase_add_test(tc, read_all_respects_limit);
    suite_add_tcase(s, tc);
    return s;
}
