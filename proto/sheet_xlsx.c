/*
 * sheet_xlsx.c: the XLSX renderer of the sheet model (sheet.h), through
 * libxlsxwriter.
 *
 * Village and city staff live in Excel, so the workbook must read as one a
 * person made: a worksheet per sheet, the header row frozen, a 12-digit
 * code or an id as text (Excel would show 4.11102E+11), a count or a
 * percentage as a number shown with the decimals the other formats print,
 * a date as a date, columns wide enough for their Chinese text. The header
 * and the cells are those of the CSV form (the same columns, "中文 key"
 * headers), so a workbook saved as CSV reads as the CSV report; a total
 * attached to a sheet, which CSV leaves out, gets a worksheet of its own.
 */
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "gridsync/record.h"
#include "gridsync/sheet.h"
#include "gridsync/table.h"

#define NAME_MAX_CHARS 31  /* Excel's limit on a worksheet name */
#define WIDTH_MAX      60  /* the widest a column is made, in characters */

typedef struct formats {
    lxw_format *head, *text, *integer, *dec[4], *date, *datetime;
} formats;

/* A worksheet name from the title: its first word (the Chinese part of
 * "汇总 summary"), without the characters Excel refuses, at most 31
 * characters, suffix added; made unique with a number. */
static void sheet_name(lxw_workbook *wb, const char *title, const char *suffix, char *out,
                       size_t cap)
{
    gs_buf b = GS_BUF_INIT;
    size_t chars = 0;
    for (const char *p = title; *p && *p != ' ' && *p != '('; p++) {
        if (strchr("[]:*?/\\", *p))
            continue;
        if (((unsigned char)*p & 0xC0) != 0x80 && ++chars > NAME_MAX_CHARS - 6)
            break;
        gs_buf_putc(&b, *p);
    }
    if (suffix)
        gs_buf_puts(&b, suffix);
    snprintf(out, cap, "%s", b.len && !b.err ? b.data : "sheet");
    gs_buf_free(&b);
    char base[128];
    snprintf(base, sizeof base, "%s", out);
    for (int n = 2; workbook_get_worksheet_by_name(wb, out) && n < 100; n++)
        snprintf(out, cap, "%s%d", base, n);
}

/* Decimals of a number cell as printed ("97.2": 1). */
static int decimals(const char *v)
{
    const char *dot = strchr(v, '.');
    size_t n = dot ? strlen(dot + 1) : 0;
    return n > 3 ? 3 : (int)n;
}

/* A YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS+08:00 cell as Excel's date and time
 * (China time, which is what the text says); false when it is neither. */
static bool to_datetime(const char *v, lxw_datetime *dt)
{
    int64_t days;
    char day[11];
    if (strlen(v) < 10)
        return false;
    memcpy(day, v, 10);
    day[10] = '\0';
    if (!gs_date_days(day, &days))
        return false;
    memset(dt, 0, sizeof *dt);
    dt->year = atoi(day);
    dt->month = atoi(day + 5);
    dt->day = atoi(day + 8);
    if (v[10] == '\0')
        return true;
    int h, m;
    double s;
    if (strlen(v) != 25 || strcmp(v + 19, "+08:00") || sscanf(v + 11, "%2d:%2d:%lf", &h, &m, &s) != 3)
        return false;
    dt->hour = h;
    dt->min = m;
    dt->sec = s;
    return true;
}

/* Writes one cell; a cell that does not read as its type goes as text. */
static lxw_error put_cell(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const gs_col *k,
                          const char *v, const formats *f)
{
    if (!v || !*v)
        return LXW_NO_ERROR; /* missing: an empty cell */
    lxw_datetime dt;
    char *end;
    switch (k->type) {
    case GS_CT_INT:
    case GS_CT_DEC: {
        double x = strtod(v, &end);
        if (!*end) {
            int d = decimals(v);
            return worksheet_write_number(ws, r, c, x, d ? f->dec[d] : f->integer);
        }
        break;
    }
    case GS_CT_DATE:
    case GS_CT_DATETIME:
        if (to_datetime(v, &dt))
            return worksheet_write_datetime(ws, r, c, &dt,
                                            strlen(v) == 10 ? f->date : f->datetime);
        break;
    default:
        break;
    }
    return worksheet_write_string(ws, r, c, gs_col_shown(k, v), f->text);
}

/* One worksheet: the header row (frozen), the rows, the widths. */
static lxw_error write_sheet(lxw_workbook *wb, const gs_sheet *s, const char *title,
                             const char *suffix, const formats *f)
{
    char name[160];
    sheet_name(wb, title, suffix, name, sizeof name);
    lxw_worksheet *ws = workbook_add_worksheet(wb, name);
    if (!ws)
        return LXW_ERROR_MEMORY_MALLOC_FAILED;
    lxw_error err = LXW_NO_ERROR;
    lxw_col_t x = 0;
    for (size_t c = 0; c < gs_sheet_ncols(s) && !err; c++) {
        const gs_col *k = gs_sheet_col(s, c);
        if (k->flags & GS_COL_NOCSV)
            continue;
        char head[160];
        snprintf(head, sizeof head, "%s %s", k->zh, k->en ? k->en : k->key);
        size_t width = gs_text_width(head);
        err = worksheet_write_string(ws, 0, x, head, f->head);
        for (size_t r = 0; r < gs_sheet_nrows(s) && !err; r++) {
            const char *v = gs_sheet_cell(s, r, c);
            err = put_cell(ws, (lxw_row_t)(r + 1), x, k, v, f);
            size_t w = v ? gs_text_width(gs_col_shown(k, v)) : 0;
            if (w > width)
                width = w;
        }
        if (!err)
            err = worksheet_set_column(ws, x, x, (double)(width > WIDTH_MAX ? WIDTH_MAX : width) + 2,
                                       NULL);
        x++;
    }
    if (!err)
        worksheet_freeze_panes(ws, 1, 0);
    return err;
}

int gs_doc_xlsx(const gs_doc *d, const char *path, gs_errbuf *eb)
{
    lxw_workbook_options opt = {.constant_memory = LXW_FALSE, .tmpdir = NULL};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    if (!wb)
        return gs_errf(eb, GS_EIO, "%s: cannot create the workbook", path);
    formats f;
    f.head = workbook_add_format(wb);
    format_set_bold(f.head);
    format_set_bg_color(f.head, 0xDDEBF7);
    f.text = workbook_add_format(wb);
    format_set_num_format(f.text, "@");
    f.integer = workbook_add_format(wb);
    format_set_num_format(f.integer, "0");
    static const char *const dec[4] = {"0", "0.0", "0.00", "0.000"};
    for (int i = 0; i < 4; i++) {
        f.dec[i] = workbook_add_format(wb);
        format_set_num_format(f.dec[i], dec[i]);
    }
    f.date = workbook_add_format(wb);
    format_set_num_format(f.date, "yyyy-mm-dd");
    /* shown as the other formats print it: China time with its offset */
    f.datetime = workbook_add_format(wb);
    format_set_num_format(f.datetime, "yyyy-mm-dd\"T\"hh:mm:ss\"+08:00\"");
    lxw_error err = LXW_NO_ERROR;
    for (size_t i = 0; i < gs_doc_nsheets(d) && !err; i++) {
        const gs_sheet *s = gs_doc_sheet(d, i);
        err = write_sheet(wb, s, gs_sheet_title(s), NULL, &f);
        if (!err && gs_sheet_total(s)) /* named after its sheet: "换届选举合计" */
            err = write_sheet(wb, gs_sheet_total(s), gs_sheet_title(s), "合计", &f);
    }
    if (gs_doc_nsheets(d) == 0)
        workbook_add_worksheet(wb, NULL);
    lxw_error cerr = workbook_close(wb);
    if (err || cerr)
        return gs_errf(eb, err == LXW_ERROR_MEMORY_MALLOC_FAILED ? GS_ENOMEM : GS_EIO,
                       "%s: %s", path, lxw_strerror(err ? err : cerr));
    return GS_OK;
}
