/* SPDX-License-Identifier: MIT */
/* Chunked bump allocator: the IR allocates many small objects that all die together with the
 * graph, so freeing them one by one would only cost time and invite leaks (ggml's context). */
#include "autocompress/ac_base.h"

#include <string.h>

typedef struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(16) unsigned char data[];
} chunk;

struct ac_arena {
    chunk *head;
    size_t chunk_bytes;
    size_t reserved;
};

ac_status ac_arena_new(size_t chunk_bytes, ac_arena **out, ac_diag *d) {
    *out = NULL;
    ac_arena *a = ac_calloc(1, sizeof *a);
    if (!a) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory creating an arena");
    a->chunk_bytes = chunk_bytes ? chunk_bytes : 64 * 1024;
    *out = a;
    return AC_OK;
}

void ac_arena_free(ac_arena *a) {
    if (!a) return;
    chunk *c = a->head;
    while (c) {
        chunk *n = c->next;
        ac_free(c);
        c = n;
    }
    ac_free(a);
}

void *ac_arena_alloc(ac_arena *a, size_t n) {
    if (!a) return NULL;
    if (n > SIZE_MAX / 2) return NULL;
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > a->chunk_bytes ? n : a->chunk_bytes;
        c = ac_malloc(sizeof(chunk) + size);
        if (!c) return NULL;
        c->size = size;
        c->used = 0;
        /* Big one-off blocks go behind the current chunk so its free tail stays usable. */
        if (a->head && size > a->chunk_bytes) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
        a->reserved += size;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void *ac_arena_array(ac_arena *a, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    return ac_arena_alloc(a, count * size);
}

char *ac_arena_strndup(ac_arena *a, const char *s, size_t n) {
    char *r = ac_arena_alloc(a, n + 1);
    if (r) {
        if (n) memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

char *ac_arena_strdup(ac_arena *a, const char *s) {
    return ac_arena_strndup(a, s ? s : "", s ? strlen(s) : 0);
}

size_t ac_arena_bytes(const ac_arena *a) { return a ? a->reserved : 0; }
