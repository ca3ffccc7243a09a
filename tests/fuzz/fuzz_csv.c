/*
 * fuzz_csv.c: libFuzzer target for the CSV reader (proto/csv.c).
 *
 * Feeds arbitrary bytes to gs_csv_open_mem and, when they open, walks
 * every header and data cell and checks what gridsync/csv.h promises: at least one
 * column, every cell valid UTF-8 of at most GS_CSV_MAX_FIELD bytes, at
 * most GS_CSV_MAX_COLS cells a row, "" past a row's end, line numbers
 * increasing. When they do not open, the message must start with the name.
 * A broken promise aborts, which both libFuzzer and the replay test report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/csv.h"
#include "gridsync/mpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless s is valid UTF-8 within the field limit. */
static void check_text(const char *s)
{
    size_t n = strlen(s);
    if (n > GS_CSV_MAX_FIELD || !gs_utf8_valid(s, n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gs_errbuf eb = {{0}};
    gs_csv *c = NULL;
    int rc = gs_csv_open_mem(&c, "fuzz.csv", data, size, &eb);
    if (rc != GS_OK) {
        if (c != NULL || strncmp(eb.msg, "fuzz.csv: ", 10) != 0)
            abort();
        return 0;
    }
    size_t ncols = gs_csv_ncols(c);
    if (ncols == 0 || ncols > GS_CSV_MAX_COLS)
        abort();
    for (size_t k = 0; k <= ncols; k++)
        check_text(gs_csv_header(c, k));
    if (gs_csv_header(c, ncols)[0] != '\0')
        abort();
    size_t prev_line = 0;
    for (size_t r = 0; r < gs_csv_nrows(c); r++) {
        size_t n = gs_csv_row_ncells(c, r);
        if (n == 0 || n > GS_CSV_MAX_COLS || gs_csv_cell(c, r, n)[0] != '\0')
            abort();
        for (size_t k = 0; k < n; k++)
            check_text(gs_csv_cell(c, r, k));
        size_t line = gs_csv_line(c, r);
        if (line <= prev_line || line < 2)
            abort();
        prev_line = line;
    }
    gs_csv_destroy(&c);
    if (c != NULL)
        abort();
    return 0;
}
