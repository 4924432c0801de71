/* SPDX-License-Identifier: MIT */
/* ac_graph -> GraphProto. Every array of the proto lives in the caller's arena or points into
 * the IR, so nothing is copied twice and the whole proto dies with the arena. */
#include "onnx_internal.h"

#include <string.h>

#define NEW(a, T) ((T *)ac_arena_alloc((a), sizeof(T)))
#define NEW_ARRAY(a, n, T) ((T *)ac_arena_array((a), (size_t)(n) + 1, sizeof(T)))

static ac_status nomem(ac_diag *d) { return AC_FAIL(d, AC_ERR_NOMEM, "out of memory"); }

/* TYPE_PROTO attributes are stored encoded; decoding them back into the arena means the
 * whole proto still dies with it. */
static void *arena_pb_alloc(void *data, size_t size) { return ac_arena_alloc(data, size); }
static void arena_pb_free(void *data, void *p) {
    (void)data;
    (void)p;
}

static Onnx__TypeProto *decode_type(ac_arena *a, const uint8_t *bytes, size_t len) {
    ProtobufCAllocator al = {arena_pb_alloc, arena_pb_free, a};
    return onnx__type_proto__unpack(&al, len, bytes);
}

static ac_status value_info(const ac_value *v, ac_arena *a, Onnx__ValueInfoProto **out,
                            ac_diag *d) {
    Onnx__ValueInfoProto *vi = NEW(a, Onnx__ValueInfoProto);
    if (!vi) return nomem(d);
    onnx__value_info_proto__init(vi);
    vi->name = (char *)v->name;
    if (v->doc_string && v->doc_string[0]) vi->doc_string = (char *)v->doc_string;
    if (v->type_proto) {
        vi->type = decode_type(a, v->type_proto, v->type_proto_len);
        if (!vi->type) return AC_FAIL(d, AC_ERR_INTERNAL, "cannot re-encode the type of \"%s\"",
                                      v->name);
    } else if (v->dtype != AC_DTYPE_UNDEFINED || v->rank >= 0) {
        Onnx__TypeProto *tp = NEW(a, Onnx__TypeProto);
        Onnx__TypeProto__Tensor *tt = NEW(a, Onnx__TypeProto__Tensor);
        if (!tp || !tt) return nomem(d);
        onnx__type_proto__init(tp);
        onnx__type_proto__tensor__init(tt);
        tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
        tp->tensor_type = tt;
        tt->has_elem_type = 1;
        tt->elem_type = (int32_t)v->dtype;
        if (v->rank >= 0) {
            Onnx__TensorShapeProto *sp = NEW(a, Onnx__TensorShapeProto);
            Onnx__TensorShapeProto__Dimension **dims =
                NEW_ARRAY(a, v->rank, Onnx__TensorShapeProto__Dimension *);
            if (!sp || !dims) return nomem(d);
            onnx__tensor_shape_proto__init(sp);
            for (int32_t i = 0; i < v->rank; i++) {
                Onnx__TensorShapeProto__Dimension *dm = NEW(a, Onnx__TensorShapeProto__Dimension);
                if (!dm) return nomem(d);
                onnx__tensor_shape_proto__dimension__init(dm);
                if (v->dims[i] >= 0) {
                    dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                    dm->dim_value = v->dims[i];
                } else if (v->dim_params && v->dim_params[i]) {
                    dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                    dm->dim_param = (char *)v->dim_params[i];
                }
                dims[i] = dm;
            }
            sp->n_dim = (size_t)v->rank;
            sp->dim = dims;
            tt->shape = sp;
        }
        vi->type = tp;
    }
    *out = vi;
    return AC_OK;
}

static ac_status tensor_proto(const ac_tensor *t, const char *name, ac_arena *a,
                              Onnx__TensorProto **out, ac_diag *d) {
    Onnx__TensorProto *tp = NEW(a, Onnx__TensorProto);
    if (!tp) return nomem(d);
    AC_TRY(ac_onnx_tensor_to_proto(t, tp, a, d));
    if (name) tp->name = (char *)name;
    *out = tp;
    return AC_OK;
}

/* Dense tensor -> COO SparseTensorProto with linear int64 indices of the non-zero elements. */
static ac_status sparse_proto(const ac_tensor *t, ac_arena *a, Onnx__SparseTensorProto **out,
                              ac_diag *d) {
    Onnx__SparseTensorProto *sp = NEW(a, Onnx__SparseTensorProto);
    Onnx__TensorProto *vals = NEW(a, Onnx__TensorProto);
    Onnx__TensorProto *idx = NEW(a, Onnx__TensorProto);
    if (!sp || !vals || !idx) return nomem(d);
    onnx__sparse_tensor_proto__init(sp);
    size_t es = (size_t)ac_dtype_bits(t->dtype) / 8;
    int64_t nnz = 0;
    static const uint8_t zeros[16];
    for (int64_t i = 0; i < t->numel; i++)
        nnz += memcmp((uint8_t *)t->data + (size_t)i * es, zeros, es) != 0;
    uint8_t *vbuf = ac_arena_alloc(a, (size_t)nnz * es + 1);
    int64_t *ibuf = ac_arena_alloc(a, (size_t)nnz * sizeof(int64_t) + 1);
    int64_t *vdims = NEW(a, int64_t), *idims = NEW(a, int64_t);
    if (!vbuf || !ibuf || !vdims || !idims) return nomem(d);
    int64_t k = 0;
    for (int64_t i = 0; i < t->numel; i++) {
        const uint8_t *e = (uint8_t *)t->data + (size_t)i * es;
        if (!memcmp(e, zeros, es)) continue;
        memcpy(vbuf + (size_t)k * es, e, es);
        ibuf[k++] = i;
    }
    *vdims = *idims = nnz;
    onnx__tensor_proto__init(vals);
    vals->name = (char *)(t->name ? t->name : "");
    vals->has_data_type = 1;
    vals->data_type = (int32_t)t->dtype;
    vals->n_dims = 1;
    vals->dims = vdims;
    vals->has_raw_data = nnz > 0;
    vals->raw_data.data = vbuf;
    vals->raw_data.len = (size_t)nnz * es;
    onnx__tensor_proto__init(idx);
    idx->has_data_type = 1;
    idx->data_type = AC_DTYPE_S64;
    idx->n_dims = 1;
    idx->dims = idims;
    idx->has_raw_data = nnz > 0;
    idx->raw_data.data = (uint8_t *)ibuf;
    idx->raw_data.len = (size_t)nnz * sizeof(int64_t);
    sp->values = vals;
    sp->indices = idx;
    sp->n_dims = (size_t)t->rank;
    sp->dims = t->dims;
    *out = sp;
    return AC_OK;
}

static ac_status attr_proto(const ac_attr *at, ac_arena *a, Onnx__AttributeProto **out,
                            ac_diag *d) {
    Onnx__AttributeProto *ap = NEW(a, Onnx__AttributeProto);
    if (!ap) return nomem(d);
    onnx__attribute_proto__init(ap);
    ap->name = (char *)at->name;
    if (at->doc_string && at->doc_string[0]) ap->doc_string = (char *)at->doc_string;
    ap->has_type = 1;
    ap->type = (Onnx__AttributeProto__AttributeType)at->type;
    if (at->ref_attr_name) {
        ap->ref_attr_name = (char *)at->ref_attr_name;
        *out = ap;
        return AC_OK;
    }
    size_t n = (size_t)at->n;
    switch (at->type) {
    case AC_ATTR_FLOAT:
        ap->has_f = 1;
        ap->f = at->f;
        break;
    case AC_ATTR_INT:
        ap->has_i = 1;
        ap->i = at->i;
        break;
    case AC_ATTR_STRING:
        ap->has_s = 1;
        ap->s.data = (uint8_t *)at->s;
        ap->s.len = at->s_len;
        break;
    case AC_ATTR_TENSOR:
        AC_TRY(tensor_proto(at->t, NULL, a, &ap->t, d));
        break;
    case AC_ATTR_SPARSE_TENSOR:
        AC_TRY(sparse_proto(at->t, a, &ap->sparse_tensor, d));
        break;
    case AC_ATTR_GRAPH:
        ap->g = NEW(a, Onnx__GraphProto);
        if (!ap->g) return nomem(d);
        AC_TRY(ac_onnx_graph_to_proto(at->g, ap->g, a, d));
        break;
    case AC_ATTR_TYPE_PROTO:
        ap->tp = decode_type(a, at->raw[0], at->raw_lens[0]);
        if (!ap->tp) return AC_FAIL(d, AC_ERR_INTERNAL, "cannot re-encode a type attribute");
        break;
    case AC_ATTR_FLOATS:
        ap->n_floats = n;
        ap->floats = at->floats;
        break;
    case AC_ATTR_INTS:
        ap->n_ints = n;
        ap->ints = at->ints;
        break;
    case AC_ATTR_STRINGS:
        ap->n_strings = n;
        ap->strings = NEW_ARRAY(a, n, ProtobufCBinaryData);
        if (!ap->strings) return nomem(d);
        for (size_t i = 0; i < n; i++) {
            ap->strings[i].data = (uint8_t *)at->strings[i];
            ap->strings[i].len = at->string_lens[i];
        }
        break;
    case AC_ATTR_TENSORS:
        ap->n_tensors = n;
        ap->tensors = NEW_ARRAY(a, n, Onnx__TensorProto *);
        if (!ap->tensors) return nomem(d);
        for (size_t i = 0; i < n; i++) AC_TRY(tensor_proto(at->tensors[i], NULL, a,
                                                            &ap->tensors[i], d));
        break;
    case AC_ATTR_SPARSE_TENSORS:
        ap->n_sparse_tensors = n;
        ap->sparse_tensors = NEW_ARRAY(a, n, Onnx__SparseTensorProto *);
        if (!ap->sparse_tensors) return nomem(d);
        for (size_t i = 0; i < n; i++) AC_TRY(sparse_proto(at->tensors[i], a,
                                                            &ap->sparse_tensors[i], d));
        break;
    case AC_ATTR_GRAPHS:
        ap->n_graphs = n;
        ap->graphs = NEW_ARRAY(a, n, Onnx__GraphProto *);
        if (!ap->graphs) return nomem(d);
        for (size_t i = 0; i < n; i++) {
            ap->graphs[i] = NEW(a, Onnx__GraphProto);
            if (!ap->graphs[i]) return nomem(d);
            AC_TRY(ac_onnx_graph_to_proto(at->graphs[i], ap->graphs[i], a, d));
        }
        break;
    case AC_ATTR_TYPE_PROTOS:
        ap->n_type_protos = n;
        ap->type_protos = NEW_ARRAY(a, n, Onnx__TypeProto *);
        if (!ap->type_protos) return nomem(d);
        for (size_t i = 0; i < n; i++) {
            ap->type_protos[i] = decode_type(a, at->raw[i], at->raw_lens[i]);
            if (!ap->type_protos[i])
                return AC_FAIL(d, AC_ERR_INTERNAL, "cannot re-encode a type attribute");
        }
        break;
    default:
        return AC_FAIL(d, AC_ERR_INTERNAL, "attribute \"%s\" has no type", at->name);
    }
    *out = ap;
    return AC_OK;
}

static ac_status node_proto(const ac_node *n, ac_arena *a, Onnx__NodeProto **out, ac_diag *d) {
    Onnx__NodeProto *np = NEW(a, Onnx__NodeProto);
    if (!np) return nomem(d);
    onnx__node_proto__init(np);
    np->name = (char *)n->name;
    np->op_type = (char *)n->op_type;
    if (n->domain && n->domain[0]) np->domain = (char *)n->domain;
    if (n->overload && n->overload[0]) np->overload = (char *)n->overload;
    if (n->doc_string && n->doc_string[0]) np->doc_string = (char *)n->doc_string;
    np->n_input = (size_t)n->n_inputs;
    np->input = NEW_ARRAY(a, n->n_inputs, char *);
    np->n_output = (size_t)n->n_outputs;
    np->output = NEW_ARRAY(a, n->n_outputs, char *);
    np->n_attribute = (size_t)n->n_attrs;
    np->attribute = NEW_ARRAY(a, n->n_attrs, Onnx__AttributeProto *);
    if (!np->input || !np->output || !np->attribute) return nomem(d);
    for (int32_t i = 0; i < n->n_inputs; i++)
        np->input[i] = (char *)(n->inputs[i] ? n->inputs[i]->name : "");
    for (int32_t i = 0; i < n->n_outputs; i++)
        np->output[i] = (char *)(n->outputs[i] ? n->outputs[i]->name : "");
    for (int32_t i = 0; i < n->n_attrs; i++) AC_TRY(attr_proto(&n->attrs[i], a,
                                                               &np->attribute[i], d));
    *out = np;
    return AC_OK;
}

ac_status ac_onnx_graph_to_proto(const ac_graph *g, Onnx__GraphProto *gp, ac_arena *a,
                                 ac_diag *d) {
    onnx__graph_proto__init(gp);
    gp->name = (char *)g->name;
    if (g->doc_string && g->doc_string[0]) gp->doc_string = (char *)g->doc_string;
    gp->n_node = (size_t)g->n_nodes;
    gp->node = NEW_ARRAY(a, g->n_nodes, Onnx__NodeProto *);
    gp->n_initializer = (size_t)g->n_inits;
    gp->initializer = NEW_ARRAY(a, g->n_inits, Onnx__TensorProto *);
    gp->n_input = (size_t)g->n_inputs;
    gp->input = NEW_ARRAY(a, g->n_inputs, Onnx__ValueInfoProto *);
    gp->n_output = (size_t)g->n_outputs;
    gp->output = NEW_ARRAY(a, g->n_outputs, Onnx__ValueInfoProto *);
    gp->value_info = NEW_ARRAY(a, g->n_values, Onnx__ValueInfoProto *);
    if (!gp->node || !gp->initializer || !gp->input || !gp->output || !gp->value_info)
        return nomem(d);
    for (int64_t i = 0; i < g->n_nodes; i++) AC_TRY(node_proto(g->nodes[i], a, &gp->node[i], d));
    for (int64_t i = 0; i < g->n_inits; i++)
        AC_TRY(tensor_proto(g->inits[i]->init, g->inits[i]->name, a, &gp->initializer[i], d));
    for (int64_t i = 0; i < g->n_inputs; i++) AC_TRY(value_info(g->inputs[i], a, &gp->input[i], d));
    for (int64_t i = 0; i < g->n_outputs; i++)
        AC_TRY(value_info(g->outputs[i], a, &gp->output[i], d));
    /* value_info: typed intermediate values (node outputs that are not graph outputs) */
    size_t nvi = 0;
    for (int64_t i = 0; i < g->n_values; i++) {
        const ac_value *v = g->values[i];
        if (!v->producer || (v->flags & (AC_VALUE_OUTPUT | AC_VALUE_INPUT)) ||
            (v->dtype == AC_DTYPE_UNDEFINED && v->rank < 0 && !v->type_proto))
            continue;
        AC_TRY(value_info(v, a, &gp->value_info[nvi], d));
        nvi++;
    }
    gp->n_value_info = nvi;
    return AC_OK;
}
