/* SPDX-License-Identifier: MIT */
#include "eval_test.h"

#include "check_util.h"
#include "png_encode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <png.h>

size_t ac_et_write_jpeg(const char *path, int w, int h) {
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    unsigned char *mem = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&ci, &mem, &len);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 90, TRUE);
    jpeg_start_compress(&ci, TRUE);
    uint8_t *row = malloc((size_t)w * 3);
    while (ci.next_scanline < ci.image_height) {
        for (int x = 0; x < w * 3; x++) row[x] = (uint8_t)((x * 5 + (int)ci.next_scanline * 3));
        JSAMPROW r = row;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    free(row);
    ac_test_write_file(path, mem, len);
    free(mem);
    return len;
}

typedef struct membuf {
    uint8_t *p;
    size_t n;
} membuf;

/* Gray PNG of w x h from fill (row-major, one byte per pixel; NULL: zeros); 16-bit samples
 * hold the byte in their low half. */
static membuf make_png(int w, int h, int bd, const uint8_t *fill) {
    size_t rowbytes = (size_t)w * (size_t)(bd / 8);
    uint8_t *pix = calloc((size_t)h, rowbytes);
    uint8_t **rows = malloc(sizeof *rows * (size_t)h);
    for (int y = 0; y < h; y++) {
        uint8_t *row = rows[y] = pix + (size_t)y * rowbytes;
        for (int x = 0; x < w; x++) {
            uint8_t v = fill ? fill[(size_t)y * w + x] : 0;
            if (bd == 16) row[2 * x] = 0, row[2 * x + 1] = v;
            else row[x] = v;
        }
    }
    membuf m;
    m.p = ac_test_png_encode(w, h, bd, PNG_COLOR_TYPE_GRAY, 0, NULL, 0, NULL, 0, rows, &m.n);
    free(rows);
    free(pix);
    return m;
}

void ac_et_write_png(const char *path, int w, int h, int bit_depth, const uint8_t *fill) {
    membuf m = make_png(w, h, bit_depth, fill);
    ac_test_write_file(path, m.p, m.n);
    free(m.p);
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void ac_et_write_png_claiming(const char *path, uint32_t w, uint32_t h) {
    membuf m = make_png(8, 8, 8, NULL);
    /* signature (8) + length (4) + "IHDR" (4): width at 16, height at 20, CRC over type+data
     * (17 bytes from offset 12) at 29 */
    put32(m.p + 16, w);
    put32(m.p + 20, h);
    put32(m.p + 29, crc32_of(m.p + 12, 17));
    ac_test_write_file(path, m.p, m.n);
    free(m.p);
}

void ac_et_mkdir(const char *path) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST) ck_abort_msg("mkdir %s failed", path);
}
