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
 * Import is all rows or none: one transaction; every row goes through the
 * same entry rules as a typed command (entry.c); every error names the file,
 * the row as Excel numbers it (header = row 1), the column and what was
 * expected, and all errors are listed before anything is decided.
 *
 * Import can be run twice. A row's identity is its id (the key column,
 * English or Chinese header) when it has one: a row whose id exists and
 * whose values differ updates only the fields that differ, through
 * node_entry_update (so the workflow and the rules apply); one whose values
 * are the same appends nothing. A row without an id is known by its
 * fingerprint: BLAKE2b of the type, the village and the canonical values of
 * the row's columns (by field name, so the column order does not matter),
 * and which occurrence of those values in the file it is (so two identical
 * rows of one ledger stay two records). The node remembers fingerprint ->
 * record id (store.h, node-local), and a row whose fingerprint is known is
 * unchanged, whatever was edited in the record since: re-importing a ledger
 * must not undo later work. Ordinal columns (序号, 行号, No., #, and a bare
 * 编号 of row numbers) are recognised and ignored.
 */
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "gridsync/csv.h"
#include "gridsync/xlsx.h"
#include "entry.h"

#define MAX_ERRORS_SHOWN 200
#define COL_ORDINAL (-2) /* col_field value of an ignored ordinal column */

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

static const char *encoding_name(gs_csv_encoding e)
{
    return e == GS_CSV_XLSX        ? "XLSX"
           : e == GS_CSV_GB18030  ? "GB18030/GBK"
           : e == GS_CSV_UTF8_BOM ? "UTF-8 BOM"
                                  : "UTF-8";
}


/* Headers of columns that only number the rows of a ledger. 编号 ("number")
 * is one only when the type has no field of that name and the column holds
 * row numbers; the key columns are named 事件编号, 选举编号 ... or id. */
static bool ordinal_header(const char *h)
{
    static const char *const names[] = {"序号", "行号", "No.", "No", "#", "编号"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(h, names[i]))
            return true;
    return false;
}

/* For a bare 编号 column: the first data row whose cell is not a row number
 * (digits), or nrows when all are. */
static size_t first_non_ordinal(const gs_csv *csv, size_t col)
{
    for (size_t r = 0; r < gs_csv_nrows(csv); r++) {
        const char *v = gs_csv_cell(csv, r, col);
        if (strspn(v, "0123456789") != strlen(v) && strcmp(v, GS_XLSX_EXAMPLE_MARK))
            return r;
    }
    return gs_csv_nrows(csv);
}

/* Maps header columns to fields; -1 for none, COL_ORDINAL for an ordinal
 * column. Reports every bad header. */
static int map_headers(const char *file, const gs_rectype *rt, const gs_csv *csv,
                       size_t hrow, int *col_field)
{
    int errors = 0;
    bool seen[128] = {false};
    char cl[24];
    for (size_t c = 0; c < gs_csv_ncols(csv); c++) {
        const char *h = gs_csv_header(csv, c);
        gs_csv_col_label(csv, c, cl);
        int f = gs_field_find_header(rt, h);
        col_field[c] = f;
        if (f < 0 && ordinal_header(h)) {
            size_t r = strcmp(h, "编号") ? gs_csv_nrows(csv) : first_non_ordinal(csv, c);
            col_field[c] = COL_ORDINAL;
            if (r < gs_csv_nrows(csv)) {
                fprintf(stderr,
                        "gridnode: %s: row %zu, column %s \"%s\": \"%.40s\" 不是行号；若这一列"
                        "是记录的编号，请把表头改为 %s（或 %s），若是行号，请改为 序号 (not a row "
                        "number: name the column %s if it holds the ids of the records, 序号 if "
                        "it numbers the rows)\n",
                        file, gs_csv_row_number(csv, r), cl, h, gs_csv_cell(csv, r, c),
                        rt->fields[rt->key].label_zh, rt->fields[rt->key].name,
                        rt->fields[rt->key].label_zh);
                errors++;
            }
        } else if (f < 0) {
            fprintf(stderr, "gridnode: %s: row %zu, column %s \"%s\": not a column of %s; "
                            "expected the headers of `gridnode template %s`\n",
                    file, hrow, cl, h, rt->plural, rt->plural);
            errors++;
        } else if (rt->fields[f].flags & GS_F_COMPUTED) {
            fprintf(stderr, "gridnode: %s: row %zu, column %s \"%s\": computed by the rules, not "
                            "imported\n",
                    file, hrow, cl, h);
            errors++;
        } else if (seen[f]) {
            fprintf(stderr, "gridnode: %s: row %zu, column %s \"%s\": the column appears twice\n",
                    file, hrow, cl, h);
            errors++;
        } else {
            seen[f] = true;
        }
    }
    for (int f = 0; f < rt->nfields; f++) {
        const gs_field *fd = &rt->fields[f];
        if (gs_xlsx_column_required(rt, f) && !seen[f]) {
            fprintf(stderr, "gridnode: %s: row %zu: the required column %s (%s) is missing\n",
                    file, hrow, fd->label_zh, fd->name);
            errors++;
        }
    }
    return errors;
}

/* ---- row identity --------------------------------------------------------- */

/* How often each content hash has been seen in this file, so that the k-th
 * of several identical rows has its own fingerprint. Open addressing over
 * a power-of-two table at most half full. */
typedef struct seen_rows {
    struct seen_slot {
        uint8_t h[GS_HASH_LEN];
        uint32_t count; /* 0: empty slot */
    } *slots;
    size_t mask;
} seen_rows;

static int seen_init(seen_rows *t, size_t nrows)
{
    size_t cap = 16;
    while (cap < 2 * nrows)
        cap *= 2;
    t->slots = calloc(cap, sizeof *t->slots);
    t->mask = cap - 1;
    return t->slots ? GS_OK : GS_ENOMEM;
}

/* Counts h once more; returns its count so far (1 the first time). */
static uint32_t seen_count(seen_rows *t, const uint8_t h[GS_HASH_LEN])
{
    size_t i;
    memcpy(&i, h, sizeof i); /* the hash is uniform: its first bytes will do */
    for (i &= t->mask; t->slots[i].count; i = (i + 1) & t->mask)
        if (!memcmp(t->slots[i].h, h, GS_HASH_LEN))
            return ++t->slots[i].count;
    memcpy(t->slots[i].h, h, GS_HASH_LEN);
    return t->slots[i].count = 1;
}

/* The fingerprint of a row without an id: BLAKE2b of the type, the village
 * and each given field's name and canonical value in schema order (the key
 * and computed fields excluded), then of that and the row's occurrence. */
static void row_fingerprint(const gs_record *rec, const char *village, seen_rows *seen,
                            uint8_t fp[GS_HASH_LEN])
{
    static const char tag[] = "gridsync import row 1";
    const gs_rectype *rt = rec->rt;
    gs_buf v = GS_BUF_INIT;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, GS_HASH_LEN);
    crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag);
    crypto_generichash_update(&st, (const uint8_t *)rt->name, strlen(rt->name) + 1);
    crypto_generichash_update(&st, (const uint8_t *)village, strlen(village) + 1);
    for (int f = 0; f < rt->nfields; f++) {
        if (f == rt->key || f == rt->scope || (rt->fields[f].flags & GS_F_COMPUTED) ||
            rec->v[f].state != GS_V_SET)
            continue;
        gs_buf_reset(&v);
        gs_record_format(rec, f, &v);
        crypto_generichash_update(&st, (const uint8_t *)rt->fields[f].name,
                                  strlen(rt->fields[f].name) + 1);
        crypto_generichash_update(&st, (const uint8_t *)(v.data ? v.data : ""), v.len + 1);
    }
    gs_buf_free(&v);
    uint8_t content[GS_HASH_LEN];
    crypto_generichash_final(&st, content, GS_HASH_LEN);
    uint32_t k = seen_count(seen, content);
    uint8_t kb[4] = {(uint8_t)(k >> 24), (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k};
    crypto_generichash_init(&st, NULL, 0, GS_HASH_LEN);
    crypto_generichash_update(&st, content, GS_HASH_LEN);
    crypto_generichash_update(&st, kb, sizeof kb);
    crypto_generichash_final(&st, fp, GS_HASH_LEN);
}

/* True when field values a and b are the same (null and unset alike). */
static bool same_value(const gs_value *a, const gs_value *b)
{
    if (a->state != GS_V_SET || b->state != GS_V_SET)
        return (a->state == GS_V_SET) == (b->state == GS_V_SET);
    return a->i == b->i && (a->s == b->s || (a->s && b->s && !strcmp(a->s, b->s)));
}

/* Keeps in row only the key and the fields that differ from old; returns how
 * many fields differ. */
static int keep_changed(gs_record *row, const gs_record *old)
{
    int n = 0;
    for (int f = 0; f < row->rt->nfields; f++) {
        if (f == row->rt->key || row->v[f].state == GS_V_UNSET)
            continue;
        if (same_value(&row->v[f], &old->v[f]))
            gs_record_unset(row, f);
        else
            n++;
    }
    return n;
}

/* What became of an imported row. */
typedef enum { ROW_NEW, ROW_UPDATED, ROW_UNCHANGED } row_fate;

/* Stores one parsed row (see the banner for how its identity is found). */
static int import_row(node_store *s, gs_record *rec, seen_rows *seen, row_fate *fate,
                      gs_errbuf *eb)
{
    const gs_rectype *rt = rec->rt;
    gs_record *old = NULL;
    int rc;
    if (gs_record_key(rec)) {
        if (node_store_get(s, rt, gs_record_key(rec), &old, NULL) != GS_OK) {
            *fate = ROW_NEW;
            return node_entry_create(s, rec, NULL, eb);
        }
        int n = keep_changed(rec, old);
        gs_record_destroy(&old);
        *fate = n ? ROW_UPDATED : ROW_UNCHANGED;
        return n ? node_entry_update(s, rec, NULL, eb) : GS_OK;
    }
    const char *village = gs_record_scope(rec) ? gs_record_scope(rec)
                                               : node_store_identity(s)->village;
    uint8_t fp[GS_HASH_LEN];
    row_fingerprint(rec, village, seen, fp);
    char rid[128];
    rc = node_store_import_find(s, fp, rt, rid, sizeof rid, eb);
    if (rc == GS_OK && node_store_get(s, rt, rid, &old, NULL) == GS_OK) {
        gs_record_destroy(&old);
        *fate = ROW_UNCHANGED;
        return GS_OK;
    }
    if (rc != GS_OK && rc != GS_ENOTFOUND)
        return rc;
    *fate = ROW_NEW; /* never imported here, or its record was deleted since */
    if ((rc = node_entry_create(s, rec, NULL, eb)))
        return rc;
    return node_store_import_remember(s, fp, rt, gs_record_key(rec), eb);
}

/* What the rows of one import share. */
typedef struct import_ctx {
    node_store *s;
    seen_rows *seen;
    size_t count[3]; /* by row_fate */
    size_t examples; /* rows marked 示例 (a template's examples), skipped */
    const int *col_field; /* the header map */
} import_ctx;

/* A template's example row, marked 示例 in its ordinal column, is skipped
 * (gs_csv_load.skip). */
static bool skip_example(const gs_csv *csv, size_t r, void *arg)
{
    import_ctx *c = arg;
    for (size_t k = 0; k < gs_csv_ncols(csv); k++)
        if (c->col_field[k] == COL_ORDINAL && !strcmp(gs_csv_cell(csv, r, k), GS_XLSX_EXAMPLE_MARK)) {
            c->examples++;
            return true;
        }
    return false;
}

/* Stores one row that parsed (gs_csv_load.row). */
static int import_one(gs_record *rec, int *bad_field, void *arg, gs_errbuf *eb)
{
    (void)bad_field;
    import_ctx *c = arg;
    row_fate fate = ROW_NEW;
    int rc = import_row(c->s, rec, c->seen, &fate, eb);
    if (!rc)
        c->count[fate]++;
    return rc;
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
    size_t hrow = gs_csv_sheet(csv) ? gs_csv_header_line(csv) : 1;
    size_t ncols = gs_csv_ncols(csv), nrows = gs_csv_nrows(csv);
    int *col_field = calloc(ncols ? ncols : 1, sizeof *col_field);
    seen_rows seen = {NULL, 0};
    if (!col_field || seen_init(&seen, nrows)) {
        free(col_field);
        free(seen.slots);
        gs_csv_destroy(&csv);
        return node_fail("out of memory");
    }
    int exit_code = NODE_EXIT_OK;
    node_store *s = NULL;
    int errors = map_headers(where, rt, csv, hrow, col_field);
    if (errors) {
        exit_code = node_fail("import: %s: %d error(s) in the header row; nothing was imported",
                              file, errors);
        goto out;
    }
    if (!(s = node_open(cli))) {
        exit_code = NODE_EXIT_ERROR;
        goto out;
    }
    import_ctx ctx = {s, &seen, {0, 0, 0}, 0, col_field};
    int rc = node_store_begin(s, &eb);
    if (rc) {
        errors++;
        fprintf(stderr, "gridnode: import: %s\n", eb.msg);
    } else {
        gs_csv_load how = {"gridnode", where, rt, col_field, false, isatty(STDERR_FILENO),
                           MAX_ERRORS_SHOWN, import_one, &ctx, skip_example};
        errors += gs_csv_load_rows(csv, &how);
    }
    size_t *count = ctx.count, examples = ctx.examples;
    size_t created = count[ROW_NEW], updated = count[ROW_UPDATED];
    size_t unchanged = count[ROW_UNCHANGED];
    char skipped[96] = "";
    if (examples)
        snprintf(skipped, sizeof skipped, "; %zu 示例 example rows skipped", examples);
    if (errors || dry) {
        node_store_rollback(s);
        if (errors)
            exit_code = node_fail("import: %s: %d error(s); nothing was imported", file, errors);
        else
            printf("dry run: %zu rows of %s (%s) are valid: %zu new, %zu updates, %zu "
                   "unchanged%s; nothing was saved\n",
                   nrows - examples, file, encoding_name(gs_csv_encoding_of(csv)), created,
                   updated, unchanged, skipped);
    } else if (node_store_commit(s, &eb)) {
        exit_code = node_fail("import: %s; nothing was imported", eb.msg);
    } else {
        printf("imported %zu %s from %s (%s): %zu new, %zu updated, %zu unchanged%s%s\n",
               created + updated, rt->plural, file, encoding_name(gs_csv_encoding_of(csv)),
               created, updated, unchanged, skipped,
               created + updated || !unchanged
                   ? ""
                   : "; 文件里没有新的内容，什么也没有改 (nothing new in the file; nothing changed)");
    }
out:
    node_store_close(&s);
    free(col_field);
    free(seen.slots);
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

/* The keys of every live TYPE record, for a template's drop-down list: into
 * l (values malloc'd, each and the array; free with free_list). */
static int list_keys(node_store *s, const gs_rectype *ref, gs_xlsx_list *l)
{
    *l = (gs_xlsx_list){ref->name, NULL, 0};
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE _deleted = 0 ORDER BY 1 LIMIT 100000",
             ref->fields[ref->key].name, ref->plural);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(node_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return node_fail("template: %s", sqlite3_errmsg(node_store_db(s)));
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = NODE_EXIT_OK;
    while (rc == NODE_EXIT_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = node_fail("out of memory");
                break;
            }
            v = nv;
        }
        if (!(v[n] = strdup(k ? k : "")))
            rc = node_fail("out of memory");
        else
            n++;
    }
    sqlite3_finalize(st);
    *l = (gs_xlsx_list){ref->name, (const char *const *)v, n};
    return rc;
}

static void free_list(gs_xlsx_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free((char *)l->values[i]);
    free((void *)l->values);
}

/* template TYPE --format xlsx --out FILE: the workbook of gs_xlsx_template,
 * its reference lists read from the node's database. */
static int template_xlsx(node_cli *cli, const gs_rectype *rt, const char *out)
{
    if (!out)
        return node_usage("template: --format xlsx needs --out FILE.xlsx");
    gs_xlsx_list lists[GS_RT__COUNT];
    size_t n = 0;
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    int rc = NODE_EXIT_OK;
    for (int f = 0; f < rt->nfields && rc == NODE_EXIT_OK; f++) {
        const gs_field *fd = &rt->fields[f];
        const gs_rectype *ref = fd->ref ? gs_rectype_find(fd->ref) : NULL;
        if (!ref || ref->id == GS_RT_DIVISION || (fd->flags & GS_F_KEY))
            continue;
        rc = list_keys(s, ref, &lists[n]);
        n++;
    }
    node_store_close(&s);
    gs_errbuf eb = {{0}};
    if (rc == NODE_EXIT_OK && gs_xlsx_template(out, rt, lists, n, &eb))
        rc = node_fail("template: %s", eb.msg);
    else if (rc == NODE_EXIT_OK)
        printf("wrote %s: the %s template (%s)\n", out, rt->plural, rt->label_zh);
    for (size_t i = 0; i < n; i++)
        free_list(&lists[i]);
    return rc;
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
