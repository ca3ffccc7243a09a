/*
 * cmd_csv.c: `gridnode import`, `export` and `template`: the CSV files staff
 * fill in Excel.
 *
 * Import is all rows or none: one transaction; every row goes through the
 * same entry rules as a typed command (entry.c); every error names the file,
 * the row as Excel numbers it (header = row 1), the column and what was
 * expected, and all errors are listed before anything is decided. A row whose
 * id already exists updates that record (so an exported file can be edited
 * and imported back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gridsync/csv.h"
#include "entry.h"

#define MAX_ERRORS_SHOWN 200

static const char import_help[] =
    "usage: gridnode import TYPE FILE.csv [--dry-run] [--db PATH]\n"
    "\n"
    "Imports every row of FILE.csv as TYPE records (grids, incidents, elections, candidates,\n"
    "councils, members, affairs), all or none. The file may be UTF-8 (with or without BOM)\n"
    "or GBK/GB18030 as Chinese Excel saves it; the header row may use the English names or\n"
    "the Chinese labels of `gridnode template TYPE`. A row with an existing id updates it.\n"
    "--dry-run checks everything and saves nothing.\n";

static const char *encoding_name(gs_csv_encoding e)
{
    return e == GS_CSV_GB18030 ? "GB18030/GBK" : e == GS_CSV_UTF8_BOM ? "UTF-8 BOM" : "UTF-8";
}

/* Maps header columns to fields; -1 for none. Reports every bad header. */
static int map_headers(const char *file, const gs_rectype *rt, const gs_csv *csv, int *col_field)
{
    int errors = 0;
    bool seen[128] = {false};
    for (size_t c = 0; c < gs_csv_ncols(csv); c++) {
        const char *h = gs_csv_header(csv, c);
        int f = gs_field_find(rt, h);
        col_field[c] = f;
        if (f < 0) {
            fprintf(stderr, "gridnode: %s: row 1, column %zu \"%s\": not a column of %s; expected "
                            "the headers of `gridnode template %s`\n",
                    file, c + 1, h, rt->plural, rt->plural);
            errors++;
        } else if (rt->fields[f].flags & GS_F_COMPUTED) {
            fprintf(stderr, "gridnode: %s: row 1, column %zu \"%s\": computed by the rules, not "
                            "imported\n",
                    file, c + 1, h);
            errors++;
        } else if (seen[f]) {
            fprintf(stderr, "gridnode: %s: row 1, column %zu \"%s\": the column appears twice\n",
                    file, c + 1, h);
            errors++;
        } else {
            seen[f] = true;
        }
    }
    for (int f = 0; f < rt->nfields; f++) {
        const gs_field *fd = &rt->fields[f];
        if ((fd->flags & GS_F_REQUIRED) && !(fd->flags & (GS_F_GENERATED | GS_F_SCOPE)) &&
            !fd->def && !seen[f] && !(rt->id == GS_RT_INCIDENT && !strcmp(fd->name, "reported_at"))) {
            fprintf(stderr, "gridnode: %s: row 1: the required column %s (%s) is missing\n", file,
                    fd->label_zh, fd->name);
            errors++;
        }
    }
    return errors;
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
        return node_usage("import needs TYPE and FILE.csv");
    const gs_rectype *rt = gs_rectype_find(pos[0]);
    if (!rt || rt->reference)
        return node_usage("import: unknown type \"%s\"", pos[0]);
    const char *file = pos[1];
    gs_errbuf eb = {{0}};
    gs_csv *csv = NULL;
    if (gs_csv_open(&csv, file, &eb))
        return node_fail("import: %s", eb.msg);
    size_t ncols = gs_csv_ncols(csv);
    int *col_field = calloc(ncols ? ncols : 1, sizeof *col_field);
    if (!col_field) {
        gs_csv_destroy(&csv);
        return node_fail("out of memory");
    }
    int errors = map_headers(file, rt, csv, col_field);
    if (errors) {
        free(col_field);
        gs_csv_destroy(&csv);
        return node_fail("import: %s: %d error(s) in the header row; nothing was imported", file,
                         errors);
    }
    node_store *s = node_open(cli);
    if (!s) {
        free(col_field);
        gs_csv_destroy(&csv);
        return NODE_EXIT_ERROR;
    }
    size_t nrows = gs_csv_nrows(csv), created = 0, updated = 0;
    bool tty = isatty(STDERR_FILENO);
    int rc = node_store_begin(s, &eb);
    if (rc) {
        errors++;
        fprintf(stderr, "gridnode: import: %s\n", eb.msg);
    }
    /* the header's own span, for the row numbers below */
    size_t row = 1, prev_line = 1, prev_span = 1;
    for (size_t c = 0; c < ncols; c++)
        for (const char *p = gs_csv_header(csv, c); (p = strchr(p, '\n')); p++)
            prev_span++;
    for (size_t r = 0; r < nrows && !rc; r++) {
        /* Excel's row number: records counted, blank rows included, a quoted
         * cell spanning lines still one row */
        size_t line = gs_csv_line(csv, r);
        row += 1 + (line > prev_line + prev_span ? line - prev_line - prev_span : 0);
        prev_line = line;
        prev_span = 1;
        for (size_t c = 0; c < gs_csv_row_ncells(csv, r); c++)
            for (const char *p = gs_csv_cell(csv, r, c); (p = strchr(p, '\n')); p++)
                prev_span++;
        gs_record *rec = gs_record_new(rt);
        if (!rec) {
            errors++;
            break;
        }
        bool bad = false;
        for (size_t c = ncols; c < gs_csv_row_ncells(csv, r); c++)
            if (*gs_csv_cell(csv, r, c)) {
                if (++errors <= MAX_ERRORS_SHOWN)
                    fprintf(stderr,
                            "gridnode: %s: row %zu, column %zu: \"%.40s\" is beyond the last "
                            "column of the header row; nothing there is imported\n",
                            file, row, c + 1, gs_csv_cell(csv, r, c));
                bad = true;
            }
        for (size_t c = 0; c < ncols; c++) {
            if (col_field[c] < 0)
                continue;
            const char *cell = gs_csv_cell(csv, r, c);
            if (!*cell)
                continue; /* empty cell: not given */
            if (gs_record_parse(rec, col_field[c], cell, &eb)) {
                if (++errors <= MAX_ERRORS_SHOWN)
                    fprintf(stderr, "gridnode: %s: row %zu, column %zu \"%s\": %s\n", file, row,
                            c + 1, gs_csv_header(csv, c), eb.msg);
                bad = true;
            }
        }
        if (!bad) {
            gs_record *old = NULL;
            bool exists = gs_record_key(rec) &&
                          node_store_get(s, rt, gs_record_key(rec), &old, NULL) == GS_OK;
            gs_record_destroy(&old);
            int erc = exists ? node_entry_update(s, rec, NULL, &eb)
                             : node_entry_create(s, rec, NULL, &eb);
            if (erc) {
                if (++errors <= MAX_ERRORS_SHOWN)
                    fprintf(stderr, "gridnode: %s: row %zu: %s\n", file, row, eb.msg);
            } else if (exists) {
                updated++;
            } else {
                created++;
            }
        }
        gs_record_destroy(&rec);
        if (tty && (r + 1) % 2000 == 0)
            fprintf(stderr, "\r导入 importing %zu/%zu rows ...", r + 1, nrows);
    }
    if (tty && nrows >= 2000)
        fputs("\r\033[K", stderr);
    if (errors > MAX_ERRORS_SHOWN)
        fprintf(stderr, "gridnode: ... and %d more errors\n", errors - MAX_ERRORS_SHOWN);
    int exit_code = NODE_EXIT_OK;
    if (errors || dry) {
        node_store_rollback(s);
        if (errors)
            exit_code = node_fail("import: %s: %d error(s); nothing was imported", file, errors);
        else
            printf("dry run: %zu rows of %s (%s) are valid: %zu new, %zu updates; nothing was "
                   "saved\n",
                   nrows, file, encoding_name(gs_csv_encoding_of(csv)), created, updated);
    } else if (node_store_commit(s, &eb)) {
        exit_code = node_fail("import: %s; nothing was imported", eb.msg);
    } else {
        printf("imported %zu %s from %s (%s): %zu new, %zu updated\n", created + updated,
               rt->plural, file, encoding_name(gs_csv_encoding_of(csv)), created, updated);
    }
    node_store_close(&s);
    free(col_field);
    gs_csv_destroy(&csv);
    return exit_code;
}

/* ---- export and template -------------------------------------------------- */

static const char export_help[] =
    "usage: gridnode export TYPE [--format csv|json] [--zh] [--bom] [--db PATH]\n"
    "\n"
    "Writes every TYPE record to standard output. CSV (the default) has the columns of\n"
    "`gridnode template TYPE` and can be edited and imported back; --zh writes Chinese\n"
    "headers, --bom starts the file with a UTF-8 byte-order mark so that Excel opens it\n"
    "with the right encoding. JSON is an array of objects with the English field names.\n";

static const char template_help[] =
    "usage: gridnode template TYPE [--zh] [--bom]\n"
    "\n"
    "Prints the CSV header row of TYPE: English names, or Chinese labels with --zh.\n";

/* Parses TYPE and the flags shared by export and template. */
static int csv_args(node_cli *cli, const char *cmd, const gs_rectype **rt, bool *zh, bool *bom,
                    bool *json, bool allow_format)
{
    const char *type = NULL;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (!strcmp(a, "--zh"))
            *zh = true;
        else if (!strcmp(a, "--bom"))
            *bom = true;
        else if (allow_format && !strcmp(a, "--format") && i + 1 < cli->argc) {
            const char *f = cli->argv[++i];
            if (!strcmp(f, "json"))
                *json = true;
            else if (strcmp(f, "csv"))
                return node_usage("%s: --format is csv or json, not \"%s\"", cmd, f);
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

int node_cmd_template(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        fputs(template_help, stdout);
        return NODE_EXIT_OK;
    }
    const gs_rectype *rt = NULL;
    bool zh = false, bom = false, json = false;
    int rc = csv_args(cli, "template", &rt, &zh, &bom, &json, false);
    if (rc)
        return rc;
    gs_buf b = GS_BUF_INIT;
    if (bom)
        gs_buf_puts(&b, "\xEF\xBB\xBF");
    gs_schema_csv_header(rt, zh, &b);
    fwrite(b.data, 1, b.len, stdout);
    gs_buf_free(&b);
    return NODE_EXIT_OK;
}

int node_cmd_export(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        fputs(export_help, stdout);
        return NODE_EXIT_OK;
    }
    const gs_rectype *rt = NULL;
    bool zh = false, bom = false, json = cli->json;
    int rc = csv_args(cli, "export", &rt, &zh, &bom, &json, true);
    if (rc)
        return rc;
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    gs_buf sql = GS_BUF_INIT, out = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    gs_buf_printf(&sql, " FROM %s WHERE _deleted = 0 ORDER BY %s", rt->plural,
                  rt->fields[rt->key].name);
    sqlite3_stmt *st;
    if (sql.err || sqlite3_prepare_v2(node_store_db(s), sql.data, -1, &st, NULL) != SQLITE_OK) {
        rc = node_fail("export: %s", sqlite3_errmsg(node_store_db(s)));
        gs_buf_free(&sql);
        node_store_close(&s);
        return rc;
    }
    if (json)
        gs_buf_putc(&out, '[');
    else {
        if (bom)
            gs_buf_puts(&out, "\xEF\xBB\xBF");
        gs_schema_csv_header(rt, zh, &out);
    }
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        gs_record *r = NULL;
        if (gs_replica_row(st, 0, rt, &r))
            break;
        if (json) {
            if (n)
                gs_buf_putc(&out, ',');
            gs_buf_puts(&out, "\n ");
            gs_record_json(r, &out);
        } else {
            gs_record_csv(r, &out);
        }
        gs_record_destroy(&r);
        n++;
        if (out.len > (1u << 20)) { /* stream large exports */
            fwrite(out.data, 1, out.len, stdout);
            gs_buf_reset(&out);
        }
    }
    sqlite3_finalize(st);
    if (json)
        gs_buf_puts(&out, "\n]\n");
    fwrite(out.data, 1, out.len, stdout);
    rc = out.err ? node_fail("export: %s", gs_strerror(out.err)) : NODE_EXIT_OK;
    gs_buf_free(&sql);
    gs_buf_free(&out);
    node_store_close(&s);
    return rc;
}
