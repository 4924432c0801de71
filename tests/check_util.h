/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check suites: paths, temp folders, files, running the CLI, RNG. */
#ifndef AC_CHECK_UTIL_H
#define AC_CHECK_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* ../shared (from AC_SHARED_DIR) if it exists, else NULL: tests then skip that part. */
const char *ac_test_shared_dir(void);
/* Path of the built autocompress executable (AC_CLI). */
const char *ac_test_cli(void);
/* Repository root (AC_SOURCE_DIR). */
const char *ac_test_source_dir(void);
/* A new empty temp folder (removed by the OS's tmp cleaning; tests remove what they can). */
const char *ac_test_tmpdir(void);
/* Joins two path parts into a static rotating buffer (valid for the next 8 calls). */
const char *ac_test_path(const char *dir, const char *name);
/* Writes bytes to a file; fails the test on error. */
void ac_test_write_file(const char *path, const void *data, size_t n);
/* Reads a file into a malloc'd buffer (free()); fails the test on error. */
uint8_t *ac_test_read_file(const char *path, size_t *len);
/* Runs `autocompress <args>` through /bin/sh, stdout+stderr captured into *output (malloc'd,
 * may be NULL); returns the exit status (128+signal if killed). */
int ac_test_run_cli(const char *args, char **output);
/* Number of files in a folder (to prove nothing was written). */
int ac_test_count_files(const char *dir);

/* Deterministic xorshift64* generator (tests never use rand()). */
typedef struct ac_test_rng {
    uint64_t s;
} ac_test_rng;
uint64_t ac_test_rng_next(ac_test_rng *r);
float ac_test_rng_float(ac_test_rng *r); /* uniform in [-1, 1) */

#endif
