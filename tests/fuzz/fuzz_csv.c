/*
 * fuzz_csv.c: libFuzzer target for the CSV reader (node/csvin.c).
 *
 * Feeds arbitrary bytes to node_csv_open_mem and, when they open, walks
 * every header and data cell and checks what csvin.h promises: at least one
 * column, every cell valid UTF-8 of at most NODE_CSV_MAX_FIELD bytes, at
 * most NODE_CSV_MAX_COLS cells a row, "" past a row's end, line numbers
 * increasing. When they do not open, the message must start with the name.
 * A broken promise aborts, which both libFuzzer and the replay test report.
 *
 * The reader is compiled into this file with #include of the .c, because
 * the fuzz and replay targets link only libgridsync and libcsv, not the
 * node's sources (which include the node's main). Including it also gives
 * the checks its static UTF-8 validator.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../node/csvin.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless s is valid UTF-8 within the field limit. */
static void check_text(const char *s)
{
    size_t n = strlen(s);
    if (n > NODE_CSV_MAX_FIELD || utf8_invalid_at((const unsigned char *)s, n) != n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gs_errbuf eb = {{0}};
    node_csv *c = NULL;
    int rc = node_csv_open_mem(&c, "fuzz.csv", data, size, &eb);
    if (rc != GS_OK) {
        if (c != NULL || strncmp(eb.msg, "fuzz.csv: ", 10) != 0)
            abort();
        return 0;
    }
    size_t ncols = node_csv_ncols(c);
    if (ncols == 0 || ncols > NODE_CSV_MAX_COLS)
        abort();
    for (size_t k = 0; k <= ncols; k++)
        check_text(node_csv_header(c, k));
    if (node_csv_header(c, ncols)[0] != '\0')
        abort();
    size_t prev_line = 0;
    for (size_t r = 0; r < node_csv_nrows(c); r++) {
        size_t n = node_csv_row_ncells(c, r);
        if (n == 0 || n > NODE_CSV_MAX_COLS || node_csv_cell(c, r, n)[0] != '\0')
            abort();
        for (size_t k = 0; k < n; k++)
            check_text(node_csv_cell(c, r, k));
        size_t line = node_csv_line(c, r);
        if (line <= prev_line || line < 2)
            abort();
        prev_line = line;
    }
    node_csv_destroy(&c);
    if (c != NULL)
        abort();
    return 0;
}
