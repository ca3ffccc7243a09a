/*
 * store.c: the village node's SQLite store (see store.h).
 *
 * Tables:
 *   meta(key, value)        identity, schema version, sync cursors, HLC
 *   changes(origin, seq, ...)  every change this replica knows: its own (the
 *                           outbox: origin = node id, seq > acked_through)
 *                           and those received from the hub (the history)
 *   rejected(seq, ...)      own changes the hub quarantined, with the reason
 *   import_rows(fingerprint, ...)  which record a CSV row without an id
 *                           became (node-local, never synced)
 *   <entity tables>         made by gs_replica_create_schema
 * Invariants: own seqs run 1..n with no gap; changes.hash of own seq n is
 * BLAKE2b(hash(n-1) || body(n)); meta.hlc is >= every hlc in changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gridsync/rules.h"
#include "gridsync/stmt.h"
#include "store.h"

struct node_store {
    sqlite3 *db;
    gs_replica *replica;
    node_identity id;
    sqlite3_stmt *ins_change;
    gs_stmts *stmts; /* the statements of the hot paths, prepared once */
    /* state of the open write transaction */
    bool in_tx;
    uint64_t seq;
    uint8_t hash[GS_HASH_LEN];
    gs_hlc hlc;
    gs_buf body;
};

static const char *const node_ddl =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS changes (\n"
    "  origin TEXT NOT NULL, seq INTEGER NOT NULL, hlc INTEGER NOT NULL,\n"
    "  rtype TEXT NOT NULL, rid TEXT NOT NULL, op INTEGER NOT NULL,\n"
    "  body BLOB NOT NULL, hash BLOB NOT NULL, hub_seq INTEGER,\n"
    "  PRIMARY KEY (origin, seq)) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS changes_record ON changes(rtype, rid, hlc);\n"
    "CREATE TABLE IF NOT EXISTS rejected (\n"
    "  seq INTEGER PRIMARY KEY, code TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL);\n";

/* Node-local bookkeeping of `gridnode import`: which record a CSV row that
 * has no id became (the row's fingerprint, see cmd_csv.c), so that importing
 * the same file again finds it. Never synced and in no change; made on open
 * so that databases created before it get it too. */
static const char *const import_rows_ddl =
    "CREATE TABLE IF NOT EXISTS import_rows (\n"
    "  fingerprint BLOB PRIMARY KEY, rtype TEXT NOT NULL, rid TEXT NOT NULL) WITHOUT ROWID;";

/* The incidents' closed states (gs_status_is_closed) as an SQL list of
 * their names, in the rules' order: 'rejected','closed','evaluated'. find.c
 * writes the same list into its overdue condition, which must match the
 * partial index below term for term for SQLite to use it. */
static void closed_list(gs_buf *b)
{
    bool any = false;
    for (int i = 0; i < GS_ST__COUNT; i++)
        if (gs_status_is_closed((gs_status)i)) {
            gs_buf_printf(b, "%s'%s'", any ? "," : "", gs_status_names[i]);
            any = true;
        }
}

/* The desk's incident list (find.c, GS_FIND_URGENT: overdue first, then
 * newest, 50 a page) without reading the whole incidents table (70 MB at
 * 100,000 incidents, half of it the per-field clocks) on every page:
 * (reported_at, id, ...) gives the order and covers the overdue test; the
 * open incidents' (deadline, id, ..., reported_at), a partial index,
 * counts and orders the overdue part from a few thousand entries, and
 * gives the home page its oldest deadlines first. Node-local, made on open
 * (about a second, once, at 100,000 incidents). Should the closed states
 * ever change, the partial index no longer matches the queries' condition
 * and they scan instead: slower, still right. */
static int list_indexes(node_store *s, gs_errbuf *eb)
{
    gs_buf ddl = GS_BUF_INIT;
    gs_buf_puts(&ddl,
                "CREATE INDEX IF NOT EXISTS incidents_urgent ON incidents(reported_at, id, "
                "deadline, status, _deleted);\n"
                "CREATE INDEX IF NOT EXISTS incidents_overdue ON incidents(deadline, id, status, "
                "_deleted, reported_at) WHERE _deleted = 0 AND status NOT IN (");
    closed_list(&ddl);
    gs_buf_puts(&ddl, ");");
    int rc = ddl.err ? gs_errf(eb, GS_ENOMEM, "out of memory") : gs_db_exec(s->db, ddl.data, eb);
    gs_buf_free(&ddl);
    return rc;
}

/* The desk's home page (node_store_incident_counts, node_store_overdue_each)
 * counts incidents by status and lists the open ones past their deadline on
 * every visit. (status, ...) answers the counts from the index alone, and
 * the overdue ones in time proportional to the open incidents rather than
 * to every incident ever recorded; the list's filters by state and
 * category (find.c) find their records there (category second, so that a
 * state and a category are one range), and a state's page its newest from
 * reported_at without the rows. The oldest deadlines first, when very many
 * are overdue, come from incidents_overdue (list_indexes). Node-local (an
 * index is no data); made on open. */
static const char *const desk_ddl =
    "CREATE INDEX IF NOT EXISTS incidents_status ON incidents(status, category, deadline, "
    "reported_at, _deleted);";

/* What a node database is, for the core's create and open (gridsync/stmt.h).
 * Connection settings: WAL, every commit fsynced (village PCs lose power). */
static const gs_store_kind node_kind = {
    .app = NODE_APP_ID,
    .name = "node",
    .other_app = "gridsync-hub",
    .other_name = "hub",
    .program = "gridnode",
    .missing_hint = " or pass --db",
    .version_name = "database",
    .upgrade_hint = true,
    .version = NODE_SCHEMA_VERSION,
    .pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    .pragmas_what = "configuring the database",
    .ddl = node_ddl,
    .meta_what = "writing the identity",
};

int node_store_create(const char *path, const node_identity *id, gs_errbuf *eb)
{
    /* O_EXCL: never initialize over an existing database (it holds data). */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return gs_errf(eb, errno == EEXIST ? GS_EEXIST : GS_EIO, "%s: %s", path,
                       errno == EEXIST ? "a database already exists here (remove it or use "
                                         "another --db)"
                                       : strerror(errno));
    close(fd);
    const char *const meta[][2] = {{NODE_META_NODE_ID, id->node_id},
                                   {NODE_META_VILLAGE, id->village},
                                   {NODE_META_NAME, id->name},
                                   {NODE_META_HUB_ENDPOINT, id->hub_endpoint},
                                   {NODE_META_HUB_PUBLIC_KEY, id->hub_public_key},
                                   {NODE_META_PUBLIC_KEY, id->public_key},
                                   {NODE_META_SECRET_KEY, id->secret_key}};
    return gs_store_create_db(&node_kind, path, meta, sizeof meta / sizeof meta[0], eb);
}

/* Schema 1 kept the derived values (findings, outcomes, violations,
 * closed_at) as the changes had carried them, last writer winning: computes
 * them all again from the stored rows, in one transaction. The change log
 * keeps what it holds; only the entity rows' derived columns move. */
static int migrate_1_to_2(node_store *s, const char *path, gs_errbuf *eb)
{
    int rc = gs_replica_upgrade_derived(s->replica, 2, eb);
    if (rc)
        return gs_errprefix(eb, rc, "%s: upgrading schema 1 to 2", path);
    fprintf(stderr, "gridnode: %s: 数据库已升级 schema 1 -> 2 (derived values computed again from "
                    "the stored rows)\n",
            path);
    return GS_OK;
}

int node_store_open(node_store **out, const char *path, gs_errbuf *eb)
{
    node_store *s = calloc(1, sizeof *s);
    if (!s)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    int version = 0;
    int rc = gs_store_open_db(&node_kind, path, &s->db, &s->stmts, &version, eb);
    if (rc)
        goto fail;
    if ((rc = gs_db_exec(s->db, import_rows_ddl, eb))) {
        gs_errprefix(eb, rc, "%s: creating the import bookkeeping", path);
        goto fail;
    }
    node_store_meta_text(s, NODE_META_NODE_ID, s->id.node_id, sizeof s->id.node_id);
    node_store_meta_text(s, NODE_META_VILLAGE, s->id.village, sizeof s->id.village);
    node_store_meta_text(s, NODE_META_NAME, s->id.name, sizeof s->id.name);
    node_store_meta_text(s, NODE_META_HUB_ENDPOINT, s->id.hub_endpoint, sizeof s->id.hub_endpoint);
    node_store_meta_text(s, NODE_META_HUB_PUBLIC_KEY, s->id.hub_public_key,
                         sizeof s->id.hub_public_key);
    node_store_meta_text(s, NODE_META_PUBLIC_KEY, s->id.public_key, sizeof s->id.public_key);
    node_store_meta_text(s, NODE_META_SECRET_KEY, s->id.secret_key, sizeof s->id.secret_key);
    if ((rc = gs_replica_open(&s->replica, s->db, eb)) ||
        (version < 2 && (rc = migrate_1_to_2(s, path, eb))))
        goto fail;
    if ((rc = gs_db_exec(s->db, desk_ddl, eb))) {
        gs_errprefix(eb, rc, "%s: creating the incidents' status index", path);
        goto fail;
    }
    if ((rc = list_indexes(s, eb))) {
        gs_errprefix(eb, rc, "%s: creating the incident list's indexes", path);
        goto fail;
    }
    if (sqlite3_prepare_v3(s->db,
                           "INSERT INTO changes (origin, seq, hlc, rtype, rid, op, body, hash) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, SQLITE_PREPARE_PERSISTENT, &s->ins_change, NULL) != SQLITE_OK) {
        rc = gs_sql_err(s->db, eb, "preparing the change log");
        goto fail;
    }
    *out = s;
    return GS_OK;
fail:
    node_store_close(&s);
    return rc;
}

void node_store_close(node_store **sp)
{
    if (!sp || !*sp)
        return;
    node_store *s = *sp;
    if (s->in_tx)
        node_store_rollback(s);
    gs_replica_destroy(&s->replica);
    sqlite3_finalize(s->ins_change);
    gs_stmts_free(&s->stmts);
    sqlite3_close(s->db);
    gs_buf_free(&s->body);
    sodium_memzero(s->id.secret_key, sizeof s->id.secret_key);
    free(s);
    *sp = NULL;
}

int node_store_sync_mode(node_store *s, gs_errbuf *eb)
{
    if (sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK)
        return gs_sql_err(s->db, eb, "configuring the sync connection");
    return gs_db_exec(s->db, "PRAGMA synchronous=NORMAL", eb);
}

sqlite3 *node_store_db(node_store *s)
{
    return s->db;
}

gs_replica *node_store_replica(node_store *s)
{
    return s->replica;
}

const node_identity *node_store_identity(node_store *s)
{
    return &s->id;
}

int64_t node_store_meta_int(node_store *s, const char *key, int64_t def)
{
    return gs_meta_int(&s->stmts, s->db, key, def);
}

int node_store_meta_set_int(node_store *s, const char *key, int64_t v, gs_errbuf *eb)
{
    return gs_meta_set_int(&s->stmts, s->db, key, v) ? gs_sql_err(s->db, eb, "writing meta")
                                                     : GS_OK;
}

void node_store_meta_text(node_store *s, const char *key, char *buf, size_t cap)
{
    gs_meta_text(&s->stmts, s->db, key, buf, cap);
}

int node_store_meta_set_text(node_store *s, const char *key, const char *v, gs_errbuf *eb)
{
    return gs_meta_set_text(&s->stmts, s->db, key, v) ? gs_sql_err(s->db, eb, "writing meta")
                                                      : GS_OK;
}

uint64_t node_store_cursor(node_store *s, uint8_t hash[GS_HASH_LEN])
{
    memset(hash, 0, GS_HASH_LEN);
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db, "SELECT value FROM meta WHERE key = ?1");
    if (st) {
        sqlite3_bind_text(st, 1, NODE_META_HUB_SEQ_CURSOR_HASH, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == GS_HASH_LEN)
            memcpy(hash, sqlite3_column_blob(st, 0), GS_HASH_LEN);
        gs_stmt_done(st);
    }
    return (uint64_t)node_store_meta_int(s, NODE_META_HUB_SEQ_CURSOR, 0);
}

int node_store_set_cursor(node_store *s, uint64_t next, const uint8_t hash[GS_HASH_LEN],
                          gs_errbuf *eb)
{
    if (node_store_meta_set_int(s, NODE_META_HUB_SEQ_CURSOR, (int64_t)next, eb))
        return GS_ESQL;
    sqlite3_stmt *st =
        gs_stmt(&s->stmts, s->db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
    if (!st)
        return gs_sql_err(s->db, eb, "writing meta");
    sqlite3_bind_text(st, 1, NODE_META_HUB_SEQ_CURSOR_HASH, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, GS_HASH_LEN, SQLITE_STATIC);
    int step = sqlite3_step(st);
    gs_stmt_done(st);
    return step == SQLITE_DONE ? GS_OK : gs_sql_err(s->db, eb, "writing meta");
}

int node_store_head(node_store *s, uint64_t *seq, uint8_t hash[GS_HASH_LEN], gs_errbuf *eb)
{
    return gs_log_head(&s->stmts, s->db, s->id.node_id, seq, hash, "reading the chain head", eb);
}

int node_store_begin(node_store *s, gs_errbuf *eb)
{
    if (gs_db_exec(s->db, "BEGIN IMMEDIATE", eb))
        return gs_errprefix(eb, GS_ESQL, "starting a write");
    s->in_tx = true;
    int rc = node_store_head(s, &s->seq, s->hash, eb);
    if (rc) {
        node_store_rollback(s);
        return rc;
    }
    s->hlc = (gs_hlc)node_store_meta_int(s, NODE_META_HLC, 0);
    return GS_OK;
}

int node_store_put(node_store *s, const gs_record *rec, gs_op op, gs_errbuf *eb)
{
    if (!s->in_tx)
        return gs_errf(eb, GS_EINVAL, "node_store_put outside a transaction");
    gs_change c = {0};
    snprintf(c.origin, sizeof c.origin, "%s", s->id.node_id);
    c.seq = s->seq + 1;
    c.hlc = gs_hlc_tick(s->hlc, gs_wall_ms());
    c.op = op;
    c.rec = (gs_record *)rec; /* borrowed; not cleared below */
    gs_buf_reset(&s->body);
    gs_change_encode(&c, &s->body);
    if (s->body.err)
        return gs_errf(eb, s->body.err, "encoding the change: %s", gs_strerror(s->body.err));
    uint8_t hash[GS_HASH_LEN];
    gs_chain_next(s->hash, s->body.data, s->body.len, hash);

    /* Staff entry is judged (the hard checks of entry and the references,
     * which must be held here) before anything of it is written, the log
     * row included: a refused row of an import leaves nothing behind, and
     * the import goes on to find the file's other errors. */
    static const gs_apply_opts entry = {NULL, true, true};
    int rc = gs_replica_apply_opts(s->replica, &c, op == GS_OP_UPSERT ? &entry : NULL, NULL, eb);
    if (rc)
        return rc;
    sqlite3_stmt *st = s->ins_change;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, c.origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)c.seq);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c.hlc);
    sqlite3_bind_text(st, 4, rec->rt->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, gs_record_key(rec), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, (int)op);
    sqlite3_bind_blob(st, 7, s->body.data, (int)s->body.len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, hash, GS_HASH_LEN, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return gs_sql_err(s->db, eb, "appending to the change log");
    s->seq = c.seq;
    s->hlc = c.hlc;
    memcpy(s->hash, hash, GS_HASH_LEN);
    return GS_OK;
}

int node_store_commit(node_store *s, gs_errbuf *eb)
{
    if (!s->in_tx)
        return gs_errf(eb, GS_EINVAL, "commit outside a transaction");
    if (node_store_meta_set_int(s, NODE_META_HLC, (int64_t)s->hlc, eb)) {
        node_store_rollback(s);
        return gs_errprefix(eb, GS_ESQL, "saving the clock");
    }
    int rc = gs_db_exec(s->db, "COMMIT", eb);
    if (rc) {
        node_store_rollback(s);
        return gs_errprefix(eb, rc, "saving");
    }
    s->in_tx = false;
    return GS_OK;
}

void node_store_rollback(node_store *s)
{
    if (s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = false;
}

int node_store_get(node_store *s, const gs_rectype *rt, const char *key, gs_record **out,
                   gs_errbuf *eb)
{
    return gs_replica_get(s->replica, rt, key, out, eb);
}

void node_store_observe(node_store *s, gs_hlc remote)
{
    s->hlc = gs_hlc_recv(s->hlc, remote, gs_wall_ms());
}

int node_store_apply_remote(node_store *s, const gs_change *c, const void *body, size_t len,
                            const uint8_t hash[GS_HASH_LEN], uint64_t hub_seq, gs_errbuf *eb)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO changes (origin, seq, hlc, rtype, rid, op, "
                           "body, hash, hub_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, &st, NULL) != SQLITE_OK)
        return gs_sql_err(s->db, eb, "storing a received change");
    sqlite3_bind_text(st, 1, c->origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)c->seq);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c->hlc);
    sqlite3_bind_text(st, 4, c->rec->rt->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, gs_record_key(c->rec), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, (int)c->op);
    sqlite3_bind_blob(st, 7, body, (int)len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, hash, GS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)hub_seq);
    int step = sqlite3_step(st);
    int added = sqlite3_changes(s->db);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return gs_sql_err(s->db, eb, "storing a received change");
    node_store_observe(s, c->hlc);
    return added ? gs_replica_apply(s->replica, c, NULL, eb) : GS_OK;
}

int node_store_put_reference(node_store *s, const gs_record *rec, gs_errbuf *eb)
{
    if (!s->in_tx || !rec->rt->reference)
        return gs_errf(eb, GS_EINVAL, "node_store_put_reference: %s outside a transaction or "
                                      "not reference data", rec->rt->name);
    gs_change c = {0};
    snprintf(c.origin, sizeof c.origin, "%s", GS_HUB_ORIGIN);
    c.hlc = 1; /* below every real timestamp */
    c.op = GS_OP_UPSERT;
    c.rec = (gs_record *)rec; /* borrowed; not cleared */
    return gs_replica_apply(s->replica, &c, NULL, eb);
}

int node_store_hash_at(node_store *s, uint64_t seq, uint8_t hash[GS_HASH_LEN], gs_errbuf *eb)
{
    memset(hash, 0, GS_HASH_LEN);
    if (seq == 0)
        return GS_OK;
    int rc = gs_log_hash_at(&s->stmts, s->db, s->id.node_id, seq, hash, "reading the chain", eb);
    return rc != GS_ENOTFOUND
               ? rc
               : gs_errf(eb, rc, "this node has no change %llu", (unsigned long long)seq);
}

void node_store_new_id(node_store *s, char out[37])
{
    s->hlc = gs_hlc_tick(s->hlc, gs_wall_ms()); /* ids made in one transaction stay ordered */
    gs_hlc_new_id(s->hlc, out);
}

int node_store_import_find(node_store *s, const uint8_t fp[GS_HASH_LEN], const gs_rectype *rt,
                           char *rid, size_t cap, gs_errbuf *eb)
{
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db,
                               "SELECT rid FROM import_rows WHERE fingerprint = ?1 AND rtype = ?2");
    if (!st)
        return gs_sql_err(s->db, eb, "reading the import bookkeeping");
    sqlite3_bind_blob(st, 1, fp, GS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rt->name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = GS_ENOTFOUND;
    if (step == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (v && strlen(v) < cap) {
            memcpy(rid, v, strlen(v) + 1);
            rc = GS_OK;
        }
    } else if (step != SQLITE_DONE) {
        rc = gs_sql_err(s->db, eb, "reading the import bookkeeping");
    }
    gs_stmt_done(st);
    return rc;
}

int node_store_import_remember(node_store *s, const uint8_t fp[GS_HASH_LEN], const gs_rectype *rt,
                               const char *rid, gs_errbuf *eb)
{
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db,
                               "INSERT OR REPLACE INTO import_rows (fingerprint, rtype, rid) "
                               "VALUES (?1, ?2, ?3)");
    if (!st)
        return gs_sql_err(s->db, eb, "writing the import bookkeeping");
    sqlite3_bind_blob(st, 1, fp, GS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rt->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, rid, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    gs_stmt_done(st);
    return step == SQLITE_DONE ? GS_OK : gs_sql_err(s->db, eb, "writing the import bookkeeping");
}

int node_store_hub_chains(node_store *s, gs_wire_head *out, size_t max, size_t *n,
                          gs_errbuf *eb)
{
    *n = 0;
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db,
                               "SELECT origin, seq, hash FROM changes WHERE origin = '" GS_HUB_ORIGIN
                               "' OR (origin > '" GS_HUB_EPOCH_PREFIX "' AND origin < '" GS_HUB_ORIGIN
                               "/') ORDER BY origin, seq");
    if (!st)
        return gs_sql_err(s->db, eb, "reading the city's changes");
    gs_wire_head *h = NULL;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *origin = (const char *)sqlite3_column_text(st, 0);
        if (!gs_origin_is_hub(origin) || sqlite3_column_bytes(st, 2) != GS_HASH_LEN)
            continue;
        if (!h || strcmp(h->origin, origin)) {
            if (*n == max)
                break;
            h = &out[(*n)++];
            memset(h, 0, sizeof *h);
            snprintf(h->origin, sizeof h->origin, "%s", origin);
        }
        h->seq = (uint64_t)sqlite3_column_int64(st, 1);
        memcpy(h->hash, sqlite3_column_blob(st, 2), GS_HASH_LEN);
        h->count++;
        gs_chain_next(h->digest, h->hash, GS_HASH_LEN, h->digest);
    }
    gs_stmt_done(st);
    return step == SQLITE_ROW || step == SQLITE_DONE
               ? GS_OK
               : gs_sql_err(s->db, eb, "reading the city's changes");
}

int node_store_hub_hash(node_store *s, const char *origin, uint64_t seq,
                        uint8_t hash[GS_HASH_LEN])
{
    return gs_log_hash_at(&s->stmts, s->db, origin, seq, hash, "reading the city's changes", NULL);
}

/* ---- counts, rejected changes, reading the log (status and sync) ---- */

/* The integer of a one-row query with no parameters; -1 when it fails. */
static int64_t count(node_store *s, const char *sql)
{
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db, sql);
    int64_t n = -1;
    if (!st)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    gs_stmt_done(st);
    return n;
}

int64_t node_store_count_live(node_store *s, const gs_rectype *rt)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE _deleted = 0", rt->plural);
    return count(s, sql);
}

int node_store_sync_state(node_store *s, node_sync_state *st, gs_errbuf *eb)
{
    uint8_t hash[GS_HASH_LEN];
    memset(st, 0, sizeof *st);
    int rc = node_store_head(s, &st->head, hash, eb);
    if (rc)
        return rc;
    st->acked = node_store_meta_int(s, NODE_META_ACKED_THROUGH, 0);
    st->pending = (int64_t)st->head - st->acked;
    st->rejected = node_store_rejected_count(s);
    st->last_sync_ms = node_store_meta_int(s, NODE_META_LAST_SYNC_MS, 0);
    st->skew_ms = node_store_meta_int(s, NODE_META_CLOCK_SKEW_MS, 0);
    return GS_OK;
}

int node_store_incident_counts(node_store *s, int64_t counts[], size_t n, gs_errbuf *eb)
{
    for (size_t i = 0; i < n; i++)
        counts[i] = 0;
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db,
                               "SELECT status, count(*) FROM incidents WHERE _deleted = 0 "
                               "GROUP BY status");
    if (!st)
        return gs_sql_err(s->db, eb, "counting the incidents");
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        for (size_t i = 0; name && i < n && gs_status_names[i]; i++)
            if (!strcmp(name, gs_status_names[i]))
                counts[i] = sqlite3_column_int64(st, 1);
    }
    gs_stmt_done(st);
    return step == SQLITE_DONE ? GS_OK : gs_sql_err(s->db, eb, "counting the incidents");
}

/* The open states (gs_status_is_closed false), bound into "status IN (...)"
 * as ?3, ?4 ...: the rules say which are closed, not this SQL. */
static int open_states(const char **names, int max)
{
    int n = 0;
    for (int i = 0; i < GS_ST__COUNT && n < max; i++)
        if (!gs_status_is_closed((gs_status)i))
            names[n++] = gs_status_names[i];
    return n;
}

/* "... status IN (?3, ?4, ...)" for n open states, into sql. */
static void open_states_sql(char *sql, size_t cap, const char *head, const char *tail, int n)
{
    size_t len = (size_t)snprintf(sql, cap, "%s", head);
    for (int i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(sql + len, cap - len, "%s?%d", i ? ", " : "", i + 3);
    if (len < cap)
        snprintf(sql + len, cap - len, "%s", tail);
}

/* Above this many overdue incidents the list walks the deadline index in
 * order and stops at the limit; below it, it sorts the few from the status
 * index (walking by deadline would visit every closed incident whose
 * deadline has passed too). */
#define OVERDUE_WALK_FROM 1000

int node_store_overdue_each(node_store *s, const char *today, int limit, node_overdue_fn fn,
                            void *arg, int64_t max_count, int64_t *total, gs_errbuf *eb)
{
    const char *open[GS_ST__COUNT];
    int n = open_states(open, GS_ST__COUNT);
    /* "status NOT IN (closed)" as incidents_overdue (list_indexes) has it:
     * the walk by deadline then reads that partial index of the open ones
     * rather than passing every closed incident whose deadline is past */
    gs_buf closed = GS_BUF_INIT;
    closed_list(&closed);
    if (closed.err)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    char past[256];
    snprintf(past, sizeof past,
             " WHERE _deleted = 0 AND status NOT IN (%s) AND deadline IS NOT NULL AND "
             "deadline <> '' AND deadline < ?1 AND ",
             closed.data);
    gs_buf_free(&closed);
    int64_t count = 0;
    char sql[768], head[512];
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0) { /* counted up to max_count + 1 (a page says "1000+") */
            snprintf(head, sizeof head, "SELECT count(*) FROM (SELECT 1 FROM incidents%sstatus IN (",
                     past);
            open_states_sql(sql, sizeof sql, head, ") LIMIT ?2)", n);
        } else if (count > OVERDUE_WALK_FROM) {
            /* +status: the status term must not pick the status index */
            snprintf(head, sizeof head,
                     "SELECT id, title, status, deadline FROM incidents%s+status IN (", past);
            open_states_sql(sql, sizeof sql, head, ") ORDER BY deadline, id LIMIT ?2", n);
        } else {
            /* the ids and deadlines from the status index alone, then the rows */
            snprintf(head, sizeof head,
                     "SELECT i.id, i.title, i.status, i.deadline FROM (SELECT id AS oid, "
                     "deadline AS odl FROM incidents%sstatus IN (", past);
            open_states_sql(sql, sizeof sql, head,
                            ") ORDER BY deadline, id LIMIT ?2) JOIN incidents i ON i.id = oid "
                            "ORDER BY odl, oid", n);
        }
        if (pass == 1 && count == 0)
            break;
        sqlite3_stmt *st = gs_stmt(&s->stmts, s->db, sql);
        if (!st)
            return gs_sql_err(s->db, eb, "reading the overdue incidents");
        sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, pass ? limit : max_count + 1);
        for (int i = 0; i < n; i++)
            sqlite3_bind_text(st, i + 3, open[i], -1, SQLITE_STATIC);
        int rc = GS_OK, step;
        while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
            if (!pass) {
                count = sqlite3_column_int64(st, 0);
                continue;
            }
            const char *c[4];
            for (int i = 0; i < 4; i++) {
                c[i] = (const char *)sqlite3_column_text(st, i);
                if (!c[i])
                    c[i] = "";
            }
            rc = fn(c[0], c[1], c[2], c[3], arg);
        }
        if (!rc && step != SQLITE_DONE)
            rc = gs_sql_err(s->db, eb, "reading the overdue incidents");
        gs_stmt_done(st);
        if (rc)
            return rc;
    }
    if (total)
        *total = count;
    return GS_OK;
}

int node_store_reject(node_store *s, uint64_t seq, const char *code, const char *reason,
                      gs_errbuf *eb)
{
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db,
                               "INSERT OR REPLACE INTO rejected (seq, code, reason, at) VALUES "
                               "(?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ','now'))");
    if (!st)
        return gs_sql_err(s->db, eb, "recording a rejected change");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    gs_stmt_done(st);
    return step == SQLITE_DONE ? GS_OK : gs_sql_err(s->db, eb, "recording a rejected change");
}

int64_t node_store_rejected_count(node_store *s)
{
    return count(s, "SELECT count(*) FROM rejected");
}

int node_store_rejected_each(node_store *s, int (*fn)(const node_rejected *, void *), void *arg,
                             gs_errbuf *eb)
{
    sqlite3_stmt *st =
        gs_stmt(&s->stmts, s->db,
                "SELECT r.seq, r.code, r.reason, r.at, c.rtype, c.rid FROM rejected r "
                "LEFT JOIN changes c ON c.origin = ?1 AND c.seq = r.seq ORDER BY r.seq");
    if (!st)
        return gs_sql_err(s->db, eb, "reading the rejected changes");
    sqlite3_bind_text(st, 1, s->id.node_id, -1, SQLITE_STATIC);
    int rc = GS_OK;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        const char *cells[5];
        for (int c = 0; c < 5; c++) {
            cells[c] = (const char *)sqlite3_column_text(st, c + 1);
            if (!cells[c])
                cells[c] = "";
        }
        node_rejected r = {(uint64_t)sqlite3_column_int64(st, 0),
                           cells[0],
                           cells[1],
                           cells[2],
                           cells[3],
                           cells[4]};
        rc = fn(&r, arg);
    }
    gs_stmt_done(st);
    return rc;
}

int node_store_changes_from(node_store *s, const char *origin, uint64_t from, int limit,
                            node_change_fn fn, void *arg, gs_errbuf *eb)
{
    sqlite3_stmt *st = gs_stmt(&s->stmts, s->db,
                               "SELECT seq, body, hash FROM changes WHERE origin = ?1 AND "
                               "seq >= ?2 ORDER BY seq LIMIT ?3");
    if (!st)
        return gs_sql_err(s->db, eb, "reading the change log");
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
    sqlite3_bind_int(st, 3, limit);
    int rc = GS_OK;
    while (!rc && sqlite3_step(st) == SQLITE_ROW)
        rc = fn((uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
                (size_t)sqlite3_column_bytes(st, 1), sqlite3_column_blob(st, 2), arg);
    gs_stmt_done(st);
    return rc;
}

/* ---- finding records again (find.h does the work, on this store's db) ---- */

int node_store_list(node_store *s, const gs_rectype *rt, const gs_find_filter *f,
                   gs_find_each each, void *arg, gs_errbuf *eb)
{
    return gs_find_list(s->db, rt, f, each, arg, eb);
}

int node_store_find(node_store *s, const gs_rectype *rt, const char *key, gs_record **out,
                   gs_errbuf *eb)
{
    return gs_find_one(s->db, rt, key, out, eb);
}

int node_store_history(node_store *s, const gs_rectype *rt, const char *key,
                      gs_find_change_each each, void *arg, gs_errbuf *eb)
{
    return gs_find_history(s->db, rt, key, each, arg, eb);
}
