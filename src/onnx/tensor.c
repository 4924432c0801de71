/* SPDX-License-Identifier: MIT */
/* TensorProto <-> ac_tensor, with every rule about data fields checked before a byte is used:
 * one data source only, the typed field that matches the dtype, element counts that match the
 * dims, and raw_data of exactly dims x element-size bytes (ONNX #8109 read past a short one). */
#include "onnx_internal.h"

#include <string.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "tensor payloads are kept little-endian, as ONNX stores raw_data");

/* Which typed field ONNX stores a dtype in, and how many entries numel elements take. */
typedef enum typed_field {
    TF_NONE,
    TF_FLOAT,
    TF_INT32,
    TF_STRING,
    TF_INT64,
    TF_DOUBLE,
    TF_UINT64
} typed_field;

static const char *const tf_names[] = {"", "float_data", "int32_data", "string_data",
                                       "int64_data", "double_data", "uint64_data"};

static typed_field field_for(ac_dtype t) {
    switch (t) {
    case AC_DTYPE_F32:
    case AC_DTYPE_C64:
        return TF_FLOAT;
    case AC_DTYPE_S64:
        return TF_INT64;
    case AC_DTYPE_F64:
    case AC_DTYPE_C128:
        return TF_DOUBLE;
    case AC_DTYPE_U32:
    case AC_DTYPE_U64:
        return TF_UINT64;
    case AC_DTYPE_STRING:
        return TF_STRING;
    case AC_DTYPE_UNDEFINED:
    case AC_DTYPE_COUNT:
        return TF_NONE;
    default:
        return TF_INT32; /* 8/16-bit ints, bool, float16, bfloat16, float8, 4-bit */
    }
}

static int64_t entries_for(ac_dtype t, int64_t numel) {
    if (t == AC_DTYPE_C64 || t == AC_DTYPE_C128) return numel * 2;
    if (ac_dtype_bits(t) == 4) return (numel + 1) / 2; /* two nibbles per entry */
    return numel;
}

static size_t typed_count(const Onnx__TensorProto *tp, typed_field f) {
    switch (f) {
    case TF_FLOAT:
        return tp->n_float_data;
    case TF_INT32:
        return tp->n_int32_data;
    case TF_STRING:
        return tp->n_string_data;
    case TF_INT64:
        return tp->n_int64_data;
    case TF_DOUBLE:
        return tp->n_double_data;
    case TF_UINT64:
        return tp->n_uint64_data;
    default:
        return 0;
    }
}

/* Unpacks a typed field into packed little-endian bytes. */
static void typed_to_raw(const Onnx__TensorProto *tp, ac_dtype t, typed_field f, uint8_t *dst,
                         int64_t entries) {
    int bits = ac_dtype_bits(t);
    switch (f) {
    case TF_FLOAT:
        memcpy(dst, tp->float_data, (size_t)entries * 4);
        break;
    case TF_INT64:
        memcpy(dst, tp->int64_data, (size_t)entries * 8);
        break;
    case TF_DOUBLE:
        memcpy(dst, tp->double_data, (size_t)entries * 8);
        break;
    case TF_UINT64:
        for (int64_t i = 0; i < entries; i++) {
            if (t == AC_DTYPE_U32) {
                uint32_t v = (uint32_t)tp->uint64_data[i];
                memcpy(dst + 4 * i, &v, 4);
            } else {
                memcpy(dst + 8 * i, &tp->uint64_data[i], 8);
            }
        }
        break;
    case TF_INT32:
        for (int64_t i = 0; i < entries; i++) {
            int32_t v = tp->int32_data[i];
            if (bits == 32) {
                memcpy(dst + 4 * i, &v, 4);
            } else if (bits == 16) {
                uint16_t h = (uint16_t)v; /* int16, uint16 or the bit pattern of a half */
                memcpy(dst + 2 * i, &h, 2);
            } else {
                dst[i] = (uint8_t)v; /* 8-bit values, bool, or two packed nibbles */
            }
        }
        break;
    default:
        break;
    }
}

ac_status ac_onnx_tensor_from_proto(ac_onnx_reader *r, ac_graph *g, Onnx__TensorProto *tp,
                                    ac_tensor **out, ac_diag *d) {
    *out = NULL;
    const ac_load_opts *o = r->opts;
    const char *name = tp->name ? tp->name : "";
    if (!tp->has_data_type || tp->data_type <= 0 || tp->data_type >= AC_DTYPE_COUNT)
        return AC_FAIL(d, AC_ERR_MODEL, "data_type %d is not a valid ONNX element type",
                       tp->has_data_type ? (int)tp->data_type : 0);
    ac_dtype t = (ac_dtype)tp->data_type;
    if (tp->n_dims > (size_t)o->max_rank)
        return AC_FAIL(d, AC_ERR_LIMIT, "rank %zu exceeds the limit of %d", tp->n_dims,
                       (int)o->max_rank);
    int32_t rank = (int32_t)tp->n_dims;
    int64_t numel;
    int rc = ac_dims_numel(tp->dims, rank, &numel);
    if (rc == -1) return AC_FAIL(d, AC_ERR_MODEL, "negative dimension");
    if (rc == -2) return AC_FAIL(d, AC_ERR_LIMIT, "dimension product overflows int64");
    if (numel > o->max_tensor_elems)
        return AC_FAIL(d, AC_ERR_LIMIT, "%lld elements exceed the limit of %lld",
                       (long long)numel, (long long)o->max_tensor_elems);
    if (tp->segment) return AC_FAIL(d, AC_ERR_UNSUPPORTED, "segmented tensors are not supported");

    typed_field want = field_for(t);
    int is_external = tp->has_data_location &&
                      tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (tp->has_data_location && tp->data_location != ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT &&
        !is_external)
        return AC_FAIL(d, AC_ERR_MODEL, "data_location %d is not DEFAULT or EXTERNAL",
                       (int)tp->data_location);
    /* exactly one place holds the data */
    const char *sources[8];
    int n_sources = 0;
    if (tp->has_raw_data && tp->raw_data.len) sources[n_sources++] = "raw_data";
    for (typed_field f = TF_FLOAT; f <= TF_UINT64; f++)
        if (typed_count(tp, f)) sources[n_sources++] = tf_names[f];
    if (is_external && n_sources)
        return AC_FAIL(d, AC_ERR_MODEL, "data_location is EXTERNAL but %s is also set",
                       sources[0]);
    if (n_sources > 1)
        return AC_FAIL(d, AC_ERR_MODEL, "both %s and %s hold data", sources[0], sources[1]);
    if (n_sources == 1 && strcmp(sources[0], "raw_data") != 0 &&
        strcmp(sources[0], tf_names[want]) != 0)
        return AC_FAIL(d, AC_ERR_MODEL, "%s cannot hold %s elements (expected %s)", sources[0],
                       ac_dtype_name(t), want == TF_NONE ? "raw_data" : tf_names[want]);
    if (t == AC_DTYPE_STRING && ((tp->has_raw_data && tp->raw_data.len) || is_external))
        return AC_FAIL(d, AC_ERR_MODEL, "string tensors must use string_data");

    ac_tensor *x = ac_graph_alloc(g, sizeof *x);
    if (!x) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    x->name = ac_graph_strdup(g, name);
    x->doc_string = ac_graph_strdup(g, tp->doc_string);
    x->dtype = t;
    x->rank = rank;
    x->numel = numel;
    if (rank) {
        x->dims = ac_graph_alloc(g, (size_t)rank * sizeof *x->dims);
        if (!x->dims) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        memcpy(x->dims, tp->dims, (size_t)rank * sizeof *x->dims);
    }
    if (!x->name || !x->doc_string) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");

    if (t == AC_DTYPE_STRING) {
        if (numel && tp->n_string_data != (size_t)numel)
            return AC_FAIL(d, AC_ERR_MODEL, "string_data has %zu entries, expected %lld",
                           tp->n_string_data, (long long)numel);
        x->strings = ac_graph_alloc(g, (size_t)(numel ? numel : 1) * sizeof *x->strings);
        x->string_lens = ac_graph_alloc(g, (size_t)(numel ? numel : 1) * sizeof *x->string_lens);
        if (!x->strings || !x->string_lens) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (int64_t i = 0; i < numel; i++) {
            x->strings[i] = ac_graph_alloc(g, tp->string_data[i].len + 1);
            if (!x->strings[i]) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            if (tp->string_data[i].len)
                memcpy(x->strings[i], tp->string_data[i].data, tp->string_data[i].len);
            x->string_lens[i] = tp->string_data[i].len;
        }
        *out = x;
        return AC_OK;
    }

    size_t nbytes = ac_dtype_bytes(t, numel);
    x->nbytes = nbytes;
    if (numel == 0) {
        *out = x;
        return AC_OK;
    }
    if (is_external) {
        void *buf;
        AC_TRY(ac_onnx_read_external(r, tp, nbytes, &buf, d));
        x->data = buf;
        AC_TRY(ac_graph_adopt(g, buf, d));
    } else if (tp->has_raw_data && tp->raw_data.len) {
        if (tp->raw_data.len != nbytes)
            return AC_FAIL(d, AC_ERR_MODEL, "raw_data has %zu bytes, expected %zu (%lld x %s)",
                           tp->raw_data.len, nbytes, (long long)numel, ac_dtype_name(t));
        /* steal the decoded buffer instead of copying: halves peak memory on big models */
        x->data = tp->raw_data.data;
        void *block = r->budget ? ac_pb_budget_release(r->budget, tp->raw_data.data) : NULL;
        tp->raw_data.data = NULL;
        tp->raw_data.len = 0;
        tp->has_raw_data = 0;
        AC_TRY(ac_graph_adopt(g, block, d));
    } else if (n_sources == 1) {
        int64_t entries = entries_for(t, numel);
        size_t have = typed_count(tp, want);
        if (have != (size_t)entries)
            return AC_FAIL(d, AC_ERR_MODEL, "%s has %zu entries, expected %lld", tf_names[want],
                           have, (long long)entries);
        uint8_t *buf = ac_malloc(nbytes);
        if (!buf) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory (%zu bytes)", nbytes);
        typed_to_raw(tp, t, want, buf, entries);
        x->data = buf;
        AC_TRY(ac_graph_adopt(g, buf, d));
    } else {
        return AC_FAIL(d, AC_ERR_MODEL, "has %lld elements but no data", (long long)numel);
    }
    *out = x;
    return AC_OK;
}

/* ---- sparse tensors ---------------------------------------------------------------------- */

ac_status ac_onnx_sparse_from_proto(ac_onnx_reader *r, ac_graph *g, Onnx__SparseTensorProto *sp,
                                    ac_tensor **out, ac_diag *d) {
    *out = NULL;
    if (!sp->values || !sp->indices)
        return AC_FAIL(d, AC_ERR_MODEL, "sparse tensor without values or indices");
    ac_tensor *vals, *idx;
    AC_TRY(ac_onnx_tensor_from_proto(r, g, sp->values, &vals, d));
    AC_TRY(ac_onnx_tensor_from_proto(r, g, sp->indices, &idx, d));
    if (vals->rank != 1)
        return AC_FAIL(d, AC_ERR_MODEL, "sparse tensor \"%s\": values must be 1-D", vals->name);
    if (idx->dtype != AC_DTYPE_S64)
        return AC_FAIL(d, AC_ERR_MODEL, "sparse tensor \"%s\": indices must be int64",
                       vals->name);
    if (vals->dtype == AC_DTYPE_STRING || ac_dtype_bits(vals->dtype) < 8)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "sparse tensor \"%s\": %s values are not supported",
                       vals->name, ac_dtype_name(vals->dtype));
    int32_t rank = (int32_t)sp->n_dims;
    if (rank > r->opts->max_rank)
        return AC_FAIL(d, AC_ERR_LIMIT, "sparse tensor \"%s\": rank %d exceeds the limit",
                       vals->name, (int)rank);
    ac_tensor *dense;
    int64_t numel;
    int rc = ac_dims_numel(sp->dims, rank, &numel);
    if (rc || numel > r->opts->max_tensor_elems)
        return AC_FAIL(d, rc == -1 ? AC_ERR_MODEL : AC_ERR_LIMIT,
                       "sparse tensor \"%s\": invalid dims", vals->name);
    /* a few bytes of COO can describe a huge dense tensor: the dense form counts against the
     * decoded-model memory budget, or a tiny file could ask for any allocation */
    uint64_t dense_bytes = ac_dtype_bytes(vals->dtype, numel);
    if (dense_bytes > r->opts->max_memory_bytes - r->sparse_bytes)
        return AC_FAIL(d, AC_ERR_LIMIT,
                       "sparse tensor \"%s\": %llu bytes once dense, over the memory budget of "
                       "%llu MB", vals->name, (unsigned long long)dense_bytes,
                       (unsigned long long)(r->opts->max_memory_bytes >> 20));
    r->sparse_bytes += dense_bytes;
    AC_TRY(ac_graph_new_tensor(g, vals->name, vals->dtype, rank, sp->dims, &dense, d));
    int64_t nnz = vals->numel;
    const int64_t *ix = idx->data;
    size_t es = (size_t)ac_dtype_bits(vals->dtype) / 8;
    /* indices are either [nnz] linear positions or [nnz, rank] coordinates */
    int linear = idx->rank == 1 && idx->dims[0] == nnz;
    int coords = idx->rank == 2 && idx->dims[0] == nnz && idx->dims[1] == rank;
    if (!linear && !coords)
        return AC_FAIL(d, AC_ERR_MODEL, "sparse tensor \"%s\": indices shape does not match %lld "
                       "values", vals->name, (long long)nnz);
    for (int64_t k = 0; k < nnz; k++) {
        int64_t pos = 0;
        if (linear) {
            pos = ix[k];
        } else {
            for (int32_t a = 0; a < rank; a++) {
                int64_t c = ix[k * rank + a];
                if (c < 0 || c >= sp->dims[a]) {
                    pos = -1;
                    break;
                }
                pos = pos * sp->dims[a] + c;
            }
        }
        if (pos < 0 || pos >= numel)
            return AC_FAIL(d, AC_ERR_MODEL, "sparse tensor \"%s\": index %lld is out of range",
                           vals->name, (long long)k);
        memcpy((uint8_t *)dense->data + (size_t)pos * es, (uint8_t *)vals->data + (size_t)k * es,
               es);
    }
    *out = dense;
    return AC_OK;
}

/* ---- writing ----------------------------------------------------------------------------- */

ac_status ac_onnx_tensor_to_proto(const ac_tensor *t, Onnx__TensorProto *tp, ac_arena *a,
                                  ac_diag *d) {
    onnx__tensor_proto__init(tp);
    tp->name = (char *)(t->name ? t->name : "");
    if (t->doc_string && t->doc_string[0]) tp->doc_string = (char *)t->doc_string;
    tp->has_data_type = 1;
    tp->data_type = (int32_t)t->dtype;
    tp->n_dims = (size_t)t->rank;
    tp->dims = t->dims;
    if (t->dtype == AC_DTYPE_STRING) {
        tp->n_string_data = (size_t)t->numel;
        tp->string_data = ac_arena_array(a, (size_t)(t->numel ? t->numel : 1),
                                         sizeof *tp->string_data);
        if (!tp->string_data) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (int64_t i = 0; i < t->numel; i++) {
            tp->string_data[i].data = (uint8_t *)t->strings[i];
            tp->string_data[i].len = t->string_lens[i];
        }
    } else if (t->nbytes) {
        tp->has_raw_data = 1;
        tp->raw_data.data = t->data;
        tp->raw_data.len = t->nbytes;
    }
    return AC_OK;
}
