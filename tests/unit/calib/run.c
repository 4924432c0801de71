/* SPDX-License-Identifier: MIT */
#include "check_util.h"

Suite *ac_test_calib_collect_suite(void);
Suite *ac_test_calib_methods_suite(void);
Suite *ac_test_calib_statfile_suite(void);
Suite *ac_test_calib_simd_suite(void);

int main(void) {
    SRunner *sr = srunner_create(ac_test_calib_collect_suite());
    srunner_add_suite(sr, ac_test_calib_methods_suite());
    srunner_add_suite(sr, ac_test_calib_statfile_suite());
    srunner_add_suite(sr, ac_test_calib_simd_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
