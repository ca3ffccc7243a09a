/*
 * stmt.c: the prepared-statement cache (see gridsync/stmt.h). A few dozen
 * distinct statements at most, so a linear search over their texts (never
 * their pointers: SQL built in a stack buffer comes at the same address with
 * another text). And the scaffolding both stores share (connection
 * settings, scripts, errors, meta).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gridsync/replica.h"
#include "gridsync/stmt.h"

typedef struct entry {
    char *sql; /* our copy of the text */
    sqlite3_stmt *st;
} entry;

struct gs_stmts {
    entry *e;
    size_t n, cap;
};

void gs_sqlite_tune(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

sqlite3_stmt *gs_stmt(gs_stmts **cache, sqlite3 *db, const char *sql)
{
    gs_stmts *c = *cache;
    if (!c && !(c = *cache = calloc(1, sizeof *c)))
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].sql, sql))
            return c->e[i].st;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        entry *e = realloc(c->e, cap * sizeof *e);
        if (!e)
            return NULL;
        c->e = e;
        c->cap = cap;
    }
    sqlite3_stmt *st = NULL;
    char *copy = strdup(sql);
    if (!copy ||
        sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        free(copy);
        sqlite3_finalize(st);
        return NULL;
    }
    c->e[c->n++] = (entry){copy, st};
    return st;
}

void gs_stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

void gs_stmts_free(gs_stmts **cache)
{
    gs_stmts *c = *cache;
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        sqlite3_finalize(c->e[i].st);
        free(c->e[i].sql);
    }
    free(c->e);
    free(c);
    *cache = NULL;
}

int64_t gs_meta_int(gs_stmts **cache, sqlite3 *db, const char *key, int64_t def)
{
    int64_t v = def;
    sqlite3_stmt *st = gs_stmt(cache, db, "SELECT value FROM meta WHERE key = ?1");
    if (!st)
        return def;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    gs_stmt_done(st);
    return v;
}

int gs_meta_set_int(gs_stmts **cache, sqlite3 *db, const char *key, int64_t v)
{
    sqlite3_stmt *st =
        gs_stmt(cache, db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
    if (!st)
        return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, v);
    int rc = sqlite3_step(st);
    gs_stmt_done(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void gs_meta_text(gs_stmts **cache, sqlite3 *db, const char *key, char *buf, size_t cap)
{
    buf[0] = '\0';
    sqlite3_stmt *st = gs_stmt(cache, db, "SELECT value FROM meta WHERE key = ?1");
    if (!st)
        return;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    gs_stmt_done(st);
}

int gs_meta_set_text(gs_stmts **cache, sqlite3 *db, const char *key, const char *v)
{
    sqlite3_stmt *st =
        gs_stmt(cache, db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
    if (!st)
        return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    gs_stmt_done(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int gs_sql_err(sqlite3 *db, gs_errbuf *eb, const char *what)
{
    return gs_errf(eb, GS_ESQL, "%s: %s", what, db ? sqlite3_errmsg(db) : "no database");
}

int gs_db_exec(sqlite3 *db, const char *sql, gs_errbuf *eb)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        gs_errf(eb, GS_ESQL, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return GS_ESQL;
    }
    return GS_OK;
}

/* True when needle (n bytes; empty: always) is within hay (h bytes). */
static bool has_bytes(const char *hay, size_t h, const char *needle, size_t n)
{
    if (n == 0)
        return true;
    for (const char *p = hay, *end = hay + h; (size_t)(end - p) >= n; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!p)
            return false;
        if (!memcmp(p, needle, n))
            return true;
    }
    return false;
}

/* gs_has_text(TEXT, A, B, ...): 1 when TEXT is found in any of A, B, ...
 * (bytes: what instr(A, TEXT) > 0 OR instr(B, TEXT) > 0 ... finds, NULL
 * ones never), else 0; NULL when TEXT is NULL. One call a row instead of
 * one instr a field: a text search reads every row, and the calls were
 * most of its time. */
static void has_text(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return; /* NULL */
    const char *needle = (const char *)sqlite3_value_text(argv[0]);
    size_t nlen = (size_t)sqlite3_value_bytes(argv[0]);
    for (int i = 1; needle && i < argc; i++) {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
            continue;
        const char *hay = (const char *)sqlite3_value_text(argv[i]);
        size_t hlen = (size_t)sqlite3_value_bytes(argv[i]);
        if (hay && has_bytes(hay, hlen, needle, nlen)) {
            sqlite3_result_int(ctx, 1);
            return;
        }
    }
    if (!needle)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_int(ctx, 0);
}

int gs_db_configure(sqlite3 *db, const char *pragmas, const char *what, gs_errbuf *eb)
{
    sqlite3_busy_timeout(db, 30000);
    if (sqlite3_create_function(db, "gs_has_text", -1,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                has_text, NULL, NULL) != SQLITE_OK)
        return gs_sql_err(db, eb, what ? what : "registering gs_has_text");
    int rc = gs_db_exec(db, pragmas, eb);
    return rc && what ? gs_errprefix(eb, rc, "%s", what) : rc;
}

int gs_store_create_db(const gs_store_kind *k, const char *path, const char *const (*meta)[2],
                       size_t n, gs_errbuf *eb)
{
    sqlite3 *db = NULL;
    gs_stmts *stmts = NULL;
    int rc = GS_OK;
    char ver[16];
    snprintf(ver, sizeof ver, "%d", k->version);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        rc = gs_sql_err(db, eb, path);
    if (!rc && !(rc = gs_db_configure(db, k->pragmas, k->pragmas_what, eb)) &&
        !(rc = gs_db_exec(db, "BEGIN", eb)) && !(rc = gs_db_exec(db, k->ddl, eb)) &&
        !(rc = gs_replica_create_schema(db, eb))) {
        bool ok = !gs_meta_set_text(&stmts, db, GS_META_APP, k->app) &&
                  !gs_meta_set_text(&stmts, db, GS_META_SCHEMA_VERSION, ver);
        for (size_t i = 0; i < n && ok; i++)
            ok = !gs_meta_set_text(&stmts, db, meta[i][0], meta[i][1]);
        rc = ok ? gs_db_exec(db, "COMMIT", eb) : gs_sql_err(db, eb, k->meta_what);
    }
    gs_stmts_free(&stmts);
    sqlite3_close(db);
    if (rc)
        unlink(path);
    return rc;
}

int gs_store_open_db(const gs_store_kind *k, const char *path, sqlite3 **db, gs_stmts **cache,
                     int *version, gs_errbuf *eb)
{
    *db = NULL;
    if (access(path, F_OK) != 0)
        return gs_errf(eb, GS_ENOTFOUND, "%s: no %s database here; run `%s init` first%s", path,
                       k->name, k->program, k->missing_hint);
    int rc = GS_OK;
    char app[32], ver[16];
    /* one thread uses a store: no connection mutex */
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = gs_sql_err(*db, eb, path);
        goto fail;
    }
    if ((rc = gs_db_configure(*db, k->pragmas, k->pragmas_what, eb))) {
        gs_errprefix(eb, rc, "%s: not a gridsync %s database", path, k->name);
        goto fail;
    }
    gs_meta_text(cache, *db, GS_META_APP, app, sizeof app);
    gs_meta_text(cache, *db, GS_META_SCHEMA_VERSION, ver, sizeof ver);
    if (strcmp(app, k->app)) {
        rc = gs_errf(eb, GS_EVERSION, "%s: not a gridsync %s database%s%s%s", path, k->name,
                     !strcmp(app, k->other_app) ? " (it is a " : "",
                     !strcmp(app, k->other_app) ? k->other_name : "",
                     !strcmp(app, k->other_app) ? " database)" : "");
        goto fail;
    }
    *version = atoi(ver);
    if (*version < 1 || *version > k->version) {
        rc = gs_errf(eb, GS_EVERSION, "%s: %s schema version %s, this %s understands %d%s%s", path,
                     k->version_name, ver, k->program, k->version,
                     k->upgrade_hint && *version > k->version ? "; upgrade " : "",
                     k->upgrade_hint && *version > k->version ? k->program : "");
        goto fail;
    }
    return GS_OK;
fail:
    gs_stmts_free(cache);
    sqlite3_close(*db);
    *db = NULL;
    return rc;
}

int gs_log_head(gs_stmts **cache, sqlite3 *db, const char *origin, uint64_t *seq,
                uint8_t hash[GS_HASH_LEN], const char *what, gs_errbuf *eb)
{
    *seq = 0;
    memset(hash, 0, GS_HASH_LEN);
    sqlite3_stmt *st = gs_stmt(cache, db,
                               "SELECT seq, hash FROM changes WHERE origin = ?1 "
                               "ORDER BY seq DESC LIMIT 1");
    if (!st)
        return gs_sql_err(db, eb, what);
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == GS_HASH_LEN)
            memcpy(hash, sqlite3_column_blob(st, 1), GS_HASH_LEN);
    }
    gs_stmt_done(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? GS_OK : gs_sql_err(db, eb, what);
}

int gs_log_hash_at(gs_stmts **cache, sqlite3 *db, const char *origin, uint64_t seq,
                   uint8_t hash[GS_HASH_LEN], const char *what, gs_errbuf *eb)
{
    sqlite3_stmt *st =
        gs_stmt(cache, db, "SELECT hash FROM changes WHERE origin = ?1 AND seq = ?2");
    if (!st)
        return gs_sql_err(db, eb, what);
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    int found = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == GS_HASH_LEN;
    if (found)
        memcpy(hash, sqlite3_column_blob(st, 0), GS_HASH_LEN);
    gs_stmt_done(st);
    return found ? GS_OK : GS_ENOTFOUND;
}

void gs_col_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}
