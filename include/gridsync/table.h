/*
 * gridsync/table.h: text tables for terminals, where Chinese characters take
 * two columns, and the same rows as CSV.
 *
 * Cells are copied in. Numbers (cells that look like -12, 3.5 or 97.2%) are
 * right-aligned, text left-aligned.
 */
#ifndef GRIDSYNC_TABLE_H
#define GRIDSYNC_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "gridsync/buf.h"

/* Display width in terminal columns of UTF-8 text: East Asian wide and
 * full-width characters count 2, combining marks 0, the rest 1. */
size_t gs_text_width(const char *s);

typedef struct gs_table gs_table;

/* A table with ncols columns and these headers (copied). NULL when out of memory. */
gs_table *gs_table_new(size_t ncols, const char *const *headers);
void gs_table_destroy(gs_table **tp);
/* Appends a row of ncols cells (copied; NULL is an empty cell). */
int gs_table_add(gs_table *t, const char *const *cells);
size_t gs_table_rows(const gs_table *t);
/* Prints the table aligned, with a header and a rule, to f. */
void gs_table_print(const gs_table *t, FILE *f);
/* Appends the table as CSV (header first, CRLF line ends). */
void gs_table_csv(const gs_table *t, gs_buf *b);

#endif
