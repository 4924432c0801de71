/* SPDX-License-Identifier: MIT */
/* make_big_model OUT.onnx [MEGABYTES]: writes a synthetic float model of about MEGABYTES
 * (default 100) for memory tests: a chain of Gemm(+bias) and Relu nodes on a [N, 1024] input,
 * each Gemm holding a 4 MiB weight initializer. Built with the ac_graph API and saved with
 * ac_model_save, so it also exercises the writer on a large model. */
#include "autocompress/ac_model.h"

#include <stdio.h>
#include <stdlib.h>

#define WIDTH 1024

static void fill_weights(ac_tensor *t, uint64_t *state) {
    /* deterministic non-trivial values (xorshift), so the file has the entropy of real weights */
    float *w = t->data;
    for (int64_t i = 0; i < t->numel; i++) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        uint64_t r = *state * 2685821657736338717ull;
        w[i] = (float)((double)(r >> 40) / 16777216.0 - 0.5) * 0.05f;
    }
}

static ac_status build(ac_model *m, int layers, ac_diag *d) {
    ac_graph *g = ac_model_graph(m);
    ac_value *x;
    int64_t in_dims[2] = {-1, WIDTH};
    const char *in_params[2] = {"N", NULL};
    AC_TRY(ac_graph_new_value(g, "x", &x, d));
    AC_TRY(ac_value_set_type(x, AC_DTYPE_F32, 2, in_dims, in_params, d));
    AC_TRY(ac_graph_add_input(g, x, d));
    uint64_t state = 88172645463325252ull;
    ac_value *cur = x;
    char name[64];
    for (int k = 0; k < layers; k++) {
        int64_t wdims[2] = {WIDTH, WIDTH}, bdims[1] = {WIDTH};
        ac_tensor *wt, *bt;
        ac_value *w, *b, *y, *r;
        ac_node *n;
        snprintf(name, sizeof name, "fc%d.weight", k);
        AC_TRY(ac_graph_new_tensor(g, name, AC_DTYPE_F32, 2, wdims, &wt, d));
        fill_weights(wt, &state);
        AC_TRY(ac_graph_new_value(g, name, &w, d));
        AC_TRY(ac_graph_set_initializer(g, w, wt, d));
        snprintf(name, sizeof name, "fc%d.bias", k);
        AC_TRY(ac_graph_new_tensor(g, name, AC_DTYPE_F32, 1, bdims, &bt, d));
        fill_weights(bt, &state);
        AC_TRY(ac_graph_new_value(g, name, &b, d));
        AC_TRY(ac_graph_set_initializer(g, b, bt, d));
        snprintf(name, sizeof name, "fc%d", k);
        AC_TRY(ac_graph_new_value(g, name, &y, d));
        ac_value *ins[3] = {cur, w, b};
        AC_TRY(ac_graph_add_node(g, "Gemm", "", name, 3, ins, 1, &y, &n, d));
        AC_TRY(ac_node_set_attr_int(n, "transB", 1, d));
        snprintf(name, sizeof name, "relu%d", k);
        AC_TRY(ac_graph_new_value(g, name, &r, d));
        AC_TRY(ac_graph_add_node(g, "Relu", "", name, 1, &y, 1, &r, &n, d));
        cur = r;
    }
    int64_t out_dims[2] = {-1, WIDTH};
    const char *out_params[2] = {"N", NULL};
    AC_TRY(ac_value_set_type(cur, AC_DTYPE_F32, 2, out_dims, out_params, d));
    AC_TRY(ac_graph_add_output(g, cur, d));
    AC_TRY(ac_model_set_producer(m, "make_big_model", AC_VERSION_STRING, d));
    return ac_graph_sort(g, d);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: make_big_model OUT.onnx [MEGABYTES]\n");
        return 2;
    }
    long mb = argc == 3 ? strtol(argv[2], NULL, 10) : 100;
    if (mb < 1 || mb > 1900) {
        fprintf(stderr, "make_big_model: MEGABYTES must be 1..1900\n");
        return 2;
    }
    /* one layer is a 4 MiB weight plus a 4 KiB bias */
    int layers = (int)((mb * 1000000 + (4l << 20) - 1) / ((4l << 20) + 4096));
    ac_diag d = {0};
    ac_model *m = NULL;
    ac_status s = ac_model_new(13, &m, &d);
    if (s == AC_OK) s = build(m, layers, &d);
    if (s == AC_OK) s = ac_model_save(m, argv[1], &d);
    ac_model_free(m);
    if (s != AC_OK) {
        char line[900];
        fprintf(stderr, "make_big_model: %s\n", ac_diag_line(&d, line, sizeof line));
        return 1;
    }
    return 0;
}
