/*
 * gridsync/mpack.h: msgpack writing (through msgpack-c's packer) and a bounded
 * cursor reader for hostile input.
 *
 * Why our own reader: msgpack-c's unpacker allocates room for an array or map
 * as soon as it reads the header, so a 5-byte message claiming 2^32 elements
 * makes it try to allocate tens of gigabytes. This reader never allocates; it
 * walks the bytes in place and checks every count against the bytes that
 * remain (each element takes at least one byte) and against caller limits.
 *
 * The writer appends to a gs_buf and inherits its sticky error.
 */
#ifndef GRIDSYNC_MPACK_H
#define GRIDSYNC_MPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"

/* ---- writer ---------------------------------------------------------- */

void gs_mp_map(gs_buf *b, uint32_t n);
void gs_mp_array(gs_buf *b, uint32_t n);
void gs_mp_nil(gs_buf *b);
void gs_mp_bool(gs_buf *b, bool v);
void gs_mp_uint(gs_buf *b, uint64_t v);
void gs_mp_int(gs_buf *b, int64_t v);
void gs_mp_str(gs_buf *b, const char *s); /* NUL-terminated */
void gs_mp_strn(gs_buf *b, const char *s, size_t n);
void gs_mp_bin(gs_buf *b, const void *p, size_t n);

/* ---- reader ---------------------------------------------------------- */

/* The kinds of msgpack value the reader distinguishes. */
typedef enum {
    GS_MP_NIL,
    GS_MP_BOOL,
    GS_MP_UINT, /* non-negative integer */
    GS_MP_INT,  /* negative integer */
    GS_MP_FLOAT,
    GS_MP_STR,
    GS_MP_BIN,
    GS_MP_ARRAY,
    GS_MP_MAP,
    GS_MP_EXT
} gs_mp_kind;

/* One decoded value header. For STR/BIN/EXT, p and n are the payload (not
 * copied, pointing into the input); for ARRAY/MAP, n is the element count and
 * the elements follow in the stream. */
typedef struct gs_mp_val {
    gs_mp_kind kind;
    bool b;
    uint64_t u;
    int64_t i;
    double f;
    const char *p;
    uint32_t n;
} gs_mp_val;

/* A read cursor over [p, end). */
typedef struct gs_mp_reader {
    const uint8_t *p;
    const uint8_t *end;
    unsigned depth; /* current nesting, for gs_mp_skip */
} gs_mp_reader;

void gs_mp_reader_init(gs_mp_reader *r, const void *data, size_t len);
/* Bytes left to read. */
size_t gs_mp_left(const gs_mp_reader *r);
/* Reads one value header. GS_EMALFORMED if truncated or an unknown byte;
 * GS_ETOOBIG if an array/map claims more elements than bytes remain. */
int gs_mp_read(gs_mp_reader *r, gs_mp_val *v);
/* Skips one whole value, nested ones included, up to max_depth levels. */
int gs_mp_skip(gs_mp_reader *r, unsigned max_depth);

/* Typed helpers: read a value and require its kind. They return GS_ETYPE on
 * a kind mismatch, GS_ERANGE when a number does not fit, GS_ETOOBIG when a
 * string is longer than max, GS_EUTF8 when a string is not valid UTF-8. */
int gs_mp_read_uint(gs_mp_reader *r, uint64_t *out);
int gs_mp_read_int(gs_mp_reader *r, int64_t *out); /* accepts UINT that fits and INT */
int gs_mp_read_bool(gs_mp_reader *r, bool *out);
/* Reads a str into dst (NUL-terminated; cap includes the NUL). */
int gs_mp_read_strcpy(gs_mp_reader *r, char *dst, size_t cap);
/* Reads a bin of exactly n bytes into dst. */
int gs_mp_read_binfix(gs_mp_reader *r, void *dst, size_t n);

/* True if [p, p+n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF)
 * with no NUL byte. */
bool gs_utf8_valid(const char *p, size_t n);
/* The number of characters (code points) in [p, p+n), or -1 where
 * gs_utf8_valid is false: one pass for both. */
int64_t gs_utf8_chars(const char *p, size_t n);

#endif
