/*
 * test_csv.c: the CSV reader (proto/csv.c) against files as Excel and
 * other tools write them.
 *
 * Every good case is a row of one table, run three times: as UTF-8, as
 * UTF-8 with a byte-order mark, and converted to GB18030 at test time with
 * iconv(3) (what Chinese Excel saves); each time both from a file in a
 * fresh mkdtemp directory and from memory. The expected cells are the UTF-8
 * literals, compared byte for byte. The bad cases are a second table of
 * inputs with the error code and the parts of the message a user needs
 * (file, line, column). Limits and odd files have their own tests.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gridsync/csv.h"
#include "gridsync/err.h"
#include "gstest.h"

/* ---- fixture: a temporary directory for the test's files --------------- */

static char dir[64];

static void make_dir(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/csvin-XXXXXX", t && strlen(t) < 40 ? t : "/tmp");
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

/* The directory holds only plain files written by put(). */
static void remove_dir(void)
{
    static const char *const names[] = {"in.csv", "bad.csv", "big.csv"};
    char path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    ck_assert_int_eq(rmdir(dir), 0);
}

/* Writes len bytes to dir/name; returns the path (static, overwritten by the next call). */
static const char *put(const char *name, const void *data, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* utf8 converted to GB18030 with iconv(3); malloc'd, length in *len. */
static char *to_gb18030(const char *utf8, size_t *len)
{
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    ck_assert_msg(cd != (iconv_t)-1, "iconv_open: %s", strerror(errno));
    size_t n = strlen(utf8);
    size_t cap = 2 * n + 4;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    char *ip = (char *)utf8, *op = out;
    size_t il = n, ol = cap;
    ck_assert_msg(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1, "iconv: %s", strerror(errno));
    iconv_close(cd);
    *len = cap - ol;
    return out;
}

static int has_non_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

/* ---- good files -------------------------------------------------------- */

enum { FORM_UTF8, FORM_BOM, FORM_GB, FORM__COUNT };

#define MAXR 6
#define MAXC 6

/* grid[0] is the header, grid[1..] the data rows; a NULL ends a row, so a
 * row's cell count is its number of non-NULL entries. lines[r] is
 * gs_csv_line of data row r. */
typedef struct good_case {
    const char *name;
    const char *input;
    size_t nrows;
    const char *grid[MAXR][MAXC];
    size_t lines[MAXR];
} good_case;

static const good_case good[] = {
    {"chinese",
     "事件类别,姓名,备注\n邻里纠纷,王小明,无\n矛盾调解,李四,\"已处理，满意\"\n",
     2,
     {{"事件类别", "姓名", "备注"},
      {"邻里纠纷", "王小明", "无"},
      {"矛盾调解", "李四", "已处理，满意"}},
     {2, 3}},
    {"crlf",
     "事件类别,姓名\r\n邻里纠纷,王小明\r\n\r\n噪音,张三\r\n",
     2,
     {{"事件类别", "姓名"}, {"邻里纠纷", "王小明"}, {"噪音", "张三"}},
     {2, 4}},
    {"quoted",
     "名称,备注\n\"a,b\",\"他说\"\"好\"\"\"\n\"第一行\n第二行\",x\nlast,\"y\"\n",
     3,
     {{"名称", "备注"}, {"a,b", "他说\"好\""}, {"第一行\n第二行", "x"}, {"last", "y"}},
     {2, 3, 5}},
    {"quoted_crlf",
     "h1,h2\r\n\"x\r\ny\",z\r\n\"\r\n\r\n\",next\r\nlast,1\r\n",
     3,
     {{"h1", "h2"}, {"x\r\ny", "z"}, {"\r\n\r\n", "next"}, {"last", "1"}},
     {2, 4, 7}},
    {"short_and_long_rows",
     "a,b,c\n1\n1,2,3,4\n,,x\n王\n",
     4,
     {{"a", "b", "c"}, {"1"}, {"1", "2", "3", "4"}, {"", "", "x"}, {"王"}},
     {2, 3, 4, 5}},
    {"blank_lines_skipped",
     "\n\n  \nh1,h2\n\n1,2\n   \n,,\n\"\",\"\"\n3,4\n\n",
     2,
     {{"h1", "h2"}, {"1", "2"}, {"3", "4"}},
     {6, 10}},
    {"trimming",
     "h\n  a  ,\"  b  \",  \"c\"  ,d e,\t\t王 小明\t\n",
     1,
     {{"h"}, {"a", "  b  ", "c", "d e", "王 小明"}},
     {2}},
    {"header_only", "事件类别,姓名\n", 0, {{"事件类别", "姓名"}}, {0}},
    {"header_only_no_newline", "h1,h2", 0, {{"h1", "h2"}}, {0}},
    {"no_final_newline", "h1,h2\n邻里纠纷,2", 1, {{"h1", "h2"}, {"邻里纠纷", "2"}}, {2}},
    {"lone_cr", "h1,h2\r1,2\r\r3,4", 2, {{"h1", "h2"}, {"1", "2"}, {"3", "4"}}, {2, 4}},
    {"multiline_header", "\"事件\n类别\",b\n1,2\n", 1, {{"事件\n类别", "b"}, {"1", "2"}}, {3}},
    {"gb18030_four_byte", "字,备注\n𠮷,㐀€\n", 1, {{"字", "备注"}, {"𠮷", "㐀€"}}, {2}},
    {"empty_header_cell", ",备注\nx,y\n", 1, {{"", "备注"}, {"x", "y"}}, {2}},
};
#define NGOOD (sizeof good / sizeof good[0])

static size_t grid_ncells(const good_case *g, size_t r)
{
    size_t n = 0;
    while (n < MAXC && g->grid[r][n])
        n++;
    return n;
}

/* Checks everything the reader says about c against case g. */
static void check_against(const gs_csv *c, const good_case *g, const char *how)
{
    size_t ncols = grid_ncells(g, 0);
    ck_assert_msg(gs_csv_ncols(c) == ncols, "%s %s: ncols %zu, want %zu", g->name, how,
                  gs_csv_ncols(c), ncols);
    for (size_t k = 0; k < ncols; k++)
        ck_assert_msg(strcmp(gs_csv_header(c, k), g->grid[0][k]) == 0,
                      "%s %s: header %zu is \"%s\", want \"%s\"", g->name, how, k,
                      gs_csv_header(c, k), g->grid[0][k]);
    ck_assert_str_eq(gs_csv_header(c, ncols), "");
    ck_assert_msg(gs_csv_nrows(c) == g->nrows, "%s %s: nrows %zu, want %zu", g->name, how,
                  gs_csv_nrows(c), g->nrows);
    for (size_t r = 0; r < g->nrows; r++) {
        size_t n = grid_ncells(g, r + 1);
        ck_assert_msg(gs_csv_row_ncells(c, r) == n, "%s %s: row %zu has %zu cells, want %zu",
                      g->name, how, r, gs_csv_row_ncells(c, r), n);
        for (size_t k = 0; k < n; k++)
            ck_assert_msg(strcmp(gs_csv_cell(c, r, k), g->grid[r + 1][k]) == 0,
                          "%s %s: cell %zu,%zu is \"%s\", want \"%s\"", g->name, how, r, k,
                          gs_csv_cell(c, r, k), g->grid[r + 1][k]);
        ck_assert_str_eq(gs_csv_cell(c, r, n), "");
        ck_assert_str_eq(gs_csv_cell(c, r, GS_CSV_MAX_COLS + 5), "");
        ck_assert_msg(gs_csv_line(c, r) == g->lines[r], "%s %s: row %zu at line %zu, want %zu",
                      g->name, how, r, gs_csv_line(c, r), g->lines[r]);
    }
}

/* Loop index: case * FORM__COUNT + form. */
START_TEST(good_files)
{
    const good_case *g = &good[_i / FORM__COUNT];
    int form = _i % FORM__COUNT;
    static const char *const form_names[] = {"(UTF-8)", "(UTF-8 BOM)", "(GB18030)"};
    const char *how = form_names[form];

    char *bytes;
    size_t len;
    gs_csv_encoding want;
    if (form == FORM_GB) {
        bytes = to_gb18030(g->input, &len);
        want = has_non_ascii(g->input) ? GS_CSV_GB18030 : GS_CSV_UTF8;
    } else {
        size_t n = strlen(g->input), pre = form == FORM_BOM ? 3 : 0;
        bytes = malloc(n + pre + 1);
        ck_assert_ptr_nonnull(bytes);
        memcpy(bytes, "\xEF\xBB\xBF", pre);
        memcpy(bytes + pre, g->input, n + 1);
        len = n + pre;
        want = form == FORM_BOM ? GS_CSV_UTF8_BOM : GS_CSV_UTF8;
    }

    gs_errbuf eb = {{0}};
    gs_csv *c = NULL;
    int rc = gs_csv_open(&c, put("in.csv", bytes, len), &eb);
    ck_assert_msg(rc == GS_OK, "%s %s: %s", g->name, how, eb.msg);
    ck_assert_int_eq(gs_csv_encoding_of(c), want);
    check_against(c, g, how);
    gs_csv_destroy(&c);
    ck_assert_ptr_null(c);

    rc = gs_csv_open_mem(&c, "in.csv", bytes, len, &eb);
    ck_assert_msg(rc == GS_OK, "%s %s from memory: %s", g->name, how, eb.msg);
    ck_assert_int_eq(gs_csv_encoding_of(c), want);
    check_against(c, g, how);
    gs_csv_destroy(&c);
    free(bytes);
}
END_TEST

/* ---- bad files --------------------------------------------------------- */

typedef struct bad_case {
    const char *name;
    const char *input;
    size_t len; /* 0: strlen(input) */
    int rc;
    const char *want[3]; /* substrings of the message */
} bad_case;

static const bad_case bad[] = {
    {"empty", "", 0, GS_EINVAL, {"bad.csv: empty file: no header row"}},
    {"bom_only", "\xEF\xBB\xBF", 0, GS_EINVAL, {"bad.csv: empty file"}},
    {"blank_only", "\n\r\n   \n,,\n\"\"\n", 0, GS_EINVAL, {"bad.csv: empty file"}},
    {"undecodable",
     "a,b\n1,2\nx,\x80\x80\n",
     0,
     GS_EINVAL,
     {"bad.csv: byte offset 10 (line 3): not UTF-8 and not GB18030"}},
    {"utf8_damaged",
     "事件类别\n王小明\n\xFF\n",
     0,
     GS_EINVAL,
     {"bad.csv: byte offset 23 (line 3): not UTF-8 and not GB18030"}},
    {"truncated_at_end", "a,b\n1,\xE7", 0, GS_EINVAL, {"byte offset 6 (line 2)"}},
    {"bom_then_not_utf8",
     "\xEF\xBB\xBF"
     "a,b\n\xC3\x28\n",
     0,
     GS_EINVAL,
     {"bad.csv: byte offset 7 (line 2): not UTF-8", "byte-order mark"}},
    {"utf16le",
     "\xFF\xFE"
     "a\0,\0b\0",
     8,
     GS_EINVAL,
     {"bad.csv: ", "UTF-16"}},
    {"nul_byte", "a,b\n1,\0\n", 8, GS_EINVAL, {"bad.csv: byte offset 6 (line 2): NUL byte"}},
    {"unterminated_quote",
     "a,b\n1,2\n3,\"abc\n4,5\n",
     0,
     GS_EINVAL,
     {"bad.csv: line 3: unterminated quoted field"}},
    {"unterminated_quote_crlf",
     "a,b\r\n\r\n1,2\r\n3,\"abc\r\n4,5\r\n",
     0,
     GS_EINVAL,
     {"bad.csv: line 4: unterminated quoted field"}},
    {"unterminated_header",
     "\"a,b\n1,2\n",
     0,
     GS_EINVAL,
     {"bad.csv: line 1: unterminated quoted field"}},
    {"stray_quote",
     "事件类别,备注\n1,x\"y\n",
     0,
     GS_EINVAL,
     {"bad.csv: line 2, column 2 (备注): stray quote"}},
    {"text_after_quote",
     "a,b\n\n\"x\"y,1\n",
     0,
     GS_EINVAL,
     {"bad.csv: line 3, column 1 (a): stray quote"}},
    {"stray_quote_in_header", "a,b\"\n", 0, GS_EINVAL, {"bad.csv: line 1, column 2: stray quote"}},
};
#define NBAD (sizeof bad / sizeof bad[0])

/* Opens len bytes as dir/bad.csv and from memory as "bad.csv"; both must
 * fail with rc and a message holding every non-NULL want[]. */
static void expect_error(const char *name, const void *data, size_t len, int rc,
                         const char *const want[3])
{
    for (int mem = 0; mem < 2; mem++) {
        gs_errbuf eb = {{0}};
        gs_csv *c = NULL;
        int got = mem ? gs_csv_open_mem(&c, "bad.csv", data, len, &eb)
                      : gs_csv_open(&c, put("bad.csv", data, len), &eb);
        ck_assert_msg(got == rc, "%s%s: rc %s, want %s (%s)", name, mem ? " (memory)" : "",
                      gs_errname(got), gs_errname(rc), eb.msg);
        ck_assert_ptr_null(c);
        for (int k = 0; k < 3 && want[k]; k++)
            ck_assert_msg(strstr(eb.msg, want[k]) != NULL, "%s: message \"%s\" lacks \"%s\"", name,
                          eb.msg, want[k]);
    }
}

START_TEST(bad_files)
{
    const bad_case *b = &bad[_i];
    expect_error(b->name, b->input, b->len ? b->len : strlen(b->input), b->rc, b->want);
}
END_TEST

/* A GBK file from Excel with one damaged byte: the line is found in the raw
 * bytes, and the offset is GB18030's (the decoder that got further). */
START_TEST(gb18030_damaged)
{
    size_t n;
    char *gb = to_gb18030("事件类别,姓名\n邻里纠纷,王小明\n矛盾调解,李四\n", &n);
    char *bytes = malloc(n + 8);
    ck_assert_ptr_nonnull(bytes);
    memcpy(bytes, gb, n);
    memcpy(bytes + n, "\xFF,x\n", 4);
    char want0[64];
    snprintf(want0, sizeof want0, "bad.csv: byte offset %zu (line 4)", n);
    const char *const want[3] = {want0, "not UTF-8 and not GB18030"};
    expect_error("gb18030_damaged", bytes, n + 4, GS_EINVAL, want);
    free(bytes);
    free(gb);
}
END_TEST

/* A field of n bytes of 'x', quoted or not, in column 2 of data row 1. */
static char *long_field_file(size_t n, int quoted, size_t *len)
{
    const char *head = "事件类别,备注\n1,";
    size_t h = strlen(head);
    char *s = malloc(h + n + 8);
    ck_assert_ptr_nonnull(s);
    memcpy(s, head, h);
    size_t i = h;
    if (quoted)
        s[i++] = '"';
    memset(s + i, 'x', n);
    i += n;
    if (quoted)
        s[i++] = '"';
    s[i++] = '\n';
    *len = i;
    return s;
}

START_TEST(field_limit)
{
    for (int quoted = 0; quoted < 2; quoted++) {
        size_t len;
        char *s = long_field_file(GS_CSV_MAX_FIELD, quoted, &len);
        gs_errbuf eb = {{0}};
        gs_csv *c = NULL;
        ck_assert_msg(gs_csv_open_mem(&c, "long.csv", s, len, &eb) == GS_OK, "%s", eb.msg);
        ck_assert_uint_eq(strlen(gs_csv_cell(c, 0, 1)), GS_CSV_MAX_FIELD);
        gs_csv_destroy(&c);
        free(s);

        /* one byte over, a little over (caught when the field ends), far
         * over (caught while it is buffered), and over without an end */
        static const char *const want[3] = {
            "bad.csv: line 2, column 2 (备注): field longer than 65536 bytes"};
        const size_t sizes[] = {GS_CSV_MAX_FIELD + 1, GS_CSV_MAX_FIELD + 700, 1 << 20};
        for (size_t k = 0; k < 3; k++) {
            s = long_field_file(sizes[k], quoted, &len);
            expect_error("long field", s, len, GS_ETOOBIG, want);
            /* far over and never closed: still "too long", found before the end */
            if (quoted && sizes[k] > GS_CSV_MAX_FIELD + 1024)
                expect_error("long unterminated field", s, len - 2, GS_ETOOBIG, want);
            free(s);
        }
    }
    /* in the header there is no column name to give yet */
    char *s = malloc(GS_CSV_MAX_FIELD + 2);
    ck_assert_ptr_nonnull(s);
    memset(s, 'h', GS_CSV_MAX_FIELD + 1);
    s[GS_CSV_MAX_FIELD + 1] = '\n';
    static const char *const want[3] = {"bad.csv: line 1, column 1: field longer than"};
    expect_error("long header", s, GS_CSV_MAX_FIELD + 2, GS_ETOOBIG, want);
    free(s);
}
END_TEST

/* A header of ncols columns "c1,c2,..." and one data row of as many cells. */
static char *wide_file(size_t ncols, size_t *len)
{
    char *s = malloc(ncols * 16 + 8);
    ck_assert_ptr_nonnull(s);
    size_t i = 0;
    for (int row = 0; row < 2; row++) {
        for (size_t k = 0; k < ncols; k++)
            i += (size_t)sprintf(s + i, "%s%c%zu", k ? "," : "", row ? 'v' : 'c', k + 1);
        s[i++] = '\n';
    }
    *len = i;
    return s;
}

START_TEST(column_limit)
{
    size_t len;
    char *s = wide_file(GS_CSV_MAX_COLS, &len);
    gs_errbuf eb = {{0}};
    gs_csv *c = NULL;
    ck_assert_msg(gs_csv_open_mem(&c, "wide.csv", s, len, &eb) == GS_OK, "%s", eb.msg);
    ck_assert_uint_eq(gs_csv_ncols(c), GS_CSV_MAX_COLS);
    ck_assert_str_eq(gs_csv_header(c, GS_CSV_MAX_COLS - 1), "c256");
    ck_assert_str_eq(gs_csv_cell(c, 0, GS_CSV_MAX_COLS - 1), "v256");
    gs_csv_destroy(&c);
    free(s);

    s = wide_file(GS_CSV_MAX_COLS + 1, &len);
    static const char *const want[3] = {"bad.csv: line 1: more than 256 columns"};
    expect_error("wide header", s, len, GS_ETOOBIG, want);
    free(s);

    /* a data row that is too wide, under a header that is not */
    const char *head = "a,b\n";
    char *t = malloc(strlen(head) + 2 * GS_CSV_MAX_COLS + 8);
    ck_assert_ptr_nonnull(t);
    strcpy(t, head);
    for (size_t k = 0; k <= GS_CSV_MAX_COLS; k++)
        strcat(t, "1,");
    strcat(t, "\n");
    static const char *const want2[3] = {"bad.csv: line 2: more than 256 columns"};
    expect_error("wide row", t, strlen(t), GS_ETOOBIG, want2);
    free(t);
}
END_TEST

START_TEST(file_limit)
{
    /* a sparse file one byte over the limit: refused before it is read */
    char path[128];
    snprintf(path, sizeof path, "%s/big.csv", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)GS_CSV_MAX_FILE + 1), 0);
    close(fd);
    gs_errbuf eb = {{0}};
    gs_csv *c = NULL;
    ck_assert_int_eq(gs_csv_open(&c, path, &eb), GS_ETOOBIG);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(eb.msg, "big.csv: file is 268435457 bytes; the limit is 256 MiB"), "%s",
                  eb.msg);
}
END_TEST

START_TEST(unreadable)
{
    gs_errbuf eb = {{0}};
    gs_csv *c = NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/missing.csv", dir);
    ck_assert_int_eq(gs_csv_open(&c, path, &eb), GS_EIO);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(eb.msg, "missing.csv: No such file or directory"), "%s", eb.msg);

    ck_assert_int_eq(gs_csv_open(&c, dir, &eb), GS_EIO); /* a directory */
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(eb.msg, dir) == eb.msg, "%s", eb.msg);

    /* no message buffer: the code alone */
    ck_assert_int_eq(gs_csv_open(&c, path, NULL), GS_EIO);
    ck_assert_int_eq(gs_csv_open_mem(&c, "x.csv", "\"", 1, NULL), GS_EINVAL);
}
END_TEST

START_TEST(destroy_is_null_safe)
{
    gs_csv_destroy(NULL);
    gs_csv *c = NULL;
    gs_csv_destroy(&c);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(gs_csv_open_mem(&c, "m.csv", "h\n1\n", 4, NULL), GS_OK);
    gs_csv_destroy(&c);
    ck_assert_ptr_null(c);
    gs_csv_destroy(&c);
}
END_TEST

/* 100,000 rows of 15 Chinese and ASCII columns load in well under a second
 * in a normal build; the bound here leaves room for sanitizers and slow CI. */
START_TEST(large_file)
{
    enum { ROWS = 100000, COLS = 15 };
    size_t cap = (size_t)ROWS * 200 + 4096, len = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    for (int k = 0; k < COLS; k++)
        len += (size_t)sprintf(s + len, "%s列%d", k ? "," : "", k + 1);
    s[len++] = '\n';
    for (int r = 0; r < ROWS; r++) {
        len += (size_t)sprintf(s + len, "%d,邻里纠纷,王小明,\"东城区, 第%d网格\",2024-05-01,", r,
                               r % 50);
        for (int k = 5; k < COLS; k++)
            len += (size_t)sprintf(s + len, "%s%d", k > 5 ? "," : "", r * k);
        s[len++] = '\r';
        s[len++] = '\n';
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gs_errbuf eb = {{0}};
    gs_csv *c = NULL;
    ck_assert_msg(gs_csv_open_mem(&c, "big.csv", s, len, &eb) == GS_OK, "%s", eb.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "test_csvin: %d rows x %d columns (%zu bytes) in %.3f s\n", ROWS, COLS, len,
            secs);
    ck_assert_uint_eq(gs_csv_nrows(c), ROWS);
    ck_assert_uint_eq(gs_csv_ncols(c), COLS);
    ck_assert_str_eq(gs_csv_header(c, 14), "列15");
    ck_assert_str_eq(gs_csv_cell(c, 77777, 3), "东城区, 第27网格");
    ck_assert_str_eq(gs_csv_cell(c, 99999, 14), "1399986");
    ck_assert_uint_eq(gs_csv_line(c, 99999), 100001);
    ck_assert_msg(secs < 20.0, "took %.3f s", secs);
    gs_csv_destroy(&c);
    free(s);
}
END_TEST

static Suite *csvin_suite(void)
{
    Suite *s = suite_create("csvin");

    TCase *tc = tcase_create("good");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_add_loop_test(tc, good_files, 0, (int)(NGOOD * FORM__COUNT));
    suite_add_tcase(s, tc);

    tc = tcase_create("bad");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_add_loop_test(tc, bad_files, 0, (int)NBAD);
    tcase_add_test(tc, gb18030_damaged);
    tcase_add_test(tc, unreadable);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, field_limit);
    tcase_add_test(tc, column_limit);
    tcase_add_test(tc, file_limit);
    tcase_add_test(tc, large_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("object");
    tcase_add_test(tc, destroy_is_null_safe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gst_run_suite(csvin_suite());
}
