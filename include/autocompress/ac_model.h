/* SPDX-License-Identifier: MIT */
/*
 * ac_model.h — ONNX files to and from the graph IR.
 *
 * Loading treats the file as untrusted. Before protobuf-c sees a byte, a pre-scan walks the
 * wire format with the schema's descriptors and enforces the limits below (nesting depth, counts,
 * estimated memory, NUL bytes in strings), so hostile files fail with one message instead of a
 * stack overflow or a gigabyte allocation. The decoded model is then checked as a graph: dtypes,
 * dims, data sizes, external data confinement, SSA names, undefined inputs and cycles.
 *
 *     ac_diag d = {0};
 *     ac_model *m;
 *     if (ac_model_load("resnet.onnx", NULL, &m, &d) != AC_OK) { report d; }
 *     ac_graph *g = ac_model_graph(m);       // inspect or rewrite
 *     ac_model_save(m, "out.onnx", &d);       // atomic: temp file, fsync, rename
 *     ac_model_free(m);
 *
 * Errors name the file, then the node/tensor/field: `model.onnx: node "conv_3" (Conv): input
 * "w3" is never defined`.
 */
#ifndef AC_MODEL_H
#define AC_MODEL_H

#include "autocompress/ac_base.h"
#include "autocompress/ac_graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Newest IR version and ai.onnx opset the reader knows. Newer files are refused with a message,
 * since their semantics may differ from what we check. */
#define AC_ONNX_MAX_IR_VERSION 11
#define AC_ONNX_MAX_OPSET 23

/* Limits on untrusted input. Zero in any field means its default (given after each). */
typedef struct ac_load_opts {
    uint64_t max_file_bytes;     /* 2 GiB - 1: protobuf's own ceiling */
    int32_t max_depth;           /* 100 nested messages (about 30 levels of subgraphs) */
    int64_t max_nodes;           /* 1,000,000 across all graphs */
    int64_t max_initializers;    /* 1,000,000 */
    int64_t max_attributes;      /* 4,000,000 */
    int32_t max_rank;            /* 16 */
    int64_t max_tensor_elems;    /* 2^40 elements in one tensor */
    uint64_t max_memory_bytes;   /* decoded-model memory: 256 MiB + 2 x file size */
    uint64_t max_external_bytes; /* 64 GiB of external data in all */
} ac_load_opts;

typedef struct ac_model ac_model;

/* Reads an ONNX file. External data is read from files in the model's folder only. `opts` may be
 * NULL (defaults). On success the caller owns *out (free with ac_model_free). Errors:
 * AC_ERR_IO, AC_ERR_FORMAT (not protobuf / not ONNX), AC_ERR_MODEL (invalid graph),
 * AC_ERR_UNSUPPORTED (valid but newer than we know, segmented tensors), AC_ERR_LIMIT,
 * AC_ERR_NOMEM. Thread-safe (no shared state). */
AC_API ac_status ac_model_load(const char *path, const ac_load_opts *opts, ac_model **out,
                               ac_diag *d);

/* Same from memory. `label` names the source in messages; `base_dir` is the folder external
 * data is confined to (NULL: external data is refused). The buffer is only borrowed. */
AC_API ac_status ac_model_load_buffer(const void *buf, size_t len, const char *label,
                                      const char *base_dir, const ac_load_opts *opts,
                                      ac_model **out, ac_diag *d);

/* Writes the model atomically. All tensors are written inline as raw_data (external data is
 * brought in); nodes in topological order. Fails with AC_ERR_LIMIT when the result would pass
 * protobuf's 2 GiB limit. The model is not modified. */
AC_API ac_status ac_model_save(const ac_model *m, const char *path, ac_diag *d);

/* Serialises into a new ac_malloc'd buffer (caller frees with ac_free). */
AC_API ac_status ac_model_save_buffer(const ac_model *m, uint8_t **out, size_t *out_len,
                                      ac_diag *d);

AC_API void ac_model_free(ac_model *m);

/* A deep, independent copy (the quantizer rewrites a copy and leaves the FP32 model alone). */
AC_API ac_status ac_model_clone(const ac_model *m, ac_model **out, ac_diag *d);

/* Creates an empty model (IR version 8, ai.onnx opset `opset`) around a new main graph. */
AC_API ac_status ac_model_new(int64_t opset, ac_model **out, ac_diag *d);

/* The main graph; owned by the model. */
AC_API ac_graph *ac_model_graph(const ac_model *m);

typedef struct ac_opset {
    const char *domain; /* "" for ai.onnx */
    int64_t version;
} ac_opset;

AC_API int64_t ac_model_ir_version(const ac_model *m);
/* Sets the IR version (1..AC_ONNX_MAX_IR_VERSION, else AC_ERR_ARG): raising the opset may need
 * a newer IR (opset 13 needs IR 7). */
AC_API ac_status ac_model_set_ir_version(ac_model *m, int64_t v, ac_diag *d);
AC_API int32_t ac_model_opset_count(const ac_model *m);
AC_API ac_opset ac_model_opset_at(const ac_model *m, int32_t i);
/* Version imported for `domain` ("" and "ai.onnx" are the same), or 0 if not imported. */
AC_API int64_t ac_model_opset(const ac_model *m, const char *domain);
/* Sets (adds or changes) an opset import, e.g. raising ai.onnx to 13 for per-axis QDQ. */
AC_API ac_status ac_model_set_opset(ac_model *m, const char *domain, int64_t version, ac_diag *d);
AC_API const char *ac_model_producer_name(const ac_model *m);
AC_API const char *ac_model_producer_version(const ac_model *m);
/* Sets producer name/version (the quantizer marks its output). */
AC_API ac_status ac_model_set_producer(ac_model *m, const char *name, const char *version,
                                       ac_diag *d);
/* Model-level metadata_props. */
AC_API int32_t ac_model_metadata_count(const ac_model *m);
AC_API void ac_model_metadata_at(const ac_model *m, int32_t i, const char **key,
                                 const char **value);

/* ---- ONNX TensorProto files (the test_data_set_N/input_K.pb convention) ------------------ */

/* Reads one TensorProto file into a tensor owned by *out_owner (free with ac_graph_free).
 * Same limits and checks as model tensors. */
AC_API ac_status ac_tensor_read_pb(const char *path, ac_tensor **out, ac_graph **out_owner,
                                   ac_diag *d);
/* Writes a tensor as a TensorProto file, atomically. `name` may be NULL. */
AC_API ac_status ac_tensor_write_pb(const char *path, const ac_tensor *t, const char *name,
                                    ac_diag *d);

#ifdef __cplusplus
}
#endif
#endif /* AC_MODEL_H */
