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
 */
#ifndef GRIDSYNC_STMT_H
#define GRIDSYNC_STMT_H

#include <sqlite3.h>
#include <stdint.h>

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
/* Finalizes every statement (before the database is closed). */
void gs_stmts_free(gs_stmts **cache);

/* Process-wide SQLite settings of gridhub and gridnode: no memory statistics,
 * which would take a global mutex on every SQLite allocation (about 2% of
 * the hub's CPU; nothing here reads them). Call in main(), before any database
 * is opened. */
void gs_sqlite_tune(void);

#endif
