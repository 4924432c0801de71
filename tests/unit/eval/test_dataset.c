/* SPDX-License-Identifier: MIT */
/* Dataset readers: image folders, PaddleClas lists, class folders, segmentation pairs, COCO
 * JSON with every validation error (BAD_INPUTS 21-24), shards. */
#define _POSIX_C_SOURCE 200809L
#include "autocompress/ac_data.h"
#include "check_util.h"
#include "eval_test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *line(const ac_diag *d) {
    static char buf[800];
    return ac_diag_line(d, buf, sizeof buf);
}

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

START_TEST(image_folder) {
    ac_diag d = {0};
    const char *dir = ac_test_tmpdir();
    char sub[600];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    ac_et_mkdir(sub);
    ac_et_write_jpeg(ac_test_path(dir, "b.JPG"), 8, 8);
    ac_et_write_png(ac_test_path(dir, "a.png"), 8, 8, 8, NULL);
    ac_et_write_jpeg(ac_test_path(sub, "c.jpeg"), 8, 8);
    ac_test_write_file(ac_test_path(dir, "notes.txt"), "x", 1);
    ac_et_write_jpeg(ac_test_path(dir, ".hidden.jpg"), 8, 8);
    ac_dataset *ds = NULL;
    ck_assert_msg(ac_dataset_open_images(dir, NULL, &ds, &d) == AC_OK, "%s", line(&d));
    ck_assert_int_eq(ac_dataset_count(ds), 3);
    ck_assert_str_eq(base(ac_dataset_at(ds, 0)->path), "a.png");
    ck_assert_str_eq(base(ac_dataset_at(ds, 1)->path), "b.JPG");
    ck_assert(strstr(ac_dataset_at(ds, 2)->path, "sub/c.jpeg"));
    ck_assert_int_eq(ac_dataset_at(ds, 0)->label, -1);
    ck_assert_ptr_null(ac_dataset_at(ds, 3));
    ck_assert_int_eq(ac_dataset_shard(ds, 1, 2, &d), AC_OK);
    ck_assert_int_eq(ac_dataset_count(ds), 1);
    ck_assert_str_eq(base(ac_dataset_at(ds, 0)->path), "b.JPG");
    ck_assert_int_eq(ac_dataset_shard(ds, 2, 2, &d), AC_ERR_ARG);
    ac_dataset_free(ds);
    /* missing and empty folders are bad input */
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_dataset_open_images(ac_test_path(dir, "nope"), NULL, &ds, &d),
                     AC_ERR_CONFIG);
    ck_assert_ptr_null(ds);
    ck_assert(strstr(line(&d), "nope: folder does not exist"));
    ac_diag_clear(&d);
    char empty[600];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    ac_et_mkdir(empty);
    ck_assert_int_eq(ac_dataset_open_images(empty, NULL, &ds, &d), AC_ERR_CONFIG);
    ck_assert(strstr(line(&d), "empty: no images (.jpg, .jpeg, .png) in folder"));
    /* shard strings */
    int64_t i, n;
    ck_assert_int_eq(ac_shard_parse("2/5", &i, &n, &d), AC_OK);
    ck_assert(i == 2 && n == 5);
    ck_assert_int_eq(ac_shard_parse("5/5", &i, &n, &d), AC_ERR_ARG);
    ck_assert_int_eq(ac_shard_parse("-1/5", &i, &n, &d), AC_ERR_ARG);
    ck_assert_int_eq(ac_shard_parse("1/0", &i, &n, &d), AC_ERR_ARG);
    ck_assert_int_eq(ac_shard_parse("1/2x", &i, &n, &d), AC_ERR_ARG);
}
END_TEST

START_TEST(lists_and_class_folders) {
    ac_diag d = {0};
    const char *dir = ac_test_tmpdir();
    char img[600], ant[600], cat[600];
    snprintf(img, sizeof img, "%s/img", dir);
    ac_et_mkdir(img);
    ac_et_write_jpeg(ac_test_path(img, "0.jpg"), 8, 8);
    ac_et_write_jpeg(ac_test_path(img, "1 b.jpg"), 8, 8);
    const char *list = "img/0.jpg 3\n\n  img/1 b.jpg\t1\r\n";
    ac_test_write_file(ac_test_path(dir, "list.txt"), list, strlen(list));
    ac_dataset *ds = NULL;
    ck_assert_msg(ac_dataset_open_list(ac_test_path(dir, "list.txt"), NULL, &ds, &d) == AC_OK,
                  "%s", line(&d));
    ck_assert_int_eq(ac_dataset_count(ds), 2);
    ck_assert_int_eq(ac_dataset_at(ds, 0)->label, 3);
    ck_assert_int_eq(ac_dataset_at(ds, 1)->label, 1);
    ck_assert_str_eq(base(ac_dataset_at(ds, 1)->path), "1 b.jpg");
    ck_assert_int_eq(ac_dataset_num_classes(ds), 4);
    ac_dataset_free(ds);
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"img/0.jpg 3\nimg/0.jpg x\n", "list.txt:2: label 'x' is not an integer"},
        {"img/0.jpg -1\n", "list.txt:1: label '-1' is not an integer"},
        {"img/0.jpg\n", "list.txt:1: expected 'PATH LABEL', got one field"},
        {"img/9.jpg 1\n", "list.txt:1: '"},
        {"\n\n", "list.txt: list is empty"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ac_diag_clear(&d);
        ac_test_write_file(ac_test_path(dir, "list.txt"), bad[k].text, strlen(bad[k].text));
        ck_assert_int_eq(ac_dataset_open_list(ac_test_path(dir, "list.txt"), NULL, &ds, &d),
                         AC_ERR_CONFIG);
        ck_assert_msg(strstr(line(&d), bad[k].msg), "%zu: %s", k, line(&d));
    }
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_dataset_open_list(ac_test_path(dir, "none.txt"), NULL, &ds, &d),
                     AC_ERR_CONFIG);
    /* class folders: sorted names -> labels */
    snprintf(ant, sizeof ant, "%s/cls/ant", dir);
    snprintf(cat, sizeof cat, "%s/cls/cat", dir);
    ac_et_mkdir(ac_test_path(dir, "cls"));
    ac_et_mkdir(cat);
    ac_et_mkdir(ant);
    ac_et_write_jpeg(ac_test_path(cat, "a.jpg"), 8, 8);
    ac_et_write_jpeg(ac_test_path(ant, "c.jpg"), 8, 8);
    ac_et_write_jpeg(ac_test_path(ant, "b.jpg"), 8, 8);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_dataset_open_class_folders(ac_test_path(dir, "cls"), NULL, &ds, &d),
                     AC_OK);
    ck_assert_int_eq(ac_dataset_count(ds), 3);
    ck_assert_int_eq(ac_dataset_num_classes(ds), 2);
    ck_assert_str_eq(ac_dataset_class_name(ds, 0), "ant");
    ck_assert_str_eq(base(ac_dataset_at(ds, 0)->path), "b.jpg");
    ck_assert_int_eq(ac_dataset_at(ds, 1)->label, 0);
    ck_assert_int_eq(ac_dataset_at(ds, 2)->label, 1);
    ac_dataset_free(ds);
}
END_TEST

START_TEST(seg_pairs) {
    ac_diag d = {0};
    const char *dir = ac_test_tmpdir();
    char im[600], mk[600];
    snprintf(im, sizeof im, "%s/im", dir);
    snprintf(mk, sizeof mk, "%s/mk", dir);
    ac_et_mkdir(im);
    ac_et_mkdir(mk);
    ac_et_write_jpeg(ac_test_path(im, "0.jpg"), 8, 8);
    ac_et_write_jpeg(ac_test_path(im, "1.JPEG"), 8, 8);
    ac_et_write_png(ac_test_path(mk, "0.png"), 8, 8, 8, NULL);
    ac_et_write_png(ac_test_path(mk, "1.png"), 8, 8, 8, NULL);
    ac_dataset *ds = NULL;
    ck_assert_msg(ac_dataset_open_seg(im, mk, NULL, &ds, &d) == AC_OK, "%s", line(&d));
    ck_assert_int_eq(ac_dataset_count(ds), 2);
    ck_assert_str_eq(base(ac_dataset_at(ds, 1)->mask_path), "1.png");
    ac_dataset_free(ds);
    unlink(ac_test_path(mk, "1.png"));
    ck_assert_int_eq(ac_dataset_open_seg(im, mk, NULL, &ds, &d), AC_ERR_CONFIG);
    ck_assert_msg(strstr(line(&d), "1.JPEG: no mask"), "%s", line(&d));
    /* list form */
    const char *list = "im/0.jpg mk/0.png\n";
    ac_test_write_file(ac_test_path(dir, "seg.txt"), list, strlen(list));
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_dataset_open_seg_list(ac_test_path(dir, "seg.txt"), NULL, &ds, &d),
                     AC_OK);
    ck_assert_int_eq(ac_dataset_count(ds), 1);
    ac_dataset_free(ds);
}
END_TEST

/* ---- COCO --------------------------------------------------------------------------------- */

static const char coco_ok[] =
    "{\"images\": [{\"id\": 5, \"file_name\": \"b.jpg\", \"width\": 8, \"height\": 8},"
    "              {\"id\": 2, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
    " \"annotations\": [{\"id\": 1, \"image_id\": 5, \"category_id\": 3, \"bbox\": [1, 1, 2, 2],"
    "                    \"area\": 4, \"iscrowd\": 0},"
    "                   {\"id\": 2, \"image_id\": 2, \"category_id\": 1, \"bbox\": [0, 0, 4, 4],"
    "                    \"area\": 16},"
    "                   {\"id\": 3, \"image_id\": 5, \"category_id\": 1, \"bbox\": [2, 2, 1.5, 3],"
    "                    \"area\": 4.5, \"iscrowd\": 1, \"segmentation\": []}],"
    " \"categories\": [{\"id\": 3, \"name\": \"c\"}, {\"id\": 1, \"name\": \"a\"}]}";

START_TEST(coco_reader) {
    ac_diag d = {0};
    const char *dir = ac_test_tmpdir();
    char im[600];
    snprintf(im, sizeof im, "%s/val", dir);
    ac_et_mkdir(im);
    ac_et_write_jpeg(ac_test_path(im, "a.jpg"), 8, 8);
    ac_et_write_jpeg(ac_test_path(im, "b.jpg"), 8, 8);
    ac_et_write_jpeg(ac_test_path(dir, "outside.jpg"), 8, 8);
    ck_assert_int_eq(symlink("../outside.jpg", ac_test_path(im, "link.jpg")), 0);
    const char *js = ac_test_path(dir, "inst.json");
    ac_test_write_file(js, coco_ok, strlen(coco_ok));
    ac_dataset *ds = NULL;
    ck_assert_msg(ac_dataset_open_coco(js, im, NULL, &ds, &d) == AC_OK, "%s", line(&d));
    ck_assert_int_eq(ac_dataset_count(ds), 2);
    const ac_sample *s0 = ac_dataset_at(ds, 0), *s1 = ac_dataset_at(ds, 1);
    ck_assert_int_eq(s0->label, 2); /* sorted by id */
    ck_assert_str_eq(base(s0->path), "a.jpg");
    ck_assert_int_eq(s0->ann_count, 1);
    ck_assert_int_eq(s1->ann_count, 2);
    int64_t na;
    const ac_coco_ann *a = ac_dataset_coco_anns(ds, &na);
    ck_assert_int_eq(na, 3);
    ck_assert_int_eq(a[s1->ann_first].id, 1); /* file order inside the image */
    ck_assert_int_eq(a[s1->ann_first + 1].iscrowd, 1);
    ck_assert(a[s1->ann_first + 1].bbox[2] == 1.5);
    int32_t nc;
    const ac_coco_category *c = ac_dataset_coco_categories(ds, &nc);
    ck_assert(nc == 2 && c[0].id == 1 && !strcmp(c[1].name, "c"));
    ac_dataset_free(ds);

    static const struct {
        const char *json;
        ac_status st;
        const char *msg;
    } bad[] = {
        {"{\"images\": [], \"annotations\": []", AC_ERR_FORMAT, "inst.json:1:"},
        {"[1]", AC_ERR_CONFIG, "inst.json: top level is not an object"},
        {"{\"annotations\": [], \"categories\": []}", AC_ERR_CONFIG,
         "inst.json: missing 'images'"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [], \"categories\": {}}",
         AC_ERR_CONFIG, "inst.json: 'categories' is not an array"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"height\": 8}],"
         "\"annotations\": [], \"categories\": []}",
         AC_ERR_CONFIG, "inst.json: images[0]: missing 'width'"},
        {"{\"images\": [{\"id\": \"1\", \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [], \"categories\": []}",
         AC_ERR_CONFIG, "inst.json: images[0]: 'id' is not an integer"},
        {"{\"images\": [{\"id\": 18446744073709551616, \"file_name\": \"a.jpg\"}],"
         "\"annotations\": [], \"categories\": []}",
         AC_ERR_FORMAT, "too big"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"../outside.jpg\", \"width\": 8,"
         "\"height\": 8}],"
         "\"annotations\": [], \"categories\": []}",
         AC_ERR_CONFIG, "images[0]: 'file_name' '../outside.jpg' leaves the images folder"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"/etc/passwd\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [], \"categories\": []}",
         AC_ERR_CONFIG, "is an absolute path"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"link.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [], \"categories\": []}",
         AC_ERR_CONFIG, "resolves outside the images folder"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"zz.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [], \"categories\": []}",
         AC_ERR_CONFIG, "images[0]: 'file_name' 'zz.jpg' does not exist"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8},"
         "{\"id\": 1, \"file_name\": \"b.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [], \"categories\": []}",
         AC_ERR_CONFIG, "inst.json: images[1]: duplicate id 1"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0,0,1,1],"
         "\"area\": 1}, {\"id\": 2, \"image_id\": 1, \"category_id\": 1, \"area\": 1}],"
         "\"categories\": [{\"id\": 1, \"name\": \"a\"}]}",
         AC_ERR_CONFIG, "inst.json: annotations[1]: missing 'bbox'"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 1, \"bbox\": [0,0,1,1],"
         "\"area\": 1}], \"categories\": [{\"id\": 1, \"name\": \"a\"}]}",
         AC_ERR_CONFIG, "inst.json: annotations[0]: unknown image_id 7"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 4, \"bbox\": [0,0,1,1],"
         "\"area\": 1}], \"categories\": [{\"id\": 1, \"name\": \"a\"}]}",
         AC_ERR_CONFIG, "annotations[0]: unknown category_id 4"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0,0,1],"
         "\"area\": 1}], \"categories\": [{\"id\": 1, \"name\": \"a\"}]}",
         AC_ERR_CONFIG, "annotations[0]: 'bbox' is not [x, y, w, h]"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0,0,-1,1],"
         "\"area\": 1}], \"categories\": [{\"id\": 1, \"name\": \"a\"}]}",
         AC_ERR_CONFIG, "annotations[0]: 'bbox' has negative width or height"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1,"
         "\"bbox\": [0,0,\"1\",1],"
         "\"area\": 1}], \"categories\": [{\"id\": 1, \"name\": \"a\"}]}",
         AC_ERR_CONFIG, "annotations[0]: 'bbox' is not a number"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0,0,1,1],"
         "\"area\": 1}, {\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0,0,1,1],"
         "\"area\": 1}], \"categories\": [{\"id\": 1, \"name\": \"a\"}]}",
         AC_ERR_CONFIG, "annotations[1]: duplicate id 1"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"height\": 8}],"
         "\"annotations\": [], \"categories\": [{\"id\": 1, \"name\": \"a\"},"
         "{\"id\": 1, \"name\": \"b\"}]}",
         AC_ERR_CONFIG, "categories[1]: duplicate id 1"},
        {"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 8, \"width\": 8}],"
         "\"annotations\": [], \"categories\": []}",
         AC_ERR_FORMAT, "duplicate object key"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ac_diag_clear(&d);
        ac_test_write_file(js, bad[k].json, strlen(bad[k].json));
        ck_assert_int_eq(ac_dataset_open_coco(js, im, NULL, &ds, &d), bad[k].st);
        ck_assert_ptr_null(ds);
        ck_assert_msg(strstr(line(&d), bad[k].msg), "case %zu: %s", k, line(&d));
    }
    /* deep nesting: jansson's depth limit, a format error */
    char deep[5000];
    memset(deep, '[', sizeof deep);
    ac_test_write_file(js, deep, sizeof deep);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_dataset_open_coco(js, im, NULL, &ds, &d), AC_ERR_FORMAT);
    /* missing json / images folder */
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_dataset_open_coco(ac_test_path(dir, "no.json"), im, NULL, &ds, &d),
                     AC_ERR_CONFIG);
    ac_diag_clear(&d);
    ck_assert_int_eq(ac_dataset_open_coco(js, ac_test_path(dir, "nodir"), NULL, &ds, &d),
                     AC_ERR_CONFIG);
}
END_TEST

START_TEST(alloc_failures) {
    /* every allocation of a COCO open fails in turn: an error, never a crash or a leak */
    const char *dir = ac_test_tmpdir();
    char im[600];
    snprintf(im, sizeof im, "%s/val", dir);
    ac_et_mkdir(im);
    ac_et_write_jpeg(ac_test_path(im, "a.jpg"), 8, 8);
    ac_et_write_jpeg(ac_test_path(im, "b.jpg"), 8, 8);
    const char *js = ac_test_path(dir, "inst.json");
    ac_test_write_file(js, coco_ok, strlen(coco_ok));
    ac_dataset *ds = NULL;
    ac_diag d = {0};
    int64_t before = ac_alloc_count();
    ck_assert_int_eq(ac_dataset_open_coco(js, im, NULL, &ds, &d), AC_OK);
    int64_t n = ac_alloc_count() - before;
    ac_dataset_free(ds);
    for (int64_t k = 1; k <= n; k++) {
        ac_diag_clear(&d);
        ac_alloc_fail_at(k);
        ac_status st = ac_dataset_open_coco(js, im, NULL, &ds, &d);
        ac_alloc_fail_at(0);
        ck_assert_msg(st == AC_ERR_NOMEM, "allocation %lld: %s", (long long)k, line(&d));
        ck_assert_ptr_null(ds);
    }
}
END_TEST

Suite *ac_test_eval_dataset(void) {
    Suite *s = suite_create("eval_dataset");
    TCase *tc = tcase_create("dataset");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, image_folder);
    tcase_add_test(tc, lists_and_class_folders);
    tcase_add_test(tc, seg_pairs);
    tcase_add_test(tc, coco_reader);
    tcase_add_test(tc, alloc_failures);
    suite_add_tcase(s, tc);
    return s;
}
