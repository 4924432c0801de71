/* SPDX-License-Identifier: MIT */
#include "check_util.h"

Suite *ac_test_runtime_node_tests_suite(void);
Suite *ac_test_runtime_session_suite(void);
Suite *ac_test_runtime_kernels_suite(void);
Suite *ac_test_runtime_qdq_suite(void);
Suite *ac_test_runtime_pool_suite(void);
Suite *ac_test_runtime_pwdw_suite(void);

int main(void) {
    SRunner *sr = srunner_create(ac_test_runtime_node_tests_suite());
    srunner_add_suite(sr, ac_test_runtime_session_suite());
    srunner_add_suite(sr, ac_test_runtime_kernels_suite());
    srunner_add_suite(sr, ac_test_runtime_qdq_suite());
    srunner_add_suite(sr, ac_test_runtime_pool_suite());
    srunner_add_suite(sr, ac_test_runtime_pwdw_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
