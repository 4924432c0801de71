/* SPDX-License-Identifier: MIT */
/* The calibration run loop: a worker thread decodes and preprocesses samples into a small ring
 * of reusable batch buffers while the calling thread runs the session on the previous batch,
 * the collector watching every activation through the session's observer. */
#define _POSIX_C_SOURCE 200809L
#include "autocompress/ac_data.h"
#include "autocompress/ac_driver.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_QUEUE 2
#define MAX_QUEUE 64
#define MAX_BATCH (1 << 16)

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
    int end;         /* no batch follows (this one is empty) */
    ac_status status; /* worker failure: diag says what; nothing follows */
    ac_diag diag;
} drv_batch;

typedef struct drv {
    const ac_driver_opts *o;
    int32_t batch, queue, shard_i, shard_n;
    int64_t limit; /* samples to run at most */
    char **paths;
    int64_t n_paths;
    ac_pipeline *pipe;
    drv_batch *ring;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t produced, consumed; /* batches handed over / given back */
    int stop;                   /* the consumer quit: the worker must stop too */
    /* consumer side */
    ac_calib *calib;
    const drv_batch *cur; /* the batch the session is running, for error labels */
} drv;

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

/* The next free slot, or NULL once the consumer has stopped. */
static drv_batch *slot_begin(drv *v) {
    pthread_mutex_lock(&v->mu);
    while (!v->stop && v->produced - v->consumed >= v->queue)
        pthread_cond_wait(&v->cv, &v->mu);
    drv_batch *b = v->stop ? NULL : &v->ring[v->produced % v->queue];
    pthread_mutex_unlock(&v->mu);
    if (b) {
        b->n = 0;
        b->end = 0;
        b->status = AC_OK;
        ac_diag_clear(&b->diag);
    }
    return b;
}

static void slot_publish(drv *v) {
    pthread_mutex_lock(&v->mu);
    v->produced++;
    pthread_cond_broadcast(&v->cv);
    pthread_mutex_unlock(&v->mu);
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

static ac_status produce_images(drv *v, ac_diag *d) {
    ac_image img = {0};
    ac_status s = AC_OK;
    drv_batch *b = NULL;
    for (int64_t pos = 0; pos < v->limit && s == AC_OK; pos++) {
        int64_t g = v->shard_i + pos * (int64_t)v->shard_n;
        if (g >= v->n_paths) break;
        if (!b) {
            b = slot_begin(v);
            if (!b) break;
            b->pos = pos;
        }
        const char *path = v->paths[g];
        s = ac_image_read(path, ac_pipeline_decode_opts(v->pipe), &img, d);
        ac_pre_result r;
        if (s == AC_OK) {
            s = ac_pipeline_run(v->pipe, &img, &r, d);
            if (s != AC_OK) ac_diag_where(d, "%s", path);
        }
        if (s == AC_OK) {
            int64_t dims[3] = {r.channels, r.height, r.width};
            if (!r.chw) dims[0] = r.height, dims[1] = r.width, dims[2] = r.channels;
            s = slot_shape(v, b, 3, dims, (int64_t)r.numel, path, d);
            if (s == AC_OK) {
                memcpy(b->data + (size_t)b->n * r.numel, r.data, r.numel * sizeof(float));
                b->src[b->n++] = g;
            }
        }
        if (s == AC_OK && b->n == v->batch) {
            slot_publish(v);
            b = NULL;
        }
    }
    if (s == AC_OK && b && b->n > 0) slot_publish(v);
    ac_image_release(&img);
    return s;
}

static ac_status produce_tensors(drv *v, ac_diag *d) {
    const ac_driver_opts *o = v->o;
    int64_t row_dims[AC_MAX_RANK];
    int32_t row_rank = -1;
    int64_t g = 0, pos = 0; /* global row index; samples taken */
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
                b = slot_begin(v);
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
                slot_publish(v);
                b = NULL;
            }
        }
        ac_graph_free(owner); /* one file in memory at a time */
    }
    if (s == AC_OK && b && b->n > 0) slot_publish(v);
    if (s == AC_OK && !quit && pos == 0)
        s = AC_FAIL(d, AC_ERR_ARG, "no samples selected from the %d input file(s) (shard %d/%d)",
                    (int)o->n_tensor_files, (int)v->shard_i, (int)v->shard_n);
    return s;
}

static void *worker_main(void *arg) {
    drv *v = arg;
    ac_diag wd = {0};
    ac_status s = v->paths ? produce_images(v, &wd) : produce_tensors(v, &wd);
    /* last slot: the failure, or the end marker */
    drv_batch *b = slot_begin(v);
    if (b) {
        b->end = 1;
        b->status = s;
        b->diag = wd;
        slot_publish(v);
    }
    return NULL;
}

/* ---- consumer ----------------------------------------------------------------------------- */

/* The collector's choice (float activations), narrowed to the caller's list when it gave one:
 * the tensors the quantizer will read (ac_quant_needed). Asked once per plan. */
static int drv_want(const ac_value *val, void *user) {
    const drv *v = user;
    if (!ac_calib_want(val, v->calib)) return 0;
    if (!v->o->tensors) return 1;
    for (int64_t i = 0; i < v->o->n_tensors; i++)
        if (!strcmp(v->o->tensors[i], val->name)) return 1;
    return 0;
}

/* Names the image (and, via ac_calib, the tensor) of a NaN/Inf. ac_calib only knows the
 * sample's position in this run; the path is what the user can act on. */
static ac_status drv_observe(const ac_value *val, const ac_tensor *t, void *user, ac_diag *d) {
    drv *v = user;
    ac_diag ld = {0};
    ac_status s = ac_calib_observer(val, t, v->calib, &ld);
    if (s == AC_OK) return AC_OK;
    if (d && d->status == AC_OK) *d = ld;
    const drv_batch *b = v->cur;
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
    return AC_OK;
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

    drv v = {.o = o,
             .batch = o->batch ? o->batch : 1,
             .queue = o->queue_batches ? o->queue_batches : DEFAULT_QUEUE,
             .shard_i = o->shard_index,
             .shard_n = o->shard_count ? o->shard_count : 1,
             .limit = o->num_images ? o->num_images : INT64_MAX,
             .calib = c};
    pthread_mutex_init(&v.mu, NULL);
    pthread_cond_init(&v.cv, NULL);
    ac_session *sess = NULL;
    int started = 0;
    pthread_t worker;
    double t0 = now_s(), t_infer = 0, t_wait = 0;
    int64_t samples = 0, batches = 0;

    s = setup(&v, model_path, d);
    if (s != AC_OK) goto done;
    ac_session_opts so = {.threads = o->threads, .isa = o->isa};
    if (c) {
        so.want = drv_want;
        so.observe = drv_observe;
        so.observer_user = &v;
    }
    s = ac_session_new(g, ac_model_opset(m, ""), &so, &sess, d);
    if (s != AC_OK) {
        ac_diag_prefix(d, "%s", model_path);
        goto done;
    }
    if (c) ac_calib_set_threadpool(c, ac_session_threadpool(sess));
    if (pthread_create(&worker, NULL, worker_main, &v) != 0) {
        s = AC_FAIL(d, AC_ERR_INTERNAL, "cannot start the decoding thread");
        goto done;
    }
    started = 1;
    for (;;) {
        double tw = now_s();
        pthread_mutex_lock(&v.mu);
        while (v.consumed == v.produced)
            pthread_cond_wait(&v.cv, &v.mu);
        drv_batch *b = &v.ring[v.consumed % v.queue];
        pthread_mutex_unlock(&v.mu);
        t_wait += now_s() - tw;
        if (b->status != AC_OK) {
            if (d && d->status == AC_OK) *d = b->diag;
            s = b->status;
            break;
        }
        if (b->end) break;
        s = check_fits(&v, b, input, d);
        if (s != AC_OK) break;
        int64_t dims[AC_MAX_RANK];
        dims[0] = b->n;
        memcpy(dims + 1, b->dims, (size_t)b->rank * sizeof *dims);
        int64_t numel = b->n;
        for (int32_t k = 0; k < b->rank; k++)
            numel *= b->dims[k];
        ac_tensor in = {.name = input->name, .dtype = AC_DTYPE_F32, .rank = b->rank + 1,
                        .dims = dims, .numel = numel, .data = b->data,
                        .nbytes = (size_t)numel * sizeof(float)};
        if (c) ac_calib_set_image(c, b->pos);
        v.cur = b;
        const ac_tensor *outs;
        int32_t n_out;
        double ti = now_s();
        s = ac_session_run(sess, 1, &in, &outs, &n_out, d);
        t_infer += now_s() - ti;
        v.cur = NULL;
        if (s != AC_OK) {
            if (d && d->where[0] == 0) ac_diag_where(d, "%s", model_path);
            break;
        }
        samples += b->n;
        batches++;
        pthread_mutex_lock(&v.mu);
        v.consumed++;
        pthread_cond_broadcast(&v.cv);
        pthread_mutex_unlock(&v.mu);
    }
done:
    if (started) {
        pthread_mutex_lock(&v.mu);
        v.stop = 1;
        pthread_cond_broadcast(&v.cv);
        pthread_mutex_unlock(&v.mu);
        pthread_join(worker, NULL);
    }
    if (rep) {
        rep->samples = samples;
        rep->batches = batches;
        rep->tensors = c ? ac_calib_count(c) : 0;
        rep->seconds = now_s() - t0;
        rep->infer_seconds = t_infer;
        rep->wait_seconds = t_wait;
    }
    if (c) ac_calib_set_threadpool(c, NULL); /* the pool dies with the session */
    ac_session_free(sess);
    teardown(&v);
    pthread_cond_destroy(&v.cv);
    pthread_mutex_destroy(&v.mu);
    return s;
}
