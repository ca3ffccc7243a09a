/*
 * gridsync/change.h: a change, its canonical encoding, and the hash chain.
 *
 * A change is what one write on one replica did to one record: {origin, seq,
 * type, id, op, the fields it sets, hlc}. Its canonical encoding (the "body")
 * is a msgpack map written by gs_change_encode; the body is what the chain
 * hashes, what travels on the wire and what the logs store, byte for byte, so
 * that a change once appended is frozen: what is in flight can never differ
 * from what is stored, and re-encoding never has to reproduce old bytes.
 *
 * Chain: h(n) = BLAKE2b-256(h(n-1) || body(n)), h(0) = 32 zero bytes.
 */
#ifndef GRIDSYNC_CHANGE_H
#define GRIDSYNC_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"
#include "gridsync/hlc.h"
#include "gridsync/record.h"

#define GS_ORIGIN_MAX 64 /* bytes of an origin (node id or "hub") */
#define GS_HASH_LEN 32
#define GS_HUB_ORIGIN "hub"
/* The city's later chains ("epochs") are named GS_HUB_ORIGIN "." ...: a hub
 * restored from a backup starts a new one (hub/city.c), so that it never
 * gives a number it gave before. Every such origin is the city's. */
#define GS_HUB_EPOCH_PREFIX GS_HUB_ORIGIN "."

typedef enum { GS_OP_UPSERT = 1, GS_OP_DELETE = 2 } gs_op;

typedef struct gs_change {
    char origin[GS_ORIGIN_MAX + 1];
    uint64_t seq; /* 1, 2, 3 ... per origin, no gaps */
    gs_hlc hlc;
    gs_op op;
    gs_record *rec; /* owned; the fields this change sets (key and scope always) */
} gs_change;

/* Frees c->rec and zeroes the change. */
void gs_change_clear(gs_change *c);

/* Appends the canonical body of c to b. */
void gs_change_encode(const gs_change *c, gs_buf *b);
/* Decodes a body into c (which must be zeroed or cleared). Hostile-input
 * safe: any error leaves c cleared and names the field in eb. */
int gs_change_decode(const void *body, size_t len, gs_change *c, gs_errbuf *eb);

/* out = BLAKE2b-256(prev || body). prev may be NULL for the first change. */
void gs_chain_next(const uint8_t prev[GS_HASH_LEN], const void *body, size_t len,
                   uint8_t out[GS_HASH_LEN]);

/* True if s is a well-formed origin: 1..64 bytes of [A-Za-z0-9._-]. */
bool gs_origin_valid(const char *s);

/* True if s names one of the city's own chains: "hub" or "hub.<epoch>".
 * Test this, never strcmp with GS_HUB_ORIGIN, to ask "is this the city?". */
static inline bool gs_origin_is_hub(const char *s)
{
    size_t n = sizeof GS_HUB_EPOCH_PREFIX - 1;
    return s && (!strcmp(s, GS_HUB_ORIGIN) || (!strncmp(s, GS_HUB_EPOCH_PREFIX, n) && s[n]));
}

#endif
