/* SPDX-License-Identifier: MIT */
/* Single TensorProto files: the input_K.pb / output_K.pb convention of ONNX's test data sets and
 * of `autocompress infer`. Same checks as tensors inside a model. */
#define _GNU_SOURCE
#include "onnx_internal.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

ac_status ac_tensor_read_pb(const char *path, ac_tensor **out, ac_graph **out_owner,
                            ac_diag *d) {
    *out = NULL;
    *out_owner = NULL;
    ac_load_opts o;
    ac_onnx_resolve_opts(NULL, 0, &o);
    uint8_t *buf = NULL;
    size_t len = 0;
    ac_status s = ac_file_read_all(path, o.max_file_bytes, &buf, &len, d);
    Onnx__TensorProto *tp = NULL;
    ac_pb_budget budget;
    ac_graph *g = NULL;
    char *dcopy = NULL;
    if (s == AC_OK) {
        ac_onnx_resolve_opts(NULL, len, &o);
        ac_prescan_info info;
        s = ac_onnx_prescan(&onnx__tensor_proto__descriptor, buf, len, &o, &info, d);
        ac_free(info.spans);
    }
    if (s == AC_OK) {
        ac_pb_budget_init(&budget, o.max_memory_bytes);
        tp = onnx__tensor_proto__unpack(&budget.alloc, len, buf);
        if (!tp)
            s = budget.exceeded ? AC_FAIL(d, AC_ERR_LIMIT, "tensor exceeds its memory budget")
                                : AC_FAIL(d, AC_ERR_FORMAT, "not a valid TensorProto file");
    }
    ac_free(buf);
    if (s == AC_OK) s = ac_graph_new("tensor", &g, d);
    if (s == AC_OK) {
        dcopy = ac_strdup(path);
        if (!dcopy) s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    if (s == AC_OK) {
        ac_onnx_reader r = {.opts = &o, .budget = &budget, .base_dir = dirname(dcopy)};
        s = ac_onnx_tensor_from_proto(&r, g, tp, out, d);
        free(r.base_real);
    }
    ac_free(dcopy);
    if (tp) onnx__tensor_proto__free_unpacked(tp, &budget.alloc);
    if (s != AC_OK) {
        ac_graph_free(g);
        *out = NULL;
        ac_diag_prefix(d, "%s", path);
        return s;
    }
    *out_owner = g;
    return AC_OK;
}

typedef struct file_sink {
    ProtobufCBuffer base;
    ac_atomic_file *f;
    ac_diag *d;
    ac_status status;
} file_sink;

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data) {
    file_sink *s = (file_sink *)b;
    if (s->status == AC_OK) s->status = ac_atomic_write(s->f, data, len, s->d);
}

ac_status ac_onnx_write_message(const ProtobufCMessage *msg, const char *path, ac_diag *d) {
    ac_atomic_file *f;
    AC_TRY(ac_atomic_open(path, &f, d));
    file_sink sink = {.base.append = sink_append, .f = f, .d = d, .status = AC_OK};
    protobuf_c_message_pack_to_buffer(msg, &sink.base);
    if (sink.status != AC_OK) {
        ac_atomic_abort(f);
        return sink.status;
    }
    return ac_atomic_commit(f, d);
}

ac_status ac_tensor_write_pb(const char *path, const ac_tensor *t, const char *name,
                             ac_diag *d) {
    ac_arena *a;
    AC_TRY(ac_arena_new(0, &a, d));
    Onnx__TensorProto tp;
    ac_status s = ac_onnx_tensor_to_proto(t, &tp, a, d);
    if (s == AC_OK) {
        if (name) tp.name = (char *)name;
        s = ac_onnx_write_message(&tp.base, path, d);
    }
    ac_arena_free(a);
    if (s != AC_OK) ac_diag_prefix(d, "%s", path);
    return s;
}
