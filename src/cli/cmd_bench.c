/* SPDX-License-Identifier: MIT */
/* autocompress bench MODEL [--threads N] [--batch N] [--shape AxBxC..] [--iters N]
 *                          [--warmup N] [--isa LEVEL] [--json] [--profile]
 * Times whole-model runs on deterministic inputs; median and min ms. With --profile, also the
 * time per planned node (fused groups shown as "Conv+Relu"), sorted by cost. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "autocompress/ac_model.h"
#include "autocompress/ac_session.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char bench_usage[] =
    "usage: autocompress bench MODEL [--threads N] [--batch N] [--shape 1x3x224x224]\n"
    "                          [--iters N] [--warmup N] [--isa ref|blas|avx2|avx512]\n"
    "                          [--json] [--profile]\n"
    "Runs MODEL on deterministic inputs and prints the median and minimum ms per run.\n"
    "Symbolic input dims take --batch on axis 0; --shape sets the first input's shape.\n"
    "--json prints one object with median_ms and min_ms; --profile adds time per node.\n";

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int parse_count(const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_shape(const char *s, int64_t *dims, int32_t *rank) {
    int32_t r = 0;
    while (*s && r < AC_MAX_RANK) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 0) return -1;
        dims[r++] = v;
        s = end;
        if (*s == 'x') s++;
        else if (*s) return -1;
    }
    *rank = r;
    return *s ? -1 : 0;
}

/* Fills a deterministic input: a smooth pattern in [-1, 1] (as ort_run.js bench does). */
static void fill_input(ac_tensor *t) {
    if (t->dtype == AC_DTYPE_F32) {
        float *p = t->data;
        for (int64_t i = 0; i < t->numel; i++) p[i] = (float)__builtin_sin((double)i * 0.37);
    } else {
        memset(t->data, 0, t->nbytes);
    }
}

static int cmp_profile(const void *a, const void *b) {
    const ac_node_profile *x = a, *y = b;
    return x->ms < y->ms ? 1 : x->ms > y->ms ? -1 : 0;
}

int ac_cmd_bench(int argc, char **argv) {
    const char *model = NULL;
    long threads = 0, batch = 1, iters = 20, warmup = 3;
    int as_json = 0, profile = 0;
    int64_t shape[AC_MAX_RANK];
    int32_t shape_rank = -1;
    ac_session_opts so = {0};
    ac_diag d = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(bench_usage, stdout);
            return AC_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            as_json = 1;
        } else if (!strcmp(a, "--profile")) {
            profile = 1;
        } else if (!strcmp(a, "--threads") && v) {
            if (parse_count(v, 1, 1024, &threads)) return ac_cli_usage_error("bench", "bad --threads");
            i++;
        } else if (!strcmp(a, "--batch") && v) {
            if (parse_count(v, 1, 1 << 20, &batch)) return ac_cli_usage_error("bench", "bad --batch");
            i++;
        } else if (!strcmp(a, "--iters") && v) {
            if (parse_count(v, 1, 1000000, &iters)) return ac_cli_usage_error("bench", "bad --iters");
            i++;
        } else if (!strcmp(a, "--warmup") && v) {
            if (parse_count(v, 0, 1000000, &warmup))
                return ac_cli_usage_error("bench", "bad --warmup");
            i++;
        } else if (!strcmp(a, "--shape") && v) {
            if (parse_shape(v, shape, &shape_rank))
                return ac_cli_usage_error("bench", "bad --shape '%s' (use 1x3x224x224)", v);
            i++;
        } else if (!strcmp(a, "--isa") && v) {
            if (ac_isa_parse(v, &so.isa, &d) != AC_OK) return ac_cli_report(&d);
            i++;
        } else if (a[0] == '-') {
            return ac_cli_usage_error("bench", "unknown or incomplete option '%s'", a);
        } else if (!model) {
            model = a;
        } else {
            return ac_cli_usage_error("bench", "more than one model given");
        }
    }
    if (!model) return ac_cli_usage_error("bench", "no model given");
    so.threads = (int32_t)threads;
    so.profile = profile;

    ac_model *m = NULL;
    ac_session *s = NULL;
    if (ac_model_load(model, NULL, &m, &d) != AC_OK) return ac_cli_report(&d);
    ac_graph *g = ac_model_graph(m);
    int rc = AC_EXIT_OK;
    int32_t n_in = 0;
    ac_tensor *in = ac_calloc((size_t)g->n_inputs + 1, sizeof *in);
    int64_t *dims = ac_calloc((size_t)(g->n_inputs + 1) * AC_MAX_RANK, sizeof *dims);
    double *times = ac_calloc((size_t)iters, sizeof *times);
    if (!in || !dims || !times) {
        AC_FAIL(&d, AC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int64_t i = 0; i < g->n_inputs; i++) {
        const ac_value *v = g->inputs[i];
        if (v->flags & AC_VALUE_INITIALIZER) continue; /* has a default */
        ac_tensor *t = &in[n_in];
        t->name = v->name;
        t->dtype = v->dtype;
        t->dims = dims + (size_t)n_in * AC_MAX_RANK;
        if (n_in == 0 && shape_rank >= 0) {
            t->rank = shape_rank;
            memcpy(t->dims, shape, (size_t)shape_rank * sizeof *shape);
        } else {
            if (v->rank < 0 || v->rank > AC_MAX_RANK) {
                AC_FAIL(&d, AC_ERR_ARG, "input \"%s\" has no known rank: give --shape", v->name);
                goto fail;
            }
            t->rank = v->rank;
            for (int32_t k = 0; k < v->rank; k++) {
                t->dims[k] = v->dims[k] >= 0 ? v->dims[k] : (k == 0 ? batch : -1);
                if (t->dims[k] < 0) {
                    AC_FAIL(&d, AC_ERR_ARG, "input \"%s\" axis %d is symbolic: give --shape",
                            v->name, (int)k);
                    goto fail;
                }
            }
        }
        if (ac_dims_numel(t->dims, t->rank, &t->numel) != 0) {
            AC_FAIL(&d, AC_ERR_ARG, "bad shape for input \"%s\"", v->name);
            goto fail;
        }
        t->nbytes = ac_dtype_bytes(t->dtype, t->numel);
        t->data = ac_aligned_alloc(t->nbytes);
        if (!t->data) {
            AC_FAIL(&d, AC_ERR_NOMEM, "out of memory");
            goto fail;
        }
        fill_input(t);
        n_in++;
    }
    if (ac_session_new(g, ac_model_opset(m, ""), &so, &s, &d) != AC_OK) {
        ac_diag_prefix(&d, "%s", model);
        goto fail;
    }
    const ac_tensor *outs;
    int32_t n_out;
    for (long i = 0; i < warmup + iters; i++) {
        double t0 = now_ms();
        if (ac_session_run(s, n_in, in, &outs, &n_out, &d) != AC_OK) {
            ac_diag_prefix(&d, "%s", model);
            goto fail;
        }
        if (i >= warmup) times[i - warmup] = now_ms() - t0;
    }
    qsort(times, (size_t)iters, sizeof *times, cmp_double);
    double median = times[iters / 2], min = times[0];
    const ac_node_profile *prof = NULL;
    int32_t n_prof = profile ? ac_session_profile(s, &prof) : 0;
    ac_node_profile *sorted = NULL;
    if (n_prof) {
        sorted = ac_malloc((size_t)n_prof * sizeof *sorted);
        if (sorted) {
            memcpy(sorted, prof, (size_t)n_prof * sizeof *sorted);
            qsort(sorted, (size_t)n_prof, sizeof *sorted, cmp_profile);
        }
    }
    if (as_json) {
        json_t *o = json_pack("{s:s,s:i,s:i,s:f,s:f,s:i,s:s}", "model", model, "threads",
                              (int)(threads ? threads : ac_cpu_count()), "iters", (int)iters,
                              "median_ms", median, "min_ms", min, "activation_bytes",
                              (json_int_t)ac_session_activation_bytes(s), "isa",
                              ac_isa_name(so.isa == AC_ISA_AUTO ? ac_isa_detect() : so.isa));
        if (sorted) {
            json_t *arr = json_array();
            for (int32_t i = 0; i < n_prof; i++)
                json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:f}", "node", sorted[i].name,
                                                     "op", sorted[i].op_type, "kernel",
                                                     sorted[i].kernel, "ms",
                                                     sorted[i].ms / (double)sorted[i].runs));
            json_object_set_new(o, "profile", arr);
        }
        char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (txt) puts(txt);
        free(txt);
        json_decref(o);
    } else {
        printf("%s: median %.3f ms, min %.3f ms over %ld runs (%ld threads)\n", model, median,
               min, iters, threads ? threads : (long)ac_cpu_count());
        if (sorted) {
            double total = 0;
            for (int32_t i = 0; i < n_prof; i++) total += sorted[i].ms / (double)sorted[i].runs;
            printf("%-40s %-28s %-22s %9s %6s\n", "node", "op", "kernel", "ms", "%");
            for (int32_t i = 0; i < n_prof; i++) {
                double ms = sorted[i].ms / (double)sorted[i].runs;
                printf("%-40.40s %-28.28s %-22.22s %9.3f %5.1f%%\n", sorted[i].name,
                       sorted[i].op_type, sorted[i].kernel, ms, 100.0 * ms / total);
            }
        }
    }
    ac_free(sorted);
    goto done;
fail:
    rc = ac_cli_report(&d);
done:
    ac_session_free(s);
    for (int32_t i = 0; i < n_in; i++) ac_aligned_free(in[i].data);
    ac_free(in);
    ac_free(dims);
    ac_free(times);
    ac_model_free(m);
    return rc;
}
