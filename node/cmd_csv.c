/*
 * cmd_csv.c: `gridnode import`, `export` and `template`: the CSV files staff
 * fill in Excel.
 *
 * A file is a CSV file or an Excel workbook (.xlsx, read through
 * gridsync/xlsx.h into the same table): one loop imports both, and a
 * workbook's messages name its sheet and the spreadsheet's row and column.
 * A row whose ordinal column (序号) says 示例 is an example row of the
 * template: it is skipped and counted.
 *
 * The import itself (all rows or none, the identity of a row, the errors by
 * row and column) is import.c's, which the 导入导出 page runs too; this file
 * reads the command line, opens the file and prints what came of it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "gridsync/csv.h"
#include "gridsync/xlsx.h"
#include "entry.h"
#include "import.h"

#define MAX_ERRORS_SHOWN 200

static const char import_help[] =
    "usage: gridnode import TYPE FILE.csv|FILE.xlsx [--dry-run] [--db PATH]\n"
    "\n"
    "Imports every row of FILE as TYPE records (grids, incidents, elections, candidates,\n"
    "councils, members, affairs), all or none. The file may be CSV in UTF-8 (with or without\n"
    "BOM) or GBK/GB18030 as Chinese Excel saves it, or an Excel workbook (.xlsx: its first\n"
    "sheet; `gridnode template TYPE --format xlsx` writes one to fill, whose 示例 rows are\n"
    "skipped); the header row may use the English names or\n"
    "the Chinese labels of `gridnode template TYPE`. Importing a file again adds nothing:\n"
    "a row with an existing id updates the fields that differ (or is unchanged), a row\n"
    "without an id that this PC imported before is unchanged. Columns 序号, 行号, No., #\n"
    "(and 编号 holding row numbers) are ignored; a row whose 序号 is 示例 is skipped. --dry-run checks everything and saves\n"
    "nothing.\n";

/* Prints an import's errors as every command does: "gridnode: FILE: row N,
 * column C "HEADER": what", the first MAX_ERRORS_SHOWN of them. */
typedef struct print_errors {
    const char *where;
    int n;
} print_errors;

static void print_error(const node_import_error *e, void *arg)
{
    print_errors *p = arg;
    if (++p->n > MAX_ERRORS_SHOWN)
        return;
    if (e->col && e->header)
        fprintf(stderr, "gridnode: %s: row %zu, column %s \"%s\": %s\n", p->where, e->row, e->col,
                e->header, e->msg);
    else if (e->col)
        fprintf(stderr, "gridnode: %s: row %zu, column %s: %s\n", p->where, e->row, e->col, e->msg);
    else
        fprintf(stderr, "gridnode: %s: row %zu: %s\n", p->where, e->row, e->msg);
}

int node_cmd_import(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        fputs(import_help, stdout);
        return NODE_EXIT_OK;
    }
    bool dry = false;
    const char *pos[2];
    int np = 0;
    for (int i = 0; i < cli->argc; i++) {
        if (!strcmp(cli->argv[i], "--dry-run"))
            dry = true;
        else if (!strncmp(cli->argv[i], "--", 2))
            return node_usage("import: unknown option %s", cli->argv[i]);
        else if (np < 2)
            pos[np++] = cli->argv[i];
        else
            return node_usage("import: unexpected argument %s", cli->argv[i]);
    }
    if (np != 2)
        return node_usage("import needs TYPE and FILE.csv or FILE.xlsx");
    const gs_rectype *rt = gs_rectype_find(pos[0]);
    if (!rt || rt->reference)
        return node_usage("import: unknown type \"%s\"", pos[0]);
    const char *file = pos[1];
    gs_errbuf eb = {{0}};
    gs_csv *csv = NULL;
    if (gs_xlsx_is_workbook(file) ? gs_xlsx_open(&csv, file, &eb) : gs_csv_open(&csv, file, &eb))
        return node_fail("import: %s", eb.msg);
    /* where the rows are, for messages: the file, and a workbook's sheet */
    char where[PATH_MAX + 300]; /* a sheet's name is under 256 bytes (xlsx.c) */
    if (gs_csv_sheet(csv))
        snprintf(where, sizeof where, "%s: sheet \"%s\"", file, gs_csv_sheet(csv));
    else
        snprintf(where, sizeof where, "%s", file);
    print_errors pe = {where, 0};
    node_import_opts o = {where, !dry, isatty(STDERR_FILENO), print_error, &pe};
    node_import_result res;
    int exit_code = NODE_EXIT_OK;
    node_store *s = NULL;
    /* the header first, so that a wrong file is told before any database is opened */
    int rc = node_import_run(NULL, rt, csv, &o, &res, &eb);
    if (!rc && !res.header_bad && !(s = node_open(cli))) {
        exit_code = NODE_EXIT_ERROR;
        goto out;
    }
    if (!rc && s)
        rc = node_import_run(s, rt, csv, &o, &res, &eb);
    if (pe.n > MAX_ERRORS_SHOWN)
        fprintf(stderr, "gridnode: ... and %d more errors\n", pe.n - MAX_ERRORS_SHOWN);
    char skipped[96] = "";
    if (res.examples)
        snprintf(skipped, sizeof skipped, "; %zu 示例 example rows skipped", res.examples);
    const char *enc = node_import_encoding_name(gs_csv_encoding_of(csv));
    if (rc)
        exit_code = node_fail("import: %s; nothing was imported", eb.msg);
    else if (res.header_bad)
        exit_code = node_fail("import: %s: %d error(s) in the header row; nothing was imported",
                              file, res.errors);
    else if (res.errors)
        exit_code = node_fail("import: %s: %d error(s); nothing was imported", file, res.errors);
    else if (dry)
        printf("dry run: %zu rows of %s (%s) are valid: %zu new, %zu updates, %zu "
               "unchanged%s; nothing was saved\n",
               res.rows, file, enc, res.created, res.updated, res.unchanged, skipped);
    else
        printf("imported %zu %s from %s (%s): %zu new, %zu updated, %zu unchanged%s%s\n",
               res.created + res.updated, rt->plural, file, enc, res.created, res.updated,
               res.unchanged, skipped,
               res.created + res.updated || !res.unchanged
                   ? ""
                   : "; 文件里没有新的内容，什么也没有改 (nothing new in the file; nothing changed)");
out:
    node_store_close(&s);
    gs_csv_destroy(&csv);
    return exit_code;
}

/* ---- export and template -------------------------------------------------- */

static const char export_help[] =
    "usage: gridnode export TYPE [--format csv|json|table|xlsx] [--out FILE] [--zh] [--bom]\n"
    "                       [--db PATH]\n"
    "\n"
    "Writes every TYPE record to standard output, or to FILE with --out. CSV (the default)\n"
    "has the columns of `gridnode template TYPE` and can be edited and imported back; --zh\n"
    "writes Chinese headers, --bom starts the file with a UTF-8 byte-order mark so that\n"
    "Excel opens it with the right encoding. JSON is an array of objects with the English\n"
    "field names. xlsx writes an Excel workbook to --out FILE (required): headers \"中文 name\",\n"
    "ids and codes as text, numbers as numbers, dates as dates, enumerations in Chinese.\n";

static const char template_help[] =
    "usage: gridnode template TYPE [--zh] [--bom]\n"
    "       gridnode template TYPE --format xlsx --out FILE.xlsx [--db PATH]\n"
    "\n"
    "Prints the CSV header row of TYPE: English names, or Chinese labels with --zh.\n"
    "--format xlsx writes an Excel workbook to fill instead: the Chinese header row (frozen),\n"
    "drop-down lists for every enumeration and for this village's grids, the incident\n"
    "categories and the elections and councils of the node's database, date columns as\n"
    "dates, code and id columns as text, two example rows marked 示例 that import skips,\n"
    "and a sheet 填写说明 that says what each column takes.\n";

/* What export and template write. */
typedef enum { OUT_CSV, OUT_JSON, OUT_XLSX } out_format;

/* Parses TYPE and the flags shared by export and template; formats is the
 * "|"-separated list of --format values cmd takes; --out only when out is
 * not NULL. */
static int csv_args(node_cli *cli, const char *cmd, const char *formats, const gs_rectype **rt,
                    bool *zh, bool *bom, out_format *fmt, const char **out)
{
    const char *type = NULL;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (!strcmp(a, "--zh"))
            *zh = true;
        else if (!strcmp(a, "--bom"))
            *bom = true;
        else if (!strcmp(a, "--format") && i + 1 < cli->argc) {
            const char *f = cli->argv[++i], *at = strstr(formats, f);
            size_t n = strlen(f);
            if (!n || !at || (at != formats && at[-1] != '|') || (at[n] && at[n] != '|'))
                return node_usage("%s: --format is %s, not \"%s\"", cmd, formats, f);
            *fmt = !strcmp(f, "json") ? OUT_JSON : !strcmp(f, "xlsx") ? OUT_XLSX : OUT_CSV;
        } else if (out && !strcmp(a, "--out") && i + 1 < cli->argc) {
            *out = cli->argv[++i];
        } else if (!strncmp(a, "--", 2))
            return node_usage("%s: unknown option %s", cmd, a);
        else if (!type)
            type = a;
        else
            return node_usage("%s: unexpected argument %s", cmd, a);
    }
    if (!type)
        return node_usage("%s needs a TYPE", cmd);
    *rt = gs_rectype_find(type);
    if (!*rt)
        return node_usage("%s: unknown type \"%s\"", cmd, type);
    return NODE_EXIT_OK;
}

/* template TYPE --format xlsx --out FILE: the workbook of
 * node_import_template (import.c), which the 导入导出 page writes too. */
static int template_xlsx(node_cli *cli, const gs_rectype *rt, const char *out)
{
    if (!out)
        return node_usage("template: --format xlsx needs --out FILE.xlsx");
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    gs_errbuf eb = {{0}};
    int rc = node_import_template(s, rt, out, &eb);
    node_store_close(&s);
    if (rc)
        return node_fail("template: %s", eb.msg);
    printf("wrote %s: the %s template (%s)\n", out, rt->plural, rt->label_zh);
    return NODE_EXIT_OK;
}

int node_cmd_template(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        fputs(template_help, stdout);
        return NODE_EXIT_OK;
    }
    const gs_rectype *rt = NULL;
    bool zh = false, bom = false;
    out_format fmt = OUT_CSV;
    const char *out = NULL;
    int rc = csv_args(cli, "template", "csv|xlsx", &rt, &zh, &bom, &fmt, &out);
    if (rc)
        return rc;
    if (fmt == OUT_XLSX)
        return template_xlsx(cli, rt, out);
    if (out)
        return node_usage("template: --out goes with --format xlsx");
    gs_buf b = GS_BUF_INIT;
    if (bom)
        gs_buf_puts(&b, "\xEF\xBB\xBF");
    gs_schema_csv_header(rt, zh, &b);
    fwrite(b.data, 1, b.len, stdout);
    gs_buf_free(&b);
    return NODE_EXIT_OK;
}

/* `gridnode export TYPE`: every record of TYPE through the record sheet
 * (gs_find_print_list), so that its CSV and JSON are those of `TYPE list`
 * and its workbook that of every report. */
int node_cmd_export(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        fputs(export_help, stdout);
        return NODE_EXIT_OK;
    }
    gs_find_opts o = {.json_lines = true};
    const char *format = NULL;
    gs_errbuf eb = {{0}};
    if (gs_find_take_opts(&cli->argc, cli->argv, &o, &format, &eb))
        return node_usage("export: %s", eb.msg);
    const gs_rectype *rt = NULL;
    out_format given = OUT_CSV; /* --format was taken by gs_find_take_opts */
    int rc = csv_args(cli, "export", "csv|json", &rt, &o.zh, &o.bom, &given, NULL);
    if (rc)
        return rc;
    int fmt = cli->json ? GS_FIND_JSON : GS_FIND_CSV;
    if (format && (fmt = gs_find_format_parse(format)) < 0)
        return node_usage("export: --format is csv, json, table or xlsx, not \"%s\"", format);
    if (gs_find_check_opts((gs_find_format)fmt, &o, &eb))
        return node_usage("export: %s", eb.msg);
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    gs_find_filter all = {0};
    if (gs_find_print_list(rt, &all, (gs_find_format)fmt, &o, node_cli_store.list, s, stdout, &eb))
        rc = node_fail("export: %s", eb.msg);
    node_store_close(&s);
    return rc;
}
