/* SPDX-License-Identifier: MIT */
/* Planning: graph + concrete input shapes -> executable node list.
 *
 * Because a plan is made for concrete input shapes, every shape is known, so Shape and all
 * arithmetic on shapes folds to constants here; what remains are the nodes that depend on input
 * data. Passes then remove Identity/Dropout, fold BatchNormalization into a preceding Conv,
 * fuse Conv(+Add)(+activation) and large pointwise -> depthwise pairs, choose kernels and lay
 * out activation memory by lifetime. */
#include "plan.h"
#include "ops/nn.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- plan-owned memory ------------------------------------------------------------------- */

void *rt_plan_alloc(rt_plan *p, size_t n) { return ac_arena_alloc(p->arena, n); }

int64_t rt_plan_opset(const rt_plan *p) { return p->opset; }

int32_t rt_plan_ort_nchwc_block(const rt_plan *p) {
    if (!p->qdq) return 0;
    return p->isa >= AC_ISA_AVX512 ? 16 : p->isa >= AC_ISA_AVX2 ? 8 : 0;
}

int32_t rt_plan_threads(const rt_plan *p) { return p->nthreads; }

ac_status rt_plan_const_data(rt_plan *p, rt_tensor *t, ac_diag *d) {
    if (p->n_blocks == p->cap_blocks) {
        int64_t nc = p->cap_blocks ? p->cap_blocks * 2 : 64;
        void **b = ac_realloc(p->blocks, (size_t)nc * sizeof *b);
        if (!b) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        p->blocks = b;
        p->cap_blocks = nc;
    }
    void *data = ac_aligned_alloc(t->nbytes ? t->nbytes : 1);
    if (!data)
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for \"%s\" (%zu bytes)", t->name,
                       t->nbytes);
    memset(data, 0, t->nbytes);
    p->blocks[p->n_blocks++] = data;
    t->data = data;
    t->is_const = 1;
    return AC_OK;
}

static rt_tensor *new_tensor(rt_plan *p, const char *name) {
    rt_tensor *t = rt_plan_alloc(p, sizeof *t);
    if (!t) return NULL;
    t->name = name;
    t->producer = -1;
    t->last_use = -1;
    return t;
}

void rt_plan_free(rt_plan *p) {
    if (!p) return;
    for (int64_t i = 0; i < p->n_blocks; i++) ac_aligned_free(p->blocks[i]);
    ac_free(p->blocks);
    ac_aligned_free(p->act);
    ac_aligned_free(p->scratch);
    ac_arena_free(p->arena);
    ac_free(p);
}

/* ---- building ---------------------------------------------------------------------------- */

static ac_status set_input(rt_plan *p, rt_tensor *t, const ac_tensor *in, ac_diag *d) {
    const ac_value *v = t->value;
    if (in->dtype != v->dtype && v->dtype != AC_DTYPE_UNDEFINED)
        return AC_FAIL(d, AC_ERR_ARG, "input \"%s\" is %s, the model expects %s", v->name,
                       ac_dtype_name(in->dtype), ac_dtype_name(v->dtype));
    if (v->rank >= 0 && in->rank != v->rank)
        return AC_FAIL(d, AC_ERR_ARG, "input \"%s\" has rank %d, the model expects %d", v->name,
                       (int)in->rank, (int)v->rank);
    for (int32_t i = 0; v->rank >= 0 && i < in->rank; i++)
        if (v->dims[i] >= 0 && in->dims[i] != v->dims[i])
            return AC_FAIL(d, AC_ERR_ARG, "input \"%s\" has %lld at axis %d, the model expects %lld",
                           v->name, (long long)in->dims[i], (int)i, (long long)v->dims[i]);
    if (in->dtype == AC_DTYPE_STRING)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "input \"%s\": string tensors are not supported",
                       v->name);
    AC_TRY(rt_set_shape(t, in->dtype, in->rank, in->dims, d));
    t->is_input = 1;
    /* planning runs inside a run call, so the caller's data is there to read if an op needs
     * it to know its output shape (rt_value_known) */
    t->value_known = 1;
    t->data = in->data;
    (void)p;
    return AC_OK;
}

static ac_status bind_values(rt_plan *p, int32_t n_inputs, const ac_tensor *inputs, ac_diag *d) {
    const ac_graph *g = p->g;
    p->vt = rt_plan_alloc(p, (size_t)(g->n_values + 1) * sizeof *p->vt);
    if (!p->vt) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < g->n_values; i++) {
        const ac_value *v = g->values[i];
        rt_tensor *t = new_tensor(p, v->name);
        if (!t) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        t->value = v;
        p->vt[i] = t;
        if (v->init) {
            const ac_tensor *x = v->init;
            if (x->dtype == AC_DTYPE_STRING)
                return AC_FAIL(d, AC_ERR_UNSUPPORTED, "initializer \"%s\": string tensors are "
                               "not supported by the engine", v->name);
            AC_TRY(rt_set_shape(t, x->dtype, x->rank, x->dims, d));
            t->data = x->data; /* borrowed from the graph */
            t->is_const = 1;
        }
    }
    /* match caller inputs: by name, else by position among graph inputs */
    for (int32_t k = 0; k < n_inputs; k++) {
        const ac_tensor *in = &inputs[k];
        const ac_value *v = NULL;
        if (in->name && in->name[0]) {
            for (int64_t i = 0; i < g->n_inputs && !v; i++)
                if (!strcmp(g->inputs[i]->name, in->name)) v = g->inputs[i];
            if (!v) return AC_FAIL(d, AC_ERR_ARG, "the model has no input named \"%s\"", in->name);
        } else {
            if (k >= g->n_inputs)
                return AC_FAIL(d, AC_ERR_ARG, "%d inputs given, the model has %lld",
                               (int)n_inputs, (long long)g->n_inputs);
            v = g->inputs[k];
        }
        rt_tensor *t = p->vt[v->index];
        if (t->is_input) return AC_FAIL(d, AC_ERR_ARG, "input \"%s\" is given twice", v->name);
        t->is_const = 0; /* a provided input overrides an initializer default */
        t->data = NULL;
        AC_TRY(set_input(p, t, in, d));
        p->input_src[p->n_bound] = k;
        p->input_t[p->n_bound++] = t;
    }
    for (int64_t i = 0; i < g->n_inputs; i++) {
        rt_tensor *t = p->vt[g->inputs[i]->index];
        if (!t->is_input && !t->is_const)
            return AC_FAIL(d, AC_ERR_ARG, "input \"%s\" is missing", g->inputs[i]->name);
    }
    return AC_OK;
}

static ac_status build_nodes(rt_plan *p, ac_diag *d) {
    const ac_graph *g = p->g;
    p->nodes = rt_plan_alloc(p, (size_t)(g->n_nodes + 1) * sizeof *p->nodes);
    if (!p->nodes) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    p->n_nodes = g->n_nodes;
    for (int64_t i = 0; i < g->n_nodes; i++) {
        const ac_node *src = g->nodes[i];
        rt_node *n = &p->nodes[i];
        n->src = src;
        n->label = src->op_type;
        n->op = rt_find_op(src->op_type);
        if (!n->op || (src->domain[0] && strcmp(src->domain, "ai.onnx") != 0))
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "op %s%s%s is not supported by the engine",
                           src->domain[0] ? src->domain : "", src->domain[0] ? "::" : "",
                           src->op_type);
        n->n_in = src->n_inputs;
        n->n_out = src->n_outputs;
        n->in = rt_plan_alloc(p, (size_t)(n->n_in + 1) * sizeof *n->in);
        n->out = rt_plan_alloc(p, (size_t)(n->n_out + 1) * sizeof *n->out);
        if (!n->in || !n->out) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (int32_t k = 0; k < n->n_in; k++) {
            const ac_value *v = src->inputs[k];
            if (!v) continue;
            if (v->graph != g)
                return AC_FAIL(d, AC_ERR_UNSUPPORTED, "reads a value of an enclosing graph");
            n->in[k] = p->vt[v->index];
        }
        for (int32_t k = 0; k < n->n_out; k++)
            if (src->outputs[k]) {
                n->out[k] = p->vt[src->outputs[k]->index];
                n->out[k]->producer = i;
            }
    }
    return AC_OK;
}

/* Runs one node now, at plan time, because all its inputs are constant. */
static ac_status fold_node(rt_plan *p, rt_node *n, ac_diag *d) {
    for (int32_t k = 0; k < n->n_out; k++)
        if (n->out[k]) AC_TRY(rt_plan_const_data(p, n->out[k], d));
    n->k = rt_choose_kernel(n, AC_ISA_REF);
    if (!n->k)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "no kernel for %s with these input types",
                       n->src->op_type);
    if (n->k->prepare) AC_TRY(n->k->prepare(p, n, d));
    void *scratch = NULL;
    if (n->scratch) {
        scratch = ac_aligned_alloc(n->scratch);
        if (!scratch) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    rt_ctx x = {.pool = NULL, .nthreads = 1, .scratch = scratch, .scratch_stride = n->scratch};
    n->k->run(n, &x);
    ac_aligned_free(scratch);
    n->dead = 1;
    return AC_OK;
}

static int all_inputs_const(const rt_node *n) {
    for (int32_t k = 0; k < n->n_in; k++)
        if (n->in[k] && !n->in[k]->is_const) return 0;
    return 1;
}

static ac_status infer_and_fold(rt_plan *p, ac_diag *d) {
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        ac_status s = n->op->infer(p, n, d);
        if (s == AC_OK && all_inputs_const(n)) s = fold_node(p, n, d);
        if (s != AC_OK) {
            char lab[200];
            ac_diag_prefix(d, "%s", ac_node_label(n->src, lab, sizeof lab));
            return s;
        }
    }
    return AC_OK;
}

/* ---- passes ------------------------------------------------------------------------------ */

/* Number of live node inputs reading t. */
static int64_t count_readers(const rt_plan *p, const rt_tensor *t) {
    int64_t c = 0;
    for (int64_t i = 0; i < p->n_nodes; i++) {
        const rt_node *n = &p->nodes[i];
        if (n->dead) continue;
        for (int32_t k = 0; k < n->n_in; k++) c += n->in[k] == t;
        c += n->sum == t;
    }
    return c;
}

static void replace_reads(rt_plan *p, const rt_tensor *from, rt_tensor *to) {
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        for (int32_t k = 0; k < n->n_in; k++)
            if (n->in[k] == from) n->in[k] = to;
        if (n->sum == from) n->sum = to;
    }
}

/* Identity and inference-mode Dropout pass their input through. */
static void remove_identities(rt_plan *p) {
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead) continue;
        int is_dropout = !strcmp(n->src->op_type, "Dropout");
        if (strcmp(n->src->op_type, "Identity") && !is_dropout) continue;
        rt_tensor *in = n->in[0], *out = n->out[0];
        if (!in || !out || out->is_output || out->observed) continue;
        if (is_dropout && n->n_out > 1 && n->out[1] && count_readers(p, n->out[1])) continue;
        replace_reads(p, out, in);
        n->dead = 1;
    }
}

/* The single live node reading t (and how), or NULL. */
static rt_node *sole_reader(rt_plan *p, const rt_tensor *t) {
    if (t->is_output || t->observed || count_readers(p, t) != 1) return NULL;
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead) continue;
        for (int32_t k = 0; k < n->n_in; k++)
            if (n->in[k] == t) return n;
    }
    return NULL;
}

static int const_f32(const rt_tensor *t) {
    return t && t->is_const && t->dtype == AC_DTYPE_F32;
}

/* Conv -> BatchNormalization with constant statistics: scale the filters, shift the bias. */
static ac_status fold_batchnorm(rt_plan *p, ac_diag *d) {
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *c = &p->nodes[i];
        if (c->dead || rt_qdq_fused(c) || strcmp(c->src->op_type, "Conv") || c->act.kind ||
            c->sum || c->n_in < 2)
            continue;
        if (!const_f32(c->in[1]) || (c->n_in > 2 && c->in[2] && !const_f32(c->in[2]))) continue;
        rt_node *bn = sole_reader(p, c->out[0]);
        if (!bn || strcmp(bn->src->op_type, "BatchNormalization") || bn->in[0] != c->out[0])
            continue;
        if (bn->n_out > 1 && ((bn->out[1] && count_readers(p, bn->out[1])) ||
                              (bn->n_out > 2 && bn->out[2] && count_readers(p, bn->out[2]))))
            continue; /* training-mode outputs in use */
        int ok = 1;
        for (int k = 1; k <= 4; k++) ok &= const_f32(bn->in[k]);
        if (!ok) continue;
        const rt_tensor *w = c->in[1];
        int64_t m = w->dims[0], per = w->numel / m;
        if (bn->in[1]->numel != m) continue;
        float eps = rt_attr_float(bn, "epsilon", 1e-5f);
        rt_tensor *nw = new_tensor(p, w->name), *nb = new_tensor(p, "folded_bias");
        if (!nw || !nb) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        int64_t bdims[1] = {m};
        AC_TRY(rt_set_shape(nw, AC_DTYPE_F32, w->rank, w->dims, d));
        AC_TRY(rt_set_shape(nb, AC_DTYPE_F32, 1, bdims, d));
        AC_TRY(rt_plan_const_data(p, nw, d));
        AC_TRY(rt_plan_const_data(p, nb, d));
        const float *sc = bn->in[1]->data, *bb = bn->in[2]->data, *mean = bn->in[3]->data,
                    *var = bn->in[4]->data, *wd = w->data;
        const float *ob = c->n_in > 2 && c->in[2] ? c->in[2]->data : NULL;
        float *nwd = nw->data, *nbd = nb->data;
        for (int64_t o = 0; o < m; o++) {
            float f = sc[o] / sqrtf(var[o] + eps);
            for (int64_t j = 0; j < per; j++) nwd[o * per + j] = wd[o * per + j] * f;
            nbd[o] = ((ob ? ob[o] : 0.0f) - mean[o]) * f + bb[o];
        }
        /* the Conv now writes the BN's output */
        if (c->n_in < 3) {
            rt_tensor **in = rt_plan_alloc(p, 4 * sizeof *in);
            if (!in) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            in[0] = c->in[0];
            c->in = in;
            c->n_in = 3;
        }
        c->in[1] = nw;
        c->in[2] = nb;
        c->out[0] = bn->out[0];
        c->out[0]->producer = i;
        c->label = "Conv+BatchNormalization";
        bn->dead = 1;
    }
    return AC_OK;
}

/* Activation of node `a` as a fused rt_act, or kind NONE if it is not a fusable activation. */
static rt_act act_of(const rt_plan *p, const rt_node *a) {
    rt_act r = {RT_ACT_NONE, 0, 0};
    const char *op = a->src->op_type;
    if (!strcmp(op, "Relu")) {
        r.kind = RT_ACT_RELU;
    } else if (!strcmp(op, "LeakyRelu")) {
        r.kind = RT_ACT_LEAKY_RELU;
        r.alpha = rt_attr_float(a, "alpha", 0.01f);
    } else if (!strcmp(op, "Sigmoid")) {
        r.kind = RT_ACT_SIGMOID;
    } else if (!strcmp(op, "HardSigmoid")) {
        r.kind = RT_ACT_HARD_SIGMOID;
        r.alpha = rt_attr_float(a, "alpha", 0.2f);
        r.beta = rt_attr_float(a, "beta", 0.5f);
    } else if (!strcmp(op, "HardSwish")) {
        r.kind = RT_ACT_HARD_SWISH;
    } else if (!strcmp(op, "Tanh")) {
        r.kind = RT_ACT_TANH;
    } else if (!strcmp(op, "Clip")) {
        float lo = -INFINITY, hi = INFINITY;
        if (p->opset < 11) {
            lo = rt_attr_float(a, "min", -INFINITY);
            hi = rt_attr_float(a, "max", INFINITY);
        } else {
            float v;
            if (a->n_in > 1 && a->in[1]) {
                if (rt_const_floats(a->in[1], &v, 1) != 1) return r;
                lo = v;
            }
            if (a->n_in > 2 && a->in[2]) {
                if (rt_const_floats(a->in[2], &v, 1) != 1) return r;
                hi = v;
            }
        }
        r.kind = RT_ACT_CLIP;
        r.alpha = lo;
        r.beta = hi;
    }
    return r;
}

/* Ops whose kernels apply n->act to their output: Conv/Gemm/MatMul/ConvTranspose, and the
 * broadcasting binary ops (a residual Add followed by ReLU is the common case). */
static int fusable_producer(const rt_node *n) {
    const char *op = n->src->op_type;
    return !rt_qdq_fused(n) &&
           (!strcmp(op, "Conv") || !strcmp(op, "Gemm") || !strcmp(op, "ConvTranspose") ||
            !strcmp(op, "MatMul") || !strcmp(op, "Add") || !strcmp(op, "Sub") ||
            !strcmp(op, "Mul") || !strcmp(op, "Div")) &&
           n->out[0] && n->out[0]->dtype == AC_DTYPE_F32;
}

/* Node c (plan index i) takes over the output of `gone`, which leaves the plan; its profile
 * label gets "+what". */
static ac_status absorb(rt_plan *p, rt_node *c, int64_t i, rt_node *gone, const char *what,
                        ac_diag *d) {
    size_t n = strlen(c->label) + strlen(what) + 2;
    char *lab = rt_plan_alloc(p, n);
    if (!lab) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    snprintf(lab, n, "%s+%s", c->label, what);
    c->label = lab;
    c->out[0] = gone->out[0];
    c->out[0]->producer = i;
    gone->dead = 1;
    return AC_OK;
}

static ac_status fuse_conv_add_act(rt_plan *p, ac_diag *d) {
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *c = &p->nodes[i];
        if (c->dead || !fusable_producer(c)) continue;
        /* Conv + Add(residual of the same shape) */
        if (!strcmp(c->src->op_type, "Conv") && !c->act.kind && !c->sum) {
            rt_node *add = sole_reader(p, c->out[0]);
            if (add && !rt_qdq_fused(add) && !strcmp(add->src->op_type, "Add") && add->in[0] &&
                add->in[1]) {
                rt_tensor *other = add->in[0] == c->out[0] ? add->in[1] : add->in[0];
                rt_tensor *o = add->out[0];
                int same = other != c->out[0] && other->dtype == AC_DTYPE_F32 &&
                           other->numel == o->numel && o->numel == c->out[0]->numel;
                /* The residual must be ready when the fused node runs: where it is made after
                 * the Conv, the fused node runs in the Add's place (as ORT's FusedConv does; a
                 * QDQ model's float Convs must sum as ORT's, whose C starts as the residual) */
                if (same && (other->is_const || other->is_input || other->producer < i)) {
                    c->sum = other;
                    c->out[0] = o;
                    o->producer = i;
                    c->label = "Conv+Add";
                    add->dead = 1;
                } else if (same) {
                    int64_t j = add - p->nodes; /* > other->producer > i */
                    *add = *c;
                    add->sum = other;
                    add->out[0] = o;
                    o->producer = j;
                    add->label = "Conv+Add";
                    c->dead = 1;
                    continue; /* its activation is fused when the loop reaches j */
                }
            }
        }
        if (!c->act.kind) {
            rt_node *a = sole_reader(p, c->out[0]);
            if (a && a->in[0] == c->out[0] && !rt_qdq_fused(a)) {
                rt_act act = act_of(p, a);
                if (act.kind) {
                    c->act = act;
                    AC_TRY(absorb(p, c, i, a, a->src->op_type, d));
                }
            }
        }
    }
    return AC_OK;
}

/* Pointwise Conv -> depthwise 3x3 Conv (MobileNet's expand + depthwise) as one node run by
 * kernels/x86/pwdw_avx512.c, so the tensor between them, the largest of such networks, is made
 * and consumed in bands that stay in L2. Only where that tensor is over 2 MB: MobileNetV2's
 * 4.8 MB one at 224 (the pair 0.86-0.88 -> 0.65-0.69 ms, 1 thread); for its 1.8 MB ones the
 * pair cost the same or more fused (the tensor stays in L2/L3 between the convs anyway, and the
 * bands add calls). And only where the depthwise conv needs nothing the pointwise one's
 * position lacks: constant weights, no fused residual. The depthwise node stays in the plan,
 * dead, as n->dw. */
#define PWDW_MIN_BYTES ((size_t)2 << 20)

static ac_status fuse_pointwise_depthwise(rt_plan *p, ac_diag *d) {
    if (p->isa < AC_ISA_AVX512) return AC_OK;
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *c = &p->nodes[i];
        if (c->dead || c->dw || c->sum || rt_qdq_fused(c) || strcmp(c->src->op_type, "Conv") ||
            !c->out[0] || c->out[0]->dtype != AC_DTYPE_F32)
            continue;
        const rt_conv_params *cq = c->params;
        if (!rt_conv_is_pointwise(cq) || cq->group != 1 || cq->ort_order || cq->nd != 2 ||
            !const_f32(c->in[1]))
            continue;
        if ((size_t)(cq->M * cq->out_sp) * sizeof(float) < PWDW_MIN_BYTES) continue;
        rt_node *w = sole_reader(p, c->out[0]);
        if (!w || rt_qdq_fused(w) || strcmp(w->src->op_type, "Conv") ||
            w->in[0] != c->out[0] || w->sum || !rt_dw3x3_ok(w) || !const_f32(w->in[1]) ||
            (w->n_in > 2 && w->in[2] && !const_f32(w->in[2])))
            continue;
        const rt_conv_params *wq = w->params;
        if (wq->ort_order || wq->in[1] != cq->out[1] || wq->in[2] != cq->out[2]) continue;
        c->dw = w;
        AC_TRY(absorb(p, c, i, w, w->label, d));
    }
    return AC_OK;
}

/* ---- kernels and memory ------------------------------------------------------------------ */

static ac_status choose_kernels(rt_plan *p, ac_diag *d) {
    size_t scratch = 0;
    for (int64_t i = 0; i < p->n_nodes; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead) continue;
        n->k = rt_choose_kernel(n, p->isa);
        char lab[200];
        if (!n->k) {
            ac_diag_where(d, "%s", ac_node_label(n->src, lab, sizeof lab));
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "no kernel for these input types (%s)",
                           n->in[0] ? ac_dtype_name(n->in[0]->dtype) : "no input");
        }
        if (n->k->prepare) {
            ac_status s = n->k->prepare(p, n, d);
            if (s != AC_OK) {
                ac_diag_prefix(d, "%s", ac_node_label(n->src, lab, sizeof lab));
                return s;
            }
        }
        n->scratch = (n->scratch + 63) & ~(size_t)63;
        if (n->scratch > scratch) scratch = n->scratch;
        ac_log(AC_LOG_DEBUG, "%s: kernel %s", ac_node_label(n->src, lab, sizeof lab), n->k->name);
    }
    p->scratch_stride = scratch;
    if (scratch) {
        p->scratch = ac_aligned_alloc(scratch * (size_t)p->nthreads);
        if (!p->scratch) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for kernel scratch");
    }
    return AC_OK;
}

typedef struct free_block {
    size_t off, size;
} free_block;

/* Best-fit allocation over a free list of the arena; grows the arena's end when nothing fits. */
static size_t mem_alloc(free_block *fl, int64_t *nfl, size_t *end, size_t size) {
    int64_t best = -1;
    for (int64_t i = 0; i < *nfl; i++)
        if (fl[i].size >= size && (best < 0 || fl[i].size < fl[best].size)) best = i;
    if (best < 0) {
        /* extend the last block if it touches the end */
        for (int64_t i = 0; i < *nfl; i++)
            if (fl[i].off + fl[i].size == *end) {
                size_t off = fl[i].off;
                *end = off + size;
                fl[i] = fl[--(*nfl)];
                return off;
            }
        size_t off = *end;
        *end += size;
        return off;
    }
    size_t off = fl[best].off;
    fl[best].off += size;
    fl[best].size -= size;
    if (fl[best].size == 0) fl[best] = fl[--(*nfl)];
    return off;
}

static void mem_free(free_block *fl, int64_t *nfl, size_t off, size_t size) {
    /* coalesce with neighbours */
    for (int64_t i = 0; i < *nfl; i++) {
        if (fl[i].off + fl[i].size == off) {
            off = fl[i].off;
            size += fl[i].size;
            fl[i--] = fl[--(*nfl)];
        } else if (off + size == fl[i].off) {
            size += fl[i].size;
            fl[i--] = fl[--(*nfl)];
        }
    }
    fl[*nfl].off = off;
    fl[*nfl].size = size;
    (*nfl)++;
}

static int needs_arena(const rt_tensor *t) {
    return t && !t->is_const && !t->is_input && t->nbytes > 0;
}

static ac_status plan_memory(rt_plan *p, ac_diag *d) {
    int64_t nn = p->n_nodes;
    /* last use of every tensor read by a live node */
    for (int64_t i = 0; i < nn; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead) continue;
        for (int32_t k = 0; k < n->n_in; k++)
            if (n->in[k]) n->in[k]->last_use = i;
        if (n->sum) n->sum->last_use = i;
    }
    int64_t cap = 16;
    for (int64_t i = 0; i < nn; i++) cap += p->nodes[i].n_out + p->nodes[i].n_in + 1;
    free_block *fl = ac_malloc_array((size_t)cap, sizeof *fl);
    if (!fl) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    int64_t nfl = 0;
    size_t end = 0;
    for (int64_t i = 0; i < nn; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead) continue;
        for (int32_t k = 0; k < n->n_out; k++) {
            rt_tensor *t = n->out[k];
            if (!needs_arena(t)) continue;
            /* outputs nobody reads (unused optional outputs) still need a place to be written */
            t->offset = mem_alloc(fl, &nfl, &end, (t->nbytes + 63) & ~(size_t)63);
        }
        /* free what dies here; graph outputs live to the end */
        for (int32_t k = 0; k < n->n_in + 1; k++) {
            rt_tensor *t = k < n->n_in ? n->in[k] : n->sum;
            if (!needs_arena(t) || t->is_output || t->last_use != i) continue;
            int seen = 0;
            for (int32_t j = 0; j < k; j++) seen |= n->in[j] == t;
            if (seen) continue;
            mem_free(fl, &nfl, t->offset, (t->nbytes + 63) & ~(size_t)63);
        }
        for (int32_t k = 0; k < n->n_out; k++) {
            rt_tensor *t = n->out[k];
            if (needs_arena(t) && !t->is_output && t->last_use < i)
                mem_free(fl, &nfl, t->offset, (t->nbytes + 63) & ~(size_t)63);
        }
    }
    ac_free(fl);
    p->act_bytes = end;
    p->act = ac_aligned_alloc(end ? end : 64);
    if (!p->act) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for %zu bytes of activations",
                                end);
    for (int64_t i = 0; i < nn; i++) {
        rt_node *n = &p->nodes[i];
        if (n->dead) continue;
        for (int32_t k = 0; k < n->n_out; k++)
            if (needs_arena(n->out[k])) n->out[k]->data = p->act + n->out[k]->offset;
    }
    return AC_OK;
}

/* ---- entry ------------------------------------------------------------------------------- */

ac_status rt_plan_build(const rt_plan_opts *o, int32_t n_inputs, const ac_tensor *inputs,
                        rt_plan **out, ac_diag *d) {
    *out = NULL;
    rt_plan *p = ac_calloc(1, sizeof *p);
    if (!p) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    p->g = o->g;
    p->opset = o->opset;
    p->isa = o->isa;
    p->nthreads = o->nthreads;
    ac_status s = ac_arena_new(0, &p->arena, d);
    if (s == AC_OK) {
        p->input_src = rt_plan_alloc(p, (size_t)(n_inputs + 1) * sizeof *p->input_src);
        p->input_t = rt_plan_alloc(p, (size_t)(n_inputs + 1) * sizeof *p->input_t);
        if (!p->input_src || !p->input_t) s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    if (s == AC_OK) s = bind_values(p, n_inputs, inputs, d);
    if (s == AC_OK) {
        for (int64_t i = 0; i < p->g->n_outputs; i++) {
            const ac_value *v = p->g->outputs[i];
            if (v->graph == p->g) p->vt[v->index]->is_output = 1;
        }
        for (int64_t i = 0; o->want && i < p->g->n_values; i++) {
            rt_tensor *t = p->vt[i];
            if (!t->is_const || t->is_input) t->observed = o->want(t->value, o->user) != 0;
        }
        s = build_nodes(p, d);
    }
    if (s == AC_OK) s = infer_and_fold(p, d);
    if (s == AC_OK) {
        remove_identities(p);
        /* not a speed-up but ORT's integer arithmetic for QDQ models, so always on */
        s = rt_qdq_fuse(p, d);
    }
    if (s == AC_OK) {
        if (!o->no_fusion) {
            s = fold_batchnorm(p, d);
            if (s == AC_OK) s = fuse_conv_add_act(p, d);
            if (s == AC_OK) s = fuse_pointwise_depthwise(p, d);
        }
    }
    if (s == AC_OK) s = choose_kernels(p, d);
    if (s == AC_OK) s = plan_memory(p, d);
    if (s != AC_OK) {
        rt_plan_free(p);
        return s;
    }
    *out = p;
    return AC_OK;
}
