/* SPDX-License-Identifier: MIT */
/* PNG encoding for tests that need image files (data decoders, evaluation datasets). */
#ifndef AC_TEST_PNG_ENCODE_H
#define AC_TEST_PNG_ENCODE_H

#include <png.h>
#include <stddef.h>
#include <stdint.h>

/* Encodes rows[0..h) (each in PNG's packed layout for bit_depth and color_type) as a PNG in
 * memory; returns a malloc'd buffer of *n bytes. For PNG_COLOR_TYPE_PALETTE, `palette` and
 * `trns` (either may be NULL) become the PLTE and tRNS chunks. */
uint8_t *ac_test_png_encode(int w, int h, int bit_depth, int color_type, int interlace,
                            const png_color *palette, int n_palette, const png_byte *trns,
                            int n_trns, uint8_t *const *rows, size_t *n);

#endif
