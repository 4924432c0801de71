/* SPDX-License-Identifier: MIT */
/* The calibration run loop: worker threads decode and preprocess samples into a small ring
 * of reusable batch buffers (batch k in slot k % queue, so several workers can fill slots
 * out of order while lanes take batches in order) while lanes run the model on the batches
 * before, each lane a session of its own with a collector watching its activations through
 * the session's observer. One lane is the calling thread; the others' collectors are merged
 * into the caller's at the end, which is exact (ac_calib.h), so the statistics do not depend
 * on how many lanes ran or which batch went where. */
#define _POSIX_C_SOURCE 200809L
#include "autocompress/ac_data.h"
#include "autocompress/ac_driver.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_QUEUE 64
#define MAX_BATCH (1 << 16)
#define MAX_LANES 1024
#define MAX_WORKERS 16 /* decoding threads: one per four lanes, for images */
/* Auto lanes stop where their activation memory together would pass this: a big model is
 * better split op by op than copied per core. */
#define LANE_MEMORY_BUDGET ((size_t)2 << 30)

enum { SLOT_FREE, SLOT_READY, SLOT_RUNNING };

/* One batch as the worker hands it over. Buffers are owned by the ring and reused. */
typedef struct drv_batch {
    float *data;
    size_t cap;      /* floats allocated at data */
    int64_t n;       /* samples in the batch */
    int64_t pos;     /* run-order index of the first sample */
    int32_t rank;    /* rank of one sample (batch axis excluded) */
    int64_t dims[AC_MAX_RANK];
    int64_t *src;    /* per sample: index in the image list, or row in its TensorProto file */
    int32_t *file;   /* per sample (tensor inputs): index of the file */
    int state;       /* SLOT_*: a worker fills a free slot, a lane runs a ready one */
    int64_t seq;     /* the batch this slot holds or takes next: k, k + queue, ... */
    int end;         /* no batch follows (this one is empty) */
    ac_status status; /* worker failure: diag says what; nothing follows */
    ac_diag diag;
} drv_batch;

typedef struct drv drv;

/* One lane: a session, the collector it feeds (the caller's for lane 0), the batch it is
 * running (for error labels) and its first failure. */
typedef struct drv_lane {
    drv *v;
    ac_session *sess;
    ac_calib *calib;
    const drv_batch *cur;
    double t_infer, t_wait;
    int64_t samples, batches;
    int64_t fail_at; /* claim index of the batch that failed; INT64_MAX: none */
    ac_status status;
    ac_diag diag;
} drv_lane;

struct drv {
    const ac_driver_opts *o;
    int32_t batch, queue, shard_i, shard_n;
    int64_t limit; /* samples to run at most */
    char **paths;
    int64_t n_paths;
    ac_pipeline *pipe;
    int32_t workers;           /* decoding threads (images: several feed many lanes) */
    drv_batch *ring;           /* batch k lives in slot k % queue */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t claimed;           /* batches taken by lanes */
    int stop;                  /* the lanes are done: the workers must stop too */
    int halt;                  /* a lane failed: the others take no further batch */
    const ac_value *input;     /* the graph input fed with the samples */
    const char *model_path;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *sample_label(const drv *v, const drv_batch *b, int64_t j, char *buf,
                                size_t n) {
    if (v->paths) return v->paths[b->src[j]];
    snprintf(buf, n, "%s row %lld", v->o->tensor_files[b->file[j]], (long long)b->src[j]);
    return buf;
}

static void shape_str(int32_t rank, const int64_t *dims, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (int32_t i = 0; i < rank && k < n; i++) {
        int w = snprintf(buf + k, n - k, i ? "x%lld" : "%lld", (long long)dims[i]);
        if (w < 0) break;
        k += (size_t)w;
    }
    if (rank == 0) snprintf(buf, n, "scalar");
}

/* ---- worker ------------------------------------------------------------------------------ */

/* The slot of batch k once the lanes have given back the batch it held before, or NULL once
 * they have stopped. Batches are published in any order (several workers) and claimed in
 * order: the slot's sequence number says which batch it may hold. */
static drv_batch *slot_begin(drv *v, int64_t k) {
    drv_batch *b = &v->ring[k % v->queue];
    pthread_mutex_lock(&v->mu);
    while (!v->stop && (b->state != SLOT_FREE || b->seq != k))
        pthread_cond_wait(&v->cv, &v->mu);
    int stopped = v->stop;
    pthread_mutex_unlock(&v->mu);
    if (stopped) return NULL;
    b->n = 0;
    b->end = 0;
    b->status = AC_OK;
    ac_diag_clear(&b->diag);
    return b;
}

static void slot_publish(drv *v, drv_batch *b) {
    pthread_mutex_lock(&v->mu);
    b->state = SLOT_READY;
    pthread_cond_broadcast(&v->cv);
    pthread_mutex_unlock(&v->mu);
}

/* The stream's last slot, at batch k: the end marker, or the failure `s` (b: the slot of the
 * batch being filled when it failed, else NULL). */
static void slot_finish(drv *v, int64_t k, drv_batch *b, ac_status s, const ac_diag *d) {
    if (!b) b = slot_begin(v, k);
    if (!b) return;
    b->n = 0;
    b->end = s == AC_OK;
    b->status = s;
    if (d) b->diag = *d;
    slot_publish(v, b);
}

/* Makes room for `batch` samples of `numel` floats; the buffer only ever grows. */
static ac_status slot_reserve(drv *v, drv_batch *b, int64_t numel, ac_diag *d) {
    if (numel > INT64_MAX / v->batch || (uint64_t)(numel * v->batch) > SIZE_MAX / sizeof(float))
        return AC_FAIL(d, AC_ERR_LIMIT, "batch of %d samples of %lld values is too large",
                       (int)v->batch, (long long)numel);
    size_t need = (size_t)(numel * v->batch);
    if (need <= b->cap) return AC_OK;
    float *p = ac_aligned_alloc(need * sizeof(float));
    if (!p) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for a batch of %zu floats", need);
    ac_aligned_free(b->data);
    b->data = p;
    b->cap = need;
    return AC_OK;
}

/* Sets the batch's sample shape from its first sample, or checks a later sample against it. */
static ac_status slot_shape(drv *v, drv_batch *b, int32_t rank, const int64_t *dims,
                            int64_t numel, const char *label, ac_diag *d) {
    if (b->n == 0) {
        b->rank = rank;
        memcpy(b->dims, dims, (size_t)rank * sizeof *dims);
        return slot_reserve(v, b, numel, d);
    }
    if (rank == b->rank && memcmp(dims, b->dims, (size_t)rank * sizeof *dims) == 0) return AC_OK;
    char a[128], e[128];
    shape_str(rank, dims, a, sizeof a);
    shape_str(b->rank, b->dims, e, sizeof e);
    ac_diag_where(d, "%s", label);
    return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                   "sample shape %s differs from %s of the batch's first sample (batches need "
                   "one shape; use a batch of 1)",
                   a, e);
}

/* Worker w of v->workers decodes batches w, w + workers, ... of the image list with its own
 * pipeline, and the worker of the batch after the last publishes the end marker. */
static void produce_images(drv *v, int32_t w, ac_pipeline *pipe) {
    ac_image img = {0};
    ac_diag d = {0};
    int64_t n_batches = (v->limit + v->batch - 1) / v->batch;
    int64_t k = w;
    for (; k < n_batches; k += v->workers) {
        drv_batch *b = slot_begin(v, k);
        if (!b) break;
        b->pos = k * v->batch;
        ac_status s = AC_OK;
        for (int64_t pos = b->pos; pos < v->limit && pos < b->pos + v->batch && s == AC_OK;
             pos++) {
            int64_t g = v->shard_i + pos * (int64_t)v->shard_n; /* < n_paths (setup) */
            const char *path = v->paths[g];
            s = ac_image_read(path, ac_pipeline_decode_opts(pipe), &img, &d);
            ac_pre_result r;
            if (s == AC_OK) {
                s = ac_pipeline_run(pipe, &img, &r, &d);
                if (s != AC_OK) ac_diag_where(&d, "%s", path);
            }
            if (s == AC_OK) {
                int64_t dims[3] = {r.channels, r.height, r.width};
                if (!r.chw) dims[0] = r.height, dims[1] = r.width, dims[2] = r.channels;
                s = slot_shape(v, b, 3, dims, (int64_t)r.numel, path, &d);
                if (s == AC_OK) {
                    memcpy(b->data + (size_t)b->n * r.numel, r.data, r.numel * sizeof(float));
                    b->src[b->n++] = g;
                }
            }
        }
        if (s != AC_OK) {
            slot_finish(v, k, b, s, &d); /* the lanes stop at this batch */
            ac_image_release(&img);
            return;
        }
        slot_publish(v, b);
    }
    if (k == n_batches) slot_finish(v, k, NULL, AC_OK, NULL);
    ac_image_release(&img);
}

/* TensorProto files, read one at a time by the one worker. */
static void produce_tensors(drv *v) {
    const ac_driver_opts *o = v->o;
    ac_diag dd = {0}, *d = &dd;
    int64_t row_dims[AC_MAX_RANK];
    int32_t row_rank = -1;
    int64_t g = 0, pos = 0, k = 0; /* global row index; samples taken; next batch */
    drv_batch *b = NULL;
    ac_status s = AC_OK;
    int quit = 0; /* the consumer stopped */
    for (int32_t f = 0; f < o->n_tensor_files && s == AC_OK && !quit && pos < v->limit; f++) {
        const char *path = o->tensor_files[f];
        ac_tensor *t = NULL;
        ac_graph *owner = NULL;
        s = ac_tensor_read_pb(path, &t, &owner, d);
        if (s == AC_OK && (t->dtype != AC_DTYPE_F32 || t->rank < 1 || t->rank > AC_MAX_RANK)) {
            ac_diag_where(d, "%s", path);
            s = AC_FAIL(d, AC_ERR_UNSUPPORTED,
                        "calibration inputs must be float tensors of rank 1 to %d with samples "
                        "on axis 0 (got %s, rank %d)",
                        AC_MAX_RANK, ac_dtype_name(t->dtype), (int)t->rank);
        }
        if (s == AC_OK) {
            int32_t rr = t->rank - 1;
            if (row_rank < 0) {
                row_rank = rr;
                memcpy(row_dims, t->dims + 1, (size_t)rr * sizeof *row_dims);
            } else if (rr != row_rank ||
                       memcmp(row_dims, t->dims + 1, (size_t)rr * sizeof *row_dims) != 0) {
                char a[128], e[128];
                shape_str(rr, t->dims + 1, a, sizeof a);
                shape_str(row_rank, row_dims, e, sizeof e);
                ac_diag_where(d, "%s", path);
                s = AC_FAIL(d, AC_ERR_ARG, "rows of shape %s, earlier files have %s", a, e);
            }
        }
        int64_t rows = s == AC_OK ? t->dims[0] : 0;
        int64_t per = rows > 0 ? t->numel / rows : 0;
        for (int64_t r = 0; r < rows && s == AC_OK && pos < v->limit; r++, g++) {
            if (g % v->shard_n != v->shard_i) continue;
            if (!b) {
                b = slot_begin(v, k);
                if (!b) {
                    quit = 1;
                    break;
                }
                b->pos = pos;
            }
            s = slot_shape(v, b, row_rank, row_dims, per, path, d);
            if (s != AC_OK) break;
            memcpy(b->data + (size_t)(b->n * per), (const float *)t->data + r * per,
                   (size_t)per * sizeof(float));
            b->src[b->n] = r;
            b->file[b->n++] = f;
            pos++;
            if (b->n == v->batch) {
                slot_publish(v, b);
                b = NULL;
                k++;
            }
        }
        ac_graph_free(owner); /* one file in memory at a time */
    }
    if (quit) return;
    if (s == AC_OK && b && b->n > 0) {
        slot_publish(v, b);
        b = NULL;
        k++;
    }
    if (s == AC_OK && pos == 0)
        s = AC_FAIL(d, AC_ERR_ARG, "no samples selected from the %d input file(s) (shard %d/%d)",
                    (int)o->n_tensor_files, (int)v->shard_i, (int)v->shard_n);
    slot_finish(v, k, b, s, d); /* a failure lands on the batch being filled */
}

typedef struct drv_worker {
    drv *v;
    int32_t index;
    ac_pipeline *pipe; /* a clone per worker: a pipeline is not thread-safe */
} drv_worker;

static void *worker_main(void *arg) {
    drv_worker *w = arg;
    if (w->v->paths) produce_images(w->v, w->index, w->pipe);
    else produce_tensors(w->v);
    return NULL;
}

/* ---- consumer ----------------------------------------------------------------------------- */

/* The collector's choice (float activations), narrowed to the caller's list when it gave one:
 * the tensors the quantizer will read (ac_quant_needed). Asked once per plan. */
static int drv_want(const ac_value *val, void *user) {
    const drv_lane *l = user;
    const drv *v = l->v;
    if (!ac_calib_want(val, l->calib)) return 0;
    if (!v->o->tensors) return 1;
    for (int64_t i = 0; i < v->o->n_tensors; i++)
        if (!strcmp(v->o->tensors[i], val->name)) return 1;
    return 0;
}

/* Names the image (and, via ac_calib, the tensor) of a NaN/Inf. ac_calib only knows the
 * sample's position in this run; the path is what the user can act on. */
static ac_status drv_observe(const ac_value *val, const ac_tensor *t, void *user, ac_diag *d) {
    drv_lane *l = user;
    const drv *v = l->v;
    ac_diag ld = {0};
    ac_status s = ac_calib_observer(val, t, l->calib, &ld);
    if (s == AC_OK) return AC_OK;
    if (d && d->status == AC_OK) *d = ld;
    const drv_batch *b = l->cur;
    if (s == AC_ERR_MODEL && b && t->dtype == AC_DTYPE_F32 && t->numel > 0) {
        int64_t samples = t->rank > 0 ? t->dims[0] : 1;
        const float *x = t->data;
        for (int64_t i = 0; i < t->numel; i++) {
            if (isfinite(x[i])) continue;
            int64_t j = samples == b->n ? i / (t->numel / samples) : 0;
            char buf[4200];
            ac_diag_prefix(d, "%s", sample_label(v, b, j, buf, sizeof buf));
            break;
        }
    }
    return s;
}

/* The graph input that receives the samples: the only one without an initializer default. */
static ac_status find_input(const ac_graph *g, const ac_value **out, ac_diag *d) {
    const ac_value *in = NULL;
    for (int64_t i = 0; i < g->n_inputs; i++) {
        const ac_value *x = g->inputs[i];
        if (x->flags & AC_VALUE_INITIALIZER) continue;
        if (in)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                           "the model has more than one input to feed (\"%s\", \"%s\"); "
                           "calibration feeds one",
                           in->name, x->name);
        in = x;
    }
    if (!in) return AC_FAIL(d, AC_ERR_UNSUPPORTED, "the model has no input to feed");
    if (in->dtype != AC_DTYPE_F32 && in->dtype != AC_DTYPE_UNDEFINED)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "input \"%s\" is %s; calibration feeds float",
                       in->name, ac_dtype_name(in->dtype));
    *out = in;
    return AC_OK;
}

static ac_status check_fits(const drv *v, const drv_batch *b, const ac_value *in, ac_diag *d) {
    int ok = in->rank < 0 || in->rank == b->rank + 1;
    for (int32_t k = 0; ok && in->rank > 0 && k < b->rank; k++)
        if (in->dims[k + 1] > 0 && in->dims[k + 1] != b->dims[k]) ok = 0;
    if (ok) return AC_OK;
    char a[128], e[160], buf[4200];
    shape_str(b->rank, b->dims, a, sizeof a);
    size_t k = 0;
    e[k++] = '[';
    for (int32_t i = 0; i < in->rank && k < sizeof e - 24; i++) {
        if (i) e[k++] = ',';
        if (in->dims[i] > 0)
            k += (size_t)snprintf(e + k, sizeof e - k, "%lld", (long long)in->dims[i]);
        else
            e[k++] = '?';
    }
    e[k] = 0;
    ac_diag_where(d, "%s", sample_label(v, b, 0, buf, sizeof buf));
    return AC_FAIL(d, AC_ERR_ARG, "sample of shape %s does not fit input \"%s\" %s]", a,
                   in->name, e);
}

static ac_status setup(drv *v, const char *model_path, ac_diag *d) {
    const ac_driver_opts *o = v->o;
    if (o->images_dir) {
        AC_TRY(ac_driver_list_images(o->images_dir, o->max_images, &v->paths, &v->n_paths, d));
        int64_t avail = v->shard_i < v->n_paths
                            ? (v->n_paths - v->shard_i + v->shard_n - 1) / v->shard_n
                            : 0;
        if (avail == 0) {
            ac_diag_where(d, "%s", o->images_dir);
            return AC_FAIL(d, AC_ERR_ARG, "shard %d/%d of %lld images is empty", (int)v->shard_i,
                           (int)v->shard_n, (long long)v->n_paths);
        }
        if (avail < v->limit) v->limit = avail;
        char found[4200];
        const char *yaml = o->preprocess_yaml;
        if (!yaml) {
            if (!ac_driver_find_deploy_yaml(model_path, found, sizeof found))
                return AC_FAIL(d, AC_ERR_ARG,
                               "no preprocessing: none of inference_cls.yaml, infer_cfg.yml, "
                               "deploy.yaml beside %s (give a deploy yaml to preprocess with)",
                               model_path);
            yaml = found;
        }
        AC_TRY(ac_pipeline_from_yaml(yaml, NULL, &v->pipe, d));
    }
    v->ring = ac_calloc((size_t)v->queue, sizeof *v->ring);
    if (!v->ring) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for the batch queue");
    for (int32_t i = 0; i < v->queue; i++) {
        v->ring[i].seq = i;
        v->ring[i].src = ac_calloc((size_t)v->batch, sizeof *v->ring[i].src);
        v->ring[i].file = ac_calloc((size_t)v->batch, sizeof *v->ring[i].file);
        if (!v->ring[i].src || !v->ring[i].file)
            return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for the batch queue");
    }
    return AC_OK;
}

static void teardown(drv *v) {
    for (int32_t i = 0; v->ring && i < v->queue; i++) {
        ac_aligned_free(v->ring[i].data);
        ac_free(v->ring[i].src);
        ac_free(v->ring[i].file);
    }
    ac_free(v->ring);
    ac_pipeline_free(v->pipe);
    ac_driver_free_list(v->paths, v->n_paths);
}

static ac_status check_opts(const ac_driver_opts *o, ac_diag *d) {
    if (!!o->images_dir == (o->n_tensor_files > 0))
        return AC_FAIL(d, AC_ERR_ARG, "give either an image folder or TensorProto files");
    if (o->n_tensor_files < 0 || (o->n_tensor_files > 0 && !o->tensor_files))
        return AC_FAIL(d, AC_ERR_ARG, "bad list of TensorProto files");
    if (o->num_images < 0) return AC_FAIL(d, AC_ERR_ARG, "number of images must be positive");
    if (o->batch < 0 || o->batch > MAX_BATCH)
        return AC_FAIL(d, AC_ERR_ARG, "batch %d out of range [1, %d]", (int)o->batch, MAX_BATCH);
    if (o->queue_batches < 0 || o->queue_batches > MAX_QUEUE)
        return AC_FAIL(d, AC_ERR_ARG, "queue of %d batches out of range [1, %d]",
                       (int)o->queue_batches, MAX_QUEUE);
    int32_t n = o->shard_count ? o->shard_count : 1;
    if (n < 1 || o->shard_index < 0 || o->shard_index >= n)
        return AC_FAIL(d, AC_ERR_ARG, "bad shard %d/%d", (int)o->shard_index, (int)n);
    if (o->threads < 0) return AC_FAIL(d, AC_ERR_ARG, "threads must be positive");
    if (o->lanes < 0 || o->lanes > MAX_LANES)
        return AC_FAIL(d, AC_ERR_ARG, "lanes %d out of range [1, %d]", (int)o->lanes, MAX_LANES);
    return AC_OK;
}

/* ---- lanes ------------------------------------------------------------------------------- */

/* Whether batch k is in its slot, ready (under v->mu). */
static int ready(const drv *v, int64_t k) {
    const drv_batch *b = &v->ring[k % v->queue];
    return b->state == SLOT_READY && b->seq == k;
}

/* The next ready batch for a lane and its claim index, or NULL when the lane should stop: the
 * run halted, or the next slot is the end marker or a worker's failure (then *failed is set
 * and the slot stays for the other lanes to see). Batches are claimed in order, so when a
 * lane fails every batch before it has been claimed and runs to its end. */
static drv_batch *lane_claim(drv *v, int64_t *index, const drv_batch **failed) {
    *failed = NULL;
    pthread_mutex_lock(&v->mu);
    while (!v->halt && !ready(v, v->claimed))
        pthread_cond_wait(&v->cv, &v->mu);
    drv_batch *b = NULL;
    if (!v->halt) {
        b = &v->ring[v->claimed % v->queue];
        *index = v->claimed;
        if (b->end || b->status != AC_OK) {
            if (b->status != AC_OK) *failed = b;
            b = NULL;
        } else {
            b->state = SLOT_RUNNING;
            v->claimed++;
        }
    }
    pthread_mutex_unlock(&v->mu);
    return b;
}

static void lane_release(drv *v, drv_batch *b, int halt) {
    pthread_mutex_lock(&v->mu);
    b->state = SLOT_FREE;
    b->seq += v->queue; /* the batch this slot takes next */
    if (halt) v->halt = 1;
    pthread_cond_broadcast(&v->cv);
    pthread_mutex_unlock(&v->mu);
}

/* Runs one batch through the lane's session. */
static ac_status lane_run_batch(drv_lane *l, const drv_batch *b, ac_diag *d) {
    drv *v = l->v;
    AC_TRY(check_fits(v, b, v->input, d));
    int64_t dims[AC_MAX_RANK];
    dims[0] = b->n;
    memcpy(dims + 1, b->dims, (size_t)b->rank * sizeof *dims);
    int64_t numel = b->n;
    for (int32_t k = 0; k < b->rank; k++)
        numel *= b->dims[k];
    ac_tensor in = {.name = v->input->name, .dtype = AC_DTYPE_F32, .rank = b->rank + 1,
                    .dims = dims, .numel = numel, .data = b->data,
                    .nbytes = (size_t)numel * sizeof(float)};
    if (l->calib) ac_calib_set_image(l->calib, b->pos);
    l->cur = b;
    const ac_tensor *outs;
    int32_t n_out;
    double ti = now_s();
    ac_status s = ac_session_run(l->sess, 1, &in, &outs, &n_out, d);
    l->t_infer += now_s() - ti;
    l->cur = NULL;
    if (s != AC_OK && d && d->where[0] == 0) ac_diag_where(d, "%s", v->model_path);
    if (s == AC_OK) {
        l->samples += b->n;
        l->batches++;
    }
    return s;
}

/* Runs batches until the end, a failure, or `max_batches` (-1: no limit). */
static void lane_loop(drv_lane *l, int64_t max_batches) {
    drv *v = l->v;
    for (int64_t k = 0; max_batches < 0 || k < max_batches; k++) {
        int64_t index = 0;
        const drv_batch *failed;
        double tw = now_s();
        drv_batch *b = lane_claim(v, &index, &failed);
        l->t_wait += now_s() - tw;
        if (failed && index < l->fail_at) {
            l->fail_at = index;
            l->status = failed->status;
            l->diag = failed->diag;
        }
        if (!b) return;
        ac_diag d = {0};
        ac_status s = lane_run_batch(l, b, &d);
        if (s != AC_OK && index < l->fail_at) {
            l->fail_at = index;
            l->status = s;
            l->diag = d;
        }
        lane_release(v, b, s != AC_OK);
        if (s != AC_OK) return;
    }
}

static void *lane_main(void *arg) {
    lane_loop(arg, -1);
    return NULL;
}

static ac_status lane_session(drv_lane *l, const ac_model *m, int32_t threads, ac_diag *d) {
    ac_session_opts so = {.threads = threads, .isa = l->v->o->isa};
    if (l->calib) {
        so.want = drv_want;
        so.observe = drv_observe;
        so.observer_user = l;
    }
    ac_status s = ac_session_new(ac_model_graph(m), ac_model_opset(m, ""), &so, &l->sess, d);
    if (s != AC_OK) {
        ac_diag_prefix(d, "%s", l->v->model_path);
        return s;
    }
    /* big batches split their statistics over the session's pool (idle while it observes) */
    if (l->calib) ac_calib_set_threadpool(l->calib, ac_session_threadpool(l->sess));
    return AC_OK;
}

static void lane_end(drv_lane *l, int own_calib) {
    if (l->calib) ac_calib_set_threadpool(l->calib, NULL); /* the pool dies with the session */
    ac_session_free(l->sess);
    l->sess = NULL;
    if (own_calib) ac_calib_free(l->calib);
}

/* How many lanes: asked for, else one per thread while their activation memory (known after
 * lane 0's first batch) stays within the budget; never more than the batches to run. */
static int32_t lane_count(const drv *v, int32_t threads, size_t act_bytes) {
    int64_t n = v->o->lanes ? v->o->lanes : threads;
    if (!v->o->lanes && act_bytes > 0 && (size_t)n * act_bytes > LANE_MEMORY_BUDGET)
        n = (int64_t)(LANE_MEMORY_BUDGET / act_bytes);
    int64_t batches = v->limit == INT64_MAX ? INT64_MAX : (v->limit + v->batch - 1) / v->batch;
    if (n > batches) n = batches;
    return n < 1 ? 1 : (int32_t)n;
}

ac_status ac_driver_run(const ac_model *m, const char *model_path, const ac_driver_opts *o,
                        ac_calib *c, ac_driver_report *rep, ac_diag *d) {
    if (rep) memset(rep, 0, sizeof *rep);
    if (!m || !o) return AC_FAIL(d, AC_ERR_ARG, "ac_driver_run: NULL model or options");
    if (!model_path) model_path = "model";
    AC_TRY(check_opts(o, d));
    const ac_graph *g = ac_model_graph(m);
    const ac_value *input = NULL;
    ac_status s = find_input(g, &input, d);
    if (s != AC_OK) {
        ac_diag_prefix(d, "%s", model_path);
        return s;
    }

    int32_t threads = o->threads ? o->threads : ac_cpu_count();
    if (threads < 1) threads = 1;
    drv v = {.o = o,
             .batch = o->batch ? o->batch : 1,
             .shard_i = o->shard_index,
             .shard_n = o->shard_count ? o->shard_count : 1,
             .limit = o->num_images ? o->num_images : INT64_MAX,
             .input = input,
             .model_path = model_path};
    /* the most lanes this run may use; a decoding thread per four of them (one decoder cannot
     * feed many lanes of a small model); a slot per lane plus one per decoder being filled */
    int32_t max_lanes = lane_count(&v, threads, 0);
    v.workers = o->images_dir ? (max_lanes + 3) / 4 : 1;
    if (v.workers > MAX_WORKERS) v.workers = MAX_WORKERS;
    v.queue = o->queue_batches ? o->queue_batches
                               : (max_lanes + v.workers < MAX_QUEUE ? max_lanes + v.workers
                                                                    : MAX_QUEUE);
    pthread_mutex_init(&v.mu, NULL);
    pthread_cond_init(&v.cv, NULL);
    drv_lane *lanes = ac_calloc((size_t)max_lanes, sizeof *lanes);
    pthread_t *lane_threads = ac_calloc((size_t)max_lanes, sizeof *lane_threads);
    int32_t n_lanes = 1, n_started = 0, n_workers = 0;
    drv_worker workers[MAX_WORKERS];
    pthread_t worker_threads[MAX_WORKERS];
    double t0 = now_s();

    if (!lanes || !lane_threads) {
        s = AC_FAIL(d, AC_ERR_NOMEM, "out of memory for %d lanes", (int)max_lanes);
        goto done;
    }
    for (int32_t k = 0; k < max_lanes; k++)
        lanes[k] = (drv_lane){.v = &v, .fail_at = INT64_MAX};
    lanes[0].calib = c;
    s = setup(&v, model_path, d);
    if (s != AC_OK) goto done;
    s = lane_session(&lanes[0], m, threads, d);
    if (s != AC_OK) goto done;
    for (int32_t w = 0; w < v.workers; w++) {
        workers[w] = (drv_worker){.v = &v, .index = w, .pipe = v.pipe};
        if (w > 0 && (s = ac_pipeline_clone(v.pipe, &workers[w].pipe, d)) != AC_OK) break;
        if (pthread_create(&worker_threads[w], NULL, worker_main, &workers[w]) != 0) {
            if (w > 0) ac_pipeline_free(workers[w].pipe);
            s = AC_FAIL(d, AC_ERR_INTERNAL, "cannot start decoding thread %d", (int)w);
            break;
        }
        n_workers = w + 1;
    }
    if (s != AC_OK) goto done;
    if (max_lanes > 1) {
        /* the first batch, with every thread, says how much memory a lane's activations take */
        lane_loop(&lanes[0], 1);
        if (lanes[0].fail_at == INT64_MAX)
            n_lanes = lane_count(&v, threads, ac_session_activation_bytes(lanes[0].sess));
        if (n_lanes > 1) {
            lane_end(&lanes[0], 0);
            for (int32_t k = 0; k < n_lanes && s == AC_OK; k++) {
                if (c && k > 0) {
                    ac_calib_opts co = {.nbins = ac_calib_nbins(c)};
                    s = ac_calib_new(&co, &lanes[k].calib, d);
                }
                int32_t t = threads / n_lanes + (k < threads % n_lanes);
                if (s == AC_OK) s = lane_session(&lanes[k], m, t > 0 ? t : 1, d);
            }
            for (int32_t k = 1; k < n_lanes && s == AC_OK; k++) {
                if (pthread_create(&lane_threads[k], NULL, lane_main, &lanes[k]) != 0)
                    s = AC_FAIL(d, AC_ERR_INTERNAL, "cannot start lane %d", (int)k);
                else
                    n_started = k;
            }
            if (s != AC_OK) {
                pthread_mutex_lock(&v.mu);
                v.halt = 1;
                pthread_cond_broadcast(&v.cv);
                pthread_mutex_unlock(&v.mu);
            }
        }
    }
    if (s == AC_OK) lane_loop(&lanes[0], -1);
    for (int32_t k = 1; k <= n_started; k++)
        pthread_join(lane_threads[k], NULL);

    /* the failure of the earliest batch, as one lane running them in order would report */
    if (s == AC_OK) {
        int32_t first = -1;
        for (int32_t k = 0; k < n_lanes; k++)
            if (lanes[k].fail_at != INT64_MAX &&
                (first < 0 || lanes[k].fail_at < lanes[first].fail_at))
                first = k;
        if (first >= 0) {
            s = lanes[first].status;
            if (d && d->status == AC_OK) *d = lanes[first].diag;
        }
    }
    for (int32_t k = 1; k < n_lanes && s == AC_OK && c; k++)
        s = ac_calib_merge(c, lanes[k].calib, d);

done:
    if (n_workers > 0) {
        pthread_mutex_lock(&v.mu);
        v.stop = 1;
        pthread_cond_broadcast(&v.cv);
        pthread_mutex_unlock(&v.mu);
        for (int32_t w = 0; w < n_workers; w++) {
            pthread_join(worker_threads[w], NULL);
            if (w > 0) ac_pipeline_free(workers[w].pipe);
        }
    }
    if (rep) {
        for (int32_t k = 0; lanes && k < n_lanes; k++) {
            rep->samples += lanes[k].samples;
            rep->batches += lanes[k].batches;
            rep->infer_seconds += lanes[k].t_infer / n_lanes;
            rep->wait_seconds += lanes[k].t_wait / n_lanes;
        }
        rep->tensors = c ? ac_calib_count(c) : 0;
        rep->lanes = n_lanes;
        rep->seconds = now_s() - t0;
    }
    for (int32_t k = 0; lanes && k < max_lanes; k++)
        lane_end(&lanes[k], k > 0);
    ac_free(lanes);
    ac_free(lane_threads);
    teardown(&v);
    pthread_cond_destroy(&v.cv);
    pthread_mutex_destroy(&v.mu);
    return s;
}
