/* SPDX-License-Identifier: MIT */
#include "check_util.h"

Suite *ac_test_graph_ir_suite(void);
Suite *ac_test_graph_fold_suite(void);

int main(void) {
    SRunner *sr = srunner_create(ac_test_graph_ir_suite());
    srunner_add_suite(sr, ac_test_graph_fold_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
