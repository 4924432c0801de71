/* SPDX-License-Identifier: MIT */
/* Strict YAML reader: located type errors and every refusal of BAD_INPUTS case 19. */
#include "autocompress/ac_config.h"
#include "check_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ac_status load(const char *text, ac_yaml_doc **doc, ac_diag *d) {
    return ac_yaml_load_mem("cfg.yaml", text, strlen(text), NULL, doc, d);
}

static const char *line(const ac_diag *d) {
    static char buf[800];
    return ac_diag_line(d, buf, sizeof buf);
}

/* Expects a load failure with status s and a message containing `part`. */
static void expect_fail(const char *text, ac_status s, const char *part) {
    ac_diag d = {0};
    ac_yaml_doc *doc = (ac_yaml_doc *)1;
    ck_assert_int_eq(load(text, &doc, &d), s);
    ck_assert_ptr_null(doc);
    ck_assert_msg(strstr(line(&d), part), "'%s' lacks '%s'", line(&d), part);
}

START_TEST(tree_and_positions) {
    const char *text = "a: 1\nb:\n  - x\n  - 'y'\nc: {k: v}\nd:\n";
    ac_diag d = {0};
    ac_yaml_doc *doc = NULL;
    ck_assert_int_eq(load(text, &doc, &d), AC_OK);
    const ac_yaml_node *r = ac_yaml_root(doc);
    ck_assert_int_eq(r->kind, AC_YAML_MAP);
    ck_assert_int_eq(r->count, 4);
    const ac_yaml_node *b = ac_yaml_map_get(r, "b");
    ck_assert_int_eq(b->kind, AC_YAML_SEQ);
    ck_assert_int_eq(b->count, 2);
    ck_assert_int_eq(b->items[1]->line, 4);
    ck_assert_int_eq(b->items[1]->col, 5);
    ck_assert_int_eq(b->items[1]->plain, 0);
    ck_assert_str_eq(ac_yaml_map_get(ac_yaml_map_get(r, "c"), "k")->scalar, "v");
    ck_assert(ac_yaml_is_null(ac_yaml_map_get(r, "d")));
    ck_assert_ptr_null(ac_yaml_map_get(r, "zz"));
    int64_t v = 0;
    ck_assert_int_eq(ac_yaml_get_int(doc, ac_yaml_map_get(r, "a"), "a", &v, &d), AC_OK);
    ck_assert_int_eq(v, 1);
    ac_yaml_free(doc);
    ac_yaml_free(NULL);
}
END_TEST

START_TEST(typed_errors) {
    const char *text = "x: 1\ny: 2\nbatch_size: eight\nf: 1e3\ng: .nan\nh: maybe\nl: [1, 'a']\n";
    ac_diag d = {0};
    ac_yaml_doc *doc = NULL;
    ck_assert_int_eq(load(text, &doc, &d), AC_OK);
    const ac_yaml_node *r = ac_yaml_root(doc);
    int64_t v;
    ck_assert_int_eq(ac_yaml_get_int(doc, ac_yaml_map_get(r, "batch_size"), "batch_size", &v, &d),
                     AC_ERR_CONFIG);
    ck_assert_str_eq(line(&d), "cfg.yaml:3:13: key 'batch_size': expected integer, got 'eight'");
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_yaml_get_int(doc, ac_yaml_map_get(r, "f"), "f", &v, &d), AC_ERR_CONFIG);
    ck_assert(strstr(line(&d), "expected integer, got '1e3'"));
    double f = 0;
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_yaml_get_float(doc, ac_yaml_map_get(r, "f"), "f", &f, &d), AC_OK);
    ck_assert(f == 1000.0);
    ck_assert_int_eq(ac_yaml_get_float(doc, ac_yaml_map_get(r, "g"), "g", &f, &d), AC_ERR_CONFIG);
    ac_diag_clear(&d);
    int b;
    ck_assert_int_eq(ac_yaml_get_bool(doc, ac_yaml_map_get(r, "h"), "h", &b, &d), AC_ERR_CONFIG);
    ac_diag_clear(&d);
    int64_t li[4];
    int32_t n;
    ck_assert_int_eq(ac_yaml_get_int_list(doc, ac_yaml_map_get(r, "l"), "l", li, 1, 4, &n, &d),
                     AC_ERR_CONFIG);
    ck_assert(strstr(line(&d), "cfg.yaml:7:8: key 'l': item 1: expected integer, got 'a'"));
    ac_diag_clear(&d);
    static const char *const allowed[] = {"x", "y", "batch_size", "f", "g", "h", NULL};
    ck_assert_int_eq(ac_yaml_check_keys(doc, r, allowed, &d), AC_ERR_CONFIG);
    ck_assert_str_eq(line(&d), "cfg.yaml:7:1: unknown key 'l'");
    ac_yaml_free(doc);
}
END_TEST

START_TEST(refusals) {
    expect_fail("a: &x 1\nb: *x\n", AC_ERR_FORMAT, "cfg.yaml:1:4: anchors not allowed");
    expect_fail("a: [*x]\n", AC_ERR_FORMAT, "not allowed");
    expect_fail("a: 1\nb: 2\na: 3\n", AC_ERR_FORMAT, "cfg.yaml:3:1: duplicate key 'a'");
    expect_fail("a: 1\n---\nb: 2\n", AC_ERR_FORMAT, "multiple documents not allowed");
    expect_fail("", AC_ERR_CONFIG, "config is empty");
    expect_fail("# only a comment\n", AC_ERR_CONFIG, "config is empty");
    expect_fail("a: !!python/object x\n", AC_ERR_FORMAT, "tags not allowed");
    expect_fail("? [a]\n: 1\n", AC_ERR_FORMAT, "complex (non-scalar) keys");
    expect_fail("a: [1, 2\n", AC_ERR_FORMAT, "cfg.yaml:");
    /* 20,000-deep nesting, refused at level 65 */
    size_t n = 20000;
    char *deep = malloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = 0;
    expect_fail(deep, AC_ERR_LIMIT, "nesting too deep (> 64 levels)");
    free(deep);
}
END_TEST

START_TEST(files_and_limits) {
    ac_diag d = {0};
    ac_yaml_doc *doc = NULL;
    ck_assert_int_eq(ac_yaml_load_file("/nonexistent/x.yaml", NULL, &doc, &d), AC_ERR_IO);
    ck_assert(strstr(line(&d), "/nonexistent/x.yaml"));
    const char *p = ac_test_path(ac_test_tmpdir(), "c.yaml");
    ac_test_write_file(p, "k: [1, 2, 3]\n", 13);
    ac_diag_clear(&d);
    ac_yaml_opts o = {.max_nodes = 3};
    ck_assert_int_eq(ac_yaml_load_file(p, &o, &doc, &d), AC_ERR_LIMIT);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_yaml_load_file(p, NULL, &doc, &d), AC_OK);
    ck_assert_str_eq(ac_yaml_name(doc), p);
    ac_yaml_free(doc);
    /* every allocation failing in turn: clean error, no leak (ASan build checks leaks) */
    for (int64_t i = 1; i < 40; i++) {
        ac_diag_clear(&d);
        ac_alloc_fail_at(i);
        ac_status s = ac_yaml_load_file(p, NULL, &doc, &d);
        ac_alloc_fail_at(0);
        if (s == AC_OK) {
            ac_yaml_free(doc);
            break;
        }
        ck_assert_int_eq(s, AC_ERR_NOMEM);
        ck_assert_ptr_null(doc);
    }
}
END_TEST

Suite *ac_test_config_yaml(void) {
    Suite *s = suite_create("config_yaml");
    TCase *t = tcase_create("yaml");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, tree_and_positions);
    tcase_add_test(t, typed_errors);
    tcase_add_test(t, refusals);
    tcase_add_test(t, files_and_limits);
    suite_add_tcase(s, t);
    return s;
}
