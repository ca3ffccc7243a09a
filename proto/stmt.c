/*
 * stmt.c: the prepared-statement cache (see gridsync/stmt.h). A few dozen
 * distinct statements at most, so a linear search over their texts (never
 * their pointers: SQL built in a stack buffer comes at the same address with
 * another text).
 */
#include <stdlib.h>
#include <string.h>

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
