/* SPDX-License-Identifier: MIT */
/* Element-type traits, indexed by ac_dtype (ONNX's numbering). */
#include "autocompress/ac_graph.h"

#include <stdint.h>

static const struct {
    const char *name;
    int bits;
} dtype_traits[] = {
    [AC_DTYPE_UNDEFINED] = {"undefined", 0},
    [AC_DTYPE_F32] = {"float", 32},
    [AC_DTYPE_U8] = {"uint8", 8},
    [AC_DTYPE_S8] = {"int8", 8},
    [AC_DTYPE_U16] = {"uint16", 16},
    [AC_DTYPE_S16] = {"int16", 16},
    [AC_DTYPE_S32] = {"int32", 32},
    [AC_DTYPE_S64] = {"int64", 64},
    [AC_DTYPE_STRING] = {"string", 0},
    [AC_DTYPE_BOOL] = {"bool", 8},
    [AC_DTYPE_F16] = {"float16", 16},
    [AC_DTYPE_F64] = {"double", 64},
    [AC_DTYPE_U32] = {"uint32", 32},
    [AC_DTYPE_U64] = {"uint64", 64},
    [AC_DTYPE_C64] = {"complex64", 64},
    [AC_DTYPE_C128] = {"complex128", 128},
    [AC_DTYPE_BF16] = {"bfloat16", 16},
    [AC_DTYPE_F8E4M3FN] = {"float8e4m3fn", 8},
    [AC_DTYPE_F8E4M3FNUZ] = {"float8e4m3fnuz", 8},
    [AC_DTYPE_F8E5M2] = {"float8e5m2", 8},
    [AC_DTYPE_F8E5M2FNUZ] = {"float8e5m2fnuz", 8},
    [AC_DTYPE_U4] = {"uint4", 4},
    [AC_DTYPE_S4] = {"int4", 4},
    [AC_DTYPE_F4E2M1] = {"float4e2m1", 4},
};
_Static_assert(sizeof dtype_traits / sizeof dtype_traits[0] == AC_DTYPE_COUNT,
               "dtype_traits must describe every ac_dtype");

const char *ac_dtype_name(ac_dtype t) {
    if ((unsigned)t >= AC_DTYPE_COUNT) return "undefined";
    return dtype_traits[t].name;
}

int ac_dtype_bits(ac_dtype t) {
    if ((unsigned)t >= AC_DTYPE_COUNT) return 0;
    return dtype_traits[t].bits;
}

size_t ac_dtype_bytes(ac_dtype t, int64_t numel) {
    int bits = ac_dtype_bits(t);
    if (bits == 0 || numel <= 0) return 0;
    if (bits < 8) return (size_t)((numel * bits + 7) / 8);
    return (size_t)numel * (size_t)(bits / 8);
}

int ac_dims_numel(const int64_t *dims, int32_t rank, int64_t *numel) {
    int64_t n = 1;
    int overflow = 0;
    for (int32_t i = 0; i < rank; i++) {
        if (dims[i] < 0) return -1;
        /* keep scanning after an overflow: a negative dim is the more useful message */
        if (!overflow && dims[i] != 0 && n > INT64_MAX / dims[i]) overflow = 1;
        if (!overflow) n *= dims[i];
    }
    if (overflow) {
        for (int32_t i = 0; i < rank; i++)
            if (dims[i] == 0) { /* a zero dim makes the product 0 whatever the rest */
                *numel = 0;
                return 0;
            }
        return -2;
    }
    *numel = n;
    return 0;
}

const char *ac_attr_type_name(ac_attr_type t) {
    static const char *const names[] = {
        [AC_ATTR_UNDEFINED] = "undefined",
        [AC_ATTR_FLOAT] = "float",
        [AC_ATTR_INT] = "int",
        [AC_ATTR_STRING] = "string",
        [AC_ATTR_TENSOR] = "tensor",
        [AC_ATTR_GRAPH] = "graph",
        [AC_ATTR_FLOATS] = "floats",
        [AC_ATTR_INTS] = "ints",
        [AC_ATTR_STRINGS] = "strings",
        [AC_ATTR_TENSORS] = "tensors",
        [AC_ATTR_GRAPHS] = "graphs",
        [AC_ATTR_SPARSE_TENSOR] = "sparse_tensor",
        [AC_ATTR_SPARSE_TENSORS] = "sparse_tensors",
        [AC_ATTR_TYPE_PROTO] = "type_proto",
        [AC_ATTR_TYPE_PROTOS] = "type_protos",
    };
    _Static_assert(sizeof names / sizeof names[0] == AC_ATTR_TYPE_COUNT,
                   "names must cover every ac_attr_type");
    if ((unsigned)t >= AC_ATTR_TYPE_COUNT) return "unknown";
    return names[t];
}
