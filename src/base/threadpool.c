/* SPDX-License-Identifier: MIT */
/* Parallel-for pool. Workers spin briefly before sleeping: CNN layers come back to back in
 * microseconds, and a condition-variable wake-up per layer would cost more than small layers. */
#define _GNU_SOURCE
#include "autocompress/ac_base.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

struct ac_threadpool {
    int32_t n; /* threads including the caller */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    _Atomic uint64_t generation; /* bumped per job */
    _Atomic int64_t next_task;
    _Atomic int32_t busy; /* workers still inside the current job */
    _Atomic int stop;
    int64_t n_tasks;
    void (*fn)(void *, int64_t, int32_t);
    void *user;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

typedef struct worker_arg {
    ac_threadpool *p;
    int32_t id;
} worker_arg;

int32_t ac_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int32_t)n : 1;
}

static void work(ac_threadpool *p, int32_t id) {
    for (;;) {
        int64_t t = atomic_fetch_add(&p->next_task, 1);
        if (t >= p->n_tasks) break;
        p->fn(p->user, t, id);
    }
}

static void *worker_main(void *arg) {
    ac_threadpool *p = ((worker_arg *)arg)->p;
    int32_t id = ((worker_arg *)arg)->id;
    ac_free(arg);
    uint64_t seen = 0;
    for (;;) {
        uint64_t g;
        int spins = 0;
        while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop)) {
            /* spin (cheaply) for about a millisecond, then sleep */
            if (++spins < (1 << 16)) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = g;
        work(p, id);
        atomic_fetch_sub(&p->busy, 1);
    }
}

ac_status ac_threadpool_new(int32_t nthreads, ac_threadpool **out, ac_diag *d) {
    *out = NULL;
    if (nthreads <= 0) nthreads = ac_cpu_count();
    ac_threadpool *p = ac_calloc(1, sizeof *p);
    if (!p) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory creating a thread pool");
    p->n = nthreads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (nthreads > 1) {
        p->threads = ac_calloc((size_t)nthreads, sizeof *p->threads);
        if (!p->threads) {
            ac_threadpool_free(p);
            return AC_FAIL(d, AC_ERR_NOMEM, "out of memory creating a thread pool");
        }
        for (int32_t i = 1; i < nthreads; i++) {
            worker_arg *a = ac_malloc(sizeof *a);
            if (a) {
                a->p = p;
                a->id = i;
            }
            if (!a || pthread_create(&p->threads[i], NULL, worker_main, a) != 0) {
                ac_free(a);
                p->n = i; /* only these started */
                ac_threadpool_free(p);
                return AC_FAIL(d, AC_ERR_NOMEM, "cannot start thread %d", (int)i);
            }
        }
    }
    *out = p;
    return AC_OK;
}

void ac_threadpool_free(ac_threadpool *p) {
    if (!p) return;
    if (p->threads) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->stop, 1);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
        for (int32_t i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
        ac_free(p->threads);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    ac_free(p);
}

int32_t ac_threadpool_size(const ac_threadpool *p) { return p ? p->n : 1; }

void ac_threadpool_run(ac_threadpool *p, int64_t n_tasks,
                       void (*fn)(void *user, int64_t task, int32_t thread), void *user) {
    if (n_tasks <= 0) return;
    if (!p || p->n == 1 || n_tasks == 1) {
        for (int64_t t = 0; t < n_tasks; t++) fn(user, t, 0);
        return;
    }
    p->fn = fn;
    p->user = user;
    p->n_tasks = n_tasks;
    atomic_store(&p->next_task, 0);
    atomic_store(&p->busy, p->n - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    work(p, 0);
    for (int spins = 0; atomic_load(&p->busy) > 0; spins++)
        if (spins < (1 << 16)) cpu_relax();
        else sched_yield();
}
