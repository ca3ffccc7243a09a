/*
 * gridsync/msg.h: the wire messages of the sync protocol, defined once.
 *
 * Every message is one ZeroMQ frame holding one msgpack map with at least
 * "t" (message type name, e.g. "HELLO") and "v" (protocol version). The
 * other keys of each type are listed in one table in proto/msg.c; the
 * encoder and the decoder both walk that table, so a field is added in one
 * place. Decoding is hostile-input safe: every size is bounded by gs_limits,
 * unknown keys, wrong kinds, invalid UTF-8 and trailing bytes are errors that
 * name the field, and nothing is allocated beyond what the limits allow.
 */
#ifndef GRIDSYNC_MSG_H
#define GRIDSYNC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gridsync/buf.h"
#include "gridsync/change.h"
#include "gridsync/err.h"

/* 2: PULL and CHANGES carry the hub's log hash at the cursor, and CHANGES
 * says when the hub's log was not the one the node had seen (rewound).
 * 3: WELCOME carries the heads of the city's own chains ("heads"), HELLO
 * asks for their digests over the node's village ("verify"), and RETURN /
 * RETURNED give a restored hub back the city's changes a node holds beyond
 * those heads. */
#define GS_PROTO_VERSION 3

#define GS_MSG_LIST(X)                                                                             \
    X(HELLO)                                                                                       \
    X(WELCOME)                                                                                     \
    X(PUSH)                                                                                        \
    X(ACK)                                                                                         \
    X(REJECTED)                                                                                    \
    X(PULL)                                                                                        \
    X(CHANGES)                                                                                     \
    X(ERROR)                                                                                       \
    X(PING)                                                                                        \
    X(PONG)                                                                                        \
    X(RETURN)                                                                                      \
    X(RETURNED)

typedef enum {
    GS_MSG_NONE = 0,
#define GS_MSG_ENUM(n) GS_MSG_##n,
    GS_MSG_LIST(GS_MSG_ENUM)
#undef GS_MSG_ENUM
        GS_MSG__COUNT
} gs_msg_type;

/* Bounds applied when decoding (and by senders when batching). */
typedef struct gs_limits {
    size_t max_msg_bytes;    /* whole frame */
    size_t max_changes;      /* changes in one PUSH or CHANGES */
    size_t max_change_bytes; /* one change body */
} gs_limits;

/* The defaults: 4 MiB frames, 512 changes, 64 KiB per change. */
extern const gs_limits gs_limits_default;

/* One change as carried on the wire: its frozen body and chain hash, and in
 * CHANGES also the hub's sequence number. */
typedef struct gs_wire_change {
    uint8_t *body; /* owned */
    size_t len;
    uint8_t hash[GS_HASH_LEN];
    uint64_t hub_seq; /* CHANGES only; 0 in PUSH */
} gs_wire_change;

/* The most city chains a WELCOME lists (one per epoch of the hub's own
 * origin; a new one only when a restore is detected). */
#define GS_MAX_HEADS 32

/* One of the city's own chains as the hub holds it: its origin ("hub",
 * "hub.2-..."), last seq and the hash there; with HELLO.verify also how many
 * of its changes a node of the session's village should hold (its changes
 * for that village and the reference data) and the digest of their hashes in
 * seq order (d = BLAKE2b(d || hash), zeros for none). */
typedef struct gs_wire_head {
    char origin[GS_ORIGIN_MAX + 1];
    uint64_t seq;
    uint8_t hash[GS_HASH_LEN];
    uint64_t count;
    uint8_t digest[GS_HASH_LEN];
} gs_wire_head;

/* A decoded (or to-be-encoded) message: the union of all message fields.
 * Which fields a type carries is in the table in proto/msg.c. */
typedef struct gs_msg {
    gs_msg_type type;
    uint32_t version;
    char node_id[GS_ORIGIN_MAX + 1]; /* HELLO */
    char software[65];               /* HELLO */
    uint64_t pending;                /* HELLO: changes the node has not had acked */
    uint64_t hub_seq_seen;           /* HELLO: the node's downstream cursor */
    uint64_t node_time;              /* HELLO: the node's wall clock, ms (for the city's view of skew) */
    bool verify;                     /* HELLO: fill heads[].count and .digest in the WELCOME */
    uint64_t acked_through;          /* WELCOME, ACK */
    uint64_t hub_time;               /* WELCOME, PONG: the hub's HLC */
    uint64_t hub_wall;               /* WELCOME, PONG: the hub's wall clock, ms (for skew) */
    uint64_t hub_seq_head;           /* WELCOME */
    uint8_t chain_head[GS_HASH_LEN]; /* WELCOME, ACK: h(acked_through); zeros for none */
    uint64_t window;                 /* WELCOME, ACK: PUSHes the node may have in flight */
    uint64_t batch_bytes;            /* WELCOME, ACK: change bytes the node may put in one PUSH */
    gs_wire_head heads[GS_MAX_HEADS]; /* WELCOME: the city's own chains */
    size_t nheads;
    char origin[GS_ORIGIN_MAX + 1];  /* RETURN, RETURNED: a city chain */
    uint64_t first_seq;              /* PUSH, RETURN */
    uint64_t seq;                    /* REJECTED; RETURNED: the hub's head of origin now */
    uint64_t since;                  /* PULL */
    uint64_t next;                   /* CHANGES: the cursor to ask for next */
    bool more;                       /* CHANGES */
    uint8_t log_hash[GS_HASH_LEN];   /* PULL: the hub's log hash at since; CHANGES: at next */
    bool rewound;                    /* CHANGES: the log at since was not that one; from 0 */
    char code[33];                   /* REJECTED, ERROR, RETURNED ("" when all went in): e.g. "GS_ESCOPE" */
    char text[513];                  /* REJECTED reason, ERROR message, RETURNED why it stopped */
    gs_wire_change *changes;         /* PUSH, CHANGES, RETURN; owned */
    size_t nchanges;
} gs_msg;

/* The name of a message type ("HELLO"); "?" if unknown. */
const char *gs_msg_name(gs_msg_type t);

/* Appends the encoding of m to b. Fails with GS_ETOOBIG (and b->err) if the
 * result would exceed lim->max_msg_bytes. */
int gs_msg_encode(const gs_msg *m, const gs_limits *lim, gs_buf *b);
/* Decodes one frame into m (which must be zeroed or cleared). On error m is
 * cleared and eb names the field. */
int gs_msg_decode(const void *data, size_t len, const gs_limits *lim, gs_msg *m, gs_errbuf *eb);
/* Frees the changes and zeroes m. */
void gs_msg_clear(gs_msg *m);
/* Appends a change (body copied) to m->changes. */
int gs_msg_add_change(gs_msg *m, const void *body, size_t len, const uint8_t hash[GS_HASH_LEN],
                      uint64_t hub_seq);

#endif
