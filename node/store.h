/*
 * node/store.h: the village node's SQLite store: entity tables (made by the
 * shared replica rules), the change log that is also the outbox, and the
 * node's identity and sync state.
 *
 * Durability: WAL with synchronous=FULL (village PCs lose power). Every write
 * goes through node_store_begin / node_store_put ... / node_store_commit: one
 * transaction that updates the entity tables and appends frozen changes with
 * the next seq, an HLC timestamp and the chain hash. A change is never
 * rewritten; an edit is a new change. Several processes may use one database
 * (staff entering data while `gridnode sync --watch` runs): writers take the
 * lock up front (BEGIN IMMEDIATE) and wait for it (busy timeout), so
 * "database is locked" does not reach the user.
 */
#ifndef NODE_STORE_H
#define NODE_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "gridsync/change.h"
#include "gridsync/err.h"
#include "gridsync/find.h"
#include "gridsync/msg.h"
#include "gridsync/record.h"
#include "gridsync/replica.h"

#define NODE_SCHEMA_VERSION 2 /* 2: derived values computed, not replicated */
#define NODE_APP_ID "gridsync-node"

/* The keys of the meta(key, value) table (besides the core's GS_META_APP
 * and GS_META_SCHEMA_VERSION): the identity written at init, the sync
 * state, the clock. */
#define NODE_META_NODE_ID             "node_id"
#define NODE_META_VILLAGE             "village"
#define NODE_META_NAME                "name"
#define NODE_META_HUB_ENDPOINT        "hub_endpoint"
#define NODE_META_HUB_PUBLIC_KEY      "hub_public_key"
#define NODE_META_PUBLIC_KEY          "public_key"
#define NODE_META_SECRET_KEY          "secret_key"
#define NODE_META_HLC                 "hlc"           /* >= every hlc in changes */
#define NODE_META_ACKED_THROUGH       "acked_through" /* own seqs the hub holds */
#define NODE_META_CLOCK_SKEW_MS       "clock_skew_ms" /* node minus hub, at the last sync */
#define NODE_META_LAST_SYNC_MS        "last_sync_ms"
#define NODE_META_HUB_SEQ_CURSOR      "hub_seq_cursor" /* see node_store_cursor */
#define NODE_META_HUB_SEQ_CURSOR_HASH "hub_seq_cursor_hash"
/* `gridnode sync --watch`'s heartbeat, for other processes (the 同步 page):
 * its pid (0 once it stopped), the time of its last session and how that
 * went ("" when it synced, else the message of the failure). */
#define NODE_META_WATCH_PID           "watch_pid"
#define NODE_META_WATCH_BEAT_MS       "watch_beat_ms"
#define NODE_META_WATCH_STATE         "watch_state"
#define NODE_META_WEB_PASSWORD        "web_password" /* argon2id hash: gridnode web passwd */

typedef struct node_store node_store;

/* Identity written at init. */
typedef struct node_identity {
    char node_id[GS_ORIGIN_MAX + 1];
    char village[13];        /* 12-digit village code: the node's scope */
    char name[101];          /* a human name for the node, may be "" */
    char hub_endpoint[256];  /* tcp://HOST:PORT or ipc://PATH */
    char hub_public_key[41]; /* Z85 CURVE key, "" until keys are installed */
    char public_key[41];
    char secret_key[41];
} node_identity;

/* Creates a new database at path with the identity. Fails with GS_EEXIST if a
 * database already exists there. The file is made mode 0600 (it holds the
 * node's secret key). */
int node_store_create(const char *path, const node_identity *id, gs_errbuf *eb);

/* Opens an existing database. Fails with a clear message when the file does
 * not exist, is not a gridsync node database, or has a newer schema. */
int node_store_open(node_store **out, const char *path, gs_errbuf *eb);
void node_store_close(node_store **sp);

/* For a connection that only syncs: its commits are not fsynced one by one
 * (synchronous=NORMAL in WAL mode: atomic and consistent, made durable by
 * the next fsynced commit or checkpoint) and closing it does not checkpoint.
 * Everything a sync writes can be had again from the hub (acked_through and
 * the chain head from its WELCOME, pulled changes and their cursor, which
 * commit together, from a PULL), so a power cut costs at most a repeat; the
 * data staff enter keeps synchronous=FULL on its own connections. */
int node_store_sync_mode(node_store *s, gs_errbuf *eb);

/* The connection, for what has not moved behind this API yet (the CSV
 * export's query in cmd_csv.c); new code adds a function here instead. */
sqlite3 *node_store_db(node_store *s);
gs_replica *node_store_replica(node_store *s);
const node_identity *node_store_identity(node_store *s);

/* Meta values (sync state and the like). Get returns def when absent. */
int64_t node_store_meta_int(node_store *s, const char *key, int64_t def);
int node_store_meta_set_int(node_store *s, const char *key, int64_t v, gs_errbuf *eb);
/* Text meta into buf (cap bytes); "" when absent. */
void node_store_meta_text(node_store *s, const char *key, char *buf, size_t cap);
int node_store_meta_set_text(node_store *s, const char *key, const char *v, gs_errbuf *eb);

/* The downstream cursor: the hub_seq to pull after, and the hub's log hash at
 * it (zeros at 0, and in a database synced before the hash existed, which
 * the hub answers by sending the village's changes from the start once). */
uint64_t node_store_cursor(node_store *s, uint8_t hash[GS_HASH_LEN]);
int node_store_set_cursor(node_store *s, uint64_t next, const uint8_t hash[GS_HASH_LEN],
                          gs_errbuf *eb);

/* Write transactions. */
int node_store_begin(node_store *s, gs_errbuf *eb);
/* Appends one change setting rec's set/null fields (key and scope required)
 * and applies it to the entity tables. rec is not consumed. On error the
 * transaction must be rolled back. */
int node_store_put(node_store *s, const gs_record *rec, gs_op op, gs_errbuf *eb);
/* Commits; on success the changes are durable. */
int node_store_commit(node_store *s, gs_errbuf *eb);
void node_store_rollback(node_store *s);

/* The current record (GS_ENOTFOUND if absent or deleted); caller owns *out. */
/* Finding records again (gridsync/find.h), on this store's tables: every
 * live record of rt that passes the filter, in id order; the record whose
 * id is key or starts with key (a unique prefix of 4 or more characters);
 * a record's history from the change log, in clock order. */
int node_store_list(node_store *s, const gs_rectype *rt, const gs_find_filter *f,
                   gs_find_each each, void *arg, gs_errbuf *eb);
int node_store_find(node_store *s, const gs_rectype *rt, const char *key, gs_record **out,
                   gs_errbuf *eb);
int node_store_history(node_store *s, const gs_rectype *rt, const char *key,
                      gs_find_change_each each, void *arg, gs_errbuf *eb);

int node_store_get(node_store *s, const gs_rectype *rt, const char *key, gs_record **out,
                   gs_errbuf *eb);

/* A new time-ordered record id (UUIDv7 text, 36 bytes + NUL) from the HLC. */
void node_store_new_id(node_store *s, char out[37]);

/* Inside a write transaction: moves the node's clock past a timestamp seen
 * from the hub (the HLC receive rule), so later local edits order after it. */
void node_store_observe(node_store *s, gs_hlc remote);

/* Inside a write transaction: stores a change received from the hub (another
 * node of the village, or the city) in the history and applies it with the
 * replica rules. A change already held (same origin and seq) is skipped. */
int node_store_apply_remote(node_store *s, const gs_change *c, const void *body, size_t len,
                            const uint8_t hash[GS_HASH_LEN], uint64_t hub_seq, gs_errbuf *eb);

/* Inside a write transaction: stores a reference row (a division or a
 * category, e.g. from the bundle at init) through the replica rules as if the
 * hub had sent it, with the oldest clock there is (HLC 1, origin "hub"), so
 * that every change pulled from the hub later wins each of its fields: the
 * first sync overwrites the row harmlessly. It is no change of any origin,
 * so it is not in the change log and is never pushed. */
int node_store_put_reference(node_store *s, const gs_record *rec, gs_errbuf *eb);

/* The hash of the node's own change seq (zeros for seq 0); GS_ENOTFOUND if absent. */
int node_store_hash_at(node_store *s, uint64_t seq, uint8_t hash[GS_HASH_LEN], gs_errbuf *eb);

/* The node's own last seq and the hash of that change (zeros when none). */
int node_store_head(node_store *s, uint64_t *seq, uint8_t hash[GS_HASH_LEN], gs_errbuf *eb);

/* The import bookkeeping (node-local, never synced): the id of the record a
 * CSV row without an id became, by the row's fingerprint (cmd_csv.c).
 * Find copies the id into rid (cap bytes) or returns GS_ENOTFOUND; remember
 * runs inside the import's write transaction, so a refused import leaves no
 * trace of it either. */
int node_store_import_find(node_store *s, const uint8_t fp[GS_HASH_LEN], const gs_rectype *rt,
                           char *rid, size_t cap, gs_errbuf *eb);
int node_store_import_remember(node_store *s, const uint8_t fp[GS_HASH_LEN], const gs_rectype *rt,
                               const char *rid, gs_errbuf *eb);

/* The live (not deleted) records of rt; -1 when they cannot be counted. */
int64_t node_store_count_live(node_store *s, const gs_rectype *rt);

/* ---- what `gridnode status` and the desk's home page show --------------- */

/* The node's sync state: own changes made (the last seq), those the hub
 * holds, those pending, the changes the hub rejected, the last sync (Unix
 * ms, 0: never) and the clock skew measured then (node minus hub, ms). */
typedef struct node_sync_state {
    uint64_t head;
    int64_t acked, pending, rejected, last_sync_ms, skew_ms;
} node_sync_state;
int node_store_sync_state(node_store *s, node_sync_state *st, gs_errbuf *eb);
/* A clock this far off the hub's is worth a warning (ms). */
#define NODE_CLOCK_SKEW_WARN_MS 60000

/* The live incidents per status (counts indexed by gs_status; a status the
 * rules do not know is not counted). */
int node_store_incident_counts(node_store *s, int64_t counts[], size_t n, gs_errbuf *eb);
/* The incidents not closed whose deadline (YYYY-MM-DD) is before today, the
 * oldest deadline first, at most limit of them; fn gets each one's id,
 * title, status (canonical) and deadline. *total (may be NULL) gets how
 * many there are in all, counted up to max_count + 1 only (a page shows
 * "1000+": counting them all would cost as many index entries). */
typedef int (*node_overdue_fn)(const char *id, const char *title, const char *status,
                               const char *deadline, void *arg);
int node_store_overdue_each(node_store *s, const char *today, int limit, node_overdue_fn fn,
                            void *arg, int64_t max_count, int64_t *total, gs_errbuf *eb);

/* ---- changes the hub rejected (quarantined), for `gridnode status` ---- */

/* One rejected change: its seq, the hub's code and reason, when it was
 * rejected, and the record it concerned (rtype and rid "" when the change
 * is not in the log). The strings live until the callback returns. */
typedef struct node_rejected {
    uint64_t seq;
    const char *code, *reason, *at, *rtype, *rid;
} node_rejected;

/* Records that the hub rejected own change seq (a REJECTED message), with
 * the time now; a repeat replaces it. */
int node_store_reject(node_store *s, uint64_t seq, const char *code, const char *reason,
                      gs_errbuf *eb);
/* How many own changes the hub rejected; -1 when they cannot be counted. */
int64_t node_store_rejected_count(node_store *s);
/* Calls fn for each rejected change in seq order; a non-zero return of fn
 * stops the walk and is returned. */
int node_store_rejected_each(node_store *s, int (*fn)(const node_rejected *, void *), void *arg,
                             gs_errbuf *eb);

/* Calls fn for origin's changes with seq >= from, in seq order, at most
 * limit of them (the body and hash live until fn returns); a non-zero
 * return of fn stops the walk and is returned. For sync's PUSH batches. */
typedef int (*node_change_fn)(uint64_t seq, const void *body, size_t len,
                              const uint8_t hash[GS_HASH_LEN], void *arg);
int node_store_changes_from(node_store *s, const char *origin, uint64_t from, int limit,
                            node_change_fn fn, void *arg, gs_errbuf *eb);

/* The city's chains this node holds changes of ("hub", "hub.*"), in name
 * order, at most max (*n: how many): each one's last seq held and its hash,
 * how many of its changes are held and the digest of their hashes in seq
 * order, as gs_wire_head defines them, so that they compare with a WELCOME's
 * heads. The node holds the city's changes for its village and the
 * reference data, not the others', so a chain held may have gaps. */
int node_store_hub_chains(node_store *s, gs_wire_head *out, size_t max, size_t *n,
                          gs_errbuf *eb);

/* The hash of the city's change origin #seq as this node holds it;
 * GS_ENOTFOUND when it holds none under that number. */
int node_store_hub_hash(node_store *s, const char *origin, uint64_t seq,
                        uint8_t hash[GS_HASH_LEN]);

#endif
