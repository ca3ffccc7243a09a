/*
 * csv.c: the CSV reader (see gridsync/csv.h for what it guarantees).
 *
 * Three steps, all over the whole file in memory:
 *  1. decode: refuse UTF-16 and NUL bytes; a UTF-8 byte-order mark means
 *     UTF-8 (checked); else valid UTF-8 is taken as is; else the file is
 *     converted from GB18030 with iconv. If neither decodes, the error names
 *     the byte offset where the decoder that got further stopped: that is
 *     the likelier encoding and so the likelier place of the real damage.
 *  2. split: libcsv does the quoting, but knows nothing of line numbers, so
 *     the text is fed to it in pieces: the run of bytes up to the next CR or
 *     LF, then that one byte. Between pieces this file knows the current
 *     line and whether libcsv holds part of a row (in_row), so it knows the
 *     line each row starts on. in_row mirrors libcsv's own state: it is set
 *     by a piece holding anything but spaces (libcsv skips leading spaces
 *     without starting a row) and cleared by the end-of-row callback.
 *  3. store: each field is appended, NUL-terminated, to one arena; cells are
 *     32-bit offsets into it (offset 0 is the shared ""), rows are runs of
 *     cells. The header is rows[0].
 *
 * Invariants once opened: nrows >= 1 (the header); every offset in cells
 * points at a NUL-terminated valid UTF-8 string inside the arena; rows are in
 * file order with increasing line numbers; the object is never changed again.
 */
#include "gridsync/csv.h"
#include "gridsync/xlsx.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "gridsync/buf.h"
#include "gridsync/record.h"

/* libcsv's field buffer may not grow past this: a field that needs more is
 * over GS_CSV_MAX_FIELD anyway (the slack holds a closing quote and some
 * trailing spaces that are cut before the field is reported). */
#define FIELD_BUF_CAP (GS_CSV_MAX_FIELD + 1024)
/* libcsv grows its field buffer by this much at a time. */
#define FIELD_BUF_BLK 4096
/* Longest run handed to libcsv at once, so that an error stops work soon. */
#define FEED_CHUNK ((size_t)64 << 10)

/* A row: cells[first .. first+ncells) of the owning gs_csv. */
typedef struct row {
    size_t first;
    size_t ncells;
    size_t line;   /* 1-based line where the row starts */
    size_t number; /* the row as a spreadsheet numbers it (gs_csv_row_number) */
} row;

struct gs_csv {
    gs_csv_encoding enc;
    gs_buf arena;    /* the cell texts, each NUL-terminated; offset 0 is "" */
    uint32_t *cells; /* offsets into arena */
    size_t ncells, cells_cap;
    row *rows; /* rows[0] is the header */
    size_t nrows, rows_cap;
    size_t row_first;  /* index in cells of the first cell of the row being built */
    bool row_nonempty; /* some cell of that row is not "" */
    char *sheet;       /* GS_CSV_XLSX: the sheet's name; else NULL */
};

/* The state of one parse, passed to libcsv's callbacks. */
typedef struct parse {
    gs_csv *c;
    const char *name;
    gs_errbuf *eb;
    struct csv_parser csv;
    int rc;            /* first error; callbacks do nothing once set */
    size_t line;       /* line of the byte being fed */
    bool in_row;       /* libcsv holds part of a row */
    size_t row_line;   /* where that row started */
    size_t extra;      /* lines inside quoted cells of the rows so far */
} parse;

/* ---- decoding --------------------------------------------------------- */

/* Offset of the first byte that is not part of a well-formed UTF-8
 * sequence (no overlongs, no surrogates, nothing above U+10FFFF), or n. */
static size_t utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            if (b == 0xE0)
                lo = 0xA0;
            else if (b == 0xED)
                hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            if (b == 0xF0)
                lo = 0x90;
            else if (b == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (n - i <= need)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += need + 1;
    }
    return n;
}

/* The 1-based line of byte off, counting LF, CRLF and lone CR as line ends
 * the way the parser does. Valid on GB18030 bytes too: CR and LF never occur
 * inside a GB18030 multi-byte character. */
static size_t line_at(const unsigned char *s, size_t n, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off && i < n; i++)
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n')))
            line++;
    return line;
}

/* Converts n bytes of GB18030 to UTF-8 into a new malloc'd buffer. On
 * GS_EINVAL *bad is the offset of the first byte that does not decode. */
static int gb18030_to_utf8(const unsigned char *in, size_t n, char **out, size_t *outlen,
                           size_t *bad)
{
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1)
        return GS_EIO;
    /* A GB18030 character of k bytes becomes at most 3k/2 bytes of UTF-8. */
    size_t cap = n + n / 2 + 16;
    char *buf = malloc(cap);
    if (!buf) {
        iconv_close(cd);
        return GS_ENOMEM;
    }
    char *ip = (char *)in;
    size_t il = n;
    char *op = buf;
    size_t ol = cap;
    int rc = GS_OK;
    while (il > 0) {
        if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1)
            break;
        if (errno == E2BIG) {
            size_t used = (size_t)(op - buf);
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = GS_ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
            op = buf + used;
            ol = cap - used;
            continue;
        }
        /* EILSEQ (invalid) or EINVAL (truncated at the end) */
        *bad = (size_t)((const unsigned char *)ip - in);
        rc = GS_EINVAL;
        break;
    }
    iconv_close(cd);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = (size_t)(op - buf);
    return GS_OK;
}

/* Works out the encoding of data and sets *text and *tlen to its UTF-8 form:
 * either a pointer into data (*owned NULL) or a new buffer (*owned set, for
 * the caller to free). */
static int decode(const char *name, const unsigned char *data, size_t len, gs_errbuf *eb,
                  gs_csv_encoding *enc, const char **text, size_t *tlen, char **owned)
{
    *owned = NULL;
    if (len >= 2 && ((data[0] == 0xFF && data[1] == 0xFE) || (data[0] == 0xFE && data[1] == 0xFF)))
        return gs_errf(eb, GS_EINVAL,
                       "%s: the file is UTF-16 (Excel \"Unicode text\"); save it as CSV "
                       "(UTF-8 or the default CSV)",
                       name);
    const unsigned char *nul = len ? memchr(data, 0, len) : NULL;
    if (nul) {
        size_t off = (size_t)(nul - data);
        return gs_errf(eb, GS_EINVAL,
                       "%s: byte offset %zu (line %zu): NUL byte; not a CSV text file", name, off,
                       line_at(data, len, off));
    }
    if (len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) {
        size_t bad = utf8_invalid_at(data + 3, len - 3) + 3;
        if (bad < len)
            return gs_errf(eb, GS_EINVAL,
                           "%s: byte offset %zu (line %zu): not UTF-8, though the file starts "
                           "with a UTF-8 byte-order mark",
                           name, bad, line_at(data, len, bad));
        *enc = GS_CSV_UTF8_BOM;
        *text = (const char *)data + 3;
        *tlen = len - 3;
        return GS_OK;
    }
    size_t bad8 = utf8_invalid_at(data, len);
    if (bad8 == len) {
        *enc = GS_CSV_UTF8;
        *text = (const char *)data;
        *tlen = len;
        return GS_OK;
    }
    size_t badgb = 0;
    int rc = gb18030_to_utf8(data, len, owned, tlen, &badgb);
    if (rc == GS_OK) {
        *enc = GS_CSV_GB18030;
        *text = *owned;
        return GS_OK;
    }
    if (rc == GS_ENOMEM)
        return gs_errf(eb, rc, "%s: out of memory converting from GB18030", name);
    if (rc == GS_EIO)
        return gs_errf(eb, GS_EINVAL,
                       "%s: byte offset %zu (line %zu): not UTF-8, and GB18030 conversion is "
                       "not available (iconv)",
                       name, bad8, line_at(data, len, bad8));
    size_t bad = bad8 > badgb ? bad8 : badgb;
    return gs_errf(eb, GS_EINVAL,
                   "%s: byte offset %zu (line %zu): not UTF-8 and not GB18030; save the file "
                   "as CSV UTF-8",
                   name, bad, line_at(data, len, bad));
}

/* ---- parsing ---------------------------------------------------------- */

/* Unquoted fields lose these at both ends (ASCII space and tab). */
static int is_blank(unsigned char ch)
{
    return ch == ' ' || ch == '\t';
}

/* libcsv's realloc, refusing to grow a field buffer past FIELD_BUF_CAP so
 * that an over-long field fails early instead of buffering megabytes. */
static void *capped_realloc(void *p, size_t size)
{
    if (size > FIELD_BUF_CAP)
        return NULL;
    return realloc(p, size);
}

/* Writes "column N" or "column N (header text)" for 0-based col into out. */
static void column_name(const parse *p, size_t col, char *out, size_t outsz)
{
    const gs_csv *c = p->c;
    /* While the header itself is parsed there is no name to give yet. */
    if (c->nrows > 0 && col < c->rows[0].ncells && c->cells[c->rows[0].first + col] != 0) {
        const char *h = c->arena.data + c->cells[c->rows[0].first + col];
        snprintf(out, outsz, "column %zu (%.80s)", col + 1, h);
    } else {
        snprintf(out, outsz, "column %zu", col + 1);
    }
}

/* Sets the "field too long" error for 0-based column col of the current row. */
static void field_too_long(parse *p, size_t col)
{
    char cn[128];
    column_name(p, col, cn, sizeof cn);
    p->rc = gs_errf(p->eb, GS_ETOOBIG, "%s: line %zu, %s: field longer than %zu bytes", p->name,
                    p->row_line, cn, GS_CSV_MAX_FIELD);
}

/* ---- the table ------------------------------------------------------ */

/* Appends a cell of len bytes at s to the row being built: GS_ETOOBIG past a
 * limit, GS_ENOMEM. An empty cell takes no arena space. */
static int add_cell(gs_csv *c, const char *s, size_t len)
{
    if (c->ncells - c->row_first >= GS_CSV_MAX_COLS || len > GS_CSV_MAX_FIELD)
        return GS_ETOOBIG;
    uint32_t off = 0;
    if (len > 0) {
        if (c->arena.len > UINT32_MAX - len - 1)
            return GS_ETOOBIG;
        off = (uint32_t)c->arena.len;
        gs_buf_append(&c->arena, s, len);
        gs_buf_putc(&c->arena, '\0');
        if (c->arena.err)
            return GS_ENOMEM;
        c->row_nonempty = true;
    }
    if (c->ncells == c->cells_cap) {
        size_t cap = c->cells_cap ? c->cells_cap * 2 : 1024;
        uint32_t *nc = realloc(c->cells, cap * sizeof *nc);
        if (!nc)
            return GS_ENOMEM;
        c->cells = nc;
        c->cells_cap = cap;
    }
    c->cells[c->ncells++] = off;
    return GS_OK;
}

/* Closes the row being built, which started on line and is row number in
 * the spreadsheet's numbering; a blank one is dropped. GS_ENOMEM. */
static int end_row(gs_csv *c, size_t line, size_t number)
{
    if (!c->row_nonempty) {
        c->ncells = c->row_first; /* blank cells take no arena space */
        return GS_OK;
    }
    if (c->nrows == c->rows_cap) {
        size_t cap = c->rows_cap ? c->rows_cap * 2 : 256;
        row *nr = realloc(c->rows, cap * sizeof *nr);
        if (!nr)
            return GS_ENOMEM;
        c->rows = nr;
        c->rows_cap = cap;
    }
    c->rows[c->nrows++] = (row){c->row_first, c->ncells - c->row_first, line, number};
    c->row_first = c->ncells;
    c->row_nonempty = false;
    return GS_OK;
}

/* An empty table of encoding enc: the arena holds the shared "" at 0. */
static gs_csv *table_new(gs_csv_encoding enc)
{
    gs_csv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->enc = enc;
    c->arena = (gs_buf)GS_BUF_INIT;
    gs_buf_append(&c->arena, "", 1); /* offset 0: the shared empty cell */
    if (c->arena.err)
        gs_csv_destroy(&c);
    return c;
}

/* ---- libcsv's callbacks ------------------------------------------------ */

/* libcsv's end-of-field callback: stores the field as the next cell. */
static void on_field(void *s, size_t len, void *data)
{
    parse *p = data;
    if (p->rc)
        return;
    gs_csv *c = p->c;
    size_t col = c->ncells - c->row_first;
    if (col >= GS_CSV_MAX_COLS) {
        p->rc = gs_errf(p->eb, GS_ETOOBIG, "%s: line %zu: more than %zu columns", p->name,
                        p->row_line, GS_CSV_MAX_COLS);
        return;
    }
    if (len > GS_CSV_MAX_FIELD) {
        field_too_long(p, col);
        return;
    }
    int rc = add_cell(c, s, len);
    if (rc == GS_ETOOBIG)
        p->rc = gs_errf(p->eb, rc, "%s: line %zu: too much text", p->name, p->line);
    else if (rc)
        p->rc = gs_errf(p->eb, rc, "%s: line %zu: out of memory", p->name, p->line);
}

/* libcsv's end-of-row callback: closes the row, or drops it when blank. */
static void on_row(int term, void *data)
{
    (void)term;
    parse *p = data;
    p->in_row = false;
    if (p->rc)
        return;
    size_t number = p->row_line - p->extra; /* this row ends on p->line */
    p->extra += p->line - p->row_line;
    if (end_row(p->c, p->row_line, number))
        p->rc = gs_errf(p->eb, GS_ENOMEM, "%s: line %zu: out of memory", p->name, p->line);
}

/* Hands n bytes to libcsv and turns its failures into messages. */
static int feed(parse *p, const char *s, size_t n)
{
    size_t done = csv_parse(&p->csv, s, n, on_field, on_row, p);
    if (p->rc)
        return p->rc;
    if (done == n)
        return GS_OK;
    size_t col = p->c->ncells - p->c->row_first;
    char cn[128];
    column_name(p, col, cn, sizeof cn);
    switch (csv_error(&p->csv)) {
    case CSV_EPARSE:
        return p->rc = gs_errf(p->eb, GS_EINVAL,
                               "%s: line %zu, %s: stray quote; a field that holds a quote must "
                               "be quoted as a whole, with the quote doubled (\"a \"\"b\"\" c\")",
                               p->name, p->line, cn);
    case CSV_ENOMEM:
        if (csv_get_buffer_size(&p->csv) > GS_CSV_MAX_FIELD) {
            field_too_long(p, col);
            return p->rc;
        }
        return p->rc = gs_errf(p->eb, GS_ENOMEM, "%s: line %zu: out of memory", p->name, p->line);
    default:
        return p->rc = gs_errf(p->eb, GS_EINVAL, "%s: line %zu, %s: %s", p->name, p->line, cn,
                               csv_strerror(csv_error(&p->csv)));
    }
}

/* True when the n bytes are all spaces or tabs. */
static bool all_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_blank((unsigned char)s[i]))
            return false;
    return true;
}

/* Parses the UTF-8 text into p->c, piece by piece (see the banner). */
static int split(parse *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\n' && s[j] != '\r')
            j++;
        if (j > i) {
            if (!p->in_row && !all_blank(s + i, j - i)) {
                p->in_row = true;
                p->row_line = p->line;
            }
            for (size_t k = i; k < j; k += FEED_CHUNK) {
                size_t m = j - k < FEED_CHUNK ? j - k : FEED_CHUNK;
                if (feed(p, s + k, m))
                    return p->rc;
            }
        }
        if (j < n) {
            if (feed(p, s + j, 1))
                return p->rc;
            if (s[j] == '\n' || j + 1 == n || s[j + 1] != '\n')
                p->line++;
            j++;
        }
        i = j;
    }
    if (csv_fini(&p->csv, on_field, on_row, p) != 0) {
        return p->rc = gs_errf(p->eb, GS_EINVAL,
                               "%s: line %zu: unterminated quoted field (a quote opened in the "
                               "row starting here is never closed)",
                               p->name, p->row_line);
    }
    return p->rc;
}

/* ---- the object ------------------------------------------------------- */

int gs_csv_open_mem(gs_csv **out, const char *name, const void *data, size_t len, gs_errbuf *eb)
{
    assert(out != NULL && name != NULL && (data != NULL || len == 0));
    if (len > GS_CSV_MAX_FILE)
        return gs_errf(eb, GS_ETOOBIG, "%s: file is %zu bytes; the limit is %zu MiB", name, len,
                       GS_CSV_MAX_FILE >> 20);
    gs_csv_encoding enc = GS_CSV_UTF8;
    const char *text = "";
    size_t tlen = 0;
    char *owned = NULL;
    int rc = decode(name, data, len, eb, &enc, &text, &tlen, &owned);
    if (rc)
        return rc;

    gs_csv *c = table_new(enc);
    if (!c) {
        free(owned);
        return gs_errf(eb, GS_ENOMEM, "%s: out of memory", name);
    }

    parse p = {.c = c, .name = name, .eb = eb, .line = 1};
    csv_init(&p.csv, CSV_STRICT | CSV_STRICT_FINI);
    csv_set_space_func(&p.csv, is_blank);
    csv_set_realloc_func(&p.csv, capped_realloc);
    csv_set_blk_size(&p.csv, FIELD_BUF_BLK);
    rc = split(&p, text, tlen);
    csv_free(&p.csv);
    free(owned);
    if (rc == GS_OK && c->nrows == 0)
        rc = gs_errf(eb, GS_EINVAL, "%s: empty file: no header row", name);
    if (rc) {
        gs_csv_destroy(&c);
        return rc;
    }
    *out = c;
    return GS_OK;
}

int gs_csv_open(gs_csv **out, const char *path, gs_errbuf *eb)
{
    assert(out != NULL && path != NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gs_errf(eb, GS_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    size_t cap = 64 << 10;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uintmax_t)st.st_size > GS_CSV_MAX_FILE) {
            close(fd);
            return gs_errf(eb, GS_ETOOBIG, "%s: file is %jd bytes; the limit is %zu MiB", path,
                           (intmax_t)st.st_size, GS_CSV_MAX_FILE >> 20);
        }
        cap = (size_t)st.st_size + 1; /* +1 so that EOF is seen without a regrow */
    }
    /* Read to EOF rather than trust st_size: the file may be growing, or a pipe. */
    unsigned char *buf = malloc(cap);
    size_t len = 0;
    int rc = buf ? GS_OK : gs_errf(eb, GS_ENOMEM, "%s: out of memory", path);
    while (rc == GS_OK) {
        if (len == cap) {
            if (cap > GS_CSV_MAX_FILE) {
                rc = gs_errf(eb, GS_ETOOBIG, "%s: file is over the limit of %zu MiB", path,
                             GS_CSV_MAX_FILE >> 20);
                break;
            }
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = gs_errf(eb, GS_ENOMEM, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            rc = gs_errf(eb, GS_EIO, "%s: %s", path, strerror(errno));
        else if (got == 0)
            break;
        else
            len += (size_t)got;
    }
    close(fd);
    if (rc == GS_OK)
        rc = gs_csv_open_mem(out, path, buf, len, eb);
    free(buf);
    return rc;
}

void gs_csv_destroy(gs_csv **p)
{
    if (!p || !*p)
        return;
    gs_csv *c = *p;
    gs_buf_free(&c->arena);
    free(c->cells);
    free(c->rows);
    free(c->sheet);
    free(c);
    *p = NULL;
}

gs_csv_encoding gs_csv_encoding_of(const gs_csv *c)
{
    assert(c != NULL);
    return c->enc;
}

/* Text of cell col of internal row ri (0 = header); "" past its end. */
static const char *cell_text(const gs_csv *c, size_t ri, size_t col)
{
    const row *w = &c->rows[ri];
    if (col >= w->ncells)
        return "";
    return c->arena.data + c->cells[w->first + col];
}

size_t gs_csv_ncols(const gs_csv *c)
{
    assert(c != NULL);
    return c->rows[0].ncells;
}

const char *gs_csv_header(const gs_csv *c, size_t col)
{
    assert(c != NULL);
    return cell_text(c, 0, col);
}

size_t gs_csv_nrows(const gs_csv *c)
{
    assert(c != NULL);
    return c->nrows - 1;
}

const char *gs_csv_cell(const gs_csv *c, size_t r, size_t col)
{
    assert(c != NULL && r + 1 < c->nrows);
    return cell_text(c, r + 1, col);
}

size_t gs_csv_row_ncells(const gs_csv *c, size_t r)
{
    assert(c != NULL && r + 1 < c->nrows);
    return c->rows[r + 1].ncells;
}

size_t gs_csv_line(const gs_csv *c, size_t r)
{
    assert(c != NULL && r + 1 < c->nrows);
    return c->rows[r + 1].line;
}

const char *gs_csv_col_label(const gs_csv *c, size_t col, char buf[24])
{
    if (c->enc != GS_CSV_XLSX) {
        snprintf(buf, 24, "%zu", col + 1);
        return buf;
    }
    char letters[8];
    gs_xlsx_col_name(col + 1, letters);
    snprintf(buf, 24, "%zu (%s)", col + 1, letters);
    return buf;
}

size_t gs_csv_row_number(const gs_csv *c, size_t r)
{
    assert(c != NULL && r + 1 < c->nrows);
    return c->rows[r + 1].number;
}

/* ---- loading records ------------------------------------------------------ */

/* One error of row r at column col (a column past the header has a label
 * but no header; (size_t)-1 is the row as a whole): handed to how->error,
 * else printed unless more than max were printed already. */
static void row_error(const gs_csv *csv, const gs_csv_load *how, int *errors, size_t r,
                      size_t col, const char *msg)
{
    char cl[24];
    bool in_header = col < gs_csv_ncols(csv);
    if (how->error) {
        ++*errors;
        const char *label = col != (size_t)-1 ? gs_csv_col_label(csv, col, cl) : NULL;
        how->error(gs_csv_row_number(csv, r), label, in_header ? gs_csv_header(csv, col) : NULL,
                   msg, how->arg);
        return;
    }
    if (++*errors > how->max_shown)
        return;
    if (in_header)
        fprintf(stderr, "%s: %s: row %zu, column %s \"%s\": %s\n", how->prog, how->file,
                gs_csv_row_number(csv, r), gs_csv_col_label(csv, col, cl), gs_csv_header(csv, col),
                msg);
    else if (col != (size_t)-1)
        fprintf(stderr, "%s: %s: row %zu, column %s: %s\n", how->prog, how->file,
                gs_csv_row_number(csv, r), gs_csv_col_label(csv, col, cl), msg);
    else
        fprintf(stderr, "%s: %s: row %zu: %s\n", how->prog, how->file, gs_csv_row_number(csv, r),
                msg);
}

int gs_csv_load_rows(const gs_csv *csv, const gs_csv_load *how)
{
    size_t ncols = gs_csv_ncols(csv), nrows = gs_csv_nrows(csv);
    int errors = 0;
    for (size_t r = 0; r < nrows; r++) {
        gs_record *rec = gs_record_new(how->rt);
        if (!rec) {
            fprintf(stderr, "%s: out of memory\n", how->prog);
            return errors + 1;
        }
        bool bad = false;
        gs_errbuf eb = {{0}};
        if (how->skip && how->skip(csv, r, how->arg)) {
            gs_record_destroy(&rec);
            continue;
        }
        for (size_t c = ncols; c < gs_csv_row_ncells(csv, r); c++)
            if (*gs_csv_cell(csv, r, c)) {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "\"%.40s\" is beyond the last column of the header row; nothing there "
                         "is imported",
                         gs_csv_cell(csv, r, c));
                row_error(csv, how, &errors, r, c, msg);
                bad = true;
            }
        /* one message per bad cell; an empty one is "not given", or, when
         * a row is the whole record, clears the field */
        for (size_t c = 0; c < ncols; c++) {
            const char *cell = gs_csv_cell(csv, r, c);
            if (how->col_field[c] < 0 || (!*cell && !how->empty_clears))
                continue;
            if (gs_record_parse(rec, how->col_field[c], cell, &eb)) {
                row_error(csv, how, &errors, r, c, eb.msg);
                bad = true;
            }
        }
        int bad_field = -1;
        if (!bad && how->row(rec, &bad_field, how->arg, &eb)) {
            size_t c = 0;
            while (bad_field >= 0 && c < ncols && how->col_field[c] != bad_field)
                c++;
            row_error(csv, how, &errors, r, bad_field >= 0 && c < ncols ? c : (size_t)-1, eb.msg);
        }
        gs_record_destroy(&rec);
        if (how->progress && (r + 1) % 2000 == 0)
            fprintf(stderr, "\r导入 importing %zu/%zu rows ...", r + 1, nrows);
    }
    if (how->progress && nrows >= 2000)
        fputs("\r\033[K", stderr);
    if (!how->error && errors > how->max_shown)
        fprintf(stderr, "%s: ... and %d more errors\n", how->prog, errors - how->max_shown);
    return errors;
}

size_t gs_csv_header_line(const gs_csv *c)
{
    assert(c != NULL);
    return c->rows[0].line;
}

const char *gs_csv_sheet(const gs_csv *c)
{
    assert(c != NULL);
    return c->sheet;
}

/* ---- building from another reader ------------------------------------- */

int gs_csv_build_new(gs_csv **out, gs_csv_encoding enc, const char *sheet)
{
    assert(out != NULL);
    gs_csv *c = table_new(enc);
    if (!c || (sheet && !(c->sheet = strdup(sheet)))) {
        gs_csv_destroy(&c);
        return GS_ENOMEM;
    }
    *out = c;
    return GS_OK;
}

int gs_csv_build_cell(gs_csv *c, size_t col, const char *s, size_t len)
{
    assert(c != NULL);
    if (col < c->ncells - c->row_first)
        return GS_EINVAL;
    if (col >= GS_CSV_MAX_COLS)
        return GS_ETOOBIG;
    int rc = GS_OK;
    while (rc == GS_OK && c->ncells - c->row_first < col)
        rc = add_cell(c, "", 0);
    return rc ? rc : add_cell(c, s, len);
}

int gs_csv_build_row(gs_csv *c, size_t line)
{
    assert(c != NULL);
    return end_row(c, line, line); /* a sheet numbers its rows itself */
}

size_t gs_csv_build_nrows(const gs_csv *c)
{
    assert(c != NULL);
    return c->nrows;
}
