/* SPDX-License-Identifier: MIT */
/* The one place the library allocates, so tests can count allocations and fail the Nth one
 * (fault injection, as SQLite and ncnn's TestOOMAllocator do). */
#include "autocompress/ac_base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic int64_t alloc_count;
static _Atomic int64_t fail_at; /* absolute allocation number that fails; 0 = never */

void ac_alloc_fail_at(int64_t n) {
    atomic_store(&fail_at, n > 0 ? atomic_load(&alloc_count) + n : 0);
}

int64_t ac_alloc_count(void) { return atomic_load(&alloc_count); }

/* Counts one allocation; returns nonzero when this one must fail. */
static int next_fails(void) {
    int64_t k = atomic_fetch_add(&alloc_count, 1) + 1;
    int64_t f = atomic_load(&fail_at);
    return f != 0 && k == f;
}

void *ac_malloc(size_t n) {
    if (next_fails()) return NULL;
    return malloc(n ? n : 1);
}

void *ac_calloc(size_t count, size_t size) {
    if (next_fails()) return NULL;
    if (count == 0 || size == 0) return calloc(1, 1);
    return calloc(count, size);
}

void *ac_realloc(void *p, size_t n) {
    if (next_fails()) return NULL;
    return realloc(p, n ? n : 1);
}

void ac_free(void *p) { free(p); }

void *ac_malloc_array(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    return ac_malloc(count * size);
}

void *ac_aligned_alloc(size_t n) {
    /* +64 slack so vector loops may read a whole register past the last element. */
    if (n > SIZE_MAX - 128) return NULL;
    if (next_fails()) return NULL;
    size_t total = (n + 64 + 63) & ~(size_t)63;
    return aligned_alloc(64, total);
}

void ac_aligned_free(void *p) { free(p); }

char *ac_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *r = ac_malloc(n);
    if (r) memcpy(r, s, n);
    return r;
}
