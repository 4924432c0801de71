/* SPDX-License-Identifier: MIT */
/* Strict YAML -> tree, on libyaml's event API. libyaml itself accepts duplicate keys, aliases
 * (hence cycles and billion-laughs expansion), any nesting depth and several documents; every
 * one of those is refused here, at the event that introduces it. */
#include "autocompress/ac_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_NODES 1000000
#define DEFAULT_MAX_BYTES ((size_t)16 << 20)

struct ac_yaml_doc {
    ac_arena *arena;
    char *name;
    const ac_yaml_node *root;
};

/* An open collection while its children arrive; children are copied into the arena at the
 * end event, so the tree is immutable and needs no per-node frees. */
typedef struct open_coll {
    ac_yaml_node *node;
    const ac_yaml_node **kids; /* for a map: key, value, key, value ... */
    int64_t n, cap;
} open_coll;

typedef struct builder {
    ac_yaml_doc *doc;
    open_coll *stack;
    int32_t depth, max_depth;
    int64_t nodes, max_nodes;
    ac_diag *d;
} builder;

static ac_status fail_mark(const ac_yaml_doc *doc, yaml_mark_t m, ac_diag *dg, ac_status s,
                           const char *fmt, ...) AC_PRINTF(5, 6);
static ac_status fail_mark(const ac_yaml_doc *doc, yaml_mark_t m, ac_diag *dg, ac_status s,
                           const char *fmt, ...) {
    if (dg && dg->status == AC_OK)
        ac_diag_where(dg, "%s:%zu:%zu", doc->name, m.line + 1, m.column + 1);
    va_list ap;
    va_start(ap, fmt);
    ac_status r = ac_failv(dg, s, fmt, ap);
    va_end(ap);
    return r;
}

static ac_yaml_node *new_node(builder *b, ac_yaml_kind kind, yaml_mark_t m) {
    if (++b->nodes > b->max_nodes) {
        fail_mark(b->doc, m, b->d, AC_ERR_LIMIT, "too many nodes (> %lld)",
                  (long long)b->max_nodes);
        return NULL;
    }
    ac_yaml_node *n = ac_arena_alloc(b->doc->arena, sizeof *n);
    if (!n) {
        AC_FAIL(b->d, AC_ERR_NOMEM, "out of memory building the YAML tree");
        return NULL;
    }
    n->kind = kind;
    n->line = (int32_t)m.line + 1;
    n->col = (int32_t)m.column + 1;
    n->scalar = "";
    return n;
}

static int key_cmp(const void *a, const void *b) {
    const ac_yaml_node *x = *(const ac_yaml_node *const *)a, *y = *(const ac_yaml_node *const *)b;
    size_t n = x->scalar_len < y->scalar_len ? x->scalar_len : y->scalar_len;
    int c = memcmp(x->scalar, y->scalar, n);
    if (c) return c;
    if (x->scalar_len != y->scalar_len) return x->scalar_len < y->scalar_len ? -1 : 1;
    /* equal keys: file order, so the later one is reported */
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    return x->col < y->col ? -1 : (x->col > y->col);
}

/* Attaches `child` to the innermost open collection (or makes it the root). */
static ac_status attach(builder *b, const ac_yaml_node *child, yaml_mark_t m) {
    if (b->depth == 0) {
        b->doc->root = child;
        return AC_OK;
    }
    open_coll *c = &b->stack[b->depth - 1];
    if (c->node->kind == AC_YAML_MAP && (c->n % 2) == 0 && child->kind != AC_YAML_SCALAR)
        return fail_mark(b->doc, m, b->d, AC_ERR_FORMAT, "complex (non-scalar) keys not allowed");
    if (c->n == c->cap) {
        int64_t cap = c->cap ? c->cap * 2 : 8;
        const ac_yaml_node **k = ac_realloc(c->kids, (size_t)cap * sizeof *k);
        if (!k) return AC_FAIL(b->d, AC_ERR_NOMEM, "out of memory building the YAML tree");
        c->kids = k;
        c->cap = cap;
    }
    c->kids[c->n++] = child;
    return AC_OK;
}

static ac_status close_coll(builder *b) {
    open_coll *c = &b->stack[--b->depth];
    ac_yaml_node *n = c->node;
    ac_status s = AC_OK;
    int64_t count = n->kind == AC_YAML_MAP ? c->n / 2 : c->n;
    if (count > INT32_MAX) {
        s = AC_FAIL(b->d, AC_ERR_LIMIT, "collection too large");
        goto done;
    }
    n->count = (int32_t)count;
    if (count) {
        const ac_yaml_node **items = ac_arena_array(b->doc->arena, (size_t)count, sizeof *items);
        const ac_yaml_node **keys = NULL;
        if (!items) goto nomem;
        if (n->kind == AC_YAML_MAP) {
            keys = ac_arena_array(b->doc->arena, (size_t)count, sizeof *keys);
            const ac_yaml_node **sorted = ac_malloc_array((size_t)count, sizeof *sorted);
            if (!keys || !sorted) {
                ac_free(sorted);
                goto nomem;
            }
            for (int64_t i = 0; i < count; i++) {
                keys[i] = c->kids[2 * i];
                items[i] = c->kids[2 * i + 1];
                sorted[i] = keys[i];
            }
            /* sort instead of a pairwise scan: a 100k-key map stays O(n log n) */
            qsort(sorted, (size_t)count, sizeof *sorted, key_cmp);
            for (int64_t i = 1; i < count; i++) {
                const ac_yaml_node *k = sorted[i];
                if (k->scalar_len == sorted[i - 1]->scalar_len &&
                    !memcmp(k->scalar, sorted[i - 1]->scalar, k->scalar_len)) {
                    if (b->d && b->d->status == AC_OK)
                        ac_diag_where(b->d, "%s:%d:%d", b->doc->name, k->line, k->col);
                    s = AC_FAIL(b->d, AC_ERR_FORMAT, "duplicate key '%s' (first at line %d)",
                                k->scalar, sorted[i - 1]->line);
                    break;
                }
            }
            ac_free(sorted);
        } else {
            memcpy(items, c->kids, (size_t)count * sizeof *items);
        }
        n->items = items;
        n->keys = keys;
    }
done:
    ac_free(c->kids);
    c->kids = NULL;
    return s;
nomem:
    s = AC_FAIL(b->d, AC_ERR_NOMEM, "out of memory building the YAML tree");
    goto done;
}

static ac_status open_coll_push(builder *b, ac_yaml_kind kind, yaml_mark_t m) {
    if (b->depth >= b->max_depth)
        return fail_mark(b->doc, m, b->d, AC_ERR_LIMIT, "nesting too deep (> %d levels)",
                         (int)b->max_depth);
    ac_yaml_node *n = new_node(b, kind, m);
    if (!n) return b->d ? b->d->status : AC_ERR_NOMEM;
    AC_TRY(attach(b, n, m));
    open_coll *c = &b->stack[b->depth++];
    memset(c, 0, sizeof *c);
    c->node = n;
    return AC_OK;
}

/* Refuses what libyaml would let through on node events: anchors and explicit tags. */
static ac_status check_props(builder *b, const yaml_char_t *anchor, const yaml_char_t *tag,
                             int implicit, yaml_mark_t m) {
    if (anchor)
        return fail_mark(b->doc, m, b->d, AC_ERR_FORMAT, "anchors not allowed ('&%s')",
                         (const char *)anchor);
    if (tag && !implicit)
        return fail_mark(b->doc, m, b->d, AC_ERR_FORMAT, "tags not allowed ('%s')",
                         (const char *)tag);
    return AC_OK;
}

static ac_status run_events(yaml_parser_t *p, builder *b) {
    int docs = 0, done = 0;
    ac_yaml_doc *doc = b->doc;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(p, &ev)) {
            const char *ctx = p->context ? p->context : "";
            if (p->error == YAML_MEMORY_ERROR)
                return AC_FAIL(b->d, AC_ERR_NOMEM, "out of memory parsing YAML");
            return fail_mark(doc, p->problem_mark, b->d, AC_ERR_FORMAT, "%s%s%s",
                             ctx, *ctx ? ": " : "", p->problem ? p->problem : "invalid YAML");
        }
        ac_status s = AC_OK;
        yaml_mark_t m = ev.start_mark;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                s = fail_mark(doc, m, b->d, AC_ERR_FORMAT, "multiple documents not allowed");
            break;
        case YAML_ALIAS_EVENT:
            s = fail_mark(doc, m, b->d, AC_ERR_FORMAT, "aliases not allowed ('*%s')",
                          (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT: {
            s = check_props(b, ev.data.scalar.anchor, ev.data.scalar.tag,
                            ev.data.scalar.plain_implicit || ev.data.scalar.quoted_implicit, m);
            if (s) break;
            ac_yaml_node *n = new_node(b, AC_YAML_SCALAR, m);
            char *text = n ? ac_arena_strndup(doc->arena, (const char *)ev.data.scalar.value,
                                              ev.data.scalar.length)
                           : NULL;
            if (!n) {
                s = b->d ? b->d->status : AC_ERR_NOMEM;
                break;
            }
            if (!text) {
                s = AC_FAIL(b->d, AC_ERR_NOMEM, "out of memory building the YAML tree");
                break;
            }
            n->scalar = text;
            n->scalar_len = ev.data.scalar.length;
            n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            s = attach(b, n, m);
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
            s = check_props(b, ev.data.sequence_start.anchor, ev.data.sequence_start.tag,
                            ev.data.sequence_start.implicit, m);
            if (!s) s = open_coll_push(b, AC_YAML_SEQ, m);
            break;
        case YAML_MAPPING_START_EVENT:
            s = check_props(b, ev.data.mapping_start.anchor, ev.data.mapping_start.tag,
                            ev.data.mapping_start.implicit, m);
            if (!s) s = open_coll_push(b, AC_YAML_MAP, m);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            s = close_coll(b);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (s != AC_OK) return s;
    }
    return AC_OK;
}

void ac_yaml_free(ac_yaml_doc *doc) {
    if (!doc) return;
    ac_arena_free(doc->arena);
    ac_free(doc->name);
    ac_free(doc);
}

ac_status ac_yaml_load_mem(const char *name, const void *buf, size_t n, const ac_yaml_opts *o,
                           ac_yaml_doc **out, ac_diag *d) {
    if (!out) return AC_FAIL(d, AC_ERR_ARG, "ac_yaml_load_mem: NULL out");
    *out = NULL;
    if (!buf && n) return AC_FAIL(d, AC_ERR_ARG, "ac_yaml_load_mem: NULL buffer");
    ac_yaml_opts def = {0};
    if (!o) o = &def;
    if (!name) name = "<yaml>";
    size_t max_bytes = o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES;
    if (n > max_bytes) {
        ac_diag_where(d, "%s", name);
        return AC_FAIL(d, AC_ERR_LIMIT, "YAML file is %zu bytes, over the limit of %zu", n,
                       max_bytes);
    }
    builder b = {0};
    b.d = d;
    b.max_depth = o->max_depth > 0 ? o->max_depth : DEFAULT_MAX_DEPTH;
    b.max_nodes = o->max_nodes > 0 ? o->max_nodes : DEFAULT_MAX_NODES;
    ac_status s = AC_OK;
    ac_yaml_doc *doc = ac_calloc(1, sizeof *doc);
    if (!doc) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory loading YAML");
    b.doc = doc;
    doc->name = ac_strdup(name);
    b.stack = ac_calloc((size_t)b.max_depth, sizeof *b.stack);
    if (!doc->name || !b.stack || ac_arena_new(0, &doc->arena, d) != AC_OK) {
        s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory loading YAML");
        goto out;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory initialising the YAML parser");
        goto out;
    }
    yaml_parser_set_input_string(&p, buf ? buf : (const void *)"", n);
    s = run_events(&p, &b);
    yaml_parser_delete(&p);
    if (s == AC_OK && (!doc->root || ac_yaml_is_null(doc->root))) {
        ac_diag_where(d, "%s", name);
        s = AC_FAIL(d, AC_ERR_CONFIG, "config is empty");
    }
out:
    if (b.stack) {
        for (int32_t i = 0; i < b.depth; i++) ac_free(b.stack[i].kids);
        ac_free(b.stack);
    }
    if (s != AC_OK) {
        ac_yaml_free(doc);
        return s;
    }
    *out = doc;
    return AC_OK;
}

ac_status ac_yaml_load_file(const char *path, const ac_yaml_opts *o, ac_yaml_doc **out,
                            ac_diag *d) {
    if (!out || !path) return AC_FAIL(d, AC_ERR_ARG, "ac_yaml_load_file: NULL argument");
    *out = NULL;
    size_t max_bytes = o && o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES;
    uint8_t *buf = NULL;
    size_t n = 0;
    ac_status s = ac_file_read_all(path, max_bytes, &buf, &n, d);
    if (s != AC_OK) {
        ac_diag_where(d, "%s", path);
        return s;
    }
    s = ac_yaml_load_mem(path, buf, n, o, out, d);
    ac_free(buf);
    return s;
}

const ac_yaml_node *ac_yaml_root(const ac_yaml_doc *doc) { return doc ? doc->root : NULL; }
const char *ac_yaml_name(const ac_yaml_doc *doc) { return doc ? doc->name : ""; }
