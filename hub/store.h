/*
 * hub/store.h: the city hub's store, behind a small interface so that a
 * server database can replace SQLite when one city machine is outgrown.
 * Nothing outside hub/store.c sees SQL except the read-only reports
 * (hub/report*.c), which take the connection from hub_store_db().
 *
 * What it keeps:
 *   - the node registry: id, village, name, CURVE public key, enabled;
 *   - each node's sync state: acked_through and chain head (advanced in the
 *     same transaction as the changes they cover), last seen, software,
 *     pending (what the last HELLO announced, less what was acked since),
 *     clock skew, downstream cursor;
 *   - the full change log of every origin (unique on origin + seq), each
 *     change also numbered by the hub's own sequence (hub_seq) for
 *     downstream delivery, with the village it concerns (its scope: the
 *     record's village; a village's own division row is scoped to it; NULL
 *     for the other reference data, which goes to every node);
 *   - quarantine: changes refused by validation or authorization, with why;
 *   - the entity tables, materialized by the shared replica rules.
 *
 * Durability: WAL, synchronous=FULL. A write batch is hub_store_begin, any
 * number of appends, hub_store_commit; only after commit returns may the
 * server acknowledge anything in it.
 */
#ifndef HUB_STORE_H
#define HUB_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "gridsync/change.h"
#include "gridsync/err.h"
#include "gridsync/find.h"
#include "gridsync/msg.h"
#include "gridsync/replica.h"
#include "gridsync/stmt.h"

#define HUB_SCHEMA_VERSION 3 /* 2: the change log's log_hash column; 3: derived values recomputed */
#define HUB_APP_ID "gridsync-hub"

/* The keys of the meta(key, value) table (besides the core's GS_META_APP
 * and GS_META_SCHEMA_VERSION). */
#define HUB_META_PUBLIC_KEY "public_key" /* the hub's CURVE public key (Z85) */
#define HUB_META_HLC        "hlc"        /* the hub's clock, past every change it holds */
#define HUB_META_OWN_ORIGIN "own_origin" /* the city's chain written on now (city.c) */
#define HUB_META_OWN_CLOSED "own_closed" /* a chain a village held more of (closed) */
#define HUB_META_CITY_KEY   "city_key"   /* the key of the city's chain hashes, hex */

typedef struct hub_store hub_store;

/* One registered node and its sync state. */
typedef struct hub_node {
    char id[GS_ORIGIN_MAX + 1];
    char village[13];
    char name[101];
    char public_key[41]; /* Z85 */
    bool enabled;
    uint64_t acked_through;
    uint8_t chain_head[GS_HASH_LEN];
    int64_t last_seen_ms; /* 0 = never */
    char software[65];
    uint64_t pending;       /* as the node said at its last HELLO, less what it pushed since */
    int64_t skew_ms;        /* node clock minus hub clock at the last HELLO */
    uint64_t hub_seq_seen;  /* the node's downstream cursor at its last HELLO */
    int64_t rejected;       /* changes of this node in quarantine */
} hub_node;

int hub_store_create(const char *path, const char *public_key, gs_errbuf *eb);
int hub_store_open(hub_store **out, const char *path, gs_errbuf *eb);
void hub_store_close(hub_store **sp);
/* The connection, for the read-only reports only. */
sqlite3 *hub_store_db(hub_store *s);
/* The store's cache of prepared statements (gridsync/stmt.h), for the
 * store's own files (store_users.c). */
gs_stmts **hub_store_stmts(hub_store *s);
/* The database file's path (what it was opened as; "" for a temporary one). */
const char *hub_store_path(hub_store *s);
gs_replica *hub_store_replica(hub_store *s);

/* Finding records again (gridsync/find.h), on this store's tables: every
 * live record of rt that passes the filter, in id order; the record whose
 * id is key or starts with key (a unique prefix of 4 or more characters);
 * a record's history from the change log, in clock order. */
int hub_store_list(hub_store *s, const gs_rectype *rt, const gs_find_filter *f,
                   gs_find_each each, void *arg, gs_errbuf *eb);
int hub_store_find(hub_store *s, const gs_rectype *rt, const char *key, gs_record **out,
                   gs_errbuf *eb);
int hub_store_history(hub_store *s, const gs_rectype *rt, const char *key,
                      gs_find_change_each each, void *arg, gs_errbuf *eb);

/* ---- the incident queue's copy (store_queue.c) ----
 * A copy of the live incidents for the city's queue (`gridhub web`): a
 * temporary database of its own with the hub's database attached read-only,
 * narrow rows and an index in the queue's order, brought up to the hub's
 * change log on demand; the hub's own tables get no index for it, so
 * `serve` pays nothing. One thread at a time. */
typedef struct hub_queue hub_queue;

/* Opens an empty copy of the hub database at hub_path (read-only). */
int hub_queue_open(const char *hub_path, hub_queue **out, gs_errbuf *eb);
void hub_queue_close(hub_queue **q);
/* Brings the copy up to the hub's log as it is now, in one snapshot: the
 * first time, or when the log at the copy's mark changed (a restored hub),
 * from the whole table (*rebuilt then true). After a failure the next
 * update makes a new one. */
int hub_queue_update(hub_queue *q, bool *rebuilt, gs_errbuf *eb);
/* Live incidents in the copy when it was last made from the whole table. */
int64_t hub_queue_rows(const hub_queue *q);
/* hub_store_list of the incidents, from the copy as of its last update. */
int hub_queue_list(hub_queue *q, const gs_find_filter *f, gs_find_each each, void *arg,
                   gs_errbuf *eb);

/* Meta values (hub public key, HLC, own chain). */
int64_t hub_store_meta_int(hub_store *s, const char *key, int64_t def);
int hub_store_meta_set_int(hub_store *s, const char *key, int64_t v, gs_errbuf *eb);
void hub_store_meta_text(hub_store *s, const char *key, char *buf, size_t cap);
int hub_store_meta_set_text(hub_store *s, const char *key, const char *v, gs_errbuf *eb);

/* ---- registry ---- */
int hub_node_add(hub_store *s, const hub_node *n, gs_errbuf *eb);
/* GS_ENOTFOUND when absent. */
int hub_node_get(hub_store *s, const char *id, hub_node *out, gs_errbuf *eb);
int hub_node_by_key(hub_store *s, const char *public_key, hub_node *out, gs_errbuf *eb);
int hub_node_set_enabled(hub_store *s, const char *id, bool enabled, gs_errbuf *eb);
int hub_node_set_key(hub_store *s, const char *id, const char *public_key, gs_errbuf *eb);
/* Undoes a registration whose bundle could not be written: removes node id
 * only if it has never synced (nothing acked, never seen); GS_ENOTFOUND
 * when there is no such node. */
int hub_node_remove_unsynced(hub_store *s, const char *id, gs_errbuf *eb);
/* How many nodes are registered to a village (for numbering new ones). */
int64_t hub_node_count_village(hub_store *s, const char *village);
/* Calls fn for every node, oldest silence first. */
int hub_node_each(hub_store *s, int (*fn)(const hub_node *, void *), void *arg, gs_errbuf *eb);
/* Records a HELLO: last seen, software, pending, skew, cursor. */
int hub_node_seen(hub_store *s, const hub_node *n, gs_errbuf *eb);

/* ---- users of `gridhub web` and the audit log ---- */

/* A person of the city, a county or a township office. */
typedef struct hub_user {
    char login[64];
    char name[64];     /* display name: 王芳 */
    char role[16];     /* "city", "county", "township" */
    char division[13]; /* the county's or township's code; "" for the city */
    char pw_hash[192]; /* argon2id (gs_password_hash); "" until the first login sets it */
    bool disabled;
    int64_t created_ms;
} hub_user;

/* GS_EEXIST when the login is taken. */
int hub_user_add(hub_store *s, const hub_user *u, gs_errbuf *eb);
/* GS_ENOTFOUND when absent. */
int hub_user_get(hub_store *s, const char *login, hub_user *out, gs_errbuf *eb);
/* Every user: the city's first, then counties', then townships', by division. */
int hub_user_each(hub_store *s, int (*fn)(const hub_user *, void *), void *arg, gs_errbuf *eb);
int hub_user_set_disabled(hub_store *s, const char *login, bool disabled, gs_errbuf *eb);
int hub_user_set_password(hub_store *s, const char *login, const char *hash, gs_errbuf *eb);

/* One line of the audit log. */
typedef struct hub_audit {
    int64_t id, at_ms;
    char user[64], address[64], action[64], detail[512];
} hub_audit;

/* Appends a line, stamped now (its own statement: autocommit, or inside the
 * caller's transaction). */
int hub_audit_add(hub_store *s, const char *user, const char *address, const char *action,
                  const char *detail, gs_errbuf *eb);
/* Newest first, limit lines from offset; *total (when not NULL) all lines. */
int hub_audit_each(hub_store *s, int64_t offset, int64_t limit, int64_t *total,
                   int (*fn)(const hub_audit *, void *), void *arg, gs_errbuf *eb);

/* A live row of the division table. */
typedef struct hub_division {
    char code[16], name[128], level[16], parent[16];
} hub_division;

/* GS_ENOTFOUND when the code is not a live division. */
int hub_division_get(hub_store *s, const char *code, hub_division *out, gs_errbuf *eb);
/* The live divisions of level under parent ("" or NULL: every one), by code. */
int hub_division_children(hub_store *s, const char *parent, const char *level,
                          int (*fn)(const hub_division *, void *), void *arg, gs_errbuf *eb);

/* ---- write batches ---- */
int hub_store_begin(hub_store *s, gs_errbuf *eb);
int hub_store_commit(hub_store *s, gs_errbuf *eb);
void hub_store_rollback(hub_store *s);

/* For the server: no checkpoint inside COMMIT (SQLite's automatic one runs in
 * the commit that crosses 1,000 WAL pages, before the server could answer);
 * the server checkpoints when it has a moment (hub_store_checkpoint). */
void hub_store_defer_checkpoints(hub_store *s);
/* Pages in the WAL after the last commit (0 after a checkpoint). */
int hub_store_wal_pages(hub_store *s);
/* A passive checkpoint if the WAL holds at least min_pages (and any).
 * Errors are not fatal: the WAL just grows until the next one. */
void hub_store_checkpoint(hub_store *s, int min_pages);

/* Applies an accepted change (already decoded and authorized) to the entity
 * tables, then appends it to the log with the next hub_seq. village (a
 * node's push; NULL for the city's own changes): the record, if it exists,
 * must be stored under it; if not, GS_ESCOPE and nothing is written, and the
 * caller quarantines the change. With judge (a village's push, a city
 * edit being made) the change is judged first (the hard checks of entry and
 * its references, gs_apply_opts): one that fails gets GS_ERULE or GS_ESCOPE
 * with nothing written, and is quarantined too. A city change given back
 * after a restore was judged when the city made it and is not judged again. */
int hub_store_append(hub_store *s, const gs_change *c, const void *body, size_t len,
                     const uint8_t hash[GS_HASH_LEN], const char *village, bool judge,
                     gs_errbuf *eb);
/* Stores a refused change with the reason. */
int hub_store_quarantine(hub_store *s, const char *origin, uint64_t seq, const void *body,
                         size_t len, const uint8_t hash[GS_HASH_LEN], const char *code,
                         const char *reason, gs_errbuf *eb);
/* Advances a node's acked_through and chain head. */
int hub_store_set_acked(hub_store *s, const char *node_id, uint64_t acked,
                        const uint8_t head[GS_HASH_LEN], gs_errbuf *eb);

/* The greatest hub_seq in the log (0 when empty). */
uint64_t hub_store_hub_seq_head(hub_store *s);

/* A node's downstream cursor: where it asks from, with the log hash it was
 * given there, and where to ask next, with the log hash there. */
typedef struct hub_cursor {
    uint64_t since;
    uint8_t since_hash[GS_HASH_LEN];
    uint64_t next;
    uint8_t next_hash[GS_HASH_LEN];
} hub_cursor;

/* Downstream: calls fn for each change with hub_seq > cur->since that a node
 * of village should receive (reference data, and changes scoped to the
 * village from other origins), in hub_seq order, at most limit changes or
 * max_bytes of bodies. Sets cur->next to the cursor to ask for next (the
 * last hub_seq scanned, even if filtered out) with its log hash, and *more to
 * whether anything may remain. If the log hash at cur->since is not
 * cur->since_hash (the hub was restored from an older backup after the node
 * had read past the backup's head), it reads from 0 instead and sets
 * *rewound. */
typedef int (*hub_pull_fn)(uint64_t hub_seq, const void *body, size_t len,
                           const uint8_t hash[GS_HASH_LEN], void *arg);
int hub_store_pull(hub_store *s, const char *village, const char *exclude_origin,
                   hub_cursor *cur, size_t limit, size_t max_bytes, hub_pull_fn fn, void *arg,
                   bool *more, bool *rewound, gs_errbuf *eb);

/* ---- the city's own chains (hub/city.c) ---- */

/* The last seq of origin in the log and its hash (0 and zeros when none). */
int hub_store_origin_head(hub_store *s, const char *origin, uint64_t *seq,
                          uint8_t hash[GS_HASH_LEN], gs_errbuf *eb);
/* The hash of origin's change seq; GS_ENOTFOUND when the log has none. */
int hub_store_origin_hash_at(hub_store *s, const char *origin, uint64_t seq,
                             uint8_t hash[GS_HASH_LEN], gs_errbuf *eb);
/* The heads of the city's chains in the log ("hub", "hub.*"), in name
 * order, at most max of them, with *n set to how many. With a village, also
 * each chain's count and digest over what a node of that village holds (its
 * changes scoped to the village, and reference data; see gs_wire_head): a
 * scan of the chain, so only for `gridnode verify`. */
int hub_store_own_heads(hub_store *s, const char *village, gs_wire_head *heads, size_t max,
                        size_t *n, gs_errbuf *eb);

#endif
