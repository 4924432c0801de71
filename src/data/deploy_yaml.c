/* SPDX-License-Identifier: MIT */
/* Deploy yamls -> transform lists. ac_config gives a located tree; the meaning of each Paddle
 * transform (and its defaults) lives here, next to the transforms themselves, so config never
 * depends on data. Every transform's keys are checked: an unknown key or transform is an
 * error located "file:line:col", never skipped. Other sections (Global, PostProcess,
 * label_list...) belong to other tools and are not read. */
#include "autocompress/ac_config.h"
#include "data_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct yctx {
    const ac_yaml_doc *doc;
    ac_xform_list *out;
    ac_diag *d;
} yctx;

static ac_status push(yctx *y, const ac_yaml_node *at, ac_xform x) {
    if (y->out->n >= AC_MAX_XFORMS)
        return ac_yaml_fail(y->doc, at, y->d, AC_ERR_LIMIT, "more than %d transforms",
                            AC_MAX_XFORMS);
    y->out->xf[y->out->n++] = x;
    return AC_OK;
}

static ac_status get_i32(yctx *y, const ac_yaml_node *n, const char *key, int32_t lo, int32_t hi,
                         int32_t *out) {
    int64_t v;
    AC_TRY(ac_yaml_get_int(y->doc, n, key, &v, y->d));
    if (v < lo || v > hi)
        return ac_yaml_fail(y->doc, n, y->d, AC_ERR_CONFIG, "key '%s': %lld is out of range "
                            "[%d, %d]", key, (long long)v, (int)lo, (int)hi);
    *out = (int32_t)v;
    return AC_OK;
}

/* An int (square) or a 2-list in the order the framework writes (first, second). */
static ac_status get_size2(yctx *y, const ac_yaml_node *n, const char *key, int32_t *a,
                           int32_t *b) {
    if (n->kind == AC_YAML_SCALAR) {
        AC_TRY(get_i32(y, n, key, 1, 65536, a));
        *b = *a;
        return AC_OK;
    }
    int64_t v[2];
    int32_t cnt;
    AC_TRY(ac_yaml_get_int_list(y->doc, n, key, v, 2, 2, &cnt, y->d));
    for (int i = 0; i < 2; i++)
        if (v[i] < 1 || v[i] > 65536)
            return ac_yaml_fail(y->doc, n->items[i], y->d, AC_ERR_CONFIG,
                                "key '%s': size %lld is out of range [1, 65536]", key,
                                (long long)v[i]);
    *a = (int32_t)v[0], *b = (int32_t)v[1];
    return AC_OK;
}

static ac_status get_vec3(yctx *y, const ac_yaml_node *n, const char *key, float *out) {
    double v[3];
    int32_t cnt;
    AC_TRY(ac_yaml_get_float_list(y->doc, n, key, v, 1, 3, &cnt, y->d));
    for (int i = 0; i < 3; i++) out[i] = (float)v[cnt == 1 ? 0 : i];
    if (cnt == 2)
        return ac_yaml_fail(y->doc, n, y->d, AC_ERR_CONFIG,
                            "key '%s': expected 1 or 3 values, got 2", key);
    return AC_OK;
}

/* PaddleClas accepts scale as a number or a Python expression string such as "1./255."
 * (it eval()s it). We accept a number or "A/B" with decimal A and B, nothing else. */
static ac_status get_scale(yctx *y, const ac_yaml_node *n, double *out) {
    if (n->kind == AC_YAML_SCALAR && n->plain && ac_yaml_get_float(y->doc, n, "scale", out,
                                                                    NULL) == AC_OK)
        return AC_OK;
    if (n->kind == AC_YAML_SCALAR) {
        const char *s = n->scalar;
        char *e1, *e2;
        double a = strtod(s, &e1);
        if (e1 != s && *e1 == '/') {
            double b = strtod(e1 + 1, &e2);
            if (e2 != e1 + 1 && !*e2 && b != 0 && strchr("0123456789.+-", *s)) {
                *out = a / b;
                return AC_OK;
            }
        } else if (e1 != s && !*e1 && strchr("0123456789.+-", *s)) {
            *out = a;
            return AC_OK;
        }
    }
    return ac_yaml_fail(y->doc, n, y->d, AC_ERR_CONFIG,
                        "key 'scale': expected a number or 'A/B' such as '1./255.', got '%s'",
                        n->kind == AC_YAML_SCALAR ? n->scalar : "a collection");
}

static ac_status interp_by_name(yctx *y, const ac_yaml_node *n, const char *key, ac_interp *out) {
    const char *s;
    AC_TRY(ac_yaml_get_str(y->doc, n, key, &s, y->d));
    static const struct {
        const char *name;
        ac_interp v;
    } tab[] = {{"bilinear", AC_INTERP_LINEAR}, {"linear", AC_INTERP_LINEAR},
               {"LINEAR", AC_INTERP_LINEAR},   {"nearest", AC_INTERP_NEAREST},
               {"NEAREST", AC_INTERP_NEAREST}, {"area", AC_INTERP_AREA},
               {"AREA", AC_INTERP_AREA},       {"bicubic", AC_INTERP_CUBIC},
               {"cubic", AC_INTERP_CUBIC},     {"CUBIC", AC_INTERP_CUBIC}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(s, tab[i].name)) return *out = tab[i].v, AC_OK;
    return ac_yaml_fail(y->doc, n, y->d, AC_ERR_UNSUPPORTED,
                        "key '%s': interpolation '%s' is not supported (use nearest, bilinear, "
                        "area or bicubic)", key, s);
}

/* ---- PaddleClas: PreProcess.transform_ops: [ {Name: {params} or null}, ... ] -------------- */

static ac_status cls_op(yctx *y, const char *name, const ac_yaml_node *key,
                        const ac_yaml_node *prm) {
    if (ac_yaml_is_null(prm))
        prm = NULL;
    else if (prm->kind != AC_YAML_MAP)
        return ac_yaml_fail(y->doc, prm, y->d, AC_ERR_CONFIG, "%s: parameters must be a mapping",
                            name);
#define KEYS(...)                                                                                  \
    do {                                                                                           \
        static const char *const k_[] = {__VA_ARGS__, NULL};                                       \
        if (prm) AC_TRY(ac_yaml_check_keys(y->doc, prm, k_, y->d));                                \
    } while (0)
#define P(k) ac_yaml_map_get(prm, k)
    ac_xform x = {0};
    if (!strcmp(name, "DecodeImage")) {
        KEYS("to_rgb", "channel_first", "backend");
        int b = 1;
        if (P("to_rgb")) AC_TRY(ac_yaml_get_bool(y->doc, P("to_rgb"), "to_rgb", &b, y->d));
        y->out->format = b ? AC_PIXFMT_RGB : AC_PIXFMT_BGR;
        b = 0;
        if (P("channel_first"))
            AC_TRY(ac_yaml_get_bool(y->doc, P("channel_first"), "channel_first", &b, y->d));
        if (b)
            return ac_yaml_fail(y->doc, P("channel_first"), y->d, AC_ERR_UNSUPPORTED,
                                "DecodeImage: channel_first: true is not supported");
        return AC_OK;
    }
    if (!strcmp(name, "ResizeImage")) {
        KEYS("size", "resize_short", "interpolation", "backend", "return_numpy");
        if (P("backend")) {
            const char *be;
            AC_TRY(ac_yaml_get_str(y->doc, P("backend"), "backend", &be, y->d));
            if (!strcmp(be, "pil"))
                x.backend = AC_RESIZE_PIL;
            else if (strcmp(be, "cv2"))
                return ac_yaml_fail(y->doc, P("backend"), y->d, AC_ERR_UNSUPPORTED,
                                    "ResizeImage: backend '%s' is not supported (cv2 or pil)", be);
        }
        if (P("interpolation") && !ac_yaml_is_null(P("interpolation")))
            AC_TRY(interp_by_name(y, P("interpolation"), "interpolation", &x.interp));
        if (P("resize_short") && !ac_yaml_is_null(P("resize_short"))) {
            x.kind = AC_XFORM_RESIZE_SHORT;
            AC_TRY(get_i32(y, P("resize_short"), "resize_short", 1, 65536, &x.size));
        } else if (P("size") && !ac_yaml_is_null(P("size"))) {
            x.kind = AC_XFORM_RESIZE;
            AC_TRY(get_size2(y, P("size"), "size", &x.width, &x.height)); /* [w, h] */
        } else {
            return ac_yaml_fail(y->doc, key, y->d, AC_ERR_CONFIG,
                                "ResizeImage needs 'size' or 'resize_short'");
        }
        if (x.backend == AC_RESIZE_PIL && x.interp != AC_INTERP_LINEAR)
            return ac_yaml_fail(y->doc, P("interpolation"), y->d, AC_ERR_UNSUPPORTED,
                                "ResizeImage: backend pil supports bilinear only");
        return push(y, key, x);
    }
    if (!strcmp(name, "CropImage")) {
        KEYS("size");
        if (!P("size"))
            return ac_yaml_fail(y->doc, key, y->d, AC_ERR_CONFIG, "CropImage needs 'size'");
        x.kind = AC_XFORM_CENTER_CROP;
        AC_TRY(get_size2(y, P("size"), "size", &x.width, &x.height)); /* [w, h] */
        return push(y, key, x);
    }
    if (!strcmp(name, "NormalizeImage")) {
        KEYS("scale", "mean", "std", "order", "output_fp16", "channel_num");
        x.kind = AC_XFORM_NORMALIZE;
        x.scale = 1.0 / 255.0;
        const float m[3] = {0.485f, 0.456f, 0.406f}, s[3] = {0.229f, 0.224f, 0.225f};
        memcpy(x.mean, m, sizeof m), memcpy(x.std, s, sizeof s);
        if (P("scale") && !ac_yaml_is_null(P("scale"))) AC_TRY(get_scale(y, P("scale"), &x.scale));
        if (P("mean")) AC_TRY(get_vec3(y, P("mean"), "mean", x.mean));
        if (P("std")) AC_TRY(get_vec3(y, P("std"), "std", x.std));
        if (P("order") && !ac_yaml_is_null(P("order"))) {
            const char *o;
            AC_TRY(ac_yaml_get_str(y->doc, P("order"), "order", &o, y->d));
            /* the layout is tracked by the pipeline; order only has to be a real one */
            if (strcmp(o, "hwc") && strcmp(o, "chw") && *o)
                return ac_yaml_fail(y->doc, P("order"), y->d, AC_ERR_CONFIG,
                                    "key 'order': expected 'hwc' or 'chw', got '%s'", o);
        }
        int fp16 = 0;
        if (P("output_fp16")) AC_TRY(ac_yaml_get_bool(y->doc, P("output_fp16"), "output_fp16",
                                                      &fp16, y->d));
        if (fp16)
            return ac_yaml_fail(y->doc, P("output_fp16"), y->d, AC_ERR_UNSUPPORTED,
                                "NormalizeImage: output_fp16 is not supported");
        if (P("channel_num")) {
            int32_t c;
            AC_TRY(get_i32(y, P("channel_num"), "channel_num", 3, 3, &c));
        }
        return push(y, key, x);
    }
    if (!strcmp(name, "ToCHWImage")) {
        KEYS("dummy_never_used");
        if (prm && prm->count)
            return ac_yaml_fail(y->doc, prm, y->d, AC_ERR_CONFIG, "ToCHWImage takes no keys");
        x.kind = AC_XFORM_TO_CHW;
        return push(y, key, x);
    }
#undef P
    return ac_yaml_fail(y->doc, key, y->d, AC_ERR_CONFIG,
                        "unknown transform '%s' in PreProcess.transform_ops", name);
}

static ac_status parse_cls(yctx *y, const ac_yaml_node *pre) {
    const ac_yaml_node *ops = ac_yaml_map_get(pre, "transform_ops");
    if (!ops)
        return ac_yaml_fail(y->doc, pre, y->d, AC_ERR_CONFIG, "PreProcess has no transform_ops");
    if (ops->kind != AC_YAML_SEQ)
        return ac_yaml_fail(y->doc, ops, y->d, AC_ERR_CONFIG,
                            "PreProcess.transform_ops must be a list");
    y->out->format = AC_PIXFMT_RGB; /* predict_cls.py: cv2.imread(...)[:, :, ::-1] */
    for (int32_t i = 0; i < ops->count; i++) {
        const ac_yaml_node *it = ops->items[i];
        if (it->kind != AC_YAML_MAP || it->count != 1)
            return ac_yaml_fail(y->doc, it, y->d, AC_ERR_CONFIG,
                                "transform_ops[%d]: expected '- Name: {parameters}'", (int)i);
        AC_TRY(cls_op(y, it->keys[0]->scalar, it->keys[0], it->items[0]));
    }
    return AC_OK;
}

/* PaddleDetection and PaddleSeg transforms are maps with a `type` key and the transform's own
 * keys: anything else in the map is an error. */
#define TYPE_KEYS(...)                                                                             \
    do {                                                                                           \
        static const char *const k_[] = {"type", __VA_ARGS__, NULL};                              \
        AC_TRY(ac_yaml_check_keys(y->doc, m, k_, y->d));                                          \
    } while (0)

/* ---- PaddleDetection: Preprocess: [ {type: Name, params...}, ... ] ------------------------- */

static ac_status det_op(yctx *y, const char *name, const ac_yaml_node *m) {
#define P(k) ac_yaml_map_get(m, k)
    ac_xform x = {0};
    if (!strcmp(name, "Resize")) {
        TYPE_KEYS("target_size", "keep_ratio", "interp");
        if (!P("target_size"))
            return ac_yaml_fail(y->doc, m, y->d, AC_ERR_CONFIG, "Resize needs 'target_size'");
        x.kind = AC_XFORM_RESIZE;
        AC_TRY(get_size2(y, P("target_size"), "target_size", &x.height, &x.width)); /* [h, w] */
        int kr = 1; /* PaddleDetection's default */
        if (P("keep_ratio")) AC_TRY(ac_yaml_get_bool(y->doc, P("keep_ratio"), "keep_ratio", &kr,
                                                     y->d));
        x.keep_ratio = kr;
        int32_t it = 1; /* cv2.INTER_LINEAR */
        if (P("interp")) AC_TRY(get_i32(y, P("interp"), "interp", 0, 4, &it));
        static const ac_interp cv[] = {AC_INTERP_NEAREST, AC_INTERP_LINEAR, AC_INTERP_CUBIC,
                                       AC_INTERP_AREA};
        if (it == 4)
            return ac_yaml_fail(y->doc, P("interp"), y->d, AC_ERR_UNSUPPORTED,
                                "Resize: interp 4 (Lanczos) is not supported");
        x.interp = cv[it];
        return push(y, m, x);
    }
    if (!strcmp(name, "NormalizeImage")) {
        TYPE_KEYS("mean", "std", "is_scale", "norm_type");
        x.kind = AC_XFORM_NORMALIZE;
        const float mn[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
        memcpy(x.mean, mn, sizeof mn), memcpy(x.std, sd, sizeof sd);
        if (P("mean")) AC_TRY(get_vec3(y, P("mean"), "mean", x.mean));
        if (P("std")) AC_TRY(get_vec3(y, P("std"), "std", x.std));
        int sc = 1;
        if (P("is_scale")) AC_TRY(ac_yaml_get_bool(y->doc, P("is_scale"), "is_scale", &sc, y->d));
        x.scale = sc ? 1.0 / 255.0 : 1.0;
        if (P("norm_type")) {
            const char *t;
            AC_TRY(ac_yaml_get_str(y->doc, P("norm_type"), "norm_type", &t, y->d));
            if (!strcmp(t, "none")) {
                for (int i = 0; i < 3; i++) x.mean[i] = 0.f, x.std[i] = 1.f;
            } else if (strcmp(t, "mean_std")) {
                return ac_yaml_fail(y->doc, P("norm_type"), y->d, AC_ERR_CONFIG,
                                    "key 'norm_type': expected 'mean_std' or 'none', got '%s'", t);
            }
        }
        return push(y, m, x);
    }
    if (!strcmp(name, "Permute")) {
        TYPE_KEYS("to_bgr", "channel_first");
        x.kind = AC_XFORM_TO_CHW;
        return push(y, m, x);
    }
    if (!strcmp(name, "Pad") || !strcmp(name, "PadStride")) {
        x.kind = AC_XFORM_PAD;
        if (!strcmp(name, "Pad")) {
            TYPE_KEYS("size", "fill_value");
            if (!P("size"))
                return ac_yaml_fail(y->doc, m, y->d, AC_ERR_CONFIG, "Pad needs 'size'");
            AC_TRY(get_size2(y, P("size"), "size", &x.height, &x.width)); /* [h, w] */
            x.pad_value[0] = x.pad_value[1] = x.pad_value[2] = 114.f;
            if (P("fill_value")) AC_TRY(get_vec3(y, P("fill_value"), "fill_value", x.pad_value));
        } else {
            TYPE_KEYS("stride");
            AC_TRY(get_i32(y, P("stride") ? P("stride") : m, "stride", 0, 4096, &x.stride));
            if (x.stride == 0) return AC_OK; /* PadStride with stride 0 is a no-op there too */
        }
        return push(y, m, x);
    }
    if (!strcmp(name, "LetterBoxResize")) {
        TYPE_KEYS("target_size");
        if (!P("target_size"))
            return ac_yaml_fail(y->doc, m, y->d, AC_ERR_CONFIG,
                                "LetterBoxResize needs 'target_size'");
        x.kind = AC_XFORM_LETTERBOX;
        AC_TRY(get_size2(y, P("target_size"), "target_size", &x.height, &x.width));
        x.interp = AC_INTERP_AREA; /* PaddleDetection's letterbox_resize uses INTER_AREA */
        x.pad_value[0] = x.pad_value[1] = x.pad_value[2] = 127.5f;
        return push(y, m, x);
    }
#undef P
    return ac_yaml_fail(y->doc, ac_yaml_map_get(m, "type"), y->d, AC_ERR_CONFIG,
                        "unknown transform '%s' in Preprocess", name);
}

/* Transforms of the list-of-{type: ...} shape (PaddleDetection and PaddleSeg). */
static ac_status typed_list(yctx *y, const ac_yaml_node *list, const char *where,
                            ac_status (*op)(yctx *, const char *, const ac_yaml_node *)) {
    if (list->kind != AC_YAML_SEQ)
        return ac_yaml_fail(y->doc, list, y->d, AC_ERR_CONFIG, "%s must be a list", where);
    for (int32_t i = 0; i < list->count; i++) {
        const ac_yaml_node *m = list->items[i];
        const char *name;
        if (m->kind != AC_YAML_MAP || !ac_yaml_map_get(m, "type"))
            return ac_yaml_fail(y->doc, m, y->d, AC_ERR_CONFIG,
                                "%s[%d]: expected a mapping with a 'type'", where, (int)i);
        AC_TRY(ac_yaml_get_str(y->doc, ac_yaml_map_get(m, "type"), "type", &name, y->d));
        AC_TRY(op(y, name, m));
    }
    return AC_OK;
}

/* ---- PaddleSeg: Deploy.transforms: [ {type: Name, params...}, ... ] ------------------------ */

static ac_status seg_interp(yctx *y, const ac_yaml_node *m, ac_interp *out) {
    const ac_yaml_node *n = ac_yaml_map_get(m, "interp");
    *out = AC_INTERP_LINEAR;
    if (!n) return AC_OK;
    const char *s;
    AC_TRY(ac_yaml_get_str(y->doc, n, "interp", &s, y->d));
    if (!strcmp(s, "RANDOM") || !strcmp(s, "LANCZOS4"))
        return ac_yaml_fail(y->doc, n, y->d, AC_ERR_UNSUPPORTED,
                            "key 'interp': '%s' is not supported (NEAREST, LINEAR, CUBIC, AREA)",
                            s);
    return interp_by_name(y, n, "interp", out);
}

static ac_status seg_op(yctx *y, const char *name, const ac_yaml_node *m) {
#define P(k) ac_yaml_map_get(m, k)
    ac_xform x = {0};
    if (!strcmp(name, "Normalize")) {
        TYPE_KEYS("mean", "std");
        x.kind = AC_XFORM_NORMALIZE;
        x.scale = 1.0 / 255.0;
        for (int i = 0; i < 3; i++) x.mean[i] = 0.5f, x.std[i] = 0.5f;
        if (P("mean")) AC_TRY(get_vec3(y, P("mean"), "mean", x.mean));
        if (P("std")) AC_TRY(get_vec3(y, P("std"), "std", x.std));
        return push(y, m, x);
    }
    if (!strcmp(name, "Resize")) {
        TYPE_KEYS("target_size", "interp", "keep_ratio");
        x.kind = AC_XFORM_RESIZE;
        x.width = x.height = 512;
        if (P("target_size")) AC_TRY(get_size2(y, P("target_size"), "target_size", &x.width,
                                               &x.height)); /* [w, h] */
        int kr = 0;
        if (P("keep_ratio")) AC_TRY(ac_yaml_get_bool(y->doc, P("keep_ratio"), "keep_ratio", &kr,
                                                     y->d));
        if (kr)
            return ac_yaml_fail(y->doc, P("keep_ratio"), y->d, AC_ERR_UNSUPPORTED,
                                "Resize: keep_ratio: true is not supported for PaddleSeg");
        AC_TRY(seg_interp(y, m, &x.interp));
        return push(y, m, x);
    }
    if (!strcmp(name, "ResizeByShort") || !strcmp(name, "ResizeByLong")) {
        int sh = !strcmp(name, "ResizeByShort");
        if (sh)
            TYPE_KEYS("short_size", "max_size", "interp");
        else
            TYPE_KEYS("long_size", "interp");
        const char *k = sh ? "short_size" : "long_size";
        if (!P(k)) return ac_yaml_fail(y->doc, m, y->d, AC_ERR_CONFIG, "%s needs '%s'", name, k);
        x.kind = sh ? AC_XFORM_RESIZE_SHORT : AC_XFORM_RESIZE_LONG;
        AC_TRY(get_i32(y, P(k), k, 1, 65536, &x.size));
        if (sh && P("max_size")) {
            AC_TRY(get_i32(y, P("max_size"), "max_size", -1, 65536, &x.max_size));
            if (x.max_size < 0) x.max_size = 0;
        }
        AC_TRY(seg_interp(y, m, &x.interp));
        return push(y, m, x);
    }
    if (!strcmp(name, "Padding")) {
        TYPE_KEYS("target_size", "im_padding_value", "label_padding_value");
        if (!P("target_size"))
            return ac_yaml_fail(y->doc, m, y->d, AC_ERR_CONFIG, "Padding needs 'target_size'");
        x.kind = AC_XFORM_PAD;
        AC_TRY(get_size2(y, P("target_size"), "target_size", &x.width, &x.height)); /* [w, h] */
        x.pad_value[0] = x.pad_value[1] = x.pad_value[2] = 127.5f;
        if (P("im_padding_value"))
            AC_TRY(get_vec3(y, P("im_padding_value"), "im_padding_value", x.pad_value));
        return push(y, m, x);
    }
#undef P
    return ac_yaml_fail(y->doc, ac_yaml_map_get(m, "type"), y->d, AC_ERR_CONFIG,
                        "unknown transform '%s' in Deploy.transforms", name);
}

ac_status ac_data_parse_deploy_yaml(const char *path, ac_xform_list *out, ac_diag *d) {
    memset(out, 0, sizeof *out);
    ac_yaml_doc *doc = NULL;
    AC_TRY(ac_yaml_load_file(path, NULL, &doc, d));
    yctx y = {.doc = doc, .out = out, .d = d};
    const ac_yaml_node *root = ac_yaml_root(doc), *n;
    ac_status s;
    if (root->kind != AC_YAML_MAP) {
        s = ac_yaml_fail(doc, root, d, AC_ERR_CONFIG, "expected a mapping at the top level");
    } else if ((n = ac_yaml_map_get(root, "PreProcess"))) {
        s = parse_cls(&y, n);
    } else if ((n = ac_yaml_map_get(root, "Preprocess"))) {
        out->format = AC_PIXFMT_RGB; /* PaddleDetection decodes with cvtColor(BGR2RGB) */
        s = typed_list(&y, n, "Preprocess", det_op);
    } else if ((n = ac_yaml_map_get(root, "Deploy"))) {
        const ac_yaml_node *t = ac_yaml_map_get(n, "transforms");
        out->format = AC_PIXFMT_RGB; /* PaddleSeg's Compose: to_rgb=True */
        out->float_input = 1;        /* ... and astype('float32') before any transform */
        s = t ? typed_list(&y, t, "Deploy.transforms", seg_op)
              : ac_yaml_fail(doc, n, d, AC_ERR_CONFIG, "Deploy has no transforms");
        /* PaddleSeg always ends with HWC -> CHW (Compose does the transpose itself) */
        if (s == AC_OK) s = push(&y, n, (ac_xform){.kind = AC_XFORM_TO_CHW});
    } else {
        s = ac_yaml_fail(doc, root, d, AC_ERR_CONFIG,
                         "not a PaddleClas, PaddleDetection or PaddleSeg deploy yaml (no "
                         "PreProcess, Preprocess or Deploy section)");
    }
    ac_yaml_free(doc);
    return s;
}

ac_status ac_pipeline_from_yaml(const char *path, const ac_pipeline_opts *o, ac_pipeline **out,
                                ac_diag *d) {
    if (!out || !path) return AC_FAIL(d, AC_ERR_ARG, "ac_pipeline_from_yaml: NULL argument");
    *out = NULL;
    ac_xform_list *l = ac_malloc(sizeof *l);
    if (!l) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory reading %s", path);
    ac_status s = ac_data_parse_deploy_yaml(path, l, d);
    if (s == AC_OK) {
        ac_pipeline_opts po = {0};
        if (o) po = *o;
        po.decode.format = l->format;
        s = ac_pipeline_new(l->xf, l->n, &po, l->float_input, out, d);
        if (s != AC_OK) ac_diag_prefix(d, "%s", path);
    }
    ac_free(l);
    return s;
}

/* ---- FastDeploy presets (tools/common_tools/auto_compression/fd_auto_compress/dataset.py) -- */

ac_status ac_pipeline_preset(const char *name, int32_t width, int32_t height,
                             const ac_pipeline_opts *o, ac_pipeline **out, ac_diag *d) {
    if (!out || !name) return AC_FAIL(d, AC_ERR_ARG, "ac_pipeline_preset: NULL argument");
    *out = NULL;
    ac_xform x[4];
    memset(x, 0, sizeof x);
    int32_t n = 0;
    const float in_mean[3] = {0.485f, 0.456f, 0.406f}, in_std[3] = {0.229f, 0.224f, 0.225f};
    int32_t W = width > 0 ? width : 640, H = height > 0 ? height : 640;
    if (!strcmp(name, "cls_image_preprocess")) {
        int32_t cw = width > 0 ? width : 224, chh = height > 0 ? height : 224;
        x[n++] = (ac_xform){.kind = AC_XFORM_RESIZE_SHORT, .size = 256};
        x[n++] = (ac_xform){.kind = AC_XFORM_CENTER_CROP, .width = cw, .height = chh};
        x[n] = (ac_xform){.kind = AC_XFORM_NORMALIZE, .scale = 1.0 / 255.0};
        memcpy(x[n].mean, in_mean, sizeof in_mean), memcpy(x[n++].std, in_std, sizeof in_std);
    } else if (!strcmp(name, "yolo_image_preprocess")) {
        /* keep-ratio resize with fx = fy, then the image at the top-left of a 114 canvas */
        x[n++] = (ac_xform){.kind = AC_XFORM_RESIZE, .width = W, .height = H, .keep_ratio = 1};
        x[n++] = (ac_xform){.kind = AC_XFORM_PAD, .width = W, .height = H,
                            .pad_value = {114.f, 114.f, 114.f}};
        x[n++] = (ac_xform){.kind = AC_XFORM_NORMALIZE, .scale = 1.0 / 255.0, .std = {1, 1, 1}};
    } else if (!strcmp(name, "ppyoloe_withNMS_image_preprocess") ||
               !strcmp(name, "ppyoloe_plus_withNMS_image_preprocess")) {
        /* ppdet_resize_no_keepratio: cv2.resize(..., interpolation=2) = INTER_CUBIC */
        x[n++] = (ac_xform){.kind = AC_XFORM_RESIZE, .width = W, .height = H,
                            .interp = AC_INTERP_CUBIC};
        x[n] = (ac_xform){.kind = AC_XFORM_NORMALIZE, .scale = 1.0 / 255.0, .std = {1, 1, 1}};
        if (!strstr(name, "plus"))
            memcpy(x[n].mean, in_mean, sizeof in_mean), memcpy(x[n].std, in_std, sizeof in_std);
        n++;
    } else {
        return AC_FAIL(d, AC_ERR_CONFIG,
                       "unknown preprocessing preset '%s' (known: cls_image_preprocess, "
                       "yolo_image_preprocess, ppyoloe_withNMS_image_preprocess, "
                       "ppyoloe_plus_withNMS_image_preprocess)", name);
    }
    x[n++] = (ac_xform){.kind = AC_XFORM_TO_CHW};
    ac_pipeline_opts po = {0};
    if (o) po = *o;
    po.decode.format = AC_PIXFMT_BGR; /* cv2.imread, fed to the preset unconverted */
    return ac_pipeline_new(x, n, &po, 0, out, d);
}
