/*
 * gridsync/csv.h: the CSV reader behind the node's import.
 *
 * Village office staff fill the import files in Excel, which saves CSV as
 * GB18030/GBK (Chinese Windows default), as UTF-8 with a byte-order mark
 * ("CSV UTF-8"), or, from other tools, as UTF-8 without one. A gs_csv
 * reads the whole file at once, works out which of the three it is,
 * converts it to UTF-8 and keeps every cell in memory, so that the importer
 * can look at the header first and then at any cell in any order.
 *
 * What the reader guarantees:
 *  - every cell and header text is valid UTF-8, NUL-terminated, with no NUL
 *    inside; the byte-order mark is not part of the first header cell;
 *  - row 1 (the first row that is not blank) is the header; data rows are
 *    numbered from 0 and do not include it;
 *  - unquoted fields lose their leading and trailing ASCII spaces and tabs;
 *    quoted fields are kept exactly as written between the quotes (doubled
 *    quotes undone), line breaks inside them included (CRLF stays CRLF);
 *  - line ends may be LF, CRLF or a lone CR;
 *  - blank rows are skipped: empty lines, lines of spaces, and rows whose
 *    cells are all empty (Excel's ",,,,," padding rows);
 *  - rows may be shorter or longer than the header (up to the column limit);
 *    a missing cell reads as "";
 *  - quoting is strict: a quote inside an unquoted field, or text after the
 *    closing quote of a quoted field, is an error (so a stray quote cannot
 *    silently swallow the rest of the file);
 *  - every error message starts with the file's name and says where:
 *    "incidents.csv: line 17: unterminated quoted field", "incidents.csv:
 *    line 9, column 3 (备注): field longer than 65536 bytes",
 *    "incidents.csv: byte offset 1234 (line 9): not UTF-8 and not GB18030".
 *    Line numbers count LF, CRLF and lone CR in the file as written; byte
 *    offsets are 0-based from the start of the file.
 *
 * Decisions a caller should know:
 *  - an empty file (or one with only a byte-order mark or blank lines) is an
 *    error (GS_EINVAL, "...: empty file: no header row"), not a table with
 *    zero columns: there is nothing a caller could import from it;
 *  - a file that starts with a UTF-16 byte-order mark, or holds a NUL byte,
 *    is refused with a message that says so (Excel's "Unicode text" export);
 *  - GBK is read as GB18030, its superset.
 *
 * Cells live in one arena of NUL-terminated strings with offset arrays, not
 * one allocation per cell. A gs_csv is not modified after it is opened;
 * reading it from several threads at once is safe.
 */
#ifndef GS_CSVIN_H
#define GS_CSVIN_H

#include <stdbool.h>
#include <stddef.h>

#include "gridsync/err.h"

/* Limits; going over any of them is GS_ETOOBIG. Sizes are in bytes of the
 * file as stored (file) or of the UTF-8 text (field). */
#define GS_CSV_MAX_FILE  ((size_t)256 << 20)
#define GS_CSV_MAX_FIELD ((size_t)64 << 10)
#define GS_CSV_MAX_COLS  ((size_t)256)

typedef struct gs_csv gs_csv; /* opaque */

/* How the file was encoded; GS_CSV_XLSX: the rows are a workbook's first
 * sheet, read by gridsync/xlsx.h (gs_csv_sheet names it). */
typedef enum { GS_CSV_UTF8, GS_CSV_UTF8_BOM, GS_CSV_GB18030, GS_CSV_XLSX } gs_csv_encoding;

/* Reads and parses the file at path. On success *out is a new gs_csv the
 * caller owns (free with gs_csv_destroy); on failure *out is untouched and
 * the return is GS_EIO (cannot read), GS_ETOOBIG (a limit), GS_EINVAL
 * (undecodable bytes, bad quoting, empty file) or GS_ENOMEM, with the
 * message in eb (may be NULL). Messages name the file by path as given. */
int gs_csv_open(gs_csv **out, const char *path, gs_errbuf *eb);

/* The same from len bytes at data (not kept after the call); name is used in
 * messages in place of the path. */
int gs_csv_open_mem(gs_csv **out, const char *name, const void *data, size_t len,
                      gs_errbuf *eb);

/* Frees *p and sets it to NULL; NULL and *p == NULL are fine. */
void gs_csv_destroy(gs_csv **p);

gs_csv_encoding gs_csv_encoding_of(const gs_csv *c);

/* Number of header columns (at least 1). */
size_t gs_csv_ncols(const gs_csv *c);

/* Header cell text, UTF-8; "" for col >= gs_csv_ncols(). Owned by c. */
const char *gs_csv_header(const gs_csv *c, size_t col);

/* Number of data rows, header excluded. */
size_t gs_csv_nrows(const gs_csv *c);

/* Cell of data row r (0-based, r < gs_csv_nrows()) column col; "" when the
 * row is short. Owned by c, valid until gs_csv_destroy. */
const char *gs_csv_cell(const gs_csv *c, size_t r, size_t col);

/* Number of cells data row r actually has (may differ from the header's). */
size_t gs_csv_row_ncells(const gs_csv *c, size_t r);

/* The 1-based line number in the file where data row r starts (the header's
 * first line counts as it stands in the file, after any blank lines), for
 * error messages; quoted fields may make a row span several lines. */
size_t gs_csv_line(const gs_csv *c, size_t r);

/* The row number of data row r as a spreadsheet shows it: its line in the
 * file, less the line breaks inside quoted cells of the rows before it (a
 * cell spanning lines is one row in Excel). Without such cells it is the
 * line; blank lines count as the empty rows they are in Excel. */
size_t gs_csv_row_number(const gs_csv *c, size_t r);

/* Column col (0-based) as messages name it: "3", and "3 (C)" in a workbook,
 * whose columns a spreadsheet shows by letter. Returns buf. */
const char *gs_csv_col_label(const gs_csv *c, size_t col, char buf[24]);

/* ---- loading records: the one loop of `gridnode import` and `gridhub
 * refdata load` ---- */

struct gs_rectype;
struct gs_record;

/* How gs_csv_load_rows reads a file into records. */
typedef struct gs_csv_load {
    const char *prog; /* "gridnode": each message starts with it */
    const char *file; /* the file as the user named it */
    const struct gs_rectype *rt;
    const int *col_field; /* per header column: its field, or < 0 when not read */
    bool empty_clears;    /* an empty cell sets the field to null (a row is the whole
                             record), rather than leaving it not given */
    bool progress;        /* "导入 importing n/N rows" on stderr every 2,000 rows */
    int max_shown;        /* errors printed at the most; then a count */
    /* Stores one parsed row. On failure eb says why and *bad_field names the
     * field at fault when it is one (else it stays -1). */
    int (*row)(struct gs_record *rec, int *bad_field, void *arg, gs_errbuf *eb);
    void *arg;
    /* When not NULL: true for a data row to pass over unread (a template's
     * marked example rows). */
    bool (*skip)(const gs_csv *csv, size_t r, void *arg);
    /* When not NULL: every error goes here instead of stderr (max_shown and
     * the closing count do not apply): the data row's number as the
     * spreadsheet shows it, the column's label and header (NULL for the row
     * as a whole), and the message. For a page that lists them beside the
     * rows. */
    void (*error)(size_t row, const char *col, const char *header, const char *msg, void *arg);
} gs_csv_load;

/* Parses every data row of csv into a new record of how->rt, cell by cell
 * with the field's own parser (gs_record_parse), and hands each row that
 * parsed to how->row. Every error is printed on stderr as
 *   PROG: FILE: row N, column C "HEADER": what is wrong   (C is "3 (C)" in a workbook)
 *   PROG: FILE: row N: what is wrong          (the row as a whole)
 * with N from gs_csv_row_number (or handed to how->error); a cell with text
 * beyond the header's last column is an error too. Goes on after errors (all are listed before the
 * caller decides) and returns how many there were. */
int gs_csv_load_rows(const gs_csv *csv, const gs_csv_load *how);

/* The line (a sheet's row number) where the header row starts. */
size_t gs_csv_header_line(const gs_csv *c);

/* The name of the sheet the rows came from (GS_CSV_XLSX), NULL for a CSV
 * file. Owned by c. */
const char *gs_csv_sheet(const gs_csv *c);

/* ---- building a table from another reader ---------------------------------
 *
 * Other readers (the XLSX reader, xlsx.h) fill a gs_csv through these, so
 * that importing has one table type, one blank-row rule and one set of
 * limits whatever the file was. Rows are built one at a time: cells are
 * added in column order (a gap reads as ""), then the row is closed with its
 * number in the file; a row whose cells are all "" is dropped without taking
 * any space. Errors are GS_EINVAL (below), GS_ETOOBIG (more than GS_CSV_MAX_COLS cells, a cell
 * over GS_CSV_MAX_FIELD bytes or the text over 4 GiB) or GS_ENOMEM; the
 * caller words the message, as it knows where it is. Text must be valid
 * UTF-8 without NUL (the builder does not check). */

/* A new empty table of encoding enc whose rows come from the sheet named
 * sheet (copied; may be NULL). */
int gs_csv_build_new(gs_csv **out, gs_csv_encoding enc, const char *sheet);
/* Sets cell col (0-based) of the row being built to the len bytes at s;
 * GS_EINVAL when col is left of a cell already set. */
int gs_csv_build_cell(gs_csv *c, size_t col, const char *s, size_t len);
/* Closes the row being built; line is its number in the file (as
 * gs_csv_line returns it). */
int gs_csv_build_row(gs_csv *c, size_t line);
/* Rows kept so far, the header included. */
size_t gs_csv_build_nrows(const gs_csv *c);

#endif
