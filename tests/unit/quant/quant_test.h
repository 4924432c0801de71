/* SPDX-License-Identifier: MIT */
/* Shared helpers for the quant suites: tiny hand-built graphs and fake statistics. */
#ifndef AC_QUANT_TEST_H
#define AC_QUANT_TEST_H

#include "autocompress/ac_calib.h"
#include "autocompress/ac_model.h"
#include "autocompress/ac_quant.h"
#include "check_util.h"

#include <string.h>

/* A model (opset `opset`) with one F32 input "x" of shape dims. */
ac_model *qt_model(int64_t opset, int32_t rank, const int64_t *dims);
/* A float initializer `name` with shape dims filled from data (or a ramp when NULL). */
ac_value *qt_init(ac_model *m, const char *name, int32_t rank, const int64_t *dims,
                  const float *data);
/* A new F32 value (shape unknown) and a node writing it; returns the value. */
ac_value *qt_node(ac_model *m, const char *op, const char *name, int32_t n_in, ac_value **ins,
                  const char *out);
/* Marks v as a graph output and sorts the graph. */
void qt_finish(ac_model *m, ac_value *out);
/* Statistics: every non-initializer value of m gets the range [lo, hi] (two samples), except
 * the n named ones, which get [los[k], his[k]]. */
ac_calib *qt_stats(const ac_model *m, float lo, float hi);
ac_calib *qt_stats_ex(const ac_model *m, float lo, float hi, int n, const char *const *names,
                      const float *los, const float *his);
/* Counts nodes of op type `op` in m's main graph. */
int qt_count(const ac_model *m, const char *op);
/* The node writing value `name`, or NULL. */
const ac_node *qt_producer(const ac_model *m, const char *name);
/* The table entry for tensor `name`, or NULL. */
const ac_quant_entry *qt_entry(const ac_quant_table *t, const char *name);
/* Runs the model on a deterministic input x; returns a malloc'd copy of output 0. */
float *qt_run(const ac_model *m, const int64_t *xdims, int32_t xrank, int64_t *n_out);

#endif
