/*
 * msg.c: the codec of the sync protocol's wire messages (see gridsync/msg.h).
 *
 * The protocol is data: msg_fields[] lists every key of every message type
 * (which types carry it, its kind, where it lives in gs_msg, whether it is
 * required) and change_fields[] does the same for one change inside PUSH and
 * CHANGES. The encoder and the decoder only walk those tables; adding a field
 * is one row (and a member in gs_msg).
 *
 * Wire shape: one map. Its first key is "t" (the type name, e.g. "HELLO")
 * and its second "v" (the protocol version): this order is required, so the
 * version is checked before any type-specific key is looked at and a peer
 * speaking another version always gets GS_EVERSION, never a confusing
 * "unknown key". The other keys may come in any order; the encoder writes
 * them in table order. A change is a map {"body": bin, "hash": bin32} plus
 * "hub_seq": uint in CHANGES. A head (WELCOME.heads) is a map {"origin",
 * "seq", "hash", "count", "digest"}, at most GS_MAX_HEADS of them.
 *
 * Decoder invariants (the input is hostile):
 *   - the frame size is checked against max_msg_bytes before anything else;
 *   - nothing is allocated before the size that drives it has passed its
 *     limit (the changes array after max_changes, each body after
 *     max_change_bytes), and the reader already bounds every count by the
 *     bytes left;
 *   - unknown types, a foreign version, unknown, duplicate or missing keys,
 *     wrong kinds, over-long strings, invalid UTF-8 and trailing bytes are
 *     errors whose text names the type and field ("PUSH.changes[3].body: ...");
 *   - on any error the gs_msg is left cleared, owning nothing.
 *
 * A NULL gs_limits means gs_limits_default, for both encoder and decoder.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/mpack.h"
#include "gridsync/msg.h"

const gs_limits gs_limits_default = {4u << 20, 512, 64u << 10};

/* ---- the protocol as data ------------------------------------------- */

/* What a key holds on the wire and in memory. */
typedef enum {
    K_U64,     /* uint64_t, msgpack uint */
    K_STR,     /* char[cap], msgpack str of at most cap-1 bytes of UTF-8, no NUL */
    K_HASH,    /* uint8_t[cap], msgpack bin of exactly cap (GS_HASH_LEN) bytes */
    K_BOOL,    /* bool, msgpack true/false */
    K_CHANGES, /* gs_msg.changes/nchanges, msgpack array of change maps */
    K_HEADS,   /* gs_msg.heads/nheads, msgpack array of at most GS_MAX_HEADS head maps */
    K_BODY     /* gs_wire_change.body/len, msgpack bin of <= max_change_bytes */
} field_kind;

/* One key of a map: which message types carry it, its name on the wire,
 * its kind and where it is stored (offset and size in the target struct). */
typedef struct field {
    unsigned types;
    const char *key;
    field_kind kind;
    size_t off;
    size_t cap;
    bool required;
} field;

#define T(n)                      (1u << GS_MSG_##n)
#define MEMBER_SIZE(type, member) sizeof(((type *)0)->member)
#define MSG_FIELD(types, member, kind, required)                                                   \
    {                                                                                              \
        types, #member, kind, offsetof(gs_msg, member), MEMBER_SIZE(gs_msg, member), required      \
    }
#define HEAD_FIELD(member, kind)                                                                   \
    {                                                                                              \
        T(WELCOME), #member, kind, offsetof(gs_wire_head, member),                                 \
            MEMBER_SIZE(gs_wire_head, member), true                                                \
    }
#define CHANGE_FIELD(types, member, kind, required)                                                \
    {                                                                                              \
        types, #member, kind, offsetof(gs_wire_change, member),                                    \
            MEMBER_SIZE(gs_wire_change, member), required                                          \
    }

/* Every message key but "t" and "v". A type's keys are encoded in this order;
 * the order was chosen so that each type's keys read in the order of the
 * protocol description (e.g. WELCOME: acked_through, hub_time, hub_seq_head,
 * chain_head, then the grant: window, batch_bytes). Only the human-readable texts are optional. */
static const field msg_fields[] = {
    MSG_FIELD(T(HELLO), node_id, K_STR, true),
    MSG_FIELD(T(HELLO), software, K_STR, true),
    MSG_FIELD(T(HELLO), pending, K_U64, true),
    MSG_FIELD(T(HELLO), hub_seq_seen, K_U64, true),
    MSG_FIELD(T(HELLO), node_time, K_U64, true),
    MSG_FIELD(T(HELLO), verify, K_BOOL, true),
    MSG_FIELD(T(WELCOME) | T(ACK), acked_through, K_U64, true),
    MSG_FIELD(T(WELCOME) | T(PONG), hub_time, K_U64, true),
    MSG_FIELD(T(WELCOME) | T(PONG), hub_wall, K_U64, true),
    MSG_FIELD(T(WELCOME), hub_seq_head, K_U64, true),
    MSG_FIELD(T(WELCOME) | T(ACK), chain_head, K_HASH, true),
    MSG_FIELD(T(WELCOME) | T(ACK), window, K_U64, true),
    MSG_FIELD(T(WELCOME) | T(ACK), batch_bytes, K_U64, true),
    MSG_FIELD(T(WELCOME), heads, K_HEADS, true),
    MSG_FIELD(T(RETURN) | T(RETURNED), origin, K_STR, true),
    MSG_FIELD(T(PUSH) | T(RETURN), first_seq, K_U64, true),
    MSG_FIELD(T(REJECTED) | T(RETURNED), seq, K_U64, true),
    MSG_FIELD(T(REJECTED) | T(ERROR) | T(RETURNED), code, K_STR, true),
    MSG_FIELD(T(REJECTED) | T(ERROR) | T(RETURNED), text, K_STR, false),
    MSG_FIELD(T(PULL), since, K_U64, true),
    MSG_FIELD(T(PUSH) | T(CHANGES) | T(RETURN), changes, K_CHANGES, true),
    MSG_FIELD(T(CHANGES), next, K_U64, true),
    MSG_FIELD(T(CHANGES), more, K_BOOL, true),
    MSG_FIELD(T(PULL) | T(CHANGES), log_hash, K_HASH, true),
    MSG_FIELD(T(CHANGES), rewound, K_BOOL, true),
};

/* The keys of one change inside PUSH, CHANGES and RETURN. */
static const field change_fields[] = {
    CHANGE_FIELD(T(PUSH) | T(CHANGES) | T(RETURN), body, K_BODY, true),
    CHANGE_FIELD(T(PUSH) | T(CHANGES) | T(RETURN), hash, K_HASH, true),
    CHANGE_FIELD(T(CHANGES), hub_seq, K_U64, true),
};

/* The keys of one head inside WELCOME. */
static const field head_fields[] = {
    HEAD_FIELD(origin, K_STR), HEAD_FIELD(seq, K_U64),       HEAD_FIELD(hash, K_HASH),
    HEAD_FIELD(count, K_U64),  HEAD_FIELD(digest, K_HASH),
};

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* The decoder tracks seen keys in a 32-bit mask. */
_Static_assert(NROWS(msg_fields) <= 32, "msg_fields must fit the seen mask");
_Static_assert(NROWS(change_fields) <= 32, "change_fields must fit the seen mask");
_Static_assert(NROWS(head_fields) <= 32, "head_fields must fit the seen mask");
_Static_assert(GS_MSG__COUNT <= 32, "message types must fit the type mask");
_Static_assert(MEMBER_SIZE(gs_msg, chain_head) == GS_HASH_LEN, "chain_head is a hash");
_Static_assert(MEMBER_SIZE(gs_wire_change, hash) == GS_HASH_LEN, "hash is a hash");
_Static_assert(MEMBER_SIZE(gs_msg, log_hash) == GS_HASH_LEN, "log_hash is a hash");
_Static_assert(MEMBER_SIZE(gs_wire_head, hash) == GS_HASH_LEN, "a head's hash is a hash");
_Static_assert(MEMBER_SIZE(gs_wire_head, digest) == GS_HASH_LEN, "a digest is a hash");

/* The wire name of each type; GS_MSG_NONE has none (gs_msg_name says "?"). */
static const char *const msg_names[GS_MSG__COUNT] = {
#define GS_MSG_NAME(n) [GS_MSG_##n] = #n,
    GS_MSG_LIST(GS_MSG_NAME)
#undef GS_MSG_NAME
};

const char *gs_msg_name(gs_msg_type t)
{
    if ((int)t <= GS_MSG_NONE || t >= GS_MSG__COUNT)
        return "?";
    return msg_names[t];
}

/* The type whose name is [p, p+n), or GS_MSG_NONE. */
static gs_msg_type type_find(const char *p, size_t n)
{
    for (int t = GS_MSG_NONE + 1; t < GS_MSG__COUNT; t++)
        if (strlen(msg_names[t]) == n && !memcmp(msg_names[t], p, n))
            return (gs_msg_type)t;
    return GS_MSG_NONE;
}

/* How many rows of a table the type carries (the map size when encoding). */
static uint32_t count_fields(const field *rows, size_t nrows, gs_msg_type type)
{
    uint32_t n = 0;
    for (size_t i = 0; i < nrows; i++)
        n += (rows[i].types & (1u << type)) != 0;
    return n;
}

/* ---- messages and changes ------------------------------------------- */

void gs_msg_clear(gs_msg *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nchanges; i++)
        free(m->changes[i].body);
    free(m->changes);
    memset(m, 0, sizeof *m);
}

/* Grows the array by exactly one: batches are bounded (max_changes), so the
 * simplicity is worth more than amortized growth, and it keeps the invariant
 * that the array holds exactly nchanges entries, which the decoder also
 * relies on. */
int gs_msg_add_change(gs_msg *m, const void *body, size_t len, const uint8_t hash[GS_HASH_LEN],
                      uint64_t hub_seq)
{
    assert(m);
    if (!body && len)
        return GS_EINVAL;
    if (m->nchanges >= SIZE_MAX / sizeof *m->changes - 1)
        return GS_ETOOBIG;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return GS_ENOMEM;
    if (len)
        memcpy(copy, body, len);
    gs_wire_change *a = realloc(m->changes, (m->nchanges + 1) * sizeof *a);
    if (!a) {
        free(copy);
        return GS_ENOMEM;
    }
    m->changes = a;
    gs_wire_change *c = &a[m->nchanges++];
    memset(c, 0, sizeof *c);
    c->body = copy;
    c->len = len;
    if (hash)
        memcpy(c->hash, hash, GS_HASH_LEN);
    c->hub_seq = hub_seq;
    return GS_OK;
}

/* ---- encoder --------------------------------------------------------- */

static int encode_fields(const field *rows, size_t nrows, gs_msg_type type, const void *base,
                         const gs_limits *lim, gs_buf *b);

/* Encodes an array of n maps of rows (the changes of PUSH, CHANGES and
 * RETURN, the heads of WELCOME), elem_size bytes apart from elems; refuses
 * what the decoder would refuse, so a message this side sends is one the
 * other side accepts. */
static int encode_array(const field *rows, size_t nrows, gs_msg_type type, const void *elems,
                        size_t elem_size, size_t n, size_t max, const gs_limits *lim, gs_buf *b)
{
    if (n > max || n > UINT32_MAX)
        return GS_ETOOBIG;
    if (n && !elems)
        return GS_EINVAL;
    gs_mp_array(b, (uint32_t)n);
    uint32_t pairs = count_fields(rows, nrows, type);
    for (size_t i = 0; i < n; i++) {
        gs_mp_map(b, pairs);
        int rc = encode_fields(rows, nrows, type, (const char *)elems + i * elem_size, lim, b);
        if (rc)
            return rc;
    }
    return GS_OK;
}

/* Appends the key/value pairs of the rows the type carries, read from base
 * (a gs_msg, a gs_wire_change or a gs_wire_head). */
static int encode_fields(const field *rows, size_t nrows, gs_msg_type type, const void *base,
                         const gs_limits *lim, gs_buf *b)
{
    for (size_t i = 0; i < nrows; i++) {
        const field *f = &rows[i];
        if (!(f->types & (1u << type)))
            continue;
        const char *at = (const char *)base + f->off;
        gs_mp_str(b, f->key);
        switch (f->kind) {
        case K_U64: {
            uint64_t u;
            memcpy(&u, at, sizeof u);
            gs_mp_uint(b, u);
            break;
        }
        case K_STR: {
            size_t n = strnlen(at, f->cap);
            if (n == f->cap)
                return GS_EINVAL; /* not NUL-terminated */
            if (!gs_utf8_valid(at, n))
                return GS_EUTF8;
            gs_mp_strn(b, at, n);
            break;
        }
        case K_HASH:
            gs_mp_bin(b, at, f->cap);
            break;
        case K_BOOL: {
            bool v;
            memcpy(&v, at, sizeof v);
            gs_mp_bool(b, v);
            break;
        }
        case K_CHANGES:
        case K_HEADS: {
            const gs_msg *m = base;
            int rc = f->kind == K_CHANGES
                         ? encode_array(change_fields, NROWS(change_fields), type, m->changes,
                                        sizeof *m->changes, m->nchanges, lim->max_changes, lim, b)
                         : encode_array(head_fields, NROWS(head_fields), type, m->heads,
                                        sizeof *m->heads, m->nheads, GS_MAX_HEADS, lim, b);
            if (rc)
                return rc;
            break;
        }
        case K_BODY: {
            const gs_wire_change *c = base;
            if (c->len > lim->max_change_bytes)
                return GS_ETOOBIG;
            if (c->len && !c->body)
                return GS_EINVAL;
            gs_mp_bin(b, c->body, c->len);
            break;
        }
        }
    }
    return GS_OK;
}

/* The buffer's limit is lowered for the duration so that an oversized
 * message fails as soon as it passes max_msg_bytes instead of being built in
 * full. On failure b->len is rolled back to where the message began and
 * b->err holds the code, so a chain of appends can be checked once. */
int gs_msg_encode(const gs_msg *m, const gs_limits *lim, gs_buf *b)
{
    assert(m && b);
    if (!lim)
        lim = &gs_limits_default;
    if (b->err)
        return b->err;
    if ((int)m->type <= GS_MSG_NONE || m->type >= GS_MSG__COUNT) {
        b->err = GS_EINVAL;
        return b->err;
    }
    size_t start = b->len, saved_limit = b->limit;
    size_t cap = lim->max_msg_bytes > SIZE_MAX - start ? SIZE_MAX : start + lim->max_msg_bytes;
    if (!saved_limit || cap < saved_limit)
        b->limit = cap;

    gs_mp_map(b, 2 + count_fields(msg_fields, NROWS(msg_fields), m->type));
    gs_mp_str(b, "t");
    gs_mp_str(b, msg_names[m->type]);
    gs_mp_str(b, "v");
    gs_mp_uint(b, m->version ? m->version : GS_PROTO_VERSION);
    int rc = encode_fields(msg_fields, NROWS(msg_fields), m->type, m, lim, b);

    b->limit = saved_limit;
    if (rc && !b->err)
        b->err = rc;
    if (b->err) {
        b->len = start;
        if (b->data)
            b->data[start] = '\0';
        return b->err;
    }
    return GS_OK;
}

/* ---- decoder --------------------------------------------------------- */

/* What the decoder's helpers share: the cursor, the limits, the type being
 * decoded (it selects the table rows) and the error buffer. */
typedef struct ctx {
    gs_mp_reader *r;
    const gs_limits *lim;
    gs_msg_type type;
    gs_errbuf *eb;
} ctx;

static const char *kind_name(gs_mp_kind k)
{
    static const char *const names[] = {
        [GS_MP_NIL] = "nil",
        [GS_MP_BOOL] = "a boolean",
        [GS_MP_UINT] = "an unsigned integer",
        [GS_MP_INT] = "a negative integer",
        [GS_MP_FLOAT] = "a float",
        [GS_MP_STR] = "a string",
        [GS_MP_BIN] = "a bin",
        [GS_MP_ARRAY] = "an array",
        [GS_MP_MAP] = "a map",
        [GS_MP_EXT] = "an ext",
    };
    return (unsigned)k < NROWS(names) ? names[k] : "?";
}

/* Writes a key or type name from the wire into out so that it can be shown
 * safely: printable ASCII kept, other bytes as \xNN, cut after 32 bytes. */
static const char *show(char out[160], const char *p, size_t n)
{
    size_t o = 0, k;
    for (k = 0; k < n && k < 32; k++) {
        unsigned char c = (unsigned char)p[k];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
    }
    if (k < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* Reads one value header for field `name`, turning a reader failure into a
 * message that names it. */
static int read_val(ctx *x, const char *name, gs_mp_val *v)
{
    int rc = gs_mp_read(x->r, v);
    if (rc == GS_ETOOBIG)
        return gs_errf(x->eb, rc, "%s: %s of %u %s cannot fit in the %zu bytes left", name,
                       v->kind == GS_MP_MAP ? "map" : "array", v->n,
                       v->kind == GS_MP_MAP ? "pairs" : "elements", gs_mp_left(x->r));
    if (rc)
        return gs_errf(x->eb, rc, "%s: truncated or malformed value", name);
    return GS_OK;
}

static int wrong_kind(ctx *x, const char *name, const char *want, const gs_mp_val *v)
{
    return gs_errf(x->eb, GS_ETYPE, "%s: expected %s, got %s", name, want, kind_name(v->kind));
}

static int decode_map(ctx *x, uint32_t npairs, const field *rows, size_t nrows, void *base,
                      const char *path, uint32_t first);

/* Reads an array's header for field `name` and checks its count against
 * max (what: "changes", "heads") before anything is allocated for it. */
static int read_array(ctx *x, const char *name, size_t max, const char *what, uint32_t *n)
{
    gs_mp_val v;
    int rc = read_val(x, name, &v);
    if (rc)
        return rc;
    if (v.kind != GS_MP_ARRAY)
        return wrong_kind(x, name, "an array", &v);
    if (v.n > max)
        return gs_errf(x->eb, GS_ETOOBIG, "%s: %u %s exceed the limit of %zu", name, v.n, what,
                       max);
    *n = v.n;
    return GS_OK;
}

/* Decodes n maps of rows into elems[0..n) (elem_size bytes apart), named
 * name[i] in errors. */
static int decode_elems(ctx *x, uint32_t n, const field *rows, size_t nrows, void *elems,
                        size_t elem_size, const char *name)
{
    for (uint32_t i = 0; i < n; i++) {
        char path[560]; /* room for any field path and index */
        snprintf(path, sizeof path, "%s[%u]", name, i);
        gs_mp_val c;
        int rc = read_val(x, path, &c);
        if (rc)
            return rc;
        if (c.kind != GS_MP_MAP)
            return wrong_kind(x, path, "a map", &c);
        rc = decode_map(x, c.n, rows, nrows, (char *)elems + i * elem_size, path, 0);
        if (rc)
            return rc;
    }
    return GS_OK;
}

/* Decodes the changes array into m: the count passes max_changes before the
 * array is allocated, and m->nchanges is set at once so that gs_msg_clear
 * frees whatever was decoded if a later change fails. */
static int decode_changes(ctx *x, gs_msg *m, const char *name)
{
    uint32_t n;
    int rc = read_array(x, name, x->lim->max_changes, "changes", &n);
    if (rc || n == 0)
        return rc;
    m->changes = calloc(n, sizeof *m->changes);
    if (!m->changes)
        return gs_errf(x->eb, GS_ENOMEM, "%s: out of memory", name);
    m->nchanges = n;
    return decode_elems(x, n, change_fields, NROWS(change_fields), m->changes,
                        sizeof *m->changes, name);
}

/* Decodes the heads array into m->heads (a fixed array: nothing is
 * allocated). */
static int decode_heads(ctx *x, gs_msg *m, const char *name)
{
    uint32_t n;
    int rc = read_array(x, name, GS_MAX_HEADS, "heads", &n);
    if (rc)
        return rc;
    m->nheads = n;
    return decode_elems(x, n, head_fields, NROWS(head_fields), m->heads, sizeof *m->heads, name);
}

/* Decodes one value of kind f->kind into base + f->off. */
static int decode_value(ctx *x, const field *f, void *base, const char *name)
{
    char *at = (char *)base + f->off;
    if (f->kind == K_CHANGES)
        return decode_changes(x, base, name);
    if (f->kind == K_HEADS)
        return decode_heads(x, base, name);
    gs_mp_val v;
    int rc = read_val(x, name, &v);
    if (rc)
        return rc;
    switch (f->kind) {
    case K_U64:
        if (v.kind == GS_MP_INT) /* a number, but out of range (as gs_mp_read_uint) */
            return gs_errf(x->eb, GS_ERANGE, "%s: expected an unsigned integer, got %lld", name,
                           (long long)v.i);
        if (v.kind != GS_MP_UINT)
            return wrong_kind(x, name, "an unsigned integer", &v);
        memcpy(at, &v.u, sizeof v.u);
        return GS_OK;
    case K_STR:
        if (v.kind != GS_MP_STR)
            return wrong_kind(x, name, "a string", &v);
        if (v.n >= f->cap)
            return gs_errf(x->eb, GS_ETOOBIG, "%s: %u bytes exceeds the limit of %zu", name, v.n,
                           f->cap - 1);
        if (!gs_utf8_valid(v.p, v.n))
            return gs_errf(x->eb, GS_EUTF8, "%s: not valid UTF-8 (or holds a NUL byte)", name);
        if (v.n)
            memcpy(at, v.p, v.n);
        at[v.n] = '\0';
        return GS_OK;
    case K_HASH:
        if (v.kind != GS_MP_BIN)
            return wrong_kind(x, name, "a bin", &v);
        if (v.n != f->cap)
            return gs_errf(x->eb, GS_ERANGE, "%s: %u bytes, expected exactly %zu", name, v.n,
                           f->cap);
        memcpy(at, v.p, f->cap);
        return GS_OK;
    case K_BOOL: {
        if (v.kind != GS_MP_BOOL)
            return wrong_kind(x, name, "a boolean", &v);
        bool b = v.b;
        memcpy(at, &b, sizeof b);
        return GS_OK;
    }
    case K_BODY: {
        gs_wire_change *c = base;
        if (v.kind != GS_MP_BIN)
            return wrong_kind(x, name, "a bin", &v);
        if (v.n > x->lim->max_change_bytes)
            return gs_errf(x->eb, GS_ETOOBIG, "%s: %u bytes exceeds the limit of %zu", name, v.n,
                           x->lim->max_change_bytes);
        c->body = malloc(v.n ? v.n : 1);
        if (!c->body)
            return gs_errf(x->eb, GS_ENOMEM, "%s: out of memory", name);
        if (v.n)
            memcpy(c->body, v.p, v.n);
        c->len = v.n;
        return GS_OK;
    }
    case K_CHANGES: /* handled above */
    case K_HEADS:
        break;
    }
    return GS_EINVAL;
}

/* Decodes npairs key/value pairs into base (a gs_msg or a gs_wire_change)
 * following the rows the current type carries: unknown and duplicate keys
 * are refused, and every required row must have been seen. first is the
 * position of the first pair in the map, for error texts; a message map
 * starts after its envelope (first = 2), whose "t" and "v" are then
 * reported as duplicates. */
static int decode_map(ctx *x, uint32_t npairs, const field *rows, size_t nrows, void *base,
                      const char *path, uint32_t first)
{
    uint32_t seen = 0;
    bool envelope = first > 0;
    char name[512], shown[160]; /* room for any path and key */
    for (uint32_t k = first; k - first < npairs; k++) {
        gs_mp_val key;
        snprintf(name, sizeof name, "%s: key %u", path, k);
        int rc = read_val(x, name, &key);
        if (rc)
            return rc;
        if (key.kind != GS_MP_STR)
            return gs_errf(x->eb, GS_ETYPE, "%s: key %u is %s, expected a string", path, k,
                           kind_name(key.kind));
        size_t i;
        for (i = 0; i < nrows; i++)
            if ((rows[i].types & (1u << x->type)) && strlen(rows[i].key) == key.n &&
                !memcmp(rows[i].key, key.p, key.n))
                break;
        snprintf(name, sizeof name, "%s.%s", path, show(shown, key.p, key.n));
        if (i == nrows) {
            if (envelope && key.n == 1 && (key.p[0] == 't' || key.p[0] == 'v'))
                return gs_errf(x->eb, GS_EMALFORMED, "%s: duplicate key", name);
            return gs_errf(x->eb, GS_EUNKNOWN, "%s: unknown key", name);
        }
        if (seen & (1u << i))
            return gs_errf(x->eb, GS_EMALFORMED, "%s: duplicate key", name);
        seen |= 1u << i;
        if ((rc = decode_value(x, &rows[i], base, name)))
            return rc;
    }
    for (size_t i = 0; i < nrows; i++)
        if ((rows[i].types & (1u << x->type)) && rows[i].required && !(seen & (1u << i)))
            return gs_errf(x->eb, GS_EREQUIRED, "%s.%s: missing", path, rows[i].key);
    return GS_OK;
}

/* Reads the key at position k of the envelope, which must be `want`. */
static int envelope_key(ctx *x, const char *path, uint32_t k, uint32_t npairs, const char *want,
                        const char *why)
{
    if (k >= npairs)
        return gs_errf(x->eb, GS_EREQUIRED, "%s.%s: missing (%s)", path, want, why);
    gs_mp_val key;
    char name[64];
    snprintf(name, sizeof name, "%s: key %u", path, k);
    int rc = read_val(x, name, &key);
    if (rc)
        return rc;
    if (key.kind != GS_MP_STR)
        return gs_errf(x->eb, GS_ETYPE, "%s: key %u is %s, expected a string", path, k,
                       kind_name(key.kind));
    if (key.n != strlen(want) || memcmp(key.p, want, key.n)) {
        char shown[160];
        return gs_errf(x->eb, GS_EREQUIRED, "%s.%s: missing (%s), found \"%s\"", path, want, why,
                       show(shown, key.p, key.n));
    }
    return GS_OK;
}

/* The whole frame: envelope ("t", then "v"), then the type's keys, then
 * nothing. The version is checked before the type name is looked up. */
static int decode(ctx *x, gs_msg *m, size_t len)
{
    if (len > x->lim->max_msg_bytes)
        return gs_errf(x->eb, GS_ETOOBIG, "message: %zu bytes exceeds the limit of %zu", len,
                       x->lim->max_msg_bytes);
    gs_mp_val top, t, v;
    int rc = read_val(x, "message", &top);
    if (rc)
        return rc;
    if (top.kind != GS_MP_MAP)
        return wrong_kind(x, "message", "a map", &top);

    if ((rc = envelope_key(x, "message", 0, top.n, "t", "the first key must be \"t\"")) ||
        (rc = read_val(x, "message.t", &t)))
        return rc;
    if (t.kind != GS_MP_STR)
        return wrong_kind(x, "message.t", "a string", &t);
    gs_msg_type type = type_find(t.p, t.n);
    const char *path = type ? msg_names[type] : "message";

    char name[64];
    snprintf(name, sizeof name, "%s.v", path);
    if ((rc = envelope_key(x, path, 1, top.n, "v", "the second key must be \"v\"")) ||
        (rc = read_val(x, name, &v)))
        return rc;
    if (v.kind != GS_MP_UINT)
        return wrong_kind(x, name, "an unsigned integer", &v);
    if (v.u != GS_PROTO_VERSION)
        return gs_errf(x->eb, GS_EVERSION,
                       "%s: protocol version %llu is not supported (this build speaks %d)", name,
                       (unsigned long long)v.u, GS_PROTO_VERSION);
    if (!type) {
        char shown[160];
        return gs_errf(x->eb, GS_EUNKNOWN, "message.t: unknown message type \"%s\"",
                       show(shown, t.p, t.n));
    }
    m->type = type;
    m->version = GS_PROTO_VERSION;
    x->type = type;

    if ((rc = decode_map(x, top.n - 2, msg_fields, NROWS(msg_fields), m, path, 2)))
        return rc;
    if (gs_mp_left(x->r))
        return gs_errf(x->eb, GS_EMALFORMED, "%s: %zu trailing bytes after the message", path,
                       gs_mp_left(x->r));
    return GS_OK;
}

int gs_msg_decode(const void *data, size_t len, const gs_limits *lim, gs_msg *m, gs_errbuf *eb)
{
    assert(m && (data || len == 0));
    memset(m, 0, sizeof *m);
    if (eb)
        eb->msg[0] = '\0';
    gs_mp_reader r;
    gs_mp_reader_init(&r, data, len);
    ctx x = {&r, lim ? lim : &gs_limits_default, GS_MSG_NONE, eb};
    int rc = decode(&x, m, len);
    if (rc)
        gs_msg_clear(m);
    return rc;
}
