/* SPDX-License-Identifier: MIT */
/* conv_bench: times single-Conv sessions on ResNet-50 and MobileNetV2 layer shapes (batch 1).
 * Usage: conv_bench [threads [isa [reps [cold]]]]; prints ms per run (best of reps) and GFLOP/s
 * per shape and the FLOP-weighted total. With cold = 1, 64 MiB are written between runs so
 * weights and activations come from memory, as inside a whole model. Developer tool; not part
 * of the test suite. */
#define _POSIX_C_SOURCE 200809L
#include "autocompress/ac_graph.h"
#include "autocompress/ac_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct shape {
    const char *name;
    int64_t c, m, hw, k, s, group;
    int relu;
} shape;

static const shape shapes[] = {
    {"r50 stem 7x7s2 3->64 224", 3, 64, 224, 7, 2, 1, 1},
    {"r50 1x1 64->64 56", 64, 64, 56, 1, 1, 1, 1},
    {"r50 3x3 64->64 56", 64, 64, 56, 3, 1, 1, 1},
    {"r50 1x1 64->256 56", 64, 256, 56, 1, 1, 1, 0},
    {"r50 1x1 256->64 56", 256, 64, 56, 1, 1, 1, 1},
    {"r50 3x3s2 128->128 56", 128, 128, 56, 3, 2, 1, 1},
    {"r50 3x3 128->128 28", 128, 128, 28, 3, 1, 1, 1},
    {"r50 1x1 512->128 28", 512, 128, 28, 1, 1, 1, 1},
    {"r50 3x3 256->256 14", 256, 256, 14, 3, 1, 1, 1},
    {"r50 1x1 1024->256 14", 1024, 256, 14, 1, 1, 1, 1},
    {"r50 1x1 256->1024 14", 256, 1024, 14, 1, 1, 1, 0},
    {"r50 3x3 512->512 7", 512, 512, 7, 3, 1, 1, 1},
    {"r50 1x1 512->2048 7", 512, 2048, 7, 1, 1, 1, 0},
    {"r50 1x1s2 1024->2048 14", 1024, 2048, 14, 1, 2, 1, 0},
    {"mv2 dw3x3 32 112", 32, 32, 112, 3, 1, 32, 1},
    {"mv2 dw3x3s2 96 112", 96, 96, 112, 3, 2, 96, 1},
    {"mv2 dw3x3 144 56", 144, 144, 56, 3, 1, 144, 1},
    {"mv2 dw3x3 576 14", 576, 576, 14, 3, 1, 576, 1},
    {"mv2 dw3x3 960 7", 960, 960, 7, 3, 1, 960, 1},
    {"mv2 1x1 144->24 56", 144, 24, 56, 1, 1, 1, 0},
    {"mv2 1x1 24->144 56", 24, 144, 56, 1, 1, 1, 1},
    {"mv2 1x1 960->160 7", 960, 160, 7, 1, 1, 1, 0},
    {"mv2 1x1 160->960 7", 160, 960, 7, 1, 1, 1, 1},
    {"mv2 1x1 320->1280 7", 320, 1280, 7, 1, 1, 1, 1},
    {"mv2 1x1 576->96 14", 576, 96, 14, 1, 1, 1, 0},
    {"mv2 1x1 96->576 14", 96, 576, 14, 1, 1, 1, 1},
    {"mv2 1x1 16->96 112", 16, 96, 112, 1, 1, 1, 1},
    {"mv2 stem 3x3s2 3->32 224", 3, 32, 224, 3, 2, 1, 1},
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) != AC_OK) {                                                                        \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, d.msg);                             \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    ac_isa isa = AC_ISA_AUTO;
    ac_diag d = {0};
    if (argc > 2) CHECK(ac_isa_parse(argv[2], &isa, &d));
    int reps = argc > 3 ? atoi(argv[3]) : 20;
    int cold = argc > 4 && atoi(argv[4]) != 0;
    size_t flush_n = (size_t)64 << 20;
    unsigned char *flush = cold ? malloc(flush_n) : NULL;
    double tot_flop = 0, tot_s = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        ac_graph *g;
        CHECK(ac_graph_new("b", &g, &d));
        ac_value *x, *w, *b, *y, *r;
        int64_t xd[4] = {1, s->c, s->hw, s->hw}, wd[4] = {s->m, s->c / s->group, s->k, s->k},
                bd[1] = {s->m};
        CHECK(ac_graph_new_value(g, "x", &x, &d));
        CHECK(ac_value_set_type(x, AC_DTYPE_F32, 4, xd, NULL, &d));
        CHECK(ac_graph_add_input(g, x, &d));
        ac_tensor *wt, *bt;
        CHECK(ac_graph_new_value(g, "w", &w, &d));
        CHECK(ac_graph_new_tensor(g, "w", AC_DTYPE_F32, 4, wd, &wt, &d));
        for (int64_t j = 0; j < wt->numel; j++) ((float *)wt->data)[j] = (float)(j % 7) * 0.01f;
        CHECK(ac_graph_set_initializer(g, w, wt, &d));
        CHECK(ac_graph_new_value(g, "b", &b, &d));
        CHECK(ac_graph_new_tensor(g, "b", AC_DTYPE_F32, 1, bd, &bt, &d));
        CHECK(ac_graph_set_initializer(g, b, bt, &d));
        CHECK(ac_graph_new_value(g, "y", &y, &d));
        CHECK(ac_graph_new_value(g, "r", &r, &d));
        ac_node *n;
        ac_value *ins[3] = {x, w, b};
        CHECK(ac_graph_add_node(g, "Conv", "", "conv", 3, ins, 1, &y, &n, &d));
        int64_t st[2] = {s->s, s->s}, p = s->k / 2, pads[4] = {p, p, p, p};
        CHECK(ac_node_set_attr_ints(n, "strides", 2, st, &d));
        CHECK(ac_node_set_attr_ints(n, "pads", 4, pads, &d));
        if (s->group > 1) CHECK(ac_node_set_attr_int(n, "group", s->group, &d));
        ac_value *out = y;
        if (s->relu) {
            CHECK(ac_graph_add_node(g, "Relu", "", "relu", 1, &y, 1, &r, &n, &d));
            out = r;
        }
        CHECK(ac_graph_add_output(g, out, &d));
        ac_session *ses;
        ac_session_opts o = {.threads = threads, .isa = isa};
        CHECK(ac_session_new(g, 13, &o, &ses, &d));
        int64_t nx = s->c * s->hw * s->hw;
        float *xv = malloc((size_t)nx * sizeof *xv);
        for (int64_t j = 0; j < nx; j++) xv[j] = (float)(j % 13) * 0.1f - 0.6f;
        ac_tensor in = {.dtype = AC_DTYPE_F32, .rank = 4, .dims = xd, .data = xv, .numel = nx,
                        .nbytes = (size_t)nx * sizeof(float)};
        const ac_tensor *outs;
        int32_t n_out;
        CHECK(ac_session_run(ses, 1, &in, &outs, &n_out, &d)); /* plan + warm-up */
        double best = 1e9;
        for (int rep = 0; rep < reps; rep++) {
            if (flush) memset(flush, rep & 0xff, flush_n);
            double t0 = now();
            CHECK(ac_session_run(ses, 1, &in, &outs, &n_out, &d));
            double t = now() - t0;
            if (t < best) best = t;
        }
        int64_t oh = (s->hw + 2 * p - s->k) / s->s + 1;
        double flop = 2.0 * (double)s->m * oh * oh * (double)(s->c / s->group) * s->k * s->k;
        printf("%-28s %8.3f ms %7.1f GFLOP/s\n", s->name, best * 1e3, flop / best * 1e-9);
        tot_flop += flop;
        tot_s += best;
        ac_session_free(ses);
        ac_graph_free(g);
        free(xv);
    }
    printf("%-28s %8.3f ms %7.1f GFLOP/s (threads %d, isa %s)\n", "total", tot_s * 1e3,
           tot_flop / tot_s * 1e-9, threads, ac_isa_name(isa));
    free(flush);
    return 0;
}
