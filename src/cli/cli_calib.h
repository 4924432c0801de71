/* SPDX-License-Identifier: MIT */
/* Calibration options shared by `calibrate` and `quantize` (which can calibrate on the fly). */
#ifndef AC_CLI_CALIB_H
#define AC_CLI_CALIB_H

#include "autocompress/ac_calib.h"
#include "autocompress/ac_driver.h"
#include "autocompress/ac_quant.h"

typedef struct ac_cli_calib_args {
    const char *model;
    const char *save_stats;
    const char **inputs; /* points into argv; capacity argc */
    int n_inputs;
    int all_tensors; /* --all-tensors: observe every float activation */
    ac_driver_opts o;
} ac_cli_calib_args;

/* Usage lines for the options below (for --help texts). */
extern const char ac_cli_calib_usage[];

/* Allocates a->inputs for up to argc files. Returns 0, or -1 when out of memory. */
int ac_cli_calib_init(ac_cli_calib_args *a, int argc);
void ac_cli_calib_release(ac_cli_calib_args *a);

/* If argv[*i] is a calibration option (--model, --data, --inputs, --preprocess, --num-images,
 * --shard, --batch, --threads, --lanes, --isa, --save-stats), consumes it and its values
 * (advancing *i to the last one used) and returns 1; returns 0 for anything else. A malformed
 * value prints a usage error for `cmd` and returns -1 (the exit code is then
 * AC_EXIT_BAD_INPUT). */
int ac_cli_calib_option(const char *cmd, int argc, char **argv, int *i, ac_cli_calib_args *a);

/* Refuses a --save-stats path that is the model or one of the input files (an atomic write
 * would replace it): prints a usage error and returns its exit code, else AC_EXIT_OK. */
int ac_cli_calib_check_outputs(const char *cmd, const ac_cli_calib_args *a);

/* Runs the driver over a's inputs with a new collector (caller frees *out) and prints the
 * one-line summary "calibrated N images ...". Unless --all-tensors was given, only the
 * activations the quantizer reads are observed: those ac_quant_needed lists for `qo`, or, when
 * qo is NULL (a stats file for later), for the default options of both modes. On failure
 * prints the error and returns the exit code (*out NULL). */
int ac_cli_calibrate(const ac_model *m, const ac_cli_calib_args *a, const ac_quant_opts *qo,
                     ac_calib **out);

#endif
