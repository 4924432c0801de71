/* SPDX-License-Identifier: MIT */
/* GraphProto -> ac_graph, checking the graph rules as it goes: non-empty names, one definition
 * per name (SSA), every node input defined in this scope or an enclosing one, outputs defined,
 * attribute types consistent, and finally a topological order (a cycle is an error).
 *
 * Errors name the place with ac_diag_prefix while unwinding, innermost first, so the final line
 * reads `model.onnx: node "If_1" (If): attribute "then_branch": node "c" (Conv): input "w" is
 * never defined`. */
#include "onnx_internal.h"

#include <stdio.h>
#include <string.h>

static ac_status read_type(ac_value *v, const Onnx__TypeProto *tp, const ac_load_opts *o,
                           ac_diag *d) {
    if (tp && tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
        tp->value_case != ONNX__TYPE_PROTO__VALUE__NOT_SET) {
        /* sequences, maps, optionals: untyped for our passes, but a graph input or output
         * without its type is an invalid model, so keep the encoded type for the writer */
        size_t n = protobuf_c_message_get_packed_size(&tp->base);
        uint8_t *buf = ac_graph_alloc(v->graph, n ? n : 1);
        if (!buf) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        v->type_proto_len = protobuf_c_message_pack(&tp->base, buf);
        v->type_proto = buf;
        return AC_OK;
    }
    if (!tp || !tp->tensor_type) return AC_OK;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    int32_t et = tt->has_elem_type ? tt->elem_type : 0;
    if (et < 0 || et >= AC_DTYPE_COUNT)
        return AC_FAIL(d, AC_ERR_MODEL, "elem_type %d is not a valid ONNX element type", (int)et);
    v->flags |= AC_VALUE_TYPED;
    if (!tt->shape) return ac_value_set_type(v, (ac_dtype)et, -1, NULL, NULL, d);
    size_t rank = tt->shape->n_dim;
    if (rank > (size_t)o->max_rank)
        return AC_FAIL(d, AC_ERR_LIMIT, "rank %zu exceeds the limit of %d", rank, (int)o->max_rank);
    int64_t dims[64];
    const char *params[64];
    for (size_t i = 0; i < rank; i++) {
        const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[i];
        dims[i] = -1;
        params[i] = NULL;
        if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (dm->dim_value < 0)
                return AC_FAIL(d, AC_ERR_MODEL, "negative dimension %lld at axis %zu",
                               (long long)dm->dim_value, i);
            dims[i] = dm->dim_value;
        } else if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
            params[i] = dm->dim_param;
        }
    }
    int64_t numel;
    int rc = ac_dims_numel(dims, (int32_t)rank, &numel);
    (void)numel;
    if (rc == -2) return AC_FAIL(d, AC_ERR_LIMIT, "dimension product overflows int64");
    return ac_value_set_type(v, (ac_dtype)et, (int32_t)rank, dims, params, d);
}

static ac_status check_name(const char *name, const char *what, ac_diag *d) {
    if (!name || !name[0]) return AC_FAIL(d, AC_ERR_MODEL, "%s has an empty name", what);
    return AC_OK;
}

/* ---- attributes -------------------------------------------------------------------------- */

static ac_attr_type infer_attr_type(const Onnx__AttributeProto *ap) {
    /* IR version 1 files may omit `type`; take the one field that is set */
    if (ap->has_f) return AC_ATTR_FLOAT;
    if (ap->has_i) return AC_ATTR_INT;
    if (ap->has_s) return AC_ATTR_STRING;
    if (ap->t) return AC_ATTR_TENSOR;
    if (ap->g) return AC_ATTR_GRAPH;
    if (ap->sparse_tensor) return AC_ATTR_SPARSE_TENSOR;
    if (ap->tp) return AC_ATTR_TYPE_PROTO;
    if (ap->n_floats) return AC_ATTR_FLOATS;
    if (ap->n_ints) return AC_ATTR_INTS;
    if (ap->n_strings) return AC_ATTR_STRINGS;
    if (ap->n_tensors) return AC_ATTR_TENSORS;
    if (ap->n_graphs) return AC_ATTR_GRAPHS;
    if (ap->n_sparse_tensors) return AC_ATTR_SPARSE_TENSORS;
    if (ap->n_type_protos) return AC_ATTR_TYPE_PROTOS;
    return AC_ATTR_UNDEFINED;
}

static ac_status pack_bytes(ac_graph *g, const ProtobufCMessage *m, uint8_t **out, size_t *len,
                            ac_diag *d) {
    size_t n = protobuf_c_message_get_packed_size(m);
    *out = ac_graph_alloc(g, n ? n : 1);
    if (!*out) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    *len = protobuf_c_message_pack(m, *out);
    return AC_OK;
}

static ac_status read_subgraph(ac_onnx_reader *r, ac_graph *g, ac_node *owner,
                               Onnx__GraphProto *gp, int depth, ac_graph **out, ac_diag *d) {
    AC_TRY(ac_graph_new_subgraph(g, gp->name ? gp->name : "", out, d));
    (*out)->owner = owner;
    return ac_onnx_graph_from_proto(r, *out, gp, depth + 1, d);
}

static ac_status read_attr(ac_onnx_reader *r, ac_graph *g, ac_node *n, Onnx__AttributeProto *ap,
                           ac_attr *a, int depth, ac_diag *d) {
    a->name = ac_graph_strdup(g, ap->name);
    a->doc_string = ac_graph_strdup(g, ap->doc_string);
    a->ref_attr_name = ap->ref_attr_name ? ac_graph_strdup(g, ap->ref_attr_name) : NULL;
    if (!a->name || !a->doc_string) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    int declared = ap->has_type ? (int)ap->type : 0;
    ac_attr_type t = declared ? (ac_attr_type)declared : infer_attr_type(ap);
    if ((unsigned)t >= AC_ATTR_TYPE_COUNT || t == AC_ATTR_UNDEFINED)
        return AC_FAIL(d, AC_ERR_MODEL, "has no valid type (type %d)", declared);
    a->type = t;
    if (a->ref_attr_name) return AC_OK; /* a reference inside a function body: no value */
    switch (t) {
    case AC_ATTR_FLOAT:
        a->f = ap->f;
        return AC_OK;
    case AC_ATTR_INT:
        a->i = ap->i;
        return AC_OK;
    case AC_ATTR_STRING:
        a->s = ac_graph_alloc(g, ap->s.len + 1);
        if (!a->s) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        if (ap->s.len) memcpy((char *)a->s, ap->s.data, ap->s.len);
        a->s_len = ap->s.len;
        return AC_OK;
    case AC_ATTR_TENSOR:
        if (!ap->t) return AC_FAIL(d, AC_ERR_MODEL, "type is TENSOR but no tensor is set");
        return ac_onnx_tensor_from_proto(r, g, ap->t, &a->t, d);
    case AC_ATTR_SPARSE_TENSOR:
        if (!ap->sparse_tensor)
            return AC_FAIL(d, AC_ERR_MODEL, "type is SPARSE_TENSOR but none is set");
        return ac_onnx_sparse_from_proto(r, g, ap->sparse_tensor, &a->t, d);
    case AC_ATTR_GRAPH:
        if (!ap->g) return AC_FAIL(d, AC_ERR_MODEL, "type is GRAPH but no graph is set");
        return read_subgraph(r, g, n, ap->g, depth, &a->g, d);
    case AC_ATTR_TYPE_PROTO:
        if (!ap->tp) return AC_FAIL(d, AC_ERR_MODEL, "type is TYPE_PROTO but none is set");
        a->n = 1;
        a->raw = ac_graph_alloc(g, sizeof *a->raw);
        a->raw_lens = ac_graph_alloc(g, sizeof *a->raw_lens);
        if (!a->raw || !a->raw_lens) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        return pack_bytes(g, &ap->tp->base, &a->raw[0], &a->raw_lens[0], d);
    default:
        break;
    }
    /* list forms */
    size_t count = t == AC_ATTR_FLOATS           ? ap->n_floats
                   : t == AC_ATTR_INTS           ? ap->n_ints
                   : t == AC_ATTR_STRINGS        ? ap->n_strings
                   : t == AC_ATTR_TENSORS        ? ap->n_tensors
                   : t == AC_ATTR_GRAPHS         ? ap->n_graphs
                   : t == AC_ATTR_SPARSE_TENSORS ? ap->n_sparse_tensors
                                                 : ap->n_type_protos;
    a->n = (int64_t)count;
    size_t cnt1 = count ? count : 1;
    switch (t) {
    case AC_ATTR_FLOATS:
        a->floats = ac_graph_alloc(g, cnt1 * sizeof *a->floats);
        if (!a->floats) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        if (count) memcpy(a->floats, ap->floats, count * sizeof *a->floats);
        return AC_OK;
    case AC_ATTR_INTS:
        a->ints = ac_graph_alloc(g, cnt1 * sizeof *a->ints);
        if (!a->ints) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        if (count) memcpy(a->ints, ap->ints, count * sizeof *a->ints);
        return AC_OK;
    case AC_ATTR_STRINGS:
        a->strings = ac_graph_alloc(g, cnt1 * sizeof *a->strings);
        a->string_lens = ac_graph_alloc(g, cnt1 * sizeof *a->string_lens);
        if (!a->strings || !a->string_lens) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < count; i++) {
            a->strings[i] = ac_graph_alloc(g, ap->strings[i].len + 1);
            if (!a->strings[i]) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            if (ap->strings[i].len) memcpy(a->strings[i], ap->strings[i].data, ap->strings[i].len);
            a->string_lens[i] = ap->strings[i].len;
        }
        return AC_OK;
    case AC_ATTR_TENSORS:
    case AC_ATTR_SPARSE_TENSORS:
        a->tensors = ac_graph_alloc(g, cnt1 * sizeof *a->tensors);
        if (!a->tensors) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < count; i++) {
            ac_status s = t == AC_ATTR_TENSORS
                              ? ac_onnx_tensor_from_proto(r, g, ap->tensors[i], &a->tensors[i], d)
                              : ac_onnx_sparse_from_proto(r, g, ap->sparse_tensors[i],
                                                          &a->tensors[i], d);
            if (s != AC_OK) {
                ac_diag_prefix(d, "tensor %zu", i);
                return s;
            }
        }
        return AC_OK;
    case AC_ATTR_GRAPHS:
        a->graphs = ac_graph_alloc(g, cnt1 * sizeof *a->graphs);
        if (!a->graphs) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < count; i++) {
            ac_status s = read_subgraph(r, g, n, ap->graphs[i], depth, &a->graphs[i], d);
            if (s != AC_OK) {
                ac_diag_prefix(d, "graph %zu", i);
                return s;
            }
        }
        return AC_OK;
    case AC_ATTR_TYPE_PROTOS:
        a->raw = ac_graph_alloc(g, cnt1 * sizeof *a->raw);
        a->raw_lens = ac_graph_alloc(g, cnt1 * sizeof *a->raw_lens);
        if (!a->raw || !a->raw_lens) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < count; i++)
            AC_TRY(pack_bytes(g, &ap->type_protos[i]->base, &a->raw[i], &a->raw_lens[i], d));
        return AC_OK;
    default:
        return AC_FAIL(d, AC_ERR_INTERNAL, "unhandled attribute type %d", (int)t);
    }
}

/* ---- nodes ------------------------------------------------------------------------------- */

static void label_proto_node(const Onnx__NodeProto *np, size_t idx, char *buf, size_t n) {
    const char *op = np->op_type ? np->op_type : "?";
    if (np->name && np->name[0])
        snprintf(buf, n, "node \"%s\" (%s)", np->name, op);
    else
        snprintf(buf, n, "node #%zu (%s)", idx, op);
}

static ac_status read_node(ac_onnx_reader *r, ac_graph *g, Onnx__NodeProto *np, size_t idx,
                           int depth, ac_diag *d) {
    if (!np->op_type || !np->op_type[0]) return AC_FAIL(d, AC_ERR_MODEL, "op_type is empty");
    if (np->n_input > INT32_MAX / 2 || np->n_output > INT32_MAX / 2)
        return AC_FAIL(d, AC_ERR_LIMIT, "too many inputs or outputs");
    ac_value **ins = ac_malloc_array(np->n_input + 1, sizeof *ins);
    ac_value **outs = ac_malloc_array(np->n_output + 1, sizeof *outs);
    ac_status s = AC_OK;
    if (!ins || !outs) s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; s == AC_OK && i < np->n_input; i++) {
        const char *nm = np->input[i];
        ins[i] = NULL;
        if (!nm || !nm[0]) continue; /* omitted optional input */
        ins[i] = ac_graph_find(g, nm);
        if (!ins[i]) s = AC_FAIL(d, AC_ERR_MODEL, "input \"%s\" is never defined", nm);
    }
    for (size_t i = 0; s == AC_OK && i < np->n_output; i++) {
        const char *nm = np->output[i];
        outs[i] = nm && nm[0] ? ac_graph_find_local(g, nm) : NULL;
        /* created in the first pass; a producer already set means two nodes write it */
        if (outs[i] && outs[i]->producer) {
            char other[200];
            ac_node_label(outs[i]->producer, other, sizeof other);
            s = AC_FAIL(d, AC_ERR_MODEL, "output \"%s\" is already produced by %s", nm, other);
        }
    }
    ac_node *n = NULL;
    if (s == AC_OK)
        s = ac_graph_add_node(g, np->op_type, np->domain ? np->domain : "",
                              np->name ? np->name : "", (int32_t)np->n_input, ins,
                              (int32_t)np->n_output, outs, &n, d);
    ac_free(ins);
    ac_free(outs);
    AC_TRY(s);
    n->file_index = (int64_t)idx;
    n->doc_string = ac_graph_strdup(g, np->doc_string);
    n->overload = ac_graph_strdup(g, np->overload);
    if (!n->doc_string || !n->overload) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    if (!np->n_attribute) return AC_OK;
    n->attrs = ac_graph_alloc(g, np->n_attribute * sizeof *n->attrs);
    if (!n->attrs) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < np->n_attribute; i++) {
        Onnx__AttributeProto *ap = np->attribute[i];
        const char *an = ap->name ? ap->name : "";
        if (!an[0]) return AC_FAIL(d, AC_ERR_MODEL, "attribute %zu has an empty name", i);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(np->attribute[j]->name ? np->attribute[j]->name : "", an))
                return AC_FAIL(d, AC_ERR_MODEL, "attribute \"%s\" is given twice", an);
        s = read_attr(r, g, n, ap, &n->attrs[i], depth, d);
        if (s != AC_OK) {
            ac_diag_prefix(d, "attribute \"%s\"", an);
            return s;
        }
        n->n_attrs = (int32_t)i + 1;
    }
    return AC_OK;
}

/* ---- graph ------------------------------------------------------------------------------- */

static ac_status read_inits(ac_onnx_reader *r, ac_graph *g, Onnx__GraphProto *gp, ac_diag *d) {
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *tp = gp->initializer[i];
        ac_status s = check_name(tp->name, "an initializer", d);
        ac_tensor *t = NULL;
        ac_value *v = NULL;
        if (s == AC_OK) s = ac_onnx_tensor_from_proto(r, g, tp, &t, d);
        if (s == AC_OK) s = ac_graph_new_value(g, tp->name, &v, d);
        if (s == AC_OK) s = ac_graph_set_initializer(g, v, t, d);
        if (s != AC_OK) {
            if (tp->name && tp->name[0]) ac_diag_prefix(d, "initializer \"%s\"", tp->name);
            else ac_diag_prefix(d, "initializer %zu", i);
            return s;
        }
    }
    for (size_t i = 0; i < gp->n_sparse_initializer; i++) {
        Onnx__SparseTensorProto *sp = gp->sparse_initializer[i];
        const char *nm = sp->values && sp->values->name ? sp->values->name : "";
        ac_status s = check_name(nm, "a sparse initializer", d);
        ac_tensor *t = NULL;
        ac_value *v = NULL;
        if (s == AC_OK) s = ac_onnx_sparse_from_proto(r, g, sp, &t, d);
        if (s == AC_OK) s = ac_graph_new_value(g, nm, &v, d);
        if (s == AC_OK) s = ac_graph_set_initializer(g, v, t, d);
        if (s != AC_OK) {
            ac_diag_prefix(d, "sparse initializer \"%s\"", nm);
            return s;
        }
    }
    return AC_OK;
}

static ac_status read_inputs(ac_graph *g, Onnx__GraphProto *gp, const ac_load_opts *o,
                             ac_diag *d) {
    for (size_t i = 0; i < gp->n_input; i++) {
        Onnx__ValueInfoProto *vi = gp->input[i];
        ac_status s = check_name(vi->name, "a graph input", d);
        ac_value *v = s == AC_OK ? ac_graph_find_local(g, vi->name) : NULL;
        if (v && (v->flags & AC_VALUE_INPUT)) /* names itself: no "graph input" prefix */
            return AC_FAIL(d, AC_ERR_MODEL, "graph input \"%s\" is listed twice", vi->name);
        /* an input may share its name with an initializer: the initializer is its default */
        if (s == AC_OK && !v) s = ac_graph_new_value(g, vi->name, &v, d);
        if (s == AC_OK) s = ac_graph_add_input(g, v, d);
        if (s == AC_OK) s = read_type(v, vi->type, o, d);
        if (s == AC_OK && vi->doc_string) v->doc_string = ac_graph_strdup(g, vi->doc_string);
        if (s != AC_OK) {
            if (vi->name && vi->name[0]) ac_diag_prefix(d, "graph input \"%s\"", vi->name);
            return s;
        }
    }
    return AC_OK;
}

/* First pass over nodes: define every output name, so nodes may appear out of order in the file
 * (we sort later) and subgraphs may read values of nodes listed after their owner. */
static ac_status define_node_outputs(ac_graph *g, Onnx__GraphProto *gp, ac_diag *d) {
    for (size_t i = 0; i < gp->n_node; i++) {
        Onnx__NodeProto *np = gp->node[i];
        for (size_t k = 0; k < np->n_output; k++) {
            const char *nm = np->output[k];
            if (!nm || !nm[0]) continue;
            ac_value *old = ac_graph_find_local(g, nm);
            if (old) {
                char lab[200];
                label_proto_node(np, i, lab, sizeof lab);
                ac_diag_where(d, "%s", lab);
                const char *what = old->flags & AC_VALUE_INITIALIZER ? "an initializer"
                                   : old->flags & AC_VALUE_INPUT     ? "a graph input"
                                                                     : "another node";
                return AC_FAIL(d, AC_ERR_MODEL,
                               "output \"%s\" is already defined by %s (duplicate producer)", nm,
                               what);
            }
            ac_value *v;
            AC_TRY(ac_graph_new_value(g, nm, &v, d));
        }
    }
    return AC_OK;
}

static ac_status read_outputs(ac_graph *g, Onnx__GraphProto *gp, const ac_load_opts *o,
                              ac_diag *d) {
    for (size_t i = 0; i < gp->n_output; i++) {
        Onnx__ValueInfoProto *vi = gp->output[i];
        AC_TRY(check_name(vi->name, "a graph output", d));
        ac_value *v = ac_graph_find(g, vi->name);
        if (!v || (v->graph == g && !v->producer && !(v->flags & (AC_VALUE_INPUT |
                                                                  AC_VALUE_INITIALIZER))))
            return AC_FAIL(d, AC_ERR_MODEL, "graph output \"%s\" is never defined", vi->name);
        for (int64_t j = 0; j < g->n_outputs; j++)
            if (g->outputs[j] == v)
                return AC_FAIL(d, AC_ERR_MODEL, "graph output \"%s\" is listed twice", vi->name);
        AC_TRY(ac_graph_add_output(g, v, d));
        ac_status s = AC_OK;
        if (v->graph == g) s = read_type(v, vi->type, o, d);
        if (s != AC_OK) {
            ac_diag_prefix(d, "graph output \"%s\"", vi->name);
            return s;
        }
    }
    return AC_OK;
}

static ac_status read_value_info(ac_graph *g, Onnx__GraphProto *gp, const ac_load_opts *o,
                                 ac_diag *d) {
    for (size_t i = 0; i < gp->n_value_info; i++) {
        Onnx__ValueInfoProto *vi = gp->value_info[i];
        AC_TRY(check_name(vi->name, "a value_info entry", d));
        ac_value *v = ac_graph_find_local(g, vi->name);
        if (!v) continue; /* stale entry for a value no node makes: harmless, dropped */
        ac_status s = read_type(v, vi->type, o, d);
        if (s != AC_OK) {
            ac_diag_prefix(d, "value_info \"%s\"", vi->name);
            return s;
        }
    }
    return AC_OK;
}

ac_status ac_onnx_graph_from_proto(ac_onnx_reader *r, ac_graph *g, Onnx__GraphProto *gp,
                                   int depth, ac_diag *d) {
    const ac_load_opts *o = r->opts;
    if (depth > o->max_depth)
        return AC_FAIL(d, AC_ERR_LIMIT, "subgraph nesting exceeds the limit of %d",
                       (int)o->max_depth);
    g->doc_string = ac_graph_strdup(g, gp->doc_string);
    if (!g->doc_string) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    AC_TRY(read_inits(r, g, gp, d));
    AC_TRY(read_inputs(g, gp, o, d));
    AC_TRY(define_node_outputs(g, gp, d));
    for (size_t i = 0; i < gp->n_node; i++) {
        ac_status s = read_node(r, g, gp->node[i], i, depth, d);
        if (s != AC_OK) {
            char lab[200];
            label_proto_node(gp->node[i], i, lab, sizeof lab);
            ac_diag_prefix(d, "%s", lab);
            return s;
        }
    }
    AC_TRY(read_outputs(g, gp, o, d));
    AC_TRY(read_value_info(g, gp, o, d));
    return ac_graph_sort(g, d);
}
