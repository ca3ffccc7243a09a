/*
 * gridsync/stmt.h: a cache of prepared SQLite statements, keyed by their SQL,
 * and the process-wide SQLite settings.
 *
 * Preparing a statement parses and plans its SQL, which costs more than
 * running a simple one; the stores' hot paths (a record's village per
 * incoming change, a node's registry row per PUSH, meta values per commit)
 * run the same few statements again and again. gs_stmt returns the cached
 * statement for the SQL, prepared once; the caller binds, steps and hands it
 * back with gs_stmt_done, which resets it (a statement left mid-step would
 * hold its read transaction open).
 *
 * Also the scaffolding both stores (node/store.c, hub/store.c) share: their
 * connection settings, running a script, mapping an SQLite error, and the
 * meta(key, value) table every store database has.
 */
#ifndef GRIDSYNC_STMT_H
#define GRIDSYNC_STMT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gridsync/change.h"
#include "gridsync/err.h"

typedef struct gs_stmts gs_stmts;

/* The statement for sql on db, prepared on first use; NULL if it does not
 * prepare (sqlite3_errmsg(db) says why) or memory is short. *cache starts
 * NULL. */
sqlite3_stmt *gs_stmt(gs_stmts **cache, sqlite3 *db, const char *sql);
/* Resets st and clears its bindings, ready for the next gs_stmt. */
void gs_stmt_done(sqlite3_stmt *st);
/* The integer in both stores' meta(key, value) table; def when absent or
 * unreadable. */
int64_t gs_meta_int(gs_stmts **cache, sqlite3 *db, const char *key, int64_t def);
/* Sets it; SQLITE_OK or SQLite's error code (sqlite3_errmsg(db) says why). */
int gs_meta_set_int(gs_stmts **cache, sqlite3 *db, const char *key, int64_t v);
/* The text in meta; "" when absent or unreadable (at most cap - 1 bytes). */
void gs_meta_text(gs_stmts **cache, sqlite3 *db, const char *key, char *buf, size_t cap);
/* Sets it; SQLITE_OK or SQLite's error code (sqlite3_errmsg(db) says why). */
int gs_meta_set_text(gs_stmts **cache, sqlite3 *db, const char *key, const char *v);
/* Finalizes every statement (before the database is closed). */
void gs_stmts_free(gs_stmts **cache);

/* Process-wide SQLite settings of gridhub and gridnode: no memory statistics,
 * which would take a global mutex on every SQLite allocation (about 2% of
 * the hub's CPU; nothing here reads them). Call in main(), before any database
 * is opened. */
void gs_sqlite_tune(void);

/* GS_ESQL, with "what: SQLite's message" in eb ("no database" without db). */
int gs_sql_err(sqlite3 *db, gs_errbuf *eb, const char *what);
/* Runs sql (one or more statements); GS_OK, or GS_ESQL with SQLite's
 * message in eb. */
int gs_db_exec(sqlite3 *db, const char *sql, gs_errbuf *eb);
/* The settings every store connection needs: a busy timeout of 30 s (a
 * writer waits for another process's short transaction rather than failing),
 * the SQL function gs_has_text(TEXT, A, B, ...) (1 when TEXT is within any
 * of A, B, ...: the list filters' text search, find.c) and pragmas (the
 * store's journal, synchronous and cache settings). On failure GS_ESQL with
 * SQLite's message in eb, after "what: " when what. */
int gs_db_configure(sqlite3 *db, const char *pragmas, const char *what, gs_errbuf *eb);

/* ---- the change log both stores keep: changes(origin, seq, hash, ...) ---- */

/* The last seq of origin in the log and its hash (0 and zeros when the log
 * has none); GS_OK, or GS_ESQL with "what: SQLite's message". */
int gs_log_head(gs_stmts **cache, sqlite3 *db, const char *origin, uint64_t *seq,
                uint8_t hash[GS_HASH_LEN], const char *what, gs_errbuf *eb);
/* The hash of origin's change seq into hash: GS_OK; GS_ENOTFOUND (eb
 * untouched) when the log has none, or none of the right length; GS_ESQL
 * with "what: SQLite's message" when it cannot be read. */
int gs_log_hash_at(gs_stmts **cache, sqlite3 *db, const char *origin, uint64_t seq,
                   uint8_t hash[GS_HASH_LEN], const char *what, gs_errbuf *eb);

/* ---- a store's database: creating and opening one --------------------- */

/* The meta keys every store database has (the stores' headers name theirs). */
#define GS_META_APP            "app"
#define GS_META_SCHEMA_VERSION "schema_version"

/* What kind of store a database is: data for gs_store_create_db and
 * gs_store_open_db, which word their messages from it. */
typedef struct gs_store_kind {
    const char *app;          /* meta.app of its databases ("gridsync-node") */
    const char *name;         /* "node": "not a gridsync node database" */
    const char *other_app;    /* the other kind's meta.app, and its name, said */
    const char *other_name;   /* when a database of it is opened: "(it is a hub database)" */
    const char *program;      /* "gridnode": "run `gridnode init` first" */
    const char *missing_hint; /* after that: " or pass --db", or "" */
    const char *version_name; /* "database": "database schema version 9, this ..." */
    bool upgrade_hint;        /* a newer schema adds "; upgrade gridnode" */
    int version;              /* the newest schema version the program understands */
    const char *pragmas;      /* the connection settings (gs_db_configure) */
    const char *pragmas_what; /* the prefix of their errors, or NULL */
    const char *ddl;          /* the store's own tables (the entity tables are replica.c's) */
    const char *meta_what;    /* the error when a new database's meta cannot be written */
} gs_store_kind;

/* Makes the tables of a new store database in the file at path (which the
 * caller has just created, empty): the kind's ddl, the entity tables, and
 * meta: app, schema_version (the kind's version) and the n key/value pairs
 * of meta, in one transaction. The file is removed when that fails. */
int gs_store_create_db(const gs_store_kind *k, const char *path, const char *const (*meta)[2],
                       size_t n, gs_errbuf *eb);
/* Opens the store database at path for one thread: checks the file exists,
 * applies the kind's settings, and checks that meta.app is the kind's and
 * the schema version one it understands (1 .. k->version), which is set in
 * *version. Meta reads go through *cache. On failure the connection is
 * closed, *db is NULL, the cache freed, and eb says what the file is not. */
int gs_store_open_db(const gs_store_kind *k, const char *path, sqlite3 **db, gs_stmts **cache,
                     int *version, gs_errbuf *eb);

/* Copies column col of the current row as text into dst (cap bytes,
 * truncated, NUL-terminated); "" for NULL. */
void gs_col_text(sqlite3_stmt *st, int col, char *dst, size_t cap);

#endif
