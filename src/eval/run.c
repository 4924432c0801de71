/* SPDX-License-Identifier: MIT */
/* ac_eval_run: a worker thread decodes and preprocesses batches into a small ring of slots
 * while the calling thread runs the model (its thread pool on the other cores) and feeds the
 * metric. The batch size stays fixed (the last batch is padded with zeros), so the session
 * plans once. */
#define _POSIX_C_SOURCE 200809L
#include "eval_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_SLOTS 3 /* one being filled, one waiting, one being inferred */

typedef struct slot {
    float *input;          /* batch x numel, aligned */
    size_t input_cap;      /* floats */
    int32_t count;         /* real samples (the rest is padding) */
    int64_t first;         /* dataset index of the first sample */
    ac_pre_result *geo;    /* per sample, data pointer cleared */
    ac_image *masks;       /* per sample (SEG) */
    int filled;
    ac_status st;
    ac_diag d;
} slot;

typedef struct runner {
    const ac_dataset *ds;
    ac_pipeline *pipe; /* the worker's clone */
    ac_task task;
    int32_t batch;
    int64_t n_batches;
    int32_t c, h, w; /* preprocessed shape, fixed by the first sample */
    size_t numel;
    slot slots[N_SLOTS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
} runner;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Decodes and preprocesses sample `idx` into position i of slot s. */
static ac_status fill_one(runner *r, slot *s, int32_t i, int64_t idx, ac_image *img,
                          ac_diag *d) {
    const ac_sample *sm = ac_dataset_at(r->ds, idx);
    ac_status st = ac_image_read(sm->path, ac_pipeline_decode_opts(r->pipe), img, d);
    if (st != AC_OK) return st;
    if (r->task == AC_TASK_DET && sm->width > 0 &&
        (img->width != sm->width || img->height != sm->height)) {
        ac_diag_where(d, "%s", sm->path);
        return AC_FAIL(d, AC_ERR_CONFIG, "image is %dx%d but %s says %dx%d", (int)img->width,
                       (int)img->height, ac_dataset_name(r->ds), (int)sm->width,
                       (int)sm->height);
    }
    if (r->task == AC_TASK_SEG) {
        if ((st = ac_mask_read(sm->mask_path, NULL, &s->masks[i], d)) != AC_OK) return st;
        if (s->masks[i].width != img->width || s->masks[i].height != img->height) {
            ac_diag_where(d, "%s", sm->path);
            return AC_FAIL(d, AC_ERR_CONFIG, "image is %dx%d but its mask %s is %dx%d",
                           (int)img->width, (int)img->height, sm->mask_path,
                           (int)s->masks[i].width, (int)s->masks[i].height);
        }
    }
    ac_pre_result pr;
    if ((st = ac_pipeline_run(r->pipe, img, &pr, d)) != AC_OK) {
        ac_diag_where(d, "%s", sm->path);
        return st;
    }
    if (!pr.chw) {
        ac_diag_where(d, "%s", sm->path);
        return AC_FAIL(d, AC_ERR_CONFIG, "preprocessing does not end in CHW (add ToCHWImage)");
    }
    if (!r->numel) {
        r->c = pr.channels;
        r->h = pr.height;
        r->w = pr.width;
        r->numel = pr.numel;
    } else if (pr.channels != r->c || pr.height != r->h || pr.width != r->w) {
        ac_diag_where(d, "%s", sm->path);
        return AC_FAIL(d, AC_ERR_CONFIG,
                       "preprocesses to %dx%dx%d but the first image to %dx%dx%d: use a "
                       "fixed-size resize or batch 1",
                       (int)pr.channels, (int)pr.height, (int)pr.width, (int)r->c, (int)r->h,
                       (int)r->w);
    }
    size_t need = (size_t)r->batch * r->numel;
    if (s->input_cap < need) {
        ac_aligned_free(s->input);
        s->input_cap = 0;
        if (!(s->input = ac_aligned_alloc(need * sizeof(float))))
            return AC_FAIL(d, AC_ERR_NOMEM, "out of memory for a batch");
        s->input_cap = need;
    }
    memcpy(s->input + (size_t)i * r->numel, pr.data, r->numel * sizeof(float));
    s->geo[i] = pr;
    s->geo[i].data = NULL;
    return AC_OK;
}

static void *worker(void *arg) {
    runner *r = arg;
    ac_image img = {0};
    for (int64_t b = 0; b < r->n_batches; b++) {
        slot *s = &r->slots[b % N_SLOTS];
        pthread_mutex_lock(&r->mu);
        while (s->filled && !r->stop) pthread_cond_wait(&r->cv, &r->mu);
        int stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop) break;
        s->first = b * r->batch;
        int64_t left = ac_dataset_count(r->ds) - s->first;
        s->count = (int32_t)(left < r->batch ? left : r->batch);
        ac_diag_clear(&s->d);
        s->st = AC_OK;
        for (int32_t i = 0; i < s->count && s->st == AC_OK; i++)
            s->st = fill_one(r, s, i, s->first + i, &img, &s->d);
        if (s->st == AC_OK && s->count < r->batch) /* padding: zeros, results ignored */
            memset(s->input + (size_t)s->count * r->numel, 0,
                   (size_t)(r->batch - s->count) * r->numel * sizeof(float));
        pthread_mutex_lock(&r->mu);
        s->filled = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (s->st != AC_OK) break;
    }
    ac_image_release(&img);
    return NULL;
}

/* Model inputs: the image (first rank-4 input) and PaddleDetection's optional extras. */
typedef struct feeds {
    ac_tensor t[3];
    int64_t dims[3][4];
    int32_t n;
    int32_t image, scale_factor, im_shape; /* indices into t, -1 when absent */
    float *extra;                          /* batch x 2 for each extra */
} feeds;

static ac_status setup_feeds(const ac_graph *g, int32_t batch, feeds *f, ac_diag *d) {
    memset(f, 0, sizeof *f);
    f->image = f->scale_factor = f->im_shape = -1;
    for (int64_t i = 0; i < g->n_inputs; i++) {
        const ac_value *v = g->inputs[i];
        if (v->flags & AC_VALUE_INITIALIZER) continue;
        if (f->n == 3)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "model has more inputs than an image, "
                                                  "scale_factor and im_shape");
        ac_tensor *t = &f->t[f->n];
        t->name = v->name;
        t->dtype = AC_DTYPE_F32;
        t->dims = f->dims[f->n];
        if (strstr(v->name, "scale_factor")) {
            f->scale_factor = f->n;
        } else if (strstr(v->name, "im_shape")) {
            f->im_shape = f->n;
        } else if (f->image < 0) {
            if (v->dtype != AC_DTYPE_F32 || (v->rank >= 0 && v->rank != 4))
                return AC_FAIL(d, AC_ERR_UNSUPPORTED, "input \"%s\" is not a float NCHW image",
                               v->name);
            f->image = f->n;
        } else {
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "input \"%s\": more than one image input",
                           v->name);
        }
        f->n++;
    }
    if (f->image < 0) return AC_FAIL(d, AC_ERR_UNSUPPORTED, "model has no image input");
    f->extra = ac_calloc((size_t)batch * 4, sizeof(float));
    if (!f->extra) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    int32_t k = 0;
    for (int32_t i = 0; i < f->n; i++) {
        if (i == f->image) continue;
        ac_tensor *t = &f->t[i];
        t->rank = 2;
        t->dims[0] = batch;
        t->dims[1] = 2;
        t->numel = (int64_t)batch * 2;
        t->nbytes = (size_t)t->numel * sizeof(float);
        t->data = f->extra + (size_t)k++ * (size_t)batch * 2;
    }
    return AC_OK;
}

typedef struct evaluator {
    const ac_eval_opts *o;
    ac_task task;
    const ac_dataset *ds;
    ac_metric *metric;
    ac_det *dets;
    int32_t det_cap;
    uint8_t *pred, *pred_m;
    size_t pred_cap, pred_m_cap;
} evaluator;

static const ac_tensor *find_output(const ac_tensor *outs, int32_t n, int want_rows6) {
    for (int32_t i = 0; i < n; i++) {
        const ac_tensor *t = &outs[i];
        if (want_rows6 && t->dtype == AC_DTYPE_F32 && t->rank == 2 && t->dims[1] == 6) return t;
        if (!want_rows6 && t->rank == 1 &&
            (t->dtype == AC_DTYPE_S32 || t->dtype == AC_DTYPE_S64))
            return t;
    }
    return NULL;
}

static int64_t count_at(const ac_tensor *t, int64_t i) {
    return t->dtype == AC_DTYPE_S32 ? ((const int32_t *)t->data)[i]
                                    : ((const int64_t *)t->data)[i];
}

static ac_status consume_det(evaluator *e, slot *s, int32_t batch, const ac_tensor *outs,
                             int32_t n_out, int feeds_scale, ac_diag *d) {
    const ac_det_post_opts *po = &e->o->det;
    const ac_tensor *rows = NULL, *counts = NULL;
    int64_t off = 0;
    if (e->o->post == AC_DET_POST_YOLOV5) {
        rows = &outs[0];
        if (rows->dtype != AC_DTYPE_F32 || rows->rank != 3 || rows->dims[0] != batch ||
            rows->dims[2] < 6)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                           "yolov5 post-processing needs a float [N, K, 5 + classes] output");
    } else {
        rows = find_output(outs, n_out, 1);
        counts = find_output(outs, n_out, 0);
        if (!rows || !counts || counts->dims[0] != batch)
            return AC_FAIL(d, AC_ERR_UNSUPPORTED, "nms_included post-processing needs a float "
                                                  "[M, 6] output and an integer [N] count");
    }
    for (int32_t i = 0; i < s->count; i++) {
        const ac_sample *sm = ac_dataset_at(e->ds, s->first + i);
        int32_t nd = 0;
        ac_status st;
        if (!counts) {
            int64_t k = rows->dims[1], rl = rows->dims[2];
            st = ac_det_decode_yolov5((const float *)rows->data + (size_t)i * k * rl, k,
                                      (int32_t)rl, &s->geo[i], po, e->dets, e->det_cap, &nd, d);
        } else {
            int64_t c = count_at(counts, i);
            if (c < 0 || off + c > rows->dims[0])
                return AC_FAIL(d, AC_ERR_UNSUPPORTED, "box counts exceed the box output");
            st = ac_det_decode_nms_included((const float *)rows->data + (size_t)off * 6, c,
                                            feeds_scale ? NULL : &s->geo[i], po, e->dets,
                                            e->det_cap, &nd, d);
            off += c;
        }
        if (st == AC_OK) {
            int64_t na;
            const ac_coco_ann *anns = ac_dataset_coco_anns(e->ds, &na);
            st = ac_metric_add_det(e->metric, sm->label, anns + sm->ann_first, sm->ann_count,
                                   e->dets, nd, d);
        }
        if (st != AC_OK) {
            ac_diag_where(d, "%s", sm->path);
            return st;
        }
    }
    return AC_OK;
}

static ac_status consume_seg(evaluator *e, slot *s, int32_t batch, const ac_tensor *out,
                             ac_diag *d) {
    if (out->dtype != AC_DTYPE_F32 || out->rank != 4 || out->dims[0] != batch ||
        out->dims[1] < 1 || out->dims[1] > 255)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED,
                       "segmentation needs a float [N, C, H, W] output with C <= 255");
    int32_t c = (int32_t)out->dims[1];
    int64_t oh = out->dims[2], ow = out->dims[3], hw = oh * ow;
    if (!e->metric) AC_TRY(ac_metric_new_seg(c, &e->metric, d));
    if (e->pred_cap < (size_t)hw) {
        ac_free(e->pred);
        e->pred_cap = 0;
        if (!(e->pred = ac_malloc((size_t)hw))) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        e->pred_cap = (size_t)hw;
    }
    for (int32_t i = 0; i < s->count; i++) {
        const ac_sample *sm = ac_dataset_at(e->ds, s->first + i);
        const ac_image *mk = &s->masks[i];
        const ac_pre_result *g = &s->geo[i];
        ac_seg_argmax((const float *)out->data + (size_t)i * (size_t)c * (size_t)hw, c, hw,
                      e->pred);
        const uint8_t *pred = e->pred;
        size_t mp = (size_t)mk->width * (size_t)mk->height;
        if (mk->width != ow || mk->height != oh) {
            /* sample the prediction at each mask pixel's centre, mapped through the
             * preprocessing geometry and the output/input resolution ratio */
            if (e->pred_m_cap < mp) {
                ac_free(e->pred_m);
                e->pred_m_cap = 0;
                if (!(e->pred_m = ac_malloc(mp))) return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
                e->pred_m_cap = mp;
            }
            double fx = (double)ow / g->width, fy = (double)oh / g->height;
            for (int32_t y = 0; y < mk->height; y++) {
                int64_t oy = (int64_t)floor(((y + 0.5) * g->scale_y + g->offset_y) * fy);
                oy = oy < 0 ? 0 : oy >= oh ? oh - 1 : oy;
                for (int32_t x = 0; x < mk->width; x++) {
                    int64_t ox = (int64_t)floor(((x + 0.5) * g->scale_x + g->offset_x) * fx);
                    ox = ox < 0 ? 0 : ox >= ow ? ow - 1 : ox;
                    e->pred_m[(size_t)y * mk->width + x] = e->pred[oy * ow + ox];
                }
            }
            pred = e->pred_m;
        }
        ac_status st = ac_metric_add_seg(e->metric, mk->data, pred, (int64_t)mp, d);
        if (st != AC_OK) {
            ac_diag_where(d, "%s", sm->mask_path);
            return st;
        }
    }
    return AC_OK;
}

static ac_status consume(evaluator *e, slot *s, int32_t batch, const ac_tensor *outs,
                         int32_t n_out, int feeds_scale, ac_diag *d) {
    if (n_out < 1) return AC_FAIL(d, AC_ERR_UNSUPPORTED, "model has no outputs");
    if (e->task == AC_TASK_DET) return consume_det(e, s, batch, outs, n_out, feeds_scale, d);
    if (e->task == AC_TASK_SEG) return consume_seg(e, s, batch, &outs[0], d);
    const ac_tensor *out = &outs[0];
    if (out->dtype != AC_DTYPE_F32 || out->rank < 2 || out->dims[0] != batch ||
        out->numel / batch > INT32_MAX)
        return AC_FAIL(d, AC_ERR_UNSUPPORTED, "classification needs a float [N, classes] output");
    int32_t k = (int32_t)(out->numel / batch);
    if (!e->metric) AC_TRY(ac_metric_new_cls(k, &e->metric, d));
    for (int32_t i = 0; i < s->count; i++) {
        const ac_sample *sm = ac_dataset_at(e->ds, s->first + i);
        if (sm->label >= k) {
            ac_diag_where(d, "%s", sm->path);
            return AC_FAIL(d, AC_ERR_CONFIG, "label %lld but the model has %d classes",
                           (long long)sm->label, (int)k);
        }
        AC_TRY(ac_metric_add_cls(e->metric, (const float *)out->data + (size_t)i * k, k,
                                 sm->label, d));
    }
    return AC_OK;
}

static ac_status check_kind(ac_task task, const ac_dataset *ds, ac_diag *d) {
    static const ac_dataset_kind want[AC_TASK_COUNT] = {AC_DATASET_CLS, AC_DATASET_COCO,
                                                        AC_DATASET_SEG};
    if (task < 0 || task >= AC_TASK_COUNT) return AC_FAIL(d, AC_ERR_ARG, "bad task");
    if (ac_dataset_kind_of(ds) != want[task])
        return AC_FAIL(d, AC_ERR_ARG, "task %s needs a %s dataset", ac_task_name(task),
                       task == AC_TASK_CLS ? "labelled classification"
                       : task == AC_TASK_DET ? "COCO"
                                             : "segmentation");
    if (!ac_dataset_count(ds)) return AC_FAIL(d, AC_ERR_CONFIG, "the dataset (shard) is empty");
    return AC_OK;
}

ac_status ac_eval_run(const ac_model *m, ac_task task, const ac_dataset *ds,
                      const ac_pipeline *p, const ac_eval_opts *o, ac_metric **state,
                      ac_eval_result *out, ac_diag *d) {
    if (state) *state = NULL;
    if (!m || !ds || !p || !out) return AC_FAIL(d, AC_ERR_ARG, "NULL argument");
    AC_TRY(check_kind(task, ds, d));
    ac_eval_opts dflt = {0};
    if (!o) o = &dflt;
    double t0 = now_s();
    int64_t n = ac_dataset_count(ds);
    int32_t batch = o->batch > 0 ? o->batch : 8;
    if (batch > n) batch = (int32_t)n; /* one plan for tiny sets too */
    const ac_graph *g = ac_model_graph(m);
    runner r = {.ds = ds, .task = task, .batch = batch, .n_batches = (n + batch - 1) / batch};
    evaluator e = {.o = o, .task = task, .ds = ds};
    feeds f;
    ac_session *sess = NULL;
    ac_status st = AC_OK;
    int started = 0, sync_ok = 0;
    if ((st = setup_feeds(g, batch, &f, d)) != AC_OK) goto done;
    if (task == AC_TASK_DET) {
        int32_t nc;
        const ac_coco_category *cats = ac_dataset_coco_categories(ds, &nc);
        int64_t *ids = ac_malloc_array(nc ? (size_t)nc : 1, sizeof *ids);
        if (!ids) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (int32_t i = 0; i < nc; i++) ids[i] = cats[i].id;
        st = ac_metric_new_det(ids, nc, &e.metric, d);
        ac_free(ids);
        if (st != AC_OK) goto done;
        e.det_cap = o->det.max_dets > 0 ? o->det.max_dets : 300;
        if (!(e.dets = ac_malloc_array((size_t)e.det_cap, sizeof *e.dets))) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    ac_session_opts so = {.isa = o->isa};
    int32_t cpus = ac_cpu_count();
    so.threads = o->threads > 0 ? o->threads : (cpus > 1 ? cpus - 1 : 1);
    if ((st = ac_session_new(g, ac_model_opset(m, ""), &so, &sess, d)) != AC_OK) goto done;
    if ((st = ac_pipeline_clone(p, &r.pipe, d)) != AC_OK) goto done;
    for (int i = 0; i < N_SLOTS; i++) {
        r.slots[i].geo = ac_calloc((size_t)batch, sizeof *r.slots[i].geo);
        r.slots[i].masks = ac_calloc((size_t)batch, sizeof *r.slots[i].masks);
        if (!r.slots[i].geo || !r.slots[i].masks) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    if (pthread_mutex_init(&r.mu, NULL) || pthread_cond_init(&r.cv, NULL)) {
        st = AC_FAIL(d, AC_ERR_INTERNAL, "cannot create a mutex");
        goto done;
    }
    sync_ok = 1;
    pthread_t th;
    if (pthread_create(&th, NULL, worker, &r)) {
        st = AC_FAIL(d, AC_ERR_INTERNAL, "cannot start the decoding thread");
        goto done;
    }
    started = 1;
    for (int64_t b = 0; b < r.n_batches && st == AC_OK; b++) {
        slot *s = &r.slots[b % N_SLOTS];
        pthread_mutex_lock(&r.mu);
        while (!s->filled) pthread_cond_wait(&r.cv, &r.mu);
        pthread_mutex_unlock(&r.mu);
        if (s->st != AC_OK) {
            if (d && d->status == AC_OK) *d = s->d;
            st = s->st;
            break;
        }
        ac_tensor *img = &f.t[f.image];
        img->rank = 4;
        img->dims[0] = batch;
        img->dims[1] = r.c;
        img->dims[2] = r.h;
        img->dims[3] = r.w;
        img->numel = (int64_t)batch * (int64_t)r.numel;
        img->nbytes = (size_t)img->numel * sizeof(float);
        img->data = s->input;
        for (int32_t i = 0; i < batch; i++) {
            const ac_pre_result *g0 = &s->geo[i < s->count ? i : 0];
            float *sf = f.scale_factor >= 0 ? (float *)f.t[f.scale_factor].data : NULL;
            float *is = f.im_shape >= 0 ? (float *)f.t[f.im_shape].data : NULL;
            if (sf) {
                sf[2 * i] = (float)(g0->scale_y != 0 ? g0->scale_y : 1);
                sf[2 * i + 1] = (float)(g0->scale_x != 0 ? g0->scale_x : 1);
            }
            if (is) {
                is[2 * i] = (float)r.h;
                is[2 * i + 1] = (float)r.w;
            }
        }
        const ac_tensor *outs;
        int32_t n_out;
        st = ac_session_run(sess, f.n, f.t, &outs, &n_out, d);
        if (st == AC_OK) st = consume(&e, s, batch, outs, n_out, f.scale_factor >= 0, d);
        pthread_mutex_lock(&r.mu);
        s->filled = 0;
        pthread_cond_broadcast(&r.cv);
        pthread_mutex_unlock(&r.mu);
    }
done:
    if (started) {
        pthread_mutex_lock(&r.mu);
        r.stop = 1;
        pthread_cond_broadcast(&r.cv);
        pthread_mutex_unlock(&r.mu);
        pthread_join(th, NULL);
    }
    if (sync_ok) {
        pthread_mutex_destroy(&r.mu);
        pthread_cond_destroy(&r.cv);
    }
    for (int i = 0; i < N_SLOTS; i++) {
        ac_aligned_free(r.slots[i].input);
        for (int32_t k = 0; r.slots[i].masks && k < batch; k++)
            ac_image_release(&r.slots[i].masks[k]);
        ac_free(r.slots[i].masks);
        ac_free(r.slots[i].geo);
    }
    ac_pipeline_free(r.pipe);
    ac_session_free(sess);
    ac_free(f.extra);
    ac_free(e.dets);
    ac_free(e.pred);
    ac_free(e.pred_m);
    if (st == AC_OK) st = ac_metric_compute(e.metric, out, d);
    if (st == AC_OK) {
        out->seconds = now_s() - t0;
        out->images_per_second = out->seconds > 0 ? (double)out->n / out->seconds : 0;
        if (state) {
            *state = e.metric;
            e.metric = NULL;
        }
    }
    ac_metric_free(e.metric);
    return st;
}
