/*
 * test_export_xlsx.c: `gridnode export TYPE --format xlsx` and `gridhub TYPE
 * list --format xlsx` write workbooks that LibreOffice opens (converted back
 * to CSV headless) and whose cells are the CSV export's: ids and codes as
 * text with every digit, numbers as numbers, dates and times as the CSV
 * writes them, Chinese intact, a text that looks like a formula still text.
 * The workbook shows what a person reads (an enumeration in Chinese, the
 * header "中文 name"); the comparison maps the CSV's cells the same way.
 * Only the LibreOffice check is skipped, with a message, when soffice is
 * not installed; the rest (exit codes, the files, --out required) runs
 * always.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/csv.h"
#include "gridsync/schema.h"
#include "gstest.h"
#include "gstest_cli.h"

#define VILLAGE "411122101201"
#define GRID    "411122101201001"

static gst_result R;
static char *tmp;
static char db[PATH_MAX], hub_db[PATH_MAX], hub_log[PATH_MAX], endpoint[PATH_MAX + 8];
static gst_procs procs;

#define GH(...) gst_cmd(&R, true, "gridhub", hub_db, __VA_ARGS__, (const char *)NULL)
#define OK(what)                                                                                   \
    ck_assert_msg(R.status == 0, "%s: exit %d\n%s", (what), R.status, R.err)

/* Incidents with every kind of cell: ids given, a 15-digit grid code, a
 * title that starts like a formula, commas and quotes, a quoted line break,
 * a missing grid and reporter, Chinese throughout. */
static const char incidents[] =
    "id,title,category,grid_code,description,reporter,reported_at,severity\r\n"
    "INC-0001,井盖缺失 “危险”，东街口,safety.building," GRID ",\"夜间无照明, 请\"\"市政\"\"处理\","
    ",2026-03-01 09:30,3\r\n"
    "INC-0002,=1+2 公式,dispute.neighbour," GRID ",\"二楼漏水\r\n影响一楼\",@人,2026/3/2 10:05,\r\n"
    "INC-0003,流浪人员救助,rescue,,,王小二,2026年3月3日 08:00,4\r\n";

static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(hub_log, sizeof hub_log, "%s/hub.log", tmp);
    snprintf(db, sizeof db, "%s/node.db", tmp);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/hub.sock", tmp);
    GH("init");
    OK("gridhub init");
    GH("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    OK("refdata divisions");
    GH("refdata", "load", "categories", GS_TEST_SRC_DIR "/data/incident_categories.csv");
    OK("refdata categories");
    char bundle[PATH_MAX + 16], in[PATH_MAX + 16];
    snprintf(bundle, sizeof bundle, "%s/a.bundle", tmp);
    GH("node", "add", "--village", VILLAGE, "--name", "王庄村", "--endpoint", endpoint, "--out",
       bundle);
    OK("node add");
    GN("init", "--bundle", bundle);
    OK("gridnode init");
    GN("grid", "add", "--code", GRID, "--name", "第一网格");
    OK("grid add");
    snprintf(in, sizeof in, "%s/in.csv", tmp);
    FILE *f = fopen(in, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(incidents, f);
    fclose(f);
    GN("import", "incidents", in);
    OK("import");
}

static void teardown(void)
{
    gst_teardown(&procs, &R, &tmp);
}

/* Serves the hub and syncs the node into it. */
static void sync_to_hub(void)
{
    gst_hub_serve(&procs, hub_db, endpoint, hub_log, false);
    GN("sync", "--timeout", "60");
    OK("sync");
}

/* Writes R.out to tmp/name, whose path is put in path. */
static void save_out(const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(R.out, 1, R.out_len, f), R.out_len);
    fclose(f);
}

static bool have_soffice(void)
{
    const char *which[] = {"sh", "-c", "command -v soffice", NULL};
    gst_result_free(&R);
    gst_run(&R, NULL, which);
    if (R.status != 0)
        fprintf(stderr, "test_export_xlsx: the LibreOffice check SKIPPED, soffice not installed "
                        "(Debian libreoffice-calc-nogui)\n");
    return R.status == 0;
}

/* Converts the workbooks to CSV in tmp/csv with LibreOffice headless. */
static void soffice_to_csv(const char *const *xlsx, size_t n)
{
    char outdir[PATH_MAX], profile[PATH_MAX + 32];
    snprintf(outdir, sizeof outdir, "%s/csv", tmp);
    snprintf(profile, sizeof profile, "-env:UserInstallation=file://%s/lo", tmp);
    const char *argv[16] = {"soffice", profile, "--headless", "--convert-to",
                            "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", outdir};
    size_t k = 7;
    for (size_t i = 0; i < n && k < 15; i++)
        argv[k++] = xlsx[i];
    argv[k] = NULL;
    gst_result_free(&R);
    ck_assert_int_eq(gst_run(&R, NULL, argv), 0);
    ck_assert_msg(R.status == 0, "soffice: exit %d: %s", R.status, R.err);
}

static gs_csv *open_csv(const char *path)
{
    gs_csv *c = NULL;
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_csv_open(&c, path, &eb) == GS_OK, "%s", eb.msg);
    return c;
}

/* What the workbook shows for the CSV cell v of field f: an enumeration's
 * Chinese label, a boolean's 是/否, a text without the CSV's formula mark
 * (the workbook holds it as a string, never a formula); line breaks as LF
 * (XML keeps no CR). */
static char *shown(const gs_field *f, const char *v)
{
    if (f->type == GS_FT_ENUM && *v)
        return strdup(gs_enum_zh(f, v));
    if (f->type == GS_FT_BOOL && *v)
        return strdup(strcmp(v, "0") ? "是" : "否");
    if (v[0] == '\'' && v[1] && strchr("=+-@", v[1]))
        v++;
    char *s = strdup(v), *w = s;
    for (const char *p = s; *p; p++)
        if (!(p[0] == '\r' && p[1] == '\n'))
            *w++ = *p;
    *w = '\0';
    return s;
}

/* The workbook converted to got_path holds the CSV at csv_path cell for
 * cell: the header "中文 name" of each column, then every row. */
static void assert_same_cells(const char *what, const gs_rectype *rt, const char *csv_path,
                              const char *got_path)
{
    gs_csv *exp = open_csv(csv_path), *got = open_csv(got_path);
    ck_assert_msg(gs_csv_ncols(got) == gs_csv_ncols(exp), "%s: %zu columns, want %zu", what,
                  gs_csv_ncols(got), gs_csv_ncols(exp));
    ck_assert_msg(gs_csv_nrows(got) == gs_csv_nrows(exp), "%s: %zu rows, want %zu", what,
                  gs_csv_nrows(got), gs_csv_nrows(exp));
    for (size_t c = 0; c < gs_csv_ncols(exp); c++) {
        int fi = gs_field_find(rt, gs_csv_header(exp, c));
        ck_assert_msg(fi >= 0, "%s: CSV column %s", what, gs_csv_header(exp, c));
        const gs_field *f = &rt->fields[fi];
        char head[256];
        snprintf(head, sizeof head, "%s %s", f->label_zh, f->name);
        ck_assert_msg(!strcmp(gs_csv_header(got, c), head), "%s: header %zu is \"%s\", want \"%s\"",
                      what, c + 1, gs_csv_header(got, c), head);
        for (size_t r = 0; r < gs_csv_nrows(exp); r++) {
            char *want = shown(f, gs_csv_cell(exp, r, c));
            ck_assert_msg(!strcmp(gs_csv_cell(got, r, c), want),
                          "%s: row %zu, column %s: workbook \"%s\", CSV \"%s\"", what, r + 2,
                          f->name, gs_csv_cell(got, r, c), want);
            free(want);
        }
    }
    gs_csv_destroy(&exp);
    gs_csv_destroy(&got);
}

/* The node's export and list and the hub's list as workbooks, each
 * converted back by LibreOffice, against the node's CSV export. */
START_TEST(workbooks_hold_the_csv_cells)
{
    const gs_rectype *rt = gs_rectype_find("incident");
    char csv[PATH_MAX + 32], hub_csv[PATH_MAX + 32], x[3][PATH_MAX + 32];
    GN("export", "incidents");
    OK("export");
    save_out("export.csv", csv, sizeof csv);
    ck_assert_msg(strstr(R.out, "'=1+2 公式") != NULL, "the CSV lost its formula guard");

    snprintf(x[0], sizeof x[0], "%s/export.xlsx", tmp);
    GN("export", "incidents", "--format", "xlsx", "--out", x[0]);
    OK("export --format xlsx");
    ck_assert_uint_eq(R.out_len, 0);
    snprintf(x[1], sizeof x[1], "%s/nodelist.xlsx", tmp);
    char out_eq[PATH_MAX + 48];
    snprintf(out_eq, sizeof out_eq, "--out=%s", x[1]); /* --opt=value as well */
    GN("incident", "list", "--format=xlsx", out_eq);
    OK("incident list --format xlsx");

    sync_to_hub();
    snprintf(x[2], sizeof x[2], "%s/hublist.xlsx", tmp);
    GH("incident", "list", "--format", "xlsx", "--out", x[2]);
    OK("gridhub incident list --format xlsx");
    ck_assert_uint_eq(R.out_len, 0);
    GH("incident", "list", "--format", "csv");
    OK("gridhub incident list --format csv");
    save_out("hublist.csv", hub_csv, sizeof hub_csv);
    /* the hub lists what the node exported, byte for byte */
    char *node_csv = gst_read_file(csv, NULL);
    ck_assert_msg(!strcmp(node_csv, R.out), "hub list:\n%s\nnode export:\n%s", R.out, node_csv);
    free(node_csv);

    for (size_t i = 0; i < 3; i++) {
        size_t len = 0;
        char *bytes = gst_read_file(x[i], &len);
        ck_assert_msg(bytes && len > 4 && !memcmp(bytes, "PK\3\4", 4), "%s: not a workbook", x[i]);
        free(bytes);
    }
    if (!have_soffice())
        return;
    const char *const files[] = {x[0], x[1], x[2]};
    soffice_to_csv(files, 3);
    static const char *const names[] = {"export", "nodelist", "hublist"};
    for (size_t i = 0; i < 3; i++) {
        char got[PATH_MAX + 32];
        snprintf(got, sizeof got, "%s/csv/%s.csv", tmp, names[i]);
        assert_same_cells(names[i], rt, csv, got);
    }
}
END_TEST

/* xlsx without --out is one clear line and exit 2, on both programs; --out
 * with no file too. */
START_TEST(xlsx_needs_out)
{
    GN("export", "incidents", "--format", "xlsx");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("--out");
    ck_assert_msg(strchr(R.err, '\n') == R.err + R.err_len - 1, "%s", R.err);
    GN("incident", "list", "--format", "xlsx");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("--out");
    GH("incident", "list", "--format", "xlsx");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("--out");
    GN("export", "incidents", "--out");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("--out needs a FILE");
    GN("export", "incidents", "--format", "xml");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("xml");
    /* a filter's value that reads like --out stays the filter's */
    GN("incident", "list", "--text", "--out", "--format", "json");
    ASSERT_OK();
    ck_assert_str_eq(R.out, "[]\n");
}
END_TEST

/* --out FILE takes every format; --bom on a list's CSV. */
START_TEST(out_file_and_bom)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/list.csv", tmp);
    GN("incident", "list", "--format", "csv", "--bom", "--out", path);
    OK("list --bom --out");
    ck_assert_uint_eq(R.out_len, 0);
    GN("export", "incidents");
    OK("export");
    size_t len = 0;
    char *text = gst_read_file(path, &len);
    ck_assert_msg(text && len == R.out_len + 3 && !memcmp(text, "\xEF\xBB\xBF", 3) &&
                      !memcmp(text + 3, R.out, R.out_len),
                  "list --bom --out differs from the export behind a BOM");
    free(text);
    GN("export", "incidents", "--format", "table");
    OK("export --format table");
    ASSERT_OUT_HAS("井盖缺失 “危险”，东街口");
    ASSERT_OUT_HAS("上报"); /* the status in Chinese */
    ASSERT_OUT_HAS("(3 网格事件)");
}
END_TEST

/* Excel both ways: a workbook written by `export` imports back unchanged
 * (its "中文 name" headers, codes as text, dates as dates, the formula-like
 * title), into this node (nothing new, nothing updated) and into another
 * node of the village (the same rows). */
START_TEST(export_imports_back_unchanged)
{
    char x[PATH_MAX + 32];
    snprintf(x, sizeof x, "%s/back.xlsx", tmp);
    GN("export", "incidents", "--format", "xlsx", "--out", x);
    OK("export --format xlsx");
    GN("import", "incidents", x);
    OK("import the export");
    ASSERT_OUT_HAS("0 new, 0 updated, 3 unchanged");
    GN("export", "incidents");
    OK("export");
    char *before = strdup(R.out);
    char other[PATH_MAX + 32], bundle[PATH_MAX + 32];
    snprintf(other, sizeof other, "%s/other.db", tmp);
    snprintf(bundle, sizeof bundle, "%s/b.bundle", tmp);
    GH("node", "add", "--village", VILLAGE, "--name", "王庄村二号机", "--endpoint", endpoint,
       "--out", bundle);
    OK("node add");
    GNDB(other, "init", "--bundle", bundle);
    OK("gridnode init");
    GNDB(other, "grid", "add", "--code", GRID, "--name", "第一网格");
    OK("grid add");
    GNDB(other, "import", "incidents", x);
    OK("import into another node");
    ASSERT_OUT_HAS("3 new, 0 updated, 0 unchanged");
    GNDB(other, "export", "incidents");
    OK("export of the other node");
    ck_assert_msg(!strcmp(before, R.out), "the rows differ after the round trip:\n%s\n%s",
                  before, R.out);
    free(before);
}
END_TEST

static Suite *export_xlsx_suite(void)
{
    Suite *s = suite_create("export_xlsx");
    TCase *tc = gst_tcase(s, "xlsx", setup, teardown, 300);
    tcase_add_test(tc, workbooks_hold_the_csv_cells);
    tcase_add_test(tc, xlsx_needs_out);
    tcase_add_test(tc, out_file_and_bom);
    tcase_add_test(tc, export_imports_back_unchanged);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(export_xlsx_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
