/* SPDX-License-Identifier: MIT */
/* src/graph: IR construction, scopes, topological sort, captures, dtype/dims helpers,
 * attributes and node removal, all through the public ac_graph API. */
#include "autocompress/ac_graph.h"
#include "check_util.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Shorthand for building test graphs: every call must succeed. */
static ac_value *val(ac_graph *g, const char *name) {
    ac_diag d = {0};
    ac_value *v = NULL;
    ck_assert_msg(ac_graph_new_value(g, name, &v, &d) == AC_OK, "new_value %s: %s", name, d.msg);
    return v;
}

static ac_node *node1(ac_graph *g, const char *op, const char *name, ac_value *in,
                      ac_value *out) {
    ac_diag d = {0};
    ac_node *n = NULL;
    ck_assert_msg(ac_graph_add_node(g, op, "", name, in ? 1 : 0, &in, out ? 1 : 0, &out, &n,
                                    &d) == AC_OK,
                  "add_node %s: %s", name, d.msg);
    return n;
}

static ac_node *node2(ac_graph *g, const char *op, const char *name, ac_value *a, ac_value *b,
                      ac_value *out) {
    ac_diag d = {0};
    ac_node *n = NULL;
    ac_value *ins[2] = {a, b};
    ck_assert_msg(ac_graph_add_node(g, op, "", name, 2, ins, 1, &out, &n, &d) == AC_OK,
                  "add_node %s: %s", name, d.msg);
    return n;
}

static ac_graph *new_graph(void) {
    ac_diag d = {0};
    ac_graph *g = NULL;
    ck_assert_int_eq(ac_graph_new("main", &g, &d), AC_OK);
    return g;
}

/* Attaches `sub` to node n as GRAPH attribute `name`, as the ONNX reader does. */
static void attach_subgraph(ac_node *n, const char *name, ac_graph *sub) {
    ac_diag d = {0};
    ac_attr *a;
    ck_assert_int_eq(ac_node_add_attr(n, name, AC_ATTR_GRAPH, &a, &d), AC_OK);
    a->g = sub;
    sub->owner = n;
}

/* ---- construction ---------------------------------------------------------------------- */

START_TEST(build_small_graph) {
    ac_diag d = {0};
    ac_graph *g = new_graph();
    ck_assert_str_eq(g->name, "main");
    ck_assert_ptr_null(g->parent);
    ac_value *x = val(g, "x"), *w = val(g, "w"), *y = val(g, "y"), *z = val(g, "z");
    int64_t xd[2] = {-1, 4};
    const char *xp[2] = {"N", NULL};
    ck_assert_int_eq(ac_value_set_type(x, AC_DTYPE_F32, 2, xd, xp, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    ac_tensor *t;
    int64_t wd[2] = {4, 4};
    ck_assert_int_eq(ac_graph_new_tensor(g, "w", AC_DTYPE_F32, 2, wd, &t, &d), AC_OK);
    ck_assert_int_eq(t->numel, 16);
    ck_assert_uint_eq(t->nbytes, 64);
    for (int i = 0; i < 16; i++) ck_assert(((float *)t->data)[i] == 0.0f); /* zero-filled */
    ck_assert_int_eq(ac_graph_set_initializer(g, w, t, &d), AC_OK);
    ac_node *mm = node2(g, "MatMul", "mm", x, w, y);
    ac_node *relu = node1(g, "Relu", "", y, z);
    ck_assert_int_eq(ac_graph_add_output(g, z, &d), AC_OK);

    ck_assert_int_eq(g->n_values, 4);
    ck_assert_int_eq(g->n_nodes, 2);
    ck_assert_int_eq(g->n_inputs, 1);
    ck_assert_int_eq(g->n_outputs, 1);
    ck_assert_int_eq(g->n_inits, 1);
    ck_assert_ptr_eq(g->inits[0], w);
    ck_assert_ptr_eq(w->init, t);
    ck_assert_uint_eq(x->flags, AC_VALUE_INPUT);
    ck_assert_uint_eq(w->flags, AC_VALUE_INITIALIZER);
    ck_assert_uint_eq(z->flags, AC_VALUE_OUTPUT);
    /* an initializer takes its tensor's type when the model gave none */
    ck_assert_int_eq(w->dtype, AC_DTYPE_F32);
    ck_assert_int_eq(w->rank, 2);
    ck_assert_int_eq(w->dims[1], 4);
    ck_assert_int_eq(x->dims[0], -1);
    ck_assert_str_eq(x->dim_params[0], "N");
    ck_assert_ptr_null(x->dim_params[1]);
    ck_assert_int_eq(y->rank, -1); /* untyped until someone sets it */
    ck_assert_ptr_eq(y->producer, mm);
    ck_assert_int_eq(y->producer_output, 0);
    ck_assert_ptr_eq(z->producer, relu);
    ck_assert_ptr_null(x->producer);
    ck_assert_int_eq(mm->index, 0);
    ck_assert_int_eq(relu->index, 1);
    ck_assert_int_eq(mm->file_index, -1);
    ck_assert_ptr_eq(mm->graph, g);
    ck_assert_str_eq(mm->domain, "");
    for (int64_t i = 0; i < g->n_values; i++) ck_assert_int_eq(g->values[i]->index, i);

    char lab[64];
    ck_assert_str_eq(ac_node_label(mm, lab, sizeof lab), "node \"mm\" (MatMul)");
    ck_assert_str_eq(ac_node_label(relu, lab, sizeof lab), "node #1 (Relu)");

    /* omitted optional inputs and outputs are NULL entries */
    ac_value *ins[3] = {x, NULL, w}, *outs[2] = {NULL, val(g, "o2")};
    ac_node *n;
    ck_assert_int_eq(ac_graph_add_node(g, "Custom", "my.domain", "c", 3, ins, 2, outs, &n, &d),
                     AC_OK);
    ck_assert_ptr_null(n->inputs[1]);
    ck_assert_ptr_null(n->outputs[0]);
    ck_assert_int_eq(outs[1]->producer_output, 1);
    ck_assert_str_eq(n->domain, "my.domain");
    ck_assert_int_eq(ac_node_set_input(n, 1, y, &d), AC_OK);
    ck_assert_ptr_eq(n->inputs[1], y);
    ck_assert_int_eq(ac_node_set_input(n, 3, y, &d), AC_ERR_ARG);
    ac_graph_free(g);
}
END_TEST

START_TEST(tensor_shapes_checked) {
    ac_diag d = {0};
    ac_graph *g = new_graph();
    ac_tensor *t;
    int64_t bad[2] = {2, -3};
    ck_assert_int_eq(ac_graph_new_tensor(g, "bad", AC_DTYPE_F32, 2, bad, &t, &d), AC_ERR_ARG);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(d.msg, "bad"));
    int64_t huge[2] = {INT64_MAX / 2, 3};
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_graph_new_tensor(g, "huge", AC_DTYPE_F32, 2, huge, &t, &d), AC_ERR_ARG);
    /* a scalar has one element; a zero dim has none and no payload */
    ck_assert_int_eq(ac_graph_new_tensor(g, "s", AC_DTYPE_S64, 0, NULL, &t, &d), AC_OK);
    ck_assert_int_eq(t->numel, 1);
    ck_assert_uint_eq(t->nbytes, 8);
    int64_t empty[2] = {0, 5};
    ck_assert_int_eq(ac_graph_new_tensor(g, "e", AC_DTYPE_F32, 2, empty, &t, &d), AC_OK);
    ck_assert_int_eq(t->numel, 0);
    ck_assert_ptr_null(t->data);
    /* packed 4-bit payloads round up to whole bytes */
    int64_t odd[1] = {5};
    ck_assert_int_eq(ac_graph_new_tensor(g, "q", AC_DTYPE_S4, 1, odd, &t, &d), AC_OK);
    ck_assert_uint_eq(t->nbytes, 3);
    int64_t two[1] = {2};
    ck_assert_int_eq(ac_graph_new_tensor(g, "str", AC_DTYPE_STRING, 1, two, &t, &d), AC_OK);
    ck_assert_ptr_nonnull(t->strings);
    ck_assert_str_eq(t->strings[1], "");
    ck_assert_ptr_null(t->data);
    ac_graph_free(g);
}
END_TEST

/* ---- names and scopes ---------------------------------------------------------------------- */

START_TEST(lookup_through_enclosing_scopes) {
    ac_diag d = {0};
    ac_graph *g = new_graph();
    ac_value *x = val(g, "x");
    ac_value *c = val(g, "cond");
    ac_value *y = val(g, "y");
    ac_node *n = node1(g, "If", "if", c, y);
    ac_graph *then_g, *inner;
    ck_assert_int_eq(ac_graph_new_subgraph(g, "then", &then_g, &d), AC_OK);
    ck_assert_ptr_eq(then_g->parent, g);
    attach_subgraph(n, "then_branch", then_g);
    ck_assert_int_eq(ac_graph_new_subgraph(then_g, "inner", &inner, &d), AC_OK);
    ac_value *t1 = val(then_g, "t1");
    ac_value *i1 = val(inner, "i1");

    /* find walks outwards, find_local does not */
    ck_assert_ptr_eq(ac_graph_find(inner, "x"), x);
    ck_assert_ptr_eq(ac_graph_find(inner, "t1"), t1);
    ck_assert_ptr_eq(ac_graph_find(inner, "i1"), i1);
    ck_assert_ptr_null(ac_graph_find_local(inner, "x"));
    ck_assert_ptr_null(ac_graph_find_local(then_g, "i1"));
    ck_assert_ptr_null(ac_graph_find(g, "t1")); /* never inwards */
    ck_assert_ptr_null(ac_graph_find(inner, "nope"));
    ck_assert_ptr_eq(t1->graph, then_g);

    /* an inner value with an outer name hides the outer one inside its scope only */
    ac_value *shadow = val(then_g, "x");
    ck_assert_ptr_eq(ac_graph_find(inner, "x"), shadow);
    ck_assert_ptr_eq(ac_graph_find(g, "x"), x);

    /* unique names avoid every enclosing scope as well */
    const char *u;
    ck_assert_int_eq(ac_graph_unique_name(inner, "t1", &u, &d), AC_OK);
    ck_assert_str_eq(u, "t1_1");
    ck_assert_int_eq(ac_graph_unique_name(inner, "fresh", &u, &d), AC_OK);
    ck_assert_str_eq(u, "fresh");
    val(g, "t1_1");
    ck_assert_int_eq(ac_graph_unique_name(then_g, "t1", &u, &d), AC_OK);
    ck_assert_str_eq(u, "t1_2");

    /* many names force the index to grow; every one must still be found */
    char nm[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(nm, sizeof nm, "v%d", i);
        val(then_g, nm);
    }
    for (int i = 0; i < 2000; i++) {
        snprintf(nm, sizeof nm, "v%d", i);
        ac_value *v = ac_graph_find(inner, nm);
        ck_assert_ptr_nonnull(v);
        ck_assert_str_eq(v->name, nm);
    }
    ac_graph_free(g);
}
END_TEST

START_TEST(duplicate_names_rejected) {
    ac_diag d = {0};
    ac_graph *g = new_graph();
    ac_value *x = val(g, "x"), *v = NULL;
    ck_assert_int_eq(ac_graph_new_value(g, "x", &v, &d), AC_ERR_MODEL);
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(strstr(d.msg, "\"x\""));
    ck_assert_int_eq(g->n_values, 1);
    ck_assert_ptr_eq(ac_graph_find(g, "x"), x);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_graph_new_value(g, "", &v, &d), AC_ERR_MODEL);
    ck_assert_str_ne(d.msg, "");
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_graph_new_value(g, NULL, &v, &d), AC_ERR_MODEL);

    /* SSA: a value has one producer, and inputs/initializers have none */
    ac_value *y = val(g, "y");
    node1(g, "Relu", "r1", x, y);
    ac_node *n = NULL;
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_graph_add_node(g, "Relu", "", "r2", 1, &x, 1, &y, &n, &d), AC_ERR_MODEL);
    ck_assert_ptr_null(n);
    ck_assert_ptr_nonnull(strstr(d.msg, "\"y\""));
    ck_assert_int_eq(g->n_nodes, 1);
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_graph_add_node(g, "Relu", "", "r3", 1, &y, 1, &x, &n, &d), AC_ERR_MODEL);
    ac_value *z = val(g, "z");
    ac_value *outs[2] = {z, z};
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_graph_add_node(g, "Split", "", "s", 1, &x, 2, outs, &n, &d),
                     AC_ERR_MODEL);
    ck_assert_ptr_nonnull(strstr(d.msg, "twice"));
    ck_assert_ptr_null(z->producer);

    /* the same name in a subgraph is a different scope */
    ac_graph *sub;
    ck_assert_int_eq(ac_graph_new_subgraph(g, "sub", &sub, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_value(sub, "x", &v, &d), AC_OK);
    ck_assert_ptr_ne(v, x);
    ac_graph_free(g);
}
END_TEST

/* ---- sort ---------------------------------------------------------------------------------- */

/* A diamond with an independent side chain, added in `order` (a permutation of 0..5). */
static ac_graph *diamond(const int *order, ac_node **by_id) {
    ac_graph *g = new_graph();
    ac_value *x = val(g, "x");
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    ac_value *a = val(g, "a"), *b = val(g, "b"), *c = val(g, "c"), *e = val(g, "e");
    ac_value *s1 = val(g, "s1"), *s2 = val(g, "s2");
    for (int k = 0; k < 6; k++) {
        switch (order[k]) {
        case 0: by_id[0] = node1(g, "Relu", "n0", x, a); break;
        case 1: by_id[1] = node1(g, "Neg", "n1", a, b); break;
        case 2: by_id[2] = node1(g, "Abs", "n2", a, c); break;
        case 3: by_id[3] = node2(g, "Add", "n3", b, c, e); break;
        case 4: by_id[4] = node1(g, "Exp", "n4", x, s1); break;
        case 5: by_id[5] = node1(g, "Log", "n5", s1, s2); break;
        }
    }
    return g;
}

static void check_topological(const ac_graph *g) {
    for (int64_t i = 0; i < g->n_nodes; i++) {
        const ac_node *n = g->nodes[i];
        ck_assert_int_eq(n->index, i);
        for (int32_t k = 0; k < n->n_inputs; k++) {
            const ac_value *v = n->inputs[k];
            if (v && v->producer && v->producer->graph == g)
                ck_assert_msg(v->producer->index < i, "%s reads %s before it is made", n->name,
                              v->name);
        }
    }
}

START_TEST(sort_keeps_sorted_order) {
    /* several valid orders: each must stay exactly as it is */
    static const int orders[][6] = {
        {0, 1, 2, 3, 4, 5}, {4, 5, 0, 1, 2, 3}, {0, 4, 2, 1, 5, 3}, {4, 0, 5, 2, 1, 3}};
    for (size_t k = 0; k < sizeof orders / sizeof orders[0]; k++) {
        ac_node *by_id[6];
        ac_graph *g = diamond(orders[k], by_id);
        ac_node *before[6];
        memcpy(before, g->nodes, sizeof before);
        ac_diag d = {0};
        ck_assert_int_eq(ac_graph_sort(g, &d), AC_OK);
        for (int i = 0; i < 6; i++)
            ck_assert_msg(g->nodes[i] == before[i], "order %zu: position %d changed", k, i);
        check_topological(g);
        /* sorting twice changes nothing either */
        ck_assert_int_eq(ac_graph_sort(g, &d), AC_OK);
        for (int i = 0; i < 6; i++) ck_assert_ptr_eq(g->nodes[i], before[i]);
        ac_graph_free(g);
    }
}
END_TEST

START_TEST(sort_reversed_order) {
    static const int rev[6] = {5, 4, 3, 2, 1, 0};
    ac_node *by_id[6];
    ac_graph *g = diamond(rev, by_id);
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_sort(g, &d), AC_OK);
    check_topological(g);
    /* stable: the smallest current position that is ready goes first, so the side chain (added
     * first) comes before the diamond, and n2 (added before n1) before n1 */
    static const int want[6] = {4, 5, 0, 2, 1, 3};
    for (int i = 0; i < 6; i++)
        ck_assert_msg(g->nodes[i] == by_id[want[i]], "position %d is %s, expected n%d", i,
                      g->nodes[i]->name, want[i]);
    ac_graph_free(g);
}
END_TEST

START_TEST(sort_long_reversed_chain) {
    /* 3000 nodes in reverse: exercises the heap and the edge arrays at some size */
    enum { N = 3000 };
    ac_graph *g = new_graph();
    ac_value *v[N + 1];
    char nm[32];
    for (int i = 0; i <= N; i++) {
        snprintf(nm, sizeof nm, "v%d", i);
        v[i] = val(g, nm);
    }
    for (int i = N - 1; i >= 0; i--) {
        snprintf(nm, sizeof nm, "n%d", i);
        node1(g, "Relu", nm, v[i], v[i + 1]);
    }
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_sort(g, &d), AC_OK);
    for (int i = 0; i < N; i++) ck_assert_ptr_eq(g->nodes[i]->outputs[0], v[i + 1]);
    ac_graph_free(g);
}
END_TEST

START_TEST(cycle_is_reported_with_its_nodes) {
    ac_graph *g = new_graph();
    ac_value *x = val(g, "x"), *a = val(g, "a"), *b = val(g, "b"), *c = val(g, "c");
    ac_value *out = val(g, "out");
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    ac_node *pre = node1(g, "Relu", "pre", x, out);
    node2(g, "Add", "na", x, c, a); /* a = x + c */
    node1(g, "Neg", "nb", a, b);     /* b = -a    */
    node1(g, "Abs", "nc", b, c);     /* c = |b|   -> back to na */
    ac_node *before[4];
    memcpy(before, g->nodes, sizeof before);
    ck_assert_int_eq(ac_graph_sort(g, &d), AC_ERR_MODEL);
    ck_assert_int_eq(d.status, AC_ERR_MODEL);
    ck_assert_msg(strstr(d.msg, "cycle") != NULL, "message: %s", d.msg);
    ck_assert_msg(strstr(d.msg, "node \"na\" (Add)") && strstr(d.msg, "node \"nb\" (Neg)") &&
                      strstr(d.msg, "node \"nc\" (Abs)"),
                  "message does not list the cycle: %s", d.msg);
    ck_assert_msg(strstr(d.msg, "\"pre\"") == NULL, "a node off the cycle is named: %s", d.msg);
    /* the cycle reads producer before consumer, e.g. na -> nb -> nc -> na */
    const char *pa = strstr(d.msg, "\"na\""), *pb = strstr(d.msg, "\"nb\"");
    const char *pc = strstr(d.msg, "\"nc\"");
    ck_assert_msg((pa < pb && pb < pc) || (pb < pc && pc < pa) || (pc < pa && pa < pb),
                  "cycle not in data-flow order: %s", d.msg);
    /* a failed sort leaves the node order alone */
    for (int i = 0; i < 4; i++) ck_assert_ptr_eq(g->nodes[i], before[i]);
    ck_assert_ptr_eq(g->nodes[0], pre);
    ac_graph_free(g);

    /* a node reading its own output is a cycle of one */
    g = new_graph();
    ac_value *s = val(g, "s");
    node1(g, "Relu", "self", s, s);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_graph_sort(g, &d), AC_ERR_MODEL);
    ck_assert_msg(strstr(d.msg, "\"self\""), "message: %s", d.msg);
    ac_graph_free(g);
}
END_TEST

START_TEST(cycle_in_subgraph_is_reported) {
    ac_graph *g = new_graph();
    ac_value *c = val(g, "cond"), *y = val(g, "y");
    ac_node *n = node1(g, "If", "if", c, y);
    ac_graph *sub;
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_new_subgraph(g, "then", &sub, &d), AC_OK);
    attach_subgraph(n, "then_branch", sub);
    ac_value *p = val(sub, "p"), *q = val(sub, "q");
    node1(sub, "Neg", "inner_p", q, p);
    node1(sub, "Neg", "inner_q", p, q);
    ck_assert_int_eq(ac_graph_sort(g, &d), AC_ERR_MODEL);
    ck_assert_msg(strstr(d.msg, "inner_p") && strstr(d.msg, "inner_q"), "message: %s", d.msg);
    ac_graph_free(g);
}
END_TEST

/* ---- subgraphs: captures, ordering, use counts ------------------------------------------------ */

START_TEST(subgraph_captures_and_order) {
    ac_diag d = {0};
    ac_graph *g = new_graph();
    ac_value *x = val(g, "x"), *cond = val(g, "cond"), *late = val(g, "late");
    ac_value *y = val(g, "y"), *z = val(g, "z");
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, cond, &d), AC_OK);
    /* the If comes first in the list but its branch reads `late`, made by a later node */
    ac_node *iff = node1(g, "If", "if", cond, y);
    ac_graph *then_g, *else_g, *inner;
    ck_assert_int_eq(ac_graph_new_subgraph(g, "then", &then_g, &d), AC_OK);
    ck_assert_int_eq(ac_graph_new_subgraph(g, "else", &else_g, &d), AC_OK);
    attach_subgraph(iff, "then_branch", then_g);
    attach_subgraph(iff, "else_branch", else_g);
    ac_value *t0 = val(then_g, "t0"), *t1 = val(then_g, "t1");
    /* inside then_g the same rule applies one level down: the Loop is listed before the
     * producer of t0, which its body reads */
    ac_node *owner = node1(then_g, "Loop", "inner_loop", x, t1); /* reads outer x */
    ac_node *then_neg = node1(then_g, "Neg", "then_neg", x, t0);
    ck_assert_int_eq(ac_graph_new_subgraph(then_g, "body", &inner, &d), AC_OK);
    attach_subgraph(owner, "body", inner);
    ac_value *i1 = val(inner, "i1"), *i2 = val(inner, "i2");
    node2(inner, "Add", "inner_add", late, t0, i1); /* two levels out and one level out */
    node1(inner, "Neg", "inner_neg", i1, i2);        /* local only */
    ck_assert_int_eq(ac_graph_add_output(inner, i2, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(then_g, t1, &d), AC_OK);
    /* the else branch passes an outer value straight through as its output */
    ck_assert_int_eq(ac_graph_add_output(else_g, x, &d), AC_OK);
    ac_node *prod = node1(g, "Relu", "producer", x, late);
    node1(g, "Neg", "after", y, z);

    ac_value *caps[8];
    int64_t nc = ac_graph_captures(inner, caps, 8);
    ck_assert_int_eq(nc, 2);
    ck_assert_ptr_eq(caps[0], late);
    ck_assert_ptr_eq(caps[1], t0);
    /* then_g captures what it and its nested body read from outside then_g, once each */
    nc = ac_graph_captures(then_g, caps, 8);
    ck_assert_int_eq(nc, 2);
    ck_assert((caps[0] == x && caps[1] == late) || (caps[0] == late && caps[1] == x));
    nc = ac_graph_captures(else_g, caps, 8);
    ck_assert_int_eq(nc, 1);
    ck_assert_ptr_eq(caps[0], x);
    ck_assert_int_eq(ac_graph_captures(g, caps, 8), 0);
    /* too small a buffer: the total is still returned, the buffer holds the first ones */
    nc = ac_graph_captures(then_g, caps, 1);
    ck_assert_int_eq(nc, 2);
    ck_assert_int_eq(ac_graph_captures(then_g, NULL, 0), 2);

    ck_assert_int_eq(ac_graph_sort(g, &d), AC_OK);
    ck_assert_msg(prod->index < iff->index, "If (index %lld) sorted before the producer of a "
                  "value its branch reads (index %lld)", (long long)iff->index,
                  (long long)prod->index);
    check_topological(g);
    ck_assert_ptr_eq(g->nodes[g->n_nodes - 1]->outputs[0], z);
    check_topological(then_g);
    ck_assert_msg(then_neg->index < owner->index, "Loop sorted before the producer of t0");
    check_topological(inner);

    /* use counts include reads inside subgraphs, at any depth */
    ck_assert_int_eq(ac_value_use_count(g, late), 1);
    ck_assert_int_eq(ac_value_use_count(g, y), 1);
    ck_assert_int_eq(ac_value_use_count(g, z), 0);
    ck_assert_int_eq(ac_value_use_count(then_g, t0), 1);
    ck_assert_int_eq(ac_value_use_count(g, x), 3); /* + then_neg */
    ck_assert_int_eq(ac_value_use_count(inner, late), 1);
    ac_graph_free(g);
}
END_TEST

START_TEST(use_count_counts_each_slot) {
    ac_graph *g = new_graph();
    ac_value *x = val(g, "x"), *y = val(g, "y"), *z = val(g, "z");
    node2(g, "Mul", "sq", x, x, y); /* x read twice by one node */
    node2(g, "Add", "add", y, x, z);
    ck_assert_int_eq(ac_value_use_count(g, x), 3);
    ck_assert_int_eq(ac_value_use_count(g, y), 1);
    ck_assert_int_eq(ac_value_use_count(g, z), 0);
    ac_graph_free(g);
}
END_TEST

/* ---- dtypes and dims ------------------------------------------------------------------------ */

START_TEST(dims_numel_checks) {
    int64_t n = -7;
    ck_assert_int_eq(ac_dims_numel(NULL, 0, &n), 0);
    ck_assert_int_eq(n, 1);
    int64_t a[3] = {2, 3, 4};
    ck_assert_int_eq(ac_dims_numel(a, 3, &n), 0);
    ck_assert_int_eq(n, 24);
    int64_t z[3] = {2, 0, 4};
    ck_assert_int_eq(ac_dims_numel(z, 3, &n), 0);
    ck_assert_int_eq(n, 0);
    int64_t neg[2] = {4, -1};
    ck_assert_int_eq(ac_dims_numel(neg, 2, &n), -1);
    int64_t big[2] = {INT64_MAX / 2 + 1, 2};
    ck_assert_int_eq(ac_dims_numel(big, 2, &n), -2);
    int64_t edge[2] = {INT64_MAX / 2, 2}; /* exactly representable */
    ck_assert_int_eq(ac_dims_numel(edge, 2, &n), 0);
    ck_assert_int_eq(n, (INT64_MAX / 2) * 2);
    int64_t many[4] = {1 << 20, 1 << 20, 1 << 20, 1 << 20};
    ck_assert_int_eq(ac_dims_numel(many, 4, &n), -2);
    /* a zero anywhere wins over an overflow, a negative dim wins over both */
    int64_t ovz[3] = {INT64_MAX, 4, 0};
    ck_assert_int_eq(ac_dims_numel(ovz, 3, &n), 0);
    ck_assert_int_eq(n, 0);
    int64_t ovneg[3] = {INT64_MAX, 4, -2};
    ck_assert_int_eq(ac_dims_numel(ovneg, 3, &n), -1);
    int64_t maxneg[1] = {INT64_MIN};
    ck_assert_int_eq(ac_dims_numel(maxneg, 1, &n), -1);
}
END_TEST

START_TEST(dtype_sizes) {
    ck_assert_int_eq(ac_dtype_bits(AC_DTYPE_U4), 4);
    ck_assert_int_eq(ac_dtype_bits(AC_DTYPE_S4), 4);
    ck_assert_int_eq(ac_dtype_bits(AC_DTYPE_F4E2M1), 4);
    static const ac_dtype four[] = {AC_DTYPE_U4, AC_DTYPE_S4, AC_DTYPE_F4E2M1};
    for (size_t k = 0; k < 3; k++) {
        ck_assert_uint_eq(ac_dtype_bytes(four[k], 0), 0);
        ck_assert_uint_eq(ac_dtype_bytes(four[k], 1), 1);
        ck_assert_uint_eq(ac_dtype_bytes(four[k], 2), 1);
        ck_assert_uint_eq(ac_dtype_bytes(four[k], 3), 2);
        ck_assert_uint_eq(ac_dtype_bytes(four[k], 1001), 501);
    }
    ck_assert_uint_eq(ac_dtype_bytes(AC_DTYPE_F32, 3), 12);
    ck_assert_uint_eq(ac_dtype_bytes(AC_DTYPE_C128, 2), 32);
    ck_assert_uint_eq(ac_dtype_bytes(AC_DTYPE_BOOL, 5), 5);
    ck_assert_uint_eq(ac_dtype_bytes(AC_DTYPE_F8E5M2, 7), 7);
    ck_assert_uint_eq(ac_dtype_bytes(AC_DTYPE_STRING, 4), 0);
    ck_assert_uint_eq(ac_dtype_bytes(AC_DTYPE_UNDEFINED, 4), 0);
    ck_assert_uint_eq(ac_dtype_bytes(AC_DTYPE_F32, -1), 0);
    ck_assert_uint_eq(ac_dtype_bytes((ac_dtype)99, 4), 0);
    ck_assert_str_eq(ac_dtype_name(AC_DTYPE_S4), "int4");
    ck_assert_str_eq(ac_dtype_name(AC_DTYPE_F4E2M1), "float4e2m1");
    ck_assert_str_eq(ac_dtype_name((ac_dtype)-1), "undefined");
    ck_assert_str_eq(ac_dtype_name(AC_DTYPE_COUNT), "undefined");
    for (int t = 0; t < AC_DTYPE_COUNT; t++) ck_assert_ptr_nonnull(ac_dtype_name((ac_dtype)t));
}
END_TEST

/* ---- attributes ----------------------------------------------------------------------------- */

START_TEST(attribute_setters_and_getters) {
    ac_diag d = {0};
    ac_graph *g = new_graph();
    ac_node *n = node1(g, "Conv", "conv", val(g, "x"), val(g, "y"));
    ck_assert_ptr_null(ac_node_attr(n, "group"));
    ck_assert_int_eq(ac_node_attr_int(n, "group", 1), 1);
    ck_assert_int_eq(ac_node_set_attr_int(n, "group", 32, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_float(n, "alpha", 0.25f, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_string(n, "auto_pad", "SAME_UPPER", &d), AC_OK);
    int64_t pads[4] = {1, 2, 3, 4};
    ck_assert_int_eq(ac_node_set_attr_ints(n, "pads", 4, pads, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_ints(n, "empty", 0, NULL, &d), AC_OK);
    ck_assert_int_eq(n->n_attrs, 5);

    ck_assert_int_eq(ac_node_attr_int(n, "group", 1), 32);
    ck_assert(ac_node_attr_float(n, "alpha", 9.0f) == 0.25f);
    ck_assert_str_eq(ac_node_attr_string(n, "auto_pad", "NOTSET"), "SAME_UPPER");
    const ac_attr *a = ac_node_attr(n, "auto_pad");
    ck_assert_uint_eq(a->s_len, 10);
    ck_assert_int_eq(a->type, AC_ATTR_STRING);
    a = ac_node_attr(n, "pads");
    ck_assert_int_eq(a->type, AC_ATTR_INTS);
    ck_assert_int_eq(a->n, 4);
    ck_assert_int_eq(a->ints[3], 4);
    pads[3] = 99; /* copied, not borrowed */
    ck_assert_int_eq(a->ints[3], 4);
    ck_assert_int_eq(ac_node_attr(n, "empty")->n, 0);
    /* a getter of the wrong type gives the default rather than reinterpreting */
    ck_assert_int_eq(ac_node_attr_int(n, "alpha", -5), -5);
    ck_assert(ac_node_attr_float(n, "group", 1.5f) == 1.5f);
    ck_assert_str_eq(ac_node_attr_string(n, "group", "dflt"), "dflt");
    ck_assert_ptr_null(ac_node_attr_string(n, "missing", NULL));

    /* setting again replaces in place, also across types */
    ck_assert_int_eq(ac_node_set_attr_int(n, "group", 4, &d), AC_OK);
    ck_assert_int_eq(n->n_attrs, 5);
    ck_assert_int_eq(ac_node_attr_int(n, "group", 1), 4);
    ck_assert_str_eq(n->attrs[0].name, "group"); /* position kept */
    ck_assert_int_eq(ac_node_set_attr_float(n, "group", 2.0f, &d), AC_OK);
    ck_assert_int_eq(n->n_attrs, 5);
    ck_assert_int_eq(ac_node_attr_int(n, "group", 7), 7);
    ck_assert(ac_node_attr_float(n, "group", 0.0f) == 2.0f);

    /* generic form: the caller fills the arrays from the graph arena */
    ac_attr *fa;
    ck_assert_int_eq(ac_node_add_attr(n, "scales", AC_ATTR_FLOATS, &fa, &d), AC_OK);
    ck_assert_int_eq(fa->type, AC_ATTR_FLOATS);
    ck_assert_int_eq(fa->n, 0);
    fa->floats = ac_graph_alloc(g, 2 * sizeof(float));
    fa->floats[0] = 0.5f;
    fa->floats[1] = 2.0f;
    fa->n = 2;
    ck_assert_int_eq(n->n_attrs, 6);
    a = ac_node_attr(n, "scales");
    ck_assert(a->floats[1] == 2.0f);
    /* earlier attributes survive the array being reallocated */
    ck_assert_str_eq(ac_node_attr_string(n, "auto_pad", ""), "SAME_UPPER");

    ck_assert_str_eq(ac_attr_type_name(AC_ATTR_GRAPHS), "graphs");
    ck_assert_str_eq(ac_attr_type_name(AC_ATTR_TYPE_PROTOS), "type_protos");
    ck_assert_str_eq(ac_attr_type_name(AC_ATTR_TYPE_COUNT), "unknown");
    ac_graph_free(g);
}
END_TEST

/* ---- removal -------------------------------------------------------------------------------- */

START_TEST(remove_node_detaches_outputs) {
    ac_diag d = {0};
    ac_graph *g = new_graph();
    ac_value *x = val(g, "x"), *a = val(g, "a"), *b = val(g, "b"), *c = val(g, "c");
    ac_node *n0 = node1(g, "Relu", "n0", x, a);
    ac_node *n1 = node1(g, "Identity", "n1", a, b);
    ac_node *n2 = node1(g, "Neg", "n2", b, c);
    ac_graph_remove_node(g, n1);
    ck_assert_int_eq(g->n_nodes, 2);
    ck_assert_ptr_eq(g->nodes[0], n0);
    ck_assert_ptr_eq(g->nodes[1], n2);
    ck_assert_int_eq(n2->index, 1);
    ck_assert_ptr_null(b->producer);
    ck_assert_ptr_eq(a->producer, n0);
    ck_assert_int_eq(ac_value_use_count(g, a), 0);
    /* the usual rewrite: bypass, then the freed output may get a new producer */
    ck_assert_int_eq(ac_node_set_input(n2, 0, a, &d), AC_OK);
    ck_assert_int_eq(ac_value_use_count(g, a), 1);
    ac_node *n3 = node1(g, "Abs", "n3", x, b);
    ck_assert_ptr_eq(b->producer, n3);
    ck_assert_int_eq(ac_graph_sort(g, &d), AC_OK);
    check_topological(g);
    /* removing a node that is not in the graph changes nothing in the list */
    ac_graph_remove_node(g, n1);
    ck_assert_int_eq(g->n_nodes, 3);
    ck_assert_ptr_eq(b->producer, n3);
    ac_graph_remove_node(g, n0);
    ac_graph_remove_node(g, n2);
    ac_graph_remove_node(g, n3);
    ck_assert_int_eq(g->n_nodes, 0);
    ck_assert_int_eq(ac_graph_sort(g, &d), AC_OK); /* empty graph sorts */
    ac_graph_free(g);
}
END_TEST

START_TEST(free_null_and_empty) {
    ac_graph_free(NULL);
    ac_graph *g = new_graph();
    ac_diag d = {0};
    ck_assert_int_eq(ac_graph_sort(g, &d), AC_OK);
    ck_assert_int_eq(ac_graph_captures(g, NULL, 0), 0);
    void *block = ac_malloc(100);
    ck_assert_int_eq(ac_graph_adopt(g, block, &d), AC_OK); /* freed with the graph */
    ck_assert_int_eq(ac_graph_adopt(g, NULL, &d), AC_OK);
    ck_assert_str_eq(ac_graph_strdup(g, NULL), "");
    ac_graph_free(g);
}
END_TEST

Suite *ac_test_graph_ir_suite(void) {
    Suite *s = suite_create("graph_ir");
    TCase *c = tcase_create("build");
    tcase_add_test(c, build_small_graph);
    tcase_add_test(c, tensor_shapes_checked);
    tcase_add_test(c, lookup_through_enclosing_scopes);
    tcase_add_test(c, duplicate_names_rejected);
    tcase_add_test(c, free_null_and_empty);
    suite_add_tcase(s, c);
    c = tcase_create("sort");
    tcase_add_test(c, sort_keeps_sorted_order);
    tcase_add_test(c, sort_reversed_order);
    tcase_add_test(c, sort_long_reversed_chain);
    tcase_add_test(c, cycle_is_reported_with_its_nodes);
    tcase_add_test(c, cycle_in_subgraph_is_reported);
    tcase_add_test(c, subgraph_captures_and_order);
    tcase_add_test(c, use_count_counts_each_slot);
    suite_add_tcase(s, c);
    c = tcase_create("helpers");
    tcase_add_test(c, dims_numel_checks);
    tcase_add_test(c, dtype_sizes);
    tcase_add_test(c, attribute_setters_and_getters);
    tcase_add_test(c, remove_node_detaches_outputs);
    suite_add_tcase(s, c);
    return s;
}
