/*
 * sheet.c: the sheet model (sheet.h) and its text renderers: the terminal
 * table, CSV, JSON (jansson) and the HTML fragment. The XLSX renderer is in
 * sheet_xlsx.c.
 *
 * Invariants: a sheet's cells are (nrows x ncols) owned strings or NULL; a
 * failed sheet (err) takes no more cells. Every renderer reads the same
 * cells, so the formats cannot disagree; each only decides how a cell of a
 * column type is written and which columns it leaves out.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/record.h"
#include "gridsync/schema.h"
#include "gridsync/http.h"
#include "gridsync/sheet.h"
#include "gridsync/table.h"

struct gs_sheet {
    const char *key, *title;
    const gs_col *cols;
    gs_col *own_cols; /* cols when the sheet owns them, else NULL */
    size_t ncols;
    char **cells;
    size_t nrows, cap;
    bool total_last, no_csv, sparse;
    gs_head head;
    gs_sheet *total;
    const char *const *parts;
    int nparts;
    int err;
};

#define DOC_MAX_SHEETS 16
#define DOC_MAX_NOTES  8

struct gs_doc {
    gs_sheet *sheets[DOC_MAX_SHEETS];
    size_t n;
    char *notes[DOC_MAX_NOTES];
    size_t nnotes;
    char *heading;
    json_t *meta;
    int err;
};

/* ---- sheets ---------------------------------------------------------------------------------- */

gs_sheet *gs_sheet_new(const char *key, const char *title, const gs_col *cols, size_t ncols)
{
    gs_sheet *s = calloc(1, sizeof *s);
    if (s) {
        s->key = key;
        s->title = title;
        s->cols = cols;
        s->ncols = ncols;
    }
    return s;
}

gs_sheet *gs_sheet_new_owning(const char *key, const char *title, gs_col *cols, size_t ncols)
{
    gs_sheet *s = cols ? gs_sheet_new(key, title, cols, ncols) : NULL;
    if (s)
        s->own_cols = cols;
    else
        free(cols);
    return s;
}

void gs_sheet_destroy(gs_sheet **sp)
{
    if (!sp || !*sp)
        return;
    gs_sheet *s = *sp;
    free(s->own_cols);
    for (size_t i = 0; i < s->nrows * s->ncols; i++)
        free(s->cells[i]);
    free(s->cells);
    gs_sheet_destroy(&s->total);
    free(s);
    *sp = NULL;
}

void gs_sheet_set_parts(gs_sheet *s, const char *const *parts, int n)
{
    s->parts = parts;
    s->nparts = n;
}

void gs_sheet_set_total_last(gs_sheet *s)
{
    s->total_last = true;
}

void gs_sheet_set_nocsv(gs_sheet *s)
{
    s->no_csv = true;
}

gs_sheet *gs_sheet_attach_total(gs_sheet *s, const gs_col *cols, size_t ncols)
{
    if (!s)
        return NULL;
    gs_sheet_destroy(&s->total);
    s->total = gs_sheet_new("total", "合计 total", cols, ncols);
    return s->total;
}

void gs_sheet_set_csv_head(gs_sheet *s, gs_head h)
{
    s->head = h;
}

void gs_sheet_set_sparse(gs_sheet *s)
{
    s->sparse = true;
}

const char *gs_col_shown(const gs_col *k, const char *v)
{
    if (!v || !k->field)
        return v;
    if (k->field->type == GS_FT_ENUM)
        return gs_enum_zh(k->field, v);
    if (k->field->type == GS_FT_BOOL)
        return strcmp(v, "0") ? "是" : "否";
    return v;
}

void gs_sheet_fail(gs_sheet *s)
{
    s->err = 1;
}

const char *gs_sheet_key(const gs_sheet *s) { return s->key; }
const char *gs_sheet_title(const gs_sheet *s) { return s->title; }
size_t gs_sheet_ncols(const gs_sheet *s) { return s->ncols; }
size_t gs_sheet_nrows(const gs_sheet *s) { return s->nrows; }
const gs_sheet *gs_sheet_total(const gs_sheet *s) { return s->total; }

const gs_col *gs_sheet_col(const gs_sheet *s, size_t c)
{
    return c < s->ncols ? &s->cols[c] : NULL;
}

const char *gs_sheet_cell(const gs_sheet *s, size_t r, size_t c)
{
    return r < s->nrows && c < s->ncols ? s->cells[r * s->ncols + c] : NULL;
}

bool gs_sheet_failed(const gs_sheet *s)
{
    return !s || s->err || (s->total && s->total->err);
}

bool gs_sheet_check_sums(const gs_sheet *s, size_t *bad_col)
{
    if (s->nrows == 0)
        return true;
    for (size_t c = 0; c < s->ncols; c++) {
        if (s->cols[c].rollup != GS_ROLL_SUM)
            continue;
        int64_t sum = 0;
        for (size_t r = 0; r + 1 < s->nrows; r++) {
            const char *v = s->cells[r * s->ncols + c];
            sum += v ? strtoll(v, NULL, 10) : 0;
        }
        const char *t = s->cells[(s->nrows - 1) * s->ncols + c];
        if ((t ? strtoll(t, NULL, 10) : 0) != sum) {
            if (bad_col)
                *bad_col = c;
            return false;
        }
    }
    return true;
}

/* ---- rows ------------------------------------------------------------------------------------ */

gs_row gs_sheet_row(gs_sheet *s)
{
    gs_row r = {s, NULL, 0};
    if (s->err)
        return r;
    if (s->nrows == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **p = realloc(s->cells, cap * s->ncols * sizeof *p);
        if (!p) {
            s->err = 1;
            return r;
        }
        s->cells = p;
        s->cap = cap;
    }
    r.cells = s->cells + s->nrows * s->ncols;
    for (size_t i = 0; i < s->ncols; i++)
        r.cells[i] = NULL;
    s->nrows++;
    return r;
}

void gs_row_own(gs_row *r, char *v)
{
    if (!r->cells || r->i >= r->s->ncols) {
        free(v);
        if (r->cells)
            r->s->err = 1; /* more cells than columns: a programming error, reported */
        return;
    }
    r->cells[r->i++] = v;
}

void gs_row_text(gs_row *r, const char *v)
{
    char *d = v ? strdup(v) : NULL;
    if (v && !d)
        r->s->err = 1;
    gs_row_own(r, d);
}

void gs_row_null(gs_row *r)
{
    gs_row_own(r, NULL);
}

void gs_row_fmt(gs_row *r, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    gs_row_text(r, tmp);
}

void gs_row_int(gs_row *r, int64_t v)
{
    gs_row_fmt(r, "%" PRId64, v);
}

void gs_row_bool(gs_row *r, bool v)
{
    gs_row_text(r, v ? "是" : "否");
}

void gs_row_pct(gs_row *r, int64_t num, int64_t den)
{
    if (den <= 0 || num < 0) {
        gs_row_null(r);
        return;
    }
    int64_t tenths = (2000 * num + den) / (2 * den);
    gs_row_fmt(r, "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
}

void gs_row_end(gs_row *r)
{
    if (r->cells && r->i != r->s->ncols)
        r->s->err = 1;
}

/* ---- documents ------------------------------------------------------------------------------- */

gs_doc *gs_doc_new(void)
{
    gs_doc *d = calloc(1, sizeof *d);
    if (d && !(d->meta = json_object())) {
        free(d);
        return NULL;
    }
    return d;
}

void gs_doc_destroy(gs_doc **dp)
{
    if (!dp || !*dp)
        return;
    gs_doc *d = *dp;
    for (size_t i = 0; i < d->n; i++)
        gs_sheet_destroy(&d->sheets[i]);
    for (size_t i = 0; i < d->nnotes; i++)
        free(d->notes[i]);
    free(d->heading);
    json_decref(d->meta);
    free(d);
    *dp = NULL;
}

gs_sheet *gs_doc_add(gs_doc *d, const char *key, const char *title, const gs_col *cols,
                     size_t ncols)
{
    gs_sheet *s = d->n < DOC_MAX_SHEETS ? gs_sheet_new(key, title, cols, ncols) : NULL;
    if (s)
        d->sheets[d->n++] = s;
    else
        d->err = 1;
    return s;
}

void gs_doc_take(gs_doc *d, gs_sheet **sp)
{
    if (!sp || !*sp)
        return;
    if (d->n < DOC_MAX_SHEETS)
        d->sheets[d->n++] = *sp;
    else {
        gs_sheet_destroy(sp);
        d->err = 1;
    }
    *sp = NULL;
}

size_t gs_doc_nsheets(const gs_doc *d) { return d->n; }

gs_sheet *gs_doc_sheet(const gs_doc *d, size_t i)
{
    return i < d->n ? d->sheets[i] : NULL;
}

void gs_doc_set_heading(gs_doc *d, const char *heading)
{
    free(d->heading);
    if (!(d->heading = strdup(heading)))
        d->err = 1;
}

void gs_doc_note(gs_doc *d, const char *fmt, ...)
{
    if (d->nnotes >= DOC_MAX_NOTES)
        return;
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if ((d->notes[d->nnotes] = strdup(tmp)))
        d->nnotes++;
    else
        d->err = 1;
}

json_t *gs_doc_meta(gs_doc *d)
{
    return d->meta;
}

bool gs_doc_failed(const gs_doc *d)
{
    if (d->err)
        return true;
    for (size_t i = 0; i < d->n; i++)
        if (gs_sheet_failed(d->sheets[i]))
            return true;
    return false;
}

/* ---- the terminal table ---------------------------------------------------------------------- */

#define MAX_SHOWN 64

void gs_sheet_print(const gs_sheet *s, FILE *f)
{
    int parts = s->parts ? s->nparts : 1;
    for (int p = 1; p <= parts; p++) {
        const char *heads[MAX_SHOWN];
        size_t idx[MAX_SHOWN], n = 0;
        for (size_t c = 0; c < s->ncols && n < MAX_SHOWN; c++) {
            if (s->cols[c].flags & GS_COL_NOTABLE)
                continue;
            if (s->parts && s->cols[c].part != 0 && s->cols[c].part != p)
                continue;
            heads[n] = s->cols[c].zh;
            idx[n++] = c;
        }
        if (s->parts)
            fprintf(f, "== %s: %s ==\n", s->title, s->parts[p - 1]);
        else
            fprintf(f, "== %s ==\n", s->title);
        gs_table *t = gs_table_new(n, heads);
        if (!t)
            return;
        for (size_t r = 0; r < s->nrows; r++) {
            const char *cells[MAX_SHOWN];
            for (size_t k = 0; k < n; k++) {
                const char *v = gs_col_shown(&s->cols[idx[k]], s->cells[r * s->ncols + idx[k]]);
                cells[k] = v ? v : "-";
            }
            gs_table_add(t, cells);
        }
        gs_table_print(t, f);
        gs_table_destroy(&t);
        fputc('\n', f);
    }
}

void gs_doc_print(const gs_doc *d, FILE *f)
{
    if (d->heading)
        fprintf(f, "%s\n", d->heading);
    for (size_t i = 0; i < d->nnotes; i++)
        fprintf(f, "注意 note: %s\n", d->notes[i]);
    fputc('\n', f);
    for (size_t i = 0; i < d->n; i++) {
        gs_sheet_print(d->sheets[i], f);
        if (d->sheets[i]->total)
            gs_sheet_print(d->sheets[i]->total, f);
    }
}

/* ---- CSV ------------------------------------------------------------------------------------- */

/* A text cell (not a number, not a yes/no): the formula guard applies. */
static bool is_text_type(gs_ctype t)
{
    return t == GS_CT_TEXT || t == GS_CT_CODE || t == GS_CT_DATE || t == GS_CT_DATETIME;
}

void gs_sheet_csv(const gs_sheet *s, gs_buf *b)
{
    bool first = true;
    for (size_t c = 0; c < s->ncols; c++) {
        if (s->cols[c].flags & GS_COL_NOCSV)
            continue;
        if (!first)
            gs_buf_putc(b, ',');
        const gs_col *k = &s->cols[c];
        const char *en = k->en ? k->en : k->key;
        char head[160];
        snprintf(head, sizeof head, "%s %s", k->zh, en);
        gs_buf_csv_field(b, s->head == GS_HEAD_KEY  ? en
                            : s->head == GS_HEAD_ZH ? k->zh
                                                    : head);
        first = false;
    }
    gs_buf_puts(b, "\r\n");
    for (size_t r = 0; r < s->nrows; r++) {
        first = true;
        for (size_t c = 0; c < s->ncols; c++) {
            if (s->cols[c].flags & GS_COL_NOCSV)
                continue;
            if (!first)
                gs_buf_putc(b, ',');
            const char *v = s->cells[r * s->ncols + c];
            if (v && is_text_type(s->cols[c].type) && gs_csv_formula_start(v[0])) {
                gs_buf cell = GS_BUF_INIT; /* text, not a formula, to a spreadsheet */
                gs_buf_printf(&cell, "'%s", v);
                gs_buf_csv_field(b, cell.data ? cell.data : "");
                if (cell.err)
                    b->err = cell.err;
                gs_buf_free(&cell);
            } else {
                gs_buf_csv_field(b, v ? v : "");
            }
            first = false;
        }
        gs_buf_puts(b, "\r\n");
    }
}

void gs_doc_csv(const gs_doc *d, bool bom, gs_buf *b)
{
    if (bom)
        gs_buf_puts(b, "\xEF\xBB\xBF");
    size_t ncsv = 0;
    for (size_t i = 0; i < d->n; i++)
        ncsv += !d->sheets[i]->no_csv;
    bool first = true;
    for (size_t i = 0; i < d->n; i++) {
        const gs_sheet *s = d->sheets[i];
        if (s->no_csv)
            continue;
        if (!first)
            gs_buf_puts(b, "\r\n");
        first = false;
        if (ncsv > 1) { /* several tables in one file: each under its title */
            gs_buf_csv_field(b, s->title);
            gs_buf_puts(b, "\r\n");
        }
        gs_sheet_csv(s, b);
    }
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* A number cell: an integer when it is one, else a real; a cell that is no
 * number at all (never written by the reports) stays text. */
static json_t *json_number(const char *v)
{
    char *end;
    long long i = strtoll(v, &end, 10);
    if (*v && !*end)
        return json_integer(i);
    double x = strtod(v, &end);
    if (*v && !*end)
        return json_real(x);
    return gs_json_text(v);
}

/* The dump flags: keys in insertion order, ", " and ": " separators, and
 * reals with up to 15 significant digits, so that the one-decimal figures
 * print as they were computed ("77.2", "90.0"). */
#define DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

json_t *gs_sheet_row_json(const gs_sheet *s, size_t r)
{
    json_t *o = json_object();
    for (size_t c = 0; o && c < s->ncols; c++) {
        const gs_col *k = &s->cols[c];
        if (k->flags & GS_COL_NOJSON)
            continue;
        const char *v = s->cells[r * s->ncols + c];
        json_t *j;
        if (!v && s->sparse)
            continue;
        if (!v)
            j = json_null();
        else if (k->type == GS_CT_INT || k->type == GS_CT_DEC)
            j = json_number(v);
        else if (k->type == GS_CT_BOOL)
            j = json_boolean(!strcmp(gs_col_shown(k, v), "是"));
        else if (k->type == GS_CT_JSON)
            j = json_loads(v, JSON_DECODE_ANY, NULL);
        else
            j = gs_json_text(v);
        if (!j || json_object_set_new(o, k->key, j)) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* Appends the JSON text of j (its reference is taken) to b, dumped with
 * flags. */
static int dump_flags(gs_buf *b, json_t *j, size_t flags)
{
    char *t = j ? json_dumps(j, flags) : NULL;
    json_decref(j);
    if (!t)
        return GS_ENOMEM;
    gs_buf_puts(b, t);
    free(t);
    return b->err;
}

static int dump(gs_buf *b, json_t *j)
{
    return dump_flags(b, j, DUMP_FLAGS);
}

int gs_sheet_json_rows(const gs_sheet *s, bool one_a_line, gs_buf *b)
{
    int rc = GS_OK;
    gs_buf_putc(b, '[');
    for (size_t r = 0; !rc && r < s->nrows; r++) {
        if (r)
            gs_buf_putc(b, ',');
        if (one_a_line)
            gs_buf_puts(b, "\n ");
        rc = dump_flags(b, gs_sheet_row_json(s, r), DUMP_FLAGS | JSON_COMPACT);
    }
    gs_buf_puts(b, one_a_line ? "\n]\n" : "]\n");
    return rc ? rc : b->err;
}

static int json_sheet(gs_buf *b, const gs_sheet *s)
{
    size_t rows = s->total_last && s->nrows ? s->nrows - 1 : s->nrows;
    int rc = dump(b, gs_json_text(s->key));
    gs_buf_puts(b, ": {\n    \"rows\": [");
    for (size_t r = 0; !rc && r < rows; r++) {
        gs_buf_puts(b, r ? ",\n      " : "\n      ");
        rc = dump(b, gs_sheet_row_json(s, r));
    }
    gs_buf_puts(b, rows ? "\n    ]" : "]");
    if (!rc && s->total_last && s->nrows) {
        gs_buf_puts(b, ",\n    \"total\": ");
        rc = dump(b, gs_sheet_row_json(s, s->nrows - 1));
    } else if (!rc && s->total && s->total->nrows) {
        gs_buf_puts(b, ",\n    \"total\": ");
        rc = dump(b, gs_sheet_row_json(s->total, 0));
    }
    gs_buf_puts(b, "\n  }");
    return rc;
}

int gs_doc_json(const gs_doc *d, gs_buf *b)
{
    int rc = 0;
    const char *key;
    json_t *v;
    bool first = true;
    gs_buf_putc(b, '{');
    json_object_foreach(d->meta, key, v)
    {
        gs_buf_puts(b, first ? "\n  " : ",\n  ");
        first = false;
        if (!rc)
            rc = dump(b, gs_json_text(key));
        gs_buf_puts(b, ": ");
        if (!rc)
            rc = dump(b, json_incref(v));
    }
    json_t *notes = json_array();
    for (size_t i = 0; notes && i < d->nnotes; i++)
        if (json_array_append_new(notes, gs_json_text(d->notes[i]))) {
            json_decref(notes);
            notes = NULL;
        }
    gs_buf_puts(b, first ? "\n  \"notes\": " : ",\n  \"notes\": ");
    if (!rc)
        rc = dump(b, notes);
    else
        json_decref(notes);
    for (size_t i = 0; !rc && i < d->n; i++) {
        gs_buf_puts(b, ",\n  ");
        rc = json_sheet(b, d->sheets[i]);
    }
    gs_buf_puts(b, "\n}\n");
    return rc ? rc : b->err;
}

/* ---- HTML ------------------------------------------------------------------------------------ */

static void html_row(gs_buf *b, const gs_sheet *s, size_t r)
{
    gs_buf_puts(b, "<tr>");
    for (size_t c = 0; c < s->ncols; c++) {
        const gs_col *k = &s->cols[c];
        if (k->type == GS_CT_JSON)
            continue;
        const char *v = gs_col_shown(k, s->cells[r * s->ncols + c]);
        bool num = k->type == GS_CT_INT || k->type == GS_CT_DEC;
        gs_buf_puts(b, num ? "<td class=\"num\">" : "<td>");
        gs_html_escape(b, v ? v : "-");
        gs_buf_puts(b, "</td>");
    }
    gs_buf_puts(b, "</tr>\n");
}

void gs_sheet_html(const gs_sheet *s, gs_buf *b)
{
    gs_buf_puts(b, "<table class=\"gs-sheet\" data-key=\"");
    gs_html_escape(b, s->key);
    gs_buf_puts(b, "\">\n<caption>");
    gs_html_escape(b, s->title);
    gs_buf_puts(b, "</caption>\n<thead><tr>");
    for (size_t c = 0; c < s->ncols; c++) {
        const gs_col *k = &s->cols[c];
        if (k->type == GS_CT_JSON)
            continue;
        gs_buf_puts(b, "<th scope=\"col\" title=\"");
        gs_html_escape(b, k->en ? k->en : k->key);
        gs_buf_puts(b, "\">");
        gs_html_escape(b, k->zh);
        gs_buf_puts(b, "</th>");
    }
    gs_buf_puts(b, "</tr></thead>\n<tbody>\n");
    size_t rows = s->total_last && s->nrows ? s->nrows - 1 : s->nrows;
    for (size_t r = 0; r < rows; r++)
        html_row(b, s, r);
    gs_buf_puts(b, "</tbody>\n");
    if (s->total_last && s->nrows) {
        gs_buf_puts(b, "<tfoot>\n");
        html_row(b, s, s->nrows - 1);
        gs_buf_puts(b, "</tfoot>\n");
    }
    gs_buf_puts(b, "</table>\n");
}

void gs_doc_html(const gs_doc *d, gs_buf *b)
{
    for (size_t i = 0; i < d->nnotes; i++) {
        gs_buf_puts(b, "<p class=\"gs-note\">");
        gs_html_escape(b, d->notes[i]);
        gs_buf_puts(b, "</p>\n");
    }
    for (size_t i = 0; i < d->n; i++) {
        gs_sheet_html(d->sheets[i], b);
        if (d->sheets[i]->total)
            gs_sheet_html(d->sheets[i]->total, b);
    }
}
