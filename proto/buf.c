/*
 * buf.c: the growable byte buffer with a sticky error (see buf.h).
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"

/* Makes room for n more bytes plus a NUL; sets b->err on failure. */
static int reserve(gs_buf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > SIZE_MAX / 2 - b->len || (b->limit && b->len + n > b->limit)) {
        b->err = GS_ETOOBIG;
        return b->err;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return GS_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->err = GS_ENOMEM;
        return b->err;
    }
    b->data = p;
    b->cap = cap;
    return GS_OK;
}

void gs_buf_append(gs_buf *b, const void *p, size_t n)
{
    if (reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void gs_buf_puts(gs_buf *b, const char *s)
{
    gs_buf_append(b, s, strlen(s));
}

void gs_buf_putc(gs_buf *b, char c)
{
    gs_buf_append(b, &c, 1);
}

void gs_buf_printf(gs_buf *b, const char *fmt, ...)
{
    if (b->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = GS_EINVAL;
        return;
    }
    if ((size_t)n < sizeof small) {
        gs_buf_append(b, small, (size_t)n);
        return;
    }
    if (reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

bool gs_csv_formula_start(char c)
{
    return c && strchr("=+-@\t\r", c) != NULL;
}

void gs_buf_csv_field(gs_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        gs_buf_puts(b, s);
        return;
    }
    gs_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            gs_buf_putc(b, '"');
        gs_buf_putc(b, *s);
    }
    gs_buf_putc(b, '"');
}

void gs_buf_hex(gs_buf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char two[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        gs_buf_append(b, two, 2);
    }
}

void gs_buf_reset(gs_buf *b)
{
    b->len = 0;
    b->err = GS_OK;
    if (b->data)
        b->data[0] = '\0';
}

void gs_buf_free(gs_buf *b)
{
    free(b->data);
    size_t limit = b->limit;
    *b = (gs_buf)GS_BUF_INIT;
    b->limit = limit;
}

char *gs_buf_steal(gs_buf *b)
{
    if (b->err)
        return NULL;
    if (!b->data)
        gs_buf_append(b, "", 0);
    if (b->err)
        return NULL;
    char *p = b->data;
    size_t limit = b->limit;
    *b = (gs_buf)GS_BUF_INIT;
    b->limit = limit;
    return p;
}

void gs_tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 8 << 20); /* above the largest message (4 MiB) */
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
}
