/* SPDX-License-Identifier: MIT */
#include "check_util.h"

Suite *ac_test_eval_metrics(void);
Suite *ac_test_eval_dataset(void);
Suite *ac_test_eval_e2e(void);

int main(void) {
    SRunner *sr = srunner_create(ac_test_eval_metrics());
    srunner_add_suite(sr, ac_test_eval_dataset());
    srunner_add_suite(sr, ac_test_eval_e2e());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
