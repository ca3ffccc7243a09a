/*
 * mpack.c: msgpack writing through msgpack-c's packer, and a bounded cursor
 * reader of our own for hostile input (see gridsync/mpack.h).
 *
 * Writer: every gs_mp_* writer runs msgpack-c's packer with a write callback
 * that appends to the gs_buf, so the buffer's sticky error covers every
 * failure (out of memory, over the buffer's limit, a string or bin longer than
 * msgpack can say: 2^32-1 bytes).
 *
 * Reader invariants:
 *   - it never allocates and never reads outside [p, end);
 *   - gs_mp_read consumes exactly one header, plus the payload for STR, BIN
 *     and EXT, whose length is checked against the bytes left (GS_EMALFORMED
 *     if it does not fit);
 *   - an ARRAY header is accepted only if its count is <= the bytes left and
 *     a MAP header only if 2 * count is (every element takes at least one
 *     byte), else GS_ETOOBIG; so a 5-byte header can never make a caller
 *     allocate or loop for 2^32 elements;
 *   - after an error the cursor position is unspecified: callers abandon it.
 *   - gs_mp_skip is iterative with a fixed stack of SKIP_DEPTH_MAX levels;
 *     a max_depth above that is treated as SKIP_DEPTH_MAX, so hostile nesting
 *     can neither overflow the C stack nor make skip allocate.
 */
#include <assert.h>
#include <msgpack.h>
#include <string.h>

#include "gridsync/mpack.h"

/* ---- writer ---------------------------------------------------------- */

/* msgpack-c's write callback: append to the gs_buf, report its sticky error
 * so the packer stops early. */
static int buf_write(void *data, const char *p, size_t n)
{
    gs_buf *b = data;
    gs_buf_append(b, p, n);
    return b->err ? -1 : 0;
}

static void packer_init(msgpack_packer *pk, gs_buf *b)
{
    msgpack_packer_init(pk, b, buf_write);
}

/* msgpack cannot say a length over 2^32-1; record that as the buffer's
 * sticky error instead of letting the packer truncate the length. */
static bool length_ok(gs_buf *b, size_t n)
{
    if (n <= UINT32_MAX)
        return true;
    if (!b->err)
        b->err = GS_ETOOBIG;
    return false;
}

void gs_mp_map(gs_buf *b, uint32_t n)
{
    msgpack_packer pk;
    packer_init(&pk, b);
    msgpack_pack_map(&pk, n);
}

void gs_mp_array(gs_buf *b, uint32_t n)
{
    msgpack_packer pk;
    packer_init(&pk, b);
    msgpack_pack_array(&pk, n);
}

void gs_mp_nil(gs_buf *b)
{
    msgpack_packer pk;
    packer_init(&pk, b);
    msgpack_pack_nil(&pk);
}

void gs_mp_bool(gs_buf *b, bool v)
{
    msgpack_packer pk;
    packer_init(&pk, b);
    if (v)
        msgpack_pack_true(&pk);
    else
        msgpack_pack_false(&pk);
}

void gs_mp_uint(gs_buf *b, uint64_t v)
{
    msgpack_packer pk;
    packer_init(&pk, b);
    msgpack_pack_uint64(&pk, v);
}

void gs_mp_int(gs_buf *b, int64_t v)
{
    msgpack_packer pk;
    packer_init(&pk, b);
    msgpack_pack_int64(&pk, v);
}

void gs_mp_str(gs_buf *b, const char *s)
{
    assert(s);
    gs_mp_strn(b, s, strlen(s));
}

void gs_mp_strn(gs_buf *b, const char *s, size_t n)
{
    assert(s || n == 0);
    if (!length_ok(b, n))
        return;
    msgpack_packer pk;
    packer_init(&pk, b);
    msgpack_pack_str_with_body(&pk, s, n);
}

void gs_mp_bin(gs_buf *b, const void *p, size_t n)
{
    assert(p || n == 0);
    if (!length_ok(b, n))
        return;
    msgpack_packer pk;
    packer_init(&pk, b);
    msgpack_pack_bin_with_body(&pk, p, n);
}

/* ---- reader ---------------------------------------------------------- */

/* The deepest nesting gs_mp_skip follows, whatever max_depth asks for. */
#define SKIP_DEPTH_MAX 128

void gs_mp_reader_init(gs_mp_reader *r, const void *data, size_t len)
{
    assert(data || len == 0);
    r->p = data;
    r->end = len ? r->p + len : r->p;
    r->depth = 0;
}

size_t gs_mp_left(const gs_mp_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Reads a big-endian unsigned integer of width bytes (1, 2, 4 or 8). */
static int take_uint(gs_mp_reader *r, unsigned width, uint64_t *out)
{
    if (gs_mp_left(r) < width)
        return GS_EMALFORMED;
    uint64_t u = 0;
    for (unsigned k = 0; k < width; k++)
        u = (u << 8) | r->p[k];
    r->p += width;
    *out = u;
    return GS_OK;
}

/* Sign-extends the width-byte two's complement value u. */
static int64_t sign_extend(uint64_t u, unsigned width)
{
    if (width < 8 && (u >> (width * 8 - 1)) & 1)
        u |= ~(uint64_t)0 << (width * 8);
    int64_t i;
    memcpy(&i, &u, sizeof i);
    return i;
}

/* A payload of n bytes (STR, BIN, EXT): it must fit in what is left. */
static int take_payload(gs_mp_reader *r, uint64_t n, gs_mp_val *v)
{
    if (n > gs_mp_left(r))
        return GS_EMALFORMED;
    v->p = (const char *)r->p;
    v->n = (uint32_t)n;
    r->p += n;
    return GS_OK;
}

/* The header of an array (per = 1) or a map (per = 2) of n elements. */
static int take_container(gs_mp_reader *r, uint64_t n, unsigned per, gs_mp_val *v)
{
    v->n = (uint32_t)n;
    if (n * per > gs_mp_left(r))
        return GS_ETOOBIG;
    return GS_OK;
}

/* An integer read from an intN format: non-negative ones are UINT, as
 * msgpack-c's own unpacker does, so a field never depends on which format a
 * sender picked. */
static void set_signed(gs_mp_val *v, int64_t i)
{
    if (i >= 0) {
        v->kind = GS_MP_UINT;
        v->u = (uint64_t)i;
    } else {
        v->kind = GS_MP_INT;
        v->i = i;
    }
}

/* Reads one header. For EXT, v->i is the extension type (-128..127). On
 * GS_ETOOBIG, v->kind and v->n still say what the header claimed, for the
 * caller's error message. */
int gs_mp_read(gs_mp_reader *r, gs_mp_val *v)
{
    memset(v, 0, sizeof *v);
    if (r->p >= r->end)
        return GS_EMALFORMED;
    uint8_t c = *r->p++;
    uint64_t u = 0;
    int rc;

    if (c <= 0x7f) {
        v->kind = GS_MP_UINT;
        v->u = c;
        return GS_OK;
    }
    if (c >= 0xe0) {
        v->kind = GS_MP_INT;
        v->i = (int64_t)c - 256;
        return GS_OK;
    }
    if (c <= 0x8f) {
        v->kind = GS_MP_MAP;
        return take_container(r, c & 0x0f, 2, v);
    }
    if (c <= 0x9f) {
        v->kind = GS_MP_ARRAY;
        return take_container(r, c & 0x0f, 1, v);
    }
    if (c <= 0xbf) {
        v->kind = GS_MP_STR;
        return take_payload(r, c & 0x1f, v);
    }

    switch (c) {
    case 0xc0:
        v->kind = GS_MP_NIL;
        return GS_OK;
    case 0xc1:
        return GS_EMALFORMED; /* never used */
    case 0xc2:
    case 0xc3:
        v->kind = GS_MP_BOOL;
        v->b = c == 0xc3;
        return GS_OK;
    case 0xc4:
    case 0xc5:
    case 0xc6: /* bin 8/16/32 */
        v->kind = GS_MP_BIN;
        if ((rc = take_uint(r, 1u << (c - 0xc4), &u)))
            return rc;
        return take_payload(r, u, v);
    case 0xc7:
    case 0xc8:
    case 0xc9: { /* ext 8/16/32: length, type, payload */
        v->kind = GS_MP_EXT;
        uint64_t t;
        if ((rc = take_uint(r, 1u << (c - 0xc7), &u)) || (rc = take_uint(r, 1, &t)))
            return rc;
        v->i = sign_extend(t, 1);
        return take_payload(r, u, v);
    }
    case 0xca:
    case 0xcb: { /* float 32/64 */
        v->kind = GS_MP_FLOAT;
        if ((rc = take_uint(r, c == 0xca ? 4 : 8, &u)))
            return rc;
        if (c == 0xca) {
            uint32_t u32 = (uint32_t)u;
            float f;
            memcpy(&f, &u32, sizeof f);
            v->f = f;
        } else {
            memcpy(&v->f, &u, sizeof v->f);
        }
        return GS_OK;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: /* uint 8/16/32/64 */
        v->kind = GS_MP_UINT;
        return take_uint(r, 1u << (c - 0xcc), &v->u);
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: { /* int 8/16/32/64 */
        unsigned width = 1u << (c - 0xd0);
        v->kind = GS_MP_INT;
        if ((rc = take_uint(r, width, &u)))
            return rc;
        set_signed(v, sign_extend(u, width));
        return GS_OK;
    }
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8: { /* fixext 1/2/4/8/16: type, payload */
        v->kind = GS_MP_EXT;
        uint64_t t;
        if ((rc = take_uint(r, 1, &t)))
            return rc;
        v->i = sign_extend(t, 1);
        return take_payload(r, 1u << (c - 0xd4), v);
    }
    case 0xd9:
    case 0xda:
    case 0xdb: /* str 8/16/32 */
        v->kind = GS_MP_STR;
        if ((rc = take_uint(r, 1u << (c - 0xd9), &u)))
            return rc;
        return take_payload(r, u, v);
    case 0xdc:
    case 0xdd: /* array 16/32 */
        v->kind = GS_MP_ARRAY;
        if ((rc = take_uint(r, c == 0xdc ? 2 : 4, &u)))
            return rc;
        return take_container(r, u, 1, v);
    default: /* 0xde, 0xdf: map 16/32 */
        v->kind = GS_MP_MAP;
        if ((rc = take_uint(r, c == 0xde ? 2 : 4, &u)))
            return rc;
        return take_container(r, u, 2, v);
    }
}

/* Skips one value without recursion: rem[d] counts the values still to skip
 * at nesting d below the skipped value (d = 0 is the value itself). A
 * container, even an empty one, is one level: a scalar needs max_depth 0,
 * [] or {"a": 1} needs 1, [[1]] needs 2. r->depth follows the nesting while
 * skipping and is back to its entry value on success. */
int gs_mp_skip(gs_mp_reader *r, unsigned max_depth)
{
    uint64_t rem[SKIP_DEPTH_MAX + 1];
    unsigned base = r->depth, d = 0;
    if (max_depth > SKIP_DEPTH_MAX)
        max_depth = SKIP_DEPTH_MAX;
    rem[0] = 1;
    for (;;) {
        while (rem[d] == 0) {
            if (d == 0) {
                r->depth = base;
                return GS_OK;
            }
            d--;
        }
        rem[d]--;
        gs_mp_val v;
        int rc = gs_mp_read(r, &v);
        if (rc)
            return rc;
        if (v.kind != GS_MP_ARRAY && v.kind != GS_MP_MAP)
            continue;
        if (d + 1 > max_depth)
            return GS_ETOOBIG;
        rem[++d] = v.kind == GS_MP_MAP ? 2 * (uint64_t)v.n : v.n;
        r->depth = base + d;
    }
}

/* ---- typed helpers --------------------------------------------------- */

/* A negative integer where an unsigned one is wanted is GS_ERANGE (the kind
 * is a number, the value does not fit), anything else GS_ETYPE. */
int gs_mp_read_uint(gs_mp_reader *r, uint64_t *out)
{
    gs_mp_val v;
    int rc = gs_mp_read(r, &v);
    if (rc)
        return rc;
    if (v.kind == GS_MP_INT)
        return GS_ERANGE;
    if (v.kind != GS_MP_UINT)
        return GS_ETYPE;
    *out = v.u;
    return GS_OK;
}

int gs_mp_read_int(gs_mp_reader *r, int64_t *out)
{
    gs_mp_val v;
    int rc = gs_mp_read(r, &v);
    if (rc)
        return rc;
    if (v.kind == GS_MP_INT) {
        *out = v.i;
        return GS_OK;
    }
    if (v.kind != GS_MP_UINT)
        return GS_ETYPE;
    if (v.u > INT64_MAX)
        return GS_ERANGE;
    *out = (int64_t)v.u;
    return GS_OK;
}

int gs_mp_read_bool(gs_mp_reader *r, bool *out)
{
    gs_mp_val v;
    int rc = gs_mp_read(r, &v);
    if (rc)
        return rc;
    if (v.kind != GS_MP_BOOL)
        return GS_ETYPE;
    *out = v.b;
    return GS_OK;
}

/* dst is written only on success. The length is checked before the UTF-8,
 * so an oversized string is GS_ETOOBIG whatever its bytes. */
int gs_mp_read_strcpy(gs_mp_reader *r, char *dst, size_t cap)
{
    assert(dst && cap > 0);
    gs_mp_val v;
    int rc = gs_mp_read(r, &v);
    if (rc)
        return rc;
    if (v.kind != GS_MP_STR)
        return GS_ETYPE;
    if (v.n >= cap)
        return GS_ETOOBIG;
    if (!gs_utf8_valid(v.p, v.n))
        return GS_EUTF8;
    if (v.n)
        memcpy(dst, v.p, v.n);
    dst[v.n] = '\0';
    return GS_OK;
}

/* A bin of another length than n is GS_ERANGE; dst is written only on
 * success. */
int gs_mp_read_binfix(gs_mp_reader *r, void *dst, size_t n)
{
    gs_mp_val v;
    int rc = gs_mp_read(r, &v);
    if (rc)
        return rc;
    if (v.kind != GS_MP_BIN)
        return GS_ETYPE;
    if (v.n != n)
        return GS_ERANGE;
    if (n)
        memcpy(dst, v.p, n);
    return GS_OK;
}

/* Strict UTF-8 (RFC 3629): the second byte's range excludes overlongs
 * (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above
 * U+10FFFF (F4 90..BF); C0, C1 and F5..FF never start a sequence; NUL is
 * refused because strings are copied into C strings. */
bool gs_utf8_valid(const char *s, size_t n)
{
    return gs_utf8_chars(s, n) >= 0;
}

int64_t gs_utf8_chars(const char *s, size_t n)
{
    int64_t chars = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    for (; p < end; chars++) {
        unsigned c = *p;
        if (c < 0x80) {
            if (c == 0)
                return -1;
            p++;
            continue;
        }
        size_t more;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            return -1;
        }
        if ((size_t)(end - p) <= more)
            return -1;
        if (p[1] < lo || p[1] > hi)
            return -1;
        for (size_t k = 2; k <= more; k++)
            if ((p[k] & 0xc0) != 0x80)
                return -1;
        p += more + 1;
    }
    return chars;
}
