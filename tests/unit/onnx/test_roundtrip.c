/* SPDX-License-Identifier: MIT */
#include "check_util.h"

Suite *ac_test_onnx_roundtrip_suite(void) {
    Suite *s = suite_create("onnx_roundtrip");
    return s;
}
