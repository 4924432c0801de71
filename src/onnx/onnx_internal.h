/* SPDX-License-Identifier: MIT */
/* Private to src/onnx: the steps of loading and saving, one file each. */
#ifndef AC_ONNX_INTERNAL_H
#define AC_ONNX_INTERNAL_H

#include "autocompress/ac_model.h"
#include "onnx.pb-c.h"

/* Defaults of ac_load_opts, filled in where the caller left zeros. */
void ac_onnx_resolve_opts(const ac_load_opts *in, size_t file_len, ac_load_opts *out);

/* What the pre-scan learned about the file. */
/* Where a large raw_data payload sits in the file (for dropping it once decoded). */
typedef struct ac_span {
    size_t off, len;
} ac_span;

typedef struct ac_prescan_info {
    ac_span *spans; /* raw_data payloads of at least AC_SPAN_MIN bytes, in file order; ac_free */
    int64_t n_spans, cap_spans;
    int64_t messages;
    int64_t nodes;
    int64_t tensors;
    int64_t attributes;
    int32_t max_depth_seen;
    uint64_t est_bytes; /* estimate of what protobuf-c will allocate to decode it */
} ac_prescan_info;

/* Walks the wire format of a message of type `desc` (ModelProto, TensorProto) without decoding
 * it: validates tags, wire types and lengths, rejects NUL bytes in string fields, and enforces
 * depth/count/memory limits. */
ac_status ac_onnx_prescan(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                          const ac_load_opts *o, ac_prescan_info *info, ac_diag *d);

#define AC_SPAN_MIN ((size_t)64 << 10)

/* A protobuf-c allocator over ac_malloc that refuses to pass a byte budget. When it decodes
 * from a mapped file it also drops each big raw_data payload from memory once protobuf-c has
 * copied it: protobuf-c copies payloads in file order, so when the allocation for payload j
 * arrives every earlier payload is done. That keeps peak memory near one copy of the weights
 * instead of two. (Dropping too early is harmless: the pages are re-read from the file.) */
typedef struct ac_pb_budget {
    ProtobufCAllocator alloc;
    uint64_t limit, used;
    int exceeded;
    const ac_file_view *view;   /* optional */
    const ac_prescan_info *info;
    int64_t next_span;  /* the next payload an allocation may be for */
    int64_t first_kept; /* payloads before this one have been dropped */
} ac_pb_budget;
void ac_pb_budget_init(ac_pb_budget *b, uint64_t limit);
/* Takes a block protobuf-c allocated (a bytes payload) out of the budget's bookkeeping so it
 * can outlive the decoded message: returns the pointer to pass to ac_free later; the payload
 * itself stays at `p`. */
void *ac_pb_budget_release(ac_pb_budget *b, void *p);

/* Context for converting decoded protobuf into the IR. */
typedef struct ac_onnx_reader {
    const ac_load_opts *opts;
    ac_pb_budget *budget; /* allocator the model was decoded with (for stealing payloads) */
    const char *base_dir; /* folder external data is confined to, or NULL */
    char *base_real;      /* realpath(base_dir), resolved on first use */
    uint64_t external_bytes;
    uint64_t sparse_bytes; /* dense size of the sparse tensors made so far */
    int64_t ir_version;
} ac_onnx_reader;

/* TensorProto -> ac_tensor owned by g. Payload buffers of `tp` may be stolen (set to NULL in
 * tp) to avoid a copy. `what` names the tensor's role for messages ("initializer", ...). */
ac_status ac_onnx_tensor_from_proto(ac_onnx_reader *r, ac_graph *g, Onnx__TensorProto *tp,
                                    ac_tensor **out, ac_diag *d);
/* SparseTensorProto -> dense ac_tensor owned by g. */
ac_status ac_onnx_sparse_from_proto(ac_onnx_reader *r, ac_graph *g, Onnx__SparseTensorProto *sp,
                                    ac_tensor **out, ac_diag *d);
/* Reads external data of `tp` into a new ac_malloc'd block of exactly `nbytes`. */
ac_status ac_onnx_read_external(ac_onnx_reader *r, const Onnx__TensorProto *tp, size_t nbytes,
                                void **out, ac_diag *d);

/* ModelProto -> IR pieces held by ac_model (see model.c). */
ac_status ac_onnx_graph_from_proto(ac_onnx_reader *r, ac_graph *g, Onnx__GraphProto *gp,
                                   int depth, ac_diag *d);

/* ac_tensor -> TensorProto; arrays point into the IR (no copy), so the proto must not be freed
 * with protobuf-c's free_unpacked. Extra memory comes from `a`. */
ac_status ac_onnx_tensor_to_proto(const ac_tensor *t, Onnx__TensorProto *tp, ac_arena *a,
                                  ac_diag *d);
ac_status ac_onnx_graph_to_proto(const ac_graph *g, Onnx__GraphProto *gp, ac_arena *a,
                                 ac_diag *d);

/* Packs `msg` straight into an atomic file (no whole-file buffer). */
ac_status ac_onnx_write_message(const ProtobufCMessage *msg, const char *path, ac_diag *d);

#endif
