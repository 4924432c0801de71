/* SPDX-License-Identifier: MIT */
/* autocompress calibrate --model M (--data DIR | --inputs A.pb...) --save-stats F [options]
 * autocompress merge OUT IN...
 * Calibration statistics: one run (or one shard of it) over a data set, and the exact merge
 * of shards. The statistics do not depend on the range method, so --method only chooses what
 * the summary shows (and checks that the method works on these statistics). */
#include "cli.h"
#include "cli_calib.h"

#include "autocompress/ac_model.h"

#include <stdio.h>
#include <string.h>

static const char calibrate_usage[] =
    "usage: autocompress calibrate --model MODEL (--data DIR | --inputs A.pb...)\n"
    "                              --save-stats FILE [--method NAME] [options]\n"
    "Runs the FP32 model over calibration images and saves streaming per-tensor statistics\n"
    "(min/max, mean abs-max, exact histograms) to FILE, atomically. Shards (--shard i/n)\n"
    "merged with 'autocompress merge' equal one run over all images, byte for byte.\n"
    "  --method NAME         also print the thresholds of this range method: abs_max,\n"
    "                        min_max, avg, hist, KL, mse, emd (statistics are the same for all)\n";

/* Range of every tensor under method `m`: proves the method works on these statistics and
 * shows the spread of thresholds. */
static int print_method_summary(const ac_calib *c, ac_calib_method m) {
    ac_diag d = {0};
    int64_t n = ac_calib_count(c);
    const char *lo_name = NULL, *hi_name = NULL;
    float lo = 0, hi = 0;
    for (int64_t i = 0; i < n; i++) {
        ac_calib_stats s = {0};
        ac_calib_range r;
        if (ac_calib_stats_at(c, i, &s, &d) != AC_OK ||
            ac_calib_compute_range(&s, m, NULL, &r, &d) != AC_OK) {
            if (s.name) ac_diag_where(&d, "tensor \"%s\"", s.name);
            return ac_cli_report(&d);
        }
        if (!lo_name || r.amax < lo) lo = r.amax, lo_name = s.name;
        if (!hi_name || r.amax > hi) hi = r.amax, hi_name = s.name;
    }
    if (n > 0)
        printf("%s thresholds: smallest %g (\"%s\"), largest %g (\"%s\")\n",
               ac_calib_method_name(m), (double)lo, lo_name, (double)hi, hi_name);
    return AC_EXIT_OK;
}

int ac_cmd_calibrate(int argc, char **argv) {
    ac_cli_calib_args a;
    if (ac_cli_calib_init(&a, argc)) {
        fprintf(stderr, "autocompress: out of memory\n");
        return AC_EXIT_FAILURE;
    }
    ac_calib_method method = AC_CALIB_KL;
    int no_stats = 0, have_method = 0, rc = AC_EXIT_OK;
    ac_diag d = {0};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        int r = ac_cli_calib_option("calibrate", argc, argv, &i, &a);
        if (r < 0) {
            rc = AC_EXIT_BAD_INPUT;
            goto out;
        }
        if (r > 0) continue;
        if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
            fputs(calibrate_usage, stdout);
            fputs(ac_cli_calib_usage, stdout);
            goto out;
        } else if (!strcmp(opt, "--method") && i + 1 < argc) {
            if (ac_calib_method_parse(argv[++i], &method, &d) != AC_OK) {
                rc = ac_cli_usage_error("calibrate", "%s", d.msg);
                goto out;
            }
            have_method = 1;
        } else if (!strcmp(opt, "--no-stats")) {
            /* undocumented: the same run without the observer, as the timing baseline */
            no_stats = 1;
        } else {
            rc = ac_cli_usage_error("calibrate", "unknown or incomplete option '%s'", opt);
            goto out;
        }
    }
    if (!a.model || (!a.o.images_dir && a.n_inputs == 0) || (!a.save_stats && !no_stats)) {
        rc = ac_cli_usage_error("calibrate", "needs --model, --data DIR (or --inputs) and "
                                             "--save-stats FILE");
        goto out;
    }
    if (a.o.images_dir && a.n_inputs > 0) {
        rc = ac_cli_usage_error("calibrate", "give --data or --inputs, not both");
        goto out;
    }

    ac_model *m = NULL;
    if ((rc = ac_cli_calib_check_outputs("calibrate", &a)) != AC_EXIT_OK) goto out;
    if (ac_model_load(a.model, NULL, &m, &d) != AC_OK) {
        rc = ac_cli_report(&d);
        goto out;
    }
    if (no_stats) {
        ac_driver_opts o = a.o;
        o.tensor_files = (const char *const *)a.inputs;
        o.n_tensor_files = a.n_inputs;
        ac_driver_report r;
        if (ac_driver_run(m, a.model, &o, NULL, &r, &d) != AC_OK) {
            rc = ac_cli_report(&d);
        } else {
            printf("ran %lld images in %lld batches on %d lane(s) without statistics: %.3f s "
                   "(inference %.3f s, waiting for decoding %.3f s, per lane)\n",
                   (long long)r.samples, (long long)r.batches, (int)r.lanes, r.seconds,
                   r.infer_seconds, r.wait_seconds);
        }
        ac_model_free(m);
        goto out;
    }
    ac_calib *c = NULL;
    rc = ac_cli_calibrate(m, &a, NULL, &c);
    ac_model_free(m);
    if (rc != AC_EXIT_OK) goto out;
    /* the thresholds cost more than a small model's calibration (KL tries every bin), so only
     * on request */
    if (have_method) rc = print_method_summary(c, method);
    if (rc == AC_EXIT_OK) {
        if (ac_calib_save(c, a.save_stats, &d) != AC_OK) rc = ac_cli_report(&d);
        else printf("saved %s\n", a.save_stats);
    }
    ac_calib_free(c);
out:
    ac_cli_calib_release(&a);
    return rc;
}

static const char merge_usage[] =
    "usage: autocompress merge OUT IN...\n"
    "Adds the statistics files IN (e.g. shards from 'calibrate --shard i/n') into OUT,\n"
    "atomically. Shards over disjoint images merge to exactly the file one run over their\n"
    "union saves.\n";

int ac_cmd_merge(int argc, char **argv) {
    const char *out = NULL;
    int first_in = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(merge_usage, stdout);
            return AC_EXIT_OK;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return ac_cli_usage_error("merge", "unknown option '%s'", argv[i]);
        if (!out) out = argv[i];
        else if (!first_in) first_in = i;
    }
    if (!out || !first_in) return ac_cli_usage_error("merge", "needs OUT and at least one IN");
    ac_diag d = {0};
    ac_calib *acc = NULL;
    int rc = AC_EXIT_OK;
    if (ac_calib_load(argv[first_in], NULL, &acc, &d) != AC_OK) return ac_cli_report(&d);
    for (int i = first_in + 1; i < argc && rc == AC_EXIT_OK; i++) {
        ac_calib *c = NULL;
        if (ac_calib_load(argv[i], NULL, &c, &d) != AC_OK || ac_calib_merge(acc, c, &d) != AC_OK) {
            ac_diag_where(&d, "%s", argv[i]);
            rc = ac_cli_report(&d);
        }
        ac_calib_free(c);
    }
    if (rc == AC_EXIT_OK) {
        if (ac_calib_save(acc, out, &d) != AC_OK) rc = ac_cli_report(&d);
        else
            printf("merged %d files: %lld tensors -> %s\n", argc - first_in,
                   (long long)ac_calib_count(acc), out);
    }
    ac_calib_free(acc);
    return rc;
}
