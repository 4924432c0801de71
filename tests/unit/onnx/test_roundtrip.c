/* SPDX-License-Identifier: MIT */
/* src/onnx: read -> save -> read keeps the model (compared structurally, IR against IR), and a
 * second save gives the same bytes. Run over the shared models, a synthetic model holding every
 * attribute type, and every model of Debian's libonnx-testdata; plus atomic saving. */
#define _POSIX_C_SOURCE 200809L
#include "autocompress/ac_model.h"
#include "check_util.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- structural comparison ---------------------------------------------------------------- */

/* Where the first difference is, e.g. `graph "main": node 3 "conv" (Conv): attribute "pads":
 * ints[1] 1 != 2`. The path is a stack of segments, unwound as comparisons return. */
typedef struct cmp_ctx {
    char path[1024];
    size_t len;
    char diff[1600];
    int failed;
} cmp_ctx;

static size_t push(cmp_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t push(cmp_ctx *c, const char *fmt, ...) {
    size_t old = c->len;
    if (c->len < sizeof c->path - 1) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(c->path + c->len, sizeof c->path - c->len, fmt, ap);
        va_end(ap);
        if (k > 0) c->len += (size_t)k;
        if (c->len > sizeof c->path - 1) c->len = sizeof c->path - 1;
    }
    return old;
}

static void pop(cmp_ctx *c, size_t old) {
    c->len = old;
    c->path[old] = 0;
}

static int differ(cmp_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int differ(cmp_ctx *c, const char *fmt, ...) {
    if (c->failed) return 1;
    c->failed = 1;
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->diff, sizeof c->diff, "%s%s", c->path, what);
    return 1;
}

#define CMP_I64(c, what, a, b)                                                                     \
    do {                                                                                           \
        if ((int64_t)(a) != (int64_t)(b))                                                          \
            return differ((c), "%s %lld != %lld", (what), (long long)(a), (long long)(b));         \
    } while (0)

static int cmp_str(cmp_ctx *c, const char *what, const char *a, const char *b) {
    /* NULL and "" mean the same in the IR (absent optional string) */
    if (strcmp(a ? a : "", b ? b : "") != 0)
        return differ(c, "%s \"%s\" != \"%s\"", what, a ? a : "(null)", b ? b : "(null)");
    return 0;
}

static int cmp_bytes(cmp_ctx *c, const char *what, const void *a, size_t na, const void *b,
                     size_t nb) {
    if (na != nb) return differ(c, "%s: %zu bytes != %zu bytes", what, na, nb);
    if (na && memcmp(a, b, na) != 0) {
        size_t k = 0;
        while (((const uint8_t *)a)[k] == ((const uint8_t *)b)[k]) k++;
        return differ(c, "%s: bytes differ first at offset %zu", what, k);
    }
    return 0;
}

static int cmp_graph(cmp_ctx *c, const ac_graph *a, const ac_graph *b);

static int cmp_tensor(cmp_ctx *c, const ac_tensor *a, const ac_tensor *b) {
    if (!a || !b) {
        if (a != b) return differ(c, "tensor present on one side only");
        return 0;
    }
    if (cmp_str(c, "tensor name", a->name, b->name)) return 1;
    CMP_I64(c, "dtype", a->dtype, b->dtype);
    CMP_I64(c, "rank", a->rank, b->rank);
    for (int32_t i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return differ(c, "dims[%d] %lld != %lld", (int)i, (long long)a->dims[i],
                          (long long)b->dims[i]);
    CMP_I64(c, "numel", a->numel, b->numel);
    if (a->dtype == AC_DTYPE_STRING) {
        for (int64_t i = 0; i < a->numel; i++) {
            char what[48];
            snprintf(what, sizeof what, "strings[%lld]", (long long)i);
            if (cmp_bytes(c, what, a->strings[i], a->string_lens[i], b->strings[i],
                          b->string_lens[i]))
                return 1;
        }
        return 0;
    }
    return cmp_bytes(c, "data", a->data, a->nbytes, b->data, b->nbytes);
}

static int cmp_attr(cmp_ctx *c, const ac_attr *a, const ac_attr *b) {
    if (cmp_str(c, "name", a->name, b->name)) return 1;
    size_t mark = push(c, "attribute \"%s\": ", a->name);
    int r = 0;
    if (a->type != b->type) {
        r = differ(c, "type %s != %s", ac_attr_type_name(a->type), ac_attr_type_name(b->type));
        goto out;
    }
    if ((r = cmp_str(c, "ref_attr_name", a->ref_attr_name, b->ref_attr_name))) goto out;
    if ((r = cmp_str(c, "doc_string", a->doc_string, b->doc_string))) goto out;
    if (a->ref_attr_name) goto out; /* references carry no value */
    switch (a->type) {
    case AC_ATTR_FLOAT:
        /* bitwise, so NaN payloads and -0.0 count */
        r = cmp_bytes(c, "f", &a->f, sizeof a->f, &b->f, sizeof b->f);
        break;
    case AC_ATTR_INT:
        if (a->i != b->i) r = differ(c, "i %lld != %lld", (long long)a->i, (long long)b->i);
        break;
    case AC_ATTR_STRING:
        r = cmp_bytes(c, "s", a->s, a->s_len, b->s, b->s_len);
        break;
    case AC_ATTR_TENSOR:
    case AC_ATTR_SPARSE_TENSOR:
        r = cmp_tensor(c, a->t, b->t);
        break;
    case AC_ATTR_GRAPH:
        r = cmp_graph(c, a->g, b->g);
        break;
    default: {
        if (a->n != b->n) {
            r = differ(c, "%lld elements != %lld", (long long)a->n, (long long)b->n);
            break;
        }
        for (int64_t i = 0; i < a->n && !r; i++) {
            size_t m = push(c, "[%lld]: ", (long long)i);
            switch (a->type) {
            case AC_ATTR_FLOATS:
                r = cmp_bytes(c, "float", &a->floats[i], 4, &b->floats[i], 4);
                break;
            case AC_ATTR_INTS:
                if (a->ints[i] != b->ints[i])
                    r = differ(c, "%lld != %lld", (long long)a->ints[i], (long long)b->ints[i]);
                break;
            case AC_ATTR_STRINGS:
                r = cmp_bytes(c, "string", a->strings[i], a->string_lens[i], b->strings[i],
                              b->string_lens[i]);
                break;
            case AC_ATTR_TENSORS:
            case AC_ATTR_SPARSE_TENSORS:
                r = cmp_tensor(c, a->tensors[i], b->tensors[i]);
                break;
            case AC_ATTR_GRAPHS:
                r = cmp_graph(c, a->graphs[i], b->graphs[i]);
                break;
            case AC_ATTR_TYPE_PROTO:
            case AC_ATTR_TYPE_PROTOS:
                r = cmp_bytes(c, "type proto", a->raw[i], a->raw_lens[i], b->raw[i],
                              b->raw_lens[i]);
                break;
            default:
                r = differ(c, "unexpected attribute type %d", (int)a->type);
            }
            pop(c, m);
        }
    }
    }
out:
    if (!r) pop(c, mark);
    return r;
}

static int cmp_value_type(cmp_ctx *c, const ac_value *a, const ac_value *b) {
    if (cmp_str(c, "name", a->name, b->name)) return 1;
    size_t mark = push(c, "value \"%s\": ", a->name);
    int r = 0;
    if (a->dtype != b->dtype)
        r = differ(c, "dtype %s != %s", ac_dtype_name(a->dtype), ac_dtype_name(b->dtype));
    else if (a->rank != b->rank)
        r = differ(c, "rank %d != %d", (int)a->rank, (int)b->rank);
    for (int32_t i = 0; !r && i < a->rank; i++) {
        if (a->dims[i] != b->dims[i])
            r = differ(c, "dims[%d] %lld != %lld", (int)i, (long long)a->dims[i],
                       (long long)b->dims[i]);
        else
            r = cmp_str(c, "dim_param", a->dim_params[i], b->dim_params[i]);
    }
    if (!r)
        r = cmp_bytes(c, "non-tensor type", a->type_proto, a->type_proto_len, b->type_proto,
                      b->type_proto_len);
    /* where it lives: input/output/initializer roles must survive */
    const uint32_t roles = AC_VALUE_INPUT | AC_VALUE_OUTPUT | AC_VALUE_INITIALIZER;
    if (!r && (a->flags & roles) != (b->flags & roles))
        r = differ(c, "flags %#x != %#x", a->flags & roles, b->flags & roles);
    if (!r && (!a->producer) != (!b->producer)) r = differ(c, "producer on one side only");
    if (!r && a->producer && a->producer_output != b->producer_output)
        r = differ(c, "producer output %d != %d", a->producer_output, b->producer_output);
    if (!r && (a->graph->parent == NULL) != (b->graph->parent == NULL))
        r = differ(c, "defined in a different scope");
    if (!r) pop(c, mark);
    return r;
}

static int cmp_node(cmp_ctx *c, const ac_node *a, const ac_node *b) {
    if (cmp_str(c, "op_type", a->op_type, b->op_type)) return 1;
    if (cmp_str(c, "domain", a->domain, b->domain)) return 1;
    if (cmp_str(c, "name", a->name, b->name)) return 1;
    if (cmp_str(c, "overload", a->overload, b->overload)) return 1;
    if (cmp_str(c, "doc_string", a->doc_string, b->doc_string)) return 1;
    CMP_I64(c, "input count", a->n_inputs, b->n_inputs);
    for (int32_t i = 0; i < a->n_inputs; i++) {
        const ac_value *x = a->inputs[i], *y = b->inputs[i];
        char what[40];
        snprintf(what, sizeof what, "input %d", (int)i);
        if (cmp_str(c, what, x ? x->name : "", y ? y->name : "")) return 1;
    }
    CMP_I64(c, "output count", a->n_outputs, b->n_outputs);
    for (int32_t i = 0; i < a->n_outputs; i++) {
        const ac_value *x = a->outputs[i], *y = b->outputs[i];
        char what[40];
        snprintf(what, sizeof what, "output %d", (int)i);
        if (cmp_str(c, what, x ? x->name : "", y ? y->name : "")) return 1;
    }
    CMP_I64(c, "attribute count", a->n_attrs, b->n_attrs);
    for (int32_t i = 0; i < a->n_attrs; i++)
        if (cmp_attr(c, &a->attrs[i], &b->attrs[i])) return 1;
    return 0;
}

static int cmp_graph(cmp_ctx *c, const ac_graph *a, const ac_graph *b) {
    if (!a || !b) return a != b ? differ(c, "graph present on one side only") : 0;
    size_t mark = push(c, "graph \"%s\": ", a->name);
    int r = cmp_str(c, "name", a->name, b->name) || cmp_str(c, "doc_string", a->doc_string,
                                                             b->doc_string);
    if (!r && a->n_nodes != b->n_nodes)
        r = differ(c, "%lld nodes != %lld", (long long)a->n_nodes, (long long)b->n_nodes);
    for (int64_t i = 0; !r && i < a->n_nodes; i++) {
        size_t m = push(c, "node %lld \"%s\" (%s): ", (long long)i, a->nodes[i]->name,
                        a->nodes[i]->op_type);
        r = cmp_node(c, a->nodes[i], b->nodes[i]);
        if (!r) pop(c, m);
    }
    if (!r && a->n_inits != b->n_inits)
        r = differ(c, "%lld initializers != %lld", (long long)a->n_inits, (long long)b->n_inits);
    for (int64_t i = 0; !r && i < a->n_inits; i++) {
        size_t m = push(c, "initializer %lld \"%s\": ", (long long)i, a->inits[i]->name);
        r = cmp_str(c, "name", a->inits[i]->name, b->inits[i]->name) ||
            cmp_tensor(c, a->inits[i]->init, b->inits[i]->init);
        if (!r) pop(c, m);
    }
    if (!r && a->n_inputs != b->n_inputs)
        r = differ(c, "%lld inputs != %lld", (long long)a->n_inputs, (long long)b->n_inputs);
    for (int64_t i = 0; !r && i < a->n_inputs; i++) {
        size_t m = push(c, "input %lld: ", (long long)i);
        r = cmp_value_type(c, a->inputs[i], b->inputs[i]);
        if (!r) pop(c, m);
    }
    if (!r && a->n_outputs != b->n_outputs)
        r = differ(c, "%lld outputs != %lld", (long long)a->n_outputs, (long long)b->n_outputs);
    for (int64_t i = 0; !r && i < a->n_outputs; i++) {
        size_t m = push(c, "output %lld: ", (long long)i);
        r = cmp_value_type(c, a->outputs[i], b->outputs[i]);
        if (!r) pop(c, m);
    }
    /* every value of the scope (value_info types included), matched by name since the file
     * order of node outputs may change when the writer sorts the nodes */
    if (!r && a->n_values != b->n_values)
        r = differ(c, "%lld values != %lld", (long long)a->n_values, (long long)b->n_values);
    for (int64_t i = 0; !r && i < a->n_values; i++) {
        const ac_value *bv = ac_graph_find_local(b, a->values[i]->name);
        if (!bv) r = differ(c, "value \"%s\" is missing", a->values[i]->name);
        else r = cmp_value_type(c, a->values[i], bv);
    }
    if (!r) pop(c, mark);
    return r;
}

static int cmp_model(cmp_ctx *c, const ac_model *a, const ac_model *b) {
    CMP_I64(c, "ir_version", ac_model_ir_version(a), ac_model_ir_version(b));
    CMP_I64(c, "opset count", ac_model_opset_count(a), ac_model_opset_count(b));
    for (int32_t i = 0; i < ac_model_opset_count(a); i++) {
        ac_opset x = ac_model_opset_at(a, i), y = ac_model_opset_at(b, i);
        if (cmp_str(c, "opset domain", x.domain, y.domain)) return 1;
        CMP_I64(c, "opset version", x.version, y.version);
    }
    if (cmp_str(c, "producer_name", ac_model_producer_name(a), ac_model_producer_name(b)) ||
        cmp_str(c, "producer_version", ac_model_producer_version(a),
                ac_model_producer_version(b)))
        return 1;
    CMP_I64(c, "metadata count", ac_model_metadata_count(a), ac_model_metadata_count(b));
    for (int32_t i = 0; i < ac_model_metadata_count(a); i++) {
        const char *ka, *va, *kb, *vb;
        ac_model_metadata_at(a, i, &ka, &va);
        ac_model_metadata_at(b, i, &kb, &vb);
        if (cmp_str(c, "metadata key", ka, kb) || cmp_str(c, "metadata value", va, vb)) return 1;
    }
    return cmp_graph(c, ac_model_graph(a), ac_model_graph(b));
}

/* ---- one round trip ----------------------------------------------------------------------- */

typedef enum rt_result { RT_OK, RT_LOAD_FAILED, RT_MISMATCH } rt_result;

/* Loads `path`; on success saves it, re-reads the bytes, compares the two IRs and checks that
 * a second save is byte-identical. `why` receives the load error or the mismatch. */
static rt_result round_trip(const char *path, char *why, size_t why_len) {
    ac_diag d = {0};
    ac_model *m1 = NULL, *m2 = NULL;
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    rt_result res = RT_OK;
    if (ac_model_load(path, NULL, &m1, &d) != AC_OK) {
        ck_assert_msg(m1 == NULL, "%s: failed load returned a model", path);
        ck_assert_msg(d.status != AC_OK && d.msg[0], "%s: load failed without a message", path);
        ac_diag_line(&d, why, why_len);
        return RT_LOAD_FAILED;
    }
    if (ac_model_save_buffer(m1, &b1, &n1, &d) != AC_OK) {
        snprintf(why, why_len, "first save failed: %s", d.msg);
        res = RT_MISMATCH;
    } else if (ac_model_load_buffer(b1, n1, "saved", NULL, NULL, &m2, &d) != AC_OK) {
        snprintf(why, why_len, "re-reading the saved model failed: %s", d.msg);
        res = RT_MISMATCH;
    } else {
        cmp_ctx c = {0};
        if (cmp_model(&c, m1, m2)) {
            snprintf(why, why_len, "IR differs after a round trip: %s", c.diff);
            res = RT_MISMATCH;
        } else if (ac_model_save_buffer(m2, &b2, &n2, &d) != AC_OK) {
            snprintf(why, why_len, "second save failed: %s", d.msg);
            res = RT_MISMATCH;
        } else if (n1 != n2 || memcmp(b1, b2, n1) != 0) {
            snprintf(why, why_len, "second save differs from the first (%zu vs %zu bytes)", n1,
                     n2);
            res = RT_MISMATCH;
        }
    }
    ac_free(b1);
    ac_free(b2);
    ac_model_free(m1);
    ac_model_free(m2);
    return res;
}

/* ---- shared models ------------------------------------------------------------------------- */

static const char *const shared_models[] = {"cls_resnet20", "cls_mobilenetv2", "det_yolo",
                                            "seg_unet"};

START_TEST(shared_model_round_trip) {
    const char *shared = ac_test_shared_dir();
    if (!shared) {
        printf("shared folder not found: skipping %s\n", shared_models[_i]);
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s/model.onnx", shared, shared_models[_i]);
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("%s not found: skipped\n", path);
        return;
    }
    char why[2048] = "";
    rt_result r = round_trip(path, why, sizeof why);
    ck_assert_msg(r == RT_OK, "%s: %s", path, why);
}
END_TEST

/* ---- libonnx-testdata ---------------------------------------------------------------------- */

#define TESTDATA_ROOT "/usr/share/libonnx-testdata/data"

typedef struct path_list {
    char **items;
    size_t n, cap;
} path_list;

static void collect_models(const char *dir, path_list *out) {
    DIR *dd = opendir(dir);
    if (!dd) return;
    struct dirent *e;
    while ((e = readdir(dd))) {
        if (e->d_name[0] == '.') continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            collect_models(p, out);
        } else if (S_ISREG(st.st_mode) && !strcmp(e->d_name, "model.onnx")) {
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 256;
                out->items = realloc(out->items, out->cap * sizeof *out->items);
                ck_assert_ptr_nonnull(out->items);
            }
            out->items[out->n] = strdup(p);
            ck_assert_ptr_nonnull(out->items[out->n]);
            out->n++;
        }
    }
    closedir(dd);
}

static int cmp_paths(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(testdata_round_trip) {
    static const char *const sets[] = {"node", "pytorch-converted", "pytorch-operator", "simple",
                                       "real"};
    path_list models = {0};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", TESTDATA_ROOT, sets[i]);
        collect_models(dir, &models);
    }
    if (models.n == 0) {
        printf("libonnx-testdata: no models under %s: skipped\n", TESTDATA_ROOT);
        return;
    }
    qsort(models.items, models.n, sizeof *models.items, cmp_paths);
    size_t loaded = 0, load_failed = 0, mismatched = 0;
    char mismatch_text[4096] = "";
    size_t mlen = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < models.n; i++) {
        char why[2048] = "";
        rt_result r = round_trip(models.items[i], why, sizeof why);
        if (r == RT_OK) {
            loaded++;
        } else if (r == RT_LOAD_FAILED) {
            load_failed++;
            printf("libonnx-testdata: load failed (with message): %s\n", why);
        } else {
            mismatched++;
            loaded++;
            printf("libonnx-testdata: ROUND TRIP MISMATCH %s: %s\n", models.items[i], why);
            if (mlen < sizeof mismatch_text - 1)
                mlen += (size_t)snprintf(mismatch_text + mlen, sizeof mismatch_text - mlen,
                                         "\n  %s: %s", models.items[i], why);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("libonnx-testdata: %zu models: %zu loaded (%zu round-trip mismatches), %zu failed with "
           "a message, %.1f s\n",
           models.n, loaded, mismatched, load_failed, secs);
    fflush(stdout);
    for (size_t i = 0; i < models.n; i++) free(models.items[i]);
    free(models.items);
    ck_assert_msg(mismatched == 0, "%zu models do not round-trip:%s", mismatched, mismatch_text);
}
END_TEST

/* ---- a synthetic model with every attribute type -------------------------------------------- */

static ac_value *new_val(ac_graph *g, const char *name) {
    ac_diag d = {0};
    ac_value *v;
    ck_assert_msg(ac_graph_new_value(g, name, &v, &d) == AC_OK, "%s", d.msg);
    return v;
}

static ac_tensor *new_tensor(ac_graph *g, const char *name, ac_dtype t, int32_t rank,
                             const int64_t *dims) {
    ac_diag d = {0};
    ac_tensor *x;
    ck_assert_msg(ac_graph_new_tensor(g, name, t, rank, dims, &x, &d) == AC_OK, "%s", d.msg);
    for (size_t i = 0; i < x->nbytes; i++) ((uint8_t *)x->data)[i] = (uint8_t)(i * 37 + 11);
    return x;
}

static ac_attr *add_attr(ac_node *n, const char *name, ac_attr_type t) {
    ac_diag d = {0};
    ac_attr *a;
    ck_assert_int_eq(ac_node_add_attr(n, name, t, &a, &d), AC_OK);
    return a;
}

/* x (float [N,4]) -> Custom node carrying one attribute of every type -> y; an If whose branches
 * read x from the outer scope; initializers of packed 4-bit and string type. */
static ac_model *every_attr_model(void) {
    ac_diag d = {0};
    ac_model *m;
    ck_assert_int_eq(ac_model_new(17, &m, &d), AC_OK);
    ck_assert_int_eq(ac_model_set_opset(m, "test.domain", 3, &d), AC_OK);
    ck_assert_int_eq(ac_model_set_producer(m, "test_roundtrip", "1.0", &d), AC_OK);
    ac_graph *g = ac_model_graph(m);
    ac_value *x = new_val(g, "x"), *cond = new_val(g, "cond"), *y = new_val(g, "y");
    ac_value *z = new_val(g, "z"), *q4 = new_val(g, "q4"), *names = new_val(g, "names");
    int64_t xd[2] = {-1, 4};
    const char *xp[2] = {"batch", NULL};
    ck_assert_int_eq(ac_value_set_type(x, AC_DTYPE_F32, 2, xd, xp, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, x, &d), AC_OK);
    ck_assert_int_eq(ac_value_set_type(cond, AC_DTYPE_BOOL, 0, NULL, NULL, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_input(g, cond, &d), AC_OK);
    /* a sequence input: kept as its encoded TypeProto { sequence_type { elem_type {
     * tensor_type { elem_type: FLOAT } } } }, since a graph input must keep its type */
    static const uint8_t seq_float[8] = {0x22, 0x06, 0x0a, 0x04, 0x0a, 0x02, 0x08, 0x01};
    ac_value *seq = new_val(g, "seq");
    seq->type_proto = seq_float;
    seq->type_proto_len = sizeof seq_float;
    ck_assert_int_eq(ac_graph_add_input(g, seq, &d), AC_OK);
    int64_t five = 5, two = 2;
    ck_assert_int_eq(ac_graph_set_initializer(g, q4, new_tensor(g, "q4", AC_DTYPE_S4, 1, &five),
                                              &d),
                     AC_OK);
    ac_tensor *st = new_tensor(g, "names", AC_DTYPE_STRING, 1, &two);
    st->strings[0] = ac_graph_strdup(g, "alpha");
    st->string_lens[0] = 5;
    st->strings[1] = ac_graph_alloc(g, 4);
    memcpy(st->strings[1], "a\0b", 3); /* bytes, not C strings */
    st->string_lens[1] = 3;
    ck_assert_int_eq(ac_graph_set_initializer(g, names, st, &d), AC_OK);

    ac_value *ins[4] = {x, NULL, q4, names};
    ac_node *n;
    ck_assert_int_eq(ac_graph_add_node(g, "Custom", "test.domain", "custom", 4, ins, 1, &y, &n,
                                       &d),
                     AC_OK);
    ck_assert_int_eq(ac_node_set_attr_float(n, "f", -0.0f, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_int(n, "i", INT64_MIN, &d), AC_OK);
    ck_assert_int_eq(ac_node_set_attr_string(n, "s", "hello", &d), AC_OK);
    int64_t ints[3] = {1, -2, INT64_MAX};
    ck_assert_int_eq(ac_node_set_attr_ints(n, "ints", 3, ints, &d), AC_OK);
    ac_attr *a = add_attr(n, "floats", AC_ATTR_FLOATS);
    a->n = 2;
    a->floats = ac_graph_alloc(g, 2 * sizeof(float));
    a->floats[0] = 1.5f;
    a->floats[1] = -3.25f;
    a = add_attr(n, "strings", AC_ATTR_STRINGS);
    a->n = 2;
    a->strings = ac_graph_alloc(g, 2 * sizeof(char *));
    a->string_lens = ac_graph_alloc(g, 2 * sizeof(size_t));
    a->strings[0] = ac_graph_strdup(g, "one");
    a->string_lens[0] = 3;
    a->strings[1] = ac_graph_strdup(g, "");
    a->string_lens[1] = 0;
    int64_t td[2] = {2, 3};
    a = add_attr(n, "t", AC_ATTR_TENSOR);
    a->t = new_tensor(g, "", AC_DTYPE_F16, 2, td);
    a = add_attr(n, "tensors", AC_ATTR_TENSORS);
    a->n = 2;
    a->tensors = ac_graph_alloc(g, 2 * sizeof(ac_tensor *));
    a->tensors[0] = new_tensor(g, "", AC_DTYPE_U4, 2, td);
    a->tensors[1] = new_tensor(g, "", AC_DTYPE_S64, 0, NULL);
    /* sparse: dense in the IR, COO in the file; half the elements are zero */
    a = add_attr(n, "sparse", AC_ATTR_SPARSE_TENSOR);
    a->t = new_tensor(g, "sp", AC_DTYPE_F32, 2, td);
    ((float *)a->t->data)[0] = ((float *)a->t->data)[2] = ((float *)a->t->data)[4] = 0.0f;
    a = add_attr(n, "sparses", AC_ATTR_SPARSE_TENSORS);
    a->n = 1;
    a->tensors = ac_graph_alloc(g, sizeof(ac_tensor *));
    a->tensors[0] = new_tensor(g, "sp2", AC_DTYPE_S32, 1, &five);
    /* TypeProto { tensor_type { elem_type: FLOAT } }, encoded */
    static const uint8_t type_float[4] = {0x0a, 0x02, 0x08, 0x01};
    a = add_attr(n, "tp", AC_ATTR_TYPE_PROTO);
    a->n = 1;
    a->raw = ac_graph_alloc(g, sizeof(uint8_t *));
    a->raw_lens = ac_graph_alloc(g, sizeof(size_t));
    a->raw[0] = ac_graph_alloc(g, 4);
    memcpy(a->raw[0], type_float, 4);
    a->raw_lens[0] = 4;
    a = add_attr(n, "ref", AC_ATTR_INT);
    a->ref_attr_name = ac_graph_strdup(g, "outer_attr");

    /* If with two branches reading the outer x; one nests a further subgraph list */
    ac_node *iff;
    ck_assert_int_eq(ac_graph_add_node(g, "If", "", "if", 1, &cond, 1, &z, &iff, &d), AC_OK);
    ac_graph *br[2];
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(ac_graph_new_subgraph(g, k ? "else" : "then", &br[k], &d), AC_OK);
        br[k]->owner = iff;
        ac_value *o = new_val(br[k], k ? "else_out" : "then_out");
        ac_node *bn;
        ck_assert_int_eq(ac_graph_add_node(br[k], k ? "Neg" : "Relu", "", k ? "neg" : "relu", 1,
                                           &x, 1, &o, &bn, &d),
                         AC_OK);
        int64_t od[2] = {-1, 4};
        ck_assert_int_eq(ac_value_set_type(o, AC_DTYPE_F32, 2, od, NULL, &d), AC_OK);
        ck_assert_int_eq(ac_graph_add_output(br[k], o, &d), AC_OK);
    }
    a = add_attr(iff, "then_branch", AC_ATTR_GRAPH);
    a->g = br[0];
    a = add_attr(iff, "else_branch", AC_ATTR_GRAPH);
    a->g = br[1];
    ac_graph *inner;
    ck_assert_int_eq(ac_graph_new_subgraph(br[0], "inner", &inner, &d), AC_OK);
    ac_value *io = new_val(inner, "inner_out");
    ac_node *in_n;
    ck_assert_int_eq(ac_graph_add_node(inner, "Identity", "", "", 1, &x, 1, &io, &in_n, &d),
                     AC_OK);
    ck_assert_int_eq(ac_graph_add_output(inner, io, &d), AC_OK);
    a = add_attr(br[0]->nodes[0], "bodies", AC_ATTR_GRAPHS);
    a->n = 1;
    a->graphs = ac_graph_alloc(g, sizeof(ac_graph *));
    a->graphs[0] = inner;
    inner->owner = br[0]->nodes[0];

    ck_assert_int_eq(ac_value_set_type(y, AC_DTYPE_F32, -1, NULL, NULL, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(g, y, &d), AC_OK);
    ck_assert_int_eq(ac_graph_add_output(g, z, &d), AC_OK);
    ck_assert_int_eq(ac_graph_sort(g, &d), AC_OK);
    return m;
}

START_TEST(every_attribute_type_round_trips) {
    ac_model *m = every_attr_model();
    ac_diag d = {0};
    uint8_t *b1, *b2;
    size_t n1, n2;
    ck_assert_msg(ac_model_save_buffer(m, &b1, &n1, &d) == AC_OK, "%s", d.msg);
    ac_model *m2;
    ck_assert_msg(ac_model_load_buffer(b1, n1, "synthetic", NULL, NULL, &m2, &d) == AC_OK,
                  "re-read: %s", d.msg);
    cmp_ctx c = {0};
    ck_assert_msg(!cmp_model(&c, m, m2), "IR differs: %s", c.diff);
    ck_assert_int_eq(ac_model_save_buffer(m2, &b2, &n2, &d), AC_OK);
    ck_assert_uint_eq(n1, n2);
    ck_assert_msg(memcmp(b1, b2, n1) == 0, "second save differs");

    /* the comparer itself must notice a change, or the round-trip tests prove nothing */
    ac_graph *g2 = ac_model_graph(m2);
    const ac_attr *ca = ac_node_attr(g2->nodes[0], "ints");
    ck_assert_ptr_nonnull(ca);
    ca->ints[1] = 7;
    memset(&c, 0, sizeof c);
    ck_assert(cmp_model(&c, m, m2));
    ck_assert_msg(strstr(c.diff, "attribute \"ints\"") && strstr(c.diff, "-2 != 7"), "diff: %s",
                  c.diff);
    ca->ints[1] = -2;
    ac_graph *then2 = ac_node_attr(g2->nodes[1], "then_branch")->g;
    ac_graph *inner2 = ac_node_attr(then2->nodes[0], "bodies")->graphs[0];
    ((ac_node *)inner2->nodes[0])->op_type = "Neg";
    memset(&c, 0, sizeof c);
    ck_assert(cmp_model(&c, m, m2));
    ck_assert_msg(strstr(c.diff, "graph \"inner\"") && strstr(c.diff, "op_type"), "diff: %s",
                  c.diff);
    ac_free(b1);
    ac_free(b2);
    ac_model_free(m);
    ac_model_free(m2);
}
END_TEST

/* ---- atomic save ---------------------------------------------------------------------------- */

START_TEST(save_is_atomic) {
    ac_model *m = every_attr_model();
    ac_diag d = {0};
    uint8_t *want;
    size_t want_len;
    ck_assert_int_eq(ac_model_save_buffer(m, &want, &want_len, &d), AC_OK);
    const char *dir = ac_test_tmpdir();
    const char *path = ac_test_path(dir, "out.onnx");
    /* an older, longer file at the path is replaced whole, not overwritten in place */
    size_t old_len = want_len * 3;
    uint8_t *old = malloc(old_len);
    ck_assert_ptr_nonnull(old);
    memset(old, 0xAB, old_len);
    ac_test_write_file(path, old, old_len);
    free(old);
    ck_assert_msg(ac_model_save(m, path, &d) == AC_OK, "%s", d.msg);
    ck_assert_int_eq(ac_test_count_files(dir), 1); /* no temp file left beside it */
    size_t got_len;
    uint8_t *got = ac_test_read_file(path, &got_len);
    ck_assert_uint_eq(got_len, want_len);
    ck_assert(memcmp(got, want, want_len) == 0);
    free(got);
    /* saving again over itself works the same */
    ck_assert_int_eq(ac_model_save(m, path, &d), AC_OK);
    ck_assert_int_eq(ac_test_count_files(dir), 1);
    ac_model *back;
    ck_assert_msg(ac_model_load(path, NULL, &back, &d) == AC_OK, "%s", d.msg);
    ac_model_free(back);

    /* a folder that does not exist: AC_ERR_IO with errno and the path, nothing created */
    const char *missing = ac_test_path(dir, "no/such/dir/out.onnx");
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_model_save(m, missing, &d), AC_ERR_IO);
    ck_assert_int_eq(d.status, AC_ERR_IO);
    ck_assert_int_eq(d.sys_errno, ENOENT);
    char line[1200];
    ac_diag_line(&d, line, sizeof line);
    ck_assert_msg(strstr(line, "no/such/dir") != NULL, "message lacks the path: %s", line);
    ck_assert_int_eq(ac_test_count_files(dir), 1);
    /* a path that names a folder fails without touching it */
    ac_diag_clear(&d);
    ck_assert_int_ne(ac_model_save(m, dir, &d), AC_OK);
    ck_assert_str_ne(d.msg, "");
    ck_assert_int_eq(ac_test_count_files(dir), 1);

    remove(path);
    rmdir(dir);
    ac_free(want);
    ac_model_free(m);
}
END_TEST

Suite *ac_test_onnx_roundtrip_suite(void) {
    Suite *s = suite_create("onnx_roundtrip");
    TCase *c = tcase_create("synthetic");
    tcase_add_test(c, every_attribute_type_round_trips);
    tcase_add_test(c, save_is_atomic);
    suite_add_tcase(s, c);
    c = tcase_create("shared_models");
    tcase_set_timeout(c, 60);
    tcase_add_loop_test(c, shared_model_round_trip, 0,
                        (int)(sizeof shared_models / sizeof shared_models[0]));
    suite_add_tcase(s, c);
    c = tcase_create("libonnx_testdata");
    tcase_set_timeout(c, 120);
    tcase_add_test(c, testdata_round_trip);
    suite_add_tcase(s, c);
    return s;
}
