/* SPDX-License-Identifier: MIT */
/*
 * ac_data.h — image decoding (JPEG, PNG, segmentation masks) and Paddle-style preprocessing
 * pipelines that reproduce OpenCV's arithmetic, so calibration sees exactly the tensors the
 * deployed model sees.
 *
 *     ac_diag d = {0};
 *     ac_pipeline *p = NULL;
 *     if (ac_pipeline_from_yaml("inference_cls.yaml", NULL, &p, &d) != AC_OK) goto fail;
 *     ac_image img = {0};                            // reused across images
 *     ac_pre_result r;
 *     for (each path) {
 *         if (ac_image_read(path, ac_pipeline_decode_opts(p), &img, &d) != AC_OK) goto fail;
 *         if (ac_pipeline_run(p, &img, &r, &d) != AC_OK) goto fail;
 *         memcpy(batch + i * r.numel, r.data, r.numel * sizeof(float));  // CHW float32
 *     }
 *     ac_image_release(&img);
 *     ac_pipeline_free(p);
 *
 * Decoding: the type is found from magic bytes, never the extension. Every libjpeg warning is
 * an error ("corrupt JPEG: Premature end of JPEG file"), so no half-gray image ever enters
 * calibration. Dimensions are checked against a pixel cap from the header, before any pixel
 * buffer is allocated. CMYK/YCCK JPEGs are converted to RGB (Adobe files store inverted CMYK;
 * see image_jpeg.c); 16-bit, palette, low-bit, gray+alpha and interlaced PNGs are converted to
 * 8-bit, alpha dropped (not composited: OpenCV's IMREAD_COLOR does the same).
 *
 * Preprocessing: transforms run on 8-bit HWC images while Paddle would still hold uint8, and in
 * float32 once a Normalize has run (or from the start for PaddleSeg, which converts to float32
 * before any transform). uint8 bilinear resize is OpenCV's fixed-point INTER_LINEAR bit for bit
 * (including its SSE vertical pass); see resize.c.
 *
 * Thread safety: decoding functions are reentrant. An ac_pipeline holds scratch buffers: use one
 * per thread (ac_pipeline_clone).
 */
#ifndef AC_DATA_H
#define AC_DATA_H

#include "autocompress/ac_base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- images --------------------------------------------------------------------------------*/

typedef enum ac_pixfmt {
    AC_PIXFMT_RGB = 0,
    AC_PIXFMT_BGR,
    AC_PIXFMT_GRAY,
    AC_PIXFMT_COUNT
} ac_pixfmt;

/* An 8-bit interleaved (HWC) image, rows packed (stride = width * channels). Plain data; the
 * pixel buffer is owned by the struct: a zeroed ac_image is empty, decoders reuse `data` when
 * `capacity` suffices and grow it otherwise; free with ac_image_release. */
typedef struct ac_image {
    int32_t width, height, channels;
    uint8_t *data;
    size_t capacity; /* bytes allocated at data */
} ac_image;

typedef enum ac_image_type {
    AC_IMAGE_UNKNOWN = 0,
    AC_IMAGE_JPEG,
    AC_IMAGE_PNG,
    AC_IMAGE_TYPE_COUNT
} ac_image_type;

/* Decoder options; a zeroed struct means RGB, 64 Mi pixels, 100 progressive scans. */
typedef struct ac_decode_opts {
    ac_pixfmt format;   /* channels of the result: RGB/BGR = 3, GRAY = 1 */
    int64_t max_pixels; /* width * height cap, checked from the header; 0 = 64 * 2^20 */
    int32_t max_scans;  /* progressive JPEG scan cap; 0 = 100 */
} ac_decode_opts;

/* Type from magic bytes. If not JPEG or PNG and `what` is non-NULL, *what names what it seems
 * to be ("HTML", "GIF", "empty file", "unknown data") for messages. Thread-safe. */
AC_API ac_image_type ac_image_sniff(const void *buf, size_t n, const char **what);

/* Decodes a JPEG or PNG held in memory into *img (reusing its buffer). `o` may be NULL.
 * Gray sources become 3 equal channels for RGB/BGR; colour sources become luma for GRAY
 * (libjpeg's / libpng's own conversion weights).
 * Errors: AC_ERR_FORMAT ("not a JPEG or PNG image (looks like HTML)", "corrupt JPEG: ...",
 * "corrupt PNG: ...", "image has zero width/height"), AC_ERR_LIMIT ("image 20000x20000
 * exceeds pixel limit (64 MP)", "too many progressive scans (> 100)"), AC_ERR_NOMEM,
 * AC_ERR_ARG. On failure *img keeps its buffer but its dimensions are zeroed. Reentrant. */
AC_API ac_status ac_image_decode(const void *buf, size_t n, const ac_decode_opts *o,
                                 ac_image *img, ac_diag *d);
/* Reads and decodes a file; failures are located at the path. Files over 256 MiB are refused
 * unread (AC_ERR_LIMIT). */
AC_API ac_status ac_image_read(const char *path, const ac_decode_opts *o, ac_image *img,
                               ac_diag *d);

/* Segmentation label map: an 8-bit single-channel PNG (gray, or palette whose indices are the
 * labels, as PaddleSeg writes them), decoded to 1 channel without any conversion. Anything
 * else (16-bit, RGB, gray+alpha, JPEG) fails with AC_ERR_FORMAT "mask must be an 8-bit
 * single-channel PNG (got ...)". `o` may be NULL (only max_pixels is used). */
AC_API ac_status ac_mask_decode(const void *buf, size_t n, const ac_decode_opts *o,
                                ac_image *mask, ac_diag *d);
AC_API ac_status ac_mask_read(const char *path, const ac_decode_opts *o, ac_image *mask,
                              ac_diag *d);

/* Frees the pixel buffer and zeroes the struct. NULL is a no-op. */
AC_API void ac_image_release(ac_image *img);

/* ---- transforms ----------------------------------------------------------------------------*/

typedef enum ac_interp {
    AC_INTERP_LINEAR = 0, /* cv2.INTER_LINEAR: half-pixel centres, 11-bit fixed point on uint8 */
    AC_INTERP_NEAREST,    /* cv2.INTER_NEAREST: src = floor(dst * src_size / dst_size) */
    AC_INTERP_AREA,       /* cv2.INTER_AREA */
    AC_INTERP_CUBIC,      /* cv2.INTER_CUBIC (A = -0.75); uint8 vertical pass in float, as SSE */
    AC_INTERP_COUNT
} ac_interp;

/* Which library's resize arithmetic to reproduce (PaddleClas ResizeImage `backend`). */
typedef enum ac_resize_backend {
    AC_RESIZE_CV2 = 0, /* cv2.resize, see ac_resize_u8 */
    AC_RESIZE_PIL,     /* PIL Image.resize(BILINEAR) on uint8: separable triangle filter,
                        * 22-bit coefficients, rounded to uint8 after each pass (horizontal
                        * first); linear only, uint8 only */
    AC_RESIZE_BACKEND_COUNT
} ac_resize_backend;

typedef enum ac_xform_kind {
    /* Resize to (width, height); or, with keep_ratio, PaddleDetection's rule: one scale
     * min(min(W,H)/min(w,h), max(W,H)/max(w,h)) for both axes (output not padded). */
    AC_XFORM_RESIZE = 0,
    AC_XFORM_RESIZE_SHORT, /* shorter side to `size`, w/h = round(side * ratio); max_size caps
                            * the longer side if > 0 (PaddleSeg ResizeByShort) */
    AC_XFORM_RESIZE_LONG,  /* longer side to `size` (PaddleSeg ResizeByLong) */
    AC_XFORM_CENTER_CROP,  /* (width, height) at ((w - W) / 2, (h - H) / 2), floor */
    AC_XFORM_LETTERBOX,    /* keep-ratio resize into (width, height), then pad around it
                            * (centred, YOLO's round(d -+ 0.1) split) with pad_value */
    AC_XFORM_PAD,          /* pad right/bottom with pad_value to (width, height) if given,
                            * then to a multiple of `stride` if > 0 (PadStride) */
    AC_XFORM_NORMALIZE,    /* x * scale, then (x - mean) / std per channel; to float32 */
    AC_XFORM_TO_CHW,       /* HWC -> CHW (Permute, ToCHWImage); at most once, last */
    AC_XFORM_SWAP_RB,      /* RGB <-> BGR */
    AC_XFORM_KIND_COUNT
} ac_xform_kind;

/* One transform; a plain value struct (fields not used by `kind` are ignored). */
typedef struct ac_xform {
    ac_xform_kind kind;
    ac_interp interp;
    ac_resize_backend backend; /* RESIZE, RESIZE_SHORT/LONG */
    int32_t width, height; /* RESIZE, CENTER_CROP, LETTERBOX, PAD target size */
    int32_t keep_ratio;    /* RESIZE */
    int32_t size;          /* RESIZE_SHORT / RESIZE_LONG target side */
    int32_t max_size;      /* RESIZE_SHORT: cap on the longer side (0 = none) */
    int32_t stride;        /* PAD: round up to a multiple (0 = none) */
    float pad_value[3];    /* PAD, LETTERBOX: per channel (uint8 images round it like cv2) */
    double scale;          /* NORMALIZE: multiplier applied first (1/255 typical; 1 = none) */
    float mean[3], std[3]; /* NORMALIZE: per channel, std != 0 */
} ac_xform;

/* ---- pipelines -----------------------------------------------------------------------------*/

typedef struct ac_pipeline ac_pipeline;

/* Result of one run. `data` is borrowed from the pipeline: valid until its next run or free. */
typedef struct ac_pre_result {
    const float *data;      /* CHW (or HWC if the pipeline has no TO_CHW) float32 */
    int32_t channels, height, width;
    size_t numel;
    int32_t chw;            /* 1 if data is CHW */
    int32_t src_width, src_height;
    /* Geometry, to map boxes back: x_out = x_src * scale_x + offset_x (resizes scale, crops
     * subtract, pads add), likewise for y. */
    double scale_x, scale_y;
    double offset_x, offset_y;
} ac_pre_result;

typedef struct ac_pipeline_opts {
    ac_decode_opts decode; /* pipelines from yamls set .format to what the framework decodes */
} ac_pipeline_opts;

/* Builds a pipeline from `n` transforms (copied). Validates every field (positive sizes,
 * std != 0, TO_CHW last, ...): AC_ERR_CONFIG naming the transform index, AC_ERR_NOMEM.
 * `o` may be NULL (RGB decoding). `float_input`: transforms see float32 from the start
 * (PaddleSeg). Caller owns *out; free with ac_pipeline_free. */
AC_API ac_status ac_pipeline_new(const ac_xform *xf, int32_t n, const ac_pipeline_opts *o,
                                 int32_t float_input, ac_pipeline **out, ac_diag *d);

/* Builds the pipeline a deploy yaml describes. Recognised by content:
 *  - PaddleClas inference_cls.yaml: PreProcess.transform_ops (DecodeImage, ResizeImage,
 *    CropImage, NormalizeImage, ToCHWImage);
 *  - PaddleDetection infer_cfg.yml: Preprocess (Resize, NormalizeImage, Permute, Pad,
 *    PadStride, LetterBoxResize);
 *  - PaddleSeg deploy.yaml: Deploy.transforms (Normalize, Resize, ResizeByShort, ResizeByLong,
 *    Padding).
 * Unknown transforms or keys, unsupported values (backend: pil, interp cubic in PaddleSeg...)
 * fail with AC_ERR_CONFIG or AC_ERR_UNSUPPORTED located "file:line:col" and naming the
 * transform. Reads only the preprocessing part of the file. `o` may be NULL. */
AC_API ac_status ac_pipeline_from_yaml(const char *path, const ac_pipeline_opts *o,
                                       ac_pipeline **out, ac_diag *d);

/* FastDeploy auto-compression presets (fd_auto_compress/dataset.py), by name:
 *   cls_image_preprocess: resize_short 256 (linear), centre crop 224, /255, ImageNet
 *     mean/std, CHW;
 *   yolo_image_preprocess: keep-ratio resize (linear, fx=fy) into 640x640, pad bottom/right
 *     with 114, /255, CHW;
 *   ppyoloe_withNMS_image_preprocess: resize to 640x640 without keeping ratio, cubic, /255,
 *     ImageNet mean/std, CHW;
 *   ppyoloe_plus_withNMS_image_preprocess: the same without mean/std.
 * FastDeploy feeds them cv2.imread's BGR images unchanged; the presets therefore decode BGR.
 * `width`/`height` override the 640 (or 224) target when > 0. AC_ERR_CONFIG for an unknown
 * name. */
AC_API ac_status ac_pipeline_preset(const char *name, int32_t width, int32_t height,
                                    const ac_pipeline_opts *o, ac_pipeline **out, ac_diag *d);

/* Independent copy (same transforms, own scratch) for another thread. */
AC_API ac_status ac_pipeline_clone(const ac_pipeline *p, ac_pipeline **out, ac_diag *d);
AC_API void ac_pipeline_free(ac_pipeline *p);

/* Decoder options the pipeline's source framework implies (borrowed). */
AC_API const ac_decode_opts *ac_pipeline_decode_opts(const ac_pipeline *p);
AC_API int32_t ac_pipeline_count(const ac_pipeline *p);
/* Transform i (borrowed), i in [0, count). */
AC_API const ac_xform *ac_pipeline_at(const ac_pipeline *p, int32_t i);
/* Short lower-case name of a transform kind ("resize", "normalize", ...). Never NULL. */
AC_API const char *ac_xform_name(ac_xform_kind k);

/* Runs the pipeline on an 8-bit HWC image (1 or 3 channels; 1 channel is replicated to 3
 * first, as cv2.IMREAD_COLOR would). Fills *r (data borrowed, see ac_pre_result).
 * Errors: AC_ERR_ARG (bad image), AC_ERR_CONFIG (e.g. crop larger than the image),
 * AC_ERR_LIMIT (an intermediate over 2^31 elements), AC_ERR_NOMEM. Not thread-safe per
 * pipeline. */
AC_API ac_status ac_pipeline_run(ac_pipeline *p, const ac_image *img, ac_pre_result *r,
                                 ac_diag *d);

/* ---- the resize primitive (also used by the pipeline) ----------------------------------------
 * cv2.resize on an 8-bit HWC image with dsize (dw, dh) and, like cv2 with fx/fy, inverse
 * scales: pass inv_scale_x = dw / (double)sw unless the caller computed fx itself (cv2 then
 * uses fx directly for the coordinates). `dst` must hold dw * dh * cn bytes. Errors: AC_ERR_ARG,
 * AC_ERR_NOMEM (scratch). Reentrant. */
AC_API ac_status ac_resize_u8(const uint8_t *src, int32_t sw, int32_t sh, int32_t cn,
                              uint8_t *dst, int32_t dw, int32_t dh, double inv_scale_x,
                              double inv_scale_y, ac_interp interp, ac_diag *d);
/* PIL's Image.resize(BILINEAR) on an 8-bit HWC image (see AC_RESIZE_PIL). Reentrant. */
AC_API ac_status ac_resize_u8_pil(const uint8_t *src, int32_t sw, int32_t sh, int32_t cn,
                                  uint8_t *dst, int32_t dw, int32_t dh, ac_diag *d);
/* The same on float32 (OpenCV's float path: float coefficients, no fixed point). */
AC_API ac_status ac_resize_f32(const float *src, int32_t sw, int32_t sh, int32_t cn, float *dst,
                               int32_t dw, int32_t dh, double inv_scale_x, double inv_scale_y,
                               ac_interp interp, ac_diag *d);

/* ---- datasets ---------------------------------------------------------------------------------
 * A dataset is a fixed, deterministic list of samples read up front (files are checked to exist,
 * never decoded): iteration is by index, so shards and repeated runs see the same order.
 *
 *     ac_dataset *ds = NULL;
 *     if (ac_dataset_open_list("fmnist-cls/val_list.txt", NULL, &ds, &d) != AC_OK) goto fail;
 *     ac_dataset_shard(ds, 0, 4, &d);                 // every 4th sample, starting at 0
 *     for (int64_t i = 0; i < ac_dataset_count(ds); i++) {
 *         const ac_sample *s = ac_dataset_at(ds, i);  // s->path, s->label
 *     }
 *     ac_dataset_free(ds);
 *
 * Errors name the file and the place: "val_list.txt:17: expected 'PATH LABEL'",
 * "instances_val.json: annotations[17]: missing 'bbox'". Folders that do not exist and empty
 * sets are AC_ERR_CONFIG (bad input, not an I/O failure); unreadable files are AC_ERR_IO.
 * A dataset is immutable after open (except shard/limit) and may be read from any thread. */

typedef enum ac_dataset_kind {
    AC_DATASET_IMAGES = 0, /* unlabeled image folder (calibration) */
    AC_DATASET_CLS,        /* PaddleClas list or class-per-folder: label = class index */
    AC_DATASET_COCO,       /* COCO instances: label = image id, annotations per sample */
    AC_DATASET_SEG,        /* image + mask pairs */
    AC_DATASET_KIND_COUNT
} ac_dataset_kind;

/* One sample; plain data borrowed from the dataset (valid until ac_dataset_free). */
typedef struct ac_sample {
    const char *path;      /* image file */
    const char *mask_path; /* AC_DATASET_SEG: the 8-bit PNG label map; else NULL */
    int64_t label;         /* CLS: class index; COCO: image id; else -1 */
    int32_t width, height; /* COCO: size the JSON declares; else 0 */
    int64_t ann_first;     /* COCO: this image's annotations are ac_dataset_coco_anns()... */
    int64_t ann_count;     /* ...[ann_first, ann_first + ann_count), in file order */
} ac_sample;

/* A COCO annotation (validated: finite bbox with w, h >= 0, known image and category). */
typedef struct ac_coco_ann {
    int64_t id, image_id, category_id;
    double bbox[4]; /* x, y, w, h in original image pixels */
    double area;
    int32_t iscrowd;
} ac_coco_ann;

typedef struct ac_coco_category {
    int64_t id;
    const char *name;
} ac_coco_category;

/* Limits; zero fields mean the defaults. */
typedef struct ac_dataset_opts {
    int64_t max_samples;   /* default 10,000,000 */
    size_t max_file_bytes; /* list / JSON file size, default 1 GiB (checked before reading) */
    int32_t max_depth;     /* folder recursion, default 32 (symlinked folders are not followed) */
} ac_dataset_opts;

typedef struct ac_dataset ac_dataset;

/* Every .jpg, .jpeg and .png file (extension case-insensitive, hidden entries skipped) under
 * `dir`, recursively, sorted by relative path (byte order). Labels are -1. */
AC_API ac_status ac_dataset_open_images(const char *dir, const ac_dataset_opts *o,
                                        ac_dataset **out, ac_diag *d);
/* PaddleClas list: one `PATH LABEL` per line (the label is the last whitespace-separated
 * field, so paths may hold spaces; blank lines skipped; CRLF accepted); paths are relative to
 * the list's folder unless absolute. LABEL is a decimal integer in [0, 2^31). Every file must
 * exist. Order: file order. Classes: max label + 1. */
AC_API ac_status ac_dataset_open_list(const char *list_path, const ac_dataset_opts *o,
                                      ac_dataset **out, ac_diag *d);
/* ImageNet layout: each sub-folder of `dir` is a class; classes sorted by name (byte order)
 * get labels 0, 1, ...; images inside each (recursive) sorted. Files directly in `dir` are
 * ignored. */
AC_API ac_status ac_dataset_open_class_folders(const char *dir, const ac_dataset_opts *o,
                                               ac_dataset **out, ac_diag *d);
/* COCO instances JSON with its images folder. Validated in full: the three arrays; unique
 * integer ids; image width/height positive integers; file_name relative, without `..`, and
 * resolving (symlinks followed) to an existing file inside `images_dir`; annotations with
 * known image_id/category_id, bbox of 4 finite numbers with w, h >= 0, finite area, iscrowd
 * 0/1 (default 0). Errors: AC_ERR_FORMAT (JSON syntax, "file:line:col"), AC_ERR_CONFIG
 * ("instances_val.json: annotations[17]: missing 'bbox'"), AC_ERR_LIMIT, AC_ERR_IO.
 * Samples are the images sorted by id (pycocotools' order). */
AC_API ac_status ac_dataset_open_coco(const char *json_path, const char *images_dir,
                                      const ac_dataset_opts *o, ac_dataset **out, ac_diag *d);
/* Segmentation pairs: images under `images_dir` (as ac_dataset_open_images) with the mask of
 * the same relative stem, `masks_dir/<stem>.png`; a missing mask is an error. */
AC_API ac_status ac_dataset_open_seg(const char *images_dir, const char *masks_dir,
                                     const ac_dataset_opts *o, ac_dataset **out, ac_diag *d);
/* PaddleSeg list: one `IMAGE MASK` per line, relative to the list's folder. */
AC_API ac_status ac_dataset_open_seg_list(const char *list_path, const ac_dataset_opts *o,
                                          ac_dataset **out, ac_diag *d);
AC_API void ac_dataset_free(ac_dataset *ds);

AC_API ac_dataset_kind ac_dataset_kind_of(const ac_dataset *ds);
/* The file or folder it was opened from (for messages). Borrowed. */
AC_API const char *ac_dataset_name(const ac_dataset *ds);
AC_API int64_t ac_dataset_count(const ac_dataset *ds);
/* Sample i in [0, count), or NULL out of range. Borrowed. */
AC_API const ac_sample *ac_dataset_at(const ac_dataset *ds, int64_t i);
/* CLS: number of classes; COCO: number of categories; else 0. */
AC_API int32_t ac_dataset_num_classes(const ac_dataset *ds);
/* Class-per-folder: the folder name of class i; NULL otherwise. Borrowed. */
AC_API const char *ac_dataset_class_name(const ac_dataset *ds, int32_t i);
/* COCO tables (borrowed; NULL / 0 for other kinds). Categories are sorted by id. */
AC_API const ac_coco_ann *ac_dataset_coco_anns(const ac_dataset *ds, int64_t *n);
AC_API const ac_coco_category *ac_dataset_coco_categories(const ac_dataset *ds, int32_t *n);

/* Keeps samples index, index + count, index + 2 * count, ... (in order): shard `index` of
 * `count`, so shards are disjoint and together cover the set. AC_ERR_ARG unless
 * 0 <= index < count. The result may be empty. */
AC_API ac_status ac_dataset_shard(ac_dataset *ds, int64_t index, int64_t count, ac_diag *d);
/* Keeps the first n samples (n >= count: no change). */
AC_API void ac_dataset_limit(ac_dataset *ds, int64_t n);
/* Parses "i/n" (e.g. "0/4") for ac_dataset_shard: AC_ERR_ARG unless 0 <= i < n. */
AC_API ac_status ac_shard_parse(const char *s, int64_t *index, int64_t *count, ac_diag *d);


#ifdef __cplusplus
}
#endif
#endif /* AC_DATA_H */
