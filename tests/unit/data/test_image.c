/* SPDX-License-Identifier: MIT */
/* Decoding: every colour model converted, every bad input (BAD_INPUTS 15-18, 28) refused with
 * its message. Test images are generated here with libjpeg / libpng. */
#include "autocompress/ac_data.h"
#include "png_encode.h"
#include "check_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

static const char *line(const ac_diag *d) {
    static char buf[800];
    return ac_diag_line(d, buf, sizeof buf);
}

/* ---- generators ---------------------------------------------------------------------------*/

/* comps 1 (gray), 3 (RGB) or 4 (CMYK, Adobe-inverted); pattern p(x, y, c). */
static uint8_t px(int x, int y, int c) { return (uint8_t)((x * 7 + y * 13 + c * 50) & 0xff); }

static uint8_t *make_jpeg(int w, int h, int comps, int progressive, int quality, size_t *n) {
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    unsigned char *mem = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&ci, &mem, &len);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = comps;
    ci.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, quality, TRUE);
    if (progressive) jpeg_simple_progression(&ci);
    jpeg_start_compress(&ci, TRUE);
    uint8_t *row = malloc((size_t)w * comps);
    while (ci.next_scanline < ci.image_height) {
        for (int x = 0; x < w; x++)
            for (int c = 0; c < comps; c++)
                row[x * comps + c] = comps == 4 ? (uint8_t)(c == 3 ? 255 : 255 - 60 * c)
                                                : px(x, (int)ci.next_scanline, c);
        JSAMPROW r = row;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    free(row);
    uint8_t *out = malloc(len);
    memcpy(out, mem, len);
    free(mem);
    *n = len;
    return out;
}

/* color_type / bit depth as libpng names them; samples from px(), 16-bit as v * 257. */
static uint8_t *make_png(int w, int h, int ct, int bd, int interlace, size_t *n) {
    int ch = ct == PNG_COLOR_TYPE_RGB ? 3 : ct == PNG_COLOR_TYPE_RGB_ALPHA ? 4
           : ct == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
    size_t rowbytes = ((size_t)w * ch * bd + 7) / 8;
    uint8_t *rows = calloc((size_t)h, rowbytes);
    uint8_t **rp = malloc(sizeof *rp * (size_t)h);
    for (int y = 0; y < h; y++) {
        uint8_t *r = rows + (size_t)y * rowbytes;
        rp[y] = r;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                int v = ct == PNG_COLOR_TYPE_PALETTE ? (x + y) % 4 : px(x, y, c);
                if (bd == 16) {
                    r[(x * ch + c) * 2] = (uint8_t)v, r[(x * ch + c) * 2 + 1] = 0x55;
                } else if (bd == 8) {
                    r[x * ch + c] = (uint8_t)v;
                } else if (bd == 1) {
                    if ((x + y) & 1) r[x / 8] |= (uint8_t)(0x80 >> (x % 8));
                } else if (bd == 2) {
                    r[x / 4] |= (uint8_t)((v & 3) << (6 - 2 * (x % 4)));
                }
            }
    }
    const int pal = ct == PNG_COLOR_TYPE_PALETTE;
    png_color colors[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    png_byte trns[1] = {0};
    uint8_t *out = ac_test_png_encode(w, h, bd, ct, interlace, pal ? colors : NULL, 4,
                                      pal ? trns : NULL, 1, rp, n);
    free(rows);
    free(rp);
    return out;
}

/* ---- decoding -----------------------------------------------------------------------------*/

START_TEST(jpeg_models) {
    ac_diag d = {0};
    ac_image img = {0};
    size_t n;
    /* gray -> RGB replicates, gray stays 1 channel */
    uint8_t *g = make_jpeg(33, 17, 1, 0, 100, &n);
    ck_assert_int_eq(ac_image_decode(g, n, NULL, &img, &d), AC_OK);
    ck_assert_int_eq(img.width, 33);
    ck_assert_int_eq(img.height, 17);
    ck_assert_int_eq(img.channels, 3);
    for (int i = 0; i < 33 * 17; i++) {
        ck_assert_int_eq(img.data[3 * i], img.data[3 * i + 1]);
        ck_assert_int_eq(img.data[3 * i], img.data[3 * i + 2]);
    }
    uint8_t first = img.data[3 * 40];
    ac_decode_opts go = {.format = AC_PIXFMT_GRAY};
    ck_assert_int_eq(ac_image_decode(g, n, &go, &img, &d), AC_OK);
    ck_assert_int_eq(img.channels, 1);
    ck_assert_int_eq(img.data[40], first);
    free(g);
    /* RGB vs BGR are channel swaps of each other; values near the source at q100 */
    uint8_t *c = make_jpeg(16, 16, 3, 0, 100, &n);
    ck_assert_int_eq(ac_image_decode(c, n, NULL, &img, &d), AC_OK);
    uint8_t rgb[3] = {img.data[3 * 20], img.data[3 * 20 + 1], img.data[3 * 20 + 2]};
    ck_assert_int_le(abs((int)rgb[0] - px(4, 1, 0)), 6);
    ac_decode_opts bo = {.format = AC_PIXFMT_BGR};
    ck_assert_int_eq(ac_image_decode(c, n, &bo, &img, &d), AC_OK);
    ck_assert_int_eq(img.data[3 * 20], rgb[2]);
    ck_assert_int_eq(img.data[3 * 20 + 2], rgb[0]);
    free(c);
    /* progressive decodes to the same size */
    uint8_t *p = make_jpeg(40, 24, 3, 1, 90, &n);
    ck_assert_int_eq(ac_image_decode(p, n, NULL, &img, &d), AC_OK);
    ck_assert_int_eq(img.width, 40);
    /* ... unless the scan cap is below its scan count (libjpeg's simple progression: 10) */
    ac_decode_opts so = {.max_scans = 3};
    ck_assert_int_eq(ac_image_decode(p, n, &so, &img, &d), AC_ERR_LIMIT);
    ck_assert_str_eq(line(&d), "too many progressive scans (> 3)");
    ac_diag_clear(&d);
    free(p);
    /* CMYK written by libjpeg carries the Adobe marker: stored values are inverted, so
     * C = 255 (no ink) and K = 255 (no black) give white-ish channels 255, 195, 135 */
    uint8_t *k = make_jpeg(8, 8, 4, 0, 100, &n);
    ck_assert_int_eq(ac_image_decode(k, n, NULL, &img, &d), AC_OK);
    ck_assert_int_eq(img.channels, 3);
    ck_assert_int_le(abs(img.data[0] - 255), 2);
    ck_assert_int_le(abs(img.data[1] - 195), 2);
    ck_assert_int_le(abs(img.data[2] - 135), 2);
    free(k);
    ac_image_release(&img);
    ac_image_release(NULL);
}
END_TEST

START_TEST(png_models) {
    ac_diag d = {0};
    ac_image img = {0};
    size_t n;
    struct {
        int ct, bd, il;
    } cases[] = {{PNG_COLOR_TYPE_PALETTE, 8, 0}, {PNG_COLOR_TYPE_RGB, 16, 0},
                 {PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0}, {PNG_COLOR_TYPE_RGB, 8, 1},
                 {PNG_COLOR_TYPE_GRAY, 1, 0}, {PNG_COLOR_TYPE_GRAY, 2, 1},
                 {PNG_COLOR_TYPE_RGB_ALPHA, 8, 0}, {PNG_COLOR_TYPE_GRAY, 16, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *b = make_png(13, 9, cases[i].ct, cases[i].bd, cases[i].il, &n);
        ck_assert_msg(ac_image_decode(b, n, NULL, &img, &d) == AC_OK, "case %zu: %s", i, line(&d));
        ck_assert_int_eq(img.width, 13);
        ck_assert_int_eq(img.height, 9);
        ck_assert_int_eq(img.channels, 3);
        uint8_t *q = img.data + (2 * 13 + 5) * 3; /* pixel (5, 2) */
        switch (i) {
        case 0: /* palette index (5+2)%4 = 3 -> {10,20,30}; tRNS ignored */
            ck_assert(q[0] == 10 && q[1] == 20 && q[2] == 30);
            break;
        case 1: case 3: case 6: /* 16-bit keeps the high byte; RGBA drops alpha */
            ck_assert(q[0] == px(5, 2, 0) && q[1] == px(5, 2, 1) && q[2] == px(5, 2, 2));
            break;
        case 2: case 7:
            ck_assert(q[0] == px(5, 2, 0) && q[1] == q[0] && q[2] == q[0]);
            break;
        case 4: /* 1-bit: (5+2)&1 = 1 -> 255 */
            ck_assert(q[0] == 255 && q[2] == 255);
            break;
        case 5: /* 2-bit value px & 3 scaled by 85 */
            ck_assert_int_eq(q[0], (px(5, 2, 0) & 3) * 85);
            break;
        }
        free(b);
    }
    /* BGR and GRAY outputs */
    uint8_t *b = make_png(4, 4, PNG_COLOR_TYPE_RGB, 8, 0, &n);
    ac_decode_opts bo = {.format = AC_PIXFMT_BGR}, go = {.format = AC_PIXFMT_GRAY};
    ck_assert_int_eq(ac_image_decode(b, n, &bo, &img, &d), AC_OK);
    ck_assert_int_eq(img.data[0], px(0, 0, 2));
    ck_assert_int_eq(ac_image_decode(b, n, &go, &img, &d), AC_OK);
    ck_assert_int_eq(img.channels, 1);
    free(b);
    ac_image_release(&img);
}
END_TEST

START_TEST(bad_images) {
    ac_diag d = {0};
    ac_image img = {0};
    size_t n;
    /* truncated JPEG: a warning in libjpeg, an error here */
    uint8_t *j = make_jpeg(64, 64, 3, 0, 90, &n);
    ck_assert_int_eq(ac_image_decode(j, n / 2, NULL, &img, &d), AC_ERR_FORMAT);
    ck_assert_msg(strstr(line(&d), "corrupt JPEG: Premature end of JPEG file"), "%s", line(&d));
    ck_assert_int_eq(img.width, 0);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_image_decode(j, 200, NULL, &img, &d), AC_ERR_FORMAT);
    ck_assert(strstr(line(&d), "corrupt JPEG"));
    ac_diag_clear(&d);
    /* random bytes after SOI */
    uint8_t junk[300] = {0xff, 0xd8, 0xff};
    for (int i = 3; i < 300; i++) junk[i] = (uint8_t)(i * 37 + 11);
    ck_assert_int_eq(ac_image_decode(junk, sizeof junk, NULL, &img, &d), AC_ERR_FORMAT);
    ac_diag_clear(&d);
    /* SOF height 0 */
    for (size_t i = 0; i + 8 < n; i++)
        if (j[i] == 0xff && j[i + 1] == 0xc0) {
            j[i + 5] = 0, j[i + 6] = 0;
            break;
        }
    ck_assert_int_eq(ac_image_decode(j, n, NULL, &img, &d), AC_ERR_FORMAT);
    ck_assert_str_eq(line(&d), "image has zero width/height");
    ac_diag_clear(&d);
    free(j);
    /* JPEG over the pixel cap, refused from the header */
    j = make_jpeg(64, 64, 1, 0, 90, &n);
    ac_decode_opts cap = {.max_pixels = 1000};
    ck_assert_int_eq(ac_image_decode(j, n, &cap, &img, &d), AC_ERR_LIMIT);
    ck_assert(strstr(line(&d), "image 64x64 exceeds pixel limit"));
    ac_diag_clear(&d);
    free(j);
    /* truncated PNG */
    uint8_t *p = make_png(32, 32, PNG_COLOR_TYPE_RGB, 8, 0, &n);
    ck_assert_int_eq(ac_image_decode(p, n - 30, NULL, &img, &d), AC_ERR_FORMAT);
    ck_assert_msg(strstr(line(&d), "corrupt PNG"), "%s", line(&d));
    ac_diag_clear(&d);
    /* PNG claiming 100000x100000: refused before libpng or we allocate anything */
    p[16] = 0, p[17] = 0x01, p[18] = 0x86, p[19] = 0xa0;
    p[20] = 0, p[21] = 0x01, p[22] = 0x86, p[23] = 0xa0;
    int64_t before = ac_alloc_count();
    ck_assert_int_eq(ac_image_decode(p, n, NULL, &img, &d), AC_ERR_LIMIT);
    ck_assert_int_eq(ac_alloc_count(), before);
    ck_assert_str_eq(line(&d), "image 100000x100000 exceeds pixel limit (64 MP)");
    ac_diag_clear(&d);
    /* IHDR width 0 */
    p[16] = p[17] = p[18] = p[19] = 0;
    ck_assert_int_eq(ac_image_decode(p, n, NULL, &img, &d), AC_ERR_FORMAT);
    ck_assert_str_eq(line(&d), "image has zero width/height");
    ac_diag_clear(&d);
    free(p);
    /* wrong content */
    const char *html = "<!DOCTYPE html><html><body>404</body></html>";
    ck_assert_int_eq(ac_image_decode(html, strlen(html), NULL, &img, &d), AC_ERR_FORMAT);
    ck_assert_str_eq(line(&d), "not a JPEG or PNG image (looks like HTML)");
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_image_decode("", 0, NULL, &img, &d), AC_ERR_FORMAT);
    ck_assert_str_eq(line(&d), "not a JPEG or PNG image (looks like empty file)");
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_image_sniff("GIF89a...", 9, NULL), AC_IMAGE_UNKNOWN);
    /* a PNG named .jpg decodes as PNG; errors from files carry the path */
    p = make_png(5, 5, PNG_COLOR_TYPE_GRAY, 8, 0, &n);
    const char *dir = ac_test_tmpdir();
    const char *f = ac_test_path(dir, "really_png.jpg");
    ac_test_write_file(f, p, n);
    ck_assert_int_eq(ac_image_read(f, NULL, &img, &d), AC_OK);
    ck_assert_int_eq(img.width, 5);
    const char *hf = ac_test_path(dir, "page.jpg");
    ac_test_write_file(hf, html, strlen(html));
    ck_assert_int_eq(ac_image_read(hf, NULL, &img, &d), AC_ERR_FORMAT);
    ck_assert(strstr(line(&d), "page.jpg: not a JPEG or PNG image (looks like HTML)"));
    free(p);
    ac_image_release(&img);
}
END_TEST

START_TEST(masks) {
    ac_diag d = {0};
    ac_image m = {0};
    size_t n;
    uint8_t *p = make_png(7, 6, PNG_COLOR_TYPE_GRAY, 8, 0, &n);
    ck_assert_int_eq(ac_mask_decode(p, n, NULL, &m, &d), AC_OK);
    ck_assert_int_eq(m.channels, 1);
    ck_assert_int_eq(m.data[7 * 2 + 3], px(3, 2, 0));
    free(p);
    p = make_png(7, 6, PNG_COLOR_TYPE_PALETTE, 8, 0, &n); /* indices are labels */
    ck_assert_int_eq(ac_mask_decode(p, n, NULL, &m, &d), AC_OK);
    ck_assert_int_eq(m.data[7 * 2 + 3], (3 + 2) % 4);
    free(p);
    struct { int ct, bd; const char *what; } bad[] = {
        {PNG_COLOR_TYPE_GRAY, 16, "16-bit gray"}, {PNG_COLOR_TYPE_RGB, 8, "8-bit RGB"},
        {PNG_COLOR_TYPE_GRAY_ALPHA, 8, "8-bit gray+alpha"}};
    for (int i = 0; i < 3; i++) {
        p = make_png(4, 4, bad[i].ct, bad[i].bd, 0, &n);
        ac_diag_clear(&d);
        ck_assert_int_eq(ac_mask_decode(p, n, NULL, &m, &d), AC_ERR_FORMAT);
        char want[120];
        snprintf(want, sizeof want, "mask must be an 8-bit single-channel PNG (got %s)",
                 bad[i].what);
        ck_assert_str_eq(line(&d), want);
        free(p);
    }
    uint8_t *j = make_jpeg(4, 4, 1, 0, 90, &n);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_mask_decode(j, n, NULL, &m, &d), AC_ERR_FORMAT);
    free(j);
    const char *sh = ac_test_shared_dir();
    if (sh) {
        char path[1024];
        snprintf(path, sizeof path, "%s/datasets/fmnist-scenes/masks/00000.png", sh);
        ac_diag_clear(&d);
        ck_assert_msg(ac_mask_read(path, NULL, &m, &d) == AC_OK, "%s", line(&d));
        ck_assert_int_eq(m.width, 160);
        int maxv = 0;
        for (int i = 0; i < 160 * 160; i++) maxv = m.data[i] > maxv ? m.data[i] : maxv;
        ck_assert_int_le(maxv, 10);
        ck_assert_int_ge(maxv, 1);
    }
    ac_image_release(&m);
}
END_TEST

START_TEST(alloc_failures) {
    size_t n;
    uint8_t *j = make_jpeg(20, 20, 4, 1, 90, &n);
    uint8_t *p = make_png(20, 20, PNG_COLOR_TYPE_RGB, 8, 1, &n);
    size_t pn = n;
    (void)make_jpeg;
    for (int which = 0; which < 2; which++)
        for (int64_t i = 1; i < 20; i++) {
            ac_diag d = {0};
            ac_image img = {0};
            ac_alloc_fail_at(i);
            ac_status s = which ? ac_image_decode(p, pn, NULL, &img, &d)
                                : ac_image_decode(j, 0, NULL, &img, &d);
            ac_alloc_fail_at(0);
            ac_image_release(&img);
            if (s == AC_OK) break;
            ck_assert(s == AC_ERR_NOMEM || (which == 0 && s == AC_ERR_FORMAT));
        }
    free(j);
    free(p);
}
END_TEST

Suite *ac_test_data_image(void) {
    Suite *s = suite_create("data_image");
    TCase *t = tcase_create("decode");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, jpeg_models);
    tcase_add_test(t, png_models);
    tcase_add_test(t, bad_images);
    tcase_add_test(t, masks);
    tcase_add_test(t, alloc_failures);
    suite_add_tcase(s, t);
    return s;
}
