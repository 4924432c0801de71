/* SPDX-License-Identifier: MIT */
/* Hostile ONNX files (shared/design/BAD_INPUTS.md, cases 1-14, 25, 26).
 *
 * Every case writes one bad file into a fresh temp folder and checks the whole contract:
 *   - ac_model_load fails with the expected status, and the line from ac_diag_line names the
 *     file and the node/tensor/field (asserted on substrings);
 *   - `autocompress inspect FILE` exits 2 with exactly one line "autocompress: FILE...", and
 *     is never killed by a signal (a crash or a sanitizer abort would show here);
 *   - nothing new appears in the temp folder (no output, no temp file).
 *
 * Models are built from protobuf-c structs around one small valid model (bm_init), changed in
 * one place per case, so a failure points at that one change; the valid model itself is loaded
 * first as a control. Wire-level cases (deep nesting, bad tags) are built as bytes directly.
 *
 * How to add a case: START_TEST, build with bm_init + one change, bm_write, then expect_bad()
 * with the status and the message substrings; add it to the matching tcase at the bottom. */
#define _GNU_SOURCE
#include "check_util.h"

#include "autocompress/ac_model.h"
#include "onnx.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- temp folders, removed after each test (a test makes up to a few dozen) -------------- */

static char *tmp_dirs[64];
static int n_tmp_dirs;

static const char *new_tmpdir(void) {
    const char *dir = ac_test_tmpdir();
    ck_assert_int_lt(n_tmp_dirs, 64);
    tmp_dirs[n_tmp_dirs] = strdup(dir);
    ck_assert_ptr_nonnull(tmp_dirs[n_tmp_dirs]);
    return tmp_dirs[n_tmp_dirs++];
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* FTW_PHYS: the folders hold symlinks to /etc; remove the links, never follow them. */
static void remove_tmpdirs(void) {
    for (int i = 0; i < n_tmp_dirs; i++) {
        nftw(tmp_dirs[i], remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        free(tmp_dirs[i]);
    }
    n_tmp_dirs = 0;
}

/* ---- checking one bad file --------------------------------------------------------------- */

/* Runs `autocompress inspect path` and checks the CLI half of the contract. */
static void expect_cli_rejects(const char *path) {
    char args[1200];
    snprintf(args, sizeof args, "inspect '%s'", path);
    char *out = NULL;
    int rc = ac_test_run_cli(args, &out);
    ck_assert_msg(rc < 128, "inspect %s was killed by signal %d; output:\n%s", path, rc - 128, out);
    ck_assert_msg(rc == 2, "inspect %s exited %d, expected 2; output:\n%s", path, rc, out);
    size_t len = strlen(out);
    ck_assert_msg(len > 0 && out[len - 1] == '\n' && strchr(out, '\n') == out + len - 1,
                  "inspect %s must print exactly one line; got:\n%s", path, out);
    ck_assert_msg(strncmp(out, "autocompress: ", 14) == 0,
                  "inspect %s: line must start with \"autocompress: \"; got: %s", path, out);
    ck_assert_msg(strstr(out, path) != NULL, "inspect %s: line must name the file; got: %s", path,
                  out);
    free(out);
}

/* Loads `path` (in folder `dir`) and checks: status `want`, a line naming the file and holding
 * every NULL-terminated substring, and (if `cli`) the CLI's answer. Also checks that neither
 * wrote anything into `dir`. */
static void expect_bad(const char *dir, const char *path, const ac_load_opts *opts, ac_status want,
                       int cli, ...) {
    int before = ac_test_count_files(dir);
    ac_diag d = {0};
    ac_model *m = (ac_model *)&d; /* must be reset to NULL on failure */
    ac_status s = ac_model_load(path, opts, &m, &d);
    char line[sizeof d.where + sizeof d.msg + 8];
    ac_diag_line(&d, line, sizeof line);
    if (s == AC_OK) ac_model_free(m);
    ck_assert_msg(s != AC_OK, "%s: loaded, but must be rejected", path);
    ck_assert_ptr_null(m);
    ck_assert_msg(s == want && d.status == want, "%s: status %s, expected %s (%s)", path,
                  ac_status_str(s), ac_status_str(want), line);
    ck_assert_msg(strstr(line, path) != NULL, "message does not name the file: %s", line);
    va_list ap;
    va_start(ap, cli);
    for (const char *needle; (needle = va_arg(ap, const char *)) != NULL;)
        ck_assert_msg(strstr(line, needle) != NULL, "message lacks \"%s\": %s", needle, line);
    va_end(ap);
    ck_assert_int_eq(ac_test_count_files(dir), before);
    if (cli) {
        expect_cli_rejects(path);
        ck_assert_int_eq(ac_test_count_files(dir), before);
    }
}

#define EXPECT_BAD(dir, path, opts, want, ...)                                                     \
    expect_bad(dir, path, opts, want, 1, __VA_ARGS__, NULL)
#define EXPECT_BAD_LIB(dir, path, opts, want, ...)                                                 \
    expect_bad(dir, path, opts, want, 0, __VA_ARGS__, NULL)

/* ---- a small valid model, changed one field per case ------------------------------------ */

/* y = Add(x, w): input x float[1,4], initializer w float[4] (float_data), output y float[1,4].
 * Everything lives inside the struct, so a case edits fields and packs; nothing is freed. */
typedef struct bm {
    Onnx__ModelProto m;
    Onnx__OperatorSetIdProto op;
    Onnx__OperatorSetIdProto *ops[1];
    Onnx__GraphProto g;
    Onnx__NodeProto node[4];
    Onnx__NodeProto *nodes[4];
    char *node_io[4][2][3]; /* [node][0 = inputs, 1 = outputs][k] */
    Onnx__TensorProto init[3];
    Onnx__TensorProto *inits[3];
    int64_t init_dims[3][4];
    float init_f[3][4];
    Onnx__StringStringEntryProto ext[3];
    Onnx__StringStringEntryProto *exts[3];
    Onnx__ValueInfoProto vi[4]; /* 0, 1: graph inputs; 2, 3: graph outputs */
    Onnx__ValueInfoProto *ins[2], *outs[2];
    Onnx__TypeProto ty[4];
    Onnx__TypeProto__Tensor tt[4];
    Onnx__TensorShapeProto sh[4];
    Onnx__TensorShapeProto__Dimension dim[4][2];
    Onnx__TensorShapeProto__Dimension *dims[4][2];
} bm;

static void bm_value_info(bm *b, int i, const char *name) {
    onnx__value_info_proto__init(&b->vi[i]);
    onnx__type_proto__init(&b->ty[i]);
    onnx__type_proto__tensor__init(&b->tt[i]);
    onnx__tensor_shape_proto__init(&b->sh[i]);
    b->vi[i].name = (char *)name;
    b->vi[i].type = &b->ty[i];
    b->ty[i].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    b->ty[i].tensor_type = &b->tt[i];
    b->tt[i].has_elem_type = 1;
    b->tt[i].elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    b->tt[i].shape = &b->sh[i];
    static const int64_t shape[2] = {1, 4};
    for (int k = 0; k < 2; k++) {
        onnx__tensor_shape_proto__dimension__init(&b->dim[i][k]);
        b->dim[i][k].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        b->dim[i][k].dim_value = shape[k];
        b->dims[i][k] = &b->dim[i][k];
    }
    b->sh[i].n_dim = 2;
    b->sh[i].dim = b->dims[i];
}

/* Sets node i (and makes it the last one): up to 3 inputs, up to 3 outputs. */
static void bm_node(bm *b, int i, const char *name, const char *op, const char *in0,
                    const char *in1, const char *out0) {
    Onnx__NodeProto *n = &b->node[i];
    onnx__node_proto__init(n);
    n->name = (char *)name;
    n->op_type = (char *)op;
    b->node_io[i][0][0] = (char *)in0;
    b->node_io[i][0][1] = (char *)in1;
    b->node_io[i][1][0] = (char *)out0;
    n->input = b->node_io[i][0];
    n->n_input = in1 ? 2 : 1;
    n->output = b->node_io[i][1];
    n->n_output = 1;
    b->nodes[i] = n;
    b->g.n_node = (size_t)i + 1;
}

/* Sets initializer i as float[4] = {1,2,3,4} in float_data (and makes it the last one). */
static void bm_init_tensor(bm *b, int i, const char *name) {
    Onnx__TensorProto *t = &b->init[i];
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    b->init_dims[i][0] = 4;
    t->n_dims = 1;
    t->dims = b->init_dims[i];
    for (int k = 0; k < 4; k++)
        b->init_f[i][k] = (float)(k + 1);
    t->n_float_data = 4;
    t->float_data = b->init_f[i];
    b->inits[i] = t;
    b->g.n_initializer = (size_t)i + 1;
}

static void bm_init(bm *b) {
    memset(b, 0, sizeof *b);
    onnx__model_proto__init(&b->m);
    onnx__operator_set_id_proto__init(&b->op);
    onnx__graph_proto__init(&b->g);
    b->m.has_ir_version = 1;
    b->m.ir_version = 8;
    b->m.producer_name = (char *)"bad_inputs";
    b->op.domain = (char *)"";
    b->op.has_version = 1;
    b->op.version = 17;
    b->ops[0] = &b->op;
    b->m.n_opset_import = 1;
    b->m.opset_import = b->ops;
    b->m.graph = &b->g;
    b->g.name = (char *)"main";
    b->g.node = b->nodes;
    b->g.initializer = b->inits;
    b->g.input = b->ins;
    b->g.output = b->outs;
    bm_node(b, 0, "add_0", "Add", "x", "w", "y");
    bm_init_tensor(b, 0, "w");
    bm_value_info(b, 0, "x");
    b->ins[0] = &b->vi[0];
    b->g.n_input = 1;
    bm_value_info(b, 2, "y");
    b->outs[0] = &b->vi[2];
    b->g.n_output = 1;
}

/* Moves initializer i's data to an external file: key/value pairs with NULL = key absent. */
static void bm_external(bm *b, int i, const char *location, const char *offset,
                        const char *length) {
    Onnx__TensorProto *t = &b->init[i];
    t->n_float_data = 0;
    t->float_data = NULL;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    const char *keys[3] = {"location", "offset", "length"};
    const char *vals[3] = {location, offset, length};
    size_t n = 0;
    for (int k = 0; k < 3; k++) {
        if (!vals[k]) continue;
        onnx__string_string_entry_proto__init(&b->ext[n]);
        b->ext[n].key = (char *)keys[k];
        b->ext[n].value = (char *)vals[k];
        b->exts[n] = &b->ext[n];
        n++;
    }
    t->n_external_data = n;
    t->external_data = b->exts;
}

static uint8_t *bm_pack(const bm *b, size_t *len) {
    size_t n = protobuf_c_message_get_packed_size(&b->m.base);
    uint8_t *buf = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(buf);
    *len = protobuf_c_message_pack(&b->m.base, buf);
    ck_assert_uint_eq(*len, n);
    return buf;
}

static void bm_write(const bm *b, const char *path) {
    size_t n;
    uint8_t *buf = bm_pack(b, &n);
    ac_test_write_file(path, buf, n);
    free(buf);
}

/* Writes `b` as model.onnx in a new temp folder; returns the model path. */
static const char *bm_write_tmp(const bm *b, const char **dir) {
    *dir = new_tmpdir();
    const char *path = ac_test_path(*dir, "model.onnx");
    bm_write(b, path);
    return path;
}

/* The control every case leans on: the unchanged model loads, and inspect accepts it. */
START_TEST(test_base_model_is_valid) {
    bm b;
    bm_init(&b);
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    ac_diag d = {0};
    ac_model *m = NULL;
    char line[800];
    ck_assert_msg(ac_model_load(path, NULL, &m, &d) == AC_OK, "%s",
                  ac_diag_line(&d, line, sizeof line));
    ck_assert_int_eq(ac_model_graph(m)->n_nodes, 1);
    ac_model_free(m);
    char args[1100];
    snprintf(args, sizeof args, "inspect '%s'", path);
    ck_assert_int_eq(ac_test_run_cli(args, NULL), 0);

    /* same with external data, so the external-data cases differ from a good file only in the
     * one field they break */
    float data[4] = {1, 2, 3, 4};
    ac_test_write_file(ac_test_path(dir, "w.bin"), data, sizeof data);
    bm_external(&b, 0, "w.bin", "0", "16");
    bm_write(&b, path);
    ck_assert_msg(ac_model_load(path, NULL, &m, &d) == AC_OK, "%s",
                  ac_diag_line(&d, line, sizeof line));
    ck_assert_mem_eq(ac_model_graph(m)->inits[0]->init->data, data, sizeof data);
    ac_model_free(m);
    ck_assert_int_eq(ac_test_run_cli(args, NULL), 0);
}
END_TEST

/* ---- wire format ------------------------------------------------------------------------- */

static size_t varint_len(uint64_t v) {
    size_t n = 1;
    for (; v >= 0x80; v >>= 7)
        n++;
    return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v) {
    for (; v >= 0x80; v >>= 7)
        *p++ = (uint8_t)(v | 0x80);
    *p++ = (uint8_t)v;
    return p;
}

/* The valid model's bytes with `pre` put in front and `post` after (fields may come in any
 * order, so a bad field in front is read first). */
static const char *write_spliced(const uint8_t *pre, size_t npre, const uint8_t *post, size_t npost,
                                 const char **dir) {
    bm b;
    bm_init(&b);
    size_t n;
    uint8_t *body = bm_pack(&b, &n);
    uint8_t *buf = malloc(npre + n + npost);
    ck_assert_ptr_nonnull(buf);
    if (npre) memcpy(buf, pre, npre);
    memcpy(buf + npre, body, n);
    if (npost) memcpy(buf + npre + n, post, npost);
    *dir = new_tmpdir();
    const char *path = ac_test_path(*dir, "model.onnx");
    ac_test_write_file(path, buf, npre + n + npost);
    free(body);
    free(buf);
    return path;
}

START_TEST(test_empty_file) {
    const char *dir = new_tmpdir();
    const char *path = ac_test_path(dir, "empty.onnx");
    ac_test_write_file(path, "", 0);
    EXPECT_BAD(dir, path, NULL, AC_ERR_FORMAT, "file is empty");
}
END_TEST

START_TEST(test_random_bytes) {
    static const size_t sizes[] = {1, 2, 7, 64, 1000, 65536, 1 << 20};
    for (uint64_t seed = 1; seed <= 5; seed++) {
        ac_test_rng r = {seed * 0x9e3779b97f4a7c15ull};
        size_t n = sizes[(seed * 3) % (sizeof sizes / sizeof sizes[0])];
        uint8_t *buf = malloc(n);
        ck_assert_ptr_nonnull(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)(ac_test_rng_next(&r) >> 56);
        const char *dir = new_tmpdir();
        const char *path = ac_test_path(dir, "random.onnx");
        ac_test_write_file(path, buf, n);
        free(buf);
        /* random bytes almost always break the wire format first; which rule trips is luck */
        int before = ac_test_count_files(dir);
        ac_diag d = {0};
        ac_model *m = NULL;
        ac_status s = ac_model_load(path, NULL, &m, &d);
        char line[800];
        ac_diag_line(&d, line, sizeof line);
        ck_assert_msg(
            s == AC_ERR_FORMAT || s == AC_ERR_MODEL || s == AC_ERR_LIMIT || s == AC_ERR_UNSUPPORTED,
            "seed %llu: status %s (%s)", (unsigned long long)seed, ac_status_str(s), line);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(line, path) != NULL, "message does not name the file: %s", line);
        ck_assert_int_eq(ac_test_count_files(dir), before);
        expect_cli_rejects(path);
    }
}
END_TEST

START_TEST(test_truncated_shared_model) {
    const char *shared = ac_test_shared_dir();
    if (!shared) return; /* no ../shared: skipped */
    char src[1024];
    snprintf(src, sizeof src, "%s/models/cls_resnet20/model.onnx", shared);
    if (access(src, R_OK) != 0) return;
    size_t n;
    uint8_t *full = ac_test_read_file(src, &n);
    ck_assert_uint_gt(n, 1000);
    const char *dir = new_tmpdir();
    const char *path = ac_test_path(dir, "cut.onnx");
    /* 16 cut points: a few in the header, the rest spread over the weights to the last byte */
    size_t cuts[16] = {1, 2, 5, 17};
    for (int k = 4; k < 15; k++)
        cuts[k] = n / 12 * (size_t)(k - 3) + 7 * (size_t)k;
    cuts[15] = n - 1;
    for (int k = 0; k < 16; k++) {
        ck_assert_uint_lt(cuts[k], n);
        ac_test_write_file(path, full, cuts[k]);
        /* a cut that lands between two header fields leaves valid protobuf without a graph;
         * everywhere else the pre-scan sees a field cut short */
        EXPECT_BAD(dir, path, NULL, AC_ERR_FORMAT, k < 4 ? "not a" : "truncated or corrupt");
    }
    free(full);
}
END_TEST

/* One byte overwritten at 16 places spread over the shared model: most land in weights and
 * still load; the others must fail cleanly. Exercises the decoder past the first length. */
START_TEST(test_corrupted_shared_model) {
    const char *shared = ac_test_shared_dir();
    if (!shared) return;
    char src[1024];
    snprintf(src, sizeof src, "%s/models/cls_resnet20/model.onnx", shared);
    if (access(src, R_OK) != 0) return;
    size_t n;
    uint8_t *full = ac_test_read_file(src, &n);
    const char *dir = new_tmpdir();
    const char *path = ac_test_path(dir, "corrupt.onnx");
    ac_test_rng r = {99};
    for (int k = 0; k < 16; k++) {
        size_t at = n / 16 * (size_t)k + (size_t)(ac_test_rng_next(&r) % (n / 16));
        uint8_t old = full[at];
        full[at] = (uint8_t)(ac_test_rng_next(&r) >> 56) | 0x80; /* a varint that goes on */
        ac_diag d = {0};
        ac_model *m = NULL;
        ac_status s = ac_model_load_buffer(full, n, "corrupt.onnx", NULL, NULL, &m, &d);
        if (s == AC_OK) {
            ac_model_free(m);
        } else {
            char line[800];
            ac_diag_line(&d, line, sizeof line);
            ck_assert_msg(s == AC_ERR_FORMAT || s == AC_ERR_MODEL || s == AC_ERR_LIMIT ||
                              s == AC_ERR_UNSUPPORTED,
                          "byte %zu: status %s (%s)", at, ac_status_str(s), line);
            ck_assert_msg(strncmp(line, "corrupt.onnx: ", 14) == 0, "byte %zu: %s", at, line);
            ac_test_write_file(path, full, n);
            expect_cli_rejects(path);
        }
        full[at] = old;
    }
    free(full);
}
END_TEST

START_TEST(test_wrong_wire_type) {
    /* ir_version (field 1, varint) sent as length-delimited: tag 0x0a, length 0 */
    static const uint8_t bad[] = {0x0a, 0x00};
    const char *dir;
    const char *path = write_spliced(bad, sizeof bad, NULL, 0, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_FORMAT, "ir_version", "wire type 2", "byte 0");
}
END_TEST

START_TEST(test_field_number_zero) {
    static const uint8_t bad[] = {0x02, 0x00}; /* field 0, wire type 2, length 0 */
    const char *dir;
    const char *path = write_spliced(bad, sizeof bad, NULL, 0, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_FORMAT, "invalid field number 0", "byte 0");
}
END_TEST

START_TEST(test_length_past_end) {
    /* graph (field 7) whose length prefix says 2^31-1 bytes, with 3 bytes left; and one whose
     * length does not even fit 64 bits */
    static const uint8_t huge[] = {0x3a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x0a, 0x00, 0x00};
    const char *dir;
    const char *path = write_spliced(NULL, 0, huge, sizeof huge, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_FORMAT, "length runs past the end", "truncated or corrupt");
    static const uint8_t overlong[] = {0x3a, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0x7f};
    path = write_spliced(NULL, 0, overlong, sizeof overlong, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_FORMAT, "not a valid ONNX protobuf");
}
END_TEST

/* ModelProto { ir_version 8, opset 17, graph { node { If, then_branch { node { If, ... }}}}}
 * `levels` If nodes deep, the innermost branch empty. Built as bytes: protobuf-c cannot even
 * pack this (it recurses), and the point is that the reader must not recurse either. */
static uint8_t *deep_if_model(int levels, size_t *out_len) {
    size_t *glen = calloc((size_t)levels + 1, sizeof *glen);
    size_t *alen = calloc((size_t)levels + 1, sizeof *alen);
    size_t *nlen = calloc((size_t)levels + 1, sizeof *nlen);
    ck_assert(glen && alen && nlen);
    for (int k = levels - 1; k >= 0; k--) {
        /* attribute: name "then_branch" (13) + type GRAPH (3) + g (tag, length, body) */
        alen[k] = 13 + 3 + 1 + varint_len(glen[k + 1]) + glen[k + 1];
        /* node: op_type "If" (4) + attribute (tag, length, body) */
        nlen[k] = 4 + 1 + varint_len(alen[k]) + alen[k];
        /* graph: node (tag, length, body) */
        glen[k] = 1 + varint_len(nlen[k]) + nlen[k];
    }
    static const uint8_t head[] = {0x08, 0x08, 0x42, 0x02, 0x10, 0x11};
    size_t total = sizeof head + 1 + varint_len(glen[0]) + glen[0];
    uint8_t *buf = malloc(total), *p = buf;
    ck_assert_ptr_nonnull(buf);
    memcpy(p, head, sizeof head);
    p += sizeof head;
    *p++ = 0x3a; /* ModelProto.graph */
    p = put_varint(p, glen[0]);
    for (int k = 0; k < levels; k++) {
        *p++ = 0x0a; /* GraphProto.node */
        p = put_varint(p, nlen[k]);
        memcpy(p, "\x22\x02If", 4); /* NodeProto.op_type */
        p += 4;
        *p++ = 0x2a; /* NodeProto.attribute */
        p = put_varint(p, alen[k]);
        memcpy(p, "\x0a\x0bthen_branch", 13); /* AttributeProto.name */
        p += 13;
        memcpy(p, "\xa0\x01\x05", 3); /* AttributeProto.type = GRAPH */
        p += 3;
        *p++ = 0x32; /* AttributeProto.g */
        p = put_varint(p, glen[k + 1]);
    }
    ck_assert_uint_eq((size_t)(p - buf), total);
    free(glen);
    free(alen);
    free(nlen);
    *out_len = total;
    return buf;
}

START_TEST(test_deep_nesting) {
    /* control: a few levels load, so the deep file fails for its depth and nothing else */
    size_t n;
    uint8_t *buf = deep_if_model(3, &n);
    const char *dir = new_tmpdir();
    const char *path = ac_test_path(dir, "nested.onnx");
    ac_test_write_file(path, buf, n);
    free(buf);
    ac_diag d = {0};
    ac_model *m = NULL;
    char line[800];
    ck_assert_msg(ac_model_load(path, NULL, &m, &d) == AC_OK, "%s",
                  ac_diag_line(&d, line, sizeof line));
    ac_model_free(m);

    buf = deep_if_model(5000, &n);
    ac_test_write_file(path, buf, n);
    free(buf);
    EXPECT_BAD(dir, path, NULL, AC_ERR_LIMIT, "nesting depth", "limit of 100");
}
END_TEST

/* 10 MB of empty NodeProtos (`0a 00` x 5M) inside the graph: each costs 2 bytes on disk and a
 * whole struct once decoded. */
static const char *write_amplifier(const char **dir) {
    const size_t count = 5u * 1000 * 1000;
    static const uint8_t head[] = {0x08, 0x08, 0x42, 0x02, 0x10, 0x11, 0x3a};
    size_t total = sizeof head + varint_len(2 * count) + 2 * count;
    uint8_t *buf = malloc(total);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, head, sizeof head);
    uint8_t *p = put_varint(buf + sizeof head, 2 * count);
    for (size_t i = 0; i < count; i++, p += 2)
        memcpy(p, "\x0a\x00", 2);
    ck_assert_uint_eq((size_t)(p - buf), total);
    *dir = new_tmpdir();
    const char *path = ac_test_path(*dir, "amplify.onnx");
    ac_test_write_file(path, buf, total);
    free(buf);
    return path;
}

START_TEST(test_allocation_amplification) {
    const char *dir;
    const char *path = write_amplifier(&dir);
    /* defaults: the node-count limit trips during the pre-scan */
    EXPECT_BAD(dir, path, NULL, AC_ERR_LIMIT, "nodes", "limit");
    /* with a high node limit, the memory estimate must stop it instead */
    ac_load_opts o = {.max_nodes = 100 * 1000 * 1000, .max_memory_bytes = 64u << 20};
    EXPECT_BAD_LIB(dir, path, &o, AC_ERR_LIMIT, "memory budget of 64 MB");
}
END_TEST

START_TEST(test_file_over_size_limit) {
    bm b;
    bm_init(&b);
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    ac_load_opts o = {.max_file_bytes = 64};
    EXPECT_BAD_LIB(dir, path, &o, AC_ERR_LIMIT, "over the limit of 64 bytes");

    /* the default 2 GiB - 1 limit, with a sparse file: refused before a byte is read */
    const char *big = ac_test_path(dir, "big.onnx");
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    int rc = ftruncate(fd, (off_t)1 << 31);
    close(fd);
    if (rc != 0) return; /* file system without sparse files: the library case above stands */
    EXPECT_BAD(dir, big, NULL, AC_ERR_LIMIT, "2147483648 bytes", "over the limit");
    unlink(big);
}
END_TEST

/* Two initializers named "x\0a" and "x\0b": written as "x@a"/"x@b", then patched, since
 * protobuf-c packs C strings. Both would read back as "x". */
START_TEST(test_name_with_nul) {
    bm b;
    bm_init(&b);
    bm_init_tensor(&b, 1, "x@a");
    bm_init_tensor(&b, 2, "x@b");
    size_t n;
    uint8_t *buf = bm_pack(&b, &n);
    int patched = 0;
    for (size_t i = 0; i + 2 < n; i++)
        if (buf[i] == 'x' && buf[i + 1] == '@' && (buf[i + 2] == 'a' || buf[i + 2] == 'b')) {
            buf[i + 1] = 0;
            patched++;
        }
    ck_assert_int_eq(patched, 2);
    const char *dir = new_tmpdir();
    const char *path = ac_test_path(dir, "model.onnx");
    ac_test_write_file(path, buf, n);
    free(buf);
    EXPECT_BAD(dir, path, NULL, AC_ERR_FORMAT, "TensorProto.name", "NUL byte");
}
END_TEST

/* Flip a few bytes of the valid model, many times: any answer is fine except a crash, a
 * non-input status or a message without the file name. Library only (fast); the CLI sees a few. */
START_TEST(test_mutated_model) {
    bm b;
    bm_init(&b);
    size_t n;
    uint8_t *good = bm_pack(&b, &n);
    uint8_t *buf = malloc(n);
    ck_assert_ptr_nonnull(buf);
    ac_test_rng r = {12345};
    const char *dir = new_tmpdir();
    const char *path = ac_test_path(dir, "mutant.onnx");
    int rejected = 0;
    for (int it = 0; it < 2000; it++) {
        memcpy(buf, good, n);
        int flips = 1 + (int)(ac_test_rng_next(&r) % 4);
        for (int k = 0; k < flips; k++)
            buf[ac_test_rng_next(&r) % n] = (uint8_t)(ac_test_rng_next(&r) >> 56);
        ac_diag d = {0};
        ac_model *m = NULL;
        ac_status s = ac_model_load_buffer(buf, n, "mutant.onnx", NULL, NULL, &m, &d);
        if (s == AC_OK) {
            ac_model_free(m);
            continue;
        }
        char line[800];
        ac_diag_line(&d, line, sizeof line);
        ck_assert_msg(s == AC_ERR_FORMAT || s == AC_ERR_MODEL || s == AC_ERR_LIMIT ||
                          s == AC_ERR_UNSUPPORTED,
                      "mutant %d: status %s (%s)", it, ac_status_str(s), line);
        ck_assert_msg(strncmp(line, "mutant.onnx: ", 13) == 0, "mutant %d: %s", it, line);
        if (rejected++ < 8) {
            ac_test_write_file(path, buf, n);
            expect_cli_rejects(path);
        }
    }
    ck_assert_int_gt(rejected, 100);
    free(buf);
    free(good);
}
END_TEST

/* ---- model-level fields ------------------------------------------------------------------ */

START_TEST(test_ir_version_zero) {
    bm b;
    bm_init(&b);
    b.m.ir_version = 0;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_FORMAT, "ir_version");
}
END_TEST

START_TEST(test_ir_version_too_new) {
    bm b;
    bm_init(&b);
    b.m.ir_version = 99;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_UNSUPPORTED, "ir_version 99", "newer than supported");
}
END_TEST

START_TEST(test_no_opset_import) {
    bm b;
    bm_init(&b);
    b.m.n_opset_import = 0;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "no opset_import");
}
END_TEST

START_TEST(test_opset_too_new) {
    bm b;
    bm_init(&b);
    b.op.domain = (char *)"ai.onnx";
    b.op.version = 30;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_UNSUPPORTED, "opset ai.onnx v30", "supported <= 23");
}
END_TEST

/* ---- tensors ----------------------------------------------------------------------------- */

START_TEST(test_negative_dim) {
    bm b;
    bm_init(&b);
    b.init_dims[0][0] = -5;
    b.init[0].n_float_data = 0;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "negative dimension");

    bm_init(&b);
    b.dim[0][1].dim_value = -1;
    path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "graph input \"x\"", "negative dimension -1",
               "axis 1");
}
END_TEST

START_TEST(test_raw_data_too_short) {
    bm b;
    bm_init(&b);
    b.init_dims[0][0] = 1000000;
    b.init[0].n_float_data = 0;
    b.init[0].has_raw_data = 1;
    b.init[0].raw_data.data = (uint8_t *)"\0\0\0\0";
    b.init[0].raw_data.len = 4;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"",
               "raw_data has 4 bytes, expected 4000000");
}
END_TEST

START_TEST(test_raw_data_not_multiple) {
    bm b;
    bm_init(&b);
    b.init[0].n_float_data = 0;
    b.init[0].has_raw_data = 1;
    b.init[0].raw_data.data = (uint8_t *)"1234567";
    b.init[0].raw_data.len = 7;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"",
               "raw_data has 7 bytes, expected 16");
}
END_TEST

START_TEST(test_huge_element_count) {
    bm b;
    bm_init(&b);
    b.init_dims[0][0] = (int64_t)1 << 31;
    b.init_dims[0][1] = (int64_t)1 << 31;
    b.init[0].n_dims = 2;
    b.init[0].n_float_data = 0;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_LIMIT, "initializer \"w\"", "4611686018427387904 elements",
               "limit");
}
END_TEST

START_TEST(test_dims_overflow) {
    bm b;
    bm_init(&b);
    b.init_dims[0][0] = (int64_t)1 << 62;
    b.init_dims[0][1] = (int64_t)1 << 62;
    b.init[0].n_dims = 2;
    b.init[0].n_float_data = 0;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_LIMIT, "initializer \"w\"",
               "dimension product overflows int64");
}
END_TEST

START_TEST(test_raw_and_float_data) {
    bm b;
    bm_init(&b);
    static const float raw[4] = {1, 2, 3, 4};
    b.init[0].has_raw_data = 1;
    b.init[0].raw_data.data = (uint8_t *)raw;
    b.init[0].raw_data.len = sizeof raw;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "raw_data", "float_data");
}
END_TEST

START_TEST(test_bad_data_type) {
    static const int32_t types[] = {0, 999, -1};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        bm b;
        bm_init(&b);
        b.init[0].data_type = types[i];
        const char *dir;
        const char *path = bm_write_tmp(&b, &dir);
        char want[64];
        snprintf(want, sizeof want, "data_type %d is not a valid", (int)types[i]);
        EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", want);
    }
}
END_TEST

START_TEST(test_string_tensor_raw_data) {
    bm b;
    bm_init(&b);
    b.init[0].data_type = ONNX__TENSOR_PROTO__DATA_TYPE__STRING;
    b.init[0].n_float_data = 0;
    b.init[0].has_raw_data = 1;
    b.init[0].raw_data.data = (uint8_t *)"abcd";
    b.init[0].raw_data.len = 4;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "string_data");
}
END_TEST

/* A sparse initializer of 2^34 float elements with no values: a few bytes on disk, 64 GiB once
 * made dense. The dense size must count against the memory budget, not reach malloc. */
START_TEST(test_sparse_amplification) {
    bm b;
    bm_init(&b);
    Onnx__TensorProto vals, idx;
    onnx__tensor_proto__init(&vals);
    onnx__tensor_proto__init(&idx);
    int64_t zero = 0, dense = (int64_t)1 << 34;
    vals.name = (char *)"big";
    vals.has_data_type = 1;
    vals.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    vals.n_dims = 1;
    vals.dims = &zero;
    idx.has_data_type = 1;
    idx.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    idx.n_dims = 1;
    idx.dims = &zero;
    Onnx__SparseTensorProto sp;
    onnx__sparse_tensor_proto__init(&sp);
    sp.values = &vals;
    sp.indices = &idx;
    sp.n_dims = 1;
    sp.dims = &dense;
    Onnx__SparseTensorProto *sps[1] = {&sp};
    b.g.n_sparse_initializer = 1;
    b.g.sparse_initializer = sps;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_LIMIT, "sparse initializer \"big\"", "memory budget");
}
END_TEST

/* Names are untrusted text that ends up in the message: a newline or an escape sequence in one
 * must not split the CLI's single line or reach the terminal raw. */
START_TEST(test_control_chars_in_names) {
    bm b;
    bm_init(&b);
    bm_node(&b, 0, "conv\n3", "Conv", "x", "w3\nautocompress: ok\x1b[2J\r", "y");
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "never defined");
    ac_diag d = {0};
    ac_model *m = NULL;
    ck_assert_int_ne(ac_model_load(path, NULL, &m, &d), AC_OK);
    char line[800];
    ac_diag_line(&d, line, sizeof line);
    for (const char *p = line; *p; p++)
        ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f, "control byte 0x%02x in: %s",
                      (unsigned)(unsigned char)*p, line);
}
END_TEST

/* ---- external data ----------------------------------------------------------------------- */

/* Model folder with w.bin (16 bytes, what w needs) and the model pointing at `location`. */
static const char *write_external(const char *location, const char *offset, const char *length,
                                  const char **dir) {
    bm b;
    bm_init(&b);
    bm_external(&b, 0, location, offset, length);
    const char *path = bm_write_tmp(&b, dir);
    static const float data[4] = {1, 2, 3, 4};
    ac_test_write_file(ac_test_path(*dir, "w.bin"), data, sizeof data);
    return path;
}

START_TEST(test_external_path_escape) {
    static const char *const escapes[] = {"../../etc/passwd", "a/../../x", "../w.bin", ".",
                                          "./w.bin",          "a//w.bin",  "w.bin/"};
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        const char *dir;
        const char *path = write_external(escapes[i], NULL, NULL, &dir);
        char want[300];
        snprintf(want, sizeof want, "'%s' is outside the model directory", escapes[i]);
        EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", want);
    }
    const char *dir;
    const char *path = write_external("/etc/passwd", NULL, NULL, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "absolute path");
    path = write_external("", NULL, NULL, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "location is empty");
    path = write_external(NULL, NULL, NULL, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "location is empty");
}
END_TEST

START_TEST(test_external_symlink) {
    /* the target is a 16-byte file (the size w needs) in a folder of our own, so the only thing
     * wrong is where it is, and the test does not depend on /etc */
    const char *outside = new_tmpdir();
    const char *secret = ac_test_path(outside, "secret.bin");
    ac_test_write_file(secret, "0123456789abcdef", 16);
    /* a link inside the folder to a file outside it */
    const char *dir;
    const char *path = write_external("link.bin", NULL, NULL, &dir);
    ck_assert_int_eq(symlink(secret, ac_test_path(dir, "link.bin")), 0);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "'link.bin'",
               "outside the model directory");
    /* a link to a folder outside, used as a path component */
    path = write_external("sub/secret.bin", NULL, NULL, &dir);
    ck_assert_int_eq(symlink(outside, ac_test_path(dir, "sub")), 0);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "'sub/secret.bin'",
               "outside the model directory");
    /* and the classic: a link to a system file */
    path = write_external("hostname", NULL, NULL, &dir);
    ck_assert_int_eq(symlink("/etc/hostname", ac_test_path(dir, "hostname")), 0);
    if (access("/etc/hostname", R_OK) == 0)
        EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "'hostname'",
                   "outside the model directory");
}
END_TEST

START_TEST(test_external_hard_link) {
    /* a second name, inside the folder, for a file outside it */
    const char *outside = new_tmpdir();
    const char *secret = ac_test_path(outside, "secret.bin");
    ac_test_write_file(secret, "0123456789abcdef", 16);
    const char *dir;
    const char *path = write_external("hard.bin", NULL, NULL, &dir);
    if (link(secret, ac_test_path(dir, "hard.bin")) != 0) {
        ck_assert_msg(errno == EPERM || errno == EXDEV, "link: %s", strerror(errno));
        return; /* no hard links here (protected_hardlinks or another file system) */
    }
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "'hard.bin'", "hard link");
}
END_TEST

START_TEST(test_external_offset_length) {
    static const struct {
        const char *offset, *length, *want;
    } cases[] = {
        {"1000000000000000", NULL, "at offset 1000000000000000, but 'w.bin' has 16 bytes"},
        {NULL, "1000000000000000", "length is 1000000000000000 bytes, expected 16"},
        {"-1", NULL, "offset '-1' is not a byte count"},
        {NULL, "-1", "length '-1' is not a byte count"},
        {"12abc", NULL, "offset '12abc' is not a byte count"},
        {NULL, "12abc", "length '12abc' is not a byte count"},
        {"", NULL, "offset '' is not a byte count"},
        {"99999999999999999999", NULL, "is not a byte count"}, /* overflows int64 */
        {"8", "16", "16 bytes at offset 8, but 'w.bin' has 16 bytes"},
        {"4", NULL, "16 bytes at offset 4, but 'w.bin' has 16 bytes"},
        {"0", "12", "length is 12 bytes, expected 16"},
        {"0", "20", "length is 20 bytes, expected 16"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *dir;
        const char *path = write_external("w.bin", cases[i].offset, cases[i].length, &dir);
        EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", cases[i].want);
    }
    /* no length given and a file longer than the tensor: the extra bytes are not ignored */
    const char *dir;
    const char *path = write_external("w.bin", NULL, NULL, &dir);
    ac_test_write_file(ac_test_path(dir, "w.bin"), "0123456789abcdefghij", 20);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"",
               "'w.bin' has 20 bytes after offset 0, expected 16");
}
END_TEST

/* ---- graph structure --------------------------------------------------------------------- */

START_TEST(test_cycle) {
    bm b;
    bm_init(&b);
    /* y = add_0(x, w); a = A(y, bb); bb = B(a): A and B feed each other */
    bm_node(&b, 1, "A", "Add", "y", "bb", "a");
    bm_node(&b, 2, "B", "Relu", "a", NULL, "bb");
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "cycle", "node \"A\" (Add)", "node \"B\" (Relu)");

    /* the same pair listed in the other order */
    bm_node(&b, 1, "B", "Relu", "a", NULL, "bb");
    bm_node(&b, 2, "A", "Add", "y", "bb", "a");
    path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "cycle", "node \"A\" (Add)", "node \"B\" (Relu)");

    /* a node reading its own output */
    bm_node(&b, 1, "self", "Add", "y", "s", "s");
    b.g.n_node = 2;
    path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "cycle", "node \"self\" (Add)");
}
END_TEST

START_TEST(test_undefined_input) {
    bm b;
    bm_init(&b);
    bm_node(&b, 0, "conv_3", "Conv", "x", "w3", "y");
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL,
               "node \"conv_3\" (Conv): input \"w3\" is never defined");
}
END_TEST

START_TEST(test_duplicate_node_output) {
    bm b;
    bm_init(&b);
    bm_node(&b, 1, "add_1", "Add", "x", "w", "y");
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "node \"add_1\" (Add)", "output \"y\"",
               "already defined");

    /* a node writing over an initializer's name */
    bm_init(&b);
    bm_node(&b, 1, "add_1", "Add", "x", "y", "w");
    path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "node \"add_1\" (Add)", "output \"w\"",
               "already defined by an initializer");
}
END_TEST

START_TEST(test_duplicate_graph_output) {
    bm b;
    bm_init(&b);
    bm_value_info(&b, 3, "y");
    b.outs[1] = &b.vi[3];
    b.g.n_output = 2;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "graph output \"y\" is listed twice");
}
END_TEST

START_TEST(test_duplicate_initializer) {
    bm b;
    bm_init(&b);
    bm_init_tensor(&b, 1, "w");
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "initializer \"w\"", "defined twice");
}
END_TEST

START_TEST(test_duplicate_graph_input) {
    bm b;
    bm_init(&b);
    bm_value_info(&b, 1, "x");
    b.ins[1] = &b.vi[1];
    b.g.n_input = 2;
    const char *dir;
    const char *path = bm_write_tmp(&b, &dir);
    EXPECT_BAD(dir, path, NULL, AC_ERR_MODEL, "graph input \"x\" is listed twice");
}
END_TEST

Suite *ac_test_bad_model_suite(void) {
    Suite *s = suite_create("bad_model");

    TCase *wire = tcase_create("wire");
    /* the CLI runs per case, and the big files (10 MB, 4 MB x 16, a sparse 2 GiB) are slow
     * under the sanitizers */
    tcase_set_timeout(wire, 300);
    tcase_add_test(wire, test_base_model_is_valid);
    tcase_add_test(wire, test_empty_file);
    tcase_add_test(wire, test_random_bytes);
    tcase_add_test(wire, test_truncated_shared_model);
    tcase_add_test(wire, test_corrupted_shared_model);
    tcase_add_test(wire, test_wrong_wire_type);
    tcase_add_test(wire, test_field_number_zero);
    tcase_add_test(wire, test_length_past_end);
    tcase_add_test(wire, test_deep_nesting);
    tcase_add_test(wire, test_allocation_amplification);
    tcase_add_test(wire, test_file_over_size_limit);
    tcase_add_test(wire, test_name_with_nul);
    tcase_add_test(wire, test_mutated_model);
    suite_add_tcase(s, wire);

    TCase *model = tcase_create("model_fields");
    tcase_set_timeout(model, 60);
    tcase_add_test(model, test_ir_version_zero);
    tcase_add_test(model, test_ir_version_too_new);
    tcase_add_test(model, test_no_opset_import);
    tcase_add_test(model, test_opset_too_new);
    suite_add_tcase(s, model);

    TCase *tensor = tcase_create("tensors");
    tcase_set_timeout(tensor, 60);
    tcase_add_test(tensor, test_negative_dim);
    tcase_add_test(tensor, test_raw_data_too_short);
    tcase_add_test(tensor, test_raw_data_not_multiple);
    tcase_add_test(tensor, test_huge_element_count);
    tcase_add_test(tensor, test_dims_overflow);
    tcase_add_test(tensor, test_raw_and_float_data);
    tcase_add_test(tensor, test_bad_data_type);
    tcase_add_test(tensor, test_string_tensor_raw_data);
    tcase_add_test(tensor, test_sparse_amplification);
    suite_add_tcase(s, tensor);

    TCase *ext = tcase_create("external_data");
    tcase_set_timeout(ext, 60);
    tcase_add_test(ext, test_external_path_escape);
    tcase_add_test(ext, test_external_symlink);
    tcase_add_test(ext, test_external_hard_link);
    tcase_add_test(ext, test_external_offset_length);
    suite_add_tcase(s, ext);

    TCase *graph = tcase_create("graph");
    tcase_set_timeout(graph, 60);
    tcase_add_test(graph, test_cycle);
    tcase_add_test(graph, test_undefined_input);
    tcase_add_test(graph, test_duplicate_node_output);
    tcase_add_test(graph, test_duplicate_graph_output);
    tcase_add_test(graph, test_duplicate_initializer);
    tcase_add_test(graph, test_duplicate_graph_input);
    tcase_add_test(graph, test_control_chars_in_names);
    suite_add_tcase(s, graph);

    TCase *all[] = {wire, model, tensor, ext, graph};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tcase_add_checked_fixture(all[i], NULL, remove_tmpdirs);
    return s;
}
