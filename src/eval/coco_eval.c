/* SPDX-License-Identifier: MIT */
/* COCO bbox mAP, a transcription of pycocotools' COCOeval (evaluate + accumulate + summarize)
 * for iouType "bbox", useCats 1, area range "all" and maxDets 100. Kept literal on purpose,
 * including its quirks, so numbers agree to the last digit:
 *  - IoU on x, y, w, h with no +1; a crowd ground truth uses the detection's area as the union
 *    (intersection over the detection);
 *  - detections sorted by descending score with a stable sort (numpy mergesort), per image and
 *    category, truncated to 100; ground truth with ignored boxes (crowd, area outside range)
 *    moved last, stably;
 *  - greedy matching per IoU threshold: the best remaining IoU >= threshold wins; a crowd box
 *    may match many detections; once a real match exists, ignored boxes are not considered;
 *    a detection matched to an ignored box is ignored;
 *  - "matched" is "the matched ground truth's id is non-zero" (a gt with id 0 never counts);
 *  - thresholds from numpy.linspace (i * step + start, last = stop), 101 recall points, the
 *    precision envelope, searchsorted(side="left"); categories without ground truth skipped. */
#include "eval_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_IOU 10
#define N_REC 101
#define MAX_DETS 100
#define AREA_HI 1e10 /* 1e5 ** 2 */

typedef struct entry {
    double score;
    int64_t order;       /* append order: the tie-break that makes qsort stable */
    int64_t gt_id[N_IOU]; /* matched ground truth id (0 = none) */
    uint8_t ig[N_IOU];
} entry;

typedef struct cat_acc {
    entry *e;
    int64_t n, cap;
    int64_t npig; /* non-ignored ground truth */
} cat_acc;

static void linspace(double start, double stop, int num, double *out) {
    double step = (stop - start) / (num - 1);
    for (int i = 0; i < num; i++) out[i] = (double)i * step + start;
    out[num - 1] = stop;
}

/* pycocotools maskApi bbIou for one pair. */
static double box_iou(const double *dt, const double *g, int crowd) {
    double iw = fmin(dt[0] + dt[2], g[0] + g[2]) - fmax(dt[0], g[0]);
    if (iw <= 0) return 0;
    double ih = fmin(dt[1] + dt[3], g[1] + g[3]) - fmax(dt[1], g[1]);
    if (ih <= 0) return 0;
    double i = iw * ih, da = dt[2] * dt[3];
    double u = crowd ? da : da + g[2] * g[3] - i;
    return i / u;
}

typedef struct ref {
    int32_t cat; /* index into the state's category list */
    int64_t idx; /* index in the image's array */
    double key;  /* sort key within the category */
} ref;

static int cmp_ref(const void *a, const void *b) {
    const ref *x = a, *y = b;
    if (x->cat != y->cat) return x->cat < y->cat ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int32_t cat_index(const ac_metric *m, int64_t id) {
    int32_t lo = 0, hi = m->n_cats;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (m->cats[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < m->n_cats && m->cats[lo] == id ? lo : -1;
}

typedef struct scratch {
    double *ious; /* MAX_DETS x n_gt */
    int64_t ious_cap;
    uint8_t *gtm;
    int64_t gtm_cap;
} scratch;

static int grow(void **p, int64_t *cap, int64_t need, size_t elem) {
    if (need <= *cap) return 0;
    int64_t c = need > 2 * *cap ? need : 2 * *cap;
    void *q = ac_realloc(*p, (size_t)c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* evaluateImg for one (image, category): gt and dt are already in pycocotools' order
 * (gt: non-ignored first; dt: by score, at most MAX_DETS). Appends to acc. */
static ac_status eval_img(const ac_coco_ann *const *gt, const uint8_t *gt_ig, int64_t ng,
                          const ac_det *const *dt, int64_t nd, const double *thr, cat_acc *acc,
                          scratch *s, ac_diag *d) {
    for (int64_t g = 0; g < ng; g++) acc->npig += !gt_ig[g];
    if (!nd) return AC_OK;
    if (grow((void **)&s->ious, &s->ious_cap, nd * (ng ? ng : 1), sizeof *s->ious) ||
        grow((void **)&s->gtm, &s->gtm_cap, ng ? ng : 1, 1) ||
        grow((void **)&acc->e, &acc->cap, acc->n + nd, sizeof *acc->e))
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < nd; i++)
        for (int64_t g = 0; g < ng; g++)
            s->ious[i * ng + g] = box_iou(dt[i]->bbox, gt[g]->bbox, gt[g]->iscrowd);
    entry *e = acc->e + acc->n;
    for (int64_t i = 0; i < nd; i++) {
        memset(&e[i], 0, sizeof e[i]);
        e[i].score = dt[i]->score;
        e[i].order = acc->n + i;
    }
    for (int t = 0; t < N_IOU && ng; t++) {
        memset(s->gtm, 0, (size_t)ng);
        for (int64_t i = 0; i < nd; i++) {
            double iou = fmin(thr[t], 1 - 1e-10);
            int64_t m = -1;
            for (int64_t g = 0; g < ng; g++) {
                if (s->gtm[g] && !gt[g]->iscrowd) continue;
                if (m > -1 && !gt_ig[m] && gt_ig[g]) break;
                if (s->ious[i * ng + g] < iou) continue;
                iou = s->ious[i * ng + g];
                m = g;
            }
            if (m == -1) continue;
            e[i].ig[t] = gt_ig[m];
            e[i].gt_id[t] = gt[m]->id;
            s->gtm[m] = 1;
        }
    }
    for (int64_t i = 0; i < nd; i++) {
        double area = dt[i]->bbox[2] * dt[i]->bbox[3];
        int out_of_range = area < 0 || area > AREA_HI;
        for (int t = 0; t < N_IOU; t++)
            if (!e[i].gt_id[t] && out_of_range) e[i].ig[t] = 1;
    }
    acc->n += nd;
    return AC_OK;
}

static int cmp_entry(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_img_id(const void *a, const void *b) {
    const ac_det_image *x = *(const ac_det_image *const *)a, *y = *(const ac_det_image *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* accumulate() for one category: sums the 101-point precision per IoU threshold. */
static ac_status accumulate(cat_acc *acc, const double *thr_rec, double *sum_t, ac_diag *d) {
    if (acc->n > 1) qsort(acc->e, (size_t)acc->n, sizeof *acc->e, cmp_entry);
    int64_t nd = acc->n;
    double *rc = ac_malloc_array(nd ? (size_t)nd : 1, sizeof *rc);
    double *pr = ac_malloc_array(nd ? (size_t)nd : 1, sizeof *pr);
    if (!rc || !pr) {
        ac_free(rc);
        ac_free(pr);
        return AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
    }
    const double eps = 2.220446049250313e-16; /* np.spacing(1) */
    for (int t = 0; t < N_IOU; t++) {
        double tp = 0, fp = 0;
        for (int64_t i = 0; i < nd; i++) {
            int matched = acc->e[i].gt_id[t] != 0, ig = acc->e[i].ig[t];
            if (matched && !ig) tp += 1;
            else if (!matched && !ig) fp += 1;
            rc[i] = tp / (double)acc->npig;
            pr[i] = tp / (fp + tp + eps);
        }
        for (int64_t i = nd - 1; i > 0; i--)
            if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
        double s = 0;
        int64_t pi = 0;
        for (int r = 0; r < N_REC; r++) {
            while (pi < nd && rc[pi] < thr_rec[r]) pi++; /* searchsorted, side left */
            if (pi >= nd) break;
            s += pr[pi];
        }
        sum_t[t] += s;
    }
    ac_free(rc);
    ac_free(pr);
    return AC_OK;
}

ac_status ac_coco_evaluate(const ac_metric *m, ac_eval_result *out, ac_diag *d) {
    double thr[N_IOU], thr_rec[N_REC];
    linspace(0.5, 0.95, N_IOU, thr);
    linspace(0.0, 1.0, N_REC, thr_rec);
    ac_status st = AC_OK;
    const int32_t nc = m->n_cats;
    const ac_det_image **order = ac_malloc_array(m->n_imgs ? (size_t)m->n_imgs : 1,
                                                 sizeof *order);
    cat_acc *acc = ac_calloc(nc ? (size_t)nc : 1, sizeof *acc);
    scratch s = {0};
    ref *gr = NULL, *dr = NULL;
    const ac_coco_ann **gp = NULL;
    const ac_det **dp = NULL;
    uint8_t *gig = NULL;
    int64_t gr_cap = 0, dr_cap = 0, gp_cap = 0, dp_cap = 0, gig_cap = 0;
    if (!order || !acc) {
        st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < m->n_imgs; i++) order[i] = &m->imgs[i];
    qsort(order, (size_t)m->n_imgs, sizeof *order, cmp_img_id); /* pycocotools' imgIds order */
    for (int64_t i = 1; i < m->n_imgs; i++)
        if (order[i]->id == order[i - 1]->id) {
            st = AC_FAIL(d, AC_ERR_ARG, "image id %lld was evaluated twice",
                         (long long)order[i]->id);
            goto done;
        }
    for (int64_t i = 0; i < m->n_imgs && st == AC_OK; i++) {
        const ac_det_image *im = order[i];
        if (grow((void **)&gr, &gr_cap, im->n_gt + 1, sizeof *gr) ||
            grow((void **)&dr, &dr_cap, im->n_dt + 1, sizeof *dr) ||
            grow((void **)&gp, &gp_cap, im->n_gt + 1, sizeof *gp) ||
            grow((void **)&dp, &dp_cap, im->n_dt + 1, sizeof *dp) ||
            grow((void **)&gig, &gig_cap, im->n_gt + 1, 1)) {
            st = AC_FAIL(d, AC_ERR_NOMEM, "out of memory");
            break;
        }
        /* group by category; gt non-ignored first, dt by descending score, both stable */
        int64_t ng = 0, ndt = 0;
        for (int64_t k = 0; k < im->n_gt; k++) {
            const ac_coco_ann *g = &im->gt[k];
            int32_t c = cat_index(m, g->category_id);
            if (c < 0) continue;
            int ig = g->iscrowd || g->area < 0 || g->area > AREA_HI;
            gr[ng++] = (ref){c, k, ig ? 1.0 : 0.0};
        }
        for (int64_t k = 0; k < im->n_dt; k++) {
            int32_t c = cat_index(m, im->dt[k].category_id);
            if (c < 0) continue; /* pycocotools evaluates only the gt file's categories */
            dr[ndt++] = (ref){c, k, -im->dt[k].score};
        }
        qsort(gr, (size_t)ng, sizeof *gr, cmp_ref);
        qsort(dr, (size_t)ndt, sizeof *dr, cmp_ref);
        int64_t a = 0, b = 0;
        while ((a < ng || b < ndt) && st == AC_OK) {
            int32_t c = a < ng && (b >= ndt || gr[a].cat <= dr[b].cat) ? gr[a].cat : dr[b].cat;
            int64_t n_g = 0, n_d = 0;
            while (a < ng && gr[a].cat == c) {
                gp[n_g] = &im->gt[gr[a].idx];
                gig[n_g++] = gr[a].key != 0;
                a++;
            }
            while (b < ndt && dr[b].cat == c) {
                if (n_d < MAX_DETS) dp[n_d++] = &im->dt[dr[b].idx];
                b++;
            }
            st = eval_img(gp, gig, n_g, dp, n_d, thr, &acc[c], &s, d);
        }
    }
    if (st != AC_OK) goto done;
    double sum_t[N_IOU] = {0};
    int32_t valid = 0;
    for (int32_t c = 0; c < nc && st == AC_OK; c++) {
        if (!acc[c].npig) continue; /* no ground truth: precision stays -1, skipped */
        valid++;
        st = accumulate(&acc[c], thr_rec, sum_t, d);
    }
    if (st != AC_OK) goto done;
    out->classes = valid;
    if (valid) {
        double all = 0;
        for (int t = 0; t < N_IOU; t++) all += sum_t[t];
        out->map = all / ((double)N_IOU * N_REC * valid);
        out->ap50 = sum_t[0] / ((double)N_REC * valid);
    }
done:
    for (int32_t c = 0; acc && c < nc; c++) ac_free(acc[c].e);
    ac_free(acc);
    ac_free(order);
    ac_free(s.ious);
    ac_free(s.gtm);
    ac_free(gr);
    ac_free(dr);
    ac_free(gp);
    ac_free(dp);
    ac_free(gig);
    return st;
}
