/* SPDX-License-Identifier: MIT */
/*
 * ac_driver.h — runs an FP32 model over a calibration set: a folder of images (decoded and
 * preprocessed on worker threads while the model runs) or ONNX TensorProto files, batch by
 * batch, feeding every activation to an ac_calib collector through the session's observer.
 *
 *     ac_driver_opts o = {.images_dir = "calib/", .batch = 8, .shard_count = 1};
 *     ac_calib *c;
 *     ac_calib_new(NULL, &c, &d);
 *     ac_driver_report r;
 *     if (ac_driver_run(model, "model_dir/model.onnx", &o, c, &r, &d) != AC_OK) report d;
 *     ac_calib_save(c, "stats.accal", &d);     // nothing is written by the driver itself
 *
 * Why a module of its own (src/driver, library ac_driver): the driver owns a session
 * (runtime), a preprocessing pipeline (data) and TensorProto reading (onnx). ac_calib must not
 * depend on those (calib <- runtime only through the observer hooks), and the name
 * "ac_pipeline" is already ac_data's preprocessing pipeline, so the driver sits above calib,
 * data, onnx and runtime and only the CLI sits above it.
 *
 * Inputs:
 *   - images: every *.jpg, *.jpeg, *.png (case-insensitive) under images_dir, recursively
 *     (symlinked folders are not entered, so a link cycle cannot loop), sorted bytewise by
 *     path. Each is decoded (type from magic bytes) and run through the pipeline from
 *     preprocess_yaml, else from the first of inference_cls.yaml, infer_cfg.yml, deploy.yaml
 *     beside the model. The result (CHW float32) is one sample of the model's first input.
 *   - tensors: TensorProto files (float32, rank >= 1); their axis-0 rows are the samples, files
 *     concatenated in the order given.
 * Selection: sample k of the sorted list (or of the concatenated rows) is used when
 * k % shard_count == shard_index, then the first num_images of those. Shards over the same
 * list therefore see disjoint sets whose union is the whole list, and since the statistics
 * do not depend on order or batching (ac_calib.h), merging the shards' collectors gives
 * exactly the collector of one run over all samples.
 *
 * Batching: `batch` samples per session run; the last batch may be smaller (the session
 * re-plans once for it). Samples of one batch must preprocess to the same shape.
 *
 * Lanes: small models run images faster side by side, one session per lane on its share of
 * the threads, than one image at a time split op by op over all of them (a 32x32 MobileNetV2
 * gains 1.5x from a second thread split op by op, nearly 2x from a second lane). Each lane
 * other than the caller's has a collector of its own, merged into `c` at the end; the merge
 * is exact, so the statistics are byte for byte those of one lane whichever lane ran which
 * batch. Auto (lanes 0): one lane per thread, fewer where their activation memory together
 * would pass 2 GiB (measured on the first batch, which runs with every thread) and never more
 * than there are batches. Images are decoded by one worker thread per four lanes (at most 16),
 * each taking every n-th batch. Errors are those of the earliest failing batch, as with one
 * lane.
 *
 * Memory does not grow with the number of samples: the collector's size is fixed per tensor,
 * the workers fill a ring of `queue_batches` batch buffers that are reused, each worker reuses
 * one decoded image buffer, and TensorProto files are read one at a time. Only the list of
 * image paths is proportional to the number of images.
 *
 * Errors name the file: a corrupt image ("calib/17.jpg: corrupt JPEG: Premature end of JPEG
 * file"), a NaN or infinity in an activation (the image's path, then the tensor, from
 * ac_calib), a sample whose shape does not fit the model input. On any error the collector may
 * hold part of the run: discard it.
 *
 * Thread safety: one call uses one collector; the call starts and joins its own worker and
 * lane threads.
 */
#ifndef AC_DRIVER_H
#define AC_DRIVER_H

#include "autocompress/ac_base.h"
#include "autocompress/ac_calib.h"
#include "autocompress/ac_model.h"
#include "autocompress/ac_session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ac_driver_opts {
    const char *images_dir;           /* folder of images; exactly one of this and tensor_files */
    const char *const *tensor_files;  /* TensorProto files (borrowed) */
    int32_t n_tensor_files;
    const char *preprocess_yaml;      /* images: deploy yaml to preprocess with; NULL = the one
                                       * beside the model */
    int64_t num_images;               /* first N samples after sharding; 0 = all */
    int32_t shard_index, shard_count; /* shard_count 0 = 1 (no sharding) */
    int32_t batch;                    /* samples per run; 0 = 1 */
    int32_t threads;                  /* threads in all; 0 = all cores */
    int32_t lanes;                    /* sessions running batches side by side, the threads
                                       * shared among them; 0 = auto (see Lanes above) */
    ac_isa isa;                       /* kernel cap (AC_ISA_AUTO: best / AC_ISA env) */
    int32_t queue_batches;            /* batches prepared ahead by the workers; 0 = lanes +
                                       * workers (at most 64) */
    int64_t max_images;               /* cap on images listed in a folder; 0 = 10,000,000 */
    const char *const *tensors;       /* observe only these (borrowed); NULL = every float
                                       * activation (see ac_quant_needed) */
    int64_t n_tensors;
} ac_driver_opts;

typedef struct ac_driver_report {
    int64_t samples;      /* samples run */
    int64_t batches;      /* session runs */
    int64_t tensors;      /* tensors in the collector afterwards (0 without one) */
    int32_t lanes;        /* lanes that ran */
    double seconds;       /* wall time of the whole call */
    double infer_seconds; /* of which inside ac_session_run (observer included), per lane */
    double wait_seconds;  /* of which waiting for the workers (decode slower than inference),
                           * per lane */
} ac_driver_report;

/* Runs `m` (loaded from `model_path`, used to find the deploy yaml and in messages) over the
 * inputs `o` selects, feeding collector `c`. `c` may be NULL: the same run without an
 * observer (plain FP32 inference with all fusions), the baseline that calibration's cost is
 * measured against. `rep` may be NULL. m, model_path and o are borrowed for the call.
 * Errors: AC_ERR_ARG (bad options, missing or empty folder, no deploy yaml, sample shape does
 * not fit the model), AC_ERR_IO, AC_ERR_FORMAT (corrupt image or TensorProto), AC_ERR_CONFIG /
 * AC_ERR_UNSUPPORTED (deploy yaml), AC_ERR_MODEL (NaN/Inf activation, from ac_calib),
 * AC_ERR_UNSUPPORTED (model needs more than one fed input), AC_ERR_LIMIT, AC_ERR_NOMEM. */
AC_API ac_status ac_driver_run(const ac_model *m, const char *model_path,
                               const ac_driver_opts *o, ac_calib *c, ac_driver_report *rep,
                               ac_diag *d);

/* The sorted image list ac_driver_run would use (every image, before sharding). Caller frees
 * with ac_driver_free_list. `max_images` 0 = 10,000,000. Errors: AC_ERR_ARG (not a folder,
 * missing, no images), AC_ERR_LIMIT, AC_ERR_IO, AC_ERR_NOMEM. */
AC_API ac_status ac_driver_list_images(const char *dir, int64_t max_images, char ***out,
                                       int64_t *n, ac_diag *d);
AC_API void ac_driver_free_list(char **paths, int64_t n);

/* Writes into buf the path of the first of inference_cls.yaml, infer_cfg.yml, deploy.yaml
 * beside `model_path` that can be read; returns 1 if found, 0 otherwise. */
AC_API int ac_driver_find_deploy_yaml(const char *model_path, char *buf, size_t n);

/* Parses "i/n" (0 <= i < n <= 65536). AC_ERR_ARG otherwise. */
AC_API ac_status ac_driver_parse_shard(const char *s, int32_t *index, int32_t *count,
                                       ac_diag *d);

#ifdef __cplusplus
}
#endif
#endif /* AC_DRIVER_H */
