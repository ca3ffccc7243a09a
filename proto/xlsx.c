/*
 * xlsx.c: the XLSX reader (see gridsync/xlsx.h for what it guarantees).
 *
 * An .xlsx file is a zip archive of XML parts. libzip opens the archive;
 * each part is streamed in 64 KiB pieces through one expat parser, whose
 * handlers fill this file's state, so no part is ever held whole. Four
 * parts are read, in this order:
 *  1. xl/workbook.xml: the first <sheet>'s name and relationship id, and
 *     whether dates count from 1904;
 *  2. xl/_rels/workbook.xml.rels: that id's target, the sheet's part name;
 *  3. xl/styles.xml (optional): which cell formats (<cellXfs><xf>) show a
 *     number as a date or a date and time;
 *  4. xl/sharedStrings.xml (optional), then the sheet, whose cells go into
 *     a table of csv.h through gs_csv_build_*.
 *
 * Every limit is checked on what was actually read as well as on what the
 * archive or a count attribute claims; a claim is never used to size an
 * allocation. Handlers never assert on input: the first error is kept in
 * rd.rc with its message, and the parser is stopped.
 */
#include "gridsync/xlsx.h"

#include <assert.h>
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "gridsync/buf.h"
#include "gridsync/mpack.h"
#include "gridsync/record.h"

#define CHUNK ((size_t)64 << 10)
#define MAX_NAME 256     /* a sheet's name, a relationship id or target */
#define MAX_XF 65536     /* cell formats kept (Excel allows 64,000) */
#define MAX_NUMFMT 4096  /* custom number formats kept */
#define RATIO_FLOOR ((size_t)1 << 20)

/* How a cell format shows a number. */
enum { FMT_NUMBER = 0, FMT_DATE = 1, FMT_DATETIME = 2 };

/* The part being parsed decides what the handlers do. */
typedef enum { P_WORKBOOK, P_RELS, P_STYLES, P_STRINGS, P_SHEET } part_kind;

typedef struct numfmt {
    unsigned id;
    unsigned char kind;
} numfmt;

/* The state of one read. */
typedef struct rd {
    const char *name; /* the file, for messages */
    gs_errbuf *eb;
    int rc;
    zip_t *z;
    XML_Parser xp;
    part_kind part;
    const char *part_name;
    size_t total; /* bytes unpacked so far, every part */

    /* workbook and rels */
    char sheet[MAX_NAME], rid[MAX_NAME], target[MAX_NAME];
    bool have_sheet, date1904;

    /* styles */
    numfmt *fmts;
    size_t nfmts;
    unsigned char *xf; /* FMT_* of each cell format */
    size_t nxf;
    int in_numfmts, in_cellxfs; /* (a <numFmt> of a <dxf> is no cell's format) */

    /* shared strings */
    gs_buf sst;       /* the strings, NUL-terminated */
    uint32_t *sst_at; /* offsets into sst */
    size_t nsst, sst_cap;

    /* text being collected: a <t> of a string, a <v> of a cell */
    gs_buf text;
    int collect;   /* inside an element whose text is kept */
    int in_si, in_rph, in_is;

    /* the sheet */
    gs_csv *c;
    size_t row, col;       /* 1-based; 0 before the first */
    size_t last_col;       /* 1-based column of the last kept cell of the row, 0: none */
    char ctype[16];        /* the cell's t attribute */
    size_t cstyle;         /* its s attribute */
    bool in_sheetdata, in_c;
    size_t cells, cell_text;
} rd;

/* Replaces control characters (an attribute may hold "&#10;") with spaces,
 * so that a message stays one line. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            *s = ' ';
}

/* Sets the first error (message prefixed with the file's name) and stops
 * the parser. Returns rc. */
static int fail(rd *x, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(rd *x, int rc, const char *fmt, ...)
{
    if (x->rc)
        return x->rc;
    char msg[GS_ERRBUF_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    one_line(msg);
    gs_errf(x->eb, rc, "%s: %s", x->name, msg);
    x->rc = rc;
    if (x->xp)
        XML_StopParser(x->xp, XML_FALSE);
    return rc;
}

void gs_xlsx_col_name(size_t col, char out[8])
{
    char tmp[8];
    int n = 0;
    while (col > 0 && n < 7) {
        tmp[n++] = (char)('A' + (col - 1) % 26);
        col = (col - 1) / 26;
    }
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* fail() for the current cell of the sheet: "sheet "S", cell B5: ...". */
static int cell_fail(rd *x, int rc, const char *what)
{
    char letters[8];
    gs_xlsx_col_name(x->col, letters);
    return fail(x, rc, "sheet \"%s\", cell %s%zu: %s", x->sheet, letters, x->row, what);
}

/* ---- XML helpers ------------------------------------------------------- */

/* The local part of a namespaced expat name ("uri|row" -> "row"). */
static const char *local(const XML_Char *name)
{
    const char *bar = strrchr(name, '|');
    return bar ? bar + 1 : name;
}

/* The value of the attribute with local name want, or NULL. */
static const char *attr(const XML_Char **atts, const char *want)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (!strcmp(local(atts[i]), want))
            return atts[i + 1];
    return NULL;
}

/* Parses a decimal of at most 10 digits; false for anything else. */
static bool parse_uint(const char *s, size_t *out)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 10 || s[n])
        return false;
    *out = (size_t)strtoull(s, NULL, 10);
    return true;
}

/* Copies s into a MAX_NAME buffer; false when it does not fit. */
static bool copy_name(char *dst, const char *s)
{
    size_t n = strlen(s);
    if (n >= MAX_NAME)
        return false;
    memcpy(dst, s, n + 1);
    return true;
}

/* ---- styles: which formats are dates ----------------------------------- */

/* The kind of Excel's built-in number format id (ECMA-376 18.8.30, with
 * the ids the Chinese locale maps to dates: 27-31, 36, 50-58). */
static unsigned char builtin_kind(size_t id)
{
    if ((id >= 14 && id <= 17) || (id >= 27 && id <= 31) || id == 36 || (id >= 50 && id <= 58))
        return FMT_DATE;
    if (id == 22)
        return FMT_DATETIME;
    return FMT_NUMBER;
}

/* The kind of a custom format code: a date when its first section has a
 * y, m or d outside quotes, escapes and [brackets], and also a time when
 * it has an h or s ("yyyy/m/d h:mm"). A time alone stays a number. */
static unsigned char code_kind(const char *code)
{
    bool date = false, time = false;
    for (const char *p = code; *p && *p != ';'; p++) {
        char ch = (char)(*p | 0x20);
        if (*p == '"') {
            while (p[1] && p[1] != '"')
                p++;
            if (p[1])
                p++;
        } else if (*p == '\\' || *p == '_' || *p == '*') {
            if (p[1])
                p++;
        } else if (*p == '[') {
            while (p[1] && p[1] != ']')
                p++;
            if (p[1])
                p++;
        } else if (ch == 'y' || ch == 'd' || (ch == 'm' && !time)) {
            date = true;
        } else if (ch == 'h' || ch == 's') {
            time = true;
        }
    }
    return date ? (time ? FMT_DATETIME : FMT_DATE) : FMT_NUMBER;
}

static void styles_start(rd *x, const char *el, const XML_Char **atts)
{
    size_t id;
    if (!strcmp(el, "numFmts")) {
        x->in_numfmts++;
    } else if (!strcmp(el, "numFmt") && x->in_numfmts) {
        const char *sid = attr(atts, "numFmtId"), *code = attr(atts, "formatCode");
        if (!sid || !code || !parse_uint(sid, &id) || x->nfmts >= MAX_NUMFMT)
            return; /* an unusable format shows numbers as numbers */
        if (!x->fmts && !(x->fmts = malloc(MAX_NUMFMT * sizeof *x->fmts))) {
            fail(x, GS_ENOMEM, "out of memory");
            return;
        }
        x->fmts[x->nfmts++] = (numfmt){(unsigned)id, code_kind(code)};
    } else if (!strcmp(el, "cellXfs")) {
        x->in_cellxfs++;
    } else if (!strcmp(el, "xf") && x->in_cellxfs) {
        if (x->nxf >= MAX_XF)
            return;
        if (!x->xf && !(x->xf = calloc(MAX_XF, 1))) {
            fail(x, GS_ENOMEM, "out of memory");
            return;
        }
        const char *sid = attr(atts, "numFmtId");
        unsigned char kind = FMT_NUMBER;
        if (sid && parse_uint(sid, &id)) {
            kind = builtin_kind(id);
            for (size_t i = 0; i < x->nfmts; i++)
                if (x->fmts[i].id == id)
                    kind = x->fmts[i].kind;
        }
        x->xf[x->nxf++] = kind;
    }
}

/* ---- shared strings and inline strings ------------------------------------ */

/* Undoes the escape OOXML strings use for characters XML cannot carry as
 * they are (ECMA-376 ST_Xstring): "_x000D_" is a carriage return (which
 * XML would turn into a line feed), "_x005F_" a literal "_". A writer such
 * as libxlsxwriter escapes every control character but tab and line feed
 * so; without this, a cell's CRLF would come back as LF. In place; a
 * sequence that does not decode to a character other than NUL stays as it
 * is. */
static void unescape_xstring(gs_buf *t)
{
    if (!t->data || !memchr(t->data, '_', t->len))
        return;
    size_t w = 0;
    for (size_t r = 0; r < t->len;) {
        const char *p = t->data + r;
        unsigned v = 0;
        bool esc = t->len - r >= 7 && p[0] == '_' && p[1] == 'x' && p[6] == '_';
        for (int i = 2; esc && i < 6; i++) {
            char c = p[i];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            esc = d >= 0;
            v = v * 16 + (unsigned)(d < 0 ? 0 : d);
        }
        if (!esc || v == 0 || (v >= 0xD800 && v <= 0xDFFF)) {
            t->data[w++] = t->data[r++];
            continue;
        }
        /* UTF-8 of v (at most 3 bytes, never longer than the 7 it replaces) */
        if (v < 0x80) {
            t->data[w++] = (char)v;
        } else if (v < 0x800) {
            t->data[w++] = (char)(0xC0 | (v >> 6));
            t->data[w++] = (char)(0x80 | (v & 0x3F));
        } else {
            t->data[w++] = (char)(0xE0 | (v >> 12));
            t->data[w++] = (char)(0x80 | ((v >> 6) & 0x3F));
            t->data[w++] = (char)(0x80 | (v & 0x3F));
        }
        r += 7;
    }
    t->len = w;
    if (t->cap > w)
        t->data[w] = '\0';
}

/* Appends collected text, up to the field limit (the caller checks). */
static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    rd *x = ud;
    if (x->rc || !x->collect || x->in_rph || len <= 0)
        return;
    if (x->text.len + (size_t)len > GS_CSV_MAX_FIELD) {
        if (x->part == P_SHEET)
            cell_fail(x, GS_ETOOBIG, "text longer than 65536 bytes");
        else
            fail(x, GS_ETOOBIG, "%s: string %zu is longer than %zu bytes", x->part_name,
                 x->nsst + 1, GS_CSV_MAX_FIELD);
        return;
    }
    gs_buf_append(&x->text, s, (size_t)len);
    if (x->text.err)
        fail(x, GS_ENOMEM, "out of memory");
}

static void strings_start(rd *x, const char *el, const XML_Char **atts)
{
    if (!strcmp(el, "sst")) {
        size_t n = 0;
        const char *u = attr(atts, "uniqueCount");
        if (u && (!parse_uint(u, &n) || n > GS_XLSX_MAX_STRINGS))
            fail(x, GS_ETOOBIG, "%s claims %s shared strings; the limit is %zu", x->part_name, u,
                 GS_XLSX_MAX_STRINGS);
    } else if (!strcmp(el, "si")) {
        if (x->nsst >= GS_XLSX_MAX_STRINGS) {
            fail(x, GS_ETOOBIG, "%s: more than %zu shared strings", x->part_name,
                 GS_XLSX_MAX_STRINGS);
            return;
        }
        x->in_si = 1;
        gs_buf_reset(&x->text);
    } else if (!strcmp(el, "rPh")) {
        x->in_rph++;
    } else if (!strcmp(el, "t") && x->in_si) {
        x->collect = 1;
    }
}

/* Stores the string just collected as the next shared string. */
static void strings_end(rd *x, const char *el)
{
    if (!strcmp(el, "rPh")) {
        x->in_rph--;
    } else if (!strcmp(el, "t")) {
        x->collect = 0;
    } else if (!strcmp(el, "si") && x->in_si) {
        x->in_si = 0;
        if (x->sst.len + x->text.len + 1 > GS_XLSX_MAX_TEXT) {
            fail(x, GS_ETOOBIG, "%s: the shared strings are longer than %zu MiB together",
                 x->part_name, GS_XLSX_MAX_TEXT >> 20);
            return;
        }
        if (x->nsst == x->sst_cap) {
            size_t cap = x->sst_cap ? x->sst_cap * 2 : 256;
            uint32_t *na = realloc(x->sst_at, cap * sizeof *na);
            if (!na) {
                fail(x, GS_ENOMEM, "out of memory");
                return;
            }
            x->sst_at = na;
            x->sst_cap = cap;
        }
        x->sst_at[x->nsst++] = (uint32_t)x->sst.len;
        unescape_xstring(&x->text);
        gs_buf_append(&x->sst, x->text.data ? x->text.data : "", x->text.len);
        gs_buf_putc(&x->sst, '\0');
        if (x->sst.err)
            fail(x, GS_ENOMEM, "out of memory");
    }
}

/* ---- the sheet ---------------------------------------------------------- */

/* Parses a cell reference "B5" into its 1-based column; false when it is
 * not one or lies beyond XFD (*beyond set). */
static bool parse_ref(const char *ref, size_t *col, bool *beyond)
{
    size_t c = 0, i = 0;
    *beyond = false;
    while ((ref[i] >= 'A' && ref[i] <= 'Z') || (ref[i] >= 'a' && ref[i] <= 'z')) {
        c = c * 26 + (size_t)((ref[i] | 0x20) - 'a' + 1);
        if (++i > 3 || c > GS_XLSX_MAX_COL) {
            *beyond = true;
            return false;
        }
    }
    size_t rownum;
    if (i == 0 || !parse_uint(ref + i, &rownum))
        return false;
    *col = c;
    return true;
}

static void sheet_start(rd *x, const char *el, const XML_Char **atts)
{
    if (!strcmp(el, "sheetData")) {
        x->in_sheetdata = true;
    } else if (!x->in_sheetdata) {
        return;
    } else if (!strcmp(el, "row")) {
        const char *r = attr(atts, "r");
        size_t n = x->row + 1;
        if (r && !parse_uint(r, &n)) {
            fail(x, GS_EINVAL, "sheet \"%s\": row \"%.20s\" after row %zu is not a row number",
                 x->sheet, r, x->row);
            return;
        }
        if (n > GS_XLSX_MAX_ROWS) {
            fail(x, GS_ETOOBIG, "sheet \"%s\": row %zu is beyond Excel's last row %zu", x->sheet,
                 n, GS_XLSX_MAX_ROWS);
            return;
        }
        if (n <= x->row) {
            fail(x, GS_EINVAL, "sheet \"%s\": row %zu comes after row %zu", x->sheet, n, x->row);
            return;
        }
        x->row = n;
        x->col = 0;
        x->last_col = 0;
    } else if (!strcmp(el, "c")) {
        const char *ref = attr(atts, "r"), *t = attr(atts, "t"), *s = attr(atts, "s");
        size_t col = x->col + 1;
        bool beyond = false;
        if (x->row == 0)
            x->row = 1; /* a cell outside any <row> */
        if (ref && !parse_ref(ref, &col, &beyond)) {
            fail(x, beyond ? GS_ETOOBIG : GS_EINVAL,
                 "sheet \"%s\", row %zu: cell \"%.20s\" %s", x->sheet, x->row, ref,
                 beyond ? "is beyond Excel's last column XFD" : "is not a cell reference");
            return;
        }
        if (col <= x->col) {
            x->col = col;
            cell_fail(x, GS_EINVAL, "the cell comes after a cell to its right");
            return;
        }
        x->col = col;
        snprintf(x->ctype, sizeof x->ctype, "%s", t ? t : "n");
        if (!s || !parse_uint(s, &x->cstyle))
            x->cstyle = 0;
        x->in_c = true;
        gs_buf_reset(&x->text);
    } else if (!x->in_c) {
        return;
    } else if (!strcmp(el, "v")) {
        x->collect = !x->in_is;
    } else if (!strcmp(el, "is")) {
        x->in_is = 1;
    } else if (!strcmp(el, "rPh")) {
        x->in_rph++;
    } else if (!strcmp(el, "t") && x->in_is) {
        x->collect = 1;
    }
}

/* Writes a date serial (days since 1899-12-30, or since 1904-01-01) of
 * kind FMT_DATE or FMT_DATETIME into out as gs_record_parse reads it;
 * false when it is no date Excel can show. */
static bool serial_text(const rd *x, double serial, unsigned char kind, gs_buf *out)
{
    if (!(serial >= 1 && serial < 2958466)) /* 1900-01-01 .. 9999-12-31 */
        return false;
    double secs = round(serial * 86400.0) + (x->date1904 ? 1462.0 * 86400.0 : 0);
    /* gs_datetime_from_ms writes China time: shift so that it shows the wall
     * clock the cell holds. */
    int64_t ms = ((int64_t)secs - (int64_t)25569 * 86400 - 8 * 3600) * 1000;
    gs_buf dt = GS_BUF_INIT;
    gs_datetime_from_ms(ms, &dt);
    if (dt.err || dt.len < 10) {
        gs_buf_free(&dt);
        return false;
    }
    gs_buf_append(out, dt.data, kind == FMT_DATE ? 10 : dt.len);
    gs_buf_free(&dt);
    return true;
}

/* The text of a number cell v into out (see the header). */
static void number_text(const rd *x, const char *v, gs_buf *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    bool num = *v && !*end && errno == 0 && isfinite(d);
    unsigned char kind = x->cstyle < x->nxf ? x->xf[x->cstyle] : FMT_NUMBER;
    if (num && kind != FMT_NUMBER && serial_text(x, d, kind, out))
        return;
    if (num && strpbrk(v, "eE") && d == floor(d) && fabs(d) < 1e15)
        gs_buf_printf(out, "%.0f", d);
    else
        gs_buf_puts(out, v);
}

/* Closes a cell: works out its text and adds it to the row. */
static void end_cell(rd *x)
{
    x->in_c = false;
    x->in_is = 0;
    unescape_xstring(&x->text);
    gs_buf_putc(&x->text, '\0');
    if (x->text.err) {
        fail(x, GS_ENOMEM, "out of memory");
        return;
    }
    const char *v = x->text.data;
    gs_buf val = GS_BUF_INIT;
    const char *t = x->ctype;
    if (!strcmp(t, "s")) {
        size_t k = 0;
        if (*v && (!parse_uint(v, &k) || k >= x->nsst)) {
            gs_buf_free(&val);
            char what[96];
            snprintf(what, sizeof what, "shared string %.20s does not exist (%zu in the table)",
                     v, x->nsst);
            cell_fail(x, GS_EINVAL, what);
            return;
        } else if (*v) {
            gs_buf_puts(&val, x->sst.data + x->sst_at[k]);
        }
    } else if (!strcmp(t, "b")) {
        gs_buf_puts(&val, !*v ? "" : strcmp(v, "0") ? "TRUE" : "FALSE");
    } else if (!strcmp(t, "e")) {
        char what[96];
        snprintf(what, sizeof what, "the cell holds the Excel error %.20s; correct the formula",
                 v);
        cell_fail(x, GS_EINVAL, what);
        return;
    } else if (!strcmp(t, "n") && *v) {
        number_text(x, v, &val);
    } else {
        gs_buf_puts(&val, v); /* str, inlineStr, d */
    }
    const char *s = val.data ? val.data : "";
    if (val.err) {
        fail(x, GS_ENOMEM, "out of memory");
    } else if (strspn(s, " \t") == val.len) {
        /* empty, or only spaces: "" */
    } else if (val.len > GS_CSV_MAX_FIELD) {
        cell_fail(x, GS_ETOOBIG, "text longer than 65536 bytes");
    } else if (!gs_utf8_valid(s, val.len) || memchr(s, 0, val.len)) {
        cell_fail(x, GS_EINVAL, "the text is not UTF-8");
    } else if (x->col > GS_CSV_MAX_COLS) {
        char what[64];
        snprintf(what, sizeof what, "more than %zu columns", GS_CSV_MAX_COLS);
        cell_fail(x, GS_ETOOBIG, what);
    } else if ((x->cell_text += val.len) > GS_XLSX_MAX_TEXT) {
        fail(x, GS_ETOOBIG, "sheet \"%s\": the cells hold more than %zu MiB of text", x->sheet,
             GS_XLSX_MAX_TEXT >> 20);
    } else if ((x->cells += x->col - x->last_col) > GS_XLSX_MAX_CELLS) {
        fail(x, GS_ETOOBIG, "sheet \"%s\": more than %zu cells", x->sheet, GS_XLSX_MAX_CELLS);
    } else {
        int rc = gs_csv_build_cell(x->c, x->col - 1, s, val.len);
        x->last_col = x->col;
        if (rc)
            cell_fail(x, rc, gs_strerror(rc));
    }
    gs_buf_free(&val);
}

static void sheet_end(rd *x, const char *el)
{
    if (!x->in_sheetdata)
        return;
    if (!strcmp(el, "sheetData")) {
        x->in_sheetdata = false;
    } else if (!strcmp(el, "row")) {
        if (gs_csv_build_row(x->c, x->row))
            fail(x, GS_ENOMEM, "out of memory");
    } else if (!strcmp(el, "c") && x->in_c) {
        end_cell(x);
    } else if (!strcmp(el, "v") || !strcmp(el, "t")) {
        x->collect = 0;
    } else if (!strcmp(el, "rPh")) {
        x->in_rph--;
    }
}

/* ---- workbook and relationships ------------------------------------------ */

static void workbook_start(rd *x, const char *el, const XML_Char **atts)
{
    if (!strcmp(el, "workbookPr")) {
        const char *d = attr(atts, "date1904");
        x->date1904 = d && (!strcmp(d, "1") || !strcasecmp(d, "true"));
    } else if (!strcmp(el, "sheet") && !x->have_sheet) {
        const char *name = attr(atts, "name"), *id = attr(atts, "id");
        if (!name || !id || !copy_name(x->sheet, name) || !copy_name(x->rid, id)) {
            fail(x, GS_EINVAL, "xl/workbook.xml: the first sheet has no usable name or id");
            return;
        }
        one_line(x->sheet); /* it names the sheet in every message */
        x->have_sheet = true;
    }
}

static void rels_start(rd *x, const char *el, const XML_Char **atts)
{
    const char *id = attr(atts, "Id"), *target = attr(atts, "Target");
    if (strcmp(el, "Relationship") || !id || !target || strcmp(id, x->rid) || x->target[0])
        return;
    char t[MAX_NAME];
    int n = target[0] == '/' ? snprintf(t, sizeof t, "%s", target + 1)
                             : snprintf(t, sizeof t, "xl/%s", target);
    if (n < 0 || (size_t)n >= sizeof t || !copy_name(x->target, t))
        fail(x, GS_EINVAL, "xl/_rels/workbook.xml.rels: the sheet's part name is too long");
}

/* ---- expat's callbacks ------------------------------------------------------ */

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    rd *x = ud;
    if (x->rc)
        return;
    const char *el = local(name);
    switch (x->part) {
    case P_WORKBOOK: workbook_start(x, el, atts); break;
    case P_RELS: rels_start(x, el, atts); break;
    case P_STYLES: styles_start(x, el, atts); break;
    case P_STRINGS: strings_start(x, el, atts); break;
    case P_SHEET: sheet_start(x, el, atts); break;
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    rd *x = ud;
    if (x->rc)
        return;
    const char *el = local(name);
    if (x->part == P_STRINGS)
        strings_end(x, el);
    else if (x->part == P_SHEET)
        sheet_end(x, el);
    else if (x->part == P_STYLES && !strcmp(el, "cellXfs"))
        x->in_cellxfs--;
    else if (x->part == P_STYLES && !strcmp(el, "numFmts"))
        x->in_numfmts--;
}

/* A DOCTYPE is refused outright: it is the door to entity expansion
 * ("billion laughs") and to external entities, and no Office part has one. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal;
    rd *x = ud;
    fail(x, GS_EINVAL, "%s: holds a DOCTYPE (entity declarations); refused", x->part_name);
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param,
                              const XML_Char *value, int vlen, const XML_Char *base,
                              const XML_Char *sysid, const XML_Char *pubid,
                              const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)vlen, (void)base, (void)sysid, (void)pubid,
        (void)notation;
    rd *x = ud;
    fail(x, GS_EINVAL, "%s: declares an XML entity; refused", x->part_name);
}

/* ---- reading parts ------------------------------------------------------------ */

/* Streams the part called pname through expat as kind. GS_ENOTFOUND
 * (no message) when the archive has no such part and it is optional. */
static int read_part(rd *x, const char *pname, part_kind kind, bool required)
{
    zip_int64_t idx = zip_name_locate(x->z, pname, ZIP_FL_NOCASE);
    if (idx < 0) {
        if (!required)
            return GS_ENOTFOUND;
        return fail(x, GS_EINVAL,
                    "不是有效的 Excel 工作簿 (not a valid .xlsx workbook): it has no %s", pname);
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(x->z, (zip_uint64_t)idx, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE)) {
        if (st.size > GS_XLSX_MAX_PART)
            return fail(x, GS_ETOOBIG,
                        "%s unpacks to %llu bytes; the limit is %zu MiB (a zip bomb?)", pname,
                        (unsigned long long)st.size, GS_XLSX_MAX_PART >> 20);
        if ((st.valid & ZIP_STAT_COMP_SIZE) && st.size > RATIO_FLOOR &&
            st.size / (st.comp_size ? st.comp_size : 1) > GS_XLSX_MAX_RATIO)
            return fail(x, GS_ETOOBIG,
                        "%s unpacks %llu bytes from %llu, more than %d to 1 (a zip bomb?)", pname,
                        (unsigned long long)st.size, (unsigned long long)st.comp_size,
                        GS_XLSX_MAX_RATIO);
    }
    zip_file_t *zf = zip_fopen_index(x->z, (zip_uint64_t)idx, 0);
    if (!zf)
        return fail(x, GS_EINVAL, "%s: %s", pname, zip_strerror(x->z));
    x->xp = XML_ParserCreateNS(NULL, '|');
    char *buf = malloc(CHUNK);
    if (!x->xp || !buf) {
        zip_fclose(zf);
        free(buf);
        if (x->xp)
            XML_ParserFree(x->xp);
        x->xp = NULL;
        return fail(x, GS_ENOMEM, "out of memory");
    }
    x->part = kind;
    x->part_name = pname;
    XML_SetUserData(x->xp, x);
    XML_SetElementHandler(x->xp, on_start, on_end);
    XML_SetCharacterDataHandler(x->xp, on_text);
    XML_SetStartDoctypeDeclHandler(x->xp, on_doctype);
    XML_SetEntityDeclHandler(x->xp, on_entity);
    XML_SetParamEntityParsing(x->xp, XML_PARAM_ENTITY_PARSING_NEVER);
    size_t got_part = 0;
    for (;;) {
        zip_int64_t got = zip_fread(zf, buf, CHUNK);
        if (got < 0) {
            fail(x, GS_EINVAL, "%s: %s", pname, zip_file_strerror(zf));
            break;
        }
        got_part += (size_t)got;
        x->total += (size_t)got;
        if (got_part > GS_XLSX_MAX_PART) {
            fail(x, GS_ETOOBIG, "%s unpacks to more than %zu MiB (a zip bomb?)", pname,
                 GS_XLSX_MAX_PART >> 20);
            break;
        }
        if (x->total > GS_XLSX_MAX_TOTAL) {
            fail(x, GS_ETOOBIG, "the parts read unpack to more than %zu MiB (a zip bomb?)",
                 GS_XLSX_MAX_TOTAL >> 20);
            break;
        }
        if (got_part > RATIO_FLOOR && (st.valid & ZIP_STAT_COMP_SIZE) &&
            got_part / (st.comp_size ? st.comp_size : 1) > GS_XLSX_MAX_RATIO) {
            fail(x, GS_ETOOBIG, "%s unpacks more than %d to 1 (a zip bomb?)", pname,
                 GS_XLSX_MAX_RATIO);
            break;
        }
        if (XML_Parse(x->xp, buf, (int)got, got == 0) == XML_STATUS_ERROR) {
            if (!x->rc)
                fail(x, GS_EINVAL, "%s: line %lu: %s", pname,
                     (unsigned long)XML_GetCurrentLineNumber(x->xp),
                     XML_ErrorString(XML_GetErrorCode(x->xp)));
            break;
        }
        if (x->rc || got == 0)
            break;
    }
    XML_ParserFree(x->xp);
    x->xp = NULL;
    free(buf);
    zip_fclose(zf);
    return x->rc;
}

/* Reads the workbook in x->z into a new table (see the banner). */
static int read_workbook(rd *x, gs_csv **out)
{
    if (read_part(x, "xl/workbook.xml", P_WORKBOOK, true))
        return x->rc;
    if (!x->have_sheet)
        return fail(x, GS_EINVAL, "xl/workbook.xml: the workbook has no sheet");
    if (read_part(x, "xl/_rels/workbook.xml.rels", P_RELS, true))
        return x->rc;
    if (!x->target[0])
        return fail(x, GS_EINVAL, "xl/_rels/workbook.xml.rels: no part for sheet \"%s\" (%s)",
                    x->sheet, x->rid);
    int rc = read_part(x, "xl/styles.xml", P_STYLES, false);
    if (rc && rc != GS_ENOTFOUND)
        return rc;
    rc = read_part(x, "xl/sharedStrings.xml", P_STRINGS, false);
    if (rc && rc != GS_ENOTFOUND)
        return rc;
    if (gs_csv_build_new(&x->c, GS_CSV_XLSX, x->sheet))
        return fail(x, GS_ENOMEM, "out of memory");
    char target[MAX_NAME];
    memcpy(target, x->target, sizeof target);
    if (read_part(x, target, P_SHEET, true))
        return x->rc;
    if (gs_csv_build_nrows(x->c) == 0)
        return fail(x, GS_EINVAL, "sheet \"%s\" is empty: no header row", x->sheet);
    *out = x->c;
    x->c = NULL;
    return GS_OK;
}

/* Opens the archive from src (taken over, also on failure) and reads it. */
static int read_source(gs_csv **out, const char *name, zip_source_t *src, gs_errbuf *eb)
{
    rd x = {.name = name, .eb = eb, .sst = GS_BUF_INIT, .text = GS_BUF_INIT};
    zip_error_t ze;
    zip_error_init(&ze);
    x.z = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (!x.z) {
        zip_source_free(src);
        fail(&x, GS_EINVAL, "不是有效的 Excel 工作簿 (not a valid .xlsx workbook): %s",
             zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return x.rc;
    }
    zip_error_fini(&ze);
    int rc = read_workbook(&x, out);
    zip_discard(x.z);
    gs_csv_destroy(&x.c);
    free(x.fmts);
    free(x.xf);
    free(x.sst_at);
    gs_buf_free(&x.sst);
    gs_buf_free(&x.text);
    return rc;
}

int gs_xlsx_open_mem(gs_csv **out, const char *name, const void *data, size_t len,
                     gs_errbuf *eb)
{
    assert(out != NULL && name != NULL && (data != NULL || len == 0));
    if (len > GS_XLSX_MAX_FILE)
        return gs_errf(eb, GS_ETOOBIG, "%s: file is %zu bytes; the limit is %zu MiB", name, len,
                       GS_XLSX_MAX_FILE >> 20);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(len ? data : "", len, 0, &ze);
    zip_error_fini(&ze);
    if (!src)
        return gs_errf(eb, GS_ENOMEM, "%s: out of memory", name);
    return read_source(out, name, src, eb);
}

int gs_xlsx_open(gs_csv **out, const char *path, gs_errbuf *eb)
{
    assert(out != NULL && path != NULL);
    struct stat st;
    if (stat(path, &st) != 0)
        return gs_errf(eb, GS_EIO, "%s: %s", path, strerror(errno));
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > GS_XLSX_MAX_FILE)
        return gs_errf(eb, GS_ETOOBIG, "%s: file is %jd bytes; the limit is %zu MiB", path,
                       (intmax_t)st.st_size, GS_XLSX_MAX_FILE >> 20);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_file_create(path, 0, -1, &ze);
    if (!src) {
        int rc = gs_errf(eb, GS_EIO, "%s: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    zip_error_fini(&ze);
    return read_source(out, path, src, eb);
}

bool gs_xlsx_is_workbook(const char *path)
{
    size_t n = strlen(path);
    if (n >= 5 && !strcasecmp(path + n - 5, ".xlsx"))
        return true;
    unsigned char magic[4] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t got = read(fd, magic, sizeof magic);
    close(fd);
    return got == 4 && !memcmp(magic, "PK\3\4", 4);
}
