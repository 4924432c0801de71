/* SPDX-License-Identifier: MIT */
/* ac_model: ModelProto-level fields around the graph IR, and the load pipeline
 *   read file (size cap) -> pre-scan (limits) -> protobuf-c unpack (budgeted allocator)
 *   -> model checks (IR version, opsets) -> graph conversion and checks -> sort. */
#define _GNU_SOURCE
#include "onnx_internal.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

typedef struct unknown_field {
    uint32_t tag;
    ProtobufCWireType wire_type;
    size_t len;
    uint8_t *data;
} unknown_field;

struct ac_model {
    ac_graph *graph;
    int64_t ir_version;
    int32_t n_opsets;
    ac_opset *opsets;
    const char *producer_name, *producer_version, *domain, *doc_string;
    int64_t model_version;
    int32_t n_meta;
    const char **meta_keys, **meta_values;
    /* ModelProto fields we do not model (functions, training_info): re-emitted on save */
    size_t n_unknown;
    unknown_field *unknown;
};

void ac_onnx_resolve_opts(const ac_load_opts *in, size_t file_len, ac_load_opts *o) {
    ac_load_opts z = {0};
    *o = in ? *in : z;
    if (!o->max_file_bytes) o->max_file_bytes = 2147483647ull;
    if (!o->max_depth) o->max_depth = 100;
    if (!o->max_nodes) o->max_nodes = 1000000;
    if (!o->max_initializers) o->max_initializers = 1000000;
    if (!o->max_attributes) o->max_attributes = 4000000;
    if (!o->max_rank) o->max_rank = 16;
    if (o->max_rank > 64) o->max_rank = 64; /* fixed-size scratch in the readers */
    if (!o->max_tensor_elems) o->max_tensor_elems = (int64_t)1 << 40;
    if (!o->max_memory_bytes) o->max_memory_bytes = (256ull << 20) + 2 * (uint64_t)file_len;
    if (!o->max_external_bytes) o->max_external_bytes = 64ull << 30;
}

/* ---- accessors --------------------------------------------------------------------------- */

ac_graph *ac_model_graph(const ac_model *m) { return m->graph; }
int64_t ac_model_ir_version(const ac_model *m) { return m->ir_version; }

ac_status ac_model_set_ir_version(ac_model *m, int64_t v, ac_diag *d) {
    if (v < 1 || v > AC_ONNX_MAX_IR_VERSION)
        return AC_FAIL(d, AC_ERR_ARG, "ir_version %lld is out of range", (long long)v);
    m->ir_version = v;
    return AC_OK;
}
int32_t ac_model_opset_count(const ac_model *m) { return m->n_opsets; }
ac_opset ac_model_opset_at(const ac_model *m, int32_t i) { return m->opsets[i]; }
const char *ac_model_producer_name(const ac_model *m) { return m->producer_name; }
const char *ac_model_producer_version(const ac_model *m) { return m->producer_version; }
int32_t ac_model_metadata_count(const ac_model *m) { return m->n_meta; }

void ac_model_metadata_at(const ac_model *m, int32_t i, const char **key, const char **value) {
    *key = m->meta_keys[i];
    *value = m->meta_values[i];
}

static int is_default_domain(const char *dom) {
    return !dom || !dom[0] || !strcmp(dom, "ai.onnx");
}

int64_t ac_model_opset(const ac_model *m, const char *domain) {
    for (int32_t i = 0; i < m->n_opsets; i++) {
        const char *od = m->opsets[i].domain;
        if (is_default_domain(domain) ? is_default_domain(od) : !strcmp(od, domain))
            return m->opsets[i].version;
    }
    return 0;
}

ac_status ac_model_set_opset(ac_model *m, const char *domain, int64_t version, ac_diag *d) {
    for (int32_t i = 0; i < m->n_opsets; i++) {
        const char *od = m->opsets[i].domain;
        if (is_default_domain(domain) ? is_default_domain(od) : !strcmp(od, domain)) {
            m->opsets[i].version = version;
            return AC_OK;
        }
    }
    ac_opset *arr = ac_graph_alloc(m->graph, (size_t)(m->n_opsets + 1) * sizeof *arr);
    if (!arr) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    if (m->n_opsets) memcpy(arr, m->opsets, (size_t)m->n_opsets * sizeof *arr);
    arr[m->n_opsets].domain = ac_graph_strdup(m->graph, domain);
    arr[m->n_opsets].version = version;
    if (!arr[m->n_opsets].domain) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    m->opsets = arr;
    m->n_opsets++;
    return AC_OK;
}

ac_status ac_model_set_producer(ac_model *m, const char *name, const char *version, ac_diag *d) {
    m->producer_name = ac_graph_strdup(m->graph, name);
    m->producer_version = ac_graph_strdup(m->graph, version);
    if (!m->producer_name || !m->producer_version)
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    return AC_OK;
}

void ac_model_free(ac_model *m) {
    if (!m) return;
    ac_graph_free(m->graph);
    ac_free(m);
}

ac_status ac_model_new(int64_t opset, ac_model **out, ac_diag *d) {
    *out = NULL;
    ac_model *m = ac_calloc(1, sizeof *m);
    if (!m) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    ac_status s = ac_graph_new("main", &m->graph, d);
    if (s == AC_OK) {
        m->ir_version = 8;
        m->producer_name = m->producer_version = m->domain = m->doc_string = "";
        s = ac_model_set_opset(m, "", opset, d);
    }
    if (s != AC_OK) {
        ac_model_free(m);
        return s;
    }
    *out = m;
    return AC_OK;
}

/* ---- loading ----------------------------------------------------------------------------- */

static ac_status read_model_fields(ac_model *m, const Onnx__ModelProto *mp, ac_diag *d) {
    ac_graph *g = m->graph;
    if (!mp->has_ir_version || mp->ir_version <= 0)
        return AC_FAIL(d, AC_ERR_FORMAT, "not an ONNX model: ir_version is missing");
    if (mp->ir_version > AC_ONNX_MAX_IR_VERSION)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "ir_version %lld is newer than supported (<= %d)",
                       (long long)mp->ir_version, AC_ONNX_MAX_IR_VERSION);
    if (!mp->graph) return AC_FAIL(d, AC_ERR_FORMAT, "not an ONNX model: it has no graph");
    m->ir_version = mp->ir_version;
    if (mp->ir_version >= 3 && mp->n_opset_import == 0)
        return AC_FAIL(d, AC_ERR_MODEL, "no opset_import (required from IR version 3)");
    m->producer_name = ac_graph_strdup(g, mp->producer_name);
    m->producer_version = ac_graph_strdup(g, mp->producer_version);
    m->domain = ac_graph_strdup(g, mp->domain);
    m->doc_string = ac_graph_strdup(g, mp->doc_string);
    m->model_version = mp->has_model_version ? mp->model_version : 0;
    if (!m->producer_name || !m->producer_version || !m->domain || !m->doc_string)
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *op = mp->opset_import[i];
        const char *dom = op->domain ? op->domain : "";
        int64_t ver = op->has_version ? op->version : 0;
        if (ver <= 0)
            return AC_FAIL(d, AC_ERR_MODEL, "opset_import for domain \"%s\" has version %lld",
                           dom, (long long)ver);
        if (ac_model_opset(m, dom))
            return AC_FAIL(d, AC_ERR_MODEL, "opset_import lists domain \"%s\" twice", dom);
        if (is_default_domain(dom) && ver > AC_ONNX_MAX_OPSET)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "unsupported opset ai.onnx v%lld (supported <= %d)",
                           (long long)ver, AC_ONNX_MAX_OPSET);
        AC_TRY(ac_model_set_opset(m, dom, ver, d));
    }
    if (mp->ir_version < 3 && m->n_opsets == 0) AC_TRY(ac_model_set_opset(m, "", 1, d));
    if (mp->n_metadata_props) {
        m->meta_keys = ac_graph_alloc(g, mp->n_metadata_props * sizeof(char *));
        m->meta_values = ac_graph_alloc(g, mp->n_metadata_props * sizeof(char *));
        if (!m->meta_keys || !m->meta_values) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < mp->n_metadata_props; i++) {
            m->meta_keys[i] = ac_graph_strdup(g, mp->metadata_props[i]->key);
            m->meta_values[i] = ac_graph_strdup(g, mp->metadata_props[i]->value);
            if (!m->meta_keys[i] || !m->meta_values[i])
                return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        }
        m->n_meta = (int32_t)mp->n_metadata_props;
    }
    if (mp->base.n_unknown_fields) {
        m->unknown = ac_graph_alloc(g, mp->base.n_unknown_fields * sizeof *m->unknown);
        if (!m->unknown) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < mp->base.n_unknown_fields; i++) {
            const ProtobufCMessageUnknownField *u = &mp->base.unknown_fields[i];
            m->unknown[i].tag = u->tag;
            m->unknown[i].wire_type = u->wire_type;
            m->unknown[i].len = u->len;
            m->unknown[i].data = ac_graph_alloc(g, u->len ? u->len : 1);
            if (!m->unknown[i].data) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            if (u->len) memcpy(m->unknown[i].data, u->data, u->len);
        }
        m->n_unknown = mp->base.n_unknown_fields;
    }
    return AC_OK;
}

static ac_status load_bytes(const uint8_t *buf, size_t len, const ac_file_view *view,
                            const char *base_dir, const ac_load_opts *opts, ac_model **out,
                            ac_diag *d) {
    ac_load_opts o;
    ac_onnx_resolve_opts(opts, len, &o);
    if (len == 0) return AC_FAIL(d, AC_ERR_FORMAT, "not an ONNX model: file is empty");
    if (len > o.max_file_bytes)
        return AC_FAIL(d, AC_ERR_LIMIT, "model is %zu bytes, over the limit of %llu", len,
                       (unsigned long long)o.max_file_bytes);
    ac_prescan_info info;
    ac_status ps = ac_onnx_prescan(&onnx__model_proto__descriptor, buf, len, &o, &info, d);
    if (ps != AC_OK) {
        ac_free(info.spans);
        return ps;
    }

    ac_pb_budget budget;
    ac_pb_budget_init(&budget, o.max_memory_bytes);
    budget.view = view;
    budget.info = &info;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&budget.alloc, len, buf);
    ac_free(info.spans);
    budget.view = NULL;
    budget.info = NULL;
    if (!mp) {
        if (budget.exceeded)
            return AC_FAIL(d, AC_ERR_LIMIT, "decoding the model needs more than its memory "
                           "budget of %llu MB", (unsigned long long)(o.max_memory_bytes >> 20));
        return AC_FAIL(d, AC_ERR_FORMAT,
                       "not a valid ONNX protobuf (truncated or corrupt), %zu bytes", len);
    }
    ac_model *m = ac_calloc(1, sizeof *m);
    ac_status s = m ? ac_graph_new(mp->graph && mp->graph->name ? mp->graph->name : "", &m->graph,
                                   d)
                    : AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    ac_onnx_reader r = {.opts = &o, .budget = &budget, .base_dir = base_dir};
    if (s == AC_OK) s = read_model_fields(m, mp, d);
    if (s == AC_OK) s = ac_onnx_graph_from_proto(&r, m->graph, mp->graph, 2, d);
    free(r.base_real);
    onnx__model_proto__free_unpacked(mp, &budget.alloc);
    if (s != AC_OK) {
        ac_model_free(m);
        return s;
    }
    *out = m;
    return AC_OK;
}

ac_status ac_model_load_buffer(const void *buf, size_t len, const char *label,
                               const char *base_dir, const ac_load_opts *opts, ac_model **out,
                               ac_diag *d) {
    *out = NULL;
    ac_status s = load_bytes(buf, len, NULL, base_dir, opts, out, d);
    if (s != AC_OK && label) ac_diag_prefix(d, "%s", label);
    return s;
}

ac_status ac_model_load(const char *path, const ac_load_opts *opts, ac_model **out, ac_diag *d) {
    *out = NULL;
    ac_load_opts o;
    ac_onnx_resolve_opts(opts, 0, &o);
    ac_file_view view;
    ac_status s = ac_file_view_open(path, o.max_file_bytes, &view, d);
    char *dcopy = s == AC_OK ? ac_strdup(path) : NULL;
    if (s == AC_OK && !dcopy) s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    if (s == AC_OK) {
        /* the budget defaults scale with the file size: resolve again with the real length */
        ac_load_opts o2;
        ac_onnx_resolve_opts(opts, view.len, &o2);
        s = load_bytes(view.data, view.len, &view, dirname(dcopy), &o2, out, d);
    }
    ac_free(dcopy);
    ac_file_view_close(&view);
    if (s != AC_OK) ac_diag_prefix(d, "%s", path);
    return s;
}

/* ---- saving ------------------------------------------------------------------------------ */

/* Builds the ModelProto in `a`. Arrays point into the IR; only the arena is freed after. */
static ac_status build_proto(const ac_model *m, ac_arena *a, Onnx__ModelProto *mp, ac_diag *d) {
    onnx__model_proto__init(mp);
    mp->has_ir_version = 1;
    mp->ir_version = m->ir_version;
    if (m->producer_name && m->producer_name[0]) mp->producer_name = (char *)m->producer_name;
    if (m->producer_version && m->producer_version[0])
        mp->producer_version = (char *)m->producer_version;
    if (m->domain && m->domain[0]) mp->domain = (char *)m->domain;
    if (m->doc_string && m->doc_string[0]) mp->doc_string = (char *)m->doc_string;
    if (m->model_version) {
        mp->has_model_version = 1;
        mp->model_version = m->model_version;
    }
    mp->n_opset_import = (size_t)m->n_opsets;
    mp->opset_import = ac_arena_array(a, (size_t)m->n_opsets + 1, sizeof *mp->opset_import);
    if (!mp->opset_import) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < m->n_opsets; i++) {
        Onnx__OperatorSetIdProto *op = ac_arena_alloc(a, sizeof *op);
        if (!op) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        onnx__operator_set_id_proto__init(op);
        op->domain = (char *)m->opsets[i].domain;
        op->has_version = 1;
        op->version = m->opsets[i].version;
        mp->opset_import[i] = op;
    }
    mp->n_metadata_props = (size_t)m->n_meta;
    mp->metadata_props = ac_arena_array(a, (size_t)m->n_meta + 1, sizeof *mp->metadata_props);
    if (!mp->metadata_props) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < m->n_meta; i++) {
        Onnx__StringStringEntryProto *e = ac_arena_alloc(a, sizeof *e);
        if (!e) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        onnx__string_string_entry_proto__init(e);
        e->key = (char *)m->meta_keys[i];
        e->value = (char *)m->meta_values[i];
        mp->metadata_props[i] = e;
    }
    if (m->n_unknown) {
        ProtobufCMessageUnknownField *u = ac_arena_array(a, m->n_unknown, sizeof *u);
        if (!u) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < m->n_unknown; i++) {
            u[i].tag = m->unknown[i].tag;
            u[i].wire_type = m->unknown[i].wire_type;
            u[i].len = m->unknown[i].len;
            u[i].data = m->unknown[i].data;
        }
        mp->base.n_unknown_fields = (unsigned)m->n_unknown;
        mp->base.unknown_fields = u;
    }
    mp->graph = ac_arena_alloc(a, sizeof *mp->graph);
    if (!mp->graph) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    return ac_onnx_graph_to_proto(m->graph, mp->graph, a, d);
}

static ac_status with_proto(const ac_model *m, ac_arena **a, Onnx__ModelProto *mp, size_t *size,
                            ac_diag *d) {
    AC_TRY(ac_arena_new(0, a, d));
    ac_status s = build_proto(m, *a, mp, d);
    if (s == AC_OK) {
        *size = protobuf_c_message_get_packed_size(&mp->base);
        if (*size > 2147483647u)
            s = AC_FAIL(d, AC_ERR_LIMIT,
                        "the model would be %zu bytes, over protobuf's 2 GiB limit", *size);
    }
    if (s != AC_OK) {
        ac_arena_free(*a);
        *a = NULL;
    }
    return s;
}

ac_status ac_model_save(const ac_model *m, const char *path, ac_diag *d) {
    ac_arena *a;
    Onnx__ModelProto mp;
    size_t size;
    ac_status s = with_proto(m, &a, &mp, &size, d);
    if (s == AC_OK) s = ac_onnx_write_message(&mp.base, path, d);
    ac_arena_free(a);
    if (s != AC_OK) ac_diag_prefix(d, "%s", path);
    return s;
}

ac_status ac_model_save_buffer(const ac_model *m, uint8_t **out, size_t *out_len, ac_diag *d) {
    *out = NULL;
    *out_len = 0;
    ac_arena *a;
    Onnx__ModelProto mp;
    size_t size;
    AC_TRY(with_proto(m, &a, &mp, &size, d));
    uint8_t *buf = ac_malloc(size ? size : 1);
    if (!buf) {
        ac_arena_free(a);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory (%zu bytes)", size);
    }
    *out_len = protobuf_c_message_pack(&mp.base, buf);
    *out = buf;
    ac_arena_free(a);
    return AC_OK;
}

ac_status ac_model_clone(const ac_model *m, ac_model **out, ac_diag *d) {
    /* serialise and read back: exact by the round-trip guarantee, and no second copy of the
     * graph-walking code to keep in sync with the IR */
    *out = NULL;
    uint8_t *buf;
    size_t len;
    AC_TRY(ac_model_save_buffer(m, &buf, &len, d));
    ac_load_opts o = {.max_memory_bytes = (256ull << 20) + 4 * (uint64_t)len};
    ac_status s = ac_model_load_buffer(buf, len, "model copy", NULL, &o, out, d);
    ac_free(buf);
    return s;
}
