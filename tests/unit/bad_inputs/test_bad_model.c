/* SPDX-License-Identifier: MIT */
#include "check_util.h"

Suite *ac_test_bad_model_suite(void) {
    Suite *s = suite_create("bad_model");
    return s;
}
