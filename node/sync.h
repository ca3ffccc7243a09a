/*
 * node/sync.h: the node's side of the sync protocol (ZeroMQ DEALER).
 *
 * One session: HELLO, WELCOME, then PUSH the outbox from the hub's
 * acked_through + 1 with a window of batches in flight (memory bounded by the
 * window, never by the backlog), rewind on a repeated WELCOME, record
 * REJECTED changes, then PULL the hub's changes for the village in pages,
 * each page applied in one transaction together with the new cursor.
 * `--watch` repeats sessions, with exponential backoff and jitter after
 * failures, and soon after each local write.
 */
#ifndef NODE_SYNC_H
#define NODE_SYNC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "gridsync/err.h"
#include "store.h"

typedef struct node_sync_opts {
    int timeout_ms;       /* give up when the hub is silent this long */
    bool insecure;        /* plaintext (only when the node has no hub key) */
    bool progress;        /* a progress line on stderr */
    int window;           /* batches in flight */
    int batch_changes;    /* changes per PUSH */
    size_t batch_bytes;   /* bytes of bodies per PUSH */
    volatile sig_atomic_t *stop;
} node_sync_opts;

void node_sync_opts_default(node_sync_opts *o);

typedef struct node_sync_stats {
    uint64_t sent, acked_from, acked_to, rejected, pulled, refused;
    uint64_t returned; /* the city's changes given back to a hub restored from a backup */
    int64_t skew_ms;
    bool rewound; /* the hub's log was not the one read before: pulled from the start */
} node_sync_stats;

/* A connection to the hub (a ZeroMQ context, a DEALER socket, its CURVE
 * session), kept across sessions by `sync --watch`, so that a sync with
 * nothing to do is two round trips on it. Opening puts the store's
 * connection in sync mode (see node_store_sync_mode). */
typedef struct node_sync node_sync;
int node_sync_open(node_sync **out, node_store *s, const node_sync_opts *o, gs_errbuf *eb);
/* One full session on the open connection (stats may be NULL). After an
 * error, close the connection and open a new one. */
int node_sync_run(node_sync *ns, node_sync_stats *st, gs_errbuf *eb);
void node_sync_close(node_sync **ns);

/* Open, one session, close. GS_ETIMEOUT when the hub did not answer in time,
 * GS_EAUTH when it refused this node (not worth retrying), GS_ECHAIN when
 * the chains disagree. */
int node_sync_once(node_store *s, const node_sync_opts *o, node_sync_stats *st, gs_errbuf *eb);

/* Compares this node's chain head at the hub's acked seq with the hub's,
 * and the city's own changes this node holds (for its village, and the
 * reference data) with the ones the hub holds for it, chain by chain.
 * Prints the result; returns GS_OK when both agree, GS_ECHAIN when not. */
int node_verify(node_store *s, const node_sync_opts *o, gs_errbuf *eb);

#endif
