/*
 * test_mpack.c: the msgpack writer and the bounded reader (proto/mpack.c).
 *
 * Table-driven: the writer is checked against the exact bytes of every
 * format boundary (fixint 127/128, str 31/32, 255/256, 65535/65536 ...), each
 * written value is read back, the reader is checked against hand-written
 * bytes of every msgpack format (including those our writer never emits:
 * floats, exts, non-canonical widths), and every valid vector is re-read
 * truncated at every byte. Hostile headers (2^32-1 elements), deep nesting
 * and strict UTF-8 each have their own table.
 */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/mpack.h"
#include "gstest.h"

/* ---- writer: exact bytes at every format boundary -------------------- */

typedef enum { W_UINT, W_INT, W_STR, W_BIN, W_ARRAY, W_MAP, W_NIL, W_BOOL } wop;

typedef struct wcase {
    wop op;
    uint64_t u; /* W_UINT value, W_STR/W_BIN/W_ARRAY/W_MAP length or count, W_BOOL */
    int64_t i;  /* W_INT value */
    const char *hdr;
    size_t hdrlen;
} wcase;

#define H(s) s, sizeof(s) - 1

static const wcase wcases[] = {
    {W_UINT, 0, 0, H("\x00")},
    {W_UINT, 127, 0, H("\x7f")},
    {W_UINT, 128, 0, H("\xcc\x80")},
    {W_UINT, 255, 0, H("\xcc\xff")},
    {W_UINT, 256, 0, H("\xcd\x01\x00")},
    {W_UINT, 65535, 0, H("\xcd\xff\xff")},
    {W_UINT, 65536, 0, H("\xce\x00\x01\x00\x00")},
    {W_UINT, UINT32_MAX, 0, H("\xce\xff\xff\xff\xff")},
    {W_UINT, (uint64_t)UINT32_MAX + 1, 0, H("\xcf\x00\x00\x00\x01\x00\x00\x00\x00")},
    {W_UINT, UINT64_MAX, 0, H("\xcf\xff\xff\xff\xff\xff\xff\xff\xff")},
    {W_INT, 0, 0, H("\x00")},
    {W_INT, 0, 127, H("\x7f")},
    {W_INT, 0, 128, H("\xcc\x80")},
    {W_INT, 0, -1, H("\xff")},
    {W_INT, 0, -32, H("\xe0")},
    {W_INT, 0, -33, H("\xd0\xdf")},
    {W_INT, 0, -128, H("\xd0\x80")},
    {W_INT, 0, -129, H("\xd1\xff\x7f")},
    {W_INT, 0, -32768, H("\xd1\x80\x00")},
    {W_INT, 0, -32769, H("\xd2\xff\xff\x7f\xff")},
    {W_INT, 0, INT32_MIN, H("\xd2\x80\x00\x00\x00")},
    {W_INT, 0, (int64_t)INT32_MIN - 1, H("\xd3\xff\xff\xff\xff\x7f\xff\xff\xff")},
    {W_INT, 0, INT64_MIN, H("\xd3\x80\x00\x00\x00\x00\x00\x00\x00")},
    {W_INT, 0, INT64_MAX, H("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff")},
    {W_STR, 0, 0, H("\xa0")},
    {W_STR, 31, 0, H("\xbf")},
    {W_STR, 32, 0, H("\xd9\x20")},
    {W_STR, 255, 0, H("\xd9\xff")},
    {W_STR, 256, 0, H("\xda\x01\x00")},
    {W_STR, 65535, 0, H("\xda\xff\xff")},
    {W_STR, 65536, 0, H("\xdb\x00\x01\x00\x00")},
    {W_BIN, 0, 0, H("\xc4\x00")},
    {W_BIN, 255, 0, H("\xc4\xff")},
    {W_BIN, 256, 0, H("\xc5\x01\x00")},
    {W_BIN, 65535, 0, H("\xc5\xff\xff")},
    {W_BIN, 65536, 0, H("\xc6\x00\x01\x00\x00")},
    {W_ARRAY, 0, 0, H("\x90")},
    {W_ARRAY, 15, 0, H("\x9f")},
    {W_ARRAY, 16, 0, H("\xdc\x00\x10")},
    {W_ARRAY, 65535, 0, H("\xdc\xff\xff")},
    {W_ARRAY, 65536, 0, H("\xdd\x00\x01\x00\x00")},
    {W_MAP, 0, 0, H("\x80")},
    {W_MAP, 15, 0, H("\x8f")},
    {W_MAP, 16, 0, H("\xde\x00\x10")},
    {W_MAP, 65536, 0, H("\xdf\x00\x01\x00\x00")},
    {W_NIL, 0, 0, H("\xc0")},
    {W_BOOL, 0, 0, H("\xc2")},
    {W_BOOL, 1, 0, H("\xc3")},
};

/* Writes the case, checks the header bytes, then reads it back: for
 * containers after appending count (or 2 * count) nils, the least the reader
 * accepts, so the count == bytes-left boundary is exercised too. */
START_TEST(test_writer_boundaries)
{
    const wcase *c = &wcases[_i];
    gs_buf b = GS_BUF_INIT;
    char *body = NULL;
    if (c->op == W_STR || c->op == W_BIN) {
        body = malloc(c->u + 1);
        ck_assert_ptr_nonnull(body);
        memset(body, 'a', c->u);
    }
    switch (c->op) {
    case W_UINT:
        gs_mp_uint(&b, c->u);
        break;
    case W_INT:
        gs_mp_int(&b, c->i);
        break;
    case W_STR:
        gs_mp_strn(&b, body, c->u);
        break;
    case W_BIN:
        gs_mp_bin(&b, body, c->u);
        break;
    case W_ARRAY:
        gs_mp_array(&b, (uint32_t)c->u);
        break;
    case W_MAP:
        gs_mp_map(&b, (uint32_t)c->u);
        break;
    case W_NIL:
        gs_mp_nil(&b);
        break;
    case W_BOOL:
        gs_mp_bool(&b, c->u != 0);
        break;
    }
    ck_assert_int_eq(b.err, GS_OK);
    size_t payload = (c->op == W_STR || c->op == W_BIN) ? c->u : 0;
    ck_assert_uint_eq(b.len, c->hdrlen + payload);
    ck_assert_mem_eq(b.data, c->hdr, c->hdrlen);

    uint64_t elems = c->op == W_ARRAY ? c->u : c->op == W_MAP ? 2 * c->u : 0;
    for (uint64_t k = 0; k < elems; k++)
        gs_mp_nil(&b);
    ck_assert_int_eq(b.err, GS_OK);

    gs_mp_reader r;
    gs_mp_val v;
    gs_mp_reader_init(&r, b.data, b.len);
    ck_assert_int_eq(gs_mp_read(&r, &v), GS_OK);
    ck_assert_uint_eq(gs_mp_left(&r), elems);
    switch (c->op) {
    case W_UINT:
        ck_assert_int_eq(v.kind, GS_MP_UINT);
        ck_assert_uint_eq(v.u, c->u);
        break;
    case W_INT:
        if (c->i >= 0) {
            ck_assert_int_eq(v.kind, GS_MP_UINT);
            ck_assert_uint_eq(v.u, (uint64_t)c->i);
        } else {
            ck_assert_int_eq(v.kind, GS_MP_INT);
            ck_assert_int_eq(v.i, c->i);
        }
        break;
    case W_STR:
    case W_BIN:
        ck_assert_int_eq(v.kind, c->op == W_STR ? GS_MP_STR : GS_MP_BIN);
        ck_assert_uint_eq(v.n, c->u);
        ck_assert_ptr_eq(v.p, b.data + c->hdrlen);
        break;
    case W_ARRAY:
    case W_MAP:
        ck_assert_int_eq(v.kind, c->op == W_ARRAY ? GS_MP_ARRAY : GS_MP_MAP);
        ck_assert_uint_eq(v.n, c->u);
        /* and the whole value skips to the end */
        gs_mp_reader_init(&r, b.data, b.len);
        ck_assert_int_eq(gs_mp_skip(&r, 1), GS_OK);
        ck_assert_uint_eq(gs_mp_left(&r), 0);
        break;
    case W_NIL:
        ck_assert_int_eq(v.kind, GS_MP_NIL);
        break;
    case W_BOOL:
        ck_assert_int_eq(v.kind, GS_MP_BOOL);
        ck_assert(v.b == (c->u != 0));
        break;
    }
    free(body);
    gs_buf_free(&b);
}
END_TEST

START_TEST(test_writer_sticky_error)
{
    gs_buf b = GS_BUF_INIT;
    b.limit = 4;
    gs_mp_uint(&b, 1);
    ck_assert_int_eq(b.err, GS_OK);
    gs_mp_str(&b, "longer than four");
    ck_assert_int_eq(b.err, GS_ETOOBIG);
    size_t len = b.len;
    gs_mp_nil(&b);
    gs_mp_bin(&b, "x", 1);
    ck_assert_uint_eq(b.len, len); /* no-ops once the error is set */
    gs_buf_free(&b);

    /* msgpack cannot say a length over 2^32-1; it is the buffer's error,
     * never a truncated length. The body is not read. */
    if (SIZE_MAX > UINT32_MAX) {
        gs_buf c = GS_BUF_INIT;
        gs_mp_strn(&c, "x", (size_t)UINT32_MAX + 1);
        ck_assert_int_eq(c.err, GS_ETOOBIG);
        ck_assert_uint_eq(c.len, 0);
        gs_buf_free(&c);
        gs_buf d = GS_BUF_INIT;
        gs_mp_bin(&d, "x", (size_t)UINT32_MAX + 1);
        ck_assert_int_eq(d.err, GS_ETOOBIG);
        gs_buf_free(&d);
    }
}
END_TEST

/* ---- reader: every format, hand-written ------------------------------ */

typedef struct rcase {
    const char *name;
    const char *bytes;
    size_t len; /* the whole value, elements of containers included */
    size_t hdr; /* what gs_mp_read consumes */
    gs_mp_kind kind;
    uint64_t u; /* UINT value; count for ARRAY/MAP; payload length for STR/BIN/EXT */
    int64_t i;  /* INT value; ext type for EXT */
    double f;
} rcase;

#define B(s) s, sizeof(s) - 1

static const rcase rcases[] = {
    {"positive fixint 0", B("\x00"), 1, GS_MP_UINT, 0, 0, 0},
    {"positive fixint 127", B("\x7f"), 1, GS_MP_UINT, 127, 0, 0},
    {"negative fixint -1", B("\xff"), 1, GS_MP_INT, 0, -1, 0},
    {"negative fixint -32", B("\xe0"), 1, GS_MP_INT, 0, -32, 0},
    {"uint8 128", B("\xcc\x80"), 2, GS_MP_UINT, 128, 0, 0},
    {"uint8 non-canonical 5", B("\xcc\x05"), 2, GS_MP_UINT, 5, 0, 0},
    {"uint16", B("\xcd\x12\x34"), 3, GS_MP_UINT, 0x1234, 0, 0},
    {"uint32", B("\xce\x12\x34\x56\x78"), 5, GS_MP_UINT, 0x12345678, 0, 0},
    {"uint64 max", B("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), 9, GS_MP_UINT, UINT64_MAX, 0, 0},
    {"int8 -33", B("\xd0\xdf"), 2, GS_MP_INT, 0, -33, 0},
    {"int8 -128", B("\xd0\x80"), 2, GS_MP_INT, 0, -128, 0},
    {"int8 positive is UINT", B("\xd0\x05"), 2, GS_MP_UINT, 5, 0, 0},
    {"int16 -32768", B("\xd1\x80\x00"), 3, GS_MP_INT, 0, -32768, 0},
    {"int16 positive", B("\xd1\x7f\xff"), 3, GS_MP_UINT, 32767, 0, 0},
    {"int32 min", B("\xd2\x80\x00\x00\x00"), 5, GS_MP_INT, 0, INT32_MIN, 0},
    {"int64 -1", B("\xd3\xff\xff\xff\xff\xff\xff\xff\xff"), 9, GS_MP_INT, 0, -1, 0},
    {"int64 min", B("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"), 9, GS_MP_INT, 0, INT64_MIN, 0},
    {"int64 max is UINT", B("\xd3\x7f\xff\xff\xff\xff\xff\xff\xff"), 9, GS_MP_UINT, INT64_MAX, 0,
     0},
    {"float32 1.5", B("\xca\x3f\xc0\x00\x00"), 5, GS_MP_FLOAT, 0, 0, 1.5},
    {"float64 -2.25", B("\xcb\xc0\x02\x00\x00\x00\x00\x00\x00"), 9, GS_MP_FLOAT, 0, 0, -2.25},
    {"nil", B("\xc0"), 1, GS_MP_NIL, 0, 0, 0},
    {"false", B("\xc2"), 1, GS_MP_BOOL, 0, 0, 0},
    {"true", B("\xc3"), 1, GS_MP_BOOL, 1, 0, 0},
    {"fixstr empty", B("\xa0"), 1, GS_MP_STR, 0, 0, 0},
    {"fixstr",
     B("\xa3"
       "abc"),
     1, GS_MP_STR, 3, 0, 0},
    {"str8 short",
     B("\xd9\x03"
       "abc"),
     2, GS_MP_STR, 3, 0, 0},
    {"str16",
     B("\xda\x00\x02"
       "ab"),
     3, GS_MP_STR, 2, 0, 0},
    {"str32",
     B("\xdb\x00\x00\x00\x01"
       "a"),
     5, GS_MP_STR, 1, 0, 0},
    {"bin8 empty", B("\xc4\x00"), 2, GS_MP_BIN, 0, 0, 0},
    {"bin8", B("\xc4\x02\x00\xff"), 2, GS_MP_BIN, 2, 0, 0},
    {"bin16", B("\xc5\x00\x01\x07"), 3, GS_MP_BIN, 1, 0, 0},
    {"bin32",
     B("\xc6\x00\x00\x00\x03"
       "xyz"),
     5, GS_MP_BIN, 3, 0, 0},
    {"fixext1", B("\xd4\x01\xaa"), 2, GS_MP_EXT, 1, 1, 0},
    {"fixext2", B("\xd5\xff\xaa\xbb"), 2, GS_MP_EXT, 2, -1, 0},
    {"fixext4",
     B("\xd6\x02"
       "abcd"),
     2, GS_MP_EXT, 4, 2, 0},
    {"fixext8",
     B("\xd7\x03"
       "abcdefgh"),
     2, GS_MP_EXT, 8, 3, 0},
    {"fixext16",
     B("\xd8\x04"
       "abcdefghijklmnop"),
     2, GS_MP_EXT, 16, 4, 0},
    {"ext8",
     B("\xc7\x03\x80"
       "abc"),
     3, GS_MP_EXT, 3, -128, 0},
    {"ext8 empty", B("\xc7\x00\x05"), 3, GS_MP_EXT, 0, 5, 0},
    {"ext16",
     B("\xc8\x00\x02\x05"
       "ab"),
     4, GS_MP_EXT, 2, 5, 0},
    {"ext32",
     B("\xc9\x00\x00\x00\x01\x7f"
       "z"),
     6, GS_MP_EXT, 1, 127, 0},
    {"fixarray empty", B("\x90"), 1, GS_MP_ARRAY, 0, 0, 0},
    {"fixarray", B("\x92\x01\x02"), 1, GS_MP_ARRAY, 2, 0, 0},
    {"array16", B("\xdc\x00\x02\xc0\xc0"), 3, GS_MP_ARRAY, 2, 0, 0},
    {"array32", B("\xdd\x00\x00\x00\x01\xc0"), 5, GS_MP_ARRAY, 1, 0, 0},
    {"fixmap empty", B("\x80"), 1, GS_MP_MAP, 0, 0, 0},
    {"fixmap",
     B("\x81\xa1"
       "a\x01"),
     1, GS_MP_MAP, 1, 0, 0},
    {"map16", B("\xde\x00\x01\xc0\xc0"), 3, GS_MP_MAP, 1, 0, 0},
    {"map32", B("\xdf\x00\x00\x00\x02\xc0\xc0\xc0\xc0"), 5, GS_MP_MAP, 2, 0, 0},
};

static void check_val(const rcase *c, const gs_mp_val *v)
{
    ck_assert_msg(v->kind == c->kind, "%s: kind %d, want %d", c->name, v->kind, c->kind);
    switch (c->kind) {
    case GS_MP_UINT:
        ck_assert_uint_eq(v->u, c->u);
        break;
    case GS_MP_INT:
        ck_assert_int_eq(v->i, c->i);
        break;
    case GS_MP_FLOAT:
        ck_assert_double_eq(v->f, c->f);
        break;
    case GS_MP_BOOL:
        ck_assert(v->b == (c->u != 0));
        break;
    case GS_MP_STR:
    case GS_MP_BIN:
    case GS_MP_EXT:
        ck_assert_uint_eq(v->n, c->u);
        ck_assert_ptr_eq(v->p, c->bytes + c->hdr);
        if (c->kind == GS_MP_EXT)
            ck_assert_int_eq(v->i, c->i);
        break;
    case GS_MP_ARRAY:
    case GS_MP_MAP:
        ck_assert_uint_eq(v->n, c->u);
        break;
    case GS_MP_NIL:
        break;
    }
}

START_TEST(test_reader_formats)
{
    const rcase *c = &rcases[_i];
    gs_mp_reader r;
    gs_mp_val v;
    gs_mp_reader_init(&r, c->bytes, c->len);
    ck_assert_msg(gs_mp_read(&r, &v) == GS_OK, "%s", c->name);
    check_val(c, &v);
    bool container = c->kind == GS_MP_ARRAY || c->kind == GS_MP_MAP;
    size_t consumed = container ? c->hdr : c->len;
    ck_assert_msg(gs_mp_left(&r) == c->len - consumed, "%s: consumed %zu, want %zu", c->name,
                  c->len - gs_mp_left(&r), consumed);
    /* the whole value skips to the end */
    gs_mp_reader_init(&r, c->bytes, c->len);
    ck_assert_int_eq(gs_mp_skip(&r, 4), GS_OK);
    ck_assert_uint_eq(gs_mp_left(&r), 0);
    ck_assert_uint_eq(r.depth, 0);
}
END_TEST

/* Every proper prefix of every valid vector fails to skip. Reading one
 * header: a cut header or payload is GS_EMALFORMED; a container whose
 * elements are cut is GS_ETOOBIG once it claims more elements (2 per map
 * pair) than bytes remain, and its header still reads before that. */
START_TEST(test_reader_truncated)
{
    const rcase *c = &rcases[_i];
    bool container = c->kind == GS_MP_ARRAY || c->kind == GS_MP_MAP;
    for (size_t cut = 0; cut < c->len; cut++) {
        gs_mp_reader r;
        gs_mp_val v;
        gs_mp_reader_init(&r, c->bytes, cut);
        int want = GS_EMALFORMED;
        if (container && cut >= c->hdr)
            want = cut - c->hdr >= (c->kind == GS_MP_MAP ? 2 : 1) * c->u ? GS_OK : GS_ETOOBIG;
        ck_assert_msg(gs_mp_read(&r, &v) == want, "%s cut at %zu: want %s", c->name, cut,
                      gs_errname(want));
        gs_mp_reader_init(&r, c->bytes, cut);
        ck_assert_msg(gs_mp_skip(&r, 4) != GS_OK, "%s cut at %zu: skip", c->name, cut);
    }
}
END_TEST

typedef struct bad {
    const char *name;
    const char *bytes;
    size_t len;
    int rc;
} bad;

static const bad bads[] = {
    {"empty input", B(""), GS_EMALFORMED},
    {"0xc1 never used", B("\xc1"), GS_EMALFORMED},
    {"array32 of 2^32-1", B("\xdd\xff\xff\xff\xff"), GS_ETOOBIG},
    {"map32 of 2^32-1", B("\xdf\xff\xff\xff\xff"), GS_ETOOBIG},
    {"array16 of 65535", B("\xdc\xff\xff\xc0"), GS_ETOOBIG},
    {"map of 2 pairs, 3 bytes", B("\x82\xc0\xc0\xc0"), GS_ETOOBIG},
    {"array of 3, 2 bytes", B("\x93\xc0\xc0"), GS_ETOOBIG},
    {"str32 of 2^32-1",
     B("\xdb\xff\xff\xff\xff"
       "abc"),
     GS_EMALFORMED},
    {"str8 past the end",
     B("\xd9\x05"
       "ab"),
     GS_EMALFORMED},
    {"fixstr past the end",
     B("\xa5"
       "ab"),
     GS_EMALFORMED},
    {"bin32 of 2^32-1", B("\xc6\xff\xff\xff\xff"), GS_EMALFORMED},
    {"ext32 of 2^32-1", B("\xc9\xff\xff\xff\xff\x01"), GS_EMALFORMED},
    {"ext8 without type", B("\xc7\x01"), GS_EMALFORMED},
    {"fixext16 short by one",
     B("\xd8\x01"
       "abcdefghijklmno"),
     GS_EMALFORMED},
    {"float64 short", B("\xcb\x00\x00"), GS_EMALFORMED},
};

START_TEST(test_reader_malformed)
{
    const bad *c = &bads[_i];
    gs_mp_reader r;
    gs_mp_val v;
    gs_mp_reader_init(&r, c->bytes, c->len);
    ck_assert_msg(gs_mp_read(&r, &v) == c->rc, "%s: want %s", c->name, gs_errname(c->rc));
    gs_mp_reader_init(&r, c->bytes, c->len);
    ck_assert_msg(gs_mp_skip(&r, 8) == c->rc, "%s: skip", c->name);
}
END_TEST

START_TEST(test_reader_huge_header_reports_claim)
{
    gs_mp_reader r;
    gs_mp_val v;
    gs_mp_reader_init(&r, "\xdd\xff\xff\xff\xff", 5);
    ck_assert_int_eq(gs_mp_read(&r, &v), GS_ETOOBIG);
    ck_assert_int_eq(v.kind, GS_MP_ARRAY);
    ck_assert_uint_eq(v.n, UINT32_MAX);
    gs_mp_reader_init(&r, "\xdf\xff\xff\xff\xff", 5);
    ck_assert_int_eq(gs_mp_read(&r, &v), GS_ETOOBIG);
    ck_assert_int_eq(v.kind, GS_MP_MAP);
    ck_assert_uint_eq(v.n, UINT32_MAX);
}
END_TEST

/* ---- skip and nesting ------------------------------------------------ */

START_TEST(test_skip_nested)
{
    /* {"a": [1, -2, {"b": "c"}, bin, ext], "d": nil} then a trailing 7 */
    gs_buf b = GS_BUF_INIT;
    gs_mp_map(&b, 2);
    gs_mp_str(&b, "a");
    gs_mp_array(&b, 5);
    gs_mp_uint(&b, 1);
    gs_mp_int(&b, -2);
    gs_mp_map(&b, 1);
    gs_mp_str(&b, "b");
    gs_mp_str(&b, "c");
    gs_mp_bin(&b, "\x00\x01", 2);
    gs_buf_append(&b, "\xd4\x01\x02", 3);
    gs_mp_str(&b, "d");
    gs_mp_nil(&b);
    gs_mp_uint(&b, 7);
    ck_assert_int_eq(b.err, GS_OK);

    gs_mp_reader r;
    gs_mp_reader_init(&r, b.data, b.len);
    ck_assert_int_eq(gs_mp_skip(&r, 2), GS_ETOOBIG); /* needs 3 levels */
    gs_mp_reader_init(&r, b.data, b.len);
    ck_assert_int_eq(gs_mp_skip(&r, 3), GS_OK);
    ck_assert_uint_eq(gs_mp_left(&r), 1);
    ck_assert_uint_eq(r.depth, 0);
    uint64_t u;
    ck_assert_int_eq(gs_mp_read_uint(&r, &u), GS_OK);
    ck_assert_uint_eq(u, 7);
    gs_buf_free(&b);
}
END_TEST

/* n nested one-element arrays around a nil need exactly n levels. */
START_TEST(test_skip_depth_boundary)
{
    unsigned n = (unsigned)_i;
    char bytes[64];
    memset(bytes, 0x91, n);
    bytes[n] = (char)0xc0;
    gs_mp_reader r;
    gs_mp_reader_init(&r, bytes, n + 1);
    ck_assert_int_eq(gs_mp_skip(&r, n), GS_OK);
    ck_assert_uint_eq(gs_mp_left(&r), 0);
    if (n > 0) {
        gs_mp_reader_init(&r, bytes, n + 1);
        ck_assert_int_eq(gs_mp_skip(&r, n - 1), GS_ETOOBIG);
    }
    /* an empty container is a level too: [[]] needs 2 */
    gs_mp_reader_init(&r, "\x91\x90", 2);
    ck_assert_int_eq(gs_mp_skip(&r, 1), GS_ETOOBIG);
    gs_mp_reader_init(&r, "\x91\x90", 2);
    ck_assert_int_eq(gs_mp_skip(&r, 2), GS_OK);
}
END_TEST

/* A million levels of nesting neither recurse nor allocate: refused at the
 * limit, even when the caller asks for no limit at all. */
START_TEST(test_skip_hostile_nesting)
{
    size_t n = 1000000;
    char *bytes = malloc(n + 1);
    ck_assert_ptr_nonnull(bytes);
    memset(bytes, 0x91, n);
    bytes[n] = (char)0xc0;
    gs_mp_reader r;
    gs_mp_reader_init(&r, bytes, n + 1);
    ck_assert_int_eq(gs_mp_skip(&r, 64), GS_ETOOBIG);
    gs_mp_reader_init(&r, bytes, n + 1);
    ck_assert_int_eq(gs_mp_skip(&r, UINT_MAX), GS_ETOOBIG);
    /* same with maps: {nil: {nil: ...}} */
    for (size_t k = 0; k + 1 < n; k += 2) {
        bytes[k] = (char)0x81;
        bytes[k + 1] = (char)0xc0;
    }
    gs_mp_reader_init(&r, bytes, n);
    ck_assert_int_eq(gs_mp_skip(&r, UINT_MAX), GS_ETOOBIG);
    free(bytes);

    /* wide is fine: an array of 100000 nils at depth 1 */
    gs_buf b = GS_BUF_INIT;
    gs_mp_array(&b, 100000);
    for (int k = 0; k < 100000; k++)
        gs_mp_nil(&b);
    gs_mp_reader_init(&r, b.data, b.len);
    ck_assert_int_eq(gs_mp_skip(&r, 1), GS_OK);
    ck_assert_uint_eq(gs_mp_left(&r), 0);
    gs_buf_free(&b);
}
END_TEST

START_TEST(test_skip_keeps_caller_depth)
{
    gs_mp_reader r;
    gs_mp_reader_init(&r, "\x92\x91\x01\x02", 4);
    r.depth = 3;
    ck_assert_int_eq(gs_mp_skip(&r, 2), GS_OK);
    ck_assert_uint_eq(r.depth, 3);
}
END_TEST

/* ---- typed helpers --------------------------------------------------- */

START_TEST(test_read_uint_int_bool)
{
    gs_mp_reader r;
    uint64_t u = 42;
    int64_t i = 42;
    bool b = false;
#define RD(bytes, call) (gs_mp_reader_init(&r, bytes, sizeof(bytes) - 1), call)
    ck_assert_int_eq(RD("\x05", gs_mp_read_uint(&r, &u)), GS_OK);
    ck_assert_uint_eq(u, 5);
    ck_assert_int_eq(RD("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", gs_mp_read_uint(&r, &u)), GS_OK);
    ck_assert_uint_eq(u, UINT64_MAX);
    ck_assert_int_eq(RD("\xff", gs_mp_read_uint(&r, &u)), GS_ERANGE);
    ck_assert_int_eq(RD("\xa1x", gs_mp_read_uint(&r, &u)), GS_ETYPE);
    ck_assert_int_eq(RD("\xc3", gs_mp_read_uint(&r, &u)), GS_ETYPE);
    ck_assert_int_eq(RD("\xca\x3f\xc0\x00\x00", gs_mp_read_uint(&r, &u)), GS_ETYPE);
    ck_assert_int_eq(RD("", gs_mp_read_uint(&r, &u)), GS_EMALFORMED);
    ck_assert_uint_eq(u, UINT64_MAX); /* untouched by failures */

    ck_assert_int_eq(RD("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", gs_mp_read_int(&r, &i)), GS_OK);
    ck_assert_int_eq(i, INT64_MIN);
    ck_assert_int_eq(RD("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", gs_mp_read_int(&r, &i)), GS_OK);
    ck_assert_int_eq(i, INT64_MAX);
    ck_assert_int_eq(RD("\xcf\x80\x00\x00\x00\x00\x00\x00\x00", gs_mp_read_int(&r, &i)), GS_ERANGE);
    ck_assert_int_eq(RD("\xe0", gs_mp_read_int(&r, &i)), GS_OK);
    ck_assert_int_eq(i, -32);
    ck_assert_int_eq(RD("\xc0", gs_mp_read_int(&r, &i)), GS_ETYPE);

    ck_assert_int_eq(RD("\xc3", gs_mp_read_bool(&r, &b)), GS_OK);
    ck_assert(b);
    ck_assert_int_eq(RD("\xc2", gs_mp_read_bool(&r, &b)), GS_OK);
    ck_assert(!b);
    ck_assert_int_eq(RD("\x01", gs_mp_read_bool(&r, &b)), GS_ETYPE);
    ck_assert_int_eq(RD("\xc0", gs_mp_read_bool(&r, &b)), GS_ETYPE);
}
END_TEST

START_TEST(test_read_strcpy_binfix)
{
    gs_mp_reader r;
    char s[4] = "zzz";
    ck_assert_int_eq(RD("\xa3"
                        "abc",
                        gs_mp_read_strcpy(&r, s, sizeof s)),
                     GS_OK);
    ck_assert_str_eq(s, "abc");
    ck_assert_int_eq(RD("\xa0", gs_mp_read_strcpy(&r, s, sizeof s)), GS_OK);
    ck_assert_str_eq(s, "");
    strcpy(s, "zzz");
    ck_assert_int_eq(RD("\xa4"
                        "abcd",
                        gs_mp_read_strcpy(&r, s, sizeof s)),
                     GS_ETOOBIG);
    ck_assert_int_eq(RD("\xa2\xc0\x80", gs_mp_read_strcpy(&r, s, sizeof s)), GS_EUTF8);
    ck_assert_int_eq(RD("\xa2"
                        "a\x00",
                        gs_mp_read_strcpy(&r, s, sizeof s)),
                     GS_EUTF8);
    ck_assert_int_eq(RD("\x07", gs_mp_read_strcpy(&r, s, sizeof s)), GS_ETYPE);
    ck_assert_int_eq(RD("\xc4\x01"
                        "a",
                        gs_mp_read_strcpy(&r, s, sizeof s)),
                     GS_ETYPE);
    ck_assert_str_eq(s, "zzz"); /* untouched by failures */
    /* a str8 of 3 bytes is still a 3-byte string */
    ck_assert_int_eq(RD("\xd9\x03"
                        "xyz",
                        gs_mp_read_strcpy(&r, s, sizeof s)),
                     GS_OK);
    ck_assert_str_eq(s, "xyz");

    uint8_t h[3] = {9, 9, 9};
    ck_assert_int_eq(RD("\xc4\x03"
                        "abc",
                        gs_mp_read_binfix(&r, h, 3)),
                     GS_OK);
    ck_assert_mem_eq(h, "abc", 3);
    ck_assert_int_eq(RD("\xc4\x02"
                        "xy",
                        gs_mp_read_binfix(&r, h, 3)),
                     GS_ERANGE);
    ck_assert_int_eq(RD("\xc4\x04"
                        "wxyz",
                        gs_mp_read_binfix(&r, h, 3)),
                     GS_ERANGE);
    ck_assert_int_eq(RD("\xa3"
                        "xyz",
                        gs_mp_read_binfix(&r, h, 3)),
                     GS_ETYPE);
    ck_assert_mem_eq(h, "abc", 3);
#undef RD
}
END_TEST

/* ---- strict UTF-8 ---------------------------------------------------- */

typedef struct ucase {
    const char *name;
    const char *bytes;
    size_t len;
    bool valid;
} ucase;

static const ucase ucases[] = {
    {"empty", B(""), true},
    {"ascii", B("grid 7"), true},
    {"two-byte min U+0080", B("\xc2\x80"), true},
    {"two-byte max U+07FF", B("\xdf\xbf"), true},
    {"three-byte min U+0800", B("\xe0\xa0\x80"), true},
    {"before surrogates U+D7FF", B("\xed\x9f\xbf"), true},
    {"after surrogates U+E000", B("\xee\x80\x80"), true},
    {"three-byte max U+FFFF", B("\xef\xbf\xbf"), true},
    {"four-byte min U+10000", B("\xf0\x90\x80\x80"), true},
    {"max U+10FFFF", B("\xf4\x8f\xbf\xbf"), true},
    {"chinese", B("\xe6\xbc\xaf\xe6\xb2\xb3\xe5\xb8\x82"), true}, /* 漯河市 */
    {"NUL",
     B("a\x00"
       "b"),
     false},
    {"lone continuation", B("\x80"), false},
    {"overlong C0 80", B("\xc0\x80"), false},
    {"overlong C0 AF", B("\xc0\xaf"), false},
    {"overlong C1 BF", B("\xc1\xbf"), false},
    {"overlong E0 80 AF", B("\xe0\x80\xaf"), false},
    {"overlong E0 9F BF", B("\xe0\x9f\xbf"), false},
    {"overlong F0 80 80 AF", B("\xf0\x80\x80\xaf"), false},
    {"overlong F0 8F BF BF", B("\xf0\x8f\xbf\xbf"), false},
    {"surrogate U+D800", B("\xed\xa0\x80"), false},
    {"surrogate U+DFFF", B("\xed\xbf\xbf"), false},
    {"above U+10FFFF", B("\xf4\x90\x80\x80"), false},
    {"F5 lead", B("\xf5\x80\x80\x80"), false},
    {"FF byte", B("\xff"), false},
    {"truncated two-byte", B("\xc2"), false},
    {"truncated three-byte", B("\xe4\xb8"), false},
    {"truncated four-byte", B("\xf0\x90\x80"), false},
    {"truncated at the end", B("abc\xe6\xbc"), false},
    {"bad continuation", B("\xc2\x41"), false},
    {"bad third byte", B("\xe6\xbc\x41"), false},
    {"bad fourth byte", B("\xf0\x90\x80\x41"), false},
};

START_TEST(test_utf8)
{
    const ucase *c = &ucases[_i];
    ck_assert_msg(gs_utf8_valid(c->bytes, c->len) == c->valid, "%s: want %s", c->name,
                  c->valid ? "valid" : "invalid");
    /* the count says the same: -1 exactly where the text is not valid */
    ck_assert_msg((gs_utf8_chars(c->bytes, c->len) >= 0) == c->valid, "%s: count %lld",
                  c->name, (long long)gs_utf8_chars(c->bytes, c->len));
}
END_TEST

/* Characters, not bytes: what a field's length limit counts. */
START_TEST(test_utf8_chars)
{
    ck_assert_int_eq(gs_utf8_chars("", 0), 0);
    ck_assert_int_eq(gs_utf8_chars("grid 7", 6), 6);
    const char *place = "漯河市 grid 7"; /* 3 characters of 3 bytes, then 7 */
    ck_assert_int_eq(gs_utf8_chars(place, strlen(place)), 10);
    ck_assert_int_eq(gs_utf8_chars("\xc2\x80\xdf\xbf", 4), 2);
    ck_assert_int_eq(gs_utf8_chars("a\xf0\x90\x80\x80" "b", 6), 3);
    /* only the first n bytes count: a cut in the middle of 河 is invalid */
    ck_assert_int_eq(gs_utf8_chars(place, 3), 1);
    ck_assert_int_eq(gs_utf8_chars(place, 4), -1);
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

static Suite *mpack_suite(void)
{
    Suite *s = suite_create("mpack");
    TCase *tc = tcase_create("writer");
    tcase_add_loop_test(tc, test_writer_boundaries, 0, N(wcases));
    tcase_add_test(tc, test_writer_sticky_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("reader");
    tcase_add_loop_test(tc, test_reader_formats, 0, N(rcases));
    tcase_add_loop_test(tc, test_reader_truncated, 0, N(rcases));
    tcase_add_loop_test(tc, test_reader_malformed, 0, N(bads));
    tcase_add_test(tc, test_reader_huge_header_reports_claim);
    suite_add_tcase(s, tc);

    tc = tcase_create("skip");
    tcase_add_test(tc, test_skip_nested);
    tcase_add_loop_test(tc, test_skip_depth_boundary, 0, 40);
    tcase_add_test(tc, test_skip_hostile_nesting);
    tcase_add_test(tc, test_skip_keeps_caller_depth);
    suite_add_tcase(s, tc);

    tc = tcase_create("typed");
    tcase_add_test(tc, test_read_uint_int_bool);
    tcase_add_test(tc, test_read_strcpy_binfix);
    suite_add_tcase(s, tc);

    tc = tcase_create("utf8");
    tcase_add_loop_test(tc, test_utf8, 0, N(ucases));
    tcase_add_test(tc, test_utf8_chars);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gst_run_suite(mpack_suite());
}
