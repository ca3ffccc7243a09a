/*
 * change.c: the canonical body of a change and the BLAKE2b hash chain.
 *
 * Body = msgpack map, keys in this order:
 *   origin (str), seq (uint), hlc (uint), type (str, record type name),
 *   op ("upsert" | "delete"), rec (map of the fields set, see record.c).
 * The encoder always writes this order; the decoder accepts any order but
 * rejects unknown or repeated keys. Every change names its record's key, and
 * for village data its scope, so that authorization never needs a lookup.
 */
#include <sodium.h>
#include <string.h>

#include "gridsync/change.h"

static const char *const op_names[] = {NULL, "upsert", "delete"};

void gs_change_clear(gs_change *c)
{
    gs_record_destroy(&c->rec);
    memset(c, 0, sizeof *c);
}

void gs_change_encode(const gs_change *c, gs_buf *b)
{
    gs_mp_map(b, 6);
    gs_mp_str(b, "origin");
    gs_mp_str(b, c->origin);
    gs_mp_str(b, "seq");
    gs_mp_uint(b, c->seq);
    gs_mp_str(b, "hlc");
    gs_mp_uint(b, c->hlc);
    gs_mp_str(b, "type");
    gs_mp_str(b, c->rec->rt->name);
    gs_mp_str(b, "op");
    gs_mp_str(b, op_names[c->op == GS_OP_DELETE ? 2 : 1]);
    gs_mp_str(b, "rec");
    gs_record_encode(c->rec, b);
}

bool gs_origin_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > GS_ORIGIN_MAX)
        return false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

enum { K_ORIGIN = 1, K_SEQ = 2, K_HLC = 4, K_TYPE = 8, K_OP = 16, K_REC = 32, K_ALL = 63 };

/* Decodes the body into c; the record map is decoded after the type is known,
 * so its position is remembered if it comes before "type". */
static int decode(gs_mp_reader *rd, gs_change *c, gs_errbuf *eb)
{
    gs_mp_val m;
    int rc = gs_mp_read(rd, &m);
    if (rc || m.kind != GS_MP_MAP)
        return gs_errf(eb, rc ? rc : GS_ETYPE, "change: expected a map");
    if (m.n != 6)
        return gs_errf(eb, GS_EMALFORMED, "change: expected 6 keys, got %u", m.n);
    unsigned seen = 0;
    gs_mp_reader rec_at = {0};
    const gs_rectype *rt = NULL;
    for (uint32_t k = 0; k < m.n; k++) {
        char key[8];
        if ((rc = gs_mp_read_strcpy(rd, key, sizeof key)))
            return gs_errf(eb, rc, "change: key %u: %s", k, gs_strerror(rc));
        unsigned bit = !strcmp(key, "origin") ? K_ORIGIN
                       : !strcmp(key, "seq")  ? K_SEQ
                       : !strcmp(key, "hlc")  ? K_HLC
                       : !strcmp(key, "type") ? K_TYPE
                       : !strcmp(key, "op")   ? K_OP
                       : !strcmp(key, "rec")  ? K_REC
                                              : 0;
        if (!bit)
            return gs_errf(eb, GS_EUNKNOWN, "change: unknown key \"%s\"", key);
        if (seen & bit)
            return gs_errf(eb, GS_EMALFORMED, "change.%s: given twice", key);
        seen |= bit;
        char text[GS_ORIGIN_MAX + 1];
        switch (bit) {
        case K_ORIGIN:
            if ((rc = gs_mp_read_strcpy(rd, c->origin, sizeof c->origin)))
                return gs_errf(eb, rc, "change.origin: %s", gs_strerror(rc));
            if (!gs_origin_valid(c->origin))
                return gs_errf(eb, GS_EINVAL, "change.origin: \"%s\" is not a valid origin",
                               c->origin);
            break;
        case K_SEQ:
            if ((rc = gs_mp_read_uint(rd, &c->seq)) || c->seq == 0)
                return gs_errf(eb, rc ? rc : GS_ERANGE, "change.seq: expected an integer >= 1");
            break;
        case K_HLC:
            if ((rc = gs_mp_read_uint(rd, &c->hlc)))
                return gs_errf(eb, rc, "change.hlc: %s", gs_strerror(rc));
            break;
        case K_TYPE:
            if ((rc = gs_mp_read_strcpy(rd, text, sizeof text)))
                return gs_errf(eb, rc, "change.type: %s", gs_strerror(rc));
            rt = gs_rectype_find(text);
            if (!rt || strcmp(rt->name, text))
                return gs_errf(eb, GS_EUNKNOWN, "change.type: unknown record type \"%s\"", text);
            break;
        case K_OP:
            if ((rc = gs_mp_read_strcpy(rd, text, sizeof text)))
                return gs_errf(eb, rc, "change.op: %s", gs_strerror(rc));
            if (!strcmp(text, "upsert"))
                c->op = GS_OP_UPSERT;
            else if (!strcmp(text, "delete"))
                c->op = GS_OP_DELETE;
            else
                return gs_errf(eb, GS_EINVAL, "change.op: \"%s\" is not upsert or delete", text);
            break;
        case K_REC:
            rec_at = *rd;
            if ((rc = gs_mp_skip(rd, 4)))
                return gs_errf(eb, rc, "change.rec: %s", gs_strerror(rc));
            break;
        }
    }
    if (seen != K_ALL)
        return gs_errf(eb, GS_EREQUIRED, "change: a required key is missing");
    if (!(c->rec = gs_record_new(rt)))
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    if ((rc = gs_record_decode(&rec_at, c->rec, eb)))
        return gs_errprefix(eb, rc, "change.rec");
    if (rt->scope >= 0 && !gs_record_has(c->rec, rt->scope))
        return gs_errf(eb, GS_EREQUIRED, "change.rec: %s: village_code is required", rt->name);
    return GS_OK;
}

int gs_change_decode(const void *body, size_t len, gs_change *c, gs_errbuf *eb)
{
    gs_mp_reader rd;
    gs_mp_reader_init(&rd, body, len);
    int rc = decode(&rd, c, eb);
    if (!rc && gs_mp_left(&rd))
        rc = gs_errf(eb, GS_EMALFORMED, "change: %zu trailing bytes", gs_mp_left(&rd));
    if (rc)
        gs_change_clear(c);
    return rc;
}

void gs_chain_next(const uint8_t prev[GS_HASH_LEN], const void *body, size_t len,
                   uint8_t out[GS_HASH_LEN])
{
    static const uint8_t zero[GS_HASH_LEN];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, GS_HASH_LEN);
    crypto_generichash_update(&st, prev ? prev : zero, GS_HASH_LEN);
    crypto_generichash_update(&st, body, len);
    crypto_generichash_final(&st, out, GS_HASH_LEN);
}
