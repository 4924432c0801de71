/* SPDX-License-Identifier: MIT */
#include "eval_test.h"

#include "check_util.h"

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
    size_t n, cap;
} membuf;

static void png_w(png_structp png, png_bytep data, size_t len) {
    membuf *m = png_get_io_ptr(png);
    if (m->n + len > m->cap) {
        m->cap = (m->n + len) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, data, len);
    m->n += len;
}
static void png_f(png_structp png) { (void)png; }

static membuf make_png(int w, int h, int bd, const uint8_t *fill) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    membuf m = {0};
    png_set_write_fn(png, &m, png_w, png_f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bd, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t rowbytes = (size_t)w * (size_t)(bd / 8);
    uint8_t *row = calloc(1, rowbytes);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t v = fill ? fill[(size_t)y * w + x] : 0;
            if (bd == 16) row[2 * x] = 0, row[2 * x + 1] = v;
            else row[x] = v;
        }
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
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
