/* SPDX-License-Identifier: MIT */
/* Topological order, enclosing-scope captures and use counts.
 *
 * The sort is Kahn's algorithm with a min-heap on the current node position, so a graph that is
 * already ordered keeps its order exactly and an unordered one changes as little as possible
 * (stable output makes written models diff well and runs reproducible). A node that owns
 * subgraphs depends on the producers of every outer value those subgraphs read. */
#include "autocompress/ac_graph.h"

#include <stdio.h>
#include <string.h>

static int is_ancestor(const ac_graph *a, const ac_graph *g) {
    for (g = g->parent; g; g = g->parent)
        if (g == a) return 1;
    return 0;
}

/* Calls fn(v, user) for every value read inside `g` (recursively through subgraphs) that is
 * defined in a strict ancestor of `root`. Returns nonzero if fn does. */
typedef int (*value_fn)(ac_value *v, void *user);

static int walk_captures(const ac_graph *root, const ac_graph *g, value_fn fn, void *user) {
    for (int64_t i = 0; i < g->n_nodes; i++) {
        const ac_node *n = g->nodes[i];
        for (int32_t k = 0; k < n->n_inputs; k++) {
            ac_value *v = n->inputs[k];
            if (v && is_ancestor(v->graph, root) && fn(v, user)) return 1;
        }
        for (int32_t a = 0; a < n->n_attrs; a++) {
            const ac_attr *at = &n->attrs[a];
            if (at->type == AC_ATTR_GRAPH && at->g && walk_captures(root, at->g, fn, user))
                return 1;
            if (at->type == AC_ATTR_GRAPHS)
                for (int64_t j = 0; j < at->n; j++)
                    if (at->graphs[j] && walk_captures(root, at->graphs[j], fn, user)) return 1;
        }
    }
    /* graph outputs may be outer values passed straight through */
    for (int64_t i = 0; i < g->n_outputs; i++) {
        ac_value *v = g->outputs[i];
        if (v && is_ancestor(v->graph, root) && fn(v, user)) return 1;
    }
    return 0;
}

/* Captures are collected into a private array even when the caller's buffer is smaller, so
 * the total counts each value once: deduplicating only within `out` would count a value again
 * whenever its first sighting did not fit. */
typedef struct capture_acc {
    ac_value **vals;
    int64_t count, cap;
    int nomem;
} capture_acc;

static int collect_capture(ac_value *v, void *user) {
    capture_acc *acc = user;
    for (int64_t i = 0; i < acc->count; i++)
        if (acc->vals[i] == v) return 0;
    if (acc->count == acc->cap) {
        int64_t nc = acc->cap ? acc->cap * 2 : 16;
        ac_value **p = ac_realloc(acc->vals, (size_t)nc * sizeof *p);
        if (!p) {
            acc->nomem = 1;
            return 1; /* stops the walk */
        }
        acc->vals = p;
        acc->cap = nc;
    }
    acc->vals[acc->count++] = v;
    return 0;
}

int64_t ac_graph_captures(const ac_graph *g, ac_value **out, int64_t cap) {
    capture_acc acc = {0};
    walk_captures(g, g, collect_capture, &acc);
    int64_t count = acc.nomem ? -1 : acc.count;
    for (int64_t i = 0; i < count && i < cap; i++) out[i] = acc.vals[i];
    ac_free(acc.vals);
    return count;
}

/* ---- use counts -------------------------------------------------------------------------- */

static int64_t count_uses(const ac_graph *g, const ac_value *v) {
    int64_t c = 0;
    for (int64_t i = 0; i < g->n_nodes; i++) {
        const ac_node *n = g->nodes[i];
        for (int32_t k = 0; k < n->n_inputs; k++) c += n->inputs[k] == v;
        for (int32_t a = 0; a < n->n_attrs; a++) {
            const ac_attr *at = &n->attrs[a];
            if (at->type == AC_ATTR_GRAPH && at->g) c += count_uses(at->g, v);
            if (at->type == AC_ATTR_GRAPHS)
                for (int64_t j = 0; j < at->n; j++)
                    if (at->graphs[j]) c += count_uses(at->graphs[j], v);
        }
    }
    return c;
}

int64_t ac_value_use_count(const ac_graph *g, const ac_value *v) { return count_uses(g, v); }

/* ---- sort -------------------------------------------------------------------------------- */

typedef struct dep_ctx {
    const ac_graph *g;
    int64_t node;  /* consumer position */
    int64_t *src;  /* edge producer positions (second pass) */
    int64_t *dst;
    int64_t n_edges;
    int fill;
} dep_ctx;

static void add_edge(dep_ctx *c, const ac_value *v) {
    if (!v || !v->producer || v->producer->graph != c->g) return;
    if (c->fill) {
        c->src[c->n_edges] = v->producer->index;
        c->dst[c->n_edges] = c->node;
    }
    c->n_edges++;
}

static int capture_edge(ac_value *v, void *user) {
    add_edge(user, v);
    return 0;
}

static void node_deps(dep_ctx *c, const ac_node *n) {
    for (int32_t k = 0; k < n->n_inputs; k++) add_edge(c, n->inputs[k]);
    for (int32_t a = 0; a < n->n_attrs; a++) {
        const ac_attr *at = &n->attrs[a];
        if (at->type == AC_ATTR_GRAPH && at->g) walk_captures(at->g, at->g, capture_edge, c);
        if (at->type == AC_ATTR_GRAPHS)
            for (int64_t j = 0; j < at->n; j++)
                if (at->graphs[j]) walk_captures(at->graphs[j], at->graphs[j], capture_edge, c);
    }
}

static void heap_push(int64_t *h, int64_t *n, int64_t x) {
    int64_t i = (*n)++;
    h[i] = x;
    while (i > 0 && h[(i - 1) / 2] > h[i]) {
        int64_t p = (i - 1) / 2, t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static int64_t heap_pop(int64_t *h, int64_t *n) {
    int64_t top = h[0];
    h[0] = h[--(*n)];
    for (int64_t i = 0;;) {
        int64_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && h[l] < h[m]) m = l;
        if (r < *n && h[r] < h[m]) m = r;
        if (m == i) break;
        int64_t t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
    return top;
}

/* Describes one cycle among the nodes left unsorted (indeg > 0): follow unsorted producers
 * until a node repeats. */
static ac_status report_cycle(ac_graph *g, const int64_t *indeg, const int64_t *first_in,
                              const int64_t *in_src, ac_diag *d) {
    int64_t n = g->n_nodes;
    int64_t *seen = ac_calloc((size_t)n, sizeof *seen); /* step number + 1 */
    int64_t *path = ac_malloc_array((size_t)n + 1, sizeof *path);
    if (!seen || !path) {
        ac_free(seen);
        ac_free(path);
        return AC_FAIL(d, AC_ERR_MODEL, "graph contains a cycle");
    }
    int64_t cur = 0;
    while (cur < n && indeg[cur] == 0) cur++;
    int64_t steps = 0;
    while (cur < n && !seen[cur]) {
        seen[cur] = ++steps;
        path[steps - 1] = cur;
        int64_t next = n;
        for (int64_t e = first_in[cur]; e < first_in[cur + 1]; e++)
            if (indeg[in_src[e]] > 0) {
                next = in_src[e];
                break;
            }
        cur = next;
    }
    char text[400] = "";
    size_t len = 0;
    if (cur < n) {
        /* the cycle is path[seen[cur]-1 .. steps-1], then back to cur; print it forwards
         * (producer before consumer), which is the reverse of how we walked it */
        for (int64_t i = steps - 1; i >= seen[cur] - 1 && len < sizeof text - 1; i--) {
            const ac_node *nd = g->nodes[path[i]];
            char lab[160];
            ac_node_label(nd, lab, sizeof lab);
            len += (size_t)snprintf(text + len, sizeof text - len, "%s -> ", lab);
        }
        if (len < sizeof text - 1) {
            char lab[160];
            ac_node_label(g->nodes[path[steps - 1]], lab, sizeof lab);
            snprintf(text + len, sizeof text - len, "%s", lab);
        }
    }
    ac_free(seen);
    ac_free(path);
    return AC_FAIL(d, AC_ERR_MODEL, "graph contains a cycle: %s", text);
}

static ac_status sort_one(ac_graph *g, ac_diag *d) {
    int64_t n = g->n_nodes;
    for (int64_t i = 0; i < n; i++) g->nodes[i]->index = i;
    dep_ctx c = {.g = g};
    for (int64_t i = 0; i < n; i++) {
        c.node = i;
        node_deps(&c, g->nodes[i]);
    }
    int64_t ne = c.n_edges;
    int64_t *src = ac_malloc_array((size_t)ne + 1, sizeof *src);
    int64_t *dst = ac_malloc_array((size_t)ne + 1, sizeof *dst);
    int64_t *indeg = ac_calloc((size_t)n + 1, sizeof *indeg);
    int64_t *first_out = ac_calloc((size_t)n + 2, sizeof *first_out);
    int64_t *first_in = ac_calloc((size_t)n + 2, sizeof *first_in);
    int64_t *out_dst = ac_malloc_array((size_t)ne + 1, sizeof *out_dst);
    int64_t *in_src = ac_malloc_array((size_t)ne + 1, sizeof *in_src);
    int64_t *heap = ac_malloc_array((size_t)n + 1, sizeof *heap);
    ac_node **order = ac_malloc_array((size_t)n + 1, sizeof *order);
    ac_status s = AC_OK;
    if (!src || !dst || !indeg || !first_out || !first_in || !out_dst || !in_src || !heap ||
        !order) {
        s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory sorting graph \"%s\"", g->name);
        goto done;
    }
    c.src = src;
    c.dst = dst;
    c.n_edges = 0;
    c.fill = 1;
    for (int64_t i = 0; i < n; i++) {
        c.node = i;
        node_deps(&c, g->nodes[i]);
    }
    /* CSR adjacency both ways: out-edges drive the sort, in-edges find a cycle */
    for (int64_t e = 0; e < ne; e++) {
        first_out[src[e] + 1]++;
        first_in[dst[e] + 1]++;
        indeg[dst[e]]++;
    }
    for (int64_t i = 0; i < n; i++) {
        first_out[i + 1] += first_out[i];
        first_in[i + 1] += first_in[i];
    }
    {
        int64_t *po = ac_calloc((size_t)n + 1, sizeof *po);
        int64_t *pi = ac_calloc((size_t)n + 1, sizeof *pi);
        if (!po || !pi) {
            ac_free(po);
            ac_free(pi);
            s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory sorting graph \"%s\"", g->name);
            goto done;
        }
        for (int64_t e = 0; e < ne; e++) {
            out_dst[first_out[src[e]] + po[src[e]]++] = dst[e];
            in_src[first_in[dst[e]] + pi[dst[e]]++] = src[e];
        }
        ac_free(po);
        ac_free(pi);
    }
    int64_t hn = 0, done_n = 0;
    for (int64_t i = 0; i < n; i++)
        if (indeg[i] == 0) heap_push(heap, &hn, i);
    while (hn > 0) {
        int64_t i = heap_pop(heap, &hn);
        order[done_n++] = g->nodes[i];
        for (int64_t e = first_out[i]; e < first_out[i + 1]; e++)
            if (--indeg[out_dst[e]] == 0) heap_push(heap, &hn, out_dst[e]);
    }
    if (done_n < n) {
        s = report_cycle(g, indeg, first_in, in_src, d);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        g->nodes[i] = order[i];
        g->nodes[i]->index = i;
    }
done:
    ac_free(src);
    ac_free(dst);
    ac_free(indeg);
    ac_free(first_out);
    ac_free(first_in);
    ac_free(out_dst);
    ac_free(in_src);
    ac_free(heap);
    ac_free(order);
    return s;
}

ac_status ac_graph_sort(ac_graph *g, ac_diag *d) {
    /* subgraphs first: their order does not depend on the outer one */
    for (int64_t i = 0; i < g->n_nodes; i++) {
        ac_node *n = g->nodes[i];
        for (int32_t a = 0; a < n->n_attrs; a++) {
            ac_attr *at = &n->attrs[a];
            if (at->type == AC_ATTR_GRAPH && at->g) AC_TRY(ac_graph_sort(at->g, d));
            if (at->type == AC_ATTR_GRAPHS)
                for (int64_t j = 0; j < at->n; j++)
                    if (at->graphs[j]) AC_TRY(ac_graph_sort(at->graphs[j], d));
        }
    }
    return sort_one(g, d);
}
