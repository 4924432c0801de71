/* SPDX-License-Identifier: MIT */
/*
 * ac_quant.h — INT8 QDQ quantization of an FP32 model from calibration statistics, and the
 * calibration tables that go with it.
 *
 *     ac_calib *stats;                                    // from calibration (ac_calib.h)
 *     ac_quant_opts o = {.mode = AC_QUANT_ORT, .method = AC_CALIB_KL};
 *     ac_model *q;
 *     ac_quant_table *t;
 *     ac_quantize(fp32, stats, &o, &q, &t, &d);           // fp32 is not modified
 *     ac_quant_write_outputs(q, t, "model_dir/model.onnx", "out_dir", NULL, &d);
 *     // out_dir: model.onnx (QDQ), calibration.cache, calibration.json,
 *     //          calibration_table.txt, and the deploy yaml found beside the FP32 model
 *     ac_quant_table_free(t);
 *     ac_model_free(q);
 *
 * Modes:
 *   AC_QUANT_ORT (default): uint8 asymmetric activations, int8 symmetric per-channel weights,
 *     int32 bias (scale s_in * s_w); placement so ONNX Runtime fuses QLinearConv, QGemm,
 *     QLinearAdd, ... .
 *   AC_QUANT_TENSORRT: int8 symmetric activations (zero point 0), int8 per-channel weights,
 *     float bias; TensorRT's explicit-quantization placement.
 * Both raise the ai.onnx opset to 13 when per-axis QDQ needs it (ops whose meaning changed
 * since the model's opset are rewritten to their opset-13 form or refused with
 * AC_ERR_UNSUPPORTED naming the node; see src/quant/opset.c). Placement rules per mode are
 * documented at the top of src/quant/placement.c. In short: Conv/ConvTranspose/Gemm/MatMul
 * always; pass-through ops and Concat share one scale between inputs and output and are
 * quantized only when a quantized node reads their output; tensors read only by float ops and
 * graph outputs stay float; Add/Mul with a constant operand stay float. ORT mode folds
 * Relu/Clip into the uint8 Q; TensorRT mode quantizes op inputs only and leaves the Conv
 * branch of a residual Add float.
 *
 * Thread safety: calls are independent; objects are not shared.
 */
#ifndef AC_QUANT_H
#define AC_QUANT_H

#include "autocompress/ac_base.h"
#include "autocompress/ac_calib.h"
#include "autocompress/ac_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ac_quant_mode {
    AC_QUANT_ORT = 0,
    AC_QUANT_TENSORRT,
    AC_QUANT_MODE_COUNT
} ac_quant_mode;

AC_API const char *ac_quant_mode_name(ac_quant_mode m); /* "ort", "tensorrt" */
AC_API ac_status ac_quant_mode_parse(const char *s, ac_quant_mode *out, ac_diag *d);

typedef struct ac_quant_opts {
    ac_quant_mode mode;
    ac_calib_method method; /* activation range method (zero-initialised: abs_max) */
    const ac_calib_method_opts *method_opts; /* e.g. hist_percent; NULL = defaults */
    int per_tensor_weights; /* 1: one scale per weight tensor instead of per channel */
    /* Which ops to quantize (FastDeploy's quantize_op_types): ONNX names (Conv, Gemm, MatMul,
     * Add, Mul, Concat, AveragePool, ...) or PaddleSlim ones (conv2d, depthwise_conv2d, mul,
     * matmul_v2, elementwise_add, pool2d, ...); an unknown name is AC_ERR_ARG. Pass-through
     * ops (and Relu/Clip folding in ORT mode) only follow quantized neighbours and stay on.
     * NULL/0 = the mode's default set. */
    const char *const *op_types;
    int32_t n_op_types;
    /* Tensors kept in float (FastDeploy's skip_tensor_list), by value name: a node reading
     * or writing one is left entirely in float (weights included), so no partial pair. */
    const char *const *skip_tensors;
    int32_t n_skip_tensors;
    /* Nodes kept in float, by exact name, and by POSIX extended regex on the name (NULL = none) */
    const char *const *skip_nodes;
    int32_t n_skip_nodes;
    const char *skip_node_regex;
} ac_quant_opts;

/* The per-tensor results: what was quantized and with which parameters. */
typedef struct ac_quant_table ac_quant_table;

typedef struct ac_quant_entry {
    const char *tensor;   /* activation value name */
    const char *method;   /* range method used (static string) */
    float min, max, amax; /* range used: the tensor's own, or the union over its
                           * scale-sharing group (Concat inputs, pass-through ops) */
    float scale;
    int32_t zero_point;
    ac_dtype dtype; /* AC_DTYPE_U8 or AC_DTYPE_S8 */
} ac_quant_entry;

AC_API int64_t ac_quant_table_count(const ac_quant_table *t);
AC_API const ac_quant_entry *ac_quant_table_at(const ac_quant_table *t, int64_t i);
AC_API void ac_quant_table_free(ac_quant_table *t);

/* Builds the QDQ model. `fp32` is only read; `stats` must hold statistics for the activations
 * the placement needs (AC_ERR_ARG naming the first missing tensor otherwise). Caller owns *out
 * and *table. Errors: AC_ERR_ARG, AC_ERR_UNSUPPORTED (e.g. a weight that is not constant),
 * AC_ERR_NOMEM. */
AC_API ac_status ac_quantize(const ac_model *fp32, const ac_calib *stats, const ac_quant_opts *o,
                             ac_model **out, ac_quant_table **table, ac_diag *d);

/* Names of the activations ac_quantize would read statistics for with these options (the
 * placement alone: no statistics needed). Calibration observes just these by default, which
 * keeps the engine's fusions (a Conv's output before a folded Relu is never needed) and the
 * histogram work to what quantization uses. Caller frees with ac_quant_names_free. */
AC_API ac_status ac_quant_needed(const ac_model *fp32, const ac_quant_opts *o, char ***names,
                                 int64_t *n, ac_diag *d);
AC_API void ac_quant_names_free(char **names, int64_t n);

/* Calibration tables, each written atomically:
 *  - TensorRT cache: first line "TRT-8601-EntropyCalibration2" (KL),
 *    "TRT-8601-MinMaxCalibration" (abs_max, min_max) or "TRT-8601-<method name>", then
 *    "tensor_name: %08x" with the big-endian IEEE-754 bits of amax / 127 (ac_calib_scale_zp_s8
 *    rules: amax 0 gives 1.0), one line per quantized activation in graph order;
 *  - JSON: {"format", "version": 1, "mode", "method", "tensors": {name: {method, min, max,
 *    amax, scale, zero_point, dtype}}}, in graph order, reals with 9 significant digits;
 *  - text: "tensor_name scale zero_point" per line, scale as %.9g.
 * Names containing a line break are refused (AC_ERR_UNSUPPORTED). Errors: AC_ERR_IO,
 * AC_ERR_NOMEM. */
AC_API ac_status ac_quant_write_trt_cache(const ac_quant_table *t, const char *path, ac_diag *d);
AC_API ac_status ac_quant_write_json(const ac_quant_table *t, const char *path, ac_diag *d);
AC_API ac_status ac_quant_write_text(const ac_quant_table *t, const char *path, ac_diag *d);

/* Refuses an output folder whose model.onnx is the FP32 model itself (the same file, links
 * followed) or a path that exists and is not a folder: AC_ERR_ARG. ac_quant_write_outputs
 * checks this too; callers run it before calibrating so nothing is computed in vain. */
AC_API ac_status ac_quant_check_out_dir(const char *fp32_model_path, const char *out_dir,
                                        ac_diag *d);

/* Writes the whole output folder (created if missing): model.onnx, calibration.cache,
 * calibration.json, calibration_table.txt, and a copy of the deploy yaml: `deploy_yaml` if
 * given, else the first of inference_cls.yaml, infer_cfg.yml, deploy.yaml found beside
 * `fp32_model_path` (none found is not an error). Every file is written atomically; on failure
 * files already written stay complete and nothing partial is left. */
AC_API ac_status ac_quant_write_outputs(const ac_model *qdq, const ac_quant_table *t,
                                        const char *fp32_model_path, const char *out_dir,
                                        const char *deploy_yaml, ac_diag *d);

#ifdef __cplusplus
}
#endif
#endif /* AC_QUANT_H */
