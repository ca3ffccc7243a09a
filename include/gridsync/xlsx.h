/*
 * gridsync/xlsx.h: the XLSX (Excel workbook) reader behind the node's
 * import, and the import template written as a workbook.
 *
 * Village office staff keep their ledgers in Excel. gs_xlsx_open reads the
 * first worksheet of a .xlsx file into the same table a CSV file gives
 * (gridsync/csv.h, encoding GS_CSV_XLSX), so that import has one loop, one
 * blank-row rule, one identity rule and one set of messages for both.
 *
 * What the reader guarantees, beyond what csv.h guarantees of every table:
 *  - the sheet is the first <sheet> of xl/workbook.xml, found through
 *    xl/_rels/workbook.xml.rels; gs_csv_sheet gives its name;
 *  - gs_csv_line(r) is the row's number in the sheet (as Excel shows it);
 *    rows with no text are skipped and cost nothing;
 *  - a cell's text is: a shared string (xl/sharedStrings.xml) or an inline
 *    string as written (rich-text runs joined, phonetic runs left out); a
 *    formula's cached result; TRUE or FALSE for a boolean; a number as
 *    stored, except that one in scientific notation that is a whole number
 *    below 10^15 is written out in digits (a 15-digit grid code stays
 *    whole); a number whose cell format (xl/styles.xml) is a date is
 *    2026-03-08, a date and time 2026-03-08T09:30:00+08:00 (China time, as
 *    gs_record_parse reads it); a cell of only spaces is "";
 *  - a cell holding an Excel error (#N/A, #DIV/0! ...) is refused.
 *
 * Hostile files are refused with one line and bounded memory: the parts are
 * streamed through expat, never unpacked whole; a part that unpacks (or
 * says it unpacks) to more than GS_XLSX_MAX_PART bytes, the parts together
 * to more than GS_XLSX_MAX_TOTAL, or a part over 1 MiB packed more than
 * GS_XLSX_MAX_RATIO to 1 is a zip bomb; a shared-string table claiming or
 * holding more than GS_XLSX_MAX_STRINGS strings is refused before anything
 * is allocated from the claim; a row past GS_XLSX_MAX_ROWS or a cell past
 * column XFD is refused; so is any DOCTYPE (no entity can expand), bytes
 * that are not well-formed XML in its encoding, and a missing part.
 *
 * Messages start with the file's name and say where:
 *   "事件.xlsx: sheet \"网格事件\", cell C5: the cell holds the Excel error #N/A"
 *   "事件.xlsx: xl/sharedStrings.xml: line 2: not well-formed (invalid token)"
 *   "bomb.xlsx: xl/worksheets/sheet1.xml unpacks to more than 64 MiB ..."
 *
 * gs_xlsx_template writes the import template of a record type as a
 * workbook (see its comment).
 */
#ifndef GS_XLSX_H
#define GS_XLSX_H

#include <stdbool.h>
#include <stddef.h>

#include "gridsync/csv.h"
#include "gridsync/err.h"
#include "gridsync/schema.h"

/* Limits; going over any of them is GS_ETOOBIG. */
#define GS_XLSX_MAX_FILE    ((size_t)64 << 20)  /* the .xlsx file as stored */
#define GS_XLSX_MAX_PART    ((size_t)64 << 20)  /* one part, unpacked */
#define GS_XLSX_MAX_TOTAL   ((size_t)128 << 20) /* every part read, unpacked */
#define GS_XLSX_MAX_RATIO   1000                /* unpacked : packed, parts over 1 MiB */
#define GS_XLSX_MAX_STRINGS ((size_t)1 << 20)   /* shared strings */
#define GS_XLSX_MAX_TEXT    ((size_t)32 << 20)  /* text of the shared strings; of the cells */
#define GS_XLSX_MAX_CELLS   ((size_t)4 << 20)   /* cells kept, gaps in a row included */
#define GS_XLSX_MAX_ROWS    ((size_t)1048576)   /* Excel's last row */
#define GS_XLSX_MAX_COL     16384               /* column XFD, Excel's last */

/* Reads the first worksheet of the workbook at path. On success *out is a
 * new table (csv.h; free with gs_csv_destroy); on failure *out is untouched
 * and the return is GS_EIO, GS_EINVAL, GS_ETOOBIG or GS_ENOMEM with the
 * message in eb (may be NULL). */
int gs_xlsx_open(gs_csv **out, const char *path, gs_errbuf *eb);

/* The same from len bytes at data (not kept after the call); name is used in
 * messages in place of the path. */
int gs_xlsx_open_mem(gs_csv **out, const char *name, const void *data, size_t len,
                     gs_errbuf *eb);

/* True when the file at path is to be read as a workbook: its name ends in
 * .xlsx (any case) or it starts with a zip archive's magic bytes "PK\3\4". */
bool gs_xlsx_is_workbook(const char *path);

/* Writes the letters of 1-based column col (1 = A, 16384 = XFD) into out. */
void gs_xlsx_col_name(size_t col, char out[8]);

/* The values of the drop-down list of every field that refers to the
 * record type named ref (e.g. the village's grid codes for "grid"). */
typedef struct gs_xlsx_list {
    const char *ref;            /* gs_field.ref it serves */
    const char *const *values;  /* n values, each shown as it is */
    size_t n;
} gs_xlsx_list;

/* Writes the import template of rt to path as a workbook: a first sheet
 * named after the type (its Chinese label) with the Chinese header row of
 * `gridnode template` (frozen), an ordinal column 序号 in front, a
 * drop-down list on every enumeration (its Chinese labels), boolean (是/否)
 * and on every field that refers to one of lists[0..nlists), dates and
 * date-times formatted as such, codes and ids formatted as text, widths
 * that fit the Chinese headers; two example rows marked 示例 in the 序号
 * column, which import skips; a sheet 填写说明 (instructions) and a hidden
 * sheet 选项 holding the lists. GS_EIO with the message in eb when the file
 * cannot be written. */
int gs_xlsx_template(const char *path, const gs_rectype *rt, const gs_xlsx_list *lists,
                     size_t nlists, gs_errbuf *eb);

/* True when an import file (CSV or XLSX) must have a column for field f of
 * rt: a required field with no default that neither the node nor the
 * entry rules fill in. */
bool gs_xlsx_column_required(const gs_rectype *rt, int f);

/* The text of the 序号 cell that marks an example row of the template. */
#define GS_XLSX_EXAMPLE_MARK "示例"

#endif
