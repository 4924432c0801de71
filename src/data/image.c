/* SPDX-License-Identifier: MIT */
/* JPEG (libjpeg-turbo) and PNG (libpng) decoding with the checks of BAD_INPUTS cases 15-18 and
 * 28: type by magic bytes, pixel cap from the header before any pixel buffer exists, warnings
 * as errors for JPEG, progressive scan cap, every colour model converted to 8-bit. */
#include "autocompress/ac_data.h"

#include <limits.h>
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#define DEFAULT_MAX_PIXELS ((int64_t)64 << 20)
#define DEFAULT_MAX_SCANS 100
#define MAX_IMAGE_FILE ((size_t)256 << 20)

static const uint8_t PNG_MAGIC[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

ac_image_type ac_image_sniff(const void *buf, size_t n, const char **what) {
    const uint8_t *b = buf;
    const char *w = "unknown data";
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return AC_IMAGE_JPEG;
    if (n >= 8 && !memcmp(b, PNG_MAGIC, 8)) return AC_IMAGE_PNG;
    if (n == 0) {
        w = "empty file";
    } else if (n >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6))) {
        w = "GIF";
    } else if (n >= 2 && b[0] == 'B' && b[1] == 'M') {
        w = "BMP";
    } else if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) {
        w = "WebP";
    } else if (n >= 4 && (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4))) {
        w = "TIFF";
    } else if (n >= 12 && !memcmp(b + 4, "ftyp", 4)) {
        w = "HEIF/AVIF or MP4";
    } else {
        /* text formats: skip a BOM and blanks, then look at the first word */
        size_t i = 0;
        if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) i = 3;
        while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) i++;
        char head[16] = {0};
        for (size_t k = 0; k < sizeof head - 1 && i + k < n; k++) {
            char c = (char)b[i + k];
            head[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        if (!strncmp(head, "<!doctype html", 14) || !strncmp(head, "<html", 5) ||
            !strncmp(head, "<head", 5) || !strncmp(head, "<body", 5))
            w = "HTML";
        else if (!strncmp(head, "<?xml", 5) || !strncmp(head, "<svg", 4))
            w = "XML/SVG";
        else if (head[0] == '{' || head[0] == '[')
            w = "JSON";
    }
    if (what) *what = w;
    return AC_IMAGE_UNKNOWN;
}

void ac_image_release(ac_image *img) {
    if (!img) return;
    ac_free(img->data);
    memset(img, 0, sizeof *img);
}

static ac_status check_dims(int64_t w, int64_t h, int64_t max_pixels, ac_diag *d) {
    if (w <= 0 || h <= 0) return AC_FAIL(d, AC_ERR_FORMAT, "image has zero width/height");
    if (w > max_pixels / h)
        return AC_FAIL(d, AC_ERR_LIMIT, "image %lldx%lld exceeds pixel limit (%lld MP)",
                       (long long)w, (long long)h, (long long)(max_pixels >> 20));
    return AC_OK;
}

static ac_status reserve(ac_image *img, int64_t w, int64_t h, int32_t c, ac_diag *d) {
    size_t need = (size_t)w * (size_t)h * (size_t)c;
    if (need > img->capacity) {
        uint8_t *p = ac_malloc(need);
        if (!p) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for a %lldx%lld image",
                               (long long)w, (long long)h);
        ac_free(img->data);
        img->data = p;
        img->capacity = need;
    }
    img->width = (int32_t)w;
    img->height = (int32_t)h;
    img->channels = c;
    return AC_OK;
}

static void resolve_opts(const ac_decode_opts *o, ac_decode_opts *r) {
    ac_decode_opts def = {0};
    *r = o ? *o : def;
    if (r->max_pixels <= 0) r->max_pixels = DEFAULT_MAX_PIXELS;
    if (r->max_scans <= 0) r->max_scans = DEFAULT_MAX_SCANS;
}

/* ---- JPEG ----------------------------------------------------------------------------------*/

typedef struct jerr_mgr {
    struct jpeg_error_mgr pub;
    struct jpeg_progress_mgr progress;
    jmp_buf jb;
    int32_t max_scans;
    ac_status status;
    char msg[JMSG_LENGTH_MAX + 64];
} jerr_mgr;

static void j_error_exit(j_common_ptr c) {
    jerr_mgr *e = (jerr_mgr *)c->err;
    char text[JMSG_LENGTH_MAX];
    c->err->format_message(c, text);
    if (c->err->msg_code == JERR_EMPTY_IMAGE || c->err->msg_code == JERR_IMAGE_TOO_BIG) {
        e->status = c->err->msg_code == JERR_EMPTY_IMAGE ? AC_ERR_FORMAT : AC_ERR_LIMIT;
        snprintf(e->msg, sizeof e->msg, "%s",
                 c->err->msg_code == JERR_EMPTY_IMAGE ? "image has zero width/height" : text);
    } else if (c->err->msg_code == JERR_OUT_OF_MEMORY) {
        e->status = AC_ERR_NOMEM;
        snprintf(e->msg, sizeof e->msg, "out of memory decoding JPEG: %s", text);
    } else {
        e->status = AC_ERR_FORMAT;
        snprintf(e->msg, sizeof e->msg, "corrupt JPEG: %s", text);
    }
    longjmp(e->jb, 1);
}

/* Warnings (level -1) are errors: libjpeg's default is to fill the rest of a truncated image
 * with gray and report success. Trace messages (level >= 0) are ignored. */
static void j_emit_message(j_common_ptr c, int level) {
    if (level >= 0) return;
    jerr_mgr *e = (jerr_mgr *)c->err;
    char text[JMSG_LENGTH_MAX];
    c->err->format_message(c, text);
    e->status = AC_ERR_FORMAT;
    snprintf(e->msg, sizeof e->msg, "corrupt JPEG: %s", text);
    longjmp(e->jb, 1);
}

static void j_output_message(j_common_ptr c) { (void)c; }

/* A progressive file can declare thousands of scans, each one a full pass over the
 * coefficients (djpeg -maxscans; fuzzers use 100). */
static void j_progress(j_common_ptr c) {
    jerr_mgr *e = (jerr_mgr *)c->err;
    if (!c->is_decompressor) return;
    j_decompress_ptr di = (j_decompress_ptr)c;
    if (di->input_scan_number > e->max_scans) {
        e->status = AC_ERR_LIMIT;
        snprintf(e->msg, sizeof e->msg, "too many progressive scans (> %d)", (int)e->max_scans);
        longjmp(e->jb, 1);
    }
}

static inline uint8_t mul255(int a, int b) { return (uint8_t)((a * b + 127) / 255); }

/* CMYK -> RGB/BGR/GRAY in place order-safe (4 -> 3 or 1 channels, front to back). Adobe
 * Photoshop writes CMYK/YCCK JPEGs with inverted values (an APP14 "Adobe" marker says so);
 * then 255 - value is the ink amount, and R = (1-C)(1-K) = c_stored * k_stored / 255. Without
 * that marker, values are ink amounts: R = (255-C)(255-K)/255. */
static void cmyk_convert(const uint8_t *src, uint8_t *dst, int32_t w, int inverted,
                         ac_pixfmt fmt) {
    for (int32_t x = 0; x < w; x++) {
        int c = src[4 * x], m = src[4 * x + 1], y = src[4 * x + 2], k = src[4 * x + 3];
        if (!inverted) c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
        uint8_t r = mul255(c, k), g = mul255(m, k), b = mul255(y, k);
        if (fmt == AC_PIXFMT_GRAY) {
            /* the BT.601 weights libjpeg uses for rgb -> gray */
            dst[x] = (uint8_t)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
        } else if (fmt == AC_PIXFMT_BGR) {
            dst[3 * x] = b, dst[3 * x + 1] = g, dst[3 * x + 2] = r;
        } else {
            dst[3 * x] = r, dst[3 * x + 1] = g, dst[3 * x + 2] = b;
        }
    }
}

typedef struct jpeg_job {
    struct jpeg_decompress_struct cinfo;
    jerr_mgr err;
    uint8_t *cmyk_row;
} jpeg_job;

static ac_status decode_jpeg(const uint8_t *buf, size_t n, const ac_decode_opts *o,
                             ac_image *img, ac_diag *d) {
    /* heap, not stack: the struct outlives nothing across longjmp, but volatile-free access
     * to locals modified after setjmp is simpler through a pointer */
    jpeg_job *job = ac_calloc(1, sizeof *job);
    if (!job) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory decoding JPEG");
    struct jpeg_decompress_struct *ci = &job->cinfo;
    ac_status s = AC_OK;
    ci->err = jpeg_std_error(&job->err.pub);
    job->err.pub.error_exit = j_error_exit;
    job->err.pub.emit_message = j_emit_message;
    job->err.pub.output_message = j_output_message;
    job->err.max_scans = o->max_scans;
    if (setjmp(job->err.jb)) {
        s = AC_FAIL(d, job->err.status ? job->err.status : AC_ERR_FORMAT, "%s", job->err.msg);
        goto out;
    }
    jpeg_create_decompress(ci);
    job->err.progress.progress_monitor = j_progress;
    ci->progress = &job->err.progress;
    if (n > (size_t)ULONG_MAX) {
        s = AC_FAIL(d, AC_ERR_LIMIT, "JPEG too large");
        goto out;
    }
    jpeg_mem_src(ci, buf, (unsigned long)n);
    jpeg_read_header(ci, TRUE);
    s = check_dims(ci->image_width, ci->image_height, o->max_pixels, d);
    if (s != AC_OK) goto out;
    int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    int32_t out_c = o->format == AC_PIXFMT_GRAY ? 1 : 3;
    if (cmyk)
        ci->out_color_space = JCS_CMYK;
    else if (o->format == AC_PIXFMT_GRAY)
        ci->out_color_space = JCS_GRAYSCALE;
    else
        ci->out_color_space = o->format == AC_PIXFMT_BGR ? JCS_EXT_BGR : JCS_RGB;
    /* the decoder settings OpenCV and PIL leave at libjpeg's defaults (ISLOW DCT, fancy
     * upsampling) are left alone, so pixels match theirs */
    jpeg_start_decompress(ci);
    if ((int32_t)ci->output_components != (cmyk ? 4 : out_c)) {
        s = AC_FAIL(d, AC_ERR_INTERNAL, "libjpeg produced %d components, expected %d",
                    ci->output_components, cmyk ? 4 : out_c);
        goto out;
    }
    s = reserve(img, ci->output_width, ci->output_height, out_c, d);
    if (s != AC_OK) goto out;
    if (cmyk) {
        job->cmyk_row = ac_malloc_array(ci->output_width, 4);
        if (!job->cmyk_row) {
            s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory decoding JPEG");
            goto out;
        }
    }
    size_t stride = (size_t)ci->output_width * (size_t)out_c;
    while (ci->output_scanline < ci->output_height) {
        uint8_t *row = img->data + (size_t)ci->output_scanline * stride;
        JSAMPROW rp = cmyk ? job->cmyk_row : row;
        jpeg_read_scanlines(ci, &rp, 1);
        if (cmyk)
            cmyk_convert(job->cmyk_row, row, (int32_t)ci->output_width, ci->saw_Adobe_marker,
                         o->format);
    }
    /* reads to EOI, so trailing corruption still raises its warning (= error) */
    jpeg_finish_decompress(ci);
out:
    jpeg_destroy_decompress(ci);
    ac_free(job->cmyk_row);
    ac_free(job);
    return s;
}

/* ---- PNG -----------------------------------------------------------------------------------*/

typedef struct png_src {
    const uint8_t *buf;
    size_t n, pos;
    char msg[256];
    ac_status status;
} png_src;

static void p_read(png_structp png, png_bytep out, size_t len) {
    png_src *src = png_get_io_ptr(png);
    if (len > src->n - src->pos) png_error(png, "truncated file (unexpected end of data)");
    memcpy(out, src->buf + src->pos, len);
    src->pos += len;
}

static void p_error(png_structp png, png_const_charp msg) {
    png_src *src = png_get_error_ptr(png);
    snprintf(src->msg, sizeof src->msg, "corrupt PNG: %s", msg);
    src->status = AC_ERR_FORMAT;
    png_longjmp(png, 1);
}

/* libpng warnings are about ancillary data (bad iCCP profiles, extra zlib bytes) and never
 * mean missing pixels (those are png_error), so they are dropped. */
static void p_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* Width and height straight from the IHDR bytes, so the cap and the zero check come before
 * libpng allocates anything for the image. Returns 0 if the header is not there. */
static int png_ihdr_dims(const uint8_t *b, size_t n, int64_t *w, int64_t *h) {
    if (n < 24 || memcmp(b + 12, "IHDR", 4)) return 0;
    *w = ((int64_t)b[16] << 24) | (b[17] << 16) | (b[18] << 8) | b[19];
    *h = ((int64_t)b[20] << 24) | (b[21] << 16) | (b[22] << 8) | b[23];
    return 1;
}

typedef struct png_job {
    png_structp png;
    png_infop info;
    png_bytep *rows;
    png_src src;
} png_job;

static const char *png_color_name(int ct) {
    switch (ct) {
    case PNG_COLOR_TYPE_GRAY: return "gray";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "gray+alpha";
    case PNG_COLOR_TYPE_PALETTE: return "palette";
    case PNG_COLOR_TYPE_RGB: return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    default: return "unknown";
    }
}

/* mask = 1: label map, no conversion beyond unpacking; refuse anything not 1-channel 8-bit. */
static ac_status decode_png(const uint8_t *buf, size_t n, const ac_decode_opts *o, int mask,
                            ac_image *img, ac_diag *d) {
    int64_t w0, h0;
    if (png_ihdr_dims(buf, n, &w0, &h0)) AC_TRY(check_dims(w0, h0, o->max_pixels, d));
    png_job *job = ac_calloc(1, sizeof *job);
    if (!job) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory decoding PNG");
    ac_status s = AC_OK;
    job->src.buf = buf;
    job->src.n = n;
    job->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job->src, p_error, p_warning);
    if (job->png) job->info = png_create_info_struct(job->png);
    if (!job->png || !job->info) {
        s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory decoding PNG");
        goto out;
    }
    if (setjmp(png_jmpbuf(job->png))) {
        s = AC_FAIL(d, job->src.status ? job->src.status : AC_ERR_FORMAT, "%s", job->src.msg);
        goto out;
    }
    png_set_read_fn(job->png, &job->src, p_read);
    png_read_info(job->png, job->info);
    png_uint_32 w = png_get_image_width(job->png, job->info);
    png_uint_32 h = png_get_image_height(job->png, job->info);
    int ct = png_get_color_type(job->png, job->info);
    int bd = png_get_bit_depth(job->png, job->info);
    s = check_dims(w, h, o->max_pixels, d);
    if (s != AC_OK) goto out;
    int32_t out_c;
    if (mask) {
        if ((ct != PNG_COLOR_TYPE_GRAY && ct != PNG_COLOR_TYPE_PALETTE) || bd > 8) {
            s = AC_FAIL(d, AC_ERR_FORMAT,
                        "mask must be an 8-bit single-channel PNG (got %d-bit %s)", bd,
                        png_color_name(ct));
            goto out;
        }
        /* labels stay as stored: palette indices are class ids, gray 1/2/4-bit unpacked
         * without scaling */
        if (bd < 8) png_set_packing(job->png);
        out_c = 1;
    } else {
        if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(job->png);
        if (ct == PNG_COLOR_TYPE_GRAY && bd < 8) png_set_expand_gray_1_2_4_to_8(job->png);
        /* high byte, as OpenCV's png_set_strip_16 */
        if (bd == 16) png_set_strip_16(job->png);
        /* also covers the alpha that palette/tRNS expansion creates */
        png_set_strip_alpha(job->png);
        int gray_src = ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA;
        if (o->format == AC_PIXFMT_GRAY) {
            if (!gray_src) png_set_rgb_to_gray_fixed(job->png, 1, -1, -1);
            out_c = 1;
        } else {
            if (gray_src) png_set_gray_to_rgb(job->png);
            if (o->format == AC_PIXFMT_BGR) png_set_bgr(job->png);
            out_c = 3;
        }
    }
    png_set_interlace_handling(job->png);
    png_read_update_info(job->png, job->info);
    size_t rowbytes = png_get_rowbytes(job->png, job->info);
    if (rowbytes != (size_t)w * (size_t)out_c) {
        s = AC_FAIL(d, AC_ERR_INTERNAL, "libpng row is %zu bytes, expected %zu", rowbytes,
                    (size_t)w * (size_t)out_c);
        goto out;
    }
    s = reserve(img, w, h, out_c, d);
    if (s != AC_OK) goto out;
    job->rows = ac_malloc_array(h, sizeof *job->rows);
    if (!job->rows) {
        s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory decoding PNG");
        goto out;
    }
    for (png_uint_32 y = 0; y < h; y++) job->rows[y] = img->data + (size_t)y * rowbytes;
    png_read_image(job->png, job->rows);
    png_read_end(job->png, NULL);
out:
    png_destroy_read_struct(job->png ? &job->png : NULL, job->info ? &job->info : NULL, NULL);
    ac_free(job->rows);
    ac_free(job);
    return s;
}

/* ---- entry points --------------------------------------------------------------------------*/

ac_status ac_image_decode(const void *buf, size_t n, const ac_decode_opts *o, ac_image *img,
                          ac_diag *d) {
    if (!img || (!buf && n)) return AC_FAIL(d, AC_ERR_ARG, "ac_image_decode: NULL argument");
    img->width = img->height = img->channels = 0;
    if ((o && ((unsigned)o->format >= AC_PIXFMT_COUNT)))
        return AC_FAIL(d, AC_ERR_ARG, "ac_image_decode: bad pixel format %d", (int)o->format);
    ac_decode_opts r;
    resolve_opts(o, &r);
    const char *what = NULL;
    ac_status s;
    switch (ac_image_sniff(buf, n, &what)) {
    case AC_IMAGE_JPEG: s = decode_jpeg(buf, n, &r, img, d); break;
    case AC_IMAGE_PNG: s = decode_png(buf, n, &r, 0, img, d); break;
    default: return AC_FAIL(d, AC_ERR_FORMAT, "not a JPEG or PNG image (looks like %s)", what);
    }
    if (s != AC_OK) img->width = img->height = img->channels = 0;
    return s;
}

ac_status ac_mask_decode(const void *buf, size_t n, const ac_decode_opts *o, ac_image *mask,
                         ac_diag *d) {
    if (!mask || (!buf && n)) return AC_FAIL(d, AC_ERR_ARG, "ac_mask_decode: NULL argument");
    mask->width = mask->height = mask->channels = 0;
    ac_decode_opts r;
    resolve_opts(o, &r);
    const char *what = NULL;
    ac_image_type t = ac_image_sniff(buf, n, &what);
    if (t != AC_IMAGE_PNG)
        return AC_FAIL(d, AC_ERR_FORMAT, "mask must be an 8-bit single-channel PNG (got %s)",
                       t == AC_IMAGE_JPEG ? "a JPEG" : what);
    ac_status s = decode_png(buf, n, &r, 1, mask, d);
    if (s != AC_OK) mask->width = mask->height = mask->channels = 0;
    return s;
}

static ac_status read_with(const char *path, const ac_decode_opts *o, ac_image *img, ac_diag *d,
                           ac_status (*fn)(const void *, size_t, const ac_decode_opts *,
                                           ac_image *, ac_diag *)) {
    if (!path || !img) return AC_FAIL(d, AC_ERR_ARG, "image read: NULL argument");
    uint8_t *buf = NULL;
    size_t n = 0;
    ac_status s = ac_file_read_all(path, MAX_IMAGE_FILE, &buf, &n, d);
    if (s == AC_OK) s = fn(buf, n, o, img, d);
    ac_free(buf);
    if (s != AC_OK) ac_diag_where(d, "%s", path);
    return s;
}

ac_status ac_image_read(const char *path, const ac_decode_opts *o, ac_image *img, ac_diag *d) {
    return read_with(path, o, img, d, ac_image_decode);
}

ac_status ac_mask_read(const char *path, const ac_decode_opts *o, ac_image *mask, ac_diag *d) {
    return read_with(path, o, mask, d, ac_mask_decode);
}
