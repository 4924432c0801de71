/* SPDX-License-Identifier: MIT */
#include "check_util.h"

Suite *ac_test_graph_ir_suite(void) {
    Suite *s = suite_create("graph_ir");
    return s;
}
