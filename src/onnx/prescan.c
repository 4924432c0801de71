/* SPDX-License-Identifier: MIT */
/* Pre-scan of the protobuf wire format, before protobuf-c decodes anything.
 *
 * Why: protobuf-c recurses once per nested message (a 5000-deep If chain overflows the stack),
 * allocates a struct per message (10 MB of empty NodeProtos becomes a gigabyte), and copies
 * strings with embedded NULs that C then silently truncates ("x\0a" and "x\0b" both become "x").
 * Walking the bytes with the generated descriptors lets us refuse all of that with a message
 * naming the byte offset, and estimate the decoded size against the memory budget. */
#include "onnx_internal.h"

#include <string.h>

typedef struct scan {
    const uint8_t *base;
    const ac_load_opts *o;
    ac_prescan_info *info;
    ac_diag *d;
} scan;

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end) return -1; /* truncated */
        uint8_t c = *(*p)++;
        if (shift == 63 && (c & 0x7e)) return -2; /* more than 64 bits */
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -2;
}

/* Wire type protobuf uses for a field of this type when not packed. */
static int wire_type_of(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 1;
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return 5;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return 2;
    default:
        return 0;
    }
}

/* Bytes protobuf-c stores per element of a scalar field. */
static uint64_t scalar_size(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    default:
        return 4;
    }
}

static ac_status scan_message(scan *s, const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                              const uint8_t *end, int depth);

static ac_status note_span(scan *s, size_t off, size_t len) {
    ac_prescan_info *in = s->info;
    if (in->n_spans == in->cap_spans) {
        int64_t nc = in->cap_spans ? in->cap_spans * 2 : 64;
        ac_span *p = ac_realloc(in->spans, (size_t)nc * sizeof *p);
        if (!p) return AC_FAIL(s->d, AC_ERR_NOMEM, "out of memory");
        in->spans = p;
        in->cap_spans = nc;
    }
    in->spans[in->n_spans].off = off;
    in->spans[in->n_spans].len = len;
    in->n_spans++;
    return AC_OK;
}

static ac_status truncated(scan *s, const uint8_t *at, const char *what) {
    return AC_FAIL(s->d, AC_ERR_FORMAT,
                   "not a valid ONNX protobuf: %s at byte %lld (truncated or corrupt file)", what,
                   (long long)(at - s->base));
}

static ac_status scan_field(scan *s, const ProtobufCMessageDescriptor *desc, const uint8_t **pp,
                            const uint8_t *end, int depth) {
    const uint8_t *start = *pp;
    uint64_t key;
    int rc = read_varint(pp, end, &key);
    if (rc) return truncated(s, start, rc == -1 ? "field tag cut short" : "overlong field tag");
    uint64_t fnum = key >> 3;
    int wire = (int)(key & 7);
    if (fnum == 0 || fnum > 536870911u)
        return AC_FAIL(s->d, AC_ERR_FORMAT,
                       "not a valid ONNX protobuf: invalid field number %llu at byte %lld",
                       (unsigned long long)fnum, (long long)(start - s->base));
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(desc, (unsigned)fnum);
    int repeated = f && f->label == PROTOBUF_C_LABEL_REPEATED;
    if (f) {
        int want = wire_type_of(f->type);
        int packed_ok = repeated && want != 2 && wire == 2;
        if (wire != want && !packed_ok)
            return AC_FAIL(s->d, AC_ERR_FORMAT,
                           "not a valid ONNX protobuf: %s.%s (field %u) has wire type %d, "
                           "expected %d, at byte %lld",
                           desc->short_name, f->name, f->id, wire, want,
                           (long long)(start - s->base));
    }
    uint64_t v;
    switch (wire) {
    case 0:
        if (read_varint(pp, end, &v)) return truncated(s, *pp, "varint cut short");
        if (f) s->info->est_bytes += repeated ? scalar_size(f->type) : 0;
        else s->info->est_bytes += 48; /* unknown field record + value */
        return AC_OK;
    case 1:
    case 5: {
        size_t w = wire == 1 ? 8 : 4;
        if ((size_t)(end - *pp) < w) return truncated(s, *pp, "fixed-size value cut short");
        *pp += w;
        s->info->est_bytes += f ? (repeated ? w : 0) : 48;
        return AC_OK;
    }
    case 2:
        break;
    case 3:
    case 4:
        return AC_FAIL(s->d, AC_ERR_FORMAT,
                       "not a valid ONNX protobuf: group wire type at byte %lld (ONNX uses none)",
                       (long long)(start - s->base));
    default:
        return AC_FAIL(s->d, AC_ERR_FORMAT,
                       "not a valid ONNX protobuf: invalid wire type %d at byte %lld", wire,
                       (long long)(start - s->base));
    }
    const uint8_t *lenpos = *pp;
    if (read_varint(pp, end, &v)) return truncated(s, lenpos, "length cut short");
    if (v > (uint64_t)(end - *pp))
        return truncated(s, lenpos, "length runs past the end of its message");
    const uint8_t *body = *pp, *body_end = *pp + v;
    *pp = body_end;
    if (!f) {
        s->info->est_bytes += 48 + v;
        return AC_OK;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
        s->info->est_bytes += repeated ? 8 : 0;
        return scan_message(s, f->descriptor, body, body_end, depth + 1);
    case PROTOBUF_C_TYPE_STRING:
        if (memchr(body, 0, v))
            return AC_FAIL(s->d, AC_ERR_FORMAT,
                           "%s.%s at byte %lld contains a NUL byte (names must be plain text)",
                           desc->short_name, f->name, (long long)(body - s->base));
        s->info->est_bytes += v + 1 + (repeated ? 8 : 0);
        return AC_OK;
    case PROTOBUF_C_TYPE_BYTES:
        s->info->est_bytes += v + (repeated ? 16 : 0);
        if (desc == &onnx__tensor_proto__descriptor && f->id == 9 && v >= AC_SPAN_MIN)
            return note_span(s, (size_t)(body - s->base), (size_t)v);
        return AC_OK;
    default: { /* packed scalars */
        uint64_t count;
        int w = wire_type_of(f->type);
        if (w == 0) {
            count = 0;
            for (const uint8_t *q = body; q < body_end; q++) count += !(*q & 0x80);
            if (v && (body_end[-1] & 0x80)) return truncated(s, body_end, "packed varint cut short");
        } else {
            uint64_t es = w == 1 ? 8 : 4;
            if (v % es)
                return AC_FAIL(s->d, AC_ERR_FORMAT,
                               "%s.%s at byte %lld: packed length %llu is not a multiple of %llu",
                               desc->short_name, f->name, (long long)(body - s->base),
                               (unsigned long long)v, (unsigned long long)es);
            count = v / es;
        }
        s->info->est_bytes += count * scalar_size(f->type);
        return AC_OK;
    }
    }
}

static ac_status scan_message(scan *s, const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                              const uint8_t *end, int depth) {
    if (depth > s->o->max_depth)
        return AC_FAIL(s->d, AC_ERR_LIMIT,
                       "model nesting depth exceeds the limit of %d (at byte %lld)",
                       (int)s->o->max_depth, (long long)(p - s->base));
    ac_prescan_info *in = s->info;
    if (depth > in->max_depth_seen) in->max_depth_seen = depth;
    in->messages++;
    in->est_bytes += desc->sizeof_message + 16;
    if (desc == &onnx__node_proto__descriptor && ++in->nodes > s->o->max_nodes)
        return AC_FAIL(s->d, AC_ERR_LIMIT, "model has more than %lld nodes (the limit)",
                       (long long)s->o->max_nodes);
    if (desc == &onnx__tensor_proto__descriptor && ++in->tensors > s->o->max_initializers)
        return AC_FAIL(s->d, AC_ERR_LIMIT, "model has more than %lld tensors (the limit)",
                       (long long)s->o->max_initializers);
    if (desc == &onnx__attribute_proto__descriptor && ++in->attributes > s->o->max_attributes)
        return AC_FAIL(s->d, AC_ERR_LIMIT, "model has more than %lld attributes (the limit)",
                       (long long)s->o->max_attributes);
    while (p < end) AC_TRY(scan_field(s, desc, &p, end, depth));
    if (in->est_bytes > s->o->max_memory_bytes)
        return AC_FAIL(s->d, AC_ERR_LIMIT,
                       "decoding the model needs more than its memory budget of %llu MB",
                       (unsigned long long)(s->o->max_memory_bytes >> 20));
    return AC_OK;
}

ac_status ac_onnx_prescan(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                          const ac_load_opts *o, ac_prescan_info *info, ac_diag *d) {
    memset(info, 0, sizeof *info);
    scan s = {buf, o, info, d};
    return scan_message(&s, desc, buf, buf + len, 1);
}

/* ---- budgeted allocator for protobuf-c ------------------------------------------------- */

/* protobuf-c's free callback gets no size, so each block carries its size in a header. */
typedef union block_head {
    size_t size;
    max_align_t align;
} block_head;

static void *budget_alloc(void *data, size_t size) {
    ac_pb_budget *b = data;
    if (size > b->limit - b->used || b->used > b->limit) {
        b->exceeded = 1;
        return NULL;
    }
    if (b->view && size >= AC_SPAN_MIN) {
        /* this allocation is for payload j (the next one of this size in file order); every
         * payload before j has been copied already */
        const ac_prescan_info *in = b->info;
        for (int64_t j = b->next_span; j < in->n_spans; j++) {
            if (in->spans[j].len != size) continue;
            for (int64_t k = b->first_kept; k < j; k++)
                ac_file_view_drop(b->view, in->spans[k].off, in->spans[k].len);
            b->first_kept = j;
            b->next_span = j + 1;
            break;
        }
    }
    block_head *h = ac_malloc(sizeof *h + size);
    if (!h) return NULL;
    h->size = size;
    b->used += size;
    return h + 1;
}

static void budget_free(void *data, void *p) {
    ac_pb_budget *b = data;
    if (!p) return;
    block_head *h = (block_head *)p - 1;
    b->used -= h->size;
    ac_free(h);
}

void *ac_pb_budget_release(ac_pb_budget *b, void *p) {
    if (!p) return NULL;
    block_head *h = (block_head *)p - 1;
    b->used -= h->size;
    return h;
}

void ac_pb_budget_init(ac_pb_budget *b, uint64_t limit) {
    memset(b, 0, sizeof *b);
    b->limit = limit;
    b->alloc.alloc = budget_alloc;
    b->alloc.free = budget_free;
    b->alloc.allocator_data = b;
}
