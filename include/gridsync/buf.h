/*
 * gridsync/buf.h: a growable byte buffer with a sticky error.
 *
 * Once an append fails (out of memory or over the buffer's limit), b->err is
 * set and every later append is a no-op, so a chain of appends is checked
 * once at the end (the SQLite idiom). The data is always NUL-terminated when
 * err is GS_OK, so a buffer of text can be used as a C string.
 */
#ifndef GRIDSYNC_BUF_H
#define GRIDSYNC_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gs_buf {
    char *data;   /* owned; NULL until the first append */
    size_t len;   /* bytes used, not counting the terminating NUL */
    size_t cap;   /* bytes allocated */
    size_t limit; /* 0 = unlimited; else appends past this many bytes fail with GS_ETOOBIG */
    int err;      /* sticky gs_err */
} gs_buf;

#define GS_BUF_INIT {NULL, 0, 0, 0, 0}

void gs_buf_append(gs_buf *b, const void *p, size_t n);
void gs_buf_puts(gs_buf *b, const char *s);
void gs_buf_putc(gs_buf *b, char c);
void gs_buf_printf(gs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as one CSV field, quoted when it holds a comma, quote or newline. */
void gs_buf_csv_field(gs_buf *b, const char *s);
/* True for the first characters a spreadsheet reads as the start of a
 * formula (=, +, -, @, tab, CR): a text cell starting with one is exported
 * behind a "'" so that it stays text (spreadsheet formula injection). */
bool gs_csv_formula_start(char c);
/* Appends n bytes as lowercase hex. */
void gs_buf_hex(gs_buf *b, const uint8_t *p, size_t n);
/* Empties the buffer but keeps its memory and limit; clears err. */
void gs_buf_reset(gs_buf *b);
/* Frees the memory; the buffer is GS_BUF_INIT afterwards (limit kept). */
void gs_buf_free(gs_buf *b);
/* Takes ownership of the data (NUL-terminated, never NULL on success), leaving
 * the buffer empty. Returns NULL if err is set. */
char *gs_buf_steal(gs_buf *b);

/* Tunes glibc's malloc for a process that handles message buffers of up to
 * some MiB over and over (a sync): such buffers come from the heap and freed
 * memory is kept for the next one, instead of an mmap/munmap pair per
 * message and the heap trimmed after every free (both slow on virtual
 * machines, where each one shoots down TLBs). Call first thing in main(). */
void gs_tune_malloc(void);

#endif
