/* SPDX-License-Identifier: MIT */
/*
 * ac_base.h — status codes, per-call diagnostics, allocation, arenas, logging and atomic file
 * output. Every other module builds on these.
 *
 * Errors: every fallible call returns an ac_status and takes an `ac_diag *d` last (may be NULL).
 * The code that *detects* a failure fills the message with AC_FAIL; callers propagate the status
 * without adding text, but may name the place (file, node, tensor) with ac_diag_where() if no one
 * has yet. The result is one line such as
 *
 *     model.onnx: node "conv_3" (Conv): input "w3" is never defined
 *
 *     ac_diag d = {0};
 *     ac_model *m = NULL;
 *     if (ac_model_load("model.onnx", NULL, &m, &d) != AC_OK) {
 *         char line[600];
 *         fprintf(stderr, "%s\n", ac_diag_line(&d, line, sizeof line));
 *     }
 *
 * Memory: all library allocations go through ac_malloc & co. so tests can fail the Nth
 * allocation (ac_alloc_fail_at) and count them. Nothing here is global state except the
 * allocation counters and the log hook, both safe to use from several threads.
 */
#ifndef AC_BASE_H
#define AC_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AC_API __attribute__((visibility("default")))
#define AC_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define AC_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------------------------------------
 * Status codes. Append only: the numbers are part of the ABI and of the CLI's exit-code map.
 */
typedef enum ac_status {
    AC_OK = 0,
    AC_ERR_NOMEM,       /* allocation failed (or injected failure)                  */
    AC_ERR_IO,          /* open/read/write/fsync/rename; ac_diag.sys_errno is set   */
    AC_ERR_FORMAT,      /* bytes are not valid protobuf / JPEG / PNG / YAML / JSON  */
    AC_ERR_MODEL,       /* valid protobuf, invalid ONNX graph                       */
    AC_ERR_UNSUPPORTED, /* valid but not handled: op, dtype, attribute value        */
    AC_ERR_CONFIG,      /* config schema violation                                  */
    AC_ERR_LIMIT,       /* over a size/depth/count limit we enforce                 */
    AC_ERR_ARG,         /* API misuse by the caller                                 */
    AC_ERR_CANCELLED,   /* stopped on request                                       */
    AC_ERR_INTERNAL,    /* invariant violated: a bug                                */
    AC_STATUS_COUNT
} ac_status;

/* Stable lower-case name of a status ("format", "limit", ...). Never NULL. */
AC_API const char *ac_status_str(ac_status s);

/* Caller-owned diagnostics, usually on the stack and zero-initialised. First failure wins. */
typedef struct ac_diag {
    ac_status status;
    int sys_errno;  /* errno for AC_ERR_IO, else 0 */
    char where[256]; /* "model.onnx: node \"conv3\" (Conv)" */
    char msg[512];   /* "input \"w3\" is never defined" */
} ac_diag;

/* Records a failure in d (if d is non-NULL and holds no earlier failure) and returns `s`, so
 * detection sites read `return AC_FAIL(d, AC_ERR_MODEL, "...", ...);`. */
AC_API ac_status ac_fail(ac_diag *d, ac_status s, const char *fmt, ...) AC_PRINTF(3, 4);
AC_API ac_status ac_failv(ac_diag *d, ac_status s, const char *fmt, va_list ap);
#define AC_FAIL(d, s, ...) ac_fail((d), (s), __VA_ARGS__)

/* Like ac_fail for I/O errors: records errno `err` and appends strerror(err) to the message. */
AC_API ac_status ac_fail_io(ac_diag *d, int err, const char *fmt, ...) AC_PRINTF(3, 4);

/* Names the place of a failure, only if none is named yet (the innermost place wins, since it
 * knows most). A non-empty existing `where` is instead prefixed when `prefix_outer` is set:
 * used by the outermost caller to add the file name in front of a node name. */
AC_API void ac_diag_where(ac_diag *d, const char *fmt, ...) AC_PRINTF(2, 3);
AC_API void ac_diag_prefix(ac_diag *d, const char *fmt, ...) AC_PRINTF(2, 3);

/* Clears d back to AC_OK. */
AC_API void ac_diag_clear(ac_diag *d);

/* Formats "where: msg" (or just msg) into buf and returns buf. Control characters (from names
 * in hostile files) become '?', so the result is always one printable line. */
AC_API const char *ac_diag_line(const ac_diag *d, char *buf, size_t n);

/* Propagate a failing status without adding a message. */
#define AC_TRY(expr)                                                                               \
    do {                                                                                           \
        ac_status ac_try_s_ = (expr);                                                              \
        if (ac_try_s_ != AC_OK) return ac_try_s_;                                                  \
    } while (0)

/* ---------------------------------------------------------------------------------------------
 * Allocation. Thread-safe. Sizes are checked for overflow by the array helpers.
 */
AC_API void *ac_malloc(size_t n);
AC_API void *ac_calloc(size_t count, size_t size);
AC_API void *ac_realloc(void *p, size_t n);
AC_API void ac_free(void *p);
/* `count * size` bytes, or NULL on overflow or failure. */
AC_API void *ac_malloc_array(size_t count, size_t size);
/* 64-byte aligned block with `n` usable bytes plus 64 bytes of slack for SIMD over-read.
 * Free with ac_aligned_free. */
AC_API void *ac_aligned_alloc(size_t n);
AC_API void ac_aligned_free(void *p);
AC_API char *ac_strdup(const char *s);

/* Test hook: the allocation numbered `n` from now (1 = the next) fails; 0 disables. */
AC_API void ac_alloc_fail_at(int64_t n);
/* Number of allocations made through ac_malloc & co. since start (for fault-injection loops). */
AC_API int64_t ac_alloc_count(void);

/* ---------------------------------------------------------------------------------------------
 * Arena: a chunked bump allocator. Everything allocated from it is freed at once by
 * ac_arena_free. Not thread-safe. Used for the graph IR (names, nodes, attributes).
 */
typedef struct ac_arena ac_arena;

/* Creates an arena whose chunks are at least `chunk_bytes` (0 = 64 KiB). */
AC_API ac_status ac_arena_new(size_t chunk_bytes, ac_arena **out, ac_diag *d);
AC_API void ac_arena_free(ac_arena *a);
/* Zeroed, 16-byte aligned memory owned by the arena; NULL on failure (no diag: callers know
 * what they were allocating and report AC_ERR_NOMEM). */
AC_API void *ac_arena_alloc(ac_arena *a, size_t n);
AC_API void *ac_arena_array(ac_arena *a, size_t count, size_t size);
AC_API char *ac_arena_strdup(ac_arena *a, const char *s);
AC_API char *ac_arena_strndup(ac_arena *a, const char *s, size_t n);
/* Total bytes reserved by the arena's chunks. */
AC_API size_t ac_arena_bytes(const ac_arena *a);

/* ---------------------------------------------------------------------------------------------
 * Logging. The library never writes to stdout or stderr itself: it calls the hook. Default
 * hook: none (messages dropped). The CLI installs a stderr logger.
 */
typedef enum ac_log_level {
    AC_LOG_ERROR = 0,
    AC_LOG_WARN,
    AC_LOG_INFO,
    AC_LOG_DEBUG,
    AC_LOG_LEVEL_COUNT
} ac_log_level;

typedef void (*ac_log_fn)(ac_log_level level, const char *msg, void *user);
AC_API void ac_log_set(ac_log_fn fn, void *user, ac_log_level max_level);
AC_API void ac_log(ac_log_level level, const char *fmt, ...) AC_PRINTF(2, 3);

/* ---------------------------------------------------------------------------------------------
 * Thread pool: a fixed set of workers running parallel-for jobs. The calling thread takes part,
 * so a pool of 1 runs everything inline with no synchronisation.
 */
typedef struct ac_threadpool ac_threadpool;

/* Online CPU count (at least 1). */
AC_API int32_t ac_cpu_count(void);
/* `nthreads` in total, the caller included (0 = ac_cpu_count()). Caller owns *out. */
AC_API ac_status ac_threadpool_new(int32_t nthreads, ac_threadpool **out, ac_diag *d);
AC_API void ac_threadpool_free(ac_threadpool *p);
AC_API int32_t ac_threadpool_size(const ac_threadpool *p);
/* Runs fn(user, task, thread) for every task in [0, n_tasks), tasks handed out dynamically;
 * `thread` is in [0, size) and unique among concurrently running calls, so it can index
 * per-thread scratch. Returns when all tasks are done. Not re-entrant: one job at a time. */
AC_API void ac_threadpool_run(ac_threadpool *p, int64_t n_tasks,
                              void (*fn)(void *user, int64_t task, int32_t thread), void *user);

/* ---------------------------------------------------------------------------------------------
 * Files.
 */

/* Reads a whole regular file into a new ac_malloc'd buffer (caller frees with ac_free). Files
 * larger than `max_bytes` fail with AC_ERR_LIMIT before anything is read. */
AC_API ac_status ac_file_read_all(const char *path, size_t max_bytes, uint8_t **out,
                                  size_t *out_len, ac_diag *d);

/* Read-only view of a whole regular file: mmap'd where possible (so pages already consumed can
 * be dropped from memory with ac_file_view_drop), else read into memory. Files larger than
 * `max_bytes` fail with AC_ERR_LIMIT before anything is read. Free with ac_file_view_close. */
typedef struct ac_file_view {
    const uint8_t *data;
    size_t len;
    int mapped; /* private */
} ac_file_view;
AC_API ac_status ac_file_view_open(const char *path, size_t max_bytes, ac_file_view *v,
                                   ac_diag *d);
/* Tells the OS the bytes [off, off+len) will not be read again soon: for a mapped view their
 * pages leave the process's resident set (reading them later re-reads the file, so this is
 * always safe). No-op for views held in memory. */
AC_API void ac_file_view_drop(const ac_file_view *v, size_t off, size_t len);
AC_API void ac_file_view_close(ac_file_view *v);

/* Nonzero when both paths exist and name the same file (device and inode, links followed):
 * how commands refuse an output that would replace one of their inputs. */
AC_API int ac_file_same(const char *a, const char *b);

/* Atomic output: bytes go to a temporary file beside `path`; ac_atomic_commit fsyncs it and
 * renames it over `path` (then fsyncs the folder), ac_atomic_abort removes it. Either way the
 * object is freed. Until commit, `path` is untouched; after a failure no temp file remains. */
typedef struct ac_atomic_file ac_atomic_file;
AC_API ac_status ac_atomic_open(const char *path, ac_atomic_file **out, ac_diag *d);
AC_API ac_status ac_atomic_write(ac_atomic_file *f, const void *data, size_t n, ac_diag *d);
AC_API ac_status ac_atomic_commit(ac_atomic_file *f, ac_diag *d);
AC_API void ac_atomic_abort(ac_atomic_file *f);
/* One-shot helper: writes `n` bytes of `data` atomically to `path`. */
AC_API ac_status ac_file_write_atomic(const char *path, const void *data, size_t n, ac_diag *d);

#ifdef __cplusplus
}
#endif
#endif /* AC_BASE_H */
