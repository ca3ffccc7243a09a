/*
 * hub/server_int.h: what the files of the sync server share (internal to
 * hub/server*.c; the API is hub/server.h).
 *
 * The server is one thread and one zmq_poll loop, split by responsibility:
 *   server.c       the loop, the sockets, sessions, sending, the clock and the
 *                  grants (flow control), HELLO and PING
 *   server_push.c  PUSH: authorizing and applying changes, group commit, ACK
 *   server_pull.c  PULL (CHANGES pages) and RETURN (the city's own changes
 *                  given back after a restore)
 *   server_zap.c   the ZAP handler, the socket monitor, and the log: refusals
 *                  and dropped frames, rate-limited
 * Everything here runs on the loop's thread; none of it is thread-safe.
 */
#ifndef HUB_SERVER_INT_H
#define HUB_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gridsync/hlc.h"
#include "gridsync/msg.h"
#include "server.h"
#include "store.h"

typedef struct session {
    uint8_t rid[256]; /* ROUTER routing id */
    size_t rid_len;
    bool hello;
    char node_id[GS_ORIGIN_MAX + 1];
    char village[13];
    char key[41]; /* the CURVE key this connection authenticated with ("" if insecure) */
    int64_t last_ms;
    bool seen_dirty;        /* a HELLO's visit, written with the next group commit */
    size_t granted;         /* bytes its last grant allows in flight (see sv_grant()) */
    uint64_t pending_until; /* the node's last seq to send, as its HELLO said */
    bool verify;            /* its HELLO asked for the city chains' digests */
    bool open;              /* between HELLO and the last CHANGES page: a close now is a drop */
    char peer[64];          /* the connection's Peer-Address, to name it when it drops */
    int fd;                 /* the connection's socket (ZMQ_SRCFD), -1 once it closed */
    int64_t first_ms;       /* of its first message */
    hub_node seen;
} session;

/* Why the hub dropped a frame (or a connection, and the frames with it):
 * each reason is logged at most once a second, with how many were not. */
typedef enum {
    DROP_ENVELOPE, /* a routing id without a message, or no session for it */
    DROP_FRAMES,   /* a message of more than one frame */
    DROP_DECODE,   /* not a message of this protocol */
    DROP_ORDER,    /* a message before HELLO, or one a node does not send */
    DROP_SEND,     /* an answer that could not be queued to the peer */
    DROP_CLOSED,   /* a connection closed mid-sync: an oversized frame, or the link */
    DROP_EARLY,    /* one closed before any message of it came through */
    DROP__COUNT
} drop_reason;

typedef struct drop_limit {
    int64_t second; /* of the last line logged */
    long suppressed;
} drop_limit;

/* The peer the last ACCEPTED event named for a connection's socket (fd),
 * so that its DISCONNECTED can be named too (a slot per fd, modulo). */
typedef struct fd_peer {
    int fd;
    char peer[64];
} fd_peer;
#define FD_PEERS 1024

typedef struct pending_push {
    size_t session; /* index into sessions */
    gs_msg msg;
} pending_push;

typedef struct server {
    hub_store *store;
    const hub_server_config *cfg;
    void *ctx, *router, *zap, *mon;
    session *sessions;
    size_t nsessions, cap;
    pending_push *queue;
    size_t nqueue;
    gs_hlc hlc;
    gs_buf out;
    char last_peer[64];     /* address of the latest accepted connection */
    size_t queued_bytes;    /* of the pushes waiting for the group commit */
    int64_t refusal_second; /* rate limit of refusal log lines */
    int refusals, suppressed;
    size_t active;      /* sessions sharing the in-flight budget (see sv_grant()) */
    size_t granted;     /* the sum of their grants */
    int64_t active_ms;  /* when they were counted */
    int64_t seen_since; /* when the oldest visit not yet written was made */
    drop_limit drops[DROP__COUNT];
    fd_peer fds[FD_PEERS];
    int failed_handshakes; /* whose DISCONNECTED is still to come */
} server;

/* ---- server_zap.c: the log, drops, ZAP and the socket monitor ---- */

/* A timestamped line on stderr when cfg->verbose >= level. */
void sv_log(const server *sv, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Logs a dropped frame (or connection), rate-limited per reason. */
void sv_drop(server *sv, drop_reason why, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Logs the counts of drops not logged, once their second is over. */
void sv_drop_flush(server *sv);
/* Names a session's peer for a log line, in buf. */
const char *sv_who(const session *s, char *buf, size_t cap);
/* Answers one waiting ZAP request. */
void sv_handle_zap(server *sv);
/* Handles one waiting socket monitor event. */
void sv_handle_monitor(server *sv);

/* ---- server.c: sending, the clock, grants ---- */

/* Encodes m and sends it to s without blocking (a failure is a drop). */
void sv_send(server *sv, const session *s, const gs_msg *m);
/* Sends an ERROR with code and the formatted text. */
void sv_send_error(server *sv, const session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Ticks the hub's clock past meta.hlc and what this process saw. */
gs_hlc sv_tick_clock(server *sv);
/* Sets m's window and batch_bytes: s's grant of the in-flight budget. */
void sv_grant(server *sv, session *s, uint64_t acked, gs_msg *m);
/* Sends s a WELCOME from its node's stored state. */
void sv_send_welcome(server *sv, session *s);

/* ---- server_push.c ---- */

/* Applies the queued pushes in one transaction, then answers them. */
void sv_commit_group(server *sv, bool force);

/* ---- server_pull.c ---- */

/* Answers a PULL with one CHANGES page. */
void sv_handle_pull(server *sv, session *s, const gs_msg *m);
/* Takes back the city's changes of a RETURN; answers RETURNED. */
void sv_handle_return(server *sv, session *s, const gs_msg *m);

#endif
