/* SPDX-License-Identifier: MIT */
/* Graph IR storage: one arena per root graph for records and strings, ac_malloc'd payload
 * blocks adopted by the root, and a name index per scope. */
#include "autocompress/ac_graph.h"

#include <stdio.h>
#include <string.h>

/* Shared by a root graph and all its subgraphs. */
typedef struct graph_store {
    ac_arena *arena;
    void **blocks; /* adopted payloads */
    int64_t n_blocks, cap_blocks;
    ac_graph **subgraphs; /* freed with the root */
    int64_t n_subgraphs, cap_subgraphs;
} graph_store;

struct ac_graph_priv {
    graph_store *store;
    int is_root;
    /* open-addressing name -> value index for this scope; power-of-two capacity */
    ac_value **slots;
    int64_t n_slots, n_used;
    int64_t cap_values, cap_nodes, cap_inputs, cap_outputs, cap_inits;
};

/* ---- small helpers --------------------------------------------------------------------- */

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Grows *arr (of pointer-sized elements) so it can hold `need` entries. */
static int grow(void ***arr, int64_t *cap, int64_t need) {
    if (need <= *cap) return 0;
    int64_t nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void **p = ac_realloc(*arr, (size_t)nc * sizeof(void *));
    if (!p) return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

static int index_rehash(struct ac_graph_priv *p, int64_t n_slots) {
    ac_value **slots = ac_calloc((size_t)n_slots, sizeof *slots);
    if (!slots) return -1;
    for (int64_t i = 0; i < p->n_slots; i++) {
        ac_value *v = p->slots[i];
        if (!v) continue;
        uint64_t h = hash_name(v->name) & (uint64_t)(n_slots - 1);
        while (slots[h]) h = (h + 1) & (uint64_t)(n_slots - 1);
        slots[h] = v;
    }
    ac_free(p->slots);
    p->slots = slots;
    p->n_slots = n_slots;
    return 0;
}

static int index_put(struct ac_graph_priv *p, ac_value *v) {
    if ((p->n_used + 1) * 2 > p->n_slots && index_rehash(p, p->n_slots ? p->n_slots * 2 : 64))
        return -1;
    uint64_t h = hash_name(v->name) & (uint64_t)(p->n_slots - 1);
    while (p->slots[h]) h = (h + 1) & (uint64_t)(p->n_slots - 1);
    p->slots[h] = v;
    p->n_used++;
    return 0;
}

ac_value *ac_graph_find_local(const ac_graph *g, const char *name) {
    const struct ac_graph_priv *p = g->priv;
    if (!name || !p->n_slots) return NULL;
    uint64_t h = hash_name(name) & (uint64_t)(p->n_slots - 1);
    while (p->slots[h]) {
        if (strcmp(p->slots[h]->name, name) == 0) return p->slots[h];
        h = (h + 1) & (uint64_t)(p->n_slots - 1);
    }
    return NULL;
}

ac_value *ac_graph_find(const ac_graph *g, const char *name) {
    for (; g; g = g->parent) {
        ac_value *v = ac_graph_find_local(g, name);
        if (v) return v;
    }
    return NULL;
}

/* ---- lifetime ---------------------------------------------------------------------------- */

static ac_status graph_init(ac_graph *g, graph_store *store, int is_root, const char *name,
                            ac_diag *d) {
    g->priv = ac_arena_alloc(store->arena, sizeof *g->priv);
    if (!g->priv) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory creating a graph");
    g->priv->store = store;
    g->priv->is_root = is_root;
    g->name = ac_arena_strdup(store->arena, name);
    g->doc_string = "";
    if (!g->name) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory creating a graph");
    return AC_OK;
}

ac_status ac_graph_new(const char *name, ac_graph **out, ac_diag *d) {
    *out = NULL;
    graph_store *store = ac_calloc(1, sizeof *store);
    ac_graph *g = ac_calloc(1, sizeof *g);
    if (!store || !g) {
        ac_free(store);
        ac_free(g);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory creating a graph");
    }
    ac_status s = ac_arena_new(0, &store->arena, d);
    if (s != AC_OK) {
        ac_free(store);
        ac_free(g);
        return s;
    }
    s = graph_init(g, store, 1, name, d);
    if (s != AC_OK) {
        ac_arena_free(store->arena);
        ac_free(store);
        ac_free(g);
        return s;
    }
    *out = g;
    return AC_OK;
}

static void graph_release_arrays(ac_graph *g) {
    ac_free(g->values);
    ac_free(g->nodes);
    ac_free(g->inputs);
    ac_free(g->outputs);
    ac_free(g->inits);
    if (g->priv) ac_free(g->priv->slots);
}

ac_status ac_graph_new_subgraph(ac_graph *parent, const char *name, ac_graph **out, ac_diag *d) {
    *out = NULL;
    graph_store *store = parent->priv->store;
    if (grow((void ***)&store->subgraphs, &store->cap_subgraphs, store->n_subgraphs + 1))
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory creating a subgraph");
    ac_graph *g = ac_arena_alloc(store->arena, sizeof *g);
    if (!g) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory creating a subgraph");
    AC_TRY(graph_init(g, store, 0, name, d));
    g->parent = parent;
    store->subgraphs[store->n_subgraphs++] = g;
    *out = g;
    return AC_OK;
}

void ac_graph_free(ac_graph *g) {
    if (!g) return;
    graph_store *store = g->priv ? g->priv->store : NULL;
    graph_release_arrays(g);
    if (store) {
        for (int64_t i = 0; i < store->n_subgraphs; i++) graph_release_arrays(store->subgraphs[i]);
        for (int64_t i = 0; i < store->n_blocks; i++) ac_free(store->blocks[i]);
        ac_free(store->blocks);
        ac_free(store->subgraphs);
        ac_arena_free(store->arena);
        ac_free(store);
    }
    ac_free(g);
}

char *ac_graph_strdup(ac_graph *g, const char *s) {
    return ac_arena_strdup(g->priv->store->arena, s);
}

void *ac_graph_alloc(ac_graph *g, size_t n) { return ac_arena_alloc(g->priv->store->arena, n); }

ac_status ac_graph_adopt(ac_graph *g, void *block, ac_diag *d) {
    if (!block) return AC_OK;
    graph_store *st = g->priv->store;
    if (grow(&st->blocks, &st->cap_blocks, st->n_blocks + 1)) {
        ac_free(block);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    st->blocks[st->n_blocks++] = block;
    return AC_OK;
}

/* ---- values ------------------------------------------------------------------------------ */

ac_status ac_graph_new_value(ac_graph *g, const char *name, ac_value **out, ac_diag *d) {
    *out = NULL;
    if (!name || !name[0]) return AC_FAIL(d, AC_ERR_MODEL, "a value has an empty name");
    if (ac_graph_find_local(g, name))
        return AC_FAIL(d, AC_ERR_MODEL, "name \"%s\" is defined twice", name);
    struct ac_graph_priv *p = g->priv;
    ac_value *v = ac_graph_alloc(g, sizeof *v);
    if (!v || grow((void ***)&g->values, &p->cap_values, g->n_values + 1))
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory adding value \"%s\"", name);
    v->name = ac_graph_strdup(g, name);
    if (!v->name || index_put(p, v))
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory adding value \"%s\"", name);
    v->graph = g;
    v->rank = -1;
    v->doc_string = "";
    v->index = g->n_values;
    g->values[g->n_values++] = v;
    *out = v;
    return AC_OK;
}

ac_status ac_graph_unique_name(ac_graph *g, const char *base, const char **out, ac_diag *d) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", base);
    for (int64_t k = 1; ac_graph_find(g, buf); k++) snprintf(buf, sizeof buf, "%s_%lld", base,
                                                              (long long)k);
    *out = ac_graph_strdup(g, buf);
    if (!*out) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    return AC_OK;
}

ac_status ac_value_set_type(ac_value *v, ac_dtype t, int32_t rank, const int64_t *dims,
                            const char *const *dim_params, ac_diag *d) {
    ac_graph *g = v->graph;
    v->dtype = t;
    v->rank = rank < 0 ? -1 : rank;
    v->dims = NULL;
    v->dim_params = NULL;
    v->type_proto = NULL; /* a tensor type replaces a kept non-tensor one */
    v->type_proto_len = 0;
    if (rank > 0) {
        v->dims = ac_graph_alloc(g, (size_t)rank * sizeof *v->dims);
        v->dim_params = ac_graph_alloc(g, (size_t)rank * sizeof *v->dim_params);
        if (!v->dims || !v->dim_params)
            return AC_FAIL(d, AC_ERR_NOMEM, "out of memory setting the type of \"%s\"", v->name);
        for (int32_t i = 0; i < rank; i++) {
            v->dims[i] = dims ? dims[i] : -1;
            if (dim_params && dim_params[i]) {
                v->dim_params[i] = ac_graph_strdup(g, dim_params[i]);
                if (!v->dim_params[i]) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            }
        }
    }
    return AC_OK;
}

ac_status ac_graph_new_tensor(ac_graph *g, const char *name, ac_dtype t, int32_t rank,
                              const int64_t *dims, ac_tensor **out, ac_diag *d) {
    *out = NULL;
    int64_t numel;
    if (rank < 0 || ac_dims_numel(dims, rank, &numel) != 0)
        return AC_FAIL(d, AC_ERR_ARG, "tensor \"%s\": invalid shape", name ? name : "");
    ac_tensor *x = ac_graph_alloc(g, sizeof *x);
    if (!x) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    x->name = ac_graph_strdup(g, name);
    x->doc_string = "";
    x->dtype = t;
    x->rank = rank;
    x->numel = numel;
    if (rank) {
        x->dims = ac_graph_alloc(g, (size_t)rank * sizeof *x->dims);
        if (!x->dims) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        memcpy(x->dims, dims, (size_t)rank * sizeof *x->dims);
    }
    if (t == AC_DTYPE_STRING) {
        x->strings = ac_graph_alloc(g, (size_t)numel * sizeof *x->strings);
        x->string_lens = ac_graph_alloc(g, (size_t)numel * sizeof *x->string_lens);
        if (numel && (!x->strings || !x->string_lens))
            return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (int64_t i = 0; i < numel; i++) x->strings[i] = ac_graph_strdup(g, "");
    } else {
        x->nbytes = ac_dtype_bytes(t, numel);
        if (x->nbytes) {
            x->data = ac_calloc(1, x->nbytes);
            if (!x->data)
                return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for tensor \"%s\" (%zu bytes)",
                               x->name, x->nbytes);
            AC_TRY(ac_graph_adopt(g, x->data, d));
        }
    }
    *out = x;
    return AC_OK;
}

ac_status ac_graph_set_initializer(ac_graph *g, ac_value *v, ac_tensor *t, ac_diag *d) {
    if (!(v->flags & AC_VALUE_INITIALIZER)) {
        if (grow((void ***)&g->inits, &g->priv->cap_inits, g->n_inits + 1))
            return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        g->inits[g->n_inits++] = v;
    }
    v->flags |= AC_VALUE_INITIALIZER;
    v->init = t;
    if (!(v->flags & AC_VALUE_TYPED)) AC_TRY(ac_value_set_type(v, t->dtype, t->rank, t->dims,
                                                               NULL, d));
    return AC_OK;
}

ac_status ac_graph_add_input(ac_graph *g, ac_value *v, ac_diag *d) {
    if (grow((void ***)&g->inputs, &g->priv->cap_inputs, g->n_inputs + 1))
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    g->inputs[g->n_inputs++] = v;
    v->flags |= AC_VALUE_INPUT;
    return AC_OK;
}

ac_status ac_graph_add_output(ac_graph *g, ac_value *v, ac_diag *d) {
    if (grow((void ***)&g->outputs, &g->priv->cap_outputs, g->n_outputs + 1))
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    g->outputs[g->n_outputs++] = v;
    v->flags |= AC_VALUE_OUTPUT;
    return AC_OK;
}

/* ---- nodes ------------------------------------------------------------------------------- */

ac_status ac_graph_add_node(ac_graph *g, const char *op_type, const char *domain,
                            const char *name, int32_t n_inputs, ac_value *const *inputs,
                            int32_t n_outputs, ac_value *const *outputs, ac_node **out,
                            ac_diag *d) {
    *out = NULL;
    for (int32_t i = 0; i < n_outputs; i++) {
        ac_value *o = outputs[i];
        if (o && (o->producer || (o->flags & (AC_VALUE_INPUT | AC_VALUE_INITIALIZER))))
            return AC_FAIL(d, AC_ERR_MODEL, "output \"%s\" already has a producer", o->name);
        for (int32_t j = 0; j < i; j++)
            if (o && outputs[j] == o)
                return AC_FAIL(d, AC_ERR_MODEL, "output \"%s\" is listed twice", o->name);
    }
    ac_node *n = ac_graph_alloc(g, sizeof *n);
    if (!n || grow((void ***)&g->nodes, &g->priv->cap_nodes, g->n_nodes + 1))
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory adding a node");
    n->name = ac_graph_strdup(g, name);
    n->op_type = ac_graph_strdup(g, op_type);
    n->domain = ac_graph_strdup(g, domain);
    n->overload = "";
    n->doc_string = "";
    n->n_inputs = n_inputs;
    n->n_outputs = n_outputs;
    n->inputs = ac_graph_alloc(g, (size_t)(n_inputs ? n_inputs : 1) * sizeof *n->inputs);
    n->outputs = ac_graph_alloc(g, (size_t)(n_outputs ? n_outputs : 1) * sizeof *n->outputs);
    if (!n->name || !n->op_type || !n->domain || !n->inputs || !n->outputs)
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory adding a node");
    if (n_inputs) memcpy(n->inputs, inputs, (size_t)n_inputs * sizeof *n->inputs);
    if (n_outputs) memcpy(n->outputs, outputs, (size_t)n_outputs * sizeof *n->outputs);
    for (int32_t i = 0; i < n_outputs; i++)
        if (outputs[i]) {
            outputs[i]->producer = n;
            outputs[i]->producer_output = i;
        }
    n->graph = g;
    n->index = g->n_nodes;
    n->file_index = -1;
    g->nodes[g->n_nodes++] = n;
    *out = n;
    return AC_OK;
}

ac_status ac_node_set_input(ac_node *n, int32_t idx, ac_value *v, ac_diag *d) {
    if (idx < 0 || idx >= n->n_inputs)
        return AC_FAIL(d, AC_ERR_ARG, "input index %d out of range", (int)idx);
    n->inputs[idx] = v;
    return AC_OK;
}

void ac_graph_remove_node(ac_graph *g, ac_node *n) {
    int64_t w = 0;
    for (int64_t i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i] == n) continue;
        g->nodes[w] = g->nodes[i];
        g->nodes[w]->index = w;
        w++;
    }
    g->n_nodes = w;
    for (int32_t i = 0; i < n->n_outputs; i++)
        if (n->outputs[i] && n->outputs[i]->producer == n) n->outputs[i]->producer = NULL;
}

ac_status ac_node_set_output(ac_node *n, int32_t idx, ac_value *v, ac_diag *d) {
    if (idx < 0 || idx >= n->n_outputs)
        return AC_FAIL(d, AC_ERR_ARG, "output index %d out of range", (int)idx);
    if (v && (v->producer || v->graph != n->graph ||
              (v->flags & (AC_VALUE_INPUT | AC_VALUE_INITIALIZER))))
        return AC_FAIL(d, AC_ERR_MODEL, "value \"%s\" cannot become an output: it is already "
                       "defined", v->name);
    ac_value *old = n->outputs[idx];
    if (old && old->producer == n) old->producer = NULL;
    n->outputs[idx] = v;
    if (v) {
        v->producer = n;
        v->producer_output = idx;
    }
    return AC_OK;
}

void ac_graph_remove_initializer(ac_graph *g, ac_value *v) {
    if (!(v->flags & AC_VALUE_INITIALIZER) || v->graph != g) return;
    int64_t w = 0;
    for (int64_t i = 0; i < g->n_inits; i++)
        if (g->inits[i] != v) g->inits[w++] = g->inits[i];
    g->n_inits = w;
    v->flags &= ~(uint32_t)AC_VALUE_INITIALIZER;
    v->init = NULL;
}

/* ---- attributes -------------------------------------------------------------------------- */

ac_status ac_node_add_attr(ac_node *n, const char *name, ac_attr_type type, ac_attr **out,
                           ac_diag *d) {
    *out = NULL;
    for (int32_t i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) {
            ac_attr *a = &n->attrs[i];
            memset(a, 0, sizeof *a);
            a->name = ac_graph_strdup(n->graph, name);
            a->type = type;
            a->doc_string = "";
            *out = a;
            return a->name ? AC_OK : AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        }
    /* attributes are few; copying the array on each addition keeps them in one arena block */
    ac_attr *arr = ac_graph_alloc(n->graph, (size_t)(n->n_attrs + 1) * sizeof *arr);
    if (!arr) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory adding attribute %s", name);
    if (n->n_attrs) memcpy(arr, n->attrs, (size_t)n->n_attrs * sizeof *arr);
    ac_attr *a = &arr[n->n_attrs];
    a->name = ac_graph_strdup(n->graph, name);
    a->type = type;
    a->doc_string = "";
    if (!a->name) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory adding attribute %s", name);
    n->attrs = arr;
    n->n_attrs++;
    *out = a;
    return AC_OK;
}

ac_status ac_node_set_attr_int(ac_node *n, const char *name, int64_t v, ac_diag *d) {
    ac_attr *a;
    AC_TRY(ac_node_add_attr(n, name, AC_ATTR_INT, &a, d));
    a->i = v;
    return AC_OK;
}

ac_status ac_node_set_attr_float(ac_node *n, const char *name, float v, ac_diag *d) {
    ac_attr *a;
    AC_TRY(ac_node_add_attr(n, name, AC_ATTR_FLOAT, &a, d));
    a->f = v;
    return AC_OK;
}

ac_status ac_node_set_attr_string(ac_node *n, const char *name, const char *v, ac_diag *d) {
    ac_attr *a;
    AC_TRY(ac_node_add_attr(n, name, AC_ATTR_STRING, &a, d));
    a->s = ac_graph_strdup(n->graph, v);
    a->s_len = strlen(v);
    return a->s ? AC_OK : AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
}

ac_status ac_node_set_attr_ints(ac_node *n, const char *name, int64_t count, const int64_t *v,
                                ac_diag *d) {
    ac_attr *a;
    AC_TRY(ac_node_add_attr(n, name, AC_ATTR_INTS, &a, d));
    a->n = count;
    a->ints = ac_graph_alloc(n->graph, (size_t)(count ? count : 1) * sizeof *a->ints);
    if (!a->ints) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    if (count) memcpy(a->ints, v, (size_t)count * sizeof *a->ints);
    return AC_OK;
}

const ac_attr *ac_node_attr(const ac_node *n, const char *name) {
    for (int32_t i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t ac_node_attr_int(const ac_node *n, const char *name, int64_t dflt) {
    const ac_attr *a = ac_node_attr(n, name);
    return a && a->type == AC_ATTR_INT ? a->i : dflt;
}

float ac_node_attr_float(const ac_node *n, const char *name, float dflt) {
    const ac_attr *a = ac_node_attr(n, name);
    return a && a->type == AC_ATTR_FLOAT ? a->f : dflt;
}

const char *ac_node_attr_string(const ac_node *n, const char *name, const char *dflt) {
    const ac_attr *a = ac_node_attr(n, name);
    return a && a->type == AC_ATTR_STRING ? a->s : dflt;
}

const char *ac_node_label(const ac_node *n, char *buf, size_t size) {
    if (n->name && n->name[0])
        snprintf(buf, size, "node \"%s\" (%s)", n->name, n->op_type);
    else
        snprintf(buf, size, "node #%lld (%s)",
                 (long long)(n->file_index >= 0 ? n->file_index : n->index), n->op_type);
    return buf;
}

ac_status ac_graph_rebuild_node(ac_graph *g, ac_node *n, const char *op_type, int32_t n_in,
                                ac_value *const *ins, int32_t n_out, const char *const *drop,
                                ac_node **made, ac_diag *d) {
    ac_value *outs[16];
    if (n_out > 16) n_out = 16;
    for (int32_t i = 0; i < n_out; i++) outs[i] = n->outputs[i];
    ac_graph_remove_node(g, n);
    ac_node *m;
    AC_TRY(ac_graph_add_node(g, op_type, n->domain, n->name, n_in, ins, n_out, outs, &m, d));
    m->doc_string = n->doc_string;
    for (int32_t a = 0; a < n->n_attrs; a++) {
        int skip = drop && drop[0] && !strcmp(drop[0], "*"); /* "*": drop them all */
        for (int k = 0; drop && drop[k]; k++) skip |= !strcmp(n->attrs[a].name, drop[k]);
        if (skip) continue;
        ac_attr *na;
        AC_TRY(ac_node_add_attr(m, n->attrs[a].name, n->attrs[a].type, &na, d));
        *na = n->attrs[a]; /* shallow: the payloads live in the same root arena */
    }
    if (made) *made = m;
    return AC_OK;
}
