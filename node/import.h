/*
 * node/import.h: importing a CSV file or an Excel workbook as records, one
 * function for both doors: `gridnode import` prints what it returns, the
 * 导入导出 page of `gridnode web` shows it (errors by row and column, what is
 * new, changed, unchanged) and asks to confirm.
 *
 * The rules (see cmd_csv.c's banner before this moved here): all rows or
 * none, in one transaction; every row through the entry rules (entry.c); a
 * row's identity is its id, else its fingerprint, so that importing a file
 * again adds nothing; ordinal columns (序号 ...) are ignored and a template's
 * example rows (示例) skipped; every error is listed before anything is
 * decided.
 */
#ifndef NODE_IMPORT_H
#define NODE_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "gridsync/csv.h"
#include "gridsync/record.h"
#include "store.h"

/* One error: the row as the spreadsheet numbers it (the header row for a
 * header error), the column's label ("3", "3 (C)" in a workbook; NULL for
 * the row as a whole), its header text (NULL when none) and the message.
 * The strings live until the callback returns. */
typedef struct node_import_error {
    size_t row;
    const char *col, *header, *msg;
} node_import_error;

typedef void (*node_import_error_fn)(const node_import_error *e, void *arg);

/* What an import found or did. */
typedef struct node_import_result {
    const gs_rectype *rt;
    gs_csv_encoding encoding;
    size_t rows;      /* data rows, example rows excluded */
    size_t examples;  /* rows marked 示例, skipped */
    size_t created, updated, unchanged;
    int errors;       /* header errors, or row errors; 0 when the rows are good */
    bool header_bad;  /* the errors are the header's: no row was read */
    bool saved;       /* committed (not a dry run, no error) */
} node_import_result;

/* How one import runs. */
typedef struct node_import_opts {
    const char *where;      /* the file (and sheet) as messages name it */
    bool commit;            /* false: a dry run; everything checked, nothing saved */
    bool progress;          /* the core's progress line on stderr */
    node_import_error_fn error; /* every error (may be NULL: counted only) */
    void *arg;
} node_import_opts;

/* Reads the len bytes at data as a workbook when name ends in .xlsx or the
 * bytes start as a zip archive does, else as CSV (UTF-8 or GB18030). *out
 * is the caller's (gs_csv_destroy); the message in eb names name. */
int node_import_read(gs_csv **out, const char *name, const void *data, size_t len,
                     gs_errbuf *eb);

/* Checks the header row of csv for rt (no store needed): every error goes
 * to o->error; res->errors and res->header_bad are set when there are any.
 * Then, when s is not NULL and the header is good, imports every row in one
 * transaction on s, committed only when o->commit and no row failed.
 * GS_OK when the import ran (res says how it went, errors included), or an
 * error of the store or of memory with the message in eb. */
int node_import_run(node_store *s, const gs_rectype *rt, const gs_csv *csv,
                    const node_import_opts *o, node_import_result *res, gs_errbuf *eb);

/* Writes the import template of rt as a workbook to path (gs_xlsx_template):
 * its drop-down lists of references hold the keys of this node's grids,
 * categories, elections and councils. GS_OK, or the error with eb. */
int node_import_template(node_store *s, const gs_rectype *rt, const char *path, gs_errbuf *eb);

/* Keeps in row only the key and the fields whose value differs from old's
 * (an edit that records only what changed); returns how many differ. */
int node_keep_changed(gs_record *row, const gs_record *old);

/* The name of a table's encoding for people: "UTF-8", "GB18030/GBK", "XLSX". */
const char *node_import_encoding_name(gs_csv_encoding e);

#endif
