/* SPDX-License-Identifier: MIT */
/* Shared between pipeline.c (execution) and deploy_yaml.c (yaml -> transforms). */
#ifndef AC_DATA_INTERNAL_H
#define AC_DATA_INTERNAL_H

#include "autocompress/ac_data.h"

/* Most transforms a yaml may list (Paddle pipelines have 3-8). */
#define AC_MAX_XFORMS 32

/* Parsed deploy yaml, before building the pipeline. */
typedef struct ac_xform_list {
    ac_xform xf[AC_MAX_XFORMS];
    int32_t n;
    ac_pixfmt format;    /* what the framework decodes to */
    int32_t float_input; /* PaddleSeg: float32 before any transform */
} ac_xform_list;

ac_status ac_data_parse_deploy_yaml(const char *path, ac_xform_list *out, ac_diag *d);

#endif
