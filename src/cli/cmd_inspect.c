/* SPDX-License-Identifier: MIT */
/* autocompress inspect MODEL [--json]: what is in a model and what the engine cannot run. */
#include "cli.h"

#include "autocompress/ac_model.h"
#include "autocompress/ac_runtime.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct op_count {
    const char *op; /* "Conv" or "com.microsoft::QGemm" (arena string) */
    int64_t count, unsupported;
} op_count;

typedef struct summary {
    op_count *ops;
    int64_t n_ops, cap_ops;
    int64_t nodes, initializers, params, param_bytes;
    json_t *unsupported; /* [{"node":..,"op":..,"graph":..}] */
    int64_t n_unsupported;
} summary;

static op_count *count_op(summary *s, ac_graph *root, const ac_node *n) {
    char key[300];
    if (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        snprintf(key, sizeof key, "%s::%s", n->domain, n->op_type);
    else
        snprintf(key, sizeof key, "%s", n->op_type);
    for (int64_t i = 0; i < s->n_ops; i++)
        if (!strcmp(s->ops[i].op, key)) return &s->ops[i];
    if (s->n_ops == s->cap_ops) {
        int64_t nc = s->cap_ops ? s->cap_ops * 2 : 32;
        op_count *p = ac_realloc(s->ops, (size_t)nc * sizeof *p);
        if (!p) return NULL;
        s->ops = p;
        s->cap_ops = nc;
    }
    op_count *c = &s->ops[s->n_ops++];
    c->op = ac_graph_strdup(root, key);
    c->count = c->unsupported = 0;
    return c->op ? c : NULL;
}

static void add_tensor(summary *s, const ac_tensor *t) {
    if (!t) return;
    s->params += t->numel;
    s->param_bytes += (int64_t)t->nbytes;
}

static int walk(summary *s, ac_graph *root, const ac_graph *g, int64_t opset) {
    s->initializers += g->n_inits;
    for (int64_t i = 0; i < g->n_inits; i++) add_tensor(s, g->inits[i]->init);
    for (int64_t i = 0; i < g->n_nodes; i++) {
        const ac_node *n = g->nodes[i];
        s->nodes++;
        op_count *c = count_op(s, root, n);
        if (!c) return -1;
        c->count++;
        /* real exports keep weights in Constant nodes: they are parameters too */
        if (!strcmp(n->op_type, "Constant") && !n->domain[0]) {
            const ac_attr *v = ac_node_attr(n, "value");
            if (!v) v = ac_node_attr(n, "sparse_value");
            if (v && v->t) add_tensor(s, v->t);
        }
        if (!ac_runtime_supports(n->domain, n->op_type, opset)) {
            c->unsupported++;
            s->n_unsupported++;
            json_t *o = json_pack("{s:s,s:s,s:s}", "node", n->name, "op", c->op, "graph",
                                  g->name);
            if (!o || json_array_append_new(s->unsupported, o)) return -1;
        }
        for (int32_t a = 0; a < n->n_attrs; a++) {
            const ac_attr *at = &n->attrs[a];
            if (at->type == AC_ATTR_GRAPH && at->g && walk(s, root, at->g, opset)) return -1;
            if (at->type == AC_ATTR_GRAPHS)
                for (int64_t j = 0; j < at->n; j++)
                    if (walk(s, root, at->graphs[j], opset)) return -1;
        }
    }
    return 0;
}

static int cmp_ops(const void *a, const void *b) {
    const op_count *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->op, y->op);
}

static json_t *shape_json(const ac_value *v) {
    if (v->rank < 0) return json_null();
    json_t *arr = json_array();
    for (int32_t i = 0; i < v->rank; i++) {
        if (v->dims[i] >= 0)
            json_array_append_new(arr, json_integer(v->dims[i]));
        else if (v->dim_params && v->dim_params[i])
            json_array_append_new(arr, json_string(v->dim_params[i]));
        else
            json_array_append_new(arr, json_null());
    }
    return arr;
}

static void shape_text(const ac_value *v, char *buf, size_t n) {
    if (v->rank < 0) {
        snprintf(buf, n, "[?]");
        return;
    }
    size_t len = (size_t)snprintf(buf, n, "[");
    for (int32_t i = 0; i < v->rank && len < n; i++) {
        const char *sep = i ? "," : "";
        if (v->dims[i] >= 0)
            len += (size_t)snprintf(buf + len, n - len, "%s%lld", sep, (long long)v->dims[i]);
        else if (v->dim_params && v->dim_params[i])
            len += (size_t)snprintf(buf + len, n - len, "%s%s", sep, v->dim_params[i]);
        else
            len += (size_t)snprintf(buf + len, n - len, "%s?", sep);
    }
    if (len < n) snprintf(buf + len, n - len, "]");
}

static json_t *io_json(ac_value *const *vals, int64_t n) {
    json_t *arr = json_array();
    for (int64_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "name", vals[i]->name, "dtype",
                                             ac_dtype_name(vals[i]->dtype), "shape",
                                             shape_json(vals[i])));
    return arr;
}

static void print_io(const char *title, ac_value *const *vals, int64_t n) {
    printf("%s:\n", title);
    for (int64_t i = 0; i < n; i++) {
        char shp[256];
        shape_text(vals[i], shp, sizeof shp);
        printf("  %-24s %-8s %s\n", vals[i]->name, ac_dtype_name(vals[i]->dtype), shp);
    }
}

static int print_json(const char *path, const ac_model *m, const ac_graph *g, summary *s) {
    json_t *root = json_object();
    json_object_set_new(root, "model", json_string(path));
    json_object_set_new(root, "ir_version", json_integer(ac_model_ir_version(m)));
    json_object_set_new(root, "producer", json_pack("{s:s,s:s}", "name",
                                                    ac_model_producer_name(m), "version",
                                                    ac_model_producer_version(m)));
    json_t *ops = json_object();
    for (int32_t i = 0; i < ac_model_opset_count(m); i++) {
        ac_opset o = ac_model_opset_at(m, i);
        json_object_set_new(ops, o.domain[0] ? o.domain : "ai.onnx", json_integer(o.version));
    }
    json_object_set_new(root, "opsets", ops);
    json_object_set_new(root, "inputs", io_json(g->inputs, g->n_inputs));
    json_object_set_new(root, "outputs", io_json(g->outputs, g->n_outputs));
    json_object_set_new(root, "nodes", json_integer(s->nodes));
    json_object_set_new(root, "initializers", json_integer(s->initializers));
    json_object_set_new(root, "parameters", json_integer(s->params));
    json_object_set_new(root, "parameter_bytes", json_integer(s->param_bytes));
    json_t *hist = json_object();
    for (int64_t i = 0; i < s->n_ops; i++)
        json_object_set_new(hist, s->ops[i].op, json_integer(s->ops[i].count));
    json_object_set_new(root, "op_types", hist);
    json_object_set(root, "unsupported", s->unsupported);
    char *text = json_dumps(root, JSON_INDENT(0) | JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text) {
        fprintf(stderr, "autocompress: out of memory\n");
        return AC_EXIT_FAILURE;
    }
    puts(text);
    free(text);
    return AC_EXIT_OK;
}

static void print_text(const char *path, const ac_model *m, const ac_graph *g, summary *s) {
    printf("model:        %s\n", path);
    printf("ir_version:   %lld\n", (long long)ac_model_ir_version(m));
    printf("producer:     %s %s\n", ac_model_producer_name(m), ac_model_producer_version(m));
    printf("opsets:      ");
    for (int32_t i = 0; i < ac_model_opset_count(m); i++) {
        ac_opset o = ac_model_opset_at(m, i);
        printf(" %s v%lld", o.domain[0] ? o.domain : "ai.onnx", (long long)o.version);
    }
    printf("\n");
    print_io("inputs", g->inputs, g->n_inputs);
    print_io("outputs", g->outputs, g->n_outputs);
    printf("nodes:        %lld\n", (long long)s->nodes);
    printf("initializers: %lld\n", (long long)s->initializers);
    printf("parameters:   %lld (%.2f MiB)\n", (long long)s->params,
           (double)s->param_bytes / (1024.0 * 1024.0));
    printf("op types:\n");
    for (int64_t i = 0; i < s->n_ops; i++)
        printf("  %-28s %6lld%s\n", s->ops[i].op, (long long)s->ops[i].count,
               s->ops[i].unsupported ? "  (engine cannot run yet)" : "");
    if (s->n_unsupported)
        printf("engine cannot run yet: %lld of %lld nodes\n", (long long)s->n_unsupported,
               (long long)s->nodes);
    else
        printf("engine can run every node\n");
}

int ac_cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            as_json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: autocompress inspect MODEL [--json]\n"
                   "Prints opsets, inputs/outputs with shapes, the op-type histogram, parameter\n"
                   "count and bytes, and the nodes the engine cannot run yet. --json prints one\n"
                   "JSON object instead.\n");
            return AC_EXIT_OK;
        } else if (argv[i][0] == '-')
            return ac_cli_usage_error("inspect", "unknown option '%s'", argv[i]);
        else if (!path)
            path = argv[i];
        else
            return ac_cli_usage_error("inspect", "more than one model given");
    }
    if (!path) return ac_cli_usage_error("inspect", "no model given");

    ac_diag d = {0};
    ac_model *m = NULL;
    if (ac_model_load(path, NULL, &m, &d) != AC_OK) return ac_cli_report(&d);
    ac_graph *g = ac_model_graph(m);
    summary s = {0};
    s.unsupported = json_array();
    int rc = AC_EXIT_OK;
    if (!s.unsupported || walk(&s, g, g, ac_model_opset(m, ""))) {
        fprintf(stderr, "autocompress: out of memory\n");
        rc = AC_EXIT_FAILURE;
    } else {
        qsort(s.ops, (size_t)s.n_ops, sizeof *s.ops, cmp_ops);
        if (as_json)
            rc = print_json(path, m, g, &s);
        else
            print_text(path, m, g, &s);
    }
    json_decref(s.unsupported);
    ac_free(s.ops);
    ac_model_free(m);
    return rc;
}
