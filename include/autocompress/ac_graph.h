/* SPDX-License-Identifier: MIT */
/*
 * ac_graph.h — the in-memory graph IR every stage works on.
 *
 * A graph holds values (SSA tensors: graph inputs, initializers, node outputs) and nodes
 * (op_type + domain, input/output values, typed attributes). Subgraphs (If/Loop/Scan bodies)
 * are ac_graph objects owned by attributes; their nodes may read values of enclosing graphs.
 *
 * The structs below are readable by every module; change them only through the functions in
 * this header, which keep the name index, producers and topological order consistent. Strings
 * and node/value records live in one arena per root graph and die with ac_graph_free; tensor
 * payloads are separate ac_malloc blocks owned by the graph too.
 *
 *     // walk a loaded model's graph in topological order
 *     const ac_graph *g = ac_model_graph(m);
 *     for (int64_t i = 0; i < g->n_nodes; i++) {
 *         const ac_node *n = g->nodes[i];
 *         printf("%s %s -> %s\n", n->op_type, n->n_inputs ? n->inputs[0]->name : "-",
 *                n->outputs[0] ? n->outputs[0]->name : "-");
 *     }
 *
 *     // insert a node: y = Relu(x), reading an existing value x
 *     ac_value *y;
 *     ac_node *r;
 *     ac_graph_new_value(g, "x_relu", &y, &d);
 *     ac_graph_add_node(g, "Relu", "", "x_relu_node", 1, &x, 1, &y, &r, &d);
 *     ac_graph_sort(g, &d);
 *
 * Thread safety: a graph is not synchronised; concurrent reads are fine, writes are not.
 */
#ifndef AC_GRAPH_H
#define AC_GRAPH_H

#include "autocompress/ac_base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types. The numbers are ONNX's TensorProto.DataType values, so conversion is a cast. */
typedef enum ac_dtype {
    AC_DTYPE_UNDEFINED = 0,
    AC_DTYPE_F32 = 1,
    AC_DTYPE_U8 = 2,
    AC_DTYPE_S8 = 3,
    AC_DTYPE_U16 = 4,
    AC_DTYPE_S16 = 5,
    AC_DTYPE_S32 = 6,
    AC_DTYPE_S64 = 7,
    AC_DTYPE_STRING = 8,
    AC_DTYPE_BOOL = 9,
    AC_DTYPE_F16 = 10,
    AC_DTYPE_F64 = 11,
    AC_DTYPE_U32 = 12,
    AC_DTYPE_U64 = 13,
    AC_DTYPE_C64 = 14,
    AC_DTYPE_C128 = 15,
    AC_DTYPE_BF16 = 16,
    AC_DTYPE_F8E4M3FN = 17,
    AC_DTYPE_F8E4M3FNUZ = 18,
    AC_DTYPE_F8E5M2 = 19,
    AC_DTYPE_F8E5M2FNUZ = 20,
    AC_DTYPE_U4 = 21,
    AC_DTYPE_S4 = 22,
    AC_DTYPE_F4E2M1 = 23,
    AC_DTYPE_COUNT
} ac_dtype;

/* ONNX's name ("float", "int8", ...), or "undefined" for values out of range. */
AC_API const char *ac_dtype_name(ac_dtype t);
/* Bits per element (4 for the packed 4-bit types, 0 for UNDEFINED and STRING). */
AC_API int ac_dtype_bits(ac_dtype t);
/* Bytes needed for `numel` packed elements of t (4-bit types round up); 0 for STRING. */
AC_API size_t ac_dtype_bytes(ac_dtype t, int64_t numel);

/* Product of dims with overflow and sign checks: returns 0 and sets *numel on success, -1 if a
 * dim is negative, -2 if the product overflows int64. An empty shape (rank 0) has 1 element. */
AC_API int ac_dims_numel(const int64_t *dims, int32_t rank, int64_t *numel);

typedef struct ac_graph ac_graph;
typedef struct ac_node ac_node;
typedef struct ac_value ac_value;

/* A constant tensor: initializer payload, Constant node value or tensor attribute. Numeric data
 * is stored packed and little-endian in `data` (4-bit types two per byte, low nibble first, as
 * ONNX stores them); STRING tensors use `strings`/`string_lens` instead. */
typedef struct ac_tensor {
    const char *name;
    ac_dtype dtype;
    int32_t rank;
    int64_t *dims;
    int64_t numel;
    void *data;   /* nbytes bytes, NULL when numel == 0 */
    size_t nbytes;
    char **strings; /* STRING only: numel byte strings (not NUL-safe: use string_lens) */
    size_t *string_lens;
    const char *doc_string;
} ac_tensor;

enum ac_value_flags {
    AC_VALUE_INPUT = 1u << 0,       /* listed in graph.input */
    AC_VALUE_OUTPUT = 1u << 1,      /* listed in graph.output */
    AC_VALUE_INITIALIZER = 1u << 2, /* has a constant payload in `init` */
    AC_VALUE_TYPED = 1u << 3,       /* dtype/shape came from the model (input/output/value_info) */
};

/* An SSA value. rank == -1 means the shape is unknown; a dim of -1 is unknown or symbolic (its
 * name, if any, in dim_params[axis]). */
struct ac_value {
    const char *name;
    ac_graph *graph; /* the graph whose scope defines it */
    ac_dtype dtype;
    int32_t rank;
    int64_t *dims;
    const char **dim_params; /* rank entries, NULL where the dim has no name */
    ac_node *producer;       /* NULL for inputs, initializers and undefined values */
    int32_t producer_output;
    ac_tensor *init; /* initializer payload (AC_VALUE_INITIALIZER) */
    uint32_t flags;
    int64_t index; /* position in graph->values */
    const char *doc_string;
    /* A non-tensor type from the model (sequence, map, optional, sparse tensor), kept as its
     * encoded TypeProto so saving writes it back; NULL for tensors and untyped values. */
    const uint8_t *type_proto;
    size_t type_proto_len;
};

typedef enum ac_attr_type {
    AC_ATTR_UNDEFINED = 0,
    AC_ATTR_FLOAT = 1,
    AC_ATTR_INT = 2,
    AC_ATTR_STRING = 3,
    AC_ATTR_TENSOR = 4,
    AC_ATTR_GRAPH = 5,
    AC_ATTR_FLOATS = 6,
    AC_ATTR_INTS = 7,
    AC_ATTR_STRINGS = 8,
    AC_ATTR_TENSORS = 9,
    AC_ATTR_GRAPHS = 10,
    AC_ATTR_SPARSE_TENSOR = 11,
    AC_ATTR_SPARSE_TENSORS = 12,
    AC_ATTR_TYPE_PROTO = 13,
    AC_ATTR_TYPE_PROTOS = 14,
    AC_ATTR_TYPE_COUNT
} ac_attr_type;

AC_API const char *ac_attr_type_name(ac_attr_type t);

/* A node attribute. Scalars live in f/i/s, lists in the n-counted arrays. Sparse tensors are
 * held dense in `t` (SPARSE_TENSOR) and written back in COO form. TYPE_PROTO(S) attributes are
 * kept as their encoded protobuf bytes in `raw`/`raw_lens`, since no op we run reads them. */
typedef struct ac_attr {
    const char *name;
    ac_attr_type type;
    const char *ref_attr_name; /* function-body attribute reference, else NULL */
    const char *doc_string;
    float f;
    int64_t i;
    const char *s; /* STRING: s_len bytes (may hold NULs) plus a terminating NUL */
    size_t s_len;
    ac_tensor *t;
    ac_graph *g;
    int64_t n; /* element count of the list forms */
    float *floats;
    int64_t *ints;
    char **strings;
    size_t *string_lens;
    ac_tensor **tensors;
    ac_graph **graphs;
    uint8_t **raw;
    size_t *raw_lens;
} ac_attr;

struct ac_node {
    const char *name; /* may be "" (ONNX allows unnamed nodes); see ac_node_label */
    const char *op_type;
    const char *domain; /* "" for the default ai.onnx domain */
    const char *overload;
    const char *doc_string;
    int32_t n_inputs;
    ac_value **inputs; /* NULL entries are omitted optional inputs ("" in ONNX) */
    int32_t n_outputs;
    ac_value **outputs; /* NULL entries are omitted optional outputs */
    int32_t n_attrs;
    ac_attr *attrs;
    ac_graph *graph;
    int64_t index; /* position in graph->nodes (topological after ac_graph_sort) */
    int64_t file_index; /* position in the file it was read from, -1 if created */
};

struct ac_graph {
    const char *name;
    const char *doc_string;
    ac_graph *parent; /* enclosing graph for subgraphs, NULL for the main graph */
    ac_node *owner;   /* node whose attribute holds this subgraph */
    int64_t n_values;
    ac_value **values; /* every value defined in this scope, in creation order */
    int64_t n_nodes;
    ac_node **nodes;
    int64_t n_inputs;
    ac_value **inputs;
    int64_t n_outputs;
    ac_value **outputs;
    int64_t n_inits;
    ac_value **inits; /* initializers in file order */
    struct ac_graph_priv *priv; /* name index, capacities, shared storage; private */
};

/* ---- construction ------------------------------------------------------------------------ */

/* Creates an empty main graph (caller owns; free with ac_graph_free). */
AC_API ac_status ac_graph_new(const char *name, ac_graph **out, ac_diag *d);
/* Creates an empty subgraph owned by `parent`'s root (freed with it). */
AC_API ac_status ac_graph_new_subgraph(ac_graph *parent, const char *name, ac_graph **out,
                                       ac_diag *d);
/* Frees a main graph with its subgraphs, values, nodes and tensor payloads. NULL is a no-op. */
AC_API void ac_graph_free(ac_graph *g);

/* Copies `s` into the graph's arena (NULL -> ""). Returns NULL when out of memory. */
AC_API char *ac_graph_strdup(ac_graph *g, const char *s);
/* Zeroed arena memory owned by the graph. */
AC_API void *ac_graph_alloc(ac_graph *g, size_t n);
/* Takes ownership of an ac_malloc'd block (tensor payloads), freed with the graph. Returns
 * AC_ERR_NOMEM (and frees the block) when the bookkeeping cannot grow. */
AC_API ac_status ac_graph_adopt(ac_graph *g, void *block, ac_diag *d);

/* Defines a new value named `name` in g's scope; AC_ERR_MODEL if the name is already defined in
 * this scope. The value starts with unknown dtype and shape. */
AC_API ac_status ac_graph_new_value(ac_graph *g, const char *name, ac_value **out, ac_diag *d);
/* A value name not yet used in g's scope or any enclosing one, built from `base`. */
AC_API ac_status ac_graph_unique_name(ac_graph *g, const char *base, const char **out,
                                      ac_diag *d);
/* Looks a name up in g, then in its enclosing graphs. NULL if not found. */
AC_API ac_value *ac_graph_find(const ac_graph *g, const char *name);
/* Looks a name up in g's own scope only. */
AC_API ac_value *ac_graph_find_local(const ac_graph *g, const char *name);

/* Sets dtype and shape (dims copied; dim_params may be NULL). rank -1 = unknown shape. */
AC_API ac_status ac_value_set_type(ac_value *v, ac_dtype t, int32_t rank, const int64_t *dims,
                                   const char *const *dim_params, ac_diag *d);

/* Creates a tensor whose payload (nbytes for dtype x dims, zero-filled) is owned by g. */
AC_API ac_status ac_graph_new_tensor(ac_graph *g, const char *name, ac_dtype t, int32_t rank,
                                     const int64_t *dims, ac_tensor **out, ac_diag *d);
/* Makes v an initializer holding t (t must belong to g's root). Appends to g->inits. */
AC_API ac_status ac_graph_set_initializer(ac_graph *g, ac_value *v, ac_tensor *t, ac_diag *d);
/* Appends v to the graph's inputs or outputs list. */
AC_API ac_status ac_graph_add_input(ac_graph *g, ac_value *v, ac_diag *d);
AC_API ac_status ac_graph_add_output(ac_graph *g, ac_value *v, ac_diag *d);

/* Appends a node. inputs may contain NULL (omitted optional input); outputs may contain NULL
 * (omitted optional output) and must otherwise be values of g without a producer. The node is
 * placed last; call ac_graph_sort after a batch of insertions. Attributes: see below. */
AC_API ac_status ac_graph_add_node(ac_graph *g, const char *op_type, const char *domain,
                                   const char *name, int32_t n_inputs, ac_value *const *inputs,
                                   int32_t n_outputs, ac_value *const *outputs, ac_node **out,
                                   ac_diag *d);
/* Replaces input `idx` of n by v (NULL = omitted). */
AC_API ac_status ac_node_set_input(ac_node *n, int32_t idx, ac_value *v, ac_diag *d);
/* Removes a node from its graph; its outputs lose their producer. */
AC_API void ac_graph_remove_node(ac_graph *g, ac_node *n);
/* Replaces n by a node of op `op_type` (n's domain and name) with inputs `ins`, n's first
 * `n_out` outputs (at most 16) and n's attributes except those named in `drop`
 * (NULL-terminated; {"*", NULL} drops them all; NULL keeps them all). The attributes' payloads
 * are shared, not copied (they live in the graph's root arena). *made (may be NULL): the new
 * node, placed last; call ac_graph_sort afterwards. */
AC_API ac_status ac_graph_rebuild_node(ac_graph *g, ac_node *n, const char *op_type,
                                       int32_t n_in, ac_value *const *ins, int32_t n_out,
                                       const char *const *drop, ac_node **made, ac_diag *d);
/* Replaces output `idx` of n by v, which must be a value of n's graph without a producer and
 * not an input or initializer (AC_ERR_MODEL otherwise); the old output loses its producer.
 * Used by rewrites that delete a node and let its predecessor write the deleted node's output
 * (the quantizer folding Relu into the Q that follows a Conv). */
AC_API ac_status ac_node_set_output(ac_node *n, int32_t idx, ac_value *v, ac_diag *d);
/* Drops v's initializer payload from g->inits and clears AC_VALUE_INITIALIZER, so a weight the
 * quantizer replaced is not written back. v stays defined (with no producer); callers do this
 * only for values nothing reads any more. No-op if v is not an initializer of g. */
AC_API void ac_graph_remove_initializer(ac_graph *g, ac_value *v);

/* Adds or replaces attribute `name` and returns it zeroed except name and type, for the caller
 * to fill (arrays from ac_graph_alloc). */
AC_API ac_status ac_node_add_attr(ac_node *n, const char *name, ac_attr_type type, ac_attr **out,
                                  ac_diag *d);
AC_API ac_status ac_node_set_attr_int(ac_node *n, const char *name, int64_t v, ac_diag *d);
AC_API ac_status ac_node_set_attr_float(ac_node *n, const char *name, float v, ac_diag *d);
AC_API ac_status ac_node_set_attr_string(ac_node *n, const char *name, const char *v, ac_diag *d);
AC_API ac_status ac_node_set_attr_ints(ac_node *n, const char *name, int64_t count,
                                       const int64_t *v, ac_diag *d);

/* ---- queries ----------------------------------------------------------------------------- */

/* Attribute by name, or NULL. */
AC_API const ac_attr *ac_node_attr(const ac_node *n, const char *name);
/* Typed getters returning `dflt` when the attribute is absent. */
AC_API int64_t ac_node_attr_int(const ac_node *n, const char *name, int64_t dflt);
AC_API float ac_node_attr_float(const ac_node *n, const char *name, float dflt);
AC_API const char *ac_node_attr_string(const ac_node *n, const char *name, const char *dflt);

/* Human label for messages: `node "conv1" (Conv)` or `node #12 (Conv)` when unnamed. Writes
 * into buf and returns it. */
AC_API const char *ac_node_label(const ac_node *n, char *buf, size_t size);

/* Number of nodes reading v in g and its subgraphs. */
AC_API int64_t ac_value_use_count(const ac_graph *g, const ac_value *v);

/* Values from enclosing scopes that g (or its nested subgraphs) reads. Fills up to `cap`
 * pointers, returns the total count, or -1 when out of memory. */
AC_API int64_t ac_graph_captures(const ac_graph *g, ac_value **out, int64_t cap);

/* Sorts g->nodes topologically (stable: keeps file order where the data allows), resolving
 * reads of enclosing-scope values made inside subgraphs. A cycle is AC_ERR_MODEL naming the
 * nodes on it. Subgraphs are sorted too. */
AC_API ac_status ac_graph_sort(ac_graph *g, ac_diag *d);

/* The constant payload of v: its initializer (not an overridable graph input) or the value of
 * the Constant node making it, through any Identity nodes in between; NULL otherwise. */
AC_API const ac_tensor *ac_value_constant(const ac_value *v);

/* Folds into each Conv with constant float weights the per-output-channel affine ops that
 * follow it: BatchNormalization in inference form with constant parameters, and Mul / Div /
 * Add / Sub by a constant of one value or of C values along the channel axis (the Conv output
 * the first operand of Sub and Div). Each op must be the only reader of the tensor before it
 * (not a graph output). The Conv gets new weight and bias initializers (W * s, b * s + t), then
 * writes the last folded op's output; weights nothing else reads are dropped; the graph is
 * sorted again. *n_folded (may be NULL): Convs that took ops in. Errors: AC_ERR_NOMEM. */
AC_API ac_status ac_graph_fold_conv_affine(ac_graph *g, int64_t *n_folded, ac_diag *d);

#ifdef __cplusplus
}
#endif
#endif /* AC_GRAPH_H */
