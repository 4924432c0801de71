/* SPDX-License-Identifier: MIT */
/* Test images for the eval suites, generated with libjpeg / libpng into files. */
#ifndef AC_EVAL_TEST_H
#define AC_EVAL_TEST_H

#include <stddef.h>
#include <stdint.h>

/* An RGB JPEG of w x h (a smooth pattern) written to path; returns its size in bytes. */
size_t ac_et_write_jpeg(const char *path, int w, int h);
/* A gray PNG of w x h at bit depth 8 or 16, pixel values from `fill` (may be NULL: zeros). */
void ac_et_write_png(const char *path, int w, int h, int bit_depth, const uint8_t *fill);
/* A small gray PNG whose IHDR claims w x h (CRC fixed up): a decompression-bomb header. */
void ac_et_write_png_claiming(const char *path, uint32_t w, uint32_t h);
/* mkdir -p for one level; fails the test on error. */
void ac_et_mkdir(const char *path);

#endif
