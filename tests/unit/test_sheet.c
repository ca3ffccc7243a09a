/*
 * test_sheet.c: the sheet model (gridsync/sheet.h) and each of its
 * renderers: terminal table, CSV, JSON, XLSX, HTML.
 *
 * One small document is built by hand (a sheet of villages with a total
 * row, a sheet with an attached total, a sheet left out of CSV) and every
 * expected output is written out here as text.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/sheet.h"
#include "gstest.h"

static const gs_col area_cols[] = {
    {"code", "区划代码", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE, NULL},
    {"name", "名称", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE, NULL},
    {"villages", "村社区", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM, NULL},
    {"pct", "覆盖率%", GS_CT_DEC, 0, 0, "%", GS_ROLL_RATIO, NULL},
    {"ok", "是否", GS_CT_BOOL, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE, NULL},
    {"on", "日期", GS_CT_DATE, 0, 0, NULL, GS_ROLL_NONE, NULL},
    {"raw", "原始", GS_CT_JSON, GS_COL_NOTABLE | GS_COL_NOCSV, 0, NULL, GS_ROLL_NONE, NULL},
};
static const gs_col tot_cols[] = {
    {"n", "数", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM, NULL},
};

/* The document every test renders: two villages and a total, notes, a
 * sheet with an attached total, and a sheet left out of CSV. */
static gs_doc *make_doc(void)
{
    gs_doc *d = gs_doc_new();
    ck_assert_ptr_nonnull(d);
    gs_sheet *s = gs_doc_add(d, "by_area", "按区划 by area", area_cols, 7);
    gs_row r = gs_sheet_row(s);
    gs_row_text(&r, "411102100201");
    gs_row_text(&r, "刘庄村");
    gs_row_int(&r, 3);
    gs_row_pct(&r, 1, 3);
    gs_row_bool(&r, true);
    gs_row_text(&r, "2026-03-01");
    gs_row_text(&r, "[{\"code\": \"X\"}]");
    gs_row_end(&r);
    r = gs_sheet_row(s);
    gs_row_text(&r, "0411");
    gs_row_text(&r, "=cmd, \"x\"");
    gs_row_int(&r, 2);
    gs_row_pct(&r, 0, 0);
    gs_row_bool(&r, false);
    gs_row_null(&r);
    gs_row_text(&r, "[]");
    gs_row_end(&r);
    r = gs_sheet_row(s);
    gs_row_null(&r);
    gs_row_text(&r, "合计 total");
    gs_row_int(&r, 5);
    gs_row_pct(&r, 2, 3);
    gs_row_null(&r);
    gs_row_null(&r);
    gs_row_null(&r);
    gs_row_end(&r);
    gs_sheet_set_total_last(s);
    gs_sheet *t = gs_doc_add(d, "list", "清单 list", tot_cols, 1);
    r = gs_sheet_row(t);
    gs_row_int(&r, 7);
    gs_row_end(&r);
    gs_sheet *tt = gs_sheet_attach_total(t, tot_cols, 1);
    r = gs_sheet_row(tt);
    gs_row_int(&r, 7);
    gs_row_end(&r);
    gs_sheet *x = gs_doc_add(d, "extra", "附表 extra", tot_cols, 1);
    gs_sheet_set_nocsv(x);
    gs_doc_note(d, "注意 %d", 1);
    gs_doc_set_heading(d, "标题 heading");
    ck_assert(!gs_doc_failed(d));
    return d;
}

START_TEST(model_rows_and_errors)
{
    gs_doc *d = make_doc();
    gs_sheet *s = gs_doc_sheet(d, 0);
    ck_assert_uint_eq(gs_sheet_nrows(s), 3);
    ck_assert_str_eq(gs_sheet_cell(s, 0, 3), "33.3"); /* 1/3, half up */
    ck_assert_str_eq(gs_sheet_cell(s, 2, 3), "66.7");
    ck_assert_ptr_null(gs_sheet_cell(s, 1, 3)); /* 0/0: missing */
    ck_assert_ptr_null(gs_sheet_cell(s, 9, 0)); /* out of range */
    size_t bad = 99;
    ck_assert(gs_sheet_check_sums(s, &bad));
    /* a total that is not the sum of its rows is found */
    gs_sheet *w = gs_sheet_new("w", "w", tot_cols, 1);
    gs_row r = gs_sheet_row(w);
    gs_row_int(&r, 1);
    gs_row_end(&r);
    r = gs_sheet_row(w);
    gs_row_int(&r, 2);
    gs_row_end(&r);
    ck_assert(!gs_sheet_check_sums(w, &bad));
    ck_assert_uint_eq(bad, 0);
    /* too many or too few cells fail the sheet, and no more is taken */
    r = gs_sheet_row(w);
    gs_row_int(&r, 1);
    gs_row_int(&r, 2);
    ck_assert(gs_sheet_failed(w));
    gs_sheet_destroy(&w);
    ck_assert_ptr_null(w);
    gs_sheet_destroy(&w); /* NULL-safe */
    w = gs_sheet_new("w", "w", area_cols, 7);
    r = gs_sheet_row(w);
    gs_row_int(&r, 1);
    gs_row_end(&r);
    ck_assert(gs_sheet_failed(w));
    gs_sheet_destroy(&w);
    gs_doc_destroy(&d);
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(terminal_table)
{
    gs_doc *d = make_doc();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    gs_doc_print(d, f);
    fclose(f);
    /* Chinese text counts two columns; "-" for missing; what looks like a
     * number right-aligned (a code of digits too: gs_table decides by the
     * text, as the reports always printed) */
    const char *want = "标题 heading\n"
                       "注意 note: 注意 1\n"
                       "\n"
                       "== 按区划 by area ==\n"
                       "区划代码      名称        村社区  覆盖率%  日期\n"
                       "-----------------------------------------------------\n"
                       "411102100201  刘庄村           3     33.3  2026-03-01\n"
                       "        0411  =cmd, \"x\"        2  -        -\n"
                       "-             合计 total       5     66.7  -\n"
                       "\n"
                       "== 清单 list ==\n"
                       "数\n"
                       "--\n"
                       " 7\n"
                       "\n"
                       "== 合计 total ==\n"
                       "数\n"
                       "--\n"
                       " 7\n"
                       "\n"
                       "== 附表 extra ==\n"
                       "数\n"
                       "--\n"
                       "\n";
    ck_assert_str_eq(buf, want);
    free(buf);
    gs_doc_destroy(&d);
}
END_TEST

START_TEST(csv_form)
{
    gs_doc *d = make_doc();
    gs_buf b = GS_BUF_INIT;
    gs_doc_csv(d, true, &b);
    ck_assert_int_eq(b.err, 0);
    /* BOM; titles (two CSV sheets); formula guard on text, not on numbers;
     * empty for missing; the JSON column and the attached total left out */
    const char *want = "\xEF\xBB\xBF"
                       "按区划 by area\r\n"
                       "区划代码 code,名称 name,村社区 villages,覆盖率% pct,是否 ok,日期 on\r\n"
                       "411102100201,刘庄村,3,33.3,是,2026-03-01\r\n"
                       "0411,\"'=cmd, \"\"x\"\"\",2,,否,\r\n"
                       ",合计 total,5,66.7,,\r\n"
                       "\r\n"
                       "清单 list\r\n"
                       "数 n\r\n"
                       "7\r\n";
    ck_assert_str_eq(b.data, want);
    gs_buf_reset(&b);
    gs_sheet_csv(gs_doc_sheet(d, 1), &b);
    ck_assert_str_eq(b.data, "数 n\r\n7\r\n");
    gs_buf_free(&b);
    gs_doc_destroy(&d);
}
END_TEST

START_TEST(json_form)
{
    gs_doc *d = make_doc();
    json_object_set_new(gs_doc_meta(d), "report", json_string("t"));
    json_object_set_new(gs_doc_meta(d), "filter", json_pack("{s:n, s:b}", "a", "b", 0));
    gs_buf b = GS_BUF_INIT;
    ck_assert_int_eq(gs_doc_json(d, &b), 0);
    const char *want =
        "{\n"
        "  \"report\": \"t\",\n"
        "  \"filter\": {\"a\": null, \"b\": false},\n"
        "  \"notes\": [\"注意 1\"],\n"
        "  \"by_area\": {\n"
        "    \"rows\": [\n"
        "      {\"code\": \"411102100201\", \"name\": \"刘庄村\", \"villages\": 3, \"pct\": 33.3, "
        "\"ok\": true, \"on\": \"2026-03-01\", \"raw\": [{\"code\": \"X\"}]},\n"
        "      {\"code\": \"0411\", \"name\": \"=cmd, \\\"x\\\"\", \"villages\": 2, \"pct\": null, "
        "\"ok\": false, \"on\": null, \"raw\": []}\n"
        "    ],\n"
        "    \"total\": {\"code\": null, \"name\": \"合计 total\", \"villages\": 5, \"pct\": 66.7, "
        "\"ok\": null, \"on\": null, \"raw\": null}\n"
        "  },\n"
        "  \"list\": {\n"
        "    \"rows\": [\n"
        "      {\"n\": 7}\n"
        "    ],\n"
        "    \"total\": {\"n\": 7}\n"
        "  },\n"
        "  \"extra\": {\n"
        "    \"rows\": []\n"
        "  }\n"
        "}\n";
    ck_assert_str_eq(b.data, want);
    gs_buf_free(&b);
    /* a JSON cell that does not parse is an error, not broken output */
    gs_sheet *s = gs_doc_sheet(d, 0);
    gs_row r = gs_sheet_row(s);
    for (int i = 0; i < 6; i++)
        gs_row_null(&r);
    gs_row_text(&r, "[not json");
    gs_row_end(&r);
    ck_assert_int_ne(gs_doc_json(d, &b), 0);
    gs_buf_free(&b);
    gs_doc_destroy(&d);
}
END_TEST

START_TEST(html_form)
{
    gs_doc *d = make_doc();
    gs_buf b = GS_BUF_INIT;
    gs_sheet_html(gs_doc_sheet(d, 0), &b);
    const char *want =
        "<table class=\"gs-sheet\" data-key=\"by_area\">\n"
        "<caption>按区划 by area</caption>\n"
        "<thead><tr><th scope=\"col\" title=\"code\">区划代码</th><th scope=\"col\" "
        "title=\"name\">名称</th><th scope=\"col\" title=\"villages\">村社区</th><th "
        "scope=\"col\" title=\"pct\">覆盖率%</th><th scope=\"col\" title=\"ok\">是否</th><th "
        "scope=\"col\" title=\"on\">日期</th></tr></thead>\n"
        "<tbody>\n"
        "<tr><td>411102100201</td><td>刘庄村</td><td class=\"num\">3</td><td "
        "class=\"num\">33.3</td><td>是</td><td>2026-03-01</td></tr>\n"
        "<tr><td>0411</td><td>=cmd, &quot;x&quot;</td><td class=\"num\">2</td><td "
        "class=\"num\">-</td><td>否</td><td>-</td></tr>\n"
        "</tbody>\n"
        "<tfoot>\n"
        "<tr><td>-</td><td>合计 total</td><td class=\"num\">5</td><td "
        "class=\"num\">66.7</td><td>-</td><td>-</td></tr>\n"
        "</tfoot>\n"
        "</table>\n";
    ck_assert_str_eq(b.data, want);
    gs_buf_reset(&b);
    /* every text escaped, the notes too */
    gs_doc_note(d, "<script>alert('x')</script> & more");
    gs_doc_html(d, &b);
    ck_assert_ptr_null(strstr(b.data, "<script>"));
    ck_assert_ptr_nonnull(
        strstr(b.data, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
    gs_buf_free(&b);
    gs_doc_destroy(&d);
}
END_TEST

START_TEST(xlsx_form)
{
    gs_doc *d = make_doc();
    char *dir = gst_tmpdir();
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/t.xlsx", dir);
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_doc_xlsx(d, path, &eb), 0);
    size_t len;
    char *bytes = gst_read_file(path, &len);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_msg(len > 1000 && !memcmp(bytes, "PK", 2), "not a zip: %zu bytes", len);
    free(bytes);
    /* a path that cannot be written is an error with a message, not a crash */
    snprintf(path, sizeof path, "%s/no/such/dir/t.xlsx", dir);
    ck_assert_int_ne(gs_doc_xlsx(d, path, &eb), 0);
    ck_assert_ptr_nonnull(strstr(eb.msg, "t.xlsx"));
    gst_rmrf(dir);
    free(dir);
    gs_doc_destroy(&d);
}
END_TEST

static Suite *sheet_suite(void)
{
    Suite *s = suite_create("sheet");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, model_rows_and_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("render");
    tcase_add_test(tc, terminal_table);
    tcase_add_test(tc, csv_form);
    tcase_add_test(tc, json_form);
    tcase_add_test(tc, html_form);
    tcase_add_test(tc, xlsx_form);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(sheet_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
