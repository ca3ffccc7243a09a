/*
 * store.c: the hub's SQLite store (see store.h).
 *
 * The change log is a rowid table keyed by hub_seq, so every insert appends
 * at the right edge of the B-tree; (origin, seq) is a unique index, which is
 * what makes a replayed change a no-op. Downstream reads use the index on
 * (scope, hub_seq).
 *
 * Each row also carries the log hash: BLAKE2b of the previous row's log hash
 * and this change's chain hash (zeros before the first row), so one value
 * stands for the whole log up to that hub_seq. A node keeps the log hash at
 * its downstream cursor; a hub restored from an older backup numbers new
 * changes from the backup's head again, and the hash at the node's cursor
 * then differs, which hub_store_pull notices.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gridsync/hlc.h"
#include "gridsync/stmt.h"
#include "store.h"

struct hub_store {
    sqlite3 *db;
    gs_replica *replica;
    bool in_tx;
    uint64_t hub_seq; /* last assigned, valid inside a transaction */
    uint8_t log_hash[GS_HASH_LEN]; /* the log hash at hub_seq, ditto */
    sqlite3_stmt *ins_change, *ins_quarantine, *set_acked;
    int wal_pages;   /* in the WAL after the last commit (hub_store_defer_checkpoints) */
    gs_stmts *stmts; /* the statements of the hot paths, prepared once */
};

static const char *const hub_ddl =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS nodes (\n"
    "  id TEXT PRIMARY KEY, village TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',\n"
    "  public_key TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1,\n"
    "  created_ms INTEGER NOT NULL, acked_through INTEGER NOT NULL DEFAULT 0,\n"
    "  chain_head BLOB, last_seen_ms INTEGER NOT NULL DEFAULT 0, software TEXT,\n"
    "  pending INTEGER NOT NULL DEFAULT 0, skew_ms INTEGER NOT NULL DEFAULT 0,\n"
    "  hub_seq_seen INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS nodes_village ON nodes(village);\n"
    "CREATE TABLE IF NOT EXISTS changes (\n"
    "  hub_seq INTEGER PRIMARY KEY, origin TEXT NOT NULL, seq INTEGER NOT NULL,\n"
    "  hlc INTEGER NOT NULL, rtype TEXT NOT NULL, rid TEXT NOT NULL, scope TEXT,\n"
    "  op INTEGER NOT NULL, body BLOB NOT NULL, hash BLOB NOT NULL,\n"
    "  received_ms INTEGER NOT NULL, log_hash BLOB NOT NULL);\n"
    "CREATE UNIQUE INDEX IF NOT EXISTS changes_origin_seq ON changes(origin, seq);\n"
    "CREATE INDEX IF NOT EXISTS changes_scope ON changes(scope, hub_seq, origin);\n"
    "CREATE INDEX IF NOT EXISTS changes_record ON changes(rtype, rid);\n"
    "CREATE TABLE IF NOT EXISTS quarantine (\n"
    "  origin TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, hash BLOB NOT NULL,\n"
    "  code TEXT NOT NULL, reason TEXT NOT NULL, received_ms INTEGER NOT NULL,\n"
    "  PRIMARY KEY (origin, seq)) WITHOUT ROWID;\n";

/* The people of `gridhub web` and what they did there (cmd_user.c, hub/web):
 * created on every open too, so an older hub database gains them. */
static const char *const people_ddl =
    "CREATE TABLE IF NOT EXISTS users (\n"
    "  login TEXT PRIMARY KEY, name TEXT NOT NULL,\n"
    "  role TEXT NOT NULL CHECK (role IN ('city', 'county', 'township')),\n"
    "  division TEXT NOT NULL DEFAULT '', pw_hash TEXT,\n"
    "  disabled INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS audit (\n"
    "  id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, user TEXT NOT NULL,\n"
    "  address TEXT NOT NULL DEFAULT '', action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');\n";

/* What a hub database is, for the core's create and open (gridsync/stmt.h). */
static const gs_store_kind hub_kind = {
    .app = HUB_APP_ID,
    .name = "hub",
    .other_app = "gridsync-node",
    .other_name = "node",
    .program = "gridhub",
    .missing_hint = "",
    .version_name = "hub",
    .upgrade_hint = false,
    .version = HUB_SCHEMA_VERSION,
    .pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
               "PRAGMA cache_size=-16384;",
    .pragmas_what = NULL,
    .ddl = hub_ddl,
    .meta_what = "writing meta",
};

int hub_store_create(const char *path, const char *public_key, gs_errbuf *eb)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return gs_errf(eb, GS_EEXIST, "%s: a database already exists here", path);
    close(fd);
    const char *const meta[][2] = {{HUB_META_PUBLIC_KEY, public_key}};
    return gs_store_create_db(&hub_kind, path, meta, 1, eb);
}

void hub_store_meta_text(hub_store *s, const char *key, char *buf, size_t cap)
{
    gs_meta_text(&s->stmts, s->db, key, buf, cap);
}

int64_t hub_store_meta_int(hub_store *s, const char *key, int64_t def)
{
    return gs_meta_int(&s->stmts, s->db, key, def);
}

int hub_store_meta_set_int(hub_store *s, const char *key, int64_t v, gs_errbuf *eb)
{
    return gs_meta_set_int(&s->stmts, s->db, key, v) ? gs_sql_err(s->db, eb, "writing meta")
                                                     : GS_OK;
}

int hub_store_meta_set_text(hub_store *s, const char *key, const char *v, gs_errbuf *eb)
{
    return gs_meta_set_text(&s->stmts, s->db, key, v) ? gs_sql_err(s->db, eb, "writing meta")
                                                      : GS_OK;
}

/* Schema 1 had no log hashes: adds the column and computes them all, in
 * hub_seq order, in one transaction, with a progress line for a big log. */
static int migrate_1_to_2(hub_store *s, const char *path, gs_errbuf *eb)
{
    sqlite3 *db = s->db;
    sqlite3_stmt *rd = NULL, *wr = NULL;
    int rc = gs_db_exec(db,
                        "BEGIN IMMEDIATE; "
                        "ALTER TABLE changes ADD COLUMN log_hash BLOB NOT NULL DEFAULT x'';",
                        eb);
    if (!rc && (sqlite3_prepare_v2(db, "SELECT hub_seq, hash FROM changes ORDER BY hub_seq", -1,
                                   &rd, NULL) ||
                sqlite3_prepare_v2(db, "UPDATE changes SET log_hash = ?2 WHERE hub_seq = ?1", -1,
                                   &wr, NULL)))
        rc = gs_sql_err(db, eb, "adding log hashes to the change log");
    uint8_t h[GS_HASH_LEN] = {0};
    long n = 0;
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(rd)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(rd, 1) != GS_HASH_LEN) {
            rc = gs_errf(eb, GS_ECHAIN, "%s: change log row %lld has a hash of %d bytes", path,
                         sqlite3_column_int64(rd, 0), sqlite3_column_bytes(rd, 1));
            break;
        }
        gs_chain_next(h, sqlite3_column_blob(rd, 1), GS_HASH_LEN, h);
        sqlite3_reset(wr);
        sqlite3_bind_int64(wr, 1, sqlite3_column_int64(rd, 0));
        sqlite3_bind_blob(wr, 2, h, GS_HASH_LEN, SQLITE_STATIC);
        if (sqlite3_step(wr) != SQLITE_DONE)
            rc = gs_sql_err(db, eb, "adding log hashes to the change log");
        if (++n % 100000 == 0)
            fprintf(stderr, "gridhub: %s: upgrading the change log: %ld changes\r", path, n);
    }
    if (!rc && step != SQLITE_DONE)
        rc = gs_sql_err(db, eb, "reading the change log");
    sqlite3_finalize(rd);
    sqlite3_finalize(wr);
    if (!rc && gs_meta_set_text(&s->stmts, db, GS_META_SCHEMA_VERSION, "2"))
        rc = gs_sql_err(db, eb, "writing meta");
    if (!rc)
        rc = gs_db_exec(db, "COMMIT", eb);
    if (rc)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (n >= 100000)
        fprintf(stderr, "\n");
    if (!rc)
        fprintf(stderr, "gridhub: %s: schema 1 upgraded to 2 (log hashes for %ld changes)\n",
                path, n);
    return rc;
}

/* Schema 2 kept the derived values (findings, outcomes, violations,
 * closed_at) as the changes had carried them, last writer winning: computes
 * them all again from the stored rows, in one transaction. Nothing else is
 * touched; the change log keeps what it was sent. */
static int migrate_2_to_3(hub_store *s, const char *path, gs_errbuf *eb)
{
    int rc = gs_replica_upgrade_derived(s->replica, 3, eb);
    if (rc)
        return gs_errprefix(eb, rc, "%s: upgrading schema 2 to 3", path);
    fprintf(stderr, "gridhub: %s: schema 2 upgraded to 3 (derived values computed again from "
                    "the stored rows)\n",
            path);
    return GS_OK;
}

static int prepare(hub_store *s, const char *sql, sqlite3_stmt **st, gs_errbuf *eb)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return gs_sql_err(s->db, eb, "preparing a statement");
    return GS_OK;
}

/* How many of the schema's objects pass cond ("type = 'table' AND name IN
 * (...)") into *n. */
static int schema_count(hub_store *s, const char *cond, int *n, gs_errbuf *eb)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_schema WHERE %s", cond);
    sqlite3_stmt *st;
    *n = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
        return gs_sql_err(s->db, eb, "reading the schema");
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return GS_OK;
}

/* Creates the users and audit tables when missing. Reads first, so that a
 * database that has them (every one after its first open by this version)
 * takes no write lock here: `gridhub web` opens beside a running serve. */
static int people_tables(hub_store *s, gs_errbuf *eb)
{
    int have;
    int rc = schema_count(s, "type = 'table' AND name IN ('users', 'audit')", &have, eb);
    return rc || have == 2 ? rc : gs_db_exec(s->db, people_ddl, eb);
}

int hub_store_open(hub_store **out, const char *path, gs_errbuf *eb)
{
    hub_store *s = calloc(1, sizeof *s);
    if (!s)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    int version = 0;
    int rc = gs_store_open_db(&hub_kind, path, &s->db, &s->stmts, &version, eb);
    if (rc)
        goto fail;
    if (version == 1 && (rc = migrate_1_to_2(s, path, eb)))
        goto fail;
    if ((rc = people_tables(s, eb)))
        goto fail;
    if ((rc = gs_replica_open(&s->replica, s->db, eb)) ||
        (version < 3 && (rc = migrate_2_to_3(s, path, eb))) ||
        (rc = prepare(s,
                      "INSERT INTO changes (hub_seq, origin, seq, hlc, rtype, rid, scope, op, "
                      "body, hash, received_ms, log_hash) VALUES "
                      "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                      &s->ins_change, eb)) ||
        (rc = prepare(s,
                      "INSERT OR REPLACE INTO quarantine (origin, seq, body, hash, code, reason, "
                      "received_ms) VALUES (?1,?2,?3,?4,?5,?6,?7)",
                      &s->ins_quarantine, eb)) ||
        (rc = prepare(s, "UPDATE nodes SET acked_through = ?2, chain_head = ?3 WHERE id = ?1",
                      &s->set_acked, eb)))
        goto fail;
    *out = s;
    return GS_OK;
fail:
    hub_store_close(&s);
    return rc;
}

void hub_store_close(hub_store **sp)
{
    if (!sp || !*sp)
        return;
    hub_store *s = *sp;
    if (s->in_tx)
        hub_store_rollback(s);
    gs_replica_destroy(&s->replica);
    sqlite3_finalize(s->ins_change);
    sqlite3_finalize(s->ins_quarantine);
    sqlite3_finalize(s->set_acked);
    gs_stmts_free(&s->stmts);
    sqlite3_close(s->db);
    free(s);
    *sp = NULL;
}

sqlite3 *hub_store_db(hub_store *s)
{
    return s->db;
}

gs_stmts **hub_store_stmts(hub_store *s)
{
    return &s->stmts;
}

const char *hub_store_path(hub_store *s)
{
    return sqlite3_db_filename(s->db, "main");
}

gs_replica *hub_store_replica(hub_store *s)
{
    return s->replica;
}

/* ---- registry ---------------------------------------------------------------- */

#define NODE_COLUMNS                                                                               \
    "n.id, n.village, n.name, n.public_key, n.enabled, n.acked_through, n.chain_head, "            \
    "n.last_seen_ms, n.software, n.pending, n.skew_ms, n.hub_seq_seen, "                           \
    "(SELECT count(*) FROM quarantine q WHERE q.origin = n.id)"

static void read_node(sqlite3_stmt *st, hub_node *n)
{
    memset(n, 0, sizeof *n);
    gs_col_text(st, 0, n->id, sizeof n->id);
    gs_col_text(st, 1, n->village, sizeof n->village);
    gs_col_text(st, 2, n->name, sizeof n->name);
    gs_col_text(st, 3, n->public_key, sizeof n->public_key);
    n->enabled = sqlite3_column_int(st, 4) != 0;
    n->acked_through = (uint64_t)sqlite3_column_int64(st, 5);
    if (sqlite3_column_bytes(st, 6) == GS_HASH_LEN)
        memcpy(n->chain_head, sqlite3_column_blob(st, 6), GS_HASH_LEN);
    n->last_seen_ms = sqlite3_column_int64(st, 7);
    gs_col_text(st, 8, n->software, sizeof n->software);
    n->pending = (uint64_t)sqlite3_column_int64(st, 9);
    n->skew_ms = sqlite3_column_int64(st, 10);
    n->hub_seq_seen = (uint64_t)sqlite3_column_int64(st, 11);
    n->rejected = sqlite3_column_int64(st, 12);
}

int hub_node_add(hub_store *s, const hub_node *n, gs_errbuf *eb)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO nodes (id, village, name, public_key, enabled, created_ms) "
                           "VALUES (?1, ?2, ?3, ?4, 1, ?5)",
                           -1, &st, NULL))
        return gs_sql_err(s->db, eb, "registering the node");
    sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, n->village, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, n->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, n->public_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)gs_wall_ms());
    int step = sqlite3_step(st);
    int rc = GS_OK;
    if (step == SQLITE_CONSTRAINT)
        rc = gs_errf(eb, GS_EEXIST, "a node with id %s or this public key is already registered",
                     n->id);
    else if (step != SQLITE_DONE)
        rc = gs_sql_err(s->db, eb, "registering the node");
    sqlite3_finalize(st);
    return rc;
}

static int node_query(hub_store *s, const char *where, const char *arg, hub_node *out,
                      gs_errbuf *eb)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT " NODE_COLUMNS " FROM nodes n WHERE %s", where);
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db, sql);
    if (!st)
        return gs_sql_err(s->db, eb, "reading the registry");
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = GS_OK;
    if (step == SQLITE_ROW)
        read_node(st, out);
    else if (step == SQLITE_DONE)
        rc = gs_errf(eb, GS_ENOTFOUND, "no node %s is registered", arg);
    else
        rc = gs_sql_err(s->db, eb, "reading the registry");
    gs_stmt_done(st);
    return rc;
}

int hub_node_get(hub_store *s, const char *id, hub_node *out, gs_errbuf *eb)
{
    return node_query(s, "n.id = ?1", id, out, eb);
}

int hub_node_by_key(hub_store *s, const char *public_key, hub_node *out, gs_errbuf *eb)
{
    return node_query(s, "n.public_key = ?1", public_key, out, eb);
}

static int node_update(hub_store *s, const char *sql, const char *id, const char *text, int64_t num,
                       gs_errbuf *eb)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
        return gs_sql_err(s->db, eb, "updating the registry");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, num);
    int step = sqlite3_step(st), rc = GS_OK;
    if (step != SQLITE_DONE)
        rc = gs_sql_err(s->db, eb, "updating the registry");
    else if (sqlite3_changes(s->db) == 0)
        rc = gs_errf(eb, GS_ENOTFOUND, "no node %s is registered", id);
    sqlite3_finalize(st);
    return rc;
}

int hub_node_set_enabled(hub_store *s, const char *id, bool enabled, gs_errbuf *eb)
{
    return node_update(s, "UPDATE nodes SET enabled = ?2 WHERE id = ?1", id, NULL, enabled, eb);
}

int hub_node_set_key(hub_store *s, const char *id, const char *public_key, gs_errbuf *eb)
{
    return node_update(s, "UPDATE nodes SET public_key = ?2 WHERE id = ?1", id, public_key, 0, eb);
}

int hub_node_remove_unsynced(hub_store *s, const char *id, gs_errbuf *eb)
{
    return node_update(s,
                       "DELETE FROM nodes WHERE id = ?1 AND acked_through = ?2 AND "
                       "last_seen_ms = ?2",
                       id, NULL, 0, eb);
}

int64_t hub_node_count_village(hub_store *s, const char *village)
{
    sqlite3_stmt *st;
    int64_t n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM nodes WHERE village = ?1", -1, &st, NULL))
        return 0;
    sqlite3_bind_text(st, 1, village, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int hub_node_each(hub_store *s, int (*fn)(const hub_node *, void *), void *arg, gs_errbuf *eb)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT " NODE_COLUMNS " FROM nodes n ORDER BY n.last_seen_ms, n.id", -1,
                           &st, NULL))
        return gs_sql_err(s->db, eb, "reading the registry");
    int rc = GS_OK;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        hub_node n;
        read_node(st, &n);
        rc = fn(&n, arg);
    }
    sqlite3_finalize(st);
    return rc;
}

int hub_node_seen(hub_store *s, const hub_node *n, gs_errbuf *eb)
{
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db,
                               "UPDATE nodes SET last_seen_ms = ?2, software = ?3, pending = ?4, "
                               "skew_ms = ?5, hub_seq_seen = ?6 WHERE id = ?1");
    if (!st)
        return gs_sql_err(s->db, eb, "recording the node's visit");
    sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, n->last_seen_ms);
    sqlite3_bind_text(st, 3, n->software, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)n->pending);
    sqlite3_bind_int64(st, 5, n->skew_ms);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)n->hub_seq_seen);
    int rc = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sql_err(s->db, eb, "recording a visit");
    gs_stmt_done(st);
    return rc;
}

/* ---- write batches ------------------------------------------------------------ */

uint64_t hub_store_hub_seq_head(hub_store *s)
{
    uint64_t n = 0;
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db, "SELECT max(hub_seq) FROM changes");
    if (!st)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (uint64_t)sqlite3_column_int64(st, 0);
    gs_stmt_done(st);
    return n;
}

/* The log hash at hub_seq into out (zeros for 0); non-zero if there is no
 * such row. */
static int log_hash_at(hub_store *s, uint64_t hub_seq, uint8_t out[GS_HASH_LEN])
{
    memset(out, 0, GS_HASH_LEN);
    if (hub_seq == 0)
        return 0;
    sqlite3_stmt *st =
        gs_stmt(&s->stmts, s->db, "SELECT log_hash FROM changes WHERE hub_seq = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)hub_seq);
    int found = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == GS_HASH_LEN;
    if (found)
        memcpy(out, sqlite3_column_blob(st, 0), GS_HASH_LEN);
    gs_stmt_done(st);
    return found ? 0 : -1;
}

int hub_store_begin(hub_store *s, gs_errbuf *eb)
{
    if (gs_db_exec(s->db, "BEGIN IMMEDIATE", eb))
        return GS_ESQL;
    s->in_tx = true;
    s->hub_seq = hub_store_hub_seq_head(s);
    if (log_hash_at(s, s->hub_seq, s->log_hash)) {
        hub_store_rollback(s);
        return gs_errf(eb, GS_ECHAIN, "the change log's last row (hub_seq %" PRIu64
                                      ") has no log hash: the database was altered by hand?",
                       s->hub_seq);
    }
    return GS_OK;
}

int hub_store_commit(hub_store *s, gs_errbuf *eb)
{
    int rc = gs_db_exec(s->db, "COMMIT", eb);
    if (rc)
        hub_store_rollback(s);
    s->in_tx = false;
    return rc;
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    ((hub_store *)arg)->wal_pages = pages;
    return SQLITE_OK;
}

void hub_store_defer_checkpoints(hub_store *s)
{
    sqlite3_wal_hook(s->db, wal_hook, s); /* replaces the automatic checkpoint */
}

int hub_store_wal_pages(hub_store *s)
{
    return s->wal_pages;
}

void hub_store_checkpoint(hub_store *s, int min_pages)
{
    if (s->in_tx || s->wal_pages == 0 || s->wal_pages < min_pages)
        return;
    if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_OK)
        s->wal_pages = 0;
}

void hub_store_rollback(hub_store *s)
{
    if (s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = false;
}

int hub_store_append(hub_store *s, const gs_change *c, const void *body, size_t len,
                     const uint8_t hash[GS_HASH_LEN], const char *village, bool judge,
                     gs_errbuf *eb)
{
    /* the entity row first: its SELECT also says whether the record may be
     * touched from this village, before anything is written */
    /* Every change is judged here, a village's push and a city decision
     * alike: what a village PC checked is not taken on trust. */
    gs_apply_opts o = {village, judge, false};
    int rc = gs_replica_apply_opts(s->replica, c, &o, NULL, eb);
    if (rc)
        return rc;
    sqlite3_stmt *st = s->ins_change;
    const char *scope = gs_record_scope(c->rec);
    /* A village's own division row concerns that village only; the codes of
     * the city, counties and townships go to everyone. */
    const char *key = gs_record_key(c->rec);
    if (!scope && c->rec->rt->id == GS_RT_DIVISION && key && strlen(key) == 12)
        scope = key;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(s->hub_seq + 1));
    sqlite3_bind_text(st, 2, c->origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c->seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->hlc);
    sqlite3_bind_text(st, 5, c->rec->rt->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, gs_record_key(c->rec), -1, SQLITE_STATIC);
    if (scope)
        sqlite3_bind_text(st, 7, scope, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_int(st, 8, (int)c->op);
    sqlite3_bind_blob(st, 9, body, (int)len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 10, hash, GS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)gs_wall_ms());
    uint8_t log_hash[GS_HASH_LEN];
    gs_chain_next(s->log_hash, hash, GS_HASH_LEN, log_hash);
    sqlite3_bind_blob(st, 12, log_hash, GS_HASH_LEN, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return gs_sql_err(s->db, eb, "appending to the change log");
    s->hub_seq++;
    memcpy(s->log_hash, log_hash, GS_HASH_LEN);
    return GS_OK;
}

int hub_store_quarantine(hub_store *s, const char *origin, uint64_t seq, const void *body,
                         size_t len, const uint8_t hash[GS_HASH_LEN], const char *code,
                         const char *reason, gs_errbuf *eb)
{
    sqlite3_stmt *st = s->ins_quarantine;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    sqlite3_bind_blob(st, 3, body, (int)len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, hash, GS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)gs_wall_ms());
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? GS_OK : gs_sql_err(s->db, eb, "writing the quarantine");
}

int hub_store_set_acked(hub_store *s, const char *node_id, uint64_t acked,
                        const uint8_t head[GS_HASH_LEN], gs_errbuf *eb)
{
    sqlite3_stmt *st = s->set_acked;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, node_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)acked);
    sqlite3_bind_blob(st, 3, head, GS_HASH_LEN, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? GS_OK : gs_sql_err(s->db, eb, "saving the node's sync state");
}

int hub_store_pull(hub_store *s, const char *village, const char *exclude_origin,
                   hub_cursor *cur, size_t limit, size_t max_bytes, hub_pull_fn fn, void *arg,
                   bool *more, bool *rewound, gs_errbuf *eb)
{
    uint64_t head = hub_store_hub_seq_head(s);
    uint8_t at[GS_HASH_LEN];
    /* Not the log the node saw up to its cursor (a restored hub): from 0. */
    *rewound = cur->since > 0 && (log_hash_at(s, cur->since, at) ||
                                   memcmp(at, cur->since_hash, GS_HASH_LEN));
    uint64_t since = *rewound ? 0 : cur->since;
    sqlite3_stmt *st;
    /* Two range scans of the (scope, hub_seq) index, one for the village and
     * one for reference data, so a node never walks the other villages' rows. */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT hub_seq, body, hash FROM ("
                           " SELECT hub_seq, body, hash, origin FROM changes"
                           "  WHERE scope = ?2 AND hub_seq > ?1 AND hub_seq <= ?4"
                           " UNION ALL"
                           " SELECT hub_seq, body, hash, origin FROM changes"
                           "  WHERE scope IS NULL AND hub_seq > ?1 AND hub_seq <= ?4)"
                           " WHERE origin <> ?3 ORDER BY hub_seq LIMIT ?5",
                           -1, &st, NULL))
        return gs_sql_err(s->db, eb, "reading changes for the node");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
    sqlite3_bind_text(st, 2, village, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, exclude_origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)head);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)limit);
    size_t n = 0, bytes = 0;
    uint64_t last = since;
    int rc = GS_OK;
    bool cut = false;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (n > 0 && bytes + len > max_bytes) {
            cut = true;
            break;
        }
        last = (uint64_t)sqlite3_column_int64(st, 0);
        rc = fn(last, sqlite3_column_blob(st, 1), len, sqlite3_column_blob(st, 2), arg);
        n++;
        bytes += len;
    }
    sqlite3_finalize(st);
    /* Nothing more for this village up to head: jump the cursor to head. */
    *more = cut || n == limit;
    cur->next = *more ? last : (head > since ? head : since);
    if (!rc && log_hash_at(s, cur->next, cur->next_hash))
        rc = gs_errf(eb, GS_ESQL, "the change log has no hub_seq %" PRIu64, cur->next);
    return rc;
}

/* ---- the city's own chains ------------------------------------------------------ */

int hub_store_origin_head(hub_store *s, const char *origin, uint64_t *seq,
                          uint8_t hash[GS_HASH_LEN], gs_errbuf *eb)
{
    return gs_log_head(&s->stmts, s->db, origin, seq, hash, "reading a chain head", eb);
}

int hub_store_origin_hash_at(hub_store *s, const char *origin, uint64_t seq,
                             uint8_t hash[GS_HASH_LEN], gs_errbuf *eb)
{
    memset(hash, 0, GS_HASH_LEN);
    if (seq == 0)
        return GS_OK;
    int rc = gs_log_hash_at(&s->stmts, s->db, origin, seq, hash, "reading a chain", eb);
    return rc != GS_ENOTFOUND
               ? rc
               : gs_errf(eb, rc, "the log has no change %s #%llu", origin, (unsigned long long)seq);
}

/* The count and digest of origin's changes that a node of village holds. */
static int own_digest(hub_store *s, const char *village, gs_wire_head *h, gs_errbuf *eb)
{
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db,
                               "SELECT hash FROM changes WHERE origin = ?1 AND "
                               "(scope = ?2 OR scope IS NULL) ORDER BY seq");
    if (!st)
        return gs_sql_err(s->db, eb, "reading a city chain");
    sqlite3_bind_text(st, 1, h->origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, village, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        h->count++;
        if (sqlite3_column_bytes(st, 0) == GS_HASH_LEN)
            gs_chain_next(h->digest, sqlite3_column_blob(st, 0), GS_HASH_LEN, h->digest);
    }
    gs_stmt_done(st);
    return GS_OK;
}

int hub_store_own_heads(hub_store *s, const char *village, gs_wire_head *heads, size_t max,
                        size_t *n, gs_errbuf *eb)
{
    *n = 0;
    /* One index seek per chain: "hub", then each "hub.*" origin after the last. */
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db,
                               "SELECT min(origin) FROM changes WHERE origin > ?1 AND "
                               "origin < '" GS_HUB_ORIGIN "/'");
    if (!st)
        return gs_sql_err(s->db, eb, "listing the city's chains");
    char at[GS_ORIGIN_MAX + 1] = GS_HUB_ORIGIN;
    bool first = true;
    int rc = GS_OK;
    while (!rc && *n < max) {
        char origin[GS_ORIGIN_MAX + 1] = "";
        if (first) {
            snprintf(origin, sizeof origin, "%s", GS_HUB_ORIGIN);
        } else {
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
                snprintf(origin, sizeof origin, "%s", (const char *)sqlite3_column_text(st, 0));
            sqlite3_reset(st);
            if (!origin[0])
                break;
            snprintf(at, sizeof at, "%s", origin);
            if (!gs_origin_is_hub(origin))
                continue;
        }
        if (first && !strcmp(at, GS_HUB_ORIGIN))
            snprintf(at, sizeof at, "%s", GS_HUB_EPOCH_PREFIX);
        first = false;
        gs_wire_head *h = &heads[*n];
        memset(h, 0, sizeof *h);
        snprintf(h->origin, sizeof h->origin, "%s", origin);
        rc = hub_store_origin_head(s, origin, &h->seq, h->hash, eb);
        if (!rc && h->seq == 0)
            continue; /* no "hub" chain (yet) */
        if (!rc && village)
            rc = own_digest(s, village, h, eb);
        if (!rc)
            (*n)++;
    }
    gs_stmt_done(st);
    return rc;
}

/* ---- finding records again (find.h does the work, on this store's db) ---- */

int hub_store_list(hub_store *s, const gs_rectype *rt, const gs_find_filter *f,
                   gs_find_each each, void *arg, gs_errbuf *eb)
{
    return gs_find_list(s->db, rt, f, each, arg, eb);
}

int hub_store_find(hub_store *s, const gs_rectype *rt, const char *key, gs_record **out,
                   gs_errbuf *eb)
{
    return gs_find_one(s->db, rt, key, out, eb);
}

int hub_store_history(hub_store *s, const gs_rectype *rt, const char *key,
                      gs_find_change_each each, void *arg, gs_errbuf *eb)
{
    return gs_find_history(s->db, rt, key, each, arg, eb);
}
