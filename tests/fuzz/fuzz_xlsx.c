/*
 * fuzz_xlsx.c: libFuzzer target for the XLSX reader (proto/xlsx.c).
 *
 * Feeds arbitrary bytes to gs_xlsx_open_mem (libzip, then expat over each
 * part) and, when they open, checks what gridsync/xlsx.h promises on top of
 * csv.h: a sheet name; the header's and the rows' numbers increasing and
 * within Excel's last row; every cell valid UTF-8 within the field limit
 * and not only spaces; "" past a row's end. When they do not open, the
 * message is one line starting with the name. A broken promise aborts.
 *
 * The seed corpus (tests/fuzz/corpus/xlsx) holds a workbook LibreOffice
 * saved from a CSV file (lo_incidents.xlsx: soffice --headless
 * --infilter="CSV:44,34,76" --convert-to xlsx), gridnode's template
 * (template_incidents.xlsx), hand-made workbooks of every kind of cell
 * (basic*.xlsx) and one of each refused kind (bad_*, bomb_*), made with
 * Python's zipfile from the XML they hold; bomb_lying_size.xlsx is
 * bomb_part.xlsx with the sheet's unpacked size patched to 1000 in both
 * zip headers, so only counting while unpacking catches it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/mpack.h"
#include "gridsync/xlsx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless cell text s keeps the reader's promises. */
static void check_cell(const char *s)
{
    size_t n = strlen(s);
    if (n > GS_CSV_MAX_FIELD || !gs_utf8_valid(s, n) || (n && strspn(s, " \t") == n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gs_errbuf eb = {{0}};
    gs_csv *c = NULL;
    if (gs_xlsx_open_mem(&c, "fuzz.xlsx", data, size, &eb) != GS_OK) {
        if (c || strncmp(eb.msg, "fuzz.xlsx: ", 11) || strchr(eb.msg, '\n'))
            abort();
        return 0;
    }
    size_t ncols = gs_csv_ncols(c), line = gs_csv_header_line(c);
    if (!gs_csv_sheet(c) || gs_csv_encoding_of(c) != GS_CSV_XLSX || ncols == 0 ||
        ncols > GS_CSV_MAX_COLS || line < 1 || line > GS_XLSX_MAX_ROWS)
        abort();
    for (size_t k = 0; k < ncols; k++)
        check_cell(gs_csv_header(c, k));
    for (size_t r = 0; r < gs_csv_nrows(c); r++) {
        if (gs_csv_line(c, r) <= line || gs_csv_line(c, r) > GS_XLSX_MAX_ROWS)
            abort();
        line = gs_csv_line(c, r);
        size_t n = gs_csv_row_ncells(c, r);
        for (size_t k = 0; k < n; k++)
            check_cell(gs_csv_cell(c, r, k));
        if (*gs_csv_cell(c, r, n))
            abort();
    }
    gs_csv_destroy(&c);
    return 0;
}
