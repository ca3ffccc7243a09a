/*
 * table.c: aligned text tables with correct widths for Chinese text (see
 * table.h). Rows are kept as arrays of owned strings.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/table.h"

struct gs_table {
    size_t ncols, nrows, cap;
    char **cells; /* (nrows + 1) * ncols; row 0 is the header */
};

/* Decodes one UTF-8 sequence at *p (assumed valid; bad bytes count as one). */
static uint32_t next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = s[0];
    int n = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    if (c >= 0x80 && c < 0xC0)
        n = 0;
    c = n == 0 ? c : n == 1 ? c & 0x1F : n == 2 ? c & 0x0F : c & 0x07;
    int i = 1;
    for (; i <= n && (s[i] & 0xC0) == 0x80; i++)
        c = (c << 6) | (s[i] & 0x3F);
    *p = s + i;
    return c;
}

static int cp_width(uint32_t c)
{
    if (c == 0)
        return 0;
    if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) || c == 0xFE0F)
        return 0;
    if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
        (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
        (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
        (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
        (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
        (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
        (c >= 0x20000 && c <= 0x3FFFD))
        return 2;
    return 1;
}

size_t gs_text_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p)
        w += (size_t)cp_width(next_cp(&p));
    return w;
}

gs_table *gs_table_new(size_t ncols, const char *const *headers)
{
    gs_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    if (gs_table_add(t, headers) != 0) {
        free(t);
        return NULL;
    }
    t->nrows = 0;
    return t;
}

void gs_table_destroy(gs_table **tp)
{
    if (!tp || !*tp)
        return;
    gs_table *t = *tp;
    for (size_t i = 0; i < (t->nrows + 1) * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
    *tp = NULL;
}

int gs_table_add(gs_table *t, const char *const *cells)
{
    /* The header is added with nrows == 0 and then counted as row "-1". */
    size_t have = t->cells ? t->nrows + 1 : 0;
    if (have + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **p = realloc(t->cells, cap * t->ncols * sizeof *p);
        if (!p)
            return -1;
        t->cells = p;
        t->cap = cap;
    }
    char **row = t->cells + have * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        row[c] = strdup(cells[c] ? cells[c] : "");
        if (!row[c]) {
            for (size_t k = 0; k < c; k++)
                free(row[k]);
            return -1;
        }
    }
    if (have)
        t->nrows++;
    return 0;
}

size_t gs_table_rows(const gs_table *t)
{
    return t->nrows;
}

static bool numeric(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return false;
    bool digit = false;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digit = true;
        else if (*s != '.' && *s != ',' && !(*s == '%' && !s[1]))
            return false;
    }
    return digit;
}

static void pad(FILE *f, size_t n)
{
    while (n--)
        fputc(' ', f);
}

void gs_table_print(const gs_table *t, FILE *f)
{
    size_t *w = calloc(t->ncols, sizeof *w);
    if (!w)
        return;
    for (size_t r = 0; r <= t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = gs_text_width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    for (size_t r = 0; r <= t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            size_t gap = w[c] - gs_text_width(s);
            bool right = r > 0 && numeric(s);
            if (c)
                fputs("  ", f);
            if (right)
                pad(f, gap);
            fputs(s, f);
            if (!right && c + 1 < t->ncols)
                pad(f, gap);
        }
        fputc('\n', f);
        if (r == 0) {
            size_t total = 0;
            for (size_t c = 0; c < t->ncols; c++)
                total += w[c] + (c ? 2 : 0);
            for (size_t i = 0; i < total; i++)
                fputc('-', f);
            fputc('\n', f);
        }
    }
    free(w);
}

/* A cell a spreadsheet would run as a formula goes out behind a "'"; a
 * number ("-12", "97.2%") and the report's "-" for no value stay as they are. */
static void csv_cell(gs_buf *b, const char *s)
{
    if (gs_csv_formula_start(s[0]) && !numeric(s) && strcmp(s, "-")) {
        gs_buf cell = GS_BUF_INIT;
        gs_buf_putc(&cell, '\'');
        gs_buf_puts(&cell, s);
        gs_buf_csv_field(b, cell.data ? cell.data : "");
        gs_buf_free(&cell);
        return;
    }
    gs_buf_csv_field(b, s);
}

void gs_table_csv(const gs_table *t, gs_buf *b)
{
    for (size_t r = 0; r <= t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                gs_buf_putc(b, ',');
            csv_cell(b, t->cells[r * t->ncols + c]);
        }
        gs_buf_puts(b, "\r\n");
    }
}
