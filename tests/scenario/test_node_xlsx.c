/*
 * test_node_xlsx.c: gridnode's Excel workbooks end to end (issue 15, "Excel
 * both ways"): import of .xlsx files and the workbook template, through the
 * real binary.
 *
 * What is proven: a workbook with every record type's columns (Chinese
 * headers; numbers, 15-digit codes and dates typed as Excel stores them)
 * imports the same records as the same CSV file, and again adds nothing;
 * a bad cell is named by file, sheet, row as the sheet numbers it and
 * column (number and letter), and nothing is imported; the template opens
 * in LibreOffice with the CSV template's header row, imports as it is (its
 * 示例 rows skipped) and, with a row typed into it as Excel stores one,
 * imports that row; a workbook LibreOffice saved from a CSV file imports
 * the same records as the CSV file; every hostile workbook of the fuzz
 * corpus (zip bomb, 2^31 shared strings, 10^7 empty rows, entity
 * expansion, cells past XFD, bytes that are not UTF-8, missing parts) is
 * refused with one line on stderr, nothing stored, and gridnode's peak
 * RSS (the child's rusage) under 100 MiB.
 *
 * The workbooks are written at test time with libxlsxwriter (as a small
 * program would fill one) and libzip (to type a row into the template);
 * the LibreOffice tests need soffice (Debian libreoffice-calc-nogui) and
 * are skipped, saying so, without it.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xlsxwriter.h>
#include <zip.h>

#include "gstest_cli.h"

#define NODE_ID "411122101201-n1"
#define VILLAGE "411122101201"
#define HUB     "tcp://127.0.0.1:7700"
#define GRID1   "411122101201001"
#define CORPUS  GS_TEST_SRC_DIR "/tests/fuzz/corpus/xlsx/"

/* Built with AddressSanitizer: its shadow memory raises every RSS. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_LIMIT_KB (250 * 1024)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_LIMIT_KB (250 * 1024)
#endif
#endif
#ifndef RSS_LIMIT_KB
#define RSS_LIMIT_KB (100 * 1024)
#endif

static char *tmp;
static char db[PATH_MAX];
static gst_result R;

/* tmp/name in one of a ring of buffers (enough for the arguments of a call). */
static const char *tpath(const char *name)
{
    static char ring[8][PATH_MAX];
    static int next;
    char *p = ring[next++ % 8];
    snprintf(p, PATH_MAX, "%s/%s", tmp, name);
    return p;
}

/* ---- fixture ---------------------------------------------------------------------- */

static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(db, sizeof db, "%s/node.db", tmp);
    GN("init", "--node-id", NODE_ID, "--village", VILLAGE, "--hub", HUB);
    ASSERT_OK();
    GN("grid", "add", "--code", GRID1, "--name", "第一网格");
    ASSERT_OK();
}

static void teardown(void)
{
    gst_result_free(&R);
    gst_rmrf(tmp);
    free(tmp);
    tmp = NULL;
}

/* A second node database in tmp, set up like the fixture's. */
static const char *other_db(void)
{
    static char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/other.db", tmp);
    GNDB(p, "init", "--node-id", VILLAGE "-n2", "--village", VILLAGE, "--hub", HUB);
    ASSERT_OK();
    GNDB(p, "grid", "add", "--code", GRID1, "--name", "第一网格");
    ASSERT_OK();
    return p;
}

/* ---- workbooks ------------------------------------------------------------------------ */

/* True when s is a date 2026-03-15; sets *dt. */
static bool as_date(const char *s, lxw_datetime *dt)
{
    int y, m, d, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || s[n])
        return false;
    *dt = (lxw_datetime){y, m, d, 0, 0, 0};
    return true;
}

/* Writes the comma-separated lines of csv (no quoting) as the first sheet of
 * a workbook at path, each cell as Excel stores what is typed into a cell
 * of the General format: digits (up to 15) as a number, a date as a date
 * serial with a date format, the rest as text; blank cells are not written.
 * The sheet is named sheet. */
static void write_workbook(const char *path, const char *sheet, const char *csv)
{
    lxw_workbook *wb = workbook_new(path);
    ck_assert_ptr_nonnull(wb);
    lxw_worksheet *ws = workbook_add_worksheet(wb, sheet);
    lxw_format *date = workbook_add_format(wb);
    format_set_num_format(date, "yyyy-mm-dd");
    char *text = strdup(csv), *save = NULL;
    lxw_row_t row = 0;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        lxw_col_t col = 0;
        for (char *cell = line;; col++) {
            char *comma = strchr(cell, ',');
            if (comma)
                *comma = '\0';
            lxw_datetime dt;
            size_t n = strlen(cell);
            if (n && n <= 15 && strspn(cell, "0123456789") == n)
                worksheet_write_number(ws, row, col, strtod(cell, NULL), NULL);
            else if (as_date(cell, &dt))
                worksheet_write_datetime(ws, row, col, &dt, date);
            else if (n)
                worksheet_write_string(ws, row, col, cell, NULL);
            if (!comma)
                break;
            cell = comma + 1;
        }
        row++;
    }
    free(text);
    ck_assert_int_eq(workbook_close(wb), LXW_NO_ERROR);
}

/* Every record type with Chinese headers, in the order their references
 * need; ids given, so that two databases hold byte-identical records. */
static const struct {
    const char *type, *csv, *done;
} every_type[] = {
    {"grids",
     "网格编码,网格名称,网格类型,户数,网格员\r\n"
     "411122101201002,第二网格,综合网格,210,刘建军\r\n"
     "411122101201003,第三网格（回民街）,专属网格,180,马秀兰\r\n",
     "imported 2 grids"},
    {"councils",
     "理事会编号,名称,桌数上限,车辆上限,丧事天数上限,要求火化,成立日期\r\n"
     "hb-1,王庄村红白理事会,10,6,3,是,2025-01-08\r\n",
     "imported 1 councils"},
    {"members",
     "成员编号,理事会编号,姓名,职务,党员,任期开始\r\n"
     "m-1,hb-1,马德明,会长,是,2025-01-08\r\n"
     "m-2,hb-1,白秀兰,理事,否,2025-01-08\r\n",
     "imported 2 members"},
    {"elections",
     "选举编号,委员会类型,选举日,登记选民数,投票人数,有效票数,无效票数,主任名额,委员名额\r\n"
     "e-1,村民委员会,2026-03-15,1000,600,600,0,1,2\r\n"
     "e-2,村民委员会,2026-03-15,1000,500,500,0,1,2\r\n",
     "imported 2 elections"},
    {"candidates",
     "候选人编号,选举编号,姓名,性别,职务,轮次,得票数,党组织书记\r\n"
     "c-1,e-1,王建国,男,主任,第一轮,350,否\r\n"
     "c-2,e-1,马书记,男,主任,第一轮,400,是\r\n"
     "c-3,e-1,李秀英,女,委员,第一轮,300,\r\n",
     "imported 3 candidates"},
    {"affairs",
     "事项编号,类型,事主,举办日期,桌数,车辆数,火化,豁免理由,天数\r\n"
     "a-1,红事,刘家,2026-05-01,12,8,,,\r\n"
     "a-2,白事,马德福,2026-06-01,,,豁免,回族,3\r\n",
     "imported 2 affairs"},
    {"incidents",
     "事件编号,标题,事件类别,网格编码,上报时间,紧急程度,处置期限\r\n"
     "i-1,回民街路灯不亮,safety,411122101201003,2026-03-01 09:30,3,2026-03-10\r\n"
     "i-2,邻里纠纷：漏水,dispute.neighbour,411122101201001,2026/3/2 10:05,,\r\n",
     "imported 2 incidents"},
};
#define NTYPES (sizeof every_type / sizeof every_type[0])

/* `export TYPE` (CSV) of database path, malloc'd. */
static char *export_of(const char *path, const char *type)
{
    GNDB(path, "export", type);
    ASSERT_OK();
    return strdup(R.out);
}

/* Every type of every_type exports the same from both databases. */
static void assert_same_exports(const char *a, const char *b)
{
    for (size_t i = 0; i < NTYPES; i++) {
        char *ea = export_of(a, every_type[i].type), *eb = export_of(b, every_type[i].type);
        ck_assert_msg(!strcmp(ea, eb), "%s differ:\n%s\nvs\n%s", every_type[i].type, ea, eb);
        ck_assert_msg(strlen(ea) > 60, "%s: nothing exported: %s", every_type[i].type, ea);
        free(ea);
        free(eb);
    }
}

/* ==== import ============================================================================ */

/* Each type from a workbook and from the same CSV file, into two nodes:
 * the same records; the workbooks again: nothing new. */
START_TEST(import_every_type_same_as_csv)
{
    const char *csv_db = other_db();
    for (size_t i = 0; i < NTYPES; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.csv", every_type[i].type);
        const char *csv = tpath(name);
        ck_assert_int_eq(gst_write_file(csv, every_type[i].csv, strlen(every_type[i].csv)), 0);
        GNDB(csv_db, "import", every_type[i].type, csv);
        ck_assert_msg(R.status == 0, "%s.csv: %s", every_type[i].type, R.err);
        snprintf(name, sizeof name, "%s.xlsx", every_type[i].type);
        const char *xlsx = tpath(name);
        write_workbook(xlsx, "台账", every_type[i].csv);
        GN("import", every_type[i].type, xlsx);
        ck_assert_msg(R.status == 0, "%s: %s", xlsx, R.err);
        ASSERT_OUT_HAS(every_type[i].done);
        ASSERT_OUT_HAS("(XLSX)");
    }
    assert_same_exports(db, csv_db);
    for (size_t i = 0; i < NTYPES; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.xlsx", every_type[i].type);
        GN("import", every_type[i].type, tpath(name));
        ASSERT_OK();
        ASSERT_OUT_HAS("0 new, 0 updated");
        ASSERT_OUT_HAS("文件里没有新的内容");
    }
}
END_TEST

/* A bad cell: the file, the sheet, the row as the sheet numbers it (a
 * blank row before it counted), the column by number and letter; all
 * errors at once; nothing imported; --dry-run of a good one saves nothing. */
START_TEST(import_bad_cell_names_sheet_row_column)
{
    const char *x = tpath("事件.xlsx");
    write_workbook(x, "网格事件",
                   "标题,事件类别,紧急程度\r\n"
                   "井盖缺失,safety,3\r\n"
                   ",,\r\n"
                   "路灯不亮,safety,9\r\n"
                   "积水,Not A Category,2\r\n");
    GN("import", "incidents", x);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("事件.xlsx: sheet \"网格事件\": row 4, column 3 (C) \"紧急程度\": 紧急程度");
    ASSERT_ERR_HAS("事件.xlsx: sheet \"网格事件\": row 5, column 2 (B) \"事件类别\"");
    ASSERT_ERR_HAS("2 error(s); nothing was imported");
    GN("status", "--json");
    char *v = gst_json_get(R.out, "incident");
    ck_assert_msg(v == NULL || atoi(v) == 0, "stored: %s", R.out);
    free(v);

    write_workbook(x, "网格事件", "标题,事件类别\r\n井盖缺失,safety\r\n");
    GN("import", "incidents", x, "--dry-run");
    ASSERT_OK();
    ASSERT_OUT_HAS("dry run: 1 rows of");
    GN("import", "incidents", x);
    ASSERT_OUT_HAS("1 new");
}
END_TEST

/* A workbook saved without the .xlsx extension is known by its bytes. */
START_TEST(import_workbook_by_magic)
{
    const char *x = tpath("台账.xlsx"), *renamed = tpath("台账-导出");
    write_workbook(x, "网格事件", "标题,事件类别\r\n井盖缺失,safety\r\n");
    ck_assert_int_eq(rename(x, renamed), 0);
    GN("import", "incidents", renamed);
    ASSERT_OK();
    ASSERT_OUT_HAS("(XLSX): 1 new");
}
END_TEST

/* ==== the template ========================================================================= */

/* The text of entry name of the open archive z, malloc'd. */
static char *read_entry(zip_t *z, const char *name, size_t *len)
{
    zip_stat_t st;
    ck_assert_msg(zip_stat(z, name, 0, &st) == 0, "no %s", name);
    char *text = calloc(1, st.size + 1);
    zip_file_t *f = zip_fopen(z, name, 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(zip_fread(f, text, st.size), (zip_int64_t)st.size);
    zip_fclose(f);
    *len = st.size;
    return text;
}

/* The text of entry name of the workbook at path, malloc'd. */
static char *workbook_entry(const char *path, const char *name)
{
    int err = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &err);
    ck_assert_msg(z != NULL, "zip_open %s: %d", path, err);
    size_t len;
    char *text = read_entry(z, name, &len);
    zip_discard(z);
    return text;
}

/* Replaces the first "from" in the zip entry name of the workbook at path
 * with to: as a user typing into the sheet would change it. */
static void edit_entry(const char *path, const char *name, const char *from, const char *to)
{
    int err = 0;
    zip_t *z = zip_open(path, 0, &err);
    ck_assert_msg(z != NULL, "zip_open %s: %d", path, err);
    size_t len;
    char *text = read_entry(z, name, &len);
    char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "%s lacks %s", name, from);
    size_t n = len - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    size_t head = (size_t)(at - text);
    memcpy(out, text, head);
    strcpy(out + head, to);
    strcat(out, at + strlen(from));
    zip_source_t *src = zip_source_buffer(z, out, n, 1); /* libzip frees out */
    ck_assert_ptr_nonnull(src);
    ck_assert_int_ge(zip_file_add(z, name, src, ZIP_FL_OVERWRITE), 0);
    ck_assert_int_eq(zip_close(z), 0);
    free(text);
}

/* Runs soffice headless (with a profile of its own in tmp) with args into
 * R; false (the caller skips) when there is no soffice. It is started
 * through env, which scripts/valgrind.sh does not trace, so that LibreOffice
 * never runs under memcheck. */
static bool soffice(const char *const *args)
{
    char profile[PATH_MAX];
    snprintf(profile, sizeof profile, "-env:UserInstallation=file://%s/lo-profile", tmp);
    const char *argv[24] = {"env", "soffice", "--headless", profile};
    int n = 4;
    for (int i = 0; args[i] && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    gst_result_free(&R);
    gst_run(&R, NULL, argv);
    if (R.status == 127) {
        fprintf(stderr, "SKIPPED: %s: soffice is not installed (Debian libreoffice-calc-nogui; "
                        "bash scripts/deps.sh)\n", tcase_name());
        return false;
    }
    ck_assert_msg(R.status == 0, "soffice: exit %d: %s %s", R.status, R.out, R.err);
    return true;
}

/* The node knows the city's categories and this village's grids (a bundle
 * from a real gridhub), so the template has their drop-downs. The template
 * imports as it is (examples skipped, nothing new); a row typed into it as
 * Excel stores it (text cells, a date-time and a date as serials in the
 * column's date formats, a number) imports with those values; and
 * LibreOffice opens it: its first sheet as CSV is 序号 and the CSV
 * template's header. */
START_TEST(template_fill_import_open)
{
    const char *hub_db = tpath("hub.db"), *bundle = tpath("v.bundle"), *node = tpath("b.db");
    RUN_OK("gridhub", "--db", hub_db, "init");
    RUN_OK("gridhub", "--db", hub_db, "refdata", "load", "divisions",
           GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    RUN_OK("gridhub", "--db", hub_db, "refdata", "load", "categories",
           GS_TEST_SRC_DIR "/data/incident_categories.csv");
    RUN_OK("gridhub", "--db", hub_db, "node", "add", "--village", VILLAGE, "--name", "王庄村",
           "--endpoint", HUB, "--out", bundle);
    GNDB(node, "init", "--bundle", bundle);
    ASSERT_OK();
    GNDB(node, "grid", "add", "--code", GRID1, "--name", "第一网格");
    ASSERT_OK();

    const char *t = tpath("模板.xlsx");
    GNDB(node, "template", "incidents", "--format", "xlsx", "--out", t);
    ASSERT_OK();
    GNDB(node, "import", "incidents", t);
    ASSERT_OK();
    ASSERT_OUT_HAS("0 new, 0 updated, 0 unchanged; 2 示例 example rows skipped");

    /* The drop-down lists: the hidden sheet 选项 holds the enumerations'
     * labels, the city's categories and the village's grid; the data sheet's
     * validations point at it, one per list column; the header is frozen. */
    char *wbx = workbook_entry(t, "xl/workbook.xml"), *sst = workbook_entry(t, "xl/sharedStrings.xml");
    char *sheet = workbook_entry(t, "xl/worksheets/sheet1.xml");
    ck_assert_msg(strstr(wbx, "name=\"选项\"") && strstr(wbx, "state=\"hidden\"") &&
                      strstr(wbx, "name=\"填写说明\""),
                  "%s", wbx);
    static const char *const in_lists[] = {"dispute.land", "safety", GRID1, "12345热线", "结案"};
    for (size_t i = 0; i < sizeof in_lists / sizeof in_lists[0]; i++)
        ck_assert_msg(strstr(sst, in_lists[i]), "the lists lack %s", in_lists[i]);
    ck_assert_msg(strstr(sheet, "<dataValidations count=\"4\"") != NULL, "%s", sheet);
    ck_assert_msg(strstr(sheet, "<formula1>'选项'!$") != NULL, "%s", sheet);
    ck_assert_msg(strstr(sheet, "state=\"frozen\"") != NULL, "%s", sheet);
    free(wbx);
    free(sst);
    free(sheet);

    /* Row 5 typed by hand: D grid (text column), E category, F title, J
     * reported (column style 2: yyyy-mm-dd hh:mm), K severity, N deadline
     * (style 4: yyyy-mm-dd). */
    edit_entry(t, "xl/worksheets/sheet1.xml", "</sheetData>",
               "<row r=\"5\"><c r=\"D5\" s=\"1\" t=\"inlineStr\"><is><t>" GRID1 "</t></is></c>"
               "<c r=\"E5\" s=\"1\" t=\"inlineStr\"><is><t>dispute.land</t></is></c>"
               "<c r=\"F5\" s=\"1\" t=\"inlineStr\"><is><t>宅基地边界纠纷</t></is></c>"
               "<c r=\"J5\" s=\"2\"><v>46082.395833333336</v></c>"
               "<c r=\"K5\" s=\"3\"><v>3</v></c>"
               "<c r=\"N5\" s=\"4\"><v>46091</v></c></row></sheetData>");
    GNDB(node, "import", "incidents", t);
    ck_assert_msg(R.status == 0, "%s", R.err);
    ASSERT_OUT_HAS("1 new, 0 updated, 0 unchanged; 2 示例 example rows skipped");
    GNDB(node, "export", "incidents", "--format", "json");
    ck_assert_msg(strstr(R.out, "\"title\":\"宅基地边界纠纷\"") &&
                      strstr(R.out, "\"category\":\"dispute.land\"") &&
                      strstr(R.out, "\"grid_code\":\"" GRID1 "\"") &&
                      strstr(R.out, "\"reported_at\":\"2026-03-01T09:30:00+08:00\"") &&
                      strstr(R.out, "\"deadline\":\"2026-03-10\"") &&
                      strstr(R.out, "\"severity\":3"),
                  "%s", R.out);

    GN("template", "incidents", "--zh");
    ASSERT_OK();
    char want[1024];
    snprintf(want, sizeof want, "序号,%.*s", (int)strcspn(R.out, "\r\n"), R.out);
    const char *const conv[] = {"--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                                "--outdir", tpath("lo"), t, NULL};
    if (!soffice(conv))
        return;
    size_t len = 0;
    char *got = gst_read_file(tpath("lo/模板.csv"), &len);
    ck_assert_msg(got != NULL, "no CSV from soffice: %s", R.err);
    got[strcspn(got, "\r\n")] = '\0';
    ck_assert_str_eq(got, want);
    free(got);
}
END_TEST

/* Every type's template imports as it is: its two example rows skipped. */
START_TEST(template_every_type_imports_as_is)
{
    static const char *const types[] = {"grids",      "incidents", "elections", "candidates",
                                        "councils",   "members",   "affairs"};
    const char *t = tpath("模板.xlsx");
    GN("template", types[_i], "--format", "xlsx", "--out", t);
    ASSERT_OK();
    GN("import", types[_i], t);
    ck_assert_msg(R.status == 0, "%s: %s", types[_i], R.err);
    ASSERT_OUT_HAS("0 new, 0 updated, 0 unchanged; 2 示例 example rows skipped");
}
END_TEST

/* The template's options: xlsx needs --out, --out needs xlsx, no other
 * format; an unwritable path is one line. */
START_TEST(template_usage_errors)
{
    GN("template", "incidents", "--format", "xlsx");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("--format xlsx needs --out FILE.xlsx");
    GN("template", "incidents", "--out", tpath("t.xlsx"));
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("--out goes with --format xlsx");
    GN("template", "incidents", "--format", "pdf");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("--format is csv|xlsx, not \"pdf\"");
    GN("template", "incidents", "--format", "xlsx", "--out", tpath("no/such/dir/t.xlsx"));
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("t.xlsx: cannot");
    ck_assert_msg(strchr(R.err, '\n') == R.err + strlen(R.err) - 1, "not one line: %s", R.err);
}
END_TEST

/* A CSV file saved as a workbook by LibreOffice imports the same records
 * as the CSV file itself. */
START_TEST(import_libreoffice_workbook)
{
    const char *csv_db = other_db();
    const char *conv[8 + NTYPES] = {"--infilter=CSV:44,34,76", "--convert-to", "xlsx",
                                    "--outdir", tpath("lo")};
    char csvs[NTYPES][PATH_MAX];
    for (size_t i = 0; i < NTYPES; i++) {
        snprintf(csvs[i], PATH_MAX, "%s/%s.csv", tmp, every_type[i].type);
        ck_assert_int_eq(gst_write_file(csvs[i], every_type[i].csv, strlen(every_type[i].csv)),
                         0);
        GNDB(csv_db, "import", every_type[i].type, csvs[i]);
        ck_assert_msg(R.status == 0, "%s: %s", csvs[i], R.err);
        conv[5 + i] = csvs[i];
    }
    if (!soffice(conv))
        return;
    for (size_t i = 0; i < NTYPES; i++) {
        char name[64];
        snprintf(name, sizeof name, "lo/%s.xlsx", every_type[i].type);
        GN("import", every_type[i].type, tpath(name));
        ck_assert_msg(R.status == 0, "%s: %s", name, R.err);
        ASSERT_OUT_HAS(every_type[i].done);
    }
    assert_same_exports(db, csv_db);
}
END_TEST

/* ==== hostile workbooks ======================================================================= */

/* Runs gridnode --db db import incidents path with stderr to a file, and
 * waits for it with wait4 to get its own peak RSS (KiB). */
static int import_measured(const char *path, long *maxrss_kb, char **err)
{
    char *bin = gst_bin("gridnode");
    const char *errfile = tpath("import.err");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDWR);
        if (fd < 0 || nul < 0)
            _exit(126);
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(fd, 2);
        execl(bin, "gridnode", "--db", db, "import", "incidents", path, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    ck_assert_int_eq(wait4(pid, &st, 0, &ru), pid);
    free(bin);
    *maxrss_kb = ru.ru_maxrss;
    *err = gst_read_file(errfile, NULL);
    ck_assert_ptr_nonnull(*err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const struct {
    const char *file, *says;
} hostile[] = {
    {"bomb_part.xlsx", "unpacks to 83886"},              /* 80 MiB of spaces in 84 KB */
    {"bomb_lying_size.xlsx", "unpacks to more than 64 MiB"}, /* the same, claiming 1000 bytes */
    {"bomb_empty_rows.xlsx", "row 1048577 is beyond"},   /* 10^7 empty rows */
    {"bad_sst_claim.xlsx", "claims 2147483648 shared strings"},
    {"bad_entities.xlsx", "DOCTYPE"},                    /* billion laughs */
    {"bad_beyond_xfd.xlsx", "beyond Excel's last column XFD"},
    {"bad_not_utf8.xlsx", "not well-formed"},
    {"bad_no_workbook.xlsx", "no xl/workbook.xml"},
    {"bad_sst_index.xlsx", "shared string 2147483647 does not exist"},
};
#define NHOSTILE ((int)(sizeof hostile / sizeof hostile[0]))

START_TEST(hostile_refused_bounded)
{
    long rss = 0;
    char *err = NULL, path[PATH_MAX];
    snprintf(path, sizeof path, CORPUS "%s", hostile[_i].file);
    int status = import_measured(path, &rss, &err);
    ck_assert_msg(status == 1, "%s: exit %d: %s", hostile[_i].file, status, err);
    ck_assert_msg(strstr(err, hostile[_i].says) != NULL, "%s: \"%s\" lacks \"%s\"",
                  hostile[_i].file, err, hostile[_i].says);
    ck_assert_msg(strncmp(err, "gridnode: import: ", 18) == 0, "%s", err);
    ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "not one line:\n%s", err);
    fprintf(stderr, "%s: peak RSS %ld KiB: %s", hostile[_i].file, rss, err);
    if (getenv("GS_UNDER_VALGRIND"))
        fprintf(stderr, "  (RSS not checked under valgrind: it counts the parent's at fork)\n");
    else
        ck_assert_msg(rss < RSS_LIMIT_KB, "%s: peak RSS %ld KiB, limit %d KiB",
                      hostile[_i].file, rss, RSS_LIMIT_KB);
    free(err);
    GN("status", "--json");
    ASSERT_OK();
    char *v = gst_json_get(R.out, "incident");
    ck_assert_msg(v == NULL || atoi(v) == 0, "stored: %s", R.out);
    free(v);
}
END_TEST

static Suite *node_xlsx_suite(void)
{
    Suite *s = suite_create("node_xlsx");
    TCase *tc = gst_tcase(s, "import", setup, teardown, 300);
    tcase_add_test(tc, import_every_type_same_as_csv);
    tcase_add_test(tc, import_bad_cell_names_sheet_row_column);
    tcase_add_test(tc, import_workbook_by_magic);
    tc = gst_tcase(s, "template", setup, teardown, 300);
    tcase_add_test(tc, template_fill_import_open);
    tcase_add_test(tc, template_usage_errors);
    tcase_add_loop_test(tc, template_every_type_imports_as_is, 0, 7);
    tc = gst_tcase(s, "libreoffice", setup, teardown, 600);
    tcase_add_test(tc, import_libreoffice_workbook);
    tc = gst_tcase(s, "hostile", setup, teardown, 300);
    tcase_add_loop_test(tc, hostile_refused_bounded, 0, NHOSTILE);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(node_xlsx_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
