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
    int64_t skew_ms;
} node_sync_stats;

/* One full session. GS_ETIMEOUT when the hub did not answer in time,
 * GS_EAUTH when it refused this node (not worth retrying), GS_ECHAIN when
 * the chains disagree. */
int node_sync_once(node_store *s, const node_sync_opts *o, node_sync_stats *st, gs_errbuf *eb);

/* Compares this node's chain head at the hub's acked seq with the hub's.
 * Prints the result; returns GS_OK when they agree, GS_ECHAIN when not. */
int node_verify(node_store *s, const node_sync_opts *o, gs_errbuf *eb);

#endif
