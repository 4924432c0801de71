/* SPDX-License-Identifier: MIT */
/* Table formats, byte-exact against hand-written expectations, and the output folder. */
#include "quant_internal.h"
#include "quant_test.h"

#include <stdlib.h>

static ac_quant_table *mk_table(ac_quant_mode mode, ac_calib_method method) {
    ac_quant_table *t = ac_calloc(1, sizeof *t);
    t->mode = mode;
    t->method = method;
    t->n = 2;
    t->e = ac_calloc(2, sizeof *t->e);
    t->e[0] = (ac_quant_entry){ac_strdup("x"), ac_calib_method_name(method), -1.0f, 1.0f, 1.0f,
                               1.0f / 127.0f, 0, AC_DTYPE_S8};
    t->e[1] = (ac_quant_entry){ac_strdup("conv/out:0"), ac_calib_method_name(method), 0.0f,
                               2.0f, 2.0f, 2.0f / 255.0f, 0, AC_DTYPE_U8};
    return t;
}

static void expect_file(const char *path, const char *want) {
    size_t n;
    uint8_t *b = ac_test_read_file(path, &n);
    ck_assert_msg(n == strlen(want) && !memcmp(b, want, n), "%s:\n%.*s\nwanted:\n%s", path,
                  (int)n, (const char *)b, want);
    free(b);
}

START_TEST(trt_cache_bytes) {
    const char *dir = ac_test_tmpdir();
    ac_diag d = {0};
    ac_quant_table *t = mk_table(AC_QUANT_TENSORRT, AC_CALIB_KL);
    const char *p = ac_test_path(dir, "calibration.cache");
    ck_assert(ac_quant_write_trt_cache(t, p, &d) == AC_OK);
    /* amax 1 -> 1/127 = 0x3c010204; amax 2 -> 2/127 = 0x3c810204 */
    expect_file(p, "TRT-8601-EntropyCalibration2\nx: 3c010204\nconv/out:0: 3c810204\n");
    t->method = AC_CALIB_ABS_MAX;
    ck_assert(ac_quant_write_trt_cache(t, p, &d) == AC_OK);
    expect_file(p, "TRT-8601-MinMaxCalibration\nx: 3c010204\nconv/out:0: 3c810204\n");
    t->method = AC_CALIB_HIST;
    ck_assert(ac_quant_write_trt_cache(t, p, &d) == AC_OK);
    expect_file(p, "TRT-8601-hist\nx: 3c010204\nconv/out:0: 3c810204\n");
    ac_quant_table_free(t);
}
END_TEST

START_TEST(text_and_json_bytes) {
    const char *dir = ac_test_tmpdir();
    ac_diag d = {0};
    ac_quant_table *t = mk_table(AC_QUANT_ORT, AC_CALIB_ABS_MAX);
    const char *p = ac_test_path(dir, "calibration_table.txt");
    ck_assert(ac_quant_write_text(t, p, &d) == AC_OK);
    expect_file(p, "x 0.00787401572 0\nconv/out:0 0.00784313772 0\n");
    p = ac_test_path(dir, "calibration.json");
    ck_assert(ac_quant_write_json(t, p, &d) == AC_OK);
    expect_file(p, "{\n"
                   "  \"format\": \"autocompress-calibration\",\n"
                   "  \"version\": 1,\n"
                   "  \"mode\": \"ort\",\n"
                   "  \"method\": \"abs_max\",\n"
                   "  \"tensors\": {\n"
                   "    \"x\": {\n"
                   "      \"method\": \"abs_max\",\n"
                   "      \"min\": -1.0,\n"
                   "      \"max\": 1.0,\n"
                   "      \"amax\": 1.0,\n"
                   "      \"scale\": 0.00787401572,\n"
                   "      \"zero_point\": 0,\n"
                   "      \"dtype\": \"int8\"\n"
                   "    },\n"
                   "    \"conv/out:0\": {\n"
                   "      \"method\": \"abs_max\",\n"
                   "      \"min\": 0.0,\n"
                   "      \"max\": 2.0,\n"
                   "      \"amax\": 2.0,\n"
                   "      \"scale\": 0.00784313772,\n"
                   "      \"zero_point\": 0,\n"
                   "      \"dtype\": \"uint8\"\n"
                   "    }\n"
                   "  }\n"
                   "}\n");
    /* a line break in a name would corrupt the line formats: refused, nothing written */
    ac_free((char *)t->e[1].tensor);
    t->e[1].tensor = ac_strdup("bad\nname");
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_quant_write_text(t, ac_test_path(dir, "bad.txt"), &d),
                     AC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(d.msg, "line break"));
    ac_quant_table_free(t);
}
END_TEST

START_TEST(mode_names) {
    ac_quant_mode m;
    ac_diag d = {0};
    ck_assert(ac_quant_mode_parse("TensorRT", &m, &d) == AC_OK && m == AC_QUANT_TENSORRT);
    ck_assert(ac_quant_mode_parse("ort", &m, &d) == AC_OK && m == AC_QUANT_ORT);
    ck_assert_int_eq(ac_quant_mode_parse("tflite", &m, &d), AC_ERR_ARG);
    ck_assert_str_eq(ac_quant_mode_name(AC_QUANT_TENSORRT), "tensorrt");
}
END_TEST

Suite *ac_test_quant_tables_suite(void) {
    Suite *s = suite_create("quant_tables");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, trt_cache_bytes);
    tcase_add_test(tc, text_and_json_bytes);
    tcase_add_test(tc, mode_names);
    suite_add_tcase(s, tc);
    return s;
}
