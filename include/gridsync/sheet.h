/*
 * gridsync/sheet.h: the one output model of reports and record lists.
 *
 * A sheet is a definition, its columns (gs_col: key, Chinese and English
 * headers, type, unit, roll-up rule, where it is shown), plus rows of text
 * cells that a query fills. A document (gs_doc) holds several named sheets
 * (the sections of a report), notes, a heading for the terminal and the
 * leading keys of its JSON form. Renderers turn a document or a sheet into:
 *
 *   - an aligned terminal table (Chinese text two columns wide),
 *   - CSV for Excel (CRLF, optional UTF-8 BOM, text cells that would start a
 *     formula written behind a "'"),
 *   - JSON through jansson (keys in column order, numbers as numbers),
 *   - XLSX through libxlsxwriter (a worksheet per sheet, a frozen header row,
 *     codes as text, numbers as numbers, dates as dates), and
 *   - an HTML <table> fragment with every text escaped.
 *
 * Cells: NULL is a missing value: "-" in a terminal and in HTML, an empty CSV
 * field or XLSX cell, JSON null. An INT or DEC cell is a number as JSON
 * writes it ("12", "97.2"); a BOOL cell "是" or "否"; a JSON cell JSON text
 * (JSON only). Cells are copied in and owned by the sheet.
 *
 * Errors are sticky, as gs_buf's: a failed allocation or a row with more or
 * fewer cells than columns marks the sheet failed (gs_doc_failed), and every
 * later cell is a no-op; check once before rendering. Nothing here asserts on
 * cell contents.
 */
#ifndef GRIDSYNC_SHEET_H
#define GRIDSYNC_SHEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"

/* What a column holds, which decides how each renderer writes it. */
typedef enum gs_ctype {
    GS_CT_TEXT,     /* free text */
    GS_CT_CODE,     /* a code or an id: text, never a number (leading zeros, 12 digits) */
    GS_CT_INT,      /* an integer */
    GS_CT_DEC,      /* a decimal ("97.2"); a percentage has the unit "%" */
    GS_CT_BOOL,     /* "是" or "否"; JSON true or false */
    GS_CT_DATE,     /* YYYY-MM-DD */
    GS_CT_DATETIME, /* YYYY-MM-DDTHH:MM:SS+08:00, China time */
    GS_CT_JSON,     /* JSON text, for the JSON form only */
} gs_ctype;

/* How a total row gets a column's value from the rows above it. */
typedef enum gs_rollup {
    GS_ROLL_NONE,  /* not rolled up (a label, a code, a date) */
    GS_ROLL_SUM,   /* the sum of the rows (gs_sheet_check_sums checks it) */
    GS_ROLL_RATIO, /* recomputed from pooled parts, never summed (a percentage) */
    GS_ROLL_MEDIAN /* recomputed from the pooled values (a median) */
} gs_rollup;

/* Where a column is left out. */
enum { GS_COL_NOTABLE = 1, GS_COL_NOCSV = 2, GS_COL_NOJSON = 4 };

struct gs_field;

/* One column of a sheet definition; tables of these are static data. */
typedef struct gs_col {
    const char *key;  /* JSON key and the English half of the CSV/XLSX header */
    const char *zh;   /* Chinese header (the terminal's, and first in CSV/XLSX) */
    gs_ctype type;
    unsigned flags;   /* GS_COL_* */
    int part;         /* terminal part it is shown in (1..), 0: every part */
    const char *unit; /* "%", "天", "小时", "秒", or NULL */
    gs_rollup rollup;
    const char *en;   /* English header when it is not the key, or NULL */
    /* The record field whose canonical values the cells hold (a record
     * sheet, gs_sheet_for_type), or NULL. CSV and JSON write the canonical
     * value; the terminal, HTML and XLSX show what gs_col_shown makes of
     * it: an enumeration's Chinese label, a boolean's 是 or 否. */
    const struct gs_field *field;
} gs_col;

/* The text a person reads for cell v of column k: v itself, or for a
 * record field's enumeration its Chinese label and for a boolean ("1",
 * "0") 是 or 否. v NULL: NULL. */
const char *gs_col_shown(const gs_col *k, const char *v);

typedef struct gs_sheet gs_sheet;
typedef struct gs_doc gs_doc;

/* ---- sheets ---------------------------------------------------------------------------------- */

/* A sheet with these columns (the array is not copied: static data). key is
 * its JSON key, title its heading (both not copied either). NULL when out of
 * memory. */
gs_sheet *gs_sheet_new(const char *key, const char *title, const gs_col *cols, size_t ncols);
/* As gs_sheet_new, but the sheet owns cols (malloc'd, freed with it): for
 * columns made at run time (gs_sheet_for_type). cols is freed when the
 * sheet cannot be made. */
gs_sheet *gs_sheet_new_owning(const char *key, const char *title, gs_col *cols, size_t ncols);
/* NULL-safe; frees the attached total too and nulls *sp. */
void gs_sheet_destroy(gs_sheet **sp);

/* The terminal shows the sheet as n tables, one per part (column part 1..n,
 * each with the part-0 columns), titled "title: parts[i]". Not copied. */
void gs_sheet_set_parts(gs_sheet *s, const char *const *parts, int n);
/* The last row is the total (JSON "total", not in "rows"). */
void gs_sheet_set_total_last(gs_sheet *s);
/* Leaves the sheet out of the CSV form (it is in every other form). */
void gs_sheet_set_nocsv(gs_sheet *s);
/* Attaches a one-row total with columns of its own ("合计 total"): its JSON
 * is the sheet's "total", the terminal prints it below, CSV leaves it out,
 * XLSX gives it a worksheet. Owned by s; NULL when out of memory. */
gs_sheet *gs_sheet_attach_total(gs_sheet *s, const gs_col *cols, size_t ncols);
/* How the CSV header row names a column. */
typedef enum gs_head {
    GS_HEAD_BOTH, /* "中文 key" (the default, the reports') */
    GS_HEAD_KEY,  /* "key": the English names `gridnode import` reads */
    GS_HEAD_ZH    /* "中文" alone */
} gs_head;
void gs_sheet_set_csv_head(gs_sheet *s, gs_head h);
/* A missing cell is left out of the row's JSON object instead of being
 * null (a record's JSON names only the fields it has). */
void gs_sheet_set_sparse(gs_sheet *s);
/* Marks the sheet failed (a caller's allocation failed while making a cell). */
void gs_sheet_fail(gs_sheet *s);

const char *gs_sheet_key(const gs_sheet *s);
const char *gs_sheet_title(const gs_sheet *s);
size_t gs_sheet_ncols(const gs_sheet *s);
const gs_col *gs_sheet_col(const gs_sheet *s, size_t c);
size_t gs_sheet_nrows(const gs_sheet *s);
/* The cell at row r, column c (NULL: missing, or out of range). */
const char *gs_sheet_cell(const gs_sheet *s, size_t r, size_t c);
const gs_sheet *gs_sheet_total(const gs_sheet *s);
bool gs_sheet_failed(const gs_sheet *s);

/* Checks the roll-up rule of a sheet whose last row is its total: every
 * GS_ROLL_SUM column of the total is the sum of the rows above (missing
 * cells count 0). True when they all are; else *bad_col (may be NULL) is the
 * first column that is not. */
bool gs_sheet_check_sums(const gs_sheet *s, size_t *bad_col);

/* ---- rows: filled cell by cell from the left ------------------------------------------------- */

typedef struct gs_row {
    gs_sheet *s;
    char **cells;
    size_t i;
} gs_row;

/* Starts a row (every cell missing until set). */
gs_row gs_sheet_row(gs_sheet *s);
void gs_row_text(gs_row *r, const char *v); /* copied; NULL: missing */
void gs_row_own(gs_row *r, char *v);        /* takes ownership of v (malloc'd) */
void gs_row_null(gs_row *r);
void gs_row_int(gs_row *r, int64_t v);
void gs_row_bool(gs_row *r, bool v);
void gs_row_fmt(gs_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* num/den as a percentage with one decimal, rounded half up in integer
 * arithmetic; missing when den <= 0 or num < 0. */
void gs_row_pct(gs_row *r, int64_t num, int64_t den);
/* Ends a row: a row with fewer cells than columns fails the sheet. */
void gs_row_end(gs_row *r);

/* ---- record sheets (sheet_record.c) ---------------------------------------------------------- */

struct gs_rectype;
struct gs_record;

/* The sheet of a record type, its columns generated from the field table:
 * a column per field, headed by its Chinese label and English name; ids,
 * codes and slugs as codes, integers as numbers, booleans, dates and
 * date-times as such, enumerations as their canonical value (shown in
 * Chinese, gs_col_shown). The CSV form is that of `gridnode export`: the
 * fields that are not computed, headed by their English names (zh: their
 * Chinese labels), each cell as gs_record_csv writes it; the JSON form a
 * row as gs_record_json; the terminal shows the id, the required fields
 * and the findings and status. Keyed by the type's plural, titled
 * "网格事件 incidents". NULL when out of memory. */
gs_sheet *gs_sheet_for_type(const struct gs_rectype *rt, bool zh);
/* Adds rec (of the sheet's type) as a row: each field's canonical text,
 * missing when it has none. GS_OK or GS_ENOMEM (the sheet is failed). */
int gs_sheet_add_record(gs_sheet *s, const struct gs_record *rec);

/* ---- documents ------------------------------------------------------------------------------- */

/* An empty document. NULL when out of memory. */
gs_doc *gs_doc_new(void);
void gs_doc_destroy(gs_doc **dp);
/* Adds a new sheet (owned by the document); NULL when out of memory. */
gs_sheet *gs_doc_add(gs_doc *d, const char *key, const char *title, const gs_col *cols,
                     size_t ncols);
/* Moves *sp into the document (*sp nulled); on failure it is destroyed
 * and the document failed. NULL-safe. */
void gs_doc_take(gs_doc *d, gs_sheet **sp);
size_t gs_doc_nsheets(const gs_doc *d);
gs_sheet *gs_doc_sheet(const gs_doc *d, size_t i);
/* The first line of the terminal form (copied). */
void gs_doc_set_heading(gs_doc *d, const char *heading);
/* Adds a note a reader must know about the figures: a line "注意 note: ..."
 * under the heading, and an entry of the JSON "notes". At most 8. */
void gs_doc_note(gs_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The JSON object whose keys lead the JSON form, before "notes" and the
 * sheets (borrowed: set keys on it in the order they are to appear). */
json_t *gs_doc_meta(gs_doc *d);
/* True when any sheet failed or memory ran out. */
bool gs_doc_failed(const gs_doc *d);

/* ---- renderers ------------------------------------------------------------------------------- */

/* The terminal form: the heading, the notes, a blank line, then each sheet
 * (and its attached total) as "== title ==" and an aligned table. */
void gs_doc_print(const gs_doc *d, FILE *f);
void gs_sheet_print(const gs_sheet *s, FILE *f);

/* The CSV form: a UTF-8 BOM first when bom; every sheet not left out of CSV,
 * each under its title (a one-field line) when there are several, separated
 * by an empty line; the header "中文 key"; CRLF line ends. */
void gs_doc_csv(const gs_doc *d, bool bom, gs_buf *b);
void gs_sheet_csv(const gs_sheet *s, gs_buf *b);

/* The JSON form, built with jansson, laid out one key of the document and
 * one row a line:
 *   {\n  "meta key": value,\n  ...,\n  "notes": [...],\n  "sheet key": {\n
 *   "rows": [\n      {row},\n      {row}\n    ],\n    "total": {row}\n  }\n}\n
 * GS_OK, GS_ENOMEM, or GS_EINVAL when a JSON cell does not parse. */
int gs_doc_json(const gs_doc *d, gs_buf *b);
/* The rows of a sheet as a JSON array, each row compact
 * ({"key":value,...}): on one line "[{...},{...}]\n", or one_a_line
 * "[\n {...},\n {...}\n]\n" (the forms of `TYPE list` and of `gridnode
 * export`). GS_OK, GS_ENOMEM, or GS_EINVAL when a JSON cell does not
 * parse. */
int gs_sheet_json_rows(const gs_sheet *s, bool one_a_line, gs_buf *b);
/* One row as a JSON object (new reference), NULL when out of memory or a
 * JSON cell does not parse. */
json_t *gs_sheet_row_json(const gs_sheet *s, size_t r);

/* The XLSX form, written to path: a worksheet per sheet (named after its
 * title's first word, and "… 合计" for an attached total), the header row
 * "中文 key" frozen, codes and text as strings, INT and DEC cells as numbers
 * shown with their decimals, dates and times as dates, widths that fit the
 * Chinese text. GS_OK, or GS_EIO / GS_ENOMEM with a message in eb. */
int gs_doc_xlsx(const gs_doc *d, const char *path, gs_errbuf *eb);

/* An HTML fragment: <table class="gs-sheet"> with a <caption>, a <thead>
 * of the Chinese headers (English in the title attribute), the rows in
 * <tbody> (numbers in <td class="num">, "-" for a missing value) and the
 * total, if any, in <tfoot>. Every text is escaped. */
void gs_sheet_html(const gs_sheet *s, gs_buf *b);
/* Every sheet of the document as gs_sheet_html, after the notes in <p>s. */
void gs_doc_html(const gs_doc *d, gs_buf *b);

#endif
