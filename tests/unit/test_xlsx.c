/*
 * test_xlsx.c: the XLSX reader (proto/xlsx.c, gridsync/xlsx.h) over the
 * workbooks of its fuzz seed corpus, tests/fuzz/corpus/xlsx: hand-made
 * ones that exercise each rule (shared strings with rich text and
 * phonetic runs, inline strings, formulas' cached values, numbers in
 * scientific notation, booleans, date formats built in and custom, blank
 * and missing rows, namespace prefixes), one LibreOffice saved from a CSV
 * file, the template gridnode writes, and every kind of hostile file.
 *
 * What is proven: the first sheet is read into the table of csv.h with the
 * sheet's row numbers and name; every cell reads as the header promises; a
 * hostile or broken workbook is refused with GS_EINVAL or GS_ETOOBIG and
 * one line naming the file and what is wrong, and the table is not made.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/csv.h"
#include "gridsync/xlsx.h"
#include "gstest.h"

#define CORPUS GS_TEST_SRC_DIR "/tests/fuzz/corpus/xlsx/"

/* Opens a corpus workbook that must open. */
static gs_csv *open_ok(const char *name)
{
    gs_errbuf eb = {{0}};
    gs_csv *c = NULL;
    int rc = gs_xlsx_open(&c, name, &eb);
    ck_assert_msg(rc == GS_OK, "%s: %s", name, eb.msg);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(gs_csv_encoding_of(c), GS_CSV_XLSX);
    return c;
}

#define ASSERT_CELL(c, r, col, want)                                                               \
    ck_assert_msg(!strcmp(gs_csv_cell((c), (r), (col)), (want)), "row %d col %d: \"%s\", want \"%s\"", \
                  (int)(r), (int)(col), gs_csv_cell((c), (r), (col)), (want))

/* basic.xlsx, and the same with every element behind a namespace prefix. */
START_TEST(reads_every_kind_of_cell)
{
    static const char *const files[] = {CORPUS "basic.xlsx", CORPUS "basic_prefixed.xlsx"};
    gs_csv *c = open_ok(files[_i]);
    ck_assert_str_eq(gs_csv_sheet(c), "网格事件"); /* the first sheet, not 其他 */
    ck_assert_uint_eq(gs_csv_header_line(c), 1);
    ck_assert_uint_eq(gs_csv_ncols(c), 6);
    static const char *const head[] = {"标题", "事件类别", "网格编码", "上报时间", "紧急程度", "描述"};
    for (size_t k = 0; k < 6; k++)
        ck_assert_str_eq(gs_csv_header(c, k), head[k]);
    ck_assert_uint_eq(gs_csv_nrows(c), 3); /* row 3 (only spaces) and row 4 (absent) skipped */
    ck_assert_uint_eq(gs_csv_line(c, 0), 2);
    ck_assert_uint_eq(gs_csv_line(c, 1), 5);
    ck_assert_uint_eq(gs_csv_line(c, 2), 6); /* a <row> without r follows the one before */
    ASSERT_CELL(c, 0, 0, "井盖缺失 “危险”");       /* rich-text runs joined, phonetic run left out */
    ASSERT_CELL(c, 0, 1, "safety");                  /* a formula's cached value */
    ASSERT_CELL(c, 0, 2, "411122101201001");         /* 4.11122101201001E+14 written out */
    ASSERT_CELL(c, 0, 3, "2026-03-01T09:30:00+08:00"); /* custom format yyyy/m/d h:mm */
    ASSERT_CELL(c, 0, 4, "3");
    ASSERT_CELL(c, 0, 5, "TRUE");
    ASSERT_CELL(c, 1, 0, "邻里纠纷");
    ASSERT_CELL(c, 1, 1, ""); /* a gap */
    ASSERT_CELL(c, 1, 2, ""); /* a shared-string cell without a value */
    ASSERT_CELL(c, 1, 3, "2026-03-02"); /* built-in format 14 */
    ASSERT_CELL(c, 1, 5, "12");         /* "第"0"号" is no date */
    ASSERT_CELL(c, 2, 0, "第六行");
    ASSERT_CELL(c, 2, 1, "0.1");
    ASSERT_CELL(c, 2, 9, ""); /* past the row's end */
    gs_csv_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

/* A workbook LibreOffice saved from a CSV file: a date-time it recognised
 * in the CSV is a date in the workbook and comes back as a date-time; one
 * it did not is text, as typed (gs_record_parse reads both). */
START_TEST(reads_libreoffice_workbook)
{
    gs_csv *c = open_ok(CORPUS "lo_incidents.xlsx");
    ck_assert_uint_eq(gs_csv_ncols(c), 7);
    ck_assert_str_eq(gs_csv_header(c, 0), "标题");
    ck_assert_uint_eq(gs_csv_nrows(c), 2);
    ASSERT_CELL(c, 0, 0, "井盖缺失");
    ASSERT_CELL(c, 0, 2, "411122101201001");
    ASSERT_CELL(c, 0, 3, "夜间无照明, 已设警示牌");
    ASSERT_CELL(c, 0, 5, "2026-03-01T09:30:00+08:00");
    ASSERT_CELL(c, 1, 5, "2026/3/2 10:05"); /* not a date to LibreOffice: text, as typed */
    ASSERT_CELL(c, 1, 6, "");
    gs_csv_destroy(&c);
}
END_TEST

/* gridnode's own template: 序号 first, the example rows marked, dates as
 * dates. */
START_TEST(reads_template_workbook)
{
    gs_csv *c = open_ok(CORPUS "template_incidents.xlsx");
    ck_assert_str_eq(gs_csv_sheet(c), "网格事件");
    ck_assert_str_eq(gs_csv_header(c, 0), "序号");
    ck_assert_str_eq(gs_csv_header(c, 5), "标题");
    ck_assert_uint_eq(gs_csv_nrows(c), 2);
    ASSERT_CELL(c, 0, 0, GS_XLSX_EXAMPLE_MARK);
    ASSERT_CELL(c, 0, 9, "2026-03-08T09:00:00+08:00");
    ASSERT_CELL(c, 1, 13, "2026-03-09");
    gs_csv_destroy(&c);
}
END_TEST

/* Every refused workbook: its return code and a piece of its message. */
static const struct {
    const char *file;
    int rc;
    const char *msg;
} refused[] = {
    {"bad_entities.xlsx", GS_EINVAL, "xl/sharedStrings.xml: holds a DOCTYPE"},
    {"bad_sst_claim.xlsx", GS_ETOOBIG, "claims 2147483648 shared strings; the limit is 1048576"},
    {"bad_sst_index.xlsx", GS_EINVAL, "cell A2: shared string 2147483647 does not exist"},
    {"bad_beyond_xfd.xlsx", GS_ETOOBIG, "cell \"XFE1\" is beyond Excel's last column XFD"},
    {"bad_row_beyond.xlsx", GS_ETOOBIG, "row 10000000 is beyond Excel's last row 1048576"},
    {"bad_not_utf8.xlsx", GS_EINVAL, "xl/sharedStrings.xml: line 2: not well-formed"},
    {"bad_error_cell.xlsx", GS_EINVAL, "sheet \"网格事件\", cell B2: the cell holds the Excel "
                                       "error #N/A"},
    {"bad_no_workbook.xlsx", GS_EINVAL, "it has no xl/workbook.xml"},
    {"bad_no_rels.xlsx", GS_EINVAL, "it has no xl/_rels/workbook.xml.rels"},
    {"bad_no_sheet_part.xlsx", GS_EINVAL, "it has no xl/worksheets/sheet1.xml"},
    {"bad_empty_sheet.xlsx", GS_EINVAL, "sheet \"网格事件\" is empty: no header row"},
    {"bad_out_of_order.xlsx", GS_EINVAL, "row 3 comes after row 5"},
    {"bad_too_many_columns.xlsx", GS_ETOOBIG, "cell IW1: more than 256 columns"},
    {"bad_long_cell.xlsx", GS_ETOOBIG, "cell A1: text longer than 65536 bytes"},
    {"bad_newline_ref.xlsx", GS_EINVAL, "cell \"A 1\" is not a cell reference"},
    {"bad_not_zip.xlsx", GS_EINVAL, "not a valid .xlsx workbook"},
    {"bomb_part.xlsx", GS_ETOOBIG, "xl/worksheets/sheet1.xml unpacks to 83886"},
    {"bomb_lying_size.xlsx", GS_ETOOBIG, "sheet1.xml unpacks to more than 64 MiB"},
    {"bomb_empty_rows.xlsx", GS_ETOOBIG, "row 1048577 is beyond Excel's last row"},
};

START_TEST(refuses_with_one_line)
{
    char path[512];
    snprintf(path, sizeof path, CORPUS "%s", refused[_i].file);
    gs_errbuf eb = {{0}};
    gs_csv *c = NULL;
    int rc = gs_xlsx_open(&c, path, &eb);
    ck_assert_msg(rc == refused[_i].rc, "%s: rc %d (%s), want %d", refused[_i].file, rc, eb.msg,
                  refused[_i].rc);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(eb.msg, refused[_i].msg) != NULL, "%s: \"%s\" lacks \"%s\"",
                  refused[_i].file, eb.msg, refused[_i].msg);
    ck_assert_msg(!strncmp(eb.msg, path, strlen(path)), "%s: does not start with the file", eb.msg);
    ck_assert_msg(strchr(eb.msg, '\n') == NULL, "more than one line: %s", eb.msg);
}
END_TEST

/* The same bytes from memory say the name given. */
START_TEST(open_mem_names_the_file)
{
    size_t len = 0;
    char *data = gst_read_file(CORPUS "bad_error_cell.xlsx", &len);
    ck_assert_ptr_nonnull(data);
    gs_errbuf eb = {{0}};
    gs_csv *c = NULL;
    ck_assert_int_eq(gs_xlsx_open_mem(&c, "台账.xlsx", data, len, &eb), GS_EINVAL);
    ck_assert_msg(!strncmp(eb.msg, "台账.xlsx: sheet", 16), "%s", eb.msg);
    ck_assert_int_eq(gs_xlsx_open_mem(&c, "空.xlsx", "", 0, &eb), GS_EINVAL);
    ck_assert_ptr_null(c);
    free(data);
}
END_TEST

/* Column letters as Excel shows them. */
START_TEST(column_names)
{
    static const struct {
        size_t col;
        const char *name;
    } v[] = {{1, "A"}, {26, "Z"}, {27, "AA"}, {256, "IV"}, {702, "ZZ"}, {703, "AAA"}, {16384, "XFD"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[8];
        gs_xlsx_col_name(v[i].col, out);
        ck_assert_str_eq(out, v[i].name);
    }
}
END_TEST

/* What makes a file a workbook: the name, else the zip magic. */
START_TEST(detects_workbooks)
{
    ck_assert(gs_xlsx_is_workbook("/no/such/台账.XLSX"));
    ck_assert(gs_xlsx_is_workbook(CORPUS "basic.xlsx"));
    ck_assert(!gs_xlsx_is_workbook("/no/such/台账.csv"));
    char *dir = gst_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/saved-without-extension", dir);
    size_t len = 0;
    char *data = gst_read_file(CORPUS "basic.xlsx", &len);
    ck_assert_int_eq(gst_write_file(path, data, len), 0);
    ck_assert(gs_xlsx_is_workbook(path));
    snprintf(path, sizeof path, "%s/事件.csv", dir);
    ck_assert_int_eq(gst_write_file(path, "标题\r\n", 8), 0);
    ck_assert(!gs_xlsx_is_workbook(path));
    free(data);
    gst_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("xlsx");
    TCase *tc = gst_tcase(s, "reads", NULL, NULL, 60);
    tcase_add_loop_test(tc, reads_every_kind_of_cell, 0, 2);
    tcase_add_test(tc, reads_libreoffice_workbook);
    tcase_add_test(tc, reads_template_workbook);
    tcase_add_test(tc, open_mem_names_the_file);
    tcase_add_test(tc, column_names);
    tcase_add_test(tc, detects_workbooks);
    tc = gst_tcase(s, "refuses", NULL, NULL, 120);
    tcase_add_loop_test(tc, refuses_with_one_line, 0, (int)(sizeof refused / sizeof refused[0]));
    return gst_run_suite(s);
}
