/* SPDX-License-Identifier: MIT */
/* Sessions: own the thread pool and the current plan; re-plan when input shapes change. */
#define _POSIX_C_SOURCE 200809L
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ac_session {
    const ac_graph *g;
    int64_t opset;
    ac_session_opts opts;
    ac_isa isa;
    int32_t nthreads;
    ac_threadpool *pool;
    rt_plan *plan;
    /* shapes the plan was made for */
    int32_t n_sig;
    ac_tensor *sig;
    int64_t *sig_dims;
    void **sig_values; /* per input: copy of its data if the plan read it, else NULL */
    ac_tensor *outputs;
    ac_node_profile *profile;
    int32_t n_profile;
};

int ac_runtime_supports(const char *domain, const char *op_type, int64_t opset) {
    if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0) return 0;
    const rt_op *op = rt_find_op(op_type);
    return op && opset >= op->since && opset <= op->until;
}

void rt_parallel_for(const rt_ctx *x, int64_t n_tasks,
                     void (*fn)(void *user, int64_t task, int32_t thread), void *user) {
    ac_threadpool_run(x->pool, n_tasks, fn, user);
}

static ac_status check_supported(const ac_graph *g, int64_t opset, ac_diag *d) {
    for (int64_t i = 0; i < g->n_nodes; i++) {
        const ac_node *n = g->nodes[i];
        if (ac_runtime_supports(n->domain, n->op_type, opset)) continue;
        char lab[200];
        ac_diag_where(d, "%s", ac_node_label(n, lab, sizeof lab));
        const rt_op *op = rt_find_op(n->op_type);
        if (op && !(n->domain[0] && strcmp(n->domain, "ai.onnx")))
            return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                           "op %s is supported for opsets %d..%d, the model uses %lld",
                           n->op_type, (int)op->since, (int)op->until, (long long)opset);
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "op %s%s%s is not supported by the engine",
                       n->domain[0] ? n->domain : "", n->domain[0] ? "::" : "", n->op_type);
    }
    return AC_OK;
}

ac_status ac_session_new(const ac_graph *g, int64_t opset, const ac_session_opts *o,
                         ac_session **out, ac_diag *d) {
    *out = NULL;
    AC_TRY(check_supported(g, opset, d));
    ac_session *s = ac_calloc(1, sizeof *s);
    if (!s) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    s->g = g;
    s->opset = opset;
    if (o) s->opts = *o;
    s->isa = ac_isa_detect();
    ac_isa cap = s->opts.isa;
    if (cap == AC_ISA_AUTO) {
        const char *env = getenv("AC_ISA");
        if (env && env[0]) {
            ac_status st = ac_isa_parse(env, &cap, d);
            if (st != AC_OK) {
                ac_free(s);
                ac_diag_prefix(d, "AC_ISA");
                return st;
            }
        }
    }
    if (cap != AC_ISA_AUTO && cap < s->isa) s->isa = cap;
    s->nthreads = s->opts.threads > 0 ? s->opts.threads : ac_cpu_count();
    ac_status st = ac_threadpool_new(s->nthreads, &s->pool, d);
    if (st != AC_OK) {
        ac_free(s);
        return st;
    }
    *out = s;
    return AC_OK;
}

static void drop_plan(ac_session *s) {
    rt_plan_free(s->plan);
    s->plan = NULL;
    for (int32_t i = 0; s->sig_values && i < s->n_sig; i++) ac_free(s->sig_values[i]);
    ac_free(s->sig_values);
    s->sig_values = NULL;
    ac_free(s->sig);
    ac_free(s->sig_dims);
    ac_free(s->outputs);
    ac_free(s->profile);
    s->sig = NULL;
    s->sig_dims = NULL;
    s->outputs = NULL;
    s->profile = NULL;
    s->n_sig = 0;
    s->n_profile = 0;
}

void ac_session_free(ac_session *s) {
    if (!s) return;
    drop_plan(s);
    ac_threadpool_free(s->pool);
    ac_free(s);
}

/* Bytes of a caller's tensor, from its dtype and dims (callers need not fill nbytes). */
static size_t input_bytes(const ac_tensor *t) {
    int64_t numel = 0;
    if (ac_dims_numel(t->dims, t->rank, &numel) != 0) return 0;
    return ac_dtype_bytes(t->dtype, numel);
}

static int same_signature(const ac_session *s, int32_t n, const ac_tensor *in) {
    if (!s->plan || n != s->n_sig) return 0;
    for (int32_t i = 0; i < n; i++) {
        const ac_tensor *a = &s->sig[i], *b = &in[i];
        const char *an = a->name ? a->name : "", *bn = b->name ? b->name : "";
        if (strcmp(an, bn) || a->dtype != b->dtype || a->rank != b->rank) return 0;
        if (b->rank && memcmp(a->dims, b->dims, (size_t)b->rank * sizeof *b->dims)) return 0;
        if (s->sig_values[i] && memcmp(s->sig_values[i], b->data, input_bytes(b))) return 0;
    }
    return 1;
}

static ac_status replan(ac_session *s, int32_t n, const ac_tensor *in, ac_diag *d) {
    drop_plan(s);
    rt_plan_opts po = {.g = s->g, .opset = s->opset, .isa = s->isa, .nthreads = s->nthreads,
                       .no_fusion = s->opts.no_fusion, .want = s->opts.want,
                       .user = s->opts.observer_user};
    AC_TRY(rt_plan_build(&po, n, in, &s->plan, d));
    int64_t total = 0;
    for (int32_t i = 0; i < n; i++) total += in[i].rank;
    s->sig = ac_calloc((size_t)n + 1, sizeof *s->sig);
    s->sig_dims = ac_calloc((size_t)total + 1, sizeof *s->sig_dims);
    s->outputs = ac_calloc((size_t)s->g->n_outputs + 1, sizeof *s->outputs);
    s->profile = ac_calloc((size_t)s->plan->n_nodes + 1, sizeof *s->profile);
    s->sig_values = ac_calloc((size_t)n + 1, sizeof *s->sig_values);
    if (!s->sig || !s->sig_dims || !s->outputs || !s->profile || !s->sig_values) {
        drop_plan(s);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    int64_t off = 0;
    for (int32_t i = 0; i < n; i++) {
        s->sig[i] = in[i];
        s->sig[i].data = NULL;
        s->sig[i].dims = s->sig_dims + off;
        if (in[i].rank) memcpy(s->sig[i].dims, in[i].dims, (size_t)in[i].rank * sizeof(int64_t));
        off += in[i].rank;
    }
    s->n_sig = n;
    /* inputs whose values shaped the plan are part of its key */
    rt_plan *p = s->plan;
    for (int32_t i = 0; i < p->n_bound; i++) {
        const rt_tensor *t = p->input_t[i];
        if (!t->value_used) continue;
        int32_t k = p->input_src[i];
        size_t nb = input_bytes(&in[k]);
        s->sig_values[k] = ac_malloc(nb ? nb : 1);
        if (!s->sig_values[k]) {
            drop_plan(s);
            return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        }
        if (nb) memcpy(s->sig_values[k], in[k].data, nb);
    }
    return AC_OK;
}

static void view_of(const rt_tensor *t, ac_tensor *v) {
    memset(v, 0, sizeof *v);
    v->name = t->name;
    v->dtype = t->dtype;
    v->rank = t->rank;
    v->dims = (int64_t *)t->dims;
    v->numel = t->numel;
    v->nbytes = t->nbytes;
    v->data = t->data;
}

static ac_status observe(ac_session *s, const rt_tensor *t, ac_diag *d) {
    if (!t || !t->observed || !s->opts.observe) return AC_OK;
    ac_tensor v;
    view_of(t, &v);
    ac_status st = s->opts.observe(t->value, &v, s->opts.observer_user, d);
    if (st != AC_OK) ac_diag_where(d, "observer of \"%s\"", t->name);
    return st;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

ac_status ac_session_run(ac_session *s, int32_t n_inputs, const ac_tensor *inputs,
                         const ac_tensor **outputs, int32_t *n_outputs, ac_diag *d) {
    *outputs = NULL;
    *n_outputs = 0;
    for (int32_t i = 0; i < n_inputs; i++) {
        int64_t numel;
        if (inputs[i].dtype == AC_DTYPE_STRING)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "input %d: string tensors are not supported",
                           (int)i);
        if (inputs[i].rank < 0 || inputs[i].rank > AC_MAX_RANK ||
            ac_dims_numel(inputs[i].dims, inputs[i].rank, &numel) != 0 ||
            (numel > 0 && !inputs[i].data))
            return AC_FAIL(d, AC_ERR_ARG, "input %d has an invalid shape or no data", (int)i);
    }
    if (!same_signature(s, n_inputs, inputs)) AC_TRY(replan(s, n_inputs, inputs, d));
    rt_plan *p = s->plan;
    for (int32_t i = 0; i < p->n_bound; i++) p->input_t[i]->data = inputs[p->input_src[i]].data;
    /* graph inputs and observed constants first */
    for (int64_t i = 0; i < s->g->n_values; i++) {
        const rt_tensor *t = p->vt[i];
        if (t->observed && (t->is_input || t->is_const)) AC_TRY(observe(s, t, d));
    }
    rt_ctx x = {.pool = s->pool, .nthreads = s->nthreads, .scratch = p->scratch,
                .scratch_stride = p->scratch_stride};
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead) continue;
        double t0 = s->opts.profile ? now_ms() : 0;
        n->k->run(n, &x);
        if (s->opts.profile) {
            n->ms += now_ms() - t0;
            n->runs++;
        }
        for (int32_t k = 0; k < n->n_out; k++)
            if (n->out[k] && !n->out[k]->is_const) AC_TRY(observe(s, n->out[k], d));
    }
    for (int64_t i = 0; i < s->g->n_outputs; i++) {
        const ac_value *v = s->g->outputs[i];
        view_of(p->vt[v->index], &s->outputs[i]);
        s->outputs[i].name = v->name;
    }
    *outputs = s->outputs;
    *n_outputs = (int32_t)s->g->n_outputs;
    return AC_OK;
}

int32_t ac_session_profile(const ac_session *s, const ac_node_profile **out) {
    *out = NULL;
    if (!s->plan) return 0;
    ac_session *m = (ac_session *)s;
    int32_t k = 0;
    for (int64_t i = 0; i < s->plan->n_nodes; i++) {
        const rt_node *n = &s->plan->nodes[i];
        if (n->dead) continue;
        m->profile[k].name = n->src->name;
        m->profile[k].op_type = n->label;
        m->profile[k].kernel = n->k ? n->k->name : "";
        m->profile[k].ms = n->ms;
        m->profile[k].runs = n->runs;
        k++;
    }
    m->n_profile = k;
    *out = s->profile;
    return k;
}

size_t ac_session_activation_bytes(const ac_session *s) {
    return s->plan ? s->plan->act_bytes : 0;
}

ac_threadpool *ac_session_threadpool(ac_session *s) { return s ? s->pool : NULL; }
